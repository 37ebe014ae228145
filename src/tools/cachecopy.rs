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

/// A cache's last-use times, as the export records them beside the cache's layer
/// (`/<key>.atimes` in the cache image, outside every cache directory, so no tool sees it) and
/// the primer restores them: an image layer keeps no access times (BuildKit's layer tar has
/// none, and unpacking sets atime to mtime). Per regular file, its path relative to the cache
/// root and the second it was last used (read, or written: the later of atime and mtime).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Atimes(pub std::collections::BTreeMap<PathBuf, u64>);

const ATIMES_MAGIC: &[u8] = b"hoard-atimes\t1";

impl Atimes {
    /// NUL-terminated records `<seconds>\t<path>` (paths may hold any byte but NUL), after a
    /// header record.
    pub fn to_bytes(&self) -> Vec<u8> {
        use std::os::unix::ffi::OsStrExt;
        let mut out = ATIMES_MAGIC.to_vec();
        out.push(0);
        for (p, t) in &self.0 {
            out.extend_from_slice(t.to_string().as_bytes());
            out.push(b'\t');
            out.extend_from_slice(p.as_os_str().as_bytes());
            out.push(0);
        }
        out
    }

    /// `None` for anything that is not such a file (then every seeded file counts as used at
    /// seeding, as with a cache image that has no times).
    pub fn from_bytes(data: &[u8]) -> Option<Atimes> {
        use std::os::unix::ffi::OsStrExt;
        let mut records = data.split(|b| *b == 0);
        if records.next()? != ATIMES_MAGIC {
            return None;
        }
        let mut map = std::collections::BTreeMap::new();
        for r in records {
            if r.is_empty() {
                continue;
            }
            let tab = r.iter().position(|b| *b == b'\t')?;
            let secs = std::str::from_utf8(&r[..tab]).ok()?.parse().ok()?;
            let path = Path::new(std::ffi::OsStr::from_bytes(&r[tab + 1..]));
            if path.is_absolute()
                || path
                    .components()
                    .any(|c| c == std::path::Component::ParentDir)
            {
                return None;
            }
            map.insert(path.to_path_buf(), secs);
        }
        Some(Atimes(map))
    }

    /// Read `path`; a missing or unreadable file is `None`, with a note when it is unreadable.
    pub fn read(path: &Path) -> Option<Atimes> {
        match fs::read(path) {
            Ok(data) => {
                let a = Atimes::from_bytes(&data);
                if a.is_none() {
                    eprintln!(
                        "hoard: {} is not a last-use index; seeded files count as used now",
                        path.display()
                    );
                }
                a
            }
            Err(_) => None,
        }
    }
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A file's last use: the later of its access and modification times.
fn last_use(meta: &fs::Metadata) -> Option<SystemTime> {
    meta.accessed().ok().max(meta.modified().ok())
}

/// The units in which an export ages a cache out (`cache::recipe::Aging`, given to the tool as
/// `--aging`): a unit is left out whole when none of its files was used within the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Units {
    Files,
    Dirs(usize),
    CargoTarget,
    /// `<dir>/<name>.<ext>` is also in use while `<dir>/<name>/` in this other cache is.
    Extracted(Option<PathBuf>),
}

impl Units {
    pub fn parse(spec: &str, companion: Option<PathBuf>) -> Result<Units, String> {
        Ok(match spec {
            "files" => Units::Files,
            "cargo-target" => Units::CargoTarget,
            "extracted" => Units::Extracted(companion),
            _ => match spec.strip_prefix("dirs:").and_then(|n| n.parse().ok()) {
                Some(n) if n > 0 => Units::Dirs(n),
                _ => return Err(format!("unknown aging unit {spec:?}")),
            },
        })
    }

    /// The unit everything under the directory `rel` belongs to, if any: such a directory is
    /// left out as a whole when its unit is.
    fn dir_unit(&self, rel: &Path) -> Option<String> {
        match self {
            Units::Files | Units::Extracted(_) => None,
            Units::Dirs(n) => {
                let c: Vec<_> = rel.components().collect();
                (c.len() >= *n).then(|| prefix(&c[..*n]))
            }
            Units::CargoTarget => cargo_unit(rel),
        }
    }

