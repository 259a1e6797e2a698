//! BG/NBD and Gamma-Gamma against the Python `lifetimes` package 0.11.3 on the real CDNOW log
//! (`tests/data/lifetime_fixture.json` and `lifetime_cdnow.csv`, made by
//! `tests/reference/lifetime_fixture.py`): all 23,570 customers, weekly, as of 1997-10-01 (the
//! paper's 39-week calibration period). The parameters equal lifetimes' to 1e-4 relative and the
//! log-likelihoods to 1e-6; given lifetimes' parameters every customer's P(alive), expected
//! purchases, expected order value and CLV equal its values to 1e-6; the backtest over weeks
//! 40–78 counts the same purchases and predicts the same; in days the same model is found with
//! α scaled by 7.

use std::collections::HashMap;
use std::path::Path;

use segmenta::job::Job;
use segmenta::lifetime::{BgNbd, Estimate, GammaGamma, Lifetime, SavedLifetime};
use segmenta::pipeline::{self, Described, Stopwatch};

use crate::util;

fn fixture() -> serde_json::Value {
    let text = std::fs::read_to_string(util::test_data("lifetime_fixture.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn number(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn job(dir: &Path, csv: &Path, unit: &str) -> Job {
    let text = format!(
        "as_of = \"1997-10-01\"\n{}\n[lifetime]\nmodel = \"bgnbd\"\ntime_unit = \"{unit}\"\n",
        util::cdnow_job(csv)
    );
    util::write_job(dir, &text)
}

fn describe(job: &Job) -> Described {
    let options = util::options(Path::new("unused"));
    pipeline::describe(job, &options, &mut Stopwatch::new(true)).unwrap()
}

fn assert_relative(what: &str, ours: f64, theirs: f64, tolerance: f64) {
    let error = (ours - theirs).abs() / theirs.abs().max(1e-12);
    assert!(
        error <= tolerance,
        "{what}: {ours} vs lifetimes {theirs} (relative error {error:e} > {tolerance:e})"
    );
}

/// Every parameter of `fit` equals lifetimes' to 1e-4 relative, the log-likelihood to 1e-6.
fn assert_fit_matches(model: &str, fit: &Estimate, theirs: &serde_json::Value) {
    for (name, value) in fit.names.iter().zip(&fit.values) {
        assert_relative(
            &format!("{model} {name}"),
            *value,
            number(&theirs[name]),
            1e-4,
        );
    }
    assert_relative(
        &format!("{model} log-likelihood"),
        fit.log_likelihood,
        number(&theirs["log_likelihood"]),
        1e-6,
    );
}

fn fitted(described: &Described) -> &Lifetime {
    described.lifetime.as_ref().expect("the model was fitted")
}

#[test]
fn parameters_and_likelihoods_equal_lifetimes() {
    let Some(csv) = util::cdnow() else { return };
    let dir = util::workdir(&[]);
    let described = describe(&job(dir.path(), &csv, "week"));
    let l = fitted(&described);
    let f = fixture();
    assert_eq!(l.customers, 23_570);
    assert_eq!(l.customers, f["customers"].as_u64().unwrap() as usize);
    assert_eq!(
        l.gamma_gamma_customers,
        f["gg_customers"].as_u64().unwrap() as usize
    );
    assert_eq!(l.bgnbd_fit.names, BgNbd::NAMES);
    assert_eq!(l.model.bgnbd.to_array().to_vec(), l.bgnbd_fit.values);
    assert_fit_matches("BG/NBD", &l.bgnbd_fit, &f["bgnbd"]["tight"]);
    assert!(l.bgnbd_fit.converged && l.bgnbd_fit.standard_errors.iter().all(Option::is_some));
    let fit = l.gamma_gamma_fit.as_ref().unwrap();
    assert_eq!(fit.names, GammaGamma::NAMES);
    let spend_model = l.model.gamma_gamma.expect("Gamma-Gamma fitted");
    assert_eq!(spend_model.to_array().to_vec(), fit.values);
    assert_fit_matches("Gamma-Gamma", fit, &f["gamma_gamma"]["tight"]);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
}

/// lifetime_cdnow.csv: customer id → its row.
fn reference_rows() -> HashMap<String, HashMap<String, String>> {
    let text = std::fs::read_to_string(util::test_data("lifetime_cdnow.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|line| {
            let cells: HashMap<String, String> = header
                .iter()
                .zip(line.split(','))
                .map(|(h, c)| (h.to_string(), c.to_string()))
                .collect();
            (cells["customer_id"].clone(), cells)
        })
        .collect()
}

#[test]
fn every_customer_s_figures_equal_lifetimes_given_its_parameters() {
    let Some(csv) = util::cdnow() else { return };
    let dir = util::workdir(&[]);
    let job = job(dir.path(), &csv, "week");
    let f = fixture();
    let (b, g) = (&f["bgnbd"]["tight"], &f["gamma_gamma"]["tight"]);
    let saved = SavedLifetime {
        options: job.lifetime.clone().unwrap(),
        bgnbd: BgNbd::from_array(["r", "alpha", "a", "b"].map(|n| number(&b[n]))),
        gamma_gamma: Some(GammaGamma::from_array(
            ["p", "q", "v"].map(|n| number(&g[n])),
        )),
    };
    let table = segmenta::lifetime::table_of_job(&job, None, Some(&saved), &[]).unwrap();
    let reference = reference_rows();
    assert_eq!(table.len(), reference.len());
    let column = |name: &str| {
        &table
            .rule_only
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no column {name}"))
            .values
    };
    for name in [
        "p_alive",
        "expected_purchases",
        "expected_order_value",
        "clv",
    ] {
        let values = column(name);
        let mut worst = 0.0f64;
        for (id, value) in table.customer_ids.iter().zip(values) {
            let theirs: f64 = reference[id][name].parse().unwrap();
            let ours = value.unwrap_or_else(|| panic!("{id} has no {name}"));
            worst = worst.max((ours - theirs).abs() / theirs.abs().max(1.0));
        }
        assert!(worst <= 1e-6, "{name}: largest error {worst:e}");
    }
}

#[test]
fn the_backtest_counts_and_predicts_as_lifetimes() {
    let Some(csv) = util::cdnow() else { return };
    let dir = util::workdir(&[]);
    let described = describe(&job(dir.path(), &csv, "week"));
    let backtest = fitted(&described)
        .backtest
        .as_ref()
        .expect("purchases after as-of");
    let theirs = &fixture()["backtest"];
    let actual: Vec<f64> = theirs["actual"]
        .as_array()
        .unwrap()
        .iter()
        .map(number)
        .collect();
    let predicted: Vec<f64> = theirs["predicted"]
        .as_array()
        .unwrap()
        .iter()
        .map(number)
        .collect();
    assert_eq!(backtest.holdout_days, 273);
    assert_eq!(backtest.periods.len(), 39);
    assert_eq!(backtest.actual, actual);
    for (week, (ours, theirs)) in backtest.predicted.iter().zip(&predicted).enumerate() {
        assert_relative(
            &format!("predicted to week {}", week + 1),
            *ours,
            *theirs,
            1e-5,
        );
    }
    // The paper's Figure 4: mean purchases per calibration frequency.
    for (row, theirs) in backtest
        .by_frequency
        .iter()
        .zip(fixture()["figure4"].as_array().unwrap())
    {
        assert_eq!(row.frequency, theirs[0].as_str().unwrap());
        assert_eq!(row.customers as u64, theirs[1].as_u64().unwrap());
        assert_relative("actual mean", row.actual, number(&theirs[2]), 1e-12);
        assert_relative("predicted mean", row.predicted, number(&theirs[3]), 1e-5);
    }
    let error = backtest.final_error().unwrap();
    assert!((-0.15..-0.13).contains(&error), "{error}");
}

#[test]
fn in_days_the_same_model_is_found() {
    let Some(csv) = util::cdnow() else { return };
    let dir = util::workdir(&[]);
    let described = describe(&job(dir.path(), &csv, "day"));
    let l = fitted(&described);
    assert_fit_matches("BG/NBD in days", &l.bgnbd_fit, &fixture()["bgnbd_day"]);
}
