//! Parser nodes to typed instructions and stages (stock `instructions.Parse`).

use super::bflag::BFlags;
use super::commands::*;
use super::goparse::{format_duration, parse_duration, parse_i32};
use super::heredoc::{chomp_heredoc_content, parse_heredoc_marker};
use super::mount::{mount_from_unexpanded, parse_device, Mount};
use super::suggest;
use crate::error::{Error, Result, Warning};
use crate::lint::rules;
use crate::parser::{Dockerfile, Node};

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedFile {
    /// ARG instructions before the first FROM (global build args).
    pub meta_args: Vec<ArgCommand>,
    pub stages: Vec<Stage>,
    /// Build-check warnings found while typing (`MaintainerDeprecated`, `StageNameCasing`,
    /// `FromAsCasing`). The parser's own warnings (`Dockerfile::warnings`) are not copied here.
    pub warnings: Vec<Warning>,
}

/// One typed instruction: FROM starts a stage, everything else is a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instruction {
    Stage(Stage),
    Command(Command),
}

/// All instruction names, for "did you mean" on unknown instructions.
const INSTRUCTIONS: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Type a whole Dockerfile and group it into stages. Errors name the line like the stock
/// frontend (`dockerfile parse error on line N: ...`) and carry the node's span.
pub fn parse(df: &Dockerfile) -> Result<ParsedFile> {
    let mut out = ParsedFile::default();
    for node in &df.nodes {
        let ins = match parse_instruction(node, &mut out.warnings) {
            Ok(ins) => ins,
            Err(e) => {
                let message = format!(
                    "dockerfile parse error on line {}: {}",
                    node.span.start, e.message
                );
                return Err(Error::at(node.span, message).with_warnings(out.warnings));
            }
        };
        match ins {
            Instruction::Command(Command::Arg(a)) if out.stages.is_empty() => out.meta_args.push(a),
            Instruction::Stage(s) => out.stages.push(s),
            Instruction::Command(c) => match out.stages.last_mut() {
                Some(stage) => stage.commands.push(c),
                None => {
                    return Err(Error::at(node.span, "no build stage in current context")
                        .with_warnings(out.warnings))
                }
            },
        }
    }
    Ok(out)
}

/// Type one non-FROM instruction (e.g. an ONBUILD trigger read from a base image, after
/// parsing its text with the parser). FROM is an error, as in the stock `ParseCommand`.
pub fn parse_command(node: &Node) -> Result<Command> {
    let mut warnings = Vec::new();
    match parse_instruction(node, &mut warnings)? {
        Instruction::Command(c) => Ok(c),
        Instruction::Stage(_) => Err(Error::at(
            node.span,
            "*instructions.Stage is not a command type",
        )),
    }
}

/// Type one instruction, FROM included (stock `ParseInstruction`). Errors carry the node span
/// and the bare stock message (without the `dockerfile parse error on line N` prefix).
pub fn parse_instruction(node: &Node, warnings: &mut Vec<Warning>) -> Result<Instruction> {
    let req = Req::new(node);
    let r = match node.keyword.as_str() {
        "from" => {
            lint_from(&req, warnings);
            let stage = parse_from(&req).map_err(|m| Error::at(node.span, m))?;
            if let Some(name) = &stage.name {
                lint_description("FROM", std::slice::from_ref(name), node, warnings);
            }
            return Ok(Instruction::Stage(stage));
        }
        "env" => parse_env(&req).map(Command::Env),
        "maintainer" => {
            warnings.push(rules::MAINTAINER_DEPRECATED.warn(
                node.span,
                "Maintainer instruction is deprecated in favor of using label",
            ));
            parse_maintainer(&req).map(Command::Maintainer)
        }
        "label" => parse_label(&req).map(Command::Label),
        "add" => parse_add(&req).map(Command::Add),
        "copy" => parse_copy(&req).map(Command::Copy),
        "onbuild" => parse_onbuild(&req).map(Command::Onbuild),
        "workdir" => parse_workdir(&req).map(Command::Workdir),
        "run" => parse_run(&req).map(Command::Run),
        "cmd" => parse_cmd(&req).map(Command::Cmd),
        "healthcheck" => parse_healthcheck(&req).map(Command::Healthcheck),
        "entrypoint" => parse_entrypoint(&req).map(Command::Entrypoint),
        "expose" => parse_expose(&req).map(Command::Expose),
        "user" => parse_user(&req).map(Command::User),
        "volume" => parse_volume(&req).map(Command::Volume),
        "stopsignal" => parse_stopsignal(&req).map(Command::StopSignal),
        "arg" => parse_arg(&req).map(|a| {
            let keys: Vec<String> = a.args.iter().map(|(k, _)| k.clone()).collect();
            lint_description("ARG", &keys, node, warnings);
            Command::Arg(a)
        }),
        "shell" => parse_shell(&req).map(Command::Shell),
        _ => {
            let msg = format!("unknown instruction: {}", req.keyword);
            Err(suggest::wrap(msg, &req.keyword, &INSTRUCTIONS, false))
        }
    };
    r.map(Instruction::Command)
        .map_err(|m| Error::at(node.span, m))
}

