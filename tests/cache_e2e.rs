//! Real builds proving hoard's cache claims.
//!
//! Each test builds naive Dockerfiles from `testdata/cache/<case>/` (no hand-written cache
//! mounts) with `docker buildx build --builder default` through hoard
//! (`--build-arg BUILDKIT_SYNTAX=$HOARD_IMAGE`) and, where a comparison is the point, with the
//! stock frontend. Evidence is read from the build output (`--progress=plain`: cargo's
//! `Compiling`/`Downloaded`, pip's `Building wheel`, apt's `Need to get`, `go build -v`), from
//! the bytes the measured step itself received (its Dockerfile prints its own
//! `/sys/class/net/eth0/statistics/rx_bytes` at the end; docker0's counter, printed alongside,
//! also counts every other container on the machine), from the images themselves
//! (`docker run`), and from `hoard explain --json`. No timing is asserted anywhere.
//!
//! Steps are forced to re-run with a fresh `BUST` build argument (every case has `ARG BUST`
//! before its cached step) rather than `--no-cache`, so the base layers stay cached.
//! Cold-cache runs use a fresh `BUILDKIT_CACHE_MOUNT_NS`, which namespaces every cache id.
//!
//! Run one test alone: `cargo test --test cache_e2e -- --exact apt` (names below). Tests that
//! need the engine fail when it is missing, unless `HOARD_SKIP_E2E=1` (skipped is not passed).
//! `HOARD_IMAGE` names the frontend image (default `hoard:dev`, made by `scripts/image.sh`).

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::cargo_demo::*;
use common::*;
use serde_json::Value;

// ------------------------------------------------------------------------------------------
// Harness

fn case_dir(case: &str) -> PathBuf {
    root().join("testdata/cache").join(case)
}

/// A copy of `testdata/cache/<case>` that the test may edit, in a scratch directory `name`
/// (kept alive by the returned guard).
fn case_copy(name: &str, case: &str) -> (Scratch, PathBuf) {
    let scratch = Scratch::new(name);
    let ctx = scratch.path.join("ctx");
    copy_tree(&case_dir(case), &ctx);
    (scratch, ctx)
}

/// Copies a directory tree (the build context, so a test can edit it).
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            fs::copy(e.path(), &dest).unwrap();
        }
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Fe {
    Stock,
    Hoard,
    /// hoard with `--build-arg HOARD=off`: the same frontend, no injection.
    HoardOff,
}

/// Bytes the build containers received so far (all traffic into docker0's containers).
fn docker0_rx() -> u64 {
    let p = "/sys/class/net/docker0/statistics/tx_bytes";
    fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("{p}: {e}"))
        .trim()
        .parse()
        .unwrap()
}

struct Built {
    ok: bool,
    text: String,
    /// docker0 bytes into containers during the build.
    bytes: u64,
}

impl Built {
    fn must(self, what: &str) -> Built {
        assert!(self.ok, "{what}: build failed:\n{}", tail(&self.text, 80));
        self
    }
}

/// The buildx arguments for one build: frontend, Dockerfile, build args, extra flags.
fn build_args(fe: Fe, dockerfile: &Path, args: &[(&str, &str)], extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = vec!["-f".into(), dockerfile.display().to_string()];
    if fe != Fe::Stock {
        v.extend(hoard_frontend());
    }
    if fe == Fe::HoardOff {
        v.extend(["--build-arg".into(), "HOARD=off".into()]);
    }
    for (k, val) in args {
        v.extend(["--build-arg".into(), format!("{k}={val}")]);
    }
    v.extend(extra.iter().map(|s| s.to_string()));
    v.push(".".into());
    v
}

/// One build in `ctx` (the Dockerfile defaults to `ctx/Dockerfile`).
fn build(
    ctx: &Path,
    fe: Fe,
    dockerfile: Option<&Path>,
    args: &[(&str, &str)],
    extra: &[&str],
) -> Built {
    let df = dockerfile
        .map(Path::to_path_buf)
        .unwrap_or_else(|| ctx.join("Dockerfile"));
    let before = docker0_rx();
    let out = buildx(ctx, &build_args(fe, &df, args, extra));
    let bytes = docker0_rx().saturating_sub(before);
    Built {
        ok: out.status.success(),
        text: output_text(&out),
        bytes,
    }
}

/// A `docker buildx build` running in the background, its progress output streamed to a
/// channel line by line (both stdout and stderr).
fn spawn_build(
    ctx: &Path,
    fe: Fe,
    dockerfile: &Path,
    args: &[(&str, &str)],
    extra: &[&str],
) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut cmd = Command::new("docker");
    cmd.current_dir(ctx)
        .args([
            "buildx",
            "build",
            "--builder",
            "default",
            "--progress=plain",
        ])
        .args(build_args(fe, dockerfile, args, extra))
        .env("DOCKER_BUILDKIT", "1")
        .env("BUILDX_NO_DEFAULT_ATTESTATIONS", "1")
        .env_remove("BUILDKIT_PROGRESS")
        .env_remove("BUILDX_BUILDER")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn docker buildx build");
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx2.send(l);
        }
    });
    std::thread::spawn(move || {
        for l in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    (child, rx)
}

/// The progress lines of the (last) step whose header line contains `needle`, without their
/// `#N 1.234 ` prefixes. Empty when the step never ran (or was CACHED).
fn step_log(text: &str, needle: &str) -> Vec<String> {
    let header = text
        .lines()
        .filter(|l| l.starts_with('#') && l.contains(" [") && l.contains(needle))
        .filter_map(|l| l.split_whitespace().next())
        .next_back();
    let Some(id) = header else { return Vec::new() };
    let prefix = format!("{id} ");
    text.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|rest| {
            // `1.234 message`: drop the timestamp.
            let (ts, msg) = rest.split_once(' ').unwrap_or((rest, ""));
            ts.parse::<f64>().is_ok().then(|| msg.to_string())
        })
        .collect()
}

fn docker_run(image: &str, args: &[&str]) -> String {
    docker_run_as(image, None, args)
}

