//! uv (astral). Notes §4.2.
//!
//! Design:
//! - `UV_CACHE_DIR` redirected to `/var/cache/hoard/uv`, mounted with the step user's uid/gid
//!   (uv resolves `~/.cache/uv` from the user's HOME, so a root-path mount would be unused for a
//!   non-root USER). Never `UV_PYTHON_INSTALL_DIR` or `UV_TOOL_DIR`: those are installations.
//! - `UV_LINK_MODE=copy` unless the step sets it: the cache is on another filesystem than the
//!   venv, hard links fail anyway (uv docker guide, astral-sh/uv PR #7510).
//! - `UV_NO_CACHE` unset; `--no-cache` removed from uv's own words. Caveat: the planner edits
//!   every matching word of the invocation, including those of the program `uv run`/`uvx`
//!   starts (`uvx ruff check --no-cache` would lose ruff's flag). NEEDS: flag edits limited to
//!   the words before the subcommand's positional arguments. `-n` (uv's short `--no-cache`) is
//!   not edited for that reason (`uv run pytest -n 4`).
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
        },
        Trigger {
            programs: &["uv"],
            python_module: Some("uv"),
            prefix: &[],
            subcommands: &["sync", "lock", "add", "remove", "run", "venv", "tool", "python", "build", "export", "tree"],
            options_with_value: OPTS,
        },
        Trigger { programs: &["uvx"], python_module: None, prefix: &[], subcommands: &[], options_with_value: OPTS },
    ],
    env_triggers: &[],
    caches: &[CacheDir {
        kind: "cache",
        location: Location::Redirect { var: "UV_CACHE_DIR", path: "/var/cache/hoard/uv" },
        sharing: Sharing::Shared,
        scope: PY_SCOPE,
        only_for: &[],
    }],
    tmpfs: &[],
    env: &[EnvTweak::Unset("UV_NO_CACHE"), EnvTweak::Default("UV_LINK_MODE", "copy")],
    files: &[],
    shims: &[],
    flag_edits: &[FlagEdit { flag: "--no-cache", replace: None }],
    defeaters: &[
        Defeater::Command { program: "uv", args: &["cache", "clean"] },
        Defeater::Command { program: "uv", args: &["cache", "prune"] },
        Defeater::Env("UV_NO_CACHE"),
    ],
    root_only: false,
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
        let p = plan_shell_with("uv sync --no-cache --locked", &[("UV_NO_CACHE", "1")], 1000, "/home/app");
        assert!(unsets(&p, "UV_NO_CACHE"));
        assert_eq!(set(&p, "UV_CACHE_DIR").as_deref(), Some("/var/cache/hoard/uv"));
        assert_eq!(set(&p, "UV_LINK_MODE").as_deref(), Some("copy"));
        assert_eq!(p.script.as_deref(), Some("uv sync --locked"));
        let c = mounts(&p, "uv");
        assert_eq!(c, vec![("/var/cache/hoard/uv".into(), "hoard/uv/cache/linux-amd64/debian-bookworm/u1000".into(), Sharing::Shared, 1000)]);
        // The user's link mode stays.
        let p = plan_shell_with("uv sync", &[("UV_LINK_MODE", "symlink")], 0, "/root");
        assert!(set(&p, "UV_LINK_MODE").is_none());
    }
}
