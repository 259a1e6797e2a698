//! Per-customer aggregation with polars: transactions → orders → customers, plus events,
//! campaigns and pre-aggregated CRM tables.
//!
//! Every table refers to a customer by its index (`customer`, u32; see
//! [`crate::load::Inputs::customer_ids`]), so grouping hashes integers and each aggregate is
//! placed into the per-customer columns by that index, with no join. Inside `agg` there are only
//! sums, counts, minima, maxima and firsts of columns computed beforehand: polars runs those on
//! its grouped kernels, where a filter inside `agg` is evaluated group by group (at a million
//! customers that alone took most of a minute).

use polars::prelude::*;

use super::{Feature, FeatureGroup, FeatureKind, Impute, PurchaseFacts, Trials};
use crate::error::{PolarsContext, Result};
use crate::job::FeatureOptions;
use crate::load::{collect_streamed, CustomerTable, Inputs, TransactionTable, MICROS};

const MILLIS_PER_DAY: i64 = 86_400_000;
/// Transaction lines grouped into orders at a time (see [`orders`]).
const LINES_PER_PART: usize = 8_000_000;

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

/// Shares and averages of a customer without purchases are 0/0, so they stay missing (and are
/// imputed and counted) rather than 0, which would set non-buyers apart in every share at once.
pub struct TransactionFeatures {
    pub features: Vec<Feature>,
    pub facts: PurchaseFacts,
    pub after_as_of: usize,
    pub used: usize,
}

pub fn transactions(
    tx: &TransactionTable,
    customers: usize,
    as_of_day: i32,
    options: &FeatureOptions,
) -> Result<TransactionFeatures> {
    let as_of_millis = i64::from(as_of_day) * MILLIS_PER_DAY;
    let after_as_of = tx
        .frame
        .column("millis")
        .context("transaction times")?
        .as_materialized_series()
        .gt_eq(as_of_millis)
        .context("transaction times")?
        .sum()
        .unwrap_or(0) as usize;
    // Without lines on or after the as-of date the window is the whole table: no filtered copy.
    let lines = || {
        let all = tx.frame.clone().lazy();
        if after_as_of > 0 {
            all.filter(col("millis").lt(lit(as_of_millis)))
        } else {
            all
        }
    };
    // The orders are dropped before the spend shares read the lines again.
    let mut columns = customer_order_columns(
        &orders(lines(), tx)?,
        customers,
        as_of_day,
        tx,
        &options.peak_months,
    )?;
    let mut take = |name: &str| columns.remove(name).unwrap_or_default();
    let frequency = zero_if_missing(take("frequency"));
    let monetary = zero_if_missing(take("monetary"));
    let recency = take("recency_days");
    let facts = PurchaseFacts {
        recency_days: recency.clone(),
        frequency: frequency.iter().map(|v| v.unwrap_or(0.0)).collect(),
        monetary: monetary.iter().map(|v| v.unwrap_or(0.0)).collect(),
        previous_gap_days: take("previous_gap_days"),
    };
    let mut recency_feature = Feature::new(
        "recency_days",
        FeatureGroup::Rfm,
        FeatureKind::Numeric,
        recency,
    );
    // A customer who never bought is at least as lapsed as the most lapsed buyer.
    recency_feature.impute = Impute::Max;
    let mut features = vec![
        recency_feature,
        Feature::new(
            "frequency",
            FeatureGroup::Rfm,
            FeatureKind::Numeric,
            frequency,
        ),
        Feature::new(
            "monetary",
            FeatureGroup::Rfm,
            FeatureKind::Numeric,
            monetary,
        ),
        Feature::new(
            "avg_order_value",
            FeatureGroup::Rfm,
            FeatureKind::Numeric,
            take("avg_order_value"),
        ),
        Feature::new(
            "tenure_days",
            FeatureGroup::Rfm,
            FeatureKind::Numeric,
            zero_if_missing(take("tenure_days")),
        ),
        Feature::new(
            "mean_interpurchase_days",
            FeatureGroup::Behaviour,
            FeatureKind::Numeric,
            take("mean_interpurchase_days"),
        ),
        Feature::new(
            "refund_share",
            FeatureGroup::Behaviour,
            FeatureKind::Share,
            take("refund_share"),
        ),
    ];
    if tx.has_discount {
        features.push(Feature::new(
            "discount_share",
            FeatureGroup::Behaviour,
            FeatureKind::Share,
            take("discount_share"),
        ));
        features.push(Feature::new(
            "discount_depth",
            FeatureGroup::Behaviour,
            FeatureKind::Share,
            take("discount_depth"),
        ));
    }
    features.push(Feature::new(
        "weekend_share",
        FeatureGroup::Habits,
        FeatureKind::Share,
        take("weekend_share"),
    ));
    if tx.has_time {
        for part in ["morning", "afternoon", "evening"] {
            let name = format!("{part}_share");
            features.push(Feature::new(
                &name,
                FeatureGroup::Habits,
                FeatureKind::Share,
                take(&name),
            ));
        }
    }
    features.push(Feature::new(
        "peak_season_share",
        FeatureGroup::Habits,
        FeatureKind::Share,
        take("peak_season_share"),
    ));
    for (mapped, column) in [(tx.has_category, "category"), (tx.has_channel, "channel")] {
        if mapped {
            features.extend(spend_shares(lines(), customers, column, options.top_n)?);
        }
    }
    // Every share of a log is a share of the customer's purchases: as sure as they are many. The
    // habits and discounts count purchases; refunds, the season, categories and channels weigh
    // money; the discount depth is an average, not a share of anything.
    const COUNTED: [&str; 5] = [
        "weekend_share",
        "morning_share",
        "afternoon_share",
        "evening_share",
        "discount_share",
    ];
    for feature in &mut features {
        feature.trials = match (feature.kind, feature.name.as_str()) {
            (FeatureKind::Share, "discount_depth") => None,
            (FeatureKind::Share, name) if COUNTED.contains(&name) => Trials::counted("frequency"),
            (FeatureKind::Share, _) => Trials::of_spend("frequency"),
            _ => None,
        };
    }
    Ok(TransactionFeatures {
        features,
        facts,
        after_as_of,
        used: tx.frame.height() - after_as_of,
    })
}

