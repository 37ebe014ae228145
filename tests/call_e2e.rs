//! `docker buildx build --call explain` and `--call eject`: hoard's reports answered by the
//! frontend itself, with the real base images and the users the build sees.
//!
//! * `--call explain,format=json` on `testdata/call/user` (a `useradd` user created by a RUN,
//!   which `hoard explain` without a build cannot know) gives that user's uid, gid and home and
//!   the cache mounts owned by it; `--call explain` prints the same as text.
//! * `--call explain,format=json` on `testdata/call/xx`: the apk and cargo steps after
//!   `COPY --from=xx / /` have their caches (the xx image's contents are known).
//! * `--call eject` prints a Dockerfile that the stock frontend builds into the same image as
//!   hoard's build of the original (history lines of RUNs with an `export` prefix aside).
//!
//! Environment as for `tests/e2e.rs`: `HOARD_IMAGE` (default `hoard:dev`), `HOARD_SKIP_E2E=1`.

mod common;

use std::fs;
use std::path::Path;
use std::process::Output;

use common::*;
use serde_json::Value;

fn case_dir() -> std::path::PathBuf {
    root().join("testdata/call/user")
}

/// `docker buildx build --call <what>` through hoard in `dir`.
fn call(dir: &Path, what: &str, flags: &[&str]) -> Output {
    let mut args = vec!["--call".to_string(), what.to_string()];
    args.extend(hoard_frontend());
    args.extend(flags.iter().map(|s| s.to_string()));
    args.push(".".into());
    buildx(dir, &args)
}

/// The line of the Dockerfile's RUN that contains `needle`.
fn line_of(dockerfile: &str, needle: &str) -> u64 {
    let i = dockerfile
        .lines()
        .position(|l| l.starts_with("RUN") && l.contains(needle))
        .expect("step in the Dockerfile");
    i as u64 + 1
}

