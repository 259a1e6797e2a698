//! The features of the transaction lines: the RFM block, refunds and discounts, habits (weekend,
//! time of day, the peak season) and spend shares per category and channel.

use polars::prelude::*;

use super::orders::orders;
use super::rfm::Purchases;
use super::rollup::customer_order_columns;
use super::spend_shares::spend_shares;
use super::{zero_if_missing, MILLIS_PER_DAY};
use crate::error::{PolarsContext, Result};
use crate::features::{Feature, FeatureGroup, FeatureKind, PurchaseFacts, Trials};
use crate::job::FeatureOptions;
use crate::load::TransactionTable;

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
    // Every buyer has a recency, and everyone an order count and a spend (0 without orders).
    let (facts, mut features) = Purchases {
        recency_days: Some(take("recency_days")),
        frequency: Some(zero_if_missing(take("frequency"))),
        monetary: Some(zero_if_missing(take("monetary"))),
        avg_order_value: Some(take("avg_order_value")),
        previous_gap_days: Some(take("previous_gap_days")),
    }
    .facts_and_features(customers);
    features.extend([
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
    ]);
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
            let listed = options.values.get(column).map(Vec::as_slice);
            features.extend(spend_shares(
                lines(),
                customers,
                column,
                options.top_n,
                listed,
            )?);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::Trials;

    const DAY: i64 = 86_400_000;
    const HOUR: i64 = 3_600_000;
    /// 1970-04-11; day 90 is a Wednesday, day 93 a Saturday (1970-01-01 was a Thursday).
    const AS_OF: i32 = 100;

    fn money(amount: f64) -> i64 {
        (amount * 1e6).round() as i64
    }

    /// Three customers, by hand:
    /// - 0 buys order A on day 90 at 10:00 (30.00 shoes + 20.00 books), B on day 93 at 19:00
    ///   (40.00 books) and C on day 93 at 09:00 (25.00 shoes), sends 10.00 of shoes back on day
    ///   96 (order RA), and buys 500.00 on the as-of day, which the window leaves out;
    /// - 1 buys order D on day 50 (60.00 toys) and returns all of it on day 52 (order RD);
    /// - 2 never buys.
    fn lines(order_ids: bool) -> TransactionTable {
        let rows = [
            (0u32, 90 * DAY + 10 * HOUR, 30.0, "A", "shoes"),
            (0, 90 * DAY + 10 * HOUR, 20.0, "A", "books"),
            (0, 93 * DAY + 19 * HOUR, 40.0, "B", "books"),
            (0, 93 * DAY + 9 * HOUR, 25.0, "C", "shoes"),
            (0, 96 * DAY + 12 * HOUR, -10.0, "RA", "shoes"),
            (0, 100 * DAY + 8 * HOUR, 500.0, "E", "shoes"),
            (1, 50 * DAY + 15 * HOUR, 60.0, "D", "toys"),
            (1, 52 * DAY + 15 * HOUR, -60.0, "RD", "toys"),
        ];
        let mut columns = vec![
            Column::new("customer".into(), rows.map(|r| r.0)),
            Column::new("millis".into(), rows.map(|r| r.1)),
            Column::new("amount".into(), rows.map(|r| money(r.2))),
            Column::new("category".into(), rows.map(|r| r.4)),
        ];
        if order_ids {
            columns.push(Column::new("order_id".into(), rows.map(|r| r.3)));
        }
        TransactionTable {
            frame: DataFrame::new_infer_height(columns).expect("frame"),
            has_time: true,
            has_order_id: order_ids,
            has_category: true,
            has_channel: false,
            has_discount: false,
        }
    }

    fn aggregate(order_ids: bool, top_n: usize) -> TransactionFeatures {
        let options = FeatureOptions {
            top_n,
            ..FeatureOptions::default()
        };
        transactions(&lines(order_ids), 3, AS_OF, &options).expect("aggregate")
    }

    fn values<'a>(out: &'a TransactionFeatures, name: &str) -> &'a [Option<f64>] {
        &out.features
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no feature {name}"))
            .values
    }

    fn close(actual: &[Option<f64>], expected: &[Option<f64>]) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            match (a, e) {
                (Some(a), Some(e)) => assert!((a - e).abs() < 1e-12, "{actual:?} vs {expected:?}"),
                _ => assert_eq!(a, e, "{actual:?} vs {expected:?}"),
            }
        }
    }

    #[test]
    fn rfm_by_order_id() {
        let out = aggregate(true, 8);
        assert_eq!((out.after_as_of, out.used), (1, 7));
        // Recency from the last purchase (day 93); the refund on day 96 is no purchase.
        close(values(&out, "recency_days"), &[Some(7.0), Some(50.0), None]);
        // Orders A, B and C; D is a purchase too, its refund RD is not.
        close(
            values(&out, "frequency"),
            &[Some(3.0), Some(1.0), Some(0.0)],
        );
        // Net of refunds: 50 + 40 + 25 − 10, and 60 − 60.
        close(
            values(&out, "monetary"),
            &[Some(105.0), Some(0.0), Some(0.0)],
        );
        // The purchases' spend per purchase, before refunds: 115 / 3.
        close(
            values(&out, "avg_order_value"),
            &[Some(115.0 / 3.0), Some(60.0), None],
        );
        close(
            values(&out, "tenure_days"),
            &[Some(10.0), Some(50.0), Some(0.0)],
        );
        // Two distinct purchase days three days apart.
        close(
            values(&out, "mean_interpurchase_days"),
            &[Some(3.0), None, None],
        );
        close(
            values(&out, "refund_share"),
            &[Some(10.0 / 115.0), Some(1.0), None],
        );
        assert_eq!(out.facts.recency_days, vec![Some(7.0), Some(50.0), None]);
        assert_eq!(out.facts.frequency, vec![3.0, 1.0, 0.0]);
        assert_eq!(out.facts.monetary, vec![105.0, 0.0, 0.0]);
        assert_eq!(out.facts.previous_gap_days, vec![Some(3.0), None, None]);
        let recency = out.features.iter().find(|f| f.name == "recency_days");
        assert_eq!(
            recency.map(|f| f.impute),
            Some(crate::features::Impute::Max)
        );
    }

    #[test]
    fn rfm_by_distinct_day_without_order_ids() {
        let out = aggregate(false, 8);
        // B and C fall on one day and make one order: day 90 and day 93.
        close(
            values(&out, "frequency"),
            &[Some(2.0), Some(1.0), Some(0.0)],
        );
        close(
            values(&out, "monetary"),
            &[Some(105.0), Some(0.0), Some(0.0)],
        );
        close(
            values(&out, "avg_order_value"),
            &[Some(57.5), Some(60.0), None],
        );
        close(values(&out, "recency_days"), &[Some(7.0), Some(50.0), None]);
        assert_eq!(out.facts.frequency, vec![2.0, 1.0, 0.0]);
    }

    #[test]
    fn habit_shares_count_purchases() {
        // By order: A on a Wednesday morning, B on a Saturday evening, C on a Saturday morning.
        let out = aggregate(true, 8);
        close(
            values(&out, "weekend_share"),
            &[Some(2.0 / 3.0), Some(0.0), None],
        );
        close(
            values(&out, "morning_share"),
            &[Some(2.0 / 3.0), Some(0.0), None],
        );
        close(
            values(&out, "evening_share"),
            &[Some(1.0 / 3.0), Some(0.0), None],
        );
        let weekend = out.features.iter().find(|f| f.name == "weekend_share");
        assert_eq!(
            weekend.and_then(|f| f.trials.clone()),
            Trials::counted("frequency")
        );
        // By day, the Saturday order starts at C's 09:00.
        let out = aggregate(false, 8);
        close(values(&out, "weekend_share"), &[Some(0.5), Some(0.0), None]);
        close(values(&out, "morning_share"), &[Some(1.0), Some(0.0), None]);
    }

    #[test]
    fn spend_shares_weigh_purchase_lines() {
        // Positive spend in the window: books 60, toys 60, shoes 55 (the refund and the line on
        // the as-of day left out); the two largest get columns, ties by name, shoes is "other".
        let out = aggregate(true, 2);
        let names: Vec<&str> = out
            .features
            .iter()
            .map(|f| f.name.as_str())
            .filter(|n| n.starts_with("category_"))
            .collect();
        assert_eq!(names, ["category_books", "category_toys", "category_other"]);
        close(
            values(&out, "category_books"),
            &[Some(60.0 / 115.0), Some(0.0), None],
        );
        close(values(&out, "category_toys"), &[Some(0.0), Some(1.0), None]);
        close(
            values(&out, "category_other"),
            &[Some(55.0 / 115.0), Some(0.0), None],
        );
        let other = out.features.iter().find(|f| f.name == "category_other");
        assert_eq!(
            other.and_then(|f| f.trials.clone()),
            Trials::of_spend("frequency")
        );
    }
}
