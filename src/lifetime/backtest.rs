//! The model against what happened after as-of, when the inputs go on past it: predicted and
//! actual cumulative repeat purchases week by week (the paper's tracking chart, Figure 3, for the
//! calibration customers), and the mean purchases per calibration frequency (its Figure 4).

use serde::{Deserialize, Serialize};

use super::bgnbd::BgNbd;
use super::history::{transaction_days, Histories};
use super::summary::Summary;
use crate::features::OrderDay;

/// Days in a tracking period.
pub const PERIOD_DAYS: u32 = 7;
/// Figure 4 groups calibration frequencies 0 to this, then this + 1 and more.
const LAST_SINGLE_FREQUENCY: u32 = 6;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Backtest {
    /// Days after as-of with data: the input's last day − as-of + 1.
    pub holdout_days: u32,
    /// Each period's last day after as-of (7, 14, …; the last may be shorter).
    pub periods: Vec<u32>,
    /// Cumulative repeat purchases of the modelled customers to each period's end.
    pub predicted: Vec<f64>,
    pub actual: Vec<f64>,
    pub by_frequency: Vec<FrequencyRow>,
}

/// Customers with one calibration frequency: their mean purchases over the whole holdout.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FrequencyRow {
    pub frequency: String,
    pub customers: usize,
    pub actual: f64,
    pub predicted: f64,
}

impl Backtest {
    /// (predicted − actual) / actual at the holdout's end; None when nothing was bought.
    pub fn final_error(&self) -> Option<f64> {
        let (p, a) = (*self.predicted.last()?, *self.actual.last()?);
        (a > 0.0).then(|| (p - a) / a)
    }

    /// The mean of |predicted − actual| / actual over the periods with purchases.
    pub fn mean_absolute_percentage_error(&self) -> Option<f64> {
        let errors: Vec<f64> = self
            .predicted
            .iter()
            .zip(&self.actual)
            .filter(|(_, a)| **a > 0.0)
            .map(|(p, a)| (p - a).abs() / a)
            .collect();
        (!errors.is_empty()).then(|| errors.iter().sum::<f64>() / errors.len() as f64)
    }
}

/// The backtest of `model` fitted on `histories` (`summary` their distinct (x, tₓ, T) in
/// `unit_days`), against the orders on and after as-of up to `last_day`; None without such
/// orders.
pub fn run(
    model: &BgNbd,
    histories: &Histories,
    summary: &Summary,
    unit_days: f64,
    after: &[OrderDay],
    last_day: i32,
) -> Option<Backtest> {
    use rayon::prelude::*;
    let as_of = histories.window_end + 1;
    let holdout_days = u32::try_from(last_day - as_of + 1)
        .ok()
        .filter(|&d| d > 0)?;
    let periods: Vec<u32> = (1..=holdout_days.div_ceil(PERIOD_DAYS))
        .map(|k| (k * PERIOD_DAYS).min(holdout_days))
        .collect();
    let customers = histories.first_day.len();
    let mut per_customer = vec![0u32; customers];
    let mut per_period = vec![0.0; periods.len()];
    for (customer, day, _) in transaction_days(after) {
        let c = customer as usize;
        if histories.first_day[c].is_none() {
            continue; // A customer new after as-of is not one the model predicts.
        }
        per_customer[c] += 1;
        per_period[((day - as_of) as u32 / PERIOD_DAYS) as usize] += 1.0;
    }
    let actual = cumulative(&per_period);
    let predicted = periods
        .par_iter()
        .map(|&end| {
            let h = f64::from(end) / unit_days;
            summary
                .histories
                .iter()
                .map(|s| s.weight * model.expected_purchases(h, s.x, s.t_x, s.t).unwrap_or(0.0))
                .sum()
        })
        .collect();
    let by_frequency = by_frequency(model, histories, unit_days, &per_customer, holdout_days);
    Some(Backtest {
        holdout_days,
        periods,
        predicted,
        actual,
        by_frequency,
    })
}

fn cumulative(values: &[f64]) -> Vec<f64> {
    values
        .iter()
        .scan(0.0, |sum, v| {
            *sum += v;
            Some(*sum)
        })
        .collect()
}

fn by_frequency(
    model: &BgNbd,
    histories: &Histories,
    unit_days: f64,
    actual: &[u32],
    holdout_days: u32,
) -> Vec<FrequencyRow> {
    let groups = LAST_SINGLE_FREQUENCY as usize + 2;
    let mut customers = vec![0usize; groups];
    let mut actual_sum = vec![0.0; groups];
    let mut predicted_sum = vec![0.0; groups];
    let h = f64::from(holdout_days) / unit_days;
    for (i, bought) in actual.iter().enumerate() {
        let Some((x, t_x, t)) = histories.in_units(i, unit_days) else {
            continue;
        };
        let g = (x as usize).min(groups - 1);
        customers[g] += 1;
        actual_sum[g] += f64::from(*bought);
        predicted_sum[g] += model.expected_purchases(h, x, t_x, t).unwrap_or(0.0);
    }
    (0..groups)
        .filter(|&g| customers[g] > 0)
        .map(|g| FrequencyRow {
            frequency: if g == groups - 1 {
                format!("{}+", g)
            } else {
                g.to_string()
            },
            customers: customers[g],
            actual: actual_sum[g] / customers[g] as f64,
            predicted: predicted_sum[g] / customers[g] as f64,
        })
        .collect()
}
