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
    let mut lines = wrap(s, size, bold, max_w);
    if lines.len() > 2 {
        let rest = lines[1..].join(" ");
        lines.truncate(1);
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

// ------------------------------------------------------------------------------------------------
// Number formatting
// ------------------------------------------------------------------------------------------------

fn fmt_int(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `a` (≥ 0) with `sig` significant digits, trailing zeros dropped.
fn fmt_sig(a: f64, sig: i32) -> String {
    if a == 0.0 {
        return "0".to_string();
    }
    let mag = a.log10().floor() as i32;
    let dec = (sig - 1 - mag).clamp(0, 8) as usize;
    trim_zeros(format!("{a:.dec$}"))
}

/// Axis and label numbers: thousands separators, "1.25 M" for millions, a few significant
/// digits for small values, a real minus sign.
fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "–".to_string();
    }
    let a = v.abs();
    let sign = if v < 0.0 && a >= 5e-10 { "−" } else { "" };
    let body = if a >= 1e6 {
        format!("{} M", trim_zeros(format!("{:.2}", a / 1e6)))
    } else if a >= 1000.0 || (a >= 1.0 && (a - a.round()).abs() < 1e-9) {
        fmt_int(a.round() as u64)
    } else if a < 5e-10 {
        "0".to_string()
    } else {
        fmt_sig(a, 3)
    };
    format!("{sign}{body}")
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
            fmt_num(*v)
        } else if v.abs() < step * 1e-6 {
            format!("{:.dec$}", 0.0)
        } else {
            format!("{:.dec$}", v).replace('-', "−")
        }
    }
}

fn fmt_pct(frac: f64) -> String {
    if !frac.is_finite() {
        return "n/a".to_string();
    }
    let p = frac * 100.0;
    if p > 0.0 && p < 0.05 {
        "< 0.1 %".to_string()
    } else {
        format!("{p:.1} %")
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

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
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
// 1. Cluster sizes and share of revenue
// ------------------------------------------------------------------------------------------------

/// Side-by-side: left panel customers per cluster (bars, labelled with count and %), right panel
/// share of revenue (%).
pub fn sizes_and_revenue(dir: &Path, stem: &str, bars: &[ClusterBar]) -> Res {
    render(dir, stem, &SizesFig { bars })
}

struct SizesFig<'a> {
    bars: &'a [ClusterBar],
}

impl Figure for SizesFig<'_> {
    fn size(&self) -> (u32, u32) {
        // Taller canvas for many clusters so bars never get thinner than ~45 px.
        let n = self.bars.len().min(1000) as i32;
        (W, (H as i32).max(HEADER_H + 230 + 62 * n).min(MAX_H) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, fx: Fx) -> Res {
        let bars = self.bars;
        let total: u64 = bars.iter().fold(0u64, |a, b| a.saturating_add(b.customers));
        let subtitle = if bars.is_empty() {
            String::new()
        } else {
            format!(
                "{} customers in {} groups; bars in the same order and colour on both sides",
                fmt_int(total),
                bars.len()
            )
        };
        let body = header(root, fx, "Cluster sizes and share of revenue", &subtitle)?;
        if bars.is_empty() {
            return no_data(&body, fx, "No clusters to show");
        }
        let cdiv = share_divisor(bars.iter().map(|b| b.customer_share));
        let rdiv = share_divisor(bars.iter().map(|b| b.revenue_share));

        let (bw, _) = body.dim_in_pixel();
        // Long names wrap onto two lines rather than squeezing the bars.
        let name_w = bars
            .iter()
            .map(|b| text_width(&b.name, LABEL, false))
            .max()
            .unwrap_or(0)
            .min(300)
            + 22;
        let gap = 70;
        let plot_w = (bw as i32 - 2 * PAD - name_w - gap) / 2;
        let content = body.margin(0, 30, PAD, PAD);
        let (left, right) = content.split_horizontally(name_w + plot_w);
        let right = right.margin(0, 0, gap, 0);

        let left_panel = Panel {
            title: "Customers per cluster",
            axis: "Customers",
            values: bars.iter().map(|b| b.customers as f64).collect(),
            labels: bars
                .iter()
                .map(|b| {
                    format!(
                        "{} ({})",
                        fmt_int(b.customers),
                        fmt_pct(b.customer_share / cdiv)
                    )
                })
                .collect(),
            name_w,
            plot_w,
        };
        let right_panel = Panel {
            title: "Share of revenue",
            axis: "Share of revenue (%)",
            values: bars
                .iter()
                .map(|b| {
                    let v = b.revenue_share / rdiv * 100.0;
                    if usable(v) {
                        v.max(0.0)
                    } else {
                        0.0
                    }
                })
                .collect(),
            labels: bars
                .iter()
                .map(|b| fmt_pct(b.revenue_share / rdiv))
                .collect(),
            name_w: 0,
            plot_w,
        };
        bar_panel(root, &left, fx, bars, &left_panel)?;
        bar_panel(root, &right, fx, bars, &right_panel)?;
        Ok(())
    }
}

struct Panel {
    title: &'static str,
    axis: &'static str,
    values: Vec<f64>,
    labels: Vec<String>,
    /// Width for cluster names left of the bars; 0 = no names (the right panel shares them).
    name_w: i32,
    plot_w: i32,
}

/// Horizontal bars, first bar at the top; the value label sits just past each bar's end.
fn bar_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    fx: Fx,
    bars: &[ClusterBar],
    p: &Panel,
) -> Res {
    let n = bars.len();
    put(
        area,
        fx,
        p.title,
        (p.name_w, 0),
        Txt::new(PANEL_TITLE).bold(),
    )?;
    let (_, plot) = area.split_vertically(58);

    // Leave room to the right of every bar for its label.
    let plot_w = (p.plot_w - 20).max(100) as f64;
    let mut xmax: f64 = 0.0;
    for (v, l) in p.values.iter().zip(&p.labels) {
        let room = 1.0 - (text_width(l, LABEL, false) as f64 + 26.0) / plot_w;
        xmax = xmax.max(if room > 0.25 { v / room } else { v * 4.0 });
    }
    if !(usable(xmax) && xmax > 0.0) {
        xmax = 1.0;
    }

    let mut chart = ChartBuilder::on(&plot)
        .margin_right(20)
        .x_label_area_size(74)
        .y_label_area_size(p.name_w)
        .build_cartesian_2d(0f64..xmax, 0f64..n as f64)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_labels(6)
        .x_label_formatter(&axis_fmt(0.0, xmax, 6))
        .x_desc(p.axis)
        .label_style(font(TICK, false).color(&INK))
        .axis_desc_style(font(AXIS_TITLE, false).color(&INK))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS)
        .draw()?;

    for (i, bar) in bars.iter().enumerate() {
        let y_hi = (n - i) as f64 - 0.18;
        let y_lo = (n - i - 1) as f64 + 0.18;
        let v = p.values[i];
        let color = series_color(bar.color_index);
        if v > 0.0 {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, y_lo), (v, y_hi)],
                color.filled(),
            )))?;
        }
        let (x_end, y_mid) = chart.backend_coord(&(v.max(0.0), (y_lo + y_hi) / 2.0));
        put(
            root,
            fx,
            &p.labels[i],
            (x_end + 10, y_mid),
            Txt::new(LABEL).at(HPos::Left, VPos::Center),
        )?;
        if p.name_w > 0 {
            let (x0, _) = chart.backend_coord(&(0.0, 0.0));
            put_lines(
                root,
                fx,
                &two_lines(&bar.name, LABEL, false, p.name_w - 22),
                (x0 - 14, y_mid),
                Txt::new(LABEL).at(HPos::Right, VPos::Center),
            )?;
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// 2. PCA scatter
// ------------------------------------------------------------------------------------------------

/// 2-D PCA projection coloured by cluster; axis titles built from the explained variance shares
/// (fractions or percent). Points are small and semi-transparent; the caller samples.
pub fn pca_scatter(dir: &Path, stem: &str, series: &[ScatterSeries], explained: (f64, f64)) -> Res {
    render(dir, stem, &ScatterFig { series, explained })
}

struct ScatterFig<'a> {
    series: &'a [ScatterSeries],
    explained: (f64, f64),
}

