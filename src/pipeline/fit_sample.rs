//! Fit on a sample, assign everyone: above `[discovery] fit_sample` customers the preparation,
//! k-means (its k scan and stability), DBSCAN and the Gaussian mixture are fitted on a seeded
//! uniform sample of that many customers; then every customer is prepared with the fitted
//! preparation and assigned with the fitted models, one batch of rows at a time. Memory is the
//! sample's matrix plus one batch, however many customers there are; the per-customer results
//! (segments, sizes, revenue, rule sets) stay exact over everyone.

use ndarray::{s, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::cluster::dbscan::Joiner;
use crate::cluster::{kmeans, sample, DbscanResult, GmmResult, KmeansResult};
use crate::error::Result;
use crate::features::{FeatureTable, Preparation};

/// Mixed into the run's seed for the fit sample, so that it is not the same draw as the samples
/// the methods take of it (DBSCAN's, the mixture's), which use the seed as it is.
const SAMPLE_SEED: u64 = 0xF17_5A3B1E;

/// Customers prepared and assigned at once: 65,536 rows of a few dozen columns are a few MB.
pub const BATCH: usize = 65_536;

/// How many customers discovery was fitted on, of how many (summary.json `discovery.fit_sample`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FitSample {
    pub customers_fitted: usize,
    pub customers_total: usize,
}

impl FitSample {
    /// The sample discovery fits on when `total` customers are more than `limit`; None when
    /// every customer is fitted on.
    pub fn of(total: usize, limit: usize) -> Option<FitSample> {
        (total > limit).then_some(FitSample {
            customers_fitted: limit,
            customers_total: total,
        })
    }

    /// The customers of the sample, ascending: the same for the same seed, so the report's
    /// stage and a rerun find them again without saving them.
    pub fn rows(&self, seed: u64) -> Vec<usize> {
        sample::rows(
            self.customers_total,
            self.customers_fitted,
            seed ^ SAMPLE_SEED,
        )
    }

    /// The sentence the report and run.log give it.
    pub fn describe(&self) -> String {
        format!(
            "fitted on a uniform sample of {} of {} customers",
            crate::format::count(self.customers_fitted),
            crate::format::count(self.customers_total)
        )
    }
}

/// What every method found on the prepared matrix, with discovery's own warnings; on a sample,
/// completed with every customer's assignment by [`assign_everyone`].
pub struct Fitted {
    pub kmeans: KmeansResult,
    pub dbscan: Option<DbscanResult>,
    pub gmm: Option<GmmResult>,
    pub warnings: Vec<String>,
}

/// Every customer of `features` assigned with what was fitted on the sample `rows` (whose
/// prepared matrix is `x`): k-means to the nearest centroid, as `apply` assigns new customers;
/// DBSCAN keeps the sample's clusters and places everyone else as its own sample's outsiders
/// are placed ([`Joiner`]); the mixture gives everyone its probabilities. Each method's
/// clusters are then renumbered by their sizes over everyone.
pub fn assign_everyone(
    features: &FeatureTable,
    preparation: &Preparation,
    x: ArrayView2<f64>,
    rows: &[usize],
    fitted: Fitted,
    seed: u64,
) -> Result<Fitted> {
    let Fitted {
        kmeans,
        dbscan,
        gmm,
        warnings,
    } = fitted;
    let n = features.len();
    let joiner = dbscan.as_ref().map(|d| Joiner::new(x, d, seed));
    let mut kmeans_labels = Vec::with_capacity(n);
    let mut dbscan_labels = vec![None; n];
    let mut in_sample = vec![false; n];
    for (i, &row) in rows.iter().enumerate() {
        in_sample[row] = true;
        dbscan_labels[row] = dbscan.as_ref().and_then(|d| d.labels[i]);
    }
    let mut probabilities = gmm.as_ref().map(|g| Array2::zeros((n, g.k)));
    for start in (0..n).step_by(BATCH) {
        let end = (start + BATCH).min(n);
        let batch = preparation.transform_rows(features, start..end)?;
        kmeans_labels.extend(kmeans::assign(batch.view(), kmeans.centroids.view()));
        if let Some(joiner) = &joiner {
            let outside: Vec<usize> = (0..end - start)
                .filter(|&i| !in_sample[start + i])
                .collect();
            let joined = joiner.labels(batch.select(Axis(0), &outside).view());
            for (i, label) in outside.into_iter().zip(joined) {
                dbscan_labels[start + i] = label;
            }
        }
        if let (Some(g), Some(p)) = (&gmm, probabilities.as_mut()) {
            let (batch_p, _) = g.model.probabilities(batch.view())?;
            p.slice_mut(s![start..end, ..]).assign(&batch_p);
        }
    }
    Ok(Fitted {
        kmeans: kmeans.reassigned(kmeans_labels),
        dbscan: dbscan.map(|d| d.reassigned(dbscan_labels)),
        gmm: gmm.zip(probabilities).map(|(g, p)| g.reassigned(p)),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_within_the_limit_is_fitted_whole() {
        assert_eq!(FitSample::of(1000, 1000), None);
        let s = FitSample::of(1001, 1000).unwrap();
        assert_eq!((s.customers_fitted, s.customers_total), (1000, 1001));
        assert_eq!(
            s.describe(),
            "fitted on a uniform sample of 1,000 of 1,001 customers"
        );
    }

    #[test]
    fn the_sample_is_drawn_again_from_the_seed() {
        let s = FitSample::of(50_000, 2_000).unwrap();
        let rows = s.rows(42);
        assert_eq!(rows, s.rows(42));
        assert_ne!(rows, s.rows(43));
        assert_eq!(rows.len(), 2_000);
        assert!(rows.windows(2).all(|w| w[0] < w[1]));
    }
}
