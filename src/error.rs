//! One error type for the library. Its variants are the command line's exit codes, so what a
//! failure means to a script is decided where the failure happens, not guessed at the top.
//! Every message names what an analyst must fix.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Exit 1: the job file or the data it reads.
    #[error(transparent)]
    Input(#[from] InputError),

    /// Exit 2: the command line asks for something that cannot be done as asked.
    #[error("{0}")]
    Usage(String),

    /// Exit 3: a report file, chart or export could not be written (disk, chart, template).
    #[error("writing {path}: {message}")]
    Output { path: PathBuf, message: String },

    /// Exit 4: a defect of segmenta or a failure inside a library it calls.
    #[error("internal error, {context}: {source} (please report this with the job file)")]
    Internal {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// Exit 5: a check every run makes failed (see `invariants`): a defect of segmenta, not of
    /// the data.
    #[error(
        "consistency check failed, no report written: {0} (please report this with the job file)"
    )]
    Inconsistent(String),
}

/// What is wrong with the job or the data: the file, the column and the row where there is one.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("job file {path}: {source}")]
    Job {
        path: PathBuf,
        #[source]
        source: JobError,
    },

    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },

    #[error("{path}, column '{column}', data row {row}: {message}")]
    Cell {
        path: PathBuf,
        column: String,
        row: usize,
        message: String,
    },

    /// Data that reads but cannot be segmented as the job asks (no customers, nothing varies…).
    #[error("{0}")]
    Data(String),

    /// polars refused a table; the context says which one.
    #[error("{context}: {source}")]
    Table {
        context: String,
        #[source]
        source: polars::prelude::PolarsError,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The process exit code of this error (docs/report.md, "Exit codes").
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Input(_) => 1,
            Error::Usage(_) => 2,
            Error::Output { .. } => 3,
            Error::Internal { .. } => 4,
            Error::Inconsistent(_) => 5,
        }
    }

    pub fn data(message: impl Into<String>) -> Error {
        InputError::Data(message.into()).into()
    }

    pub fn file(path: impl Into<PathBuf>, message: impl Into<String>) -> Error {
        InputError::File {
            path: path.into(),
            message: message.into(),
        }
        .into()
    }

    pub fn cell(
        path: impl Into<PathBuf>,
        column: impl Into<String>,
        row: usize,
        message: impl Into<String>,
    ) -> Error {
        InputError::Cell {
            path: path.into(),
            column: column.into(),
            row,
            message: message.into(),
        }
        .into()
    }

    pub fn job(path: impl Into<PathBuf>, source: JobError) -> Error {
        InputError::Job {
            path: path.into(),
            source,
        }
        .into()
    }

    pub fn usage(message: impl Into<String>) -> Error {
        Error::Usage(message.into())
    }

    pub fn output(path: impl Into<PathBuf>, err: impl std::fmt::Display) -> Error {
        Error::Output {
            path: path.into(),
            message: err.to_string(),
        }
    }

    pub fn internal(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        Error::Internal {
            context: context.into(),
            source: source.into(),
        }
    }
}

/// Attach a human context to polars errors, which on their own rarely say which table failed.
/// polars fails on what it is given to read or compute, so its errors are input errors.
pub trait PolarsContext<T> {
    fn context(self, context: impl Into<String>) -> Result<T>;
}

impl<T> PolarsContext<T> for polars::prelude::PolarsResult<T> {
    fn context(self, context: impl Into<String>) -> Result<T> {
        self.map_err(|source| {
            InputError::Table {
                context: context.into(),
                source,
            }
            .into()
        })
    }
}

/// What is wrong with a job file, found before any data is read.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("cannot read it: {0}")]
    Unreadable(String),

    /// Not TOML, an unknown key or a value of the wrong type (serde's message, with the nearest
    /// valid key).
    #[error("{0}")]
    Syntax(String),

    /// A value out of range, or keys that need each other, in one section ("[discovery]"; empty
    /// for the top-level keys).
    #[error("{}{message}", if section.is_empty() { String::new() } else { format!("{section} ") })]
    Invalid { section: String, message: String },

    /// A rule preset or threshold table the job names does not fit the preset files.
    #[error("{0}")]
    Rules(String),
}

impl JobError {
    /// A value of `section` ("[discovery]"; "" for a top-level key) that fails its check.
    pub fn invalid(section: impl Into<String>, message: impl Into<String>) -> JobError {
        JobError::Invalid {
            section: section.into(),
            message: message.into(),
        }
    }
}

/// A failure that no input can cause, made on purpose so the tests can prove through the binary
/// that such failures exit with their own code and leave no half-written report:
/// `SEGMENTA_FAULT=internal|inconsistent` fails the report just before its first file is
/// written. Debug builds only; a release binary ignores the variable.
pub fn injected_fault() -> Result<()> {
    if !cfg!(debug_assertions) {
        return Ok(());
    }
    match std::env::var("SEGMENTA_FAULT").as_deref() {
        Ok("internal") => Err(Error::internal(
            "SEGMENTA_FAULT=internal",
            "a fault injected by the test suite",
        )),
        Ok("inconsistent") => Err(Error::Inconsistent(
            "SEGMENTA_FAULT=inconsistent: a fault injected by the test suite".into(),
        )),
        _ => Ok(()),
    }
}
