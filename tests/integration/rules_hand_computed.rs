//! Every rule preset on 21 customers computed by hand (the derivation is in the comments): RFM
//! scores and cells, the classic and 11-group maps, lifecycle stages, value tiers, temperature,
//! explicit cut points with the job's own 3-score map, and custom rules — with ties, a refund, a
//! multi-line order, a transaction after the as-of date and the threshold edges.
//!
//! Also covered: an empty F score, thresholds changed by the job, custom-rule precedence and the
//! default, error messages, and row-order invariance.

use chrono::{Duration, NaiveDate};
use segmenta::features::FeatureTable;
use segmenta::job::Job;
use segmenta::rules::RuleResults;

use crate::util::{self, client_log_job, workdir};

/// (id, recency days, orders, net spend, expected R F M, expected group, expected stage)
///
/// Scores are pandas `qcut` quintiles over the 20 buyers: edges at positions 3.8, 7.6, 11.4 and
/// 15.2 of the sorted values (linear interpolation), a value equal to an edge in the lower bin.
/// - Recency sorted: 1 1 5 10 10 20 30 60 61 90 120 121 150 180 181 200 250 300 365 400, edges
///   10, 60.6, 132.6, 210: ≤ 10 → R5, ≤ 60.6 → R4, ≤ 132.6 → R3, ≤ 210 → R2, else R1.
/// - Orders: eleven 1s, three 2s, two 3s, 4, 5, 6, 10; edges 1, 1, 2, 3.2: 1 → F1, F2 empty
///   (more than a fifth bought once), 2 → F3, 3 → F4, 4+ → F5.
/// - Spend sorted: 10 20 25 30 35 40 45 50 60 70 80 90 100 150 300 300 400 500 600 1000, edges
///   34, 56, 94, 320.
const CUSTOMERS: &[(&str, i64, usize, f64, &str, &str, &str)] = &[
    ("C01", 1, 10, 1000.0, "555", "Champions", "Active"),
    ("C02", 1, 1, 50.0, "512", "New Customers", "Active"),
    ("C03", 5, 3, 300.0, "544", "Champions", "Active"),
    ("C04", 10, 1, 20.0, "511", "New Customers", "Active"),
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
    ("C20", 10, 3, 300.0, "544", "Champions", "Returned"),
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

/// The log with its invoice numbers, and a customers table (people.csv) holding C21, who never
/// bought; then `extra`.
fn hand_job(extra: &str) -> String {
    let inputs =
        "order_id = \"invoice\"\n[inputs.customers]\npath = \"people.csv\"\ncustomer_id = \"id\"\n";
    client_log_job("hand", &format!("{inputs}{extra}"))
}

/// Writes the data, `files` and the job (with `extra`), and computes the features and rule sets.
fn rules_for(extra: &str, files: &[(&str, &str)]) -> segmenta::Result<(FeatureTable, RuleResults)> {
    let dir = workdir(&[
        ("tx.csv", &transactions_csv()),
        ("people.csv", "id;name\nC21;never bought\nC01;has bought\n"),
        ("job.toml", &hand_job(extra)),
    ]);
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let job = Job::from_file(&dir.path().join("job.toml"))?;
    let inputs = segmenta::load::load(&job)?;
    let table = segmenta::features::build(&inputs, as_of(), &job.features)?;
    let rules = segmenta::rules::apply(&table, &job.rules, job.base_dir())?;
    Ok((table, rules))
}

/// The segment of each customer in one rule set, in the order of `ids`.
fn segments_of(table: &FeatureTable, rules: &RuleResults, set: &str, ids: &[&str]) -> Vec<String> {
    let set = rules
        .set(set)
        .unwrap_or_else(|| panic!("rule set {set} missing"));
    ids.iter()
        .map(|id| {
            let i = table.customer_ids.iter().position(|c| c == id).unwrap();
            set.labels[i].clone()
        })
        .collect()
}

fn ids(from: usize, to: usize) -> Vec<String> {
    (from..=to).map(|i| format!("C{i:02}")).collect()
}

#[test]
fn rfm_scores_groups_and_stages_match_hand_computation() {
    let (table, rules) = rules_for("", &[]).unwrap();
    assert!(
        table
            .notes
            .iter()
            .any(|n| n.starts_with("1 transaction rows")),
        "{:?}",
        table.notes
    );
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
    // The cut points used are kept, and the empty F score is explained.
    assert_eq!(rules.rfm.cuts.r.upper_bounds.len(), 4);
    assert!((rules.rfm.cuts.r.upper_bounds[1] - 60.6).abs() < 1e-9);
    assert_eq!(rules.rfm.cuts.f.upper_bounds[..2], [1.0, 1.0]);
    assert_eq!(rules.rfm.cuts.f.ranges[1].customers, 0);
    assert!(
        rules.warnings.iter().any(|w| w.starts_with(
            "F could not be split into 5 scores: 55% of buyers share the value 1 (score 1)"
        )),
        "{:?}",
        rules.warnings
    );
}

#[test]
fn eleven_group_map_and_value_tiers_with_a_threshold_changed() {
    let extra = "[rules]\npresets = [\"classic-rfm-11\", \"value-tiers\"]\n[rules.value-tiers]\nnew_days = 30\n";
    let (table, rules) = rules_for(extra, &[]).unwrap();
    // Lost = R1, F1–2, M1–2: C16 (112), C18 (112), C19 (111); C17 (134) is At Risk; R2 F1 stays
    // Hibernating whatever M: C12 (213), C13 (213), C15 (211).
    let got = segments_of(
        &table,
        &rules,
        "classic-rfm-11",
        &["C12", "C13", "C15", "C16", "C17", "C18", "C19", "C01"],
    );
    assert_eq!(
        got,
        [
            "Hibernating",
            "Hibernating",
            "Hibernating",
            "Lost",
            "At Risk",
            "Lost",
            "Lost",
            "Champions"
        ]
    );
    assert_eq!(
        rules.map.as_ref().unwrap().rf_cell_name(1, 1),
        "Hibernating / Lost"
    );
    // Value tiers, first match wins: no purchase; Lost > 365 days (C19; C18 at 365 is not);
    // Inactive > 180 (C14 at 181 … C18); New: first purchase ≤ 30 days ago (C02 1, C03 19,
    // C04 10, C05 27 — C06's first order was 58 days ago); VIP: F ≥ 4 and M ≥ 4 (C01 554→555,
    // C06 455, C11 355, C20 544); Regular: ≥ 2 orders (C09); the rest bought once: One-off.
    let all: Vec<String> = ids(1, 21);
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let got = segments_of(&table, &rules, "value-tiers", &all);
    let expected = [
        "VIP",
        "New",
        "New",
        "New",
        "New",
        "VIP",
        "One-off",
        "One-off",
        "Regular",
        "One-off",
        "VIP",
        "One-off",
        "One-off",
        "Inactive",
        "Inactive",
        "Inactive",
        "Inactive",
        "Inactive",
        "Lost",
        "VIP",
        "No purchase",
    ];
    assert_eq!(got, expected);
    let tiers = rules.set("value-tiers").unwrap();
    assert_eq!(
        tiers.thresholds["new_days"], 30.0,
        "the job's value is used"
    );
    assert_eq!(
        tiers.thresholds["lost_days"], 365.0,
        "the preset's value is kept"
    );
}

#[test]
fn lifecycle_thresholds_come_from_the_job() {
    let extra = "[rules.lifecycle]\nactive_days = 30\nchurn_days = 200\n";
    let (table, rules) = rules_for(extra, &[]).unwrap();
    // Active ≤ 30 (C06 at 30), Pre-churn 31–120 (C07 60), Churn 121–200 (C14 181, C15 200),
    // Gone > 200 (C16 250); C20 came back after a 130-day gap > 120: Returned.
    let got = segments_of(
        &table,
        &rules,
        "lifecycle",
        &["C06", "C07", "C14", "C15", "C16", "C20"],
    );
    assert_eq!(
        got,
        ["Active", "Pre-churn", "Churn", "Churn", "Gone", "Returned"]
    );
}

#[test]
fn temperature_from_events_and_purchases() {
    let events = "who,at,what\nC12,2024-06-26,add_to_cart\nC10,2024-06-01,add_to_cart\nC19,2024-05-31,add_to_cart\nC15,2024-05-22,visit\nC16,2024-03-23,visit\n";
    let extra = "[inputs.events]\npath = \"events.csv\"\ncustomer_id = \"who\"\ntimestamp = \"at\"\nevent_type = \"what\"\n[rules]\npresets = [\"temperature\"]\n";
    let (table, rules) = rules_for(extra, &[("events.csv", events)]).unwrap();
    // Hot: purchase or add-to-cart within 30 days (C06 bought 30 days ago; C10's cart is 30 days
    // old, C12's 5). Warm: purchase or any event within 90 days (C09 bought 90 days ago, C19's
    // cart is 31 days old, C15 visited 40 days ago). Cold: C16 visited 100 days ago, C11 bought
    // 121 days ago, C21 never did anything.
    let got = segments_of(
        &table,
        &rules,
        "temperature",
        &[
            "C01", "C06", "C10", "C12", "C07", "C09", "C19", "C15", "C16", "C11", "C21",
        ],
    );
    assert_eq!(
        got,
        ["Hot", "Hot", "Hot", "Hot", "Warm", "Warm", "Warm", "Warm", "Cold", "Cold", "Cold"]
    );
    assert!(
        rules.warnings.iter().all(|w| !w.contains("temperature")),
        "{:?}",
        rules.warnings
    );
}

#[test]
fn temperature_without_events_warns_and_uses_purchases() {
    let (table, rules) = rules_for("[rules]\npresets = [\"temperature\"]\n", &[]).unwrap();
    let got = segments_of(&table, &rules, "temperature", &["C06", "C09", "C11"]);
    assert_eq!(got, ["Hot", "Warm", "Cold"]);
    assert!(
        rules
            .warnings
            .iter()
            .any(|w| w.contains("`days_since_add_to_cart` is unknown for every customer")),
        "{:?}",
        rules.warnings
    );
}

/// The job's own map, written for three scores.
const THREE_SCORE_MAP: &str = r#"
name = "three"
title = "Three-score map"
bins = 3
[[segment]]
name = "Best"
r = [3, 3]
f = [2, 3]
description = "Recent and repeat."
action = "Thank them."
[[segment]]
name = "Fresh"
r = [3, 3]
f = [1, 1]
description = "Recent first order."
action = "Second order offer."
[[segment]]
name = "Fading"
r = [1, 2]
f = [2, 3]
description = "Repeat buyers going quiet."
action = "Win back."
[[segment]]
name = "Gone quiet"
r = [1, 2]
f = [1, 1]
description = "One order, long ago."
action = "Cheap reminder."
"#;

#[test]
fn explicit_cut_points_with_the_jobs_own_three_score_map() {
    let extra = "[rules]\npresets = [\"three.toml\"]\n[rules.scoring]\nbins = 3\nr_cuts = [30, 180]\nf_cuts = [1, 3]\nm_cuts = [50, 300]\n";
    let (table, rules) = rules_for(extra, &[("three.toml", THREE_SCORE_MAP)]).unwrap();
    // R: ≤ 30 days → 3, ≤ 180 → 2, else 1. F: 1 → 1, 2–3 → 2, 4+ → 3. M: ≤ 50 → 1, ≤ 300 → 2.
    let cells: Vec<Option<String>> = ["C01", "C02", "C07", "C13", "C14", "C03"]
        .iter()
        .map(|id| {
            let i = table.customer_ids.iter().position(|c| c == id).unwrap();
            rules.rfm.cell(i)
        })
        .collect();
    let expected = ["333", "311", "211", "212", "133", "322"];
    assert_eq!(cells, expected.map(|c| Some(c.to_string())));
    let got = segments_of(
        &table,
        &rules,
        "three",
        &["C01", "C02", "C07", "C13", "C14", "C03"],
    );
    assert_eq!(
        got,
        [
            "Best",
            "Fresh",
            "Gone quiet",
            "Gone quiet",
            "Fading",
            "Best"
        ]
    );
    assert_eq!(rules.rfm.cuts.r.method, "cut points");
    assert_eq!(rules.rfm.cuts.m.upper_bounds, [50.0, 300.0]);
}

#[test]
fn a_five_score_map_with_three_bins_is_refused() {
    let extra = "[rules.scoring]\nbins = 3\n";
    let err = rules_for(extra, &[]).err().unwrap().to_string();
    assert!(
        err.contains("classic-rfm is a map for 5 scores, but [rules.scoring] bins = 3"),
        "{err}"
    );
}

const CUSTOM_RULES: &str = r#"
[[rules.custom]]
name = "Win back"
when = "rfm_group IN ('Can''t Lose Them', 'At Risk')"
description = "Valuable customers gone quiet"
action = "Personal call"

[[rules.custom]]
name = "VIP"
when = "recency_days <= 60 AND frequency >= 5 AND monetary > 400"

[[rules.custom]]
name = "Reactivated"
when = "lifecycle_stage = 'Returned' OR (r_score = 5 AND f_score >= 4)"

[rules]
custom_default = "Everyone else"
"#;

#[test]
fn custom_rules_first_match_wins_and_a_default_catches_the_rest() {
    let (table, rules) = rules_for(CUSTOM_RULES, &[]).unwrap();
    // C14 (255, Can't Lose Them) and C17 (134, At Risk) are won back; C01 (1 day, 10 orders,
    // 1000) and C06 (30, 5, 500) are VIP — C01 also has R5 F5, but VIP comes first; C20
    // returned; C03 (544) has R5 F4; the rest, and the customer who never bought, are the
    // default.
    let all: Vec<String> = ids(1, 21);
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let got = segments_of(&table, &rules, "custom", &all);
    let mut expected = vec!["Everyone else"; 21];
    for (i, name) in [
        (14, "Win back"),
        (17, "Win back"),
        (1, "VIP"),
        (6, "VIP"),
        (20, "Reactivated"),
        (3, "Reactivated"),
    ] {
        expected[i - 1] = name;
    }
    assert_eq!(got, expected);
    let set = rules.set("custom").unwrap();
    let names: Vec<&str> = set.segments.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Win back", "VIP", "Reactivated", "Everyone else"]);
    assert_eq!(set.segments[0].action, "Personal call");
}

#[test]
fn a_custom_rule_with_an_unknown_column_is_refused_with_a_pointer() {
    let extra = "[[rules.custom]]\nname = \"Big\"\nwhen = \"monetary > 100 AND ordres >= 2\"\n";
    let err = rules_for(extra, &[]).err().unwrap().to_string();
    assert!(
        err.contains("[[rules.custom]] rule 1 'Big': unknown column `ordres`"),
        "{err}"
    );
    assert!(
        err.ends_with("monetary > 100 AND ordres >= 2\n                       ^^^^^^"),
        "{err}"
    );
}

#[test]
fn unknown_rules_keys_name_the_preset_tables() {
    let err = rules_for("[rules.lifecycel]\nactive_days = 30\n", &[])
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("[rules] unknown key `lifecycel` (did you mean `lifecycle`?)"),
        "{err}"
    );
    let err = rules_for("[rules.lifecycle]\nactive = 30\n", &[])
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("[rules.lifecycle] unknown key `active` (did you mean `active_days`?)"),
        "{err}"
    );
}

