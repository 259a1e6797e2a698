//! A model fitted on one sample of a population assigns a re-drawn sample of the same population
//! to the same clusters, and warns with figures when the data has shifted.
//!
//! - A model fitted on customers 0–2,999 of a generated population assigns a re-drawn sample,
//!   customers 1,000–3,999, with the same cluster for at least 95 % of the 2,000 shared
//!   customers, no major drift and under 3 % far from every centroid; with prices tripled the
//!   drift warning names `monetary` with its PSI; the model's mixture gives every applied
//!   customer probabilities that sum to 1.
//! - A run a month later measures drift against the previous run's model in its report and
//!   `summary.json`, a re-run of the same date does not, and a `--baseline` that is not a model
//!   is an error naming the file.

use std::collections::HashMap;
use std::path::Path;

use segmenta::generate::SyntheticData;
use segmenta::job::Job;
use segmenta::model::SavedModel;
use segmenta::RunOptions;

use crate::util::{self, options, DemoJob};

const SEED: u64 = 11;

/// The demo job's mapping and settings, with k = 5, over generated tables in `dir`.
fn job_over(data: &SyntheticData, dir: &Path) -> Job {
    let path = DemoJob::bundled().fixed_k(5).write_over(data, dir);
    Job::from_file(&path).unwrap()
}

fn population(range: std::ops::Range<usize>) -> SyntheticData {
    util::population(range, SEED)
}

/// customer id → k-means cluster in an assignments.csv.
fn clusters(csv: &Path) -> HashMap<String, String> {
    let ids = util::csv_column(csv, "customer_id");
    ids.into_iter()
        .zip(util::csv_column(csv, "kmeans_cluster"))
        .collect()
}

#[test]
fn a_redrawn_sample_keeps_its_clusters_and_shifted_data_warns() {
    let root = tempfile::tempdir().unwrap();
    let fit_job = job_over(&population(0..3000), &root.path().join("fit"));
    let reports = root.path().join("reports");
    let (fit, fit_folder) = segmenta::run(&fit_job, &options(&reports)).unwrap();
    let model = SavedModel::load(&fit_folder.join("model.json")).unwrap();
    assert_eq!(model.baseline.columns.len(), fit.matrix.names.len());

    // Customers 1000–2999 are in both samples with the same history.
    let redrawn_job = job_over(&population(1000..4000), &root.path().join("redrawn"));
    let applied = segmenta::model::apply(&model, &redrawn_job, None).unwrap();
    let folder = segmenta::report::write_applied(&applied, &reports).unwrap();
    assert!(
        folder.ends_with("demo/2026-01-01-applied"),
        "{}",
        folder.display()
    );
    for file in [
        "assignments.csv",
        "assignments.parquet",
        "drift.json",
        "index.html",
    ] {
        assert!(folder.join(file).is_file(), "{file}");
    }
    // The demo job fits a Gaussian mixture; the model carries it and apply gives probabilities.
    let mixture = model.gmm.as_ref().expect("the demo job fits a mixture");
    let header = std::fs::read_to_string(folder.join("assignments.csv")).unwrap();
    let header = header.lines().next().unwrap();
    let last = format!("gmm_p{}", mixture.model.k() - 1);
    assert!(
        header.contains("gmm_cluster,gmm_probability,gmm_p0") && header.contains(&last),
        "{header}"
    );
    let (labels, probabilities) = applied.mixture.as_ref().unwrap();
    assert_eq!(labels.len(), applied.customer_ids.len());
    assert!(probabilities
        .outer_iter()
        .all(|row| (row.sum() - 1.0).abs() < 1e-9));
    let before = clusters(&fit_folder.join("assignments.csv"));
    let after = clusters(&folder.join("assignments.csv"));
    let shared: Vec<&String> = after.keys().filter(|id| before.contains_key(*id)).collect();
    assert_eq!(shared.len(), 2000);
    let same = shared
        .iter()
        .filter(|id| before[**id] == after[**id])
        .count();
    let agreement = same as f64 / shared.len() as f64;
    eprintln!(
        "re-drawn sample: same cluster for {same} of {} shared customers; far share {:.4}",
        shared.len(),
        applied.drift.far_share
    );
    assert!(
        agreement >= 0.95,
        "same cluster for {agreement:.3} of the shared customers"
    );
    let major: Vec<&str> = applied
        .drift
        .columns
        .iter()
        .filter(|c| c.level == "major")
        .map(|c| c.name.as_str())
        .collect();
    assert!(
        major.is_empty(),
        "a re-drawn sample shows no major drift: {major:?}"
    );
    assert!(
        applied.drift.far_share < 0.03,
        "far share {}",
        applied.drift.far_share
    );

    // The same population a year later with prices tripled: spend features and the segment
    // sizes shift, and the run says so with figures.
    let mut shifted = population(1000..4000);
    for amount in shifted.transactions.amount.iter_mut() {
        *amount *= 3.0;
    }
    for price in shifted.transactions.unit_price.iter_mut() {
        *price *= 3.0;
    }
    let shifted_job = job_over(&shifted, &root.path().join("shifted"));
    let applied = segmenta::model::apply(&model, &shifted_job, None).unwrap();
    let monetary = applied
        .drift
        .columns
        .iter()
        .find(|c| c.name == "monetary")
        .expect("monetary is clustered on in the demo job");
    eprintln!("prices tripled: {:?}", applied.drift.warnings);
    assert_eq!(monetary.level, "major", "PSI {}", monetary.psi);
    assert!(
        applied.drift.warnings[0].contains("features shifted since the model was fitted")
            && applied.drift.warnings[0].contains("monetary (PSI"),
        "{:?}",
        applied.drift.warnings
    );
}

