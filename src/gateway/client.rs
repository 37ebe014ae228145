//! [`Gateway`]: a typed wrapper over the generated `LlbBridgeClient`.
//!
//! Every method keeps a failing RPC's whole `tonic::Status` (inside
//! [`GatewayError::Rpc`]) so its details can be forwarded to buildx unchanged. Methods take
//! `&self` and clone the (cheap) tonic client, so calls can run concurrently.

use std::time::Duration;

use tonic::transport::Channel;

use crate::convert::OciStore;
use crate::error::Span;
use crate::proto::fsutil::types::Stat;
use crate::proto::google::rpc::Status;
use crate::proto::moby::buildkit::v1::apicaps::ApiCap;
use crate::proto::moby::buildkit::v1::frontend as gw;
use crate::proto::moby::buildkit::v1::frontend::llb_bridge_client::LlbBridgeClient;
use crate::proto::pb;

use super::caps::{self, CapSet, Caps};
use super::errors::GatewayError;
use super::opts::{CacheImport, Platform};
use super::transport::{self, MAX_MESSAGE_SIZE};
use crate::llb::ResolveMode;

/// How long to wait for the first Ping (as BuildKit's Go client does).
pub const PING_TIMEOUT: Duration = Duration::from_secs(15);

/// What an image resolution returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResolvedConfig {
    /// `sha256:…`, or `None` when the daemon returned none (moby's graphdriver store): then
    /// the image must not be pinned.
    pub digest: Option<String>,
    /// The image config JSON.
    pub config: Vec<u8>,
    /// The (normalised) reference the daemon resolved.
    pub reference: String,
}

/// One `Warn` RPC's content.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WarnMessage {
    /// Digest of the vertex the warning is attached to (the Dockerfile-load vertex).
    pub vertex_digest: String,
    /// 1 for lint-style warnings.
    pub level: i64,
    /// `"<Rule>: <msg> (line N)"`.
    pub short: String,
    pub detail: Vec<Vec<u8>>,
    pub url: String,
    pub source_info: Option<pb::SourceInfo>,
    pub ranges: Vec<pb::Range>,
}

/// `pb.Platform` for a platform.
pub fn pb_platform(p: &Platform) -> pb::Platform {
    pb::Platform {
        architecture: p.architecture.clone(),
        os: p.os.clone(),
        variant: p.variant.clone(),
        os_version: p.os_version.clone(),
        os_features: p.os_features.clone(),
    }
}

/// `pb.Range` for a 1-based inclusive line span.
pub fn pb_range(span: Span) -> pb::Range {
    let line = |l: usize| {
        Some(pb::Position {
            line: l as i32,
            character: 0,
        })
    };
    pb::Range {
        start: line(span.start),
        end: line(span.end.max(span.start)),
    }
}

/// The cap sets from a Ping response: enabled caps only, frozen defaults for missing lists.
pub fn caps_from_pong(pong: &gw::PongResponse) -> Caps {
    let list = |l: &[ApiCap]| {
        l.iter()
            .map(|c| (c.id.clone(), c.enabled))
            .collect::<Vec<_>>()
    };
    Caps {
        gateway: CapSet::from_ping(list(&pong.frontend_api_caps), caps::DEFAULT_GATEWAY_CAPS),
        llb: CapSet::from_ping(list(&pong.llb_caps), caps::DEFAULT_LLB_CAPS),
    }
}

