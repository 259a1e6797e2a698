//! Clustering quality and agreement metrics, numerically matched to scikit-learn.
//!
//! Every function mirrors the corresponding `sklearn.metrics` function, including its special
//! cases; where scikit-learn raises (too few/many clusters, non-finite input, length mismatch)
//! these functions return `None` (quality metrics) or `NaN` (agreement scores, inertia).
//! Labels are arbitrary `usize` ids; they are remapped internally, like sklearn's
//! `LabelEncoder`, so `{0, 3, 7}` behaves exactly like `{0, 1, 2}`.

use ndarray::{ArrayView1, ArrayView2};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use serde::{Deserialize, Serialize};

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

/// Exact mean silhouette (sklearn `silhouette_score`, euclidean). A sample in a singleton
/// cluster scores 0 (sklearn semantics), as does a sample whose intra- and nearest-cluster
/// mean distances are both 0.
///
/// `None` when there are fewer than 2 distinct labels, the number of distinct labels is
/// `>= n`, `labels.len() != x.nrows()`, or `x` has no columns or a non-finite value
/// (sklearn raises).
///
/// O(n²·d) time, O(n·d) memory: the rows are copied once into a feature-major layout sorted by
/// cluster, and each sample's per-cluster distance sums are accumulated tile by tile, split
/// across the available cores.
pub fn silhouette(x: ArrayView2<f64>, labels: &[usize]) -> Option<f64> {
    let n = x.nrows();
    if labels.len() != n || !valid_matrix(x) {
        return None;
    }
    let enc = Encoded::new(labels);
    if !valid_cluster_count(enc.k, n) {
        return None;
    }
    let scores = silhouette_scores(x, &enc);
    // sklearn averages the per-sample coefficients with np.mean.
    Some(scores.iter().sum::<f64>() / n as f64)
}

/// Result of [`silhouette_sampled`]: the score and the number of rows it was computed on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SampledSilhouette {
    /// Mean silhouette of the sample; `None` under the same conditions as [`silhouette`]
    /// (e.g. the sample happened to contain a single cluster).
    pub value: Option<f64>,
    /// Rows actually used: `min(n, sample_size)`, or 0 if `labels.len() != x.nrows()`.
    pub sample_size: usize,
}

/// Silhouette on a seeded random sample, without replacement, of at most `sample_size` rows
/// (all rows when `n <= sample_size`, which then equals [`silhouette`] exactly).
///
/// Sampling uses `Xoshiro256Plus::seed_from_u64(seed)` and `rand::seq::index::sample`, so the
/// same `(n, sample_size, seed)` always selects the same rows.
pub fn silhouette_sampled(
    x: ArrayView2<f64>,
    labels: &[usize],
    sample_size: usize,
    seed: u64,
) -> SampledSilhouette {
    let n = x.nrows();
    if labels.len() != n {
        return SampledSilhouette {
            value: None,
            sample_size: 0,
        };
    }
    if n <= sample_size {
        return SampledSilhouette {
            value: silhouette(x, labels),
            sample_size: n,
        };
    }
    let mut rng = Xoshiro256Plus::seed_from_u64(seed);
    let mut idx = rand::seq::index::sample(&mut rng, n, sample_size).into_vec();
    // The silhouette does not depend on row order; sorting makes the gather sequential.
    idx.sort_unstable();
    let sub_x = x.select(ndarray::Axis(0), &idx);
    let sub_labels: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
    SampledSilhouette {
        value: silhouette(sub_x.view(), &sub_labels),
        sample_size,
    }
}

