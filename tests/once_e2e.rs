//! Every step of a build executes at most once, and only steps of the final graph execute.
//!
//! `testdata/once/Dockerfile` has steps as root, as a user from the base image (`app`), as a
//! user a `RUN adduser` of the same stage defines (`builder`), interleaved, in two stages that
//! do not depend on each other. Each marked step prints `MARK-<name> <arch> <n>` when it runs,
//! `n` being how many pip/npm cache mounts it sees. Resolving a non-root user's home and uid
//! needs `/etc/passwd` of the state before the step; reading it builds that state, so a state
//! holding a step without its caches must never be read (that step would run twice: once
//! without caches, once in the final graph with them).
//!
//! Checked against real builds, with the stock frontend as the reference: cold layer cache
//! (a fresh `BUST`), warm (same `BUST`: nothing runs), `--no-cache`, and two platforms at once.

mod common;

use std::collections::BTreeMap;

use common::*;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Fe {
    Stock,
    Hoard,
}

/// The marked steps of the Dockerfile: (name, runs a tool hoard caches).
const STEPS: &[(&str, bool)] = &[
    ("root-1", true),
    ("builder-1", true),
    ("builder-2", true),
    ("app-1", true),
    ("app-notool", false),
    ("root-2", true),
    ("builder-3", true),
    ("other-1", true),
    ("other-2", true),
];

struct Run {
    text: String,
    /// (step, arch) -> the mount count of each execution.
    marks: BTreeMap<(String, String), Vec<u32>>,
}

fn build(fe: Fe, args: &[(&str, &str)], extra: &[&str]) -> Run {
    let ctx = root().join("testdata/once");
    let mut v: Vec<String> = Vec::new();
    if fe == Fe::Hoard {
        v.extend(hoard_frontend());
    }
    for (k, val) in args {
        v.extend(["--build-arg".into(), format!("{k}={val}")]);
    }
    v.extend(extra.iter().map(|s| s.to_string()));
    v.push(".".into());
    let out = buildx(&ctx, &v);
    let text = output_text(&out);
    assert!(
        out.status.success(),
        "{fe:?} build failed:\n{}",
        tail(&text, 60)
    );
    Run {
        marks: marks(&text),
        text,
    }
}

/// `#12 0.123 MARK-name arch n` lines: the step's own output, once per execution.
fn marks(text: &str) -> BTreeMap<(String, String), Vec<u32>> {
    let mut out: BTreeMap<(String, String), Vec<u32>> = BTreeMap::new();
    for l in text.lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        if w.len() == 5 && w[0].starts_with('#') && w[1].parse::<f64>().is_ok() {
            if let Some(name) = w[2].strip_prefix("MARK-") {
                out.entry((name.to_string(), w[3].to_string()))
                    .or_default()
                    .push(w[4].parse().unwrap_or(u32::MAX));
            }
        }
    }
    out
}

/// Each marked step ran exactly once per architecture; with hoard, with its caches where it
/// names a tool (and never without them).
fn assert_once(fe: Fe, run: &Run, arches: &[&str]) {
    for (step, tool) in STEPS {
        for arch in arches {
            let seen = run
                .marks
                .get(&(step.to_string(), arch.to_string()))
                .cloned()
                .unwrap_or_default();
            assert_eq!(
                seen.len(),
                1,
                "{fe:?}: step {step} ({arch}) executed {} times (mount counts {seen:?}):\n{}",
                seen.len(),
                tail(&run.text, 120)
            );
            let with_caches = seen[0] > 0;
            let expected = fe == Fe::Hoard && *tool;
            assert_eq!(
                with_caches, expected,
                "{fe:?}: step {step} ({arch}) saw {} cache mounts",
                seen[0]
            );
        }
    }
    let extra: Vec<_> = run
        .marks
        .keys()
        .filter(|(s, a)| !STEPS.iter().any(|(n, _)| n == s) || !arches.contains(&a.as_str()))
        .collect();
    assert!(extra.is_empty(), "unexpected marks {extra:?}");
}

#[test]
fn each_step_runs_once_cold_then_warm() {
    if !e2e_enabled("each_step_runs_once_cold_then_warm") {
        return;
    }
    let arch = "amd64";
    let stock = build(Fe::Stock, &[("BUST", &unique("bust"))], &[]);
    assert_once(Fe::Stock, &stock, &[arch]);

    let bust = unique("bust");
    let ns = unique("ns");
    let args = [
        ("BUST", bust.as_str()),
        ("BUILDKIT_CACHE_MOUNT_NS", ns.as_str()),
    ];
    let cold = build(Fe::Hoard, &args, &[]);
    assert_once(Fe::Hoard, &cold, &[arch]);

    // Warm layer cache: the user lookups read states that are all cached; nothing runs.
    let warm = build(Fe::Hoard, &args, &[]);
    assert!(
        warm.marks.is_empty(),
        "steps ran again with a warm layer cache: {:?}\n{}",
        warm.marks,
        tail(&warm.text, 80)
    );
}

#[test]
fn each_step_runs_once_with_no_cache() {
    if !e2e_enabled("each_step_runs_once_with_no_cache") {
        return;
    }
    let ns = unique("ns");
    let run = build(
        Fe::Hoard,
        &[("BUST", "fixed"), ("BUILDKIT_CACHE_MOUNT_NS", ns.as_str())],
        &["--no-cache"],
    );
    assert_once(Fe::Hoard, &run, &["amd64"]);
}

#[test]
fn each_step_runs_once_per_platform() {
    if !e2e_enabled("each_step_runs_once_per_platform") {
        return;
    }
    let args = |ns: &str, bust: &str| {
        vec![
            ("BASE", "hoard-test/busybox:multi".to_string()),
            ("BUST", bust.to_string()),
            ("BUILDKIT_CACHE_MOUNT_NS", ns.to_string()),
        ]
    };
    let platforms = ["--platform", "linux/amd64,linux/386"];
    let arches = ["amd64", "386"];
    for fe in [Fe::Stock, Fe::Hoard] {
        let a = args(&unique("ns"), &unique("bust"));
        let a: Vec<(&str, &str)> = a.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let run = build(fe, &a, &platforms);
        assert_once(fe, &run, &arches);
    }
}
