//! Plain-words names for clusters. A cluster is named after its dominant RFM group; when several
//! clusters share that group, each gets the trait that sets it apart from its namesakes
//! ("Loyal Customers (discount buyers)" and "Loyal Customers (full-price buyers)"), so no two
//! cards, legend entries or CRM segments read the same.

use super::ClusterProfile;

/// A short descriptor of a feature far above (`above`) or below the average, or None for features
/// that do not make a readable name.
pub fn descriptor(feature: &str, above: bool) -> Option<String> {
    let pick = |high: &str, low: &str| Some(if above { high } else { low }.to_string());
    match feature {
        "recency_days" => pick("long lapsed", "recent buyers"),
        "frequency" => pick("frequent buyers", "infrequent buyers"),
        "monetary" => pick("big spenders", "low spenders"),
        "avg_order_value" => pick("large baskets", "small baskets"),
        "tenure_days" => pick("long-standing", "newcomers"),
        "mean_interpurchase_days" => pick("long gaps between orders", "short gaps between orders"),
        "refund_share" => pick("heavy refunders", "few refunds"),
        "discount_share" | "discount_depth" => pick("discount buyers", "full-price buyers"),
        "weekend_share" => pick("weekend shoppers", "weekday shoppers"),
        "morning_share" => pick("morning shoppers", "rarely buy in the morning"),
        "afternoon_share" => pick("afternoon shoppers", "rarely buy in the afternoon"),
        "evening_share" => pick("evening shoppers", "rarely buy in the evening"),
        "peak_season_share" => pick("peak-season buyers", "off-season buyers"),
        "visits_30d" | "visits_90d" => pick("frequent site visitors", "rarely on the site"),
        "add_to_cart_90d" => pick("active carts", "few add-to-carts"),
        "campaigns_received" => pick("heavily mailed", "rarely mailed"),
        "open_rate" | "click_rate" | "response_rate" => pick("answer mailings", "ignore mailings"),
        "age" => pick("older", "younger"),
        "income" => pick("higher income", "lower income"),
        "days_since_signup" => pick("registered long ago", "recently registered"),
        _ => prefixed(feature, above),
    }
}

/// One-hot and share columns: a category, channel or place the cluster leans to (or avoids).
fn prefixed(feature: &str, above: bool) -> Option<String> {
    let (prefix, rest) = feature.split_once('_')?;
    let value = rest.replace('_', " ");
    let text = match (prefix, above) {
        ("category", true) => format!("{value} buyers"),
        ("category", false) => format!("little {value}"),
        ("channel", true) => format!("buy via {value}"),
        ("tag", true) => format!("into {value}"),
        ("country" | "city", true) => format!("in {value}"),
        ("country" | "city", false) => format!("outside {value}"),
        _ => return None,
    };
    Some(text)
}

/// Titles for every cluster, in the order given. `clustered` names the features the clusters were
/// fitted on; a distinguishing trait is taken from them when any has a descriptor.
pub fn titles(
    clusters: &[ClusterProfile],
    feature_names: &[String],
    clustered: &[String],
) -> Vec<String> {
    let mut titles: Vec<String> = clusters.iter().map(|c| c.label.clone()).collect();
    let mut groups: Vec<&str> = clusters.iter().map(|c| c.label.as_str()).collect();
    groups.sort();
    groups.dedup();
    for group in groups {
        let members: Vec<usize> = (0..clusters.len())
            .filter(|&i| clusters[i].label == group)
            .collect();
        if members.len() < 2 {
            continue;
        }
        let mut used: Vec<String> = Vec::new();
        for &m in &members {
            let candidates = ranked_traits(clusters, &members, m, feature_names, clustered);
            let title = match candidates.into_iter().find(|d| !used.contains(d)) {
                Some(trait_words) => {
                    used.push(trait_words.clone());
                    format!("{group} ({trait_words})")
                }
                None => format!("{group} ({})", clusters[m].name),
            };
            titles[m] = title;
        }
    }
    titles
}

