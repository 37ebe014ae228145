//! The stock parser's `Dump()` text: one `(keyword ["flags"] "arg" ...)` line per instruction,
//! strings quoted like Go's `strconv.Quote`.

use super::node::{Dockerfile, Node};

/// Go's `unicode.IsPrint`, approximated without category tables: letters, marks, numbers,
/// punctuation and symbols, plus the ASCII space. Control, format, separator, private-use and
/// non-character code points are not printable; unassigned ones are treated as printable.
fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    let format = matches!(
        u,
        0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x890..=0x891 | 0x8e2 | 0x180e
            | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2064 | 0x2066..=0x206f | 0xfeff
            | 0xfff9..=0xfffb | 0x110bd | 0x110cd | 0x13430..=0x1343f | 0x1bca0..=0x1bca3
            | 0x1d173..=0x1d17a | 0xe0001 | 0xe0020..=0xe007f
    );
    let private = matches!(u, 0xe000..=0xf8ff | 0xf0000..=0xffffd | 0x100000..=0x10fffd);
    let nonchar = matches!(u, 0xfdd0..=0xfdef) || (u & 0xfffe) == 0xfffe;
    !(format || private || nonchar)
}

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if is_print(c) => out.push(c),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

impl Node {
    /// The node without its enclosing parentheses, as Go's `Node.Dump` prints it.
    fn dump_inner(&self) -> String {
        let mut s = self.keyword.clone();
        if !self.flags.is_empty() {
            let flags: Vec<String> = self.flags.iter().map(|f| go_quote(f)).collect();
            s.push_str(&format!(" [{}]", flags.join(" ")));
        }
        if let Some(inner) = &self.inner {
            s.push_str(&format!(" ({})", inner.dump_inner()));
        }
        for a in &self.args {
            s.push(' ');
            s.push_str(&go_quote(a));
        }
        s.trim().to_string()
    }

    /// This instruction's line in the stock parser's dump, e.g. `(copy ["--chown=1"] "a" "/b")`.
    pub fn dump(&self) -> String {
        format!("({})", self.dump_inner())
    }
}

impl Dockerfile {
    /// The whole stock dump: one [`Node::dump`] line per instruction, each ending in `\n`
    /// (the format of the buildkit corpus `result` files).
    pub fn dump(&self) -> String {
        self.nodes.iter().map(|n| n.dump() + "\n").collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_like_go() {
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_quote("\t\n\x01\x7f"), r#""\t\n\x01\x7f""#);
        assert_eq!(go_quote("àöû 😀"), "\"àöû 😀\"");
        assert_eq!(
            go_quote("\u{a0}\u{200b}\u{feff}"),
            r#""\u00a0\u200b\ufeff""#
        );
        assert_eq!(go_quote("\u{e0001}"), r#""\U000e0001""#);
    }
}
