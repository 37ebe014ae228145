//! zypper (openSUSE, SLE, SLE BCI). Notes §4.10.
//!
//! Design:
//! - The cache (raw metadata, pre-parsed `.solv` files, downloaded rpms) is mounted at a hoard
//!   path and zypper is pointed at it by a PATH shim adding the global `--cache-dir` option
//!   (deviation from the notes' fixed mount at `/var/cache/zypp`: Dockerfiles
//!   `rm -rf /var/cache/zypp` after `zypper clean -a`, which fails with EBUSY on a mount point).
//!   `clean`/`cc` in the same step runs without the option, on the image's default dir exactly
//!   as without hoard. A call by absolute path bypasses the shim and simply does not cache.
//! - The metadata refresh is what this saves; rpms are kept only for repositories with
//!   `keeppackages` set (a repo property in `/etc/zypp/repos.d`, which is image content and is
//!   not touched). NEEDS: a way to keep rpms without editing the image's repo files (zypper has
//!   no per-command keep-packages switch; `ZYPP_CONF` would replace the image's whole zypp.conf).
//! - `solv/@System` (the installed-system solv cache) lands in the cache too; libzypp rebuilds it
//!   when the rpmdb cookie differs, so sharing it between images is harmless.
//! - Sharing `locked` (zypp's lock `/run/zypp.pid` is per container). Ids per platform and base
//!   image.

use crate::cache::recipe::{CacheDir, Location, Recipe, Scope, Shim, Trigger};
use crate::instructions::Sharing;

pub(super) const CACHE: &str = "/var/cache/hoard/zypp";

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "zypper",
    about: "openSUSE/SLE repositories: raw and solv metadata (and rpms for keeppackages repos), kept out of the image",
    triggers: &[Trigger {
        programs: &["zypper"],
        // Everything that refreshes or reads repository metadata; not clean/cc.
        subcommands: &[
            "in",
            "install",
            "rm",
            "remove",
            "ref",
            "refresh",
            "up",
            "update",
            "dup",
            "dist-upgrade",
            "patch",
            "si",
            "source-install",
            "inr",
            "install-new-recommends",
            "download",
            "se",
            "search",
            "if",
            "info",
            "lu",
            "list-updates",
            "lp",
            "list-patches",
            "wp",
            "what-provides",
            "ve",
            "verify",
        ],
        options_with_value: &[
            "-R",
            "--root",
            "-c",
            "--config",
            "-C",
            "--cache-dir",
            "--raw-cache-dir",
            "--solv-cache-dir",
            "--pkg-cache-dir",
            "-D",
            "--reposd-dir",
            "--releasever",
            "--userdata",
            "-p",
            "--plus-repo",
            "--installroot",
        ],
        ..Trigger::NONE
    }],
    caches: &[CacheDir {
        kind: "cache",
        location: Location::Fixed(CACHE),
        sharing: Sharing::Locked,
        scope: Scope::DISTRO_PLATFORM,
        ..CacheDir::NONE
    }],
    shims: &[Shim {
        name: "zypper",
        script: "case \" $* \" in\n  *\" clean \"*|*\" cc \"*) hoard_real zypper \"$@\" ;;\n  *) hoard_real zypper --cache-dir /var/cache/hoard/zypp \"$@\" ;;\nesac\nexit $?\n",
    }],
    // `zypper clean` is handled by the shim.
    defeaters: &[],
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
        assert!(RECIPES[0].shims[0]
            .script
            .contains(&format!("--cache-dir {CACHE} ")));
    }

    #[test]
    fn shim() {
        let s = &RECIPES[0].shims[0];
        assert_eq!(
            run_shim(s.script, "zypper", &["-n", "in", "gcc"]),
            format!("--cache-dir {CACHE} -n in gcc")
        );
        assert_eq!(run_shim(s.script, "zypper", &["clean", "-a"]), "clean -a");
        assert_eq!(run_shim(s.script, "zypper", &["cc", "-a"]), "cc -a");
    }

    #[test]
    fn plans_one_locked_cache() {
        for cmd in [
            "zypper -n in gcc",
            "zypper --non-interactive install -y gcc",
            "zypper ref",
            "zypper -n --gpg-auto-import-keys refresh",
        ] {
            let p = plan_shell(cmd);
            assert_eq!(
                mounts(&p, "zypper"),
                vec![(
                    CACHE.to_string(),
                    "hoard/zypper/cache/linux-amd64/debian-bookworm".to_string(),
                    Sharing::Locked,
                    0
                )],
                "{cmd}"
            );
        }
        assert!(!detected(&plan_shell("zypper clean -a"), "zypper"));
    }
}
