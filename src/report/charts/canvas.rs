//! The canvas: its default size and padding, the title block every chart starts with, the
//! message of a chart without data, filled rectangles and the axes' house style.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};

use super::colours::{AXIS, GRID, INK, MUTED};
use super::error::{ChartError, Res};
use super::text::{ellipsize, font, put, Fx, Txt, SUBTITLE, TITLE};

pub(super) const PAD: i32 = 48;
pub(super) const W: u32 = 1600;
pub(super) const H: u32 = 1000;
/// Canvases grow with the data (many clusters, many columns) but never beyond this height, so
/// absurd inputs cannot allocate gigabytes for the bitmap.
pub(super) const MAX_H: i32 = 6000;

/// Title (bold) and optional subtitle at the top left; returns the area below them.
pub(super) fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fx: Fx,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, ChartError> {
    let max_w = root.dim_in_pixel().0 as i32 - 2 * PAD;
    put(
        root,
        fx,
        &ellipsize(title, TITLE, true, max_w),
        (PAD, 28),
        Txt::new(TITLE).bold(),
    )?;
    put(
        root,
        fx,
        &ellipsize(subtitle, SUBTITLE, false, max_w),
        (PAD, 82),
        Txt::new(SUBTITLE).color(MUTED),
    )?;
    Ok(root.split_vertically(HEADER_H).1)
}

pub(super) const HEADER_H: i32 = 128;

pub(super) fn no_data<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, fx: Fx, msg: &str) -> Res {
    let (w, h) = area.dim_in_pixel();
    put(
        area,
        fx,
        msg,
        (w as i32 / 2, h as i32 / 2),
        Txt::new(30.0).color(MUTED).at(HPos::Center, VPos::Center),
    )
}

pub(super) fn rect<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
    color: RGBColor,
) -> Res {
    area.draw(&Rectangle::new([(x0, y0), (x1, y1)], color.filled()))?;
    Ok(())
}

/// The axes every cartesian chart shares: tick labels and axis titles in ink at the given sizes,
/// grid lines at the labelled ticks only, grey axis lines.
pub(super) fn house_axes<'m, 'a, 'b, X, Y, XT, YT, DB>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
    tick: f64,
    axis_title: f64,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged<ValueType = XT> + ValueFormatter<XT>,
    Y: Ranged<ValueType = YT> + ValueFormatter<YT>,
    DB: DrawingBackend,
{
    mesh.label_style(font(tick, false).color(&INK))
        .axis_desc_style(font(axis_title, false).color(&INK))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS)
}
