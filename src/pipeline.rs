//! A discovery job from input files to report: the stages wired in order.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use chrono::NaiveDate;

use crate::apply::{self, DriftSince};
use crate::cluster::{
    dbscan, gmm, kmeans, DbscanOptions, DbscanResult, GmmOptions, GmmResult, KmeansOptions,
    KmeansResult,
};
use crate::compare::{self, Comparison};
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

pub struct ReferenceAgreement {
    pub name: String,
    pub kmeans: Agreement,
    pub dbscan: Agreement,
    pub gmm: Option<Agreement>,
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
    /// The Gaussian mixture, when the job asks for it (`[discovery] gmm = true`).
    pub gmm: Option<GmmResult>,
    pub kmeans_labels: Labelling,
    /// What separates the k-means segments: R² of every clustered feature, largest first.
    pub drivers: Vec<label::Driver>,
    pub dbscan_labels: Labelling,
    pub gmm_labels: Option<Labelling>,
    pub reference: Option<ReferenceAgreement>,
    /// Drift from an earlier run's model (or the one named with `--baseline`).
    pub drift: Option<DriftSince>,
    /// Who moved since the job's previous run under the output root, when there is one.
    pub migrations: Option<Comparison>,
    /// Seconds per stage, in order.
    pub timings: Vec<(String, f64)>,
    pub warnings: Vec<String>,
}

impl RunResult {
    /// How closely the Gaussian mixture's components follow the k-means clusters.
    pub fn mixture_agreement_with_kmeans(&self) -> Option<Agreement> {
        let g = self.gmm.as_ref()?;
        let hard: Vec<Option<usize>> = g.labels.iter().map(|c| Some(*c)).collect();
        Some(label::agreement(&hard, &self.kmeans.labels))
    }

    /// The profiles of the job's primary segmentation.
    pub fn primary_labelling(&self) -> &Labelling {
        match self.job.primary {
            Primary::Kmeans => &self.kmeans_labels,
            Primary::Dbscan => &self.dbscan_labels,
            Primary::Gmm => self.gmm_labels.as_ref().unwrap_or(&self.kmeans_labels),
        }
    }

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
            // The job check makes sure the mixture ran when it is primary.
            Primary::Gmm => self
                .gmm
                .iter()
                .flat_map(|g| g.labels.iter().map(|c| label::component_name(*c)))
                .collect(),
        }
    }
}

/// The stages in run order, so the spinner can name the one that starts when one ends.
const STAGES: [&str; 9] = [
    "load", "features", "rules", "prepare", "k-means", "dbscan", "gmm", "label", "compare",
];

/// Times the stages, logs each one's figures, and shows a spinner naming the running stage on
/// stderr when it is a terminal (never in a pipe, a log file or `--quiet`).
pub struct Stopwatch {
    start: Instant,
    timings: Vec<(String, f64)>,
    spinner: ProgressBar,
}

impl Stopwatch {
    pub fn new(quiet: bool) -> Stopwatch {
        let spinner = if !quiet && std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        spinner.set_message(STAGES[0]);
        Stopwatch {
            start: Instant::now(),
            timings: Vec::new(),
            spinner,
        }
    }

    /// A stopwatch that goes on from the timings of earlier stages (a stage verb's input).
    pub fn resume(quiet: bool, first_stage: &str, timings: Vec<(String, f64)>) -> Stopwatch {
        let mut clock = Stopwatch::new(quiet);
        clock.spinner.set_message(first_stage.to_string());
        clock.timings = timings;
        clock
    }

    /// The seconds of every stage so far, in order.
    pub fn timings(&self) -> &[(String, f64)] {
        &self.timings
    }

    fn lap(&mut self, stage: &str, detail: String) {
        let seconds = self.start.elapsed().as_secs_f64();
        let line = match peak_memory_mb() {
            Some(mb) => {
                format!("  {stage:<10} {seconds:>7.2} s  {detail} (peak memory {mb:.0} MB)")
            }
            None => format!("  {stage:<10} {seconds:>7.2} s  {detail}"),
        };
        self.spinner.suspend(|| log::info!("{line}"));
        if let Some(next) = STAGES
            .iter()
            .position(|s| *s == stage)
            .and_then(|i| STAGES.get(i + 1))
        {
            self.spinner.set_message(*next);
        }
        self.timings.push((stage.to_string(), seconds));
        self.start = Instant::now();
    }
}

