//! The copies behind CI cache seeding and export (`hoard cache-prime`, `hoard cache-export`,
//! `hoard cache-probe`). These run *inside* BuildKit exec ops whose root is the frontend image
//! itself (a static binary in `FROM scratch`), on the build platform, so they work whatever the
//! stage's own image holds (distroless, scratch, no `cp`).
//!
//! A copy keeps type, owner, mode, modification and access times, symlinks and hard links
//! (cargo's `target/` links every binary twice); other special files are skipped and counted.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The constant content of a primer's marker: the real step depends on a primer only through
/// this content, so a newer seed does not change the step's content-based cache key.
pub const PRIMED_MARKER: &[u8] = b"hoard: cache primed\n";

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub files: u64,
    pub dirs: u64,
    pub links: u64,
    pub bytes: u64,
    pub skipped_special: u64,
    /// Regular files left out because they were not read for longer than the age limit.
    pub skipped_old: u64,
}

fn times(meta: &fs::Metadata, accessed: Option<SystemTime>) -> fs::FileTimes {
    let mut t = fs::FileTimes::new();
    if let Ok(m) = meta.modified() {
        t = t.set_modified(m);
    }
    if let Some(a) = accessed.or_else(|| meta.accessed().ok()) {
        t = t.set_accessed(a);
    }
    t
}

/// Owner, mode and times of `dst` from `meta` (not for symlinks: only their owner is set);
/// `accessed` replaces the access time.
fn apply_meta(dst: &Path, meta: &fs::Metadata, accessed: Option<SystemTime>) -> io::Result<()> {
    std::os::unix::fs::lchown(dst, Some(meta.uid()), Some(meta.gid()))?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    fs::set_permissions(dst, fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    fs::File::open(dst)?.set_times(times(meta, accessed))
}

/// Whether a directory has no entries (a missing one counts as empty).
pub fn is_empty_dir(dir: &Path) -> io::Result<bool> {
    match fs::read_dir(dir) {
        Ok(mut it) => Ok(it.next().is_none()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e),
    }
}

/// Total size of the regular files under `dir` (each hard-linked inode once) and whether it
/// holds anything at all.
pub fn measure(dir: &Path) -> io::Result<(u64, u64)> {
    let mut seen = std::collections::HashSet::new();
    let (mut bytes, mut entries) = (0u64, 0u64);
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d)? {
            let e = e?;
            let m = e.path().symlink_metadata()?;
            entries += 1;
            if m.is_dir() {
                todo.push(e.path());
            } else if m.is_file() && seen.insert((m.dev(), m.ino())) {
                bytes += m.len();
            }
        }
    }
    Ok((bytes, entries))
}

/// How a copy treats access times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Atime {
    /// Keep each file's access time.
    Keep,
    /// Leave out regular files last read (atime, or mtime when later) longer ago than this.
    MaxAge(Duration),
    /// Every copied file counts as read now. Seeding uses this: an image layer keeps no access
    /// times (unpacking sets atime to mtime), so a seeded file's atime would be its mtime (for a
    /// crate's sources, its publication date) and the next export would leave out files that
    /// the build still needs but did not read (cargo does not read a fresh dependency's
    /// sources), breaking the job after it.
    Now,
}

