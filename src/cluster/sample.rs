//! Seeded uniform samples of row indices: which customers a method is fitted on when there are
//! more than it needs (the fit sample, DBSCAN's sample, the mixture's, the projection's). Every
//! sample is drawn the same way, so a sample is reproduced from its seed alone and never needs
//! to be saved.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;

/// Sorted row indices of a uniform sample of `size` of `n` rows without replacement, the same
/// for the same seed; all rows when n ≤ size. Sorted, so that the sample keeps the customers'
/// order and a sampled matrix is read front to back.
pub fn rows(n: usize, size: usize, seed: u64) -> Vec<usize> {
    if n <= size {
        return (0..n).collect();
    }
    let mut rng = Xoshiro256Plus::seed_from_u64(seed);
    let mut rows = rand::seq::index::sample(&mut rng, n, size).into_vec();
    rows.sort_unstable();
    rows
}

#[cfg(test)]
mod tests {
    use super::rows;

    #[test]
    fn a_sample_is_sorted_without_duplicates_and_in_range() {
        for (n, size) in [(10, 3), (1000, 999), (100_000, 1000), (5, 5), (3, 10)] {
            let sample = rows(n, size, 7);
            assert_eq!(sample.len(), size.min(n));
            assert!(
                sample.windows(2).all(|w| w[0] < w[1]),
                "not strictly ascending"
            );
            assert!(sample.iter().all(|&r| r < n));
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_sample_and_another_seed_another() {
        assert_eq!(rows(50_000, 500, 42), rows(50_000, 500, 42));
        assert_ne!(rows(50_000, 500, 42), rows(50_000, 500, 43));
    }

    #[test]
    fn every_row_is_equally_likely() {
        // 4,000 samples of 10 of 40 rows: each row is expected 1,000 times (sd ≈ 27).
        let (n, size, draws) = (40, 10, 4000);
        let mut counts = vec![0usize; n];
        for seed in 0..draws {
            rows(n, size, seed).iter().for_each(|&r| counts[r] += 1);
        }
        let expected = (draws as usize * size / n) as f64;
        for (row, &c) in counts.iter().enumerate() {
            assert!(
                (c as f64 - expected).abs() < 0.12 * expected,
                "row {row} drawn {c} times, expected about {expected}"
            );
        }
        // Both ends of the range too, not only the middle: the first and last rows of a large
        // table are drawn as often as any.
        let first_half = rows(1_000_000, 100_000, 3)
            .iter()
            .filter(|&&r| r < 500_000)
            .count();
        assert!(
            (first_half as f64 - 50_000.0).abs() < 1_000.0,
            "{first_half}"
        );
    }
}
