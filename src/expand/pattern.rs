//! Shell wildcard patterns for `${v#pat}`, `${v%pat}` and `${v/pat/repl}`.
//!
//! The stock lexer turns a pattern into a Go regular expression (`*` is `.*` or `.*?`, `?` is
//! `.`, everything else literal, `\*`, `\?`, `\\` escaped) and matches it with leftmost-first
//! semantics. This module matches the same token list directly with a memoised backtracking
//! matcher, which gives the same leftmost-first answer as RE2 for this tiny language. As in Go,
//! `.` (and so `*`) does not match a newline.

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Any,
    /// `*`: `true` for greedy (`.*`), `false` for lazy (`.*?`).
    Star(bool),
}

/// A compiled shell pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    toks: Vec<Tok>,
    anchored: bool,
}

impl Pattern {
    /// Compile `pattern` the way `convertShellPatternToRegex` does. The error message is the
    /// part after `invalid pattern (...) in substitution: `.
    pub(crate) fn compile(pattern: &str, greedy: bool, anchored: bool) -> Result<Pattern, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut toks = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            match c {
                '*' => toks.push(Tok::Star(greedy)),
                '?' => toks.push(Tok::Any),
                '\\' => {
                    // `\}` and `\/` are escapes of the `${}` syntax, not of the pattern.
                    if matches!(chars.get(i), Some('}') | Some('/')) {
                        continue;
                    }
                    match chars.get(i) {
                        Some(&n @ ('*' | '?' | '\\')) => {
                            i += 1;
                            toks.push(Tok::Lit(n));
                        }
                        Some(&n) => return Err(format!("invalid escape '\\{n}'")),
                        None => return Err("invalid escape '\\\u{FFFD}'".to_string()),
                    }
                }
                _ => toks.push(Tok::Lit(c)),
            }
        }
        Ok(Pattern { toks, anchored })
    }

    /// The leftmost match in `text` starting the search at `from`: `(start, end)` in chars.
    pub(crate) fn find_at(&self, text: &[char], from: usize) -> Option<(usize, usize)> {
        let width = text.len() + 1;
        // failed[ti * width + pos]: token ti cannot match starting at pos. Independent of the
        // start position, so shared by all attempts.
        let mut failed = vec![false; (self.toks.len() + 1) * width];
        let last = if self.anchored {
            from.min(text.len())
        } else {
            text.len()
        };
        if self.anchored && from != 0 {
            return None;
        }
        for start in from..=last {
            if let Some(end) = self.match_at(0, text, start, &mut failed, width) {
                return Some((start, end));
            }
        }
        None
    }

    fn match_at(
        &self,
        ti: usize,
        text: &[char],
        pos: usize,
        failed: &mut [bool],
        width: usize,
    ) -> Option<usize> {
        if ti == self.toks.len() {
            return Some(pos);
        }
        if failed[ti * width + pos] {
            return None;
        }
        let r = match self.toks[ti] {
            Tok::Lit(c) => {
                if text.get(pos) == Some(&c) {
                    self.match_at(ti + 1, text, pos + 1, failed, width)
                } else {
                    None
                }
            }
            Tok::Any => match text.get(pos) {
                Some(&c) if c != '\n' => self.match_at(ti + 1, text, pos + 1, failed, width),
                _ => None,
            },
            Tok::Star(greedy) => {
                let max = text[pos..].iter().take_while(|&&c| c != '\n').count();
                let mut r = None;
                if greedy {
                    for k in (0..=max).rev() {
                        r = self.match_at(ti + 1, text, pos + k, failed, width);
                        if r.is_some() {
                            break;
                        }
                    }
                } else {
                    for k in 0..=max {
                        r = self.match_at(ti + 1, text, pos + k, failed, width);
                        if r.is_some() {
                            break;
                        }
                    }
                }
                r
            }
        };
        if r.is_none() {
            failed[ti * width + pos] = true;
        }
        r
    }
}

