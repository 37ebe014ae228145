//! cargo: the registry and git databases (download caches, arch-neutral) and the `target/`
//! directory (compiled output, platform-specific), notes §4.11.
//!
//! `target/` is both a cache and where users expect their binaries (`COPY --from=builder
//! /app/target/release/app`, `cargo build --release && cp target/release/app /usr/local/bin/`),
//! so it is never mounted where cargo would put it. Instead the cache is mounted at a hoard-owned
//! path, announced to the step as `HOARD_CARGO_TARGET`, and a `cargo` shim on `PATH` decides per
//! invocation: for build-like subcommands it asks cargo where the target dir would be without
//! hoard (`cargo metadata --no-deps`, which honours `CARGO_TARGET_DIR`, `build.target-dir`,
//! `--manifest-path` and workspaces), builds into `$HOARD_CARGO_TARGET/<that path, flattened>`,
//! and on success copies the final artifacts (regular files directly inside the profile
//! directories, `examples/`, and `doc/` for `cargo doc`) back to the stock location. Anything it
//! does not understand (`--target-dir`, `-C`, unknown subcommands, a target dir that is already a
//! mount, no manifest) runs the real cargo untouched, i.e. builds exactly like stock.
//!
//! Why the shim sets `CARGO_TARGET_DIR` itself rather than the planner redirecting it: a
//! `Location::Redirect` on `CARGO_TARGET_DIR` would *mount the cache at the user's value* when the
//! user sets that variable (`ENV CARGO_TARGET_DIR=/out`), hiding the binaries from `COPY --from`;
//! and the shim sees the real environment of each invocation (`CARGO_TARGET_DIR=x cargo build`),
//! which the planner only approximates.
//!
//! Per-app scoping: the sub-directory key is the stock target path (`/app/target` →
//! `_app_target`), so two workspaces in different directories of one Dockerfile never share
//! artifacts. Two *different* projects built at the same path on one builder (every repo uses
//! `WORKDIR /app`) do share one directory, where cargo's mtime freshness could hand one project's
//! binary to the other when sources are older than the fingerprints (notes §0.9,
//! rust-lang/cargo#7181, #12370, tensorzero/tensorzero#1860). The shim rules that out for the
//! workspace's own packages and for every other path package (a path dependency outside the
//! workspace, a `[patch]` pointing at a directory): before every build it deletes the
//! fingerprints of the members `cargo metadata` names and of the packages without a `source` in
//! the workspace's `Cargo.lock` (without one: the packages the members' manifests reach through
//! `path` dependencies, transitively, each asked with `cargo metadata --no-deps`), so they always
//! rebuild from the sources in the step, as without hoard. Registry and git dependencies are keyed
//! by version and revision, and their extracted sources are cached with stable mtimes, so they
//! never go stale; they are what the cache keeps. Left: a `[patch]` with a path in a project
//! without a `Cargo.lock` in the build context (`cargo metadata --no-deps` does not show patches).

use crate::cache::recipe::{Aging, CacheDir, Location, Recipe, Scope, Shim, Trigger};
use crate::instructions::Sharing;

/// The subcommands that compile (into `target/`, reading registry and git sources), followed by
/// `$extra`: the one list behind [`BUILDS`] and [`USES_REGISTRY`].
macro_rules! compiling_and {
    ($($extra:literal),*) => {
        &[
            "build", "b", "check", "c", "clippy", "doc", "d", "run", "r", "test", "t", "bench",
            "rustc", "rustdoc", "install", "zigbuild", "auditable", "nextest", $($extra),*
        ]
    };
}

/// Subcommands that compile into `target/` (the shim re-checks each invocation precisely).
/// `install` is included: with `CARGO_TARGET_DIR` set, `cargo install` builds there too, which is
/// what makes the very common `COPY . . && cargo install --path .` incremental. `cook` is
/// `cargo chef cook`, which has its own trigger.
pub(super) const BUILDS: &[&str] = compiling_and!("cook");

/// Everything that reads the registry or git sources (downloads, resolution, builds).
const USES_REGISTRY: &[&str] = compiling_and!(
    "fetch",
    "vendor",
    "update",
    "generate-lockfile",
    "metadata",
    "tree",
    "package",
    "fix"
);

