//! Stages set up from named contexts (parsed in `contexts.rs`): the context a base name refers
//! to, what it needs before dispatch (an image config, a local context's `.dockerignore`), the
//! stage's starting state, and which paths of a named local context the build reads.

use std::collections::{BTreeMap, BTreeSet};

use super::api::{FileRequest, ImageRequest, OciStore, Resolved};
use super::contexts::{
    dockerignore_key, input_image_config, ContextSource, NamedContext, DOCKERIGNORE,
};
use super::state::{Build, St};
use crate::error::{Error, Result};
use crate::image::{normalize_reference, ImageConfig};
use crate::llb::{self, OpMeta};

impl Build<'_> {
    /// Record that `p` of stage `i` is read (`/`: anything). Stages share the record with the
    /// stage their base chain starts at, as the stock frontend's `paths` maps are shared.
    pub(super) fn mark_read(&mut self, i: usize, p: &str) {
        let mut root = i;
        while let Some(b) = self.stages[root].base_stage {
            root = b;
        }
        let p = super::paths::normalize_path("/", p, false);
        self.read_paths.entry(root).or_default().insert(p);
    }

    /// The follow paths of every stage whose reads are known and partial: relative, sorted
    /// (`normalizeContextPaths`); a stage read at `/` sends everything.
    pub(super) fn follow_hint_from_reads(&self) -> BTreeMap<usize, Vec<String>> {
        self.read_paths
            .iter()
            .filter(|(_, paths)| !paths.contains("/"))
            .map(|(i, paths)| {
                let mut v: Vec<String> = paths
                    .iter()
                    .map(|p| p.trim_start_matches('/').to_string())
                    .collect();
                v.sort();
                (*i, v)
            })
            .collect()
    }

    /// Look up the named context a stage's base name refers to (once; reachable stages only,
    /// as the stock frontend looks them up while resolving base images).
    pub(super) fn find_base_context(&mut self, i: usize) -> Result<()> {
        let s = &self.stages[i];
        if s.context_checked
            || s.base_stage.is_some()
            || s.base_name == "scratch"
            || self.opts.named_contexts.is_empty()
        {
            return Ok(());
        }
        let span = s.span;
        let reference = normalize_reference(&s.base_name)
            .map_err(|e| Error::at(span, e.message))?
            .full();
        let platform = self.stage_platform(i);
        let found = self
            .opts
            .named_contexts
            .lookup(&reference, &platform)
            .map_err(|e| Error::at(span, e.message))?;
        self.stages[i].context_checked = true;
        self.stages[i].base_context = found;
        Ok(())
    }

    /// What a stage's named context needs before dispatch: an image config (`docker-image://`,
    /// `oci-layout://`) or a local context's `.dockerignore`. Returns whether ONBUILD triggers
    /// of a resolved image added dependencies.
    pub(super) fn context_needs(
        &mut self,
        i: usize,
        resolved: &Resolved,
        need: &mut Vec<ImageRequest>,
        files: &mut Vec<FileRequest>,
    ) -> Result<bool> {
        let s = &self.stages[i];
        let Some(nc) = s.replaced.clone().or_else(|| s.base_context.clone()) else {
            return Ok(false);
        };
        let span = s.span;
        let platform = self.stage_platform(i);
        let (reference, log_name, oci_store) = match &nc.source {
            ContextSource::Image { reference, written } => (
                reference.clone(),
                format!("[context {}] load metadata for {written}", nc.key),
                None,
            ),
            ContextSource::OciLayout {
                reference,
                store,
                session_id,
            } => (
                reference.clone(),
                format!("[context {}] load metadata for {reference}", nc.key),
                Some(OciStore {
                    session_id: session_id.clone(),
                    store_id: store.clone(),
                }),
            ),
            ContextSource::Local {
                name, session_id, ..
            } => {
                let key = dockerignore_key(&nc.key);
                if !resolved
                    .files
                    .contains_key(&(key.clone(), DOCKERIGNORE.to_string()))
                    && !files.iter().any(|f| f.key == key)
                {
                    let opts = llb::LocalOpts {
                        session_id: Some(session_id.clone()).filter(|s| !s.is_empty()),
                        unique_id: format!("hoard-context-{}", nc.key),
                        follow_paths: vec![DOCKERIGNORE.to_string()],
                        shared_key_hint: Some(format!("context:{}-{DOCKERIGNORE}", nc.key)),
                        differ: Some(llb::Differ {
                            kind: "none".into(),
                            required: false,
                        }),
                        ..Default::default()
                    };
                    let out = llb::local(
                        name,
                        &opts,
                        OpMeta::named(format!("[context {}] load {DOCKERIGNORE}", nc.key)),
                    );
                    files.push(FileRequest {
                        key,
                        definition: llb::marshal(Some(&out), &[]),
                        path: DOCKERIGNORE.to_string(),
                        exists: false,
                    });
                }
                return Ok(false);
            }
            ContextSource::Scratch
            | ContextSource::Git { .. }
            | ContextSource::Http { .. }
            | ContextSource::Input { .. } => return Ok(false),
        };
        match resolved.images.get(&(reference.clone(), platform.id())) {
            None => {
                if !need
                    .iter()
                    .any(|r| r.reference == reference && r.platform == platform)
                {
                    need.push(ImageRequest {
                        reference,
                        platform,
                        log_name,
                        span,
                        oci_store,
                    });
                }
                Ok(false)
            }
            Some(img) if !self.stages[i].onbuild_done => {
                self.stages[i].onbuild_done = true;
                // A replaced stage is never dispatched, and a `--from` image runs no triggers.
                if self.stages[i].replaced.is_some() || self.stages[i].unregistered {
                    return Ok(false);
                }
                let config = ImageConfig::from_json(&img.config)
                    .map_err(|e| Error::at(span, format!("failed to parse image config: {e}")))?;
                self.add_onbuild(i, &config.config.on_build)
            }
            Some(_) => Ok(false),
        }
    }

    /// Set up a stage whose base (or, for a replaced stage, whole content) is a named context.
    pub(super) fn init_context_stage(
        &mut self,
        i: usize,
        nc: &NamedContext,
        resolved: &Resolved,
    ) -> Result<()> {
        let span = self.stages[i].span;
        let replaced = self.stages[i].replaced.is_some();
        let mut platform = self.stage_platform(i);
        let key = &nc.key;
        let resolved_image = |reference: &str| -> Result<(String, ImageConfig)> {
            let img = resolved
                .images
                .get(&(reference.to_string(), platform.id()))
                .ok_or_else(|| {
                    Error::at(
                        span,
                        format!("image {reference} of named context {key} was not resolved"),
                    )
                })?;
            let mut image = ImageConfig::from_json(&img.config)
                .map_err(|e| Error::at(span, format!("failed to parse image config: {e}")))?;
            image.created = None;
            let name = normalize_reference(&img.reference)
                .map(|r| r.full())
                .unwrap_or_else(|_| reference.to_string());
            Ok((name, image))
        };
        let (output, image, base_ref) = match &nc.source {
            ContextSource::Scratch => (None, None, "scratch".to_string()),
            ContextSource::Image { reference, written } => {
                let (name, image) = resolved_image(reference)?;
                // Unlike FROM, the stock frontend neither pins the digest nor sets a resolve mode.
                let out = self.graph.image(
                    &name,
                    &platform,
                    llb::ResolveMode::Default,
                    OpMeta::named(format!("[context {key}] {written}")),
                );
                (Some(out), Some(image), reference.clone())
            }
            ContextSource::OciLayout {
                reference,
                store,
                session_id,
            } => {
                let (_, image) = resolved_image(reference)?;
                let mut attrs = BTreeMap::new();
                attrs.insert("oci.session".to_string(), session_id.clone());
                attrs.insert("oci.store".to_string(), store.clone());
                let out = llb::source(
                    &format!("oci-layout://{reference}"),
                    attrs,
                    BTreeSet::from([llb::caps::SOURCE_OCI_LAYOUT]),
                    Some(&super::graph::pb_platform(&platform)),
                    OpMeta::named(format!("[context {key}] OCI load from client")),
                );
                (Some(out), Some(image), reference.clone())
            }
            ContextSource::Git { url } => {
                let out = self.graph.git(
                    url,
                    false,
                    None,
                    OpMeta::named(format!("[internal] load git source {url}")),
                )?;
                (Some(out), None, "scratch".to_string())
            }
            ContextSource::Http { url } => {
                let out = self.graph.http(
                    url,
                    "context",
                    None,
                    OpMeta::named(format!("[context {key}] {url}")),
                );
                (Some(out), None, "scratch".to_string())
            }
            ContextSource::Local {
                name,
                session_id,
                shared_key,
            } => {
                let ignore = resolved
                    .files
                    .get(&(dockerignore_key(key), DOCKERIGNORE.to_string()));
                let excludes = match ignore {
                    Some(Some(data)) => crate::dockerignore::parse(data),
                    _ => Vec::new(),
                };
                self.local_contexts = true;
                let follow_paths = self
                    .follow_hint
                    .as_ref()
                    .and_then(|h| h.get(&i))
                    .cloned()
                    .unwrap_or_default();
                let opts = llb::LocalOpts {
                    session_id: Some(session_id.clone()).filter(|s| !s.is_empty()),
                    unique_id: format!("hoard-context-{key}"),
                    exclude_patterns: excludes,
                    follow_paths,
                    shared_key_hint: Some(format!("context:{key}-{shared_key}")),
                    ..Default::default()
                };
                let out = llb::local(
                    name,
                    &opts,
                    OpMeta::named(format!("[context {key}] load from client")),
                );
                (Some(out), None, "scratch".to_string())
            }
            ContextSource::Input { name } => {
                let named = &self.opts.named_contexts;
                let def = named
                    .inputs
                    .get(name)
                    .ok_or_else(|| Error::at(span, format!("invalid input {name} for {key}")))?;
                let out = llb::from_pb(def)
                    .map_err(|e| Error::at(span, format!("input {name} for {key}: {e}")))?;
                let image = match named.input_metadata.get(name) {
                    Some(md) => input_image_config(md)
                        .map_err(|e| Error::at(span, format!("input {name} for {key}: {e}")))?,
                    None => None,
                };
                (out, image, "scratch".to_string())
            }
        };
        let mut image = match image {
            Some(image) => {
                // A replaced stage has the image's own platform.
                if replaced && !image.os.is_empty() && !image.architecture.is_empty() {
                    platform = image.platform();
                }
                image
            }
            None => ImageConfig::empty(&platform),
        };
        // Replaced stages never run the base's triggers; a FROM stage has them as commands.
        if !self.stages[i].unregistered {
            image.config.on_build.clear();
        }
        let mut st = St::new(output, platform, image, base_ref);
        if self.stages[i].unregistered || replaced {
            // As the stock frontend's state after loading the context: the config's
            // environment, working directory and user, but no PATH added (nothing is dispatched).
            for kv in &st.image.config.env {
                let (k, v) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
                st.env.set(k, v);
            }
            let wd = st.image.config.working_dir.clone();
            if !wd.is_empty() {
                st.dir = super::paths::normalize_workdir("/", &wd).map_err(|e| e.or_at(span))?;
            }
            st.user = st.image.config.user.clone();
            self.stages[i].st = Some(st);
            return Ok(());
        }
        self.finish_init(i, st, false)
    }
}
