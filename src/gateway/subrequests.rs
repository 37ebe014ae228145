//! Subrequests (`requestid` opt): `frontend.subrequests.describe`, `frontend.lint` (buildx
//! `--check` / `--call=check`), `frontend.targets` (`--call=targets`) and `frontend.outline`
//! (`--call=outline`, computed in [`super::outline`]). Results carry only metadata:
//! `result.json`, `result.txt`, `version` (+ `result.statuscode` for lint), with the JSON shapes
//! of BuildKit's `frontend/subrequests/*` packages, which buildx parses.

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
    Value::Array(
        names
            .iter()
            .map(|n| json!({"name": n, "description": ""}))
            .collect(),
    )
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

/// The subrequests this frontend answers: the stock frontend's list (outline, targets,
/// describe), then `frontend.lint` (answered by the stock frontend too, which does not list it;
/// BuildKit's definition), `frontend.explain` and `frontend.eject`.
pub fn describe_json() -> Value {
    let mut outline = request_def(
        REQUEST_OUTLINE,
        "List all parameters current build target supports",
        true,
        &["result.json", "result.txt"],
    );
    outline["opts"] = json!([{"name": "target", "description": "Target build stage"}]);
    Value::Array(vec![
        outline,
        request_def(
            REQUEST_TARGETS,
            "List all targets current build supports",
            true,
            &["result.json", "result.txt"],
        ),
        request_def(
            REQUEST_DESCRIBE,
            "List available subrequest types",
            false,
            &["result.json", "result.txt"],
        ),
        request_def(
            REQUEST_LINT,
            "Lint a Dockerfile",
            true,
            &["result.json", "result.txt", "result.statuscode"],
        ),
        request_def(
            super::explain::REQUEST_EXPLAIN,
            super::explain::EXPLAIN_DESCRIPTION,
            true,
            &["result.json", "result.txt"],
        ),
        request_def(
            super::explain::REQUEST_EJECT,
            super::explain::EJECT_DESCRIPTION,
            true,
            &["result.json", "result.txt"],
        ),
    ])
}

/// Pad `rows` into columns like Go's `tabwriter` (min width 0, padding 1, space-padded).
fn tabulate(rows: &[Vec<String>]) -> String {
    tabulate_padded(rows, 1)
}

