//! Generates the protobuf/gRPC types in `proto/` with the pure-Rust `protox` compiler (no system
//! `protoc`). Only the LLBBridge *client* is generated; every map becomes a `BTreeMap` so that
//! encodings (and hence LLB digests) are deterministic.

use std::path::Path;

const FILES: &[&str] = &[
    "ops.proto",
    "caps.proto",
    "worker.proto",
    "policy.proto",
    "errdefs.proto",
    "fsutil/stat.proto",
    "google/rpc/status.proto",
    "gateway.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    println!("cargo:rerun-if-changed=build.rs");
    let root = Path::new("proto");
    for f in FILES {
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }

    // protox ships google/protobuf/*.proto (Any, Timestamp) itself.
    let fds = protox::compile(FILES, [root])?;

    tonic_prost_build::configure()
        .build_server(false)
        .build_client(true)
        .btree_map(".")
        // Generate google.protobuf.{Any,Timestamp} ourselves instead of depending on prost-types.
        .compile_well_known_types(true)
        .compile_fds(fds)?;
    Ok(())
}
