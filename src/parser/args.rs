//! Per-instruction argument splitting: the stock parser's dispatch table.
//!
//! | instructions                      | form                                                     |
//! |-----------------------------------|----------------------------------------------------------|
//! | RUN, CMD, ENTRYPOINT, SHELL       | JSON array, else the whole rest as one string            |
//! | ADD, COPY, VOLUME                 | JSON array, else whitespace-separated words              |
//! | ENV, LABEL                        | `name value` or `name=value...` as (name, value, sep)    |
//! | ARG                               | shell-ish words (quotes kept)                            |
//! | FROM, EXPOSE                      | whitespace-separated words                               |
//! | HEALTHCHECK                       | type word, then like CMD                                 |
//! | ONBUILD                           | a whole nested instruction                               |
//! | MAINTAINER, WORKDIR, USER, STOPSIGNAL | the rest as one string                               |
//! | anything else                     | a single empty argument (reported later as unknown)      |

use super::command::{split_command, split_ws};
use super::json::{self, ArrayForm};
use super::node::Node;
use crate::error::Span;

/// The arguments of one instruction, before line information is attached.
#[derive(Debug, Default)]
pub(super) struct Parsed {
    pub(super) args: Vec<String>,
    pub(super) json: bool,
    pub(super) inner: Option<Box<Node>>,
}

impl Parsed {
    fn args(args: Vec<String>) -> Self {
        Parsed {
            args,
            ..Default::default()
        }
    }
}

type ArgResult = Result<Parsed, String>;

/// How deeply `ONBUILD` may nest in the parser (each level recurses). Chaining is refused by
/// instruction typing from the second level on, as in the stock frontend; this bound only keeps
/// a line of thousands of `ONBUILD`s from overflowing the stack (found by
/// `tests/fuzz_mutations.rs`).
pub(super) const MAX_ONBUILD_NESTING: usize = 100;

/// Build the node for one logical line (without span and heredocs).
pub(super) fn node_from_line(line: &str, escape: char) -> Result<Node, String> {
    node_at_depth(line, escape, 0)
}

/// [`node_from_line`] for a line `depth` `ONBUILD`s deep.
fn node_at_depth(line: &str, escape: char, depth: usize) -> Result<Node, String> {
    let (cmd, flags, rest) = split_command(line, escape);
    let keyword = cmd.to_lowercase();
    let parsed = dispatch(&keyword, &rest, escape, depth)?;
    Ok(Node {
        keyword,
        flags,
        args: parsed.args,
        json: parsed.json,
        inner: parsed.inner,
        original: line.to_string(),
        heredocs: Vec::new(),
        span: Span::default(),
        comments: Vec::new(),
    })
}

fn dispatch(keyword: &str, rest: &str, escape: char, depth: usize) -> ArgResult {
    match keyword {
        "add" | "copy" | "volume" => maybe_json_to_list(rest),
        "arg" => Ok(Parsed::args(parse_words(rest, escape))),
        "cmd" | "entrypoint" | "run" | "shell" => maybe_json(rest),
        "env" => name_val(rest, "ENV", escape),
        "label" => name_val(rest, "LABEL", escape),
        "expose" | "from" => Ok(Parsed::args(whitespace_delimited(rest))),
        "healthcheck" => health_config(rest),
        "maintainer" | "stopsignal" | "user" | "workdir" => Ok(Parsed::args(string(rest))),
        "onbuild" => sub_command(rest, escape, depth + 1),
        // Unknown instructions keep one empty argument node in the stock tree.
        _ => Ok(Parsed::args(vec![String::new()])),
    }
}

fn string(rest: &str) -> Vec<String> {
    if rest.is_empty() {
        Vec::new()
    } else {
        vec![rest.to_string()]
    }
}

fn whitespace_delimited(rest: &str) -> Vec<String> {
    if rest.is_empty() {
        return Vec::new();
    }
    split_ws(rest, None)
        .into_iter()
        .map(str::to_string)
        .collect()
}

