//! The shape of a cache recipe: plain data describing, for one tool, how to recognise it in a
//! `RUN` and what an expert would mount and tweak for it. One ecosystem per file under
//! `recipes/`; the planner reads these tables and never names a tool itself.

use crate::instructions::Sharing;

/// One package manager or compiler cache.
#[derive(Debug)]
pub struct Recipe {
    /// Short stable name, used in cache ids, `explain` output and the dialect (`only=pip,apt`).
    pub name: &'static str,
    /// One line for `explain`.
    pub about: &'static str,
    /// Invocations that mean the step uses this tool.
    pub triggers: &'static [Trigger],
    /// Environment settings that mean a build tool of the step runs this one
    /// (`RUSTC_WRAPPER=sccache` with `cargo build`, `CC="ccache gcc"` with `make`).
    pub env_triggers: &'static [EnvTrigger],
    /// The step's own cache mounts that mean a build tool of the step runs this one (a cache
    /// at `~/.ccache` with `cmake --build`: the launcher is set where hoard cannot see it, in a
    /// CMake preset or a Makefile).
    pub mount_triggers: &'static [MountTrigger],
    /// Persistent cache mounts.
    pub caches: &'static [CacheDir],
    /// Scratch directories mounted as tmpfs (pure temporary data, never worth keeping).
    pub tmpfs: &'static [Location],
    /// Environment changes for this step only (never in the image config).
    pub env: &'static [EnvTweak],
    /// Files bind-mounted read-only into the step (tool configuration), never in the image.
    pub files: &'static [ConfFile],
    /// Executable wrappers put first on `PATH` for this step (e.g. to copy build products out of
    /// a cached directory right after the tool ran). Requires `/bin/sh` in the image.
    pub shims: &'static [Shim],
    /// Flags removed from (or replaced in) this tool's own invocations in a shell-form `RUN`,
    /// because they would disable the cache (`pip --no-cache-dir`, `apk --no-cache`).
    pub flag_edits: &'static [FlagEdit],
    /// Things in the same step that defeat the cache; reported by `explain`, never an error.
    pub defeaters: &'static [Defeater],
    /// System package managers: they run as root; as another user nothing is injected.
    pub root_only: bool,
}

impl Recipe {
    /// A recipe that detects nothing and adds nothing: recipes start from it with struct-update
    /// syntax (`..Recipe::NONE`) and spell out only what they add.
    pub const NONE: Recipe = Recipe {
        name: "",
        about: "",
        triggers: &[],
        env_triggers: &[],
        mount_triggers: &[],
        caches: &[],
        tmpfs: &[],
        env: &[],
        files: &[],
        shims: &[],
        flag_edits: &[],
        defeaters: &[],
        root_only: false,
    };
}

/// How a tool is invoked: `pip install`, `python3 -m pip install`, `/usr/bin/apt-get -y install`.
#[derive(Debug)]
pub struct Trigger {
    /// Program basenames (`pip`, `apt-get`). A trailing `*` allows a version suffix made of
    /// digits and dots (`pip*` matches `pip3` and `pip3.12`, not `pipx`).
    pub programs: &'static [&'static str],
    /// Module name for `python[3[.x]] -m <module>` invocations (`Some("pip")`).
    pub python_module: Option<&'static str>,
    /// Leading words after the program that select the tool (`uv pip install` has `["pip"]`).
    /// A word ending in `@*` also matches with a version spec attached: `yarn@*` matches `yarn`,
    /// `yarn@4.1.0` and `yarn@stable` (`corepack yarn@4.1.0 install`, `npx pnpm@8 install`).
    pub prefix: &'static [&'static str],
    /// Subcommands (first word after the program, its `prefix` and its global options) that
    /// use the cache. Empty: any invocation counts.
    pub subcommands: &'static [&'static str],
    /// Global options that take a separate value word, so the value is not read as the
    /// subcommand (`apt-get -o Foo=bar install`, `cargo +nightly build`'s `+x` needs none).
    pub options_with_value: &'static [&'static str],
    /// Where the tool starts another program: subcommand paths (from the subcommand position,
    /// options skipped in between) after which the next non-option word is a program the tool
    /// runs (`uv run pytest`: `&["run"]`); `&[]` means the first word at the subcommand
    /// position is already that program (`uvx ruff`). That program and its arguments are not
    /// the tool's words, so [`FlagEdit`]s never touch them (`uvx ruff check --no-cache` keeps
    /// ruff's flag). Words after `--` are never the tool's options either.
    pub runs_program: &'static [&'static [&'static str]],
    /// The program the trigger's programs run to do the work (`golangci-lint` and `make` run
    /// `go`): where a cross wrapper has replaced it, in the step or in an earlier step of the
    /// stage or its ancestors (`xx-go --wrap`), they work for the wrapper's target, and the
    /// ids of platform-specific caches follow that target.
    pub runs_wrapped: Option<&'static str>,
    /// Counts only where [`Trigger::runs_wrapped`] has been replaced by a cross wrapper: a
    /// `make` is a use of Go only after `xx-go --wrap` said that plain `go` builds follow.
    pub only_wrapped: bool,
}

