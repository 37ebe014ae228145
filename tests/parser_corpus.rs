//! The parser against reference data: buildkit's own parser corpus (each `Dockerfile` with the
//! stock `Dump()` in `result`, plus files that must fail) and a set of real-world Dockerfiles,
//! read from `../shared/corpus/` at test time. Plus fuzzing: `parse` must never panic.

#[path = "common/corpus.rs"]
mod corpus;

use std::fs;
use std::path::{Path, PathBuf};

use hoard::parser::parse;
use proptest::prelude::*;

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

/// Lines that exercise the parser's corners: directives, continuations, heredocs, JSON, flags.
fn dockerfile_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("FROM alpine AS base".to_string()),
        Just("# syntax=hoard:dev".to_string()),
        Just("# escape=`".to_string()),
        Just("# escape=\\".to_string()),
        Just("# check=skip=all".to_string()),
        Just("# comment".to_string()),
        Just(String::new()),
        Just("   ".to_string()),
        Just("\\".to_string()),
        Just("`".to_string()),
        Just("RUN echo a \\".to_string()),
        Just("RUN <<EOF".to_string()),
        Just("RUN <<-'EOF' cat".to_string()),
        Just("COPY <<A <<\"B\" /dst".to_string()),
        Just("EOF".to_string()),
        Just("\tEOF".to_string()),
        Just("A".to_string()),
        Just("ONBUILD RUN <<X".to_string()),
        Just("CMD [\"a\", \"b\"]".to_string()),
        Just("CMD [1, [".to_string()),
        Just("ENV a=b c".to_string()),
        Just("ENV a".to_string()),
        Just("LABEL \"x y\"=z".to_string()),
        Just("HEALTHCHECK --interval=1s CMD".to_string()),
        Just("COPY --from=x -- a b".to_string()),
        "[A-Z]{2,6} [ -~]{0,20}",
        "[ -~\t\u{a0}\u{85}é😀]{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_arbitrary_text(text in any::<String>()) {
        let _ = parse(&text);
    }

    #[test]
    fn parse_never_panics_on_dockerfile_like_lines(
        lines in prop::collection::vec(dockerfile_line(), 0..20),
        ending in prop_oneof![Just("\n"), Just("\r\n")],
    ) {
        let text = lines.join(ending);
        if let Ok(df) = parse(&text) {
            // Spans are ordered, non-overlapping and inside the file.
            let total = text.split('\n').count();
            let mut last = 0;
            for n in &df.nodes {
                prop_assert!(n.span.start > last && n.span.start <= n.span.end && n.span.end <= total);
                last = n.span.end;
                // The dump is always one line per node.
                prop_assert_eq!(n.dump().lines().count(), 1);
            }
        }
    }
}
