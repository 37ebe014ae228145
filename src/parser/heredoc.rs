//! Heredoc markers (`<<EOF`, `<<-EOF`, `<<'EOF'`, `3<<"EOF"`) and their bodies.
//!
//! Only RUN, COPY and ADD in shell form (also as an ONBUILD trigger) take heredocs. The line is
//! split into shell words with quotes and escapes kept; each word of the form
//! `[digits]<<[-][spaces]word-without-<` is a marker. The delimiter is the marker's word with
//! quotes removed; any quoting turns variable expansion off. Bodies follow the instruction in
//! marker order, each ending at a line equal to its delimiter (leading tabs ignored for `<<-`).

use nom::bytes::complete::{tag, take_while};
use nom::character::complete::{char as chr, digit0};
use nom::combinator::{all_consuming, opt};
use nom::{IResult, Parser};

use super::node::Heredoc;
use super::shlex::Lexer;

/// The parts of a marker word: (fd digits, chomp, delimiter word as written).
fn marker(input: &str) -> IResult<&str, (&str, bool, &str)> {
    let (rest, (fd, _, dash, _)) = (
        digit0,
        tag("<<"),
        opt(chr('-')),
        take_while(|c| matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ')),
    )
        .parse(input)?;
    let (rest, word) = all_consuming(take_while(|c| c != '<')).parse(rest)?;
    Ok((rest, (fd, dash.is_some(), word)))
}

/// Read one word as a heredoc marker. `Ok(None)` when it is not one.
pub fn parse_marker(word: &str) -> Result<Option<Heredoc>, String> {
    let Ok((_, (_fd, chomp, rest))) = marker(word) else {
        return Ok(None);
    };
    if rest.is_empty() {
        return Ok(None);
    }
    let cooked = Lexer {
        raw_quotes: false,
        raw_escapes: false,
    }
    .words(rest)?;
    if cooked.len() != 1 {
        return Ok(None);
    }
    let raw = Lexer {
        raw_quotes: true,
        raw_escapes: false,
    }
    .words(rest)?;
    if raw.len() != cooked.len() {
        return Err(format!(
            "internal lexing of heredoc produced inconsistent results: {rest}"
        ));
    }
    let quotes = |s: &str| s.chars().filter(|&c| c == '\'' || c == '"').count();
    let name = cooked.into_iter().next().unwrap_or_default();
    let expand = quotes(&name) == quotes(&raw[0]);
    Ok(Some(Heredoc {
        name,
        content: String::new(),
        expand,
        chomp,
    }))
}

/// All heredoc markers on an instruction line, in order.
pub(super) fn markers_in_line(line: &str) -> Result<Vec<Heredoc>, String> {
    // A line the shell lexer cannot split has no heredocs at all, as in the stock parser;
    // one nested too deeply for hoard's lexer is an error (the stock lexer would split it).
    let words = match (Lexer {
        raw_quotes: true,
        raw_escapes: true,
    })
    .words(line)
    {
        Ok(words) => words,
        Err(e) if e.ends_with(super::shlex::TOO_DEEP) => return Err(e),
        Err(_) => Vec::new(),
    };
    let mut docs = Vec::new();
    for word in words {
        if let Some(doc) = parse_marker(&word)? {
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// Strip leading tabs from every line (`<<-`).
pub fn chomp(content: &str) -> String {
    content
        .split_inclusive('\n')
        .map(|l| l.trim_start_matches('\t'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(src: &str) -> Option<String> {
        parse_marker(src).unwrap().map(|h| h.name)
    }

    #[test]
    fn valid_markers() {
        for src in [
            "<<EOF",
            "<<'EOF'",
            "<<\"EOF\"",
            "<<-EOF",
            "<<-'EOF'",
            "<<-\"EOF\"",
            "<<EO\"F\"",
            "<< EOF",
            "<<- EOF",
            "3<<EOF",
        ] {
            assert_eq!(name(src).as_deref(), Some("EOF"), "{src}");
        }
    }

    #[test]
    fn not_markers() {
        for src in [
            "", "EOF", "<<", "<<-", "<EOF", "<<<EOF", "<<EOF sh", "x<<EOF",
        ] {
            assert_eq!(name(src), None, "{src}");
        }
    }

    #[test]
    fn broken_markers() {
        for src in ["<<'EOF", "<<\"EOF", "<<EOF'", "<<EOF\""] {
            assert!(parse_marker(src).is_err(), "{src}");
        }
    }

    #[test]
    fn expansion_and_chomp_flags() {
        let h = parse_marker("<<-'EOF'").unwrap().unwrap();
        assert!(h.chomp && !h.expand);
        let h = parse_marker(r"<<eo\'f").unwrap().unwrap();
        assert_eq!((h.name.as_str(), h.expand), ("eo'f", true));
        let h = parse_marker(r"<<'e'o\'f").unwrap().unwrap();
        assert_eq!((h.name.as_str(), h.expand), ("eo'f", false));
        let h = parse_marker("<<$EOF").unwrap().unwrap();
        assert_eq!((h.name.as_str(), h.expand), ("$EOF", true));
    }

    #[test]
    fn markers_on_a_line() {
        let names = |l: &str| {
            markers_in_line(l)
                .unwrap()
                .into_iter()
                .map(|h| h.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names("COPY <<FILE1 <<FILE2 /dest"), ["FILE1", "FILE2"]);
        assert_eq!(names("RUN \"<<NOHEREDOC\""), Vec::<String>::new());
        assert_eq!(names("RUN <<  EOF  > foo"), ["EOF"]);
        assert_eq!(names("RUN <<'one two'"), ["one two"]);
        assert_eq!(names("RUN <<EOF it's"), Vec::<String>::new());
        // No space needed before a redirection: the whole rest is the delimiter.
        assert_eq!(names("RUN cat <<EOF>out"), ["EOF>out"]);
    }

    #[test]
    fn chomping() {
        assert_eq!(chomp("\thello\n\t\tworld\n x\t\n"), "hello\nworld\n x\t\n");
    }
}
