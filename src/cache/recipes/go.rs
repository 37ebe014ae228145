//! Go: the module cache (downloads, arch-neutral) and the build cache (notes §4.15).
//!
//! Both are redirected to hoard-owned paths. The module cache is store-is-runtime: `go build`
//! in a later RUN reads modules a `go mod download` RUN fetched, so the planner must mount it on
//! every RUN that runs `go` (it does: same recipe, same id, same path). A RUN that runs go only
//! indirectly (`make`, `./build.sh`) is detected only where the stage said it builds Go for a
//! target with `xx-go --wrap` (then `make` and the like run plain go: see the triggers); in
//! other steps it sees no modules and go downloads them again (works online, fails with
//! GOFLAGS=-mod=mod + GOPROXY=off). The same holds for a mount at the default `/go/pkg/mod`, so
//! redirecting costs nothing extra.
//!
//! golangci-lint loads packages through `go list` (Go's build and module caches) and keeps its
//! analysis results in a cache of its own (`GOLANGCI_LINT_CACHE`, default
//! `~/.cache/golangci-lint`), which its CI documentation says to keep between runs.

use crate::cache::recipe::{Aging, CacheDir, Defeater, Location, Recipe, Scope, Trigger};

/// Build drivers that run plain `go` (Makefiles, justfiles, Taskfiles, magefiles): a use of Go
/// only after `xx-go --wrap` (in the step, or earlier in the stage), which says that the plain
/// `go` they run builds Go for the target; elsewhere a `make` may well build no Go at all.
const DRIVERS: &[&str] = &["make", "gmake", "just", "task", "mage"];
use crate::instructions::Sharing;

