//! Which customer ids mean "no customer". Explicit per table, never guessed: blank cells always,
//! plus the table's `missing_ids` — by default the NA spellings CSV tools write (pandas' default
//! `na_values`) and Excel's "(blank)", never a number, so 0 and -1 are customers unless a job
//! lists them. A customers table drops only blank ids by default: every row there is a customer.
//! An id that holds an implausible share of a transaction table is flagged, not dropped.

use std::collections::HashSet;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::{collect_streamed, DataQuality, MICROS};
use crate::error::{PolarsContext, Result};

/// pandas' default `na_values` (without the empty string: blank cells are always missing) and
/// the "(blank)" an Excel pivot table writes for an empty cell.
pub const DEFAULT_MISSING_IDS: &[&str] = &[
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
    "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null", "(blank)",
];

/// A customer id holding at least this share of a transaction table's rows …
const SUSPICIOUS_ROW_SHARE: f64 = 0.01;
/// … and at least this many times the median customer's rows is flagged as a likely placeholder.
const SUSPICIOUS_MEDIAN_RATIO: f64 = 100.0;

/// The ids that mean "no customer" in one table (compared with the trimmed cell, exactly).
#[derive(Debug, Clone)]
pub struct MissingIds {
    values: HashSet<String>,
    /// True when the job listed them, false for the table's default list.
    listed_by_job: bool,
}

impl MissingIds {
    /// The job's list for the table, or the default: the NA spellings for a log, none for a
    /// customers table (its rows are the customers).
    pub fn of(listed: Option<&[String]>, table: &str) -> MissingIds {
        match listed {
            Some(ids) => MissingIds {
                values: ids.iter().cloned().collect(),
                listed_by_job: true,
            },
            None if table == "customers" => MissingIds {
                values: HashSet::new(),
                listed_by_job: false,
            },
            None => MissingIds {
                values: DEFAULT_MISSING_IDS.iter().map(|s| s.to_string()).collect(),
                listed_by_job: false,
            },
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.values.contains(id)
    }

    /// The drop reason of rows with this id, naming the key that decides it.
    fn reason(&self, id: &str) -> String {
        let id = super::clip(id);
        if self.listed_by_job {
            format!("customer id '{id}' in missing_ids")
        } else {
            format!("customer id '{id}' in the default missing_ids")
        }
    }
}

/// Removes the rows whose id `missing` lists from a table with a `customer_id` column, given its
/// distinct ids; counts them per id (with their net amount when the table has `amount`) and
/// returns the distinct ids that remain. Costs nothing beyond the lookup of each distinct id
/// when no listed id occurs, which is the usual case.
pub fn drop_listed(
    frame: &mut DataFrame,
    distinct: Vec<String>,
    table: &str,
    missing: &MissingIds,
    quality: &mut DataQuality,
) -> Result<Vec<String>> {
    let (listed, kept): (Vec<String>, Vec<String>) =
        distinct.into_iter().partition(|id| missing.contains(id));
    if listed.is_empty() {
        return Ok(kept);
    }
    let listed_set: HashSet<&str> = listed.iter().map(String::as_str).collect();
    let ids = frame
        .column("customer_id")
        .and_then(|c| c.str().cloned())
        .context(format!("{table}: customer ids"))?;
    let is_listed: BooleanChunked = ids
        .iter()
        .map(|id| Some(id.is_some_and(|id| listed_set.contains(id))))
        .collect();
    let dropped = frame
        .filter(&is_listed)
        .context(format!("{table}: rows with a missing customer id"))?;
    count_by_id(&dropped, table, missing, quality)?;
    *frame = frame
        .filter(&!&is_listed)
        .context(format!("{table}: dropping rows with a missing customer id"))?;
    Ok(kept)
}

/// The dropped rows per id value, with their net amount in money when the table has one.
fn count_by_id(
    dropped: &DataFrame,
    table: &str,
    missing: &MissingIds,
    quality: &mut DataQuality,
) -> Result<()> {
    let has_amount = dropped.column("amount").is_ok();
    let mut aggregates = vec![len().alias("rows")];
    if has_amount {
        aggregates.push(col("amount").sum().alias("amount"));
    }
    let counts = dropped
        .clone()
        .lazy()
        .group_by([col("customer_id")])
        .agg(aggregates)
        .sort(["customer_id"], SortMultipleOptions::default())
        .collect()
        .context(format!("{table}: counting missing customer ids"))?;
    let ids = counts.column("customer_id").and_then(|c| c.str().cloned());
    let rows = counts
        .column("rows")
        .and_then(|c| c.cast(&DataType::UInt64))
        .and_then(|c| c.u64().cloned());
    let amounts = counts
        .column("amount")
        .and_then(|c| c.cast(&DataType::Int64))
        .and_then(|c| c.i64().cloned())
        .ok();
    let context = || format!("{table}: counting missing customer ids");
    let (ids, rows) = (ids.context(context())?, rows.context(context())?);
    for (i, (id, n)) in ids.iter().zip(rows.iter()).enumerate() {
        let reason = missing.reason(id.unwrap_or_default());
        let micros = amounts.as_ref().and_then(|a| a.get(i)).map(i128::from);
        quality.drop_rows_with_revenue(table, &reason, n.unwrap_or(0) as usize, micros);
    }
    Ok(())
}

/// A customer id that holds an implausible share of a transaction table: a placeholder the job
/// may need to list in `missing_ids`, or a real wholesale buyer. It is kept and flagged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuspiciousId {
    pub table: String,
    pub id: String,
    pub rows: usize,
    pub table_rows: usize,
    /// Rows of the median customer of the table.
    pub median_rows: f64,
    /// Its share of the table's net amount (all dates).
    pub revenue_share: f64,
}

