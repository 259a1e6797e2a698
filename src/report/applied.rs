//! The folder `segmenta apply` writes, `<root>/<job>/<as-of>-applied/`: every customer's cluster
//! under the saved model (assignments.csv / .parquet), drift.json, and index.html with the drift.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde_json::json;

use crate::drift::Drift;
use crate::error::{PolarsContext, Result};
use crate::format::percent;
use crate::label::cluster_name;
use crate::model::Applied;

const TEMPLATE: &str = include_str!("applied.html");

pub fn write(applied: &Applied, output_root: &Path) -> Result<PathBuf> {
    let folder = crate::layout::applied_folder(output_root, &applied.job.name, applied.as_of);
    super::write_folder(&folder, |dir| {
        super::export::write_frame(frame(applied)?, dir)?;
        super::write_json(&dir.join("drift.json"), &applied.drift)?;
        html(applied, dir)
    })?;
    Ok(folder)
}

fn frame(a: &Applied) -> Result<DataFrame> {
    let scores =
        |s: &[Option<u8>]| -> Vec<Option<u32>> { s.iter().map(|v| v.map(u32::from)).collect() };
    let label = |c: usize| a.cluster_labels.get(c).cloned().unwrap_or_default();
    let mut columns = vec![
        Column::new("customer_id".into(), &a.customer_ids),
        Column::new(
            "segment".into(),
            a.clusters
                .iter()
                .map(|c| cluster_name(Some(*c)))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "kmeans_cluster".into(),
            a.clusters.iter().map(|c| *c as u32).collect::<Vec<_>>(),
        ),
        Column::new(
            "model_label".into(),
            a.clusters.iter().map(|c| label(*c)).collect::<Vec<_>>(),
        ),
        Column::new("distance_to_centroid".into(), &a.distances),
        Column::new("far_from_centroids".into(), &a.far),
        Column::new("r_score".into(), scores(&a.r)),
        Column::new("f_score".into(), scores(&a.f)),
        Column::new("m_score".into(), scores(&a.m)),
    ];
    if let Some((labels, probabilities)) = &a.mixture {
        columns.extend(super::export::mixture_columns(labels, probabilities));
    }
    for (column, segments) in &a.rule_sets {
        columns.push(Column::new(column.as_str().into(), segments));
    }
    columns.extend(super::export::lifetime_columns(a.lifetime.iter()));
    DataFrame::new_infer_height(columns).context("building the applied assignment table")
}

fn html(a: &Applied, dir: &Path) -> Result<()> {
    let counts = crate::cluster::sizes(&a.clusters, a.cluster_labels.len());
    let context = json!({
        "job": a.job.name,
        "as_of": a.as_of.to_string(),
        "model_job": a.model_job,
        "model_as_of": a.model_as_of,
        "drift": drift_context(&a.drift, &a.cluster_labels, &counts, &a.notes),
    });
    super::html::render_page(dir, "applied.html", TEMPLATE, context)
}

/// The values of the drift partial (drift.html), shared by the apply page and the run report.
pub(super) fn drift_context(
    d: &Drift,
    labels: &[String],
    customers_now: &[usize],
    notes: &[String],
) -> serde_json::Value {
    let clusters: Vec<serde_json::Value> = (0..customers_now.len())
        .map(|c| {
            json!({
                "name": cluster_name(Some(c)),
                "label": labels.get(c).cloned().unwrap_or_default(),
                "customers": customers_now[c],
                "fit": d.cluster_shares_fit.get(c).map_or("–".into(), |s| percent(*s)),
                "now": percent(d.cluster_shares_now.get(c).copied().unwrap_or(0.0)),
            })
        })
        .collect();
    let mut columns = d.columns.clone();
    columns.sort_by(|x, y| y.psi.total_cmp(&x.psi));
    json!({
        "customers": customers_now.iter().sum::<usize>(),
        "far_share": percent(d.far_share),
        "far_expected": percent(d.far_share_fit),
        "cluster_psi": format!("{:.3}", d.cluster_psi),
        "warnings": d.warnings,
        "notes": notes,
        "clusters": clusters,
        "columns": columns.iter().map(|c| json!({"name": c.name, "psi": format!("{:.3}", c.psi), "level": c.level})).collect::<Vec<_>>(),
    })
}
