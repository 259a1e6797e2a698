//! Plain-words names for clusters. A cluster is named after its dominant RFM group; when several
//! clusters share that group, each gets the trait that sets it apart from its namesakes
//! ("Loyal Customers (discount buyers)" and "Loyal Customers (full-price buyers)"), so no two
//! cards, legend entries or CRM segments read the same. Without RFM groups (a customers table
//! alone) a cluster is named by the traits that set it apart from all customers ("younger,
//! higher income, high spending score").

use super::ClusterProfile;
use crate::features::{Feature, FeatureKind};

/// A trait names a segment without RFM groups only this far (z, log scale for amounts) from the
/// whole base; the strongest one names it anyway when none is.
const TRAIT_Z: f64 = 0.3;
/// At most this many traits in a name.
const TRAITS_IN_NAME: usize = 3;

/// A short descriptor of a feature far above (`above`) or below the average, or None for features
/// that do not make a readable name.
pub fn descriptor(feature: &str, kind: FeatureKind, above: bool) -> Option<String> {
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
        _ => prefixed(feature, above).or_else(|| plain(feature, kind, above)),
    }
}

/// A feature the job named itself (a numeric or categorical column), in its own words: "high
/// spending score", "low balance", "more married" is not said — an indicator names only its value.
fn plain(feature: &str, kind: FeatureKind, above: bool) -> Option<String> {
    const NAMED_BY_PREFIX: [&str; 7] = [
        "category_",
        "channel_",
        "tag_",
        "country_",
        "city_",
        "region_",
        "gender_",
    ];
    if NAMED_BY_PREFIX.iter().any(|p| feature.starts_with(p)) {
        return None;
    }
    let words = feature.replace('_', " ");
    match (kind, above) {
        (FeatureKind::Numeric, true) => Some(format!("high {words}")),
        (FeatureKind::Numeric, false) => Some(format!("low {words}")),
        (FeatureKind::Share, true) => Some(format!("more {words}")),
        (FeatureKind::Share, false) => Some(format!("less {words}")),
        (FeatureKind::Indicator, true) => Some(words),
        (FeatureKind::Indicator, false) => None,
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
        ("country" | "city" | "region", true) => format!("in {value}"),
        ("country" | "city" | "region", false) => format!("outside {value}"),
        ("gender", true) => value,
        _ => return None,
    };
    Some(text)
}

