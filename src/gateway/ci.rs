//! The gateway side of CI caches (see `convert::ci`): resolve the frontend's own image (the
//! copy tool) and the first readable seed of `HOARD_CACHE_FROM`, once, to digests; probe which
//! caches are already warm on this builder; and for `HOARD_CACHE_EXPORT`, solve each cache's
//! export, read its report, and return an image with one layer per cache and its index label.

use std::collections::BTreeSet;

use crate::convert::ci::{
    seed_platform, CiArgs, CiInputs, ExportMode, Seed, SeedIndex, INDEX_LABEL,
};
use crate::error::{Error, Warning};
use crate::image::ImageConfig;
use crate::llb::{self, OpMeta};
use crate::proto::moby::buildkit::v1::frontend as gw;

use super::client::Gateway;
use super::errors::GatewayError;
use super::opts::BuildOpts;
use super::result::{build_result, PlatformOutput};
use crate::llb::ResolveMode;

fn warning(message: String) -> Warning {
    Warning {
        rule: crate::lint::rules::HOARD_CACHE.name.into(),
        message,
        span: None,
    }
}

fn nonce() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}-{}", t.as_nanos(), std::process::id())
}

/// Resolve what the converter needs for the CI cache build arguments; warnings say what was
/// not usable (a missing or foreign seed never fails the build).
pub async fn prepare(
    gw: &Gateway,
    opts: &BuildOpts,
) -> Result<(CiInputs, Vec<Warning>), GatewayError> {
    let args = CiArgs::parse(&opts.build_args)?;
    let mut warnings = Vec::new();
    if !args.active() {
        return Ok((CiInputs::default(), warnings));
    }
    let platform = &opts.default_platform;
    let mut inputs = CiInputs {
        nonce: nonce(),
        ..Default::default()
    };
    match opts.source.as_deref().filter(|s| !s.is_empty()) {
        Some(source) => {
            // The name as BuildKit's own resolver wants it (`hoard:dev` is
            // `docker.io/library/hoard:dev`; the classic image store's resolver cannot parse
            // the short form).
            let source = crate::image::normalize_reference(source)
                .map_err(GatewayError::Frontend)?
                .full();
            let r = gw.resolve_image_config(&source, Some(platform), ResolveMode::Default, "[internal] hoard: resolve cache tool", None).await?;
            let name = crate::image::normalize_reference(&r.reference).map_err(GatewayError::Frontend)?;
            inputs.tool_image = Some(match r.digest.filter(|d| !d.is_empty()) {
                Some(d) => name.with_digest(&d).full(),
                None => name.full(),
            });
        }
        None if args.export != ExportMode::Off => {
            return Err(GatewayError::Frontend(Error::new(
                "HOARD_CACHE_EXPORT needs hoard to be started through `# syntax=<hoard image>` or BUILDKIT_SYNTAX (the image is its copy tool)",
            )))
        }
        None => {
            warnings.push(warning("HOARD_CACHE_FROM: hoard was not started from an image (# syntax= or BUILDKIT_SYNTAX); caches are not seeded".into()));
            return Ok((inputs, warnings));
        }
    }
    if args.export != ExportMode::Off {
        // The export copies the caches as the build left them and reads no seed: resolving
        // HOARD_CACHE_FROM again could find a newer image than the one the build used (and its
        // primers would fill a cache the build left empty from it). Its primers take no seed,
        // as on a warm builder; the steps still hit the layer cache through the constant marker.
        if !args.from.is_empty() {
            eprintln!("hoard: export: HOARD_CACHE_FROM is not read again; the caches are exported as the build left them");
        }
        return Ok((inputs, warnings));
    }
    for reference in &args.from {
        let log = format!("[internal] hoard: resolve cache seed {reference}");
        let normalized = match crate::image::normalize_reference(reference) {
            Ok(n) => n,
            Err(e) => {
                warnings.push(warning(format!(
                    "HOARD_CACHE_FROM: {reference}: {}",
                    e.message
                )));
                continue;
            }
        };
        match gw
            .resolve_image_config(
                &normalized.full(),
                Some(platform),
                ResolveMode::Pull,
                &log,
                None,
            )
            .await
        {
            Ok(r) => match SeedIndex::from_image_config(&r.config) {
                Ok(index) => {
                    let pinned = match r.digest.filter(|d| !d.is_empty()) {
                        Some(d) => normalized.with_digest(&d).full(),
                        None => normalized.full(),
                    };
                    eprintln!(
                        "hoard: seeding caches from {pinned} ({} caches)",
                        index.caches.len()
                    );
                    inputs.seed = Some(Seed {
                        reference: pinned,
                        index,
                    });
                    break;
                }
                Err(why) => warnings.push(warning(format!(
                    "HOARD_CACHE_FROM: {reference}: {why}; not used"
                ))),
            },
            Err(e) => warnings.push(warning(format!(
                "HOARD_CACHE_FROM: {reference} cannot be read ({}); not used",
                short(&e)
            ))),
        }
    }
    if !args.from.is_empty() && inputs.seed.is_none() {
        warnings.push(warning(format!(
            "HOARD_CACHE_FROM: none of {} could be used; caches start empty (cold build)",
            args.from.join(", ")
        )));
    }
    Ok((inputs, warnings))
}

