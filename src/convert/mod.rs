//! Stage 4: typed instructions to an LLB graph plus the image config, per target platform.
//!
//! The converter is pure and synchronous: it never talks to the daemon. Base images are
//! resolved by the caller. [`convert`] answers [`Outcome::NeedImages`] listing the image configs
//! it still lacks; the caller resolves them (through the gateway) and calls again with a larger
//! [`Resolved`] set, until the answer is [`Outcome::Done`]. ONBUILD triggers found in a resolved
//! base can add dependencies, which is why this is a loop rather than one pre-pass.
//!
//! The files, in layers: a file imports only from the layers below it (in layer 1, from one
//! another without a cycle); nothing imports from above:
//!
//! 1. Data and pure functions: `api` (this module's interface types), `args` (global ARG
//!    scope, automatic platform args), `paths` (stage paths, source URL kinds), `graph` (the LLB
//!    graph being built), `outline` (what `--call outline` records), `contexts` (parsing
//!    `--build-context` values), `checks` (build-check rules run during the walk), `ci` (CI
//!    cache arguments, seeds and export data), `gofmt` (strings formatted the Go way), `expose`.
//! 2. `state`: the converter's state for one platform (`Build`, each stage's state).
//! 3. The methods of `Build`, one concern per file: `stages` (stage graph, target,
//!    reachability, the walk), `dispatch` (per-instruction changes), `run` (RUN and its mounts),
//!    `copy` (COPY/ADD), `cache` (cache injection and user lookups), `context_stages` (stages
//!    set up from named contexts), `ci_steps` (CI cache seeding and export steps).
//! 4. `rounds`: the one loop that answers the converter's questions, for every caller.

mod api;
mod args;
mod cache;
mod checks;
pub mod ci;
mod ci_steps;
mod context_stages;
mod contexts;
mod copy;
mod dispatch;
mod expose;
mod gofmt;
mod graph;
mod outline;
mod paths;
pub mod rounds;
mod run;
mod stages;
mod state;

use crate::error::{Error, Result};
use crate::llb;

pub use api::*;
pub use contexts::NamedContexts;
pub use outline::{Outline, OutlineArg, OutlineMount};

/// Convert a Dockerfile for every requested platform.
pub fn convert(text: &str, opts: &ConvertOpts, resolved: &Resolved) -> Result<Outcome> {
    if text.is_empty() {
        return Err(Error::new("the Dockerfile cannot be empty"));
    }
    let platforms = if opts.target_platforms.is_empty() {
        vec![opts.build_platform.clone()]
    } else {
        opts.target_platforms.clone()
    };
    let mut needed = Vec::new();
    // Every stage asks for its base and may warn: sets keep the dedup linear in the number of
    // stages (a list made it quadratic: 14,000 stages took minutes).
    let mut asked = std::collections::HashSet::new();
    let mut warned = std::collections::HashSet::new();
    let mut files: Vec<FileRequest> = Vec::new();
    let mut ready: Vec<llb::Definition> = Vec::new();
    let mut results = Vec::new();
    let mut warnings = Vec::new();
    for (idx, platform) in platforms.iter().enumerate() {
        let build = || {
            state::Build::new(
                text,
                opts,
                platform.clone(),
                opts.target_platforms.is_empty(),
            )
        };
        let run = |mut b: state::Build, hint| {
            b.follow_hint = hint;
            b.run(resolved)
                .map_err(|e| e.with_warnings(std::mem::take(&mut b.warnings)))
        };
        let mut outcome = run(build()?, None)?;
        if let state::BuildOutcome::Retry(hint) = outcome {
            outcome = run(build()?, Some(hint))?;
        }
        match outcome {
            state::BuildOutcome::Retry(_) => {
                return Err(Error::new(
                    "internal error: conversion asked twice for a second pass",
                ))
            }
            state::BuildOutcome::Need(reqs) => {
                for r in reqs {
                    if asked.insert(r.clone()) {
                        needed.push(r);
                    }
                }
            }
            state::BuildOutcome::NeedFiles(reqs, states) => {
                for r in reqs {
                    if !files.iter().any(|f| f.key == r.key && f.path == r.path) {
                        files.push(r);
                    }
                }
                for d in states {
                    if !ready.iter().any(|r| r.0.def.last() == d.0.def.last()) {
                        ready.push(d);
                    }
                }
            }
            state::BuildOutcome::Done(result, w) => {
                results.push(result);
                // As the stock frontend, only the first platform's conversion warns (the others
                // would repeat its warnings, or add ones about a platform it never reports).
                if idx > 0 {
                    continue;
                }
                for w in w {
                    if warned.insert(w.clone()) {
                        warnings.push(w);
                    }
                }
            }
        }
    }
    if !needed.is_empty() {
        Ok(Outcome::NeedImages(needed))
    } else if !files.is_empty() {
        Ok(Outcome::NeedFiles { files, ready })
    } else {
        Ok(Outcome::Done { results, warnings })
    }
}