/// Copy the *contents* of `src` into the existing directory `dst`, then give `dst` the owner,
/// mode and times of `src` (access times as `atime` says).
pub fn copy_tree(src: &Path, dst: &Path, atime: Atime) -> io::Result<Stats> {
    let mut stats = Stats::default();
    let now = SystemTime::now();
    let (max_age, accessed) = match atime {
        Atime::Keep => (None, None),
        Atime::MaxAge(d) => (Some(d), None),
        Atime::Now => (None, Some(now)),
    };
    let mut links: HashMap<(u64, u64), PathBuf> = HashMap::new();
    // Directories get their metadata after their contents are written (writing changes mtime).
    let mut dirs: Vec<(PathBuf, fs::Metadata)> = vec![(dst.to_path_buf(), src.symlink_metadata()?)];
    let mut todo: Vec<(PathBuf, PathBuf)> = vec![(src.to_path_buf(), dst.to_path_buf())];
    while let Some((from_dir, to_dir)) = todo.pop() {
        let mut entries: Vec<_> = fs::read_dir(&from_dir)?.collect::<io::Result<_>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let from = e.path();
            let to = to_dir.join(e.file_name());
            let meta = from.symlink_metadata()?;
            let ft = meta.file_type();
            if ft.is_dir() {
                if !to.is_dir() {
                    fs::create_dir(&to)?;
                }
                stats.dirs += 1;
                dirs.push((to.clone(), meta));
                todo.push((from, to));
            } else if ft.is_symlink() {
                let target = fs::read_link(&from)?;
                let _ = fs::remove_file(&to);
                std::os::unix::fs::symlink(target, &to)?;
                apply_meta(&to, &meta, accessed)?;
                stats.links += 1;
            } else if ft.is_file() {
                if let Some(limit) = max_age {
                    let last = meta.accessed().ok().max(meta.modified().ok());
                    if last.is_some_and(|t| now.duration_since(t).unwrap_or_default() > limit) {
                        stats.skipped_old += 1;
                        continue;
                    }
                }
                let _ = fs::remove_file(&to);
                if meta.nlink() > 1 {
                    if let Some(first) = links.get(&(meta.dev(), meta.ino())) {
                        fs::hard_link(first, &to)?;
                        stats.links += 1;
                        continue;
                    }
                    links.insert((meta.dev(), meta.ino()), to.clone());
                }
                fs::copy(&from, &to)?;
                apply_meta(&to, &meta, accessed)?;
                stats.files += 1;
                stats.bytes += meta.len();
            } else {
                stats.skipped_special += 1;
            }
        }
    }
    for (d, meta) in dirs.iter().rev() {
        apply_meta(d, meta, accessed)?;
    }
    Ok(stats)
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `hoard cache-prime <cache> [<seed>] <marker>`: fill an empty cache from the seed; a cache
/// that holds anything is left alone (a warm builder keeps its own, newer contents). Always
/// writes the constant marker.
pub fn prime(cache: &Path, seed: Option<&Path>, marker: &Path, label: &str) -> io::Result<()> {
    match seed {
        Some(seed) if seed.is_dir() => {
            if is_empty_dir(cache)? {
                let s = copy_tree(seed, cache, Atime::Now)?;
                eprintln!(
                    "hoard: seeded {label}: {} files, {} ({} links, {} special files skipped)",
                    s.files,
                    human(s.bytes),
                    s.links,
                    s.skipped_special
                );
            } else {
                eprintln!("hoard: {label} is warm on this builder; kept as it is");
            }
        }
        Some(_) => eprintln!("hoard: the seed has no {label}; it starts empty"),
        None => {}
    }
    fs::write(marker, PRIMED_MARKER)
}

/// Options of one cache's export.
#[derive(Debug, Clone)]
pub struct ExportOpts {
    pub id: String,
    pub limit: u64,
    pub max_age: Option<Duration>,
}

