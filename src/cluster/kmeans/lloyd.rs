//! Lloyd's k-means in the shape of linfa's (`KMeansParams` → `fit` → `predict`), parallel over
//! restarts and over blocks of customers, with scikit-learn's greedy k-means++ start and its
//! convergence test (centre shift below `tolerance` × the mean feature variance, or no label
//! changed).
//!
//! linfa-clustering's k-means parallelises only the assignment step and allocates per
//! iteration; on 100,000 × 13 it ran about ten times slower than scikit-learn. Here every step
//! is one pass over the rows in fixed blocks, each block reducing into its own partial sums, and
//! the partial sums are added in block order, so the result does not depend on the number of
//! threads or on how they were scheduled: the same seed gives the same centroids, bit for bit.

use linfa::dataset::DatasetBase;
use linfa::traits::{Fit, PredictInplace};
use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Data, Ix2};
use rand::{Rng, RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;
use rayon::prelude::*;

/// Rows per block: large enough to amortise the task overhead, small enough to balance two
/// to many cores. Fixed, so that sums are added in the same order on every machine.
const BLOCK_ROWS: usize = 4096;

/// The settings of a k-means fit (linfa's `KMeansParams` keys, scikit-learn's defaults).
#[derive(Debug, Clone)]
pub struct KMeansParams {
    n_clusters: usize,
    n_runs: usize,
    tolerance: f64,
    max_iterations: usize,
    seed: u64,
}

impl KMeansParams {
    pub fn new(n_clusters: usize) -> KMeansParams {
        KMeansParams {
            n_clusters,
            n_runs: 10,
            tolerance: 1e-4,
            max_iterations: 300,
            seed: 42,
        }
    }

    /// Independent restarts (each its own k-means++ start); the lowest inertia is kept.
    pub fn n_runs(mut self, n_runs: usize) -> KMeansParams {
        self.n_runs = n_runs;
        self
    }

    /// Relative to the mean feature variance, as scikit-learn's `tol`.
    pub fn tolerance(mut self, tolerance: f64) -> KMeansParams {
        self.tolerance = tolerance;
        self
    }

    pub fn max_iterations(mut self, max_iterations: usize) -> KMeansParams {
        self.max_iterations = max_iterations;
        self
    }

    pub fn seed(mut self, seed: u64) -> KMeansParams {
        self.seed = seed;
        self
    }

    fn check(&self, n: usize, d: usize) -> Result<(), linfa::Error> {
        let problem = if self.n_clusters == 0 {
            Some("k must be at least 1".to_string())
        } else if self.n_clusters > n {
            Some(format!(
                "k = {} is more than the {n} rows to cluster",
                self.n_clusters
            ))
        } else if d == 0 {
            Some("the data has no columns".to_string())
        } else if self.n_runs == 0 || self.max_iterations == 0 {
            Some("n_runs and max_iterations must be at least 1".to_string())
        } else if self.tolerance.is_nan() || self.tolerance < 0.0 {
            Some("the tolerance must be a non-negative number".to_string())
        } else {
            None
        };
        problem.map_or(Ok(()), |p| Err(linfa::Error::Parameters(p)))
    }

    /// Fits the rows of `x` (customers × features).
    pub fn fit_array(&self, x: ArrayView2<f64>) -> Result<KMeansModel, linfa::Error> {
        self.fit_with_labels(x).map(|(model, _)| model)
    }

    /// [`Self::fit_array`] and the fit rows' nearest centroids (what `predict` would give them),
    /// which the last assignment step has already found.
    pub fn fit_with_labels(
        &self,
        x: ArrayView2<f64>,
    ) -> Result<(KMeansModel, Vec<usize>), linfa::Error> {
        // Lowest inertia; an exact tie goes to the earlier restart.
        self.fit_restarts(x)?
            .into_iter()
            .reduce(|best, fit| {
                if fit.0.inertia < best.0.inertia {
                    fit
                } else {
                    best
                }
            })
            .ok_or_else(|| linfa::Error::Parameters("n_runs must be at least 1".into()))
    }

    /// Every restart's model and labels, in restart order: how far the restarts agree is a
    /// measure of how stable the segments are. Restarts run in parallel.
    pub fn fit_restarts(
        &self,
        x: ArrayView2<f64>,
    ) -> Result<Vec<(KMeansModel, Vec<usize>)>, linfa::Error> {
        let (n, d) = x.dim();
        self.check(n, d)?;
        if x.iter().any(|v| !v.is_finite()) {
            return Err(linfa::Error::Parameters(
                "the data holds a value that is not a finite number".into(),
            ));
        }
        let rows = x.as_standard_layout();
        let rows = Rows::new(rows.as_slice().unwrap_or(&[]), d);
        let tolerance = self.tolerance * mean_variance(&rows);
        let mut master = Xoshiro256Plus::seed_from_u64(self.seed);
        let seeds: Vec<u64> = (0..self.n_runs).map(|_| master.next_u64()).collect();
        Ok(seeds
            .par_iter()
            .map(|&seed| {
                let (model, labels) = self.single_run(&rows, tolerance, seed);
                (model, labels.into_iter().map(|l| l as usize).collect())
            })
            .collect())
    }

    fn single_run(&self, rows: &Rows, tolerance: f64, seed: u64) -> (KMeansModel, Vec<u32>) {
        let mut rng = Xoshiro256Plus::seed_from_u64(seed);
        let mut centroids = kmeans_plus_plus(rows, self.n_clusters, &mut rng);
        let mut labels = vec![u32::MAX; rows.n];
        let mut distances = vec![0.0; rows.n];
        let mut iterations = 0;
        let mut converged_strictly = false;
        while iterations < self.max_iterations {
            iterations += 1;
            let step = assign_and_sum(rows, &centroids, &mut labels, &mut distances);
            let changed = step.changed;
            let new_centroids = step.centroids(rows, &centroids, &distances, &labels);
            let shift: f64 = centroids
                .iter()
                .zip(new_centroids.iter())
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            centroids = new_centroids;
            if changed == 0 {
                converged_strictly = true;
                break;
            }
            if shift <= tolerance {
                break;
            }
        }
        // The last step moved the centroids after assigning: assign once more, so that the
        // labels and the inertia belong to the centroids returned (as scikit-learn does).
        let inertia = if converged_strictly {
            distances.iter().sum()
        } else {
            assign_and_sum(rows, &centroids, &mut labels, &mut distances);
            distances.iter().sum()
        };
        let model = KMeansModel {
            centroids: Array2::from_shape_vec((self.n_clusters, rows.d), centroids)
                .unwrap_or_default(),
            inertia,
            iterations,
        };
        (model, labels)
    }
}

/// Fitted centroids; `predict` gives every row its nearest centroid.
#[derive(Debug, Clone)]
pub struct KMeansModel {
    centroids: Array2<f64>,
    inertia: f64,
    iterations: usize,
}

impl KMeansModel {
    pub fn centroids(&self) -> &Array2<f64> {
        &self.centroids
    }

    /// Sum of squared distances of the fit rows to their centroid (not linfa's mean).
    pub fn inertia(&self) -> f64 {
        self.inertia
    }

    /// Lloyd iterations of the kept restart.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// Index of the nearest centroid of every row (the lower index on an exact tie).
    pub fn predict_array(&self, x: ArrayView2<f64>) -> Vec<usize> {
        nearest_centroids(x, self.centroids.view())
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    }
}

impl<D: Data<Elem = f64>, T> Fit<ArrayBase<D, Ix2>, T, linfa::Error> for KMeansParams {
    type Object = KMeansModel;

    fn fit(
        &self,
        dataset: &DatasetBase<ArrayBase<D, Ix2>, T>,
    ) -> Result<KMeansModel, linfa::Error> {
        self.fit_array(dataset.records.view())
    }
}

impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<usize>> for KMeansModel {
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<usize>) {
        for (slot, label) in y.iter_mut().zip(self.predict_array(x.view())) {
            *slot = label;
        }
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<usize> {
        Array1::zeros(x.nrows())
    }
}

/// Nearest centroid and squared distance of every row, in parallel blocks.
pub fn nearest_centroids(x: ArrayView2<f64>, centroids: ArrayView2<f64>) -> Vec<(usize, f64)> {
    let d = x.ncols();
    let rows = x.as_standard_layout();
    let rows = rows.as_slice().unwrap_or(&[]);
    let centres = centroids.as_standard_layout();
    let centres = centres.as_slice().unwrap_or(&[]);
    if d == 0 || centres.is_empty() {
        return vec![(0, 0.0); x.nrows()];
    }
    let centres = Centres::new(centres, d);
    let blocks: Vec<Vec<(usize, f64)>> = rows
        .par_chunks(BLOCK_ROWS * d)
        .map(|block| nearest_in_block(&centres, block, d))
        .collect();
    blocks.into_iter().flatten().collect()
}

/// The nearest centroid of every row of a block.
fn nearest_in_block(centres: &Centres, block: &[f64], d: usize) -> Vec<(usize, f64)> {
    let mut found = Vec::with_capacity(block.len() / d);
    centres.each_nearest(block, d, |_, _, nearest| found.push(nearest));
    found
}

/// Centroids laid out dimension by dimension (every centroid's first coordinate, then every
/// second one, …): the distances from a row to all centroids then add up side by side, which
/// the compiler vectorises, where one centroid at a time ends every distance in a horizontal
/// sum. Each distance still adds its coordinates in order, so the results are the same bits.
struct Centres {
    k: usize,
    by_dimension: Vec<f64>,
}

impl Centres {
    fn new(centres: &[f64], d: usize) -> Centres {
        let k = centres.len() / d;
        let by_dimension = (0..d * k).map(|i| centres[(i % k) * d + i / k]).collect();
        Centres { k, by_dimension }
    }

    /// Calls `visit` with the index, the values and the nearest centroid of every row of
    /// `block`. The number of centroids is matched once per block: for up to 12 the running
    /// distances are a fixed-size array the compiler keeps in registers.
    #[inline(always)]
    fn each_nearest(
        &self,
        block: &[f64],
        d: usize,
        mut visit: impl FnMut(usize, &[f64], (usize, f64)),
    ) {
        #[inline(always)]
        fn rows<const K: usize>(
            centres: &Centres,
            block: &[f64],
            d: usize,
            visit: &mut impl FnMut(usize, &[f64], (usize, f64)),
        ) {
            // K = 0: any number of centroids, their distances on the heap.
            let mut scratch = vec![0.0; if K == 0 { centres.k } else { 0 }];
            for (i, row) in block.chunks_exact(d).enumerate() {
                let nearest = if K == 0 {
                    centres.nearest(row, &mut scratch)
                } else {
                    centres.nearest_of::<K>(row)
                };
                visit(i, row, nearest);
            }
        }
        macro_rules! for_k {
            ($($k:literal)*) => {
                match self.k {
                    $($k => rows::<$k>(self, block, d, &mut visit),)*
                    _ => rows::<0>(self, block, d, &mut visit),
                }
            };
        }
        for_k!(1 2 3 4 5 6 7 8 9 10 11 12)
    }

    /// [`Self::nearest`] for exactly `K` centroids.
    #[inline(always)]
    fn nearest_of<const K: usize>(&self, row: &[f64]) -> (usize, f64) {
        // A fixed-size array: inlined, the loops below unroll over the K centroids.
        self.nearest_into(row, &mut [0.0; K])
    }

    /// Index and squared distance of the nearest centroid (the lower index on an exact tie).
    #[inline(always)]
    fn nearest(&self, row: &[f64], scratch: &mut [f64]) -> (usize, f64) {
        scratch.fill(0.0);
        self.nearest_into(row, scratch)
    }

    /// The squared distances to every centroid summed into `sums` (zeroed, one per centroid),
    /// then the nearest.
    #[inline(always)]
    fn nearest_into(&self, row: &[f64], sums: &mut [f64]) -> (usize, f64) {
        for (&x, column) in row.iter().zip(self.by_dimension.chunks_exact(sums.len())) {
            for (sum, &c) in sums.iter_mut().zip(column) {
                let t = x - c;
                *sum += t * t;
            }
        }
        let mut best = (0, f64::INFINITY);
        for (c, &dist) in sums.iter().enumerate() {
            if dist < best.1 {
                best = (c, dist);
            }
        }
        best
    }
}

/// The rows of the matrix as one row-major slice.
struct Rows<'a> {
    values: &'a [f64],
    n: usize,
    d: usize,
}

