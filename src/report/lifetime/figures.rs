//! The section's charts: P(alive), expected purchases and CLV per segment, the P(alive) matrix
//! and, with a backtest, the tracking chart and the purchases per calibration frequency.

use std::path::Path;

use super::{column, signed_percent};
use crate::error::Result;
use crate::format::{count, label_number};
use crate::lifetime::{Backtest, Lifetime};
use crate::report::{chart_error, charts, ChartFile};
use crate::RunResult;

/// Draws the section's charts into `dir`; none without a fitted model.
pub fn draw(run: &RunResult, dir: &Path) -> Result<Vec<ChartFile>> {
    let Some(l) = &run.lifetime else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut add = |stem: &str, title: &str, caption: String| {
        out.push(ChartFile::new(dir, stem, title, caption))
    };
    charts::distributions(dir, "lifetime_segments", &per_segment(run)).map_err(chart_error(dir))?;
    add(
        "lifetime_segments",
        "P(alive) and future value per segment",
        format!(
            "Box plots over each k-means segment's customers (5th, 25th, 50th, 75th and 95th percentile): the probability that the customer is still buying, the purchases expected in the next {} days{}.",
            l.model.options.horizon_days,
            if l.model.gamma_gamma.is_some() { " and their discounted value (CLV)" } else { "" }
        ),
    );
    if let Some(stages) = per_stage(run) {
        charts::distributions(dir, "lifetime_stages", &stages).map_err(chart_error(dir))?;
        add(
            "lifetime_stages",
            "P(alive) and future value per rule stage",
            "The same box plots over the customers of each rule stage: a stage set by days of silence holds customers the model still counts as buying (those who buy rarely anyway) and customers it has given up on.".into(),
        );
    }
    charts::heatmap(dir, "p_alive_matrix", &alive_heatmap(l)).map_err(chart_error(dir))?;
    add(
        "p_alive_matrix",
        "P(alive) by frequency and recency",
        "Mean P(alive) of the customers with each number of repeat purchases and days since their last purchase (customers in brackets). A customer who bought often and then stopped is the first the model gives up on; one who bought once is never written off by BG/NBD, which has nobody drop out before a repeat purchase.".into(),
    );
    if let Some(b) = &l.backtest {
        charts::actual_vs_predicted(dir, "lifetime_tracking", &tracking(b))
            .map_err(chart_error(dir))?;
        add(
            "lifetime_tracking",
            "Backtest: repeat purchases after as-of",
            format!(
                "Cumulative repeat purchases (transaction days) of the {} modelled customers in each week after as-of, as they happened and as the model fitted before as-of predicted them. At the end ({} days): {} actual, {} predicted ({}).",
                count(l.customers),
                b.holdout_days,
                label_number(*b.actual.last().unwrap_or(&0.0)),
                label_number(*b.predicted.last().unwrap_or(&0.0)),
                b.final_error().map_or("no purchases to compare".into(), |e| format!("{} error", signed_percent(e)))
            ),
        );
        charts::actual_vs_predicted(dir, "lifetime_by_frequency", &by_frequency(b))
            .map_err(chart_error(dir))?;
        add(
            "lifetime_by_frequency",
            "Backtest: purchases by repeat purchases before as-of",
            format!("Mean purchases per customer in the {} days after as-of, for customers grouped by how many repeat purchases they made before it: what happened and what the model expected for them (the BG/NBD paper's conditional expectations).", b.holdout_days),
        );
    }
    Ok(out)
}

/// Box plots of P(alive), expected purchases and (with the spend model) CLV over the groups
/// `group_of` puts customers in (an index into `rows`).
fn distributions(
    run: &RunResult,
    title: &str,
    rows: Vec<charts::DistributionRow>,
    group_of: &dyn Fn(usize) -> Option<usize>,
) -> charts::Distributions {
    let panel = |name: &str, title: &str, axis: &str, log: bool| {
        let mut members: Vec<Vec<f64>> = vec![Vec::new(); rows.len()];
        for (i, value) in column(run, name).unwrap_or(&[]).iter().enumerate() {
            if let (Some(g), Some(v)) = (group_of(i), value) {
                members[g].push(*v);
            }
        }
        charts::DistributionPanel {
            title: title.into(),
            axis: axis.into(),
            log,
            boxes: members
                .into_iter()
                .map(|m| charts::BoxStats::of(m.into_iter()))
                .collect(),
        }
    };
    let mut panels = vec![
        panel("p_alive", "P(alive)", "Probability still buying", false),
        panel(
            "expected_purchases",
            "Expected purchases",
            "Purchases",
            true,
        ),
    ];
    if run
        .lifetime
        .as_ref()
        .is_some_and(|l| l.model.gamma_gamma.is_some())
    {
        panels.push(panel("clv", "CLV", "Discounted value", true));
    }
    charts::Distributions {
        title: title.into(),
        rows,
        panels,
    }
}