/// Lines of one order become one order: the lines with the same order id, or, without one, a
/// customer's lines of one day. Columns: customer, first_millis (the order's earliest line), net,
/// gross, refunded, and discount when mapped (money in millionths, as the lines).
fn orders(lines: LazyFrame, tx: &TransactionTable) -> Result<DataFrame> {
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
        prepared.push(day().alias("order_day"));
        keys.push(col("order_day"));
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

/// A customer's orders added up (one slot per customer; see [`purchase_totals`]).
/// Money is in millionths and the discount depth in units of [`DEPTH_UNIT`], so every total is an
/// integer sum: exact, and the same in whatever order the orders come.
#[derive(Default, Clone)]
struct PurchaseTotals {
    monetary: i64,
    gross: i64,
    refunded: i64,
    /// Orders with a positive net amount (purchases), and what they have in common.
    purchases: u32,
    purchase_spend: i64,
    weekend: u32,
    morning: u32,
    afternoon: u32,
    evening: u32,
    peak_spend: i64,
    discounted: u32,
    depth_sum: i64,
    first_day: Option<i32>,
    last_day: Option<i32>,
    has_orders: bool,
}

/// An order: its amounts and the time of its earliest line.
struct Order {
    millis: i64,
    net: i64,
    gross: i64,
    refunded: i64,
    discount: i64,
}

/// A discount depth (a share of the price) counted in 10⁻¹² steps.
const DEPTH_UNIT: f64 = 1e12;

impl Order {
    fn day(&self) -> i32 {
        self.millis.div_euclid(MILLIS_PER_DAY) as i32
    }

    fn hour(&self) -> i64 {
        self.millis.rem_euclid(MILLIS_PER_DAY) / 3_600_000
    }

    /// Saturday or Sunday (1970-01-01 was a Thursday).
    fn weekend(&self) -> bool {
        (i64::from(self.day()) + 3).rem_euclid(7) >= 5
    }
}

/// What the rollup needs to know beyond the orders themselves.
struct Calendar<'a> {
    has_time: bool,
    peak_months: &'a [u32],
}

impl Calendar<'_> {
    fn in_peak(&self, day: i32) -> bool {
        use chrono::Datelike;
        chrono::DateTime::from_timestamp(i64::from(day) * 86_400, 0)
            .is_some_and(|t| self.peak_months.contains(&t.month()))
    }
}

