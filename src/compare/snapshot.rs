//! Reading a run back from its report folder (`reports/<job>/<as-of>/`): assignments.csv and
//! the part of summary.json a comparison needs, into a [`Snapshot`].

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use polars::prelude::*;
use serde::Deserialize;

use super::{RuleColumn, RunInfo, Snapshot, PRIMARY_COLUMN};
use crate::error::{Error, PolarsContext, Result};

/// The part of summary.json a comparison needs.
#[derive(Deserialize)]
struct SummaryHead {
    job: String,
    as_of: String,
    #[serde(default)]
    primary: String,
    #[serde(default)]
    rule_sets: Vec<RuleSetHead>,
    #[serde(default)]
    clusters: Vec<ClusterHead>,
}

#[derive(Deserialize)]
struct RuleSetHead {
    column: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    segments: Vec<NameHead>,
}

#[derive(Deserialize)]
struct NameHead {
    name: String,
}

#[derive(Deserialize)]
struct ClusterHead {
    name: String,
    #[serde(default)]
    title: String,
}

fn input(path: &Path, message: impl Into<String>) -> Error {
    Error::file(path.to_path_buf(), message.into())
}

impl Snapshot {
    /// Reads a report folder (`reports/<job>/<as-of>/`): its assignments.csv and summary.json.
    pub fn read(folder: &Path) -> Result<Snapshot> {
        if !folder.is_dir() {
            return Err(input(
                folder,
                "no such report folder (a run writes reports/<job>/<as-of>/)",
            ));
        }
        let csv = folder.join("assignments.csv");
        if !csv.is_file() {
            return Err(input(
                &csv,
                "missing: the folder is not a finished segmenta report (it needs assignments.csv and summary.json)",
            ));
        }
        let summary = read_summary(&folder.join("summary.json"))?;
        let frame = read_assignments(&csv)?;
        let text = |name: &str| text_column(&frame, name, &csv);
        let customer_ids =
            text("customer_id")?.ok_or_else(|| input(&csv, "no customer_id column"))?;
        let segments = text(PRIMARY_COLUMN)?.ok_or_else(|| input(&csv, "no segment column"))?;
        check_ids(&customer_ids, &csv)?;
        let titles = match text("segment_name")? {
            Some(names) => first_title_per_segment(&segments, &names),
            // Older assignments without names: the run's k-means clusters carry the titles.
            None => summary
                .clusters
                .iter()
                .map(|c| (c.name.clone(), c.title.clone()))
                .collect(),
        };
        let mut rule_sets = Vec::new();
        for set in &summary.rule_sets {
            if let Some(labels) = text(&set.column)? {
                rule_sets.push(RuleColumn {
                    column: set.column.clone(),
                    title: set.title.clone(),
                    order: set.segments.iter().map(|s| s.name.clone()).collect(),
                    labels,
                });
            }
        }
        Ok(Snapshot {
            folder: folder.to_path_buf(),
            job: summary.job,
            as_of: summary.as_of,
            primary: summary.primary,
            customer_ids,
            segments,
            titles,
            rule_sets,
        })
    }

    pub(super) fn rule_set(&self, column: &str) -> Option<&RuleColumn> {
        self.rule_sets.iter().find(|s| s.column == column)
    }

    pub(super) fn info(&self) -> RunInfo {
        RunInfo {
            folder: self.folder.clone(),
            job: self.job.clone(),
            as_of: self.as_of.clone(),
            customers: self.customer_ids.len(),
        }
    }
}

fn read_summary(path: &Path) -> Result<SummaryHead> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        input(
            path,
            format!("cannot read ({e}); a finished segmenta report folder holds summary.json"),
        )
    })?;
    serde_json::from_str(&text).map_err(|e| input(path, format!("not a segmenta summary: {e}")))
}

/// Every column as text: ids like "00123" must stay as written.
fn read_assignments(path: &Path) -> Result<DataFrame> {
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|reader| reader.finish())
        .context(format!("{}: not a readable CSV file", path.display()))
}

/// A text column with the CSV's formula neutralisation undone (None when the column is absent).
fn text_column(frame: &DataFrame, name: &str, path: &Path) -> Result<Option<Vec<String>>> {
    let Ok(column) = frame.column(name) else {
        return Ok(None);
    };
    let values = column
        .str()
        .context(format!("{}: column {name}", path.display()))?;
    Ok(Some(
        values
            .iter()
            .map(|v| restore_formula(v.unwrap_or_default()))
            .collect(),
    ))
}

/// The inverse of the export's formula neutralisation: "'=x" was written for "=x". Ids must read
/// the same whether they come from a CSV or from a run in memory.
pub(super) fn restore_formula(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_string(),
        _ => cell.to_string(),
    }
}

fn check_ids(ids: &[String], path: &Path) -> Result<()> {
    let mut seen = HashMap::with_capacity(ids.len());
    for (row, id) in ids.iter().enumerate() {
        if id.is_empty() {
            return Err(input(
                path,
                format!("customer_id is empty in data row {}", row + 1),
            ));
        }
        if let Some(first) = seen.insert(id.as_str(), row) {
            return Err(input(
                path,
                format!(
                    "customer {id} appears twice (data rows {} and {})",
                    first + 1,
                    row + 1
                ),
            ));
        }
    }
    Ok(())
}

pub fn first_title_per_segment(segments: &[String], names: &[String]) -> BTreeMap<String, String> {
    let mut titles = BTreeMap::new();
    for (segment, name) in segments.iter().zip(names) {
        titles
            .entry(segment.clone())
            .or_insert_with(|| name.clone());
    }
    titles
}
