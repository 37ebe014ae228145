//! What the converter gets from the gateway: the build options turned into
//! [`crate::convert::ConvertOpts`] once, with what the flow fetched (caps, `.dockerignore`,
//! frontend inputs). The rounds themselves are driven by [`crate::convert::rounds`].

use std::collections::BTreeSet;

use crate::proto::pb;

use super::opts::BuildOpts;

/// Everything the converter gets from the gateway.
#[derive(Clone, Debug, Default)]
pub struct ConvertRequest {
    pub opts: BuildOpts,
    /// Enabled LLB caps from Ping (MergeOp, tmpfs size, ... are gated on them).
    pub llb_caps: BTreeSet<String>,
    /// Patterns from `.dockerignore` (or `<Dockerfile>.dockerignore`), already parsed.
    pub dockerignore: Vec<String>,
    /// Frontend inputs, fetched when a named context is `input:<name>`.
    pub inputs: std::collections::BTreeMap<String, pb::Definition>,
    /// CI cache seeding/export, resolved by `gateway::ci`.
    pub ci: crate::convert::ci::CiInputs,
    /// A `--call check` request: every stage is checked when no target is given (as the stock
    /// frontend does), and nothing is built to answer it (no file is read from a state).
    pub checks: bool,
}

/// The gateway's options as the converter's [`crate::convert::ConvertOpts`].
pub(crate) fn convert_opts(req: &ConvertRequest) -> crate::convert::ConvertOpts {
    use super::opts::{NetworkMode, NoCache};
    let o = &req.opts;
    let mut build_args = o.build_args.clone();
    if let Some(ns) = &o.cache_mount_ns {
        build_args
            .entry("BUILDKIT_CACHE_MOUNT_NS".into())
            .or_insert_with(|| ns.clone());
    }
    crate::convert::ConvertOpts {
        filename: o.filename.clone(),
        target: o.target.clone().filter(|t| !t.is_empty()),
        build_args,
        labels: o.labels.clone(),
        target_platforms: o.platforms.clone(),
        build_platform: o.default_platform.clone(),
        multi_platform: o.multi_platform,
        no_cache: match &o.no_cache {
            NoCache::Off => crate::convert::NoCache::None,
            NoCache::All => crate::convert::NoCache::All,
            NoCache::Stages(s) => crate::convert::NoCache::Stages(s.clone()),
        },
        image_resolve_mode: Some(o.image_resolve_mode.as_str().to_string()),
        session_id: o.session_for(&o.context_key).to_string(),
        context_key: o.context_key.clone(),
        dockerignore: req.dockerignore.clone(),
        llb_caps: req.llb_caps.clone(),
        extra_hosts: o
            .add_hosts
            .iter()
            .map(|h| (h.host.clone(), h.ip.clone()))
            .collect(),
        hostname: o.hostname.clone().filter(|h| !h.is_empty()),
        shm_size: (o.shm_size > 0).then_some(o.shm_size),
        force_network: match o.force_network_mode {
            NetworkMode::Sandbox => None,
            NetworkMode::Host => Some("host".into()),
            NetworkMode::None => Some("none".into()),
        },
        all_stages: req.checks && o.target.as_deref().is_none_or(str::is_empty),
        no_reads: req.checks,
        named_contexts: crate::convert::NamedContexts {
            values: o.named_contexts.clone(),
            shared_keys: o
                .raw
                .iter()
                .filter_map(|(k, v)| {
                    Some((
                        k.strip_prefix("sharedkey:localdir:")?.to_string(),
                        v.clone(),
                    ))
                })
                .collect(),
            session_id: o.session_id.clone(),
            local_sessions: o.local_session_ids.clone(),
            inputs: req.inputs.clone(),
            input_metadata: o
                .raw
                .iter()
                .filter_map(|(k, v)| {
                    Some((k.strip_prefix("input-metadata:")?.to_string(), v.clone()))
                })
                .collect(),
        },
        ci: req.ci.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_contexts_reach_the_converter() {
        let env = [
            ("BUILDKIT_FRONTEND_OPT_0", "context:src=local:src"),
            (
                "BUILDKIT_FRONTEND_OPT_1",
                "sharedkey:localdir:src=dir:node1",
            ),
            ("BUILDKIT_FRONTEND_OPT_2", "local-sessionid:src=other"),
            ("BUILDKIT_FRONTEND_OPT_3", "context:dep=input:k1"),
            (
                "BUILDKIT_FRONTEND_OPT_4",
                r#"input-metadata:k1={"containerimage.config":"e30="}"#,
            ),
            ("BUILDKIT_SESSION_ID", "sess"),
        ];
        let opts = BuildOpts::from_env(env).unwrap();
        let mut req = ConvertRequest {
            opts,
            ..Default::default()
        };
        req.inputs.insert("k1".into(), pb::Definition::default());
        let named = convert_opts(&req).named_contexts;
        assert_eq!(named.values["src"], "local:src");
        assert_eq!(named.values["dep"], "input:k1");
        assert_eq!(named.shared_keys["src"], "dir:node1");
        assert_eq!(named.local_sessions["src"], "other");
        assert_eq!(named.session_id, "sess");
        assert_eq!(
            named.input_metadata["k1"],
            r#"{"containerimage.config":"e30="}"#
        );
        assert!(named.inputs.contains_key("k1"));
    }
}
