//! `ExecOp` (Go's `llb.ExecState` / `ExecOp.Marshal`).
//!
//! Marshalling rules reproduced from Go's client:
//! * Regular mounts (root, bind, cache, tmpfs) are sorted by destination; secret mounts, then
//!   SSH mounts, follow in insertion order.
//! * `Op.inputs` are deduplicated (same digest and index share one input index); mounts with no
//!   source (scratch, tmpfs, secrets, SSH) use input `-1`.
//! * Outputs are numbered 0, 1, … over the sorted regular mounts that are writable and not
//!   cache, tmpfs or `no_output`; other regular mounts get output `-1`. Secret and SSH mounts
//!   leave `output` unset (0), as Go does.
//! * `removeMountStubsRecursive` is always true; `SSH_AUTH_SOCK` is added to env for the first
//!   SSH mount unless already set; `PATH` defaulting follows `daemon_sets_default_path`.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::caps;
use super::node::{finish, input_index, push_unique, Node, OpMeta, Output};
use crate::error::Error;
use crate::proto::pb;

/// Linux default `PATH` the Go client injects when the daemon lacks `exec.meta.setsdefaultpath`.
pub const DEFAULT_PATH_ENV: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Options of a regular (bind/cache/tmpfs) mount.
#[derive(Clone, Debug, Default)]
pub struct MountOpts {
    pub readonly: bool,
    /// Subpath of the source (`exec.mount.selector`).
    pub selector: String,
    /// Writable but produce no output (`llb.ForceNoOutput`).
    pub no_output: bool,
    pub content_cache: pb::MountContentCache,
}

/// A secret as a file (`target`) and/or an env variable (`env`).
#[derive(Clone, Debug)]
pub struct SecretMount {
    pub id: String,
    pub target: Option<String>,
    pub env: Option<String>,
    pub uid: u32,
    pub gid: u32,
    /// Defaults to 0o400.
    pub mode: u32,
    pub optional: bool,
}

impl SecretMount {
    pub fn file(id: impl Into<String>, target: impl Into<String>) -> Self {
        SecretMount {
            id: id.into(),
            target: Some(target.into()),
            env: None,
            uid: 0,
            gid: 0,
            mode: 0o400,
            optional: false,
        }
    }
    pub fn env(id: impl Into<String>, name: impl Into<String>) -> Self {
        SecretMount {
            id: id.into(),
            target: None,
            env: Some(name.into()),
            uid: 0,
            gid: 0,
            mode: 0o400,
            optional: false,
        }
    }
}

/// An SSH agent socket.
#[derive(Clone, Debug)]
pub struct SshMount {
    pub id: String,
    /// Defaults to `/run/buildkit/ssh_agent.<i>`.
    pub target: Option<String>,
    pub uid: u32,
    pub gid: u32,
    /// Defaults to 0o600.
    pub mode: u32,
    pub optional: bool,
}

impl SshMount {
    pub fn new(id: impl Into<String>) -> Self {
        SshMount {
            id: id.into(),
            target: None,
            uid: 0,
            gid: 0,
            mode: 0o600,
            optional: false,
        }
    }
}

#[derive(Clone, Debug)]
enum Kind {
    Bind,
    Cache {
        id: String,
        sharing: pb::CacheSharingOpt,
    },
    Tmpfs {
        size: i64,
    },
}

#[derive(Clone, Debug)]
struct RegularMount {
    dest: String,
    source: Option<Output>,
    opts: MountOpts,
    kind: Kind,
}

impl RegularMount {
    fn has_output(&self) -> bool {
        !self.opts.no_output && !self.opts.readonly && matches!(self.kind, Kind::Bind)
    }

