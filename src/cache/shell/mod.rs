//! Shell analysis of a `RUN` command: which programs it runs, with which arguments, under
//! which variable assignments and in which directory.
//!
//! The script is parsed the way POSIX sh / bash would tokenise it (lists, pipelines, quoting,
//! `$(...)`, compound commands, redirections, heredocs) and every *simple command* that would
//! run a program becomes an [`Invocation`]. Nothing is executed and nothing is expanded: words
//! keep `$VAR`, `${...}`, `$(...)` and backticks verbatim (minus the quotes around them).
//!
//! Choices worth knowing:
//! * Wrappers are unwrapped: `env A=1 sudo -E nice pip install x` yields one invocation whose
//!   argv is `pip install x` (the wrappers are listed in [`Analysed::wrappers`]).
//!   `xargs [opts] cmd` yields `cmd`; `find ... -exec cmd {} \;` yields `find` and `cmd`.
//! * `sh -c '...'`, `bash -lc "..."`, `su -c '...'`, `eval '...'`, `trap '...' EXIT`,
//!   `sh <<EOF` / `bash <<<"..."` bodies and command substitutions (`$(...)`, backticks,
//!   `<(...)`) are analysed recursively; their invocations have `nested: true` and no spans.
//!   The shell itself is not reported (a shell that runs a script *file*, or reads a pipe,
//!   is reported as-is).
//! * State-only builtins are not reported: `cd`, `pushd`, `popd`, `export`, `declare`,
//!   `typeset`, `local`, `readonly`, `unset`, `set`, `shopt`, `:`, `exit`, `return`, `break`,
//!   `continue`, `shift`, `wait`, `trap`, `eval`, `read`, `alias`, `unalias`, `hash`, `umask`,
//!   `ulimit`, and assignment-only commands. Function definitions are not reported, but their
//!   bodies are analysed once where they are defined (calls are ordinary invocations).
//! * `cd DIR` with a literal DIR changes the directory of later commands of the same shell
//!   (relative dirs resolve against the previous one; lexically cleaned). `cd` inside `( )`,
//!   a pipeline element, a `&` job or a nested script does not leak out. `cd` with no
//!   argument, `cd ~`, `cd $X`, `cd *` (anything with an expansion, tilde or glob) or `popd`
//!   past the `pushd` stack makes the directory unknown: `cwd` is `None` and
//!   [`Analysed::cwd_unknown`] is true. `cd -` returns to the previous directory.
//!   When branches (`if`, `case`, `||`, loops that may run zero times) leave different
//!   directories, the directory becomes unknown.
//! * Variables: `A=1` (shell variable), `export A=1`, `declare -x`, `set -a` + `A=1`, prefix
//!   assignments, `env A=1`, `sudo A=1` are tracked. A variable set in only some branches of an
//!   `if`/`case`/loop is taken as set ("set wins"). Values are kept verbatim (after quote
//!   removal), `$OTHER` is not substituted. `A+=x` appends to a known value, else to `$A`.
//! * `sudo` without `-E`/`--preserve-env` resets the environment (only its own assignments
//!   remain); `env -i` clears it. `sudo`, `su`, `runuser`, `gosu`, `su-exec`, `doas` set
//!   [`Analysed::user`] (default `root`).
//! * Spans are exact byte ranges of the whole word (quotes included) in the analysed script,
//!   `None` for words of nested scripts, of command substitutions, or containing a line
//!   continuation (`\` + newline).
//! * Never panics; unterminated quotes, substitutions or heredocs extend to the end of the
//!   script. Absurdly deep nesting (> 48 levels) is skipped rather than analysed.

mod command;
#[cfg(test)]
mod dequote;
mod parse;
#[cfg(test)]
mod tests;

/// One simple command found in the script.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Invocation {
    /// The words after quote removal. Words with expansions keep their `$` text.
    pub argv: Vec<Word>,
    /// `VAR=value` prefixes and `env VAR=value` / `sudo VAR=value` assignments for this
    /// command, in order (later entries win).
    pub assignments: Vec<(String, String)>,
    /// The directory it runs in when a literal `cd DIR` earlier in the script changed it
    /// (absolute, or relative to the step's working dir). `None` when unchanged or unknown
    /// (see [`Analysed::cwd_unknown`]).
    pub cwd: Option<String>,
    /// True when the command sits inside a nested script (`sh -c '...'`, a heredoc body, a
    /// command substitution): its words cannot be edited in the step's command line.
    pub nested: bool,
}

/// A word of a command.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Word {
    pub text: String,
    /// Byte range of the word in the analysed script, when it can be edited there.
    pub span: Option<(usize, usize)>,
}