fn short(e: &GatewayError) -> String {
    let s = e.to_string();
    let s = s.trim_start_matches([':', ' ']);
    let s = s.strip_prefix("Unknown: ").unwrap_or(s);
    s.lines().next().unwrap_or("").chars().take(200).collect()
}

/// Run the probes of the builds; `Some(warm keys)` when there was anything to probe.
pub async fn probe(
    gw: &Gateway,
    opts: &BuildOpts,
    builds: &[crate::convert::PlatformResult],
) -> Result<Option<BTreeSet<String>>, GatewayError> {
    let mut warm = BTreeSet::new();
    let mut probed = false;
    for b in builds {
        let Some((def, keys)) = &b.ci.probe else {
            continue;
        };
        probed = true;
        let r = gw.solve(def.clone(), &opts.cache_imports, false).await?;
        let data = gw.read_file(&r, "probe", None).await?;
        let text = String::from_utf8_lossy(&data);
        for (key, state) in keys.iter().zip(text.lines()) {
            if state == "full" {
                warm.insert(key.clone());
            }
        }
    }
    Ok(probed.then_some(warm))
}

/// Whether this build's result is the cache image.
pub fn exporting(builds: &[crate::convert::PlatformResult]) -> bool {
    builds.iter().any(|b| b.ci.args.export != ExportMode::Off)
}

/// Whether the cache image can carry one image per cache beside the whole (an index of several
/// pseudo-platforms). Every BuildKit exporter can, except the Docker Engine's own with its classic
/// image store (not the containerd one), which exports one image per build only; its worker is the
/// only one that reports no labels (BuildKit's and the containerd store's name their snapshotter).
pub fn per_cache_images(opts: &BuildOpts) -> bool {
    opts.workers.first().is_some_and(|w| {
        w.labels
            .contains_key("org.mobyproject.buildkit.worker.snapshotter")
    })
}