    /// The mount as marshalled, with its input and output indexes.
    fn to_pb(&self, input: i64, output: i64) -> pb::Mount {
        let mut pm = pb::Mount {
            input,
            selector: self.opts.selector.clone(),
            dest: self.dest.clone(),
            output,
            readonly: self.opts.readonly,
            content_cache: self.opts.content_cache as i32,
            ..Default::default()
        };
        match &self.kind {
            Kind::Bind => {}
            Kind::Cache { id, sharing } => {
                pm.mount_type = pb::MountType::Cache as i32;
                pm.cache_opt = Some(pb::CacheOpt {
                    id: id.clone(),
                    sharing: *sharing as i32,
                });
            }
            Kind::Tmpfs { size } => {
                pm.mount_type = pb::MountType::Tmpfs as i32;
                pm.tmpfs_opt = Some(pb::TmpfsOpt { size: *size });
            }
        }
        pm
    }
}

/// Builder for one `RUN`-like process. Fill the public fields, add mounts, then [`Exec::build`].
#[derive(Clone, Debug)]
pub struct Exec {
    pub args: Vec<String>,
    /// `KEY=value` entries, in order.
    pub env: Vec<String>,
    pub cwd: String,
    pub user: String,
    pub hostname: String,
    pub cgroup_parent: String,
    pub network: pb::NetMode,
    pub security: pb::SecurityMode,
    /// `(host, ip)` pairs.
    pub extra_hosts: Vec<(String, String)>,
    pub ulimits: Vec<pb::Ulimit>,
    pub valid_exit_codes: Option<Vec<i32>>,
    pub proxy_env: Option<pb::ProxyEnv>,
    pub cdi_devices: Vec<pb::CdiDevice>,
    /// `None`: caps unknown, leave env alone. `Some(true)`: daemon has
    /// `exec.meta.setsdefaultpath` (declare it). `Some(false)`: add `PATH=`[`DEFAULT_PATH_ENV`]
    /// unless set (not on Windows).
    pub daemon_sets_default_path: Option<bool>,
    /// The op's platform (required: the daemon runs the process for it).
    pub platform: pb::Platform,
    mounts: Vec<RegularMount>,
    secrets: Vec<SecretMount>,
    ssh: Vec<SshMount>,
}

impl Exec {
    /// A process on top of `root` (mounted read-write at `/`; `None` = scratch).
    pub fn new(root: Option<Output>, args: Vec<String>, platform: pb::Platform) -> Self {
        Exec {
            args,
            env: vec![],
            cwd: "/".into(),
            user: String::new(),
            hostname: String::new(),
            cgroup_parent: String::new(),
            network: pb::NetMode::Unset,
            security: pb::SecurityMode::Sandbox,
            extra_hosts: vec![],
            ulimits: vec![],
            valid_exit_codes: None,
            proxy_env: None,
            cdi_devices: vec![],
            daemon_sets_default_path: None,
            platform,
            mounts: vec![RegularMount {
                dest: "/".into(),
                source: root,
                opts: MountOpts::default(),
                kind: Kind::Bind,
            }],
            secrets: vec![],
            ssh: vec![],
        }
    }

    /// Make the root mount read-only (its "output" is then the input itself).
    pub fn readonly_root(&mut self) -> &mut Self {
        self.mounts[0].opts.readonly = true;
        self
    }

    /// Bind-mount `source` (`None` = scratch) at `dest`.
    pub fn bind(
        &mut self,
        dest: impl Into<String>,
        source: Option<Output>,
        opts: MountOpts,
    ) -> &mut Self {
        self.mounts.push(RegularMount {
            dest: dest.into(),
            source,
            opts,
            kind: Kind::Bind,
        });
        self
    }

    /// A persistent cache mount, optionally seeded from `source` (`RUN --mount=type=cache,from=`).
    pub fn cache(
        &mut self,
        dest: impl Into<String>,
        id: impl Into<String>,
        sharing: pb::CacheSharingOpt,
        source: Option<Output>,
        opts: MountOpts,
    ) -> &mut Self {
        self.mounts.push(RegularMount {
            dest: dest.into(),
            source,
            opts,
            kind: Kind::Cache {
                id: id.into(),
                sharing,
            },
        });
        self
    }

    /// A tmpfs mount; `size` in bytes, 0 = default.
    pub fn tmpfs(&mut self, dest: impl Into<String>, size: i64) -> &mut Self {
        self.mounts.push(RegularMount {
            dest: dest.into(),
            source: None,
            opts: MountOpts::default(),
            kind: Kind::Tmpfs { size },
        });
        self
    }

