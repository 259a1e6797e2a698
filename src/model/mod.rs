//! The fitted model saved as model.json: the preparation, the k-means centroids, the DBSCAN
//! settings, the RFM cut points and the rule sets, so that the same transform, clusters and rule
//! segments apply to new data.
//! [`apply`] assigns new customers with it.

mod apply;

pub use apply::{apply, drift_since, view, Applied, DriftSince, ModelView};

use serde::{Deserialize, Serialize};

use crate::cluster::gmm::MixtureModel;
use crate::drift::Baseline;
use crate::error::{Error, Result};
use crate::features::Preparation;
use crate::rules::{SavedRules, ScoreCuts};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedModel {
    pub segmenta_version: String,
    pub job: String,
    pub as_of: String,
    pub seed: u64,
    pub preparation: Preparation,
    pub kmeans: SavedKmeans,
    /// When the run had DBSCAN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dbscan: Option<SavedDbscan>,
    pub rfm_cut_points: ScoreCuts,
    /// The fit data's distributions, to measure drift when the model is applied.
    #[serde(default)]
    pub baseline: Baseline,
    /// The Gaussian mixture, when the job fitted one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gmm: Option<SavedMixture>,
    /// The rule sets resolved at fit time (each set's column, ordered conditions, default and
    /// thresholds) and the rule columns the fit data gave; absent in models written before
    /// segmenta saved them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<SavedRules>,
    /// The lifetime models (BG/NBD, Gamma-Gamma) with their options, when the job fitted them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<crate::lifetime::SavedLifetime>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedMixture {
    #[serde(flatten)]
    pub model: MixtureModel,
    /// "Champions 78%"-style label of each component at fit time.
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedKmeans {
    pub k: usize,
    /// One row per cluster, columns in the order of `preparation.columns`.
    pub centroids: Vec<Vec<f64>>,
    /// "Champions 78%"-style label of each cluster at fit time (its name without RFM groups).
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedDbscan {
    pub eps: f64,
    pub min_points: usize,
}

impl SavedModel {
    pub fn load(path: &std::path::Path) -> Result<SavedModel> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::file(path, format!("cannot read: {e}")))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::file(path, format!("not a segmenta model: {e}")))
    }
}