#[test]
fn a_damaged_model_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.json");
    std::fs::write(&path, "{\"segmenta_version\": \"0.1.0\"}").unwrap();
    let err = SavedModel::load(&path).unwrap_err().to_string();
    assert!(err.contains("model.json: not a segmenta model"), "{err}");
}

/// A month later the run itself measures drift against the job's previous run (the report's
/// "Drift since the model of …" section and summary.json `drift`); a run never measures against
/// itself, and `--baseline` names a model explicitly.
#[test]
fn the_next_run_measures_drift_against_the_previous_runs_model() {
    let root = tempfile::tempdir().unwrap();
    let reports = root.path().join("reports");
    let first_job = job_over(&population(0..3000), &root.path().join("first"));
    let (_, first_folder) = segmenta::run(&first_job, &options(&reports)).unwrap();
    let first_summary = std::fs::read_to_string(first_folder.join("summary.json")).unwrap();
    assert!(
        !first_summary.contains("\"drift\""),
        "no earlier run, no drift"
    );

    let mut shifted = population(1000..4000);
    for amount in shifted.transactions.amount.iter_mut() {
        *amount *= 3.0;
    }
    let next_job = job_over(&shifted, &root.path().join("next"));
    let next_month = RunOptions {
        as_of: chrono::NaiveDate::from_ymd_opt(2026, 2, 1),
        ..options(&reports)
    };
    let (next, folder) = segmenta::run(&next_job, &next_month).unwrap();
    assert!(folder.ends_with("demo/2026-02-01"), "{}", folder.display());
    let drift = next
        .drift
        .as_ref()
        .expect("the January run is the baseline");
    assert_eq!(drift.model_as_of, "2026-01-01");
    assert_eq!(drift.model_path, first_folder.join("model.json"));
    let monetary = drift
        .drift
        .columns
        .iter()
        .find(|c| c.name == "monetary")
        .unwrap();
    assert_eq!(monetary.level, "major", "PSI {}", monetary.psi);
    assert!(
        next.warnings
            .iter()
            .any(|w| w.starts_with("Since the model of 2026-01-01:") && w.contains("monetary")),
        "{:?}",
        next.warnings
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["drift"]["model_as_of"], "2026-01-01");
    assert_eq!(
        summary["drift"]["customers_now"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        3000
    );
    let html = std::fs::read_to_string(folder.join("index.html")).unwrap();
    assert!(html.contains("Drift since the model of 2026-01-01"));
    assert!(html.contains("<td class=\"t major\">major</td>"));

    // Re-running January finds no earlier run: no drift section.
    let (again, _) = segmenta::run(&first_job, &options(&reports)).unwrap();
    assert!(again.drift.is_none());

    // An explicit baseline that is not a model is an error naming the file.
    let bad = root.path().join("not-a-model.json");
    std::fs::write(&bad, "{}").unwrap();
    let explicit = RunOptions {
        baseline_model: Some(bad.clone()),
        ..options(&reports)
    };
    let err = segmenta::run(&first_job, &explicit)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("not-a-model.json") && err.contains("not a segmenta model"),
        "{err}"
    );
}
