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

/// The gateway's options as the converter's [`crate::convert::ConvertOpts`]: the options are
/// parsed once, by [`BuildOpts`], into the types the converter takes; nothing is parsed here.
pub(crate) fn convert_opts(req: &ConvertRequest) -> crate::convert::ConvertOpts {
    let o = &req.opts;
    crate::convert::ConvertOpts {
        filename: o.filename.clone(),
        target: o.target.clone(),
        build_args: o.build_args.clone(),
        labels: o.labels.clone(),
        target_platforms: o.platforms.clone(),
        build_platform: o.default_platform.clone(),
        multi_platform: o.multi_platform,
        no_cache: o.no_cache.clone(),
        image_resolve_mode: o.image_resolve_mode,
        session_id: o.session_for(&o.context_key).to_string(),
        context_key: o.context_key.clone(),
        dockerignore: req.dockerignore.clone(),
        llb_caps: req.llb_caps.clone(),
        extra_hosts: o.add_hosts.clone(),
        hostname: o.hostname.clone(),
        shm_size: o.shm_size,
        force_network: o.force_network_mode,
        all_stages: req.checks && o.target.is_none(),
        no_reads: req.checks,
        named_contexts: crate::convert::NamedContexts {
            values: o.named_contexts.clone(),
            shared_keys: o.shared_keys.clone(),
            session_id: o.session_id.clone(),
            local_sessions: o.local_session_ids.clone(),
            inputs: req.inputs.clone(),
            input_metadata: o.input_metadata.clone(),
        },
        ci: req.ci.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::rounds::{self, Resolver};
    use crate::convert::{FileRequest, ImageRequest, ResolvedImage};
    use crate::error::Error;
    use crate::image::ImageConfig;

    /// Every base image is one layer and an empty config; no file is read.
    struct Empty;

    impl Resolver for Empty {
        type Error = Error;
        async fn images(&mut self, needs: &[ImageRequest]) -> Result<Vec<ResolvedImage>, Error> {
            Ok(needs
                .iter()
                .map(|n| {
                    let mut config = ImageConfig::empty(&n.platform);
                    config.rootfs.diff_ids = vec!["sha256:aa".into()];
                    ResolvedImage {
                        reference: n.reference.clone(),
                        digest: None,
                        config: config.to_json(),
                    }
                })
                .collect())
        }
        async fn files(
            &mut self,
            needs: &[FileRequest],
            _: Vec<crate::llb::Definition>,
        ) -> Result<Vec<Option<Vec<u8>>>, Error> {
            Ok(vec![None; needs.len()])
        }
    }

    /// What the LLB says of each op: (source identifier or exec's last arg, network, resolve
    /// mode attribute, ignore-cache).
    fn ops(opts: &[&str]) -> Vec<(String, i32, Option<String>, bool)> {
        use prost::Message;
        let env: Vec<(String, String)> = opts
            .iter()
            .enumerate()
            .map(|(i, o)| (format!("BUILDKIT_FRONTEND_OPT_{i}"), o.to_string()))
            .collect();
        let req = ConvertRequest {
            opts: BuildOpts::from_env(env).unwrap(),
            ..Default::default()
        };
        let text = "FROM busybox AS build\nRUN a\nFROM busybox\nRUN b\nRUN --network=host c\nCOPY --from=build / /\n";
        let mut done =
            rounds::block_on(rounds::drive(text, &convert_opts(&req), &mut Empty)).unwrap();
        let d = done.results.pop().unwrap().definition.into_pb();
        let mut out = Vec::new();
        for bytes in &d.def {
            let op = pb::Op::decode(bytes.as_slice()).unwrap();
            let ignore = d
                .metadata
                .get(&crate::llb::encode::digest(bytes))
                .is_some_and(|m| m.ignore_cache);
            match op.op {
                Some(pb::op::Op::Source(s)) => out.push((
                    s.identifier,
                    0,
                    s.attrs.get("image.resolvemode").cloned(),
                    ignore,
                )),
                Some(pb::op::Op::Exec(e)) => {
                    let args = e.meta.unwrap().args;
                    out.push((args.last().unwrap().clone(), e.network, None, ignore))
                }
                _ => {}
            }
        }
        out.sort();
        out
    }

    #[test]
    fn build_options_reach_the_llb_typed() {
        let (host, none, unset) = (
            pb::NetMode::Host as i32,
            pb::NetMode::None as i32,
            pb::NetMode::Unset as i32,
        );
        let image = "docker-image://docker.io/library/busybox:latest".to_string();
        // Defaults: nothing forced, no resolve mode attribute, the cache used.
        assert_eq!(
            ops(&[]),
            [
                ("a".into(), unset, None, false),
                ("b".into(), unset, None, false),
                ("c".into(), host, None, false),
                (image.clone(), 0, None, false),
            ]
        );
        // A forced network applies to steps without a --network of their own; the resolve
        // mode reaches the image source (one op for both stages); no-cache=<stage> only that
        // stage's steps.
        assert_eq!(
            ops(&[
                "force-network-mode=none",
                "image-resolve-mode=pull",
                "no-cache=BUILD"
            ]),
            [
                ("a".into(), none, None, true),
                ("b".into(), none, None, false),
                ("c".into(), host, None, false),
                (image.clone(), 0, Some("pull".into()), false),
            ]
        );
        assert_eq!(
            ops(&[
                "force-network-mode=sandbox",
                "image-resolve-mode=local",
                "no-cache="
            ]),
            [
                ("a".into(), unset, None, true),
                ("b".into(), unset, None, true),
                ("c".into(), host, None, true),
                (image, 0, Some("local".into()), false),
            ]
        );
    }

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
