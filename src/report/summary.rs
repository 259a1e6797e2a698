//! summary.json: the machine-readable result of a run.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cluster::gmm::{self, GmmScore};
use crate::cluster::KScore;
use crate::compare::Comparison;
use crate::label::{Agreement, ClusterProfile, Labelling};
use crate::load::DataQuality;
use crate::model::DriftSince;
use crate::rules::{ScoreCuts, SegmentInfo, SkippedSet};
use crate::RunResult;

#[derive(Serialize)]
pub struct Summary<'a> {
    pub job: String,
    pub as_of: String,
    pub seed: u64,
    pub primary: String,
    pub customers: usize,
    pub transactions: usize,
    /// Net revenue in the as-of window, rounded to the cent.
    pub revenue: f64,
    pub features: Vec<String>,
    /// How discovery was fitted, when not on every customer (`[discovery] fit_sample`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovery: Option<DiscoverySummary>,
    pub kmeans: KmeansSummary,
    /// Null when the job did not run DBSCAN (`[discovery] dbscan`, off by default).
    pub dbscan: Option<DbscanSummary>,
    /// The Gaussian mixture, when the job fitted one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gmm: Option<GmmSummary>,
    /// Drift from the baseline model (the job's previous run, or `--baseline`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<&'a DriftSince>,
    /// Who moved since the job's previous run (the same as `segmenta compare`'s compare.json).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migrations: Option<&'a Comparison>,
    /// Agreement of the k-means clusters with the classic RFM groups; null when the inputs give
    /// no RFM groups (a customers table without recency or order counts).
    pub agreement: Option<Agreement>,
    pub agreement_dbscan: Option<Agreement>,
    /// Agreement with a known segmentation given in the job (e.g. the generator's planted groups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement_reference: Option<ReferenceSummary>,
    pub rfm_cut_points: ScoreCuts,
    pub rule_sets: Vec<RuleSetSummary>,
    /// Rule sets of the job that its inputs cannot compute, with the column each needs.
    pub skipped_rule_sets: Vec<SkippedSet>,
    pub clusters: Vec<ClusterSummary>,
    pub dbscan_clusters: Vec<ClusterSummary>,
    pub data_quality: DataQuality,
    pub imputed_cells: BTreeMap<String, usize>,
    pub dropped_features: Vec<String>,
    pub warnings: Vec<String>,
    /// The customer-base model, when the job has `[lifetime]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<super::lifetime::LifetimeSummary>,
}

/// Discovery fitted on a sample: the preparation, the metrics, the profiles of prepared values
/// and the charts drawn from the matrix come from the sample; sizes, revenue and every
/// customer's segment from everyone.
#[derive(Serialize)]
pub struct DiscoverySummary {
    pub fit_sample: crate::pipeline::FitSample,
    /// The same in words, as the report says it.
    pub note: String,
}

#[derive(Serialize)]
pub struct KmeansSummary {
    pub k: usize,
    /// The chosen k's final fits agree to ARI ≥ 0.8 across seeds and bootstrap samples.
    pub stable: bool,
    /// When no k is stable: the plain verdict the report leads with.
    pub verdict: Option<String>,
    pub silhouette: Option<f64>,
    pub calinski_harabasz: Option<f64>,
    pub davies_bouldin: Option<f64>,
    pub inertia: f64,
    pub silhouette_sample: usize,
    pub reason: String,
    pub k_scores: Vec<KScore>,
    /// R² of every clustered feature for the chosen segments, largest first.
    pub drivers: Vec<crate::label::Driver>,
    /// The shares shrunk towards their base rate before clustering, with each prior.
    pub shrinkage: Vec<ShrinkSummary>,
}

/// A share's empirical-Bayes prior: its base rate and its strength in observations.
#[derive(Serialize)]
pub struct ShrinkSummary {
    pub feature: String,
    /// What a share's observations are: the feature counting them per customer.
    pub observations: String,
    pub base: f64,
    pub strength: f64,
}

