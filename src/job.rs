//! The job file (TOML): which files to read, how their columns map onto roles, and the options of
//! every stage. Unknown keys are errors that suggest the nearest valid key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub name: String,
    #[serde(default)]
    pub as_of: Option<String>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub primary: Primary,
    /// Raw tables an input's `query` may read (`[tables.<name>]`), e.g. the orders, items and
    /// customers of an order system exported as several files.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tables: BTreeMap<String, TableInput>,
    pub inputs: Inputs,
    #[serde(default)]
    pub features: FeatureOptions,
    #[serde(default)]
    pub rules: RuleOptions,
    #[serde(default)]
    pub discovery: DiscoveryOptions,
    /// Folder of the job file: relative input paths resolve against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Primary {
    #[default]
    Kmeans,
    Dbscan,
    /// The Gaussian mixture's most probable component; needs `[discovery] gmm = true`.
    Gmm,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    pub transactions: Option<TransactionsInput>,
    pub customers: Option<CustomersInput>,
    pub campaigns: Option<CampaignsInput>,
    pub events: Option<EventsInput>,
    /// A known segmentation to measure the discovered clusters against (ARI, NMI), e.g. the
    /// planted groups of generated data.
    pub reference: Option<ReferenceInput>,
}

impl Inputs {
    /// Every input the job gives, by its role name ("transactions", …), with its source.
    pub fn sources(&self) -> Vec<(&'static str, Source<'_>)> {
        [
            (
                "transactions",
                self.transactions.as_ref().map(|t| t.source()),
            ),
            ("customers", self.customers.as_ref().map(|c| c.source())),
            ("campaigns", self.campaigns.as_ref().map(|c| c.source())),
            ("events", self.events.as_ref().map(|e| e.source())),
            ("reference", self.reference.as_ref().map(|r| r.source())),
        ]
        .into_iter()
        .filter_map(|(name, source)| Some((name, source?)))
        .collect()
    }
}

/// Where a table's rows come from — its files, or a SQL query over the job's `[tables.*]` — how
/// its CSV files are written, and which customer ids mean "no customer" in it.
pub struct Source<'a> {
    pub path: Option<&'a str>,
    pub query: Option<&'a str>,
    pub separator: Option<&'a str>,
    pub encoding: Option<&'a str>,
    /// The job's `missing_ids`; None: the table's default list.
    pub missing_ids: Option<&'a [String]>,
}

macro_rules! has_source {
    ($($input:ty),*) => {$(
        impl $input {
            pub fn source(&self) -> Source<'_> {
                Source {
                    path: self.path.as_deref(),
                    query: self.query.as_deref(),
                    separator: self.separator.as_deref(),
                    encoding: self.encoding.as_deref(),
                    missing_ids: self.missing_ids.as_deref(),
                }
            }
        }
    )*};
}

has_source!(
    ReferenceInput,
    TransactionsInput,
    CustomersInput,
    CampaignsInput,
    EventsInput
);

/// `[tables.<name>]`: a raw table that input queries refer to by its name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableInput {
    pub path: String,
    pub separator: Option<String>,
    /// Text encoding of CSV files without a byte-order mark; default UTF-8.
    pub encoding: Option<String>,
    /// Values that mean "no value" in every column of this table (they read as NULL in queries).
    pub missing_ids: Option<Vec<String>>,
}

