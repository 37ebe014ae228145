//! `.dockerignore`: reading the file (as `moby/patternmatcher/ignorefile.ReadAll`) and
//! matching paths against its patterns (as `patternmatcher.PatternMatcher`). Pure functions,
//! used by the gateway (which sends the patterns to BuildKit with the context) and by the
//! converter (named local contexts, the `CopyIgnoredFile` check).

use crate::llb::file::clean as clean_path;

/// Parse a `.dockerignore`: `#` comments, trimmed lines, a leading `!` for exceptions, each
/// pattern cleaned and made relative.
pub fn parse(data: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(data);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut pattern = line.trim();
        if pattern.is_empty() {
            continue;
        }
        let invert = pattern.starts_with('!');
        if invert {
            pattern = pattern[1..].trim();
        }
        let mut p = String::new();
        if !pattern.is_empty() {
            p = clean_path(pattern);
            if p.len() > 1 && p.starts_with('/') {
                p.remove(0);
            }
        }
        out.push(if invert { format!("!{p}") } else { p });
    }
    out
}

/// One piece of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Char(char),
    /// `*`: any run of characters but `/`.
    Star,
    /// `?`: one character but `/`.
    One,
    /// `**` (or `**/`) inside a pattern: any number of whole directories, even none.
    Dirs,
    /// `**` at the end: anything.
    Any,
    /// `[...]`: a character class (negated with `^`), ranges as `a-z`.
    Class {
        negated: bool,
        items: Vec<(char, char)>,
    },
}

/// How a pattern is matched (stock `matchType`): the plain kinds are what the regexp would
/// give, except that a leading `**` without a following `/` matches any suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Exact,
    Prefix,
    Suffix,
    Glob,
}

#[derive(Debug, Clone)]
struct Pattern {
    text: String,
    exclusion: bool,
    kind: Kind,
    toks: Vec<Tok>,
}

/// The patterns of a `.dockerignore`, ready to match context paths (`a/b`, no leading `/`).
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    patterns: Vec<Pattern>,
}

impl Matcher {
    /// Compile the patterns [`parse`] returned; an invalid one (`!` alone, a bad class) is an
    /// error, as in the stock matcher.
    pub fn new(patterns: &[String]) -> Result<Matcher, String> {
        let mut out = Vec::new();
        for p in patterns {
            let p = p.trim();
            if p.is_empty() {
                continue;
            }
            let (exclusion, text) = match p.strip_prefix('!') {
                Some("") => return Err("illegal exclusion pattern: \"!\"".into()),
                Some(rest) => (true, rest),
                None => (false, p),
            };
            let text = clean_path(text);
            let text = if text.len() > 1 {
                text.trim_start_matches('/').to_string()
            } else {
                text
            };
            let (kind, toks) = compile(&text)?;
            out.push(Pattern {
                text,
                exclusion,
                kind,
                toks,
            });
        }
        Ok(Matcher { patterns: out })
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether any pattern is an exception (`!pattern`).
    pub fn exclusions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }

    /// Whether `path` or one of its parent directories is excluded from the context (stock
    /// `MatchesOrParentMatches`; the last pattern that matches decides). `path` is matched as
    /// given; its parents are those of its cleaned directory part (Go's `filepath.Dir`).
    pub fn matches_or_parent_matches(&self, path: &str) -> bool {
        let parent = match path.rfind('/') {
            Some(i) => clean_path(&path[..=i]),
            None => ".".to_string(),
        };
        let dirs: Vec<&str> = parent.split('/').collect();
        let mut matched = false;
        for p in &self.patterns {
            if p.exclusion != matched {
                continue;
            }
            let mut hit = p.matches(path);
            if !hit && parent != "." {
                hit = (1..=dirs.len()).any(|n| p.matches(&dirs[..n].join("/")));
            }
            if hit {
                matched = !p.exclusion;
            }
        }
        matched
    }
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match self.kind {
            Kind::Exact => path == self.text,
            Kind::Prefix => path.starts_with(&self.text[..self.text.len() - 2]),
            Kind::Suffix => {
                let suffix = &self.text[2..];
                path.ends_with(suffix) || suffix.strip_prefix('/').is_some_and(|rest| path == rest)
            }
            Kind::Glob => {
                let chars: Vec<char> = path.chars().collect();
                glob(&self.toks, &chars)
            }
        }
    }
}

/// Compile a cleaned pattern (stock `Pattern.compile`).
fn compile(pattern: &str) -> Result<(Kind, Vec<Tok>), String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut toks = Vec::new();
    let mut kind = Kind::Exact;
    let mut i = 0;
    let mut first = true;
    while i < chars.len() {
        let ch = chars[i];
        i += 1;
        match ch {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i == chars.len() {
                    if kind == Kind::Exact {
                        kind = Kind::Prefix;
                    } else {
                        toks.push(Tok::Any);
                        kind = Kind::Glob;
                    }
                } else {
                    toks.push(Tok::Dirs);
                    kind = Kind::Glob;
                }
                if first {
                    kind = Kind::Suffix;
                }
            }
            '*' => {
                toks.push(Tok::Star);
                kind = Kind::Glob;
            }
            '?' => {
                toks.push(Tok::One);
                kind = Kind::Glob;
            }
            '\\' => match chars.get(i) {
                Some(&c) => {
                    toks.push(Tok::Char(c));
                    i += 1;
                }
                None => toks.push(Tok::Char('\\')),
            },
            '[' => {
                let (tok, next) = class(&chars, i)
                    .ok_or_else(|| format!("syntax error in pattern {pattern:?}"))?;
                toks.push(tok);
                i = next;
                kind = Kind::Glob;
            }
            c => toks.push(Tok::Char(c)),
        }
        first = false;
    }
    Ok((kind, toks))
}

