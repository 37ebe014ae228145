//! Caches that survive ephemeral CI runners: seeding (`HOARD_CACHE_FROM`), export
//! (`HOARD_CACHE_EXPORT`) and clearing (`HOARD_CACHE_CLEAR`) of every cache mount a build uses,
//! hoard's injected ones and the author's own `--mount=type=cache`.
//!
//! Seeding never puts the seed into a step's inputs (a seeded cache directory is keyed by id
//! *and* the seed's record, and the seed would be part of the step's cache key). Instead one
//! *primer* op per cache, running the frontend's own static binary natively on the build
//! platform, mounts the cache (same id, sharing and owner mkdir as the step) and the seed's
//! directory read-only, copies the seed in only when the cache is empty, and writes a constant
//! marker. The step mounts that marker read-only: its content-based cache key stays the same
//! whatever the seed, so unchanged steps stay `CACHED` with `--cache-from`.
//!
//! The export is a separate build with the same arguments: every application step is a layer
//! cache hit on the same builder, and one op per cache (never a cache hit: a nonce) copies the
//! cache into its own layer. The gateway (`gateway::ci`) resolves seeds, probes which caches are
//! warm, and assembles the export image.
//!
//! This file holds the arguments, seeds, the export's data and the rules that need no state;
//! `ci_steps.rs` adds the primer and export steps to the converter's graph. Without these build
//! arguments nothing adds anything to the graph.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cache::recipe::Aging;
use crate::error::{Error, Result};
use crate::image::Platform;
use crate::instructions::Sharing;
use crate::llb::Output;
use crate::proto::pb;

/// The image config label that lists a cache image's caches (JSON [`SeedIndex`]).
pub const INDEX_LABEL: &str = "dev.hoard.caches";
/// Where the step sees a primer's marker.
pub(super) const MARKER_DIR: &str = "/run/hoard-primed";
/// Default size over which a cache is not exported.
pub const DEFAULT_EXPORT_LIMIT: u64 = 4 << 30;
/// Default age (since last use) after which an entry is left out of an export: 30 days.
pub const DEFAULT_MAX_AGE: u64 = 30 * 86400;

/// `HOARD_CACHE_EXPORT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportMode {
    #[default]
    Off,
    All,
    /// Download caches only (no compile caches: cargo `target/`, go build, ccache...).
    Downloads,
}

/// One cache in a cache image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedEntry {
    /// The cache id as BuildKit sees it (with `BUILDKIT_CACHE_MOUNT_NS`).
    pub id: String,
    /// Its directory in the image (`/<key>`), one layer.
    pub key: String,
    /// The recipe that injected it, or empty for the author's own mount.
    #[serde(default)]
    pub tool: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub uid: u32,
    #[serde(default)]
    pub gid: u32,
    #[serde(default)]
    pub mode: u32,
    /// The platform (`hoard/c<hash>`) under which the cache image's index also holds an image
    /// of this cache's layer alone, so that a primer pulls only the cache it fills. Empty in
    /// cache images from before these per-cache images: the primer then mounts the whole image.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub platform: String,
}

/// The pseudo-platform of a cache's own image in a cache image's index (see
/// [`SeedEntry::platform`]): OS `hoard`, architecture `c` and 16 hex digits of the key's hash.
pub fn seed_platform(key: &str) -> Platform {
    let hex: String = Sha256::digest(key.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    Platform {
        os: SEED_OS.into(),
        architecture: format!("c{hex}"),
        ..Default::default()
    }
}

/// The OS of the per-cache images in a cache image's index.
pub const SEED_OS: &str = "hoard";

impl SeedEntry {
    /// The platform of this cache's own image, when the cache image has one.
    pub fn own_platform(&self) -> Option<Platform> {
        let arch = self.platform.strip_prefix(SEED_OS)?.strip_prefix('/')?;
        Some(Platform {
            os: SEED_OS.into(),
            architecture: arch.into(),
            ..Default::default()
        })
    }
}

/// The label's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SeedIndex {
    pub version: u32,
    pub caches: Vec<SeedEntry>,
}

