//! Degenerate inputs give clear messages, never panics: fewer customers than k, identical
//! customers, a single feature, DBSCAN finding nothing but noise, and a k range wider than the
//! data. Every case runs a whole job through `segmenta::run` (the error cases also through the
//! CLI: exit code 1, the message on stderr, and the output root left untouched).
//!
//! The cases: a fixed k above 3 customers is an error naming `[discovery] k`; an automatic range
//! is clipped to 3 and to 20 customers with a warning; 1 customer, 2 customers, 50 identical
//! customers and every feature excluded are clear errors with exit code 1 and no report folder;
//! one feature clusters in one dimension with a full report; DBSCAN with every customer noise
//! completes with no NaN in `summary.json`; and the metrics survive an empty and a single
//! cluster.

use std::path::Path;

use segmenta::job::Job;
use segmenta::RunResult;

use crate::util::{self, client_log_job, options};

/// `n` customers with different purchases: 1–4 orders, different days, times and amounts.
fn varied_transactions(n: usize) -> String {
    let mut csv = String::from("client,when,value\n");
    for c in 0..n {
        for o in 0..(1 + c % 4) {
            csv += &format!(
                "K{c:03},2024-0{}-{:02} {:02}:15,{}.50\n",
                1 + (c + o) % 6,
                1 + (3 * c + 5 * o) % 28,
                8 + (c * 7 + o) % 12,
                10 + 13 * c + 3 * o
            );
        }
    }
    csv
}

/// `n` customers who bought exactly the same things on the same days.
fn identical_transactions(n: usize) -> String {
    let mut csv = String::from("client,when,value\n");
    for c in 0..n {
        csv += &format!("K{c:03},2024-03-05 10:00,25.00\n");
        csv += &format!("K{c:03},2024-05-17 18:30,40.00\n");
    }
    csv
}

/// The job of these edge cases, with DBSCAN on: what it does with degenerate data is tested too.
fn write_job(dir: &Path, transactions: &str, extra: &str) -> Job {
    std::fs::write(dir.join("tx.csv"), transactions).unwrap();
    let extra = if extra.contains("[discovery]\n") {
        extra.replace("[discovery]\n", "[discovery]\ndbscan = true\n")
    } else {
        format!("{extra}\n[discovery]\ndbscan = true\n")
    };
    util::write_job(dir, &client_log_job("edge", &extra))
}

/// Runs the job and expects success; returns the result and the report folder.
fn run_ok(dir: &Path, transactions: &str, extra: &str) -> (RunResult, std::path::PathBuf) {
    let job = write_job(dir, transactions, extra);
    segmenta::run(&job, &options(&dir.join("out"))).unwrap_or_else(|e| panic!("run failed: {e}"))
}

/// Runs the job through the library and the CLI and expects the same error from both: exit
/// code 1, the message on stderr, and no report folder (not even a half-written one).
fn run_err(dir: &Path, transactions: &str, extra: &str) -> String {
    let job = write_job(dir, transactions, extra);
    let err = match segmenta::run(&job, &options(&dir.join("out"))) {
        Ok(_) => panic!("the run should fail"),
        Err(e) => e.to_string(),
    };
    let out = util::cli(dir, ["run", "job.toml", "--output", "cli-out", "--quiet"]);
    let stderr = out.stderr;
    assert_eq!(out.code, 1, "{stderr}");
    assert!(
        stderr.contains(&err),
        "CLI said {stderr:?}, library said {err:?}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    for root in ["out", "cli-out"] {
        assert!(
            !dir.join(root).exists(),
            "an error before the report leaves the output root untouched ({root})"
        );
    }
    err
}

fn summary(folder: &Path) -> (String, serde_json::Value) {
    let text = std::fs::read_to_string(folder.join("summary.json")).unwrap();
    let json = serde_json::from_str(&text).unwrap();
    (text, json)
}

