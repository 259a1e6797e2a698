//! The fitted preparation: imputation, log1p, winsorising, scaling and group weights, kept as a
//! value (saved in model.json) so that next month's customers get exactly the same transform.

use std::collections::BTreeMap;
use std::ops::Range;

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{FeatureGroup, FeatureKind, FeatureTable};
use crate::error::{Error, Result};
use crate::job::{FeatureOptions, Scale};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Impute {
    Median,
    Max,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreparedColumn {
    pub name: String,
    pub group: FeatureGroup,
    pub kind: FeatureKind,
    pub impute: Impute,
    /// The value a missing cell gets (in original units).
    pub fill: f64,
    pub log1p: bool,
    /// Clip bounds after log1p, from the winsorising percentiles of the fit data.
    pub clip: Option<(f64, f64)>,
    pub center: f64,
    pub scale: f64,
    pub weight: f64,
    /// A share or rate pulled towards its base rate by how few observations it comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shrink: Option<Shrinkage>,
}

/// Empirical-Bayes shrinkage of a share: a customer's share from `n` observations (orders,
/// mailings) becomes (share·n + base·strength) / (n + strength), the mean of a beta prior fitted
/// to all customers by the method of moments. A share from one order then sits near the base
/// rate and one from fifty near the customer's own; `strength` is the prior's worth in
/// observations (the customer with that many sits halfway).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shrinkage {
    /// The feature holding each customer's number of observations.
    pub trials: String,
    pub base: f64,
    pub strength: f64,
}

/// What the method of moments finds for one share.
enum Prior {
    Fitted(Shrinkage),
    /// The shares vary no more than chance would at these numbers of observations.
    PureNoise {
        base: f64,
    },
    /// Nothing to estimate from (no variation, or every customer with one observation only).
    None,
}

impl Shrinkage {
    /// Fits the beta prior from the customers' shares and observation counts: with p̂ᵢ from nᵢ
    /// observations, Var(p̂) = μ(1−μ)·(ρ + (1−ρ)·mean(1/n)), where ρ = 1/(strength + 1) is the
    /// share of the variance that is between customers.
    fn fit(trials: &super::Trials, shares: &[Option<f64>], counts: &[Option<f64>]) -> Prior {
        let pairs: Vec<(f64, f64)> = shares
            .iter()
            .zip(counts)
            .filter_map(|(p, n)| Some((p.filter(|p| p.is_finite())?, n.unwrap_or(0.0).max(1.0))))
            .collect();
        if pairs.len() < 2 {
            return Prior::None;
        }
        let m = pairs.len() as f64;
        let base = pairs.iter().map(|(p, _)| p).sum::<f64>() / m;
        let spread = pairs.iter().map(|(p, _)| (p - base).powi(2)).sum::<f64>() / m;
        let inverse_n = pairs.iter().map(|(_, n)| 1.0 / n).sum::<f64>() / m;
        let bernoulli = base * (1.0 - base);
        if bernoulli <= 1e-12 || spread <= 1e-18 || 1.0 - inverse_n < 1e-9 {
            return Prior::None;
        }
        let between = (spread / bernoulli - inverse_n) / (1.0 - inverse_n);
        // At or below the binomial noise (to rounding): nothing between customers to find. For a
        // share of money the binomial noise is only an approximation; then it is left as it is.
        if between <= 1e-6 {
            return if trials.counted {
                Prior::PureNoise { base }
            } else {
                Prior::None
            };
        }
        Prior::Fitted(Shrinkage {
            trials: trials.feature.clone(),
            base,
            strength: ((1.0 - between) / between).max(0.0),
        })
    }

