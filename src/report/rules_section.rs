//! The report's rule-segment section: per rule set its segments with definitions, sizes and
//! revenue, its cross-table against the clusters and the agreement; and the RFM cut points used.

use serde::Serialize;

use super::summary::{rule_set_summaries, RuleSetSummary};
use crate::format::{count, cut_point, money, percent, share_beside_count};
use crate::label::CrossTable;
use crate::rules::rfm::ScoreScale;
use crate::RunResult;

#[derive(Serialize)]
pub struct RuleSetBlock {
    title: String,
    kind: String,
    column: String,
    thresholds: String,
    segments: Vec<SegmentRow>,
    crosstab: Option<CrossRows>,
    agreement: String,
}

#[derive(Serialize)]
struct SegmentRow {
    name: String,
    rule: String,
    customers: String,
    share: String,
    revenue: String,
    revenue_share: String,
    description: String,
    action: String,
}

#[derive(Serialize)]
struct CrossRows {
    columns: Vec<String>,
    rows: Vec<CrossRow>,
}

#[derive(Serialize)]
struct CrossRow {
    name: String,
    cells: Vec<String>,
}

#[derive(Serialize)]
pub struct CutPoints {
    bins: Vec<u8>,
    rows: Vec<CutRow>,
}

#[derive(Serialize)]
struct CutRow {
    name: String,
    method: String,
    bounds: String,
    cells: Vec<String>,
}

pub fn rule_sets(run: &RunResult) -> Vec<RuleSetBlock> {
    rule_set_summaries(run)
        .into_iter()
        .map(|summary| {
            let crosstab = run
                .kmeans_labels
                .crosstabs
                .iter()
                .find(|c| c.rule_set == summary.name);
            block(summary, crosstab)
        })
        .collect()
}

fn block(summary: RuleSetSummary, crosstab: Option<&CrossTable>) -> RuleSetBlock {
    let thresholds: Vec<String> = summary
        .thresholds
        .iter()
        .map(|(k, v)| format!("{k} = {}", cut_point(*v)))
        .collect();
    let a = &summary.agreement;
    RuleSetBlock {
        title: summary.title,
        kind: summary.kind,
        column: summary.column,
        thresholds: thresholds.join(", "),
        segments: summary
            .segments
            .into_iter()
            .map(|s| SegmentRow {
                name: s.info.name,
                rule: s.info.rule,
                customers: count(s.customers),
                share: percent(s.share),
                revenue: money(s.revenue),
                revenue_share: percent(s.revenue_share),
                description: s.info.description,
                action: s.info.action,
            })
            .collect(),
        crosstab: crosstab.map(cross_rows),
        agreement: match a.dbscan {
            Some(d) => format!(
                "Agreement with the k-means clusters: ARI {:.3}, NMI {:.3}; with DBSCAN: ARI {:.3}, NMI {:.3}.",
                a.kmeans.ari, a.kmeans.nmi, d.ari, d.nmi
            ),
            None => format!(
                "Agreement with the k-means clusters: ARI {:.3}, NMI {:.3}.",
                a.kmeans.ari, a.kmeans.nmi
            ),
        },
    }
}

/// Counts with the share of the cluster's customers; empty cells as a dot.
fn cross_rows(table: &CrossTable) -> CrossRows {
    let rows = table
        .rows
        .iter()
        .zip(&table.counts)
        .zip(table.row_shares())
        .map(|((name, counts), shares)| CrossRow {
            name: name.clone(),
            cells: counts
                .iter()
                .zip(shares)
                .map(|(c, s)| {
                    if *c == 0 {
                        "·".into()
                    } else {
                        format!("{} ({})", count(*c), share_beside_count(s))
                    }
                })
                .collect(),
        })
        .collect();
    CrossRows {
        columns: table.columns.clone(),
        rows,
    }
}

/// The cut points of the scores whose measure the inputs give (none for a customers table
/// without purchases).
pub fn cut_points(run: &RunResult) -> CutPoints {
    let cuts = &run.rules.rfm.cuts;
    let rows = [
        ("recency_days", "R (days since last purchase)", &cuts.r),
        ("frequency", "F (orders)", &cuts.f),
        ("monetary", "M (net spend)", &cuts.m),
    ]
    .into_iter()
    .filter(|(measure, ..)| run.features.gives(measure))
    .map(|(_, name, scale)| cut_row(name, scale))
    .collect();
    CutPoints {
        bins: (1..=run.rules.rfm.bins()).collect(),
        rows,
    }
}

fn cut_row(name: &str, scale: &ScoreScale) -> CutRow {
    let bounds: Vec<String> = scale.upper_bounds.iter().map(|b| cut_point(*b)).collect();
    CutRow {
        name: name.to_string(),
        method: scale.method.clone(),
        bounds: format!("≤ {}", bounds.join(" | ≤ ")),
        cells: scale
            .ranges
            .iter()
            .map(|r| match (r.min, r.max) {
                (Some(lo), Some(hi)) if lo == hi => {
                    format!("{} ({})", cut_point(lo), count(r.customers))
                }
                (Some(lo), Some(hi)) => {
                    format!(
                        "{} – {} ({})",
                        cut_point(lo),
                        cut_point(hi),
                        count(r.customers)
                    )
                }
                _ => "empty".into(),
            })
            .collect(),
    }
}
