//! The flow of customers between two runs: the previous run's segments stacked on the left, the
//! current run's on the right, and between them ribbons as wide as the customers who went from
//! one to the other (an alluvial chart).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{header, no_data, rect, H, HEADER_H, MAX_H, PAD, W};
use super::colours::{cluster_color, AXIS, MUTED, OUTLIER_COLOR};
use super::error::Res;
use super::render::{render, Figure};
use super::text::{ellipsize, put, text_width, two_lines, Fx, Txt, LABEL, PANEL_TITLE, TICK};
use crate::format::grouped;

/// A segment block of a [`Flow`]; its height is the customers of its links.
#[derive(Debug, Clone)]
pub struct FlowNode {
    pub label: String,
    /// A second, muted line under the label ("continues Cluster 2").
    pub note: String,
    pub color: FlowColor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowColor {
    /// `cluster_color(i)`: the current cluster, or the current cluster a previous one continues
    /// in, so a segment that held keeps one colour across the chart.
    Cluster(usize),
    /// `OUTLIER_COLOR`: DBSCAN noise.
    Outliers,
    /// A previous segment no current one continues.
    Unmatched,
    /// New and lost customers.
    Neutral,
}

/// `customers` went from `left[from]` to `right[to]`; `stayed` = into the segment that
/// continues theirs (drawn more solid).
#[derive(Debug, Clone)]
pub struct FlowLink {
    pub from: usize,
    pub to: usize,
    pub customers: u64,
    pub stayed: bool,
}

#[derive(Debug, Clone)]
pub struct Flow {
    pub title: String,
    pub subtitle: String,
    pub left_title: String,
    pub right_title: String,
    pub left: Vec<FlowNode>,
    pub right: Vec<FlowNode>,
    pub links: Vec<FlowLink>,
}

pub fn flow(dir: &Path, stem: &str, flow: &Flow) -> Res {
    render(dir, stem, &FlowFig::new(flow))
}

const UNMATCHED: RGBColor = RGBColor(112, 122, 138);
const NEUTRAL: RGBColor = RGBColor(196, 196, 196);
const BAR_W: i32 = 34;
/// Largest gap between two blocks of one side.
const NODE_GAP: f64 = 16.0;
/// Space above the blocks for the column titles.
const COLUMN_TITLE_H: i32 = 58;
const MAX_LABEL_W: i32 = 400;

fn flow_color(c: FlowColor) -> RGBColor {
    match c {
        FlowColor::Cluster(i) => cluster_color(i),
        FlowColor::Outliers => OUTLIER_COLOR,
        FlowColor::Unmatched => UNMATCHED,
        FlowColor::Neutral => NEUTRAL,
    }
}

struct FlowFig<'a> {
    flow: &'a Flow,
    /// Customers per block, from the links (so both sides always add up alike).
    left_sizes: Vec<u64>,
    right_sizes: Vec<u64>,
    label_w: i32,
}

impl<'a> FlowFig<'a> {
    fn new(flow: &'a Flow) -> Self {
        let mut left_sizes = vec![0u64; flow.left.len()];
        let mut right_sizes = vec![0u64; flow.right.len()];
        for link in &flow.links {
            // Links to blocks that do not exist are ignored rather than indexed blindly.
            if link.from < left_sizes.len() && link.to < right_sizes.len() {
                left_sizes[link.from] = left_sizes[link.from].saturating_add(link.customers);
                right_sizes[link.to] = right_sizes[link.to].saturating_add(link.customers);
            }
        }
        let sizes = left_sizes.iter().chain(&right_sizes);
        let label_w = flow
            .left
            .iter()
            .chain(&flow.right)
            .zip(sizes)
            .map(|(n, &size)| {
                text_width(&n.label, LABEL, true).max(text_width(&note_line(n, size), TICK, false))
            })
            .max()
            .unwrap_or(0)
            .clamp(120, MAX_LABEL_W);
        FlowFig {
            flow,
            left_sizes,
            right_sizes,
            label_w,
        }
    }

    fn visible(sizes: &[u64]) -> usize {
        sizes.iter().filter(|s| **s > 0).count()
    }
}

/// One side's blocks with what their labels need; `x` is the labels' anchor.
#[derive(Clone, Copy)]
struct Side<'a> {
    blocks: &'a [Option<Block>],
    nodes: &'a [FlowNode],
    sizes: &'a [u64],
    x: i32,
    on_left: bool,
}

/// One block's place: its pixel rows and where its label sits.
#[derive(Clone, Copy)]
struct Block {
    y0: f64,
    y1: f64,
}

/// Blocks of one side stacked from `top`, centred in `avail`; blocks without customers get no
/// room and no gap.
fn stack(sizes: &[u64], scale: f64, gap: f64, top: f64, avail: f64) -> Vec<Option<Block>> {
    let shown = sizes.iter().filter(|s| **s > 0).count();
    let used: f64 =
        sizes.iter().map(|s| *s as f64 * scale).sum::<f64>() + gap * shown.saturating_sub(1) as f64;
    let mut y = top + ((avail - used) / 2.0).max(0.0);
    sizes
        .iter()
        .map(|&s| {
            if s == 0 {
                return None;
            }
            let block = Block {
                y0: y,
                y1: y + s as f64 * scale,
            };
            y = block.y1 + gap;
            Some(block)
        })
        .collect()
}

