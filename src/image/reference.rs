//! Image references normalised like `reference.ParseNormalizedNamed` + `TagNameOnly`:
//! `busybox` becomes `docker.io/library/busybox:latest`. The daemon needs the explicit tag.

use crate::error::Error;

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub domain: String,
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Reference {
    /// `domain/path[:tag][@digest]`.
    pub fn full(&self) -> String {
        self.name() + &self.suffix()
    }

    /// The familiar form (`reference.FamiliarString`): `docker.io/library/alpine:3` ->
    /// `alpine:3`, `docker.io/a/b` -> `a/b`, other registries unchanged.
    pub fn familiar(&self) -> String {
        let path = match (self.domain.as_str(), self.path.strip_prefix("library/")) {
            ("docker.io", Some(rest)) if !rest.contains('/') => rest.to_string(),
            ("docker.io", _) => self.path.clone(),
            _ => self.name(),
        };
        path + &self.suffix()
    }

    /// `[:tag][@digest]`.
    fn suffix(&self) -> String {
        let mut s = String::new();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }

    /// The repository name without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// Pin to a digest (keeping the tag, as `reference.WithDigest` does).
    pub fn with_digest(&self, digest: &str) -> Reference {
        Reference {
            digest: Some(digest.to_string()),
            ..self.clone()
        }
    }
}

fn invalid(s: &str, why: &str) -> Error {
    Error::new(format!(
        "failed to parse stage name \"{s}\": invalid reference format{why}"
    ))
}

fn valid_component(c: &str) -> bool {
    // [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*
    if c.is_empty() {
        return false;
    }
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // a separator run
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|&x| x.is_ascii_alphanumeric() || x == b'_' || x == b'.' || x == b'-')
}

fn valid_digest(d: &str) -> bool {
    match d.split_once(':') {
        Some((alg, hex)) => {
            !alg.is_empty()
                && alg
                    .bytes()
                    .all(|x| x.is_ascii_lowercase() || x.is_ascii_digit() || b"+._-".contains(&x))
                && hex.len() >= 32
                && hex.bytes().all(|x| x.is_ascii_hexdigit())
        }
        None => false,
    }
}

fn valid_domain(d: &str) -> bool {
    // host[:port]; hosts are dot-separated labels of [A-Za-z0-9-], or a bracketed IPv6.
    let (host, port) = if d.starts_with('[') {
        match d.find(']') {
            Some(i) => (&d[..=i], d[i + 1..].strip_prefix(':')),
            None => return false,
        }
    } else {
        match d.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|x| x.is_ascii_digit()) {
            return false;
        }
    }
    host.starts_with('[')
        || (!host.is_empty()
            && host.split('.').all(|l| {
                !l.is_empty()
                    && l.bytes().all(|x| x.is_ascii_alphanumeric() || x == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            }))
}

/// Parse and normalise an image reference; adds `docker.io/library/` and `:latest` as needed.
pub fn normalize_reference(s: &str) -> Result<Reference, Error> {
    if s.is_empty() {
        return Err(invalid(s, ""));
    }
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => {
            if !valid_digest(d) {
                return Err(invalid(s, ""));
            }
            (r, Some(d.to_string()))
        }
        None => (s, None),
    };
    // A tag is after the last ':' that follows the last '/'.
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => {
            let t = &rest[last_slash + i + 1..];
            if !valid_tag(t) {
                return Err(invalid(s, ""));
            }
            (&rest[..last_slash + i], Some(t.to_string()))
        }
        None => (rest, None),
    };
    let (mut domain, mut path) = match name.split_once('/') {
        Some((d, p))
            if d.contains('.') || d.contains(':') || d == "localhost" || d.to_lowercase() != d =>
        {
            (d.to_string(), p.to_string())
        }
        _ => ("docker.io".to_string(), name.to_string()),
    };
    if domain == "index.docker.io" {
        domain = "docker.io".into();
    }
    if domain == "docker.io" && !path.contains('/') {
        path = format!("library/{path}");
    }
    if path.to_lowercase() != path {
        return Err(Error::new(format!(
            "failed to parse stage name \"{s}\": invalid reference format: repository name ({path}) must be lowercase"
        )));
    }
    if !valid_domain(&domain) || !path.split('/').all(valid_component) {
        return Err(invalid(s, ""));
    }
    let tag = if tag.is_none() && digest.is_none() {
        Some("latest".to_string())
    } else {
        tag
    };
    Ok(Reference {
        domain,
        path,
        tag,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalize_reference(s).unwrap().full()
    }

    #[test]
    fn normalises_like_docker() {
        assert_eq!(n("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(n("bars/busybox"), "docker.io/bars/busybox:latest");
        assert_eq!(
            n("hoard-test/busybox:latest"),
            "docker.io/hoard-test/busybox:latest"
        );
        assert_eq!(n("localhost:5000/hoard:1"), "localhost:5000/hoard:1");
        assert_eq!(n("ghcr.io/a/b/c:v1.2"), "ghcr.io/a/b/c:v1.2");
        assert_eq!(
            n("index.docker.io/library/alpine"),
            "docker.io/library/alpine:latest"
        );
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            n(&format!("alpine@{d}")),
            format!("docker.io/library/alpine@{d}")
        );
        assert_eq!(
            n(&format!("alpine:3@{d}")),
            format!("docker.io/library/alpine:3@{d}")
        );
    }

    #[test]
    fn rejects_bad_references() {
        for bad in [
            "",
            "Busybox",
            "a b",
            "alpine:",
            "alpine:-x",
            "-a",
            "a//b",
            "a@sha256:zz",
        ] {
            assert!(normalize_reference(bad).is_err(), "{bad:?} should fail");
        }
        let e = normalize_reference("Busybox").unwrap_err();
        assert!(e.message.contains("must be lowercase"), "{}", e.message);
    }
}
