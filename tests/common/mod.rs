//! Helpers shared by the end-to-end test binaries (`e2e.rs`, `cache_e2e.rs`): the engine check,
//! scratch directories, running `docker buildx build`, and reading and comparing OCI images.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use sha2::{Digest, Sha256};

pub mod cargo_demo;
pub mod corpus;
// ------------------------------------------------------------------------------------------
// Environment

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn hoard_image() -> String {
    std::env::var("HOARD_IMAGE")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "hoard:dev".into())
}

/// The buildx arguments that build through hoard rather than the stock frontend:
/// `--build-arg BUILDKIT_SYNTAX=$HOARD_IMAGE`.
pub fn hoard_frontend() -> [String; 2] {
    [
        "--build-arg".into(),
        format!("BUILDKIT_SYNTAX={}", hoard_image()),
    ]
}

/// The frontend arguments of a build through hoard (`hoard`) or the stock frontend; in a
/// selftest run ([`selftest`]) both are the stock frontend.
pub fn frontend(hoard: bool) -> Vec<String> {
    if hoard && !selftest() {
        hoard_frontend().into()
    } else {
        Vec::new()
    }
}

/// Which frontend [`frontend`] selected, for messages.
pub fn who(hoard: bool) -> &'static str {
    match (hoard, selftest()) {
        (false, _) => "stock",
        (true, false) => "hoard",
        (true, true) => "hoard(selftest: stock)",
    }
}

