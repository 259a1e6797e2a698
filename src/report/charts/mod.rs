//! Static charts for the HTML report.
//!
//! Every chart is drawn by one routine that is generic over the plotters backend and rendered
//! twice: `<stem>.png` (at least 1600 px wide, for slide decks) and `<stem>.svg` (for the page).
//! DejaVu Sans is bundled and registered with plotters' `ab_glyph` renderer, so the PNGs look the
//! same on every machine and no system font lookup happens.
//!
//! Colours: `cluster_color(i)` is the one colour of cluster `i` in every chart; the noise
//! ("Outliers") entry is always `OUTLIER_COLOR`.

mod canvas;
mod colours;
mod error;
mod render;
mod scales;
mod text;

mod distributions;
mod drivers;
mod flow;
mod heatmap;
mod k_distance;
mod k_selection;
mod lines;
mod rf_grid;
mod scatter;
mod sizes;

#[cfg(test)]
mod tests;

pub use colours::{cluster_color, OUTLIER_COLOR};
pub use distributions::*;
pub use drivers::*;
pub use error::ChartError;
pub use flow::*;
pub use heatmap::*;
pub use k_distance::*;
pub use k_selection::*;
pub use lines::*;
pub use rf_grid::*;
pub use scatter::*;
pub use sizes::*;
