//! `hoard eject` keeps its promise: the Dockerfile it prints, built by the stock frontend, gives
//! the same image as the original built by hoard: same filesystem, same config; only the
//! history lines of RUNs whose command gained an `export ... &&` prefix read differently.

mod common;

use std::fs;
use std::process::Command;

use common::*;

fn check(case: &str) {
    if !e2e_enabled(case) {
        return;
    }
    let dir = root().join("testdata/cases").join(case);
    let scratch = Scratch::new(&format!("eject-{case}"));
    let out = Command::new(env!("CARGO_BIN_EXE_hoard"))
        .args(["eject", dir.join("Dockerfile").to_str().unwrap()])
        .output()
        .expect("run hoard eject");
    assert!(
        out.status.success(),
        "hoard eject failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ejected = String::from_utf8(out.stdout).unwrap();
    assert!(
        ejected.contains("--mount=type=cache,id=hoard/"),
        "eject wrote no cache mount:\n{ejected}"
    );
    let ejected_path = scratch.path.join("Dockerfile.ejected");
    fs::write(&ejected_path, &ejected).unwrap();

    let stock_tar = scratch.path.join("ejected-stock.tar");
    let o = buildx(
        &dir,
        &oci_build_args(ejected_path.to_str().unwrap(), &stock_tar, false),
    );
    assert!(
        o.status.success(),
        "stock build of the ejected Dockerfile failed:\n{}\n{ejected}",
        tail(&output_text(&o), 40)
    );
    let hoard_tar = scratch.path.join("hoard.tar");
    let o = buildx(
        &dir,
        &oci_build_args(dir.join("Dockerfile").to_str().unwrap(), &hoard_tar, true),
    );
    assert!(
        o.status.success(),
        "hoard build failed:\n{}",
        tail(&output_text(&o), 40)
    );

    let a = load_oci(&stock_tar).unwrap();
    let b = load_oci(&hoard_tar).unwrap();
    let diffs: Vec<String> = compare_images(&a, &b)
        .into_iter()
        .filter(|d| !(d.starts_with("config.history[") && d.contains("].created_by:")))
        .collect();
    assert!(
        diffs.is_empty(),
        "{}",
        report(case, "ejected+stock", "hoard", &diffs)
    );
}

/// apt: cache mounts, a configuration file and PATH shims from the `hoard-files` stage, and an
/// env prefix.
#[test]
fn eject_debian_apt() {
    check("debian_apt");
}
