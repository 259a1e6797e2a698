//! The options of every stage: `[features]`, `[rules]` and `[discovery]`, each with the checks
//! of its own values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::suggest::suggest;
use super::Auto;
use crate::error::JobError;

/// The feature groups `[features.weights]` may name; `features::FeatureGroup` has one per name
/// (a unit test there keeps the two lists equal, so the job format needs no stage module).
pub const FEATURE_GROUPS: [&str; 5] = ["rfm", "behaviour", "habits", "engagement", "demographic"];

/// Covariance floor added to the mixture's diagonals when the job sets none (`[discovery]
/// gmm_reg_covar`). The matrix is scaled to unit spread, so 0.01 is a floor of 0.1 standard
/// deviations: it keeps components from collapsing onto customers with identical values (no
/// refunds, clipped values), whose near-zero variances make the likelihood — and BIC — improve
/// without end as k grows. scikit-learn's default is 1e-6.
pub const DEFAULT_GMM_REG_COVAR: f64 = 0.01;

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
    /// Lifetime-model columns (`p_alive`, `expected_purchases`, …) to cluster on as well; by
    /// default they are only reported, exported and usable in rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
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
    /// The values that get their own column, per column prefix (`category`, `channel`,
    /// `gender`, `city`, `tag`, …), in place of the top-N by the data: a SQL engine's query
    /// cannot name its columns after the data, and a listed set keeps columns from run to run.
    #[serde(default)]
    pub values: BTreeMap<String, Vec<String>>,
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
            include: Vec::new(),
            balance_groups: true,
            peak_months: default_peak_months(),
            shrink_shares: true,
            values: BTreeMap::new(),
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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryOptions {
    #[serde(default)]
    pub k: Auto<usize>,
    #[serde(default = "default_k_range")]
    pub k_range: [usize; 2],
    /// k-means restarts from different k-means++ seeds; the lowest inertia wins.
    #[serde(default = "default_n_runs")]
    pub n_runs: usize,
    /// Silhouette is O(n²): above this many customers it is computed on a seeded sample.
    #[serde(default = "default_silhouette_sample")]
    pub silhouette_sample: usize,
    /// Also run DBSCAN. Left out, it runs when the job asks for it otherwise (`primary =
    /// "dbscan"`, a `dbscan_eps` or `dbscan_min_points`) and not by default: on generated logs of
    /// 100,000 to a million customers it cost more than a tenth of the whole job (BENCHMARKS.md).
    #[serde(default)]
    pub dbscan: Option<bool>,
    pub dbscan_min_points: Option<usize>,
    #[serde(default)]
    pub dbscan_eps: Auto<f64>,
    /// DBSCAN runs on at most this many customers; the rest join the cluster of their nearest
    /// core point (or noise when none is within eps).
    #[serde(default = "default_dbscan_sample")]
    pub dbscan_sample: usize,
    /// Also fit a Gaussian mixture (full covariances), k chosen by BIC over `k_range`.
    #[serde(default)]
    pub gmm: bool,
    #[serde(default)]
    pub gmm_k: Auto<usize>,
    /// Mixture fits per k from different seeds; the highest likelihood wins.
    #[serde(default = "default_gmm_runs")]
    pub gmm_runs: usize,
    /// The mixture is fitted on at most this many customers; every customer gets probabilities.
    #[serde(default = "default_gmm_sample")]
    pub gmm_sample: usize,
    /// Floor added to the mixture's covariance diagonals, in scaled units.
    #[serde(default = "default_gmm_reg_covar")]
    pub gmm_reg_covar: f64,
    /// Above this many customers the preparation and every method are fitted on a seeded
    /// uniform sample of this size, and every customer is then assigned with the fitted model:
    /// memory and time stay bounded however large the customer base grows.
    #[serde(default = "default_fit_sample")]
    pub fit_sample: usize,
}

impl Default for DiscoveryOptions {
    fn default() -> Self {
        Self {
            k: Auto::Auto,
            k_range: default_k_range(),
            n_runs: default_n_runs(),
            silhouette_sample: default_silhouette_sample(),
            dbscan: None,
            dbscan_min_points: None,
            dbscan_eps: Auto::Auto,
            dbscan_sample: default_dbscan_sample(),
            gmm: false,
            gmm_k: Auto::Auto,
            gmm_runs: default_gmm_runs(),
            gmm_sample: default_gmm_sample(),
            gmm_reg_covar: default_gmm_reg_covar(),
            fit_sample: default_fit_sample(),
        }
    }
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
    DEFAULT_GMM_REG_COVAR
}
fn default_fit_sample() -> usize {
    1_000_000
}

/// The smallest `fit_sample`: below it a sample says too little about the customers to fit a
/// preparation's percentiles and a k scan on.
pub const MIN_FIT_SAMPLE: usize = 100;

