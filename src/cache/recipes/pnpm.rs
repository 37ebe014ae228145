//! pnpm: the content-addressed store (notes §4.17). The project's `node_modules` (hard links or
//! copies out of the store) is the product and stays in the image; across the mount boundary
//! pnpm falls back to copying, as the pnpm Docker guide expects.

use crate::cache::recipe::{CacheDir, Defeater, EnvTweak, Location, Recipe, Scope, Trigger};
use crate::instructions::Sharing;

const STORE: &str = "/var/cache/hoard/pnpm/store";
const INSTALLS: &[&str] = &[
    "install", "i", "add", "fetch", "deploy", "update", "up", "upgrade", "dlx", "import",
    "rebuild", "rb",
];
const PNPM_OPTS: &[&str] = &[
    "--filter",
    "-F",
    "--dir",
    "-C",
    "--workspace-dir",
    "--reporter",
    "--loglevel",
];

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "pnpm",
    about: "pnpm store (store-dir); node_modules stays in the image",
    triggers: &[
        Trigger {
            programs: &["pnpm", "pnpm.cjs"],
            subcommands: INSTALLS,
            options_with_value: PNPM_OPTS,
            ..Trigger::NONE
        },
        Trigger {
            programs: &["pnpx"],
            ..Trigger::NONE
        },
        // `corepack pnpm install`, `corepack pnpm@9 install`, `npx pnpm@8 install`.
        Trigger {
            programs: &["corepack"],
            prefix: &["pnpm@*"],
            subcommands: INSTALLS,
            options_with_value: PNPM_OPTS,
            ..Trigger::NONE
        },
        Trigger {
            programs: &["npx"],
            prefix: &["pnpm@*"],
            subcommands: INSTALLS,
            options_with_value: PNPM_OPTS,
            ..Trigger::NONE
        },
    ],
    caches: &[CacheDir {
        kind: "store",
        // An explicit store-dir is used as is; with no store-dir pnpm probes whether it can hard
        // link into its home dir and may pick `<fs root>/.pnpm-store` instead, and a home under
        // a root-owned mount stub fails for non-root users. So: redirect. `PNPM_HOME` is not
        // touched (it is also the global bin dir, a product).
        location: Location::Redirect {
            var: "npm_config_store_dir",
            path: STORE,
        },
        // Content-addressed; side-effects cache keyed by platform+arch+node major.
        sharing: Sharing::Shared,
        scope: Scope::USER,
        ..CacheDir::NONE
    }],
    // pnpm ≥ 11 reads `pnpm_config_*` rather than `npm_config_*` for its own settings; set both.
    // The second spelling follows the mount: when the step sets `npm_config_store_dir=/x`, the
    // store is mounted at /x and `pnpm_config_store_dir` is set to /x too (never to an
    // unmounted STORE, where pnpm 11 would write the store into the image).
    env: &[EnvTweak::CachePath {
        var: "pnpm_config_store_dir",
        kind: "store",
    }],
    defeaters: &[Defeater::Command {
        program: "pnpm",
        args: &["store", "prune"],
    }],
    ..Recipe::NONE
}];

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::cache::planner::{plan_shell, plan_shell_with};

    #[test]
    fn data_invariants() {
        check(RECIPES);
        let c = cache(&RECIPES[0], "store");
        assert!(!c.scope.platform && c.sharing == Sharing::Shared);
        // Both variable spellings point at the one mount.
        assert!(matches!(
            c.location,
            Location::Redirect {
                var: "npm_config_store_dir",
                path: STORE
            }
        ));
        assert!(RECIPES[0].env.iter().any(|e| matches!(
            e,
            EnvTweak::CachePath {
                var: "pnpm_config_store_dir",
                kind: "store"
            }
        )));
    }

    #[test]
    fn spellings() {
        for cmd in [
            "pnpm install --frozen-lockfile",
            "pnpm i",
            "pnpm --filter web install",
            "pnpm fetch --prod",
            "pnpm deploy --filter=api /out",
            "corepack pnpm install",
            "npx pnpm install",
            "pnpx create-vite",
            "corepack pnpm@9 install",
            "npx pnpm@8 install",
            "npx -y pnpm@latest-9 i --frozen-lockfile",
        ] {
            assert!(detected(&plan_shell(cmd), "pnpm"), "{cmd}");
        }
        for cmd in [
            "pnpm run build",
            "pnpm build",
            "pnpm --version",
            "corepack pnpm@9 run build",
            "corepack pnpm@ install",
        ] {
            assert!(!detected(&plan_shell(cmd), "pnpm"), "{cmd}");
        }
    }

    #[test]
    fn plans_the_store() {
        let p = plan_shell("pnpm install --frozen-lockfile");
        assert_eq!(
            mount_at(&p, STORE),
            ("hoard/pnpm/store".into(), Sharing::Shared)
        );
        assert_eq!(set(&p, "npm_config_store_dir").as_deref(), Some(STORE));
        assert_eq!(set(&p, "pnpm_config_store_dir").as_deref(), Some(STORE));
        assert_eq!(set(&p, "PNPM_HOME"), None);
        // A store-dir of the user's: the mount and both spellings go there.
        let p = plan_shell_with(
            "corepack pnpm@9 install",
            &[("npm_config_store_dir", "/pnpm/store")],
            0,
            "/root",
        );
        assert_eq!(mount_at(&p, "/pnpm/store").0, "hoard/pnpm/store");
        assert_eq!(set(&p, "npm_config_store_dir"), None);
        assert_eq!(
            set(&p, "pnpm_config_store_dir").as_deref(),
            Some("/pnpm/store")
        );
    }
}
