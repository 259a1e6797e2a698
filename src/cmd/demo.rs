//! `segmenta demo`: the whole pipeline on the bundled data set in data/.

use std::path::{Path, PathBuf};

use segmenta::{Error, RunOptions};

use super::Global;

/// Run the whole pipeline on the bundled data set in data/.
///
/// Example: segmenta demo --output reports
#[derive(clap::Args)]
pub struct Args {
    /// Root folder of the reports; the report goes to <DIR>/<job>/<as-of>/.
    #[arg(long, default_value = "reports")]
    output: PathBuf,
}

pub fn execute(args: &Args, global: &Global) -> segmenta::Result<()> {
    let options = RunOptions {
        output_root: args.output.clone(),
        quiet: global.quiet,
        ..RunOptions::default()
    };
    super::run::run_job(&demo_job()?, options)
}

/// The demo job shipped in data/, found beside the working directory or the source tree.
fn demo_job() -> segmenta::Result<PathBuf> {
    let candidates = [
        PathBuf::from("data/demo.toml"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo.toml"),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            Error::usage(
                "the bundled demo job data/demo.toml was not found; run from the segmenta folder",
            )
        })
}