/// Where the target cache is mounted; the shim builds into sub-directories of it.
pub(super) const TARGET_MOUNT: &str = "/var/cache/hoard/cargo/target";

/// The `cargo` shim body (the planner prefixes its `#!/bin/sh` + `hoard_real` prelude). POSIX sh
/// (dash, busybox ash); every variable is prefixed `hoard_` so nothing collides with the prelude.
/// Kept in `shims/cargo.sh` so it can be read and checked as shell; it has no shebang of its own.
pub(super) const SHIM: &str = include_str!("shims/cargo.sh");

const fn cargo_home(
    kind: &'static str,
    sub: &'static str,
    only_for: &'static [&'static str],
    aging: Aging,
) -> CacheDir {
    CacheDir {
        kind,
        location: Location::UnderEnv {
            var: "CARGO_HOME",
            default: "~/.cargo",
            sub,
        },
        // cargo's package-cache lock lives in $CARGO_HOME itself, outside these mounts (§4.11c).
        sharing: Sharing::Locked,
        scope: Scope::USER,
        only_for,
        aging,
        ..CacheDir::NONE
    }
}

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "cargo",
    about: "Rust: registry index, .crate files and git db; target/ via a shim that copies artifacts back",
    triggers: &[
        Trigger {
            programs: &["cargo"],
            subcommands: USES_REGISTRY,
            // `+nightly` is skipped by the planner without a value.
            options_with_value: &["--color", "--config", "-Z", "-C", "--explain"],
            ..Trigger::NONE
        },
        // `cargo chef cook` builds the dependencies; `cargo chef prepare` only reads manifests.
        Trigger {
            programs: &["cargo"],
            prefix: &["chef"],
            subcommands: &["cook"],
            options_with_value: &["--color", "--config", "-Z", "-C"],
            ..Trigger::NONE
        },
        // cargo-zigbuild run directly; it calls `cargo` from PATH, i.e. the shim.
        Trigger {
            programs: &["cargo-zigbuild"],
            subcommands: &["build", "b", "check", "run", "test", "rustc", "clippy", "install"],
            ..Trigger::NONE
        },
    ],
    caches: &[
        // Aging (HOARD_CACHE_EXPORT_MAX_AGE): an index (a git repository, or the sparse
        // index's cache) and a git database are one unit each; a `.crate` is in use while its
        // extracted sources are; an extracted crate or checkout is one unit (cargo reads its
        // manifest every build but only stats its sources).
        cargo_home("registry-index", "registry/index", &[], Aging::Dirs(1)),
        cargo_home("registry-cache", "registry/cache", &[], Aging::Extracted("registry-src")),
        cargo_home("git-db", "git/db", &[], Aging::Dirs(1)),
        // Extracted sources: re-creatable, but when target/ is cached, re-extracting them makes
        // build scripts with rerun-if-changed on their own files rerun (rust-lang/cargo#10223), so
        // keep them next to the target cache (§4.11d). Not for fetch-only steps, where stock
        // behaviour (nothing extracted) is kept.
        cargo_home("registry-src", "registry/src", BUILDS, Aging::Dirs(2)),
        cargo_home("git-checkouts", "git/checkouts", BUILDS, Aging::Dirs(2)),
        CacheDir {
            kind: "target",
            // A hoard-only variable: the planner never mounts over a user's directory, and the
            // shim decides per invocation whether to use it (see the module docs).
            location: Location::Redirect { var: "HOARD_CARGO_TARGET", path: TARGET_MOUNT },
            sharing: Sharing::Locked,
            scope: Scope::PLATFORM_USER,
            only_for: BUILDS,
            aging: Aging::CargoTarget,
            ..CacheDir::NONE
        },
    ],
    shims: &[Shim { name: "cargo", script: SHIM }],
    // `cargo clean` is not one: it runs unshimmed-through (unknown subcommand) and cleans the
    // workspace's own target/, not the cache. `rm -rf $CARGO_HOME/registry` in the same step
    // is not one either: the planner mounts nothing under a directory the step deletes (it
    // would fail with EBUSY on the mount points), so that step builds as without hoard.
    defeaters: &[],
    ..Recipe::NONE
}];