/// A value no earlier build used (BUST args, cache namespaces, image tags).
pub fn unique(what: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{what}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

pub fn selftest() -> bool {
    std::env::var("HOARD_E2E_SELFTEST")
        .map(|v| v == "1")
        .unwrap_or(false)
}

/// True when the engine tests should run; false (after saying so) under `HOARD_SKIP_E2E=1`.
/// Panics when the engine or the frontend image is missing: that is a failure, not a skip.
pub fn e2e_enabled(test: &str) -> bool {
    if std::env::var("HOARD_SKIP_E2E")
        .map(|v| v == "1")
        .unwrap_or(false)
    {
        eprintln!("SKIPPED {test}: HOARD_SKIP_E2E=1 (a skipped test is not a pass)");
        return false;
    }
    let info = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output();
    match info {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "the Docker engine is unavailable (docker info failed: {}); run scripts/engine.sh, \
             or set HOARD_SKIP_E2E=1 to skip (skipped is not passed)",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!(
            "cannot run docker ({e}); run scripts/engine.sh, or set HOARD_SKIP_E2E=1 to skip"
        ),
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
pub struct Scratch {
    pub path: PathBuf,
    pub keep: bool,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
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

pub fn read_lines(path: &Path) -> Vec<String> {
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
pub fn case_flags(dir: &Path) -> Vec<String> {
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

/// buildx arguments that build `dockerfile` (stock frontend, or hoard when `hoard`) into an
/// uncompressed OCI tarball at `dest`, with `.` as the context.
pub fn oci_build_args(dockerfile: &str, dest: &Path, hoard: bool) -> Vec<String> {
    let mut args = vec!["-f".to_string(), dockerfile.to_string()];
    if hoard {
        args.extend(hoard_frontend());
    }
    args.push("--output".into());
    args.push(format!(
        "type=oci,dest={},compression=uncompressed,force-compression=true",
        dest.display()
    ));
    args.push(".".into());
    args
}

pub fn buildx(cwd: &Path, args: &[String]) -> Output {
    let mut cmd = Command::new("docker");
    cmd.current_dir(cwd)
        .args([
            "buildx",
            "build",
            "--builder",
            "default",
            "--progress=plain",
        ])
        .args(args)
        .env("DOCKER_BUILDKIT", "1")
        .env("BUILDX_NO_DEFAULT_ATTESTATIONS", "1")
        .env_remove("BUILDKIT_PROGRESS")
        .env_remove("BUILDX_BUILDER")
        .stdin(Stdio::null());
    cmd.output().expect("run docker buildx build")
}

pub fn output_text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The buildx arguments selecting the frontend and Dockerfile; `scratch` receives the copy for

// ------------------------------------------------------------------------------------------
// Reading OCI tarballs and flattening layers

#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Kind {
    File,
    Dir,
    Symlink(String),
    Fifo,
    Char(u32, u32),
    Block(u32, u32),
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Node {
    pub kind: Kind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    /// sha256 of a regular file's content (empty for other kinds).
    pub hash: String,
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
        write!(
            f,
            "{kind} mode={:04o} owner={}:{}",
            self.mode, self.uid, self.gid
        )?;
        if self.kind == Kind::File {
            write!(
                f,
                " size={} sha256={}",
                self.size,
                &self.hash[..12.min(self.hash.len())]
            )?;
        }
        Ok(())
    }
}

pub type Tree = BTreeMap<String, Node>;

pub struct Image {
    /// The config JSON with `created` removed (top level and history) and `rootfs.diff_ids`
    /// replaced by their count.
    pub config: Value,
    pub fs: Tree,
}

/// `/a/b` from a tar path such as `./a/b/` or `a/b`; `/` for the root.
pub fn norm_path(p: &str) -> String {
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

pub fn parent_of(p: &str) -> &str {
    match p.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &p[..i],
    }
}

pub fn join_path(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// Removes `p`'s children (and `p` itself when `with_self`).
pub fn remove_tree(fs: &mut Tree, p: &str, with_self: bool) {
    if with_self {
        fs.remove(p);
    }
    let (lo, hi) = if p == "/" {
        ("/".to_string(), "0".to_string())
    } else {
        (format!("{p}/"), format!("{p}0"))
    };
    let doomed: Vec<String> = fs
        .range(lo..hi)
        .map(|(k, _)| k.clone())
        .filter(|k| k != "/")
        .collect();
    for k in doomed {
        fs.remove(&k);
    }
}

pub enum LayerEntry {
    Whiteout(String),
    Opaque(String),
    Add(String, Node),
    Hardlink(String, String),
}

/// Applies one uncompressed layer tar onto `fs`, honouring OCI whiteouts: `.wh.NAME` deletes
/// NAME from the lower layers and `.wh..wh..opq` empties its directory of lower-layer entries.
pub fn apply_layer(fs: &mut Tree, layer: &[u8]) -> Result<(), String> {
    let mut entries = Vec::new();
    let mut ar = tar::Archive::new(layer);
    for e in ar.entries().map_err(|e| format!("layer tar: {e}"))? {
        let mut e = e.map_err(|e| format!("layer tar entry: {e}"))?;
        let raw = e
            .path()
            .map_err(|e| format!("entry path: {e}"))?
            .to_string_lossy()
            .into_owned();
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
            (
                h.device_major().ok().flatten().unwrap_or(0),
                h.device_minor().ok().flatten().unwrap_or(0),
            )
        };
        let kind = if et.is_dir() {
            Kind::Dir
        } else if et.is_symlink() {
            Kind::Symlink(
                e.link_name()
                    .ok()
                    .flatten()
                    .map(|l| l.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
        } else if et.is_hard_link() {
            let target = e
                .link_name()
                .ok()
                .flatten()
                .map(|l| l.to_string_lossy().into_owned())
                .unwrap_or_default();
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
            e.read_to_end(&mut buf)
                .map_err(|e| format!("read {path}: {e}"))?;
            (buf.len() as u64, hex(&Sha256::digest(&buf)))
        } else {
            (0, String::new())
        };
        entries.push(LayerEntry::Add(
            path,
            Node {
                kind,
                mode,
                uid,
                gid,
                size,
                hash,
            },
        ));
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
                let node = fs
                    .get(&target)
                    .cloned()
                    .ok_or_else(|| format!("hardlink {p} to missing {target}"))?;
                fs.insert(p, node);
            }
            _ => {}
        }
    }
    Ok(())
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Decompresses gzip or zstd layers through the system tools; plain tars pass through.
pub fn decompress(data: Vec<u8>) -> Result<Vec<u8>, String> {
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
    writer
        .join()
        .unwrap()
        .map_err(|e| format!("{tool} stdin: {e}"))?;
    if !out.status.success() {
        return Err(format!("{tool} -dc failed"));
    }
    Ok(out.stdout)
}

/// Reads an OCI image layout tarball: config and flattened filesystem of its image (for an
/// index of several platforms: the first image manifest).
pub fn load_oci(path: &Path) -> Result<Image, String> {
    load_oci_platform(path, None)
}

/// Like [`load_oci`], the image for one platform (`linux/386`) of a multi-platform index.
pub fn load_oci_platform(path: &Path, platform: Option<&str>) -> Result<Image, String> {
    let (mut config, layers) = oci_layers(path, platform)?;
    let mut tree = Tree::new();
    for data in &layers {
        apply_layer(&mut tree, data)?;
    }
    normalize_config(&mut config);
    Ok(Image { config, fs: tree })
}

/// The content of the regular file `file` (absolute) in an OCI tarball's image: the last layer
/// that has it, unless a later layer's whiteout removed it.
pub fn oci_file(path: &Path, platform: Option<&str>, file: &str) -> Result<String, String> {
    let (_, layers) = oci_layers(path, platform)?;
    let (dir, name) = (parent_of(file), file.rsplit('/').next().unwrap_or(""));
    let whiteout = join_path(dir, &format!(".wh.{name}"));
    let mut found = None;
    for data in &layers {
        let mut ar = tar::Archive::new(&data[..]);
        for e in ar.entries().map_err(|e| e.to_string())? {
            let mut e = e.map_err(|e| e.to_string())?;
            let p = norm_path(&e.path().map_err(|e| e.to_string())?.to_string_lossy());
            if p == whiteout {
                found = None;
            } else if p == file && e.header().entry_type().is_file() {
                let mut buf = Vec::new();
                e.read_to_end(&mut buf).map_err(|e| e.to_string())?;
                found = Some(String::from_utf8_lossy(&buf).into_owned());
            }
        }
    }
    found.ok_or_else(|| format!("{file} not in the image of {}", path.display()))
}

/// The config JSON and the decompressed layer tars of the image in an OCI tarball (for an
/// index of several platforms: `platform`'s, or the first image manifest when `None`).
fn oci_layers(path: &Path, platform: Option<&str>) -> Result<(Value, Vec<Vec<u8>>), String> {
    let oci = OciTar::read(path)?;
    let pick = |index: &Value| match platform {
        None => pick_manifest(index),
        Some(p) => pick_platform(index, p),
    };
    let mut desc = pick(&oci.index()?)?;
    // Nested index (multi-platform or attestations): descend to the image manifest.
    for _ in 0..4 {
        let mt = desc["mediaType"].as_str().unwrap_or("");
        if !mt.contains("index") && !mt.contains("manifest.list") {
            break;
        }
        desc = pick(&oci.json(desc["digest"].as_str().unwrap_or(""))?)?;
    }
    let manifest = oci.json(desc["digest"].as_str().ok_or("manifest digest")?)?;
    let config = oci.json(
        manifest["config"]["digest"]
            .as_str()
            .ok_or("config digest")?,
    )?;
    let mut layers = Vec::new();
    for layer in manifest["layers"].as_array().cloned().unwrap_or_default() {
        layers.push(decompress(
            oci.blob(layer["digest"].as_str().ok_or("layer digest")?)?
                .clone(),
        )?);
    }
    Ok((config, layers))
}

/// The regular files of an OCI image layout tarball, by path.
struct OciTar {
    path: PathBuf,
    files: HashMap<String, Vec<u8>>,
}

impl OciTar {
    fn read(path: &Path) -> Result<OciTar, String> {
        let file = fs::File::open(path).map_err(|e| format!("open {}: {e}", path.display()))?;
        let mut files = HashMap::new();
        let mut ar = tar::Archive::new(file);
        for e in ar.entries().map_err(|e| e.to_string())? {
            let mut e = e.map_err(|e| e.to_string())?;
            if !e.header().entry_type().is_file() {
                continue;
            }
            let p = e
                .path()
                .map_err(|e| e.to_string())?
                .to_string_lossy()
                .trim_start_matches("./")
                .to_string();
            let mut buf = Vec::new();
            e.read_to_end(&mut buf).map_err(|e| e.to_string())?;
            files.insert(p, buf);
        }
        Ok(OciTar {
            path: path.to_path_buf(),
            files,
        })
    }

    fn blob(&self, digest: &str) -> Result<&Vec<u8>, String> {
        let d = digest.replacen(':', "/", 1);
        self.files
            .get(&format!("blobs/{d}"))
            .ok_or_else(|| format!("blob {digest} missing from {}", self.path.display()))
    }

    fn json(&self, digest: &str) -> Result<Value, String> {
        serde_json::from_slice(self.blob(digest)?).map_err(|e| format!("blob {digest}: {e}"))
    }

    fn index(&self) -> Result<Value, String> {
        let data = self
            .files
            .get("index.json")
            .ok_or_else(|| format!("index.json missing from {}", self.path.display()))?;
        serde_json::from_slice(data)
            .map_err(|e| format!("index.json of {}: {e}", self.path.display()))
    }
}

/// The platforms (`os/arch[/variant]`) of the image manifests an OCI index lists, nested
/// indexes included; what a multi-platform build produced.
pub fn oci_platforms(path: &Path) -> Result<Vec<String>, String> {
    let oci = OciTar::read(path)?;
    let list = |index: &Value| -> Vec<String> {
        index["manifests"]
            .as_array()
            .map(|ms| ms.iter().filter_map(platform_of).collect())
            .unwrap_or_default()
    };
    let index = oci.index()?;
    let mut v = list(&index);
    if v.is_empty() {
        // One nested index (the exporter's usual shape): read it.
        v = list(
            &oci.json(
                index["manifests"][0]["digest"]
                    .as_str()
                    .ok_or("index without manifests")?,
            )?,
        );
    }
    v.sort();
    Ok(v)
}

fn platform_of(desc: &Value) -> Option<String> {
    let p = &desc["platform"];
    let (os, arch) = (p["os"].as_str()?, p["architecture"].as_str()?);
    if os == "unknown" {
        return None;
    }
    Some(match p["variant"].as_str() {
        Some(v) if !v.is_empty() => format!("{os}/{arch}/{v}"),
        _ => format!("{os}/{arch}"),
    })
}

/// The descriptor of `platform`'s image in an index; a nested index is returned as is (the
/// caller descends into it).
pub fn pick_platform(index: &Value, platform: &str) -> Result<Value, String> {
    let ms = index["manifests"]
        .as_array()
        .ok_or("index without manifests")?;
    if let Some(m) = ms
        .iter()
        .find(|m| platform_of(m).as_deref() == Some(platform))
    {
        return Ok(m.clone());
    }
    ms.iter()
        .find(|m| {
            m["platform"].is_null() && m["mediaType"].as_str().is_some_and(|t| t.contains("index"))
        })
        .cloned()
        .ok_or_else(|| format!("no {platform} image in the index"))
}

pub fn pick_manifest(index: &Value) -> Result<Value, String> {
    let ms = index["manifests"]
        .as_array()
        .ok_or("index without manifests")?;
    ms.iter()
        .find(|m| m["platform"]["os"].as_str() != Some("unknown"))
        .cloned()
        .ok_or_else(|| "index without an image manifest".to_string())
}

pub fn normalize_config(config: &mut Value) {
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
        let n = r
            .get("diff_ids")
            .and_then(Value::as_array)
            .map(|a| a.len())
            .unwrap_or(0);
        r.insert("diff_ids".into(), Value::String(format!("<{n} layers>")));
    }
}

// ------------------------------------------------------------------------------------------
// Comparing

pub const MAX_DIFFS: usize = 25;

/// Differences between two JSON values, as `path: a != b` lines.
pub fn diff_json(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
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
                    let s = |v: Option<&Value>| {
                        v.map(|v| v.to_string())
                            .unwrap_or_else(|| "(absent)".into())
                    };
                    out.push(format!("{path}[{i}]: {} != {}", s(va), s(vb)));
                }
            }
        }
        _ if a != b => out.push(format!("{path}: {a} != {b}")),
        _ => {}
    }
}

pub fn diff_trees(a: &Tree, b: &Tree, out: &mut Vec<String>) {
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
pub fn compare_images(a: &Image, b: &Image) -> Vec<String> {
    let mut out = Vec::new();
    diff_json("config", &a.config, &b.config, &mut out);
    diff_trees(&a.fs, &b.fs, &mut out);
    out
}

pub fn report(case: &str, left: &str, right: &str, diffs: &[String]) -> String {
    let mut s = format!(
        "{case}: {left} and {right} images differ ({} differences; `left != right`):\n",
        diffs.len()
    );
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

/// The Dockerfile without its `# syntax=` line (same line count, other directives kept).
pub fn neutralise_syntax(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let is_directive = |l: &str| {
        let b = l
            .trim_start()
            .strip_prefix('#')
            .map(str::trim_start)
            .unwrap_or("");
        let key: String = b
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        l.trim_start().starts_with('#')
            && !key.is_empty()
            && b[key.len()..].trim_start().starts_with('=')
    };
    let key_of = |l: &str| {
        let b = l.trim_start().trim_start_matches('#').trim_start();
        b.chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_lowercase()
    };
    let block = lines.iter().take_while(|l| is_directive(l)).count();
    let Some(pos) = lines[..block].iter().position(|l| key_of(l) == "syntax") else {
        return text.to_string();
    };
    let mut out: Vec<&str> = Vec::with_capacity(lines.len());
    out.extend(&lines[..pos]);
    out.extend(&lines[pos + 1..block]);
    out.push("");
    out.extend(&lines[block..]);
    out.join("\n")
}

/// `hoard explain --json --no-docker` of a Dockerfile (the binary cargo built for this test run).
pub fn explain(dockerfile: &Path, build_args: &[&str]) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hoard"));
    // --no-docker: plan against an empty base config, independent of the local engine.
    cmd.arg("explain").arg("--json").arg("--no-docker");
    for a in build_args {
        cmd.args(["--build-arg", a]);
    }
    let out = cmd.arg(dockerfile).output().expect("run hoard explain");
    assert!(
        out.status.success(),
        "hoard explain {} failed: {}",
        dockerfile.display(),
        output_text(&out)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("explain output is not JSON ({e}): {}", output_text(&out)))
}

/// The variants of a case: one flag list per line of `variants` (`-` = none).
pub fn variants(dir: &Path) -> Vec<Vec<String>> {
    let lines = read_lines(&dir.join("variants"));
    if lines.is_empty() {
        return vec![Vec::new()];
    }
    lines
        .iter()
        .map(|l| {
            if l == "-" {
                Vec::new()
            } else {
                l.split_whitespace().map(String::from).collect()
            }
        })
        .collect()
}

/// One `#[test]` per name in module `$module`, each calling `super::$run("<name>")`, so a case
/// can run alone (`cargo test --test e2e -- case::copy_basic`). `tests/harness.rs` checks every
/// such list against its `testdata/` directory, so a new case cannot be skipped silently.
#[macro_export]
macro_rules! tests_calling {
    ($run:ident in $module:ident: $($name:ident),* $(,)?) => {
        mod $module {
            $( #[test] fn $name() { super::$run(stringify!($name)); } )*
        }
    };
}
