//! Criterion benchmarks of the stages that grow with the data: loading, per-customer
//! aggregation, the fitted preparation, one k-means fit, automatic k, the sampled silhouette and
//! DBSCAN, on a generated data set run through the scale job (`benches/scale.toml`).
//!
//! `cargo bench --bench stages` uses 20,000 customers; `SEGMENTA_BENCH_CUSTOMERS=100000` sets
//! another size. Whole-job figures against pandas + scikit-learn come from `benches/scale.sh`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use segmenta::cluster::{dbscan, kmeans, DbscanOptions, KmeansOptions};
use segmenta::features::{self, Preparation};
use segmenta::generate::{generate_to, GenerateOptions};
use segmenta::job::Job;
use segmenta::{load, metrics};

const SEED: u64 = 42;

fn customers() -> usize {
    std::env::var("SEGMENTA_BENCH_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// Generated tables and the scale job beside them, in a folder that lives as long as the bench.
fn workspace(customers: usize) -> (tempfile::TempDir, Job) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let options = GenerateOptions { customers, seed: 7 };
    generate_to(&options, dir.path(), "parquet").expect("generated tables");
    let job_path = dir.path().join("scale.toml");
    std::fs::write(&job_path, include_str!("scale.toml")).expect("the job file");
    let job = Job::from_file(&job_path).expect("the scale job parses");
    (dir, job)
}

fn stages(c: &mut Criterion) {
    let n = customers();
    let (_dir, job) = workspace(n);
    let inputs = load::load(&job).expect("inputs load");
    let as_of = features::default_as_of(&inputs).expect("transactions give an as-of date");
    let table = features::build(&inputs, as_of, &job.features).expect("features");
    let (preparation, _) = Preparation::fit(&table, &job.features).expect("preparation");
    let matrix = preparation.transform(&table).expect("matrix");
    let x = matrix.matrix.view();
    let k = job.discovery.k.fixed().unwrap_or(6);
    let (_, labels, _) = kmeans::fit(x, k, job.discovery.n_runs, SEED).expect("k-means");

    let mut group = c.benchmark_group("stages");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    let id = |name: &str| BenchmarkId::new(name, n);
    group.bench_function(id("load"), |b| b.iter(|| load::load(black_box(&job))));
    group.bench_function(id("aggregate"), |b| {
        b.iter(|| features::build(black_box(&inputs), as_of, &job.features))
    });
    group.bench_function(id("prepare"), |b| {
        b.iter(|| {
            let (p, _) = Preparation::fit(black_box(&table), &job.features).expect("fit");
            p.transform(&table)
        })
    });
    group.bench_function(id("kmeans_one_fit"), |b| {
        b.iter(|| kmeans::fit(black_box(x), k, 1, SEED))
    });
    group.bench_function(id("kmeans_job_fit"), |b| {
        b.iter(|| kmeans::fit(black_box(x), k, job.discovery.n_runs, SEED))
    });
    group.bench_function(id("automatic_k_2_to_10"), |b| {
        b.iter(|| {
            kmeans::discover(
                black_box(x),
                &KmeansOptions {
                    fixed_k: None,
                    k_range: [2, 10],
                    n_runs: job.discovery.n_runs,
                    silhouette_sample: job.discovery.silhouette_sample,
                    seed: SEED,
                },
            )
        })
    });
    group.bench_function(id("silhouette_sample"), |b| {
        b.iter(|| {
            metrics::silhouette_sampled(
                black_box(x),
                &labels,
                job.discovery.silhouette_sample,
                SEED,
            )
        })
    });
    group.bench_function(id("dbscan"), |b| {
        b.iter(|| {
            dbscan::discover(
                black_box(x),
                &DbscanOptions {
                    min_points: job.discovery.dbscan_min_points,
                    eps: None,
                    sample: job.discovery.dbscan_sample,
                    silhouette_sample: job.discovery.silhouette_sample,
                    seed: SEED,
                },
            )
        })
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
