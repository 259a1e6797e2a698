//! Heatmaps: segment profiles (z-scores) and cluster × rule-segment shares.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{header, no_data, rect, HEADER_H, MAX_H, PAD, W};
use super::colours::{
    luminance, ramp, AXIS, DIVERGING, DIVERGING_CLAMP, INK, MISSING, MUTED, SEQUENTIAL,
};
use super::error::Res;
use super::render::{render, Figure};
use super::scales::nice_step;
use super::text::{ellipsize, lines_up_to, put, put_lines, text_width, wrap, Fx, Txt, AXIS_TITLE};
use crate::format::label_number;

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
    /// How to read the colours, when not the palette's usual sentence.
    pub subtitle: Option<String>,
}

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
        let subtitle = match (&m.subtitle, m.palette) {
            (Some(text), _) => text.clone(),
            (None, Palette::Diverging) => format!(
                "Blue = below average, red = above average (in standard deviations; colours saturate at ±{DIVERGING_CLAMP})"
            ),
            // The sequential map shows row shares (the cross-table); say how to read a row.
            (None, Palette::Sequential) => {
                "Each row adds up to 100 %: where a segment's customers sit; darker = larger share"
                    .to_string()
            }
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
            // Long names wrap onto a second line when the row is tall enough for two.
            let room = if f64::from(l.cell_h) >= 2.3 * HEAT_ROW_FONT {
                2
            } else {
                1
            };
            put_lines(
                root,
                fx,
                &lines_up_to(&m.row_labels[r], HEAT_ROW_FONT, false, l.row_w, room),
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
                        format!("+{}", label_number(t))
                    } else {
                        label_number(t)
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
                        format!("{} %", label_number(t * scale))
                    } else {
                        label_number(t)
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
