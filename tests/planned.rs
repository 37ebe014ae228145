//! What hoard plans, without an engine: `hoard explain --json --no-docker` on each
//! `testdata/cache/planned/<name>.Dockerfile` must plan exactly the mounts of its
//! `<name>.expected` (one line per mount, `L<line> cache <target> id=<id> sharing=<s> uid=<u>
//! gid=<g>`, `L<line> tmpfs <target>` or `L<line> file <target>`; `#` comments). Planning runs
//! against empty base image configs, so these need nothing but the hoard binary; the real builds
//! that prove the caches work are in `tests/cache_e2e.rs`.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use common::*;

fn case_dir(case: &str) -> PathBuf {
    root().join("testdata/cache").join(case)
}

tests_calling! { run_planned in planned:
    apk, bun, bundler, ccache, composer, conda, dnf, dotnet, gradle, maven, nonroot, pdm, pipenv, pnpm,
    poetry, sccache, yarn,
}

/// `testdata/cache/planned/<name>.Dockerfile` has a `<name>.expected`: one line per planned
/// mount, `L<line> cache <target> id=<id> sharing=<s> uid=<u> gid=<g>`, `L<line> tmpfs <target>`
/// or `L<line> file <target>` (`#` comments). The planned set must be exactly that. Needs no
/// engine: `hoard explain --no-docker` plans against empty base image configs.
fn run_planned(name: &str) {
    let dir = case_dir("planned");
    let df = dir.join(format!("{name}.Dockerfile"));
    let expected_path = dir.join(format!("{name}.expected"));
    let expected: BTreeSet<String> = fs::read_to_string(&expected_path)
        .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    let report = explain(&df, &[]);
    let mut got = BTreeSet::new();
    for r in report["runs"].as_array().unwrap() {
        let line = r["line"].as_u64().unwrap();
        for m in r["mounts"].as_array().unwrap() {
            let t = m["target"].as_str().unwrap();
            got.insert(match m["type"].as_str().unwrap() {
                "cache" => format!(
                    "L{line} cache {t} id={} sharing={} uid={} gid={}",
                    m["id"].as_str().unwrap(),
                    m["sharing"].as_str().unwrap(),
                    m["uid"],
                    m["gid"]
                ),
                kind => format!("L{line} {kind} {t}"),
            });
        }
    }
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{name}: planned mounts differ from {}\n  expected, not planned: {missing:#?}\n  planned, not expected: {extra:#?}",
        expected_path.display()
    );
}
