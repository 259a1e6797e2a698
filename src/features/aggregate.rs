//! Per-customer aggregation with polars: transactions → orders → customers, plus events,
//! campaigns and pre-aggregated CRM tables.

use polars::prelude::*;

use super::{Feature, FeatureGroup, FeatureKind, Impute, PurchaseFacts};
use crate::error::{PolarsContext, Result};
use crate::job::FeatureOptions;
use crate::load::{CustomerTable, Inputs, TransactionTable};

pub fn latest_transaction_day(inputs: &Inputs) -> Option<i32> {
    let tx = inputs.transactions.as_ref()?;
    tx.frame.column("day").ok()?.i32().ok()?.max()
}

/// Aggregate columns joined onto the customer list, in its order; customers missing from the
/// aggregate get nulls.
fn aligned(
    customer_ids: &[String],
    aggregate: LazyFrame,
    names: &[&str],
) -> Result<Vec<Vec<Option<f64>>>> {
    let rows: Vec<u32> = (0..customer_ids.len() as u32).collect();
    let universe = df!("customer_id" => customer_ids, "__row" => rows).context("customer list")?;
    let joined = universe
        .lazy()
        .left_join(aggregate, col("customer_id"), col("customer_id"))
        .sort(["__row"], SortMultipleOptions::default())
        .collect()
        .context("joining per-customer aggregates")?;
    names
        .iter()
        .map(|name| {
            let column = joined
                .column(name)
                .and_then(|c| c.cast(&DataType::Float64))
                .context(format!("aggregate column {name}"))?;
            Ok(column
                .f64()
                .context(format!("aggregate column {name}"))?
                .iter()
                .collect())
        })
        .collect()
}

fn zero_if_missing(values: Vec<Option<f64>>) -> Vec<Option<f64>> {
    values.into_iter().map(|v| Some(v.unwrap_or(0.0))).collect()
}

fn flag(condition: Expr) -> Expr {
    condition.cast(DataType::Float64)
}

