//! The hoard dialect: comments that turn cache injection off or narrow it, which the stock
//! frontend reads as plain comments.
//!
//! ```dockerfile
//! # hoard: off                    <- before the first instruction: the whole file
//! FROM debian:bookworm AS build
//! # hoard: only=apt               <- right above FROM: this stage
//! RUN apt-get update && apt-get install -y gcc
//! # hoard: skip=pip               <- right above RUN: this step
//! RUN pip install -r requirements.txt
//! ```
//!
//! A comment block separated from the first instruction by a blank line is for the whole file;
//! one directly above an instruction is for that instruction. A setting is a list of words
//! separated by spaces: `off`, `on`,
//! `only=<tool>[,<tool>...]`, `skip=<tool>[,<tool>...]`. The build argument `HOARD` takes the
//! same words and wins over everything in the file (`--build-arg HOARD=off` for an A/B
//! comparison). Anything else after `# hoard:` is an error naming the line.

use std::collections::{BTreeMap, BTreeSet};

use super::planner::Selection;
use super::recipes;
use crate::error::{Error, Result, Span};

/// One setting word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    Off,
    On,
    Only(BTreeSet<String>),
    Skip(BTreeSet<String>),
}

/// The dialect comments of a Dockerfile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dialect {
    /// Settings for the whole file.
    pub file: Vec<Setting>,
    /// Settings attached to the instruction starting at a line (FROM: the stage; RUN: the step).
    pub at_line: BTreeMap<usize, (Vec<Setting>, Span)>,
    /// Tools named in a comment that hoard does not know, with the comment's line: they are
    /// left out of the setting and reported (`HoardUnknownTool`), never an error, so that a
    /// Dockerfile written for a newer hoard still builds.
    pub unknown_tools: Vec<(usize, String)>,
}

/// The tools of an `only=`/`skip=` list. Unknown names are an error, unless `unknown` collects
/// them (comments in the Dockerfile).
fn tools(
    list: &str,
    line: usize,
    mut unknown: Option<&mut Vec<(usize, String)>>,
) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut named = false;
    for t in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        named = true;
        if recipes::by_name(t).is_none() {
            if let Some(u) = unknown.as_deref_mut() {
                u.push((line, t.to_string()));
                continue;
            }
            let known: Vec<&str> = recipes::all().map(|r| r.name).collect();
            return Err(Error::at(
                Span::line(line),
                format!(
                    "hoard: unknown tool \"{t}\"; known tools: {}",
                    known.join(", ")
                ),
            ));
        }
        out.insert(t.to_string());
    }
    if !named {
        return Err(Error::at(
            Span::line(line),
            "hoard: expected a tool list after only= or skip=",
        ));
    }
    Ok(out)
}

/// Parse the words of one setting (`off`, `only=pip,apt`, ...). `line` is for errors.
pub fn parse_settings(text: &str, line: usize) -> Result<Vec<Setting>> {
    settings(text, line, None)
}

fn settings(
    text: &str,
    line: usize,
    mut unknown: Option<&mut Vec<(usize, String)>>,
) -> Result<Vec<Setting>> {
    let mut out = Vec::new();
    for word in text.split_whitespace() {
        let s = match word {
            "off" | "false" => Setting::Off,
            "on" | "true" => Setting::On,
            w => match w.split_once('=') {
                Some(("only", list)) => Setting::Only(tools(list, line, unknown.as_deref_mut())?),
                Some(("skip", list)) => Setting::Skip(tools(list, line, unknown.as_deref_mut())?),
                _ => {
                    return Err(Error::at(
                        Span::line(line),
                        format!("hoard: unknown setting \"{w}\"; expected off, on, only=<tools> or skip=<tools>"),
                    ))
                }
            },
        };
        out.push(s);
    }
    if out.is_empty() {
        return Err(Error::at(
            Span::line(line),
            "hoard: empty setting; expected off, on, only=<tools> or skip=<tools>",
        ));
    }
    Ok(out)
}

/// The text after `# hoard:` / `# hoard=` on a comment line, if it is a dialect line.
fn dialect_text(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix('#')?.trim_start();
    let rest = rest.strip_prefix("hoard")?.trim_start();
    rest.strip_prefix(':').or_else(|| rest.strip_prefix('='))
}

/// Scan the Dockerfile text. `instructions` lists each instruction's first line and keyword
/// (lower case), in order.
pub fn scan(text: &str, instructions: &[(usize, String)]) -> Result<Dialect> {
    let mut d = Dialect::default();
    let first = instructions.first().map(|(l, _)| *l).unwrap_or(usize::MAX);
    let starts: BTreeMap<usize, &str> =
        instructions.iter().map(|(l, k)| (*l, k.as_str())).collect();
    let lines: Vec<&str> = text.lines().collect();
    for (idx, raw) in lines.iter().enumerate() {
        let line = idx + 1;
        let Some(body) = dialect_text(raw) else {
            continue;
        };
        let settings = settings(body, line, Some(&mut d.unknown_tools))?;
        // The instruction this comment block sits directly above.
        let mut next = line + 1;
        while next <= lines.len()
            && lines[next - 1].trim_start().starts_with('#')
            && !starts.contains_key(&next)
        {
            next += 1;
        }
        match starts.get(&next) {
            Some(&"from") | Some(&"run") => {
                let entry = d
                    .at_line
                    .entry(next)
                    .or_insert_with(|| (Vec::new(), Span::line(line)));
                entry.0.extend(settings);
            }
            Some(kw) => {
                return Err(Error::at(
                    Span::line(line),
                    format!(
                        "hoard: a \"# hoard:\" comment applies to FROM or RUN, not {}",
                        kw.to_uppercase()
                    ),
                ))
            }
            None if line < first => d.file.extend(settings),
            None => return Err(Error::at(
                Span::line(line),
                "hoard: a \"# hoard:\" comment must be directly above a FROM or RUN instruction",
            )),
        }
    }
    Ok(d)
}

