//! Yarn, classic (1.x) and berry (2+), notes §4.19–4.20.
//!
//! The command alone does not say which yarn runs (`yarn install` is both; the answer is in
//! `.yarnrc.yml`/`packageManager`, which the planner does not see), so one recipe mounts both
//! caches, each at the place only its own yarn looks:
//! - classic: its cache folder, `/usr/local/share/.cache/yarn` for root (classic's home for root
//!   on Linux is `/usr/local/share`) and `$XDG_CACHE_HOME/yarn` or `~/.cache/yarn` otherwise.
//!   Not `YARN_CACHE_FOLDER`: berry reads that variable too, as its *project* cache folder, which
//!   holds the zips Plug'n'Play loads at runtime, and those must stay in the image.
//! - berry: the global mirror, `$YARN_GLOBAL_FOLDER/cache` (default `~/.yarn/berry/cache`). Not by
//!   redirecting `YARN_GLOBAL_FOLDER`: classic reads it as `global-folder`, where `yarn global
//!   add` installs packages (a product).
//!
//! For root one of the two classic mounts is unused, for non-root the other; an empty mount is
//! harmless (BuildKit removes the empty mount stubs afterwards).
//!
//! `YARN_ENABLE_GLOBAL_CACHE=false` (forced, not defaulted): with the global cache on (yarn 4's
//! default) PnP resolves packages from zips in the global folder at runtime, which would be a
//! cache mount (yarnpkg/berry#6499). With it off, berry copies zips from the mounted mirror into
//! the project's `.yarn/cache`. Deviation from stock, on purpose: under yarn 4 stock keeps the zips
//! in `~/.yarn/berry/cache`, hoard's image has them in `<project>/.yarn/cache` instead (same
//! size; yarn 2/3 stock already does that). Classic ignores the variable.

use crate::cache::recipe::{CacheDir, Defeater, EnvTweak, Location, Recipe, Scope, Trigger};
use crate::instructions::Sharing;

