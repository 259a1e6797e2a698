//! Synthetic CRM data with planted behavioural groups.
//!
//! [`generate`] builds the four input tables of an online + store retailer (customers,
//! transaction lines, campaign contacts, site/app events) for 2024-01-01 ..= 2025-12-31, plus
//! the planted group of every customer as ground truth for the clustering.
//!
//! Every customer belongs to one of [`PLANTED_GROUPS`]. Its behaviour (order rhythm, basket,
//! discounts, habits, engagement) is drawn from wide per-group distributions, and some buyers
//! blend in a second group, so every single feature overlaps between groups the way real
//! customers do while the combination of features still identifies the groups.
//!
//! Each customer has its own RNG seeded from the master seed and its index, so the output does
//! not depend on how customers are chunked, and the same options always give the same data.

mod calendar;
mod campaigns;
mod catalogue;
mod customers;
mod orders;
mod profiles;
mod sampling;
mod sessions;
mod tables;
mod write;

pub use calendar::{DEFAULT_AS_OF, PERIOD_END, PERIOD_START};
pub use profiles::PLANTED_GROUPS;
pub use tables::{
    CampaignRows, CustomerRows, EventRows, PlantedRows, SyntheticData, TransactionRows,
};
pub use write::{generate_to, write_tables, RowCounts};

use std::ops::Range;

use calendar::{Calendar, Moment};
use campaigns::push_campaigns;
use customers::{push_customer, signup_day};
use orders::{add_orders, order_days, Line};
use profiles::draw_profile;
use sampling::customer_rng;
use sessions::{add_browsing, interest_window};
use tables::{padded, push_events, push_lines};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Number of customers (rows of the customers table).
    pub customers: usize,
    /// Master seed; every customer's RNG derives from it and the customer's index.
    pub seed: u64,
}

/// Generates all tables for `opts.customers` customers, deterministically from `opts.seed`.
pub fn generate(opts: &GenerateOptions) -> SyntheticData {
    generate_range(opts, 0..opts.customers)
}

/// Generates only the customers with index in `customers` (0-based), exactly as [`generate`]
/// would: concatenating consecutive ranges gives the same tables, so large runs can be
/// produced and written chunk by chunk.
pub fn generate_range(opts: &GenerateOptions, customers: Range<usize>) -> SyntheticData {
    let calendar = Calendar::new(opts.seed);
    let mut data = SyntheticData::with_capacity(customers.len());
    let mut scratch = Scratch::default();
    for index in customers {
        generate_customer(index, opts.seed, &calendar, &mut scratch, &mut data);
    }
    data
}

/// Buffers reused across customers to avoid re-allocating per customer.
#[derive(Default)]
struct Scratch {
    raw_days: Vec<f64>,
    days: Vec<i64>,
    lines: Vec<Line>,
    events: Vec<(Moment, u8)>,
}

/// One customer's rows in every table, drawn from the customer's own RNG stream. The order of
/// the draws (profile, order days, sign-up, orders, browsing, demographics, mailings) is part of
/// the output: the same seed gives the same tables only while it stays the same.
fn generate_customer(
    index: usize,
    seed: u64,
    calendar: &Calendar,
    scratch: &mut Scratch,
    data: &mut SyntheticData,
) {
    let mut rng = customer_rng(seed, index);
    let id = padded("C", index as u64 + 1, 6);
    let profile = draw_profile(&mut rng);
    scratch.days.clear();
    scratch.lines.clear();
    scratch.events.clear();

    order_days(
        &profile,
        calendar,
        &mut rng,
        &mut scratch.raw_days,
        &mut scratch.days,
    );
    let first = scratch.days.first().copied();
    let last = scratch.days.last().copied();
    let signup = signup_day(profile.group, first, &mut rng);
    add_orders(&profile.style, &mut rng, scratch);
    let interest = interest_window(signup, first, last);
    add_browsing(
        &profile.style,
        calendar,
        interest,
        &mut rng,
        &mut scratch.events,
    );

    push_customer(
        &id,
        &profile,
        calendar.date_unclamped(signup),
        &mut rng,
        data,
    );
    push_campaigns(&id, &profile.style, signup, last, calendar, &mut rng, data);
    push_lines(
        (&id, index),
        calendar,
        &mut scratch.lines,
        &mut data.transactions,
    );
    push_events(&id, calendar, &mut scratch.events, &mut data.events);
    data.planted.customer_id.push(id);
    data.planted.group.push(profile.group.name().to_string());
}

#[cfg(test)]
mod tests {
    use super::orders::round_cents;
    use super::*;
    use chrono::NaiveDateTime;
    use std::collections::{HashMap, HashSet};

    fn sample() -> SyntheticData {
        generate(&GenerateOptions {
            customers: 3000,
            seed: 7,
        })
    }

