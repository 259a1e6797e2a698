//! k-means (k-means++ initialisation, several seeded runs; the fit itself is [`super::lloyd`]),
//! automatic k over a range, and the fitted centroids as a model that assigns new customers.

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use serde::{Deserialize, Serialize};

use super::lloyd::{self, KMeansParams};
use crate::error::{Error, Result};
use crate::metrics;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KScore {
    pub k: usize,
    pub inertia: f64,
    pub silhouette: Option<f64>,
    pub calinski_harabasz: Option<f64>,
    pub davies_bouldin: Option<f64>,
    /// Stability across seeds of what the analyst gets: the mean adjusted Rand index between
    /// final fits of this k (each the best of the job's restarts) from different seeds. 1 = the
    /// seed does not change the segments; None when the data cannot be refitted.
    #[serde(default)]
    pub stability: Option<f64>,
    /// Stability across samples: the mean adjusted Rand index between the final fit and final
    /// fits on bootstrap samples of the customers (each assigning every customer to its nearest
    /// centroid). 1 = the segments do not depend on which customers happened to be in the data.
    #[serde(default)]
    pub bootstrap_stability: Option<f64>,
    /// How rugged the landscape is: the mean ARI between single restarts of the scan and the best
    /// of them. A diagnostic only — restarts can disagree while the best of ten is reproducible.
    #[serde(default)]
    pub restart_agreement: Option<f64>,
    /// Wall seconds of this k's restarts (the fits scikit-learn's `n_init` makes); logged, not
    /// saved, so that saved results stay the same from run to run.
    #[serde(skip)]
    pub restart_seconds: f64,
}

