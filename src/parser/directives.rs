//! Parser directives: `# syntax=`, `# escape=`, `# check=` at the top of the file.
//!
//! A directive is a comment of the form `# key=value` with a known key (case-insensitive). They
//! are only recognised before the first line that is not one; each key may appear once.
//! [`detect_syntax`] additionally accepts a leading `#!` line, `// syntax=` comments and a JSON
//! object `{"syntax": "..."}`, the way the stock frontend picks the frontend image.

use nom::bytes::complete::{tag, take_while};
use nom::character::complete::satisfy;
use nom::sequence::preceded;
use nom::{IResult, Parser};
use std::collections::HashSet;

use super::json;
use crate::error::Span;

pub(super) const KEY_SYNTAX: &str = "syntax";
pub(super) const KEY_ESCAPE: &str = "escape";
pub(super) const KEY_CHECK: &str = "check";

/// One directive line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Lower-cased key.
    pub name: String,
    pub value: String,
    /// The line it was found on.
    pub span: Span,
}

/// The `# syntax=` directive as the stock frontend detects it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxDirective {
    /// The frontend reference: the value up to its first space.
    pub reference: String,
    /// The whole value (`ref arg1 arg2`).
    pub cmdline: String,
    pub span: Span,
}

/// Recognises directive lines until the first line that is not one.
pub(super) struct DirectiveParser {
    comment: &'static str,
    line: usize,
    seen: HashSet<String>,
    done: bool,
}

/// Go's regexp `\s`.
fn is_re_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ')
}

/// `name \s* = ` where name is `[a-zA-Z][a-zA-Z0-9]*`; returns the name.
fn directive_key(input: &str) -> IResult<&str, &str> {
    let (rest, _) = satisfy(|c: char| c.is_ascii_alphabetic()).parse(input)?;
    let (rest, more) = take_while(|c: char| c.is_ascii_alphanumeric()).parse(rest)?;
    let name = &input[..1 + more.len()];
    let (rest, _) = preceded(take_while(is_re_space), tag("=")).parse(rest)?;
    Ok((rest, name))
}

/// The value part of `^name\s*=\s*(.+?)\s*$`: at least one character, surrounding `\s` dropped.
fn directive_value(after_eq: &str) -> Option<&str> {
    if after_eq.is_empty() || after_eq.contains('\n') {
        return None;
    }
    let t = after_eq.trim_start_matches(is_re_space);
    if t.is_empty() {
        // Only whitespace: the lazy group still has to take one character, the last one.
        let last = after_eq.char_indices().last()?.0;
        return Some(&after_eq[last..]);
    }
    Some(t.trim_end_matches(is_re_space))
}

impl DirectiveParser {
    pub(super) fn new(comment: &'static str, first_line: usize) -> Self {
        DirectiveParser {
            comment,
            line: first_line,
            seen: HashSet::new(),
            done: false,
        }
    }

    /// Look at the next line. `Ok(None)` when it is not a directive (which also ends the
    /// directive block); an error for a repeated directive.
    pub(super) fn parse_line(&mut self, line: &str) -> Result<Option<Directive>, String> {
        self.line += 1;
        if self.done {
            return Ok(None);
        }
        let Some(body) = line.strip_prefix(self.comment) else {
            self.done = true;
            return Ok(None);
        };
        let body = body.trim_start();
        let parsed = directive_key(body)
            .ok()
            .and_then(|(rest, name)| Some((name, directive_value(rest)?)));
        let Some((name, value)) = parsed else {
            self.done = true;
            return Ok(None);
        };
        let key = name.to_ascii_lowercase();
        if ![KEY_SYNTAX, KEY_ESCAPE, KEY_CHECK].contains(&key.as_str()) {
            self.done = true;
            return Ok(None);
        }
        if !self.seen.insert(key.clone()) {
            return Err(format!("only one {key} parser directive can be used"));
        }
        Ok(Some(Directive {
            name: key,
            value: value.to_string(),
            span: Span::line(self.line),
        }))
    }

    /// All directives at the top of `text` (lines split like Go's `bufio.ScanLines`); stops
    /// quietly at the first error.
    fn parse_all(&mut self, text: &str) -> Vec<Directive> {
        let mut out = Vec::new();
        for line in text.split_inclusive('\n') {
            if self.done {
                break;
            }
            let line = line.strip_suffix('\n').unwrap_or(line);
            let line = line.strip_suffix('\r').unwrap_or(line);
            match self.parse_line(line) {
                Ok(Some(d)) => out.push(d),
                Ok(None) => {}
                Err(_) => break,
            }
        }
        out
    }
}

/// Check an `escape` directive's value.
pub(super) fn escape_token(value: &str) -> Result<char, String> {
    match value {
        "\\" => Ok('\\'),
        "`" => Ok('`'),
        _ => Err(format!(
            "invalid escape token '{value}' does not match ` or \\"
        )),
    }
}