impl Trigger {
    /// No program, no module, no restriction: triggers start from it (`..Trigger::NONE`).
    pub const NONE: Trigger = Trigger {
        programs: &[],
        python_module: None,
        prefix: &[],
        subcommands: &[],
        options_with_value: &[],
        runs_program: &[],
        runs_wrapped: None,
        only_wrapped: false,
    };
}

/// A tool switched on through a variable rather than named on the command line.
#[derive(Debug)]
pub struct EnvTrigger {
    /// The variables, any of which may switch it on (`RUSTC_WRAPPER`, `CC`,
    /// `CMAKE_C_COMPILER_LAUNCHER`).
    pub vars: &'static [&'static str],
    /// What the value must contain (`sccache`, `/ccache`). When it starts with a letter or
    /// digit it must start a word of the value (not follow a letter, digit or `_`), so `ccache`
    /// is not found in `sccache`.
    pub contains: &'static str,
    /// Programs (basenames) whose invocation in the step then counts (`cargo`, `make`).
    pub programs: &'static [&'static str],
}

/// A cache mount of the step's own that means one of `programs` runs the tool.
#[derive(Debug)]
pub struct MountTrigger {
    /// Where the tool looks by default (`~/` is the step user's home).
    pub dirs: &'static [&'static str],
    /// Programs (basenames) whose invocation in the step then counts (`cmake`, `make`).
    pub programs: &'static [&'static str],
}

/// A persistent cache directory.
#[derive(Debug)]
pub struct CacheDir {
    /// Id component naming what is cached (`wheels`, `archives`, `registry-index`).
    pub kind: &'static str,
    pub location: Location,
    /// Where the tool keeps this without hoard (`/var/lib/apt/lists`), when hoard mounts it
    /// elsewhere: a step that mounts that directory as a cache itself keeps its own cache, and
    /// hoard adds none of this kind (nor the [`ConfFile::per_cache`] lines pointing at it).
    /// `~/` is the user's home, a leading `$VAR` that variable (no stock directory while it is
    /// unset); with a [`Location::Redirect`], only while the redirected variable is unset.
    pub stock: Option<&'static str>,
    /// Other directories the tool uses without hoard in some versions or set-ups only
    /// (`~/.cache/ccache`): a step's own cache mount there becomes this cache, and the
    /// [`Location::Redirect`] variable is pointed at it (when unset) so every version uses it.
    pub adopt: &'static [&'static str],
    pub sharing: Sharing,
    /// What goes into the cache id besides `hoard/<recipe>/<kind>`.
    pub scope: Scope,
    /// Only for these subcommands (empty: whenever the recipe triggers). Cargo's `target/`
    /// is cached for `build`, not for `fetch`.
    pub only_for: &'static [&'static str],
    /// What an export leaves out as a whole when it was not used within the age limit
    /// (`HOARD_CACHE_EXPORT_MAX_AGE`).
    pub aging: Aging,
}

impl CacheDir {
    /// The optional parts of a cache directory (no stock directory, every subcommand); a
    /// `CacheDir` names its kind, location, sharing and scope and takes the rest from here
    /// (`..CacheDir::NONE`).
    pub const NONE: CacheDir = CacheDir {
        kind: "",
        location: Location::Fixed(""),
        stock: None,
        adopt: &[],
        sharing: Sharing::Shared,
        scope: Scope::NONE,
        only_for: &[],
        aging: Aging::Dirs(1),
    };
}