impl<'a> Rows<'a> {
    fn new(values: &'a [f64], d: usize) -> Rows<'a> {
        Rows {
            values,
            n: values.len() / d.max(1),
            d,
        }
    }

    fn row(&self, i: usize) -> &'a [f64] {
        &self.values[i * self.d..(i + 1) * self.d]
    }

    fn blocks(&self) -> rayon::slice::Chunks<'a, f64> {
        self.values.par_chunks(BLOCK_ROWS * self.d)
    }
}

#[inline]
fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Mean over the columns of each column's variance: scikit-learn scales `tol` by it.
fn mean_variance(rows: &Rows) -> f64 {
    let (n, d) = (rows.n as f64, rows.d);
    let mut sums = vec![0.0; d];
    for row in rows.values.chunks_exact(d) {
        sums.iter_mut().zip(row).for_each(|(s, v)| *s += v);
    }
    let means: Vec<f64> = sums.iter().map(|s| s / n).collect();
    let mut squares = vec![0.0; d];
    for row in rows.values.chunks_exact(d) {
        for ((s, v), m) in squares.iter_mut().zip(row).zip(&means) {
            *s += (v - m) * (v - m);
        }
    }
    squares.iter().map(|s| s / n).sum::<f64>() / d as f64
}

/// One assignment step's per-cluster sums, counts and the number of labels that changed.
struct Step {
    sums: Vec<f64>,
    counts: Vec<usize>,
    changed: usize,
}

