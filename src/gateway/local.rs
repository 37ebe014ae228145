//! Reading files from the client: `local://` source definitions for the Dockerfile and the
//! context's `.dockerignore`, and `.dockerignore` parsing.
//!
//! The two ops (source op + terminal op) are encoded in protobuf-go's byte order (an empty
//! `constraints` first, then the oneof; no empty attr values), so the Dockerfile-load vertex
//! digest that warnings attach to is the digest the daemon computes too.

use std::collections::BTreeMap;

use prost::Message as _;
use sha2::{Digest as _, Sha256};

use crate::proto::pb;

use super::caps::{self, CapSet};

pub const ATTR_LOCAL_SESSION: &str = "local.session";
pub const ATTR_INCLUDE_PATTERNS: &str = "local.includepattern";
pub const ATTR_FOLLOW_PATHS: &str = "local.followpaths";
pub const ATTR_SHARED_KEY_HINT: &str = "local.sharedkeyhint";
pub const ATTR_DIFFER: &str = "local.differ";
pub const CUSTOM_NAME: &str = "llb.customname";

/// A `local://<name>` source that transfers only a few named files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocalFiles {
    /// The local name (`dockerfile`, `context`, ...).
    pub name: String,
    /// Empty means none: then `local.session` is omitted (never an empty attr value).
    pub session_id: String,
    /// Files to transfer (both `local.includepattern` and `local.followpaths`).
    pub files: Vec<String>,
    pub shared_key_hint: String,
    /// The progress name, e.g. `[internal] load build definition from Dockerfile`.
    pub custom_name: String,
}