    fn apply(&self, share: f64, observations: f64) -> f64 {
        let n = observations.max(1.0);
        (share * n + self.base * self.strength) / (n + self.strength)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DroppedColumn {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Preparation {
    pub scale: Scale,
    pub columns: Vec<PreparedColumn>,
    pub dropped: Vec<DroppedColumn>,
}

/// What fitting found: cells imputed per feature, and warnings for the report.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FitReport {
    pub imputed: BTreeMap<String, usize>,
    pub warnings: Vec<String>,
}

/// The clustering matrix: one row per customer (row-major, as linfa's DBSCAN needs), with the
/// names of its columns and the customer of each row.
pub struct FeatureMatrix {
    pub customer_ids: Vec<String>,
    pub names: Vec<String>,
    pub matrix: Array2<f64>,
}

/// Why a feature was left out before fitting: the job excluded it, or it has no value at all.
const EXCLUDED: &str = "excluded by the job";
const ALL_MISSING: &str = "every value is missing";

/// One column's fit: what it adds to the fit report, and the prepared column or why it was
/// dropped.
struct ColumnFit {
    imputed: Option<usize>,
    warning: Option<String>,
    column: std::result::Result<PreparedColumn, DroppedColumn>,
}

impl ColumnFit {
    fn dropped(
        feature: &super::Feature,
        reason: &str,
        imputed: Option<usize>,
        warning: Option<String>,
    ) -> Self {
        ColumnFit {
            imputed,
            warning,
            column: Err(DroppedColumn {
                name: feature.name.clone(),
                reason: reason.into(),
            }),
        }
    }
}

fn fit_column(
    feature: &super::Feature,
    table: &FeatureTable,
    options: &FeatureOptions,
) -> ColumnFit {
    if options.exclude.contains(&feature.name) {
        return ColumnFit::dropped(feature, EXCLUDED, None, None);
    }
    let present: Vec<f64> = feature.values.iter().flatten().copied().collect();
    if present.is_empty() {
        return ColumnFit::dropped(feature, ALL_MISSING, None, None);
    }
    let missing = feature.values.len() - present.len();
    let imputed = (missing > 0).then_some(missing);
    let observations = feature
        .trials
        .as_ref()
        .and_then(|t| table.feature(&t.feature))
        .map(|t| t.values.as_slice());
    let shrink = match shrinkage(feature, observations, options) {
        Ok(shrink) => shrink,
        Err(base) => {
            let warning = format!(
                "feature '{}' was dropped: its shares vary no more than chance would at these numbers of {} (base rate {:.0} %), so it cannot tell customers apart",
                feature.name,
                observations_word(feature.trials.as_ref().map(|t| t.feature.as_str())),
                100.0 * base
            );
            return ColumnFit::dropped(
                feature,
                "shares no more varied than chance",
                imputed,
                Some(warning),
            );
        }
    };
    let present: Vec<f64> = match (&shrink, observations) {
        (Some(s), Some(n)) => feature
            .values
            .iter()
            .zip(n)
            .filter_map(|(v, n)| Some(s.apply((*v)?, n.unwrap_or(0.0))))
            .collect(),
        _ => present,
    };
    let present_sorted = sorted(&present);
    let fill = match feature.impute {
        Impute::Median => percentile(&present_sorted, 0.5),
        Impute::Max => present_sorted[present_sorted.len() - 1],
    };
    let mut column = PreparedColumn {
        name: feature.name.clone(),
        group: feature.group,
        kind: feature.kind,
        impute: feature.impute,
        fill,
        log1p: feature.kind == FeatureKind::Numeric && options.log1p.contains(&feature.name),
        clip: None,
        center: 0.0,
        scale: 1.0,
        weight: 1.0,
        shrink,
    };
    let mut values: Vec<f64> = feature
        .values
        .iter()
        .enumerate()
        .map(|(i, v)| column.apply(*v, observations.and_then(|n| n[i])))
        .collect();
    if feature.kind != FeatureKind::Indicator {
        let s = sorted(&values);
        let bounds = (
            percentile(&s, options.winsorize[0]),
            percentile(&s, options.winsorize[1]),
        );
        // A sparse share (99 % zeros) would collapse to a constant: leave it unclipped.
        if bounds.1 > bounds.0 {
            column.clip = Some(bounds);
            values
                .iter_mut()
                .for_each(|v| *v = v.clamp(bounds.0, bounds.1));
        }
    }
    // A shrunk share keeps the raw shares' scale: were it scaled by its own spread, which
    // shrinkage narrows where most customers have few orders, a one-order customer's small
    // step from the base rate would grow back into a full standard deviation.
    let raw_scale = || {
        let raw: Vec<f64> = feature.values.iter().map(|v| v.unwrap_or(fill)).collect();
        center_and_scale(&raw, options.scale).map(|(_, scale)| scale)
    };
    let scaled =
        center_and_scale(&values, options.scale).map(|(center, scale)| match &column.shrink {
            Some(_) => (center, raw_scale().unwrap_or(scale)),
            None => (center, scale),
        });
    match scaled {
        Some((center, scale)) => {
            column.center = center;
            column.scale = scale;
            ColumnFit {
                imputed,
                warning: None,
                column: Ok(column),
            }
        }
        None => {
            let warning = format!(
                "feature '{}' has the same value for every customer and was dropped",
                feature.name
            );
            ColumnFit::dropped(feature, "zero variance", imputed, Some(warning))
        }
    }
}

/// log1p that keeps the sign, so net spend made negative by refunds stays defined.
fn signed_log1p(x: f64) -> f64 {
    x.signum() * x.abs().ln_1p()
}

/// Linear-interpolated percentile of sorted values (numpy's default method).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lower = position.floor() as usize;
    let upper = position.ceil() as usize;
    sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower as f64)
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    v
}

