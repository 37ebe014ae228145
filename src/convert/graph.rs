//! The converter's view of the LLB builder: the handful of graph operations a Dockerfile needs
//! (image, build context, exec with mounts, copies, mkdir/mkfile, merge), expressed in
//! Dockerfile terms and mapped onto [`crate::llb`].

use std::collections::BTreeSet;

use crate::error::Result;
use crate::image::Platform;
use crate::instructions::{NetworkMode, Sharing};
use crate::llb::{
    self, Chmod, CopyOpts, Exec, FileOp, MkdirOpts, MkfileOpts, MountOpts, OpMeta, Output, Owner,
    UserRef,
};
use crate::proto::pb;

pub(crate) fn pb_platform(p: &Platform) -> pb::Platform {
    pb::Platform {
        architecture: p.architecture.clone(),
        os: p.os.clone(),
        variant: p.variant.clone(),
        os_version: p.os_version.clone(),
        os_features: p.os_features.clone(),
    }
}

/// `user[:group]` as `llb.WithUser` reads it: numbers are IDs, anything else a name looked up
/// in the destination's `/etc/passwd` and `/etc/group`.
pub(crate) fn owner(spec: &str) -> Owner {
    let r = |s: &str| match s.parse::<u32>() {
        Ok(n) => UserRef::Id(n),
        Err(_) => UserRef::Name(s.to_string()),
    };
    match spec.split_once(':') {
        Some((u, g)) => Owner {
            user: Some(r(u)),
            group: Some(r(g)),
        },
        None => Owner {
            user: Some(r(spec)),
            group: None,
        },
    }
}

/// One `RUN` mount, already resolved to its source state.
#[derive(Debug, Clone)]
pub(super) enum ExecMount {
    Bind {
        target: String,
        input: Option<Output>,
        selector: String,
        readonly: bool,
    },
    Cache {
        target: String,
        id: String,
        sharing: Sharing,
        base: Option<Output>,
        selector: String,
        readonly: bool,
        uid: Option<u32>,
        gid: Option<u32>,
        mode: Option<u32>,
    },
    Tmpfs {
        target: String,
        size: i64,
    },
    Secret {
        id: String,
        target: Option<String>,
        env: Option<String>,
        optional: bool,
        uid: u32,
        gid: u32,
        mode: u32,
    },
    Ssh {
        id: String,
        target: Option<String>,
        optional: bool,
        uid: u32,
        gid: u32,
        mode: u32,
    },
}

pub(super) struct ExecSpec {
    pub root: Option<Output>,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub user: String,
    pub hostname: Option<String>,
    pub network: NetworkMode,
    pub insecure: bool,
    pub mounts: Vec<ExecMount>,
    pub extra_hosts: Vec<(String, String)>,
    pub shm_size: Option<i64>,
    pub platform: Platform,
    pub proxy: Option<pb::ProxyEnv>,
    pub meta: OpMeta,
}

/// Where a COPY source comes from.
#[derive(Debug, Clone)]
pub(super) enum CopyFrom {
    Context,
    State(Option<Output>),
}

#[derive(Debug, Clone)]
pub(super) struct CopyAction {
    pub from: CopyFrom,
    pub src: String,
    pub dest: String,
    pub mode: Option<i32>,
    pub mode_str: Option<String>,
    pub follow_symlinks: bool,
    pub dir_contents_only: bool,
    pub attempt_unpack: bool,
    pub allow_wildcard: bool,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub chown: Option<String>,
}

/// The `git://` identifier (`host/path[#ref[:subdir]]`, as Go's `llb.Git` writes it) and the
/// remote for `https://host/repo.git#ref:subdir`, `git@host:repo.git#ref`, `ssh://...`.
pub(super) fn git_identifier(url: &str) -> Result<(String, String)> {
    let (remote, fragment) = url.split_once('#').unwrap_or((url, ""));
    let (reference, subdir) = fragment.split_once(':').unwrap_or((fragment, ""));
    let hostpath = if let Some((_, rest)) = remote.split_once("://") {
        rest.rsplit_once('@')
            .map(|(_, h)| h)
            .unwrap_or(rest)
            .to_string()
    } else if let Some((userhost, path)) = remote.split_once(':') {
        let host = userhost
            .rsplit_once('@')
            .map(|(_, h)| h)
            .unwrap_or(userhost);
        format!("{host}/{}", path.trim_start_matches('/'))
    } else {
        return Err(crate::error::Error::new(format!(
            "invalid git source {url}"
        )));
    };
    let mut id = hostpath;
    if !reference.is_empty() || !subdir.is_empty() {
        id += &format!("#{reference}");
        if !subdir.is_empty() {
            id += &format!(":{subdir}");
        }
    }
    Ok((id, remote.to_string()))
}

