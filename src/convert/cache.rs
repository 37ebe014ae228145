//! Cache injection for one `RUN`: resolve the step's user, ask the planner, and add what it
//! planned (cache and tmpfs mounts, config files and shims as read-only bind mounts, env
//! changes, the edited script) to the exec op. The image config and history are untouched.

use super::graph::{ExecMount, ExecSpec};
use super::stages::Build;
use super::{FileRequest, RunPlan};
use crate::cache::{self, MountKind, Plan, Selection, Step, UserInfo};
use crate::error::Result;
use crate::instructions::{MountType, RunCommand};
use crate::llb::OpMeta;

/// A `/etc/passwd` entry: (name, uid, gid, home).
fn passwd_entries(data: &str) -> Vec<(String, u32, u32, String)> {
    data.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 6 {
                return None;
            }
            Some((f[0].to_string(), f[2].parse().ok()?, f[3].parse().ok()?, f[5].to_string()))
        })
        .collect()
}

fn group_gid(data: &str, name: &str) -> Option<u32> {
    data.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 3 && f[0] == name).then(|| f[2].parse().ok()).flatten()
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
        let key = st.output.as_ref().map(|o| format!("{}:{}", o.digest(), o.index())).unwrap_or_else(|| "scratch".into());
        if let Some(v) = self.resolved_files.get(&(key.clone(), path.to_string())) {
            return Some(v.as_ref().map(|d| String::from_utf8_lossy(d).into_owned()));
        }
        if !st.pending && !self.file_requests.iter().any(|r| r.key == key && r.path == path) {
            let definition = self.marshal(st.output.as_ref());
            self.file_requests.push(FileRequest { key, definition, path: path.to_string() });
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
        if (user.is_empty() || user == "root" || user == "0") && group.is_none_or(|g| g == "0" || g == "root") {
            return Some(UserInfo { uid: 0, gid: 0, home: env_home.unwrap_or_else(|| "/root".into()) });
        }
        let uid = user.parse::<u32>().ok()?;
        let gid = group?.parse::<u32>().ok()?;
        Some(UserInfo { uid, gid, home: env_home? })
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
            return UserLookup::Known(UserInfo { uid: 0, gid: 0, home: env_home.unwrap_or_else(|| "/".into()) });
        }
        // Both files of a `USER name:group` are asked for in the same round.
        let groups = group.as_deref().filter(|g| g.parse::<u32>().is_err()).map(|_| self.state_file(i, "/etc/group"));
        let Some(passwd) = self.state_file(i, "/etc/passwd") else { return UserLookup::Pending };
        let entries = passwd.as_deref().map(passwd_entries).unwrap_or_default();
        let entry = match user.parse::<u32>() {
            Ok(uid) => entries.iter().find(|e| e.1 == uid).cloned().or(Some((user.clone(), uid, 0, "/".into()))),
            Err(_) => entries.iter().find(|e| e.0 == user).cloned(),
        };
        let Some((_, uid, mut gid, home)) = entry else {
            return UserLookup::Unknown(format!("user \"{user}\" is not in the image's /etc/passwd"));
        };
        if let Some(g) = group {
            match g.parse::<u32>() {
                Ok(n) => gid = n,
                Err(_) => {
                    let Some(Some(groups)) = groups else { return UserLookup::Pending };
                    match groups.as_deref().and_then(|d| group_gid(d, &g)) {
                        Some(n) => gid = n,
                        None => return UserLookup::Unknown(format!("group \"{g}\" is not in the image's /etc/group")),
                    }
                }
            }
        }
        UserLookup::Known(UserInfo { uid, gid, home: env_home.unwrap_or(home) })
    }

    /// The planner's answer for this step as `user`.
    fn plan_step(&self, i: usize, step: &StepText, user: &UserInfo) -> Plan {
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
            protected: &st.written,
            selection: step.selection,
        })
    }

    /// Targets of the step's own mounts (hoard never mounts on, over or under them); with
    /// `caches_only`, of its cache mounts.
    fn user_mount_targets(&self, i: usize, c: &RunCommand, caches_only: bool) -> Vec<String> {
        let dir = &self.stages[i].st.as_ref().expect("stage initialised").dir;
        c.mounts
            .iter()
            .filter(|m| !m.target.is_empty() && !matches!(m.kind, MountType::Ssh))
            .filter(|m| !caches_only || matches!(m.kind, MountType::Cache))
            .map(|m| {
                if m.target.starts_with('/') {
                    super::dispatch::clean_path(&m.target)
                } else {
                    super::dispatch::clean_path(&format!("{dir}/{}", m.target))
                }
            })
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
        let selection = self.dialect.selection(self.stages[i].span.start, c.span.start, &self.hoard_arg);
        let stage = self.stages[i].stage_name.clone();
        let mut record = RunPlan { span: c.span, stage, selection: selection.clone(), user: None, plan: Plan::default() };
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
            let probe = UserInfo { uid: 65534, gid: 65534, home: "/nonexistent".into() };
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
                self.stages[i].st.as_mut().expect("stage initialised").pending = true;
                return Ok(());
            }
            UserLookup::Unknown(why) => (UserInfo { uid: 0, gid: 0, home: "/root".into() }, Some(why)),
        };
        let plan = self.plan_step(i, &step, &user);
        if let Some(why) = unknown {
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
            record.plan = Plan { tools, notes: vec![format!("{why}; no caches injected")], ..Plan::default() };
            self.plans.push(record);
            return Ok(());
        }

        // Cache ids get the build's namespace exactly like a `--mount=type=cache,id=...` the
        // user wrote, so `hoard eject` output shares the same caches.
        let ns = self.opts.build_args.get("BUILDKIT_CACHE_MOUNT_NS").cloned().unwrap_or_default();
        for m in &plan.mounts {
            match &m.kind {
                MountKind::Cache { id, sharing, uid, gid } => {
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
                MountKind::Tmpfs => spec.mounts.push(ExecMount::Tmpfs { target: m.target.clone(), size: 0 }),
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
                                OpMeta::named(format!("[internal] hoard: {} for {}", m.target, m.recipe)),
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
        record.user = Some(user);
        record.plan = plan;
        self.plans.push(record);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_and_group_parsing() {
        let p = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\nbroken\n";
        let e = passwd_entries(p);
        assert_eq!(e.len(), 2);
        assert_eq!(e[1], ("app".to_string(), 1000, 1001, "/home/app".to_string()));
        assert_eq!(group_gid("root:x:0:\nstaff:x:50:app\n", "staff"), Some(50));
        assert_eq!(group_gid("root:x:0:\n", "nope"), None);
    }
}