/// `"sha256:<hex>"` of some bytes.
pub fn digest_of(bytes: &[u8]) -> String {
    let sum = Sha256::digest(bytes);
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in sum {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Marshal an op like protobuf-go: fields in number order, but the oneof last. Enough for the
/// ops built here (no empty map values); general ops go through `crate::llb::encode`.
pub fn marshal_op(op: &pb::Op) -> Vec<u8> {
    let mut head = op.clone();
    let oneof = head.op.take();
    let mut buf = head.encode_to_vec();
    if let Some(o) = oneof {
        o.encode(&mut buf);
    }
    buf
}

impl LocalFiles {
    /// The source op's attributes (no empty values).
    pub fn attrs(&self) -> BTreeMap<String, String> {
        let mut a = BTreeMap::new();
        if !self.session_id.is_empty() {
            a.insert(ATTR_LOCAL_SESSION.into(), self.session_id.clone());
        }
        if !self.files.is_empty() {
            let list = serde_json::to_string(&self.files).expect("json");
            a.insert(ATTR_INCLUDE_PATTERNS.into(), list.clone());
            a.insert(ATTR_FOLLOW_PATHS.into(), list);
        }
        if !self.shared_key_hint.is_empty() {
            a.insert(ATTR_SHARED_KEY_HINT.into(), self.shared_key_hint.clone());
        }
        a.insert(ATTR_DIFFER.into(), "none".into());
        a
    }

    /// The definition (source op + terminal op) and the source op's digest (the vertex that
    /// warnings attach to). Only caps present in `llb_caps` are declared.
    pub fn definition(&self, llb_caps: &CapSet) -> (pb::Definition, String) {
        let op = pb::Op {
            inputs: vec![],
            platform: None,
            constraints: Some(pb::WorkerConstraints::default()),
            op: Some(pb::op::Op::Source(pb::SourceOp {
                identifier: format!("local://{}", self.name),
                attrs: self.attrs(),
            })),
        };
        let src_bytes = marshal_op(&op);
        let src_digest = digest_of(&src_bytes);

        let term = pb::Op {
            inputs: vec![pb::Input { digest: src_digest.clone(), index: 0 }],
            ..Default::default()
        };
        let term_bytes = marshal_op(&term);
        let term_digest = digest_of(&term_bytes);

        let keep = |ids: &[&str]| -> BTreeMap<String, bool> {
            ids.iter().filter(|c| llb_caps.supports(c)).map(|c| (c.to_string(), true)).collect()
        };
        let mut src_caps = vec![caps::llb::SOURCE_LOCAL];
        if !self.session_id.is_empty() {
            src_caps.push(caps::llb::SOURCE_LOCAL_SESSION_ID);
        }
        if !self.files.is_empty() {
            src_caps.push(caps::llb::SOURCE_LOCAL_INCLUDE_PATTERNS);
            src_caps.push(caps::llb::SOURCE_LOCAL_FOLLOW_PATHS);
        }
        if !self.shared_key_hint.is_empty() {
            src_caps.push(caps::llb::SOURCE_LOCAL_SHARED_KEY_HINT);
        }
        let mut src_md = pb::OpMetadata { caps: keep(&src_caps), ..Default::default() };
        if !self.custom_name.is_empty() {
            src_md.description.insert(CUSTOM_NAME.into(), self.custom_name.clone());
        }
        let mut term_caps = vec![caps::llb::CONSTRAINTS, caps::llb::PLATFORM];
        if !self.custom_name.is_empty() {
            term_caps.push(caps::llb::META_DESCRIPTION);
        }
        let term_md = pb::OpMetadata { caps: keep(&term_caps), ..Default::default() };

        let def = pb::Definition {
            def: vec![src_bytes, term_bytes],
            metadata: BTreeMap::from([(src_digest.clone(), src_md), (term_digest, term_md)]),
            source: None,
        };
        (def, src_digest)
    }
}

/// Go's `path.Clean` (slash-separated).
fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Parse a `.dockerignore` like `moby/patternmatcher/ignorefile.ReadAll`: `#` comments, trimmed
/// lines, `!` exceptions, cleaned paths relative to the context root.
pub fn parse_dockerignore(data: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(data);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut pattern = line.trim();
        if pattern.is_empty() {
            continue;
        }
        let invert = pattern.starts_with('!');
        if invert {
            pattern = pattern[1..].trim();
        }
        let mut p = String::new();
        if !pattern.is_empty() {
            p = clean_path(pattern);
            if p.len() > 1 && p.starts_with('/') {
                p.remove(0);
            }
        }
        out.push(if invert { format!("!{p}") } else { p });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_caps() -> CapSet {
        CapSet::from_ids(caps::DEFAULT_LLB_CAPS.iter().copied())
    }

    fn dockerfile_local(session: &str) -> LocalFiles {
        LocalFiles {
            name: "dockerfile".into(),
            session_id: session.into(),
            files: vec!["Dockerfile".into(), "Dockerfile.dockerignore".into()],
            shared_key_hint: "dockerfile".into(),
            custom_name: "[internal] load build definition from Dockerfile".into(),
        }
    }

    #[test]
    fn source_op_bytes_are_go_order() {
        let (def, dgst) = dockerfile_local("s1").definition(&all_caps());
        assert_eq!(def.def.len(), 2);
        let src = &def.def[0];
        // empty constraints (field 11) first, then the source oneof (field 3)
        assert_eq!(&src[..3], &[0x5a, 0x00, 0x1a]);
        assert_eq!(dgst, digest_of(src));
        let op = pb::Op::decode(&src[..]).unwrap();
        let Some(pb::op::Op::Source(s)) = op.op else { panic!() };
        assert_eq!(s.identifier, "local://dockerfile");
        assert_eq!(s.attrs["local.session"], "s1");
        assert_eq!(s.attrs["local.includepattern"], r#"["Dockerfile","Dockerfile.dockerignore"]"#);
        assert_eq!(s.attrs["local.followpaths"], r#"["Dockerfile","Dockerfile.dockerignore"]"#);
        assert_eq!(s.attrs["local.sharedkeyhint"], "dockerfile");
        assert_eq!(s.attrs["local.differ"], "none");
        // terminal op points at the source op
        let term = pb::Op::decode(&def.def[1][..]).unwrap();
        assert_eq!(term.inputs, vec![pb::Input { digest: dgst.clone(), index: 0 }]);
        let md = &def.metadata[&dgst];
        assert_eq!(md.description[CUSTOM_NAME], "[internal] load build definition from Dockerfile");
        assert!(md.caps.contains_key("source.local.sessionid"));
        assert!(md.caps.contains_key("source.local"));
    }

    #[test]
    fn no_empty_attr_values_and_no_session_without_id() {
        let (def, _) = dockerfile_local("").definition(&all_caps());
        let op = pb::Op::decode(&def.def[0][..]).unwrap();
        let Some(pb::op::Op::Source(s)) = op.op else { panic!() };
        assert!(!s.attrs.contains_key("local.session"));
        assert!(s.attrs.values().all(|v| !v.is_empty()));
    }

    #[test]
    fn only_supported_caps_are_declared() {
        let (def, dgst) = dockerfile_local("s").definition(&CapSet::from_ids(["source.local"]));
        assert_eq!(def.metadata[&dgst].caps.keys().collect::<Vec<_>>(), ["source.local"]);
        for md in def.metadata.values() {
            assert!(md.caps.keys().all(|k| k == "source.local"));
        }
    }

    #[test]
    fn digest_is_stable() {
        let a = dockerfile_local("s").definition(&all_caps()).1;
        let b = dockerfile_local("s").definition(&all_caps()).1;
        assert_eq!(a, b);
        assert_ne!(a, dockerfile_local("t").definition(&all_caps()).1);
        assert_eq!(digest_of(b""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn dockerignore_parsing() {
        let data = b"\xef\xbb\xbf# comment\n  node_modules  \n\n/abs/path\n!keep.txt\n! spaced\n./a/../b/\n*.log\n#x\n";
        assert_eq!(
            parse_dockerignore(data),
            ["node_modules", "abs/path", "!keep.txt", "!spaced", "b", "*.log"]
        );
        assert!(parse_dockerignore(b"").is_empty());
        assert_eq!(parse_dockerignore(b"/\n"), ["/"]);
        assert_eq!(clean_path("a//b/./c/.."), "a/b");
        assert_eq!(clean_path("../x"), "../x");
    }
}
