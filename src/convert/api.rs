//! What the converter takes and answers: its options, the base images and files it asks for,
//! what the caller resolved, and each platform's result. Data only; the files that convert
//! import these from here, and `mod.rs` re-exports them as the converter's interface.

use std::collections::{BTreeMap, BTreeSet};

use super::ci;
use super::contexts::NamedContexts;
use super::outline::Outline;
use crate::error::{Span, Warning};
use crate::image::{ImageConfig, Platform};
use crate::instructions::NetworkMode;
use crate::llb;

/// What the converter needs to know about the build, from the frontend options.
#[derive(Debug, Clone)]
pub struct ConvertOpts {
    /// The Dockerfile's name as the user sees it (for source maps and messages).
    pub filename: String,
    pub target: Option<String>,
    pub build_args: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// Requested target platforms; empty means the build platform.
    pub target_platforms: Vec<Platform>,
    /// The worker's default platform.
    pub build_platform: Platform,
    /// Whether results are keyed by platform (more than one platform or asked for).
    pub multi_platform: bool,
    /// `--no-cache` (all stages) or `--no-cache-filter` stage names.
    pub no_cache: NoCache,
    /// `image-resolve-mode`, for the base images' sources.
    pub image_resolve_mode: llb::ResolveMode,
    /// Client session for local sources; empty means none.
    pub session_id: String,
    /// The local name of the build context (`context`).
    pub context_key: String,
    /// `.dockerignore` patterns for the build context.
    pub dockerignore: Vec<String>,
    /// LLB caps the daemon supports (from Ping); decides MergeOp, tmpfs size etc.
    pub llb_caps: BTreeSet<String>,
    /// `--add-host` entries (host, ip).
    pub extra_hosts: Vec<(String, String)>,
    pub hostname: Option<String>,
    /// `/dev/shm` size in bytes, when set (positive).
    pub shm_size: Option<i64>,
    /// `force-network-mode`: the network of every `RUN` without a `--network` of its own
    /// (`Default`: the sandbox's).
    pub force_network: NetworkMode,
    /// Convert every stage, not only those the target needs (`hoard explain`).
    pub all_stages: bool,
    /// `--build-context` named contexts.
    pub named_contexts: NamedContexts,
    /// CI cache seeding and export, as resolved by the gateway (`ci.rs`).
    pub ci: ci::CiInputs,
    /// Build checks and outlines: never ask for a file from an intermediate state (that would
    /// build it); a `USER` that would need `/etc/passwd` is assumed resolvable.
    pub no_reads: bool,
}

impl Default for ConvertOpts {
    fn default() -> Self {
        ConvertOpts {
            filename: "Dockerfile".into(),
            target: None,
            build_args: BTreeMap::new(),
            labels: BTreeMap::new(),
            target_platforms: Vec::new(),
            build_platform: Platform::host(),
            multi_platform: false,
            no_cache: NoCache::Off,
            image_resolve_mode: llb::ResolveMode::Default,
            session_id: String::new(),
            context_key: "context".into(),
            dockerignore: Vec::new(),
            llb_caps: BTreeSet::new(),
            extra_hosts: Vec::new(),
            hostname: None,
            shm_size: None,
            force_network: NetworkMode::Default,
            all_stages: false,
            named_contexts: NamedContexts::default(),
            ci: ci::CiInputs::default(),
            no_reads: false,
        }
    }
}

/// The `no-cache` frontend opt (parsed by the gateway): absent, present and empty (every
/// stage), or a list of stage names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum NoCache {
    #[default]
    Off,
    All,
    Stages(Vec<String>),
}

impl NoCache {
    /// Whether a stage (by name; unnamed stages only under `All`) ignores the cache. Stage
    /// names compare case-insensitively.
    pub fn applies_to(&self, stage: Option<&str>) -> bool {
        match self {
            NoCache::Off => false,
            NoCache::All => true,
            NoCache::Stages(names) => {
                stage.is_some_and(|s| names.iter().any(|n| n.eq_ignore_ascii_case(s)))
            }
        }
    }
}

/// A base image the converter needs resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRequest {
    /// Normalised reference (`docker.io/library/busybox:latest`).
    pub reference: String,
    pub platform: Platform,
    /// Progress name, like the stock `[internal] load metadata for ...`.
    pub log_name: String,
    pub span: Span,
    /// Set for an image in an OCI layout the client sends (an `oci-layout://` named context).
    pub oci_store: Option<OciStore>,
}

/// The client-side OCI layout store an image is read from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OciStore {
    pub session_id: String,
    pub store_id: String,
}

/// A resolved base image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedImage {
    /// The reference as the daemon returned it (normalised).
    pub reference: String,
    /// Manifest digest; `None` or empty for images only in the local store (never pin then).
    pub digest: Option<String>,
    /// The image config JSON.
    pub config: Vec<u8>,
}

/// A file the converter needs to read from an intermediate state (e.g. `/etc/passwd`, to turn
/// a `USER` name into the uid/gid a cache mount needs).
#[derive(Debug, Clone)]
pub struct FileRequest {
    /// Identifies the state: its digest (`scratch` for none).
    pub key: String,
    pub definition: llb::Definition,
    pub path: String,
    /// Only whether `path` exists is asked (a file or a directory): the answer is empty when
    /// it does not, non-empty when it does; no answer (`None`) counts as existing.
    pub exists: bool,
}

/// What the caller has resolved so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Base images, keyed by (normalised reference, platform id).
    pub images: BTreeMap<(String, String), ResolvedImage>,
    /// Files read from states, keyed by (state key, path); `None` when the file is missing.
    pub files: BTreeMap<(String, String), Option<Vec<u8>>>,
}

/// One platform's result.
#[derive(Debug, Clone)]
pub struct PlatformResult {
    pub platform: Platform,
    pub definition: llb::Definition,
    pub config: ImageConfig,
    /// The cache plan of every RUN that was converted, in order.
    pub plans: Vec<RunPlan>,
    /// CI cache seeding (the probe) and export parts.
    pub ci: ci::CiResult,
    /// What `--call outline` reports for the target (args, secrets, ssh mounts it uses).
    pub outline: Outline,
}

/// The cache planner's result for one RUN.
#[derive(Debug, Clone)]
pub struct RunPlan {
    pub span: Span,
    /// The stage's progress name (`build`, `stage-1`, or empty).
    pub stage: String,
    pub selection: crate::cache::Selection,
    /// The user the step runs as, when it could be resolved.
    pub user: Option<crate::cache::UserInfo>,
    pub plan: crate::cache::Plan,
}

/// The converter's answer.
#[derive(Debug)]
pub enum Outcome {
    NeedImages(Vec<ImageRequest>),
    /// Files to read from states; `ready` are states of the final graph that hold no step
    /// waiting for a file, which the caller may build while it reads (BuildKit then runs the
    /// stages that do not wait on a lookup in parallel with it, as the stock frontend would).
    NeedFiles {
        files: Vec<FileRequest>,
        ready: Vec<llb::Definition>,
    },
    Done {
        results: Vec<PlatformResult>,
        warnings: Vec<Warning>,
    },
}