pub static RECIPES: &[Recipe] = &[
    Recipe {
        name: "go",
        about: "Go module cache (GOMODCACHE) and build cache (GOCACHE, per platform)",
        triggers: &[
            Trigger {
                programs: &["go"],
                // `mod` covers `go mod download|tidy|vendor|verify|graph|why`; `work` covers `go work sync`.
                subcommands: &[
                    "build", "install", "test", "run", "vet", "generate", "get", "list", "mod",
                    "work", "tool",
                ],
                ..Trigger::NONE
            },
            Trigger {
                programs: &["golangci-lint"],
                subcommands: &["run"],
                runs_wrapped: Some("go"),
                ..Trigger::NONE
            },
            Trigger {
                programs: DRIVERS,
                runs_wrapped: Some("go"),
                only_wrapped: true,
                ..Trigger::NONE
            },
        ],
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
                // go's default when GOPATH is set (the golang images set `GOPATH=/go`).
                stock: Some("$GOPATH/pkg/mod"),
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
                // go's default (`os.UserCacheDir()/go-build`): a step's own cache there is used.
                stock: Some("~/.cache/go-build"),
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
    },
    Recipe {
        name: "golangci-lint",
        about: "golangci-lint analysis cache (GOLANGCI_LINT_CACHE), per platform",
        triggers: &[Trigger {
            programs: &["golangci-lint"],
            subcommands: &["run"],
            runs_wrapped: Some("go"),
            ..Trigger::NONE
        }],
        caches: &[CacheDir {
            kind: "cache",
            location: Location::Redirect {
                var: "GOLANGCI_LINT_CACHE",
                path: "/var/cache/hoard/golangci-lint",
            },
            // The same cache implementation as go's build cache (safe for concurrent use).
            sharing: Sharing::Shared,
            // Results depend on the build tags of GOOS/GOARCH: kept apart like Go's build cache.
            scope: Scope::PLATFORM_USER,
            aging: Aging::Files,
            stock: Some("~/.cache/golangci-lint"),
            ..CacheDir::NONE
        }],
        defeaters: &[Defeater::Command {
            program: "golangci-lint",
            args: &["cache", "clean"],
        }],
        ..Recipe::NONE
    },
];

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::cache::planner::{
        plan_shell, plan_shell_with, plan_step, plan_wrapped, Plan, ToolCache,
    };

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

    /// `xx-go --wrap` (in the step, or in an earlier step: `plan_wrapped`) makes `make` and
    /// friends a use of Go, for the target platform; a `make` anywhere else is not.
    #[test]
    fn build_drivers_after_xx_go_wrap() {
        let arm = [("TARGETPLATFORM", "linux/arm64")];
        let build_id = |p: &Plan| mount_at(p, "/var/cache/hoard/go/build").0;
        for cmd in [
            "xx-go --wrap && make",
            "xx-go --wrap; CGO_ENABLED=0 PREFIX=/out/ make -C src",
            "xx-go --wrap && just build",
            "xx-go --wrap && go vet ./...",
            "xx-go --wrap && /usr/local/go/bin/go build ./...",
        ] {
            let p = plan_shell_with(cmd, &arm, 0, "/root");
            assert!(detected(&p, "go"), "{cmd}: {:?}", p.tools);
            assert_eq!(build_id(&p), "hoard/go/build/linux-arm64", "{cmd}");
        }
        for cmd in ["make", "make bin/containerd", "go build ."] {
            let p = plan_wrapped(cmd, &arm, &["go"]);
            assert!(detected(&p, "go"), "{cmd}: {:?}", p.tools);
            assert_eq!(build_id(&p), "hoard/go/build/linux-arm64", "{cmd}");
        }
        // Not wrapped: a plain `make` builds no Go as far as anyone can tell; plain `go`
        // builds for the platform the step runs on.
        for cmd in [
            "make",
            "make -j4 install",
            "xx-go --unwrap && make",
            "make && xx-go --wrap",
            "xx-apk add gcc && make",
        ] {
            let p = plan_shell_with(cmd, &arm, 0, "/root");
            assert!(!detected(&p, "go"), "{cmd}: {:?}", p.tools);
        }
        assert!(!detected(
            &plan_wrapped("xx-go --unwrap && make", &arm, &["go"]),
            "go"
        ));
        assert_eq!(
            build_id(&plan_shell_with("go build .", &arm, 0, "/root")),
            "hoard/go/build/linux-amd64"
        );
        assert!(!detected(
            &plan_wrapped("make --version", &arm, &["go"]),
            "go"
        ));
    }

    /// golangci-lint runs `go list` (Go's caches) and keeps a cache of its own; after `xx-go
    /// --wrap` both follow the target.
    #[test]
    fn golangci_lint() {
        let p = plan_shell("golangci-lint run --timeout 5m");
        assert!(
            detected(&p, "go") && detected(&p, "golangci-lint"),
            "{:?}",
            p.tools
        );
        assert_eq!(
            mount_at(&p, "/var/cache/hoard/golangci-lint").0,
            "hoard/golangci-lint/cache/linux-amd64"
        );
        assert_eq!(
            set(&p, "GOLANGCI_LINT_CACHE").as_deref(),
            Some("/var/cache/hoard/golangci-lint")
        );
        let p = plan_shell_with(
            "xx-go --wrap && golangci-lint run",
            &[("TARGETPLATFORM", "linux/arm64")],
            0,
            "/root",
        );
        assert_eq!(
            mount_at(&p, "/var/cache/hoard/golangci-lint").0,
            "hoard/golangci-lint/cache/linux-arm64"
        );
        assert_eq!(
            mount_at(&p, "/var/cache/hoard/go/build").0,
            "hoard/go/build/linux-arm64"
        );
        for cmd in ["golangci-lint config verify", "golangci-lint --version"] {
            let p = plan_shell(cmd);
            assert!(p.tools.is_empty(), "{cmd}: {:?}", p.tools);
        }
    }

    /// The author's cache mounts at go's and golangci-lint's default directories are theirs:
    /// hoard adds only the caches that are not mounted.
    #[test]
    fn authors_default_directories() {
        let root_cache = ["/root/.cache".to_string()];
        let p = plan_step("golangci-lint run", &[], &root_cache, &[]);
        assert!(
            p.tools
                .iter()
                .all(|t| t.cache == ToolCache::Yours || t.tool == "go"),
            "{:?}",
            p.tools
        );
        assert!(
            p.mounts
                .iter()
                .all(|m| m.target == "/var/cache/hoard/go/mod"),
            "{:?}",
            p.mounts
        );
        assert_eq!(set(&p, "GOCACHE"), None);
        assert_eq!(set(&p, "GOLANGCI_LINT_CACHE"), None);
        // Both of go's caches mounted by the author (GOPATH set, as in the golang images).
        let both = ["/go/pkg/mod".to_string(), "/root/.cache".to_string()];
        let p = plan_step("go build ./...", &[("GOPATH", "/go")], &both, &[]);
        assert!(p.mounts.is_empty() && p.env.is_empty(), "{p:?}");
        assert_eq!(p.tools[0].cache, ToolCache::Yours);
        // GOCACHE set elsewhere: the mount at the default directory is not go's cache.
        let p = plan_step("go build .", &[("GOCACHE", "/gocache")], &root_cache, &[]);
        assert_eq!(mount_at(&p, "/gocache").0, "hoard/go/build/linux-amd64");
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
