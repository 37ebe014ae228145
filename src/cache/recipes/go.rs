//! Go: the module cache (downloads, arch-neutral) and the build cache (notes §4.15).
//!
//! Both are redirected to hoard-owned paths. The module cache is store-is-runtime: `go build`
//! in a later RUN reads modules a `go mod download` RUN fetched, so the planner must mount it on
//! every RUN that runs `go` (it does: same recipe, same id, same path). A RUN that runs go only
//! indirectly (`make`, `./build.sh`) is not detected and sees no modules; go then downloads
//! them again (works online, fails with GOFLAGS=-mod=mod + GOPROXY=off). The same holds for a
//! mount at the default `/go/pkg/mod`, so redirecting costs nothing extra.

use crate::cache::recipe::{Aging, CacheDir, Defeater, Location, Recipe, Scope, Trigger};
use crate::instructions::Sharing;

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "go",
    about: "Go module cache (GOMODCACHE) and build cache (GOCACHE, per platform)",
    triggers: &[Trigger {
        programs: &["go"],
        // `mod` covers `go mod download|tidy|vendor|verify|graph|why`; `work` covers `go work sync`.
        subcommands: &[
            "build", "install", "test", "run", "vet", "generate", "get", "list", "mod", "work",
            "tool",
        ],
        ..Trigger::NONE
    }],
    caches: &[
        CacheDir {
            kind: "mod",
            location: Location::Redirect {
                var: "GOMODCACHE",
                path: "/var/cache/hoard/go/mod",
            },
            // "Multiple instances of the go command may safely access the same module cache".
            sharing: Sharing::Shared,
            scope: Scope::USER,
            ..CacheDir::NONE
        },
        CacheDir {
            kind: "build",
            location: Location::Redirect {
                var: "GOCACHE",
                path: "/var/cache/hoard/go/build",
            },
            // "The cache is safe for concurrent invocations of the go command."
            sharing: Sharing::Shared,
            // Keys include GOOS/GOARCH, but cgo objects are not keyed by the C libraries they
            // were built against (`go help cache`); keeping platforms apart is the cheap half of
            // that. Open: add the distro scope when CGO_ENABLED is not 0.
            scope: Scope::PLATFORM_USER,
            aging: Aging::Files,
            ..CacheDir::NONE
        },
    ],
    defeaters: &[
        Defeater::Command {
            program: "go",
            args: &["clean", "-modcache"],
        },
        Defeater::Command {
            program: "go",
            args: &["clean", "-cache"],
        },
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
        let m = cache(&RECIPES[0], "mod");
        assert!(!m.scope.platform && m.sharing == Sharing::Shared);
        let b = cache(&RECIPES[0], "build");
        assert!(b.scope.platform && b.sharing == Sharing::Shared);
        assert!(matches!(
            m.location,
            Location::Redirect {
                var: "GOMODCACHE",
                ..
            }
        ));
        assert!(matches!(
            b.location,
            Location::Redirect { var: "GOCACHE", .. }
        ));
    }

    #[test]
    fn spellings() {
        for cmd in [
            "go mod download",
            "go build -o /out/app ./cmd/app",
            "CGO_ENABLED=0 go build .",
            "go install golang.org/x/tools/gopls@latest",
            "go test ./...",
            "/usr/local/go/bin/go vet ./...",
            "go generate ./...",
        ] {
            assert!(detected(&plan_shell(cmd), "go"), "{cmd}");
        }
        for cmd in ["go version", "go env GOPATH", "go clean -modcache"] {
            assert!(!detected(&plan_shell(cmd), "go"), "{cmd}");
        }
    }

    #[test]
    fn plans_module_and_build_caches() {
        let p = plan_shell_with(
            "go mod download && go build ./...",
            &[("GOPATH", "/go")],
            0,
            "/root",
        );
        assert_eq!(
            mount_at(&p, "/var/cache/hoard/go/mod"),
            ("hoard/go/mod".into(), Sharing::Shared)
        );
        assert_eq!(
            mount_at(&p, "/var/cache/hoard/go/build"),
            ("hoard/go/build/linux-amd64".into(), Sharing::Shared)
        );
        assert_eq!(
            set(&p, "GOMODCACHE").as_deref(),
            Some("/var/cache/hoard/go/mod")
        );
        assert_eq!(
            set(&p, "GOCACHE").as_deref(),
            Some("/var/cache/hoard/go/build")
        );
        // A user's own GOMODCACHE is where the cache goes, untouched.
        let p = plan_shell_with("go build .", &[("GOMODCACHE", "/gomod")], 1000, "/home/app");
        assert_eq!(mount_at(&p, "/gomod").0, "hoard/go/mod/u1000");
        assert_eq!(set(&p, "GOMODCACHE"), None);
    }

    #[test]
    fn modcache_clean_is_reported() {
        let p = plan_shell("go build . && go clean -modcache");
        assert!(
            p.notes.iter().any(|n| n.contains("go clean -modcache")),
            "{:?}",
            p.notes
        );
    }
}