fn docker_run_as(image: &str, user: Option<&str>, args: &[&str]) -> String {
    let mut cmd = Command::new("docker");
    cmd.args(["run", "--rm"]);
    if let Some(u) = user {
        cmd.args(["--user", u]);
    }
    let out = cmd.arg(image).args(args).output().expect("docker run");
    assert!(
        out.status.success(),
        "docker run {image} {args:?} failed: {}",
        output_text(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A tag removed again when the test ends.
struct Tag(String);

impl Tag {
    fn new(what: &str) -> Tag {
        Tag(format!(
            "hoard-cache-e2e/{}:{}",
            what,
            unique("t").replace('-', "")
        ))
    }
}

impl Drop for Tag {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["image", "rm", "-f", &self.0])
            .output();
    }
}

/// The cache mounts `explain` planned for the RUN on `line`, as `id target` strings.
fn planned_caches(report: &Value, line: u64) -> Vec<String> {
    report["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["line"].as_u64() == Some(line))
        .flat_map(|r| r["mounts"].as_array().cloned().unwrap_or_default())
        .filter(|m| m["type"] == "cache")
        .map(|m| {
            format!(
                "{} {}",
                m["id"].as_str().unwrap(),
                m["target"].as_str().unwrap()
            )
        })
        .collect()
}

/// The number in an apt `Need to get X of archives` / `Need to get X/Y of archives` line, in
/// bytes: (to download, total).
fn apt_need_to_get(lines: &[String]) -> Option<(u64, u64)> {
    let l = lines.iter().find(|l| l.starts_with("Need to get "))?;
    let amount = l
        .strip_prefix("Need to get ")?
        .strip_suffix(" of archives.")?;
    let parse = |s: &str| -> Option<u64> {
        let (n, unit) = s.trim().split_once(' ')?;
        let n: f64 = n.replace(',', "").parse().ok()?;
        let mul = match unit {
            "B" => 1.0,
            "kB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            _ => return None,
        };
        Some((n * mul) as u64)
    };
    match amount.split_once('/') {
        Some((a, b)) => Some((parse(a)?, parse(b)?)),
        None => {
            let n = parse(amount)?;
            Some((n, n))
        }
    }
}

/// The bytes the step's own network interface received, which the case Dockerfiles print at
/// the end of the measured RUN (`echo "rx-bytes: $(cat /sys/class/net/eth0/statistics/rx_bytes)"`):
/// unlike docker0's counter, no other container on the machine adds to it.
fn step_rx(text: &str, needle: &str) -> u64 {
    let log = step_log(text, needle);
    log.iter()
        .find_map(|l| l.strip_prefix("rx-bytes: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "the `{needle}` step printed no rx-bytes line:\n{}",
                log.join("\n")
            )
        })
}

/// The re-run comparison of the download-cache cases: a stock build, a hoard warm-up and a
/// forced hoard re-run (`--load`ed as `tag`), each with a fresh `BUST`. Returns both builds and
/// what the step matching `step` received in each (printed, with docker0's totals).
fn stock_and_hoard_rerun(case: &str, tag: &Tag, step: &str) -> (Built, Built, u64, u64) {
    let ctx = case_dir(case);
    let bust = || unique("bust");
    let stock =
        build(&ctx, Fe::Stock, None, &[("BUST", &bust())], &[]).must(&format!("{case}, stock"));
    build(&ctx, Fe::Hoard, None, &[("BUST", &bust())], &[]).must(&format!("{case}, hoard warm-up"));
    let hoard = build(
        &ctx,
        Fe::Hoard,
        None,
        &[("BUST", &bust())],
        &["--load", "-t", &tag.0],
    )
    .must(&format!("{case}, hoard re-run"));
    let (stock_rx, hoard_rx) = (step_rx(&stock.text, step), step_rx(&hoard.text, step));
    eprintln!(
        "{case} re-run: step received stock {} hoard {} (docker0, all containers: stock {} hoard {})",
        mb(stock_rx),
        mb(hoard_rx),
        mb(stock.bytes),
        mb(hoard.bytes)
    );
    (stock, hoard, stock_rx, hoard_rx)
}

/// A forced re-run of `step` (which must print a line starting with or containing `worked`)
/// receives under a quarter of the stock re-run's bytes, and the image prints `says`.
fn rerun_receives_a_quarter(case: &str, step: &str, worked: &str, says: &str) {
    let tag = Tag::new(case);
    let (_, hoard, stock_rx, hoard_rx) = stock_and_hoard_rerun(case, &tag, step);
    let log = step_log(&hoard.text, step);
    eprintln!("hoard {case} step:\n  {}", log.join("\n  "));
    assert!(
        log.iter().any(|l| l.contains(worked)),
        "the {case} step did not run ({worked:?} missing):\n{}",
        log.join("\n")
    );
    assert!(
        hoard_rx * 4 < stock_rx,
        "{case} re-run received {}, not under 25% of the stock re-run's {}",
        mb(hoard_rx),
        mb(stock_rx)
    );
    assert_eq!(docker_run(&tag.0, &[]).trim(), says);
}

/// The step printed its binary's ELF `e_machine` (`od` of bytes 18-19) as arm64's: `b7 00`.
fn assert_arm64(log: &[String]) {
    assert!(
        log.iter()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["machine:", "b7", "00"]),
        "not an arm64 binary (ELF e_machine):\n{}",
        log.join("\n")
    );
}

fn mb(b: u64) -> String {
    format!("{:.2} MB", b as f64 / 1e6)
}

// ------------------------------------------------------------------------------------------
// 1. cargo, multi-stage and same-RUN

/// Builder stage compiles a crate with four crates.io dependencies; the final stage copies the
/// binary out of `target/release`. After a source change the rebuild recompiles only the crate
/// itself and downloads nothing.
#[test]
fn cargo_multi_stage() {
    if !e2e_enabled("cargo_multi_stage") {
        return;
    }
    let (_scratch, ctx) = case_copy("cache-cargo", "cargo");
    let tag = Tag::new("cargo");

    // Unique messages: an earlier run's identical context would make the step a layer-cache hit.
    let msg = ctx.join("src/message.rs");
    let (w1, w2) = (
        unique("first").replace('-', ""),
        unique("second").replace('-', ""),
    );
    fs::write(&msg, format!("pub const TEXT: &str = \"{w1}\";\n")).unwrap();
    let first = build(&ctx, Fe::Hoard, None, &[], &["--load", "-t", &tag.0])
        .must("cargo, first hoard build");
    assert_eq!(
        docker_run(&tag.0, &[]).trim(),
        format!("{w1} 42 6869 4"),
        "first build's binary"
    );
    let log1 = step_log(&first.text, "cargo build");
    eprintln!("first build, cargo step:\n  {}", log1.join("\n  "));

    fs::write(&msg, format!("pub const TEXT: &str = \"{w2}\";\n")).unwrap();
    let second = build(&ctx, Fe::Hoard, None, &[], &["--load", "-t", &tag.0])
        .must("cargo, rebuild after a source change");
    let log = step_log(&second.text, "cargo build");
    eprintln!("rebuild, cargo step:\n  {}", log.join("\n  "));
    assert_warm_cargo(&log, "rebuild after a source change");
    assert_eq!(
        docker_run(&tag.0, &[]).trim(),
        format!("{w2} 42 6869 4"),
        "the rebuilt binary is the new one"
    );
}

