//! Stage 1: Dockerfile text to a list of [`Node`]s, the way the stock parser splits it.
//!
//! Handles parser directives (`# syntax`, `# escape`, `# check`), comments, line continuations,
//! heredocs and each instruction's argument form (JSON array, name/value pairs, plain words),
//! recording for every node the 1-based lines it spans.
//!
//! One concept per file:
//! * [`lines`]: physical lines, comments, the continuation marker;
//! * [`directives`]: `# key=value` directives and syntax detection;
//! * [`command`]: keyword / `--flags` / rest splitting;
//! * [`args`]: the per-instruction argument forms (the stock dispatch table);
//! * [`json`]: exec-form JSON, judged like Go's `encoding/json`;
//! * [`heredoc`] and [`shlex`]: heredoc markers and the shell word-splitting they rely on;
//! * [`node`] and [`dump`]: the output types and the stock `Dump()` text.
//!
//! Unknown instructions are not an error here (the stock parser reports them later); they come
//! out with a single empty argument, as in the stock tree.

mod args;
mod command;
mod directives;
mod dump;
mod heredoc;
mod json;
mod lines;
mod node;
mod shlex;

mod encoding;
pub use directives::{detect_syntax, find_hash_directive, SyntaxDirective};
pub use dump::go_quote;
pub use encoding::check_utf8;
pub use heredoc::{chomp as chomp_heredoc, parse_marker as parse_heredoc_marker};
pub use node::{doc_comment, Directives, Dockerfile, Heredoc, Node};

use crate::error::{Error, Result, Span, Warning};
use directives::{escape_token, DirectiveParser, KEY_CHECK, KEY_ESCAPE};
use lines::{
    is_comment, is_empty_continuation_line, trim_continuation, trim_newline, PhysicalLines,
};

/// Rule name of the warning for whitespace-only lines inside a continued instruction.
pub const RULE_EMPTY_CONTINUATION: &str = crate::lint::rules::NO_EMPTY_CONTINUATION.name;

/// Parse a whole Dockerfile.
pub fn parse(text: &str) -> Result<Dockerfile> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser {
        lines: PhysicalLines::new(text),
        current: 0,
        escape: '\\',
        directives: DirectiveParser::new("#", 0),
        nodes: Vec::new(),
        warnings: Vec::new(),
        comments: Vec::new(),
        was_directive: false,
    };
    parser.run()?;
    let directives = Directives {
        syntax: detect_syntax(text).map(|d| d.cmdline),
        escape: parser.escape,
        check: find_hash_directive(KEY_CHECK, text).map(|d| d.cmdline),
    };
    Ok(Dockerfile {
        directives,
        nodes: parser.nodes,
        warnings: parser.warnings,
    })
}

struct Parser<'a> {
    lines: PhysicalLines<'a>,
    /// Number of physical lines consumed so far (= 1-based number of the last one).
    current: usize,
    escape: char,
    directives: DirectiveParser,
    nodes: Vec<Node>,
    warnings: Vec<Warning>,
    /// Comments since the last instruction (see [`Node::comments`]).
    comments: Vec<String>,
    /// The line `process_line` saw last was a parser directive.
    was_directive: bool,
}

impl<'a> Parser<'a> {
    fn run(&mut self) -> Result<()> {
        while let Some(raw) = self.lines.next() {
            if is_comment(raw) {
                let comment = raw
                    .trim_start_matches('\u{feff}')
                    .get(1..)
                    .unwrap_or("")
                    .trim();
                if comment.is_empty() {
                    self.comments.clear();
                } else {
                    self.comments.push(comment.to_string());
                }
            }
            let first = self.process_line(raw, true)?;
            if self.was_directive {
                self.comments.pop();
            }
            self.current += 1;
            let start = self.current;
            let (first, mut end_of_line) = trim_continuation(first, self.escape);
            if end_of_line && first.is_empty() {
                continue;
            }
            let mut line = first.to_string();
            let mut empty_continuation = false;
            while !end_of_line {
                let Some(raw) = self.lines.next() else { break };
                let part = self.process_line(raw, false)?;
                self.current += 1;
                if is_comment(raw) {
                    continue;
                }
                if is_empty_continuation_line(part) {
                    empty_continuation = true;
                    continue;
                }
                let (part, eol) = trim_continuation(part, self.escape);
                end_of_line = eol;
                line.push_str(part);
            }
            if empty_continuation {
                self.warnings.push(
                    crate::lint::rules::NO_EMPTY_CONTINUATION
                        .warn(Span::line(self.current), "Empty continuation line"),
                );
            }
            let mut node = self.instruction(&line, start)?;
            node.comments = std::mem::take(&mut self.comments);
            self.nodes.push(node);
        }
        if self.nodes.is_empty() {
            return Err(Error::at(
                Span::line(self.current.max(1)),
                "file with no instructions",
            ));
        }
        if self.lines.too_long {
            // Located, as in the stock parser, at the last line read before the long one; at
            // the long line itself when it is the first (the stock error has no line then).
            let message = format!(
                "dockerfile line greater than max allowed size of {}",
                lines::MAX_TOKEN - 1
            );
            return Err(Error::at(Span::line(self.current.max(1)), message));
        }
        Ok(())
    }