type R<T> = std::result::Result<T, String>;

/// What every instruction parser gets (stock `parseRequest`).
struct Req<'a> {
    node: &'a Node,
    /// The keyword as written.
    keyword: String,
    args: &'a [String],
    flags: BFlags,
    /// The instruction text, trimmed (stock `withNameAndCode.code`).
    code: String,
}

impl<'a> Req<'a> {
    fn new(node: &'a Node) -> Self {
        let first = node.original.split_whitespace().next().unwrap_or("");
        let keyword = if first.to_lowercase() == node.keyword {
            first.to_string()
        } else {
            node.keyword.clone()
        };
        Req {
            node,
            keyword,
            args: &node.args,
            flags: BFlags::new(&node.flags),
            code: node.original.trim().to_string(),
        }
    }

    fn json(&self) -> bool {
        self.node.json
    }

    /// Stock `handleJSONArgs`: the array for JSON form, else all words joined into one string.
    fn cmd_args(&self, args: &[String]) -> Vec<String> {
        if args.is_empty() {
            Vec::new()
        } else if self.json() {
            args.to_vec()
        } else {
            vec![args.join(" ")]
        }
    }

    fn cmdline(&self) -> ShellOrExec {
        if self.json() {
            ShellOrExec::Exec(self.args.to_vec())
        } else {
            ShellOrExec::Shell(self.args.join(" "))
        }
    }

    fn files(&self) -> Vec<InlineFile> {
        self.node
            .heredocs
            .iter()
            .map(|h| InlineFile {
                name: h.name.clone(),
                data: h.content.clone(),
                chomp: h.chomp,
            })
            .collect()
    }
}

fn at_least_one(cmd: &str) -> String {
    format!("{cmd} requires at least one argument")
}

fn exactly_one(cmd: &str) -> String {
    format!("{cmd} requires exactly one argument")
}

fn no_destination(cmd: &str) -> String {
    format!(
        "{cmd} requires at least two arguments, but only one was provided. Destination could not be determined"
    )
}

fn blank_names(cmd: &str) -> String {
    format!("{cmd} names can not be blank")
}

fn lint_from(req: &Req<'_>, warnings: &mut Vec<Warning>) {
    if req.args.len() == 3 && req.args[2] != req.args[2].to_lowercase() {
        warnings.push(rules::STAGE_NAME_CASING.warn(
            req.node.span,
            format!("Stage name '{}' should be lowercase", req.args[2]),
        ));
    }
    if req.args.len() >= 3 {
        let cmd = &req.keyword;
        let lower = *cmd == cmd.to_lowercase();
        let upper = *cmd == cmd.to_uppercase();
        let as_ = &req.args[1];
        let ok = if lower {
            *as_ == as_.to_lowercase()
        } else if upper {
            *as_ == as_.to_uppercase()
        } else {
            true
        };
        if !ok {
            warnings.push(rules::FROM_AS_CASING.warn(
                req.node.span,
                format!("'{as_}' and '{cmd}' keywords' casing do not match"),
            ));
        }
    }
}

