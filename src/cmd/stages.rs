//! `segmenta features | rules | cluster | report`: the pipeline one stage at a time, with a
//! Parquet file per customer in between, for analysts who script.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use segmenta::stages::{self, StageData};
use segmenta::RunOptions;

use super::{print, Global};

/// Stage 1 of 4 for scripts: read the job's inputs and write one row per customer (Parquet).
///
/// The file holds every feature in original units and the purchase facts (fact_recency_days,
/// fact_frequency, fact_monetary, fact_previous_gap_days); its 'segmenta' metadata carries the
/// job, the as-of date and the data-quality counts, so the next stages need no other file.
/// Filter rows with pyarrow or polars between stages if you like (pandas drops the metadata).
///
/// Example (the four stages write the same report as `segmenta run`):
///   segmenta features jobs/monthly.toml -o features.parquet --as-of 2025-12-01
///   segmenta rules features.parquet -o rules.parquet
///   segmenta cluster rules.parquet -o clusters.parquet --seed 7
///   segmenta report clusters.parquet --output reports
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct FeaturesArgs {
    /// The job file.
    job: PathBuf,
    /// The Parquet file to write.
    #[arg(long, short)]
    output: PathBuf,
    /// As for `run`.
    #[arg(long)]
    as_of: Option<NaiveDate>,
}

/// Stage 2 of 4 for scripts: add the R, F, M scores and every rule set's segment (Parquet).
///
/// Reads the output of `segmenta features` and adds r_score, f_score, m_score and one column
/// per rule set (rfm_group, lifecycle_stage, <name>_segment); the cut points and rule
/// definitions go into the file's 'segmenta' metadata.
///
/// Example: try other rules on the same features without reading the inputs again:
///   segmenta rules features.parquet -o rules.parquet --job jobs/other-rules.toml
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct RulesArgs {
    /// A file written by `segmenta features`.
    input: PathBuf,
    /// The Parquet file to write.
    #[arg(long, short)]
    output: PathBuf,
    /// Use this job file's settings for this stage and the later ones instead of the job the
    /// features were made with.
    #[arg(long)]
    job: Option<PathBuf>,
}

/// Stage 3 of 4 for scripts: fit the preparation, k-means, DBSCAN (and the mixture) (Parquet).
///
/// Reads the output of `segmenta rules` and adds kmeans_cluster (0 = largest),
/// dbscan_cluster (blank = outlier) and, when the job fits one, gmm_component with
/// gmm_probability_<j>; the fitted preparation and models go into the 'segmenta' metadata.
///
/// Example: another k on the same rules file:
///   segmenta cluster rules.parquet -o clusters-k5.parquet --job jobs/k5.toml --seed 7
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ClusterArgs {
    /// A file written by `segmenta rules`.
    input: PathBuf,
    /// The Parquet file to write.
    #[arg(long, short)]
    output: PathBuf,
    /// As for `rules`.
    #[arg(long)]
    job: Option<PathBuf>,
    /// As for `run`.
    #[arg(long)]
    seed: Option<u64>,
}

/// Stage 4 of 4 for scripts: label the clusters and write the report, as `run` does.
///
/// Reads the output of `segmenta cluster` and writes <DIR>/<job>/<as-of>/ (index.html,
/// charts, summary.json, model.json, assignments, run.log), comparing with the job's previous
/// run under DIR when there is one.
///
/// Example:
///   segmenta report clusters.parquet --output reports
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ReportArgs {
    /// A file written by `segmenta cluster`.
    input: PathBuf,
    /// Root folder of the reports; the report goes to <DIR>/<job>/<as-of>/.
    #[arg(long, default_value = "reports")]
    output: PathBuf,
    /// As for `run`.
    #[arg(long)]
    baseline: Option<PathBuf>,
}

pub fn features(args: &FeaturesArgs, global: &Global) -> segmenta::Result<()> {
    let options = RunOptions {
        as_of: args.as_of,
        quiet: global.quiet,
        ..RunOptions::default()
    };
    let data = stages::features(&args.job, &options)?;
    write(&data, &args.output, global)
}

pub fn rules(args: &RulesArgs, global: &Global) -> segmenta::Result<()> {
    let data = stages::read(&args.input)?.with_job(args.job.as_deref())?;
    let data = stages::rules(data, &args.input, global.quiet)?;
    write(&data, &args.output, global)
}

pub fn cluster(args: &ClusterArgs, global: &Global) -> segmenta::Result<()> {
    let data = stages::read(&args.input)?.with_job(args.job.as_deref())?;
    let data = stages::cluster(data, &args.input, args.seed, global.quiet)?;
    write(&data, &args.output, global)
}

pub fn report(args: &ReportArgs, global: &Global) -> segmenta::Result<()> {
    let options = RunOptions {
        output_root: args.output.clone(),
        baseline_model: args.baseline.clone(),
        quiet: global.quiet,
        ..RunOptions::default()
    };
    let (result, folder) = stages::report(stages::read(&args.input)?, &args.input, &options)?;
    if !global.quiet {
        print::run(&result, &folder);
    }
    Ok(())
}

fn write(data: &StageData, output: &Path, global: &Global) -> segmenta::Result<()> {
    stages::write(data, output)?;
    if !global.quiet {
        println!(
            "{} customers as of {} → {} (after {})",
            data.customers(),
            data.described.as_of,
            output.display(),
            data.stage().verb()
        );
    }
    Ok(())
}
