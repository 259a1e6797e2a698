//! Gaussian mixture (linfa, full covariances, k-means initialisation) as an optional third
//! method: k chosen by the Bayesian information criterion, and every customer's membership
//! probability for every component.
//!
//! linfa fits the mixture; the likelihood, BIC, AIC and the probabilities are computed here from
//! the fitted weights, means and covariances with log-sum-exp, because linfa's own
//! `predict_proba` sums plain exponentials, which underflow to 0/0 for customers far from every
//! component. Its `n_runs` also continues the same fit rather than restarting, so restarts are
//! separate fits from different seeds.

use linfa::prelude::*;
use linfa_clustering::{GaussianMixtureModel, GmmInitMethod};
use linfa_linalg::cholesky::Cholesky;
use linfa_linalg::triangular::{SolveTriangular, UPLO};
use ndarray::{s, Array1, Array2, Array3, ArrayView2, Axis};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A customer whose largest membership probability is below this is called uncertain.
pub const CONFIDENT: f64 = 0.8;
/// Convergence: change of the mean log-likelihood per customer, as scikit-learn's `tol`.
const TOLERANCE: f64 = 1e-3;
const MAX_ITERATIONS: u64 = 300;
/// Rows per block when computing probabilities, bounding the temporary n × d difference matrix.
const BLOCK: usize = 65_536;

/// A fitted mixture: what `model.json` keeps and `apply` uses.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MixtureModel {
    pub weights: Vec<f64>,
    pub means: Array2<f64>,
    /// One full d × d covariance per component.
    pub covariances: Array3<f64>,
}

/// Per component: ln weight − ½ ln det Σ − ½ d ln 2π, and L⁻¹ where Σ = L Lᵀ.
struct Component {
    log_constant: f64,
    whitening: Array2<f64>,
}

impl MixtureModel {
    pub fn k(&self) -> usize {
        self.weights.len()
    }

    /// Free parameters: k − 1 weights, k·d means and k·d(d+1)/2 covariance entries.
    pub fn parameter_count(&self) -> usize {
        let (k, d) = (self.k(), self.means.ncols());
        k - 1 + k * d + k * d * (d + 1) / 2
    }

    fn components(&self) -> Result<Vec<Component>> {
        let d = self.means.ncols();
        (0..self.k())
            .map(|j| {
                let covariance = self.covariances.slice(s![j, .., ..]);
                let lower = covariance.cholesky().map_err(|e| {
                    Error::data(format!(
                        "Gaussian mixture component {j} has a covariance that is not positive definite ({e})"
                    ))
                })?;
                let log_det: f64 = lower.diag().iter().map(|v| 2.0 * v.ln()).sum();
                let whitening = lower
                    .solve_triangular(&Array2::eye(d), UPLO::Lower)
                    .map_err(|e| Error::data(format!("Gaussian mixture component {j}: {e}")))?;
                Ok(Component {
                    log_constant: self.weights[j].ln()
                        - 0.5 * log_det
                        - 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln(),
                    whitening,
                })
            })
            .collect()
    }

    /// ln(weight_j · N(x | mean_j, Σ_j)) for every row and component.
    fn weighted_log_densities(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        let components = self.components()?;
        let mut out = Array2::zeros((x.nrows(), self.k()));
        for start in (0..x.nrows()).step_by(BLOCK) {
            let end = (start + BLOCK).min(x.nrows());
            let block = x.slice(s![start..end, ..]);
            for (j, component) in components.iter().enumerate() {
                let centred = &block - &self.means.row(j);
                let whitened = centred.dot(&component.whitening.t());
                let mahalanobis = whitened.map_axis(Axis(1), |r| r.dot(&r));
                out.slice_mut(s![start..end, j])
                    .assign(&mahalanobis.mapv(|m| component.log_constant - 0.5 * m));
            }
        }
        Ok(out)
    }

    /// Membership probabilities (rows sum to 1) and each row's log-likelihood.
    pub fn probabilities(&self, x: ArrayView2<f64>) -> Result<(Array2<f64>, Array1<f64>)> {
        let mut weighted = self.weighted_log_densities(x)?;
        let mut log_likelihood = Array1::zeros(x.nrows());
        for (mut row, ll) in weighted.outer_iter_mut().zip(log_likelihood.iter_mut()) {
            let top = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let total = top + row.iter().map(|v| (v - top).exp()).sum::<f64>().ln();
            row.mapv_inplace(|v| (v - total).exp());
            *ll = total;
        }
        Ok((weighted, log_likelihood))
    }

