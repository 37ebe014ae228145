//! The planner: one `RUN` step in, a [`Plan`] out. It matches the step's invocations (from
//! [`super::shell`]) against every recipe's triggers and resolves the matched recipes' data
//! against the step's environment, user, working dir and platform. Nothing here names a tool.

use std::collections::BTreeSet;

use super::recipe::{
    CacheDir, ConfFile, CrossWrapper, Defeater, EnvTweak, Location, Recipe, Scope, TargetCache,
    Trigger,
};
use super::recipes;
use super::shell::{self, Invocation};
use crate::image::Platform;
use crate::instructions::Sharing;
use crate::llb::file::clean;

/// Where PATH shims are mounted.
pub const SHIM_DIR: &str = "/run/hoard/shims";

/// The user a step runs as, resolved to numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

impl UserInfo {
    pub fn root() -> Self {
        UserInfo {
            uid: 0,
            gid: 0,
            home: "/root".into(),
        }
    }
}

/// Which recipes may be used (from the dialect and `--build-arg HOARD=...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub enabled: bool,
    /// When set, only these recipes.
    pub only: Option<BTreeSet<String>>,
    pub skip: BTreeSet<String>,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            enabled: true,
            only: None,
            skip: BTreeSet::new(),
        }
    }
}

impl Selection {
    pub fn allows(&self, recipe: &str) -> bool {
        self.enabled
            && !self.skip.contains(recipe)
            && self.only.as_ref().is_none_or(|o| o.contains(recipe))
    }
}

/// Everything the planner knows about one `RUN`.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    /// The process arguments (shell already prepended for shell form).
    pub args: &'a [String],
    /// Shell form: the last argument is a script the planner may edit.
    pub shell_form: bool,
    /// Scripts the step runs that are not in `args` (a heredoc with a shebang).
    pub extra_scripts: &'a [String],
    /// The step's environment (image env plus ARGs), in order.
    pub env: &'a [(String, String)],
    pub cwd: &'a str,
    pub user: &'a UserInfo,
    pub platform: &'a Platform,
    /// The image the stage started from (normalised reference), for distro-scoped ids.
    pub base: &'a str,
    /// Targets of the user's own `--mount`s: hoard never mounts on, over or under them.
    pub user_mounts: &'a [String],
    /// Those of [`Step::user_mounts`] that are cache mounts: where they cover a tool's stock
    /// cache directory, the tool keeps using them and hoard adds nothing for that directory.
    pub user_caches: &'a [String],
    /// Paths earlier instructions of the stage wrote: never hidden (hoard's private paths
    /// excepted, which no instruction can have meant).
    pub protected: &'a [Written],
    /// Tools whose program earlier steps of the stage (or its ancestors) replaced with a cross
    /// wrapper (`go` after `xx-go --wrap`): see [`wrapped_after`].
    pub wrapped: &'a [String],
    pub selection: &'a Selection,
}

/// A path an earlier instruction of the stage wrote (with everything under it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    pub path: String,
    /// The instruction's first line.
    pub line: usize,
    /// The instruction as the user wrote it, shortened (`COPY . /`).
    pub by: String,
    /// A COPY of one directory of the local build context (`""`: its root) to `path`: what it
    /// wrote under `path` is what the context holds under that directory, which the converter
    /// can ask for (`convert/cache.rs`).
    pub context_dir: Option<String>,
    /// The context path found at this (narrowed) `path`, once asked.
    pub found: Option<String>,
    /// The file's whole text, when the instruction gave it (a `COPY <<EOF /build.sh` heredoc):
    /// a later step that runs it by path runs what it says, which the planner reads.
    pub content: Option<String>,
}

impl Written {
    /// An entry without a known origin (tests, approximations).
    pub fn path(path: &str) -> Self {
        Written {
            path: path.to_string(),
            ..Written::default()
        }
    }
}

/// A detected tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub tool: String,
    /// The invocation, words joined by spaces.
    pub command: String,
    /// Whether the tool's cache is there for this step, and who provides it.
    pub cache: ToolCache,
}

/// How a detected tool's cache is provided in its step.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ToolCache {
    /// hoard mounts (at least part of) it.
    #[default]
    Hoard,
    /// The step's own `--mount=type=cache` covers it; hoard adds nothing for it.
    Yours,
    /// No cache: why, in words the user can act on.
    None(String),
}

impl ToolCache {
    /// `hoard`, `yours` or `none` (the `cache` field of `hoard explain --json`).
    pub fn as_str(&self) -> &'static str {
        match self {
            ToolCache::Hoard => "hoard",
            ToolCache::Yours => "yours",
            ToolCache::None(_) => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountKind {
    Cache {
        id: String,
        sharing: Sharing,
        uid: u32,
        gid: u32,
    },
    Tmpfs,
    /// A file bind-mounted read-only.
    File {
        content: String,
        mode: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMount {
    pub recipe: String,
    pub target: String,
    pub kind: MountKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvChange {
    Set(String, String),
    Unset(String),
}

/// What to add to one `RUN`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub tools: Vec<Detected>,
    pub mounts: Vec<PlannedMount>,
    pub env: Vec<EnvChange>,
    /// The edited shell script, when a flag edit applied.
    pub script: Option<String>,
    /// Why something was not done, and what in the step defeats a cache.
    pub notes: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.mounts.is_empty() && self.env.is_empty() && self.script.is_none()
    }

    /// Apply the env changes to an environment list.
    pub fn apply_env(&self, env: &mut Vec<(String, String)>) {
        for change in &self.env {
            match change {
                EnvChange::Set(k, v) => match env.iter_mut().find(|(kk, _)| kk == k) {
                    Some(slot) => slot.1 = v.clone(),
                    None => env.push((k.clone(), v.clone())),
                },
                EnvChange::Unset(k) => env.retain(|(kk, _)| kk != k),
            }
        }
    }
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// `pip*` matches `pip`, `pip3`, `pip3.12` and a version spelled with variables
/// (`python${PYTHON_VERSION}`, `python3.$MINOR`); other patterns match exactly.
pub(super) fn program_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(stem) => name.strip_prefix(stem).is_some_and(version_suffix),
        None => pattern == name,
    }
}

/// Digits, dots and `$NAME` / `${NAME}` references (a version a build argument supplies).
fn version_suffix(mut rest: &str) -> bool {
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_digit() || c == '.' {
            rest = &rest[1..];
        } else if let Some(r) = rest.strip_prefix("${") {
            let Some(close) = r.find('}') else {
                return false;
            };
            if !super::shell::is_name(&r[..close]) {
                return false;
            }
            rest = &r[close + 1..];
        } else if let Some(r) = rest.strip_prefix('$') {
            let len = r
                .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
                .unwrap_or(r.len());
            if len == 0 || !super::shell::is_name(&r[..len]) {
                return false;
            }
            rest = &r[len..];
        } else {
            return false;
        }
    }
    true
}

/// Words that only ask a tool about itself: with no subcommand, no use of its cache.
const SELF_QUERIES: &[&str] = &["--version", "-v", "-V", "--help", "-h"];

/// Where the module's own words start in `python [options] -m <module>` / `-m<module>`
/// (Python's options taking a value: `-W`, `-X`).
fn python_module_at(words: &[&str], module: &str) -> Option<usize> {
    let mut i = 1;
    while let Some(w) = words.get(i) {
        if *w == "-m" {
            return (words.get(i + 1) == Some(&module)).then_some(i + 2);
        }
        if w.strip_prefix("-m") == Some(module) {
            return Some(i + 1);
        }
        match *w {
            "-W" | "-X" => i += 2,
            _ if w.len() > 1
                && w.starts_with('-')
                && !w.starts_with("--")
                && w[1..].chars().all(|c| "bBdEhiIOPqsSuvx".contains(c)) =>
            {
                i += 1
            }
            _ => return None,
        }
    }
    None
}

/// A `Trigger::prefix` word: exact, or `name@*` for `name` with an optional `@<version>`.
fn prefix_matches(pattern: &str, word: &str) -> bool {
    match pattern.strip_suffix("@*") {
        Some(name) => {
            word == name
                || word
                    .strip_prefix(name)
                    .and_then(|v| v.strip_prefix('@'))
                    .is_some_and(|v| !v.is_empty())
        }
        None => pattern == word,
    }
}

/// A trigger's match on one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TriggerMatch {
    /// The subcommand ("" when it has none).
    sub: String,
    /// The tool's own words are `argv[1..own_end]`: not `--` or what follows it, nor a program
    /// the tool runs with its arguments (`Trigger::runs_program`).
    own_end: usize,
}

/// If `inv` invokes the tool `trigger` describes, the subcommand and the extent of its words.
fn match_trigger(trigger: &Trigger, inv: &Invocation) -> Option<TriggerMatch> {
    let words: Vec<&str> = inv.argv.iter().map(|w| w.text.as_str()).collect();
    let prog = basename(words.first()?);
    let offset = if let Some(module) = trigger.python_module {
        if let Some(at) = program_matches("python*", prog)
            .then(|| python_module_at(&words, module))
            .flatten()
        {
            at
        } else if trigger.programs.iter().any(|p| program_matches(p, prog)) {
            1
        } else {
            return None;
        }
    } else if trigger.programs.iter().any(|p| program_matches(p, prog)) {
        1
    } else {
        return None;
    };
    let rest: &[&str] = &words[offset..];
    let mut i = 0;
    // Global options before the prefix/subcommand, and `+toolchain` words.
    let skip_opts = |i: &mut usize| {
        while *i < rest.len() && (rest[*i].starts_with('-') || rest[*i].starts_with('+')) {
            let takes_value = trigger.options_with_value.contains(&rest[*i]);
            *i += if takes_value { 2 } else { 1 };
        }
    };
    skip_opts(&mut i);
    for p in trigger.prefix {
        if !rest.get(i).is_some_and(|w| prefix_matches(p, w)) {
            return None;
        }
        i += 1;
        skip_opts(&mut i);
    }
    let sub = rest.get(i).copied().unwrap_or("");
    // `*`: any word (a program the tool runs: `ccache gcc`), not options alone (`ccache -M 2G`).
    let any_word = trigger.subcommands == ["*"] && !sub.is_empty();
    if !(trigger.subcommands.is_empty() || any_word || trigger.subcommands.contains(&sub)) {
        return None;
    }
    if sub.is_empty()
        && rest[..i.min(rest.len())]
            .iter()
            .any(|w| SELF_QUERIES.contains(w))
    {
        return None;
    }
    let mut own_end = rest.iter().position(|w| *w == "--").unwrap_or(rest.len());
    for path in trigger.runs_program {
        let mut j = i;
        let follows = path.iter().all(|step| {
            skip_opts(&mut j);
            let hit = rest.get(j) == Some(step);
            j += 1;
            hit
        });
        if follows {
            skip_opts(&mut j);
            own_end = own_end.min(j);
            break;
        }
    }
    Some(TriggerMatch {
        sub: sub.to_string(),
        own_end: offset + own_end.min(rest.len()),
    })
}