/// `InvalidDefinitionDescription`: the last comment above a named stage or an ARG should start
/// with the name it describes.
fn lint_description(instruction: &str, keys: &[String], node: &Node, warnings: &mut Vec<Warning>) {
    let (Some(last), Some(first)) = (node.comments.last(), keys.first()) else {
        return;
    };
    let word = last.split(' ').next().unwrap_or("");
    if keys.iter().any(|k| k == word) {
        return;
    }
    let example = if keys.len() > 1 {
        "<arg_key>"
    } else {
        first.as_str()
    };
    warnings.push(rules::INVALID_DEFINITION_DESCRIPTION.warn(
        node.span,
        format!("Comment for {instruction} should follow the format: `# {example} <description>`"),
    ));
}

fn valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-' | '_' | '.'))
}

fn parse_from(req: &Req<'_>) -> R<Stage> {
    let args = req.args;
    let name = if args.len() == 3 && args[1].eq_ignore_ascii_case("as") {
        let name = args[2].to_lowercase();
        if !valid_stage_name(&name) {
            return Err(format!(
                "invalid name for build stage: {:?}, name can't start with a number or contain symbols",
                args[2]
            ));
        }
        Some(name)
    } else if args.len() != 1 {
        return Err("FROM requires either one or three arguments".into());
    } else {
        None
    };
    let mut flags = req.flags.clone();
    flags.add_string("platform", "");
    flags.parse()?;
    let platform = flags.string("platform");
    Ok(Stage {
        name,
        base: args[0].clone(),
        platform: (!platform.is_empty()).then_some(platform),
        commands: Vec::new(),
        span: req.node.span,
        original: req.code.clone(),
        keyword: req.keyword.clone(),
    })
}

/// `(pairs, legacy_format)` from name/value/delimiter triples.
fn parse_kvs(args: &[String], cmd: &str) -> R<(Vec<(String, String)>, bool)> {
    if args.is_empty() {
        return Err(at_least_one(cmd));
    }
    if args.len() % 3 != 0 {
        return Err(format!("Bad input to {cmd}, too many arguments"));
    }
    let mut pairs = Vec::new();
    let mut legacy = false;
    for t in args.chunks(3) {
        if t[0].is_empty() {
            return Err(blank_names(cmd));
        }
        legacy |= t[2].is_empty();
        pairs.push((t[0].clone(), t[1].clone()));
    }
    Ok((pairs, legacy))
}

fn parse_env(req: &Req<'_>) -> R<EnvCommand> {
    req.flags.clone().parse()?;
    let (pairs, legacy_format) = parse_kvs(req.args, "ENV")?;
    Ok(EnvCommand {
        span: req.node.span,
        original: req.code.clone(),
        pairs,
        legacy_format,
    })
}

fn parse_label(req: &Req<'_>) -> R<LabelCommand> {
    req.flags.clone().parse()?;
    let (pairs, legacy_format) = parse_kvs(req.args, "LABEL")?;
    Ok(LabelCommand {
        span: req.node.span,
        original: req.code.clone(),
        pairs,
        legacy_format,
        no_expand: false,
    })
}

fn parse_maintainer(req: &Req<'_>) -> R<MaintainerCommand> {
    if req.args.len() != 1 {
        return Err(exactly_one("MAINTAINER"));
    }
    req.flags.clone().parse()?;
    Ok(MaintainerCommand {
        span: req.node.span,
        original: req.code.clone(),
        maintainer: req.args[0].clone(),
    })
}

struct SourcesAndDest {
    sources: Vec<String>,
    contents: Vec<SourceContent>,
    dest: String,
}

