//! Test helper shared by the shell analysis unit tests and `tests/corpus_analysis.rs`
//! (included there by path).

/// Quote removal the way the analysis does it, for words without substitutions.
pub fn dequote(s: &str) -> String {
    let b: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            '\\' => {
                if let Some(&c) = b.get(i + 1) {
                    out.push(c);
                    i += 2;
                } else {
                    out.push('\\');
                    i += 1;
                }
            }
            '\'' => {
                i += 1;
                while i < b.len() && b[i] != '\'' {
                    out.push(b[i]);
                    i += 1;
                }
                i += 1;
            }
            '$' if b.get(i + 1) == Some(&'\'') => {
                i += 2;
                while i < b.len() && b[i] != '\'' {
                    if b[i] == '\\' && i + 1 < b.len() {
                        match b[i + 1] {
                            'n' => out.push('\n'),
                            't' => out.push('\t'),
                            c @ ('\\' | '\'' | '"') => out.push(c),
                            c => {
                                out.push('\\');
                                out.push(c);
                            }
                        }
                        i += 2;
                    } else {
                        out.push(b[i]);
                        i += 1;
                    }
                }
                i += 1;
            }
            '"' => {
                i += 1;
                while i < b.len() && b[i] != '"' {
                    if b[i] == '\\' && matches!(b.get(i + 1), Some('$' | '`' | '"' | '\\')) {
                        out.push(b[i + 1]);
                        i += 2;
                    } else {
                        out.push(b[i]);
                        i += 1;
                    }
                }
                i += 1;
            }
            '$' if b.get(i + 1) == Some(&'"') => {
                i += 1;
            }
            // `$$`, `$?`, `$1`, `$name`: copied as one unit.
            '$' if b
                .get(i + 1)
                .is_some_and(|c| "@*#?$!-0123456789".contains(*c)) =>
            {
                out.push('$');
                out.push(b[i + 1]);
                i += 2;
            }
            '$' if b
                .get(i + 1)
                .is_some_and(|c| *c == '_' || c.is_ascii_alphabetic()) =>
            {
                out.push('$');
                i += 1;
                while i < b.len() && (b[i] == '_' || b[i].is_ascii_alphanumeric()) {
                    out.push(b[i]);
                    i += 1;
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}
