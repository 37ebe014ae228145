//! uv (astral). Notes §4.2.
//!
//! Design:
//! - `UV_CACHE_DIR` redirected to `/var/cache/hoard/uv`, mounted with the step user's uid/gid
//!   (uv resolves `~/.cache/uv` from the user's HOME, so a root-path mount would be unused for a
//!   non-root USER). Never `UV_PYTHON_INSTALL_DIR` or `UV_TOOL_DIR`: those are installations.
//! - `UV_LINK_MODE=copy` unless the step sets it: the cache is on another filesystem than the
//!   venv, hard links fail anyway (uv docker guide, astral-sh/uv PR #7510).
//! - `UV_NO_CACHE` unset; uv's global `--no-cache` (and its spellings `-n` and `--no-cache-dir`,
//!   uv-cache `CacheArgs`) removed from uv's own words only: the program `uvx`, `uv run` and
//!   `uv tool run` start, with its arguments, is the trigger's `runs_program` and never edited
//!   (`uvx ruff check --no-cache` keeps ruff's flag, `uv run pytest -n 4` keeps pytest's).
//! - Sharing `shared`: uv documents its cache as safe for concurrent use (only `uv cache
//!   clean/prune` are not, reported as defeaters).
//! - Scope as pip (platform + base image + uid): built wheels are tagged `linux_<arch>` only.

use super::pip::PY_SCOPE;
use crate::cache::recipe::{CacheDir, Defeater, EnvTweak, FlagEdit, Location, Recipe, Trigger};
use crate::instructions::Sharing;

/// uv's global options that take a separate value word.
const OPTS: &[&str] = &[
    "--cache-dir",
    "--directory",
    "--project",
    "--config-file",
    "--color",
    "-p",
    "--python",
    "--python-preference",
    "--allow-insecure-host",
    // `uvx --from ruff==0.5 ruff`, `uv run --with httpx python`: the value is not the program.
    "--from",
    "--with",
];

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "uv",
    about: "uv's cache of wheels, sdists and built wheels (UV_CACHE_DIR), kept out of the image",
    triggers: &[
        Trigger {
            programs: &["uv"],
            python_module: Some("uv"),
            prefix: &["pip"],
            subcommands: &["install", "sync", "compile", "download"],
            options_with_value: OPTS,
            ..Trigger::NONE
        },
        Trigger {
            programs: &["uv"],
            python_module: Some("uv"),
            subcommands: &[
                "sync", "lock", "add", "remove", "run", "venv", "tool", "python", "build",
                "export", "tree",
            ],
            options_with_value: OPTS,
            runs_program: &[&["run"], &["tool", "run"]],
            ..Trigger::NONE
        },
        // `uvx` is `uv tool run`: its first word is the program.
        Trigger {
            programs: &["uvx"],
            options_with_value: OPTS,
            runs_program: &[&[]],
            ..Trigger::NONE
        },
    ],
    caches: &[CacheDir {
        kind: "cache",
        location: Location::Redirect {
            var: "UV_CACHE_DIR",
            path: "/var/cache/hoard/uv",
        },
        sharing: Sharing::Shared,
        scope: PY_SCOPE,
        ..CacheDir::NONE
    }],
    env: &[
        EnvTweak::Unset("UV_NO_CACHE"),
        EnvTweak::Default("UV_LINK_MODE", "copy"),
    ],
    flag_edits: &[
        FlagEdit {
            flag: "--no-cache",
            replace: None,
        },
        FlagEdit {
            flag: "--no-cache-dir",
            replace: None,
        },
        FlagEdit {
            flag: "-n",
            replace: None,
        },
    ],
    defeaters: &[
        Defeater::Command {
            program: "uv",
            args: &["cache", "clean"],
        },
        Defeater::Command {
            program: "uv",
            args: &["cache", "prune"],
        },
        Defeater::Env("UV_NO_CACHE"),
    ],
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
    fn spellings() {
        for cmd in [
            "uv pip install -r requirements.txt",
            "uv pip install --system flask",
            "uv sync --frozen --no-dev",
            "uv --directory /app sync",
            "uv lock",
            "uv tool install ruff",
            "uvx ruff --version",
            "python -m uv pip install x",
        ] {
            assert!(detected(&plan_shell(cmd), "uv"), "{cmd}");
        }
        for cmd in ["uv --version", "uv pip list", "uv cache clean"] {
            assert!(!detected(&plan_shell(cmd), "uv"), "{cmd}");
        }
    }

    #[test]
    fn redirects_and_copies() {
        let p = plan_shell_with(
            "uv sync --no-cache --locked",
            &[("UV_NO_CACHE", "1")],
            1000,
            "/home/app",
        );
        assert!(unsets(&p, "UV_NO_CACHE"));
        assert_eq!(
            set(&p, "UV_CACHE_DIR").as_deref(),
            Some("/var/cache/hoard/uv")
        );
        assert_eq!(set(&p, "UV_LINK_MODE").as_deref(), Some("copy"));
        assert_eq!(p.script.as_deref(), Some("uv sync --locked"));
        let c = mounts(&p, "uv");
        assert_eq!(
            c,
            vec![(
                "/var/cache/hoard/uv".into(),
                "hoard/uv/cache/linux-amd64/debian-bookworm/u1000".into(),
                Sharing::Shared,
                1000
            )]
        );
        // The user's link mode stays.
        let p = plan_shell_with("uv sync", &[("UV_LINK_MODE", "symlink")], 0, "/root");
        assert!(set(&p, "UV_LINK_MODE").is_none());
    }

    #[test]
    fn only_uvs_own_no_cache_flags_are_edited() {
        for (cmd, edited) in [
            // The program uvx / uv run / uv tool run starts keeps its words.
            ("uvx ruff check --no-cache .", None),
            ("uvx --from ruff==0.5.0 ruff check --no-cache", None),
            ("uv run pytest -n 4", None),
            ("uv run -- python -m x --no-cache-dir", None),
            // uv's own spellings of --no-cache, before the program.
            (
                "uvx --no-cache ruff check --no-cache",
                Some("uvx ruff check --no-cache"),
            ),
            (
                "uv run --no-cache pytest -n 4 --no-cache",
                Some("uv run pytest -n 4 --no-cache"),
            ),
            (
                "uv tool run -n ruff --no-cache",
                Some("uv tool run ruff --no-cache"),
            ),
            (
                "uv -n tool install ruff --no-cache-dir",
                Some("uv tool install ruff"),
            ),
            (
                "uv pip install --no-cache-dir -r r.txt --no-cache",
                Some("uv pip install -r r.txt"),
            ),
            (
                "uv sync --frozen -n && uv run app --no-cache",
                Some("uv sync --frozen && uv run app --no-cache"),
            ),
        ] {
            let p = plan_shell(cmd);
            assert!(detected(&p, "uv"), "{cmd}");
            assert_eq!(p.script.as_deref(), edited, "{cmd}");
        }
    }
}
