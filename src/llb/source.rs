//! Source ops: `docker-image://`, `local://`, `git://`, `http(s)://` (Go's `llb.Image`,
//! `llb.Local`, `llb.Git`, `llb.HTTP`). Attribute keys and the caps each option requires follow
//! `client/llb/source.go`. Only image (and OCI layout) sources keep a platform.

use std::collections::{BTreeMap, BTreeSet};

use super::caps;
use super::node::{finish, OpMeta, Output};
use crate::proto::pb;

/// How an image is resolved: the `image-resolve-mode` frontend opt, the `image.resolvemode`
/// attribute of an image source (`Default` writes none) and the gateway's `ResolveMode` of an
/// image config request. One type for all three; the gateway parses the opt once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResolveMode {
    #[default]
    Default,
    /// `pull`: always check the registry (also requires cap `source.image.resolvemode`).
    Pull,
    /// `local`: prefer the local image store (buildx sets this on the docker driver).
    Local,
}

impl ResolveMode {
    /// The wire string: the opt's value, the attribute's, the gateway request's.
    pub fn as_str(self) -> &'static str {
        match self {
            ResolveMode::Default => "default",
            ResolveMode::Pull => "pull",
            ResolveMode::Local => "local",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct ImageOpts {
    pub resolve_mode: ResolveMode,
    /// `image.recordtype` (`internal`, `frontend`, `regular`).
    pub record_type: Option<String>,
    pub layer_limit: Option<i32>,
    /// `image.checksum` (a `sha256:` digest).
    pub checksum: Option<String>,
}

/// `docker-image://<reference>`. The reference must already be normalised by the caller
/// (`docker.io/library/alpine:latest`, or `…@sha256:…`), as `reference.TagNameOnly` would.
pub fn image(reference: &str, platform: &pb::Platform, opts: &ImageOpts, meta: OpMeta) -> Output {
    let mut attrs = BTreeMap::new();
    let mut caps = BTreeSet::from([caps::SOURCE_IMAGE]);
    match opts.resolve_mode {
        ResolveMode::Default => {}
        mode => {
            attrs.insert("image.resolvemode".into(), mode.as_str().into());
            if mode == ResolveMode::Pull {
                caps.insert(caps::SOURCE_IMAGE_RESOLVE_MODE);
            }
        }
    }
    if let Some(rt) = opts.record_type.as_ref().filter(|s| !s.is_empty()) {
        attrs.insert("image.recordtype".into(), rt.clone());
    }
    if let Some(ll) = opts.layer_limit {
        attrs.insert("image.layerlimit".into(), ll.to_string());
        caps.insert(caps::SOURCE_IMAGE_LAYER_LIMIT);
    }
    if let Some(c) = opts.checksum.as_ref().filter(|s| !s.is_empty()) {
        attrs.insert("image.checksum".into(), c.clone());
        caps.insert(caps::SOURCE_IMAGE_CHECKSUM);
    }
    source(
        &format!("docker-image://{reference}"),
        attrs,
        caps,
        Some(platform),
        meta,
    )
}

/// `local.differ` setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Differ {
    /// `none` or `metadata`.
    pub kind: String,
    /// Only a required differ declares cap `source.local.differ` (as in Go).
    pub required: bool,
}

#[derive(Clone, Debug, Default)]
pub struct LocalOpts {
    /// `local.session`; without it `local.unique` = `unique_id` is written instead.
    pub session_id: Option<String>,
    pub unique_id: String,
    pub include_patterns: Vec<String>,
    pub exclude_patterns: Vec<String>,
    pub follow_paths: Vec<String>,
    pub shared_key_hint: Option<String>,
    pub differ: Option<Differ>,
    /// `Some(exceptions)` turns on `local.metadatatransfer`.
    pub metadata_transfer: Option<Vec<String>>,
}

/// `local://<name>`: a directory from the client session (build context, Dockerfile dir).
/// Pattern lists are written as JSON arrays, byte-identical to Go's `json.Marshal`.
pub fn local(name: &str, opts: &LocalOpts, meta: OpMeta) -> Output {
    let mut attrs = BTreeMap::new();
    let mut caps = BTreeSet::from([caps::SOURCE_LOCAL]);
    match opts.session_id.as_ref().filter(|s| !s.is_empty()) {
        Some(s) => {
            attrs.insert("local.session".into(), s.clone());
            caps.insert(caps::SOURCE_LOCAL_SESSION_ID);
        }
        None => {
            // Never an empty attr value: protobuf-go and prost disagree on encoding it.
            if !opts.unique_id.is_empty() {
                attrs.insert("local.unique".into(), opts.unique_id.clone());
            }
            caps.insert(caps::SOURCE_LOCAL_UNIQUE);
        }
    }
    if !opts.include_patterns.is_empty() {
        attrs.insert(
            "local.includepattern".into(),
            go_json_strings(&opts.include_patterns),
        );
        caps.insert(caps::SOURCE_LOCAL_INCLUDE_PATTERNS);
    }
    if !opts.follow_paths.is_empty() {
        attrs.insert(
            "local.followpaths".into(),
            go_json_strings(&opts.follow_paths),
        );
        caps.insert(caps::SOURCE_LOCAL_FOLLOW_PATHS);
    }
    if !opts.exclude_patterns.is_empty() {
        attrs.insert(
            "local.excludepatterns".into(),
            go_json_strings(&opts.exclude_patterns),
        );
        caps.insert(caps::SOURCE_LOCAL_EXCLUDE_PATTERNS);
    }
    if let Some(h) = opts.shared_key_hint.as_ref().filter(|s| !s.is_empty()) {
        attrs.insert("local.sharedkeyhint".into(), h.clone());
        caps.insert(caps::SOURCE_LOCAL_SHARED_KEY_HINT);
    }
    if let Some(d) = opts.differ.as_ref().filter(|d| !d.kind.is_empty()) {
        attrs.insert("local.differ".into(), d.kind.clone());
        if d.required {
            caps.insert(caps::SOURCE_LOCAL_DIFFER);
        }
    }
    if let Some(exc) = &opts.metadata_transfer {
        attrs.insert("local.metadatatransfer".into(), "true".into());
        if !exc.is_empty() {
            attrs.insert("local.metadatatransferexclude".into(), go_json_strings(exc));
        }
        caps.insert(caps::SOURCE_LOCAL_METADATA_TRANSFER);
    }
    source(&format!("local://{name}"), attrs, caps, None, meta)
}

#[derive(Clone, Debug, Default)]
pub struct HttpOpts {
    /// `http.checksum` (`sha256:…`).
    pub checksum: Option<String>,
    pub filename: Option<String>,
    /// File mode; 0 = unset. Written as `"0" + octal`.
    pub perm: u32,
    pub uid: u32,
    pub gid: u32,
    pub auth_header_secret: Option<String>,
    /// `http.header.<name>` = value.
    pub headers: BTreeMap<String, String>,
}

/// An `http://` / `https://` URL source.
pub fn http(url: &str, opts: &HttpOpts, meta: OpMeta) -> Output {
    let mut attrs = BTreeMap::new();
    let mut caps = BTreeSet::from([caps::SOURCE_HTTP]);
    if let Some(c) = opts.checksum.as_ref().filter(|s| !s.is_empty()) {
        attrs.insert("http.checksum".into(), c.clone());
        caps.insert(caps::SOURCE_HTTP_CHECKSUM);
    }
    if let Some(f) = opts.filename.as_ref().filter(|s| !s.is_empty()) {
        attrs.insert("http.filename".into(), f.clone());
    }
    if opts.perm != 0 {
        attrs.insert("http.perm".into(), format!("0{:o}", opts.perm));
        caps.insert(caps::SOURCE_HTTP_PERM);
    }
    if opts.uid != 0 {
        attrs.insert("http.uid".into(), opts.uid.to_string());
        caps.insert(caps::SOURCE_HTTP_UIDGID);
    }
    if opts.gid != 0 {
        attrs.insert("http.gid".into(), opts.gid.to_string());
        caps.insert(caps::SOURCE_HTTP_UIDGID);
    }
    if let Some(s) = opts.auth_header_secret.as_ref().filter(|s| !s.is_empty()) {
        attrs.insert("http.authheadersecret".into(), s.clone());
        caps.insert(caps::SOURCE_HTTP_AUTH);
    }
    if !opts.headers.is_empty() {
        for (k, v) in &opts.headers {
            attrs.insert(format!("http.header.{k}"), v.clone());
        }
        caps.insert(caps::SOURCE_HTTP_HEADER);
    }
    source(url, attrs, caps, None, meta)
}

/// SSH-specific git settings (only for `ssh://` / `git@` remotes).
#[derive(Clone, Debug, Default)]
pub struct GitSsh {
    /// `git.knownsshhosts` (omitted when empty).
    pub known_hosts: String,
    /// `git.mountsshsock`; empty means `default`.
    pub mount_sock: String,
}

#[derive(Clone, Debug)]
pub struct GitOpts {
    /// `git.fullurl`: the remote as given (after adding `https://` to bare hosts).
    pub full_url: String,
    pub keep_git_dir: bool,
    /// Defaults to `GIT_AUTH_TOKEN`.
    pub auth_token_secret: String,
    /// Defaults to `GIT_AUTH_HEADER`.
    pub auth_header_secret: String,
    /// Set when the user picked the secret names (declares `source.git.httpauth`).
    pub auth_cap: bool,
    pub ssh: Option<GitSsh>,
    pub checksum: Option<String>,
    pub skip_submodules: bool,
    pub mtime: Option<String>,
    pub fetch_by_commit: bool,
}

impl Default for GitOpts {
    fn default() -> Self {
        GitOpts {
            full_url: String::new(),
            keep_git_dir: false,
            auth_token_secret: "GIT_AUTH_TOKEN".into(),
            auth_header_secret: "GIT_AUTH_HEADER".into(),
            auth_cap: false,
            ssh: None,
            checksum: None,
            skip_submodules: false,
            mtime: None,
            fetch_by_commit: false,
        }
    }
}

/// `git://<id>` where `id` is `host/path[#ref[:subdir]]` as Go's `llb.Git` builds it
/// (`remote.Host + path.Join("/", remote.Path)`, then `#ref` / `:subdir` when set).
pub fn git(id: &str, opts: &GitOpts, meta: OpMeta) -> Output {
    let mut attrs = BTreeMap::new();
    let mut caps = BTreeSet::from([caps::SOURCE_GIT]);
    if opts.keep_git_dir {
        attrs.insert("git.keepgitdir".into(), "true".into());
        caps.insert(caps::SOURCE_GIT_KEEP_DIR);
    }
    if !opts.full_url.is_empty() {
        attrs.insert("git.fullurl".into(), opts.full_url.clone());
        caps.insert(caps::SOURCE_GIT_FULL_URL);
    }
    if !opts.auth_token_secret.is_empty() {
        attrs.insert("git.authtokensecret".into(), opts.auth_token_secret.clone());
        if opts.auth_cap {
            caps.insert(caps::SOURCE_GIT_HTTP_AUTH);
        }
    }
    if !opts.auth_header_secret.is_empty() {
        attrs.insert(
            "git.authheadersecret".into(),
            opts.auth_header_secret.clone(),
        );
        if opts.auth_cap {
            caps.insert(caps::SOURCE_GIT_HTTP_AUTH);
        }
    }
    if let Some(ssh) = &opts.ssh {
        if !ssh.known_hosts.is_empty() {
            attrs.insert("git.knownsshhosts".into(), ssh.known_hosts.clone());
        }
        caps.insert(caps::SOURCE_GIT_KNOWN_SSH_HOSTS);
        let sock = if ssh.mount_sock.is_empty() {
            "default"
        } else {
            &ssh.mount_sock
        };
        attrs.insert("git.mountsshsock".into(), sock.into());
        caps.insert(caps::SOURCE_GIT_MOUNT_SSH_SOCK);
    }
    if let Some(c) = opts.checksum.as_ref().filter(|s| !s.is_empty()) {
        attrs.insert("git.checksum".into(), c.clone());
        caps.insert(caps::SOURCE_GIT_CHECKSUM);
    }
    if opts.skip_submodules {
        attrs.insert("git.skipsubmodules".into(), "true".into());
        caps.insert(caps::SOURCE_GIT_SKIP_SUBMODULES);
    }
    if let Some(m) = opts.mtime.as_ref().filter(|s| !s.is_empty()) {
        attrs.insert("git.mtime".into(), m.clone());
        caps.insert(caps::SOURCE_GIT_MTIME);
    }
    if opts.fetch_by_commit {
        attrs.insert("git.fetchbycommit".into(), "true".into());
        caps.insert(caps::SOURCE_GIT_FETCH_BY_COMMIT);
    }
    source(&format!("git://{id}"), attrs, caps, None, meta)
}

/// Any source op. `platform` is only kept for `docker-image://` and `oci-layout://`
/// identifiers (Go's `platformSpecificSource`).
pub fn source(
    identifier: &str,
    attrs: BTreeMap<String, String>,
    caps: BTreeSet<&'static str>,
    platform: Option<&pb::Platform>,
    meta: OpMeta,
) -> Output {
    let platform_specific =
        identifier.starts_with("docker-image://") || identifier.starts_with("oci-layout://");
    let op = pb::Op {
        inputs: vec![],
        op: Some(pb::op::Op::Source(pb::SourceOp {
            identifier: identifier.into(),
            attrs,
        })),
        platform: if platform_specific {
            platform.cloned()
        } else {
            None
        },
        constraints: None,
    };
    Output {
        node: finish(op, caps, meta, vec![]),
        index: 0,
    }
}

/// A JSON array of strings exactly as Go's `json.Marshal([]string)` writes it (HTML-safe
/// escaping of `<`, `>`, `&`, U+2028/U+2029; `\b \f \n \r \t`; other controls as `\u00XX`).
pub fn go_json_strings(items: &[String]) -> String {
    let mut s = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push('"');
        for c in item.chars() {
            match c {
                '"' => s.push_str("\\\""),
                '\\' => s.push_str("\\\\"),
                '\n' => s.push_str("\\n"),
                '\r' => s.push_str("\\r"),
                '\t' => s.push_str("\\t"),
                '\u{8}' => s.push_str("\\b"),
                '\u{c}' => s.push_str("\\f"),
                '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                    s.push_str(&format!("\\u{:04x}", c as u32))
                }
                c if (c as u32) < 0x20 => s.push_str(&format!("\\u{:04x}", c as u32)),
                c => s.push(c),
            }
        }
        s.push('"');
    }
    s.push(']');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amd64() -> pb::Platform {
        pb::Platform {
            architecture: "amd64".into(),
            os: "linux".into(),
            ..Default::default()
        }
    }

    #[test]
    fn image_keeps_platform_and_caps() {
        let o = image(
            "docker.io/library/alpine:latest",
            &amd64(),
            &ImageOpts::default(),
            OpMeta::named("FROM alpine"),
        );
        assert_eq!(o.op().platform, Some(amd64()));
        assert!(o.op().constraints.is_some());
        assert_eq!(
            o.metadata().caps.keys().collect::<Vec<_>>(),
            ["source.image"]
        );
        assert_eq!(o.metadata().description["llb.customname"], "FROM alpine");
        // deterministic
        let o2 = image(
            "docker.io/library/alpine:latest",
            &amd64(),
            &ImageOpts::default(),
            OpMeta::default(),
        );
        assert_eq!(o.digest(), o2.digest());
        let pull = image(
            "docker.io/library/alpine:latest",
            &amd64(),
            &ImageOpts {
                resolve_mode: ResolveMode::Pull,
                ..Default::default()
            },
            OpMeta::default(),
        );
        assert_ne!(pull.digest(), o.digest());
        assert!(pull
            .metadata()
            .caps
            .contains_key("source.image.resolvemode"));
    }

    #[test]
    fn local_attrs_and_no_platform() {
        let o = local(
            "dockerfile",
            &LocalOpts {
                session_id: Some("sess".into()),
                follow_paths: vec![
                    "Dockerfile".into(),
                    "Dockerfile.dockerignore".into(),
                    "dockerfile".into(),
                ],
                shared_key_hint: Some("dockerfile".into()),
                differ: Some(Differ {
                    kind: "none".into(),
                    required: false,
                }),
                ..Default::default()
            },
            OpMeta::default(),
        );
        assert_eq!(o.op().platform, None);
        let Some(pb::op::Op::Source(src)) = &o.op().op else {
            panic!()
        };
        assert_eq!(src.identifier, "local://dockerfile");
        assert_eq!(
            src.attrs["local.followpaths"],
            r#"["Dockerfile","Dockerfile.dockerignore","dockerfile"]"#
        );
        assert_eq!(src.attrs["local.session"], "sess");
        assert_eq!(src.attrs["local.differ"], "none");
        let caps: Vec<_> = o.metadata().caps.keys().cloned().collect();
        assert_eq!(
            caps,
            [
                "source.local",
                "source.local.followpaths",
                "source.local.sessionid",
                "source.local.sharedkeyhint"
            ]
        );
    }

    #[test]
    fn local_without_session_is_unique_but_never_empty() {
        let o = local("context", &LocalOpts::default(), OpMeta::default());
        let Some(pb::op::Op::Source(src)) = &o.op().op else {
            panic!()
        };
        // An empty attr value would encode differently from protobuf-go (lost `>>>` snippets).
        assert_eq!(src.attrs.get("local.unique"), None);
        let o = local(
            "context",
            &LocalOpts {
                unique_id: "u1".into(),
                ..Default::default()
            },
            OpMeta::default(),
        );
        let Some(pb::op::Op::Source(src)) = &o.op().op else {
            panic!()
        };
        assert_eq!(
            src.attrs.get("local.unique").map(String::as_str),
            Some("u1")
        );
        assert!(o.metadata().caps.contains_key("source.local.unique"));
    }

    #[test]
    fn go_json() {
        assert_eq!(
            go_json_strings(&["a<b>&\"\\\n\u{1}".into()]),
            r#"["a\u003cb\u003e\u0026\"\\\n\u0001"]"#
        );
        assert_eq!(
            go_json_strings(&["*.md".into(), "!x".into()]),
            r#"["*.md","!x"]"#
        );
    }

    #[test]
    fn http_and_git() {
        let h = http(
            "https://example.com/a.tgz",
            &HttpOpts {
                filename: Some("a.tgz".into()),
                perm: 0o644,
                ..Default::default()
            },
            OpMeta::default(),
        );
        let Some(pb::op::Op::Source(src)) = &h.op().op else {
            panic!()
        };
        assert_eq!(src.attrs["http.perm"], "0644");
        assert!(h.metadata().caps.contains_key("source.http.perm"));
        let g = git(
            "github.com/moby/buildkit#v0.1",
            &GitOpts {
                full_url: "https://github.com/moby/buildkit".into(),
                ..Default::default()
            },
            OpMeta::default(),
        );
        let Some(pb::op::Op::Source(src)) = &g.op().op else {
            panic!()
        };
        assert_eq!(src.identifier, "git://github.com/moby/buildkit#v0.1");
        assert_eq!(src.attrs["git.authtokensecret"], "GIT_AUTH_TOKEN");
        assert!(!g.metadata().caps.contains_key("source.git.httpauth"));
        assert_eq!(g.op().platform, None);
    }
}
