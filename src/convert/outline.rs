//! The outline of a target (`docker buildx build --call outline`): the build args, secrets and
//! ssh mounts the target uses, recorded while the converter dispatches the stages it reaches,
//! the way the stock dispatcher records them (`outlineCapture`). One walk serves the build,
//! the checks and the outline, so all three follow the same ARG/ENV scoping rules.
//!
//! * Global ARGs (before the first `FROM`) are recorded as [`args::meta_args`](super::args)
//!   evaluates them; each remembers the global args its default used, so using one marks those
//!   as used too.
//! * Every stage starts from the global record (or a copy of its base stage's record as it was
//!   before that stage was dispatched) and marks as used the args its `FROM` name and
//!   `--platform` expand.
//! * Dispatching a stage's `ARG` records its definition (a bare `ARG` naming a global or
//!   automatic arg keeps that definition) and marks it used; a `RUN` records its secret and ssh
//!   mounts (first use per id wins).
//! * [`collect`] walks the target, then its base stage, then the stages it copies or mounts
//!   from; the first definition of a name wins; each list is sorted by line.
//!
//! The converter calls these as it walks (`stages`, `dispatch`, `run`); this file knows
//! nothing of its state.
//!
//! Descriptions come from the comments the parser attaches to each instruction's node.

use std::collections::{BTreeMap, BTreeSet};

use super::args::MetaArg;
use crate::error::Span;

/// One build arg of the outline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutlineArg {
    pub name: String,
    pub description: String,
    pub value: String,
    pub span: Span,
}

/// One secret or ssh mount of the outline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutlineMount {
    pub name: String,
    pub required: bool,
    pub span: Span,
}

/// The outline of a build target (stock `outline.Outline`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outline {
    /// The target stage's name (empty for an unnamed stage).
    pub name: String,
    pub description: String,
    pub args: Vec<OutlineArg>,
    pub secrets: Vec<OutlineMount>,
    pub ssh: Vec<OutlineMount>,
}

/// A recorded ARG definition (stock `argInfo`).
#[derive(Clone, Debug)]
struct ArgInfo {
    description: String,
    value: String,
    span: Span,
    /// Global args the default used (global ARGs only).
    deps: BTreeSet<String>,
    /// Order of definition, for args sharing a line.
    seq: usize,
}

#[derive(Clone, Debug)]
struct MountInfo {
    required: bool,
    span: Span,
    seq: usize,
}

/// What a stage recorded (stock `outlineCapture`).
#[derive(Clone, Debug, Default)]
pub(super) struct Capture {
    all: BTreeMap<String, ArgInfo>,
    used: BTreeSet<String>,
    secrets: BTreeMap<String, MountInfo>,
    ssh: BTreeMap<String, MountInfo>,
}

impl Capture {
    /// Mark the args the used ones were computed from as used too, transitively.
    fn mark_all_used(&mut self) {
        let mut todo: Vec<String> = self.used.iter().cloned().collect();
        let mut seen = BTreeSet::new();
        while let Some(k) = todo.pop() {
            if !seen.insert(k.clone()) {
                continue;
            }
            if let Some(a) = self.all.get(&k) {
                todo.extend(a.deps.iter().cloned());
            }
            self.used.insert(k);
        }
    }

    pub fn mark_used(&mut self, names: impl IntoIterator<Item = String>) {
        self.used.extend(names);
    }
}

impl Capture {
    /// The record of the global ARGs (stock `buildMetaArgs`); `describe` gives the doc
    /// comment of an arg at a line, `seq` the definition order.
    pub fn of_meta_args(
        args: &[MetaArg],
        describe: impl Fn(&str, Span) -> String,
        seq: &mut usize,
    ) -> Capture {
        let mut cap = Capture::default();
        for a in args {
            let mut deps = a.matched.clone();
            if deps.remove(&a.key) {
                if let Some(old) = cap.all.get(&a.key) {
                    deps.extend(old.deps.iter().cloned());
                }
            }
            *seq += 1;
            let info = ArgInfo {
                description: describe(&a.key, a.span),
                value: a.value.clone().unwrap_or_default(),
                span: a.span,
                deps,
                seq: *seq,
            };
            cap.all.insert(a.key.clone(), info);
        }
        cap
    }

