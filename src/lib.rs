//! segmenta: automatic customer segmentation.
//!
//! The pipeline reads as its stages: [`load`] → [`features`] → [`lifetime`] → [`rules`] →
//! [`cluster`] → [`label`] → [`report`]; [`pipeline`] wires all but the report for a job into a
//! [`RunResult`], and [`run`] writes its report. Beside the stages: [`job`] (the job file, parsed and
//! checked), [`model`] (the fitted model saved with a run, and applied to new data), [`drift`]
//! and [`compare`] (one run against an earlier one), [`stages`] (the stages one command at a
//! time, with Parquet files in between), [`metrics`], [`generate`] (synthetic data), and the leaves [`error`], [`format`] and
//! [`layout`]. The command line (`src/main.rs`, `src/cmd/`) only parses arguments, calls these
//! and prints.

pub mod cluster;
pub mod compare;
pub mod drift;
pub mod error;
pub mod features;
pub mod format;
pub mod generate;
pub mod job;
pub mod label;
pub mod layout;
pub mod lifetime;
pub mod load;
pub mod metrics;
pub mod model;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod sql;
pub mod stages;

use std::path::PathBuf;

pub use error::{Error, Result};
pub use pipeline::{RunOptions, RunResult};

/// A whole discovery job: every stage, then the report; returns what the run found and the
/// report folder.
pub fn run(job: &job::Job, options: &RunOptions) -> Result<(RunResult, PathBuf)> {
    let result = pipeline::analyse(job, options)?;
    let folder = report::write(&result, &options.output_root)?;
    Ok((result, folder))
}
