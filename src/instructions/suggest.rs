//! "did you mean" suffixes, like the stock `util/suggest`.

/// Levenshtein distance over characters (unit costs).
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let sub = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest option within distance 2, if `val` is not itself an option.
pub(crate) fn search(val: &str, options: &[&str], case_sensitive: bool) -> Option<String> {
    let v = if case_sensitive {
        val.to_string()
    } else {
        val.to_lowercase()
    };
    let mut best: Option<String> = None;
    let mut min = 3;
    for opt in options {
        let o = if case_sensitive {
            opt.to_string()
        } else {
            opt.to_lowercase()
        };
        if o == v {
            return None;
        }
        let d = levenshtein(&v, &o);
        if d < min {
            min = d;
            best = Some(if case_sensitive {
                o
            } else {
                match_case(&o, val)
            });
        }
    }
    best
}

fn match_case(opt: &str, orig: &str) -> String {
    if orig == orig.to_lowercase() {
        opt.to_lowercase()
    } else if orig == orig.to_uppercase() {
        opt.to_uppercase()
    } else {
        opt.to_string()
    }
}

/// `msg` with ` (did you mean X?)` appended when an option is close to `val`.
pub(crate) fn wrap(msg: String, val: &str, options: &[&str], case_sensitive: bool) -> String {
    match search(val, options, case_sensitive) {
        Some(m) => format!("{msg} (did you mean {m}?)"),
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("form", "from"), 2);
    }

    #[test]
    fn suggestions() {
        let opts = ["FROM", "RUN", "COPY"];
        assert_eq!(search("FORM", &opts, false).as_deref(), Some("FROM"));
        assert_eq!(search("form", &opts, false).as_deref(), Some("from"));
        assert_eq!(search("Form", &opts, false).as_deref(), Some("from"));
        assert_eq!(search("xyzzy", &opts, false), None);
        assert_eq!(search("run", &opts, false), None);
        assert_eq!(
            wrap("e".into(), "cpy", &opts, false),
            "e (did you mean copy?)"
        );
    }
}
