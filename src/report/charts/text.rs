//! Text: the bundled fonts, font sizes, measuring, placing, wrapping and shortening text, and
//! the per-backend correction of where bitmap text sits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontFamily, FontStyle, FontTransform};

use super::colours::INK;
use super::error::{ChartError, Res};

static FONTS_ONCE: Once = Once::new();
static FONTS_OK: AtomicBool = AtomicBool::new(false);

pub(super) fn ensure_fonts() -> Res {
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
pub(super) struct Fx {
    pub(super) bitmap: bool,
}

impl Fx {
    /// plotters' ab_glyph rasteriser puts the baseline half a font size below the anchor's top,
    /// so bitmap text sits too high (by ~0.22 of the size when centred); SVG text is placed by
    /// the viewer and needs no correction. Returns the downward shift in the text's own frame.
    pub(super) fn text_shift(self, size: f64, v: VPos) -> i32 {
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

// Font sizes are plotters units (roughly pixel height of the font's full ascent+descent) and are
// chosen for a 1600 px wide image shown on a slide.
pub(super) const TITLE: f64 = 40.0;
pub(super) const SUBTITLE: f64 = 24.0;
pub(super) const PANEL_TITLE: f64 = 27.0;
pub(super) const AXIS_TITLE: f64 = 25.0;
pub(super) const TICK: f64 = 21.0;
pub(super) const LABEL: f64 = 22.0;

pub(super) fn font(size: f64, bold: bool) -> FontDesc<'static> {
    let style = if bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    FontDesc::new(FontFamily::SansSerif, size, style)
}

pub(super) fn text_width(s: &str, size: f64, bold: bool) -> i32 {
    font(size, bold)
        .box_size(s)
        .map(|(w, _)| w as i32)
        .unwrap_or_else(|_| (s.chars().count() as f64 * size * 0.6) as i32)
}

/// Text placement: size, weight, colour, anchor and orientation.
#[derive(Clone, Copy)]
pub(super) struct Txt {
    size: f64,
    bold: bool,
    color: RGBColor,
    h: HPos,
    v: VPos,
    vertical: bool,
}

impl Txt {
    pub(super) fn new(size: f64) -> Self {
        Txt {
            size,
            bold: false,
            color: INK,
            h: HPos::Left,
            v: VPos::Top,
            vertical: false,
        }
    }
    pub(super) fn bold(mut self) -> Self {
        self.bold = true;
        self
    }
    pub(super) fn color(mut self, c: RGBColor) -> Self {
        self.color = c;
        self
    }
    pub(super) fn at(mut self, h: HPos, v: VPos) -> Self {
        self.h = h;
        self.v = v;
        self
    }
    /// Rotated to read bottom to top.
    pub(super) fn vertical(mut self) -> Self {
        self.vertical = true;
        self
    }
}

pub(super) fn put<DB: DrawingBackend>(
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
pub(super) fn ellipsize(s: &str, size: f64, bold: bool, max_w: i32) -> String {
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
pub(super) fn wrap(s: &str, size: f64, bold: bool, max_w: i32) -> Vec<String> {
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
pub(super) fn two_lines(s: &str, size: f64, bold: bool, max_w: i32) -> Vec<String> {
    lines_up_to(s, size, bold, max_w, 2)
}

/// `s` wrapped to at most `max_lines` lines; the last one takes the rest, shortened to fit.
pub(super) fn lines_up_to(
    s: &str,
    size: f64,
    bold: bool,
    max_w: i32,
    max_lines: usize,
) -> Vec<String> {
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
pub(super) fn put_lines<DB: DrawingBackend>(
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
