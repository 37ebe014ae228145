//! Splitting a logical line into keyword, leading `--flags` and the rest.
//!
//! The stock flag scanner works byte by byte and treats each byte as a Latin-1 character, so
//! non-ASCII text inside a flag comes out re-encoded (and bytes 0x85/0xA0 count as spaces). That
//! is reproduced here, since the flags it produces are what the stock frontend then uses.

/// Go's `reWhitespace`: `[\t\v\f\r ]`.
fn is_ascii_ws(c: char) -> bool {
    matches!(c, '\t' | '\x0b' | '\x0c' | '\r' | ' ')
}

/// Go's `reWhitespace.Split(s, n)` for `n == 2` (`limit == Some(2)`) or `n == -1` (`None`).
pub(super) fn split_ws(s: &str, limit: Option<usize>) -> Vec<&str> {
    if s.is_empty() {
        return vec![""];
    }
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        if limit.is_some_and(|n| out.len() + 1 == n) {
            out.push(rest);
            return out;
        }
        match rest.find(is_ascii_ws) {
            None => {
                out.push(rest);
                return out;
            }
            Some(i) => {
                out.push(&rest[..i]);
                rest = rest[i..].trim_start_matches(is_ascii_ws);
                if rest.is_empty() {
                    // A match at the very end still leaves an empty last piece.
                    out.push("");
                    return out;
                }
            }
        }
    }
}

/// `(keyword, flags, args)`: the keyword as written, the flags, the remaining text trimmed.
pub(super) fn split_command(line: &str, escape: char) -> (String, Vec<String>, String) {
    let parts = split_ws(line.trim(), Some(2));
    let cmd = parts[0].to_string();
    let (args, flags) = match parts.get(1) {
        Some(rest) => extract_builder_flags(rest, escape),
        None => (String::new(), Vec::new()),
    };
    (cmd, flags, args.trim().to_string())
}

/// Go's `unicode.IsSpace` of a byte taken as a rune.
fn byte_is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0x85 | 0xa0)
}

#[derive(PartialEq)]
enum Phase {
    Spaces,
    Word,
    Quote,
}

/// Leading words starting with `--`, quote- and escape-processed; `--` alone ends them.
/// Returns the rest of the line (from the first non-flag word) and the flags.
pub(super) fn extract_builder_flags(line: &str, escape: char) -> (String, Vec<String>) {
    let b = line.as_bytes();
    let n = b.len();
    let rest_from = |pos: usize| String::from_utf8_lossy(&b[pos..]).into_owned();
    let is_escape = |c: u8| c as char == escape;
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut quote = 0u8;
    let mut blank_ok = false;
    let mut pos = 0;
    while pos <= n {
        let mut ch = if pos < n { b[pos] } else { 0 };
        if phase == Phase::Spaces {
            if pos == n {
                break;
            }
            if byte_is_space(ch) {
                pos += 1;
                continue;
            }
            if ch != b'-' || pos + 1 == n || b[pos + 1] != b'-' {
                return (rest_from(pos), words);
            }
            phase = Phase::Word;
        }
        if pos == n {
            if word != "--" && (blank_ok || !word.is_empty()) {
                words.push(word);
            }
            break;
        }
        if phase == Phase::Word {
            if byte_is_space(ch) {
                phase = Phase::Spaces;
                if word == "--" {
                    return (rest_from(pos), words);
                }
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                word.clear();
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == b'\'' || ch == b'"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
                pos += 1;
                continue;
            }
            if is_escape(ch) {
                if pos + 1 == n {
                    pos += 1;
                    continue;
                }
                pos += 1;
                ch = b[pos];
            }
            word.push(ch as char);
            pos += 1;
            continue;
        }
        // Inside quotes.
        if ch == quote {
            phase = Phase::Word;
            pos += 1;
            continue;
        }
        if is_escape(ch) {
            if pos + 1 == n {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            ch = b[pos];
        }
        word.push(ch as char);
        pos += 1;
    }
    (String::new(), words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_go_regexp() {
        assert_eq!(split_ws("", None), [""]);
        assert_eq!(split_ws("a  b\tc", None), ["a", "b", "c"]);
        assert_eq!(split_ws("a b ", None), ["a", "b", ""]);
        assert_eq!(split_ws(" a", None), ["", "a"]);
        assert_eq!(split_ws("a  b c", Some(2)), ["a", "b c"]);
        assert_eq!(split_ws("a", Some(2)), ["a"]);
    }

    fn flags(line: &str) -> (String, Vec<String>) {
        extract_builder_flags(line, '\\')
    }

    #[test]
    fn flags_and_double_dash() {
        assert_eq!(
            flags("--a=1 --b x y"),
            ("x y".into(), vec!["--a=1".into(), "--b".into()])
        );
        assert_eq!(flags("--a -- --b"), (" --b".into(), vec!["--a".into()]));
        assert_eq!(flags("-- x"), (" x".into(), vec![]));
        assert_eq!(flags("--a --"), ("".into(), vec!["--a".into()]));
        assert_eq!(
            flags(r#"--m="a b" x"#),
            ("x".into(), vec!["--m=a b".into()])
        );
        assert_eq!(flags(r"--m=a\ b x"), ("x".into(), vec!["--m=a b".into()]));
        assert_eq!(flags("-x"), ("-x".into(), vec![]));
        assert_eq!(flags("--"), ("".into(), vec![]));
    }

    #[test]
    fn non_ascii_flags_are_reencoded_like_stock() {
        // 'é' is C3 A9; each byte becomes its own Latin-1 character.
        assert_eq!(flags("--x=é y").1, vec!["--x=Ã©".to_string()]);
        // 'à' is C3 A0, and 0xA0 counts as a space.
        assert_eq!(flags("--x=à y"), ("y".into(), vec!["--x=Ã".into()]));
    }

    #[test]
    fn command_split() {
        let (cmd, fl, args) = split_command("  COPY --from=a  x  y  ", '\\');
        assert_eq!(
            (cmd.as_str(), fl, args.as_str()),
            ("COPY", vec!["--from=a".to_string()], "x  y")
        );
        assert_eq!(
            split_command("", '\\'),
            (String::new(), vec![], String::new())
        );
    }
}
