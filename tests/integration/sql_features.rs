//! `segmenta sql features` run in real engines gives `segmenta features`' table: on the bundled
//! data set (every input mapped) and on the CDNOW log, in DuckDB, PostgreSQL and Spark, the same
//! customers and, column by column, the same values (counts exactly, the rest to 1e-9
//! relative); and `[inputs.features]` over each engine's output (Spark's part-file folder
//! included) gives the same assignments and segment table as the ordinary run; and the values
//! query ranks in each engine the values the local run picks.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use segmenta::features::catalogue::{self, Use};
use segmenta::job::Job;

use crate::engines::{self, Engine};
use crate::util::{self, cli, DemoJob};

const AS_OF: &str = "2025-10-01";

/// The demo job over the bundled files (absolute paths), as of AS_OF, with its values listed;
/// a fixed k and no mixture keep the runs short; no lifetime model, which needs the log that an
/// engine's feature table does not carry.
fn demo_engine_job() -> DemoJob {
    DemoJob::bundled()
        .fixed_k(6)
        .without_mixture()
        .without_lifetime()
        .edit("seed = 42", &format!("seed = 42\nas_of = \"{AS_OF}\""))
        .over_bundled_data()
        .with_listed_values()
}

/// The CDNOW log as a warehouse holds it: typed Parquet (text ids keep their zeros, dates are
/// dates); None when the shared data folder is absent.
fn cdnow_parquet(dir: &Path) -> Option<PathBuf> {
    let csv = util::cdnow()?;
    let mut frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_schema_overwrite(Some(std::sync::Arc::new(Schema::from_iter([
            Field::new("customer_id".into(), DataType::String),
            Field::new("date".into(), DataType::String),
        ]))))
        .try_into_reader_with_file_path(Some(csv))
        .and_then(|r| r.finish())
        .expect("CDNOW csv");
    let dates = frame
        .column("date")
        .and_then(|c| c.str().cloned())
        .and_then(|s| s.as_date(Some("%Y-%m-%d"), false))
        .expect("CDNOW dates");
    frame
        .with_column(dates.into_series().with_name("date".into()).into_column())
        .expect("dates");
    let path = dir.join("cdnow.parquet");
    let mut file = std::fs::File::create(&path).expect("cdnow.parquet");
    ParquetWriter::new(&mut file)
        .finish(&mut frame)
        .expect("cdnow.parquet");
    Some(path)
}

fn cdnow_engine_job(parquet: &Path) -> String {
    format!(
        "name = \"cdnow\"\nas_of = \"1997-10-01\"\n[inputs.transactions]\npath = {:?}\ncustomer_id = \"customer_id\"\ntimestamp = \"date\"\ntimestamp_format = \"%Y-%m-%d\"\namount = \"amount\"\n[discovery]\nk = 4\n",
        parquet.display().to_string()
    )
}

/// `segmenta sql features` for `job` in `engine`'s dialect.
fn features_query(job: &Path, engine: Engine) -> String {
    sql_query("features", job, engine)
}

/// `segmenta sql <verb>` (features, values) for `job` in `engine`'s dialect.
fn sql_query(verb: &str, job: &Path, engine: Engine) -> String {
    let out = cli(
        job.parent().expect("job folder"),
        [
            "sql",
            verb,
            job.to_str().expect("path"),
            "--dialect",
            engine.name(),
        ],
    );
    assert_eq!(out.code, 0, "sql {verb}: {}", out.stderr);
    out.stdout
}

/// `segmenta features` (the local table) as a frame.
fn local_features(job: &Path, dir: &Path) -> DataFrame {
    let path = dir.join("local.parquet");
    let out = cli(
        dir,
        [
            "features",
            job.to_str().expect("path"),
            "-o",
            path.to_str().expect("path"),
            "-q",
        ],
    );
    assert_eq!(out.code, 0, "segmenta features: {}", out.stderr);
    engines::read_result(&path)
}

