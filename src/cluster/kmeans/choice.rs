//! Choosing k from the scan's scores: near-ties on silhouette, stability vetoes, Calinski–Harabasz
//! and Davies–Bouldin against each other, and the verdict when no k gives stable segments.

use super::{KScore, STABLE_ARI};

/// The documented rule for automatic k (README, "Choosing k"):
/// 1. candidates are the ks whose silhouette is within `SILHOUETTE_SLACK` of the best — on a
///    sample the silhouette is only that precise, so these are ties;
/// 2. stability vetoes: unstable candidates (final fits agreeing below `STABLE_ARI` across
///    seeds or bootstrap samples) are dropped; when every near-tie is unstable, the stable k
///    with the best silhouette wins instead; when no k of the range is stable, the most stable
///    one is kept and the run gives the verdict that there is no stable structure;
/// 3. a candidate is dropped when another candidate has both a higher Calinski–Harabasz and a
///    lower Davies–Bouldin: the two other measures agree that it separates worse;
/// 4. the best silhouette among the rest wins; an exact tie goes to the smaller k.
pub const SILHOUETTE_SLACK: f64 = 0.02;

/// The k chosen, why, and the verdict when no k is stable.
pub struct Choice {
    pub index: usize,
    pub reason: String,
    pub verdict: Option<String>,
}

/// Stable on both tests (a test that could not be run does not veto).
pub fn is_stable(score: &KScore) -> bool {
    score.weakest_stability().is_none_or(|a| a >= STABLE_ARI)
}

pub fn choose_k(scores: &[KScore]) -> Choice {
    let best_sil = scores
        .iter()
        .filter_map(|s| s.silhouette)
        .fold(f64::NEG_INFINITY, f64::max);
    if !best_sil.is_finite() {
        return Choice {
            index: 0,
            reason: format!(
                "k = {} is the smallest in the range; no silhouette could be computed.",
                scores[0].k
            ),
            verdict: None,
        };
    }
    if !scores.iter().any(is_stable) {
        let index = most_stable(scores);
        return Choice {
            index,
            reason: format!(
                "No k from {} to {} is stable (final fits agreeing to ARI {STABLE_ARI} across seeds and bootstrap samples); k = {} is the most stable.",
                scores[0].k,
                scores[scores.len() - 1].k,
                scores[index].k
            ),
            verdict: Some(verdict(scores, index)),
        };
    }
    let near_ties: Vec<usize> = (0..scores.len())
        .filter(|&i| {
            scores[i]
                .silhouette
                .is_some_and(|s| s >= best_sil - SILHOUETTE_SLACK)
        })
        .collect();
    let stable: Vec<usize> = near_ties
        .iter()
        .copied()
        .filter(|&i| is_stable(&scores[i]))
        .collect();
    let unstable: Vec<usize> = near_ties
        .iter()
        .copied()
        .filter(|&i| !is_stable(&scores[i]))
        .collect();
    if stable.is_empty() {
        let index = best_silhouette((0..scores.len()).filter(|&i| is_stable(&scores[i])), scores);
        return Choice {
            index,
            reason: vetoed(scores, index, &near_ties),
            verdict: None,
        };
    }
    // Dominators are looked for best silhouette first, so the reason names the strongest one.
    let mut by_silhouette = stable.clone();
    by_silhouette.sort_by(|&a, &b| {
        let (sa, sb) = (scores[a].silhouette, scores[b].silhouette);
        sb.partial_cmp(&sa).unwrap_or(std::cmp::Ordering::Equal)
    });
    let dominated: Vec<(usize, usize)> = stable
        .iter()
        .filter_map(|&i| {
            by_silhouette
                .iter()
                .find(|&&j| dominates(&scores[j], &scores[i]))
                .map(|&j| (i, j))
        })
        .collect();
    let remaining: Vec<usize> = stable
        .iter()
        .copied()
        .filter(|i| dominated.iter().all(|(d, _)| d != i))
        .collect();
    // Every candidate dominated is impossible (domination is a strict order), but stay total.
    let pool = if remaining.is_empty() {
        &stable
    } else {
        &remaining
    };
    let index = best_silhouette(pool.iter().copied(), scores);
    Choice {
        index,
        reason: reason(scores, index, &near_ties, &unstable, &dominated),
        verdict: None,
    }
}

