//! Go-compatible ("protobuf-go deterministic") encoding of LLB ops, and op digests.
//!
//! buildkitd (v0.18+) re-marshals every op it receives with protobuf-go and re-digests it. If
//! our bytes differ, the daemon renames the op, and `Definition.source` locations keyed by our
//! digest no longer match, so a failing `RUN` loses its `>>>` snippet. prost differs from
//! protobuf-go in exactly two ways that matter for `pb.Op`:
//!
//! 1. **oneof position.** protobuf-go writes oneof members *after* all regular fields
//!    ("marshal oneofs last" for historic compatibility); prost writes a oneof at the position of
//!    its lowest tag. For `Op` Go order is `inputs(1) platform(10) constraints(11)` then the
//!    `exec/source/file/...` member (tags 2–8). The other messages reachable from an op that
//!    have a oneof are `FileAction` (oneof 4–8 already after 1–3) and `UserOpt` (nothing but the
//!    oneof), where both orders agree.
//! 2. **map entries with empty values.** protobuf-go always writes key (1) and value (2) of a
//!    map entry; prost skips default ones. The only map inside an op that we emit is
//!    `SourceOp.attrs`, which is therefore encoded by hand here (keys sorted bytewise, as
//!    `BTreeMap<String, _>` already iterates).
//!
//! Everything else agrees: fields in tag order, proto3 zero scalars omitted, present-but-empty
//! sub-messages written as `tag 00`, packed repeated scalars, negative ints as 10-byte varints.
//!
//! `BuildOp` (deprecated, never produced by hoard) is encoded by prost as-is.

use prost::Message;
use sha2::{Digest as _, Sha256};

use crate::proto::pb;

/// Encode an op exactly as protobuf-go's deterministic marshaller does.
pub fn marshal_op(op: &pb::Op) -> Vec<u8> {
    let head = pb::Op {
        inputs: op.inputs.clone(),
        op: None,
        platform: op.platform.clone(),
        constraints: op.constraints.clone(),
    };
    let mut buf = head.encode_to_vec();
    if let Some(member) = &op.op {
        match member {
            pb::op::Op::Source(src) => {
                let body = marshal_source_op(src);
                put_key(&mut buf, 3, WIRE_LEN);
                put_bytes(&mut buf, &body);
            }
            other => other.encode(&mut buf),
        }
    }
    buf
}

/// `SourceOp{1 identifier, 2 map<string,string> attrs}` with Go's map-entry rules.
pub fn marshal_source_op(src: &pb::SourceOp) -> Vec<u8> {
    let mut buf = Vec::new();
    if !src.identifier.is_empty() {
        put_key(&mut buf, 1, WIRE_LEN);
        put_bytes(&mut buf, src.identifier.as_bytes());
    }
    for (k, v) in &src.attrs {
        let mut entry = Vec::with_capacity(k.len() + v.len() + 4);
        put_key(&mut entry, 1, WIRE_LEN);
        put_bytes(&mut entry, k.as_bytes());
        put_key(&mut entry, 2, WIRE_LEN);
        put_bytes(&mut entry, v.as_bytes());
        put_key(&mut buf, 2, WIRE_LEN);
        put_bytes(&mut buf, &entry);
    }
    buf
}

