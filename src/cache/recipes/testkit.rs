//! Test helpers for every recipe file: the data invariants all recipes keep ([`check`], run by
//! each file's `data_invariants` test and over the whole registry below), readers for plans,
//! and a runner for PATH shims.
//!
//! Merged from the two kits the recipe files were first written with (`apt::check` and
//! `cargo::testkit`). Every rule either kit checked is kept; where the two disagreed, the
//! stricter rule that every current recipe satisfies was picked, and the comment at the rule
//! says so.

use std::collections::BTreeSet;

use crate::cache::planner::{shim_prelude, EnvChange, MountKind, Plan, SHIM_DIR};
use crate::cache::recipe::{CacheDir, Defeater, EnvTweak, Location, Recipe};
use crate::instructions::Sharing;

// ---- data invariants ----

/// The recipes that run as root only (system package managers). The cargo kit required
/// `!root_only` of language tools and the apt kit allowed it for system package managers: both
/// hold as "root_only exactly for these", so a new root-only recipe is a deliberate choice.
const SYSTEM: &[&str] = &["apt", "apk", "dnf", "zypper"];

/// Trees whose contents are the product (installed software, package databases, the usual app
/// dir): a cache mount on or under them would take it out of the image (apt kit).
const PRODUCT_TREES: &[&str] = &[
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib64",
    "/var/lib/dpkg",
    "/var/lib/apt",
    "/var/lib/rpm",
    "/lib/apk",
    "/opt/conda",
    "/app",
];

/// Cache directories that sit inside a product tree by the tool's own design, by exact path.
/// The apt kit only ever saw system paths; yarn classic's cache for root is
/// `/usr/local/share/.cache/yarn` (its home for root is `/usr/local/share`), and nothing else
/// under a product tree is allowed.
const CACHES_IN_PRODUCT_TREES: &[&str] = &["/usr/local/share/.cache/yarn"];

/// Path components that name a product wherever they are, in every location (apt kit).
const PRODUCT_PARTS: &[&str] = &[
    "site-packages",
    "dist-packages",
    ".venv",
    "venv",
    "virtualenvs",
    "envs",
    "bin",
    "node_modules",
];

/// Path components that name build or install output (cargo kit), in every location except a
/// hoard-owned `Redirect` path, which may be named anything (`/var/cache/hoard/cargo/target`,
/// `/var/cache/hoard/go/build`) because nothing but the redirected tool ever looks there.
const OUTPUT_PARTS: &[&str] = &[
    "node_modules",
    "vendor",
    "bin",
    ".venv",
    "venv",
    "target",
    "dist",
    "build",
];

/// A POSIX environment variable name. The apt kit required upper case, the cargo kit only "no
/// `=`"; npm and pnpm read lower-case `npm_config_*`, so the stricter rule they all satisfy
/// is a valid name.
fn is_var(v: &str) -> bool {
    let mut c = v.chars();
    c.next()
        .is_some_and(|f| f == '_' || f.is_ascii_alphabetic())
        && c.all(|x| x == '_' || x.is_ascii_alphanumeric())
}

/// Lower-case letters, digits and inner `-`, starting with a letter. (The apt kit allowed no
/// `-` in recipe names, the cargo kit did; `cargo-zigbuild` needs it.)
fn is_slug(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The directory a location names for root when nothing in the step overrides it.
pub fn default_path(l: &Location) -> String {
    match *l {
        Location::Fixed(p) => p.to_string(),
        Location::Redirect { path, .. } => path.to_string(),
        Location::UnderEnv { default, sub, .. } => {
            format!("{}/{sub}", default.replace("~/", "/root/"))
        }
        Location::Home(p) => format!("/root/{p}"),
    }
}

pub fn check_location(l: &Location) {
    match *l {
        Location::Fixed(_) => {}
        Location::Redirect { var, path } => {
            assert!(is_var(var), "{var}");
            assert!(
                path.starts_with("/var/cache/hoard/"),
                "{path}: redirects point at hoard-owned paths"
            );
        }
        Location::UnderEnv { var, default, sub } => {
            assert!(is_var(var), "{var}");
            assert!(
                default.starts_with('/') || default.starts_with("~/"),
                "{default}"
            );
            assert!(!default.ends_with('/'), "{default}");
            assert!(
                !sub.is_empty() && !sub.starts_with('/') && !sub.ends_with('/'),
                "{sub}"
            );
        }
        Location::Home(p) => assert!(
            !p.is_empty() && !p.starts_with('/') && !p.starts_with('~'),
            "{p}"
        ),
    }
    let p = default_path(l);
    assert!(
        p.starts_with('/') && p != "/" && !p.ends_with('/') && !p.contains("//"),
        "{p}"
    );
    let in_tree = PRODUCT_TREES
        .iter()
        .find(|t| p == **t || p.starts_with(&format!("{t}/")));
    assert!(
        in_tree.is_none() || CACHES_IN_PRODUCT_TREES.contains(&p.as_str()),
        "{p} is in the product tree {in_tree:?}"
    );
    for c in p.split('/') {
        assert!(
            !PRODUCT_PARTS.contains(&c),
            "{p} would hide a product directory ({c})"
        );
        if !matches!(l, Location::Redirect { .. }) {
            assert!(
                !OUTPUT_PARTS.contains(&c),
                "{p} would hide build or install output ({c})"
            );
        }
    }
}

/// Whether a trigger program pattern (`pip*`) covers the name `name` (`pip3.12`).
fn covers(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(stem) => name
            .strip_prefix(stem)
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.')),
        None => pattern == name,
    }
}

