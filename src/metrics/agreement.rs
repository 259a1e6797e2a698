//! Agreement between two labelings (ARI, NMI, AMI) from their contingency table, with the
//! entropies, (expected) mutual information and ln Γ they need.

use super::Encoded;

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
pub(super) fn ln_gamma(x: f64) -> f64 {
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
