//! The frontend's inputs: `BUILDKIT_FRONTEND_OPT_<n>` variables and friends, parsed into
//! [`BuildOpts`].
//!
//! buildkitd passes every frontend opt as `BUILDKIT_FRONTEND_OPT_<i>=<key>=<value>`, with `i` in
//! Go map order (random on every run); values may contain `=`, so the split is on the first one.
//! `BUILDKIT_SESSION_ID` (possibly empty) and `BUILDKIT_WORKERS` (JSON, lowercase keys) come
//! alongside. Key names and semantics follow BuildKit's `frontend/dockerui` package.
//!
//! Parsing takes the environment as an iterator so tests never touch the process env.
//!
//! Every option is parsed here, once, into the type of the lowest module that uses it
//! ([`ResolveMode`] from `llb`, [`NoCache`] from `convert`, [`NetworkMode`] from
//! `instructions`), and passed down typed.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Deserialize;

use crate::convert::NoCache;
use crate::error::Error;
pub use crate::image::Platform;
use crate::instructions::NetworkMode;
use crate::llb::ResolveMode;

pub const ENV_OPT_PREFIX: &str = "BUILDKIT_FRONTEND_OPT_";
pub const ENV_SESSION_ID: &str = "BUILDKIT_SESSION_ID";
pub const ENV_WORKERS: &str = "BUILDKIT_WORKERS";
pub const ENV_EXPORTED_PRODUCT: &str = "BUILDKIT_EXPORTEDPRODUCT";

pub const DEFAULT_DOCKERFILE_NAME: &str = "Dockerfile";
pub const DEFAULT_LOCAL_NAME_DOCKERFILE: &str = "dockerfile";
pub const DEFAULT_LOCAL_NAME_CONTEXT: &str = "context";
pub const DOCKERIGNORE_NAME: &str = ".dockerignore";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// One `cache-imports` entry (`{Type, Attrs}`), or a legacy `cache-from` registry ref.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CacheImport {
    #[serde(rename = "Type", alias = "type", default)]
    pub kind: String,
    #[serde(rename = "Attrs", alias = "attrs", default)]
    pub attrs: BTreeMap<String, String>,
}

/// One entry of `BUILDKIT_WORKERS`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct WorkerInfo {
    #[serde(default, alias = "ID")]
    pub id: String,
    #[serde(default, alias = "Labels")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, alias = "Platforms")]
    pub platforms: Vec<Platform>,
}

/// Everything the frontend was asked to do, typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildOpts {
    /// Every frontend opt as received (`key -> value`).
    pub raw: BTreeMap<String, String>,
    /// Dockerfile path inside the dockerfile local (`filename`, default `Dockerfile`).
    pub filename: String,
    /// Local name the Dockerfile is read from (`dockerfilekey`, default `dockerfile`).
    pub dockerfile_key: String,
    /// Local name of the build context (`contextkey`, default `context`).
    pub context_key: String,
    /// The value of the opt named like the context key, when set (a git/http URL means a
    /// remote context; not supported yet, kept for diagnostics).
    pub context_source: Option<String>,
    pub context_subdir: Option<String>,
    pub target: Option<String>,
    /// `build-arg:*`, prefix stripped.
    pub build_args: BTreeMap<String, String>,
    /// `label:*`, prefix stripped.
    pub labels: BTreeMap<String, String>,
    /// Target platforms from `platform`; empty means the default platform.
    pub platforms: Vec<Platform>,
    pub multi_platform: bool,
    pub no_cache: NoCache,
    pub image_resolve_mode: ResolveMode,
    /// `requestid`: absent for a normal build, otherwise a subrequest name.
    pub requestid: Option<String>,
    /// `frontend.caps`, comma list as sent (may carry `+forward` suffixes).
    pub frontend_caps: Vec<String>,
    /// `add-hosts`: (host, ip) pairs, host lowercased.
    pub add_hosts: Vec<(String, String)>,
    /// `shm-size` in bytes, when set and positive.
    pub shm_size: Option<i64>,
    pub ulimits: Vec<Ulimit>,
    /// `force-network-mode` (`sandbox` is the default).
    pub force_network_mode: NetworkMode,
    pub hostname: Option<String>,
    pub cgroup_parent: Option<String>,
    /// `context:<name>` (and `context:<name>::<platform>`) named contexts, prefix stripped.
    pub named_contexts: BTreeMap<String, String>,
    /// `local-sessionid:<name>` per-local session overrides.
    pub local_session_ids: BTreeMap<String, String>,
    /// `sharedkey:localdir:<name>`: shared key hints of named local contexts.
    pub shared_keys: BTreeMap<String, String>,
    /// `input-metadata:<input>`: metadata of frontend inputs (named contexts `input:<name>`).
    pub input_metadata: BTreeMap<String, String>,
    pub cache_imports: Vec<CacheImport>,
    /// `source`: the frontend image ref (set under `# syntax=` / `BUILDKIT_SYNTAX`).
    pub source: Option<String>,
    /// `cmdline`: the full syntax value.
    pub cmdline: Option<String>,
    /// `BUILDKIT_SESSION_ID` (may be empty: then never emit `local.session`).
    pub session_id: String,
    pub workers: Vec<WorkerInfo>,
    /// The build platform: first worker's first platform, else this machine's.
    pub default_platform: Platform,
    /// `BUILDKIT_EXPORTEDPRODUCT`.
    pub exported_product: Option<String>,
}

