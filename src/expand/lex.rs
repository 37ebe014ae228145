//! The word lexer: a character-by-character port of the stock `shell.Lex` behaviour, including
//! its quirks (see the tests), because the images hoard builds must match the stock ones.

use std::collections::BTreeSet;

use super::pattern;
use super::{is_digit, is_letter, Env, ExpandError};

/// Expands variables and removes quotes in Dockerfile words.
///
/// The public flags mirror the stock lexer's options:
/// * `raw_quotes`: keep the quote characters in the output (the stock frontend uses this with
///   `skip_unset_env` to expand only known variables in a word that a shell will see later).
/// * `raw_escapes`: keep escape characters in the output.
/// * `skip_process_quotes`: treat quotes as ordinary characters.
/// * `skip_unset_env`: leave references to unset variables as written (`$x`, `${x:-y}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexer {
    pub escape: char,
    pub raw_quotes: bool,
    pub raw_escapes: bool,
    pub skip_process_quotes: bool,
    pub skip_unset_env: bool,
}

/// Everything one expansion produces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessResult {
    /// The expanded word (spaces kept).
    pub result: String,
    /// The expanded word split into fields (as `process_words`).
    pub words: Vec<String>,
    /// Variables that were looked up and found.
    pub matched: BTreeSet<String>,
    /// Variables that were looked up and not set.
    pub unmatched: BTreeSet<String>,
}

impl Default for Lexer {
    fn default() -> Self {
        Lexer::new('\\')
    }
}

impl Lexer {
    /// A lexer with `escape` as the escape character (`\` or `` ` ``) and all options off.
    pub fn new(escape: char) -> Self {
        Lexer {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_process_quotes: false,
            skip_unset_env: false,
        }
    }

    /// This lexer with `raw_quotes` set as given.
    pub fn with_raw_quotes(mut self, on: bool) -> Self {
        self.raw_quotes = on;
        self
    }

    /// This lexer with `raw_escapes` set as given.
    pub fn with_raw_escapes(mut self, on: bool) -> Self {
        self.raw_escapes = on;
        self
    }

    /// This lexer with `skip_process_quotes` set as given.
    pub fn with_skip_process_quotes(mut self, on: bool) -> Self {
        self.skip_process_quotes = on;
        self
    }

    /// This lexer with `skip_unset_env` set as given.
    pub fn with_skip_unset_env(mut self, on: bool) -> Self {
        self.skip_unset_env = on;
        self
    }

    /// A copy with `raw_quotes` and `skip_unset_env` on: what the stock `dispatchRun` uses to
    /// expand the RUN text shown as the progress name.
    pub fn raw_quotes_skip_unset(&self) -> Self {
        self.clone().with_raw_quotes(true).with_skip_unset_env(true)
    }

    /// The lexer the stock frontend uses for COPY/ADD heredoc bodies (`ExpandRaw`): escape `\`,
    /// quotes not processed.
    pub fn heredoc_body() -> Self {
        Lexer::new('\\').with_skip_process_quotes(true)
    }

    /// Expand `word` (stock `ProcessWord`).
    pub fn process_word(&self, word: &str, env: &dyn Env) -> Result<String, ExpandError> {
        self.process(word, env).map(|r| r.result)
    }

    /// Expand `word` and report which variables were used and which were unset
    /// (stock `ProcessWordWithMatches`).
    pub fn process_word_with_matches(
        &self,
        word: &str,
        env: &dyn Env,
    ) -> Result<(String, BTreeSet<String>, BTreeSet<String>), ExpandError> {
        self.process(word, env)
            .map(|r| (r.result, r.matched, r.unmatched))
    }

    /// Expand `word` and split it into fields on unquoted whitespace (stock `ProcessWords`).
    /// Whitespace coming from variable values splits too; quoted text never does.
    pub fn process_words(&self, word: &str, env: &dyn Env) -> Result<Vec<String>, ExpandError> {
        self.process(word, env).map(|r| r.words)
    }

