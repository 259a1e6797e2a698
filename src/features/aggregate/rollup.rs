//! The orders added up per customer: the purchase columns (RFM, refunds, discounts, habits,
//! the season) and the distinct purchase days.

use std::collections::HashMap;

use polars::prelude::*;

use super::{customer_index, integers, values, MILLIS_PER_DAY};
use crate::error::Result;
use crate::load::{TransactionTable, MICROS};

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
pub(super) fn customer_order_columns(
    orders: &DataFrame,
    customers: usize,
    as_of_day: i32,
    tx: &TransactionTable,
    peak_months: &[u32],
) -> Result<HashMap<&'static str, Vec<Option<f64>>>> {
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
    let mut out = HashMap::new();
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