    /// Total log-likelihood, BIC and AIC of `x` under the model (scikit-learn's definitions).
    pub fn information_criteria(&self, x: ArrayView2<f64>) -> Result<(f64, f64, f64)> {
        let (_, per_row) = self.probabilities(x)?;
        let log_likelihood = per_row.sum();
        let p = self.parameter_count() as f64;
        let bic = -2.0 * log_likelihood + p * (x.nrows() as f64).ln();
        let aic = -2.0 * log_likelihood + 2.0 * p;
        Ok((log_likelihood, bic, aic))
    }

    /// The same model with components in `order` (new index i = old index order[i]).
    fn reordered(&self, order: &[usize]) -> Self {
        Self {
            weights: order.iter().map(|&j| self.weights[j]).collect(),
            means: self.means.select(Axis(0), order),
            covariances: self.covariances.select(Axis(0), order),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GmmScore {
    pub k: usize,
    /// Total log-likelihood of the fit data; None when no restart converged.
    pub log_likelihood: Option<f64>,
    pub bic: Option<f64>,
    pub aic: Option<f64>,
    /// Why this k has no fit, when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

pub struct GmmOptions {
    pub fixed_k: Option<usize>,
    pub k_range: [usize; 2],
    /// Fits per k from different seeds; the highest likelihood wins.
    pub n_runs: usize,
    /// The mixture is fitted on at most this many customers (seeded sample); all are assigned.
    pub sample: usize,
    /// Added to every covariance's diagonal, in the matrix's scaled units (the job's default is
    /// `job::DEFAULT_GMM_REG_COVAR`).
    pub reg_covar: f64,
    pub seed: u64,
}

#[derive(Serialize, Deserialize)]
pub struct GmmResult {
    pub k: usize,
    pub model: MixtureModel,
    /// Component of every customer (the most probable), numbered by size, 0 = largest.
    #[serde(skip)]
    pub labels: Vec<usize>,
    /// Membership probability of every customer for every component (n × k).
    #[serde(skip)]
    pub probabilities: Array2<f64>,
    pub scores: Vec<GmmScore>,
    pub reason: String,
    /// Customers the mixture was fitted on.
    pub sample_size: usize,
    /// Mean of every customer's largest membership probability.
    pub mean_confidence: f64,
    /// Share of customers whose largest membership probability is below [`CONFIDENT`].
    pub uncertain_share: f64,
    pub warnings: Vec<String>,
}

impl GmmResult {
    /// Each customer's probability of belonging to the component it is assigned to.
    pub fn confidence(&self) -> Vec<f64> {
        confidence(&self.labels, &self.probabilities)
    }
}

/// Each row's probability of the component it is assigned to.
pub fn confidence(labels: &[usize], probabilities: &Array2<f64>) -> Vec<f64> {
    probabilities
        .outer_iter()
        .zip(labels)
        .map(|(row, &c)| row[c])
        .collect()
}

/// One linfa fit; the error text says why it failed (no convergence, an empty component).
fn fit_once(
    x: ArrayView2<f64>,
    k: usize,
    seed: u64,
    init: GmmInitMethod,
    reg_covar: f64,
) -> std::result::Result<MixtureModel, String> {
    let dataset = DatasetBase::from(x.to_owned());
    let fitted = GaussianMixtureModel::params_with_rng(k, Xoshiro256Plus::seed_from_u64(seed))
        .n_runs(1)
        .tolerance(TOLERANCE)
        .reg_covariance(reg_covar)
        .max_n_iterations(MAX_ITERATIONS)
        .init_method(init)
        .fit(&dataset)
        .map_err(|e| e.to_string())?;
    let model = MixtureModel {
        weights: fitted.weights().to_vec(),
        means: fitted.means().clone(),
        covariances: fitted.covariances().clone(),
    };
    if model.weights.iter().any(|w| !w.is_finite()) || model.means.iter().any(|m| !m.is_finite()) {
        return Err("the fit produced non-finite parameters".into());
    }
    Ok(model)
}

/// The best of `runs` fits of k (highest likelihood) with its scores, or why none succeeded.
fn fit_k(x: ArrayView2<f64>, k: usize, options: &GmmOptions) -> (GmmScore, Option<MixtureModel>) {
    let seed = options.seed;
    let mut best: Option<(f64, f64, f64, MixtureModel)> = None;
    let mut last_error = String::new();
    for run in 0..options.n_runs.max(1) as u64 {
        // linfa's k-means start is its best of 10 k-means runs, nearly the same partition for
        // every seed; every other restart starts from random memberships instead, for variety.
        let init = if run % 2 == 0 {
            GmmInitMethod::KMeans
        } else {
            GmmInitMethod::Random
        };
        let scored =
            fit_once(x, k, seed.wrapping_add(run), init, options.reg_covar).and_then(|model| {
                let (ll, bic, aic) = model.information_criteria(x).map_err(|e| e.to_string())?;
                if ll.is_finite() {
                    Ok((ll, bic, aic, model))
                } else {
                    Err("the likelihood is not finite".into())
                }
            });
        match scored {
            Ok(fit) if best.as_ref().is_none_or(|b| fit.0 > b.0) => best = Some(fit),
            Ok(_) => {}
            Err(e) => last_error = e,
        }
    }
    match best {
        Some((ll, bic, aic, model)) => (
            GmmScore {
                k,
                log_likelihood: Some(ll),
                bic: Some(bic),
                aic: Some(aic),
                failed: None,
            },
            Some(model),
        ),
        None => (
            GmmScore {
                k,
                log_likelihood: None,
                bic: None,
                aic: None,
                failed: Some(last_error),
            },
            None,
        ),
    }
}

/// Rule (README, "Gaussian mixture"): the k with the lowest BIC; an exact tie goes to the smaller k.
pub fn choose_k(scores: &[GmmScore]) -> Option<(usize, String)> {
    let lowest = |f: fn(&GmmScore) -> Option<f64>| {
        (0..scores.len())
            .filter(|&i| f(&scores[i]).is_some())
            .min_by(|&a, &b| {
                f(&scores[a])
                    .partial_cmp(&f(&scores[b]))
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
    };
    let index = lowest(|s| s.bic)?;
    let by_aic = lowest(|s| s.aic).map(|i| scores[i].k);
    let chosen = &scores[index];
    let mut reason = format!(
        "k = {} has the lowest BIC ({:.1}).",
        chosen.k,
        chosen.bic.unwrap_or(f64::NAN)
    );
    match by_aic {
        Some(k) if k == chosen.k => reason += " AIC agrees.",
        Some(k) => reason += &format!(
            " AIC, which penalises parameters less, would take k = {k}; BIC is used because each component of a full-covariance mixture has many parameters."
        ),
        None => {}
    }
    Some((index, reason))
}

/// A seeded sample of at most `size` row indices, in ascending order.
fn sample_rows(n: usize, size: usize, seed: u64) -> Vec<usize> {
    super::sample::rows(n, size, seed ^ 0x6A55_1A17)
}

/// Fits every k of the range (or the fixed k) and keeps the one with the lowest BIC; an error when
/// no k could be fitted (the pipeline turns it into a warning unless the mixture is primary).
pub fn discover(x: ArrayView2<f64>, options: &GmmOptions) -> Result<GmmResult> {
    let n = x.nrows();
    let rows = sample_rows(n, options.sample, options.seed);
    let fit_data = x.select(Axis(0), &rows);
    let (lo, hi) = match options.fixed_k {
        Some(k) => (k, k),
        None => (options.k_range[0], options.k_range[1]),
    };
    // Each component needs more customers than dimensions for a full covariance.
    let most = (fit_data.nrows() / (x.ncols() + 1)).max(1);
    let mut warnings = Vec::new();
    let hi = if hi > most {
        warnings.push(format!(
            "Gaussian mixture: k is limited to {most} here (each component's full covariance needs more customers than the {} features)",
            x.ncols()
        ));
        most
    } else {
        hi
    };
    if lo > hi {
        return Err(Error::data(format!(
            "the Gaussian mixture cannot fit k = {lo}: {} customers over {} features allow at most k = {most}",
            fit_data.nrows(),
            x.ncols()
        )));
    }
    let mut scores = Vec::new();
    let mut models = Vec::new();
    for k in lo..=hi {
        let (score, model) = fit_k(fit_data.view(), k, options);
        if let Some(reason) = &score.failed {
            warnings.push(format!(
                "Gaussian mixture with k = {k} could not be fitted: {reason}"
            ));
        }
        scores.push(score);
        models.push(model);
    }
    let Some((index, mut reason)) = choose_k(&scores) else {
        return Err(Error::data(format!(
            "the Gaussian mixture could not be fitted for any k in {lo}..={hi}: {}",
            scores
                .iter()
                .filter_map(|s| s.failed.clone())
                .next_back()
                .unwrap_or_default()
        )));
    };
    if options.fixed_k.is_some() {
        reason = format!("k = {} is fixed by the job.", scores[index].k);
    } else if lo < hi && scores[index].k == hi {
        warnings.push(format!(
            "Gaussian mixture: BIC is lowest at k = {hi}, the top of the range — it is still falling, so the components describe the shape of the data more than separate segments; read them with the k-means segments, or set gmm_k"
        ));
    }
    let model = models.swap_remove(index).expect("the chosen k has a model");
    let (probabilities, _) = model.probabilities(x)?;
    let result = GmmResult {
        k: model.k(),
        model,
        labels: Vec::new(),
        probabilities: Array2::zeros((0, 0)),
        scores,
        reason,
        sample_size: rows.len(),
        mean_confidence: 0.0,
        uncertain_share: 0.0,
        warnings,
    };
    Ok(result.reassigned(probabilities))
}

impl GmmResult {
    /// The result with `probabilities` (one row per customer, the model's components in its
    /// order) as its memberships: components renumbered by the customers they hold, largest
    /// first, and the confidence measured over those customers.
    pub fn reassigned(mut self, probabilities: Array2<f64>) -> GmmResult {
        let n = probabilities.nrows();
        let (model, probabilities, labels) = renumber_by_size(self.model, probabilities);
        let confidence = confidence(&labels, &probabilities);
        self.mean_confidence = confidence.iter().sum::<f64>() / n.max(1) as f64;
        self.uncertain_share =
            confidence.iter().filter(|&&c| c < CONFIDENT).count() as f64 / n.max(1) as f64;
        self.k = model.k();
        self.model = model;
        self.labels = labels;
        self.probabilities = probabilities;
        self
    }
}

/// Components renumbered by the number of customers they hold (largest first; ties by the
/// mean, so the numbering never depends on the fit order), probabilities and labels with them.
fn renumber_by_size(
    model: MixtureModel,
    probabilities: Array2<f64>,
) -> (MixtureModel, Array2<f64>, Vec<usize>) {
    let sizes = super::sizes(&most_probable(&probabilities), model.k());
    let order = super::order_by_size(&sizes, model.means.view());
    let probabilities = probabilities.select(Axis(1), &order);
    let labels = most_probable(&probabilities);
    (model.reordered(&order), probabilities, labels)
}

/// The most probable component of every row (the first on a tie).
pub fn most_probable(probabilities: &Array2<f64>) -> Vec<usize> {
    probabilities
        .outer_iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |best, (j, &p)| {
                    if p > best.1 {
                        (j, p)
                    } else {
                        best
                    }
                })
                .0
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn far_customers_get_probabilities_not_nan() {
        let model = MixtureModel {
            weights: vec![0.5, 0.5],
            means: array![[0.0], [1.0]],
            covariances: Array3::from_shape_vec((2, 1, 1), vec![1e-4, 1e-4]).unwrap(),
        };
        // 1000 away in units of 0.01: every density underflows; log-sum-exp still decides.
        let (p, ll) = model.probabilities(array![[1000.0], [0.4]].view()).unwrap();
        assert!(p.iter().all(|v| v.is_finite()), "{p:?}");
        assert_eq!(most_probable(&p), vec![1, 0]);
        assert!((p.row(0).sum() - 1.0).abs() < 1e-12);
        assert!(ll[0].is_finite() && ll[0] < -1e9);
    }

    #[test]
    fn parameters_are_counted_as_scikit_learn_does() {
        let model = MixtureModel {
            weights: vec![0.2; 5],
            means: Array2::zeros((5, 6)),
            covariances: Array3::zeros((5, 6, 6)),
        };
        // (k − 1) + k·d + k·d(d+1)/2 = 4 + 30 + 105.
        assert_eq!(model.parameter_count(), 139);
    }
}
