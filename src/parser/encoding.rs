//! The Dockerfile's bytes must be UTF-8 wherever they reach the build: the stock frontend fails
//! on an instruction holding other bytes (protobuf refuses them in the LLB's string fields:
//! "string field contains invalid UTF-8"), while comments may hold anything. The rest of the
//! pipeline reads the text lossily (U+FFFD), so a build refuses such an instruction first, with
//! its line, instead of building something other than what was written.

use crate::error::{Error, Result, Span};

/// The first line that is not a comment and holds bytes that are not UTF-8, as an error.
pub fn check_utf8(data: &[u8]) -> Result<()> {
    if std::str::from_utf8(data).is_ok() {
        return Ok(());
    }
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        if std::str::from_utf8(line).is_ok() {
            continue;
        }
        let start = line
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(line.len());
        if line.get(start) == Some(&b'#') {
            continue;
        }
        return Err(Error::at(
            Span::line(i + 1),
            "this instruction holds bytes that are not valid UTF-8 (the Dockerfile must be UTF-8 text)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_must_be_utf8_comments_need_not() {
        assert!(check_utf8(b"FROM a\nRUN echo caf\xc3\xa9\n").is_ok());
        assert!(check_utf8(b"FROM a\n  # caf\xe9\nRUN true\n").is_ok());
        let e = check_utf8(b"FROM a\nRUN true\nLABEL a=\"\xff\xfe\"\n").unwrap_err();
        assert_eq!(e.span, Some(Span::line(3)));
    }
}
