//! Shell-style word expansion, behaving like the stock frontend's `shell.Lex`.
//!
//! * [`Lexer`] expands `$v`, `${v}`, `${v:-x}`, `${v-x}`, `${v:+x}`, `${v+x}`, `${v:?msg}`,
//!   `${v?msg}`, `${v#pat}`, `${v##pat}`, `${v%pat}`, `${v%%pat}`, `${v/pat/repl}` and
//!   `${v//pat/repl}`, handles single and double quotes and the configurable escape character,
//!   and can split the result into words ([`Lexer::process_words`]).
//! * [`Env`] is where variable values come from; it is implemented for maps, `(name, value)`
//!   lists (the last entry wins), `"k=v"` string lists and closures.
//!
//! Like the stock lexer, `${#v}` (length) is *not* supported: `#` is read as the special
//! parameter `$#`, so `${#v}` is an "unsupported modifier" error.

mod lex;
mod pattern;

pub use lex::{Lexer, ProcessResult};

use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// Where the lexer looks variables up.
pub trait Env {
    /// The value of `name`, or `None` when it is unset (an empty value is *set*).
    fn get(&self, name: &str) -> Option<String>;
    /// All names, for diagnostics (e.g. "did you mean"); optional.
    fn keys(&self) -> Vec<String> {
        Vec::new()
    }
}

/// An environment with nothing set.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEnv;

impl Env for NoEnv {
    fn get(&self, _: &str) -> Option<String> {
        None
    }
}

impl Env for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        BTreeMap::get(self, name).cloned()
    }
    fn keys(&self) -> Vec<String> {
        BTreeMap::keys(self).cloned().collect()
    }
}

impl<S: std::hash::BuildHasher> Env for HashMap<String, String, S> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
    fn keys(&self) -> Vec<String> {
        HashMap::keys(self).cloned().collect()
    }
}

/// `(name, value)` pairs; the last pair with a name wins.
impl Env for [(String, String)] {
    fn get(&self, name: &str) -> Option<String> {
        self.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
    fn keys(&self) -> Vec<String> {
        self.iter().map(|(k, _)| k.clone()).collect()
    }
}

impl Env for Vec<(String, String)> {
    fn get(&self, name: &str) -> Option<String> {
        Env::get(self.as_slice(), name)
    }
    fn keys(&self) -> Vec<String> {
        Env::keys(self.as_slice())
    }
}

/// `"name=value"` strings like a process environment (`EnvsFromSlice`); the last one wins and
/// an entry without `=` sets the name to the empty string.
impl Env for [String] {
    fn get(&self, name: &str) -> Option<String> {
        self.iter().rev().find_map(|e| {
            let (k, v) = e.split_once('=').unwrap_or((e.as_str(), ""));
            (k == name).then(|| v.to_string())
        })
    }
    fn keys(&self) -> Vec<String> {
        self.iter()
            .map(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k).to_string())
            .collect()
    }
}

impl Env for Vec<String> {
    fn get(&self, name: &str) -> Option<String> {
        Env::get(self.as_slice(), name)
    }
    fn keys(&self) -> Vec<String> {
        Env::keys(self.as_slice())
    }
}

/// Any `Fn(&str) -> Option<String>` is an environment.
impl<F: Fn(&str) -> Option<String>> Env for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// An expansion error. The message is the stock one, including the
/// `failed to process "<word>": ` prefix the stock lexer adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandError {
    pub message: String,
}

impl fmt::Display for ExpandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExpandError {}

impl From<ExpandError> for crate::error::Error {
    fn from(e: ExpandError) -> Self {
        crate::error::Error::new(e.message)
    }
}

/// Go's `unicode.IsLetter` (categories L*), approximated by Rust's `Alphabetic` minus numbers.
pub(crate) fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        c.is_alphabetic() && !c.is_numeric()
    }
}

/// Go's `unicode.IsDigit` (category Nd), approximated for non-ASCII by Rust's `is_numeric`.
pub(crate) fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        c.is_numeric()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_impls() {
        let v: Vec<(String, String)> = vec![
            ("a".into(), "1".into()),
            ("b".into(), "2".into()),
            ("a".into(), "3".into()),
        ];
        assert_eq!(Env::get(&v, "a").as_deref(), Some("3"));
        assert_eq!(Env::get(&v, "c"), None);
        let s: Vec<String> = vec![
            "foo=bar".into(),
            "car=hat".into(),
            "car=bike".into(),
            "x".into(),
        ];
        assert_eq!(Env::get(&s, "car").as_deref(), Some("bike"));
        assert_eq!(Env::get(&s, "x").as_deref(), Some(""));
        assert_eq!(Env::get(&s, "foo").as_deref(), Some("bar"));
        let m: BTreeMap<String, String> = [("k".to_string(), "v".to_string())].into();
        assert_eq!(Env::get(&m, "k").as_deref(), Some("v"));
        let f = |n: &str| (n == "z").then(|| "zz".to_string());
        assert_eq!(Env::get(&f, "z").as_deref(), Some("zz"));
        assert_eq!(NoEnv.get("z"), None);
        let err: crate::error::Error = ExpandError {
            message: "m".into(),
        }
        .into();
        assert_eq!(err.message, "m");
    }
}