#[cfg(test)]
mod tests {
    use super::super::testkit::{cache, check, detected, file, mount_at, mounts, set};
    use super::*;
    use crate::cache::planner::{plan_shell, plan_shell_with, SHIM_DIR};
    use std::path::{Path, PathBuf};
    use std::process::Command;

    #[test]
    fn data_invariants() {
        check(RECIPES);
        let r = &RECIPES[0];
        for kind in [
            "registry-index",
            "registry-cache",
            "git-db",
            "registry-src",
            "git-checkouts",
        ] {
            let c = cache(r, kind);
            assert_eq!(c.sharing, Sharing::Locked, "{kind}");
            assert!(!c.scope.platform, "{kind} is arch-neutral");
            assert!(matches!(
                c.location,
                Location::UnderEnv {
                    var: "CARGO_HOME",
                    default: "~/.cargo",
                    ..
                }
            ));
        }
        let t = cache(r, "target");
        assert_eq!(t.sharing, Sharing::Locked);
        assert!(t.scope.platform);
        assert!(t.only_for.contains(&"build") && !t.only_for.contains(&"fetch"));
        // CARGO_HOME itself (bin/, config) is never a mount.
        assert!(r
            .caches
            .iter()
            .all(|c| !matches!(c.location, Location::UnderEnv { sub: "bin", .. })));
    }

    #[test]
    fn shim_subcommands_match_only_for() {
        // Every subcommand the shim redirects is one the planner mounts the target cache for.
        let line = SHIM
            .lines()
            .find(|l| l.trim_start().starts_with("build|b|"))
            .unwrap();
        let listed = line.trim().trim_end_matches(") ;;");
        for s in listed.split('|') {
            assert!(BUILDS.contains(&s), "{s}");
        }
        for s in ["install", "cook", "auditable"] {
            assert!(BUILDS.contains(&s));
        }
    }

    #[test]
    fn spellings() {
        for cmd in [
            "cargo build --release",
            "cargo +nightly build",
            "cargo b -r",
            "cargo --locked build",
            "cargo --color always test",
            "cargo fetch",
            "cargo install --path .",
            "cargo chef cook --release --recipe-path recipe.json",
            "cargo zigbuild --release --target aarch64-unknown-linux-gnu",
            "/usr/local/cargo/bin/cargo build",
            "RUSTFLAGS=-Ctarget-cpu=native cargo build",
            "cargo-zigbuild build --release",
        ] {
            assert!(detected(&plan_shell(cmd), "cargo"), "{cmd}");
        }
        for cmd in [
            "cargo --version",
            "cargo new app",
            "cargo fmt --check",
            "rustup target add x",
            // Reads the manifests and writes recipe.json: downloads nothing.
            "cargo chef prepare --recipe-path recipe.json",
            "cargo chef --version",
        ] {
            assert!(!detected(&plan_shell(cmd), "cargo"), "{cmd}");
        }
    }

    #[test]
    fn plans_registry_and_target_for_a_build() {
        let p = plan_shell_with(
            "cargo build --release",
            &[("CARGO_HOME", "/usr/local/cargo")],
            0,
            "/root",
        );
        let (id, sharing) = mount_at(&p, "/usr/local/cargo/registry/index");
        assert_eq!(
            (id.as_str(), sharing),
            ("hoard/cargo/registry-index", Sharing::Locked)
        );
        assert_eq!(
            mount_at(&p, "/usr/local/cargo/registry/cache").0,
            "hoard/cargo/registry-cache"
        );
        assert_eq!(
            mount_at(&p, "/usr/local/cargo/git/db").0,
            "hoard/cargo/git-db"
        );
        assert_eq!(
            mount_at(&p, "/usr/local/cargo/registry/src").0,
            "hoard/cargo/registry-src"
        );
        assert_eq!(
            mount_at(&p, "/usr/local/cargo/git/checkouts").0,
            "hoard/cargo/git-checkouts"
        );
        assert_eq!(
            mount_at(&p, TARGET_MOUNT),
            ("hoard/cargo/target/linux-amd64".into(), Sharing::Locked)
        );
        assert_eq!(set(&p, "HOARD_CARGO_TARGET").as_deref(), Some(TARGET_MOUNT));
        assert_eq!(
            set(&p, "CARGO_TARGET_DIR"),
            None,
            "the shim decides, per invocation"
        );
        assert!(set(&p, "PATH").unwrap().starts_with(SHIM_DIR));
        assert!(file(&p, &format!("{SHIM_DIR}/cargo")).is_some());
        // Nothing mounted over CARGO_HOME itself or its bin/.
        assert!(mounts(&p, "cargo")
            .iter()
            .all(|m| !m.0.ends_with("/bin") && m.0 != "/usr/local/cargo"));
    }