impl PurchaseTotals {
    fn add(&mut self, order: &Order, calendar: &Calendar) {
        self.has_orders = true;
        self.monetary += order.net;
        self.gross += order.gross;
        self.refunded += order.refunded;
        if order.net <= 0 {
            return;
        }
        let count = |yes: bool| u32::from(yes);
        let day = order.day();
        self.purchases += 1;
        self.purchase_spend += order.net;
        self.weekend += count(order.weekend());
        if calendar.has_time {
            let hour = order.hour();
            self.morning += count((5..12).contains(&hour));
            self.afternoon += count((12..18).contains(&hour));
            self.evening += count(!(5..18).contains(&hour));
        }
        if calendar.in_peak(day) {
            self.peak_spend += order.net;
        }
        if order.discount > 0 {
            let depth = order.discount as f64 / (order.net + order.discount) as f64;
            self.discounted += 1;
            self.depth_sum += (depth * DEPTH_UNIT).round() as i64;
        }
        self.first_day = Some(self.first_day.map_or(day, |d| d.min(day)));
        self.last_day = Some(self.last_day.map_or(day, |d| d.max(day)));
    }
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

/// The orders added up per customer. The customer index is the slot, so this is a group-by
/// into a dense table: one pass, no hashing.
fn purchase_totals(
    orders: &DataFrame,
    customers: usize,
    calendar: &Calendar,
) -> Result<Vec<PurchaseTotals>> {
    let rows = customer_index(orders)?;
    let millis = integers(orders, "first_millis")?;
    let net = integers(orders, "net")?;
    let gross = integers(orders, "gross")?;
    let refunded = integers(orders, "refunded")?;
    let discount = match orders.column("discount") {
        Ok(_) => integers(orders, "discount")?,
        Err(_) => Int64Chunked::full("discount".into(), 0, orders.height()),
    };
    let mut totals = vec![PurchaseTotals::default(); customers];
    let amounts = values(&net).zip(values(&gross)).zip(values(&refunded));
    let orders = rows
        .iter()
        .zip(values(&millis))
        .zip(amounts.zip(values(&discount)));
    for ((&row, millis), (((net, gross), refunded), discount)) in orders {
        let order = Order {
            millis,
            net,
            gross,
            refunded,
            discount,
        };
        totals[row].add(&order, calendar);
    }
    Ok(totals)
}

/// RFM and the other purchase features per customer, from the orders (an order with a positive
/// net amount is a purchase; a net refund is not).
fn customer_order_columns(
    orders: &DataFrame,
    customers: usize,
    as_of_day: i32,
    tx: &TransactionTable,
    peak_months: &[u32],
) -> Result<std::collections::HashMap<&'static str, Vec<Option<f64>>>> {
    let calendar = Calendar {
        has_time: tx.has_time,
        peak_months,
    };
    let totals = purchase_totals(orders, customers, &calendar)?;
    let days = PurchaseDays::of(orders, customers)?;
    let column = |value: &dyn Fn(&PurchaseTotals) -> Option<f64>| -> Vec<Option<f64>> {
        totals.iter().map(value).collect()
    };
    let money = |micros: i64| micros as f64 / MICROS;
    let share = |part: i64, whole: i64| (whole > 0).then(|| part as f64 / whole as f64);
    let per_purchase =
        |t: &PurchaseTotals, x: f64| (t.purchases > 0).then(|| x / f64::from(t.purchases));
    let counted = |t: &PurchaseTotals, n: u32| per_purchase(t, f64::from(n));
    let days_before = |day: Option<i32>| day.map(|d| f64::from(as_of_day - d));
    let mut out = std::collections::HashMap::new();
    out.insert(
        "monetary",
        column(&|t| t.has_orders.then(|| money(t.monetary))),
    );
    out.insert(
        "frequency",
        column(&|t| t.has_orders.then(|| f64::from(t.purchases))),
    );
    out.insert(
        "avg_order_value",
        column(&|t| per_purchase(t, money(t.purchase_spend))),
    );
    out.insert("recency_days", column(&|t| days_before(t.last_day)));
    out.insert("tenure_days", column(&|t| days_before(t.first_day)));
    out.insert("refund_share", column(&|t| share(t.refunded, t.gross)));
    out.insert("weekend_share", column(&|t| counted(t, t.weekend)));
    out.insert(
        "peak_season_share",
        column(&|t| share(t.peak_spend, t.purchase_spend)),
    );
    if tx.has_time {
        out.insert("morning_share", column(&|t| counted(t, t.morning)));
        out.insert("afternoon_share", column(&|t| counted(t, t.afternoon)));
        out.insert("evening_share", column(&|t| counted(t, t.evening)));
    }
    if tx.has_discount {
        out.insert("discount_share", column(&|t| counted(t, t.discounted)));
        out.insert(
            "discount_depth",
            column(&|t| {
                (t.discounted > 0)
                    .then(|| t.depth_sum as f64 / DEPTH_UNIT / f64::from(t.discounted))
            }),
        );
    }
    let interval = totals
        .iter()
        .zip(&days.distinct)
        .map(|(t, &n)| match (t.first_day, t.last_day) {
            (Some(first), Some(last)) if n > 1 => Some(f64::from(last - first) / f64::from(n - 1)),
            _ => None,
        })
        .collect();
    out.insert("mean_interpurchase_days", interval);
    out.insert("previous_gap_days", days.previous_gap);
    Ok(out)
}