impl Step {
    fn zero(k: usize, d: usize) -> Step {
        Step {
            sums: vec![0.0; k * d],
            counts: vec![0; k],
            changed: 0,
        }
    }

    fn add(mut self, other: Step) -> Step {
        self.sums
            .iter_mut()
            .zip(&other.sums)
            .for_each(|(a, b)| *a += b);
        self.counts
            .iter_mut()
            .zip(&other.counts)
            .for_each(|(a, b)| *a += b);
        self.changed += other.changed;
        self
    }

    /// The means of the assigned rows; an empty cluster takes the row farthest from its own
    /// centroid (scikit-learn's relocation), so no centroid is left without customers.
    fn centroids(
        mut self,
        rows: &Rows,
        old: &[f64],
        distances: &[f64],
        labels: &[u32],
    ) -> Vec<f64> {
        let d = rows.d;
        let empty: Vec<usize> = (0..self.counts.len())
            .filter(|&c| self.counts[c] == 0)
            .collect();
        if !empty.is_empty() {
            for (&c, far) in empty.iter().zip(farthest_rows(distances, empty.len())) {
                let from = labels[far] as usize;
                if self.counts[from] <= 1 {
                    continue;
                }
                let row = rows.row(far);
                self.sums[from * d..(from + 1) * d]
                    .iter_mut()
                    .zip(row)
                    .for_each(|(s, v)| *s -= v);
                self.counts[from] -= 1;
                self.sums[c * d..(c + 1) * d].copy_from_slice(row);
                self.counts[c] = 1;
            }
        }
        let mut centres = self.sums;
        for (c, centre) in centres.chunks_exact_mut(d).enumerate() {
            match self.counts[c] {
                0 => centre.copy_from_slice(&old[c * d..(c + 1) * d]),
                count => centre.iter_mut().for_each(|v| *v /= count as f64),
            }
        }
        centres
    }
}

