//! Paths inside a stage, as the stock frontend computes them (Linux): working directories,
//! COPY/ADD sources and destinations, `--mount` targets; and which sources are remote URLs. One
//! place, so that every instruction joins, cleans and classifies paths the same way.

use crate::error::Result;

/// `system.NormalizeWorkdir` for Linux: join a relative path to the current one and clean it.
/// An empty path (`WORKDIR "${HOME}"` with `HOME` unset) keeps the current directory.
pub fn normalize_workdir(current: &str, requested: &str) -> Result<String> {
    if requested.is_empty() {
        return Ok(clean_path(&format!("/{current}")));
    }
    let joined = if requested.starts_with('/') {
        requested.to_string()
    } else {
        format!(
            "{}/{}",
            if current.is_empty() { "/" } else { current },
            requested
        )
    };
    Ok(clean_path(&joined))
}

pub use crate::llb::file::clean as clean_path;

/// A `--mount` target as an absolute, clean path (relative targets are under the working
/// directory).
pub fn mount_target(dir: &str, target: &str) -> String {
    if target.starts_with('/') {
        clean_path(target)
    } else {
        clean_path(&format!("/{dir}/{target}"))
    }
}

/// `system.NormalizePath(parent, p, keepSlash)` for Linux.
pub fn normalize_path(parent: &str, p: &str, keep_slash: bool) -> String {
    let joined = if p.starts_with('/') {
        clean_path(p)
    } else {
        clean_path(&format!("{parent}/{p}"))
    };
    if keep_slash && (p.ends_with('/') || p.ends_with("/.")) && !joined.ends_with('/') {
        format!("{joined}/")
    } else {
        joined
    }
}

/// A source that is an HTTP(S) URL (and not a git one): ADD downloads it.
pub fn is_http(s: &str) -> bool {
    (s.starts_with("http://") || s.starts_with("https://")) && !is_git(s)
}

/// A source that is a git URL (`git@`, `git://`, `ssh://`, or HTTP(S) ending in `.git`).
pub fn is_git(s: &str) -> bool {
    s.starts_with("git@")
        || s.starts_with("git://")
        || s.starts_with("ssh://")
        || ((s.starts_with("http://") || s.starts_with("https://"))
            && (s.split('#').next().unwrap_or("").ends_with(".git")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(clean_path("/a/b/../c/./"), "/a/c");
        assert_eq!(clean_path("/.."), "/");
        assert_eq!(normalize_workdir("/app", "sub").unwrap(), "/app/sub");
        assert_eq!(normalize_workdir("/app", "/x/").unwrap(), "/x");
        assert_eq!(normalize_workdir("/app", "").unwrap(), "/app");
        assert_eq!(normalize_workdir("", "").unwrap(), "/");
        assert_eq!(normalize_path("/app", "./", true), "/app/");
        assert_eq!(normalize_path("/app", "x/", true), "/app/x/");
        assert_eq!(normalize_path("/app", "/y", true), "/y");
        assert_eq!(normalize_path("/", "a/../b", false), "/b");
    }
}