impl KScore {
    /// The lower of the two stabilities: a k is as stable as its weaker test says.
    pub fn weakest_stability(&self) -> Option<f64> {
        match (self.stability, self.bootstrap_stability) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// A chosen k whose restarts agree less than this (mean ARI) is flagged as unstable.
pub const STABLE_ARI: f64 = 0.8;

#[derive(Serialize, Deserialize)]
pub struct KmeansResult {
    pub k: usize,
    /// The chosen k's final fits agree to at least [`STABLE_ARI`] across seeds and samples.
    #[serde(default = "stable_by_default")]
    pub stable: bool,
    /// When no k of the range is stable: the plain verdict the report leads with.
    #[serde(default)]
    pub verdict: Option<String>,
    /// Cluster of every customer; clusters are numbered by size, 0 = largest.
    #[serde(skip)]
    pub labels: Vec<usize>,
    pub centroids: Array2<f64>,
    pub scores: Vec<KScore>,
    pub chosen: KScore,
    /// One sentence on why this k.
    pub reason: String,
    pub silhouette_sample: usize,
    /// What the data changed about the job's k (a clipped range, an empty cluster).
    pub warnings: Vec<String>,
}

fn stable_by_default() -> bool {
    true
}

/// Restarts per k while scanning the range; enough to rank the ks, and 3× faster than 10.
const SCAN_RUNS: usize = 3;
/// Final fits per k from different seeds, for the stability across seeds.
const SEED_FITS: u64 = 3;
/// Final fits per k on bootstrap samples (customers drawn with replacement).
const BOOTSTRAP_FITS: u64 = 2;
/// Stability is measured on a seeded sample of at most this many customers: five final fits of
/// ten restarts per k on a million customers would take minutes, and 20,000 tell the same.
const STABILITY_SAMPLE: usize = 20_000;

pub struct KmeansOptions {
    pub fixed_k: Option<usize>,
    pub k_range: [usize; 2],
    pub n_runs: usize,
    pub silhouette_sample: usize,
    pub seed: u64,
}

/// Fits k-means for one k and returns centroids renumbered by cluster size (largest first), the
/// customers' clusters and the inertia (sum of squared distances to the centroid).
pub fn fit(
    x: ArrayView2<f64>,
    k: usize,
    n_runs: usize,
    seed: u64,
) -> Result<(Array2<f64>, Vec<usize>, f64)> {
    let (model, labels) = KMeansParams::new(k)
        .n_runs(n_runs)
        .tolerance(1e-4)
        .max_iterations(300)
        .seed(seed)
        .fit_with_labels(x)
        .map_err(|e| Error::internal(format!("k-means with k = {k}"), e))?;
    let (centroids, labels) = renumber_by_size(model.centroids().clone(), labels);
    Ok((centroids, labels, model.inertia()))
}

/// The nearest centroid of every row (the same rule k-means uses, so a saved model reproduces it).
pub fn assign(x: ArrayView2<f64>, centroids: ArrayView2<f64>) -> Vec<usize> {
    lloyd::nearest_centroids(x, centroids)
        .into_iter()
        .map(|(j, _)| j)
        .collect()
}

fn renumber_by_size(centroids: Array2<f64>, labels: Vec<usize>) -> (Array2<f64>, Vec<usize>) {
    let k = centroids.nrows();
    let order = super::order_by_size(&super::sizes(&labels, k), centroids.view());
    let mut new_id = vec![0; k];
    for (new, &old) in order.iter().enumerate() {
        new_id[old] = new;
    }
    let renumbered = Array2::from_shape_fn(centroids.dim(), |(i, j)| centroids[[order[i], j]]);
    (renumbered, labels.into_iter().map(|l| new_id[l]).collect())
}

pub fn score(
    x: ArrayView2<f64>,
    labels: &[usize],
    centroids: ArrayView2<f64>,
    sample: usize,
    seed: u64,
) -> KScore {
    KScore {
        k: centroids.nrows(),
        inertia: metrics::inertia(x, labels, centroids),
        silhouette: metrics::silhouette_sampled(x, labels, sample, seed).value,
        calinski_harabasz: metrics::calinski_harabasz(x, labels),
        davies_bouldin: metrics::davies_bouldin(x, labels),
        stability: None,
        bootstrap_stability: None,
        restart_agreement: None,
        restart_seconds: 0.0,
    }
}

/// The rows stability is measured on: every customer, or a seeded sample of
/// [`STABILITY_SAMPLE`] (the same for every k, so the ks are compared on the same customers).
fn stability_rows(n: usize, seed: u64) -> Option<Vec<usize>> {
    use rand::seq::index::sample;
    if n <= STABILITY_SAMPLE {
        return None;
    }
    let mut rng = Xoshiro256Plus::seed_from_u64(seed ^ 0x5EED_5A3F);
    let mut rows = sample(&mut rng, n, STABILITY_SAMPLE).into_vec();
    rows.sort_unstable();
    Some(rows)
}

/// Stability of the segments an analyst gets — the best of `n_runs` restarts — for one k: final
/// fits from [`SEED_FITS`] seeds (mean pairwise ARI), and final fits on [`BOOTSTRAP_FITS`]
/// bootstrap samples, each assigning every customer to its nearest centroid (mean ARI against
/// the first seed's fit). None where the customers cannot be refitted with k segments.
fn final_fit_stability(
    x: ArrayView2<f64>,
    k: usize,
    n_runs: usize,
    seed: u64,
) -> Result<(Option<f64>, Option<f64>)> {
    use rand::Rng;
    if distinct_rows(x, k) < k {
        return Ok((None, None));
    }
    let fits = (0..SEED_FITS)
        .map(|s| fit(x, k, n_runs, seed.wrapping_add(s)).map(|(_, labels, _)| labels))
        .collect::<Result<Vec<_>>>()?;
    let pairs: Vec<f64> = (0..fits.len())
        .flat_map(|a| (a + 1..fits.len()).map(move |b| (a, b)))
        .map(|(a, b)| metrics::adjusted_rand_index(&fits[a], &fits[b]))
        .collect();
    let n = x.nrows();
    let mut resampled = Vec::new();
    for b in 0..BOOTSTRAP_FITS {
        let mut rng = Xoshiro256Plus::seed_from_u64(seed ^ 0xB007_5742 ^ b);
        let rows: Vec<usize> = (0..n).map(|_| rng.gen_range(0..n)).collect();
        let sample = x.select(ndarray::Axis(0), &rows);
        // A resample can hold fewer distinct customers than k; then it cannot be refitted.
        if distinct_rows(sample.view(), k) < k {
            continue;
        }
        let (centroids, _, _) = fit(sample.view(), k, n_runs, seed.wrapping_add(b))?;
        let refit = assign(x, centroids.view());
        resampled.push(metrics::adjusted_rand_index(&fits[0], &refit));
    }
    Ok((mean(&pairs), mean(&resampled)))
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// A k's scan fit: centroids, clusters, the restarts' agreement, and the restarts' wall seconds.
type ScanFit = (Array2<f64>, Vec<usize>, Option<f64>, f64);

/// Fits one k with `runs` restarts and keeps the lowest inertia; the other restarts' agreement
/// with it (mean ARI) says how rugged the landscape is.
fn fit_with_agreement(x: ArrayView2<f64>, k: usize, runs: usize, seed: u64) -> Result<ScanFit> {
    let started = std::time::Instant::now();
    let mut fits = KMeansParams::new(k)
        .n_runs(runs.max(1))
        .tolerance(1e-4)
        .max_iterations(300)
        .seed(seed)
        .fit_restarts(x)
        .map_err(|e| Error::internal(format!("k-means with k = {k}"), e))?;
    let fit_seconds = started.elapsed().as_secs_f64();
    let best = (0..fits.len())
        .min_by(|&a, &b| fits[a].0.inertia().total_cmp(&fits[b].0.inertia()))
        .unwrap_or(0);
    let others: Vec<f64> = (0..fits.len())
        .filter(|&i| i != best)
        .map(|i| metrics::adjusted_rand_index(&fits[best].1, &fits[i].1))
        .collect();
    let (model, labels) = fits.swap_remove(best);
    let (centroids, labels) = renumber_by_size(model.centroids().clone(), labels);
    Ok((centroids, labels, mean(&others), fit_seconds))
}

/// The ks the data allows: at most the number of distinct customers (k-means cannot place more
/// centroids than there are different rows) and below the number of customers (silhouette,
/// Calinski–Harabasz and Davies–Bouldin need k < n). The fixed k or the range of the job is
/// checked against it: a fixed k beyond it is an error naming `[discovery] k`, a range is
/// clipped with a warning, and data that cannot give even k = 2 is an error naming the cause.
fn k_bounds(x: ArrayView2<f64>, options: &KmeansOptions) -> Result<(usize, usize, Vec<String>)> {
    let n = x.nrows();
    let [lo, hi] = options.k_range;
    let asked = options.fixed_k.unwrap_or(hi).max(lo);
    let distinct = distinct_rows(x, asked + 1);
    let rows = if distinct > asked || distinct == n {
        format!("{n} customers")
    } else {
        format!("{n} customers ({distinct} with different features)")
    };
    if distinct < 2 {
        return Err(Error::data(format!(
            "all {n} customers have identical features; there is nothing to cluster — check that the inputs map the right columns, or add customers whose purchases differ"
        )));
    }
    if n < 3 {
        return Err(Error::data(format!(
            "there are only {n} customers; there is nothing to cluster — two segments need at least 3 customers, so that a segment is more than one customer on its own"
        )));
    }
    let most = distinct.min(n - 1);
    let mut warnings = Vec::new();
    let range = match options.fixed_k {
        Some(0) => {
            return Err(Error::data(
                "[discovery] k = 0: k must be at least 1 (or \"auto\")",
            ))
        }
        Some(k) if k > most => {
            return Err(Error::data(format!(
                "[discovery] k = {k}, but the data has only {rows}: k-means can form at most {most} segments here (k must stay below the number of customers and at most the number of different ones) — set k to at most {most}, or k = \"auto\""
            )))
        }
        Some(k) => (k, k),
        None if hi <= most => (lo, hi),
        None => {
            let clipped = (lo.min(most), most);
            let to = if clipped.0 == clipped.1 {
                format!("k = {most} only")
            } else {
                format!("[{}, {most}]", clipped.0)
            };
            warnings.push(format!(
                "[discovery] k_range = [{lo}, {hi}] was clipped to {to}: the data has only {rows}, which allow at most k = {most} (k must stay below the number of customers and at most the number of different ones)"
            ));
            clipped
        }
    };
    Ok((range.0, range.1, warnings))
}

/// Fits every k in the range (or the fixed k), scores each, and keeps the chosen one.
pub fn discover(x: ArrayView2<f64>, options: &KmeansOptions) -> Result<KmeansResult> {
    let n = x.nrows();
    let (lo, hi, mut warnings) = k_bounds(x, options)?;
    let scan_runs = if lo == hi {
        options.n_runs
    } else {
        options.n_runs.min(SCAN_RUNS)
    };
    let sampled = stability_rows(n, options.seed).map(|rows| x.select(ndarray::Axis(0), &rows));
    let stability_x = match &sampled {
        Some(rows) => rows.view(),
        None => x.reborrow(),
    };
    let mut scores = Vec::new();
    // A single k is scanned with every restart already: that fit is the final one.
    let mut single_fit = None;
    for k in lo..=hi {
        let (centroids, labels, agreement, restart_seconds) =
            fit_with_agreement(x, k, scan_runs, options.seed)?;
        let mut scored = score(
            x,
            &labels,
            centroids.view(),
            options.silhouette_sample,
            options.seed,
        );
        scored.restart_agreement = agreement;
        scored.restart_seconds = restart_seconds;
        (scored.stability, scored.bootstrap_stability) =
            final_fit_stability(stability_x, k, options.n_runs, options.seed)?;
        scores.push(scored);
        if lo == hi {
            single_fit = Some((centroids, labels));
        }
    }
    let choice = match options.fixed_k {
        Some(k) => Choice {
            index: 0,
            reason: format!("k = {k} is fixed by the job."),
            verdict: (!is_stable(&scores[0])).then(|| verdict(&scores, 0)),
        },
        None => choose_k(&scores),
    };
    let index = choice.index;
    let (centroids, labels, chosen) = match single_fit {
        Some((centroids, labels)) => (centroids, labels, scores[index].clone()),
        None => {
            // The chosen k is refitted with every restart; its row in the table shows the
            // final fit.
            let (centroids, labels, _) = fit(x, scores[index].k, options.n_runs, options.seed)?;
            let mut chosen = score(
                x,
                &labels,
                centroids.view(),
                options.silhouette_sample,
                options.seed,
            );
            chosen.stability = scores[index].stability;
            chosen.bootstrap_stability = scores[index].bootstrap_stability;
            chosen.restart_agreement = scores[index].restart_agreement;
            chosen.restart_seconds = scores[index].restart_seconds;
            scores[index] = chosen.clone();
            (centroids, labels, chosen)
        }
    };
    if let Some(ari) = chosen.stability.filter(|a| *a < STABLE_ARI) {
        warnings.push(format!(
            "k = {} is unstable: its final fits from different seeds agree only to ARI {ari:.2} (below {STABLE_ARI}); the segments depend on the seed — consider another k or fewer features",
            chosen.k
        ));
    }
    if let Some(ari) = chosen.bootstrap_stability.filter(|a| *a < STABLE_ARI) {
        warnings.push(format!(
            "k = {} is unstable: its final fits on bootstrap samples of the customers agree only to ARI {ari:.2} (below {STABLE_ARI}); the segments depend on which customers are in the data — consider another k or fewer features",
            chosen.k
        ));
    }
    // A cluster no customer is nearest to is dropped (it is numbered last, being the smallest),
    // so that every segment in the report and the saved model has members.
    let used = labels.iter().max().map_or(0, |m| m + 1);
    let centroids = if used < centroids.nrows() {
        warnings.push(format!(
            "k-means with k = {} left {} cluster(s) empty; {used} segments are reported",
            chosen.k,
            centroids.nrows() - used
        ));
        centroids.slice(ndarray::s![..used, ..]).to_owned()
    } else {
        centroids
    };
    let verdict = choice.verdict.or_else(|| weak_structure(&scores, chosen.k));
    Ok(KmeansResult {
        k: centroids.nrows(),
        stable: is_stable(&chosen),
        verdict,
        labels,
        centroids,
        scores,
        chosen,
        reason: choice.reason,
        silhouette_sample: options.silhouette_sample.min(n),
        warnings,
    })
}

/// Counts distinct rows, stopping once `enough` are found.
fn distinct_rows(x: ArrayView2<f64>, enough: usize) -> usize {
    let mut seen: std::collections::HashSet<Vec<u64>> = std::collections::HashSet::new();
    for row in x.outer_iter() {
        // + 0.0 turns −0.0 into 0.0, so equal values have equal bits.
        seen.insert(row.iter().map(|v| (v + 0.0).to_bits()).collect());
        if seen.len() >= enough {
            break;
        }
    }
    seen.len()
}

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
fn verdict(scores: &[KScore], index: usize) -> String {
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
fn weak_structure(scores: &[KScore], k: usize) -> Option<String> {
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
    use ndarray::array;

    fn options(fixed_k: Option<usize>, k_range: [usize; 2]) -> KmeansOptions {
        KmeansOptions {
            fixed_k,
            k_range,
            n_runs: 2,
            silhouette_sample: 100,
            seed: 1,
        }
    }

    /// Six customers but three different rows: at most 3 segments.
    fn duplicated() -> Array2<f64> {
        array![[0.0], [0.0], [5.0], [5.0], [9.0], [-0.0]]
    }

    #[test]
    fn the_range_is_clipped_to_the_distinct_rows() {
        let x = duplicated();
        let (lo, hi, warnings) = k_bounds(x.view(), &options(None, [2, 10])).unwrap();
        assert_eq!((lo, hi), (2, 3));
        assert!(
            warnings[0].contains("clipped to [2, 3]")
                && warnings[0].contains("6 customers (3 with different features)"),
            "{warnings:?}"
        );
        let result = discover(x.view(), &options(None, [2, 10])).unwrap();
        assert_eq!(result.k, 3);
        assert_eq!(result.chosen.silhouette, Some(1.0 - 1.0 / 6.0));
    }

    #[test]
    fn a_fixed_k_beyond_the_distinct_rows_is_an_error() {
        let err = discover(duplicated().view(), &options(Some(4), [2, 10]))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("[discovery] k = 4") && err.contains("set k to at most 3"),
            "{err}"
        );
        let x = array![[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]];
        let err = discover(x.view(), &options(None, [2, 10]))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("all 3 customers have identical features"),
            "{err}"
        );
    }

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

    #[test]
    fn final_fits_of_separated_groups_are_stable_for_every_seed_and_noise_gets_the_verdict() {
        use rand::Rng;
        let mut rng = Xoshiro256Plus::seed_from_u64(3);
        let blobs = Array2::from_shape_fn((600, 2), |(i, j)| {
            let centre = [(0.0, 0.0), (20.0, 0.0), (0.0, 20.0)][i % 3];
            let c = if j == 0 { centre.0 } else { centre.1 };
            c + rng.gen_range(-1.0..1.0)
        });
        for seed in [1, 7, 42, 1234, 99_999] {
            let stability = final_fit_stability(blobs.view(), 3, 10, seed).unwrap();
            assert_eq!(stability, (Some(1.0), Some(1.0)), "seed {seed}");
        }
        let found = discover(
            blobs.view(),
            &KmeansOptions {
                fixed_k: None,
                k_range: [2, 6],
                n_runs: 10,
                silhouette_sample: 600,
                seed: 42,
            },
        )
        .unwrap();
        assert_eq!((found.k, found.stable), (3, true));
        assert!(found.verdict.is_none());
        // Uniform noise in four dimensions: whatever k, the cuts move with the seed and the sample.
        let noise = Array2::from_shape_fn((800, 4), |_| rng.gen_range(0.0..1.0));
        let found = discover(
            noise.view(),
            &KmeansOptions {
                fixed_k: None,
                k_range: [2, 8],
                n_runs: 10,
                silhouette_sample: 800,
                seed: 42,
            },
        )
        .unwrap();
        for s in &found.scores {
            assert!(
                s.weakest_stability().unwrap() < STABLE_ARI,
                "k = {}: {s:?}",
                s.k
            );
        }
        assert!(!found.stable);
        let verdict = found.verdict.expect("the verdict");
        assert!(
            verdict.starts_with("No clear segment structure"),
            "{verdict}"
        );
        // The landscape diagnostic stays apart from the stability of final fits.
        let (_, _, agreement, _) = fit_with_agreement(noise.view(), 3, 1, 42).unwrap();
        assert_eq!(agreement, None);
    }
}
