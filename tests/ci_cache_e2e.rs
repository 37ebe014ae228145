//! CI jobs on fresh runners: `HOARD_CACHE_FROM` / `HOARD_CACHE_EXPORT` / `HOARD_CACHE_CLEAR`
//! with nothing but `docker buildx build` and a registry.
//!
//! Every build here runs on a second, throw-away Docker engine that `scripts/ci-engine.sh`
//! starts (own data root, socket and bridge) next to a registry without auth on
//! 127.0.0.1:5000, so `docker buildx prune -af` between jobs is a real fresh runner and never
//! touches the shared engine. The frontend image (`HOARD_IMAGE`) is pushed to that registry and
//! named in each Dockerfile as `# syntax=localhost:5000/...`, the way a CI pipeline names it.
//! The tests share that engine and wipe it, so they take turns: one lock in the process and a
//! file lock (`/run/hoard-ci/jobs.lock`, also taken by `bench/ci.py`) across processes, so
//! test runs from two checkouts never wipe each other's runner.
//!
//! Evidence comes from the build output (`CACHED`, the primers' `seeded`/`warm` lines, pip's
//! `Building wheel`, apt's `Get:`/`Need to get`, cargo's `Compiling`), from the cache image's
//! index label, and from the images themselves. No timing is asserted.
//!
//! `cargo test --test ci_cache_e2e -- --test-threads=1` (the lock serialises anyway).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

use common::cargo_demo::*;
use common::*;
use serde_json::Value;

const REGISTRY: &str = "localhost:5000";

/// The base images the jobs build on, copied into the CI engine with the frontend image.
const BASES: [&str; 3] = [
    "hoard-test/debian:bookworm",
    "hoard-test/busybox:latest",
    "hoard-test/busybox:multi",
];

static ENGINE: OnceLock<(String, String)> = OnceLock::new();
static TURN: Mutex<()> = Mutex::new(());

/// Start the CI engine and registry (once), push the frontend there; returns (DOCKER_HOST,
/// frontend reference in the registry).
fn engine() -> &'static (String, String) {
    ENGINE.get_or_init(|| {
        let img = hoard_image();
        let out = Command::new(root().join("scripts/ci-engine.sh"))
            .args(BASES)
            .arg(&img)
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/ci-engine.sh");
        assert!(out.status.success(), "scripts/ci-engine.sh failed");
        let host = String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("export DOCKER_HOST=").map(str::to_string))
            .expect("ci-engine.sh prints DOCKER_HOST");
        let fe = push_frontend(&host, &img);
        (host, fe)
    })
}

/// Tag the frontend image on the CI engine under its registry name and push it there.
fn push_frontend(host: &str, img: &str) -> String {
    let fe = format!(
        "{REGISTRY}/hoard-ci-e2e/{}",
        img.replace([':', '/'], "-") + ":fe"
    );
    for args in [
        vec!["tag", img, fe.as_str()],
        vec!["push", "-q", fe.as_str()],
    ] {
        let o = Command::new("docker")
            .env("DOCKER_HOST", host)
            .args(&args)
            .output()
            .unwrap();
        assert!(o.status.success(), "docker {args:?}: {}", output_text(&o));
    }
    fe
}

/// This test's turn on the CI engine (see the module docs). The file lock is held by a
/// `flock(1)` child that lives as long as its stdin (this process) does, so a killed test run
/// never leaves the lock held.
struct Turn {
    holder: std::process::Child,
    _guard: std::sync::MutexGuard<'static, ()>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        drop(self.holder.stdin.take());
        let _ = self.holder.wait();
    }
}

fn turn() -> Turn {
    use std::io::BufRead;
    let guard = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let _ = engine();
    let run = std::env::var("HOARD_CI_RUN").unwrap_or_else(|_| "/run/hoard-ci".into());
    let mut holder = Command::new("flock")
        .args([
            "-x",
            &format!("{run}/jobs.lock"),
            "sh",
            "-c",
            "echo locked; exec cat >/dev/null",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run flock(1)");
    let mut line = String::new();
    std::io::BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked", "could not lock the CI engine");
    Turn {
        holder,
        _guard: guard,
    }
}

fn host() -> &'static str {
    &engine().0
}

fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .env("DOCKER_HOST", host())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run docker")
}

/// A fresh runner: `docker buildx prune -af` on the CI engine, and no image but the base
/// images (`hoard-test/*`). Without the second part the engine keeps the cache images it
/// pushed and the frontend image in its containerd image store, and a seeded job would never
/// pull its seed (or the frontend) from the registry.
fn wipe() {
    let o = docker(&["buildx", "prune", "-af"]);
    assert!(o.status.success(), "prune: {}", output_text(&o));
    let o = docker(&[
        "image",
        "ls",
        "-a",
        "--no-trunc",
        "--format",
        "{{.Repository}}:{{.Tag}}@{{.ID}}",
    ]);
    assert!(o.status.success(), "image ls: {}", output_text(&o));
    for line in String::from_utf8_lossy(&o.stdout).split_whitespace() {
        let (name, id) = line.rsplit_once('@').unwrap_or((line, line));
        if name.starts_with("hoard-test/") {
            continue;
        }
        let target = if name.contains("<none>") { id } else { name };
        let _ = docker(&["image", "rm", "-f", target]);
    }
    let _ = docker(&["image", "prune", "-f"]);
}

struct Job {
    ok: bool,
    text: String,
}

impl Job {
    fn must(self, what: &str) -> Job {
        assert!(self.ok, "{what}: build failed:\n{}", tail(&self.text, 60));
        self
    }
    /// The log lines of the step whose progress name contains `needle`.
    fn step(&self, needle: &str) -> Vec<String> {
        let ids: Vec<&str> = self
            .text
            .lines()
            .filter(|l| l.starts_with('#') && l.contains(needle))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        let Some(id) = ids.last() else {
            return Vec::new();
        };
        let prefix = format!("{id} ");
        self.text
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .map(str::to_string)
            .collect()
    }
    fn cached(&self, needle: &str) -> bool {
        self.step(needle).iter().any(|l| l == "CACHED")
    }
    /// A layer-cache hit: `CACHED`, or (a result the job needs, from `--cache-from`) only the
    /// download and unpacking of its layer blob. A step that ran shows no blob.
    fn hit(&self, needle: &str) -> bool {
        let log = self.step(needle);
        let blob = |l: &String| l.starts_with("sha256:") || l.starts_with("extracting sha256:");
        // Plain progress prints a step's header again when its output resumes after another
        // step's lines: a repeated header is not output of the step.
        self.cached(needle)
            || (log.iter().any(blob)
                && log
                    .iter()
                    .all(|l| blob(l) || l.starts_with("DONE") || l.contains(needle)))
    }
}

