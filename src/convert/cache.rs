//! Cache injection for one `RUN`: resolve the step's user, ask the planner, and add what it
//! planned (cache and tmpfs mounts, config files and shims as read-only bind mounts, env
//! changes, the edited script) to the exec op. The image config and history are untouched.

use super::api::{FileRequest, RunPlan};
use super::graph::{ExecMount, ExecSpec};
use super::state::Build;
use crate::cache::Written;
use crate::cache::{self, MountKind, Plan, Selection, Step, UserInfo};
use crate::error::Result;
use crate::instructions::{MountType, RunCommand};
use crate::llb::{self, OpMeta};

/// The [`FileRequest::key`] of questions about the build context's file list.
pub const CONTEXT_PROBE: &str = "hoard-context-probe";

/// Where in the build context the file a context COPY wrote at `target` came from; `None` when
/// `target` is not under the COPY's destination, or cannot be named as a pattern.
fn context_path(w: &Written, target: &str) -> Option<String> {
    let dir = w.context_dir.as_deref()?;
    let rest = if target == w.path {
        ""
    } else {
        target.strip_prefix(&w.path)?.strip_prefix('/')?
    };
    let rel = match (dir, rest) {
        ("", r) => r.to_string(),
        (d, "") => d.to_string(),
        (d, r) => format!("{d}/{r}"),
    };
    (!rel.is_empty() && !rel.contains(['*', '?', '[', '\\'])).then_some(rel)
}

/// A `/etc/passwd` entry: (name, uid, gid, home).
fn passwd_entries(data: &str) -> Vec<(String, u32, u32, String)> {
    data.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 6 {
                return None;
            }
            Some((
                f[0].to_string(),
                f[2].parse().ok()?,
                f[3].parse().ok()?,
                f[5].to_string(),
            ))
        })
        .collect()
}

fn group_gid(data: &str, name: &str) -> Option<u32> {
    data.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 3 && f[0] == name)
            .then(|| f[2].parse().ok())
            .flatten()
    })
}

/// What the planner reads of a step besides its stage's state.
struct StepText<'a> {
    args: &'a [String],
    shell_form: bool,
    extra_scripts: &'a [String],
    user_mounts: Vec<String>,
    /// Those of `user_mounts` that are cache mounts.
    user_caches: Vec<String>,
    selection: &'a Selection,
}

/// The outcome of resolving a `USER` value.
enum UserLookup {
    Known(UserInfo),
    /// A file must be read first (requested).
    Pending,
    /// Not resolvable (no such user): inject nothing.
    Unknown(String),
}

