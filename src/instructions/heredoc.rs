//! Recognising heredoc markers (`<<EOF`, `<<-"EOF"`) in instruction words, like the stock
//! `parser.ParseHeredoc` / `MustParseHeredoc`, and chomping their bodies.

use crate::expand::{Lexer, NoEnv};

/// A heredoc marker found in a word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeredocMarker {
    /// The delimiter with quotes removed.
    pub name: String,
    /// False when any part of the delimiter was quoted: the body is not expanded.
    pub expand: bool,
    /// True for `<<-`: leading tabs are stripped from the body.
    pub chomp: bool,
    /// The file descriptor digits before `<<` (`3<<EOF`), 0 when absent.
    pub fd: u32,
}

/// If `word` is a heredoc marker (the whole word matches `^(\d*)<<(-?)\s*([^<]*)$` and the rest
/// is a single shell word), return it. This is what decides whether a `RUN` command line or a
/// `COPY` source is a heredoc.
pub fn parse_heredoc_marker(word: &str) -> Option<HeredocMarker> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    let rest = word[digits..].strip_prefix("<<")?;
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let rest = rest.trim_start_matches(['\t', '\n', '\x0c', '\r', ' ']);
    if rest.contains('<') || rest.is_empty() {
        return None;
    }
    let fd = if digits == 0 {
        0
    } else {
        word[..digits].parse().unwrap_or(u32::MAX)
    };
    let mut lex = Lexer::new('\\');
    lex.skip_unset_env = true;
    let words = lex.process_words(rest, &NoEnv).ok()?;
    if words.len() != 1 {
        return None;
    }
    lex.raw_quotes = true;
    let raw = lex.process_words(rest, &NoEnv).ok()?;
    if raw.len() != 1 {
        return None;
    }
    let quotes = |s: &str| s.chars().filter(|&c| c == '\'' || c == '"').count();
    let expand = quotes(&words[0]) == quotes(&raw[0]);
    Some(HeredocMarker {
        name: words[0].clone(),
        expand,
        chomp,
        fd,
    })
}

/// Remove leading tabs from every line (`<<-`), like `ChompHeredocContent`.
pub fn chomp_heredoc_content(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    for (i, line) in src.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(line.trim_start_matches('\t'));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        let m = parse_heredoc_marker("<<EOF").unwrap();
        assert_eq!(
            (m.name.as_str(), m.expand, m.chomp, m.fd),
            ("EOF", true, false, 0)
        );
        let m = parse_heredoc_marker("<<-EOT").unwrap();
        assert_eq!((m.name.as_str(), m.chomp), ("EOT", true));
        let m = parse_heredoc_marker("<<'EOF'").unwrap();
        assert_eq!((m.name.as_str(), m.expand), ("EOF", false));
        let m = parse_heredoc_marker("<<\"E\"OF").unwrap();
        assert_eq!((m.name.as_str(), m.expand), ("EOF", false));
        assert_eq!(parse_heredoc_marker("3<<file").unwrap().fd, 3);
        assert_eq!(parse_heredoc_marker("<< EOF").unwrap().name, "EOF");
        assert_eq!(parse_heredoc_marker("<<"), None);
        assert_eq!(parse_heredoc_marker("<<a b"), None);
        assert_eq!(parse_heredoc_marker("x<<EOF"), None);
        assert_eq!(parse_heredoc_marker("<<EOF<"), None);
        assert_eq!(parse_heredoc_marker("file.txt"), None);
        assert_eq!(parse_heredoc_marker("cat <<EOF"), None);
    }

    #[test]
    fn chomp() {
        assert_eq!(chomp_heredoc_content("\t\ta\n\tb\n c\n"), "a\nb\n c\n");
    }
}
