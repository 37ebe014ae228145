//! sccache: a compiler-output cache for rustc (via `RUSTC_WRAPPER`) and C/C++ (notes §4.12).
//!
//! The usual spelling is `ENV RUSTC_WRAPPER=sccache` (or `CMAKE_C_COMPILER_LAUNCHER=sccache`,
//! `CC="sccache cc"`) followed by a plain `RUN cargo build`, where the word `sccache` never
//! appears in the step: the environment triggers cover that, besides steps that run `sccache`
//! itself.

use crate::cache::recipe::{
    Aging, CacheDir, Defeater, EnvTrigger, Location, Recipe, Scope, Trigger,
};
use crate::instructions::Sharing;

/// Programs that compile Rust through `RUSTC_WRAPPER`.
const RUST_BUILDS: &[&str] = &["cargo", "cargo-zigbuild", "maturin", "rustc"];

/// Programs that drive C/C++ compilers.
pub(super) const C_BUILDS: &[&str] = &[
    "make",
    "gmake",
    "cmake",
    "ninja",
    "meson",
    "cc",
    "gcc",
    "g++",
    "c++",
    "clang",
    "clang++",
    "configure",
    "./configure",
    "pip",
    "pip3",
    "python",
    "python3",
    "cargo",
];

/// The variables that put a compiler launcher in front of the C/C++ (and CUDA) compilers of the
/// programs in [`C_BUILDS`]: `CC="ccache gcc"`, `CMAKE_CXX_COMPILER_LAUNCHER=sccache`. Both
/// ccache and sccache are launched this way (both wrap nvcc too).
pub(super) const C_LAUNCHER_VARS: &[&str] = &[
    "CC",
    "CXX",
    "CMAKE_C_COMPILER_LAUNCHER",
    "CMAKE_CXX_COMPILER_LAUNCHER",
    "CMAKE_CUDA_COMPILER_LAUNCHER",
];

/// `tool` (`ccache`, `sccache`) used as a C launcher by a build in the step: the one definition
/// both recipes use, so their environment triggers stay in step.
pub(super) const fn c_launcher(tool: &'static str) -> EnvTrigger {
    EnvTrigger {
        vars: C_LAUNCHER_VARS,
        contains: tool,
        programs: C_BUILDS,
    }
}

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "sccache",
    about: "sccache local disk cache (SCCACHE_DIR), per platform",
    // `sccache gcc ...` (a compiler follows); `sccache --show-stats` or `--start-server` alone
    // only reports or manages the server.
    triggers: &[Trigger {
        programs: &["sccache"],
        subcommands: &["*"],
        options_with_value: &["--package-toolchain", "--dist-auth"],
        ..Trigger::NONE
    }],
    env_triggers: &[
        EnvTrigger {
            vars: &["RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER"],
            contains: "sccache",
            programs: RUST_BUILDS,
        },
        c_launcher("sccache"),
    ],
    caches: &[CacheDir {
        kind: "cache",
        location: Location::Redirect {
            var: "SCCACHE_DIR",
            path: "/var/cache/hoard/sccache",
        },
        // "The local storage only supports a single sccache server at a time" (sccache
        // docs/Local.md), and every RUN starts its own server.
        sharing: Sharing::Locked,
        // Compiled objects for the exec platform's compilers.
        scope: Scope::PLATFORM_USER,
        aging: Aging::Files,
        ..CacheDir::NONE
    }],
    // CARGO_INCREMENTAL=0 would let sccache cache workspace crates in debug builds too, but it
    // changes how the user's build runs; not injected.
    env: &[],
    defeaters: &[
        Defeater::Command {
            program: "sccache",
            args: &["--zero-stats"],
        },
        Defeater::Env("SCCACHE_DISABLE"),
    ],
    ..Recipe::NONE
}];

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::cache::planner::{plan_shell, plan_shell_with};

    #[test]
    fn switched_on_through_the_environment() {
        let p = plan_shell_with(
            "cargo build --release",
            &[("RUSTC_WRAPPER", "/usr/local/bin/sccache")],
            0,
            "/root",
        );
        assert!(
            detected(&p, "sccache") && detected(&p, "cargo"),
            "{:?}",
            p.tools
        );
        let p = plan_shell("CMAKE_CXX_COMPILER_LAUNCHER=sccache cmake --build build");
        assert!(detected(&p, "sccache"), "{:?}", p.tools);
        assert!(!detected(&plan_shell("cargo build"), "sccache"));
        // The variable alone, with nothing that compiles, is not a use.
        assert!(!detected(
            &plan_shell_with("echo hi", &[("RUSTC_WRAPPER", "sccache")], 0, "/root"),
            "sccache"
        ));
        // As a C launcher: sccache's, never ccache's (`ccache` is inside the word `sccache`).
        for cmd in [
            "CC=\"sccache gcc\" make -j4",
            "export CMAKE_C_COMPILER_LAUNCHER=sccache && cmake --build build",
            "CMAKE_CUDA_COMPILER_LAUNCHER=/usr/local/bin/sccache cmake --build build",
        ] {
            let p = plan_shell(cmd);
            assert!(
                detected(&p, "sccache") && !detected(&p, "ccache"),
                "{cmd}: {:?}",
                p.tools
            );
        }
    }

    #[test]
    fn c_launchers_are_one_definition_with_ccache() {
        let ccache = super::super::ccache::RECIPES[0].env_triggers;
        for (r, tool) in [(RECIPES[0].env_triggers, "sccache"), (ccache, "ccache")] {
            let t = r.iter().find(|t| t.vars.contains(&"CC")).unwrap();
            assert!(
                t.vars == C_LAUNCHER_VARS && t.programs == C_BUILDS,
                "{tool}"
            );
            assert_eq!(t.contains, tool);
        }
    }

    #[test]
    fn data_invariants() {
        check(RECIPES);
        let c = cache(&RECIPES[0], "cache");
        assert_eq!(c.sharing, Sharing::Locked);
        assert!(c.scope.platform);
    }

    #[test]
    fn plans_a_locked_platform_cache() {
        let p = plan_shell("RUSTC_WRAPPER=sccache cargo build --release && sccache --show-stats");
        assert_eq!(
            mount_at(&p, "/var/cache/hoard/sccache"),
            ("hoard/sccache/cache/linux-amd64".into(), Sharing::Locked)
        );
        assert_eq!(
            set(&p, "SCCACHE_DIR").as_deref(),
            Some("/var/cache/hoard/sccache")
        );
    }
}
