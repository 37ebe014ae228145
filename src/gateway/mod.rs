//! The BuildKit gateway side of hoard: the LLBBridge gRPC client over stdio and the frontend's
//! build flow.
//!
//! * [`transport`]: a tonic `Channel` over stdin/stdout (HTTP/2 prior knowledge, 16 MiB messages).
//! * [`opts`]: `BUILDKIT_FRONTEND_OPT_*`, session id and workers parsed into [`BuildOpts`].
//! * [`caps`]: Ping's gateway and LLB capability sets, frozen defaults, required-cap checks.
//! * [`client`]: [`Gateway`], typed RPCs (Ping, Solve, ReadFile, ResolveImageConfig /
//!   ResolveSourceMeta, Warn, Return) that keep daemon errors whole.
//! * [`errors`]: `google.rpc.Status` for `Return.error`: `errdefs.Source` snippets for frontend
//!   errors, daemon errors forwarded unchanged, unsupported subrequests.
//! * [`local`]: `local://` definitions that fetch files of the client's local sources.
//! * [`dockerfile`]: loading the Dockerfile and the `.dockerignore` that applies.
//! * [`warn`]: build-check warnings through the `Warn` RPC.
//! * [`trace`]: `HOARD_TRACE=1` timings on stderr.
//! * [`result`]: shaping the final `Result` (refs, `containerimage.config`, `refs.platforms`).
//! * [`subrequests`]: `describe`, `lint`, `targets` and `outline` results.
//! * [`explain`]: `--call explain` / `--call eject`, the command-line tools' reports from the
//!   build's own conversion.
//! * [`outline`]: what `--call outline` lists (args, secrets, ssh of the target).
//! * [`convert_api`]: the build options as the converter's options.
//! * [`resolver`]: the converter's rounds answered through the daemon (images resolved
//!   concurrently, files read while the states that wait on no lookup build).
//! * [`frontend`]: the flow itself, [`frontend::run`].
//!
//! **stdout is the wire**: nothing in this module (or the binary) may print to it. Diagnostics go
//! to stderr (which lands in the daemon's log, not the user's progress output); user-visible
//! diagnostics go through the `Warn` RPC or error details.

pub mod caps;
pub mod ci;
pub mod client;
pub mod convert_api;
pub mod dockerfile;
pub mod errors;
pub mod explain;
pub mod frontend;
pub mod local;
pub mod opts;
pub mod outline;
pub mod resolver;
pub mod result;
pub mod subrequests;
pub mod trace;
pub mod transport;
pub mod warn;

pub use caps::{CapSet, Caps};
pub use client::Gateway;
pub use errors::GatewayError;
pub use frontend::run;
pub use opts::{BuildOpts, Platform};

/// Whether this process looks like it was started by buildkitd as a gateway frontend.
pub fn started_by_buildkit<I, K>(env_names: I) -> bool
where
    I: IntoIterator<Item = K>,
    K: AsRef<str>,
{
    env_names.into_iter().any(|k| {
        let k = k.as_ref();
        k == "BUILDKIT_FRONTEND_OPT_0" || k == opts::ENV_SESSION_ID
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// stdout is the gRPC wire: a stray print breaks every build. Only `transport.rs` may touch
    /// fd 1 (to duplicate it as the wire), and `frontend/cli.rs` (the CLI tools' output).
    #[test]
    fn nothing_prints_to_stdout() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        rust_files(&root.join("src/gateway"), &mut files);
        rust_files(&root.join("frontend"), &mut files);
        assert!(files.len() > 5);
        // Built with concat! so this file does not contain the tokens itself.
        let prints = [
            concat!("print", "ln!"),
            concat!("print", "!("),
            concat!("dbg", "!("),
        ];
        let stdout = concat!("io::std", "out()");
        // frontend/cli.rs is the command-line tools' output, never reached in frontend mode.
        files.retain(|f| !f.ends_with("frontend/cli.rs"));
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for (i, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                for tok in prints {
                    for (at, _) in line.match_indices(tok) {
                        // `eprintln!` / `eprint!(` go to stderr
                        let stderr = tok != prints[2] && line[..at].ends_with('e');
                        assert!(stderr, "{}:{}: {tok}", f.display(), i + 1);
                    }
                }
                if line.contains(stdout) {
                    assert!(
                        f.ends_with("transport.rs"),
                        "{}:{}: {stdout}",
                        f.display(),
                        i + 1
                    );
                }
            }
        }
    }

    #[test]
    fn buildkit_env_detection() {
        assert!(super::started_by_buildkit(["PATH", "BUILDKIT_SESSION_ID"]));
        assert!(super::started_by_buildkit(["BUILDKIT_FRONTEND_OPT_0"]));
        assert!(!super::started_by_buildkit(["PATH", "HOME"]));
    }
}