    pub fn secret(&mut self, s: SecretMount) -> &mut Self {
        self.secrets.push(s);
        self
    }

    pub fn ssh(&mut self, s: SshMount) -> &mut Self {
        self.ssh.push(s);
        self
    }

    /// Marshal the op. Errors: no args, empty cwd, duplicate mount destination.
    pub fn build(mut self, meta: OpMeta) -> Result<ExecState, Error> {
        self.check()?;
        self.default_ssh_targets();
        let caps = self.caps(&meta);
        let env = self.env_with_defaults();
        let mut regular = self.regular_mounts();
        let secretenv = self.secret_mounts(&mut regular.mounts);
        self.ssh_mounts(&mut regular.mounts);
        let op = pb::Op {
            inputs: regular.inputs,
            op: Some(pb::op::Op::Exec(pb::ExecOp {
                meta: Some(self.meta(env)),
                mounts: regular.mounts,
                network: self.network as i32,
                security: self.security as i32,
                secretenv,
                cdi_devices: self.cdi_devices,
            })),
            platform: Some(self.platform),
            constraints: None,
        };
        let node = finish(op, caps, meta, regular.deps);
        Ok(ExecState {
            mounts: mount_states(&node, regular.outputs),
            node_output: Output { node, index: 0 },
        })
    }

    /// Arguments and a working directory are required, and mount destinations unique; the
    /// regular mounts are sorted by destination.
    fn check(&mut self) -> Result<(), Error> {
        if self.args.is_empty() {
            return Err(Error::new("arguments are required"));
        }
        if self.cwd.is_empty() {
            return Err(Error::new("working directory is required"));
        }
        self.mounts.sort_by(|a, b| a.dest.cmp(&b.dest));
        if let Some(w) = self.mounts.windows(2).find(|w| w[0].dest == w[1].dest) {
            return Err(Error::new(format!("duplicate mount target {}", w[0].dest)));
        }
        Ok(())
    }

    /// SSH mounts without a target get `/run/buildkit/ssh_agent.<i>`.
    fn default_ssh_targets(&mut self) {
        for (i, s) in self.ssh.iter_mut().enumerate() {
            if s.target.as_deref().unwrap_or("").is_empty() {
                s.target = Some(format!("/run/buildkit/ssh_agent.{i}"));
            }
        }
    }

