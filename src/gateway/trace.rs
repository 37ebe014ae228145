//! `--build-arg HOARD_TRACE=1`: where a build's frontend time goes.
//!
//! Each line goes to stderr (buildkitd's log) with the milliseconds since the process started
//! and the wall-clock time (Unix seconds), so it can be set beside buildkitd's log and the
//! client's progress timestamps (`docker buildx build --progress=rawjson`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::opts::BuildOpts;

static START: OnceLock<Instant> = OnceLock::new();
static ON: AtomicBool = AtomicBool::new(false);

/// Note the process start, the origin of the times (the first call wins).
pub fn mark_start() {
    let _ = START.set(Instant::now());
}

/// Trace from now on if the build asked for it.
pub fn enable(opts: &BuildOpts) {
    let on = opts.build_args.get("HOARD_TRACE").is_some_and(|v| v == "1");
    ON.store(on, Ordering::Relaxed);
}

/// Log that the frontend reached `what` (when tracing).
pub fn trace(what: impl FnOnce() -> String) {
    if !ON.load(Ordering::Relaxed) {
        return;
    }
    let ms = START
        .get()
        .map(|t| t.elapsed().as_secs_f64() * 1000.0)
        .unwrap_or_default();
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    eprintln!("hoard: trace {ms:8.1} ms (unix {unix:.6}) {}", what());
}
