//! A discovery job from input files to everything it found: the stages wired in order, then
//! the drift since the baseline model and who moved since the previous run. The report is
//! written from the [`RunResult`] (`crate::run` does both).

mod check;
pub mod fit_sample;
pub mod invariants;
mod migrations;
mod result;
mod stopwatch;

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::cluster::{
    dbscan, gmm, kmeans, DbscanOptions, DbscanResult, GmmOptions, GmmResult, KmeansOptions,
    KmeansResult,
};
use crate::compare::Comparison;
use crate::error::{Error, JobError, Result};
use crate::features::{FeatureMatrix, FeatureTable, FitReport, Preparation};
use crate::job::{Job, LifetimeOptions, Primary};
use crate::label;
use crate::layout;
use crate::lifetime::{self, Lifetime};
use crate::load::{self, DataQuality};
use crate::model::{self, DriftSince};
use crate::rules::{self, RuleResults};

pub use check::{check, CheckReport};
pub use fit_sample::FitSample;
use fit_sample::Fitted;
pub use result::{ReferenceAgreement, RunResult};
pub use stopwatch::Stopwatch;

pub const DEFAULT_SEED: u64 = 42;

/// What the command line adds to a job: where reports go, the as-of date and seed that override
/// the job's, and the model to measure drift against.
pub struct RunOptions {
    pub output_root: PathBuf,
    pub as_of: Option<NaiveDate>,
    pub seed: Option<u64>,
    pub quiet: bool,
    /// A model.json to measure this run's drift against; by default the model of the job's
    /// latest earlier run under `output_root`, when there is one.
    pub baseline_model: Option<PathBuf>,
}

/// The command line's options when no flag is given: reports under `reports`, the job's as-of
/// date and seed (else the day after the latest transaction, and 42), the model of the job's
/// latest earlier run as the drift baseline, progress printed.
impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            output_root: PathBuf::from("reports"),
            as_of: None,
            seed: None,
            quiet: false,
            baseline_model: None,
        }
    }
}

/// Every stage of `job`, in order, and what the run found.
pub fn analyse(job: &Job, options: &RunOptions) -> Result<RunResult> {
    let mut clock = Stopwatch::new(options.quiet);
    let described = describe(job, options, &mut clock)?;
    let rules = apply_rules(job, &described.features, &mut clock)?;
    let seed = options.seed.or(job.seed).unwrap_or(DEFAULT_SEED);
    let (discovery, matrix) = discover(job, &described.features, seed, &mut clock)?;
    conclude(job, options, described, rules, discovery, matrix, clock)
}

/// The load and features stages' result: one row per customer in original units.
pub struct Described {
    pub as_of: NaiveDate,
    pub quality: DataQuality,
    pub features: FeatureTable,
    /// The job's lifetime model, when it has one and the data could support it.
    pub lifetime: Option<Lifetime>,
}

/// The cluster stage's result: the fitted preparation and what every method found.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Discovery {
    pub seed: u64,
    pub preparation: Preparation,
    pub fit_report: FitReport,
    pub kmeans: KmeansResult,
    /// None unless the job runs DBSCAN ([`Job::runs_dbscan`]).
    #[serde(default)]
    pub dbscan: Option<DbscanResult>,
    pub gmm: Option<GmmResult>,
    /// What the run should know about discovery beyond each method's own warnings (a mixture
    /// left out).
    pub warnings: Vec<String>,
    /// When the customers were more than `[discovery] fit_sample`: how many everything was
    /// fitted on (the labels above are still every customer's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_sample: Option<FitSample>,
}