impl Build<'_> {
    /// A file of stage `i`'s current state: `Some(content)` once read (`Some(None)`: missing),
    /// `None` while unknown. Asks for it unless the state is pending: reading a state builds
    /// it, and a pending one holds a step without its caches.
    fn state_file(&mut self, i: usize, path: &str) -> Option<Option<String>> {
        let st = self.stages[i].st.as_ref().expect("stage initialised");
        let key = st
            .output
            .as_ref()
            .map(|o| format!("{}:{}", o.digest(), o.index()))
            .unwrap_or_else(|| "scratch".into());
        if let Some(v) = self.resolved_files.get(&(key.clone(), path.to_string())) {
            return Some(v.as_ref().map(|d| String::from_utf8_lossy(d).into_owned()));
        }
        if !st.pending
            && !self
                .file_requests
                .iter()
                .any(|r| r.key == key && r.path == path)
        {
            let definition = self.marshal(st.output.as_ref());
            self.file_requests.push(FileRequest {
                key,
                definition,
                path: path.to_string(),
                exists: false,
            });
        }
        None
    }

    /// The step's user when no file must be read for it: root, or numeric uid and gid with
    /// `HOME` in the environment (the runtime takes `HOME` from `/etc/passwd` only when unset).
    fn user_without_lookup(&self, i: usize) -> Option<UserInfo> {
        let st = self.stages[i].st.as_ref().expect("stage initialised");
        let env_home = st.env.get("HOME").map(str::to_string);
        let (user, group) = match st.user.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (st.user.as_str(), None),
        };
        if (user.is_empty() || user == "root" || user == "0")
            && group.is_none_or(|g| g == "0" || g == "root")
        {
            return Some(UserInfo {
                uid: 0,
                gid: 0,
                home: env_home.unwrap_or_else(|| "/root".into()),
            });
        }
        let uid = user.parse::<u32>().ok()?;
        let gid = group?.parse::<u32>().ok()?;
        Some(UserInfo {
            uid,
            gid,
            home: env_home?,
        })
    }

    fn resolve_user(&mut self, i: usize) -> UserLookup {
        if let Some(u) = self.user_without_lookup(i) {
            return UserLookup::Known(u);
        }
        let st = self.stages[i].st.as_ref().expect("stage initialised");
        let spec = st.user.clone();
        let env_home = st.env.get("HOME").map(str::to_string);
        let (user, group) = match spec.split_once(':') {
            Some((u, g)) => (u.to_string(), Some(g.to_string())),
            None => (spec.clone(), None),
        };
        if self.opts.no_reads {
            // Checks and outlines build nothing: assume the user exists (a `RUN useradd` may
            // create it), as root's ids (the LLB is not used).
            return UserLookup::Known(UserInfo {
                uid: 0,
                gid: 0,
                home: env_home.unwrap_or_else(|| "/".into()),
            });
        }
        // Both files of a `USER name:group` are asked for in the same round.
        let groups = group
            .as_deref()
            .filter(|g| g.parse::<u32>().is_err())
            .map(|_| self.state_file(i, "/etc/group"));
        let Some(passwd) = self.state_file(i, "/etc/passwd") else {
            return UserLookup::Pending;
        };
        let entries = passwd.as_deref().map(passwd_entries).unwrap_or_default();
        let entry = match user.parse::<u32>() {
            Ok(uid) => entries.iter().find(|e| e.1 == uid).cloned().or(Some((
                user.clone(),
                uid,
                0,
                "/".into(),
            ))),
            Err(_) => entries.iter().find(|e| e.0 == user).cloned(),
        };
        let Some((_, uid, mut gid, home)) = entry else {
            return UserLookup::Unknown(format!(
                "user \"{user}\" is not in the image's /etc/passwd"
            ));
        };
        if let Some(g) = group {
            match g.parse::<u32>() {
                Ok(n) => gid = n,
                Err(_) => {
                    let Some(Some(groups)) = groups else {
                        return UserLookup::Pending;
                    };
                    match groups.as_deref().and_then(|d| group_gid(d, &g)) {
                        Some(n) => gid = n,
                        None => {
                            return UserLookup::Unknown(format!(
                                "group \"{g}\" is not in the image's /etc/group"
                            ))
                        }
                    }
                }
            }
        }
        UserLookup::Known(UserInfo {
            uid,
            gid,
            home: env_home.unwrap_or(home),
        })
    }

    /// The planner's answer for this step as `user`.
    fn plan_step(&self, i: usize, step: &StepText, user: &UserInfo) -> Plan {
        let st = self.stages[i].st.as_ref().expect("stage initialised");
        self.plan_with(i, step, user, &st.written)
    }

    /// [`Self::plan_step`] with these paths protected instead of the stage's written ones.
    fn plan_with(&self, i: usize, step: &StepText, user: &UserInfo, protected: &[Written]) -> Plan {
        let st = self.stages[i].st.as_ref().expect("stage initialised");
        cache::plan(&Step {
            args: step.args,
            shell_form: step.shell_form,
            extra_scripts: step.extra_scripts,
            env: &st.env.0,
            cwd: &st.dir,
            user,
            platform: &st.platform,
            base: &st.base_ref,
            user_mounts: &step.user_mounts,
            user_caches: &step.user_caches,
            protected,
            wrapped: &st.wrapped,
            selection: step.selection,
        })
    }

    /// Whether the build context holds `rel` (after `.dockerignore`): `None` until asked,
    /// `Some(None)` when the question went unanswered.
    fn context_has(&self, rel: &str) -> Option<Option<bool>> {
        let v = self
            .resolved_files
            .get(&(CONTEXT_PROBE.to_string(), rel.to_string()))?;
        Some(v.as_ref().map(|d| !d.is_empty()))
    }

    /// Conflicts with COPYs from the build context, decided on what the context holds: a cache
    /// such a COPY blocks (its destination is an ancestor of the cache) is blocked only when
    /// the context has something at the cache's path. `None` while the context is asked: one
    /// local source of only those paths (nothing is sent when the context has none of them;
    /// when it has, the COPY sends the same files anyway). It reads no state of the build, so
    /// it is asked even while the stage is pending.
    fn context_conflicts(
        &mut self,
        i: usize,
        step: &StepText,
        user: &UserInfo,
        plan: Plan,
    ) -> Option<Plan> {
        let st = self.stages[i].st.as_ref().expect("stage initialised");
        if !st.written.iter().any(|w| w.context_dir.is_some()) {
            return Some(plan);
        }
        let (copies, mut protected): (Vec<Written>, Vec<Written>) = st
            .written
            .iter()
            .cloned()
            .partition(|w| w.context_dir.is_some());
        let free = self.plan_with(i, step, user, &protected);
        let (mut ask, mut changed) = (Vec::new(), false);
        for m in free
            .mounts
            .iter()
            .filter(|m| !plan.mounts.iter().any(|p| p.target == m.target))
        {
            for w in copies
                .iter()
                .filter(|w| crate::cache::planner::overlaps(&m.target, &w.path))
            {
                let Some(rel) = context_path(w, &m.target) else {
                    protected.push(w.clone());
                    continue;
                };
                match self.context_has(&rel) {
                    None => ask.push(rel),
                    Some(Some(true)) => protected.push(Written {
                        path: m.target.clone(),
                        found: Some(rel),
                        ..w.clone()
                    }),
                    Some(None) => protected.push(w.clone()),
                    Some(Some(false)) => changed = true,
                }
            }
        }
        let waiting = !ask.is_empty();
        ask.retain(|rel| {
            !self
                .file_requests
                .iter()
                .any(|r| r.key == CONTEXT_PROBE && r.path == *rel)
        });
        ask.sort();
        ask.dedup();
        if !ask.is_empty() {
            let definition = llb::marshal(Some(&self.context_probe(&ask)), &[]);
            for rel in ask {
                self.file_requests.push(FileRequest {
                    key: CONTEXT_PROBE.to_string(),
                    definition: definition.clone(),
                    path: rel,
                    exists: true,
                });
            }
        }
        if waiting {
            return None;
        }
        Some(if changed {
            self.plan_with(i, step, user, &protected)
        } else {
            plan
        })
    }

    /// The local source that lists the build context at `rels` only.
    fn context_probe(&self, rels: &[String]) -> llb::Output {
        let opts = llb::LocalOpts {
            session_id: (!self.opts.session_id.is_empty()).then(|| self.opts.session_id.clone()),
            unique_id: "hoard-context-probe".into(),
            include_patterns: rels.to_vec(),
            exclude_patterns: self.opts.dockerignore.clone(),
            shared_key_hint: Some(format!("{}:hoard-probe", self.opts.context_key)),
            ..Default::default()
        };
        llb::local(
            &self.opts.context_key,
            &opts,
            OpMeta::named(format!(
                "[internal] hoard: look for {} in the build context",
                rels.join(", ")
            )),
        )
    }

    /// Targets of the step's own mounts (hoard never mounts on, over or under them); with
    /// `caches_only`, of its cache mounts.
    fn user_mount_targets(&self, i: usize, c: &RunCommand, caches_only: bool) -> Vec<String> {
        let dir = &self.stages[i].st.as_ref().expect("stage initialised").dir;
        c.mounts
            .iter()
            .filter(|m| !m.target.is_empty() && !matches!(m.kind, MountType::Ssh))
            .filter(|m| !caches_only || matches!(m.kind, MountType::Cache))
            .map(|m| super::paths::mount_target(dir, &m.target))
            .collect()
    }

    /// Plan this RUN's caches and add them to `spec`.
    ///
    /// A user named in `USER` is looked up in the `/etc/passwd` of the state before the step,
    /// which the caller reads between rounds (building that state). Until then the step is
    /// emitted without caches and the stage is marked pending, so that no later lookup reads a
    /// state holding it. The lookup is skipped for a step in which the planner finds no tool:
    /// it would inject nothing whoever the user is.
    pub(super) fn inject_caches(
        &mut self,
        i: usize,
        c: &RunCommand,
        spec: &mut ExecSpec,
        shell_form: bool,
        extra_scripts: &[String],
    ) -> Result<()> {
        let selection =
            self.dialect
                .selection(self.stages[i].span.start, c.span.start, &self.hoard_arg);
        let stage = self.stages[i].stage_name.clone();
        let mut record = RunPlan {
            span: c.span,
            stage,
            selection: selection.clone(),
            user: None,
            plan: Plan::default(),
        };
        if !selection.enabled {
            self.plans.push(record);
            return Ok(());
        }
        let step = StepText {
            args: &spec.args,
            shell_form,
            extra_scripts,
            user_mounts: self.user_mount_targets(i, c, false),
            user_caches: self.user_mount_targets(i, c, true),
            selection: &selection,
        };
        if self.user_without_lookup(i).is_none() {
            let probe = UserInfo {
                uid: 65534,
                gid: 65534,
                home: "/nonexistent".into(),
            };
            let plan = self.plan_step(i, &step, &probe);
            if plan.tools.is_empty() && plan.is_empty() {
                self.plans.push(record);
                return Ok(());
            }
        }
        // A user hoard cannot resolve gets no caches (their owner would be a guess), but what
        // the step runs is still detected and reported (planned as root, then dropped).
        let (user, unknown) = match self.resolve_user(i) {
            UserLookup::Known(u) => (u, None),
            UserLookup::Pending => {
                self.stages[i]
                    .st
                    .as_mut()
                    .expect("stage initialised")
                    .pending = true;
                return Ok(());
            }
            UserLookup::Unknown(why) => (
                UserInfo {
                    uid: 0,
                    gid: 0,
                    home: "/root".into(),
                },
                Some(why),
            ),
        };
        let plan = self.plan_step(i, &step, &user);
        let plan = if unknown.is_some() {
            plan
        } else {
            match self.context_conflicts(i, &step, &user, plan) {
                Some(p) => p,
                None => {
                    self.stages[i]
                        .st
                        .as_mut()
                        .expect("stage initialised")
                        .pending = true;
                    return Ok(());
                }
            }
        };
        if let Some(why) = unknown {
            record.plan = unresolved_plan(plan, &why);
            self.plans.push(record);
            return Ok(());
        }

        self.apply_plan(spec, &plan)?;
        record.user = Some(user);
        record.plan = plan;
        self.plans.push(record);
        Ok(())
    }

    /// Add a plan to the step: its cache, tmpfs and file mounts (each hoard file built once per
    /// conversion), its environment changes and its rewritten script.
    fn apply_plan(&mut self, spec: &mut ExecSpec, plan: &Plan) -> Result<()> {
        // Cache ids get the build's namespace exactly like a `--mount=type=cache,id=...` the
        // user wrote, so `hoard eject` output shares the same caches.
        let ns = self
            .opts
            .build_args
            .get("BUILDKIT_CACHE_MOUNT_NS")
            .cloned()
            .unwrap_or_default();
        for m in &plan.mounts {
            match &m.kind {
                MountKind::Cache {
                    id,
                    sharing,
                    uid,
                    gid,
                } => {
                    let id = &format!("{ns}/{id}");
                    let non_root = *uid != 0 || *gid != 0;
                    spec.mounts.push(ExecMount::Cache {
                        target: m.target.clone(),
                        id: id.clone(),
                        sharing: *sharing,
                        base: None,
                        selector: String::new(),
                        readonly: false,
                        uid: non_root.then_some(*uid),
                        gid: non_root.then_some(*gid),
                        mode: None,
                    });
                }
                MountKind::Tmpfs => spec.mounts.push(ExecMount::Tmpfs {
                    target: m.target.clone(),
                    size: 0,
                }),
                MountKind::File { content, mode } => {
                    let name = m.target.rsplit('/').next().unwrap_or("file").to_string();
                    // The same file serves every step that mounts it: built (and hashed) once.
                    let key = (m.target.clone(), m.recipe.clone(), *mode, content.clone());
                    let file = match self.hoard_files.get(&key) {
                        Some(f) => f.clone(),
                        None => {
                            let f = self.graph.mkfile(
                                None,
                                &format!("/{name}"),
                                *mode,
                                content.as_bytes(),
                                OpMeta::named(format!(
                                    "[internal] hoard: {} for {}",
                                    m.target, m.recipe
                                )),
                            )?;
                            self.hoard_files.insert(key, f.clone());
                            f
                        }
                    };
                    spec.mounts.push(ExecMount::Bind {
                        target: m.target.clone(),
                        input: Some(file),
                        selector: format!("/{name}"),
                        readonly: true,
                    });
                }
            }
        }
        if !plan.env.is_empty() {
            let mut env: Vec<(String, String)> = spec
                .env
                .iter()
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
                    (k.to_string(), v.to_string())
                })
                .collect();
            plan.apply_env(&mut env);
            spec.env = env.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        }
        if let Some(script) = &plan.script {
            if let Some(last) = spec.args.last_mut() {
                *last = script.clone();
            }
        }
        Ok(())
    }
}

