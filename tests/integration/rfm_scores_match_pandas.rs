//! R, F and M quintile scores equal pandas `qcut` on the bundled data and on CDNOW. The expected
//! scores were computed once, independently from the raw transactions, by
//! tests/reference/rfm_scores_fixture.py (pandas; not needed to run this test).
//!
//! Every customer's R, F and M scores, the cut points and the customers per score are compared.

use std::collections::HashMap;

use segmenta::features::FeatureTable;
use segmenta::job::Job;
use segmenta::rules::RuleResults;

use crate::util;

fn fixture() -> serde_json::Value {
    let text = std::fs::read_to_string(util::test_data("rfm_scores_fixture.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// customer id → "rfm" digits.
fn expected_scores(name: &str) -> HashMap<String, String> {
    let path = util::test_data(&format!("rfm_scores_{name}.csv"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            let mut parts = line.split(',');
            let id = parts.next().unwrap().to_string();
            (id, parts.collect::<String>())
        })
        .collect()
}

fn rules_of(job: &Job) -> (FeatureTable, RuleResults) {
    let inputs = segmenta::load::load(job).unwrap();
    let as_of = segmenta::features::default_as_of(&inputs).unwrap();
    let table = segmenta::features::build(&inputs, as_of, &job.features).unwrap();
    let rules = segmenta::rules::apply(&table, &job.rules, job.base_dir()).unwrap();
    (table, rules)
}

fn assert_matches_fixture(name: &str, table: &FeatureTable, rules: &RuleResults) {
    let fixture = &fixture()[name];
    assert_eq!(table.as_of.to_string(), fixture["as_of"].as_str().unwrap());
    let expected = expected_scores(name);
    let mut scored = 0;
    let mut mismatches = Vec::new();
    for (i, id) in table.customer_ids.iter().enumerate() {
        let Some(cell) = rules.rfm.cell(i) else {
            assert!(
                !expected.contains_key(id),
                "{id} bought in pandas but is not scored"
            );
            continue;
        };
        scored += 1;
        if expected.get(id) != Some(&cell) {
            mismatches.push(format!(
                "{id}: segmenta {cell}, pandas {:?}",
                expected.get(id)
            ));
        }
    }
    assert_eq!(scored, expected.len(), "{name}: scored customers");
    assert!(
        mismatches.is_empty(),
        "{name}: {} of {scored} customers differ, e.g. {:?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(5)]
    );
    let cuts = &rules.rfm.cuts;
    for (letter, scale) in [("r", &cuts.r), ("f", &cuts.f), ("m", &cuts.m)] {
        let edges: Vec<f64> = fixture["edges"][letter]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        for (ours, theirs) in scale.upper_bounds.iter().zip(&edges[1..5]) {
            assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{name} {letter}: edge {ours} vs pandas {theirs}"
            );
        }
        let counts: Vec<u64> = scale.ranges.iter().map(|r| r.customers as u64).collect();
        let theirs: Vec<u64> = fixture["score_counts"][letter]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(counts, theirs, "{name} {letter}: customers per score");
    }
}

#[test]
fn bundled_data_scores_equal_pandas_qcut() {
    let (table, rules) = rules_of(&util::demo_job());
    assert_matches_fixture("demo", &table, &rules);
    assert!(
        rules.warnings.is_empty(),
        "every score is used on the bundled data: {:?}",
        rules.warnings
    );
}

#[test]
fn cdnow_scores_equal_pandas_qcut_and_the_f_fallback_is_reported() {
    let Some(csv) = util::cdnow() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let job = util::write_job(dir.path(), &util::cdnow_job(&csv));
    let (table, rules) = rules_of(&job);
    assert_matches_fixture("cdnow", &table, &rules);
    // Half the buyers bought once: F = 1 is score 1, score 2 stays empty, F = 2 is score 3,
    // 3–4 orders score 4 and 5+ orders score 5 — and a warning says so.
    let f = &rules.rfm.cuts.f;
    assert_eq!(f.upper_bounds, [1.0, 1.0, 2.0, 4.0]);
    let ranges: Vec<(usize, Option<f64>, Option<f64>)> = f
        .ranges
        .iter()
        .map(|r| (r.customers, r.min, r.max))
        .collect();
    assert_eq!(ranges[1], (0, None, None));
    assert_eq!((ranges[2].1, ranges[2].2), (Some(2.0), Some(2.0)));
    assert_eq!((ranges[3].1, ranges[3].2), (Some(3.0), Some(4.0)));
    let warning = rules
        .warnings
        .iter()
        .find(|w| w.starts_with("F could not be split"))
        .expect("a warning about F");
    assert!(
        warning.contains("51% of buyers share the value 1")
            && warning.contains("score 2 left empty"),
        "{warning}"
    );
    assert_eq!(
        rules.warnings.len(),
        1,
        "R and M use every score: {:?}",
        rules.warnings
    );
}
