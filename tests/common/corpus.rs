//! The reference corpus the engine-free corpus tests read where it lives, beside the repository
//! (`../shared/corpus/`): buildkit's parser corpus and 65 real-world Dockerfiles. Never copied.

// Each binary that includes this uses part of it.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/corpus/<sub>`, asserted to exist.
pub fn dir(sub: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(sub);
    assert!(
        dir.is_dir(),
        "reference corpus missing: {} (these tests need the shared corpus next to the repo)",
        dir.display()
    );
    dir
}

/// Where the real-world Dockerfiles are: `HOARD_REAL_WORLD`, else `../shared/corpus/real-world`.
pub fn real_world_dir() -> PathBuf {
    match std::env::var("HOARD_REAL_WORLD") {
        Ok(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real-world"),
    }
}

/// The real-world Dockerfiles, sorted by case name: (case directory name, Dockerfile text).
pub fn real_world() -> Vec<(String, String)> {
    let dir = real_world_dir();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "reference corpus missing at {}: {e}; set HOARD_REAL_WORLD",
            dir.display()
        )
    });
    let mut out: Vec<(String, String)> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Dockerfile").is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(p.join("Dockerfile")).unwrap())
        })
        .collect();
    out.sort();
    out
}
