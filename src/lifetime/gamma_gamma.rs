//! The Gamma-Gamma spend model (Fader, Hardie & Lee, "RFM and CLV: Using Iso-Value Curves for
//! Customer Base Analysis", JMR 2005; Fader & Hardie's note "The Gamma-Gamma Model of Monetary
//! Value", 2013): each purchase's value is Gamma(p, ν) around a customer's mean, and ν ~
//! Gamma(q, γ) across customers. Fitted on customers with repeat purchases, from the number x
//! and mean value m̄ of those repeat purchases; independent of the purchase timing by assumption.

use serde::{Deserialize, Serialize};

use super::special::{digamma, ln_gamma};
use super::summary::add_in_order;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    /// γ, the scale of the spread of spend across customers (lifetimes calls it v).
    pub v: f64,
}

/// A customer's repeat purchases: how many and their mean value.
#[derive(Debug, Clone, Copy)]
pub struct Spend {
    pub x: f64,
    pub mean: f64,
}

/// A customer's spend with the logarithms a fit needs, taken once.
#[derive(Debug, Clone, Copy)]
pub struct PreparedSpend {
    pub x: f64,
    pub mean: f64,
    pub ln_x: f64,
    pub ln_mean: f64,
    /// Index of x in [`SpendSummary::frequencies`].
    pub x_index: u32,
}

/// The customers Gamma-Gamma is fitted on, prepared for the many evaluations of a fit.
#[derive(Debug, Clone, Default)]
pub struct SpendSummary {
    pub customers: Vec<PreparedSpend>,
    /// The distinct repeat-purchase counts, ascending.
    pub frequencies: Vec<f64>,
}

impl SpendSummary {
    pub fn of(spend: &[Spend]) -> SpendSummary {
        let mut frequencies: Vec<f64> = spend.iter().map(|s| s.x).collect();
        frequencies.sort_by(f64::total_cmp);
        frequencies.dedup();
        let index = |x: f64| frequencies.partition_point(|&f| f < x) as u32;
        let customers = spend
            .iter()
            .map(|s| PreparedSpend {
                x: s.x,
                mean: s.mean,
                ln_x: s.x.ln(),
                ln_mean: s.mean.ln(),
                x_index: index(s.x),
            })
            .collect();
        SpendSummary {
            customers,
            frequencies,
        }
    }

    pub fn len(&self) -> usize {
        self.customers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.customers.is_empty()
    }
}

impl GammaGamma {
    pub const NAMES: [&'static str; 3] = ["p", "q", "v"];

    pub fn from_array(p: [f64; 3]) -> GammaGamma {
        GammaGamma {
            p: p[0],
            q: p[1],
            v: p[2],
        }
    }

    pub fn to_array(self) -> [f64; 3] {
        [self.p, self.q, self.v]
    }

    /// Σ ln f(m̄ | p, q, γ; x) over the customers, and its gradient in (p, q, γ).
    pub fn log_likelihood(&self, spend: &SpendSummary) -> (f64, [f64; 3]) {
        use rayon::prelude::*;
        let GammaGamma { p, q, v } = *self;
        // Γ and ψ of p·x depend on x alone: once per distinct x.
        let per_x: Vec<[f64; 3]> = spend
            .frequencies
            .iter()
            .map(|&x| {
                let px = p * x;
                [
                    ln_gamma(px + q) - ln_gamma(px),
                    digamma(px + q),
                    digamma(px),
                ]
            })
            .collect();
        let (ln_gamma_q, digamma_q, ln_v) = (ln_gamma(q), digamma(q), v.ln());
        let partials = spend
            .customers
            .par_chunks(4096)
            .map(|chunk| {
                let mut total = 0.0;
                let mut g = [0.0; 3];
                for c in chunk {
                    let [gammas, psi_sum, psi_px] = per_x[c.x_index as usize];
                    let px = p * c.x;
                    let ln_total = (c.x * c.mean + v).ln();
                    total += gammas - ln_gamma_q + q * ln_v + (px - 1.0) * c.ln_mean + px * c.ln_x
                        - (px + q) * ln_total;
                    g[0] += c.x * (psi_sum - psi_px + c.ln_mean + c.ln_x - ln_total);
                    g[1] += psi_sum - digamma_q + ln_v - ln_total;
                    g[2] += q / v - (px + q) / (c.x * c.mean + v);
                }
                (total, g)
            })
            .collect::<Vec<_>>();
        add_in_order(&partials)
    }

    /// The mean spend of the population, p γ / (q − 1); infinite when q ≤ 1.
    pub fn population_mean(&self) -> f64 {
        self.p * self.v / (self.q - 1.0)
    }

    /// E[M | x, m̄]: the customer's own mean shrunk towards the population's by how few repeat
    /// purchases it rests on; the population mean for a customer without usable ones.
    pub fn expected_value(&self, spend: Option<Spend>) -> f64 {
        match spend {
            Some(Spend { x, mean }) if x > 0.0 && mean > 0.0 => {
                let weight = self.p * x / (self.p * x + self.q - 1.0);
                (1.0 - weight) * self.population_mean() + weight * mean
            }
            _ => self.population_mean(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifetime::optimise::assert_gradient;

    #[test]
    fn the_gradient_is_the_likelihood_s_slope() {
        let model = GammaGamma {
            p: 6.25,
            q: 3.74,
            v: 15.44,
        };
        let spend = [
            Spend { x: 1.0, mean: 12.0 },
            Spend { x: 4.0, mean: 38.5 },
            Spend { x: 20.0, mean: 9.9 },
        ];
        let spend = SpendSummary::of(&spend);
        let (_, gradient) = model.log_likelihood(&spend);
        let value = |p: &[f64]| {
            GammaGamma::from_array([p[0], p[1], p[2]])
                .log_likelihood(&spend)
                .0
        };
        assert_gradient(&model.to_array(), value, &gradient);
    }

    #[test]
    fn few_purchases_lean_on_the_population() {
        let model = GammaGamma {
            p: 6.25,
            q: 3.74,
            v: 15.44,
        };
        let population = model.population_mean();
        let one = model.expected_value(Some(Spend {
            x: 1.0,
            mean: 100.0,
        }));
        let many = model.expected_value(Some(Spend {
            x: 50.0,
            mean: 100.0,
        }));
        assert!(population < one && one < many && many < 100.0);
        assert_eq!(model.expected_value(None), population);
    }
}
