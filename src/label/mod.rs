//! Stage 5 — label: profile every discovered cluster, set it against the rule segments, and name
//! it in the analyst's words.

use std::collections::BTreeMap;

use rayon::prelude::*;

use serde::Serialize;

use crate::features::{FeatureKind, FeatureTable};
use crate::metrics;
use crate::rules::{RuleResults, RuleSet, NO_PURCHASE};

mod drivers;
mod naming;
pub use drivers::{drivers, flat_groups, Driver, FLAT_R2};
pub use naming::descriptor;

pub const OUTLIERS: &str = "Outliers";

#[derive(Debug, Clone, Serialize)]
pub struct FeatureStat {
    pub name: String,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub std: Option<f64>,
    /// (cluster mean − base mean) / base standard deviation, in original units.
    pub z: Option<f64>,
    /// The same contrast on the log1p scale for non-negative amounts and counts (spend, orders,
    /// visits), where a few very large customers would flatten `z`; equal to `z` for shares,
    /// indicators and features with negative values. Cards, names and the profile heatmap use it.
    pub z_log: Option<f64>,
    #[serde(skip)]
    log_mean: Option<f64>,
    #[serde(skip)]
    log_std: Option<f64>,
}

impl FeatureStat {
    fn empty(name: &str) -> FeatureStat {
        FeatureStat {
            name: name.to_string(),
            mean: None,
            median: None,
            std: None,
            z: None,
            z_log: None,
            log_mean: None,
            log_std: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ClusterProfile {
    /// Cluster number; None for DBSCAN noise.
    pub id: Option<usize>,
    pub name: String,
    /// The plain-words name: the dominant RFM group, with a distinguishing trait when several
    /// clusters share that group.
    pub title: String,
    pub size: usize,
    pub share: f64,
    pub revenue: f64,
    pub revenue_share: f64,
    /// The dominant classic RFM group and its share of the cluster; None when the inputs give no
    /// RFM groups (a customers table without recency or frequency).
    pub label: Option<String>,
    pub label_share: Option<f64>,
    /// The R×F group of the cluster's median R and F scores; None without RFM groups.
    pub rfm_name: Option<String>,
    pub median_r: Option<f64>,
    pub median_f: Option<f64>,
    pub features: Vec<FeatureStat>,
}

impl ClusterProfile {
    /// "Cluster 1 · Loyal Customers (discount buyers)": the id analysts find in the exports and
    /// the plain-words name, as legends and row labels show it.
    pub fn display_name(&self) -> String {
        format!("{} · {}", self.name, self.title)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CrossTable {
    pub rule_set: String,
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    pub counts: Vec<Vec<usize>>,
    /// How closely the clusters follow this rule set.
    pub agreement: Agreement,
}

impl CrossTable {
    pub fn row_shares(&self) -> Vec<Vec<f64>> {
        self.counts
            .iter()
            .map(|row| {
                let total: usize = row.iter().sum();
                row.iter()
                    .map(|c| *c as f64 / total.max(1) as f64)
                    .collect()
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Agreement {
    pub ari: f64,
    pub nmi: f64,
}

pub struct Labelling {
    pub clusters: Vec<ClusterProfile>,
    pub base: Vec<FeatureStat>,
    /// One cross-table per rule set, the classic RFM groups first.
    pub crosstabs: Vec<CrossTable>,
    /// Agreement with the classic RFM groups, when the inputs give them.
    pub agreement: Option<Agreement>,
}

impl Labelling {
    /// The cross-table against the classic RFM groups, when the inputs give them.
    pub fn rfm_crosstab(&self) -> Option<&CrossTable> {
        self.agreement.and(self.crosstabs.first())
    }
}

/// The display name of a cluster id (None = DBSCAN noise).
pub fn cluster_name(id: Option<usize>) -> String {
    match id {
        Some(c) => format!("Cluster {c}"),
        None => OUTLIERS.to_string(),
    }
}

/// A Gaussian mixture component's name, kept apart from the k-means clusters' names.
pub fn component_name(id: usize) -> String {
    format!("Component {id}")
}

/// Profiles, names and cross-tables of the clusters in `assignment`; `clustered` names the
/// features they were fitted on (distinguishing names prefer those).
pub fn label(
    table: &FeatureTable,
    rules: &RuleResults,
    assignment: &[Option<usize>],
    clustered: &[String],
) -> Labelling {
    let n = table.len();
    let mut ids: Vec<Option<usize>> = assignment.to_vec();
    ids.sort_by_key(|id| id.map_or(usize::MAX, |c| c));
    ids.dedup();
    let members: Vec<Vec<usize>> = ids
        .iter()
        .map(|id| (0..n).filter(|&i| assignment[i] == *id).collect())
        .collect();
    let everyone: Vec<usize> = (0..n).collect();
    let base: Vec<FeatureStat> = table
        .features
        .par_iter()
        .map(|f| {
            let log =
                f.kind == FeatureKind::Numeric && f.values.iter().flatten().all(|v| *v >= 0.0);
            stat(&f.name, &f.values, &everyone, Base::Itself { log })
        })
        .collect();
    let total_revenue: f64 = table.facts.monetary.iter().sum();
    let groups = rules.rfm_groups();
    let mut clusters: Vec<ClusterProfile> = ids
        .iter()
        .zip(&members)
        .map(|(id, rows)| profile(table, rules, groups, *id, rows, &base, total_revenue))
        .collect();
    let titles = match groups {
        Some(_) => naming::titles(&clusters, &table.features, clustered),
        None => naming::trait_titles(&clusters, &table.features, clustered),
    };
    for (cluster, title) in clusters.iter_mut().zip(titles) {
        cluster.title = title;
    }
    let crosstabs: Vec<CrossTable> = rules
        .sets
        .iter()
        .map(|set| crosstab(set, assignment, &ids))
        .collect();
    Labelling {
        clusters,
        base,
        // With RFM groups, the first rule set is the score map the clusters are labelled against.
        agreement: groups.and(crosstabs.first()).map(|c| c.agreement),
        crosstabs,
    }
}

pub fn agreement<T: Ord + Clone>(a: &[Option<usize>], b: &[T]) -> Agreement {
    let a_ids: Vec<usize> = a.iter().map(|v| v.map_or(usize::MAX, |c| c)).collect();
    let b_ids = encode(b);
    Agreement {
        ari: metrics::adjusted_rand_index(&a_ids, &b_ids),
        nmi: metrics::normalized_mutual_info(&a_ids, &b_ids),
    }
}

/// Values to dense ids in sorted order of the values.
pub fn encode<T: Ord + Clone>(values: &[T]) -> Vec<usize> {
    let mut distinct: Vec<T> = values.to_vec();
    distinct.sort();
    distinct.dedup();
    values
        .iter()
        .map(|v| distinct.binary_search(v).unwrap_or(0))
        .collect()
}

fn profile(
    table: &FeatureTable,
    rules: &RuleResults,
    groups: Option<&RuleSet>,
    id: Option<usize>,
    rows: &[usize],
    base: &[FeatureStat],
    total_revenue: f64,
) -> ClusterProfile {
    let revenue: f64 = rows.iter().map(|&i| table.facts.monetary[i]).sum();
    let features = table
        .features
        .par_iter()
        .zip(base)
        .map(|(f, b)| stat(&f.name, &f.values, rows, Base::Of(b)))
        .collect();
    let (label, label_share, rfm_name) = match (groups, &rules.map) {
        (Some(groups), Some(map)) => {
            let (label, share) = dominant_group(groups, rows);
            (
                Some(label),
                Some(share),
                Some(median_group(rules, map, rows)),
            )
        }
        _ => (None, None, None),
    };
    ClusterProfile {
        id,
        name: cluster_name(id),
        title: label.clone().unwrap_or_default(),
        size: rows.len(),
        share: rows.len() as f64 / table.len().max(1) as f64,
        revenue,
        revenue_share: if total_revenue.abs() > 0.0 {
            revenue / total_revenue
        } else {
            0.0
        },
        label,
        label_share,
        rfm_name,
        median_r: median_score(&rules.rfm.r, rows),
        median_f: median_score(&rules.rfm.f, rows),
        features,
    }
}

/// The RFM group most of the rows belong to, and its share of them; ties go to the earlier group
/// in the map's order.
fn dominant_group(groups: &RuleSet, rows: &[usize]) -> (String, f64) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for &i in rows {
        *counts.entry(groups.labels[i].as_str()).or_default() += 1;
    }
    let order = |name: &str| {
        groups
            .segments
            .iter()
            .position(|s| s.name == name)
            .unwrap_or(usize::MAX)
    };
    let (label, count) = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(order(b.0).cmp(&order(a.0))))
        .map(|(l, c)| (l.to_string(), *c))
        .unwrap_or_else(|| (NO_PURCHASE.to_string(), 0));
    (label, count as f64 / rows.len().max(1) as f64)
}

fn median_score(scores: &[Option<u8>], rows: &[usize]) -> Option<f64> {
    let mut v: Vec<f64> = rows
        .iter()
        .filter_map(|&i| scores[i].map(f64::from))
        .collect();
    (!v.is_empty()).then(|| median(&mut v))
}

/// The R×F group of the rows' median R and F scores.
fn median_group(rules: &RuleResults, map: &crate::rules::ScoreMap, rows: &[usize]) -> String {
    let bins = rules.rfm.bins();
    match (
        median_score(&rules.rfm.r, rows),
        median_score(&rules.rfm.f, rows),
    ) {
        (Some(r), Some(f)) => map.rf_cell_name(score_of_median(r, bins), score_of_median(f, bins)),
        _ => NO_PURCHASE.to_string(),
    }
}

/// A median score of 3.5 rounds half up, to 4.
fn score_of_median(median: f64, bins: u8) -> u8 {
    (median.round() as u8).clamp(1, bins)
}

/// What a statistic is measured against: the whole base is computed first, with or without the
/// log1p scale; every cluster is then set against it.
enum Base<'a> {
    Itself { log: bool },
    Of(&'a FeatureStat),
}

fn mean_and_std(v: &[f64]) -> (f64, f64) {
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
    (mean, std)
}

fn contrast(value: f64, mean: Option<f64>, std: Option<f64>) -> Option<f64> {
    std.filter(|sd| *sd > 0.0)
        .zip(mean)
        .map(|(sd, m)| (value - m) / sd)
}

/// The median (the mean of the two middle values for an even count, as `percentile(0.5)`), by
/// selection rather than a full sort: linear in the number of customers.
fn median(v: &mut [f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    let (_, &mut upper, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return upper;
    }
    let lower = v[..n / 2]
        .iter()
        .copied()
        .max_by(f64::total_cmp)
        .unwrap_or(upper);
    lower + (upper - lower) * 0.5
}

fn stat(name: &str, values: &[Option<f64>], rows: &[usize], base: Base) -> FeatureStat {
    let mut v: Vec<f64> = rows.iter().filter_map(|&i| values[i]).collect();
    if v.is_empty() {
        return FeatureStat::empty(name);
    }
    let (mean, std) = mean_and_std(&v);
    let log = match base {
        Base::Itself { log } => log,
        Base::Of(b) => b.log_mean.is_some(),
    };
    let (log_mean, log_std) = if log {
        let logs: Vec<f64> = v.iter().map(|x| x.ln_1p()).collect();
        let (m, s) = mean_and_std(&logs);
        (Some(m), Some(s))
    } else {
        (None, None)
    };
    let median = median(&mut v);
    let (z, z_log) = match base {
        Base::Itself { .. } => (None, None),
        Base::Of(b) => {
            let z = contrast(mean, b.mean, b.std);
            let z_log = match log_mean {
                Some(m) => contrast(m, b.log_mean, b.log_std),
                None => z,
            };
            (z, z_log)
        }
    };
    FeatureStat {
        name: name.to_string(),
        mean: Some(mean),
        median: Some(median),
        std: Some(std),
        z,
        z_log,
        log_mean,
        log_std,
    }
}

fn crosstab(set: &RuleSet, assignment: &[Option<usize>], ids: &[Option<usize>]) -> CrossTable {
    let mut columns: Vec<String> = set.segments.iter().map(|s| s.name.clone()).collect();
    for l in &set.labels {
        if !columns.contains(l) {
            columns.push(l.clone());
        }
    }
    let mut counts = vec![vec![0usize; columns.len()]; ids.len()];
    for (cluster, segment) in assignment.iter().zip(&set.labels) {
        let (Some(r), Some(c)) = (
            ids.iter().position(|id| id == cluster),
            columns.iter().position(|s| s == segment),
        ) else {
            continue;
        };
        counts[r][c] += 1;
    }
    CrossTable {
        rule_set: set.name.clone(),
        rows: ids.iter().map(|id| cluster_name(*id)).collect(),
        columns,
        counts,
        agreement: agreement(assignment, &set.labels),
    }
}

#[cfg(test)]
mod stat_tests {
    use super::*;

    #[test]
    fn one_huge_customer_does_not_flatten_the_log_scale_contrast() {
        // 50 customers spent 1, 30 spent 10, one spent a million.
        let values: Vec<Option<f64>> = std::iter::repeat_n(1.0, 50)
            .chain(std::iter::repeat_n(10.0, 30))
            .chain([1e6])
            .map(Some)
            .collect();
        let all: Vec<usize> = (0..values.len()).collect();
        let tens_rows: Vec<usize> = (50..80).collect();
        let base = stat("monetary", &values, &all, Base::Itself { log: true });
        let tens = stat("monetary", &values, &tens_rows, Base::Of(&base));
        // In raw units the million puts the tens *below* average; on the log scale they are
        // clearly above it.
        assert!(
            tens.z.unwrap() < 0.0 && tens.z.unwrap() > -0.2,
            "z {:?}",
            tens.z
        );
        assert!(tens.z_log.unwrap() > 0.5, "z_log {:?}", tens.z_log);
        let ones_rows: Vec<usize> = (0..50).collect();
        let ones = stat("monetary", &values, &ones_rows, Base::Of(&base));
        assert!(ones.z_log.unwrap() < -0.4, "z_log {:?}", ones.z_log);
        // Without the log scale (shares, negative values) both contrasts are the same.
        let plain = stat("share", &values, &all, Base::Itself { log: false });
        let tens = stat("share", &values, &tens_rows, Base::Of(&plain));
        assert_eq!(tens.z, tens.z_log);
    }
}
