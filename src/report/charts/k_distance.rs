//! DBSCAN k-distance curve with the knee and eps.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{header, house_axes, no_data, H, PAD, W};
use super::colours::{ACCENT, LINE, MUTED};
use super::error::Res;
use super::render::{render, Figure};
use super::scales::{axis_fmt, quantile, usable};
use super::text::{put, text_width, Fx, Txt, AXIS_TITLE, LABEL, TICK};
use crate::format::{grouped, label_number, ordinal};

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
                grouped(pts.len() as u64)
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
        house_axes(
            chart
                .configure_mesh()
                .x_labels(8)
                .y_labels(8)
                .x_label_formatter(&axis_fmt(0.0, x_max, 8))
                .y_label_formatter(&axis_fmt(full_min, y_max, 8))
                .y_label_offset(fx.text_shift(TICK, VPos::Center))
                .x_desc("Points sorted by distance")
                .y_desc(format!("Distance to {kth} nearest neighbour")),
            TICK,
            AXIS_TITLE,
        )
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
                &format!("eps = {}", label_number(e)),
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
                grouped(self.knee as u64 + 1),
                label_number(ky)
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
                    label_number(y_max),
                    label_number(full_max)
                ),
                (left_px + 14, top_px + 10),
                Txt::new(19.0).color(MUTED).at(HPos::Left, VPos::Top),
            )?;
        }
        Ok(())
    }
}