/// Every number in summary.json is finite (serde_json writes a NaN or an infinity as `null`).
fn assert_all_numbers_finite(value: &serde_json::Value, path: &str) {
    match value {
        serde_json::Value::Number(n) => {
            assert!(n.as_f64().is_some_and(f64::is_finite), "{path} = {n}")
        }
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| assert_all_numbers_finite(v, &format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| assert_all_numbers_finite(v, &format!("{path}.{k}"))),
        _ => {}
    }
}

/// Every report file exists and summary.json holds no NaN; the k-means fields the run promised.
fn assert_complete_report(folder: &Path) -> serde_json::Value {
    for file in [
        "index.html",
        "summary.json",
        "assignments.csv",
        "assignments.parquet",
        "model.json",
        "run.log",
        "charts/pca.png",
        "charts/k_selection.png",
        "charts/k_distance.png",
    ] {
        assert!(folder.join(file).is_file(), "{file} missing");
    }
    let (text, json) = summary(folder);
    assert!(!text.contains("NaN"), "{text}");
    assert_all_numbers_finite(&json, "summary");
    // The fields that are always defined are numbers, never a `null` that hides a NaN.
    assert!(json["kmeans"]["inertia"].is_number(), "{}", json["kmeans"]);
    assert!(json["dbscan"]["eps"].is_number(), "{}", json["dbscan"]);
    for key in ["agreement", "agreement_dbscan"] {
        assert!(
            json[key]["ari"].is_number() && json[key]["nmi"].is_number(),
            "{key}"
        );
    }
    for key in ["clusters", "dbscan_clusters"] {
        for c in json[key].as_array().unwrap() {
            for field in ["share", "revenue_share", "label_share"] {
                assert!(c[field].is_number(), "{key}: {c}");
            }
        }
    }
    json
}

fn warnings(json: &serde_json::Value) -> Vec<String> {
    json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_fixed_k_above_the_customer_count_names_the_key_and_the_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let err = run_err(dir.path(), &varied_transactions(3), "[discovery]\nk = 5\n");
    assert!(
        err.contains("[discovery] k = 5")
            && err.contains("3 customers")
            && err.contains("at most 2"),
        "{err}"
    );
}

#[test]
fn an_automatic_range_is_clipped_to_three_customers_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (result, folder) = run_ok(
        dir.path(),
        &varied_transactions(3),
        "[discovery]\nk = \"auto\"\nk_range = [2, 10]\n",
    );
    assert_eq!(result.kmeans.k, 2);
    assert_eq!(
        result.kmeans.scores.iter().map(|s| s.k).collect::<Vec<_>>(),
        vec![2]
    );
    let json = assert_complete_report(&folder);
    let w = warnings(&json);
    assert!(
        w.iter().any(|w| w.contains("k_range = [2, 10]")
            && w.contains("3 customers")
            && w.contains("k = 2 only")),
        "{w:?}"
    );
    // DBSCAN ran on three customers too; its default min_points (4) exceeds them: all noise.
    assert_eq!(json["dbscan"]["noise"].as_u64(), Some(3));
}

#[test]
fn a_range_wider_than_the_data_is_clipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (result, folder) = run_ok(
        dir.path(),
        &varied_transactions(20),
        "[discovery]\nk_range = [2, 50]\nn_runs = 2\n",
    );
    let ks: Vec<usize> = result.kmeans.scores.iter().map(|s| s.k).collect();
    assert_eq!(ks, (2..=19).collect::<Vec<_>>());
    assert!((2..=19).contains(&result.kmeans.k));
    let json = assert_complete_report(&folder);
    let w = warnings(&json);
    assert!(
        w.iter()
            .any(|w| w.contains("k_range = [2, 50] was clipped to [2, 19]")
                && w.contains("20 customers")),
        "{w:?}"
    );
    // Singleton clusters at large k: their scores are numbers or absent, never NaN.
    for s in json["kmeans"]["k_scores"].as_array().unwrap() {
        assert!(s["inertia"].as_f64().is_some(), "{s}");
    }
}