/// `hoard cache-export`: copy the cache into `dst` and write a one-line JSON report. An empty
/// cache is reported (`"empty": true`) and not copied: a build can leave a cache empty (cargo's
/// git caches without git dependencies), but when *every* cache of an export is empty the
/// export did not run where the build did, and the gateway fails it.
pub fn export(cache: &Path, dst: &Path, report: &Path, o: &ExportOpts) -> Result<(), String> {
    let io = |e: io::Error| format!("exporting cache {}: {e}", o.id);
    let (size, entries) = measure(cache).map_err(io)?;
    if let Some(parent) = report.parent() {
        fs::create_dir_all(parent).map_err(io)?;
    }
    if entries == 0 {
        eprintln!("hoard: cache {} is empty on this builder", o.id);
        let rep = serde_json::json!({ "id": o.id, "size": 0, "empty": true });
        return fs::write(report, rep.to_string()).map_err(io);
    }
    let mut rep = serde_json::json!({ "id": o.id, "size": size });
    if size > o.limit {
        eprintln!(
            "hoard: WARNING: cache {} is {}, over the limit of {} (HOARD_CACHE_EXPORT_LIMIT): not exported",
            o.id,
            human(size),
            human(o.limit)
        );
        rep["skipped"] = serde_json::json!(true);
    } else {
        fs::create_dir_all(dst).map_err(io)?;
        let atime = o.max_age.map_or(Atime::Keep, Atime::MaxAge);
        let s = copy_tree(cache, dst, atime).map_err(io)?;
        let meta = cache.symlink_metadata().map_err(io)?;
        rep["size"] = serde_json::json!(s.bytes);
        rep["files"] = serde_json::json!(s.files);
        rep["uid"] = serde_json::json!(meta.uid());
        rep["gid"] = serde_json::json!(meta.gid());
        rep["mode"] = serde_json::json!(meta.mode() & 0o7777);
        rep["skipped_old"] = serde_json::json!(s.skipped_old);
        eprintln!(
            "hoard: exported {}: {} in {} files ({} left out, unread for longer than the age limit)",
            o.id,
            human(s.bytes),
            s.files,
            s.skipped_old
        );
    }
    fs::write(report, rep.to_string()).map_err(io)
}

