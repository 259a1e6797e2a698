//! Brute-force Euclidean distances in blocks, through matrix products (‖a−b‖² = ‖a‖² + ‖b‖² − 2a·b),
//! which ndarray runs with an optimised kernel; used where trees do not help (tens of dimensions).

use ndarray::{s, Array1, ArrayView2, Axis};
use rayon::prelude::*;

const BLOCK: usize = 1024;

fn squared_norms(x: ArrayView2<f64>) -> Array1<f64> {
    x.map_axis(Axis(1), |row| row.dot(&row))
}

/// `per_row(squared_distances_to_every_reference)` for each query row, blocks of queries in
/// parallel; the results come back in query order.
fn map_distance_rows<T: Send>(
    queries: ArrayView2<f64>,
    references: ArrayView2<f64>,
    per_row: impl Fn(&mut [f64]) -> T + Sync,
) -> Vec<T> {
    let ref_norms = squared_norms(references);
    let starts: Vec<usize> = (0..queries.nrows()).step_by(BLOCK).collect();
    let blocks: Vec<Vec<T>> = starts
        .par_iter()
        .map(|&start| {
            let end = (start + BLOCK).min(queries.nrows());
            let block = queries.slice(s![start..end, ..]);
            let products = block.dot(&references.t());
            let query_norms = squared_norms(block);
            let mut buffer = vec![0.0; references.nrows()];
            products
                .outer_iter()
                .zip(query_norms.iter())
                .map(|(row, qn)| {
                    for ((b, p), rn) in buffer.iter_mut().zip(row.iter()).zip(ref_norms.iter()) {
                        *b = (qn + rn - 2.0 * p).max(0.0);
                    }
                    per_row(&mut buffer)
                })
                .collect()
        })
        .collect();
    blocks.into_iter().flatten().collect()
}

/// Distance from each query to its k-th nearest reference, skipping the query itself when the
/// queries are references (`self_included`).
pub fn kth_neighbour_distances(
    queries: ArrayView2<f64>,
    references: ArrayView2<f64>,
    k: usize,
    self_included: bool,
) -> Vec<f64> {
    let rank = if self_included {
        k
    } else {
        k.saturating_sub(1)
    };
    map_distance_rows(queries, references, |row| {
        let rank = rank.min(row.len().saturating_sub(1));
        let (_, kth, _) = row.select_nth_unstable_by(rank, f64::total_cmp);
        kth.sqrt()
    })
}

/// Up to this many references (centroids), distances are summed coordinate by coordinate, as
/// k-means assigns, rather than through matrix products.
const FEW_REFERENCES: usize = 256;

/// Index and distance of the nearest reference row for each query row.
pub fn nearest(queries: ArrayView2<f64>, references: ArrayView2<f64>) -> Vec<(usize, f64)> {
    if references.nrows() <= FEW_REFERENCES {
        return super::kmeans::lloyd::nearest_centroids(queries, references)
            .into_iter()
            .map(|(j, d)| (j, d.sqrt()))
            .collect();
    }
    map_distance_rows(queries, references, |row| {
        row.iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map_or((0, f64::INFINITY), |(j, best)| (j, best.sqrt()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn nearest_and_kth_match_hand_computation() {
        let x = array![[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [0.0, 4.0]];
        let nn = nearest(array![[2.9, 0.1]].view(), x.view());
        assert_eq!(nn[0].0, 2);
        let kth = kth_neighbour_distances(x.view(), x.view(), 1, true);
        assert_eq!(kth, vec![1.0, 1.0, 2.0, 4.0]);
    }
}
