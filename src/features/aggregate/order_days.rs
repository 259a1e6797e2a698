//! The orders of a period as (customer, day, net) — what the lifetime model counts purchases
//! and their value from.

use polars::prelude::*;

use super::orders::orders;
use super::{customer_index, integers, values, MILLIS_PER_DAY};
use crate::error::Result;
use crate::load::TransactionTable;

/// One order of a customer: the day of its earliest line and its net amount in millionths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderDay {
    pub customer: u32,
    pub day: i32,
    pub net: i64,
}

/// The orders dated from `from_day` (inclusive) to `to_day` (exclusive), each bound optional.
pub fn order_days(
    tx: &TransactionTable,
    from_day: Option<i32>,
    to_day: Option<i32>,
) -> Result<Vec<OrderDay>> {
    let millis = |day: i32| lit(i64::from(day) * MILLIS_PER_DAY);
    let mut lines = tx.frame.clone().lazy();
    if let Some(from) = from_day {
        lines = lines.filter(col("millis").gt_eq(millis(from)));
    }
    if let Some(to) = to_day {
        lines = lines.filter(col("millis").lt(millis(to)));
    }
    let grouped = orders(lines, tx)?;
    let customers = customer_index(&grouped)?;
    let first = integers(&grouped, "first_millis")?;
    let net = integers(&grouped, "net")?;
    Ok(customers
        .iter()
        .zip(values(&first).zip(values(&net)))
        .map(|(&customer, (millis, net))| OrderDay {
            customer: customer as u32,
            day: millis.div_euclid(MILLIS_PER_DAY) as i32,
            net,
        })
        .collect())
}