#[derive(Serialize)]
pub struct GmmSummary {
    pub k: usize,
    pub reason: String,
    /// Customers the mixture was fitted on (all customers get probabilities).
    pub sample_size: usize,
    pub reg_covar: f64,
    /// Mean of each customer's largest membership probability.
    pub mean_confidence: f64,
    /// Share of customers whose largest membership probability is below `confident_at`.
    pub uncertain_share: f64,
    pub confident_at: f64,
    /// Agreement of the mixture's components with the k-means clusters and the RFM groups.
    pub agreement_kmeans: Agreement,
    pub agreement: Option<Agreement>,
    pub k_scores: Vec<GmmScore>,
    pub clusters: Vec<ClusterSummary>,
}

#[derive(Serialize)]
pub struct DbscanSummary {
    pub eps: f64,
    pub eps_automatic: bool,
    pub min_points: usize,
    pub clusters: usize,
    pub noise: usize,
    pub sample_size: usize,
    /// Silhouette of the clustered customers (outliers left out); null below 2 clusters.
    pub silhouette: Option<f64>,
}

#[derive(Serialize)]
pub struct ReferenceSummary {
    pub name: String,
    pub kmeans: Agreement,
    pub dbscan: Option<Agreement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gmm: Option<Agreement>,
}

#[derive(Serialize)]
pub struct RuleSetSummary {
    pub name: String,
    pub title: String,
    /// "score map", "conditions" or "custom rules".
    pub kind: String,
    /// The column of this rule set in assignments.csv.
    pub column: String,
    pub thresholds: BTreeMap<String, f64>,
    pub segments: Vec<SegmentSummary>,
    /// Agreement of the clusters with this rule set.
    pub agreement: RuleSetAgreement,
}

#[derive(Serialize)]
pub struct RuleSetAgreement {
    pub kmeans: Agreement,
    pub dbscan: Option<Agreement>,
}

#[derive(Serialize)]
pub struct SegmentSummary {
    #[serde(flatten)]
    pub info: SegmentInfo,
    pub customers: usize,
    pub share: f64,
    /// Net revenue, rounded to the cent.
    pub revenue: f64,
    pub revenue_share: f64,
}

#[derive(Serialize)]
pub struct ClusterSummary {
    pub id: Option<usize>,
    pub name: String,
    /// The plain-words name shown on the card.
    pub title: String,
    pub size: usize,
    pub share: f64,
    pub revenue_share: f64,
    /// The dominant classic RFM group and its share; null without RFM groups.
    pub label: Option<String>,
    pub label_share: Option<f64>,
    pub rfm_name: Option<String>,
    pub mean: BTreeMap<String, Option<f64>>,
    pub median: BTreeMap<String, Option<f64>>,
    pub z: BTreeMap<String, Option<f64>>,
}

