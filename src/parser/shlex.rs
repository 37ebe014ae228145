//! The slice of the stock shell lexer that heredoc detection relies on.
//!
//! The stock parser finds heredoc markers by word-splitting the whole instruction line with its
//! shell lexer (backslash escape, no variables set, unset variables kept as written), and decides
//! whether a heredoc expands variables by lexing its delimiter with and without raw quotes.
//! Because every variable is unset, `$x` and `${x...}` come back as written; what matters is
//! where words split, which errors abort the lexing, and the lexer's quirks (the word buffer is
//! shared with nested `${...}` words, `<<` keeps the spaces after it in the same word).

const ESCAPE: char = '\\';

/// How deeply `${...}` may nest. The lexer recurses once per level; without a bound, a line of
/// a few thousand `${a:-` overflowed the stack (found by `tests/fuzz_mutations.rs`). The stock
/// lexer has no bound (Go's stacks grow); a line nested deeper is an error, never a line
/// silently read without its heredocs.
pub(super) const MAX_NESTING: usize = 100;

/// The end of the error of a line nested deeper than [`MAX_NESTING`].
pub(super) const TOO_DEEP: &str = "nested substitutions";

pub(super) struct Lexer {
    /// Keep quote characters in the output.
    pub(super) raw_quotes: bool,
    /// Keep escape characters in the output.
    pub(super) raw_escapes: bool,
}

struct State {
    chars: Vec<char>,
    pos: usize,
    raw_quotes: bool,
    raw_escapes: bool,
    /// The word buffer, shared by nested `process_stop_on` calls like the stock lexer's.
    buf: String,
    /// How many `${...}` the lexer is inside.
    depth: usize,
}

#[derive(Default)]
struct Words {
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, buf: &mut String, ch: char) {
        if ch.is_whitespace() {
            if self.in_word && !buf.is_empty() {
                self.words.push(std::mem::take(buf));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(buf, ch);
        }
    }
    fn add_raw_char(&mut self, buf: &mut String, ch: char) {
        buf.push(ch);
        self.in_word = true;
    }
    fn add_string(&mut self, buf: &mut String, s: &str) {
        for ch in s.chars() {
            self.add_char(buf, ch);
        }
    }
    fn add_raw_string(&mut self, buf: &mut String, s: &str) {
        buf.push_str(s);
        self.in_word = true;
    }
    fn finish(mut self, buf: &mut String) -> Vec<String> {
        if !buf.is_empty() {
            self.words.push(std::mem::take(buf));
        }
        self.words
    }
}

fn is_special_param(c: char) -> bool {
    matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0')
}

impl State {
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