impl PreparedColumn {
    /// The prepared value of a customer's value, with the customer's number of observations
    /// behind it (used by a shrunk share only).
    pub fn apply(&self, value: Option<f64>, observations: Option<f64>) -> f64 {
        let mut x = match (value, &self.shrink) {
            (Some(v), Some(shrink)) => shrink.apply(v, observations.unwrap_or(0.0)),
            (Some(v), None) => v,
            (None, _) => self.fill,
        };
        if self.log1p {
            x = signed_log1p(x);
        }
        if let Some((lo, hi)) = self.clip {
            x = x.clamp(lo, hi);
        }
        (x - self.center) / self.scale * self.weight
    }
}

impl Preparation {
    pub fn fit(table: &FeatureTable, options: &FeatureOptions) -> Result<(Preparation, FitReport)> {
        let mut report = FitReport::default();
        let mut columns = Vec::new();
        let mut dropped = Vec::new();
        // Each column is fitted on its own (two sorts of every customer's value): in parallel,
        // then gathered in the table's order.
        let fits: Vec<ColumnFit> = table
            .features
            .par_iter()
            .map(|feature| fit_column(feature, table, options))
            .collect();
        for (feature, fit) in table.features.iter().zip(fits) {
            if let Some(missing) = fit.imputed {
                report.imputed.insert(feature.name.clone(), missing);
            }
            report.warnings.extend(fit.warning);
            match fit.column {
                Ok(column) => columns.push(column),
                Err(column) => dropped.push(column),
            }
        }
        let blocks: BTreeMap<&str, &str> = table
            .features
            .iter()
            .filter_map(|f| Some((f.name.as_str(), f.block.as_deref()?)))
            .collect();
        apply_weights(&mut columns, &blocks, options, &mut dropped);
        if columns.is_empty() {
            return Err(no_feature_left(table, &dropped));
        }
        Ok((
            Preparation {
                scale: options.scale,
                columns,
                dropped,
            },
            report,
        ))
    }

    pub fn transform(&self, table: &FeatureTable) -> Result<FeatureMatrix> {
        self.fill(table, false).map(|(matrix, _)| matrix)
    }

    /// As `transform`, for data other than the fit data: a share or indicator column it lacks
    /// (a category value no longer among its top values) is taken as 0 and named in the notes.
    pub fn transform_new_data(&self, table: &FeatureTable) -> Result<(FeatureMatrix, Vec<String>)> {
        self.fill(table, true)
    }

    /// The shares shrunk towards their base rate, with the prior found for each.
    pub fn shrunk(&self) -> Vec<(&str, &Shrinkage)> {
        self.columns
            .iter()
            .filter_map(|c| Some((c.name.as_str(), c.shrink.as_ref()?)))
            .collect()
    }

    /// The prepared rows `rows` of `table` (strict, as [`Preparation::transform`]): how every
    /// customer is assigned a batch at a time when discovery fitted on a sample, so that the
    /// whole prepared matrix is never held at once.
    pub fn transform_rows(&self, table: &FeatureTable, rows: Range<usize>) -> Result<Array2<f64>> {
        self.fill_rows(table, rows, false).map(|(matrix, _)| matrix)
    }

    fn fill(&self, table: &FeatureTable, lenient: bool) -> Result<(FeatureMatrix, Vec<String>)> {
        let (matrix, notes) = self.fill_rows(table, 0..table.len(), lenient)?;
        let matrix = FeatureMatrix {
            customer_ids: table.customer_ids.clone(),
            names: self.columns.iter().map(|c| c.name.clone()).collect(),
            matrix,
        };
        Ok((matrix, notes))
    }