impl SeedIndex {
    /// Read the index from an image config; `Err` says why it is not a hoard cache image.
    pub fn from_image_config(config: &[u8]) -> std::result::Result<SeedIndex, String> {
        let v: serde_json::Value =
            serde_json::from_slice(config).map_err(|e| format!("unreadable image config: {e}"))?;
        let label = v
            .pointer("/config/Labels")
            .and_then(|l| l.get(INDEX_LABEL))
            .and_then(|l| l.as_str())
            .ok_or_else(|| format!("not a hoard cache image (no {INDEX_LABEL} label)"))?;
        let idx: SeedIndex = serde_json::from_str(label)
            .map_err(|e| format!("its {INDEX_LABEL} label is corrupt: {e}"))?;
        if idx.version != 1 {
            return Err(format!(
                "cache image format {} is not supported (this hoard reads 1)",
                idx.version
            ));
        }
        for c in &idx.caches {
            if c.key.is_empty() || c.key.contains('/') || c.key.starts_with('.') {
                return Err(format!(
                    "its {INDEX_LABEL} label is corrupt: bad key {:?}",
                    c.key
                ));
            }
            let platform_ok = c.platform.is_empty()
                || c.own_platform().is_some_and(|p| {
                    p.architecture.len() > 1
                        && p.architecture
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                });
            if !platform_ok {
                return Err(format!(
                    "its {INDEX_LABEL} label is corrupt: bad platform {:?}",
                    c.platform
                ));
            }
        }
        Ok(idx)
    }
}

/// A seed image, resolved once to a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// `name@sha256:...`
    pub reference: String,
    pub index: SeedIndex,
}

/// What the gateway resolved for the CI cache features.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CiInputs {
    /// The frontend image pinned to a digest: the copy tool of primer and export ops.
    pub tool_image: Option<String>,
    pub seed: Option<Seed>,
    /// Caches (by key) the probe found non-empty on this builder; `None`: not probed yet.
    pub warm: Option<BTreeSet<String>>,
    /// Unique per build: export ops never hit the layer cache.
    pub nonce: String,
}

/// The CI settings from the build arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CiArgs {
    pub from: Vec<String>,
    pub export: ExportMode,
    pub clear: Vec<String>,
    pub limit: u64,
    /// `HOARD_CACHE_EXPORT_MAX_AGE` in seconds (0: keep everything).
    pub max_age: u64,
}

pub(super) fn parse_size(v: &str) -> Option<u64> {
    let v = v.trim();
    let (num, mult) = match v.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        None => (v, 1u64),
        Some((i, _)) => {
            let mult = match v[i..]
                .to_ascii_lowercase()
                .trim_end_matches("ib")
                .trim_end_matches('b')
            {
                "" => 1,
                "k" => 1 << 10,
                "m" => 1 << 20,
                "g" => 1 << 30,
                "t" => 1 << 40,
                _ => return None,
            };
            (&v[..i], mult)
        }
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}

/// An age in seconds: days by default, or with a unit (`30`, `30d`, `12h`, `90m`, `20s`).
pub(super) fn parse_age(v: &str) -> Option<u64> {
    let v = v.trim();
    let (num, unit) = match v.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&v[..i], c.to_ascii_lowercase()),
        _ => (v, 'd'),
    };
    let mult = match unit {
        'd' => 86400,
        'h' => 3600,
        'm' => 60,
        's' => 1,
        _ => return None,
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mult)
}

