//! Reading files from the client: `local://` source definitions for the Dockerfile and the
//! context's `.dockerignore`, and `.dockerignore` parsing.
//!
//! The two ops (source op + terminal op) are encoded in protobuf-go's byte order (an empty
//! `constraints` first, then the oneof; no empty attr values), so the Dockerfile-load vertex
//! digest that warnings attach to is the digest the daemon computes too.

use std::collections::BTreeMap;

use crate::proto::pb;

use super::caps::CapSet;

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
    /// warnings attach to), built by the LLB encoder so its bytes are protobuf-go's.
    /// Caps the daemon does not list are left out (these are all long-standing ones).
    pub fn definition(&self, llb_caps: &CapSet) -> (pb::Definition, String) {
        let opts = crate::llb::LocalOpts {
            session_id: (!self.session_id.is_empty()).then(|| self.session_id.clone()),
            unique_id: format!("hoard-{}", self.name),
            include_patterns: self.files.clone(),
            follow_paths: self.files.clone(),
            shared_key_hint: (!self.shared_key_hint.is_empty())
                .then(|| self.shared_key_hint.clone()),
            differ: Some(crate::llb::Differ {
                kind: "none".into(),
                required: false,
            }),
            ..Default::default()
        };
        let meta = if self.custom_name.is_empty() {
            crate::llb::OpMeta::default()
        } else {
            crate::llb::OpMeta::named(self.custom_name.clone())
        };
        let out = crate::llb::local(&self.name, &opts, meta);
        let digest = out.digest().to_string();
        let mut def = crate::llb::marshal(Some(&out), &[]).into_pb();
        for md in def.metadata.values_mut() {
            md.caps.retain(|c, _| llb_caps.supports(c));
        }
        (def, digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::caps;
    use prost::Message as _;

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
        assert_eq!(dgst, crate::llb::encode::digest(src));
        let op = pb::Op::decode(&src[..]).unwrap();
        let Some(pb::op::Op::Source(s)) = op.op else {
            panic!()
        };
        assert_eq!(s.identifier, "local://dockerfile");
        assert_eq!(s.attrs["local.session"], "s1");
        assert_eq!(
            s.attrs["local.includepattern"],
            r#"["Dockerfile","Dockerfile.dockerignore"]"#
        );
        assert_eq!(
            s.attrs["local.followpaths"],
            r#"["Dockerfile","Dockerfile.dockerignore"]"#
        );
        assert_eq!(s.attrs["local.sharedkeyhint"], "dockerfile");
        assert_eq!(s.attrs["local.differ"], "none");
        // terminal op points at the source op
        let term = pb::Op::decode(&def.def[1][..]).unwrap();
        assert_eq!(
            term.inputs,
            vec![pb::Input {
                digest: dgst.clone(),
                index: 0
            }]
        );
        let md = &def.metadata[&dgst];
        assert_eq!(
            md.description[CUSTOM_NAME],
            "[internal] load build definition from Dockerfile"
        );
        assert!(md.caps.contains_key("source.local.sessionid"));
        assert!(md.caps.contains_key("source.local"));
    }

    #[test]
    fn no_empty_attr_values_and_no_session_without_id() {
        let (def, _) = dockerfile_local("").definition(&all_caps());
        let op = pb::Op::decode(&def.def[0][..]).unwrap();
        let Some(pb::op::Op::Source(s)) = op.op else {
            panic!()
        };
        assert!(!s.attrs.contains_key("local.session"));
        assert!(s.attrs.values().all(|v| !v.is_empty()));
    }

    #[test]
    fn only_supported_caps_are_declared() {
        let (def, dgst) = dockerfile_local("s").definition(&CapSet::from_ids(["source.local"]));
        assert_eq!(
            def.metadata[&dgst].caps.keys().collect::<Vec<_>>(),
            ["source.local"]
        );
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
    }
}
