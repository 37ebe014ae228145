//! Simple commands: prefix assignments, wrappers (`env`, `sudo`, `xargs`, `sh -c`, ...),
//! state builtins (`cd`, `export`, `set`, ...) and the resulting [`Analysed`] records.

use super::parse::{Parser, Stdin, W};
use super::{basename, cwd_output, is_name, split_assignment, Analysed, Ctx, Cwd, Invocation};

/// What a command runs with, as wrappers are peeled off.
#[derive(Clone)]
struct Job {
    assignments: Vec<(String, String)>,
    env: Vec<(String, String)>,
    cwd: Cwd,
    user: Option<String>,
    wrappers: Vec<String>,
    /// Still run by the shell itself (builtins act on the shell's state).
    in_shell: bool,
}

impl Job {
    fn set_env(&mut self, name: &str, value: String) {
        self.env.retain(|(k, _)| k != name);
        self.env.push((name.to_string(), value.clone()));
        self.assignments.push((name.to_string(), value));
    }

    /// A shell started by this job: it sees the job's environment only.
    fn process_ctx(&self, shell: &str) -> Ctx {
        let mut wrappers = self.wrappers.clone();
        wrappers.push(shell.to_string());
        Ctx::process(self.cwd.clone(), &self.env, self.user.clone(), wrappers)
    }
}

/// The next step after looking at a wrapper.
enum Step {
    /// The wrapped command starts at this index.
    Inner(usize),
    /// Report the words from the current one on as they are.
    Emit,
    /// Nothing (more) to report.
    Done,
}

/// Options of a wrapper: `(option, value)` pairs and the index of the first non-option.
struct Opts {
    pairs: Vec<(String, Option<String>)>,
    next: usize,
}

/// Parse getopt-style options from `words[start..]`. `short_arg`: short options taking a
/// value; `long_arg`: long options taking a value (as a separate word unless `--x=v`).
fn opts(words: &[W], start: usize, short_arg: &str, long_arg: &[&str]) -> Opts {
    let mut pairs = Vec::new();
    let mut i = start;
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        if t == "--" {
            i += 1;
            break;
        }
        if let Some(long) = t.strip_prefix("--") {
            let (name, val) = match long.split_once('=') {
                Some((n, v)) => (format!("--{n}"), Some(v.to_string())),
                None => (t.to_string(), None),
            };
            if val.is_none() && long_arg.contains(&name.as_str()) {
                pairs.push((name, words.get(i + 1).map(|w| w.text.clone())));
                i += 2;
            } else {
                pairs.push((name, val));
                i += 1;
            }
            continue;
        }
        if t.len() < 2 || !t.starts_with('-') {
            break;
        }
        i += 1;
        for (k, c) in t.char_indices().skip(1) {
            if short_arg.contains(c) {
                let rest = &t[k + c.len_utf8()..];
                if rest.is_empty() {
                    pairs.push((format!("-{c}"), words.get(i).map(|w| w.text.clone())));
                    i += 1;
                } else {
                    pairs.push((format!("-{c}"), Some(rest.to_string())));
                }
                break;
            }
            pairs.push((format!("-{c}"), None));
        }
    }
    Opts {
        pairs,
        next: i.min(words.len()),
    }
}

fn inner_or(next: usize, words: &[W], otherwise: Step) -> Step {
    if next < words.len() {
        Step::Inner(next)
    } else {
        otherwise
    }
}

