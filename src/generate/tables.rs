//! The generated tables as column vectors, and the rows of one customer written into them.

use chrono::{NaiveDate, NaiveDateTime};

use super::calendar::{Calendar, Moment};
use super::catalogue::{CATEGORIES, CHANNELS, EVENT_TYPES};
use super::orders::Line;

/// All generated tables, each as column vectors of equal length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyntheticData {
    /// One row per customer.
    pub customers: CustomerRows,
    /// Order lines and refund lines, per customer in time order.
    pub transactions: TransactionRows,
    /// Mailings sent, per customer in time order.
    pub campaigns: CampaignRows,
    /// Site/app events, per customer in time order.
    pub events: EventRows,
    /// Ground truth: the planted group of every customer.
    pub planted: PlantedRows,
}

/// One row per customer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomerRows {
    /// "C000123": "C" and the 1-based index, at least six digits.
    pub customer_id: Vec<String>,
    /// 1945..=2006; about 2 % unknown.
    pub birth_year: Vec<Option<i32>>,
    /// "F", "M" or "X"; about 2 % unknown.
    pub gender: Vec<Option<String>>,
    pub country: Vec<String>,
    pub city: Vec<String>,
    /// Yearly income, heavy right tail; about 5 % unknown.
    pub income: Vec<Option<f64>>,
    /// On or before the first purchase; may precede the period.
    pub signup_date: Vec<NaiveDate>,
    /// Interests joined by ';', may be empty.
    pub tags: Vec<String>,
}

/// One row per order line; refunds are extra lines with negative quantity and amount.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TransactionRows {
    pub customer_id: Vec<String>,
    /// Shared by the lines of one order; a refund line has "R" + the original order's id.
    pub order_id: Vec<String>,
    pub timestamp: Vec<NaiveDateTime>,
    /// One category per line, distinct within an order.
    pub category: Vec<String>,
    /// web | app | store
    pub channel: Vec<String>,
    /// Negative on refund lines.
    pub quantity: Vec<i64>,
    /// Price of one item in cents precision; on a refund line, the net price paid per item.
    pub unit_price: Vec<f64>,
    /// Money off this line, >= 0.
    pub discount: Vec<f64>,
    /// quantity * unit_price - discount, rounded to cents; negative for refund lines.
    pub amount: Vec<f64>,
}

/// One row per mailing sent to a customer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CampaignRows {
    pub customer_id: Vec<String>,
    /// "CMP-2025-11": one id per mailing.
    pub campaign_id: Vec<String>,
    pub sent_at: Vec<NaiveDate>,
    pub opened: Vec<bool>,
    /// Only when opened.
    pub clicked: Vec<bool>,
    /// Bought after clicking; only when clicked.
    pub responded: Vec<bool>,
}

/// One row per site/app event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventRows {
    pub customer_id: Vec<String>,
    pub timestamp: Vec<NaiveDateTime>,
    /// visit | view | add_to_cart | favourite
    pub event_type: Vec<String>,
}

/// The planted (true) group of every customer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlantedRows {
    pub customer_id: Vec<String>,
    /// One of [`PLANTED_GROUPS`](super::PLANTED_GROUPS).
    pub group: Vec<String>,
}

/// Typical rows per customer, to reserve the columns once instead of growing them.
const LINES_PER_CUSTOMER: usize = 30;
const EVENTS_PER_CUSTOMER: usize = 60;
const MAILINGS_PER_CUSTOMER: usize = 7;

