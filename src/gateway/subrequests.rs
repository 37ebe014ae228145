//! Subrequests (`requestid` opt): `frontend.subrequests.describe`, `frontend.lint` (buildx
//! `--check` / `--call=check`) and `frontend.targets` (`--call=targets`). Results carry only
//! metadata: `result.json`, `result.txt`, `version` (+ `result.statuscode` for lint), with the
//! JSON shapes of BuildKit's `frontend/subrequests/*` packages, which buildx parses.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use crate::error::{Error, Span, Warning};
use crate::proto::moby::buildkit::v1::frontend as gw;

use super::errors::{range_json, SourceFile};
use super::result::metadata_result;

pub const REQUEST_DESCRIBE: &str = "frontend.subrequests.describe";
pub const REQUEST_LINT: &str = "frontend.lint";
pub const REQUEST_TARGETS: &str = "frontend.targets";
pub const REQUEST_OUTLINE: &str = "frontend.outline";

const VERSION: &str = "1.0.0";

fn named(names: &[&str]) -> Value {
    Value::Array(names.iter().map(|n| json!({"name": n, "description": ""})).collect())
}

/// `subrequests.Request` JSON (Go field order; nil slices are `null`).
fn request_def(name: &str, description: &str, opts_empty_list: bool, metadata: &[&str]) -> Value {
    json!({
        "name": name,
        "version": VERSION,
        "type": "rpc",
        "description": description,
        "opts": if opts_empty_list { json!([]) } else { Value::Null },
        "inputs": Value::Null,
        "metadata": named(metadata),
        "refs": Value::Null,
    })
}

/// The subrequests this frontend implements.
pub fn describe_json() -> Value {
    Value::Array(vec![
        request_def(REQUEST_TARGETS, "List all targets current build supports", true, &["result.json", "result.txt"]),
        request_def(REQUEST_LINT, "Lint a Dockerfile", true, &["result.json", "result.txt", "result.statuscode"]),
        request_def(REQUEST_DESCRIBE, "List available subrequest types", false, &["result.json", "result.txt"]),
    ])
}

/// Pad `rows` into columns like Go's `tabwriter` (min width 0, padding 1, space-padded).
fn tabulate(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate().take(r.len().saturating_sub(1)) {
            widths[i] = widths[i].max(c.chars().count() + 1);
        }
    }
    let mut out = String::new();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i + 1 < r.len() {
                let _ = write!(out, "{c:<w$}", w = widths[i]);
            } else {
                out.push_str(c);
            }
        }
        out.push('\n');
    }
    out
}

pub fn describe_result() -> gw::Result {
    let v = describe_json();
    let mut rows = vec![vec!["NAME".to_string(), "VERSION".into(), "DESCRIPTION".into()]];
    for r in v.as_array().unwrap() {
        let name = r["name"].as_str().unwrap_or_default();
        rows.push(vec![
            name.strip_prefix("frontend.").unwrap_or(name).to_string(),
            r["version"].as_str().unwrap_or_default().to_string(),
            r["description"].as_str().unwrap_or_default().to_string(),
        ]);
    }
    metadata_result(BTreeMap::from([
        ("result.json".to_string(), serde_json::to_vec_pretty(&v).expect("json")),
        ("result.txt".to_string(), tabulate(&rows).into_bytes()),
        ("version".to_string(), VERSION.as_bytes().to_vec()),
    ]))
}

/// Go's `errdefs.Source.Print`: the `Dockerfile:N` snippet with `>>>` on the given lines.
pub fn print_source(src: &SourceFile, spans: &[Span]) -> String {
    if spans.is_empty() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&src.data);
    let lines: Vec<&str> = text.split('\n').collect();
    let mut start = spans.iter().map(|s| s.start).min().unwrap();
    let mut end = spans.iter().map(|s| s.end.max(s.start)).max().unwrap();
    if start > lines.len() || start < 1 {
        return String::new();
    }
    end = end.min(lines.len());
    let pad = if end == start { 4 } else { 2 };
    let prepad_start = start;
    let mut p = 0;
    while p < pad {
        if start > 1 {
            start -= 1;
            p += 1;
        }
        if end != lines.len() {
            end += 1;
            p += 1;
        }
        p += 1;
    }
    let mut out = format!("{}:{}\n--------------------\n", src.filename, prepad_start);
    for i in start..=end {
        let mark = if spans.iter().any(|s| s.start <= i && s.end.max(s.start) >= i) { ">>>" } else { "   " };
        let _ = writeln!(out, " {i:>3} | {mark} {}", lines[i - 1]);
    }
    out.push_str("--------------------\n");
    out
}

fn location_json(span: Option<Span>) -> Value {
    match span {
        // sourceIndex 0 is omitted, as Go's omitempty does.
        Some(s) => json!({ "ranges": [range_json(s)] }),
        None => json!({ "sourceIndex": -1 }),
    }
}

fn source_info_json(src: &SourceFile) -> Value {
    src.info_json()
}