/// `words[i]` as a program that takes options and then runs a command (`nice -n 5 cmd`,
/// `xargs -n1 cmd`): where that command starts. `None`: `prog` is no such program.
fn run_after_options(job: &mut Job, words: &[W], i: usize, prog: &str) -> Option<Step> {
    Some(match prog {
        "exec" => inner_or(opts(words, i + 1, "a", &[]).next, words, Step::Done),
        "time" => inner_or(
            opts(words, i + 1, "fo", &["--format", "--output"]).next,
            words,
            Step::Done,
        ),
        "nice" => inner_or(
            opts(words, i + 1, "n", &["--adjustment"]).next,
            words,
            Step::Emit,
        ),
        "nohup" | "setsid" | "builtin" => {
            inner_or(opts(words, i + 1, "", &[]).next, words, Step::Emit)
        }
        "fakeroot" => inner_or(
            opts(words, i + 1, "lsib", &["--lib", "--faked"]).next,
            words,
            Step::Emit,
        ),
        "stdbuf" => inner_or(
            opts(words, i + 1, "ioe", &["--input", "--output", "--error"]).next,
            words,
            Step::Emit,
        ),
        "ionice" => inner_or(
            opts(words, i + 1, "cnpPu", &["--class", "--classdata"]).next,
            words,
            Step::Emit,
        ),
        "timeout" => {
            // Options, the duration, then the command.
            let o = opts(words, i + 1, "sk", &["--signal", "--kill-after"]);
            inner_or(o.next + 1, words, Step::Emit)
        }
        "command" => {
            let o = opts(words, i + 1, "", &[]);
            if o.pairs.iter().any(|(k, _)| k == "-v" || k == "-V") {
                Step::Emit
            } else {
                inner_or(o.next, words, Step::Done)
            }
        }
        "xargs" => {
            let o = opts(
                words,
                i + 1,
                "adEILnPs",
                &[
                    "--arg-file",
                    "--delimiter",
                    "--eof",
                    "--replace",
                    "--max-lines",
                    "--max-args",
                    "--max-procs",
                    "--max-chars",
                    "--process-slot-var",
                ],
            );
            job.in_shell = false;
            inner_or(o.next, words, Step::Emit)
        }
        "busybox" => match words.get(i + 1) {
            Some(a) if !a.text.starts_with('-') => Step::Inner(i + 1),
            _ => Step::Emit,
        },
        _ => return None,
    })
}

