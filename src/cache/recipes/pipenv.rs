//! Pipenv. Notes §4.4.
//!
//! Design:
//! - `PIPENV_CACHE_DIR` redirected to `/var/cache/hoard/pipenv` (the resolver's cache) and,
//!   because Pipenv installs through pip, `PIP_CACHE_DIR` to `/var/cache/hoard/pip` — the same
//!   path as the pip recipe, so a step running both gets one mount (the planner keeps the first
//!   mount per target) and one value for the variable. `PIP_NO_CACHE_DIR` unset as for pip.
//! - Never `WORKON_HOME` (`~/.local/share/virtualenvs`): the venvs are the product.
//! - Sharing `shared` (pip semantics; the resolver cache is written file by file).
//! - Scope as pip (platform + base image + uid).

use super::pip::PY_SCOPE;
use crate::cache::recipe::{CacheDir, Defeater, EnvTweak, Location, Recipe, Trigger};
use crate::instructions::Sharing;

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "pipenv",
    about: "Pipenv's resolver cache and pip's cache (PIPENV_CACHE_DIR, PIP_CACHE_DIR), never its virtualenvs",
    triggers: &[Trigger {
        programs: &["pipenv"],
        python_module: Some("pipenv"),
        subcommands: &["install", "sync", "lock", "update", "upgrade", "requirements"],
        options_with_value: &["--python"],
        ..Trigger::NONE
    }],
    caches: &[
        CacheDir {
            kind: "cache",
            location: Location::Redirect { var: "PIPENV_CACHE_DIR", path: "/var/cache/hoard/pipenv" },
            sharing: Sharing::Shared,
            scope: PY_SCOPE,
            ..CacheDir::NONE
        },
        CacheDir {
            kind: "pip",
            location: Location::Redirect { var: "PIP_CACHE_DIR", path: "/var/cache/hoard/pip" },
            sharing: Sharing::Shared,
            scope: PY_SCOPE,
            ..CacheDir::NONE
        },
    ],
    env: &[EnvTweak::Unset("PIP_NO_CACHE_DIR")],
    defeaters: &[Defeater::Command { program: "pipenv", args: &["--clear"] }, Defeater::Env("PIP_NO_CACHE_DIR")],
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
        // Shares pip's path so both recipes in one step agree.
        let pip = &super::super::pip::RECIPES[0].caches[0];
        assert!(matches!((pip.location, RECIPES[0].caches[1].location),
            (Location::Redirect { var: a, path: b }, Location::Redirect { var: c, path: d }) if a == c && b == d));
        assert!(RECIPES[0].caches.iter().all(|c| !matches!(
            c.location,
            Location::Redirect {
                var: "WORKON_HOME",
                ..
            }
        )));
    }

    #[test]
    fn plans_both_caches() {
        let p = plan_shell_with(
            "pipenv install --system --deploy",
            &[("PIP_NO_CACHE_DIR", "off")],
            1000,
            "/home/app",
        );
        let c = mounts(&p, "pipenv");
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].0, "/var/cache/hoard/pipenv");
        assert_eq!(c[1].0, "/var/cache/hoard/pip");
        assert!(c
            .iter()
            .all(|m| m.3 == 1000 && m.1.ends_with("/linux-amd64/debian-bookworm/u1000")));
        assert!(unsets(&p, "PIP_NO_CACHE_DIR"));
        assert!(detected(&plan_shell("python -m pipenv sync"), "pipenv"));
        // With pip in the same step: one mount on pip's path.
        let p = plan_shell("pip install pipenv && pipenv install --system");
        assert_eq!(
            p.mounts
                .iter()
                .filter(|m| m.target == "/var/cache/hoard/pip")
                .count(),
            1
        );
    }
}