#[test]
fn all_customers_identical_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = run_err(dir.path(), &identical_transactions(50), "");
    assert!(
        err.contains("all 50 customers have identical features; there is nothing to cluster"),
        "{err}"
    );
    // The same with a fixed k: the cause is the data, not k.
    let dir = tempfile::tempdir().unwrap();
    let err = run_err(
        dir.path(),
        &identical_transactions(50),
        "[discovery]\nk = 3\n",
    );
    assert!(
        err.contains("all 50 customers have identical features"),
        "{err}"
    );
}

#[test]
fn a_single_customer_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = run_err(dir.path(), &varied_transactions(1), "");
    assert!(
        err.contains("only 1 customer") && err.contains("nothing to cluster"),
        "{err}"
    );
}

#[test]
fn two_customers_cannot_make_two_segments() {
    let dir = tempfile::tempdir().unwrap();
    let err = run_err(dir.path(), &varied_transactions(2), "");
    assert!(
        err.contains("only 2 customers") && err.contains("at least 3"),
        "{err}"
    );
}

#[test]
fn every_feature_excluded_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = run_ok(dir.path(), &varied_transactions(30), "");
    let all: Vec<String> = first
        .features
        .features
        .iter()
        .map(|f| format!("{:?}", f.name))
        .collect();
    std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    let err = run_err(
        dir.path(),
        &varied_transactions(30),
        &format!("[features]\nexclude = [{}]\n", all.join(", ")),
    );
    assert!(
        err.contains("no usable feature is left for clustering") && err.contains("[features]"),
        "{err}"
    );
}

#[test]
fn one_feature_clusters_in_one_dimension() {
    let dir = tempfile::tempdir().unwrap();
    let data = varied_transactions(40);
    let (first, _) = run_ok(dir.path(), &data, "");
    let others: Vec<String> = first
        .features
        .features
        .iter()
        .filter(|f| f.name != "monetary")
        .map(|f| format!("{:?}", f.name))
        .collect();
    std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    let (result, folder) = run_ok(
        dir.path(),
        &data,
        &format!(
            "[features]\nexclude = [{}]\n[discovery]\nk_range = [2, 4]\n",
            others.join(", ")
        ),
    );
    assert_eq!(result.matrix.names, vec!["monetary".to_string()]);
    assert_eq!(result.matrix.matrix.ncols(), 1);
    assert!((2..=4).contains(&result.kmeans.k));
    assert!(result.kmeans.chosen.silhouette.is_some());
    // k-means in 1-D: every cluster is an interval of spend.
    let spend = &result.features.facts.monetary;
    let mut by_spend: Vec<usize> = (0..spend.len()).collect();
    by_spend.sort_by(|&a, &b| spend[a].total_cmp(&spend[b]));
    let changes = by_spend
        .windows(2)
        .filter(|w| result.kmeans.labels[w[0]] != result.kmeans.labels[w[1]])
        .count();
    assert_eq!(changes, result.kmeans.k - 1, "1-D clusters are intervals");
    assert_eq!(result.dbscan.as_ref().unwrap().labels.len(), 40);
    let json = assert_complete_report(&folder);
    assert_eq!(json["features"], serde_json::json!(["monetary"]));
    let html = std::fs::read_to_string(folder.join("index.html")).unwrap();
    assert!(
        html.contains("one feature"),
        "the map explains its single axis"
    );
}