/// Same customers, and every catalogue column equal: counts exactly, the rest to 1e-9
/// relative. Returns the columns compared and the largest relative difference.
fn assert_same_table(job: &Path, engine: &DataFrame, local: &DataFrame) -> (usize, f64) {
    let job = Job::from_file(job).expect("job");
    let sort = |frame: &DataFrame| {
        frame
            .sort(["customer_id"], SortMultipleOptions::default())
            .expect("sorted")
    };
    let (engine, local) = (sort(engine), sort(local));
    let ids = |frame: &DataFrame| -> Vec<String> {
        let column = frame.column("customer_id").expect("customer_id");
        column
            .str()
            .expect("text ids")
            .iter()
            .map(|v| v.expect("id").to_string())
            .collect()
    };
    let (engine_ids, local_ids) = (ids(&engine), ids(&local));
    if engine_ids != local_ids {
        let first = engine_ids.iter().zip(&local_ids).position(|(e, l)| e != l);
        panic!(
            "the customers differ: engine {} rows, local {}; first difference at row {first:?}",
            engine_ids.len(),
            local_ids.len()
        );
    }
    let mut worst = 0.0f64;
    let columns = catalogue::columns(&job).expect("catalogue");
    for column in &columns {
        let local_name = match column.usage {
            Use::Fact => format!("fact_{}", column.name),
            _ => column.name.clone(),
        };
        let values = |frame: &DataFrame, name: &str| -> Vec<Option<f64>> {
            let c = frame
                .column(name)
                .unwrap_or_else(|_| panic!("no column {name}"));
            let c = c.cast(&DataType::Float64).expect("numbers");
            c.f64().expect("numbers").iter().collect()
        };
        let (e, l) = (values(&engine, &column.name), values(&local, &local_name));
        for (row, (e, l)) in e.iter().zip(&l).enumerate() {
            match (e, l) {
                (Some(e), Some(l)) if column.whole => assert_eq!(
                    e, l,
                    "{} of customer {row}: engine {e}, local {l}",
                    column.name
                ),
                (Some(e), Some(l)) => {
                    let relative = (e - l).abs() / l.abs().max(f64::MIN_POSITIVE);
                    let difference = if *l == 0.0 { e.abs() } else { relative };
                    assert!(
                        difference <= 1e-9,
                        "{} of customer {row}: engine {e}, local {l}",
                        column.name
                    );
                    worst = worst.max(difference);
                }
                _ => assert_eq!(e, l, "{} of customer {row}", column.name),
            }
        }
    }
    (columns.len(), worst)
}

/// The bundled data and CDNOW through `engine`: the features query equals the local table, and
/// a run on the engine's table assigns as the ordinary run does.
fn engine_features_equal_local(engine: Engine) {
    let dir = tempfile::tempdir().expect("scratch folder");
    let demo = demo_engine_job().write(dir.path());
    let mut tables: Vec<(&str, PathBuf)> = ["transactions", "customers", "campaigns", "events"]
        .into_iter()
        .map(|t| (t, util::repo(&format!("data/{t}.parquet"))))
        .collect();
    let demo_out = dir.path().join(format!("demo-{}.parquet", engine.name()));
    let demo_sql = features_query(&demo, engine);
    let values_out = dir.path().join(format!("values-{}.parquet", engine.name()));
    let values_sql = sql_query("values", &demo, engine);
    let cdnow_dir = dir.path().join("cdnow");
    std::fs::create_dir_all(&cdnow_dir).expect("cdnow folder");
    let cdnow = cdnow_parquet(&cdnow_dir).map(|parquet| {
        let job = cdnow_dir.join("job.toml");
        std::fs::write(&job, cdnow_engine_job(&parquet)).expect("cdnow job");
        (job, parquet)
    });
    let cdnow_out = cdnow_dir.join(format!("features-{}.parquet", engine.name()));
    let cdnow_sql;
    let mut queries = vec![
        (demo_sql.as_str(), demo_out.as_path()),
        (values_sql.as_str(), values_out.as_path()),
    ];
    if let Some((job, parquet)) = &cdnow {
        // CDNOW's table is its own schema's, as in a warehouse with several data sets.
        tables.push(("cdnow.transactions", parquet.clone()));
        let text = std::fs::read_to_string(job).expect("job").replace(
            "[inputs.transactions]\n",
            "[inputs.transactions]\ntable = \"cdnow.transactions\"\n",
        );
        std::fs::write(job, text).expect("cdnow job");
        cdnow_sql = features_query(job, engine);
        queries.push((cdnow_sql.as_str(), cdnow_out.as_path()));
    }
    let table_refs: Vec<(&str, &Path)> = tables.iter().map(|(t, p)| (*t, p.as_path())).collect();
    let Some(()) = engines::run_sql(engine, &table_refs, &queries) else {
        return;
    };
    let (columns, worst) = assert_same_table(
        &demo,
        &engines::read_result(&demo_out),
        &local_features(&demo, dir.path()),
    );
    eprintln!(
        "{}: bundled data, 20000 customers × {columns} columns equal (largest relative difference {worst:e})",
        engine.name()
    );
    if let Some((job, _)) = &cdnow {
        let (columns, worst) = assert_same_table(
            job,
            &engines::read_result(&cdnow_out),
            &local_features(job, &cdnow_dir),
        );
        eprintln!(
            "{}: CDNOW, 23570 customers × {columns} columns equal (largest relative difference {worst:e})",
            engine.name()
        );
    }
    runs_on_the_engine_table_assign_alike(&demo, &demo_out, dir.path());
    values_are_the_local_top_values(&engines::read_result(&values_out), dir.path());
}