    fn fill_rows(
        &self,
        table: &FeatureTable,
        rows: Range<usize>,
        lenient: bool,
    ) -> Result<(Array2<f64>, Vec<String>)> {
        let d = self.columns.len();
        let mut matrix = Array2::<f64>::zeros((rows.len(), d));
        let mut notes = Vec::new();
        for (j, column) in self.columns.iter().enumerate() {
            let Some(feature) = table.feature(&column.name) else {
                if lenient && column.kind != FeatureKind::Numeric {
                    notes.push(format!(
                        "the new data has no feature '{}'; it is taken as 0 for every customer",
                        column.name
                    ));
                    matrix.column_mut(j).fill(column.apply(Some(0.0), None));
                    continue;
                }
                return Err(Error::data(format!(
                    "the data has no feature '{}' that the fitted preparation needs",
                    column.name
                )));
            };
            let observations = column
                .shrink
                .as_ref()
                .and_then(|s| table.feature(&s.trials))
                .map(|t| t.values.as_slice());
            for (out, i) in rows.clone().enumerate() {
                matrix[[out, j]] = column.apply(feature.values[i], observations.and_then(|n| n[i]));
            }
        }
        Ok((matrix, notes))
    }
}

/// Missing cells per feature of `table` that the preparation imputes — every feature it was not
/// told to leave out and that has some values, as [`Preparation::fit`] counts them: the counts
/// over every customer when the preparation was fitted on a sample of them.
pub fn imputed_cells(table: &FeatureTable, preparation: &Preparation) -> BTreeMap<String, usize> {
    let skipped = |name: &str| {
        preparation
            .dropped
            .iter()
            .any(|d| d.name == name && (d.reason == EXCLUDED || d.reason == ALL_MISSING))
    };
    table
        .features
        .iter()
        .filter(|f| !skipped(&f.name))
        .filter_map(|f| {
            let missing = f.values.iter().filter(|v| v.is_none()).count();
            (missing > 0 && missing < f.values.len()).then(|| (f.name.clone(), missing))
        })
        .collect()
}

/// The prior a share is shrunk with: None when it has no observation count, the job turns
/// shrinkage off or no prior can be fitted; Err(base rate) when its shares are pure chance.
fn shrinkage(
    feature: &super::Feature,
    observations: Option<&[Option<f64>]>,
    options: &FeatureOptions,
) -> std::result::Result<Option<Shrinkage>, f64> {
    let (Some(trials), Some(counts)) = (&feature.trials, observations) else {
        return Ok(None);
    };
    if feature.kind != FeatureKind::Share || !options.shrink_shares {
        return Ok(None);
    }
    match Shrinkage::fit(trials, &feature.values, counts) {
        Prior::Fitted(shrink) => Ok(Some(shrink)),
        Prior::PureNoise { base } => Err(base),
        Prior::None => Ok(None),
    }
}

/// "orders" or "mailings": what a share's observations are, in the analyst's words.
pub fn observations_word(trials: Option<&str>) -> &'static str {
    match trials {
        Some("campaigns_received") => "mailings",
        _ => "orders",
    }
}

/// The error when preparation leaves no column: all customers alike, or every varying feature
/// excluded or weighted 0 by the job.
fn no_feature_left(table: &FeatureTable, dropped: &[DroppedColumn]) -> Error {
    let n = table.len();
    if n == 1 {
        return Error::data(format!(
            "the data holds only 1 customer ('{}'); there is nothing to cluster — segments need at least 3 customers; check the input files and the as_of date",
            table.customer_ids[0]
        ));
    }
    let varies = |values: &[Option<f64>]| values.windows(2).any(|w| w[0] != w[1]);
    let varying: Vec<&str> = table
        .features
        .iter()
        .filter(|f| varies(&f.values))
        .map(|f| f.name.as_str())
        .collect();
    if varying.is_empty() {
        return Error::data(format!(
            "all {n} customers have identical features; there is nothing to cluster — every feature has the same value for everyone (check that the inputs map the right columns, or add customers whose purchases differ)"
        ));
    }
    let reasons: Vec<String> = dropped
        .iter()
        .filter(|d| varying.contains(&d.name.as_str()))
        .map(|d| format!("{} ({})", d.name, d.reason))
        .collect();
    Error::data(format!(
        "no usable feature is left for clustering: every feature is constant, missing or excluded; the ones that vary were removed: {} — keep at least one of them out of [features] exclude and give its group a weight above 0",
        reasons.join(", ")
    ))
}

/// Centre and scale of the chosen scaler; None when the column does not vary.
fn center_and_scale(values: &[f64], scale: Scale) -> Option<(f64, f64)> {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    if std <= 1e-12 * mean.abs().max(1.0) {
        return None;
    }
    Some(match scale {
        Scale::Zscore => (mean, std),
        Scale::Minmax => {
            let (lo, hi) = values
                .iter()
                .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
            (lo, hi - lo)
        }
        Scale::Robust => {
            let s = sorted(values);
            let iqr = percentile(&s, 0.75) - percentile(&s, 0.25);
            // A rare indicator has IQR 0 yet varies: fall back to its standard deviation.
            (percentile(&s, 0.5), if iqr > 1e-12 { iqr } else { std })
        }
    })
}