    /// The unit of the regular file `rel`.
    fn file_unit(&self, rel: &Path) -> String {
        match self {
            Units::Files | Units::Extracted(_) => rel.to_string_lossy().into_owned(),
            Units::Dirs(n) => {
                let c: Vec<_> = rel.components().collect();
                if c.len() > *n {
                    prefix(&c[..*n])
                } else {
                    rel.to_string_lossy().into_owned()
                }
            }
            Units::CargoTarget => {
                cargo_unit(rel).unwrap_or_else(|| rel.to_string_lossy().into_owned())
            }
        }
    }
}

fn prefix(c: &[std::path::Component]) -> String {
    c.iter().collect::<PathBuf>().to_string_lossy().into_owned()
}

/// A compilation unit in cargo's target directory: a path `.../<profile>/<dir>/<name>-<hash>...`
/// with `<dir>` one of `deps`, `.fingerprint`, `build`, `incremental`, and `<hash>` cargo's 16
/// hex digit metadata hash, is unit `.../<profile>#<hash>` (so `deps/libitoa-<hash>.rlib`,
/// `deps/itoa-<hash>.d` and `.fingerprint/itoa-<hash>/` are one).
fn cargo_unit(rel: &Path) -> Option<String> {
    let c: Vec<_> = rel.components().collect();
    let i = (1..c.len().saturating_sub(1)).find(|&i| {
        matches!(
            c[i].as_os_str().to_str(),
            Some("deps" | ".fingerprint" | "build" | "incremental")
        )
    })?;
    let name = c[i + 1].as_os_str().to_str()?;
    let stem = name.split('.').next()?;
    let (_, hash) = stem.rsplit_once('-')?;
    (hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("{}#{hash}", prefix(&c[..i])))
}

/// Every regular file under `dir` with its last use, by path relative to `dir`.
fn scan(dir: &Path) -> io::Result<Vec<(PathBuf, SystemTime)>> {
    let mut out = Vec::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        for e in fs::read_dir(dir.join(&rel))? {
            let e = e?;
            let r = rel.join(e.file_name());
            let m = e.path().symlink_metadata()?;
            if m.is_dir() {
                todo.push(r);
            } else if m.is_file() {
                out.push((r, last_use(&m).unwrap_or(SystemTime::UNIX_EPOCH)));
            }
        }
    }
    Ok(out)
}

/// The units of `cache` not used within `max_age` of `now`.
fn stale_units(
    cache: &Path,
    units: &Units,
    max_age: Duration,
    now: SystemTime,
) -> io::Result<std::collections::HashSet<String>> {
    let mut newest: HashMap<String, SystemTime> = HashMap::new();
    for (rel, t) in scan(cache)? {
        let e = newest.entry(units.file_unit(&rel)).or_insert(t);
        *e = (*e).max(t);
    }
    if let Units::Extracted(Some(other)) = units {
        // Newest use under each directory of the other cache.
        let mut under: HashMap<PathBuf, SystemTime> = HashMap::new();
        for (rel, t) in scan(other)? {
            for a in rel.ancestors().skip(1) {
                if a.as_os_str().is_empty() {
                    break;
                }
                let e = under.entry(a.to_path_buf()).or_insert(t);
                *e = (*e).max(t);
            }
        }
        for (unit, t) in newest.iter_mut() {
            let p = Path::new(unit.as_str());
            // `<name>-1.2.3.crate` -> `<name>-1.2.3`.
            if let Some(stem) = p.file_stem().filter(|_| p.extension().is_some()) {
                if let Some(u) = under.get(&p.with_file_name(stem)) {
                    *t = (*t).max(*u);
                }
            }
        }
    }
    Ok(newest
        .into_iter()
        .filter(|(_, t)| now.duration_since(*t).unwrap_or_default() > max_age)
        .map(|(u, _)| u)
        .collect())
}

