//! Stage 4 — cluster: discover segments with k-means and DBSCAN (SPEC §5).

pub mod dbscan;
pub mod density;
pub mod distance;
pub mod gmm;
pub mod kmeans;
pub mod lloyd;
pub mod nearest_within;

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