    #[test]
    fn fetch_only_keeps_stock_behaviour_for_sources_and_target() {
        let p = plan_shell("cargo fetch");
        let targets: Vec<String> = mounts(&p, "cargo").into_iter().map(|m| m.0).collect();
        assert_eq!(
            targets,
            [
                "/root/.cargo/registry/index",
                "/root/.cargo/registry/cache",
                "/root/.cargo/git/db"
            ]
        );
        assert_eq!(set(&p, "HOARD_CARGO_TARGET"), None);
        // fetch then build in one step: everything.
        let p = plan_shell("cargo fetch --locked && cargo build --release --offline");
        assert_eq!(mounts(&p, "cargo").len(), 6);
    }

    #[test]
    fn non_root_ids_and_owners() {
        let p = plan_shell_with("cargo build", &[], 1000, "/home/app");
        let m = mounts(&p, "cargo");
        assert!(
            m.iter()
                .all(|(_, id, _, uid)| id.ends_with("/u1000") && *uid == 1000),
            "{m:?}"
        );
        assert_eq!(
            mount_at(&p, "/home/app/.cargo/registry/index").0,
            "hoard/cargo/registry-index/u1000"
        );
        assert_eq!(
            mount_at(&p, TARGET_MOUNT).0,
            "hoard/cargo/target/linux-amd64/u1000"
        );
    }

    #[test]
    fn zigbuild_brings_the_zig_caches() {
        let p = plan_shell("cargo zigbuild --release --target x86_64-unknown-linux-musl");
        for tool in ["cargo", "zig", "cargo-zigbuild"] {
            assert!(detected(&p, tool), "{tool}");
        }
        assert!(
            set(&p, "ZIG_GLOBAL_CACHE_DIR").is_some() && set(&p, "HOARD_CARGO_TARGET").is_some()
        );
    }

    // ---- the shim, for real, under /bin/sh ----

    /// The shim exactly as the planner mounts it for a cargo build step.
    fn planned_shim() -> String {
        let p = crate::cache::planner::plan_shell("cargo build --release");
        let script = file(&p, &format!("{}/cargo", crate::cache::planner::SHIM_DIR))
            .expect("cargo shim planned");
        assert!(script.starts_with("#!/bin/sh\n") && script.ends_with(SHIM));
        script
    }

    /// A fake cargo: answers `metadata` like cargo (honouring CARGO_TARGET_DIR), otherwise logs
    /// its arguments and environment and writes a plausible target tree.
    const FAKE_CARGO: &str = r#"#!/bin/sh
for a in "$@"; do
  if [ "$a" = metadata ]; then
    m= prev=
    for b in "$@"; do [ "$prev" = --manifest-path ] && m=${b%/Cargo.toml}; prev=$b; done
    echo "${m:-$PWD}" >> "$FAKE_LOG.meta"
    if [ -n "$m" ] && [ "$m" != "$PWD" ]; then
      cat "$m/meta.json" 2>/dev/null || exit 101
      exit 0
    fi
    printf '{"packages":[%s],"workspace_members":[%s],"target_directory":"%s","version":1,"workspace_root":"%s"}\n' "${FAKE_PACKAGES:-}" "${FAKE_MEMBERS:-}" "${CARGO_TARGET_DIR:-$PWD/target}" "$PWD"
    exit 0
  fi
done
printf '%s\n' "$@" > "$FAKE_LOG"
printf '%s\n' "${CARGO_TARGET_DIR:-<unset>}" > "$FAKE_LOG.dir"
d=${CARGO_TARGET_DIR:-$PWD/target}
mkdir -p "$d/release/deps" "$d/release/examples" "$d/debug" "$d/x86_64-unknown-linux-musl/release" "$d/doc/app"
: > "$d/release/.cargo-lock"
: > "$d/debug/.cargo-lock"
echo app > "$d/release/app"
echo lib > "$d/release/libapp.rlib"
echo dep > "$d/release/deps/x"
echo ex > "$d/release/examples/demo"
echo dbg > "$d/debug/app"
echo musl > "$d/x86_64-unknown-linux-musl/release/app"
echo html > "$d/doc/app/index.html"
exit "${FAKE_STATUS:-0}"
"#;

