//! Random helpers: each customer's own RNG stream and the distributions the generator draws
//! from. All infallible: a bad parameter falls back to a sensible value.

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp1, Gamma, Poisson, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

pub(super) type CustomerRng = Xoshiro256PlusPlus;

/// SplitMix64 finaliser: spreads consecutive customer indices over the whole seed space.
fn splitmix(index: u64) -> u64 {
    let mut z = index.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(super) fn customer_rng(seed: u64, index: usize) -> CustomerRng {
    Xoshiro256PlusPlus::seed_from_u64(seed ^ splitmix(index as u64))
}

pub(super) fn uniform(rng: &mut impl Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.gen::<f64>()
}

pub(super) fn chance(rng: &mut impl Rng, p: f64) -> bool {
    rng.gen::<f64>() < p
}

pub(super) fn log_normal(rng: &mut impl Rng, median: f64, sigma: f64) -> f64 {
    let z: f64 = rng.sample(StandardNormal);
    median * (sigma * z).exp()
}

pub(super) fn exponential(rng: &mut impl Rng, mean: f64) -> f64 {
    let e: f64 = rng.sample(Exp1);
    mean * e
}

pub(super) fn poisson(rng: &mut impl Rng, lambda: f64) -> u32 {
    if lambda <= 0.0 || !lambda.is_finite() {
        return 0;
    }
    if lambda < 20.0 {
        // Knuth's product method: cheaper than building a distribution for small means.
        let limit = (-lambda).exp();
        let mut product = rng.gen::<f64>();
        let mut count = 0;
        while product > limit {
            product *= rng.gen::<f64>();
            count += 1;
        }
        return count;
    }
    Poisson::new(lambda)
        .map(|d| d.sample(rng) as u32)
        .unwrap_or(0)
}

/// Gamma-distributed value with the given mean; higher shape = more regular.
pub(super) fn gamma(rng: &mut impl Rng, shape: f64, mean: f64) -> f64 {
    Gamma::new(shape, mean / shape)
        .map(|d| d.sample(rng))
        .unwrap_or(mean)
}

/// Index drawn with probability proportional to `weights` (last index if all are zero).
pub(super) fn pick(rng: &mut impl Rng, weights: &[f64]) -> usize {
    pick_by(rng, weights, |w| *w)
}

/// Index of an item drawn with probability proportional to `weight(item)`.
pub(super) fn pick_by<T>(rng: &mut impl Rng, items: &[T], weight: impl Fn(&T) -> f64) -> usize {
    let total: f64 = items.iter().map(&weight).sum();
    let mut target = rng.gen::<f64>() * total;
    for (i, item) in items.iter().enumerate() {
        let w = weight(item);
        if target < w {
            return i;
        }
        target -= w;
    }
    items.len().saturating_sub(1)
}

/// Group-typical weights with per-customer multiplicative noise.
pub(super) fn noisy<const N: usize>(rng: &mut impl Rng, base: [f64; N], sigma: f64) -> [f64; N] {
    base.map(|w| w * log_normal(rng, 1.0, sigma))
}
