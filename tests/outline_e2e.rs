//! `docker buildx build --call outline` through hoard against the stock frontend.
//!
//! Every directory `testdata/outline/<name>/` holds a `Dockerfile`. For each variant of extra
//! buildx flags (the lines of an optional `variants` file, `-` meaning none; without the file,
//! no flags) the outline is asked for four times with `docker buildx build --builder default`:
//! as a table (`--call outline`) and as JSON (`--call outline,format=json`), from the stock
//! frontend built into the daemon and from hoard (`--build-arg BUILDKIT_SYNTAX=$HOARD_IMAGE`).
//! Both must succeed; the tables must be identical text, the JSON documents identical values.
//! An optional `setup` file lists `DIR TAG` lines: `DIR` is built with the stock frontend and
//! loaded as `TAG` first (a base image with ONBUILD triggers, say).
//!
//! Also compared: `--call subrequests.describe` (the stock list, then lint, explain and eject), `--call targets` on a
//! Dockerfile with comments and a multi-line `FROM`, and the error for an unknown `--target`.
//!
//! Environment as for `tests/e2e.rs`: `HOARD_IMAGE` (default `hoard:dev`),
//! `HOARD_E2E_SELFTEST=1` (the "hoard" side is the stock frontend too), `HOARD_SKIP_E2E=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use serde_json::Value;

tests_calling! { run_case in case:
    // Global ARGs with defaults and descriptions, the target, a stage it copies from, an
    // unused stage; secrets (required or not) and the default ssh; `--target`, build args.
    globals,
    // A child stage keeps its copy of the global definitions over its base stage's own ARGs.
    stage_args,
    // Automatic platform args, declared globally or in a stage; `--platform` is ignored.
    platform_args,
    // Defaults expanded with the image's and the stage's environment; secret ids from `id`,
    // `source` and `target`; a RUN spanning lines; JSON escapes.
    env_values,
    // ONBUILD triggers of a base image and of a base stage; `--mount=from`, `COPY --from`
    // by name, by index and from an image.
    onbuild,
    // Description comments across blank lines, after an empty `#`, indented; a directive.
    comments,
    // Nothing to list: both print nothing.
    nothing,
}

fn outline_dir() -> PathBuf {
    root().join("testdata/outline")
}

/// `docker buildx build --call <call> [hoard] <flags> .` in `dir`.
fn call(dir: &Path, hoard: bool, call: &str, flags: &[String]) -> Output {
    let mut args = vec!["--call".to_string(), call.to_string()];
    args.extend(frontend(hoard));
    args.extend(flags.iter().cloned());
    args.push(".".into());
    buildx(dir, &args)
}