fn split_csv(v: &str) -> Vec<String> {
    // Go uses a CSV reader: fields may be quoted. Handle the simple quoting cases.
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn parse_bool(v: &str) -> Option<bool> {
    // Go strconv.ParseBool
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

fn parse_ulimit(field: &str) -> Result<Ulimit, Error> {
    const NAMES: &[&str] = &[
        "core",
        "cpu",
        "data",
        "fsize",
        "locks",
        "memlock",
        "msgqueue",
        "nice",
        "nofile",
        "nproc",
        "rss",
        "rtprio",
        "rttime",
        "sigpending",
        "stack",
    ];
    let bad = |why: &str| Error::new(format!("failed to parse ulimit: {why}: {field}"));
    let (name, limits) = field
        .split_once('=')
        .ok_or_else(|| bad("invalid ulimit argument"))?;
    if !NAMES.contains(&name) {
        return Err(bad("invalid ulimit type"));
    }
    let (soft, hard) = match limits.split_once(':') {
        Some((s, h)) => (s, Some(h)),
        None => (limits, None),
    };
    let soft: i64 = soft.parse().map_err(|_| bad("invalid ulimit soft value"))?;
    let hard: i64 = match hard {
        Some(h) => h.parse().map_err(|_| bad("invalid ulimit hard value"))?,
        None => soft,
    };
    if soft > hard {
        return Err(bad(
            "ulimit soft limit must be less than or equal to hard limit",
        ));
    }
    Ok(Ulimit {
        name: name.to_string(),
        soft,
        hard,
    })
}

impl BuildOpts {
    /// Parse from this process's environment.
    pub fn from_process_env() -> Result<BuildOpts, Error> {
        BuildOpts::from_env(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// Parse from `(name, value)` environment pairs.
    pub fn from_env<I, K, V>(env: I) -> Result<BuildOpts, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut raw = BTreeMap::new();
        let mut session_id = String::new();
        let mut workers_json = None;
        let mut exported_product = None;
        for (k, v) in env {
            let (k, v) = (k.as_ref(), v.as_ref());
            if let Some(idx) = k.strip_prefix(ENV_OPT_PREFIX) {
                if idx.is_empty() || !idx.bytes().all(|b| b.is_ascii_digit()) {
                    continue;
                }
                let (key, value) = v.split_once('=').unwrap_or((v, ""));
                raw.insert(key.to_string(), value.to_string());
            } else if k == ENV_SESSION_ID {
                session_id = v.to_string();
            } else if k == ENV_WORKERS {
                workers_json = Some(v.to_string());
            } else if k == ENV_EXPORTED_PRODUCT {
                exported_product = Some(v.to_string());
            }
        }
        let workers: Vec<WorkerInfo> = match workers_json.as_deref() {
            None | Some("") | Some("null") => Vec::new(),
            Some(j) => serde_json::from_str(j)
                .map_err(|e| Error::new(format!("failed to parse {ENV_WORKERS}: {e}")))?,
        };
        let mut o = BuildOpts::from_opts(raw)?;
        o.session_id = session_id;
        o.default_platform = workers
            .first()
            .and_then(|w| w.platforms.first())
            .cloned()
            .map(Platform::normalized)
            .unwrap_or_else(Platform::host);
        o.workers = workers;
        o.exported_product = exported_product;
        Ok(o)
    }

    /// Parse a map of frontend opts (no env metadata: session empty, host default platform).
    pub fn from_opts(raw: BTreeMap<String, String>) -> Result<BuildOpts, Error> {
        let get = |k: &str| raw.get(k).map(String::as_str);
        let non_empty = |k: &str| get(k).filter(|v| !v.is_empty()).map(str::to_string);
        let prefixed = |prefix: &str| -> BTreeMap<String, String> {
            raw.iter()
                .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_string(), v.clone())))
                .collect()
        };

        let filename = get("filename")
            .unwrap_or(DEFAULT_DOCKERFILE_NAME)
            .to_string();
        let dockerfile_key = get("dockerfilekey")
            .unwrap_or(DEFAULT_LOCAL_NAME_DOCKERFILE)
            .to_string();
        let context_key = get("contextkey")
            .unwrap_or(DEFAULT_LOCAL_NAME_CONTEXT)
            .to_string();
        let context_source = non_empty(&context_key);

        let platforms = match get("platform") {
            Some(v) if !v.is_empty() => v
                .split(',')
                .map(|p| {
                    Platform::parse(p).map_err(|e| {
                        Error::new(format!(
                            "failed to parse target platform {p}: {}",
                            e.message
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => Vec::new(),
        };

        let mut multi_platform = platforms.len() > 1;
        let mp =
            non_empty("build-arg:BUILDKIT_MULTI_PLATFORM").or_else(|| non_empty("multi-platform"));
        if let Some(v) = mp {
            let b = parse_bool(&v).ok_or_else(|| {
                Error::new(format!("invalid boolean value for multi-platform: {v}"))
            })?;
            if !b && multi_platform {
                return Err(Error::new(
                    "conflicting config: returning multiple target platforms is not allowed",
                ));
            }
            multi_platform = b;
        }

        let no_cache = match get("no-cache") {
            None => NoCache::Off,
            Some("") => NoCache::All,
            Some(v) => NoCache::Stages(v.split(',').map(str::to_string).collect()),
        };

        let image_resolve_mode = match get("image-resolve-mode").unwrap_or("") {
            "" | "default" => ResolveMode::Default,
            "pull" => ResolveMode::Pull,
            "local" => ResolveMode::Local,
            v => return Err(Error::new(format!("invalid image-resolve-mode: {v}"))),
        };

        let frontend_caps = match get("frontend.caps") {
            Some(v) if !v.is_empty() => v.split(',').map(|s| s.trim().to_string()).collect(),
            _ => Vec::new(),
        };

        let mut add_hosts = Vec::new();
        if let Some(v) = non_empty("add-hosts") {
            for field in split_csv(&v) {
                let lower = field.to_ascii_lowercase();
                let (host, ip) = lower.split_once('=').ok_or_else(|| {
                    Error::new(format!(
                        "failed to parse additional hosts: invalid key-value pair {field}"
                    ))
                })?;
                if ip.parse::<IpAddr>().is_err() {
                    return Err(Error::new(format!(
                        "failed to parse additional hosts: failed to parse IP {ip}"
                    )));
                }
                add_hosts.push((host.to_string(), ip.to_string()));
            }
        }

        let shm_size =
            match non_empty("shm-size") {
                Some(v) => Some(v.parse::<i64>().map_err(|_| {
                    Error::new(format!("failed to parse shm size: invalid value {v}"))
                })?),
                None => None,
            }
            .filter(|s| *s > 0);

        let ulimits = match non_empty("ulimit") {
            Some(v) => split_csv(&v)
                .iter()
                .map(|f| parse_ulimit(f))
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };

        let force_network_mode = match get("force-network-mode").unwrap_or("") {
            "" | "sandbox" => NetworkMode::Default,
            "host" => NetworkMode::Host,
            "none" => NetworkMode::None,
            v => return Err(Error::new(format!("invalid netmode {v}"))),
        };

        let hostname =
            non_empty("build-arg:BUILDKIT_SANDBOX_HOSTNAME").or_else(|| non_empty("hostname"));

        let mut cache_imports: Vec<CacheImport> = Vec::new();
        if let Some(v) = non_empty("cache-imports") {
            let parsed: Option<Vec<CacheImport>> = serde_json::from_str(&v).map_err(|e| {
                Error::new(format!("failed to unmarshal cache-imports ({v:?}): {e}"))
            })?;
            cache_imports.extend(parsed.unwrap_or_default());
        }
        if let Some(v) = non_empty("cache-from") {
            for r in v.split(',') {
                cache_imports.push(CacheImport {
                    kind: "registry".into(),
                    attrs: BTreeMap::from([("ref".to_string(), r.to_string())]),
                });
            }
        }

        Ok(BuildOpts {
            filename,
            dockerfile_key,
            context_key,
            context_source,
            context_subdir: non_empty("contextsubdir"),
            target: non_empty("target"),
            build_args: prefixed("build-arg:"),
            labels: prefixed("label:"),
            platforms,
            multi_platform,
            no_cache,
            image_resolve_mode,
            requestid: non_empty("requestid"),
            frontend_caps,
            add_hosts,
            shm_size,
            ulimits,
            force_network_mode,
            hostname,
            cgroup_parent: non_empty("cgroup-parent"),
            named_contexts: prefixed("context:"),
            local_session_ids: prefixed("local-sessionid:"),
            shared_keys: prefixed("sharedkey:localdir:"),
            input_metadata: prefixed("input-metadata:"),
            cache_imports,
            source: non_empty("source"),
            cmdline: non_empty("cmdline"),
            session_id: String::new(),
            workers: Vec::new(),
            default_platform: Platform::host(),
            exported_product: None,
            raw,
        })
    }

    /// The platforms to build: the requested ones, or the default platform.
    pub fn target_platforms(&self) -> Vec<Platform> {
        if self.platforms.is_empty() {
            vec![self.default_platform.clone()]
        } else {
            self.platforms.clone()
        }
    }

    /// The session id to use for local source `name` (per-local override, else the global one).
    pub fn session_for(&self, local_name: &str) -> &str {
        self.local_session_ids
            .get(local_name)
            .map(String::as_str)
            .unwrap_or(&self.session_id)
    }

    /// `<filename>.dockerignore`, read from the dockerfile local (it wins over the context's).
    pub fn dockerfile_dockerignore(&self) -> String {
        format!("{}{}", self.filename, DOCKERIGNORE_NAME)
    }

    /// The lowercase `dockerfile` fallback path when `filename`'s base name is `Dockerfile`.
    pub fn lowercase_fallback(&self) -> Option<String> {
        let (dir, base) = match self.filename.rsplit_once('/') {
            Some((d, b)) => (Some(d), b),
            None => (None, self.filename.as_str()),
        };
        if base != DEFAULT_DOCKERFILE_NAME {
            return None;
        }
        let lower = DEFAULT_DOCKERFILE_NAME.to_ascii_lowercase();
        Some(match dir {
            Some(d) => format!("{d}/{lower}"),
            None => lower,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(opts: &[&str], extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = opts
            .iter()
            .enumerate()
            .map(|(i, o)| (format!("{ENV_OPT_PREFIX}{i}"), o.to_string()))
            .collect();
        v.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        v.push(("PATH".into(), "/bin".into()));
        v
    }

    #[test]
    fn defaults_with_no_opts() {
        let o = BuildOpts::from_env(env(&[], &[])).unwrap();
        assert_eq!(o.filename, "Dockerfile");
        assert_eq!(o.dockerfile_key, "dockerfile");
        assert_eq!(o.context_key, "context");
        assert_eq!(o.target, None);
        assert_eq!(o.requestid, None);
        assert_eq!(o.no_cache, NoCache::Off);
        assert_eq!(o.image_resolve_mode, ResolveMode::Default);
        assert!(!o.multi_platform);
        assert_eq!(o.session_id, "");
        assert_eq!(o.default_platform, Platform::host());
        assert_eq!(o.target_platforms(), vec![Platform::host()]);
        assert!(o.raw.is_empty());
    }

    #[test]
    fn observed_buildx_opts_in_random_order() {
        let o = BuildOpts::from_env(env(
            &[
                "image-resolve-mode=local",
                "cmdline=hoard:dev",
                "build-arg:BUILDKIT_SYNTAX=hoard:dev",
                "filename=Dockerfile",
                "build-arg:EQ=a=b=c",
                "source=hoard:dev",
                "label:org.opencontainers.image.title=x",
            ],
            &[
                ("BUILDKIT_SESSION_ID", "sess123"),
                ("BUILDKIT_EXPORTEDPRODUCT", "docker"),
                (
                    "BUILDKIT_WORKERS",
                    r#"[{"id":"w1","labels":{"a":"b"},"platforms":[{"architecture":"amd64","os":"linux"},{"architecture":"amd64","os":"linux","variant":"v2"}],"buildkitVersion":{}}]"#,
                ),
            ],
        ))
        .unwrap();
        assert_eq!(o.image_resolve_mode, ResolveMode::Local);
        assert_eq!(o.cmdline.as_deref(), Some("hoard:dev"));
        assert_eq!(o.source.as_deref(), Some("hoard:dev"));
        assert_eq!(o.build_args.get("EQ").map(String::as_str), Some("a=b=c"));
        assert_eq!(
            o.build_args.get("BUILDKIT_SYNTAX").map(String::as_str),
            Some("hoard:dev")
        );
        assert_eq!(o.labels.len(), 1);
        assert_eq!(o.session_id, "sess123");
        assert_eq!(o.exported_product.as_deref(), Some("docker"));
        assert_eq!(o.workers.len(), 1);
        assert_eq!(o.workers[0].id, "w1");
        assert_eq!(o.default_platform, Platform::new("linux", "amd64", ""));
        assert_eq!(o.raw.len(), 7);
        assert_eq!(o.raw["build-arg:EQ"], "a=b=c");
    }

    #[test]
    fn ignores_unrelated_and_malformed_env() {
        let o = BuildOpts::from_env(vec![
            ("BUILDKIT_FRONTEND_OPT_X", "target=nope"),
            ("BUILDKIT_FRONTEND_OPT_", "target=nope"),
            ("BUILDKIT_FRONTEND_OPT_3", "target=yes"),
            ("HOME", "/root"),
        ])
        .unwrap();
        assert_eq!(o.target.as_deref(), Some("yes"));
        assert_eq!(o.raw.len(), 1);
    }

    #[test]
    fn value_without_equals_is_empty_value() {
        let o = BuildOpts::from_env(env(&["no-cache"], &[])).unwrap();
        assert_eq!(o.no_cache, NoCache::All);
        assert!(o.no_cache.applies_to(Some("anything")));
        assert!(o.no_cache.applies_to(None));
    }

    #[test]
    fn workers_with_go_field_names_and_empty() {
        let o = BuildOpts::from_env(env(
            &[],
            &[("BUILDKIT_WORKERS", r#"[{"ID":"x","Platforms":[{"architecture":"arm64","os":"linux","variant":"v8"}]}]"#)],
        ))
        .unwrap();
        assert_eq!(o.default_platform, Platform::new("linux", "arm64", ""));
        let o = BuildOpts::from_env(env(&[], &[("BUILDKIT_WORKERS", "null")])).unwrap();
        assert_eq!(o.default_platform, Platform::host());
        let o = BuildOpts::from_env(env(
            &[],
            &[("BUILDKIT_WORKERS", r#"[{"id":"x","platforms":[]}]"#)],
        ))
        .unwrap();
        assert_eq!(o.default_platform, Platform::host());
        assert!(BuildOpts::from_env(env(&[], &[("BUILDKIT_WORKERS", "{oops")])).is_err());
    }

    #[test]
    fn keys_and_filename() {
        let o = BuildOpts::from_env(env(
            &[
                "filename=sub/Dockerfile",
                "dockerfilekey=df2",
                "contextkey=ctx2",
                "ctx2=https://example.com/x.git",
            ],
            &[],
        ))
        .unwrap();
        assert_eq!(o.filename, "sub/Dockerfile");
        assert_eq!(o.dockerfile_key, "df2");
        assert_eq!(o.context_key, "ctx2");
        assert_eq!(
            o.context_source.as_deref(),
            Some("https://example.com/x.git")
        );
        assert_eq!(o.lowercase_fallback().as_deref(), Some("sub/dockerfile"));
        assert_eq!(o.dockerfile_dockerignore(), "sub/Dockerfile.dockerignore");
        let o = BuildOpts::from_env(env(&["filename=Containerfile"], &[])).unwrap();
        assert_eq!(o.lowercase_fallback(), None);
        assert_eq!(
            BuildOpts::from_env(env(&[], &[]))
                .unwrap()
                .lowercase_fallback()
                .as_deref(),
            Some("dockerfile")
        );
    }

    #[test]
    fn platforms_and_multi_platform() {
        let o = BuildOpts::from_env(env(&["platform=linux/amd64,linux/arm64,linux/arm/v7"], &[]))
            .unwrap();
        assert!(o.multi_platform);
        let ids: Vec<String> = o.platforms.iter().map(Platform::id).collect();
        assert_eq!(ids, ["linux/amd64", "linux/arm64", "linux/arm/v7"]);

        let o = BuildOpts::from_env(env(&["platform=linux/arm64"], &[])).unwrap();
        assert!(!o.multi_platform);
        assert_eq!(
            o.target_platforms(),
            vec![Platform::new("linux", "arm64", "")]
        );

        let o = BuildOpts::from_env(env(&["platform=linux/arm64", "multi-platform=true"], &[]))
            .unwrap();
        assert!(o.multi_platform);
        let o = BuildOpts::from_env(env(&["build-arg:BUILDKIT_MULTI_PLATFORM=1"], &[])).unwrap();
        assert!(o.multi_platform);

        let e = BuildOpts::from_env(env(
            &["platform=linux/amd64,linux/arm64", "multi-platform=false"],
            &[],
        ))
        .unwrap_err();
        assert!(e.message.contains("conflicting config"), "{}", e.message);
        assert!(BuildOpts::from_env(env(&["multi-platform=maybe"], &[])).is_err());
        assert!(BuildOpts::from_env(env(&["platform=linux//x"], &[])).is_err());
    }

    #[test]
    fn platform_normalisation() {
        let n = |s: &str| Platform::parse(s).unwrap().id();
        assert_eq!(n("linux/x86_64"), "linux/amd64");
        assert_eq!(n("linux/aarch64"), "linux/arm64");
        assert_eq!(n("linux/arm64/v8"), "linux/arm64");
        assert_eq!(n("linux/arm"), "linux/arm/v7");
        assert_eq!(n("linux/armhf"), "linux/arm/v7");
        assert_eq!(n("linux/arm/6"), "linux/arm/v6");
        assert_eq!(n("linux/i386"), "linux/386");
        assert_eq!(n("Linux/AMD64"), "linux/amd64");
        assert_eq!(n("arm64"), "linux/arm64");
        assert_eq!(n("linux/amd64/v3"), "linux/amd64/v3");
        assert_eq!(
            serde_json::to_string(&Platform::parse("linux/arm/v7").unwrap()).unwrap(),
            r#"{"architecture":"arm","os":"linux","variant":"v7"}"#
        );
    }

    #[test]
    fn no_cache_forms() {
        let o = BuildOpts::from_env(env(&["no-cache="], &[])).unwrap();
        assert_eq!(o.no_cache, NoCache::All);
        let o = BuildOpts::from_env(env(&["no-cache=build,Test"], &[])).unwrap();
        assert_eq!(
            o.no_cache,
            NoCache::Stages(vec!["build".into(), "Test".into()])
        );
        assert!(o.no_cache.applies_to(Some("BUILD")));
        assert!(o.no_cache.applies_to(Some("test")));
        assert!(!o.no_cache.applies_to(Some("final")));
        assert!(!o.no_cache.applies_to(None));
        assert!(!NoCache::Off.applies_to(Some("x")));
    }

    #[test]
    fn resolve_mode_values() {
        for (v, m) in [
            ("default", ResolveMode::Default),
            ("pull", ResolveMode::Pull),
            ("local", ResolveMode::Local),
        ] {
            let o = BuildOpts::from_env(env(&[&format!("image-resolve-mode={v}")], &[])).unwrap();
            assert_eq!(o.image_resolve_mode, m);
            assert_eq!(m.as_str(), v);
        }
        assert!(BuildOpts::from_env(env(&["image-resolve-mode=sometimes"], &[])).is_err());
    }

    #[test]
    fn subrequest_and_caps() {
        let o = BuildOpts::from_env(env(
            &[
                "requestid=frontend.lint",
                "frontend.caps=moby.buildkit.frontend.subrequests+forward",
            ],
            &[],
        ))
        .unwrap();
        assert_eq!(o.requestid.as_deref(), Some("frontend.lint"));
        assert_eq!(
            o.frontend_caps,
            ["moby.buildkit.frontend.subrequests+forward"]
        );
    }

    #[test]
    fn run_options() {
        let o = BuildOpts::from_env(env(
            &[
                "add-hosts=Foo=1.2.3.4,bar=::1",
                "shm-size=67108864",
                "ulimit=nofile=1024:2048,nproc=10",
                "force-network-mode=host",
                "hostname=h1",
                "cgroup-parent=/x",
            ],
            &[],
        ))
        .unwrap();
        assert_eq!(
            o.add_hosts,
            [
                ("foo".into(), "1.2.3.4".into()),
                ("bar".into(), "::1".into())
            ]
        );
        assert_eq!(o.shm_size, Some(64 << 20));
        assert_eq!(
            o.ulimits,
            vec![
                Ulimit {
                    name: "nofile".into(),
                    soft: 1024,
                    hard: 2048
                },
                Ulimit {
                    name: "nproc".into(),
                    soft: 10,
                    hard: 10
                }
            ]
        );
        assert_eq!(o.force_network_mode, NetworkMode::Host);
        assert_eq!(o.hostname.as_deref(), Some("h1"));
        assert_eq!(o.cgroup_parent.as_deref(), Some("/x"));

        let o = BuildOpts::from_env(env(
            &["hostname=h1", "build-arg:BUILDKIT_SANDBOX_HOSTNAME=h2"],
            &[],
        ))
        .unwrap();
        assert_eq!(o.hostname.as_deref(), Some("h2"));

        assert!(BuildOpts::from_env(env(&["add-hosts=foo"], &[])).is_err());
        assert!(BuildOpts::from_env(env(&["add-hosts=foo=notanip"], &[])).is_err());
        assert!(BuildOpts::from_env(env(&["shm-size=big"], &[])).is_err());
        // 0 and below: no /dev/shm mount, as with the stock frontend.
        for v in ["0", "-1"] {
            let o = BuildOpts::from_env(env(&[&format!("shm-size={v}")], &[])).unwrap();
            assert_eq!(o.shm_size, None);
        }
        let o = BuildOpts::from_env(env(&["force-network-mode=sandbox"], &[])).unwrap();
        assert_eq!(o.force_network_mode, NetworkMode::Default);
        assert!(BuildOpts::from_env(env(&["ulimit=bogus=1"], &[])).is_err());
        assert!(BuildOpts::from_env(env(&["ulimit=nofile=10:5"], &[])).is_err());
        assert!(BuildOpts::from_env(env(&["force-network-mode=bridge"], &[])).is_err());
    }

    #[test]
    fn named_contexts_sessions_and_cache_imports() {
        let o = BuildOpts::from_env(env(
            &[
                "context:base=docker-image://alpine:3.20",
                "context:src::linux/amd64=local:src",
                "local-sessionid:src=other",
                r#"cache-imports=[{"Type":"registry","Attrs":{"ref":"r/c:1"}},{"type":"local","attrs":{"src":"/x"}}]"#,
                "cache-from=r/a,r/b",
                "build-arg:BUILDKIT_CACHE_MOUNT_NS=ns1",
            ],
            &[("BUILDKIT_SESSION_ID", "main")],
        ))
        .unwrap();
        assert_eq!(o.named_contexts["base"], "docker-image://alpine:3.20");
        assert_eq!(o.named_contexts["src::linux/amd64"], "local:src");
        assert_eq!(o.session_for("src"), "other");
        assert_eq!(o.session_for("context"), "main");
        assert_eq!(o.cache_imports.len(), 4);
        assert_eq!(o.cache_imports[0].kind, "registry");
        assert_eq!(o.cache_imports[1].attrs["src"], "/x");
        assert_eq!(o.cache_imports[3].attrs["ref"], "r/b");
        assert_eq!(o.build_args["BUILDKIT_CACHE_MOUNT_NS"], "ns1");
        assert!(BuildOpts::from_env(env(&["cache-imports={"], &[])).is_err());
    }
}
