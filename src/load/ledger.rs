//! The ledger of what the loaded inputs hold, counted straight from the tables before any
//! aggregation: how many customers, and the net revenue in millionths. Every run's checks
//! (`pipeline::invariants`) hold the feature table and the report to it.

use chrono::NaiveDate;
use polars::prelude::*;

use super::{Inputs, MICROS};
use crate::error::{Error, PolarsContext, Result};

/// Half a cent in millionths: two sums of the same money agree "to the cent" within it.
pub const HALF_CENT: i128 = 5_000;

/// What the inputs hold, counted straight from the loaded tables before any aggregation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Expected {
    /// Distinct customer ids over every table (after sentinel and blank ids were dropped).
    pub customers: usize,
    /// Net revenue in millionths: the transaction lines dated before the as-of date or, for a
    /// pre-aggregated customers table, its spend column.
    pub revenue_micros: i128,
    /// Where the revenue was summed from, for the message and run.log.
    pub revenue_source: String,
}

impl Expected {
    /// Counts the inputs; an index outside the id list or an id no row refers to is an error.
    pub fn of_inputs(inputs: &Inputs, as_of: NaiveDate) -> Result<Expected> {
        let customers = inputs.customer_ids.len();
        check_every_id_is_referenced(inputs)?;
        let (revenue_micros, revenue_source) = match (&inputs.transactions, &inputs.customers) {
            (Some(tx), _) => (
                window_revenue(&tx.frame, as_of)?,
                format!("transaction lines dated before {as_of}"),
            ),
            (None, Some(table)) if table.frame.column("monetary").is_ok() => (
                column_micros(&table.frame, "monetary")?,
                "the customers table's spend column".to_string(),
            ),
            _ => (0, "no purchases in the inputs".to_string()),
        };
        Ok(Expected {
            customers,
            revenue_micros,
            revenue_source,
        })
    }
}

fn failed(message: String) -> Error {
    Error::Inconsistent(message)
}

/// Every customer index any table uses lies inside the id list, and every id is used by a row.
fn check_every_id_is_referenced(inputs: &Inputs) -> Result<()> {
    let n = inputs.customer_ids.len();
    let mut seen = vec![false; n];
    let frames = [
        inputs.transactions.as_ref().map(|t| &t.frame),
        inputs.customers.as_ref().map(|c| &c.frame),
        inputs.campaigns.as_ref(),
        inputs.events.as_ref(),
    ];
    for frame in frames.into_iter().flatten() {
        let column = frame
            .column("customer")
            .context("customer index")?
            .u32()
            .context("customer index")?;
        for index in column.iter() {
            let Some(index) = index else {
                return Err(failed("a loaded row has no customer".into()));
            };
            match seen.get_mut(index as usize) {
                Some(flag) => *flag = true,
                None => {
                    return Err(failed(format!(
                        "a loaded row refers to customer number {index} of {n}"
                    )))
                }
            }
        }
    }
    if let Some(unused) = seen.iter().position(|s| !s) {
        return Err(failed(format!(
            "customer '{}' is listed but no row of the inputs refers to it",
            inputs.customer_ids[unused]
        )));
    }
    Ok(())
}

/// The sum of the line amounts (millionths) dated before the as-of date, exactly.
fn window_revenue(lines: &DataFrame, as_of: NaiveDate) -> Result<i128> {
    let as_of_millis = as_of
        .and_hms_opt(0, 0, 0)
        .map_or(i64::MAX, |t| t.and_utc().timestamp_millis());
    let amounts = lines
        .column("amount")
        .context("line amounts")?
        .i64()
        .context("line amounts")?;
    let millis = lines
        .column("millis")
        .context("line times")?
        .i64()
        .context("line times")?;
    Ok(amounts
        .iter()
        .zip(millis.iter())
        .filter(|(_, t)| t.is_some_and(|t| t < as_of_millis))
        .map(|(a, _)| i128::from(a.unwrap_or(0)))
        .sum())
}

/// A money column in original units summed in millionths, each value rounded once.
fn column_micros(frame: &DataFrame, name: &str) -> Result<i128> {
    let Ok(column) = frame.column(name) else {
        return Ok(0);
    };
    let values = column
        .cast(&DataType::Float64)
        .context(format!("column {name}"))?;
    let values = values.f64().context(format!("column {name}"))?;
    Ok(values.iter().flatten().map(to_micros).sum())
}

fn to_micros(value: f64) -> i128 {
    (value * MICROS).round() as i128
}

/// Net revenue of per-customer spend in millionths, exact whatever the order of the customers.
pub fn total_micros(monetary: &[f64]) -> i128 {
    monetary.iter().copied().map(to_micros).sum()
}

/// Millionths as money rounded to the cent: what the report prints as the total.
pub fn micros_to_money(micros: i128) -> f64 {
    // Rounded in integers first, so the total is the same cent whatever its size.
    let cents = (micros + micros.signum() * HALF_CENT) / 10_000;
    cents as f64 / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_round_half_away_from_zero_in_integers() {
        assert_eq!(micros_to_money(1_234_565_000), 1234.57);
        assert_eq!(micros_to_money(-1_234_565_000), -1234.57);
        assert_eq!(micros_to_money(4_999), 0.0);
        assert_eq!(total_micros(&[0.1; 10]), 1_000_000);
    }
}
