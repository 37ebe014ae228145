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
            subcommands: &["install", "i", "add", "a", "update", "ci", "x", "pm"],
            options_with_value: &["--cwd", "--config", "-c"],
            ..Trigger::NONE
        },
        Trigger {
            programs: &["bunx"],
            ..Trigger::NONE
        },
    ],
    caches: &[CacheDir {
        kind: "cache",
        location: Location::Redirect {
            var: "BUN_INSTALL_CACHE_DIR",
            path: "/var/cache/hoard/bun",
        },
        sharing: Sharing::Shared,
        scope: Scope::USER,
        ..CacheDir::NONE
    }],
    defeaters: &[Defeater::Command {
        program: "bun",
        args: &["pm", "cache", "rm"],
    }],
    ..Recipe::NONE
}];

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::cache::planner::plan_shell;

    #[test]
    fn data_invariants() {
        check(RECIPES);
        let c = cache(&RECIPES[0], "cache");
        assert!(!c.scope.platform && c.sharing == Sharing::Shared);
    }

    #[test]
    fn spellings() {
        for cmd in [
            "bun install",
            "bun i --frozen-lockfile",
            "bun install --production",
            "bun add zod",
            "bunx prisma generate",
        ] {
            assert!(detected(&plan_shell(cmd), "bun"), "{cmd}");
        }
        for cmd in ["bun run build", "bun build ./index.ts", "bun --version"] {
            assert!(!detected(&plan_shell(cmd), "bun"), "{cmd}");
        }
    }

    #[test]
    fn plans_the_cache() {
        let p = plan_shell("bun install --frozen-lockfile");
        assert_eq!(
            mount_at(&p, "/var/cache/hoard/bun"),
            ("hoard/bun/cache".into(), Sharing::Shared)
        );
        assert_eq!(
            set(&p, "BUN_INSTALL_CACHE_DIR").as_deref(),
            Some("/var/cache/hoard/bun")
        );
    }
}
