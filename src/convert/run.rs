//! `RUN`: the command line (shell, exec, heredocs), its `--mount`s, `--network` and
//! `--security`, the exec op, and the history entry.

use super::gofmt;
use super::graph::{ExecMount, ExecSpec};
use super::state::{Build, Cmd, St};
use crate::error::{Error, Result};
use crate::instructions::{MountType, NetworkMode, RunCommand, SecurityMode};
use crate::llb;

impl Build<'_> {
    /// `RUN`: its command line, its `--mount`s, the exec op with the caches hoard plans, and the
    /// history entry.
    pub(super) fn dispatch_run(&mut self, i: usize, c: &RunCommand, cmd: &Cmd) -> Result<()> {
        let st = self.snapshot(i);
        // A command can read anything of its own filesystem.
        self.mark_read(i, "/");
        let (args, custom, mut mounts, extra_scripts) = self.run_command_line(c, &st)?;
        mounts.extend(self.run_mounts(i, c, cmd, &st)?);
        let meta = self.run_meta(i, c, &st, &custom);
        let network = network(c.network, self.opts.force_network);

        let shell_form = c.cmd.prepend_shell() && extra_scripts.is_empty();
        let mut spec = ExecSpec {
            root: st.output.clone(),
            args: args.clone(),
            env: st.env.to_strings(),
            cwd: st.dir.clone(),
            user: st.user.clone(),
            hostname: self.opts.hostname.clone(),
            network,
            insecure: c.security == SecurityMode::Insecure,
            mounts,
            extra_hosts: self.opts.extra_hosts.clone(),
            shm_size: self.opts.shm_size,
            platform: st.platform.clone(),
            proxy: proxy_env(&self.opts.build_args),
            meta,
        };
        self.inject_caches(i, c, &mut spec, shell_form, &extra_scripts)?;
        self.ci_step(i, &mut spec)?;
        let out = self.graph.exec(spec, &self.opts.llb_caps)?;
        let history = format!("RUN {}", run_command_string(&args, &st.build_args, &st.env));
        let st = self.stages[i].st.as_mut().unwrap();
        st.output = Some(out);
        st.wrapped =
            crate::cache::planner::wrapped_after(&args, shell_form, &extra_scripts, &st.wrapped);
        st.image
            .commit_history(format!("{history} # buildkit"), true);
        Ok(())
    }

    /// The argv (the shell form wrapped in the stage's shell; heredocs inlined, or mounted and
    /// run as a file when they start with `#!`), the command as shown in progress, the mounts
    /// that heredoc files need, and the texts of heredoc scripts for the cache planner.
    #[allow(clippy::type_complexity)]
    fn run_command_line(
        &mut self,
        c: &RunCommand,
        st: &St,
    ) -> Result<(Vec<String>, String, Vec<ExecMount>, Vec<String>)> {
        let mut args = c.cmd.args();
        let mut custom = c.original.clone();
        let mut mounts: Vec<ExecMount> = Vec::new();
        // A heredoc with a shebang runs as a file: the planner reads its text separately.
        let mut extra_scripts: Vec<String> = Vec::new();

        if !c.files.is_empty() {
            if args.len() != 1 || !c.cmd.prepend_shell() {
                return Err(Error::new(format!(
                    "parsing produced an invalid run command: {args:?}"
                )));
            }
            if let Some(marker) = crate::instructions::heredoc::parse_heredoc_marker(&args[0]) {
                let _ = marker;
                let file = &c.files[0];
                let mut data = file.data.clone();
                if file.chomp {
                    data = crate::instructions::heredoc::chomp_heredoc_content(&data);
                }
                if st.image.os != "windows" && data.starts_with("#!") {
                    let script = self.graph.mkfile(
                        None,
                        &format!("/{}", file.name),
                        0o755,
                        data.as_bytes(),
                        llb::OpMeta::named("[internal] preparing inline document"),
                    )?;
                    mounts.push(ExecMount::Bind {
                        target: "/dev/pipes/".into(),
                        input: Some(script),
                        selector: "/".into(),
                        readonly: true,
                    });
                    args = vec![format!("/dev/pipes/{}", file.name)];
                    extra_scripts.push(data.clone());
                } else {
                    args = vec![data];
                }
                custom += &format!(" ({})", summarize_heredoc(&file.data));
            } else {
                let mut b = args[0].clone();
                for f in &c.files {
                    b.push('\n');
                    b.push_str(&f.data);
                    b.push_str(&f.name);
                }
                args = vec![b];
            }
        }
        if c.cmd.prepend_shell() {
            args = st.image.with_shell(&args);
        }
        Ok((args, custom, mounts, extra_scripts))
    }

    /// The step's own `--mount`s: secrets and ssh (recorded for the outline), tmpfs, caches and
    /// binds from the context or another stage (which is then read, and may make this stage
    /// pending).
    fn run_mounts(
        &mut self,
        i: usize,
        c: &RunCommand,
        cmd: &Cmd,
        st: &St,
    ) -> Result<Vec<ExecMount>> {
        let mut mounts: Vec<ExecMount> = Vec::new();
        for (m, source) in c.mounts.iter().zip(cmd.sources.iter()) {
            let target = super::paths::mount_target(&st.dir, &m.target);
            match m.kind {
                MountType::Secret => {
                    let id = if !m.source.is_empty() {
                        m.source.clone()
                    } else if !m.id.is_empty() {
                        m.id.clone()
                    } else if !m.target.is_empty() {
                        basename(&m.target)
                    } else {
                        return Err(Error::new("one of source, target required"));
                    };
                    let seq = self.next_seq();
                    self.stages[i]
                        .capture
                        .record_mount(false, &id, m.required, c.span, seq);
                    let dest = if m.env.is_some() && m.target.is_empty() {
                        None
                    } else if m.target.is_empty() {
                        Some(format!("/run/secrets/{}", basename(&id)))
                    } else {
                        Some(m.target.clone())
                    };
                    mounts.push(ExecMount::Secret {
                        id,
                        target: dest,
                        env: m.env.clone(),
                        optional: !m.required,
                        uid: m.uid.unwrap_or(0),
                        gid: m.gid.unwrap_or(0),
                        mode: m.mode.unwrap_or(0o400),
                    });
                    continue;
                }
                MountType::Ssh => {
                    if !m.source.is_empty() {
                        return Err(Error::new("ssh does not support source"));
                    }
                    let id = if m.id.is_empty() {
                        "default".to_string()
                    } else {
                        m.id.clone()
                    };
                    let seq = self.next_seq();
                    self.stages[i]
                        .capture
                        .record_mount(true, &id, m.required, c.span, seq);
                    mounts.push(ExecMount::Ssh {
                        id,
                        target: (!m.target.is_empty()).then(|| m.target.clone()),
                        optional: !m.required,
                        uid: m.uid.unwrap_or(0),
                        gid: m.gid.unwrap_or(0),
                        mode: m.mode.unwrap_or(0o600),
                    });
                    continue;
                }
                _ => {}
            }
            if target == "/" {
                return Err(Error::new(format!("invalid mount target \"{target}\"")));
            }
            if let Some(s) = source {
                self.mark_read(*s, &m.source);
                self.inherit_pending(i, *s);
            }
            let input = match source {
                Some(s) => {
                    let src = &self.stages[*s];
                    match &src.st {
                        Some(sst) => sst.output.clone(),
                        None => {
                            return Err(Error::new(format!(
                                "cannot mount from stage \"{}\" to \"{}\", stage needs to be defined before current command",
                                m.from.clone().unwrap_or_default(), m.target
                            )))
                        }
                    }
                }
                None if m.kind == MountType::Cache || m.kind == MountType::Tmpfs => None,
                None => Some(self.context()),
            };
            let selector = {
                let s = super::paths::clean_path(&format!("/{}", m.source));
                if s == "/" {
                    String::new()
                } else {
                    s
                }
            };
            match m.kind {
                MountType::Tmpfs => mounts.push(ExecMount::Tmpfs {
                    target,
                    size: m.size_limit,
                }),
                MountType::Cache => {
                    let id = if m.id.is_empty() {
                        super::paths::clean_path(&m.target)
                    } else {
                        m.id.clone()
                    };
                    let ns = self
                        .opts
                        .build_args
                        .get("BUILDKIT_CACHE_MOUNT_NS")
                        .cloned()
                        .unwrap_or_default();
                    mounts.push(ExecMount::Cache {
                        target,
                        id: format!("{ns}/{id}"),
                        sharing: m.sharing(),
                        base: input,
                        selector,
                        readonly: m.read_only,
                        uid: m.uid,
                        gid: m.gid,
                        mode: m.mode,
                    });
                }
                _ => mounts.push(ExecMount::Bind {
                    target,
                    input,
                    selector,
                    readonly: m.read_only,
                }),
            }
        }

        Ok(mounts)
    }

    /// The op's metadata: the progress name (secret env values masked), the source location.
    fn run_meta(&mut self, i: usize, c: &RunCommand, st: &St, custom: &str) -> llb::OpMeta {
        let mut env_for_name = st.env.clone();
        for m in &c.mounts {
            if let Some(e) = &m.env {
                env_for_name.set(e, "****");
            }
        }
        let shown = self
            .lexer
            .raw_quotes_skip_unset()
            .process_word(custom, &env_for_name)
            .unwrap_or(custom.to_string());
        let name = self.progress_name(i, &super::gofmt::uppercase_cmd(&shown), &st.platform);
        let mut meta = llb::OpMeta::named(name)
            .with_description("com.docker.dockerfile.v1.command", &c.original)
            .at(c.span);
        meta.ignore_cache = self.stages[i].ignore_cache;

        meta
    }
}

