//! The typed instructions. Values are kept exactly as written (unexpanded); the `expand` methods
//! apply a word expander the way the stock `Expand(SingleWordExpander)` methods do, so the
//! converter can expand with the stage's environment at dispatch time.

use super::mount::{self, Device, Mount};
use crate::error::{Result, Span};
use crate::parser::Node;

/// A word expander: takes one raw word, returns it expanded (normally
/// `Lexer::process_word` with the stage env, errors converted to `crate::Error`).
pub type Expander<'a> = dyn FnMut(&str) -> Result<String> + 'a;

/// A heredoc attached to a RUN/CMD/ENTRYPOINT (`ShellInlineFile`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineFile {
    pub name: String,
    /// The body as the parser gave it (not chomped: apply
    /// [`super::chomp_heredoc_content`] when `chomp`).
    pub data: String,
    pub chomp: bool,
}

/// The command line of RUN, CMD and ENTRYPOINT (stock `ShellDependantCmdLine` without the
/// heredoc files, which live on [`RunCommand::files`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellOrExec {
    /// Shell form: the command text as written (`""` when the instruction had no arguments).
    /// The converter prepends the stage's `SHELL` (default `/bin/sh -c`).
    Shell(String),
    /// Exec (JSON) form: the array elements.
    Exec(Vec<String>),
}

impl ShellOrExec {
    /// The stock `CmdLine`: `[text]` for shell form (`[]` when empty), the array for exec form.
    pub fn args(&self) -> Vec<String> {
        match self {
            ShellOrExec::Shell(s) if s.is_empty() => Vec::new(),
            ShellOrExec::Shell(s) => vec![s.clone()],
            ShellOrExec::Exec(v) => v.clone(),
        }
    }

    /// True for shell form (stock `PrependShell`).
    pub fn prepend_shell(&self) -> bool {
        matches!(self, ShellOrExec::Shell(_))
    }

    /// True for exec (JSON) form.
    pub fn is_exec(&self) -> bool {
        matches!(self, ShellOrExec::Exec(_))
    }
}

/// An inline (heredoc) source of COPY/ADD (`SourceContent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceContent {
    /// The heredoc name, used as the file name.
    pub path: String,
    /// The body, already chomped for `<<-`.
    pub data: String,
    /// Expand variables in `data` (unquoted delimiter); done by `expand_raw`.
    pub expand: bool,
}

/// `RUN [--mount=...] [--network=...] [--security=...] command`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunCommand {
    pub span: Span,
    pub original: String,
    pub cmd: ShellOrExec,
    /// Heredoc bodies, in marker order (stock `ShellInlineFile`s). When non-empty the command is
    /// shell form; if its text is a single heredoc marker ([`super::parse_heredoc_marker`]) the
    /// stock frontend runs the (chomped) body instead, else it appends each body and delimiter.
    pub files: Vec<InlineFile>,
    /// The `--mount` values as written.
    pub mount_specs: Vec<String>,
    /// The mounts. Right after parsing these are placeholders, exactly like the stock
    /// `GetMounts` before expansion: only `from` is filled (raw, from the unexpanded text; the
    /// stock frontend uses it to find the stages this RUN depends on) and everything else is the
    /// bind default. [`RunCommand::expand`] replaces them with the fully typed, validated,
    /// expanded mounts (mount options are only checked at dispatch, as in the stock frontend).
    pub mounts: Vec<Mount>,
    pub network: NetworkMode,
    pub security: SecurityMode,
    /// `--device` values (labs only; the stable frontend errors on them at dispatch).
    pub devices: Vec<Device>,
    /// Flags given, by name, in order (e.g. `["mount", "network"]`).
    pub flags_used: Vec<String>,
}

impl RunCommand {
    /// Expand and type the mounts (stock `RunCommand.Expand`), filling [`RunCommand::mounts`].
    pub fn expand(&mut self, f: &mut Expander<'_>) -> Result<()> {
        let mut mounts = Vec::with_capacity(self.mount_specs.len());
        for spec in &self.mount_specs {
            mounts.push(mount::parse_mount(spec, f)?);
        }
        self.mounts = mounts;
        Ok(())
    }
}

/// `--network=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetworkMode {
    #[default]
    Default,
    None,
    Host,
}

