//! `frontend.outline` (`docker buildx build --call outline`): the build args, secrets and ssh
//! mounts the chosen target uses, computed the way the stock frontend's dispatcher records them.
//!
//! The stock frontend collects the outline while it dispatches the target and the stages it
//! depends on, so this module walks the stage graph the same way, on its own (the converter's
//! internals stay untouched):
//!
//! * Global ARGs (before the first `FROM`) are evaluated in order over the automatic platform
//!   args, `--build-arg` values replacing defaults; each remembers the global args its default
//!   used, so using one marks those as used too.
//! * Every stage starts from the global ARG definitions (or a copy of its base stage's record),
//!   and marks as used the args its `FROM` name and `--platform` expand.
//! * Dispatching a reachable stage runs its `ARG`s (a bare `ARG` naming a global or automatic
//!   arg keeps that definition; any other ARG records its own definition, with the value from
//!   `--build-arg`, else its default expanded with the stage environment: base image `ENV`,
//!   `ENV` and earlier `ARG`s), and its `RUN` secret and ssh mounts (first use per id wins).
//! * The listing walks the target, then its base stage, then the stages it copies or mounts
//!   from; the first definition of a name wins; each list is sorted by line.
//!
//! Only reachable stages count; an ARG of a stage the target never uses is not listed. As with
//! the stock frontend, `--platform` is ignored: the outline is for the build platform.
//!
//! The flow part ([`outline_request`]) resolves the base images through the converter (so the
//! errors are a build's errors), then computes the outline from the resolved image configs.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Result, Span};
use crate::expand::{Env, Lexer};
use crate::image::{default_path_env, normalize_reference, ImageConfig, Platform};
use crate::instructions::{self, ArgCommand, Command, MountType};
use crate::parser;
use crate::proto::moby::buildkit::v1::frontend as gw;

use super::client::Gateway;
use super::convert_api::ConvertRequest;
use super::errors::GatewayError;
use super::frontend::{convert_all, send_warnings, LoadedDockerfile};
use super::opts::BuildOpts;
use super::resolver::{Files, GatewayResolver};
use super::subrequests;
use crate::convert::Resolved as ResolvedImages;

/// What the outline depends on, from the frontend options.
#[derive(Clone, Debug, Default)]
pub struct OutlineOpts {
    pub target: Option<String>,
    pub build_args: BTreeMap<String, String>,
    /// The build platform (also the target platform: the stock outline ignores `--platform`).
    pub platform: Platform,
    /// Names given a `--build-context` (`name` or `name::platform`).
    pub named_contexts: BTreeSet<String>,
}

impl OutlineOpts {
    pub fn from_build_opts(o: &BuildOpts) -> Self {
        OutlineOpts {
            target: o.target.clone().filter(|t| !t.is_empty()),
            build_args: o.build_args.clone(),
            platform: o.default_platform.clone(),
            named_contexts: o.named_contexts.keys().cloned().collect(),
        }
    }
}

/// One build arg of the outline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutlineArg {
    pub name: String,
    pub description: String,
    pub value: String,
    pub span: Span,
}

/// One secret or ssh mount of the outline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutlineMount {
    pub name: String,
    pub required: bool,
    pub span: Span,
}

/// The outline of a build target (stock `outline.Outline`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outline {
    /// The target stage's name (empty for an unnamed stage).
    pub name: String,
    pub description: String,
    pub args: Vec<OutlineArg>,
    pub secrets: Vec<OutlineMount>,
    pub ssh: Vec<OutlineMount>,
}

/// Args that are never put in a stage's environment (stock `nonEnvArgs`).
const NON_ENV_ARGS: [&str; 2] = ["BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"];

/// An ordered variable list; setting an existing name replaces it in place.
#[derive(Clone, Debug, Default)]
struct Vars(Vec<(String, String)>);

impl Vars {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }
    fn set(&mut self, k: &str, v: &str) {
        match self.0.iter_mut().find(|(n, _)| n == k) {
            Some(slot) => slot.1 = v.to_string(),
            None => self.0.push((k.to_string(), v.to_string())),
        }
    }
}

impl Env for Vars {
    fn get(&self, name: &str) -> Option<String> {
        Vars::get(self, name).map(str::to_string)
    }
    fn keys(&self) -> Vec<String> {
        self.0.iter().map(|(k, _)| k.clone()).collect()
    }
}

/// A recorded ARG definition (stock `argInfo`).
#[derive(Clone, Debug)]
struct ArgInfo {
    name: String,
    description: String,
    value: String,
    span: Span,
    /// Global args the default used (global ARGs only).
    deps: BTreeSet<String>,
    /// Order of definition, for args sharing a line.
    seq: usize,
}