    /// Expand `word`, returning everything at once.
    pub fn process(&self, word: &str, env: &dyn Env) -> Result<ProcessResult, ExpandError> {
        let mut st = State {
            lex: self,
            chars: word.chars().collect(),
            pos: 0,
            env,
            raw_escapes: self.raw_escapes,
            words_buf: String::new(),
            matched: BTreeSet::new(),
            unmatched: BTreeSet::new(),
            depth: 0,
        };
        match st.process_stop_on(None, self.raw_escapes) {
            Ok((result, words)) => Ok(ProcessResult {
                result,
                words,
                matched: st.matched,
                unmatched: st.unmatched,
            }),
            Err(m) => Err(ExpandError {
                message: format!("failed to process {word:?}: {m}"),
            }),
        }
    }
}

/// Field splitting state of one `process_stop_on` call. The buffer of the word being built is
/// shared by nested calls ([`State::words_buf`]), exactly like the stock lexer, so a nested
/// `${...}` restarts the current word: `a${x:-b}` splits into `["b"]`.
#[derive(Default)]
struct Words {
    words: Vec<String>,
    in_word: bool,
}

struct State<'a> {
    lex: &'a Lexer,
    chars: Vec<char>,
    pos: usize,
    env: &'a dyn Env,
    raw_escapes: bool,
    words_buf: String,
    matched: BTreeSet<String>,
    unmatched: BTreeSet<String>,
    /// How many `${...}` the lexer is inside (each level recurses).
    depth: usize,
}

type Res<T> = Result<T, String>;

/// How deeply `${...}` may nest. The lexer recurses once per level; without a bound, a word of
/// a few thousand `${a:-` overflowed the stack (found by `tests/fuzz_mutations.rs`). The stock
/// lexer has no bound (Go's stacks grow), but no real word nests this deep.
pub(super) const MAX_NESTING: usize = 100;

const BAD_RUNE: char = '\u{FFFD}';

