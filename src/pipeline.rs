//! A discovery job from input files to report: the stages wired in order.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDate;

use crate::cluster::{dbscan, kmeans, DbscanOptions, DbscanResult, KmeansOptions, KmeansResult};
use crate::error::{Error, Result};
use crate::features::{FeatureMatrix, FeatureTable, FitReport, Preparation};
use crate::job::{Job, Primary};
use crate::label::{self, Agreement, Labelling};
use crate::load::{self, DataQuality};
use crate::rules::{self, RuleResults};

pub const DEFAULT_SEED: u64 = 42;

pub struct RunOptions {
    pub output_root: PathBuf,
    pub as_of: Option<NaiveDate>,
    pub seed: Option<u64>,
    pub quiet: bool,
}

pub struct ReferenceAgreement {
    pub name: String,
    pub kmeans: Agreement,
    pub dbscan: Agreement,
}

/// Everything a run found; the report is written from it.
pub struct RunResult {
    pub job: Job,
    pub as_of: NaiveDate,
    pub seed: u64,
    pub quality: DataQuality,
    pub features: FeatureTable,
    pub preparation: Preparation,
    pub fit_report: FitReport,
    pub matrix: FeatureMatrix,
    pub rules: RuleResults,
    pub kmeans: KmeansResult,
    pub dbscan: DbscanResult,
    pub kmeans_labels: Labelling,
    pub dbscan_labels: Labelling,
    pub reference: Option<ReferenceAgreement>,
    /// Seconds per stage, in order.
    pub timings: Vec<(String, f64)>,
    pub warnings: Vec<String>,
}

impl RunResult {
    /// The exported `segment` of every customer, from the job's primary method.
    pub fn primary_segments(&self) -> Vec<String> {
        match self.job.primary {
            Primary::Kmeans => self
                .kmeans
                .labels
                .iter()
                .map(|c| label::cluster_name(Some(*c)))
                .collect(),
            Primary::Dbscan => self
                .dbscan
                .labels
                .iter()
                .map(|c| label::cluster_name(*c))
                .collect(),
        }
    }
}

struct Stopwatch {
    quiet: bool,
    start: Instant,
    timings: Vec<(String, f64)>,
}

impl Stopwatch {
    fn lap(&mut self, stage: &str, detail: String) {
        let seconds = self.start.elapsed().as_secs_f64();
        if !self.quiet {
            eprintln!("  {stage:<10} {seconds:>7.2} s  {detail}");
        }
        self.timings.push((stage.to_string(), seconds));
        self.start = Instant::now();
    }
}

/// Runs every stage and writes the report; returns the result and the report folder.
pub fn run(job: &Job, options: &RunOptions) -> Result<(RunResult, PathBuf)> {
    let result = analyse(job, options)?;
    let folder = crate::report::write(&result, &options.output_root)?;
    Ok((result, folder))
}

