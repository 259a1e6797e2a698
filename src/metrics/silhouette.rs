//! The silhouette, exact and on a seeded sample, and the tiled kernel that sums every sample's
//! distances to each cluster.

use ndarray::ArrayView2;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use serde::{Deserialize, Serialize};

use super::{checked, Encoded};

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
    let enc = checked(x, labels)?;
    let scores = silhouette_scores(x, &enc);
    // sklearn averages the per-sample coefficients with np.mean.
    Some(scores.iter().sum::<f64>() / x.nrows() as f64)
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

/// Rows of one tile of samples whose distances are accumulated together.
const TILE_I: usize = 4;
/// Consecutive candidate rows processed per inner block. TILE_I × TILE_J accumulators fit
/// in the 16 SSE2 registers of the baseline x86-64 target, so the block never spills.
const TILE_J: usize = 4;

/// Rows sorted by cluster, stored feature-major (`xt[f * stride + p]` is feature `f` of the
/// sorted row `p`) so both the sample tile and the candidate block are contiguous loads.
pub(super) struct Packed {
    n: usize,
    stride: usize,
    xt: Vec<f64>,
    /// Sorted positions `bounds[c]..bounds[c + 1]` belong to cluster `c`.
    bounds: Vec<usize>,
    /// Cluster of each sorted position.
    pub(super) code: Vec<usize>,
}

impl Packed {
    pub(super) fn new(x: ArrayView2<f64>, enc: &Encoded) -> Self {
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
pub(super) fn coefficient(sums: &[f64], sizes: &[usize], own: usize) -> f64 {
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
pub(super) fn silhouette_scores(x: ArrayView2<f64>, enc: &Encoded) -> Vec<f64> {
    silhouette_scores_capped(x, enc, SYMMETRIC_MAX_ENTRIES)
}

/// [`silhouette_scores`] with the symmetric-buffer cap as a parameter (tests force the
/// fallback with 0).
pub(super) fn silhouette_scores_capped(
    x: ArrayView2<f64>,
    enc: &Encoded,
    max_entries: usize,
) -> Vec<f64> {
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
