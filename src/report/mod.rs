//! Stage 6 — report: index.html, charts, summary.json, assignments, model.json, run.log and,
//! after a previous run, migrations.csv in `<root>/<job>/<as-of>/`, written to a temporary folder
//! and renamed into place, so a failed run never leaves half a report and never destroys the
//! previous one.

mod applied;
pub mod charts;
mod compared;
mod export;
mod figures;
mod html;
mod projection;
mod quality;
mod rules_section;
pub mod summary;
mod traits;

use std::path::{Path, PathBuf};

pub use applied::write as write_applied;
pub use compared::write as write_comparison;
pub use export::assignments_frame;
pub(crate) use export::segment_names;
pub use html::{count, money, percent};

use crate::error::{output_error, Result};
use crate::model::SavedModel;
use crate::RunResult;

pub struct ChartFile {
    pub title: String,
    pub caption: String,
    pub png: PathBuf,
}

pub fn write(run: &RunResult, output_root: &Path) -> Result<PathBuf> {
    let final_dir = crate::pipeline::report_folder(output_root, &run.job, run.as_of);
    write_folder(&final_dir, |dir| write_into(run, dir))?;
    Ok(final_dir)
}

/// Writes a folder through `write` into a staging folder beside it and renames it into place:
/// a failure leaves no half-written folder and keeps the previous one.
pub(crate) fn write_folder(
    final_dir: &Path,
    write: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let parent = final_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&parent).map_err(|e| output_error(&parent, e))?;
    let name = final_dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| output_error(&staging, e))?;
    }
    std::fs::create_dir_all(&staging).map_err(|e| output_error(&staging, e))?;
    if let Err(e) = write(&staging) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    replace_folder(&staging, final_dir)
}

/// Moves the finished staging folder into place; the previous report is removed only after.
fn replace_folder(staging: &Path, target: &Path) -> Result<()> {
    let previous = target.with_file_name(format!(
        ".{}.previous-{}",
        target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default(),
        std::process::id()
    ));
    let had_previous = target.exists();
    if had_previous {
        std::fs::rename(target, &previous).map_err(|e| output_error(target, e))?;
    }
    if let Err(e) = std::fs::rename(staging, target) {
        if had_previous {
            let _ = std::fs::rename(&previous, target);
        }
        return Err(output_error(target, e));
    }
    if had_previous {
        std::fs::remove_dir_all(&previous).map_err(|e| output_error(&previous, e))?;
    }
    Ok(())
}

fn write_into(run: &RunResult, dir: &Path) -> Result<()> {
    let chart_dir = dir.join("charts");
    std::fs::create_dir_all(&chart_dir).map_err(|e| output_error(&chart_dir, e))?;
    let charts = figures::draw_charts(run, &chart_dir)?;
    let migration = match &run.migrations {
        Some(c) => {
            compared::write_moves(c, dir)?;
            Some(figures::draw_migration(c, &chart_dir)?)
        }
        None => None,
    };
    let summary = summary::build(run);
    write_json(&dir.join("summary.json"), &summary)?;
    write_json(&dir.join("model.json"), &SavedModel::from_run(run))?;
    export::write(run, dir)?;
    export::write_segments(run, dir)?;
    html::write(run, dir, &charts, migration.as_ref())?;
    write_run_log(run, &dir.join("run.log"))
}

pub(crate) fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| output_error(path, e))?;
    std::fs::write(path, text + "\n").map_err(|e| output_error(path, e))
}

fn write_run_log(run: &RunResult, path: &Path) -> Result<()> {
    let mut log = String::new();
    log.push_str(&format!(
        "segmenta {}\njob: {}\nas_of: {}\nseed: {}\n",
        env!("CARGO_PKG_VERSION"),
        run.job.name,
        run.as_of,
        run.seed
    ));
    log.push_str("\n[inputs]\n");
    for file in &run.quality.files {
        log.push_str(&format!("file: {file}\n"));
    }
    for (table, rows) in &run.quality.rows_read {
        log.push_str(&format!("rows read: {table} = {rows}\n"));
    }
    for (column, format) in &run.quality.date_formats {
        log.push_str(&format!("date format: {column} = {format}\n"));
    }
    for (reason, rows) in &run.quality.dropped {
        log.push_str(&format!("rows dropped: {reason} = {rows}\n"));
    }
    for (feature, cells) in &run.fit_report.imputed {
        log.push_str(&format!("cells imputed: {feature} = {cells}\n"));
    }
    log.push_str(&format!(
        "\n[result]\ncustomers: {}\ntransaction lines used: {}\nrevenue: {}\n",
        run.features.len(),
        run.features.transactions_used,
        money(run.features.facts.monetary.iter().sum())
    ));
    log.push_str(&format!(
        "k-means: k = {} ({})\ndbscan: eps = {:.4}, min_points = {}, clusters = {}, noise = {}\n",
        run.kmeans.k,
        run.kmeans.reason,
        run.dbscan.eps,
        run.dbscan.min_points,
        run.dbscan.clusters,
        run.dbscan.noise
    ));
    log.push_str("\n[warnings]\n");
    for w in &run.warnings {
        log.push_str(&format!("{w}\n"));
    }
    log.push_str("\n[timings]\n");
    for (stage, seconds) in &run.timings {
        log.push_str(&format!("{stage}: {seconds:.3} s\n"));
    }
    log.push_str(&format!(
        "\n[settings]\n{}\n",
        toml::to_string(&run.job).unwrap_or_default()
    ));
    std::fs::write(path, log).map_err(|e| output_error(path, e))
}