/// `cargo build --release && cp target/release/demo /usr/local/bin/` in one RUN.
#[test]
fn cargo_same_run() {
    if !e2e_enabled("cargo_same_run") {
        return;
    }
    let (_scratch, ctx) = case_copy("cache-cargo-same-run", "cargo");
    let word = unique("same-run").replace('-', "");
    fs::write(
        ctx.join("src/message.rs"),
        format!("pub const TEXT: &str = \"{word}\";\n"),
    )
    .unwrap();
    let tag = Tag::new("cargo-same-run");
    let df = ctx.join("Dockerfile.samerun");
    let b = build(&ctx, Fe::Hoard, Some(&df), &[], &["--load", "-t", &tag.0])
        .must("cargo build && cp in one RUN");
    eprintln!("{}", step_log(&b.text, "cargo build").join("\n"));
    assert_eq!(docker_run(&tag.0, &[]).trim(), format!("{word} 42 6869 4"));
    let report = explain(&df, &[]);
    let caches = planned_caches(&report, 6);
    assert!(
        caches.iter().any(|c| c.starts_with("hoard/cargo/target")),
        "no target cache planned for the cargo step: {caches:?}"
    );
}

/// Build the crate with a new `message.rs`, then with the old one again, whose mtime is older
/// than that build (a release tarball, an older checkout copied with its mtimes, another
/// project with the same name and WORKDIR): the second binary must have the old message.
/// Stock always compiles from scratch; a target directory kept in a cache must not hand back
/// the previous build's artifacts.
#[test]
fn cargo_older_source_is_rebuilt() {
    if !e2e_enabled("cargo_older_source_is_rebuilt") {
        return;
    }
    let (_scratch, ctx) = case_copy("cache-cargo-older", "cargo");
    let df = ctx.join("Dockerfile.samerun");
    let tag = Tag::new("cargo-older");
    let msg = ctx.join("src/message.rs");
    let old = fs::read_to_string(&msg).unwrap();
    let newer = unique("newer").replace('-', "");
    fs::write(&msg, format!("pub const TEXT: &str = \"{newer}\";\n")).unwrap();
    build(&ctx, Fe::Hoard, Some(&df), &[], &["--load", "-t", &tag.0]).must("cargo, newer source");
    assert_eq!(docker_run(&tag.0, &[]).trim(), format!("{newer} 42 6869 4"));
    fs::write(&msg, &old).unwrap();
    let st = Command::new("touch")
        .args(["-d", "2024-01-01 00:00:00"])
        .arg(&msg)
        .status()
        .unwrap();
    assert!(st.success());
    let b = build(&ctx, Fe::Hoard, Some(&df), &[], &["--load", "-t", &tag.0])
        .must("cargo, older source");
    eprintln!("{}", step_log(&b.text, "cargo build").join("\n"));
    assert_eq!(
        docker_run(&tag.0, &[]).trim(),
        "hoard-cargo-demo v1 42 6869 4",
        "the image has the previous build's binary, not one built from the source in the context"
    );
}

/// The same for a path dependency outside the workspace (`words = { path = "../words" }`, not a
/// member, so `cargo metadata` does not name it): an older checkout of it must be rebuilt too,
/// whether the app's Cargo.lock names it (without a source) or there is no Cargo.lock and the
/// shim follows the manifests' `path` dependencies.
#[test]
fn cargo_older_path_dependency_is_rebuilt() {
    if !e2e_enabled("cargo_older_path_dependency_is_rebuilt") {
        return;
    }
    for lockfile in [true, false] {
        let (_scratch, ctx) = case_copy(
            if lockfile {
                "cache-cargo-pathdep"
            } else {
                "cache-cargo-pathdep-nolock"
            },
            "cargo-pathdep",
        );
        if !lockfile {
            fs::remove_file(ctx.join("app/Cargo.lock")).unwrap();
        }
        let tag = Tag::new("cargo-pathdep");
        // A fresh id in the app (a member) in both builds, so neither is a layer-cache hit; one
        // cache namespace so the second build starts from the first one's target cache.
        let ns = unique("pathdep");
        let lib = ctx.join("words/src/lib.rs");
        let old = fs::read_to_string(&lib).unwrap();
        let (id1, id2, newer) = (
            unique("a").replace('-', ""),
            unique("b").replace('-', ""),
            unique("newer").replace('-', ""),
        );
        fs::write(
            ctx.join("app/src/id.rs"),
            format!("pub const RUN: &str = \"{id1}\";\n"),
        )
        .unwrap();
        fs::write(&lib, format!("pub const TEXT: &str = \"{newer}\";\n")).unwrap();
        build(
            &ctx,
            Fe::Hoard,
            None,
            &[("BUILDKIT_CACHE_MOUNT_NS", &ns)],
            &["--load", "-t", &tag.0],
        )
        .must("cargo, newer path dependency");
        assert_eq!(docker_run(&tag.0, &[]).trim(), format!("{id1} {newer}"));

        fs::write(
            ctx.join("app/src/id.rs"),
            format!("pub const RUN: &str = \"{id2}\";\n"),
        )
        .unwrap();
        fs::write(&lib, &old).unwrap();
        let st = Command::new("touch")
            .args(["-d", "2024-01-01 00:00:00"])
            .arg(&lib)
            .status()
            .unwrap();
        assert!(st.success());
        let b = build(
            &ctx,
            Fe::Hoard,
            None,
            &[("BUILDKIT_CACHE_MOUNT_NS", &ns)],
            &["--load", "-t", &tag.0],
        )
        .must("cargo, older path dependency");
        let log = step_log(&b.text, "cargo build");
        eprintln!("Cargo.lock in the context: {lockfile}\n{}", log.join("\n"));
        assert!(
            log.iter().any(|l| l.contains("Compiling words")),
            "the path dependency was not recompiled (Cargo.lock: {lockfile}):\n{}",
            log.join("\n")
        );
        assert_eq!(
            docker_run(&tag.0, &[]).trim(),
            format!("{id2} v1"),
            "the image has the previous build's path dependency, not the one in the context (Cargo.lock: {lockfile})"
        );
    }
}

// ------------------------------------------------------------------------------------------
// 2. apt

