//! `segmenta sql score` assigns an engine's customers exactly as `segmenta apply` assigns them
//! locally. The demo job (k = 6, no mixture, the category and other values listed, and one more
//! custom rule using the rest of the condition language: the RFM cell, arithmetic, NOT IN, an
//! earlier set's column, COALESCE and a negative number) is fitted on the bundled data as of
//! 2025-10-01 and applied to the same data as of 2025-12-15, so the model scores customers it
//! has not seen. In DuckDB, PostgreSQL and Spark (tests/engines/engine.py; an engine missing
//! here is skipped with a line saying so, unless SEGMENTA_REQUIRE_ENGINES is set) the
//! `sql features` query builds the feature table as of 2025-12-15 under a schema-qualified name
//! and the `sql score` query assigns it: every one of the 20,000 customers gets apply's segment,
//! cluster, model label, far-from-centroids flag, R/F/M scores and segment of every rule set,
//! and its distance to the centroid to 1e-9. The command writes the library's query, `--job`
//! naming the job changes nothing, and a model saved without rule sets is an error naming the
//! file.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;

use segmenta::job::Job;
use segmenta::model::{Applied, SavedModel};
use segmenta::sql::{self, Dialect};

use crate::engines;
use crate::util::{self, DemoJob};

const TABLE: &str = "crm.features";
const INPUTS: [&str; 4] = ["transactions", "customers", "campaigns", "events"];

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The demo job over the bundled data, written to `dir`.
fn job(dir: &Path) -> Job {
    let job = DemoJob::bundled().fixed_k(6).without_mixture().edit(
        "[discovery]",
        r#"[[rules.custom]]
name = "Odd mix"
when = "(rfm_cell = '555' OR f_score + m_score >= 9) AND lifecycle_stage NOT IN ('Gone', 'Zero') AND COALESCE(previous_gap_days, -1) * 2 - 1 > 5"
description = "Exercises the condition language."
action = "None."

[discovery]"#,
        )
        .over_bundled_data()
        .with_listed_values();
    Job::from_file(&job.write(dir)).unwrap()
}