impl SuspiciousId {
    /// The warning the report, summary.json and stderr carry.
    pub fn warning(&self) -> String {
        format!(
            "customer id '{}' holds {} of the {} {} rows ({:.1} %, {:.0}× the median customer's {}) and {:.1} % of their net amount: if it is a placeholder for \"no customer\" rather than a real buyer, list it in [inputs.{}] missing_ids = [\"{}\"]",
            super::clip(&self.id),
            crate::format::count(self.rows),
            crate::format::count(self.table_rows),
            self.table,
            100.0 * self.rows as f64 / self.table_rows.max(1) as f64,
            self.rows as f64 / self.median_rows.max(1.0),
            self.median_rows,
            100.0 * self.revenue_share,
            self.table,
            self.id.replace('\\', "\\\\").replace('"', "\\\""),
        )
    }
}

/// Customers of a transaction table (column `customer`, indices into `ids`) holding at least 1 %
/// of its rows and at least 100 times the median customer's rows.
pub fn suspicious_ids(frame: &DataFrame, ids: &[String], table: &str) -> Result<Vec<SuspiciousId>> {
    let customer = frame
        .column("customer")
        .and_then(|c| c.u32().cloned())
        .context(format!("{table}: customer index"))?;
    let mut rows = vec![0usize; ids.len()];
    for index in customer.iter().flatten() {
        rows[index as usize] += 1;
    }
    let mut present: Vec<usize> = rows.iter().copied().filter(|&n| n > 0).collect();
    if present.is_empty() {
        return Ok(Vec::new());
    }
    let total = frame.height();
    let median = median_count(&mut present);
    let flagged: Vec<usize> = (0..ids.len())
        .filter(|&c| {
            let n = rows[c] as f64;
            n >= SUSPICIOUS_ROW_SHARE * total as f64 && n >= SUSPICIOUS_MEDIAN_RATIO * median
        })
        .collect();
    if flagged.is_empty() {
        return Ok(Vec::new());
    }
    let shares = revenue_shares(frame, &flagged, table)?;
    Ok(flagged
        .into_iter()
        .zip(shares)
        .map(|(c, revenue_share)| SuspiciousId {
            table: table.to_string(),
            id: ids[c].clone(),
            rows: rows[c],
            table_rows: total,
            median_rows: median,
            revenue_share,
        })
        .collect())
}

fn median_count(counts: &mut [usize]) -> f64 {
    let n = counts.len();
    let (_, &mut upper, _) = counts.select_nth_unstable(n / 2);
    if n % 2 == 1 {
        return upper as f64;
    }
    let lower = counts[..n / 2].iter().copied().max().unwrap_or(upper);
    (lower + upper) as f64 / 2.0
}

