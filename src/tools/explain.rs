//! `hoard explain`: per RUN, the tools detected and the mounts, ids, env and edits injected.

use serde_json::{json, Value};

use super::offline::Offline;
use crate::cache::{EnvChange, MountKind};
use crate::convert::RunPlan;

fn sharing(s: crate::instructions::Sharing) -> &'static str {
    s.as_str()
}

fn mount_json(m: &crate::cache::PlannedMount) -> Value {
    match &m.kind {
        MountKind::Cache {
            id,
            sharing: sh,
            uid,
            gid,
        } => json!({
            "type": "cache", "recipe": m.recipe, "target": m.target, "id": id,
            "sharing": sharing(*sh), "uid": uid, "gid": gid,
        }),
        MountKind::Tmpfs => json!({"type": "tmpfs", "recipe": m.recipe, "target": m.target}),
        MountKind::File { mode, content } => json!({
            "type": "file", "recipe": m.recipe, "target": m.target, "mode": format!("{mode:04o}"),
            "bytes": content.len(),
        }),
    }
}

/// A detected tool: `cache` is `hoard` (hoard mounts its cache), `yours` (the step's own cache
/// mount covers it) or `none`, with `why` saying what to change.
fn tool_json(t: &crate::cache::Detected) -> Value {
    let mut v = json!({"tool": t.tool, "command": t.command, "cache": t.cache.as_str()});
    if let crate::cache::ToolCache::None(why) = &t.cache {
        v["why"] = json!(why);
    }
    v
}

fn run_json(r: &RunPlan) -> Value {
    json!({
        "line": r.span.start,
        "end_line": r.span.end,
        "stage": r.stage,
        "enabled": r.selection.enabled,
        "user": r.user.as_ref().map(|u| json!({"uid": u.uid, "gid": u.gid, "home": u.home})),
        "tools": r.plan.tools.iter().map(tool_json).collect::<Vec<_>>(),
        "mounts": r.plan.mounts.iter().map(mount_json).collect::<Vec<_>>(),
        "env": r.plan.env.iter().map(|e| match e {
            EnvChange::Set(k, v) => json!({"set": k, "value": v}),
            EnvChange::Unset(k) => json!({"unset": k}),
        }).collect::<Vec<_>>(),
        "script": r.plan.script,
        "notes": r.plan.notes,
    })
}

/// The JSON report (`hoard explain --json`).
pub fn to_json(file: &str, off: &Offline) -> Value {
    json!({
        "file": file,
        "platform": off.platform.id(),
        "assumptions": off.assumptions,
        "runs": off.plans.iter().map(run_json).collect::<Vec<_>>(),
    })
}