/// "" is a bare `yarn` (or `yarn --frozen-lockfile`), which installs.
const INSTALLS: &[&str] = &[
    "",
    "install",
    "add",
    "up",
    "upgrade",
    "remove",
    "global",
    "workspaces",
    "dlx",
    "import",
];
const YARN_OPTS: &[&str] = &[
    "--cwd",
    "--cache-folder",
    "--modules-folder",
    "--mutex",
    "--network-timeout",
];

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "yarn",
    about: "yarn classic cache and yarn berry global mirror; PnP zips stay in the project",
    triggers: &[
        Trigger {
            programs: &["yarn", "yarnpkg", "yarn.js", "yarn.cjs"],
            subcommands: INSTALLS,
            options_with_value: YARN_OPTS,
            ..Trigger::NONE
        },
        // `corepack yarn install`, `corepack yarn@4.1.0 install`, `npx -y yarn@1 install`.
        Trigger {
            programs: &["corepack"],
            prefix: &["yarn@*"],
            subcommands: INSTALLS,
            options_with_value: YARN_OPTS,
            ..Trigger::NONE
        },
        Trigger {
            programs: &["npx"],
            prefix: &["yarn@*"],
            subcommands: INSTALLS,
            options_with_value: YARN_OPTS,
            ..Trigger::NONE
        },
    ],
    caches: &[
        CacheDir {
            kind: "classic-root",
            location: Location::Fixed("/usr/local/share/.cache/yarn"),
            // Concurrent yarn 1 runs corrupt a shared cache (yarnpkg/yarn#683, #4102).
            sharing: Sharing::Locked,
            scope: Scope::USER,
            ..CacheDir::NONE
        },
        CacheDir {
            kind: "classic",
            location: Location::UnderEnv {
                var: "XDG_CACHE_HOME",
                default: "~/.cache",
                sub: "yarn",
            },
            sharing: Sharing::Locked,
            scope: Scope::USER,
            ..CacheDir::NONE
        },
        CacheDir {
            kind: "berry",
            location: Location::UnderEnv {
                var: "YARN_GLOBAL_FOLDER",
                default: "~/.yarn/berry",
                sub: "cache",
            },
            // "relatively safe to be shared by multiple projects, even when multiple Yarn
            // instances run at the same time".
            sharing: Sharing::Shared,
            scope: Scope::USER,
            ..CacheDir::NONE
        },
    ],
    env: &[EnvTweak::Set("YARN_ENABLE_GLOBAL_CACHE", "false")],
    defeaters: &[Defeater::Command {
        program: "yarn",
        args: &["cache", "clean"],
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
        let r = &RECIPES[0];
        assert_eq!(cache(r, "classic-root").sharing, Sharing::Locked);
        assert_eq!(cache(r, "classic").sharing, Sharing::Locked);
        assert_eq!(cache(r, "berry").sharing, Sharing::Shared);
        assert!(r.caches.iter().all(|c| !c.scope.platform));
        // The variables the other yarn would misread are never redirected.
        for c in r.caches {
            assert!(
                !matches!(c.location, Location::Redirect { .. }),
                "{}",
                c.kind
            );
        }
        assert!(r
            .env
            .iter()
            .any(|e| matches!(e, EnvTweak::Set("YARN_ENABLE_GLOBAL_CACHE", "false"))));
    }

    #[test]
    fn spellings() {
        for cmd in [
            "yarn",
            "yarn install",
            "yarn --frozen-lockfile",
            "yarn install --immutable",
            "yarn add left-pad",
            "yarn workspaces focus --production",
            "corepack yarn install",
            "yarn --cwd web install",
            "corepack yarn@4.1.0 install",
            "npx -y yarn@1 install",
            "npx yarn@stable",
        ] {
            assert!(detected(&plan_shell(cmd), "yarn"), "{cmd}");
        }
        // A bare `yarn` installs, so `yarn --version` (options only) counts too: a harmless
        // false positive (empty mounts), accepted to catch `yarn --frozen-lockfile`.
        for cmd in [
            "yarn build",
            "yarn run build",
            "yarn test",
            "yarn version",
            "corepack yarn@4 run build",
            "corepack yarnpkg install",
        ] {
            assert!(!detected(&plan_shell(cmd), "yarn"), "{cmd}");
        }
    }

    #[test]
    fn plans_both_yarns() {
        let p = plan_shell("yarn install --frozen-lockfile");
        assert_eq!(
            mount_at(&p, "/usr/local/share/.cache/yarn"),
            ("hoard/yarn/classic-root".into(), Sharing::Locked)
        );
        assert_eq!(mount_at(&p, "/root/.cache/yarn").0, "hoard/yarn/classic");
        assert_eq!(
            mount_at(&p, "/root/.yarn/berry/cache"),
            ("hoard/yarn/berry".into(), Sharing::Shared)
        );
        assert_eq!(
            set(&p, "YARN_ENABLE_GLOBAL_CACHE").as_deref(),
            Some("false")
        );
        assert_eq!(set(&p, "YARN_CACHE_FOLDER"), None);
        assert_eq!(set(&p, "YARN_GLOBAL_FOLDER"), None);
        // The node image's user.
        let p = plan_shell_with(
            "yarn install --immutable",
            &[("YARN_ENABLE_GLOBAL_CACHE", "true")],
            1000,
            "/home/node",
        );
        assert_eq!(
            mount_at(&p, "/home/node/.cache/yarn").0,
            "hoard/yarn/classic/u1000"
        );
        assert_eq!(
            mount_at(&p, "/home/node/.yarn/berry/cache").0,
            "hoard/yarn/berry/u1000"
        );
        assert_eq!(
            set(&p, "YARN_ENABLE_GLOBAL_CACHE").as_deref(),
            Some("false"),
            "PnP must not load zips from a mount"
        );
    }
}