/// Stages load and features: the inputs read and aggregated per customer as of the run's date.
pub fn describe(job: &Job, options: &RunOptions, clock: &mut Stopwatch) -> Result<Described> {
    check_rules(job)?;
    if let Some(input) = &job.inputs.features {
        let as_of = crate::features::engine_as_of(options.as_of, job)?;
        let read = crate::features::engine_table::read(job, input, as_of)?;
        invariants::check_features(&read.expected, &read.table)?;
        clock.lap(
            "features",
            format!(
                "{} customers × {} features read from {}",
                read.table.len(),
                read.table.features.len(),
                input.path
            ),
        );
        let mut quality = read.quality;
        quality.expected = Some(read.expected);
        let mut features = read.table;
        if job.lifetime.is_some() {
            lifetime::not_fitted(
                &mut features,
                "the lifetime model was not fitted: it needs the transaction log, and [inputs.features] gives per-customer features only".to_string(),
                &job.features.include,
            );
        }
        clock.skip("lifetime");
        return Ok(Described {
            as_of,
            quality,
            features,
            lifetime: None,
        });
    }
    let inputs = load::load(job)?;
    let rows: usize = inputs.quality.rows_read.values().sum();
    clock.lap(
        "load",
        format!("{rows} rows from {} files", inputs.quality.files.len()),
    );
    let as_of = crate::features::resolve_as_of(options.as_of, job.as_of(), &inputs);
    let expected = load::ledger::Expected::of_inputs(&inputs, as_of)?;
    let mut features = crate::features::for_customers(&inputs, as_of, &job.features)?;
    invariants::check_features(&expected, &features)?;
    clock.lap(
        "features",
        format!(
            "{} customers × {} features (as of {as_of})",
            features.len(),
            features.features.len()
        ),
    );
    let lifetime = match &job.lifetime {
        Some(options) => fit_lifetime(&inputs, &mut features, options, job, clock)?,
        None => {
            clock.skip("lifetime");
            None
        }
    };
    let mut quality = inputs.quality;
    quality.expected = Some(expected);
    Ok(Described {
        as_of,
        quality,
        features,
        lifetime,
    })
}

/// Stage lifetime: the job's customer-base model fitted and its columns added to `features`.
fn fit_lifetime(
    inputs: &load::Inputs,
    features: &mut FeatureTable,
    options: &LifetimeOptions,
    job: &Job,
    clock: &mut Stopwatch,
) -> Result<Option<Lifetime>> {
    let fitted = lifetime::fit_on(inputs, features, options, &job.features.include)?;
    let Some(l) = &fitted else {
        clock.skip("lifetime");
        return Ok(None);
    };
    clock.lap("lifetime", l.headline());
    Ok(fitted)
}

/// The job's rules against the preset files, before any data is read; errors name the job file.
fn check_rules(job: &Job) -> Result<()> {
    rules::check_options(&job.rules, job.base_dir()).map_err(|e| match job.path() {
        Some(path) => Error::job(path, JobError::Rules(e.to_string())),
        None => e,
    })
}

/// Stage rules: every rule set of the job over the feature table.
pub fn apply_rules(
    job: &Job,
    features: &FeatureTable,
    clock: &mut Stopwatch,
) -> Result<RuleResults> {
    let rules = rules::apply(features, &job.rules, job.base_dir())?;
    clock.lap("rules", format!("{} rule sets", rules.sets.len()));
    Ok(rules)
}