/// Label centres as near their blocks as possible without overlapping (each `heights[i]` tall)
/// and inside [top, bottom].
fn spread_labels(centres: &[f64], heights: &[f64], top: f64, bottom: f64) -> Vec<f64> {
    let mut ys: Vec<f64> = centres.to_vec();
    for i in 0..ys.len() {
        let floor = if i == 0 {
            top + heights[0] / 2.0
        } else {
            ys[i - 1] + (heights[i - 1] + heights[i]) / 2.0
        };
        ys[i] = ys[i].max(floor);
    }
    for i in (0..ys.len()).rev() {
        let ceiling = if i + 1 == ys.len() {
            bottom - heights[i] / 2.0
        } else {
            ys[i + 1] - (heights[i] + heights[i + 1]) / 2.0
        };
        ys[i] = ys[i].min(ceiling);
    }
    ys
}

/// The muted line under a block's name: its customers and its note.
fn note_line(node: &FlowNode, customers: u64) -> String {
    let count = format!("{} customers", grouped(customers));
    if node.note.is_empty() {
        count
    } else {
        format!("{count} · {}", node.note)
    }
}

/// smoothstep: ribbons leave and enter their blocks horizontally.
fn ease(t: f64) -> f64 {
    t * t * (3.0 - 2.0 * t)
}

impl Figure for FlowFig<'_> {
    fn size(&self) -> (u32, u32) {
        let n = Self::visible(&self.left_sizes).max(Self::visible(&self.right_sizes)) as i32;
        let height = (HEADER_H + COLUMN_TITLE_H + 40 + 74 * n.min(1000)).clamp(H as i32, MAX_H);
        (W, height as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, fx: Fx) -> Res {
        let f = self.flow;
        let body = header(root, fx, &f.title, &f.subtitle)?;
        let total: u64 = self.left_sizes.iter().sum();
        if total == 0 {
            return no_data(&body, fx, "No customers in either run");
        }
        let (width, height) = root.dim_in_pixel();
        let (width, height) = (width as i32, height as i32);
        let top = (HEADER_H + COLUMN_TITLE_H) as f64;
        let avail = (height - 36) as f64 - top;
        let xl0 = PAD + self.label_w + 18;
        let xl1 = xl0 + BAR_W;
        let xr1 = width - PAD - self.label_w - 18;
        let xr0 = xr1 - BAR_W;

        let n = Self::visible(&self.left_sizes).max(Self::visible(&self.right_sizes));
        let gap = if n > 1 {
            NODE_GAP.min(avail * 0.3 / (n - 1) as f64)
        } else {
            0.0
        };
        // One scale for both sides, so a ribbon is equally wide at both ends.
        let scale = [&self.left_sizes, &self.right_sizes]
            .iter()
            .map(|sizes| {
                let gaps = gap * Self::visible(sizes).saturating_sub(1) as f64;
                (avail - gaps).max(1.0) / total as f64
            })
            .fold(f64::INFINITY, f64::min);
        let left = stack(&self.left_sizes, scale, gap, top, avail);
        let right = stack(&self.right_sizes, scale, gap, top, avail);

        put(
            root,
            fx,
            &f.left_title,
            (xl1, HEADER_H + 6),
            Txt::new(PANEL_TITLE).bold().at(HPos::Right, VPos::Top),
        )?;
        put(
            root,
            fx,
            &f.right_title,
            (xr0, HEADER_H + 6),
            Txt::new(PANEL_TITLE).bold(),
        )?;
        self.draw_ribbons(root, &left, &right, (xl1, xr0), scale)?;
        for (blocks, nodes, x0) in [(&left, &f.left, xl0), (&right, &f.right, xr0)] {
            for (block, node) in blocks.iter().zip(nodes.iter()) {
                if let Some(b) = block {
                    // A block of a handful of customers stays visible.
                    let y1 = (b.y1.round() as i32).max(b.y0.round() as i32 + 3);
                    rect(
                        root,
                        (x0, b.y0.round() as i32),
                        (x0 + BAR_W, y1),
                        flow_color(node.color),
                    )?;
                }
            }
        }
        let left_side = Side {
            blocks: &left,
            nodes: &f.left,
            sizes: &self.left_sizes,
            x: xl0 - 12,
            on_left: true,
        };
        let right_side = Side {
            blocks: &right,
            nodes: &f.right,
            sizes: &self.right_sizes,
            x: xr1 + 12,
            on_left: false,
        };
        self.draw_labels(root, fx, &left_side, top)?;
        self.draw_labels(root, fx, &right_side, top)
    }
}