/// `apt-get update && apt-get install -y curl git && rm -rf /var/lib/apt/lists/*`: a forced
/// re-run downloads far less with hoard than with the stock frontend, and the image is clean.
#[test]
fn apt() {
    if !e2e_enabled("apt") {
        return;
    }
    let tag = Tag::new("apt");
    let (_, hoard, stock_rx, hoard_rx) = stock_and_hoard_rerun("apt", &tag, "apt-get install");
    let log = step_log(&hoard.text, "apt-get install");
    let quiet = [
        "Get:",
        "Selecting",
        "Preparing",
        "Unpacking",
        "Setting up",
        "(Reading database",
    ];
    let shown: Vec<String> = log
        .iter()
        .filter(|l| !quiet.iter().any(|q| l.starts_with(q)))
        .cloned()
        .collect();
    eprintln!("hoard apt step:\n  {}", shown.join("\n  "));
    let need = apt_need_to_get(&log);
    assert!(
        matches!(need, Some((0, total)) if total > 0),
        "apt had to download packages again: {need:?}"
    );
    assert!(
        hoard_rx * 10 < stock_rx,
        "hoard's re-run received {}, not under 10% of the stock re-run's {}",
        mb(hoard_rx),
        mb(stock_rx)
    );
    // A clean image: no lists, no archives.
    let leftovers = docker_run(
        &tag.0,
        &["sh", "-c", "find /var/lib/apt/lists -mindepth 1; find /var/cache/apt -name '*.deb' -o -name '*.bin'; git --version >/dev/null && curl --version >/dev/null && echo tools-ok"],
    );
    assert_eq!(
        leftovers.trim(),
        "tools-ok",
        "the hoard image is not clean (or git/curl missing)"
    );
    // apt's parsed lists (srcpkgcache.bin) are kept in the archives cache, not rebuilt by every
    // apt command: look into that cache mount by its documented id.
    let scratch = Scratch::new("cache-apt-srcpkgcache");
    let df = scratch.path.join("Dockerfile");
    fs::write(
        &df,
        "FROM hoard-test/debian:bookworm\nARG BUST\n\
         RUN --mount=type=cache,id=hoard/apt/archives/linux-amd64/hoard-test-debian-bookworm,target=/c,sharing=locked \\\n\
         \x20   echo \"$BUST\" && ls /c\n",
    )
    .unwrap();
    let b = build(
        &scratch.path,
        Fe::Stock,
        Some(&df),
        &[("BUST", &unique("bust"))],
        &[],
    )
    .must("apt, the archives cache");
    let listing = step_log(&b.text, "ls /c");
    assert!(
        listing.iter().any(|l| l.trim() == "srcpkgcache.bin"),
        "no srcpkgcache.bin in the archives cache:\n{}",
        listing.join("\n")
    );
}

// ------------------------------------------------------------------------------------------
// 3. pip sdists as a non-root user

const PIP_SDISTS: &[&str] = &["docopt", "termcolor", "pyperclip"];

/// `USER app` + a venv + three sdist-only packages: the forced re-run builds no wheel, and
/// everything under the user's home belongs to the user.
#[test]
fn pip_sdists_non_root() {
    if !e2e_enabled("pip_sdists_non_root") {
        return;
    }
    let ctx = case_dir("pip");
    let tag = Tag::new("pip");
    let first = build(&ctx, Fe::Hoard, None, &[("BUST", &unique("bust"))], &[])
        .must("pip, first hoard build");
    eprintln!(
        "first pip step:\n  {}",
        step_log(&first.text, "pip install docopt").join("\n  ")
    );
    let second = build(
        &ctx,
        Fe::Hoard,
        None,
        &[("BUST", &unique("bust"))],
        &["--load", "-t", &tag.0],
    )
    .must("pip, re-run");
    let log = step_log(&second.text, "pip install docopt");
    eprintln!("re-run pip step:\n  {}", log.join("\n  "));
    assert!(
        log.iter().any(|l| l.starts_with("Successfully installed")),
        "the pip step did not run:\n{}",
        log.join("\n")
    );
    let built: Vec<&String> = log
        .iter()
        .filter(|l| {
            let l = l.trim_start();
            l.starts_with("Building wheel for")
                || l.starts_with("Created wheel for")
                || l.starts_with("Running setup.py install")
        })
        .collect();
    assert!(
        built.is_empty(),
        "the re-run built the sdists again instead of reusing the wheels: {built:?}"
    );
    for p in PIP_SDISTS {
        assert!(
            log.iter().any(
                |l| l.trim_start().starts_with(&format!("Using cached {p}-"))
                    && l.ends_with(".whl")
            ),
            "no `Using cached {p}-...whl` line: the wheel built earlier was not reused"
        );
    }
    assert_eq!(docker_run(&tag.0, &[]).trim(), "pip ok 0.6.2");
    let foreign = docker_run_as(
        &tag.0,
        Some("0"),
        &["sh", "-c", "find /home/app ! -user app -printf '%u %p\\n'"],
    );
    assert!(
        foreign.trim().is_empty(),
        "files under /home/app not owned by app:\n{foreign}"
    );
}

// ------------------------------------------------------------------------------------------
// 4. uv

/// `uv venv` + `uv pip install numpy six`: a forced re-run receives far fewer bytes.
#[test]
fn uv() {
    if !e2e_enabled("uv") {
        return;
    }
    rerun_receives_a_quarter("uv", "uv pip install", "Installed ", "uv ok 2.2.6");
}

// ------------------------------------------------------------------------------------------
// 5. npm

/// `npm ci` with a lockfile (typescript, ms): a forced re-run receives far fewer bytes and
/// `node_modules` is in the image.
#[test]
fn npm() {
    if !e2e_enabled("npm") {
        return;
    }
    rerun_receives_a_quarter("npm", "npm ci", "added ", "npm ok 1m 5.4.5");
}

// ------------------------------------------------------------------------------------------
// 6. go