    /// The LLB capabilities the op needs.
    fn caps(&self, meta: &OpMeta) -> BTreeSet<&'static str> {
        let mut caps = self.process_caps(meta);
        caps.extend(self.mount_caps());
        caps
    }

    /// The capabilities the process needs: its meta fields, network and security modes.
    fn process_caps(&self, meta: &OpMeta) -> BTreeSet<&'static str> {
        let mut caps: BTreeSet<&'static str> = BTreeSet::new();
        if self.daemon_sets_default_path == Some(true) {
            caps.insert(caps::EXEC_META_SETS_DEFAULT_PATH);
        }
        if self.valid_exit_codes.is_some() {
            caps.insert(caps::EXEC_VALID_EXIT_CODE);
        }
        if !self.ulimits.is_empty() {
            caps.insert(caps::EXEC_META_ULIMIT);
        }
        if meta.linux_resources.is_some() {
            caps.insert(caps::EXEC_META_LINUX_RESOURCES);
        }
        if self.network != pb::NetMode::Unset {
            caps.insert(caps::EXEC_META_NETWORK);
        }
        if self.security == pb::SecurityMode::Insecure {
            caps.insert(caps::EXEC_META_SECURITY);
        }
        if self.proxy_env.is_some() {
            caps.insert(caps::EXEC_META_PROXY);
        }
        caps.insert(caps::EXEC_META_BASE);
        if !self.cdi_devices.is_empty() {
            caps.insert(caps::EXEC_META_CDI);
        }
        caps
    }

    /// The capabilities the mounts need, by kind.
    fn mount_caps(&self) -> BTreeSet<&'static str> {
        let mut caps: BTreeSet<&'static str> = BTreeSet::new();
        for m in &self.mounts {
            if !m.opts.selector.is_empty() {
                caps.insert(caps::EXEC_MOUNT_SELECTOR);
            }
            match &m.kind {
                Kind::Cache { .. } => {
                    caps.insert(caps::EXEC_MOUNT_CACHE);
                    caps.insert(caps::EXEC_MOUNT_CACHE_SHARING);
                }
                Kind::Tmpfs { size } => {
                    caps.insert(caps::EXEC_MOUNT_TMPFS);
                    if *size > 0 {
                        caps.insert(caps::EXEC_MOUNT_TMPFS_SIZE);
                    }
                }
                Kind::Bind => {
                    if m.source.is_some() {
                        caps.insert(caps::EXEC_MOUNT_BIND);
                    }
                }
            }
            if m.opts.content_cache != pb::MountContentCache::Default {
                caps.insert(caps::EXEC_MOUNT_CONTENT_CACHE);
            }
        }
        if !self.secrets.is_empty() {
            caps.insert(caps::EXEC_MOUNT_SECRET);
            if self.secrets.iter().any(|s| s.env.is_some()) {
                caps.insert(caps::EXEC_SECRET_ENV);
            }
        }
        if !self.ssh.is_empty() {
            caps.insert(caps::EXEC_MOUNT_SSH);
        }
        caps
    }

    /// The process environment: the builder's, with `SSH_AUTH_SOCK` for the first SSH mount
    /// and the default `PATH` (see [`Exec::daemon_sets_default_path`]) unless already set.
    fn env_with_defaults(&mut self) -> Vec<String> {
        let mut env = std::mem::take(&mut self.env);
        let has_key = |env: &[String], k: &str| env.iter().any(|e| e.split('=').next() == Some(k));
        if let Some(first) = self.ssh.first() {
            if !has_key(&env, "SSH_AUTH_SOCK") {
                env.push(format!(
                    "SSH_AUTH_SOCK={}",
                    first.target.as_deref().unwrap_or_default()
                ));
            }
        }
        if self.daemon_sets_default_path == Some(false)
            && self.platform.os != "windows"
            && !has_key(&env, "PATH")
        {
            env.push(format!("PATH={DEFAULT_PATH_ENV}"));
        }
        env
    }

    /// The process the op runs, from the builder's fields.
    fn meta(&mut self, env: Vec<String>) -> pb::Meta {
        pb::Meta {
            args: std::mem::take(&mut self.args),
            env,
            cwd: std::mem::take(&mut self.cwd),
            user: std::mem::take(&mut self.user),
            proxy_env: self.proxy_env.take(),
            extra_hosts: std::mem::take(&mut self.extra_hosts)
                .into_iter()
                .map(|(host, ip)| pb::HostIp { host, ip })
                .collect(),
            hostname: std::mem::take(&mut self.hostname),
            ulimit: std::mem::take(&mut self.ulimits),
            cgroup_parent: std::mem::take(&mut self.cgroup_parent),
            remove_mount_stubs_recursive: true,
            valid_exit_codes: self.valid_exit_codes.take().unwrap_or_default(),
        }
    }

    /// The regular mounts (root, bind, cache, tmpfs) in destination order, with the op's
    /// inputs and numbered outputs.
    fn regular_mounts(&self) -> Regular {
        let mut r = Regular::default();
        let mut out_index = 0i64;
        for m in &self.mounts {
            let input = match &m.source {
                Some(src) => {
                    push_unique(&mut r.deps, src);
                    input_index(&mut r.inputs, src)
                }
                None => -1,
            };
            let output = if m.has_output() {
                out_index += 1;
                out_index - 1
            } else {
                -1
            };
            r.mounts.push(m.to_pb(input, output));
            let passthrough = if m.opts.readonly {
                m.source.clone()
            } else {
                None
            };
            r.outputs
                .push((m.dest.clone(), (output >= 0).then_some(output), passthrough));
        }
        r
    }

    /// Secrets as files (mounts, appended to `mounts`) and as env variables (returned).
    fn secret_mounts(&self, mounts: &mut Vec<pb::Mount>) -> Vec<pb::SecretEnv> {
        let mut secretenv = vec![];
        for s in &self.secrets {
            if let Some(name) = &s.env {
                secretenv.push(pb::SecretEnv {
                    id: s.id.clone(),
                    name: name.clone(),
                    optional: s.optional,
                });
            }
            if let Some(target) = &s.target {
                mounts.push(pb::Mount {
                    input: -1,
                    dest: target.clone(),
                    mount_type: pb::MountType::Secret as i32,
                    secret_opt: Some(pb::SecretOpt {
                        id: s.id.clone(),
                        uid: s.uid,
                        gid: s.gid,
                        mode: s.mode,
                        optional: s.optional,
                    }),
                    ..Default::default()
                });
            }
        }
        secretenv
    }

    /// The SSH agent sockets, appended to `mounts`.
    fn ssh_mounts(&self, mounts: &mut Vec<pb::Mount>) {
        for s in &self.ssh {
            mounts.push(pb::Mount {
                input: -1,
                dest: s.target.clone().unwrap_or_default(),
                mount_type: pb::MountType::Ssh as i32,
                ssh_opt: Some(pb::SshOpt {
                    id: s.id.clone(),
                    uid: s.uid,
                    gid: s.gid,
                    mode: s.mode,
                    optional: s.optional,
                }),
                ..Default::default()
            });
        }
    }
}

