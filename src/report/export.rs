//! The per-customer assignment table, as CSV and Parquet, ready to push back into a CRM.

use std::path::Path;

use ndarray::Array2;
use polars::prelude::*;

use crate::error::{Error, PolarsContext, Result};
use crate::label::cluster_name;
use crate::RunResult;

/// Cells a spreadsheet would run as a formula get a leading apostrophe (CSV only).
fn neutralise_formula(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

pub fn assignments_frame(run: &RunResult) -> Result<DataFrame> {
    let n = run.features.len();
    let scores =
        |s: &[Option<u8>]| -> Vec<Option<i32>> { s.iter().map(|v| v.map(i32::from)).collect() };
    let kmeans: Vec<u32> = run.kmeans.labels.iter().map(|&c| c as u32).collect();
    let cells: Vec<Option<String>> = (0..n).map(|i| run.rules.rfm.cell(i)).collect();

    let segments = run.primary_segments();
    let names = run.segment_titles(&segments);
    let mut columns = vec![
        Column::new("customer_id".into(), &run.features.customer_ids),
        Column::new("segment".into(), segments),
        Column::new("segment_name".into(), names),
        Column::new("kmeans_cluster".into(), kmeans),
    ];
    if let Some(d) = &run.dbscan {
        let clusters: Vec<Option<u32>> = d.labels.iter().map(|c| c.map(|c| c as u32)).collect();
        let names: Vec<String> = d.labels.iter().map(|c| cluster_name(*c)).collect();
        columns.push(Column::new("dbscan_cluster".into(), clusters));
        columns.push(Column::new("dbscan_segment".into(), names));
    }
    // Scores only for the measures the inputs give: a CRM gets no column that is blank for all.
    let rfm = &run.rules.rfm;
    for (measure, name, values) in [
        ("recency_days", "r_score", &rfm.r),
        ("frequency", "f_score", &rfm.f),
        ("monetary", "m_score", &rfm.m),
    ] {
        if run.features.gives(measure) {
            columns.push(Column::new(name.into(), scores(values)));
        }
    }
    if ["recency_days", "frequency", "monetary"]
        .iter()
        .all(|m| run.features.gives(m))
    {
        columns.push(Column::new("rfm_cell".into(), cells));
    }
    if let Some(g) = &run.gmm {
        columns.extend(mixture_columns(&g.labels, &g.probabilities));
    }
    for set in &run.rules.sets {
        columns.push(Column::new(set.column_name().into(), &set.labels));
    }
    if run.lifetime.is_some() {
        columns.extend(lifetime_columns(run.features.all_columns()));
    }
    DataFrame::new_infer_height(columns).context("building the assignment table")
}

/// Every customer's lifetime figures: P(alive) and expected purchases to 6 decimals, money to
/// the cent; blank for a customer the model does not describe (no purchase before as-of).
pub(crate) fn lifetime_columns<'a>(
    features: impl Iterator<Item = &'a crate::features::Feature> + Clone,
) -> Vec<Column> {
    crate::job::LIFETIME_COLUMNS
        .iter()
        .zip([6, 6, 2, 2])
        .filter_map(|(name, decimals)| {
            let feature = features.clone().find(|f| f.name == *name)?;
            let scale = 10f64.powi(decimals);
            let values: Vec<Option<f64>> = feature
                .values
                .iter()
                .map(|v| v.map(|v| (v * scale).round() / scale))
                .collect();
            Some(Column::new((*name).into(), values))
        })
        .collect()
}

/// The Gaussian mixture's columns: the most probable component, its probability, and the
/// probability of every component (`gmm_p0`, `gmm_p1`, …; each row sums to 1). Rounded to 4
/// decimals: a CRM needs "0.9731", not "9.5e-179".
pub(crate) fn mixture_columns(labels: &[usize], probabilities: &Array2<f64>) -> Vec<Column> {
    let mut columns = vec![
        Column::new(
            "gmm_cluster".into(),
            labels.iter().map(|&c| c as u32).collect::<Vec<_>>(),
        ),
        Column::new(
            "gmm_probability".into(),
            crate::cluster::gmm::confidence(labels, probabilities)
                .into_iter()
                .map(round4)
                .collect::<Vec<_>>(),
        ),
    ];
    for (c, column) in probabilities.columns().into_iter().enumerate() {
        let rounded: Vec<f64> = column.iter().map(|&p| round4(p)).collect();
        columns.push(Column::new(format!("gmm_p{c}").into(), rounded));
    }
    columns
}