/// Indices of the `count` largest distances, largest first (the lower index on a tie).
fn farthest_rows(distances: &[f64], count: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..distances.len()).collect();
    order.sort_by(|&a, &b| distances[b].total_cmp(&distances[a]).then(a.cmp(&b)));
    order.truncate(count);
    order
}

/// Assigns every row to its nearest centroid (writing labels and squared distances) and sums
/// the rows per cluster, block by block.
fn assign_and_sum(
    rows: &Rows,
    centroids: &[f64],
    labels: &mut [u32],
    distances: &mut [f64],
) -> Step {
    let (k, d) = (centroids.len() / rows.d, rows.d);
    let centres = Centres::new(centroids, d);
    let partials: Vec<Step> = rows
        .blocks()
        .zip(labels.par_chunks_mut(BLOCK_ROWS))
        .zip(distances.par_chunks_mut(BLOCK_ROWS))
        .map(|((block, labels), distances)| assign_block(&centres, block, labels, distances, d))
        .collect();
    partials
        .into_iter()
        .fold(Step::zero(k, d), |total, part| total.add(part))
}

/// One block of [`assign_and_sum`].
fn assign_block(
    centres: &Centres,
    block: &[f64],
    labels: &mut [u32],
    distances: &mut [f64],
    d: usize,
) -> Step {
    let mut step = Step::zero(centres.k, d);
    centres.each_nearest(block, d, |i, row, (c, dist)| {
        if labels[i] != c as u32 {
            step.changed += 1;
            labels[i] = c as u32;
        }
        distances[i] = dist;
        step.counts[c] += 1;
        step.sums[c * d..(c + 1) * d]
            .iter_mut()
            .zip(row)
            .for_each(|(s, v)| *s += v);
    });
    step
}