fn maybe_json(rest: &str) -> ArgResult {
    if rest.is_empty() {
        return Ok(Parsed::default());
    }
    match json::parse_array(rest) {
        ArrayForm::Strings(args) => Ok(Parsed {
            args,
            json: true,
            inner: None,
        }),
        ArrayForm::NotStrings => Err(json::NOT_STRINGS.into()),
        ArrayForm::NotJson => Ok(Parsed::args(vec![rest.to_string()])),
    }
}

fn maybe_json_to_list(rest: &str) -> ArgResult {
    match json::parse_array(rest) {
        ArrayForm::Strings(args) => Ok(Parsed {
            args,
            json: true,
            inner: None,
        }),
        ArrayForm::NotStrings => Err(json::NOT_STRINGS.into()),
        ArrayForm::NotJson => Ok(Parsed::args(whitespace_delimited(rest))),
    }
}

fn sub_command(rest: &str, escape: char, depth: usize) -> ArgResult {
    if rest.is_empty() {
        return Ok(Parsed::default());
    }
    if depth > MAX_ONBUILD_NESTING {
        return Err(format!(
            "ONBUILD nested more than {MAX_ONBUILD_NESTING} deep (chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed)"
        ));
    }
    let inner = node_at_depth(rest, escape, depth)?;
    Ok(Parsed {
        inner: Some(Box::new(inner)),
        ..Default::default()
    })
}

/// HEALTHCHECK: a type word, then the rest like CMD. The stock code scans bytes here, so a
/// multi-byte character is cut as bytes too.
fn health_config(rest: &str) -> ArgResult {
    let b = rest.as_bytes();
    let is_space = |c: u8| matches!(c, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0x85 | 0xa0);
    let sep = b.iter().position(|&c| is_space(c)).unwrap_or(b.len());
    if sep == 0 {
        return Ok(Parsed::default());
    }
    let next = b[sep..]
        .iter()
        .position(|&c| !is_space(c))
        .map_or(b.len(), |i| sep + i);
    let typ = String::from_utf8_lossy(&b[..sep]).into_owned();
    let cmd = maybe_json(&String::from_utf8_lossy(&b[next..]))?;
    let mut args = vec![typ];
    args.extend(cmd.args);
    Ok(Parsed {
        args,
        json: cmd.json,
        inner: None,
    })
}

/// ENV and LABEL. `KEY name value` (old form, detected by the first word having no `=`) gives
/// `(name, value, "")`; `KEY a=b c=d` gives `(a, b, "=")` per word. Quotes and escapes stay in.
fn name_val(rest: &str, key: &str, escape: char) -> ArgResult {
    let words = parse_words(rest, escape);
    if words.is_empty() {
        return Ok(Parsed::default());
    }
    if !words[0].contains('=') {
        let parts = split_ws(rest, Some(2));
        if parts.len() < 2 {
            return Err(format!("{key} must have two arguments"));
        }
        return Ok(Parsed::args(vec![
            parts[0].into(),
            parts[1].into(),
            String::new(),
        ]));
    }
    let mut args = Vec::with_capacity(words.len() * 3);
    for word in words {
        let Some((name, value)) = word.split_once('=') else {
            return Err(format!(
                "Syntax error - can't find = in {}. Must be of the form: name=value",
                super::dump::go_quote(&word)
            ));
        };
        args.extend([name.to_string(), value.to_string(), "=".to_string()]);
    }
    Ok(Parsed::args(args))
}

#[derive(PartialEq)]
enum Phase {
    Spaces,
    Word,
    Quote,
}