/// Stage cluster: the preparation fitted and applied, then k-means, DBSCAN and (when asked
/// for) the Gaussian mixture on the prepared matrix. Above `[discovery] fit_sample` customers
/// all of it is fitted on a seeded sample and every customer is then assigned
/// ([`fit_sample`]); the matrix returned is then the sample's.
pub fn discover(
    job: &Job,
    features: &FeatureTable,
    seed: u64,
    clock: &mut Stopwatch,
) -> Result<(Discovery, FeatureMatrix)> {
    let sample = FitSample::of(features.len(), job.discovery.fit_sample);
    let rows = sample.map(|s| s.rows(seed));
    let sampled = rows.as_ref().map(|rows| features.select_rows(rows));
    let fit_table = sampled.as_ref().unwrap_or(features);
    let (preparation, mut fit_report) = Preparation::fit(fit_table, &job.features)?;
    let matrix = preparation.transform(fit_table)?;
    drop(sampled);
    clock.lap(
        "prepare",
        format!(
            "{} customers × {} columns to cluster on{}",
            matrix.matrix.nrows(),
            matrix.matrix.ncols(),
            sample.map_or(String::new(), |s| format!(" ({})", s.describe()))
        ),
    );
    let x = matrix.matrix.view();
    let mut fitted = fit_methods(job, x, seed, clock)?;
    if let Some(rows) = &rows {
        // The imputed cells the report counts are every customer's, not only the sample's.
        fit_report.imputed = crate::features::imputed_cells(features, &preparation);
        fitted = fit_sample::assign_everyone(features, &preparation, x, rows, fitted, seed)?;
        clock.lap(
            "assign",
            format!(
                "{} customers assigned in batches of {}",
                features.len(),
                fit_sample::BATCH
            ),
        );
    }
    let discovery = Discovery {
        seed,
        preparation,
        fit_report,
        kmeans: fitted.kmeans,
        dbscan: fitted.dbscan,
        gmm: fitted.gmm,
        warnings: fitted.warnings,
        fit_sample: sample,
    };
    Ok((discovery, matrix))
}

/// The prepared matrix discovery was fitted on: every customer's, or the fit sample's. The
/// report's stage reads it again from the feature table instead of a saved copy.
pub fn fitted_matrix(discovery: &Discovery, features: &FeatureTable) -> Result<FeatureMatrix> {
    match discovery.fit_sample {
        Some(sample) => discovery
            .preparation
            .transform(&features.select_rows(&sample.rows(discovery.seed))),
        None => discovery.preparation.transform(features),
    }
}

/// k-means, DBSCAN and (when the job asks for it) the Gaussian mixture on `x`.
fn fit_methods(
    job: &Job,
    x: ndarray::ArrayView2<f64>,
    seed: u64,
    clock: &mut Stopwatch,
) -> Result<Fitted> {
    let kmeans = kmeans::discover(
        x,
        &KmeansOptions {
            fixed_k: job.discovery.k.fixed(),
            k_range: job.discovery.k_range,
            n_runs: job.discovery.n_runs,
            silhouette_sample: job.discovery.silhouette_sample,
            seed,
        },
    )?;
    clock.lap("k-means", format!("k = {} — {}", kmeans.k, kmeans.reason));
    log_k_scores(&kmeans);
    let dbscan = job
        .runs_dbscan()
        .then(|| fit_dbscan(job, x, seed, clock))
        .transpose()?;
    let mut warnings = Vec::new();
    let gmm = fit_mixture(job, x, seed, &mut warnings)?;
    if let Some(g) = &gmm {
        clock.lap(
            "gmm",
            format!(
                "k = {} — {} {:.0} % of customers belong with probability ≥ {}",
                g.k,
                g.reason,
                100.0 * (1.0 - g.uncertain_share),
                gmm::CONFIDENT
            ),
        );
    }
    Ok(Fitted {
        kmeans,
        dbscan,
        gmm,
        warnings,
    })
}