/// sklearn `calinski_harabasz_score`. `None` when there are fewer than 2 clusters, clusters
/// `>= n`, a length mismatch, no columns or non-finite input. Returns 1.0 when every cluster has zero
/// dispersion (sklearn's convention).
pub fn calinski_harabasz(x: ArrayView2<f64>, labels: &[usize]) -> Option<f64> {
    let n = x.nrows();
    if labels.len() != n || !valid_matrix(x) {
        return None;
    }
    let enc = Encoded::new(labels);
    if !valid_cluster_count(enc.k, n) {
        return None;
    }
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
    let n = x.nrows();
    if labels.len() != n || !valid_matrix(x) {
        return None;
    }
    let enc = Encoded::new(labels);
    if !valid_cluster_count(enc.k, n) {
        return None;
    }
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

/// sklearn `adjusted_rand_score`. Labels are arbitrary ids. 1.0 for empty input or perfect
/// agreement (including both labelings being a single cluster); `NaN` if the lengths differ.
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> f64 {
    let Some(table) = Contingency::new(a, b) else {
        return f64::NAN;
    };
    // Pair confusion matrix in exact integer arithmetic, as sklearn does with Python ints.
    let n = table.n as i128;
    let sum_sq: i128 = table
        .cells
        .iter()
        .map(|&(_, _, v)| (v as i128) * (v as i128))
        .sum();
    let row_weighted: i128 = table
        .cells
        .iter()
        .map(|&(i, _, v)| v as i128 * table.row_sums[i] as i128)
        .sum();
    let col_weighted: i128 = table
        .cells
        .iter()
        .map(|&(_, j, v)| v as i128 * table.col_sums[j] as i128)
        .sum();
    let tp = sum_sq - n;
    let fp = col_weighted - sum_sq;
    let fneg = row_weighted - sum_sq;
    let tn = n * n - fp - fneg - sum_sq;
    if fneg == 0 && fp == 0 {
        return 1.0;
    }
    let num = 2 * (tp * tn - fneg * fp);
    let den = (tp + fneg) * (fneg + tn) + (tp + fp) * (fp + tn);
    num as f64 / den as f64
}

/// sklearn `normalized_mutual_info_score` with `average_method="arithmetic"`.
/// 1.0 when both labelings are a single cluster (or both empty); `NaN` if the lengths differ.
pub fn normalized_mutual_info(a: &[usize], b: &[usize]) -> f64 {
    let Some(table) = Contingency::new(a, b) else {
        return f64::NAN;
    };
    let (ka, kb) = (table.row_sums.len(), table.col_sums.len());
    if (ka == 1 && kb == 1) || (ka == 0 && kb == 0) {
        return 1.0;
    }
    let mi = table.mutual_info();
    // With the single-cluster case handled, MI = 0 cannot be a perfect match.
    if mi == 0.0 {
        return 0.0;
    }
    let normalizer = 0.5 * (entropy(&table.row_sums) + entropy(&table.col_sums));
    mi / normalizer
}

/// sklearn `adjusted_mutual_info_score` with `average_method="arithmetic"`.
/// 1.0 when both labelings are a single cluster (or both empty), 0.0 when exactly one is;
/// `NaN` if the lengths differ.
pub fn adjusted_mutual_info(a: &[usize], b: &[usize]) -> f64 {
    let Some(table) = Contingency::new(a, b) else {
        return f64::NAN;
    };
    let (ka, kb) = (table.row_sums.len(), table.col_sums.len());
    if (ka == 1 && kb == 1) || (ka == 0 && kb == 0) {
        return 1.0;
    }
    if ka == 1 || kb == 1 {
        return 0.0;
    }
    let mi = table.mutual_info();
    let emi = table.expected_mutual_info();
    let normalizer = 0.5 * (entropy(&table.row_sums) + entropy(&table.col_sums));
    // sklearn keeps the sign but bounds both terms away from 0 so that a perfect match
    // (normalizer == emi == mi up to rounding) gives 1 instead of 0/0.
    let eps = f64::EPSILON;
    let bound = |v: f64| if v < 0.0 { v.min(-eps) } else { v.max(eps) };
    bound(mi - emi) / bound(normalizer - emi)
}

// ---------------------------------------------------------------------------------------------
// Label encoding and shared helpers
// ---------------------------------------------------------------------------------------------

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

/// sklearn's `check_number_of_labels`: valid values are 2 to n - 1 inclusive.
fn valid_cluster_count(k: usize, n: usize) -> bool {
    k >= 2 && k < n
}

/// sklearn's `check_X_y` rejects non-finite values and matrices without features.
fn valid_matrix(x: ArrayView2<f64>) -> bool {
    x.ncols() > 0 && x.iter().all(|v| v.is_finite())
}

fn squared_distance(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    a.iter().zip(b.iter()).map(|(p, q)| (p - q) * (p - q)).sum()
}

// ---------------------------------------------------------------------------------------------
// Silhouette kernel
// ---------------------------------------------------------------------------------------------

/// Rows of one tile of samples whose distances are accumulated together.
const TILE_I: usize = 4;
/// Consecutive candidate rows processed per inner block. TILE_I × TILE_J accumulators fit
/// in the 16 SSE2 registers of the baseline x86-64 target, so the block never spills.
const TILE_J: usize = 4;

/// Rows sorted by cluster, stored feature-major (`xt[f * stride + p]` is feature `f` of the
/// sorted row `p`) so both the sample tile and the candidate block are contiguous loads.
struct Packed {
    n: usize,
    stride: usize,
    xt: Vec<f64>,
    /// Sorted positions `bounds[c]..bounds[c + 1]` belong to cluster `c`.
    bounds: Vec<usize>,
    /// Cluster of each sorted position.
    code: Vec<usize>,
}

impl Packed {
    fn new(x: ArrayView2<f64>, enc: &Encoded) -> Self {
        let (n, d) = x.dim();
        let mut bounds = vec![0; enc.k + 1];
        for (c, &size) in enc.sizes.iter().enumerate() {
            bounds[c + 1] = bounds[c] + size;
        }
        // Counting sort of row indices by cluster (stable).
        let mut next = bounds.clone();
        let mut order = vec![0; n];
        for (i, &c) in enc.codes.iter().enumerate() {
            order[next[c]] = i;
            next[c] += 1;
        }
        // Padding lets the last tile and a block overhanging a cluster end read zeros
        // instead of needing a scalar tail loop; padded results are discarded.
        let stride = n + TILE_I.max(TILE_J);
        let mut xt = vec![0.0; d * stride];
        for (p, &i) in order.iter().enumerate() {
            for (f, &v) in x.row(i).iter().enumerate() {
                xt[f * stride + p] = v;
            }
        }
        let code = order.iter().map(|&i| enc.codes[i]).collect();
        Packed {
            n,
            stride,
            xt,
            bounds,
            code,
        }
    }

    /// Squared distances between sorted rows `i0..i0 + TILE_I` and `j0..j0 + TILE_J`.
    #[inline(always)]
    fn block(&self, i0: usize, j0: usize) -> [[f64; TILE_J]; TILE_I] {
        let mut acc = [[0.0; TILE_J]; TILE_I];
        for col in self.xt.chunks_exact(self.stride) {
            let xi = &col[i0..i0 + TILE_I];
            let xj = &col[j0..j0 + TILE_J];
            for (acc_r, &vi) in acc.iter_mut().zip(xi) {
                for (a, &vj) in acc_r.iter_mut().zip(xj) {
                    let t = vi - vj;
                    *a += t * t;
                }
            }
        }
        acc
    }

    /// Squared distances of [`Packed::block`] turned into distances; the whole block is
    /// converted so the square roots vectorise.
    #[inline(always)]
    fn block_dist(&self, i0: usize, j0: usize) -> [[f64; TILE_J]; TILE_I] {
        let mut d = self.block(i0, j0);
        for v in d.iter_mut().flatten() {
            *v = v.sqrt();
        }
        d
    }

    /// Symmetric pass: every unordered pair is evaluated once and its distance added to both
    /// endpoints. Handles the sample tiles `part, part + parts, ...` (interleaved, so the
    /// triangular workload splits evenly) and returns this share's `n × k` per-row,
    /// per-cluster distance sums, which the caller adds up.
    fn symmetric_sums(&self, k: usize, part: usize, parts: usize) -> Vec<f64> {
        let n = self.n;
        let mut sums = vec![0.0; n * k];
        let mut tile_sums = vec![0.0; TILE_I * k];
        for t in (part..n.div_ceil(TILE_I)).step_by(parts) {
            let i0 = t * TILE_I;
            let rows = (n - i0).min(TILE_I);
            tile_sums.fill(0.0);
            // Pairs inside the tile: both orders are tile rows, so only the tile side counts.
            let d = self.block_dist(i0, i0);
            for (r, d_r) in d.iter().enumerate().take(rows) {
                for (c, &v) in d_r.iter().enumerate().take(rows) {
                    tile_sums[r * k + self.code[i0 + c]] += v;
                }
            }
            // Later rows, walked cluster by cluster so the tile side accumulates per cluster.
            let start = i0 + TILE_I;
            // Rows are sorted by cluster: the tile is single-cluster iff its ends agree.
            let uniform = match self.code.get(i0..start) {
                Some([first, .., last]) if first == last => Some(*first),
                _ => None,
            };
            let first_cluster = self.code.get(start).copied().unwrap_or(k);
            for c in first_cluster..k {
                let end = self.bounds[c + 1];
                let mut j0 = self.bounds[c].max(start);
                while j0 < end {
                    let d = self.block_dist(i0, j0);
                    let valid = (end - j0).min(TILE_J);
                    // `start < n` here, so all TILE_I tile rows are real samples.
                    for (r, d_r) in d.iter().enumerate() {
                        tile_sums[r * k + c] += d_r[..valid].iter().sum::<f64>();
                    }
                    if let Some(own) = uniform {
                        // Usual case: one cluster in the tile, so each candidate row gets a
                        // single addition of its column sum.
                        for cc in 0..valid {
                            let col: f64 = d.iter().map(|d_r| d_r[cc]).sum();
                            sums[(j0 + cc) * k + own] += col;
                        }
                    } else {
                        for (r, d_r) in d.iter().enumerate() {
                            let own = self.code[i0 + r];
                            for (cc, &v) in d_r[..valid].iter().enumerate() {
                                sums[(j0 + cc) * k + own] += v;
                            }
                        }
                    }
                    j0 += TILE_J;
                }
            }
            for (r, tile_r) in tile_sums.chunks_exact(k).enumerate().take(rows) {
                let row = &mut sums[(i0 + r) * k..(i0 + r + 1) * k];
                for (s, &v) in row.iter_mut().zip(tile_r) {
                    *s += v;
                }
            }
        }
        sums
    }

    /// Full pass without the shared `n × k` buffer (used when it would be too large):
    /// silhouette coefficients of the sorted rows `first..first + out.len()`, where `first`
    /// is a multiple of `TILE_I`. Evaluates each pair twice.
    fn scores_into(&self, first: usize, out: &mut [f64], sizes: &[usize]) {
        let k = sizes.len();
        let mut sums = vec![0.0; TILE_I * k];
        for (t, out_tile) in out.chunks_mut(TILE_I).enumerate() {
            let i0 = first + t * TILE_I;
            sums.fill(0.0);
            for c in 0..k {
                let end = self.bounds[c + 1];
                let mut j0 = self.bounds[c];
                while j0 < end {
                    let d = self.block_dist(i0, j0);
                    let valid = (end - j0).min(TILE_J);
                    for (r, d_r) in d.iter().enumerate() {
                        sums[r * k + c] += d_r[..valid].iter().sum::<f64>();
                    }
                    j0 += TILE_J;
                }
            }
            for (r, score) in out_tile.iter_mut().enumerate() {
                let own = self.code[i0 + r];
                *score = coefficient(&sums[r * k..(r + 1) * k], sizes, own);
            }
        }
    }
}

/// Silhouette coefficient of one sample from its summed distances to every cluster.
fn coefficient(sums: &[f64], sizes: &[usize], own: usize) -> f64 {
    if sizes[own] <= 1 {
        // sklearn: intra distance is 0/0 = NaN for a singleton, and nan_to_num makes it 0.
        return 0.0;
    }
    let a = sums[own] / (sizes[own] - 1) as f64;
    let b = sums
        .iter()
        .zip(sizes)
        .enumerate()
        .filter(|&(c, _)| c != own)
        .map(|(_, (&s, &size))| s / size as f64)
        .fold(f64::INFINITY, f64::min);
    let m = a.max(b);
    // a = b = 0 (duplicated points across clusters) is 0/0 in sklearn, mapped to 0.
    if m > 0.0 {
        (b - a) / m
    } else {
        0.0
    }
}

/// Per-row sums buffers of the symmetric pass (one `n × k` per thread) are capped at this
/// many f64 in total (256 MiB); beyond it the buffer-free full pass is used instead.
const SYMMETRIC_MAX_ENTRIES: usize = 1 << 25;

/// Per-sample silhouette coefficients (in cluster-sorted order; only their mean is used).
fn silhouette_scores(x: ArrayView2<f64>, enc: &Encoded) -> Vec<f64> {
    silhouette_scores_capped(x, enc, SYMMETRIC_MAX_ENTRIES)
}

/// [`silhouette_scores`] with the symmetric-buffer cap as a parameter (tests force the
/// fallback with 0).
fn silhouette_scores_capped(x: ArrayView2<f64>, enc: &Encoded, max_entries: usize) -> Vec<f64> {
    let packed = Packed::new(x, enc);
    let (n, k) = (packed.n, enc.k);
    let tiles = n.div_ceil(TILE_I);
    // Threads only pay off once the O(n²·d) work dwarfs their start-up cost.
    let work = (n as f64) * (n as f64) * (x.ncols().max(1) as f64);
    let threads = if work < 4e6 {
        1
    } else {
        std::thread::available_parallelism()
            .map(|p| p.get())
            .unwrap_or(1)
            .min(tiles)
    };

    if n.saturating_mul(k).saturating_mul(threads) <= max_entries {
        let mut sums = if threads <= 1 {
            packed.symmetric_sums(k, 0, 1)
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let packed = &packed;
                        scope.spawn(move || packed.symmetric_sums(k, t, threads))
                    })
                    .collect();
                let mut parts = handles.into_iter().map(|h| match h.join() {
                    Ok(part) => part,
                    Err(panic) => std::panic::resume_unwind(panic),
                });
                let mut total = parts.next().unwrap_or_default();
                for part in parts {
                    for (t, v) in total.iter_mut().zip(part) {
                        *t += v;
                    }
                }
                total
            })
        };
        sums.resize(n * k, 0.0);
        return sums
            .chunks_exact(k)
            .zip(&packed.code)
            .map(|(row, &own)| coefficient(row, &enc.sizes, own))
            .collect();
    }

    let mut scores = vec![0.0; n];
    // Every tile costs the same here (all n candidates), so equal contiguous ranges balance.
    let rows_per_thread = tiles.div_ceil(threads.max(1)) * TILE_I;
    std::thread::scope(|scope| {
        for (t, chunk) in scores.chunks_mut(rows_per_thread).enumerate() {
            let packed = &packed;
            let sizes = &enc.sizes;
            scope.spawn(move || packed.scores_into(t * rows_per_thread, chunk, sizes));
        }
    });
    scores
}