/// The process's peak resident memory so far, in MB (Linux; elsewhere None).
fn peak_memory_mb() -> Option<f64> {
    #[cfg(target_os = "linux")]
    {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
        // SAFETY: getrusage fills the struct it is given; it is read only when the call succeeds.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } == 0 {
            let usage = unsafe { usage.assume_init() };
            return Some(usage.ru_maxrss as f64 / 1024.0);
        }
    }
    None
}

impl Drop for Stopwatch {
    fn drop(&mut self) {
        self.spinner.finish_and_clear();
    }
}

/// Runs every stage and writes the report; returns the result and the report folder.
pub fn run(job: &Job, options: &RunOptions) -> Result<(RunResult, PathBuf)> {
    let result = analyse(job, options)?;
    let folder = crate::report::write(&result, &options.output_root)?;
    Ok((result, folder))
}

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
}

/// The cluster stage's result: the fitted preparation and what every method found.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Discovery {
    pub seed: u64,
    pub preparation: Preparation,
    pub fit_report: FitReport,
    pub kmeans: KmeansResult,
    pub dbscan: DbscanResult,
    pub gmm: Option<GmmResult>,
    /// What the run should know about discovery beyond each method's own warnings (a mixture
    /// left out).
    pub warnings: Vec<String>,
}

/// Stages load and features: the inputs read and aggregated per customer as of the run's date.
pub fn describe(job: &Job, options: &RunOptions, clock: &mut Stopwatch) -> Result<Described> {
    let inputs = load::load(job)?;
    let rows: usize = inputs.quality.rows_read.values().sum();
    clock.lap(
        "load",
        format!("{rows} rows from {} files", inputs.quality.files.len()),
    );
    let as_of = resolve_as_of(job, options, &inputs)?;
    let expected = crate::invariants::Expected::of_inputs(&inputs, as_of)?;
    let features = customer_features(job, &inputs, as_of)?;
    crate::invariants::check_features(&expected, &features)?;
    clock.lap(
        "features",
        format!(
            "{} customers × {} features (as of {as_of})",
            features.len(),
            features.features.len()
        ),
    );
    let mut quality = inputs.quality;
    quality.expected = Some(expected);
    Ok(Described {
        as_of,
        quality,
        features,
    })
}

/// Stage rules: every rule set of the job over the feature table.
pub fn apply_rules(
    job: &Job,
    features: &FeatureTable,
    clock: &mut Stopwatch,
) -> Result<RuleResults> {
    let rules = rules::apply(features, &job.rules, &job.base_dir)?;
    clock.lap("rules", format!("{} rule sets", rules.sets.len()));
    Ok(rules)
}