/// A two-package stdlib-only module: after changing `main.go`, `go build -v` rebuilds only the
/// main package (the other comes from the build cache), and the binary runs.
#[test]
fn go() {
    if !e2e_enabled("go") {
        return;
    }
    let (_scratch, ctx) = case_copy("cache-go", "go");
    let tag = Tag::new("go");
    let report = explain(&ctx.join("Dockerfile"), &[]);
    let caches = planned_caches(&report, 5);
    assert!(
        caches.iter().any(|c| c.starts_with("hoard/go/build")),
        "no go build cache planned: {caches:?}"
    );

    // Unique versions: an earlier run's identical context would make the step a layer-cache hit.
    let main = fs::read_to_string(ctx.join("main.go")).unwrap();
    let (v1, v2) = (
        unique("first").replace('-', ""),
        unique("second").replace('-', ""),
    );
    fs::write(
        ctx.join("main.go"),
        main.replace("\"v1\"", &format!("\"{v1}\"")),
    )
    .unwrap();
    let first =
        build(&ctx, Fe::Hoard, None, &[], &["--load", "-t", &tag.0]).must("go, first build");
    eprintln!(
        "first go step:\n  {}",
        step_log(&first.text, "go build").join("\n  ")
    );
    assert_eq!(docker_run(&tag.0, &[]).trim(), format!("hello GO {v1}"));
    fs::write(
        ctx.join("main.go"),
        main.replace("\"v1\"", &format!("\"{v2}\"")),
    )
    .unwrap();
    let second = build(&ctx, Fe::Hoard, None, &[], &["--load", "-t", &tag.0]).must("go, rebuild");
    let log = step_log(&second.text, "go build");
    eprintln!("rebuild go step:\n  {}", log.join("\n  "));
    assert!(
        log.iter().any(|l| l == "example.com/hello"),
        "go build -v did not build the main package:\n{}",
        log.join("\n")
    );
    assert!(
        !log.iter().any(|l| l == "example.com/hello/greet"),
        "the unchanged package was compiled again (no build cache):\n{}",
        log.join("\n")
    );
    assert_eq!(docker_run(&tag.0, &[]).trim(), format!("hello GO {v2}"));
}

// ------------------------------------------------------------------------------------------
// 7. zig

/// `python3 -m ziglang cc`: the re-run starts with zig's global cache already filled.
#[test]
fn zig() {
    if !e2e_enabled("zig") {
        return;
    }
    let ctx = case_dir("zig");
    let tag = Tag::new("zig");
    let report = explain(&ctx.join("Dockerfile"), &[]);
    let caches = planned_caches(&report, 9);
    assert!(
        caches.iter().any(|c| c.starts_with("hoard/zig/")),
        "no zig cache planned: {caches:?}"
    );
    build(&ctx, Fe::Hoard, None, &[("BUST", &unique("bust"))], &[]).must("zig, first build");
    let second = build(
        &ctx,
        Fe::Hoard,
        None,
        &[("BUST", &unique("bust"))],
        &["--load", "-t", &tag.0],
    )
    .must("zig, re-run");
    let log = step_log(&second.text, "ziglang cc");
    eprintln!("re-run zig step:\n  {}", log.join("\n  "));
    let entries: u64 = log
        .iter()
        .find_map(|l| l.strip_prefix("zig-cache-entries: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("the zig step printed no cache count:\n{}", log.join("\n")));
    assert!(
        entries > 0,
        "zig's global cache was empty when the re-run started"
    );
    assert_eq!(docker_run(&tag.0, &[]).trim(), "zig ok");
}

// ------------------------------------------------------------------------------------------
// 7b. detection kinds (issue 11): tools behind wrappers and interpreters, ccache wired through
// PATH, COPY into `/`, the author's own cache mounts. Each builds twice with hoard and reads
// what the measured step found at its start, printed by the step itself.

/// The detected tools of the RUN on `line` as `tool:cache` strings (`cache`: hoard/yours/none).
fn tools_at(report: &Value, line: u64) -> Vec<String> {
    let run = report["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["line"].as_u64() == Some(line))
        .cloned();
    let run = run.unwrap_or_else(|| panic!("no RUN at line {line}: {report}"));
    let mut t: Vec<String> = run["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{}:{}",
                t["tool"].as_str().unwrap(),
                t["cache"].as_str().unwrap()
            )
        })
        .collect();
    t.dedup();
    t
}

/// The number after `<key>: ` that the step matching `needle` printed.
fn step_number(text: &str, needle: &str, key: &str) -> u64 {
    let log = step_log(text, needle);
    let prefix = format!("{key}: ");
    log.iter()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "the `{needle}` step printed no `{key}` line:\n{}",
                log.join("\n")
            )
        })
}

/// A tonistiigi/xx-style `xx-go` (a script that sets GOOS/GOARCH from TARGETPLATFORM and execs
/// go): hoard runs go's recipe for it, with the build cache keyed by the *target* platform, and
/// after a change to `main.go` only the main package is compiled again for arm64.
#[test]
fn xx_wrapper() {
    if !e2e_enabled("xx_wrapper") {
        return;
    }
    let (_scratch, ctx) = case_copy("cache-xx-go", "xx-go");
    let report = explain(&ctx.join("Dockerfile"), &[]);
    assert_eq!(tools_at(&report, 8), ["go:hoard"], "{report}");
    let caches = planned_caches(&report, 8);
    assert!(
        caches.contains(&"hoard/go/build/linux-arm64 /var/cache/hoard/go/build".to_string()),
        "{caches:?}"
    );
    let main = fs::read_to_string(ctx.join("main.go")).unwrap();
    for (n, what) in ["first", "second"].iter().enumerate() {
        let v = unique(what).replace('-', "");
        fs::write(
            ctx.join("main.go"),
            main.replace("\"v1\"", &format!("\"{v}\"")),
        )
        .unwrap();
        let built = build(&ctx, Fe::Hoard, None, &[], &[]).must(&format!("xx-go, build {}", n + 1));
        let log = step_log(&built.text, "xx-go build");
        eprintln!("xx-go build {}:\n  {}", n + 1, log.join("\n  "));
        assert_arm64(&log);
        assert!(
            log.iter().any(|l| l == "example.com/hello"),
            "main package not built:\n{}",
            log.join("\n")
        );
        if n == 1 {
            assert!(
                !log.iter().any(|l| l == "example.com/hello/greet"),
                "the unchanged package was compiled again for arm64 (no target build cache):\n{}",
                log.join("\n")
            );
        }
    }
}

/// npm reached through its interpreter and script path (`node .../npm-cli.js ci`): hoard mounts
/// npm's cache, and the re-run starts with it filled.
#[test]
fn interpreter_script() {
    if !e2e_enabled("interpreter_script") {
        return;
    }
    let (_scratch, ctx) = case_copy("cache-interp", "npm");
    fs::copy(
        case_dir("interp").join("Dockerfile"),
        ctx.join("Dockerfile"),
    )
    .unwrap();
    let report = explain(&ctx.join("Dockerfile"), &[]);
    assert_eq!(tools_at(&report, 8), ["npm:hoard"], "{report}");
    let tag = Tag::new("interp");
    let ns = unique("ns");
    let b1 = unique("bust");
    let first = build(
        &ctx,
        Fe::Hoard,
        None,
        &[("BUST", &b1), ("BUILDKIT_CACHE_MOUNT_NS", &ns)],
        &[],
    )
    .must("npm-cli.js, first");
    assert_eq!(
        step_number(&first.text, "npm-cli.js", "cached-files"),
        0,
        "a fresh namespace starts empty"
    );
    let b2 = unique("bust");
    let second = build(
        &ctx,
        Fe::Hoard,
        None,
        &[("BUST", &b2), ("BUILDKIT_CACHE_MOUNT_NS", &ns)],
        &["--load", "-t", &tag.0],
    )
    .must("npm-cli.js, re-run");
    let n = step_number(&second.text, "npm-cli.js", "cached-files");
    assert!(n > 0, "the re-run found npm's cache empty");
    assert_eq!(docker_run(&tag.0, &[]).trim(), "npm ok 1m 5.4.5");
}

