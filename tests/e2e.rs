//! End-to-end comparison of hoard against the stock Dockerfile frontend.
//!
//! Every directory `testdata/cases/<name>/` holds a `Dockerfile` and its build context. Each case
//! is built twice with `docker buildx build --builder default` into OCI tarballs: once with the
//! stock frontend built into the daemon, once through hoard (`--build-arg BUILDKIT_SYNTAX=$HOARD_IMAGE`,
//! and for the cases in `SYNTAX_LINE_CASES` also through a copy of the Dockerfile with a
//! `# syntax=$HOARD_IMAGE` first line). The image configs (less `created` times and the layer
//! digests) and the flattened filesystems (type, mode, owner, link target, content; not mtimes)
//! must be equal.
//!
//! Optional files in a case directory (they are part of the build context too):
//! * `args`: one `K=V` per line, passed as `--build-arg K=V`;
//! * `target`: the `--target` stage;
//! * `buildflags`: extra buildx flags, whitespace-separated (paths are relative to the case dir);
//! * `setup`: lines `DIR TAG`: build `DIR` (relative to the case dir) with the stock frontend
//!   and load it as `TAG` before the case (for images with ONBUILD triggers, say).
//!
//! `testdata/errors/<name>/` holds a failing `Dockerfile` and an `expected` file: line 1 is a
//! substring the build output must contain, line 2 the `Dockerfile:N` reference, and an optional
//! line 3 the text of a `>>>` snippet line (trimmed). With a `stock` marker file the stock frontend
//! must fail the same way.
//!
//! Environment:
//! * `HOARD_IMAGE`: the frontend image (default `hoard:dev`, made by `scripts/image.sh`);
//! * `HOARD_E2E_SELFTEST=1`: build the "hoard" side with the stock frontend too, which proves the
//!   harness and the comparator pass on equal images;
//! * `HOARD_E2E_NO_CACHE=1`: build the hoard side with `--no-cache`, so every step really runs
//!   twice (with the self-test, this shows that the cases themselves are deterministic);
//! * `HOARD_SKIP_E2E=1`: skip every test that needs the engine (a skipped test is not a pass;
//!   `.ci/run` never sets it). Without it, a missing engine fails the tests.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use sha2::{Digest, Sha256};

// ------------------------------------------------------------------------------------------
// The corpus. Every directory of testdata/cases and testdata/errors must be listed here
// (`every_case_is_listed` checks it), so a new case cannot be skipped silently.

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        const CASES: &[&str] = &[$(stringify!($name)),*];
        mod case {
            $( #[test] fn $name() { super::run_case(stringify!($name)); } )*
        }
    };
}

macro_rules! errors {
    ($($name:ident),* $(,)?) => {
        const ERRORS: &[&str] = &[$(stringify!($name)),*];
        mod error {
            $( #[test] fn $name() { super::run_error(stringify!($name)); } )*
        }
    };
}

cases! {
    add_tar,
    arg_before_from,
    args_and_expansion,
    comments_continuations,
    copy_basic,
    copy_chown_chmod,
    copy_from,
    copy_link,
    debian_apt,
    debian_user,
    dockerignore,
    entrypoint_cmd,
    env_workdir_user,
    escape_directive,
    everything,
    from_scratch,
    healthcheck,
    heredocs,
    label_expose_volume,
    maintainer_stopsignal,
    onbuild_declare,
    onbuild_trigger,
    platform_stages,
    run_exec_form,
    run_mounts,
    run_network,
    run_secret_ssh,
    shell_instr,
    target_stage,
}

errors! {
    copy_missing,
    failing_run,
    unknown_flag,
    unknown_instruction,
    bad_continuation,
}

/// Cases also built through a Dockerfile copy whose first line is `# syntax=$HOARD_IMAGE`.
const SYNTAX_LINE_CASES: &[&str] = &["copy_basic", "args_and_expansion", "everything", "onbuild_trigger"];

// ------------------------------------------------------------------------------------------
// Environment

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn hoard_image() -> String {
    std::env::var("HOARD_IMAGE").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| "hoard:dev".into())
}

fn selftest() -> bool {
    std::env::var("HOARD_E2E_SELFTEST").map(|v| v == "1").unwrap_or(false)
}