/// Per customer: how many distinct days they bought on, and the days between the last two of
/// them (for the "Returned" lifecycle stage).
struct PurchaseDays {
    distinct: Vec<u32>,
    previous_gap: Vec<Option<f64>>,
}

impl PurchaseDays {
    fn of(orders: &DataFrame, customers: usize) -> Result<PurchaseDays> {
        use rayon::slice::ParallelSliceMut;
        let rows = customer_index(orders)?;
        let millis = integers(orders, "first_millis")?;
        let net = integers(orders, "net")?;
        // (customer, day) packed into one number that sorts by customer, then day.
        let pack =
            |row: usize, day: i32| ((row as u64) << 32) | u64::from((day as u32) ^ (1 << 31));
        let mut keys: Vec<u64> = rows
            .iter()
            .zip(values(&millis).zip(values(&net)))
            .filter(|(_, (_, net))| *net > 0)
            .map(|(&row, (millis, _))| pack(row, millis.div_euclid(MILLIS_PER_DAY) as i32))
            .collect();
        keys.par_sort_unstable();
        keys.dedup();
        let mut distinct = vec![0u32; customers];
        let mut last = vec![None::<i32>; customers];
        let mut previous_gap = vec![None; customers];
        for key in keys {
            let row = (key >> 32) as usize;
            let day = ((key as u32) ^ (1 << 31)) as i32;
            distinct[row] += 1;
            if let Some(before) = last[row] {
                previous_gap[row] = Some(f64::from(day - before));
            }
            last[row] = Some(day);
        }
        Ok(PurchaseDays {
            distinct,
            previous_gap,
        })
    }
}

/// Share of each customer's gross spend per value of `column` (top-N values, the rest "other").
fn spend_shares(
    lines: LazyFrame,
    customers: usize,
    column: &str,
    top_n: usize,
) -> Result<Vec<Feature>> {
    let (top, distinct) = top_values(lines.clone(), column, top_n)?;
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

/// A column-name part is at most this many characters (a value can be a megabyte long).
const SLUG_LENGTH: usize = 40;

/// A value turned into a lowercase column-name part: "Home & Garden" → "home_garden".
pub fn slug(value: &str) -> String {
    let mut out = String::new();
    for c in value.trim().chars().flat_map(char::to_lowercase) {
        if out.chars().count() >= SLUG_LENGTH {
            break;
        }
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches('_').to_string();
    if trimmed.is_empty() {
        "blank".into()
    } else {
        trimmed
    }
}

/// A column the job names itself (numeric, categorical) as a feature name: its header in lowercase
/// words with units in brackets dropped ("Annual Income (k$)" → "annual_income"), or the whole
/// header when nothing else is left of it.
pub fn column_name(header: &str) -> String {
    let mut depth = 0usize;
    let mut outside = String::new();
    for c in header.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => outside.push(c),
            _ => {}
        }
    }
    if outside.chars().any(char::is_alphanumeric) {
        slug(&outside)
    } else {
        slug(header)
    }
}

