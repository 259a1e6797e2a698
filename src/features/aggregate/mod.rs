//! Per-customer aggregation with polars: transactions → orders → customers, plus events,
//! campaigns and pre-aggregated CRM tables.
//!
//! Every table refers to a customer by its index (`customer`, u32; see
//! [`crate::load::Inputs::customer_ids`]), so grouping hashes integers and each aggregate is
//! placed into the per-customer columns by that index, with no join. Inside `agg` there are only
//! sums, counts, minima, maxima and firsts of columns computed beforehand: polars runs those on
//! its grouped kernels, where a filter inside `agg` is evaluated group by group (at a million
//! customers that alone took most of a minute).

mod engagement;
mod names;
mod order_days;
mod orders;
mod pre_aggregated;
mod rfm;
mod rollup;
mod spend_shares;
mod transactions;

pub use engagement::{campaigns, event_recency, events};
pub use names::{column_name, slug, value_names};
pub use order_days::{order_days, OrderDay};
pub use pre_aggregated::pre_aggregated;
pub(crate) use rfm::purchase_facts;
pub use transactions::transactions;

use polars::prelude::*;

use crate::error::{PolarsContext, Result};
use crate::load::{collect_streamed, Inputs};

const MILLIS_PER_DAY: i64 = 86_400_000;

pub fn latest_transaction_day(inputs: &Inputs) -> Option<i32> {
    let tx = inputs.transactions.as_ref()?;
    let latest = tx.frame.column("millis").ok()?.i64().ok()?.max()?;
    Some(latest.div_euclid(MILLIS_PER_DAY) as i32)
}

/// The named columns of an aggregate with one row per `customer`, as columns over all
/// `customers` (None for a customer without a row).
fn aligned(
    customers: usize,
    aggregate: LazyFrame,
    names: &[&str],
) -> Result<Vec<Vec<Option<f64>>>> {
    let frame = collect_streamed(aggregate).context("aggregating per customer")?;
    let index = customer_index(&frame)?;
    names
        .iter()
        .map(|name| {
            let column = frame
                .column(name)
                .and_then(|c| c.cast(&DataType::Float64))
                .context(format!("aggregate column {name}"))?;
            let mut out = vec![None; customers];
            let values = column.f64().context(format!("aggregate column {name}"))?;
            for (&row, value) in index.iter().zip(values.iter()) {
                out[row] = value;
            }
            Ok(out)
        })
        .collect()
}

/// The `customer` column of a frame as row numbers into the customer list.
fn customer_index(frame: &DataFrame) -> Result<Vec<usize>> {
    let column = frame
        .column("customer")
        .and_then(|c| c.cast(&DataType::UInt32))
        .context("customer index")?;
    Ok(column
        .u32()
        .context("customer index")?
        .iter()
        .map(|c| c.unwrap_or(0) as usize)
        .collect())
}

fn zero_if_missing(values: Vec<Option<f64>>) -> Vec<Option<f64>> {
    values.into_iter().map(|v| Some(v.unwrap_or(0.0))).collect()
}

fn flag(condition: Expr) -> Expr {
    condition.cast(DataType::Float64)
}

/// A column of integers (money, times) as it is, to read in place with [`values`].
fn integers(frame: &DataFrame, name: &str) -> Result<Int64Chunked> {
    let column = frame
        .column(name)
        .and_then(|c| c.cast(&DataType::Int64))
        .context(format!("column {name}"))?;
    Ok(column.i64().context(format!("column {name}"))?.clone())
}

/// The values of a column, blank = 0, without copying them out.
fn values(column: &Int64Chunked) -> impl Iterator<Item = i64> + '_ {
    column.iter().map(|v| v.unwrap_or(0))
}