#[test]
fn explain_json_knows_a_useradd_user() {
    if !e2e_enabled("explain_json_knows_a_useradd_user") {
        return;
    }
    let dir = case_dir();
    let text = fs::read_to_string(dir.join("Dockerfile")).unwrap();
    let o = call(&dir, "explain,format=json", &[]);
    assert!(o.status.success(), "{}", tail(&output_text(&o), 40));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let v: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("no JSON ({e}):\n{stdout}"));
    assert_eq!(v["file"], "Dockerfile");
    let runs = v["runs"].as_array().unwrap();
    let pip = runs
        .iter()
        .find(|r| r["line"] == line_of(&text, "pip install"))
        .unwrap_or_else(|| panic!("no pip step in {v:#}"));
    assert_eq!(
        pip["user"],
        serde_json::json!({"uid": 1234, "gid": 1234, "home": "/home/app"}),
        "{pip:#}"
    );
    let tools: Vec<&str> = pip["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tool"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["pip"], "{pip:#}");
    assert_eq!(pip["tools"][0]["cache"], "hoard", "{pip:#}");
    let caches: Vec<&Value> = pip["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["type"] == "cache")
        .collect();
    assert!(!caches.is_empty(), "{pip:#}");
    for m in &caches {
        assert_eq!(
            (m["uid"].as_u64(), m["gid"].as_u64()),
            (Some(1234), Some(1234)),
            "{m}"
        );
        assert!(m["id"].as_str().unwrap().starts_with("hoard/pip/"), "{m}");
        assert!(m["target"].as_str().unwrap().starts_with('/'), "{m}");
        assert!(m["recipe"].is_string() && m["sharing"].is_string(), "{m}");
    }
    // The apt step as root, with the real base image's environment.
    let apt = runs
        .iter()
        .find(|r| r["line"] == line_of(&text, "apt-get update"))
        .unwrap();
    assert_eq!(apt["user"]["uid"], 0);
    assert!(
        apt["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["tool"] == "apt" && t["cache"] == "hoard"),
        "{apt:#}"
    );

    // The text report says the same.
    let o = call(&dir, "explain", &[]);
    assert!(o.status.success(), "{}", tail(&output_text(&o), 40));
    let txt = String::from_utf8_lossy(&o.stdout);
    let step = format!(
        "Dockerfile:{}: RUN pip install",
        line_of(&text, "pip install")
    );
    let section = txt
        .split(&step)
        .nth(1)
        .unwrap_or_else(|| panic!("{step:?} missing:\n{txt}"));
    assert!(
        section.contains("runs as uid 1234 gid 1234 (home /home/app)"),
        "{txt}"
    );
    assert!(section.contains("detected pip"), "{txt}");
    assert!(
        section.contains("id=hoard/pip/") && section.contains(",uid=1234,gid=1234"),
        "{txt}"
    );
}

/// `COPY --from=xx / /` writes only `/usr/bin` (hoard knows the xx image): the apk and cargo
/// steps after it get their standard cache directories; before, the copy into `/` refused them.
#[test]
fn explain_after_copying_the_xx_image_root() {
    if !e2e_enabled("explain_after_copying_the_xx_image_root") {
        return;
    }
    let dir = root().join("testdata/call/xx");
    let text = fs::read_to_string(dir.join("Dockerfile")).unwrap();
    let o = call(&dir, "explain,format=json", &[]);
    assert!(o.status.success(), "{}", tail(&output_text(&o), 40));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    for (needle, tool, target) in [
        ("apk add", "apk", "/etc/apk/cache"),
        ("cargo build", "cargo", "/root/.cargo/registry/index"),
    ] {
        let run = v["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["line"] == line_of(&text, needle))
            .unwrap_or_else(|| panic!("no {tool} step in {v:#}"));
        assert!(
            run["tools"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["tool"] == tool && t["cache"] == "hoard"),
            "{run:#}"
        );
        assert!(
            run["mounts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["type"] == "cache" && m["target"] == target),
            "{run:#}"
        );
    }
}

#[test]
fn call_eject_builds_the_same_image_with_the_stock_frontend() {
    if !e2e_enabled("call_eject_builds_the_same_image_with_the_stock_frontend") {
        return;
    }
    let dir = case_dir();
    let scratch = Scratch::new("call-eject");
    let o = call(&dir, "eject", &[]);
    assert!(o.status.success(), "{}", tail(&output_text(&o), 40));
    let ejected = String::from_utf8(o.stdout).unwrap();
    assert!(
        ejected.contains(",uid=1234,gid=1234"),
        "the user's caches are not in the ejected file:\n{ejected}"
    );
    assert!(
        ejected.contains("--mount=type=cache,id=hoard/apt/"),
        "{ejected}"
    );
    assert!(!ejected.contains("syntax="), "{ejected}");
    let ejected_path = scratch.path.join("Dockerfile.ejected");
    fs::write(&ejected_path, &ejected).unwrap();

    let oci = |dockerfile: &Path, dest: &Path, hoard: bool| {
        let args = oci_build_args(&dockerfile.display().to_string(), dest, hoard);
        let o = buildx(&dir, &args);
        assert!(
            o.status.success(),
            "build of {} failed:\n{}\n{ejected}",
            dockerfile.display(),
            tail(&output_text(&o), 40)
        );
    };
    let (stock_tar, hoard_tar) = (
        scratch.path.join("ejected-stock.tar"),
        scratch.path.join("hoard.tar"),
    );
    oci(&ejected_path, &stock_tar, false);
    oci(&dir.join("Dockerfile"), &hoard_tar, true);
    let diffs: Vec<String> = compare_images(
        &load_oci(&stock_tar).unwrap(),
        &load_oci(&hoard_tar).unwrap(),
    )
    .into_iter()
    .filter(|d| !(d.starts_with("config.history[") && d.contains("].created_by:")))
    .collect();
    assert!(
        diffs.is_empty(),
        "{}",
        report("call-eject", "ejected+stock", "hoard", &diffs)
    );
}

#[test]
fn describe_lists_lint_explain_and_eject() {
    if !e2e_enabled("describe_lists_lint_explain_and_eject") {
        return;
    }
    let o = call(&case_dir(), "subrequests.describe,format=json", &[]);
    assert!(o.status.success(), "{}", tail(&output_text(&o), 40));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    for want in ["frontend.lint", "frontend.explain", "frontend.eject"] {
        assert!(names.contains(&want), "{want} not in {names:?}");
    }
    let o = call(&case_dir(), "subrequests.describe", &[]);
    let txt = String::from_utf8_lossy(&o.stdout);
    for want in ["\nlint ", "\nexplain ", "\neject "] {
        assert!(txt.contains(want), "{want:?} not in:\n{txt}");
    }
}

/// `COPY . .` into `/` hides no cache the context does not fill: cargo's registry is cached
/// while the context has no `root/.cargo`; once it has, that part is left alone and explain
/// names the context's path; `.dockerignore` brings it back. The real build with the cache
/// gives the stock frontend's image.
#[test]
fn context_copy_blocks_only_what_the_context_holds() {
    if !e2e_enabled("context_copy_blocks_only_what_the_context_holds") {
        return;
    }
    const INDEX: &str = "/root/.cargo/registry/index";
    let scratch = Scratch::new("call-context-copy");
    let dir = scratch.path.join("ctx");
    fs::create_dir_all(&dir).unwrap();
    let dockerfile = "FROM hoard-test/debian:bookworm\nWORKDIR /\nCOPY . .\nRUN if command -v cargo >/dev/null; then cargo build --release; fi; ls /Cargo.toml\n";
    fs::write(dir.join("Dockerfile"), dockerfile).unwrap();
    fs::write(dir.join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
    let cargo_step = |dir: &Path| -> (Vec<String>, String) {
        let o = call(dir, "explain,format=json", &[]);
        assert!(o.status.success(), "{}", tail(&output_text(&o), 40));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let run = v["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["line"] == 4)
            .unwrap()
            .clone();
        assert!(
            run["tools"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["tool"] == "cargo"),
            "{run:#}"
        );
        let targets = run["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["target"].as_str().unwrap().to_string())
            .collect();
        let notes = run["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        (targets, notes)
    };

    let (targets, notes) = cargo_step(&dir);
    assert!(targets.iter().any(|t| t == INDEX), "{targets:?}\n{notes}");
    assert!(!notes.contains("hoard does not hide"), "{notes}");

    fs::create_dir_all(dir.join("root/.cargo/registry/index")).unwrap();
    fs::write(dir.join("root/.cargo/registry/index/vendored"), "x").unwrap();
    let (targets, notes) = cargo_step(&dir);
    assert!(!targets.iter().any(|t| t == INDEX), "{targets:?}");
    assert!(
        targets.iter().any(|t| t == "/root/.cargo/git/db"),
        "only what the context holds is left alone: {targets:?}"
    );
    assert!(
        notes.contains(
            "`COPY . .` (line 3) copies root/.cargo/registry/index from the build context"
        ),
        "{notes}"
    );

    fs::write(dir.join(".dockerignore"), "root\n").unwrap();
    let (targets, notes) = cargo_step(&dir);
    assert!(targets.iter().any(|t| t == INDEX), "{targets:?}\n{notes}");
    fs::remove_file(dir.join(".dockerignore")).unwrap();
    fs::remove_dir_all(dir.join("root")).unwrap();

    // The build itself (which asks the same question) gives the stock image.
    let mut tars = Vec::new();
    for hoard in [false, true] {
        let dest = scratch.path.join(format!("{hoard}.tar"));
        let mut args = Vec::new();
        if hoard {
            args.extend(hoard_frontend());
        }
        args.extend([
            "--output".into(),
            format!(
                "type=oci,dest={},compression=uncompressed,force-compression=true",
                dest.display()
            ),
            ".".into(),
        ]);
        let o = buildx(&dir, &args);
        assert!(o.status.success(), "{}", tail(&output_text(&o), 40));
        if hoard {
            assert!(
                output_text(&o).contains("hoard: look for root/.cargo/"),
                "the build did not ask the context:\n{}",
                tail(&output_text(&o), 60)
            );
        }
        tars.push(load_oci(&dest).unwrap());
    }
    let diffs = compare_images(&tars[0], &tars[1]);
    assert!(
        diffs.is_empty(),
        "{}",
        report("context-copy", "stock", "hoard", &diffs)
    );
}