impl FeatureOptions {
    pub fn validate(&self) -> Result<(), JobError> {
        let section = "[features]";
        let [low, high] = self.winsorize;
        if !(0.0..=1.0).contains(&low) || !(0.0..=1.0).contains(&high) || low >= high {
            return Err(JobError::invalid(
                section,
                format!("winsorize = [{low}, {high}]: need 0 <= low < high <= 1"),
            ));
        }
        for (group, weight) in &self.weights {
            if !FEATURE_GROUPS.contains(&group.as_str()) {
                return Err(JobError::invalid(
                    "[features.weights]",
                    format!(
                        "unknown group `{group}`{}; groups are {}",
                        suggest(group, &FEATURE_GROUPS),
                        FEATURE_GROUPS.join(", ")
                    ),
                ));
            }
            if !weight.is_finite() || *weight < 0.0 {
                return Err(JobError::invalid(
                    "[features.weights]",
                    format!("{group} = {weight}: need a number >= 0"),
                ));
            }
        }
        if let Some(month) = self.peak_months.iter().find(|m| !(1..=12).contains(*m)) {
            return Err(JobError::invalid(
                section,
                format!("peak_months: {month} is not a month number (1 to 12)"),
            ));
        }
        if self.top_n == 0 {
            return Err(JobError::invalid(
                section,
                "top_n = 0: need at least 1 value of a category as its own column",
            ));
        }
        Ok(())
    }
}

impl RuleOptions {
    /// The values the job alone decides; the presets named and their threshold tables are
    /// checked against the preset files by `rules::check_options`, before any data is read.
    pub fn validate(&self) -> Result<(), JobError> {
        self.scoring.validate()?;
        for rule in &self.custom {
            if rule.name.trim().is_empty() || rule.when.trim().is_empty() {
                return Err(JobError::invalid(
                    "[[rules.custom]]",
                    format!(
                        "name = \"{}\", when = \"{}\": every custom rule needs a name and a condition",
                        rule.name, rule.when
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl ScoringOptions {
    pub fn validate(&self) -> Result<(), JobError> {
        let section = "[rules.scoring]";
        if !(2..=9).contains(&self.bins) {
            return Err(JobError::invalid(
                section,
                format!(
                    "bins = {}: need 2 to 9 (one digit per score in the RFM cell)",
                    self.bins
                ),
            ));
        }
        for (key, cuts) in [
            ("r_cuts", &self.r_cuts),
            ("f_cuts", &self.f_cuts),
            ("m_cuts", &self.m_cuts),
        ] {
            let Some(cuts) = cuts else { continue };
            if cuts.len() != self.bins as usize - 1 {
                return Err(JobError::invalid(
                    section,
                    format!(
                        "{key} has {} cut points; {} bins need {}",
                        cuts.len(),
                        self.bins,
                        self.bins - 1
                    ),
                ));
            }
            if cuts.iter().any(|c| !c.is_finite()) || cuts.windows(2).any(|w| w[0] >= w[1]) {
                return Err(JobError::invalid(
                    section,
                    format!("{key} = {cuts:?}: need finite numbers in strictly ascending order"),
                ));
            }
        }
        Ok(())
    }
}

impl DiscoveryOptions {
    pub fn validate(&self) -> Result<(), JobError> {
        let section = "[discovery]";
        let [low, high] = self.k_range;
        if low < 2 || high < low {
            return Err(JobError::invalid(
                section,
                format!("k_range = [{low}, {high}]: need 2 <= low <= high"),
            ));
        }
        for (key, k) in [("k", self.k), ("gmm_k", self.gmm_k)] {
            if k == Auto::Fixed(0) {
                return Err(JobError::invalid(
                    section,
                    format!("{key} = 0: {key} must be at least 1 (or \"auto\")"),
                ));
            }
        }
        if let Auto::Fixed(eps) = self.dbscan_eps {
            if !eps.is_finite() || eps <= 0.0 {
                return Err(JobError::invalid(
                    section,
                    format!("dbscan_eps = {eps}: need a distance > 0 (or \"auto\")"),
                ));
            }
        }
        if let Some(points) = self.dbscan_min_points.filter(|p| *p < 2) {
            return Err(JobError::invalid(
                section,
                format!("dbscan_min_points = {points}: a dense region needs at least 2 points"),
            ));
        }
        for (key, runs) in [("n_runs", self.n_runs), ("gmm_runs", self.gmm_runs)] {
            if runs == 0 {
                return Err(JobError::invalid(
                    section,
                    format!("{key} must be at least 1"),
                ));
            }
        }
        for (key, sample, what) in [
            ("gmm_sample", self.gmm_sample, "to fit a mixture on"),
            ("dbscan_sample", self.dbscan_sample, "to run DBSCAN on"),
            (
                "silhouette_sample",
                self.silhouette_sample,
                "to score clusters on",
            ),
        ] {
            if sample < 10 {
                return Err(JobError::invalid(
                    section,
                    format!("{key} = {sample}: need at least 10 customers {what}"),
                ));
            }
        }
        self.validate_fit_sample()?;
        let floor = self.gmm_reg_covar;
        if !floor.is_finite() || floor <= 0.0 {
            return Err(JobError::invalid(
                section,
                format!(
                    "gmm_reg_covar = {floor}: need a number > 0 (default {DEFAULT_GMM_REG_COVAR})"
                ),
            ));
        }
        Ok(())
    }

    /// The fit sample must hold a useful number of customers for every k the job may fit: at
    /// least [`MIN_FIT_SAMPLE`] and ten per cluster of the largest k.
    fn validate_fit_sample(&self) -> Result<(), JobError> {
        let largest_k = [self.k.fixed(), self.gmm_k.fixed(), Some(self.k_range[1])]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(0);
        let least = MIN_FIT_SAMPLE.max(10 * largest_k);
        if self.fit_sample < least {
            return Err(JobError::invalid(
                "[discovery]",
                format!(
                    "fit_sample = {}: need at least {least} customers to fit on ({MIN_FIT_SAMPLE}, and 10 per cluster of the largest k, {largest_k})",
                    self.fit_sample
                ),
            ));
        }
        Ok(())
    }
}
