//! What the frontend flow needs from the converter, as a small trait.
//!
//! The flow ([`super::frontend`]) is written against [`Converter`]; [`HoardConverter`] adapts
//! `crate::convert`. The converter is a pure function called in rounds: it answers
//! [`ConvertOutcome::NeedImages`] until every base image it needs is in [`ResolvedImages`]
//! (ONBUILD triggers in a resolved base can add more), then [`ConvertOutcome::Done`].

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Span, Warning};
use crate::proto::pb;

use super::opts::{BuildOpts, Platform};

/// Everything the converter gets from the gateway.
#[derive(Clone, Debug, Default)]
pub struct ConvertRequest {
    pub opts: BuildOpts,
    /// Enabled LLB caps from Ping (MergeOp, tmpfs size, ... are gated on them).
    pub llb_caps: BTreeSet<String>,
    /// Patterns from `.dockerignore` (or `<Dockerfile>.dockerignore`), already parsed.
    pub dockerignore: Vec<String>,
}

/// A base image the converter wants resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageNeed {
    /// Normalised reference, e.g. `docker.io/library/busybox:latest`.
    pub reference: String,
    pub platform: Platform,
    /// Progress name, e.g. `[internal] load metadata for docker.io/library/busybox:latest`.
    pub log_name: String,
    /// The `FROM` (or `COPY --from`) line, for errors.
    pub span: Span,
}

/// A resolved base image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedImage {
    /// The reference the daemon resolved (normalised).
    pub reference: String,
    /// `None` when the daemon gave no digest (moby graphdriver store): never pin then.
    pub digest: Option<String>,
    pub config: Vec<u8>,
}

/// Resolved images keyed by (requested reference, platform id).
pub type ResolvedImages = BTreeMap<(String, String), ResolvedImage>;

/// One platform's build, ready to solve.
#[derive(Clone, Debug, PartialEq)]
pub struct PlatformBuild {
    pub platform: Platform,
    /// Ops already Go-encoded, metadata, source map.
    pub definition: pb::Definition,
    /// `containerimage.config` JSON.
    pub config: Vec<u8>,
    /// `containerimage.base.config` JSON, when known.
    pub base_config: Option<Vec<u8>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ConvertOutcome {
    NeedImages(Vec<ImageNeed>),
    Done { builds: Vec<PlatformBuild>, warnings: Vec<Warning> },
}

/// The converter as the frontend flow sees it.
pub trait Converter {
    fn convert(
        &self,
        dockerfile: &str,
        req: &ConvertRequest,
        resolved: &ResolvedImages,
    ) -> Result<ConvertOutcome, Error>;
}

/// The real converter (`crate::convert`).
///
/// TEMPORARY STUB: `crate::convert` does not compile as a whole yet. When it lands, this
/// becomes (roughly):
///
/// ```text
/// let opts = crate::convert::ConvertOpts {
///     filename: req.opts.filename.clone(), target: req.opts.target.clone(),
///     build_args: req.opts.build_args.clone(), labels: req.opts.labels.clone(),
///     target_platforms: req.opts.platforms.clone(), build_platform: req.opts.default_platform.clone(),
///     multi_platform: req.opts.multi_platform, no_cache: <map NoCache>,
///     image_resolve_mode: Some(req.opts.image_resolve_mode.as_str().into()),
///     session_id: req.opts.session_for(&req.opts.context_key).into(),
///     context_key: req.opts.context_key.clone(), dockerignore: req.dockerignore.clone(),
///     llb_caps: req.llb_caps.clone(), extra_hosts: .., hostname: .., shm_size: .., force_network: ..,
/// };
/// match crate::convert::convert(text, &opts, &<map resolved>)? {
///     Outcome::NeedImages(v) => NeedImages(v.map(|r| ImageNeed { reference, platform, log_name, span })),
///     Outcome::Done { results, warnings } => Done { builds: results.map(|r| PlatformBuild {
///         platform, definition: r.definition.to_pb(), config: serde_json::to_vec(&r.config)?, base_config }) , warnings },
/// }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct HoardConverter;

impl Converter for HoardConverter {
    fn convert(
        &self,
        _dockerfile: &str,
        _req: &ConvertRequest,
        _resolved: &ResolvedImages,
    ) -> Result<ConvertOutcome, Error> {
        Err(Error::new("hoard: the Dockerfile converter is not wired up yet"))
    }
}