    struct Sandbox {
        root: PathBuf,
    }

    impl Sandbox {
        fn new(name: &str) -> Sandbox {
            let root = std::env::temp_dir()
                .join(format!("hoard-cargo-shim-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            for d in ["shims", "bin", "cache", "ws"] {
                std::fs::create_dir_all(root.join(d)).unwrap();
            }
            use std::os::unix::fs::PermissionsExt;
            let shim = root.join("shims/cargo");
            std::fs::write(&shim, planned_shim()).unwrap();
            std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
            let fake = root.join("bin/cargo");
            std::fs::write(&fake, FAKE_CARGO).unwrap();
            std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
            Sandbox { root }
        }

        fn p(&self, rel: &str) -> PathBuf {
            self.root.join(rel)
        }

        /// Run `cargo ARGS` through the shim under /bin/sh in `ws/`, with HOARD_CARGO_TARGET set
        /// to `cache/` unless `env` overrides it.
        fn run(&self, args: &[&str], env: &[(&str, &str)]) -> i32 {
            let mut cmd = Command::new("/bin/sh");
            cmd.arg(self.p("shims/cargo"))
                .args(args)
                .current_dir(self.p("ws"));
            cmd.env_clear()
                // As in a step: the shim dir first (the prelude skips it), then the real tools.
                .env(
                    "PATH",
                    format!(
                        "{}:{}:/usr/bin:/bin",
                        crate::cache::planner::SHIM_DIR,
                        self.p("bin").display()
                    ),
                )
                .env("FAKE_LOG", self.p("log"))
                .env("HOARD_CARGO_TARGET", self.p("cache"));
            for (k, v) in env {
                if v.is_empty() {
                    cmd.env_remove(k);
                } else {
                    cmd.env(k, v);
                }
            }
            let out = cmd.output().unwrap();
            if !out.stderr.is_empty() {
                eprintln!("{}", String::from_utf8_lossy(&out.stderr));
            }
            out.status.code().unwrap_or(-1)
        }

        fn built_in(&self) -> String {
            std::fs::read_to_string(self.p("log.dir"))
                .unwrap()
                .trim()
                .to_string()
        }

        fn args(&self) -> Vec<String> {
            std::fs::read_to_string(self.p("log"))
                .unwrap()
                .lines()
                .map(String::from)
                .collect()
        }

        /// The cache sub-directory the shim uses for the stock target dir `stock`.
        fn cache_dir(&self, stock: &Path) -> PathBuf {
            let key: String = stock
                .to_str()
                .unwrap()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "._-".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            self.p("cache").join(key)
        }
    }

    impl Drop for Sandbox {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    #[test]
    fn shim_builds_in_cache_and_copies_final_artifacts() {
        let s = Sandbox::new("release");
        assert_eq!(s.run(&["build", "--release"], &[]), 0);
        let cache = s.cache_dir(&s.p("ws/target"));
        assert_eq!(s.built_in(), cache.display().to_string());
        assert!(
            cache.join("release/deps/x").is_file(),
            "the build went to the cache"
        );
        assert_eq!(
            std::fs::read_to_string(s.p("ws/target/release/app")).unwrap(),
            "app\n"
        );
        assert!(s.p("ws/target/release/libapp.rlib").is_file());
        assert!(s.p("ws/target/release/examples/demo").is_file());
        assert!(
            !s.p("ws/target/release/deps").exists(),
            "deps/ stays in the cache"
        );
        assert!(!s.p("ws/target/release/.cargo-lock").exists());
        assert!(
            !s.p("ws/target/debug").exists(),
            "only the profile that was built"
        );
        // No --target: triple dirs of the same profile come along (a config `build.target`).
        assert!(s
            .p("ws/target/x86_64-unknown-linux-musl/release/app")
            .is_file());
        assert!(!s.p("ws/target/doc").exists());
    }