    fn process_stop_on(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<(String, Vec<String>), String> {
        if self.depth > MAX_NESTING {
            return Err(format!("syntax error: more than {MAX_NESTING} {TOO_DEEP}"));
        }
        self.depth += 1;
        let saved = self.raw_escapes;
        self.raw_escapes = raw_escapes;
        let r = self.stop_on(stop);
        self.raw_escapes = saved;
        self.depth -= 1;
        r
    }

    fn stop_on(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), String> {
        let mut result = String::new();
        self.buf.clear();
        let mut words = Words::default();
        while let Some(ch) = self.peek() {
            if stop == Some(ch) {
                self.next();
                return Ok((result, words.finish(&mut self.buf)));
            }
            match ch {
                '$' => {
                    let tmp = self.process_dollar()?;
                    result.push_str(&tmp);
                    words.add_string(&mut self.buf, &tmp);
                }
                '<' | '\'' | '"' => {
                    let tmp = match ch {
                        '<' => self.process_possible_heredoc(),
                        '\'' => self.process_single_quote()?,
                        _ => self.process_double_quote()?,
                    };
                    result.push_str(&tmp);
                    words.add_raw_string(&mut self.buf, &tmp);
                }
                _ => {
                    self.next();
                    let mut ch = ch;
                    if ch == ESCAPE {
                        if self.raw_escapes {
                            words.add_raw_char(&mut self.buf, ch);
                            result.push(ch);
                        }
                        match self.next() {
                            None => break,
                            Some(c) => ch = c,
                        }
                        words.add_raw_char(&mut self.buf, ch);
                    } else {
                        words.add_char(&mut self.buf, ch);
                    }
                    result.push(ch);
                }
            }
        }
        if let Some(stop) = stop {
            return Err(format!(
                "unexpected end of statement while looking for matching {stop}"
            ));
        }
        Ok((result, words.finish(&mut self.buf)))
    }

    fn process_single_quote(&mut self) -> Result<String, String> {
        let mut out = String::new();
        let open = self.next().unwrap_or('\'');
        if self.raw_quotes {
            out.push(open);
        }
        loop {
            match self.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    )
                }
                Some('\'') => {
                    if self.raw_quotes {
                        out.push('\'');
                    }
                    return Ok(out);
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn process_double_quote(&mut self) -> Result<String, String> {
        let mut out = String::new();
        let open = self.next().unwrap_or('"');
        if self.raw_quotes {
            out.push(open);
        }
        loop {
            match self.peek() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    )
                }
                Some('"') => {
                    self.next();
                    if self.raw_quotes {
                        out.push('"');
                    }
                    return Ok(out);
                }
                Some('$') => out.push_str(&self.process_dollar()?),
                Some(_) => {
                    let mut ch = self.next().unwrap_or_default();
                    if ch == ESCAPE {
                        if self.raw_escapes {
                            out.push(ch);
                        }
                        match self.peek() {
                            None => continue,
                            Some('"' | '$' | ESCAPE) => ch = self.next().unwrap_or_default(),
                            Some(_) => {}
                        }
                    }
                    out.push(ch);
                }
            }
        }
    }

    fn process_name(&mut self) -> String {
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if name.is_empty() && ch.is_numeric() {
                while let Some(d) = self.peek().filter(|c| c.is_numeric()) {
                    self.next();
                    name.push(d);
                }
                return name;
            }
            if name.is_empty() && is_special_param(ch) {
                self.next();
                return ch.to_string();
            }
            if !ch.is_alphanumeric() && ch != '_' {
                break;
            }
            self.next();
            name.push(ch);
        }
        name
    }

    /// `$name` / `${...}` with every variable unset: returned as written (or an error).
    fn process_dollar(&mut self) -> Result<String, String> {
        self.next();
        if self.peek() != Some('{') {
            let name = self.process_name();
            return Ok(format!("${name}"));
        }
        self.next();
        match self.peek() {
            None => return Err("syntax error: missing '}'".into()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".into()),
            _ => {}
        }
        let name = self.process_name();
        let ch = self.next();
        // Go turns EOF (-1) into U+FFFD when printing the modifier.
        let mut chs = ch.unwrap_or('\u{fffd}').to_string();
        match ch {
            Some('}') => Ok(format!("${{{name}}}")),
            Some(':' | '+' | '-' | '?' | '#' | '%') => {
                let mut modifier = ch;
                let null_is_unset = modifier == Some(':');
                if null_is_unset {
                    modifier = self.next();
                    chs.push(modifier.unwrap_or('\u{fffd}'));
                }
                let raw = matches!(modifier, Some('#' | '%'));
                if null_is_unset && raw {
                    return Err(format!("unsupported modifier ({chs}) in substitution"));
                }
                let (word, _) = self.process_stop_on(Some('}'), raw).map_err(|e| {
                    if self.peek().is_none() {
                        "syntax error: missing '}'".to_string()
                    } else {
                        e
                    }
                })?;
                Ok(format!("${{{name}{chs}{word}}}"))
            }
            Some('/') => {
                if self.peek() == Some('/') {
                    self.next();
                }
                let (pattern, _) = self.process_stop_on(Some('/'), true).map_err(|e| {
                    if self.peek().is_none() {
                        "syntax error: missing '/' in ${}".to_string()
                    } else {
                        e
                    }
                })?;
                let (replacement, _) = self.process_stop_on(Some('}'), true).map_err(|e| {
                    if self.peek().is_none() {
                        "syntax error: missing '}'".to_string()
                    } else {
                        e
                    }
                })?;
                Ok(format!("${{{name}/{pattern}/{replacement}}}"))
            }
            _ => Err(format!("unsupported modifier ({chs}) in substitution")),
        }
    }

    fn process_possible_heredoc(&mut self) -> String {
        self.next();
        if self.peek() != Some('<') {
            return "<".into();
        }
        self.next();
        let mut out = String::from("<<");
        while let Some(c) = self.peek().filter(|c| matches!(c, '\t' | '\r' | ' ')) {
            out.push(c);
            self.next();
        }
        out
    }
}

