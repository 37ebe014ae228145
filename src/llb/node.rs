//! Graph vertices: immutable, reference-counted ops whose bytes and digest are computed once,
//! when the op is built (all inputs are already final, so nothing is lazy as in Go's client).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use super::encode::{digest, marshal_op};
use crate::error::Span;
use crate::proto::pb;

/// One finished op.
pub(crate) struct Node {
    pub(crate) op: pb::Op,
    pub(crate) bytes: Vec<u8>,
    pub(crate) digest: String,
    pub(crate) metadata: pb::OpMetadata,
    pub(crate) locations: Vec<SourceLocation>,
    /// Vertices this op depends on, in the order Go's `Vertex.Inputs()` lists them; decides the
    /// post-order of `Definition.def` only.
    pub(crate) deps: Vec<Output>,
}

/// One output of one op: what Go calls a state's `Output`. A state is `Option<Output>`, where
/// `None` is scratch (the empty filesystem).
#[derive(Clone)]
pub struct Output {
    pub(crate) node: Arc<Node>,
    pub(crate) index: i64,
}

impl Output {
    /// Digest of the op producing this output (`sha256:…`).
    pub fn digest(&self) -> &str {
        &self.node.digest
    }
    /// Output index within the op.
    pub fn index(&self) -> i64 {
        self.index
    }
    /// The op itself (as sent to the daemon).
    pub fn op(&self) -> &pb::Op {
        &self.node.op
    }
    /// The op's metadata (caps, description, ...).
    pub fn metadata(&self) -> &pb::OpMetadata {
        &self.node.metadata
    }
    /// The Go-compatible encoding of the op; `digest()` is sha256 over these bytes.
    pub fn op_bytes(&self) -> &[u8] {
        &self.node.bytes
    }
    pub(crate) fn to_input(&self) -> pb::Input {
        pb::Input {
            digest: self.node.digest.clone(),
            index: self.index,
        }
    }
}

/// Two outputs are equal when they name the same op digest and index (Go's `Input.EqualVT`).
impl PartialEq for Output {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index && self.node.digest == other.node.digest
    }
}
impl Eq for Output {}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Output({}#{})", self.node.digest, self.index)
    }
}

/// A place in a source file (index into the `sources` passed to [`super::marshal`]) with one
/// or more 1-based line ranges. One `SourceLocation` becomes one `pb.Location`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLocation {
    pub source: usize,
    pub ranges: Vec<Span>,
}

impl SourceLocation {
    pub fn new(source: usize, span: Span) -> Self {
        SourceLocation {
            source,
            ranges: vec![span],
        }
    }
}

/// Per-op options that do not change the op's bytes (they go to `OpMetadata` and the source
/// map), plus worker constraints (which do). Go's `ConstraintsOpt`s.
#[derive(Clone, Debug, Default)]
pub struct OpMeta {
    /// Progress name: `description["llb.customname"]`.
    pub custom_name: Option<String>,
    /// Other description keys, e.g. `com.docker.dockerfile.v1.command`.
    pub description: BTreeMap<String, String>,
    pub ignore_cache: bool,
    pub export_cache: Option<bool>,
    pub progress_group: Option<pb::ProgressGroup>,
    pub linux_resources: Option<pb::LinuxResources>,
    /// Where the op comes from; feeds `Definition.source` (the `>>>` snippet).
    pub locations: Vec<SourceLocation>,
    /// Extra caps to declare beyond those the builder adds itself.
    pub caps: BTreeSet<String>,
    /// `Op.constraints.filter` (containerd-style worker filters). Part of the digest.
    pub worker_filters: Vec<String>,
}

impl OpMeta {
    /// Meta with just a progress name.
    pub fn named(name: impl Into<String>) -> Self {
        OpMeta {
            custom_name: Some(name.into()),
            ..Default::default()
        }
    }
    /// Add a location in source 0 (the Dockerfile).
    pub fn at(mut self, span: Span) -> Self {
        self.locations.push(SourceLocation::new(0, span));
        self
    }
    pub fn with_description(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.description.insert(key.into(), value.into());
        self
    }
    pub fn with_progress_group(
        mut self,
        id: impl Into<String>,
        name: impl Into<String>,
        weak: bool,
    ) -> Self {
        self.progress_group = Some(pb::ProgressGroup {
            id: id.into(),
            name: name.into(),
            weak,
        });
        self
    }
}

/// Finish an op: fill constraints, encode, digest, build metadata.
pub(crate) fn finish(
    mut op: pb::Op,
    caps: BTreeSet<&'static str>,
    meta: OpMeta,
    deps: Vec<Output>,
) -> Arc<Node> {
    op.constraints = Some(pb::WorkerConstraints {
        filter: meta.worker_filters.clone(),
    });
    let bytes = marshal_op(&op);
    let digest = digest(&bytes);
    let mut description = meta.description;
    if let Some(name) = meta.custom_name {
        description.insert("llb.customname".into(), name);
    }
    let mut cap_map: BTreeMap<String, bool> =
        caps.into_iter().map(|c| (c.to_string(), true)).collect();
    for c in meta.caps {
        cap_map.insert(c, true);
    }
    let metadata = pb::OpMetadata {
        ignore_cache: meta.ignore_cache,
        description,
        export_cache: meta.export_cache.map(|value| pb::ExportCache { value }),
        caps: cap_map,
        progress_group: meta.progress_group,
        linux_resources: meta.linux_resources,
    };
    Arc::new(Node {
        op,
        bytes,
        digest,
        metadata,
        locations: meta.locations,
        deps,
    })
}

/// Push `o` unless an equal output (same digest and index) is already in `v`.
pub(crate) fn push_unique(v: &mut Vec<Output>, o: &Output) {
    if !v.iter().any(|x| x == o) {
        v.push(o.clone());
    }
}

/// Index of `o` in `inputs`, appending it if new (Go dedups inputs by digest and index).
pub(crate) fn input_index(inputs: &mut Vec<pb::Input>, o: &Output) -> i64 {
    let inp = o.to_input();
    if let Some(i) = inputs.iter().position(|x| *x == inp) {
        return i as i64;
    }
    inputs.push(inp);
    (inputs.len() - 1) as i64
}