    #[test]
    fn shim_propagates_failure_without_copying() {
        let s = Sandbox::new("fail");
        assert_eq!(s.run(&["build", "--release"], &[("FAKE_STATUS", "3")]), 3);
        assert!(!s.p("ws/target").exists());
    }

    #[test]
    fn shim_passes_arguments_verbatim() {
        let s = Sandbox::new("args");
        let args = [
            "+nightly",
            "b",
            "-r",
            "--features",
            "a b",
            "--",
            "it's \"quoted\"",
            "$HOME",
            "*",
        ];
        assert_eq!(s.run(&args, &[]), 0);
        assert_eq!(s.args(), args);
        // `-r` after `+nightly b` selects release; nothing after `--` counts.
        assert!(s.p("ws/target/release/app").is_file());
    }

    #[test]
    fn shim_profiles_and_targets() {
        let s = Sandbox::new("debug");
        assert_eq!(s.run(&["build"], &[]), 0);
        assert!(s.p("ws/target/debug/app").is_file());
        assert!(!s.p("ws/target/release").exists());

        let s = Sandbox::new("profile");
        assert_eq!(s.run(&["test", "--profile=bench", "--no-run"], &[]), 0);
        assert!(s.p("ws/target/release/app").is_file());

        let s = Sandbox::new("triple");
        let args = [
            "zigbuild",
            "--release",
            "--target",
            "x86_64-unknown-linux-musl.2.17",
        ];
        assert_eq!(s.run(&args, &[]), 0);
        assert!(s
            .p("ws/target/x86_64-unknown-linux-musl/release/app")
            .is_file());
        assert!(
            !s.p("ws/target/release").exists(),
            "with --target, host artifacts are not products"
        );

        let s = Sandbox::new("doc");
        assert_eq!(s.run(&["doc", "--no-deps"], &[]), 0);
        assert!(s.p("ws/target/doc/app/index.html").is_file());
    }

    #[test]
    fn shim_honours_the_users_target_dir_variable() {
        let s = Sandbox::new("userdir");
        let out = s.p("out");
        assert_eq!(
            s.run(
                &["build", "--release"],
                &[("CARGO_TARGET_DIR", out.to_str().unwrap())]
            ),
            0
        );
        assert_eq!(s.built_in(), s.cache_dir(&out).display().to_string());
        assert!(
            out.join("release/app").is_file(),
            "products land where the user's variable says"
        );
        assert!(!s.p("ws/target").exists());
    }

    #[test]
    fn shim_leaves_other_invocations_alone() {
        // --target-dir on the command line: stock behaviour.
        let s = Sandbox::new("tdir");
        assert_eq!(s.run(&["build", "--target-dir", "elsewhere"], &[]), 0);
        assert_eq!(s.built_in(), "<unset>");
        assert!(std::fs::read_dir(s.p("cache")).unwrap().next().is_none());
        // Not set up by the planner: nothing happens.
        let s = Sandbox::new("nohoard");
        assert_eq!(s.run(&["build"], &[("HOARD_CARGO_TARGET", "")]), 0);
        assert_eq!(s.built_in(), "<unset>");
        // Nested (cargo-chef / cargo-zigbuild calling cargo from PATH): the outer shim decided.
        let s = Sandbox::new("nested");
        assert_eq!(s.run(&["build"], &[("HOARD_CARGO_ACTIVE", "1")]), 0);
        assert_eq!(s.built_in(), "<unset>");
        // Not a build: fetch, unknown subcommands, `chef prepare`.
        for args in [&["fetch"][..], &["leptos", "build"], &["chef", "prepare"]] {
            let s = Sandbox::new("other");
            assert_eq!(s.run(args, &[]), 0);
            assert_eq!(s.built_in(), "<unset>", "{args:?}");
        }
        // Failure passes through unchanged.
        let s = Sandbox::new("otherfail");
        assert_eq!(s.run(&["fetch"], &[("FAKE_STATUS", "101")]), 101);
    }

