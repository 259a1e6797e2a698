//! Where a run's files go: `<output root>/<job>/<as-of>/` for a run, `<as-of>-applied/` for a
//! saved model applied to new data, `<later>-vs-<earlier>/` for a comparison. Every folder name
//! is decided here, so the report, the pipeline (which looks for the previous run) and the
//! command line agree.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

/// The saved model of a run, beside its report.
pub const MODEL_FILE: &str = "model.json";

/// The folder a run of the job named `job` as of `as_of` writes to under `output_root`.
pub fn report_folder(output_root: &Path, job: &str, as_of: NaiveDate) -> PathBuf {
    output_root.join(job).join(as_of.to_string())
}

/// Where a saved model applied to the data of `job` as of `as_of` writes: beside the runs, in a
/// folder that is not a date, so no later run takes it for a run of its own.
pub fn applied_folder(output_root: &Path, job: &str, as_of: NaiveDate) -> PathBuf {
    output_root.join(job).join(format!("{as_of}-applied"))
}

/// The model of the job's latest run as of a date before `as_of`, under `output_root`.
pub fn previous_model(output_root: &Path, job: &str, as_of: NaiveDate) -> Option<PathBuf> {
    std::fs::read_dir(output_root.join(job))
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let date = NaiveDate::parse_from_str(entry.file_name().to_str()?, "%Y-%m-%d").ok()?;
            let model = entry.path().join(MODEL_FILE);
            (date < as_of && model.is_file()).then_some((date, model))
        })
        .max_by_key(|(date, _)| *date)
        .map(|(_, model)| model)
}

/// The report folder of the job's latest run before `as_of` under `output_root`: the folder of
/// the model [`previous_model`] finds, which also holds that run's assignments.
pub fn previous_run_folder(output_root: &Path, job: &str, as_of: NaiveDate) -> Option<PathBuf> {
    previous_model(output_root, job, as_of)?
        .parent()
        .map(Path::to_path_buf)
}

/// Where `segmenta compare` writes by default: beside the later report, in
/// `<job folder>/<later as-of>-vs-<earlier as-of>/` (not a date, so no later run mistakes it
/// for a run of its own).
pub fn comparison_folder(later_report: &Path, later_as_of: &str, earlier_as_of: &str) -> PathBuf {
    let later = std::fs::canonicalize(later_report).unwrap_or_else(|_| later_report.to_path_buf());
    let parent = later
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    parent.join(format!("{later_as_of}-vs-{earlier_as_of}"))
}
