//! A bounded fuzz run on stable Rust, without Docker: every Dockerfile in the repository
//! (`testdata/`, `bench/cases/`, `examples/`, `Dockerfile.frontend`) is mutated at random
//! (bytes inserted, deleted, duplicated, spliced between files; multi-byte and non-UTF-8 bytes,
//! `\` continuations, heredoc markers, `${` fragments, very long lines) and each result goes
//! through what a build does with untrusted text: the UTF-8 check, the `# check=` directive,
//! parse, `--call targets`, instruction typing, the cache planner (every `RUN` of every stage)
//! and conversion (the offline round driver; base images answered with an empty config, or
//! for one case in three with a config holding a user, variables and `ONBUILD` triggers),
//! then `explain` and `eject` on what converts.
//!
//! Asserted for every input: nothing panics or hangs, and every rejection is an error that
//! names a line inside the file (the only exceptions are the whole-file errors in
//! [`WHOLE_FILE`], which the stock frontend reports without a line as well).
//!
//! * `HOARD_FUZZ_SEED=<u64>`: the run's seed (default: from the clock; always printed).
//! * `HOARD_FUZZ_CASES=<n>`: how many mutated inputs (default [`DEFAULT_CASES`]; `0` replays
//!   only the regression cases and the unmutated files).
//! * `HOARD_FUZZ_REPLAY=<file>`: run that input only (a saved failure), with timings.
//!
//! A failure names the seed and case index and writes the input to a temporary file; the same
//! seed reproduces the run. Every crash found becomes a file in `testdata/fuzz-regressions/`,
//! which every run replays first.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hoard::convert::rounds::{self, Resolver};
use hoard::convert::{ConvertOpts, FileRequest, ImageRequest, ResolvedImage};
use hoard::image::{ImageConfig, Platform};
use hoard::tools::offline::Offline;
use hoard::{Error, Span};

/// Cases per run by default: well under a minute in a debug build on a loaded machine.
const DEFAULT_CASES: u64 = 2000;

/// A case that takes longer than this is a hang: the input is saved and the run aborts.
const HANG: Duration = Duration::from_secs(20);

/// Errors about the whole file rather than a line; the stock frontend gives them no line
/// either (`file with no instructions`, `dockerfile contains no stages to build`).
const WHOLE_FILE: &[&str] = &[
    "the Dockerfile cannot be empty",
    "file with no instructions",
    "dockerfile contains no stages to build",
];

// ---------------------------------------------------------------------------------------------
// Inputs