/// The ref id from a Solve response, whichever form the daemon used.
pub fn ref_id_from_solve(resp: &gw::SolveResponse) -> Result<String, GatewayError> {
    use gw::result::Result as R;
    match resp.result.as_ref().and_then(|r| r.result.as_ref()) {
        Some(R::Ref(r)) => Ok(r.id.clone()),
        Some(R::RefDeprecated(id)) => Ok(id.clone()),
        Some(R::Refs(_)) | Some(R::RefsDeprecated(_)) => Err(GatewayError::Transport(
            "solve returned a map of refs where a single ref was expected".into(),
        )),
        None => Ok(resp.r#ref.clone()),
    }
}

/// The LLBBridge client plus the daemon's caps.
#[derive(Clone, Debug)]
pub struct Gateway {
    client: LlbBridgeClient<Channel>,
    caps: Caps,
}

impl Gateway {
    /// Wrap a channel (no Ping yet; caps are the frozen defaults until [`Gateway::ping`]).
    pub fn new(channel: Channel) -> Gateway {
        let client = LlbBridgeClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE);
        Gateway {
            client,
            caps: Caps {
                gateway: CapSet::from_ids(caps::DEFAULT_GATEWAY_CAPS.iter().copied()),
                llb: CapSet::from_ids(caps::DEFAULT_LLB_CAPS.iter().copied()),
            },
        }
    }

    /// Connect over stdin/stdout and Ping.
    pub async fn connect_stdio() -> Result<Gateway, GatewayError> {
        let ch = transport::connect_stdio().await.map_err(|e| {
            GatewayError::Transport(format!("connecting to buildkitd over stdio: {e}"))
        })?;
        let mut g = Gateway::new(ch);
        g.ping().await?;
        Ok(g)
    }

    fn c(&self) -> LlbBridgeClient<Channel> {
        self.client.clone()
    }

    pub fn caps(&self) -> &Caps {
        &self.caps
    }

    /// Ping, and keep (and return) the two cap sets.
    pub async fn ping(&mut self) -> Result<Caps, GatewayError> {
        let mut client = self.c();
        let fut = client.ping(gw::PingRequest {});
        let pong = match tokio::time::timeout(PING_TIMEOUT, fut).await {
            Ok(r) => r
                .map_err(|s| GatewayError::rpc("failed to ping buildkitd", s))?
                .into_inner(),
            Err(_) => {
                return Err(GatewayError::Transport(
                    "timed out pinging buildkitd".into(),
                ))
            }
        };
        self.caps = caps_from_pong(&pong);
        Ok(self.caps.clone())
    }

    /// Solve a definition (lazily unless `evaluate`), returning the result's ref id.
    pub async fn solve(
        &self,
        definition: pb::Definition,
        cache_imports: &[CacheImport],
        evaluate: bool,
    ) -> Result<String, GatewayError> {
        let req = gw::SolveRequest {
            definition: Some(definition),
            allow_result_return: true,
            allow_result_array_ref: self.caps.gateway.supports(caps::gw::PROTO_REF_ARRAY),
            cache_imports: cache_imports
                .iter()
                .map(|c| gw::CacheOptionsEntry {
                    r#type: c.kind.clone(),
                    attrs: c.attrs.clone(),
                })
                .collect(),
            evaluate: evaluate && self.caps.gateway.supports(caps::gw::GATEWAY_SOLVE_EVALUATE),
            ..Default::default()
        };
        let resp = self
            .c()
            .solve(req)
            .await
            .map_err(|s| GatewayError::rpc("", s))?
            .into_inner();
        ref_id_from_solve(&resp)
    }

    /// Read a file (or a byte range of it) from a solved ref.
    pub async fn read_file(
        &self,
        ref_id: &str,
        path: &str,
        range: Option<(i64, i64)>,
    ) -> Result<Vec<u8>, GatewayError> {
        let req = gw::ReadFileRequest {
            r#ref: ref_id.to_string(),
            file_path: path.to_string(),
            range: range.map(|(offset, length)| gw::FileRange { offset, length }),
            mount_index: 0,
        };
        let resp = self
            .c()
            .read_file(req)
            .await
            .map_err(|s| GatewayError::rpc("", s))?;
        Ok(resp.into_inner().data)
    }

    /// The frontend inputs the build was given (`buildx bake` passes a `target:` context so).
    pub async fn inputs(
        &self,
    ) -> Result<std::collections::BTreeMap<String, pb::Definition>, GatewayError> {
        let resp = self
            .c()
            .inputs(gw::InputsRequest {})
            .await
            .map_err(|s| GatewayError::rpc("failed to get frontend inputs", s))?;
        Ok(resp.into_inner().definitions.into_iter().collect())
    }

    /// Stat a path in a solved ref (cap `statfile`).
    pub async fn stat_file(&self, ref_id: &str, path: &str) -> Result<Option<Stat>, GatewayError> {
        let req = gw::StatFileRequest {
            r#ref: ref_id.to_string(),
            path: path.to_string(),
            mount_index: 0,
        };
        let resp = self
            .c()
            .stat_file(req)
            .await
            .map_err(|s| GatewayError::rpc("", s))?;
        Ok(resp.into_inner().stat)
    }

    /// List a directory in a solved ref (cap `readdir`).
    pub async fn read_dir(
        &self,
        ref_id: &str,
        dir: &str,
        include_pattern: &str,
    ) -> Result<Vec<Stat>, GatewayError> {
        let req = gw::ReadDirRequest {
            r#ref: ref_id.to_string(),
            dir_path: dir.to_string(),
            include_pattern: include_pattern.to_string(),
            mount_index: 0,
        };
        let resp = self
            .c()
            .read_dir(req)
            .await
            .map_err(|s| GatewayError::rpc("", s))?;
        Ok(resp.into_inner().entries)
    }

    /// Resolve an image's config. `reference` is a normalised ref (`docker.io/library/x:tag`).
    /// Uses `ResolveSourceMeta` when the daemon has `source.metaresolver`, like the Go client.
    pub async fn resolve_image_config(
        &self,
        reference: &str,
        platform: Option<&Platform>,
        mode: ResolveMode,
        log_name: &str,
        oci: Option<&OciStore>,
    ) -> Result<ResolvedConfig, GatewayError> {
        let platform = platform.map(pb_platform);
        if self.caps.gateway.supports(caps::gw::SOURCE_META_RESOLVER) {
            // An OCI layout image is named `oci-layout://` with the client store's ids, and
            // carries no resolve mode (as the stock gateway client sends it).
            let (identifier, attrs, resolve_mode) = match oci {
                None => (
                    format!("docker-image://{reference}"),
                    Default::default(),
                    mode.as_str().to_string(),
                ),
                Some(o) => (
                    format!("oci-layout://{reference}"),
                    [
                        ("oci.session".to_string(), o.session_id.clone()),
                        ("oci.store".to_string(), o.store_id.clone()),
                    ]
                    .into_iter()
                    .collect(),
                    String::new(),
                ),
            };
            let req = gw::ResolveSourceMetaRequest {
                source: Some(pb::SourceOp { identifier, attrs }),
                platform,
                log_name: log_name.to_string(),
                resolve_mode,
                ..Default::default()
            };
            let resp = self
                .c()
                .resolve_source_meta(req)
                .await
                .map_err(|s| GatewayError::rpc("", s))?
                .into_inner();
            let Some(image) = resp.image else {
                let updated = resp.source.map(|s| s.identifier).unwrap_or_default();
                return Err(GatewayError::Frontend(crate::error::Error::new(format!(
                    "{reference} was resolved to a non-image source {updated} by source policy"
                ))));
            };
            let resolved = resp
                .source
                .map(|s| s.identifier)
                .and_then(|id| {
                    id.strip_prefix("docker-image://")
                        .or_else(|| id.strip_prefix("oci-layout://"))
                        .map(str::to_string)
                })
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| reference.to_string());
            return Ok(ResolvedConfig {
                digest: Some(image.digest).filter(|d| !d.is_empty()),
                config: image.config,
                reference: resolved,
            });
        }
        let req = gw::ResolveImageConfigRequest {
            r#ref: reference.to_string(),
            platform,
            resolve_mode: if oci.is_some() {
                String::new()
            } else {
                mode.as_str().to_string()
            },
            log_name: log_name.to_string(),
            resolver_type: if oci.is_some() { 1 } else { 0 },
            session_id: oci.map(|o| o.session_id.clone()).unwrap_or_default(),
            store_id: oci.map(|o| o.store_id.clone()).unwrap_or_default(),
            ..Default::default()
        };
        let resp = self
            .c()
            .resolve_image_config(req)
            .await
            .map_err(|s| GatewayError::rpc("", s))?
            .into_inner();
        Ok(ResolvedConfig {
            digest: Some(resp.digest).filter(|d| !d.is_empty()),
            config: resp.config,
            reference: if resp.r#ref.is_empty() {
                reference.to_string()
            } else {
                resp.r#ref
            },
        })
    }

    /// Send a warning to the client's progress output. A no-op (Ok) without cap
    /// `gateway.warnings`.
    pub async fn warn(&self, w: WarnMessage) -> Result<(), GatewayError> {
        if !self.caps.gateway.supports(caps::gw::GATEWAY_WARNINGS) {
            return Ok(());
        }
        let req = gw::WarnRequest {
            digest: w.vertex_digest,
            level: w.level,
            short: w.short.into_bytes(),
            detail: w.detail,
            url: w.url,
            info: w.source_info,
            ranges: w.ranges,
        };
        self.c()
            .warn(req)
            .await
            .map_err(|s| GatewayError::rpc("", s))?;
        Ok(())
    }

    /// Return a successful result. The process should exit right after.
    pub async fn return_result(&self, result: gw::Result) -> Result<(), GatewayError> {
        let req = gw::ReturnRequest {
            result: Some(result),
            error: None,
        };
        self.c()
            .r#return(req)
            .await
            .map_err(|s| GatewayError::rpc("failed to return", s))?;
        Ok(())
    }

    /// Return an error. The process should exit right after.
    pub async fn return_error(&self, status: Status) -> Result<(), GatewayError> {
        let req = gw::ReturnRequest {
            result: None,
            error: Some(status),
        };
        self.c()
            .r#return(req)
            .await
            .map_err(|s| GatewayError::rpc("failed to return", s))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(id: &str, enabled: bool) -> ApiCap {
        ApiCap {
            id: id.into(),
            enabled,
            ..Default::default()
        }
    }

    #[test]
    fn pong_caps_enabled_only_and_defaults() {
        let pong = gw::PongResponse {
            frontend_api_caps: vec![cap("gateway.warnings", true), cap("return", true)],
            llb_caps: vec![cap("mergeop", false), cap("file.base", true)],
            workers: vec![],
        };
        let c = caps_from_pong(&pong);
        assert!(c.gateway.supports("gateway.warnings"));
        assert!(!c.gateway.supports("solve.base"));
        assert!(c.llb.supports("file.base"));
        assert!(!c.llb.supports("mergeop"));

        let c = caps_from_pong(&gw::PongResponse::default());
        assert!(c.gateway.supports("solve.base"));
        assert!(c.gateway.supports("readfile"));
        assert!(!c.gateway.supports("return"));
        assert!(c.llb.supports("source.local"));
    }

    #[test]
    fn solve_response_ref_forms() {
        use gw::result::Result as R;
        let mk = |r: Option<R>| gw::SolveResponse {
            r#ref: "legacy".into(),
            result: Some(gw::Result {
                result: r,
                ..Default::default()
            }),
        };
        let new = mk(Some(R::Ref(gw::Ref {
            id: "abc".into(),
            def: None,
        })));
        assert_eq!(ref_id_from_solve(&new).unwrap(), "abc");
        assert_eq!(
            ref_id_from_solve(&mk(Some(R::RefDeprecated("old".into())))).unwrap(),
            "old"
        );
        assert_eq!(ref_id_from_solve(&mk(None)).unwrap(), "legacy");
        assert!(ref_id_from_solve(&mk(Some(R::Refs(Default::default())))).is_err());
    }

    #[test]
    fn range_and_platform_conversion() {
        let r = pb_range(Span::new(3, 5));
        assert_eq!(r.start.unwrap().line, 3);
        assert_eq!(r.end.unwrap().line, 5);
        let p = pb_platform(&Platform::new("linux", "arm", "v7"));
        assert_eq!(
            (p.os.as_str(), p.architecture.as_str(), p.variant.as_str()),
            ("linux", "arm", "v7")
        );
    }
}
