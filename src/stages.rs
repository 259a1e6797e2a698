//! Stage verbs for analysts who script: `segmenta features | rules | cluster | report`.
//!
//! Each stage writes a Parquet file with one row per customer (every feature in original units,
//! then the R/F/M scores and rule segments, then the cluster of every method) that any tool can
//! read and filter. What is not per customer (the job, the as-of date, the data-quality counts,
//! the rule definitions and cut points, the fitted preparation and models) travels in the file's
//! key-value metadata under [`METADATA_KEY`], so the next stage starts exactly where this one
//! stopped and the chain writes the same report as `segmenta run`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use ndarray::Array2;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, PolarsContext, Result};
use crate::features::{Feature, FeatureGroup, FeatureKind, FeatureTable, Impute, PurchaseFacts};
use crate::job::Job;
use crate::load::DataQuality;
use crate::pipeline::{self, Described, Discovery, RunOptions, RunResult, Stopwatch};
use crate::rules::RuleResults;

/// The Parquet key-value metadata entry holding a stage file's [`Header`].
pub const METADATA_KEY: &str = "segmenta";
/// Bumped when a stage file written by an older segmenta can no longer be read.
const FORMAT: u32 = 1;

/// Which verb wrote a stage file; each verb reads the file of the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Features,
    Rules,
    Clusters,
}

impl Stage {
    /// The command that writes this stage's file.
    pub fn verb(self) -> &'static str {
        match self {
            Stage::Features => "segmenta features",
            Stage::Rules => "segmenta rules",
            Stage::Clusters => "segmenta cluster",
        }
    }
}

/// The job file a stage file was made with, kept whole so later stages need no other file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmbeddedJob {
    pub path: PathBuf,
    /// Absolute, so a later stage run from another folder still finds the inputs and presets.
    pub base_dir: PathBuf,
    pub toml: String,
}

impl EmbeddedJob {
    /// Reads and checks a job file, keeping its text.
    pub fn read(path: &Path) -> Result<(Job, EmbeddedJob)> {
        let toml = Job::read_text(path)?;
        let job = Job::from_file_text(path, &toml)?;
        let base_dir = absolute(job.base_dir());
        let job = job.with_base_dir(base_dir.clone());
        let embedded = EmbeddedJob {
            path: path.to_path_buf(),
            base_dir,
            toml,
        };
        Ok((job, embedded))
    }

    fn job(&self, stage_file: &Path) -> Result<Job> {
        Job::from_toml(&self.toml, &self.base_dir).map_err(|message| {
            Error::file(
                stage_file,
                format!(
                    "the job embedded from {} no longer parses: {message}",
                    self.path.display()
                ),
            )
        })
    }
}

fn absolute(dir: &Path) -> PathBuf {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// How a feature column is prepared and grouped; its values are the file's column of that name.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FeatureColumn {
    name: String,
    group: FeatureGroup,
    kind: FeatureKind,
    impute: Impute,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    block: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trials: Option<crate::features::Trials>,
}

impl FeatureColumn {
    fn of(feature: &Feature) -> FeatureColumn {
        FeatureColumn {
            name: feature.name.clone(),
            group: feature.group,
            kind: feature.kind,
            impute: feature.impute,
            block: feature.block.clone(),
            trials: feature.trials.clone(),
        }
    }
}

/// Everything in a stage file that is not one value per customer.
#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    segmenta_version: String,
    stage: Stage,
    job: EmbeddedJob,
    as_of: NaiveDate,
    quality: DataQuality,
    features: Vec<FeatureColumn>,
    rule_only: Vec<FeatureColumn>,
    notes: Vec<String>,
    transactions_used: usize,
    timings: Vec<(String, f64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rules: Option<RuleResults>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    discovery: Option<Discovery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lifetime: Option<crate::lifetime::Lifetime>,
}

/// A stage's result in memory: what the stage file holds.
pub struct StageData {
    pub job: Job,
    embedded: EmbeddedJob,
    pub described: Described,
    pub rules: Option<RuleResults>,
    pub discovery: Option<Discovery>,
    /// Seconds per stage so far, in order.
    pub timings: Vec<(String, f64)>,
}

impl StageData {
    /// The last stage this data has been through.
    pub fn stage(&self) -> Stage {
        match (&self.rules, &self.discovery) {
            (_, Some(_)) => Stage::Clusters,
            (Some(_), None) => Stage::Rules,
            (None, None) => Stage::Features,
        }
    }