/// The regular mounts as marshalled.
#[derive(Default)]
struct Regular {
    inputs: Vec<pb::Input>,
    /// The outputs the op depends on, once each.
    deps: Vec<Output>,
    mounts: Vec<pb::Mount>,
    /// Per destination: its own output index, or the source it passes through (read-only).
    outputs: Vec<(String, Option<i64>, Option<Output>)>,
}

/// The state of every regular mount after the run: the op's own output, or the source passed
/// through.
fn mount_states(
    node: &Arc<Node>,
    outputs: Vec<(String, Option<i64>, Option<Output>)>,
) -> Vec<(String, Option<Output>)> {
    outputs
        .into_iter()
        .map(|(dest, own, pass)| {
            let out = match own {
                Some(index) => Some(Output {
                    node: node.clone(),
                    index,
                }),
                None => pass,
            };
            (dest, out)
        })
        .collect()
}

/// A built exec op and the states it produces.
#[derive(Clone, Debug)]
pub struct ExecState {
    node_output: Output,
    mounts: Vec<(String, Option<Output>)>,
}

impl ExecState {
    /// The root filesystem after the process ran (`None` only for a read-only scratch root).
    pub fn root(&self) -> Option<Output> {
        self.mount("/")
    }

    /// The state of the mount at `dest` after the run: its own output for writable bind mounts,
    /// the unchanged source for read-only ones, `None` for cache/tmpfs/no-output mounts or an
    /// unknown `dest`.
    pub fn mount(&self, dest: &str) -> Option<Output> {
        self.mounts
            .iter()
            .find(|(d, _)| d == dest)
            .and_then(|(_, o)| o.clone())
    }

    /// Digest of the exec op (for warnings and progress).
    pub fn digest(&self) -> &str {
        self.node_output.digest()
    }

