//! Running the converter without a daemon: base image configs come from `docker image inspect`
//! when an engine is reachable (otherwise an empty Linux config is assumed, and said), and
//! files inside intermediate states (`/etc/passwd`) are answered as unknown.

use std::collections::BTreeMap;
use std::process::Command;

use crate::convert::{self, ConvertOpts, Outcome, PlatformResult, Resolved, ResolvedImage};
use crate::error::{Error, Result};
use crate::image::{ImageConfig, Platform};

/// Options shared by `explain` and `eject`.
#[derive(Debug, Clone, Default)]
pub struct OfflineOpts {
    pub build_args: BTreeMap<String, String>,
    pub target: Option<String>,
    pub platform: Option<String>,
    /// Do not ask the local engine for base image configs.
    pub no_docker: bool,
}

/// The converter's result plus what had to be assumed.
pub struct Offline {
    pub result: PlatformResult,
    pub assumptions: Vec<String>,
}

/// An image config from `docker image inspect`, in image-config JSON form.
fn inspect(reference: &str) -> Option<Vec<u8>> {
    let out = Command::new("docker").args(["image", "inspect", "--format", "{{json .}}", reference]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let cfg = serde_json::json!({
        "architecture": v["Architecture"],
        "os": v["Os"],
        "variant": v.get("Variant").and_then(|x| x.as_str()).unwrap_or(""),
        "config": v["Config"],
        "rootfs": {"type": "layers", "diff_ids": v["RootFS"]["Layers"]},
    });
    serde_json::to_vec(&cfg).ok()
}

/// Convert `text` without a daemon.
pub fn convert(text: &str, filename: &str, opts: &OfflineOpts) -> Result<Offline> {
    let platform = match &opts.platform {
        Some(p) => Platform::parse(p)?,
        None => Platform::host(),
    };
    let copts = ConvertOpts {
        filename: filename.to_string(),
        target: opts.target.clone(),
        build_args: opts.build_args.clone(),
        build_platform: Platform::host(),
        target_platforms: opts.platform.as_ref().map(|_| vec![platform.clone()]).unwrap_or_default(),
        llb_caps: ["mergeop", "exec.meta.setsdefaultpath", "exec.mount.bind.readwrite-nooutput"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ..Default::default()
    };
    let mut resolved = Resolved::default();
    let mut assumptions = Vec::new();
    for _ in 0..20 {
        match convert::convert(text, &copts, &resolved)? {
            Outcome::Done { mut results, .. } => {
                let result = results.pop().ok_or_else(|| Error::new("no result"))?;
                return Ok(Offline { result, assumptions });
            }
            Outcome::NeedImages(needs) => {
                for n in needs {
                    let local = n.reference.strip_prefix("docker.io/library/").or_else(|| n.reference.strip_prefix("docker.io/")).unwrap_or(&n.reference);
                    let config = (!opts.no_docker).then(|| inspect(local)).flatten().unwrap_or_else(|| {
                        assumptions.push(format!(
                            "{}: config not available locally; assumed an empty {} image (run `docker pull` for exact paths)",
                            n.reference,
                            n.platform.id()
                        ));
                        ImageConfig::empty(&n.platform).to_json()
                    });
                    resolved.images.insert(
                        (n.reference.clone(), n.platform.id()),
                        ResolvedImage { reference: n.reference.clone(), digest: None, config },
                    );
                }
            }
            Outcome::NeedFiles(needs) => {
                for f in needs {
                    assumptions.push(format!(
                        "{} of an intermediate stage is only known at build time; steps running as a named non-root user are shown without caches",
                        f.path
                    ));
                    resolved.files.insert((f.key, f.path), None);
                }
            }
        }
    }
    Err(Error::new("too many resolution rounds"))
}