/// The step's network: `--network`, else the build's `force-network-mode`.
fn network(mode: NetworkMode, forced: NetworkMode) -> NetworkMode {
    match mode {
        NetworkMode::Default => forced,
        own => own,
    }
}

fn basename(p: &str) -> String {
    let c = super::paths::clean_path(p);
    c.rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("/")
        .to_string()
}

fn summarize_heredoc(doc: &str) -> String {
    let doc = doc.trim();
    let doc = doc.replace("\r\n", "\n");
    let mut lines = doc.split('\n');
    let first = lines.next().unwrap_or("").to_string();
    if lines.next().is_some() {
        first + "..."
    } else {
        first
    }
}

/// `runCommandString`: `|N K=V ... args`, with the stage's ARGs as the stock frontend records them.
fn run_command_string(
    args: &[String],
    build_args: &[(String, Option<String>)],
    env: &super::args::EnvList,
) -> String {
    let mut tmp: Vec<(String, String)> = Vec::new();
    for (k, v) in build_args {
        let value = env
            .get(k)
            .map(str::to_string)
            .unwrap_or_else(|| v.clone().unwrap_or_default());
        match tmp.iter_mut().find(|(kk, _)| kk == k) {
            Some(slot) => slot.1 = value,
            None => tmp.push((k.clone(), value)),
        }
    }
    let mut parts: Vec<String> = Vec::new();
    if !tmp.is_empty() {
        parts.push(format!("|{}", tmp.len()));
        parts.extend(tmp.into_iter().map(|(k, v)| format!("{k}={v}")));
    }
    parts.extend(args.iter().cloned());
    let _ = gofmt::quote;
    parts.join(" ")
}