/// `--security=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecurityMode {
    #[default]
    Sandbox,
    Insecure,
}

/// `COPY [--from] [--chown] [--chmod] [--link] [--parents] [--exclude]... src... dest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyCommand {
    pub span: Span,
    pub original: String,
    /// File sources (not heredocs), as written.
    pub sources: Vec<String>,
    /// Heredoc sources.
    pub contents: Vec<SourceContent>,
    pub dest: String,
    /// `--from` (`None` = build context; an empty value counts as absent, as in the stock
    /// frontend). Not expanded by `expand`: the stock frontend rejects variables in it.
    pub from: Option<String>,
    /// `--chown`, `--chmod` (`None` when absent or empty; may expand to `""`, which also means
    /// "not given").
    pub chown: Option<String>,
    pub chmod: Option<String>,
    pub link: bool,
    pub parents: bool,
    pub exclude: Vec<String>,
}

impl CopyCommand {
    /// Expand chown, chmod, sources and dest (stock `CopyCommand.Expand`).
    pub fn expand(&mut self, f: &mut Expander<'_>) -> Result<()> {
        expand_opt(&mut self.chown, f)?;
        expand_opt(&mut self.chmod, f)?;
        expand_sources(&mut self.sources, &mut self.dest, f)
    }

    /// Expand heredoc bodies whose delimiter was unquoted (stock `ExpandRaw`; the expander
    /// should be a lexer with `skip_process_quotes`, escape `\`).
    pub fn expand_raw(&mut self, f: &mut Expander<'_>) -> Result<()> {
        expand_contents(&mut self.contents, f)
    }
}

/// `ADD [--chown] [--chmod] [--link] [--keep-git-dir] [--checksum] [--unpack] [--exclude]... src... dest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCommand {
    pub span: Span,
    pub original: String,
    pub sources: Vec<String>,
    pub contents: Vec<SourceContent>,
    pub dest: String,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    pub link: bool,
    pub exclude: Vec<String>,
    /// `--keep-git-dir[=bool]`, `None` when not given.
    pub keep_git_dir: Option<bool>,
    /// `--checksum` (`None` when absent or empty).
    pub checksum: Option<String>,
    /// `--unpack[=bool]`, `None` when not given.
    pub unpack: Option<bool>,
}

impl AddCommand {
    /// Expand chown, chmod, checksum, sources and dest (stock `AddCommand.Expand`).
    pub fn expand(&mut self, f: &mut Expander<'_>) -> Result<()> {
        expand_opt(&mut self.chown, f)?;
        expand_opt(&mut self.chmod, f)?;
        expand_opt(&mut self.checksum, f)?;
        expand_sources(&mut self.sources, &mut self.dest, f)
    }

    /// See [`CopyCommand::expand_raw`].
    pub fn expand_raw(&mut self, f: &mut Expander<'_>) -> Result<()> {
        expand_contents(&mut self.contents, f)
    }
}

fn expand_opt(v: &mut Option<String>, f: &mut Expander<'_>) -> Result<()> {
    if let Some(s) = v {
        *s = f(s)?;
    }
    Ok(())
}

fn expand_sources(sources: &mut [String], dest: &mut String, f: &mut Expander<'_>) -> Result<()> {
    for s in sources.iter_mut() {
        *s = f(s)?;
    }
    *dest = f(dest)?;
    Ok(())
}

fn expand_contents(contents: &mut [SourceContent], f: &mut Expander<'_>) -> Result<()> {
    for c in contents.iter_mut().filter(|c| c.expand) {
        c.data = f(&c.data)?;
    }
    Ok(())
}

fn expand_kvs(kvs: &mut [(String, String)], f: &mut Expander<'_>) -> Result<()> {
    for (k, v) in kvs {
        *k = f(k)?;
        *v = f(v)?;
    }
    Ok(())
}

/// `ENV k=v ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvCommand {
    pub span: Span,
    pub original: String,
    /// `(key, value)` in the order written.
    pub pairs: Vec<(String, String)>,
    /// True when written in the legacy `ENV key value` form (no `=`; lint `LegacyKeyValueFormat`).
    pub legacy_format: bool,
}

impl EnvCommand {
    pub fn expand(&mut self, f: &mut Expander<'_>) -> Result<()> {
        expand_kvs(&mut self.pairs, f)
    }
}

