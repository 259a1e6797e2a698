//! One error type for the library: every message names what an analyst must fix.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("job file {path}: {message}")]
    Job { path: PathBuf, message: String },

    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },

    #[error("{path}, column '{column}', data row {row}: {message}")]
    Cell {
        path: PathBuf,
        column: String,
        row: usize,
        message: String,
    },

    #[error("{0}")]
    Data(String),

    /// A check every run makes failed (see `invariants`): a defect of segmenta, not of the data.
    #[error(
        "consistency check failed, no report written: {0} (please report this with the job file)"
    )]
    Invariant(String),

    #[error("writing {path}: {message}")]
    Output { path: PathBuf, message: String },

    #[error("{context}: {source}")]
    Polars {
        context: String,
        #[source]
        source: polars::prelude::PolarsError,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

/// Attach a human context to polars errors, which on their own rarely say which table failed.
pub trait PolarsContext<T> {
    fn context(self, context: impl Into<String>) -> Result<T>;
}

impl<T> PolarsContext<T> for polars::prelude::PolarsResult<T> {
    fn context(self, context: impl Into<String>) -> Result<T> {
        self.map_err(|source| Error::Polars {
            context: context.into(),
            source,
        })
    }
}

pub fn output_error(path: impl Into<PathBuf>, err: impl std::fmt::Display) -> Error {
    Error::Output {
        path: path.into(),
        message: err.to_string(),
    }
}
