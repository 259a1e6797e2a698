//! The large-n DBSCAN path (DBSCAN on a seeded sample, the rest joining the cluster of their
//! nearest clustered sample customer within eps) against exact DBSCAN on all customers, on the
//! bundled data where exact DBSCAN is feasible. The figures are in docs/methods.md, "DBSCAN".

use segmenta::cluster::dbscan::{discover, DbscanOptions};
use segmenta::features::Preparation;

use crate::util;

fn options(sample: usize) -> DbscanOptions {
    DbscanOptions {
        min_points: None,
        eps: None,
        sample,
        silhouette_sample: 2000,
        seed: 42,
    }
}

#[test]
fn sampled_dbscan_agrees_with_exact_dbscan_on_the_bundled_data() {
    let job = util::demo_job();
    let inputs = segmenta::load::load(&job).unwrap();
    let as_of = segmenta::features::default_as_of(&inputs).unwrap();
    let table = segmenta::features::build(&inputs, as_of, &job.features).unwrap();
    let (preparation, _) = Preparation::fit(&table, &job.features).unwrap();
    let x = preparation.transform(&table).unwrap().matrix;

    let exact = discover(x.view(), &options(x.nrows())).unwrap();
    let sampled = discover(x.view(), &options(5000)).unwrap();
    let as_ids = |labels: &[Option<usize>]| -> Vec<usize> {
        labels.iter().map(|l| l.map_or(usize::MAX, |c| c)).collect()
    };
    let ari =
        segmenta::metrics::adjusted_rand_index(&as_ids(&exact.labels), &as_ids(&sampled.labels));
    let same_outlier_call = exact
        .labels
        .iter()
        .zip(&sampled.labels)
        .filter(|(a, b)| a.is_none() == b.is_none())
        .count() as f64
        / x.nrows() as f64;
    eprintln!(
        "exact: eps {:.3}, min_points {}, {} clusters, {} outliers; sample of 5000: eps {:.3}, min_points {}, {} clusters, {} outliers; ARI {ari:.3}, same outlier call {:.4}",
        exact.eps, exact.min_points, exact.clusters, exact.noise,
        sampled.eps, sampled.min_points, sampled.clusters, sampled.noise,
        same_outlier_call
    );
    assert!(ari >= 0.8, "ARI between sampled and exact DBSCAN {ari}");
    assert!(
        same_outlier_call >= 0.97,
        "outlier call agrees for {same_outlier_call}"
    );
}