fn ratio(numerator: &str, denominator: &str) -> Expr {
    when(col(denominator).gt(lit(0.0)))
        .then(col(numerator).cast(DataType::Float64) / col(denominator).cast(DataType::Float64))
        .otherwise(lit(NULL).cast(DataType::Float64))
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
    customer_ids: &[String],
    as_of_day: i32,
    options: &FeatureOptions,
) -> Result<TransactionFeatures> {
    let lines = tx
        .frame
        .clone()
        .lazy()
        .filter(col("day").lt(lit(as_of_day)))
        .collect()
        .context("filtering transactions to the as-of window")?;
    let after_as_of = tx.frame.height() - lines.height();
    let orders = orders(&lines, &options.peak_months)?;
    let mut columns = customer_order_columns(orders.clone(), customer_ids, as_of_day, tx)?;
    let previous_gap = previous_gap_days(orders, customer_ids)?;

    let mut take = |name: &str| columns.remove(name).unwrap_or_default();
    let frequency = zero_if_missing(take("frequency"));
    let monetary = zero_if_missing(take("monetary"));
    let recency = take("recency_days");
    let facts = PurchaseFacts {
        recency_days: recency.clone(),
        frequency: frequency.iter().map(|v| v.unwrap_or(0.0)).collect(),
        monetary: monetary.iter().map(|v| v.unwrap_or(0.0)).collect(),
        previous_gap_days: previous_gap,
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
    if tx.has_category {
        features.extend(spend_shares(
            &lines,
            customer_ids,
            "category",
            options.top_n,
        )?);
    }
    if tx.has_channel {
        features.extend(spend_shares(
            &lines,
            customer_ids,
            "channel",
            options.top_n,
        )?);
    }
    Ok(TransactionFeatures {
        features,
        facts,
        after_as_of,
        used: lines.height(),
    })
}

/// Lines of one order_key (order id, or purchase day without one) become one order.
fn orders(lines: &DataFrame, peak_months: &[u32]) -> Result<LazyFrame> {
    let peak = peak_months
        .iter()
        .fold(lit(false), |acc, m| acc.or(col("month").eq(lit(*m as i32))));
    let orders = lines
        .clone()
        .lazy()
        .group_by([col("customer_id"), col("order_key")])
        .agg([
            col("amount").sum().alias("net"),
            when(col("amount").gt(lit(0.0)))
                .then(col("amount"))
                .otherwise(lit(0.0))
                .sum()
                .alias("gross"),
            when(col("amount").lt(lit(0.0)))
                .then(-col("amount"))
                .otherwise(lit(0.0))
                .sum()
                .alias("refunded"),
            col("discount").sum().alias("discount"),
            col("day").min().alias("day"),
            col("hour").first().alias("hour"),
            col("weekday").first().alias("weekday"),
            peak.first().alias("peak"),
        ]);
    Ok(orders)
}

fn customer_order_columns(
    orders: LazyFrame,
    customer_ids: &[String],
    as_of_day: i32,
    tx: &TransactionTable,
) -> Result<std::collections::HashMap<String, Vec<Option<f64>>>> {
    let bought = || col("net").gt(lit(0.0));
    let purchase_count = |condition: Expr| flag(bought().and(condition)).sum();
    let hour_in = |from: i32, to: i32| col("hour").gt_eq(lit(from)).and(col("hour").lt(lit(to)));
    let aggregated = orders
        .group_by([col("customer_id")])
        .agg([
            col("net").sum().alias("monetary"),
            flag(bought()).sum().alias("frequency"),
            col("net").filter(bought()).mean().alias("avg_order_value"),
            col("gross").sum().alias("gross"),
            col("refunded").sum().alias("refunded"),
            col("day").filter(bought()).max().alias("last_day"),
            col("day").filter(bought()).min().alias("first_day"),
            col("day")
                .filter(bought())
                .n_unique()
                .alias("purchase_days"),
            purchase_count(col("discount").gt(lit(0.0))).alias("discounted_orders"),
            (col("discount") / (col("net") + col("discount")))
                .filter(bought().and(col("discount").gt(lit(0.0))))
                .mean()
                .alias("discount_depth"),
            purchase_count(col("weekday").gt_eq(lit(6))).alias("weekend_orders"),
            purchase_count(hour_in(5, 12)).alias("morning_orders"),
            purchase_count(hour_in(12, 18)).alias("afternoon_orders"),
            purchase_count(hour_in(18, 24).or(hour_in(0, 5))).alias("evening_orders"),
            col("net")
                .filter(bought().and(col("peak")))
                .sum()
                .alias("peak_spend"),
            col("net").filter(bought()).sum().alias("purchase_spend"),
        ])
        .with_columns([
            (lit(as_of_day) - col("last_day"))
                .cast(DataType::Float64)
                .alias("recency_days"),
            (lit(as_of_day) - col("first_day"))
                .cast(DataType::Float64)
                .alias("tenure_days"),
            when(col("purchase_days").gt(lit(1)))
                .then(
                    (col("last_day") - col("first_day")).cast(DataType::Float64)
                        / (col("purchase_days") - lit(1)).cast(DataType::Float64),
                )
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("mean_interpurchase_days"),
            ratio("refunded", "gross").alias("refund_share"),
            ratio("discounted_orders", "frequency").alias("discount_share"),
            ratio("weekend_orders", "frequency").alias("weekend_share"),
            ratio("morning_orders", "frequency").alias("morning_share"),
            ratio("afternoon_orders", "frequency").alias("afternoon_share"),
            ratio("evening_orders", "frequency").alias("evening_share"),
            ratio("peak_spend", "purchase_spend").alias("peak_season_share"),
        ]);
    let mut names = vec![
        "monetary",
        "frequency",
        "avg_order_value",
        "recency_days",
        "tenure_days",
        "mean_interpurchase_days",
        "refund_share",
        "weekend_share",
        "peak_season_share",
    ];
    if tx.has_discount {
        names.extend(["discount_share", "discount_depth"]);
    }
    if tx.has_time {
        names.extend(["morning_share", "afternoon_share", "evening_share"]);
    }
    let values = aligned(customer_ids, aggregated, &names)?;
    Ok(names.into_iter().map(String::from).zip(values).collect())
}

/// Days between a customer's last two purchase days (for the "Returned" lifecycle stage).
fn previous_gap_days(orders: LazyFrame, customer_ids: &[String]) -> Result<Vec<Option<f64>>> {
    let days = orders
        .filter(col("net").gt(lit(0.0)))
        .select([col("customer_id"), col("day")]);
    let last = days
        .clone()
        .group_by([col("customer_id")])
        .agg([col("day").max().alias("last_day")]);
    let previous = days
        .left_join(last, col("customer_id"), col("customer_id"))
        .filter(col("day").lt(col("last_day")))
        .group_by([col("customer_id")])
        .agg([(col("last_day").first() - col("day").max()).alias("previous_gap_days")]);
    Ok(aligned(customer_ids, previous, &["previous_gap_days"])?.remove(0))
}

/// Share of each customer's gross spend per value of `column` (top-N values, the rest "other").
fn spend_shares(
    lines: &DataFrame,
    customer_ids: &[String],
    column: &str,
    top_n: usize,
) -> Result<Vec<Feature>> {
    let positive = lines.clone().lazy().filter(col("amount").gt(lit(0.0)));
    let top = top_values(positive.clone(), column, top_n)?;
    let mut aggs = vec![col("amount").sum().alias("__gross")];
    for (i, value) in top.iter().enumerate() {
        aggs.push(
            col("amount")
                .filter(col(column).eq(lit(value.as_str())))
                .sum()
                .alias(format!("__v{i}")),
        );
    }
    let mut shares: Vec<Expr> = (0..top.len())
        .map(|i| ratio(&format!("__v{i}"), "__gross").alias(format!("__s{i}")))
        .collect();
    let top_sum = (0..top.len()).fold(lit(0.0), |acc, i| acc + col(format!("__v{i}")));
    shares.push(
        when(col("__gross").gt(lit(0.0)))
            .then(lit(1.0) - top_sum / col("__gross"))
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias("__other"),
    );
    let aggregated = positive
        .group_by([col("customer_id")])
        .agg(aggs)
        .with_columns(shares);
    let mut names: Vec<String> = (0..top.len()).map(|i| format!("__s{i}")).collect();
    let has_other = distinct_count(lines, column)? > top.len();
    if has_other {
        names.push("__other".into());
    }
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let values = aligned(customer_ids, aggregated, &name_refs)?;
    let mut labels: Vec<String> = top
        .iter()
        .map(|v| format!("{column}_{}", slug(v)))
        .collect();
    if has_other {
        labels.push(format!("{column}_other"));
    }
    Ok(labels
        .into_iter()
        .zip(values)
        .map(|(label, v)| Feature::new(label, FeatureGroup::Behaviour, FeatureKind::Share, v))
        .collect())
}

fn top_values(lines: LazyFrame, column: &str, top_n: usize) -> Result<Vec<String>> {
    let ranked = lines
        .group_by([col(column)])
        .agg([col("amount").sum().alias("spend")])
        .sort_by_exprs(
            [col("spend"), col(column)],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .limit(top_n as IdxSize)
        .collect()
        .context(format!("ranking {column} values"))?;
    Ok(ranked
        .column(column)
        .context(column.to_string())?
        .str()
        .context(column.to_string())?
        .iter()
        .flatten()
        .map(String::from)
        .collect())
}

fn distinct_count(lines: &DataFrame, column: &str) -> Result<usize> {
    lines
        .column(column)
        .and_then(|c| c.n_unique())
        .context(format!("counting {column} values"))
}

/// A value turned into a lowercase column-name part: "Home & Garden" → "home_garden".
pub fn slug(value: &str) -> String {
    let mut out = String::new();
    for c in value.trim().to_lowercase().chars() {
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

pub fn events(events: &DataFrame, customer_ids: &[String], as_of_day: i32) -> Result<Vec<Feature>> {
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
    let aggregated = window.group_by([col("customer_id")]).agg([
        flag(is_visit.clone().and(since(30)))
            .sum()
            .alias("visits_30d"),
        flag(is_visit.and(since(90))).sum().alias("visits_90d"),
        flag(col("event_type").eq(lit("add_to_cart")).and(since(90)))
            .sum()
            .alias("add_to_cart_90d"),
    ]);
    let names = ["visits_30d", "visits_90d", "add_to_cart_90d"];
    let values = aligned(customer_ids, aggregated, &names)?;
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
pub fn event_recency(
    events: &DataFrame,
    customer_ids: &[String],
    as_of_day: i32,
) -> Result<Vec<Feature>> {
    let days_since = |day: Expr| (lit(as_of_day) - day).cast(DataType::Float64);
    let aggregated = events
        .clone()
        .lazy()
        .filter(col("day").lt(lit(as_of_day)))
        .group_by([col("customer_id")])
        .agg([
            days_since(col("day").max()).alias("days_since_event"),
            days_since(
                col("day")
                    .filter(col("event_type").eq(lit("add_to_cart")))
                    .max(),
            )
            .alias("days_since_add_to_cart"),
        ]);
    let names = ["days_since_event", "days_since_add_to_cart"];
    let values = aligned(customer_ids, aggregated, &names)?;
    Ok(names
        .iter()
        .zip(values)
        .map(|(name, v)| Feature::new(*name, FeatureGroup::Engagement, FeatureKind::Numeric, v))
        .collect())
}

pub fn campaigns(
    campaigns: &DataFrame,
    customer_ids: &[String],
    as_of_day: i32,
) -> Result<Vec<Feature>> {
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
    let aggregated = window.group_by([col("customer_id")]).agg(aggs);
    let mut names = vec!["campaigns_received"];
    names.extend(present.iter().map(|(_, rate)| *rate));
    let values = aligned(customer_ids, aggregated, &names)?;
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
                Feature::new(*name, FeatureGroup::Engagement, FeatureKind::Share, v)
            }
        })
        .collect())
}

/// A CRM table that already carries recency, order counts and spend per customer.
pub fn pre_aggregated(
    customers: &CustomerTable,
    customer_ids: &[String],
) -> Result<(Vec<Feature>, PurchaseFacts)> {
    let frame = customers.frame.clone().lazy();
    let mut names = vec!["recency_days", "frequency", "monetary"];
    let has_responses = customers.frame.column("response_rate").is_ok();
    if has_responses {
        names.push("response_rate");
    }
    let mut values = aligned(customer_ids, frame, &names)?.into_iter();
    let recency = values.next().unwrap_or_default();
    let frequency = zero_if_missing(values.next().unwrap_or_default());
    let monetary = zero_if_missing(values.next().unwrap_or_default());
    let aov = frequency
        .iter()
        .zip(&monetary)
        .map(|(f, m)| {
            Some(match (f, m) {
                (Some(f), Some(m)) if *f > 0.0 => m / f,
                _ => 0.0,
            })
        })
        .collect();
    let facts = PurchaseFacts {
        recency_days: recency
            .iter()
            .zip(&frequency)
            .map(|(r, f)| r.filter(|_| f.unwrap_or(0.0) > 0.0))
            .collect(),
        frequency: frequency.iter().map(|v| v.unwrap_or(0.0)).collect(),
        monetary: monetary.iter().map(|v| v.unwrap_or(0.0)).collect(),
        previous_gap_days: vec![None; customer_ids.len()],
    };
    let mut recency_feature = Feature::new(
        "recency_days",
        FeatureGroup::Rfm,
        FeatureKind::Numeric,
        recency,
    );
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
            aov,
        ),
    ];
    if let Some(responses) = values.next() {
        features.push(Feature::new(
            "response_rate",
            FeatureGroup::Engagement,
            FeatureKind::Share,
            responses,
        ));
    }
    Ok((features, facts))
}