    #[test]
    fn shim_caches_install_but_copies_only_for_path_installs() {
        let s = Sandbox::new("install");
        assert_eq!(s.run(&["install", "ripgrep"], &[]), 0);
        assert!(s.built_in().starts_with(s.p("cache").to_str().unwrap()));
        assert!(
            !s.p("ws/target").exists(),
            "a registry install has no target/ in stock either"
        );

        let s = Sandbox::new("installpath");
        assert_eq!(s.run(&["install", "--path", "."], &[]), 0);
        assert!(s.p("ws/target/release/app").is_file());

        let s = Sandbox::new("cook");
        assert_eq!(
            s.run(
                &["chef", "cook", "--release", "--recipe-path", "recipe.json"],
                &[]
            ),
            0
        );
        assert!(s.built_in().starts_with(s.p("cache").to_str().unwrap()));
        assert!(
            !s.p("ws/target").exists(),
            "cook builds dependencies only; nothing to copy"
        );
    }

    #[test]
    fn shim_without_a_manifest_runs_cargo_untouched() {
        let s = Sandbox::new("nomanifest");
        // The fake answers metadata with a relative path here: treated as unknown.
        let fake = s.p("bin/cargo");
        let text = std::fs::read_to_string(&fake)
            .unwrap()
            .replace("${CARGO_TARGET_DIR:-$PWD/target}", "rel/target");
        std::fs::write(&fake, text).unwrap();
        assert_eq!(s.run(&["build"], &[]), 0);
        assert_eq!(s.built_in(), "<unset>");
    }

    #[test]
    fn workspace_fingerprints_are_dropped_so_old_sources_rebuild() {
        let sb = Sandbox::new("fingerprints");
        let stock = sb.p("ws/target");
        let cache = sb.cache_dir(&stock);
        let mut fps = Vec::new();
        for d in [
            "release/.fingerprint/demo-1a2b",
            "release/.fingerprint/util-3c4d",
            "release/.fingerprint/serde-5e6f",
            "x86_64-unknown-linux-musl/release/.fingerprint/demo-7a8b",
        ] {
            std::fs::create_dir_all(cache.join(d)).unwrap();
            fps.push(cache.join(d));
        }
        // Both member spellings: old cargo's `name version (source)` and new cargo's ids.
        let members = format!(
            r#""demo 0.1.0 (path+file://{ws})","path+file://{ws}/util#0.2.0""#,
            ws = sb.p("ws").display()
        );
        assert_eq!(
            sb.run(&["build", "--release"], &[("FAKE_MEMBERS", &members)]),
            0
        );
        assert!(
            !fps[0].exists() && !fps[1].exists() && !fps[3].exists(),
            "members must rebuild"
        );
        assert!(fps[2].exists(), "dependencies stay cached");
        let members = r#""path+file:///elsewhere#renamed@1.0.0""#;
        std::fs::create_dir_all(cache.join("release/.fingerprint/renamed-9")).unwrap();
        assert_eq!(
            sb.run(&["build", "--release"], &[("FAKE_MEMBERS", members)]),
            0
        );
        assert!(!cache.join("release/.fingerprint/renamed-9").exists());
        assert!(fps[2].exists());
    }