/// Solve every cache's export (once per cache over all platforms), read the reports, and
/// return the cache image: one layer per exported cache, `INDEX_LABEL` listing them.
pub async fn export_result(
    gw: &Gateway,
    opts: &BuildOpts,
    builds: &[crate::convert::PlatformResult],
) -> Result<(gw::Result, Vec<Warning>), GatewayError> {
    let mut seen = BTreeSet::new();
    let mut layers = Vec::new();
    let mut index = SeedIndex {
        version: 1,
        caches: Vec::new(),
    };
    let mut total = 0u64;
    let per_cache = per_cache_images(opts);
    // Caches the build left empty (cargo's git caches without git dependencies) are left out;
    // when every cache is empty, the export is not running where the build ran.
    let mut empty = Vec::new();
    for b in builds {
        for part in &b.ci.export {
            if !seen.insert(part.entry.key.clone()) {
                continue;
            }
            let r = gw
                .solve(part.report.clone(), &opts.cache_imports, false)
                .await?;
            let data = gw
                .read_file(&r, &format!("{}.json", part.entry.key), None)
                .await?;
            let rep: serde_json::Value = serde_json::from_slice(&data).map_err(|e| {
                GatewayError::Frontend(Error::new(format!(
                    "internal error: export report of {}: {e}",
                    part.entry.id
                )))
            })?;
            let size = rep["size"].as_u64().unwrap_or(0);
            if rep["empty"].as_bool() == Some(true) {
                empty.push(part.entry.id.clone());
                continue;
            }
            if rep["skipped"].as_bool() == Some(true) {
                eprintln!(
                    "hoard: cache {} ({size} bytes) is over the export limit; left out",
                    part.entry.id
                );
                continue;
            }
            let mut entry = part.entry.clone();
            if !per_cache {
                entry.platform.clear();
            }
            entry.size = size;
            entry.uid = rep["uid"].as_u64().unwrap_or(0) as u32;
            entry.gid = rep["gid"].as_u64().unwrap_or(0) as u32;
            entry.mode = rep["mode"].as_u64().unwrap_or(0o755) as u32;
            total += size;
            index.caches.push(entry);
            let layer = llb::definition::from_pb(&part.layer).map_err(|e| {
                GatewayError::Frontend(Error::new(format!("internal error: export layer: {e}")))
            })?;
            layers.push(layer);
        }
    }
    let own_images = (per_cache && !index.caches.is_empty() && !layers.is_empty())
        .then(|| (index.caches.clone(), layers.clone()));
    if !empty.is_empty() && index.caches.is_empty() {
        return Err(GatewayError::Frontend(Error::new(format!(
            "cache {} is empty on this builder (as is every other cache of this build): the export \
             must run on the builder (node) that ran the build, right after it, with the same build \
             arguments",
            empty[0]
        ))));
    }
    let warnings: Vec<Warning> = empty
        .iter()
        .map(|id| {
            warning(format!(
                "HOARD_CACHE_EXPORT: cache {id} is empty after the build; left out of the cache image"
            ))
        })
        .collect();
    let summary: Vec<String> = index
        .caches
        .iter()
        .map(|c| format!("{} {}", c.id, c.size))
        .collect();
    eprintln!(
        "hoard: cache image: {} caches, {total} bytes: {}",
        index.caches.len(),
        summary.join(", ")
    );
    let root = if gw.caps().llb.ids().contains(llb::caps::MERGE_OP) {
        llb::merge(&layers, OpMeta::named("[internal] hoard: cache image"))
    } else {
        // Without MergeOp, one layer holding every cache.
        let mut acc = None;
        for l in layers.into_iter().flatten() {
            let mut f = llb::FileOp::new(acc);
            f.copy(
                Some(l),
                "/",
                "/",
                llb::CopyOpts {
                    dir_copy_contents: true,
                    create_dest_path: true,
                    ..Default::default()
                },
            );
            acc = Some(f.build(OpMeta::named("[internal] hoard: cache image"))?);
        }
        acc
    };
    let def = llb::marshal(root.as_ref(), &[]).into_pb();
    let ref_id = gw.solve(def, &[], false).await?;
    let platform = opts.default_platform.clone();
    let mut config = ImageConfig::empty(&platform);
    config.config.labels.insert(
        INDEX_LABEL.into(),
        serde_json::to_string(&index).expect("index json"),
    );
    // The image for the build's platform holds every cache (one layer each) and the index
    // label; beside it, the index lists one image per cache under its pseudo-platform
    // (`hoard/c<hash>`), made of that cache's layer alone (the same blob: pushed once). A
    // primer pulls only its own cache's image.
    let mut outputs = vec![PlatformOutput {
        platform,
        ref_id,
        config: config.to_json(),
        base_config: None,
    }];
    for (entry, layer) in own_images
        .into_iter()
        .flat_map(|(e, l)| e.into_iter().zip(l))
    {
        let def = llb::marshal(layer.as_ref(), &[]).into_pb();
        let ref_id = gw.solve(def, &[], false).await?;
        let platform = seed_platform(&entry.key);
        let mut config = ImageConfig::empty(&platform);
        config
            .config
            .labels
            .insert(format!("{INDEX_LABEL}.id"), entry.id.clone());
        outputs.push(PlatformOutput {
            platform,
            ref_id,
            config: config.to_json(),
            base_config: None,
        });
    }
    Ok((
        build_result(
            &outputs,
            false,
            gw.caps().gateway.supports(super::caps::gw::PROTO_REF_ARRAY),
        ),
        warnings,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::opts::WorkerInfo;

    /// Labels as the engines here report them: the Docker Engine with the containerd image store
    /// and standalone BuildKit name their snapshotter; the classic image store reports none.
    #[test]
    fn per_cache_images_except_on_the_classic_image_store() {
        let with = |labels: &[(&str, &str)]| BuildOpts {
            workers: vec![WorkerInfo {
                labels: labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let containerd_store = with(&[
            (
                "org.mobyproject.buildkit.worker.containerd.namespace",
                "moby",
            ),
            ("org.mobyproject.buildkit.worker.snapshotter", "overlayfs"),
        ]);
        let buildkitd = with(&[
            ("org.mobyproject.buildkit.worker.executor", "oci"),
            ("org.mobyproject.buildkit.worker.snapshotter", "overlayfs"),
        ]);
        assert!(per_cache_images(&containerd_store));
        assert!(per_cache_images(&buildkitd));
        assert!(!per_cache_images(&with(&[])));
        assert!(!per_cache_images(&BuildOpts::default()));
    }
}