/// ccache's symlink dir first on PATH and a plain `make`: hoard mounts ccache's cache (the
/// re-run finds the first run's results in it); `ccache --set-config` alone gets nothing.
#[test]
fn ccache_through_path() {
    if !e2e_enabled("ccache_through_path") {
        return;
    }
    let ctx = case_dir("ccache-path");
    let report = explain(&ctx.join("Dockerfile"), &[]);
    assert!(
        tools_at(&report, 4).is_empty(),
        "configuration only: {report}"
    );
    assert_eq!(tools_at(&report, 10), ["ccache:hoard"], "{report}");
    let ns = unique("ns");
    let tag = Tag::new("ccache");
    let b1 = unique("bust");
    build(
        &ctx,
        Fe::Hoard,
        None,
        &[("BUST", &b1), ("BUILDKIT_CACHE_MOUNT_NS", &ns)],
        &[],
    )
    .must("ccache, first");
    let b2 = unique("bust");
    let second = build(
        &ctx,
        Fe::Hoard,
        None,
        &[("BUST", &b2), ("BUILDKIT_CACHE_MOUNT_NS", &ns)],
        &["--load", "-t", &tag.0],
    )
    .must("ccache, re-run");
    let n = step_number(&second.text, "make", "cached-files");
    assert!(
        n > 0,
        "the re-run found no ccache results from the first run"
    );
    assert!(step_log(&second.text, "make")
        .iter()
        .any(|l| l == "ccache ok"));
}

/// `xx-go --wrap` in a base stage, then a plain `make` that runs plain `go` in a stage built on
/// it (buildkit's containerd and stargz stages), directly and inside a script a COPY heredoc
/// wrote: hoard mounts Go's caches on the `make` step with the *target's* build cache id; the
/// binary is arm64, the rebuild after an edit of `main.go` compiles only the main package, the
/// script's build compiles nothing, and the images are the stock frontend's (but for the build
/// cache the stock build leaves in `/root/.cache`).
#[test]
fn make_after_xx_go_wrap() {
    if !e2e_enabled("make_after_xx_go_wrap") {
        return;
    }
    let (_scratch, ctx) = case_copy("cache-xx-go-wrap", "xx-go-wrap");
    let report = explain(&ctx.join("Dockerfile"), &[]);
    assert!(
        tools_at(&report, 8).is_empty(),
        "configuration only: {report}"
    );
    assert_eq!(tools_at(&report, 14), ["go:hoard"], "{report}");
    let caches = planned_caches(&report, 14);
    assert!(
        caches.contains(&"hoard/go/build/linux-arm64 /var/cache/hoard/go/build".to_string()),
        "{caches:?}"
    );
    let ns = unique("ns");
    let main = fs::read_to_string(ctx.join("main.go")).unwrap();
    for (n, what) in ["first", "second"].iter().enumerate() {
        let v = unique(what).replace('-', "");
        fs::write(
            ctx.join("main.go"),
            main.replace("\"v1\"", &format!("\"{v}\"")),
        )
        .unwrap();
        let built = build(
            &ctx,
            Fe::Hoard,
            None,
            &[("BUST", &v), ("BUILDKIT_CACHE_MOUNT_NS", &ns)],
            &["--target", "build"],
        )
        .must(&format!("make after xx-go --wrap, build {}", n + 1));
        let log = step_log(&built.text, "make");
        eprintln!("make, build {}:\n  {}", n + 1, log.join("\n  "));
        assert_arm64(&log);
        assert!(
            log.iter().any(|l| l == "example.com/hello"),
            "main package not built:\n{}",
            log.join("\n")
        );
        let greet = log.iter().any(|l| l == "example.com/hello/greet");
        if n == 0 {
            assert!(
                greet,
                "a fresh namespace compiles every package:\n{}",
                log.join("\n")
            );
        } else {
            assert!(
                !greet,
                "the unchanged package was compiled again for arm64 (no target build cache):\n{}",
                log.join("\n")
            );
        }
    }
    // The same `make` inside a script a COPY heredoc wrote: the same caches, so the script's
    // build finds both packages compiled for arm64 by the builds above.
    assert_eq!(tools_at(&report, 26), ["go:hoard"], "{report}");
    assert!(
        planned_caches(&report, 26)
            .contains(&"hoard/go/build/linux-arm64 /var/cache/hoard/go/build".to_string()),
        "{report}"
    );
    let built = build(
        &ctx,
        Fe::Hoard,
        None,
        &[("BUST", &unique("bust")), ("BUILDKIT_CACHE_MOUNT_NS", &ns)],
        &["--target", "script"],
    )
    .must("make in a script after xx-go --wrap");
    let log = step_log(&built.text, "/build.sh");
    eprintln!("/build.sh:\n  {}", log.join("\n  "));
    assert_arm64(&log);
    assert!(
        !log.iter().any(|l| l.starts_with("example.com/hello")),
        "packages compiled again (the script's go saw no target build cache):\n{}",
        log.join("\n")
    );
    for target in ["build", "script"] {
        same_image(
            "xx-go-wrap",
            &case_dir("xx-go-wrap").join("Dockerfile"),
            Some(target),
            &["/root/.cache"],
            &["/out/hello", "/root/.config/go/env"],
        );
    }
}

