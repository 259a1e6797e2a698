//! The customers' purchase histories as the models read them: one row per distinct (x, tₓ, T)
//! with how many customers share it. On daily data many customers share a history, so a fit
//! evaluates each one once; the terms that depend on x alone are computed once per distinct x.

use std::collections::HashMap;

/// A distinct history and its weight (customers sharing it).
#[derive(Debug, Clone, Copy)]
pub struct WeightedHistory {
    pub x: f64,
    pub t_x: f64,
    pub t: f64,
    pub weight: f64,
    /// Index of `x` in [`Summary::frequencies`].
    pub x_index: u32,
}

#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub histories: Vec<WeightedHistory>,
    /// The distinct repeat-purchase counts, ascending.
    pub frequencies: Vec<f64>,
    pub customers: usize,
}

impl Summary {
    /// Groups (x, tₓ, T) triples; the order of the result follows the first appearance.
    pub fn of(triples: &[(f64, f64, f64)]) -> Summary {
        let mut frequencies: Vec<f64> = triples.iter().map(|t| t.0).collect();
        frequencies.sort_by(f64::total_cmp);
        frequencies.dedup();
        let x_index: HashMap<u64, u32> = frequencies
            .iter()
            .enumerate()
            .map(|(i, x)| (x.to_bits(), i as u32))
            .collect();
        let mut slot: HashMap<[u64; 3], usize> = HashMap::new();
        let mut histories: Vec<WeightedHistory> = Vec::new();
        for &(x, t_x, t) in triples {
            let key = [x.to_bits(), t_x.to_bits(), t.to_bits()];
            let i = *slot.entry(key).or_insert_with(|| {
                histories.push(WeightedHistory {
                    x,
                    t_x,
                    t,
                    weight: 0.0,
                    x_index: x_index[&x.to_bits()],
                });
                histories.len() - 1
            });
            histories[i].weight += 1.0;
        }
        Summary {
            histories,
            frequencies,
            customers: triples.len(),
        }
    }
}

/// The chunks' (log-likelihood, gradient) added up in chunk order: the same sums in the same
/// order whichever thread computed which chunk, so a fit — and every figure from it — is the same
/// on every run.
pub fn add_in_order<const N: usize>(partials: &[(f64, [f64; N])]) -> (f64, [f64; N]) {
    partials
        .iter()
        .fold((0.0, [0.0; N]), |(total, gradient), (ll, g)| {
            (total + ll, std::array::from_fn(|i| gradient[i] + g[i]))
        })
}
