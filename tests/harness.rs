//! The test harness's own tests, engine-free: the image comparator of `tests/common` (layer
//! flattening, config normalisation), the corpus preparation of `tests/realworld_e2e.rs`, and
//! the guards that every case directory under `testdata/` is run by the test binary that owns
//! it. Those binaries name their cases at compile time (one `#[test]` per case, so a case can be
//! run alone), in a `tests_calling!` list; the guards read those lists from the binaries' sources,
//! so a new case directory cannot be skipped silently, and they need no engine.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use common::*;
use serde_json::Value;

/// Sub-directories of `dir` (or, with `suffix`, the file names ending in it, suffix removed).
fn on_disk(dir: &Path, suffix: Option<&str>) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            match suffix {
                None => e.path().is_dir().then_some(name),
                Some(s) => name.strip_suffix(s).map(String::from),
            }
        })
        .collect()
}

/// The names listed in the invocation `<name>! { ... }` (or a `const <NAME>: &[&str] = &[...]`)
/// of the test source `file`: identifiers or string literals, comments skipped.
fn listed(file: &str, opener: &str, closer: char) -> BTreeSet<String> {
    let path = root().join("tests").join(file);
    let src = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let start = src
        .lines()
        .position(|l| l.starts_with(opener))
        .unwrap_or_else(|| panic!("{file}: no line starting with {opener:?}"));
    let mut names = BTreeSet::new();
    for line in src.lines().skip(start + 1) {
        let line = line.split("//").next().unwrap().trim();
        if line.starts_with(closer) {
            return names;
        }
        for item in line.split(',') {
            let item = item.trim().trim_matches('"');
            if !item.is_empty() {
                names.insert(item.to_string());
            }
        }
    }
    panic!("{file}: {opener:?} is not closed by {closer:?}");
}

fn assert_same(
    file: &str,
    what: &str,
    dir: &str,
    on_disk: BTreeSet<String>,
    listed: BTreeSet<String>,
) {
    assert!(!on_disk.is_empty(), "no cases in {dir}");
    let unlisted: Vec<_> = on_disk.difference(&listed).collect();
    let missing: Vec<_> = listed.difference(&on_disk).collect();
    assert!(
        unlisted.is_empty() && missing.is_empty(),
        "{dir} and {what} in tests/{file} differ: not listed {unlisted:?}, listed but absent {missing:?}"
    );
}

#[test]
fn every_case_dir_is_run() {
    let td = root().join("testdata");
    for (file, dir) in [
        ("e2e.rs", "cases"),
        ("checks_e2e.rs", "checks"),
        ("outline_e2e.rs", "outline"),
    ] {
        assert_same(
            file,
            "the case list",
            dir,
            on_disk(&td.join(dir), None),
            listed(file, "tests_calling! { run_case in case:", '}'),
        );
    }
    assert_same(
        "e2e.rs",
        "the error list",
        "errors",
        on_disk(&td.join("errors"), None),
        listed("e2e.rs", "tests_calling! { run_error in error:", '}'),
    );
    assert_same(
        "planned.rs",
        "the planned list",
        "cache/planned",
        on_disk(&td.join("cache/planned"), Some(".Dockerfile")),
        listed(
            "planned.rs",
            "tests_calling! { run_planned in planned:",
            '}',
        ),
    );
    let cases = listed("e2e.rs", "tests_calling! { run_case in case:", '}');
    for s in listed("e2e.rs", "const SYNTAX_LINE_CASES", ']') {
        assert!(
            cases.contains(&s),
            "SYNTAX_LINE_CASES names {s}, which is not a case"
        );
    }
}

/// The guard itself reads what it should: a list with comments and a string list.
#[test]
fn listed_reads_macro_and_const_lists() {
    let e2e = listed("e2e.rs", "tests_calling! { run_case in case:", '}');
    assert!(
        e2e.contains("copy_basic") && e2e.contains("xx_root_copy"),
        "{e2e:?}"
    );
    assert!(
        !e2e.iter().any(|n| n.contains(' ') || n.contains('/')),
        "{e2e:?}"
    );
    let syntax = listed("e2e.rs", "const SYNTAX_LINE_CASES", ']');
    assert!(!syntax.is_empty());
}

