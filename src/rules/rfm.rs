//! R, F and M scores 1..bins from where a customer's value sits in the customer base.
//!
//! A score's scale is a list of `bins - 1` inclusive upper bounds in ascending value order; a
//! value gets the first bin whose bound it does not exceed, so equal values always share a score
//! whatever the row order. R runs the other way (fewer days since the last purchase = higher
//! score). The bounds come from one of three places:
//! - `quantile` (default): the customers' quantiles at 1/bins, 2/bins, … with linear
//!   interpolation — exactly pandas `qcut`. When one value holds more than a bin's share of the
//!   customers (half of a shop's buyers bought once) some bounds coincide, the bins between them
//!   stay empty (F = 1, 3, 4, 5), and a warning says so; the bounds used are reported.
//! - `distinct`: the same quantiles over the distinct values, each value counted once.
//! - explicit cut points from the job (`[rules.scoring] r_cuts` …).
//!
//! Only customers with at least one purchase are scored.

use serde::{Deserialize, Serialize};

use crate::job::ScoreMethod;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
}

/// The customers and the range of original values that received each score.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreRange {
    pub score: u8,
    pub customers: usize,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// How one of R, F, M was scored: the fitted bounds (what new data is scored with) and what they
/// produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreScale {
    /// "quantile", "distinct" or "cut points".
    pub method: String,
    pub bins: u8,
    /// `bins - 1` inclusive upper bounds of the value bins, ascending in original units.
    pub upper_bounds: Vec<f64>,
    pub higher_is_better: bool,
    /// One entry per score 1..bins.
    pub ranges: Vec<ScoreRange>,
}

impl ScoreScale {
    /// The score of a value on this scale.
    pub fn score_of(&self, value: f64) -> u8 {
        let bin = self.upper_bounds.partition_point(|b| *b < value) as u8 + 1;
        if self.higher_is_better {
            bin
        } else {
            self.bins + 1 - bin
        }
    }

    /// Scores with no customer (empty while others are used).
    pub fn empty_scores(&self) -> Vec<u8> {
        if self.ranges.iter().all(|r| r.customers == 0) {
            return Vec::new();
        }
        self.ranges
            .iter()
            .filter(|r| r.customers == 0)
            .map(|r| r.score)
            .collect()
    }
}

pub struct Scored {
    pub scores: Vec<Option<u8>>,
    pub scale: ScoreScale,
}

/// Scores `values` (None = not scored) into `bins` bins.
pub fn score(
    values: &[Option<f64>],
    better: Better,
    bins: u8,
    method: ScoreMethod,
    cuts: Option<&[f64]>,
) -> Scored {
    let mut present: Vec<f64> = values.iter().flatten().copied().collect();
    present.sort_by(f64::total_cmp);
    let (method_name, upper_bounds) = match (cuts, method) {
        (Some(cuts), _) => ("cut points", cuts.to_vec()),
        (None, ScoreMethod::Quantile) => ("quantile", quantile_bounds(&present, bins)),
        (None, ScoreMethod::Distinct) => {
            let mut distinct = present.clone();
            distinct.dedup();
            ("distinct", quantile_bounds(&distinct, bins))
        }
    };
    let mut scale = ScoreScale {
        method: method_name.into(),
        bins,
        upper_bounds,
        higher_is_better: better == Better::Higher,
        ranges: Vec::new(),
    };
    let scores: Vec<Option<u8>> = values
        .iter()
        .map(|v| v.map(|x| scale.score_of(x)))
        .collect();
    scale.ranges = ranges(values, &scores, bins);
    Scored { scores, scale }
}

/// The inner quantile edges at i/bins (i = 1..bins-1) of sorted values, as numpy/pandas compute
/// them (linear interpolation); empty input gives no bounds, so everything lands in bin 1.
fn quantile_bounds(sorted: &[f64], bins: u8) -> Vec<f64> {
    if sorted.is_empty() {
        return Vec::new();
    }
    // numpy's linspace: i × (1 / bins), which is what pandas qcut asks quantiles at.
    let step = 1.0 / bins as f64;
    (1..bins)
        .map(|i| quantile(sorted, i as f64 * step))
        .collect()
}

/// numpy's "linear" quantile, including its interpolation formula, so edges match bit for bit.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    if below + 1 >= sorted.len() {
        return sorted[sorted.len() - 1];
    }
    let t = position - below as f64;
    let (a, b) = (sorted[below], sorted[below + 1]);
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

