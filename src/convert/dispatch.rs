//! Per-instruction dispatch: expansion with the stage's variables, then the image-config
//! changes and history entries of ENV, ARG, LABEL, USER, WORKDIR, CMD, ENTRYPOINT, HEALTHCHECK,
//! EXPOSE, VOLUME, STOPSIGNAL, SHELL, MAINTAINER and ONBUILD. RUN and COPY/ADD have their own
//! files.

use super::checks;
use super::gofmt;
use super::gofmt::uppercase_cmd;
use super::paths::normalize_workdir;
use super::state::{Build, Cmd};
use crate::error::{Error, Result};
use crate::image::Healthcheck;
use crate::instructions::Command;
use crate::llb;

/// The signals `signal.ParseSignal` accepts on Linux.
const SIGNALS: &[&str] = &[
    "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL",
    "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP",
    "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ",
];

fn check_signal(s: &str) -> Result<()> {
    if let Ok(n) = s.parse::<i64>() {
        if !(1..=64).contains(&n) {
            return Err(Error::new(format!("invalid signal: {s}")));
        }
        return Ok(());
    }
    let name = s.strip_prefix("SIG").unwrap_or(s).to_ascii_uppercase();
    let ok = SIGNALS.contains(&name.as_str())
        || name
            .strip_prefix("RTMIN")
            .or_else(|| name.strip_prefix("RTMAX"))
            .is_some_and(|r| {
                r.is_empty() || r.trim_start_matches(['+', '-']).parse::<u32>().is_ok()
            });
    if ok {
        Ok(())
    } else {
        Err(Error::new(format!("invalid signal: {s}")))
    }
}

