//! Automatic k (docs/methods.md, "Choosing k") finds the number of groups in seeded data with a
//! known number of well-separated Gaussian blobs of unequal sizes and spreads — 4 and 6 blobs,
//! exactly, over the default range [2, 10] — called as the pipeline calls it; and on the bundled
//! demo data `summary.json` records the chosen k (`kmeans.k`) and a reason (`kmeans.reason`)
//! that names it.

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256Plus;
use segmenta::cluster::kmeans::{self, KmeansOptions};
use segmenta::job::DiscoveryOptions;
use segmenta::pipeline::DEFAULT_SEED;

use crate::util;

/// `sizes.len()` blobs in 6 dimensions: centre `b` is 12 along axis `b` plus a seeded offset of
/// up to ±1 in every coordinate (centres ≥ 14 apart), spreads from 0.6 to 1.5, rows shuffled.
fn blobs(sizes: &[usize], spreads: &[f64], seed: u64) -> Array2<f64> {
    const D: usize = 6;
    let mut rng = Xoshiro256Plus::seed_from_u64(seed);
    let mut rows: Vec<[f64; D]> = Vec::new();
    for (b, (&size, &spread)) in sizes.iter().zip(spreads).enumerate() {
        let mut centre = [0.0; D];
        for (j, c) in centre.iter_mut().enumerate() {
            *c = if j == b { 12.0 } else { 0.0 } + rng.gen_range(-1.0..1.0);
        }
        for _ in 0..size {
            let mut row = centre;
            for v in row.iter_mut() {
                *v += spread * rng.sample::<f64, _>(StandardNormal);
            }
            rows.push(row);
        }
    }
    // Fisher–Yates, so rows are not sorted by blob.
    for i in (1..rows.len()).rev() {
        rows.swap(i, rng.gen_range(0..=i));
    }
    Array2::from_shape_fn((rows.len(), D), |(i, j)| rows[i][j])
}

fn automatic_k(x: &Array2<f64>) -> kmeans::KmeansResult {
    let discovery = DiscoveryOptions::default();
    assert_eq!(discovery.k_range, [2, 10]);
    kmeans::discover(
        x.view(),
        &KmeansOptions {
            fixed_k: discovery.k.fixed(),
            k_range: discovery.k_range,
            n_runs: discovery.n_runs,
            silhouette_sample: discovery.silhouette_sample,
            seed: DEFAULT_SEED,
        },
    )
    .unwrap()
}

fn table(result: &kmeans::KmeansResult) -> String {
    let mut out = format!("chosen k = {}: {}\n", result.k, result.reason);
    for s in &result.scores {
        out += &format!(
            "  k = {:2}  silhouette {:.4}  CH {:10.1}  DB {:.4}  inertia {:.1}\n",
            s.k,
            s.silhouette.unwrap_or(f64::NAN),
            s.calinski_harabasz.unwrap_or(f64::NAN),
            s.davies_bouldin.unwrap_or(f64::NAN),
            s.inertia
        );
    }
    out
}

fn check(sizes: &[usize], spreads: &[f64], seed: u64) {
    let x = blobs(sizes, spreads, seed);
    let result = automatic_k(&x);
    let table = table(&result);
    println!(
        "{} blobs {sizes:?}, spreads {spreads:?}:\n{table}",
        sizes.len()
    );
    assert_eq!(result.k, sizes.len(), "{table}");
    // The clusters are the blobs: sizes (largest first) equal the blob sizes.
    let mut found = vec![0usize; result.k];
    result.labels.iter().for_each(|&l| found[l] += 1);
    let mut truth = sizes.to_vec();
    truth.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(found, truth, "{table}");
}

#[test]
fn automatic_k_finds_four_well_separated_groups() {
    check(&[500, 320, 200, 120], &[1.5, 0.6, 1.0, 1.2], 4);
}

#[test]
fn automatic_k_finds_six_well_separated_groups() {
    check(
        &[450, 350, 260, 200, 150, 100],
        &[0.8, 1.5, 0.6, 1.2, 1.0, 1.4],
        6,
    );
}

#[test]
fn demo_summary_records_the_chosen_k_and_why() {
    let job = util::demo_job();
    let root = tempfile::tempdir().unwrap();
    let (_, report) = segmenta::run(&job, &util::options(root.path())).unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();
    let k = summary["kmeans"]["k"]
        .as_u64()
        .expect("summary.json: kmeans.k");
    let reason = summary["kmeans"]["reason"]
        .as_str()
        .expect("summary.json: kmeans.reason");
    println!("demo: k = {k}; {reason}");
    let [lo, hi] = job.discovery.k_range;
    assert!((lo as u64..=hi as u64).contains(&k), "k = {k}");
    assert!(
        reason.starts_with(&format!("k = {k} ")),
        "the reason does not name k = {k}: {reason}"
    );
    let scores = summary["kmeans"]["k_scores"].as_array().unwrap();
    assert!(
        scores.iter().any(|s| s["k"].as_u64() == Some(k)),
        "k = {k} is not in k_scores"
    );
}