// ---------------------------------------------------------------------------------------------
// Contingency table, entropies and (expected) mutual information
// ---------------------------------------------------------------------------------------------

/// Sparse contingency table of two labelings (rows: `a`, columns: `b`).
struct Contingency {
    n: u64,
    row_sums: Vec<u64>,
    col_sums: Vec<u64>,
    /// Non-zero cells `(row, col, count)`.
    cells: Vec<(usize, usize, u64)>,
}

impl Contingency {
    /// `None` if the labelings have different lengths.
    fn new(a: &[usize], b: &[usize]) -> Option<Self> {
        if a.len() != b.len() {
            return None;
        }
        let ea = Encoded::new(a);
        let eb = Encoded::new(b);
        // Sorting the code pairs groups equal cells; run lengths are the counts.
        let mut pairs: Vec<(usize, usize)> = ea.codes.iter().copied().zip(eb.codes).collect();
        pairs.sort_unstable();
        let mut cells: Vec<(usize, usize, u64)> = Vec::new();
        for (i, j) in pairs {
            match cells.last_mut() {
                Some(last) if last.0 == i && last.1 == j => last.2 += 1,
                _ => cells.push((i, j, 1)),
            }
        }
        let to_u64 = |v: Vec<usize>| v.into_iter().map(|s| s as u64).collect();
        Some(Contingency {
            n: a.len() as u64,
            row_sums: to_u64(ea.sizes),
            col_sums: to_u64(eb.sizes),
            cells,
        })
    }