    /// Trim the line ending (and leading space for a first line), let the directive parser see
    /// it, and blank it out if it is a comment.
    fn process_line<'l>(&mut self, raw: &'l str, strip_left: bool) -> Result<&'l str> {
        let mut token = trim_newline(raw);
        if strip_left {
            token = token.trim_start();
        }
        let here = Span::line(self.current + 1);
        let directive = self
            .directives
            .parse_line(token)
            .map_err(|e| Error::at(here, e))?;
        self.was_directive = directive.is_some();
        if let Some(d) = directive {
            if d.name == KEY_ESCAPE {
                self.escape = escape_token(&d.value).map_err(|e| Error::at(here, e))?;
            }
        }
        Ok(if is_comment(token) { "" } else { token })
    }

    /// Turn a logical line into a node, reading its heredoc bodies.
    fn instruction(&mut self, line: &str, start: usize) -> Result<Node> {
        let mut node = args::node_from_line(line, self.escape)
            .map_err(|e| Error::at(Span::new(start, self.current), e))?;
        if can_contain_heredoc(&node) && line.contains("<<") {
            let docs = heredoc::markers_in_line(line)
                .map_err(|e| Error::at(Span::new(start, self.current), e))?;
            for mut doc in docs {
                let mut content = String::new();
                let mut terminated = false;
                for raw in self.lines.by_ref() {
                    self.current += 1;
                    let mut candidate = trim_newline(raw);
                    if doc.chomp {
                        candidate = candidate.trim_start_matches('\t');
                    }
                    if candidate == doc.name {
                        terminated = true;
                        break;
                    }
                    content.push_str(raw);
                }
                if !terminated {
                    return Err(Error::at(
                        Span::new(start, self.current),
                        "unterminated heredoc",
                    ));
                }
                // Kept raw, as the stock parser keeps it: history records the body as written,
                // and the consumers chomp `<<-` bodies where they use them.
                doc.content = content;
                node.heredocs.push(doc);
            }
        }
        let span = Span::new(start, self.current);
        let heredocs = node.heredocs.clone();
        set_span(&mut node, span);
        if let Some(inner) = node.inner.as_deref_mut() {
            inner.heredocs = heredocs;
        }
        Ok(node)
    }
}

fn set_span(node: &mut Node, span: Span) {
    node.span = span;
    if let Some(inner) = node.inner.as_deref_mut() {
        set_span(inner, span);
    }
}

