//! Named build contexts: `docker buildx build --build-context <name>=<value>`, which reaches the
//! frontend as the option `context:<name>` (or `context:<name>::<platform>`).
//!
//! The stock frontend (`dockerui.NamedContext`) consults them wherever a name is used as a
//! source: a stage's `AS` name (the context then replaces the whole stage), the base of `FROM`,
//! and the image of `COPY --from` / `RUN --mount=from=`. A name is looked up in its familiar
//! form with `:latest` dropped (`docker.io/library/alpine:latest` is `alpine`), first with the
//! platform (`alpine::linux/amd64`), then without. Values:
//!
//! * `docker-image://<ref>`: an image, resolved like a base image (`scratch` is the empty one);
//! * `local:<name>`: a directory the client sends (its own `.dockerignore` applies);
//! * a git URL (`git@…`, `git://…`, `https://….git#ref`), or another `http(s)://` URL (a single
//!   file named `context`);
//! * `oci-layout://<store>:<tag>@<digest>`: an image from an OCI layout the client sends;
//! * `input:<name>`: a frontend input (`buildx bake` passes the result of another target this
//!   way for a `target:` context), with the image config from `input-metadata:<name>` if any.
//!
//! Any other form is an error naming the context.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::image::{normalize_reference, ImageConfig, Platform};
use crate::proto::pb;

/// The named contexts of a build, from the frontend options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NamedContexts {
    /// `context:<key>` values; a key is `name` or `name::<platform>`.
    pub values: BTreeMap<String, String>,
    /// `sharedkey:localdir:<key>` (buildx: the directory's base name and its node id).
    pub shared_keys: BTreeMap<String, String>,
    /// The client session, for `local:` and `oci-layout://` contexts.
    pub session_id: String,
    /// `local-sessionid:<local name>` overrides of the session.
    pub local_sessions: BTreeMap<String, String>,
    /// Frontend inputs (the gateway's `Inputs`), fetched when an `input:` context is given.
    pub inputs: BTreeMap<String, pb::Definition>,
    /// `input-metadata:<name>`: JSON of base64 values; `containerimage.config` is the image config.
    pub input_metadata: BTreeMap<String, String>,
}

/// A named context that applies to a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NamedContext {
    /// The key that matched: `name::linux/amd64` or `name` (progress names show it).
    pub key: String,
    pub source: ContextSource,
}

/// What a named context's value points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ContextSource {
    /// `docker-image://scratch`.
    Scratch,
    /// `docker-image://<written>`; `reference` is normalised (what gets resolved).
    Image {
        reference: String,
        written: String,
    },
    Git {
        url: String,
    },
    Http {
        url: String,
    },
    Local {
        name: String,
        session_id: String,
        shared_key: String,
    },
    /// `reference` is `<context name>@<digest>` normalised (the stock frontend's stand-in name).
    OciLayout {
        reference: String,
        store: String,
        session_id: String,
    },
    /// A frontend input.
    Input {
        name: String,
    },
}

/// The name a context is looked up by: the familiar form of the reference without `:latest`
/// (`reference.FamiliarString` + `TrimSuffix(":latest")`).
pub(super) fn context_name(name: &str) -> Result<String> {
    let r = normalize_reference(name).map_err(|_| {
        Error::new(format!(
            "invalid context name {name}: invalid reference format"
        ))
    })?;
    let mut out = r.familiar();
    if let Some(short) = out.strip_suffix(":latest") {
        out = short.to_string();
    }
    Ok(out)
}

impl NamedContexts {
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The context for `name` (a stage name, or a normalised image reference) on `platform`,
    /// if one was given. `scratch` and `context` never match (as in the stock frontend).
    pub(super) fn lookup(&self, name: &str, platform: &Platform) -> Result<Option<NamedContext>> {
        if self.values.is_empty()
            || name.eq_ignore_ascii_case("scratch")
            || name.eq_ignore_ascii_case("context")
        {
            return Ok(None);
        }
        let name = context_name(name)?;
        for key in [format!("{name}::{}", platform.id()), name.clone()] {
            if let Some(value) = self.values.get(&key) {
                let source = self.parse(&name, &key, value)?;
                return Ok(Some(NamedContext { key, source }));
            }
        }
        Ok(None)
    }

