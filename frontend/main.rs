//! The `hoard` binary: the BuildKit frontend (`hoard frontend`, the image's entrypoint) and the
//! command-line tools (`hoard explain`, `hoard eject`).
//!
//! As a frontend, stdout is the gRPC wire to buildkitd: nothing here may print to it. When
//! started without arguments by buildkitd (detected by its `BUILDKIT_*` variables), the binary
//! behaves as `hoard frontend`, so the image can use a bare `ENTRYPOINT ["/hoard"]`.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "hoard", version, about = "A BuildKit Dockerfile frontend that adds package-manager cache mounts")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run as a BuildKit gateway frontend (talks gRPC over stdin/stdout).
    Frontend,
    /// Show which cache mounts hoard would add to a Dockerfile (not implemented yet).
    Explain {
        /// The Dockerfile to read.
        #[arg(default_value = "Dockerfile")]
        file: String,
    },
    /// Write a plain Dockerfile with hoard's cache mounts spelled out (not implemented yet).
    Eject {
        /// The Dockerfile to read.
        #[arg(default_value = "Dockerfile")]
        file: String,
    },
}

/// Run the frontend on a single-threaded runtime and exit right after `Return`: the build waits
/// for this process to exit.
fn run_frontend() -> ! {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
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
    if no_args && hoard::gateway::started_by_buildkit(std::env::vars_os().filter_map(|(k, _)| k.into_string().ok())) {
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
        Command::Explain { .. } => {
            eprintln!("hoard explain: not implemented");
            std::process::exit(2);
        }
        Command::Eject { .. } => {
            eprintln!("hoard eject: not implemented");
            std::process::exit(2);
        }
    }
}