/// How a copy treats access times.
#[derive(Debug, Clone, Copy)]
pub enum Atime<'a> {
    /// Keep each file's access time.
    Keep,
    /// Seeding: each regular file's last use as `atimes` records it; a file it does not list
    /// (or every file, without one: a cache image from before these indexes) counts as used
    /// now. An image layer keeps no access times (unpacking sets atime to mtime), so a seeded
    /// file's atime would be its mtime (for a crate's sources, its publication date) and the
    /// next export would leave out files that the build still needs.
    Restore(Option<&'a Atimes>),
}

/// Which entries a copy leaves out, by path relative to the source (`true` for directories).
type Skip<'a> = &'a dyn Fn(&Path, bool) -> bool;

/// Open a file for reading without touching its access time where the kernel allows it (the
/// owner, or `CAP_FOWNER`), so an export does not make every file of the cache look used.
fn open_noatime(p: &Path) -> io::Result<fs::File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        const O_NOATIME: i32 = 0o1_000_000;
        if let Ok(f) = fs::OpenOptions::new()
            .read(true)
            .custom_flags(O_NOATIME)
            .open(p)
        {
            return Ok(f);
        }
    }
    fs::File::open(p)
}

/// Copy the *contents* of `src` into the existing directory `dst`, then give `dst` the owner,
/// mode and times of `src` (access times as `atime` says), leaving out what `skip` names.
/// Returns the statistics and the last use of every regular file copied.
pub fn copy_tree(
    src: &Path,
    dst: &Path,
    atime: Atime,
    skip: Option<Skip>,
) -> io::Result<(Stats, Atimes)> {
    let mut stats = Stats::default();
    let mut copied = Atimes::default();
    let now = SystemTime::now();
    let mut links: HashMap<(u64, u64), PathBuf> = HashMap::new();
    let restore = |rel: &Path| -> Option<SystemTime> {
        match atime {
            Atime::Keep => None,
            Atime::Restore(a) => Some(
                a.and_then(|a| a.0.get(rel))
                    .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(*s))
                    .unwrap_or(now),
            ),
        }
    };
    let dir_atime = match atime {
        Atime::Keep => None,
        Atime::Restore(_) => Some(now),
    };
    // Directories get their metadata after their contents are written (writing changes mtime).
    let mut dirs: Vec<(PathBuf, fs::Metadata)> = vec![(dst.to_path_buf(), src.symlink_metadata()?)];
    let mut todo: Vec<(PathBuf, PathBuf)> = vec![(PathBuf::new(), dst.to_path_buf())];
    while let Some((rel_dir, to_dir)) = todo.pop() {
        let mut entries: Vec<_> = fs::read_dir(src.join(&rel_dir))?.collect::<io::Result<_>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let from = e.path();
            let rel = rel_dir.join(e.file_name());
            let to = to_dir.join(e.file_name());
            let meta = from.symlink_metadata()?;
            let ft = meta.file_type();
            if skip.is_some_and(|s| s(&rel, ft.is_dir())) {
                if ft.is_file() {
                    stats.skipped_old += 1;
                } else if ft.is_dir() {
                    stats.skipped_old += scan(&from).map(|f| f.len() as u64).unwrap_or(0);
                }
                continue;
            }
            if ft.is_dir() {
                if !to.is_dir() {
                    fs::create_dir(&to)?;
                }
                stats.dirs += 1;
                dirs.push((to.clone(), meta));
                todo.push((rel, to));
            } else if ft.is_symlink() {
                let target = fs::read_link(&from)?;
                let _ = fs::remove_file(&to);
                std::os::unix::fs::symlink(target, &to)?;
                apply_meta(&to, &meta, dir_atime)?;
                stats.links += 1;
            } else if ft.is_file() {
                let used = restore(&rel);
                copied.0.insert(
                    rel.clone(),
                    secs(used.or_else(|| last_use(&meta)).unwrap_or(now)),
                );
                let _ = fs::remove_file(&to);
                if meta.nlink() > 1 {
                    if let Some(first) = links.get(&(meta.dev(), meta.ino())) {
                        fs::hard_link(first, &to)?;
                        stats.links += 1;
                        continue;
                    }
                    links.insert((meta.dev(), meta.ino()), to.clone());
                }
                let mut r = open_noatime(&from)?;
                let mut w = fs::File::create(&to)?;
                io::copy(&mut r, &mut w)?;
                drop(w);
                apply_meta(&to, &meta, used)?;
                stats.files += 1;
                stats.bytes += meta.len();
            } else {
                stats.skipped_special += 1;
            }
        }
    }
    for (d, meta) in dirs.iter().rev() {
        apply_meta(d, meta, dir_atime)?;
    }
    Ok((stats, copied))
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

