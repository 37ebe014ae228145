//! `FileOp`: a chain of file actions applied to one base state (Go's `State.File(...)`).
//!
//! Indexing (`client/llb/fileop.go`): `Op.inputs` collects, in action order, the base state and
//! each copy source, deduplicated. Action 0 reads the base (`input` = its index or `-1` for
//! scratch); action k>0 reads the previous action's result, `len(inputs) + (k-1)`. A copy's
//! `secondaryInput` is its source's index or `-1` (scratch). Every action has `output = -1`
//! except the last (`0`). Owner names resolve against the base (`NamedUserOpt.input`). FileOps
//! carry no platform.

use std::collections::BTreeSet;

use super::caps;
use super::node::{finish, input_index, push_unique, OpMeta, Output};
use crate::error::Error;
use crate::proto::pb;

/// A user or group: numeric ID or a name looked up in the base's `/etc/passwd|group`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserRef {
    Id(u32),
    Name(String),
}

/// `--chown=user:group`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Owner {
    pub user: Option<UserRef>,
    pub group: Option<UserRef>,
}

/// `--chmod`: octal bits or a symbolic string (`u+x`, needs cap `file.copy.modestring`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chmod {
    Mode(u32),
    Symbolic(String),
}

#[derive(Clone, Debug, Default)]
pub struct CopyOpts {
    pub owner: Option<Owner>,
    /// `None` = keep source modes (`mode = -1`).
    pub mode: Option<Chmod>,
    pub follow_symlinks: bool,
    pub dir_copy_contents: bool,
    pub attempt_unpack: bool,
    pub create_dest_path: bool,
    pub allow_wildcard: bool,
    pub allow_empty_wildcard: bool,
    pub include_patterns: Vec<String>,
    pub exclude_patterns: Vec<String>,
    pub required_paths: Vec<String>,
    pub always_replace_existing_dest_paths: bool,
    /// Unix nanoseconds; `None` = keep (`-1`).
    pub timestamp: Option<i64>,
}

#[derive(Clone, Debug, Default)]
pub struct MkdirOpts {
    pub make_parents: bool,
    pub owner: Option<Owner>,
    pub timestamp: Option<i64>,
}

#[derive(Clone, Debug, Default)]
pub struct MkfileOpts {
    pub owner: Option<Owner>,
    pub timestamp: Option<i64>,
}

#[derive(Clone, Debug, Default)]
pub struct RmOpts {
    pub allow_not_found: bool,
    pub allow_wildcard: bool,
}

#[derive(Clone, Debug, Default)]
pub struct SymlinkOpts {
    pub owner: Option<Owner>,
    pub timestamp: Option<i64>,
}

#[derive(Clone, Debug)]
enum Action {
    Copy {
        src: Option<Output>,
        src_path: String,
        dest: String,
        opts: CopyOpts,
    },
    Mkdir {
        path: String,
        mode: u32,
        opts: MkdirOpts,
    },
    Mkfile {
        path: String,
        mode: u32,
        data: Vec<u8>,
        opts: MkfileOpts,
    },
    Rm {
        path: String,
        opts: RmOpts,
    },
    Symlink {
        oldpath: String,
        newpath: String,
        opts: SymlinkOpts,
    },
}

/// Builder for one FileOp. Relative paths resolve against `dir` (the state's working dir).
#[derive(Clone, Debug)]
pub struct FileOp {
    base: Option<Output>,
    dir: String,
    actions: Vec<Action>,
}

impl FileOp {
    /// Actions on top of `base` (`None` = scratch), relative paths against `/`.
    pub fn new(base: Option<Output>) -> Self {
        FileOp {
            base,
            dir: "/".into(),
            actions: vec![],
        }
    }

    /// Working directory for relative `dest`/`path` arguments.
    pub fn with_dir(mut self, dir: impl Into<String>) -> Self {
        self.dir = dir.into();
        self
    }

    /// Copy `src_path` of `src` (`None` = scratch) to `dest`. `src_path` is cleaned and, if
    /// relative, taken from `/`; `dest` keeps a trailing `/` or `/.`.
    pub fn copy(
        &mut self,
        src: Option<Output>,
        src_path: &str,
        dest: &str,
        opts: CopyOpts,
    ) -> &mut Self {
        self.actions.push(Action::Copy {
            src,
            src_path: src_path.into(),
            dest: dest.into(),
            opts,
        });
        self
    }

    /// `mode` is masked to 0o777 (as Go does).
    pub fn mkdir(&mut self, path: &str, mode: u32, opts: MkdirOpts) -> &mut Self {
        self.actions.push(Action::Mkdir {
            path: path.into(),
            mode,
            opts,
        });
        self
    }