impl CiArgs {
    pub fn parse(args: &BTreeMap<String, String>) -> Result<CiArgs> {
        let list = |k: &str| -> Vec<String> {
            args.get(k)
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let export = match args.get("HOARD_CACHE_EXPORT").map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("0") | Some("false") => ExportMode::Off,
            Some("1") | Some("true") | Some("all") => ExportMode::All,
            Some("downloads") => ExportMode::Downloads,
            Some(other) => {
                return Err(Error::new(format!(
                    "--build-arg HOARD_CACHE_EXPORT={other}: expected 1 (every cache) or downloads (download caches only)"
                )))
            }
        };
        let clear = list("HOARD_CACHE_CLEAR");
        for t in &clear {
            if t != "all" && crate::cache::recipes::by_name(t).is_none() {
                return Err(Error::new(format!(
                    "--build-arg HOARD_CACHE_CLEAR: unknown tool \"{t}\" (tool names as in `hoard recipes`, or all)"
                )));
            }
        }
        let limit = match args.get("HOARD_CACHE_EXPORT_LIMIT") {
            None => DEFAULT_EXPORT_LIMIT,
            Some(v) => parse_size(v).ok_or_else(|| {
                Error::new(format!(
                    "--build-arg HOARD_CACHE_EXPORT_LIMIT={v}: expected a size such as 500M or 4G"
                ))
            })?,
        };
        let max_age = match args.get("HOARD_CACHE_EXPORT_MAX_AGE") {
            None => DEFAULT_MAX_AGE,
            Some(v) => parse_age(v).ok_or_else(|| {
                Error::new(format!("--build-arg HOARD_CACHE_EXPORT_MAX_AGE={v}: expected a number of days, or a number with a unit d, h, m or s (90m); 0 keeps everything"))
            })?,
        };
        Ok(CiArgs {
            from: list("HOARD_CACHE_FROM"),
            export,
            clear,
            limit,
            max_age,
        })
    }

    /// Whether any CI cache feature is asked for.
    pub fn active(&self) -> bool {
        !self.from.is_empty() || self.export != ExportMode::Off || !self.clear.is_empty()
    }
}

/// A cache's directory name in a cache image: readable, and unique per id and owner.
pub fn cache_key(id: &str, uid: Option<u32>, gid: Option<u32>, mode: Option<u32>) -> String {
    let slug: String = id
        .trim_start_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    let mut h = Sha256::new();
    h.update(format!("{id}\0{uid:?}\0{gid:?}\0{mode:?}").as_bytes());
    let hex: String = h
        .finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{}-{hex}", slug.trim_start_matches('.'))
}

/// Compile caches, left out by `HOARD_CACHE_EXPORT=downloads`: (recipe, cache id prefix).
pub(super) const COMPILE_CACHES: &[&str] = &[
    "hoard/cargo/target",
    "hoard/go/build",
    "hoard/golangci-lint/",
    "hoard/ccache/",
    "hoard/sccache/",
    "hoard/zig/cache",
];
/// The last path component of an author's own mount that marks a compile cache.
pub(super) const COMPILE_DIRS: &[&str] = &[
    "target",
    "go-build",
    "golangci-lint",
    ".ccache",
    "ccache",
    "sccache",
    "build",
    ".gradle",
];

/// How an export ages a cache out: the recipe's [`Aging`] for an injected cache (its kind is
/// the id's component after `hoard/<recipe>/`); for the author's own mount, cargo's units for
/// a directory named `target`, else each top-level entry as a whole (safe for any layout that
/// keeps one package per top-level entry).
pub(super) fn aging_of(tool: &str, id: &str, target: &str) -> Aging {
    if !tool.is_empty() {
        let prefix = format!("hoard/{tool}/");
        let kind = id
            .find(&prefix)
            .map(|i| &id[i + prefix.len()..])
            .and_then(|rest| rest.split('/').next());
        if let Some(c) = crate::cache::recipes::by_name(tool)
            .and_then(|r| r.caches.iter().find(|c| Some(c.kind) == kind))
        {
            return c.aging;
        }
    }
    if target.trim_end_matches('/').rsplit('/').next() == Some("target") {
        Aging::CargoTarget
    } else {
        Aging::Dirs(1)
    }
}

/// The id of the cache of kind `kind` beside the injected cache `id` of `tool`
/// (`<ns>/hoard/cargo/registry-cache/u1000` -> `<ns>/hoard/cargo/registry-src/u1000`).
pub(super) fn sibling_id(tool: &str, id: &str, kind: &str) -> Option<String> {
    let prefix = format!("hoard/{tool}/");
    let i = id.find(&prefix)? + prefix.len();
    let rest = &id[i..];
    let tail = rest.find('/').map(|j| &rest[j..]).unwrap_or("");
    Some(format!("{}{kind}{tail}", &id[..i]))
}