/// The values query ranks as the local run does: each prefix's values, in order, are the ones
/// the local feature table of the job without `[features.values]` names its columns after.
fn values_are_the_local_top_values(ranked: &DataFrame, dir: &Path) {
    let unlisted = DemoJob::bundled()
        .edit("seed = 42", &format!("seed = 42\nas_of = \"{AS_OF}\""))
        .over_bundled_data();
    let folder = dir.join("unlisted");
    std::fs::create_dir_all(&folder).expect("folder");
    let local = local_features(&unlisted.write(&folder), &folder);
    let text = |name: &str| -> Vec<String> {
        let column = ranked.column(name).expect(name).cast(&DataType::String);
        let column = column.expect(name);
        column
            .str()
            .expect(name)
            .iter()
            .map(|v| v.expect(name).to_string())
            .collect()
    };
    let (prefixes, values) = (text("prefix"), text("value"));
    let mut by_prefix: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for (prefix, value) in prefixes.iter().zip(&values) {
        let name = format!("{prefix}_{}", segmenta::features::slug(value));
        by_prefix.entry(prefix).or_default().push(name);
    }
    assert_eq!(by_prefix.len(), 6, "{by_prefix:?}");
    for (prefix, named) in by_prefix {
        let start = format!("{prefix}_");
        let columns: Vec<String> = local
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .filter(|n| n.starts_with(&start) && *n != format!("{prefix}_other"))
            .collect();
        assert_eq!(named, columns, "the {prefix} values");
    }
}

/// `[inputs.features]` over the engine's output gives the ordinary run's assignments and
/// segment table, byte for byte.
fn runs_on_the_engine_table_assign_alike(job: &Path, engine_table: &Path, dir: &Path) {
    let text = std::fs::read_to_string(job).expect("job");
    let from_table = text.replace(
        "[inputs.reference]",
        &format!(
            "[inputs.features]\npath = {:?}\n\n[inputs.reference]",
            engine_table.display().to_string()
        ),
    );
    let table_job = dir.join("from-engine.toml");
    std::fs::write(&table_job, from_table).expect("job");
    let mut folders = Vec::new();
    for (job, out) in [(job, "ordinary"), (table_job.as_path(), "engine")] {
        let root = dir.join(out);
        let run = cli(
            dir,
            [
                "run",
                job.to_str().expect("path"),
                "--output",
                root.to_str().expect("path"),
                "-q",
            ],
        );
        assert_eq!(run.code, 0, "run {out}: {}", run.stderr);
        folders.push(root.join("demo").join(AS_OF));
    }
    for file in ["assignments.csv", "segments.csv"] {
        let read = |folder: &PathBuf| std::fs::read(folder.join(file)).expect("report file");
        assert!(
            read(&folders[0]) == read(&folders[1]),
            "{file} differs between the ordinary run and the run on the engine's table"
        );
    }
}

#[test]
fn duckdb_features_equal_local() {
    engine_features_equal_local(Engine::DuckDb);
}

#[test]
fn postgres_features_equal_local() {
    engine_features_equal_local(Engine::Postgres);
}

#[test]
fn spark_features_equal_local() {
    engine_features_equal_local(Engine::Spark);
}