    fn parse(&self, name: &str, key: &str, value: &str) -> Result<ContextSource> {
        let Some((scheme, rest)) = value.split_once(':') else {
            return Err(Error::new(format!(
                "invalid context specifier {value} for {key}"
            )));
        };
        // `git@host:repo` has no scheme (accepted for backwards compatibility).
        let scheme = if scheme.starts_with("git@") {
            "git"
        } else {
            scheme
        };
        match scheme {
            "docker-image" => {
                let written = rest.strip_prefix("//").unwrap_or(rest);
                if written == "scratch" {
                    return Ok(ContextSource::Scratch);
                }
                let reference = normalize_reference(written)
                    .map_err(|e| {
                        // `failed to parse stage name "x": invalid reference format...`: keep the why.
                        let why = e
                            .message
                            .split_once(": ")
                            .map(|(_, w)| w.to_string())
                            .unwrap_or(e.message);
                        Error::new(format!("named context {key}: {why}"))
                    })?
                    .full();
                Ok(ContextSource::Image {
                    reference,
                    written: written.to_string(),
                })
            }
            "git" => {
                if !super::paths::is_git(value) {
                    return Err(Error::new(format!("invalid git context {value}")));
                }
                Ok(ContextSource::Git {
                    url: value.to_string(),
                })
            }
            "http" | "https" => {
                if super::paths::is_git(value) {
                    Ok(ContextSource::Git {
                        url: value.to_string(),
                    })
                } else {
                    Ok(ContextSource::Http {
                        url: value.to_string(),
                    })
                }
            }
            "oci-layout" => {
                let spec = rest.strip_prefix("//").unwrap_or(rest);
                let bad = |why: &str| {
                    Error::new(format!(
                        "could not parse oci-layout reference \"{spec}\": {why}"
                    ))
                };
                let (named, digest) = match spec.rsplit_once('@') {
                    Some((n, d)) => (n, d),
                    None => {
                        return Err(Error::new(format!(
                            "oci-layout reference \"{spec}\" has no digest"
                        )))
                    }
                };
                let store = match named.rsplit_once(':') {
                    Some((s, tag)) if !tag.contains('/') => s,
                    _ => named,
                };
                if store.is_empty() {
                    return Err(bad("invalid reference format"));
                }
                normalize_reference(&format!("{store}@{digest}"))
                    .map_err(|_| bad("invalid reference format"))?;
                // The stand-in name: the context's name pinned to the digest.
                let mut r =
                    normalize_reference(name).map_err(|_| bad("invalid reference format"))?;
                let repo = name.split('@').next().unwrap_or(name);
                if !repo[repo.rfind('/').map_or(0, |i| i + 1)..].contains(':') {
                    r.tag = None;
                }
                let reference = r.with_digest(digest).full();
                let session_id = self.session_id.clone();
                Ok(ContextSource::OciLayout {
                    reference,
                    store: store.to_string(),
                    session_id,
                })
            }
            "local" => {
                let session_id = self
                    .local_sessions
                    .get(rest)
                    .cloned()
                    .unwrap_or_else(|| self.session_id.clone());
                let shared_key = self.shared_keys.get(key).cloned().unwrap_or_default();
                Ok(ContextSource::Local {
                    name: rest.to_string(),
                    session_id,
                    shared_key,
                })
            }
            "input" => {
                if !self.inputs.contains_key(rest) {
                    return Err(Error::new(format!("invalid input {rest} for {key}")));
                }
                Ok(ContextSource::Input {
                    name: rest.to_string(),
                })
            }
            _ => Err(Error::new(format!(
                "unsupported context source {scheme} for {key}"
            ))),
        }
    }
}

/// The key a named local context's `.dockerignore` is read under ([`Resolved::files`]).
pub(super) fn dockerignore_key(key: &str) -> String {
    format!("named-context:{key}")
}

pub(super) const DOCKERIGNORE: &str = ".dockerignore";