impl SyntheticData {
    pub(super) fn with_capacity(customers: usize) -> Self {
        let lines = customers * LINES_PER_CUSTOMER;
        let events = customers * EVENTS_PER_CUSTOMER;
        let mailings = customers * MAILINGS_PER_CUSTOMER;
        Self {
            customers: CustomerRows {
                customer_id: Vec::with_capacity(customers),
                birth_year: Vec::with_capacity(customers),
                gender: Vec::with_capacity(customers),
                country: Vec::with_capacity(customers),
                city: Vec::with_capacity(customers),
                income: Vec::with_capacity(customers),
                signup_date: Vec::with_capacity(customers),
                tags: Vec::with_capacity(customers),
            },
            transactions: TransactionRows {
                customer_id: Vec::with_capacity(lines),
                order_id: Vec::with_capacity(lines),
                timestamp: Vec::with_capacity(lines),
                category: Vec::with_capacity(lines),
                channel: Vec::with_capacity(lines),
                quantity: Vec::with_capacity(lines),
                unit_price: Vec::with_capacity(lines),
                discount: Vec::with_capacity(lines),
                amount: Vec::with_capacity(lines),
            },
            campaigns: CampaignRows {
                customer_id: Vec::with_capacity(mailings),
                campaign_id: Vec::with_capacity(mailings),
                sent_at: Vec::with_capacity(mailings),
                opened: Vec::with_capacity(mailings),
                clicked: Vec::with_capacity(mailings),
                responded: Vec::with_capacity(mailings),
            },
            events: EventRows {
                customer_id: Vec::with_capacity(events),
                timestamp: Vec::with_capacity(events),
                event_type: Vec::with_capacity(events),
            },
            planted: PlantedRows {
                customer_id: Vec::with_capacity(customers),
                group: Vec::with_capacity(customers),
            },
        }
    }
}

/// "O" + 10 digits (customer index * 1000 + order number), "RO…" for its refund.
fn order_id(index: usize, seq: u32, refund: bool) -> String {
    let number = index as u64 * 1000 + u64::from(seq);
    padded(if refund { "RO" } else { "O" }, number, 10)
}

/// `prefix` + `number` zero-padded to `width` digits; a hand-rolled `format!` because it runs
/// once per line.
pub(super) fn padded(prefix: &str, mut number: u64, width: usize) -> String {
    let mut digits = [b'0'; 20];
    let mut len = 0;
    while number > 0 || len < width {
        digits[len] = b'0' + (number % 10) as u8;
        number /= 10;
        len += 1;
    }
    let mut out = String::with_capacity(prefix.len() + len);
    out.push_str(prefix);
    out.extend(digits[..len].iter().rev().map(|&d| char::from(d)));
    out
}

pub(super) fn push_lines(
    (id, index): (&str, usize),
    calendar: &Calendar,
    lines: &mut [Line],
    rows: &mut TransactionRows,
) {
    // Stable sort: lines of one order keep their order, refunds come at their later time.
    lines.sort_by_key(|line| line.timestamp);
    for line in lines.iter() {
        rows.customer_id.push(id.to_string());
        rows.order_id.push(order_id(index, line.seq, line.refund));
        rows.timestamp.push(calendar.timestamp(line.timestamp));
        rows.category
            .push(CATEGORIES[usize::from(line.category)].to_string());
        rows.channel
            .push(CHANNELS[usize::from(line.channel)].to_string());
        rows.quantity.push(line.quantity);
        rows.unit_price.push(line.unit_price);
        rows.discount.push(line.discount);
        rows.amount.push(line.amount);
    }
}

pub(super) fn push_events(
    id: &str,
    calendar: &Calendar,
    events: &mut [(Moment, u8)],
    rows: &mut EventRows,
) {
    events.sort_by_key(|(t, _)| *t);
    for (t, kind) in events.iter() {
        rows.customer_id.push(id.to_string());
        rows.timestamp.push(calendar.timestamp(*t));
        rows.event_type
            .push(EVENT_TYPES[usize::from(*kind)].to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_padded() {
        assert_eq!(padded("C", 123, 6), "C000123");
        assert_eq!(padded("C", 1_000_000, 6), "C1000000");
        assert_eq!(order_id(12, 7, false), "O0000012007");
        assert_eq!(order_id(12, 7, true), "RO0000012007");
    }
}