    #[test]
    fn ranges_concatenate_to_the_whole() {
        let opts = GenerateOptions {
            customers: 300,
            seed: 5,
        };
        let whole = generate(&opts);
        let a = generate_range(&opts, 0..120);
        let b = generate_range(&opts, 120..300);
        let mut ids = a.transactions.order_id.clone();
        ids.extend(b.transactions.order_id.iter().cloned());
        assert_eq!(ids, whole.transactions.order_id);
        let mut amounts = a.transactions.amount.clone();
        amounts.extend(&b.transactions.amount);
        assert_eq!(amounts, whole.transactions.amount);
        let mut events = a.events.timestamp.clone();
        events.extend(&b.events.timestamp);
        assert_eq!(events, whole.events.timestamp);
        assert_eq!(b.customers.customer_id[0], "C000121");
    }

    #[test]
    fn deterministic() {
        let opts = GenerateOptions {
            customers: 500,
            seed: 42,
        };
        assert_eq!(generate(&opts), generate(&opts));
        let other = generate(&GenerateOptions { seed: 43, ..opts });
        assert_ne!(generate(&opts).transactions, other.transactions);
    }

    #[test]
    fn every_group_present() {
        let data = sample();
        let groups: HashSet<&str> = data.planted.group.iter().map(String::as_str).collect();
        for g in PLANTED_GROUPS {
            assert!(groups.contains(g), "missing group {g}");
        }
        assert_eq!(data.planted.customer_id, data.customers.customer_id);
    }

    /// The customers planted in the Prospects group.
    fn prospects(data: &SyntheticData) -> HashSet<&str> {
        data.planted
            .customer_id
            .iter()
            .zip(&data.planted.group)
            .filter(|(_, g)| g.as_str() == "Prospects")
            .map(|(c, _)| c.as_str())
            .collect()
    }

    #[test]
    fn prospects_have_no_transactions() {
        let data = sample();
        let prospects = prospects(&data);
        assert!(!prospects.is_empty());
        assert!(data
            .transactions
            .customer_id
            .iter()
            .all(|c| !prospects.contains(c.as_str())));
    }

    #[test]
    fn prospects_show_warm_interest() {
        let data = sample();
        let prospects = prospects(&data);
        let carts = data
            .events
            .customer_id
            .iter()
            .zip(&data.events.event_type)
            .filter(|(c, e)| prospects.contains(c.as_str()) && e.as_str() == "add_to_cart")
            .count();
        assert!(carts > 0);
    }

    #[test]
    fn amounts_match_to_the_cent() {
        let t = sample().transactions;
        for i in 0..t.amount.len() {
            let expected = t.quantity[i] as f64 * t.unit_price[i] - t.discount[i];
            assert!((t.amount[i] - expected).abs() < 0.005 + 1e-9, "line {i}");
            assert!(t.discount[i] >= 0.0);
            assert_eq!(t.amount[i], round_cents(t.amount[i]));
        }
    }

    #[test]
    fn refunds_present_and_consistent() {
        let t = sample().transactions;
        let mut order_time: HashMap<&str, NaiveDateTime> = HashMap::new();
        for (id, ts) in t.order_id.iter().zip(&t.timestamp) {
            if !id.starts_with('R') {
                order_time.insert(id.as_str(), *ts);
            }
        }
        let mut refunded = HashSet::new();
        for i in 0..t.order_id.len() {
            if let Some(original) = t.order_id[i].strip_prefix('R') {
                assert!(t.quantity[i] < 0 && t.amount[i] < 0.0);
                let at = order_time
                    .get(original)
                    .expect("refund references an order");
                assert!(t.timestamp[i] > *at);
                refunded.insert(original);
            }
        }
        let share = refunded.len() as f64 / order_time.len() as f64;
        assert!((0.02..0.07).contains(&share), "refund share {share}");
    }

    #[test]
    fn timestamps_in_period() {
        let data = sample();
        let in_period = |t: &NaiveDateTime| (PERIOD_START..=PERIOD_END).contains(&t.date());
        assert!(data.transactions.timestamp.iter().all(in_period));
        assert!(data.events.timestamp.iter().all(in_period));
        assert!(data
            .campaigns
            .sent_at
            .iter()
            .all(|d| (PERIOD_START..=PERIOD_END).contains(d)));
    }

    #[test]
    fn columns_have_equal_lengths() {
        let d = sample();
        let t = &d.transactions;
        let n = t.customer_id.len();
        for len in [
            t.order_id.len(),
            t.timestamp.len(),
            t.category.len(),
            t.channel.len(),
            t.quantity.len(),
            t.unit_price.len(),
            t.discount.len(),
            t.amount.len(),
        ] {
            assert_eq!(len, n);
        }
        assert_eq!(d.events.event_type.len(), d.events.customer_id.len());
        assert_eq!(d.campaigns.responded.len(), d.campaigns.customer_id.len());
        assert_eq!(d.customers.tags.len(), 3000);
    }
}
