//! Engagement per customer: site/app events and mailing responses.

use polars::prelude::*;

use super::{aligned, flag, zero_if_missing};
use crate::error::{PolarsContext, Result};
use crate::features::{Feature, FeatureGroup, FeatureKind, Trials};

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
