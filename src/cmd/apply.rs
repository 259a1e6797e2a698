//! `segmenta apply`: a saved model assigns new data, without refitting.

use std::path::PathBuf;

use chrono::NaiveDate;

use segmenta::job::Job;
use segmenta::model::SavedModel;

use super::{print, Global};

/// Assign the customers of a job's data with a saved model (a report's model.json), without
/// refitting, and measure how far the data drifted since the fit.
///
/// Example: segmenta apply reports/monthly/2025-11-01/model.json jobs/december.toml
#[derive(clap::Args)]
pub struct Args {
    /// The model.json of an earlier run.
    model: PathBuf,
    /// The job file naming the new data (its [discovery] and [rules] are not used).
    job: PathBuf,
    /// Root folder; the result goes to <DIR>/<job>/<as-of>-applied/.
    #[arg(long, default_value = "reports")]
    output: PathBuf,
    /// As for `run`.
    #[arg(long)]
    as_of: Option<NaiveDate>,
}

pub fn execute(args: &Args, global: &Global) -> segmenta::Result<()> {
    let model = SavedModel::load(&args.model)?;
    let job = Job::from_file(&args.job)?;
    let applied = segmenta::model::apply(&model, &job, args.as_of)?;
    let folder = segmenta::report::write_applied(&applied, &args.output)?;
    for warning in applied.drift.warnings.iter().chain(&applied.notes) {
        eprintln!("warning: {warning}");
    }
    if !global.quiet {
        let far = applied.far.iter().filter(|f| **f).count();
        println!(
            "{} customers assigned to the model's {} segments; {far} far from every centroid",
            applied.customer_ids.len(),
            model.kmeans.k
        );
        print::report(&folder);
    }
    Ok(())
}