#[derive(Clone, Debug)]
struct MountInfo {
    required: bool,
    span: Span,
    seq: usize,
}

type NamedMount = (String, MountInfo);

/// What a stage recorded (stock `outlineCapture`).
#[derive(Clone, Debug, Default)]
struct Capture {
    all: BTreeMap<String, ArgInfo>,
    used: BTreeSet<String>,
    secrets: BTreeMap<String, MountInfo>,
    ssh: BTreeMap<String, MountInfo>,
}

impl Capture {
    /// Mark the args the used ones were computed from as used too, transitively.
    fn mark_all_used(&mut self) {
        let mut todo: Vec<String> = self.used.iter().cloned().collect();
        let mut seen = BTreeSet::new();
        while let Some(k) = todo.pop() {
            if !seen.insert(k.clone()) {
                continue;
            }
            if let Some(a) = self.all.get(&k) {
                todo.extend(a.deps.iter().cloned());
            }
            self.used.insert(k);
        }
    }
}

struct OCmd {
    command: Command,
    /// An ONBUILD trigger: it has no comments of its own.
    onbuild: bool,
}

struct StageInfo {
    name: Option<String>,
    base: String,
    base_stage: Option<usize>,
    platform: Platform,
    span: Span,
    commands: Vec<OCmd>,
    deps: BTreeSet<usize>,
    /// A named context replaces the stage: it is never dispatched.
    replaced: bool,
    onbuild_done: bool,
    capture: Capture,
    /// After dispatch: the environment, and the image config's env (ENV instructions).
    env: Vars,
    image_env: Vars,
}

/// The doc comment for `name`: the text after `name ` in the first comment line starting so
/// (stock `getDocComment`).
fn doc_comment(comments: &[String], name: &str) -> String {
    if name.is_empty() {
        return String::new();
    }
    let prefix = format!("{name} ");
    comments
        .iter()
        .find_map(|c| c.strip_prefix(&prefix).map(str::to_string))
        .unwrap_or_default()
}

/// Expand with the stock "matches" report; errors name the instruction.
fn expand(lexer: &Lexer, word: &str, env: &Vars, span: Span) -> Result<(String, BTreeSet<String>)> {
    lexer
        .process_word_with_matches(word, env)
        .map(|(r, matched, _)| (r, matched))
        .map_err(|e| Error::at(span, e.message))
}

/// The stock `defaultArgs`: automatic platform args, overridable by build args.
fn default_args(
    platform: &Platform,
    target_stage: &str,
    overrides: &BTreeMap<String, String>,
) -> Vars {
    let stage = if target_stage.is_empty() {
        "default"
    } else {
        target_stage
    };
    let p = platform;
    let pairs = [
        ("BUILDPLATFORM", p.id()),
        ("BUILDOS", p.os.clone()),
        ("BUILDOSVERSION", p.os_version.clone()),
        ("BUILDARCH", p.architecture.clone()),
        ("BUILDVARIANT", p.variant.clone()),
        ("TARGETPLATFORM", p.id()),
        ("TARGETOS", p.os.clone()),
        ("TARGETOSVERSION", p.os_version.clone()),
        ("TARGETARCH", p.architecture.clone()),
        ("TARGETVARIANT", p.variant.clone()),
        ("TARGETSTAGE", stage.to_string()),
    ];
    let mut env = Vars::default();
    for (k, v) in pairs {
        env.set(k, overrides.get(k).map(String::as_str).unwrap_or(&v));
    }
    env
}

struct Walker<'a> {
    opts: &'a OutlineOpts,
    resolved: &'a ResolvedImages,
    lexer: Lexer,
    comments: BTreeMap<usize, Vec<String>>,
    global: Vars,
    stages: Vec<StageInfo>,
    by_name: BTreeMap<String, usize>,
    seq: usize,
}