fn apply(sel: &mut Selection, settings: &[Setting]) {
    for s in settings {
        match s {
            Setting::Off => sel.enabled = false,
            Setting::On => {
                sel.enabled = true;
                sel.only = None;
                sel.skip.clear();
            }
            Setting::Only(t) => {
                sel.enabled = true;
                sel.only = Some(t.clone());
            }
            Setting::Skip(t) => sel.skip.extend(t.iter().cloned()),
        }
    }
}

impl Dialect {
    /// The selection for a RUN at `run_line` in the stage whose FROM is at `stage_line`, with
    /// the `HOARD` build argument (already parsed) applied last.
    pub fn selection(
        &self,
        stage_line: usize,
        run_line: usize,
        build_arg: &[Setting],
    ) -> Selection {
        let mut sel = Selection::default();
        apply(&mut sel, &self.file);
        if let Some((s, _)) = self.at_line.get(&stage_line) {
            apply(&mut sel, s);
        }
        if let Some((s, _)) = self.at_line.get(&run_line) {
            apply(&mut sel, s);
        }
        apply(&mut sel, build_arg);
        sel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instrs(text: &str) -> Vec<(usize, String)> {
        crate::parser::parse(text)
            .unwrap()
            .nodes
            .iter()
            .map(|n| (n.span.start, n.keyword.clone()))
            .collect()
    }

    #[test]
    fn settings_parse() {
        assert_eq!(parse_settings("off", 1).unwrap(), vec![Setting::Off]);
        assert_eq!(
            parse_settings("only=pip,apt skip=npm", 1).unwrap(),
            vec![
                Setting::Only(BTreeSet::from(["pip".to_string(), "apt".to_string()])),
                Setting::Skip(BTreeSet::from(["npm".to_string()]))
            ]
        );
        let e = parse_settings("frobnicate", 7).unwrap_err();
        assert_eq!(e.span, Some(Span::line(7)));
        assert!(
            e.message.contains("unknown setting \"frobnicate\""),
            "{}",
            e.message
        );
        let e = parse_settings("only=pipp", 2).unwrap_err();
        assert!(e.message.contains("unknown tool \"pipp\""), "{}", e.message);
        assert!(parse_settings("", 1).is_err());
    }

    #[test]
    fn scopes() {
        let text = "# hoard: skip=npm\n\nFROM a AS x\n# hoard: only=apt\nFROM b\n# just a comment\n# hoard: off\nRUN apt-get install y\nRUN pip install z\n";
        let d = scan(text, &instrs(text)).unwrap();
        assert_eq!(
            d.file,
            vec![Setting::Skip(BTreeSet::from(["npm".to_string()]))]
        );
        // stage b (line 5) is apt-only; the RUN on line 8 is off; the RUN on line 9 inherits.
        let s = d.selection(5, 8, &[]);
        assert!(!s.enabled);
        let s = d.selection(5, 9, &[]);
        assert!(s.allows("apt") && !s.allows("pip") && !s.allows("npm"));
        let s = d.selection(3, 9, &[]);
        assert!(s.allows("pip") && !s.allows("npm"));
        // the build arg wins
        let s = d.selection(5, 8, &[Setting::On]);
        assert!(s.allows("pip"));
    }

    #[test]
    fn misplaced_or_unknown_is_an_error() {
        let text = "FROM a\n# hoard: off\nENV x=1\n";
        let e = scan(text, &instrs(text)).unwrap_err();
        assert_eq!(e.span, Some(Span::line(2)));
        assert!(e.message.contains("not ENV"), "{}", e.message);
        let text = "FROM a\nRUN true\n# hoard: off\n";
        assert!(scan(text, &instrs(text)).is_err());
        let text = "FROM a\n# hoard: sometimes\nRUN true\n";
        let e = scan(text, &instrs(text)).unwrap_err();
        assert_eq!(e.span, Some(Span::line(2)));
    }

    #[test]
    fn unknown_tools_in_comments_are_reported_not_errors() {
        let text = "FROM a\n# hoard: only=apt,pipp skip=nope\nRUN true\n";
        let d = scan(text, &instrs(text)).unwrap();
        assert_eq!(
            d.unknown_tools,
            [(2, "pipp".to_string()), (2, "nope".to_string())]
        );
        let s = d.selection(1, 3, &[]);
        assert!(s.allows("apt") && !s.allows("pip"));
        // The build argument stays strict.
        assert!(parse_settings("only=pipp", 1).is_err());
    }

    #[test]
    fn ordinary_comments_are_not_dialect() {
        let text = "FROM a\n# hoarding is fine\n# hoard the cache\nRUN true\n";
        assert_eq!(scan(text, &instrs(text)).unwrap(), Dialect::default());
    }
}
