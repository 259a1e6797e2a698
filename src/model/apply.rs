//! Applying a saved model to new data (`segmenta apply MODEL.json JOB.toml`): the job's inputs go
//! through the same feature building, the model's fitted preparation and its centroids — nothing
//! is refitted — so cluster ids and labels mean what they meant at fit time; R, F and M are
//! scored with the saved cut points, the saved rule sets give every customer's rule segments;
//! and the drift from the fit data is measured.

use chrono::NaiveDate;
use ndarray::Array2;

use crate::cluster::{distance, gmm};
use crate::drift::{self, Drift};
use crate::error::{Error, Result};
use crate::features::FeatureTable;
use crate::job::Job;
use crate::model::SavedModel;
use crate::rules::rfm::ScoreScale;

pub struct Applied {
    pub job: Job,
    pub model_job: String,
    pub model_as_of: String,
    pub as_of: NaiveDate,
    pub customer_ids: Vec<String>,
    pub clusters: Vec<usize>,
    /// The model's label of every cluster ("Champions 78%").
    pub cluster_labels: Vec<String>,
    pub distances: Vec<f64>,
    /// Farther from every centroid than 99 % of the fit customers were from theirs.
    pub far: Vec<bool>,
    pub r: Vec<Option<u8>>,
    pub f: Vec<Option<u8>>,
    pub m: Vec<Option<u8>>,
    /// Most probable mixture component and every component's probability, when the model
    /// holds a Gaussian mixture.
    pub mixture: Option<(Vec<usize>, Array2<f64>)>,
    /// Every rule set the model saved, (column, segment of every customer), in the model's
    /// order; empty for a model written before segmenta saved its rules.
    pub rule_sets: Vec<(String, Vec<String>)>,
    pub drift: Drift,
    /// Things the analyst should know (features missing in the new data, rows ignored).
    pub notes: Vec<String>,
    /// P(alive), expected purchases, expected order value and CLV from the model's lifetime
    /// fit, when it has one.
    pub lifetime: Vec<crate::features::Feature>,
}

/// A model's view of a feature table: the saved preparation and centroids applied, and the drift
/// from the fit data.
pub struct ModelView {
    pub matrix: ndarray::Array2<f64>,
    pub clusters: Vec<usize>,
    pub distances: Vec<f64>,
    pub drift: Drift,
    /// Features missing in the new data, and the like.
    pub notes: Vec<String>,
}

/// Transforms `table` with the model's fitted preparation and assigns the nearest centroids.
pub fn view(model: &SavedModel, table: &FeatureTable) -> Result<ModelView> {
    let (matrix, notes) = model.preparation.transform_new_data(table)?;
    let centroids = centroids(model, matrix.matrix.ncols())?;
    let x = matrix.matrix.view();
    let (clusters, distances): (Vec<usize>, Vec<f64>) =
        distance::nearest(x, centroids.view()).into_iter().unzip();
    let drift = drift::compare(&model.baseline, x, &clusters, &distances);
    Ok(ModelView {
        matrix: matrix.matrix,
        clusters,
        distances,
        drift,
        notes,
    })
}

/// How this run's customers look to an earlier run's model: shown in the run's report and
/// written as summary.json `drift`.
#[derive(serde::Serialize)]
pub struct DriftSince {
    #[serde(rename = "model")]
    pub model_path: std::path::PathBuf,
    pub model_as_of: String,
    /// The model's label of each of its clusters ("Champions 78%").
    #[serde(rename = "model_labels")]
    pub cluster_labels: Vec<String>,
    /// This run's customers per model cluster.
    pub customers_now: Vec<usize>,
    #[serde(flatten)]
    pub drift: Drift,
    #[serde(skip)]
    pub notes: Vec<String>,
}

/// Measures the drift of `table` from the model saved at `model_path`.
pub fn drift_since(model_path: &std::path::Path, table: &FeatureTable) -> Result<DriftSince> {
    let model = SavedModel::load(model_path)?;
    let seen = view(&model, table)?;
    let customers_now = crate::cluster::sizes(&seen.clusters, model.kmeans.k);
    Ok(DriftSince {
        model_path: model_path.to_path_buf(),
        model_as_of: model.as_of,
        cluster_labels: model.kmeans.labels,
        customers_now,
        drift: seen.drift,
        notes: seen.notes,
    })
}

/// The customers of `job`'s data as of `as_of` (else the job's date, else the day after its
/// latest transaction), assigned with `model`.
pub fn apply(model: &SavedModel, job: &Job, as_of: Option<NaiveDate>) -> Result<Applied> {
    let clustered: Vec<String> = model
        .preparation
        .columns
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let table = crate::lifetime::table_of_job(job, as_of, model.lifetime.as_ref(), &clustered)?;
    let ModelView {
        matrix,
        clusters,
        distances,
        drift,
        mut notes,
    } = view(model, &table)?;
    notes.extend(table.notes.iter().cloned());
    let mixture = model
        .gmm
        .as_ref()
        .map(|g| {
            let (probabilities, _) = g.model.probabilities(matrix.view())?;
            Ok::<_, Error>((gmm::most_probable(&probabilities), probabilities))
        })
        .transpose()?;
    let measured = !model.baseline.columns.is_empty();
    let far = distances
        .iter()
        .map(|d| measured && *d > model.baseline.far_distance)
        .collect();
    let cuts = &model.rfm_cut_points;
    let [recency, frequency, monetary] = crate::rules::rfm_values(&table.facts);
    let scored = |scale: &ScoreScale, values: Vec<Option<f64>>| -> Vec<Option<u8>> {
        values
            .into_iter()
            .map(|v| v.map(|x| scale.score_of(x)))
            .collect()
    };
    let (r, f, m) = (
        scored(&cuts.r, recency),
        scored(&cuts.f, frequency),
        scored(&cuts.m, monetary),
    );
    let rule_sets = match &model.rules {
        Some(saved) => {
            crate::rules::saved::evaluate(saved, &table, [r.clone(), f.clone(), m.clone()], cuts)?
        }
        None => Vec::new(),
    };
    let lifetime = table
        .all_columns()
        .filter(|f| crate::job::LIFETIME_COLUMNS.contains(&f.name.as_str()))
        .cloned()
        .collect();
    Ok(Applied {
        lifetime,
        job: job.clone(),
        model_job: model.job.clone(),
        model_as_of: model.as_of.clone(),
        as_of: table.as_of,
        r,
        f,
        m,
        rule_sets,
        customer_ids: table.customer_ids,
        clusters,
        cluster_labels: model.kmeans.labels.clone(),
        mixture,
        distances,
        far,
        drift,
        notes,
    })
}

fn centroids(model: &SavedModel, columns: usize) -> Result<Array2<f64>> {
    let rows = model.kmeans.centroids.len();
    let flat: Vec<f64> = model.kmeans.centroids.iter().flatten().copied().collect();
    Array2::from_shape_vec((rows, columns), flat).map_err(|_| {
        Error::data(format!(
            "the model's {rows} centroids do not have the {columns} columns of its preparation; the model file is damaged"
        ))
    })
}
