//! Loading the Dockerfile and the `.dockerignore` that applies, from the client's local
//! sources (or none for a remote context).

use crate::dockerignore::parse as parse_dockerignore;
use crate::error::Error;
use crate::proto::pb;

use super::client::Gateway;
use super::errors::{GatewayError, SourceFile};
use super::local::LocalFiles;
use super::opts::{BuildOpts, DOCKERIGNORE_NAME};
use super::trace::trace;

/// The Dockerfile as loaded from the client.
#[derive(Clone, Debug)]
pub struct LoadedDockerfile {
    pub source: SourceFile,
    /// The `local://<dockerfilekey>` definition (for `SourceInfo.definition`).
    pub definition: pb::Definition,
    /// Digest of its source op: the vertex warnings attach to.
    pub vertex_digest: String,
    /// `<filename>.dockerignore`, when present next to the Dockerfile.
    pub dockerignore: Option<Vec<u8>>,
}

/// The `local://` source that loads the Dockerfile (and `<filename>.dockerignore`).
pub fn dockerfile_local(opts: &BuildOpts) -> LocalFiles {
    let mut files = vec![opts.filename.clone(), opts.dockerfile_dockerignore()];
    if let Some(lower) = opts.lowercase_fallback() {
        files.push(lower);
    }
    LocalFiles {
        name: opts.dockerfile_key.clone(),
        session_id: opts.session_for(&opts.dockerfile_key).to_string(),
        files,
        shared_key_hint: opts.dockerfile_key.clone(),
        custom_name: format!("[internal] load build definition from {}", opts.filename),
    }
}

/// The `local://` source that loads the context's `.dockerignore`.
pub fn dockerignore_local(opts: &BuildOpts) -> LocalFiles {
    LocalFiles {
        name: opts.context_key.clone(),
        session_id: opts.session_for(&opts.context_key).to_string(),
        files: vec![DOCKERIGNORE_NAME.to_string()],
        shared_key_hint: format!("{}-{}", opts.context_key, DOCKERIGNORE_NAME),
        custom_name: format!("[internal] load {DOCKERIGNORE_NAME}"),
    }
}

/// Whether the build context is a remote URL (git / http), which has no local `.dockerignore`.
fn remote_context(opts: &BuildOpts) -> bool {
    opts.context_source.as_deref().is_some_and(|v| {
        v.starts_with("http://")
            || v.starts_with("https://")
            || v.starts_with("git@")
            || v.starts_with("git://")
            || v.starts_with("ssh://")
    })
}

/// Solve the Dockerfile local and read the Dockerfile (lowercase fallback) and its
/// `<filename>.dockerignore`.
pub async fn load_dockerfile(
    gw: &Gateway,
    opts: &BuildOpts,
) -> Result<LoadedDockerfile, GatewayError> {
    let (definition, vertex_digest) = dockerfile_local(opts).definition(&gw.caps().llb);
    let ref_id = gw
        .solve(definition.clone(), &[], false)
        .await
        .map_err(|e| with_context(e, "failed to resolve dockerfile"))?;
    trace(|| "Dockerfile source solved (lazily)".into());
    let ignore_name = opts.dockerfile_dockerignore();
    let (main, ignore) = tokio::join!(
        async {
            let r = gw.read_file(&ref_id, &opts.filename, None).await;
            trace(|| "Dockerfile ReadFile answered".into());
            r
        },
        async {
            let r = gw.read_file(&ref_id, &ignore_name, None).await;
            trace(|| "<Dockerfile>.dockerignore ReadFile answered".into());
            r
        }
    );
    let data = match main {
        Ok(d) => d,
        Err(e) => match opts.lowercase_fallback() {
            Some(lower) => match gw.read_file(&ref_id, &lower, None).await {
                Ok(d) => d,
                Err(_) => return Err(with_context(e, "failed to read dockerfile")),
            },
            None => return Err(with_context(e, "failed to read dockerfile")),
        },
    };
    let dockerignore = ignore.ok();
    Ok(LoadedDockerfile {
        source: SourceFile::dockerfile(&opts.filename, &data),
        definition,
        vertex_digest,
        dockerignore,
    })
}

