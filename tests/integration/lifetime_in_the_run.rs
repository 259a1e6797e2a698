//! The lifetime model inside a run: its columns in the assignments, in rules and (when included)
//! in the clustering matrix; summary.json, model.json and `apply`; the report's section with the
//! backtest; and the inputs it cannot be fitted on, each skipped with a note that says why while
//! the rest of the run goes on.

use std::path::Path;

use segmenta::pipeline::{self, Stopwatch};

use crate::util::{self, client_log_job};

/// 40 customers over 2024, as of 2024-07-01: customer c buys every 7 + 3·(c mod 9) days from day
/// c mod 30, and stops after (c mod 7) + 1 purchases when c is odd (the rest go on through the
/// year, so the log goes on past as-of); some days hold two orders.
fn shop_log() -> String {
    let mut csv = String::from("client,when,value\n");
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    for c in 0..40u32 {
        let gap = 7 + 3 * (c % 9);
        let stop = if c % 2 == 1 { c % 7 + 1 } else { u32::MAX };
        let mut day = c % 30;
        let mut n = 0;
        while day < 360 && n < stop {
            let date = start + chrono::Duration::days(i64::from(day));
            csv += &format!("K{c:02},{date} 10:00,{}.25\n", 20 + (c * 7 + n * 3) % 50);
            if n % 4 == 1 {
                csv += &format!("K{c:02},{date} 17:30,5.00\n");
            }
            day += gap;
            n += 1;
        }
    }
    csv
}

const LIFETIME: &str = "[lifetime]\nmodel = \"bgnbd\"\ntime_unit = \"day\"\n";

