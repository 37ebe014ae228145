//! `hoard eject`: the Dockerfile with hoard's mounts written out as standard `RUN --mount`
//! flags, for the stock frontend. Files hoard mounts (tool configuration, PATH shims) come from
//! a `hoard-files` stage added before the first stage; numeric `--from=N` references are shifted
//! to match. Env changes become an `export`/`unset` prefix of the command, and flag edits are
//! applied to the command text, so those RUNs' history lines read differently; the filesystem
//! and config are the same.

use std::collections::BTreeMap;

use super::offline::Offline;
use crate::cache::{EnvChange, MountKind};
use crate::error::Result;
use crate::parser;

fn sh_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-:=+,@%".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Shift a numeric `from` reference by one (the new first stage).
fn shift_from(word: &str, key: &str) -> String {
    match word.strip_prefix(key) {
        Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{key}{}", n.parse::<u64>().unwrap_or(0) + 1)
        }
        _ => word.to_string(),
    }
}

/// Produce the ejected Dockerfile.
pub fn eject(text: &str, off: &Offline) -> Result<String> {
    if !off.exact {
        return Err(crate::error::Error::new(format!(
            "cannot eject: {}",
            off.assumptions
                .first()
                .map(String::as_str)
                .unwrap_or("the Dockerfile does not convert")
        )));
    }
    let df = parser::parse(text)?;
    let lines: Vec<&str> = text.lines().collect();
    let mut files: Vec<(String, u32)> = Vec::new(); // content, mode
    let mut replace: BTreeMap<usize, (usize, String)> = BTreeMap::new(); // start -> (end, text)
    let ns = String::new();
    let _ = ns;

    for r in &off.plans {
        if r.plan.is_empty() {
            continue;
        }
        let Some(node) = df
            .nodes
            .iter()
            .find(|n| n.span.start == r.span.start && n.keyword == "run")
        else {
            continue;
        };
        let mut flags = String::new();
        for m in &r.plan.mounts {
            match &m.kind {
                MountKind::Cache {
                    id,
                    sharing,
                    uid,
                    gid,
                } => {
                    flags += &format!(
                        " --mount=type=cache,id={id},target={},sharing={}",
                        m.target,
                        sharing.as_str()
                    );
                    if *uid != 0 || *gid != 0 {
                        flags += &format!(",uid={uid},gid={gid}");
                    }
                }
                MountKind::Tmpfs => flags += &format!(" --mount=type=tmpfs,target={}", m.target),
                MountKind::File { content, mode } => {
                    let idx = match files.iter().position(|(c, md)| c == content && md == mode) {
                        Some(i) => i,
                        None => {
                            files.push((content.clone(), *mode));
                            files.len() - 1
                        }
                    };
                    flags += &format!(
                        " --mount=type=bind,from=hoard-files,source=/f{idx},target={}",
                        m.target
                    );
                }
            }
        }
        let mut prefix = String::new();
        for e in &r.plan.env {
            match e {
                EnvChange::Set(k, v) => prefix += &format!("export {k}={} && ", sh_quote(v)),
                EnvChange::Unset(k) => prefix += &format!("unset {k} && "),
            }
        }
        let first = lines[node.span.start - 1];
        let kw_end = first
            .find(|c: char| c.is_whitespace())
            .unwrap_or(first.len());
        let simple_shell = !node.json && node.heredocs.is_empty();
        let new_text = if (prefix.is_empty() && r.plan.script.is_none()) || !simple_shell {
            let mut t = format!("{}{flags}{}", &first[..kw_end], &first[kw_end..]);
            if !prefix.is_empty() || r.plan.script.is_some() {
                t = format!(
                    "# hoard eject: this step also needs {}; add it by hand (JSON or heredoc form)\n{t}",
                    r.plan.env.iter().map(|e| match e {
                        EnvChange::Set(k, v) => format!("{k}={v}"),
                        EnvChange::Unset(k) => format!("unset {k}"),
                    }).collect::<Vec<_>>().join(", ")
                );
            }
            let rest: Vec<&str> = lines[node.span.start..node.span.end].to_vec();
            std::iter::once(t)
                .chain(rest.into_iter().map(str::to_string))
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            let script = r.plan.script.clone().unwrap_or_else(|| node.args.join(" "));
            let user_flags = node
                .flags
                .iter()
                .map(|f| format!(" {f}"))
                .collect::<String>();
            format!("{}{user_flags}{flags} {prefix}{script}", &first[..kw_end])
        };
        replace.insert(node.span.start, (node.span.end, new_text));
    }

    let first_from = df
        .nodes
        .iter()
        .find(|n| n.keyword == "from")
        .map(|n| n.span.start)
        .unwrap_or(1);
    let mut out = String::new();
    let mut line = 1;
    while line <= lines.len() {
        let raw = lines[line - 1];
        if line == first_from && !files.is_empty() {
            out += "# Files hoard mounts into build steps (tool configuration, PATH shims).\nFROM scratch AS hoard-files\n";
            for (i, (content, mode)) in files.iter().enumerate() {
                let mut delim = format!("HOARD_FILE_{i}");
                while content.lines().any(|l| l == delim) {
                    delim.push('_');
                }
                out += &format!("COPY --chmod={mode:o} <<'{delim}' /f{i}\n{content}");
                if !content.ends_with('\n') {
                    out.push('\n');
                }
                out += &format!("{delim}\n");
            }
            out.push('\n');
        }
        if line < first_from
            && raw.trim_start().starts_with('#')
            && raw.to_ascii_lowercase().contains("syntax=")
            && raw.contains("hoard")
        {
            line += 1;
            continue;
        }
        if let Some((end, t)) = replace.get(&line) {
            out += t;
            out.push('\n');
            line = end + 1;
            continue;
        }
        if !files.is_empty() {
            if let Some(node) = df.nodes.iter().find(|n| n.span.start == line) {
                if node.keyword == "copy" || node.keyword == "run" {
                    let shifted: Vec<String> = raw
                        .split(' ')
                        .map(|w| {
                            if node.keyword == "copy" {
                                shift_from(w, "--from=")
                            } else if w.starts_with("--mount=") {
                                w.split(',')
                                    .map(|p| shift_from(p, "from="))
                                    .collect::<Vec<_>>()
                                    .join(",")
                            } else {
                                w.to_string()
                            }
                        })
                        .collect();
                    out += &shifted.join(" ");
                    out.push('\n');
                    line += 1;
                    continue;
                }
            }
        }
        out += raw;
        out.push('\n');
        line += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_shifting() {
        assert_eq!(sh_quote("/var/cache/hoard/pip"), "/var/cache/hoard/pip");
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(shift_from("--from=0", "--from="), "--from=1");
        assert_eq!(shift_from("--from=build", "--from="), "--from=build");
        assert_eq!(shift_from("from=2", "from="), "from=3");
    }
}
