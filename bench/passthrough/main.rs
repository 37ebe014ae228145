//! The smallest gateway frontend: hands the build to the stock Dockerfile frontend built into
//! BuildKit (`Solve` with `frontend: dockerfile.v0` and the same options) and returns its
//! result. It does nothing else, so a build through it costs what BuildKit charges for
//! running *any* frontend image (resolving and unpacking the image, starting and tearing
//! down its container, the gRPC bridge) on top of the stock frontend's own work: the floor
//! under hoard's no-op rebuild time (`bench/run.sh frontend`, bench/FRONTEND.md).
//!
//! Built as a cargo example (`cargo build --release --example passthrough`) into an image by
//! `bench/passthrough/image.sh`. Not part of hoard.

use std::collections::HashMap;

use hoard::proto::moby::buildkit::v1::frontend as gw;
use hoard::proto::moby::buildkit::v1::frontend::llb_bridge_client::LlbBridgeClient;

/// Options that name the forwarding itself (`source`, `cmdline`: set by BuildKit for the
/// gateway; `BUILDKIT_SYNTAX`: would forward to this image again).
const DROPPED: &[&str] = &["source", "cmdline", "build-arg:BUILDKIT_SYNTAX"];

fn frontend_opts() -> HashMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("BUILDKIT_FRONTEND_OPT_"))
        .filter_map(|(_, kv)| {
            let (k, v) = kv.split_once('=')?;
            (!DROPPED.contains(&k)).then(|| (k.to_string(), v.to_string()))
        })
        .collect()
}

async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let channel = hoard::gateway::transport::connect_stdio().await?;
    let mut c = LlbBridgeClient::new(channel)
        .max_decoding_message_size(16 << 20)
        .max_encoding_message_size(16 << 20);
    c.ping(gw::PingRequest {}).await?;
    let solved = c
        .solve(gw::SolveRequest {
            frontend: "dockerfile.v0".into(),
            frontend_opt: frontend_opts().into_iter().collect(),
            allow_result_return: true,
            allow_result_array_ref: true,
            ..Default::default()
        })
        .await;
    let ret = match solved {
        Ok(r) => gw::ReturnRequest {
            result: r.into_inner().result,
            error: None,
        },
        Err(status) => gw::ReturnRequest {
            result: None,
            error: Some(hoard::proto::google::rpc::Status {
                code: status.code() as i32,
                message: status.message().to_string(),
                details: Vec::new(),
            }),
        },
    };
    c.r#return(ret).await?;
    Ok(())
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = match rt.block_on(run()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("passthrough: {e}");
            1
        }
    };
    std::process::exit(code);
}