/// Whether an environment value switches a tool on (see `EnvTrigger::contains`).
fn env_value_matches(value: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let word_start = needle.starts_with(|c: char| c.is_ascii_alphanumeric());
    value.match_indices(needle).any(|(at, _)| {
        !word_start || !value[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    })
}

fn env_get<'e>(env: &'e [(String, String)], key: &str) -> Option<&'e str> {
    env.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn join(base: &str, rel: &str) -> String {
    if rel.starts_with('/') {
        clean(rel)
    } else {
        clean(&format!("{base}/{rel}"))
    }
}

fn expand_home(p: &str, home: &str) -> String {
    match p.strip_prefix("~/") {
        Some(rest) => join(home, rest),
        None => p.to_string(),
    }
}

/// Resolve a location: the mount target and the env change it needs, if any.
fn resolve(
    loc: &Location,
    env: &[(String, String)],
    user: &UserInfo,
    cwd: &str,
) -> (String, Option<EnvChange>) {
    match *loc {
        Location::Fixed(p) => (p.to_string(), None),
        Location::Redirect { var, path } => match env_get(env, var) {
            Some(v) => (join(cwd, v), None),
            None => (
                path.to_string(),
                Some(EnvChange::Set(var.into(), path.into())),
            ),
        },
        Location::UnderEnv { var, default, sub } => {
            let base = match env_get(env, var) {
                Some(v) => join(cwd, v),
                None => expand_home(default, &user.home),
            };
            (join(&base, sub), None)
        }
        Location::Home(p) => (join(&user.home, p), None),
    }
}

/// Whether `rm` of `arg` (a path, maybe ending in a `*` glob) removes `target` itself or a
/// directory above it. `rm -rf /x/*` empties `/x` but leaves `/x`, so a mount at `/x` is fine;
/// one at `/x/y` is not.
fn deletes(arg: &str, target: &str) -> bool {
    let (dir, glob) = match arg.strip_suffix("/*") {
        Some(d) => (if d.is_empty() { "/" } else { d }, true),
        None => (arg, false),
    };
    if dir.contains(['*', '?', '[']) {
        return false;
    }
    let under = target.starts_with(&format!("{}/", dir.trim_end_matches('/')));
    if glob {
        under
    } else {
        under || target == dir
    }
}

/// A word with its `$NAME`/`${NAME}` references replaced by `lookup`'s values and a leading
/// `~` (alone or before `/`) by `home`; `None` when a variable is unknown, its value has
/// expansions of its own, or the word uses any other expansion (`${X:-y}`, `$(...)`, `$1`).
fn expand_word(word: &str, lookup: &dyn Fn(&str) -> Option<String>, home: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = word;
    if rest == "~" || rest.starts_with("~/") {
        out.push_str(home.trim_end_matches('/'));
        rest = &rest[1..];
    }
    while let Some(at) = rest.find(['$', '`']) {
        out.push_str(&rest[..at]);
        let after = rest[at..].strip_prefix('$')?;
        let (name, tail) = match after.strip_prefix('{') {
            Some(inner) => {
                let close = inner.find('}')?;
                (&inner[..close], &inner[close + 1..])
            }
            None => {
                let len = after
                    .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
                    .unwrap_or(after.len());
                (&after[..len], &after[len..])
            }
        };
        if !super::shell::is_name(name) {
            return None;
        }
        let value = lookup(name).filter(|v| !v.is_empty())?;
        if value.contains(['$', '`', '~']) {
            return None;
        }
        out.push_str(&value);
        rest = tail;
    }
    out.push_str(rest);
    Some(out)
}

/// Not a device, a kernel filesystem, the root or a relative path (a user's
/// `COMPOSER_CACHE_DIR=/dev/null` means "no cache", not "mount here").
fn usable_target(t: &str) -> bool {
    t.starts_with('/')
        && t != "/"
        && !["/dev", "/proc", "/sys"]
            .iter()
            .any(|p| t == *p || t.starts_with(&format!("{p}/")))
}