/// Column weight = group weight, divided by √(columns in the group) when groups are balanced, so
/// a group's total influence on distances does not grow with its number of columns. The one-hot
/// indicators of one categorical column (`blocks`: feature → column) count as one column of the
/// group and share its weight (each divided by √(indicators of the column)), so gender's two
/// complementary indicators do not weigh twice what age does.
fn apply_weights(
    columns: &mut Vec<PreparedColumn>,
    blocks: &BTreeMap<&str, &str>,
    options: &FeatureOptions,
    dropped: &mut Vec<DroppedColumn>,
) {
    let units: Vec<String> = columns
        .iter()
        .map(|c| {
            blocks
                .get(c.name.as_str())
                .copied()
                .unwrap_or(&c.name)
                .to_string()
        })
        .collect();
    let mut per_block: BTreeMap<&str, usize> = BTreeMap::new();
    let mut per_group: BTreeMap<FeatureGroup, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for (c, unit) in columns.iter().zip(&units) {
        *per_block.entry(unit).or_default() += 1;
        per_group.entry(c.group).or_default().insert(unit);
    }
    let weights: Vec<f64> = columns
        .iter()
        .zip(&units)
        .map(|(c, unit)| {
            let group_weight = options.weights.get(c.group.name()).copied().unwrap_or(1.0);
            let balance = if options.balance_groups {
                (per_group[&c.group].len() as f64).sqrt()
            } else {
                1.0
            };
            group_weight / balance / (per_block[unit.as_str()] as f64).sqrt()
        })
        .collect();
    for (c, w) in columns.iter_mut().zip(weights) {
        c.weight = w;
    }
    columns.retain(|c| {
        let keep = c.weight > 0.0;
        if !keep {
            dropped.push(DroppedColumn {
                name: c.name.clone(),
                reason: format!("group '{}' has weight 0", c.group.name()),
            });
        }
        keep
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_matches_numpy_linear() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 0.5), 2.5);
        assert!((percentile(&v, 0.99) - 3.97).abs() < 1e-12);
    }

    #[test]
    fn shares_from_few_orders_are_pulled_to_the_base_rate() {
        // Half the customers share 0.8 of the time, half 0.2, each seen over 1, 2, 10 or 50 orders;
        // their observed shares are whole multiples of 1/n.
        let mut shares = Vec::new();
        let mut counts = Vec::new();
        for (i, n) in [1.0f64, 2.0, 10.0, 50.0]
            .iter()
            .cycle()
            .take(400)
            .enumerate()
        {
            let truth: f64 = if i % 2 == 0 { 0.8 } else { 0.2 };
            let hits = (truth * n).round();
            shares.push(Some(hits / n));
            counts.push(Some(*n));
        }
        let orders = super::super::Trials::counted("frequency").unwrap();
        let Prior::Fitted(prior) = Shrinkage::fit(&orders, &shares, &counts) else {
            panic!("a prior")
        };
        assert!((prior.base - 0.5).abs() < 0.05, "{prior:?}");
        assert!(prior.strength > 0.5 && prior.strength < 10.0, "{prior:?}");
        // One order says little, fifty say a lot.
        let one = prior.apply(1.0, 1.0);
        let fifty = prior.apply(1.0, 50.0);
        assert!(one < 0.8 && fifty > 0.95, "{one} {fifty}");
        // Fair coins tossed once or twice per customer: exactly as varied as chance.
        let once = (0..200).map(|i| (Some((i % 2) as f64), Some(1.0)));
        let twice = (0..200).map(|i| (Some([0.0, 0.5, 0.5, 1.0][i % 4]), Some(2.0)));
        let (coins, counts): (Vec<_>, Vec<_>) = once.chain(twice).unzip();
        assert!(matches!(
            Shrinkage::fit(&orders, &coins, &counts),
            Prior::PureNoise { .. }
        ));
        // The same spread in a share of money: no verdict, the share is left as it is.
        let spend = super::super::Trials::of_spend("frequency").unwrap();
        assert!(matches!(
            Shrinkage::fit(&spend, &coins, &counts),
            Prior::None
        ));
    }

    #[test]
    fn signed_log_keeps_refund_sign() {
        assert!((signed_log1p(-(std::f64::consts::E - 1.0)) + 1.0).abs() < 1e-12);
    }
}