    pub fn mkfile(&mut self, path: &str, mode: u32, data: Vec<u8>, opts: MkfileOpts) -> &mut Self {
        self.actions.push(Action::Mkfile {
            path: path.into(),
            mode,
            data,
            opts,
        });
        self
    }

    pub fn rm(&mut self, path: &str, opts: RmOpts) -> &mut Self {
        self.actions.push(Action::Rm {
            path: path.into(),
            opts,
        });
        self
    }

    /// Create `newpath` pointing at `oldpath` (neither is normalised, as in Go).
    pub fn symlink(&mut self, oldpath: &str, newpath: &str, opts: SymlinkOpts) -> &mut Self {
        self.actions.push(Action::Symlink {
            oldpath: oldpath.into(),
            newpath: newpath.into(),
            opts,
        });
        self
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Marshal the op; its single output is the result of the last action.
    ///
    /// Caps: `file.base`, plus the per-feature caps Go's client means to add (include/exclude
    /// patterns, required paths, always-replace, symbolic mode, symlink) — Go's own `addCaps`
    /// loop runs before the actions are collected and so never adds them; declaring them makes
    /// an old daemon fail early instead of silently ignoring the field.
    pub fn build(self, meta: OpMeta) -> Result<Output, Error> {
        if self.actions.is_empty() {
            return Err(Error::new("file op needs at least one action"));
        }
        let (inputs, idx) = self.inputs();
        let deps = self.deps();
        let caps = self.caps();
        let n_inputs = inputs.len() as i64;
        let last = self.actions.len() - 1;
        let dir = self.dir;
        let actions = self
            .actions
            .into_iter()
            .enumerate()
            .map(|(k, a)| {
                let (base, second) = idx[k];
                pb::FileAction {
                    // Action 0 reads the base; each later one, the previous one's result.
                    input: if k == 0 {
                        base
                    } else {
                        n_inputs + k as i64 - 1
                    },
                    secondary_input: second,
                    output: if k == last { 0 } else { -1 },
                    action: Some(a.marshal(&dir, base)),
                }
            })
            .collect();
        let op = pb::Op {
            inputs,
            op: Some(pb::op::Op::File(pb::FileOp { actions })),
            platform: None,
            constraints: None,
        };
        Ok(Output {
            node: finish(op, caps, meta, deps),
            index: 0,
        })
    }

    /// The op's inputs (the base and each copy source, in action order, once each) and, per
    /// action, the index of the base and of its copy source (`-1`: scratch or none).
    fn inputs(&self) -> (Vec<pb::Input>, Vec<(i64, i64)>) {
        let mut inputs: Vec<pb::Input> = vec![];
        let mut idx: Vec<(i64, i64)> = vec![];
        for a in &self.actions {
            let base = match &self.base {
                Some(b) => input_index(&mut inputs, b),
                None => -1,
            };
            let second = match a {
                Action::Copy { src: Some(s), .. } => input_index(&mut inputs, s),
                _ => -1,
            };
            idx.push((base, second));
        }
        (inputs, idx)
    }

    /// What the op depends on, as Go's `Inputs()`: the base, then copy sources from the last
    /// action backwards.
    fn deps(&self) -> Vec<Output> {
        let mut deps = vec![];
        if let Some(b) = &self.base {
            push_unique(&mut deps, b);
        }
        for a in self.actions.iter().rev() {
            if let Action::Copy { src: Some(s), .. } = a {
                push_unique(&mut deps, s);
            }
        }
        deps
    }

    /// `file.base` and the caps of the features the actions use.
    fn caps(&self) -> BTreeSet<&'static str> {
        let mut caps = BTreeSet::from([caps::FILE_BASE]);
        for a in &self.actions {
            match a {
                Action::Copy { opts, .. } => {
                    if !opts.include_patterns.is_empty() || !opts.exclude_patterns.is_empty() {
                        caps.insert(caps::FILE_COPY_INCLUDE_EXCLUDE_PATTERNS);
                    }
                    if !opts.required_paths.is_empty() {
                        caps.insert(caps::FILE_COPY_REQUIRED_PATHS);
                    }
                    if opts.always_replace_existing_dest_paths {
                        caps.insert(caps::FILE_COPY_ALWAYS_REPLACE_EXISTING_DEST_PATHS);
                    }
                    if matches!(&opts.mode, Some(Chmod::Symbolic(s)) if !s.is_empty()) {
                        caps.insert(caps::FILE_COPY_MODE_STRING);
                    }
                }
                Action::Symlink { .. } => {
                    caps.insert(caps::FILE_SYMLINK_CREATE);
                }
                Action::Mkdir { .. } | Action::Mkfile { .. } | Action::Rm { .. } => {}
            }
        }
        caps
    }
}