/// Proxy settings from the standard proxy build args, which the stock frontend passes to
/// every RUN without putting them in the image or the cache key.
fn proxy_env(
    args: &std::collections::BTreeMap<String, String>,
) -> Option<crate::proto::pb::ProxyEnv> {
    let mut p = crate::proto::pb::ProxyEnv::default();
    let mut set = false;
    for (k, v) in args {
        let slot = match k.to_ascii_lowercase().as_str() {
            "http_proxy" => &mut p.http_proxy,
            "https_proxy" => &mut p.https_proxy,
            "ftp_proxy" => &mut p.ftp_proxy,
            "no_proxy" => &mut p.no_proxy,
            "all_proxy" => &mut p.all_proxy,
            _ => continue,
        };
        *slot = v.clone();
        set = true;
    }
    set.then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_strings() {
        let env = super::super::args::EnvList(vec![("A".into(), "1".into())]);
        let args = vec!["/bin/sh".to_string(), "-c".into(), "echo".into()];
        assert_eq!(run_command_string(&args, &[], &env), "/bin/sh -c echo");
        let ba = vec![("A".to_string(), Some("0".to_string())), ("B".into(), None)];
        assert_eq!(
            run_command_string(&args, &ba, &env),
            "|2 A=1 B= /bin/sh -c echo"
        );
    }

    #[test]
    fn heredoc_summary() {
        assert_eq!(summarize_heredoc("  echo a\necho b\n"), "echo a...");
        assert_eq!(summarize_heredoc("echo a\n"), "echo a");
    }
}
