//! The parser against the repository's own cases, without Docker and without anything outside
//! the repository: every `testdata/parser/<case>/Dockerfile` must dump (in the stock parser's
//! `Dump()` format) exactly as its `result` says, and every
//! `testdata/parser-negative/<case>/Dockerfile` must be rejected. The cases are original and
//! were cross-checked against the stock frontend (`testdata/parser/README.md`). Plus fuzzing:
//! `parse` must never panic.
//!
//! `HOARD_WRITE_PARSER_RESULTS=1 cargo test --test parser` (re)writes every `result` from the
//! current parser and then fails on purpose: review the diff by hand before committing it.

#[path = "common/parser_cases.rs"]
mod parser_cases;

use std::path::PathBuf;

use hoard::parser::parse;
use parser_cases::{accepted, assert_none, cases, dump_failures};
use proptest::prelude::*;

fn testdata(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(sub)
}

#[test]
fn positive_cases_dump_as_recorded() {
    let write = std::env::var_os("HOARD_WRITE_PARSER_RESULTS").is_some_and(|v| !v.is_empty());
    let cases = cases(&testdata("parser"));
    let failures = dump_failures(&cases, write);
    assert!(
        !write,
        "wrote {} result files; review them, then run again without HOARD_WRITE_PARSER_RESULTS",
        cases.len()
    );
    assert_none(&failures, cases.len(), "differ");
}

#[test]
fn negative_cases_are_rejected() {
    let cases = cases(&testdata("parser-negative"));
    let failures = accepted(&cases);
    assert_none(&failures, cases.len(), "should not parse");
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
