//! RFM scores, cells, classic groups and lifecycle stages of 21 customers computed by hand
//! (the derivation is in the comments), with ties, a refund, a multi-line order, a transaction
//! after the as-of date and the 60/61, 120/121, 180/181 and Returned edges.

use chrono::{Duration, NaiveDate};
use segmenta::job::Job;

/// (id, recency days, orders, net spend, expected R F M, expected group, expected stage)
/// Scores: 1 + ⌊5 · (buyers with a strictly worse value) / 20⌋.
const CUSTOMERS: &[(&str, i64, usize, f64, &str, &str, &str)] = &[
    ("C01", 1, 10, 1000.0, "555", "Champions", "Active"),
    ("C02", 1, 1, 50.0, "512", "New Customers", "Active"),
    ("C03", 5, 3, 300.0, "544", "Champions", "Active"),
    ("C04", 10, 1, 20.0, "411", "Promising", "Active"),
    ("C05", 20, 2, 80.0, "433", "Potential Loyalists", "Active"),
    ("C06", 30, 5, 500.0, "455", "Loyal Customers", "Active"),
    ("C07", 60, 1, 40.0, "412", "Promising", "Active"),
    ("C08", 61, 1, 60.0, "313", "About to Sleep", "Pre-churn"),
    ("C09", 90, 2, 100.0, "334", "Need Attention", "Pre-churn"),
    ("C10", 120, 1, 30.0, "311", "About to Sleep", "Pre-churn"),
    ("C11", 121, 4, 400.0, "355", "Loyal Customers", "Churn"),
    ("C12", 150, 1, 70.0, "213", "Hibernating", "Churn"),
    ("C13", 180, 1, 90.0, "213", "Hibernating", "Churn"),
    ("C14", 181, 6, 600.0, "255", "Can't Lose Them", "Gone"),
    ("C15", 200, 1, 25.0, "211", "Hibernating", "Gone"),
    ("C16", 250, 1, 35.0, "112", "Hibernating", "Gone"),
    ("C17", 300, 2, 150.0, "134", "At Risk", "Gone"),
    ("C18", 365, 1, 45.0, "112", "Hibernating", "Gone"),
    ("C19", 400, 1, 10.0, "111", "Hibernating", "Gone"),
    ("C20", 10, 3, 300.0, "444", "Loyal Customers", "Returned"),
];

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 7, 1).unwrap()
}

fn transactions_csv() -> String {
    let mut csv = String::from("invoice,client,when,value\n");
    let day = |back: i64| {
        (as_of() - Duration::days(back))
            .format("%Y-%m-%d")
            .to_string()
    };
    for &(id, recency, orders, spend, ..) in CUSTOMERS {
        // C20 came back after a 130-day gap: orders 10, 140 and 200 days ago.
        let days: Vec<i64> = if id == "C20" {
            vec![10, 140, 200]
        } else {
            (0..orders as i64).map(|j| recency + 7 * j).collect()
        };
        for (j, back) in days.iter().enumerate() {
            let amount = spend / orders as f64;
            match id {
                // A multi-line order: 25 + 15 is one order of 40.
                "C07" => {
                    csv += &format!("{id}-{j},{id},{},25\n", day(*back));
                    csv += &format!("{id}-{j},{id},{},15\n", day(*back));
                }
                // Two orders of 50, and a refund of 20 on its own invoice: net 80, still 2 orders.
                "C05" => csv += &format!("{id}-{j},{id},{},{}\n", day(*back), amount + 10.0),
                _ => csv += &format!("{id}-{j},{id},{},{amount}\n", day(*back)),
            }
        }
    }
    csv += &format!("R-C05,C05,{},-20\n", day(15));
    // After the as-of date: ignored and counted.
    csv += &format!(
        "late,C01,{},999\n",
        (as_of() + Duration::days(3)).format("%Y-%m-%d")
    );
    csv
}

#[test]
fn rfm_scores_groups_and_stages_match_hand_computation() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tx.csv"), transactions_csv()).unwrap();
    std::fs::write(
        dir.path().join("people.csv"),
        "id;name\nC21;never bought\nC01;has bought\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("job.toml"),
        r#"
name = "hand"
as_of = "2024-07-01"
[inputs.transactions]
path = "tx.csv"
customer_id = "client"
timestamp = "when"
amount = "value"
order_id = "invoice"
[inputs.customers]
path = "people.csv"
customer_id = "id"
"#,
    )
    .unwrap();
    let job = Job::from_file(&dir.path().join("job.toml")).unwrap();
    let inputs = segmenta::load::load(&job).unwrap();
    let table = segmenta::features::build(&inputs, as_of(), &job.features).unwrap();
    assert!(
        table
            .notes
            .iter()
            .any(|n| n.starts_with("1 transaction rows")),
        "{:?}",
        table.notes
    );
    let rules = segmenta::rules::apply(&table, &job.rules, &job.base_dir).unwrap();
    let groups = rules.set("classic-rfm").unwrap();
    let stages = rules.set("lifecycle").unwrap();
    assert_eq!(
        table.len(),
        21,
        "every customer kept, the one without purchases too"
    );
    for &(id, recency, orders, spend, cell, group, stage) in CUSTOMERS {
        let i = table.customer_ids.iter().position(|c| c == id).unwrap();
        assert_eq!(
            table.facts.recency_days[i],
            Some(recency as f64),
            "{id} recency"
        );
        assert_eq!(table.facts.frequency[i], orders as f64, "{id} frequency");
        assert!(
            (table.facts.monetary[i] - spend).abs() < 1e-9,
            "{id} monetary {}",
            table.facts.monetary[i]
        );
        assert_eq!(rules.rfm.cell(i).as_deref(), Some(cell), "{id} cell");
        assert_eq!(groups.labels[i], group, "{id} group");
        assert_eq!(stages.labels[i], stage, "{id} stage");
    }
    let zero = table.customer_ids.iter().position(|c| c == "C21").unwrap();
    assert_eq!(rules.rfm.cell(zero), None);
    assert_eq!(groups.labels[zero], segmenta::rules::NO_PURCHASE);
    assert_eq!(stages.labels[zero], "Zero");
}

#[test]
fn reordering_rows_never_changes_a_score() {
    let dir = tempfile::tempdir().unwrap();
    let csv = transactions_csv();
    let mut lines: Vec<&str> = csv.lines().collect();
    let header = lines.remove(0);
    lines.reverse();
    std::fs::write(
        dir.path().join("tx.csv"),
        format!("{header}\n{}\n", lines.join("\n")),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("job.toml"),
        "name = \"rev\"\nas_of = \"2024-07-01\"\n[inputs.transactions]\npath = \"tx.csv\"\ncustomer_id = \"client\"\ntimestamp = \"when\"\namount = \"value\"\norder_id = \"invoice\"\n",
    )
    .unwrap();
    let job = Job::from_file(&dir.path().join("job.toml")).unwrap();
    let inputs = segmenta::load::load(&job).unwrap();
    let table = segmenta::features::build(&inputs, as_of(), &job.features).unwrap();
    let rules = segmenta::rules::apply(&table, &job.rules, &job.base_dir).unwrap();
    for &(id, _, _, _, cell, ..) in CUSTOMERS {
        let i = table.customer_ids.iter().position(|c| c == id).unwrap();
        assert_eq!(rules.rfm.cell(i).as_deref(), Some(cell), "{id}");
    }
}
