//! Who moved since last month: a job run twice, a month apart, on populations that share 2,000
//! customers (1,000 lost, 1,000 new). The second report has the "Who moved since …" section,
//! migrations.csv and summary.json `migrations`; every matrix adds up to the customers of both
//! runs with the right row and column totals; `segmenta compare` on the two folders writes the
//! same counts, and names the folder that lacks assignments.csv.
//!
//! In detail: the populations share 2,000 of 3,000 customers, so the second report's flow chart
//! and every matrix — clusters, classic RFM groups, lifecycle and the other rule sets — cover
//! the 4,000 customers of both runs, rows adding up to each earlier segment's customers plus the
//! 1,000 new ones and columns to each later segment's customers plus the 1,000 lost ones;
//! customers of one run only are `new` or `lost` in migrations.csv. `segmenta compare` exits 0
//! on the two folders, exits 1 naming a folder without assignments.csv or a folder that does not
//! exist, and exits 3 rather than replace a report folder given as `--output`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use segmenta::compare::Matching;
use segmenta::generate::SyntheticData;
use segmenta::job::Job;
use segmenta::RunOptions;

use crate::util::{self, DemoJob, Outcome};

const SEED: u64 = 11;

fn options(root: &Path, as_of: Option<chrono::NaiveDate>) -> RunOptions {
    RunOptions {
        as_of,
        ..util::options(root)
    }
}

/// The demo job's mapping and rules over generated tables in `dir`, with a fixed k and no
/// mixture to keep the test quick.
fn job_over(data: &SyntheticData, dir: &Path) -> Job {
    let path = DemoJob::bundled()
        .fixed_k(5)
        .without_mixture()
        .write_over(data, dir);
    Job::from_file(&path).unwrap()
}

fn population(range: std::ops::Range<usize>) -> SyntheticData {
    util::population(range, SEED)
}

/// One CSV line's cells, quotes respected (titles and ids may hold commas).
fn cells(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().unwrap().push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            _ => out.last_mut().unwrap().push(ch),
        }
    }
    out
}

/// A CSV as one map per row, header → cell.
fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = cells(lines.next().unwrap());
    lines
        .map(|line| header.iter().cloned().zip(cells(line)).collect())
        .collect()
}

/// Customers per value of `column`.
fn tally(rows: &[HashMap<String, String>], column: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for row in rows {
        *counts.entry(row[column].clone()).or_default() += 1;
    }
    counts
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn counts(matrix: &serde_json::Value) -> Vec<Vec<u64>> {
    matrix["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect()
        })
        .collect()
}

/// Row sums = previous customers per segment + new, column sums = current customers per
/// segment + lost, all adding up to the customers of either run.
fn check_matrix(
    matrix: &serde_json::Value,
    before: &[HashMap<String, String>],
    after: &[HashMap<String, String>],
    (customers, new, lost): (u64, u64, u64),
) {
    let column = matrix["column"].as_str().unwrap();
    let rows = strings(&matrix["rows"]);
    let columns = strings(&matrix["columns"]);
    let counts = counts(matrix);
    assert_eq!(counts.len(), rows.len(), "{column}");
    assert_eq!(
        counts.iter().flatten().sum::<u64>(),
        customers,
        "{column}: the matrix adds up to the customers of both runs"
    );
    // The last row and column are the new and lost customers (by position: value-tiers has a
    // segment called "Lost").
    let (segments_then, segments_now) = (rows.len() - 1, columns.len() - 1);
    let row_sums: Vec<u64> = counts.iter().map(|r| r.iter().sum()).collect();
    let column_sums: Vec<u64> = (0..columns.len())
        .map(|j| counts.iter().map(|r| r[j]).sum())
        .collect();
    assert_eq!(row_sums[segments_then], new, "{column}: new customers");
    assert_eq!(column_sums[segments_now], lost, "{column}: lost customers");
    // Rule-set tables list a segment on both axes when either run has it; it counts 0 where
    // the run had nobody in it.
    let nonzero = |names: &[String], sums: &[u64]| -> BTreeMap<String, u64> {
        names
            .iter()
            .zip(sums)
            .filter(|(_, n)| **n > 0)
            .map(|(name, n)| (name.clone(), *n))
            .collect()
    };
    assert_eq!(
        nonzero(&rows[..segments_then], &row_sums[..segments_then]),
        tally(before, column),
        "{column}: row sums"
    );
    assert_eq!(
        nonzero(&columns[..segments_now], &column_sums[..segments_now]),
        tally(after, column),
        "{column}: column sums"
    );
    assert_eq!(rows.last().map(String::as_str), Some("New customer"));
    assert_eq!(columns.last().map(String::as_str), Some("Lost customer"));
}

