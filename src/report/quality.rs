//! The report's data-quality section: the checks the run passed, rows read per table, rows
//! dropped and why, date formats detected, and the cells filled in before clustering with the
//! value used and the reason.

use serde::Serialize;

use super::traits::pretty_name;
use crate::features::{FeatureGroup, Impute};
use crate::format::{count, money, number};
use crate::RunResult;

#[derive(Serialize)]
pub struct QualityGroup {
    title: &'static str,
    rows: Vec<QualityRow>,
}

#[derive(Serialize)]
struct QualityRow {
    what: String,
    value: String,
    note: String,
}

pub fn section(run: &RunResult) -> Vec<QualityGroup> {
    let q = &run.quality;
    let row = |what: String, value: String, note: String| QualityRow { what, value, note };
    let mut dropped: Vec<QualityRow> = q
        .dropped
        .iter()
        .map(|(reason, n)| {
            let note = q
                .dropped_revenue
                .get(reason)
                .map_or_else(String::new, |amount| {
                    format!("net amount {} left out of the revenue", money(*amount))
                });
            row(reason.clone(), count(*n), note)
        })
        .collect();
    if dropped.is_empty() {
        dropped.push(row(
            "none".into(),
            "0".into(),
            "every row was usable".into(),
        ));
    }
    let mut groups = vec![
        QualityGroup {
            title: "Rows read",
            rows: q
                .rows_read
                .iter()
                .map(|(table, n)| row(table.clone(), count(*n), String::new()))
                .collect(),
        },
        QualityGroup {
            title: "Rows dropped",
            rows: dropped,
        },
        QualityGroup {
            title: FLAGGED,
            rows: q
                .suspicious_ids
                .iter()
                .map(|s| {
                    row(
                        format!("{}: customer id '{}'", s.table, crate::load::clip(&s.id)),
                        count(s.rows),
                        format!(
                            "{:.1} % of the rows, {:.0}× the median customer, {:.1} % of the net amount; kept — list it in missing_ids if it means \"no customer\"",
                            100.0 * s.rows as f64 / s.table_rows.max(1) as f64,
                            s.rows as f64 / s.median_rows.max(1.0),
                            100.0 * s.revenue_share
                        ),
                    )
                })
                .collect(),
        },
        QualityGroup {
            title: KEPT,
            rows: q
                .kept
                .iter()
                .map(|(reason, n)| row(reason.clone(), count(*n), "segmented all the same".into()))
                .collect(),
        },
        QualityGroup {
            title: "Date formats detected",
            rows: q
                .date_formats
                .iter()
                .map(|(column, format)| {
                    let note = if format == "typed" {
                        "stored as dates in the file; nothing to detect"
                    } else {
                        "detected from the values; an ambiguous column is an error"
                    };
                    row(column.clone(), format.clone(), note.into())
                })
                .collect(),
        },
        QualityGroup {
            title: "Values filled in before clustering",
            rows: filled(run),
        },
    ];
    if let Some(checks) = checks_passed(run) {
        groups.insert(0, checks);
    }
    groups.retain(|g| !matches!(g.title, KEPT | FLAGGED) || !g.rows.is_empty());
    groups
}

/// What the run proved before this page was written (see `invariants`); none for a report of
/// customers filtered between stages, which no longer reconcile to the inputs.
fn checks_passed(run: &RunResult) -> Option<QualityGroup> {
    let expected = run.quality.expected.as_ref()?;
    let mixture = if run.gmm.is_some() {
        ", the Gaussian mixture"
    } else {
        ""
    };
    let mut rows = vec![QualityRow {
        what: "every customer once".into(),
        value: count(expected.customers),
        note: "each customer id of the inputs is in assignments.csv exactly once, customers without purchases included".into(),
    }];
    if run.features.gives("monetary") {
        rows.push(QualityRow {
            what: "net revenue to the cent".into(),
            value: money(crate::load::ledger::micros_to_money(
                expected.revenue_micros,
            )),
            note: format!(
                "equals the sum of the {}",
                expected.revenue_source.trim_start_matches("the ")
            ),
        });
    }
    rows.push(QualityRow {
        what: "segment sizes add up".into(),
        value: count(run.features.len()),
        note: format!(
            "in k-means, DBSCAN (outliers included){mixture} and each of the {} rule sets",
            run.rules.sets.len()
        ),
    });
    Some(QualityGroup {
        title: "Checks passed",
        rows,
    })
}

const KEPT: &str = "Rows kept, to know about";
const FLAGGED: &str = "Possible placeholder ids (kept, flagged)";

/// Imputed cells of the clustered features, with the value they got and why they were blank.
fn filled(run: &RunResult) -> Vec<QualityRow> {
    let customers = run.features.len().max(1) as f64;
    run.preparation
        .columns
        .iter()
        .filter_map(|column| {
            let cells = *run.fit_report.imputed.get(&column.name)?;
            let rule = match column.impute {
                Impute::Median => "the median",
                Impute::Max => "the largest value",
            };
            Some(QualityRow {
                what: pretty_name(&column.name),
                value: count(cells),
                note: format!(
                    "{:.1} % of customers; {} — filled with {rule} ({})",
                    100.0 * cells as f64 / customers,
                    why_blank(column.group),
                    number(column.fill)
                ),
            })
        })
        .collect()
}

fn why_blank(group: FeatureGroup) -> &'static str {
    match group {
        g if g.from_purchases() => "customers without a purchase have no value",
        FeatureGroup::Engagement => "no mailing or site visit to compute it from",
        _ => "blank or unreadable in the customers table",
    }
}
