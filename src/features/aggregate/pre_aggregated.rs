//! A CRM table that already holds purchase columns per customer.

use std::collections::HashMap;

use polars::prelude::*;

use super::rfm::Purchases;
use super::{aligned, zero_if_missing};
use crate::error::Result;
use crate::features::{Feature, FeatureGroup, FeatureKind, PurchaseFacts};
use crate::load::CustomerTable;

/// A CRM table that already carries some of recency, order counts, spend and mailing responses
/// per customer: the features of the columns it maps, and the purchase facts the rules read
/// (zero orders and spend where it maps none; no recency where it maps none).
pub fn pre_aggregated(
    customers: &CustomerTable,
    count: usize,
) -> Result<(Vec<Feature>, PurchaseFacts)> {
    let names: Vec<&str> = ["recency_days", "frequency", "monetary", "response_rate"]
        .into_iter()
        .filter(|name| customers.frame.column(name).is_ok())
        .collect();
    let values = aligned(count, customers.frame.clone().lazy(), &names)?;
    let mut columns: HashMap<&str, Vec<Option<f64>>> = names.iter().copied().zip(values).collect();
    let mut take = |name: &str| columns.remove(name);
    let frequency = take("frequency").map(zero_if_missing);
    let monetary = take("monetary").map(zero_if_missing);
    let number = |v: &Option<f64>| v.unwrap_or(0.0);
    let avg_order_value = frequency.as_ref().zip(monetary.as_ref()).map(|(f, m)| {
        f.iter()
            .zip(m)
            .map(|(f, m)| {
                Some(if number(f) > 0.0 {
                    number(m) / number(f)
                } else {
                    0.0
                })
            })
            .collect()
    });
    let purchases = Purchases {
        recency_days: take("recency_days"),
        frequency,
        monetary,
        avg_order_value,
        previous_gap_days: None,
    };
    let responses = take("response_rate");
    let (facts, mut features) = purchases.facts_and_features(count);
    if let Some(responses) = responses {
        features.push(Feature::new(
            "response_rate",
            FeatureGroup::Engagement,
            FeatureKind::Share,
            responses,
        ));
    }
    Ok((features, facts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crm_columns_give_the_rfm_block_and_the_facts() {
        // Customer 1 has a recency cell but no orders; customer 2 has no row at all.
        let frame = DataFrame::new_infer_height(vec![
            Column::new("customer".into(), [0u32, 1]),
            Column::new("recency_days".into(), [12.0, 300.0]),
            Column::new("frequency".into(), [4.0, 0.0]),
            Column::new("monetary".into(), [250.0, 0.0]),
        ])
        .expect("frame");
        let table = CustomerTable {
            frame,
            categorical: vec![],
            numeric: vec![],
        };
        let (features, facts) = pre_aggregated(&table, 3).expect("aggregate");
        let names: Vec<&str> = features.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["recency_days", "frequency", "monetary", "avg_order_value"]
        );
        assert_eq!(features[0].values, vec![Some(12.0), Some(300.0), None]);
        assert_eq!(features[1].values, vec![Some(4.0), Some(0.0), Some(0.0)]);
        assert_eq!(features[3].values, vec![Some(62.5), Some(0.0), Some(0.0)]);
        assert_eq!(facts.recency_days, vec![Some(12.0), None, None]);
        assert_eq!(facts.frequency, vec![4.0, 0.0, 0.0]);
        assert_eq!(facts.monetary, vec![250.0, 0.0, 0.0]);
    }
}
