//! Each customer's spend per category or channel, as shares of their gross spend.

use polars::prelude::*;

use super::names::value_names;
use super::{customer_index, integers, values};
use crate::error::{PolarsContext, Result};
use crate::features::{Feature, FeatureGroup, FeatureKind};
use crate::load::collect_streamed;

/// Share of each customer's gross spend per value of `column`: the values the job lists, or the
/// top-N by spend; the rest "other".
pub(super) fn spend_shares(
    lines: LazyFrame,
    customers: usize,
    column: &str,
    top_n: usize,
    listed: Option<&[String]>,
) -> Result<Vec<Feature>> {
    let (top, distinct) = match listed {
        // A listed set keeps its "other" column whatever the data holds, as the engine's query.
        Some(listed) => (listed.to_vec(), usize::MAX),
        None => top_values(lines.clone(), column, top_n)?,
    };
    // Each positive line's value as its place in the top list (top.len() = any other value),
    // added into the customer's slot here: a dense group-by, no hashing of customer × value.
    let code = top
        .iter()
        .enumerate()
        .rev()
        .fold(lit(top.len() as u32), |other, (i, value)| {
            when(col(column).eq(lit(value.as_str())))
                .then(lit(i as u32))
                .otherwise(other)
        });
    let coded = collect_streamed(lines.filter(col("amount").gt(lit(0i64))).select([
        col("customer"),
        code.cast(DataType::UInt32).alias("code"),
        col("amount"),
    ]))
    .context(format!("{column} of every purchase line"))?;
    let rows = customer_index(&coded)?;
    let codes = coded
        .column("code")
        .and_then(|c| c.u32().cloned())
        .context(format!("{column} codes"))?;
    let amounts = integers(&coded, "amount")?;
    let slots = top.len() + 1;
    // Money in millionths, summed exactly.
    let mut spend = vec![0i64; customers * slots];
    for ((&row, code), amount) in rows.iter().zip(codes.iter()).zip(values(&amounts)) {
        let code = code.map_or(top.len(), |c| c as usize);
        spend[row * slots + code] += amount;
    }
    let share_of = |slot: usize| -> Vec<Option<f64>> {
        spend
            .chunks_exact(slots)
            .map(|s| {
                let gross: i64 = s.iter().sum();
                (gross > 0).then(|| s[slot] as f64 / gross as f64)
            })
            .collect()
    };
    let mut names = value_names(column, top.iter().map(String::as_str));
    if distinct > top.len() {
        names.push(format!("{column}_other"));
    }
    Ok(names
        .into_iter()
        .enumerate()
        .map(|(slot, name)| {
            Feature::new(
                name,
                FeatureGroup::Behaviour,
                FeatureKind::Share,
                share_of(slot),
            )
        })
        .collect())
}

/// The `top_n` values of `column` with the most positive spend (ties by name), and how many
/// distinct values the lines hold (refund-only values included).
fn top_values(lines: LazyFrame, column: &str, top_n: usize) -> Result<(Vec<String>, usize)> {
    let positive = || {
        when(col("amount").gt(lit(0i64)))
            .then(col("amount"))
            .otherwise(lit(0i64))
    };
    let ranked = collect_streamed(
        lines
            .group_by([col(column)])
            .agg([
                positive().sum().alias("spend"),
                col("amount").gt(lit(0i64)).any(true).alias("bought"),
            ])
            .sort_by_exprs(
                [col("spend"), col(column)],
                SortMultipleOptions::default().with_order_descending_multi([true, false]),
            ),
    )
    .context(format!("ranking {column} values"))?;
    let distinct = ranked.height();
    let values = ranked.column(column).context(column.to_string())?;
    let bought = ranked.column("bought").context(column.to_string())?;
    let top = values
        .str()
        .context(column.to_string())?
        .iter()
        .zip(bought.bool().context(column.to_string())?.iter())
        .filter_map(|(value, bought)| value.filter(|_| bought == Some(true)))
        .take(top_n)
        .map(String::from)
        .collect();
    Ok((top, distinct))
}