fn cents(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn clusters(labelling: &Labelling) -> Vec<ClusterSummary> {
    labelling.clusters.iter().map(cluster).collect()
}

fn cluster(p: &ClusterProfile) -> ClusterSummary {
    let by_feature = |f: fn(&crate::label::FeatureStat) -> Option<f64>| {
        p.features.iter().map(|s| (s.name.clone(), f(s))).collect()
    };
    ClusterSummary {
        id: p.id,
        name: p.name.clone(),
        title: p.title.clone(),
        size: p.size,
        share: p.share,
        revenue_share: p.revenue_share,
        label: p.label.clone(),
        label_share: p.label_share,
        rfm_name: p.rfm_name.clone(),
        mean: by_feature(|s| s.mean),
        median: by_feature(|s| s.median),
        z: by_feature(|s| s.z),
    }
}

pub fn rule_set_summaries(run: &RunResult) -> Vec<RuleSetSummary> {
    let total: f64 = run.features.facts.monetary.iter().sum();
    let agreement_with = |labelling: &Labelling, name: &str| {
        labelling
            .crosstabs
            .iter()
            .find(|c| c.rule_set == name)
            .map(|c| c.agreement)
            .unwrap_or(Agreement { ari: 0.0, nmi: 0.0 })
    };
    let customers = run.features.len().max(1) as f64;
    run.rules
        .sets
        .iter()
        .map(|set| RuleSetSummary {
            name: set.name.clone(),
            title: set.title.clone(),
            kind: set.kind.clone(),
            column: set.column_name(),
            thresholds: set.thresholds.clone(),
            agreement: RuleSetAgreement {
                kmeans: agreement_with(&run.kmeans_labels, &set.name),
                dbscan: run
                    .dbscan_labels
                    .as_ref()
                    .map(|l| agreement_with(l, &set.name)),
            },
            segments: set
                .segments
                .iter()
                .map(|info| {
                    let rows: Vec<usize> = (0..set.labels.len())
                        .filter(|&i| set.labels[i] == info.name)
                        .collect();
                    let revenue: f64 = rows.iter().map(|&i| run.features.facts.monetary[i]).sum();
                    SegmentSummary {
                        info: info.clone(),
                        customers: rows.len(),
                        share: rows.len() as f64 / customers,
                        revenue: cents(revenue),
                        revenue_share: if total.abs() > 0.0 {
                            revenue / total
                        } else {
                            0.0
                        },
                    }
                })
                .collect(),
        })
        .collect()
}

pub fn build(run: &RunResult) -> Summary<'_> {
    let km = &run.kmeans;
    Summary {
        job: run.job.name.clone(),
        as_of: run.as_of.to_string(),
        seed: run.seed,
        primary: format!("{:?}", run.job.primary).to_lowercase(),
        customers: run.features.len(),
        transactions: run.features.transactions_used,
        revenue: run.features.net_revenue(),
        features: run.matrix.names.clone(),
        discovery: run.fit_sample.map(|s| DiscoverySummary {
            fit_sample: s,
            note: super::html::fit_sample_note(&s),
        }),
        kmeans: KmeansSummary {
            k: km.k,
            stable: km.stable,
            verdict: km.verdict.clone(),
            silhouette: km.chosen.silhouette,
            calinski_harabasz: km.chosen.calinski_harabasz,
            davies_bouldin: km.chosen.davies_bouldin,
            inertia: km.chosen.inertia,
            silhouette_sample: km.silhouette_sample,
            reason: km.reason.clone(),
            k_scores: km.scores.clone(),
            drivers: run.drivers.clone(),
            shrinkage: run
                .preparation
                .shrunk()
                .into_iter()
                .map(|(feature, s)| ShrinkSummary {
                    feature: feature.to_string(),
                    observations: s.trials.clone(),
                    base: s.base,
                    strength: s.strength,
                })
                .collect(),
        },
        dbscan: run.dbscan.as_ref().map(|d| DbscanSummary {
            eps: d.eps,
            eps_automatic: d.eps_automatic,
            min_points: d.min_points,
            clusters: d.clusters,
            noise: d.noise,
            sample_size: d.sample_size,
            silhouette: d.silhouette,
        }),
        gmm: gmm_summary(run),
        drift: run.drift.as_ref(),
        migrations: run.migrations.as_ref(),
        agreement: run.kmeans_labels.agreement,
        agreement_dbscan: run.dbscan_labels.as_ref().and_then(|l| l.agreement),
        agreement_reference: run.reference.as_ref().map(|r| ReferenceSummary {
            name: r.name.clone(),
            kmeans: r.kmeans,
            dbscan: r.dbscan,
            gmm: r.gmm,
        }),
        rfm_cut_points: run.rules.rfm.cuts.clone(),
        rule_sets: rule_set_summaries(run),
        skipped_rule_sets: run.rules.skipped.clone(),
        clusters: clusters(&run.kmeans_labels),
        dbscan_clusters: run.dbscan_labels.as_ref().map_or(Vec::new(), clusters),
        data_quality: run.quality.clone(),
        imputed_cells: run.fit_report.imputed.clone(),
        dropped_features: run
            .preparation
            .dropped
            .iter()
            .map(|d| format!("{} ({})", d.name, d.reason))
            .collect(),
        warnings: run.warnings.clone(),
        lifetime: super::lifetime::summary(run),
    }
}

fn gmm_summary(run: &RunResult) -> Option<GmmSummary> {
    let (g, labelling) = run.gmm.as_ref().zip(run.gmm_labels.as_ref())?;
    Some(GmmSummary {
        k: g.k,
        reason: g.reason.clone(),
        sample_size: g.sample_size,
        reg_covar: run.job.discovery.gmm_reg_covar,
        mean_confidence: g.mean_confidence,
        uncertain_share: g.uncertain_share,
        confident_at: gmm::CONFIDENT,
        agreement_kmeans: run.mixture_agreement_with_kmeans()?,
        agreement: labelling.agreement,
        k_scores: g.scores.clone(),
        clusters: clusters(labelling),
    })
}