/// The invariants every recipe keeps.
pub fn check_recipe(r: &Recipe) {
    let name = r.name;
    assert!(is_slug(name), "{name}");
    assert!(!r.about.is_empty(), "{name}");
    assert_eq!(
        r.root_only,
        SYSTEM.contains(&name),
        "{name}: root_only is for system package managers only"
    );

    // Triggers.
    assert!(!r.triggers.is_empty(), "{name}: no triggers");
    for t in r.triggers {
        // The apt kit allowed a trigger with only a python module, the cargo kit required
        // programs; every trigger has programs.
        assert!(!t.programs.is_empty(), "{name}: trigger without programs");
        for p in t.programs {
            assert!(
                !p.is_empty() && !p.contains('/'),
                "{name}: program {p} must be a basename"
            );
            assert!(
                !p.trim_end_matches('*').contains('*'),
                "{name}: `*` only at the end of {p}"
            );
        }
        if let Some(m) = t.python_module {
            assert!(!m.is_empty() && !m.contains([' ', '/']), "{name}: {m}");
        }
        for o in t.options_with_value {
            assert!(o.starts_with('-'), "{name}: {o}");
        }
        for w in t.prefix {
            let word = w.strip_suffix("@*").unwrap_or(w);
            assert!(
                !word.is_empty() && !word.starts_with('-') && !word.contains(['*', '@']),
                "{name}: prefix {w}"
            );
        }
        for s in t.subcommands {
            assert!(
                !s.starts_with('-'),
                "{name}: subcommand {s} looks like an option"
            );
        }
        for path in t.runs_program {
            for w in *path {
                assert!(
                    !w.is_empty() && !w.starts_with('-'),
                    "{name}: runs_program {path:?}"
                );
            }
            if let Some(first) = path.first() {
                assert!(
                    t.subcommands.is_empty() || t.subcommands.contains(first),
                    "{name}: runs_program {path:?} can never match"
                );
            }
        }
    }
    for t in r.triggers {
        assert!(
            !t.only_wrapped || t.runs_wrapped.is_some(),
            "{name}: only_wrapped without runs_wrapped"
        );
        if let Some(tool) = t.runs_wrapped {
            assert!(
                super::WRAPPERS
                    .iter()
                    .any(|w| w.runs == tool && w.wrap.is_some()),
                "{name}: no cross wrapper replaces {tool}"
            );
        }
    }
    for t in r.mount_triggers {
        assert!(!t.dirs.is_empty() && !t.programs.is_empty(), "{name}");
        for d in t.dirs {
            assert!(d.starts_with("~/") || d.starts_with('/'), "{name}: {d}");
        }
    }
    for c in r.caches {
        for d in c.adopt {
            assert!(d.starts_with("~/") || d.starts_with('/'), "{name}: {d}");
        }
        assert!(
            c.adopt.is_empty() || matches!(c.location, Location::Redirect { .. }),
            "{name}: adopted directories need a variable to point at them"
        );
        if let Some(s) = c.stock {
            assert!(
                s.starts_with("~/") || s.starts_with('/') || s.starts_with('$'),
                "{name}: stock {s}"
            );
        }
    }
    for t in r.env_triggers {
        assert!(
            !t.vars.is_empty() && t.vars.iter().all(|v| is_var(v)),
            "{name}: {:?}",
            t.vars
        );
        assert!(!t.contains.is_empty() && !t.programs.is_empty(), "{name}");
    }

    // Caches (the apt kit required at least one; every recipe has one).
    assert!(!r.caches.is_empty(), "{name}: no caches");
    let mut kinds = BTreeSet::new();
    let mut paths = BTreeSet::new();
    let subs: Vec<&str> = r
        .triggers
        .iter()
        .flat_map(|t| t.subcommands.iter().copied())
        .collect();
    let any_sub = r.triggers.iter().any(|t| t.subcommands.is_empty());
    for c in r.caches {
        let CacheDir {
            kind,
            location,
            only_for,
            scope,
            ..
        } = c;
        assert!(is_slug(kind), "{name}: kind {kind}");
        assert!(kinds.insert(*kind), "{name}: kind {kind} twice");
        check_location(location);
        let p = default_path(location);
        assert!(paths.insert(p.clone()), "{name}: {p} twice");
        for s in *only_for {
            assert!(
                any_sub || subs.contains(s),
                "{name}: only_for {s} can never match"
            );
        }
        if r.root_only {
            assert!(
                matches!(location, Location::Fixed(_)),
                "{name}: system caches are fixed paths"
            );
            assert!(
                scope.platform && scope.distro,
                "{name}: system caches are per platform and distro"
            );
        }
    }
    for t in r.tmpfs {
        check_location(t);
    }

    // Environment, files, shims, flag edits, defeaters.
    for e in r.env {
        match *e {
            EnvTweak::Set(k, v) | EnvTweak::Default(k, v) => {
                assert!(is_var(k) && !v.is_empty(), "{name}: {e:?}")
            }
            EnvTweak::Unset(k) => assert!(is_var(k), "{name}: {k}"),
            EnvTweak::CachePath { var, kind } => {
                assert!(is_var(var), "{name}: {var}");
                assert!(
                    kinds.contains(kind),
                    "{name}: CachePath names no cache of kind {kind}"
                );
            }
        }
    }
    for f in r.files {
        assert!(
            f.target.starts_with('/') && !f.target.ends_with('/') && !f.target.contains("//"),
            "{name}: {}",
            f.target
        );
    }
    let programs: Vec<&str> = r
        .triggers
        .iter()
        .flat_map(|t| t.programs.iter().copied())
        .collect();
    let mut shims = BTreeSet::new();
    for s in r.shims {
        assert!(
            !s.name.is_empty() && !s.name.contains('/'),
            "{name}: shim {}",
            s.name
        );
        assert!(shims.insert(s.name), "{name}: shim {} twice", s.name);
        assert!(
            programs.iter().any(|p| covers(p, s.name)),
            "{name}: shim {} for a program it does not trigger on",
            s.name
        );
        check_shim(s.name, s.script);
    }
    for f in r.flag_edits {
        assert!(f.flag.starts_with('-'), "{name}: {}", f.flag);
        if let Some(x) = f.replace {
            assert!(x.starts_with('-'), "{name}: {x}");
        }
    }
    for d in r.defeaters {
        match d {
            Defeater::Command { program, .. } => assert!(
                !program.is_empty() && !program.contains('/'),
                "{name}: {program}"
            ),
            Defeater::Env(v) => assert!(is_var(v), "{name}: {v}"),
        }
    }
}