impl Walker<'_> {
    fn next_seq(&mut self) -> usize {
        self.seq += 1;
        self.seq
    }

    fn comments_at(&self, line: usize) -> &[String] {
        self.comments.get(&line).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The stock `buildMetaArgs`, recording every global ARG.
    fn meta_args(&mut self, cmds: &[ArgCommand]) -> Result<Capture> {
        let mut cap = Capture::default();
        for cmd in cmds {
            for (key, default) in &cmd.args {
                let description = doc_comment(self.comments_at(cmd.span.start), key);
                let mut deps = BTreeSet::new();
                let value = match self.opts.build_args.get(key) {
                    Some(v) => Some(v.clone()),
                    None => match default {
                        None => None,
                        Some(d) => {
                            let (v, matched) = expand(&self.lexer, d, &self.global, cmd.span)?;
                            deps = matched;
                            if deps.remove(key) {
                                if let Some(old) = cap.all.get(key) {
                                    deps.extend(old.deps.iter().cloned());
                                }
                            }
                            Some(v)
                        }
                    },
                };
                if let Some(v) = &value {
                    self.global.set(key, v);
                }
                let seq = self.next_seq();
                cap.all.insert(
                    key.clone(),
                    ArgInfo {
                        name: key.clone(),
                        description,
                        value: value.unwrap_or_default(),
                        span: cmd.span,
                        deps,
                        seq,
                    },
                );
            }
        }
        Ok(cap)
    }

    fn is_named_context(&self, name: &str) -> bool {
        self.opts.named_contexts.iter().any(|k| {
            let k = k.split_once("::").map(|(n, _)| n).unwrap_or(k);
            k.eq_ignore_ascii_case(name)
        })
    }

    /// The stage a `--from` names, if it is a stage (images add nothing to an outline).
    fn source_stage(&self, from: &str) -> Option<usize> {
        if let Some(&i) = self.by_name.get(&from.to_lowercase()) {
            return Some(i);
        }
        from.parse::<usize>()
            .ok()
            .filter(|&i| i < self.stages.len())
    }

    fn link(&mut self, i: usize, command: &Command) -> Result<()> {
        let mut froms = Vec::new();
        match command {
            Command::Copy(c) => froms.extend(c.from.clone()),
            Command::Run(r) => {
                for spec in &r.mount_specs {
                    let from = instructions::mount_from_unexpanded(spec)
                        .map_err(|e| Error::at(r.span, e))?;
                    froms.extend(from.filter(|f| !f.is_empty()));
                }
            }
            _ => {}
        }
        for f in froms {
            if let Some(s) = self.source_stage(&f) {
                self.stages[i].deps.insert(s);
            }
        }
        Ok(())
    }

    fn reachable(&self, target: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![target];
        while let Some(i) = todo.pop() {
            if seen.insert(i) {
                todo.extend(self.stages[i].base_stage);
                todo.extend(self.stages[i].deps.iter().copied());
            }
        }
        seen
    }

    fn image_config(&self, i: usize) -> Result<Option<ImageConfig>> {
        let s = &self.stages[i];
        if s.base_stage.is_some()
            || s.replaced
            || s.base == "scratch"
            || self.is_named_context(&s.base)
        {
            return Ok(None);
        }
        let reference = normalize_reference(&s.base)
            .map_err(|e| Error::at(s.span, e.message))?
            .full();
        match self.resolved.images.get(&(reference, s.platform.id())) {
            None => Ok(None),
            Some(img) => ImageConfig::from_json(&img.config)
                .map(Some)
                .map_err(|e| Error::at(s.span, format!("failed to parse image config: {e}"))),
        }
    }

    /// Prepend ONBUILD triggers (of the base image, or the base stage's ONBUILD instructions)
    /// to the reachable stages, until no trigger adds a dependency.
    fn add_onbuild_triggers(&mut self, target: usize) -> Result<()> {
        loop {
            let mut new_deps = false;
            for i in self.reachable(target) {
                if self.stages[i].onbuild_done || self.stages[i].replaced {
                    continue;
                }
                self.stages[i].onbuild_done = true;
                let triggers: Vec<String> = match self.stages[i].base_stage {
                    Some(b) => self.stages[b]
                        .commands
                        .iter()
                        .filter_map(|c| match &c.command {
                            Command::Onbuild(o) => Some(o.expression.clone()),
                            _ => None,
                        })
                        .collect(),
                    None => self
                        .image_config(i)?
                        .map(|c| c.config.on_build)
                        .unwrap_or_default(),
                };
                if triggers.is_empty() {
                    continue;
                }
                let span = self.stages[i].span;
                let mut cmds = Vec::new();
                for t in &triggers {
                    let df = parser::parse(t).map_err(|e| Error::at(span, e.message))?;
                    if df.nodes.len() != 1 {
                        return Err(Error::at(
                            span,
                            "onbuild trigger should be a single expression",
                        ));
                    }
                    let mut node = df.nodes[0].clone();
                    node.span = span;
                    let command = instructions::parse_command(&node)
                        .map_err(|e| Error::at(span, e.message))?;
                    let before = self.stages[i].deps.len();
                    self.link(i, &command)?;
                    new_deps |= self.stages[i].deps.len() != before;
                    cmds.push(OCmd {
                        command,
                        onbuild: true,
                    });
                }
                let s = &mut self.stages[i];
                cmds.append(&mut s.commands);
                s.commands = cmds;
            }
            if !new_deps {
                return Ok(());
            }
        }
    }

    /// Set a stage's starting environment from its base (stock `init` plus the image env).
    fn init_env(&mut self, i: usize) -> Result<()> {
        let (mut env, mut image_env) = match self.stages[i].base_stage {
            Some(b) => (self.stages[b].env.clone(), self.stages[b].image_env.clone()),
            None => {
                let mut image_env = Vars::default();
                for kv in self
                    .image_config(i)?
                    .map(|c| c.config.env)
                    .unwrap_or_default()
                {
                    let (k, v) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
                    image_env.set(k, v);
                }
                (Vars::default(), image_env)
            }
        };
        let os = self.stages[i].platform.os.clone();
        if image_env.get("PATH").is_none() && os != "windows" {
            image_env.set("PATH", default_path_env(&os));
        }
        for (k, v) in &image_env.0 {
            env.set(k, v);
        }
        let s = &mut self.stages[i];
        s.env = env;
        s.image_env = image_env;
        Ok(())
    }

    /// Run the commands of a reachable stage that matter to an outline (stock `dispatch`).
    fn dispatch(&mut self, i: usize) -> Result<()> {
        self.init_env(i)?;
        let commands = std::mem::take(&mut self.stages[i].commands);
        let result = commands.iter().try_for_each(|c| {
            self.dispatch_command(i, c)
                .map_err(|e| e.or_at(c.command.span()))
        });
        self.stages[i].commands = commands;
        result
    }

    fn dispatch_command(&mut self, i: usize, cmd: &OCmd) -> Result<()> {
        let span = cmd.command.span();
        match &cmd.command {
            Command::Arg(a) => {
                for (key, default) in &a.args {
                    let description = if cmd.onbuild {
                        String::new()
                    } else {
                        doc_comment(self.comments_at(span.start), key)
                    };
                    let from_cli = self.opts.build_args.get(key).cloned();
                    let mut inherited = false;
                    let value = if let Some(v) = from_cli {
                        Some(v)
                    } else if let Some(d) = default {
                        Some(expand(&self.lexer, d, &self.stages[i].env, span)?.0)
                    } else if let Some(v) = self.global.get(key) {
                        // A bare ARG naming a global (or automatic) arg keeps its definition.
                        inherited = true;
                        Some(v.to_string())
                    } else {
                        None
                    };
                    let seq = self.next_seq();
                    let s = &mut self.stages[i];
                    if let Some(v) = &value {
                        if !NON_ENV_ARGS.contains(&key.as_str()) {
                            s.env.set(key, v);
                        }
                    }
                    if !inherited {
                        s.capture.all.insert(
                            key.clone(),
                            ArgInfo {
                                name: key.clone(),
                                description,
                                value: value.unwrap_or_default(),
                                span,
                                deps: BTreeSet::new(),
                                seq,
                            },
                        );
                    }
                    s.capture.used.insert(key.clone());
                }
            }
            Command::Env(_) => {
                let mut c = cmd.command.clone();
                let env = self.stages[i].env.clone();
                let lexer = &self.lexer;
                c.expand(&mut |w: &str| {
                    lexer
                        .process_word(w, &env)
                        .map_err(|e| Error::at(span, e.message))
                })?;
                if let Command::Env(e) = c {
                    let s = &mut self.stages[i];
                    for (k, v) in &e.pairs {
                        s.env.set(k, v);
                        s.image_env.set(k, v);
                    }
                }
            }
            Command::Run(_) => {
                let mut c = cmd.command.clone();
                let env = self.stages[i].env.clone();
                let lexer = &self.lexer;
                c.expand(&mut |w: &str| {
                    lexer
                        .process_word(w, &env)
                        .map_err(|e| Error::at(span, e.message))
                })?;
                let Command::Run(r) = c else { return Ok(()) };
                for m in &r.mounts {
                    match m.kind {
                        MountType::Secret => {
                            let mut id = if m.source.is_empty() {
                                m.id.clone()
                            } else {
                                m.source.clone()
                            };
                            if id.is_empty() {
                                if m.target.is_empty() {
                                    return Err(Error::at(span, "one of source, target required"));
                                }
                                id = m
                                    .target
                                    .trim_end_matches('/')
                                    .rsplit('/')
                                    .next()
                                    .unwrap_or_default()
                                    .to_string();
                                if id.is_empty() {
                                    id = "/".into();
                                }
                            }
                            let seq = self.next_seq();
                            let info = MountInfo {
                                required: m.required,
                                span,
                                seq,
                            };
                            self.stages[i].capture.secrets.entry(id).or_insert(info);
                        }
                        MountType::Ssh => {
                            if !m.source.is_empty() {
                                return Err(Error::at(span, "ssh does not support source"));
                            }
                            let id = if m.id.is_empty() {
                                "default".to_string()
                            } else {
                                m.id.clone()
                            };
                            let seq = self.next_seq();
                            let info = MountInfo {
                                required: m.required,
                                span,
                                seq,
                            };
                            self.stages[i].capture.ssh.entry(id).or_insert(info);
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The target's args, then its base's, then its dependencies' (first definition wins).
    fn collect(&mut self, target: usize) -> (Vec<ArgInfo>, Vec<NamedMount>, Vec<NamedMount>) {
        let mut args = Vec::new();
        let mut secrets = Vec::new();
        let mut ssh = Vec::new();
        let (mut seen_args, mut seen_secrets, mut seen_ssh) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        let mut visited = BTreeSet::new();
        let mut order = Vec::new();
        // Depth-first, self before base before deps; a stage seen again adds nothing new.
        fn walk(w: &Walker, i: usize, visited: &mut BTreeSet<usize>, order: &mut Vec<usize>) {
            if !visited.insert(i) {
                return;
            }
            order.push(i);
            if let Some(b) = w.stages[i].base_stage {
                walk(w, b, visited, order);
            }
            for &d in &w.stages[i].deps {
                walk(w, d, visited, order);
            }
        }
        walk(self, target, &mut visited, &mut order);
        for i in order {
            let cap = &mut self.stages[i].capture;
            cap.mark_all_used();
            let mut mine: Vec<&ArgInfo> = cap
                .used
                .iter()
                .filter_map(|k| cap.all.get(k))
                .filter(|a| !seen_args.contains(&a.name))
                .collect();
            mine.sort_by_key(|a| a.seq);
            for a in mine {
                seen_args.insert(a.name.clone());
                args.push(a.clone());
            }
            for (list, seen, src) in [
                (&mut secrets, &mut seen_secrets, &cap.secrets),
                (&mut ssh, &mut seen_ssh, &cap.ssh),
            ] {
                let mut mine: Vec<(&String, &MountInfo)> =
                    src.iter().filter(|(k, _)| !seen.contains(*k)).collect();
                mine.sort_by_key(|(_, m)| m.seq);
                for (k, m) in mine {
                    seen.insert(k.clone());
                    list.push((k.clone(), m.clone()));
                }
            }
        }
        args.sort_by_key(|a| a.span.start);
        secrets.sort_by_key(|(_, m)| m.span.start);
        ssh.sort_by_key(|(_, m)| m.span.start);
        (args, secrets, ssh)
    }
}

/// Compute the outline of the target `opts` selects. `resolved` holds the base images' configs
/// (their `ENV` feeds ARG defaults, their `ONBUILD` triggers run); a missing one counts as an
/// image without env.
pub fn compute_outline(
    text: &str,
    opts: &OutlineOpts,
    resolved: &ResolvedImages,
) -> Result<Outline> {
    let df = parser::parse(text)?;
    let comments = subrequests::prev_comments(text, &df.nodes);
    let parsed = instructions::parse(&df)?;
    if parsed.stages.is_empty() {
        return Err(Error::new("dockerfile contains no stages to build"));
    }
    let target_name = opts.target.clone().unwrap_or_else(|| {
        parsed
            .stages
            .last()
            .and_then(|s| s.name.clone())
            .unwrap_or_default()
    });
    let mut w = Walker {
        opts,
        resolved,
        lexer: Lexer::new(df.directives.escape),
        comments,
        global: default_args(&opts.platform, &target_name, &opts.build_args),
        stages: Vec::new(),
        by_name: BTreeMap::new(),
        seq: 0,
    };
    let global_capture = w.meta_args(&parsed.meta_args)?;

    for stage in parsed.stages {
        let (base, mut used) = expand(&w.lexer, &stage.base, &w.global, stage.span)?;
        if base.is_empty() {
            return Err(Error::at(
                stage.span,
                format!("base name ({}) should not be blank", stage.base),
            ));
        }
        let platform = match &stage.platform {
            None => opts.platform.clone(),
            Some(p) => {
                let (v, matched) = expand(&w.lexer, p, &w.global, stage.span)?;
                used.extend(matched);
                if v.is_empty() {
                    return Err(Error::at(
                        stage.span,
                        format!("empty platform value from expression {p}"),
                    ));
                }
                Platform::parse(&v).map_err(|e| {
                    Error::at(
                        stage.span,
                        format!("failed to parse platform {p}: {}", e.message),
                    )
                })?
            }
        };
        let replaced = stage.name.as_deref().is_some_and(|n| w.is_named_context(n));
        let base_stage = w.by_name.get(&base).copied();
        let mut capture = match base_stage {
            Some(b) => w.stages[b].capture.clone(),
            None => global_capture.clone(),
        };
        if !replaced {
            capture.used.extend(used);
        }
        let idx = w.stages.len();
        if let Some(n) = &stage.name {
            w.by_name.insert(n.to_lowercase(), idx);
        }
        w.stages.push(StageInfo {
            name: stage.name.clone(),
            base,
            base_stage: if replaced { None } else { base_stage },
            platform,
            span: stage.span,
            commands: stage
                .commands
                .into_iter()
                .map(|command| OCmd {
                    command,
                    onbuild: false,
                })
                .collect(),
            deps: BTreeSet::new(),
            replaced,
            onbuild_done: false,
            capture,
            env: Vars::default(),
            image_env: Vars::default(),
        });
    }
    let target = match &opts.target {
        None => w.stages.len() - 1,
        Some(t) => *w
            .by_name
            .get(&t.to_lowercase())
            .ok_or_else(|| Error::new(format!("target stage \"{t}\" could not be found")))?,
    };
    for i in 0..w.stages.len() {
        let commands = std::mem::take(&mut w.stages[i].commands);
        for c in &commands {
            w.link(i, &c.command)?;
        }
        w.stages[i].commands = commands;
    }
    w.add_onbuild_triggers(target)?;
    for i in w.reachable(target) {
        if !w.stages[i].replaced {
            w.dispatch(i)?;
        }
    }

    let (args, secrets, ssh) = w.collect(target);
    let t = &w.stages[target];
    let name = t.name.clone().unwrap_or_default();
    let description = doc_comment(w.comments_at(t.span.start), &name);
    let mount = |(name, m): (String, MountInfo)| OutlineMount {
        name,
        required: m.required,
        span: m.span,
    };
    Ok(Outline {
        name,
        description,
        args: args
            .into_iter()
            .map(|a| OutlineArg {
                name: a.name,
                description: a.description,
                value: a.value,
                span: a.span,
            })
            .collect(),
        secrets: secrets.into_iter().map(mount).collect(),
        ssh: ssh.into_iter().map(mount).collect(),
    })
}

/// The options an outline is computed with: the stock frontend outlines for the build
/// platform, whatever `--platform` says.
pub fn outline_build_opts(opts: &BuildOpts) -> BuildOpts {
    let mut opts = opts.clone();
    opts.platforms.clear();
    opts.multi_platform = false;
    opts
}

/// The `frontend.outline` subrequest: resolve the base images as a build would (same errors,
/// same warnings), then compute and return the outline. `req` carries [`outline_build_opts`].
pub(super) async fn outline_request(
    gw: &Gateway,
    df: &LoadedDockerfile,
    text: &str,
    req: &ConvertRequest,
) -> Result<gw::Result, GatewayError> {
    // The outline never builds: files of intermediate states stay unknown.
    let mut resolver = GatewayResolver::new(gw, &req.opts, Files::Unknown);
    let done = convert_all(&mut resolver, text, req).await?;
    send_warnings(gw, df, &done.warnings).await;
    let resolved = done.resolved;
    let outline = compute_outline(text, &OutlineOpts::from_build_opts(&req.opts), &resolved)?;
    Ok(subrequests::outline_result(&df.source, &outline))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::ResolvedImage;

    fn amd64() -> Platform {
        Platform::new("linux", "amd64", "")
    }

    fn image(env: &[&str], onbuild: &[&str]) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {"Env": env, "OnBuild": onbuild},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:0000000000000000000000000000000000000000000000000000000000000000"]},
        }))
        .unwrap()
    }

    fn resolved(images: &[(&str, Vec<u8>)]) -> ResolvedImages {
        let mut r = ResolvedImages::default();
        for (name, config) in images {
            let reference = normalize_reference(name).unwrap().full();
            r.images.insert(
                (reference.clone(), amd64().id()),
                ResolvedImage {
                    reference,
                    digest: None,
                    config: config.clone(),
                },
            );
        }
        r
    }

    fn busybox() -> ResolvedImages {
        resolved(&[("busybox", image(&["PATH=/bin:/usr/bin"], &[]))])
    }

    fn opts(target: Option<&str>, args: &[(&str, &str)]) -> OutlineOpts {
        OutlineOpts {
            target: target.map(str::to_string),
            build_args: args
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            platform: amd64(),
            named_contexts: BTreeSet::new(),
        }
    }

    /// `NAME=VALUE@LINE "description"` per arg, for compact assertions.
    fn args(o: &Outline) -> Vec<String> {
        o.args
            .iter()
            .map(|a| {
                let mut s = format!("{}={}@{}", a.name, a.value, a.span.start);
                if !a.description.is_empty() {
                    s += &format!(" {:?}", a.description);
                }
                s
            })
            .collect()
    }

    fn mounts(list: &[OutlineMount]) -> Vec<String> {
        list.iter()
            .map(|m| {
                format!(
                    "{}{}@{}",
                    m.name,
                    if m.required { "!" } else { "" },
                    m.span.start
                )
            })
            .collect()
    }

    const MAIN: &str = "\
# GO_VERSION the Go version
ARG GO_VERSION=1.22
ARG UNUSED_GLOBAL=nope
# BASE base image
ARG BASE=busybox

FROM ${BASE} AS deps
# DEP_ARG used by deps
ARG DEP_ARG=dep
RUN --mount=type=secret,id=npmrc,required=true true

FROM busybox AS unused
# UNUSED_ARG never listed
ARG UNUSED_ARG=x
RUN --mount=type=secret,id=never true

# final the image we ship
FROM deps AS final
ARG GO_VERSION
# FINAL_ARG description here
ARG FINAL_ARG=$GO_VERSION-suffix
ARG NODEFAULT
RUN --mount=type=ssh true
RUN --mount=type=secret,id=token true
COPY --from=deps /a /b
";

    #[test]
    fn target_and_the_stages_it_uses() {
        let o = compute_outline(MAIN, &opts(None, &[]), &busybox()).unwrap();
        assert_eq!(o.name, "final");
        assert_eq!(o.description, "the image we ship");
        assert_eq!(
            args(&o),
            [
                "GO_VERSION=1.22@2 \"the Go version\"",
                "BASE=busybox@5 \"base image\"",
                "DEP_ARG=dep@9 \"used by deps\"",
                "FINAL_ARG=1.22-suffix@21 \"description here\"",
                "NODEFAULT=@22",
            ]
        );
        assert_eq!(mounts(&o.secrets), ["npmrc!@10", "token@24"]);
        assert_eq!(mounts(&o.ssh), ["default@23"]);
    }

    #[test]
    fn build_args_override_values() {
        let o = compute_outline(
            MAIN,
            &opts(
                None,
                &[
                    ("GO_VERSION", "1.23"),
                    ("NODEFAULT", "set"),
                    ("DEP_ARG", "cli"),
                ],
            ),
            &busybox(),
        )
        .unwrap();
        // A bare ARG given a value on the command line records its own definition.
        assert_eq!(
            args(&o),
            [
                "BASE=busybox@5 \"base image\"",
                "DEP_ARG=cli@9 \"used by deps\"",
                "GO_VERSION=1.23@19",
                "FINAL_ARG=1.23-suffix@21 \"description here\"",
                "NODEFAULT=set@22",
            ]
        );
    }

    #[test]
    fn another_target() {
        let o = compute_outline(MAIN, &opts(Some("unused"), &[]), &busybox()).unwrap();
        assert_eq!(o.name, "unused");
        assert_eq!(o.description, "");
        assert_eq!(args(&o), ["UNUSED_ARG=x@14 \"never listed\""]);
        assert_eq!(mounts(&o.secrets), ["never@15"]);
        assert!(o.ssh.is_empty());
        let e = compute_outline(MAIN, &opts(Some("nope"), &[]), &busybox()).unwrap_err();
        assert_eq!(e.message, "target stage \"nope\" could not be found");
    }

    #[test]
    fn global_args_used_by_from_pull_in_their_dependencies() {
        let text = "\
# REPO image repo
ARG REPO=docker.io/library
ARG NAME=busy
# IMG the image
ARG IMG=${REPO}/${NAME}box
ARG TAG=latest
ARG LONELY=1
FROM ${IMG}:${TAG} AS base
# X an x
ARG X=1
ARG IMG
ARG TAG=stage
FROM base AS final
ARG Z
";
        let o = compute_outline(text, &opts(None, &[]), &busybox()).unwrap();
        // The child's copy of the global TAG definition wins over the base stage's own ARG.
        assert_eq!(
            args(&o),
            [
                "REPO=docker.io/library@2 \"image repo\"",
                "NAME=busy@3",
                "IMG=docker.io/library/busybox@5 \"the image\"",
                "TAG=latest@6",
                "X=1@10 \"an x\"",
                "Z=@14",
            ]
        );
        let o = compute_outline(text, &opts(Some("base"), &[]), &busybox()).unwrap();
        assert_eq!(
            args(&o),
            [
                "REPO=docker.io/library@2 \"image repo\"",
                "NAME=busy@3",
                "IMG=docker.io/library/busybox@5 \"the image\"",
                "X=1@10 \"an x\"",
                "TAG=stage@12",
            ]
        );
    }

    #[test]
    fn automatic_platform_args() {
        let text = "\
ARG TARGETPLATFORM
ARG V=$TARGETARCH-$BUILDOS-$TARGETSTAGE
FROM --platform=$TARGETPLATFORM busybox${V:+} AS one
ARG TARGETARCH
ARG BUILDPLATFORM=mine
ARG W=$V
";
        let o = compute_outline(text, &opts(None, &[]), &busybox()).unwrap();
        // A global ARG naming an automatic arg is listed (empty); a bare one in a stage is not;
        // global args are not in a stage's environment.
        assert_eq!(
            args(&o),
            [
                "TARGETPLATFORM=@1",
                "V=amd64-linux-one@2",
                "BUILDPLATFORM=mine@5",
                "W=@6"
            ]
        );
    }

    #[test]
    fn values_use_the_stage_environment() {
        let text = "\
ARG C=x D=y
FROM busybox
ARG P=$PATH
ENV E=env
ARG Q=${E}-q
ARG C
ARG SID=mysecret
RUN --mount=type=secret,target=/run/x/foo --mount=type=secret,id=$SID,required \\
    --mount=type=ssh,id=agent,required=true --mount=type=secret,source=srcid true
RUN --mount=type=secret,id=mysecret true
";
        let o = compute_outline(text, &opts(None, &[]), &busybox()).unwrap();
        assert_eq!(o.name, "");
        assert_eq!(
            args(&o),
            ["C=x@1", "P=/bin:/usr/bin@3", "Q=env-q@5", "SID=mysecret@7"]
        );
        assert_eq!(mounts(&o.secrets), ["foo@8", "mysecret!@8", "srcid@8"]);
        assert_eq!(o.secrets[0].span, Span::new(8, 9));
        assert_eq!(mounts(&o.ssh), ["agent!@8"]);
        // Scratch (and an unresolved image) still has the default PATH.
        let o = compute_outline(
            "FROM scratch\nARG P=$PATH\n",
            &opts(None, &[]),
            &ResolvedImages::default(),
        )
        .unwrap();
        assert_eq!(
            args(&o),
            ["P=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin@2"]
        );
    }

    #[test]
    fn onbuild_triggers_of_images_and_stages() {
        let images = resolved(&[
            ("busybox", image(&["PATH=/bin"], &[])),
            (
                "parent",
                image(
                    &["PATH=/bin", "OBENV=img"],
                    &[
                        "ARG OB_ARG=trig-$OBENV",
                        "RUN --mount=type=secret,id=obsecret true",
                    ],
                ),
            ),
        ]);
        let text = "\
FROM parent AS ob
ARG AFTER=$OB_ARG
FROM busybox AS st
ONBUILD ARG FROMSTAGE=1
ONBUILD RUN --mount=type=ssh,id=obssh true
FROM st AS child
COPY --from=ob /a /b
";
        let o = compute_outline(text, &opts(None, &[]), &images).unwrap();
        assert_eq!(
            args(&o),
            ["OB_ARG=trig-img@1", "AFTER=trig-img@2", "FROMSTAGE=1@6"]
        );
        assert_eq!(mounts(&o.secrets), ["obsecret@1"]);
        assert_eq!(mounts(&o.ssh), ["obssh@6"]);
    }

    #[test]
    fn mount_from_and_copy_from_are_dependencies() {
        let text = "\
FROM busybox AS a
ARG A=1
FROM busybox AS b
ARG B=2
FROM busybox AS c
ARG C=3
FROM busybox
RUN --mount=from=a,target=/a --mount=type=cache,target=/c true
COPY --from=1 /x /y
COPY --from=busybox /x /z
";
        let o = compute_outline(text, &opts(None, &[]), &busybox()).unwrap();
        assert_eq!(args(&o), ["A=1@2", "B=2@4"]);
    }

    #[test]
    fn a_named_context_replaces_a_stage() {
        let text = "FROM busybox AS dep\nARG D=1\nFROM busybox\nCOPY --from=dep /a /b\n";
        let mut o = opts(None, &[]);
        o.named_contexts.insert("dep".into());
        assert!(compute_outline(text, &o, &busybox())
            .unwrap()
            .args
            .is_empty());
    }

    #[test]
    fn errors_are_errors() {
        assert!(compute_outline("", &opts(None, &[]), &busybox()).is_err());
        assert!(compute_outline("ARG A\n", &opts(None, &[]), &busybox()).is_err());
        let e = compute_outline(
            "FROM busybox\nRUN --mount=type=ssh,source=x true\n",
            &opts(None, &[]),
            &busybox(),
        )
        .unwrap_err();
        assert_eq!(e.span, Some(Span::line(2)));
        let e = compute_outline(
            "FROM busybox\nARG A=${B:?nope}\n",
            &opts(None, &[]),
            &busybox(),
        )
        .unwrap_err();
        assert_eq!(e.span, Some(Span::line(2)));
    }
}
