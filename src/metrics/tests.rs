//! Tests of the metrics against scikit-learn (tests/data/metrics_fixture.json), hand-checked
//! values, and the tiled silhouette kernel against a naive one.

use super::agreement::ln_gamma;
use super::silhouette::{coefficient, silhouette_scores, silhouette_scores_capped, Packed};
use super::*;
use ndarray::Array2;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use serde::Deserialize;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/metrics_fixture.json"
);

#[derive(Deserialize)]
struct Fixture {
    main: MainCase,
    noncontiguous: NonContiguousCase,
    singleton: SingletonCase,
    agreement: Vec<AgreementCase>,
}

#[derive(Deserialize)]
struct MainCase {
    x: Vec<Vec<f64>>,
    labels: Vec<usize>,
    centroids: Vec<Vec<f64>>,
    truth: Vec<usize>,
    inertia_numpy: f64,
    inertia_sklearn: f64,
    silhouette: f64,
    calinski_harabasz: f64,
    davies_bouldin: f64,
    ari: f64,
    nmi: f64,
    ami: f64,
}

#[derive(Deserialize)]
struct NonContiguousCase {
    labels: Vec<usize>,
    truth: Vec<usize>,
    centroids: Vec<Vec<f64>>,
    inertia_sklearn: f64,
    silhouette: f64,
    calinski_harabasz: f64,
    davies_bouldin: f64,
    ari: f64,
    nmi: f64,
    ami: f64,
}

#[derive(Deserialize)]
struct SingletonCase {
    x: Vec<Vec<f64>>,
    labels: Vec<usize>,
    silhouette_samples: Vec<f64>,
    silhouette: f64,
    calinski_harabasz: f64,
    davies_bouldin: f64,
}

#[derive(Deserialize)]
struct AgreementCase {
    name: String,
    a: Vec<usize>,
    b: Vec<usize>,
    ari: f64,
    nmi: f64,
    ami: f64,
}

fn fixture() -> Fixture {
    let text = std::fs::read_to_string(FIXTURE).expect("read metrics fixture");
    serde_json::from_str(&text).expect("parse metrics fixture")
}

fn matrix(rows: &[Vec<f64>]) -> Array2<f64> {
    let d = rows.first().map_or(0, Vec::len);
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    Array2::from_shape_vec((rows.len(), d), flat).expect("rectangular matrix")
}

/// Absolute 1e-6 for values of order 1, relative 1e-6 for large ones.
#[track_caller]
fn assert_close(what: &str, got: f64, want: f64) {
    let tol = 1e-6 * want.abs().max(1.0);
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:.15}, sklearn {want:.15}, diff {:e}",
        (got - want).abs()
    );
}

#[test]
fn main_case_matches_sklearn() {
    let f = fixture().main;
    let x = matrix(&f.x);
    let c = matrix(&f.centroids);
    let inertia_value = inertia(x.view(), &f.labels, c.view());
    assert_close("inertia vs numpy", inertia_value, f.inertia_numpy);
    assert_close(
        "inertia vs KMeans.inertia_",
        inertia_value,
        f.inertia_sklearn,
    );
    let sil = silhouette(x.view(), &f.labels).expect("silhouette defined");
    assert_close("silhouette", sil, f.silhouette);
    let ch = calinski_harabasz(x.view(), &f.labels).expect("CH defined");
    assert_close("calinski_harabasz", ch, f.calinski_harabasz);
    let db = davies_bouldin(x.view(), &f.labels).expect("DB defined");
    assert_close("davies_bouldin", db, f.davies_bouldin);
    assert_close("ari", adjusted_rand_index(&f.truth, &f.labels), f.ari);
    assert_close("nmi", normalized_mutual_info(&f.truth, &f.labels), f.nmi);
    assert_close("ami", adjusted_mutual_info(&f.truth, &f.labels), f.ami);
}

