//! ccache: the C/C++ compiler cache (notes §4.13).
//!
//! `ENV PATH=/usr/lib/ccache:$PATH`, `CC="ccache gcc"` or `CMAKE_C_COMPILER_LAUNCHER=ccache`
//! followed by `RUN make` never names ccache in the step: the environment triggers cover
//! those, besides steps that run `ccache` itself (`ccache -M 2G && make`).

use super::sccache::{c_launcher, C_BUILDS};
use crate::cache::recipe::{CacheDir, Defeater, EnvTrigger, Location, Recipe, Scope, Trigger};
use crate::instructions::Sharing;

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "ccache",
    about: "ccache object cache (CCACHE_DIR), per platform",
    triggers: &[Trigger {
        programs: &["ccache"],
        python_module: None,
        prefix: &[],
        subcommands: &[],
        options_with_value: &[],
        runs_program: &[],
    }],
    env_triggers: &[
        // `ccache` starts a word of the value, so `CC="sccache gcc"` is sccache's, not ours.
        c_launcher("ccache"),
        // Debian's masquerade dir (`/usr/lib/ccache`) first on PATH.
        EnvTrigger { vars: &["PATH"], contains: "/ccache", programs: C_BUILDS },
    ],
    caches: &[CacheDir {
        kind: "cache",
        // CCACHE_DIR beats both `~/.ccache` and `$XDG_CACHE_HOME/ccache`.
        location: Location::Redirect { var: "CCACHE_DIR", path: "/var/cache/hoard/ccache" },
        // The manual's "Sharing a local cache" supports concurrent users.
        sharing: Sharing::Shared,
        // Hashes include the compiler, so cross-arch hits are unlikely to be wrong, but mixing
        // wastes space and `compiler_check=none` would make it unsafe (§4.13f).
        scope: Scope::PLATFORM_USER,
        only_for: &[],
    }],
    tmpfs: &[],
    env: &[],
    files: &[],
    shims: &[],
    flag_edits: &[],
    defeaters: &[
        Defeater::Command { program: "ccache", args: &["-C"] },
        Defeater::Command { program: "ccache", args: &["--clear"] },
        Defeater::Env("CCACHE_DISABLE"),
    ],
    root_only: false,
}];

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use crate::cache::planner::{plan_shell, plan_shell_with};
    use super::*;

    #[test]
    fn switched_on_through_the_environment() {
        assert!(detected(&plan_shell("CC=\"ccache gcc\" make -j2"), "ccache"));
        let p = plan_shell_with("make", &[("PATH", "/usr/lib/ccache:/usr/bin:/bin")], 0, "/root");
        assert!(detected(&p, "ccache"), "{:?}", p.tools);
        assert!(!detected(&plan_shell("make"), "ccache"));
        for cmd in ["CMAKE_CXX_COMPILER_LAUNCHER=ccache cmake --build b", "CXX=\"/usr/bin/ccache g++\" make", "CMAKE_CUDA_COMPILER_LAUNCHER=ccache ninja"] {
            let p = plan_shell(cmd);
            assert!(detected(&p, "ccache") && !detected(&p, "sccache"), "{cmd}: {:?}", p.tools);
        }
        assert!(!detected(&plan_shell("CC=\"sccache gcc\" make"), "ccache"));
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
        let p = plan_shell("ccache -M 2G && make -j8");
        assert_eq!(mount_at(&p, "/var/cache/hoard/ccache"), ("hoard/ccache/cache/linux-amd64".into(), Sharing::Shared));
        assert_eq!(set(&p, "CCACHE_DIR").as_deref(), Some("/var/cache/hoard/ccache"));
        let p = plan_shell("make CC='ccache gcc'");
        assert!(!detected(&p, "ccache"), "an argument value is not an invocation");
    }
}