/// Greedy k-means++ (scikit-learn's `_kmeans_plusplus`): each new centre is the best of
/// 2 + ln k candidates drawn with probability proportional to the squared distance to the
/// nearest centre so far, "best" being the one that lowers the total squared distance most.
fn kmeans_plus_plus(rows: &Rows, k: usize, rng: &mut Xoshiro256Plus) -> Vec<f64> {
    let d = rows.d;
    let trials = 2 + (k as f64).ln() as usize;
    let mut centres = Vec::with_capacity(k * d);
    centres.extend_from_slice(rows.row(rng.gen_range(0..rows.n)));
    let mut closest: Vec<f64> = rows
        .values
        .par_chunks(d)
        .map(|row| squared_distance(row, &centres[..d]))
        .collect();
    let mut potential: f64 = closest.iter().sum();
    while centres.len() < k * d {
        let cumulative: Vec<f64> = closest
            .iter()
            .scan(0.0, |sum, v| {
                *sum += v;
                Some(*sum)
            })
            .collect();
        let candidates: Vec<usize> = (0..trials)
            .map(|_| {
                let target = rng.gen::<f64>() * potential;
                cumulative.partition_point(|&c| c < target).min(rows.n - 1)
            })
            .collect();
        let (potentials, mut closest_if) = with_candidates(rows, &closest, &candidates);
        let best = (0..trials)
            .min_by(|&a, &b| potentials[a].total_cmp(&potentials[b]).then(a.cmp(&b)))
            .unwrap_or(0);
        closest = closest_if.swap_remove(best);
        potential = potentials[best];
        centres.extend_from_slice(rows.row(candidates[best]));
    }
    centres
}