/// A shim body: its text, then the real thing under /bin/sh.
///
/// The cargo kit checked for the literal `hoard_real NAME "$@"` and the apt kit for a last line
/// `exit $?`. apk's shim (`hoard_real apk --update-cache "$@"`) fails the first and cargo's
/// (which copies artifacts after a successful build and ends in `exit 0`) the second, so both
/// are checked by running every shim instead, which is stricter: with a fake tool first on
/// PATH the tool must receive every argument verbatim and in order (after whatever the shim
/// adds in front), and the shim must exit with the tool's status.
fn check_shim(name: &str, script: &str) {
    // The planner prepends `#!/bin/sh` and the `hoard_real` function (cargo kit).
    assert!(
        !script.starts_with("#!"),
        "{name}: shim bodies carry no shebang"
    );
    assert!(
        script.contains(&format!("hoard_real {name} ")),
        "{name}: runs the real tool through hoard_real"
    );
    let last = script
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    assert!(
        last.trim_start().starts_with("exit "),
        "{name}: the last line is an exit, not {last:?}"
    );
    let args = ["--hoard-probe", "a b", "*", "$HOME", "it's"];
    let (status, out) = run_shim_with(script, name, "printf '%s\\n' \"$@\"\nexit 3\n", &args, &[]);
    assert_eq!(
        status,
        Some(3),
        "{name}: the shim must exit with the tool's status"
    );
    let got: Vec<&str> = out.lines().collect();
    assert!(
        got.ends_with(&args),
        "{name}: the tool got {got:?}, not every argument verbatim"
    );
}

