//! The real-world Dockerfiles of the shared corpus, differentially: `--call check`,
//! `--call outline` and `--call targets` (all `format=json`) must give the same answers with
//! the stock frontend and with hoard. None of them builds anything.
//!
//! The corpus is read where it lives (`HOARD_REAL_WORLD`, default `../shared/corpus/real-world`
//! beside the repository): its README forbids copying the files into a project, so they are
//! not in `testdata/`. Each file is prepared the same way for both frontends, in a scratch
//! directory:
//!
//! * a `# syntax=` directive is removed (it would send both frontends to a registry); the
//!   directives after it move up one line and an empty line takes the place, so line numbers
//!   and the other directives stay as they were;
//! * every image the file names is made resolvable by tagging the local base image
//!   `hoard-test/debian:bookworm` under that name, as the stock frontend asks for it (the
//!   check is retried after each tag). A file naming an image by digest cannot be served that
//!   way and is left out, and said so.
//!
//! `HOARD_REAL_WORLD_FILTER=<substring>` runs only the matching files. Environment as for
//! `tests/e2e.rs`: `HOARD_IMAGE`, `HOARD_E2E_SELFTEST=1`, `HOARD_SKIP_E2E=1`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

const LOCAL_BASE: &str = "hoard-test/debian:bookworm";

/// `--call <call>` in `dir`: the JSON printed, or the `ERROR:` line.
fn call(dir: &Path, hoard: bool, what: &str) -> Result<Value, String> {
    let mut args = vec!["--call".to_string(), format!("{what},format=json")];
    args.extend(frontend(hoard));
    args.push(".".into());
    let o = buildx(dir, &args);
    match serde_json::from_slice::<Value>(&o.stdout) {
        Ok(v) => Ok(v),
        Err(_) => Err(output_text(&o)
            .lines()
            .rev()
            .find(|l| l.starts_with("ERROR: "))
            .unwrap_or("no JSON and no ERROR line")
            .to_string()),
    }
}

/// The image reference an error says could not be resolved.
fn unresolved(message: &str) -> Option<String> {
    const MARK: &str = "failed to resolve source metadata for ";
    let rest = &message[message.find(MARK)? + MARK.len()..];
    Some(rest.split(": ").next()?.to_string())
}

