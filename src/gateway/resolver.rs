//! The converter's questions answered through the gateway ([`crate::convert::rounds::Resolver`]).
//!
//! * Base images are resolved concurrently (the stock frontend does the same), each error
//!   located at the instruction that named the image.
//! * Files are read from the states the converter names, all at once; reading builds a state.
//!   Meanwhile the converter's `ready` states, which hold no step waiting for a lookup, are
//!   solved in the background (`evaluate`), each once: the stages that do not wait on the
//!   lookup build in parallel with it, as with the stock frontend. Only final-graph states
//!   are ever solved, so no step runs twice (BuildKit shares the vertices of one build).
//! * [`GatewayResolver::solve_results`] solves the final definitions. A background solve may
//!   still be running then; the frontend must not exit before it ends (its RPC would be
//!   cancelled with the vertex half run), so the final definitions are then evaluated too,
//!   concurrently, and every background solve is awaited before `Return`.
//! * A question whether the build context holds a path ([`FileRequest::exists`]) solves a
//!   local source of that path alone and stats it.
//! * [`Files::Unknown`] answers every file as unknown without building anything, for
//!   requests that must not run build steps (`--call outline`, `--call check`).
//! * [`Files::ReadOnly`] reads the files as [`Files::Read`] does but builds no `ready` state
//!   meanwhile, for requests that only report the plan (`--call explain`, `--call eject`).

use std::collections::HashSet;

use tokio::task::JoinHandle;

use crate::convert::rounds::{self, Converted, Resolver};
use crate::convert::{FileRequest, ImageRequest, ResolvedImage};
use crate::error::Error;
use crate::llb;

use super::client::Gateway;
use super::convert_api::{convert_opts, ConvertRequest};
use super::errors::GatewayError;
use super::opts::{BuildOpts, CacheImport};
use super::trace::trace;
use crate::llb::ResolveMode;

/// Whether files of intermediate states are read (building those states) or left unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Files {
    Read,
    /// Read the files (building the states they are in), nothing else.
    ReadOnly,
    Unknown,
}

pub struct GatewayResolver {
    gw: Gateway,
    mode: ResolveMode,
    cache_imports: Vec<CacheImport>,
    files: Files,
    /// Terminal ops of the states solved in the background so far.
    warmed: HashSet<Vec<u8>>,
    warming: Vec<JoinHandle<Result<String, GatewayError>>>,
}

impl GatewayResolver {
    pub fn new(gw: &Gateway, opts: &BuildOpts, files: Files) -> GatewayResolver {
        GatewayResolver {
            gw: gw.clone(),
            mode: opts.image_resolve_mode,
            cache_imports: opts.cache_imports.clone(),
            files,
            warmed: HashSet::new(),
            warming: Vec::new(),
        }
    }

    /// Solve the final definitions (one per platform), concurrently; lazily unless a
    /// background solve is still running (see the module doc). Returns their ref ids in order.
    pub async fn solve_results(
        mut self,
        definitions: Vec<llb::Definition>,
    ) -> Result<Vec<String>, GatewayError> {
        let evaluate = self.warming.iter().any(|h| !h.is_finished());
        let mut tasks = Vec::with_capacity(definitions.len());
        for d in definitions {
            let gw = self.gw.clone();
            let imports = self.cache_imports.clone();
            tasks.push(tokio::spawn(async move {
                gw.solve(d.into_pb(), &imports, evaluate).await
            }));
        }
        let refs = join_all(tasks).await;
        // A failed background solve is the build's failure even when the final solve's error
        // came first: both name the same step.
        let warmed = join_all(std::mem::take(&mut self.warming)).await;
        let refs = refs?;
        warmed?;
        Ok(refs)
    }

    /// The error of a background solve that has already ended, if any.
    async fn failed_warmup(&mut self) -> Result<(), GatewayError> {
        let (done, running) = std::mem::take(&mut self.warming)
            .into_iter()
            .partition(|h| h.is_finished());
        self.warming = running;
        join_all(done).await.map(drop)
    }
}

