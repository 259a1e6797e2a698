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
mod lifetime;
mod projection;
mod quality;
mod rules_section;
pub mod summary;
mod traits;

use std::path::{Path, PathBuf};

pub use applied::write as write_applied;
pub use compared::write as write_comparison;
pub use export::assignments_frame;

use crate::error::{Error, Result};
use crate::format::money;
use crate::RunResult;

pub struct ChartFile {
    pub title: String,
    pub caption: String,
    pub png: PathBuf,
}

impl ChartFile {
    /// The chart drawn into `dir` as `<stem>.png` (and `.svg`), with its title and caption.
    fn new(dir: &Path, stem: &str, title: impl Into<String>, caption: impl Into<String>) -> Self {
        ChartFile {
            title: title.into(),
            caption: caption.into(),
            png: dir.join(format!("{stem}.png")),
        }
    }
}

/// A chart that cannot be drawn or saved is a report that cannot be written.
fn chart_error(dir: &Path) -> impl Fn(charts::ChartError) -> crate::Error + '_ {
    move |e| crate::Error::output(dir, e)
}

pub fn write(run: &RunResult, output_root: &Path) -> Result<PathBuf> {
    let final_dir = crate::layout::report_folder(output_root, &run.job.name, run.as_of);
    write_folder(&final_dir, |dir| write_into(run, dir))?;
    Ok(final_dir)
}

/// Writes a folder through `write` into a staging folder beside it and swaps it into place: a
/// failure, or a kill at any moment, leaves no half-written folder and keeps the previous one.
pub(crate) fn write_folder(
    final_dir: &Path,
    write: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let parent = final_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    refuse_links(&[&parent, final_dir])?;
    std::fs::create_dir_all(&parent).map_err(|e| Error::output(&parent, e))?;
    let name = final_dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    remove_stale_staging(&parent, &name);
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| Error::output(&staging, e))?;
    }
    std::fs::create_dir_all(&staging).map_err(|e| Error::output(&staging, e))?;
    if let Err(e) = write(&staging) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    replace_folder(&staging, final_dir)
}

/// The job's folder and the report's folder must be real folders: a symbolic link there would
/// carry the report (and the removal of the previous one) outside the output folder.
fn refuse_links(folders: &[&Path]) -> Result<()> {
    for folder in folders {
        let Ok(meta) = std::fs::symlink_metadata(folder) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(folder)
                .map(|t| format!(" (to {})", t.display()))
                .unwrap_or_default();
            return Err(crate::error::Error::output(folder.to_path_buf(), format!("is a symbolic link{target}; reports are written only into real folders inside the output folder — remove the link or choose another --output")));
        }
    }
    Ok(())
}

/// Staging folders of runs that were killed (their process is gone) are removed; a concurrent
/// run's staging folder is left alone.
fn remove_stale_staging(parent: &Path, name: &str) {
    let prefix = format!(".{name}.partial-");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = file_name
            .strip_prefix(&prefix)
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !process_alive(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        // Without /proc, keep the folder rather than risk removing a live run's.
        true
    }
}

/// Puts the finished staging folder in place of `target`. On Linux an existing report is
/// swapped atomically (renameat2 RENAME_EXCHANGE), so at every instant `target` holds either
/// the complete previous report or the complete new one; the old one is removed afterwards.
fn replace_folder(staging: &Path, target: &Path) -> Result<()> {
    if !target.exists() {
        return std::fs::rename(staging, target).map_err(|e| Error::output(target, e));
    }
    if exchange(staging, target).is_ok() {
        return std::fs::remove_dir_all(staging).map_err(|e| Error::output(staging, e));
    }
    replace_by_two_renames(staging, target)
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes());
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let status = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if status == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// Where no atomic exchange exists: move the old report aside, the new one in, then delete the
/// old one (a kill between the two renames leaves the old report in the hidden folder).
fn replace_by_two_renames(staging: &Path, target: &Path) -> Result<()> {
    let previous = target.with_file_name(format!(
        ".{}.previous-{}",
        target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default(),
        std::process::id()
    ));
    std::fs::rename(target, &previous).map_err(|e| Error::output(target, e))?;
    if let Err(e) = std::fs::rename(staging, target) {
        let _ = std::fs::rename(&previous, target);
        return Err(Error::output(target, e));
    }
    std::fs::remove_dir_all(&previous).map_err(|e| Error::output(&previous, e))
}

fn write_into(run: &RunResult, dir: &Path) -> Result<()> {
    let segmentations = crate::pipeline::invariants::check_segmentations(run)?;
    crate::error::injected_fault()?;
    // Hashing the input files reads them again (a second per 2 GB): it runs beside the rest.
    std::thread::scope(|scope| {
        let fingerprints = scope.spawn(|| {
            let files = &run.quality.files;
            files.iter().map(|f| fingerprint(Path::new(f))).collect()
        });
        write_outputs(run, dir)?;
        let fingerprints: Vec<String> = fingerprints
            .join()
            .map_err(|_| Error::internal("run.log", "hashing the input files failed"))?;
        write_run_log(run, segmentations, &fingerprints, &dir.join("run.log"))
    })
}

