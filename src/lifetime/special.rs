//! The special functions the models need: ln Γ (libm's), digamma, and the Gauss hypergeometric
//! function ₂F₁ as the BG/NBD paper evaluates it — its power series.

pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// ψ(x) for x > 0: shifted up to 10 by ψ(x) = ψ(x + 1) − 1/x, then the asymptotic series, whose
/// first neglected term is below 1e-16 there.
pub fn digamma(mut x: f64) -> f64 {
    let mut shift = 0.0;
    while x < 10.0 {
        shift -= 1.0 / x;
        x += 1.0;
    }
    let inv2 = 1.0 / (x * x);
    // Bernoulli numbers B₂ₖ / 2k for k = 1..6.
    let series = inv2
        * (1.0 / 12.0
            - inv2
                * (1.0 / 120.0
                    - inv2
                        * (1.0 / 252.0
                            - inv2
                                * (1.0 / 240.0 - inv2 * (1.0 / 132.0 - inv2 * 691.0 / 32760.0)))));
    shift + x.ln() - 0.5 / x - series
}

/// Terms the series may take before ₂F₁ is declared not to converge.
const MAX_TERMS: usize = 200_000;

/// ln ₂F₁(a, b; c; z) for 0 ≤ z < 1 and c > 0. The series Σ (a)ₙ(b)ₙ/((c)ₙ n!) zⁿ, as the paper's
/// appendix computes it, term from term by their ratio; when its terms overflow or do not settle,
/// Euler's transformation ₂F₁(a, b; c; z) = (1 − z)^(c−a−b) ₂F₁(c − a, c − b; c; z), whose terms
/// stay small for the large a and b of frequent buyers. None when neither converges.
pub fn ln_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if z == 0.0 {
        return Some(0.0);
    }
    if let Some(sum) = series(a, b, c, z) {
        if sum > 0.0 {
            return Some(sum.ln());
        }
    }
    let sum = series(c - a, c - b, c, z)?;
    (sum > 0.0).then(|| sum.ln() + (c - a - b) * (1.0 - z).ln())
}

fn series(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    let mut term = 1.0f64;
    let mut sum = 1.0f64;
    for n in 0..MAX_TERMS {
        let n = n as f64;
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if !sum.is_finite() {
            return None;
        }
        if term.abs() <= 1e-16 * sum.abs() {
            return Some(sum);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance * b.abs().max(1.0)
    }

    #[test]
    fn digamma_matches_known_values() {
        // ψ(1) = −γ, ψ(1/2) = −γ − 2 ln 2, ψ(10) from the harmonic number H₉.
        let euler = 0.577_215_664_901_532_9;
        assert!(close(digamma(1.0), -euler, 1e-14));
        assert!(close(digamma(0.5), -euler - 2.0 * 2f64.ln(), 1e-14));
        let h9: f64 = (1..10).map(|k| 1.0 / k as f64).sum();
        assert!(close(digamma(10.0), h9 - euler, 1e-14));
        // scipy.special.digamma(1e-3) and (3.7).
        assert!(close(digamma(1e-3), -1_000.575_571_931_810_3, 1e-15));
        assert!(close(digamma(3.7), 1.167_153_539_361_511_3, 1e-15));
    }

    #[test]
    fn hyp2f1_matches_closed_forms() {
        // ₂F₁(1, 1; 2; z) = −ln(1 − z)/z and ₂F₁(a, b; b; z) = (1 − z)^(−a).
        for z in [0.1f64, 0.5, 0.9, 0.99] {
            let expected = (-(1.0 - z).ln() / z).ln();
            assert!(close(ln_hyp2f1(1.0, 1.0, 2.0, z).unwrap(), expected, 1e-12));
            let expected = -2.5 * (1.0 - z).ln();
            assert!(close(ln_hyp2f1(2.5, 3.0, 3.0, z).unwrap(), expected, 1e-12));
        }
    }

    #[test]
    fn hyp2f1_of_a_frequent_buyer_takes_the_euler_form() {
        // Large a and b near z = 1: the direct series overflows; (1 − z)^(−a) with b = c.
        let (a, z) = (400.0, 0.95f64);
        let expected = -a * (1.0 - z).ln();
        let got = ln_hyp2f1(a, 420.0, 420.0, z).unwrap();
        assert!(close(got, expected, 1e-10), "{got} vs {expected}");
    }
}
