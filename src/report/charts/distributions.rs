//! Recency, frequency and spend per segment as box plots: one row per cluster, one panel per
//! measure, so a marketer sees at once which segment bought lately, often and much — and how
//! spread out each segment is, which the averages on the cards hide.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{header, no_data, H, HEADER_H, MAX_H, PAD, W};
use super::colours::{series_color, AXIS, GRID, INK, MUTED};
use super::error::Res;
use super::render::{render, Figure};
use super::scales::{quantile, tick_step, usable};
use super::text::{
    font, put, put_lines, text_width, two_lines, Fx, Txt, AXIS_TITLE, LABEL, PANEL_TITLE, TICK,
};
use crate::format::label_number;

/// Five numbers of one segment's values: 5th, 25th, 50th, 75th and 95th percentile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxStats {
    pub low: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub high: f64,
}

impl BoxStats {
    /// None when no finite value is left.
    pub fn of(values: impl Iterator<Item = f64>) -> Option<BoxStats> {
        let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        Some(BoxStats {
            low: quantile(&v, 0.05),
            q1: quantile(&v, 0.25),
            median: quantile(&v, 0.5),
            q3: quantile(&v, 0.75),
            high: quantile(&v, 0.95),
        })
    }
}

/// One measure; `boxes` is parallel to [`Distributions::rows`] (None = no values, e.g. a
/// segment without purchases).
#[derive(Debug, Clone)]
pub struct DistributionPanel {
    pub title: String,
    pub axis: String,
    /// Drawn on a log scale (symmetric, so zero and refunds stay on the axis).
    pub log: bool,
    pub boxes: Vec<Option<BoxStats>>,
}

#[derive(Debug, Clone)]
pub struct DistributionRow {
    pub name: String,
    /// `None` draws the box in grey (DBSCAN noise / outliers).
    pub color_index: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct Distributions {
    pub title: String,
    pub rows: Vec<DistributionRow>,
    pub panels: Vec<DistributionPanel>,
}

pub fn distributions(dir: &Path, stem: &str, fig: &Distributions) -> Res {
    render(dir, stem, &DistFig { d: fig })
}

struct DistFig<'a> {
    d: &'a Distributions,
}

/// x → sign(x)·log10(1 + |x|): 0 stays 0, negative spend (refunds) stays drawable.
fn symlog(x: f64) -> f64 {
    x.signum() * x.abs().ln_1p() / std::f64::consts::LN_10
}

/// A panel's x mapping: the value range and whether it is log-scaled.
#[derive(Clone, Copy)]
struct Scale {
    log: bool,
    lo: f64,
    hi: f64,
}

impl Scale {
    fn of(panel: &DistributionPanel) -> Scale {
        let boxes = panel.boxes.iter().flatten();
        let lo = boxes.clone().map(|b| b.low).fold(0.0_f64, f64::min);
        let hi = boxes.map(|b| b.high).fold(f64::NEG_INFINITY, f64::max);
        let hi = if usable(hi) && hi > lo { hi } else { lo + 1.0 };
        Scale {
            log: panel.log,
            lo,
            hi,
        }
    }

    fn at(self, x: f64) -> f64 {
        if self.log {
            symlog(x)
        } else {
            x
        }
    }

    /// The drawn range: the data range plus room on the right for the median labels.
    fn range(self) -> (f64, f64) {
        let (a, b) = (self.at(self.lo), self.at(self.hi));
        (a, b + (b - a) * 0.22)
    }

