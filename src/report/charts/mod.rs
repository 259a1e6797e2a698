//! Static charts for the HTML report.
//!
//! Every chart is drawn by one routine that is generic over the plotters backend and rendered
//! twice: `<stem>.png` (at least 1600 px wide, for slide decks) and `<stem>.svg` (for the page).
//! DejaVu Sans is bundled and registered with plotters' `ab_glyph` renderer, so the PNGs look the
//! same on every machine and no system font lookup happens.
//!
//! Colours: `cluster_color(i)` is the one colour of cluster `i` in every chart; the noise
//! ("Outliers") entry is always `OUTLIER_COLOR`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontFamily, FontStyle, FontTransform};

use crate::format::label_number;

mod distributions;
mod drivers;
mod flow;
mod heatmap;
mod k_distance;
mod k_selection;
mod rf_grid;
mod scatter;
mod sizes;

pub use distributions::*;
pub use drivers::*;
pub use flow::*;
pub use heatmap::*;
pub use k_distance::*;
pub use k_selection::*;
pub use rf_grid::*;
pub use scatter::*;
pub use sizes::*;

// ------------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------------

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

type Res = Result<(), ChartError>;

// ------------------------------------------------------------------------------------------------
// Public data types
// ------------------------------------------------------------------------------------------------

/// One bar group of [`sizes_and_revenue`]. Shares are fractions (0.234 = 23.4 %); values given
/// in percent (any share above 1) are recognised and used as such.
#[derive(Debug, Clone)]
pub struct ClusterBar {
    pub name: String,
    /// `None` draws the bar in grey (DBSCAN noise / outliers).
    pub color_index: Option<usize>,
    pub customers: u64,
    pub customer_share: f64,
    pub revenue_share: f64,
}

/// One cluster's points in [`pca_scatter`].
#[derive(Debug, Clone)]
pub struct ScatterSeries {
    pub name: String,
    /// `None` draws the points in grey (DBSCAN noise / outliers).
    pub color_index: Option<usize>,
    pub points: Vec<(f64, f64)>,
}

/// Colour scale of a [`Heatmap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Palette {
    /// Blue–white–red centred at 0, saturating at ±2.5 (for z-scores).
    Diverging,
    /// White to dark blue from 0 to the largest value.
    Sequential,
}

/// A labelled matrix for [`heatmap`]. `values` and `cell_text` are rows × columns; missing or
/// NaN entries are drawn as light grey cells.
#[derive(Debug, Clone)]
pub struct Heatmap {
    pub title: String,
    pub row_labels: Vec<String>,
    pub col_labels: Vec<String>,
    pub values: Vec<Vec<f64>>,
    pub cell_text: Vec<Vec<String>>,
    pub palette: Palette,
    pub row_axis: String,
    pub col_axis: String,
}

/// The RFM recency × frequency grid for [`rf_grid`]. All arrays are `bins × bins`, indexed
/// `[r-1][f-1]`; missing entries of short or ragged arrays are drawn as empty cells.
#[derive(Debug, Clone)]
pub struct RfGrid {
    /// Number of score bins, 2..=9 (values outside are clamped).
    pub bins: usize,
    /// Customers per cell.
    pub counts: Vec<Vec<u64>>,
    /// Net revenue of the customers in each cell; may be zero or negative (refunds).
    pub revenue: Vec<Vec<f64>>,
    /// Segment name per cell; neighbouring cells with the same name form one region.
    pub group_of_cell: Vec<Vec<String>>,
    pub title: String,
    /// Title of the R×F map in use, e.g. "Classic RFM groups".
    pub map_name: String,
    /// All customers, buyers or not: shares are of this many when given, so they match the
    /// rule tables; otherwise of the customers in the grid.
    pub all_customers: Option<u64>,
}

/// Scores per candidate k for [`k_selection`]: one panel per score, the chosen k marked in each.
#[derive(Debug, Clone)]
pub struct KSelection {
    pub title: String,
    pub ks: Vec<usize>,
    pub panels: Vec<KPanel>,
    pub chosen_k: usize,
}

/// One score over the candidate ks; `values` is parallel to [`KSelection::ks`].
#[derive(Debug, Clone)]
pub struct KPanel {
    /// Panel title, saying which direction is better.
    pub title: String,
    pub axis: String,
    pub values: Vec<Option<f64>>,
}

