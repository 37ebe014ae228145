//! The parser against the repository's own cases, without Docker and without anything outside
//! the repository: every `testdata/parser/<case>/Dockerfile` must dump (in the stock parser's
//! `Dump()` format) exactly as its `result` says, and every
//! `testdata/parser-negative/<case>/Dockerfile` must be rejected. The cases are original and
//! were cross-checked against the stock frontend (`testdata/parser/README.md`).
//!
//! `HOARD_WRITE_PARSER_RESULTS=1 cargo test --test parser` (re)writes every `result` from the
//! current parser and then fails on purpose: review the diff by hand before committing it.

use std::fs;
use std::path::{Path, PathBuf};

use hoard::parser::parse;

fn testdata(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(sub)
}

/// The case directories under `dir`, sorted; fails when there are none.
fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no cases in {}", dir.display());
    out
}

/// Read a file as text; checked UTF-8, so a lossy read cannot hide a case.
fn read(path: &Path) -> String {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    String::from_utf8(bytes).unwrap_or_else(|_| panic!("{} is not UTF-8", path.display()))
}

fn name(case: &Path) -> String {
    case.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn positive_cases_dump_as_recorded() {
    let write = std::env::var_os("HOARD_WRITE_PARSER_RESULTS").is_some_and(|v| !v.is_empty());
    let cases = cases(&testdata("parser"));
    let mut failures = Vec::new();
    for case in &cases {
        let name = name(case);
        let text = read(&case.join("Dockerfile"));
        let got = match parse(&text) {
            Ok(df) => df.dump(),
            Err(e) => {
                failures.push(format!("{name}: unexpected error {e:?}"));
                continue;
            }
        };
        let result = case.join("result");
        if write {
            fs::write(&result, &got).unwrap_or_else(|e| panic!("{}: {e}", result.display()));
            continue;
        }
        if !result.is_file() {
            failures.push(format!("{name}: no result file"));
            continue;
        }
        let expected = read(&result);
        if got != expected {
            failures.push(format!("{name}:\n--- expected\n{expected}--- got\n{got}"));
        }
    }
    assert!(
        !write,
        "wrote {} result files; review them, then run again without HOARD_WRITE_PARSER_RESULTS",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn negative_cases_are_rejected() {
    let cases = cases(&testdata("parser-negative"));
    let mut failures = Vec::new();
    for case in &cases {
        let text = read(&case.join("Dockerfile"));
        if let Ok(df) = parse(&text) {
            failures.push(format!("{}: parsed as\n{}", name(case), df.dump()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases should not parse:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
