//! Rendering a chart twice, to PNG and SVG, from one drawing routine generic over the backend.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::error::{ChartError, Res};
use super::text::{ensure_fonts, Fx};

/// A chart drawn once, generically, then rendered to PNG and SVG by [`render`]. (A trait and
/// not a closure because a closure cannot be generic over the backend type.)
pub(super) trait Figure {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, fx: Fx) -> Res;
}

pub(super) fn render(dir: &Path, stem: &str, fig: &impl Figure) -> Res {
    ensure_fonts()?;
    std::fs::create_dir_all(dir).map_err(|source| ChartError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let size = fig.size();
    let png = dir.join(format!("{stem}.png"));
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        root.fill(&WHITE)?;
        fig.draw(&root, Fx { bitmap: true })?;
        root.present()?;
    }
    // Render the SVG into memory so that a failed write surfaces as a real io::Error.
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        fig.draw(&root, Fx { bitmap: false })?;
        root.present()?;
    }
    let svg_path = dir.join(format!("{stem}.svg"));
    std::fs::write(&svg_path, svg).map_err(|source| ChartError::Io {
        path: svg_path,
        source,
    })
}
