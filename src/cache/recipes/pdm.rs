//! PDM. Notes §4.5.
//!
//! Design:
//! - `PDM_CACHE_DIR` redirected to `/var/cache/hoard/pdm` (wheels, HTTP and metadata caches),
//!   mounted with the step user's uid/gid.
//! - `PDM_INSTALL_CACHE=false` is forced for the step (env overrides PDM's config files): with
//!   `install.cache` on, PDM links installed packages into the cache dir, i.e. into the mount,
//!   and the image would keep dangling links. Off, the packages are real files in the venv.
//!   (An image built with `install.cache = true` therefore differs from stock in holding copies
//!   instead of links — the only way it works at all.)
//! - Venvs are in-project by default (`venv.in_project`), never in the cache.
//! - Sharing `shared`; scope as pip (platform + base image + uid).

use super::pip::PY_SCOPE;
use crate::cache::recipe::{CacheDir, Defeater, EnvTweak, Location, Recipe, Trigger};
use crate::instructions::Sharing;

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "pdm",
    about: "PDM's wheel, HTTP and metadata caches (PDM_CACHE_DIR), with the install cache off",
    triggers: &[Trigger {
        programs: &["pdm"],
        python_module: Some("pdm"),
        subcommands: &[
            "install", "sync", "add", "update", "lock", "remove", "build",
        ],
        options_with_value: &["-p", "--project", "-c", "--config"],
        ..Trigger::NONE
    }],
    caches: &[CacheDir {
        kind: "cache",
        location: Location::Redirect {
            var: "PDM_CACHE_DIR",
            path: "/var/cache/hoard/pdm",
        },
        sharing: Sharing::Shared,
        scope: PY_SCOPE,
        ..CacheDir::NONE
    }],
    env: &[EnvTweak::Set("PDM_INSTALL_CACHE", "false")],
    defeaters: &[Defeater::Command {
        program: "pdm",
        args: &["cache", "clear"],
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
        assert_sharing(RECIPES, Sharing::Shared);
    }

    #[test]
    fn plans_cache_without_install_cache() {
        let p = plan_shell_with(
            "pdm install --prod --frozen-lockfile",
            &[("PDM_INSTALL_CACHE", "true")],
            0,
            "/root",
        );
        assert_eq!(
            mounts(&p, "pdm"),
            vec![(
                "/var/cache/hoard/pdm".into(),
                "hoard/pdm/cache/linux-amd64/debian-bookworm".into(),
                Sharing::Shared,
                0
            )]
        );
        assert_eq!(set(&p, "PDM_INSTALL_CACHE").as_deref(), Some("false"));
        assert!(detected(&plan_shell("python -m pdm sync"), "pdm"));
        assert!(!detected(&plan_shell("pdm run app"), "pdm"));
    }
}
