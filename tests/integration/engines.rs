//! Runs SQL in real engines — DuckDB, PostgreSQL and Spark in local mode — through
//! tests/engines/engine.py, for the tests of segmenta's generated SQL (issue 20), and proves
//! that harness: the same aggregate over the bundled transactions equals polars' in every engine
//! (counts exact, sums to 1e-9, first timestamps to the millisecond, so no time-zone shift), a
//! schema-qualified table name works, a sorted result keeps its order across Spark's part files,
//! every column type comes back as it went in (nulls too), and a failing query fails with the
//! engine's own message.
//!
//! Needs python3 with the packages of tests/engines/requirements.txt, Java 17 for Spark, and a
//! PostgreSQL server named by `SEGMENTA_PG_DSN`; `.ci/run` installs and starts all of it (by hand:
//! `pip install -r tests/engines/requirements.txt` and
//! `export SEGMENTA_PG_DSN="$(bash tests/engines/start-postgres)"`). An engine missing here
//! skips its tests with a line saying why, unless `SEGMENTA_REQUIRE_ENGINES` is set, as CI sets
//! it. `SEGMENTA_PYTHON` names another interpreter than `python3`.
//!
//! ```ignore
//! let out = dir.path().join("segments.parquet");
//! let Some(()) = engines::run_sql(
//!     Engine::Spark,
//!     &[("sales.transactions", &util::repo("data/transactions.parquet"))],
//!     &[("SELECT customer_id, SUM(amount) AS spend FROM sales.transactions GROUP BY 1", &out)],
//! ) else { return }; // skipped: engine missing
//! let frame = engines::read_result(&out); // a file, or Spark's folder of part files
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use polars::prelude::*;

use crate::util;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    DuckDb,
    Postgres,
    Spark,
}

pub const ALL: [Engine; 3] = [Engine::DuckDb, Engine::Postgres, Engine::Spark];

impl Engine {
    /// The name engine.py takes.
    pub fn name(self) -> &'static str {
        match self {
            Engine::DuckDb => "duckdb",
            Engine::Postgres => "postgres",
            Engine::Spark => "spark",
        }
    }

    /// Whether the engine can run here (Python module importable, Java present, PostgreSQL
    /// reachable through SEGMENTA_PG_DSN); asked once per test process.
    pub fn available(self) -> bool {
        self.unavailable_reason().is_none()
    }

    /// Why the engine cannot run here, or None when it can.
    pub fn unavailable_reason(self) -> Option<&'static str> {
        static CHECKS: [OnceLock<Option<String>>; 3] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        CHECKS[self as usize]
            .get_or_init(|| {
                match python()
                    .arg(engine_py())
                    .arg(self.name())
                    .arg("--check")
                    .output()
                {
                    Err(e) => Some(format!("{} does not start: {e}", python_name())),
                    Ok(out) if out.status.success() => None,
                    Ok(out) => Some(
                        String::from_utf8_lossy(&out.stderr)
                            .trim()
                            .lines()
                            .last()
                            .unwrap_or("engine.py --check failed")
                            .to_string(),
                    ),
                }
            })
            .as_deref()
    }
}

