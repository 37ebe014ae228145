//! The cargo demo crate (`testdata/cache/cargo`: a binary with four crates.io dependencies) and
//! what a warm rebuild of it must show, shared by the local (`cache_e2e.rs`) and the CI
//! (`ci_cache_e2e.rs`) cache tests.

/// The crates.io dependencies of `testdata/cache/cargo`.
pub const CARGO_DEPS: &[&str] = &["itoa", "hex", "fnv", "smallvec"];

/// The log of a cargo step that ran warm: it compiled the app crate (so the step did run), no
/// dependency, and downloaded no crate. `what` names the build in the failure message.
pub fn assert_warm_cargo(log: &[String], what: &str) {
    assert!(
        log.iter().any(|l| l.contains("Compiling hoard-cargo-demo")),
        "{what}: the cargo step did not compile the app crate (did it run?):\n{}",
        log.join("\n")
    );
    let deps: Vec<&String> = log
        .iter()
        .filter(|l| {
            CARGO_DEPS
                .iter()
                .any(|d| l.contains(&format!("Compiling {d} ")))
        })
        .collect();
    assert!(
        deps.is_empty(),
        "{what}: dependencies compiled again: {deps:?}"
    );
    let downloads: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("Downloaded ") || l.contains("Downloading "))
        .collect();
    assert!(
        downloads.is_empty(),
        "{what}: crates downloaded again: {downloads:?}"
    );
}