/// Go's `tabwriter.NewWriter(w, 0, 0, padding, ' ', 0)`: every cell but a line's last is
/// padded to its column's widest cell plus `padding` (empty cells too).
fn tabulate_padded(rows: &[Vec<String>], padding: usize) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate().take(r.len().saturating_sub(1)) {
            widths[i] = widths[i].max(c.chars().count() + padding);
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
    let mut rows = vec![vec![
        "NAME".to_string(),
        "VERSION".into(),
        "DESCRIPTION".into(),
    ]];
    for r in v.as_array().unwrap() {
        let name = r["name"].as_str().unwrap_or_default();
        rows.push(vec![
            name.strip_prefix("frontend.").unwrap_or(name).to_string(),
            r["version"].as_str().unwrap_or_default().to_string(),
            r["description"].as_str().unwrap_or_default().to_string(),
        ]);
    }
    metadata_result(BTreeMap::from([
        (
            "result.json".to_string(),
            serde_json::to_vec_pretty(&v).expect("json"),
        ),
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
        let mark = if spans
            .iter()
            .any(|s| s.start <= i && s.end.max(s.start) >= i)
        {
            ">>>"
        } else {
            "   "
        };
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

/// A node's location as the stock frontend reports it in targets and outlines
/// (`parser.Node.Location`): one range per line of the instruction.
fn node_location_json(span: Span) -> Value {
    let end = span.end.max(span.start);
    let ranges: Vec<Value> = (span.start..=end)
        .map(|l| range_json(Span::line(l)))
        .collect();
    json!({ "ranges": ranges })
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
            let (description, url) = crate::lint::describe(w);
            let mut o = Map::new();
            o.insert("ruleName".into(), json!(w.rule));
            // Go's omitempty.
            if !description.is_empty() {
                o.insert("description".into(), json!(description));
            }
            if !url.is_empty() {
                o.insert("url".into(), json!(url));
            }
            if !w.message.is_empty() {
                o.insert("detail".into(), json!(w.message));
            }
            // One range per line of the instruction, as the stock `Node.Location()`.
            let location = match w.span {
                Some(span) => node_location_json(span),
                None => location_json(None),
            };
            o.insert("location".into(), location);
            Value::Object(o)
        })
        .collect();
    // A Go nil slice: `null` when there is nothing to report.
    m.insert(
        "warnings".into(),
        if ws.is_empty() {
            Value::Null
        } else {
            Value::Array(ws)
        },
    );
    m.insert("sources".into(), json!([source_info_json(src)]));
    if let Some(e) = build_error {
        let loc = match e.span {
            Some(s) => json!({ "ranges": [range_json(s)] }),
            None => json!({}),
        };
        m.insert(
            "buildError".into(),
            json!({ "message": e.message, "location": loc }),
        );
    }
    Value::Object(m)
}

/// The `frontend.lint` result: JSON, text, status code 1 when there are warnings or an error.
pub fn lint_result(
    src: &SourceFile,
    warnings: &[Warning],
    build_error: Option<&Error>,
) -> gw::Result {
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
        let (_, url) = crate::lint::describe(w);
        let _ = write!(txt, "\nWARNING: {}", w.rule);
        if !url.is_empty() {
            let _ = write!(txt, " - {url}");
        }
        let _ = write!(txt, "\n{}\n", w.message);
        if let Some(s) = w.span {
            txt.push_str(&print_source(src, &[s]));
        }
    }
    let status = if warnings.is_empty() && build_error.is_none() {
        "0"
    } else {
        "1"
    };
    metadata_result(BTreeMap::from([
        (
            "result.json".to_string(),
            serde_json::to_vec_pretty(&v).expect("json"),
        ),
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
        let description = crate::parser::doc_comment(&n.comments, &name);
        out.push(TargetInfo {
            name,
            default: false,
            description,
            base,
            platform,
            span: Some(n.span),
        });
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
                m.insert("location".into(), node_location_json(s));
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
        (
            "result.json".to_string(),
            serde_json::to_vec_pretty(&v).expect("json"),
        ),
        ("result.txt".to_string(), tabulate(&rows).into_bytes()),
        ("version".to_string(), VERSION.as_bytes().to_vec()),
    ]))
}

/// `json.MarshalIndent(v, "", "  ")`: two-space indent and Go's HTML-safe escapes, so raw
/// output (`--call outline,format=json`) reads exactly like the stock frontend's.
fn go_json_pretty(v: &Value) -> Vec<u8> {
    let s = serde_json::to_string_pretty(v).expect("json");
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.into_bytes()
}

/// `outline.Outline` JSON (Go field order, `omitempty` fields left out).
pub fn outline_json(src: &SourceFile, o: &crate::convert::Outline) -> Value {
    use base64::Engine as _;
    let mut m = Map::new();
    if !o.name.is_empty() {
        m.insert("name".into(), o.name.clone().into());
    }
    if !o.description.is_empty() {
        m.insert("description".into(), o.description.clone().into());
    }
    if !o.args.is_empty() {
        let args = o
            .args
            .iter()
            .map(|a| {
                let mut m = Map::new();
                m.insert("name".into(), a.name.clone().into());
                if !a.description.is_empty() {
                    m.insert("description".into(), a.description.clone().into());
                }
                if !a.value.is_empty() {
                    m.insert("value".into(), a.value.clone().into());
                }
                m.insert("location".into(), node_location_json(a.span));
                Value::Object(m)
            })
            .collect();
        m.insert("args".into(), Value::Array(args));
    }
    for (key, list) in [("secrets", &o.secrets), ("ssh", &o.ssh)] {
        if list.is_empty() {
            continue;
        }
        let items = list
            .iter()
            .map(|s| {
                let mut m = Map::new();
                m.insert("name".into(), s.name.clone().into());
                if s.required {
                    m.insert("required".into(), true.into());
                }
                m.insert("location".into(), node_location_json(s.span));
                Value::Object(m)
            })
            .collect();
        m.insert(key.into(), Value::Array(items));
    }
    m.insert(
        "sources".into(),
        json!([base64::engine::general_purpose::STANDARD.encode(&src.data)]),
    );
    Value::Object(m)
}

/// The stock `outline.PrintOutline` text: target block, then the build arg, secret and ssh
/// tables, each followed by a blank line, empty ones left out.
pub fn outline_text(o: &crate::convert::Outline) -> String {
    let mut out = String::new();
    if !o.name.is_empty() || !o.description.is_empty() {
        let name = if o.name.is_empty() {
            "(default)"
        } else {
            o.name.as_str()
        };
        let mut rows = vec![vec!["TARGET:".to_string(), name.to_string()]];
        if !o.description.is_empty() {
            rows.push(vec!["DESCRIPTION:".into(), o.description.clone()]);
        }
        out += &tabulate_padded(&rows, 1);
        out.push('\n');
    }
    if !o.args.is_empty() {
        let mut rows = vec![vec![
            "BUILD ARG".to_string(),
            "VALUE".into(),
            "DESCRIPTION".into(),
        ]];
        rows.extend(
            o.args
                .iter()
                .map(|a| vec![a.name.clone(), a.value.clone(), a.description.clone()]),
        );
        out += &tabulate_padded(&rows, 3);
        out.push('\n');
    }
    for (title, list) in [("SECRET", &o.secrets), ("SSH", &o.ssh)] {
        if list.is_empty() {
            continue;
        }
        let mut rows = vec![vec![title.to_string(), "REQUIRED".into()]];
        rows.extend(list.iter().map(|s| {
            vec![
                s.name.clone(),
                if s.required {
                    "true".into()
                } else {
                    String::new()
                },
            ]
        }));
        out += &tabulate_padded(&rows, 3);
        out.push('\n');
    }
    out
}

/// The `frontend.outline` result.
pub fn outline_result(src: &SourceFile, o: &crate::convert::Outline) -> gw::Result {
    metadata_result(BTreeMap::from([
        (
            "result.json".to_string(),
            go_json_pretty(&outline_json(src, o)),
        ),
        ("result.txt".to_string(), outline_text(o).into_bytes()),
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
        let names: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap())
            .collect();
        // The stock frontend's list, then lint (which the stock frontend answers without
        // listing it), explain and eject.
        assert_eq!(
            names,
            [
                REQUEST_OUTLINE,
                REQUEST_TARGETS,
                REQUEST_DESCRIBE,
                REQUEST_LINT,
                "frontend.explain",
                "frontend.eject"
            ]
        );
        assert_eq!(v[0]["type"], "rpc");
        assert_eq!(v[0]["version"], "1.0.0");
        assert_eq!(
            v[0]["opts"],
            json!([{"name": "target", "description": "Target build stage"}])
        );
        assert_eq!(v[1]["opts"], json!([]));
        assert_eq!(v[2]["opts"], Value::Null);
        assert_eq!(v[3]["description"], "Lint a Dockerfile");
        assert_eq!(
            v[3]["metadata"],
            json!([{"name": "result.json", "description": ""}, {"name": "result.txt", "description": ""}, {"name": "result.statuscode", "description": ""}])
        );
        assert_eq!(r.metadata["version"], b"1.0.0");
        let txt = String::from_utf8(r.metadata["result.txt"].clone()).unwrap();
        assert_eq!(
            txt,
            "NAME                 VERSION DESCRIPTION\n\
             outline              1.0.0   List all parameters current build target supports\n\
             targets              1.0.0   List all targets current build supports\n\
             subrequests.describe 1.0.0   List available subrequest types\n\
             lint                 1.0.0   Lint a Dockerfile\n\
             explain              1.0.0   Show the caches hoard adds to each RUN, and why a tool gets none\n\
             eject                1.0.0   Print the Dockerfile with hoard's cache mounts written out, for the stock frontend\n"
        );
    }

    #[test]
    fn comments_like_the_stock_parser() {
        let text = "# syntax=x\n# FOO foo desc\n\n  # BAR indented\nARG FOO=1\n# BAR\n\nARG BAR=2\n#\n# gone\n#\nRUN <<EOF\n# not a comment\nEOF\n# build builds\n\nFROM a \\\n  # inside\n  AS build\n";
        let df = crate::parser::parse(text).unwrap();
        let get = |l: usize| {
            let n = df.nodes.iter().find(|n| n.span.start == l).unwrap();
            n.comments.iter().map(String::as_str).collect::<Vec<_>>()
        };
        assert_eq!(get(5), ["FOO foo desc", "# BAR indented"]);
        assert_eq!(get(8), ["BAR"]);
        assert!(get(12).is_empty());
        assert_eq!(get(17), ["build builds"]);
        let t = list_targets(text).unwrap();
        assert_eq!(t[0].description, "builds");
        // A directive line after the first comment is a comment.
        let text = "# FOO x\n# syntax=y\nARG FOO\n";
        let df = crate::parser::parse(text).unwrap();
        assert_eq!(df.nodes[0].comments, ["FOO x", "syntax=y"]);
    }

    fn outline() -> crate::convert::Outline {
        use crate::convert::{Outline, OutlineArg, OutlineMount};
        let arg = |name: &str, value: &str, description: &str, line: usize| OutlineArg {
            name: name.into(),
            value: value.into(),
            description: description.into(),
            span: Span::line(line),
        };
        let mount = |name: &str, required: bool, span: Span| OutlineMount {
            name: name.into(),
            required,
            span,
        };
        Outline {
            name: "final".into(),
            description: String::new(),
            args: vec![
                arg("GO_VERSION", "1.22", "the Go version", 2),
                arg("BASE", "hoard-test/busybox:latest", "base image", 5),
                arg("NODEFAULT", "", "", 21),
            ],
            secrets: vec![
                mount("npmrc", true, Span::line(10)),
                mount("token", false, Span::new(23, 24)),
            ],
            ssh: vec![mount("default", false, Span::line(22))],
        }
    }

    #[test]
    fn outline_text_is_the_stock_table() {
        // As printed by the stock frontend (trailing spaces included).
        assert_eq!(
            outline_text(&outline()),
            "TARGET: final\n\
             \n\
             BUILD ARG    VALUE                       DESCRIPTION\n\
             GO_VERSION   1.22                        the Go version\n\
             BASE         hoard-test/busybox:latest   base image\n\
             NODEFAULT                                \n\
             \n\
             SECRET   REQUIRED\n\
             npmrc    true\n\
             token    \n\
             \n\
             SSH       REQUIRED\n\
             default   \n\
             \n"
        );
        let mut o = outline();
        o.name.clear();
        o.description = "d".into();
        o.args.clear();
        o.ssh.clear();
        o.secrets.truncate(1);
        assert_eq!(
            outline_text(&o),
            "TARGET:      (default)\nDESCRIPTION: d\n\nSECRET   REQUIRED\nnpmrc    true\n\n"
        );
        assert_eq!(outline_text(&crate::convert::Outline::default()), "");
    }

    #[test]
    fn outline_json_is_the_stock_json() {
        let mut o = outline();
        o.args[0].value = "<a&b>".into();
        let r = outline_result(&src("FROM a\n"), &o);
        assert_eq!(r.metadata["version"], b"1.0.0");
        let raw = String::from_utf8(r.metadata["result.json"].clone()).unwrap();
        assert!(raw.starts_with("{\n  \"name\": \"final\",\n  \"args\": [\n    {\n      \"name\": \"GO_VERSION\",\n      \"description\": \"the Go version\",\n      \"value\": \"\\u003ca\\u0026b\\u003e\",\n"), "{raw}");
        let v: Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(v["args"][0]["value"], "<a&b>");
        assert_eq!(
            v["args"][2],
            json!({"name": "NODEFAULT", "location": {"ranges": [{"start": {"line": 21}, "end": {"line": 21}}]}})
        );
        assert_eq!(
            v["secrets"][1],
            json!({"name": "token", "location": {"ranges": [
                {"start": {"line": 23}, "end": {"line": 23}},
                {"start": {"line": 24}, "end": {"line": 24}}
            ]}})
        );
        assert_eq!(v["secrets"][0]["required"], true);
        assert_eq!(v["ssh"][0]["name"], "default");
        assert_eq!(v["sources"], json!(["RlJPTSBhCg=="]));
        assert!(v.get("description").is_none());
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["name", "args", "secrets", "ssh", "sources"]);
        let empty = outline_json(&src("FROM a\n"), &crate::convert::Outline::default());
        assert_eq!(empty, json!({"sources": ["RlJPTSBhCg=="]}));
    }

    #[test]
    fn lint_without_warnings() {
        let r = lint_result(&src("FROM a\n"), &[], None);
        assert_eq!(r.metadata["result.statuscode"], b"0");
        assert_eq!(r.metadata["version"], b"1.0.0");
        let v: Value = serde_json::from_slice(&r.metadata["result.json"]).unwrap();
        assert_eq!(v["warnings"], Value::Null);
        assert_eq!(v["sources"][0]["filename"], "Dockerfile");
        assert_eq!(v["sources"][0]["language"], "Dockerfile");
        assert!(v.get("buildError").is_none());
        assert!(r.metadata["result.txt"].is_empty());
    }

    #[test]
    fn lint_with_warnings_and_error() {
        let text = "FROM a\nRUN x\nMAINTAINER me\n";
        let ws = vec![
            Warning {
                rule: "MaintainerDeprecated".into(),
                message: "Maintainer instruction is deprecated".into(),
                span: Some(Span::line(3)),
            },
            Warning {
                rule: "Global".into(),
                message: "no line".into(),
                span: None,
            },
        ];
        let err = Error::at(Span::line(2), "boom");
        let r = lint_result(&src(text), &ws, Some(&err));
        assert_eq!(r.metadata["result.statuscode"], b"1");
        let v: Value = serde_json::from_slice(&r.metadata["result.json"]).unwrap();
        assert_eq!(
            v["warnings"][0],
            json!({
                "ruleName": "MaintainerDeprecated",
                "description": "The MAINTAINER instruction is deprecated, use a label instead to define an image author",
                "url": "https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/",
                "detail": "Maintainer instruction is deprecated",
                "location": {"ranges": [{"start": {"line": 3}, "end": {"line": 3}}]}
            })
        );
        assert_eq!(v["warnings"][1]["location"], json!({"sourceIndex": -1}));
        assert_eq!(v["buildError"]["message"], "boom");
        assert_eq!(v["buildError"]["location"]["ranges"][0]["start"]["line"], 2);
        let txt = String::from_utf8(r.metadata["result.txt"].clone()).unwrap();
        assert!(
            txt.starts_with("\nWARNING: Global\nno line\n\nWARNING: MaintainerDeprecated - https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/\n"),
            "{txt}"
        );
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
        assert_eq!(
            v["targets"][1],
            json!({"default": true, "base": "scratch", "location": {"ranges":[{"start":{"line":5},"end":{"line":5}}]}})
        );
        let txt = String::from_utf8(r.metadata["result.txt"].clone()).unwrap();
        assert_eq!(
            txt,
            "TARGET    DESCRIPTION\nbuild     compiles things\n(default) \n"
        );
    }
}