const LEGEND_W: i32 = 330;

/// Axis range for one coordinate: the full extent, unless a few extreme points would squash
/// everything else into a corner; then the central 99 % plus half its width on each side.
fn scatter_range(mut v: Vec<f64>) -> (f64, f64) {
    if v.is_empty() {
        return (-1.0, 1.0);
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let (lo, hi) = (v[0], v[v.len() - 1]);
    let (qlo, qhi) = (quantile(&v, 0.005), quantile(&v, 0.995));
    let core = qhi - qlo;
    let zoom = (lo.max(qlo - 0.5 * core), hi.min(qhi + 0.5 * core));
    // Zoom only when it gains a lot; hiding points for a small gain is not worth it.
    let (a, b) = if core > 0.0 && zoom.1 - zoom.0 < 0.6 * (hi - lo) {
        zoom
    } else {
        let pad = ((hi - lo) * 0.05).max(1e-9);
        (lo - pad, hi + pad)
    };
    if b - a < 1e-9 {
        (a - 1.0, b + 1.0)
    } else {
        (a, b)
    }
}

impl Figure for ScatterFig<'_> {
    fn size(&self) -> (u32, u32) {
        (W, H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, fx: Fx) -> Res {
        let finite = |p: &&(f64, f64)| usable(p.0) && usable(p.1);
        let shown: usize = self
            .series
            .iter()
            .map(|s| s.points.iter().filter(finite).count())
            .sum();
        let div = share_divisor([self.explained.0, self.explained.1].into_iter());
        let (e1, e2) = (self.explained.0 / div, self.explained.1 / div);
        let subtitle = if shown == 0 {
            String::new()
        } else if (e1 + e2).is_finite() {
            format!(
                "{} customers, coloured by cluster; the two axes together capture {} of the variation",
                fmt_int(shown as u64),
                fmt_pct(e1 + e2)
            )
        } else {
            format!("{} customers, coloured by cluster", fmt_int(shown as u64))
        };
        let body = header(root, fx, "Customer map (principal components)", &subtitle)?;
        if shown == 0 {
            return no_data(&body, fx, "No points to show");
        }

        let xs: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter(finite).map(|p| p.0))
            .collect();
        let ys: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter(finite).map(|p| p.1))
            .collect();
        let (mut x0, mut x1) = scatter_range(xs);
        let (mut y0, mut y1) = scatter_range(ys);

        let (bw, bh) = body.dim_in_pixel();
        let plot_area = body.margin(0, 24, PAD - 16, LEGEND_W + PAD);
        // Same units per pixel on both axes: PCA distances are only honest at aspect ratio 1.
        let (margin, xl, yl) = (16, 88, 96);
        let pw = (bw as i32 - (PAD - 16) - LEGEND_W - PAD - 2 * margin - yl).max(50) as f64;
        let ph = (bh as i32 - 24 - 2 * margin - xl).max(50) as f64;
        let upp = ((x1 - x0) / pw).max((y1 - y0) / ph);
        let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        (x0, x1) = (cx - upp * pw / 2.0, cx + upp * pw / 2.0);
        (y0, y1) = (cy - upp * ph / 2.0, cy + upp * ph / 2.0);

        let axis_title = |pc: &str, e: f64| {
            if e.is_finite() {
                format!("{pc} ({} of variance)", fmt_pct(e))
            } else {
                pc.to_string()
            }
        };
        let x_desc = axis_title("PC1", e1);
        let y_desc = axis_title("PC2", e2);
        let mut chart = ChartBuilder::on(&plot_area)
            .margin(margin)
            .x_label_area_size(xl)
            .y_label_area_size(yl)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_labels(12)
            .y_labels(10)
            .x_label_formatter(&axis_fmt(x0, x1, 12))
            .y_label_formatter(&axis_fmt(y0, y1, 10))
            .y_label_offset(fx.text_shift(TICK, VPos::Center))
            .x_desc(x_desc)
            .y_desc(y_desc)
            .label_style(font(TICK, false).color(&INK))
            .axis_desc_style(font(AXIS_TITLE, false).color(&INK))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS)
            .draw()?;

        // Outliers first (underneath), then the biggest clusters, so small clusters stay visible.
        let mut order: Vec<usize> = (0..self.series.len()).collect();
        order.sort_by_key(|&i| {
            let s = &self.series[i];
            (s.color_index.is_some(), std::cmp::Reverse(s.points.len()))
        });
        let inside = |p: &&(f64, f64)| p.0 >= x0 && p.0 <= x1 && p.1 >= y0 && p.1 <= y1;
        let mut hidden = 0usize;
        for &i in &order {
            let s = &self.series[i];
            let color = series_color(s.color_index);
            let alpha = if s.color_index.is_some() { 0.45 } else { 0.35 };
            hidden += s
                .points
                .iter()
                .filter(finite)
                .filter(|p| !inside(p))
                .count();
            chart.draw_series(
                s.points
                    .iter()
                    .filter(finite)
                    .filter(inside)
                    .map(|&p| Circle::new(p, 3, color.mix(alpha).filled())),
            )?;
        }

        // Legend outside the plot so it never hides points.
        let lx = W as i32 - PAD - LEGEND_W + 30;
        let mut ly = HEADER_H + 20;
        put(root, fx, "Cluster", (lx, ly), Txt::new(LABEL + 2.0).bold())?;
        ly += 52;
        let mut entries: Vec<&ScatterSeries> = self.series.iter().collect();
        // Outliers last in the legend, matching the other charts' lists.
        entries.sort_by_key(|s| s.color_index.is_none());
        for s in entries.iter().filter(|s| !s.points.is_empty()) {
            let color = series_color(s.color_index);
            let lines = two_lines(&s.name, LABEL, false, LEGEND_W - 70);
            let extra = (LABEL * 1.15) as i32 * (lines.len() as i32 - 1);
            root.draw(&Circle::new((lx + 10, ly + extra / 2), 9, color.filled()))?;
            put_lines(
                root,
                fx,
                &lines,
                (lx + 30, ly + extra / 2),
                Txt::new(LABEL).at(HPos::Left, VPos::Center),
            )?;
            ly += 42 + extra;
        }
        if hidden > 0 {
            ly += 20;
            let note = format!(
                "Zoomed to the bulk of the customers: {} extreme {} outside the view.",
                fmt_int(hidden as u64),
                if hidden == 1 {
                    "point lies"
                } else {
                    "points lie"
                }
            );
            for line in wrap(&note, 19.0, false, LEGEND_W - 40) {
                put(root, fx, &line, (lx, ly), Txt::new(19.0).color(MUTED))?;
                ly += 26;
            }
        }
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------------
// 3. Heatmap
// ------------------------------------------------------------------------------------------------

/// Cluster × feature profile (diverging) or cluster × segment cross-table (sequential). Long
/// column labels are wrapped, or turned vertical when they do not fit; the canvas widens for
/// many columns so cell text stays legible; text turns white on dark cells.
pub fn heatmap(dir: &Path, stem: &str, map: &Heatmap) -> Res {
    render(
        dir,
        stem,
        &HeatFig {
            map,
            lay: heat_layout(map),
        },
    )
}

struct HeatFig<'a> {
    map: &'a Heatmap,
    lay: HeatLayout,
}

enum ColLabels {
    Horizontal(Vec<Vec<String>>),
    Vertical(Vec<String>),
}

struct HeatLayout {
    width: u32,
    height: u32,
    grid_x: i32,
    grid_y: i32,
    cell_w: i32,
    cell_h: i32,
    row_w: i32,
    cell_font: Option<f64>,
    col_font: f64,
    col_labels: ColLabels,
    band: i32,
}

const HEAT_ROW_FONT: f64 = 23.0;
const HEAT_MAX_W: i32 = 3400;
const COLOUR_BAR_W: i32 = 28;

