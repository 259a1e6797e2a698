//! segmenta: automatic customer segmentation.
//!
//! The pipeline reads as its stages: [`load`] → [`features`] → [`rules`] → [`cluster`] →
//! [`label`] → [`report`]; [`pipeline`] wires them for a job, and [`compare`] sets a run against
//! the job's previous one. [`stages`] runs the same stages one verb at a time, with Parquet files
//! in between, for analysts who script.

pub mod apply;
pub mod check;
pub mod cluster;
pub mod compare;
pub mod drift;
pub mod error;
pub mod features;
pub mod format;
pub mod generate;
pub mod invariants;
pub mod job;
pub mod label;
pub mod load;
pub mod metrics;
pub mod model;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod stages;

pub use error::{Error, Result};
pub use pipeline::{run, RunOptions, RunResult};
