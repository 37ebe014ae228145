//! The BuildKit gateway side of hoard: the LLBBridge gRPC client over stdio and the frontend's
//! build flow.
//!
//! * [`transport`]: a tonic `Channel` over stdin/stdout (HTTP/2 prior knowledge, 16 MiB messages).
//! * [`opts`]: `BUILDKIT_FRONTEND_OPT_*`, session id and workers parsed into [`BuildOpts`].
//! * [`caps`]: Ping's gateway and LLB capability sets, frozen defaults, required-cap checks.
//!
//! **stdout is the wire**: nothing in this module (or the binary) may print to it. Diagnostics go
//! to stderr (which lands in the daemon's log, not the user's progress output); user-visible
//! diagnostics go through the `Warn` RPC or error details.

pub mod caps;
pub mod opts;
pub mod transport;

pub use caps::{CapSet, Caps};
pub use opts::{BuildOpts, Platform};