fn heat_layout(map: &Heatmap) -> HeatLayout {
    let rows = map.row_labels.len();
    let cols = map.col_labels.len();
    let row_w = map
        .row_labels
        .iter()
        .map(|l| text_width(l, HEAT_ROW_FONT, false))
        .max()
        .unwrap_or(0)
        .min(400);
    let axis_w = if map.row_axis.trim().is_empty() {
        0
    } else {
        46
    };
    let left = PAD + axis_w + row_w + 18;
    let right = 40 + COLOUR_BAR_W + 12 + 90 + PAD;
    // Widest cell text at size 20; other sizes scale linearly.
    let text_w20 = map
        .cell_text
        .iter()
        .take(rows)
        .flat_map(|r| r.iter().take(cols))
        .map(|t| text_width(t, 20.0, false))
        .max()
        .unwrap_or(0);
    let ncols = cols.clamp(1, 100_000) as i32;
    let mut width = W as i32;
    let mut cw = ((width - left - right) / ncols).min(190);
    // Cells must hold their text at size 16 at least; widen the canvas rather than shrink it.
    let need = ((text_w20 as f64 * 0.8) as i32 + 14).max(44);
    if cw < need {
        width = (left + need * ncols + right).min(HEAT_MAX_W);
        cw = ((width - left - right) / ncols).max(12);
    }
    let cell_font = [22.0, 20.0, 18.0, 17.0, 16.0, 15.0, 14.0, 13.0, 12.0]
        .into_iter()
        .find(|f| (text_w20 as f64 * f / 20.0) as i32 + 12 <= cw);

    // Column labels: horizontal (wrapped to at most 3 lines) if that fits at a readable size,
    // otherwise vertical.
    let horizontal = [22.0, 20.0, 18.0].into_iter().find_map(|f| {
        let wrapped: Vec<Vec<String>> = map
            .col_labels
            .iter()
            .map(|l| wrap(l, f, false, cw - 10))
            .collect();
        let fits = wrapped
            .iter()
            .all(|ls| ls.len() <= 3 && ls.iter().all(|l| text_width(l, f, false) <= cw - 10));
        fits.then_some((f, wrapped))
    });
    let (col_font, col_labels, band) = if let Some((f, wrapped)) = horizontal {
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1) as i32;
        let band = (lines as f64 * f * 1.1) as i32 + 20;
        (f, ColLabels::Horizontal(wrapped), band)
    } else {
        // Narrow columns (very many of them) get smaller labels so neighbours do not overlap.
        let col_font = (if cols <= 16 { 22.0_f64 } else { 20.0 }).min((cw as f64 * 0.9).max(8.0));
        let labels: Vec<String> = map
            .col_labels
            .iter()
            .map(|l| ellipsize(l, col_font, false, 330))
            .collect();
        let longest = labels
            .iter()
            .map(|l| text_width(l, col_font, false))
            .max()
            .unwrap_or(0);
        (col_font, ColLabels::Vertical(labels), longest + 22)
    };

    let grid_w = cw * ncols;
    let grid_x = left + ((width - left - right - grid_w) / 2).max(0);
    let grid_y = HEADER_H + 12;
    let axis_h = if map.col_axis.trim().is_empty() {
        0
    } else {
        52
    };
    // Rows as tall as a 16:9 canvas allows (within limits): wide, flat strips are hard to read.
    let fixed = grid_y + band + axis_h + 36;
    let nrows = rows.clamp(1, 10_000) as i32;
    let ch = ((width * 9 / 16 - fixed) / nrows)
        .clamp(50, 100)
        .min((MAX_H - fixed) / nrows)
        .max(4);
    let height = (fixed + ch * nrows).max(420);
    // Cell text must also fit the row height.
    let cell_font = cell_font.filter(|f| *f <= ch as f64 * 0.6);
    HeatLayout {
        width: width as u32,
        height: height as u32,
        grid_x,
        grid_y,
        cell_w: cw,
        cell_h: ch,
        row_w,
        cell_font,
        col_font,
        col_labels,
        band,
    }
}

fn heat_color(p: Palette, v: f64, max: f64) -> RGBColor {
    if !v.is_finite() {
        return MISSING;
    }
    match p {
        Palette::Diverging => ramp(&DIVERGING, (v / DIVERGING_CLAMP + 1.0) / 2.0),
        Palette::Sequential => ramp(&SEQUENTIAL, v / max),
    }
}

impl Figure for HeatFig<'_> {
    fn size(&self) -> (u32, u32) {
        (self.lay.width, self.lay.height)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, fx: Fx) -> Res {
        let (m, l) = (self.map, &self.lay);
        let (rows, cols) = (m.row_labels.len(), m.col_labels.len());
        let subtitle = match m.palette {
            Palette::Diverging => format!(
                "Blue = below average, red = above average (in standard deviations; colours saturate at ±{DIVERGING_CLAMP})"
            ),
            Palette::Sequential => "Darker blue = larger value".to_string(),
        };
        let body = header(
            root,
            fx,
            &m.title,
            if rows * cols == 0 { "" } else { &subtitle },
        )?;
        if rows == 0 || cols == 0 {
            return no_data(&body, fx, "No data to show");
        }
        let value = |r: usize, c: usize| {
            m.values
                .get(r)
                .and_then(|row| row.get(c))
                .copied()
                .unwrap_or(f64::NAN)
        };
        let max = m
            .values
            .iter()
            .flatten()
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0_f64, f64::max);
        let max = if max > 0.0 { max } else { 1.0 };

        // Cells with a 2 px white gap, which reads as a table without heavy lines.
        for r in 0..rows {
            let y = l.grid_y + r as i32 * l.cell_h;
            for c in 0..cols {
                let x = l.grid_x + c as i32 * l.cell_w;
                let v = value(r, c);
                let fill = heat_color(m.palette, v, max);
                rect(
                    root,
                    (x + 1, y + 1),
                    (x + l.cell_w - 1, y + l.cell_h - 1),
                    fill,
                )?;
                let text = m
                    .cell_text
                    .get(r)
                    .and_then(|row| row.get(c))
                    .map_or("", String::as_str);
                if let Some(size) = l.cell_font {
                    let color = if !v.is_finite() {
                        MUTED
                    } else if luminance(fill) < 0.5 {
                        WHITE
                    } else {
                        INK
                    };
                    put(
                        root,
                        fx,
                        text,
                        (x + l.cell_w / 2, y + l.cell_h / 2),
                        Txt::new(size).color(color).at(HPos::Center, VPos::Center),
                    )?;
                }
            }
            put(
                root,
                fx,
                &ellipsize(&m.row_labels[r], HEAT_ROW_FONT, false, l.row_w),
                (l.grid_x - 14, y + l.cell_h / 2),
                Txt::new(HEAT_ROW_FONT).at(HPos::Right, VPos::Center),
            )?;
        }

        let grid_bottom = l.grid_y + rows as i32 * l.cell_h;
        let grid_w = cols as i32 * l.cell_w;
        match &l.col_labels {
            ColLabels::Horizontal(lines) => {
                for (c, ls) in lines.iter().enumerate() {
                    let x = l.grid_x + c as i32 * l.cell_w + l.cell_w / 2;
                    for (i, line) in ls.iter().enumerate() {
                        let y = grid_bottom + 10 + (i as f64 * l.col_font * 1.1) as i32;
                        put(
                            root,
                            fx,
                            line,
                            (x, y),
                            Txt::new(l.col_font).at(HPos::Center, VPos::Top),
                        )?;
                    }
                }
            }
            ColLabels::Vertical(labels) => {
                for (c, label) in labels.iter().enumerate() {
                    let x = l.grid_x + c as i32 * l.cell_w + l.cell_w / 2;
                    // Reads bottom to top and ends just under its column.
                    put(
                        root,
                        fx,
                        label,
                        (x, grid_bottom + 10),
                        Txt::new(l.col_font)
                            .vertical()
                            .at(HPos::Right, VPos::Center),
                    )?;
                }
            }
        }

        put(
            root,
            fx,
            &m.col_axis,
            (l.grid_x + grid_w / 2, grid_bottom + l.band + 6),
            Txt::new(AXIS_TITLE).bold().at(HPos::Center, VPos::Top),
        )?;
        put(
            root,
            fx,
            &m.row_axis,
            (
                l.grid_x - 14 - l.row_w - 30,
                l.grid_y + rows as i32 * l.cell_h / 2,
            ),
            Txt::new(AXIS_TITLE)
                .bold()
                .vertical()
                .at(HPos::Center, VPos::Center),
        )?;

        self.colour_bar(root, fx, max, grid_bottom)
    }
}