/// Titles for every cluster, in the order given, from their RFM groups. `clustered` names the
/// features the clusters were fitted on; a distinguishing trait is taken from them when any has a
/// descriptor.
pub fn titles(
    clusters: &[ClusterProfile],
    features: &[Feature],
    clustered: &[String],
) -> Vec<String> {
    let group_of = |c: &ClusterProfile| c.label.clone().unwrap_or_default();
    let mut titles: Vec<String> = clusters.iter().map(group_of).collect();
    let mut groups = titles.clone();
    groups.sort();
    groups.dedup();
    for group in groups {
        let members: Vec<usize> = (0..clusters.len())
            .filter(|&i| group_of(&clusters[i]) == group)
            .collect();
        if members.len() < 2 {
            continue;
        }
        let mut used: Vec<String> = Vec::new();
        for &m in &members {
            let candidates = ranked_traits(clusters, &members, m, features, clustered);
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
    features: &[Feature],
    clustered: &[String],
) -> Vec<String> {
    let z = |c: usize, f: usize| clusters[c].features[f].z_log.filter(|z| z.is_finite());
    let others: Vec<usize> = members.iter().copied().filter(|&o| o != m).collect();
    let scored = candidate_traits(features, clustered, |f| {
        let own = z(m, f)?;
        let others_mean =
            others.iter().map(|&o| z(o, f).unwrap_or(0.0)).sum::<f64>() / others.len() as f64;
        let apart = own - others_mean;
        (own * apart > 0.0).then(|| own.signum() * own.abs().min(apart.abs()))
    });
    scored.into_iter().map(|(_, words)| words).collect()
}

/// Descriptors of the features, each with its score (its sign says above or below), strongest
/// first and each wording once; the features clustered on when any of them has a descriptor.
fn candidate_traits(
    features: &[Feature],
    clustered: &[String],
    score: impl Fn(usize) -> Option<f64>,
) -> Vec<(f64, String)> {
    let words = |f: &Feature, above: bool| descriptor(&f.name, f.kind, above);
    let prefer_clustered = features
        .iter()
        .any(|f| clustered.contains(&f.name) && words(f, true).is_some());
    let mut scored: Vec<(f64, usize, String)> = features
        .iter()
        .enumerate()
        .filter(|(_, f)| !prefer_clustered || clustered.contains(&f.name))
        .filter_map(|(i, f)| {
            let s = score(i)?;
            Some((s, i, words(f, s > 0.0)?))
        })
        .collect();
    scored.sort_by(|a, b| b.0.abs().total_cmp(&a.0.abs()).then(a.1.cmp(&b.1)));
    // One wording once, and one value of a categorical column at most.
    let mut seen: Vec<String> = Vec::new();
    scored
        .into_iter()
        .filter(|(_, i, w)| {
            let idea = match &features[*i].block {
                Some(column) => format!("one-hot {column}"),
                None => w.clone(),
            };
            let fresh = !seen.contains(&idea);
            seen.push(idea);
            fresh
        })
        .map(|(s, _, w)| (s, w))
        .collect()
}

/// Titles from traits alone, for runs without RFM groups: each cluster's strongest traits against
/// the whole base (up to three, at least one); twins get more traits, then their cluster name.
pub fn trait_titles(
    clusters: &[ClusterProfile],
    features: &[Feature],
    clustered: &[String],
) -> Vec<String> {
    let ranked: Vec<Vec<(f64, String)>> = clusters
        .iter()
        .map(|c| {
            candidate_traits(features, clustered, |f| {
                c.features[f].z_log.filter(|z| z.is_finite() && *z != 0.0)
            })
        })
        .collect();
    let named = |traits: &[(f64, String)], most: usize| -> String {
        let strong: Vec<&str> = traits
            .iter()
            .enumerate()
            .filter(|(i, (z, _))| *i == 0 || z.abs() >= TRAIT_Z)
            .take(most)
            .map(|(_, (_, w))| w.as_str())
            .collect();
        if strong.is_empty() {
            "close to the average customer".to_string()
        } else {
            strong.join(", ")
        }
    };
    let mut titles: Vec<String> = ranked.iter().map(|t| named(t, TRAITS_IN_NAME)).collect();
    for i in 0..titles.len() {
        let twins: Vec<usize> = (0..titles.len())
            .filter(|&j| titles[j] == titles[i])
            .collect();
        if twins.len() < 2 {
            continue;
        }
        for &j in &twins {
            titles[j] = named(&ranked[j], TRAITS_IN_NAME + 2);
        }
        let still: Vec<usize> = twins
            .iter()
            .copied()
            .filter(|&j| twins.iter().any(|&k| k != j && titles[k] == titles[j]))
            .collect();
        for j in still {
            titles[j] = format!("{} ({})", titles[j], clusters[j].name);
        }
    }
    titles
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::FeatureStat;

    fn cluster(id: usize, label: &str, z: &[f64]) -> ClusterProfile {
        let label = (!label.is_empty()).then(|| label.to_string());
        ClusterProfile {
            id: Some(id),
            name: format!("Cluster {id}"),
            title: String::new(),
            size: 10,
            share: 0.1,
            revenue: 0.0,
            revenue_share: 0.0,
            label: label.clone(),
            label_share: label.as_ref().map(|_| 0.5),
            rfm_name: label,
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

    fn features(list: &[(&str, FeatureKind)]) -> Vec<Feature> {
        list.iter()
            .map(|(name, kind)| {
                Feature::new(
                    *name,
                    crate::features::FeatureGroup::Demographic,
                    *kind,
                    vec![],
                )
            })
            .collect()
    }

    fn numeric(list: &[&str]) -> Vec<Feature> {
        features(
            &list
                .iter()
                .map(|n| (*n, FeatureKind::Numeric))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn without_rfm_groups_segments_are_named_by_their_traits() {
        let list = features(&[
            ("age", FeatureKind::Numeric),
            ("income", FeatureKind::Numeric),
            ("spending_score", FeatureKind::Numeric),
            ("gender_female", FeatureKind::Indicator),
        ]);
        let clustered = names(&["age", "income", "spending_score", "gender_female"]);
        let clusters = [
            cluster(0, "", &[-1.2, 0.9, 1.4, 0.1]),
            cluster(1, "", &[0.8, -0.1, -1.1, 0.05]),
            // Nothing stands out but a little age: the strongest trait still names it.
            cluster(2, "", &[0.2, 0.1, 0.0, -0.1]),
            cluster(3, "", &[0.0, 0.0, 0.0, 0.6]),
        ];
        let titles = trait_titles(&clusters, &list, &clustered);
        assert_eq!(
            titles,
            [
                "high spending score, younger, higher income",
                "low spending score, older",
                "older",
                "female",
            ]
        );
        // Twins get more traits, then their cluster names.
        let twins = [
            cluster(0, "", &[1.0, 0.0, 0.0, 0.0]),
            cluster(1, "", &[1.0, 0.0, 0.0, 0.0]),
        ];
        assert_eq!(
            trait_titles(&twins, &list, &clustered),
            ["older (Cluster 0)", "older (Cluster 1)"]
        );
    }

    #[test]
    fn shared_groups_get_the_trait_that_tells_them_apart() {
        let list = numeric(&["frequency", "discount_share", "weekend_share", "age"]);
        let features = names(&["frequency", "discount_share", "weekend_share", "age"]);
        let clusters = [
            cluster(0, "At Risk", &[-1.0, 0.0, 0.0, 0.0]),
            // Both loyal and frequent; they differ in discounts.
            cluster(1, "Loyal Customers", &[0.7, 1.3, 0.1, 0.0]),
            cluster(2, "Loyal Customers", &[1.2, -0.7, -0.1, 0.0]),
        ];
        let titles = titles(&clusters, &list, &features);
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
        let features = numeric(&["frequency", "age"]);
        let features = [
            features,
            self::features(&[("gender_f", FeatureKind::Indicator)]),
        ]
        .concat();
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
        let features = numeric(&["visits_30d", "visits_90d", "income"]);
        let clusters = [
            cluster(0, "Hibernating", &[2.0, 1.9, 0.0]),
            cluster(1, "Hibernating", &[1.0, 1.0, 0.9]),
            cluster(2, "Hibernating", &[-3.0, -2.9, -0.9]),
        ];
        let clustered = names(&["visits_30d", "visits_90d", "income"]);
        let titles = titles(&clusters, &features, &clustered);
        assert_eq!(titles[0], "Hibernating (frequent site visitors)");
        assert_eq!(titles[1], "Hibernating (higher income)");
        assert_eq!(titles[2], "Hibernating (rarely on the site)");
    }
}