    pub fn customers(&self) -> usize {
        self.described.features.len()
    }

    /// Later stages use this job file's settings instead of the embedded one (another k, other
    /// rules); the features already aggregated stay as they are.
    pub fn with_job(mut self, job_file: Option<&Path>) -> Result<StageData> {
        if let Some(path) = job_file {
            (self.job, self.embedded) = EmbeddedJob::read(path)?;
        }
        Ok(self)
    }
}

/// `segmenta features`: the inputs read and aggregated into one row per customer.
pub fn features(job_file: &Path, options: &RunOptions) -> Result<StageData> {
    let (job, embedded) = EmbeddedJob::read(job_file)?;
    let mut clock = Stopwatch::new(options.quiet);
    let described = pipeline::describe(&job, options, &mut clock)?;
    Ok(StageData {
        job,
        embedded,
        described,
        rules: None,
        discovery: None,
        timings: clock.timings().to_vec(),
    })
}

/// `segmenta rules`: every rule set of the job over a features (or earlier rules) file.
pub fn rules(mut data: StageData, source: &Path, quiet: bool) -> Result<StageData> {
    require(
        &data,
        source,
        &[Stage::Features, Stage::Rules],
        "segmenta rules",
    )?;
    let mut clock = Stopwatch::resume(quiet, "rules", std::mem::take(&mut data.timings));
    data.rules = Some(pipeline::apply_rules(
        &data.job,
        &data.described.features,
        &mut clock,
    )?);
    data.timings = clock.timings().to_vec();
    Ok(data)
}

/// `segmenta cluster`: the preparation fitted and every discovery method run on a rules file.
pub fn cluster(
    mut data: StageData,
    source: &Path,
    seed: Option<u64>,
    quiet: bool,
) -> Result<StageData> {
    require(
        &data,
        source,
        &[Stage::Rules, Stage::Clusters],
        "segmenta cluster",
    )?;
    let seed = seed.or(data.job.seed).unwrap_or(pipeline::DEFAULT_SEED);
    let mut clock = Stopwatch::resume(quiet, "prepare", std::mem::take(&mut data.timings));
    let (discovery, _) = pipeline::discover(&data.job, &data.described.features, seed, &mut clock)?;
    data.discovery = Some(discovery);
    data.timings = clock.timings().to_vec();
    Ok(data)
}

/// `segmenta report`: clusters labelled against the rule segments and the report written, as
/// `segmenta run` does; returns the result and the report folder.
pub fn report(
    data: StageData,
    source: &Path,
    options: &RunOptions,
) -> Result<(RunResult, PathBuf)> {
    require(&data, source, &[Stage::Clusters], "segmenta report")?;
    let StageData {
        job,
        described,
        rules,
        discovery,
        timings,
        ..
    } = data;
    let (Some(rules), Some(discovery)) = (rules, discovery) else {
        unreachable!("require() checked the stage");
    };
    let matrix = pipeline::fitted_matrix(&discovery, &described.features)?;
    let clock = Stopwatch::resume(options.quiet, "label", timings);
    let result = pipeline::conclude(&job, options, described, rules, discovery, matrix, clock)?;
    let folder = crate::report::write(&result, &options.output_root)?;
    Ok((result, folder))
}

fn require(data: &StageData, source: &Path, accepted: &[Stage], verb: &str) -> Result<()> {
    if accepted.contains(&data.stage()) {
        return Ok(());
    }
    let wanted: Vec<&str> = accepted.iter().map(|s| s.verb()).collect();
    Err(Error::file(
        source.to_path_buf(),
        format!(
            "this file was written by `{}`; `{verb}` reads the output of `{}`",
            data.stage().verb(),
            wanted.join("` or `")
        ),
    ))
}

/// Column names of the per-customer facts the rules are computed from.
const FACT_COLUMNS: [&str; 4] = [
    "fact_recency_days",
    "fact_frequency",
    "fact_monetary",
    "fact_previous_gap_days",
];
const SCORE_COLUMNS: [&str; 3] = ["r_score", "f_score", "m_score"];
const KMEANS_COLUMN: &str = "kmeans_cluster";
const DBSCAN_COLUMN: &str = "dbscan_cluster";
const GMM_COLUMN: &str = "gmm_component";

