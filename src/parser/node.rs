//! The parser's output types.

use crate::error::{Span, Warning};

/// The parser directives found at the top of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directives {
    /// `# syntax=` value, if any.
    pub syntax: Option<String>,
    /// The escape character: `\` unless `# escape=` says otherwise.
    pub escape: char,
    /// `# check=` value, if any.
    pub check: Option<String>,
}

impl Default for Directives {
    fn default() -> Self {
        Directives {
            syntax: None,
            escape: '\\',
            check: None,
        }
    }
}

/// A heredoc attached to an instruction (`RUN <<EOF`, `COPY <<EOF /dst`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter word, without quotes or `-`.
    pub name: String,
    /// The body as written, lines ending in `\n`. Leading tabs of a `<<-` body are NOT stripped
    /// here (history keeps them, as in the stock frontend); consumers chomp where they use it.
    pub content: String,
    /// False when the delimiter was quoted (`<<'EOF'`, `<<"EOF"`): no variable expansion.
    pub expand: bool,
    /// True for `<<-`.
    pub chomp: bool,
}

/// One instruction as the stock parser sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The instruction keyword, lower-cased (`from`, `run`, ...).
    pub keyword: String,
    /// Leading `--name[=value]` flags, as written.
    pub flags: Vec<String>,
    /// The arguments, split the way the stock parser splits this instruction: the array elements
    /// for JSON form, name/value(/"=") triples for ENV and LABEL, words for FROM, the whole rest
    /// of the line as one string for shell-form RUN/CMD/ENTRYPOINT, and so on.
    pub args: Vec<String>,
    /// True when the arguments were written as a JSON array.
    pub json: bool,
    /// For `ONBUILD` (and only it): the wrapped instruction.
    pub inner: Option<Box<Node>>,
    /// The logical line as written (continuations joined), without heredoc bodies.
    pub original: String,
    /// Heredoc bodies, in the order of their `<<` markers.
    pub heredocs: Vec<Heredoc>,
    /// Lines spanned, including continuation lines and heredoc bodies.
    pub span: Span,
    /// The comment lines since the previous instruction (stock `PrevComment`): each trimmed,
    /// without its `#`; an empty `#` line starts over; parser directives are not comments.
    /// Stage and ARG descriptions (`--call outline`, `targets`) and the
    /// `InvalidDefinitionDescription` check read them.
    pub comments: Vec<String>,
}

/// The doc comment for `name` among an instruction's comments: the text after `name ` in the
/// first comment line starting so (stock `getDocComment`), or empty.
pub fn doc_comment(comments: &[String], name: &str) -> String {
    if name.is_empty() {
        return String::new();
    }
    let prefix = format!("{name} ");
    comments
        .iter()
        .find_map(|c| c.strip_prefix(&prefix).map(str::to_string))
        .unwrap_or_default()
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dockerfile {
    pub directives: Directives,
    pub nodes: Vec<Node>,
    /// Non-fatal findings, e.g. empty continuation lines.
    pub warnings: Vec<Warning>,
}