    #[test]
    fn path_dependency_fingerprints_are_dropped_registry_ones_kept() {
        let sb = Sandbox::new("pathdeps");
        let cache = sb.cache_dir(&sb.p("ws/target"));
        // Every unit keeps its fingerprint by dep-info mtime (`CheckDepInfo`), registry ones too;
        // what tells a path package apart is its Cargo.lock entry without a `source`.
        std::fs::write(
            sb.p("ws/Cargo.lock"),
            "# This file is automatically @generated by Cargo.\nversion = 3\n\n\
             [[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"serde\",\n \"sibling\",\n]\n\n\
             [[package]]\nname = \"serde\"\nversion = \"1.0.200\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"ab\"\n\n\
             [[package]]\nname = \"sibling\"\nversion = \"0.3.0\"\n",
        )
        .unwrap();
        let dirs = [
            "release/.fingerprint/sibling-11",
            "x86_64-unknown-linux-musl/release/.fingerprint/sibling-33",
            "release/.fingerprint/serde-44",
            "release/.fingerprint/serde_json-55",
        ];
        for d in dirs {
            std::fs::create_dir_all(cache.join(d)).unwrap();
        }
        assert_eq!(sb.run(&["build", "--release"], &[]), 0);
        for d in &dirs[..2] {
            assert!(!cache.join(d).exists(), "{d}: a path package must rebuild");
        }
        for d in &dirs[2..] {
            assert!(cache.join(d).exists(), "{d}: registry packages stay cached");
        }
    }
    #[test]
    fn without_a_lockfile_path_dependencies_are_followed_from_the_manifests() {
        let sb = Sandbox::new("nolock");
        let cache = sb.cache_dir(&sb.p("ws/target"));
        let (ws, root) = (
            sb.p("ws").display().to_string(),
            sb.root.display().to_string(),
        );
        // ws: members app and util; app needs ../words (outside), util (a member) and serde.
        let packages = format!(
            r#"{{"name":"app","manifest_path":"{ws}/Cargo.toml","dependencies":[{{"name":"words","source":null,"path":"{root}/words"}},{{"name":"util","source":null,"path":"{ws}/util"}},{{"name":"serde","source":"registry+https://github.com/rust-lang/crates.io-index"}}],"targets":[{{"src_path":"{ws}/src/main.rs"}}]}},{{"name":"util","manifest_path":"{ws}/util/Cargo.toml","dependencies":[]}}"#
        );
        let members = format!(r#""path+file://{ws}#app@0.1.0","path+file://{ws}/util#0.1.0""#);
        // words (its own workspace) needs ../deep, and points back at util.
        for (dir, name, deps) in [
            (
                "words",
                "words",
                format!(
                    r#"{{"name":"deep","path":"{root}/deep"}},{{"name":"util","path":"{ws}/util"}}"#
                ),
            ),
            ("deep", "deep", String::new()),
        ] {
            std::fs::create_dir_all(sb.p(dir)).unwrap();
            std::fs::write(
                sb.p(&format!("{dir}/meta.json")),
                format!(
                    r#"{{"packages":[{{"name":"{name}","manifest_path":"{root}/{dir}/Cargo.toml","dependencies":[{deps}]}}],"workspace_members":["path+file://{root}/{dir}#0.1.0"],"target_directory":"{root}/{dir}/target","version":1,"workspace_root":"{root}/{dir}"}}"#
                ),
            )
            .unwrap();
        }
        let dirs = ["app-1", "util-2", "words-3", "deep-4", "serde-5"];
        for d in dirs {
            std::fs::create_dir_all(cache.join("release/.fingerprint").join(d)).unwrap();
        }
        assert_eq!(
            sb.run(
                &["build", "--release"],
                &[("FAKE_PACKAGES", &packages), ("FAKE_MEMBERS", &members)]
            ),
            0
        );
        for d in &dirs[..4] {
            assert!(
                !cache.join("release/.fingerprint").join(d).exists(),
                "{d}: a path package must rebuild"
            );
        }
        assert!(
            cache.join("release/.fingerprint/serde-5").exists(),
            "registry packages stay cached"
        );
        // One question per package outside the workspace, none for members or visited ones.
        let asked = std::fs::read_to_string(sb.p("log.meta")).unwrap();
        assert_eq!(
            asked.lines().collect::<Vec<_>>(),
            [ws.clone(), format!("{root}/words"), format!("{root}/deep")]
        );

        // With a Cargo.lock, it alone names the path packages: no further questions.
        std::fs::write(
            sb.p("ws/Cargo.lock"),
            "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n",
        )
        .unwrap();
        std::fs::remove_file(sb.p("log.meta")).unwrap();
        assert_eq!(
            sb.run(
                &["build", "--release"],
                &[("FAKE_PACKAGES", &packages), ("FAKE_MEMBERS", &members)]
            ),
            0
        );
        assert_eq!(
            std::fs::read_to_string(sb.p("log.meta"))
                .unwrap()
                .lines()
                .count(),
            1
        );
    }
}