fn ranges(values: &[Option<f64>], scores: &[Option<u8>], bins: u8) -> Vec<ScoreRange> {
    let mut out: Vec<ScoreRange> = (1..=bins)
        .map(|score| ScoreRange {
            score,
            customers: 0,
            min: None,
            max: None,
        })
        .collect();
    for (value, score) in values.iter().zip(scores) {
        let (Some(x), Some(s)) = (value, score) else {
            continue;
        };
        let range = &mut out[*s as usize - 1];
        range.customers += 1;
        range.min = Some(range.min.map_or(*x, |m| m.min(*x)));
        range.max = Some(range.max.map_or(*x, |m| m.max(*x)));
    }
    out
}

/// A warning when some score has no customer, saying why.
pub fn empty_scores_warning(letter: &str, scale: &ScoreScale) -> Option<String> {
    let empty = scale.empty_scores();
    if empty.is_empty() {
        return None;
    }
    let empty_list: Vec<String> = empty.iter().map(u8::to_string).collect();
    let total: usize = scale.ranges.iter().map(|r| r.customers).sum();
    let biggest = scale.ranges.iter().max_by_key(|r| r.customers)?;
    let share = biggest.customers as f64 / total.max(1) as f64;
    let reason = if scale.method == "cut points" {
        "no customer falls between the cut points given".to_string()
    } else if biggest.min == biggest.max && share > 1.0 / scale.bins as f64 {
        format!(
            "{:.0}% of buyers share the value {} (score {}), more than one bin's share",
            100.0 * share,
            biggest.min.map(|v| format!("{v}")).unwrap_or_default(),
            biggest.score
        )
    } else {
        "too few distinct values".to_string()
    };
    Some(format!(
        "{letter} could not be split into {} scores: {reason}; score{} {} left empty (the cut points used are in the report and summary.json)",
        scale.bins,
        if empty.len() == 1 { "" } else { "s" },
        empty_list.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(values: &[f64], better: Better) -> Vec<u8> {
        let v: Vec<Option<f64>> = values.iter().map(|x| Some(*x)).collect();
        score(&v, better, 5, ScoreMethod::Quantile, None)
            .scores
            .into_iter()
            .flatten()
            .collect()
    }

    #[test]
    fn ten_distinct_values_make_even_quintiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(s(&v, Better::Higher), vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        assert_eq!(s(&v, Better::Lower), vec![5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
    }

    #[test]
    fn seven_values_follow_qcut_edges() {
        // pandas: qcut(range(1, 8), 5) has edges 1, 2.2, 3.4, 4.6, 5.8, 7.
        let v: Vec<f64> = (1..=7).map(f64::from).collect();
        assert_eq!(s(&v, Better::Higher), vec![1, 1, 2, 3, 4, 5, 5]);
    }

    #[test]
    fn ties_never_split_and_a_majority_leaves_scores_empty() {
        let v = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 9.0];
        assert_eq!(s(&v, Better::Higher), vec![1, 1, 1, 1, 1, 1, 4, 4, 5, 5]);
        let scored = score(&v.map(Some), Better::Higher, 5, ScoreMethod::Quantile, None);
        // pandas: Series(v).quantile([.2, .4, .6, .8]) = 1, 1, 1.4, 2.2.
        let bounds = &scored.scale.upper_bounds;
        assert_eq!(&bounds[..2], &[1.0, 1.0]);
        assert!((bounds[2] - 1.4).abs() < 1e-12 && (bounds[3] - 2.2).abs() < 1e-12);
        assert_eq!(scored.scale.empty_scores(), vec![2, 3]);
        let warning = empty_scores_warning("F", &scored.scale).unwrap();
        assert!(
            warning.contains("60% of buyers share the value 1"),
            "{warning}"
        );
    }

    #[test]
    fn distinct_method_counts_each_value_once() {
        let v = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 9.0];
        let scored = score(&v.map(Some), Better::Higher, 3, ScoreMethod::Distinct, None);
        // Distinct values 1, 2, 3, 9: edges at 1/3 and 2/3 are 2 and 3.
        assert_eq!(scored.scale.upper_bounds, vec![2.0, 3.0]);
        let scores: Vec<u8> = scored.scores.into_iter().flatten().collect();
        assert_eq!(scores, vec![1, 1, 1, 1, 1, 1, 1, 1, 2, 3]);
    }

    #[test]
    fn explicit_cut_points_are_inclusive_upper_bounds() {
        let days = [0.0, 30.0, 31.0, 90.0, 91.0, 400.0];
        let cuts = [30.0, 90.0, 180.0, 365.0];
        let scored = score(
            &days.map(Some),
            Better::Lower,
            5,
            ScoreMethod::Quantile,
            Some(&cuts),
        );
        let scores: Vec<u8> = scored.scores.into_iter().flatten().collect();
        assert_eq!(scores, vec![5, 5, 4, 4, 3, 1]);
        assert_eq!(scored.scale.empty_scores(), vec![2]);
        assert!(empty_scores_warning("R", &scored.scale)
            .unwrap()
            .contains("between the cut points"));
    }
}
