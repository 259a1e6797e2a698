//! The RFM block, whichever table it comes from: the purchase facts the rules read and the
//! recency, frequency, monetary and average-order-value features.

use crate::features::{Feature, FeatureGroup, FeatureKind, Impute, PurchaseFacts};

/// A customer's purchase columns as the transactions give them or a CRM table carries them,
/// each None when the inputs give no such column. Frequency and monetary are 0 (not missing)
/// for a customer without orders.
pub(super) struct Purchases {
    /// Days from the last purchase to the as-of date; None for a customer who never bought.
    pub recency_days: Option<Vec<Option<f64>>>,
    pub frequency: Option<Vec<Option<f64>>>,
    /// Net spend: refunds subtracted.
    pub monetary: Option<Vec<Option<f64>>>,
    pub avg_order_value: Option<Vec<Option<f64>>>,
    /// Days between the last two purchase days.
    pub previous_gap_days: Option<Vec<Option<f64>>>,
}

impl Purchases {
    /// The purchase facts of `customers` customers (no orders and no spend where a column is
    /// not given), and the RFM features of the columns given, in the order recency, frequency,
    /// monetary, average order value.
    pub(super) fn facts_and_features(self, customers: usize) -> (PurchaseFacts, Vec<Feature>) {
        let Purchases {
            recency_days,
            frequency,
            monetary,
            avg_order_value,
            previous_gap_days,
        } = self;
        let facts = purchase_facts(
            recency_days.as_deref(),
            frequency.as_deref(),
            monetary.as_deref(),
            previous_gap_days,
            customers,
        );
        let rfm = |name: &str, values: Vec<Option<f64>>| {
            Feature::new(name, FeatureGroup::Rfm, FeatureKind::Numeric, values)
        };
        let mut features = Vec::new();
        if let Some(recency) = recency_days {
            let mut feature = rfm("recency_days", recency);
            // A customer who never bought is at least as lapsed as the most lapsed buyer.
            feature.impute = Impute::Max;
            features.push(feature);
        }
        features.extend(frequency.map(|f| rfm("frequency", f)));
        features.extend(monetary.map(|m| rfm("monetary", m)));
        features.extend(avg_order_value.map(|a| rfm("avg_order_value", a)));
        (facts, features)
    }
}

/// The purchase facts the rules read, from the purchase columns the inputs give (each None when
/// not given): no orders and no spend where a column is missing, and no last purchase for a
/// customer without orders, whatever the recency cell says.
pub(crate) fn purchase_facts(
    recency_days: Option<&[Option<f64>]>,
    frequency: Option<&[Option<f64>]>,
    monetary: Option<&[Option<f64>]>,
    previous_gap_days: Option<Vec<Option<f64>>>,
    customers: usize,
) -> PurchaseFacts {
    let number = |v: &Option<f64>| v.unwrap_or(0.0);
    let or_zeros = |column: Option<&[Option<f64>]>| {
        column.map_or_else(|| vec![0.0; customers], |c| c.iter().map(number).collect())
    };
    PurchaseFacts {
        recency_days: match (recency_days, frequency) {
            (Some(r), Some(f)) => r
                .iter()
                .zip(f)
                .map(|(r, f)| r.filter(|_| number(f) > 0.0))
                .collect(),
            (Some(r), None) => r.to_vec(),
            (None, _) => vec![None; customers],
        },
        frequency: or_zeros(frequency),
        monetary: or_zeros(monetary),
        previous_gap_days: previous_gap_days.unwrap_or_else(|| vec![None; customers]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_without_orders_has_no_last_purchase() {
        let purchases = Purchases {
            recency_days: Some(vec![Some(12.0), Some(40.0), None]),
            frequency: Some(vec![Some(3.0), Some(0.0), Some(0.0)]),
            monetary: None,
            avg_order_value: None,
            previous_gap_days: None,
        };
        let (facts, features) = purchases.facts_and_features(3);
        assert_eq!(facts.recency_days, vec![Some(12.0), None, None]);
        assert_eq!(facts.frequency, vec![3.0, 0.0, 0.0]);
        assert_eq!(facts.monetary, vec![0.0; 3]);
        assert_eq!(facts.previous_gap_days, vec![None; 3]);
        let names: Vec<&str> = features.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["recency_days", "frequency"]);
        // The feature keeps the cell as given; only the facts the rules read drop it.
        assert_eq!(features[0].values, vec![Some(12.0), Some(40.0), None]);
        assert_eq!(features[0].impute, Impute::Max);
        assert_eq!(features[1].impute, Impute::Median);
        assert!(features
            .iter()
            .all(|f| f.group == FeatureGroup::Rfm && f.kind == FeatureKind::Numeric));
    }
}