/// Await every task; the first error (after all have ended) wins.
async fn join_all<T>(
    tasks: Vec<JoinHandle<Result<T, GatewayError>>>,
) -> Result<Vec<T>, GatewayError> {
    let mut out = Vec::with_capacity(tasks.len());
    let mut first_err = None;
    for t in tasks {
        match flatten(t.await) {
            Ok(v) => out.push(v),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

fn flatten<T>(
    r: Result<Result<T, GatewayError>, tokio::task::JoinError>,
) -> Result<T, GatewayError> {
    r.map_err(|e| GatewayError::Frontend(Error::new(format!("internal error: {e}"))))?
}

impl Resolver for GatewayResolver {
    type Error = GatewayError;

    fn reads_files(&self) -> bool {
        self.files != Files::Unknown
    }

    async fn images(&mut self, needs: &[ImageRequest]) -> Result<Vec<ResolvedImage>, GatewayError> {
        trace(|| format!("resolving {} image(s)", needs.len()));
        let mut tasks = Vec::with_capacity(needs.len());
        for need in needs {
            let gw = self.gw.clone();
            let need = need.clone();
            let mode = self.mode;
            tasks.push(tokio::spawn(async move {
                let r = gw
                    .resolve_image_config(
                        &need.reference,
                        Some(&need.platform),
                        mode,
                        &need.log_name,
                        need.oci_store.as_ref(),
                    )
                    .await
                    .map_err(|e| match e {
                        GatewayError::Rpc {
                            context, status, ..
                        } => GatewayError::Rpc {
                            context,
                            status,
                            span: Some(need.span),
                        },
                        GatewayError::Frontend(err) => GatewayError::Frontend(err.or_at(need.span)),
                        other => other,
                    })?;
                Ok(ResolvedImage {
                    reference: r.reference,
                    digest: r.digest,
                    config: r.config,
                })
            }));
        }
        let r = join_all(tasks).await;
        trace(|| format!("{} image(s) resolved", needs.len()));
        r
    }

    async fn files(
        &mut self,
        needs: &[FileRequest],
        ready: Vec<llb::Definition>,
    ) -> Result<Vec<Option<Vec<u8>>>, GatewayError> {
        if self.files == Files::Unknown {
            return Ok(vec![None; needs.len()]);
        }
        self.failed_warmup().await?;
        let ready = if self.files == Files::ReadOnly {
            Vec::new()
        } else {
            ready
        };
        for d in ready {
            let Some(key) = d.0.def.last().cloned() else {
                continue;
            };
            if !self.warmed.insert(key) {
                continue;
            }
            let gw = self.gw.clone();
            let imports = self.cache_imports.clone();
            self.warming.push(tokio::spawn(async move {
                gw.solve(d.into_pb(), &imports, true).await
            }));
        }
        let mut tasks = Vec::with_capacity(needs.len());
        for need in needs {
            let gw = self.gw.clone();
            let imports = self.cache_imports.clone();
            let need = need.clone();
            tasks.push(tokio::spawn(async move {
                if need.definition.0.def.is_empty() {
                    return Ok(None);
                }
                if need.exists {
                    // A question about the build context: unanswered (`None`) counts as yes.
                    let Ok(ref_id) = gw.solve(need.definition.into_pb(), &[], false).await else {
                        return Ok(None);
                    };
                    let found = matches!(gw.stat_file(&ref_id, &need.path).await, Ok(Some(_)));
                    return Ok(Some(if found { b"yes".to_vec() } else { Vec::new() }));
                }
                let ref_id = gw.solve(need.definition.into_pb(), &imports, false).await?;
                // A missing file is an answer too.
                Ok(gw.read_file(&ref_id, &need.path, None).await.ok())
            }));
        }
        join_all(tasks).await
    }
}

/// Run the converter to completion through the gateway (see [`rounds`]).
pub async fn convert_all(
    resolver: &mut GatewayResolver,
    text: &str,
    req: &ConvertRequest,
) -> Result<Converted, GatewayError> {
    rounds::drive(text, &convert_opts(req), resolver).await
}