/// Each flagged customer's share of the table's net amount.
fn revenue_shares(frame: &DataFrame, flagged: &[usize], table: &str) -> Result<Vec<f64>> {
    let context = || format!("{table}: amounts of a suspicious customer id");
    let customer = frame
        .column("customer")
        .and_then(|c| c.u32().cloned())
        .context(context())?;
    let amount = frame
        .column("amount")
        .and_then(|c| c.i64().cloned())
        .context(context())?;
    let mut own = vec![0i128; flagged.len()];
    let mut total = 0i128;
    for (c, a) in customer.iter().zip(amount.iter()) {
        let a = i128::from(a.unwrap_or(0));
        total += a;
        if let Some(slot) = c.and_then(|c| flagged.iter().position(|&f| f == c as usize)) {
            own[slot] += a;
        }
    }
    let total = total as f64 / MICROS;
    Ok(own
        .into_iter()
        .map(|o| {
            if total.abs() > 0.0 {
                o as f64 / MICROS / total
            } else {
                0.0
            }
        })
        .collect())
}

/// The distinct customer ids of a table (blank cells left out), in no particular order.
pub fn distinct_ids(frame: &DataFrame, table: &str) -> Result<Vec<String>> {
    let distinct = collect_streamed(
        frame
            .select(["customer_id"])
            .context(format!("{table}: customer ids"))?
            .lazy()
            .select([col("customer_id").unique()]),
    )
    .context(format!("{table}: customer ids"))?;
    Ok(distinct
        .column("customer_id")
        .and_then(|c| c.str().cloned())
        .context(format!("{table}: customer ids"))?
        .iter()
        .flatten()
        .map(String::from)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_customers_unless_listed() {
        let log = MissingIds::of(None, "transactions");
        assert!(log.contains("(blank)") && log.contains("NULL") && log.contains("#N/A"));
        assert!(!log.contains("0") && !log.contains("-1") && !log.contains("unknown"));
        let customers = MissingIds::of(None, "customers");
        assert!(!customers.contains("NULL") && !customers.contains("(blank)"));
        let listed = MissingIds::of(Some(&["0".to_string(), "guest".to_string()]), "customers");
        assert!(listed.contains("0") && listed.contains("guest") && !listed.contains("NULL"));
    }

    #[test]
    fn a_placeholder_holding_many_rows_is_flagged_with_its_figures() {
        // 50 customers with 2 rows each (amount 10), and "(blank)" with 40 rows (amount 5).
        let mut ids: Vec<String> = (0..50).map(|c| format!("C{c:02}")).collect();
        ids.push("(blank)".into());
        let mut customer = Vec::new();
        let mut amount = Vec::new();
        for c in 0..50u32 {
            customer.extend([c, c]);
            amount.extend([10 * MICROS as i64, 10 * MICROS as i64]);
        }
        customer.extend(std::iter::repeat_n(50u32, 40));
        amount.extend(std::iter::repeat_n(5 * MICROS as i64, 40));
        // One more customer with 3 rows: not flagged, the median stays 2.
        let frame = DataFrame::new_infer_height(vec![
            Column::new("customer".into(), customer),
            Column::new("amount".into(), amount),
        ])
        .unwrap();
        let found = suspicious_ids(&frame, &ids, "transactions").unwrap();
        // 40 rows is 28.6 % of 140 but only 20× the median of 2: not flagged.
        assert!(found.is_empty(), "{found:?}");
        let mut customer: Vec<u32> = (0..50u32).flat_map(|c| [c, c]).collect();
        customer.extend(std::iter::repeat_n(50u32, 300));
        let mut amount: Vec<i64> = vec![10 * MICROS as i64; 100];
        amount.extend(std::iter::repeat_n(MICROS as i64, 300));
        let frame = DataFrame::new_infer_height(vec![
            Column::new("customer".into(), customer),
            Column::new("amount".into(), amount),
        ])
        .unwrap();
        let found = suspicious_ids(&frame, &ids, "transactions").unwrap();
        assert_eq!(found.len(), 1);
        let s = &found[0];
        assert_eq!((s.id.as_str(), s.rows, s.table_rows), ("(blank)", 300, 400));
        assert_eq!(s.median_rows, 2.0);
        assert!((s.revenue_share - 300.0 / 1300.0).abs() < 1e-12);
        let warning = s.warning();
        assert!(
            warning.contains("'(blank)' holds 300 of the 400 transactions rows (75.0 %, 150×")
                && warning.contains("missing_ids = [\"(blank)\"]"),
            "{warning}"
        );
    }
}