impl KPanel {
    pub fn new(title: &str, axis: &str, values: Vec<Option<f64>>) -> Self {
        Self {
            title: title.into(),
            axis: axis.into(),
            values,
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Colours
// ------------------------------------------------------------------------------------------------

/// Tableau 10, with its grey swapped for raspberry so that grey only ever means "outliers".
const CLUSTER_PALETTE: [RGBColor; 10] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(89, 161, 79),
    RGBColor(237, 201, 72),
    RGBColor(176, 122, 161),
    RGBColor(255, 157, 167),
    RGBColor(156, 117, 95),
    RGBColor(211, 114, 149),
];

/// Colour of the noise / "Outliers" entry in every chart.
pub const OUTLIER_COLOR: RGBColor = RGBColor(150, 150, 150);

/// The colour of cluster `index`, identical in every chart. Past ten clusters the palette
/// repeats, darkened a little per round so that neighbours stay distinguishable.
pub fn cluster_color(index: usize) -> RGBColor {
    let base = CLUSTER_PALETTE[index % CLUSTER_PALETTE.len()];
    let round = (index / CLUSTER_PALETTE.len()).min(3);
    mix(base, RGBColor(0, 0, 0), 0.22 * round as f64)
}

fn series_color(index: Option<usize>) -> RGBColor {
    index.map_or(OUTLIER_COLOR, cluster_color)
}

/// Light qualitative colours (ColorBrewer Set3 without its grey) for RFM groups: dark text stays
/// readable on them, and they do not look like cluster colours, which would suggest a mapping.
/// Each has a usual RFM segment it is given to, so that e.g. champions are green and at-risk
/// customers orange; other names take the unused colours in turn.
const GROUP_PALETTE: [(RGBColor, &str); 11] = [
    (RGBColor(179, 222, 105), "champion"),
    (RGBColor(141, 211, 199), "potential"),
    (RGBColor(128, 177, 211), "loyal"),
    (RGBColor(204, 235, 197), "new"),
    (RGBColor(255, 255, 179), "promising"),
    (RGBColor(255, 237, 111), "attention"),
    (RGBColor(252, 205, 229), "sleep"),
    (RGBColor(253, 180, 98), "risk"),
    (RGBColor(251, 128, 114), "lose"),
    (RGBColor(190, 186, 218), "hibernat"),
    (RGBColor(188, 128, 189), "lost"),
];

/// Colour per group (same order as `groups`): keyword matches first, then the rest in turn.
/// Names with fewer keywords, then shorter names, choose first, each taking the first unused
/// colour among its keywords: "Loyal Customers" gets "loyal" before "Potential Loyalists"
/// (which then takes "potential"), and "Hibernating" gets its colour before
/// "Hibernating / Lost" (which then takes "lost").
fn group_colors(groups: &[&str]) -> Vec<RGBColor> {
    let n = GROUP_PALETTE.len();
    let matches: Vec<Vec<usize>> = groups
        .iter()
        .map(|g| {
            let lower = g.to_lowercase();
            (0..n)
                .filter(|&i| lower.contains(GROUP_PALETTE[i].1))
                .collect()
        })
        .collect();
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by_key(|&i| (matches[i].len(), groups[i].len(), i));
    let mut used = vec![false; n];
    let mut keyed: Vec<Option<RGBColor>> = vec![None; groups.len()];
    for i in order {
        if let Some(&k) = matches[i].iter().find(|&&k| !used[k]) {
            used[k] = true;
            keyed[i] = Some(GROUP_PALETTE[k].0);
        }
    }
    // Names whose keywords are all taken ("Promising / Big Spenders" next to "Promising") get
    // a darker shade of their first keyword's colour, so they read as related but distinct.
    // The rest take the unused colours in turn, then reuse from the start (the thick borders
    // still separate neighbouring groups).
    let unused: Vec<usize> = (0..n).filter(|&i| !used[i]).collect();
    let mut spare = unused.into_iter().chain((0..n).cycle());
    let mut shades = vec![0u32; n];
    groups
        .iter()
        .zip(keyed)
        .zip(&matches)
        .map(|((g, c), keys)| match (c, keys.first()) {
            (Some(c), _) => c,
            (None, _) if g.trim().is_empty() => MISSING,
            (None, Some(&k)) => {
                shades[k] += 1;
                let t = (0.17 * shades[k] as f64).min(0.5);
                mix(GROUP_PALETTE[k].0, RGBColor(0, 0, 0), t)
            }
            (None, None) => GROUP_PALETTE[spare.next().unwrap_or(0)].0,
        })
        .collect()
}

/// ColorBrewer RdBu (7 classes), blue for negative.
const DIVERGING: [RGBColor; 7] = [
    RGBColor(33, 102, 172),
    RGBColor(67, 147, 195),
    RGBColor(146, 197, 222),
    RGBColor(247, 247, 247),
    RGBColor(244, 165, 130),
    RGBColor(214, 96, 77),
    RGBColor(178, 24, 43),
];

/// ColorBrewer Blues (9 classes).
const SEQUENTIAL: [RGBColor; 9] = [
    RGBColor(247, 251, 255),
    RGBColor(222, 235, 247),
    RGBColor(198, 219, 239),
    RGBColor(158, 202, 225),
    RGBColor(107, 174, 214),
    RGBColor(66, 146, 198),
    RGBColor(33, 113, 181),
    RGBColor(8, 81, 156),
    RGBColor(8, 48, 107),
];

/// z-scores beyond this all get the end colour of the diverging scale.
const DIVERGING_CLAMP: f64 = 2.5;

const INK: RGBColor = RGBColor(33, 33, 33);
const MUTED: RGBColor = RGBColor(100, 100, 100);
const GRID: RGBColor = RGBColor(225, 225, 225);
const AXIS: RGBColor = RGBColor(140, 140, 140);
const LINE: RGBColor = RGBColor(47, 94, 145);
const ACCENT: RGBColor = RGBColor(204, 51, 51);
const MISSING: RGBColor = RGBColor(236, 236, 236);
const BORDER: RGBColor = RGBColor(60, 60, 60);

fn mix(a: RGBColor, b: RGBColor, t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let ch = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * t).round() as u8;
    RGBColor(ch(a.0, b.0), ch(a.1, b.1), ch(a.2, b.2))
}

fn ramp(stops: &[RGBColor], t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let seg = t * (stops.len() - 1) as f64;
    let i = (seg.floor() as usize).min(stops.len() - 2);
    mix(stops[i], stops[i + 1], seg - i as f64)
}

fn luminance(c: RGBColor) -> f64 {
    (0.299 * c.0 as f64 + 0.587 * c.1 as f64 + 0.114 * c.2 as f64) / 255.0
}

// ------------------------------------------------------------------------------------------------
// Fonts, text and the two-backend renderer
// ------------------------------------------------------------------------------------------------

static FONTS_ONCE: Once = Once::new();
static FONTS_OK: AtomicBool = AtomicBool::new(false);

fn ensure_fonts() -> Res {
    FONTS_ONCE.call_once(|| {
        let normal = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/assets/fonts/DejaVuSans.ttf"
            )),
        )
        .is_ok();
        let bold = plotters::style::register_font(
            "sans-serif",
            FontStyle::Bold,
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/assets/fonts/DejaVuSans-Bold.ttf"
            )),
        )
        .is_ok();
        FONTS_OK.store(normal && bold, Ordering::Release);
    });
    if FONTS_OK.load(Ordering::Acquire) {
        Ok(())
    } else {
        Err(ChartError::Font)
    }
}