#[test]
fn reordering_rows_never_changes_a_score() {
    let csv = transactions_csv();
    let mut lines: Vec<&str> = csv.lines().collect();
    let header = lines.remove(0);
    lines.reverse();
    let dir = workdir(&[("tx.csv", &format!("{header}\n{}\n", lines.join("\n")))]);
    let job = util::write_job(
        dir.path(),
        &client_log_job("rev", "order_id = \"invoice\"\n"),
    );
    let inputs = segmenta::load::load(&job).unwrap();
    let table = segmenta::features::build(&inputs, as_of(), &job.features).unwrap();
    let rules = segmenta::rules::apply(&table, &job.rules, job.base_dir()).unwrap();
    for &(id, _, _, _, cell, ..) in CUSTOMERS {
        let i = table.customer_ids.iter().position(|c| c == id).unwrap();
        assert_eq!(rules.rfm.cell(i).as_deref(), Some(cell), "{id}");
    }
}

#[test]
fn a_full_run_with_three_scores_draws_and_reports_the_jobs_own_map() {
    let extra = "[rules]\npresets = [\"three.toml\", \"lifecycle\"]\n[rules.scoring]\nbins = 3\n[discovery]\nk_range = [2, 3]\n";
    let dir = workdir(&[
        ("tx.csv", &transactions_csv()),
        ("people.csv", "id;name\nC21;never bought\n"),
        ("three.toml", THREE_SCORE_MAP),
    ]);
    let job = util::write_job(dir.path(), &hand_job(extra));
    let (result, folder) =
        segmenta::run(&job, &util::options(&dir.path().join("reports"))).unwrap();
    assert_eq!(result.rules.rfm.bins(), 3);
    assert!(folder.join("charts/rf_grid.png").is_file());
    let html = std::fs::read_to_string(folder.join("index.html")).unwrap();
    assert!(html.contains("<h3>Three-score map</h3>"));
    assert!(
        html.contains("<th>3</th>") && !html.contains("<th>4</th>"),
        "cut points for 3 scores"
    );
    let csv = std::fs::read_to_string(folder.join("assignments.csv")).unwrap();
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .ends_with("rfm_cell,three_segment,lifecycle_stage"));
}