fn round4(p: f64) -> f64 {
    (p * 1e4).round() / 1e4
}

pub fn write(run: &RunResult, dir: &Path) -> Result<()> {
    let frame = assignments_frame(run)?;
    crate::pipeline::invariants::check_assignments(&frame, run.features.len())?;
    write_frame(frame, dir)
}

/// assignments.parquet as is, and assignments.csv with formula-looking text neutralised.
pub(crate) fn write_frame(mut frame: DataFrame, dir: &Path) -> Result<()> {
    let parquet = dir.join("assignments.parquet");
    let file = std::fs::File::create(&parquet).map_err(|e| Error::output(&parquet, e))?;
    ParquetWriter::new(file)
        .finish(&mut frame)
        .context("writing assignments.parquet")?;
    write_csv(frame, &dir.join("assignments.csv"))
}

/// A CSV for spreadsheets and CRMs: text that a spreadsheet would run as a formula is neutralised.
pub(crate) fn write_csv(mut frame: DataFrame, path: &Path) -> Result<()> {
    let text_columns: Vec<String> = frame
        .columns()
        .iter()
        .filter(|c| c.dtype() == &DataType::String)
        .map(|c| c.name().to_string())
        .collect();
    for name in text_columns {
        let safe: Vec<Option<String>> = frame
            .column(&name)
            .and_then(|c| c.str().cloned())
            .context("neutralising formulas")?
            .iter()
            .map(|v| v.map(neutralise_formula))
            .collect();
        frame
            .with_column(Column::new(name.as_str().into(), safe))
            .context("neutralising formulas")?;
    }
    let mut file = std::fs::File::create(path).map_err(|e| Error::output(path, e))?;
    CsvWriter::new(&mut file)
        .finish(&mut frame)
        .context(format!("writing {}", path.display()))?;
    Ok(())
}

/// segments.csv: one row per segment of the primary segmentation, ready to paste into a CRM's
/// segment list — size, revenue, the dominant RFM group, the distinctive traits in words and
/// the suggested action (revenue without spend in the inputs, and the RFM columns without RFM
/// groups, are left out).
pub fn segments_frame(run: &RunResult) -> Result<DataFrame> {
    let labelling = run.primary_labelling();
    let profiles = &labelling.clusters;
    let text = |f: &dyn Fn(&crate::label::ClusterProfile) -> String| -> Vec<String> {
        profiles.iter().map(f).collect()
    };
    let number = |f: &dyn Fn(&crate::label::ClusterProfile) -> f64| -> Vec<f64> {
        profiles.iter().map(f).collect()
    };
    let mut columns = vec![
        Column::new("segment".into(), text(&|p| p.name.clone())),
        Column::new("name".into(), text(&|p| p.title.clone())),
        Column::new(
            "customers".into(),
            profiles.iter().map(|p| p.size as u64).collect::<Vec<_>>(),
        ),
        Column::new("share".into(), number(&|p| round4(p.share))),
    ];
    if run.features.gives("monetary") {
        columns.extend([
            Column::new(
                "revenue".into(),
                number(&|p| (p.revenue * 100.0).round() / 100.0),
            ),
            Column::new("revenue_share".into(), number(&|p| round4(p.revenue_share))),
        ]);
    }
    let rfm = run.rules.rfm_groups();
    let label = |p: &crate::label::ClusterProfile| p.label.clone().unwrap_or_default();
    if rfm.is_some() {
        columns.extend([
            Column::new("rfm_group".into(), text(&label)),
            Column::new(
                "rfm_group_share".into(),
                number(&|p| round4(p.label_share.unwrap_or(0.0))),
            ),
            Column::new(
                "rfm_median_group".into(),
                text(&|p| p.rfm_name.clone().unwrap_or_default()),
            ),
        ]);
    }
    columns.push(Column::new(
        "traits".into(),
        text(&|p| super::traits::distinctive(&run.features, p, &labelling.base, 4).join("; ")),
    ));
    if let Some(rfm) = rfm {
        columns.push(Column::new(
            "suggested_action".into(),
            text(&|p| rfm.action_of(&label(p))),
        ));
    }
    DataFrame::new_infer_height(columns).context("building the segment list")
}

pub fn write_segments(run: &RunResult, dir: &Path) -> Result<()> {
    write_csv(segments_frame(run)?, &dir.join("segments.csv"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(neutralise_formula("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(neutralise_formula("C0001"), "C0001");
    }
}
