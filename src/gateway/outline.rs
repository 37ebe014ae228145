//! `frontend.outline` (`docker buildx build --call outline`): the converter records the build
//! args, secrets and ssh mounts while it dispatches the target's stages (see
//! `convert::outline`); this module asks for that conversion and renders its outline.

use crate::proto::moby::buildkit::v1::frontend as gw;

use super::client::Gateway;
use super::convert_api::ConvertRequest;
use super::dockerfile::LoadedDockerfile;
use super::errors::GatewayError;
use super::opts::BuildOpts;
use super::resolver::{convert_all, Files, GatewayResolver};
use super::subrequests;
use super::warn::send_warnings;

/// The options an outline is computed with: the stock frontend outlines for the build
/// platform, whatever `--platform` says.
pub fn outline_build_opts(opts: &BuildOpts) -> BuildOpts {
    let mut opts = opts.clone();
    opts.platforms.clear();
    opts.multi_platform = false;
    opts
}

/// The `frontend.outline` subrequest: convert as a build would (same errors, same warnings)
/// without reading any file from a state, and return the outline the converter recorded.
/// `req` carries [`outline_build_opts`].
pub(super) async fn outline_request(
    gw: &Gateway,
    df: &LoadedDockerfile,
    text: &str,
    req: &ConvertRequest,
) -> Result<gw::Result, GatewayError> {
    // The outline never builds: files of intermediate states stay unknown.
    let mut resolver = GatewayResolver::new(gw, &req.opts, Files::Unknown);
    let done = convert_all(&mut resolver, text, req).await?;
    send_warnings(gw, df, &done.warnings).await;
    let outline = done
        .results
        .first()
        .map(|r| r.outline.clone())
        .unwrap_or_default();
    Ok(subrequests::outline_result(&df.source, &outline))
}
