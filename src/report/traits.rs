//! Plain-words descriptions of what sets a cluster apart from the whole customer base.

use crate::features::{FeatureKind, FeatureTable};
use crate::label::ClusterProfile;

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
            return format!("{word}{}", rest.replace('_', " "));
        }
    }
    feature.replace('_', " ")
}

fn number(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// One sentence for a feature of a cluster against the base.
pub fn describe(feature: &str, kind: FeatureKind, cluster_mean: f64, base_mean: f64) -> String {
    let name = pretty_name(feature);
    match kind {
        FeatureKind::Share | FeatureKind::Indicator => format!(
            "{name}: {:.0} % (all customers: {:.0} %)",
            100.0 * cluster_mean,
            100.0 * base_mean
        ),
        FeatureKind::Numeric if base_mean > 0.0 && cluster_mean >= 0.0 => {
            let ratio = cluster_mean / base_mean;
            if ratio >= 1.0 {
                format!(
                    "{name}: {} on average, {:.1}× the base ({})",
                    number(cluster_mean),
                    ratio,
                    number(base_mean)
                )
            } else {
                format!(
                    "{name}: {} on average, {:.0} % below the base ({})",
                    number(cluster_mean),
                    100.0 * (1.0 - ratio),
                    number(base_mean)
                )
            }
        }
        FeatureKind::Numeric => format!(
            "{name}: {} on average (all customers: {})",
            number(cluster_mean),
            number(base_mean)
        ),
    }
}

/// The `count` features with the largest |z| of a cluster, described in words.
pub fn distinctive(
    table: &FeatureTable,
    profile: &ClusterProfile,
    base: &[crate::label::FeatureStat],
    count: usize,
) -> Vec<String> {
    let mut ranked: Vec<(usize, f64)> = profile
        .features
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.z.filter(|z| z.is_finite()).map(|z| (i, z)))
        .collect();
    ranked.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
    ranked
        .into_iter()
        .take(count)
        .filter_map(|(i, _)| {
            let feature = &table.features[i];
            Some(describe(
                &feature.name,
                feature.kind,
                profile.features[i].mean?,
                base[i].mean?,
            ))
        })
        .collect()
}