    /// The op and its metadata, via an output handle with index 0.
    pub fn vertex(&self) -> &Output {
        &self.node_output
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::source::{image, ImageOpts};

    fn amd64() -> pb::Platform {
        pb::Platform {
            architecture: "amd64".into(),
            os: "linux".into(),
            ..Default::default()
        }
    }

    fn exec_op(o: &Output) -> &pb::ExecOp {
        match &o.op().op {
            Some(pb::op::Op::Exec(e)) => e,
            _ => panic!("not exec"),
        }
    }

    #[test]
    fn mount_numbering_sorting_and_dedup() {
        let base = image(
            "docker.io/library/alpine:latest",
            &amd64(),
            &ImageOpts::default(),
            OpMeta::default(),
        );
        let other = image(
            "docker.io/library/busybox:latest",
            &amd64(),
            &ImageOpts::default(),
            OpMeta::default(),
        );
        let mut e = Exec::new(
            Some(base.clone()),
            vec!["sh".into(), "-c".into(), "true".into()],
            amd64(),
        );
        e.bind(
            "/src",
            Some(other.clone()),
            MountOpts {
                readonly: true,
                selector: "/x".into(),
                ..Default::default()
            },
        );
        e.bind("/out", Some(base.clone()), MountOpts::default()); // same input as root → deduped
        e.cache(
            "/root/.cache",
            "ns//root/.cache",
            pb::CacheSharingOpt::Locked,
            None,
            MountOpts::default(),
        );
        e.tmpfs("/tmp", 0);
        e.bind("/b", None, MountOpts::default()); // writable scratch bind
        e.secret(SecretMount::file("tok", "/run/secrets/tok"));
        e.ssh(SshMount::new("default"));
        e.daemon_sets_default_path = Some(true);
        let st = e.build(OpMeta::default()).unwrap();
        let root = st.root().unwrap();
        let ex = exec_op(&root);
        let dests: Vec<_> = ex.mounts.iter().map(|m| m.dest.as_str()).collect();
        assert_eq!(
            dests,
            [
                "/",
                "/b",
                "/out",
                "/root/.cache",
                "/src",
                "/tmp",
                "/run/secrets/tok",
                "/run/buildkit/ssh_agent.0"
            ]
        );
        let io: Vec<_> = ex.mounts.iter().map(|m| (m.input, m.output)).collect();
        assert_eq!(
            io,
            [
                (0, 0),
                (-1, 1),
                (0, 2),
                (-1, -1),
                (1, -1),
                (-1, -1),
                (-1, 0),
                (-1, 0)
            ]
        );
        assert_eq!(root.op().inputs.len(), 2);
        assert_eq!(root.index(), 0);
        assert_eq!(st.mount("/b").unwrap().index(), 1);
        assert_eq!(st.mount("/out").unwrap().index(), 2);
        assert_eq!(st.mount("/src").unwrap(), other); // read-only: the source itself
        assert!(st.mount("/tmp").is_none());
        assert!(st.mount("/root/.cache").is_none());
        assert_eq!(
            ex.meta.as_ref().unwrap().env,
            ["SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0"]
        );
        assert!(ex.meta.as_ref().unwrap().remove_mount_stubs_recursive);
        assert_eq!(root.op().platform, Some(amd64()));
        let caps: Vec<_> = root.metadata().caps.keys().map(String::as_str).collect();
        assert_eq!(
            caps,
            [
                "exec.meta.base",
                "exec.meta.setsdefaultpath",
                "exec.mount.bind",
                "exec.mount.cache",
                "exec.mount.cache.sharing",
                "exec.mount.secret",
                "exec.mount.selector",
                "exec.mount.ssh",
                "exec.mount.tmpfs",
            ]
        );
    }

    #[test]
    fn default_path_and_errors() {
        let mut e = Exec::new(None, vec!["true".into()], amd64());
        e.daemon_sets_default_path = Some(false);
        e.env = vec!["A=1".into()];
        let st = e.build(OpMeta::default()).unwrap();
        let root = st.root().unwrap();
        assert_eq!(
            exec_op(&root).meta.as_ref().unwrap().env,
            ["A=1".to_string(), format!("PATH={DEFAULT_PATH_ENV}")]
        );
        assert_eq!(exec_op(&root).mounts[0].input, -1);
        assert!(Exec::new(None, vec![], amd64())
            .build(OpMeta::default())
            .is_err());
        let mut dup = Exec::new(None, vec!["x".into()], amd64());
        dup.tmpfs("/", 0);
        assert!(dup.build(OpMeta::default()).is_err());
    }

    #[test]
    fn readonly_root_passes_input_through() {
        let base = image(
            "docker.io/library/alpine:latest",
            &amd64(),
            &ImageOpts::default(),
            OpMeta::default(),
        );
        let mut e = Exec::new(Some(base.clone()), vec!["true".into()], amd64());
        e.readonly_root();
        e.bind("/w", None, MountOpts::default());
        let st = e.build(OpMeta::default()).unwrap();
        assert_eq!(st.root().unwrap(), base);
        assert_eq!(st.mount("/w").unwrap().index(), 0);
    }
}