/// `hoard cache-probe <out> <dir>...`: one line per directory, `empty` or `full`.
pub fn probe(out: &Path, dirs: &[PathBuf]) -> io::Result<()> {
    let mut text = String::new();
    for d in dirs {
        text += if is_empty_dir(d)? {
            "empty\n"
        } else {
            "full\n"
        };
    }
    if let Some(parent) = out.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(out, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("hoard-cachecopy-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        p
    }

    #[test]
    fn copy_keeps_links_modes_and_times() {
        let src = tmp("src");
        fs::create_dir_all(src.join("a/b")).unwrap();
        fs::write(src.join("a/b/f"), b"hello").unwrap();
        fs::hard_link(src.join("a/b/f"), src.join("a/g")).unwrap();
        std::os::unix::fs::symlink("b/f", src.join("a/l")).unwrap();
        fs::set_permissions(src.join("a/b/f"), fs::Permissions::from_mode(0o640)).unwrap();
        fs::set_permissions(&src, fs::Permissions::from_mode(0o1777)).unwrap();
        let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        fs::File::open(src.join("a/b/f"))
            .unwrap()
            .set_times(fs::FileTimes::new().set_modified(old))
            .unwrap();
        let dst = tmp("dst");
        let s = copy_tree(&src, &dst, Atime::Keep).unwrap();
        assert_eq!((s.files, s.links, s.bytes), (1, 2, 5));
        let f = dst.join("a/b/f").symlink_metadata().unwrap();
        let g = dst.join("a/g").symlink_metadata().unwrap();
        assert_eq!((f.dev(), f.ino()), (g.dev(), g.ino()), "hard link kept");
        assert_eq!(f.mode() & 0o7777, 0o640);
        assert_eq!(f.modified().unwrap(), old);
        assert_eq!(
            fs::read_link(dst.join("a/l")).unwrap(),
            PathBuf::from("b/f")
        );
        assert_eq!(
            dst.symlink_metadata().unwrap().mode() & 0o7777,
            0o1777,
            "root mode kept"
        );
        assert_eq!(measure(&dst).unwrap(), (5, 5));
        fs::remove_dir_all(&src).unwrap();
        fs::remove_dir_all(&dst).unwrap();
    }

    #[test]
    fn prime_fills_only_an_empty_cache() {
        let seed = tmp("seed");
        fs::write(seed.join("x"), b"seed").unwrap();
        let cache = tmp("cache");
        let marker = tmp("marker").join("m");
        prime(&cache, Some(&seed), &marker, "c").unwrap();
        assert_eq!(fs::read(cache.join("x")).unwrap(), b"seed");
        assert_eq!(fs::read(&marker).unwrap(), PRIMED_MARKER);
        fs::write(seed.join("x"), b"newer seed").unwrap();
        fs::write(cache.join("x"), b"warm").unwrap();
        prime(&cache, Some(&seed), &marker, "c").unwrap();
        assert_eq!(
            fs::read(cache.join("x")).unwrap(),
            b"warm",
            "a warm cache is kept"
        );
    }

    /// The round trip that broke a cargo CI chain: a seed's files come with atime = mtime (an
    /// image layer keeps no access times), here 2 years old; after seeding, an export with the
    /// default age limit must still carry them (the build needed them without reading them).
    #[test]
    fn seeded_files_are_not_aged_out_by_the_next_export() {
        let seed = tmp("aseed");
        fs::create_dir_all(seed.join("src")).unwrap();
        fs::write(seed.join("src/lib.rs"), b"pub fn f() {}").unwrap();
        let old = SystemTime::now() - Duration::from_secs(2 * 365 * 86400);
        fs::File::open(seed.join("src/lib.rs"))
            .unwrap()
            .set_times(fs::FileTimes::new().set_modified(old).set_accessed(old))
            .unwrap();
        let cache = tmp("acache");
        let marker = tmp("amarker").join("m");
        prime(&cache, Some(&seed), &marker, "c").unwrap();
        let m = cache.join("src/lib.rs").symlink_metadata().unwrap();
        assert_eq!(
            m.modified().unwrap(),
            old,
            "mtime kept (build tools compare it)"
        );
        let out = tmp("aout");
        let o = ExportOpts {
            id: "x".into(),
            limit: u64::MAX,
            max_age: Some(Duration::from_secs(30 * 86400)),
        };
        export(&cache, &out.join("k"), &out.join("r.json"), &o).unwrap();
        assert!(
            out.join("k/src/lib.rs").exists(),
            "a seeded file was aged out by the next export"
        );
        // Without seeding, the age limit applies (the same old file, never read, is left out).
        let stale = tmp("astale");
        fs::create_dir_all(stale.join("src")).unwrap();
        fs::copy(seed.join("src/lib.rs"), stale.join("src/lib.rs")).unwrap();
        fs::File::open(stale.join("src/lib.rs"))
            .unwrap()
            .set_times(fs::FileTimes::new().set_modified(old).set_accessed(old))
            .unwrap();
        export(&stale, &out.join("k2"), &out.join("r2.json"), &o).unwrap();
        assert!(!out.join("k2/src/lib.rs").exists());
    }

    #[test]
    fn export_reports_an_empty_cache_and_skips_over_limit() {
        let cache = tmp("ecache");
        let out = tmp("eout");
        let o = ExportOpts {
            id: "ns/x".into(),
            limit: 3,
            max_age: None,
        };
        export(&cache, &out.join("k"), &out.join("r.json"), &o).unwrap();
        let r: serde_json::Value =
            serde_json::from_slice(&fs::read(out.join("r.json")).unwrap()).unwrap();
        assert_eq!(
            (r["empty"].as_bool(), r["size"].as_u64()),
            (Some(true), Some(0))
        );
        assert!(!out.join("k").exists(), "an empty cache gets no layer");
        fs::write(cache.join("f"), b"12345").unwrap();
        export(&cache, &out.join("k"), &out.join("r.json"), &o).unwrap();
        let r: serde_json::Value =
            serde_json::from_slice(&fs::read(out.join("r.json")).unwrap()).unwrap();
        assert_eq!(r["skipped"], true);
        assert!(!out.join("k").exists());
        let o = ExportOpts { limit: 100, ..o };
        export(&cache, &out.join("k"), &out.join("r.json"), &o).unwrap();
        assert_eq!(fs::read(out.join("k/f")).unwrap(), b"12345");
    }
}
