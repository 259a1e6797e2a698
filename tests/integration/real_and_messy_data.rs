//! Runs on real and messy inputs: the CDNOW transaction log (real, half the customers bought
//! once) and a pre-aggregated CRM customer table without any transaction log.
//!
//! CDNOW is read from `../shared/data/` and the test is skipped with a message when it is absent;
//! its chosen k is stable on both tests or the verdict is given, and no segment is named after
//! weekday or weekend habits. The customer table is `;`-separated, with day-first dates, decimal
//! commas, blank incomes and odd category values.

use std::path::Path;

use segmenta::job::Job;

use crate::util::{self, options};

/// Two presets and three rules of the analyst's own.
const CDNOW_RULES: &str = r#"
[rules]
presets = ["classic-rfm-11", "value-tiers"]
custom_default = "Rest"

[rules.value-tiers]
lost_days = 400

[[rules.custom]]
name = "Big spenders"
when = "monetary >= 500"

[[rules.custom]]
name = "Loyal core"
when = "f_score = 5 AND r_score >= 4"

[[rules.custom]]
name = "One and done"
when = "frequency = 1 AND value_tiers_segment IN ('Lost', 'Inactive')"
"#;

/// Every rule set is in summary.json (segments, agreement) and in the report (its title, its
/// cross-table header), the cut points too; each set's segment counts add up to all customers.
fn assert_rule_sets_reported(result: &segmenta::RunResult, folder: &Path) {
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("summary.json")).unwrap())
            .unwrap();
    let html = std::fs::read_to_string(folder.join("index.html")).unwrap();
    let sets = summary["rule_sets"].as_array().unwrap();
    assert_eq!(sets.len(), result.rules.sets.len());
    for (set, json) in result.rules.sets.iter().zip(sets) {
        let counted: u64 = json["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["customers"].as_u64().unwrap())
            .sum();
        assert_eq!(counted as usize, result.features.len(), "{}", set.name);
        assert!(json["agreement"]["kmeans"]["ari"].is_f64(), "{}", set.name);
        assert!(
            html.contains(&format!("<h3>{}</h3>", set.title)),
            "{}",
            set.title
        );
        assert!(html.contains(&format!("<code>{}</code>", set.column_name())));
    }
    assert!(html.contains("RFM score cut points"));
    let bounds = summary["rfm_cut_points"]["f"]["upper_bounds"]
        .as_array()
        .unwrap();
    assert_eq!(bounds.len(), 4);
}

#[test]
fn cdnow_real_transactions_give_clusters_and_sensible_rfm_groups() {
    let Some(csv) = util::cdnow() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let job = util::write_job(
        dir.path(),
        &format!("{}{CDNOW_RULES}", util::cdnow_job(&csv)),
    );
    let (result, folder) = segmenta::run(&job, &options(dir.path())).unwrap();
    assert_rule_sets_reported(&result, &folder);
    assert_eq!(
        result.features.len(),
        23_570,
        "every CDNOW customer is kept"
    );
    assert_eq!(
        result.as_of.to_string(),
        "1998-07-01",
        "default as-of: the day after the last purchase"
    );
    assert!(result.kmeans.k >= 2);
    // The segments hold: both stabilities of the chosen k's final fits at least 0.8, or the
    // report says plainly that there is no stable structure.
    let chosen = &result.kmeans.chosen;
    assert!(
        (chosen.stability.unwrap() >= 0.8 && chosen.bootstrap_stability.unwrap() >= 0.8)
            || result.kmeans.verdict.is_some(),
        "k = {}: {chosen:?}",
        result.kmeans.k
    );
    // Weekend or weekday from one order is chance: no segment is named after it.
    for cluster in &result.kmeans_labels.clusters {
        assert!(
            !cluster.title.contains("weekend") && !cluster.title.contains("weekday"),
            "{}",
            cluster.title
        );
    }
    // About half bought once: F cannot be split into five and the report says so.
    assert!(
        result
            .warnings
            .iter()
            .any(|w| w.starts_with("F could not be split")),
        "{:?}",
        result.warnings
    );
    let groups = result.rules.rfm_groups().expect("a log gives RFM groups");
    let share = |name: &str| {
        groups.labels.iter().filter(|l| *l == name).count() as f64 / groups.labels.len() as f64
    };
    // The cohort started in early 1997 and most never came back: hibernating and lost dominate,
    // and the groups that need a recent purchase are a minority.
    assert!(
        share("Hibernating") + share("Lost") > 0.3,
        "Hibernating {} + Lost {}",
        share("Hibernating"),
        share("Lost")
    );
    assert!(share("Lost") > 0.05, "Lost {}", share("Lost"));
    assert!(
        share("Champions") > 0.02 && share("Champions") < 0.25,
        "Champions {}",
        share("Champions")
    );
    let revenue: f64 = result.features.facts.monetary.iter().sum();
    assert!((revenue - 2_500_315.63).abs() < 0.01, "revenue {revenue}");
    assert!(folder.join("index.html").is_file());
}

#[test]
fn pre_aggregated_customer_table_runs_without_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let job = Job::from_file(&util::test_data("aggregated_customers.toml")).unwrap();
    let (result, folder) = segmenta::run(&job, &options(dir.path())).unwrap();
    assert_eq!(result.features.len(), 240);
    let wines_fruit_meat_of_first = result.features.facts.monetary[0];
    assert!(wines_fruit_meat_of_first > 0.0);
    assert!(result.features.feature("response_rate").is_some());
    assert!(
        result.features.feature("marital_status_yolo").is_some()
            || result.features.feature("marital_status_other").is_some()
    );
    assert!(
        result
            .fit_report
            .imputed
            .get("income")
            .copied()
            .unwrap_or(0)
            > 0,
        "blank incomes are imputed and counted"
    );
    assert!(result.kmeans.k >= 2);
    assert!(folder.join("assignments.csv").is_file());
    assert!(
        result.warnings.iter().any(|w| w.contains(
            "rule preset value-tiers, segment 'New': `tenure_days` is unknown for every customer"
        )),
        "{:?}",
        result.warnings
    );
    let tiers = result.rules.set("value-tiers").unwrap();
    assert!(tiers.labels.iter().all(|l| l != "New"));
    assert!(tiers.labels.iter().any(|l| l == "VIP"));
    assert_rule_sets_reported(&result, &folder);
}