pub fn analyse(job: &Job, options: &RunOptions) -> Result<RunResult> {
    let mut clock = Stopwatch {
        quiet: options.quiet,
        start: Instant::now(),
        timings: Vec::new(),
    };
    let seed = options.seed.or(job.seed).unwrap_or(DEFAULT_SEED);
    let inputs = load::load(job)?;
    let rows: usize = inputs.quality.rows_read.values().sum();
    clock.lap(
        "load",
        format!("{rows} rows from {} files", inputs.quality.files.len()),
    );

    let as_of = resolve_as_of(job, options, &inputs)?;
    let features = crate::features::build(&inputs, as_of, &job.features)?;
    if features.is_empty() {
        return Err(Error::Data("the inputs hold no customers".into()));
    }
    let (preparation, fit_report) = Preparation::fit(&features, &job.features)?;
    let matrix = preparation.transform(&features)?;
    clock.lap(
        "features",
        format!(
            "{} customers × {} features (as of {as_of})",
            matrix.matrix.nrows(),
            matrix.matrix.ncols()
        ),
    );

    let rules = rules::apply(&features, &job.rules, &job.base_dir)?;
    clock.lap("rules", format!("{} rule sets", rules.sets.len()));

    let x = matrix.matrix.view();
    let kmeans = kmeans::discover(
        x,
        &KmeansOptions {
            fixed_k: job.discovery.k.fixed("k")?,
            k_range: job.discovery.k_range,
            n_runs: job.discovery.n_runs,
            silhouette_sample: job.discovery.silhouette_sample,
            seed,
        },
    )?;
    clock.lap("k-means", format!("k = {} — {}", kmeans.k, kmeans.reason));
    let dbscan = dbscan::discover(
        x,
        &DbscanOptions {
            min_points: job.discovery.dbscan_min_points,
            eps: job.discovery.dbscan_eps.fixed("dbscan_eps")?,
            sample: job.discovery.dbscan_sample,
            silhouette_sample: job.discovery.silhouette_sample,
            seed,
        },
    )?;
    clock.lap(
        "dbscan",
        format!(
            "eps {:.3}, {} clusters, {} outliers",
            dbscan.eps, dbscan.clusters, dbscan.noise
        ),
    );

    let kmeans_assignment: Vec<Option<usize>> = kmeans.labels.iter().map(|c| Some(*c)).collect();
    let kmeans_labels = label::label(&features, &rules, &kmeans_assignment);
    let dbscan_labels = label::label(&features, &rules, &dbscan.labels);
    let reference = reference_agreement(
        job,
        &features.customer_ids,
        &kmeans_assignment,
        &dbscan.labels,
    )?;
    clock.lap(
        "label",
        format!("ARI vs RFM groups {:.3}", kmeans_labels.agreement.ari),
    );

    let mut warnings = features.notes.clone();
    warnings.extend(fit_report.warnings.iter().cloned());
    warnings.extend(rules.warnings.iter().cloned());
    warnings.extend(kmeans.warnings.iter().cloned());
    warnings.extend(dbscan.warnings.iter().cloned());
    Ok(RunResult {
        job: job.clone(),
        as_of,
        seed,
        quality: inputs.quality,
        features,
        preparation,
        fit_report,
        matrix,
        rules,
        kmeans,
        dbscan,
        kmeans_labels,
        dbscan_labels,
        reference,
        timings: clock.timings,
        warnings,
    })
}

pub(crate) fn resolve_as_of(
    job: &Job,
    options: &RunOptions,
    inputs: &load::Inputs,
) -> Result<NaiveDate> {
    let from_job = job.as_of_date().map_err(|message| Error::Job {
        path: job.base_dir.clone(),
        message,
    })?;
    if let Some(date) = options.as_of.or(from_job) {
        return Ok(date);
    }
    // A pre-aggregated table carries its own recency; its as-of date only names the report.
    Ok(crate::features::default_as_of(inputs).unwrap_or_else(|| chrono::Local::now().date_naive()))
}

fn reference_agreement(
    job: &Job,
    ids: &[String],
    kmeans: &[Option<usize>],
    dbscan: &[Option<usize>],
) -> Result<Option<ReferenceAgreement>> {
    let Some(map) = load::load_reference(job)? else {
        return Ok(None);
    };
    let truth: Vec<String> = ids
        .iter()
        .map(|id| {
            map.get(id)
                .cloned()
                .unwrap_or_else(|| "(not in reference)".into())
        })
        .collect();
    let name = job
        .inputs
        .reference
        .as_ref()
        .map(|r| r.path.clone())
        .unwrap_or_default();
    Ok(Some(ReferenceAgreement {
        name,
        kmeans: label::agreement(kmeans, &truth),
        dbscan: label::agreement(dbscan, &truth),
    }))
}

/// The folder a run of `job` as of `as_of` writes to under `output_root`.
pub fn report_folder(output_root: &Path, job: &Job, as_of: NaiveDate) -> PathBuf {
    output_root.join(&job.name).join(as_of.to_string())
}