/// `${v#pat}` / `${v##pat}`: remove the shortest (longest when greedy) matching prefix.
pub(crate) fn trim_prefix(pattern: &str, value: &str, greedy: bool) -> Result<String, String> {
    let re = Pattern::compile(pattern, greedy, true)
        .map_err(|e| format!("invalid pattern ({pattern}) in substitution: {e}"))?;
    let chars: Vec<char> = value.chars().collect();
    match re.find_at(&chars, 0) {
        Some((_, end)) => Ok(chars[end..].iter().collect()),
        None => Ok(value.to_string()),
    }
}

/// `${v%pat}` / `${v%%pat}`: remove the shortest (longest when greedy) matching suffix, by
/// reversing both the pattern and the value as the stock lexer does.
pub(crate) fn trim_suffix(pattern: &str, value: &str, greedy: bool) -> Result<String, String> {
    let rp = reverse_pattern(pattern);
    let rv: String = value.chars().rev().collect();
    let out = trim_prefix(&rp, &rv, greedy)?;
    Ok(out.chars().rev().collect())
}

/// Reverse a pattern keeping `\x` escapes in front of the character they escape.
pub(crate) fn reverse_pattern(pattern: &str) -> String {
    let p: Vec<char> = pattern.chars().collect();
    let n = p.len();
    if n == 0 {
        return String::new();
    }
    let last = n - 1;
    let mut out = vec!['\0'; n];
    let mut i = 0;
    while i <= last {
        let tok = p[i];
        let oi = last - i;
        if tok == '\\' && i != last {
            out[oi - 1] = tok;
            out[oi] = p[i + 1];
            i += 2;
        } else {
            out[oi] = tok;
            i += 1;
        }
    }
    out.into_iter().collect()
}

/// `${v/pat/repl}` (first match, replacement literal) and `${v//pat/repl}` (all matches,
/// replacement is a Go regexp template where `$$` is `$` and `$0`/`${0}` the match).
pub(crate) fn replace(
    pattern: &str,
    value: &str,
    replacement: &str,
    all: bool,
) -> Result<String, String> {
    let re = Pattern::compile(pattern, true, false)
        .map_err(|e| format!("invalid pattern ({pattern}) in substitution: {e}"))?;
    let src: Vec<char> = value.chars().collect();
    if !all {
        return Ok(match re.find_at(&src, 0) {
            Some((s, e)) => {
                let mut out: String = src[..s].iter().collect();
                out.push_str(replacement);
                out.extend(&src[e..]);
                out
            }
            None => value.to_string(),
        });
    }
    // Go's Regexp.ReplaceAllString loop.
    let mut out = String::new();
    let mut last_end = 0usize;
    let mut search = 0usize;
    while search <= src.len() {
        let Some((s, e)) = re.find_at(&src, search) else {
            break;
        };
        out.extend(&src[last_end..s]);
        // No replacement for an empty match right after a previous match.
        if e > last_end || s == 0 {
            let matched: String = src[s..e].iter().collect();
            expand_template(&mut out, replacement, &matched);
        }
        last_end = e;
        if search + 1 > e {
            search += 1;
        } else {
            search = e;
        }
    }
    out.extend(&src[last_end.min(src.len())..]);
    Ok(out)
}

/// Go's `Regexp.expand` for a regexp without capture groups: `$$` is `$`, `$0`/`${0}` the whole
/// match, any other valid reference is empty, a malformed `$` stays literal.
fn expand_template(out: &mut String, template: &str, matched: &str) {
    let mut t = template;
    while let Some(i) = t.find('$') {
        out.push_str(&t[..i]);
        t = &t[i + 1..];
        if let Some(rest) = t.strip_prefix('$') {
            out.push('$');
            t = rest;
            continue;
        }
        match extract_ref(t) {
            Some((num, rest)) => {
                if num == Some(0) {
                    out.push_str(matched);
                }
                t = rest;
            }
            None => out.push('$'),
        }
    }
    out.push_str(t);
}