/// Column names "<prefix>_<slug>" for the values of one column, each unique: values that slug
/// alike ("Home & Garden", "home garden") or share a long beginning get "_2", "_3", …, and
/// "<prefix>_other" stays free for the values not kept.
pub fn value_names<'a>(prefix: &str, values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut taken = std::collections::HashSet::from([format!("{prefix}_other")]);
    values
        .into_iter()
        .map(|value| {
            let base = format!("{prefix}_{}", slug(value));
            let mut name = base.clone();
            for n in 2.. {
                if !taken.contains(&name) {
                    break;
                }
                name = format!("{base}_{n}");
            }
            taken.insert(name.clone());
            name
        })
        .collect()
}

pub fn events(events: &DataFrame, customers: usize, as_of_day: i32) -> Result<Vec<Feature>> {
    let window = events.clone().lazy().filter(col("day").lt(lit(as_of_day)));
    let kinds = events
        .column("event_type")
        .context("event types")?
        .str()
        .context("event types")?
        .clone();
    let has_visits = kinds.iter().flatten().any(|k| k == "visit");
    // Without explicit visit events every event counts as a visit.
    let is_visit = if has_visits {
        col("event_type").eq(lit("visit"))
    } else {
        lit(true)
    };
    let since = |days: i32| col("day").gt_eq(lit(as_of_day - days));
    let aggregated = window
        .with_columns([
            flag(is_visit.clone().and(since(30))).alias("visit_30"),
            flag(is_visit.and(since(90))).alias("visit_90"),
            flag(col("event_type").eq(lit("add_to_cart")).and(since(90))).alias("cart_90"),
        ])
        .group_by([col("customer")])
        .agg([
            col("visit_30").sum().alias("visits_30d"),
            col("visit_90").sum().alias("visits_90d"),
            col("cart_90").sum().alias("add_to_cart_90d"),
        ]);
    let names = ["visits_30d", "visits_90d", "add_to_cart_90d"];
    let values = aligned(customers, aggregated, &names)?;
    Ok(names
        .iter()
        .zip(values)
        .map(|(name, v)| {
            Feature::new(
                *name,
                FeatureGroup::Engagement,
                FeatureKind::Numeric,
                zero_if_missing(v),
            )
        })
        .collect())
}

/// Days since the last event of any kind and since the last add-to-cart (rule columns for the
/// temperature preset); None for customers without one.
pub fn event_recency(events: &DataFrame, customers: usize, as_of_day: i32) -> Result<Vec<Feature>> {
    let days_since = |day: Expr| (lit(as_of_day) - day).cast(DataType::Float64);
    let aggregated = events
        .clone()
        .lazy()
        .filter(col("day").lt(lit(as_of_day)))
        .with_columns([when(col("event_type").eq(lit("add_to_cart")))
            .then(col("day"))
            .otherwise(lit(NULL).cast(DataType::Int32))
            .alias("cart_day")])
        .group_by([col("customer")])
        .agg([
            days_since(col("day").max()).alias("days_since_event"),
            days_since(col("cart_day").max()).alias("days_since_add_to_cart"),
        ]);
    let names = ["days_since_event", "days_since_add_to_cart"];
    let values = aligned(customers, aggregated, &names)?;
    Ok(names
        .iter()
        .zip(values)
        .map(|(name, v)| Feature::new(*name, FeatureGroup::Engagement, FeatureKind::Numeric, v))
        .collect())
}

