//! Every recipe, one ecosystem per file. Adding a package manager means adding a file here and
//! a line in [`all`]; the planner and the converter do not change.

use super::recipe::Recipe;

mod apk;
mod apt;
mod bun;
mod bundler;
mod cargo;
mod ccache;
mod composer;
mod conda;
mod dnf;
mod dotnet;
mod go;
mod gradle;
mod maven;
mod npm;
mod pdm;
mod pip;
mod pipenv;
mod pnpm;
mod poetry;
mod sccache;
#[cfg(test)]
mod testkit;
mod uv;
mod xx;
mod yarn;
mod zig;
mod zypper;

pub use xx::{INTERPRETERS, KNOWN_IMAGES, WRAPPERS};

/// All recipes, in the order `explain` lists them.
pub fn all() -> impl Iterator<Item = &'static Recipe> {
    [
        apt::RECIPES,
        apk::RECIPES,
        dnf::RECIPES,
        zypper::RECIPES,
        pip::RECIPES,
        uv::RECIPES,
        poetry::RECIPES,
        pipenv::RECIPES,
        pdm::RECIPES,
        conda::RECIPES,
        cargo::RECIPES,
        sccache::RECIPES,
        ccache::RECIPES,
        zig::RECIPES,
        go::RECIPES,
        npm::RECIPES,
        yarn::RECIPES,
        pnpm::RECIPES,
        bun::RECIPES,
        maven::RECIPES,
        gradle::RECIPES,
        bundler::RECIPES,
        composer::RECIPES,
        dotnet::RECIPES,
    ]
    .into_iter()
    .flatten()
}

/// Look a recipe up by name.
pub fn by_name(name: &str) -> Option<&'static Recipe> {
    all().find(|r| r.name == name)
}