    fn ticks(self) -> Vec<f64> {
        if !self.log {
            let step = tick_step(self.lo, self.hi, 5);
            let first = (self.lo / step).ceil() as i64;
            let last = (self.hi / step).floor() as i64;
            return (first..=last).map(|i| i as f64 * step).collect();
        }
        // 1-2-5 steps per decade, thinned to powers of ten when there are too many.
        let decades = (self.hi.abs().max(self.lo.abs()).max(1.0)).log10().ceil() as i32;
        for mantissas in [&[1.0, 2.0, 5.0][..], &[1.0, 3.0][..], &[1.0][..]] {
            let mut ticks = vec![0.0];
            for e in 0..=decades {
                for m in mantissas {
                    let v = m * 10f64.powi(e);
                    ticks.extend([v, -v]);
                }
            }
            ticks.retain(|v| *v >= self.lo && *v <= self.hi * 1.0001);
            ticks.sort_by(f64::total_cmp);
            // Powers of ten alone are always kept: labels that would touch are skipped when drawn.
            if ticks.len() <= 7 || mantissas.len() == 1 {
                return ticks;
            }
        }
        vec![0.0]
    }
}

const ROW_H: i32 = 70;
const PANEL_GAP: i32 = 44;

impl Figure for DistFig<'_> {
    fn size(&self) -> (u32, u32) {
        let n = self.d.rows.len().min(60) as i32;
        (
            W,
            (H as i32).max(HEADER_H + 240 + ROW_H * n).min(MAX_H) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, fx: Fx) -> Res {
        let d = self.d;
        let body = header(
            root,
            fx,
            &d.title,
            "Box: middle half of the segment's buyers (25th–75th percentile), bar: median, \
             whiskers: 5th–95th percentile",
        )?;
        if d.rows.is_empty() || d.panels.is_empty() {
            return no_data(&body, fx, "No segments to show");
        }
        let (bw, _) = body.dim_in_pixel();
        let name_w = d
            .rows
            .iter()
            .map(|r| text_width(&r.name, LABEL, false))
            .max()
            .unwrap_or(0)
            .min(300)
            + 22;
        let panels = d.panels.len() as i32;
        let panel_w = (bw as i32 - 2 * PAD - name_w - PANEL_GAP * (panels - 1)) / panels;
        let content = body.margin(0, 30, PAD, PAD);
        let mut rest = content;
        for (p, panel) in d.panels.iter().enumerate() {
            let width = if p == 0 {
                name_w + panel_w
            } else {
                PANEL_GAP + panel_w
            };
            let (area, right) = rest.split_horizontally(width);
            let area = if p == 0 {
                area
            } else {
                area.margin(0, 0, PANEL_GAP, 0)
            };
            box_panel(root, &area, fx, d, panel, if p == 0 { name_w } else { 0 })?;
            rest = right;
        }
        Ok(())
    }
}

fn box_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    fx: Fx,
    d: &Distributions,
    panel: &DistributionPanel,
    name_w: i32,
) -> Res {
    let n = d.rows.len();
    put(
        area,
        fx,
        &panel.title,
        (name_w, 0),
        Txt::new(PANEL_TITLE).bold(),
    )?;
    let (_, plot) = area.split_vertically(58);
    let scale = Scale::of(panel);
    let (x0, x1) = scale.range();
    let mut chart = ChartBuilder::on(&plot)
        .x_label_area_size(74)
        .y_label_area_size(name_w)
        .build_cartesian_2d(x0..x1, 0f64..n as f64)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(0)
        .y_labels(0)
        .x_desc(panel.axis.as_str())
        .axis_desc_style(font(AXIS_TITLE, false).color(&INK))
        .axis_style(AXIS)
        .draw()?;
    // On a log axis 0 and 1 sit close together: a label that would touch the previous one is
    // left out (its grid line stays).
    let mut free_from = i32::MIN;
    for tick in scale.ticks() {
        let x = scale.at(tick);
        chart.draw_series(LineSeries::new([(x, 0.0), (x, n as f64)], GRID))?;
        let (px, py) = chart.backend_coord(&(x, 0.0));
        let label = label_number(tick);
        let half = text_width(&label, TICK, false) / 2;
        if px - half < free_from {
            continue;
        }
        free_from = px + half + 12;
        put(
            root,
            fx,
            &label,
            (px, py + 10),
            Txt::new(TICK).at(HPos::Center, VPos::Top),
        )?;
    }
    for (i, (row, stats)) in d.rows.iter().zip(&panel.boxes).enumerate() {
        let y = (n - i) as f64 - 0.5;
        let (_, y_px) = chart.backend_coord(&(x0, y));
        if name_w > 0 {
            let (left, _) = chart.backend_coord(&(x0, 0.0));
            put_lines(
                root,
                fx,
                &two_lines(&row.name, LABEL, false, name_w - 22),
                (left - 14, y_px),
                Txt::new(LABEL).at(HPos::Right, VPos::Center),
            )?;
        }
        match stats {
            Some(b) => draw_box(
                root,
                &mut chart,
                fx,
                scale,
                y,
                series_color(row.color_index),
                b,
            )?,
            None => {
                let (px, _) = chart.backend_coord(&(x0, y));
                put(
                    root,
                    fx,
                    "no purchases",
                    (px + 12, y_px),
                    Txt::new(LABEL).color(MUTED).at(HPos::Left, VPos::Center),
                )?;
            }
        }
    }
    Ok(())
}

type BoxChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn draw_box<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &mut BoxChart<'_, DB>,
    fx: Fx,
    scale: Scale,
    y: f64,
    color: RGBColor,
    b: &BoxStats,
) -> Res {
    let [low, q1, median, q3, high] = [b.low, b.q1, b.median, b.q3, b.high].map(|v| scale.at(v));
    let (half, cap) = (0.27, 0.14);
    let whisker = color.stroke_width(3);
    chart.draw_series([
        PathElement::new([(low, y), (q1, y)], whisker),
        PathElement::new([(q3, y), (high, y)], whisker),
        PathElement::new([(low, y - cap), (low, y + cap)], whisker),
        PathElement::new([(high, y - cap), (high, y + cap)], whisker),
    ])?;
    chart.draw_series([
        Rectangle::new([(q1, y - half), (q3, y + half)], color.mix(0.35).filled()),
        Rectangle::new([(q1, y - half), (q3, y + half)], color.stroke_width(2)),
    ])?;
    chart.draw_series(std::iter::once(PathElement::new(
        [(median, y - half), (median, y + half)],
        INK.stroke_width(4),
    )))?;
    let (px, py) = chart.backend_coord(&(high, y));
    put(
        root,
        fx,
        &label_number(b.median),
        (px + 12, py),
        Txt::new(LABEL).at(HPos::Left, VPos::Center),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_numbers_follow_numpy_percentiles() {
        let b = BoxStats::of((1..=101).map(f64::from).chain([f64::NAN])).unwrap();
        assert_eq!(
            (b.low, b.q1, b.median, b.q3, b.high),
            (6.0, 26.0, 51.0, 76.0, 96.0)
        );
        assert!(BoxStats::of([f64::NAN].into_iter()).is_none());
    }

    #[test]
    fn log_ticks_are_round_numbers_inside_the_range() {
        let scale = Scale {
            log: true,
            lo: 0.0,
            hi: 3000.0,
        };
        assert_eq!(scale.ticks(), [0.0, 1.0, 10.0, 100.0, 1000.0]);
        let refunds = Scale {
            log: true,
            lo: -40.0,
            hi: 60.0,
        };
        assert_eq!(refunds.ticks(), [-10.0, -1.0, 0.0, 1.0, 10.0]);
        assert!((symlog(99.0) - 2.0).abs() < 1e-12 && symlog(-9.0) == -1.0);
        // Refunds down to −3,000 and spend up to 20,000: powers of ten on both sides.
        let wide = Scale {
            log: true,
            lo: -3000.0,
            hi: 20000.0,
        };
        assert_eq!(
            wide.ticks(),
            [-1000.0, -100.0, -10.0, -1.0, 0.0, 1.0, 10.0, 100.0, 1000.0, 10000.0]
        );
    }
}
