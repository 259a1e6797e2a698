//! R, F and M scores 1–5 by where a customer's value sits in the customer base.
//!
//! Score = 1 + ⌊bins · (customers with a strictly worse value) / (customers scored)⌋, capped at
//! `bins`. Equal values therefore always share a score, whatever the row order ("min" rank). When
//! one value holds more than a bin's share of customers (half of a shop's buyers bought once),
//! the scores its share spans are skipped — e.g. F = 1, 3, 4, 5 — and a warning says so. Only
//! customers with at least one purchase are scored.

use serde::{Deserialize, Serialize};

pub const BINS: u8 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
}

/// The range of original values that received each score (None for an unused score).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreRange {
    pub score: u8,
    pub customers: usize,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

pub struct Scored {
    pub scores: Vec<Option<u8>>,
    pub ranges: Vec<ScoreRange>,
}

pub fn score(values: &[Option<f64>], better: Better) -> Scored {
    let mut present: Vec<f64> = values.iter().flatten().copied().collect();
    present.sort_by(f64::total_cmp);
    let n = present.len();
    let scores: Vec<Option<u8>> = values
        .iter()
        .map(|v| {
            v.map(|x| {
                let worse = match better {
                    Better::Higher => present.partition_point(|p| *p < x),
                    Better::Lower => n - present.partition_point(|p| *p <= x),
                };
                (1 + (BINS as usize * worse) / n).min(BINS as usize) as u8
            })
        })
        .collect();
    let ranges = (1..=BINS)
        .map(|s| {
            let members = values
                .iter()
                .zip(&scores)
                .filter(|(_, sc)| **sc == Some(s))
                .filter_map(|(v, _)| *v);
            let (count, min, max) = members.fold(
                (0, None, None),
                |(c, lo, hi): (usize, Option<f64>, Option<f64>), x| {
                    (
                        c + 1,
                        Some(lo.map_or(x, |l| l.min(x))),
                        Some(hi.map_or(x, |h| h.max(x))),
                    )
                },
            );
            ScoreRange {
                score: s,
                customers: count,
                min,
                max,
            }
        })
        .collect();
    Scored { scores, ranges }
}

/// A warning when some score is unused because a single value spans it.
pub fn skipped_scores_warning(letter: &str, ranges: &[ScoreRange]) -> Option<String> {
    let used: Vec<String> = ranges
        .iter()
        .filter(|r| r.customers > 0)
        .map(|r| r.score.to_string())
        .collect();
    if used.len() == BINS as usize || used.is_empty() {
        return None;
    }
    let total: usize = ranges.iter().map(|r| r.customers).sum();
    let biggest = ranges.iter().max_by_key(|r| r.customers)?;
    Some(format!(
        "{letter} could not be split into {BINS} scores: {:.0}% of buyers share the value {}; scores used: {}",
        100.0 * biggest.customers as f64 / total.max(1) as f64,
        biggest.min.map(|v| format!("{v}")).unwrap_or_default(),
        used.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(values: &[f64], better: Better) -> Vec<u8> {
        let v: Vec<Option<f64>> = values.iter().map(|x| Some(*x)).collect();
        score(&v, better).scores.into_iter().flatten().collect()
    }

    #[test]
    fn ten_distinct_values_make_even_quintiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(s(&v, Better::Higher), vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        assert_eq!(s(&v, Better::Lower), vec![5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
    }

    #[test]
    fn ties_never_split_and_majority_skips_scores() {
        let v = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 9.0];
        assert_eq!(s(&v, Better::Higher), vec![1, 1, 1, 1, 1, 1, 4, 4, 5, 5]);
    }
}