/// `lint.LintResults` for `frontend.lint`.
pub fn lint_json(src: &SourceFile, warnings: &[Warning], build_error: Option<&Error>) -> Value {
    let mut m = Map::new();
    let ws: Vec<Value> = warnings
        .iter()
        .map(|w| {
            json!({
                "ruleName": w.rule,
                "detail": w.message,
                "location": location_json(w.span),
            })
        })
        .collect();
    m.insert("warnings".into(), Value::Array(ws));
    m.insert("sources".into(), json!([source_info_json(src)]));
    if let Some(e) = build_error {
        let loc = match e.span {
            Some(s) => json!({ "ranges": [range_json(s)] }),
            None => json!({}),
        };
        m.insert("buildError".into(), json!({ "message": e.message, "location": loc }));
    }
    Value::Object(m)
}

/// The `frontend.lint` result: JSON, text, status code 1 when there are warnings or an error.
pub fn lint_result(src: &SourceFile, warnings: &[Warning], build_error: Option<&Error>) -> gw::Result {
    let v = lint_json(src, warnings, build_error);
    let mut sorted: Vec<&Warning> = warnings.iter().collect();
    sorted.sort_by(|a, b| match (a.span, b.span) {
        (None, None) => a.rule.cmp(&b.rule),
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => x.start.cmp(&y.start),
    });
    let mut txt = String::new();
    for w in sorted {
        let _ = write!(txt, "\nWARNING: {}\n{}\n", w.rule, w.message);
        if let Some(s) = w.span {
            txt.push_str(&print_source(src, &[s]));
        }
    }
    let status = if warnings.is_empty() && build_error.is_none() { "0" } else { "1" };
    metadata_result(BTreeMap::from([
        ("result.json".to_string(), serde_json::to_vec_pretty(&v).expect("json")),
        ("result.txt".to_string(), txt.into_bytes()),
        ("result.statuscode".to_string(), status.as_bytes().to_vec()),
        ("version".to_string(), VERSION.as_bytes().to_vec()),
    ]))
}

/// One build stage, for `frontend.targets`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetInfo {
    pub name: String,
    pub default: bool,
    pub description: String,
    pub base: String,
    pub platform: String,
    pub span: Option<Span>,
}

/// The comment lines directly above line `line` (1-based), `#` and one space stripped, in
/// file order (the stock parser's `PrevComment`).
fn comments_above(text: &str, line: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = line.saturating_sub(1);
    while i > 0 {
        let l = lines.get(i - 1).map(|l| l.trim()).unwrap_or("");
        match l.strip_prefix('#') {
            Some(c) => out.push(c.trim().to_string()),
            None => break,
        }
        i -= 1;
    }
    out.reverse();
    out
}

/// List the stages of a Dockerfile (the last one is the default target).
pub fn list_targets(text: &str) -> Result<Vec<TargetInfo>, Error> {
    let df = crate::parser::parse(text)?;
    let mut out = Vec::new();
    for n in df.nodes.iter().filter(|n| n.keyword == "from") {
        let base = n.args.first().cloned().unwrap_or_default();
        let name = match n.args.as_slice() {
            [_, as_kw, name] if as_kw.eq_ignore_ascii_case("as") => name.to_ascii_lowercase(),
            _ => String::new(),
        };
        let platform = n
            .flags
            .iter()
            .find_map(|f| f.strip_prefix("--platform=").map(str::to_string))
            .unwrap_or_default();
        let description = if name.is_empty() {
            String::new()
        } else {
            comments_above(text, n.span.start)
                .iter()
                .find_map(|c| c.strip_prefix(&format!("{name} ")).map(str::to_string))
                .unwrap_or_default()
        };
        out.push(TargetInfo { name, default: false, description, base, platform, span: Some(n.span) });
    }
    if let Some(last) = out.last_mut() {
        last.default = true;
    }
    Ok(out)
}