/// RUN, COPY and ADD in shell form take heredocs, also as the trigger of an ONBUILD.
fn can_contain_heredoc(node: &Node) -> bool {
    let node = match (&node.keyword[..], &node.inner) {
        ("onbuild", Some(inner)) => inner,
        _ => node,
    };
    matches!(&node.keyword[..], "add" | "copy" | "run") && !node.json
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(text: &str) -> String {
        parse(text).unwrap().dump()
    }

    fn spans(text: &str) -> Vec<(usize, usize)> {
        parse(text)
            .unwrap()
            .nodes
            .iter()
            .map(|n| (n.span.start, n.span.end))
            .collect()
    }

    #[test]
    fn directives_at_the_top() {
        let df = parse("# syntax=hoard:dev\n# ESCAPE=`\n# check=skip=all\nFROM a\nRUN x `\n  y\n")
            .unwrap();
        assert_eq!(df.directives.syntax.as_deref(), Some("hoard:dev"));
        assert_eq!(df.directives.check.as_deref(), Some("skip=all"));
        assert_eq!(df.directives.escape, '`');
        assert_eq!(df.dump(), "(from \"a\")\n(run \"x   y\")\n");
    }

    #[test]
    fn directives_after_other_lines_are_comments() {
        for text in [
            "FROM a\n# escape=`\nRUN x `\n",
            "# hi\n# escape=`\nFROM a\n",
            "\n# escape=`\nFROM a\n",
        ] {
            assert_eq!(parse(text).unwrap().directives.escape, '\\', "{text:?}");
        }
        assert_eq!(
            parse("  # escape=`\nFROM a\n").unwrap().directives.escape,
            '`'
        );
    }

    #[test]
    fn directive_errors() {
        let e = parse("# escape=x\nFROM a\n").unwrap_err();
        assert!(e.message.contains("invalid escape token 'x'"), "{e:?}");
        assert_eq!(e.span, Some(Span::line(1)));
        let e = parse("# syntax=a\n# syntax=b\nFROM a\n").unwrap_err();
        assert_eq!(e.message, "only one syntax parser directive can be used");
        assert_eq!(e.span, Some(Span::line(2)));
    }

    #[test]
    fn continuations_and_comments() {
        let text = "FROM a\nRUN a \\\n# comment\n  b \\\n\n   \n  c\nRUN d\n";
        let df = parse(text).unwrap();
        assert_eq!(
            df.dump(),
            "(from \"a\")\n(run \"a   b   c\")\n(run \"d\")\n"
        );
        assert_eq!(spans(text), [(1, 1), (2, 7), (8, 8)]);
        assert_eq!(df.warnings.len(), 1);
        assert_eq!(df.warnings[0].rule, RULE_EMPTY_CONTINUATION);
        assert_eq!(df.warnings[0].span, Some(Span::line(7)));
        assert_eq!(df.nodes[1].original, "RUN a   b   c");
    }

    #[test]
    fn continuation_at_eof_and_lone_marker() {
        assert_eq!(dump("FROM a\nRUN b \\"), "(from \"a\")\n(run \"b\")\n");
        assert_eq!(spans("FROM a\n\\\nRUN b\n"), [(1, 1), (2, 3)]);
        // An escaped escape character is not a continuation.
        assert_eq!(
            dump("FROM a\nRUN b \\\\\nRUN c\n"),
            "(from \"a\")\n(run \"b \\\\\\\\\")\n(run \"c\")\n"
        );
    }

    #[test]
    fn crlf_and_bom() {
        let df = parse("\u{feff}# escape=`\r\nFROM a\r\nRUN b `\r\n c\r\n").unwrap();
        assert_eq!(df.directives.escape, '`');
        assert_eq!(df.dump(), "(from \"a\")\n(run \"b  c\")\n");
    }

    #[test]
    fn heredocs_and_spans() {
        let text = "FROM a\nRUN <<EOF\necho hi\nEOF\nCOPY <<A <<-B /dst\na\nA\n\tb\n\tB\nRUN x\n";
        let df = parse(text).unwrap();
        assert_eq!(spans(text), [(1, 1), (2, 4), (5, 9), (10, 10)]);
        let h = &df.nodes[1].heredocs;
        assert_eq!(
            h,
            &[Heredoc {
                name: "EOF".into(),
                content: "echo hi\n".into(),
                expand: true,
                chomp: false
            }]
        );
        let h = &df.nodes[2].heredocs;
        assert_eq!(h[0].content, "a\n");
        assert_eq!(
            (h[1].name.as_str(), h[1].content.as_str(), h[1].chomp),
            ("B", "\tb\n", true),
            "kept raw"
        );
        assert_eq!(df.nodes[2].original, "COPY <<A <<-B /dst");
        assert_eq!(df.nodes[2].args, ["<<A", "<<-B", "/dst"]);
    }

    #[test]
    fn heredoc_only_where_allowed() {
        let text = "FROM a\nUSER <<X\nX\nRUN [\"<<EOF\"]\nENV a=b\n";
        let df = parse(text).unwrap();
        assert!(df.nodes.iter().all(|n| n.heredocs.is_empty()));
        assert_eq!(df.nodes.len(), 5);
    }

    #[test]
    fn onbuild_heredoc() {
        let df = parse("FROM a\nONBUILD RUN <<-'E'\n\t$x\n\tE\n").unwrap();
        let n = &df.nodes[1];
        assert_eq!(n.dump(), "(onbuild (run \"<<-'E'\"))");
        assert_eq!(n.heredocs[0].content, "\t$x\n");
        assert!(!n.heredocs[0].expand);
        assert_eq!(n.inner.as_ref().unwrap().heredocs, n.heredocs);
        assert_eq!(n.inner.as_ref().unwrap().span, Span::new(2, 4));
    }

    #[test]
    fn heredoc_crlf_terminator() {
        let df = parse("FROM a\r\nRUN <<EOF\r\nx\r\nEOF\r\n").unwrap();
        assert_eq!(df.nodes[1].heredocs[0].content, "x\r\n");
    }

    #[test]
    fn errors_name_lines() {
        let e = parse("FROM a\nRUN <<EOF\nx\n").unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.span),
            ("unterminated heredoc", Some(Span::new(2, 3)))
        );
        let e = parse("FROM a\nENV x \\\n\n").unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.span),
            ("ENV must have two arguments", Some(Span::new(2, 3)))
        );
        let e = parse("").unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.span),
            ("file with no instructions", Some(Span::line(1)))
        );
        let e = parse("# only\n\n# comments\n").unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.span),
            ("file with no instructions", Some(Span::line(3)))
        );
        let e = parse("FROM a\nCMD [\"a\", [\"b\"]]\n").unwrap_err();
        assert_eq!(e.span, Some(Span::line(2)));
        // A line the shell lexer cannot split has no heredocs (stock behaviour).
        assert_eq!(parse("FROM a\nRUN <<'EOF\"\nEOF\n").unwrap().nodes.len(), 3);
    }

    #[test]
    fn unknown_instruction_is_not_a_parse_error() {
        assert_eq!(dump("FROM a\nFOO bar\n"), "(from \"a\")\n(foo \"\")\n");
    }

    #[test]
    fn oversized_line() {
        let text = format!("FROM a\nRUN {}\n", "x".repeat(70000));
        let e = parse(&text).unwrap_err();
        assert_eq!(
            e.message,
            "dockerfile line greater than max allowed size of 65535"
        );
    }
}