impl State<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn add_char(&mut self, w: &mut Words, ch: char) {
        if ch.is_whitespace() {
            if w.in_word && !self.words_buf.is_empty() {
                w.words.push(std::mem::take(&mut self.words_buf));
                w.in_word = false;
            }
        } else {
            self.add_raw_char(w, ch);
        }
    }

    fn add_raw_char(&mut self, w: &mut Words, ch: char) {
        self.words_buf.push(ch);
        w.in_word = true;
    }

    fn add_string(&mut self, w: &mut Words, s: &str) {
        for ch in s.chars() {
            self.add_char(w, ch);
        }
    }

    fn add_raw_string(&mut self, w: &mut Words, s: &str) {
        self.words_buf.push_str(s);
        w.in_word = true;
    }

    fn get_words(&mut self, mut w: Words) -> Vec<String> {
        if !self.words_buf.is_empty() {
            w.words.push(std::mem::take(&mut self.words_buf));
        }
        w.words
    }

    fn process_stop_on(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Res<(String, Vec<String>)> {
        if self.depth > MAX_NESTING {
            return Err(format!(
                "syntax error: more than {MAX_NESTING} nested substitutions"
            ));
        }
        self.depth += 1;
        let saved = self.raw_escapes;
        self.raw_escapes = raw_escapes;
        let r = self.process_stop_on_inner(stop);
        self.raw_escapes = saved;
        self.depth -= 1;
        r
    }

    fn process_stop_on_inner(&mut self, stop: Option<char>) -> Res<(String, Vec<String>)> {
        let mut result = String::new();
        self.words_buf.clear();
        let mut w = Words::default();
        let quotes = !self.lex.skip_process_quotes;

        while let Some(ch) = self.peek() {
            if stop == Some(ch) {
                self.next();
                return Ok((result, self.get_words(w)));
            }
            let special = match ch {
                '$' => Some(self.process_dollar()),
                '<' => Some(Ok(self.process_possible_heredoc())),
                '\'' if quotes => Some(self.process_single_quote()),
                '"' if quotes => Some(self.process_double_quote()),
                _ => None,
            };
            if let Some(tmp) = special {
                let tmp = tmp?;
                result.push_str(&tmp);
                if ch == '$' {
                    self.add_string(&mut w, &tmp);
                } else {
                    self.add_raw_string(&mut w, &tmp);
                }
                continue;
            }
            let mut ch = self.next().unwrap_or(BAD_RUNE);
            if ch == self.lex.escape {
                if self.raw_escapes {
                    self.add_raw_char(&mut w, ch);
                    result.push(ch);
                }
                // The escape character escapes anything, except the end of the word.
                match self.next() {
                    None => break,
                    Some(c) => ch = c,
                }
                self.add_raw_char(&mut w, ch);
            } else {
                self.add_char(&mut w, ch);
            }
            result.push(ch);
        }
        if let Some(s) = stop {
            return Err(format!(
                "unexpected end of statement while looking for matching {s}"
            ));
        }
        Ok((result, self.get_words(w)))
    }

    fn process_single_quote(&mut self) -> Res<String> {
        let mut result = String::new();
        let q = self.next().unwrap_or(BAD_RUNE);
        if self.lex.raw_quotes {
            result.push(q);
        }
        loop {
            match self.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .to_string(),
                    )
                }
                Some('\'') => {
                    if self.lex.raw_quotes {
                        result.push('\'');
                    }
                    return Ok(result);
                }
                Some(c) => result.push(c),
            }
        }
    }

    fn process_double_quote(&mut self) -> Res<String> {
        let mut result = String::new();
        let q = self.next().unwrap_or(BAD_RUNE);
        if self.lex.raw_quotes {
            result.push(q);
        }
        loop {
            match self.peek() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .to_string(),
                    )
                }
                Some('"') => {
                    self.next();
                    if self.lex.raw_quotes {
                        result.push('"');
                    }
                    return Ok(result);
                }
                Some('$') => {
                    let v = self.process_dollar()?;
                    result.push_str(&v);
                }
                Some(_) => {
                    let mut ch = self.next().unwrap_or(BAD_RUNE);
                    if ch == self.lex.escape {
                        if self.raw_escapes {
                            result.push(ch);
                        }
                        match self.peek() {
                            // A trailing escape is dropped.
                            None => continue,
                            Some(c) if c == '"' || c == '$' || c == self.lex.escape => {
                                ch = c;
                                self.next();
                            }
                            // Other escapes stay as written.
                            Some(_) => {}
                        }
                    }
                    result.push(ch);
                }
            }
        }
    }

    fn get_env(&mut self, name: &str) -> Option<String> {
        match self.env.get(name) {
            Some(v) => {
                self.matched.insert(name.to_string());
                Some(v)
            }
            None => {
                self.unmatched.insert(name.to_string());
                None
            }
        }
    }

    /// Like `process_stop_on`, but an error at the end of the input becomes `eof_msg`.
    fn sub_word(&mut self, stop: char, raw: bool, eof_msg: &str) -> Res<String> {
        match self.process_stop_on(Some(stop), raw) {
            Ok((s, _)) => Ok(s),
            Err(e) => Err(if self.peek().is_none() {
                eof_msg.to_string()
            } else {
                e
            }),
        }
    }

    fn process_dollar(&mut self) -> Res<String> {
        self.next(); // '$'
        if self.peek() != Some('{') {
            let name = self.process_name();
            if name.is_empty() {
                return Ok("$".to_string());
            }
            return Ok(match self.get_env(&name) {
                Some(v) => v,
                None if self.lex.skip_unset_env => format!("${name}"),
                None => String::new(),
            });
        }
        self.next(); // '{'
        match self.peek() {
            None => return Err("syntax error: missing '}'".to_string()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".to_string()),
            _ => {}
        }
        let name = self.process_name();
        let first = self.next();
        let mut chs = first.unwrap_or(BAD_RUNE).to_string();
        let mut modifier = first;
        let null_is_unset;
        match first {
            Some('}') => {
                return Ok(match self.get_env(&name) {
                    Some(v) => v,
                    None if self.lex.skip_unset_env => format!("${{{name}}}"),
                    None => String::new(),
                });
            }
            Some(':') => {
                null_is_unset = true;
                modifier = self.next();
                chs.push(modifier.unwrap_or(BAD_RUNE));
            }
            Some('+' | '-' | '?' | '#' | '%') => null_is_unset = false,
            Some('/') => return self.process_replace(&name),
            _ => return Err(format!("unsupported modifier ({chs}) in substitution")),
        }

        // `${name:X...}` for any X, or `${name+...}` etc.
        let raw = matches!(modifier, Some('#' | '%'));
        if null_is_unset && raw {
            return Err(format!("unsupported modifier ({chs}) in substitution"));
        }
        let mut word = self.sub_word('}', raw, "syntax error: missing '}'")?;
        let value = self.get_env(&name);
        if self.lex.skip_unset_env && value.is_none() {
            return Ok(format!("${{{name}{chs}{word}}}"));
        }
        let set = value.is_some();
        let value = value.unwrap_or_default();
        let empty_or_unset = !set || (null_is_unset && value.is_empty());
        match modifier {
            Some('-') => Ok(if empty_or_unset { word } else { value }),
            Some('+') => Ok(if empty_or_unset { String::new() } else { word }),
            Some('?') => {
                let default = if !set {
                    "is not allowed to be unset"
                } else if null_is_unset && value.is_empty() {
                    "is not allowed to be empty"
                } else {
                    return Ok(value);
                };
                let message = if word.is_empty() {
                    default
                } else {
                    word.as_str()
                };
                Err(format!("{name}: {message}"))
            }
            Some(m @ ('%' | '#')) => {
                let greedy = word.starts_with(m);
                if greedy {
                    word.remove(0);
                }
                if m == '%' {
                    pattern::trim_suffix(&word, &value, greedy)
                } else {
                    pattern::trim_prefix(&word, &value, greedy)
                }
            }
            _ => Err(format!("unsupported modifier ({chs}) in substitution")),
        }
    }

    fn process_replace(&mut self, name: &str) -> Res<String> {
        let all = self.peek() == Some('/');
        if all {
            self.next();
        }
        let pat = self.sub_word('/', true, "syntax error: missing '/' in ${}")?;
        let repl = self.sub_word('}', true, "syntax error: missing '}'")?;
        let Some(value) = self.get_env(name) else {
            if self.lex.skip_unset_env {
                return Ok(format!("${{{name}/{pat}/{repl}}}"));
            }
            return pattern::replace(&pat, "", &repl, all);
        };
        pattern::replace(&pat, &value, &repl, all)
    }

    fn process_name(&mut self) -> String {
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if name.is_empty() && is_digit(ch) {
                while let Some(c) = self.peek().filter(|&c| is_digit(c)) {
                    self.next();
                    name.push(c);
                }
                return name;
            }
            if name.is_empty() && is_special_param(ch) {
                self.next();
                return ch.to_string();
            }
            if !is_letter(ch) && !is_digit(ch) && ch != '_' {
                break;
            }
            self.next();
            name.push(ch);
        }
        name
    }

    fn process_possible_heredoc(&mut self) -> String {
        self.next(); // '<'
        if self.peek() != Some('<') {
            return "<".to_string();
        }
        self.next();
        let mut out = "<<".to_string();
        while let Some(c) = self.peek().filter(|c| matches!(c, '\t' | '\r' | ' ')) {
            out.push(c);
            self.next();
        }
        out
    }
}