impl Action {
    /// The action as marshalled: relative paths against `dir`, owner names looked up in the
    /// input `base`.
    fn marshal(self, dir: &str, base: i64) -> pb::file_action::Action {
        let chown = |o: &Option<Owner>| o.as_ref().map(|o| marshal_owner(o, base));
        match self {
            Action::Copy {
                src_path,
                dest,
                opts,
                ..
            } => {
                let (mode, mode_str) = copy_mode(&opts.mode);
                pb::file_action::Action::Copy(pb::FileActionCopy {
                    src: join_abs("/", &clean(&src_path)),
                    dest: normalize_path(dir, &dest, true),
                    owner: chown(&opts.owner),
                    mode,
                    follow_symlink: opts.follow_symlinks,
                    dir_copy_contents: opts.dir_copy_contents,
                    attempt_unpack_docker_compatibility: opts.attempt_unpack,
                    create_dest_path: opts.create_dest_path,
                    allow_wildcard: opts.allow_wildcard,
                    allow_empty_wildcard: opts.allow_empty_wildcard,
                    timestamp: opts.timestamp.unwrap_or(-1),
                    include_patterns: opts.include_patterns,
                    exclude_patterns: opts.exclude_patterns,
                    always_replace_existing_dest_paths: opts.always_replace_existing_dest_paths,
                    mode_str,
                    required_paths: opts.required_paths,
                })
            }
            Action::Mkdir { path, mode, opts } => {
                pb::file_action::Action::Mkdir(pb::FileActionMkDir {
                    path: normalize_path(dir, &path, false),
                    mode: (mode & 0o777) as i32,
                    make_parents: opts.make_parents,
                    owner: chown(&opts.owner),
                    timestamp: opts.timestamp.unwrap_or(-1),
                })
            }
            Action::Mkfile {
                path,
                mode,
                data,
                opts,
            } => pb::file_action::Action::Mkfile(pb::FileActionMkFile {
                path: normalize_path(dir, &path, false),
                mode: (mode & 0o777) as i32,
                data,
                owner: chown(&opts.owner),
                timestamp: opts.timestamp.unwrap_or(-1),
            }),
            Action::Rm { path, opts } => pb::file_action::Action::Rm(pb::FileActionRm {
                path: normalize_path(dir, &path, false),
                allow_not_found: opts.allow_not_found,
                allow_wildcard: opts.allow_wildcard,
            }),
            Action::Symlink {
                oldpath,
                newpath,
                opts,
            } => pb::file_action::Action::Symlink(pb::FileActionSymlink {
                oldpath,
                newpath,
                owner: chown(&opts.owner),
                timestamp: opts.timestamp.unwrap_or(-1),
            }),
        }
    }
}

/// A copy's `mode` and `mode_str`: `-1` keeps the source modes; a symbolic mode travels as a
/// string (an empty one as mode 0).
fn copy_mode(mode: &Option<Chmod>) -> (i32, String) {
    match mode {
        None => (-1, String::new()),
        Some(Chmod::Mode(m)) => (*m as i32, String::new()),
        Some(Chmod::Symbolic(s)) if s.is_empty() => (0, String::new()),
        Some(Chmod::Symbolic(s)) => (0, s.clone()),
    }
}

fn marshal_user(u: &UserRef, base: i64) -> pb::UserOpt {
    pb::UserOpt {
        user: Some(match u {
            UserRef::Name(n) if !n.is_empty() => pb::user_opt::User::ByName(pb::NamedUserOpt {
                name: n.clone(),
                input: base,
            }),
            UserRef::Name(_) => pb::user_opt::User::ById(0),
            UserRef::Id(id) => pb::user_opt::User::ById(*id),
        }),
    }
}

fn marshal_owner(o: &Owner, base: i64) -> pb::ChownOpt {
    pb::ChownOpt {
        user: o.user.as_ref().map(|u| marshal_user(u, base)),
        group: o.group.as_ref().map(|u| marshal_user(u, base)),
    }
}

/// Go's `path.Clean`.
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = vec![];
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

/// `path.Join(dir, p)` for a cleaned `p`, made absolute.
fn join_abs(dir: &str, p: &str) -> String {
    if p.starts_with('/') {
        p.to_string()
    } else {
        clean(&format!("/{dir}/{p}"))
    }
}