/// True when the engine tests should run; false (after saying so) under `HOARD_SKIP_E2E=1`.
/// Panics when the engine or the frontend image is missing: that is a failure, not a skip.
fn e2e_enabled(test: &str) -> bool {
    if std::env::var("HOARD_SKIP_E2E").map(|v| v == "1").unwrap_or(false) {
        eprintln!("SKIPPED {test}: HOARD_SKIP_E2E=1 (a skipped test is not a pass)");
        return false;
    }
    let info = Command::new("docker").args(["info", "--format", "{{.ServerVersion}}"]).output();
    match info {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "the Docker engine is unavailable (docker info failed: {}); run scripts/engine.sh, \
             or set HOARD_SKIP_E2E=1 to skip (skipped is not passed)",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!("cannot run docker ({e}); run scripts/engine.sh, or set HOARD_SKIP_E2E=1 to skip"),
    }
    if !selftest() {
        let img = hoard_image();
        let ok = Command::new("docker")
            .args(["image", "inspect", "--format", "{{.Id}}", &img])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(ok, "the frontend image {img} is not loaded; run scripts/image.sh (or HOARD_E2E_SELFTEST=1)");
    }
    true
}

/// A scratch directory kept on failure (its path is printed) and removed on success.
struct Scratch {
    path: PathBuf,
    keep: bool,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let path = std::env::temp_dir().join(format!("hoard-e2e-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        Scratch { path, keep: false }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.keep || std::thread::panicking() {
            eprintln!("artifacts kept in {}", self.path.display());
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

// ------------------------------------------------------------------------------------------
// Building

#[derive(Clone, Copy, PartialEq, Debug)]
enum Frontend {
    /// The Dockerfile as-is, with the daemon's built-in frontend.
    Stock,
    /// `--build-arg BUILDKIT_SYNTAX=$HOARD_IMAGE`.
    Hoard,
    /// A copy of the Dockerfile with `# syntax=$HOARD_IMAGE` prepended.
    SyntaxLine,
}

impl fmt::Display for Frontend {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let s = match self {
            Frontend::Stock => "stock",
            Frontend::Hoard if selftest() => "hoard(selftest: stock)",
            Frontend::Hoard => "hoard",
            Frontend::SyntaxLine if selftest() => "syntax-line(selftest: stock, copied Dockerfile)",
            Frontend::SyntaxLine => "syntax-line",
        };
        f.write_str(s)
    }
}

fn read_lines(path: &Path) -> Vec<String> {
    match fs::read_to_string(path) {
        Ok(s) => s
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Flags a case directory asks for: build args, target, extra flags.
fn case_flags(dir: &Path) -> Vec<String> {
    let mut flags = Vec::new();
    for kv in read_lines(&dir.join("args")) {
        flags.push("--build-arg".into());
        flags.push(kv);
    }
    if let Some(t) = read_lines(&dir.join("target")).into_iter().next() {
        flags.push("--target".into());
        flags.push(t);
    }
    for line in read_lines(&dir.join("buildflags")) {
        flags.extend(line.split_whitespace().map(String::from));
    }
    flags
}

fn buildx(cwd: &Path, args: &[String]) -> Output {
    let mut cmd = Command::new("docker");
    cmd.current_dir(cwd)
        .args(["buildx", "build", "--builder", "default", "--progress=plain"])
        .args(args)
        .env("DOCKER_BUILDKIT", "1")
        .env("BUILDX_NO_DEFAULT_ATTESTATIONS", "1")
        .env_remove("BUILDKIT_PROGRESS")
        .env_remove("BUILDX_BUILDER")
        .stdin(Stdio::null());
    cmd.output().expect("run docker buildx build")
}

fn output_text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The buildx arguments selecting the frontend and Dockerfile; `scratch` receives the copy for
/// the syntax-line variant.
fn frontend_args(dir: &Path, fe: Frontend, scratch: &Path) -> Vec<String> {
    let mut args = Vec::new();
    let dockerfile = dir.join("Dockerfile");
    match fe {
        Frontend::Stock => args.extend(["-f".into(), dockerfile.display().to_string()]),
        Frontend::Hoard => {
            if !selftest() {
                args.extend(["--build-arg".into(), format!("BUILDKIT_SYNTAX={}", hoard_image())]);
            }
            args.extend(["-f".into(), dockerfile.display().to_string()]);
        }
        Frontend::SyntaxLine => {
            let text = fs::read_to_string(&dockerfile).unwrap();
            // Lines shift by one: only used for comparing images, never for error positions.
            let copy = if selftest() { text } else { format!("# syntax={}\n{text}", hoard_image()) };
            let sub = scratch.join("syntax-line");
            fs::create_dir_all(&sub).unwrap();
            let path = sub.join("Dockerfile");
            fs::write(&path, copy).unwrap();
            args.extend(["-f".into(), path.display().to_string()]);
        }
    }
    args
}

/// Builds the images a case's `setup` file names (with the stock frontend).
fn run_setup(dir: &Path) {
    for line in read_lines(&dir.join("setup")) {
        let mut it = line.split_whitespace();
        let (sub, tag) = match (it.next(), it.next()) {
            (Some(s), Some(t)) => (s, t),
            _ => panic!("bad setup line {line:?} in {}: want `DIR TAG`", dir.display()),
        };
        let args: Vec<String> = vec!["--load".into(), "-t".into(), tag.into(), sub.into()];
        let out = buildx(dir, &args);
        assert!(out.status.success(), "setup build of {sub} as {tag} failed:\n{}", tail(&output_text(&out), 60));
    }
}

/// Builds a case into an OCI tarball; Err carries the end of the build output.
fn build_oci(dir: &Path, fe: Frontend, scratch: &Path, dest: &Path) -> Result<(), String> {
    let mut args = frontend_args(dir, fe, scratch);
    args.extend(case_flags(dir));
    if fe != Frontend::Stock && std::env::var("HOARD_E2E_NO_CACHE").map(|v| v == "1").unwrap_or(false) {
        args.push("--no-cache".into());
    }
    args.push("--output".into());
    args.push(format!("type=oci,dest={},compression=uncompressed,force-compression=true", dest.display()));
    args.push(".".into());
    let out = buildx(dir, &args);
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{fe} build failed ({}):\n{}", out.status, tail(&output_text(&out), 60)))
    }
}

// ------------------------------------------------------------------------------------------
// Reading OCI tarballs and flattening layers

#[derive(Clone, PartialEq, Eq, Debug)]
enum Kind {
    File,
    Dir,
    Symlink(String),
    Fifo,
    Char(u32, u32),
    Block(u32, u32),
}

#[derive(Clone, PartialEq, Eq, Debug)]
struct Node {
    kind: Kind,
    mode: u32,
    uid: u64,
    gid: u64,
    size: u64,
    /// sha256 of a regular file's content (empty for other kinds).
    hash: String,
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let kind = match &self.kind {
            Kind::File => "file".to_string(),
            Kind::Dir => "dir".to_string(),
            Kind::Symlink(t) => format!("symlink -> {t}"),
            Kind::Fifo => "fifo".to_string(),
            Kind::Char(a, b) => format!("char {a}:{b}"),
            Kind::Block(a, b) => format!("block {a}:{b}"),
        };
        write!(f, "{kind} mode={:04o} owner={}:{}", self.mode, self.uid, self.gid)?;
        if self.kind == Kind::File {
            write!(f, " size={} sha256={}", self.size, &self.hash[..12.min(self.hash.len())])?;
        }
        Ok(())
    }
}

type Tree = BTreeMap<String, Node>;

struct Image {
    /// The config JSON with `created` removed (top level and history) and `rootfs.diff_ids`
    /// replaced by their count.
    config: Value,
    fs: Tree,
}

/// `/a/b` from a tar path such as `./a/b/` or `a/b`; `/` for the root.
fn norm_path(p: &str) -> String {
    let mut parts = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

fn parent_of(p: &str) -> &str {
    match p.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &p[..i],
    }
}

fn join_path(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// Removes `p`'s children (and `p` itself when `with_self`).
fn remove_tree(fs: &mut Tree, p: &str, with_self: bool) {
    if with_self {
        fs.remove(p);
    }
    let (lo, hi) = if p == "/" { ("/".to_string(), "0".to_string()) } else { (format!("{p}/"), format!("{p}0")) };
    let doomed: Vec<String> = fs.range(lo..hi).map(|(k, _)| k.clone()).filter(|k| k != "/").collect();
    for k in doomed {
        fs.remove(&k);
    }
}

enum LayerEntry {
    Whiteout(String),
    Opaque(String),
    Add(String, Node),
    Hardlink(String, String),
}

/// Applies one uncompressed layer tar onto `fs`, honouring OCI whiteouts: `.wh.NAME` deletes
/// NAME from the lower layers and `.wh..wh..opq` empties its directory of lower-layer entries.
fn apply_layer(fs: &mut Tree, layer: &[u8]) -> Result<(), String> {
    let mut entries = Vec::new();
    let mut ar = tar::Archive::new(layer);
    for e in ar.entries().map_err(|e| format!("layer tar: {e}"))? {
        let mut e = e.map_err(|e| format!("layer tar entry: {e}"))?;
        let raw = e.path().map_err(|e| format!("entry path: {e}"))?.to_string_lossy().into_owned();
        let path = norm_path(&raw);
        let base = path.rsplit('/').next().unwrap_or("").to_string();
        if base == ".wh..wh..opq" {
            entries.push(LayerEntry::Opaque(parent_of(&path).to_string()));
            continue;
        }
        if let Some(name) = base.strip_prefix(".wh.") {
            entries.push(LayerEntry::Whiteout(join_path(parent_of(&path), name)));
            continue;
        }
        let h = e.header();
        let mode = h.mode().map_err(|e| e.to_string())? & 0o7777;
        let uid = h.uid().map_err(|e| e.to_string())?;
        let gid = h.gid().map_err(|e| e.to_string())?;
        let et = h.entry_type();
        let dev = || -> (u32, u32) {
            (h.device_major().ok().flatten().unwrap_or(0), h.device_minor().ok().flatten().unwrap_or(0))
        };
        let kind = if et.is_dir() {
            Kind::Dir
        } else if et.is_symlink() {
            Kind::Symlink(e.link_name().ok().flatten().map(|l| l.to_string_lossy().into_owned()).unwrap_or_default())
        } else if et.is_hard_link() {
            let target = e.link_name().ok().flatten().map(|l| l.to_string_lossy().into_owned()).unwrap_or_default();
            entries.push(LayerEntry::Hardlink(path, norm_path(&target)));
            continue;
        } else if et.is_fifo() {
            Kind::Fifo
        } else if et.is_character_special() {
            let (a, b) = dev();
            Kind::Char(a, b)
        } else if et.is_block_special() {
            let (a, b) = dev();
            Kind::Block(a, b)
        } else if et.is_file() || et == tar::EntryType::Continuous {
            Kind::File
        } else {
            // PAX/GNU extension headers are consumed by the tar crate; anything else is odd.
            return Err(format!("unexpected tar entry type {et:?} at {path}"));
        };
        let (size, hash) = if kind == Kind::File {
            let mut buf = Vec::new();
            e.read_to_end(&mut buf).map_err(|e| format!("read {path}: {e}"))?;
            (buf.len() as u64, hex(&Sha256::digest(&buf)))
        } else {
            (0, String::new())
        };
        entries.push(LayerEntry::Add(path, Node { kind, mode, uid, gid, size, hash }));
    }
    // Whiteouts apply to the lower layers only: all of them before any addition.
    for e in &entries {
        match e {
            LayerEntry::Whiteout(p) => remove_tree(fs, p, true),
            LayerEntry::Opaque(d) => remove_tree(fs, d, false),
            _ => {}
        }
    }
    for e in entries {
        match e {
            LayerEntry::Add(p, node) => {
                let replaces_dir = matches!(fs.get(&p), Some(n) if n.kind == Kind::Dir);
                if replaces_dir && node.kind != Kind::Dir {
                    remove_tree(fs, &p, false);
                }
                fs.insert(p, node);
            }
            LayerEntry::Hardlink(p, target) => {
                let node = fs.get(&target).cloned().ok_or_else(|| format!("hardlink {p} to missing {target}"))?;
                fs.insert(p, node);
            }
            _ => {}
        }
    }
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Decompresses gzip or zstd layers through the system tools; plain tars pass through.
fn decompress(data: Vec<u8>) -> Result<Vec<u8>, String> {
    let tool = if data.starts_with(&[0x1f, 0x8b]) {
        "gzip"
    } else if data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        "zstd"
    } else {
        return Ok(data);
    };
    let mut child = Command::new(tool)
        .args(["-dc"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("run {tool}: {e}"))?;
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    writer.join().unwrap().map_err(|e| format!("{tool} stdin: {e}"))?;
    if !out.status.success() {
        return Err(format!("{tool} -dc failed"));
    }
    Ok(out.stdout)
}

/// Reads an OCI image layout tarball: config and flattened filesystem.
fn load_oci(path: &Path) -> Result<Image, String> {
    let file = fs::File::open(path).map_err(|e| format!("open {}: {e}", path.display()))?;
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    let mut ar = tar::Archive::new(file);
    for e in ar.entries().map_err(|e| e.to_string())? {
        let mut e = e.map_err(|e| e.to_string())?;
        if !e.header().entry_type().is_file() {
            continue;
        }
        let p = e.path().map_err(|e| e.to_string())?.to_string_lossy().trim_start_matches("./").to_string();
        let mut buf = Vec::new();
        e.read_to_end(&mut buf).map_err(|e| e.to_string())?;
        files.insert(p, buf);
    }
    let blob = |digest: &str| -> Result<&Vec<u8>, String> {
        let d = digest.replacen(':', "/", 1);
        files.get(&format!("blobs/{d}")).ok_or_else(|| format!("blob {digest} missing from {}", path.display()))
    };
    let json = |b: &[u8]| -> Result<Value, String> { serde_json::from_slice(b).map_err(|e| e.to_string()) };

    let index = json(files.get("index.json").ok_or("index.json missing")?)?;
    let mut desc = pick_manifest(&index)?;
    // Nested index (multi-platform or attestations): descend to the image manifest.
    for _ in 0..4 {
        let mt = desc["mediaType"].as_str().unwrap_or("");
        if !mt.contains("index") && !mt.contains("manifest.list") {
            break;
        }
        let inner = json(blob(desc["digest"].as_str().unwrap_or(""))?)?;
        desc = pick_manifest(&inner)?;
    }
    let manifest = json(blob(desc["digest"].as_str().ok_or("manifest digest")?)?)?;
    let mut config = json(blob(manifest["config"]["digest"].as_str().ok_or("config digest")?)?)?;
    let mut tree = Tree::new();
    for layer in manifest["layers"].as_array().cloned().unwrap_or_default() {
        let data = decompress(blob(layer["digest"].as_str().ok_or("layer digest")?)?.clone())?;
        apply_layer(&mut tree, &data)?;
    }
    normalize_config(&mut config);
    Ok(Image { config, fs: tree })
}

fn pick_manifest(index: &Value) -> Result<Value, String> {
    let ms = index["manifests"].as_array().ok_or("index without manifests")?;
    ms.iter()
        .find(|m| m["platform"]["os"].as_str() != Some("unknown"))
        .cloned()
        .ok_or_else(|| "index without an image manifest".to_string())
}

fn normalize_config(config: &mut Value) {
    if let Some(o) = config.as_object_mut() {
        o.remove("created");
    }
    if let Some(h) = config.get_mut("history").and_then(Value::as_array_mut) {
        for e in h {
            if let Some(o) = e.as_object_mut() {
                o.remove("created");
            }
        }
    }
    if let Some(r) = config.get_mut("rootfs").and_then(Value::as_object_mut) {
        let n = r.get("diff_ids").and_then(Value::as_array).map(|a| a.len()).unwrap_or(0);
        r.insert("diff_ids".into(), Value::String(format!("<{n} layers>")));
    }
}

// ------------------------------------------------------------------------------------------
// Comparing

const MAX_DIFFS: usize = 25;

/// Differences between two JSON values, as `path: a != b` lines.
fn diff_json(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(va), Some(vb)) => diff_json(&p, va, vb, out),
                    (Some(va), None) => out.push(format!("{p}: {va} != (absent)")),
                    (None, Some(vb)) => out.push(format!("{p}: (absent) != {vb}")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                diff_json(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            out.push(format!("{path}: {} items != {} items", x.len(), y.len()));
            for i in 0..x.len().max(y.len()) {
                let (va, vb) = (x.get(i), y.get(i));
                if va != vb {
                    let s = |v: Option<&Value>| v.map(|v| v.to_string()).unwrap_or_else(|| "(absent)".into());
                    out.push(format!("{path}[{i}]: {} != {}", s(va), s(vb)));
                }
            }
        }
        _ if a != b => out.push(format!("{path}: {a} != {b}")),
        _ => {}
    }
}

fn diff_trees(a: &Tree, b: &Tree, out: &mut Vec<String>) {
    let paths: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for p in paths {
        match (a.get(p), b.get(p)) {
            (Some(x), Some(y)) if x != y => out.push(format!("{p}: {x} != {y}")),
            (Some(x), None) => out.push(format!("{p}: {x} != (absent)")),
            (None, Some(y)) => out.push(format!("{p}: (absent) != {y}")),
            _ => {}
        }
    }
}

/// All differences (config first, then files), each line `where: left != right`.
fn compare_images(a: &Image, b: &Image) -> Vec<String> {
    let mut out = Vec::new();
    diff_json("config", &a.config, &b.config, &mut out);
    diff_trees(&a.fs, &b.fs, &mut out);
    out
}

fn report(case: &str, left: &str, right: &str, diffs: &[String]) -> String {
    let mut s = format!("{case}: {left} and {right} images differ ({} differences; `left != right`):\n", diffs.len());
    for d in diffs.iter().take(MAX_DIFFS) {
        s.push_str("  ");
        s.push_str(d);
        s.push('\n');
    }
    if diffs.len() > MAX_DIFFS {
        s.push_str(&format!("  ... and {} more\n", diffs.len() - MAX_DIFFS));
    }
    s
}

// ------------------------------------------------------------------------------------------
// Test bodies

fn cases_dir() -> PathBuf {
    root().join("testdata/cases")
}

fn errors_dir() -> PathBuf {
    root().join("testdata/errors")
}

fn run_case(name: &str) {
    if !e2e_enabled(name) {
        return;
    }
    let dir = cases_dir().join(name);
    assert!(dir.join("Dockerfile").is_file(), "{} has no Dockerfile", dir.display());
    let mut scratch = Scratch::new(name);
    run_setup(&dir);

    let stock_tar = scratch.path.join("stock.tar");
    if let Err(e) = build_oci(&dir, Frontend::Stock, &scratch.path, &stock_tar) {
        panic!("{name}: the case does not build with the stock frontend (fix the case):\n{e}");
    }
    let stock = load_oci(&stock_tar).unwrap_or_else(|e| panic!("{name}: reading the stock image: {e}"));

    let mut variants = vec![Frontend::Hoard];
    if SYNTAX_LINE_CASES.contains(&name) {
        variants.push(Frontend::SyntaxLine);
    }
    let mut failures = Vec::new();
    for fe in variants {
        let dest = scratch.path.join(format!("{fe:?}.tar").to_lowercase());
        match build_oci(&dir, fe, &scratch.path, &dest).and_then(|_| load_oci(&dest)) {
            Err(e) => failures.push(format!("{name}: {e}")),
            Ok(img) => {
                let diffs = compare_images(&stock, &img);
                if !diffs.is_empty() {
                    failures.push(report(name, "stock", &fe.to_string(), &diffs));
                }
            }
        }
    }
    if !failures.is_empty() {
        scratch.keep = true;
        panic!("{}", failures.join("\n"));
    }
    eprintln!("{name}: {} files, config and filesystem equal", stock.fs.len());
}

/// True when `text` has `reference` (say `Dockerfile:3`) not followed by another digit.
fn has_line_ref(text: &str, reference: &str) -> bool {
    text.match_indices(reference)
        .any(|(i, _)| !text[i + reference.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

fn check_error_output(name: &str, who: &str, out: &Output, expected: &[String]) -> Vec<String> {
    let text = output_text(out);
    let mut problems = Vec::new();
    if out.status.success() {
        problems.push(format!("{name}: the {who} build succeeded; it must fail"));
        return problems;
    }
    if !text.contains(&expected[0]) {
        problems.push(format!("{name}: the {who} output lacks the message {:?}", expected[0]));
    }
    if !has_line_ref(&text, &expected[1]) {
        problems.push(format!("{name}: the {who} output lacks the line reference {:?}", expected[1]));
    }
    if let Some(snippet) = expected.get(2) {
        let snippet_line = |l: &str| l.split_once(">>>").is_some_and(|(_, rest)| rest.trim() == snippet.as_str());
        if !text.lines().any(snippet_line) {
            problems.push(format!("{name}: the {who} output has no `>>> {snippet}` snippet line"));
        }
    }
    if !problems.is_empty() {
        problems.push(format!("--- {who} output (end) ---\n{}", tail(&text, 40)));
    }
    problems
}

fn run_error(name: &str) {
    if !e2e_enabled(name) {
        return;
    }
    let dir = errors_dir().join(name);
    let expected: Vec<String> = fs::read_to_string(dir.join("expected"))
        .unwrap_or_else(|e| panic!("{}/expected: {e}", dir.display()))
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    assert!(expected.len() >= 2, "{name}/expected needs a message line and a `Dockerfile:N` line");
    let scratch = Scratch::new(&format!("err-{name}"));

    let mut args = frontend_args(&dir, Frontend::Hoard, &scratch.path);
    args.extend(case_flags(&dir));
    args.push(".".into());
    let hoard = buildx(&dir, &args);
    let mut problems = check_error_output(name, &Frontend::Hoard.to_string(), &hoard, &expected);

    if dir.join("stock").exists() {
        let mut args = frontend_args(&dir, Frontend::Stock, &scratch.path);
        args.extend(case_flags(&dir));
        args.push(".".into());
        let stock = buildx(&dir, &args);
        problems.extend(check_error_output(name, "stock", &stock, &expected));
        if stock.status.code() != hoard.status.code() {
            problems.push(format!("{name}: exit status stock {} != hoard {}", stock.status, hoard.status));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn list_dirs(dir: &Path) -> BTreeSet<String> {
    match fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

#[test]
fn every_case_is_listed() {
    let listed: BTreeSet<String> = CASES.iter().map(|s| s.to_string()).collect();
    let on_disk = list_dirs(&cases_dir());
    let unlisted: Vec<_> = on_disk.difference(&listed).collect();
    let missing: Vec<_> = listed.difference(&on_disk).collect();
    assert!(unlisted.is_empty(), "testdata/cases dirs not listed in cases! in tests/e2e.rs: {unlisted:?}");
    assert!(missing.is_empty(), "cases! lists cases with no testdata/cases dir: {missing:?}");

    let listed: BTreeSet<String> = ERRORS.iter().map(|s| s.to_string()).collect();
    let on_disk = list_dirs(&errors_dir());
    let unlisted: Vec<_> = on_disk.difference(&listed).collect();
    let missing: Vec<_> = listed.difference(&on_disk).collect();
    assert!(unlisted.is_empty(), "testdata/errors dirs not listed in errors! in tests/e2e.rs: {unlisted:?}");
    assert!(missing.is_empty(), "errors! lists cases with no testdata/errors dir: {missing:?}");

    for s in SYNTAX_LINE_CASES {
        assert!(CASES.contains(s), "SYNTAX_LINE_CASES names {s}, which is not a case");
    }
}

// ------------------------------------------------------------------------------------------
// The comparator's own tests

fn tar_of(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    build(&mut b);
    b.into_inner().unwrap()
}

fn add(b: &mut tar::Builder<Vec<u8>>, path: &str, kind: tar::EntryType, mode: u32, data: &[u8], link: Option<&str>) {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_size(data.len() as u64);
    if let Some(l) = link {
        h.set_link_name(l).unwrap();
    }
    h.set_path(path).unwrap();
    h.set_cksum();
    b.append(&h, data).unwrap();
}

#[test]
fn flatten_honours_whiteouts_and_hardlinks() {
    use tar::EntryType as E;
    let lower = tar_of(|b| {
        add(b, "a/", E::Directory, 0o755, b"", None);
        add(b, "a/x", E::Regular, 0o644, b"x", None);
        add(b, "a/y", E::Regular, 0o600, b"y", None);
        add(b, "b", E::Regular, 0o644, b"b", None);
        add(b, "d/", E::Directory, 0o755, b"", None);
        add(b, "d/old", E::Regular, 0o644, b"old", None);
        add(b, "d/sub/", E::Directory, 0o755, b"", None);
        add(b, "d/sub/deep", E::Regular, 0o644, b"deep", None);
        add(b, "d-sibling", E::Regular, 0o644, b"s", None);
        add(b, "e/", E::Directory, 0o755, b"", None);
        add(b, "e/child", E::Regular, 0o644, b"c", None);
    });
    let upper = tar_of(|b| {
        add(b, "a/.wh.x", E::Regular, 0o644, b"", None);
        add(b, ".wh.b", E::Regular, 0o644, b"", None);
        add(b, "d/", E::Directory, 0o700, b"", None);
        add(b, "d/.wh..wh..opq", E::Regular, 0o644, b"", None);
        add(b, "d/new", E::Regular, 0o644, b"new", None);
        add(b, "c", E::Link, 0o644, b"", Some("a/y"));
        add(b, "e", E::Symlink, 0o777, b"", Some("a"));
    });
    let mut tree = Tree::new();
    apply_layer(&mut tree, &lower).unwrap();
    apply_layer(&mut tree, &upper).unwrap();
    let paths: Vec<&str> = tree.keys().map(String::as_str).collect();
    assert_eq!(paths, ["/a", "/a/y", "/c", "/d", "/d-sibling", "/d/new", "/e"]);
    assert_eq!(tree["/c"], tree["/a/y"], "a hardlink has its target's content and metadata");
    assert_eq!(tree["/d"].mode, 0o700);
    assert_eq!(tree["/e"].kind, Kind::Symlink("a".into()));
}

#[test]
fn config_diff_ignores_created_only() {
    let mut a: Value = serde_json::from_str(
        r#"{"created":"2024-01-01T00:00:00Z","config":{"Env":["A=1"]},"rootfs":{"type":"layers","diff_ids":["sha256:1"]},
            "history":[{"created":"x","created_by":"RUN a # buildkit","comment":"buildkit.dockerfile.v0"}]}"#,
    )
    .unwrap();
    let mut b: Value = serde_json::from_str(
        r#"{"created":"2025-01-01T00:00:00Z","config":{"Env":["A=1"]},"rootfs":{"type":"layers","diff_ids":["sha256:2"]},
            "history":[{"created":"y","created_by":"RUN a # buildkit","comment":"buildkit.dockerfile.v0"}]}"#,
    )
    .unwrap();
    normalize_config(&mut a);
    normalize_config(&mut b);
    let mut d = Vec::new();
    diff_json("config", &a, &b, &mut d);
    assert!(d.is_empty(), "{d:?}");
    b["history"][0]["created_by"] = Value::String("RUN b # buildkit".into());
    b["rootfs"]["diff_ids"] = Value::String("<2 layers>".into());
    diff_json("config", &a, &b, &mut d);
    assert_eq!(d.len(), 2, "{d:?}");
}

/// Builds tiny images differing in one respect each and checks the comparator catches every
/// one, and passes an image against a rebuild of itself.
#[test]
fn comparator_detects_differences() {
    if !e2e_enabled("comparator_detects_differences") {
        return;
    }
    let scratch = Scratch::new("comparator");
    let ctx = scratch.path.join("ctx");
    fs::create_dir_all(&ctx).unwrap();
    fs::write(ctx.join("f"), "same\n").unwrap();
    fs::write(ctx.join("g"), "different\n").unwrap();
    let variants: &[(&str, &str, &str)] = &[
        ("base", "COPY f /f\nENV X=1", ""),
        ("base_again", "COPY f /f\nENV X=1", ""),
        ("mode", "COPY --chmod=0755 f /f\nENV X=1", "/f: file mode=0644"),
        ("owner", "COPY --chown=1000:1000 f /f\nENV X=1", "owner=0:0 size=5"),
        ("content", "COPY g /f\nENV X=1", "/f: file"),
        ("config", "COPY f /f\nENV X=2", "config.config.Env"),
        ("extra_file", "COPY f /f\nCOPY g /g\nENV X=1", "/g: (absent)"),
    ];
    let mut images = BTreeMap::new();
    for (name, body, _) in variants {
        let df = ctx.join(format!("{name}.Dockerfile"));
        fs::write(&df, format!("FROM hoard-test/busybox\n{body}\n")).unwrap();
        let dest = scratch.path.join(format!("{name}.tar"));
        let args: Vec<String> = vec![
            "-f".into(),
            df.display().to_string(),
            "--output".into(),
            format!("type=oci,dest={},compression=uncompressed,force-compression=true", dest.display()),
            ".".into(),
        ];
        let out = buildx(&ctx, &args);
        assert!(out.status.success(), "{name}: {}", tail(&output_text(&out), 30));
        images.insert(*name, load_oci(&dest).unwrap());
    }
    let base = &images["base"];
    let same = compare_images(base, &images["base_again"]);
    assert!(same.is_empty(), "an image must equal its own rebuild: {same:?}");
    for (name, _, expect) in &variants[2..] {
        let diffs = compare_images(base, &images[name]);
        assert!(!diffs.is_empty(), "{name}: the comparator found no difference");
        assert!(
            diffs.iter().any(|d| d.contains(expect)),
            "{name}: no difference mentions {expect:?}: {diffs:?}"
        );
        eprintln!("{}", report(name, "base", name, &diffs));
    }
}
