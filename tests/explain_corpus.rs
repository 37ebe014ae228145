//! `hoard explain` over the 65 real-world Dockerfiles in `../shared/corpus/real-world/`
//! (501 RUNs): every one is explained without error, every RUN appears, and the tools a reader
//! finds in them are detected. The corpus is reference data read at test time, never copied.

#[path = "common/corpus.rs"]
mod corpus;

use std::collections::{BTreeMap, BTreeSet};

use hoard::tools::{explain, offline};

#[test]
fn every_real_world_run_is_explained() {
    let files = corpus::real_world();
    assert_eq!(files.len(), 65, "expected the 65 real-world Dockerfiles");
    let opts = offline::OfflineOpts {
        no_docker: true,
        ..Default::default()
    };
    let mut runs = 0;
    let mut tools: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, text) in &files {
        let off = offline::plans(text, "Dockerfile", &opts)
            .unwrap_or_else(|e| panic!("{name}: {}", e.render("Dockerfile")));
        let json = explain::to_json("Dockerfile", &off);
        let list = json["runs"].as_array().unwrap();
        runs += list.len();
        for r in list {
            assert!(r["line"].as_u64().unwrap() >= 1, "{name}: {r}");
            for m in r["mounts"].as_array().unwrap() {
                assert!(
                    m["target"].as_str().unwrap().starts_with('/'),
                    "{name}: {m}"
                );
                if m["type"] == "cache" {
                    assert!(
                        m["id"].as_str().unwrap().starts_with("hoard/"),
                        "{name}: {m}"
                    );
                    assert!(
                        ["shared", "private", "locked"].contains(&m["sharing"].as_str().unwrap()),
                        "{name}: {m}"
                    );
                    assert!(m["uid"].is_u64() && m["gid"].is_u64(), "{name}: {m}");
                }
            }
            for t in r["tools"].as_array().unwrap() {
                tools
                    .entry(name.clone())
                    .or_default()
                    .insert(t["tool"].as_str().unwrap().to_string());
            }
        }
        // The text form renders too.
        assert!(!explain::to_text("Dockerfile", text, &off).is_empty());
    }
    assert_eq!(runs, 501, "every RUN of every stage is explained");

    let expect: &[(&str, &[&str])] = &[
        (
            "02-astral-sh__ruff",
            &["apt", "cargo", "cargo-zigbuild", "pip", "zig"],
        ),
        (
            "04-huggingface__text-generation-inference__Dockerfile_trtllm",
            &["apt", "cargo", "pip", "sccache"],
        ),
        ("05-fastapi", &["bun", "uv"]),
        ("08-paperless", &["apt", "pnpm", "uv"]),
        ("10-postmanlabs", &["apt", "pip", "pipenv"]),
        ("11-nicolargo", &["apk"]),
        ("12-docker-library__python", &["apt"]),
        ("16-ContinuumIO", &["dnf"]),
        ("19-jupyter", &["apt", "conda"]),
        ("22-LukeMathWalker__cargo-chef", &["cargo"]),
        ("26-excalidraw", &["yarn"]),
        ("28-hoppscotch", &["apk", "go", "npm", "pnpm"]),
        ("40-hapifhir", &["maven"]),
        ("41-conductor-oss", &["gradle"]),
        ("42-maybe-finance", &["bundler"]),
        ("46-pixelfed", &["composer"]),
        ("49-dotnet", &["dotnet"]),
        ("52-longhorn", &["zypper"]),
        // `ccache --set-config=...` alone configures ccache: no use of its cache (issue 11).
        ("56-pytorch", &["apt", "conda", "pip"]),
        // Through tonistiigi/xx wrappers (`xx-apk add`, `xx-go build`), issue 11.
        ("35-gohugoio", &["apk", "go"]),
        // `golangci-lint run` after `xx-go --wrap`; ccache in the author's own mount at
        // `/root/.ccache` in cmake-only steps (issue 11).
        ("34-docker__buildx", &["apk", "go", "golangci-lint"]),
        ("37-ollama", &["ccache", "dnf"]),
        ("64-OWASP", &["apt", "pip", "poetry"]),
    ];
    for (prefix, want) in expect {
        let (name, found) = tools
            .iter()
            .find(|(n, _)| n.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix}: no file or no tool detected"));
        for w in *want {
            assert!(found.contains(*w), "{name}: expected {w} among {found:?}");
        }
    }
}