impl HeatFig<'_> {
    /// Vertical colour key right of the grid, centred on it.
    fn colour_bar<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        fx: Fx,
        max: f64,
        grid_bottom: i32,
    ) -> Res {
        let (m, l) = (self.map, &self.lay);
        let grid_h = grid_bottom - l.grid_y;
        let bar_h = grid_h.clamp(120, 380).min(grid_h.max(60));
        let x = l.grid_x + m.col_labels.len() as i32 * l.cell_w + 40;
        let top = l.grid_y + (grid_h - bar_h) / 2;
        let (lo, hi) = match m.palette {
            Palette::Diverging => (-DIVERGING_CLAMP, DIVERGING_CLAMP),
            Palette::Sequential => (0.0, max),
        };
        let steps = 120;
        for i in 0..steps {
            let t0 = i as f64 / steps as f64;
            let y0 = top + bar_h - ((i + 1) as f64 / steps as f64 * bar_h as f64).round() as i32;
            let y1 = top + bar_h - (t0 * bar_h as f64).round() as i32;
            let v = lo + (hi - lo) * (t0 + 0.5 / steps as f64);
            rect(
                root,
                (x, y0),
                (x + COLOUR_BAR_W, y1),
                heat_color(m.palette, v, max),
            )?;
        }
        root.draw(&Rectangle::new(
            [(x, top), (x + COLOUR_BAR_W, top + bar_h)],
            AXIS.stroke_width(1),
        ))?;

        let mut ticks: Vec<(f64, String)> = Vec::new();
        match m.palette {
            Palette::Diverging => {
                ticks.push((lo, format!("≤ −{DIVERGING_CLAMP}")));
                let mut t = -2.0;
                while t <= 2.0 {
                    let s = if t > 0.0 {
                        format!("+{}", fmt_num(t))
                    } else {
                        fmt_num(t)
                    };
                    ticks.push((t, s));
                    t += 1.0;
                }
                ticks.push((hi, format!("≥ +{DIVERGING_CLAMP}")));
            }
            Palette::Sequential => {
                // Cells printed as percentages get percentage ticks, whether the values are
                // fractions (0.25) or already percent (25).
                let percent = m
                    .cell_text
                    .iter()
                    .flatten()
                    .filter(|t| !t.trim().is_empty())
                    .all(|t| t.trim_end().ends_with('%'));
                let scale = if percent && max <= 1.0 { 100.0 } else { 1.0 };
                let step = nice_step(max * scale / 4.0) / scale;
                let mut t = 0.0;
                while t <= max * (1.0 + 1e-9) {
                    let label = if percent {
                        format!("{} %", fmt_num(t * scale))
                    } else {
                        fmt_num(t)
                    };
                    ticks.push((t, label));
                    t += step;
                }
            }
        }
        for (v, s) in ticks {
            let y = top + bar_h - ((v - lo) / (hi - lo) * bar_h as f64).round() as i32;
            root.draw(&PathElement::new(
                vec![(x + COLOUR_BAR_W, y), (x + COLOUR_BAR_W + 6, y)],
                AXIS.stroke_width(1),
            ))?;
            put(
                root,
                fx,
                &s,
                (x + COLOUR_BAR_W + 10, y),
                Txt::new(20.0).at(HPos::Left, VPos::Center),
            )?;
        }
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------------
// 4. RFM R × F grid
// ------------------------------------------------------------------------------------------------

/// The RFM grid for any number of score bins (2 to 9): x = F score 1..bins, y = R score 1..bins
/// (best at the top). Each cell shows its customer count, its share of customers and its share
/// of net revenue and is coloured by its group; groups are outlined with thick borders and each
/// group's name is written once inside its region. A legend lists each group's customers and
/// revenue share. Cells shrink with more bins so the grid always fits the same figure.
pub fn rf_grid(dir: &Path, stem: &str, grid: &RfGrid) -> Res {
    render(dir, stem, &RfFig::new(grid))
}

/// Side of the square the grid is drawn in; cells are `RF_SIDE / bins` pixels wide.
const RF_SIDE: i32 = 740;
const RF_X: i32 = PAD + 100;
const RF_Y: i32 = HEADER_H + 16;
/// Left edge of the legend, the same for every number of bins.
const RF_LEGEND_X: i32 = RF_X + RF_SIDE + 80;

struct RfFig<'a> {
    grid: &'a RfGrid,
    /// `grid.bins` clamped to 2..=9. Cells missing from short or ragged arrays read as empty.
    bins: usize,
    cell: i32,
    total: u64,
    /// Net revenue of all cells; `None` when it is not positive (no meaningful share).
    total_revenue: Option<f64>,
}

/// Text sizes and layout inside a cell, chosen once per figure from the cell size and the
/// widest texts, so that every cell of a grid looks the same.
struct CellStyle {
    pad: i32,
    /// Height at the top of every cell kept free for group names.
    band: i32,
    label_size: f64,
    count_size: f64,
    /// Counts too wide for the cells are written short ("1.23 M"), see [`fmt_count_short`].
    compact_counts: bool,
    share_size: f64,
    /// Words after the customer and revenue shares; empty when only the numbers fit (the
    /// legend's key says what they are).
    suffix: (&'static str, &'static str),
}

/// What is written after the two shares in a cell, longest first; the first that fits is used.
const RF_SUFFIXES: [(&str, &str); 4] = [
    (" of customers", " of revenue"),
    (" of cust.", " of rev."),
    (" cust.", " rev."),
    ("", ""),
];

impl<'a> RfFig<'a> {
    fn new(grid: &'a RfGrid) -> Self {
        let bins = grid.bins.clamp(2, 9);
        let mut fig = RfFig {
            grid,
            bins,
            cell: RF_SIDE / bins as i32,
            total: 0,
            total_revenue: None,
        };
        let cells = fig.cells();
        fig.total = cells
            .iter()
            .fold(0u64, |a, &(r, f)| a.saturating_add(fig.count(r, f)));
        let finite = || {
            cells
                .iter()
                .map(|&(r, f)| fig.revenue(r, f))
                .filter(|v| v.is_finite())
        };
        let net: f64 = finite().sum();
        let gross: f64 = finite().map(f64::abs).sum();
        // Refunds that cancel the purchases leave rounding noise, not a total to divide by.
        fig.total_revenue = (net.is_finite() && net > 1e-9 * gross).then_some(net);
        fig
    }

    /// All (r, f) score indices (0 = score 1).
    fn cells(&self) -> Vec<(usize, usize)> {
        let n = self.bins;
        (0..n).flat_map(|r| (0..n).map(move |f| (r, f))).collect()
    }

    fn count(&self, r: usize, f: usize) -> u64 {
        let row = self.grid.counts.get(r);
        row.and_then(|row| row.get(f)).copied().unwrap_or(0)
    }

    fn revenue(&self, r: usize, f: usize) -> f64 {
        let row = self.grid.revenue.get(r);
        row.and_then(|row| row.get(f)).copied().unwrap_or(0.0)
    }

    fn group(&self, r: usize, f: usize) -> &str {
        let row = self.grid.group_of_cell.get(r);
        row.and_then(|row| row.get(f)).map_or("", String::as_str)
    }

    /// Group names in reading order (top row first), which fixes their colours.
    fn groups(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in (0..self.bins).rev() {
            for f in 0..self.bins {
                let g = self.group(r, f);
                if !out.contains(&g) {
                    out.push(g);
                }
            }
        }
        out
    }

    /// Top-left pixel of the cell for score indices r (0 = R1) and f (0 = F1).
    fn cell_origin(&self, r: usize, f: usize) -> (i32, i32) {
        let rows_above = (self.bins - 1 - r) as i32;
        (RF_X + f as i32 * self.cell, RF_Y + rows_above * self.cell)
    }

    fn customer_share(&self, n: u64) -> String {
        if self.total == 0 {
            "–".to_string()
        } else {
            fmt_pct(n as f64 / self.total as f64)
        }
    }

    /// "–" when the total is not positive or the cell's revenue is not a number.
    fn revenue_share(&self, v: f64) -> String {
        match self.total_revenue {
            Some(total) if v.is_finite() => fmt_signed_pct(v / total),
            _ => "–".to_string(),
        }
    }

