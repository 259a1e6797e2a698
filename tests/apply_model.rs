//! A model fitted on one sample of a population assigns a re-drawn sample of the same population
//! to the same clusters, and warns with figures when the data has shifted.

use std::collections::HashMap;
use std::path::Path;

use segmenta::generate::{generate_range, write_tables, GenerateOptions, SyntheticData};
use segmenta::job::Job;
use segmenta::model::SavedModel;
use segmenta::RunOptions;

const SEED: u64 = 11;

fn options(root: &Path) -> RunOptions {
    RunOptions {
        output_root: root.to_path_buf(),
        as_of: None,
        seed: None,
        quiet: true,
    }
}

/// The demo job's mapping and settings over generated tables in `dir`.
fn job_over(data: &SyntheticData, dir: &Path) -> Job {
    std::fs::create_dir_all(dir).unwrap();
    write_tables(data, dir, "parquet").unwrap();
    let demo =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo.toml"))
            .unwrap()
            .replace(
                "[discovery]\nk = \"auto\"\nk_range = [2, 10]",
                "[discovery]\nk = 5",
            );
    std::fs::write(dir.join("job.toml"), demo).unwrap();
    Job::from_file(&dir.join("job.toml")).unwrap()
}

fn population(range: std::ops::Range<usize>) -> SyntheticData {
    let options = GenerateOptions {
        customers: range.end,
        seed: SEED,
    };
    generate_range(&options, range)
}

/// customer id → k-means cluster in an assignments.csv.
fn clusters(csv: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = header.iter().position(|h| *h == "kmeans_cluster").unwrap();
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (cells[0].to_string(), cells[column].to_string())
        })
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
    let applied = segmenta::apply::apply(&model, &redrawn_job, &options(&reports)).unwrap();
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
    let applied = segmenta::apply::apply(&model, &shifted_job, &options(&reports)).unwrap();
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