fn per_segment(run: &RunResult) -> charts::Distributions {
    let clusters = &run.kmeans_labels.clusters;
    let rows = clusters
        .iter()
        .map(|c| charts::DistributionRow {
            name: c.display_name(),
            color_index: c.id,
        })
        .collect();
    let position = |i: usize| {
        clusters
            .iter()
            .position(|c| c.id == Some(run.kmeans.labels[i]))
    };
    distributions(run, "Who is still a customer, per segment", rows, &position)
}

/// The same per rule stage, for the stages with modelled customers; None without the rule set.
fn per_stage(run: &RunResult) -> Option<charts::Distributions> {
    let (title, stages) = super::stage_figures(run)?;
    let set = super::stage_set(run)?;
    let rows = stages
        .iter()
        .map(|g| charts::DistributionRow {
            name: g.segment.clone(),
            color_index: None,
        })
        .collect();
    let position = |i: usize| stages.iter().position(|g| g.segment == set.labels[i]);
    Some(distributions(
        run,
        &format!("Who is still a customer: {title}"),
        rows,
        &position,
    ))
}

fn alive_heatmap(l: &Lifetime) -> charts::Heatmap {
    let m = &l.alive_matrix;
    charts::Heatmap {
        title: "Mean P(alive) by repeat purchases and days since the last purchase".into(),
        row_labels: m.frequency_labels.clone(),
        col_labels: m.recency_labels.clone(),
        values: m
            .mean_p_alive
            .iter()
            .map(|row| row.iter().map(|p| p.unwrap_or(f64::NAN)).collect())
            .collect(),
        cell_text: m
            .mean_p_alive
            .iter()
            .zip(&m.customers)
            .map(|(row, n)| {
                row.iter()
                    .zip(n)
                    .map(|(p, n)| p.map_or(String::new(), |p| format!("{p:.2} ({})", count(*n))))
                    .collect()
            })
            .collect(),
        palette: charts::Palette::Sequential,
        row_axis: "Repeat purchases".into(),
        col_axis: "Days since the last purchase".into(),
        subtitle: Some(
            "Darker = more likely still buying; customers in brackets; grey = nobody there".into(),
        ),
    }
}

fn tracking(b: &Backtest) -> charts::ActualVsPredicted {
    charts::ActualVsPredicted {
        title: "Repeat purchases after as-of: actual and predicted".into(),
        subtitle: format!(
            "Cumulative, week by week; error at the end {}",
            b.final_error().map_or("–".into(), signed_percent)
        ),
        x_axis: "Days after as-of".into(),
        y_axis: "Cumulative repeat purchases".into(),
        x: b.periods.iter().map(|&d| f64::from(d)).collect(),
        x_labels: None,
        actual: b.actual.clone(),
        predicted: b.predicted.clone(),
        actual_name: "Actual".into(),
        predicted_name: "Predicted by BG/NBD".into(),
    }
}

fn by_frequency(b: &Backtest) -> charts::ActualVsPredicted {
    charts::ActualVsPredicted {
        title: "Purchases after as-of by repeat purchases before it".into(),
        subtitle: format!(
            "Mean per customer over the {} days after as-of",
            b.holdout_days
        ),
        x_axis: "Repeat purchases before as-of".into(),
        y_axis: "Purchases per customer after as-of".into(),
        x: (0..b.by_frequency.len()).map(|i| i as f64).collect(),
        x_labels: Some(b.by_frequency.iter().map(|r| r.frequency.clone()).collect()),
        actual: b.by_frequency.iter().map(|r| r.actual).collect(),
        predicted: b.by_frequency.iter().map(|r| r.predicted).collect(),
        actual_name: "Actual".into(),
        predicted_name: "Expected by BG/NBD".into(),
    }
}