/// Ask both frontends for `call` and compare their stdout (as JSON values when `json`).
fn compare(name: &str, dir: &Path, what: &str, flags: &[String], json: bool) -> Vec<String> {
    let label = format!("{name} --call {what} {}", flags.join(" "));
    let outs: Vec<Output> = [false, true]
        .iter()
        .map(|&h| call(dir, h, what, flags))
        .collect();
    let mut problems = Vec::new();
    for (o, h) in outs.iter().zip([false, true]) {
        if !o.status.success() {
            problems.push(format!(
                "{label}: {} failed ({}):\n{}",
                who(h),
                o.status,
                tail(&output_text(o), 30)
            ));
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    let (stock, hoard) = (
        String::from_utf8_lossy(&outs[0].stdout),
        String::from_utf8_lossy(&outs[1].stdout),
    );
    if json {
        let parse = |s: &str, h: bool| {
            serde_json::from_str::<Value>(s)
                .map_err(|e| format!("{label}: {} printed no JSON ({e}):\n{s}", who(h)))
        };
        match (parse(&stock, false), parse(&hoard, true)) {
            (Ok(a), Ok(b)) => {
                let mut diffs = Vec::new();
                diff_json("", &a, &b, &mut diffs);
                if !diffs.is_empty() {
                    problems.push(format!(
                        "{label}: JSON differs (stock vs hoard):\n{}",
                        diffs.join("\n")
                    ));
                }
            }
            (a, b) => problems.extend([a.err(), b.err()].into_iter().flatten()),
        }
    } else if stock != hoard {
        problems.push(format!(
            "{label}: output differs\n--- stock ---\n{stock}--- hoard ---\n{hoard}--- end ---"
        ));
    }
    problems
}

fn run_setup(dir: &Path) {
    for line in read_lines(&dir.join("setup")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [sub, tag] = words.as_slice() else {
            panic!(
                "bad setup line {line:?} in {}: want `DIR TAG`",
                dir.display()
            )
        };
        let args: Vec<String> = vec![
            "--load".into(),
            "-t".into(),
            tag.to_string(),
            sub.to_string(),
        ];
        let out = buildx(dir, &args);
        assert!(
            out.status.success(),
            "setup build of {sub} as {tag} failed:\n{}",
            tail(&output_text(&out), 60)
        );
    }
}

fn run_case(name: &str) {
    if !e2e_enabled(name) {
        return;
    }
    let dir = outline_dir().join(name);
    assert!(
        dir.join("Dockerfile").exists(),
        "{}/Dockerfile is missing",
        dir.display()
    );
    run_setup(&dir);
    let mut problems = Vec::new();
    for flags in variants(&dir) {
        problems.extend(compare(name, &dir, "outline", &flags, false));
        problems.extend(compare(name, &dir, "outline,format=json", &flags, true));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// The outlines are not trivially empty: the table lists what the Dockerfile declares.
#[test]
fn outline_lists_args_secrets_and_ssh() {
    if !e2e_enabled("outline_lists_args_secrets_and_ssh") {
        return;
    }
    let dir = outline_dir().join("globals");
    let o = call(&dir, true, "outline", &[]);
    assert!(o.status.success(), "{}", tail(&output_text(&o), 30));
    let text = String::from_utf8_lossy(&o.stdout);
    for want in [
        "TARGET:      final\nDESCRIPTION: the image we ship\n\n",
        "\nGO_VERSION   1.22                        the Go version\n",
        "\nFINAL_ARG    1.22-suffix                 description here\n",
        "\nnpmrc    true\n",
        "\nSSH       REQUIRED\ndefault   \n",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
    for unwanted in ["UNUSED", "never"] {
        assert!(!text.contains(unwanted), "{unwanted:?} listed:\n{text}");
    }
}

/// hoard's describe is the stock list (same entries, same order) followed by the requests the
/// stock frontend does not list: lint (which it answers), explain and eject.
#[test]
fn describe_lists_outline_like_stock() {
    if !e2e_enabled("describe_lists_outline_like_stock") {
        return;
    }
    let dir = outline_dir().join("nothing");
    let outs: Vec<Output> = ["subrequests.describe", "subrequests.describe,format=json"]
        .iter()
        .flat_map(|what| [call(&dir, false, what, &[]), call(&dir, true, what, &[])])
        .collect();
    for (o, h) in outs.iter().zip([false, true, false, true]) {
        assert!(
            o.status.success(),
            "{} failed:\n{}",
            who(h),
            tail(&output_text(o), 30)
        );
    }
    let text = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let extra = if selftest() {
        vec![]
    } else {
        vec!["frontend.lint", "frontend.explain", "frontend.eject"]
    };
    let (stock, hoard) = (text(&outs[0]), text(&outs[1]));
    assert!(
        hoard.starts_with(&stock),
        "--- stock ---\n{stock}--- hoard ---\n{hoard}"
    );
    let added: Vec<&str> = hoard[stock.len()..]
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    let short: Vec<&str> = extra
        .iter()
        .map(|n| n.strip_prefix("frontend.").unwrap())
        .collect();
    assert_eq!(added, short, "{hoard}");
    let json = |o: &Output| {
        serde_json::from_slice::<Value>(&o.stdout)
            .unwrap_or_else(|e| panic!("no JSON ({e}): {}", text(o)))
    };
    let (stock, hoard) = (json(&outs[2]), json(&outs[3]));
    let (stock, hoard) = (stock.as_array().unwrap(), hoard.as_array().unwrap());
    assert_eq!(
        &hoard[..stock.len()],
        &stock[..],
        "the stock entries differ"
    );
    let names: Vec<&str> = hoard[stock.len()..]
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, extra);
    assert!(
        text(&outs[1]).contains("\noutline "),
        "{}",
        output_text(&outs[1])
    );
}

#[test]
fn targets_like_stock() {
    if !e2e_enabled("targets_like_stock") {
        return;
    }
    let dir = outline_dir().join("comments");
    let mut problems = compare("comments", &dir, "targets", &[], false);
    problems.extend(compare("comments", &dir, "targets,format=json", &[], true));
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn unknown_target_fails_like_stock() {
    if !e2e_enabled("unknown_target_fails_like_stock") {
        return;
    }
    let dir = outline_dir().join("globals");
    let flags = vec!["--target".to_string(), "nope".to_string()];
    for hoard in [false, true] {
        let o = call(&dir, hoard, "outline", &flags);
        assert!(
            !o.status.success(),
            "{} succeeded with an unknown target",
            who(hoard)
        );
        let text = output_text(&o);
        assert!(
            text.contains("target stage \"nope\" could not be found"),
            "{}:\n{}",
            who(hoard),
            tail(&text, 20)
        );
    }
}
