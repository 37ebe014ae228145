//! Generated protobuf and gRPC types for BuildKit's gateway and LLB messages.
//!
//! The `.proto` sources live in `proto/` and are compiled by `build.rs` (protox + tonic-prost-build,
//! client only, `BTreeMap` for every map). Modules mirror the protobuf packages exactly, because
//! the generated code refers across packages with relative `super::` paths and because gRPC method
//! paths and `Any` type names use the package names:
//!
//! * [`pb`]: LLB (`Op`, `Definition`, `OpMetadata`, source maps, ...).
//! * [`moby::buildkit::v1::frontend`]: the `LLBBridge` service
//!   ([`moby::buildkit::v1::frontend::llb_bridge_client::LlbBridgeClient`]) and its messages.
//! * [`moby::buildkit::v1::apicaps`], [`moby::buildkit::v1::types`],
//!   [`moby::buildkit::v1::sourcepolicy`]: caps, worker records, source policies.
//! * [`errdefs`]: typed error details (`Source` for the `>>>` snippet, `Vertex`, ...).
//! * [`fsutil::types`]: `Stat` from `ReadDir`/`StatFile`.
//! * [`google::rpc`]: `Status`; [`google::protobuf`]: `Any`, `Timestamp`.
//!
//! Do not digest ops with `prost::Message::encode_to_vec`: use [`crate::llb::encode`], which
//! reproduces protobuf-go's deterministic byte order.

#![allow(clippy::all, missing_docs, non_camel_case_types, rustdoc::all)]

pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/pb.rs"));
}

pub mod errdefs {
    include!(concat!(env!("OUT_DIR"), "/errdefs.rs"));
}

pub mod fsutil {
    pub mod types {
        include!(concat!(env!("OUT_DIR"), "/fsutil.types.rs"));
    }
}

pub mod google {
    pub mod rpc {
        include!(concat!(env!("OUT_DIR"), "/google.rpc.rs"));
    }
    pub mod protobuf {
        include!(concat!(env!("OUT_DIR"), "/google.protobuf.rs"));
    }
}

pub mod moby {
    pub mod buildkit {
        pub mod v1 {
            pub mod frontend {
                include!(concat!(env!("OUT_DIR"), "/moby.buildkit.v1.frontend.rs"));
            }
            pub mod apicaps {
                include!(concat!(env!("OUT_DIR"), "/moby.buildkit.v1.apicaps.rs"));
            }
            pub mod types {
                include!(concat!(env!("OUT_DIR"), "/moby.buildkit.v1.types.rs"));
            }
            pub mod sourcepolicy {
                include!(concat!(
                    env!("OUT_DIR"),
                    "/moby.buildkit.v1.sourcepolicy.rs"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::moby::buildkit::v1::frontend as gw;
    use super::*;
    use prost::Message;

    #[test]
    fn packages_and_paths() {
        // gRPC full names come from the package; Any type URLs too.
        let op = pb::Op {
            inputs: vec![pb::Input {
                digest: "sha256:x".into(),
                index: 0,
            }],
            ..Default::default()
        };
        assert_eq!(op.encode_to_vec(), b"\x0a\x0a\x0a\x08sha256:x");
        let s = google::rpc::Status {
            code: 2,
            message: "m".into(),
            details: vec![google::protobuf::Any {
                type_url: "t".into(),
                value: b"{}".to_vec(),
            }],
        };
        assert_eq!(google::rpc::Status::decode(&*s.encode_to_vec()).unwrap(), s);
        let _r = gw::ReturnRequest {
            result: None,
            error: Some(s),
        };
        let _st = fsutil::types::Stat::default();
        let _c = moby::buildkit::v1::apicaps::ApiCap::default();
        let _w = moby::buildkit::v1::types::WorkerRecord::default();
        let _p = moby::buildkit::v1::sourcepolicy::Policy::default();
        let _e = errdefs::Source::default();
        let _m: std::collections::BTreeMap<String, String> = pb::SourceOp::default().attrs;
    }
}