impl FlowFig<'_> {
    /// Each link as a band from its source block to its target block; within a block, outgoing
    /// bands follow the order of the targets and incoming ones the order of the sources, so
    /// bands cross as little as the two orders allow.
    fn draw_ribbons<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        left: &[Option<Block>],
        right: &[Option<Block>],
        (x0, x1): (i32, i32),
        scale: f64,
    ) -> Res {
        let links: Vec<&FlowLink> = self
            .flow
            .links
            .iter()
            .filter(|l| l.customers > 0 && l.from < left.len() && l.to < right.len())
            .collect();
        let height = |k: usize| links[k].customers as f64 * scale;
        let mut order: Vec<usize> = (0..links.len()).collect();
        let mut start = vec![0.0; links.len()];
        let mut cursor: Vec<f64> = left.iter().map(|b| b.map_or(0.0, |b| b.y0)).collect();
        order.sort_by_key(|&k| (links[k].from, links[k].to));
        for &k in &order {
            start[k] = cursor[links[k].from];
            cursor[links[k].from] += height(k);
        }
        let mut end = vec![0.0; links.len()];
        let mut cursor: Vec<f64> = right.iter().map(|b| b.map_or(0.0, |b| b.y0)).collect();
        order.sort_by_key(|&k| (links[k].to, links[k].from));
        for &k in &order {
            end[k] = cursor[links[k].to];
            cursor[links[k].to] += height(k);
        }
        // Faint bands first, so the solid "stayed" bands lie on top.
        order.sort_by_key(|&k| links[k].stayed);
        const STEPS: usize = 40;
        for k in order {
            let (l, a0, b0) = (links[k], start[k], end[k]);
            let h = height(k);
            let at = |i: usize, y_left: f64, y_right: f64| {
                let t = i as f64 / STEPS as f64;
                let x = x0 as f64 + (x1 - x0) as f64 * t;
                let y = y_left + (y_right - y_left) * ease(t);
                (x.round() as i32, y.round() as i32)
            };
            let mut points: Vec<(i32, i32)> = (0..=STEPS).map(|i| at(i, a0, b0)).collect();
            points.extend(
                (0..=STEPS)
                    .rev()
                    .map(|i| at(i, a0 + h.max(1.0), b0 + h.max(1.0))),
            );
            let color = flow_color(self.flow.left[l.from].color);
            let alpha = if l.stayed { 0.62 } else { 0.3 };
            root.draw(&Polygon::new(points, color.mix(alpha).filled()))?;
        }
        Ok(())
    }

    /// Labels beside the blocks (right-aligned on the left side), pushed apart where blocks are
    /// too thin to hold them, with a short leader line back to a displaced label's block.
    fn draw_labels<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        fx: Fx,
        side: &Side,
        top: f64,
    ) -> Res {
        let Side {
            blocks,
            nodes,
            sizes,
            x,
            on_left,
        } = *side;
        let shown: Vec<usize> = (0..blocks.len().min(nodes.len()))
            .filter(|&i| blocks[i].is_some())
            .collect();
        let line = LABEL * 1.2;
        let texts: Vec<(Vec<String>, String)> = shown
            .iter()
            .map(|&i| {
                let name = two_lines(&nodes[i].label, LABEL, true, self.label_w);
                let note = note_line(&nodes[i], sizes[i]);
                (name, ellipsize(&note, TICK, false, self.label_w))
            })
            .collect();
        let heights: Vec<f64> = texts
            .iter()
            .map(|(name, _)| (name.len() as f64 + 1.0) * line + 6.0)
            .collect();
        let centres: Vec<f64> = shown
            .iter()
            .filter_map(|&i| blocks[i].map(|b| (b.y0 + b.y1) / 2.0))
            .collect();
        let (_, height) = root.dim_in_pixel();
        let ys = spread_labels(&centres, &heights, top, height as f64 - 12.0);
        let h = if on_left { HPos::Right } else { HPos::Left };
        for (k, (name, note)) in texts.iter().enumerate() {
            let lines = name.len() as f64 + 1.0;
            let first = ys[k] - (lines - 1.0) * line / 2.0;
            for (j, text) in name.iter().enumerate() {
                put(
                    root,
                    fx,
                    text,
                    (x, (first + j as f64 * line).round() as i32),
                    Txt::new(LABEL).bold().at(h, VPos::Center),
                )?;
            }
            put(
                root,
                fx,
                note,
                (x, (first + name.len() as f64 * line).round() as i32),
                Txt::new(TICK).color(MUTED).at(h, VPos::Center),
            )?;
            if (ys[k] - centres[k]).abs() > 6.0 {
                let (from, to) = if on_left {
                    (x + 2, x + 10)
                } else {
                    (x - 2, x - 10)
                };
                root.draw(&PathElement::new(
                    vec![
                        (from, ys[k].round() as i32),
                        (to, centres[k].round() as i32),
                    ],
                    AXIS.stroke_width(2),
                ))?;
            }
        }
        Ok(())
    }
}