/// The best silhouette among `candidates`; an exact tie goes to the smaller k.
fn best_silhouette(candidates: impl Iterator<Item = usize>, scores: &[KScore]) -> usize {
    candidates
        .max_by(|&a, &b| {
            let (sa, sb) = (scores[a].silhouette, scores[b].silhouette);
            sa.partial_cmp(&sb)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(b.cmp(&a))
        })
        .unwrap_or(0)
}

/// The k whose weaker stability is highest (then the better silhouette, then the smaller k).
fn most_stable(scores: &[KScore]) -> usize {
    (0..scores.len())
        .max_by(|&a, &b| {
            let weakest = |i: usize| scores[i].weakest_stability().unwrap_or(0.0);
            weakest(a)
                .total_cmp(&weakest(b))
                .then(
                    scores[a]
                        .silhouette
                        .unwrap_or(f64::NEG_INFINITY)
                        .total_cmp(&scores[b].silhouette.unwrap_or(f64::NEG_INFINITY)),
                )
                .then(b.cmp(&a))
        })
        .unwrap_or(0)
}

/// At or below this best silhouette no substantial structure has been found (Kaufman and
/// Rousseeuw's reading of the silhouette coefficient): a cloud cut in two can be cut the same way
/// every time, so stability alone does not tell a continuum from segments.
pub const WEAK_SILHOUETTE: f64 = 0.25;

/// "no k from 2 to 10", or "k = 6" for a single k.
fn range_words(scores: &[KScore]) -> String {
    match scores {
        [only] => format!("k = {}", only.k),
        _ => format!(
            "no k from {} to {}",
            scores[0].k,
            scores[scores.len() - 1].k
        ),
    }
}

/// What the verdict advises, the same whatever its reason.
fn continuum(k: usize) -> String {
    format!(
        "The customers form a continuum along the main directions of the customer map rather than separate groups. Read the rule segments first; the {k} k-means segments below are one way to cut that continuum, not groups that would come back next month."
    )
}

/// The plain words a report leads with when no k gives stable segments.
pub(super) fn verdict(scores: &[KScore], index: usize) -> String {
    let chosen = &scores[index];
    format!(
        "No clear segment structure in these features: {} gives the same segments across seeds and samples of the customers (k = {} agrees only to ARI {:.2}). {}",
        range_words(scores),
        chosen.k,
        chosen.weakest_stability().unwrap_or(0.0),
        continuum(chosen.k)
    )
}

/// The verdict when even the best silhouette of the scan is weak, however stable the cuts.
pub(super) fn weak_structure(scores: &[KScore], k: usize) -> Option<String> {
    let best = scores
        .iter()
        .filter_map(|s| s.silhouette)
        .fold(f64::NEG_INFINITY, f64::max);
    (best.is_finite() && best <= WEAK_SILHOUETTE).then(|| {
        let over = match scores {
            [only] => format!("k = {}", only.k),
            _ => format!("k = {} to {}", scores[0].k, scores[scores.len() - 1].k),
        };
        format!(
            "No clear segment structure in these features: the best silhouette over {over} is {best:.2}, at or below {WEAK_SILHOUETTE}, where no substantial structure has been found (Kaufman and Rousseeuw). {}",
            continuum(k)
        )
    })
}

