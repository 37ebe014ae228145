//! apk (Alpine). Notes §4.8.
//!
//! Design:
//! - The cache mount is at `/etc/apk/cache`, apk's default cache path (deviation from the
//!   brief's `--cache-dir /var/cache/apk`): when that path opens as a directory apk uses it as
//!   an *active* cache for indexes and packages (apk-tools v2 `apk_db_open`:
//!   `openat(root, "etc/apk/cache")` succeeds → `db->cache_dir` is it and `apk_db_cache_active`
//!   is true; v3 `setup_cache`: the same and `cache_packages = 1`). So every apk invocation
//!   caches without adding `--cache-dir`, and the ubiquitous `rm -rf /var/cache/apk/*` (or
//!   `rm -rf /var/cache/apk`, EBUSY on a mount point) only touches the image's static cache
//!   dir, as without hoard. apk refuses a cache on tmpfs; a cache mount is not one.
//! - `--no-cache` ("do not use any local cache path") is replaced by `--update-cache`: the
//!   cache is used and the indexes are fetched fresh, which is what `--no-cache` amounted to.
//! - A PATH shim adds `--update-cache` to every call: without it apk reuses a cached index up to
//!   4 h old (`cache_max_age`), which may name package versions the mirror has already dropped
//!   (Alpine keeps one version per branch) and differ from what a cache-less stock build
//!   resolves. Indexes are small; the packages are what the cache saves.
//! - Sharing `locked`: apk's database lock (`/lib/apk/db/lock`) is in the image, not the mount.
//!   Ids per platform and base image.

use crate::cache::recipe::{CacheDir, Defeater, FlagEdit, Location, Recipe, Scope, Shim, Trigger};
use crate::instructions::Sharing;

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "apk",
    about:
        "Alpine packages and indexes in apk's own cache dir (/etc/apk/cache), kept out of the image",
    triggers: &[Trigger {
        programs: &["apk"],
        // Everything that downloads or reads indexes; not `cache` (`apk cache clean` alone in a
        // step must not empty hoard's cache).
        subcommands: &[
            "add", "del", "upgrade", "update", "fetch", "fix", "search", "info", "policy", "list",
            "version", "dot",
        ],
        options_with_value: &[
            "-X",
            "--repository",
            "-p",
            "--root",
            "--arch",
            "--cache-dir",
            "--cache-max-age",
            "--keys-dir",
            "--repositories-file",
            "--progress-fd",
            "--wait",
            "--timeout",
            "--from",
        ],
        ..Trigger::NONE
    }],
    caches: &[CacheDir {
        kind: "cache",
        location: Location::Fixed("/etc/apk/cache"),
        sharing: Sharing::Locked,
        scope: Scope::DISTRO_PLATFORM,
        ..CacheDir::NONE
    }],
    shims: &[Shim {
        name: "apk",
        script: "hoard_real apk --update-cache \"$@\"\nexit $?\n",
    }],
    flag_edits: &[FlagEdit {
        flag: "--no-cache",
        replace: Some("--update-cache"),
    }],
    defeaters: &[
        Defeater::Command {
            program: "apk",
            args: &["cache", "clean"],
        },
        Defeater::Command {
            program: "apk",
            args: &["cache", "purge"],
        },
        Defeater::Command {
            program: "rm",
            args: &["/etc/apk/cache/*"],
        },
    ],
    root_only: true,
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
        assert_sharing(RECIPES, Sharing::Locked);
        // The static fallback dir users wipe is never the mount.
        assert!(RECIPES[0]
            .caches
            .iter()
            .all(|c| !matches!(c.location, Location::Fixed(p) if p.starts_with("/var/cache/apk"))));
    }

    #[test]
    fn shim_refreshes_indexes() {
        let s = &RECIPES[0].shims[0];
        assert_eq!(
            run_shim(s.script, "apk", &["add", "curl"]),
            "--update-cache add curl"
        );
    }

    #[test]
    fn no_cache_becomes_update_cache() {
        let p = plan_shell("apk add --no-cache curl git && rm -rf /var/cache/apk/*");
        assert!(detected(&p, "apk"));
        assert_eq!(
            p.script.as_deref(),
            Some("apk add --update-cache curl git && rm -rf /var/cache/apk/*")
        );
        let c = mounts(&p, "apk");
        assert_eq!(
            c,
            vec![(
                "/etc/apk/cache".into(),
                "hoard/apk/cache/linux-amd64/debian-bookworm".into(),
                Sharing::Locked,
                0
            )]
        );
    }

    #[test]
    fn spellings() {
        for cmd in [
            "apk add curl",
            "apk --no-cache add curl",
            "apk -U upgrade",
            "apk update",
            "/sbin/apk add --virtual .deps gcc",
        ] {
            assert!(detected(&plan_shell(cmd), "apk"), "{cmd}");
        }
        assert!(!detected(&plan_shell("apk cache clean"), "apk"));
    }
}