fn with_context(e: GatewayError, context: &str) -> GatewayError {
    match e {
        GatewayError::Rpc {
            context: c,
            status,
            span,
        } if c.is_empty() => GatewayError::Rpc {
            context: context.to_string(),
            status,
            span,
        },
        other => other,
    }
}

/// The context's `.dockerignore` (empty when missing, and for a remote context).
pub(super) async fn context_dockerignore(
    gw: &Gateway,
    opts: &BuildOpts,
) -> Result<Vec<u8>, GatewayError> {
    if remote_context(opts) {
        return Ok(Vec::new());
    }
    let (def, _) = dockerignore_local(opts).definition(&gw.caps().llb);
    let ref_id = gw.solve(def, &[], false).await?;
    trace(|| "context .dockerignore source solved (lazily)".into());
    // A missing .dockerignore is not an error.
    let data = gw
        .read_file(&ref_id, DOCKERIGNORE_NAME, None)
        .await
        .unwrap_or_default();
    trace(|| "context .dockerignore ReadFile answered".into());
    Ok(data)
}

/// The `.dockerignore` patterns that apply: `<Dockerfile>.dockerignore` if it exists, else the
/// context's (being fetched by `context`), else none.
pub(super) async fn dockerignore_patterns(
    df: &LoadedDockerfile,
    context: Option<tokio::task::JoinHandle<Result<Vec<u8>, GatewayError>>>,
) -> Result<Vec<String>, GatewayError> {
    Ok(match (&df.dockerignore, context) {
        (Some(d), _) => parse_dockerignore(d),
        (None, Some(task)) => {
            parse_dockerignore(&task.await.map_err(|e| {
                GatewayError::Frontend(Error::new(format!("internal error: {e}")))
            })??)
        }
        (None, None) => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[&str], session: &str) -> BuildOpts {
        let mut env: Vec<(String, String)> = list
            .iter()
            .enumerate()
            .map(|(i, o)| (format!("BUILDKIT_FRONTEND_OPT_{i}"), o.to_string()))
            .collect();
        env.push(("BUILDKIT_SESSION_ID".into(), session.into()));
        BuildOpts::from_env(env).unwrap()
    }

    #[test]
    fn dockerfile_local_attrs() {
        let l = dockerfile_local(&opts(&[], "sess"));
        assert_eq!(l.name, "dockerfile");
        assert_eq!(
            l.files,
            ["Dockerfile", "Dockerfile.dockerignore", "dockerfile"]
        );
        assert_eq!(
            l.custom_name,
            "[internal] load build definition from Dockerfile"
        );
        assert_eq!(l.shared_key_hint, "dockerfile");
        assert_eq!(l.session_id, "sess");

        let l = dockerfile_local(&opts(
            &["filename=ci/Containerfile", "dockerfilekey=df"],
            "",
        ));
        assert_eq!(l.name, "df");
        assert_eq!(
            l.files,
            ["ci/Containerfile", "ci/Containerfile.dockerignore"]
        );
        assert_eq!(
            l.custom_name,
            "[internal] load build definition from ci/Containerfile"
        );
        assert!(!l.attrs().contains_key("local.session"));
    }

    #[test]
    fn dockerignore_local_attrs() {
        let l = dockerignore_local(&opts(&["local-sessionid:context=other"], "sess"));
        assert_eq!(l.name, "context");
        assert_eq!(l.files, [".dockerignore"]);
        assert_eq!(l.custom_name, "[internal] load .dockerignore");
        assert_eq!(l.session_id, "other");
        let a = l.attrs();
        assert_eq!(a["local.includepattern"], r#"[".dockerignore"]"#);
        assert_eq!(a["local.sharedkeyhint"], "context-.dockerignore");
    }

    #[test]
    fn remote_contexts_are_detected() {
        assert!(remote_context(&opts(
            &["context=https://github.com/x/y.git"],
            ""
        )));
        assert!(remote_context(&opts(
            &["context=git@github.com:x/y.git"],
            ""
        )));
        assert!(!remote_context(&opts(&[], "")));
    }
}