#[test]
fn noncontiguous_ids_match_sklearn() {
    let fx = fixture();
    let f = fx.noncontiguous;
    let x = matrix(&fx.main.x);
    let sil = silhouette(x.view(), &f.labels).expect("silhouette defined");
    assert_close("silhouette", sil, f.silhouette);
    let ch = calinski_harabasz(x.view(), &f.labels).expect("CH defined");
    assert_close("calinski_harabasz", ch, f.calinski_harabasz);
    let db = davies_bouldin(x.view(), &f.labels).expect("DB defined");
    assert_close("davies_bouldin", db, f.davies_bouldin);
    assert_close("ari", adjusted_rand_index(&f.truth, &f.labels), f.ari);
    assert_close("nmi", normalized_mutual_info(&f.truth, &f.labels), f.nmi);
    assert_close("ami", adjusted_mutual_info(&f.truth, &f.labels), f.ami);
    // Inertia takes centroid rows; map the sparse ids back to them in id order.
    let ids = [2, 3, 7, 10, 42];
    let rows: Vec<usize> = f
        .labels
        .iter()
        .map(|l| ids.iter().position(|i| i == l).expect("known id"))
        .collect();
    let c = matrix(&f.centroids);
    assert_close(
        "inertia",
        inertia(x.view(), &rows, c.view()),
        f.inertia_sklearn,
    );
}

#[test]
fn singleton_cluster_matches_sklearn() {
    let f = fixture().singleton;
    let x = matrix(&f.x);
    let enc = Encoded::new(&f.labels);
    let packed = Packed::new(x.view(), &enc);
    let sorted = silhouette_scores(x.view(), &enc);
    // Scores come back in cluster-sorted order; map sklearn's per-sample values onto it.
    let mut order: Vec<usize> = (0..f.labels.len()).collect();
    order.sort_by_key(|&i| enc.codes[i]);
    for (p, &i) in order.iter().enumerate() {
        assert_eq!(packed.code[p], enc.codes[i]);
        assert_close(&format!("sample {i}"), sorted[p], f.silhouette_samples[i]);
    }
    let singleton = f
        .labels
        .iter()
        .position(|&l| l == 5)
        .expect("singleton id 5");
    assert_eq!(f.silhouette_samples[singleton], 0.0);
    let sil = silhouette(x.view(), &f.labels).expect("silhouette defined");
    assert_close("silhouette", sil, f.silhouette);
    let ch = calinski_harabasz(x.view(), &f.labels).expect("CH defined");
    assert_close("calinski_harabasz", ch, f.calinski_harabasz);
    let db = davies_bouldin(x.view(), &f.labels).expect("DB defined");
    assert_close("davies_bouldin", db, f.davies_bouldin);
}

#[test]
fn agreement_cases_match_sklearn() {
    for case in fixture().agreement {
        let (a, b) = (&case.a, &case.b);
        assert_close(
            &format!("{} ari", case.name),
            adjusted_rand_index(a, b),
            case.ari,
        );
        assert_close(
            &format!("{} nmi", case.name),
            normalized_mutual_info(a, b),
            case.nmi,
        );
        assert_close(
            &format!("{} ami", case.name),
            adjusted_mutual_info(a, b),
            case.ami,
        );
    }
}

#[test]
fn identical_and_permuted_labelings_score_one() {
    let a = [0, 0, 1, 1, 2, 2, 2];
    let permuted = [7, 7, 3, 3, 11, 11, 11];
    for b in [&a, &permuted] {
        assert_eq!(adjusted_rand_index(&a, b), 1.0);
        assert_close("nmi", normalized_mutual_info(&a, b), 1.0);
        assert_close("ami", adjusted_mutual_info(&a, b), 1.0);
    }
    // sklearn's special cases.
    assert_eq!(adjusted_rand_index(&[], &[]), 1.0);
    assert_eq!(normalized_mutual_info(&[], &[]), 1.0);
    assert_eq!(adjusted_mutual_info(&[], &[]), 1.0);
    assert_eq!(adjusted_rand_index(&[3, 3, 3], &[1, 1, 1]), 1.0);
    assert_eq!(normalized_mutual_info(&[3, 3, 3], &[1, 1, 1]), 1.0);
    assert_eq!(adjusted_mutual_info(&[3, 3, 3], &[1, 1, 1]), 1.0);
    assert_eq!(adjusted_rand_index(&[0, 0, 1], &[2, 2, 2]), 0.0);
    assert_eq!(normalized_mutual_info(&[0, 0, 1], &[2, 2, 2]), 0.0);
    assert_eq!(adjusted_mutual_info(&[0, 0, 1], &[2, 2, 2]), 0.0);
    assert!(adjusted_rand_index(&[0, 1], &[0]).is_nan());
}

