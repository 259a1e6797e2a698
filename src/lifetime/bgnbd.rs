//! The BG/NBD model (Fader, Hardie & Lee, "Counting Your Customers the Easy Way", Marketing
//! Science 2005): while alive a customer buys at Poisson rate λ ~ Gamma(r, α), and after every
//! purchase drops out with probability p ~ Beta(a, b). Time is in the job's unit (days or weeks).
//!
//! The likelihood is the paper's equation (6); P(alive) its (A10 in the appendix) and the
//! conditional expectation its (10), in the log-space form `lifetimes` uses so that frequent
//! buyers do not overflow.

use serde::{Deserialize, Serialize};

use super::special::{digamma, ln_gamma, ln_hyp2f1};
use super::summary::add_in_order;
use super::summary::Summary;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

/// The terms of a customer's likelihood that depend on the parameters and x only, computed once
/// per distinct x in a fit: most of the special-function calls.
#[derive(Clone, Copy)]
struct PerFrequency {
    /// ln Γ(r + x) − ln Γ(r) + r ln α + ln B(a, b + x) − ln B(a, b), without the customer's times.
    constant: f64,
    /// ln a − ln(b + x − 1): the dropout branch's extra factor (x > 0 only).
    dropout: f64,
    d_constant: [f64; 4],
    d_dropout: [f64; 4],
}

impl BgNbd {
    pub const NAMES: [&'static str; 4] = ["r", "alpha", "a", "b"];

    pub fn from_array(p: [f64; 4]) -> BgNbd {
        BgNbd {
            r: p[0],
            alpha: p[1],
            a: p[2],
            b: p[3],
        }
    }

    pub fn to_array(self) -> [f64; 4] {
        [self.r, self.alpha, self.a, self.b]
    }

    fn per_frequency(&self, x: f64) -> PerFrequency {
        let BgNbd { r, alpha, a, b } = *self;
        let constant = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + ln_gamma(a + b)
            - ln_gamma(a + b + x)
            + ln_gamma(b + x)
            - ln_gamma(b);
        let d_constant = [
            digamma(r + x) - digamma(r) + alpha.ln(),
            r / alpha,
            digamma(a + b) - digamma(a + b + x),
            digamma(a + b) - digamma(a + b + x) + digamma(b + x) - digamma(b),
        ];
        let (dropout, d_dropout) = if x > 0.0 {
            (
                a.ln() - (b + x - 1.0).ln(),
                [0.0, 0.0, 1.0 / a, -1.0 / (b + x - 1.0)],
            )
        } else {
            (0.0, [0.0; 4])
        };
        PerFrequency {
            constant,
            dropout,
            d_constant,
            d_dropout,
        }
    }

    /// Σ weight × ln L over the summary's distinct histories, and its gradient in (r, α, a, b).
    pub fn log_likelihood(&self, summary: &Summary) -> (f64, [f64; 4]) {
        use rayon::prelude::*;
        let per_x: Vec<PerFrequency> = summary
            .frequencies
            .iter()
            .map(|&x| self.per_frequency(x))
            .collect();
        let partials = summary
            .histories
            .par_chunks(4096)
            .map(|chunk| {
                let mut total = 0.0;
                let mut gradient = [0.0; 4];
                for h in chunk {
                    let (ll, g) = self.customer(h.x, h.t_x, h.t, &per_x[h.x_index as usize]);
                    total += h.weight * ll;
                    for (sum, gi) in gradient.iter_mut().zip(g) {
                        *sum += h.weight * gi;
                    }
                }
                (total, gradient)
            })
            .collect::<Vec<_>>();
        add_in_order(&partials)
    }

    /// One history's ln L: ln[(α + T)^−(r+x) + δ(x>0) a/(b+x−1) (α + tₓ)^−(r+x)] plus the
    /// constant, the two branches added in log space.
    fn customer(&self, x: f64, t_x: f64, t: f64, k: &PerFrequency) -> (f64, [f64; 4]) {
        let rx = self.r + x;
        let alive = -rx * (self.alpha + t).ln();
        let d_alive = [-(self.alpha + t).ln(), -rx / (self.alpha + t), 0.0, 0.0];
        let mut ll = k.constant + alive;
        let mut gradient = std::array::from_fn(|i| k.d_constant[i] + d_alive[i]);
        if x > 0.0 {
            let dropped = k.dropout - rx * (self.alpha + t_x).ln();
            let d_dropped = [
                -(self.alpha + t_x).ln(),
                -rx / (self.alpha + t_x),
                k.d_dropout[2],
                k.d_dropout[3],
            ];
            let top = alive.max(dropped);
            let (w_alive, w_dropped) = ((alive - top).exp(), (dropped - top).exp());
            let sum = w_alive + w_dropped;
            ll = k.constant + top + sum.ln();
            gradient = std::array::from_fn(|i| {
                k.d_constant[i] + (w_alive * d_alive[i] + w_dropped * d_dropped[i]) / sum
            });
        }
        (ll, gradient)
    }

    /// P(alive | x, tₓ, T): 1 for a customer who never came back (the model lets nobody drop out
    /// before a repeat purchase).
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        if x == 0.0 {
            return 1.0;
        }
        let log_odds_dead = (self.r + x) * ((self.alpha + t) / (self.alpha + t_x)).ln()
            + (self.a / (self.b + x - 1.0)).ln();
        1.0 / (1.0 + log_odds_dead.exp())
    }

