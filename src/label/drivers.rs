//! What drives the clusters: for every column the clusters were fitted on, the share of its
//! variance the segments explain (R² = between-segment / total sum of squares, in the prepared
//! space k-means saw). A feature group whose every column stays near 0 separates nothing: it
//! only adds noise to the distances.

use serde::{Deserialize, Serialize};

use crate::features::{FeatureGroup, FeatureMatrix, Preparation};

/// Below this R² a feature separates nothing worth a segment.
pub const FLAT_R2: f64 = 0.05;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Driver {
    pub feature: String,
    pub group: FeatureGroup,
    pub r2: f64,
}

/// R² of every clustered column for the clusters in `labels` (0..k), largest first.
pub fn drivers(matrix: &FeatureMatrix, preparation: &Preparation, labels: &[usize]) -> Vec<Driver> {
    let k = labels.iter().max().map_or(0, |m| m + 1);
    let mut out: Vec<Driver> = preparation
        .columns
        .iter()
        .zip(matrix.matrix.columns())
        .map(|(column, values)| Driver {
            feature: column.name.clone(),
            group: column.group,
            r2: explained(&values, labels, k),
        })
        .collect();
    out.sort_by(|a, b| b.r2.total_cmp(&a.r2).then(a.feature.cmp(&b.feature)));
    out
}

fn explained(values: &ndarray::ArrayView1<f64>, labels: &[usize], k: usize) -> f64 {
    let n = values.len().max(1) as f64;
    let mean = values.sum() / n;
    let mut sums = vec![0.0; k];
    let mut counts = vec![0usize; k];
    for (v, &c) in values.iter().zip(labels) {
        sums[c] += v;
        counts[c] += 1;
    }
    let total: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    let between: f64 = sums
        .iter()
        .zip(&counts)
        .filter(|(_, &c)| c > 0)
        .map(|(s, &c)| c as f64 * (s / c as f64 - mean).powi(2))
        .sum();
    if total > 0.0 {
        (between / total).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// A warning per feature group that is clustered on yet separates nothing.
pub fn flat_groups(drivers: &[Driver]) -> Vec<String> {
    FeatureGroup::ALL
        .iter()
        .filter_map(|&group| {
            let members: Vec<&Driver> = drivers.iter().filter(|d| d.group == group).collect();
            if members.is_empty() || members.iter().any(|d| d.r2 >= FLAT_R2) {
                return None;
            }
            let names: Vec<String> = members
                .iter()
                .map(|d| format!("{} {:.0} %", d.feature, 100.0 * d.r2))
                .collect();
            Some(format!(
                "the {} features separate nothing: the segments explain under {:.0} % of each one's variance ({}); they only add noise to the distances — consider [features] weights = {{ {} = 0 }}",
                group.name(),
                100.0 * FLAT_R2,
                names.join(", "),
                group.name()
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn a_separating_column_explains_all_and_a_noise_column_nothing() {
        // Column 0 is the cluster itself; column 1 has the same spread in both clusters.
        let x = array![[0.0, 1.0], [0.0, -1.0], [10.0, 1.0], [10.0, -1.0]];
        let labels = [0, 0, 1, 1];
        let r2: Vec<f64> = x
            .columns()
            .into_iter()
            .map(|c| explained(&c, &labels, 2))
            .collect();
        assert_eq!(r2, [1.0, 0.0]);
        let flat = flat_groups(&[
            Driver {
                feature: "recency_days".into(),
                group: FeatureGroup::Rfm,
                r2: 0.7,
            },
            Driver {
                feature: "weekend_share".into(),
                group: FeatureGroup::Habits,
                r2: 0.01,
            },
        ]);
        assert_eq!(flat.len(), 1);
        assert!(
            flat[0].starts_with("the habits features separate nothing")
                && flat[0].contains("weekend_share 1 %")
                && flat[0].contains("weights = { habits = 0 }"),
            "{flat:?}"
        );
    }
}