fn python_name() -> String {
    std::env::var("SEGMENTA_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn python() -> Command {
    Command::new(python_name())
}

/// tests/engines/engine.py.
pub fn engine_py() -> PathBuf {
    util::repo("tests/engines/engine.py")
}

/// Whether a missing engine fails the test (CI) rather than skipping it.
fn engines_required() -> bool {
    std::env::var_os("SEGMENTA_REQUIRE_ENGINES").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Runs each (sql text, out path) in one session of `engine` over `tables` (name, possibly
/// `schema.name`, and a Parquet file, Parquet folder or CSV file), writing each result as
/// Parquet at its out path (a folder of part files for Spark: read it with `read_result`).
/// None when the engine is missing and not required (a line on stderr says why); panics with
/// the engine's message when a query fails, or when a required engine is missing.
pub fn run_sql(engine: Engine, tables: &[(&str, &Path)], queries: &[(&str, &Path)]) -> Option<()> {
    try_run_sql(engine, tables, queries)
        .map(|result| result.unwrap_or_else(|message| panic!("{message}")))
}

/// As `run_sql`, with a failing query as Err(the engine's message) instead of a panic.
pub fn try_run_sql(
    engine: Engine,
    tables: &[(&str, &Path)],
    queries: &[(&str, &Path)],
) -> Option<Result<(), String>> {
    if !engine.available() {
        let reason = engine.unavailable_reason().unwrap_or_default();
        assert!(
            !engines_required(),
            "SEGMENTA_REQUIRE_ENGINES is set but {} cannot run here: {reason}",
            engine.name()
        );
        eprintln!("SKIPPED: {} cannot run here: {reason}", engine.name());
        return None;
    }
    let scratch = tempfile::tempdir().expect("scratch folder");
    let mut command = python();
    command.arg(engine_py()).arg(engine.name());
    for (name, path) in tables {
        command
            .arg("--table")
            .arg(format!("{name}={}", path.display()));
    }
    for (index, (sql, out)) in queries.iter().enumerate() {
        let file = scratch.path().join(format!("query-{index}.sql"));
        std::fs::write(&file, sql).expect("query file");
        command
            .arg("--query")
            .arg(format!("{}={}", file.display(), out.display()));
    }
    let out = command.output().expect("engine.py runs");
    if out.status.success() {
        return Some(Ok(()));
    }
    Some(Err(format!(
        "{} failed (exit {:?}):\n{}",
        engine.name(),
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

/// A result written by engine.py: one Parquet file, or a folder of Parquet part files (Spark's),
/// read in file-name order, which is the result's row order.
pub fn read_result(path: &Path) -> DataFrame {
    let read = |file: &Path| {
        ParquetReader::new(
            std::fs::File::open(file).unwrap_or_else(|e| panic!("{}: {e}", file.display())),
        )
        .finish()
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
    };
    if !path.is_dir() {
        return read(path);
    }
    let mut parts: Vec<PathBuf> = std::fs::read_dir(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.ends_with(".parquet") && !name.starts_with(['.', '_'])
        })
        .collect();
    parts.sort();
    assert!(
        !parts.is_empty(),
        "{}: no Parquet part files",
        path.display()
    );
    let mut frame = read(&parts[0]);
    for part in &parts[1..] {
        frame
            .vstack_mut(&read(part))
            .unwrap_or_else(|e| panic!("{}: {e}", part.display()));
    }
    frame
}

// ---------------------------------------------------------------------------------------------
// The harness's own tests

fn int64s(frame: &DataFrame, name: &str) -> Vec<Option<i64>> {
    frame
        .column(name)
        .unwrap()
        .as_materialized_series()
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect()
}

fn float64s(frame: &DataFrame, name: &str) -> Vec<Option<f64>> {
    frame
        .column(name)
        .unwrap()
        .as_materialized_series()
        .f64()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .iter()
        .collect()
}

fn strings(frame: &DataFrame, name: &str) -> Vec<String> {
    frame
        .column(name)
        .unwrap()
        .as_materialized_series()
        .str()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .iter()
        .map(|s| s.unwrap().to_string())
        .collect()
}

/// Milliseconds since the epoch of a naive timestamp column, whatever its unit.
fn millis(frame: &DataFrame, name: &str) -> Vec<Option<i64>> {
    let column = frame.column(name).unwrap().as_materialized_series();
    assert!(
        matches!(column.dtype(), DataType::Datetime(_, None)),
        "{name} is {:?}, not a naive timestamp",
        column.dtype()
    );
    let ms = column
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
        .unwrap();
    int64s(&DataFrame::new_infer_height(vec![ms.into()]).unwrap(), name)
}

const PER_CUSTOMER: &str = "SELECT customer_id, COUNT(*) AS lines, SUM(amount) AS spend, \
     MIN(timestamp) AS first_seen FROM {table} GROUP BY customer_id";

/// customer → (lines, spend, first_seen in ms) of a PER_CUSTOMER result.
fn per_customer(frame: &DataFrame) -> HashMap<String, (i64, f64, i64)> {
    let ids = strings(frame, "customer_id");
    let lines = int64s(frame, "lines");
    let spend = float64s(frame, "spend");
    let first = millis(frame, "first_seen");
    let mut map = HashMap::new();
    for i in 0..ids.len() {
        let row = (lines[i].unwrap(), spend[i].unwrap(), first[i].unwrap());
        assert!(
            map.insert(ids[i].clone(), row).is_none(),
            "{} twice",
            ids[i]
        );
    }
    map
}

fn per_customer_in_polars(transactions: &Path) -> HashMap<String, (i64, f64, i64)> {
    let frame = read_result(transactions)
        .lazy()
        .group_by([col("customer_id")])
        .agg([
            len().alias("lines"),
            col("amount").sum().alias("spend"),
            col("timestamp").min().alias("first_seen"),
        ])
        .collect()
        .unwrap();
    per_customer(&frame)
}

/// A small table of every type the loaders take, with a null in each column.
fn typed_table() -> DataFrame {
    let date = Series::new("d".into(), &[Some(19_782), None, Some(0)])
        .cast(&DataType::Date)
        .unwrap();
    // 2024-03-31 01:30:00.123 (a DST night in Europe), 1999-12-31 23:59:59.999
    let stamp = Series::new(
        "ts".into(),
        &[Some(1_711_848_600_123i64), None, Some(946_684_799_999)],
    )
    .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
    .unwrap();
    DataFrame::new_infer_height(vec![
        Series::new("id".into(), &[1i64, 2, 3]).into(),
        Series::new("small".into(), &[Some(1i32), None, Some(-3)]).into(),
        Series::new("x".into(), &[Some(1.5f64), None, Some(1e-300)]).into(),
        Series::new("s".into(), &[Some("a"), None, Some("")]).into(),
        Series::new("b".into(), &[Some(true), None, Some(false)]).into(),
        date.into(),
        stamp.into(),
    ])
    .unwrap()
}

fn check_engine(engine: Engine) {
    let transactions = util::repo("data/transactions.parquet");
    let dir = tempfile::tempdir().unwrap();
    let typed_path = dir.path().join("typed.parquet");
    let mut typed = typed_table();
    ParquetWriter::new(std::fs::File::create(&typed_path).unwrap())
        .finish(&mut typed)
        .unwrap();

    let plain = dir.path().join("plain.parquet");
    let qualified = dir.path().join("qualified.parquet");
    let round_trip = dir.path().join("typed-out.parquet");
    let sorted_sql = format!(
        "{} ORDER BY first_seen, customer_id",
        PER_CUSTOMER.replace("{table}", "sales.transactions")
    );
    let started = std::time::Instant::now();
    let Some(()) = run_sql(
        engine,
        &[
            ("transactions", &transactions),
            ("sales.transactions", &transactions),
            ("typed", &typed_path),
        ],
        &[
            (&PER_CUSTOMER.replace("{table}", "transactions"), &plain),
            (&sorted_sql, &qualified),
            ("SELECT * FROM typed ORDER BY id", &round_trip),
        ],
    ) else {
        return;
    };
    eprintln!(
        "{}: {:.1} s",
        engine.name(),
        started.elapsed().as_secs_f64()
    );

    let expected = per_customer_in_polars(&transactions);
    for out in [&plain, &qualified] {
        if engine == Engine::Spark {
            assert!(out.is_dir(), "spark writes a folder of part files");
        }
        let got = per_customer(&read_result(out));
        assert_eq!(got.len(), expected.len(), "{}: customers", engine.name());
        for (customer, (lines, spend, first)) in &expected {
            let (g_lines, g_spend, g_first) = got[customer];
            assert_eq!(g_lines, *lines, "{} {customer}: lines", engine.name());
            assert!(
                (g_spend - spend).abs() <= 1e-9 * spend.abs().max(1.0),
                "{} {customer}: spend {g_spend} vs {spend}",
                engine.name()
            );
            assert_eq!(g_first, *first, "{} {customer}: first_seen", engine.name());
        }
    }
    // The ORDER BY holds across the part files.
    let sorted = read_result(&qualified);
    let keys: Vec<(i64, String)> = millis(&sorted, "first_seen")
        .into_iter()
        .map(Option::unwrap)
        .zip(strings(&sorted, "customer_id"))
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] <= w[1]),
        "{}: the ORDER BY is lost",
        engine.name()
    );

    // Every type back as it went in; timestamps as microseconds, to the same instant.
    let back = read_result(&round_trip);
    let mut want = typed_table();
    want.apply("ts", |c| {
        c.cast(&DataType::Datetime(TimeUnit::Microseconds, None))
            .unwrap()
    })
    .unwrap();
    assert_eq!(back.schema(), want.schema(), "{}: types", engine.name());
    assert!(
        back.equals_missing(&want),
        "{}: values\n{back}\nwant\n{want}",
        engine.name()
    );
}

fn check_failure(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let Some(result) = try_run_sql(
        engine,
        &[("transactions", &util::repo("data/transactions.parquet"))],
        &[(
            "SELECT no_such_column FROM transactions",
            &dir.path().join("out.parquet"),
        )],
    ) else {
        return;
    };
    let message = result.expect_err("a query naming a missing column fails");
    assert!(
        message.contains("no_such_column"),
        "{}: the engine's message is missing: {message}",
        engine.name()
    );
}

#[test]
fn duckdb_runs_sql_over_the_bundled_transactions() {
    check_engine(Engine::DuckDb);
}

#[test]
fn postgres_runs_sql_over_the_bundled_transactions() {
    check_engine(Engine::Postgres);
}

#[test]
fn spark_runs_sql_over_the_bundled_transactions() {
    check_engine(Engine::Spark);
}

#[test]
fn a_failing_query_fails_with_the_engines_message() {
    for engine in ALL {
        check_failure(engine);
    }
}