const SHELLS: [&str; 8] = ["sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "yash"];

/// Builtins that only change the shell's state: never reported.
const STATE_BUILTINS: [&str; 26] = [
    "cd", "pushd", "popd", "export", "declare", "typeset", "local", "readonly", "unset", "set",
    "shopt", ":", "exit", "return", "break", "continue", "shift", "wait", "trap", "eval", "read",
    "alias", "unalias", "hash", "umask", "ulimit",
];

impl Parser<'_> {
    /// A simple command: prefix assignments, words and what its stdin is. `in_shell`: run by
    /// a shell (false for exec form, where builtins do not exist).
    pub(super) fn run_simple(
        &mut self,
        assigns: Vec<(String, bool, String)>,
        words: Vec<W>,
        stdin: Option<Stdin>,
        in_shell: bool,
    ) {
        if words.is_empty() {
            for (name, append, value) in assigns {
                self.ctx.assign(&name, append, &value, false);
            }
            return;
        }
        let mut job = Job {
            assignments: Vec::new(),
            env: self.ctx.exported(),
            cwd: self.ctx.cwd.clone(),
            user: self.ctx.user.clone(),
            wrappers: self.ctx.wrappers.clone(),
            in_shell,
        };
        for (name, append, value) in assigns {
            let v = self.ctx.resolve_append(&name, append, &value);
            job.set_env(&name, v);
        }
        self.dispatch(job, &words, stdin.as_ref());
    }

    /// Peel the wrappers off a command word by word (each may change the job: its user, its
    /// environment, whether the shell still runs it), then report what is left, run it as a
    /// nested script, or apply it to the shell's state.
    fn dispatch(&mut self, mut job: Job, words: &[W], stdin: Option<&Stdin>) {
        let mut i = 0;
        while let Some(w) = words.get(i) {
            let prog = basename(&w.text).to_string();
            let step = match self.wrapper(&mut job, words, i, &prog) {
                Some(step) => step,
                // `${X:+env A=1} cmd`: a prefix that may expand to nothing.
                None if !w.quoted && i + 1 < words.len() && is_optional_prefix(&w.text) => {
                    job.wrappers.push(w.text.clone());
                    i += 1;
                    continue;
                }
                None => self.interpret(&job, words, i, &prog, stdin),
            };
            match step {
                Step::Inner(j) => {
                    if !matches!(prog.as_str(), "time" | "command" | "builtin" | "exec") {
                        job.in_shell = false;
                    }
                    job.wrappers.push(prog);
                    i = j;
                }
                Step::Emit => {
                    self.emit(&job, &words[i..]);
                    return;
                }
                Step::Done => return,
            }
        }
    }

    /// `words[i]` as a program that runs the rest of its words as another command: one that
    /// sets the environment or switches user, or one that only takes options
    /// ([`run_after_options`]). `None`: `prog` is no such program.
    fn wrapper(&mut self, job: &mut Job, words: &[W], i: usize, prog: &str) -> Option<Step> {
        Some(match prog {
            "env" => self.wrap_env(job, words, i),
            "sudo" | "doas" => wrap_sudo(job, words, i, prog == "doas"),
            "gosu" | "su-exec" | "s6-setuidgid" => match words.get(i + 1) {
                Some(u) if i + 2 < words.len() => {
                    job.user = Some(u.text.clone());
                    Step::Inner(i + 2)
                }
                _ => Step::Emit,
            },
            "su" | "runuser" => self.wrap_su(job, words, i, prog == "runuser"),
            _ => return run_after_options(job, words, i, prog),
        })
    }

    /// `words[i]` as what the shell itself interprets: a nested shell, `eval`, `trap`, `find`
    /// (which runs commands of its own) and the state builtins; anything else is reported.
    fn interpret(
        &mut self,
        job: &Job,
        words: &[W],
        i: usize,
        prog: &str,
        stdin: Option<&Stdin>,
    ) -> Step {
        match prog {
            p if SHELLS.contains(&p) => self.shell(job, words, i, stdin),
            "eval" if job.in_shell => {
                self.eval(words, i);
                Step::Done
            }
            "trap" if job.in_shell => {
                self.trap(words, i);
                Step::Done
            }
            "find" => {
                self.find(job, words, i);
                Step::Done
            }
            p if job.in_shell && STATE_BUILTINS.contains(&p) => {
                self.builtin(p, &words[i + 1..]);
                Step::Done
            }
            _ => Step::Emit,
        }
    }

    /// `eval ARGS...`: the words joined are a script run in this shell.
    fn eval(&mut self, words: &[W], i: usize) {
        let script = words[i + 1..]
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let mut ctx = self.ctx.clone();
        ctx.wrappers.push("eval".into());
        let (found, after) = self.nested_run(&script, ctx);
        self.out.extend(found);
        if let Some(mut after) = after {
            // `eval` runs in this shell: its `cd`s and assignments stay.
            after.wrappers = self.ctx.wrappers.clone();
            self.ctx = after;
        }
    }

    /// `trap SCRIPT SIGNAL...`: the script may run, with nothing it changes kept.
    fn trap(&mut self, words: &[W], i: usize) {
        if let (Some(a), true) = (words.get(i + 1), words.len() > i + 2) {
            if !a.text.starts_with('-') {
                let mut ctx = self.ctx.clone();
                ctx.wrappers.push("trap".into());
                let (found, _) = self.nested_run(&a.text, ctx);
                self.out.extend(found);
            }
        }
    }

    fn emit(&mut self, job: &Job, words: &[W]) {
        let (cwd, cwd_unknown) = cwd_output(&job.cwd);
        let nested = self.nested || self.subst > 0;
        self.out.push(Analysed {
            inv: Invocation {
                argv: words
                    .iter()
                    .map(|w| super::Word {
                        text: w.text.clone(),
                        span: if nested { None } else { w.span },
                    })
                    .collect(),
                assignments: job.assignments.clone(),
                cwd,
                nested,
            },
            env: job.env.clone(),
            shell_vars: self.ctx.shell_vars(),
            cwd_unknown,
            wrappers: job.wrappers.clone(),
            user: job.user.clone(),
        });
    }

    /// `env [-i] [-u X] [-C DIR] [A=1...] [cmd...]`.
    fn wrap_env(&mut self, job: &mut Job, words: &[W], i: usize) -> Step {
        let mut j = i + 1;
        while let Some(w) = words.get(j) {
            let t = w.text.as_str();
            let val = |j: usize| words.get(j).map(|w| w.text.clone());
            match t {
                "-" | "-i" | "--ignore-environment" => {
                    job.env.clear();
                    job.assignments.clear();
                    j += 1;
                }
                "-u" | "--unset" => {
                    if let Some(n) = val(j + 1) {
                        job.env.retain(|(k, _)| *k != n);
                    }
                    j += 2;
                }
                "-C" | "--chdir" => {
                    job.cwd = chdir(&job.cwd, words.get(j + 1));
                    j += 2;
                }
                "-S" | "--split-string" => {
                    let mut script = val(j + 1).unwrap_or_default();
                    for w in words.iter().skip(j + 2) {
                        script.push(' ');
                        script.push_str(&w.text);
                    }
                    let (found, _) = self.nested_run(&script, job.process_ctx("env"));
                    self.out.extend(found);
                    return Step::Done;
                }
                "--" => {
                    j += 1;
                    break;
                }
                _ if t.starts_with("--unset=") => {
                    job.env.retain(|(k, _)| k != &t[8..]);
                    j += 1;
                }
                _ if t.starts_with("--chdir=") => {
                    job.cwd = chdir_text(&job.cwd, &t[8..], w.literal);
                    j += 1;
                }
                _ if t.starts_with("-u") => {
                    job.env.retain(|(k, _)| k != &t[2..]);
                    j += 1;
                }
                _ if t.starts_with('-') && t.len() > 1 => {
                    if !t.starts_with("--") && t.contains('i') {
                        job.env.clear();
                        job.assignments.clear();
                    }
                    j += 1;
                }
                _ => break,
            }
        }
        while let Some((name, _, value)) = words.get(j).and_then(|w| split_assignment(&w.text)) {
            job.set_env(name, value.to_string());
            j += 1;
        }
        inner_or(j, words, Step::Emit)
    }

    /// `su [-] [-l] [-s SH] [user] [-c CMD]`, `runuser -u USER [--] cmd` or like `su`.
    fn wrap_su(&mut self, job: &mut Job, words: &[W], i: usize, runuser: bool) -> Step {
        let mut cmd = None;
        let mut user = None;
        let mut login = false;
        let mut positional = Vec::new();
        let mut j = i + 1;
        while let Some(w) = words.get(j) {
            let t = w.text.as_str();
            let next = || words.get(j + 1).map(|w| w.text.clone());
            match t {
                "-" | "-l" | "--login" => login = true,
                "-c" | "--command" | "--session-command" => {
                    cmd = next();
                    j += 1;
                }
                "-u" | "--user" if runuser => {
                    user = next();
                    j += 1;
                    // `runuser -u USER [--] cmd...`: the command follows directly.
                    let mut k = j + 1;
                    if words.get(k).is_some_and(|w| w.text == "--") {
                        k += 1;
                    }
                    job.user = user;
                    return inner_or(k, words, Step::Emit);
                }
                "-s"
                | "--shell"
                | "-g"
                | "--group"
                | "-G"
                | "--supp-group"
                | "-w"
                | "--whitelist-environment" => j += 1,
                "--" => {}
                _ if t.starts_with("--command=") => cmd = Some(t[10..].to_string()),
                _ if t.starts_with("-c") && t.len() > 2 => cmd = Some(t[2..].to_string()),
                _ if t.starts_with('-') && t.len() > 1 => {}
                _ => positional.push(t.to_string()),
            }
            j += 1;
        }
        let Some(cmd) = cmd else { return Step::Emit };
        job.user = Some(
            user.or_else(|| positional.first().cloned())
                .unwrap_or_else(|| "root".into()),
        );
        if login {
            job.env.clear();
        }
        let name = if runuser { "runuser" } else { "su" };
        let (found, _) = self.nested_run(&cmd, job.process_ctx(name));
        self.out.extend(found);
        Step::Done
    }

    /// `sh [opts] -c SCRIPT`, `sh FILE`, `sh <<EOF`, `sh <<<"..."`, `... | sh`.
    fn shell(&mut self, job: &Job, words: &[W], i: usize, stdin: Option<&Stdin>) -> Step {
        let name = basename(&words[i].text).to_string();
        let mut c = false;
        let mut j = i + 1;
        while let Some(w) = words.get(j) {
            let t = w.text.as_str();
            if t == "--" || t == "-" {
                j += 1;
                break;
            }
            if t.starts_with("--") {
                j += if t == "--rcfile" || t == "--init-file" {
                    2
                } else {
                    1
                };
                continue;
            }
            if t.len() > 1 && (t.starts_with('-') || t.starts_with('+')) {
                if t.starts_with('-') && t.contains('c') {
                    c = true;
                }
                j += 1 + t.chars().filter(|&ch| ch == 'o' || ch == 'O').count();
                continue;
            }
            break;
        }
        let script = if c {
            match words.get(j) {
                Some(w) => w.text.clone(),
                None => return Step::Done,
            }
        } else if j < words.len() {
            // Runs a script file.
            return Step::Emit;
        } else {
            match stdin {
                Some(Stdin::Str(s)) => s.clone(),
                Some(Stdin::Doc(id)) => {
                    let d = super::parse::Deferred {
                        id: *id,
                        at: self.out.len(),
                        ctx: job.process_ctx(&name),
                    };
                    self.deferred.push(d);
                    return Step::Done;
                }
                None => return Step::Emit,
            }
        };
        let (found, _) = self.nested_run(&script, job.process_ctx(&name));
        self.out.extend(found);
        Step::Done
    }

    /// `find ... -exec cmd {} \;`: find itself, then each command it executes.
    fn find(&mut self, job: &Job, words: &[W], i: usize) {
        self.emit(job, &words[i..]);
        let mut j = i + 1;
        while j < words.len() {
            if matches!(
                words[j].text.as_str(),
                "-exec" | "-execdir" | "-ok" | "-okdir"
            ) {
                let start = j + 1;
                let mut end = start;
                while end < words.len() {
                    let t = words[end].text.as_str();
                    if t == ";" || (t == "+" && end > start && words[end - 1].text == "{}") {
                        break;
                    }
                    end += 1;
                }
                if end > start {
                    let mut inner = job.clone();
                    inner.wrappers.push("find".into());
                    inner.assignments.clear();
                    inner.in_shell = false;
                    self.dispatch(inner, &words[start..end], None);
                }
                j = end;
            }
            j += 1;
        }
    }

    /// State builtins run by the shell itself.
    fn builtin(&mut self, name: &str, args: &[W]) {
        match name {
            "cd" | "pushd" => {
                let o = opts(args, 0, "", &[]);
                let target = args.get(o.next);
                if name == "pushd" && target.is_some_and(|t| t.text.starts_with(['+', '-'])) {
                    self.ctx.pushd(None);
                    return;
                }
                let target = match target {
                    Some(w) if w.literal => Some(w.text.as_str()),
                    _ => None,
                };
                if name == "cd" {
                    self.ctx.cd(target);
                } else {
                    self.ctx.pushd(target);
                }
            }
            "popd" => self.ctx.popd(),
            "export" | "declare" | "typeset" | "local" | "readonly" => {
                let mut export = name == "export";
                let mut i = 0;
                while let Some(w) = args.get(i) {
                    let t = w.text.as_str();
                    if t == "--" {
                        i += 1;
                        break;
                    }
                    if !(t.starts_with('-') || t.starts_with('+')) || t.len() < 2 {
                        break;
                    }
                    if t.starts_with('-') && t.contains('x') {
                        export = true;
                    }
                    if t.contains('f') || t.contains('F') || t.contains('p') && name != "export" {
                        // Functions, or printing: no variables.
                        return;
                    }
                    i += 1;
                }
                for w in &args[i.min(args.len())..] {
                    match split_assignment(&w.text) {
                        Some((n, append, v)) => self.ctx.assign(n, append, v, export),
                        None if is_name(&w.text) => self.ctx.set(&w.text, None, export),
                        None => {}
                    }
                }
            }
            "unset" => {
                if args.iter().any(|w| w.text == "-f") {
                    return;
                }
                for w in args.iter().filter(|w| !w.text.starts_with('-')) {
                    self.ctx.unset(&w.text);
                }
            }
            "read" => {
                let o = opts(args, 0, "adinNptu", &[]);
                for w in &args[o.next..] {
                    self.ctx.unset(&w.text);
                }
            }
            "set" => {
                let mut i = 0;
                while let Some(w) = args.get(i) {
                    let t = w.text.as_str();
                    let on = t.starts_with('-');
                    if t == "--" || t.len() < 2 || !(on || t.starts_with('+')) {
                        break;
                    }
                    if t[1..].contains('a') {
                        self.ctx.set_allexport(on);
                    }
                    if t[1..].contains('o') {
                        if args.get(i + 1).is_some_and(|w| w.text == "allexport") {
                            self.ctx.set_allexport(on);
                        }
                        i += 1;
                    }
                    i += 1;
                }
            }
            _ => {}
        }
    }
}

