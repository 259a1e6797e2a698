//! Every real table shape segments, and no real customer is lost. The fixtures in
//! tests/data/shapes/ are made by tests/reference/table_shapes.py in the shapes of the public
//! data sets analysts try first: a demographics-only customer table (Mall Customers: CRLF, no
//! final newline, `$` and brackets in the headers, id 0), a behaviour table without recency
//! (CC GENERAL: blank cells), an order system exported as orders, items and customers (Olist:
//! several customer_id per customer_unique_id, items without an order) and an invoice log with
//! Excel's "(blank)" for invoices without a customer. Expected figures are the generator's own,
//! or recounted here from the raw files, never from our loader.
//!
//! - The demographics-only table keeps all 240 ids, leaves out the RFM rule sets with one note
//!   each, names every segment by its traits in `summary.json`, the export and the page, has no
//!   R×F grid or cut points, finds the planted groups and counts a custom rule over age and
//!   income as the raw file does.
//! - The behaviour table without recency keeps all 600 customers and its spend to the cent,
//!   scores F and M only and imputes the blanks.
//! - The invoice log drops Excel's "(blank)" with its 364 rows and their net amount counted,
//!   keeps customer "0", and drops it too with `missing_ids = ["0", "(blank)"]`; a placeholder
//!   the list misses ("Guest", 14 % of the rows) is kept, and warned about on stderr, in
//!   `summary.json` and on the page with its figures.
//! - The orders + items + customers export joined by a query gives the same customers, revenue
//!   and byte-identical assignments as the same data pre-joined.

use std::path::{Path, PathBuf};

use polars::prelude::{DataType, ParquetReader, SerReader};
use serde_json::Value;

use crate::util::{self, csv_column as column, Outcome};

fn shapes() -> PathBuf {
    util::test_data("shapes")
}

/// A scratch folder holding the named fixtures and `job.toml`.
fn case(files: &[&str], job: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("scratch folder");
    for file in files {
        std::fs::copy(shapes().join(file), dir.path().join(file)).expect("copy fixture");
    }
    std::fs::write(dir.path().join("job.toml"), job).expect("job file");
    dir
}

/// Runs `job.toml` and returns the report folder (the only as-of folder of the job).
fn run(dir: &Path) -> PathBuf {
    run_and_say(dir).0
}

/// Runs `job.toml`; the report folder and what the run printed.
fn run_and_say(dir: &Path) -> (PathBuf, Outcome) {
    let out = util::cli(dir, &["run", "job.toml", "--output", "out"]);
    assert_eq!(out.code, 0, "run failed:\n{}\n{}", out.stdout, out.stderr);
    let job_dir = std::fs::read_dir(dir.join("out"))
        .expect("output folder")
        .flatten()
        .next()
        .expect("a job folder")
        .path();
    let report = std::fs::read_dir(job_dir)
        .expect("job folder")
        .flatten()
        .map(|e| e.path())
        .find(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .expect("a report folder");
    (report, out)
}

fn summary(report: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap()).unwrap()
}

/// Money cells summed exactly in millionths and rounded to the cent once, as text.
fn cents(cells: &[String]) -> String {
    let micros: i128 = cells
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| {
            let negative = c.starts_with('-');
            let c = c.trim_start_matches('-');
            let (whole, fraction) = c.split_once('.').unwrap_or((c, ""));
            let fraction = format!("{fraction:0<6}");
            let v =
                whole.parse::<i128>().unwrap() * 1_000_000 + fraction[..6].parse::<i128>().unwrap();
            if negative {
                -v
            } else {
                v
            }
        })
        .sum();
    let cents = (micros + micros.signum() * 5_000) / 10_000;
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

/// "152126.56" → "152,126.56", as the report prints money.
fn grouped(money: &str) -> String {
    let (whole, cents) = money.split_once('.').unwrap();
    let digits: Vec<char> = whole.chars().collect();
    let mut out = String::new();
    for (i, d) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(*d);
    }
    format!("{out}.{cents}")
}

fn revenue(summary: &Value) -> String {
    format!("{:.2}", summary["revenue"].as_f64().unwrap())
}

