//! Shaping the final `Result` for `Return` (BuildKit `dockerui.BuildResult` /
//! `exptypes` conventions). Pure functions, so the metadata keys are unit-tested.
//!
//! * Single platform: `ref` + `containerimage.config` (+ `containerimage.base.config`).
//! * Multi-platform: `refs{<platformID>}` + `containerimage.config/<platformID>` (+ base).
//! * Both: `refs.platforms` = `{"Platforms":[{"ID":"linux/amd64","Platform":{…}}]}`.
//! * Without cap `proto.refarray`, the deprecated string forms are used.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::proto::moby::buildkit::v1::frontend as gw;

use super::opts::Platform;

pub const KEY_IMAGE_CONFIG: &str = "containerimage.config";
pub const KEY_BASE_IMAGE_CONFIG: &str = "containerimage.base.config";
pub const KEY_PLATFORMS: &str = "refs.platforms";

/// One built platform, solved to a ref.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlatformOutput {
    pub platform: Platform,
    pub ref_id: String,
    /// The image config JSON (`containerimage.config`).
    pub config: Vec<u8>,
    /// The base image's config JSON, when known.
    pub base_config: Option<Vec<u8>>,
}

/// `refs.platforms` JSON.
pub fn platforms_json(platforms: &[&Platform]) -> Vec<u8> {
    let list: Vec<Value> = platforms
        .iter()
        .map(|p| json!({ "ID": p.id(), "Platform": serde_json::to_value(p).expect("platform json") }))
        .collect();
    serde_json::to_vec(&json!({ "Platforms": list })).expect("json")
}

/// The `Result` for a finished build. `multi_platform` follows the `multi-platform` opt (more
/// than one output implies it). `ref_array` = daemon cap `proto.refarray`.
pub fn build_result(
    outputs: &[PlatformOutput],
    multi_platform: bool,
    ref_array: bool,
) -> gw::Result {
    use gw::result::Result as R;
    let multi = multi_platform || outputs.len() != 1;
    let mut metadata: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let result = if multi {
        for o in outputs {
            let id = o.platform.id();
            metadata.insert(format!("{KEY_IMAGE_CONFIG}/{id}"), o.config.clone());
            if let Some(b) = &o.base_config {
                metadata.insert(format!("{KEY_BASE_IMAGE_CONFIG}/{id}"), b.clone());
            }
        }
        if ref_array {
            R::Refs(gw::RefMap {
                refs: outputs
                    .iter()
                    .map(|o| {
                        (
                            o.platform.id(),
                            gw::Ref {
                                id: o.ref_id.clone(),
                                def: None,
                            },
                        )
                    })
                    .collect(),
            })
        } else {
            R::RefsDeprecated(gw::RefMapDeprecated {
                refs: outputs
                    .iter()
                    .map(|o| (o.platform.id(), o.ref_id.clone()))
                    .collect(),
            })
        }
    } else {
        let o = &outputs[0];
        metadata.insert(KEY_IMAGE_CONFIG.into(), o.config.clone());
        if let Some(b) = &o.base_config {
            metadata.insert(KEY_BASE_IMAGE_CONFIG.into(), b.clone());
        }
        if ref_array {
            R::Ref(gw::Ref {
                id: o.ref_id.clone(),
                def: None,
            })
        } else {
            R::RefDeprecated(o.ref_id.clone())
        }
    };
    let plats: Vec<&Platform> = outputs.iter().map(|o| &o.platform).collect();
    metadata.insert(KEY_PLATFORMS.into(), platforms_json(&plats));
    gw::Result {
        result: Some(result),
        metadata,
        attestations: BTreeMap::new(),
    }
}

/// A metadata-only result (subrequests carry no refs).
pub fn metadata_result(metadata: BTreeMap<String, Vec<u8>>) -> gw::Result {
    gw::Result {
        result: None,
        metadata,
        attestations: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gw::result::Result as R;

    fn out(p: &str, id: &str, base: bool) -> PlatformOutput {
        PlatformOutput {
            platform: Platform::parse(p).unwrap(),
            ref_id: id.into(),
            config: format!("cfg-{id}").into_bytes(),
            base_config: base.then(|| format!("base-{id}").into_bytes()),
        }
    }

    fn keys(r: &gw::Result) -> Vec<&str> {
        r.metadata.keys().map(String::as_str).collect()
    }

    #[test]
    fn platforms_json_shape() {
        let a = Platform::parse("linux/amd64").unwrap();
        let b = Platform::parse("linux/arm/v7").unwrap();
        assert_eq!(
            String::from_utf8(platforms_json(&[&a, &b])).unwrap(),
            r#"{"Platforms":[{"ID":"linux/amd64","Platform":{"architecture":"amd64","os":"linux"}},{"ID":"linux/arm/v7","Platform":{"architecture":"arm","os":"linux","variant":"v7"}}]}"#
        );
    }

    #[test]
    fn single_platform() {
        let r = build_result(&[out("linux/amd64", "r1", true)], false, true);
        assert_eq!(
            r.result,
            Some(R::Ref(gw::Ref {
                id: "r1".into(),
                def: None
            }))
        );
        assert_eq!(
            keys(&r),
            [
                "containerimage.base.config",
                "containerimage.config",
                "refs.platforms"
            ]
        );
        assert_eq!(r.metadata["containerimage.config"], b"cfg-r1");
        assert_eq!(r.metadata["containerimage.base.config"], b"base-r1");

        let r = build_result(&[out("linux/amd64", "r1", false)], false, false);
        assert_eq!(r.result, Some(R::RefDeprecated("r1".into())));
        assert_eq!(keys(&r), ["containerimage.config", "refs.platforms"]);
    }

    #[test]
    fn multi_platform() {
        let r = build_result(
            &[
                out("linux/amd64", "r1", true),
                out("linux/arm64", "r2", false),
            ],
            true,
            true,
        );
        match &r.result {
            Some(R::Refs(m)) => {
                assert_eq!(m.refs["linux/amd64"].id, "r1");
                assert_eq!(m.refs["linux/arm64"].id, "r2");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            keys(&r),
            [
                "containerimage.base.config/linux/amd64",
                "containerimage.config/linux/amd64",
                "containerimage.config/linux/arm64",
                "refs.platforms"
            ]
        );
        let pj: Value = serde_json::from_slice(&r.metadata["refs.platforms"]).unwrap();
        assert_eq!(pj["Platforms"][1]["ID"], "linux/arm64");

        // multi-platform requested with one platform still uses the map form.
        let r = build_result(&[out("linux/arm64", "r2", false)], true, false);
        match &r.result {
            Some(R::RefsDeprecated(m)) => assert_eq!(m.refs["linux/arm64"], "r2"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            keys(&r),
            ["containerimage.config/linux/arm64", "refs.platforms"]
        );
    }
}
