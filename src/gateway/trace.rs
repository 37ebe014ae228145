//! `--build-arg HOARD_TRACE=1`: the time since the frontend started, and what it reached, on
//! stderr (buildkitd's log), to see where a build's frontend time goes.

use super::opts::BuildOpts;

pub(super) static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// With `--build-arg HOARD_TRACE=1`: the time since the frontend started, and what it reached,
/// on stderr (buildkitd's log), to see where a build's frontend time goes.
pub(super) fn trace(opts: &BuildOpts, what: &str) {
    trace_if(tracing(opts), what);
}

/// Whether the build asked for `HOARD_TRACE=1`.
pub(super) fn tracing(opts: &BuildOpts) -> bool {
    opts.build_args.get("HOARD_TRACE").is_some_and(|v| v == "1")
}

pub(super) fn trace_if(on: bool, what: &str) {
    if on {
        let ms = START
            .get()
            .map(|t| t.elapsed().as_secs_f64() * 1000.0)
            .unwrap_or_default();
        eprintln!("hoard: trace {ms:8.1} ms {what}");
    }
}
