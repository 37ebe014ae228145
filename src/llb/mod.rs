//! LLB: the build graph hoard sends to buildkitd, encoded byte-for-byte like Go's client.
//!
//! The API mirrors Go's `client/llb` package, but states are plain values:
//!
//! * A state is `Option<Output>`; `None` is scratch. An [`Output`] is one output of one op,
//!   immutable and cheap to clone (`Arc`). Its op bytes and digest are computed when the op is
//!   built, with [`encode::marshal_op`] (protobuf-go's deterministic order, so the daemon's
//!   re-digest agrees with ours and source locations keep matching).
//! * Sources: [`image`], [`local`], [`http`], [`git`], [`source`].
//! * Processes: [`Exec`] builder → [`ExecState`] (`root()`, `mount(dest)`).
//! * Files: [`FileOp`] builder (copy/mkdir/mkfile/rm/symlink) → `Output`.
//! * Layers: [`merge`], [`diff`].
//! * Every builder takes an [`OpMeta`]: progress name, description, progress group, ignore-cache,
//!   extra caps, worker filters and [`SourceLocation`]s (Dockerfile line spans).
//! * [`marshal`] turns a root into a [`Definition`] (ops, per-digest metadata with caps, source
//!   map); [`Definition::required_caps`] lists the LLB caps to check against `Ping`.
//!
//! Caps are recorded per op as Go's client does (see [`caps`]); FileOps additionally declare
//! their per-feature caps (see [`FileOp::build`]).

pub mod caps;
pub mod definition;
pub mod encode;
pub mod exec;
pub mod file;
pub mod merge;
pub mod node;
pub mod source;

pub use definition::{from_pb, marshal, Definition};
pub use exec::{Exec, ExecState, MountOpts, SecretMount, SshMount, DEFAULT_PATH_ENV};
pub use file::{
    Chmod, CopyOpts, FileOp, MkdirOpts, MkfileOpts, Owner, RmOpts, SymlinkOpts, UserRef,
};
pub use merge::{diff, merge};
pub use node::{OpMeta, Output, SourceLocation};
pub use source::{
    git, go_json_strings, http, image, local, source, Differ, GitOpts, GitSsh, HttpOpts, ImageOpts,
    LocalOpts, ResolveMode,
};

/// Re-exported protobuf types a caller needs to fill builder fields.
pub use crate::proto::pb::{
    CacheSharingOpt, MountContentCache, NetMode, Platform, ProgressGroup, SecurityMode, SourceInfo,
};

#[cfg(test)]
mod tests;