/// Everything but run.log.
fn write_outputs(run: &RunResult, dir: &Path) -> Result<()> {
    let chart_dir = dir.join("charts");
    std::fs::create_dir_all(&chart_dir).map_err(|e| Error::output(&chart_dir, e))?;
    let charts = figures::draw_charts(run, &chart_dir)?;
    let migration = match &run.migrations {
        Some(c) => {
            compared::write_moves(c, dir)?;
            Some(figures::draw_migration(c, &chart_dir)?)
        }
        None => None,
    };
    let lifetime_charts = lifetime::draw(run, &chart_dir)?;
    let summary = summary::build(run);
    write_json(&dir.join("summary.json"), &summary)?;
    write_json(&dir.join(crate::layout::MODEL_FILE), &run.saved_model())?;
    export::write(run, dir)?;
    export::write_segments(run, dir)?;
    html::write(run, dir, &charts, migration.as_ref(), &lifetime_charts)
}

pub(crate) fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::output(path, e))?;
    std::fs::write(path, text + "\n").map_err(|e| Error::output(path, e))
}

/// "13,017,416 bytes, sha256 4f…": says later exactly which export a report was made from.
fn fingerprint(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut hasher = Sha256::new();
    let read = std::fs::File::open(path).and_then(|mut file| {
        let mut buffer = vec![0u8; 1 << 16];
        let mut total = 0u64;
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                return Ok(total);
            }
            hasher.update(&buffer[..n]);
            total += n as u64;
        }
    });
    match read {
        Ok(bytes) => {
            let digest: String = hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!(
                "{} bytes, sha256 {digest}",
                crate::format::count(bytes as usize)
            )
        }
        Err(e) => format!("unreadable now: {e}"),
    }
}

/// `fingerprints`: one per input file, in the order of `run.quality.files`.
fn write_run_log(
    run: &RunResult,
    segmentations: usize,
    fingerprints: &[String],
    path: &Path,
) -> Result<()> {
    let mut log = String::new();
    log.push_str(&format!(
        "segmenta {}\njob: {}\nas_of: {}\nseed: {}\n",
        env!("CARGO_PKG_VERSION"),
        run.job.name,
        run.as_of,
        run.seed
    ));
    log.push_str("\n[inputs]\n");
    for (file, fingerprint) in run.quality.files.iter().zip(fingerprints) {
        log.push_str(&format!("file: {file} ({fingerprint})\n"));
    }
    for (table, rows) in &run.quality.rows_read {
        log.push_str(&format!("rows read: {table} = {rows}\n"));
    }
    for (column, format) in &run.quality.date_formats {
        log.push_str(&format!("date format: {column} = {format}\n"));
    }
    for (reason, rows) in &run.quality.dropped {
        let amount = run
            .quality
            .dropped_revenue
            .get(reason)
            .map_or_else(String::new, |a| format!(" (net amount {})", money(*a)));
        log.push_str(&format!("rows dropped: {reason} = {rows}{amount}\n"));
    }
    for suspicious in &run.quality.suspicious_ids {
        log.push_str(&format!("flagged: {}\n", suspicious.warning()));
    }
    for (reason, rows) in &run.quality.kept {
        log.push_str(&format!("rows kept: {reason} = {rows}\n"));
    }
    for (feature, cells) in &run.fit_report.imputed {
        log.push_str(&format!("cells imputed: {feature} = {cells}\n"));
    }
    log.push_str(&format!(
        "\n[result]\ncustomers: {}\ntransaction lines used: {}\nrevenue: {}\n",
        run.features.len(),
        run.features.transactions_used,
        money(run.features.net_revenue())
    ));
    for skipped in &run.rules.skipped {
        log.push_str(&format!("rule set skipped: {}\n", skipped.note()));
    }
    if let Some(expected) = &run.quality.expected {
        log.push_str(&format!(
            "checks passed: {}\n",
            crate::pipeline::invariants::Passed(expected, segmentations)
        ));
    }
    log.push_str(&format!(
        "k-means: k = {} ({})\n",
        run.kmeans.k, run.kmeans.reason
    ));
    match &run.dbscan {
        Some(d) => log.push_str(&format!(
            "dbscan: eps = {:.4}, min_points = {}, clusters = {}, noise = {}\n",
            d.eps, d.min_points, d.clusters, d.noise
        )),
        None => log.push_str("dbscan: not run ([discovery] dbscan = false)\n"),
    }
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
        toml::to_string(&*run.job).unwrap_or_default()
    ));
    std::fs::write(path, log).map_err(|e| Error::output(path, e))
}
