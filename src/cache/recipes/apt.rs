//! apt-get / apt / aptitude / apt-cache (Debian, Ubuntu and derivatives). Notes §4.7.
//!
//! Design:
//! - apt is pointed at two hoard-owned directories by a configuration file mounted for the step
//!   only (`/etc/apt/apt.conf.d/zz-hoard`, read after every other file): `Dir::Cache` (the
//!   downloaded `.deb`s in `archives/`) and `Dir::State::Lists` (the package lists). The cache
//!   mounts sit there, not on `/var/cache/apt` and `/var/lib/apt/lists`, so the usual
//!   `rm -rf /var/lib/apt/lists/*` (or `rm -rf /var/lib/apt/lists`, which would fail with EBUSY
//!   on a mount point) only cleans the image paths, as it does without hoard, and the cache
//!   survives. `/var/lib/apt` itself (`extended_states`, the auto-installed marks) is never
//!   mounted. Every later step that runs apt gets the same file and mounts, so an
//!   `apt-get install` without `update` in a later step reads the lists the earlier step wrote.
//! - Debian's `docker-clean` hook is NOT shadowed (deviation from the brief): its `rm -f` names
//!   the literal `/var/cache/apt/...` paths, which no longer hold the cache, so leaving it in
//!   place keeps the image exactly as without hoard. Its `Dir::Cache::pkgcache ""` is repeated
//!   in our file so the binary cache that includes the image's dpkg status is never kept in a
//!   cache shared by several images. The source cache (`srcpkgcache.bin`, the parsed package
//!   lists, which apt validates against the list files it was built from) is kept next to the
//!   archives, like a hand-tuned Dockerfile that removes `docker-clean` keeps it: otherwise
//!   every apt command of the step parses all lists again (~0.3 s each for bookworm).
//! - `Binary::apt::APT::Keep-Downloaded-Packages` for the `apt` binary (it defaults to false).
//! - No tmpfs on the `partial/` dirs (deviation from the notes' suggestion): apt downloads into
//!   `partial/` and moves the file into place with a bare rename(2) (`pkgAcquire::Item::Rename`,
//!   `apt-pkg/acquire-item.cc`), which fails with EXDEV across mounts. A stale partial file is
//!   resumed or rejected by hash, and `locked` keeps two builds out of the same partial dir.
//! - `clean`-style subcommands in the same step: PATH shims run them with apt's default
//!   directories, so they clean the image paths (as without hoard) instead of the cache. A
//!   separate `RUN apt-get clean` does not trigger the recipe at all.
//! - Sharing `locked` (apt's own lock files are inside the mounts and fail fast rather than wait);
//!   ids per platform and base image (lists and archives are release-specific).

use crate::cache::recipe::{Aging, CacheDir, ConfFile, Location, Recipe, Scope, Shim, Trigger};
use crate::instructions::Sharing;

/// `apt-get` and `apt-cache` global options that take a separate value word.
const OPTS: &[&str] = &[
    "-o",
    "--option",
    "-c",
    "--config-file",
    "-t",
    "--target-release",
    "--default-release",
    "-a",
    "--host-architecture",
    "-P",
    "--build-profiles",
];

/// What apt is told for the step. `//` comments are valid apt.conf syntax.
pub(super) const CONF: &str = "\
// Written by hoard for this build step only; not part of the image.
Dir::Cache::pkgcache \"\";
Dir::Cache::srcpkgcache \"srcpkgcache.bin\";
APT::Keep-Downloaded-Packages \"true\";
Binary::apt::APT::Keep-Downloaded-Packages \"true\";
";

/// The lines that point apt at hoard's caches, each only when hoard mounts that cache (a step
/// mounting `/var/cache/apt` or `/var/lib/apt/lists` as a cache itself keeps apt there).
const CONF_PER_CACHE: &[(&str, &str)] = &[
    ("archives", "Dir::Cache \"/var/cache/hoard/apt/cache/\";\n"),
    (
        "lists",
        "Dir::State::Lists \"/var/cache/hoard/apt/lists/\";\n",
    ),
];