    /// A stage's `ARG key`: `inherited` when it names a global (or automatic) arg without a
    /// value of its own, which keeps the global definition.
    pub fn record_arg(
        &mut self,
        key: &str,
        value: Option<&str>,
        inherited: bool,
        description: String,
        span: Span,
        seq: usize,
    ) {
        if !inherited {
            let info = ArgInfo {
                description,
                value: value.unwrap_or_default().to_string(),
                span,
                deps: BTreeSet::new(),
                seq,
            };
            self.all.insert(key.to_string(), info);
        }
        self.used.insert(key.to_string());
    }

    /// A `RUN --mount=type=secret` (`ssh` false) or `type=ssh` (`ssh` true): the first use of
    /// an id is the one listed.
    pub fn record_mount(&mut self, ssh: bool, id: &str, required: bool, span: Span, seq: usize) {
        let list = if ssh {
            &mut self.ssh
        } else {
            &mut self.secrets
        };
        list.entry(id.to_string()).or_insert(MountInfo {
            required,
            span,
            seq,
        });
    }
}

/// How stage `i` reaches others: its base stage and the stages it copies or mounts from.
pub struct Links {
    pub base: Option<usize>,
    pub deps: Vec<usize>,
}

/// The args, secrets and ssh mounts the target uses: its own, then its base stage's, then
/// those of the stages it copies or mounts from (first definition wins), sorted by line.
pub fn collect(
    target: usize,
    links: &[Links],
    captures: &mut [Capture],
) -> (Vec<OutlineArg>, Vec<OutlineMount>, Vec<OutlineMount>) {
    let mut order = Vec::new();
    let mut visited = BTreeSet::new();
    // Depth-first, self before base before other dependencies.
    fn walk(links: &[Links], i: usize, visited: &mut BTreeSet<usize>, order: &mut Vec<usize>) {
        if !visited.insert(i) {
            return;
        }
        order.push(i);
        if let Some(base) = links[i].base {
            walk(links, base, visited, order);
        }
        for &d in &links[i].deps {
            walk(links, d, visited, order);
        }
    }
    walk(links, target, &mut visited, &mut order);

    let mut args: Vec<OutlineArg> = Vec::new();
    let mut secrets: Vec<OutlineMount> = Vec::new();
    let mut ssh: Vec<OutlineMount> = Vec::new();
    let mut seen_args = BTreeSet::new();
    let (mut seen_secrets, mut seen_ssh) = (BTreeSet::new(), BTreeSet::new());
    for i in order {
        let cap = &mut captures[i];
        cap.mark_all_used();
        let mut mine: Vec<(&String, &ArgInfo)> = cap
            .used
            .iter()
            .filter_map(|k| cap.all.get_key_value(k))
            .filter(|(k, _)| !seen_args.contains(*k))
            .collect();
        mine.sort_by_key(|(_, a)| a.seq);
        for (name, a) in mine {
            seen_args.insert(name.clone());
            args.push(OutlineArg {
                name: name.clone(),
                description: a.description.clone(),
                value: a.value.clone(),
                span: a.span,
            });
        }
        for (list, seen, src) in [
            (&mut secrets, &mut seen_secrets, &cap.secrets),
            (&mut ssh, &mut seen_ssh, &cap.ssh),
        ] {
            let mut mine: Vec<(&String, &MountInfo)> =
                src.iter().filter(|(k, _)| !seen.contains(*k)).collect();
            mine.sort_by_key(|(_, m)| m.seq);
            for (name, m) in mine {
                seen.insert(name.clone());
                list.push(OutlineMount {
                    name: name.clone(),
                    required: m.required,
                    span: m.span,
                });
            }
        }
    }
    args.sort_by_key(|a| a.span.start);
    secrets.sort_by_key(|m| m.span.start);
    ssh.sort_by_key(|m| m.span.start);
    (args, secrets, ssh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::{
        convert, ConvertOpts, Outcome, Resolved as ResolvedImages, ResolvedImage,
    };
    use crate::error::Result;
    use crate::image::{normalize_reference, Platform};

    /// What the outline depends on: the target, build args and named contexts.
    #[derive(Default)]
    struct OutlineOpts {
        target: Option<String>,
        build_args: BTreeMap<String, String>,
        named_contexts: BTreeSet<String>,
    }

    /// Convert as `--call outline` does (the build platform, no file read) and take the
    /// outline; every image the converter asks for must be in `resolved`.
    fn compute_outline(text: &str, o: &OutlineOpts, resolved: &ResolvedImages) -> Result<Outline> {
        let mut opts = ConvertOpts {
            target: o.target.clone(),
            build_args: o.build_args.clone(),
            build_platform: amd64(),
            no_reads: true,
            ..ConvertOpts::default()
        };
        for n in &o.named_contexts {
            opts.named_contexts
                .values
                .insert(n.clone(), "docker-image://busybox".into());
        }
        match convert(text, &opts, resolved)? {
            Outcome::Done { mut results, .. } => Ok(results.remove(0).outline),
            other => panic!("the converter asked for more: {other:?}"),
        }
    }

    fn amd64() -> Platform {
        Platform::new("linux", "amd64", "")
    }

    fn image(env: &[&str], onbuild: &[&str]) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {"Env": env, "OnBuild": onbuild},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:0000000000000000000000000000000000000000000000000000000000000000"]},
        }))
        .unwrap()
    }

    fn resolved(images: &[(&str, Vec<u8>)]) -> ResolvedImages {
        let mut r = ResolvedImages::default();
        for (name, config) in images {
            let reference = normalize_reference(name).unwrap().full();
            r.images.insert(
                (reference.clone(), amd64().id()),
                ResolvedImage {
                    reference,
                    digest: None,
                    config: config.clone(),
                },
            );
        }
        r
    }

    fn busybox() -> ResolvedImages {
        resolved(&[("busybox", image(&["PATH=/bin:/usr/bin"], &[]))])
    }

    fn opts(target: Option<&str>, args: &[(&str, &str)]) -> OutlineOpts {
        OutlineOpts {
            target: target.map(str::to_string),
            build_args: args
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            named_contexts: BTreeSet::new(),
        }
    }

    /// `NAME=VALUE@LINE "description"` per arg, for compact assertions.
    fn args(o: &Outline) -> Vec<String> {
        o.args
            .iter()
            .map(|a| {
                let mut s = format!("{}={}@{}", a.name, a.value, a.span.start);
                if !a.description.is_empty() {
                    s += &format!(" {:?}", a.description);
                }
                s
            })
            .collect()
    }

    fn mounts(list: &[OutlineMount]) -> Vec<String> {
        list.iter()
            .map(|m| {
                format!(
                    "{}{}@{}",
                    m.name,
                    if m.required { "!" } else { "" },
                    m.span.start
                )
            })
            .collect()
    }

    const MAIN: &str = "\
# GO_VERSION the Go version
ARG GO_VERSION=1.22
ARG UNUSED_GLOBAL=nope
# BASE base image
ARG BASE=busybox