#[cfg(test)]
mod stock_behaviour_tests {
    use super::*;

    #[test]
    fn spans_skip_blank_lines_and_comments() {
        let text = "# ESCAPE=\\\n\n\n\nFROM a\n\n\n# note\n\n\nENV P \\\n/go\n\n\n\n# clean up\nRUN a \\\n\t&& b \\\n\n\n    && c \\\n\n\t&& d\n\n\n";
        let df = parse(text).unwrap();
        let spans: Vec<_> = df
            .nodes
            .iter()
            .map(|n| (n.span.start, n.span.end))
            .collect();
        assert_eq!(spans, [(5, 5), (11, 12), (17, 23)]);
        assert_eq!(df.nodes[1].args, ["P", "/go", ""]);
        assert_eq!(df.nodes[2].args, ["a \t&& b     && c \t&& d"]);
    }

    #[test]
    fn warnings_for_empty_continuation_lines_only() {
        let text = "FROM a\nRUN valid \\\n    continuation\nRUN something \\\n\n    following \\\n\n    more\nRUN another \\\n\n    thing\nRUN x \\\n# comment\n   after\nRUN y \\\n    # indented comment\n    z\n";
        let df = parse(text).unwrap();
        let msgs: Vec<_> = df.warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(msgs, ["Empty continuation line", "Empty continuation line"]);
        assert_eq!(df.nodes[4].args, ["x    after"]);
        assert_eq!(df.nodes[5].args, ["y     z"]);
    }

    #[test]
    fn scanner_limit_is_an_error() {
        let text = format!(
            "\n\t\tFROM image\n\t\tLABEL test={}\n",
            "a".repeat(lines::MAX_TOKEN)
        );
        let e = parse(&text).unwrap_err();
        assert_eq!(
            e.message,
            "dockerfile line greater than max allowed size of 65535"
        );
        // The stock parser points at the last line it read (2), not at the long one.
        assert_eq!(e.span, Some(Span::line(2)));
        // A long first line is line 1 (the stock error has no line there).
        let e = parse(&"a".repeat(lines::MAX_TOKEN)).unwrap_err();
        assert_eq!(e.span, Some(Span::line(1)));
    }

    #[test]
    fn empty_instruction_from_lone_continuation() {
        // A lone continuation marker at EOF leaves an empty instruction, as in the stock tree.
        let df = parse("FROM a\n\\\n").unwrap();
        assert_eq!(df.dump(), "(from \"a\")\n(\"\")\n");
    }
}
