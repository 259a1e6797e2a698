//! Drift between the data a model was fitted on and the data it is applied to: the population
//! stability index (PSI) of every prepared column over the fit data's deciles, the shift of the
//! cluster shares, and the share of customers farther from every centroid than 99 % of the fit
//! customers were from theirs.

use ndarray::{ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

/// PSI below this is stable; up to `PSI_MAJOR` a moderate shift; above it a major one (the
/// usual credit-scoring reading of the index).
pub const PSI_MODERATE: f64 = 0.1;
pub const PSI_MAJOR: f64 = 0.25;
/// Fit customers beyond the distance cut-off: 1 %. A warning when the new data has 3× that.
pub const FAR_QUANTILE: f64 = 0.99;
const FAR_ALARM: f64 = 3.0;
/// Empty bins get this share, so the logarithm stays finite.
const EMPTY_SHARE: f64 = 1e-4;

/// What the fit data looked like, saved in the model.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Baseline {
    pub columns: Vec<ColumnBaseline>,
    /// Distance to the own centroid that 99 % of the fit customers stay within.
    pub far_distance: f64,
    pub cluster_shares: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnBaseline {
    pub name: String,
    /// Inner decile edges of the prepared values (duplicates removed).
    pub edges: Vec<f64>,
    /// Share of the fit customers per bin (edges.len() + 1 bins).
    pub shares: Vec<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    pub columns: Vec<ColumnDrift>,
    pub cluster_shares_fit: Vec<f64>,
    pub cluster_shares_now: Vec<f64>,
    pub cluster_psi: f64,
    /// Share of customers farther from every centroid than `far_distance`.
    pub far_share: f64,
    pub far_share_fit: f64,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnDrift {
    pub name: String,
    pub psi: f64,
    /// "stable", "moderate" or "major".
    pub level: String,
}

pub fn baseline(
    x: ArrayView2<f64>,
    names: &[String],
    assignment: &[usize],
    k: usize,
    distances: &[f64],
) -> Baseline {
    let columns = names
        .iter()
        .zip(x.columns())
        .map(|(name, column)| {
            let edges = decile_edges(column);
            let shares = bin_shares(column, &edges);
            ColumnBaseline {
                name: name.clone(),
                edges,
                shares,
            }
        })
        .collect();
    let mut sorted = distances.to_vec();
    sorted.sort_by(f64::total_cmp);
    let far_distance = if sorted.is_empty() {
        0.0
    } else {
        crate::features::percentile(&sorted, FAR_QUANTILE)
    };
    Baseline {
        columns,
        far_distance,
        cluster_shares: cluster_shares(assignment, k),
    }
}

pub fn compare(
    baseline: &Baseline,
    x: ArrayView2<f64>,
    assignment: &[usize],
    distances: &[f64],
) -> Drift {
    if baseline.columns.is_empty() {
        return Drift {
            columns: Vec::new(),
            cluster_shares_fit: Vec::new(),
            cluster_shares_now: Vec::new(),
            cluster_psi: 0.0,
            far_share: 0.0,
            far_share_fit: 0.0,
            warnings: vec![
                "the model file has no fit-time baseline (written by an older segmenta), so drift is not measured".into(),
            ],
        };
    }
    let columns: Vec<ColumnDrift> = baseline
        .columns
        .iter()
        .zip(x.columns())
        .map(|(b, column)| {
            let psi = psi(&b.shares, &bin_shares(column, &b.edges));
            ColumnDrift {
                name: b.name.clone(),
                psi,
                level: level(psi).to_string(),
            }
        })
        .collect();
    let now = cluster_shares(assignment, baseline.cluster_shares.len());
    let cluster_psi = psi(&baseline.cluster_shares, &now);
    let far = distances
        .iter()
        .filter(|d| **d > baseline.far_distance)
        .count();
    let far_share = far as f64 / distances.len().max(1) as f64;
    let mut drift = Drift {
        columns,
        cluster_shares_fit: baseline.cluster_shares.clone(),
        cluster_shares_now: now,
        cluster_psi,
        far_share,
        far_share_fit: 1.0 - FAR_QUANTILE,
        warnings: Vec::new(),
    };
    drift.warnings = warnings(&drift);
    drift
}

fn warnings(drift: &Drift) -> Vec<String> {
    let mut out = Vec::new();
    let mut shifted: Vec<&ColumnDrift> = drift
        .columns
        .iter()
        .filter(|c| c.psi >= PSI_MODERATE)
        .collect();
    shifted.sort_by(|a, b| b.psi.total_cmp(&a.psi));
    if !shifted.is_empty() {
        let listed: Vec<String> = shifted
            .iter()
            .take(5)
            .map(|c| format!("{} (PSI {:.2}, {})", c.name, c.psi, c.level))
            .collect();
        out.push(format!(
            "{} of {} features shifted since the model was fitted: {}{}",
            shifted.len(),
            drift.columns.len(),
            listed.join(", "),
            if shifted.len() > 5 { ", …" } else { "" }
        ));
    }
    if drift.cluster_psi >= PSI_MODERATE {
        out.push(format!(
            "the cluster sizes moved (PSI {:.2}): the segments no longer split the customers as they did at fit time",
            drift.cluster_psi
        ));
    }
    if drift.far_share > FAR_ALARM * drift.far_share_fit {
        out.push(format!(
            "{:.1} % of the customers are farther from every centroid than 99 % of the fit customers were ({:.0} % expected): new kinds of customers the model has no segment for; consider refitting",
            100.0 * drift.far_share,
            100.0 * drift.far_share_fit
        ));
    }
    out
}

fn level(psi: f64) -> &'static str {
    if psi >= PSI_MAJOR {
        "major"
    } else if psi >= PSI_MODERATE {
        "moderate"
    } else {
        "stable"
    }
}

/// PSI = Σ (now − fit) · ln(now / fit) over the bins.
pub fn psi(fit: &[f64], now: &[f64]) -> f64 {
    fit.iter()
        .zip(now)
        .map(|(e, a)| {
            let (e, a) = (e.max(EMPTY_SHARE), a.max(EMPTY_SHARE));
            (a - e) * (a / e).ln()
        })
        .sum()
}

fn decile_edges(column: ArrayView1<f64>) -> Vec<f64> {
    let mut sorted: Vec<f64> = column.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return Vec::new();
    }
    sorted.sort_by(f64::total_cmp);
    let mut edges: Vec<f64> = (1..10)
        .map(|i| crate::features::percentile(&sorted, i as f64 / 10.0))
        .collect();
    edges.dedup();
    edges
}

