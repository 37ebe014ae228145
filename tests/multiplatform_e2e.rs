//! Multi-platform builds on the real engine, without emulation: `hoard-test/busybox:multi`
//! (scripts/bases.sh) is an image index of linux/amd64 and linux/386, and i386 binaries run
//! natively on an x86_64 kernel. Each build exports an OCI tarball holding both platforms.
//!
//! - `multi_platform_same_as_stock`: `testdata/multiplatform/same` built for both platforms by
//!   the stock frontend and by hoard gives the same two images (config with history, files).
//! - `multi_platform_named_contexts`: the same with `--build-context` (an image index and a
//!   local directory).
//! - `multi_platform_cache_ids`: a detected tool's architecture-specific cache (go's build cache)
//!   is a separate cache per target platform: a rebuild of each platform finds only what that
//!   platform's earlier build left there.
//!
//! Needs the engine and `$HOARD_IMAGE` (default `hoard:dev`); `HOARD_SKIP_E2E=1` skips (a skip
//! is not a pass).

mod common;

use std::path::{Path, PathBuf};

use common::*;

const PLATFORMS: &[&str] = &["linux/386", "linux/amd64"];

fn case_dir(case: &str) -> PathBuf {
    root().join("testdata/multiplatform").join(case)
}

/// Builds `dir` for both platforms into `dest` (an OCI tarball); hoard or the stock frontend.
fn build(dir: &Path, hoard: bool, args: &[(&str, &str)], dest: &Path) {
    build_with(dir, hoard, args, &[], dest)
}

/// [`build`] with extra buildx flags.
fn build_with(dir: &Path, hoard: bool, args: &[(&str, &str)], flags: &[&str], dest: &Path) {
    let mut a: Vec<String> = vec!["--platform".into(), PLATFORMS.join(",")];
    a.extend(flags.iter().map(|f| f.to_string()));
    if hoard {
        a.extend(hoard_frontend());
    }
    for (k, v) in args {
        a.extend(["--build-arg".into(), format!("{k}={v}")]);
    }
    a.extend([
        "--output".into(),
        format!("type=oci,dest={}", dest.display()),
        ".".into(),
    ]);
    let out = buildx(dir, &a);
    let who = if hoard { "hoard" } else { "stock" };
    assert!(
        out.status.success(),
        "{who} multi-platform build of {} failed:\n{}",
        dir.display(),
        tail(&output_text(&out), 60)
    );
    assert_eq!(
        oci_platforms(dest).unwrap(),
        PLATFORMS,
        "{who}: the platforms of the exported index"
    );
}

/// Builds `case` for both platforms with the stock frontend and with hoard (extra buildx
/// `flags` for both) and requires each platform's images to be the same, and of that platform.
/// Returns hoard's OCI tarball.
fn same_as_stock(scratch: &Scratch, case: &str, flags: &[&str]) -> PathBuf {
    let dir = case_dir(case);
    let (stock, hoard) = (
        scratch.path.join("stock.tar"),
        scratch.path.join("hoard.tar"),
    );
    build_with(&dir, false, &[], flags, &stock);
    build_with(&dir, true, &[], flags, &hoard);
    let mut failures = Vec::new();
    for p in PLATFORMS {
        let a = load_oci_platform(&stock, Some(p)).unwrap();
        let b = load_oci_platform(&hoard, Some(p)).unwrap();
        let diffs = compare_images(&a, &b);
        if !diffs.is_empty() {
            failures.push(report(
                &format!("multiplatform {case} {p}"),
                "stock",
                "hoard",
                &diffs,
            ));
        }
        assert_eq!(
            a.config["architecture"],
            p.rsplit('/').next().unwrap(),
            "{case} {p}: stock image architecture"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    hoard
}

/// A regular file's content in one platform's image of an OCI tarball.
fn file_text(tarball: &Path, platform: &str, path: &str) -> String {
    oci_file(tarball, Some(platform), path).unwrap_or_else(|e| panic!("{platform}: {e}"))
}

#[test]
fn multi_platform_same_as_stock() {
    if !e2e_enabled("multi_platform_same_as_stock") {
        return;
    }
    let scratch = Scratch::new("multiplatform-same");
    let hoard = same_as_stock(&scratch, "same", &[]);
    // The images really are per platform (not one image twice): each RUN ran on its own base.
    assert_eq!(
        file_text(&hoard, "linux/386", "/etc/elfclass").trim(),
        "001",
        "the 386 image ran the 32-bit busybox"
    );
    assert_eq!(
        file_text(&hoard, "linux/amd64", "/etc/elfclass").trim(),
        "002",
        "the amd64 image ran the 64-bit busybox"
    );
    assert_eq!(
        file_text(&hoard, "linux/386", "/etc/platform").trim(),
        "linux/386 linux 386 [] on amd64"
    );
    assert_eq!(
        file_text(&hoard, "linux/386", "/etc/tools.txt").trim(),
        "tools built on linux/amd64 for linux/386 (386)"
    );
}

/// The same comparison with named contexts: an image index replacing `FROM base` must give
/// each target its own platform's image, and a local directory is the same for both.
#[test]
fn multi_platform_named_contexts() {
    if !e2e_enabled("multi_platform_named_contexts") {
        return;
    }
    let scratch = Scratch::new("multiplatform-contexts");
    let flags = [
        "--build-context",
        "base=docker-image://hoard-test/busybox:multi",
        "--build-context",
        "files=files",
    ];
    let hoard = same_as_stock(&scratch, "contexts", &flags);
    assert_eq!(
        file_text(&hoard, "linux/386", "/etc/elfclass").trim(),
        "001",
        "the 386 image is built on the 386 base"
    );
    assert_eq!(
        file_text(&hoard, "linux/amd64", "/etc/elfclass").trim(),
        "002"
    );
    assert_eq!(
        file_text(&hoard, "linux/386", "/etc/greeting.txt").trim(),
        "hello from a named local context"
    );
}

#[test]
fn multi_platform_cache_ids() {
    if !e2e_enabled("multi_platform_cache_ids") {
        return;
    }
    let scratch = Scratch::new("multiplatform-cache");
    let dir = case_dir("cache");
    let ns = unique("mp");
    let (first, second) = (
        scratch.path.join("first.tar"),
        scratch.path.join("second.tar"),
    );
    build(
        &dir,
        true,
        &[("BUILDKIT_CACHE_MOUNT_NS", &ns), ("BUST", &unique("one"))],
        &first,
    );
    build(
        &dir,
        true,
        &[("BUILDKIT_CACHE_MOUNT_NS", &ns), ("BUST", &unique("two"))],
        &second,
    );
    for p in PLATFORMS {
        let arch = p.rsplit('/').next().unwrap();
        assert_eq!(
            file_text(&first, p, "/gocache").trim(),
            "/var/cache/hoard/go/build",
            "{p}: hoard set GOCACHE for the step"
        );
        assert_eq!(
            file_text(&first, p, "/seen").trim(),
            "",
            "{p}: the first build starts with an empty cache"
        );
        assert_eq!(
            file_text(&second, p, "/seen").trim(),
            format!("marker-{arch}"),
            "{p}: the rebuild must find its own platform's cache, and only that"
        );
        // The cache stays out of the image.
        let img = load_oci_platform(&second, Some(p)).unwrap();
        let leaked: Vec<&String> = img
            .fs
            .keys()
            .filter(|k| k.starts_with("/var/cache/hoard"))
            .collect();
        assert!(
            leaked.is_empty(),
            "{p}: cache contents in the image: {leaked:?}"
        );
    }
}