fn fit_dbscan(
    job: &Job,
    x: ndarray::ArrayView2<f64>,
    seed: u64,
    clock: &mut Stopwatch,
) -> Result<DbscanResult> {
    let dbscan = dbscan::discover(
        x,
        &DbscanOptions {
            min_points: job.discovery.dbscan_min_points,
            eps: job.discovery.dbscan_eps.fixed(),
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
    Ok(dbscan)
}

fn log_k_scores(kmeans: &KmeansResult) {
    for score in &kmeans.scores {
        let show = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
        log::debug!(
            "    k = {:>2}: silhouette {}, Calinski–Harabasz {}, Davies–Bouldin {}, inertia {:.1}, stability of final fits {} (seeds) / {} (bootstrap), restart agreement {}; restarts {:.2} s",
            score.k,
            show(score.silhouette),
            show(score.calinski_harabasz),
            show(score.davies_bouldin),
            score.inertia,
            show(score.stability),
            show(score.bootstrap_stability),
            show(score.restart_agreement),
            score.restart_seconds
        );
    }
}

/// Stages label and compare: every segmentation profiled against the rule segments, agreement
/// with the reference, drift since the baseline model and who moved since the previous run.
pub fn conclude(
    job: &Job,
    options: &RunOptions,
    described: Described,
    rules: RuleResults,
    discovery: Discovery,
    matrix: FeatureMatrix,
    mut clock: Stopwatch,
) -> Result<RunResult> {
    let Described {
        as_of,
        quality,
        features,
        lifetime,
    } = described;
    let Discovery {
        seed,
        preparation,
        fit_report,
        kmeans,
        dbscan,
        gmm,
        warnings: discovery_warnings,
        fit_sample,
    } = discovery;
    let matrix_rows = fit_sample.map(|s| s.rows(seed));
    let mut drift_warnings = Vec::new();
    let drift = drift_since_baseline(job, options, as_of, &features, &mut drift_warnings)?;
    let hard =
        |labels: &[usize]| -> Vec<Option<usize>> { labels.iter().map(|c| Some(*c)).collect() };
    let kmeans_assignment = hard(&kmeans.labels);
    let gmm_assignment = gmm.as_ref().map(|g| hard(&g.labels));
    let kmeans_labels = label::label(&features, &rules, &kmeans_assignment, &matrix.names);
    let dbscan_labels = dbscan
        .as_ref()
        .map(|d| label::label(&features, &rules, &d.labels, &matrix.names));
    let gmm_labels = gmm_assignment.as_ref().map(|a| {
        let mut labelling = label::label(&features, &rules, a, &matrix.names);
        for c in &mut labelling.clusters {
            c.name = label::component_name(c.id.unwrap_or_default());
        }
        labelling
    });
    let reference = reference_agreement(
        job,
        &features.customer_ids,
        &kmeans_assignment,
        dbscan.as_ref().map(|d| d.labels.as_slice()),
        gmm_assignment.as_deref(),
    )?;
    clock.lap(
        "label",
        match kmeans_labels.agreement {
            Some(a) => format!("ARI vs RFM groups {:.3}", a.ari),
            None => "no RFM groups to set the clusters against".to_string(),
        },
    );

    let matrix_labels: Vec<usize> = match &matrix_rows {
        Some(rows) => rows.iter().map(|&r| kmeans.labels[r]).collect(),
        None => kmeans.labels.clone(),
    };
    let drivers = label::drivers(&matrix, &preparation, &matrix_labels);
    let mut warnings = features.notes.clone();
    warnings.extend(fit_report.warnings.iter().cloned());
    warnings.extend(label::flat_groups(&drivers));
    warnings.extend(rules.warnings.iter().cloned());
    warnings.extend(kmeans.warnings.iter().cloned());
    warnings.extend(dbscan.iter().flat_map(|d| d.warnings.iter().cloned()));
    warnings.extend(drift_warnings);
    warnings.extend(discovery_warnings);
    warnings.extend(lifetime.iter().flat_map(|l| l.warnings.iter().cloned()));
    let mut result = RunResult {
        job: job.clone(),
        as_of,
        seed,
        quality,
        features,
        preparation,
        fit_report,
        matrix,
        fit_sample,
        matrix_rows,
        rules,
        kmeans,
        dbscan,
        gmm,
        kmeans_labels,
        drivers,
        dbscan_labels,
        gmm_labels,
        reference,
        drift,
        lifetime,
        migrations: None,
        timings: Vec::new(),
        warnings,
    };
    match migrations_since_previous(&result, options, &mut clock) {
        Ok(found) => result.migrations = found,
        Err(warning) => result.warnings.push(warning),
    }
    result.timings = clock.take_timings();
    Ok(result)
}

/// Who moved since the job's previous run under the output root; None without one. A previous
/// run that cannot be compared is a warning (the Err), not an error: this run is still good, as
/// with an unreadable previous model for drift.
fn migrations_since_previous(
    run: &RunResult,
    options: &RunOptions,
    clock: &mut Stopwatch,
) -> std::result::Result<Option<Comparison>, String> {
    let Some(previous) =
        layout::previous_run_folder(&options.output_root, &run.job.name, run.as_of)
    else {
        return Ok(None);
    };
    let folder = layout::report_folder(&options.output_root, &run.job.name, run.as_of);
    let c = migrations::since_run(&previous, run, &folder)
        .map_err(|e| format!("the previous run could not be compared with this one: {e}"))?;
    clock.lap(
        "compare",
        format!(
            "since {}: {} of {} returning customers changed segment, {} new, {} lost",
            c.previous.as_of,
            c.clusters.moved,
            c.customers_in_both,
            c.new_customers,
            c.lost_customers
        ),
    );
    Ok(Some(c))
}

/// The Gaussian mixture when the job asks for it. Its failure stops the run only when it is the
/// primary segmentation; otherwise it is a warning and the report leaves the mixture out.
fn fit_mixture(
    job: &Job,
    x: ndarray::ArrayView2<f64>,
    seed: u64,
    warnings: &mut Vec<String>,
) -> Result<Option<GmmResult>> {
    if !job.discovery.gmm {
        return Ok(None);
    }
    let options = GmmOptions {
        fixed_k: job.discovery.gmm_k.fixed(),
        k_range: job.discovery.k_range,
        n_runs: job.discovery.gmm_runs,
        sample: job.discovery.gmm_sample,
        reg_covar: job.discovery.gmm_reg_covar,
        seed,
    };
    match gmm::discover(x, &options) {
        Ok(result) => {
            warnings.extend(result.warnings.iter().cloned());
            Ok(Some(result))
        }
        Err(e) if job.primary != Primary::Gmm => {
            warnings.push(format!("Gaussian mixture left out: {e}"));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn reference_agreement(
    job: &Job,
    ids: &[String],
    kmeans: &[Option<usize>],
    dbscan: Option<&[Option<usize>]>,
    gmm: Option<&[Option<usize>]>,
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
        .and_then(|r| r.path.clone().or_else(|| r.query.clone()))
        .unwrap_or_default();
    Ok(Some(ReferenceAgreement {
        name,
        kmeans: label::agreement(kmeans, &truth),
        dbscan: dbscan.map(|d| label::agreement(d, &truth)),
        gmm: gmm.map(|g| label::agreement(g, &truth)),
    }))
}

/// Drift from the baseline model: the one named in the options (an error when it cannot be
/// read), else the job's latest earlier run (a warning when it cannot be read), else none.
fn drift_since_baseline(
    job: &Job,
    options: &RunOptions,
    as_of: NaiveDate,
    features: &FeatureTable,
    warnings: &mut Vec<String>,
) -> Result<Option<DriftSince>> {
    let found = match &options.baseline_model {
        Some(path) => Some(model::drift_since(path, features)?),
        None => match layout::previous_model(&options.output_root, &job.name, as_of) {
            None => None,
            Some(path) => match model::drift_since(&path, features) {
                Ok(drift) => Some(drift),
                Err(e) => {
                    warnings.push(format!(
                        "the previous run's model could not be used to measure drift: {e}"
                    ));
                    None
                }
            },
        },
    };
    if let Some(d) = &found {
        warnings.extend(
            d.drift
                .warnings
                .iter()
                .map(|w| format!("Since the model of {}: {w}", d.model_as_of)),
        );
    }
    Ok(found)
}
