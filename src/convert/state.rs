//! The converter's state for one platform: the [`Build`] being converted, each stage's
//! [`StageState`] and the running [`St`] of a stage being dispatched. Data only: the files
//! above it (`stages`, `dispatch`, `run`, `copy`, `cache`, `contexts`, `ci`, `outline`) each
//! add the methods of one concern.

use std::collections::{BTreeMap, BTreeSet};

use super::api::{ConvertOpts, ImageRequest, PlatformResult};
use super::args::EnvList;
use super::contexts::NamedContext;
use crate::error::{Span, Warning};
use crate::expand::Lexer;
use crate::image::{ImageConfig, Platform};
use crate::instructions::Command;
use crate::llb;

/// A command of a stage together with the stages it reads from.
#[derive(Debug, Clone)]
pub(super) struct Cmd {
    pub command: Command,
    /// For COPY: `[from]`; for RUN: one entry per mount (`None` = build context / no source).
    pub sources: Vec<Option<usize>>,
    pub onbuild: bool,
}

/// The mutable build state of a stage: the LLB state and the image config being built.
#[derive(Debug, Clone)]
pub(super) struct St {
    pub output: Option<llb::Output>,
    pub env: EnvList,
    pub dir: String,
    pub user: String,
    pub platform: Platform,
    pub image: ImageConfig,
    /// ARGs declared in this stage (and inherited from the base stage), in order.
    pub build_args: Vec<(String, Option<String>)>,
    pub cmd_set: bool,
    pub workdir_set: bool,
    /// What this stage's COPY/ADD wrote: cache mounts never hide it.
    pub written: Vec<crate::cache::Written>,
    /// Tools whose program a cross wrapper replaced in an earlier step (`xx-go --wrap`).
    pub wrapped: Vec<String>,
    /// The image the stage chain started from (for distro-scoped cache ids).
    pub base_ref: String,
    /// The state holds a step whose caches wait for a lookup (a `USER` to resolve), directly or
    /// through a stage it copies or mounts from. Such a state is never read from nor built
    /// before the final graph: it would run that step without its caches.
    pub pending: bool,
}

impl St {
    /// A stage's state before its first instruction: the base's output and image config.
    pub fn new(
        output: Option<llb::Output>,
        platform: Platform,
        image: ImageConfig,
        base_ref: String,
    ) -> St {
        St {
            output,
            env: EnvList::default(),
            dir: "/".into(),
            user: String::new(),
            platform,
            image,
            build_args: Vec::new(),
            cmd_set: false,
            workdir_set: false,
            written: Vec::new(),
            wrapped: Vec::new(),
            base_ref,
            pending: false,
        }
    }
}

#[derive(Debug)]
pub(super) struct StageState {
    /// Name used in progress output: the AS name, `stage-N`, or empty for a single stage.
    pub stage_name: String,
    pub base_name: String,
    pub base_stage: Option<usize>,
    pub platform: Option<Platform>,
    pub span: Span,
    pub original: String,
    pub commands: Vec<Cmd>,
    pub deps: BTreeSet<usize>,
    /// An image named only by `COPY --from=<image>` / `--mount=from=<image>`.
    pub unregistered: bool,
    pub ignore_cache: bool,
    pub onbuild_done: bool,
    pub st: Option<St>,
    pub cmd_index: usize,
    pub cmd_total: usize,
    /// The command being dispatched is an ONBUILD trigger (progress names say so).
    pub in_onbuild: bool,
    /// A named context with this stage's name replaces the whole stage (its base and commands).
    pub replaced: Option<NamedContext>,
    /// The named context the base name (or `--from` image) refers to, once looked up.
    pub base_context: Option<NamedContext>,
    pub context_checked: bool,
    /// The `AS` name as written (none for an unnamed stage or an image named by `--from`).
    pub name: Option<String>,
    /// What the outline records while the stage is dispatched.
    pub capture: super::outline::Capture,
}

// `Done` is much larger than the others, but one value lives briefly per conversion round.
#[allow(clippy::large_enum_variant)]
pub(super) enum BuildOutcome {
    Need(Vec<ImageRequest>),
    /// Files to read, and the final states that may be built meanwhile.
    NeedFiles(Vec<super::api::FileRequest>, Vec<llb::Definition>),
    Done(PlatformResult, Vec<Warning>),
    /// Convert again with these follow paths for the named local contexts: which paths are
    /// read is only known once every stage is dispatched, and the local source comes first.
    Retry(BTreeMap<usize, Vec<String>>),
}

/// One platform's conversion.
pub(super) struct Build<'a> {
    pub opts: &'a ConvertOpts,
    pub text: &'a str,
    pub lexer: Lexer,
    pub target_platform: Platform,
    pub implicit_target: bool,
    pub global_args: EnvList,
    pub stages: Vec<StageState>,
    pub by_name: BTreeMap<String, usize>,
    pub target: usize,
    pub warnings: Vec<Warning>,
    pub graph: super::graph::Graph,
    /// Files to read before the conversion can finish (answered through [`Resolved::files`]).
    pub file_requests: Vec<super::api::FileRequest>,
    pub resolved_files: BTreeMap<(String, String), Option<Vec<u8>>>,
    /// `# hoard:` comments and the `HOARD` build argument.
    pub dialect: crate::cache::dialect::Dialect,
    pub hoard_arg: Vec<crate::cache::dialect::Setting>,
    /// What the cache planner did for each RUN, for `hoard explain`.
    pub plans: Vec<super::api::RunPlan>,
    /// Paths read from each stage (by the stage its base chain starts at), as the stock
    /// frontend records them to send only those of a named local context.
    pub read_paths: BTreeMap<usize, BTreeSet<String>>,
    /// The follow paths of each named local context, from a first pass (see [`BuildOutcome::Retry`]).
    pub follow_hint: Option<BTreeMap<usize, Vec<String>>>,
    /// A named local context was set up in this pass.
    pub local_contexts: bool,
    /// States of the final graph that hold no pending step: the last such state of every stage
    /// (see [`St::pending`]). While files are read, these may be built.
    pub ready: Vec<llb::Output>,
    /// Files hoard mounts into steps (configs, shims), by (target, recipe, mode, content).
    pub hoard_files: std::collections::HashMap<(String, String, u32, String), llb::Output>,
    /// CI cache seeding/export/clearing (`ci.rs`).
    pub ci: super::ci::CiState,
    /// The global ARGs declared before the first FROM (with or without a value) and the
    /// automatic ones: what `FROM` may use without an `UndefinedArgInFrom` warning.
    pub declared_args: Vec<String>,
    /// Where each stage last had a CMD, ENTRYPOINT or HEALTHCHECK (`MultipleInstructionsDisallowed`).
    pub used_once: BTreeMap<(usize, &'static str), Option<Span>>,
    /// The comments before each instruction, by its first line (descriptions in the outline).
    pub comments: BTreeMap<usize, Vec<String>>,
    /// Definition order of outline records.
    pub outline_seq: usize,
    /// The outline record of the global ARGs.
    pub global_capture: super::outline::Capture,
    /// The build context's `.dockerignore` (the `CopyIgnoredFile` check).
    pub ignore: Option<crate::dockerignore::Matcher>,
}
