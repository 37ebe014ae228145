//! Serialising a graph into a `pb.Definition` (Go's `State.Marshal`).
//!
//! * Ops are emitted in depth-first post-order (inputs first, in each op's Go `Inputs()` order),
//!   each digest once, followed by the terminal op `Op{inputs: [root]}`.
//! * `metadata` is keyed by op digest; metadata of distinct vertices with the same digest is
//!   merged. The terminal op's metadata declares caps `constraints` and `platform`, plus
//!   `meta.ignorecache` / `meta.description` / `meta.exportcache` if any op uses them.
//! * `source.locations` is keyed by the same (final, Go-compatible) digests; every op gets an
//!   entry (possibly empty), as in Go. `source.infos` lists the sources that are referenced, in
//!   order of first use, and `sourceIndex` points into that list.
//! * A scratch root gives an empty definition (no ops, no source).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::caps;
use super::encode::{digest, marshal_op};
use super::node::{Node, Output};
use crate::proto::pb;

/// A marshalled LLB graph, ready for `SolveRequest.definition`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Definition(pub pb::Definition);

impl Definition {
    pub fn as_pb(&self) -> &pb::Definition {
        &self.0
    }
    pub fn into_pb(self) -> pb::Definition {
        self.0
    }
    /// Digest of the result op (the terminal op's input), `None` for scratch. This is what the
    /// Dockerfile frontend passes to `Warn`.
    pub fn head(&self) -> Option<String> {
        use prost::Message;
        let last = self.0.def.last()?;
        let op = pb::Op::decode(last.as_slice()).ok()?;
        op.inputs.first().map(|i| i.digest.clone())
    }
    /// Every LLB cap any op declares; all must be enabled in the daemon's `Ping` `LLBCaps`.
    pub fn required_caps(&self) -> BTreeSet<String> {
        self.0
            .metadata
            .values()
            .flat_map(|m| m.caps.keys().cloned())
            .collect()
    }
}

/// The root of a definition built elsewhere (a frontend input from `buildx bake`), as an
/// [`Output`] that can be part of a new graph, like Go's `llb.NewDefinitionOp`. The ops keep
/// their bytes (so their digests) and metadata; the terminal op is the last one. `Ok(None)` is
/// scratch (no ops, or a terminal op without input).
pub fn from_pb(def: &pb::Definition) -> Result<Option<Output>, String> {
    use prost::Message;
    let mut ops: std::collections::HashMap<String, (pb::Op, Vec<u8>)> =
        std::collections::HashMap::new();
    let mut last = None;
    for bytes in &def.def {
        let op = pb::Op::decode(bytes.as_slice())
            .map_err(|e| format!("invalid op in definition: {e}"))?;
        let d = digest(bytes);
        last = Some(op.clone());
        ops.insert(d, (op, bytes.clone()));
    }
    let Some(root) = last.and_then(|t| t.inputs.first().cloned()) else {
        return Ok(None);
    };
    fn build(
        d: &str,
        ops: &std::collections::HashMap<String, (pb::Op, Vec<u8>)>,
        def: &pb::Definition,
        built: &mut std::collections::HashMap<String, std::sync::Arc<Node>>,
    ) -> Result<std::sync::Arc<Node>, String> {
        if let Some(n) = built.get(d) {
            return Ok(n.clone());
        }
        let (op, bytes) = ops
            .get(d)
            .ok_or_else(|| format!("definition lacks op {d}"))?;
        let mut deps = Vec::with_capacity(op.inputs.len());
        for input in &op.inputs {
            deps.push(Output {
                node: build(&input.digest, ops, def, built)?,
                index: input.index,
            });
        }
        let node = std::sync::Arc::new(Node {
            op: op.clone(),
            bytes: bytes.clone(),
            digest: d.to_string(),
            metadata: def.metadata.get(d).cloned().unwrap_or_default(),
            locations: Vec::new(),
            deps,
        });
        built.insert(d.to_string(), node.clone());
        Ok(node)
    }
    let mut built = std::collections::HashMap::new();
    let node = build(&root.digest, &ops, def, &mut built)?;
    Ok(Some(Output {
        node,
        index: root.index,
    }))
}

