//! Programs in front of the tools: the tonistiigi/xx cross-compilation wrappers (used
//! throughout Docker's own Dockerfiles and in many multi-platform builds) and interpreters
//! running a tool's script. The planner peels them off, so every recipe's triggers see the
//! tool itself (`xx-apk add` is `apk add`, `node bin/npm-cli.js install` is `npm-cli.js
//! install`, which npm's trigger names).
//!
//! xx wrappers run the real tool for the *target* platform (`TARGETPLATFORM` in the step's
//! environment, else the platform the step runs on). What that means for each tool's caches:
//! - `xx-go` sets `GOOS`/`GOARCH`: the build cache holds target objects (keyed by GOARCH inside),
//!   so its id names the target platform. `xx-go --wrap` makes that the default of every later
//!   `go` (it writes them into go's configuration file), so a plain `go`, and `make` or
//!   golangci-lint running one, after it in the step or the stage (or an ancestor stage) are
//!   treated as run through xx-go (the planner's `wrapped_at`; go's triggers say which programs
//!   run `go`).
//! - `xx-cargo` adds `--target=<triple>`: cargo's `target/` cache holds `target/<triple>/`
//!   output, so its id names the target platform (the registry caches are arch-neutral).
//! - `xx-apk` installs into `/<triple>/` with the target's repositories and links that root's
//!   cache to `/etc/apk/cache/_<alpine arch>` when `/etc/apk/cache` exists: the packages of the
//!   exec platform stay in the exec platform's cache (index files are named by repository URL,
//!   not architecture, so the two must not share one directory) and `_<arch>` gets its own
//!   mount with the target platform's id, the id a native build for that platform uses.
//! - `xx-apt-get`/`xx-apt` enable dpkg multiarch and install `pkg:<arch>` with the exec
//!   platform's apt: `.deb`s and lists are named by architecture, and the lists are state the
//!   stage's other apt steps must see (a separate target-platform lists cache could be older
//!   than an `apt-get update` an earlier step just ran), so apt's ids stay on the exec platform.

use crate::cache::recipe::{CrossWrapper, Interpreter, TargetCache};

/// Images whose whole contents are known, by repository: what copying their root (`COPY
/// --from=xx / /`, how every xx user installs the wrappers) writes. The xx image is `FROM
/// scratch` plus its scripts in `/usr/bin` (tonistiigi/xx `src/Dockerfile`), so such a copy
/// hides no cache directory.
pub const KNOWN_IMAGES: &[(&str, &[&str])] = &[("docker.io/tonistiigi/xx", &["/usr/bin"])];
use crate::image::Platform;

/// `/etc/apk/cache/_<arch>`: xx's name for a target root's apk cache (`xx-info alpine-arch`).
fn apk_target_dir(p: &Platform) -> Option<String> {
    let arch = match (p.architecture.as_str(), p.variant.as_str()) {
        ("amd64", _) => "x86_64",
        ("arm64", _) => "aarch64",
        ("arm", "v6") => "armhf",
        ("arm", _) => "armv7",
        ("386", _) => "x86",
        ("ppc64le", _) => "ppc64le",
        ("s390x", _) => "s390x",
        ("riscv64", _) => "riscv64",
        ("loong64", _) => "loongarch64",
        _ => return None,
    };
    Some(format!("_{arch}"))
}

pub static WRAPPERS: &[CrossWrapper] = &[
    CrossWrapper {
        program: "xx-apk",
        runs: "apk",
        config_only: &[],
        wrap: None,
        unwrap: None,
        target: TargetCache::Subdir {
            kind: "cache",
            name: apk_target_dir,
        },
    },
    CrossWrapper {
        program: "xx-apt-get",
        runs: "apt-get",
        config_only: &[],
        wrap: None,
        unwrap: None,
        target: TargetCache::Exec,
    },
    CrossWrapper {
        program: "xx-apt",
        runs: "apt",
        config_only: &[],
        wrap: None,
        unwrap: None,
        target: TargetCache::Exec,
    },
    // `xx-go --wrap` writes the target's GOOS/GOARCH into go's own configuration file
    // (`go env GOENV`): configuration, not a build, but every later `go` of the stage builds
    // for the target, also one that `make` or golangci-lint runs. `--unwrap` removes the file.
    CrossWrapper {
        program: "xx-go",
        runs: "go",
        config_only: &["--wrap", "--unwrap"],
        wrap: Some("--wrap"),
        unwrap: Some("--unwrap"),
        target: TargetCache::Ids,
    },
    // `xx-cargo --print-target-triple` and `--setup-target-triple` download nothing; cargo's own
    // trigger already ignores invocations without a subcommand.
    CrossWrapper {
        program: "xx-cargo",
        runs: "cargo",
        config_only: &[],
        wrap: None,
        unwrap: None,
        target: TargetCache::Ids,
    },
];

pub static INTERPRETERS: &[Interpreter] = &[
    Interpreter {
        programs: &["node", "nodejs"],
        options_with_value: &[
            "-r",
            "--require",
            "--import",
            "--loader",
            "--experimental-loader",
            "--conditions",
            "-C",
            "--title",
        ],
        inline_code: &["-e", "--eval", "-p", "--print"],
    },
    Interpreter {
        programs: &["php*"],
        options_with_value: &["-d", "-c", "-n"],
        inline_code: &["-r"],
    },
    Interpreter {
        programs: &["python*"],
        options_with_value: &["-W", "-X"],
        // `python -m pip` is each recipe's `python_module`, not a script.
        inline_code: &["-c", "-m"],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpine_arch_names_match_xx() {
        let names: Vec<Option<String>> = [
            ("amd64", ""),
            ("arm64", "v8"),
            ("arm", "v7"),
            ("arm", "v6"),
            ("386", ""),
            ("mips64", ""),
        ]
        .iter()
        .map(|(a, v)| apk_target_dir(&Platform::new("linux", a, v)))
        .collect();
        let want = [
            Some("_x86_64"),
            Some("_aarch64"),
            Some("_armv7"),
            Some("_armhf"),
            Some("_x86"),
            None,
        ];
        assert_eq!(names, want.map(|w| w.map(String::from)));
    }

    #[test]
    fn wrappers_run_tools_with_recipes() {
        for w in WRAPPERS {
            assert!(w.program.starts_with("xx-"), "{}", w.program);
            let known = crate::cache::recipes::all()
                .any(|r| r.triggers.iter().any(|t| t.programs.contains(&w.runs)));
            assert!(
                known,
                "{} runs {}, which no recipe triggers on",
                w.program, w.runs
            );
        }
    }
}
