//! Whole-graph tests: marshal order, dedup, terminal op, metadata and source map.

use prost::Message;

use super::*;
use crate::error::Span;
use crate::proto::pb;

fn amd64() -> pb::Platform {
    pb::Platform {
        architecture: "amd64".into(),
        os: "linux".into(),
        ..Default::default()
    }
}

fn dockerfile() -> pb::SourceInfo {
    pb::SourceInfo {
        filename: "Dockerfile".into(),
        data: b"FROM alpine\nRUN true\n".to_vec(),
        definition: None,
        language: "Dockerfile".into(),
    }
}

fn build_graph() -> (Output, Output, Output) {
    let base = image(
        "docker.io/library/alpine:latest",
        &amd64(),
        &ImageOpts::default(),
        OpMeta::named("FROM alpine").at(Span::line(1)),
    );
    let mut e = Exec::new(
        Some(base.clone()),
        vec!["/bin/sh".into(), "-c".into(), "true".into()],
        amd64(),
    );
    e.daemon_sets_default_path = Some(true);
    let run = e
        .build(OpMeta::named("RUN true").at(Span::line(2)))
        .unwrap()
        .root()
        .unwrap();
    (base, run.clone(), run)
}

#[test]
fn marshal_orders_dedups_and_terminates() {
    let (base, run, _) = build_graph();
    // a merge that uses `base` twice through different paths
    let m = merge(&[Some(base.clone()), Some(run.clone())], OpMeta::default()).unwrap();
    let def = marshal(Some(&m), &[dockerfile()]);
    let d = def.as_pb();
    assert_eq!(d.def.len(), 4); // image, exec, merge, terminal
    assert_eq!(d.def[0], base.op_bytes());
    assert_eq!(d.def[1], run.op_bytes());
    assert_eq!(d.def[2], m.op_bytes());
    let term = pb::Op::decode(d.def[3].as_slice()).unwrap();
    assert_eq!(
        term.inputs,
        vec![pb::Input {
            digest: m.digest().into(),
            index: 0
        }]
    );
    assert!(term.op.is_none() && term.platform.is_none() && term.constraints.is_none());
    assert_eq!(def.head().as_deref(), Some(m.digest()));
    // digests are sha256 of the emitted bytes
    for b in &d.def[..3] {
        assert!(d.metadata.contains_key(&encode::digest(b)));
    }
    let term_md = &d.metadata[&encode::digest(&d.def[3])];
    let tcaps: Vec<_> = term_md.caps.keys().map(String::as_str).collect();
    assert_eq!(tcaps, ["constraints", "meta.description", "platform"]);
    let req = def.required_caps();
    for c in [
        "source.image",
        "exec.meta.base",
        "exec.mount.bind",
        "mergeop",
        "constraints",
        "platform",
    ] {
        assert!(req.contains(c), "{c}");
    }
}

#[test]
fn digests_are_stable_and_equal_graphs_dedup() {
    let (a, ra, _) = build_graph();
    let (b, rb, _) = build_graph();
    assert_eq!(a.digest(), b.digest());
    assert_eq!(ra.digest(), rb.digest());
    // Two separately built but identical branches collapse to one op each.
    let m = merge(&[Some(ra.clone()), Some(rb.clone())], OpMeta::default()).unwrap();
    let def = marshal(Some(&m), &[dockerfile()]);
    assert_eq!(def.as_pb().def.len(), 4);
    // Both vertices' locations are kept under the shared digest, as Go does.
    let locs = &def.as_pb().source.as_ref().unwrap().locations[ra.digest()];
    assert_eq!(locs.locations.len(), 2);
    // Pin the bytes so accidental encoding changes show up (Go order: platform, constraints, source).
    assert_eq!(a.digest(), encode::digest(a.op_bytes()));
    let want = [
        &[0x52u8, 0x0e, 0x0a, 0x05][..],
        b"amd64",
        &[0x12, 0x05],
        b"linux",
        &[0x5a, 0x00],
        &[0x1a, 0x30, 0x0a, 0x2e], // SourceOp (48) { identifier (46) }
        b"docker-image://docker.io/library/alpine:latest",
    ]
    .concat();
    assert_eq!(a.op_bytes(), &want[..]);
}

