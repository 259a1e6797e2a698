//! `segmenta run`: a discovery job from its job file to its report folder.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use segmenta::job::Job;
use segmenta::RunOptions;

use super::{print, Global};

/// Run a discovery job described by a TOML job file (see docs/job-file.md).
///
/// Example: segmenta run jobs/monthly.toml --as-of 2025-12-01 --seed 7
#[derive(clap::Args)]
pub struct Args {
    /// The job file.
    job: PathBuf,
    /// Root folder of the reports; the report goes to <DIR>/<job>/<as-of>/.
    #[arg(long, default_value = "reports")]
    output: PathBuf,
    /// Ignore transactions on or after this date (YYYY-MM-DD); default: the job's as_of, else
    /// the day after the latest transaction.
    #[arg(long)]
    as_of: Option<NaiveDate>,
    /// Seed for k-means, samples and DBSCAN; default: the job's seed, else 42.
    #[arg(long)]
    seed: Option<u64>,
    /// A model.json to measure the drift of this run's data against (report, "Drift");
    /// default: the model of the job's latest earlier run under the output folder.
    #[arg(long)]
    baseline: Option<PathBuf>,
}

pub fn execute(args: &Args, global: &Global) -> segmenta::Result<()> {
    let options = RunOptions {
        output_root: args.output.clone(),
        as_of: args.as_of,
        seed: args.seed,
        quiet: global.quiet,
        baseline_model: args.baseline.clone(),
    };
    run_job(&args.job, options)
}

pub(super) fn run_job(path: &Path, options: RunOptions) -> segmenta::Result<()> {
    let quiet = options.quiet;
    let job = Job::from_file(path)?;
    if !quiet {
        eprintln!("segmenta: job '{}' from {}", job.name, path.display());
    }
    let (result, folder) = segmenta::run(&job, &options)?;
    if !quiet {
        print::run(&result, &folder);
    }
    Ok(())
}
