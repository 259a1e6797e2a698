//! Fit on a sample, assign everyone (`[discovery] fit_sample`), at CI size: 4,000 generated
//! customers with `fit_sample = 1000`.
//!
//! - The run completes; every customer is in assignments.csv exactly once; the k-means, DBSCAN
//!   and mixture segment sizes add up to every customer and the k-means revenue shares to 1;
//!   summary.json (`discovery.fit_sample`) and the report say the fit was on a sample; two runs
//!   with the same seed write byte-identical assignments.
//! - The sample's centroids fit every customer nearly as well as a k-means fit on every
//!   customer: their inertia over everyone is within 3 % of the full fit's, in the same
//!   prepared space (the sample's preparation applied to everyone).
//! - A `fit_sample` below the minimum is a job error naming the key.
//!
//! The same inertia comparison at scale, not run in CI: `SEGMENTA_FIT_SAMPLE_JOB=/path/job.toml
//! cargo test --test integration fit_sample::inertia_at_scale -- --ignored --nocapture` (the
//! job's own `fit_sample` is used).

use std::collections::HashSet;
use std::path::Path;

use segmenta::cluster::kmeans;
use segmenta::job::Job;
use segmenta::pipeline::{self, Stopwatch};

use crate::util::{self, DemoJob};

const CUSTOMERS: usize = 4000;

/// The demo job's mapping over 4,000 generated customers, fitted on 1,000 of them.
fn sampled_job(dir: &Path) -> std::path::PathBuf {
    DemoJob::bundled()
        .k_range(2, 6)
        .edit("gmm_sample = 5000", "gmm_sample = 600\nfit_sample = 1000")
        .write_over(&util::population(0..CUSTOMERS, 3), dir)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn sizes_sum(clusters: &serde_json::Value) -> u64 {
    clusters
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["size"].as_u64().unwrap())
        .sum()
}

#[test]
fn a_run_fitted_on_a_sample_assigns_every_customer_once_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let job = sampled_job(&dir.path().join("data"));
    let mut folders = Vec::new();
    for out in ["first", "second"] {
        let run = util::cli(
            dir.path(),
            [
                "run".as_ref(),
                job.as_os_str(),
                "--quiet".as_ref(),
                "--output".as_ref(),
                dir.path().join(out).as_os_str(),
            ],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        folders.push(dir.path().join(out).join("demo/2026-01-01"));
    }
    let assignments = std::fs::read_to_string(folders[0].join("assignments.csv")).unwrap();
    let ids: Vec<&str> = assignments
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids.len(), CUSTOMERS);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), CUSTOMERS);
    assert_eq!(
        assignments,
        std::fs::read_to_string(folders[1].join("assignments.csv")).unwrap(),
        "two runs with the same seed differ"
    );

    let summary = json(&folders[0].join("summary.json"));
    assert_eq!(
        summary["discovery"]["fit_sample"],
        serde_json::json!({"customers_fitted": 1000, "customers_total": CUSTOMERS})
    );
    assert_eq!(summary["customers"], CUSTOMERS);
    assert_eq!(sizes_sum(&summary["clusters"]), CUSTOMERS as u64);
    assert_eq!(sizes_sum(&summary["dbscan_clusters"]), CUSTOMERS as u64);
    assert_eq!(sizes_sum(&summary["gmm"]["clusters"]), CUSTOMERS as u64);
    let revenue_shares: f64 = summary["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["revenue_share"].as_f64().unwrap())
        .sum();
    assert!((revenue_shares - 1.0).abs() < 1e-9, "{revenue_shares}");
    // Segments are numbered by their size over everyone, not over the sample.
    let sizes: Vec<u64> = summary["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["size"].as_u64().unwrap())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");

    let page = std::fs::read_to_string(folders[0].join("index.html")).unwrap();
    assert!(
        page.contains("fitted on a uniform sample of 1,000 of 4,000 customers"),
        "the report does not say the fit was on a sample"
    );
}

/// Inertia over every customer of the run's sample-fitted centroids, and of a k-means fit (same
/// k, restarts and seed) on every customer, both in the space of the run's preparation.
fn inertia_of_sample_and_full_fit(job: &Job) -> (f64, f64) {
    let seed = job.seed.unwrap_or(pipeline::DEFAULT_SEED);
    let mut clock = Stopwatch::new(true);
    let options = util::options(Path::new("unused"));
    let described = pipeline::describe(job, &options, &mut clock).unwrap();
    let (discovery, _) = pipeline::discover(job, &described.features, seed, &mut clock).unwrap();
    assert!(discovery.fit_sample.is_some(), "the job does not sample");
    let everyone = discovery
        .preparation
        .transform(&described.features)
        .unwrap();
    let x = everyone.matrix.view();
    let km = &discovery.kmeans;
    let sampled = segmenta::metrics::inertia(x, &km.labels, km.centroids.view());
    let (_, _, full) = kmeans::fit(x, km.k, job.discovery.n_runs, seed).unwrap();
    (sampled, full)
}

#[test]
fn the_sample_centroids_fit_everyone_nearly_as_well_as_a_full_fit() {
    let dir = tempfile::tempdir().unwrap();
    let job = Job::from_file(&sampled_job(dir.path())).unwrap();
    let (sampled, full) = inertia_of_sample_and_full_fit(&job);
    assert!(
        sampled / full < 1.03,
        "inertia over everyone: sample-fitted {sampled:.1}, fitted on everyone {full:.1}"
    );
}

#[test]
#[ignore = "measures a job given in SEGMENTA_FIT_SAMPLE_JOB (e.g. a million generated customers)"]
fn inertia_at_scale() {
    let path = std::env::var("SEGMENTA_FIT_SAMPLE_JOB").expect("SEGMENTA_FIT_SAMPLE_JOB");
    let job = Job::from_file(Path::new(&path)).unwrap();
    let started = std::time::Instant::now();
    let (sampled, full) = inertia_of_sample_and_full_fit(&job);
    println!(
        "inertia over everyone: sample-fitted {sampled:.1}, fitted on everyone {full:.1}, ratio {:.5} ({:.0} s)",
        sampled / full,
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn a_fit_sample_below_the_minimum_is_a_job_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = util::client_log_job("tiny", "[discovery]\nfit_sample = 50\n");
    std::fs::write(dir.path().join("job.toml"), text).unwrap();
    let err = Job::from_file(&dir.path().join("job.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("fit_sample = 50") && err.contains("at least 100"),
        "{err}"
    );
}
