//! Parser cases laid out as buildkit's parser corpus lays them out, shared by `tests/parser.rs`
//! (the repository's own cases) and `tests/parser_corpus.rs` (buildkit's, read in place):
//! `<case>/Dockerfile` with the stock `Dump()` in `<case>/result`, or a `<case>/Dockerfile` that
//! must not parse.

// Each binary that includes this uses part of it.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use hoard::parser::parse;

/// The case directories under `dir`, sorted; fails when there are none.
pub fn cases(dir: &Path) -> Vec<PathBuf> {
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
pub fn read(path: &Path) -> String {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    String::from_utf8(bytes).unwrap_or_else(|_| panic!("{} is not UTF-8", path.display()))
}

pub fn name(case: &Path) -> String {
    case.file_name().unwrap().to_string_lossy().into_owned()
}

/// Each case's dump against its `result`: one message per case that differs, fails to parse or
/// has no result. With `write`, every `result` is (re)written from the parser instead.
pub fn dump_failures(cases: &[PathBuf], write: bool) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
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
    failures
}

/// One message per case that parses although it must not.
pub fn accepted(cases: &[PathBuf]) -> Vec<String> {
    cases
        .iter()
        .filter_map(|case| {
            let text = read(&case.join("Dockerfile"));
            parse(&text)
                .ok()
                .map(|df| format!("{}: parsed as\n{}", name(case), df.dump()))
        })
        .collect()
}

/// Fails listing every failure, with how many of `total` cases `what` (e.g. "differ").
pub fn assert_none(failures: &[String], total: usize, what: &str) {
    assert!(
        failures.is_empty(),
        "{} of {total} cases {what}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