pub fn campaigns(campaigns: &DataFrame, customers: usize, as_of_day: i32) -> Result<Vec<Feature>> {
    let mut window = campaigns.clone().lazy();
    if campaigns.column("sent_day").is_ok() {
        window = window.filter(
            col("sent_day")
                .lt(lit(as_of_day))
                .or(col("sent_day").is_null()),
        );
    }
    let present: Vec<(&str, &str)> = [
        ("opened", "open_rate"),
        ("clicked", "click_rate"),
        ("responded", "response_rate"),
    ]
    .into_iter()
    .filter(|(role, _)| campaigns.column(role).is_ok())
    .collect();
    let mut aggs = vec![col("campaign_id")
        .n_unique()
        .cast(DataType::Float64)
        .alias("campaigns_received")];
    aggs.extend(
        present
            .iter()
            .map(|(role, rate)| col(*role).mean().alias(*rate)),
    );
    let aggregated = window.group_by([col("customer")]).agg(aggs);
    let mut names = vec!["campaigns_received"];
    names.extend(present.iter().map(|(_, rate)| *rate));
    let values = aligned(customers, aggregated, &names)?;
    Ok(names
        .iter()
        .zip(values)
        .map(|(name, v)| {
            if *name == "campaigns_received" {
                Feature::new(
                    *name,
                    FeatureGroup::Engagement,
                    FeatureKind::Numeric,
                    zero_if_missing(v),
                )
            } else {
                let mut rate = Feature::new(*name, FeatureGroup::Engagement, FeatureKind::Share, v);
                rate.trials = Trials::counted("campaigns_received");
                rate
            }
        })
        .collect())
}

/// A CRM table that already carries some of recency, order counts, spend and mailing responses
/// per customer: the features of the columns it maps, and the purchase facts the rules read
/// (zero orders and spend where it maps none; no recency where it maps none).
pub fn pre_aggregated(
    customers: &CustomerTable,
    count: usize,
) -> Result<(Vec<Feature>, PurchaseFacts)> {
    let names: Vec<&str> = ["recency_days", "frequency", "monetary", "response_rate"]
        .into_iter()
        .filter(|name| customers.frame.column(name).is_ok())
        .collect();
    let mut values = aligned(count, customers.frame.clone().lazy(), &names)?.into_iter();
    let mut take = |name: &str| {
        names
            .contains(&name)
            .then(|| values.next().unwrap_or_default())
    };
    let recency = take("recency_days");
    let frequency = take("frequency").map(zero_if_missing);
    let monetary = take("monetary").map(zero_if_missing);
    let responses = take("response_rate");
    let number = |v: &Option<f64>| v.unwrap_or(0.0);
    let facts = PurchaseFacts {
        recency_days: match (&recency, &frequency) {
            // A customer without orders has no last purchase, whatever the recency cell says.
            (Some(r), Some(f)) => r
                .iter()
                .zip(f)
                .map(|(r, f)| r.filter(|_| number(f) > 0.0))
                .collect(),
            (Some(r), None) => r.clone(),
            (None, _) => vec![None; count],
        },
        frequency: frequency
            .as_ref()
            .map_or_else(|| vec![0.0; count], |f| f.iter().map(number).collect()),
        monetary: monetary
            .as_ref()
            .map_or_else(|| vec![0.0; count], |m| m.iter().map(number).collect()),
        previous_gap_days: vec![None; count],
    };
    let rfm = |name: &str, values: Vec<Option<f64>>| {
        Feature::new(name, FeatureGroup::Rfm, FeatureKind::Numeric, values)
    };
    let mut features = Vec::new();
    if let Some(recency) = recency {
        let mut feature = rfm("recency_days", recency);
        feature.impute = Impute::Max;
        features.push(feature);
    }
    if let (Some(f), Some(m)) = (&frequency, &monetary) {
        let aov = f
            .iter()
            .zip(m)
            .map(|(f, m)| {
                Some(if number(f) > 0.0 {
                    number(m) / number(f)
                } else {
                    0.0
                })
            })
            .collect();
        features.extend([rfm("frequency", f.clone()), rfm("monetary", m.clone())]);
        features.push(rfm("avg_order_value", aov));
    } else {
        features.extend(frequency.map(|f| rfm("frequency", f)));
        features.extend(monetary.map(|m| rfm("monetary", m)));
    }
    if let Some(responses) = responses {
        features.push(Feature::new(
            "response_rate",
            FeatureGroup::Engagement,
            FeatureKind::Share,
            responses,
        ));
    }
    Ok((features, facts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_named_columns_lose_their_units() {
        assert_eq!(column_name("Annual Income (k$)"), "annual_income");
        assert_eq!(column_name("Spending Score (1-100)"), "spending_score");
        assert_eq!(column_name("MINIMUM_PAYMENTS"), "minimum_payments");
        assert_eq!(column_name("Balance [USD]"), "balance");
        assert_eq!(column_name("(k$)"), "k");
        assert_eq!(slug("Home & Garden"), "home_garden");
    }
}
