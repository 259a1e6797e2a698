//! The fitted model saved as model.json: the preparation, the k-means centroids, the DBSCAN
//! settings and the RFM cut points, so that the same transform and clusters apply to new data.

use serde::{Deserialize, Serialize};

use crate::cluster::distance;
use crate::cluster::gmm::MixtureModel;
use crate::drift::{self, Baseline};
use crate::error::{Error, Result};
use crate::features::Preparation;
use crate::label::Labelling;
use crate::rules::ScoreCuts;
use crate::RunResult;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedModel {
    pub segmenta_version: String,
    pub job: String,
    pub as_of: String,
    pub seed: u64,
    pub preparation: Preparation,
    pub kmeans: SavedKmeans,
    pub dbscan: SavedDbscan,
    pub rfm_cut_points: ScoreCuts,
    /// The fit data's distributions, to measure drift when the model is applied.
    #[serde(default)]
    pub baseline: Baseline,
    /// The Gaussian mixture, when the job fitted one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gmm: Option<SavedMixture>,
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
    pub fn from_run(run: &RunResult) -> SavedModel {
        SavedModel {
            segmenta_version: env!("CARGO_PKG_VERSION").to_string(),
            job: run.job.name.clone(),
            as_of: run.as_of.to_string(),
            seed: run.seed,
            preparation: run.preparation.clone(),
            kmeans: SavedKmeans {
                k: run.kmeans.k,
                centroids: run
                    .kmeans
                    .centroids
                    .outer_iter()
                    .map(|r| r.to_vec())
                    .collect(),
                labels: labels(&run.kmeans_labels),
            },
            dbscan: SavedDbscan {
                eps: run.dbscan.eps,
                min_points: run.dbscan.min_points,
            },
            rfm_cut_points: run.rules.rfm.cuts.clone(),
            baseline: baseline(run),
            gmm: run
                .gmm
                .as_ref()
                .zip(run.gmm_labels.as_ref())
                .map(|(g, l)| SavedMixture {
                    model: g.model.clone(),
                    labels: labels(l),
                }),
        }
    }

    pub fn load(path: &std::path::Path) -> Result<SavedModel> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Input {
            path: path.to_path_buf(),
            message: format!("cannot read: {e}"),
        })?;
        serde_json::from_str(&text).map_err(|e| Error::Input {
            path: path.to_path_buf(),
            message: format!("not a segmenta model: {e}"),
        })
    }
}

fn labels(labelling: &Labelling) -> Vec<String> {
    labelling
        .clusters
        .iter()
        .map(|c| match (&c.label, c.label_share) {
            (Some(label), Some(share)) => format!("{label} {:.0}%", 100.0 * share),
            // Without RFM groups the segment's name says what it is.
            _ => c.title.clone(),
        })
        .collect()
}

fn baseline(run: &RunResult) -> Baseline {
    let x = run.matrix.matrix.view();
    // The same nearest-centroid distances `apply` measures new customers with.
    let (assignment, distances): (Vec<usize>, Vec<f64>) =
        distance::nearest(x, run.kmeans.centroids.view())
            .into_iter()
            .unzip();
    drift::baseline(x, &run.matrix.names, &assignment, run.kmeans.k, &distances)
}