/// `LABEL k=v ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelCommand {
    pub span: Span,
    pub original: String,
    /// `(key, value)` in the order written.
    pub pairs: Vec<(String, String)>,
    /// True when written in the legacy `LABEL key value` form (no `=`).
    pub legacy_format: bool,
    /// Set for labels made by [`LabelCommand::new`] with `no_expand`.
    pub no_expand: bool,
}

impl LabelCommand {
    /// A synthetic `LABEL k=v` (stock `NewLabelCommand`), e.g. for labels given as build options.
    pub fn new(key: &str, value: &str, no_expand: bool) -> Self {
        LabelCommand {
            span: Span::default(),
            original: format!("LABEL {key}={value}"),
            pairs: vec![(key.into(), value.into())],
            legacy_format: false,
            no_expand,
        }
    }

    pub fn expand(&mut self, f: &mut Expander<'_>) -> Result<()> {
        if self.no_expand {
            return Ok(());
        }
        expand_kvs(&mut self.pairs, f)
    }
}

/// `ARG name[=default] ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgCommand {
    pub span: Span,
    pub original: String,
    /// `(name, default)` in the order written.
    pub args: Vec<(String, Option<String>)>,
}

impl ArgCommand {
    /// Expand names and defaults (stock `ArgCommand.Expand`). Note the stock dispatcher does not
    /// call this generically: ARG values are expanded by the ARG dispatch itself.
    pub fn expand(&mut self, f: &mut Expander<'_>) -> Result<()> {
        for (k, v) in &mut self.args {
            *k = f(k)?;
            expand_opt(v, f)?;
        }
        Ok(())
    }
}

/// `WORKDIR path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkdirCommand {
    pub span: Span,
    pub original: String,
    pub path: String,
}

/// `USER user[:group]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCommand {
    pub span: Span,
    pub original: String,
    pub user: String,
}

/// `CMD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdCommand {
    pub span: Span,
    pub original: String,
    pub cmd: ShellOrExec,
}

/// `ENTRYPOINT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrypointCommand {
    pub span: Span,
    pub original: String,
    pub cmd: ShellOrExec,
}

/// `SHELL ["exe", "arg"...]` (JSON form only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellCommand {
    pub span: Span,
    pub original: String,
    pub shell: Vec<String>,
}

/// `EXPOSE port[/proto] ...`: raw, sorted as strings like the stock parser; the converter
/// expands each with `process_words` and validates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExposeCommand {
    pub span: Span,
    pub original: String,
    pub ports: Vec<String>,
}

/// `VOLUME path ...` (trimmed, non-empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeCommand {
    pub span: Span,
    pub original: String,
    pub volumes: Vec<String>,
}

/// `STOPSIGNAL signal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopSignalCommand {
    pub span: Span,
    pub original: String,
    pub signal: String,
}

/// `HEALTHCHECK [flags] CMD ...` / `HEALTHCHECK NONE`: the image config's `Healthcheck`.
/// Durations are nanoseconds (0 = not given, the runtime default applies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthcheckCommand {
    pub span: Span,
    pub original: String,
    /// `["NONE"]`, `["CMD", args...]` (exec form) or `["CMD-SHELL", "command"]`.
    pub test: Vec<String>,
    pub interval: i64,
    pub timeout: i64,
    pub start_period: i64,
    pub start_interval: i64,
    pub retries: i64,
}

/// `ONBUILD <instruction>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnbuildCommand {
    pub span: Span,
    pub original: String,
    /// The trigger text stored in the image config's `OnBuild` list: the line without the
    /// `ONBUILD` keyword, followed by heredoc bodies and their delimiters.
    pub expression: String,
    /// The wrapped node, when the parser gave one.
    pub inner: Option<Node>,
}

/// `MAINTAINER name` (deprecated; sets the image `author`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintainerCommand {
    pub span: Span,
    pub original: String,
    pub maintainer: String,
}

/// Any instruction other than FROM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Run(RunCommand),
    Copy(CopyCommand),
    Add(AddCommand),
    Env(EnvCommand),
    Arg(ArgCommand),
    Workdir(WorkdirCommand),
    User(UserCommand),
    Label(LabelCommand),
    Expose(ExposeCommand),
    Cmd(CmdCommand),
    Entrypoint(EntrypointCommand),
    Shell(ShellCommand),
    Volume(VolumeCommand),
    StopSignal(StopSignalCommand),
    Healthcheck(HealthcheckCommand),
    Onbuild(OnbuildCommand),
    Maintainer(MaintainerCommand),
}