/// The plan of a step whose user hoard cannot resolve: the tools it detected, each without a
/// cache and with the reason, and no mounts.
fn unresolved_plan(plan: Plan, why: &str) -> Plan {
    let tools = plan
        .tools
        .into_iter()
        .map(|t| cache::Detected {
            cache: cache::ToolCache::None(format!(
                "{why}, so hoard cannot tell who would own its cache (use a numeric USER uid:gid, or create the user in the base image)"
            )),
            ..t
        })
        .collect();
    Plan {
        tools,
        notes: vec![format!("{why}; no caches injected")],
        ..Plan::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::{rounds, ConvertOpts, ImageRequest, ResolvedImage};
    use crate::error::Error;

    /// A build context holding `paths` (and what is under them); every question recorded.
    struct Context {
        paths: Vec<&'static str>,
        asked: Vec<FileRequest>,
    }

    impl rounds::Resolver for Context {
        type Error = Error;

        async fn images(
            &mut self,
            needs: &[ImageRequest],
        ) -> std::result::Result<Vec<ResolvedImage>, Error> {
            Ok(needs
                .iter()
                .map(|n| ResolvedImage {
                    reference: n.reference.clone(),
                    digest: None,
                    config: crate::image::ImageConfig::empty(&n.platform).to_json(),
                })
                .collect())
        }

        async fn files(
            &mut self,
            needs: &[FileRequest],
            _ready: Vec<llb::Definition>,
        ) -> std::result::Result<Vec<Option<Vec<u8>>>, Error> {
            self.asked.extend(needs.iter().cloned());
            Ok(needs
                .iter()
                .map(|n| {
                    let has = self
                        .paths
                        .iter()
                        .any(|p| *p == n.path || p.starts_with(&format!("{}/", n.path)));
                    n.exists
                        .then(|| if has { b"yes".to_vec() } else { Vec::new() })
                })
                .collect())
        }
    }

    fn plans(text: &str, paths: Vec<&'static str>) -> (Vec<RunPlan>, Vec<FileRequest>) {
        let mut ctx = Context {
            paths,
            asked: Vec::new(),
        };
        let mut done =
            rounds::block_on(rounds::drive(text, &ConvertOpts::default(), &mut ctx)).unwrap();
        (done.results.pop().unwrap().plans, ctx.asked)
    }

    /// cargo's notes and mount targets (its `target/` cache is hoard's own, never blocked).
    fn cargo_cache(p: &RunPlan) -> (String, Vec<String>) {
        assert!(p.plan.tools.iter().any(|t| t.tool == "cargo"), "{p:?}");
        (
            p.plan.notes.join("\n"),
            p.plan.mounts.iter().map(|m| m.target.clone()).collect(),
        )
    }

    const INDEX: &str = "/root/.cargo/registry/index";

    const COPY_ALL: &str = "FROM scratch\nWORKDIR /\nCOPY . .\nRUN cargo build --release\n";

    /// `COPY . .` into / blocks nothing the context does not hold: cargo's registry is cached
    /// when the context has no `root/.cargo`; all of it asked at once.
    #[test]
    fn a_copy_of_the_context_blocks_only_what_the_context_holds() {
        let (p, asked) = plans(COPY_ALL, vec!["Cargo.toml", "src/main.rs"]);
        let (notes, targets) = cargo_cache(&p[0]);
        assert!(
            targets.contains(&INDEX.to_string())
                && targets.contains(&"/root/.cargo/git/db".to_string()),
            "{targets:?}"
        );
        assert!(notes.is_empty(), "{notes}");
        let probes: Vec<&str> = asked.iter().map(|r| r.path.as_str()).collect();
        assert!(
            probes.contains(&"root/.cargo/registry/index")
                && probes.contains(&"root/.cargo/git/db"),
            "{probes:?}"
        );
        assert!(
            asked.iter().all(|r| r.exists && r.key == CONTEXT_PROBE),
            "only the context is asked: {asked:?}"
        );
        assert!(
            asked.iter().all(|r| r.definition == asked[0].definition),
            "one listing for the step"
        );

        // A context holding the registry (vendored by hand) keeps that part out of the cache,
        // and says why.
        let (p, _) = plans(COPY_ALL, vec!["Cargo.toml", "root/.cargo/registry/index/x"]);
        let (notes, targets) = cargo_cache(&p[0]);
        assert!(!targets.contains(&INDEX.to_string()), "{targets:?}");
        assert!(
            targets.contains(&"/root/.cargo/git/db".to_string()),
            "{targets:?}"
        );
        assert!(notes.contains("`COPY . .` (line 3) copies root/.cargo/registry/index from the build context; hoard does not hide /root/.cargo/registry/index"), "{notes}");
    }

    /// The planner's reason for a tool that gets nothing names the context's path.
    #[test]
    fn the_reason_names_the_context_path() {
        let text = "FROM scratch\nWORKDIR /\nCOPY . .\nRUN apk add curl\n";
        let (p, _) = plans(text, vec!["etc/apk/cache/x.apk"]);
        let apk = p[0].plan.tools.iter().find(|t| t.tool == "apk").unwrap();
        match &apk.cache {
            cache::ToolCache::None(why) => {
                assert!(why.contains("`COPY . .` (line 3) copies etc/apk/cache from the build context to /etc/apk/cache"), "{why}");
                assert!(why.contains(".dockerignore"), "{why}");
            }
            other => panic!("{other:?}"),
        }
        let (p, _) = plans(text, vec!["etc/apk/repositories"]);
        assert_eq!(
            p[0].plan.tools[0].cache.as_str(),
            "hoard",
            "{:?}",
            p[0].plan
        );
    }

    /// The context path follows the COPY's source directory and destination.
    #[test]
    fn context_paths_follow_source_and_destination() {
        let w = |path: &str, dir: &str| Written {
            path: path.into(),
            context_dir: Some(dir.into()),
            ..Written::default()
        };
        assert_eq!(
            context_path(&w("", ""), "/root/.cargo/registry").as_deref(),
            Some("root/.cargo/registry")
        );
        assert_eq!(
            context_path(&w("/app", ""), "/app/target").as_deref(),
            Some("target")
        );
        assert_eq!(
            context_path(&w("/app", "src"), "/app/target").as_deref(),
            Some("src/target")
        );
        assert_eq!(
            context_path(&w("/app", "src"), "/app").as_deref(),
            Some("src")
        );
        // The COPY wrote inside the cache directory: nothing to ask.
        assert_eq!(context_path(&w("/root/.cache/x", ""), "/root/.cache"), None);
        assert_eq!(context_path(&w("/app", ""), "/application/x"), None);
        assert_eq!(context_path(&Written::path("/"), "/x"), None);
    }

    /// What the context cannot tell is not asked: a COPY from another stage, several sources,
    /// wildcards, ADD. Those still block.
    #[test]
    fn other_copies_still_block_without_asking() {
        for copy in [
            "COPY --from=b / /",
            "COPY a b /",
            "COPY *.toml /",
            "ADD . /",
        ] {
            let text =
                format!("FROM scratch AS b\nFROM scratch\n{copy}\nRUN cargo build --release\n");
            let (p, asked) = plans(&text, vec![]);
            let (notes, targets) = cargo_cache(&p[0]);
            assert!(asked.is_empty(), "{copy}: {asked:?}");
            assert!(!targets.contains(&INDEX.to_string()), "{copy}: {targets:?}");
            assert!(
                notes.contains("wrote /; hoard does not hide /root/.cargo/registry/index"),
                "{copy}: {notes}"
            );
        }
    }

    /// Copying the root of an image whose contents are known (tonistiigi/xx: only `/usr/bin`)
    /// blocks no cache; a stage built from it, a subpath copy into `/`, or another image's root
    /// still block as before.
    #[test]
    fn copying_the_xx_image_root_blocks_nothing() {
        // (stages before, the copy, whether cargo's registry is still cached)
        for (from, copy, cached) in [
            (
                "FROM tonistiigi/xx:1.6.1 AS xx\n",
                "COPY --from=xx / /",
                true,
            ),
            ("", "COPY --from=tonistiigi/xx / /", true),
            ("FROM tonistiigi/xx AS xx\n", "COPY --from=xx . /", true),
            (
                "FROM tonistiigi/xx AS xx\nRUN true\n",
                "COPY --from=xx / /",
                false,
            ),
            ("FROM tonistiigi/xx AS xx\n", "COPY --from=xx /usr /", false),
            ("FROM tonistiigi/xxx AS xx\n", "COPY --from=xx / /", false),
        ] {
            let text = format!("{from}FROM scratch\n{copy}\nRUN cargo build --release\n");
            let (p, _) = plans(&text, vec![]);
            let (notes, targets) = cargo_cache(p.last().unwrap());
            assert_eq!(
                targets.contains(&INDEX.to_string()),
                cached,
                "{copy}: {targets:?}"
            );
            if cached {
                assert!(notes.is_empty(), "{copy}: {notes}");
            } else {
                assert!(notes.contains("wrote /"), "{copy}: {notes}");
            }
        }
    }

    /// No answer from the context (a request that builds nothing) counts as the path being there.
    #[test]
    fn unanswered_counts_as_present() {
        struct Silent;
        impl rounds::Resolver for Silent {
            type Error = Error;
            async fn images(
                &mut self,
                _: &[ImageRequest],
            ) -> std::result::Result<Vec<ResolvedImage>, Error> {
                Ok(Vec::new())
            }
            async fn files(
                &mut self,
                needs: &[FileRequest],
                _: Vec<llb::Definition>,
            ) -> std::result::Result<Vec<Option<Vec<u8>>>, Error> {
                Ok(vec![None; needs.len()])
            }
        }
        let mut done = rounds::block_on(rounds::drive(
            COPY_ALL,
            &ConvertOpts::default(),
            &mut Silent,
        ))
        .unwrap();
        let (notes, targets) = cargo_cache(&done.results.pop().unwrap().plans[0]);
        assert!(!targets.contains(&INDEX.to_string()), "{targets:?}");
        assert!(
            notes.contains(
                "`COPY . .` (line 3) wrote /; hoard does not hide /root/.cargo/registry/index"
            ),
            "{notes}"
        );
    }

    #[test]
    fn passwd_and_group_parsing() {
        let p = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\nbroken\n";
        let e = passwd_entries(p);
        assert_eq!(e.len(), 2);
        assert_eq!(
            e[1],
            ("app".to_string(), 1000, 1001, "/home/app".to_string())
        );
        assert_eq!(group_gid("root:x:0:\nstaff:x:50:app\n", "staff"), Some(50));
        assert_eq!(group_gid("root:x:0:\n", "nope"), None);
    }
}