/// For each candidate centre: every row's squared distance to its nearest centre if the
/// candidate were added, and their total — one pass for all candidates.
fn with_candidates(
    rows: &Rows,
    closest: &[f64],
    candidates: &[usize],
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let d = rows.d;
    let centres: Vec<&[f64]> = candidates.iter().map(|&i| rows.row(i)).collect();
    let blocks: Vec<(Vec<f64>, Vec<Vec<f64>>)> = rows
        .blocks()
        .zip(closest.par_chunks(BLOCK_ROWS))
        .map(|(values, closest)| {
            let mut sums = vec![0.0; centres.len()];
            let mut nearest: Vec<Vec<f64>> = centres
                .iter()
                .map(|_| Vec::with_capacity(closest.len()))
                .collect();
            for (row, &c) in values.chunks_exact(d).zip(closest) {
                for ((sum, out), centre) in sums.iter_mut().zip(&mut nearest).zip(&centres) {
                    let value = c.min(squared_distance(row, centre));
                    out.push(value);
                    *sum += value;
                }
            }
            (sums, nearest)
        })
        .collect();
    let mut totals = vec![0.0; centres.len()];
    let mut closest_if: Vec<Vec<f64>> =
        centres.iter().map(|_| Vec::with_capacity(rows.n)).collect();
    for (sums, nearest) in blocks {
        totals.iter_mut().zip(sums).for_each(|(t, s)| *t += s);
        for (all, part) in closest_if.iter_mut().zip(nearest) {
            all.extend(part);
        }
    }
    (totals, closest_if)
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::traits::Predict;
    use ndarray::array;

    fn blobs() -> Array2<f64> {
        let mut rng = Xoshiro256Plus::seed_from_u64(3);
        let centres = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]];
        Array2::from_shape_fn((3000, 2), |(i, j)| {
            centres[i % 3][j] + rng.gen::<f64>() - 0.5
        })
    }

    #[test]
    fn finds_three_blobs_through_linfas_traits() {
        let x = blobs();
        let model = KMeansParams::new(3)
            .seed(7)
            .fit(&DatasetBase::from(x.clone()))
            .expect("fit");
        let labels: Array1<usize> = model.predict(&x);
        for i in 0..3 {
            assert!((0..x.nrows()).all(|r| (labels[r] == labels[i]) == (r % 3 == i % 3)));
        }
        // Uniform noise of width 1 has variance 1/12 per coordinate.
        let per_row = model.inertia() / x.nrows() as f64;
        assert!((per_row - 2.0 / 12.0).abs() < 0.01, "{per_row}");
    }

    #[test]
    fn same_seed_same_centroids_whatever_the_thread_count() {
        let x = blobs();
        let params = KMeansParams::new(4).n_runs(3).seed(11);
        let many = params.fit_array(x.view()).expect("fit");
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("pool")
            .install(|| params.fit_array(x.view()).expect("fit"));
        assert_eq!(many.centroids(), one.centroids());
        assert_eq!(many.inertia().to_bits(), one.inertia().to_bits());
    }

    #[test]
    fn every_centroid_keeps_a_customer_on_duplicated_rows() {
        // Five distinct rows, each many times: k = 5 must place one centroid on each.
        let x = Array2::from_shape_fn((500, 1), |(i, _)| (i % 5) as f64);
        let model = KMeansParams::new(5)
            .n_runs(2)
            .fit_array(x.view())
            .expect("fit");
        let labels = model.predict_array(x.view());
        let mut used: Vec<usize> = labels.clone();
        used.sort_unstable();
        used.dedup();
        assert_eq!(used.len(), 5);
        assert_eq!(model.inertia(), 0.0);
    }

    #[test]
    fn refuses_bad_settings_and_values() {
        let x = array![[0.0], [1.0]];
        assert!(KMeansParams::new(3).fit_array(x.view()).is_err());
        assert!(KMeansParams::new(0).fit_array(x.view()).is_err());
        let bad = array![[0.0], [f64::NAN]];
        assert!(KMeansParams::new(1).fit_array(bad.view()).is_err());
    }
}
