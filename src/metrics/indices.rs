//! Cluster quality indices computed from centroids: inertia, Calinski–Harabasz and
//! Davies–Bouldin.

use ndarray::ArrayView2;

use super::{checked, squared_distance};

/// Sum of squared Euclidean distances of each row to its cluster's centroid (sklearn
/// `KMeans.inertia_`).
///
/// `labels[i]` is the row of `centroids` that row `i` of `x` belongs to (k-means labels, so
/// they index `centroids` directly). Returns `0.0` for empty input and `NaN` when the shapes
/// disagree or a label has no centroid row, rather than panicking.
pub fn inertia(x: ArrayView2<f64>, labels: &[usize], centroids: ArrayView2<f64>) -> f64 {
    if labels.len() != x.nrows() || (x.nrows() > 0 && x.ncols() != centroids.ncols()) {
        return f64::NAN;
    }
    let mut total = 0.0;
    for (row, &label) in x.rows().into_iter().zip(labels) {
        if label >= centroids.nrows() {
            return f64::NAN;
        }
        total += squared_distance(row, centroids.row(label));
    }
    total
}

/// sklearn `calinski_harabasz_score`. `None` when there are fewer than 2 clusters, clusters
/// `>= n`, a length mismatch, no columns or non-finite input. Returns 1.0 when every cluster has zero
/// dispersion (sklearn's convention).
pub fn calinski_harabasz(x: ArrayView2<f64>, labels: &[usize]) -> Option<f64> {
    let enc = checked(x, labels)?;
    let n = x.nrows();
    let centroids = enc.centroids(x);
    let mean = x.mean_axis(ndarray::Axis(0))?;
    let mut extra = 0.0;
    for (c, centroid) in centroids.rows().into_iter().enumerate() {
        extra += enc.sizes[c] as f64 * squared_distance(centroid, mean.view());
    }
    let mut intra = 0.0;
    for (row, &c) in x.rows().into_iter().zip(&enc.codes) {
        intra += squared_distance(row, centroids.row(c));
    }
    let k = enc.k as f64;
    Some(if intra == 0.0 {
        1.0
    } else {
        extra * (n as f64 - k) / (intra * (k - 1.0))
    })
}

/// sklearn `davies_bouldin_score`. `None` when there are fewer than 2 clusters; also, as in
/// sklearn (which raises), when clusters `>= n`, on a length mismatch, no columns or
/// non-finite input.
pub fn davies_bouldin(x: ArrayView2<f64>, labels: &[usize]) -> Option<f64> {
    let enc = checked(x, labels)?;
    let k = enc.k;
    let centroids = enc.centroids(x);
    // Mean distance of each cluster's members to its centroid.
    let mut intra = vec![0.0; k];
    for (row, &c) in x.rows().into_iter().zip(&enc.codes) {
        intra[c] += squared_distance(row, centroids.row(c)).sqrt();
    }
    for (v, &size) in intra.iter_mut().zip(&enc.sizes) {
        *v /= size as f64;
    }
    let mut cdist = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..k {
            cdist[i * k + j] = squared_distance(centroids.row(i), centroids.row(j)).sqrt();
        }
    }
    // sklearn: np.isclose(v, 0) with its default atol 1e-8 (rtol is irrelevant against 0).
    let near_zero = |v: &f64| v.abs() <= 1e-8;
    if intra.iter().all(near_zero) || cdist.iter().all(near_zero) {
        return Some(0.0);
    }
    let mut total = 0.0;
    for i in 0..k {
        let mut worst = f64::NEG_INFINITY;
        for j in 0..k {
            // Coincident centroids (and the diagonal) are treated as infinitely far apart,
            // exactly as sklearn does, so they never dominate the max.
            let d = cdist[i * k + j];
            let d = if d == 0.0 { f64::INFINITY } else { d };
            worst = worst.max((intra[i] + intra[j]) / d);
        }
        total += worst;
    }
    Some(total / k as f64)
}