/// The image config in an `input-metadata:<name>` value (`{"containerimage.config": <base64>}`).
pub(super) fn input_image_config(
    metadata: &str,
) -> std::result::Result<Option<ImageConfig>, String> {
    use base64::Engine as _;
    let m: BTreeMap<String, String> = serde_json::from_str(metadata)
        .map_err(|e| format!("failed to parse input metadata {metadata}: {e}"))?;
    let Some(config) = m.get("containerimage.config") else {
        return Ok(None);
    };
    let data = base64::engine::general_purpose::STANDARD
        .decode(config)
        .map_err(|e| format!("failed to parse input metadata {metadata}: {e}"))?;
    let mut image =
        ImageConfig::from_json(&data).map_err(|e| format!("failed to parse image config: {e}"))?;
    image.created = None;
    Ok(Some(image))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contexts(pairs: &[(&str, &str)]) -> NamedContexts {
        NamedContexts {
            values: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            shared_keys: BTreeMap::from([("src".to_string(), "dir:node1".to_string())]),
            session_id: "sess".into(),
            local_sessions: BTreeMap::from([("other".to_string(), "sess2".to_string())]),
            ..Default::default()
        }
    }

    fn amd64() -> Platform {
        Platform::new("linux", "amd64", "")
    }

    #[test]
    fn names_are_familiar_without_latest() {
        assert_eq!(context_name("alpine").unwrap(), "alpine");
        assert_eq!(context_name("alpine:latest").unwrap(), "alpine");
        assert_eq!(
            context_name("docker.io/library/alpine:latest").unwrap(),
            "alpine"
        );
        assert_eq!(
            context_name("docker.io/library/alpine:3.20").unwrap(),
            "alpine:3.20"
        );
        assert_eq!(
            context_name("docker.io/hoard-test/busybox:latest").unwrap(),
            "hoard-test/busybox"
        );
        assert_eq!(context_name("ghcr.io/a/b:v1").unwrap(), "ghcr.io/a/b:v1");
        assert_eq!(
            context_name("localhost:5000/x").unwrap(),
            "localhost:5000/x"
        );
        assert_eq!(context_name("builder").unwrap(), "builder");
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            context_name(&format!("docker.io/library/alpine@{d}")).unwrap(),
            format!("alpine@{d}")
        );
        assert_eq!(
            context_name(&format!("alpine:latest@{d}")).unwrap(),
            format!("alpine:latest@{d}")
        );
        let e = context_name("Bad..Name").unwrap_err();
        assert_eq!(
            e.message,
            "invalid context name Bad..Name: invalid reference format"
        );
    }

    #[test]
    fn lookup_prefers_the_platform_key() {
        let c = contexts(&[
            ("base", "docker-image://hoard-test/busybox:latest"),
            (
                "base::linux/amd64",
                "docker-image://hoard-test/debian:bookworm",
            ),
        ]);
        let nc = c
            .lookup("docker.io/library/base:latest", &amd64())
            .unwrap()
            .unwrap();
        assert_eq!(nc.key, "base::linux/amd64");
        assert_eq!(
            nc.source,
            ContextSource::Image {
                reference: "docker.io/hoard-test/debian:bookworm".into(),
                written: "hoard-test/debian:bookworm".into()
            }
        );
        let nc = c
            .lookup("base", &Platform::new("linux", "arm64", ""))
            .unwrap()
            .unwrap();
        assert_eq!(nc.key, "base");
        assert!(c
            .lookup("docker.io/library/other:latest", &amd64())
            .unwrap()
            .is_none());
        // A tag other than latest is part of the name.
        assert!(c
            .lookup("docker.io/library/base:1", &amd64())
            .unwrap()
            .is_none());
    }

    #[test]
    fn scratch_and_context_never_match() {
        let c = contexts(&[
            ("scratch", "docker-image://x"),
            ("context", "docker-image://x"),
        ]);
        assert!(c.lookup("scratch", &amd64()).unwrap().is_none());
        assert!(c.lookup("Context", &amd64()).unwrap().is_none());
        assert!(NamedContexts::default()
            .lookup("Not A Ref", &amd64())
            .unwrap()
            .is_none());
    }

    #[test]
    fn value_forms() {
        let p = amd64();
        let get = |v: &str| {
            contexts(&[("src", v)])
                .lookup("src", &p)
                .map(|o| o.unwrap().source)
        };
        assert_eq!(
            get("docker-image://scratch").unwrap(),
            ContextSource::Scratch
        );
        assert_eq!(
            get("docker-image://busybox").unwrap(),
            ContextSource::Image {
                reference: "docker.io/library/busybox:latest".into(),
                written: "busybox".into()
            }
        );
        assert_eq!(
            get("local:src").unwrap(),
            ContextSource::Local {
                name: "src".into(),
                session_id: "sess".into(),
                shared_key: "dir:node1".into()
            }
        );
        assert_eq!(
            get("local:other").unwrap(),
            ContextSource::Local {
                name: "other".into(),
                session_id: "sess2".into(),
                shared_key: "dir:node1".into()
            }
        );
        assert_eq!(
            get("git@github.com:a/b.git#main").unwrap(),
            ContextSource::Git {
                url: "git@github.com:a/b.git#main".into()
            }
        );
        assert_eq!(
            get("https://github.com/a/b.git#v1").unwrap(),
            ContextSource::Git {
                url: "https://github.com/a/b.git#v1".into()
            }
        );
        assert_eq!(
            get("https://example.com/f.tar").unwrap(),
            ContextSource::Http {
                url: "https://example.com/f.tar".into()
            }
        );
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            get(&format!("oci-layout://abc123:latest@{d}")).unwrap(),
            ContextSource::OciLayout {
                reference: format!("docker.io/library/src@{d}"),
                store: "abc123".into(),
                session_id: "sess".into()
            }
        );
        assert!(get("oci-layout://abc123:latest")
            .unwrap_err()
            .message
            .contains("has no digest"));
        assert_eq!(
            get("target:foo").unwrap_err().message,
            "unsupported context source target for src"
        );
        assert_eq!(
            get("nonsense").unwrap_err().message,
            "invalid context specifier nonsense for src"
        );
        assert_eq!(
            get("input:src").unwrap_err().message,
            "invalid input src for src"
        );
        let mut c = contexts(&[("src", "input:dep")]);
        c.inputs.insert("dep".into(), pb::Definition::default());
        assert_eq!(
            c.lookup("src", &p).unwrap().unwrap().source,
            ContextSource::Input { name: "dep".into() }
        );
        assert!(get("docker-image://Bad").is_err());
    }

    #[test]
    fn input_metadata_config() {
        use base64::Engine as _;
        let cfg = br#"{"created":"2024-01-01T00:00:00Z","architecture":"amd64","os":"linux","config":{"Env":["A=1"]},"rootfs":{"type":"layers"}}"#;
        let md = format!(
            r#"{{"containerimage.config":"{}"}}"#,
            base64::engine::general_purpose::STANDARD.encode(cfg)
        );
        let img = input_image_config(&md).unwrap().unwrap();
        assert_eq!(img.config.env, ["A=1"]);
        assert_eq!(img.created, None);
        assert_eq!(input_image_config("{}").unwrap(), None);
        assert!(input_image_config("nope").is_err());
    }

    // ---- whole conversions, with the daemon's answers stubbed ----

    use crate::convert::{convert, ConvertOpts, Outcome, Resolved, ResolvedImage};

    fn image_config(env: &[&str], workdir: &str) -> Vec<u8> {
        let p = Platform::host();
        serde_json::json!({
            "architecture": p.architecture, "os": p.os,
            "config": {"Env": env, "WorkingDir": workdir},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:aa"]},
            "history": [{"created_by": "base"}],
        })
        .to_string()
        .into_bytes()
    }

    fn opts(pairs: &[(&str, &str)]) -> ConvertOpts {
        ConvertOpts {
            named_contexts: contexts(pairs),
            session_id: "sess".into(),
            ..Default::default()
        }
    }

    /// Run the conversion, answering image requests from `images` and file requests from
    /// `files`; returns the result and every request's log name / file key seen on the way.
    fn run(
        text: &str,
        o: &ConvertOpts,
        images: &[(&str, Vec<u8>)],
        files: &[(&str, Option<&[u8]>)],
    ) -> (crate::convert::PlatformResult, Vec<String>) {
        let mut resolved = Resolved::default();
        let mut seen = Vec::new();
        for _ in 0..10 {
            match convert(text, o, &resolved).unwrap() {
                Outcome::Done { mut results, .. } => return (results.pop().unwrap(), seen),
                Outcome::NeedImages(needs) => {
                    for n in needs {
                        seen.push(n.log_name.clone());
                        let config = images
                            .iter()
                            .find(|(r, _)| *r == n.reference)
                            .unwrap_or_else(|| panic!("unexpected image {}", n.reference))
                            .1
                            .clone();
                        resolved.images.insert(
                            (n.reference.clone(), n.platform.id()),
                            ResolvedImage {
                                reference: n.reference,
                                digest: None,
                                config,
                            },
                        );
                    }
                }
                Outcome::NeedFiles { files: needs, .. } => {
                    for f in needs {
                        seen.push(format!("{} {}", f.key, f.path));
                        let data = files
                            .iter()
                            .find(|(k, _)| *k == f.key)
                            .unwrap_or_else(|| panic!("unexpected file {}", f.key))
                            .1;
                        resolved
                            .files
                            .insert((f.key, f.path), data.map(<[u8]>::to_vec));
                    }
                }
            }
        }
        panic!("too many rounds");
    }

    /// (identifier, attrs, custom name) of a source op.
    type SourceOp = (String, BTreeMap<String, String>, String);

    /// Every source op, and the args of every exec.
    fn ops(r: &crate::convert::PlatformResult) -> (Vec<SourceOp>, Vec<Vec<String>>) {
        use prost::Message;
        let d = r.definition.as_pb();
        let mut sources = Vec::new();
        let mut execs = Vec::new();
        for bytes in &d.def {
            let op = pb::Op::decode(bytes.as_slice()).unwrap();
            let name = d
                .metadata
                .get(&crate::llb::encode::digest(bytes))
                .and_then(|m| m.description.get("llb.customname").cloned())
                .unwrap_or_default();
            match op.op {
                Some(pb::op::Op::Source(src)) => {
                    sources.push((src.identifier, src.attrs.into_iter().collect(), name))
                }
                Some(pb::op::Op::Exec(e)) => execs.push(e.meta.unwrap().args),
                _ => {}
            }
        }
        (sources, execs)
    }

    #[test]
    fn from_a_named_image_context() {
        let o = opts(&[("base", "docker-image://hoard-test/busybox:latest")]);
        let text = "FROM base\nRUN echo hi\n";
        let (r, seen) = run(
            text,
            &o,
            &[(
                "docker.io/hoard-test/busybox:latest",
                image_config(&["PATH=/bin", "X=1"], "/w"),
            )],
            &[],
        );
        assert_eq!(
            seen,
            ["[context base] load metadata for hoard-test/busybox:latest"]
        );
        let (sources, execs) = ops(&r);
        assert_eq!(sources.len(), 1);
        let (id, attrs, name) = &sources[0];
        assert_eq!(id, "docker-image://docker.io/hoard-test/busybox:latest");
        assert!(
            attrs.is_empty(),
            "no resolve mode, no digest pin: {attrs:?}"
        );
        assert_eq!(name, "[context base] hoard-test/busybox:latest");
        assert_eq!(
            execs,
            [vec!["/bin/sh".to_string(), "-c".into(), "echo hi".into()]]
        );
        assert_eq!(r.config.config.env, ["PATH=/bin", "X=1"]);
        assert_eq!(r.config.config.working_dir, "/w");
        assert_eq!(r.config.history.len(), 2);
    }

    #[test]
    fn a_named_context_replaces_a_stage() {
        let o = opts(&[("builder", "docker-image://busybox")]);
        let text = "FROM debian AS builder\nRUN echo never\nFROM builder\nRUN echo child\n";
        let (r, seen) = run(
            text,
            &o,
            &[(
                "docker.io/library/busybox:latest",
                image_config(&["PATH=/bin"], ""),
            )],
            &[],
        );
        // debian is never resolved: the stage that names it is replaced.
        assert_eq!(seen, ["[context builder] load metadata for busybox"]);
        let (_, execs) = ops(&r);
        assert_eq!(
            execs,
            [vec![
                "/bin/sh".to_string(),
                "-c".into(),
                "echo child".into()
            ]]
        );
        assert_eq!(
            r.config.history.len(),
            2,
            "the base's history and the child's RUN"
        );
    }

    #[test]
    fn a_named_local_context_reads_its_own_dockerignore() {
        let o = opts(&[("src", "local:src")]);
        let text = "FROM scratch\nCOPY --from=src . /s\nCOPY --from=src a /a\n";
        let (r, seen) = run(
            text,
            &o,
            &[],
            &[("named-context:src", Some(b"*.log\n# c\n".as_slice()))],
        );
        assert_eq!(seen, ["named-context:src .dockerignore"]);
        let (sources, _) = ops(&r);
        assert_eq!(
            sources.len(),
            1,
            "one local source for both copies: {sources:?}"
        );
        let (id, attrs, name) = &sources[0];
        assert_eq!(id, "local://src");
        assert_eq!(name, "[context src] load from client");
        assert_eq!(attrs["local.excludepatterns"], r#"["*.log"]"#);
        assert_eq!(attrs["local.sharedkeyhint"], "context:src-dir:node1");
        assert_eq!(attrs["local.session"], "sess");
        // Without a .dockerignore nothing is excluded.
        let (r, _) = run(text, &o, &[], &[("named-context:src", None)]);
        assert!(!ops(&r).0[0].1.contains_key("local.excludepatterns"));
    }

    #[test]
    fn a_named_local_context_sends_only_what_is_read() {
        let o = opts(&[("src", "local:src")]);
        let files: &[(&str, Option<&[u8]>)] = &[("named-context:src", None)];
        let follow = |text: &str| {
            let (r, _) = run(
                text,
                &o,
                &[(
                    "docker.io/library/busybox:latest",
                    image_config(&["PATH=/bin"], ""),
                )],
                files,
            );
            let (sources, _) = ops(&r);
            let local = sources
                .iter()
                .find(|s| s.0 == "local://src")
                .expect("local source");
            local.1.get("local.followpaths").cloned()
        };
        assert_eq!(
            follow("FROM busybox\nCOPY --from=src ./sub/b.txt a.txt /d/\nRUN --mount=from=src,source=/x/../y,target=/m true\n").as_deref(),
            Some(r#"["a.txt","sub/b.txt","y"]"#)
        );
        // Read whole: a mount of its root, or a stage built on it.
        assert_eq!(
            follow("FROM busybox\nRUN --mount=from=src,target=/m true\n"),
            None
        );
        assert_eq!(follow("FROM src\nCOPY --from=busybox /bin/sh /sh\n"), None);
    }

    #[test]
    fn from_local_git_and_http_contexts_starts_empty() {
        let o = opts(&[
            ("src", "local:src"),
            ("repo", "https://example.com/r.git#main"),
            ("page", "https://example.com/p.txt"),
        ]);
        let text = "FROM src\nCOPY --from=repo / /repo\nCOPY --from=page /context /page\n";
        let (r, _) = run(text, &o, &[], &[("named-context:src", None)]);
        let (sources, _) = ops(&r);
        let ids: Vec<&str> = sources.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(
            ids,
            [
                "local://src",
                "git://example.com/r.git#main",
                "https://example.com/p.txt"
            ]
        );
        assert_eq!(
            sources[1].2,
            "[internal] load git source https://example.com/r.git#main"
        );
        assert_eq!(sources[2].1["http.filename"], "context");
        assert_eq!(r.config.config.working_dir, "/");
        assert_eq!(
            r.config.config.env.len(),
            1,
            "PATH only: {:?}",
            r.config.config.env
        );
    }

    #[test]
    fn oci_layout_contexts_resolve_through_the_client_store() {
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let o = opts(&[("base", &format!("oci-layout://store1:latest@{d}"))]);
        let reference = format!("docker.io/library/base@{d}");
        let mut resolved = Resolved::default();
        let Outcome::NeedImages(needs) = convert("FROM base\n", &o, &resolved).unwrap() else {
            panic!("wants the image")
        };
        assert_eq!(needs[0].reference, reference);
        assert_eq!(
            needs[0].oci_store,
            Some(crate::convert::OciStore {
                session_id: "sess".into(),
                store_id: "store1".into()
            })
        );
        resolved.images.insert(
            (reference.clone(), needs[0].platform.id()),
            ResolvedImage {
                reference: reference.clone(),
                digest: None,
                config: image_config(&["PATH=/bin"], ""),
            },
        );
        let Outcome::Done { results, .. } = convert("FROM base\n", &o, &resolved).unwrap() else {
            panic!("done")
        };
        let (sources, _) = ops(&results[0]);
        assert_eq!(sources[0].0, format!("oci-layout://{reference}"));
        assert_eq!(sources[0].1["oci.store"], "store1");
        assert_eq!(sources[0].1["oci.session"], "sess");
    }

    #[test]
    fn errors_name_the_line() {
        let o = opts(&[("base", "docker-image://Bad")]);
        let e = convert("FROM busybox AS a\nFROM base\n", &o, &Resolved::default()).unwrap_err();
        assert_eq!(e.span.map(|s| s.start), Some(2));
        assert!(e.message.contains("must be lowercase"), "{}", e.message);
        let o = opts(&[("tools", "input:x")]);
        let e = convert(
            "FROM busybox\nCOPY --from=tools / /\n",
            &o,
            &Resolved::default(),
        )
        .unwrap_err();
        assert_eq!(e.span.map(|s| s.start), Some(2));
        assert_eq!(e.message, "invalid input x for tools");
    }
}