/// The invariants of one recipe file's table, plus unique names.
pub fn check(recipes: &[Recipe]) {
    assert!(!recipes.is_empty());
    let mut names = BTreeSet::new();
    for r in recipes {
        assert!(names.insert(r.name), "duplicate recipe {}", r.name);
        check_recipe(r);
    }
}

/// Every cache of these recipes uses `sharing` (the apt kit's per-group rule, kept for the
/// recipe files that use one mode throughout).
pub fn assert_sharing(recipes: &[Recipe], sharing: Sharing) {
    for r in recipes {
        for c in r.caches {
            assert_eq!(c.sharing, sharing, "{}: {}", r.name, c.kind);
        }
    }
}

/// The cache of the given kind.
pub fn cache<'a>(r: &'a Recipe, kind: &str) -> &'a CacheDir {
    r.caches
        .iter()
        .find(|c| c.kind == kind)
        .unwrap_or_else(|| panic!("{}: no {kind}", r.name))
}

// ---- reading plans ----

/// The cache mounts a recipe contributed: (target, id, sharing, uid).
pub fn mounts(p: &Plan, recipe: &str) -> Vec<(String, String, Sharing, u32)> {
    p.mounts
        .iter()
        .filter(|m| m.recipe == recipe)
        .filter_map(|m| match &m.kind {
            MountKind::Cache {
                id, sharing, uid, ..
            } => Some((m.target.clone(), id.clone(), *sharing, *uid)),
            _ => None,
        })
        .collect()
}

/// The cache mount at `target`, as (id, sharing); panics with the plan when absent.
pub fn mount_at(p: &Plan, target: &str) -> (String, Sharing) {
    for m in &p.mounts {
        if m.target == target {
            if let MountKind::Cache { id, sharing, .. } = &m.kind {
                return (id.clone(), *sharing);
            }
        }
    }
    panic!("no cache mount at {target} in {p:#?}")
}

pub fn detected(p: &Plan, tool: &str) -> bool {
    p.tools.iter().any(|d| d.tool == tool)
}

/// The value the plan sets `var` to.
pub fn set(p: &Plan, var: &str) -> Option<String> {
    p.env.iter().find_map(|e| match e {
        EnvChange::Set(k, v) if k == var => Some(v.clone()),
        _ => None,
    })
}

pub fn unsets(p: &Plan, var: &str) -> bool {
    p.env.contains(&EnvChange::Unset(var.to_string()))
}

/// The content of the file mounted at `target` (configuration files, shims).
pub fn file(p: &Plan, target: &str) -> Option<String> {
    p.mounts.iter().find_map(|m| match &m.kind {
        MountKind::File { content, .. } if m.target == target => Some(content.clone()),
        _ => None,
    })
}

// ---- running shims ----

/// Run a shim body the way the step would (the planner's prelude plus the script, under
/// /bin/sh) with a fake `name` whose script body is `fake` first on PATH after the shim dir,
/// in an environment holding only PATH and `env`. Returns the exit status and what was printed
/// on stdout.
pub fn run_shim_with(
    script: &str,
    name: &str,
    fake: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Option<i32>, String) {
    run_shim_with_tools(script, &[(name, &format!("#!/bin/sh\n{fake}"))], args, env)
}

/// [`run_shim_with`] several fake tools, each given as its whole file (`#!` line included);
/// `{bin}` in a file stands for the directory the fakes are in.
pub fn run_shim_with_tools(
    script: &str,
    tools: &[(&str, &str)],
    args: &[&str],
    env: &[(&str, &str)],
) -> (Option<i32>, String) {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "hoard-recipe-shim-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        tools.first().map_or("none", |t| t.0)
    ));
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for (name, text) in tools {
        let tool = bin.join(name);
        std::fs::write(&tool, text.replace("{bin}", &bin.display().to_string())).unwrap();
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let shim = dir.join("shim");
    std::fs::write(&shim, format!("{}{script}", shim_prelude())).unwrap();
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.arg(&shim).args(args).env_clear().env(
        "PATH",
        format!("{SHIM_DIR}:{}:/usr/bin:/bin", bin.display()),
    );
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    std::fs::remove_dir_all(&dir).ok();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).trim_end().to_string(),
    )
}