FROM ${BASE} AS deps
# DEP_ARG used by deps
ARG DEP_ARG=dep
RUN --mount=type=secret,id=npmrc,required=true true

FROM busybox AS unused
# UNUSED_ARG never listed
ARG UNUSED_ARG=x
RUN --mount=type=secret,id=never true

# final the image we ship
FROM deps AS final
ARG GO_VERSION
# FINAL_ARG description here
ARG FINAL_ARG=$GO_VERSION-suffix
ARG NODEFAULT
RUN --mount=type=ssh true
RUN --mount=type=secret,id=token true
COPY --from=deps /a /b
";

    #[test]
    fn target_and_the_stages_it_uses() {
        let o = compute_outline(MAIN, &opts(None, &[]), &busybox()).unwrap();
        assert_eq!(o.name, "final");
        assert_eq!(o.description, "the image we ship");
        assert_eq!(
            args(&o),
            [
                "GO_VERSION=1.22@2 \"the Go version\"",
                "BASE=busybox@5 \"base image\"",
                "DEP_ARG=dep@9 \"used by deps\"",
                "FINAL_ARG=1.22-suffix@21 \"description here\"",
                "NODEFAULT=@22",
            ]
        );
        assert_eq!(mounts(&o.secrets), ["npmrc!@10", "token@24"]);
        assert_eq!(mounts(&o.ssh), ["default@23"]);
    }

    #[test]
    fn build_args_override_values() {
        let o = compute_outline(
            MAIN,
            &opts(
                None,
                &[
                    ("GO_VERSION", "1.23"),
                    ("NODEFAULT", "set"),
                    ("DEP_ARG", "cli"),
                ],
            ),
            &busybox(),
        )
        .unwrap();
        // A bare ARG given a value on the command line records its own definition.
        assert_eq!(
            args(&o),
            [
                "BASE=busybox@5 \"base image\"",
                "DEP_ARG=cli@9 \"used by deps\"",
                "GO_VERSION=1.23@19",
                "FINAL_ARG=1.23-suffix@21 \"description here\"",
                "NODEFAULT=set@22",
            ]
        );
    }

    #[test]
    fn another_target() {
        let o = compute_outline(MAIN, &opts(Some("unused"), &[]), &busybox()).unwrap();
        assert_eq!(o.name, "unused");
        assert_eq!(o.description, "");
        assert_eq!(args(&o), ["UNUSED_ARG=x@14 \"never listed\""]);
        assert_eq!(mounts(&o.secrets), ["never@15"]);
        assert!(o.ssh.is_empty());
        let e = compute_outline(MAIN, &opts(Some("nope"), &[]), &busybox()).unwrap_err();
        assert_eq!(e.message, "target stage \"nope\" could not be found");
    }

    #[test]
    fn global_args_used_by_from_pull_in_their_dependencies() {
        let text = "\
# REPO image repo
ARG REPO=docker.io/library
ARG NAME=busy
# IMG the image
ARG IMG=${REPO}/${NAME}box
ARG TAG=latest
ARG LONELY=1
FROM ${IMG}:${TAG} AS base
# X an x
ARG X=1
ARG IMG
ARG TAG=stage
FROM base AS final
ARG Z
";
        let o = compute_outline(text, &opts(None, &[]), &busybox()).unwrap();
        // The child's copy of the global TAG definition wins over the base stage's own ARG.
        assert_eq!(
            args(&o),
            [
                "REPO=docker.io/library@2 \"image repo\"",
                "NAME=busy@3",
                "IMG=docker.io/library/busybox@5 \"the image\"",
                "TAG=latest@6",
                "X=1@10 \"an x\"",
                "Z=@14",
            ]
        );
        let o = compute_outline(text, &opts(Some("base"), &[]), &busybox()).unwrap();
        assert_eq!(
            args(&o),
            [
                "REPO=docker.io/library@2 \"image repo\"",
                "NAME=busy@3",
                "IMG=docker.io/library/busybox@5 \"the image\"",
                "X=1@10 \"an x\"",
                "TAG=stage@12",
            ]
        );
    }

    #[test]
    fn automatic_platform_args() {
        let text = "\
ARG TARGETPLATFORM
ARG V=$TARGETARCH-$BUILDOS-$TARGETSTAGE
FROM --platform=$TARGETPLATFORM busybox${V:+} AS one
ARG TARGETARCH
ARG BUILDPLATFORM=mine
ARG W=$V
";
        let o = compute_outline(text, &opts(None, &[]), &busybox()).unwrap();
        // A global ARG naming an automatic arg is listed (empty); a bare one in a stage is not;
        // global args are not in a stage's environment.
        assert_eq!(
            args(&o),
            [
                "TARGETPLATFORM=@1",
                "V=amd64-linux-one@2",
                "BUILDPLATFORM=mine@5",
                "W=@6"
            ]
        );
    }

    #[test]
    fn values_use_the_stage_environment() {
        let text = "\
ARG C=x D=y
FROM busybox
ARG P=$PATH
ENV E=env
ARG Q=${E}-q
ARG C
ARG SID=mysecret
RUN --mount=type=secret,target=/run/x/foo --mount=type=secret,id=$SID,required \\
    --mount=type=ssh,id=agent,required=true --mount=type=secret,source=srcid true
RUN --mount=type=secret,id=mysecret true
";
        let o = compute_outline(text, &opts(None, &[]), &busybox()).unwrap();
        assert_eq!(o.name, "");
        assert_eq!(
            args(&o),
            ["C=x@1", "P=/bin:/usr/bin@3", "Q=env-q@5", "SID=mysecret@7"]
        );
        assert_eq!(mounts(&o.secrets), ["foo@8", "mysecret!@8", "srcid@8"]);
        assert_eq!(o.secrets[0].span, Span::new(8, 9));
        assert_eq!(mounts(&o.ssh), ["agent!@8"]);
        // Scratch (and an unresolved image) still has the default PATH.
        let o = compute_outline(
            "FROM scratch\nARG P=$PATH\n",
            &opts(None, &[]),
            &ResolvedImages::default(),
        )
        .unwrap();
        assert_eq!(
            args(&o),
            ["P=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin@2"]
        );
    }

    #[test]
    fn onbuild_triggers_of_images_and_stages() {
        let images = resolved(&[
            ("busybox", image(&["PATH=/bin"], &[])),
            (
                "parent",
                image(
                    &["PATH=/bin", "OBENV=img"],
                    &[
                        "ARG OB_ARG=trig-$OBENV",
                        "RUN --mount=type=secret,id=obsecret true",
                    ],
                ),
            ),
        ]);
        let text = "\
FROM parent AS ob
ARG AFTER=$OB_ARG
FROM busybox AS st
ONBUILD ARG FROMSTAGE=1
ONBUILD RUN --mount=type=ssh,id=obssh true
FROM st AS child
COPY --from=ob /a /b
";
        let o = compute_outline(text, &opts(None, &[]), &images).unwrap();
        assert_eq!(
            args(&o),
            ["OB_ARG=trig-img@1", "AFTER=trig-img@2", "FROMSTAGE=1@6"]
        );
        assert_eq!(mounts(&o.secrets), ["obsecret@1"]);
        assert_eq!(mounts(&o.ssh), ["obssh@6"]);
    }

    #[test]
    fn mount_from_and_copy_from_are_dependencies() {
        let text = "\
FROM busybox AS a
ARG A=1
FROM busybox AS b
ARG B=2
FROM busybox AS c
ARG C=3
FROM busybox
RUN --mount=from=a,target=/a --mount=type=cache,target=/c true
COPY --from=1 /x /y
COPY --from=busybox /x /z
";
        let o = compute_outline(text, &opts(None, &[]), &busybox()).unwrap();
        assert_eq!(args(&o), ["A=1@2", "B=2@4"]);
    }

    #[test]
    fn a_named_context_replaces_a_stage() {
        let text = "FROM busybox AS dep\nARG D=1\nFROM busybox\nCOPY --from=dep /a /b\n";
        let mut o = opts(None, &[]);
        o.named_contexts.insert("dep".into());
        assert!(compute_outline(text, &o, &busybox())
            .unwrap()
            .args
            .is_empty());
    }

    #[test]
    fn errors_are_errors() {
        assert!(compute_outline("", &opts(None, &[]), &busybox()).is_err());
        assert!(compute_outline("ARG A\n", &opts(None, &[]), &busybox()).is_err());
        let e = compute_outline(
            "FROM busybox\nRUN --mount=type=ssh,source=x true\n",
            &opts(None, &[]),
            &busybox(),
        )
        .unwrap_err();
        assert_eq!(e.span, Some(Span::line(2)));
        let e = compute_outline(
            "FROM busybox\nARG A=${B:?nope}\n",
            &opts(None, &[]),
            &busybox(),
        )
        .unwrap_err();
        assert_eq!(e.span, Some(Span::line(2)));
    }
}
