//! A model against the data: a solid line of what happened and a dashed line of what the model
//! predicted, over the same x — the lifetime backtest's tracking chart and its purchases per
//! calibration frequency.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{header, house_axes, no_data, H, PAD, W};
use super::colours::{ACCENT, INK, LINE};
use super::error::Res;
use super::render::{render, Figure};
use super::scales::{axis_fmt, usable};
use super::text::{put, Fx, Txt, AXIS_TITLE, LABEL, TICK};

#[derive(Debug, Clone)]
pub struct ActualVsPredicted {
    pub title: String,
    pub subtitle: String,
    pub x_axis: String,
    pub y_axis: String,
    /// x of every point; `x_labels` names them when given (e.g. "7+"), else numbers are shown.
    pub x: Vec<f64>,
    pub x_labels: Option<Vec<String>>,
    pub actual: Vec<f64>,
    pub predicted: Vec<f64>,
    pub actual_name: String,
    pub predicted_name: String,
}

pub fn actual_vs_predicted(dir: &Path, stem: &str, chart: &ActualVsPredicted) -> Res {
    render(dir, stem, chart)
}

impl Figure for ActualVsPredicted {
    fn size(&self) -> (u32, u32) {
        (W, H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, fx: Fx) -> Res {
        let body = header(root, fx, &self.title, &self.subtitle)?;
        let points = |ys: &[f64]| -> Vec<(f64, f64)> {
            self.x
                .iter()
                .zip(ys)
                .filter(|(x, y)| usable(**x) && usable(**y))
                .map(|(x, y)| (*x, *y))
                .collect()
        };
        let (actual, predicted) = (points(&self.actual), points(&self.predicted));
        if actual.is_empty() && predicted.is_empty() {
            return no_data(&body, fx, "Nothing to compare");
        }
        let all = actual.iter().chain(&predicted);
        let x_min = all.clone().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let x_max = all.clone().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        let y_max = all.map(|p| p.1).fold(0.0, f64::max).max(1e-9) * 1.1;
        let (x_lo, x_hi) = if x_max > x_min {
            (x_min, x_max)
        } else {
            (x_min - 1.0, x_max + 1.0)
        };
        let plot = body.margin(0, 24, PAD - 16, PAD);
        let mut chart = ChartBuilder::on(&plot)
            .margin(16)
            .x_label_area_size(88)
            .y_label_area_size(110)
            .build_cartesian_2d(x_lo..x_hi, 0.0..y_max)?;
        let numbers = axis_fmt(x_lo, x_hi, 10);
        let labels = self.x_labels.clone();
        let xs = self.x.clone();
        let x_formatter = move |v: &f64| match &labels {
            Some(names) => xs
                .iter()
                .position(|x| (x - v).abs() < 1e-9)
                .map(|i| names[i].clone())
                .unwrap_or_default(),
            None => numbers(v),
        };
        house_axes(
            chart
                .configure_mesh()
                .x_labels(if self.x_labels.is_some() {
                    self.x.len()
                } else {
                    10
                })
                .y_labels(8)
                .x_label_formatter(&x_formatter)
                .y_label_formatter(&axis_fmt(0.0, y_max, 8))
                .y_label_offset(fx.text_shift(TICK, VPos::Center))
                .x_desc(self.x_axis.as_str())
                .y_desc(self.y_axis.as_str()),
            TICK,
            AXIS_TITLE,
        )
        .draw()?;
        chart.draw_series(LineSeries::new(actual.clone(), LINE.stroke_width(4)))?;
        chart.draw_series(actual.iter().map(|&p| Circle::new(p, 5, LINE.filled())))?;
        chart.draw_series(DashedLineSeries::new(
            predicted.clone(),
            16,
            10,
            ACCENT.stroke_width(4),
        ))?;
        chart.draw_series(
            predicted
                .iter()
                .map(|&p| Circle::new(p, 5, ACCENT.stroke_width(2))),
        )?;
        let (left, top) = chart.backend_coord(&(x_lo, y_max));
        for (i, (name, color)) in [(&self.actual_name, LINE), (&self.predicted_name, ACCENT)]
            .into_iter()
            .enumerate()
        {
            let y = top + 18 + 38 * i as i32;
            root.draw(&PathElement::new(
                vec![(left + 20, y), (left + 80, y)],
                color.stroke_width(4),
            ))?;
            put(
                root,
                fx,
                name,
                (left + 92, y),
                Txt::new(LABEL).color(INK).at(HPos::Left, VPos::Center),
            )?;
        }
        Ok(())
    }
}