#[test]
fn source_map_keyed_by_final_digests() {
    let (base, run, _) = build_graph();
    let def = marshal(Some(&run), &[dockerfile()]);
    let src = def.as_pb().source.as_ref().unwrap();
    assert_eq!(src.infos, vec![dockerfile()]);
    let at = |d: &str| src.locations[d].locations.clone();
    let loc = at(run.digest());
    assert_eq!(loc.len(), 1);
    assert_eq!(loc[0].source_index, 0);
    assert_eq!(loc[0].ranges[0].start.unwrap().line, 2);
    assert_eq!(loc[0].ranges[0].end.unwrap().line, 2);
    assert_eq!(at(base.digest())[0].ranges[0].start.unwrap().line, 1);
    // keys are digests of the bytes actually in `def`
    for k in src.locations.keys() {
        assert!(def.as_pb().def.iter().any(|b| &encode::digest(b) == k));
    }
}

#[test]
fn unused_sources_are_left_out_and_indexes_remapped() {
    let other = pb::SourceInfo {
        filename: "other".into(),
        ..Default::default()
    };
    let o = local(
        "context",
        &LocalOpts::default(),
        OpMeta {
            locations: vec![SourceLocation::new(1, Span::new(3, 4))],
            ..Default::default()
        },
    );
    let def = marshal(Some(&o), &[other, dockerfile()]);
    let src = def.as_pb().source.as_ref().unwrap();
    assert_eq!(src.infos, vec![dockerfile()]);
    assert_eq!(src.locations[o.digest()].locations[0].source_index, 0);
}

#[test]
fn scratch_is_empty() {
    let def = marshal(None, &[dockerfile()]);
    assert!(def.as_pb().def.is_empty());
    assert!(def.as_pb().source.is_none());
    assert_eq!(def.head(), None);
    assert!(def.required_caps().is_empty());
}

#[test]
fn file_op_in_graph_orders_deps_like_go() {
    let base = local("a", &LocalOpts::default(), OpMeta::default());
    let s1 = local("s1", &LocalOpts::default(), OpMeta::default());
    let s2 = local("s2", &LocalOpts::default(), OpMeta::default());
    let mut f = FileOp::new(Some(base.clone()));
    f.copy(Some(s1.clone()), "/", "/1", CopyOpts::default());
    f.copy(Some(s2.clone()), "/", "/2", CopyOpts::default());
    let out = f.build(OpMeta::default()).unwrap();
    let def = marshal(Some(&out), &[]);
    let d = &def.as_pb().def;
    // Go's FileOp.Inputs(): base, then copy sources from the last action backwards
    assert_eq!(d[0], base.op_bytes());
    assert_eq!(d[1], s2.op_bytes());
    assert_eq!(d[2], s1.op_bytes());
    // but Op.inputs follow action order
    let ins: Vec<_> = out.op().inputs.iter().map(|i| i.digest.clone()).collect();
    assert_eq!(ins, [base.digest(), s1.digest(), s2.digest()]);
}

#[test]
fn a_foreign_definition_becomes_part_of_a_new_graph() {
    let (base, run, _) = build_graph();
    let def = marshal(Some(&run), &[]);
    let root = from_pb(def.as_pb()).unwrap().expect("not scratch");
    assert_eq!(root, run);
    assert_eq!(root.op_bytes(), run.op_bytes());
    // Marshalled again, alone or under a new op, the foreign ops keep their bytes and metadata.
    assert_eq!(marshal(Some(&root), &[]).as_pb().def, def.as_pb().def);
    let m = merge(&[Some(base.clone()), Some(root)], OpMeta::default()).unwrap();
    let d = marshal(Some(&m), &[]);
    let d = d.as_pb();
    assert_eq!(d.def[0], base.op_bytes());
    assert_eq!(d.def[1], run.op_bytes());
    assert_eq!(
        d.metadata[run.digest()].description["llb.customname"],
        "RUN true"
    );
    assert_eq!(from_pb(&pb::Definition::default()).unwrap(), None);
    let mut broken = def.into_pb();
    broken.def.remove(0);
    assert!(from_pb(&broken).is_err());
}