    fn count_text(&self, n: u64, style: &CellStyle) -> String {
        if style.compact_counts {
            fmt_count_short(n)
        } else {
            fmt_int(n)
        }
    }

    fn style(&self) -> CellStyle {
        let c = self.cell as f64;
        let pad = (c * 0.06).round().clamp(5.0, 12.0) as i32;
        let inner = self.cell - 2 * (rf_border(self.cell) + 6);
        let cells = self.cells();

        // Counts shrink a little to fit; past that, very large ones are written as "1.23 M".
        let start = (c * 0.18).clamp(16.0, 34.0);
        let largest = |compact: bool, floor: f64| {
            let texts: Vec<String> = cells
                .iter()
                .map(|&(r, f)| {
                    let n = self.count(r, f);
                    if compact {
                        fmt_count_short(n)
                    } else {
                        fmt_int(n)
                    }
                })
                .collect();
            let mut size = start;
            while size > floor && texts.iter().any(|t| text_width(t, size, true) > inner) {
                size -= 1.0;
            }
            size
        };
        let full = largest(false, (start * 0.8).max(14.0));
        let full_fits = cells
            .iter()
            .all(|&(r, f)| text_width(&fmt_int(self.count(r, f)), full, true) <= inner);
        let (count_size, compact_counts) = if full_fits {
            (full, false)
        } else {
            (largest(true, 10.0), true)
        };

        // The longest wording whose every line fits, at a size not much below the base size;
        // bare numbers may go smaller.
        let base = (c * 0.115).clamp(12.5, 20.0);
        let (share_size, suffix) = RF_SUFFIXES
            .iter()
            .enumerate()
            .find_map(|(i, &suffix)| {
                let texts: Vec<String> = cells
                    .iter()
                    .flat_map(|&(r, f)| {
                        [
                            format!("{}{}", self.customer_share(self.count(r, f)), suffix.0),
                            format!("{}{}", self.revenue_share(self.revenue(r, f)), suffix.1),
                        ]
                    })
                    .collect();
                let floor = if i + 1 == RF_SUFFIXES.len() {
                    10.0
                } else {
                    (base * 0.82).max(13.0)
                };
                let mut size = base;
                while size >= floor {
                    if texts.iter().all(|t| text_width(t, size, false) <= inner) {
                        return Some((size, suffix));
                    }
                    size -= 1.0;
                }
                None
            })
            .unwrap_or((10.0, ("", "")));

        let label_size = (c * 0.135).clamp(14.0, 24.0);
        // Room for three lines of names in big cells, two in small ones (two lines of 11 px
        // at least, so that a name alone in a cell of a 9 × 9 grid stays readable).
        let band = (c * if c < 100.0 { 0.34 } else { 0.38 })
            .min(label_size * 1.15 * 3.0 + pad as f64)
            .max(pad as f64 + 2.0 * 11.0 * 1.15 + 1.0) as i32;
        CellStyle {
            pad,
            band,
            label_size,
            count_size,
            compact_counts,
            share_size,
            suffix,
        }
    }
}

/// Half the width of the thick borders between groups.
fn rf_border(cell: i32) -> i32 {
    if cell >= 200 {
        3
    } else {
        2
    }
}

/// The shares in the cells: darker than `MUTED`, which is too faint on the group colours.
const CELL_TEXT: RGBColor = RGBColor(66, 66, 66);

/// A count in at most five digits and a unit: "98,765", "123 k", "1.23 M", "4.5 bn".
fn fmt_count_short(n: u64) -> String {
    let a = n as f64;
    match n {
        0..=99_999 => fmt_int(n),
        100_000..=999_999 => format!("{} k", fmt_sig(a / 1e3, 3)),
        1_000_000..=999_999_999 => format!("{} M", fmt_sig(a / 1e6, 3)),
        _ => format!("{} bn", fmt_sig(a / 1e9, 3)),
    }
}

/// A share that may be negative (refunds), with a real minus sign.
fn fmt_signed_pct(frac: f64) -> String {
    if frac == 0.0 {
        // Also −0.0, which would print as "-0.0 %".
        "0.0 %".to_string()
    } else if frac.is_finite() && frac < 0.0 {
        if frac * 100.0 > -0.05 {
            "> −0.1 %".to_string()
        } else {
            format!("−{}", fmt_pct(-frac))
        }
    } else {
        fmt_pct(frac)
    }
}

/// `s` in at most as many lines of at most `max_w` pixels as fit in `height`, at the largest
/// size from `start` down to `min`; at `min`, the last line is shortened with an ellipsis.
/// Returns the size, the lines and whether anything had to be cut.
fn fit_text(
    s: &str,
    bold: bool,
    (start, min): (f64, f64),
    max_w: i32,
    height: i32,
) -> (f64, Vec<String>, bool) {
    let max_lines = |size: f64| ((height as f64 / (size * 1.15)).floor() as usize).max(1);
    let mut size = start;
    while size > min {
        let lines = wrap(s, size, bold, max_w);
        if lines.len() <= max_lines(size)
            && lines.iter().all(|l| text_width(l, size, bold) <= max_w)
        {
            return (size, lines, false);
        }
        size -= 1.0;
    }
    let size = min;
    let mut lines = wrap(s, size, bold, max_w);
    let n = max_lines(size);
    if lines.len() > n {
        let rest = lines[n - 1..].join(" ");
        lines.truncate(n - 1);
        lines.push(rest);
    }
    let fitted: Vec<String> = lines
        .iter()
        .map(|l| ellipsize(l, size, bold, max_w))
        .collect();
    let cut = fitted != lines;
    (size, fitted, cut)
}

fn group_color(groups: &[&str], colors: &[RGBColor], name: &str) -> RGBColor {
    groups
        .iter()
        .position(|g| *g == name)
        .and_then(|i| colors.get(i).copied())
        .unwrap_or(MISSING)
}