/// Words separated by whitespace, where quotes group and the escape character protects the next
/// character; quotes and escapes are kept in the words (they are removed at expansion time).
pub(super) fn parse_words(rest: &str, escape: char) -> Vec<String> {
    let chars: Vec<char> = rest.chars().collect();
    let n = chars.len();
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut word = String::new();
    let mut pos = 0;
    while pos <= n {
        let mut ch = if pos < n { chars[pos] } else { '\0' };
        if phase == Phase::Spaces {
            if pos == n {
                break;
            }
            if ch.is_whitespace() {
                pos += 1;
                continue;
            }
            phase = Phase::Word;
        }
        if pos == n {
            if blank_ok || !word.is_empty() {
                words.push(word);
            }
            break;
        }
        if phase == Phase::Word {
            if ch.is_whitespace() {
                phase = Phase::Spaces;
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
            }
            if ch == escape {
                if pos + 1 == n {
                    pos += 1;
                    continue;
                }
                word.push(ch);
                pos += 1;
                ch = chars[pos];
            }
            word.push(ch);
            pos += 1;
            continue;
        }
        // Inside quotes: the escape character works except inside single quotes.
        if ch == quote {
            phase = Phase::Word;
        }
        if ch == escape && quote != '\'' {
            if pos + 1 == n {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            word.push(ch);
            ch = chars[pos];
        }
        word.push(ch);
        pos += 1;
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_quotes() {
        assert_eq!(
            parse_words("foo bar 'abc xyz'", '\\'),
            ["foo", "bar", "'abc xyz'"]
        );
        assert_eq!(parse_words(r"foo\ bar", '\\'), [r"foo\ bar"]);
        assert_eq!(
            parse_words(r#"föo bàr "âbc xÿz""#, '\\'),
            ["föo", "bàr", "\"âbc xÿz\""]
        );
        assert_eq!(parse_words("a ''", '\\'), ["a", "''"]);
        assert_eq!(parse_words("a\\", '\\'), ["a"]);
    }

    fn node(line: &str) -> Node {
        node_from_line(line, '\\').unwrap()
    }

    #[test]
    fn dispatch_forms() {
        assert_eq!(node("RUN [\"a\", \"b\"]").args, ["a", "b"]);
        assert!(node("RUN [\"a\"]").json);
        assert_eq!(node("RUN [\"a\" b").args, ["[\"a\" b"]);
        assert_eq!(node("COPY a  b").args, ["a", "b"]);
        assert_eq!(node("ENV a b c").args, ["a", "b c", ""]);
        assert_eq!(
            node("ENV a=b c=\"d e\"").args,
            ["a", "b", "=", "c", "\"d e\"", "="]
        );
        assert_eq!(node("ARG a=1 b").args, ["a=1", "b"]);
        assert_eq!(
            node("HEALTHCHECK --interval=1s CMD [\"x\"]").args,
            ["CMD", "x"]
        );
        assert_eq!(node("USER  a b ").args, ["a b"]);
        assert_eq!(node("FOO bar").args, [""]);
        assert!(node("ENV").args.is_empty());
        let on = node("ONBUILD COPY --from=x a b");
        let inner = on.inner.unwrap();
        assert_eq!(
            (
                inner.keyword.as_str(),
                inner.flags.clone(),
                inner.args.clone()
            ),
            (
                "copy",
                vec!["--from=x".to_string()],
                vec!["a".to_string(), "b".to_string()]
            )
        );
    }

    #[test]
    fn dispatch_errors() {
        assert_eq!(
            node_from_line("ENV a", '\\').unwrap_err(),
            "ENV must have two arguments"
        );
        assert_eq!(
            node_from_line("LABEL a=b c", '\\').unwrap_err(),
            "Syntax error - can't find = in \"c\". Must be of the form: name=value"
        );
        assert_eq!(
            node_from_line("CMD [1]", '\\').unwrap_err(),
            json::NOT_STRINGS
        );
        assert_eq!(
            node_from_line("ONBUILD RUN [[]]", '\\').unwrap_err(),
            json::NOT_STRINGS
        );
    }

    #[test]
    fn onbuild_nesting_is_bounded_not_a_stack_overflow() {
        let chain = |n: usize| format!("{}RUN x", "ONBUILD ".repeat(n));
        let mut node = node_from_line(&chain(MAX_ONBUILD_NESTING), '\\').unwrap();
        for _ in 0..MAX_ONBUILD_NESTING {
            node = *node.inner.unwrap();
        }
        assert_eq!(node.keyword, "run");
        for n in [MAX_ONBUILD_NESTING + 1, 5000] {
            let e = node_from_line(&chain(n), '\\').unwrap_err();
            assert!(e.contains("ONBUILD nested more than"), "{e}");
        }
    }
}
