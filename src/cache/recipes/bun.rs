//! bun: the global install cache (notes §4.18). bun hard-links from it on Linux and falls back
//! to copying across the mount boundary; `node_modules` stays in the image.

use crate::cache::recipe::{CacheDir, Defeater, Location, Recipe, Scope, Trigger};
use crate::instructions::Sharing;

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "bun",
    about: "bun install cache (BUN_INSTALL_CACHE_DIR); node_modules stays in the image",
    triggers: &[
        Trigger {
            programs: &["bun"],
            python_module: None,
            prefix: &[],
            subcommands: &["install", "i", "add", "a", "update", "ci", "x", "pm"],
            options_with_value: &["--cwd", "--config", "-c"],
        },
        Trigger { programs: &["bunx"], python_module: None, prefix: &[], subcommands: &[], options_with_value: &[] },
    ],
    caches: &[CacheDir {
        kind: "cache",
        location: Location::Redirect { var: "BUN_INSTALL_CACHE_DIR", path: "/var/cache/hoard/bun" },
        sharing: Sharing::Shared,
        scope: Scope::USER,
        only_for: &[],
    }],
    tmpfs: &[],
    env: &[],
    files: &[],
    shims: &[],
    flag_edits: &[],
    defeaters: &[Defeater::Command { program: "bun", args: &["pm", "cache", "rm"] }],
    root_only: false,
}];

#[cfg(test)]
mod tests {
    use super::super::cargo::testkit::{cache, check};
    use super::*;

    #[test]
    fn data_invariants() {
        check(RECIPES);
        let c = cache(&RECIPES[0], "cache");
        assert!(!c.scope.platform && c.sharing == Sharing::Shared);
    }
}