/// The unit in which an export ages a cache's entries out (`HOARD_CACHE_EXPORT_MAX_AGE`): a
/// unit is kept whole when any of its files was read within the age limit, and left out whole
/// otherwise. Tools need files they never read (cargo only stats a dependency's sources; a
/// package manager hard-links extracted files), so a unit is what the tool treats as one entry;
/// leaving out part of one can break the next build (`no targets specified in the manifest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aging {
    /// Each regular file on its own: caches of independent files (a `.deb`, an HTTP cache
    /// entry, a ccache object), where a missing file is only fetched or built again.
    Files,
    /// Each entry this many levels below the cache root, with everything under it (`Dirs(2)`:
    /// cargo's extracted crate `<index>/<crate>-<version>/`); files above that level on their
    /// own. `Dirs(1)`, the default, is safe for any layout that keeps one package per top-level
    /// entry, and ages nothing out of a cache with one top-level directory.
    Dirs(u8),
    /// cargo's `target/`: the files of one compilation unit share its metadata hash
    /// (`deps/lib<name>-<hash>.rlib` and `.rmeta`, `.fingerprint/<name>-<hash>/`,
    /// `build/<name>-<hash>/`; cargo reads the fingerprint but not every output it checks);
    /// other files on their own.
    CargoTarget,
    /// Downloaded archives `<dir>/<name>.<ext>`, each also in use while the same tool's cache
    /// of this kind (exported beside it) has `<dir>/<name>/` in use: cargo opens the `.crate`
    /// of an extracted crate without reading it, but downloads it again when it is missing.
    Extracted(&'static str),
}

impl Aging {
    /// How the export tool is told (`hoard cache-export --aging`); the `Extracted` cache comes
    /// as a mount of its own.
    pub fn spec(&self) -> String {
        match self {
            Aging::Files => "files".into(),
            Aging::Dirs(n) => format!("dirs:{n}"),
            Aging::CargoTarget => "cargo-target".into(),
            Aging::Extracted(_) => "extracted".into(),
        }
    }
}