impl Lexer {
    /// Split `input` into shell words; on a lexing error, the error message.
    pub(super) fn words(&self, input: &str) -> Result<Vec<String>, String> {
        // Go's text/scanner skips a leading byte-order mark.
        let input = input.strip_prefix('\u{feff}').unwrap_or(input);
        let mut st = State {
            chars: input.chars().collect(),
            pos: 0,
            raw_quotes: self.raw_quotes,
            raw_escapes: self.raw_escapes,
            buf: String::new(),
            depth: 0,
        };
        let raw = st.raw_escapes;
        st.process_stop_on(None, raw)
            .map(|(_, words)| words)
            .map_err(|e| format!("failed to process {}: {e}", super::dump::go_quote(input)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Vec<String> {
        Lexer {
            raw_quotes: true,
            raw_escapes: true,
        }
        .words(s)
        .unwrap()
    }
    fn cooked(s: &str) -> Result<Vec<String>, String> {
        Lexer {
            raw_quotes: false,
            raw_escapes: false,
        }
        .words(s)
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let nested = |n: usize| format!("RUN {}x{}", "${A:-".repeat(n), "}".repeat(n));
        assert_eq!(raw(&nested(MAX_NESTING)).len(), 2);
        let e = cooked(&nested(MAX_NESTING + 1)).unwrap_err();
        assert!(e.ends_with(TOO_DEEP), "{e}");
        assert!(cooked(&"${A:-".repeat(5000))
            .unwrap_err()
            .ends_with(TOO_DEEP));
    }

    #[test]
    fn raw_words_keep_quotes_and_escapes() {
        assert_eq!(raw("RUN <<EOF cat"), ["RUN", "<<EOF", "cat"]);
        assert_eq!(raw("RUN <<  EOF  > foo"), ["RUN", "<<  EOF", ">", "foo"]);
        assert_eq!(
            raw(r#"RUN "<<X" <<'e'o\'f"#),
            ["RUN", "\"<<X\"", r"<<'e'o\'f"]
        );
        assert_eq!(raw("RUN $a ${b:-c d}"), ["RUN", "$a", "${b:-c", "d}"]);
    }

    #[test]
    fn cooked_words() {
        assert_eq!(cooked("'EOF'").unwrap(), ["EOF"]);
        assert_eq!(cooked(r"eo\'f").unwrap(), ["eo'f"]);
        assert_eq!(cooked("'one two'").unwrap(), ["one two"]);
        assert_eq!(cooked("a b").unwrap(), ["a", "b"]);
        assert!(cooked("'EOF").unwrap_err().contains("single-quote"));
        assert!(cooked("${").unwrap_err().contains("missing '}'"));
        assert!(cooked("${a")
            .unwrap_err()
            .contains("unsupported modifier (\u{fffd})"));
        assert!(cooked("${a:-b").unwrap_err().contains("missing '}'"));
        assert!(cooked("${}").unwrap_err().contains("bad substitution"));
        assert!(cooked("${a:#x}")
            .unwrap_err()
            .contains("unsupported modifier (:#)"));
    }

    #[test]
    fn nested_words_share_the_buffer() {
        // The stock lexer drops what preceded `${...:-...}` in the same word.
        assert_eq!(cooked("foo${x:-y}").unwrap(), ["${x:-y}"]);
    }
}