impl Figure for RfFig<'_> {
    fn size(&self) -> (u32, u32) {
        (W, H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, fx: Fx) -> Res {
        let g = self.grid;
        let (n, cell) = (self.bins, self.cell);
        let title = if g.title.trim().is_empty() {
            "Recency × frequency grid"
        } else {
            g.title.as_str()
        };
        let map = if g.map_name.trim().is_empty() {
            String::new()
        } else {
            format!(" · groups from “{}”", g.map_name.trim())
        };
        let subtitle = format!(
            "{} customers by recency (R) and frequency (F) score, {n} = best, 1 = worst{map}",
            fmt_int(self.total)
        );
        header(root, fx, title, &subtitle)?;
        let groups = self.groups();
        let colors = group_colors(&groups);
        let st = self.style();

        // Cell fills with count and shares; a 1 px white seam separates cells of the same group.
        // The count and shares are centred below the band kept free for group names.
        let (count_step, share_step) = (st.count_size * 1.15, st.share_size * 1.12);
        let stack_h = count_step + 2.0 * share_step;
        let bottom_margin = st.pad.min(rf_border(cell) + 2);
        let stack_top =
            st.band as f64 + ((cell - bottom_margin - st.band) as f64 - stack_h).max(0.0) / 2.0;
        let count_y = (stack_top + count_step / 2.0).round() as i32;
        let share_y = (stack_top + count_step + share_step / 2.0).round() as i32;
        let revenue_y = share_y + share_step.round() as i32;
        for (r, f) in self.cells() {
            let (x, y) = self.cell_origin(r, f);
            let fill = group_color(&groups, &colors, self.group(r, f));
            rect(root, (x + 1, y + 1), (x + cell - 1, y + cell - 1), fill)?;
            let cx = x + cell / 2;
            put(
                root,
                fx,
                &self.count_text(self.count(r, f), &st),
                (cx, y + count_y),
                Txt::new(st.count_size)
                    .bold()
                    .at(HPos::Center, VPos::Center),
            )?;
            let shares = [
                (
                    format!("{}{}", self.customer_share(self.count(r, f)), st.suffix.0),
                    share_y,
                ),
                (
                    format!("{}{}", self.revenue_share(self.revenue(r, f)), st.suffix.1),
                    revenue_y,
                ),
            ];
            for (text, dy) in shares {
                put(
                    root,
                    fx,
                    &text,
                    (cx, y + dy),
                    Txt::new(st.share_size)
                        .color(CELL_TEXT)
                        .at(HPos::Center, VPos::Center),
                )?;
            }
        }

        // Thick borders wherever neighbouring cells belong to different groups, plus the frame.
        let t = rf_border(cell);
        for (r, f) in self.cells() {
            let (x, y) = self.cell_origin(r, f);
            let name = self.group(r, f);
            if f + 1 < n && self.group(r, f + 1) != name {
                let xe = x + cell;
                rect(root, (xe - t, y - t), (xe + t, y + cell + t), BORDER)?;
            }
            if r + 1 < n && self.group(r + 1, f) != name {
                rect(root, (x - t, y - t), (x + cell + t, y + t), BORDER)?;
            }
        }
        let side = n as i32 * cell;
        let (gx1, gy1) = (RF_X + side, RF_Y + side);
        rect(root, (RF_X - t, RF_Y - t), (gx1 + t, RF_Y + t), BORDER)?;
        rect(root, (RF_X - t, gy1 - t), (gx1 + t, gy1 + t), BORDER)?;
        rect(root, (RF_X - t, RF_Y - t), (RF_X + t, gy1 + t), BORDER)?;
        rect(root, (gx1 - t, RF_Y - t), (gx1 + t, gy1 + t), BORDER)?;

        for name in &groups {
            self.group_label(root, fx, name, &st)?;
        }

        // Axes: score numbers next to the grid, titles in words.
        let tick = (cell as f64 * 0.16).clamp(18.0, 26.0);
        for i in 0..n {
            let (x, y) = self.cell_origin(i, i);
            let score = (i + 1).to_string();
            put(
                root,
                fx,
                &score,
                (RF_X - 16, y + cell / 2),
                Txt::new(tick).at(HPos::Right, VPos::Center),
            )?;
            put(
                root,
                fx,
                &score,
                (x + cell / 2, gy1 + 12),
                Txt::new(tick).at(HPos::Center, VPos::Top),
            )?;
        }
        put(
            root,
            fx,
            "Frequency score (F)  →  more purchases",
            (RF_X + side / 2, gy1 + 52),
            Txt::new(AXIS_TITLE).at(HPos::Center, VPos::Top),
        )?;
        put(
            root,
            fx,
            "Recency score (R)  →  bought more recently",
            (PAD + 14, RF_Y + side / 2),
            Txt::new(AXIS_TITLE)
                .vertical()
                .at(HPos::Center, VPos::Center),
        )?;

        self.legend(root, fx, &groups, &colors)
    }
}

impl RfFig<'_> {
    /// Writes a group's name once, in the band at the top of one row's run of the group's
    /// cells: the run where the name fits largest, less a penalty for its distance from the
    /// group's centre. The counts sit below the band in every cell, so they never collide.
    fn group_label<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        fx: Fx,
        name: &str,
        st: &CellStyle,
    ) -> Res {
        if name.trim().is_empty() {
            return Ok(());
        }
        let cells: Vec<(usize, usize)> = self
            .cells()
            .into_iter()
            .filter(|&(r, f)| self.group(r, f) == name)
            .collect();
        if cells.is_empty() {
            return Ok(());
        }
        let k = cells.len() as f64;
        let cr = cells.iter().map(|c| c.0 as f64).sum::<f64>() / k;
        let cf = cells.iter().map(|c| c.1 as f64).sum::<f64>() / k;
        // Contiguous runs of the group's cells, per row.
        let mut runs: Vec<(usize, usize, usize)> = Vec::new();
        for &(r, f) in &cells {
            match runs.last_mut() {
                Some(run) if run.0 == r && run.2 + 1 == f => run.2 = f,
                _ => runs.push((r, f, f)),
            }
        }
        let height = st.band - st.pad;
        let min_size = 9.0;
        // Upper rows first, and only a strictly better run replaces the best so far, so that
        // ties go to the upper row.
        let best = runs
            .iter()
            .rev()
            .map(|&(r, f0, f1)| {
                let width = (f1 - f0 + 1) as i32 * self.cell - 2 * (rf_border(self.cell) + 2);
                let (size, lines, cut) =
                    fit_text(name, true, (st.label_size, min_size), width, height);
                let dr = r as f64 - cr;
                let df = (f0 + f1) as f64 / 2.0 - cf;
                let penalty = if cut { 100.0 } else { 0.0 };
                let score = size - 4.0 * (dr * dr + df * df).sqrt() - penalty;
                (score, (r, f0, f1), size, lines)
            })
            .reduce(|best, run| if run.0 > best.0 { run } else { best });
        let Some((_, (r, f0, f1), size, lines)) = best else {
            return Ok(());
        };
        let (x0, y0) = self.cell_origin(r, f0);
        let cx = x0 + (f1 - f0 + 1) as i32 * self.cell / 2;
        let step = size * 1.15;
        for (i, line) in lines.iter().enumerate() {
            put(
                root,
                fx,
                line,
                (cx, y0 + st.pad + (i as f64 * step).round() as i32),
                Txt::new(size).bold().at(HPos::Center, VPos::Top),
            )?;
        }
        Ok(())
    }

    /// A key to the cell texts, then group swatches with their customers, customer share and
    /// revenue share, largest first. Two lines per group while they fit, else one; groups
    /// beyond the figure are summed up in a last line.
    fn legend<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        fx: Fx,
        groups: &[&str],
        colors: &[RGBColor],
    ) -> Res {
        let mut rows: Vec<(&str, u64, f64)> = groups
            .iter()
            .map(|&name| {
                let cells = self.cells();
                let mine = cells.iter().filter(|&&(r, f)| self.group(r, f) == name);
                let n = mine
                    .clone()
                    .fold(0u64, |a, &(r, f)| a.saturating_add(self.count(r, f)));
                let revenue: f64 = mine.map(|&(r, f)| self.revenue(r, f)).sum();
                (name, n, revenue)
            })
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.1));
        let lx = RF_LEGEND_X;
        let max_w = W as i32 - PAD - lx;
        let text_x = lx + 42;
        let text_w = max_w - 42;
        let mut y = RF_Y;
        put(root, fx, "Segments", (lx, y), Txt::new(LABEL + 2.0).bold())?;
        y += 40;
        let key = if self.total_revenue.is_some() {
            "Each cell: customers, their share of all customers and of net revenue"
        } else {
            "Each cell: customers, their share of all customers and of net revenue \
             (– : total net revenue is zero or negative)"
        };
        let key_lines = wrap(key, 18.0, false, max_w);
        for line in &key_lines {
            put(root, fx, line, (lx, y), Txt::new(18.0).color(MUTED))?;
            y += 22;
        }
        y += 18;

        let bottom = H as i32 - 24;
        let room = bottom - y;
        let per_row = room / rows.len().max(1) as i32;
        // Two lines per group (name, then customers and revenue) while at least 50 px each fit;
        // else one line each, at least 28 px, and a last line for the groups that do not fit.
        let two_lines = per_row >= 50;
        let one_line_min = 28;
        let fit = (room / one_line_min).max(1) as usize;
        let (shown, hidden) = if two_lines || rows.len() <= fit {
            (rows.len(), 0)
        } else {
            (fit - 1, rows.len() + 1 - fit)
        };
        let pitch = if two_lines {
            per_row.min(62)
        } else {
            per_row.clamp(one_line_min, 40)
        };
        let roomy = pitch >= 58;
        let (name_size, stats_size, swatch) = match (two_lines, roomy) {
            (true, true) => (LABEL, 19.0, 28),
            (true, false) => (20.0, 17.0, 24),
            (false, _) => (18.0, 17.0, 20),
        };
        for &(name, n, revenue) in rows.iter().take(shown) {
            let label = if name.trim().is_empty() {
                "Unassigned"
            } else {
                name
            };
            let color = group_color(groups, colors, name);
            rect(root, (lx, y), (lx + swatch, y + swatch), color)?;
            root.draw(&Rectangle::new(
                [(lx, y), (lx + swatch, y + swatch)],
                BORDER.stroke_width(1),
            ))?;
            let customers = self.customer_share(n);
            let rev = self.revenue_share(revenue);
            if two_lines {
                put(
                    root,
                    fx,
                    &ellipsize(label, name_size, true, text_w),
                    (text_x, y + swatch / 2),
                    Txt::new(name_size).bold().at(HPos::Left, VPos::Center),
                )?;
                let stats = format!(
                    "{} customer{} ({customers})  ·  {rev} of revenue",
                    fmt_int(n),
                    if n == 1 { "" } else { "s" }
                );
                put(
                    root,
                    fx,
                    &ellipsize(&stats, stats_size, false, text_w),
                    (text_x, y + swatch / 2 + (pitch as f64 * 0.42) as i32),
                    Txt::new(stats_size)
                        .color(MUTED)
                        .at(HPos::Left, VPos::Center),
                )?;
            } else {
                let stats = format!("  {customers} · {rev} rev.");
                let stats_w = text_width(&stats, stats_size, false);
                let name_w = (text_w - stats_w).max(text_w / 3);
                let shown_name = ellipsize(label, name_size, true, name_w);
                put(
                    root,
                    fx,
                    &shown_name,
                    (text_x, y + swatch / 2),
                    Txt::new(name_size).bold().at(HPos::Left, VPos::Center),
                )?;
                put(
                    root,
                    fx,
                    &stats,
                    (
                        text_x + text_width(&shown_name, name_size, true),
                        y + swatch / 2,
                    ),
                    Txt::new(stats_size)
                        .color(MUTED)
                        .at(HPos::Left, VPos::Center),
                )?;
            }
            y += pitch;
        }
        if hidden > 0 {
            let rest = &rows[shown..];
            let n = rest.iter().fold(0u64, |a, r| a.saturating_add(r.1));
            let revenue: f64 = rest.iter().map(|r| r.2).sum();
            put(
                root,
                fx,
                &format!(
                    "… and {hidden} more groups: {} · {} rev.",
                    self.customer_share(n),
                    self.revenue_share(revenue)
                ),
                (lx, y + 10),
                Txt::new(18.0).color(MUTED).at(HPos::Left, VPos::Center),
            )?;
        }
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------------
// 5. Choosing k
// ------------------------------------------------------------------------------------------------

