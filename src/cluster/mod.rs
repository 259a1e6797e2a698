//! Stage 4 — cluster: discover segments with k-means and DBSCAN, and optionally a Gaussian
//! mixture.
//!
//! A method's folder keeps its policy apart from its algorithm, as linfa's `k_means/` does: the
//! folder's `mod.rs` decides (which k, which eps, how many restarts, which sample, how stable),
//! and the algorithm fits ([`kmeans::lloyd`], [`dbscan::density`], and
//! [`dbscan::nearest_within`] for the customers outside DBSCAN's sample).

pub mod dbscan;
pub mod distance;
pub mod gmm;
pub mod kmeans;
pub mod sample;

pub use dbscan::{DbscanOptions, DbscanResult};
pub use gmm::{GmmOptions, GmmResult};
pub use kmeans::{KScore, KmeansOptions, KmeansResult};

use ndarray::ArrayView2;

/// Customers per cluster id below `k` (ids at or above `k` are not counted).
pub fn sizes(labels: &[usize], k: usize) -> Vec<usize> {
    let mut sizes = vec![0usize; k];
    for &c in labels {
        if let Some(n) = sizes.get_mut(c) {
            *n += 1;
        }
    }
    sizes
}

/// The cluster ids in their new order: largest first, ties broken by the centre itself, so the
/// numbering never depends on the fit order, hashing or threads. `centres` has one row per id.
pub(crate) fn order_by_size(sizes: &[usize], centres: ArrayView2<f64>) -> Vec<usize> {
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|&a, &b| {
        sizes[b].cmp(&sizes[a]).then_with(|| {
            centres
                .row(a)
                .iter()
                .zip(centres.row(b).iter())
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        })
    });
    order
}