impl Build<'_> {
    /// An instruction of stage `i` with its words expanded in the stage's variables (ARG
    /// expands its defaults itself), reporting `UndefinedVar` for each unset variable, as the
    /// stock dispatcher does even when the expansion then fails.
    fn expand_command(&mut self, i: usize, cmd: &Cmd) -> Result<Command> {
        let env = self.stages[i]
            .st
            .as_ref()
            .expect("stage initialised")
            .env
            .clone();
        let lexer = self.lexer.clone();
        let mut command = cmd.command.clone();
        let span = command.span();
        let stage_args = self.stages[i]
            .st
            .as_ref()
            .expect("stage initialised")
            .build_args
            .clone();
        let mut undefined = Vec::new();
        let mut expand_with = |lexer: &crate::expand::Lexer, w: &str| {
            let r = lexer.process(w, &env);
            if let Ok(r) = &r {
                undefined.extend(checks::undefined_vars(
                    &r.unmatched,
                    &stage_args,
                    &env,
                    span,
                ));
            }
            r.map(|r| r.result).map_err(Error::from)
        };
        let expanded = if matches!(command, Command::Arg(_)) {
            Ok(false)
        } else {
            command.expand(&mut |w: &str| expand_with(&lexer, w))
        };
        let mut raw = crate::expand::Lexer::new('\\');
        raw.skip_process_quotes = true;
        let expanded =
            expanded.and_then(|_| command.expand_raw(&mut |w: &str| expand_with(&raw, w)));
        self.warnings.extend(undefined);
        expanded?;
        if let Some(w) = checks::legacy_key_value(&command) {
            self.warnings.push(w);
        }
        Ok(command)
    }

    /// Dispatch one instruction of stage `i`: expand it, then apply it (RUN, COPY/ADD, WORKDIR
    /// and ARG have their own functions; the others change the image config and add a history
    /// entry here).
    pub(super) fn dispatch(&mut self, i: usize, cmd: &Cmd) -> Result<()> {
        let command = self.expand_command(i, cmd)?;
        let span = command.span();
        let st = self.stages[i].st.as_mut().expect("stage initialised");
        match command {
            Command::Run(r) => return self.dispatch_run(i, &r, cmd),
            Command::Copy(c) => return self.dispatch_copy_instruction(i, &c, cmd),
            Command::Add(a) => return self.dispatch_add(i, &a, cmd),
            Command::Workdir(w) => return self.dispatch_workdir(i, &w.path, &w.original, span),
            Command::Env(e) => {
                let mut msg = String::from("ENV");
                for (k, v) in &e.pairs {
                    self.warnings.extend(checks::secret_key("ENV", k, span));
                    msg += &format!(" {k}={v}");
                    st.env.set(k, v);
                    st.image.set_env(k, v);
                }
                st.image.commit_history(msg, false);
            }
            Command::Label(l) => {
                let mut msg = String::from("LABEL");
                for (k, v) in &l.pairs {
                    st.image.config.labels.insert(k.clone(), v.clone());
                    msg += &format!(" {k}={v}");
                }
                st.image.commit_history(msg, false);
            }
            Command::Maintainer(m) => {
                st.image.author = m.maintainer.clone();
                st.image
                    .commit_history(format!("MAINTAINER {}", m.maintainer), false);
            }
            Command::User(u) => {
                st.user = u.user.clone();
                st.image.config.user = u.user.clone();
                st.image.commit_history(format!("USER {}", u.user), false);
            }
            Command::Onbuild(o) => st.image.config.on_build.push(o.expression.clone()),
            Command::Cmd(ref c) => {
                let args = self.cmd_line(i, &command, &c.cmd, "cmd");
                let st = self.stages[i].st.as_mut().expect("stage initialised");
                st.image.config.cmd = args.clone();
                st.image.config.args_escaped = true;
                st.cmd_set = true;
                st.image
                    .commit_history(format!("CMD {}", gofmt::quote_slice(&args)), false);
            }
            Command::Entrypoint(ref c) => {
                let args = self.cmd_line(i, &command, &c.cmd, "entrypoint");
                let st = self.stages[i].st.as_mut().expect("stage initialised");
                st.image.config.entrypoint = args.clone();
                if !st.cmd_set {
                    st.image.config.cmd.clear();
                }
                st.image
                    .commit_history(format!("ENTRYPOINT {}", gofmt::quote_slice(&args)), false);
            }
            Command::Healthcheck(h) => {
                let cmd_ref = Command::Healthcheck(h.clone());
                self.warnings.extend(checks::used_once(
                    &cmd_ref,
                    self.used_once.entry((i, "healthcheck")).or_default(),
                ));
                let hc = Healthcheck {
                    test: h.test.clone(),
                    interval: h.interval,
                    timeout: h.timeout,
                    start_period: h.start_period,
                    start_interval: h.start_interval,
                    retries: h.retries,
                };
                // The daemon's frontend formats this with `%q` of the *HealthcheckConfig.
                let msg = format!(
                    "HEALTHCHECK &{{{} {} {} {} {} {}}}",
                    gofmt::quote_slice(&hc.test),
                    gofmt::quote(&gofmt::duration(hc.interval)),
                    gofmt::quote(&gofmt::duration(hc.timeout)),
                    gofmt::quote(&gofmt::duration(hc.start_period)),
                    gofmt::quote(&gofmt::duration(hc.start_interval)),
                    gofmt::quote_rune(hc.retries)
                );
                st.image.config.healthcheck = Some(hc);
                st.image.commit_history(msg, false);
            }
            Command::Expose(e) => {
                let mut ports = Vec::new();
                for p in &e.ports {
                    for word in self.lexer.process_words(p, &st.env).map_err(Error::from)? {
                        self.warnings.extend(checks::expose_port(&word, span));
                        ports.extend(super::expose::parse_port(&word)?);
                    }
                }
                for p in &ports {
                    st.image
                        .config
                        .exposed_ports
                        .insert(p.clone(), serde_json::json!({}));
                }
                st.image
                    .commit_history(format!("EXPOSE {}", gofmt::plain_slice(&ports)), false);
            }
            Command::Volume(v) => {
                for p in &v.volumes {
                    if p.is_empty() {
                        return Err(Error::new("VOLUME specified can not be an empty string"));
                    }
                    st.image
                        .config
                        .volumes
                        .insert(p.clone(), serde_json::json!({}));
                }
                st.image
                    .commit_history(format!("VOLUME {}", gofmt::plain_slice(&v.volumes)), false);
            }
            Command::StopSignal(s) => {
                check_signal(&s.signal)?;
                st.image.config.stop_signal = s.signal.clone();
                st.image
                    .commit_history(format!("STOPSIGNAL {}", s.signal), false);
            }
            Command::Shell(s) => {
                st.image.config.shell = s.shell.clone();
                st.image
                    .commit_history(format!("SHELL {}", gofmt::plain_slice(&s.shell)), false);
            }
            Command::Arg(a) => return self.dispatch_arg(i, &a),
        }
        Ok(())
    }

    /// The argv of a CMD or ENTRYPOINT (`kind`), the shell form wrapped in the stage's shell;
    /// with the checks both share (`MultipleInstructionsDisallowed`, `JSONArgsRecommended`).
    fn cmd_line(
        &mut self,
        i: usize,
        command: &Command,
        line: &crate::instructions::ShellOrExec,
        kind: &'static str,
    ) -> Vec<String> {
        self.warnings.extend(checks::used_once(
            command,
            self.used_once.entry((i, kind)).or_default(),
        ));
        let st = self.stages[i].st.as_ref().expect("stage initialised");
        self.warnings.extend(checks::json_args(
            command,
            line.prepend_shell(),
            &st.image.config.shell,
        ));
        if line.prepend_shell() {
            st.image.with_shell(&line.args())
        } else {
            line.args()
        }
    }

    fn dispatch_arg(&mut self, i: usize, a: &crate::instructions::ArgCommand) -> Result<()> {
        let lexer = self.lexer.clone();
        let build_args = &self.opts.build_args;
        let globals = self.global_args.clone();
        let st = self.stages[i].st.as_mut().expect("stage initialised");
        let mut commit = Vec::new();
        let mut records = Vec::new();
        for (key, default) in &a.args {
            self.warnings.extend(checks::secret_key("ARG", key, a.span));
            let has_value = build_args.contains_key(key);
            let mut value = default.clone();
            // A bare ARG naming a global (or automatic) arg keeps its definition.
            let mut inherited = false;
            if default.is_none() && !has_value {
                if let Some(v) = globals.get(key) {
                    value = Some(v.to_string());
                    inherited = true;
                }
            }
            if has_value {
                value = build_args.get(key).cloned();
            } else if let Some(d) = default {
                let r = lexer.process(d, &st.env);
                if let Ok(r) = &r {
                    self.warnings.extend(checks::undefined_vars(
                        &r.unmatched,
                        &st.build_args,
                        &st.env,
                        a.span,
                    ));
                }
                value = Some(r.map_err(Error::from)?.result);
            }
            if let Some(v) = &value {
                st.env.set(key, v);
            }
            st.build_args.push((key.clone(), value.clone()));
            commit.push(match &value {
                Some(v) => format!("{key}={v}"),
                None => key.clone(),
            });
            records.push((key, value, inherited));
        }
        st.image
            .commit_history(format!("ARG {}", commit.join(" ")), false);
        for (key, value, inherited) in records {
            let description = if self.stages[i].in_onbuild {
                String::new()
            } else {
                self.doc_comment(key, a.span)
            };
            let seq = self.next_seq();
            self.stages[i].capture.record_arg(
                key,
                value.as_deref(),
                inherited,
                description,
                a.span,
                seq,
            );
        }
        Ok(())
    }

    pub(super) fn dispatch_workdir(
        &mut self,
        i: usize,
        path: &str,
        original: &str,
        span: crate::Span,
    ) -> Result<()> {
        let (wd, platform) = {
            let st = self.stages[i].st.as_mut().expect("stage initialised");
            // Only the first WORKDIR of a stage chain counts: fixing it fixes the others.
            if !st.workdir_set && !path.starts_with('/') {
                self.warnings.push(crate::lint::rules::WORKDIR_RELATIVE_PATH.warn(
                    span,
                    format!("Relative workdir {path:?} can have unexpected results if the base image changes"),
                ));
            }
            let wd = normalize_workdir(&st.image.config.working_dir, path)?;
            st.image.config.working_dir = wd.clone();
            st.dir = wd.clone();
            st.workdir_set = true;
            (wd, st.platform.clone())
        };
        let mut with_layer = false;
        if wd != "/" {
            let env = self.stages[i].st.as_ref().unwrap().env.clone();
            let shown = self
                .lexer
                .process_word(original, &env)
                .unwrap_or_else(|_| original.to_string());
            let name = self.progress_name(i, &uppercase_cmd(&shown), &platform);
            let ignore = self.stages[i].ignore_cache;
            let st = self.stages[i].st.as_mut().unwrap();
            let user = st.image.config.user.clone();
            let mut meta = llb::OpMeta::named(name)
                .with_description("com.docker.dockerfile.v1.command", original)
                .at(span);
            meta.ignore_cache = ignore;
            st.output = Some(self.graph.mkdir(
                st.output.clone(),
                &wd,
                0o755,
                true,
                (!user.is_empty()).then_some(user.as_str()),
                meta,
            )?);
            with_layer = true;
        }
        let st = self.stages[i].st.as_mut().unwrap();
        st.image.commit_history(format!("WORKDIR {wd}"), with_layer);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals() {
        assert!(check_signal("SIGTERM").is_ok());
        assert!(check_signal("KILL").is_ok());
        assert!(check_signal("9").is_ok());
        assert!(check_signal("SIGRTMIN+3").is_ok());
        assert!(check_signal("SIGFOO").is_err());
        assert!(check_signal("0").is_err());
    }
}