    /// sklearn `mutual_info_score` from the contingency table (natural log).
    fn mutual_info(&self) -> f64 {
        if self.row_sums.len() == 1 || self.col_sums.len() == 1 {
            return 0.0;
        }
        let n = self.n as f64;
        let ln_n = n.ln();
        // sum(pi) == sum(pj) == n; sklearn writes log(pi.sum()) + log(pj.sum()).
        let ln_sums = ln_n + ln_n;
        let mut mi = 0.0;
        for &(i, j, v) in &self.cells {
            let v_f = v as f64;
            let p = v_f / n;
            let outer = (self.row_sums[i] as f64) * (self.col_sums[j] as f64);
            let term = p * (v_f.ln() - ln_n) + p * (ln_sums - outer.ln());
            // sklearn zeroes terms below machine epsilon before summing.
            if term.abs() >= f64::EPSILON {
                mi += term;
            }
        }
        mi.max(0.0)
    }

    /// Port of sklearn's `expected_mutual_information` (Vinh et al. 2010), summed in the
    /// same order with the hypergeometric probabilities evaluated in log space.
    fn expected_mutual_info(&self) -> f64 {
        let (a, b) = (&self.row_sums, &self.col_sums);
        if a.len() == 1 || b.len() == 1 {
            return 0.0;
        }
        let n = self.n;
        let n_f = n as f64;
        let max_nij = a.iter().chain(b).copied().max().unwrap_or(0) as usize;
        // Tables indexed by n_ij; index 0 is never used.
        let mut term1 = vec![0.0; max_nij + 1];
        let mut log_n_nij = vec![0.0; max_nij + 1];
        let mut gln_nnij = vec![0.0; max_nij + 1];
        let gln_n1 = ln_gamma(n_f + 1.0);
        for nij in 1..=max_nij {
            let v = nij as f64;
            term1[nij] = v / n_f;
            log_n_nij[nij] = n_f.ln() + v.ln();
            gln_nnij[nij] = ln_gamma(v + 1.0) + gln_n1;
        }
        let prep = |s: &[u64]| -> Vec<(f64, f64, f64)> {
            s.iter()
                .map(|&v| {
                    let v_f = v as f64;
                    (
                        v_f.ln(),
                        ln_gamma(v_f + 1.0),
                        ln_gamma((n - v) as f64 + 1.0),
                    )
                })
                .collect()
        };
        let (pa, pb) = (prep(a), prep(b));
        // ln(v!) for the three data-dependent factorials of every term. A table (values from
        // the same ln_gamma, so results are identical) avoids ~3 Lanczos evaluations per term
        // when it is affordable.
        let table: Vec<f64> = if n <= LN_FACTORIAL_TABLE_MAX {
            (0..=n).map(|v| ln_gamma(v as f64 + 1.0)).collect()
        } else {
            Vec::new()
        };
        let ln_factorial = |v: u64| match table.get(v as usize) {
            Some(&t) => t,
            None => ln_gamma(v as f64 + 1.0),
        };
        let mut emi = 0.0;
        for (&ai, &(log_a, gln_a, gln_na)) in a.iter().zip(&pa) {
            for (&bj, &(log_b, gln_b, gln_nb)) in b.iter().zip(&pb) {
                // n_ij ranges over the support of the hypergeometric distribution.
                let start = (ai + bj).saturating_sub(n).max(1);
                let end = ai.min(bj);
                for nij in start..=end {
                    let idx = nij as usize;
                    let term2 = log_n_nij[idx] - log_a - log_b;
                    let gln = gln_a + gln_b + gln_na + gln_nb
                        - gln_nnij[idx]
                        - ln_factorial(ai - nij)
                        - ln_factorial(bj - nij)
                        - ln_factorial(n + nij - ai - bj);
                    emi += term1[idx] * term2 * gln.exp();
                }
            }
        }
        emi
    }
}