    /// E[Y(h) | x, tₓ, T]: purchases expected in the next `h` time units. None when ₂F₁ does not
    /// converge (never seen on real parameters; counted and reported by the caller).
    pub fn expected_purchases(&self, h: f64, x: f64, t_x: f64, t: f64) -> Option<f64> {
        let BgNbd { r, alpha, a, b } = *self;
        if h <= 0.0 {
            return Some(0.0);
        }
        let z = h / (alpha + t + h);
        let ln_hyp = ln_hyp2f1(r + x, b + x, a + b + x - 1.0, z)?;
        let first = (a + b + x - 1.0) / (a - 1.0);
        let second = 1.0 - (ln_hyp + (r + x) * ((alpha + t) / (alpha + t + h)).ln()).exp();
        let denominator = if x > 0.0 {
            1.0 + a / (b + x - 1.0) * ((alpha + t) / (alpha + t_x)).powf(r + x)
        } else {
            1.0
        };
        Some(first * second / denominator)
    }

    /// E[X(t)]: purchases expected in `t` time units after a customer's first (equation 9).
    pub fn unconditional_expected(&self, t: f64) -> Option<f64> {
        let BgNbd { r, alpha, a, b } = *self;
        if t <= 0.0 {
            return Some(0.0);
        }
        let ln_hyp = ln_hyp2f1(r, b, a + b - 1.0, t / (alpha + t))?;
        Some((a + b - 1.0) / (a - 1.0) * (1.0 - (r * (alpha / (alpha + t)).ln() + ln_hyp).exp()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifetime::optimise::assert_gradient;
    use crate::lifetime::summary::Summary;

    /// The paper's estimates on its CDNOW sample (weeks).
    const PAPER: BgNbd = BgNbd {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    };

    #[test]
    fn the_gradient_is_the_likelihood_s_slope() {
        let summary = Summary::of(&[(0.0, 0.0, 30.0), (2.0, 10.5, 38.0), (7.0, 30.0, 31.0)]);
        let (_, gradient) = PAPER.log_likelihood(&summary);
        let value = |p: &[f64]| {
            BgNbd::from_array([p[0], p[1], p[2], p[3]])
                .log_likelihood(&summary)
                .0
        };
        assert_gradient(&PAPER.to_array(), value, &gradient);
    }

    #[test]
    fn the_likelihood_is_the_same_bits_on_any_number_of_threads() {
        // Enough histories for many chunks, so threads would add them in different groupings.
        let triples: Vec<(f64, f64, f64)> = (0..50_000)
            .map(|i| {
                let t = 1.0 + f64::from(i % 997) / 10.0;
                (f64::from(i % 13), t * f64::from(i % 7) / 7.0, t)
            })
            .collect();
        let summary = Summary::of(&triples);
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| PAPER.log_likelihood(&summary))
        };
        let (one, four) = (on(1), on(4));
        assert_eq!(one.0.to_bits(), four.0.to_bits());
        assert_eq!(one.1.map(f64::to_bits), four.1.map(f64::to_bits));
    }

    #[test]
    fn a_one_time_buyer_is_alive_and_a_lapsed_regular_is_not() {
        assert_eq!(PAPER.p_alive(0.0, 0.0, 30.0), 1.0);
        let regular_lapsed = PAPER.p_alive(10.0, 5.0, 38.0);
        let regular_recent = PAPER.p_alive(10.0, 37.0, 38.0);
        assert!(regular_lapsed < 0.01 && regular_recent > 0.9);
    }

    #[test]
    fn the_conditional_expectation_of_a_newcomer_is_the_unconditional_one() {
        // With x = 0 and T = 0 nothing is known beyond the population: E[Y(t) | 0, 0, 0] = E[X(t)].
        for t in [1.0, 13.0, 39.0, 78.0] {
            let conditional = PAPER.expected_purchases(t, 0.0, 0.0, 0.0).unwrap();
            let unconditional = PAPER.unconditional_expected(t).unwrap();
            assert!((conditional - unconditional).abs() < 1e-10, "{t}");
        }
    }
}
