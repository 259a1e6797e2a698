//! What separates the segments: each clustered feature's variance explained by the segments.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{header, no_data, H, HEADER_H, MAX_H, PAD, W};
use super::colours::cluster_color;
use super::error::Res;
use super::render::{render, Figure};
use super::sizes::{bar_panel, names_width, BarRow, Panel};
use super::text::Fx;
use crate::format::whole_percent;

/// One clustered feature: its name in words, its group (colours the bar) and R² (0–1).
#[derive(Debug, Clone)]
pub struct DriverBar {
    pub name: String,
    pub group: String,
    pub r2: f64,
}

/// Horizontal bars of R² (%), largest first, coloured by feature group.
pub fn drivers(dir: &Path, stem: &str, bars: &[DriverBar]) -> Res {
    render(dir, stem, &DriversFig { bars })
}

struct DriversFig<'a> {
    bars: &'a [DriverBar],
}

impl Figure for DriversFig<'_> {
    fn size(&self) -> (u32, u32) {
        let n = self.bars.len().min(1000) as i32;
        (W, (H as i32).max(HEADER_H + 230 + 52 * n).min(MAX_H) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, fx: Fx) -> Res {
        let body = header(
            root,
            fx,
            "What separates the segments",
            "Share of each clustered feature's variance that the k-means segments explain (R²); near 0 = the feature separates nothing",
        )?;
        if self.bars.is_empty() {
            return no_data(&body, fx, "No features to show");
        }
        let mut groups: Vec<&str> = self.bars.iter().map(|b| b.group.as_str()).collect();
        groups.sort_unstable();
        groups.dedup();
        let rows: Vec<BarRow> = self
            .bars
            .iter()
            .map(|b| BarRow {
                name: format!("{} · {}", b.name, b.group),
                color: cluster_color(groups.iter().position(|g| *g == b.group).unwrap_or(0)),
            })
            .collect();
        let (bw, _) = body.dim_in_pixel();
        let name_w = names_width(rows.iter().map(|r| r.name.as_str()), 420);
        let content = body.margin(0, 30, PAD, PAD);
        let panel = Panel {
            title: "Variance explained by the segments",
            axis: "R² (%)",
            values: self
                .bars
                .iter()
                .map(|b| 100.0 * b.r2.clamp(0.0, 1.0))
                .collect(),
            labels: self.bars.iter().map(|b| whole_percent(b.r2)).collect(),
            name_w,
            plot_w: bw as i32 - 2 * PAD - name_w,
        };
        bar_panel(root, &content, fx, &rows, &panel)
    }
}
