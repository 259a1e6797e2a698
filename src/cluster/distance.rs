//! Brute-force Euclidean distances in blocks, through matrix products (‖a−b‖² = ‖a‖² + ‖b‖² − 2a·b),
//! which ndarray runs with an optimised kernel; used where trees do not help (tens of dimensions).

use ndarray::{s, Array1, ArrayView2, Axis};

const BLOCK: usize = 1024;

fn squared_norms(x: ArrayView2<f64>) -> Array1<f64> {
    x.map_axis(Axis(1), |row| row.dot(&row))
}

/// Calls `visit(query_index, squared_distances_to_every_reference)` for each query row.
fn for_each_distance_row(
    queries: ArrayView2<f64>,
    references: ArrayView2<f64>,
    mut visit: impl FnMut(usize, &[f64]),
) {
    let ref_norms = squared_norms(references);
    let mut buffer = vec![0.0; references.nrows()];
    for start in (0..queries.nrows()).step_by(BLOCK) {
        let end = (start + BLOCK).min(queries.nrows());
        let block = queries.slice(s![start..end, ..]);
        let products = block.dot(&references.t());
        let query_norms = squared_norms(block);
        for (offset, row) in products.outer_iter().enumerate() {
            for ((b, p), rn) in buffer.iter_mut().zip(row.iter()).zip(ref_norms.iter()) {
                *b = (query_norms[offset] + rn - 2.0 * p).max(0.0);
            }
            visit(start + offset, &buffer);
        }
    }
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
    let mut out = vec![0.0; queries.nrows()];
    for_each_distance_row(queries, references, |i, d| {
        let mut row = d.to_vec();
        let rank = rank.min(row.len().saturating_sub(1));
        let (_, kth, _) = row.select_nth_unstable_by(rank, f64::total_cmp);
        out[i] = kth.sqrt();
    });
    out
}

/// Index and distance of the nearest reference row for each query row.
pub fn nearest(queries: ArrayView2<f64>, references: ArrayView2<f64>) -> Vec<(usize, f64)> {
    let mut out = vec![(0, f64::INFINITY); queries.nrows()];
    for_each_distance_row(queries, references, |i, d| {
        if let Some((j, best)) = d.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)) {
            out[i] = (j, best.sqrt());
        }
    });
    out
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