/// Descriptors of cluster `m`, best first. A trait counts by how far the cluster stands from the
/// whole base *and* from the other clusters of its group (the smaller of the two, same sign), so
/// the name is both true of the cluster and what tells it from its namesakes.
fn ranked_traits(
    clusters: &[ClusterProfile],
    members: &[usize],
    m: usize,
    feature_names: &[String],
    clustered: &[String],
) -> Vec<String> {
    let z = |c: usize, f: usize| clusters[c].features[f].z_log.filter(|z| z.is_finite());
    let others: Vec<usize> = members.iter().copied().filter(|&o| o != m).collect();
    let prefer_clustered = feature_names
        .iter()
        .any(|n| clustered.contains(n) && descriptor(n, true).is_some());
    let mut scored: Vec<(f64, usize, String)> = feature_names
        .iter()
        .enumerate()
        .filter(|(_, name)| !prefer_clustered || clustered.contains(name))
        .filter_map(|(f, name)| {
            let own = z(m, f)?;
            let others_mean =
                others.iter().map(|&o| z(o, f).unwrap_or(0.0)).sum::<f64>() / others.len() as f64;
            let apart = own - others_mean;
            if own * apart <= 0.0 {
                return None;
            }
            let words = descriptor(name, own > 0.0)?;
            Some((own.abs().min(apart.abs()), f, words))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut words: Vec<String> = scored.into_iter().map(|(_, _, w)| w).collect();
    let mut seen = Vec::new();
    words.retain(|w| {
        let fresh = !seen.contains(w);
        seen.push(w.clone());
        fresh
    });
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::FeatureStat;

    fn cluster(id: usize, label: &str, z: &[f64]) -> ClusterProfile {
        ClusterProfile {
            id: Some(id),
            name: format!("Cluster {id}"),
            title: String::new(),
            size: 10,
            share: 0.1,
            revenue: 0.0,
            revenue_share: 0.0,
            label: label.into(),
            label_share: 0.5,
            rfm_name: label.into(),
            median_r: None,
            median_f: None,
            features: z
                .iter()
                .map(|&z| FeatureStat {
                    z: Some(z),
                    z_log: Some(z),
                    ..FeatureStat::empty("")
                })
                .collect(),
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn shared_groups_get_the_trait_that_tells_them_apart() {
        let features = names(&["frequency", "discount_share", "weekend_share", "age"]);
        let clusters = [
            cluster(0, "At Risk", &[-1.0, 0.0, 0.0, 0.0]),
            // Both loyal and frequent; they differ in discounts.
            cluster(1, "Loyal Customers", &[0.7, 1.3, 0.1, 0.0]),
            cluster(2, "Loyal Customers", &[1.2, -0.7, -0.1, 0.0]),
        ];
        let titles = titles(&clusters, &features, &features);
        assert_eq!(
            titles,
            [
                "At Risk",
                "Loyal Customers (discount buyers)",
                "Loyal Customers (full-price buyers)"
            ]
        );
    }

    #[test]
    fn unfitted_features_name_only_when_no_fitted_one_can() {
        let features = names(&["frequency", "age", "gender_f"]);
        let twins = [
            cluster(0, "Champions", &[0.5, 2.0, 1.0]),
            cluster(1, "Champions", &[0.5, -2.0, -1.0]),
        ];
        // Frequency is fitted but equal in both: nothing fitted tells them apart.
        let fitted = names(&["frequency"]);
        assert_eq!(
            titles(&twins, &features, &fitted),
            ["Champions (Cluster 0)", "Champions (Cluster 1)"]
        );
        // Age fitted too: it names them.
        let fitted = names(&["frequency", "age"]);
        assert_eq!(
            titles(&twins, &features, &fitted),
            ["Champions (older)", "Champions (younger)"]
        );
    }

    #[test]
    fn a_descriptor_already_taken_in_the_group_is_not_reused() {
        let features = names(&["visits_30d", "visits_90d", "income"]);
        let clusters = [
            cluster(0, "Hibernating", &[2.0, 1.9, 0.0]),
            cluster(1, "Hibernating", &[1.0, 1.0, 0.9]),
            cluster(2, "Hibernating", &[-3.0, -2.9, -0.9]),
        ];
        let titles = titles(&clusters, &features, &features);
        assert_eq!(titles[0], "Hibernating (frequent site visitors)");
        assert_eq!(titles[1], "Hibernating (higher income)");
        assert_eq!(titles[2], "Hibernating (rarely on the site)");
    }
}
