//! hoard: a BuildKit Dockerfile frontend that injects package-manager cache mounts.
//!
//! Text flows one way through the modules:
//!
//! ```text
//! Dockerfile text -> parser -> instructions -> (expand) -> cache planner -> convert -> llb
//!                 -> gateway -> buildkitd
//! ```
//!
//! * [`parser`]: text to nodes with line spans, directives, heredocs.
//! * [`instructions`]: nodes to typed instructions and stages, flags checked.
//! * [`expand`]: shell-style word expansion (`$v`, `${v:-x}`, quotes) as the stock frontend does.
//! * [`cache`]: which package managers a `RUN` uses and the cache mounts to add (recipes as data).
//! * [`convert`]: stages and instructions to an LLB graph plus an image config.
//! * [`llb`]: LLB ops, Go-compatible deterministic encoding, definitions with source maps.
//! * [`dockerignore`]: `.dockerignore` parsing and matching (pure; gateway and converter).
//! * [`image`]: OCI image config, platforms and image references.
//! * [`gateway`]: the LLBBridge gRPC client over stdio and the frontend's build flow.
//! * [`proto`]: generated protobuf types for BuildKit's gateway and LLB messages.
//! * [`tools`]: `hoard explain` and `hoard eject`, which run the converter offline.

pub mod cache;
pub mod convert;
pub mod dockerignore;
pub mod error;
pub mod expand;
pub mod gateway;
pub mod image;
pub mod instructions;
pub mod lint;
pub mod llb;
pub mod parser;
pub mod proto;
pub mod tools;

pub use error::{Error, Result, Span, Warning};