/// The `frontend.targets` result.
pub fn targets_result(src: &SourceFile, targets: &[TargetInfo]) -> gw::Result {
    use base64::Engine as _;
    let list: Vec<Value> = targets
        .iter()
        .map(|t| {
            let mut m = Map::new();
            let put = |m: &mut Map<String, Value>, k: &str, v: &str| {
                if !v.is_empty() {
                    m.insert(k.into(), v.into());
                }
            };
            put(&mut m, "name", &t.name);
            if t.default {
                m.insert("default".into(), true.into());
            }
            put(&mut m, "description", &t.description);
            put(&mut m, "base", &t.base);
            put(&mut m, "platform", &t.platform);
            if let Some(s) = t.span {
                m.insert("location".into(), location_json(Some(s)));
            }
            Value::Object(m)
        })
        .collect();
    let v = json!({
        "targets": list,
        "sources": [base64::engine::general_purpose::STANDARD.encode(&src.data)],
    });
    let mut rows = vec![vec!["TARGET".to_string(), "DESCRIPTION".into()]];
    for t in targets {
        let name = match (t.name.is_empty(), t.default) {
            (true, true) => "(default)".to_string(),
            (false, true) => format!("{} (default)", t.name),
            _ => t.name.clone(),
        };
        rows.push(vec![name, t.description.clone()]);
    }
    metadata_result(BTreeMap::from([
        ("result.json".to_string(), serde_json::to_vec_pretty(&v).expect("json")),
        ("result.txt".to_string(), tabulate(&rows).into_bytes()),
        ("version".to_string(), VERSION.as_bytes().to_vec()),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> SourceFile {
        SourceFile::dockerfile("Dockerfile", text.as_bytes())
    }

    #[test]
    fn describe_lists_supported_requests() {
        let r = describe_result();
        assert!(r.result.is_none());
        let v: Value = serde_json::from_slice(&r.metadata["result.json"]).unwrap();
        let names: Vec<&str> = v.as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
        assert_eq!(names, [REQUEST_TARGETS, REQUEST_LINT, REQUEST_DESCRIBE]);
        assert_eq!(v[0]["type"], "rpc");
        assert_eq!(v[0]["version"], "1.0.0");
        assert_eq!(v[2]["opts"], Value::Null);
        assert_eq!(r.metadata["version"], b"1.0.0");
        let txt = String::from_utf8(r.metadata["result.txt"].clone()).unwrap();
        assert!(txt.starts_with("NAME                 VERSION DESCRIPTION\n"), "{txt}");
        assert!(txt.contains("\nlint                 1.0.0   Lint a Dockerfile\n"), "{txt}");
    }

    #[test]
    fn lint_without_warnings() {
        let r = lint_result(&src("FROM a\n"), &[], None);
        assert_eq!(r.metadata["result.statuscode"], b"0");
        assert_eq!(r.metadata["version"], b"1.0.0");
        let v: Value = serde_json::from_slice(&r.metadata["result.json"]).unwrap();
        assert_eq!(v["warnings"], json!([]));
        assert_eq!(v["sources"][0]["filename"], "Dockerfile");
        assert_eq!(v["sources"][0]["language"], "Dockerfile");
        assert!(v.get("buildError").is_none());
        assert!(r.metadata["result.txt"].is_empty());
    }

    #[test]
    fn lint_with_warnings_and_error() {
        let text = "FROM a\nRUN x\nMAINTAINER me\n";
        let ws = vec![
            Warning { rule: "MaintainerDeprecated".into(), message: "Maintainer instruction is deprecated".into(), span: Some(Span::line(3)) },
            Warning { rule: "Global".into(), message: "no line".into(), span: None },
        ];
        let err = Error::at(Span::line(2), "boom");
        let r = lint_result(&src(text), &ws, Some(&err));
        assert_eq!(r.metadata["result.statuscode"], b"1");
        let v: Value = serde_json::from_slice(&r.metadata["result.json"]).unwrap();
        assert_eq!(
            v["warnings"][0],
            json!({"ruleName":"MaintainerDeprecated","detail":"Maintainer instruction is deprecated","location":{"ranges":[{"start":{"line":3},"end":{"line":3}}]}})
        );
        assert_eq!(v["warnings"][1]["location"], json!({"sourceIndex": -1}));
        assert_eq!(v["buildError"]["message"], "boom");
        assert_eq!(v["buildError"]["location"]["ranges"][0]["start"]["line"], 2);
        let txt = String::from_utf8(r.metadata["result.txt"].clone()).unwrap();
        assert!(txt.starts_with("\nWARNING: Global\nno line\n\nWARNING: MaintainerDeprecated\n"), "{txt}");
        assert!(txt.contains("   3 | >>> MAINTAINER me\n"), "{txt}");
    }

    #[test]
    fn source_print_matches_go() {
        let s = src("FROM a\nRUN b\nRUN c\nRUN d\n");
        assert_eq!(
            print_source(&s, &[Span::line(2)]),
            "Dockerfile:2\n--------------------\n   1 |     FROM a\n   2 | >>> RUN b\n   3 |     RUN c\n   4 |     RUN d\n--------------------\n"
        );
        assert_eq!(print_source(&s, &[]), "");
        assert_eq!(print_source(&s, &[Span::line(99)]), "");
    }

    #[test]
    fn targets_from_stages() {
        let text = "# build compiles things\nFROM --platform=$BUILDPLATFORM golang:1 AS build\nRUN x\n\nFROM scratch\nCOPY --from=build /x /x\n";
        let t = list_targets(text).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].name, "build");
        assert_eq!(t[0].base, "golang:1");
        assert_eq!(t[0].platform, "$BUILDPLATFORM");
        assert_eq!(t[0].description, "compiles things");
        assert!(!t[0].default);
        assert_eq!(t[0].span, Some(Span::line(2)));
        assert_eq!(t[1].name, "");
        assert!(t[1].default);

        let r = targets_result(&src(text), &t);
        let v: Value = serde_json::from_slice(&r.metadata["result.json"]).unwrap();
        assert_eq!(v["targets"][0]["name"], "build");
        assert_eq!(v["targets"][1], json!({"default": true, "base": "scratch", "location": {"ranges":[{"start":{"line":5},"end":{"line":5}}]}}));
        let txt = String::from_utf8(r.metadata["result.txt"].clone()).unwrap();
        assert_eq!(txt, "TARGET    DESCRIPTION\nbuild     compiles things\n(default) \n");
    }
}
