//! Runs on real and messy inputs: the CDNOW transaction log (real, half the customers bought
//! once) and a pre-aggregated CRM customer table without any transaction log.

use std::path::{Path, PathBuf};

use segmenta::job::Job;
use segmenta::RunOptions;

fn options(root: &Path) -> RunOptions {
    RunOptions {
        output_root: root.to_path_buf(),
        as_of: None,
        seed: None,
        quiet: true,
    }
}

fn cdnow() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cdnow_transactions.csv");
    path.is_file().then_some(path)
}

#[test]
fn cdnow_real_transactions_give_clusters_and_sensible_rfm_groups() {
    let Some(csv) = cdnow() else {
        eprintln!("SKIPPED: ../shared/data/cdnow_transactions.csv is absent; the CDNOW test needs the shared data folder beside the repository");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let job_path = dir.path().join("cdnow.toml");
    std::fs::write(
        &job_path,
        format!(
            "name = \"cdnow\"\n[inputs.transactions]\npath = \"{}\"\ncustomer_id = \"customer_id\"\ntimestamp = \"date\"\namount = \"amount\"\n",
            csv.display()
        ),
    )
    .unwrap();
    let job = Job::from_file(&job_path).unwrap();
    let (result, folder) = segmenta::run(&job, &options(dir.path())).unwrap();
    assert_eq!(
        result.features.len(),
        23_570,
        "every CDNOW customer is kept"
    );
    assert_eq!(
        result.as_of.to_string(),
        "1998-07-01",
        "default as-of: the day after the last purchase"
    );
    assert!(result.kmeans.k >= 2);
    // About half bought once: F cannot be split into five and the report says so.
    assert!(
        result
            .warnings
            .iter()
            .any(|w| w.starts_with("F could not be split")),
        "{:?}",
        result.warnings
    );
    let groups = result.rules.rfm_groups();
    let share = |name: &str| {
        groups.labels.iter().filter(|l| *l == name).count() as f64 / groups.labels.len() as f64
    };
    // The cohort started in early 1997 and most never came back: hibernating dominates, and the
    // groups that need a recent purchase are a minority.
    assert!(
        share("Hibernating") > 0.3,
        "Hibernating {}",
        share("Hibernating")
    );
    assert!(
        share("Champions") > 0.02 && share("Champions") < 0.25,
        "Champions {}",
        share("Champions")
    );
    let revenue: f64 = result.features.facts.monetary.iter().sum();
    assert!((revenue - 2_500_315.63).abs() < 0.01, "revenue {revenue}");
    assert!(folder.join("index.html").is_file());
}

#[test]
fn pre_aggregated_customer_table_runs_without_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let job_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/aggregated_customers.toml");
    let job = Job::from_file(&job_path).unwrap();
    let (result, folder) = segmenta::run(&job, &options(dir.path())).unwrap();
    assert_eq!(result.features.len(), 240);
    let wines_fruit_meat_of_first = result.features.facts.monetary[0];
    assert!(wines_fruit_meat_of_first > 0.0);
    assert!(result.features.feature("response_rate").is_some());
    assert!(
        result.features.feature("marital_status_yolo").is_some()
            || result.features.feature("marital_status_other").is_some()
    );
    assert!(
        result
            .fit_report
            .imputed
            .get("income")
            .copied()
            .unwrap_or(0)
            > 0,
        "blank incomes are imputed and counted"
    );
    assert!(result.kmeans.k >= 2);
    assert!(folder.join("assignments.csv").is_file());
}