fn tag(reference: &str) -> bool {
    Command::new("docker")
        .args(["tag", LOCAL_BASE, reference])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// The check JSON, reduced to what a user sees (as `tests/checks_e2e.rs` compares it), without
/// hoard's own `Hoard...` rules.
fn check_view(v: &Value) -> Value {
    let warnings: Vec<Value> = v["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        // hoard's own rules have no stock counterpart (tests/checks_e2e.rs covers them).
        .filter(|w| !w["ruleName"].as_str().unwrap_or("").starts_with("Hoard"))
        .map(|w| {
            serde_json::json!([
                w["ruleName"],
                w["location"]["ranges"],
                w["detail"],
                w["description"],
                w["url"]
            ])
        })
        .collect();
    // The stock frontend resolves base images concurrently, so its InvalidBaseImagePlatform
    // warnings come in any order: compare them in line order, in the places they hold.
    let mut warnings = warnings;
    let slots: Vec<usize> = (0..warnings.len())
        .filter(|&i| warnings[i][0] == "InvalidBaseImagePlatform")
        .collect();
    let mut platform: Vec<Value> = slots.iter().map(|&i| warnings[i].clone()).collect();
    platform.sort_by_key(|w| w[1][0]["start"]["line"].as_i64());
    for (slot, w) in slots.into_iter().zip(platform) {
        warnings[slot] = w;
    }
    let mut error = v["buildError"]["message"].clone();
    if let Some(m) = error.as_str() {
        // The stock frontend lists the rules of a lint violation in random order.
        if let Some((head, rules)) = m.split_once("lint violation found for rules: ") {
            let mut r: Vec<&str> = rules.split(", ").collect();
            r.sort();
            error = Value::String(format!(
                "{head}lint violation found for rules: {}",
                r.join(", ")
            ));
        }
    }
    serde_json::json!({"warnings": warnings, "error": error})
}

enum Outcome {
    Same,
    Skipped(String),
    Differs(Vec<String>),
}

/// An outline with the secrets and ssh ids of one line in name order: the stock frontend lists
/// the secrets of one instruction in random order.
fn outline_view(v: &Value) -> Value {
    let mut v = v.clone();
    for key in ["secrets", "ssh"] {
        if let Some(list) = v.get_mut(key).and_then(Value::as_array_mut) {
            list.sort_by_key(|m| {
                let line = m["location"]["ranges"][0]["start"]["line"]
                    .as_i64()
                    .unwrap_or(0);
                (line, m["name"].as_str().unwrap_or("").to_string())
            });
        }
    }
    v
}

fn run_file(name: &str, dockerfile: &Path) -> Outcome {
    let text = match fs::read(dockerfile) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => return Outcome::Differs(vec![format!("{name}: cannot read: {e}")]),
    };
    let scratch = Scratch::new(&format!("realworld-{}", &name[..name.len().min(24)]));
    fs::write(scratch.path.join("Dockerfile"), neutralise_syntax(&text)).unwrap();
    // Make the images it names resolvable, as the stock frontend asks for them.
    let mut tagged = Vec::new();
    for _ in 0..20 {
        let message = match call(&scratch.path, false, "check") {
            Ok(v) => v["buildError"]["message"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            Err(e) => e,
        };
        let Some(reference) = unresolved(&message) else {
            break;
        };
        if reference.contains('@') {
            return Outcome::Skipped(format!("{name}: names {reference} by digest"));
        }
        if tagged.contains(&reference) || !tag(&reference) {
            break;
        }
        tagged.push(reference);
    }
    let mut diffs = Vec::new();
    for what in ["check", "outline", "targets"] {
        let (stock, hoard) = (
            call(&scratch.path, false, what),
            call(&scratch.path, true, what),
        );
        let (stock, hoard) = match (stock, hoard) {
            (Ok(a), Ok(b)) if what == "check" => (Ok(check_view(&a)), Ok(check_view(&b))),
            other => other,
        };
        let (mut stock, hoard) = match (stock, hoard) {
            (Ok(a), Ok(b)) if what == "outline" => (Ok(outline_view(&a)), Ok(outline_view(&b))),
            other => other,
        };
        // The stock frontend walks a target's dependencies in Go map order: where two reachable
        // stages define the same ARG, which definition its outline lists changes from run to
        // run. hoard's answer must be one the stock frontend gives: ask it again (a few times)
        // before calling it a difference.
        for _ in 0..4 {
            if what != "outline" || stock == hoard {
                break;
            }
            stock = call(&scratch.path, false, what).map(|v| outline_view(&v));
        }
        match (&stock, &hoard) {
            (Ok(a), Ok(b)) => {
                let mut d = Vec::new();
                diff_json("", a, b, &mut d);
                if !d.is_empty() {
                    diffs.push(format!(
                        "{name} --call {what} (stock vs hoard):\n  {}",
                        d.join("\n  ")
                    ));
                }
            }
            (a, b) if a == b => {}
            (a, b) => diffs.push(format!(
                "{name} --call {what}:\n  stock: {a:?}\n  hoard: {b:?}"
            )),
        }
    }
    if diffs.is_empty() {
        Outcome::Same
    } else {
        Outcome::Differs(diffs)
    }
}

#[test]
fn real_world_dockerfiles_agree() {
    if !e2e_enabled("real_world_dockerfiles_agree") {
        return;
    }
    let dir = corpus::real_world_dir();
    let mut entries: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "the real-world corpus is not at {} ({e}); set HOARD_REAL_WORLD",
                dir.display()
            )
        })
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("Dockerfile").is_file())
        .collect();
    entries.sort();
    let filter = std::env::var("HOARD_REAL_WORLD_FILTER").unwrap_or_default();
    let (mut same, mut skipped, mut differs) = (0, Vec::new(), Vec::new());
    for p in entries {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.contains(&filter) {
            continue;
        }
        match run_file(&name, &p.join("Dockerfile")) {
            Outcome::Same => same += 1,
            Outcome::Skipped(why) => skipped.push(why),
            Outcome::Differs(d) => differs.push(d.join("\n")),
        }
    }
    eprintln!(
        "real-world corpus: {same} agree, {} differ, {} left out:\n  {}",
        differs.len(),
        skipped.len(),
        skipped.join("\n  ")
    );
    assert!(same + differs.len() > 0, "no Dockerfile was compared");
    assert!(
        differs.is_empty(),
        "{} of {} differ:\n\n{}",
        differs.len(),
        same + differs.len(),
        differs.join("\n\n")
    );
}