/// Go's `normalizePath(parent, p, keepSlash)` from `client/llb/fileop.go`.
pub fn normalize_path(parent: &str, p: &str, keep_slash: bool) -> String {
    let mut out = clean(p);
    if !out.starts_with('/') {
        out = clean(&format!("/{parent}/{out}"));
    }
    if keep_slash {
        if p.ends_with('/') && !out.ends_with('/') {
            out.push('/');
        } else if p.ends_with("/.") {
            if out != "/" {
                out.push('/');
            }
            out.push('.');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::source::{local, LocalOpts};

    fn file_op(o: &Output) -> &pb::FileOp {
        match &o.op().op {
            Some(pb::op::Op::File(f)) => f,
            _ => panic!("not a file op"),
        }
    }

    #[test]
    fn paths() {
        assert_eq!(clean("a/../../b/./c/"), "../b/c");
        assert_eq!(clean("/../a//b/"), "/a/b");
        assert_eq!(normalize_path("/app", "x/", true), "/app/x/");
        assert_eq!(normalize_path("/app", ".", true), "/app");
        assert_eq!(normalize_path("/", "/d/.", true), "/d/.");
        assert_eq!(normalize_path("/", "/.", true), "/.");
        assert_eq!(normalize_path("/w", "f", false), "/w/f");
    }

    #[test]
    fn action_indexing() {
        let base = local("a", &LocalOpts::default(), OpMeta::default());
        let ctx = local(
            "context",
            &LocalOpts {
                session_id: Some("s".into()),
                ..Default::default()
            },
            OpMeta::default(),
        );
        let mut f = FileOp::new(Some(base.clone())).with_dir("/app");
        f.mkdir(
            "sub",
            0o755,
            MkdirOpts {
                make_parents: true,
                ..Default::default()
            },
        );
        f.copy(
            Some(ctx.clone()),
            "src",
            "sub/",
            CopyOpts {
                owner: Some(Owner {
                    user: Some(UserRef::Name("app".into())),
                    group: None,
                }),
                ..Default::default()
            },
        );
        f.copy(Some(base.clone()), "/etc/x", "/y", CopyOpts::default());
        f.copy(None, "/", "/z", CopyOpts::default());
        let out = f.build(OpMeta::default()).unwrap();
        assert_eq!(out.op().inputs.len(), 2);
        assert_eq!(out.op().inputs[0].digest, base.digest());
        assert_eq!(out.op().inputs[1].digest, ctx.digest());
        assert_eq!(out.op().platform, None);
        let a = &file_op(&out).actions;
        let io: Vec<_> = a
            .iter()
            .map(|a| (a.input, a.secondary_input, a.output))
            .collect();
        assert_eq!(io, [(0, -1, -1), (2, 1, -1), (3, 0, -1), (4, -1, 0)]);
        let Some(pb::file_action::Action::Copy(c)) = &a[1].action else {
            panic!()
        };
        assert_eq!(
            (c.src.as_str(), c.dest.as_str(), c.mode, c.timestamp),
            ("/src", "/app/sub/", -1, -1)
        );
        let Some(pb::user_opt::User::ByName(n)) =
            &c.owner.as_ref().unwrap().user.as_ref().unwrap().user
        else {
            panic!()
        };
        assert_eq!((n.name.as_str(), n.input), ("app", 0));
        let Some(pb::file_action::Action::Mkdir(m)) = &a[0].action else {
            panic!()
        };
        assert_eq!(
            (m.path.as_str(), m.mode, m.timestamp),
            ("/app/sub", 0o755, -1)
        );
        assert_eq!(
            out.metadata().caps.keys().collect::<Vec<_>>(),
            ["file.base"]
        );
    }

    #[test]
    fn scratch_base_and_caps() {
        let mut f = FileOp::new(None);
        f.mkfile("/f", 0o644, b"hi".to_vec(), MkfileOpts::default());
        f.symlink("f", "/g", SymlinkOpts::default());
        f.copy(
            None,
            "/",
            "/",
            CopyOpts {
                mode: Some(Chmod::Symbolic("u+x".into())),
                ..Default::default()
            },
        );
        let out = f.build(OpMeta::default()).unwrap();
        assert!(out.op().inputs.is_empty());
        let io: Vec<_> = file_op(&out)
            .actions
            .iter()
            .map(|a| (a.input, a.secondary_input, a.output))
            .collect();
        assert_eq!(io, [(-1, -1, -1), (0, -1, -1), (1, -1, 0)]);
        let caps: Vec<_> = out.metadata().caps.keys().map(String::as_str).collect();
        assert_eq!(
            caps,
            ["file.base", "file.copy.modestring", "file.symlink.create"]
        );
        assert!(FileOp::new(None).build(OpMeta::default()).is_err());
    }
}
