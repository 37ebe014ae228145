//! The JSON the stock parser accepts, decided the way Go's `encoding/json` decides it.
//!
//! Only two questions are asked of JSON here: "is this a JSON array of strings?" (exec form of
//! RUN/CMD/...) and "does this JSON object have a string field `syntax`?" (directive detection).
//! The answers depend on Go's exact rules: RFC 8259 syntax with a nesting limit of 10000, lone
//! surrogates in `\u` escapes decoded as U+FFFD, and numbers out of `float64` range rejected
//! during decoding. The scanner is iterative so deep nesting cannot overflow the stack.

/// Outcome of reading text as an exec-form argument list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ArrayForm {
    /// Not JSON (or not decodable): the caller falls back to the shell form.
    NotJson,
    /// Valid JSON array with an element that is not a string: an error in the stock parser.
    NotStrings,
    Strings(Vec<String>),
}

pub(super) const NOT_STRINGS: &str =
    "when using JSON array syntax, arrays must be comprised of strings only";

/// A direct member of the top-level value: a string, or anything else.
enum Item {
    Str(String),
    Other,
}

struct Top {
    /// First byte of the top-level value.
    open: u8,
    /// Direct members of the top-level array or object (keys for objects).
    members: Vec<(Option<String>, Item)>,
}

const MAX_DEPTH: usize = 10000;