/// `"sha256:" + hex(sha256(bytes))`, the OCI digest string BuildKit uses for ops.
pub fn digest(bytes: &[u8]) -> String {
    let sum = Sha256::digest(bytes);
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in sum {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

const HEX: &[u8; 16] = b"0123456789abcdef";
const WIRE_LEN: u8 = 2;

fn put_key(buf: &mut Vec<u8>, field: u32, wire: u8) {
    put_varint(buf, (u64::from(field) << 3) | u64::from(wire));
}

fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    put_varint(buf, b.len() as u64);
    buf.extend_from_slice(b);
}

fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

#[cfg(test)]
mod tests {
    //! Golden bytes, derived by hand from the protobuf wire format in protobuf-go's order.
    //! Notation: `key = field<<3 | wiretype` (0 varint, 2 length-delimited).

    use super::*;
    use std::collections::BTreeMap;

    fn amd64() -> pb::Platform {
        pb::Platform {
            architecture: "amd64".into(),
            os: "linux".into(),
            ..Default::default()
        }
    }

    fn cat(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    /// Op{platform, constraints{}, source{docker-image://docker.io/library/alpine:3.20}}
    /// The daemon's own bytes begin `52 0e … 5a 00 1a 2e …`.
    #[test]
    fn image_source_with_platform_and_empty_constraints() {
        let op = pb::Op {
            inputs: vec![],
            op: Some(pb::op::Op::Source(pb::SourceOp {
                identifier: "docker-image://docker.io/library/alpine:3.20".into(),
                attrs: BTreeMap::new(),
            })),
            platform: Some(amd64()),
            constraints: Some(pb::WorkerConstraints::default()),
        };
        let want = cat(&[
            // platform: field 10 LEN (0x52), 14 bytes
            &[0x52, 0x0e],
            &[0x0a, 0x05],
            b"amd64", // Architecture (1)
            &[0x12, 0x05],
            b"linux", // OS (2)
            // constraints: field 11 LEN (0x5a), empty but present
            &[0x5a, 0x00],
            // source: field 3 LEN (0x1a), 46 bytes = 2 + 44
            &[0x1a, 0x2e],
            &[0x0a, 0x2c], // identifier (1), 44 bytes
            b"docker-image://docker.io/library/alpine:3.20",
        ]);
        assert_eq!(marshal_op(&op), want);
        // prost alone would put the source first: the reason this module exists.
        assert_ne!(op.encode_to_vec(), want);
    }

    /// local://context with several attrs: entries sorted by key, each `12 len 0a klen k 12 vlen v`.
    #[test]
    fn local_source_with_attrs() {
        let mut attrs = BTreeMap::new();
        attrs.insert("local.session".to_string(), "s1".to_string());
        attrs.insert("local.excludepatterns".to_string(), "[\"x\"]".to_string());
        attrs.insert("local.sharedkeyhint".to_string(), "context".to_string());
        let op = pb::Op {
            op: Some(pb::op::Op::Source(pb::SourceOp {
                identifier: "local://context".into(),
                attrs,
            })),
            constraints: Some(pb::WorkerConstraints::default()),
            ..Default::default()
        };
        let want = cat(&[
            &[0x5a, 0x00], // constraints (11), empty; no platform for local sources
            // SourceOp: (2+15 identifier) + (2+30) + (2+19) + (2+30) entries = 102 = 0x66
            &[0x1a, 0x66],
            &[0x0a, 0x0f],
            b"local://context",
            // "local.excludepatterns"(21) = ["x"](5): entry 2+21+2+5 = 30 = 0x1e
            &[0x12, 0x1e, 0x0a, 0x15],
            b"local.excludepatterns",
            &[0x12, 0x05],
            b"[\"x\"]",
            // "local.session"(13) = "s1"(2): entry 2+13+2+2 = 19 = 0x13
            // (sorted before "local.sharedkeyhint": 'e' < 'h')
            &[0x12, 0x13, 0x0a, 0x0d],
            b"local.session",
            &[0x12, 0x02],
            b"s1",
            // "local.sharedkeyhint"(19) = "context"(7): entry 2+19+2+7 = 30 = 0x1e
            &[0x12, 0x1e, 0x0a, 0x13],
            b"local.sharedkeyhint",
            &[0x12, 0x07],
            b"context",
        ]);
        // recompute the outer length from the parts to keep the comment honest
        assert_eq!(want.len() - 4, 0x66);
        assert_eq!(marshal_op(&op), want);
    }

    /// An empty attr value is still written as `12 00` (prost would drop it).
    #[test]
    fn attr_with_empty_value() {
        let mut attrs = BTreeMap::new();
        attrs.insert("local.unique".to_string(), String::new());
        let op = pb::Op {
            op: Some(pb::op::Op::Source(pb::SourceOp {
                identifier: "local://c".into(),
                attrs,
            })),
            ..Default::default()
        };
        let want = cat(&[
            // SourceOp: 2+9 + 2+16 = 29 = 0x1d
            &[0x1a, 0x1d],
            &[0x0a, 0x09],
            b"local://c",
            // entry: 0a 0c "local.unique" 12 00 → 2+12+2 = 16 = 0x10
            &[0x12, 0x10, 0x0a, 0x0c],
            b"local.unique",
            &[0x12, 0x00],
        ]);
        assert_eq!(marshal_op(&op), want);
    }

    /// ExecOp with root bind, cache, tmpfs, secret mounts.
    #[test]
    fn exec_with_mounts() {
        let d = "sha256:".to_string() + &"a".repeat(64);
        let op = pb::Op {
            inputs: vec![pb::Input {
                digest: d.clone(),
                index: 0,
            }],
            op: Some(pb::op::Op::Exec(pb::ExecOp {
                meta: Some(pb::Meta {
                    args: vec!["sh".into()],
                    env: vec!["A=1".into()],
                    cwd: "/".into(),
                    remove_mount_stubs_recursive: true,
                    ..Default::default()
                }),
                mounts: vec![
                    pb::Mount {
                        input: 0,
                        dest: "/".into(),
                        output: 0,
                        ..Default::default()
                    },
                    pb::Mount {
                        input: -1,
                        dest: "/c".into(),
                        output: -1,
                        mount_type: pb::MountType::Cache as i32,
                        cache_opt: Some(pb::CacheOpt {
                            id: "k".into(),
                            sharing: pb::CacheSharingOpt::Locked as i32,
                        }),
                        ..Default::default()
                    },
                    pb::Mount {
                        input: -1,
                        dest: "/t".into(),
                        output: -1,
                        mount_type: pb::MountType::Tmpfs as i32,
                        tmpfs_opt: Some(pb::TmpfsOpt { size: 0 }),
                        ..Default::default()
                    },
                    pb::Mount {
                        input: -1,
                        dest: "/s".into(),
                        mount_type: pb::MountType::Secret as i32,
                        secret_opt: Some(pb::SecretOpt {
                            id: "id".into(),
                            mode: 0o400,
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            })),
            platform: Some(amd64()),
            constraints: Some(pb::WorkerConstraints::default()),
        };
        const NEG1: &[u8] = &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        // Input{digest (71 bytes)} = 2 + 71 = 73 = 0x49; index 0 omitted
        let input = cat(&[&[0x0a, 0x49, 0x0a, 0x47], d.as_bytes()]);
        // Meta: 0a 02 "sh" | 12 03 "A=1" | 1a 01 "/" | 58 01 (removeMountStubsRecursive=11 varint)
        let meta = cat(&[
            &[0x0a, 0x02],
            b"sh",
            &[0x12, 0x03],
            b"A=1",
            &[0x1a, 0x01],
            b"/",
            &[0x58, 0x01],
        ]);
        assert_eq!(meta.len(), 14); // 4 + 5 + 3 + 2
                                    // root: input 0 and output 0 omitted; dest (3) "/"
        let m_root = cat(&[&[0x1a, 0x01], b"/"]);
        // cache: 08 NEG1 | 1a 02 "/c" | 20 NEG1 | 30 03 (CACHE) | a2 01 (field 20 LEN) len: 0a 01 "k" 10 02
        let m_cache = cat(&[
            &[0x08],
            NEG1,
            &[0x1a, 0x02],
            b"/c",
            &[0x20],
            NEG1,
            &[0x30, 0x03],
            &[0xa2, 0x01, 0x05, 0x0a, 0x01],
            b"k",
            &[0x10, 0x02],
        ]);
        // tmpfs: 08 NEG1 | 1a 02 "/t" | 20 NEG1 | 30 04 (TMPFS) | 9a 01 00 (field 19, empty TmpfsOpt)
        let m_tmpfs = cat(&[
            &[0x08],
            NEG1,
            &[0x1a, 0x02],
            b"/t",
            &[0x20],
            NEG1,
            &[0x30, 0x04],
            &[0x9a, 0x01, 0x00],
        ]);
        // secret: 08 NEG1 | 1a 02 "/s" | (output 0 omitted) | 30 01 (SECRET) |
        //         aa 01 (field 21) len: 0a 02 "id" 20 80 02 (mode 0o400 = 256)
        let m_secret = cat(&[
            &[0x08],
            NEG1,
            &[0x1a, 0x02],
            b"/s",
            &[0x30, 0x01],
            &[0xaa, 0x01, 0x07, 0x0a, 0x02],
            b"id",
            &[0x20, 0x80, 0x02],
        ]);
        let mut exec = vec![0x0a, meta.len() as u8];
        exec.extend(&meta);
        for m in [&m_root, &m_cache, &m_tmpfs, &m_secret] {
            exec.push(0x12); // mounts (2)
            exec.push(m.len() as u8);
            exec.extend(m.iter());
        }
        let want = cat(&[
            &input,
            &[0x52, 0x0e, 0x0a, 0x05],
            b"amd64",
            &[0x12, 0x05],
            b"linux",
            &[0x5a, 0x00],
            &[0x12, exec.len() as u8], // exec is oneof field 2, written last
            &exec,
        ]);
        assert_eq!(marshal_op(&op), want);
    }

    /// FileOp copy with chown by name, mode -1 and timestamp -1; platform nil.
    #[test]
    fn file_copy_with_chown_and_unset_mode_timestamp() {
        let op = pb::Op {
            inputs: vec![
                pb::Input {
                    digest: "sha256:b".into(),
                    index: 0,
                },
                pb::Input {
                    digest: "sha256:c".into(),
                    index: 1,
                },
            ],
            op: Some(pb::op::Op::File(pb::FileOp {
                actions: vec![pb::FileAction {
                    input: 0,
                    secondary_input: 1,
                    output: 0,
                    action: Some(pb::file_action::Action::Copy(pb::FileActionCopy {
                        src: "/a".into(),
                        dest: "/b/".into(),
                        owner: Some(pb::ChownOpt {
                            user: Some(pb::UserOpt {
                                user: Some(pb::user_opt::User::ByName(pb::NamedUserOpt {
                                    name: "app".into(),
                                    input: 0,
                                })),
                            }),
                            group: Some(pb::UserOpt {
                                user: Some(pb::user_opt::User::ById(10)),
                            }),
                        }),
                        mode: -1,
                        follow_symlink: true,
                        timestamp: -1,
                        ..Default::default()
                    })),
                }],
            })),
            platform: None,
            constraints: Some(pb::WorkerConstraints::default()),
        };
        const NEG1: &[u8] = &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        // ChownOpt: user (1) = UserOpt{byName (1) = {0a 03 "app"}} → 0a 07 0a 05 0a 03 "app"
        //           group (2) = UserOpt{byID (2) = 10} → 12 02 10 0a
        let chown = cat(&[
            &[0x0a, 0x07, 0x0a, 0x05, 0x0a, 0x03],
            b"app",
            &[0x12, 0x02, 0x10, 0x0a],
        ]);
        // Copy: 0a 02 "/a" | 12 03 "/b/" | 1a len chown | 20 NEG1 (mode) | 28 01 | 58 NEG1 (timestamp 11)
        let copy = cat(&[
            &[0x0a, 0x02],
            b"/a",
            &[0x12, 0x03],
            b"/b/",
            &[0x1a, chown.len() as u8],
            &chown,
            &[0x20],
            NEG1,
            &[0x28, 0x01],
            &[0x58],
            NEG1,
        ]);
        // FileAction: input 0 omitted | 10 01 (secondaryInput) | output 0 omitted | 22 len copy (oneof 4)
        let action = cat(&[&[0x10, 0x01], &[0x22, copy.len() as u8], &copy]);
        let fileop = cat(&[&[0x12, action.len() as u8], &action]); // actions = field 2
        let want = cat(&[
            &[0x0a, 0x0a, 0x0a, 0x08],
            b"sha256:b",
            &[0x0a, 0x0c, 0x0a, 0x08],
            b"sha256:c",
            &[0x10, 0x01], // Input.index = 1
            &[0x5a, 0x00],
            &[0x22, fileop.len() as u8], // file = oneof field 4
            &fileop,
        ]);
        assert_eq!(marshal_op(&op), want);
    }

    /// MergeOp: inputs(1) then constraints(11) then merge (6); MergeInput{input 0} is `0a 00`.
    #[test]
    fn merge_op() {
        let op = pb::Op {
            inputs: vec![
                pb::Input {
                    digest: "sha256:x".into(),
                    index: 0,
                },
                pb::Input {
                    digest: "sha256:y".into(),
                    index: 0,
                },
            ],
            op: Some(pb::op::Op::Merge(pb::MergeOp {
                inputs: vec![pb::MergeInput { input: 0 }, pb::MergeInput { input: 1 }],
            })),
            platform: None,
            constraints: Some(pb::WorkerConstraints::default()),
        };
        let want = cat(&[
            &[0x0a, 0x0a, 0x0a, 0x08],
            b"sha256:x",
            &[0x0a, 0x0a, 0x0a, 0x08],
            b"sha256:y",
            &[0x5a, 0x00],
            // merge (6) → key 0x32; MergeOp{inputs: [ {} , {08 01} ]} = 0a 00 0a 02 08 01
            &[0x32, 0x06, 0x0a, 0x00, 0x0a, 0x02, 0x08, 0x01],
        ]);
        assert_eq!(marshal_op(&op), want);
    }

    /// The terminal op has only inputs.
    #[test]
    fn terminal_op() {
        let op = pb::Op {
            inputs: vec![pb::Input {
                digest: "sha256:z".into(),
                index: 2,
            }],
            ..Default::default()
        };
        let want = cat(&[&[0x0a, 0x0c, 0x0a, 0x08], b"sha256:z", &[0x10, 0x02]]);
        assert_eq!(marshal_op(&op), want);
    }

    #[test]
    fn digest_format() {
        assert_eq!(
            digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
