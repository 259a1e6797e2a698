//! Why a chart could not be produced, and the result every drawing step returns.

use std::path::PathBuf;

use plotters::prelude::*;

/// Why a chart could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// plotters reported an error while drawing or encoding (kept as text: the backend error
    /// types differ per backend and are not worth exposing).
    #[error("drawing a chart failed: {0}")]
    Drawing(String),
    /// Creating the output folder or writing the SVG failed.
    #[error("cannot write {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The bundled font could not be parsed (would mean a corrupted build).
    #[error("the bundled DejaVu Sans font could not be loaded")]
    Font,
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for ChartError {
    fn from(err: DrawingAreaErrorKind<E>) -> Self {
        ChartError::Drawing(err.to_string())
    }
}

pub(super) type Res = Result<(), ChartError>;
