//! Transaction lines grouped into orders.

use polars::prelude::*;

use super::MILLIS_PER_DAY;
use crate::error::{PolarsContext, Result};
use crate::load::{collect_streamed, TransactionTable};

/// Transaction lines grouped into orders at a time (see [`orders`]).
const LINES_PER_PART: usize = 8_000_000;
/// Days a customer-and-day key has room for: every day a timestamp in milliseconds can hold.
const DAY_KEYS: u64 = 1 << 32;

/// Lines of one order become one order: the lines with the same order id, or, without one, a
/// customer's lines of one day. Columns: customer, first_millis (the order's earliest line), net,
/// gross, refunded, and discount when mapped (money in millionths, as the lines).
pub(super) fn orders(lines: LazyFrame, tx: &TransactionTable) -> Result<DataFrame> {
    let day = || col("millis").floor_div(lit(MILLIS_PER_DAY));
    let amount = || col("amount");
    let zero = || lit(0i64);
    let mut prepared = vec![
        when(amount().gt(zero()))
            .then(amount())
            .otherwise(zero())
            .alias("gross_line"),
        when(amount().lt(zero()))
            .then(-amount())
            .otherwise(zero())
            .alias("refund_line"),
    ];
    let mut keys = vec![col("customer")];
    if tx.has_order_id {
        // Lines without an order id are their customer's order of that day.
        prepared.push(
            when(col("order_id").is_null())
                .then(day())
                .otherwise(lit(NULL).cast(DataType::Int64))
                .alias("order_day"),
        );
        keys.extend([col("order_id"), col("order_day")]);
    } else {
        // One integer key per customer and day groups much faster than the pair of columns.
        prepared.push(
            (col("customer").cast(DataType::UInt64) * lit(DAY_KEYS)
                + (day() - lit(i64::from(i32::MIN))).cast(DataType::UInt64))
            .alias("customer_day"),
        );
        keys = vec![col("customer_day")];
    }
    let mut aggs = vec![
        amount().sum().alias("net"),
        col("gross_line").sum().alias("gross"),
        col("refund_line").sum().alias("refunded"),
        col("millis").min().alias("first_millis"),
    ];
    if tx.has_discount {
        aggs.push(col("discount").sum().alias("discount"));
    }
    // The in-memory engine gathers every group's rows once per aggregate: on millions of
    // two-line orders the streaming engine's hash aggregation took half the time. Its rows come
    // out in no particular order, which nothing downstream depends on (sums are exact integers).
    // Its hash table over every order was the run's largest allocation (1.6 GB at 25 million
    // lines): customers are split into parts of about LINES_PER_PART lines, one part at a time.
    let parts = (tx.frame.height() / LINES_PER_PART).max(1) as u32;
    let mut orders = DataFrame::empty();
    for part in 0..parts {
        let mine = (col("customer") % lit(parts)).eq(lit(part));
        let plan = lines
            .clone()
            .filter(mine)
            .with_columns(prepared.clone())
            .group_by(keys.clone())
            .agg(aggs.clone());
        let plan = if tx.has_order_id {
            plan
        } else {
            plan.select([
                col("customer_day")
                    .floor_div(lit(DAY_KEYS))
                    .cast(DataType::UInt32)
                    .alias("customer"),
                all().exclude_cols(["customer_day"]).as_expr(),
            ])
        };
        let grouped = collect_streamed(plan).context("grouping transaction lines into orders")?;
        if orders.width() == 0 {
            orders = grouped;
        } else {
            orders
                .vstack_mut(&grouped)
                .context("grouping transaction lines into orders")?;
        }
    }
    Ok(orders)
}
