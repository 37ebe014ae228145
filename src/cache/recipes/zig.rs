//! zig and cargo-zigbuild (notes §4.14). Two recipes: `zig` (the global cache, where the
//! expensive libc/compiler-rt builds and `zig fetch` packages live) fires for zig itself and for
//! `cargo zigbuild`, which drives `zig cc`; `cargo-zigbuild` adds the wrapper's own cache.
//! The project-local `.zig-cache` and `zig-out/` stay in the image as with stock.

use crate::cache::recipe::{CacheDir, Location, Recipe, Scope, Trigger};
use crate::instructions::Sharing;

const ZIG_SUBCOMMANDS: &[&str] = &[
    "build",
    "build-exe",
    "build-lib",
    "build-obj",
    "cc",
    "c++",
    "ar",
    "ranlib",
    "objcopy",
    "dlltool",
    "lib",
    "test",
    "run",
    "fetch",
    "translate-c",
];
const ZIGBUILD_SUBCOMMANDS: &[&str] = &[
    "build", "b", "check", "run", "test", "rustc", "clippy", "install",
];

/// `cargo zigbuild ...`: runs zig and cargo-zigbuild (both recipes trigger on it).
const CARGO_ZIGBUILD: Trigger = Trigger {
    programs: &["cargo"],
    subcommands: &["zigbuild"],
    options_with_value: &["--color", "--config", "-Z", "-C"],
    ..Trigger::NONE
};

/// `cargo auditable zigbuild ...`: cargo-auditable wrapping cargo-zigbuild.
const CARGO_AUDITABLE_ZIGBUILD: Trigger = Trigger {
    programs: &["cargo"],
    prefix: &["auditable"],
    subcommands: &["zigbuild"],
    options_with_value: &["--color", "--config", "-Z", "-C"],
    ..Trigger::NONE
};

/// `cargo-zigbuild build ...`, the binary called directly.
const ZIGBUILD_BIN: Trigger = Trigger {
    programs: &["cargo-zigbuild"],
    subcommands: ZIGBUILD_SUBCOMMANDS,
    ..Trigger::NONE
};

pub static RECIPES: &[Recipe] = &[
    Recipe {
        name: "zig",
        about: "zig global cache (ZIG_GLOBAL_CACHE_DIR), per platform",
        triggers: &[
            Trigger {
                programs: &["zig"],
                // PyPI's `ziglang` package runs zig as `python3 -m ziglang cc ...`.
                python_module: Some("ziglang"),
                subcommands: ZIG_SUBCOMMANDS,
                ..Trigger::NONE
            },
            CARGO_ZIGBUILD,
            CARGO_AUDITABLE_ZIGBUILD,
            ZIGBUILD_BIN,
        ],
        caches: &[CacheDir {
            kind: "global",
            location: Location::Redirect {
                var: "ZIG_GLOBAL_CACHE_DIR",
                path: "/var/cache/hoard/zig",
            },
            // Manifest files are locked by zig itself (Inference, notes §7.5).
            sharing: Sharing::Shared,
            // Contents are keyed by target, but the zig compiler running is the host's.
            scope: Scope::PLATFORM_USER,
            ..CacheDir::NONE
        }],
        ..Recipe::NONE
    },
    Recipe {
        name: "cargo-zigbuild",
        about: "cargo-zigbuild wrapper cache (CARGO_ZIGBUILD_CACHE_DIR), per platform",
        triggers: &[CARGO_ZIGBUILD, CARGO_AUDITABLE_ZIGBUILD, ZIGBUILD_BIN],
        caches: &[CacheDir {
            kind: "cache",
            location: Location::Redirect {
                var: "CARGO_ZIGBUILD_CACHE_DIR",
                path: "/var/cache/hoard/cargo-zigbuild",
            },
            sharing: Sharing::Shared,
            scope: Scope::PLATFORM_USER,
            ..CacheDir::NONE
        }],
        ..Recipe::NONE
    },
];

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::cache::planner::plan_shell;

    #[test]
    fn data_invariants() {
        check(RECIPES);
        for (r, kind) in [(&RECIPES[0], "global"), (&RECIPES[1], "cache")] {
            let c = cache(r, kind);
            assert_eq!(c.sharing, Sharing::Shared);
            assert!(c.scope.platform);
        }
    }

    #[test]
    fn spellings() {
        for cmd in [
            "zig build -Doptimize=ReleaseSafe",
            "zig cc -o hello hello.c",
            "python3 -m ziglang cc -o x x.c",
            "python -m ziglang build",
            "zig build-exe main.zig",
            "zig fetch --save https://x/y.tar.gz",
        ] {
            assert!(detected(&plan_shell(cmd), "zig"), "{cmd}");
        }
        assert!(!detected(&plan_shell("zig version"), "zig"));
        // cargo-auditable wrapping cargo-zigbuild: all three tools, and the target cache.
        let p = plan_shell(
            "cargo auditable zigbuild --bin uv --target x86_64-unknown-linux-musl --release",
        );
        for tool in ["zig", "cargo-zigbuild", "cargo"] {
            assert!(detected(&p, tool), "{tool}: {:?}", p.tools);
        }
        assert!(set(&p, "HOARD_CARGO_TARGET").is_some());
        assert!(!detected(
            &plan_shell("cargo auditable build --release"),
            "zig"
        ));
        assert!(!detected(&plan_shell("zig build"), "cargo-zigbuild"));
    }

    #[test]
    fn plans_the_global_cache() {
        let p = plan_shell("zig build -Doptimize=ReleaseFast");
        assert_eq!(
            mount_at(&p, "/var/cache/hoard/zig"),
            ("hoard/zig/global/linux-amd64".into(), Sharing::Shared)
        );
        assert_eq!(
            set(&p, "ZIG_GLOBAL_CACHE_DIR").as_deref(),
            Some("/var/cache/hoard/zig")
        );
        let p = plan_shell("cargo-zigbuild build --release");
        assert_eq!(
            mount_at(&p, "/var/cache/hoard/cargo-zigbuild").0,
            "hoard/cargo-zigbuild/cache/linux-amd64"
        );
    }
}