/// Writes a stage file: beside the target first, then renamed over it, so a failure or a kill
/// never leaves half a file where the next stage would read it.
pub fn write(data: &StageData, path: &Path) -> Result<()> {
    let mut frame = frame_of(data)?;
    let header = Header {
        format: FORMAT,
        segmenta_version: env!("CARGO_PKG_VERSION").to_string(),
        stage: data.stage(),
        job: data.embedded.clone(),
        as_of: data.described.as_of,
        quality: data.described.quality.clone(),
        features: data
            .described
            .features
            .features
            .iter()
            .map(FeatureColumn::of)
            .collect(),
        rule_only: data
            .described
            .features
            .rule_only
            .iter()
            .map(FeatureColumn::of)
            .collect(),
        notes: data.described.features.notes.clone(),
        transactions_used: data.described.features.transactions_used,
        timings: data.timings.clone(),
        rules: None,
        discovery: None,
        lifetime: data.described.lifetime.clone(),
    };
    let json = header_json(header, data).map_err(|e| Error::output(path, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "stage.parquet".into());
    let partial = path.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let written = std::fs::File::create(&partial)
        .map_err(|e| Error::output(&partial, e))
        .and_then(|file| {
            ParquetWriter::new(file)
                .with_key_value_metadata(Some(KeyValueMetadata::from_static(vec![(
                    METADATA_KEY.to_string(),
                    json,
                )])))
                .finish(&mut frame)
                .map(|_| ())
                .map_err(|e| Error::output(&partial, e))
        })
        .and_then(|()| std::fs::rename(&partial, path).map_err(|e| Error::output(path, e)));
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

/// The header as JSON, with the rule and discovery results borrowed from `data` rather than
/// cloned (the rule results are not `Clone`).
fn header_json(header: Header, data: &StageData) -> serde_json::Result<String> {
    let mut value = serde_json::to_value(&header)?;
    if let Some(object) = value.as_object_mut() {
        if let Some(rules) = &data.rules {
            object.insert("rules".into(), serde_json::to_value(rules)?);
        }
        if let Some(discovery) = &data.discovery {
            object.insert("discovery".into(), serde_json::to_value(discovery)?);
        }
    }
    serde_json::to_string(&value)
}

fn frame_of(data: &StageData) -> Result<DataFrame> {
    let table = &data.described.features;
    let mut columns = vec![Column::new("customer_id".into(), &table.customer_ids)];
    for feature in table.all_columns() {
        columns.push(Column::new(feature.name.as_str().into(), &feature.values));
    }
    let facts = &table.facts;
    let frequency: Vec<Option<f64>> = facts.frequency.iter().map(|v| Some(*v)).collect();
    let monetary: Vec<Option<f64>> = facts.monetary.iter().map(|v| Some(*v)).collect();
    for (name, values) in FACT_COLUMNS.iter().zip([
        &facts.recency_days,
        &frequency,
        &monetary,
        &facts.previous_gap_days,
    ]) {
        columns.push(Column::new((*name).into(), values));
    }
    if let Some(rules) = &data.rules {
        for (name, scores) in SCORE_COLUMNS
            .iter()
            .zip([&rules.rfm.r, &rules.rfm.f, &rules.rfm.m])
        {
            let wide: Vec<Option<u32>> = scores.iter().map(|s| s.map(u32::from)).collect();
            columns.push(Column::new((*name).into(), wide));
        }
        for set in &rules.sets {
            columns.push(Column::new(set.column_name().into(), &set.labels));
        }
    }
    if let Some(d) = &data.discovery {
        let kmeans: Vec<u32> = d.kmeans.labels.iter().map(|c| *c as u32).collect();
        columns.push(Column::new(KMEANS_COLUMN.into(), kmeans));
        if let Some(db) = &d.dbscan {
            let dbscan: Vec<Option<u32>> = db.labels.iter().map(|c| c.map(|c| c as u32)).collect();
            columns.push(Column::new(DBSCAN_COLUMN.into(), dbscan));
        }
        if let Some(g) = &d.gmm {
            let labels: Vec<u32> = g.labels.iter().map(|c| *c as u32).collect();
            columns.push(Column::new(GMM_COLUMN.into(), labels));
            for (j, p) in g.probabilities.columns().into_iter().enumerate() {
                columns.push(Column::new(probability_column(j).into(), p.to_vec()));
            }
        }
    }
    DataFrame::new_infer_height(columns).context("assembling the stage file's columns")
}

fn probability_column(component: usize) -> String {
    format!("gmm_probability_{}", component + 1)
}

/// Reads a stage file written by any stage verb.
pub fn read(path: &Path) -> Result<StageData> {
    let input_error = |message: String| Error::file(path.to_path_buf(), message);
    let file =
        std::fs::File::open(path).map_err(|e| input_error(format!("cannot open it: {e}")))?;
    let mut reader = ParquetReader::new(file);
    let metadata = reader
        .get_metadata()
        .map_err(|e| input_error(format!("not a Parquet file: {e}")))?
        .clone();
    let json = metadata
        .key_value_metadata()
        .iter()
        .flatten()
        .find(|kv| kv.key == METADATA_KEY)
        .and_then(|kv| kv.value.clone())
        .ok_or_else(|| {
            input_error(format!(
                "it has no '{METADATA_KEY}' metadata: it was not written by a segmenta stage verb, or an edit dropped it (docs/verbs.md, \"Stage verbs\", shows how to keep it)"
            ))
        })?;
    let header: Header = serde_json::from_str(&json)
        .map_err(|e| input_error(format!("its '{METADATA_KEY}' metadata is unreadable: {e}")))?;
    if header.format != FORMAT {
        return Err(input_error(format!(
            "it was written by segmenta {} in stage-file format {}; this segmenta reads format {FORMAT}: run the stages again",
            header.segmenta_version, header.format
        )));
    }
    let frame = reader
        .finish()
        .map_err(|e| input_error(format!("cannot read its rows: {e}")))?;
    StageFile {
        path,
        frame: &frame,
    }
    .data(header)
}

/// A stage file's rows, read column by column with errors naming the file, column and row.
struct StageFile<'a> {
    path: &'a Path,
    frame: &'a DataFrame,
}

impl StageFile<'_> {
    fn data(&self, header: Header) -> Result<StageData> {
        let job = header.job.job(self.path)?;
        let customer_ids = self.customer_ids()?;
        let features = self.features(&header.features)?;
        let rule_only = self.features(&header.rule_only)?;
        let recency_days = self.numbers(FACT_COLUMNS[0])?;
        let frequency = self.required_numbers(FACT_COLUMNS[1])?;
        let monetary = self.required_numbers(FACT_COLUMNS[2])?;
        let previous_gap_days = self.numbers(FACT_COLUMNS[3])?;
        let table = FeatureTable {
            customer_ids,
            features,
            rule_only,
            facts: PurchaseFacts {
                recency_days,
                frequency,
                monetary,
                previous_gap_days,
            },
            as_of: header.as_of,
            notes: header.notes,
            transactions_used: header.transactions_used,
        };
        let rules = header.rules.map(|r| self.rules(r)).transpose()?;
        let discovery = header.discovery.map(|d| self.discovery(d)).transpose()?;
        let mut quality = header.quality;
        if quality
            .expected
            .as_ref()
            .is_some_and(|e| e.customers != table.len())
        {
            // Customers filtered out between stages: the table no longer reconciles to the
            // inputs, and run.log must not say it does; each segmentation is still checked.
            log::info!(
                "{}: {} customers, filtered from the inputs between stages",
                self.path.display(),
                table.len()
            );
            quality.expected = None;
        }
        Ok(StageData {
            job,
            embedded: header.job,
            described: Described {
                as_of: header.as_of,
                quality,
                features: table,
                lifetime: header.lifetime,
            },
            rules,
            discovery,
            timings: header.timings,
        })
    }

    fn column(&self, name: &str) -> Result<&Column> {
        self.frame.column(name).map_err(|_| {
            Error::file(
                self.path.to_path_buf(),
                format!("column '{name}' is missing; the stage verbs need every column they wrote"),
            )
        })
    }

    fn cell_error(&self, column: &str, row: usize, message: &str) -> Error {
        Error::cell(
            self.path.to_path_buf(),
            column.to_string(),
            row + 1,
            message.to_string(),
        )
    }

    fn customer_ids(&self) -> Result<Vec<String>> {
        let texts = self.texts("customer_id")?;
        let mut seen = HashSet::with_capacity(texts.len());
        texts
            .into_iter()
            .enumerate()
            .map(|(row, id)| {
                let id = id.filter(|id| !id.is_empty()).ok_or_else(|| {
                    self.cell_error("customer_id", row, "the customer id is blank")
                })?;
                if !seen.insert(id.clone()) {
                    return Err(self.cell_error(
                        "customer_id",
                        row,
                        &format!("customer '{id}' appears twice"),
                    ));
                }
                Ok(id)
            })
            .collect()
    }

    fn texts(&self, name: &str) -> Result<Vec<Option<String>>> {
        let column = self
            .column(name)?
            .cast(&DataType::String)
            .context(format!("{}: column '{name}' as text", self.path.display()))?;
        let strings = column
            .str()
            .context(format!("{}: column '{name}' as text", self.path.display()))?;
        Ok(strings.iter().map(|s| s.map(str::to_string)).collect())
    }

    fn numbers(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let column = self.column(name)?.cast(&DataType::Float64).map_err(|_| {
            Error::file(
                self.path.to_path_buf(),
                format!("column '{name}' should hold numbers"),
            )
        })?;
        let values = column.f64().context(format!(
            "{}: column '{name}' as numbers",
            self.path.display()
        ))?;
        Ok(values.iter().collect())
    }

    fn required_numbers(&self, name: &str) -> Result<Vec<f64>> {
        self.numbers(name)?
            .into_iter()
            .enumerate()
            .map(|(row, v)| {
                v.ok_or_else(|| self.cell_error(name, row, "blank; a number is needed"))
            })
            .collect()
    }

    /// Whole numbers below `limit` (scores, cluster numbers); None where blank.
    fn indices(&self, name: &str, limit: usize) -> Result<Vec<Option<usize>>> {
        self.numbers(name)?
            .into_iter()
            .enumerate()
            .map(|(row, v)| match v {
                None => Ok(None),
                Some(v) if v >= 0.0 && v.fract() == 0.0 && (v as usize) < limit => {
                    Ok(Some(v as usize))
                }
                Some(v) => Err(self.cell_error(
                    name,
                    row,
                    &format!("{v} is not a whole number from 0 to {}", limit - 1),
                )),
            })
            .collect()
    }

    fn required_indices(&self, name: &str, limit: usize) -> Result<Vec<usize>> {
        self.indices(name, limit)?
            .into_iter()
            .enumerate()
            .map(|(row, v)| {
                v.ok_or_else(|| self.cell_error(name, row, "blank; every customer needs one"))
            })
            .collect()
    }

    fn features(&self, columns: &[FeatureColumn]) -> Result<Vec<Feature>> {
        columns
            .iter()
            .map(|c| {
                Ok(Feature {
                    name: c.name.clone(),
                    group: c.group,
                    kind: c.kind,
                    impute: c.impute,
                    block: c.block.clone(),
                    trials: c.trials.clone(),
                    values: self.numbers(&c.name)?,
                })
            })
            .collect()
    }

    fn rules(&self, mut rules: RuleResults) -> Result<RuleResults> {
        let bins = usize::from(rules.rfm.bins()) + 1;
        let score = |name: &str| -> Result<Vec<Option<u8>>> {
            Ok(self
                .indices(name, bins)?
                .into_iter()
                .map(|s| s.map(|s| s as u8))
                .collect())
        };
        rules.rfm.r = score(SCORE_COLUMNS[0])?;
        rules.rfm.f = score(SCORE_COLUMNS[1])?;
        rules.rfm.m = score(SCORE_COLUMNS[2])?;
        for set in &mut rules.sets {
            let column = set.column_name();
            set.labels = self
                .texts(&column)?
                .into_iter()
                .enumerate()
                .map(|(row, label)| {
                    label.ok_or_else(|| {
                        self.cell_error(&column, row, "blank; every customer has a segment")
                    })
                })
                .collect::<Result<_>>()?;
        }
        Ok(rules)
    }

    fn discovery(&self, mut discovery: Discovery) -> Result<Discovery> {
        discovery.kmeans.labels = self.required_indices(KMEANS_COLUMN, discovery.kmeans.k)?;
        if let Some(d) = &mut discovery.dbscan {
            d.labels = self.indices(DBSCAN_COLUMN, d.clusters.max(1))?;
        }
        if let Some(g) = &mut discovery.gmm {
            g.labels = self.required_indices(GMM_COLUMN, g.k)?;
            let mut probabilities = Array2::zeros((self.frame.height(), g.k));
            for j in 0..g.k {
                let name = probability_column(j);
                for (row, p) in self.numbers(&name)?.into_iter().enumerate() {
                    probabilities[[row, j]] = p.ok_or_else(|| {
                        self.cell_error(&name, row, "blank; a probability is needed")
                    })?;
                }
            }
            g.probabilities = probabilities;
        }
        Ok(discovery)
    }
}
