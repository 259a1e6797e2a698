//! Clustering quality and agreement metrics, numerically matched to scikit-learn.
//!
//! Every function mirrors the corresponding `sklearn.metrics` function, including its special
//! cases; where scikit-learn raises (too few/many clusters, non-finite input, length mismatch)
//! these functions return `None` (quality metrics) or `NaN` (agreement scores, inertia).
//! Labels are arbitrary `usize` ids; they are remapped internally, like sklearn's
//! `LabelEncoder`, so `{0, 3, 7}` behaves exactly like `{0, 1, 2}`.

// One file per idea: cluster quality indices, the silhouette (with its tiled kernel) and the
// agreement scores between labelings; the label encoding they all share stays here.
mod agreement;
mod indices;
mod silhouette;
#[cfg(test)]
mod tests;

use ndarray::{ArrayView1, ArrayView2};

pub use agreement::{adjusted_mutual_info, adjusted_rand_index, normalized_mutual_info};
pub use indices::{calinski_harabasz, davies_bouldin, inertia};
pub use silhouette::{silhouette, silhouette_sampled, SampledSilhouette};

/// Labels remapped to dense codes `0..k` in increasing id order (sklearn's `LabelEncoder`).
struct Encoded {
    codes: Vec<usize>,
    sizes: Vec<usize>,
    k: usize,
}

impl Encoded {
    fn new(labels: &[usize]) -> Self {
        let mut ids = labels.to_vec();
        ids.sort_unstable();
        ids.dedup();
        // Every label is in `ids` by construction, so the search always succeeds.
        let codes: Vec<usize> = labels
            .iter()
            .map(|l| ids.binary_search(l).unwrap_or_default())
            .collect();
        let mut sizes = vec![0; ids.len()];
        for &c in &codes {
            sizes[c] += 1;
        }
        Encoded {
            codes,
            sizes,
            k: ids.len(),
        }
    }

    /// Cluster means, one row per code (every code has at least one member).
    fn centroids(&self, x: ArrayView2<f64>) -> ndarray::Array2<f64> {
        let mut sums = ndarray::Array2::<f64>::zeros((self.k, x.ncols()));
        for (row, &c) in x.rows().into_iter().zip(&self.codes) {
            let mut target = sums.row_mut(c);
            target += &row;
        }
        for (mut row, &size) in sums.rows_mut().into_iter().zip(&self.sizes) {
            row /= size as f64;
        }
        sums
    }
}

/// The labels encoded when `x` and `labels` pass sklearn's input checks of the cluster indices:
/// one label per row (`check_X_y`, which also rejects non-finite values and matrices without
/// features) and 2 to n − 1 clusters (`check_number_of_labels`); None otherwise.
fn checked(x: ArrayView2<f64>, labels: &[usize]) -> Option<Encoded> {
    let n = x.nrows();
    let valid_matrix = x.ncols() > 0 && x.iter().all(|v| v.is_finite());
    if labels.len() != n || !valid_matrix {
        return None;
    }
    let enc = Encoded::new(labels);
    (enc.k >= 2 && enc.k < n).then_some(enc)
}

fn squared_distance(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    a.iter().zip(b.iter()).map(|(p, q)| (p - q) * (p - q)).sum()
}
