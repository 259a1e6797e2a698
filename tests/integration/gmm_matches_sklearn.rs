//! The Gaussian mixture against scikit-learn (`tests/data/gmm_fixture.json`, made by
//! `tests/reference/gmm_fixture.py` on the matrix of `kmeans_fixture.json`):
//! - on scikit-learn's own fitted parameters, our log-likelihood, BIC, AIC and membership
//!   probabilities equal scikit-learn's to 1e-6;
//! - our fit (the pipeline's call and defaults) picks the same k by BIC over 2..8, and its BIC at
//!   each k is within 1 % of scikit-learn's best of 5 initialisations (0.1 % at the chosen k).

use ndarray::{Array2, Array3};
use segmenta::cluster::gmm::{self, GmmOptions, MixtureModel};
use segmenta::job::DiscoveryOptions;
use segmenta::pipeline::DEFAULT_SEED;
use serde_json::Value;

use crate::util;

fn read(name: &str) -> Value {
    let path = util::test_data(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn matrix(value: &Value) -> Array2<f64> {
    let rows = value.as_array().unwrap();
    let d = rows[0].as_array().unwrap().len();
    Array2::from_shape_fn((rows.len(), d), |(i, j)| rows[i][j].as_f64().unwrap())
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

#[test]
fn likelihood_bic_aic_and_probabilities_equal_scikit_learn_on_its_parameters() {
    let x = matrix(&read("kmeans_fixture.json")["x"]);
    let fixture = read("gmm_fixture.json");
    let detail = &fixture["detail"];
    let k = detail["k"].as_u64().unwrap() as usize;
    let d = x.ncols();
    let covariances = detail["covariances"].as_array().unwrap();
    let model = MixtureModel {
        weights: detail["weights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect(),
        means: matrix(&detail["means"]),
        covariances: Array3::from_shape_fn((k, d, d), |(c, i, j)| {
            covariances[c][i][j].as_f64().unwrap()
        }),
    };
    let (ll, bic, aic) = model.information_criteria(x.view()).unwrap();
    let expected = &fixture["scores"][k.to_string()];
    let mean_ll = ll / x.nrows() as f64;
    println!("ours: mean ll {mean_ll}, BIC {bic}, AIC {aic}; scikit-learn: {expected}");
    assert!(rel(mean_ll, expected["mean_log_likelihood"].as_f64().unwrap()) < 1e-6);
    assert!(rel(bic, expected["bic"].as_f64().unwrap()) < 1e-6);
    assert!(rel(aic, expected["aic"].as_f64().unwrap()) < 1e-6);

    let reference = matrix(&detail["predict_proba_first_20"]);
    let (probabilities, _) = model.probabilities(x.slice(ndarray::s![..20, ..])).unwrap();
    let worst = (&probabilities - &reference)
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(worst < 1e-6, "largest probability difference {worst}");
}

#[test]
fn our_fit_chooses_scikit_learns_k_with_a_bic_as_good() {
    let x = matrix(&read("kmeans_fixture.json")["x"]);
    let fixture = read("gmm_fixture.json");
    let defaults = DiscoveryOptions::default();
    let result = gmm::discover(
        x.view(),
        &GmmOptions {
            fixed_k: None,
            k_range: [2, 8],
            n_runs: defaults.gmm_runs,
            sample: defaults.gmm_sample,
            // scikit-learn's default, which the fixture used.
            reg_covar: 1e-6,
            seed: DEFAULT_SEED,
        },
    )
    .unwrap();
    for score in &result.scores {
        let theirs = fixture["scores"][score.k.to_string()]["bic"]
            .as_f64()
            .unwrap();
        let ours = score.bic.unwrap();
        println!(
            "k = {}: BIC ours {ours:.2}, scikit-learn {theirs:.2} ({:+.3} %)",
            score.k,
            100.0 * (ours - theirs) / theirs
        );
        // Within 1 % at every k (k = 3 ends in another local optimum: +0.86 %), and as good at
        // the chosen k.
        let tolerance = if score.k == result.k { 1.001 } else { 1.01 };
        assert!(ours <= theirs * tolerance, "k = {}", score.k);
    }
    assert_eq!(
        result.k as u64,
        fixture["best_k_by_bic"].as_u64().unwrap(),
        "{}",
        result.reason
    );
    // Probabilities are proper, the labels are their argmax, and the components are by size.
    for row in result.probabilities.outer_iter() {
        assert!((row.sum() - 1.0).abs() < 1e-9);
    }
    assert_eq!(result.labels, gmm::most_probable(&result.probabilities));
    let sizes: Vec<usize> = (0..result.k)
        .map(|c| result.labels.iter().filter(|&&l| l == c).count())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
    // Well-separated blobs: almost everyone belongs clearly to one component.
    assert!(result.uncertain_share < 0.05, "{}", result.uncertain_share);
}