/// Whether a file name is a Dockerfile's.
fn is_dockerfile(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("dockerfile") || lower.ends_with(".dockerfile")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(is_dockerfile)
        {
            out.push(p);
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every Dockerfile in the repository, sorted (the regression cases included).
fn seeds() -> Vec<(String, Vec<u8>)> {
    let root = root();
    let mut paths = Vec::new();
    for dir in ["testdata", "bench/cases", "examples"] {
        walk(&root.join(dir), &mut paths);
    }
    paths.push(root.join("Dockerfile.frontend"));
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p.strip_prefix(&root).unwrap().display().to_string();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// `testdata/fuzz-regressions/*`: inputs that once crashed or were rejected without a line.
fn regressions() -> Vec<(String, Vec<u8>)> {
    let dir = root().join("testdata/fuzz-regressions");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "Dockerfile"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// Randomness (SplitMix64: small, seedable, no dependency)

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

// ---------------------------------------------------------------------------------------------
// Mutations

/// Fragments that reach the parser's corners: continuations, heredocs, expansions, quoting,
/// directives, flags, JSON forms, and bytes that are not ASCII or not UTF-8.
const TOKENS: &[&[u8]] = &[
    b"\\\n",
    b"\\",
    b"\\ \n",
    b"`\n",
    b"\n",
    b"\r\n",
    b"\r",
    b"\t",
    b" ",
    b"\0",
    b"<<EOF\n",
    b"<<-EOF\n",
    b"<<'EOF'\n",
    b"<<\"EOF\"\n",
    b"<<EOF",
    b"EOF\n",
    b"EOF",
    b"<<A <<B\n",
    b"A\n",
    b"B\n",
    b"<<",
    b"${",
    b"${A",
    b"${A:-",
    b"${A:+x}",
    b"${A:?err}",
    b"${A#*}",
    b"${A%%x}",
    b"${A/x/y}",
    b"$",
    b"}",
    b"{",
    b"$A",
    b"\"",
    b"'",
    b"#",
    b"# syntax=hoard:1\n",
    b"# escape=`\n",
    b"# escape=\\\n",
    b"# check=error=true\n",
    b"# check=skip=all;experimental=all\n",
    b"# check=",
    b"# hoard: off\n",
    b"# hoard: cache=none\n",
    b"# hoard:",
    b"#!",
    b"[\"",
    b"[",
    b"]",
    b"\",\"",
    b"[\"sh\",\"-c\",\"x\"]",
    b"=",
    b"--",
    b"--mount=type=cache,target=/root/.cache",
    b"--mount=type=bind,from=0,source=/,target=/x",
    b"--mount=type=secret,id=x",
    b"--mount=type=ssh",
    b"--mount=type=tmpfs,target=/t,size=1",
    b"--mount=",
    b"--network=none",
    b"--security=insecure",
    b"--from=",
    b"--from=0",
    b"--chown=1:1",
    b"--chmod=755",
    b"--link",
    b"--parents",
    b"--exclude=x",
    b"--checksum=sha256:00",
    b"--keep-git-dir",
    b"--platform=$BUILDPLATFORM",
    b"--platform=",
    b"--interval=1s",
    b"--start-period=",
    b" AS ",
    b" as x",
    b"\nFROM scratch\n",
    b"\nFROM busybox AS b\n",
    b"FROM ",
    b"RUN ",
    b"ARG ",
    b"ENV ",
    b"COPY ",
    b"ADD ",
    b"USER ",
    b"WORKDIR ",
    b"ONBUILD ",
    b"HEALTHCHECK ",
    b"CMD ",
    b"ENTRYPOINT ",
    b"SHELL ",
    b"EXPOSE ",
    b"VOLUME ",
    b"LABEL ",
    b"STOPSIGNAL ",
    b"MAINTAINER ",
    b"apt-get install -y x",
    b"pip install x",
    b"npm ci",
    b"cargo build",
    b"go build",
    b" && ",
    b" || ",
    b";",
    b"|",
    b"$(",
    b")",
    b"`",
    b"..",
    b"/",
    b"*",
    b"\\u00e9",
    "é".as_bytes(),
    "€".as_bytes(),
    "𝄞".as_bytes(),
    "\u{feff}".as_bytes(),
    "\u{85}".as_bytes(),
    "\u{2028}".as_bytes(),
    "İ".as_bytes(),
    "ß".as_bytes(),
    b"\xc3",
    b"\xff\xfe",
    b"\xe2\x82",
    b"\x80",
    b"\xf0\x9d",
];

/// Bytes that are more likely to matter than a uniform byte.
const BYTES: &[u8] = b"\n\r\t \\\"'`$={}[]()#<>-:,;/.*?!@%&|~^+0123456789AaZz";

fn random_byte(rng: &mut Rng) -> u8 {
    if rng.chance(3) {
        rng.next() as u8
    } else {
        *rng.pick(BYTES)
    }
}

/// The start of a random line of `data`.
fn line_start(rng: &mut Rng, data: &[u8]) -> usize {
    let at = rng.below(data.len() + 1);
    data[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

/// A random position in `data`, mostly past the first word of its line: a mutation of the
/// instruction keyword only reaches "unknown instruction".
fn inside(rng: &mut Rng, data: &[u8]) -> usize {
    let at = rng.below(data.len() + 1);
    if rng.chance(8) {
        return at;
    }
    let start = data[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let word_end = data[start..]
        .iter()
        .position(|&b| b == b' ' || b == b'\t' || b == b'\n')
        .map_or(data.len(), |i| start + i);
    at.max(word_end)
}

/// A range inside `data`: a few bytes, or (one time in three) whole lines.
fn range(rng: &mut Rng, data: &[u8]) -> (usize, usize) {
    if rng.chance(3) {
        let (a, b) = (line_start(rng, data), line_start(rng, data));
        return (a.min(b), a.max(b));
    }
    let start = rng.below(data.len() + 1);
    let max = if rng.chance(8) { data.len() } else { 16 };
    let end = (start + rng.below(max + 1)).min(data.len());
    (start, end)
}

/// Whether a token belongs at the start of a line (an instruction, a directive).
fn starts_a_line(token: &[u8]) -> bool {
    token
        .first()
        .is_some_and(|b| b.is_ascii_uppercase() || *b == b'#')
}

/// Where a chunk goes: whole lines at a line start, anything else inside a line.
fn chunk_position(rng: &mut Rng, data: &[u8], chunk: &[u8]) -> usize {
    if chunk.ends_with(b"\n") {
        line_start(rng, data)
    } else {
        inside(rng, data)
    }
}

/// One random mutation of `data`; `others` are the other files, for splices.
fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, others: &[(String, Vec<u8>)]) {
    match rng.below(12) {
        // Insert random bytes.
        0 => {
            let at = inside(rng, data);
            let n = 1 + rng.below(8);
            let bytes: Vec<u8> = (0..n).map(|_| random_byte(rng)).collect();
            data.splice(at..at, bytes);
        }
        // Insert a token (twice as likely as anything else).
        1 | 2 => {
            let t = rng.pick(TOKENS).to_vec();
            let at = if starts_a_line(&t) {
                line_start(rng, data)
            } else {
                inside(rng, data)
            };
            data.splice(at..at, t);
        }
        // Delete a range.
        3 => {
            let (s, e) = range(rng, data);
            data.drain(s..e);
        }
        // Overwrite one byte.
        4 => {
            if !data.is_empty() {
                let at = inside(rng, data).min(data.len() - 1);
                data[at] = random_byte(rng);
            }
        }
        // Duplicate a range of the same file elsewhere.
        5 => {
            let (s, e) = range(rng, data);
            let chunk = data[s..e].to_vec();
            let at = chunk_position(rng, data, &chunk);
            data.splice(at..at, chunk);
        }
        // Splice in a range of another file.
        6 => {
            let other = &rng.pick(others).1;
            let (s, e) = range(rng, other);
            let chunk = other[s..e].to_vec();
            let at = chunk_position(rng, data, &chunk);
            data.splice(at..at, chunk);
        }
        // Crossover: this file's head, another file's tail.
        7 => {
            let other = &rng.pick(others).1;
            let at = line_start(rng, data);
            let from = line_start(rng, other);
            data.truncate(at);
            data.extend_from_slice(&other[from..]);
        }
        // A very long line (or word).
        8 => {
            let at = inside(rng, data);
            // Mostly short enough to parse; sometimes past the parser's 64 KiB line limit.
            let (max, token) = match rng.below(16) {
                0 => (70_000, false),
                1 | 2 => (20_000, rng.chance(2)),
                _ => (2_000, rng.chance(2)),
            };
            let unit: Vec<u8> = if token {
                rng.pick(TOKENS).to_vec()
            } else {
                vec![random_byte(rng)]
            };
            let n = 100 + rng.below(max);
            let long: Vec<u8> = unit.iter().copied().cycle().take(unit.len() * n).collect();
            data.splice(at..at, long);
        }
        // Whole lines: delete, duplicate or swap.
        9 => {
            let lines: Vec<&[u8]> = data.split_inclusive(|&b| b == b'\n').collect();
            if lines.len() < 2 {
                return;
            }
            let mut lines: Vec<Vec<u8>> = lines.into_iter().map(<[u8]>::to_vec).collect();
            let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
            match rng.below(3) {
                0 => {
                    lines.remove(a);
                }
                1 => {
                    let l = lines[a].clone();
                    lines.insert(b, l);
                }
                _ => lines.swap(a, b),
            }
            *data = lines.concat();
        }
        // Change a letter's case (keywords, flags and stage names are case-insensitive).
        10 => {
            if !data.is_empty() {
                let at = rng.below(data.len());
                data[at] = if data[at].is_ascii_lowercase() {
                    data[at].to_ascii_uppercase()
                } else {
                    data[at].to_ascii_lowercase()
                };
            }
        }
        // Truncate.
        _ => {
            let at = rng.below(data.len() + 1);
            data.truncate(at);
        }
    }
}

/// A mutated copy of a random seed file: one to three mutations, sometimes up to eight.
fn mutate(rng: &mut Rng, files: &[(String, Vec<u8>)]) -> (String, Vec<u8>) {
    let (name, data) = rng.pick(files);
    let mut data = data.clone();
    let most = if rng.chance(4) { 8 } else { 3 };
    let n = 1 + rng.below(most);
    for _ in 0..n {
        mutate_once(rng, &mut data, files);
    }
    (name.clone(), data)
}

// ---------------------------------------------------------------------------------------------
// The pipeline

/// Answers every image with an empty config (or one with `base`'s fields in its `config`) and
/// `/etc/passwd`, `/etc/group` with a small file.
struct Offline0 {
    files: bool,
    base: Option<serde_json::Value>,
}

/// What a base image may hold that the converter reads: for one case in three, the image
/// config says a user, a working directory, a shell, variables and `ONBUILD` triggers (lines
/// of the mutated input, which a registry's image could hold as well).
fn base_config(i: u64, text: &str) -> Option<serde_json::Value> {
    if (i / 4) % 3 != 0 {
        return None;
    }
    let mut rng = Rng(i.wrapping_mul(0x2545_f491_4f6c_dd1d));
    // A FROM trigger fails the stage at once ("not a command type"); one in ten keeps them.
    let from_too = rng.chance(10);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| from_too || !l.trim_start().to_ascii_lowercase().starts_with("from"))
        .collect();
    let mut triggers: Vec<&str> = Vec::new();
    if !lines.is_empty() {
        for _ in 0..rng.below(4) {
            triggers.push(*rng.pick(&lines[..]));
        }
    }
    Some(serde_json::json!({
        "User": rng.pick(&["", "app", "1000:1000", "root", "app:app", "nobody:x", "${X}"]),
        "WorkingDir": rng.pick(&["", "/w", "rel/dir", "/a/../..", "/${X}"]),
        "Env": rng.pick(&[
            &["PATH=/usr/local/bin:/usr/bin:/bin"][..],
            &["PATH=/opt/bin", "HOME=/home/app", "PIP_NO_CACHE_DIR=1"],
            &["A=${B", "=x", "NOEQUALS", "CARGO_HOME=/c", "npm_config_cache=/n"],
        ]),
        "Shell": rng.pick(&[&[][..], &["/bin/bash", "-o", "pipefail", "-c"], &["pwsh"]]),
        "OnBuild": triggers,
    }))
}

impl Resolver for Offline0 {
    type Error = Error;

    async fn images(&mut self, needs: &[ImageRequest]) -> Result<Vec<ResolvedImage>, Error> {
        Ok(needs
            .iter()
            .map(|n| {
                let mut config = ImageConfig::empty(&n.platform).to_json();
                if let Some(base) = &self.base {
                    let mut v: serde_json::Value = serde_json::from_slice(&config).unwrap();
                    v["config"] = base.clone();
                    config = serde_json::to_vec(&v).unwrap();
                }
                ResolvedImage {
                    reference: n.reference.clone(),
                    digest: None,
                    config,
                }
            })
            .collect())
    }

    fn reads_files(&self) -> bool {
        self.files
    }

    async fn files(
        &mut self,
        needs: &[FileRequest],
        _ready: Vec<hoard::llb::Definition>,
    ) -> Result<Vec<Option<Vec<u8>>>, Error> {
        Ok(needs
            .iter()
            .map(|f| match f.path.as_str() {
                "/etc/passwd" => Some(
                    b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n".to_vec(),
                ),
                "/etc/group" => Some(b"root:x:0:\napp:x:1000:\n".to_vec()),
                _ => None,
            })
            .collect())
    }
}

/// The conversion options of case `i`: a build, `explain` (every stage), a check (nothing
/// read), and a two-platform build, in turn.
fn convert_opts(i: u64) -> (ConvertOpts, bool) {
    let amd64 = Platform::parse("linux/amd64").unwrap();
    let caps: BTreeSet<String> = [
        "mergeop",
        "exec.meta.setsdefaultpath",
        "exec.mount.bind.readwrite-nooutput",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let base = ConvertOpts {
        build_platform: amd64.clone(),
        build_args: BTreeMap::from([("HTTP_PROXY".into(), "http://proxy:3128".into())]),
        ..Default::default()
    };
    match i % 4 {
        0 => (base, true),
        1 => (
            ConvertOpts {
                all_stages: true,
                llb_caps: caps,
                ..base
            },
            true,
        ),
        2 => (
            ConvertOpts {
                all_stages: true,
                no_reads: true,
                ..base
            },
            false,
        ),
        _ => (
            ConvertOpts {
                target_platforms: vec![amd64, Platform::parse("linux/arm64").unwrap()],
                multi_platform: true,
                llb_caps: caps,
                ..base
            },
            true,
        ),
    }
}

/// Replaying one input: say why each step rejected it.
static VERBOSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A rejection the input earned: it must name a line inside the file.
fn check_error(stage: &str, e: &Error, lines: usize) -> Result<(), String> {
    if VERBOSE.load(std::sync::atomic::Ordering::Relaxed) {
        let at = e.span.map(|s| s.to_string()).unwrap_or_default();
        let msg: String = e.message.chars().take(300).collect();
        eprintln!("fuzz:   {stage}: {at}: {msg}");
    }
    match e.span {
        Some(Span { start, end }) if start >= 1 && start <= end && end <= lines => Ok(()),
        Some(s) => Err(format!(
            "{stage}: error at {s} outside the file's {lines} lines: {}",
            e.message
        )),
        None if WHOLE_FILE.contains(&e.message.as_str()) => Ok(()),
        None => Err(format!("{stage}: error without a line: {}", e.message)),
    }
}

/// Everything a build does with the text, for case `i`: how far it got, or the first broken
/// promise.
fn pipeline(i: u64, data: &[u8]) -> Result<&'static str, String> {
    let text = String::from_utf8_lossy(data).into_owned();
    // Lines as the span count them (a trailing newline does not start a line; an empty file
    // still has line 1).
    let lines = text.split('\n').count().max(1);

    if let Err(e) = hoard::parser::check_utf8(data) {
        check_error("utf-8 check", &e, lines)?;
    }
    let build = hoard::gateway::BuildOpts::default();
    if let Err(e) = hoard::gateway::frontend::check_config(&build, &text) {
        check_error("check directive", &e, lines)?;
    }
    let df = match hoard::parser::parse(&text) {
        Ok(df) => df,
        Err(e) => return check_error("parse", &e, lines).map(|_| "rejected by the parser"),
    };
    // `--call targets` reads the parsed nodes only.
    if let Err(e) = hoard::gateway::subrequests::list_targets(&text) {
        check_error("targets", &e, lines)?;
    }
    if let Err(e) = hoard::instructions::parse(&df) {
        return check_error("instructions", &e, lines).map(|_| "rejected by instruction typing");
    }
    let host = Platform::parse("linux/amd64").unwrap();
    if let Err(e) = hoard::tools::offline::approximate(&text, &host, &BTreeMap::new()) {
        check_error("planner", &e, lines)?;
    }
    let (opts, files) = convert_opts(i);
    let mut resolver = Offline0 {
        files,
        base: base_config(i, &text),
    };
    let done = match rounds::block_on(rounds::drive(&text, &opts, &mut resolver)) {
        Ok(done) => done,
        Err(e) => return check_error("convert", &e, lines).map(|_| "rejected by the converter"),
    };
    for w in &done.warnings {
        if let Some(s) = w.span {
            if s.start > s.end || s.end > lines {
                return Err(format!(
                    "warning {} at {s} outside the file's {lines} lines: {}",
                    w.rule, w.message
                ));
            }
        }
    }
    for r in done.results {
        let _ = r.definition.into_pb();
        let _ = r.config.to_json();
        let off = Offline {
            platform: r.platform,
            plans: r.plans,
            assumptions: Vec::new(),
            exact: true,
        };
        let _ = hoard::tools::explain::to_text("Dockerfile", &text, &off);
        let _ = hoard::tools::explain::to_json("Dockerfile", &off);
        if let Ok(ejected) = hoard::tools::eject::eject(&text, &off) {
            if let Err(e) = hoard::parser::parse(&ejected) {
                return Err(format!("the ejected Dockerfile does not parse: {e}"));
            }
        }
    }
    Ok("converted")
}

// ---------------------------------------------------------------------------------------------
// The run

/// The case being run, for the hang watchdog: (label, input, started).
type Current = Arc<Mutex<Option<(String, Vec<u8>, Instant)>>>;

/// Write a failing input where it can be replayed from.
fn save(label: &str, data: &[u8]) -> PathBuf {
    let name: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let path = std::env::temp_dir().join(format!("hoard-fuzz-{name}.Dockerfile"));
    std::fs::write(&path, data).unwrap();
    path
}

/// Abort the whole run when a case hangs (a test cannot be interrupted), saying which.
fn watchdog(current: Current) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_secs(1));
        let guard = current.lock().unwrap();
        if let Some((label, data, started)) = guard.as_ref() {
            if started.elapsed() > HANG {
                let path = save(label, data);
                eprintln!(
                    "fuzz: {label} still running after {HANG:?} (a hang); input saved to {}",
                    path.display()
                );
                std::process::exit(101);
            }
        }
    });
}

/// The message and place of the last panic on this thread.
static PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Where the running case is kept while it runs: a crash that aborts the process (a stack
/// overflow) leaves it there.
fn running_paths() -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir();
    let pid = std::process::id();
    (
        dir.join(format!("hoard-fuzz-running-{pid}.Dockerfile")),
        dir.join(format!("hoard-fuzz-running-{pid}.txt")),
    )
}

/// Run one case; its failure, if any.
fn run_case(current: &Current, label: &str, i: u64, data: &[u8]) -> Result<&'static str, String> {
    let (input, what) = running_paths();
    std::fs::write(input, data).unwrap();
    std::fs::write(what, label).unwrap();
    *current.lock().unwrap() = Some((label.to_string(), data.to_vec(), Instant::now()));
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| pipeline(i, data)));
    *current.lock().unwrap() = None;
    outcome.unwrap_or_else(|_| {
        Err(format!(
            "panic: {}",
            PANIC.lock().unwrap().take().unwrap_or_default()
        ))
    })
}

