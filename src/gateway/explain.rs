//! `--call explain` and `--call eject`: `hoard explain` / `hoard eject` answered by the frontend
//! itself, for anyone who can run the build (no toolchain, no checkout, no guessing).
//!
//! buildx passes `--call <name>` as the `requestid` opt `frontend.<name>` and prints the
//! result's `result.txt`, or its `result.json` with `,format=json` (the format never reaches the
//! frontend, so both are returned). The plans come from the build's own conversion: the same
//! options, `.dockerignore` and base images, and users resolved from the `/etc/passwd` of the
//! states the build would read ([`Files::ReadOnly`]: those states are built, and so cached for
//! the build that follows, but no other stage is). The output is the command-line tools' text
//! and JSON ([`crate::tools::explain`], [`crate::tools::eject`]).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::convert::rounds;
use crate::convert::PlatformResult;
use crate::error::Error;
use crate::proto::moby::buildkit::v1::frontend as gw;
use crate::tools::offline::Offline;
use crate::tools::{eject, explain};

use super::client::Gateway;
use super::convert_api::{convert_opts, ConvertRequest};
use super::errors::GatewayError;
use super::resolver::{Files, GatewayResolver};
use super::result::metadata_result;

pub const REQUEST_EXPLAIN: &str = "frontend.explain";
pub const REQUEST_EJECT: &str = "frontend.eject";

pub const EXPLAIN_DESCRIPTION: &str =
    "Show the caches hoard adds to each RUN, and why a tool gets none";
pub const EJECT_DESCRIPTION: &str =
    "Print the Dockerfile with hoard's cache mounts written out, for the stock frontend";

const VERSION: &str = "1.0.0";

/// Which report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Explain,
    Eject,
}

impl Kind {
    pub fn from_request(requestid: Option<&str>) -> Option<Kind> {
        match requestid? {
            REQUEST_EXPLAIN => Some(Kind::Explain),
            REQUEST_EJECT => Some(Kind::Eject),
            _ => None,
        }
    }
}

/// Convert as the build would and answer `kind`.
pub async fn request(
    gw: &Gateway,
    text: &str,
    req: &ConvertRequest,
    kind: Kind,
) -> Result<gw::Result, GatewayError> {
    let mut resolver = GatewayResolver::new(gw, &req.opts, Files::ReadOnly);
    let done = rounds::drive(text, &convert_opts(req), &mut resolver).await?;
    let reports = reports(done.results);
    let file = &req.opts.filename;
    match kind {
        Kind::Explain => Ok(explain_result(file, text, &reports)),
        Kind::Eject => eject_result(text, &reports).map_err(GatewayError::Frontend),
    }
}

/// One report per platform, as the command-line tools take them.
pub fn reports(results: Vec<PlatformResult>) -> Vec<Offline> {
    results
        .into_iter()
        .map(|r| Offline {
            platform: r.platform,
            plans: r.plans,
            assumptions: Vec::new(),
            exact: true,
        })
        .collect()
}

/// `hoard explain`'s JSON for one platform; for several, the first platform's report with every
/// platform's report under `platforms` (the fields CI tools read stay where they are).
pub fn explain_json(file: &str, reports: &[Offline]) -> Value {
    let mut v = match reports.first() {
        Some(first) => explain::to_json(file, first),
        None => serde_json::json!({"file": file, "runs": []}),
    };
    if reports.len() > 1 {
        v["platforms"] = Value::Array(reports.iter().map(|r| explain::to_json(file, r)).collect());
    }
    v
}