/// `segmenta --quiet compare <args>` (absolute paths).
fn segmenta(args: &[&Path]) -> Outcome {
    let command = [Path::new("--quiet"), Path::new("compare")];
    util::cli(&util::repo("."), command.iter().chain(args))
}

#[test]
fn the_next_run_shows_who_moved_and_segmenta_compare_agrees() {
    let root = tempfile::tempdir().unwrap();
    let reports = root.path().join("reports");
    let january = job_over(&population(0..3000), &root.path().join("january"));
    let (first, first_folder) = segmenta::run(&january, &options(&reports, None)).unwrap();
    assert!(first.migrations.is_none(), "no earlier run, nothing moved");
    assert!(!first_folder.join("migrations.csv").exists());

    let february = job_over(&population(1000..4000), &root.path().join("february"));
    let started = std::time::Instant::now();
    let (second, folder) = segmenta::run(
        &february,
        &options(&reports, chrono::NaiveDate::from_ymd_opt(2026, 2, 1)),
    )
    .unwrap();
    eprintln!("second run: {:.1} s", started.elapsed().as_secs_f64());
    let c = second
        .migrations
        .as_ref()
        .expect("January is the previous run");
    assert_eq!(c.matching, Matching::PreviousModel);
    assert_eq!(c.previous.as_of, "2026-01-01");
    assert_eq!(
        (
            c.customers,
            c.customers_in_both,
            c.new_customers,
            c.lost_customers
        ),
        (4000, 2000, 1000, 1000)
    );
    assert_eq!(c.clusters.stayed + c.clusters.moved, 2000);
    eprintln!(
        "clusters: {} stayed, {} moved; matches {:?}",
        c.clusters.stayed,
        c.clusters.moved,
        c.matches
            .iter()
            .map(|m| format!("{} ← {:?} ({:.2})", m.current, m.previous, m.share))
            .collect::<Vec<_>>()
    );

    // The report: the section, the chart, migrations.csv and summary.json `migrations`.
    let html = std::fs::read_to_string(folder.join("index.html")).unwrap();
    assert!(html.contains("<h2>Who moved since 2026-01-01</h2>"));
    for column in ["segment", "rfm_group", "lifecycle_stage"] {
        assert!(
            html.contains(&format!("Column <code>{column}</code>:")),
            "no migration table for {column}"
        );
    }
    let png = std::fs::read(folder.join("charts/migration.png")).unwrap();
    let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    assert!(width >= 1600, "migration chart only {width} px wide");
    assert!(folder.join("charts/migration.svg").is_file());
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("summary.json")).unwrap())
            .unwrap();
    let m = &summary["migrations"];
    assert_eq!(m["matching"], "previous_model");
    assert_eq!(m["new_customers"], 1000);
    assert_eq!(m["lost_customers"], 1000);

    let before = read_csv(&first_folder.join("assignments.csv"));
    let after = read_csv(&folder.join("assignments.csv"));
    let totals = (4000, 1000, 1000);
    check_matrix(&m["clusters"], &before, &after, totals);
    let rule_columns: Vec<&str> = m["rule_sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|set| {
            check_matrix(set, &before, &after, totals);
            set["column"].as_str().unwrap()
        })
        .collect();
    for column in ["rfm_group", "lifecycle_stage"] {
        assert!(rule_columns.contains(&column), "{rule_columns:?}");
    }
    // Lifecycle rows follow the preset's order, not the alphabet.
    let set = |column: &str| {
        m["rule_sets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["column"] == column)
            .unwrap()
            .clone()
    };
    let stages = strings(&set("lifecycle_stage")["rows"]);
    let position = |s: &str| stages.iter().position(|x| x == s);
    assert!(position("Active") < position("Churn"), "{stages:?}");
    // value-tiers' own "Lost" segment is a row and column of its own, apart from the lost
    // customers.
    let tiers = set("value_tiers_segment");
    assert!(strings(&tiers["columns"]).contains(&"Lost".to_string()));

    // One row per customer of either run; only-January customers are lost, only-February new.
    let moves = read_csv(&folder.join("migrations.csv"));
    assert_eq!(moves.len(), 4000);
    let in_before: HashMap<&str, &str> = before
        .iter()
        .map(|r| (r["customer_id"].as_str(), r["segment"].as_str()))
        .collect();
    let in_after: HashMap<&str, &str> = after
        .iter()
        .map(|r| (r["customer_id"].as_str(), r["segment"].as_str()))
        .collect();
    for row in &moves {
        let id = row["customer_id"].as_str();
        let (was, is) = (in_before.get(id), in_after.get(id));
        assert_eq!(row["from"].as_str(), *was.unwrap_or(&""), "{id}");
        assert_eq!(row["to"].as_str(), *is.unwrap_or(&""), "{id}");
        assert_eq!(row["rfm_group_from"].is_empty(), was.is_none(), "{id}");
        assert_eq!(row["lifecycle_stage_to"].is_empty(), is.is_none(), "{id}");
        match (was, is) {
            (None, Some(_)) => assert_eq!(row["change"], "new"),
            (Some(_), None) => assert_eq!(row["change"], "lost"),
            (Some(_), Some(_)) => assert!(["stayed", "moved"].contains(&row["change"].as_str())),
            (None, None) => panic!("{id} is in neither run"),
        }
    }

    // `segmenta compare` on the two folders: same counts, clusters matched by overlap.
    let out = root.path().join("compared");
    let run = segmenta(&[&first_folder, &folder, Path::new("--output"), &out]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let compared: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).unwrap()).unwrap();
    assert_eq!(compared["matching"], "customer_overlap");
    assert_eq!(counts(&compared["clusters"]), counts(&m["clusters"]));
    assert_eq!(compared["rule_sets"], m["rule_sets"]);
    check_matrix(&compared["clusters"], &before, &after, totals);
    for file in ["index.html", "migrations.csv", "charts/migration.png"] {
        assert!(out.join(file).is_file(), "{file}");
    }
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("Who moved since 2026-01-01") && page.contains("by customer overlap"));

    // Without --output the comparison goes beside the current report, under a name no later
    // run mistakes for a run.
    let run = segmenta(&[&first_folder, &folder]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let beside = folder.with_file_name("2026-02-01-vs-2026-01-01");
    assert!(beside.join("index.html").is_file(), "{}", beside.display());

    // SEGMENTA_KEEP_COMPARISON=<dir> keeps the report's page, chart and CSV for looking at.
    if let Ok(keep) = std::env::var("SEGMENTA_KEEP_COMPARISON") {
        let keep = Path::new(&keep);
        std::fs::create_dir_all(keep).unwrap();
        for (from, to) in [
            (folder.join("index.html"), "run-index.html"),
            (folder.join("charts/migration.png"), "run-migration.png"),
            (folder.join("migrations.csv"), "migrations.csv"),
            (out.join("index.html"), "compare-index.html"),
            (out.join("charts/migration.png"), "compare-migration.png"),
        ] {
            std::fs::copy(from, keep.join(to)).unwrap();
        }
    }

    // --output never replaces a folder that holds something else (here the January report).
    let run = segmenta(&[&first_folder, &folder, Path::new("--output"), &first_folder]);
    assert_eq!(run.code, 3);
    assert!(first_folder.join("assignments.csv").is_file());

    // A folder without assignments.csv, and a folder that does not exist: exit code 1 and a
    // message naming it.
    let broken = root.path().join("broken-run");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::copy(
        first_folder.join("summary.json"),
        broken.join("summary.json"),
    )
    .unwrap();
    let run = segmenta(&[&broken, &folder]);
    let message = run.stderr;
    assert_eq!(run.code, 1, "{message}");
    assert!(
        message.contains("broken-run") && message.contains("assignments.csv"),
        "{message}"
    );
    let missing = root.path().join("no-such-run");
    let run = segmenta(&[&first_folder, &missing]);
    let message = run.stderr;
    assert_eq!(run.code, 1, "{message}");
    assert!(message.contains("no-such-run"), "{message}");

    // A previous run that cannot be read is a warning in the next run, not an error.
    std::fs::remove_file(first_folder.join("assignments.csv")).unwrap();
    let (again, folder) = segmenta::run(
        &february,
        &options(&reports, chrono::NaiveDate::from_ymd_opt(2026, 2, 1)),
    )
    .unwrap();
    assert!(again.migrations.is_none());
    assert!(!folder.join("migrations.csv").exists());
    assert!(
        again
            .warnings
            .iter()
            .any(|w| w.contains("could not be compared") && w.contains("assignments.csv")),
        "{:?}",
        again.warnings
    );
}