/// Per-backend details the drawing code has to know about.
#[derive(Clone, Copy)]
struct Fx {
    bitmap: bool,
}

impl Fx {
    /// plotters' ab_glyph rasteriser puts the baseline half a font size below the anchor's top,
    /// so bitmap text sits too high (by ~0.22 of the size when centred); SVG text is placed by
    /// the viewer and needs no correction. Returns the downward shift in the text's own frame.
    fn text_shift(self, size: f64, v: VPos) -> i32 {
        if !self.bitmap {
            return 0;
        }
        let k = match v {
            VPos::Top => 0.13,
            VPos::Center => 0.22,
            VPos::Bottom => 0.10,
        };
        (size * k).round() as i32
    }
}

/// A chart drawn once, generically, then rendered to PNG and SVG by [`render`]. (A trait and
/// not a closure because a closure cannot be generic over the backend type.)
trait Figure {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, fx: Fx) -> Res;
}

fn render(dir: &Path, stem: &str, fig: &impl Figure) -> Res {
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

// Font sizes are plotters units (roughly pixel height of the font's full ascent+descent) and are
// chosen for a 1600 px wide image shown on a slide.
const TITLE: f64 = 40.0;
const SUBTITLE: f64 = 24.0;
const PANEL_TITLE: f64 = 27.0;
const AXIS_TITLE: f64 = 25.0;
const TICK: f64 = 21.0;
const LABEL: f64 = 22.0;
const PAD: i32 = 48;
const W: u32 = 1600;
const H: u32 = 1000;
/// Canvases grow with the data (many clusters, many columns) but never beyond this height, so
/// absurd inputs cannot allocate gigabytes for the bitmap.
const MAX_H: i32 = 6000;

fn font(size: f64, bold: bool) -> FontDesc<'static> {
    let style = if bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    FontDesc::new(FontFamily::SansSerif, size, style)
}

fn text_width(s: &str, size: f64, bold: bool) -> i32 {
    font(size, bold)
        .box_size(s)
        .map(|(w, _)| w as i32)
        .unwrap_or_else(|_| (s.chars().count() as f64 * size * 0.6) as i32)
}

/// Text placement: size, weight, colour, anchor and orientation.
#[derive(Clone, Copy)]
struct Txt {
    size: f64,
    bold: bool,
    color: RGBColor,
    h: HPos,
    v: VPos,
    vertical: bool,
}

