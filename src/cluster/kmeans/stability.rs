//! Stability of the segments an analyst gets for one k: final fits from different seeds and on
//! bootstrap samples of the customers, compared by adjusted Rand index.

use ndarray::ArrayView2;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;

use super::{assign, distinct_rows, fit, mean};
use crate::error::Result;
use crate::metrics;

/// Final fits per k from different seeds, for the stability across seeds.
const SEED_FITS: u64 = 3;
/// Final fits per k on bootstrap samples (customers drawn with replacement).
const BOOTSTRAP_FITS: u64 = 2;
/// Stability is measured on a seeded sample of at most this many customers: five final fits of
/// ten restarts per k on a million customers would take minutes, and 20,000 tell the same.
const STABILITY_SAMPLE: usize = 20_000;

/// The rows stability is measured on: every customer, or a seeded sample of
/// [`STABILITY_SAMPLE`] (the same for every k, so the ks are compared on the same customers).
pub(super) fn stability_rows(n: usize, seed: u64) -> Option<Vec<usize>> {
    use rand::seq::index::sample;
    if n <= STABILITY_SAMPLE {
        return None;
    }
    let mut rng = Xoshiro256Plus::seed_from_u64(seed ^ 0x5EED_5A3F);
    let mut rows = sample(&mut rng, n, STABILITY_SAMPLE).into_vec();
    rows.sort_unstable();
    Some(rows)
}

/// Stability of the segments an analyst gets — the best of `n_runs` restarts — for one k: final
/// fits from [`SEED_FITS`] seeds (mean pairwise ARI), and final fits on [`BOOTSTRAP_FITS`]
/// bootstrap samples, each assigning every customer to its nearest centroid (mean ARI against
/// the first seed's fit). None where the customers cannot be refitted with k segments.
pub(super) fn final_fit_stability(
    x: ArrayView2<f64>,
    k: usize,
    n_runs: usize,
    seed: u64,
) -> Result<(Option<f64>, Option<f64>)> {
    use rand::Rng;
    if distinct_rows(x, k) < k {
        return Ok((None, None));
    }
    let fits = (0..SEED_FITS)
        .map(|s| fit(x, k, n_runs, seed.wrapping_add(s)).map(|(_, labels, _)| labels))
        .collect::<Result<Vec<_>>>()?;
    let pairs: Vec<f64> = (0..fits.len())
        .flat_map(|a| (a + 1..fits.len()).map(move |b| (a, b)))
        .map(|(a, b)| metrics::adjusted_rand_index(&fits[a], &fits[b]))
        .collect();
    let n = x.nrows();
    let mut resampled = Vec::new();
    for b in 0..BOOTSTRAP_FITS {
        let mut rng = Xoshiro256Plus::seed_from_u64(seed ^ 0xB007_5742 ^ b);
        let rows: Vec<usize> = (0..n).map(|_| rng.gen_range(0..n)).collect();
        let sample = x.select(ndarray::Axis(0), &rows);
        // A resample can hold fewer distinct customers than k; then it cannot be refitted.
        if distinct_rows(sample.view(), k) < k {
            continue;
        }
        let (centroids, _, _) = fit(sample.view(), k, n_runs, seed.wrapping_add(b))?;
        let refit = assign(x, centroids.view());
        resampled.push(metrics::adjusted_rand_index(&fits[0], &refit));
    }
    Ok((mean(&pairs), mean(&resampled)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::kmeans::{discover, fit_with_agreement, KmeansOptions, STABLE_ARI};
    use ndarray::Array2;

    #[test]
    fn final_fits_of_separated_groups_are_stable_for_every_seed_and_noise_gets_the_verdict() {
        use rand::Rng;
        let mut rng = Xoshiro256Plus::seed_from_u64(3);
        let blobs = Array2::from_shape_fn((600, 2), |(i, j)| {
            let centre = [(0.0, 0.0), (20.0, 0.0), (0.0, 20.0)][i % 3];
            let c = if j == 0 { centre.0 } else { centre.1 };
            c + rng.gen_range(-1.0..1.0)
        });
        for seed in [1, 7, 42, 1234, 99_999] {
            let stability = final_fit_stability(blobs.view(), 3, 10, seed).unwrap();
            assert_eq!(stability, (Some(1.0), Some(1.0)), "seed {seed}");
        }
        let found = discover(
            blobs.view(),
            &KmeansOptions {
                fixed_k: None,
                k_range: [2, 6],
                n_runs: 10,
                silhouette_sample: 600,
                seed: 42,
            },
        )
        .unwrap();
        assert_eq!((found.k, found.stable), (3, true));
        assert!(found.verdict.is_none());
        // Uniform noise in four dimensions: whatever k, the cuts move with the seed and the sample.
        let noise = Array2::from_shape_fn((800, 4), |_| rng.gen_range(0.0..1.0));
        let found = discover(
            noise.view(),
            &KmeansOptions {
                fixed_k: None,
                k_range: [2, 8],
                n_runs: 10,
                silhouette_sample: 800,
                seed: 42,
            },
        )
        .unwrap();
        for s in &found.scores {
            assert!(
                s.weakest_stability().unwrap() < STABLE_ARI,
                "k = {}: {s:?}",
                s.k
            );
        }
        assert!(!found.stable);
        let verdict = found.verdict.expect("the verdict");
        assert!(
            verdict.starts_with("No clear segment structure"),
            "{verdict}"
        );
        // The landscape diagnostic stays apart from the stability of final fits.
        let (_, _, agreement, _) = fit_with_agreement(noise.view(), 3, 1, 42).unwrap();
        assert_eq!(agreement, None);
    }
}