/// The source a cache mount is created from: for `uid`/`gid`/`mode` without a `from=`, the
/// mkdir step the stock frontend adds (one digest for every mount of the same owner and mode,
/// so the CI primer and export ops reach the same cache directory as the step).
pub(super) fn cache_base(
    base: Option<Output>,
    selector: String,
    uid: Option<u32>,
    gid: Option<u32>,
    mode: Option<u32>,
) -> Result<(Option<Output>, String)> {
    if selector.is_empty() && (uid.is_some() || gid.is_some() || mode.is_some()) {
        let mut f = FileOp::new(base);
        let owner = Owner {
            user: Some(UserRef::Id(uid.unwrap_or(0))),
            group: Some(UserRef::Id(gid.unwrap_or(0))),
        };
        f.mkdir(
            "/cache",
            mode.unwrap_or(0o755),
            MkdirOpts {
                make_parents: false,
                owner: Some(owner),
                timestamp: None,
            },
        );
        Ok((
            Some(f.build(OpMeta::named("[internal] setting cache mount permissions"))?),
            "/cache".to_string(),
        ))
    } else {
        Ok((base, selector))
    }
}

pub(super) fn pb_sharing(sharing: Sharing) -> pb::CacheSharingOpt {
    match sharing {
        Sharing::Shared => pb::CacheSharingOpt::Shared,
        Sharing::Private => pb::CacheSharingOpt::Private,
        Sharing::Locked => pb::CacheSharingOpt::Locked,
    }
}

/// Builds graph nodes; remembers the build-context source so it is made once.
#[derive(Debug, Default)]
pub(super) struct Graph {
    context: Option<Output>,
}

impl Graph {
    pub fn image(
        &self,
        name: &str,
        platform: &Platform,
        resolve_mode: llb::ResolveMode,
        meta: OpMeta,
    ) -> Output {
        let opts = llb::ImageOpts {
            resolve_mode,
            ..Default::default()
        };
        llb::image(name, &pb_platform(platform), &opts, meta)
    }

    pub fn http(&self, url: &str, filename: &str, checksum: Option<&str>, meta: OpMeta) -> Output {
        let opts = llb::HttpOpts {
            checksum: checksum.map(str::to_string),
            filename: Some(filename.to_string()),
            ..Default::default()
        };
        llb::http(url, &opts, meta)
    }

    /// A git repository source from an `ADD` URL (see [`git_identifier`]).
    pub fn git(
        &self,
        url: &str,
        keep_git_dir: bool,
        checksum: Option<&str>,
        meta: OpMeta,
    ) -> Result<Output> {
        let (id, remote) = git_identifier(url)?;
        let ssh =
            (remote.starts_with("git@") || remote.starts_with("ssh://")).then(llb::GitSsh::default);
        let opts = llb::GitOpts {
            full_url: remote,
            keep_git_dir,
            checksum: checksum.map(str::to_string),
            ssh,
            ..Default::default()
        };
        Ok(llb::git(&id, &opts, meta))
    }

    pub fn mkdir(
        &self,
        base: Option<Output>,
        path: &str,
        mode: u32,
        parents: bool,
        user: Option<&str>,
        meta: OpMeta,
    ) -> Result<Output> {
        let mut f = FileOp::new(base);
        f.mkdir(
            path,
            mode,
            MkdirOpts {
                make_parents: parents,
                owner: user.map(owner),
                timestamp: None,
            },
        );
        f.build(meta)
    }

    pub fn mkfile(
        &self,
        base: Option<Output>,
        path: &str,
        mode: u32,
        data: &[u8],
        meta: OpMeta,
    ) -> Result<Output> {
        let mut f = FileOp::new(base);
        f.mkfile(path, mode, data.to_vec(), MkfileOpts::default());
        f.build(meta)
    }

