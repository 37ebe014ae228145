//! The CI cache steps of a build (see `ci.rs`): the primer op that seeds each cache before the
//! first step that mounts it, clearing, and the export ops that copy each cache into its own
//! layer.

use std::collections::BTreeSet;

use super::ci::*;
use super::graph::{cache_base, pb_platform, pb_sharing, ExecMount, ExecSpec};
use super::state::Build;
use crate::cache::recipe::Aging;
use crate::error::{Error, Result};
use crate::image::Platform;
use crate::instructions::Sharing;
use crate::llb::{self, Exec, MountOpts, OpMeta, Output};
use crate::proto::pb;

impl Build<'_> {
    fn ci_tool(&mut self) -> Option<Output> {
        if self.ci.tool.is_none() {
            let name = self.opts.ci.tool_image.clone()?;
            self.ci.tool = Some(self.graph.image(
                &name,
                &self.opts.build_platform,
                llb::ResolveMode::Default,
                OpMeta::named("[internal] hoard: cache tool"),
            ));
        }
        self.ci.tool.clone()
    }

    fn tool_exec(&mut self, args: Vec<String>) -> Option<Exec> {
        let tool = self.ci_tool()?;
        let mut e = Exec::new(Some(tool), args, pb_platform(&self.opts.build_platform));
        let caps = &self.opts.llb_caps;
        e.daemon_sets_default_path = if caps.is_empty() {
            None
        } else {
            Some(caps.contains(llb::caps::EXEC_META_SETS_DEFAULT_PATH))
        };
        e.network = pb::NetMode::None;
        Some(e)
    }

    /// Hook for every `RUN`, after its caches are planned and before its op is made: record
    /// its cache mounts, put the primers' markers in front of them, mark steps whose caches
    /// are cleared.
    pub(super) fn ci_step(&mut self, i: usize, spec: &mut ExecSpec) -> Result<()> {
        if !self.ci.args.active() {
            return Ok(());
        }
        let injected: Vec<(String, String)> = self
            .plans
            .last()
            .map(|p| {
                p.plan
                    .mounts
                    .iter()
                    .map(|m| (m.target.clone(), m.recipe.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let mut markers = Vec::new();
        let mut clear_step = false;
        for m in &spec.mounts {
            let ExecMount::Cache {
                target,
                id,
                sharing,
                base,
                selector,
                uid,
                gid,
                mode,
                ..
            } = m
            else {
                continue;
            };
            let tool = injected
                .iter()
                .find(|(t, _)| t == target)
                .map(|(_, r)| r.clone())
                .unwrap_or_default();
            let bare = id.split_once('/').map(|(_, rest)| rest).unwrap_or(id);
            let compile = if tool.is_empty() {
                COMPILE_DIRS.contains(&target.rsplit('/').next().unwrap_or(""))
            } else {
                COMPILE_CACHES.iter().any(|p| bare.starts_with(p))
            };
            let key = cache_key(id, *uid, *gid, *mode);
            let aging = aging_of(&tool, id, target);
            let cleared = self
                .ci
                .args
                .clear
                .iter()
                .any(|c| c == "all" || (!tool.is_empty() && *c == tool));
            clear_step |= cleared;
            match self
                .ci
                .uses
                .iter_mut()
                .find(|u| u.key == key && u.base == *base && u.selector == *selector)
            {
                Some(u) => {
                    u.stages.insert(i);
                }
                None => self.ci.uses.push(CacheUse {
                    key: key.clone(),
                    id: id.clone(),
                    tool: tool.clone(),
                    compile,
                    sharing: *sharing,
                    base: base.clone(),
                    selector: selector.clone(),
                    uid: *uid,
                    gid: *gid,
                    mode: *mode,
                    own_source: base.is_some(),
                    aging,
                    stages: BTreeSet::from([i]),
                }),
            }
            if base.is_some() || (self.opts.ci.seed.is_none() && self.ci.args.from.is_empty()) {
                continue;
            }
            let primer = match self.ci.primers.get(&key) {
                Some(p) => p.clone(),
                None => {
                    let seed = self
                        .opts
                        .ci
                        .seed
                        .as_ref()
                        .filter(|_| !cleared)
                        .and_then(|s| {
                            let warm = self.opts.ci.warm.as_ref().is_some_and(|w| w.contains(&key));
                            let entry = s.index.caches.iter().find(|c| c.key == key)?;
                            (!warm).then(|| (s.reference.clone(), entry.own_platform()))
                        });
                    let Some(p) = self.primer(
                        &key,
                        id,
                        *sharing,
                        base.clone(),
                        selector.clone(),
                        *uid,
                        *gid,
                        *mode,
                        seed,
                    )?
                    else {
                        continue;
                    };
                    self.ci.primers.insert(key.clone(), p.clone());
                    p
                }
            };
            markers.push(ExecMount::Bind {
                target: format!("{MARKER_DIR}/{key}"),
                input: Some(primer),
                selector: "/hoard-primed".into(),
                readonly: true,
            });
        }
        spec.mounts.extend(markers);
        if clear_step && self.ci.args.export == ExportMode::Off {
            // BuildKit empties every cache an ignore-cache step mounts before the solve, and
            // runs the step again. Metadata is not part of an op's digest: the export build
            // (which leaves this out) finds the same steps in the layer cache.
            spec.meta.ignore_cache = true;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn primer(
        &mut self,
        key: &str,
        id: &str,
        sharing: Sharing,
        base: Option<Output>,
        selector: String,
        uid: Option<u32>,
        gid: Option<u32>,
        mode: Option<u32>,
        seed: Option<(String, Option<Platform>)>,
    ) -> Result<Option<Output>> {
        let mut args: Vec<String> = [
            "/hoard",
            "cache-prime",
            "--cache",
            "/hoard-cache",
            "--marker",
            "/hoard-primed",
            "--label",
        ]
        .map(String::from)
        .to_vec();
        args.push(format!("cache {id}"));
        if seed.is_some() {
            // The cache's directory and, beside it, its last-use index (missing in a cache
            // image from before these indexes: every seeded file then counts as used now).
            args.extend([
                "--seed".to_string(),
                format!("/hoard-seed/{key}"),
                "--atimes".to_string(),
                format!("/hoard-seed/{key}.atimes"),
            ]);
        }
        let Some(mut e) = self.tool_exec(args) else {
            return Ok(None);
        };
        if seed.is_some() {
            // A seeding primer is only planned for a cache that is empty on this builder, and it
            // must then run: a layer-cache hit (`--cache-from` of a job that used the same seed)
            // would leave the cache empty. The steps do not see the nonce: they depend on the
            // primer only through its constant marker.
            e.env
                .push(format!("HOARD_PRIME_NONCE={}", self.opts.ci.nonce));
        }
        let (base, selector) = cache_base(base, selector, uid, gid, mode)?;
        e.cache(
            "/hoard-cache",
            id,
            pb_sharing(sharing),
            base,
            MountOpts {
                selector,
                ..Default::default()
            },
        );
        if let Some((seed, own)) = seed {
            // The cache's own image in the seed's index when there is one: the primer then
            // pulls this cache alone, and a step whose other caches are still being pulled can
            // already be found in the layer cache.
            let (platform, what) = match &own {
                Some(p) => (p, format!("{seed} ({key})")),
                None => (&self.opts.build_platform, seed.clone()),
            };
            let img = self.graph.image(
                &seed,
                platform,
                llb::ResolveMode::Default,
                OpMeta::named(format!("[internal] hoard: cache seed {what}")),
            );
            e.bind(
                "/hoard-seed",
                Some(img),
                MountOpts {
                    readonly: true,
                    ..Default::default()
                },
            );
        }
        let state = e.build(OpMeta::named(format!("[internal] hoard: prime cache {id}")))?;
        Ok(state.root())
    }

    /// At the end of a platform's conversion: the probe and the export parts.
    pub(super) fn ci_result(&mut self) -> Result<CiResult> {
        let mut out = CiResult {
            args: self.ci.args.clone(),
            ..Default::default()
        };
        if !self.ci.args.active() {
            return Ok(out);
        }
        let uses = self.ci.uses.clone();
        // Probe: which seedable caches already hold something on this builder.
        if self.opts.ci.seed.is_some() && self.opts.ci.warm.is_none() {
            let probed: Vec<&CacheUse> = uses.iter().filter(|u| !u.own_source).collect();
            if !probed.is_empty() {
                let mut args: Vec<String> = ["/hoard", "cache-probe", "--out", "/hoard-out/probe"]
                    .map(String::from)
                    .to_vec();
                args.extend((0..probed.len()).map(|n| format!("/hoard-c/{n}")));
                if let Some(mut e) = self.tool_exec(args) {
                    e.env
                        .push(format!("HOARD_PROBE_NONCE={}", self.opts.ci.nonce));
                    for (n, u) in probed.iter().enumerate() {
                        let (base, selector) =
                            cache_base(u.base.clone(), u.selector.clone(), u.uid, u.gid, u.mode)?;
                        e.cache(
                            format!("/hoard-c/{n}"),
                            &u.id,
                            pb_sharing(u.sharing),
                            base,
                            MountOpts {
                                selector,
                                readonly: true,
                                ..Default::default()
                            },
                        );
                    }
                    e.bind("/hoard-out", None, MountOpts::default());
                    let state = e.build(OpMeta::named(
                        "[internal] hoard: which caches are warm on this builder",
                    ))?;
                    let def = self.marshal(state.mount("/hoard-out").as_ref()).into_pb();
                    out.probe = Some((def, probed.iter().map(|u| u.key.clone()).collect()));
                }
            }
        }
        if self.ci.args.export == ExportMode::Off {
            return Ok(out);
        }
        if self.ci_tool().is_none() {
            return Err(Error::new(
                "HOARD_CACHE_EXPORT needs the frontend's own image (the `source` option BuildKit passes with # syntax= or BUILDKIT_SYNTAX); it was not given",
            ));
        }
        let mut seen = BTreeSet::new();
        let all = uses.clone();
        for u in uses {
            if (self.ci.args.export == ExportMode::Downloads && u.compile)
                || !seen.insert(u.key.clone())
            {
                continue;
            }
            let mut args: Vec<String> = ["/hoard", "cache-export", "--cache", "/hoard-cache"]
                .map(String::from)
                .to_vec();
            args.extend([
                "--dst".into(),
                format!("/hoard-out/{}", u.key),
                "--report".into(),
                format!("/hoard-report/{}.json", u.key),
                "--id".into(),
                u.id.clone(),
                "--limit".into(),
                self.ci.args.limit.to_string(),
                "--max-age".into(),
                self.ci.args.max_age.to_string(),
                "--aging".into(),
                u.aging.spec(),
                "--atimes".into(),
                format!("/hoard-out/{}.atimes", u.key),
            ]);
            // `.crate` files are in use while their extracted sources (another cache) are.
            let companion = match u.aging {
                Aging::Extracted(kind) => sibling_id(&u.tool, &u.id, kind)
                    .and_then(|sid| all.iter().find(|w| w.id == sid).cloned()),
                _ => None,
            };
            if companion.is_some() {
                args.extend(["--companion".into(), "/hoard-companion".into()]);
            }
            let Some(mut e) = self.tool_exec(args) else {
                continue;
            };
            e.env
                .push(format!("HOARD_EXPORT_NONCE={}", self.opts.ci.nonce));
            mount_to_read(&mut e, "/hoard-cache", &u)?;
            if let Some(w) = &companion {
                mount_to_read(&mut e, "/hoard-companion", w)?;
            }
            // Run after the steps that fill it (layer-cache hits right after the real build).
            let stages: BTreeSet<usize> = u
                .stages
                .iter()
                .chain(companion.iter().flat_map(|w| w.stages.iter()))
                .copied()
                .collect();
            for (n, s) in stages.iter().enumerate() {
                let after = self.stages[*s].st.as_ref().and_then(|st| st.output.clone());
                if after.is_some() {
                    e.bind(
                        format!("/hoard-after/{n}"),
                        after,
                        MountOpts {
                            readonly: true,
                            content_cache: pb::MountContentCache::Off,
                            ..Default::default()
                        },
                    );
                }
            }
            e.bind("/hoard-out", None, MountOpts::default());
            e.bind("/hoard-report", None, MountOpts::default());
            let state = e.build(OpMeta::named(format!(
                "[internal] hoard: export cache {}",
                u.id
            )))?;
            let layer = self.marshal(state.mount("/hoard-out").as_ref()).into_pb();
            let report = self
                .marshal(state.mount("/hoard-report").as_ref())
                .into_pb();
            out.export.push(ExportPart {
                entry: SeedEntry {
                    id: u.id.clone(),
                    key: u.key.clone(),
                    tool: u.tool.clone(),
                    size: 0,
                    uid: 0,
                    gid: 0,
                    mode: 0,
                    platform: seed_platform(&u.key).id(),
                },
                layer,
                report,
            });
        }
        Ok(out)
    }
}

/// Mount the cache `u` read-only at `target` for an export op. A private cache is read from an
/// existing instance (waiting for one), never from a fresh empty one; a locked one is held only
/// for this copy.
fn mount_to_read(e: &mut Exec, target: &str, u: &CacheUse) -> Result<()> {
    let sharing = if u.sharing == Sharing::Private {
        Sharing::Locked
    } else {
        u.sharing
    };
    let (base, selector) = cache_base(u.base.clone(), u.selector.clone(), u.uid, u.gid, u.mode)?;
    e.cache(
        target,
        &u.id,
        pb_sharing(sharing),
        base,
        MountOpts {
            selector,
            readonly: true,
            ..Default::default()
        },
    );
    Ok(())
}
