//! Running the converter without a daemon: base image configs come from `docker image inspect`
//! when an engine is reachable (otherwise an empty Linux config is assumed, and said), and
//! files inside intermediate states (`/etc/passwd`) are answered as unknown.

use std::collections::BTreeMap;
use std::process::Command as Process;

use crate::cache::{self, dialect, Selection, Step, UserInfo};
use crate::convert::{rounds, ConvertOpts, FileRequest, ImageRequest, ResolvedImage, RunPlan};
use crate::error::{Error, Result};
use crate::image::{ImageConfig, Platform};
use crate::instructions::{self, Command};
use crate::parser;

/// Options shared by `explain` and `eject`.
#[derive(Debug, Clone, Default)]
pub struct OfflineOpts {
    pub build_args: BTreeMap<String, String>,
    pub target: Option<String>,
    pub platform: Option<String>,
    /// Do not ask the local engine for base image configs.
    pub no_docker: bool,
}

/// The cache plans of a Dockerfile plus what had to be assumed.
pub struct Offline {
    pub platform: Platform,
    pub plans: Vec<RunPlan>,
    pub assumptions: Vec<String>,
    /// False when the converter failed and the plans come from [`approximate`].
    pub exact: bool,
}

/// An image config from `docker image inspect`, in image-config JSON form.
fn inspect(reference: &str) -> Option<Vec<u8>> {
    let out = Process::new("docker")
        .args(["image", "inspect", "--format", "{{json .}}", reference])
        .output()
        .ok()?;
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

/// Plans for every RUN of every stage without converting: the stage's `ENV` values as
/// written, root unless a numeric `USER` says otherwise, no base image config. For Dockerfiles
/// the converter cannot take as given (a `FROM ${IMAGE}` without its build argument).
pub fn approximate(
    text: &str,
    platform: &Platform,
    build_args: &BTreeMap<String, String>,
) -> Result<Vec<RunPlan>> {
    let df = parser::parse(text)?;
    let parsed = instructions::parse(&df)?;
    let starts: Vec<(usize, String)> = df
        .nodes
        .iter()
        .map(|n| (n.span.start, n.keyword.clone()))
        .collect();
    let d = dialect::scan(text, &starts)?;
    let arg = match build_args.get("HOARD") {
        Some(v) => dialect::parse_settings(v, 0)?,
        None => Vec::new(),
    };
    let mut plans = Vec::new();
    for (i, stage) in parsed.stages.iter().enumerate() {
        let mut env: Vec<(String, String)> = vec![(
            "PATH".into(),
            crate::image::default_path_env("linux").into(),
        )];
        let mut user = UserInfo::root();
        let mut dir = "/".to_string();
        let mut wrapped: Vec<String> = Vec::new();
        for c in &stage.commands {
            match c {
                Command::Env(e) => env.extend(e.pairs.iter().cloned()),
                Command::Workdir(w) => dir = crate::llb::file::clean(&format!("{dir}/{}", w.path)),
                Command::User(u) => {
                    let (uid, gid) = u.user.split_once(':').unwrap_or((&u.user, ""));
                    user = match uid.parse::<u32>() {
                        Ok(n) => UserInfo {
                            uid: n,
                            gid: gid.parse().unwrap_or(n),
                            home: "/".into(),
                        },
                        Err(_) if uid == "root" => UserInfo::root(),
                        Err(_) => UserInfo {
                            uid: 1000,
                            gid: 1000,
                            home: format!("/home/{uid}"),
                        },
                    };
                }
                Command::Run(r) => {
                    let selection: Selection = d.selection(stage.span.start, r.span.start, &arg);
                    let mut args = r.cmd.args();
                    let shell_form = r.cmd.prepend_shell();
                    if shell_form {
                        let script = if r.files.is_empty() {
                            args.join(" ")
                        } else {
                            r.files[0].data.clone()
                        };
                        args = vec!["/bin/sh".into(), "-c".into(), script];
                    }
                    let plan = cache::plan(&Step {
                        args: &args,
                        shell_form,
                        extra_scripts: &[],
                        env: &env,
                        cwd: &dir,
                        user: &user,
                        platform,
                        base: &stage.base,
                        user_mounts: &[],
                        user_caches: &[],
                        protected: &[],
                        wrapped: &wrapped,
                        selection: &selection,
                    });
                    wrapped = cache::planner::wrapped_after(&args, shell_form, &[], &wrapped);
                    let name = stage.name.clone().unwrap_or_else(|| format!("stage-{i}"));
                    plans.push(RunPlan {
                        span: r.span,
                        stage: name,
                        selection,
                        user: Some(user.clone()),
                        plan,
                    });
                }
                _ => {}
            }
        }
    }
    Ok(plans)
}

/// Convert `text` without a daemon; when the converter fails (missing build arguments and
/// the like), fall back to [`approximate`] and say so.
pub fn plans(text: &str, filename: &str, opts: &OfflineOpts) -> Result<Offline> {
    match convert(text, filename, opts) {
        Ok(off) => Ok(off),
        Err(e) => {
            let platform = match &opts.platform {
                Some(p) => Platform::parse(p)?,
                None => Platform::host(),
            };
            let plans = approximate(text, &platform, &opts.build_args).map_err(|_| e.clone())?;
            let why = e.render(filename);
            Ok(Offline {
                platform,
                plans,
                assumptions: vec![format!("the Dockerfile does not convert as given ({why}); plans below are approximate: ENV as written, no base image config")],
                exact: false,
            })
        }
    }
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
        target_platforms: opts
            .platform
            .as_ref()
            .map(|_| vec![platform.clone()])
            .unwrap_or_default(),
        llb_caps: [
            "mergeop",
            "exec.meta.setsdefaultpath",
            "exec.mount.bind.readwrite-nooutput",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        all_stages: opts.target.is_none(),
        ..Default::default()
    };
    let mut resolver = Local {
        no_docker: opts.no_docker,
        assumptions: Vec::new(),
    };
    let mut done = rounds::block_on(rounds::drive(text, &copts, &mut resolver))?;
    let result = done.results.pop().ok_or_else(|| Error::new("no result"))?;
    Ok(Offline {
        platform: result.platform,
        plans: result.plans,
        assumptions: resolver.assumptions,
        exact: true,
    })
}

/// Answers the converter from the local engine's images, if any; files inside intermediate
/// states are unknown without a build.
struct Local {
    no_docker: bool,
    /// What had to be assumed, once each.
    assumptions: Vec<String>,
}

impl Local {
    fn assume(&mut self, note: String) {
        if !self.assumptions.contains(&note) {
            self.assumptions.push(note);
        }
    }
}

impl rounds::Resolver for Local {
    type Error = Error;

    async fn images(&mut self, needs: &[ImageRequest]) -> Result<Vec<ResolvedImage>> {
        let mut out = Vec::new();
        for n in needs {
            let local = n
                .reference
                .strip_prefix("docker.io/library/")
                .or_else(|| n.reference.strip_prefix("docker.io/"))
                .unwrap_or(&n.reference);
            let config = match (!self.no_docker).then(|| inspect(local)).flatten() {
                Some(c) => c,
                None => {
                    self.assume(format!(
                        "{}: config not available locally; assumed an empty {} image (run `docker pull` for exact paths)",
                        n.reference,
                        n.platform.id()
                    ));
                    ImageConfig::empty(&n.platform).to_json()
                }
            };
            out.push(ResolvedImage {
                reference: n.reference.clone(),
                digest: None,
                config,
            });
        }
        Ok(out)
    }

    async fn files(
        &mut self,
        needs: &[FileRequest],
        _ready: Vec<crate::llb::Definition>,
    ) -> Result<Vec<Option<Vec<u8>>>> {
        let context: Vec<&str> = needs
            .iter()
            .filter(|f| f.exists)
            .map(|f| f.path.as_str())
            .collect();
        if !context.is_empty() {
            self.assume(format!(
                "whether the build context holds {} is only known to the build (`docker buildx build --call explain`); caches a COPY from the context may hide are shown without it",
                context.join(", ")
            ));
        }
        for f in needs.iter().filter(|f| !f.exists) {
            self.assume(format!(
                "{} of an intermediate stage is only known at build time; steps running as a named non-root user are shown without caches",
                f.path
            ));
        }
        Ok(vec![None; needs.len()])
    }
}