macro_rules! each {
    ($self:expr, $c:ident => $e:expr) => {
        match $self {
            Command::Run($c) => $e,
            Command::Copy($c) => $e,
            Command::Add($c) => $e,
            Command::Env($c) => $e,
            Command::Arg($c) => $e,
            Command::Workdir($c) => $e,
            Command::User($c) => $e,
            Command::Label($c) => $e,
            Command::Expose($c) => $e,
            Command::Cmd($c) => $e,
            Command::Entrypoint($c) => $e,
            Command::Shell($c) => $e,
            Command::Volume($c) => $e,
            Command::StopSignal($c) => $e,
            Command::Healthcheck($c) => $e,
            Command::Onbuild($c) => $e,
            Command::Maintainer($c) => $e,
        }
    };
}

impl Command {
    /// Lines of the instruction (for errors and source maps).
    pub fn span(&self) -> Span {
        each!(self, c => c.span)
    }

    /// The instruction as written, trimmed (stock `String()`; used for history `created_by`
    /// and progress names).
    pub fn original(&self) -> &str {
        each!(self, c => &c.original)
    }

    /// The lower-case instruction name (`run`, `copy`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Run(_) => "run",
            Command::Copy(_) => "copy",
            Command::Add(_) => "add",
            Command::Env(_) => "env",
            Command::Arg(_) => "arg",
            Command::Workdir(_) => "workdir",
            Command::User(_) => "user",
            Command::Label(_) => "label",
            Command::Expose(_) => "expose",
            Command::Cmd(_) => "cmd",
            Command::Entrypoint(_) => "entrypoint",
            Command::Shell(_) => "shell",
            Command::Volume(_) => "volume",
            Command::StopSignal(_) => "stopsignal",
            Command::Healthcheck(_) => "healthcheck",
            Command::Onbuild(_) => "onbuild",
            Command::Maintainer(_) => "maintainer",
        }
    }

    /// What the stock dispatcher does before dispatching each instruction: apply `f` to every
    /// expandable word (ENV, LABEL, COPY, ADD, WORKDIR, USER, VOLUME, STOPSIGNAL, RUN mounts;
    /// *not* ARG, which the ARG dispatch expands itself, and not CMD/ENTRYPOINT/SHELL/
    /// HEALTHCHECK/EXPOSE/ONBUILD/MAINTAINER). Returns whether the command is expandable.
    pub fn expand(&mut self, f: &mut Expander<'_>) -> Result<bool> {
        match self {
            Command::Run(c) => c.expand(f)?,
            Command::Copy(c) => c.expand(f)?,
            Command::Add(c) => c.expand(f)?,
            Command::Env(c) => c.expand(f)?,
            Command::Label(c) => c.expand(f)?,
            Command::Workdir(c) => c.path = f(&c.path)?,
            Command::User(c) => c.user = f(&c.user)?,
            Command::StopSignal(c) => c.signal = f(&c.signal)?,
            Command::Volume(c) => {
                for v in &mut c.volumes {
                    *v = f(v)?;
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The second, "raw" expansion step: heredoc bodies of COPY/ADD with unquoted delimiters.
    /// The stock frontend uses a fresh lexer with escape `\` and `skip_process_quotes` for it.
    pub fn expand_raw(&mut self, f: &mut Expander<'_>) -> Result<bool> {
        match self {
            Command::Copy(c) => c.expand_raw(f)?,
            Command::Add(c) => c.expand_raw(f)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// A build stage: a `FROM` and the instructions after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// The `AS` name, lower-cased.
    pub name: Option<String>,
    /// The image or stage name as written (unexpanded; the converter expands it with the global
    /// args).
    pub base: String,
    /// `--platform` as written (unexpanded), `None` when absent or empty.
    pub platform: Option<String>,
    pub commands: Vec<Command>,
    pub span: Span,
    /// The `FROM` line, trimmed.
    pub original: String,
    /// The FROM keyword as written (`FROM`, `from`, ...).
    pub keyword: String,
}
