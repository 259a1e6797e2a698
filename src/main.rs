//! The segmenta command line: parses arguments and hands them to the verb in `cmd/`.

mod cmd;

use std::process::ExitCode;

use clap::Parser;

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "segmenta",
    version,
    about = "Find customer segments in CRM exports: RFM and behaviour features, k-means and DBSCAN, labels against classic RFM groups, and a report."
)]
struct Cli {
    /// Print nothing but errors.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Also print each input file read and every k's scores.
    #[arg(long, short, global = true, conflicts_with = "quiet")]
    verbose: bool,
    #[command(subcommand)]
    command: cmd::Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    let global = cmd::Global { quiet: cli.quiet };
    match cli.command.execute(&global) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Stage figures go through `log` at info level: shown by default, hidden by --quiet, with
/// per-file and per-k details at debug level under --verbose. RUST_LOG overrides.
fn init_logging(cli: &Cli) {
    let level = if cli.quiet {
        log::LevelFilter::Error
    } else if cli.verbose {
        log::LevelFilter::Debug
    } else {
        log::LevelFilter::Info
    };
    // Dependencies (the SQL parser, polars) log at debug level too; --verbose is about ours.
    env_logger::Builder::new()
        .filter_level(level.min(log::LevelFilter::Info))
        .filter_module("segmenta", level)
        .parse_default_env()
        .format(|out, record| {
            use std::io::Write;
            writeln!(out, "{}", record.args())
        })
        .init();
}