    pub fn exec(&self, spec: ExecSpec, caps: &BTreeSet<String>) -> Result<Output> {
        let mut e = Exec::new(spec.root, spec.args, pb_platform(&spec.platform));
        e.env = spec.env;
        e.cwd = spec.cwd;
        e.user = spec.user;
        e.hostname = spec.hostname.unwrap_or_default();
        e.network = match spec.network {
            NetworkMode::Default => pb::NetMode::Unset,
            NetworkMode::None => pb::NetMode::None,
            NetworkMode::Host => pb::NetMode::Host,
        };
        if spec.insecure {
            e.security = pb::SecurityMode::Insecure;
        }
        e.extra_hosts = spec.extra_hosts;
        e.proxy_env = spec.proxy;
        e.daemon_sets_default_path = if caps.is_empty() {
            None
        } else {
            Some(caps.contains(llb::caps::EXEC_META_SETS_DEFAULT_PATH))
        };
        if let Some(size) = spec.shm_size.filter(|s| *s > 0) {
            if caps.contains(llb::caps::EXEC_MOUNT_TMPFS_SIZE) {
                e.tmpfs("/dev/shm", size);
            }
        }
        let rw_no_output = caps.contains(llb::caps::EXEC_MOUNT_BIND_READWRITE_NO_OUTPUT);
        for m in spec.mounts {
            match m {
                ExecMount::Bind {
                    target,
                    input,
                    selector,
                    readonly,
                } => {
                    e.bind(
                        target,
                        input,
                        MountOpts {
                            readonly,
                            selector,
                            no_output: !readonly && rw_no_output,
                            ..Default::default()
                        },
                    );
                }
                ExecMount::Cache {
                    target,
                    id,
                    sharing,
                    base,
                    selector,
                    readonly,
                    uid,
                    gid,
                    mode,
                } => {
                    let (base, selector) = cache_base(base, selector, uid, gid, mode)?;
                    e.cache(
                        target,
                        id,
                        pb_sharing(sharing),
                        base,
                        MountOpts {
                            readonly,
                            selector,
                            ..Default::default()
                        },
                    );
                }
                ExecMount::Tmpfs { target, size } => {
                    e.tmpfs(target, size);
                }
                ExecMount::Secret {
                    id,
                    target,
                    env,
                    optional,
                    uid,
                    gid,
                    mode,
                } => {
                    e.secret(llb::SecretMount {
                        id,
                        target,
                        env,
                        uid,
                        gid,
                        mode,
                        optional,
                    });
                }
                ExecMount::Ssh {
                    id,
                    target,
                    optional,
                    uid,
                    gid,
                    mode,
                } => {
                    e.ssh(llb::SshMount {
                        id,
                        target,
                        uid,
                        gid,
                        mode,
                        optional,
                    });
                }
            }
        }
        let state = e.build(spec.meta)?;
        Ok(state.root().expect("exec root has an output"))
    }

    pub fn copy(
        &self,
        base: Option<Output>,
        actions: &[CopyAction],
        context: &Output,
        meta: OpMeta,
    ) -> Result<Output> {
        let mut f = FileOp::new(base);
        for a in actions {
            let src = match &a.from {
                CopyFrom::Context => Some(context.clone()),
                CopyFrom::State(s) => s.clone(),
            };
            let mode = match (&a.mode, &a.mode_str) {
                (Some(m), _) => Some(Chmod::Mode(*m as u32)),
                (None, Some(s)) => Some(Chmod::Symbolic(s.clone())),
                _ => None,
            };
            f.copy(
                src,
                &a.src,
                &a.dest,
                CopyOpts {
                    owner: a.chown.as_deref().map(owner),
                    mode,
                    follow_symlinks: a.follow_symlinks,
                    dir_copy_contents: a.dir_contents_only,
                    attempt_unpack: a.attempt_unpack,
                    create_dest_path: true,
                    allow_wildcard: a.allow_wildcard,
                    allow_empty_wildcard: a.allow_wildcard,
                    include_patterns: a.include.clone(),
                    exclude_patterns: a.exclude.clone(),
                    ..Default::default()
                },
            );
        }
        f.build(meta)
    }

    pub fn merge(&self, base: Option<Output>, layer: Output, meta: OpMeta) -> Option<Output> {
        llb::merge(&[base, Some(layer)], meta)
    }
}

impl Graph {
    /// The build context's source, made by `make` the first time it is asked for.
    pub(super) fn context_or_insert(&mut self, make: impl FnOnce() -> Output) -> Output {
        self.context.get_or_insert_with(make).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_ids() {
        assert_eq!(
            git_identifier("https://github.com/moby/buildkit.git#v0.10.1:docs").unwrap(),
            (
                "github.com/moby/buildkit.git#v0.10.1:docs".to_string(),
                "https://github.com/moby/buildkit.git".to_string()
            )
        );
        assert_eq!(
            git_identifier("git@github.com:a/b.git#main").unwrap().0,
            "github.com/a/b.git#main"
        );
        assert_eq!(
            git_identifier("https://host/r.git").unwrap().0,
            "host/r.git"
        );
        assert!(git_identifier("nonsense").is_err());
    }

    #[test]
    fn owners() {
        assert_eq!(
            owner("1000:1000"),
            Owner {
                user: Some(UserRef::Id(1000)),
                group: Some(UserRef::Id(1000))
            }
        );
        assert_eq!(
            owner("app"),
            Owner {
                user: Some(UserRef::Name("app".into())),
                group: None
            }
        );
    }
}