fn sources_and_dest(req: &Req<'_>, cmd: &str) -> R<SourcesAndDest> {
    let (dest, srcs) = req.args.split_last().expect("checked: at least two args");
    if parse_heredoc_marker(dest).is_some() {
        return Err(format!("{cmd} cannot accept a heredoc as a destination"));
    }
    let mut sources = Vec::new();
    let mut contents = Vec::new();
    for src in srcs {
        match parse_heredoc_marker(src) {
            Some(m) => {
                let body = req
                    .node
                    .heredocs
                    .iter()
                    .rev()
                    .find(|h| h.name == m.name)
                    .map(|h| h.content.clone())
                    .unwrap_or_default();
                let data = if m.chomp {
                    chomp_heredoc_content(&body)
                } else {
                    body
                };
                contents.push(SourceContent {
                    path: m.name,
                    data,
                    expand: m.expand,
                });
            }
            None => sources.push(src.clone()),
        }
    }
    Ok(SourcesAndDest {
        sources,
        contents,
        dest: dest.clone(),
    })
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn parse_add(req: &Req<'_>) -> R<AddCommand> {
    if req.args.len() < 2 {
        return Err(no_destination("ADD"));
    }
    let mut f = req.flags.clone();
    f.add_string("chown", "");
    f.add_string("chmod", "");
    f.add_bool("link", false);
    f.add_bool("keep-git-dir", false);
    f.add_string("checksum", "");
    f.add_bool("unpack", false);
    f.add_strings("exclude");
    f.parse()?;
    let sd = sources_and_dest(req, "ADD")?;
    Ok(AddCommand {
        span: req.node.span,
        original: req.code.clone(),
        sources: sd.sources,
        contents: sd.contents,
        dest: sd.dest,
        chown: non_empty(f.string("chown")),
        chmod: non_empty(f.string("chmod")),
        link: f.bool("link"),
        exclude: f.strings("exclude"),
        keep_git_dir: f.is_used("keep-git-dir").then(|| f.bool("keep-git-dir")),
        checksum: non_empty(f.string("checksum")),
        unpack: f.is_used("unpack").then(|| f.bool("unpack")),
    })
}

fn parse_copy(req: &Req<'_>) -> R<CopyCommand> {
    if req.args.len() < 2 {
        return Err(no_destination("COPY"));
    }
    let mut f = req.flags.clone();
    f.add_string("chown", "");
    f.add_string("from", "");
    f.add_string("chmod", "");
    f.add_bool("link", false);
    f.add_strings("exclude");
    f.add_bool("parents", false);
    f.parse()?;
    let sd = sources_and_dest(req, "COPY")?;
    Ok(CopyCommand {
        span: req.node.span,
        original: req.code.clone(),
        sources: sd.sources,
        contents: sd.contents,
        dest: sd.dest,
        from: non_empty(f.string("from")),
        chown: non_empty(f.string("chown")),
        chmod: non_empty(f.string("chmod")),
        link: f.bool("link"),
        parents: f.bool("parents"),
        exclude: f.strings("exclude"),
    })
}

fn parse_onbuild(req: &Req<'_>) -> R<OnbuildCommand> {
    let inner = req.node.inner.as_deref();
    let trigger = match inner {
        Some(n) => n.keyword.clone(),
        None => match req.args.first() {
            Some(a) => a.split_whitespace().next().unwrap_or("").to_string(),
            None => return Err(at_least_one("ONBUILD")),
        },
    };
    req.flags.clone().parse()?;
    let trigger = trigger.trim().to_uppercase();
    match trigger.as_str() {
        "ONBUILD" => return Err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into()),
        "MAINTAINER" | "FROM" => {
            return Err(format!("{trigger} isn't allowed as an ONBUILD trigger"))
        }
        _ => {}
    }
    let mut expression = strip_onbuild(&req.node.original).to_string();
    let heredocs = if req.node.heredocs.is_empty() {
        inner.map(|n| n.heredocs.as_slice()).unwrap_or(&[])
    } else {
        req.node.heredocs.as_slice()
    };
    for h in heredocs {
        expression.push('\n');
        expression.push_str(&h.content);
        expression.push_str(&h.name);
    }
    Ok(OnbuildCommand {
        span: req.node.span,
        original: req.code.clone(),
        expression,
        inner: inner.cloned(),
    })
}