#[test]
fn dbscan_is_opt_in_and_the_report_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tx.csv"), varied_transactions(30)).unwrap();
    let job = util::write_job(dir.path(), &client_log_job("edge", "[discovery]\nk = 3\n"));
    let (result, folder) = segmenta::run(&job, &options(&dir.path().join("out"))).unwrap();
    assert!(result.dbscan.is_none() && result.dbscan_labels.is_none());
    let (_, json) = summary(&folder);
    assert_eq!(json["dbscan"], serde_json::Value::Null);
    assert_eq!(json["dbscan_clusters"], serde_json::json!([]));
    let assignments = std::fs::read_to_string(folder.join("assignments.csv")).unwrap();
    assert!(!assignments.lines().next().unwrap().contains("dbscan"));
    assert!(!folder.join("charts/k_distance.png").exists());
    let html = std::fs::read_to_string(folder.join("index.html")).unwrap();
    assert!(html.contains("DBSCAN was not run") && html.contains("dbscan = true"));
    // Asking for it by its settings turns it on; saying no to a DBSCAN primary is an error.
    let job = util::write_job(
        dir.path(),
        &client_log_job("edge", "[discovery]\ndbscan_min_points = 4\n"),
    );
    assert!(job.runs_dbscan());
    let text = format!(
        "primary = \"dbscan\"\n{}",
        client_log_job("edge", "[discovery]\ndbscan = false\n")
    );
    std::fs::write(dir.path().join("job.toml"), text).unwrap();
    let err = segmenta::job::Job::from_file(&dir.path().join("job.toml")).unwrap_err();
    assert!(err.to_string().contains("dbscan = false"), "{err}");
}

#[test]
fn dbscan_with_every_customer_noise_completes_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (result, folder) = run_ok(
        dir.path(),
        &varied_transactions(20),
        "[discovery]\nk_range = [2, 4]\ndbscan_eps = 0.000001\n",
    );
    let dbscan = result.dbscan.as_ref().unwrap();
    assert_eq!(dbscan.clusters, 0);
    assert_eq!(dbscan.noise, 20);
    assert!(dbscan.labels.iter().all(Option::is_none));
    let json = assert_complete_report(&folder);
    assert_eq!(json["dbscan"]["clusters"].as_u64(), Some(0));
    assert_eq!(json["dbscan"]["noise"].as_u64(), Some(20));
    assert_eq!(json["dbscan"]["silhouette"], serde_json::Value::Null);
    let clusters = json["dbscan_clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 1);
    assert_eq!(clusters[0]["name"], "Outliers");
    assert_eq!(clusters[0]["size"].as_u64(), Some(20));
    let w = warnings(&json);
    assert!(
        w.iter()
            .any(|w| w.contains("all 20 customers are outliers") && w.contains("dbscan_eps")),
        "{w:?}"
    );
    let html = std::fs::read_to_string(folder.join("index.html")).unwrap();
    assert!(
        html.contains("all 20 customers are outliers"),
        "report says so"
    );
    let csv = std::fs::read_to_string(folder.join("assignments.csv")).unwrap();
    assert!(csv.lines().skip(1).all(|l| l.contains("Outliers")));
}

#[test]
fn metrics_survive_empty_and_single_clusters() {
    use ndarray::array;
    use segmenta::metrics;
    let x = array![[0.0], [0.1], [5.0], [5.2]];
    // k = 3 where cluster 1 came out empty: the two real clusters are scored.
    let labels = [0, 0, 2, 2];
    let centroids = array![[0.05], [9.0], [5.1]];
    assert!(metrics::inertia(x.view(), &labels, centroids.view()).is_finite());
    assert!(metrics::silhouette(x.view(), &labels).is_some());
    assert!(metrics::calinski_harabasz(x.view(), &labels).is_some());
    assert!(metrics::davies_bouldin(x.view(), &labels).is_some());
    // A single cluster: undefined, so absent.
    let one = [0, 0, 0, 0];
    assert_eq!(metrics::silhouette(x.view(), &one), None);
    assert_eq!(metrics::calinski_harabasz(x.view(), &one), None);
    assert_eq!(metrics::davies_bouldin(x.view(), &one), None);
    assert_eq!(
        metrics::silhouette_sampled(x.view(), &one, 2, 7).value,
        None
    );
    assert!(metrics::adjusted_rand_index(&one, &labels).is_finite());
    assert!(metrics::normalized_mutual_info(&one, &labels).is_finite());
    assert!(metrics::adjusted_mutual_info(&one, &one).is_finite());
}