fn build(ctx: &Path, args: &[(&str, &str)], extra: &[&str]) -> Job {
    let mut cmd = Command::new("docker");
    cmd.current_dir(ctx)
        .env("DOCKER_HOST", host())
        .env("BUILDX_NO_DEFAULT_ATTESTATIONS", "1")
        .env_remove("BUILDKIT_PROGRESS")
        .env_remove("BUILDX_BUILDER")
        .args([
            "buildx",
            "build",
            "--builder",
            "default",
            "--progress=plain",
        ]);
    for (k, v) in args {
        cmd.args(["--build-arg", &format!("{k}={v}")]);
    }
    cmd.args(extra).arg(".").stdin(Stdio::null());
    let o = cmd.output().expect("docker buildx build");
    Job {
        ok: o.status.success(),
        text: output_text(&o),
    }
}

/// A context directory with `Dockerfile` (after a `# syntax=` line naming the registry's
/// frontend) and files.
fn context(name: &str, dockerfile: &str, files: &[(&str, &str)]) -> (Scratch, PathBuf) {
    let s = Scratch::new(&format!("ci-{name}"));
    let ctx = s.path.join("ctx");
    fs::create_dir_all(&ctx).unwrap();
    fs::write(
        ctx.join("Dockerfile"),
        format!("# syntax={}\n{dockerfile}", engine().1),
    )
    .unwrap();
    for (p, c) in files {
        let f = ctx.join(p);
        fs::create_dir_all(f.parent().unwrap()).unwrap();
        fs::write(f, c).unwrap();
    }
    (s, ctx)
}

fn refname(what: &str) -> String {
    format!(
        "{REGISTRY}/hoard-ci-e2e/{what}:{}",
        unique("t").replace('-', "")
    )
}