/// Four panels (2 × 2): silhouette, Calinski–Harabasz, Davies–Bouldin and inertia against k,
/// the chosen k marked in each by a dashed line and a highlighted marker.
pub fn k_selection(dir: &Path, stem: &str, sel: &KSelection) -> Res {
    render(dir, stem, &KFig { sel })
}

struct KFig<'a> {
    sel: &'a KSelection,
}

impl Figure for KFig<'_> {
    fn size(&self) -> (u32, u32) {
        (W, H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, fx: Fx) -> Res {
        let s = self.sel;
        let subtitle = if s.ks.is_empty() {
            String::new()
        } else if s.ks.contains(&s.chosen_k) {
            format!(
                "Chosen: k = {} (red dashed line in every panel)",
                s.chosen_k
            )
        } else {
            format!("Chosen: k = {} (not among the evaluated k)", s.chosen_k)
        };
        let body = header(root, fx, &s.title, &subtitle)?;
        if s.ks.is_empty() || s.panels.is_empty() {
            return no_data(&body, fx, "No candidate k was evaluated");
        }
        let n = s.ks.len();
        let panels: Vec<KPanel> = s
            .panels
            .iter()
            .map(|p| KPanel {
                values: (0..n)
                    .map(|i| p.values.get(i).copied().flatten().filter(|x| usable(*x)))
                    .collect(),
                ..p.clone()
            })
            .collect();
        // Two panels per row up to four, three per row beyond.
        let columns = if panels.len() <= 4 { 2 } else { 3 }.min(panels.len());
        let rows = panels.len().div_ceil(columns);
        let content = body.margin(0, 16, PAD - 20, PAD);
        let areas = content.split_evenly((rows, columns));
        for (area, panel) in areas.iter().zip(&panels) {
            metric_panel(root, &area.margin(4, 18, 0, 36), fx, s, panel)?;
        }
        Ok(())
    }
}

fn metric_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    fx: Fx,
    sel: &KSelection,
    m: &KPanel,
) -> Res {
    put(
        area,
        fx,
        &m.title,
        (20, 0),
        Txt::new(PANEL_TITLE - 1.0).bold(),
    )?;
    let (_, plot) = area.split_vertically(48);
    let pts: Vec<(f64, f64)> = sel
        .ks
        .iter()
        .zip(&m.values)
        .filter_map(|(&k, v)| v.map(|v| (k as f64, v)))
        .collect();
    if pts.is_empty() {
        return no_data(&plot, fx, "Not computed");
    }
    let kmin = sel.ks.iter().copied().min().unwrap_or(0) as f64;
    let kmax = sel.ks.iter().copied().max().unwrap_or(0) as f64;
    let (x0, x1) = (kmin - 0.5, kmax + 0.5);
    let lo = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let hi = pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let pad = if hi > lo {
        (hi - lo) * 0.14
    } else {
        (hi.abs() * 0.1).max(1e-6)
    };
    let (y0, y1) = (lo - pad, hi + pad);

    let mut chart = ChartBuilder::on(&plot)
        .margin_top(8)
        .margin_right(12)
        .x_label_area_size(66)
        .y_label_area_size(104)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_labels(((kmax - kmin) as usize + 2).min(30))
        .y_labels(5)
        // Only whole k are meaningful.
        .x_label_formatter(&|v| {
            if (v - v.round()).abs() < 1e-6 {
                format!("{}", v.round() as i64)
            } else {
                String::new()
            }
        })
        .y_label_formatter(&axis_fmt(y0, y1, 5))
        .y_label_offset(fx.text_shift(TICK - 2.0, VPos::Center))
        .x_desc("Number of clusters (k)")
        .y_desc(&m.axis)
        .label_style(font(TICK - 2.0, false).color(&INK))
        .axis_desc_style(font(AXIS_TITLE - 3.0, false).color(&INK))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS)
        .draw()?;

    // Lines only join neighbouring k that both have a value; gaps stay visible.
    let mut run: Vec<(f64, f64)> = Vec::new();
    for (&k, v) in sel.ks.iter().zip(&m.values) {
        match v {
            Some(v) => run.push((k as f64, *v)),
            None => {
                if run.len() > 1 {
                    chart.draw_series(LineSeries::new(run.clone(), LINE.stroke_width(3)))?;
                }
                run.clear();
            }
        }
    }
    if run.len() > 1 {
        chart.draw_series(LineSeries::new(run, LINE.stroke_width(3)))?;
    }

    let chosen = sel.chosen_k as f64;
    if chosen >= kmin && chosen <= kmax {
        chart.draw_series(DashedLineSeries::new(
            vec![(chosen, y0), (chosen, y1)],
            10,
            7,
            ACCENT.stroke_width(2),
        ))?;
    }
    chart.draw_series(pts.iter().map(|&p| Circle::new(p, 6, LINE.filled())))?;
    if let Some(&p) = pts.iter().find(|p| p.0 == chosen) {
        chart.draw_series([
            Circle::new(p, 13, ACCENT.stroke_width(3)),
            Circle::new(p, 7, ACCENT.filled()),
        ])?;
    }
    if chosen >= kmin && chosen <= kmax {
        let label = format!("k = {}", sel.chosen_k);
        // At the end of the dashed line away from the chosen point (often an extreme), to the
        // right of the line unless it would run out of the panel.
        let chosen_value = pts.iter().find(|p| p.0 == chosen).map(|p| p.1);
        let at_bottom = chosen_value.is_some_and(|v| v > (y0 + y1) / 2.0);
        let (px, py) = chart.backend_coord(&(chosen, if at_bottom { y0 } else { y1 }));
        let (right, _) = chart.backend_coord(&(x1, y1));
        let (x, h) = if px + 12 + text_width(&label, 19.0, true) < right {
            (px + 8, HPos::Left)
        } else {
            (px - 8, HPos::Right)
        };
        let (y, v) = if at_bottom {
            (py - 6, VPos::Bottom)
        } else {
            (py + 6, VPos::Top)
        };
        put(
            root,
            fx,
            &label,
            (x, y),
            Txt::new(19.0).bold().color(ACCENT).at(h, v),
        )?;
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// 6. DBSCAN k-distance curve
// ------------------------------------------------------------------------------------------------

/// Sorted distances to the k-th nearest neighbour (y) against rank (x), with the knee point and
/// a horizontal line at eps. Very large curves are thinned for drawing (the curve is monotone, so
/// each bucket's first and last point keep its shape).
pub fn k_distance(
    dir: &Path,
    stem: &str,
    sorted_distances: &[f64],
    knee_index: usize,
    eps: f64,
    k: usize,
) -> Res {
    render(
        dir,
        stem,
        &KDistFig {
            d: sorted_distances,
            knee: knee_index,
            eps,
            k,
        },
    )
}

struct KDistFig<'a> {
    d: &'a [f64],
    knee: usize,
    eps: f64,
    k: usize,
}