/// A character class starting after `[` at `i`: the token and the index after `]`.
fn class(chars: &[char], mut i: usize) -> Option<(Tok, usize)> {
    // The stock matcher hands classes to Go's regexp: only `^` negates, and `/` is a
    // character like any other there.
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut items = Vec::new();
    let mut start = true;
    loop {
        let c = *chars.get(i)?;
        i += 1;
        if c == ']' && !start {
            break;
        }
        start = false;
        let lo = if c == '\\' {
            let e = *chars.get(i)?;
            i += 1;
            e
        } else {
            c
        };
        let hi = if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|&c| c != ']') {
            let h = chars[i + 1];
            i += 2;
            h
        } else {
            lo
        };
        items.push((lo, hi));
    }
    Some((Tok::Class { negated, items }, i))
}

/// Match the whole of `s` against `toks` (backtracking; patterns are short).
fn glob(toks: &[Tok], s: &[char]) -> bool {
    let Some((t, rest)) = toks.split_first() else {
        return s.is_empty();
    };
    match t {
        Tok::Char(c) => s.first() == Some(c) && glob(rest, &s[1..]),
        Tok::One => s.first().is_some_and(|&c| c != '/') && glob(rest, &s[1..]),
        Tok::Class { negated, items } => {
            s.first()
                .is_some_and(|&c| items.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated)
                && glob(rest, &s[1..])
        }
        Tok::Star => {
            let run = s.iter().take_while(|&&c| c != '/').count();
            (0..=run).any(|n| glob(rest, &s[n..]))
        }
        // `(.*/)?`: nothing, or anything up to and including a `/`.
        Tok::Dirs => glob(rest, s) || (0..s.len()).any(|n| s[n] == '/' && glob(rest, &s[n + 1..])),
        Tok::Any => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(patterns: &[&str]) -> Matcher {
        let p: Vec<String> = patterns.iter().map(|s| s.to_string()).collect();
        Matcher::new(&p).unwrap()
    }

    #[test]
    fn dockerignore_parsing() {
        let data = b"\xef\xbb\xbf# comment\n  node_modules  \n\n/abs/path\n!keep.txt\n! spaced\n./a/../b/\n*.log\n#x\n";
        assert_eq!(
            parse(data),
            [
                "node_modules",
                "abs/path",
                "!keep.txt",
                "!spaced",
                "b",
                "*.log"
            ]
        );
        assert!(parse(b"").is_empty());
        assert_eq!(parse(b"/\n"), ["/"]);
        assert_eq!(clean_path("a//b/./c/.."), "a/b");
        assert_eq!(clean_path("../x"), "../x");
    }

    #[test]
    fn plain_names_and_their_contents() {
        let ig = m(&["node_modules", "build/out"]);
        assert!(ig.matches_or_parent_matches("node_modules"));
        assert!(ig.matches_or_parent_matches("node_modules/x/y.js"));
        assert!(ig.matches_or_parent_matches("build/out/a"));
        assert!(!ig.matches_or_parent_matches("build"));
        assert!(!ig.matches_or_parent_matches("src/node_modules"));
    }

    #[test]
    fn wildcards() {
        let ig = m(&["*.log", "tmp?", "[a-c]x", "**/secret", "docs/**", "a/**/z"]);
        assert!(ig.matches_or_parent_matches("x.log"));
        assert!(!ig.matches_or_parent_matches("d/x.log"));
        assert!(ig.matches_or_parent_matches("tmp1/f"));
        assert!(ig.matches_or_parent_matches("bx"));
        assert!(!ig.matches_or_parent_matches("dx"));
        assert!(ig.matches_or_parent_matches("secret"));
        assert!(ig.matches_or_parent_matches("deep/er/secret"));
        assert!(ig.matches_or_parent_matches("docs/a/b"));
        assert!(ig.matches_or_parent_matches("a/z"));
        assert!(ig.matches_or_parent_matches("a/b/c/z"));
        assert!(!ig.matches_or_parent_matches("a/b/c/zz"));
        // `**` alone, and `*` at the top: everything.
        assert!(m(&["**"]).matches_or_parent_matches("any/thing"));
        assert!(m(&["*"]).matches_or_parent_matches("any/thing"));
    }

    #[test]
    fn exceptions_and_the_last_match() {
        let ig = m(&["*.md", "!README.md"]);
        assert!(ig.exclusions());
        assert!(ig.matches_or_parent_matches("NOTES.md"));
        assert!(!ig.matches_or_parent_matches("README.md"));
        assert!(!m(&["a"]).exclusions());
    }

    #[test]
    fn paths_as_given_parents_cleaned() {
        let ig = m(&["logs", "*.env"]);
        assert!(ig.matches_or_parent_matches("./logs/*.log"));
        assert!(!ig.matches_or_parent_matches("./x/../a.env"));
        assert!(ig.matches_or_parent_matches("a.env"));
    }

    #[test]
    fn bad_patterns() {
        assert!(Matcher::new(&["!".to_string()]).is_err());
        assert!(Matcher::new(&["[ab".to_string()]).is_err());
    }
}