/// Why a stable k with a lower silhouette was chosen over unstable near-ties.
fn vetoed(scores: &[KScore], index: usize, near_ties: &[usize]) -> String {
    let ks = near_ties
        .iter()
        .map(|&i| scores[i].k.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let chosen = &scores[index];
    format!(
        "k = {} is the stable k with the best silhouette ({:.3}); the best silhouettes (k = {ks}) are unstable (final fits agree below ARI {STABLE_ARI} across seeds or samples).",
        chosen.k,
        chosen.silhouette.unwrap_or(f64::NAN)
    )
}

/// `a` beats `b` on both Calinski–Harabasz (higher) and Davies–Bouldin (lower).
fn dominates(a: &KScore, b: &KScore) -> bool {
    match (
        a.calinski_harabasz,
        b.calinski_harabasz,
        a.davies_bouldin,
        b.davies_bouldin,
    ) {
        (Some(ch_a), Some(ch_b), Some(db_a), Some(db_b)) => ch_a > ch_b && db_a < db_b,
        _ => false,
    }
}

/// The sentence the report and summary give for the chosen k.
fn reason(
    scores: &[KScore],
    index: usize,
    near_ties: &[usize],
    unstable: &[usize],
    dominated: &[(usize, usize)],
) -> String {
    let chosen = &scores[index];
    let sil = chosen.silhouette.unwrap_or(f64::NAN);
    if near_ties.len() == 1 {
        return format!("k = {} has the best silhouette ({sil:.3}).", chosen.k);
    }
    let ks = |list: &[usize]| {
        list.iter()
            .map(|&i| scores[i].k.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = format!(
        "k = {} has the best silhouette ({sil:.3}) among the ks within {SILHOUETTE_SLACK} of the best (k = {})",
        chosen.k,
        ks(near_ties)
    );
    let mut why_not = Vec::new();
    if !unstable.is_empty() && unstable.len() < near_ties.len() {
        why_not.push(format!(
            "k = {} unstable (stability below {STABLE_ARI})",
            ks(unstable)
        ));
    }
    for &(loser, winner) in dominated {
        why_not.push(format!(
            "k = {} has a lower Calinski–Harabasz and a higher Davies–Bouldin than k = {}",
            scores[loser].k, scores[winner].k
        ));
    }
    if why_not.is_empty() {
        out.push('.');
    } else {
        out += &format!("; left out: {}.", why_not.join("; "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k_score(k: usize, sil: f64, ch: f64, db: f64, stability: f64) -> KScore {
        KScore {
            k,
            inertia: 0.0,
            silhouette: Some(sil),
            calinski_harabasz: Some(ch),
            davies_bouldin: Some(db),
            stability: Some(stability),
            bootstrap_stability: Some(1.0),
            restart_agreement: None,
            restart_seconds: 0.0,
        }
    }

    #[test]
    fn the_k_rule_drops_unstable_and_dominated_near_ties() {
        // The bundled data's scan: 4, 6 and 7 tie on silhouette; 6 beats 4 and 7 on CH and DB.
        let scores = vec![
            k_score(3, 0.234, 5253.0, 1.70, 0.67),
            k_score(4, 0.303, 5960.0, 1.33, 1.00),
            k_score(5, 0.292, 6002.0, 1.21, 0.85),
            k_score(6, 0.315, 5967.0, 1.24, 0.84),
            k_score(7, 0.297, 5567.0, 1.37, 0.86),
        ];
        let Choice { index, reason, .. } = choose_k(&scores);
        assert_eq!(scores[index].k, 6, "{reason}");
        assert!(
            reason.contains("within 0.02 of the best (k = 4, 6, 7)")
                && reason.contains(
                    "k = 7 has a lower Calinski–Harabasz and a higher Davies–Bouldin than k = 6"
                ),
            "{reason}"
        );
        // The best silhouette is unstable: the stable near-tie wins, and the reason says why.
        let mut shaky = scores.clone();
        shaky[3].bootstrap_stability = Some(0.5);
        let Choice { index, reason, .. } = choose_k(&shaky);
        assert_eq!(shaky[index].k, 4, "{reason}");
        assert!(reason.contains("k = 6 unstable"), "{reason}");
        // Every near-tie unstable: stability vetoes, and the best stable silhouette wins.
        let mut vetoed = scores.clone();
        for i in [1, 3, 4] {
            vetoed[i].stability = Some(0.5);
        }
        let Choice {
            index,
            reason,
            verdict,
        } = choose_k(&vetoed);
        assert_eq!(vetoed[index].k, 5, "{reason}");
        assert!(verdict.is_none() && reason.contains("k = 4, 6, 7) are unstable"));
        // Nothing stable: the most stable k, and the verdict.
        let all_shaky: Vec<KScore> = scores
            .iter()
            .enumerate()
            .map(|(i, s)| KScore {
                stability: Some(0.3 + 0.01 * i as f64),
                ..s.clone()
            })
            .collect();
        let choice = choose_k(&all_shaky);
        assert_eq!(all_shaky[choice.index].k, 7);
        let verdict = choice.verdict.expect("a verdict");
        assert!(
            verdict.starts_with("No clear segment structure in these features: no k from 3 to 7")
                && verdict.contains("k = 7 agrees only to ARI 0.34"),
            "{verdict}"
        );
        // An exact tie goes to the smaller k.
        let tie = vec![
            k_score(2, 0.5, 100.0, 1.0, 1.0),
            k_score(3, 0.5, 100.0, 1.0, 1.0),
        ];
        assert_eq!(tie[choose_k(&tie).index].k, 2);
    }
}
