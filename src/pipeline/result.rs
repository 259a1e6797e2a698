//! Everything a run found: what the report, the saved model and the comparison with the next
//! run are made from.

use chrono::NaiveDate;

use crate::cluster::distance;
use crate::cluster::{DbscanResult, GmmResult, KmeansResult};
use crate::compare::Comparison;
use crate::drift::{self, Baseline};
use crate::features::{FeatureMatrix, FeatureTable, FitReport, Preparation};
use crate::job::{Job, Primary};
use crate::label::{self, Agreement, Labelling};
use crate::load::DataQuality;
use crate::model::{DriftSince, SavedDbscan, SavedKmeans, SavedMixture, SavedModel};
use crate::rules::RuleResults;

pub struct ReferenceAgreement {
    pub name: String,
    pub kmeans: Agreement,
    pub dbscan: Option<Agreement>,
    pub gmm: Option<Agreement>,
}

/// Everything a run found; the report is written from it.
pub struct RunResult {
    pub job: Job,
    pub as_of: NaiveDate,
    pub seed: u64,
    pub quality: DataQuality,
    pub features: FeatureTable,
    pub preparation: Preparation,
    pub fit_report: FitReport,
    /// The prepared matrix the methods were fitted on: every customer's, or the fit sample's.
    pub matrix: FeatureMatrix,
    /// When discovery fitted on a sample: how many customers of how many.
    pub fit_sample: Option<super::FitSample>,
    /// The customer (row of `features`) of each row of `matrix` when it is the fit sample's;
    /// None when its rows are every customer in order.
    pub matrix_rows: Option<Vec<usize>>,
    pub rules: RuleResults,
    pub kmeans: KmeansResult,
    /// DBSCAN, when the job runs it ([`Job::runs_dbscan`]).
    pub dbscan: Option<DbscanResult>,
    /// The Gaussian mixture, when the job asks for it (`[discovery] gmm = true`).
    pub gmm: Option<GmmResult>,
    pub kmeans_labels: Labelling,
    /// What separates the k-means segments: R² of every clustered feature, largest first.
    pub drivers: Vec<label::Driver>,
    pub dbscan_labels: Option<Labelling>,
    pub gmm_labels: Option<Labelling>,
    pub reference: Option<ReferenceAgreement>,
    /// Drift from an earlier run's model (or the one named with `--baseline`).
    pub drift: Option<DriftSince>,
    /// The customer-base model, when the job has `[lifetime]` and the data could support it.
    pub lifetime: Option<crate::lifetime::Lifetime>,
    /// Who moved since the job's previous run under the output root, when there is one.
    pub migrations: Option<Comparison>,
    /// Seconds per stage, in order.
    pub timings: Vec<(String, f64)>,
    pub warnings: Vec<String>,
}

impl RunResult {
    /// The customer (row of `features`) of row `i` of `matrix`.
    pub fn customer_of_matrix_row(&self, i: usize) -> usize {
        self.matrix_rows.as_ref().map_or(i, |rows| rows[i])
    }

    /// How closely the Gaussian mixture's components follow the k-means clusters.
    pub fn mixture_agreement_with_kmeans(&self) -> Option<Agreement> {
        let g = self.gmm.as_ref()?;
        let hard: Vec<Option<usize>> = g.labels.iter().map(|c| Some(*c)).collect();
        Some(label::agreement(&hard, &self.kmeans.labels))
    }

    /// The profiles of the job's primary segmentation.
    pub fn primary_labelling(&self) -> &Labelling {
        match self.job.primary {
            Primary::Kmeans => &self.kmeans_labels,
            Primary::Dbscan => self.dbscan_labels.as_ref().unwrap_or(&self.kmeans_labels),
            Primary::Gmm => self.gmm_labels.as_ref().unwrap_or(&self.kmeans_labels),
        }
    }

    /// The plain-words title of each of `segments` (the primary method's names), as the
    /// primary labelling gives it; a name without a profile stays itself.
    pub fn segment_titles(&self, segments: &[String]) -> Vec<String> {
        let titles: std::collections::HashMap<&str, &str> = self
            .primary_labelling()
            .clusters
            .iter()
            .map(|c| (c.name.as_str(), c.title.as_str()))
            .collect();
        segments
            .iter()
            .map(|s| titles.get(s.as_str()).copied().unwrap_or(s).to_string())
            .collect()
    }

    /// The exported `segment` of every customer, from the job's primary method.
    pub fn primary_segments(&self) -> Vec<String> {
        match self.job.primary {
            Primary::Kmeans => self
                .kmeans
                .labels
                .iter()
                .map(|c| label::cluster_name(Some(*c)))
                .collect(),
            // A primary DBSCAN or mixture always runs (Job::runs_dbscan, the job checks).
            Primary::Dbscan => self
                .dbscan
                .iter()
                .flat_map(|d| d.labels.iter().map(|c| label::cluster_name(*c)))
                .collect(),
            Primary::Gmm => self
                .gmm
                .iter()
                .flat_map(|g| g.labels.iter().map(|c| label::component_name(*c)))
                .collect(),
        }
    }

    /// The fitted preparation and models, as model.json keeps them for `apply` and drift.
    pub fn saved_model(&self) -> SavedModel {
        let run = self;
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
                labels: model_labels(&run.kmeans_labels),
            },
            dbscan: run.dbscan.as_ref().map(|d| SavedDbscan {
                eps: d.eps,
                min_points: d.min_points,
            }),
            rfm_cut_points: run.rules.rfm.cuts.clone(),
            baseline: drift_baseline(run),
            gmm: run
                .gmm
                .as_ref()
                .zip(run.gmm_labels.as_ref())
                .map(|(g, l)| SavedMixture {
                    model: g.model.clone(),
                    labels: model_labels(l),
                }),
            rules: (!run.rules.saved.columns.is_empty()).then(|| run.rules.saved.clone()),
            lifetime: run.lifetime.as_ref().map(|l| l.model.clone()),
        }
    }
}

fn model_labels(labelling: &Labelling) -> Vec<String> {
    labelling
        .clusters
        .iter()
        .map(|c| match (&c.label, c.label_share) {
            (Some(label), Some(share)) => crate::format::label_with_share(label, share),
            // Without RFM groups the segment's name says what it is.
            _ => c.title.clone(),
        })
        .collect()
}

fn drift_baseline(run: &RunResult) -> Baseline {
    let x = run.matrix.matrix.view();
    // The same nearest-centroid distances `apply` measures new customers with.
    let (assignment, distances): (Vec<usize>, Vec<f64>) =
        distance::nearest(x, run.kmeans.centroids.view())
            .into_iter()
            .unzip();
    drift::baseline(x, &run.matrix.names, &assignment, run.kmeans.k, &distances)
}