/// The cache image's index (the label), read from the registry.
fn index(reference: &str) -> Value {
    let o = docker(&[
        "buildx",
        "imagetools",
        "inspect",
        "--format",
        "{{json .Image}}",
        reference,
    ]);
    assert!(
        o.status.success(),
        "inspect {reference}: {}",
        output_text(&o)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    // An index (one image per cache beside the build platform's): that platform's image.
    let v = if v.get("config").is_some() {
        v
    } else {
        v["linux/amd64"].clone()
    };
    let label = v
        .pointer("/config/Labels/dev.hoard.caches")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no index label on {reference}: {v}"));
    serde_json::from_str(label).unwrap()
}

/// The raw manifest (or index) JSON of `reference`.
fn raw_manifest(reference: &str) -> Value {
    let o = docker(&["buildx", "imagetools", "inspect", "--raw", reference]);
    assert!(
        o.status.success(),
        "inspect --raw {reference}: {}",
        output_text(&o)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The cache image is an index: the build platform's image with every cache's layer, and per
/// cache (under the pseudo-platform its index entry names) an image of that layer alone, the
/// same blob, so a primer pulls only its cache and the registry stores each layer once.
fn assert_one_image_per_cache(reference: &str, idx: &Value) {
    let top = raw_manifest(reference);
    let manifests = top["manifests"]
        .as_array()
        .unwrap_or_else(|| panic!("{reference} is not an index: {top}"));
    let name = reference
        .split('@')
        .next()
        .unwrap()
        .rsplit_once(':')
        .map_or(reference, |(n, _)| n);
    let plat = |m: &Value| {
        format!(
            "{}/{}",
            m["platform"]["os"].as_str().unwrap_or(""),
            m["platform"]["architecture"].as_str().unwrap_or("")
        )
    };
    let layers_of = |m: &Value| -> Vec<String> {
        let d = m["digest"].as_str().unwrap();
        raw_manifest(&format!("{name}@{d}"))["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["digest"].as_str().unwrap().to_string())
            .collect()
    };
    let main = manifests
        .iter()
        .find(|m| plat(m) == "linux/amd64")
        .unwrap_or_else(|| panic!("no linux/amd64 image in {top}"));
    let all = layers_of(main);
    let caches = idx["caches"].as_array().unwrap();
    assert_eq!(all.len(), caches.len(), "one layer per cache: {all:?}");
    for c in caches {
        let p = c["platform"].as_str().unwrap_or("");
        assert!(p.starts_with("hoard/c"), "cache {c} names no own image");
        let own = manifests
            .iter()
            .find(|m| plat(m) == p)
            .unwrap_or_else(|| panic!("no image for {p} in {top}"));
        let layers = layers_of(own);
        assert!(
            layers.len() == 1 && all.contains(&layers[0]),
            "{p}: its image must be its one layer of the whole image: {layers:?} vs {all:?}"
        );
    }
    assert_eq!(manifests.len(), caches.len() + 1, "{top}");
}

fn cache_ids(idx: &Value) -> Vec<String> {
    idx["caches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

fn export(ctx: &Path, args: &[(&str, &str)], to: &str) -> Job {
    let mut a = args.to_vec();
    a.push(("HOARD_CACHE_EXPORT", "1"));
    build(
        ctx,
        &a,
        &[
            "--output",
            &format!("type=image,name={to},push=true,compression=zstd"),
        ],
    )
}

// ------------------------------------------------------------------------------------------

const APT: &str = "FROM hoard-test/debian:bookworm
ARG PKGS=jq
RUN apt-get update && apt-get install -y --no-install-recommends $PKGS
COPY app.txt /app.txt
RUN cat /app.txt
";

/// Jobs 1-4 with apt: a missing seed warns and builds cold; the export carries both apt caches;
/// after a wipe an edited job keeps the apt step `CACHED` (layer cache) while its caches are
/// seeded; an unchanged job with a newer seed is all `CACHED`; a changed package list fetches
/// only the new package; the image equals the stock frontend's outside the cache directories.
#[test]
fn apt_jobs() {
    if !e2e_enabled("apt_jobs") {
        return;
    }
    let _turn = turn();
    let (_s, ctx) = context("apt", APT, &[("app.txt", "v1\n")]);
    let seed = refname("apt-cache");
    let layers = refname("apt-layers");
    let from = [("HOARD_CACHE_FROM", seed.as_str())];
    let cache_to = format!("type=registry,ref={layers},mode=max");
    let cache_from = format!("type=registry,ref={layers}");

    wipe();
    let j1 = build(&ctx, &from, &["--cache-to", &cache_to]).must("job 1");
    assert!(
        j1.text.contains("caches start empty (cold build)"),
        "job 1 did not warn about the missing seed:\n{}",
        tail(&j1.text, 30)
    );
    let e1 = export(&ctx, &from, &seed).must("job 1 export");
    assert!(
        e1.cached("RUN apt-get update"),
        "the export ran the apt step again instead of a layer-cache hit"
    );
    let idx = index(&seed);
    assert_one_image_per_cache(&seed, &idx);
    let ids = cache_ids(&idx);
    assert!(
        ids.iter().any(|i| i.contains("hoard/apt/archives"))
            && ids.iter().any(|i| i.contains("hoard/apt/lists")),
        "{ids:?}"
    );
    assert!(
        idx["caches"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["size"].as_u64().unwrap() > 0),
        "sizes: {idx}"
    );

    wipe();
    fs::write(ctx.join("app.txt"), "v2\n").unwrap();
    let j2 = build(
        &ctx,
        &from,
        &["--cache-from", &cache_from, "--cache-to", &cache_to],
    )
    .must("job 2");
    assert!(
        j2.hit("RUN apt-get update"),
        "job 2: the unchanged apt step was not a layer-cache hit with a seed:\n{}",
        tail(&j2.text, 40)
    );
    assert!(
        !j2.hit("RUN cat /app.txt"),
        "job 2: the edited part did not run"
    );
    assert!(
        j2.text.contains("hoard: seeded cache"),
        "job 2: caches were not seeded:\n{}",
        tail(&j2.text, 40)
    );
    // Each primer pulled its own cache's image, not the whole cache image.
    let seeds: Vec<&str> = j2
        .text
        .lines()
        .filter(|l| l.contains("[internal] hoard: cache seed"))
        .collect();
    assert!(
        !seeds.is_empty() && seeds.iter().all(|l| l.contains(" (hoard_apt_")),
        "job 2: the primers did not pull their own caches' images: {seeds:?}"
    );
    export(&ctx, &from, &seed).must("job 2 export");

    wipe();
    let j3 = build(&ctx, &from, &["--cache-from", &cache_from]).must("job 3");
    for step in ["RUN apt-get update", "RUN cat /app.txt"] {
        assert!(
            j3.hit(step),
            "job 3 (unchanged, newer seed): {step} not a layer-cache hit:\n{}",
            tail(&j3.text, 40)
        );
    }

    // A changed package list: the step runs on seeded caches and downloads only the new package.
    wipe();
    let j4 = build(
        &ctx,
        &[from[0], ("PKGS", "jq tree")],
        &["--cache-from", &cache_from],
    )
    .must("job 4");
    let log = j4.step("RUN apt-get update");
    // Package downloads, not index files (`Get:N http://... bookworm/main amd64 tree amd64 ...`).
    let gets: Vec<&String> = log
        .iter()
        .filter(|l| {
            l.contains("Get:")
                && !l.contains("InRelease")
                && !l.contains("Packages")
                && !l.contains("Translation")
        })
        .collect();
    assert!(
        !gets.is_empty() && gets.iter().all(|l| l.contains(" tree ")),
        "job 4 downloaded more than the new package (or nothing): {gets:?}\n{}",
        log.join("\n")
    );

    // The image equals the stock frontend's outside the cache directories.
    let dir = ctx.parent().unwrap();
    let hoard_oci = dir.join("hoard.tar");
    let stock_oci = dir.join("stock.tar");
    build(
        &ctx,
        &from,
        &[
            "--cache-from",
            &cache_from,
            "--output",
            &format!("type=oci,dest={}", hoard_oci.display()),
        ],
    )
    .must("hoard oci");
    let body = APT.to_string();
    fs::write(dir.join("Dockerfile.stock"), body).unwrap();
    build(
        &ctx,
        &[],
        &[
            "-f",
            dir.join("Dockerfile.stock").to_str().unwrap(),
            "--output",
            &format!("type=oci,dest={}", stock_oci.display()),
        ],
    )
    .must("stock oci");
    let (mut a, mut b) = (load_oci(&stock_oci).unwrap(), load_oci(&hoard_oci).unwrap());
    for img in [&mut a, &mut b] {
        for p in ["/var/cache/apt", "/var/lib/apt/lists"] {
            remove_tree(&mut img.fs, p, false);
        }
        remove_tree(&mut img.fs, "/var/cache/debconf", false);
        // ldconfig's aux-cache records file times: it differs between any two builds, stock too.
        img.fs.remove("/var/cache/ldconfig/aux-cache");
        remove_tree(&mut img.fs, "/var/log", false);
    }
    let diffs = compare_images(&a, &b);
    assert!(
        diffs.is_empty(),
        "{}",
        report("apt_jobs", "stock", "hoard seeded", &diffs)
    );
}

const PIP: &str = "FROM hoard-test/debian:bookworm
RUN apt-get update && apt-get install -y python3-venv
RUN useradd -m app
USER app
WORKDIR /home/app
RUN python3 -m venv venv && venv/bin/pip install --upgrade pip
ARG BUST
RUN echo \"run $BUST\" && venv/bin/pip install docopt==0.6.2 termcolor==1.1.0 pyperclip==1.8.2
";

/// A non-root user's pip cache: exported with its owner, seeded on a fresh runner, and written
/// by the user there: the rerun builds no wheel (the wheels come from the seed).
#[test]
fn pip_non_root_jobs() {
    if !e2e_enabled("pip_non_root_jobs") {
        return;
    }
    let _turn = turn();
    let (_s, ctx) = context("pip", PIP, &[]);
    let seed = refname("pip-cache");
    let from = [("HOARD_CACHE_FROM", seed.as_str()), ("BUST", "1")];
    wipe();
    let j1 = build(&ctx, &from, &[]).must("job 1");
    assert!(
        j1.step("pip install")
            .iter()
            .any(|l| l.contains("Building wheel")),
        "job 1 built no wheel: the case proves nothing"
    );
    export(&ctx, &from, &seed).must("job 1 export");
    let idx = index(&seed);
    let pip = idx["caches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["tool"] == "pip")
        .unwrap_or_else(|| panic!("no pip cache in {idx}"));
    assert_eq!(
        (pip["uid"].as_u64(), pip["gid"].as_u64()),
        (Some(1000), Some(1000)),
        "owner of the pip cache: {pip}"
    );

    wipe();
    let j2 = build(&ctx, &[from[0], ("BUST", "2")], &[]).must("job 2");
    let log = j2.step("pip install");
    assert!(!log.is_empty(), "job 2: the pip step did not run");
    assert!(
        !log.iter().any(|l| l.contains("Building wheel")),
        "job 2 built wheels again:\n{}",
        log.join("\n")
    );
    assert!(
        !log.iter()
            .any(|l| l.contains("Permission denied") || l.contains("not writable")),
        "{}",
        log.join("\n")
    );
}

/// Seeds that cannot be used never fail a build: a missing one, a foreign image, an image with
/// a corrupt index. The first usable reference wins.
#[test]
fn unusable_seeds_warn_and_build() {
    if !e2e_enabled("unusable_seeds_warn_and_build") {
        return;
    }
    let _turn = turn();
    let df = "FROM hoard-test/busybox:latest\nRUN --mount=type=cache,target=/c sh -c 'echo x >> /c/log; wc -l < /c/log'\n";
    let (_s, ctx) = context("seeds", df, &[]);
    let foreign = refname("foreign");
    let o = docker(&["tag", "hoard-test/busybox:latest", &foreign]);
    assert!(o.status.success());
    assert!(docker(&["push", "-q", &foreign]).status.success());
    let corrupt = refname("corrupt");
    let (_s2, cctx) = context("corrupt", "", &[]);
    fs::write(
        cctx.join("Dockerfile"),
        "FROM scratch\nLABEL dev.hoard.caches=\"{nope\"\nCOPY Dockerfile /\n",
    )
    .unwrap();
    build(
        &cctx,
        &[],
        &["--output", &format!("type=image,name={corrupt},push=true")],
    )
    .must("corrupt seed image");
    let good = refname("good");
    let missing = refname("missing");
    wipe();
    build(&ctx, &[], &[]).must("fill");
    export(&ctx, &[], &good).must("export");

    wipe();
    let all = format!("{missing},{foreign},{corrupt}");
    let j = build(&ctx, &[("HOARD_CACHE_FROM", &all)], &[]).must("unusable seeds");
    for (r, why) in [
        (&missing, "cannot be read"),
        (&foreign, "not a hoard cache image"),
        (&corrupt, "corrupt"),
    ] {
        assert!(
            j.text.contains(r.as_str()) && j.text.contains(why),
            "no warning about {r} ({why}):\n{}",
            tail(&j.text, 20)
        );
    }
    assert!(j.text.contains("caches start empty (cold build)"));

    wipe();
    let all = format!("{missing},{good},{foreign}");
    let j = build(&ctx, &[("HOARD_CACHE_FROM", &all)], &[]).must("first usable seed");
    assert!(
        j.text.contains("hoard: seeded cache"),
        "the good seed was not used:\n{}",
        tail(&j.text, 30)
    );
    assert!(
        j.step("RUN --mount")
            .iter()
            .any(|l| l.trim_end().ends_with(" 2")),
        "the cache did not start from the seed:\n{}",
        j.step("RUN --mount").join("\n")
    );
}

/// An expert Dockerfile's own cache mounts (no injection: `# hoard: off`) are exported and
/// seeded too; a locked and a private one included; a secret mount never reaches the export.
/// `HOARD_CACHE_CLEAR` starts a tool's cache empty and its step runs again; two exports at
/// once both succeed with the same caches.
#[test]
fn expert_mounts_clear_and_concurrent_exports() {
    if !e2e_enabled("expert_mounts_clear_and_concurrent_exports") {
        return;
    }
    let _turn = turn();
    let df = "FROM hoard-test/busybox:latest
# hoard: off
RUN --mount=type=cache,id=expert-a,target=/a,sharing=locked --mount=type=cache,id=expert-b,target=/b,sharing=private,uid=1000,gid=1000,mode=0750 \\
    --mount=type=secret,id=tok,required=false \\
    sh -c 'echo a >> /a/n; echo b >> /b/n; test -s /run/secrets/tok'
COPY app.txt /
RUN --mount=type=cache,id=expert-a,target=/a,sharing=locked cat /a/n /app.txt
";
    let (s, ctx) = context("expert", df, &[("app.txt", "1\n")]);
    let secret = s.path.join("tok");
    fs::write(&secret, "TOPSECRET").unwrap();
    let sec = format!("id=tok,src={}", secret.display());
    let seed = refname("expert-cache");
    wipe();
    build(&ctx, &[], &["--secret", &sec]).must("job 1");
    // Two exports at once.
    let (a, b) = std::thread::scope(|sc| {
        let t1 = sc.spawn(|| export(&ctx, &[], &seed));
        let t2 = sc.spawn(|| export(&ctx, &[], &format!("{seed}-twin")));
        (t1.join().unwrap(), t2.join().unwrap())
    });
    a.must("export 1");
    b.must("export 2 (concurrent)");
    let idx = index(&seed);
    let ids = cache_ids(&idx);
    assert!(
        ids.iter().any(|i| i.ends_with("expert-a")) && ids.iter().any(|i| i.ends_with("expert-b")),
        "{ids:?}"
    );
    let twin = cache_ids(&index(&format!("{seed}-twin")));
    assert_eq!(ids, twin);
    let b_entry = idx["caches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"].as_str().unwrap().ends_with("expert-b"))
        .unwrap();
    assert_eq!(
        (b_entry["uid"].as_u64(), b_entry["mode"].as_u64()),
        (Some(1000), Some(0o750)),
        "{b_entry}"
    );
    // The secret (mounted by the step, which read it) is nowhere in the cache image.
    let oci = s.path.join("cache.tar");
    build(
        &ctx,
        &[("HOARD_CACHE_EXPORT", "1")],
        &["--output", &format!("type=oci,dest={}", oci.display())],
    )
    .must("export to oci");
    let img = load_oci(&oci).unwrap();
    let secret_hash = {
        use sha2::Digest;
        hex(&sha2::Sha256::digest(b"TOPSECRET"))
    };
    assert!(
        !img.fs.keys().any(|k| k.contains("secrets")),
        "a secret mount path reached the cache image"
    );
    assert!(
        !img.fs.values().any(|n| n.hash == secret_hash),
        "the secret's content reached the cache image"
    );
    assert!(
        img.fs.keys().any(|k| k.ends_with("/n")),
        "the cache image holds no cache files: {:?}",
        img.fs.keys().collect::<Vec<_>>()
    );

    // Fresh runner, seeded: the caches continue from the seed.
    wipe();
    fs::write(ctx.join("app.txt"), "2\n").unwrap();
    let j = build(&ctx, &[("HOARD_CACHE_FROM", &seed)], &["--secret", &sec]).must("seeded job");
    let log = j.step("cat /a/n");
    assert!(
        log.iter().filter(|l| l.ends_with(" a")).count() >= 2,
        "cache a did not continue from the seed:\n{}",
        log.join("\n")
    );

    // Clearing: with HOARD_CACHE_CLEAR=all the step runs again on empty caches.
    let j = build(
        &ctx,
        &[("HOARD_CACHE_FROM", &seed), ("HOARD_CACHE_CLEAR", "all")],
        &["--secret", &sec],
    )
    .must("cleared job");
    assert!(
        !j.cached("sh -c 'echo a"),
        "the step using the cleared cache did not run again"
    );
    let log = j.step("cat /a/n");
    assert_eq!(
        log.iter().filter(|l| l.ends_with(" a")).count(),
        1,
        "the cleared cache did not start empty:\n{}",
        log.join("\n")
    );
    // The export with the same arguments carries the new contents and reruns nothing.
    let e = export(
        &ctx,
        &[("HOARD_CACHE_FROM", &seed), ("HOARD_CACHE_CLEAR", "all")],
        &format!("{seed}-cleared"),
    )
    .must("export after clear");
    assert!(
        e.cached("sh -c 'echo a"),
        "the export ran the cleared step again"
    );
}

/// An export on a builder without the caches (another node, or after a prune) fails loudly.
#[test]
fn export_without_caches_fails() {
    if !e2e_enabled("export_without_caches_fails") {
        return;
    }
    let _turn = turn();
    let df = "FROM hoard-test/busybox:latest\nRUN --mount=type=cache,id=gone,target=/c sh -c 'echo x > /c/f'\n";
    let (_s, ctx) = context("gone", df, &[]);
    let layers = refname("gone-layers");
    wipe();
    build(
        &ctx,
        &[],
        &[
            "--cache-to",
            &format!("type=registry,ref={layers},mode=max"),
        ],
    )
    .must("build");
    wipe();
    let j = build(
        &ctx,
        &[("HOARD_CACHE_EXPORT", "1")],
        &["--cache-from", &format!("type=registry,ref={layers}")],
    );
    assert!(
        !j.ok && j.text.contains("is empty on this builder"),
        "no clear error:\n{}",
        tail(&j.text, 20)
    );
}

/// Multi-platform: a per-platform cache is exported per platform, a shared one once, and each
/// platform's cache is seeded from its own entry; the copy runs natively (`FROM scratch` stage
/// images would do as well: the copy tool is hoard's own binary).
#[test]
fn multi_platform_jobs() {
    if !e2e_enabled("multi_platform_jobs") {
        return;
    }
    let _turn = turn();
    let df = "FROM hoard-test/busybox:multi
ARG TARGETARCH
RUN --mount=type=cache,id=arch-$TARGETARCH,target=/p --mount=type=cache,id=shared,target=/s \\
    sh -c 'uname -m >> /p/n; echo $TARGETARCH >> /s/$TARGETARCH; cat /p/n | wc -l'
";
    let (_s, ctx) = context("multi", df, &[]);
    let seed = refname("multi-cache");
    let plat = ["--platform", "linux/amd64,linux/386"];
    wipe();
    build(&ctx, &[], &plat).must("job 1");
    let mut args = plat.to_vec();
    let out = format!("type=image,name={seed},push=true");
    args.extend(["--output", &out]);
    build(&ctx, &[("HOARD_CACHE_EXPORT", "1")], &args).must("export");
    let ids = cache_ids(&index(&seed));
    assert_eq!(
        ids.iter()
            .filter(|i| i.ends_with("/arch-amd64") || i.ends_with("/arch-386"))
            .count(),
        2,
        "{ids:?}"
    );
    assert_eq!(
        ids.iter().filter(|i| i.ends_with("/shared")).count(),
        1,
        "the shared cache is exported once: {ids:?}"
    );
    wipe();
    let j = build(&ctx, &[("HOARD_CACHE_FROM", &seed)], &plat).must("seeded job");
    for p in ["linux/amd64", "linux/386"] {
        let log = j.step(&format!("[{p} 2/2] RUN"));
        assert!(
            log.iter().any(|l| l.trim_end().ends_with(" 2")),
            "{p}: its cache was not seeded:\n{}",
            log.join("\n")
        );
    }
}

// ------------------------------------------------------------------------------------------

/// The multi-stage case of `tests/cache_e2e.rs` (`testdata/cache/cargo`: a crate with four
/// crates.io dependencies, the binary copied into a second stage), shaped like bench/cases/cargo:
/// the builder stage installs cargo with apt, so a job seeds apt's and cargo's caches, and an
/// unchanged apt step must stay a layer-cache hit before the cargo step that runs (bench/CI.md's
/// cargo jobs once ran it again).
fn cargo_context() -> (Scratch, PathBuf) {
    let df = "FROM hoard-test/debian:bookworm AS builder
RUN apt-get update && apt-get install -y --no-install-recommends cargo
ENV RUSTC_BOOTSTRAP=1
WORKDIR /app
COPY . .
RUN cargo build --release

FROM hoard-test/debian:bookworm
COPY --from=builder /app/target/release/demo /usr/local/bin/
CMD [\"demo\"]
";
    let (s, ctx) = context("cargo", df, &[]);
    let src = root().join("testdata/cache/cargo");
    for f in [
        "Cargo.toml",
        "Cargo.lock",
        ".cargo/config.toml",
        ".dockerignore",
        "src/main.rs",
        "src/message.rs",
    ] {
        let to = ctx.join(f);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(src.join(f), to).unwrap();
    }
    (s, ctx)
}

fn set_message(ctx: &Path, text: &str) {
    fs::write(
        ctx.join("src/message.rs"),
        format!("pub const TEXT: &str = \"{text}\";\n"),
    )
    .unwrap();
}

/// The cargo step of a job that ran it: it compiled the app crate only and downloaded nothing.
fn assert_warm_cargo_job(job: &Job, what: &str) {
    assert_warm_cargo(&job.step("cargo build"), what);
}

/// The binary of the image a job built (`--output type=docker` loaded on the CI engine).
fn run_image(tag: &str) -> String {
    let o = docker(&["run", "--rm", "--network=none", tag]);
    assert!(o.status.success(), "run {tag}: {}", output_text(&o));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Cargo, multi-stage, the way a pipeline runs it: job 1 builds and exports to main's cache
/// image; on a wiped runner job 2 edits the source and, seeded from main with the layer cache
/// of job 1, compiles only the app crate and downloads no crate, then exports to the branch's
/// cache image. Job 2b (another branch, seeded from main only, with job 2's layer cache, which
/// holds a primer of that same seed) is warm too: a primer whose cache is empty on this runner
/// always runs. Job 3, unchanged since job 2, seeded from the branch's newer cache image: every
/// step `CACHED`. Job 4, after an edit, seeded from that second-generation image: warm again.
#[test]
fn cargo_jobs() {
    if !e2e_enabled("cargo_jobs") {
        return;
    }
    let _turn = turn();
    let (_s, ctx) = cargo_context();
    let main_seed = refname("cargo-cache-main");
    let pr_seed = refname("cargo-cache-pr");
    let layers = refname("cargo-layers");
    let seeds = format!("{pr_seed},{main_seed}");
    let from = [("HOARD_CACHE_FROM", seeds.as_str())];
    let cache_to = format!("type=registry,ref={layers},mode=max");
    let cache_from = format!("type=registry,ref={layers}");
    let tag = refname("cargo-app");
    let load = format!("type=docker,name={tag}");

    wipe();
    let w1 = unique("one").replace('-', "");
    set_message(&ctx, &w1);
    build(&ctx, &from, &["--cache-to", &cache_to]).must("job 1");
    let e1 = export(&ctx, &from, &main_seed).must("job 1 export");
    assert!(e1.cached("cargo build"), "the export ran cargo again");
    let ids = cache_ids(&index(&main_seed));
    for want in [
        "hoard/apt/archives",
        "hoard/apt/lists",
        "hoard/cargo/registry-cache",
        "hoard/cargo/registry-src",
        "hoard/cargo/target",
    ] {
        assert!(
            ids.iter().any(|i| i.contains(want)),
            "{want} not exported: {ids:?}"
        );
    }

    wipe();
    let w2 = unique("two").replace('-', "");
    set_message(&ctx, &w2);
    let j2 = build(
        &ctx,
        &from,
        &[
            "--cache-from",
            &cache_from,
            "--cache-to",
            &cache_to,
            "--output",
            &load,
        ],
    )
    .must("job 2");
    for step in ["apt-get update", "WORKDIR /app"] {
        assert!(
            j2.hit(step),
            "job 2: the unchanged step {step} was not a layer-cache hit:\n{}",
            j2.step(step).join("\n")
        );
    }
    assert_warm_cargo_job(&j2, "job 2 (seeded from main after an edit)");
    assert_eq!(run_image(&tag), format!("{w2} 42 6869 4"), "job 2's binary");
    export(&ctx, &from, &pr_seed).must("job 2 export");

    wipe();
    let w3 = unique("three").replace('-', "");
    set_message(&ctx, &w3);
    let j2b = build(
        &ctx,
        &[("HOARD_CACHE_FROM", main_seed.as_str())],
        &["--cache-from", &cache_from, "--output", &load],
    )
    .must("job 2b");
    assert!(
        j2b.hit("apt-get update"),
        "job 2b: the apt step was not a layer-cache hit:\n{}",
        j2b.step("apt-get update").join("\n")
    );
    assert_warm_cargo_job(&j2b, "job 2b (main's seed again, job 2's layer cache)");
    assert_eq!(
        run_image(&tag),
        format!("{w3} 42 6869 4"),
        "job 2b's binary"
    );

    wipe();
    set_message(&ctx, &w2);
    let j3 = build(&ctx, &from, &["--cache-from", &cache_from]).must("job 3");
    for step in [
        "apt-get update",
        "COPY . .",
        "cargo build",
        "COPY --from=builder",
    ] {
        assert!(
            j3.hit(step),
            "job 3 (unchanged, newer seed): {step} not CACHED:\n{}",
            tail(&j3.text, 40)
        );
    }

    // Job 4, seeded from the second generation (job 2's export of caches job 2 was seeded
    // with), after an edit: still warm. An image layer keeps no access times, so without
    // seeded files counting as read, job 2's export had aged out the crates' sources cargo
    // did not read, and this job failed (`no targets specified in the manifest`).
    wipe();
    let w4 = unique("four").replace('-', "");
    set_message(&ctx, &w4);
    let j4 = build(
        &ctx,
        &[("HOARD_CACHE_FROM", pr_seed.as_str())],
        &["--cache-from", &cache_from, "--output", &load],
    )
    .must("job 4");
    assert!(
        j4.hit("apt-get update"),
        "job 4: the apt step was not a layer-cache hit:\n{}",
        j4.step("apt-get update").join("\n")
    );
    assert_warm_cargo_job(&j4, "job 4 (second-generation seed)");
    assert_eq!(run_image(&tag), format!("{w4} 42 6869 4"), "job 4's binary");
}

/// sha256 of a file's content, as the OCI tree reader records it.
fn sha(content: &str) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(content.as_bytes()))
}

/// The export reads no seed: it copies the caches as the build left them, even when a newer
/// cache image was pushed under the build's `HOARD_CACHE_FROM` tag in between (a new seed would
/// otherwise fill a cache the build left empty, and the export would carry what the build
/// never used). A cache the build left empty is left out with a warning; the others export.
#[test]
fn export_uses_the_seed_the_build_used() {
    if !e2e_enabled("export_uses_the_seed_the_build_used") {
        return;
    }
    let _turn = turn();
    let df = "FROM hoard-test/busybox:latest
ARG BUST
ARG B
RUN --mount=type=cache,id=used,target=/a --mount=type=cache,id=spare,target=/b \\
    sh -c 'echo $BUST >> /a/log; if [ -n \"$B\" ]; then echo $B >> /b/log; fi; cat /a/log'
";
    let (s, ctx) = context("resolve-once", df, &[]);
    let tag = refname("seed");
    let other = refname("seed-other");
    let from = ("HOARD_CACHE_FROM", tag.as_str());

    // The seed the build will use (`used` = "1"; `spare` left empty, so left out).
    wipe();
    build(&ctx, &[("BUST", "1")], &[]).must("job 1");
    let e1 = export(&ctx, &[("BUST", "1")], &tag).must("job 1 export");
    assert!(
        e1.text.contains("cache") && e1.text.contains("spare is empty after the build"),
        "no warning about the empty cache:\n{}",
        tail(&e1.text, 20)
    );
    let ids = cache_ids(&index(&tag));
    assert!(
        ids.iter().any(|i| i.ends_with("/used")) && !ids.iter().any(|i| i.ends_with("/spare")),
        "{ids:?}"
    );
    // A newer cache image with both caches (`used` = "2", `spare` = "s2").
    wipe();
    build(&ctx, &[("BUST", "2"), ("B", "s2")], &[]).must("job 2");
    export(&ctx, &[("BUST", "2"), ("B", "s2")], &other).must("job 2 export");
    assert_eq!(cache_ids(&index(&other)).len(), 2);

    // The build, seeded from the tag (the first image).
    wipe();
    let args = [from, ("BUST", "3")];
    let j = build(&ctx, &args, &[]).must("seeded build");
    assert!(
        j.step("sh -c").iter().any(|l| l.ends_with(" 3"))
            && j.step("sh -c").iter().any(|l| l.ends_with(" 1")),
        "the build was not seeded from the first image:\n{}",
        j.step("sh -c").join("\n")
    );
    // Between build and export, the tag moves to the newer image.
    let o = docker(&["buildx", "imagetools", "create", "-t", &tag, &other]);
    assert!(o.status.success(), "retag: {}", output_text(&o));
    assert_eq!(cache_ids(&index(&tag)).len(), 2, "the tag did not move");

    let oci = s.path.join("cache.tar");
    let mut a = args.to_vec();
    a.push(("HOARD_CACHE_EXPORT", "1"));
    let e = build(
        &ctx,
        &a,
        &["--output", &format!("type=oci,dest={}", oci.display())],
    )
    .must("export after the tag moved");
    assert!(e.cached("sh -c"), "the export ran the step again");
    assert!(
        !e.text.contains("hoard: cache seed"),
        "the export pulled a seed:\n{}",
        tail(&e.text, 30)
    );
    let img = load_oci(&oci).unwrap();
    let label = img
        .config
        .pointer("/config/Labels/dev.hoard.caches")
        .and_then(Value::as_str)
        .expect("index label");
    let idx: Value = serde_json::from_str(label).unwrap();
    let ids = cache_ids(&idx);
    assert!(
        !ids.iter().any(|i| i.ends_with("/spare")),
        "the export carried a cache the build never used (from the newer image): {ids:?}"
    );
    let used = idx["caches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"].as_str().unwrap().ends_with("/used"))
        .expect("used cache exported");
    let log = format!("/{}/log", used["key"].as_str().unwrap());
    assert_eq!(
        img.fs.get(&log).map(|n| n.hash.clone()),
        Some(sha("1\n3\n")),
        "the exported cache is not the build's (first seed + this build): {:?}",
        img.fs.get(&log)
    );
}

/// Entries age out along a chain of CI jobs, each seeded from the previous job's export
/// (`HOARD_CACHE_EXPORT_MAX_AGE`, here in seconds). Job 1 fills the cache; job 2, on a fresh
/// runner more than the limit later, is seeded from job 1's export and reads one package's
/// manifest (not its sources) and adds a file; its export leaves out what neither job used
/// within the limit (a file, and a package directory as a whole), keeps the package job 2 used
/// with its unread sources, and job 3, seeded from that export, sees exactly that. Before the
/// exports recorded last use, every seeded file counted as used at seeding and nothing aged out
/// along a chain.
#[test]
fn stale_entries_age_out_along_a_chain() {
    if !e2e_enabled("stale_entries_age_out_along_a_chain") {
        return;
    }
    let _turn = turn();
    let df = "FROM hoard-test/busybox:latest
ARG JOB
RUN --mount=type=cache,id=aging,target=/c sh -c 'case $JOB in \\
    1) echo old > /c/old; for p in pkg-old pkg-used; do mkdir -p /c/$p/src; echo m > /c/$p/manifest; echo s > /c/$p/src/lib; done ;; \\
    2) cat /c/pkg-used/manifest; echo new > /c/new ;; \\
    esac; find /c -type f | sort | sed s/^/have:/'
";
    let (_s, ctx) = context("aging", df, &[]);
    let seed1 = refname("aging-1");
    let seed2 = refname("aging-2");
    const LIMIT: u64 = 60;
    let limit = format!("{LIMIT}s");

    wipe();
    let job1 = [("JOB", "1")];
    build(&ctx, &job1, &[]).must("job 1");
    let e1 = export(&ctx, &job1, &seed1).must("job 1 export");
    assert!(
        e1.text.contains("(0 files in 0 entries left out"),
        "job 1's export left something out:\n{}",
        tail(&e1.text, 20)
    );
    std::thread::sleep(std::time::Duration::from_secs(LIMIT + 5));

    wipe();
    let job2 = [
        ("HOARD_CACHE_FROM", seed1.as_str()),
        ("JOB", "2"),
        ("HOARD_CACHE_EXPORT_MAX_AGE", limit.as_str()),
    ];
    let j2 = build(&ctx, &job2, &[]).must("job 2");
    assert!(
        j2.text.contains("last-use times restored"),
        "job 2 was not seeded with last-use times:\n{}",
        tail(&j2.text, 30)
    );
    let e2 = export(&ctx, &job2, &seed2).must("job 2 export");
    assert!(
        e2.text.contains("(3 files in 2 entries left out"),
        "job 2's export did not leave out the old file and package:\n{}",
        tail(&e2.text, 20)
    );

    wipe();
    let j3 = build(
        &ctx,
        &[("HOARD_CACHE_FROM", seed2.as_str()), ("JOB", "3")],
        &[],
    )
    .must("job 3");
    let have: Vec<String> = j3
        .step("find /c")
        .iter()
        .filter_map(|l| {
            // `<seconds> have:<file>` (the step's header line also holds `have:`).
            let (_, out) = l.split_once(' ')?;
            out.strip_prefix("have:").map(str::to_string)
        })
        .collect();
    assert_eq!(
        have,
        ["/c/new", "/c/pkg-used/manifest", "/c/pkg-used/src/lib"],
        "job 3's cache after aging:\n{}",
        j3.step("find /c").join("\n")
    );
}

/// A stage whose image has no shell and no `cp` (`FROM scratch` with one static binary, an exec
/// form `RUN` using the author's cache mount): seeding and export still work, because the copies
/// run hoard's own binary on the builder, not anything in the stage.
#[test]
fn scratch_stage_seeds_and_exports() {
    if !e2e_enabled("scratch_stage_seeds_and_exports") {
        return;
    }
    let _turn = turn();
    let df = "FROM scratch
COPY --from=hoard-test/busybox:latest /bin/busybox /busybox
COPY files/ /files/
RUN --mount=type=cache,id=noshell,target=/c [\"/busybox\", \"cp\", \"-r\", \"/files/.\", \"/c/\"]
RUN --mount=type=cache,id=noshell,target=/c [\"/busybox\", \"ls\", \"/c\"]
";
    let (_s, ctx) = context("scratch", df, &[("files/one", "1\n")]);
    let seed = refname("scratch-cache");
    let from = [("HOARD_CACHE_FROM", seed.as_str())];
    wipe();
    build(&ctx, &from, &[]).must("job 1");
    export(&ctx, &from, &seed).must("job 1 export");
    let idx = index(&seed);
    assert!(
        cache_ids(&idx).iter().any(|i| i.ends_with("/noshell")),
        "{idx}"
    );

    wipe();
    fs::remove_file(ctx.join("files/one")).unwrap();
    fs::write(ctx.join("files/two"), "2\n").unwrap();
    let j = build(&ctx, &from, &[]).must("job 2");
    assert!(
        j.text.contains("hoard: seeded cache"),
        "not seeded:\n{}",
        tail(&j.text, 30)
    );
    let ls = j.step("\"ls\"");
    assert!(
        ls.iter().any(|l| l.ends_with(" one")) && ls.iter().any(|l| l.ends_with(" two")),
        "the cache did not continue from the seed:\n{}",
        ls.join("\n")
    );
}

/// A persistent runner that receives a newer seed every job keeps its warm caches: the step
/// continues from this builder's own cache content, not the seed's, and the seed image is not in
/// the job's graph at all (no `[internal] hoard: cache seed` vertex: BuildKit never fetches its
/// layers; the wipe removed the seed image this engine pushed, so it is not on the runner).
#[test]
fn warm_builder_keeps_its_caches() {
    if !e2e_enabled("warm_builder_keeps_its_caches") {
        return;
    }
    let _turn = turn();
    let df = "FROM hoard-test/busybox:latest
ARG BUST
RUN --mount=type=cache,id=warm,target=/c sh -c 'echo job-$BUST >> /c/log; cat /c/log'
";
    let (_s, ctx) = context("warm", df, &[]);
    let seed = refname("warm-cache");
    // The seed: another runner's cache (job-a).
    wipe();
    build(&ctx, &[("BUST", "a")], &[]).must("seed job");
    export(&ctx, &[("BUST", "a")], &seed).must("seed export");

    // This runner, warm with its own cache (job-b), then a job with the seed.
    wipe();
    build(&ctx, &[("BUST", "b")], &[]).must("warm job");
    let j = build(&ctx, &[("HOARD_CACHE_FROM", &seed), ("BUST", "c")], &[]).must("seeded job");
    let log = j.step("echo job-");
    assert!(
        log.iter().any(|l| l.ends_with(" job-b")) && log.iter().any(|l| l.ends_with(" job-c")),
        "the step did not continue from the warm cache:\n{}",
        log.join("\n")
    );
    assert!(
        !log.iter().any(|l| l.ends_with(" job-a")),
        "the seed's content reached a warm cache:\n{}",
        log.join("\n")
    );
    assert!(
        !j.text.contains("hoard: cache seed") && !j.text.contains("hoard: seeded cache"),
        "the seed was used on a warm builder:\n{}",
        tail(&j.text, 30)
    );
    // The same job on a wiped runner does use the seed (the checks above can tell).
    wipe();
    let f = build(&ctx, &[("HOARD_CACHE_FROM", &seed), ("BUST", "d")], &[]).must("fresh job");
    assert!(
        f.text.contains("hoard: cache seed") && f.text.contains("hoard: seeded cache"),
        "a fresh runner did not use the seed:\n{}",
        tail(&f.text, 30)
    );
    let log = f.step("echo job-");
    assert!(
        log.iter().any(|l| l.ends_with(" job-a")) && !log.iter().any(|l| l.ends_with(" job-b")),
        "the fresh runner's cache is not the seed's:\n{}",
        log.join("\n")
    );
}

/// A runner restored from a snapshot keeps /run: the CI engine's pid files there name pids
/// that, after the restart, may belong to unrelated processes. `scripts/ci-engine.sh` must
/// start the engine anyway and leave those processes alone (it once waited for "containerd is
/// still running" and timed out, and killed whatever held the dockerd pid).
#[test]
fn engine_starts_over_stale_pid_files() {
    if !e2e_enabled("engine_starts_over_stale_pid_files") {
        return;
    }
    let _turn = turn();
    let script = root().join("scripts/ci-engine.sh");
    let o = Command::new(&script).arg("stop").output().unwrap();
    assert!(o.status.success(), "ci-engine.sh stop: {}", output_text(&o));
    let run = std::env::var("HOARD_CI_RUN").unwrap_or_else(|_| "/run/hoard-ci".into());
    let mut bystander = Command::new("sleep").arg("600").spawn().unwrap();
    let pid = bystander.id().to_string();
    for file in [
        "dockerd.pid",
        "registry.pid",
        "exec/containerd/containerd.pid",
    ] {
        let path = Path::new(&run).join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &pid).unwrap();
    }
    let img = hoard_image();
    let o = Command::new(&script)
        .args(BASES)
        .arg(&img)
        .output()
        .unwrap();
    let alive = bystander.try_wait().unwrap().is_none();
    let _ = bystander.kill();
    let _ = bystander.wait();
    assert!(
        o.status.success(),
        "ci-engine.sh over stale pid files: {}",
        output_text(&o)
    );
    assert!(
        alive,
        "ci-engine.sh killed the process a stale pid file named"
    );
    let info = docker(&["info", "--format", "{{.ServerVersion}}"]);
    assert!(
        info.status.success(),
        "the CI engine is not up: {}",
        output_text(&info)
    );
    // The registry restarted too; it keeps its storage unless that grew past its limit, so
    // push the frontend again for the tests that follow.
    push_frontend(host(), &img);
    let o = Command::new("curl")
        .args(["-fsS", "http://127.0.0.1:5000/v2/"])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "the registry is not up: {}",
        output_text(&o)
    );
}