impl TableInput {
    pub fn source(&self) -> Source<'_> {
        Source {
            path: Some(&self.path),
            query: None,
            separator: self.separator.as_deref(),
            encoding: self.encoding.as_deref(),
            missing_ids: self.missing_ids.as_deref(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceInput {
    /// A CSV or Parquet file, a folder or a glob; or, instead, `query`.
    pub path: Option<String>,
    /// SQL (polars' dialect) over the job's `[tables.*]`, whose output columns the role keys name.
    pub query: Option<String>,
    /// Customer ids that mean "no customer" in this table; default: see [`crate::load::missing`].
    pub missing_ids: Option<Vec<String>>,
    pub separator: Option<String>,
    /// Text encoding of CSV files without a byte-order mark ("windows-1251", "latin-1", …);
    /// default UTF-8.
    pub encoding: Option<String>,
    pub customer_id: String,
    pub segment: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionsInput {
    /// A CSV or Parquet file, a folder or a glob; or, instead, `query`.
    pub path: Option<String>,
    /// SQL (polars' dialect) over the job's `[tables.*]`, whose output columns the role keys name.
    pub query: Option<String>,
    /// Customer ids that mean "no customer" in this table; default: see [`crate::load::missing`].
    pub missing_ids: Option<Vec<String>>,
    pub separator: Option<String>,
    /// Text encoding of CSV files without a byte-order mark ("windows-1251", "latin-1", …);
    /// default UTF-8.
    pub encoding: Option<String>,
    pub customer_id: String,
    pub timestamp: String,
    pub timestamp_format: Option<String>,
    pub amount: Option<String>,
    pub quantity: Option<String>,
    pub unit_price: Option<String>,
    pub order_id: Option<String>,
    pub category: Option<String>,
    pub channel: Option<String>,
    pub discount: Option<String>,
}

impl TransactionsInput {
    /// The file columns the job maps.
    pub fn mapped_columns(&self) -> Vec<String> {
        let optional = [
            &self.amount,
            &self.quantity,
            &self.unit_price,
            &self.order_id,
            &self.category,
            &self.channel,
            &self.discount,
        ];
        let mut columns: Vec<String> = [Some(&self.customer_id), Some(&self.timestamp)]
            .into_iter()
            .chain(optional.into_iter().map(Option::as_ref))
            .flatten()
            .cloned()
            .collect();
        columns.sort();
        columns.dedup();
        columns
    }
}

/// One column name or several whose values are summed (pre-aggregated CRM tables).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    One(String),
    Many(Vec<String>),
}

impl Columns {
    pub fn names(&self) -> Vec<String> {
        match self {
            Columns::One(name) => vec![name.clone()],
            Columns::Many(names) => names.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomersInput {
    /// A CSV or Parquet file, a folder or a glob; or, instead, `query`.
    pub path: Option<String>,
    /// SQL (polars' dialect) over the job's `[tables.*]`, whose output columns the role keys name.
    pub query: Option<String>,
    /// Customer ids that mean "no customer" in this table; default: see [`crate::load::missing`].
    pub missing_ids: Option<Vec<String>>,
    pub separator: Option<String>,
    /// Text encoding of CSV files without a byte-order mark ("windows-1251", "latin-1", …);
    /// default UTF-8.
    pub encoding: Option<String>,
    pub customer_id: String,
    pub birth_year: Option<String>,
    pub birth_date: Option<String>,
    pub birth_date_format: Option<String>,
    pub age: Option<String>,
    pub gender: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub income: Option<String>,
    pub signup_date: Option<String>,
    pub signup_date_format: Option<String>,
    #[serde(default)]
    pub categorical: Vec<String>,
    #[serde(default)]
    pub numeric: Vec<String>,
    pub tags: Option<String>,
    pub tags_separator: Option<String>,
    pub recency_days: Option<String>,
    pub frequency: Option<Columns>,
    pub monetary: Option<Columns>,
    #[serde(default)]
    pub responses: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignsInput {
    /// A CSV or Parquet file, a folder or a glob; or, instead, `query`.
    pub path: Option<String>,
    /// SQL (polars' dialect) over the job's `[tables.*]`, whose output columns the role keys name.
    pub query: Option<String>,
    /// Customer ids that mean "no customer" in this table; default: see [`crate::load::missing`].
    pub missing_ids: Option<Vec<String>>,
    pub separator: Option<String>,
    /// Text encoding of CSV files without a byte-order mark ("windows-1251", "latin-1", …);
    /// default UTF-8.
    pub encoding: Option<String>,
    pub customer_id: String,
    pub campaign_id: String,
    pub sent_at: Option<String>,
    pub sent_at_format: Option<String>,
    pub opened: Option<String>,
    pub clicked: Option<String>,
    pub responded: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsInput {
    /// A CSV or Parquet file, a folder or a glob; or, instead, `query`.
    pub path: Option<String>,
    /// SQL (polars' dialect) over the job's `[tables.*]`, whose output columns the role keys name.
    pub query: Option<String>,
    /// Customer ids that mean "no customer" in this table; default: see [`crate::load::missing`].
    pub missing_ids: Option<Vec<String>>,
    pub separator: Option<String>,
    /// Text encoding of CSV files without a byte-order mark ("windows-1251", "latin-1", …);
    /// default UTF-8.
    pub encoding: Option<String>,
    pub customer_id: String,
    pub timestamp: String,
    pub timestamp_format: Option<String>,
    pub event_type: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    #[default]
    Zscore,
    Minmax,
    Robust,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureOptions {
    #[serde(default)]
    pub scale: Scale,
    /// Features given log1p before scaling; default: the skewed money and count features.
    #[serde(default = "default_log1p")]
    pub log1p: Vec<String>,
    /// Lower and upper percentile at which every feature is clipped.
    #[serde(default = "default_winsorize")]
    pub winsorize: [f64; 2],
    /// Weight per feature group (rfm, behaviour, habits, engagement, demographic).
    #[serde(default)]
    pub weights: BTreeMap<String, f64>,
    /// How many most frequent values of a category become their own column; the rest are "other".
    #[serde(default = "default_top_n")]
    pub top_n: usize,
    /// Features computed and profiled but left out of the clustering matrix.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Scale each group so that its total influence is its weight, however many columns it has.
    #[serde(default = "default_true")]
    pub balance_groups: bool,
    /// Month numbers (1–12) that count as the seasonal peak.
    #[serde(default = "default_peak_months")]
    pub peak_months: Vec<u32>,
    /// Shrink every share and rate towards its base rate by how few orders or mailings it comes
    /// from (empirical Bayes), before clustering; profiles and exports keep the raw shares.
    #[serde(default = "default_true")]
    pub shrink_shares: bool,
}

impl Default for FeatureOptions {
    fn default() -> Self {
        Self {
            scale: Scale::default(),
            log1p: default_log1p(),
            winsorize: default_winsorize(),
            weights: BTreeMap::new(),
            top_n: default_top_n(),
            exclude: Vec::new(),
            balance_groups: true,
            peak_months: default_peak_months(),
            shrink_shares: true,
        }
    }
}

fn default_log1p() -> Vec<String> {
    [
        "monetary",
        "frequency",
        "avg_order_value",
        "recency_days",
        "tenure_days",
        "mean_interpurchase_days",
        "visits_30d",
        "visits_90d",
        "income",
    ]
    .map(String::from)
    .to_vec()
}
fn default_winsorize() -> [f64; 2] {
    [0.01, 0.99]
}
fn default_top_n() -> usize {
    8
}
fn default_true() -> bool {
    true
}
fn default_peak_months() -> Vec<u32> {
    vec![11, 12]
}

/// `[rules]`: which rule sets to compute, how R, F and M are scored, the job's own rules, and
/// `[rules.<preset>]` tables that override a preset's thresholds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleOptions {
    #[serde(default = "default_presets")]
    pub presets: Vec<String>,
    #[serde(default)]
    pub scoring: ScoringOptions,
    #[serde(default)]
    pub custom: Vec<CustomRule>,
    /// Name of the segment that catches customers no custom rule matches.
    #[serde(default = "default_custom_default")]
    pub custom_default: String,
    /// Every other key must be a table named after a preset in `presets` (checked in
    /// `rules::check`, which knows each preset's thresholds); serde cannot deny unknown keys
    /// next to a flattened map, so the check names and suggests them instead.
    #[serde(flatten)]
    pub thresholds: BTreeMap<String, toml::Value>,
}

impl Default for RuleOptions {
    fn default() -> Self {
        Self {
            presets: default_presets(),
            scoring: ScoringOptions::default(),
            custom: Vec::new(),
            custom_default: default_custom_default(),
            thresholds: BTreeMap::new(),
        }
    }
}

fn default_presets() -> Vec<String> {
    vec!["classic-rfm".into(), "lifecycle".into()]
}
fn default_custom_default() -> String {
    "Other".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRule {
    pub name: String,
    pub when: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
}

/// `[rules.scoring]`: how R, F and M values become scores 1..bins.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringOptions {
    #[serde(default = "default_bins")]
    pub bins: u8,
    #[serde(default)]
    pub method: ScoreMethod,
    /// Explicit cut points: `bins - 1` ascending inclusive upper bounds in original units.
    #[serde(default)]
    pub r_cuts: Option<Vec<f64>>,
    #[serde(default)]
    pub f_cuts: Option<Vec<f64>>,
    #[serde(default)]
    pub m_cuts: Option<Vec<f64>>,
}

impl Default for ScoringOptions {
    fn default() -> Self {
        Self {
            bins: default_bins(),
            method: ScoreMethod::default(),
            r_cuts: None,
            f_cuts: None,
            m_cuts: None,
        }
    }
}

fn default_bins() -> u8 {
    5
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScoreMethod {
    /// Quantiles over customers (pandas `qcut`); a value shared by many customers keeps one score.
    #[default]
    Quantile,
    /// Quantiles over the distinct values, each value counted once.
    Distinct,
}

impl ScoringOptions {
    pub fn validate(&self) -> std::result::Result<(), String> {
        if !(2..=9).contains(&self.bins) {
            return Err(format!(
                "[rules.scoring] bins = {}: need 2 to 9 (one digit per score in the RFM cell)",
                self.bins
            ));
        }
        for (key, cuts) in [
            ("r_cuts", &self.r_cuts),
            ("f_cuts", &self.f_cuts),
            ("m_cuts", &self.m_cuts),
        ] {
            let Some(cuts) = cuts else { continue };
            if cuts.len() != self.bins as usize - 1 {
                return Err(format!(
                    "[rules.scoring] {key} has {} cut points; {} bins need {}",
                    cuts.len(),
                    self.bins,
                    self.bins - 1
                ));
            }
            if cuts.iter().any(|c| !c.is_finite()) || cuts.windows(2).any(|w| w[0] >= w[1]) {
                return Err(format!(
                    "[rules.scoring] {key} = {cuts:?}: need finite numbers in strictly ascending order"
                ));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AutoOr<T> {
    Value(T),
    Word(String),
}

impl<T: Copy> AutoOr<T> {
    /// `Some(value)` when fixed, `None` for "auto"; any other word is an error naming the key.
    pub fn fixed(&self, key: &str) -> Result<Option<T>> {
        match self {
            AutoOr::Value(v) => Ok(Some(*v)),
            AutoOr::Word(w) if w == "auto" => Ok(None),
            AutoOr::Word(w) => Err(Error::Data(format!(
                "[discovery] {key} = \"{w}\": expected \"auto\" or a number"
            ))),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryOptions {
    #[serde(default = "auto")]
    pub k: AutoOr<usize>,
    #[serde(default = "default_k_range")]
    pub k_range: [usize; 2],
    /// k-means restarts from different k-means++ seeds; the lowest inertia wins.
    #[serde(default = "default_n_runs")]
    pub n_runs: usize,
    /// Silhouette is O(n²): above this many customers it is computed on a seeded sample.
    #[serde(default = "default_silhouette_sample")]
    pub silhouette_sample: usize,
    pub dbscan_min_points: Option<usize>,
    #[serde(default = "auto")]
    pub dbscan_eps: AutoOr<f64>,
    /// DBSCAN runs on at most this many customers; the rest join the cluster of their nearest
    /// core point (or noise when none is within eps).
    #[serde(default = "default_dbscan_sample")]
    pub dbscan_sample: usize,
    /// Also fit a Gaussian mixture (full covariances), k chosen by BIC over `k_range`.
    #[serde(default)]
    pub gmm: bool,
    #[serde(default = "auto")]
    pub gmm_k: AutoOr<usize>,
    /// Mixture fits per k from different seeds; the highest likelihood wins.
    #[serde(default = "default_gmm_runs")]
    pub gmm_runs: usize,
    /// The mixture is fitted on at most this many customers; every customer gets probabilities.
    #[serde(default = "default_gmm_sample")]
    pub gmm_sample: usize,
    /// Floor added to the mixture's covariance diagonals, in scaled units.
    #[serde(default = "default_gmm_reg_covar")]
    pub gmm_reg_covar: f64,
}

impl Default for DiscoveryOptions {
    fn default() -> Self {
        Self {
            k: auto(),
            k_range: default_k_range(),
            n_runs: default_n_runs(),
            silhouette_sample: default_silhouette_sample(),
            dbscan_min_points: None,
            dbscan_eps: auto(),
            dbscan_sample: default_dbscan_sample(),
            gmm: false,
            gmm_k: auto(),
            gmm_runs: default_gmm_runs(),
            gmm_sample: default_gmm_sample(),
            gmm_reg_covar: default_gmm_reg_covar(),
        }
    }
}

fn auto<T>() -> AutoOr<T> {
    AutoOr::Word("auto".into())
}
fn default_k_range() -> [usize; 2] {
    [2, 10]
}
fn default_n_runs() -> usize {
    10
}
fn default_silhouette_sample() -> usize {
    5000
}
fn default_dbscan_sample() -> usize {
    20_000
}
fn default_gmm_runs() -> usize {
    2
}
fn default_gmm_sample() -> usize {
    10_000
}
fn default_gmm_reg_covar() -> f64 {
    crate::cluster::gmm::DEFAULT_REG_COVAR
}

impl Job {
    pub fn from_file(path: &Path) -> Result<Job> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Job {
            path: path.to_path_buf(),
            message: format!("cannot read it: {e}"),
        })?;
        let mut job = Job::from_toml(&text).map_err(|message| Error::Job {
            path: path.to_path_buf(),
            message,
        })?;
        job.base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        job.validate().map_err(|message| Error::Job {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(job)
    }

    pub fn from_toml(text: &str) -> std::result::Result<Job, String> {
        toml::from_str::<Job>(text).map_err(|e| with_suggestion(&e.to_string()))
    }

    pub fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    pub fn as_of_date(&self) -> std::result::Result<Option<NaiveDate>, String> {
        self.as_of
            .as_deref()
            .map(|s| {
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|_| format!("as_of = \"{s}\": expected a date like 2025-12-31"))
            })
            .transpose()
    }

    /// The checks beyond the file's syntax (value ranges, names, keys that need each other).
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.name.trim().is_empty()
            || self.name.contains(['/', '\\'])
            || self.name.starts_with('.')
        {
            return Err(format!(
                "name = \"{}\": use a plain folder name (no slashes, not starting with a dot)",
                self.name
            ));
        }
        self.as_of_date()?;
        if self.inputs.transactions.is_none() && self.inputs.customers.is_none() {
            return Err("[inputs] needs a transactions table or a customers table".into());
        }
        if let Some(t) = &self.inputs.transactions {
            let has_product = t.quantity.is_some() && t.unit_price.is_some();
            if t.amount.is_none() && !has_product {
                return Err(
                    "[inputs.transactions] needs `amount`, or both `quantity` and `unit_price`"
                        .into(),
                );
            }
        }
        self.validate_sources()?;
        let [lo, hi] = self.discovery.k_range;
        if lo < 2 || hi < lo {
            return Err(format!(
                "[discovery] k_range = [{lo}, {hi}]: need 2 <= low <= high"
            ));
        }
        let [wlo, whi] = self.features.winsorize;
        if !(0.0..=1.0).contains(&wlo) || !(0.0..=1.0).contains(&whi) || wlo >= whi {
            return Err(format!(
                "[features] winsorize = [{wlo}, {whi}]: need 0 <= low < high <= 1"
            ));
        }
        for (group, w) in &self.features.weights {
            if !crate::features::FeatureGroup::ALL
                .iter()
                .any(|g| g.name() == group)
            {
                let names: Vec<&str> = crate::features::FeatureGroup::ALL
                    .iter()
                    .map(|g| g.name())
                    .collect();
                return Err(format!(
                    "[features.weights] unknown group `{group}`{}; groups are {}",
                    suggest(group, &names),
                    names.join(", ")
                ));
            }
            if !w.is_finite() || *w < 0.0 {
                return Err(format!(
                    "[features.weights] {group} = {w}: need a number >= 0"
                ));
            }
        }
        self.rules.scoring.validate()?;
        if self.discovery.n_runs == 0 {
            return Err("[discovery] n_runs must be at least 1".into());
        }
        if self.discovery.gmm_runs == 0 {
            return Err("[discovery] gmm_runs must be at least 1".into());
        }
        if self.discovery.gmm_sample < 10 {
            return Err(format!(
                "[discovery] gmm_sample = {}: need at least 10 customers to fit a mixture on",
                self.discovery.gmm_sample
            ));
        }
        let reg = self.discovery.gmm_reg_covar;
        if !reg.is_finite() || reg <= 0.0 {
            return Err(format!(
                "[discovery] gmm_reg_covar = {reg}: need a number > 0 (default {})",
                crate::cluster::gmm::DEFAULT_REG_COVAR
            ));
        }
        if self.primary == Primary::Gmm && !self.discovery.gmm {
            return Err(
                "primary = \"gmm\" needs the Gaussian mixture: set `gmm = true` under [discovery]"
                    .into(),
            );
        }
        Ok(())
    }

    /// Every input reads files (`path`) or a query over the declared tables (`query`), never
    /// both; table names are plain SQL names, so a query can name them without quotes.
    fn validate_sources(&self) -> std::result::Result<(), String> {
        for name in self.tables.keys() {
            let plain = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !plain {
                return Err(format!(
                    "[tables.{name}]: a table name is letters, digits and _ (starting with a letter), so that a query can name it"
                ));
            }
        }
        for (input, source) in self.inputs.sources() {
            match (source.path, source.query) {
                (None, None) => {
                    return Err(format!(
                        "[inputs.{input}] needs `path` (a CSV or Parquet file, a folder or a glob) or `query` (SQL over the job's [tables.<name>])"
                    ))
                }
                (Some(_), Some(_)) => {
                    return Err(format!(
                        "[inputs.{input}] has both `path` and `query`; keep one"
                    ))
                }
                (None, Some(_)) if self.tables.is_empty() => {
                    return Err(format!(
                        "[inputs.{input}] query: the job declares no tables to query; add [tables.<name>] with the `path` of each"
                    ))
                }
                _ => {}
            }
            if let Some(ids) = source.missing_ids {
                if let Some(blank) = ids
                    .iter()
                    .find(|id| id.trim() != id.as_str() || id.is_empty())
                {
                    return Err(format!(
                        "[inputs.{input}] missing_ids: \"{blank}\" has spaces around it or is empty; cells are compared trimmed, and blank cells are always missing"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// serde names the unknown key and lists the valid ones; add the nearest valid one.
fn with_suggestion(message: &str) -> String {
    let Some(start) = message.find("unknown field `") else {
        return message.to_string();
    };
    let rest = &message[start + "unknown field `".len()..];
    let Some(end) = rest.find('`') else {
        return message.to_string();
    };
    let unknown = &rest[..end];
    let expected: Vec<&str> = rest[end..].split('`').skip(2).step_by(2).collect();
    format!("{}{}", message.trim_end(), suggest(unknown, &expected))
}

/// ", did you mean `x`?" for the closest candidate, or nothing when none is close.
pub fn suggest(unknown: &str, candidates: &[&str]) -> String {
    // A key cut short ("active" for "active_days") counts as one edit away.
    let distance = |c: &str| {
        if unknown.len() >= 3 && c.starts_with(unknown) {
            1
        } else {
            strsim::levenshtein(unknown, c)
        }
    };
    candidates
        .iter()
        .map(|c| (distance(c), *c))
        .filter(|(d, c)| *d <= 3.max(c.len() / 3))
        .min()
        .map(|(_, c)| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}