/// Strip a byte-order mark and a `#!` first line; returns the rest and the lines skipped.
fn discard_bom_and_shebang(text: &str) -> (&str, usize) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.starts_with("#!") {
        let rest = text.split_once('\n').map(|(_, r)| r).unwrap_or("");
        return (rest, 1);
    }
    (text, 0)
}

fn find_directive(key: &str, text: &str, any_format: bool) -> Option<SyntaxDirective> {
    let (text, skipped) = discard_bom_and_shebang(text);
    let mut prefixes = vec!["#"];
    if any_format {
        prefixes.push("//");
    }
    for prefix in prefixes {
        let mut parser = DirectiveParser::new(prefix, skipped);
        if let Some(d) = parser.parse_all(text).into_iter().find(|d| d.name == key) {
            let reference = d.value.split(' ').next().unwrap_or_default().to_string();
            return Some(SyntaxDirective {
                reference,
                cmdline: d.value,
                span: d.span,
            });
        }
    }
    if any_format {
        if let Some(v) = json::object_string_field(text, key) {
            return Some(SyntaxDirective {
                reference: v.clone(),
                cmdline: v,
                span: Span::line(skipped.max(1)),
            });
        }
    }
    None
}

/// The `syntax` directive, as the stock frontend finds it: `# syntax=`, after an optional `#!`
/// line, else `// syntax=`, else a JSON document with a string `"syntax"` field.
pub fn detect_syntax(text: &str) -> Option<SyntaxDirective> {
    find_directive(KEY_SYNTAX, text, true)
}

/// A `#`-style directive by key (e.g. `check`), after an optional `#!` line.
pub fn find_hash_directive(key: &str, text: &str) -> Option<SyntaxDirective> {
    find_directive(key, text, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Result<Option<(String, String)>, String> {
        let mut p = DirectiveParser::new("#", 0);
        Ok(p.parse_line(line)?.map(|d| (d.name, d.value)))
    }

    #[test]
    fn directive_lines() {
        assert_eq!(
            one("# syntax=foo/bar:1"),
            Ok(Some(("syntax".into(), "foo/bar:1".into())))
        );
        assert_eq!(
            one("#ESCAPE = `  "),
            Ok(Some(("escape".into(), "`".into())))
        );
        assert_eq!(
            one("# check=skip=all;error=true"),
            Ok(Some(("check".into(), "skip=all;error=true".into())))
        );
        assert_eq!(one("# escape= "), Ok(Some(("escape".into(), " ".into()))));
        assert_eq!(one("# escape="), Ok(None));
        assert_eq!(one("# other=x"), Ok(None));
        assert_eq!(one("# 1x=y"), Ok(None));
        assert_eq!(one("FROM x"), Ok(None));
    }

    #[test]
    fn directives_end_at_first_other_line() {
        let mut p = DirectiveParser::new("#", 0);
        assert!(p.parse_line("# syntax=a").unwrap().is_some());
        assert!(p.parse_line("# hello").unwrap().is_none());
        assert!(p.parse_line("# escape=`").unwrap().is_none());
    }

    #[test]
    fn duplicates_are_errors() {
        let mut p = DirectiveParser::new("#", 0);
        p.parse_line("# syntax=a").unwrap();
        let err = p.parse_line("# SYNTAX=b").unwrap_err();
        assert_eq!(err, "only one syntax parser directive can be used");
    }

    #[test]
    fn escape_values() {
        assert_eq!(escape_token("`"), Ok('`'));
        assert!(escape_token("x")
            .unwrap_err()
            .contains("invalid escape token 'x'"));
    }

    #[test]
    fn detect_syntax_forms() {
        let d = detect_syntax("# syntax=hoard:dev arg\nFROM x\n").unwrap();
        assert_eq!(
            (d.reference.as_str(), d.cmdline.as_str(), d.span),
            ("hoard:dev", "hoard:dev arg", Span::line(1))
        );
        let d = detect_syntax("#!/usr/bin/env buildx\n# syntax=hoard:dev\nFROM x\n").unwrap();
        assert_eq!((d.reference.as_str(), d.span), ("hoard:dev", Span::line(2)));
        let d = detect_syntax("// syntax = hoard:dev\n").unwrap();
        assert_eq!(d.reference, "hoard:dev");
        let d = detect_syntax("{\"syntax\": \"hoard:dev\", \"x\": [1]}").unwrap();
        assert_eq!(d.reference, "hoard:dev");
        assert_eq!(detect_syntax("FROM x\n# syntax=hoard:dev\n"), None);
        assert_eq!(detect_syntax("  # syntax=hoard:dev\n"), None);
        assert_eq!(
            find_hash_directive("check", "# check=skip=all\n")
                .unwrap()
                .cmdline,
            "skip=all"
        );
        assert_eq!(find_hash_directive("check", "// check=skip=all\n"), None);
    }
}