/// [`run_shim_with`] a fake tool that prints its arguments space-separated and exits 3;
/// asserts the shim passes that status through and returns the printed line.
pub fn run_shim(script: &str, name: &str, args: &[&str]) -> String {
    let (status, out) = run_shim_with(script, name, "echo \"$@\"\nexit 3\n", args, &[]);
    assert_eq!(status, Some(3), "shim must pass the tool's status through");
    out
}

// ---- the whole registry ----

mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::cache::recipes;

    #[test]
    fn every_registered_recipe_keeps_the_invariants() {
        let mut names = BTreeSet::new();
        for r in recipes::all() {
            assert!(names.insert(r.name), "two recipes named {}", r.name);
            check_recipe(r);
            assert!(recipes::by_name(r.name).is_some_and(|x| std::ptr::eq(x, r)));
        }
        for s in SYSTEM {
            assert!(
                names.contains(s),
                "{s} is listed as a system package manager but not registered"
            );
        }
    }

    /// Two recipes that mount at the same place (pipenv and pip share pip's cache path; the
    /// planner keeps the first mount of a step) must agree on how it is shared.
    #[test]
    fn one_sharing_mode_per_path_across_recipes() {
        let mut seen: BTreeMap<String, (&str, Sharing)> = BTreeMap::new();
        for r in recipes::all() {
            for c in r.caches {
                let p = default_path(&c.location);
                if let Some((other, sharing)) = seen.get(&p) {
                    assert_eq!(
                        *sharing, c.sharing,
                        "{p}: {other} and {} disagree on sharing",
                        r.name
                    );
                } else {
                    seen.insert(p, (r.name, c.sharing));
                }
            }
        }
    }

    #[test]
    fn the_kit_rejects_what_it_should() {
        assert!(
            is_var("npm_config_cache")
                && is_var("PIP_CACHE_DIR")
                && !is_var("A=B")
                && !is_var("1X")
                && !is_var("")
        );
        assert!(
            is_slug("cargo-zigbuild")
                && !is_slug("Pip")
                && !is_slug("-x")
                && !is_slug("x-")
                && !is_slug("")
        );
        for bad in [
            Location::Fixed("/usr/local/lib/python3/site-packages/x"),
            Location::Fixed("/usr/share/x"),
            Location::Home("app/node_modules"),
            Location::UnderEnv {
                var: "X",
                default: "~/.cargo",
                sub: "bin",
            },
            Location::Home(".local/target"),
            Location::Redirect {
                var: "X",
                path: "/tmp/x",
            },
            Location::Redirect {
                var: "X",
                path: "/var/cache/hoard/x/bin",
            },
        ] {
            assert!(
                std::panic::catch_unwind(|| check_location(&bad)).is_err(),
                "{bad:?}"
            );
        }
        check_location(&Location::Redirect {
            var: "X",
            path: "/var/cache/hoard/x/target",
        });
        check_location(&Location::Fixed("/usr/local/share/.cache/yarn"));
        assert!(covers("pip*", "pip3.12") && !covers("pip*", "pipx") && covers("apt", "apt"));
    }

    #[test]
    fn shim_runner_passes_arguments_and_status() {
        let (status, out) = run_shim_with(
            "hoard_real t \"$@\"\nexit $?\n",
            "t",
            "printf '%s|' \"$@\"\nexit 5\n",
            &["a b", "*"],
            &[],
        );
        assert_eq!((status, out.as_str()), (Some(5), "a b|*|"));
        let bad = std::panic::catch_unwind(|| check_shim("t", "hoard_real t \"$1\"\nexit $?\n"));
        assert!(
            bad.is_err(),
            "a shim that drops arguments must fail the check"
        );
        let bad = std::panic::catch_unwind(|| check_shim("t", "hoard_real t \"$@\"\nexit 0\n"));
        assert!(
            bad.is_err(),
            "a shim that hides the tool's status must fail the check"
        );
    }
}
