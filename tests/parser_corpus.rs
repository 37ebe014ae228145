//! The parser against reference data: buildkit's own parser corpus (each `Dockerfile` with the
//! stock `Dump()` in `result`, plus files that must fail) and a set of real-world Dockerfiles,
//! read from `../shared/corpus/` at test time. (The repository's own cases and the fuzzing are
//! in `tests/parser.rs`.)

#[path = "common/corpus.rs"]
mod corpus;

#[path = "common/parser_cases.rs"]
mod parser_cases;

use std::path::PathBuf;

use hoard::parser::parse;
use parser_cases::{accepted, assert_none, cases, dump_failures, read};

#[test]
fn buildkit_positive_cases_dump_like_stock() {
    let cases = cases(&corpus::dir("buildkit-parser/testfiles"));
    let failures = dump_failures(&cases, false);
    assert_none(&failures, cases.len(), "differ");
    assert!(
        cases.len() >= 30,
        "expected the full corpus, found {} cases",
        cases.len()
    );
}

#[test]
fn buildkit_negative_cases_fail() {
    let cases = cases(&corpus::dir("buildkit-parser/testfiles-negative"));
    let failures = accepted(&cases);
    assert_none(&failures, cases.len(), "should not parse");
}

#[test]
fn real_world_dockerfiles_parse() {
    // One folder per file: `<case>/Dockerfile` (plus a SOURCE note); a README sits beside them.
    let files: Vec<PathBuf> = cases(&corpus::dir("real-world"))
        .into_iter()
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
