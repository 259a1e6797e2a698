//! The classic R×F grid with counts, shares and group outlines.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{header, rect, H, HEADER_H, PAD, W};
use super::colours::{group_colors, BORDER, MISSING, MUTED};
use super::error::Res;
use super::render::{render, Figure};
use super::text::{ellipsize, put, text_width, wrap, Fx, Txt, AXIS_TITLE, LABEL};
use crate::format::{grouped, percent, short_count, signed_percent};

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
    /// All customers, buyers or not: shares are of this many when given, so they match the
    /// rule tables; otherwise of the customers in the grid.
    pub all_customers: Option<u64>,
}

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
    /// The denominator of customer shares.
    total: u64,
    /// Customers with an R and an F score.
    in_grid: u64,
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
    /// Counts too wide for the cells are written short ("1.23 M"), see [`short_count`].
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
            in_grid: 0,
            total_revenue: None,
        };
        let cells = fig.cells();
        fig.in_grid = cells
            .iter()
            .fold(0u64, |a, &(r, f)| a.saturating_add(fig.count(r, f)));
        fig.total = grid.all_customers.unwrap_or(fig.in_grid).max(fig.in_grid);
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
            percent(n as f64 / self.total as f64)
        }
    }

    /// "–" when the total is not positive or the cell's revenue is not a number.
    fn revenue_share(&self, v: f64) -> String {
        match self.total_revenue {
            Some(total) if v.is_finite() => signed_percent(v / total),
            _ => "–".to_string(),
        }
    }

    fn count_text(&self, n: u64, style: &CellStyle) -> String {
        if style.compact_counts {
            short_count(n)
        } else {
            grouped(n)
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
                        short_count(n)
                    } else {
                        grouped(n)
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
            .all(|&(r, f)| text_width(&grouped(self.count(r, f)), full, true) <= inner);
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
        let customers = if self.in_grid < self.total {
            format!(
                "{} of {} customers (those who bought)",
                grouped(self.in_grid),
                grouped(self.total)
            )
        } else {
            format!("{} customers", grouped(self.total))
        };
        let subtitle = format!(
            "{customers} by recency (R) and frequency (F) score, {n} = best, 1 = worst{map}"
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
                    grouped(n),
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
