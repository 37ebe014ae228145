//! ccache: the C/C++ compiler cache (notes §4.13).
//!
//! `ENV PATH=/usr/lib/ccache:$PATH`, `CC="ccache gcc"` or `CMAKE_C_COMPILER_LAUNCHER=ccache`
//! followed by `RUN make` never names ccache in the step: the environment triggers cover
//! those, besides steps that run `ccache` itself (`ccache -M 2G && make`). A step that mounts
//! its own cache at ccache's default directory and runs a build (`--mount=type=cache,target=
//! /root/.ccache` with `cmake --build`, the launcher set in a CMake preset) uses ccache too: it
//! is reported, and the author's mount stays ccache's cache.

use super::sccache::{c_launcher, C_BUILDS};
use crate::cache::recipe::{
    Aging, CacheDir, Defeater, EnvTrigger, Location, MountTrigger, Recipe, Scope, Trigger,
};
use crate::instructions::Sharing;

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "ccache",
    about: "ccache object cache (CCACHE_DIR), per platform",
    // `ccache gcc -c x.c` (a compiler follows); options alone only configure or report
    // (`ccache -M 2G`, `ccache --set-config=cache_dir=/x`, `ccache -s`).
    triggers: &[Trigger {
        programs: &["ccache"],
        subcommands: &["*"],
        options_with_value: &[
            "-M",
            "--max-size",
            "-F",
            "--max-files",
            "-o",
            "--set-config",
            "-k",
            "--get-config",
            "-d",
            "--dir",
            "-X",
            "--recompress",
            "--recompress-threads",
            "--evict-older-than",
            "--evict-namespace",
            "--trim-dir",
            "--trim-max-size",
            "--trim-method",
            "--checksum-file",
            "--extract-result",
            "--inspect",
            "--dump-manifest",
            "--dump-result",
            "--hash-file",
            "--config-path",
        ],
        ..Trigger::NONE
    }],
    env_triggers: &[
        // `ccache` starts a word of the value, so `CC="sccache gcc"` is sccache's, not ours.
        c_launcher("ccache"),
        // Debian's masquerade dir (`/usr/lib/ccache`) first on PATH.
        EnvTrigger {
            vars: &["PATH"],
            contains: "/ccache",
            programs: C_BUILDS,
        },
    ],
    // The step mounts a cache where ccache looks by default and runs a build: the launcher is
    // set where hoard cannot see it (a CMake preset, a Makefile, the toolchain file).
    mount_triggers: &[MountTrigger {
        dirs: &["~/.ccache", "~/.cache/ccache"],
        programs: C_BUILDS,
    }],
    caches: &[CacheDir {
        kind: "cache",
        // CCACHE_DIR beats both `~/.ccache` and `$XDG_CACHE_HOME/ccache`.
        location: Location::Redirect {
            var: "CCACHE_DIR",
            path: "/var/cache/hoard/ccache",
        },
        // The manual's "Sharing a local cache" supports concurrent users.
        sharing: Sharing::Shared,
        // Hashes include the compiler, so cross-arch hits are unlikely to be wrong, but mixing
        // wastes space and `compiler_check=none` would make it unsafe (§4.13f).
        scope: Scope::PLATFORM_USER,
        aging: Aging::Files,
        // Every version's default when it exists (ccache 3 always, 4 as the "legacy" dir,
        // which a mount there creates): a step's own cache there is used as it is.
        stock: Some("~/.ccache"),
        // ccache 4's default otherwise (`$XDG_CACHE_HOME/ccache`, else `~/.cache/ccache`),
        // unknown to ccache 3: a step's own cache there is used, with CCACHE_DIR pointing at it.
        adopt: &["~/.cache/ccache"],
        ..CacheDir::NONE
    }],
    defeaters: &[
        Defeater::Command {
            program: "ccache",
            args: &["-C"],
        },
        Defeater::Command {
            program: "ccache",
            args: &["--clear"],
        },
        Defeater::Env("CCACHE_DISABLE"),
    ],
    ..Recipe::NONE
}];

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::cache::planner::{plan_shell, plan_shell_with, plan_step, ToolCache};

    #[test]
    fn switched_on_through_the_environment() {
        assert!(detected(
            &plan_shell("CC=\"ccache gcc\" make -j2"),
            "ccache"
        ));
        let p = plan_shell_with(
            "make",
            &[("PATH", "/usr/lib/ccache:/usr/bin:/bin")],
            0,
            "/root",
        );
        assert!(detected(&p, "ccache"), "{:?}", p.tools);
        assert!(!detected(&plan_shell("make"), "ccache"));
        for cmd in [
            "CMAKE_CXX_COMPILER_LAUNCHER=ccache cmake --build b",
            "CXX=\"/usr/bin/ccache g++\" make",
            "CMAKE_CUDA_COMPILER_LAUNCHER=ccache ninja",
        ] {
            let p = plan_shell(cmd);
            assert!(
                detected(&p, "ccache") && !detected(&p, "sccache"),
                "{cmd}: {:?}",
                p.tools
            );
        }
        assert!(!detected(&plan_shell("CC=\"sccache gcc\" make"), "ccache"));
        // ccache's symlink dir first on PATH from the image, with cmake, make or ninja.
        for prog in [
            "cmake --build build",
            "make -j4",
            "ninja -C build",
            "/usr/bin/make install",
        ] {
            let p = plan_shell_with(
                prog,
                &[("PATH", "/usr/lib/ccache:/usr/local/bin:/usr/bin:/bin")],
                0,
                "/root",
            );
            assert!(detected(&p, "ccache"), "{prog}: {:?}", p.tools);
            let p = plan_shell_with(
                prog,
                &[("CMAKE_CXX_COMPILER_LAUNCHER", "ccache")],
                0,
                "/root",
            );
            assert!(detected(&p, "ccache"), "{prog}: {:?}", p.tools);
        }
        // Put there by the script itself.
        for cmd in [
            "export PATH=/usr/lib/ccache:$PATH && cmake -B b . && cmake --build b",
            "export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache; ninja -C build",
        ] {
            assert!(detected(&plan_shell(cmd), "ccache"), "{cmd}");
        }
    }

    /// Commands that only configure or report ccache use no cache: nothing is detected.
    #[test]
    fn configuration_only_is_no_use() {
        for cmd in [
            "ccache -M 2G",
            "mkdir /opt/ccache && ccache --set-config=cache_dir=/opt/ccache",
            "ccache -o max_size=5G",
            "ccache --max-size 5G && ccache -s",
            "ccache --version",
            "ccache -z",
            "/usr/sbin/update-ccache-symlinks",
            "apt-get install -y ccache",
        ] {
            assert!(!detected(&plan_shell(cmd), "ccache"), "{cmd}");
        }
        assert!(detected(
            &plan_shell("ccache -M 2G && ccache g++ -c a.cc"),
            "ccache"
        ));
    }

    /// A step that mounts its own cache at ccache's default directory and runs a build uses
    /// ccache (the launcher set in a CMake preset): reported as the author's cache, kept as it
    /// is; at ccache 4's XDG directory, CCACHE_DIR points there so that every version uses it.
    #[test]
    fn authors_cache_at_the_default_directory() {
        let legacy = ["/root/.ccache".to_string()];
        for cmd in [
            "cmake -S . --preset cpu && cmake --build build -- -l 4",
            "ninja -C build",
            "make -j4",
        ] {
            let p = plan_step(cmd, &[], &legacy, &[]);
            assert!(detected(&p, "ccache"), "{cmd}: {:?}", p.tools);
            assert!(
                p.tools.iter().all(|t| t.cache == ToolCache::Yours),
                "{cmd}: {:?}",
                p.tools
            );
            assert!(p.mounts.is_empty() && p.env.is_empty(), "{cmd}: {p:?}");
        }
        let xdg = ["/root/.cache/ccache".to_string()];
        let p = plan_step("cmake --build build", &[], &xdg, &[]);
        assert_eq!(p.tools[0].cache, ToolCache::Yours);
        assert!(p.mounts.is_empty(), "{:?}", p.mounts);
        assert_eq!(
            set(&p, "CCACHE_DIR").as_deref(),
            Some("/root/.cache/ccache")
        );
        // The same mount without a build is no use; a build without it is not ccache's.
        assert!(!detected(
            &plan_step("ls /root/.ccache", &[], &legacy, &[]),
            "ccache"
        ));
        assert!(!detected(
            &plan_step("cmake --build build", &[], &[], &[]),
            "ccache"
        ));
        // A cache mounted somewhere else says nothing about ccache.
        let other = ["/root/.cache/pip".to_string()];
        assert!(!detected(&plan_step("make", &[], &other, &[]), "ccache"));
        // Named by the step and mounted by the author: the author's cache, nothing added.
        let p = plan_step("ccache gcc -c x.c", &[], &legacy, &[]);
        assert_eq!(p.tools[0].cache, ToolCache::Yours);
        assert!(p.mounts.is_empty() && p.env.is_empty(), "{p:?}");
    }

    #[test]
    fn data_invariants() {
        check(RECIPES);
        let c = cache(&RECIPES[0], "cache");
        assert_eq!(c.sharing, Sharing::Shared);
        assert!(c.scope.platform);
    }

    #[test]
    fn plans_a_shared_platform_cache() {
        let p = plan_shell("ccache -M 2G && ccache gcc -c x.c");
        assert_eq!(
            mount_at(&p, "/var/cache/hoard/ccache"),
            ("hoard/ccache/cache/linux-amd64".into(), Sharing::Shared)
        );
        assert_eq!(
            set(&p, "CCACHE_DIR").as_deref(),
            Some("/var/cache/hoard/ccache")
        );
        let p = plan_shell("make CC='ccache gcc'");
        assert!(
            !detected(&p, "ccache"),
            "an argument value is not an invocation"
        );
    }
}