fn id_component(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// `hoard/<recipe>/<kind>[/<platform>][/<distro>][/u<uid>]`.
pub fn cache_id(
    recipe: &str,
    kind: &str,
    scope: Scope,
    platform: &Platform,
    base: &str,
    uid: u32,
) -> String {
    let mut id = format!("hoard/{recipe}/{kind}");
    if scope.platform {
        id += &format!("/{}", id_component(&platform.id()));
    }
    if scope.distro {
        let b = base
            .strip_prefix("docker.io/library/")
            .or_else(|| base.strip_prefix("docker.io/"))
            .unwrap_or(base);
        let b = b.split('@').next().unwrap_or(b);
        id += &format!("/{}", id_component(b));
    }
    if scope.user && uid != 0 {
        id += &format!("/u{uid}");
    }
    id
}

pub fn overlaps(a: &str, b: &str) -> bool {
    let under =
        |x: &str, y: &str| x == y || x.starts_with(&format!("{}/", y.trim_end_matches('/')));
    under(a, b) || under(b, a)
}

/// The helper every shim starts with: `hoard_real NAME ARGS...` runs NAME as found on PATH
/// without the shim directory and returns its status. The tool gets its plain name as argv[0]
/// (apt logs its command line into the image) and a PATH without the shims.
pub fn shim_prelude() -> String {
    format!(
        "#!/bin/sh\n\
         # Written by hoard for this build step only; not part of the image.\n\
         hoard_real() {{\n\
         \x20 _hoard_name=$1; shift\n\
         \x20 _hoard_path=\n\
         \x20 _hoard_ifs=$IFS; IFS=:\n\
         \x20 for _hoard_d in $PATH; do\n\
         \x20   [ \"$_hoard_d\" = \"{SHIM_DIR}\" ] && continue\n\
         \x20   _hoard_path=${{_hoard_path:+$_hoard_path:}}$_hoard_d\n\
         \x20 done\n\
         \x20 IFS=$_hoard_ifs\n\
         \x20 (PATH=$_hoard_path; export PATH; exec \"$_hoard_name\" \"$@\")\n\
         }}\n"
    )
}

struct Matched {
    recipe: &'static Recipe,
    subcommands: BTreeSet<String>,
    /// (index into the step's invocations, end of the tool's own words in its argv).
    invocations: Vec<(usize, usize)>,
    /// Run through a cross wrapper (the first one seen), for its target platform.
    cross: Option<(&'static CrossWrapper, Result<Platform, String>)>,
}

/// Paths only hoard ever uses: its redirected cache directories, its shims and its
/// configuration files. No instruction of the user's can have written them, so an earlier
/// `COPY` into `/` never keeps hoard from mounting there.
fn private(target: &str) -> bool {
    ["/var/cache/hoard/", "/run/hoard/"]
        .iter()
        .any(|p| target.starts_with(p))
        || basename(target).starts_with("zz-hoard")
}

/// The platform a cross wrapper builds for: `TARGETPAIR`, `TARGETPLATFORM` or
/// `TARGETOS`/`TARGETARCH`/`TARGETVARIANT` as xx-info reads them, else the exec platform.
fn target_platform(
    get: &dyn Fn(&str) -> Option<String>,
    exec: &Platform,
) -> Result<Platform, String> {
    let literal = |name: &str| -> Result<Option<String>, String> {
        match get(name).filter(|v| !v.is_empty()) {
            Some(v) if v.contains(['$', '`']) => Err(format!(
                "{name} is `{v}` in this step, which hoard cannot read"
            )),
            v => Ok(v),
        }
    };
    let parse = |spec: &str, name: &str| {
        Platform::parse(spec)
            .map(Platform::normalized)
            .map_err(|_| format!("{name}={spec} is not a platform hoard knows"))
    };
    if let Some(pair) = literal("TARGETPAIR")? {
        let (os, arch) = pair.split_once('-').unwrap_or((pair.as_str(), ""));
        let spec = match arch.strip_prefix("arm").filter(|v| v.starts_with('v')) {
            Some(v) => format!("{os}/arm/{v}"),
            None => format!("{os}/{arch}"),
        };
        return parse(&spec, "TARGETPAIR");
    }
    if let Some(p) = literal("TARGETPLATFORM")? {
        return parse(&p, "TARGETPLATFORM");
    }
    match (literal("TARGETOS")?, literal("TARGETARCH")?) {
        (Some(os), Some(arch)) => {
            let variant = literal("TARGETVARIANT")?.unwrap_or_default();
            let spec = if variant.is_empty() {
                format!("{os}/{arch}")
            } else {
                format!("{os}/{arch}/{variant}")
            };
            parse(&spec, "TARGETARCH")
        }
        _ => Ok(exec.clone()),
    }
}

/// The invocation as the recipes see it: an interpreter running a tool's script is peeled off
/// (`node bin/npm-cli.js install` is `npm-cli.js install`), and a cross wrapper becomes the
/// tool it runs (`xx-apk add` is `apk add`), with the wrapper returned. `None`: the wrapper
/// only configures the step (`xx-go --wrap`). A plain invocation of a tool whose program a
/// wrapper in `active` has replaced runs through that wrapper.
fn unwrap(
    inv: &Invocation,
    active: &[&'static CrossWrapper],
) -> Option<(Invocation, Option<&'static CrossWrapper>)> {
    let mut inv = inv.clone();
    let prog = inv.program().to_string();
    if let Some(ip) = recipes::INTERPRETERS
        .iter()
        .find(|ip| ip.programs.iter().any(|p| program_matches(p, &prog)))
    {
        let mut i = 1;
        let mut script = None;
        while let Some(w) = inv.argv.get(i) {
            let t = w.text.as_str();
            if ip
                .inline_code
                .iter()
                .any(|c| t == *c || (c.len() == 2 && t.starts_with(c)))
            {
                break;
            }
            if ip.options_with_value.contains(&t) {
                i += 2;
            } else if t.starts_with('-') {
                i += 1;
            } else {
                script = Some(i);
                break;
            }
        }
        if let Some(at) = script {
            inv.argv.drain(..at);
        }
    }
    let prog = inv.program().to_string();
    let Some(w) = recipes::WRAPPERS.iter().find(|w| w.program == prog) else {
        let through = active.iter().copied().find(|w| w.runs == basename(&prog));
        return Some((inv, through));
    };
    if inv
        .args()
        .next()
        .is_some_and(|a| w.config_only.contains(&a))
    {
        return None;
    }
    inv.argv[0].text = w.runs.to_string();
    Some((inv, Some(w)))
}

/// What became of one mount hoard wanted to add.
enum Mount {
    Added,
    /// The step's own cache mount is there.
    Yours,
    /// Another tool of the step already mounts a cache there.
    Shared,
    /// Not added, and why (in words for `explain`).
    Refused(String),
}

/// What became of one recipe's cache mounts, for the status `explain` shows.
#[derive(Default)]
struct Tally {
    /// The step's own cache mount covers one of them.
    yours: bool,
    /// Another tool of the step mounts a cache at one of them.
    shared: bool,
    /// Why a planned mount was not added (the first reason per recipe is what explain says).
    refused: Option<String>,
}

impl Tally {
    /// Count one cache mount; true when hoard added it.
    fn note(&mut self, m: Mount) -> bool {
        match m {
            Mount::Added => true,
            Mount::Yours => {
                self.yours = true;
                false
            }
            Mount::Shared => {
                self.shared = true;
                false
            }
            Mount::Refused(why) => {
                self.refused.get_or_insert(why);
                false
            }
        }
    }
}

/// One detected recipe as it runs in the step.
struct Tool<'m> {
    matched: &'m Matched,
    recipe: &'static Recipe,
    /// The user it runs as.
    user: UserInfo,
    /// The platform the ids of platform-specific caches name.
    id_platform: Platform,
    /// A cross wrapper's target cache in a subdirectory of the cache of a kind: (kind,
    /// subdirectory, target platform).
    subdir: Option<(&'static str, String, Platform)>,
    /// The variables it sees: the step's, then those the script exports or sets for it.
    env: Vec<(String, String)>,
    /// Its working directory.
    cwd: String,
}

/// Plan one step: analyse what it runs, see through interpreters and cross wrappers, detect the
/// tools, then plan each tool's caches and what goes with them.
pub fn plan(step: &Step) -> Plan {
    if !step.selection.enabled {
        return Plan::default();
    }
    let details = analyse(step);
    let (active, _) = wrapped_at(&details, step.wrapped);
    let unwrapped: Vec<Option<(Invocation, Option<&'static CrossWrapper>)>> = details
        .iter()
        .zip(&active)
        .map(|(a, act)| unwrap(&a.inv, act))
        .collect();
    let invocations = as_recipes_see(&details, &unwrapped);
    let mut planner = Planner::new(step, details, invocations);
    let matched = planner.detect(&unwrapped, &active);
    for m in &matched {
        planner.plan_tool(m);
    }
    planner.finish()
}

/// The cross wrappers that have replaced their tool's program before each invocation of the
/// step (starting from `before`, the tools earlier steps wrapped), and the tools wrapped after
/// the step. `xx-go --wrap` writes the target's `GOOS`/`GOARCH` into go's own configuration
/// file, so every later `go` of that user, whatever its path and whoever runs it (`make`,
/// golangci-lint), builds for the target until `xx-go --unwrap`.
fn wrapped_at(
    details: &[shell::Analysed],
    before: &[String],
) -> (Vec<Vec<&'static CrossWrapper>>, Vec<String>) {
    let mut active: Vec<&'static CrossWrapper> = recipes::WRAPPERS
        .iter()
        .filter(|w| w.wrap.is_some() && before.iter().any(|t| t == w.runs))
        .collect();
    let mut at = Vec::with_capacity(details.len());
    for a in details {
        at.push(active.clone());
        let prog = basename(a.inv.program());
        let Some(w) = recipes::WRAPPERS.iter().find(|w| w.program == prog) else {
            continue;
        };
        let first = a.inv.args().next();
        if first.is_some() && first == w.wrap {
            if !active.iter().any(|x| x.program == w.program) {
                active.push(w);
            }
        } else if first.is_some() && first == w.unwrap {
            active.retain(|x| x.program != w.program);
        }
    }
    (at, active.iter().map(|w| w.runs.to_string()).collect())
}

/// The tools whose program a cross wrapper has replaced after a step (`go` after `RUN xx-go
/// --wrap`), given those replaced before it: what the converter hands to the stage's next
/// steps as [`Step::wrapped`].
pub fn wrapped_after(
    args: &[String],
    shell_form: bool,
    extra_scripts: &[String],
    before: &[String],
) -> Vec<String> {
    let details = if shell_form {
        args.last()
            .map(|s| shell::analyze_detailed(s))
            .unwrap_or_default()
    } else {
        shell::analyze_exec_detailed(args)
    };
    let extra = extra_scripts
        .iter()
        .flat_map(|s| shell::analyze_detailed(s));
    let details: Vec<shell::Analysed> = details.into_iter().chain(extra).collect();
    wrapped_at(&details, before).1
}

/// The shell analysis of every command the step runs: its script (or exec-form arguments),
/// then the scripts it runs that are not in its arguments, whose words cannot be edited.
fn analyse(step: &Step) -> Vec<shell::Analysed> {
    let mut details = if step.shell_form {
        step.args
            .last()
            .map(|s| shell::analyze_detailed(s))
            .unwrap_or_default()
    } else {
        shell::analyze_exec_detailed(step.args)
    };
    for script in step.extra_scripts {
        details.extend(nested(script));
    }
    // Scripts an earlier instruction wrote with their text (`COPY <<EOF /build.sh`), run by
    // path (`/build.sh`, `./build.sh`, `sh build.sh`): their commands, in their place.
    let mut out = Vec::with_capacity(details.len());
    for a in details {
        let script = written_script(step, &a);
        out.push(a);
        if let Some(text) = script {
            out.extend(nested(text));
        }
    }
    out
}

/// The commands of a script the step does not show in its own words: not editable.
fn nested(script: &str) -> Vec<shell::Analysed> {
    shell::analyze_detailed(script)
        .into_iter()
        .map(|mut a| {
            a.inv.nested = true;
            for w in &mut a.inv.argv {
                w.span = None;
            }
            a
        })
        .collect()
}

/// The text of the script an invocation runs, when an earlier instruction of the stage wrote
/// it whole (the last one to write that path).
fn written_script<'s>(step: &'s Step, a: &shell::Analysed) -> Option<&'s str> {
    let words: Vec<&str> = a.inv.argv.iter().map(|w| w.text.as_str()).collect();
    let path = match words.as_slice() {
        [sh, script, ..] if matches!(basename(sh), "sh" | "bash" | "dash" | "ash") => *script,
        [prog, ..] if prog.contains('/') => *prog,
        _ => return None,
    };
    if path.starts_with('-') || path.contains(['$', '`']) {
        return None;
    }
    let cwd = a
        .inv
        .cwd
        .as_deref()
        .map(|c| join(step.cwd, c))
        .unwrap_or_else(|| step.cwd.to_string());
    let full = join(&cwd, path);
    let w = step.protected.iter().rev().find(|w| w.path == full)?;
    w.content.as_deref()
}

/// Every invocation as the recipes see it ([`unwrap`]); one a wrapper only configures stays
/// as written.
fn as_recipes_see(
    details: &[shell::Analysed],
    unwrapped: &[Option<(Invocation, Option<&'static CrossWrapper>)>],
) -> Vec<Invocation> {
    details
        .iter()
        .zip(unwrapped)
        .map(|(a, u)| {
            u.as_ref()
                .map(|u| u.0.clone())
                .unwrap_or_else(|| a.inv.clone())
        })
        .collect()
}

/// A variable as an invocation sees it: what the script set for it, else the step's (when
/// not empty).
fn var_seen<'e>(
    own: &'e [(String, String)],
    step_env: &'e [(String, String)],
    name: &str,
) -> Option<&'e str> {
    own.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .or_else(|| env_get(step_env, name))
}

/// A recipe switched on through the environment (`RUSTC_WRAPPER=sccache` + `cargo build`).
/// The tool is then not named in the invocation: none of its words are the tool's.
fn env_trigger(
    recipe: &Recipe,
    inv: &Invocation,
    own_env: &[(String, String)],
    step_env: &[(String, String)],
) -> Option<TriggerMatch> {
    let prog = inv.argv.first().map(|w| w.text.as_str()).unwrap_or("");
    recipe
        .env_triggers
        .iter()
        .any(|t| {
            (t.programs.contains(&basename(prog)) || t.programs.contains(&prog))
                && t.vars.iter().any(|var| {
                    var_seen(own_env, step_env, var)
                        .is_some_and(|v| env_value_matches(v, t.contains))
                })
        })
        .then(|| TriggerMatch {
            sub: String::new(),
            own_end: 1,
        })
}

/// Directories the step deletes: a mount point inside one would make `rm -rf` fail with
/// EBUSY where the stock build succeeds.
/// `$VAR`, `${VAR}` and `~` are expanded from what the step and the script set; words with
/// other expansions are skipped.
fn deleted_dirs(step: &Step, details: &[shell::Analysed]) -> Vec<String> {
    details
        .iter()
        .filter(|a| {
            a.inv
                .argv
                .first()
                .is_some_and(|w| basename(&w.text) == "rm")
        })
        .flat_map(|a| {
            let cwd = a
                .inv
                .cwd
                .clone()
                .map(|c| join(step.cwd, &c))
                .unwrap_or_else(|| step.cwd.to_string());
            let lookup = |name: &str| {
                let find = |vars: &[(String, String)]| {
                    vars.iter()
                        .rev()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                };
                find(&a.env)
                    .or_else(|| find(&a.shell_vars))
                    .or_else(|| find(step.env))
            };
            a.inv.argv[1..]
                .iter()
                .filter(|w| !w.text.starts_with('-'))
                .filter_map(|w| expand_word(&w.text, &lookup, &step.user.home))
                .map(|t| join(&cwd, &t))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Add one detection to the recipe's entry (the first cross wrapper seen stays).
fn add_match(
    matched: &mut Vec<Matched>,
    recipe: &'static Recipe,
    sub: String,
    at: (usize, usize),
    cross: Option<(&'static CrossWrapper, Result<Platform, String>)>,
) {
    match matched.iter_mut().find(|m| m.recipe.name == recipe.name) {
        Some(m) => {
            m.subcommands.insert(sub);
            m.invocations.push(at);
            if m.cross.is_none() {
                m.cross = cross;
            }
        }
        None => matched.push(Matched {
            recipe,
            subcommands: BTreeSet::from([sub]),
            invocations: vec![at],
            cross,
        }),
    }
}

/// A tool's stock directory in the step: `~/` is the user's home, a leading `$VAR` the
/// variable's value (`None` when it is unset: the directory is then unknown).
fn stock_path(stock: &str, env: &[(String, String)], home: &str) -> Option<String> {
    match stock.strip_prefix('$') {
        Some(rest) => {
            let (var, sub) = rest.split_once('/').unwrap_or((rest, ""));
            let base = env_get(env, var)?;
            Some(if sub.is_empty() {
                base.to_string()
            } else {
                join(base, sub)
            })
        }
        None => Some(expand_home(stock, home)),
    }
}

/// Whether one of the step's own cache mounts is on (or above) a tool's stock directory.
fn covering<'u>(user_caches: &'u [String], stock: &str) -> Option<&'u String> {
    user_caches.iter().find(|u| {
        stock == u.as_str() || stock.starts_with(&format!("{}/", u.trim_end_matches('/')))
    })
}

/// Apply flag edits (start, end, replacement; `None` removes the word and the blank before it)
/// to a script, from the last one back. Edits that do not fit the script are skipped.
fn apply_edits(script: &str, mut edits: Vec<(usize, usize, Option<&str>)>) -> String {
    let mut s = script.to_string();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (start, end, replace) in edits {
        if start > end || end > s.len() || !s.is_char_boundary(start) || !s.is_char_boundary(end) {
            continue;
        }
        match replace {
            Some(r) => s.replace_range(start..end, r),
            None => {
                // Remove the word and the blank before it.
                let mut st = start;
                while st > 0 && matches!(s.as_bytes()[st - 1], b' ' | b'\t') {
                    st -= 1;
                }
                s.replace_range(st..end, "");
            }
        }
    }
    s
}

/// One step being planned: what the analysis found, and the plan as it grows tool by tool.
struct Planner<'a> {
    step: &'a Step<'a>,
    /// The shell analysis of every command the step runs.
    details: Vec<shell::Analysed>,
    /// The same commands as the recipes see them.
    invocations: Vec<Invocation>,
    /// Directories the step deletes.
    removed: Vec<String>,
    plan: Plan,
    /// The step's environment, with the variables that point earlier tools at their caches.
    env: Vec<(String, String)>,
    /// (name, script) of the cached tools' shims.
    shims: Vec<(&'static str, &'static str)>,
    /// Flag edits in the script: (start, end, replacement).
    edits: Vec<(usize, usize, Option<&'static str>)>,
    /// Per recipe: how its cache ended up (set on its `Detected` entries at the end).
    outcome: Vec<(&'static str, ToolCache)>,
}

impl<'a> Planner<'a> {
    fn new(
        step: &'a Step<'a>,
        details: Vec<shell::Analysed>,
        invocations: Vec<Invocation>,
    ) -> Self {
        let removed = deleted_dirs(step, &details);
        Planner {
            step,
            details,
            invocations,
            removed,
            plan: Plan::default(),
            env: step.env.to_vec(),
            shims: Vec::new(),
            edits: Vec::new(),
            outcome: Vec::new(),
        }
    }

    /// Detection: the recipes each invocation triggers, grouped by recipe. Every detection is
    /// listed in the plan's tools; recipes turned off for the step are noted and left out.
    fn detect(
        &mut self,
        unwrapped: &[Option<(Invocation, Option<&'static CrossWrapper>)>],
        active: &[Vec<&'static CrossWrapper>],
    ) -> Vec<Matched> {
        let step = self.step;
        let mut matched: Vec<Matched> = Vec::new();
        let mut turned_off: Vec<&str> = Vec::new();
        for (n, inv) in self.invocations.iter().enumerate() {
            let Some((_, wrapper)) = &unwrapped[n] else {
                continue;
            };
            let own_env = &self.details[n].env;
            // The wrapper that replaced what a trigger's programs run (`make` running `go`).
            let wrapped = |t: &Trigger| {
                t.runs_wrapped
                    .and_then(|tool| active[n].iter().copied().find(|w| w.runs == tool))
            };
            for recipe in recipes::all() {
                let found = recipe
                    .triggers
                    .iter()
                    .filter(|t| !t.only_wrapped || wrapped(t).is_some())
                    .find_map(|t| match_trigger(t, inv).map(|m| (m, wrapped(t))))
                    .or_else(|| {
                        env_trigger(recipe, inv, own_env, step.env)
                            .or_else(|| self.mount_trigger(recipe, inv))
                            .map(|m| (m, None))
                    });
                let Some((TriggerMatch { sub, own_end }, through)) = found else {
                    continue;
                };
                let wrapper = wrapper.or(through);
                let allowed = step.selection.allows(recipe.name);
                if !allowed && !turned_off.contains(&recipe.name) {
                    self.plan.notes.push(format!(
                        "{}: detected but turned off for this step",
                        recipe.name
                    ));
                    turned_off.push(recipe.name);
                }
                self.plan.tools.push(Detected {
                    tool: recipe.name.to_string(),
                    command: self.details[n]
                        .inv
                        .argv
                        .iter()
                        .map(|w| w.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                    cache: if allowed {
                        ToolCache::Hoard
                    } else {
                        ToolCache::None("turned off for this step by a `# hoard:` comment or the HOARD build argument".into())
                    },
                });
                if !allowed {
                    continue;
                }
                let cross = wrapper.map(|w| {
                    let get = |name: &str| var_seen(own_env, step.env, name).map(String::from);
                    (w, target_platform(&get, step.platform))
                });
                add_match(&mut matched, recipe, sub, (n, own_end), cross);
            }
        }
        matched
    }

    /// A recipe switched on by the step's own cache mount at one of the tool's default
    /// directories, with a build program of the tool's in the step (`--mount=type=cache,
    /// target=/root/.ccache` and `cmake --build`).
    fn mount_trigger(&self, recipe: &Recipe, inv: &Invocation) -> Option<TriggerMatch> {
        let prog = inv.program();
        let home = &self.step.user.home;
        recipe
            .mount_triggers
            .iter()
            .any(|t| {
                t.programs.contains(&prog)
                    && t.dirs.iter().any(|d| {
                        let dir = expand_home(d, home);
                        self.step
                            .user_caches
                            .iter()
                            .any(|u| clean(u) == clean(&dir))
                    })
            })
            .then(|| TriggerMatch {
                sub: String::new(),
                own_end: 1,
            })
    }

    /// Plan one detected recipe: its caches; then, only when it has one, what goes with them
    /// (tmpfs mounts, configuration files, environment, shims, flag edits) and the defeaters
    /// to report.
    fn plan_tool(&mut self, m: &Matched) {
        let notes_before = self.plan.notes.len();
        let user = self.tool_user(m);
        if m.recipe.root_only && user.uid != 0 {
            self.refuse_non_root(m.recipe, user.uid);
            return;
        }
        let tool = self.tool(m, user);
        let (status, mounted) = self.mount_caches(&tool, notes_before);
        let cached = !matches!(status, ToolCache::None(_));
        self.outcome.push((tool.recipe.name, status));
        // Without any cache for it, the step runs the tool exactly as written: no tweaks,
        // configuration, shims or flag edits that only make sense next to a cache.
        if !cached {
            return;
        }
        self.mount_extras(&tool, &mounted);
        self.tweak_env(&tool, &mounted);
        self.shims
            .extend(tool.recipe.shims.iter().map(|s| (s.name, s.script)));
        self.edit_flags(m);
        self.report_defeaters(&tool);
    }

    /// The user a tool runs as: `sudo apt-get ...` from a non-root USER runs it as root.
    fn tool_user(&self, m: &Matched) -> UserInfo {
        let via_root = m
            .invocations
            .iter()
            .all(|&(i, _)| matches!(self.details[i].user.as_deref(), Some("root" | "0")));
        if via_root && self.step.user.uid != 0 {
            UserInfo::root()
        } else {
            self.step.user.clone()
        }
    }

    /// A system package manager run by another user than root gets nothing.
    fn refuse_non_root(&mut self, r: &'static Recipe, uid: u32) {
        self.plan.notes.push(format!(
            "{}: runs as uid {uid}, not root; nothing injected",
            r.name
        ));
        let why = format!(
            "{} runs as uid {uid} here, and a system package manager's cache is only injected for root (run it before `USER`, or with `sudo`)",
            r.name
        );
        self.outcome.push((r.name, ToolCache::None(why)));
    }

    /// The recipe as it runs in the step: user, cache platform, environment, directory.
    fn tool<'m>(&mut self, m: &'m Matched, user: UserInfo) -> Tool<'m> {
        let (id_platform, subdir) = self.cache_platform(m);
        let mut env = self.env.clone();
        if let Some(&(first, _)) = m.invocations.first() {
            env.extend(self.details[first].env.iter().cloned());
        }
        let cwd = m
            .invocations
            .first()
            .and_then(|&(i, _)| self.invocations[i].cwd.clone())
            .map(|c| join(self.step.cwd, &c))
            .unwrap_or_else(|| self.step.cwd.to_string());
        Tool {
            matched: m,
            recipe: m.recipe,
            user,
            id_platform,
            subdir,
            env,
            cwd,
        }
    }

    /// The platform the ids of platform-specific caches name: the exec platform, or the
    /// target of a cross wrapper when the tool's content is the target's; and the target's
    /// subdirectory of a cache, for wrappers that keep it apart by name.
    fn cache_platform(
        &mut self,
        m: &Matched,
    ) -> (Platform, Option<(&'static str, String, Platform)>) {
        let step = self.step;
        let mut id_platform = step.platform.clone();
        let mut subdir = None;
        if let Some((w, target)) = &m.cross {
            match (target, w.target) {
                (Err(why), _) => self.plan.notes.push(format!(
                    "{}: run through {}, but {why}; cache ids name the platform the step runs on",
                    m.recipe.name, w.program
                )),
                (Ok(t), TargetCache::Ids) => id_platform = t.clone(),
                (Ok(_), TargetCache::Exec) => {}
                (Ok(t), TargetCache::Subdir { kind, name }) => {
                    if t.id() != step.platform.id() {
                        if let Some(dir) = name(t) {
                            subdir = Some((kind, dir, t.clone()));
                        }
                    }
                }
            }
        }
        (id_platform, subdir)
    }

    /// Choose and mount the tool's caches (for the subcommands it runs). Returns its cache
    /// status and where its caches ended up mounted, by kind.
    fn mount_caches(
        &mut self,
        tool: &Tool,
        notes_before: usize,
    ) -> (ToolCache, Vec<(&'static str, String)>) {
        let r = tool.recipe;
        let (uid, gid) = (tool.user.uid, tool.user.gid);
        let mut tally = Tally::default();
        let mut mounted: Vec<(&str, String)> = Vec::new();
        for c in r.caches.iter().filter(|c: &&CacheDir| {
            c.only_for.is_empty()
                || c.only_for
                    .iter()
                    .any(|s| tool.matched.subcommands.contains(*s))
        }) {
            // The step's own cache mount on (or above) the tool's stock directory is its cache
            // (a directory the tool uses only while the variable hoard redirects is unset).
            let var = match c.location {
                Location::Redirect { var, .. } => Some(var),
                _ => None,
            };
            let var_unset = var.is_none_or(|v| env_get(&tool.env, v).is_none());
            let home = &tool.user.home;
            if let Some((stock, u)) = c
                .stock
                .filter(|_| var_unset)
                .and_then(|s| stock_path(s, &tool.env, home))
                .and_then(|s| covering(self.step.user_caches, &s).map(|u| (s, u.clone())))
            {
                self.plan.notes.push(format!(
                    "{}: uses your cache mount at {u} for {stock}",
                    r.name
                ));
                tally.note(Mount::Yours);
                continue;
            }
            // ... or on a directory only some versions use by default: pointed at for all.
            if let Some((var, dir)) = var.filter(|_| var_unset).and_then(|v| {
                c.adopt
                    .iter()
                    .map(|d| expand_home(d, home))
                    .find(|d| covering(self.step.user_caches, d).is_some())
                    .map(|d| (v, d))
            }) {
                self.plan.notes.push(format!(
                    "{}: uses your cache mount at {dir}; {var} points there for this step",
                    r.name
                ));
                self.env.push((var.to_string(), dir.clone()));
                self.plan.env.push(EnvChange::Set(var.to_string(), dir));
                tally.note(Mount::Yours);
                continue;
            }
            let (target, change) = resolve(&c.location, &tool.env, &tool.user, &tool.cwd);
            let id = cache_id(
                r.name,
                c.kind,
                c.scope,
                &tool.id_platform,
                self.step.base,
                uid,
            );
            let kind = MountKind::Cache {
                id,
                sharing: c.sharing,
                uid,
                gid,
            };
            if tally.note(self.add_mount(r.name, target.clone(), kind)) {
                if let Some(ch) = change {
                    if let EnvChange::Set(k, v) = &ch {
                        self.env.push((k.clone(), v.clone()));
                    }
                    self.plan.env.push(ch);
                }
                if let Some((kind, dir, t)) = tool.subdir.as_ref().filter(|s| s.0 == c.kind) {
                    let id = cache_id(r.name, kind, c.scope, t, self.step.base, uid);
                    let sub = MountKind::Cache {
                        id,
                        sharing: c.sharing,
                        uid,
                        gid,
                    };
                    tally.note(self.add_mount(r.name, format!("{target}/{dir}"), sub));
                }
            }
            // Also when another recipe of the step mounted a cache there first.
            if self
                .plan
                .mounts
                .iter()
                .any(|pm| pm.target == target && matches!(pm.kind, MountKind::Cache { .. }))
            {
                mounted.push((c.kind, target));
            }
        }
        (self.status(r, tally, notes_before), mounted)
    }

    /// A tool's cache status: hoard's when it mounts one of its caches (or another tool of the
    /// step does), else the user's own, else none with the first reason found.
    fn status(&self, r: &Recipe, tally: Tally, notes_before: usize) -> ToolCache {
        let hoards = self
            .plan
            .mounts
            .iter()
            .any(|pm| pm.recipe == r.name && matches!(pm.kind, MountKind::Cache { .. }));
        match (hoards || tally.shared, tally.yours, tally.refused) {
            (true, _, _) => ToolCache::Hoard,
            (false, true, _) => ToolCache::Yours,
            (false, false, Some(why)) => ToolCache::None(why),
            (false, false, None) => ToolCache::None(
                self.plan.notes[notes_before..]
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "nothing of it could be mounted in this step".into()),
            ),
        }
    }

    /// Mount `target` for a recipe unless something in the step forbids it.
    fn add_mount(&mut self, recipe: &str, target: String, kind: MountKind) -> Mount {
        if let Some(refused) = self.conflict(recipe, &target) {
            return refused;
        }
        self.plan.mounts.push(PlannedMount {
            recipe: recipe.to_string(),
            target,
            kind,
        });
        Mount::Added
    }

    /// What keeps hoard from mounting at `target`, if anything: the user's own mounts, what
    /// earlier instructions wrote, another tool's mount, a deleted directory, a path that
    /// cannot hold a cache.
    fn conflict(&mut self, recipe: &str, target: &str) -> Option<Mount> {
        let step = self.step;
        if let Some(u) = step.user_mounts.iter().find(|u| overlaps(target, u)) {
            self.plan.notes.push(format!(
                "{recipe}: you mount {u} yourself; hoard leaves {target} alone"
            ));
            return Some(if step.user_caches.contains(u) {
                Mount::Yours
            } else {
                Mount::Refused(format!("your own mount at {u} covers {target}"))
            });
        }
        if !private(target) {
            if let Some(w) = step.protected.iter().find(|w| overlaps(target, &w.path)) {
                return Some(self.refuse_written(recipe, target, w));
            }
        }
        if let Some(pm) = self.plan.mounts.iter().find(|pm| pm.target == target) {
            return Some(match pm.kind {
                // Another tool of the step caches the same directory (pipenv's pip cache).
                MountKind::Cache { .. } => Mount::Shared,
                _ => Mount::Refused(format!(
                    "{target} is already mounted for another tool of this step"
                )),
            });
        }
        if let Some(r_) = self.removed.iter().find(|d| deletes(d, target)) {
            self.plan.notes.push(format!(
                "{recipe}: this step deletes {r_}; hoard does not mount {target} there"
            ));
            return Some(Mount::Refused(format!(
                "this step deletes {r_}, and a cache mount there would make `rm` fail: drop that `rm` (the cache keeps those files out of the image anyway)"
            )));
        }
        if !usable_target(target) {
            self.plan.notes.push(format!(
                "{recipe}: {target} is not a directory hoard can cache"
            ));
            return Some(Mount::Refused(format!(
                "its cache location is {target}, which hoard cannot mount a cache at"
            )));
        }
        None
    }

    /// A mount at `target` would hide what an earlier instruction wrote there.
    fn refuse_written(&mut self, recipe: &str, target: &str, w: &Written) -> Mount {
        let shown = if w.path.is_empty() {
            "/"
        } else {
            w.path.as_str()
        };
        let by = if w.line > 0 {
            format!("`{}` (line {})", w.by, w.line)
        } else {
            "an earlier instruction".into()
        };
        if let Some(found) = &w.found {
            self.plan.notes.push(format!("{recipe}: {by} copies {found} from the build context; hoard does not hide {target}"));
            return Mount::Refused(format!(
                "{by} copies {found} from the build context to {target}, and a cache mount would hide it: leave it out with .dockerignore, or mount {target} yourself with `--mount=type=cache`"
            ));
        }
        self.plan.notes.push(format!(
            "{recipe}: {by} wrote {shown}; hoard does not hide {target}"
        ));
        Mount::Refused(format!(
            "{by} may have put files in {target}, and a cache mount would hide them: copy to a narrower destination than {shown} (or name the files), or mount {target} yourself with `--mount=type=cache`"
        ))
    }

    /// The tool's tmpfs mounts and configuration files (with the lines for the caches it got).
    fn mount_extras(&mut self, tool: &Tool, mounted: &[(&str, String)]) {
        let r = tool.recipe;
        for t in r.tmpfs {
            let (target, _) = resolve(t, &tool.env, &tool.user, &tool.cwd);
            self.add_mount(r.name, target, MountKind::Tmpfs);
        }
        for ConfFile {
            target,
            content,
            per_cache,
        } in r.files
        {
            let mut content = content.to_string();
            for (kind, line) in per_cache.iter() {
                if mounted.iter().any(|(k, _)| k == kind) {
                    content.push_str(line);
                }
            }
            self.add_mount(
                r.name,
                target.to_string(),
                MountKind::File {
                    content,
                    mode: 0o644,
                },
            );
        }
    }

    /// The tool's environment tweaks: variables set or defaulted, variables that would disable
    /// the cache unset, cache paths the tool reads from a variable.
    fn tweak_env(&mut self, tool: &Tool, mounted: &[(&str, String)]) {
        let r = tool.recipe;
        for tweak in r.env {
            let change = match *tweak {
                EnvTweak::Set(k, v) => Some(EnvChange::Set(k.into(), v.into())),
                EnvTweak::Default(k, v) => env_get(&tool.env, k)
                    .is_none()
                    .then(|| EnvChange::Set(k.into(), v.into())),
                EnvTweak::Unset(k) => self.env.iter().any(|(kk, _)| kk == k).then(|| {
                    self.plan.notes.push(format!(
                        "{}: {k} would disable the cache; unset for this step",
                        r.name
                    ));
                    EnvChange::Unset(k.into())
                }),
                EnvTweak::CachePath { var, kind } => match mounted.iter().find(|(k, _)| *k == kind)
                {
                    Some((_, target)) if env_get(&tool.env, var).is_none() => {
                        Some(EnvChange::Set(var.into(), target.clone()))
                    }
                    _ => None,
                },
            };
            if let Some(ch) = change {
                if !self.plan.env.contains(&ch) {
                    self.plan.env.push(ch);
                }
            }
        }
    }

    /// Flag edits, only in the tool's own words and only where the shell analysis can locate
    /// them in the script.
    fn edit_flags(&mut self, m: &Matched) {
        let r = m.recipe;
        for &(i, own_end) in &m.invocations {
            let inv = &self.invocations[i];
            for fe in r.flag_edits {
                for w in inv.argv[..own_end.min(inv.argv.len())]
                    .iter()
                    .skip(1)
                    .filter(|w| w.text == fe.flag)
                {
                    match (self.step.shell_form && !inv.nested, w.span) {
                        (true, Some((s, e))) => {
                            if !self.edits.iter().any(|&(es, _, _)| es == s) {
                                self.edits.push((s, e, fe.replace));
                                self.plan.notes.push(format!(
                                    "{}: {} would bypass the cache; edited for this step",
                                    r.name, fe.flag
                                ));
                            }
                        }
                        _ => self.plan.notes.push(format!(
                            "{}: {} bypasses the cache and cannot be edited here",
                            r.name, fe.flag
                        )),
                    }
                }
            }
        }
    }

    /// Defeaters: what in the step empties or disables the tool's cache, reported only.
    fn report_defeaters(&mut self, tool: &Tool) {
        let r = tool.recipe;
        for d in r.defeaters {
            match d {
                Defeater::Command { program, args } => {
                    let hit = self.invocations.iter().any(|inv| {
                        let words: Vec<&str> = inv.argv.iter().map(|w| w.text.as_str()).collect();
                        words.first().is_some_and(|p| basename(p) == *program)
                            && args.iter().all(|a| words[1..].contains(a))
                    });
                    if hit {
                        let what = std::iter::once(*program)
                            .chain(args.iter().copied())
                            .collect::<Vec<_>>()
                            .join(" ");
                        self.plan.notes.push(format!(
                            "{}: `{what}` in this step empties the cache (the build still works)",
                            r.name
                        ));
                    }
                }
                Defeater::Env(var) => {
                    if env_get(&tool.env, var).is_some()
                        && !self.plan.env.contains(&EnvChange::Unset(var.to_string()))
                    {
                        self.plan
                            .notes
                            .push(format!("{}: {var} is set and disables the cache", r.name));
                    }
                }
            }
        }
    }

    /// The final plan: the shims mounted and first on PATH, the script with its flag edits,
    /// each detected tool's cache status.
    fn finish(mut self) -> Plan {
        self.mount_shims();
        if !self.edits.is_empty() {
            if let Some(script) = self.step.args.last() {
                self.plan.script = Some(apply_edits(script, std::mem::take(&mut self.edits)));
            }
        }
        for d in &mut self.plan.tools {
            if let Some((_, status)) = self.outcome.iter().find(|(name, _)| *name == d.tool) {
                d.cache = status.clone();
            }
        }
        self.plan
    }

    /// The cached tools' shims, mounted in [`SHIM_DIR`], which goes first on PATH.
    fn mount_shims(&mut self) {
        if self.shims.is_empty() {
            return;
        }
        for (name, script) in &self.shims {
            let target = format!("{SHIM_DIR}/{name}");
            if self.plan.mounts.iter().any(|m| m.target == target) {
                continue;
            }
            self.plan.mounts.push(PlannedMount {
                recipe: name.to_string(),
                target,
                kind: MountKind::File {
                    content: format!("{}{}", shim_prelude(), script),
                    mode: 0o755,
                },
            });
        }
        let path = env_get(&self.env, "PATH")
            .unwrap_or(crate::image::default_path_env(&self.step.platform.os))
            .to_string();
        self.plan
            .env
            .push(EnvChange::Set("PATH".into(), format!("{SHIM_DIR}:{path}")));
    }
}

/// [`plan_shell`] with the step's own cache mounts and what earlier instructions wrote (for
/// tests).
pub fn plan_step(
    cmd: &str,
    env: &[(&str, &str)],
    user_caches: &[String],
    protected: &[Written],
) -> Plan {
    plan_for_test(cmd, env, &UserInfo::root(), user_caches, protected, &[])
}

/// Plan a shell-form command as root in `/` on linux/amd64 from Debian bookworm (for tests).
pub fn plan_shell(cmd: &str) -> Plan {
    plan_shell_with(cmd, &[], 0, "/root")
}

/// Plan a shell-form command with the given environment and user (gid = uid).
pub fn plan_shell_with(cmd: &str, env: &[(&str, &str)], uid: u32, home: &str) -> Plan {
    let user = UserInfo {
        uid,
        gid: uid,
        home: home.to_string(),
    };
    plan_for_test(cmd, env, &user, &[], &[], &[])
}

/// Plan a shell-form command as root on linux/amd64 after earlier steps of the stage wrapped
/// these tools' programs ([`Step::wrapped`]), with the given environment (for tests).
pub fn plan_wrapped(cmd: &str, env: &[(&str, &str)], wrapped: &[&str]) -> Plan {
    let wrapped: Vec<String> = wrapped.iter().map(|w| w.to_string()).collect();
    plan_for_test(cmd, env, &UserInfo::root(), &[], &[], &wrapped)
}

/// The one step the test helpers above plan: `/bin/sh -c cmd` in `/` on linux/amd64 from
/// Debian bookworm, the author's cache mounts being `user_caches`.
fn plan_for_test(
    cmd: &str,
    env: &[(&str, &str)],
    user: &UserInfo,
    user_caches: &[String],
    protected: &[Written],
    wrapped: &[String],
) -> Plan {
    let args = vec!["/bin/sh".to_string(), "-c".into(), cmd.to_string()];
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let platform = Platform::new("linux", "amd64", "");
    plan(&Step {
        args: &args,
        shell_form: true,
        extra_scripts: &[],
        env: &env,
        cwd: "/",
        user,
        platform: &platform,
        base: "docker.io/library/debian:bookworm",
        user_mounts: user_caches,
        user_caches,
        protected,
        wrapped,
        selection: &Selection::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::shell::Word;

    fn inv(words: &[&str]) -> Invocation {
        Invocation {
            argv: words
                .iter()
                .map(|w| Word {
                    text: w.to_string(),
                    span: None,
                })
                .collect(),
            assignments: vec![],
            cwd: None,
            nested: false,
        }
    }

    static T: Trigger = Trigger {
        programs: &["pip*"],
        python_module: Some("pip"),
        subcommands: &["install", "wheel"],
        options_with_value: &["--log"],
        ..Trigger::NONE
    };

    fn sub(t: &Trigger, words: &[&str]) -> Option<String> {
        match_trigger(t, &inv(words)).map(|m| m.sub)
    }

    fn own_end(t: &Trigger, words: &[&str]) -> usize {
        match_trigger(t, &inv(words)).expect("matches").own_end
    }

    #[test]
    fn triggers_match_spellings() {
        assert_eq!(sub(&T, &["pip", "install", "x"]), Some("install".into()));
        assert_eq!(
            sub(&T, &["/usr/local/bin/pip3.12", "-q", "install", "x"]),
            Some("install".into())
        );
        assert_eq!(
            sub(&T, &["python3", "-m", "pip", "install", "x"]),
            Some("install".into())
        );
        assert_eq!(
            sub(&T, &["pip", "--log", "f", "install"]),
            Some("install".into())
        );
        assert_eq!(sub(&T, &["pipx", "install", "x"]), None);
        assert_eq!(sub(&T, &["pip", "freeze"]), None);
        assert_eq!(sub(&T, &["python3", "-m", "venv", "x"]), None);
    }

    static VERSIONED: Trigger = Trigger {
        programs: &["corepack", "npx"],
        prefix: &["yarn@*"],
        subcommands: &["", "install"],
        options_with_value: &["--cwd"],
        ..Trigger::NONE
    };

    #[test]
    fn versioned_prefix_words() {
        for words in [
            &["corepack", "yarn", "install"][..],
            &["corepack", "yarn@4.1.0", "install"],
            &["corepack", "yarn@stable", "--cwd", "web", "install"],
            &["npx", "-y", "yarn@1", "install"],
            &["npx", "yarn@^1.22.0"],
        ] {
            assert!(sub(&VERSIONED, words).is_some(), "{words:?}");
        }
        for words in [
            &["corepack", "yarn@", "install"][..],
            &["corepack", "yarnpkg", "install"],
            &["npx", "yarn-deduplicate"],
            &["corepack", "pnpm@9", "install"],
            &["corepack", "yarn@4", "run", "build"],
        ] {
            assert_eq!(sub(&VERSIONED, words), None, "{words:?}");
        }
        assert!(
            prefix_matches("pnpm@*", "pnpm@latest-9")
                && prefix_matches("pip", "pip")
                && !prefix_matches("pip", "pip@1")
        );
    }

    static RUNNER: Trigger = Trigger {
        programs: &["uv", "uvx"],
        python_module: Some("uv"),
        options_with_value: &["--python", "--from"],
        runs_program: &[&["run"], &["tool", "run"]],
        ..Trigger::NONE
    };

    static FIRST_IS_PROGRAM: Trigger = Trigger {
        programs: &["uvx"],
        options_with_value: &["--from"],
        runs_program: &[&[]],
        ..Trigger::NONE
    };

    #[test]
    fn a_tools_own_words_end_where_the_program_it_runs_starts() {
        // Nothing run: every word is the tool's.
        assert_eq!(own_end(&RUNNER, &["uv", "sync", "--no-cache"]), 3);
        assert_eq!(
            own_end(
                &RUNNER,
                &[
                    "uv",
                    "run",
                    "--no-cache",
                    "--python",
                    "3.12",
                    "pytest",
                    "-n",
                    "4"
                ]
            ),
            5
        );
        assert_eq!(
            own_end(
                &RUNNER,
                &[
                    "uv",
                    "--no-cache",
                    "tool",
                    "--from",
                    "x",
                    "run",
                    "ruff",
                    "check"
                ]
            ),
            6
        );
        assert_eq!(
            own_end(&RUNNER, &["python", "-m", "uv", "run", "pytest"]),
            4
        );
        assert_eq!(
            own_end(&FIRST_IS_PROGRAM, &["uvx", "ruff", "check", "--no-cache"]),
            1
        );
        assert_eq!(
            own_end(
                &FIRST_IS_PROGRAM,
                &["uvx", "--no-cache", "--from", "ruff==0.5", "ruff", "check"]
            ),
            4
        );
        // `--` ends the tool's options.
        assert_eq!(
            own_end(&T, &["pip", "install", "x", "--", "--no-cache-dir"]),
            3
        );
        // `run` alone, or a path that does not follow: up to the end.
        assert_eq!(own_end(&RUNNER, &["uv", "run"]), 2);
        assert_eq!(
            own_end(&RUNNER, &["uv", "tool", "install", "ruff", "--no-cache"]),
            5
        );
    }

    #[test]
    fn environment_words() {
        assert!(env_value_matches("ccache gcc", "ccache"));
        assert!(env_value_matches("/usr/bin/ccache", "ccache"));
        assert!(!env_value_matches("sccache gcc", "ccache"));
        assert!(!env_value_matches("/usr/local/bin/sccache", "ccache"));
        assert!(env_value_matches("/usr/local/bin/sccache", "sccache"));
        assert!(env_value_matches("/usr/lib/ccache:/usr/bin", "/ccache"));
        assert!(!env_value_matches("anything", ""));
    }

    #[test]
    fn rm_words_expand_known_variables_and_home() {
        let vars = |n: &str| match n {
            "CARGO_HOME" => Some("/usr/local/cargo".to_string()),
            "EMPTY" => Some(String::new()),
            "SELF" => Some("$SELF".to_string()),
            _ => None,
        };
        assert_eq!(
            expand_word("$CARGO_HOME/registry", &vars, "/root").as_deref(),
            Some("/usr/local/cargo/registry")
        );
        assert_eq!(
            expand_word("${CARGO_HOME}/git/db", &vars, "/root").as_deref(),
            Some("/usr/local/cargo/git/db")
        );
        assert_eq!(
            expand_word("~/.cache/pip", &vars, "/home/app").as_deref(),
            Some("/home/app/.cache/pip")
        );
        assert_eq!(
            expand_word("~", &vars, "/home/app").as_deref(),
            Some("/home/app")
        );
        assert_eq!(
            expand_word("/var/lib/apt/lists/*", &vars, "/root").as_deref(),
            Some("/var/lib/apt/lists/*")
        );
        for w in [
            "$UNKNOWN/x",
            "$EMPTY/x",
            "$SELF",
            "${CARGO_HOME:-/x}/registry",
            "$(pwd)/x",
            "`pwd`/x",
            "$1",
            "x$",
            "~app/x",
        ] {
            let got = expand_word(w, &vars, "/root");
            assert!(
                got.is_none() || w == "~app/x" && got.as_deref() == Some("~app/x"),
                "{w}: {got:?}"
            );
        }
    }

    #[test]
    fn ids_are_scoped() {
        let p = Platform::new("linux", "arm", "v7");
        assert_eq!(
            cache_id("pip", "wheels", Scope::PLATFORM_USER, &p, "", 1000),
            "hoard/pip/wheels/linux-arm-v7/u1000"
        );
        assert_eq!(
            cache_id("pip", "wheels", Scope::PLATFORM_USER, &p, "", 0),
            "hoard/pip/wheels/linux-arm-v7"
        );
        assert_eq!(
            cache_id(
                "apt",
                "archives",
                Scope::DISTRO_PLATFORM,
                &p,
                "docker.io/library/debian:bookworm",
                0
            ),
            "hoard/apt/archives/linux-arm-v7/debian-bookworm"
        );
    }

    #[test]
    fn locations_resolve() {
        let user = UserInfo {
            uid: 1000,
            gid: 1000,
            home: "/home/app".into(),
        };
        let env = vec![("CARGO_HOME".to_string(), "/usr/local/cargo".to_string())];
        let (t, c) = resolve(
            &Location::UnderEnv {
                var: "CARGO_HOME",
                default: "~/.cargo",
                sub: "registry/index",
            },
            &env,
            &user,
            "/",
        );
        assert_eq!((t.as_str(), c), ("/usr/local/cargo/registry/index", None));
        let (t, _) = resolve(
            &Location::UnderEnv {
                var: "X",
                default: "~/.cargo",
                sub: "git/db",
            },
            &[],
            &user,
            "/",
        );
        assert_eq!(t, "/home/app/.cargo/git/db");
        let (t, c) = resolve(
            &Location::Redirect {
                var: "PIP_CACHE_DIR",
                path: "/var/cache/hoard/pip",
            },
            &[],
            &user,
            "/",
        );
        assert_eq!(t, "/var/cache/hoard/pip");
        assert_eq!(
            c,
            Some(EnvChange::Set(
                "PIP_CACHE_DIR".into(),
                "/var/cache/hoard/pip".into()
            ))
        );
        let env = vec![("PIP_CACHE_DIR".to_string(), "cache".to_string())];
        let (t, c) = resolve(
            &Location::Redirect {
                var: "PIP_CACHE_DIR",
                path: "/x",
            },
            &env,
            &user,
            "/app",
        );
        assert_eq!((t.as_str(), c), ("/app/cache", None));
    }

    #[test]
    fn delete_rules() {
        assert!(deletes("/var/lib/apt/lists", "/var/lib/apt/lists"));
        assert!(deletes("/var/lib/apt/lists", "/var/lib/apt/lists/partial"));
        assert!(!deletes("/var/lib/apt/lists/*", "/var/lib/apt/lists"));
        assert!(deletes(
            "/var/lib/apt/lists/*",
            "/var/lib/apt/lists/partial"
        ));
        assert!(!deletes("/root/.cache2", "/root/.cache"));
        assert!(
            usable_target("/var/cache/x")
                && !usable_target("/dev/null")
                && !usable_target("/")
                && !usable_target("x")
        );
    }

    #[test]
    fn no_mounts_where_the_step_deletes_or_at_device_paths() {
        let p = plan_shell("cargo build --release && rm -rf /root/.cargo/registry");
        let targets: Vec<&str> = p.mounts.iter().map(|m| m.target.as_str()).collect();
        assert!(
            !targets
                .iter()
                .any(|t| t.starts_with("/root/.cargo/registry")),
            "{targets:?}"
        );
        assert!(targets.contains(&"/root/.cargo/git/db"), "{targets:?}");
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("deletes /root/.cargo/registry")),
            "{:?}",
            p.notes
        );
        let p = plan_shell_with(
            "composer install",
            &[("COMPOSER_CACHE_DIR", "/dev/null")],
            0,
            "/root",
        );
        assert!(
            p.mounts.iter().all(|m| !m.target.starts_with("/dev")),
            "{:?}",
            p.mounts
        );
        // Spelled with the variable (from the image, or set in the script) or with `~`.
        for (cmd, env) in [
            ("cargo build --release && rm -rf $CARGO_HOME/registry", &[("CARGO_HOME", "/usr/local/cargo")][..]),
            ("export CARGO_HOME=/usr/local/cargo && cargo build && rm -rf \"${CARGO_HOME}/registry\"", &[]),
            ("CARGO_HOME=/usr/local/cargo; export CARGO_HOME; cargo build; rm -rf $CARGO_HOME/registry/", &[]),
        ] {
            let p = plan_shell_with(cmd, env, 0, "/root");
            let targets: Vec<&str> = p.mounts.iter().map(|m| m.target.as_str()).collect();
            assert!(targets.contains(&"/usr/local/cargo/git/db"), "{cmd}: {targets:?}");
            assert!(!targets.iter().any(|t| t.starts_with("/usr/local/cargo/registry")), "{cmd}: {targets:?}");
            assert!(!p.notes.iter().any(|n| n.contains("empties the cache")), "{cmd}: {:?}", p.notes);
        }
        let caches = |p: &Plan| -> Vec<String> {
            p.mounts
                .iter()
                .filter(|m| matches!(m.kind, MountKind::Cache { .. }))
                .map(|m| m.target.clone())
                .collect()
        };
        let p = plan_shell_with("cargo fetch && rm -rf ~/.cargo/git", &[], 1000, "/home/app");
        assert_eq!(
            caches(&p),
            [
                "/home/app/.cargo/registry/index",
                "/home/app/.cargo/registry/cache"
            ]
        );
        // An unknown variable: nothing known is deleted, the mounts stay.
        let p = plan_shell("cargo fetch && rm -rf $SOMEWHERE/registry");
        assert_eq!(caches(&p).len(), 3, "{:?}", p.mounts);
    }

    #[test]
    fn a_second_spelling_follows_the_mount() {
        // pnpm: npm_config_store_dir is the Redirect, pnpm_config_store_dir follows it.
        let p = plan_shell("pnpm install");
        let store = "/var/cache/hoard/pnpm/store";
        assert!(
            p.env
                .contains(&EnvChange::Set("npm_config_store_dir".into(), store.into())),
            "{:?}",
            p.env
        );
        assert!(
            p.env.contains(&EnvChange::Set(
                "pnpm_config_store_dir".into(),
                store.into()
            )),
            "{:?}",
            p.env
        );
        let p = plan_shell_with(
            "pnpm install",
            &[("npm_config_store_dir", "/pnpm-store")],
            0,
            "/root",
        );
        assert!(p.mounts.iter().any(|m| m.target == "/pnpm-store"));
        assert_eq!(
            p.env,
            [EnvChange::Set(
                "pnpm_config_store_dir".into(),
                "/pnpm-store".into()
            )]
        );
        // The step's own value stays.
        let p = plan_shell_with(
            "pnpm install",
            &[("pnpm_config_store_dir", "/mine")],
            0,
            "/root",
        );
        assert!(
            !p.env
                .iter()
                .any(|e| matches!(e, EnvChange::Set(k, _) if k == "pnpm_config_store_dir")),
            "{:?}",
            p.env
        );
        // No mount, no variable: a user's own mount of the store.
        let sel = Selection::default();
        let user = UserInfo::root();
        let platform = Platform::new("linux", "amd64", "");
        let args = vec!["/bin/sh".to_string(), "-c".into(), "pnpm install".into()];
        let p = plan(&Step {
            args: &args,
            shell_form: true,
            extra_scripts: &[],
            env: &[],
            cwd: "/",
            user: &user,
            platform: &platform,
            base: "docker.io/library/node:20",
            user_mounts: &[store.to_string()],
            user_caches: &[],
            protected: &[],
            wrapped: &[],
            selection: &sel,
        });
        assert!(p.mounts.is_empty() && p.env.is_empty(), "{p:?}");
    }

    #[test]
    fn exports_and_sudo_are_followed() {
        let p = plan_shell("export CARGO_HOME=/opt/cargo && cargo fetch");
        assert!(
            p.mounts
                .iter()
                .any(|m| m.target == "/opt/cargo/registry/index"),
            "{:?}",
            p.mounts
        );
        let p = plan_shell_with("sudo apt-get update", &[], 1000, "/home/app");
        let apt: Vec<_> = p
            .mounts
            .iter()
            .filter(|m| matches!(m.kind, MountKind::Cache { .. }))
            .collect();
        assert!(!apt.is_empty(), "{:?} {:?}", p.mounts, p.notes);
        assert!(apt
            .iter()
            .all(|m| matches!(m.kind, MountKind::Cache { uid: 0, gid: 0, .. })));
        let p = plan_shell_with("apt-get update", &[], 1000, "/home/app");
        assert!(
            p.mounts.is_empty() && p.notes.iter().any(|n| n.contains("not root")),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn overlap_rules() {
        assert!(overlaps("/root/.cache/pip", "/root/.cache"));
        assert!(overlaps("/root/.cache", "/root/.cache/pip"));
        assert!(overlaps("/a", "/a"));
        assert!(!overlaps("/root/.cache2", "/root/.cache"));
    }

    #[test]
    fn selection() {
        let mut s = Selection::default();
        assert!(s.allows("pip"));
        s.skip.insert("pip".into());
        assert!(!s.allows("pip"));
        s.only = Some(BTreeSet::from(["apt".to_string()]));
        assert!(s.allows("apt") && !s.allows("npm"));
        s.enabled = false;
        assert!(!s.allows("apt"));
    }

    #[test]
    fn shim_prelude_finds_the_real_tool() {
        let dir = std::env::temp_dir().join(format!("hoard-shim-{}", std::process::id()));
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("tool"), "#!/bin/sh\necho real \"$@\"\nexit 4\n").unwrap();
        let script = format!("{}hoard_real tool \"$@\"\nexit $?\n", shim_prelude());
        let shim = dir.join("shim");
        std::fs::write(&shim, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bin.join("tool"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = std::process::Command::new("/bin/sh")
            .arg(&shim)
            .arg("a b")
            .env(
                "PATH",
                format!("{SHIM_DIR}:{}:/usr/bin:/bin", bin.display()),
            )
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "real a b\n");
        assert_eq!(out.status.code(), Some(4));
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// Detection through what stands in front of a tool (cross wrappers, interpreters, versions
/// spelled with variables), and what becomes of a tool's cache in its step.
#[cfg(test)]
mod detection_tests {
    use super::*;

    fn tools(p: &Plan) -> Vec<&str> {
        let mut t: Vec<&str> = p.tools.iter().map(|d| d.tool.as_str()).collect();
        t.dedup();
        t
    }

    fn cache_ids(p: &Plan) -> Vec<(String, String)> {
        p.mounts
            .iter()
            .filter_map(|m| match &m.kind {
                MountKind::Cache { id, .. } => Some((m.target.clone(), id.clone())),
                _ => None,
            })
            .collect()
    }

    /// Plan as root on linux/amd64 with the given step environment.
    fn plan_env(cmd: &str, env: &[(&str, &str)]) -> Plan {
        plan_shell_with(cmd, env, 0, "/root")
    }

    #[test]
    fn xx_wrappers_run_the_real_tools() {
        for (cmd, tool) in [
            ("xx-apk add musl-dev gcc", "apk"),
            ("xx-apt-get install -y libc6-dev", "apt"),
            ("xx-apt install -y gcc", "apt"),
            ("CGO_ENABLED=0 xx-go build -o /out/app ./cmd/app", "go"),
            ("xx-go install gotest.tools/gotestsum@v1", "go"),
            ("xx-cargo build --release --bin app", "cargo"),
            (
                "xx-cargo chef cook --profile release --recipe-path recipe.json",
                "cargo",
            ),
            (
                "PKG_CONFIG=x ${EXTRA:+env A=1} xx-cargo build --release",
                "cargo",
            ),
        ] {
            assert_eq!(tools(&plan_env(cmd, &[])), [tool], "{cmd}");
        }
        // Configuration only.
        for cmd in [
            "xx-go --wrap",
            "xx-cargo --print-target-triple",
            "xx-cargo --setup-target-triple",
            "xx-info arch",
            "xx-verify --static /out/app",
            "xx-cargo chef prepare --recipe-path r.json",
        ] {
            assert!(tools(&plan_env(cmd, &[])).is_empty(), "{cmd}");
        }
    }

    #[test]
    fn xx_cache_ids_follow_the_target_platform() {
        let arm = [("TARGETPLATFORM", "linux/arm64")];
        let p = plan_env("xx-go build ./...", &arm);
        assert!(
            cache_ids(&p).contains(&(
                "/var/cache/hoard/go/build".into(),
                "hoard/go/build/linux-arm64".into()
            )),
            "{:?}",
            p.mounts
        );
        assert!(
            cache_ids(&p).contains(&("/var/cache/hoard/go/mod".into(), "hoard/go/mod".into())),
            "modules are arch-neutral"
        );
        // The same step without the wrapper builds for the exec platform.
        let p = plan_env("go build ./...", &arm);
        assert!(cache_ids(&p).contains(&(
            "/var/cache/hoard/go/build".into(),
            "hoard/go/build/linux-amd64".into()
        )));
        // Other spellings of the target, as xx-info reads them.
        for env in [
            &[("TARGETPAIR", "linux-armv7")][..],
            &[
                ("TARGETOS", "linux"),
                ("TARGETARCH", "arm"),
                ("TARGETVARIANT", "v7"),
            ],
        ] {
            let p = plan_env("xx-cargo build --release", env);
            let target = cache_ids(&p)
                .into_iter()
                .find(|(t, _)| t == "/var/cache/hoard/cargo/target")
                .map(|(_, id)| id);
            assert_eq!(
                target.as_deref(),
                Some("hoard/cargo/target/linux-arm-v7"),
                "{env:?}"
            );
        }
        // Set by the script itself.
        let p = plan_env("export TARGETPLATFORM=linux/386 && xx-go build .", &[]);
        assert!(
            cache_ids(&p)
                .iter()
                .any(|(_, id)| id == "hoard/go/build/linux-386"),
            "{:?}",
            p.mounts
        );
        // No target: xx builds for the platform it runs on.
        let p = plan_env("xx-go build .", &[]);
        assert!(cache_ids(&p)
            .iter()
            .any(|(_, id)| id == "hoard/go/build/linux-amd64"));
        // A target hoard cannot read: the exec platform, said in a note.
        let p = plan_env("xx-go build .", &[("TARGETPLATFORM", "$PLATFORM")]);
        assert!(cache_ids(&p)
            .iter()
            .any(|(_, id)| id == "hoard/go/build/linux-amd64"));
        assert!(
            p.notes.iter().any(|n| n.contains("cannot read")),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn xx_apk_target_packages_get_the_target_platform_cache() {
        let p = plan_env(
            "xx-apk add --no-cache musl-dev gcc",
            &[("TARGETPLATFORM", "linux/arm64")],
        );
        let ids = cache_ids(&p);
        assert!(
            ids.contains(&(
                "/etc/apk/cache".into(),
                "hoard/apk/cache/linux-amd64/debian-bookworm".into()
            )),
            "{ids:?}"
        );
        assert!(
            ids.contains(&(
                "/etc/apk/cache/_aarch64".into(),
                "hoard/apk/cache/linux-arm64/debian-bookworm".into()
            )),
            "{ids:?}"
        );
        assert_eq!(
            p.script.as_deref(),
            Some("xx-apk add --update-cache musl-dev gcc")
        );
        // Not cross: one cache, the exec platform's.
        let p = plan_env("xx-apk add gcc", &[("TARGETPLATFORM", "linux/amd64")]);
        assert_eq!(cache_ids(&p).len(), 1, "{:?}", p.mounts);
        // apt keeps one lists/archives cache per exec platform (multiarch names by arch).
        let p = plan_env(
            "xx-apt-get install -y libc6-dev",
            &[("TARGETPLATFORM", "linux/arm64")],
        );
        assert!(
            cache_ids(&p)
                .iter()
                .all(|(_, id)| id.contains("/linux-amd64/")),
            "{:?}",
            p.mounts
        );
    }

    #[test]
    fn tools_reached_through_an_interpreter_or_a_path() {
        for (cmd, env, tool) in [
            (
                "cd package && node bin/npm-cli.js install -g /tmp/npm.tgz",
                &[][..],
                "npm",
            ),
            (
                "nodejs --max-old-space-size=4096 /usr/lib/node_modules/npm/bin/npm-cli.js ci",
                &[],
                "npm",
            ),
            (
                "node /opt/yarn/bin/yarn.js install --frozen-lockfile",
                &[],
                "yarn",
            ),
            (
                "php -d memory_limit=-1 /usr/local/bin/composer.phar install",
                &[],
                "composer",
            ),
            (
                "/venv-build/bin/python${PYTHON_VERSION} -m pip install --upgrade pip",
                &[],
                "pip",
            ),
            (
                "python${PYTHON_VERSION} -m pip install -r requirements.txt",
                &[("PYTHON_VERSION", "3.12")],
                "pip",
            ),
            (
                "/opt/netbox/venv/bin/python3.12 -m pip install x",
                &[],
                "pip",
            ),
            ("/venv/bin/python3.$MINOR -m pip install x", &[], "pip"),
            (
                "/opt/conda/bin/python -mpip install -r requirements.txt",
                &[],
                "pip",
            ),
            ("python3 -u -m pip install x", &[], "pip"),
            ("python3 /usr/local/bin/pip3 install x", &[], "pip"),
            ("/opt/conda/bin/pip install torchelastic", &[], "pip"),
            (
                "bash ~/miniconda.sh -b -p /opt/conda && /opt/conda/bin/conda install -y numpy",
                &[],
                "conda",
            ),
        ] {
            assert!(
                tools(&plan_env(cmd, env)).contains(&tool),
                "{cmd}: {:?}",
                plan_env(cmd, env).tools
            );
        }
        let p = plan_env("bash ~/miniconda.sh -b -p /opt/conda && /opt/conda/bin/conda install -y numpy && /opt/conda/bin/python -mpip install x", &[]);
        assert_eq!(tools(&p), ["conda", "pip"]);
        assert!(
            p.tools.iter().all(|t| t.cache == ToolCache::Hoard),
            "{:?}",
            p.tools
        );
        for cmd in [
            "node index.js",
            "node -e 'require(\"npm\")'",
            "python3 setup.py install",
            "python3 -c 'import pip'",
            "python${V}x -m pip install y",
            "php artisan migrate",
        ] {
            assert!(tools(&plan_env(cmd, &[])).is_empty(), "{cmd}");
        }
    }

    #[test]
    fn names_that_contain_a_tool_are_no_use() {
        for cmd in [
            "apk add --no-cache --virtual .build-deps-yarn curl gnupg tar && apk del .build-deps-yarn",
            "apt-get install -y python3-pip ccache cargo golang npm yarn",
            "pip install conda-lock poetry-plugin-export",
        ] {
            let p = plan_env(cmd, &[]);
            assert_eq!(tools(&p).len(), 1, "{cmd}: {:?}", p.tools);
        }
        // A smoke test of a tool's version is no use of its cache.
        for cmd in [
            "yarn --version",
            "yarn -v",
            "npx --version",
            "ccache --version",
            "sccache --show-stats",
        ] {
            assert!(tools(&plan_env(cmd, &[])).is_empty(), "{cmd}");
        }
        assert_eq!(tools(&plan_env("yarn", &[])), ["yarn"]);
    }

    #[test]
    fn private_paths_are_never_blocked_by_a_copy_into_an_ancestor() {
        let root = [Written {
            path: String::new(),
            line: 3,
            by: "COPY --from=xx / /".into(),
            ..Written::default()
        }];
        let p = plan_step("apt-get update && apt-get install -y gcc", &[], &[], &root);
        let targets: Vec<String> = cache_ids(&p).into_iter().map(|m| m.0).collect();
        assert_eq!(
            targets,
            ["/var/cache/hoard/apt/cache", "/var/cache/hoard/apt/lists"]
        );
        assert!(p
            .mounts
            .iter()
            .any(|m| m.target == "/etc/apt/apt.conf.d/zz-hoard"));
        let p = plan_step(
            "pip install flask && go build . && cargo build --release",
            &[("CARGO_HOME", "/usr/local/cargo")],
            &[],
            &root,
        );
        let targets: Vec<String> = cache_ids(&p).into_iter().map(|m| m.0).collect();
        for t in [
            "/var/cache/hoard/pip",
            "/var/cache/hoard/go/build",
            "/var/cache/hoard/cargo/target",
        ] {
            assert!(targets.contains(&t.to_string()), "{t}: {targets:?}");
        }
        // The tool's own stock directories may hold what the COPY brought: left alone, and said.
        assert!(
            !targets.iter().any(|t| t.starts_with("/usr/local/cargo")),
            "{targets:?}"
        );
        let p = plan_step("apk add curl", &[], &[], &root);
        assert!(
            p.mounts.is_empty(),
            "no cache: no shim, no flag edit either: {:?}",
            p.mounts
        );
        let ToolCache::None(why) = &p.tools[0].cache else {
            panic!("{:?}", p.tools)
        };
        assert!(
            why.contains("`COPY --from=xx / /` (line 3)") && why.contains("/etc/apk/cache"),
            "{why}"
        );
        // A narrower COPY elsewhere does not matter.
        let p = plan_step("apk add curl", &[], &[], &[Written::path("/app")]);
        assert_eq!(p.tools[0].cache, ToolCache::Hoard);
    }

    #[test]
    fn every_uncached_tool_says_why() {
        let p = plan_shell_with("apt-get install -y curl", &[], 1000, "/home/app");
        let ToolCache::None(why) = &p.tools[0].cache else {
            panic!("{:?}", p.tools)
        };
        assert!(why.contains("uid 1000") && why.contains("USER"), "{why}");
        let p = plan_shell("go build . && rm -rf /var/cache/hoard");
        let ToolCache::None(why) = &p.tools[0].cache else {
            panic!("{:?}", p.tools)
        };
        assert!(why.contains("deletes /var/cache/hoard"), "{why}");
        let p = plan_shell_with(
            "composer install",
            &[("COMPOSER_CACHE_DIR", "/dev/null")],
            0,
            "/root",
        );
        let ToolCache::None(why) = &p.tools[0].cache else {
            panic!("{:?}", p.tools)
        };
        assert!(why.contains("/dev/null"), "{why}");
        // The step's own cache mount on the tool's directory: reported as the author's.
        let p = plan_step(
            "pip install x",
            &[("PIP_CACHE_DIR", "/root/.cache/pip")],
            &["/root/.cache".to_string()],
            &[],
        );
        assert_eq!(p.tools[0].cache, ToolCache::Yours);
        assert!(cache_ids(&p).is_empty(), "{:?}", p.mounts);
    }

    /// What a step leaves wrapped for the stage's next steps.
    #[test]
    fn wrapped_after_a_step() {
        let sh = |cmd: &str| vec!["/bin/sh".to_string(), "-c".into(), cmd.to_string()];
        let go = vec!["go".to_string()];
        assert_eq!(
            wrapped_after(&sh("xx-apk add gcc && xx-go --wrap"), true, &[], &[]),
            go
        );
        assert_eq!(wrapped_after(&sh("apk add git"), true, &[], &go), go);
        assert!(wrapped_after(&sh("xx-go --unwrap"), true, &[], &go).is_empty());
        assert!(wrapped_after(&sh("xx-go build ."), true, &[], &[]).is_empty());
        let exec = vec!["xx-go".to_string(), "--wrap".into()];
        assert_eq!(wrapped_after(&exec, false, &[], &[]), go);
        let heredoc = vec!["#!/bin/sh\nset -e\nxx-go --wrap\n".to_string()];
        assert_eq!(
            wrapped_after(&["/dev/pipes/EOF".into()], false, &heredoc, &[]),
            go
        );
    }

    /// A script an earlier instruction wrote whole (`COPY <<EOF /build.sh`) and the step runs
    /// by path: its commands are the step's.
    #[test]
    fn scripts_written_by_the_dockerfile_are_read() {
        let w = Written {
            path: "/build.sh".into(),
            content: Some(
                "#!/bin/sh\nset -e\nif [ -n \"$X\" ]; then pip install flask; fi\n".into(),
            ),
            ..Written::default()
        };
        for cmd in [
            "/build.sh",
            "sh /build.sh",
            "cd / && ./build.sh",
            "set -e; /build.sh --fast",
        ] {
            let p = plan_step(cmd, &[], &[], std::slice::from_ref(&w));
            assert!(
                p.tools.iter().any(|t| t.tool == "pip"),
                "{cmd}: {:?}",
                p.tools
            );
        }
        for cmd in [
            "cat /build.sh",
            "/other.sh",
            "build.sh",
            "cd /tmp && ./build.sh",
        ] {
            let p = plan_step(cmd, &[], &[], std::slice::from_ref(&w));
            assert!(p.tools.is_empty(), "{cmd}: {:?}", p.tools);
        }
        // Without its text (a COPY from the context), nothing is known of it.
        let copied = Written::path("/build.sh");
        assert!(plan_step("/build.sh", &[], &[], &[copied]).tools.is_empty());
    }
}
