//! `segmenta compare`: who moved between the segments of two runs.

use std::path::PathBuf;

use super::{print, Global};

/// Compare two runs of a job: who moved between segments, who is new and who was lost.
///
/// Counts previous segment × current segment for the discovered clusters (matched by the
/// customers the runs share, as cluster numbers differ between runs) and for every rule set
/// both runs have, and writes index.html (matrices and a flow chart), migrations.csv (one row
/// per customer) and compare.json.
///
/// Example: segmenta compare reports/monthly/2025-11-01 reports/monthly/2025-12-01
#[derive(clap::Args)]
pub struct Args {
    /// The earlier run's report folder (reports/<job>/<as-of>/).
    previous: PathBuf,
    /// The later run's report folder.
    current: PathBuf,
    /// Where to write: a new or empty folder, or an earlier comparison (the folder is
    /// replaced as a whole); default: beside the current report,
    /// <job folder>/<current as-of>-vs-<previous as-of>/.
    #[arg(long)]
    output: Option<PathBuf>,
}

pub fn execute(args: &Args, global: &Global) -> segmenta::Result<()> {
    let comparison = segmenta::compare::compare_folders(&args.previous, &args.current)?;
    let folder = args.output.clone().unwrap_or_else(|| {
        segmenta::layout::comparison_folder(
            &comparison.current.folder,
            &comparison.current.as_of,
            &comparison.previous.as_of,
        )
    });
    segmenta::report::write_comparison(&comparison, &folder)?;
    if !global.quiet {
        print::moves(&comparison);
        print::report(&folder);
    }
    Ok(())
}