/// `hoard explain`'s text; for several platforms, one section per platform.
pub fn explain_text(file: &str, text: &str, reports: &[Offline]) -> String {
    match reports {
        [one] => explain::to_text(file, text, one),
        _ => reports
            .iter()
            .map(|r| {
                format!(
                    "platform {}:\n{}",
                    r.platform.id(),
                    explain::to_text(file, text, r)
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

pub fn explain_result(file: &str, text: &str, reports: &[Offline]) -> gw::Result {
    let json = serde_json::to_vec_pretty(&explain_json(file, reports)).expect("json");
    metadata_result(BTreeMap::from([
        ("result.json".to_string(), json),
        (
            "result.txt".to_string(),
            explain_text(file, text, reports).into_bytes(),
        ),
        ("version".to_string(), VERSION.as_bytes().to_vec()),
    ]))
}

/// The ejected Dockerfile: one file for every platform, so the platforms' plans must eject
/// alike (cache ids that follow the target platform do not).
pub fn eject_text(text: &str, reports: &[Offline]) -> Result<String, Error> {
    let mut out: Option<(String, String)> = None;
    for r in reports {
        let e = eject::eject(text, r)?;
        match &out {
            None => out = Some((r.platform.id(), e)),
            Some((first, f)) if *f != e => {
                return Err(Error::new(format!(
                    "cannot eject for several platforms: the cache mounts differ between {first} and {} \
                     (some cache ids follow the target platform); eject one platform at a time with --platform",
                    r.platform.id()
                )))
            }
            Some(_) => {}
        }
    }
    out.map(|(_, e)| e)
        .ok_or_else(|| Error::new("internal error: the converter produced no result"))
}

pub fn eject_result(text: &str, reports: &[Offline]) -> Result<gw::Result, Error> {
    let dockerfile = eject_text(text, reports)?;
    let json =
        serde_json::to_vec_pretty(&serde_json::json!({ "dockerfile": dockerfile })).expect("json");
    Ok(metadata_result(BTreeMap::from([
        ("result.json".to_string(), json),
        ("result.txt".to_string(), dockerfile.into_bytes()),
        ("version".to_string(), VERSION.as_bytes().to_vec()),
    ])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::{ConvertOpts, FileRequest, ImageRequest, ResolvedImage};
    use crate::image::{ImageConfig, Platform};

    /// Every base image an empty image; `/etc/passwd` as given, every other file missing.
    struct Fixed(Option<&'static str>);

    impl rounds::Resolver for Fixed {
        type Error = Error;

        async fn images(&mut self, needs: &[ImageRequest]) -> Result<Vec<ResolvedImage>, Error> {
            Ok(needs
                .iter()
                .map(|n| ResolvedImage {
                    reference: n.reference.clone(),
                    digest: None,
                    config: ImageConfig::empty(&n.platform).to_json(),
                })
                .collect())
        }

        async fn files(
            &mut self,
            needs: &[FileRequest],
            _ready: Vec<crate::llb::Definition>,
        ) -> Result<Vec<Option<Vec<u8>>>, Error> {
            Ok(needs
                .iter()
                .map(|n| {
                    (n.path == "/etc/passwd")
                        .then(|| self.0.map(|p| p.as_bytes().to_vec()))
                        .flatten()
                })
                .collect())
        }
    }

    fn converted(
        text: &str,
        platforms: &[&str],
        passwd: Option<&'static str>,
    ) -> Vec<PlatformResult> {
        let opts = ConvertOpts {
            target_platforms: platforms
                .iter()
                .map(|p| Platform::parse(p).unwrap())
                .collect(),
            multi_platform: platforms.len() > 1,
            ..ConvertOpts::default()
        };
        rounds::block_on(rounds::drive(text, &opts, &mut Fixed(passwd)))
            .unwrap()
            .results
    }

    const USERADD: &str = "FROM debian\nRUN useradd -m app\nUSER app\nRUN pip install flask\n";
    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\napp:x:1000:1000::/home/app:/bin/sh\n";

    #[test]
    fn explain_reports_the_resolved_user() {
        let reports = reports(converted(USERADD, &[], Some(PASSWD)));
        let v = explain_json("Dockerfile", &reports);
        let run = v["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["line"] == 4)
            .unwrap();
        assert_eq!(
            run["user"],
            serde_json::json!({"uid": 1000, "gid": 1000, "home": "/home/app"})
        );
        assert_eq!(run["tools"][0]["tool"], "pip");
        let m = run["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["type"] == "cache")
            .unwrap();
        assert_eq!(
            (m["uid"].as_u64(), m["gid"].as_u64()),
            (Some(1000), Some(1000))
        );
        assert!(m["id"].as_str().unwrap().starts_with("hoard/pip"), "{m}");
        assert!(v.get("platforms").is_none());
        let r = explain_result("Dockerfile", USERADD, &reports);
        let txt = String::from_utf8(r.metadata["result.txt"].clone()).unwrap();
        assert_eq!(txt, explain::to_text("Dockerfile", USERADD, &reports[0]));
        assert!(
            txt.contains("runs as uid 1000 gid 1000 (home /home/app)"),
            "{txt}"
        );
        let j: Value = serde_json::from_slice(&r.metadata["result.json"]).unwrap();
        assert_eq!(j, v);
    }

    #[test]
    fn explain_for_several_platforms() {
        let reports = reports(converted(
            USERADD,
            &["linux/amd64", "linux/arm64"],
            Some(PASSWD),
        ));
        let v = explain_json("Dockerfile", &reports);
        assert_eq!(v["platform"], "linux/amd64");
        assert_eq!(v["platforms"][1]["platform"], "linux/arm64");
        assert_eq!(v["runs"], v["platforms"][0]["runs"]);
        let txt = explain_text("Dockerfile", USERADD, &reports);
        assert!(
            txt.starts_with("platform linux/amd64:\n") && txt.contains("\nplatform linux/arm64:\n"),
            "{txt}"
        );
    }

    #[test]
    fn eject_is_the_command_line_eject() {
        let reports = reports(converted(USERADD, &[], Some(PASSWD)));
        let r = eject_result(USERADD, &reports).unwrap();
        let txt = String::from_utf8(r.metadata["result.txt"].clone()).unwrap();
        assert_eq!(txt, eject::eject(USERADD, &reports[0]).unwrap());
        assert!(txt.contains(",uid=1000,gid=1000"), "{txt}");
        let j: Value = serde_json::from_slice(&r.metadata["result.json"]).unwrap();
        assert_eq!(j["dockerfile"], txt);
    }

    /// Plans that are the same for every platform (a stage on the build platform) eject to one
    /// file; plans whose cache ids follow the target platform are refused, naming both.
    #[test]
    fn eject_several_platforms_only_when_alike() {
        let two = ["linux/amd64", "linux/arm64"];
        let build = "FROM --platform=$BUILDPLATFORM debian\nRUN apt-get update && apt-get install -y curl\n";
        let reports = reports(converted(build, &two, None));
        let all = eject_text(build, &reports).unwrap();
        assert_eq!(all, eject_text(build, &reports[..1]).unwrap());
        assert!(all.contains("--mount=type=cache,id=hoard/apt/"), "{all}");
        let target = "FROM debian\nRUN apt-get update && apt-get install -y curl\n";
        let e = eject_text(target, &super::reports(converted(target, &two, None))).unwrap_err();
        assert!(
            e.message
                .contains("differ between linux/amd64 and linux/arm64"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("one platform at a time with --platform"),
            "{}",
            e.message
        );
    }

    #[test]
    fn requests() {
        assert_eq!(
            Kind::from_request(Some("frontend.explain")),
            Some(Kind::Explain)
        );
        assert_eq!(
            Kind::from_request(Some("frontend.eject")),
            Some(Kind::Eject)
        );
        assert_eq!(Kind::from_request(Some("frontend.outline")), None);
        assert_eq!(Kind::from_request(None), None);
    }
}