/// `hoard cache-prime`: fill an empty cache from the seed, restoring each file's last use from
/// the seed's index (`atimes`, beside the seed's directory); a cache that holds anything is left
/// alone (a warm builder keeps its own, newer contents). Always writes the constant marker.
pub fn prime(
    cache: &Path,
    seed: Option<&Path>,
    atimes: Option<&Path>,
    marker: &Path,
    label: &str,
) -> io::Result<()> {
    match seed {
        Some(seed) if seed.is_dir() => {
            if is_empty_dir(cache)? {
                let times = atimes.and_then(Atimes::read);
                let (s, _) = copy_tree(seed, cache, Atime::Restore(times.as_ref()), None)?;
                eprintln!(
                    "hoard: seeded {label}: {} files, {} ({} links, {} special files skipped; {})",
                    s.files,
                    human(s.bytes),
                    s.links,
                    s.skipped_special,
                    if times.is_some() {
                        "last-use times restored"
                    } else {
                        "no last-use times: every file counts as used now"
                    }
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
    /// Leave out units not used for longer than this.
    pub max_age: Option<Duration>,
    pub units: Units,
    /// Where to write the last-use index of the exported files.
    pub atimes: Option<PathBuf>,
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
        let stale = match o.max_age {
            Some(age) => stale_units(cache, &o.units, age, SystemTime::now()).map_err(io)?,
            None => Default::default(),
        };
        let skip = |rel: &Path, dir: bool| {
            if dir {
                o.units.dir_unit(rel).is_some_and(|u| stale.contains(&u))
            } else {
                stale.contains(&o.units.file_unit(rel))
            }
        };
        let (s, times) = copy_tree(
            cache,
            dst,
            Atime::Keep,
            (!stale.is_empty()).then_some(&skip as Skip),
        )
        .map_err(io)?;
        if let Some(p) = &o.atimes {
            fs::write(p, times.to_bytes()).map_err(io)?;
        }
        let meta = cache.symlink_metadata().map_err(io)?;
        rep["size"] = serde_json::json!(s.bytes);
        rep["files"] = serde_json::json!(s.files);
        rep["uid"] = serde_json::json!(meta.uid());
        rep["gid"] = serde_json::json!(meta.gid());
        rep["mode"] = serde_json::json!(meta.mode() & 0o7777);
        rep["skipped_old"] = serde_json::json!(s.skipped_old);
        rep["stale_units"] = serde_json::json!(stale.len());
        eprintln!(
            "hoard: exported {}: {} in {} files ({} files in {} entries left out, unused for longer than the age limit)",
            o.id,
            human(s.bytes),
            s.files,
            s.skipped_old,
            stale.len()
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

    const DAY: u64 = 86400;

    fn ago(days: u64) -> SystemTime {
        SystemTime::now() - Duration::from_secs(days * DAY)
    }

    /// Write `rel` under `root` with both times `days` ago (a file last used then).
    fn put(root: &Path, rel: &str, days: u64) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, rel.as_bytes()).unwrap();
        touch(&p, ago(days), ago(days));
    }

    fn touch(p: &Path, atime: SystemTime, mtime: SystemTime) {
        fs::File::open(p)
            .unwrap()
            .set_times(fs::FileTimes::new().set_accessed(atime).set_modified(mtime))
            .unwrap();
    }

    fn opts(units: Units, max_age_days: Option<u64>, atimes: Option<PathBuf>) -> ExportOpts {
        ExportOpts {
            id: "x".into(),
            limit: u64::MAX,
            max_age: max_age_days.map(|d| Duration::from_secs(d * DAY)),
            units,
            atimes,
        }
    }

    /// The regular files under `dir`, sorted.
    fn files(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = scan(dir)
            .unwrap()
            .into_iter()
            .map(|(p, _)| p.to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
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
        let (s, _) = copy_tree(&src, &dst, Atime::Keep, None).unwrap();
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
        prime(&cache, Some(&seed), None, &marker, "c").unwrap();
        assert_eq!(fs::read(cache.join("x")).unwrap(), b"seed");
        assert_eq!(fs::read(&marker).unwrap(), PRIMED_MARKER);
        fs::write(seed.join("x"), b"newer seed").unwrap();
        fs::write(cache.join("x"), b"warm").unwrap();
        prime(&cache, Some(&seed), None, &marker, "c").unwrap();
        assert_eq!(
            fs::read(cache.join("x")).unwrap(),
            b"warm",
            "a warm cache is kept"
        );
    }

    /// A seed without a last-use index (a cache image from before them): its files come with
    /// atime = mtime (an image layer keeps no access times), here 2 years old; after seeding,
    /// an export with the default age limit must still carry them (the build needed them
    /// without reading them; leaving them out broke a cargo CI chain).
    #[test]
    fn seeded_files_without_an_index_count_as_used_at_seeding() {
        let seed = tmp("aseed");
        put(&seed, "src/lib.rs", 730);
        let cache = tmp("acache");
        let marker = tmp("amarker").join("m");
        prime(
            &cache,
            Some(&seed),
            Some(&seed.join("missing.atimes")),
            &marker,
            "c",
        )
        .unwrap();
        let m = cache.join("src/lib.rs").symlink_metadata().unwrap();
        assert_eq!(
            secs(m.modified().unwrap()),
            secs(ago(730)),
            "mtime kept (build tools compare it)"
        );
        let out = tmp("aout");
        export(
            &cache,
            &out.join("k"),
            &out.join("r.json"),
            &opts(Units::Files, Some(30), None),
        )
        .unwrap();
        assert!(
            out.join("k/src/lib.rs").exists(),
            "a seeded file was aged out by the next export"
        );
        // Without seeding, the age limit applies (the same old file, never read, is left out).
        let stale = tmp("astale");
        put(&stale, "src/lib.rs", 730);
        export(
            &stale,
            &out.join("k2"),
            &out.join("r2.json"),
            &opts(Units::Files, Some(30), None),
        )
        .unwrap();
        assert!(!out.join("k2/src/lib.rs").exists());
    }

    /// Aging along a chain of CI jobs, each seeded from the previous job's export: the export
    /// records each file's last use, the primer restores it, a file the job reads gets a fresh
    /// time, and the next export leaves out what no job used within the limit, however many
    /// seeded jobs came in between.
    #[test]
    fn last_use_survives_a_chain_of_seeded_jobs() {
        let cache = tmp("ccache");
        put(&cache, "old", 20); // used 20 days ago, unused since
        put(&cache, "read", 20); // as old, but read by the job below
        put(&cache, "recent", 2);
        let img = tmp("cimg");
        let idx = img.join("k.atimes");
        export(
            &cache,
            &img.join("k"),
            &img.join("r.json"),
            &opts(Units::Files, Some(30), Some(idx.clone())),
        )
        .unwrap();
        assert_eq!(files(&img.join("k")), ["old", "read", "recent"]);
        let recorded = Atimes::read(&idx).expect("index written");
        assert_eq!(recorded.0.get(Path::new("old")), Some(&secs(ago(20))));
        // What an image layer does to the files: access time = modification time, here both
        // a year old (the index is all that remembers the last use).
        for f in ["old", "read", "recent"] {
            touch(&img.join("k").join(f), ago(365), ago(365));
        }
        // The next job, on a fresh runner, 15 days later: seeded with the recorded times...
        let job = tmp("cjob");
        let marker = tmp("cmarker").join("m");
        prime(&job, Some(&img.join("k")), Some(&idx), &marker, "c").unwrap();
        let at = |p: &Path| secs(p.symlink_metadata().unwrap().accessed().unwrap());
        assert_eq!(at(&job.join("old")), secs(ago(20)), "last use restored");
        // ...and the job reads one file (the kernel sets its atime; see the e2e test).
        touch(&job.join("read"), SystemTime::now(), ago(365));
        let later = |d: u64| Some(Duration::from_secs(d * DAY - 15 * DAY));
        let img2 = tmp("cimg2");
        let o = ExportOpts {
            max_age: later(30),
            ..opts(Units::Files, None, Some(img2.join("k.atimes")))
        };
        export(&job, &img2.join("k"), &img2.join("r.json"), &o).unwrap();
        // 35 days after its last use by then: `old` is left out; `read` is fresh, `recent` is
        // 17 days old.
        assert_eq!(files(&img2.join("k")), ["read", "recent"]);
        let again = Atimes::read(&img2.join("k.atimes")).unwrap();
        assert_eq!(
            again.0.get(Path::new("recent")),
            Some(&secs(ago(2))),
            "a seeded file the job did not use keeps its recorded last use"
        );
        let r: serde_json::Value =
            serde_json::from_slice(&fs::read(img2.join("r.json")).unwrap()).unwrap();
        assert_eq!(r["skipped_old"], 1);
    }

    /// A unit is kept or left out whole: cargo reads an extracted crate's manifest every build
    /// but only stats its sources, so a crate whose manifest was read keeps its old sources;
    /// a crate unused for longer than the limit goes with its directory.
    #[test]
    fn dirs_age_as_a_whole() {
        let cache = tmp("dcache");
        put(&cache, "index-1/used-1.0/Cargo.toml", 1);
        put(&cache, "index-1/used-1.0/src/lib.rs", 400);
        put(&cache, "index-1/gone-0.1/Cargo.toml", 40);
        put(&cache, "index-1/gone-0.1/src/lib.rs", 400);
        put(&cache, "top-file", 40);
        let out = tmp("dout");
        export(
            &cache,
            &out.join("k"),
            &out.join("r.json"),
            &opts(Units::Dirs(2), Some(30), None),
        )
        .unwrap();
        assert_eq!(
            files(&out.join("k")),
            ["index-1/used-1.0/Cargo.toml", "index-1/used-1.0/src/lib.rs"]
        );
        assert!(
            !out.join("k/index-1/gone-0.1").exists(),
            "an aged-out unit leaves no empty directory"
        );
        // Per file, the unread sources of a used crate would go.
        export(
            &cache,
            &out.join("f"),
            &out.join("f.json"),
            &opts(Units::Files, Some(30), None),
        )
        .unwrap();
        assert_eq!(files(&out.join("f")), ["index-1/used-1.0/Cargo.toml"]);
    }

    /// cargo's target directory: one compilation unit's files share its hash; a unit whose
    /// fingerprint or rlib was read keeps its unread `.rmeta` (cargo rebuilds a unit with a
    /// missing output); a unit of an old dependency version goes whole.
    #[test]
    fn cargo_target_units() {
        let cache = tmp("tcache");
        let r = "_app_target/release";
        let new = "0123456789abcdef";
        let old = "fedcba9876543210";
        put(&cache, &format!("{r}/deps/libitoa-{new}.rlib"), 1);
        put(&cache, &format!("{r}/deps/libitoa-{new}.rmeta"), 100);
        put(&cache, &format!("{r}/deps/itoa-{new}.d"), 100);
        put(
            &cache,
            &format!("{r}/.fingerprint/itoa-{new}/lib-itoa"),
            100,
        );
        put(&cache, &format!("{r}/deps/libitoa-{old}.rlib"), 100);
        put(&cache, &format!("{r}/deps/libitoa-{old}.rmeta"), 100);
        put(
            &cache,
            &format!("{r}/.fingerprint/itoa-{old}/lib-itoa"),
            100,
        );
        put(&cache, &format!("{r}/build/serde-{old}/out/x.rs"), 100);
        put(&cache, &format!("{r}/demo"), 1);
        put(&cache, &format!("{r}/old-binary"), 100);
        assert_eq!(
            cargo_unit(Path::new(&format!("{r}/deps/libitoa-{new}.rlib"))),
            cargo_unit(Path::new(&format!("{r}/.fingerprint/itoa-{new}/lib-itoa"))),
        );
        let out = tmp("tout");
        export(
            &cache,
            &out.join("k"),
            &out.join("r.json"),
            &opts(Units::CargoTarget, Some(30), None),
        )
        .unwrap();
        let kept = files(&out.join("k"));
        assert_eq!(
            kept,
            [
                format!("{r}/.fingerprint/itoa-{new}/lib-itoa"),
                format!("{r}/demo"),
                format!("{r}/deps/itoa-{new}.d"),
                format!("{r}/deps/libitoa-{new}.rlib"),
                format!("{r}/deps/libitoa-{new}.rmeta"),
            ]
        );
        assert!(!out.join(format!("k/{r}/.fingerprint/itoa-{old}")).exists());
        assert!(!out.join(format!("k/{r}/build/serde-{old}")).exists());
    }

    /// A `.crate` is in use while its extracted sources (another cache) are: cargo opens it
    /// without reading it, and downloads it again when it is missing.
    #[test]
    fn archives_follow_their_extracted_sources() {
        let src = tmp("xsrc");
        put(&src, "idx/used-1.0/Cargo.toml", 1);
        put(&src, "idx/gone-0.1/Cargo.toml", 40);
        let cache = tmp("xcache");
        put(&cache, "idx/used-1.0.crate", 100);
        put(&cache, "idx/gone-0.1.crate", 100);
        put(&cache, "idx/fetched-2.0.crate", 3);
        let out = tmp("xout");
        let o = opts(Units::Extracted(Some(src.clone())), Some(30), None);
        export(&cache, &out.join("k"), &out.join("r.json"), &o).unwrap();
        assert_eq!(
            files(&out.join("k")),
            ["idx/fetched-2.0.crate", "idx/used-1.0.crate"]
        );
        assert_eq!(
            Units::parse("extracted", Some(src.clone())).unwrap(),
            Units::Extracted(Some(src))
        );
        assert_eq!(Units::parse("dirs:2", None).unwrap(), Units::Dirs(2));
        assert!(Units::parse("dirs:0", None).is_err() && Units::parse("lru", None).is_err());
    }

    /// The export reads the cache without marking it used: on a builder that keeps its caches
    /// and exports after every job, an export that refreshed every access time would keep
    /// everything forever.
    #[test]
    fn export_does_not_refresh_access_times() {
        let cache = tmp("ncache");
        put(&cache, "f", 3);
        // atime a day after mtime: relatime updates such an atime on a read (older than 24 h).
        touch(&cache.join("f"), ago(2), ago(3));
        let out = tmp("nout");
        export(
            &cache,
            &out.join("k"),
            &out.join("r.json"),
            &opts(Units::Files, None, None),
        )
        .unwrap();
        let a = cache
            .join("f")
            .symlink_metadata()
            .unwrap()
            .accessed()
            .unwrap();
        assert_eq!(
            secs(a),
            secs(ago(2)),
            "the export's read changed the access time"
        );
        // The check can fail on this filesystem: a plain read does update it.
        let _ = fs::read(cache.join("f")).unwrap();
        let a = cache
            .join("f")
            .symlink_metadata()
            .unwrap()
            .accessed()
            .unwrap();
        assert!(
            secs(a) > secs(ago(1)),
            "this filesystem does not record reads (noatime)"
        );
    }

    #[test]
    fn atimes_round_trip() {
        use std::os::unix::ffi::OsStrExt;
        let mut a = Atimes::default();
        a.0.insert(PathBuf::from("a/b c"), 5);
        a.0.insert(
            PathBuf::from(std::ffi::OsStr::from_bytes(b"odd\nname\xff")),
            7,
        );
        assert_eq!(Atimes::from_bytes(&a.to_bytes()), Some(a));
        assert_eq!(Atimes::from_bytes(b"something else"), None);
        assert_eq!(
            Atimes::from_bytes(b"hoard-atimes\t1\x005\t../escape\x00"),
            None
        );
        assert_eq!(Atimes::from_bytes(b"hoard-atimes\t1\x00x\tf\x00"), None);
    }

    #[test]
    fn export_reports_an_empty_cache_and_skips_over_limit() {
        let cache = tmp("ecache");
        let out = tmp("eout");
        let o = ExportOpts {
            id: "ns/x".into(),
            limit: 3,
            max_age: None,
            units: Units::Files,
            atimes: None,
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