/// Stage cluster: the preparation fitted and applied, then k-means, DBSCAN and (when asked
/// for) the Gaussian mixture on the prepared matrix.
pub fn discover(
    job: &Job,
    features: &FeatureTable,
    seed: u64,
    clock: &mut Stopwatch,
) -> Result<(Discovery, FeatureMatrix)> {
    let (preparation, fit_report) = Preparation::fit(features, &job.features)?;
    let matrix = preparation.transform(features)?;
    clock.lap(
        "prepare",
        format!(
            "{} customers × {} columns to cluster on",
            matrix.matrix.nrows(),
            matrix.matrix.ncols()
        ),
    );
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
    log_k_scores(&kmeans);
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
    let discovery = Discovery {
        seed,
        preparation,
        fit_report,
        kmeans,
        dbscan,
        gmm,
        warnings,
    };
    Ok((discovery, matrix))
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
    } = described;
    let Discovery {
        seed,
        preparation,
        fit_report,
        kmeans,
        dbscan,
        gmm,
        warnings: discovery_warnings,
    } = discovery;
    let mut drift_warnings = Vec::new();
    let drift = drift_since_baseline(job, options, as_of, &features, &mut drift_warnings)?;
    let hard =
        |labels: &[usize]| -> Vec<Option<usize>> { labels.iter().map(|c| Some(*c)).collect() };
    let kmeans_assignment = hard(&kmeans.labels);
    let gmm_assignment = gmm.as_ref().map(|g| hard(&g.labels));
    let kmeans_labels = label::label(&features, &rules, &kmeans_assignment, &matrix.names);
    let dbscan_labels = label::label(&features, &rules, &dbscan.labels, &matrix.names);
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
        [&kmeans_assignment, &dbscan.labels],
        gmm_assignment.as_deref(),
    )?;
    clock.lap(
        "label",
        match kmeans_labels.agreement {
            Some(a) => format!("ARI vs RFM groups {:.3}", a.ari),
            None => "no RFM groups to set the clusters against".to_string(),
        },
    );

    let drivers = label::drivers(&matrix, &preparation, &kmeans.labels);
    let mut warnings = features.notes.clone();
    warnings.extend(fit_report.warnings.iter().cloned());
    warnings.extend(label::flat_groups(&drivers));
    warnings.extend(rules.warnings.iter().cloned());
    warnings.extend(kmeans.warnings.iter().cloned());
    warnings.extend(dbscan.warnings.iter().cloned());
    warnings.extend(drift_warnings);
    warnings.extend(discovery_warnings);
    let mut result = RunResult {
        job: job.clone(),
        as_of,
        seed,
        quality,
        features,
        preparation,
        fit_report,
        matrix,
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
        migrations: None,
        timings: Vec::new(),
        warnings,
    };
    match migrations_since_previous(&result, options, &mut clock) {
        Ok(found) => result.migrations = found,
        Err(warning) => result.warnings.push(warning),
    }
    result.timings = std::mem::take(&mut clock.timings);
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
    let Some(previous) = previous_run_folder(&options.output_root, &run.job, run.as_of) else {
        return Ok(None);
    };
    let folder = report_folder(&options.output_root, &run.job, run.as_of);
    let c = compare::since_run(&previous, run, &folder)
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

/// The report folder of the job's latest run before `as_of` under `output_root`: the folder of
/// the model [`previous_model`] finds, which also holds that run's assignments.
fn previous_run_folder(output_root: &Path, job: &Job, as_of: NaiveDate) -> Option<PathBuf> {
    previous_model(output_root, job, as_of)?
        .parent()
        .map(Path::to_path_buf)
}

/// The per-customer feature table every verb starts from; no customer at all is an error.
pub(crate) fn customer_features(
    job: &Job,
    inputs: &load::Inputs,
    as_of: NaiveDate,
) -> Result<FeatureTable> {
    let table = crate::features::build(inputs, as_of, &job.features)?;
    if table.is_empty() {
        let dropped: Vec<String> = inputs
            .quality
            .dropped
            .iter()
            .map(|(reason, rows)| format!("{reason}: {rows} rows"))
            .collect();
        let why = if dropped.is_empty() {
            String::new()
        } else {
            format!(" — every row was dropped ({})", dropped.join("; "))
        };
        return Err(Error::Data(format!("the inputs hold no customers{why}")));
    }
    Ok(table)
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
        fixed_k: job.discovery.gmm_k.fixed("gmm_k")?,
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
    [kmeans, dbscan]: [&[Option<usize>]; 2],
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
        dbscan: label::agreement(dbscan, &truth),
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
        Some(path) => Some(apply::drift_since(path, features)?),
        None => match previous_model(&options.output_root, job, as_of) {
            None => None,
            Some(path) => match apply::drift_since(&path, features) {
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

/// model.json of the job's latest run as of a date before `as_of`, under `output_root`.
pub fn previous_model(output_root: &Path, job: &Job, as_of: NaiveDate) -> Option<PathBuf> {
    std::fs::read_dir(output_root.join(&job.name))
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let date = NaiveDate::parse_from_str(entry.file_name().to_str()?, "%Y-%m-%d").ok()?;
            let model = entry.path().join("model.json");
            (date < as_of && model.is_file()).then_some((date, model))
        })
        .max_by_key(|(date, _)| *date)
        .map(|(_, model)| model)
}

/// The folder a run of `job` as of `as_of` writes to under `output_root`.
pub fn report_folder(output_root: &Path, job: &Job, as_of: NaiveDate) -> PathBuf {
    output_root.join(&job.name).join(as_of.to_string())
}