/// One cache mount the build uses.
#[derive(Debug, Clone)]
pub(super) struct CacheUse {
    pub(super) key: String,
    pub(super) id: String,
    pub(super) tool: String,
    pub(super) compile: bool,
    pub(super) sharing: Sharing,
    pub(super) base: Option<Output>,
    pub(super) selector: String,
    pub(super) uid: Option<u32>,
    pub(super) gid: Option<u32>,
    pub(super) mode: Option<u32>,
    /// The author's mount has its own `from=` source: never seeded.
    pub(super) own_source: bool,
    /// How the export ages its entries out.
    pub(super) aging: Aging,
    /// Stages whose final state comes after the steps that use it.
    pub(super) stages: BTreeSet<usize>,
}

/// The per-build state.
#[derive(Debug, Default)]
pub(super) struct CiState {
    pub(super) args: CiArgs,
    pub(super) uses: Vec<CacheUse>,
    pub(super) primers: BTreeMap<String, Output>,
    pub(super) tool: Option<Output>,
}

impl CiState {
    pub fn new(build_args: &BTreeMap<String, String>) -> Result<CiState> {
        Ok(CiState {
            args: CiArgs::parse(build_args)?,
            ..Default::default()
        })
    }
}

/// A cache to export: the layer and the report of its export op.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportPart {
    pub entry: SeedEntry,
    /// The layer (`/<key>/...`).
    pub layer: pb::Definition,
    /// The directory holding `<key>.json`, the export's report.
    pub report: pb::Definition,
}

