//! The PCA scatter of customers coloured by cluster.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{header, house_axes, no_data, H, HEADER_H, PAD, W};
use super::colours::{series_color, MUTED};
use super::error::Res;
use super::render::{render, Figure};
use super::scales::{axis_fmt, quantile, share_divisor, usable};
use super::text::{lines_up_to, put, put_lines, wrap, Fx, Txt, AXIS_TITLE, LABEL, TICK};
use crate::format::{grouped, percent};

/// One cluster's points in [`pca_scatter`].
#[derive(Debug, Clone)]
pub struct ScatterSeries {
    pub name: String,
    /// `None` draws the points in grey (DBSCAN noise / outliers).
    pub color_index: Option<usize>,
    pub points: Vec<(f64, f64)>,
}

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
                grouped(shown as u64),
                percent(e1 + e2)
            )
        } else {
            format!("{} customers, coloured by cluster", grouped(shown as u64))
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
                format!("{pc} ({} of variance)", percent(e))
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
        house_axes(
            chart
                .configure_mesh()
                .x_labels(12)
                .y_labels(10)
                .x_label_formatter(&axis_fmt(x0, x1, 12))
                .y_label_formatter(&axis_fmt(y0, y1, 10))
                .y_label_offset(fx.text_shift(TICK, VPos::Center))
                .x_desc(x_desc)
                .y_desc(y_desc),
            TICK,
            AXIS_TITLE,
        )
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
            let lines = lines_up_to(&s.name, LABEL, false, LEGEND_W - 70, 3);
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
                grouped(hidden as u64),
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