/// The human report.
pub fn to_text(file: &str, text: &str, off: &Offline) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    for a in &off.assumptions {
        out += &format!("note: {a}\n");
    }
    for r in &off.plans {
        let first = lines
            .get(r.span.start.saturating_sub(1))
            .copied()
            .unwrap_or("")
            .trim();
        let stage = if r.stage.is_empty() {
            String::new()
        } else {
            format!(" [{}]", r.stage)
        };
        out += &format!("\n{file}:{}{stage}: {first}\n", r.span.start);
        if !r.selection.enabled {
            out += "  hoard is off for this step\n";
        }
        if let Some(u) = &r.user {
            if u.uid != 0 {
                out += &format!("  runs as uid {} gid {} (home {})\n", u.uid, u.gid, u.home);
            }
        }
        if r.plan.tools.is_empty() && r.selection.enabled {
            out += "  no package manager detected\n";
        }
        for t in &r.plan.tools {
            out += &format!("  detected {:<8} {}\n", t.tool, t.command);
        }
        // Once per tool: what it got, when not hoard's cache.
        let mut said: Vec<&str> = Vec::new();
        for t in &r.plan.tools {
            if said.contains(&t.tool.as_str()) {
                continue;
            }
            said.push(&t.tool);
            match &t.cache {
                crate::cache::ToolCache::Hoard => {}
                crate::cache::ToolCache::Yours => {
                    out += &format!(
                        "  {:<7} {} uses the step's own cache mount\n",
                        "cache", t.tool
                    )
                }
                crate::cache::ToolCache::None(why) => {
                    out += &format!("  no cache for {}: {why}\n", t.tool)
                }
            }
        }
        for m in &r.plan.mounts {
            match &m.kind {
                MountKind::Cache {
                    id,
                    sharing: sh,
                    uid,
                    gid,
                } => {
                    let owner = if *uid != 0 || *gid != 0 {
                        format!(",uid={uid},gid={gid}")
                    } else {
                        String::new()
                    };
                    out += &format!(
                        "  cache   {} id={} sharing={}{owner}\n",
                        m.target,
                        id,
                        sharing(*sh)
                    );
                }
                MountKind::Tmpfs => out += &format!("  tmpfs   {}\n", m.target),
                MountKind::File { mode, .. } => {
                    out += &format!(
                        "  file    {} (mode {mode:04o}, for {})\n",
                        m.target, m.recipe
                    )
                }
            }
        }
        for e in &r.plan.env {
            match e {
                EnvChange::Set(k, v) => out += &format!("  env     {k}={v}\n"),
                EnvChange::Unset(k) => out += &format!("  env     unset {k}\n"),
            }
        }
        if let Some(s) = &r.plan.script {
            out += &format!("  command {s}\n");
        }
        for n in &r.plan.notes {
            out += &format!("  note    {n}\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::offline::{plans, OfflineOpts};

    /// A user whose uid hoard cannot learn offline (created by an earlier RUN) gets no caches,
    /// but the report still says what the step runs and why nothing was added.
    #[test]
    fn unknown_user_still_shows_what_was_detected() {
        let df = "FROM scratch\nRUN useradd -m app\nUSER app\nRUN pip install flask\n";
        let opts = OfflineOpts {
            no_docker: true,
            ..OfflineOpts::default()
        };
        let off = plans(df, "Dockerfile", &opts).unwrap();
        let text = to_text("Dockerfile", df, &off);
        let step = text
            .split("Dockerfile:4")
            .nth(1)
            .expect("the pip step is reported");
        assert!(step.contains("detected pip"), "{text}");
        assert!(
            step.contains(
                "note    user \"app\" is not in the image's /etc/passwd; no caches injected"
            ),
            "{text}"
        );
        assert!(
            !step.contains("cache   ") && !step.contains("no package manager detected"),
            "{text}"
        );
    }

    /// Every detected tool says in the JSON whether it is cached and, when not, why.
    #[test]
    fn tools_say_whether_and_why_not_cached() {
        let df = "FROM scratch\nCOPY --from=busybox / /\nRUN apk add curl && pip install flask\nRUN --mount=type=cache,target=/var/cache/apt --mount=type=cache,target=/var/lib/apt/lists apt-get update\n";
        let opts = OfflineOpts {
            no_docker: true,
            ..OfflineOpts::default()
        };
        let off = plans(df, "Dockerfile", &opts).unwrap();
        let json = to_json("Dockerfile", &off);
        let tools = |line: u64| -> Vec<Value> {
            let run = json["runs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["line"] == line)
                .unwrap()
                .clone();
            run["tools"].as_array().unwrap().clone()
        };
        let t = tools(3);
        let apk = t.iter().find(|t| t["tool"] == "apk").unwrap();
        assert_eq!(apk["cache"], "none", "{t:?}");
        assert!(
            apk["why"]
                .as_str()
                .unwrap()
                .contains("COPY --from=busybox / /` (line 2)"),
            "{apk}"
        );
        let pip = t.iter().find(|t| t["tool"] == "pip").unwrap();
        assert_eq!(
            pip["cache"], "hoard",
            "private paths are never blocked: {pip}"
        );
        assert!(pip.get("why").is_none());
        assert!(
            tools(4).iter().all(|t| t["cache"] == "yours"),
            "{:?}",
            tools(4)
        );
        let text = to_text("Dockerfile", df, &off);
        assert!(text.contains("no cache for apk: `COPY --from=busybox / /` (line 2) may have put files in /etc/apk/cache"), "{text}");
        assert!(
            text.contains("apt uses the step's own cache mount"),
            "{text}"
        );
    }

    /// `xx-go --wrap` in one step makes a later `make` of the stage, and of a stage built on
    /// it, a use of Go for the target platform; a `make` in a stage without it gets nothing.
    #[test]
    fn xx_go_wrap_carries_to_later_steps_and_stages() {
        let df =
            "FROM scratch AS base\nARG TARGETPLATFORM=linux/arm64\nRUN xx-go --wrap\nRUN make\n\
                  FROM base AS child\nRUN make bin/app\nRUN xx-go --unwrap && make\n\
                  FROM scratch AS plain\nRUN make\nCOPY --from=child / /\n";
        let opts = OfflineOpts {
            no_docker: true,
            target: Some("plain".into()),
            ..OfflineOpts::default()
        };
        let off = plans(df, "Dockerfile", &opts).unwrap();
        let json = to_json("Dockerfile", &off);
        let run = |line: u64| -> Value {
            json["runs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["line"] == line)
                .unwrap_or_else(|| panic!("no RUN at line {line}: {json}"))
                .clone()
        };
        for line in [4, 6] {
            let r = run(line);
            assert_eq!(r["tools"][0]["tool"], "go", "line {line}: {r}");
            let build = r["mounts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["target"] == "/var/cache/hoard/go/build")
                .unwrap_or_else(|| panic!("line {line}: {r}"))
                .clone();
            assert_eq!(build["id"], "hoard/go/build/linux-arm64", "line {line}");
        }
        for line in [3, 7, 9] {
            let r = run(line);
            assert!(
                r["tools"].as_array().unwrap().is_empty(),
                "line {line}: {r}"
            );
        }
    }

    /// A script written by a `COPY` heredoc in an ancestor stage, run by path after `xx-go
    /// --wrap`: the `make` inside it is a use of Go (buildkit's containerd stages).
    #[test]
    fn heredoc_script_run_by_path() {
        let df = "FROM scratch AS base\nCOPY --chmod=755 <<-EOT /build.sh\n#!/bin/sh\nset -ex\nmake bin/app\nEOT\n\
                  RUN xx-go --wrap\nFROM base\nRUN /build.sh\n";
        let opts = OfflineOpts {
            no_docker: true,
            ..OfflineOpts::default()
        };
        let off = plans(df, "Dockerfile", &opts).unwrap();
        let json = to_json("Dockerfile", &off);
        let run = json["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["line"] == 9)
            .unwrap_or_else(|| panic!("{json}"))
            .clone();
        assert_eq!(run["tools"][0]["tool"], "go", "{run}");
        assert_eq!(run["tools"][0]["command"], "make bin/app", "{run}");
    }
}
