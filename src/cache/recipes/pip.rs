//! pip (and pipx, which installs through pip). Notes §4.1.
//!
//! Design:
//! - `PIP_CACHE_DIR` redirected to `/var/cache/hoard/pip`, mounted with the step user's uid/gid
//!   (pip silently disables a cache it cannot write). HOME is never guessed and no root-owned
//!   `~/.cache` is left behind; a user `rm -rf ~/.cache/pip` no longer touches the cache. When
//!   the step already sets `PIP_CACHE_DIR`, the mount goes there.
//! - Any value of `PIP_NO_CACHE_DIR` disables the cache (pip `_handle_no_cache_dir`, even
//!   `off`/`false`): unset for the step. `--no-cache-dir` is removed from pip's own words.
//! - Sharing `shared`: pip's `SafeFileCache` writes via temp file + rename.
//! - Scope: platform, base image and uid (deviation: the brief offers PLATFORM or
//!   PLATFORM_USER). The cache holds wheels pip *built*, tagged only `linux_<arch>` and keyed by
//!   sdist URL + interpreter name/version — nothing says glibc vs musl or which glibc. A wheel
//!   built on python:3.11-bookworm would be handed to python:3.11-bullseye (`GLIBC_2.34 not
//!   found` at run time) or to an Alpine python. Per-base-image ids rule that out; the cost is
//!   less sharing between unrelated base images.

use crate::cache::recipe::{
    Aging, CacheDir, Defeater, EnvTweak, FlagEdit, Location, Recipe, Scope, Shim, Trigger,
};
use crate::instructions::Sharing;

/// Python caches hold locally built, libc-specific wheels: platform + base image + uid.
pub(super) const PY_SCOPE: Scope = Scope {
    platform: true,
    distro: true,
    user: true,
};

/// pip's global options that take a separate value word.
pub(super) const PIP_OPTS: &[&str] = &[
    "--cache-dir",
    "--log",
    "--log-file",
    "--local-log",
    "--proxy",
    "--retries",
    "--timeout",
    "--exists-action",
    "--trusted-host",
    "--cert",
    "--client-cert",
    "--python",
    "--use-feature",
    "--use-deprecated",
    "--keyring-provider",
];