/// The catalogue — the columns decided from the job alone — is the local feature table's:
/// names, order, groups, kinds, imputation, trials and blocks.
#[test]
fn the_catalogue_is_the_local_feature_table() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let job = Job::from_file(&demo_engine_job().write(dir.path())).expect("job");
    let (table, _) = segmenta::features::of_job(&job, None).expect("local features");
    let columns = catalogue::columns(&job).expect("catalogue");
    let features: Vec<_> = columns.iter().filter(|c| c.usage == Use::Feature).collect();
    assert_eq!(features.len(), table.features.len());
    for (column, feature) in features.iter().zip(&table.features) {
        assert_eq!(column.name, feature.name);
        assert_eq!(column.group, feature.group, "{}", feature.name);
        assert_eq!(column.kind, feature.kind, "{}", feature.name);
        assert_eq!(column.impute, feature.impute, "{}", feature.name);
        assert_eq!(column.trials, feature.trials, "{}", feature.name);
        assert_eq!(column.block, feature.block, "{}", feature.name);
    }
    let rule_only: Vec<&str> = columns
        .iter()
        .filter(|c| c.usage == Use::RuleOnly)
        .map(|c| c.name.as_str())
        .collect();
    let local: Vec<&str> = table.rule_only.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(rule_only, local);
}

/// Bad requests get clear errors: values not listed, an unknown dialect, no as-of date.
#[test]
fn the_features_query_refuses_what_it_cannot_name() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let unlisted = DemoJob::bundled().write(dir.path());
    let job = unlisted.to_str().expect("path");
    let out = cli(
        dir.path(),
        [
            "sql",
            "features",
            job,
            "--dialect",
            "duckdb",
            "--as-of",
            AS_OF,
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("[features.values]") && out.stderr.contains("category"),
        "{}",
        out.stderr
    );
    let out = cli(dir.path(), ["sql", "features", job, "--dialect", "mysql"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("mysql"), "{}", out.stderr);
    let listed = demo_engine_job()
        .edit(&format!("as_of = \"{AS_OF}\"\n"), "")
        .write(dir.path());
    let out = cli(
        dir.path(),
        [
            "sql",
            "features",
            listed.to_str().expect("path"),
            "--dialect",
            "spark",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("as_of"), "{}", out.stderr);
}

/// A hand-written feature table for the small client log (dates only): one row per customer.
const TABLE_HEADER: &str = "customer_id,recency_days,frequency,monetary,avg_order_value,tenure_days,mean_interpurchase_days,refund_share,weekend_share,peak_season_share,previous_gap_days";

fn run_on_table(rows: &str) -> util::Outcome {
    let job = util::client_log_job(
        "from-table",
        "timestamp_format = \"%Y-%m-%d\"\n[inputs.features]\npath = \"features.csv\"\n[discovery]\nk = 2\n",
    );
    let table = format!("{TABLE_HEADER}\n{rows}");
    let dir = util::workdir(&[("job.toml", &job), ("features.csv", &table)]);
    cli(dir.path(), ["run", "job.toml", "--output", "reports", "-q"])
}

const GOOD_ROWS: &str = "a,10,3,120.5,40.1666,200,95,0,0.33,0,30\nb,,0,0,,0,,,,,\nc,300,1,15,15,300,,0.5,1,1,\nd,40,2,80,40,90,50,0,0,0.5,50\n";

#[test]
fn a_hand_written_feature_table_runs() {
    let out = run_on_table(GOOD_ROWS);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn a_feature_table_with_an_id_twice_is_refused() {
    let out = run_on_table(&format!("{GOOD_ROWS}a,1,1,1,1,1,,0,0,0,\n"));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("'a' twice")
            && out.stderr.contains("row 1")
            && out.stderr.contains("row 5"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_feature_table_without_a_job_column_is_refused() {
    // The peak_season_share column (the tenth) left out of every line.
    let without_peak = |line: &str| {
        let mut fields: Vec<&str> = line.split(',').collect();
        fields.remove(9);
        fields.join(",")
    };
    let rows: Vec<String> = GOOD_ROWS.lines().map(without_peak).collect();
    let rows = rows.join("\n");
    let header_without_peak = without_peak(TABLE_HEADER);
    let job = util::client_log_job(
        "from-table",
        "timestamp_format = \"%Y-%m-%d\"\n[inputs.features]\npath = \"features.csv\"\n",
    );
    let table = format!("{header_without_peak}\n{rows}");
    let dir = util::workdir(&[("job.toml", &job), ("features.csv", &table)]);
    let out = cli(dir.path(), ["run", "job.toml", "--output", "reports", "-q"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("features.csv") && out.stderr.contains("'peak_season_share'"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_feature_table_with_text_in_a_number_column_is_refused() {
    let out = run_on_table(&GOOD_ROWS.replace("c,300,1,", "c,300,one,"));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("frequency") && out.stderr.contains("one"),
        "{}",
        out.stderr
    );
}
