//! Poetry. Notes §4.3.
//!
//! Design:
//! - `POETRY_CACHE_DIR` redirected to `/var/cache/hoard/poetry` (`cache/repositories` and
//!   `artifacts/`, downloaded and built distributions), mounted with the step user's uid/gid.
//! - Never `virtualenvs/`: Poetry's default venv path is `{cache-dir}/virtualenvs`, i.e. inside
//!   the redirected cache, where the venv — the product — would vanish with the mount. So
//!   `POETRY_VIRTUALENVS_PATH` is pinned to the path Poetry uses without hoard,
//!   `~/.cache/pypoetry/virtualenvs` (Poetry `expanduser()`s it: `Config.virtualenvs_path`),
//!   unless the step sets it. Irrelevant with `virtualenvs.in-project`/`create=false`, the
//!   usual Docker settings. Known gaps: an image that sets `XDG_CACHE_HOME` or its own
//!   `POETRY_CACHE_DIR` without a venv path gets the venv under `~/.cache/pypoetry/virtualenvs`
//!   instead of under that dir, and a `virtualenvs.path` in `poetry.toml` is overridden by the
//!   env var. (Mounting only `cache/` and `artifacts/` at the default location would avoid
//!   that but leaves BuildKit-created root-owned parents in a non-root user's home, where Poetry
//!   then cannot create `virtualenvs/`.)
//! - Poetry's global `--no-cache` removed (only in Poetry's own words: `poetry run` is not a
//!   trigger, so the programs it runs are never edited).
//! - Sharing `locked`: no cross-process locking of the artifacts cache; corrupted cached
//!   artifacts are a known failure (python-poetry/poetry#2388, #3763).
//! - Scope as pip (platform + base image + uid).

use super::pip::PY_SCOPE;
use crate::cache::recipe::{CacheDir, Defeater, EnvTweak, FlagEdit, Location, Recipe, Trigger};
use crate::instructions::Sharing;

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "poetry",
    about: "Poetry's repository cache and artifacts (POETRY_CACHE_DIR), never its virtualenvs",
    triggers: &[Trigger {
        programs: &["poetry"],
        python_module: Some("poetry"),
        subcommands: &["install", "sync", "add", "update", "lock", "remove", "self"],
        options_with_value: &["-C", "--directory", "-P", "--project"],
        ..Trigger::NONE
    }],
    caches: &[CacheDir {
        kind: "cache",
        location: Location::Redirect {
            var: "POETRY_CACHE_DIR",
            path: "/var/cache/hoard/poetry",
        },
        sharing: Sharing::Locked,
        scope: PY_SCOPE,
        ..CacheDir::NONE
    }],
    env: &[EnvTweak::Default(
        "POETRY_VIRTUALENVS_PATH",
        "~/.cache/pypoetry/virtualenvs",
    )],
    flag_edits: &[FlagEdit {
        flag: "--no-cache",
        replace: None,
    }],
    defeaters: &[Defeater::Command {
        program: "poetry",
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
        assert_sharing(RECIPES, Sharing::Locked);
        // The venv stays where Poetry puts it without hoard, outside the mount.
        let EnvTweak::Default(_, venvs) = RECIPES[0].env[0] else {
            panic!()
        };
        let Location::Redirect { path, .. } = RECIPES[0].caches[0].location else {
            panic!()
        };
        assert!(!venvs.starts_with(path));
    }

    #[test]
    fn plans_cache_and_pins_the_venv_path() {
        let p = plan_shell_with(
            "poetry install --no-root --no-cache",
            &[],
            1000,
            "/home/app",
        );
        assert!(detected(&p, "poetry"));
        assert_eq!(
            mounts(&p, "poetry"),
            vec![(
                "/var/cache/hoard/poetry".into(),
                "hoard/poetry/cache/linux-amd64/debian-bookworm/u1000".into(),
                Sharing::Locked,
                1000
            )]
        );
        assert_eq!(
            set(&p, "POETRY_VIRTUALENVS_PATH").as_deref(),
            Some("~/.cache/pypoetry/virtualenvs")
        );
        assert_eq!(p.script.as_deref(), Some("poetry install --no-root"));
        let p = plan_shell_with(
            "poetry install",
            &[("POETRY_VIRTUALENVS_PATH", "/venvs")],
            0,
            "/root",
        );
        assert!(set(&p, "POETRY_VIRTUALENVS_PATH").is_none());
        for cmd in [
            "python -m poetry install",
            "poetry -C /app sync",
            "poetry lock",
        ] {
            assert!(detected(&plan_shell(cmd), "poetry"), "{cmd}");
        }
        for cmd in [
            "poetry run pytest",
            "poetry config virtualenvs.create false",
            "poetry export -o r.txt",
        ] {
            assert!(!detected(&plan_shell(cmd), "poetry"), "{cmd}");
        }
    }
}
