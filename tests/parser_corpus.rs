//! The parser against reference data: buildkit's own parser corpus (each `Dockerfile` with the
//! stock `Dump()` in `result`, plus files that must fail) and a set of real-world Dockerfiles,
//! read from `../shared/corpus/` at test time. (The repository's own cases and the fuzzing are
//! in `tests/parser.rs`.)

#[path = "common/corpus.rs"]
mod corpus;

use std::fs;
use std::path::{Path, PathBuf};

use hoard::parser::parse;

/// Sub-directories (or files) of `dir`, sorted, with at least one entry.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no cases in {}", dir.display());
    out
}

/// Read a file as text; the corpus is UTF-8 (checked, so a silent lossy read cannot hide a case).
fn read(path: &Path) -> String {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    String::from_utf8(bytes).unwrap_or_else(|_| panic!("{} is not UTF-8", path.display()))
}

#[test]
fn buildkit_positive_cases_dump_like_stock() {
    let mut failures = Vec::new();
    let cases = entries(&corpus::dir("buildkit-parser/testfiles"));
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let text = read(&case.join("Dockerfile"));
        let expected = read(&case.join("result"));
        match parse(&text) {
            Ok(df) => {
                let got = df.dump();
                if got != expected {
                    failures.push(format!("{name}:\n--- expected\n{expected}--- got\n{got}"));
                }
            }
            Err(e) => failures.push(format!("{name}: unexpected error {e:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(
        cases.len() >= 30,
        "expected the full corpus, found {} cases",
        cases.len()
    );
}

#[test]
fn buildkit_negative_cases_fail() {
    let cases = entries(&corpus::dir("buildkit-parser/testfiles-negative"));
    for case in &cases {
        let text = read(&case.join("Dockerfile"));
        let result = parse(&text);
        assert!(
            result.is_err(),
            "{} should not parse, got {:?}",
            case.display(),
            result
        );
    }
}

#[test]
fn real_world_dockerfiles_parse() {
    // One folder per file: `<case>/Dockerfile` (plus a SOURCE note); a README sits beside them.
    let files: Vec<PathBuf> = entries(&corpus::dir("real-world"))
        .into_iter()
        .filter(|d| d.is_dir())
        .map(|d| d.join("Dockerfile"))
        .collect();
    assert!(
        files.len() >= 60,
        "expected the real-world corpus, found {} files",
        files.len()
    );
    for file in &files {
        let text = read(file);
        let df = parse(&text)
            .unwrap_or_else(|e| panic!("{}: {}", file.display(), e.render("Dockerfile")));
        assert!(!df.nodes.is_empty());
        let lines = text.lines().count().max(1);
        let mut last_end = 0;
        for node in &df.nodes {
            assert!(
                node.span.start > last_end && node.span.start <= node.span.end,
                "{}: {:?}",
                file.display(),
                node.span
            );
            assert!(
                node.span.end <= lines,
                "{}: span {:?} past the end",
                file.display(),
                node.span
            );
            last_end = node.span.end;
        }
    }
}
