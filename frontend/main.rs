//! The `hoard` binary: the BuildKit frontend (`hoard frontend`, the image's entrypoint) and the
//! command-line tools (`hoard explain`, `hoard eject`).
//!
//! As a frontend, stdout is the gRPC wire to buildkitd: nothing here may print to it. When
//! started without arguments by buildkitd (detected by its `BUILDKIT_*` variables), the binary
//! behaves as `hoard frontend`, so the image can use a bare `ENTRYPOINT ["/hoard"]`.

mod cli;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "hoard",
    version,
    about = "A BuildKit Dockerfile frontend that adds package-manager cache mounts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run as a BuildKit gateway frontend (talks gRPC over stdin/stdout).
    Frontend,
    /// Show, per RUN, the tools hoard detects and the cache mounts, ids, env and edits it adds.
    Explain {
        #[command(flatten)]
        opts: OfflineArgs,
        /// Print JSON (one object with a `runs` array) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the Dockerfile with hoard's mounts written out, for the stock frontend.
    Eject {
        #[command(flatten)]
        opts: OfflineArgs,
    },
    /// Print every cache recipe (triggers, locations, sharing, ids) as Markdown.
    Recipes,
    /// (Inside a build) fill an empty cache mount from a seed and write the primer's marker.
    #[command(hide = true)]
    CachePrime {
        #[arg(long)]
        cache: std::path::PathBuf,
        #[arg(long)]
        seed: Option<std::path::PathBuf>,
        /// The seed's last-use index (may be missing: a cache image without one).
        #[arg(long)]
        atimes: Option<std::path::PathBuf>,
        #[arg(long)]
        marker: std::path::PathBuf,
        #[arg(long)]
        label: String,
    },
    /// (Inside a build) copy a cache mount into an export layer and report its size.
    #[command(hide = true)]
    CacheExport {
        #[arg(long)]
        cache: std::path::PathBuf,
        #[arg(long)]
        dst: std::path::PathBuf,
        #[arg(long)]
        report: std::path::PathBuf,
        #[arg(long)]
        id: String,
        #[arg(long)]
        limit: u64,
        /// Leave out entries unused for longer than this many seconds (0: keep all).
        #[arg(long, default_value_t = 0)]
        max_age: u64,
        /// The unit of aging: files, dirs:N, cargo-target, extracted (with --companion).
        #[arg(long, default_value = "files")]
        aging: String,
        /// For `--aging extracted`: the cache holding the extracted archives.
        #[arg(long)]
        companion: Option<std::path::PathBuf>,
        /// Where to write the last-use index of the exported files.
        #[arg(long)]
        atimes: Option<std::path::PathBuf>,
    },
    /// (Inside a build) report, per cache mount, whether it is empty.
    #[command(hide = true)]
    CacheProbe {
        #[arg(long)]
        out: std::path::PathBuf,
        dirs: Vec<std::path::PathBuf>,
    },
}

#[derive(clap::Args)]
struct OfflineArgs {
    /// The Dockerfile to read.
    #[arg(default_value = "Dockerfile")]
    file: String,
    /// A build argument, as for `docker buildx build` (repeatable).
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    build_args: Vec<String>,
    /// The stage to build.
    #[arg(long)]
    target: Option<String>,
    /// The target platform (default: this machine's).
    #[arg(long)]
    platform: Option<String>,
    /// Do not ask the local Docker engine for base image configs.
    #[arg(long)]
    no_docker: bool,
}

impl OfflineArgs {
    fn load(&self) -> (String, hoard::tools::offline::OfflineOpts) {
        let text = match std::fs::read_to_string(&self.file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("hoard: cannot read {}: {e}", self.file);
                std::process::exit(1);
            }
        };
        let build_args = self
            .build_args
            .iter()
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (kv.clone(), std::env::var(kv).unwrap_or_default()),
            })
            .collect();
        let opts = hoard::tools::offline::OfflineOpts {
            build_args,
            target: self.target.clone(),
            platform: self.platform.clone(),
            no_docker: self.no_docker,
        };
        (text, opts)
    }

    fn convert(&self) -> (String, hoard::tools::offline::Offline) {
        let (text, opts) = self.load();
        match hoard::tools::offline::plans(&text, &self.file, &opts) {
            Ok(off) => (text, off),
            Err(e) => {
                eprintln!("{}", e.render(&self.file));
                std::process::exit(1);
            }
        }
    }
}

/// Run the frontend on a single-threaded runtime and exit right after `Return`: the build waits
/// for this process to exit.
fn run_frontend() -> ! {
    hoard::gateway::trace::mark_start();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hoard: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = rt.block_on(hoard::gateway::frontend::run());
    std::process::exit(code);
}

fn main() {
    let no_args = std::env::args_os().len() <= 1;
    if no_args
        && hoard::gateway::started_by_buildkit(
            std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()),
        )
    {
        run_frontend();
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // clap prints help/version on stdout; that is fine only outside a build.
            e.exit();
        }
    };
    match cli.command {
        Command::Frontend => run_frontend(),
        Command::Explain { opts, json } => {
            let (text, off) = opts.convert();
            if json {
                let v = hoard::tools::explain::to_json(&opts.file, &off);
                cli::output(&serde_json::to_string_pretty(&v).expect("json"));
            } else {
                cli::output(&hoard::tools::explain::to_text(&opts.file, &text, &off));
            }
        }
        Command::Recipes => cli::output(&hoard::tools::recipes::markdown()),
        Command::CachePrime {
            cache,
            seed,
            atimes,
            marker,
            label,
        } => {
            if let Err(e) = hoard::tools::cachecopy::prime(
                &cache,
                seed.as_deref(),
                atimes.as_deref(),
                &marker,
                &label,
            ) {
                eprintln!("hoard: priming {label}: {e}");
                std::process::exit(1);
            }
        }
        Command::CacheExport {
            cache,
            dst,
            report,
            id,
            limit,
            max_age,
            aging,
            companion,
            atimes,
        } => {
            let units = match hoard::tools::cachecopy::Units::parse(&aging, companion) {
                Ok(u) => u,
                Err(e) => {
                    eprintln!("hoard: ERROR: {e}");
                    std::process::exit(1);
                }
            };
            let max_age = (max_age > 0).then(|| std::time::Duration::from_secs(max_age));
            let o = hoard::tools::cachecopy::ExportOpts {
                id,
                limit,
                max_age,
                units,
                atimes,
            };
            if let Err(e) = hoard::tools::cachecopy::export(&cache, &dst, &report, &o) {
                eprintln!("hoard: ERROR: {e}");
                std::process::exit(1);
            }
        }
        Command::CacheProbe { out, dirs } => {
            if let Err(e) = hoard::tools::cachecopy::probe(&out, &dirs) {
                eprintln!("hoard: probing caches: {e}");
                std::process::exit(1);
            }
        }
        Command::Eject { opts } => {
            let (text, off) = opts.convert();
            match hoard::tools::eject::eject(&text, &off) {
                Ok(out) => cli::output(&out),
                Err(e) => {
                    eprintln!("{}", e.render(&opts.file));
                    std::process::exit(1);
                }
            }
        }
    }
}
