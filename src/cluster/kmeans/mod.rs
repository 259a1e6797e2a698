//! k-means, the policy: which ks the data allows, scanning them with a few restarts each,
//! choosing k (`choice.rs`), measuring how stable the chosen segments are (`stability.rs`), and
//! refitting the chosen k with every restart. The fit itself, Lloyd's algorithm with a k-means++
//! start, is [`lloyd`]; the fitted centroids are a model that assigns new customers.

mod choice;
pub mod lloyd;
mod stability;

pub use choice::{choose_k, is_stable, Choice, SILHOUETTE_SLACK, WEAK_SILHOUETTE};

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use self::choice::{verdict, weak_structure};
use self::lloyd::KMeansParams;
use self::stability::{final_fit_stability, stability_rows};
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

impl KmeansResult {
    /// The result with `labels` (each customer's nearest centroid, for more customers than the
    /// fit saw) as its clusters, renumbered by their sizes among those customers so that 0 is
    /// still the largest; a centroid no customer is nearest to is dropped with a warning, as in
    /// [`discover`].
    pub fn reassigned(mut self, labels: Vec<usize>) -> KmeansResult {
        let sizes = super::sizes(&labels, self.k);
        let order = super::order_by_size(&sizes, self.centroids.view());
        let used = order.iter().take_while(|&&c| sizes[c] > 0).count();
        let mut new_id = vec![0; self.k];
        for (new, &old) in order.iter().enumerate() {
            new_id[old] = new;
        }
        if used < self.k {
            self.warnings.push(format!(
                "k-means with k = {} left {} cluster(s) without customers once every customer was assigned; {used} segments are reported",
                self.k,
                self.k - used
            ));
        }
        self.centroids = self.centroids.select(ndarray::Axis(0), &order[..used]);
        self.k = used;
        self.labels = labels.into_iter().map(|l| new_id[l]).collect();
        self
    }
}

/// Restarts per k while scanning the range; enough to rank the ks, and 3× faster than 10.
const SCAN_RUNS: usize = 3;

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
}