#[test]
fn hand_checked_values() {
    // Pairs: a = {0,1}{2,3}, b = {0,1,2}{3}. Agreements: same/same (0,1); diff/diff
    // (0,3),(1,3); diff/same (0,2),(1,2); same/diff (2,3). tp=1, tn=2, fp=2, fn=1 →
    // ARI = 2(1·2 − 1·2) / ((1+1)(1+2) + (1+2)(2+2)) = 0.
    assert_eq!(adjusted_rand_index(&[0, 0, 1, 1], &[0, 0, 0, 1]), 0.0);
    // Two points per cluster on a line: {0, 1} and {10, 11}.
    let x = ndarray::array![[0.0], [1.0], [10.0], [11.0]];
    let labels = [0, 0, 1, 1];
    // a = 1 for every sample; b = 9.5, 10.5, 10.5, 9.5 (mean distance to the other pair).
    let want = ((8.5 / 9.5) + (9.5 / 10.5)) / 2.0;
    assert_close(
        "silhouette",
        silhouette(x.view(), &labels).unwrap_or(f64::NAN),
        want,
    );
    let c = ndarray::array![[0.5], [10.5]];
    assert_close("inertia", inertia(x.view(), &labels, c.view()), 1.0);
    // CH = between (2·2·5²=100) · (n−k=2) / (within 1 · (k−1=1)) = 200.
    assert_close(
        "ch",
        calinski_harabasz(x.view(), &labels).unwrap_or(f64::NAN),
        200.0,
    );
    // DB = (0.5 + 0.5) / 10 = 0.1.
    assert_close(
        "db",
        davies_bouldin(x.view(), &labels).unwrap_or(f64::NAN),
        0.1,
    );
    assert_close("lgamma(11)", ln_gamma(11.0), 15.104_412_573_075_514);
    assert_close("lgamma(0.5)", ln_gamma(0.5), 0.572_364_942_924_700_4);
    assert_close("lgamma(1001)", ln_gamma(1001.0), 5_912.128_178_488_163);
}

#[test]
fn undefined_cases_return_none_or_nan() {
    let x = ndarray::array![[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]];
    let empty = Array2::<f64>::zeros((0, 2));
    assert_eq!(silhouette(x.view(), &[0, 0, 0]), None);
    assert_eq!(silhouette(x.view(), &[0, 1, 2]), None);
    assert_eq!(silhouette(x.view(), &[0, 1]), None);
    assert_eq!(silhouette(empty.view(), &[]), None);
    assert_eq!(calinski_harabasz(empty.view(), &[]), None);
    assert_eq!(davies_bouldin(x.view(), &[4, 4, 4]), None);
    assert_eq!(davies_bouldin(empty.view(), &[]), None);
    let nan = ndarray::array![[0.0], [f64::NAN], [1.0]];
    assert_eq!(silhouette(nan.view(), &[0, 0, 1]), None);
    let no_columns = Array2::<f64>::zeros((4, 0));
    assert_eq!(silhouette(no_columns.view(), &[0, 0, 1, 1]), None);
    assert_eq!(
        inertia(empty.view(), &[], Array2::<f64>::zeros((0, 2)).view()),
        0.0
    );
    let c = ndarray::array![[0.0, 0.0]];
    assert!(inertia(x.view(), &[0, 0, 1], c.view()).is_nan());
    let s = silhouette_sampled(empty.view(), &[], 10, 1);
    assert_eq!((s.value, s.sample_size), (None, 0));
}

