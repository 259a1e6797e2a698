//! Axes and scales: tick steps and tick labels, round steps, shares given as fractions or
//! percent, plottable values and quantiles.

use crate::format::label_number;

/// The step plotters will use for at most `max_points` ticks on [lo, hi]: the smallest
/// 1, 2 or 5 × 10^m that yields few enough ticks.
pub(super) fn tick_step(lo: f64, hi: f64, max_points: usize) -> f64 {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let m0 = span.log10().floor() as i32 - 4;
    for m in m0..m0 + 8 {
        for f in [1.0, 2.0, 5.0] {
            let s = f * 10f64.powi(m);
            let count = (hi / s).floor() - (lo / s).ceil() + 1.0;
            if count <= max_points as f64 {
                return s;
            }
        }
    }
    span
}

/// Tick labels with the same number of decimals on the whole axis ("0.30", not "0.3").
pub(super) fn axis_fmt(lo: f64, hi: f64, max_points: usize) -> impl Fn(&f64) -> String {
    let step = tick_step(lo, hi, max_points);
    let dec = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()).clamp(0.0, 9.0) as usize
    };
    move |v: &f64| {
        if dec == 0 || v.abs() >= 1000.0 {
            label_number(*v)
        } else if v.abs() < step * 1e-6 {
            format!("{:.dec$}", 0.0)
        } else {
            format!("{:.dec$}", v).replace('-', "−")
        }
    }
}

/// 100 if the values look like percentages (any above 1), else 1: shares may come either way.
pub(super) fn share_divisor(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.filter(|v| v.is_finite()).fold(0.0_f64, f64::max);
    if max > 1.0 + 1e-9 {
        100.0
    } else {
        1.0
    }
}

/// A round step (1, 2, 2.5 or 5 × 10^n) near `raw`.
pub(super) fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// A value that can be plotted. Besides NaN and ±∞ this rejects absurd magnitudes, whose
/// differences overflow and would give plotters an infinite axis range.
pub(super) fn usable(v: f64) -> bool {
    v.is_finite() && v.abs() < 1e100
}

pub(super) fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let i = pos.floor() as usize;
    let j = (i + 1).min(sorted.len() - 1);
    sorted[i] + (sorted[j] - sorted[i]) * (pos - i as f64)
}