struct Scanner<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl<'a> Scanner<'a> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.s.get(at..at + 4)?;
        let h = std::str::from_utf8(h).ok()?;
        if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(h, 16).ok()
    }

    /// A string starting at `"`; decoded.
    fn string(&mut self) -> Option<String> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let b = self.peek()?;
            match b {
                b'"' => {
                    self.i += 1;
                    return Some(out);
                }
                b'\\' => {
                    let e = *self.s.get(self.i + 1)?;
                    self.i += 2;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\x08'),
                        b'f' => out.push('\x0c'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let r = self.hex4(self.i)?;
                            self.i += 4;
                            if (0xd800..0xe000).contains(&r) {
                                // A valid pair is consumed whole; anything else is U+FFFD and
                                // the following escape is read on its own.
                                let pair = (self.s.get(self.i) == Some(&b'\\')
                                    && self.s.get(self.i + 1) == Some(&b'u'))
                                .then(|| self.hex4(self.i + 2))
                                .flatten();
                                match pair {
                                    Some(lo)
                                        if (0xd800..0xdc00).contains(&r)
                                            && (0xdc00..0xe000).contains(&lo) =>
                                    {
                                        let c = 0x10000 + ((r - 0xd800) << 10) + (lo - 0xdc00);
                                        out.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                                        self.i += 6;
                                    }
                                    _ => out.push('\u{fffd}'),
                                }
                            } else {
                                out.push(char::from_u32(r).unwrap_or('\u{fffd}'));
                            }
                        }
                        _ => return None,
                    }
                }
                0..=0x1f => return None,
                _ => {
                    // Copy one whole UTF-8 character.
                    let c = self.text[self.i..].chars().next()?;
                    out.push(c);
                    self.i += c.len_utf8();
                }
            }
        }
    }

    /// A number; `Some(true)` when it is out of `float64` range.
    fn number(&mut self) -> Option<bool> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                while matches!(self.peek(), Some(b'0'..=b'9')) {
                    self.i += 1;
                }
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return None;
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return None;
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        let v: f64 = self.text[start..self.i].parse().ok()?;
        Some(v.is_infinite())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.s.get(self.i..self.i + word.len())? == word {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Frame {
    Array,
    Object,
}

/// Scan a whole document. `None` when Go's `json.Unmarshal` into `any` would fail.
fn scan(text: &str) -> Option<Top> {
    let mut p = Scanner {
        s: text.as_bytes(),
        text,
        i: 0,
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut members = Vec::new();
    let mut key: Option<String> = None;
    p.ws();
    let open = p.peek()?;
    loop {
        // Read one value, or open a container.
        p.ws();
        let item = match p.peek()? {
            c @ (b'[' | b'{') => {
                p.i += 1;
                stack.push(if c == b'[' {
                    Frame::Array
                } else {
                    Frame::Object
                });
                if stack.len() > MAX_DEPTH {
                    return None;
                }
                p.ws();
                let close = if c == b'[' { b']' } else { b'}' };
                if p.peek() == Some(close) {
                    p.i += 1;
                    stack.pop();
                    Item::Other
                } else {
                    if c == b'{' {
                        let k = read_key(&mut p)?;
                        if stack.len() == 1 {
                            key = Some(k);
                        }
                    }
                    continue;
                }
            }
            b'"' => Item::Str(p.string()?),
            b't' => p.literal(b"true").map(|_| Item::Other)?,
            b'f' => p.literal(b"false").map(|_| Item::Other)?,
            b'n' => p.literal(b"null").map(|_| Item::Other)?,
            b'-' | b'0'..=b'9' => {
                if p.number()? {
                    return None;
                }
                Item::Other
            }
            _ => return None,
        };
        // A value is complete; close containers as far as the input says.
        let mut item = Some(item);
        loop {
            if let Some(it) = item.take() {
                if stack.len() == 1 {
                    members.push((key.take(), it));
                }
            }
            p.ws();
            let Some(&frame) = stack.last() else {
                // Top-level value done: only whitespace may follow.
                return (p.i == p.s.len()).then_some(Top { open, members });
            };
            match (frame, p.peek()?) {
                (_, b',') => {
                    p.i += 1;
                    if frame == Frame::Object {
                        let k = read_key(&mut p)?;
                        if stack.len() == 1 {
                            key = Some(k);
                        }
                    }
                    break;
                }
                (Frame::Array, b']') | (Frame::Object, b'}') => {
                    p.i += 1;
                    stack.pop();
                    item = Some(Item::Other);
                }
                _ => return None,
            }
        }
    }
}

/// `"key" :` inside an object.
fn read_key(p: &mut Scanner<'_>) -> Option<String> {
    p.ws();
    if p.peek()? != b'"' {
        return None;
    }
    let k = p.string()?;
    p.ws();
    if p.peek()? != b':' {
        return None;
    }
    p.i += 1;
    Some(k)
}

/// Read `rest` as an exec-form list the way the stock `parseJSON` does.
pub(super) fn parse_array(rest: &str) -> ArrayForm {
    let rest = rest.trim_start();
    if !rest.starts_with('[') {
        return ArrayForm::NotJson;
    }
    let Some(top) = scan(rest) else {
        return ArrayForm::NotJson;
    };
    let mut out = Vec::with_capacity(top.members.len());
    for (_, item) in top.members {
        match item {
            Item::Str(s) => out.push(s),
            Item::Other => return ArrayForm::NotStrings,
        }
    }
    ArrayForm::Strings(out)
}

/// The string value of `key` in a JSON object document (the last one if repeated).
pub(super) fn object_string_field(text: &str, key: &str) -> Option<String> {
    let top = scan(text)?;
    if top.open != b'{' {
        return None;
    }
    match top
        .members
        .into_iter()
        .rev()
        .find(|(k, _)| k.as_deref() == Some(key))?
        .1
    {
        Item::Str(s) => Some(s),
        Item::Other => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> ArrayForm {
        ArrayForm::Strings(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn arrays() {
        assert_eq!(parse_array(r#"["a", "b c"]"#), strings(&["a", "b c"]));
        assert_eq!(parse_array(r#"  [ ]"#), strings(&[]));
        assert_eq!(parse_array(r#"["a\n\"\u00e9\/"]"#), strings(&["a\n\"é/"]));
        assert_eq!(
            parse_array(r#"["\ud83d\ude00", "\ud800x", "\udc00"]"#),
            strings(&["😀", "\u{fffd}x", "\u{fffd}"])
        );
        assert_eq!(parse_array(r#"["\ud800\u0041"]"#), strings(&["\u{fffd}A"]));
        assert_eq!(parse_array(r#"[1]"#), ArrayForm::NotStrings);
        assert_eq!(parse_array(r#"["a", ["b"]]"#), ArrayForm::NotStrings);
        assert_eq!(
            parse_array(r#"["a", {"b": [1, null]}]"#),
            ArrayForm::NotStrings
        );
        assert_eq!(parse_array(r#"[1e400]"#), ArrayForm::NotJson);
        assert_eq!(parse_array(r#"["a", [1e400]]"#), ArrayForm::NotJson);
        assert_eq!(parse_array(r#"['a']"#), ArrayForm::NotJson);
        assert_eq!(parse_array(r#"["a""#), ArrayForm::NotJson);
        assert_eq!(parse_array(r#"["a"] x"#), ArrayForm::NotJson);
        assert_eq!(parse_array(r#"["a",]"#), ArrayForm::NotJson);
        assert_eq!(parse_array(r#"[01]"#), ArrayForm::NotJson);
        assert_eq!(parse_array("[\"\t\"]"), ArrayForm::NotJson);
        assert_eq!(parse_array(r#"["\x"]"#), ArrayForm::NotJson);
        assert_eq!(parse_array("a"), ArrayForm::NotJson);
    }

    #[test]
    fn nesting_limit() {
        let ok = format!(
            "[{}{}]",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert_eq!(parse_array(&ok), ArrayForm::NotStrings);
        let deep = format!("[{}{}]", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(parse_array(&deep), ArrayForm::NotJson);
    }

    #[test]
    fn objects() {
        assert_eq!(
            object_string_field(r#"{"syntax": "x", "a": {"syntax": "y"}}"#, "syntax"),
            Some("x".into())
        );
        assert_eq!(
            object_string_field(r#"{"syntax": "x", "syntax": 1}"#, "syntax"),
            None
        );
        assert_eq!(object_string_field(r#"{"syntax": "x""#, "syntax"), None);
        assert_eq!(object_string_field(r#"["syntax"]"#, "syntax"), None);
        assert_eq!(object_string_field(r#"{}"#, "syntax"), None);
    }
}
