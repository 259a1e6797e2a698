//! The run's invariants, checked from outside on the bundled data, the real CDNOW log and
//! generated data: the customer ids and the revenue are counted straight from the input files
//! (not through segmenta's loader) and compared with what the report wrote — every customer once
//! in assignments.csv, net revenue to the cent, rule segment sizes adding up — and run.log and
//! the report's data-quality section say the run's own checks passed.
//!
//! The generated data set is cut by an as-of date inside it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;

use segmenta::job::Job;
use segmenta::RunOptions;

use crate::util::{self, DemoJob};

fn run(job_path: &Path, root: &Path, as_of: Option<NaiveDate>) -> (segmenta::RunResult, PathBuf) {
    let job = Job::from_file(job_path).expect("job");
    let options = RunOptions {
        as_of,
        ..util::options(root)
    };
    segmenta::run(&job, &options).expect("run")
}

/// Cents of a decimal text, exactly ("12.3" → 1230, "-0.05" → -5).
fn cents(text: &str) -> i128 {
    let negative = text.starts_with('-');
    let digits = text.trim_start_matches('-');
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let fraction = format!("{fraction:0<2}");
    assert!(fraction.len() == 2, "more than two decimals in {text}");
    let value =
        whole.parse::<i128>().expect("whole") * 100 + fraction.parse::<i128>().expect("cents");
    if negative {
        -value
    } else {
        value
    }
}

/// The report's customers, its revenue in cents and whether run.log records the checks.
struct Reported {
    ids: Vec<String>,
    revenue_cents: i128,
    log: String,
    summary: serde_json::Value,
}

fn reported(folder: &Path) -> Reported {
    let frame =
        ParquetReader::new(std::fs::File::open(folder.join("assignments.parquet")).unwrap())
            .finish()
            .unwrap();
    let ids = frame
        .column("customer_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().to_string())
        .collect();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("summary.json")).unwrap())
            .unwrap();
    let revenue = format!("{:.2}", summary["revenue"].as_f64().unwrap());
    Reported {
        ids,
        revenue_cents: cents(&revenue),
        log: std::fs::read_to_string(folder.join("run.log")).unwrap(),
        summary,
    }
}

fn assert_reconciles(name: &str, folder: &Path, ids: &BTreeSet<String>, revenue_cents: i128) {
    let got = reported(folder);
    assert_eq!(got.ids.len(), ids.len(), "{name}: rows of the assignments");
    let distinct: BTreeSet<String> = got.ids.iter().cloned().collect();
    assert_eq!(distinct.len(), got.ids.len(), "{name}: a customer twice");
    assert!(
        distinct == *ids,
        "{name}: the assignments hold other customers than the inputs"
    );
    assert_eq!(
        got.revenue_cents, revenue_cents,
        "{name}: net revenue in cents"
    );
    assert!(
        got.log.contains("checks passed: "),
        "{name}: run.log:\n{}",
        got.log
    );
    let html = std::fs::read_to_string(folder.join("index.html")).unwrap();
    assert!(
        html.contains("Checks passed") && html.contains("net revenue to the cent"),
        "{name}: the report does not show the checks"
    );
    let shown = format!("{:.2}", revenue_cents as f64 / 100.0);
    let digits: String = html.chars().filter(|c| *c != ',').collect();
    assert!(
        digits.contains(&shown),
        "{name}: the report does not show {shown}"
    );
    for set in got.summary["rule_sets"].as_array().unwrap() {
        let sizes: u64 = set["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["customers"].as_u64().unwrap())
            .sum();
        assert_eq!(
            sizes as usize,
            ids.len(),
            "{name}: rule set {}",
            set["name"]
        );
    }
    let cluster_sizes: u64 = got.summary["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["size"].as_u64().unwrap())
        .sum();
    assert_eq!(cluster_sizes as usize, ids.len(), "{name}: cluster sizes");
}

fn parquet(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

fn text_ids(frame: &DataFrame) -> BTreeSet<String> {
    let column = frame
        .column("customer_id")
        .unwrap()
        .cast(&DataType::String)
        .unwrap();
    column
        .str()
        .unwrap()
        .iter()
        .flatten()
        .filter(|id| !id.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Ids of every table of a job folder written like the bundled data, and the net revenue of the
/// lines dated before `as_of` in cents (each amount rounded to the cent once).
fn bundled_like(dir: &Path, as_of: NaiveDate) -> (BTreeSet<String>, i128) {
    let mut ids = BTreeSet::new();
    for table in ["customers", "transactions", "campaigns", "events"] {
        ids.extend(text_ids(&parquet(&dir.join(format!("{table}.parquet")))));
    }
    let lines = parquet(&dir.join("transactions.parquet"));
    let before = as_of
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    let millis = lines
        .column("timestamp")
        .unwrap()
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap();
    let amounts = lines
        .column("amount")
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap();
    let revenue = millis
        .i64()
        .unwrap()
        .iter()
        .zip(amounts.f64().unwrap().iter())
        .filter(|(t, _)| t.is_some_and(|t| t < before))
        .map(|(_, a)| (a.unwrap_or(0.0) * 100.0).round() as i128)
        .sum();
    (ids, revenue)
}

#[test]
fn the_bundled_data_reconciles_to_every_customer_and_cent() {
    let root = tempfile::tempdir().unwrap();
    let job = util::demo_job_path();
    let (result, folder) = run(&job, root.path(), None);
    let (ids, revenue) = bundled_like(job.parent().unwrap(), result.as_of);
    assert_reconciles("bundled", &folder, &ids, revenue);
}

#[test]
fn generated_data_reconciles_to_every_customer_and_cent() {
    let dir = tempfile::tempdir().unwrap();
    let options = segmenta::generate::GenerateOptions {
        customers: 4_000,
        seed: 23,
    };
    segmenta::generate::generate_to(&options, dir.path(), "parquet").expect("generate");
    let job = DemoJob::bundled().named("generated").write(dir.path());
    // An as-of date inside the data: the lines after it must be left out of the revenue.
    let as_of = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
    let (result, folder) = run(&job, &dir.path().join("out"), Some(as_of));
    let (ids, revenue) = bundled_like(dir.path(), as_of);
    assert!(result
        .features
        .notes
        .iter()
        .any(|n| n.contains("on or after the as-of date")));
    assert_reconciles("generated", &folder, &ids, revenue);
}

#[test]
fn the_cdnow_log_reconciles_to_every_customer_and_cent() {
    let Some(cdnow) = util::cdnow() else {
        return;
    };
    let dir = util::workdir(&[("job.toml", &util::cdnow_job(&cdnow))]);
    // Mid-log: a year and a half of lines are after it.
    let as_of = NaiveDate::from_ymd_opt(1997, 10, 1).unwrap();
    let (_, folder) = run(
        &dir.path().join("job.toml"),
        &dir.path().join("out"),
        Some(as_of),
    );
    let text = std::fs::read_to_string(&cdnow).unwrap();
    let mut ids = BTreeSet::new();
    let mut revenue = 0;
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        ids.insert(fields[0].to_string());
        let date = NaiveDate::parse_from_str(fields[1], "%Y-%m-%d").unwrap();
        if date < as_of {
            revenue += cents(fields[3]);
        }
    }
    assert_reconciles("CDNOW", &folder, &ids, revenue);
}