/// An [`Invocation`] with the rest of what the analysis knows about it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Analysed {
    pub inv: Invocation,
    /// The variables the script puts in this command's environment, in order (later entries
    /// win): variables exported earlier in the script (`export`, `declare -x`, `set -a`),
    /// then this command's own [`Invocation::assignments`]. Variables inherited from the
    /// image (`ENV`) are not included unless the script set them.
    pub env: Vec<(String, String)>,
    /// Non-exported shell variables set earlier in the script (`A=1; ...`). They reach the
    /// command only if the name is already an environment variable (e.g. from `ENV`).
    pub shell_vars: Vec<(String, String)>,
    /// True when a `cd` the analysis could not follow ran earlier (`cwd` is then `None`).
    pub cwd_unknown: bool,
    /// Wrapper programs the command was found inside, outermost first, by basename:
    /// `sudo`, `env`, `xargs`, `find`, `sh`, `bash`, `su`, `eval`, ...
    pub wrappers: Vec<String>,
    /// The user it runs as when a wrapper switched user (`sudo` → `root`, `sudo -u x`,
    /// `su x -c`, `gosu x`, ...).
    pub user: Option<String>,
}

impl Invocation {
    /// Basename of `argv[0]` (`""` when argv is empty).
    pub fn program(&self) -> &str {
        self.argv.first().map(|w| basename(&w.text)).unwrap_or("")
    }

    /// The argument texts after `argv[0]`.
    pub fn args(&self) -> impl Iterator<Item = &str> {
        self.argv.iter().skip(1).map(|w| w.text.as_str())
    }
}

impl Analysed {
    /// The value the script gave `name` in this command's environment, if any.
    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Analyse a shell script (the last argument of `/bin/sh -c`).
pub fn analyze(script: &str) -> Vec<Invocation> {
    analyze_detailed(script)
        .into_iter()
        .map(|a| a.inv)
        .collect()
}

/// Analyse an exec-form command (`RUN ["pip", "install", "x"]`), following `sh -c` into its
/// script.
pub fn analyze_exec(argv: &[String]) -> Vec<Invocation> {
    analyze_exec_detailed(argv)
        .into_iter()
        .map(|a| a.inv)
        .collect()
}

/// [`analyze`] with environment, wrapper, user and directory details.
pub fn analyze_detailed(script: &str) -> Vec<Analysed> {
    let mut p = parse::Parser::new(script, false, 0, Ctx::default());
    p.run();
    p.out
}

/// [`analyze_exec`] with environment, wrapper, user and directory details. Exec-form words
/// have no spans (there is no script text to edit).
pub fn analyze_exec_detailed(argv: &[String]) -> Vec<Analysed> {
    let mut p = parse::Parser::new("", false, 0, Ctx::default());
    let words = argv.iter().map(|a| parse::W::plain(a)).collect();
    p.run_simple(Vec::new(), words, None, false);
    p.finish();
    p.out
}

/// The last path component (`/usr/bin/pip3` → `pip3`).
pub(crate) fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// The working directory as far as the analysis knows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) enum Cwd {
    /// The step's working directory.
    #[default]
    Start,
    /// Absolute, or relative to the step's working directory (never `.`).
    Dir(String),
    Unknown,
}

impl Cwd {
    /// `cd target` from here (target literal, non-empty).
    pub(super) fn join(&self, target: &str) -> Cwd {
        if target.starts_with('/') {
            return Cwd::Dir(clean(target, true));
        }
        let rel = |p: String| if p == "." { Cwd::Start } else { Cwd::Dir(p) };
        match self {
            Cwd::Start => rel(clean(target, false)),
            Cwd::Dir(d) if d.starts_with('/') => Cwd::Dir(clean(&format!("{d}/{target}"), true)),
            Cwd::Dir(d) => rel(clean(&format!("{d}/{target}"), false)),
            Cwd::Unknown => Cwd::Unknown,
        }
    }

    fn output(&self) -> (Option<String>, bool) {
        match self {
            Cwd::Start => (None, false),
            Cwd::Dir(d) => (Some(d.clone()), false),
            Cwd::Unknown => (None, true),
        }
    }
}

/// Lexical path cleaning (`a/./b/../c` → `a/c`); relative paths keep leading `..`.
fn clean(p: &str, absolute: bool) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            c => parts.push(c),
        }
    }
    if absolute {
        format!("/{}", parts.join("/"))
    } else if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Var {
    name: String,
    value: Option<String>,
    exported: bool,
}

/// What a shell knows while running the script.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Ctx {
    pub cwd: Cwd,
    oldpwd: Option<Cwd>,
    dirs: Vec<Cwd>,
    vars: Vec<Var>,
    allexport: bool,
    /// Set for nested scripts run through a user-switching wrapper.
    pub user: Option<String>,
    /// Wrappers around the whole (nested) script.
    pub wrappers: Vec<String>,
}