impl Txt {
    fn new(size: f64) -> Self {
        Txt {
            size,
            bold: false,
            color: INK,
            h: HPos::Left,
            v: VPos::Top,
            vertical: false,
        }
    }
    fn bold(mut self) -> Self {
        self.bold = true;
        self
    }
    fn color(mut self, c: RGBColor) -> Self {
        self.color = c;
        self
    }
    fn at(mut self, h: HPos, v: VPos) -> Self {
        self.h = h;
        self.v = v;
        self
    }
    /// Rotated to read bottom to top.
    fn vertical(mut self) -> Self {
        self.vertical = true;
        self
    }
}

fn put<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    fx: Fx,
    s: &str,
    (x, y): (i32, i32),
    t: Txt,
) -> Res {
    if s.is_empty() {
        return Ok(());
    }
    let mut style = TextStyle::from(font(t.size, t.bold))
        .color(&t.color)
        .pos(Pos::new(t.h, t.v));
    let d = fx.text_shift(t.size, t.v);
    let pos = if t.vertical {
        style = style.transform(FontTransform::Rotate270);
        // The text's "down" points right after a 270° rotation.
        (x + d, y)
    } else {
        (x, y + d)
    };
    area.draw_text(s, &style, pos)?;
    Ok(())
}

/// Shortens `s` with an ellipsis until it fits `max_w` pixels.
fn ellipsize(s: &str, size: f64, bold: bool, max_w: i32) -> String {
    if text_width(s, size, bold) <= max_w {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    for n in (1..chars.len()).rev() {
        let cand = format!("{}…", chars[..n].iter().collect::<String>().trim_end());
        if text_width(&cand, size, bold) <= max_w {
            return cand;
        }
    }
    "…".to_string()
}

/// Greedy word wrap. Breaks after spaces and also after `_`, `-` and `/`, because feature names
/// are snake_case identifiers. A single piece wider than `max_w` stays on its own line.
fn wrap(s: &str, size: f64, bold: bool, max_w: i32) -> Vec<String> {
    // Measuring text is per glyph: a label from the data can be a megabyte long.
    const LONGEST: usize = 160;
    let clipped: String;
    let s = if s.chars().count() > LONGEST {
        clipped = s.chars().take(LONGEST - 1).chain(['…']).collect();
        clipped.as_str()
    } else {
        s
    };
    let mut pieces = Vec::new();
    let mut cur = String::new();
    for ch in s.chars() {
        cur.push(ch);
        if matches!(ch, ' ' | '_' | '-' | '/') {
            pieces.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        pieces.push(cur);
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for p in pieces {
        let cand = format!("{line}{p}");
        if line.is_empty() || text_width(cand.trim_end(), size, bold) <= max_w {
            line = cand;
        } else {
            lines.push(line.trim_end().to_string());
            line = p;
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// `s` wrapped to at most two lines of `max_w`, the second shortened with an ellipsis.
fn two_lines(s: &str, size: f64, bold: bool, max_w: i32) -> Vec<String> {
    lines_up_to(s, size, bold, max_w, 2)
}

/// `s` wrapped to at most `max_lines` lines; the last one takes the rest, shortened to fit.
fn lines_up_to(s: &str, size: f64, bold: bool, max_w: i32, max_lines: usize) -> Vec<String> {
    let mut lines = wrap(s, size, bold, max_w);
    if lines.len() > max_lines {
        let rest = lines[max_lines - 1..].join(" ");
        lines.truncate(max_lines - 1);
        lines.push(rest);
    }
    lines
        .iter()
        .map(|l| ellipsize(l, size, bold, max_w))
        .collect()
}

/// Draws `lines` centred vertically on `y` (horizontal anchor as given by `t.h`).
fn put_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    fx: Fx,
    lines: &[String],
    (x, y): (i32, i32),
    t: Txt,
) -> Res {
    let step = (t.size * 1.15).round() as i32;
    let top = y - step * (lines.len() as i32 - 1) / 2;
    for (i, line) in lines.iter().enumerate() {
        put(
            area,
            fx,
            line,
            (x, top + i as i32 * step),
            t.at(t.h, VPos::Center),
        )?;
    }
    Ok(())
}

/// Title (bold) and optional subtitle at the top left; returns the area below them.
fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fx: Fx,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, ChartError> {
    let max_w = root.dim_in_pixel().0 as i32 - 2 * PAD;
    put(
        root,
        fx,
        &ellipsize(title, TITLE, true, max_w),
        (PAD, 28),
        Txt::new(TITLE).bold(),
    )?;
    put(
        root,
        fx,
        &ellipsize(subtitle, SUBTITLE, false, max_w),
        (PAD, 82),
        Txt::new(SUBTITLE).color(MUTED),
    )?;
    Ok(root.split_vertically(HEADER_H).1)
}

const HEADER_H: i32 = 128;

fn no_data<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, fx: Fx, msg: &str) -> Res {
    let (w, h) = area.dim_in_pixel();
    put(
        area,
        fx,
        msg,
        (w as i32 / 2, h as i32 / 2),
        Txt::new(30.0).color(MUTED).at(HPos::Center, VPos::Center),
    )
}

fn rect<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
    color: RGBColor,
) -> Res {
    area.draw(&Rectangle::new([(x0, y0), (x1, y1)], color.filled()))?;
    Ok(())
}

/// The step plotters will use for at most `max_points` ticks on [lo, hi]: the smallest
/// 1, 2 or 5 × 10^m that yields few enough ticks.
fn tick_step(lo: f64, hi: f64, max_points: usize) -> f64 {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let m0 = span.log10().floor() as i32 - 4;
    for m in m0..m0 + 8 {
        for f in [1.0, 2.0, 5.0] {
            let s = f * 10f64.powi(m);
            let count = (hi / s).floor() - (lo / s).ceil() + 1.0;
            if count <= max_points as f64 {
                return s;
            }
        }
    }
    span
}

/// Tick labels with the same number of decimals on the whole axis ("0.30", not "0.3").
fn axis_fmt(lo: f64, hi: f64, max_points: usize) -> impl Fn(&f64) -> String {
    let step = tick_step(lo, hi, max_points);
    let dec = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()).clamp(0.0, 9.0) as usize
    };
    move |v: &f64| {
        if dec == 0 || v.abs() >= 1000.0 {
            label_number(*v)
        } else if v.abs() < step * 1e-6 {
            format!("{:.dec$}", 0.0)
        } else {
            format!("{:.dec$}", v).replace('-', "−")
        }
    }
}

/// 100 if the values look like percentages (any above 1), else 1: shares may come either way.
fn share_divisor(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.filter(|v| v.is_finite()).fold(0.0_f64, f64::max);
    if max > 1.0 + 1e-9 {
        100.0
    } else {
        1.0
    }
}

/// A round step (1, 2, 2.5 or 5 × 10^n) near `raw`.
fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// A value that can be plotted. Besides NaN and ±∞ this rejects absurd magnitudes, whose
/// differences overflow and would give plotters an infinite axis range.
fn usable(v: f64) -> bool {
    v.is_finite() && v.abs() < 1e100
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let i = pos.floor() as usize;
    let j = (i + 1).min(sorted.len() - 1);
    sorted[i] + (sorted[j] - sorted[i]) * (pos - i as f64)
}

// ------------------------------------------------------------------------------------------------
// Tests
// ------------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh folder under the system temp dir (no tempfile crate needed here).
    fn scratch(name: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "segmenta-charts-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        dir
    }

    fn check(dir: &Path, stem: &str) {
        let png = std::fs::read(dir.join(format!("{stem}.png"))).expect("png written");
        assert!(png.len() > 24 && &png[1..4] == b"PNG", "not a PNG");
        let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
        assert!(width >= 1600, "PNG only {width} px wide");
        let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).expect("svg written");
        assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    }

    fn bars() -> Vec<ClusterBar> {
        let data = [
            ("Champions-like", Some(0), 8_412, 0.143, 0.412),
            ("Loyal regulars", Some(1), 12_930, 0.22, 0.265),
            ("New customers", Some(2), 9_870, 0.168, 0.071),
            ("At risk", Some(3), 14_205, 0.242, 0.173),
            ("Outliers", None, 1_204, 0.02, 0.079),
        ];
        data.iter()
            .map(|&(name, c, n, cs, rs)| ClusterBar {
                name: name.to_string(),
                color_index: c,
                customers: n,
                customer_share: cs,
                revenue_share: rs,
            })
            .collect()
    }

    #[test]
    fn renders_sizes_and_revenue() {
        let dir = scratch("sizes");
        sizes_and_revenue(&dir, "sizes", &bars(), true).unwrap();
        check(&dir, "sizes");
        sizes_and_revenue(&dir, "customers_only", &bars(), false).unwrap();
        check(&dir, "customers_only");
        sizes_and_revenue(&dir, "empty", &[], true).unwrap();
        check(&dir, "empty");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn renders_drivers() {
        let dir = scratch("drivers");
        let bars: Vec<DriverBar> = [
            ("days since last purchase", "rfm", 0.62),
            ("orders at weekends", "habits", 0.01),
        ]
        .iter()
        .map(|(name, group, r2)| DriverBar {
            name: name.to_string(),
            group: group.to_string(),
            r2: *r2,
        })
        .collect();
        drivers(&dir, "drivers", &bars).unwrap();
        check(&dir, "drivers");
        drivers(&dir, "empty", &[]).unwrap();
        check(&dir, "empty");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn renders_pca_scatter() {
        let dir = scratch("pca");
        let series: Vec<ScatterSeries> = (0..4)
            .map(|c| ScatterSeries {
                name: format!("Cluster {c}"),
                color_index: if c == 3 { None } else { Some(c) },
                points: (0..300)
                    .map(|i| {
                        let t = i as f64 * 0.37 + c as f64;
                        (t.sin() * 2.0 + c as f64, t.cos() + c as f64 * 0.5)
                    })
                    .chain([(f64::NAN, 1.0), (500.0, -300.0)])
                    .collect(),
            })
            .collect();
        pca_scatter(&dir, "pca", &series, (0.342, 0.187)).unwrap();
        check(&dir, "pca");
        pca_scatter(&dir, "empty", &[], (f64::NAN, f64::NAN)).unwrap();
        check(&dir, "empty");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn renders_heatmaps() {
        let dir = scratch("heat");
        let cols: Vec<String> = (0..30).map(|i| format!("category_share_{i}")).collect();
        let rows: Vec<String> = ["Champions-like", "New customers", "Outliers"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let values: Vec<Vec<f64>> = (0..3)
            .map(|r| {
                (0..30)
                    .map(|c| ((r * 30 + c) as f64 * 0.7).sin() * 3.0)
                    .collect()
            })
            .collect();
        let cell_text = values
            .iter()
            .map(|r| r.iter().map(|v| format!("{v:+.1}")).collect())
            .collect();
        let mut map = Heatmap {
            title: "Cluster profiles".into(),
            row_labels: rows,
            col_labels: cols,
            values,
            cell_text,
            palette: Palette::Diverging,
            row_axis: "Cluster".into(),
            col_axis: "Feature".into(),
        };
        map.values[1][2] = f64::NAN;
        heatmap(&dir, "profile", &map).unwrap();
        check(&dir, "profile");
        map.palette = Palette::Sequential;
        map.values.truncate(1); // ragged input must not panic
        heatmap(&dir, "ragged", &map).unwrap();
        check(&dir, "ragged");
        map.row_labels.clear();
        heatmap(&dir, "empty", &map).unwrap();
        check(&dir, "empty");
        let _ = std::fs::remove_dir_all(dir);
    }

    /// First and last score of a segment's range.
    type Span = (usize, usize);

    /// The classic RFM map on 5 scores: `(name, r range, f range)`.
    const CLASSIC: [(&str, Span, Span); 10] = [
        ("Champions", (5, 5), (4, 5)),
        ("Loyal Customers", (3, 4), (4, 5)),
        ("Potential Loyalists", (4, 5), (2, 3)),
        ("New Customers", (5, 5), (1, 1)),
        ("Promising", (4, 4), (1, 1)),
        ("Need Attention", (3, 3), (3, 3)),
        ("About to Sleep", (3, 3), (1, 2)),
        ("At Risk", (1, 2), (3, 4)),
        ("Can't Lose Them", (1, 2), (5, 5)),
        ("Hibernating", (1, 2), (1, 2)),
    ];

    /// The classic map stretched to `bins` scores (score s reads as the 5-score ceil(5 s / bins)),
    /// with realistic counts and revenue (recent, frequent buyers spend most).
    fn classic_grid(bins: usize) -> RfGrid {
        let five = |s: usize| (s * 5).div_ceil(bins);
        let group = |r: usize, f: usize| {
            CLASSIC
                .iter()
                .find(|(_, rr, ff)| {
                    (rr.0..=rr.1).contains(&five(r)) && (ff.0..=ff.1).contains(&five(f))
                })
                .map_or(String::new(), |g| g.0.to_string())
        };
        let per_side = |v: &dyn Fn(usize, usize) -> f64| -> Vec<Vec<f64>> {
            (1..=bins)
                .map(|r| (1..=bins).map(|f| v(r, f)).collect())
                .collect()
        };
        let counts = per_side(&|r, f| {
            let (r, f) = (r as f64 / bins as f64, f as f64 / bins as f64);
            (9000.0 / bins as f64 * (1.4 - (r - f).abs()) * (0.6 + 0.4 * (1.0 - f))).round()
        });
        let revenue = per_side(&|r, f| {
            let n = counts[r - 1][f - 1];
            n * (40.0 + 900.0 * (f as f64 / bins as f64).powi(2)) * (0.5 + r as f64 / bins as f64)
        });
        RfGrid {
            bins,
            counts: counts
                .iter()
                .map(|row| row.iter().map(|&v| v as u64).collect())
                .collect(),
            revenue,
            group_of_cell: (1..=bins)
                .map(|r| (1..=bins).map(|f| group(r, f)).collect())
                .collect(),
            title: "Customers by R and F score".into(),
            map_name: "Classic RFM groups".into(),
            all_customers: None,
        }
    }

    /// Renders into `dir` and, when `SEGMENTA_CHART_DIR` is set, also copies the PNG there for
    /// looking at.
    fn render_rf(dir: &Path, stem: &str, grid: &RfGrid) {
        rf_grid(dir, stem, grid).unwrap();
        check(dir, stem);
        if let Ok(out) = std::env::var("SEGMENTA_CHART_DIR") {
            let _ = std::fs::copy(
                dir.join(format!("{stem}.png")),
                Path::new(&out).join(format!("rf-grid-{stem}.png")),
            );
        }
    }

    #[test]
    fn renders_rf_grid() {
        let dir = scratch("rf");
        render_rf(&dir, "5x5", &classic_grid(5));
        render_rf(&dir, "3x3", &classic_grid(3));
        let mut nine = classic_grid(9);
        // A map that splits cells further by M gives combined names, even in single cells.
        nine.group_of_cell[0][0] = "Hibernating / Lost".into();
        nine.group_of_cell[8][0] = "New Customers / Big Spenders".into();
        nine.group_of_cell[6][0] = "Promising / Big Spenders".into();
        render_rf(&dir, "9x9", &nine);
        nine.counts[8][8] = 1_234_567_890;
        render_rf(&dir, "9x9-big", &nine);
        for bins in [2, 4, 6, 7, 8] {
            render_rf(&dir, &format!("{bins}x{bins}"), &classic_grid(bins));
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn renders_rf_grid_with_refunds_and_no_data() {
        let dir = scratch("rf-edge");
        // Net revenue 0 in total, negative in some cells: shares show "–", nothing panics.
        let mut refunds = classic_grid(5);
        refunds.revenue = vec![vec![0.0; 5]; 5];
        refunds.revenue[0][0] = -1250.5;
        refunds.revenue[4][4] = 1250.5;
        refunds.revenue[2][2] = -0.0;
        render_rf(&dir, "zero-revenue", &refunds);
        // Negative cells against a positive total give negative shares and shares above 100 %.
        refunds.revenue[4][4] = 1300.0;
        refunds.revenue[1][3] = f64::NAN;
        render_rf(&dir, "negative", &refunds);
        let empty = RfGrid {
            bins: 5,
            counts: vec![vec![0; 5]; 5],
            revenue: vec![vec![0.0; 5]; 5],
            group_of_cell: vec![vec![String::new(); 5]; 5],
            title: String::new(),
            map_name: String::new(),
            all_customers: Some(10),
        };
        render_rf(&dir, "empty", &empty);
        // Ragged or missing arrays and bins out of range are drawn, not indexed blindly.
        let ragged = RfGrid {
            bins: 12,
            counts: vec![vec![3; 2]],
            revenue: vec![],
            group_of_cell: vec![vec!["A".into()], vec![]],
            title: String::new(),
            map_name: String::new(),
            all_customers: None,
        };
        render_rf(&dir, "ragged", &ragged);
        let tiny = RfGrid { bins: 0, ..ragged };
        render_rf(&dir, "tiny", &tiny);
        // More groups than the legend has room for.
        let mut many = classic_grid(9);
        for (r, row) in many.group_of_cell.iter_mut().enumerate() {
            for (f, g) in row.iter_mut().enumerate() {
                *g = format!("Segment {r}-{f} with a long name");
            }
        }
        render_rf(&dir, "many", &many);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn renders_k_selection() {
        let dir = scratch("ksel");
        let ks: Vec<usize> = (2..=10).collect();
        let db = ks
            .iter()
            .map(|&k| (k != 7).then_some(0.8 + 0.03 * k as f64))
            .collect();
        let sel = KSelection {
            title: "Choosing the number of clusters".into(),
            panels: vec![
                KPanel::new(
                    "Silhouette – higher is better",
                    "Silhouette",
                    ks.iter().map(|&k| Some(0.5 - 0.02 * k as f64)).collect(),
                ),
                KPanel::new(
                    "Calinski–Harabasz – higher is better",
                    "Calinski–Harabasz",
                    ks.iter().map(|&k| Some(9000.0 / k as f64)).collect(),
                ),
                KPanel::new("Davies–Bouldin – lower is better", "Davies–Bouldin", db),
                KPanel::new(
                    "Inertia (elbow)",
                    "Inertia",
                    ks.iter().map(|&k| Some(1.0e6 / k as f64)).collect(),
                ),
                KPanel::new(
                    "Stability – higher is better",
                    "ARI",
                    ks.iter().map(|_| Some(0.9)).collect(),
                ),
            ],
            chosen_k: 5,
            ks,
        };
        k_selection(&dir, "ksel", &sel).unwrap();
        check(&dir, "ksel");
        let empty = KSelection {
            title: String::new(),
            ks: vec![],
            panels: vec![],
            chosen_k: 0,
        };
        k_selection(&dir, "empty", &empty).unwrap();
        check(&dir, "empty");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn renders_flow() {
        let dir = scratch("flow");
        let node = |label: &str, note: &str, color| FlowNode {
            label: label.into(),
            note: note.into(),
            color,
        };
        let link = |from, to, customers, stayed| FlowLink {
            from,
            to,
            customers,
            stayed,
        };
        let chart = Flow {
            title: "Who moved since 2026-01-01".into(),
            subtitle: "Clusters matched through the previous model".into(),
            left_title: "2026-01-01".into(),
            right_title: "2026-02-01".into(),
            left: vec![
                node("Cluster 0 · Champions", "", FlowColor::Cluster(1)),
                node("Cluster 1 · At Risk", "", FlowColor::Unmatched),
                node("Cluster 2 · Tiny", "", FlowColor::Cluster(0)),
                node("New customers", "", FlowColor::Neutral),
            ],
            right: vec![
                node(
                    "Cluster 0 · Tiny now",
                    "continues Cluster 2",
                    FlowColor::Cluster(0),
                ),
                node(
                    "Cluster 1 · Champions",
                    "continues Cluster 0",
                    FlowColor::Cluster(1),
                ),
                node("Outliers", "", FlowColor::Outliers),
                node("Lost", "", FlowColor::Neutral),
            ],
            links: vec![
                link(0, 1, 5_000, true),
                link(0, 3, 300, false),
                link(1, 0, 40, false),
                link(1, 1, 900, false),
                link(2, 0, 3, true),
                link(3, 2, 2, false),
                link(3, 1, 800, false),
                // Out of range: ignored.
                link(9, 1, 50, false),
            ],
        };
        flow(&dir, "flow", &chart).unwrap();
        check(&dir, "flow");
        if let Ok(out) = std::env::var("SEGMENTA_CHART_DIR") {
            let _ = std::fs::copy(dir.join("flow.png"), Path::new(&out).join("flow.png"));
        }
        let empty = Flow {
            links: vec![],
            ..chart
        };
        flow(&dir, "empty", &empty).unwrap();
        check(&dir, "empty");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn renders_k_distance() {
        let dir = scratch("kdist");
        let d: Vec<f64> = (0..5000)
            .map(|i| 0.2 + (i as f64 / 5000.0).powi(8) * 4.0)
            .collect();
        k_distance(&dir, "kdist", &d, 4600, 0.83, 10).unwrap();
        check(&dir, "kdist");
        k_distance(&dir, "empty", &[], 0, f64::NAN, 10).unwrap();
        check(&dir, "empty");
        k_distance(&dir, "nan", &[f64::NAN, 1.0], 7, 0.5, 3).unwrap();
        check(&dir, "nan");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn absurd_inputs_do_not_panic() {
        let dir = scratch("absurd");
        let series = vec![ScatterSeries {
            name: String::new(),
            color_index: Some(usize::MAX),
            points: vec![
                (1e300, -1e300),
                (f64::INFINITY, 0.0),
                (0.0, 0.0),
                (0.0, 0.0),
            ],
        }];
        pca_scatter(&dir, "pca", &series, (f64::INFINITY, -3.0)).unwrap();
        check(&dir, "pca");
        let map = Heatmap {
            title: String::new(),
            row_labels: vec!["only row".into()],
            col_labels: (0..150).map(|i| format!("c{i}")).collect(),
            values: vec![vec![f64::INFINITY, f64::NEG_INFINITY, 1e300]],
            cell_text: vec![],
            palette: Palette::Sequential,
            row_axis: String::new(),
            col_axis: String::new(),
        };
        heatmap(&dir, "heat", &map).unwrap();
        check(&dir, "heat");
        let sel = KSelection {
            title: String::new(),
            ks: vec![2, 3],
            panels: vec![
                KPanel::new("", "", vec![Some(1e300), Some(-1e300)]),
                KPanel::new("", "", vec![Some(5.0), Some(5.0)]),
                KPanel::new("", "", vec![]),
                KPanel::new("", "", vec![Some(f64::INFINITY)]),
            ],
            chosen_k: 3,
        };
        k_selection(&dir, "ksel", &sel).unwrap();
        check(&dir, "ksel");
        k_distance(
            &dir,
            "kd",
            &[f64::INFINITY, 1e300, 0.0],
            usize::MAX,
            -1.0,
            0,
        )
        .unwrap();
        check(&dir, "kd");
        let _ = std::fs::remove_dir_all(dir);
    }
}
