//! Who moved between two runs, as the report shows it: the "Who moved since …" section of a run
//! (migrations.html), migrations.csv, and the folder `segmenta compare` writes — index.html,
//! `charts/migration.png|svg`, migrations.csv and compare.json.

use std::path::Path;

use base64::Engine;
use serde::Serialize;
use serde_json::json;

use super::{figures, ChartFile};
use crate::compare::{Comparison, Migration};
use crate::error::{Error, Result};
use crate::format::{count, percent};

const TEMPLATE: &str = include_str!("compare.html");

#[derive(Serialize)]
struct Header {
    name: String,
    title: String,
    note: String,
}

#[derive(Serialize)]
struct Cell {
    n: String,
    /// The customer stayed: same rule segment, or the cluster that continues theirs.
    stay: bool,
    zero: bool,
}

#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    header: Header,
    cells: Vec<Cell>,
    total: String,
}

#[derive(Serialize)]
struct Matrix {
    title: String,
    column: String,
    stayed: String,
    moved: String,
    columns: Vec<Header>,
    rows: Vec<Row>,
    totals: Vec<String>,
    total: String,
}

/// The `segmenta compare` folder, written through the staging writer.
pub fn write(c: &Comparison, folder: &Path) -> Result<()> {
    refuse_foreign_folder(folder)?;
    super::write_folder(folder, |dir| {
        let chart_dir = dir.join("charts");
        std::fs::create_dir_all(&chart_dir).map_err(|e| Error::output(&chart_dir, e))?;
        let chart = figures::draw_migration(c, &chart_dir)?;
        super::write_json(&dir.join("compare.json"), c)?;
        write_moves(c, dir)?;
        let context = json!({
            "job": c.current.job,
            "previous_folder": c.previous.folder.display().to_string(),
            "current_folder": c.current.folder.display().to_string(),
            "migrations": context(c, &chart)?,
        });
        super::html::render_page(dir, "compare.html", TEMPLATE, context)
    })
}

/// The staging writer replaces the whole output folder, so `--output` must not name a folder
/// holding anything but an earlier comparison (a report folder, the reports root, a home folder).
fn refuse_foreign_folder(folder: &Path) -> Result<()> {
    let occupied = std::fs::read_dir(folder).is_ok_and(|mut entries| entries.next().is_some());
    if occupied && !folder.join("compare.json").is_file() {
        return Err(Error::output(
            folder,
            "the folder already holds files that are not a comparison; segmenta compare replaces its output folder as a whole, so name a new or empty folder",
        ));
    }
    Ok(())
}

/// migrations.csv, formula-looking text neutralised like assignments.csv.
pub(super) fn write_moves(c: &Comparison, dir: &Path) -> Result<()> {
    super::export::write_csv(c.moves_frame()?, &dir.join("migrations.csv"))
}

/// The values of the migrations partial, shared by a run's report and the compare page.
pub(super) fn context(c: &Comparison, chart: &ChartFile) -> Result<serde_json::Value> {
    let png = std::fs::read(&chart.png).map_err(|e| Error::output(&chart.png, e))?;
    let stayed_share = c.clusters.stayed as f64 / c.customers_in_both.max(1) as f64;
    let clusters = matrix(
        &c.clusters,
        |row, column| c.match_of(column) == Some(row),
        |column| {
            c.match_of(column)
                .map(|p| format!("continues {p}"))
                .unwrap_or_default()
        },
    );
    let rule_sets: Vec<Matrix> = c
        .rule_sets
        .iter()
        .map(|m| matrix(m, |row, column| row == column, |_| String::new()))
        .collect();
    Ok(json!({
        "previous_as_of": c.previous.as_of,
        "current_as_of": c.current.as_of,
        "previous_folder": c.previous.folder.display().to_string(),
        "customers": count(c.customers),
        "both": count(c.customers_in_both),
        "new": count(c.new_customers),
        "lost": count(c.lost_customers),
        "stayed": count(c.clusters.stayed),
        "stayed_share": percent(stayed_share),
        "moved": count(c.clusters.moved),
        "matching_note": c.matching_note,
        "notes": c.notes,
        "chart": {
            "title": chart.title,
            "caption": chart.caption,
            "png": base64::engine::general_purpose::STANDARD.encode(png),
        },
        "clusters": clusters,
        "rule_sets": rule_sets,
    }))
}

/// A migration matrix as table rows with totals; `stay(row, column)` marks the cells of
/// customers who stayed, `note(column)` adds a line under a column's name.
fn matrix(
    m: &Migration,
    stay: impl Fn(&str, &str) -> bool,
    note: impl Fn(&str) -> String,
) -> Matrix {
    let title = |titles: &[String], i: usize, name: &str| {
        titles
            .get(i)
            .filter(|t| !t.is_empty() && t.as_str() != name)
            .cloned()
            .unwrap_or_default()
    };
    let last_column = m.columns.len().saturating_sub(1);
    let columns = m
        .columns
        .iter()
        .enumerate()
        .map(|(j, name)| Header {
            name: name.clone(),
            title: title(&m.column_titles, j, name),
            note: if j < last_column {
                note(name)
            } else {
                String::new()
            },
        })
        .collect();
    let row_sums = m.row_sums();
    let last_row = m.rows.len().saturating_sub(1);
    let rows = m
        .rows
        .iter()
        .zip(&m.counts)
        .enumerate()
        .map(|(i, (name, counts))| Row {
            header: Header {
                name: name.clone(),
                title: title(&m.row_titles, i, name),
                note: String::new(),
            },
            cells: counts
                .iter()
                .zip(&m.columns)
                .enumerate()
                .map(|(j, (&n, column))| Cell {
                    n: count(n),
                    // By position: a segment may share its name with the new / lost ends.
                    stay: n > 0 && i < last_row && j < last_column && stay(name, column),
                    zero: n == 0,
                })
                .collect(),
            total: count(row_sums[i]),
        })
        .collect();
    Matrix {
        title: m.title.clone(),
        column: m.column.clone(),
        stayed: count(m.stayed),
        moved: count(m.moved),
        columns,
        rows,
        totals: m.column_sums().into_iter().map(count).collect(),
        total: count(row_sums.iter().sum()),
    }
}
