//! Choosing k: one panel per criterion against k.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{header, house_axes, no_data, H, PAD, W};
use super::colours::{ACCENT, LINE};
use super::error::Res;
use super::render::{render, Figure};
use super::scales::{axis_fmt, usable};
use super::text::{put, text_width, Fx, Txt, AXIS_TITLE, PANEL_TITLE, TICK};

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
    house_axes(
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
            .y_desc(&m.axis),
        TICK - 2.0,
        AXIS_TITLE - 3.0,
    )
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