fn summary(report: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(report.join("summary.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn run(dir: &Path, transactions: &str, more: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("tx.csv"), transactions).unwrap();
    let job = util::write_job(dir, &client_log_job("life", more));
    let (_, folder) = segmenta::run(&job, &util::options(&dir.join("out")))
        .unwrap_or_else(|e| panic!("run failed: {e}"));
    folder
}

/// The named column of assignments.csv, by customer id.
fn assignment_column(report: &Path, name: &str) -> Vec<(String, String)> {
    let csv = report.join("assignments.csv");
    let ids = util::csv_column(&csv, "customer_id");
    ids.into_iter().zip(util::csv_column(&csv, name)).collect()
}

#[test]
fn the_figures_reach_the_assignments_rules_summary_model_and_report() {
    let dir = util::workdir(&[]);
    let rule = "[[rules.custom]]\nname = \"Slipping regulars\"\nwhen = \"p_alive < 0.3 AND frequency >= 2\"\n";
    let report = run(dir.path(), &shop_log(), &format!("{rule}{LIFETIME}"));

    let p_alive = assignment_column(&report, "p_alive");
    let rule_segment = assignment_column(&report, "custom_segment");
    let mut slipping = 0;
    for ((id, p), (_, segment)) in p_alive.iter().zip(&rule_segment) {
        let p: f64 = p.parse().unwrap_or_else(|_| panic!("{id}: p_alive {p:?}"));
        assert!((0.0..=1.0).contains(&p), "{id}: {p}");
        if segment == "Slipping regulars" {
            slipping += 1;
        }
        if p >= 0.3 {
            assert_ne!(segment, "Slipping regulars", "{id}: P(alive) {p}");
        }
    }
    assert!(slipping > 0, "the stopped customers should slip");
    for column in ["expected_purchases", "expected_order_value", "clv"] {
        assert!(assignment_column(&report, column)
            .iter()
            .all(|(_, v)| v.parse::<f64>().is_ok()));
    }

    let s = summary(&report);
    let lifetime = &s["lifetime"];
    for key in ["r", "alpha", "a", "b", "log_likelihood", "customers"] {
        assert!(
            lifetime["bgnbd"][key].is_number(),
            "bgnbd.{key}: {lifetime}"
        );
    }
    for key in ["p", "q", "v", "customers"] {
        assert!(
            lifetime["gamma_gamma"][key].is_number(),
            "gamma_gamma.{key}"
        );
    }
    let backtest = &lifetime["backtest"];
    assert_eq!(
        backtest["periods"].as_array().unwrap().len(),
        backtest["actual"].as_array().unwrap().len()
    );
    assert!(backtest["predicted"].as_array().unwrap().len() > 20);
    // Segments ranked by future value.
    let clv: Vec<f64> = lifetime["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["clv"].as_f64().unwrap())
        .collect();
    assert!(clv.windows(2).all(|w| w[0] >= w[1]), "{clv:?}");

    // `check` fits the model too, so rules over its columns are checked, and says what it found.
    let out = util::cli(dir.path(), ["check", "job.toml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("lifetime BG/NBD on 40 customers"),
        "{}",
        out.stdout
    );

    let model = std::fs::read_to_string(report.join("model.json")).unwrap();
    let model: serde_json::Value = serde_json::from_str(&model).unwrap();
    assert_eq!(model["lifetime"]["bgnbd"]["r"], lifetime["bgnbd"]["r"]);

    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    for text in [
        "Who is still a customer",
        "The fitted model",
        "Backtest: repeat purchases after as-of",
        "P(alive) by frequency and recency",
        "Median P(alive)",
    ] {
        assert!(html.contains(text), "the report lacks {text:?}");
    }
    assert!(report.join("charts/lifetime_tracking.png").is_file());

    // apply: the saved parameters score the same data to the same figures, no refit.
    let out = util::cli(
        dir.path(),
        [
            "apply",
            report.join("model.json").to_str().unwrap(),
            "job.toml",
            "--output",
            "applied",
            "--quiet",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let applied = std::fs::read_dir(dir.path().join("applied"))
        .unwrap()
        .flatten()
        .flat_map(|e| walk(&e.path()))
        .find(|p| p.ends_with("assignments.csv"))
        .expect("applied assignments");
    assert_eq!(
        assignment_column(applied.parent().unwrap(), "p_alive"),
        p_alive
    );
}

fn walk(path: &Path) -> Vec<std::path::PathBuf> {
    if path.is_dir() {
        std::fs::read_dir(path)
            .unwrap()
            .flatten()
            .flat_map(|e| walk(&e.path()))
            .collect()
    } else {
        vec![path.to_path_buf()]
    }
}

#[test]
fn included_columns_are_clustered_on_and_need_the_model() {
    let dir = util::workdir(&[]);
    let report = run(
        dir.path(),
        &shop_log(),
        &format!("[features]\ninclude = [\"p_alive\", \"clv\"]\n{LIFETIME}"),
    );
    let features: Vec<String> = summary(&report)["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    assert!(
        features.contains(&"p_alive".to_string()) && features.contains(&"clv".to_string()),
        "{features:?}"
    );

    let text = client_log_job("life", "[features]\ninclude = [\"p_alive\"]\n");
    let err = segmenta::job::Job::from_toml(&text, ".")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("needs the lifetime model") && err.contains("[lifetime]"),
        "{err}"
    );
    let text = client_log_job(
        "life",
        &format!("[features]\ninclude = [\"p_alve\"]\n{LIFETIME}"),
    );
    let err = segmenta::job::Job::from_toml(&text, ".")
        .unwrap_err()
        .to_string();
    assert!(err.contains("did you mean `p_alive`"), "{err}");
}

/// The lifetime note of a job over `transactions`, read through the features stage.
fn skipped_note(transactions: &str) -> String {
    let dir = util::workdir(&[("tx.csv", transactions)]);
    let job = util::write_job(dir.path(), &client_log_job("life", LIFETIME));
    let options = util::options(dir.path());
    let described = pipeline::describe(&job, &options, &mut Stopwatch::new(true)).unwrap();
    assert!(described.lifetime.is_none());
    let notes = described.features.notes.join("\n");
    assert!(notes.contains("the lifetime model"), "{notes}");
    notes
}

#[test]
fn data_that_cannot_support_the_model_is_skipped_with_a_reason() {
    let once: String = (0..30).fold(String::from("client,when,value\n"), |csv, c| {
        csv + &format!(
            "K{c:02},2024-0{}-{:02} 10:00,30.00\n",
            1 + c % 6,
            1 + c % 28
        )
    });
    assert!(skipped_note(&once).contains("bought on one day only"));
    let one_day: String = (0..30).fold(String::from("client,when,value\n"), |csv, c| {
        csv + &format!("K{c:02},2024-03-05 10:00,30.00\nK{c:02},2024-03-05 18:00,12.00\n")
    });
    assert!(skipped_note(&one_day).contains("made on one day (2024-03-05)"));
    let one_customer = "client,when,value\nK1,2024-01-05,10\nK1,2024-02-05,12\nK1,2024-04-05,9\n";
    assert!(skipped_note(one_customer).contains("at least 10 customers"));

    // The rest of the run goes on, rules over the model's columns match nobody, and the report
    // says why the section is empty.
    let dir = util::workdir(&[]);
    let rule = "[[rules.custom]]\nname = \"Gone\"\nwhen = \"p_alive < 0.3\"\n";
    let report = run(dir.path(), &once, &format!("{rule}{LIFETIME}"));
    let segments = assignment_column(&report, "custom_segment");
    assert!(segments.iter().all(|(_, s)| s != "Gone"), "{segments:?}");
    let s = summary(&report);
    assert!(s["lifetime"]["skipped"]
        .as_str()
        .unwrap()
        .contains("bought on one day only"));
    assert!(!std::fs::read_to_string(report.join("assignments.csv"))
        .unwrap()
        .contains("p_alive"));
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(html.contains("Who is still a customer") && html.contains("bought on one day only"));
}

#[test]
fn a_customers_table_has_no_log_to_fit_on() {
    let dir = util::workdir(&[]);
    let mut csv = String::from("id,age,income\n");
    for c in 0..30 {
        csv += &format!("C{c},{},{}\n", 20 + c, 1000 + 37 * c);
    }
    std::fs::write(dir.path().join("customers.csv"), csv).unwrap();
    let job = util::write_job(
        dir.path(),
        &format!("name = \"crm\"\n[inputs.customers]\npath = \"customers.csv\"\ncustomer_id = \"id\"\nnumeric = [\"age\", \"income\"]\n{LIFETIME}"),
    );
    let (_, report) = segmenta::run(&job, &util::options(&dir.path().join("out"))).unwrap();
    let note = summary(&report)["lifetime"]["skipped"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(note.contains("needs a transaction log"), "{note}");
}