/// Where a directory is, resolved against the step's environment, user and working dir.
#[derive(Debug, Clone, Copy)]
pub enum Location {
    /// A fixed absolute path (`/var/cache/apt`).
    Fixed(&'static str),
    /// Set `var` to `path` for this step and mount there; when the step's environment already
    /// sets `var`, mount at its value instead and leave it alone.
    Redirect {
        var: &'static str,
        path: &'static str,
    },
    /// `$var/sub`; when `var` is unset, `default/sub`, where a `default` starting with `~/` is
    /// relative to the user's home (`CARGO_HOME` defaults to `~/.cargo`).
    UnderEnv {
        var: &'static str,
        default: &'static str,
        sub: &'static str,
    },
    /// A path under the user's home (`~/.npm` is `Home(".npm")`).
    Home(&'static str),
}

/// Which parts go into a cache id.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope {
    /// The platform the step runs on (`linux-amd64`): for architecture-specific content.
    pub platform: bool,
    /// The base image the stage started from: for distro package caches (release-specific).
    pub distro: bool,
    /// The numeric uid: BuildKit keys uid-owned caches separately anyway; say so in the id.
    pub user: bool,
}

/// Same scopes, spelled as constants for readable tables.
impl Scope {
    pub const NONE: Scope = Scope {
        platform: false,
        distro: false,
        user: false,
    };
    pub const PLATFORM: Scope = Scope {
        platform: true,
        distro: false,
        user: false,
    };
    pub const PLATFORM_USER: Scope = Scope {
        platform: true,
        distro: false,
        user: true,
    };
    pub const USER: Scope = Scope {
        platform: false,
        distro: false,
        user: true,
    };
    pub const DISTRO_PLATFORM: Scope = Scope {
        platform: true,
        distro: true,
        user: false,
    };
}

#[derive(Debug, Clone, Copy)]
pub enum EnvTweak {
    /// Set for this step (overrides the image's value).
    Set(&'static str, &'static str),
    /// Set only when the step's environment does not set it.
    Default(&'static str, &'static str),
    /// Remove for this step (`PIP_NO_CACHE_DIR` disables pip's cache whatever its value).
    Unset(&'static str),
    /// Set to where this recipe's cache of the given kind is mounted, only when the step does
    /// not set the variable and that cache is mounted: a second spelling of a `Redirect`'s
    /// variable must follow the mount to wherever the user's value put it (pnpm 11 reads
    /// `pnpm_config_store_dir`, older pnpm `npm_config_store_dir`).
    CachePath {
        var: &'static str,
        kind: &'static str,
    },
}

/// A configuration file bind-mounted read-only at `target` for this step. Empty `content`
/// shadows an existing file (Debian's `/etc/apt/apt.conf.d/docker-clean`).
#[derive(Debug)]
pub struct ConfFile {
    pub target: &'static str,
    pub content: &'static str,
    /// Lines appended to `content` only when this recipe's cache of `kind` is hoard's mount
    /// (`Dir::State::Lists` points apt at hoard's lists cache; when the step mounts the stock
    /// directory as a cache itself, apt keeps using that one).
    pub per_cache: &'static [(&'static str, &'static str)],
}

/// A `PATH` wrapper named `name`. `script` is a POSIX sh script; it finds the real tool with
/// `hoard_real <name>` (a function the planner defines at its top) and must exit with the
/// tool's status.
#[derive(Debug)]
pub struct Shim {
    pub name: &'static str,
    pub script: &'static str,
}

/// Remove or replace a flag in this tool's invocations (shell form only).
#[derive(Debug)]
pub struct FlagEdit {
    pub flag: &'static str,
    /// `None` removes the flag; `Some(x)` replaces it with `x`.
    pub replace: Option<&'static str>,
}

/// Something in the same step that wipes or bypasses the cache.
#[derive(Debug)]
pub enum Defeater {
    /// A command: program basename and the words that must follow it (`apt-get clean`,
    /// `rm -rf /var/lib/apt/lists/*` is `("rm", &["/var/lib/apt/lists/*"])` matched anywhere).
    Command {
        program: &'static str,
        args: &'static [&'static str],
    },
    /// An environment variable that disables the cache when set.
    Env(&'static str),
}

/// A program that runs a tool for another platform than the one the step runs on: the
/// tonistiigi/xx wrappers (`xx-apk add`, `xx-go build`, `xx-cargo build`), which read the target
/// from `TARGETPLATFORM` (or `TARGETPAIR`, `TARGETOS`/`TARGETARCH`/`TARGETVARIANT`) and otherwise
/// build for the platform they run on.
#[derive(Debug)]
pub struct CrossWrapper {
    /// The wrapper's basename (`xx-apt-get`).
    pub program: &'static str,
    /// The tool it runs (`apt-get`): the recipes' triggers see this name.
    pub runs: &'static str,
    /// Words after which the wrapper only configures the step rather than running the tool
    /// (`xx-go --wrap`), so they are no use of the tool.
    pub config_only: &'static [&'static str],
    /// The word after which the wrapper replaces the tool's program for the rest of the stage
    /// (`xx-go --wrap`: every later plain `go`, also one run by `make`, builds for the target).
    pub wrap: Option<&'static str>,
    /// The word that undoes [`CrossWrapper::wrap`] (`xx-go --unwrap`).
    pub unwrap: Option<&'static str>,
    pub target: TargetCache,
}

/// Where a cross wrapper's target-platform content goes, for the tool's platform-scoped caches.
#[derive(Debug, Clone, Copy)]
pub enum TargetCache {
    /// In the tool's usual caches, keyed by the target inside (Go's build cache, cargo's
    /// `target/<triple>/`): their ids name the target platform instead of the exec platform.
    Ids,
    /// In the same cache as the exec platform's content, apart by name (`xx-apt` enables
    /// dpkg multiarch: `.deb`s and lists are named by architecture), and the cache is shared
    /// state with the stage's other steps running the tool (apt's lists): ids stay on the exec
    /// platform.
    Exec,
    /// In a subdirectory of the cache of `kind` that the wrapper names after the target
    /// (`xx-apk` links the target root's cache to `/etc/apk/cache/_<alpine arch>`): that
    /// subdirectory gets its own mount, with the target platform's id.
    Subdir {
        kind: &'static str,
        name: fn(&crate::image::Platform) -> Option<String>,
    },
}

/// An interpreter that may run a tool's script (`node .../npm-cli.js install`,
/// `php composer.phar install`): the script's basename is then the program the triggers see.
#[derive(Debug)]
pub struct Interpreter {
    /// Basenames; a trailing `*` allows a version suffix as in [`Trigger::programs`].
    pub programs: &'static [&'static str],
    /// The interpreter's options that take a separate value word.
    pub options_with_value: &'static [&'static str],
    /// Options after which no script follows (`node -e '...'`, `python -c`).
    pub inline_code: &'static [&'static str],
}