/// Remove `(?i)^\s*ONBUILD\s*` from the start of `s`.
fn strip_onbuild(s: &str) -> &str {
    let t = s.trim_start();
    match t.get(..7) {
        Some(k) if k.eq_ignore_ascii_case("onbuild") => t[7..].trim_start(),
        _ => s,
    }
}

fn parse_workdir(req: &Req<'_>) -> R<WorkdirCommand> {
    if req.args.len() != 1 {
        return Err(exactly_one("WORKDIR"));
    }
    req.flags.clone().parse()?;
    Ok(WorkdirCommand {
        span: req.node.span,
        original: req.code.clone(),
        path: req.args[0].clone(),
    })
}

fn parse_run(req: &Req<'_>) -> R<RunCommand> {
    let mut f = req.flags.clone();
    f.add_strings("device");
    f.add_strings("mount");
    f.add_string("network", "default");
    f.add_string("security", "sandbox");
    f.parse()?;
    let flags_used = f.used();
    let cmd = req.cmdline();
    let files = req.files();

    // Post-parse checks, in the stock hook order (device, mount, network, security).
    let devices = f
        .strings("device")
        .iter()
        .map(|d| parse_device(d))
        .collect::<R<Vec<_>>>()?;
    let mount_specs = f.strings("mount");
    let mounts = mount_specs
        .iter()
        .map(|m| {
            Ok(Mount {
                from: mount_from_unexpanded(m)?,
                read_only: true,
                ..Mount::default()
            })
        })
        .collect::<R<Vec<_>>>()?;
    let network = match f.string("network").as_str() {
        "default" => NetworkMode::Default,
        "none" => NetworkMode::None,
        "host" => NetworkMode::Host,
        other => return Err(format!("invalid network mode {other:?}")),
    };
    let security = match f.string("security").as_str() {
        "sandbox" => SecurityMode::Sandbox,
        "insecure" => SecurityMode::Insecure,
        other => return Err(format!("security {other:?} is not valid")),
    };
    Ok(RunCommand {
        span: req.node.span,
        original: req.code.clone(),
        cmd,
        files,
        mount_specs,
        mounts,
        network,
        security,
        devices,
        flags_used,
    })
}

fn parse_cmd(req: &Req<'_>) -> R<CmdCommand> {
    req.flags.clone().parse()?;
    Ok(CmdCommand {
        span: req.node.span,
        original: req.code.clone(),
        cmd: req.cmdline(),
    })
}

fn parse_entrypoint(req: &Req<'_>) -> R<EntrypointCommand> {
    req.flags.clone().parse()?;
    Ok(EntrypointCommand {
        span: req.node.span,
        original: req.code.clone(),
        cmd: req.cmdline(),
    })
}

/// `parseOptInterval`: 0 when empty or zero, an error below 1ms.
fn opt_interval(name: &str, value: &str) -> R<i64> {
    if value.is_empty() {
        return Ok(0);
    }
    let d = parse_duration(value)?;
    if d == 0 {
        return Ok(0);
    }
    const MIN: i64 = 1_000_000;
    if d < MIN {
        return Err(format!(
            "Interval {name:?} cannot be less than {}",
            format_duration(MIN)
        ));
    }
    Ok(d)
}