/// Largest sample count for which [`Contingency::expected_mutual_info`] tabulates ln(v!)
/// (8 MiB).
const LN_FACTORIAL_TABLE_MAX: u64 = 1 << 20;

/// Entropy (natural log) of a labeling given its cluster sizes; sklearn's `_entropy`:
/// 1.0 for an empty labeling, 0.0 for a single cluster.
fn entropy(sizes: &[u64]) -> f64 {
    match sizes.len() {
        0 => return 1.0,
        1 => return 0.0,
        _ => {}
    }
    let total = sizes.iter().sum::<u64>() as f64;
    let ln_total = total.ln();
    -sizes
        .iter()
        .map(|&s| {
            let s = s as f64;
            (s / total) * (s.ln() - ln_total)
        })
        .sum::<f64>()
}

/// ln Γ(x) for x > 0: Lanczos approximation (g = 7, 9 coefficients, relative error ~1e-15),
/// with the reflection formula below 0.5.
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Γ(x)Γ(1 − x) = π / sin(πx)
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut series = COEF[0];
    for (i, &c) in COEF.iter().enumerate().skip(1) {
        series += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use serde::Deserialize;

    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/metrics_fixture.json"
    );

    #[derive(Deserialize)]
    struct Fixture {
        main: MainCase,
        noncontiguous: NonContiguousCase,
        singleton: SingletonCase,
        agreement: Vec<AgreementCase>,
    }

    #[derive(Deserialize)]
    struct MainCase {
        x: Vec<Vec<f64>>,
        labels: Vec<usize>,
        centroids: Vec<Vec<f64>>,
        truth: Vec<usize>,
        inertia_numpy: f64,
        inertia_sklearn: f64,
        silhouette: f64,
        calinski_harabasz: f64,
        davies_bouldin: f64,
        ari: f64,
        nmi: f64,
        ami: f64,
    }

    #[derive(Deserialize)]
    struct NonContiguousCase {
        labels: Vec<usize>,
        truth: Vec<usize>,
        centroids: Vec<Vec<f64>>,
        inertia_sklearn: f64,
        silhouette: f64,
        calinski_harabasz: f64,
        davies_bouldin: f64,
        ari: f64,
        nmi: f64,
        ami: f64,
    }

    #[derive(Deserialize)]
    struct SingletonCase {
        x: Vec<Vec<f64>>,
        labels: Vec<usize>,
        silhouette_samples: Vec<f64>,
        silhouette: f64,
        calinski_harabasz: f64,
        davies_bouldin: f64,
    }

    #[derive(Deserialize)]
    struct AgreementCase {
        name: String,
        a: Vec<usize>,
        b: Vec<usize>,
        ari: f64,
        nmi: f64,
        ami: f64,
    }

    fn fixture() -> Fixture {
        let text = std::fs::read_to_string(FIXTURE).expect("read metrics fixture");
        serde_json::from_str(&text).expect("parse metrics fixture")
    }

    fn matrix(rows: &[Vec<f64>]) -> Array2<f64> {
        let d = rows.first().map_or(0, Vec::len);
        let flat: Vec<f64> = rows.iter().flatten().copied().collect();
        Array2::from_shape_vec((rows.len(), d), flat).expect("rectangular matrix")
    }

    /// Absolute 1e-6 for values of order 1, relative 1e-6 for large ones.
    #[track_caller]
    fn assert_close(what: &str, got: f64, want: f64) {
        let tol = 1e-6 * want.abs().max(1.0);
        assert!(
            (got - want).abs() <= tol,
            "{what}: got {got:.15}, sklearn {want:.15}, diff {:e}",
            (got - want).abs()
        );
    }

    #[test]
    fn main_case_matches_sklearn() {
        let f = fixture().main;
        let x = matrix(&f.x);
        let c = matrix(&f.centroids);
        let inertia_value = inertia(x.view(), &f.labels, c.view());
        assert_close("inertia vs numpy", inertia_value, f.inertia_numpy);
        assert_close(
            "inertia vs KMeans.inertia_",
            inertia_value,
            f.inertia_sklearn,
        );
        let sil = silhouette(x.view(), &f.labels).expect("silhouette defined");
        assert_close("silhouette", sil, f.silhouette);
        let ch = calinski_harabasz(x.view(), &f.labels).expect("CH defined");
        assert_close("calinski_harabasz", ch, f.calinski_harabasz);
        let db = davies_bouldin(x.view(), &f.labels).expect("DB defined");
        assert_close("davies_bouldin", db, f.davies_bouldin);
        assert_close("ari", adjusted_rand_index(&f.truth, &f.labels), f.ari);
        assert_close("nmi", normalized_mutual_info(&f.truth, &f.labels), f.nmi);
        assert_close("ami", adjusted_mutual_info(&f.truth, &f.labels), f.ami);
    }

    #[test]
    fn noncontiguous_ids_match_sklearn() {
        let fx = fixture();
        let f = fx.noncontiguous;
        let x = matrix(&fx.main.x);
        let sil = silhouette(x.view(), &f.labels).expect("silhouette defined");
        assert_close("silhouette", sil, f.silhouette);
        let ch = calinski_harabasz(x.view(), &f.labels).expect("CH defined");
        assert_close("calinski_harabasz", ch, f.calinski_harabasz);
        let db = davies_bouldin(x.view(), &f.labels).expect("DB defined");
        assert_close("davies_bouldin", db, f.davies_bouldin);
        assert_close("ari", adjusted_rand_index(&f.truth, &f.labels), f.ari);
        assert_close("nmi", normalized_mutual_info(&f.truth, &f.labels), f.nmi);
        assert_close("ami", adjusted_mutual_info(&f.truth, &f.labels), f.ami);
        // Inertia takes centroid rows; map the sparse ids back to them in id order.
        let ids = [2, 3, 7, 10, 42];
        let rows: Vec<usize> = f
            .labels
            .iter()
            .map(|l| ids.iter().position(|i| i == l).expect("known id"))
            .collect();
        let c = matrix(&f.centroids);
        assert_close(
            "inertia",
            inertia(x.view(), &rows, c.view()),
            f.inertia_sklearn,
        );
    }

    #[test]
    fn singleton_cluster_matches_sklearn() {
        let f = fixture().singleton;
        let x = matrix(&f.x);
        let enc = Encoded::new(&f.labels);
        let packed = Packed::new(x.view(), &enc);
        let sorted = silhouette_scores(x.view(), &enc);
        // Scores come back in cluster-sorted order; map sklearn's per-sample values onto it.
        let mut order: Vec<usize> = (0..f.labels.len()).collect();
        order.sort_by_key(|&i| enc.codes[i]);
        for (p, &i) in order.iter().enumerate() {
            assert_eq!(packed.code[p], enc.codes[i]);
            assert_close(&format!("sample {i}"), sorted[p], f.silhouette_samples[i]);
        }
        let singleton = f
            .labels
            .iter()
            .position(|&l| l == 5)
            .expect("singleton id 5");
        assert_eq!(f.silhouette_samples[singleton], 0.0);
        let sil = silhouette(x.view(), &f.labels).expect("silhouette defined");
        assert_close("silhouette", sil, f.silhouette);
        let ch = calinski_harabasz(x.view(), &f.labels).expect("CH defined");
        assert_close("calinski_harabasz", ch, f.calinski_harabasz);
        let db = davies_bouldin(x.view(), &f.labels).expect("DB defined");
        assert_close("davies_bouldin", db, f.davies_bouldin);
    }

    #[test]
    fn agreement_cases_match_sklearn() {
        for case in fixture().agreement {
            let (a, b) = (&case.a, &case.b);
            assert_close(
                &format!("{} ari", case.name),
                adjusted_rand_index(a, b),
                case.ari,
            );
            assert_close(
                &format!("{} nmi", case.name),
                normalized_mutual_info(a, b),
                case.nmi,
            );
            assert_close(
                &format!("{} ami", case.name),
                adjusted_mutual_info(a, b),
                case.ami,
            );
        }
    }

    #[test]
    fn identical_and_permuted_labelings_score_one() {
        let a = [0, 0, 1, 1, 2, 2, 2];
        let permuted = [7, 7, 3, 3, 11, 11, 11];
        for b in [&a, &permuted] {
            assert_eq!(adjusted_rand_index(&a, b), 1.0);
            assert_close("nmi", normalized_mutual_info(&a, b), 1.0);
            assert_close("ami", adjusted_mutual_info(&a, b), 1.0);
        }
        // sklearn's special cases.
        assert_eq!(adjusted_rand_index(&[], &[]), 1.0);
        assert_eq!(normalized_mutual_info(&[], &[]), 1.0);
        assert_eq!(adjusted_mutual_info(&[], &[]), 1.0);
        assert_eq!(adjusted_rand_index(&[3, 3, 3], &[1, 1, 1]), 1.0);
        assert_eq!(normalized_mutual_info(&[3, 3, 3], &[1, 1, 1]), 1.0);
        assert_eq!(adjusted_mutual_info(&[3, 3, 3], &[1, 1, 1]), 1.0);
        assert_eq!(adjusted_rand_index(&[0, 0, 1], &[2, 2, 2]), 0.0);
        assert_eq!(normalized_mutual_info(&[0, 0, 1], &[2, 2, 2]), 0.0);
        assert_eq!(adjusted_mutual_info(&[0, 0, 1], &[2, 2, 2]), 0.0);
        assert!(adjusted_rand_index(&[0, 1], &[0]).is_nan());
    }

    #[test]
    fn hand_checked_values() {
        // Pairs: a = {0,1}{2,3}, b = {0,1,2}{3}. Agreements: same/same (0,1); diff/diff
        // (0,3),(1,3); diff/same (0,2),(1,2); same/diff (2,3). tp=1, tn=2, fp=2, fn=1 →
        // ARI = 2(1·2 − 1·2) / ((1+1)(1+2) + (1+2)(2+2)) = 0.
        assert_eq!(adjusted_rand_index(&[0, 0, 1, 1], &[0, 0, 0, 1]), 0.0);
        // Two points per cluster on a line: {0, 1} and {10, 11}.
        let x = ndarray::array![[0.0], [1.0], [10.0], [11.0]];
        let labels = [0, 0, 1, 1];
        // a = 1 for every sample; b = 9.5, 10.5, 10.5, 9.5 (mean distance to the other pair).
        let want = ((8.5 / 9.5) + (9.5 / 10.5)) / 2.0;
        assert_close(
            "silhouette",
            silhouette(x.view(), &labels).unwrap_or(f64::NAN),
            want,
        );
        let c = ndarray::array![[0.5], [10.5]];
        assert_close("inertia", inertia(x.view(), &labels, c.view()), 1.0);
        // CH = between (2·2·5²=100) · (n−k=2) / (within 1 · (k−1=1)) = 200.
        assert_close(
            "ch",
            calinski_harabasz(x.view(), &labels).unwrap_or(f64::NAN),
            200.0,
        );
        // DB = (0.5 + 0.5) / 10 = 0.1.
        assert_close(
            "db",
            davies_bouldin(x.view(), &labels).unwrap_or(f64::NAN),
            0.1,
        );
        assert_close("lgamma(11)", ln_gamma(11.0), 15.104_412_573_075_514);
        assert_close("lgamma(0.5)", ln_gamma(0.5), 0.572_364_942_924_700_4);
        assert_close("lgamma(1001)", ln_gamma(1001.0), 5_912.128_178_488_163);
    }

    #[test]
    fn undefined_cases_return_none_or_nan() {
        let x = ndarray::array![[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]];
        let empty = Array2::<f64>::zeros((0, 2));
        assert_eq!(silhouette(x.view(), &[0, 0, 0]), None);
        assert_eq!(silhouette(x.view(), &[0, 1, 2]), None);
        assert_eq!(silhouette(x.view(), &[0, 1]), None);
        assert_eq!(silhouette(empty.view(), &[]), None);
        assert_eq!(calinski_harabasz(empty.view(), &[]), None);
        assert_eq!(davies_bouldin(x.view(), &[4, 4, 4]), None);
        assert_eq!(davies_bouldin(empty.view(), &[]), None);
        let nan = ndarray::array![[0.0], [f64::NAN], [1.0]];
        assert_eq!(silhouette(nan.view(), &[0, 0, 1]), None);
        let no_columns = Array2::<f64>::zeros((4, 0));
        assert_eq!(silhouette(no_columns.view(), &[0, 0, 1, 1]), None);
        assert_eq!(
            inertia(empty.view(), &[], Array2::<f64>::zeros((0, 2)).view()),
            0.0
        );
        let c = ndarray::array![[0.0, 0.0]];
        assert!(inertia(x.view(), &[0, 0, 1], c.view()).is_nan());
        let s = silhouette_sampled(empty.view(), &[], 10, 1);
        assert_eq!((s.value, s.sample_size), (None, 0));
    }

    /// Straightforward O(n²) silhouette for cross-checking the tiled kernel.
    fn naive_silhouette(x: ArrayView2<f64>, labels: &[usize]) -> f64 {
        let n = x.nrows();
        let mut ids = labels.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut total = 0.0;
        for i in 0..n {
            let mut sums = vec![0.0; ids.len()];
            let mut counts = vec![0usize; ids.len()];
            for (row_j, label_j) in x.rows().into_iter().zip(labels) {
                let c = ids.binary_search(label_j).unwrap_or_default();
                sums[c] += squared_distance(x.row(i), row_j).sqrt();
                counts[c] += 1;
            }
            let own = ids.binary_search(&labels[i]).unwrap_or_default();
            total += coefficient(&sums, &counts, own);
        }
        total / n as f64
    }

    fn random_problem(n: usize, d: usize, k: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
        use rand::Rng;
        let mut rng = Xoshiro256Plus::seed_from_u64(seed);
        let x = Array2::from_shape_fn((n, d), |_| rng.gen_range(-3.0..3.0));
        let labels = (0..n).map(|_| rng.gen_range(0..k) * 5 + 1).collect();
        (x, labels)
    }

    #[test]
    fn tiled_silhouette_matches_naive() {
        // Odd sizes exercise tile padding; large k gives many tiny (and singleton) clusters;
        // n = 700 crosses the threading threshold.
        for &(n, d, k, seed) in &[
            (5, 1, 2, 1),
            (13, 3, 3, 2),
            (37, 7, 30, 3),
            (101, 5, 4, 4),
            (700, 6, 5, 5),
        ] {
            let (x, labels) = random_problem(n, d, k, seed);
            let want = naive_silhouette(x.view(), &labels);
            let got = silhouette(x.view(), &labels);
            assert_close(&format!("n={n} d={d} k={k}"), got.unwrap_or(f64::NAN), want);
            // The buffer-free fallback must agree too.
            let enc = Encoded::new(&labels);
            let scores = silhouette_scores_capped(x.view(), &enc, 0);
            let fallback = scores.iter().sum::<f64>() / n as f64;
            assert_close(&format!("fallback n={n} d={d} k={k}"), fallback, want);
        }
        // A non-contiguous (transposed) view must give the same answer.
        let (x, labels) = random_problem(40, 3, 3, 9);
        let xt = x.t().to_owned();
        let view = xt.t();
        assert_close(
            "strided view",
            silhouette(view, &labels).unwrap_or(f64::NAN),
            naive_silhouette(x.view(), &labels),
        );
    }

    #[test]
    fn sampled_silhouette() {
        let (x, labels) = random_problem(300, 4, 3, 21);
        let exact = silhouette(x.view(), &labels);
        for size in [300, 1000] {
            let s = silhouette_sampled(x.view(), &labels, size, 5);
            assert_eq!(s.sample_size, 300);
            assert_eq!(s.value, exact);
        }
        let s1 = silhouette_sampled(x.view(), &labels, 120, 42);
        let s2 = silhouette_sampled(x.view(), &labels, 120, 42);
        assert_eq!(s1, s2);
        assert_eq!(s1.sample_size, 120);
        assert!(s1.value.is_some());
        // The sample is exactly the rows `index::sample` draws from the seeded generator.
        let mut rng = Xoshiro256Plus::seed_from_u64(42);
        let idx = rand::seq::index::sample(&mut rng, 300, 120).into_vec();
        let sub_x = x.select(ndarray::Axis(0), &idx);
        let sub_labels: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
        assert_close(
            "sampled rows",
            s1.value.unwrap_or(f64::NAN),
            naive_silhouette(sub_x.view(), &sub_labels),
        );
        let other = silhouette_sampled(x.view(), &labels, 120, 43);
        assert_ne!(s1.value, other.value);
    }
}