/// Marshal the graph ending in `root` (`None` = scratch). `sources` are the files that
/// [`super::SourceLocation::source`] indexes (usually just the Dockerfile, optionally with the
/// `Definition` that loaded it in `SourceInfo.definition`).
pub fn marshal(root: Option<&Output>, sources: &[pb::SourceInfo]) -> Definition {
    let Some(root) = root else {
        return Definition::default();
    };
    let mut st = State {
        def: vec![],
        metadata: BTreeMap::new(),
        seen_digests: HashSet::new(),
        seen_nodes: HashSet::new(),
        locations: BTreeMap::new(),
        used_sources: vec![],
        n_sources: sources.len(),
    };
    st.visit(&root.node);

    let terminal = pb::Op {
        inputs: vec![root.to_input()],
        ..Default::default()
    };
    let bytes = marshal_op(&terminal);
    let term_digest = digest(&bytes);
    st.def.push(bytes);
    let mut tcaps: BTreeMap<String, bool> = [caps::CONSTRAINTS, caps::PLATFORM]
        .iter()
        .map(|c| (c.to_string(), true))
        .collect();
    for m in st.metadata.values() {
        if m.ignore_cache {
            tcaps.insert(caps::META_IGNORE_CACHE.into(), true);
        }
        if !m.description.is_empty() {
            tcaps.insert(caps::META_DESCRIPTION.into(), true);
        }
        if m.export_cache.is_some() {
            tcaps.insert(caps::META_EXPORT_CACHE.into(), true);
        }
    }
    let entry = st.metadata.entry(term_digest).or_default();
    entry.caps.extend(tcaps);

    let mut locations = BTreeMap::new();
    for (dgst, locs) in st.locations {
        let list = locs
            .into_iter()
            .filter_map(|(src, ranges)| {
                let idx = st.used_sources.iter().position(|s| *s == src)?;
                Some(pb::Location {
                    source_index: idx as i32,
                    ranges: ranges
                        .iter()
                        .map(|r| pb::Range {
                            start: Some(pb::Position {
                                line: r.start as i32,
                                character: 0,
                            }),
                            end: Some(pb::Position {
                                line: r.end as i32,
                                character: 0,
                            }),
                        })
                        .collect(),
                })
            })
            .collect();
        locations.insert(dgst, pb::Locations { locations: list });
    }
    let infos = st
        .used_sources
        .iter()
        .map(|&i| sources[i].clone())
        .collect();

    Definition(pb::Definition {
        def: st.def,
        metadata: st.metadata,
        source: Some(pb::Source { locations, infos }),
    })
}

struct State {
    def: Vec<Vec<u8>>,
    metadata: BTreeMap<String, pb::OpMetadata>,
    seen_digests: HashSet<String>,
    seen_nodes: HashSet<*const Node>,
    locations: BTreeMap<String, Vec<(usize, Vec<crate::error::Span>)>>,
    used_sources: Vec<usize>,
    n_sources: usize,
}

impl State {
    fn visit(&mut self, node: &std::sync::Arc<Node>) {
        if !self.seen_nodes.insert(std::sync::Arc::as_ptr(node)) {
            return;
        }
        for dep in &node.deps {
            self.visit(&dep.node);
        }
        merge_metadata(
            self.metadata.entry(node.digest.clone()).or_default(),
            &node.metadata,
        );
        let locs = self.locations.entry(node.digest.clone()).or_default();
        for l in node.locations.iter().filter(|l| l.source < self.n_sources) {
            if !self.used_sources.contains(&l.source) {
                self.used_sources.push(l.source);
            }
            locs.push((l.source, l.ranges.clone()));
        }
        if self.seen_digests.insert(node.digest.clone()) {
            self.def.push(node.bytes.clone());
        }
    }
}

/// Go's `mergeMetadata`.
fn merge_metadata(into: &mut pb::OpMetadata, m: &pb::OpMetadata) {
    into.ignore_cache |= m.ignore_cache;
    into.description
        .extend(m.description.iter().map(|(k, v)| (k.clone(), v.clone())));
    if m.export_cache.is_some() {
        into.export_cache = m.export_cache;
    }
    into.caps.extend(m.caps.keys().map(|k| (k.clone(), true)));
    if m.progress_group.is_some() {
        into.progress_group = m.progress_group.clone();
    }
    if m.linux_resources.is_some() {
        into.linux_resources = m.linux_resources.clone();
    }
}