/// Share of values per bin; a value equal to an edge falls in the lower bin.
fn bin_shares(column: ArrayView1<f64>, edges: &[f64]) -> Vec<f64> {
    let mut counts = vec![0usize; edges.len() + 1];
    for v in column {
        counts[edges.partition_point(|e| e < v)] += 1;
    }
    let n = column.len().max(1) as f64;
    counts.into_iter().map(|c| c as f64 / n).collect()
}

fn cluster_shares(assignment: &[usize], k: usize) -> Vec<f64> {
    let n = assignment.len().max(1) as f64;
    crate::cluster::sizes(assignment, k)
        .into_iter()
        .map(|c| c as f64 / n)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn distances(x: ArrayView2<f64>, centroids: ArrayView2<f64>) -> Vec<f64> {
        crate::cluster::distance::nearest(x, centroids)
            .into_iter()
            .map(|(_, d)| d)
            .collect()
    }

    #[test]
    fn psi_is_zero_for_the_same_distribution_and_grows_with_a_shift() {
        assert_eq!(psi(&[0.5, 0.5], &[0.5, 0.5]), 0.0);
        // The textbook example: 10 % → 20 % in one bin and 20 % → 10 % in another.
        let p = psi(&[0.1, 0.2, 0.7], &[0.2, 0.1, 0.7]);
        assert!((p - 0.1 * 2f64.ln() * 2.0).abs() < 1e-12, "{p}");
    }

    #[test]
    fn a_baseline_read_back_from_json_bins_tied_values_the_same() {
        // Prepared values are arbitrary floats; a tie sitting on a decile edge must land in the
        // same bin after model.json is written and read (exact float round trip).
        let tied = (0.3f64 - 1.7) / 0.37 * std::f64::consts::LN_2;
        let fit = Array2::from_shape_fn((500, 1), |(i, _)| if i < 300 { tied } else { i as f64 });
        let assignment = vec![0; 500];
        let d = vec![0.0; 500];
        let base = baseline(fit.view(), &["x".to_string()], &assignment, 1, &d);
        let text = serde_json::to_string(&base).unwrap();
        let read: Baseline = serde_json::from_str(&text).unwrap();
        let drift = compare(&read, fit.view(), &assignment, &d);
        assert_eq!(drift.columns[0].psi, 0.0);
    }

    #[test]
    fn a_shifted_column_and_far_customers_are_flagged() {
        let fit = Array2::from_shape_fn((1000, 2), |(i, j)| (i % 100) as f64 / 100.0 + j as f64);
        let assignment = vec![0; 1000];
        let centroids = Array2::from_shape_vec((1, 2), vec![0.5, 1.5]).unwrap();
        let d = distances(fit.view(), centroids.view());
        let names = vec!["a".to_string(), "b".to_string()];
        let base = baseline(fit.view(), &names, &assignment, 1, &d);
        let same = compare(&base, fit.view(), &assignment, &d);
        assert!(same.columns.iter().all(|c| c.psi < 1e-9));
        assert!(same.warnings.is_empty(), "{:?}", same.warnings);

        let mut moved = fit.clone();
        moved.column_mut(0).mapv_inplace(|v| v + 0.5);
        let d = distances(moved.view(), centroids.view());
        let drift = compare(&base, moved.view(), &assignment, &d);
        assert_eq!(drift.columns[0].level, "major");
        assert_eq!(drift.columns[1].level, "stable");
        assert!(drift.far_share > 0.3);
        assert_eq!(drift.warnings.len(), 2, "{:?}", drift.warnings);
        assert!(drift.warnings[0].starts_with("1 of 2 features shifted"));
    }
}
