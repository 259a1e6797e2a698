//! DBSCAN, the policy: min_points and eps (from the knee of the k-distance curve), a seeded
//! sample for large bases, and noise kept as "Outliers". The clustering itself is [`density`];
//! [`nearest_within`] places the customers outside the sample.
//!
//! Large bases: DBSCAN runs on a seeded sample of at most `sample` customers; every other
//! customer joins the cluster of its nearest clustered sample customer when that one is within
//! eps, and is noise otherwise.

use ndarray::{Array2, ArrayView2, Axis};

pub mod density;
pub mod nearest_within;

use self::density::DbscanParams;
use self::nearest_within::NearestWithin;
use super::distance;
use crate::error::Result;

pub struct DbscanOptions {
    pub min_points: Option<usize>,
    pub eps: Option<f64>,
    pub sample: usize,
    /// The silhouette of the clustered customers is computed on a seeded sample of this size.
    pub silhouette_sample: usize,
    pub seed: u64,
}

#[derive(serde::Serialize, serde::Deserialize)]
pub struct DbscanResult {
    pub eps: f64,
    pub eps_automatic: bool,
    pub min_points: usize,
    /// Cluster of every customer, numbered by size (0 = largest); None = noise ("Outliers").
    #[serde(skip)]
    pub labels: Vec<Option<usize>>,
    pub clusters: usize,
    pub noise: usize,
    /// Sorted distances to the (min_points − 1)-th nearest other customer, on the k-distance sample.
    pub k_distances: Vec<f64>,
    pub knee_index: usize,
    pub sample_size: usize,
    /// Silhouette of the clustered customers (outliers left out); None with fewer than 2
    /// clusters, where it is undefined.
    pub silhouette: Option<f64>,
    /// What the run should tell the analyst (no dense region found, min_points too large).
    pub warnings: Vec<String>,
}

/// Sander et al. (1998) suggest min_points = 2 × dimensions; kept between 4 and 1 % of the
/// customers DBSCAN runs on, so small bases can still form clusters.
pub fn default_min_points(dimensions: usize, customers: usize) -> usize {
    (2 * dimensions).min(customers / 100).max(4)
}

/// How many customers the k-distance curve is drawn from (brute force, so bounded).
const K_DISTANCE_SAMPLE: usize = 3000;

pub fn discover(x: ArrayView2<f64>, options: &DbscanOptions) -> Result<DbscanResult> {
    let n = x.nrows();
    let sample_rows = sample_indices(n, options.sample, options.seed);
    let sample = x.select(Axis(0), &sample_rows);
    let min_points = options
        .min_points
        .unwrap_or_else(|| default_min_points(x.ncols(), sample.nrows()));
    let curve_rows = sample_indices(sample.nrows(), K_DISTANCE_SAMPLE, options.seed ^ 0x9e37);
    let queries = sample.select(Axis(0), &curve_rows);
    let mut k_distances = distance::kth_neighbour_distances(
        queries.view(),
        sample.view(),
        min_points.saturating_sub(1).max(1),
        true,
    );
    k_distances.sort_by(f64::total_cmp);
    let knee_index = knee(&k_distances);
    let knee_eps = k_distances.get(knee_index).copied().unwrap_or(0.0);
    let eps = options.eps.unwrap_or(knee_eps).max(1e-9);

    let sample_labels = DbscanParams::new(min_points)
        .tolerance(eps)
        .cluster(sample.view());
    let mut labels = vec![None; n];
    for (row, label) in sample_rows.iter().zip(sample_labels.iter()) {
        labels[*row] = *label;
    }
    if sample_rows.len() < n {
        extend_to_rest(
            x,
            &sample,
            &sample_rows,
            &sample_labels,
            eps,
            options.seed,
            &mut labels,
        );
    }
    let (labels, clusters) = renumber_by_size(labels);
    let noise = labels.iter().filter(|l| l.is_none()).count();
    let silhouette = clustered_silhouette(x, &labels, options.silhouette_sample, options.seed);
    let mut warnings = Vec::new();
    if clusters == 0 {
        let cause = if min_points > sample.nrows() {
            format!(
                "min_points = {min_points} is more than the {} customers it runs on; set a smaller [discovery] dbscan_min_points",
                sample.nrows()
            )
        } else if options.eps.is_some() {
            format!("no customer has {min_points} others within eps = {eps}; set a larger [discovery] dbscan_eps, or dbscan_eps = \"auto\"")
        } else {
            format!("no customer has {min_points} others within eps = {eps:.4} (the knee of the k-distance curve); set [discovery] dbscan_eps or a smaller dbscan_min_points")
        };
        warnings.push(format!(
            "DBSCAN found no dense region: all {n} customers are outliers — {cause}"
        ));
    }
    Ok(DbscanResult {
        eps,
        eps_automatic: options.eps.is_none(),
        min_points,
        labels,
        clusters,
        noise,
        k_distances,
        knee_index,
        sample_size: sample_rows.len(),
        silhouette,
        warnings,
    })
}