impl Figure for KDistFig<'_> {
    fn size(&self) -> (u32, u32) {
        (W, H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, fx: Fx) -> Res {
        let kth = ordinal(self.k);
        let pts: Vec<(f64, f64)> = self
            .d
            .iter()
            .enumerate()
            .filter(|(_, v)| usable(**v))
            // Ranks start at 1, as a reader counts points.
            .map(|(i, &v)| ((i + 1) as f64, v))
            .collect();
        let subtitle = if pts.is_empty() {
            String::new()
        } else {
            format!(
                "{} points; where the curve bends sharply upwards, points stop being in dense regions – a good eps",
                fmt_int(pts.len() as u64)
            )
        };
        let body = header(
            root,
            fx,
            "Choosing eps for DBSCAN (k-distance curve)",
            &subtitle,
        )?;
        if pts.is_empty() {
            return no_data(&body, fx, "No distances to show");
        }
        let knee = self
            .d
            .get(self.knee)
            .copied()
            .filter(|v| usable(*v))
            .map(|v| ((self.knee + 1) as f64, v));
        let eps = Some(self.eps).filter(|e| usable(*e));

        let mut sorted: Vec<f64> = pts.iter().map(|p| p.1).collect();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let full_max = sorted[sorted.len() - 1];
        let full_min = sorted[0].min(0.0);
        // A handful of isolated points can have huge distances and flatten the interesting part
        // of the curve; cut the axis then and say so.
        let reference = quantile(&sorted, 0.99)
            .max(eps.unwrap_or(0.0))
            .max(knee.map_or(0.0, |k| k.1));
        let (y_max, cut) = if reference > 0.0 && full_max > 3.0 * reference {
            (reference * 1.6, true)
        } else {
            ((full_max * 1.08).max(eps.unwrap_or(0.0) * 1.15), false)
        };
        let y_max = if y_max > full_min {
            y_max
        } else {
            full_min + 1.0
        };
        let x_max = self.d.len().max(2) as f64;

        // Thin the line to about one point per 8 px of travel (in x or y): thousands of
        // sub-pixel segments render as a ragged band in the bitmap and bloat the SVG.
        let (sx, sy) = (x_max / 1350.0 * 8.0, (y_max - full_min) / 700.0 * 8.0);
        let mut line: Vec<(f64, f64)> = Vec::new();
        for (i, &(x, y)) in pts.iter().enumerate() {
            let y = y.min(y_max);
            let keep = match line.last() {
                None => true,
                Some(&(lx, ly)) => {
                    i + 1 == pts.len() || (x - lx).abs() >= sx || (y - ly).abs() >= sy
                }
            };
            if keep {
                line.push((x, y));
            }
        }

        let plot = body.margin(0, 24, PAD - 16, PAD);
        let mut chart = ChartBuilder::on(&plot)
            .margin(16)
            .x_label_area_size(88)
            .y_label_area_size(110)
            .build_cartesian_2d(0.0..x_max, full_min..y_max)?;
        chart
            .configure_mesh()
            .x_labels(8)
            .y_labels(8)
            .x_label_formatter(&axis_fmt(0.0, x_max, 8))
            .y_label_formatter(&axis_fmt(full_min, y_max, 8))
            .y_label_offset(fx.text_shift(TICK, VPos::Center))
            .x_desc("Points sorted by distance")
            .y_desc(format!("Distance to {kth} nearest neighbour"))
            .label_style(font(TICK, false).color(&INK))
            .axis_desc_style(font(AXIS_TITLE, false).color(&INK))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS)
            .draw()?;

        chart.draw_series(AreaSeries::new(
            line.iter().copied(),
            full_min,
            LINE.mix(0.08),
        ))?;
        chart.draw_series(LineSeries::new(line, LINE.stroke_width(3)))?;

        let (left_px, top_px) = chart.backend_coord(&(0.0, y_max));
        let (right_px, _) = chart.backend_coord(&(x_max, y_max));
        if let Some(e) = eps.filter(|e| *e <= y_max) {
            chart.draw_series(DashedLineSeries::new(
                vec![(0.0, e), (x_max, e)],
                14,
                8,
                ACCENT.stroke_width(2),
            ))?;
            let (_, py) = chart.backend_coord(&(0.0, e));
            put(
                root,
                fx,
                &format!("eps = {}", fmt_num(e)),
                (left_px + 14, py - 8),
                Txt::new(LABEL)
                    .bold()
                    .color(ACCENT)
                    .at(HPos::Left, VPos::Bottom),
            )?;
        }
        if let Some((kx, ky)) = knee.filter(|k| k.1 <= y_max) {
            chart.draw_series([
                Circle::new((kx, ky), 13, ACCENT.stroke_width(3)),
                Circle::new((kx, ky), 6, ACCENT.filled()),
            ])?;
            let (px, py) = chart.backend_coord(&(kx, ky));
            let label = format!(
                "Knee: point {}, distance {}",
                fmt_int(self.knee as u64 + 1),
                fmt_num(ky)
            );
            // Up and to the left of the knee, where the rising curve leaves room; to the right
            // if that would leave the plot.
            let w = text_width(&label, LABEL, false);
            let (x, h) = if px - 22 - w > left_px + 10 {
                (px - 22, HPos::Right)
            } else {
                ((px + 22).min(right_px - w), HPos::Left)
            };
            put(
                root,
                fx,
                &label,
                (x, (py - 22).max(top_px + 30)),
                Txt::new(LABEL).at(h, VPos::Bottom),
            )?;
        }
        if cut {
            put(
                root,
                fx,
                &format!(
                    "Axis cut at {}: the largest distance is {}",
                    fmt_num(y_max),
                    fmt_num(full_max)
                ),
                (left_px + 14, top_px + 10),
                Txt::new(19.0).color(MUTED).at(HPos::Left, VPos::Top),
            )?;
        }
        Ok(())
    }
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
        sizes_and_revenue(&dir, "sizes", &bars()).unwrap();
        check(&dir, "sizes");
        sizes_and_revenue(&dir, "empty", &[]).unwrap();
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
    fn formats_signed_shares() {
        assert_eq!(fmt_signed_pct(-0.123), "−12.3 %");
        assert_eq!(fmt_signed_pct(-0.0001), "> −0.1 %");
        assert_eq!(fmt_signed_pct(1.5), "150.0 %");
        assert_eq!(fmt_signed_pct(f64::NAN), "n/a");
        assert_eq!(fmt_signed_pct(-0.0), "0.0 %");
        assert_eq!(fmt_count_short(98_765), "98,765");
        assert_eq!(fmt_count_short(123_456), "123 k");
        assert_eq!(fmt_count_short(1_234_567), "1.23 M");
        assert!(fmt_count_short(u64::MAX).ends_with(" bn"));
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

    #[test]
    fn formats_numbers() {
        assert_eq!(fmt_int(1_234_567), "1,234,567");
        assert_eq!(fmt_num(2500.0), "2,500");
        assert_eq!(fmt_num(0.83), "0.83");
        assert_eq!(fmt_num(-1.5), "−1.5");
        assert_eq!(fmt_num(1_250_000.0), "1.25 M");
        assert_eq!(fmt_pct(0.342), "34.2 %");
        assert_eq!(ordinal(10), "10th");
        assert_eq!(ordinal(21), "21st");
        assert_eq!(ordinal(12), "12th");
    }
}