/// Parse `name` or `{name}` after a `$`; returns the group number (None for a non-numeric name)
/// and the rest, or None when malformed.
fn extract_ref(s: &str) -> Option<(Option<u64>, &str)> {
    let (brace, body) = match s.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let len: usize = body
        .chars()
        .take_while(|&c| super::is_letter(c) || super::is_digit(c) || c == '_')
        .map(char::len_utf8)
        .sum();
    if len == 0 {
        return None;
    }
    let name = &body[..len];
    let mut rest = &body[len..];
    if brace {
        rest = rest.strip_prefix('}')?;
    }
    let mut num: Option<u64> = Some(0);
    for b in name.bytes() {
        match num {
            Some(n) if b.is_ascii_digit() && n < 100_000_000 => {
                num = Some(n * 10 + u64::from(b - b'0'))
            }
            _ => {
                num = None;
                break;
            }
        }
    }
    if name.starts_with('0') && name.len() > 1 {
        num = None;
    }
    Some((num, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compile_errors() {
        for p in ["\\", "\\x", "\\\\\\"] {
            assert!(Pattern::compile(p, true, true).is_err(), "{p}");
        }
        assert!(Pattern::compile("(()[]{\\}^$.\\*\\?|\\\\", true, true).is_ok());
    }

    #[test]
    fn reverse() {
        assert_eq!(reverse_pattern("a\\*c"), "c\\*a");
        assert_eq!(reverse_pattern("\\\\\\ab"), "b\\a\\\\");
        assert_eq!(reverse_pattern("ab\\"), "\\ba");
        assert_eq!(reverse_pattern("👽\\🚀🖖"), "🖖\\🚀👽");
        assert_eq!(reverse_pattern("\\\\b"), "b\\\\");
        assert_eq!(reverse_pattern(""), "");
    }

    #[test]
    fn prefix_suffix() {
        assert_eq!(trim_prefix("*x*y", "xxyy", false).unwrap(), "y");
        assert_eq!(trim_prefix("*x", "xxyy", true).unwrap(), "yy");
        assert_eq!(trim_prefix("*x", "xxyy", false).unwrap(), "xyy");
        assert_eq!(trim_prefix("*", "xxyy", false).unwrap(), "xxyy");
        assert_eq!(trim_prefix("z", "xxyy", false).unwrap(), "xxyy");
        assert_eq!(trim_suffix("y*", "xxyy", false).unwrap(), "xxy");
        assert_eq!(trim_suffix("y*", "xxyy", true).unwrap(), "xx");
        assert_eq!(trim_suffix("\\**\\*", "a***yy*", true).unwrap(), "a");
        assert_eq!(trim_suffix(".tar.gz", "x-1.tar.gz", false).unwrap(), "x-1");
        // `?` and `*` stop at newlines like Go's `.`.
        assert_eq!(trim_prefix("*b", "a\nb", true).unwrap(), "a\nb");
    }

    #[test]
    fn replacing() {
        assert_eq!(
            replace("\\*/", "/foo*/*/*.txt", ".", false).unwrap(),
            "/foo.*/*.txt"
        );
        assert_eq!(
            replace("\\*/", "/foo*/*/*.txt", ".", true).unwrap(),
            "/foo..*.txt"
        );
        assert_eq!(
            replace("/?/", "/a/foo/b/c.txt", "/", true).unwrap(),
            "/foo/c.txt"
        );
        assert_eq!(replace("", "xxyy", "ww", false).unwrap(), "wwxxyy");
        assert_eq!(replace("", "ab", "-", true).unwrap(), "-a-b-");
        assert_eq!(replace("b*", "abc", "-", true).unwrap(), "a-");
        assert_eq!(replace("*", "ab", "-", true).unwrap(), "-");
        assert_eq!(
            replace("b", "abcb", "[$0$$x$1${0}]", true).unwrap(),
            "a[b$xb]c[b$xb]"
        );
        assert_eq!(replace("b", "ab", "$", true).unwrap(), "a$");
    }
}