fn parse_healthcheck(req: &Req<'_>) -> R<HealthcheckCommand> {
    let Some((typ, args)) = req.args.split_first() else {
        return Err(at_least_one("HEALTHCHECK"));
    };
    let mut typ = typ.to_uppercase();
    let span = req.node.span;
    let original = req.code.clone();
    if typ == "NONE" {
        if !args.is_empty() {
            return Err("HEALTHCHECK NONE takes no arguments".into());
        }
        return Ok(HealthcheckCommand {
            span,
            original,
            test: vec![typ],
            interval: 0,
            timeout: 0,
            start_period: 0,
            start_interval: 0,
            retries: 0,
        });
    }
    {
        let mut f = req.flags.clone();
        for name in [
            "interval",
            "timeout",
            "start-period",
            "start-interval",
            "retries",
        ] {
            f.add_string(name, "");
        }
        f.parse()?;
        if typ != "CMD" {
            return Err(format!("Unknown type {typ:?} in HEALTHCHECK (try CMD)"));
        }
        let cmd = req.cmd_args(args);
        if cmd.is_empty() {
            return Err("Missing command after HEALTHCHECK CMD".into());
        }
        if !req.json() {
            typ = "CMD-SHELL".into();
        }
        let mut test = vec![typ];
        test.extend(cmd);
        let interval = opt_interval("interval", &f.string("interval"))?;
        let timeout = opt_interval("timeout", &f.string("timeout"))?;
        let start_period = opt_interval("start-period", &f.string("start-period"))?;
        let start_interval = opt_interval("start-interval", &f.string("start-interval"))?;
        let r = f.string("retries");
        let retries = if r.is_empty() {
            0
        } else {
            let n = i64::from(parse_i32(&r)?);
            if n < 0 {
                return Err(format!("--retries cannot be negative ({n})"));
            }
            n
        };
        Ok(HealthcheckCommand {
            span,
            original,
            test,
            interval,
            timeout,
            start_period,
            start_interval,
            retries,
        })
    }
}

fn parse_expose(req: &Req<'_>) -> R<ExposeCommand> {
    if req.args.is_empty() {
        return Err(at_least_one("EXPOSE"));
    }
    req.flags.clone().parse()?;
    let mut ports = req.args.to_vec();
    ports.sort();
    Ok(ExposeCommand {
        span: req.node.span,
        original: req.code.clone(),
        ports,
    })
}

fn parse_user(req: &Req<'_>) -> R<UserCommand> {
    if req.args.len() != 1 {
        return Err(exactly_one("USER"));
    }
    req.flags.clone().parse()?;
    Ok(UserCommand {
        span: req.node.span,
        original: req.code.clone(),
        user: req.args[0].clone(),
    })
}

fn parse_volume(req: &Req<'_>) -> R<VolumeCommand> {
    if req.args.is_empty() {
        return Err(at_least_one("VOLUME"));
    }
    req.flags.clone().parse()?;
    let mut volumes = Vec::new();
    for v in req.args {
        let v = v.trim();
        if v.is_empty() {
            return Err("VOLUME specified can not be an empty string".into());
        }
        volumes.push(v.to_string());
    }
    Ok(VolumeCommand {
        span: req.node.span,
        original: req.code.clone(),
        volumes,
    })
}

/// STOPSIGNAL never looks at its flags in the stock frontend.
fn parse_stopsignal(req: &Req<'_>) -> R<StopSignalCommand> {
    if req.args.len() != 1 {
        return Err(exactly_one("STOPSIGNAL"));
    }
    Ok(StopSignalCommand {
        span: req.node.span,
        original: req.code.clone(),
        signal: req.args[0].clone(),
    })
}

/// ARG never looks at its flags in the stock frontend.
fn parse_arg(req: &Req<'_>) -> R<ArgCommand> {
    if req.args.is_empty() {
        return Err(at_least_one("ARG"));
    }
    let mut args = Vec::new();
    for a in req.args {
        let def = match a.split_once('=') {
            Some((k, v)) => {
                if k.is_empty() {
                    return Err(blank_names("ARG"));
                }
                (k.to_string(), Some(v.to_string()))
            }
            None => (a.clone(), None),
        };
        args.push(def);
    }
    Ok(ArgCommand {
        span: req.node.span,
        original: req.code.clone(),
        args,
    })
}

fn parse_shell(req: &Req<'_>) -> R<ShellCommand> {
    req.flags.clone().parse()?;
    let shell = req.cmd_args(req.args);
    if shell.is_empty() {
        return Err(at_least_one("SHELL"));
    }
    if !req.json() {
        return Err("SHELL requires the arguments to be in JSON form".into());
    }
    Ok(ShellCommand {
        span: req.node.span,
        original: req.code.clone(),
        shell,
    })
}
