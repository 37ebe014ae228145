//! sccache: a compiler-output cache for rustc (via `RUSTC_WRAPPER`) and C/C++ (notes §4.12).
//!
//! NEEDS: environment triggers. The usual spelling is `ENV RUSTC_WRAPPER=sccache` (or
//! `CMAKE_C_COMPILER_LAUNCHER=sccache`, `CC="sccache cc"`) followed by a plain `RUN cargo build`,
//! where the word `sccache` never appears in the step. `Trigger` only matches invocations, so
//! today this recipe fires only when the step runs `sccache` itself (`sccache --show-stats`,
//! `sccache gcc ...`). A `Trigger.env: &[("RUSTC_WRAPPER", "*sccache*")]`-style field would let
//! the planner also fire on the environment.

use crate::cache::recipe::{CacheDir, Defeater, Location, Recipe, Scope, Trigger};
use crate::instructions::Sharing;

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "sccache",
    about: "sccache local disk cache (SCCACHE_DIR), per platform",
    triggers: &[Trigger {
        programs: &["sccache"],
        python_module: None,
        prefix: &[],
        subcommands: &[],
        options_with_value: &[],
    }],
    caches: &[CacheDir {
        kind: "cache",
        location: Location::Redirect { var: "SCCACHE_DIR", path: "/var/cache/hoard/sccache" },
        // "The local storage only supports a single sccache server at a time" (sccache
        // docs/Local.md), and every RUN starts its own server.
        sharing: Sharing::Locked,
        // Compiled objects for the exec platform's compilers.
        scope: Scope::PLATFORM_USER,
        only_for: &[],
    }],
    tmpfs: &[],
    // CARGO_INCREMENTAL=0 would let sccache cache workspace crates in debug builds too, but it
    // changes how the user's build runs; not injected.
    env: &[],
    files: &[],
    shims: &[],
    flag_edits: &[],
    defeaters: &[
        Defeater::Command { program: "sccache", args: &["--zero-stats"] },
        Defeater::Env("SCCACHE_DISABLE"),
    ],
    root_only: false,
}];

#[cfg(test)]
mod tests {
    use super::super::cargo::testkit::*;
    use crate::cache::planner::plan_shell;
    use super::*;

    #[test]
    fn data_invariants() {
        check(RECIPES);
        let c = cache(&RECIPES[0], "cache");
        assert_eq!(c.sharing, Sharing::Locked);
        assert!(c.scope.platform);
    }

    #[test]
    fn plans_a_locked_platform_cache() {
        let p = plan_shell("cargo build --release && sccache --show-stats");
        assert_eq!(mount_at(&p, "/var/cache/hoard/sccache"), ("hoard/sccache/cache/linux-amd64".into(), Sharing::Locked));
        assert_eq!(set(&p, "SCCACHE_DIR").as_deref(), Some("/var/cache/hoard/sccache"));
    }
}
