//! Plain-words descriptions of what sets a cluster apart from the whole customer base.

use crate::features::{FeatureKind, FeatureTable};
use crate::format::{count, number, whole_percent};
use crate::label::{descriptor, ClusterProfile};
use crate::rules::NO_PURCHASE;

/// "recency_days" → "days since last purchase": names an analyst reads without a glossary.
pub fn pretty_name(feature: &str) -> String {
    let known = match feature {
        "recency_days" => "days since last purchase",
        "frequency" => "orders",
        "monetary" => "net spend",
        "avg_order_value" => "average order value",
        "tenure_days" => "days since first purchase",
        "mean_interpurchase_days" => "days between purchases",
        "refund_share" => "share of spend refunded",
        "discount_share" => "orders bought on discount",
        "discount_depth" => "average discount depth",
        "weekend_share" => "orders at weekends",
        "morning_share" => "orders in the morning",
        "afternoon_share" => "orders in the afternoon",
        "evening_share" => "orders in the evening",
        "peak_season_share" => "spend in the peak season",
        "visits_30d" => "site visits in the last 30 days",
        "visits_90d" => "site visits in the last 90 days",
        "add_to_cart_90d" => "add-to-carts in the last 90 days",
        "campaigns_received" => "mailings received",
        "open_rate" => "mailings opened",
        "click_rate" => "mailings clicked",
        "response_rate" => "mailings answered",
        "days_since_signup" => "days since sign-up",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    for (prefix, word) in [
        ("category_", "spend on "),
        ("channel_", "spend via "),
        ("tag_", "interested in "),
        ("country_", "from "),
        ("city_", "in "),
        ("gender_", "gender "),
    ] {
        if let Some(rest) = feature.strip_prefix(prefix) {
            let value = rest.replace('_', " ");
            let value = if matches!(prefix, "country_" | "city_") {
                title_case(&value)
            } else {
                value
            };
            return format!("{word}{value}");
        }
    }
    feature.replace('_', " ")
}

/// "new york" → "New York": place names read as names.
fn title_case(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// How a cluster's average compares with all customers' average, in words an analyst reads
/// aloud: "days since last purchase: 312 on average vs 132 for all customers (2.4×)".
pub fn describe(feature: &str, kind: FeatureKind, cluster_mean: f64, base_mean: f64) -> String {
    let name = pretty_name(feature);
    match kind {
        FeatureKind::Share | FeatureKind::Indicator => format!(
            "{name}: {} vs {} for all customers",
            whole_percent(cluster_mean),
            whole_percent(base_mean)
        ),
        FeatureKind::Numeric => format!(
            "{name}: {} on average vs {} for all customers{}",
            number(cluster_mean),
            number(base_mean),
            ratio(cluster_mean, base_mean)
        ),
    }
}

/// "net spend: median 746 vs 474 for all customers (1.6×)"
fn describe_median(feature: &str, median: f64, base_median: f64) -> String {
    format!(
        "{}: median {} vs {} for all customers{}",
        pretty_name(feature),
        number(median),
        number(base_median),
        ratio(median, base_median)
    )
}

/// " (2.4×)" or " (−98 %)"; nothing when the ratio means little (signs differ, zero base).
fn ratio(value: f64, base: f64) -> String {
    if !(base > 0.0 && value >= 0.0) {
        return String::new();
    }
    let r = value / base;
    // Against an average near 0 (a centred score) a ratio of hundreds says nothing.
    if r >= 100.0 {
        return String::new();
    }
    if r >= 1.0 {
        format!(" ({r:.1}×)")
    } else {
        format!(" (−{:.0} %)", 100.0 * (1.0 - r))
    }
}

/// What stands out about one customer: their own value against all customers' average.
pub fn describe_customer(feature: &str, kind: FeatureKind, value: f64, base_mean: f64) -> String {
    let name = pretty_name(feature);
    match kind {
        FeatureKind::Indicator if value >= 0.5 => {
            format!("{name} ({} of all customers)", whole_percent(base_mean))
        }
        FeatureKind::Indicator => {
            format!(
                "not {name} ({} of all customers are)",
                whole_percent(base_mean)
            )
        }
        FeatureKind::Share => format!(
            "{name}: {} vs {} on average",
            whole_percent(value),
            whole_percent(base_mean)
        ),
        FeatureKind::Numeric => {
            format!(
                "{name}: {} vs {} on average",
                number(value),
                number(base_mean)
            )
        }
    }
}

/// The `how_many` features with the largest |z| of a cluster (on the log scale for amounts and
/// counts), described in words. Two features
/// that say the same thing (visits in 30 and in 90 days) count once; for a segment of customers
/// who never bought, purchase-derived features are meaningless and give way to "never bought".
pub fn distinctive(
    table: &FeatureTable,
    profile: &ClusterProfile,
    base: &[crate::label::FeatureStat],
    how_many: usize,
) -> Vec<String> {
    let never_bought = profile.label.as_deref() == Some(NO_PURCHASE)
        && profile.label_share.is_some_and(|share| share >= 1.0);
    let mut ranked: Vec<(usize, f64)> = profile
        .features
        .iter()
        .enumerate()
        .filter(|(i, _)| !(never_bought && table.features[*i].group.from_purchases()))
        .filter_map(|(i, s)| s.z_log.filter(|z| z.is_finite()).map(|z| (i, z)))
        .collect();
    ranked.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
    let mut said: Vec<String> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    if never_bought {
        out.push(format!(
            "never bought: none of its {} customers has a purchase in the window",
            count(profile.size)
        ));
    }
    for (i, z) in ranked {
        if out.len() >= how_many {
            break;
        }
        let feature = &table.features[i];
        // The indicators of one categorical column (female / male) are one idea.
        let gist = match &feature.block {
            Some(column) => format!("one-hot {column}"),
            None => descriptor(&feature.name, feature.kind, z > 0.0)
                .unwrap_or_else(|| feature.name.clone()),
        };
        if said.contains(&gist) {
            continue;
        }
        let (own, all) = (&profile.features[i], &base[i]);
        let (Some(mean), Some(base_mean)) = (own.mean, all.mean) else {
            continue;
        };
        said.push(gist);
        // A few huge customers can pull the base mean above a segment that is higher on the
        // log scale; its median then says what the ranking saw.
        let text = match (own.median, all.median) {
            (Some(m), Some(b))
                if (mean - base_mean) * z < 0.0 && feature.kind == FeatureKind::Numeric =>
            {
                describe_median(&feature.name, m, b)
            }
            _ => describe(&feature.name, feature.kind, mean, base_mean),
        };
        out.push(text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_and_customers_read_against_all_customers() {
        assert_eq!(
            describe("recency_days", FeatureKind::Numeric, 312.4, 132.0),
            "days since last purchase: 312 on average vs 132 for all customers (2.4×)"
        );
        assert_eq!(
            describe("monetary", FeatureKind::Numeric, 25_860.4, 3_282.0),
            "net spend: 25,860 on average vs 3,282 for all customers (7.9×)"
        );
        assert_eq!(
            describe("visits_90d", FeatureKind::Numeric, 0.08, 3.3),
            "site visits in the last 90 days: 0.08 on average vs 3.30 for all customers (−98 %)"
        );
        assert_eq!(
            describe("discount_share", FeatureKind::Share, 0.77, 0.34),
            "orders bought on discount: 77 % vs 34 % for all customers"
        );
        assert_eq!(
            describe_customer("city_new_york", FeatureKind::Indicator, 1.0, 0.05),
            "in New York (5 % of all customers)"
        );
        assert_eq!(
            describe_customer("visits_30d", FeatureKind::Numeric, 8.0, 1.21),
            "site visits in the last 30 days: 8 vs 1.21 on average"
        );
    }
}