#[test]
fn mutated_dockerfiles_never_panic_and_errors_name_a_line() {
    let seed: u64 = match std::env::var("HOARD_FUZZ_SEED") {
        Ok(v) if !v.is_empty() => v
            .parse()
            .unwrap_or_else(|_| panic!("HOARD_FUZZ_SEED={v}: not a number")),
        _ => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    };
    let cases: u64 = match std::env::var("HOARD_FUZZ_CASES") {
        Ok(v) if !v.is_empty() => v
            .parse()
            .unwrap_or_else(|_| panic!("HOARD_FUZZ_CASES={v}: not a number")),
        _ => DEFAULT_CASES,
    };
    let files = seeds();
    assert!(
        files.len() > 50,
        "expected the repository's Dockerfiles, found {}",
        files.len()
    );
    let mut regressions = regressions();
    // HOARD_FUZZ_REPLAY=<file>: that input only (a saved failure), under every set of options.
    let replay = std::env::var("HOARD_FUZZ_REPLAY")
        .ok()
        .filter(|v| !v.is_empty());
    let (files, cases) = match &replay {
        Some(path) => {
            let data = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
            regressions = vec![(path.clone(), data)];
            VERBOSE.store(true, std::sync::atomic::Ordering::Relaxed);
            (Vec::new(), 0)
        }
        None => (files, cases),
    };
    let (input, what) = running_paths();
    eprintln!(
        "fuzz: HOARD_FUZZ_SEED={seed} HOARD_FUZZ_CASES={cases} ({} files, {} regression cases); \
         a crash that aborts leaves its case in {} (named in {})",
        files.len(),
        regressions.len(),
        input.display(),
        what.display()
    );

    // Panics are caught and reported with their case; the default hook would print each one.
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        *PANIC.lock().unwrap() = Some(info.to_string());
    }));
    let current: Current = Arc::new(Mutex::new(None));
    watchdog(current.clone());

    let started = Instant::now();
    let mut outcomes: BTreeMap<&str, u64> = BTreeMap::new();
    let mut failures: BTreeMap<String, (String, PathBuf)> = BTreeMap::new();
    let mut record = |label: String, data: &[u8], why: String| {
        // One report per distinct failure (messages without their varying details).
        let key: String = why.chars().take(80).collect();
        failures
            .entry(key)
            .or_insert_with(|| (format!("{label}: {why}"), save(&label, data)));
    };
    // The regression cases and the files as they are, under every set of options.
    for (name, data) in regressions.iter().chain(&files) {
        for v in 0..4 {
            let label = format!("{name} (options {v})");
            let t = Instant::now();
            let outcome = run_case(&current, &label, v, data);
            if replay.is_some() {
                eprintln!(
                    "fuzz: {label}: {outcome:?} in {:.2} s",
                    t.elapsed().as_secs_f64()
                );
            }
            if let Err(why) = outcome {
                record(label, data, why);
            }
        }
    }
    let mut rng = Rng(seed);
    for i in 0..cases {
        let (name, data) = mutate(&mut rng, &files);
        let label = format!("seed {seed} case {i} (from {name})");
        match run_case(&current, &label, i, &data) {
            Ok(how) => *outcomes.entry(how).or_default() += 1,
            Err(why) => record(label, &data, why),
        }
    }
    panic::set_hook(hook);
    let _ = std::fs::remove_file(input);
    let _ = std::fs::remove_file(what);
    eprintln!(
        "fuzz: {cases} cases in {:.1} s: {outcomes:?}, {} distinct failures",
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    let report: Vec<String> = failures
        .values()
        .map(|(what, path)| format!("{what}\n    input: {}", path.display()))
        .collect();
    assert!(
        failures.is_empty(),
        "HOARD_FUZZ_SEED={seed}: {} distinct failures:\n{}",
        failures.len(),
        report.join("\n")
    );
}
