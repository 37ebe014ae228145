//! The rpm family: dnf (4), dnf5, yum (dnf's alias on EL8+, yum 3 on EL7), microdnf, tdnf.
//! Notes §4.9.
//!
//! One recipe for all of them (one cache dir, one id per base image: an image has one of these
//! tools doing the work, and the id is distro-scoped anyway).
//!
//! Design:
//! - The tools' default cache dirs differ (`/var/cache/dnf`, `/var/cache/libdnf5`,
//!   `/var/cache/yum` for yum 3 and microdnf, `/var/cache/tdnf`) and are what Dockerfiles
//!   `rm -rf` after `dnf clean all` (a mount point there makes `rm -rf /var/cache/yum` fail with
//!   EBUSY). So the cache is mounted at a hoard path and each tool is pointed at it by a PATH
//!   shim adding `--setopt` options (deviation from the notes' fixed mounts at the defaults):
//!   `cachedir` and `system_cachedir` (dnf 4 and dnf5 use `system_cachedir` for root; dnf 4 and
//!   yum 3 only warn about an option they do not know), `keepcache=1` (downloaded rpms are
//!   otherwise deleted after the transaction; default False everywhere) and
//!   `metadata_expire=0` (repo metadata is re-validated every run — a `repomd.xml` round trip,
//!   the bulky metadata is only fetched when it changed — instead of trusting a cache up to
//!   48 h old that may name rpms the mirror dropped; a stock build has no cached metadata).
//!   tdnf gets `cachedir` and `keepcache` only (both read from `--setopt`; tdnf's
//!   `metadata_expire` handling was not verified).
//! - `clean` in the same step (`dnf clean all`) runs without those options, i.e. on the image's
//!   default dir exactly as without hoard, and the cache survives.
//! - A call by absolute path (`/usr/bin/dnf`) bypasses the shim: the tool then uses its default
//!   dir in the image, as without hoard (no caching, nothing broken).
//! - Sharing `locked` (the rpm/dnf locks are in the image, not in the mount). Ids per platform
//!   and base image (metadata and rpms are per release and arch).

use crate::cache::recipe::{CacheDir, Location, Recipe, Scope, Shim, Trigger};
use crate::instructions::Sharing;

/// Where the cache is mounted and every tool is pointed.
pub(super) const CACHE: &str = "/var/cache/hoard/dnf";

macro_rules! libdnf_shim {
    ($name:literal) => {
        Shim {
            name: $name,
            script: concat!(
                "case \" $* \" in\n",
                "  *\" clean \"*) hoard_real ",
                $name,
                " \"$@\" ;;\n",
                "  *) hoard_real ",
                $name,
                " --setopt=cachedir=/var/cache/hoard/dnf --setopt=system_cachedir=/var/cache/hoard/dnf",
                " --setopt=keepcache=1 --setopt=metadata_expire=0 \"$@\" ;;\n",
                "esac\n",
                "exit $?\n"
            ),
        }
    };
}

/// Subcommands that download or read repository metadata (dnf 4/5 and yum spellings and
/// aliases). Not `clean`: a `RUN dnf clean all` of its own must not empty hoard's cache.
const SUBCOMMANDS: &[&str] = &[
    "install",
    "in",
    "localinstall",
    "reinstall",
    "rei",
    "upgrade",
    "up",
    "update",
    "upgrade-minimal",
    "update-minimal",
    "downgrade",
    "distro-sync",
    "dsync",
    "distribution-synchronization",
    "swap",
    "makecache",
    "mc",
    "builddep",
    "build-dep",
    "download",
    "group",
    "groupinstall",
    "groupupdate",
    "module",
    "check-update",
    "check-upgrade",
    "info",
    "list",
    "search",
    "provides",
    "whatprovides",
    "repoquery",
    "rq",
    "advisory",
    "updateinfo",
    "remove",
    "erase",
    "autoremove",
];

/// Global options that take a separate value word.
const OPTS: &[&str] = &[
    "-c",
    "--config",
    "--installroot",
    "--releasever",
    "--setopt",
    "--repo",
    "--repoid",
    "--enablerepo",
    "--disablerepo",
    "-x",
    "--exclude",
    "--forcearch",
    "-d",
    "--debuglevel",
    "-e",
    "--errorlevel",
    "--use-host-config",
];

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "dnf",
    about: "rpm repositories (dnf, dnf5, yum, microdnf, tdnf): metadata and downloaded rpms, kept out of the image",
    triggers: &[Trigger {
        programs: &["dnf", "dnf-3", "dnf4", "dnf5", "yum", "microdnf", "tdnf"],
        subcommands: SUBCOMMANDS,
        options_with_value: OPTS,
        ..Trigger::NONE
    }],
    caches: &[CacheDir {
        kind: "cache",
        location: Location::Fixed(CACHE),
        sharing: Sharing::Locked,
        scope: Scope::DISTRO_PLATFORM,
        ..CacheDir::NONE
    }],
    shims: &[
        libdnf_shim!("dnf"),
        libdnf_shim!("dnf-3"),
        libdnf_shim!("dnf4"),
        libdnf_shim!("dnf5"),
        libdnf_shim!("yum"),
        libdnf_shim!("microdnf"),
        Shim {
            name: "tdnf",
            script: "case \" $* \" in\n  *\" clean \"*) hoard_real tdnf \"$@\" ;;\n  *) hoard_real tdnf --setopt=cachedir=/var/cache/hoard/dnf --setopt=keepcache=1 \"$@\" ;;\nesac\nexit $?\n",
        },
    ],
    // `clean` is handled by the shims (it cleans the image's default dir, not the cache).
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
        for s in RECIPES[0].shims {
            assert!(
                s.script.contains(&format!("--setopt=cachedir={CACHE} ")),
                "{}",
                s.name
            );
            assert!(s.script.contains("--setopt=keepcache=1"), "{}", s.name);
        }
    }

    #[test]
    fn shims_point_at_the_cache_except_for_clean() {
        for s in RECIPES[0].shims {
            let out = run_shim(s.script, s.name, &["-y", "install", "gcc"]);
            assert!(
                out.starts_with(&format!("--setopt=cachedir={CACHE} ")),
                "{out}"
            );
            assert!(out.ends_with(" -y install gcc"), "{out}");
            assert_eq!(run_shim(s.script, s.name, &["clean", "all"]), "clean all");
        }
    }

    #[test]
    fn plans_one_locked_cache() {
        let p = plan_shell("dnf -y install gcc && dnf clean all && rm -rf /var/cache/dnf");
        assert!(detected(&p, "dnf"));
        assert_eq!(
            mounts(&p, "dnf"),
            vec![(
                CACHE.to_string(),
                "hoard/dnf/cache/linux-amd64/debian-bookworm".to_string(),
                Sharing::Locked,
                0
            )]
        );
        assert!(set(&p, "PATH").is_some_and(|v| v.starts_with("/run/hoard/shims:")));
    }

    #[test]
    fn spellings() {
        for cmd in [
            "dnf -y install gcc",
            "dnf install -y --setopt=install_weak_deps=False gcc",
            "dnf --setopt tsflags=nodocs install -y gcc",
            "dnf5 install -y gcc",
            "yum install -y gcc",
            "yum -y update",
            "microdnf install -y gcc",
            "tdnf install -y gcc",
            "dnf makecache",
        ] {
            assert!(detected(&plan_shell(cmd), "dnf"), "{cmd}");
        }
        for cmd in ["dnf clean all", "yum clean all", "rpm -i x.rpm"] {
            assert!(!detected(&plan_shell(cmd), "dnf"), "{cmd}");
        }
    }
}