/// The CI part of one platform's result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CiResult {
    pub args: CiArgs,
    /// Reads `/probe` (one `empty`/`full` line per key, in this order).
    pub probe: Option<(pb::Definition, Vec<String>)>,
    pub export: Vec<ExportPart>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn build_args() {
        let a = CiArgs::parse(&args(&[])).unwrap();
        assert!(!a.active());
        let a = CiArgs::parse(&args(&[
            ("HOARD_CACHE_FROM", "r/a:pr, r/a:main"),
            ("HOARD_CACHE_EXPORT", "downloads"),
        ]))
        .unwrap();
        assert_eq!(a.from, ["r/a:pr", "r/a:main"]);
        assert_eq!(a.export, ExportMode::Downloads);
        assert_eq!(a.limit, DEFAULT_EXPORT_LIMIT);
        let e = CiArgs::parse(&args(&[("HOARD_CACHE_EXPORT", "yes")])).unwrap_err();
        assert!(
            e.message.contains("HOARD_CACHE_EXPORT=yes"),
            "{}",
            e.message
        );
        let e = CiArgs::parse(&args(&[("HOARD_CACHE_CLEAR", "pip,nosuch")])).unwrap_err();
        assert!(
            e.message.contains("unknown tool \"nosuch\""),
            "{}",
            e.message
        );
        let a = CiArgs::parse(&args(&[
            ("HOARD_CACHE_CLEAR", "pip,apt"),
            ("HOARD_CACHE_EXPORT_LIMIT", "512M"),
        ]))
        .unwrap();
        assert_eq!(a.clear, ["pip", "apt"]);
        assert_eq!(a.limit, 512 << 20);
        assert_eq!(parse_size("2GiB"), Some(2 << 30));
        assert_eq!(parse_size("x"), None);
        assert_eq!(a.max_age, 30 * 86400);
        for (v, secs) in [
            ("7", 7 * 86400),
            ("7d", 7 * 86400),
            ("12h", 12 * 3600),
            ("90m", 5400),
            ("20s", 20),
            ("0", 0),
        ] {
            let a = CiArgs::parse(&args(&[("HOARD_CACHE_EXPORT_MAX_AGE", v)])).unwrap();
            assert_eq!(a.max_age, secs, "{v}");
        }
        let e = CiArgs::parse(&args(&[("HOARD_CACHE_EXPORT_MAX_AGE", "3w")])).unwrap_err();
        assert!(
            e.message.contains("HOARD_CACHE_EXPORT_MAX_AGE=3w"),
            "{}",
            e.message
        );
    }

    /// The unit of aging comes from the recipe of an injected cache (whatever the namespace
    /// and scope parts of its id), and is the top-level entry for the author's own mounts but
    /// a `target` directory (cargo's units).
    #[test]
    fn aging_units() {
        assert_eq!(
            aging_of("cargo", "/hoard/cargo/target/linux-amd64/u1000", "/x"),
            Aging::CargoTarget
        );
        assert_eq!(
            aging_of("cargo", "ns/hoard/cargo/registry-src", "/x"),
            Aging::Dirs(2)
        );
        assert_eq!(
            aging_of("cargo", "/hoard/cargo/registry-cache/u1000", "/x"),
            Aging::Extracted("registry-src")
        );
        assert_eq!(
            aging_of(
                "apt",
                "/hoard/apt/archives/linux-amd64/debian-bookworm",
                "/x"
            ),
            Aging::Files
        );
        assert_eq!(aging_of("", "/mine", "/app/target"), Aging::CargoTarget);
        assert_eq!(aging_of("", "/mine", "/root/.cache/pip"), Aging::Dirs(1));
        assert_eq!(
            sibling_id(
                "cargo",
                "ns/hoard/cargo/registry-cache/u1000",
                "registry-src"
            )
            .as_deref(),
            Some("ns/hoard/cargo/registry-src/u1000")
        );
        assert_eq!(
            sibling_id("cargo", "/hoard/cargo/registry-cache", "registry-src").as_deref(),
            Some("/hoard/cargo/registry-src")
        );
        // Every recipe cache of kind `Extracted(k)` has a cache of kind k beside it.
        for r in crate::cache::recipes::all() {
            for c in r.caches {
                if let Aging::Extracted(k) = c.aging {
                    assert!(
                        r.caches.iter().any(|o| o.kind == k),
                        "{}/{}",
                        r.name,
                        c.kind
                    );
                }
            }
        }
    }

    fn definition(build_args: &[(&str, &str)], ci: CiInputs) -> Vec<u8> {
        use prost::Message;
        let text = "FROM scratch\nRUN --mount=type=cache,target=/c,uid=1000 [\"/bin/true\"]\n";
        let opts = crate::convert::ConvertOpts {
            build_args: args(build_args),
            ci,
            ..Default::default()
        };
        match crate::convert::convert(text, &opts, &Default::default()).unwrap() {
            crate::convert::Outcome::Done { results, .. } => {
                results[0].definition.as_pb().encode_to_vec()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn nothing_changes_without_the_build_args() {
        let seed = Seed {
            reference: "r/c@sha256:00".into(),
            index: SeedIndex {
                version: 1,
                caches: vec![],
            },
        };
        let resolved = CiInputs {
            tool_image: Some("hoard@sha256:11".into()),
            seed: Some(seed),
            warm: None,
            nonce: "n".into(),
        };
        let plain = definition(&[], CiInputs::default());
        assert_eq!(
            plain,
            definition(&[], resolved.clone()),
            "CI inputs without the build args changed the graph"
        );
        assert_eq!(
            plain,
            definition(&[("HOARD_CACHE_EXPORT", "0")], resolved.clone())
        );
        // With seeding asked for, the step gains a primer (so the comparison can fail).
        assert_ne!(plain, definition(&[("HOARD_CACHE_FROM", "r/c")], resolved));
    }

    /// A primer that seeds carries the build's nonce (it must run whenever the probe found its
    /// cache empty; a layer-cache hit would leave the cache empty); a primer without a seed (a
    /// warm cache, or the export) does not, so it stays a cache hit on a warm builder.
    #[test]
    fn only_seeding_primers_carry_the_nonce() {
        use prost::Message;
        let text = "FROM scratch\nRUN --mount=type=cache,id=x,target=/c [\"/bin/true\"]\n";
        let def = |warm: Option<BTreeSet<String>>, export: bool| -> Vec<u8> {
            let mut build_args = args(&[("HOARD_CACHE_FROM", "r/c")]);
            if export {
                build_args.insert("HOARD_CACHE_EXPORT".into(), "1".into());
            }
            let key = cache_key("/x", None, None, None);
            let ci = CiInputs {
                tool_image: Some("hoard@sha256:11".into()),
                seed: (!export).then(|| Seed {
                    reference: "r/c@sha256:00".into(),
                    index: SeedIndex {
                        version: 1,
                        caches: vec![SeedEntry {
                            id: "/x".into(),
                            key: key.clone(),
                            tool: String::new(),
                            size: 1,
                            uid: 0,
                            gid: 0,
                            mode: 0o755,
                            platform: seed_platform(&key).id(),
                        }],
                    },
                }),
                warm,
                nonce: "NONCE42".into(),
            };
            let opts = crate::convert::ConvertOpts {
                build_args,
                ci,
                ..Default::default()
            };
            match crate::convert::convert(text, &opts, &Default::default()).unwrap() {
                crate::convert::Outcome::Done { results, .. } => {
                    results[0].definition.as_pb().encode_to_vec()
                }
                other => panic!("{other:?}"),
            }
        };
        let has = |d: &[u8], s: &str| d.windows(s.len()).any(|w| w == s.as_bytes());
        let cold = def(Some(BTreeSet::new()), false);
        assert!(has(&cold, "--seed") && has(&cold, "HOARD_PRIME_NONCE=NONCE42"));
        // The seed is the cache's own image in the index, pulled alone.
        let own = seed_platform(&cache_key("/x", None, None, None));
        assert!(own.architecture.len() == 17 && has(&cold, &own.architecture));
        let warm = def(
            Some(BTreeSet::from([cache_key("/x", None, None, None)])),
            false,
        );
        assert!(has(&warm, "cache-prime") && !has(&warm, "--seed"));
        assert!(
            !has(&warm, "HOARD_PRIME_NONCE"),
            "a warm primer carries the nonce"
        );
        let export = def(None, true);
        assert!(has(&export, "cache-prime") && !has(&export, "HOARD_PRIME_NONCE"));
    }

    #[test]
    fn keys_are_unique_per_owner() {
        let a = cache_key("/hoard/pip/cache", None, None, None);
        assert!(a.starts_with("hoard_pip_cache-"), "{a}");
        assert_ne!(
            a,
            cache_key("/hoard/pip/cache", Some(1000), Some(1000), None)
        );
        assert!(!cache_key("../x", None, None, None).contains('/'));
    }

    #[test]
    fn index_from_config() {
        let idx = SeedIndex {
            version: 1,
            caches: vec![SeedEntry {
                id: "/x".into(),
                key: "x-1".into(),
                tool: "pip".into(),
                size: 3,
                uid: 0,
                gid: 0,
                mode: 0o755,
                platform: String::new(),
            }],
        };
        let cfg = serde_json::json!({"config": {"Labels": {INDEX_LABEL: serde_json::to_string(&idx).unwrap()}}});
        assert_eq!(
            SeedIndex::from_image_config(cfg.to_string().as_bytes()).unwrap(),
            idx
        );
        // Per-cache images: the platform is read back; a malformed one is refused.
        let mut with_own = idx.clone();
        with_own.caches[0].platform = seed_platform("x-1").id();
        let cfg = serde_json::json!({"config": {"Labels": {INDEX_LABEL: serde_json::to_string(&with_own).unwrap()}}});
        let read = SeedIndex::from_image_config(cfg.to_string().as_bytes()).unwrap();
        assert_eq!(read.caches[0].own_platform(), Some(seed_platform("x-1")));
        assert_eq!(idx.caches[0].own_platform(), None);
        with_own.caches[0].platform = "linux/amd64".into();
        let cfg = serde_json::json!({"config": {"Labels": {INDEX_LABEL: serde_json::to_string(&with_own).unwrap()}}});
        assert!(SeedIndex::from_image_config(cfg.to_string().as_bytes())
            .unwrap_err()
            .contains("bad platform"));
        let foreign = serde_json::json!({"config": {"Labels": {}}});
        assert!(SeedIndex::from_image_config(foreign.to_string().as_bytes())
            .unwrap_err()
            .contains("not a hoard cache image"));
        let corrupt = serde_json::json!({"config": {"Labels": {INDEX_LABEL: "{nope"}}});
        assert!(SeedIndex::from_image_config(corrupt.to_string().as_bytes())
            .unwrap_err()
            .contains("corrupt"));
    }
}