fn is_special_param(c: char) -> bool {
    matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn word(lex: &Lexer, w: &str, e: &dyn Env) -> Result<String, ExpandError> {
        lex.process_word(w, e)
    }

    /// `${A:-${A:-...x}}` nested `n` deep.
    fn nested(n: usize) -> String {
        format!("{}x{}", "${A:-".repeat(n), "}".repeat(n))
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let lex = Lexer::new('\\');
        assert_eq!(
            word(&lex, &nested(MAX_NESTING), &crate::expand::NoEnv).unwrap(),
            "x"
        );
        let e = word(&lex, &nested(MAX_NESTING + 1), &crate::expand::NoEnv).unwrap_err();
        assert!(e.message.contains("nested substitutions"), "{}", e.message);
        // What the fuzz run found: thousands deep, unclosed, in a RUN's progress name.
        let e = word(
            &lex.clone().with_raw_quotes(true),
            &"${A:-".repeat(5000),
            &crate::expand::NoEnv,
        )
        .unwrap_err();
        assert!(e.message.contains("nested substitutions"), "{}", e.message);
    }

    /// `(input, expected)` with `None` meaning an error, using the environment
    /// PWD=/home SHELL=bash KOREAN=한국어 NULL= (as the stock tests do).
    #[test]
    fn word_table() {
        let e = env(&[
            ("PWD", "/home"),
            ("SHELL", "bash"),
            ("KOREAN", "한국어"),
            ("NULL", ""),
        ]);
        let lex = Lexer::new('\\');
        let cases: &[(&str, Option<&str>)] = &[
            ("hello", Some("hello")),
            ("he'll'o", Some("hello")),
            ("he'llo", None),
            ("he\\'llo", Some("he'llo")),
            ("he\\\\'llo", None),
            ("abc\\tdef", Some("abctdef")),
            ("\"abc\\tdef\"", Some("abc\\tdef")),
            ("\"abc\\\\tdef\"", Some("abc\\tdef")),
            ("'abc\\tdef'", Some("abc\\tdef")),
            ("hello\\", Some("hello")),
            ("hello\\\\", Some("hello\\")),
            ("\"hello", None),
            ("\"hello\\\"", None),
            ("\"hel'lo\"", Some("hel'lo")),
            ("'hello", None),
            ("'hello\\'", Some("hello\\")),
            ("\"''\"", Some("''")),
            ("$.", Some("$.")),
            ("he$1x", Some("hex")),
            ("he$.x", Some("he$.x")),
            ("he$pwd.", Some("he.")),
            ("he$PWD", Some("he/home")),
            ("he\\$PWD", Some("he$PWD")),
            ("he\\\\$PWD", Some("he\\/home")),
            ("\"he\\$PWD\"", Some("he$PWD")),
            ("\"he\\\\$PWD\"", Some("he\\/home")),
            ("\\${}", Some("${}")),
            ("he\\${}xx", Some("he${}xx")),
            ("${}", None),
            ("he${}xx", None),
            ("he${hi}xx", Some("hexx")),
            ("he${PWD}", Some("he/home")),
            ("he${.}", None),
            ("he${XXX:-000}xx", Some("he000xx")),
            ("he${PWD:-000}xx", Some("he/homexx")),
            ("he${XXX:-$PWD}xx", Some("he/homexx")),
            ("he${XXX:-${PWD:-yyy}}xx", Some("he/homexx")),
            ("he${XXX:-${YYY:-yyy}}xx", Some("heyyyxx")),
            ("he${XXX:YYY}", None),
            ("he${XXX?}", None),
            ("he${XXX:?}", None),
            ("he${PWD?}", Some("he/home")),
            ("he${PWD:?}", Some("he/home")),
            ("he${NULL?}", Some("he")),
            ("he${NULL:?}", None),
            ("he${XXX:+${PWD}}xx", Some("hexx")),
            ("he${PWD:+${XXX}}xx", Some("hexx")),
            ("he${PWD:+${SHELL}}xx", Some("hebashxx")),
            ("he${XXX:+000}xx", Some("hexx")),
            ("he${PWD:+000}xx", Some("he000xx")),
            ("'he${XX}'", Some("he${XX}")),
            ("\"he'$PWD'\"", Some("he'/home'")),
            ("'\\$PWD'", Some("\\$PWD")),
            ("'\"hello\"'", Some("\"hello\"")),
            ("he${PWD", None),
            ("he${PWD:=000}xx", None),
            ("he${PWD:+${PWD}:}xx", Some("he/home:xx")),
            ("he${XXX:-\\$PWD:}xx", Some("he$PWD:xx")),
            ("he${XXX:-\\${PWD}z}xx", Some("he${PWDz}xx")),
            ("안'녕'하세요", Some("안녕하세요")),
            ("안녕\\'하세요", Some("안녕'하세요")),
            ("안녕$KOREAN", Some("안녕한국어")),
            ("안녕${XXX:-${PWD:-yyy}}xx", Some("안녕/homexx")),
            ("${{aaa}", None),
            ("${aaa}}", Some("}")),
            ("${aaa", None),
            ("${aaa:-bbb}}", Some("bbb}")),
            ("${aaa:-bbb", None),
            ("${aaa:-bbb ${foo}", None),
            ("${aaa:-bbb {foo}", Some("bbb {foo")),
            ("${:}", None),
            ("${:-bbb}", None),
            ("${:+bbb}", None),
            ("$1", Some("")),
            ("${9:-bbb}", Some("bbb")),
            ("$999aaa", Some("aaa")),
            ("${001:-bbb}aaa", Some("bbbaaa")),
            ("$@@@", Some("@@")),
            ("${@:-bbb}aaa", Some("bbbaaa")),
            ("$*", Some("")),
            ("${#}", Some("")),
            ("${#:-bbb}", Some("bbb")),
            ("${?:+bbb}", Some("")),
            ("$-", Some("")),
            ("$$", Some("")),
            ("${!:-bbb}", Some("bbb")),
            ("$0", Some("")),
            ("${0:-bbb}", Some("bbb")),
            // `${#v}` is not length: `#` is the special parameter, then `v` a bad modifier.
            ("${#PWD}", None),
            ("a$", Some("a$")),
            ("a<b", Some("a<b")),
            ("cat <<  EOF", Some("cat <<  EOF")),
        ];
        for (input, want) in cases {
            let got = word(&lex, input, &e);
            match want {
                Some(w) => assert_eq!(got.as_deref().ok(), Some(*w), "input {input:?}: {got:?}"),
                None => assert!(got.is_err(), "input {input:?} should fail, got {got:?}"),
            }
        }
    }

    #[test]
    fn error_messages() {
        let lex = Lexer::new('\\');
        let e = env(&[("ARG", "x"), ("EMPTY", "")]);
        let msg = |w: &str| word(&lex, w, &e).unwrap_err().message;
        assert_eq!(
            msg("${A:?message here$ARG}"),
            "failed to process \"${A:?message here$ARG}\": A: message herex"
        );
        assert_eq!(
            msg("${A?}"),
            "failed to process \"${A?}\": A: is not allowed to be unset"
        );
        assert_eq!(
            msg("${EMPTY:?}"),
            "failed to process \"${EMPTY:?}\": EMPTY: is not allowed to be empty"
        );
        assert!(msg("${A").ends_with("unsupported modifier (\u{FFFD}) in substitution"));
        assert!(msg("${A:-x").ends_with("syntax error: missing '}'"));
        assert!(msg("${").ends_with("syntax error: missing '}'"));
        assert!(msg("${}").ends_with("syntax error: bad substitution"));
        assert!(msg("${A:=x}").ends_with("unsupported modifier (:=) in substitution"));
        assert!(msg("${A:#x}").ends_with("unsupported modifier (:#) in substitution"));
        assert!(msg("'abc")
            .ends_with("unexpected end of statement while looking for matching single-quote"));
        assert!(msg("\"abc")
            .ends_with("unexpected end of statement while looking for matching double-quote"));
        assert!(msg("${A//x}").ends_with("syntax error: missing '/' in ${}"));
        assert!(msg("${ARG#\\x}")
            .ends_with("invalid pattern (\\x) in substitution: invalid escape '\\x'"));
        // With `?` on a set, non-empty value the message word is still expanded (and may fail).
        assert_eq!(word(&lex, "${ARG:?oops}", &e).unwrap(), "x");
        assert_eq!(word(&lex, "${EMPTY?oops}", &e).unwrap(), "");
    }

    #[test]
    fn matches_and_modifiers() {
        let lex = Lexer::new('\\');
        let run = |w: &str, pairs: &[(&str, &str)]| lex.process_word_with_matches(w, &env(pairs));
        let set = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();

        let (r, m, u) = run(
            "${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}",
            &[("FOO", "xxx"), ("BAR", "")],
        )
        .unwrap();
        assert_eq!(
            (r.as_str(), m, u),
            ("xxx  ccc", set(&["FOO", "BAR"]), set(&["BAZ"]))
        );
        let (r, ..) = run(
            "${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}",
            &[("FOO", "xxx"), ("BAR", "")],
        )
        .unwrap();
        assert_eq!(r, "xxx bbb ccc");
        let (r, ..) = run(
            "${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}",
            &[("FOO", "xxx"), ("BAR", "")],
        )
        .unwrap();
        assert_eq!(r, "aaa bbb ");
        let (r, ..) = run(
            "${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}",
            &[("FOO", "xxx"), ("BAR", "")],
        )
        .unwrap();
        assert_eq!(r, "aaa  ");
        let (r, m, u) = run("x", &[]).unwrap();
        assert_eq!((r.as_str(), m.len(), u.len()), ("x", 0, 0));
        assert!(run("${BAR:?bbb}", &[("BAR", "")]).is_err());
        assert!(run("${FOO=aaa}", &[("FOO", "x")]).is_err());
        assert!(run("${FOO=}", &[]).is_err());

        let ok = |w: &str, pairs: &[(&str, &str)], want: &str| {
            assert_eq!(run(w, pairs).map(|r| r.0), Ok(want.to_string()), "{w}");
        };
        ok(
            "${FOO#()[]{\\}^$.\\*\\?|\\\\}",
            &[("FOO", "()[]{}^$.*?|\\x")],
            "x",
        );
        ok("${FOO%%\\**}", &[("FOO", "xx**")], "xx");
        ok("${FOO#*x*y}", &[("FOO", "xxyy")], "y");
        ok("${FOO#*}", &[("FOO", "xxyy")], "xxyy");
        ok("${FOO#$BAR}", &[("FOO", "xxyy"), ("BAR", "x")], "xyy");
        ok("${FOO#$BAR}", &[("FOO", "xxyy"), ("BAR", "")], "xxyy");
        ok("${FOO#}", &[("FOO", "xxyy")], "xxyy");
        ok("${FOO##*x}", &[("FOO", "xxyy")], "yy");
        ok("${FOO##}", &[("FOO", "xxyy")], "xxyy");
        ok("${FOO#?\\?}", &[("FOO", "???y")], "?y");
        ok("${ABC:-.}${FOO%x}${ABC:-.}", &[("FOO", "xxyy")], ".xxyy.");
        ok("${FOO%%\\**\\*}", &[("FOO", "a***yy*")], "a");
        ok("${FOO%}", &[("FOO", "xxyy")], "xxyy");
        ok("${FOO%%$BAR}", &[("FOO", "xxyy"), ("BAR", "")], "xxyy");
        ok("${FOO%.*}", &[("FOO", "a.b.c")], "a.b");
        ok("${FOO%%.*}", &[("FOO", "a.b.c")], "a");
        ok("${FOO#*.}", &[("FOO", "a.b.c")], "b.c");
        ok("${FOO##*.}", &[("FOO", "a.b.c")], "c");
        for bad in [
            "${FOO:#}",
            "${FOO:##}",
            "${FOO:%}",
            "${FOO:%%}",
            "${FOO//ww}",
            "${FOO//}",
        ] {
            assert!(run(bad, &[("FOO", "xxyy")]).is_err(), "{bad}");
        }
        ok(
            "${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}",
            &[("FOO", "/foo*/*/*.txt"), ("NEEDLE", "\\*/")],
            "/foo.*/*.txt - /foo..*.txt",
        );
        ok(
            "${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}",
            &[("FOO", "/tmp/tmp/bar.txt"), ("NEEDLE", "/tmp")],
            "/tmp/bar.txt - /bar.txt",
        );
        ok(
            "${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
            &[
                ("FOO", "/a/foo/b/c.txt"),
                ("NEEDLE", "/?/"),
                ("REPLACEMENT", "/"),
            ],
            "/foo/b/c.txt - /foo/c.txt",
        );
        ok(
            "${FOO/$NEEDLE/$REPLACEMENT}",
            &[
                ("FOO", "http://google.de"),
                ("NEEDLE", "http://"),
                ("REPLACEMENT", "https://"),
            ],
            "https://google.de",
        );
        ok(
            "${FOO//\\//\\/}",
            &[("FOO", "/tmp/foo.txt")],
            "\\/tmp\\/foo.txt",
        );
        ok("${FOO/$BAR/ww}", &[("FOO", "xxyy"), ("BAR", "")], "wwxxyy");
        ok("${FOO///}", &[("FOO", "xxyy")], "xxyy");
        ok("${FOO///}", &[], "");

        let release = "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz";
        let base = [("VERSION", "v1.2.3"), ("TARGETOS", "linux")];
        ok(
            release,
            &[
                base[0],
                base[1],
                ("TARGETARCH", "arm"),
                ("TARGETVARIANT", "v7"),
            ],
            "something-v1.2.3.linux-arm-v7.tar.gz",
        );
        ok(
            release,
            &[
                base[0],
                base[1],
                ("TARGETARCH", "arm64"),
                ("TARGETVARIANT", ""),
            ],
            "something-v1.2.3.linux-arm64.tar.gz",
        );
        ok(
            release,
            &[base[0], base[1], ("TARGETARCH", "arm64")],
            "something-v1.2.3.linux-arm64.tar.gz",
        );
    }

    #[test]
    fn words_splitting() {
        // (env, input, expected words); "error" means an error.
        let e = env(&[
            ("hi", "hi"),
            ("space", "abc  def"),
            ("leading", "  ab c"),
            ("trailing", "ab c   "),
        ]);
        let cases: &[(&str, &[&str])] = &[
            ("hello", &["hello"]),
            ("hello${hi}bye", &["hellohibye"]),
            ("hello${space}bye", &["helloabc", "defbye"]),
            ("hello\"${space}\"bye", &["helloabc  defbye"]),
            ("hello \"${space}\"bye", &["hello", "abc  defbye"]),
            ("hello${leading}def", &["hello", "ab", "cdef"]),
            ("hello\"${leading}\" def", &["hello  ab c", "def"]),
            ("hello\"${leading}\"", &["hello  ab c"]),
            ("hello${leading}", &["hello", "ab", "c"]),
            ("hello${trailing}", &["helloab", "c"]),
            ("hello${trailing}d", &["helloab", "c", "d"]),
            ("hello\"${trailing}\"d", &["helloab c   d"]),
            ("hel\"lo${trailing}\"", &["helloab c   "]),
            ("hello\" there  \"", &["hello there  "]),
            ("hello there     ", &["hello", "there"]),
            ("hello\\ there", &["hello there"]),
            ("hello\\\" there", &["hello\"", "there"]),
            ("hello\"\\\\there\"", &["hello\\there"]),
            ("hello\"\\there\"", &["hello\\there"]),
            ("hello'\\\\there'", &["hello\\\\there"]),
            ("hello'$there'", &["hello$there"]),
            ("  a   b  ", &["a", "b"]),
            ("\"\"", &[]),
            ("'' x", &["x"]),
            // The stock quirk: a nested `${...}` word restarts the current field.
            ("a${x:-b}", &["b"]),
            ("a${hi}", &["ahi"]),
        ];
        let lex = Lexer::new('\\');
        for (input, want) in cases {
            let got = lex
                .process_words(input, &e)
                .unwrap_or_else(|err| panic!("{input}: {err}"));
            assert_eq!(got, *want, "input {input:?}");
        }
        assert!(lex.process_words("hello\" there", &e).is_err());
    }

    #[test]
    fn skip_unset_and_raw_quotes() {
        // The mode the stock frontend uses for shell-form commands seen by a shell later.
        let mut lex = Lexer::new('\\');
        lex.raw_quotes = true;
        lex.skip_unset_env = true;
        let e = env(&[("A", "1"), ("E", "")]);
        let w = |s: &str| lex.process_word(s, &e).unwrap();
        assert_eq!(w("$A $B ${B} ${A}"), "1 $B ${B} 1");
        assert_eq!(
            w("${B:-x} ${B+y} ${B/a/b} ${B#p}"),
            "${B:-x} ${B+y} ${B/a/b} ${B#p}"
        );
        assert_eq!(w("${B:x}"), "${B:x}");
        assert_eq!(w("'$A' \"$A\""), "'$A' \"1\"");
        assert_eq!(w("${E:-d}"), "d");
        let words = lex.process_words("hel\"lo${A}\" x'y z'", &e).unwrap();
        assert_eq!(words, vec!["hel\"lo1\"", "x'y z'"]);
    }

    #[test]
    fn raw_escapes_and_skip_quotes() {
        let mut lex = Lexer::new('\\');
        lex.raw_escapes = true;
        let e = env(&[("A", "1")]);
        assert_eq!(
            lex.process_word("a\\ b \\$A \"\\$A\" \"\\x\"", &e).unwrap(),
            "a\\ b \\$A \\$A \\\\x"
        );
        let mut lex = Lexer::new('\\');
        lex.skip_process_quotes = true;
        assert_eq!(lex.process_word("'$A' \"$A\"", &e).unwrap(), "'1' \"1\"");
    }

    #[test]
    fn backtick_escape() {
        let lex = Lexer::new('`');
        let e = env(&[("A", "1")]);
        assert_eq!(lex.process_word("C:\\dir\\$A", &e).unwrap(), "C:\\dir\\1");
        assert_eq!(lex.process_word("`$A ``", &e).unwrap(), "$A `");
        assert_eq!(lex.process_word("\"`\"`$A\"", &e).unwrap(), "\"$A");
        assert_eq!(lex.process_words("a` b c", &e).unwrap(), vec!["a b", "c"]);
    }
}