impl DbscanResult {
    /// The result with `labels` (for more customers than it was fitted on) as its clusters,
    /// renumbered by their sizes among those customers, with the outliers counted again.
    pub fn reassigned(mut self, labels: Vec<Option<usize>>) -> DbscanResult {
        let (labels, clusters) = renumber_by_size(labels);
        self.noise = labels.iter().filter(|l| l.is_none()).count();
        self.labels = labels;
        self.clusters = clusters;
        self
    }
}

/// Places customers DBSCAN did not see, as the customers outside its sample are placed: in the
/// cluster of the nearest customer it clustered, when that one is within eps; else noise.
pub struct Joiner {
    index: Option<NearestWithin>,
    eps: f64,
}

impl Joiner {
    /// The clustered customers of `result`'s sample of `x`, the matrix it was fitted on with
    /// `seed` (the sample is drawn again from the seed, as [`discover`] drew it).
    pub fn new(x: ArrayView2<f64>, result: &DbscanResult, seed: u64) -> Joiner {
        let sample_rows = sample_indices(x.nrows(), result.sample_size, seed);
        let clustered: Vec<usize> = sample_rows
            .into_iter()
            .filter(|&r| result.labels[r].is_some())
            .collect();
        let labels: Vec<usize> = clustered.iter().filter_map(|&r| result.labels[r]).collect();
        let index = (!clustered.is_empty())
            .then(|| NearestWithin::labelled(x.select(Axis(0), &clustered).view(), &labels, seed));
        Joiner {
            index,
            eps: result.eps,
        }
    }

    /// The cluster of every row of `x` (None = noise).
    pub fn labels(&self, x: ArrayView2<f64>) -> Vec<Option<usize>> {
        match &self.index {
            Some(index) => index.nearest_label(x, self.eps),
            None => vec![None; x.nrows()],
        }
    }
}

/// Silhouette of the customers DBSCAN clustered, outliers left out (they are no cluster).
fn clustered_silhouette(
    x: ArrayView2<f64>,
    labels: &[Option<usize>],
    sample: usize,
    seed: u64,
) -> Option<f64> {
    let rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i].is_some()).collect();
    let clustered: Vec<usize> = rows.iter().filter_map(|&i| labels[i]).collect();
    let x = x.select(Axis(0), &rows);
    crate::metrics::silhouette_sampled(x.view(), &clustered, sample, seed).value
}

/// Sorted row indices of a seeded sample without replacement (all rows when n ≤ size).
pub fn sample_indices(n: usize, size: usize, seed: u64) -> Vec<usize> {
    super::sample::rows(n, size, seed)
}

fn extend_to_rest(
    x: ArrayView2<f64>,
    sample: &Array2<f64>,
    sample_rows: &[usize],
    sample_labels: &[Option<usize>],
    eps: f64,
    seed: u64,
    labels: &mut [Option<usize>],
) {
    let clustered: Vec<usize> = (0..sample_rows.len())
        .filter(|&i| sample_labels[i].is_some())
        .collect();
    if clustered.is_empty() {
        return;
    }
    let references = sample.select(Axis(0), &clustered);
    let mut in_sample = vec![false; x.nrows()];
    sample_rows.iter().for_each(|&r| in_sample[r] = true);
    let rest: Vec<usize> = (0..x.nrows()).filter(|&r| !in_sample[r]).collect();
    let queries = x.select(Axis(0), &rest);
    let reference_labels: Vec<usize> = clustered.iter().filter_map(|&i| sample_labels[i]).collect();
    let index = NearestWithin::labelled(references.view(), &reference_labels, seed);
    for (row, label) in rest.iter().zip(index.nearest_label(queries.view(), eps)) {
        labels[*row] = label;
    }
}

/// The knee of an ascending curve: the point farthest below the straight line from its first to
/// its last point, both axes scaled to 0–1 (the "kneedle" difference curve).
pub fn knee(sorted: &[f64]) -> usize {
    let n = sorted.len();
    if n < 3 {
        return n.saturating_sub(1);
    }
    let (lo, hi) = (sorted[0], sorted[n - 1]);
    let span = (hi - lo).max(1e-12);
    (0..n)
        .map(|i| (i, i as f64 / (n - 1) as f64 - (sorted[i] - lo) / span))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(i, _)| i)
        .unwrap_or(n - 1)
}

fn renumber_by_size(labels: Vec<Option<usize>>) -> (Vec<Option<usize>>, usize) {
    let k = labels.iter().flatten().max().map_or(0, |m| m + 1);
    let mut sizes = vec![0usize; k];
    labels.iter().flatten().for_each(|&l| sizes[l] += 1);
    let mut order: Vec<usize> = (0..k).filter(|&c| sizes[c] > 0).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
    let mut new_id = vec![None; k];
    for (new, &old) in order.iter().enumerate() {
        new_id[old] = Some(new);
    }
    let clusters = order.len();
    (
        labels
            .into_iter()
            .map(|l| l.and_then(|l| new_id[l]))
            .collect(),
        clusters,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knee_finds_the_bend() {
        let mut curve: Vec<f64> = (0..90).map(|i| 1.0 + i as f64 * 0.01).collect();
        curve.extend((0..10).map(|i| 2.0 + i as f64 * 1.0));
        let k = knee(&curve);
        assert!((88..=91).contains(&k), "knee at {k}");
    }
}