/// Runs the cleaning subcommands against apt's default directories (the image's), everything
/// else unchanged. Before a subcommand that needs the package lists, an empty lists cache (a
/// fresh or garbage-collected cache mount, while the layer of an earlier `RUN apt-get update`
/// is still cached) is filled: from the image's own lists when it has some, as apt would have
/// read them without hoard, else by `update`. Without this, `RUN apt-get update` then
/// `RUN apt-get install` in separate steps could fail where the stock frontend succeeds.
macro_rules! apt_shim {
    ($name:literal) => {
        Shim {
            name: $name,
            script: concat!(
                "hoard_lists=/var/cache/hoard/apt/lists\n",
                "hoard_has_lists() { for _f in \"$1\"/*_Packages*; do [ -e \"$_f\" ] && return 0; break; done; return 1; }\n",
                "case \" $* \" in\n",
                "  *\" install \"*|*\" reinstall \"*|*\" upgrade \"*|*\" dist-upgrade \"*|*\" full-upgrade \"*|*\" build-dep \"*|*\" satisfy \"*|*\" source \"*|*\" download \"*)\n",
                "    if [ -d \"$hoard_lists\" ] && ! hoard_has_lists \"$hoard_lists\"; then\n",
                "      if hoard_has_lists /var/lib/apt/lists; then cp -p /var/lib/apt/lists/*_* \"$hoard_lists/\" 2>/dev/null\n",
                "      else hoard_real ",
                $name,
                " update >&2 || true; fi\n",
                "    fi ;;\n",
                "esac\n",
                "case \" $* \" in\n",
                "  *\" clean \"*|*\" autoclean \"*|*\" auto-clean \"*|*\" dist-clean \"*|*\" distclean \"*)\n",
                "    hoard_real ",
                $name,
                " -o Dir::Cache=/var/cache/apt/ -o Dir::State::Lists=/var/lib/apt/lists/ \"$@\" ;;\n",
                "  *) hoard_real ",
                $name,
                " \"$@\" ;;\n",
                "esac\n",
                "exit $?\n"
            ),
        }
    };
}

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "apt",
    about: "Debian/Ubuntu packages: downloaded .debs and package lists, kept out of the image",
    triggers: &[
        Trigger {
            programs: &["apt-get"],
            // Everything that downloads or reads the lists; not clean/autoclean/dist-clean.
            subcommands: &[
                "update",
                "upgrade",
                "install",
                "reinstall",
                "remove",
                "purge",
                "autoremove",
                "auto-remove",
                "autopurge",
                "dist-upgrade",
                "full-upgrade",
                "dselect-upgrade",
                "build-dep",
                "satisfy",
                "source",
                "download",
                "changelog",
                "check",
                "indextargets",
            ],
            options_with_value: OPTS,
            ..Trigger::NONE
        },
        Trigger {
            programs: &["apt"],
            subcommands: &[
                "update",
                "upgrade",
                "install",
                "reinstall",
                "remove",
                "purge",
                "autoremove",
                "auto-remove",
                "autopurge",
                "full-upgrade",
                "dist-upgrade",
                "satisfy",
                "build-dep",
                "source",
                "download",
                "changelog",
                "list",
                "search",
                "show",
                "showsrc",
                "policy",
                "depends",
                "rdepends",
                "madison",
            ],
            options_with_value: OPTS,
            ..Trigger::NONE
        },
        Trigger {
            programs: &["aptitude"],
            subcommands: &[
                "update",
                "install",
                "reinstall",
                "remove",
                "purge",
                "upgrade",
                "safe-upgrade",
                "full-upgrade",
                "dist-upgrade",
                "build-dep",
                "build-depends",
                "download",
                "source",
                "search",
                "show",
                "versions",
                "changelog",
                "why",
                "why-not",
            ],
            options_with_value: &[
                "-o",
                "-t",
                "--target-release",
                "-F",
                "--display-format",
                "-w",
                "--width",
                "-S",
            ],
            ..Trigger::NONE
        },
        // Reads the lists only; any subcommand (it has no cleaning one).
        Trigger {
            programs: &["apt-cache"],
            options_with_value: OPTS,
            ..Trigger::NONE
        },
    ],
    caches: &[
        CacheDir {
            kind: "archives",
            stock: Some("/var/cache/apt"),
            location: Location::Fixed("/var/cache/hoard/apt/cache"),
            sharing: Sharing::Locked,
            scope: Scope::DISTRO_PLATFORM,
            aging: Aging::Files,
            ..CacheDir::NONE
        },
        CacheDir {
            kind: "lists",
            stock: Some("/var/lib/apt/lists"),
            location: Location::Fixed("/var/cache/hoard/apt/lists"),
            sharing: Sharing::Locked,
            scope: Scope::DISTRO_PLATFORM,
            aging: Aging::Files,
            ..CacheDir::NONE
        },
    ],
    files: &[ConfFile {
        target: "/etc/apt/apt.conf.d/zz-hoard",
        content: CONF,
        per_cache: CONF_PER_CACHE,
    }],
    shims: &[
        apt_shim!("apt-get"),
        apt_shim!("apt"),
        apt_shim!("aptitude"),
    ],
    // `apt-get clean` & co. are handled by the shims; reporting them would be wrong whenever the
    // shim runs. (Only an absolute `/usr/bin/apt-get clean` in the same step would still empty
    // the archives cache.)
    defeaters: &[],
    root_only: true,
    ..Recipe::NONE
}];

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::cache::planner::{plan_shell, plan_shell_with, plan_step, ToolCache};

    #[test]
    fn data_invariants() {
        check(RECIPES);
        assert_sharing(RECIPES, Sharing::Locked);
        let r = &RECIPES[0];
        assert!(r.root_only);
        assert!(
            r.tmpfs.is_empty(),
            "partial/ must stay on the cache filesystem (rename, EXDEV)"
        );
    }

    #[test]
    fn conf_points_apt_at_the_mounts() {
        let r = &RECIPES[0];
        let paths: Vec<String> = r
            .caches
            .iter()
            .map(|c| match c.location {
                Location::Fixed(p) => p.to_string(),
                _ => unreachable!(),
            })
            .collect();
        let lines = |kind: &str| {
            CONF_PER_CACHE
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, l)| *l)
                .unwrap_or("")
        };
        assert_eq!(
            lines("archives"),
            format!("Dir::Cache \"{}/\";\n", paths[0])
        );
        assert_eq!(
            lines("lists"),
            format!("Dir::State::Lists \"{}/\";\n", paths[1])
        );
        assert!(
            !CONF.contains("Dir::Cache \"") && !CONF.contains("Dir::State::Lists"),
            "only with hoard's own mounts"
        );
        // Never the image's state dir, never the default paths users rm -rf.
        for p in &paths {
            assert!(
                !p.starts_with("/var/lib/apt") && !p.starts_with("/var/cache/apt"),
                "{p}"
            );
        }
        assert!(CONF.contains("Binary::apt::APT::Keep-Downloaded-Packages \"true\";"));
        // Balanced quotes and every statement terminated.
        let all = format!(
            "{CONF}{}",
            CONF_PER_CACHE.iter().map(|(_, l)| *l).collect::<String>()
        );
        for line in all.lines().filter(|l| !l.starts_with("//")) {
            assert_eq!(line.matches('"').count() % 2, 0, "{line}");
            assert!(line.ends_with(';'), "{line}");
        }
    }

    #[test]
    fn shims_clean_the_image_paths_and_pass_everything_else_through() {
        for s in RECIPES[0].shims {
            assert_eq!(
                run_shim(s.script, s.name, &["-y", "clean"]),
                "-o Dir::Cache=/var/cache/apt/ -o Dir::State::Lists=/var/lib/apt/lists/ -y clean"
            );
            assert_eq!(
                run_shim(s.script, s.name, &["install", "-y", "a b"]),
                "install -y a b"
            );
            assert_eq!(
                run_shim(s.script, s.name, &["dist-clean"])
                    .split(' ')
                    .count(),
                5
            );
        }
    }

    #[test]
    fn plans_locked_distro_platform_caches() {
        let p =
            plan_shell("apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*");
        assert!(detected(&p, "apt"));
        let c = mounts(&p, "apt");
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].0, "/var/cache/hoard/apt/cache");
        assert_eq!(c[0].1, "hoard/apt/archives/linux-amd64/debian-bookworm");
        assert_eq!(c[1].1, "hoard/apt/lists/linux-amd64/debian-bookworm");
        assert!(c.iter().all(|m| m.2 == Sharing::Locked && m.3 == 0));
        let conf = format!("{CONF}{}{}", CONF_PER_CACHE[0].1, CONF_PER_CACHE[1].1);
        assert_eq!(
            file(&p, "/etc/apt/apt.conf.d/zz-hoard").as_deref(),
            Some(conf.as_str())
        );
        assert!(p.script.is_none());
    }

    /// A step that mounts apt's stock directories as caches itself keeps using them: hoard adds
    /// no cache of its own for them and does not point apt elsewhere, only what they lack.
    #[test]
    fn the_authors_own_apt_caches_are_used() {
        let with = |caches: &[&str]| {
            let caches: Vec<String> = caches.iter().map(|c| c.to_string()).collect();
            plan_step(
                "apt-get update && apt-get install -y curl",
                &[],
                &caches,
                &[],
            )
        };
        let p = with(&["/var/lib/apt/lists", "/var/cache/apt"]);
        assert!(mounts(&p, "apt").is_empty(), "{:?}", p.mounts);
        let conf = file(&p, "/etc/apt/apt.conf.d/zz-hoard")
            .expect("keep-downloaded configuration still mounted");
        assert!(
            !conf.contains("Dir::Cache \"") && !conf.contains("Dir::State::Lists"),
            "{conf}"
        );
        assert!(
            p.tools.iter().all(|t| t.cache == ToolCache::Yours),
            "{:?}",
            p.tools
        );
        // Only the lists (the Docker reference's `/var/lib/apt` covers them): archives are hoard's.
        let p = with(&["/var/lib/apt"]);
        let m = mounts(&p, "apt");
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].0, "/var/cache/hoard/apt/cache");
        let conf = file(&p, "/etc/apt/apt.conf.d/zz-hoard").unwrap();
        assert!(
            conf.contains("Dir::Cache \"/var/cache/hoard/apt/cache/\";")
                && !conf.contains("Dir::State::Lists"),
            "{conf}"
        );
        assert!(p.tools.iter().all(|t| t.cache == ToolCache::Hoard));
        // The lists fill-in of the shims only runs where hoard's lists cache is mounted.
        assert!(RECIPES[0].shims[0]
            .script
            .contains("[ -d \"$hoard_lists\" ] && ! hoard_has_lists"));
    }

    #[test]
    fn spellings() {
        for cmd in [
            "apt-get -y install curl",
            "apt-get -o Acquire::Retries=3 install -y curl",
            "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl",
            "/usr/bin/apt-get -qq update",
            "apt install -y curl",
            "apt update",
            "aptitude install -y curl",
            "apt-cache policy curl",
        ] {
            assert!(detected(&plan_shell(cmd), "apt"), "{cmd}");
        }
        for cmd in [
            "apt-get clean",
            "apt-get -y autoclean",
            "apt-get dist-clean",
            "apt-key add x",
            "apt-mark hold x",
        ] {
            assert!(!detected(&plan_shell(cmd), "apt"), "{cmd}");
        }
    }

    #[test]
    fn not_as_another_user() {
        let p = plan_shell_with("apt-get install -y curl", &[], 1000, "/home/app");
        assert!(mounts(&p, "apt").is_empty());
    }
}