/// pip 22.1 to 23.0 do not read the cache of locally built wheels when `--no-binary` is given
/// unless `--use-feature=no-binary-enable-wheel-cache` is (what a hand-tuned Dockerfile adds;
/// later pips do it by default and earlier ones lack the feature). The shim adds it for exactly
/// those versions, so the sdists built once are not built again on every rebuild. It asks the
/// interpreter on the real pip's `#!` line for `pip.__version__` (which imports only
/// `pip/__init__.py`: ~0.2 s less than `pip --version`, which loads pip's whole CLI) and falls
/// back to `pip --version` for any other kind of script.
macro_rules! pip_shim {
    ($name:literal) => {
        Shim {
            name: $name,
            script: concat!(
                "hoard_feature=\n",
                "case \" $* \" in\n",
                "  *\" --no-binary \"*|*\" --no-binary=\"*)\n",
                "    hoard_v= hoard_l=\n",
                "    hoard_p=$(hoard_real sh -c 'command -v \"$1\"' sh ", $name, ")\n",
                "    case $hoard_p in /*) [ -r \"$hoard_p\" ] && IFS= read -r hoard_l < \"$hoard_p\" ;; esac\n",
                "    case $hoard_l in\n",
                "      '#!'*python*) hoard_v=$(${hoard_l#??} -c 'import pip; print(pip.__version__)' 2>/dev/null) && hoard_v=\"pip $hoard_v\" ;;\n",
                "    esac\n",
                "    case $hoard_v in \"pip \"[0-9]*) ;; *) hoard_v=$(hoard_real ", $name, " --version 2>/dev/null) ;; esac\n",
                "    case $hoard_v in\n",
                "      \"pip 22.\"[1-9]*|\"pip 23.0\"*) hoard_feature=--use-feature=no-binary-enable-wheel-cache ;;\n",
                "    esac ;;\n",
                "esac\n",
                "if [ -n \"$hoard_feature\" ]; then hoard_real ", $name, " \"$@\" \"$hoard_feature\"; else hoard_real ", $name, " \"$@\"; fi\n",
                "exit $?\n"
            ),
        }
    };
}

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "pip",
    about: "pip's HTTP cache and built wheels (PIP_CACHE_DIR), kept out of the image",
    triggers: &[
        Trigger {
            programs: &["pip*"],
            python_module: Some("pip"),
            subcommands: &["install", "download", "wheel"],
            options_with_value: PIP_OPTS,
            ..Trigger::NONE
        },
        Trigger {
            programs: &["pipx"],
            python_module: Some("pipx"),
            subcommands: &[
                "install",
                "install-all",
                "inject",
                "upgrade",
                "upgrade-all",
                "reinstall",
                "reinstall-all",
                "run",
                "runpip",
            ],
            // `pipx run black ...`: black's words are not pip's.
            runs_program: &[&["run"]],
            ..Trigger::NONE
        },
    ],
    caches: &[CacheDir {
        kind: "cache",
        location: Location::Redirect {
            var: "PIP_CACHE_DIR",
            path: "/var/cache/hoard/pip",
        },
        sharing: Sharing::Shared,
        scope: PY_SCOPE,
        aging: Aging::Files,
        ..CacheDir::NONE
    }],
    env: &[EnvTweak::Unset("PIP_NO_CACHE_DIR")],
    shims: &[pip_shim!("pip"), pip_shim!("pip3")],
    // Only the exact spelling: pip also accepts the prefix `--no-cache`, but edits apply to all
    // of the recipe's triggers, and `pipx run --no-cache` is pipx's own option (a fresh venv).
    flag_edits: &[FlagEdit {
        flag: "--no-cache-dir",
        replace: None,
    }],
    defeaters: &[
        Defeater::Command {
            program: "pip",
            args: &["cache", "purge"],
        },
        Defeater::Command {
            program: "pip3",
            args: &["cache", "purge"],
        },
        Defeater::Command {
            program: "pip",
            args: &["cache", "remove"],
        },
        Defeater::Command {
            program: "pip3",
            args: &["cache", "remove"],
        },
        Defeater::Env("PIP_NO_CACHE_DIR"),
    ],
    ..Recipe::NONE
}];

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::cache::planner::{plan_shell, plan_shell_with};

    /// Run the `pip` shim with a fake pip of the given version; what the fake received.
    fn shim_passes(version: &str, args: &[&str]) -> String {
        let fake = format!(
            "if [ \"$1\" = --version ]; then echo 'pip {version} from /usr/lib/python3/dist-packages/pip (python 3.11)'; exit 0; fi\necho \"$@\"\n"
        );
        let shim = RECIPES[0].shims.iter().find(|s| s.name == "pip").unwrap();
        let (status, out) = run_shim_with(shim.script, "pip", &fake, args, &[]);
        assert_eq!(status, Some(0));
        out
    }

    #[test]
    fn old_pips_read_the_wheel_cache_under_no_binary() {
        let feature = "--use-feature=no-binary-enable-wheel-cache";
        assert_eq!(
            shim_passes("23.0.1", &["install", "--no-binary", ":all:", "flask"]),
            format!("install --no-binary :all: flask {feature}")
        );
        assert_eq!(
            shim_passes("22.3", &["install", "--no-binary=:all:", "x"]),
            format!("install --no-binary=:all: x {feature}")
        );
        for v in ["23.1", "24.0", "21.3.1", "22.0.4"] {
            assert_eq!(
                shim_passes(v, &["install", "--no-binary", ":all:", "x"]),
                "install --no-binary :all: x",
                "pip {v}"
            );
        }
        assert_eq!(shim_passes("23.0.1", &["install", "a b"]), "install a b");
    }

    /// With a `#!...python` pip, the version comes from that interpreter (`import pip`), and
    /// pip's own `--version` is not run.
    #[test]
    fn pip_version_from_the_interpreter_on_the_shebang() {
        // The "interpreter" (with the `-E` from the `#!` line): answers the version question, or
        // "runs" the pip script (`<script> ARGS`) by printing ARGS and logging a `--version`.
        let python = "#!/bin/sh\n\
             [ \"$1\" = -E ] && shift\n\
             if [ \"$1 $2\" = '-c import pip; print(pip.__version__)' ]; then echo \"$FAKE_VERSION\"; echo asked >> \"$FAKE_LOG\"; exit 0; fi\n\
             shift\n\
             [ \"$1\" = --version ] && echo ran-version >> \"$FAKE_LOG\"\n\
             echo \"$@\"\n";
        let tools = [
            ("python3", python),
            ("pip", "#!{bin}/python3 -E\n# a console script\n"),
        ];
        let script = RECIPES[0]
            .shims
            .iter()
            .find(|s| s.name == "pip")
            .unwrap()
            .script;
        let log =
            std::env::temp_dir().join(format!("hoard-pip-shebang-{}.log", std::process::id()));
        let run = |version: &str| {
            let _ = std::fs::remove_file(&log);
            let env = [
                ("FAKE_VERSION", version),
                ("FAKE_LOG", log.to_str().unwrap()),
            ];
            let (status, passed) = run_shim_with_tools(
                script,
                &tools,
                &["install", "--no-binary", ":all:", "x"],
                &env,
            );
            assert_eq!(status, Some(0));
            (passed, std::fs::read_to_string(&log).unwrap_or_default())
        };
        let (passed, asked) = run("23.0.1");
        assert_eq!(
            passed,
            "install --no-binary :all: x --use-feature=no-binary-enable-wheel-cache"
        );
        assert_eq!(
            asked, "asked\n",
            "the interpreter was asked, `pip --version` not run"
        );
        let (passed, asked) = run("24.0");
        assert_eq!(passed, "install --no-binary :all: x");
        assert_eq!(asked, "asked\n");
        // An interpreter that cannot say: `pip --version` decides (the fake's answer is empty).
        let (_, asked) = run("");
        assert!(asked.contains("ran-version"), "{asked}");
        std::fs::remove_file(&log).ok();
    }

    #[test]
    fn data_invariants() {
        check(RECIPES);
        assert_sharing(RECIPES, Sharing::Shared);
        assert!(!RECIPES[0].root_only);
    }

    #[test]
    fn spellings() {
        for cmd in [
            "pip install flask",
            "pip3 install -r requirements.txt",
            "pip3.12 install --user x",
            "/usr/local/bin/pip install x",
            "python -m pip install x",
            "python3 -m pip install --upgrade pip",
            "python3.12 -m pip wheel -w /wheels .",
            "pip --disable-pip-version-check --log /tmp/l install x",
            "pipx install poetry",
            "PIP_INDEX_URL=http://x pip install y",
        ] {
            assert!(detected(&plan_shell(cmd), "pip"), "{cmd}");
        }
        for cmd in [
            "pip freeze",
            "pip list",
            "python -m venv /v",
            "pip cache purge",
        ] {
            assert!(!detected(&plan_shell(cmd), "pip"), "{cmd}");
        }
    }

    #[test]
    fn root_redirects_the_cache() {
        let p = plan_shell("pip install flask");
        assert_eq!(
            mounts(&p, "pip"),
            vec![(
                "/var/cache/hoard/pip".into(),
                "hoard/pip/cache/linux-amd64/debian-bookworm".into(),
                Sharing::Shared,
                0
            )]
        );
        assert_eq!(
            set(&p, "PIP_CACHE_DIR").as_deref(),
            Some("/var/cache/hoard/pip")
        );
    }

    #[test]
    fn non_root_without_cache_disablers() {
        let p = plan_shell_with(
            "pip install --no-cache-dir x",
            &[("PIP_NO_CACHE_DIR", "1")],
            1000,
            "/home/app",
        );
        assert!(unsets(&p, "PIP_NO_CACHE_DIR"));
        assert_eq!(p.script.as_deref(), Some("pip install x"));
        let c = mounts(&p, "pip");
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].0, "/var/cache/hoard/pip");
        assert_eq!(c[0].1, "hoard/pip/cache/linux-amd64/debian-bookworm/u1000");
        assert_eq!(c[0].3, 1000);
    }

    #[test]
    fn flags_of_programs_pipx_runs_are_not_edited() {
        assert_eq!(plan_shell("pipx run black --no-cache-dir .").script, None);
        assert_eq!(
            plan_shell("pipx run --no-cache black .").script,
            None,
            "pipx's own --no-cache is not pip's"
        );
        assert_eq!(
            plan_shell("pip install x --no-cache-dir -- --no-cache-dir")
                .script
                .as_deref(),
            Some("pip install x -- --no-cache-dir")
        );
    }

    #[test]
    fn user_cache_dir_is_respected() {
        let p = plan_shell_with(
            "pip install x",
            &[("PIP_CACHE_DIR", "/opt/pipcache")],
            0,
            "/root",
        );
        assert_eq!(mounts(&p, "pip")[0].0, "/opt/pipcache");
        assert!(set(&p, "PIP_CACHE_DIR").is_none());
    }
}