impl Ctx {
    /// A new process's shell: it sees `env` (exported) and nothing else of the parent.
    pub(super) fn process(
        cwd: Cwd,
        env: &[(String, String)],
        user: Option<String>,
        wrappers: Vec<String>,
    ) -> Ctx {
        let mut c = Ctx {
            cwd,
            user,
            wrappers,
            ..Ctx::default()
        };
        for (k, v) in env {
            c.set(k, Some(v.clone()), true);
        }
        c
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|v| v.name == name)
            .and_then(|v| v.value.as_deref())
    }

    /// Set (or, with `value: None`, only declare/export) a variable.
    pub(super) fn set(&mut self, name: &str, value: Option<String>, export: bool) {
        let export = export || (self.allexport && value.is_some());
        if let Some(v) = self.vars.iter_mut().find(|v| v.name == name) {
            if value.is_some() {
                v.value = value;
            }
            v.exported |= export;
        } else {
            self.vars.push(Var {
                name: name.to_string(),
                value,
                exported: export,
            });
        }
    }

    /// `name=value` or `name+=value` as a shell assignment (`value` unresolved).
    pub(super) fn assign(&mut self, name: &str, append: bool, value: &str, export: bool) {
        let value = self.resolve_append(name, append, value);
        self.set(name, Some(value), export);
    }

    pub(super) fn resolve_append(&self, name: &str, append: bool, value: &str) -> String {
        if !append {
            return value.to_string();
        }
        match self.get(name) {
            Some(old) => format!("{old}{value}"),
            None => format!("${name}{value}"),
        }
    }

    pub(super) fn unset(&mut self, name: &str) {
        self.vars.retain(|v| v.name != name);
    }

    pub(super) fn set_allexport(&mut self, on: bool) {
        self.allexport = on;
    }

    pub(super) fn exported(&self) -> Vec<(String, String)> {
        self.vars
            .iter()
            .filter(|v| v.exported)
            .filter_map(|v| Some((v.name.clone(), v.value.clone()?)))
            .collect()
    }

    pub(super) fn shell_vars(&self) -> Vec<(String, String)> {
        self.vars
            .iter()
            .filter(|v| !v.exported)
            .filter_map(|v| Some((v.name.clone(), v.value.clone()?)))
            .collect()
    }

    /// `cd`: `None` target means an unfollowable one (`$X`, `~`, no argument).
    pub(super) fn cd(&mut self, target: Option<&str>) {
        let new = match target {
            None => Cwd::Unknown,
            Some("") => return,
            Some("-") => self.oldpwd.clone().unwrap_or(Cwd::Unknown),
            Some(t) => self.cwd.join(t),
        };
        self.oldpwd = Some(std::mem::replace(&mut self.cwd, new));
    }

    pub(super) fn pushd(&mut self, target: Option<&str>) {
        let before = self.cwd.clone();
        self.cd(target);
        self.dirs.push(before);
    }

    pub(super) fn popd(&mut self) {
        let new = self.dirs.pop().unwrap_or(Cwd::Unknown);
        self.oldpwd = Some(std::mem::replace(&mut self.cwd, new));
    }

    /// The state after one of `outs` ran, starting from `pre`. Directories that differ become
    /// unknown; a variable changed in any branch takes that branch's value (last wins).
    pub(super) fn merge(pre: &Ctx, outs: &[Ctx]) -> Ctx {
        let Some(first) = outs.first() else {
            return pre.clone();
        };
        let mut r = pre.clone();
        let same = |f: &dyn Fn(&Ctx) -> bool| outs.iter().all(f);
        r.cwd = if same(&|o| o.cwd == first.cwd) {
            first.cwd.clone()
        } else {
            Cwd::Unknown
        };
        r.oldpwd = if same(&|o| o.oldpwd == first.oldpwd) {
            first.oldpwd.clone()
        } else {
            Some(Cwd::Unknown)
        };
        r.dirs = if same(&|o| o.dirs == first.dirs) {
            first.dirs.clone()
        } else {
            Vec::new()
        };
        for o in outs {
            r.allexport |= o.allexport;
            for v in &o.vars {
                if !pre.vars.contains(v) {
                    match r.vars.iter_mut().find(|x| x.name == v.name) {
                        Some(x) => *x = v.clone(),
                        None => r.vars.push(v.clone()),
                    }
                }
            }
        }
        r
    }
}

pub(super) fn cwd_output(c: &Cwd) -> (Option<String>, bool) {
    c.output()
}

/// `NAME=value` / `NAME+=value` split at the text level: (name, append, value).
pub(super) fn split_assignment(text: &str) -> Option<(&str, bool, &str)> {
    let eq = text.find('=')?;
    let (name, append) = match text[..eq].strip_suffix('+') {
        Some(n) => (n, true),
        None => (&text[..eq], false),
    };
    is_name(name).then(|| (name, append, &text[eq + 1..]))
}

/// A shell variable name.
pub(super) fn is_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c == b'_' || c.is_ascii_alphabetic())
        && b.all(|c| c == b'_' || c.is_ascii_alphanumeric())
}
