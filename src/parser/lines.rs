//! Physical lines and the per-line rules: newline trimming, comments and the continuation marker.
//!
//! The stock parser reads the file with a line scanner that keeps each line's ending and gives up
//! on lines longer than 64 KiB; [`PhysicalLines`] does the same so the line numbering and the
//! failure on oversized lines match.

/// Largest scanner token the stock parser accepts (Go's `bufio.MaxScanTokenSize`).
pub(super) const MAX_TOKEN: usize = 64 * 1024;

/// Iterator over the lines of a file, each with its `\n` (if any) still attached.
pub(super) struct PhysicalLines<'a> {
    rest: &'a str,
    /// Set once a line too long for the stock scanner was met; iteration stops there.
    pub(super) too_long: bool,
}

impl<'a> PhysicalLines<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        PhysicalLines {
            rest: text,
            too_long: false,
        }
    }
}

impl<'a> Iterator for PhysicalLines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.too_long || self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match self.rest.find('\n') {
            Some(i) => self.rest.split_at(i + 1),
            None => (self.rest, ""),
        };
        // A token must fit in the scanner's 64 KiB buffer; a last line without a newline that
        // fills the buffer exactly is also refused, since the scanner asks for more room first.
        let unterminated = !line.ends_with('\n');
        if line.len() > MAX_TOKEN || (unterminated && line.len() >= MAX_TOKEN) {
            self.too_long = true;
            return None;
        }
        self.rest = rest;
        Some(line)
    }
}

/// Drop every trailing `\r` and `\n`.
pub(super) fn trim_newline(line: &str) -> &str {
    line.trim_end_matches(['\r', '\n'])
}

/// A comment is a line whose first non-space character is `#`.
pub(super) fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// A continuation line with nothing but whitespace on it.
pub(super) fn is_empty_continuation_line(line: &str) -> bool {
    trim_newline(line).trim_start().is_empty()
}

/// Remove a trailing continuation marker (the escape character followed only by spaces and tabs).
///
/// Returns the line without the marker and whether the logical line ends here. An escape
/// character preceded by another escape character is not a continuation (`foo \\`).
pub(super) fn trim_continuation(line: &str, escape: char) -> (&str, bool) {
    let trimmed = line.trim_end_matches([' ', '\t']);
    let Some(before) = trimmed.strip_suffix(escape) else {
        return (line, true);
    };
    if before.ends_with(escape) {
        return (line, true);
    }
    (before, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_their_endings() {
        let lines: Vec<_> = PhysicalLines::new("a\r\nb\n\nc").collect();
        assert_eq!(lines, ["a\r\n", "b\n", "\n", "c"]);
    }

    #[test]
    fn oversized_line_stops_iteration() {
        let long = "x".repeat(MAX_TOKEN);
        let text = format!("FROM a\n{long}\nRUN b\n");
        let mut it = PhysicalLines::new(&text);
        assert_eq!(it.next(), Some("FROM a\n"));
        assert_eq!(it.next(), None);
        assert!(it.too_long);
        // One byte less, including its newline, still fits.
        let ok = format!("{}\n", "x".repeat(MAX_TOKEN - 1));
        assert_eq!(PhysicalLines::new(&ok).count(), 1);
    }

    #[test]
    fn continuation_marker() {
        assert_eq!(trim_continuation("RUN a \\", '\\'), ("RUN a ", false));
        assert_eq!(trim_continuation("RUN a\\ \t ", '\\'), ("RUN a", false));
        assert_eq!(trim_continuation("\\", '\\'), ("", false));
        assert_eq!(trim_continuation("RUN a \\\\", '\\'), ("RUN a \\\\", true));
        assert_eq!(trim_continuation("RUN a", '\\'), ("RUN a", true));
        assert_eq!(trim_continuation("RUN a `", '`'), ("RUN a ", false));
        assert_eq!(trim_continuation("RUN a \\", '`'), ("RUN a \\", true));
    }

    #[test]
    fn comments_and_blank_lines() {
        assert!(is_comment("  # hi"));
        assert!(!is_comment("RUN # hi"));
        assert!(is_empty_continuation_line(" \t\r\n"));
        assert!(!is_empty_continuation_line(" x\n"));
    }
}