/// The step mounts its own cache at ccache's default directory (`/root/.ccache`) and runs only
/// `make`, the launcher set in the Makefile (ollama's cmake presets): `explain` reports ccache
/// with the author's cache, hoard adds no mount and leaves CCACHE_DIR alone, the re-run finds
/// the first run's results in the author's cache, and the image is the stock frontend's.
#[test]
fn ccache_in_authors_mount() {
    if !e2e_enabled("ccache_in_authors_mount") {
        return;
    }
    let ctx = case_dir("ccache-mount");
    let report = explain(&ctx.join("Dockerfile"), &[]);
    assert_eq!(tools_at(&report, 7), ["ccache:yours"], "{report}");
    let run = report["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["line"] == 7)
        .unwrap();
    assert!(
        run["mounts"].as_array().unwrap().is_empty() && run["env"].as_array().unwrap().is_empty(),
        "hoard adds nothing to the author's ccache: {run}"
    );
    let ns = unique("ns");
    let mut counts = Vec::new();
    for (n, what) in ["first", "re-run"].iter().enumerate() {
        let built = build(
            &ctx,
            Fe::Hoard,
            None,
            &[("BUST", &unique("bust")), ("BUILDKIT_CACHE_MOUNT_NS", &ns)],
            &[],
        )
        .must(&format!("ccache in the author's mount, {what}"));
        let log = step_log(&built.text, "make");
        eprintln!("ccache, build {}:\n  {}", n + 1, log.join("\n  "));
        assert!(log.iter().any(|l| l == "ccache ok"), "{}", log.join("\n"));
        assert!(
            log.iter().any(|l| l == "ccache-dir: default"),
            "CCACHE_DIR was set: {}",
            log.join("\n")
        );
        counts.push(step_number(&built.text, "make", "cached-files"));
    }
    assert_eq!(counts[0], 0, "a fresh namespace starts empty");
    assert!(
        counts[1] > 0,
        "the re-run found no ccache results from the first run in the author's cache"
    );
    same_image("ccache-mount", &ctx.join("Dockerfile"), None, &[], &[]);
}

/// A `COPY rootfs/ /` no longer keeps apt from hoard's own caches (the re-run starts with the
/// package lists), and a step with its own `/var/cache/apt` and `/var/lib/apt/lists` cache
/// mounts keeps using them: its re-run finds the `.deb` it downloaded in *its* archives.
#[test]
fn copy_into_root_and_authors_apt_caches() {
    if !e2e_enabled("copy_into_root_and_authors_apt_caches") {
        return;
    }
    let ctx = case_dir("apt-root");
    let report = explain(&ctx.join("Dockerfile"), &[]);
    assert_eq!(tools_at(&report, 6), ["apt:hoard"], "{report}");
    assert_eq!(tools_at(&report, 9), ["apt:yours"], "{report}");
    assert!(planned_caches(&report, 9).is_empty(), "{report}");
    let ns = unique("ns");
    let tag = Tag::new("aptroot");
    let b1 = unique("bust");
    let first = build(
        &ctx,
        Fe::Hoard,
        None,
        &[("BUST", &b1), ("BUILDKIT_CACHE_MOUNT_NS", &ns)],
        &[],
    )
    .must("apt-root, first");
    assert_eq!(
        step_number(
            &first.text,
            "install -y --no-install-recommends hello",
            "lists-at-start"
        ),
        0
    );
    let b2 = unique("bust");
    let second = build(
        &ctx,
        Fe::Hoard,
        None,
        &[("BUST", &b2), ("BUILDKIT_CACHE_MOUNT_NS", &ns)],
        &["--load", "-t", &tag.0],
    )
    .must("apt-root, re-run");
    let lists = step_number(
        &second.text,
        "install -y --no-install-recommends hello",
        "lists-at-start",
    );
    assert!(lists > 0, "after COPY into /, apt's lists were not cached");
    let debs = step_number(&second.text, "figlet", "debs-at-start");
    assert!(
        debs > 0,
        "the author's /var/cache/apt kept no .deb: hoard pointed apt elsewhere"
    );
    assert_eq!(docker_run(&tag.0, &[]).trim(), "Hello, world!");
}

// ------------------------------------------------------------------------------------------
// 8. planned only (tools that cannot download here)

/// `hoard explain` on a Dockerfile whose base image is in the local engine reads its config
/// (without `--no-docker`).
#[test]
fn explain_reads_local_base_image() {
    if !e2e_enabled("explain_reads_local_base_image") {
        return;
    }
    let df = case_dir("apt").join("Dockerfile");
    let out = Command::new(env!("CARGO_BIN_EXE_hoard"))
        .args(["explain", "--json"])
        .arg(&df)
        .output()
        .expect("run hoard explain");
    assert!(
        out.status.success(),
        "hoard explain {} failed: {}",
        df.display(),
        output_text(&out)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["assumptions"].as_array().map(Vec::len),
        Some(0),
        "the local image was not used: {report}"
    );
}

// ------------------------------------------------------------------------------------------
// 9. concurrency

/// Two builds at once, each re-running apt, pip and cargo steps on the same caches.
#[test]
fn concurrency() {
    if !e2e_enabled("concurrency") {
        return;
    }
    let ctx = case_dir("cargo");
    let df = case_dir("concurrency").join("Dockerfile");
    let (b1, b2) = (unique("bust"), unique("bust"));
    let (mut c1, r1) = spawn_build(&ctx, Fe::Hoard, &df, &[("BUST", &b1)], &[]);
    let (mut c2, r2) = spawn_build(&ctx, Fe::Hoard, &df, &[("BUST", &b2)], &[]);
    let s1 = c1.wait().unwrap();
    let s2 = c2.wait().unwrap();
    // `iter`, not `try_iter`: the reader threads may still be forwarding the last lines after
    // the process has exited (a loaded machine lost whole steps' logs that way).
    let t1: String = r1.iter().collect::<Vec<_>>().join("\n");
    let t2: String = r2.iter().collect::<Vec<_>>().join("\n");
    assert!(
        s1.success(),
        "first concurrent build failed:\n{}",
        tail(&t1, 80)
    );
    assert!(
        s2.success(),
        "second concurrent build failed:\n{}",
        tail(&t2, 80)
    );
    for (t, name) in [(&t1, "first"), (&t2, "second")] {
        for (needle, proof) in [
            ("apt-get install", "Setting up"),
            ("pip install", "Successfully installed"),
            ("cargo build", "Finished"),
        ] {
            let log = step_log(t, needle);
            assert!(
                log.iter().any(|l| l.contains(proof)),
                "{name} build: the `{needle}` step did not run to the end (no {proof:?}):\n{}",
                log.join("\n")
            );
        }
    }
}

// ------------------------------------------------------------------------------------------
// 10. cancellation

/// Kill the buildx client while apt unpacks (all archives downloaded into a cold cache), build
/// again: it succeeds and downloads less than the cold run needed.
#[test]
fn cancellation() {
    if !e2e_enabled("cancellation") {
        return;
    }
    let ctx = case_dir("cancel");
    let df = ctx.join("Dockerfile");
    let ns = unique("hoard-e2e-cancel");
    let args = [
        ("BUST", unique("bust")),
        ("BUILDKIT_CACHE_MOUNT_NS", ns.clone()),
    ];
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (mut child, rx) = spawn_build(&ctx, Fe::Hoard, &df, &args, &[]);
    let mut seen = Vec::new();
    let mut killed = false;
    for line in rx.iter() {
        let unpacking = line.contains(" Unpacking ");
        seen.push(line);
        if unpacking {
            child.kill().expect("kill the buildx client");
            killed = true;
            break;
        }
    }
    let _ = child.wait();
    let text = seen.join("\n");
    assert!(
        killed,
        "the build ended before apt started unpacking:\n{}",
        tail(&text, 60)
    );
    let cold = apt_need_to_get(&step_log(&text, "apt-get install"));
    let Some((cold_get, _)) = cold else {
        panic!(
            "no `Need to get` line before the kill:\n{}",
            tail(&text, 60)
        )
    };
    assert!(
        cold_get > 0,
        "the first (cold) run had nothing to download: {cold:?}"
    );

    let args2 = [
        ("BUST", unique("bust")),
        ("BUILDKIT_CACHE_MOUNT_NS", ns.clone()),
    ];
    let args2: Vec<(&str, &str)> = args2.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let again =
        build(&ctx, Fe::Hoard, Some(&df), &args2, &[]).must("the build after the cancelled one");
    let need = apt_need_to_get(&step_log(&again.text, "apt-get install"));
    let rx = step_rx(&again.text, "apt-get install");
    eprintln!(
        "cold run needed {cold:?}; after the kill: {need:?}, step received {} (docker0 {})",
        mb(rx),
        mb(again.bytes)
    );
    let Some((get, _)) = need else {
        panic!(
            "no `Need to get` line in the rebuild:\n{}",
            tail(&again.text, 60)
        )
    };
    assert!(
        get < cold_get,
        "the rebuild downloaded as much as the cold run ({get} >= {cold_get} bytes)"
    );
    assert!(
        rx < cold_get,
        "the rebuild's step received {}, not less than the cold run's archives {}",
        mb(rx),
        mb(cold_get)
    );
}

// ------------------------------------------------------------------------------------------
// 11. same image as the stock frontend, except in cache directories

/// Files whose content differs between any two builds (timestamps inside): tolerated when
/// only their content differs (type, mode, owner and size equal).
fn volatile(path: &str) -> bool {
    path.starts_with("/var/log/")
        || path == "/var/cache/ldconfig/aux-cache"
        || (path.contains("/__pycache__/") && path.ends_with(".pyc"))
}

/// The package caches Debian leaves in a stock image (hoard keeps them in cache mounts).
const APT_DIRS: &[&str] = &["/var/cache/apt", "/var/lib/apt/lists"];

/// Builds `dockerfile` (stage `target`) with both frontends into OCI tarballs and compares
/// them; differences under `allowed` paths (plus [`APT_DIRS`]) are printed, not failed, and so
/// are content-only differences of [`volatile`] files. `must_equal` paths inside an allowed
/// tree must still be equal.
fn same_image(
    case: &str,
    dockerfile: &Path,
    target: Option<&str>,
    allowed: &[&str],
    must_equal: &[&str],
) {
    let scratch = Scratch::new(&format!("cache-same-{case}"));
    let ctx = case_dir(case);
    let bust = unique("bust");
    let mut images = Vec::new();
    for fe in [Fe::Stock, Fe::Hoard] {
        let dest = scratch.path.join(format!("{fe:?}.tar"));
        let out = format!(
            "type=oci,dest={},compression=uncompressed,force-compression=true",
            dest.display()
        );
        let mut extra = vec!["--output", out.as_str()];
        if let Some(t) = target {
            extra.extend(["--target", t]);
        }
        build(&ctx, fe, Some(dockerfile), &[("BUST", &bust)], &extra)
            .must(&format!("{case}, {fe:?}"));
        images.push(
            load_oci(&dest).unwrap_or_else(|e| panic!("{case}: reading the {fe:?} image: {e}")),
        );
    }
    let under = |p: &str, root: &str| p == root || p.starts_with(&format!("{root}/"));
    let strip_hash = |side: &str| {
        side.split_whitespace()
            .filter(|w| !w.starts_with("sha256="))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let diffs = compare_images(&images[0], &images[1]);
    let (mut tolerated, mut real) = (Vec::new(), Vec::new());
    for d in diffs {
        let (path, rest) = d.split_once(": ").unwrap_or((&d, ""));
        let in_cache =
            allowed.iter().chain(APT_DIRS).any(|a| under(path, a)) && !must_equal.contains(&path);
        let content_only = volatile(path)
            && rest
                .split_once(" != ")
                .is_some_and(|(l, r)| l.starts_with("file ") && strip_hash(l) == strip_hash(r));
        if in_cache || content_only {
            tolerated.push(d);
        } else {
            real.push(d);
        }
    }
    eprintln!(
        "{case}: {} tolerated differences (cache directories, timestamps inside files)",
        tolerated.len()
    );
    for d in tolerated
        .iter()
        .filter(|d| !d.starts_with("/var/cache/apt/archives/"))
        .take(15)
    {
        eprintln!("  {d}");
    }
    if !real.is_empty() {
        scratch_keep(scratch);
    }
    assert!(real.is_empty(), "{}", report(case, "stock", "hoard", &real));
}

/// Keeps a scratch directory (its path is printed when it drops).
fn scratch_keep(mut s: Scratch) {
    s.keep = true;
}

#[test]
fn same_image_cargo() {
    if !e2e_enabled("same_image_cargo") {
        return;
    }
    // The builder stage: hoard's /app/target holds only the final artifacts (the rest is in
    // the cache); ~/.cargo's registry is in the cache. The binary must be the same.
    let df = case_dir("cargo").join("Dockerfile");
    same_image(
        "cargo",
        &df,
        Some("builder"),
        &["/app/target", "/root/.cargo"],
        &["/app/target/release/demo"],
    );
}

#[test]
fn same_image_apt() {
    if !e2e_enabled("same_image_apt") {
        return;
    }
    // Debian's stock image keeps the downloaded .debs and apt's package caches; hoard keeps
    // them in the cache (APT_DIRS, tolerated in every case). The lists are removed by the
    // Dockerfile itself.
    let df = case_dir("apt").join("Dockerfile");
    same_image("apt", &df, None, &[], &[]);
}

#[test]
fn same_image_pip() {
    if !e2e_enabled("same_image_pip") {
        return;
    }
    // pip's HTTP and wheel caches under the user's home.
    let df = case_dir("pip").join("Dockerfile");
    same_image("pip", &df, None, &["/home/app/.cache", "/root/.cache"], &[]);
}