/// Straightforward O(n²) silhouette for cross-checking the tiled kernel.
fn naive_silhouette(x: ArrayView2<f64>, labels: &[usize]) -> f64 {
    let n = x.nrows();
    let mut ids = labels.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut total = 0.0;
    for i in 0..n {
        let mut sums = vec![0.0; ids.len()];
        let mut counts = vec![0usize; ids.len()];
        for (row_j, label_j) in x.rows().into_iter().zip(labels) {
            let c = ids.binary_search(label_j).unwrap_or_default();
            sums[c] += squared_distance(x.row(i), row_j).sqrt();
            counts[c] += 1;
        }
        let own = ids.binary_search(&labels[i]).unwrap_or_default();
        total += coefficient(&sums, &counts, own);
    }
    total / n as f64
}

fn random_problem(n: usize, d: usize, k: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
    use rand::Rng;
    let mut rng = Xoshiro256Plus::seed_from_u64(seed);
    let x = Array2::from_shape_fn((n, d), |_| rng.gen_range(-3.0..3.0));
    let labels = (0..n).map(|_| rng.gen_range(0..k) * 5 + 1).collect();
    (x, labels)
}

#[test]
fn tiled_silhouette_matches_naive() {
    // Odd sizes exercise tile padding; large k gives many tiny (and singleton) clusters;
    // n = 700 crosses the threading threshold.
    for &(n, d, k, seed) in &[
        (5, 1, 2, 1),
        (13, 3, 3, 2),
        (37, 7, 30, 3),
        (101, 5, 4, 4),
        (700, 6, 5, 5),
    ] {
        let (x, labels) = random_problem(n, d, k, seed);
        let want = naive_silhouette(x.view(), &labels);
        let got = silhouette(x.view(), &labels);
        assert_close(&format!("n={n} d={d} k={k}"), got.unwrap_or(f64::NAN), want);
        // The buffer-free fallback must agree too.
        let enc = Encoded::new(&labels);
        let scores = silhouette_scores_capped(x.view(), &enc, 0);
        let fallback = scores.iter().sum::<f64>() / n as f64;
        assert_close(&format!("fallback n={n} d={d} k={k}"), fallback, want);
    }
    // A non-contiguous (transposed) view must give the same answer.
    let (x, labels) = random_problem(40, 3, 3, 9);
    let xt = x.t().to_owned();
    let view = xt.t();
    assert_close(
        "strided view",
        silhouette(view, &labels).unwrap_or(f64::NAN),
        naive_silhouette(x.view(), &labels),
    );
}

#[test]
fn sampled_silhouette() {
    let (x, labels) = random_problem(300, 4, 3, 21);
    let exact = silhouette(x.view(), &labels);
    for size in [300, 1000] {
        let s = silhouette_sampled(x.view(), &labels, size, 5);
        assert_eq!(s.sample_size, 300);
        assert_eq!(s.value, exact);
    }
    let s1 = silhouette_sampled(x.view(), &labels, 120, 42);
    let s2 = silhouette_sampled(x.view(), &labels, 120, 42);
    assert_eq!(s1, s2);
    assert_eq!(s1.sample_size, 120);
    assert!(s1.value.is_some());
    // The sample is exactly the rows `index::sample` draws from the seeded generator.
    let mut rng = Xoshiro256Plus::seed_from_u64(42);
    let idx = rand::seq::index::sample(&mut rng, 300, 120).into_vec();
    let sub_x = x.select(ndarray::Axis(0), &idx);
    let sub_labels: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
    assert_close(
        "sampled rows",
        s1.value.unwrap_or(f64::NAN),
        naive_silhouette(sub_x.view(), &sub_labels),
    );
    let other = silhouette_sampled(x.view(), &labels, 120, 43);
    assert_ne!(s1.value, other.value);
}