fn strings(frame: &DataFrame, name: &str) -> Vec<Option<String>> {
    let column = frame.column(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let column = column.as_materialized_series();
    column
        .str()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

fn numbers(frame: &DataFrame, name: &str) -> Vec<Option<f64>> {
    let column = frame.column(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let cast = column
        .as_materialized_series()
        .cast(&DataType::Float64)
        .unwrap();
    cast.f64().unwrap().iter().collect()
}

/// Every customer's row of apply's assignments, as text: the columns compared exactly.
fn applied_rows(applied: &Applied) -> HashMap<String, Vec<String>> {
    let score = |s: Option<u8>| s.map_or(String::new(), |v| v.to_string());
    (0..applied.customer_ids.len())
        .map(|i| {
            let c = applied.clusters[i];
            let mut row = vec![
                format!("Cluster {c}"),
                c.to_string(),
                applied.cluster_labels[c].clone(),
                applied.far[i].to_string(),
                score(applied.r[i]),
                score(applied.f[i]),
                score(applied.m[i]),
            ];
            row.extend(applied.rule_sets.iter().map(|(_, s)| s[i].clone()));
            (applied.customer_ids[i].clone(), row)
        })
        .collect()
}

/// The same rows of an engine's result, and each customer's distance to the centroid.
fn engine_rows(
    frame: &DataFrame,
    rule_columns: &[String],
) -> (HashMap<String, Vec<String>>, HashMap<String, f64>) {
    let ids = strings(frame, "customer_id");
    let text = |name: &str| -> Vec<String> {
        strings(frame, name)
            .into_iter()
            .map(|s| s.unwrap_or_else(|| panic!("{name}: NULL")))
            .collect()
    };
    let whole = |name: &str| -> Vec<String> {
        numbers(frame, name)
            .into_iter()
            .map(|v| v.map_or(String::new(), |v| (v as i64).to_string()))
            .collect()
    };
    let far: Vec<String> = frame
        .column("far_from_centroids")
        .unwrap()
        .as_materialized_series()
        .bool()
        .unwrap()
        .iter()
        .map(|b| b.unwrap().to_string())
        .collect();
    let mut columns = vec![
        text("segment"),
        whole("kmeans_cluster"),
        text("model_label"),
        far,
        whole("r_score"),
        whole("f_score"),
        whole("m_score"),
    ];
    columns.extend(rule_columns.iter().map(|c| text(c)));
    let distances = numbers(frame, "distance_to_centroid");
    let mut rows = HashMap::new();
    let mut distance = HashMap::new();
    for (i, id) in ids.into_iter().enumerate() {
        let id = id.expect("customer_id");
        rows.insert(id.clone(), columns.iter().map(|c| c[i].clone()).collect());
        distance.insert(id, distances[i].expect("distance"));
    }
    (rows, distance)
}

#[test]
fn the_score_query_assigns_every_customer_as_apply_does_in_every_engine() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let job = job(dir);
    let options = segmenta::RunOptions {
        as_of: Some(date(2025, 10, 1)),
        ..util::options(&dir.join("reports"))
    };
    let (_, folder) = segmenta::run(&job, &options).unwrap();
    let model_path = folder.join("model.json");
    let model = SavedModel::load(&model_path).unwrap();
    let new_date = date(2025, 12, 15);
    let applied = segmenta::model::apply(&model, &job, Some(new_date)).unwrap();
    let rule_columns: Vec<String> = applied.rule_sets.iter().map(|(c, _)| c.clone()).collect();
    assert_eq!(
        rule_columns,
        [
            "rfm_group",
            "lifecycle_stage",
            "value_tiers_segment",
            "temperature_segment",
            "custom_segment"
        ]
    );
    let odd = applied.rule_sets[4].1.iter().filter(|s| *s == "Odd mix");
    assert!(odd.count() > 0, "the extra custom rule matches nobody");
    let expected = applied_rows(&applied);
    assert_eq!(expected.len(), 20_000);

    let source = |columns| sql::score::Source {
        table: TABLE,
        columns,
    };
    // The command prints the library's query; naming the job changes nothing here.
    let query = sql::score::query(&model, &model_path, &source(None), Dialect::DuckDb).unwrap();
    let out = dir.join("score.sql");
    let cli = util::cli(
        dir,
        [
            "sql",
            "score",
            &model_path.display().to_string(),
            "--dialect",
            "duckdb",
            "--table",
            TABLE,
            "--job",
            "job.toml",
            "-o",
            "score.sql",
            "--quiet",
        ],
    );
    assert_eq!(cli.code, 0, "{}", cli.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), query);

    // A model saved before the rule sets were kept says so, naming the file.
    let mut old: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model_path).unwrap()).unwrap();
    old.as_object_mut().unwrap().remove("rules");
    let old_path = dir.join("old-model.json");
    std::fs::write(&old_path, old.to_string()).unwrap();
    let cli = util::cli(
        dir,
        ["sql", "score", "old-model.json", "--dialect", "spark"],
    );
    assert_eq!(cli.code, 1, "{}", cli.stderr);
    assert!(
        cli.stderr.contains("old-model.json: this model")
            && cli.stderr.contains("without its rule sets"),
        "{}",
        cli.stderr
    );

    let inputs: Vec<(String, std::path::PathBuf)> = INPUTS
        .iter()
        .map(|t| (t.to_string(), util::repo(&format!("data/{t}.parquet"))))
        .collect();
    let tables: Vec<(&str, &Path)> = inputs
        .iter()
        .map(|(n, p)| (n.as_str(), p.as_path()))
        .collect();
    for engine in engines::ALL {
        let dialect: Dialect = engine.name().parse().unwrap();
        let features_sql = sql::features::query(&job, new_date, dialect).unwrap();
        let score_sql = sql::score::query(&model, &model_path, &source(None), dialect).unwrap();
        let features = dir.join(format!("features-{}", engine.name()));
        let scored = dir.join(format!("scored-{}", engine.name()));
        let Some(()) = engines::run_sql(engine, &tables, &[(&features_sql, &features)]) else {
            continue;
        };
        engines::run_sql(engine, &[(TABLE, &features)], &[(&score_sql, &scored)])
            .expect("the engine ran the features query");
        let (rows, distances) = engine_rows(&engines::read_result(&scored), &rule_columns);
        assert_eq!(rows.len(), expected.len(), "{}", engine.name());
        let mut mismatches = 0;
        for (id, want) in &expected {
            let got = rows.get(id).unwrap_or_else(|| panic!("{id} missing"));
            if got != want {
                mismatches += 1;
                if mismatches <= 5 {
                    eprintln!("{}: {id}: engine {got:?}, apply {want:?}", engine.name());
                }
            }
        }
        let far = applied
            .customer_ids
            .iter()
            .zip(&applied.distances)
            .filter(|(id, d)| (distances[*id] - **d).abs() > 1e-9)
            .count();
        eprintln!(
            "{}: {} customers, {mismatches} differ from apply, {far} distances off by more than 1e-9",
            engine.name(),
            rows.len()
        );
        assert_eq!((mismatches, far), (0, 0), "{}", engine.name());
    }
}

/// A model is for the feature table of its own job: scoring the table of a job that lacks one of
/// its numeric features is an error naming the feature, not a query the engine would fail on.
#[test]
fn a_model_from_another_job_is_refused() {
    let customers: String = std::iter::once("id,income,score".to_string())
        .chain((0..60).map(|i| format!("c{i:02},{},{}", 20 + (i * 7) % 90, (i * 13) % 100)))
        .collect::<Vec<_>>()
        .join("\n");
    let crm_job = "name = \"crm\"\n[inputs.customers]\npath = \"customers.csv\"\ncustomer_id = \"id\"\nincome = \"income\"\nnumeric = [\"score\"]\n[discovery]\nk = 2\n";
    let log_job = util::client_log_job("log", "[features.values]\n");
    let tx = "client,when,value\na,2024-01-05,10\nb,2024-03-01,20\n";
    let dir = util::workdir(&[
        ("crm.toml", crm_job),
        ("customers.csv", &customers),
        ("log.toml", &log_job),
        ("tx.csv", tx),
    ]);
    let run = util::cli(dir.path(), ["run", "crm.toml", "--output", "reports", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let model = std::fs::read_dir(dir.path().join("reports/crm"))
        .expect("the run's folder")
        .filter_map(|e| e.ok().map(|e| e.path().join("model.json")))
        .find(|p| p.is_file())
        .expect("model.json");
    let model = model.to_str().expect("path");
    let out = util::cli(
        dir.path(),
        [
            "sql",
            "score",
            model,
            "--dialect",
            "duckdb",
            "--job",
            "log.toml",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("'income'") && out.stderr.contains("model.json"),
        "{}",
        out.stderr
    );
}