/// A text column of assignments.parquet (the CSV quotes names that hold commas).
fn assigned(report: &Path, name: &str) -> Vec<String> {
    let file = std::fs::File::open(report.join("assignments.parquet")).unwrap();
    let frame = ParquetReader::new(file).finish().unwrap();
    let column = frame
        .column(name)
        .unwrap_or_else(|_| panic!("assignments have no column {name}"));
    let text = column.cast(&DataType::String).unwrap();
    text.str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect()
}

fn assignment_ids(report: &Path) -> Vec<String> {
    assigned(report, "customer_id")
}

const MALL_JOB: &str = r#"
name = "mall"

[inputs.customers]
path = "mall_like.csv"
customer_id = "CustomerID"
gender = "Gender"
age = "Age"
income = "Annual Income (k$)"
numeric = ["Spending Score (1-100)"]

[inputs.reference]
path = "mall_like_groups.csv"
customer_id = "customer_id"
segment = "group"

[[rules.custom]]
name = "Young and well paid"
when = "age < 30 AND income > 60"

[[rules.custom]]
name = "Big spenders"
when = "spending_score >= 70"
"#;

#[test]
fn a_demographics_only_table_segments_with_trait_names() {
    let dir = case(&["mall_like.csv", "mall_like_groups.csv"], MALL_JOB);
    let raw = std::fs::read(dir.path().join("mall_like.csv")).unwrap();
    assert!(raw.windows(2).any(|w| w == b"\r\n") && !raw.ends_with(b"\n"));
    let report = run(dir.path());
    let s = summary(&report);

    // Every row is a customer, id 0 included.
    let ids = column(&shapes().join("mall_like.csv"), "CustomerID");
    let mut kept = assignment_ids(&report);
    assert_eq!(s["customers"], 240);
    assert!(kept.contains(&"0".to_string()));
    kept.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(kept, expected);

    // No transaction log: the clusters are found on the customers' own columns, the RFM rule
    // sets are left out with one note each, and nothing pretends to be RFM.
    let features: Vec<&str> = s["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for feature in ["age", "income", "spending_score"] {
        assert!(features.contains(&feature), "{features:?}");
    }
    assert!(s["agreement"].is_null());
    let skipped: Vec<&str> = s["skipped_rule_sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["classic-rfm", "lifecycle"]);
    let notes: Vec<&str> = s["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        !notes.iter().any(|w| w.contains("never matches")),
        "{notes:?}"
    );
    assert_eq!(
        notes.iter().filter(|w| w.contains("left out")).count(),
        2,
        "{notes:?}"
    );

    // Each segment is named by its traits, in the summary, the export and the page.
    let clusters = s["clusters"].as_array().unwrap();
    let words = [
        "younger",
        "older",
        "income",
        "spending score",
        "female",
        "male",
    ];
    let mut titles = Vec::new();
    for c in clusters {
        assert!(c["label"].is_null() && c["rfm_name"].is_null(), "{c}");
        let title = c["title"].as_str().unwrap().to_string();
        assert!(words.iter().any(|w| title.contains(w)), "{title}");
        titles.push(title);
    }
    let mut distinct = titles.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), titles.len(), "{titles:?}");
    let names = assigned(&report, "segment_name");
    assert!(names.iter().all(|n| titles.contains(n)), "{names:?}");
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    for title in &titles {
        assert!(html.contains(&format!("<h3>{title}</h3>")), "{title}");
    }
    assert!(html.contains("features clustered on (customers table)"));
    assert!(html.contains("left out: it needs `recency_days`") && html.contains("Segment sizes"));
    assert!(!html.contains("<th>Net spend</th>") && !html.contains("<th>Orders</th>"));
    for gone in [
        "transaction lines used",
        "The R×F grid",
        "RFM score cut points",
        "of revenue",
        "R×F median",
    ] {
        assert!(!html.contains(gone), "the page still shows {gone:?}");
    }
    let header = std::fs::read_to_string(report.join("assignments.csv")).unwrap();
    let header = header.lines().next().unwrap();
    assert!(
        !header.contains("r_score") && !header.contains("rfm_cell"),
        "{header}"
    );

    // The five planted groups (far apart on income × spending score) are found: every segment
    // lies within one of them — gender, which they do not plant, may split a group in two — and
    // every group leads some segment.
    let groups: std::collections::HashMap<String, String> =
        std::fs::read_to_string(shapes().join("mall_like_groups.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let (id, group) = l.split_once(',').unwrap();
                (id.to_string(), group.trim_matches('"').to_string())
            })
            .collect();
    let mut members: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
    for (id, cluster) in assignment_ids(&report)
        .iter()
        .zip(assigned(&report, "kmeans_cluster"))
    {
        members.entry(cluster).or_default().push(&groups[id]);
    }
    let mut leading = std::collections::BTreeSet::new();
    for (cluster, planted) in &members {
        let top = planted
            .iter()
            .map(|g| (planted.iter().filter(|h| *h == g).count(), *g))
            .max()
            .unwrap();
        let purity = top.0 as f64 / planted.len() as f64;
        assert!(
            purity >= 0.9,
            "cluster {cluster}: {purity:.2} of one planted group"
        );
        leading.insert(top.1);
    }
    assert_eq!(leading.len(), 5, "{leading:?}");

    // Custom rules over demographic columns, recounted from the raw file.
    let age = column(&shapes().join("mall_like.csv"), "Age");
    let text = std::fs::read_to_string(shapes().join("mall_like.csv")).unwrap();
    let income: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap().trim().parse().unwrap())
        .collect();
    let young_paid = age
        .iter()
        .zip(&income)
        .filter(|(a, i)| a.parse::<f64>().unwrap() < 30.0 && **i > 60.0)
        .count();
    let custom = s["rule_sets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "custom")
        .expect("the custom rules");
    let size = |name: &str| {
        custom["segments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|seg| seg["name"] == name)
            .map(|seg| seg["customers"].as_u64().unwrap())
            .unwrap()
    };
    assert_eq!(size("Young and well paid") as usize, young_paid);
    assert!(young_paid > 0);
}

const CARDS_JOB: &str = r#"
name = "cards"
as_of = "2024-01-01"

[inputs.customers]
path = "cards_like.csv"
customer_id = "CUST_ID"
frequency = "PURCHASES_TRX"
monetary = "PURCHASES"
numeric = ["BALANCE", "CASH_ADVANCE", "CREDIT_LIMIT", "PAYMENTS", "MINIMUM_PAYMENTS", "TENURE"]

[rules]
presets = ["classic-rfm", "lifecycle", "value-tiers"]

[[rules.custom]]
name = "Cash users"
when = "cash_advance > 1000 AND frequency = 0"
"#;

#[test]
fn a_behaviour_table_without_recency_segments_and_keeps_its_spend() {
    let dir = case(&["cards_like.csv"], CARDS_JOB);
    let report = run(dir.path());
    let s = summary(&report);
    let raw = shapes().join("cards_like.csv");
    assert_eq!(s["customers"], 600);
    assert_eq!(revenue(&s), cents(&column(&raw, "PURCHASES")));
    // Without recency: no RFM groups, lifecycle or value tiers, each said once.
    let skipped: Vec<(String, String)> = s["skipped_rule_sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["name"].as_str().unwrap().to_string(),
                k["needs"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(skipped.iter().all(|(_, needs)| needs == "recency_days"));
    // Blank cells are imputed and counted, not dropped.
    assert_eq!(s["imputed_cells"]["credit_limit"], 1);
    let blank_minimum = column(&raw, "MINIMUM_PAYMENTS")
        .iter()
        .filter(|c| c.is_empty())
        .count();
    assert_eq!(s["imputed_cells"]["minimum_payments"], blank_minimum);
    // F and M are scored; there is no R to score.
    let csv = std::fs::read_to_string(report.join("assignments.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.contains("f_score") && header.contains("m_score"),
        "{header}"
    );
    assert!(!header.contains("r_score") && !header.contains("lifecycle_stage"));
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(html.contains("Frequency and spend per segment"));
    assert!(html.contains("spend in the customers table"));
    assert!(!html.contains("The R×F grid") && !html.contains("Recency, frequency"));
    // The custom rule over the table's own columns, recounted from the raw file.
    let cash: Vec<String> = column(&raw, "CASH_ADVANCE");
    let trx: Vec<String> = column(&raw, "PURCHASES_TRX");
    let expected = cash
        .iter()
        .zip(&trx)
        .filter(|(c, t)| c.parse::<f64>().unwrap() > 1000.0 && t.as_str() == "0")
        .count();
    let custom = assigned(&report, "custom_segment");
    assert_eq!(
        custom.iter().filter(|c| *c == "Cash users").count(),
        expected
    );
    assert!(expected > 0);
}

const INVOICES_JOB: &str = r#"
name = "invoices"

[inputs.transactions]
path = "invoices_blank.csv"
customer_id = "CustomerID"
timestamp = "InvoiceDate"
amount = "Amount"
order_id = "InvoiceNo"
"#;

fn invoices_expected() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(shapes().join("invoices_blank_expected.json")).unwrap(),
    )
    .unwrap()
}

#[test]
fn excel_blank_is_no_customer_and_id_zero_is_one() {
    let expected = invoices_expected();
    let dir = case(&["invoices_blank.csv"], INVOICES_JOB);
    let report = run(dir.path());
    let s = summary(&report);
    assert_eq!(s["customers"], expected["customers_excluding_blank"]);
    assert_eq!(
        revenue(&s),
        expected["revenue_excluding_blank"].as_str().unwrap()
    );
    let ids = assignment_ids(&report);
    assert!(ids.contains(&"0".to_string()) && !ids.contains(&"(blank)".to_string()));
    let reason = "transactions: customer id '(blank)' in the default missing_ids";
    assert_eq!(s["data_quality"]["dropped"][reason], expected["blank_rows"]);
    assert_eq!(
        format!(
            "{:.2}",
            s["data_quality"]["dropped_revenue"][reason]
                .as_f64()
                .unwrap()
        ),
        expected["blank_revenue"].as_str().unwrap()
    );
    let blank_revenue = grouped(expected["blank_revenue"].as_str().unwrap());
    let log = std::fs::read_to_string(report.join("run.log")).unwrap();
    let line = format!(
        "rows dropped: {reason} = {} (net amount {blank_revenue})",
        expected["blank_rows"]
    );
    assert!(log.contains(&line), "run.log lacks {line}");
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(html.contains(&format!(
        "net amount {blank_revenue} left out of the revenue"
    )));

    // A job that lists "0" drops it too, with its revenue; the list replaces the default.
    let job = format!("{INVOICES_JOB}missing_ids = [\"0\", \"(blank)\"]\n");
    let dir = case(&["invoices_blank.csv"], &job);
    let report = run(dir.path());
    let s = summary(&report);
    assert_eq!(
        s["customers"].as_u64().unwrap() + 1,
        expected["customers_excluding_blank"].as_u64().unwrap()
    );
    let zero = "transactions: customer id '0' in missing_ids";
    assert_eq!(s["data_quality"]["dropped"][zero], expected["zero_id_rows"]);
    assert_eq!(
        format!(
            "{:.2}",
            s["data_quality"]["dropped_revenue"][zero].as_f64().unwrap()
        ),
        expected["zero_id_revenue"].as_str().unwrap()
    );
    assert!(!assignment_ids(&report).contains(&"0".to_string()));
}

#[test]
fn a_placeholder_holding_many_rows_is_flagged_not_dropped() {
    let expected = invoices_expected();
    // "Guest" is no default placeholder: the run keeps it and says what it looks like.
    let text = std::fs::read_to_string(shapes().join("invoices_blank.csv")).unwrap();
    let dir = case(&[], INVOICES_JOB);
    std::fs::write(
        dir.path().join("invoices_blank.csv"),
        text.replace(",(blank),", ",Guest,"),
    )
    .unwrap();
    let (report, out) = run_and_say(dir.path());
    let number = |key: &str| -> f64 { expected[key].as_str().unwrap().parse().unwrap() };
    let (blank_rows, rows) = (
        expected["blank_rows"].as_u64().unwrap(),
        expected["rows"].as_u64().unwrap(),
    );
    let share_of_rows = format!("{:.1} %", 100.0 * blank_rows as f64 / rows as f64);
    let revenue_share = 100.0 * number("blank_revenue") / number("revenue_all");
    let warning_bits = [
        format!(
            "customer id 'Guest' holds {blank_rows} of the {} transactions rows",
            grouped(&format!("{rows}.00")).trim_end_matches(".00")
        ),
        share_of_rows.clone(),
        format!("{revenue_share:.1} % of their net amount"),
        "missing_ids = [\"Guest\"]".to_string(),
    ];
    for bit in &warning_bits {
        assert!(
            out.stderr.contains(bit.as_str()),
            "stderr lacks {bit}:\n{}",
            out.stderr
        );
    }
    let s = summary(&report);
    // Kept: every real customer plus Guest.
    assert_eq!(
        s["customers"].as_u64().unwrap(),
        expected["customers_excluding_blank"].as_u64().unwrap() + 1
    );
    assert_eq!(revenue(&s), expected["revenue_all"].as_str().unwrap());
    let warning = s["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .find(|w| w.contains("'Guest' holds"))
        .expect("the warning in summary.json");
    for bit in &warning_bits {
        assert!(warning.contains(bit.as_str()), "{warning}");
    }
    let flagged = &s["data_quality"]["suspicious_ids"][0];
    assert_eq!(flagged["id"], "Guest");
    assert_eq!(flagged["rows"], blank_rows);
    assert_eq!(
        flagged["median_rows"].as_f64(),
        expected["median_rows_per_real_customer"].as_f64()
    );
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(html.contains("<tr class=\"flagged\"><td class=\"t\">⚑ Guest</td>"));
    assert!(html.contains("Possible placeholder ids (kept, flagged)"));
}

fn normalised_job(name: &str) -> String {
    format!(
        r#"
name = "{name}"
as_of = "2018-09-01"

[tables.orders]
path = "orders.csv"

[tables.items]
path = "order_items.csv"

[tables.customers]
path = "customers.csv"

[inputs.transactions]
query = """
SELECT c.customer_unique_id, o.order_id, o.order_purchase_timestamp,
       i.price + i.freight_value AS amount
FROM items AS i
JOIN orders AS o ON i.order_id = o.order_id
JOIN customers AS c ON o.customer_id = c.customer_id
"""
customer_id = "customer_unique_id"
timestamp = "order_purchase_timestamp"
amount = "amount"
order_id = "order_id"
"#
    )
}

const PREJOINED_JOB: &str = r#"
name = "prejoined"
as_of = "2018-09-01"

[inputs.transactions]
path = "prejoined.csv"
customer_id = "customer_unique_id"
timestamp = "order_purchase_timestamp"
amount = "amount"
order_id = "order_id"
"#;

#[test]
fn three_tables_joined_by_a_query_equal_the_same_data_prejoined() {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(shapes().join("normalised_expected.json")).unwrap(),
    )
    .unwrap();
    let tables = ["orders.csv", "order_items.csv", "customers.csv"];
    let dir = case(&tables, &normalised_job("orders"));
    let check = util::cli(dir.path(), &["check", "job.toml"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    for line in [
        format!("rows     tables.items: {}", expected["item_rows"]),
        "rows     tables.orders: 1479".to_string(),
        format!("rows     transactions: {}", expected["joined_rows"]),
    ] {
        assert!(
            check.stdout.contains(&line),
            "check lacks {line}:\n{}",
            check.stdout
        );
    }
    let joined = run(dir.path());
    let prejoined_dir = case(&["prejoined.csv"], PREJOINED_JOB);
    let prejoined = run(prejoined_dir.path());
    let (a, b) = (summary(&joined), summary(&prejoined));
    assert_eq!(a["customers"], expected["customers"]);
    assert_eq!(revenue(&a), expected["revenue"].as_str().unwrap());
    assert_eq!(b["customers"], expected["customers"]);
    assert_eq!(revenue(&b), expected["revenue"].as_str().unwrap());
    assert_eq!(
        std::fs::read(joined.join("assignments.csv")).unwrap(),
        std::fs::read(prejoined.join("assignments.csv")).unwrap(),
        "the query and the pre-joined table give other assignments"
    );
}

#[test]
fn query_errors_name_the_input_and_what_is_wrong() {
    let tables = ["orders.csv", "order_items.csv", "customers.csv"];
    let job = normalised_job("orders").replace("i.freight_value", "i.freight");
    let dir = case(&tables, &job);
    let out = util::cli(dir.path(), &["check", "job.toml"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("[inputs.transactions] query") && out.stderr.contains("freight"),
        "{}",
        out.stderr
    );
    let job = normalised_job("orders").replace("path = \"orders.csv\"", "path = \"none.csv\"");
    let dir = case(&tables, &job);
    let out = util::cli(dir.path(), &["check", "job.toml"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("none.csv"), "{}", out.stderr);
    let job = format!("{PREJOINED_JOB}query = \"SELECT 1\"\n");
    let dir = case(&["prejoined.csv"], &job);
    let out = util::cli(dir.path(), &["check", "job.toml"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("has both `path` and `query`"),
        "{}",
        out.stderr
    );
}