#[test]
fn syntax_lines_are_neutralised_in_place() {
    assert_eq!(neutralise_syntax("# syntax=x\nFROM a\n"), "\nFROM a\n");
    assert_eq!(
        neutralise_syntax("# syntax = x\n# escape=`\nFROM a\n"),
        "# escape=`\n\nFROM a\n"
    );
    assert_eq!(
        neutralise_syntax("# escape=`\n# syntax=x\nFROM a\n"),
        "# escape=`\n\nFROM a\n"
    );
    assert_eq!(
        neutralise_syntax("FROM a\n# syntax=x\n"),
        "FROM a\n# syntax=x\n"
    );
}

fn tar_of(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    build(&mut b);
    b.into_inner().unwrap()
}

fn add(
    b: &mut tar::Builder<Vec<u8>>,
    path: &str,
    kind: tar::EntryType,
    mode: u32,
    data: &[u8],
    link: Option<&str>,
) {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_size(data.len() as u64);
    if let Some(l) = link {
        h.set_link_name(l).unwrap();
    }
    h.set_path(path).unwrap();
    h.set_cksum();
    b.append(&h, data).unwrap();
}

#[test]
fn flatten_honours_whiteouts_and_hardlinks() {
    use tar::EntryType as E;
    let lower = tar_of(|b| {
        add(b, "a/", E::Directory, 0o755, b"", None);
        add(b, "a/x", E::Regular, 0o644, b"x", None);
        add(b, "a/y", E::Regular, 0o600, b"y", None);
        add(b, "b", E::Regular, 0o644, b"b", None);
        add(b, "d/", E::Directory, 0o755, b"", None);
        add(b, "d/old", E::Regular, 0o644, b"old", None);
        add(b, "d/sub/", E::Directory, 0o755, b"", None);
        add(b, "d/sub/deep", E::Regular, 0o644, b"deep", None);
        add(b, "d-sibling", E::Regular, 0o644, b"s", None);
        add(b, "e/", E::Directory, 0o755, b"", None);
        add(b, "e/child", E::Regular, 0o644, b"c", None);
    });
    let upper = tar_of(|b| {
        add(b, "a/.wh.x", E::Regular, 0o644, b"", None);
        add(b, ".wh.b", E::Regular, 0o644, b"", None);
        add(b, "d/", E::Directory, 0o700, b"", None);
        add(b, "d/.wh..wh..opq", E::Regular, 0o644, b"", None);
        add(b, "d/new", E::Regular, 0o644, b"new", None);
        add(b, "c", E::Link, 0o644, b"", Some("a/y"));
        add(b, "e", E::Symlink, 0o777, b"", Some("a"));
    });
    let mut tree = Tree::new();
    apply_layer(&mut tree, &lower).unwrap();
    apply_layer(&mut tree, &upper).unwrap();
    let paths: Vec<&str> = tree.keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        ["/a", "/a/y", "/c", "/d", "/d-sibling", "/d/new", "/e"]
    );
    assert_eq!(
        tree["/c"], tree["/a/y"],
        "a hardlink has its target's content and metadata"
    );
    assert_eq!(tree["/d"].mode, 0o700);
    assert_eq!(tree["/e"].kind, Kind::Symlink("a".into()));
}

#[test]
fn config_diff_ignores_created_only() {
    let mut a: Value = serde_json::from_str(
        r#"{"created":"2024-01-01T00:00:00Z","config":{"Env":["A=1"]},"rootfs":{"type":"layers","diff_ids":["sha256:1"]},
            "history":[{"created":"x","created_by":"RUN a # buildkit","comment":"buildkit.dockerfile.v0"}]}"#,
    )
    .unwrap();
    let mut b: Value = serde_json::from_str(
        r#"{"created":"2025-01-01T00:00:00Z","config":{"Env":["A=1"]},"rootfs":{"type":"layers","diff_ids":["sha256:2"]},
            "history":[{"created":"y","created_by":"RUN a # buildkit","comment":"buildkit.dockerfile.v0"}]}"#,
    )
    .unwrap();
    normalize_config(&mut a);
    normalize_config(&mut b);
    let mut d = Vec::new();
    diff_json("config", &a, &b, &mut d);
    assert!(d.is_empty(), "{d:?}");
    b["history"][0]["created_by"] = Value::String("RUN b # buildkit".into());
    b["rootfs"]["diff_ids"] = Value::String("<2 layers>".into());
    diff_json("config", &a, &b, &mut d);
    assert_eq!(d.len(), 2, "{d:?}");
}