/// `sudo`/`doas` options, user, assignments.
fn wrap_sudo(job: &mut Job, words: &[W], i: usize, doas: bool) -> Step {
    let o = if doas {
        opts(words, i + 1, "uC", &[])
    } else {
        opts(
            words,
            i + 1,
            "ugpCDrtTUR",
            &[
                "--user",
                "--group",
                "--prompt",
                "--close-from",
                "--chdir",
                "--role",
                "--type",
                "--command-timeout",
                "--other-user",
                "--chroot",
            ],
        )
    };
    let mut user = "root".to_string();
    let mut preserve = doas;
    for (k, v) in &o.pairs {
        match (k.as_str(), v) {
            ("-u" | "--user", Some(u)) => user = u.clone(),
            ("-E" | "--preserve-env", _) => preserve = true,
            ("-D" | "--chdir", Some(d)) => {
                job.cwd = chdir_text(&job.cwd, d, !d.contains(['$', '`', '~', '*']))
            }
            _ => {}
        }
    }
    if o.pairs.iter().any(|(k, _)| {
        matches!(
            k.as_str(),
            "-l" | "-v" | "-k" | "-K" | "-V" | "-h" | "--list" | "--validate"
        )
    }) {
        return Step::Emit;
    }
    if !preserve {
        job.env.clear();
        job.assignments.clear();
    }
    job.user = Some(user);
    let mut j = o.next;
    while let Some((name, _, value)) = words.get(j).and_then(|w| split_assignment(&w.text)) {
        job.set_env(name, value.to_string());
        j += 1;
    }
    inner_or(j, words, Step::Emit)
}

fn chdir(cwd: &Cwd, w: Option<&W>) -> Cwd {
    match w {
        Some(w) => chdir_text(cwd, &w.text, w.literal),
        None => cwd.clone(),
    }
}

fn chdir_text(cwd: &Cwd, dir: &str, literal: bool) -> Cwd {
    if !literal {
        Cwd::Unknown
    } else if dir.is_empty() {
        cwd.clone()
    } else {
        cwd.join(dir)
    }
}

/// `${NAME:+...}` / `${NAME+...}` as a whole word.
fn is_optional_prefix(t: &str) -> bool {
    let Some(inner) = t.strip_prefix("${").and_then(|r| r.strip_suffix('}')) else {
        return false;
    };
    let n = inner
        .bytes()
        .take_while(|&c| c == b'_' || c.is_ascii_alphanumeric())
        .count();
    n > 0 && (inner[n..].starts_with(":+") || inner[n..].starts_with('+'))
}
