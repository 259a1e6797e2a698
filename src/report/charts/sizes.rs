//! Cluster sizes and share of revenue.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{header, house_axes, no_data, H, HEADER_H, MAX_H, PAD, W};
use super::colours::series_color;
use super::error::Res;
use super::render::{render, Figure};
use super::scales::{axis_fmt, share_divisor, usable};
use super::text::{
    put, put_lines, text_width, two_lines, Fx, Txt, AXIS_TITLE, LABEL, PANEL_TITLE, TICK,
};
use crate::format::{grouped, percent};

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

/// Side-by-side: left panel customers per cluster (bars, labelled with count and %), right panel
/// share of revenue (%); the customers alone when the inputs carry no spend.
pub fn sizes_and_revenue(dir: &Path, stem: &str, bars: &[ClusterBar], with_revenue: bool) -> Res {
    render(dir, stem, &SizesFig { bars, with_revenue })
}

struct SizesFig<'a> {
    bars: &'a [ClusterBar],
    with_revenue: bool,
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
                "{} customers in {} groups{}",
                grouped(total),
                bars.len(),
                if self.with_revenue {
                    "; bars in the same order and colour on both sides"
                } else {
                    ""
                }
            )
        };
        let title = if self.with_revenue {
            "Cluster sizes and share of revenue"
        } else {
            "Cluster sizes"
        };
        let body = header(root, fx, title, &subtitle)?;
        if bars.is_empty() {
            return no_data(&body, fx, "No clusters to show");
        }
        let cdiv = share_divisor(bars.iter().map(|b| b.customer_share));
        let rdiv = share_divisor(bars.iter().map(|b| b.revenue_share));

        let (bw, _) = body.dim_in_pixel();
        // Long names wrap onto two lines rather than squeezing the bars.
        let name_w = names_width(bars.iter().map(|b| b.name.as_str()), 300);
        let gap = 70;
        let panels = if self.with_revenue { 2 } else { 1 };
        let plot_w = (bw as i32 - 2 * PAD - name_w - gap * (panels - 1)) / panels;
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
                        grouped(b.customers),
                        percent(b.customer_share / cdiv)
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
                .map(|b| percent(b.revenue_share / rdiv))
                .collect(),
            name_w: 0,
            plot_w,
        };
        let rows: Vec<BarRow> = bars
            .iter()
            .map(|b| BarRow {
                name: b.name.clone(),
                color: series_color(b.color_index),
            })
            .collect();
        bar_panel(root, &left, fx, &rows, &left_panel)?;
        if self.with_revenue {
            bar_panel(root, &right, fx, &rows, &right_panel)?;
        }
        Ok(())
    }
}

pub(super) struct Panel {
    pub title: &'static str,
    pub axis: &'static str,
    pub values: Vec<f64>,
    pub labels: Vec<String>,
    /// Width for names left of the bars; 0 = no names (the right panel shares them).
    pub name_w: i32,
    pub plot_w: i32,
}

/// The width the bar names take left of the bars: the widest, up to `most` pixels (longer names
/// wrap), plus the gap to the axis.
pub(super) fn names_width<'a>(names: impl Iterator<Item = &'a str>, most: i32) -> i32 {
    names
        .map(|name| text_width(name, LABEL, false))
        .max()
        .unwrap_or(0)
        .min(most)
        + 22
}

/// One bar: its name (drawn left of the bars) and colour.
pub(super) struct BarRow {
    pub name: String,
    pub color: RGBColor,
}

/// Horizontal bars, first bar at the top; the value label sits just past each bar's end.
pub(super) fn bar_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    fx: Fx,
    bars: &[BarRow],
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
    house_axes(
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(6)
            .x_label_formatter(&axis_fmt(0.0, xmax, 6))
            .x_desc(p.axis),
        TICK,
        AXIS_TITLE,
    )
    .draw()?;

    for (i, bar) in bars.iter().enumerate() {
        let y_hi = (n - i) as f64 - 0.18;
        let y_lo = (n - i - 1) as f64 + 0.18;
        let v = p.values[i];
        let color = bar.color;
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
