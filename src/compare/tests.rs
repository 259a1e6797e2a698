//! Tests of `compare`: matrices adding up, cluster matching by overlap and by a model view,
//! and the CSV read-back helpers.

use super::matrix::cluster_order;
use super::snapshot::restore_formula;
use super::*;

fn snapshot(as_of: &str, rows: &[(&str, &str, &str)]) -> Snapshot {
    let ids = rows.iter().map(|r| r.0.to_string()).collect();
    let segments: Vec<String> = rows.iter().map(|r| r.1.to_string()).collect();
    Snapshot {
        folder: PathBuf::from(as_of),
        job: "test".into(),
        as_of: as_of.into(),
        primary: "kmeans".into(),
        customer_ids: ids,
        titles: segments
            .iter()
            .map(|s| (s.clone(), format!("title of {s}")))
            .collect(),
        segments,
        rule_sets: vec![RuleColumn {
            column: "lifecycle_stage".into(),
            title: "Lifecycle".into(),
            order: ["Active", "Pre-churn", "Churn"].map(String::from).to_vec(),
            labels: rows.iter().map(|r| r.2.to_string()).collect(),
        }],
    }
}

/// January: a, b, c, d, g, h; February: b, c, d, e, f, g, h with the cluster numbers
/// swapped, g moving against the tide.
fn two_months() -> Comparison {
    let january = snapshot(
        "2026-01-01",
        &[
            ("a", "Cluster 0", "Active"),
            ("b", "Cluster 0", "Active"),
            ("c", "Cluster 1", "Churn"),
            ("d", "Cluster 1", "Pre-churn"),
            ("g", "Cluster 1", "Churn"),
            ("h", "Cluster 0", "Active"),
        ],
    );
    let february = snapshot(
        "2026-02-01",
        &[
            ("f", "Cluster 0", "Active"),
            ("b", "Cluster 1", "Pre-churn"),
            ("c", "Cluster 0", "Churn"),
            ("d", "Cluster 0", "Churn"),
            ("e", "Cluster 1", "Active"),
            ("g", "Cluster 1", "Churn"),
            ("h", "Cluster 1", "Active"),
        ],
    );
    compare(&january, &february, None)
}

#[test]
fn every_matrix_adds_up_to_the_customers_of_both_runs() {
    let c = two_months();
    assert_eq!(
        (
            c.customers,
            c.customers_in_both,
            c.new_customers,
            c.lost_customers
        ),
        (8, 5, 2, 1)
    );
    for m in std::iter::once(&c.clusters).chain(&c.rule_sets) {
        assert_eq!(m.counts.iter().flatten().sum::<usize>(), 8, "{}", m.column);
        assert_eq!(m.rows.last().map(String::as_str), Some(NEW_CUSTOMER));
        assert_eq!(m.columns.last().map(String::as_str), Some(LOST));
        assert_eq!(m.row_sums().last(), Some(&2));
        assert_eq!(m.column_sums().last(), Some(&1));
    }
    assert_eq!(c.clusters.rows, ["Cluster 0", "Cluster 1", NEW_CUSTOMER]);
    assert_eq!(c.clusters.row_sums(), [3, 3, 2]);
    assert_eq!(c.clusters.column_sums(), [3, 4, 1]);
    assert_eq!(c.clusters.counts, [[0, 2, 1], [2, 1, 0], [1, 1, 0]]);
}

#[test]
fn clusters_are_matched_by_overlap_and_rules_keep_the_preset_order() {
    let c = two_months();
    assert_eq!(c.matching, Matching::CustomerOverlap);
    assert_eq!(c.match_of("Cluster 0"), Some("Cluster 1"));
    assert_eq!(c.match_of("Cluster 1"), Some("Cluster 0"));
    // b, c, d and h stayed in their matched cluster; g moved.
    assert_eq!((c.clusters.stayed, c.clusters.moved), (4, 1));
    let life = &c.rule_sets[0];
    assert_eq!(life.rows, ["Active", "Pre-churn", "Churn", NEW_CUSTOMER]);
    assert_eq!(life.columns, ["Active", "Pre-churn", "Churn", LOST]);
    assert_eq!((life.stayed, life.moved), (3, 2));
    let frame = c.moves_frame().unwrap();
    let col = |name: &str| -> Vec<Option<String>> {
        frame
            .column(name)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.map(String::from))
            .collect()
    };
    assert_eq!(
        col("customer_id"),
        ["a", "b", "c", "d", "e", "f", "g", "h"].map(|s| Some(s.to_string()))
    );
    assert_eq!(
        col("change"),
        ["lost", "stayed", "stayed", "stayed", "new", "new", "moved", "stayed"]
            .map(|s| Some(s.to_string()))
    );
    assert_eq!(col("to")[0], None);
    assert_eq!(col("from")[4], None);
    assert_eq!(col("from_name")[1].as_deref(), Some("title of Cluster 0"));
    assert_eq!(col("lifecycle_stage_to")[1].as_deref(), Some("Pre-churn"));
}

#[test]
fn a_model_view_decides_the_match_for_every_current_customer() {
    let january = snapshot(
        "2026-01-01",
        &[("a", "Cluster 0", "Active"), ("b", "Cluster 0", "Active")],
    );
    let february = snapshot(
        "2026-02-01",
        &[("x", "Cluster 0", "Active"), ("y", "Cluster 0", "Active")],
    );
    let view = vec!["Cluster 4".to_string(), "Cluster 4".to_string()];
    let c = compare(&january, &february, Some(view));
    assert_eq!(c.matching, Matching::PreviousModel);
    assert_eq!(c.match_of("Cluster 0"), Some("Cluster 4"));
    assert_eq!(c.matches[0].counted, 2);
    // January's only cluster is nobody's match any more.
    assert_eq!(
        c.notes[0],
        "Cluster 0 · title of Cluster 0 of 2026-01-01 continues in no cluster of this run; \
         all of its 2 customers are lost."
    );
}

#[test]
fn csv_formula_guards_are_undone_and_clusters_sort_by_number() {
    assert_eq!(restore_formula("'=1+2"), "=1+2");
    assert_eq!(restore_formula("'quoted"), "'quoted");
    let mut names: Vec<String> = ["Outliers", "Cluster 10", "Cluster 2"]
        .map(String::from)
        .to_vec();
    names.sort_by(cluster_order);
    assert_eq!(names, ["Cluster 2", "Cluster 10", "Outliers"]);
}
