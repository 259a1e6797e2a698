//! Properties of RFM scoring and of the preparation that must hold for any customer base, not
//! only for the examples of the unit tests.
//!
//! 3,000 cases each: R/F/M scores lie in 1..bins and only buyers get one; a larger value never
//! gets a worse score and tied values share one; scores and cut points do not depend on the row
//! order; the fitted preparation transforms its fit data to finite values, the saved (JSON)
//! preparation transforms it to the same bits, and each customer's row depends on that customer
//! alone.

use proptest::prelude::*;

use segmenta::features::Preparation;
use segmenta::features::{Feature, FeatureGroup, FeatureKind, FeatureTable, PurchaseFacts};
use segmenta::job::{FeatureOptions, ScoreMethod};
use segmenta::rules::rfm::{score, Better};

/// Values with many ties (a shop's order counts) and some customers who never bought.
fn values() -> impl Strategy<Value = Vec<Option<f64>>> {
    let value = prop_oneof![
        3 => (0u32..20).prop_map(|v| Some(f64::from(v))),
        2 => (-500.0f64..5_000.0).prop_map(Some),
        1 => Just(None),
    ];
    prop::collection::vec(value, 1..300)
}

fn method() -> impl Strategy<Value = ScoreMethod> {
    prop_oneof![Just(ScoreMethod::Quantile), Just(ScoreMethod::Distinct)]
}

fn better() -> impl Strategy<Value = Better> {
    prop_oneof![Just(Better::Higher), Just(Better::Lower)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn scores_run_from_one_to_bins_and_only_buyers_get_one(
        values in values(), bins in 2u8..=9, method in method(), better in better()
    ) {
        let scored = score(&values, better, bins, method, None);
        for (value, s) in values.iter().zip(&scored.scores) {
            prop_assert_eq!(value.is_some(), s.is_some());
            if let Some(s) = s {
                prop_assert!((1..=bins).contains(s), "score {} of {} bins", s, bins);
            }
        }
        let counted: usize = scored.scale.ranges.iter().map(|r| r.customers).sum();
        prop_assert_eq!(counted, values.iter().flatten().count());
    }

    #[test]
    fn a_larger_value_never_gets_a_worse_score(
        values in values(), bins in 2u8..=9, method in method(), better in better()
    ) {
        let scored = score(&values, better, bins, method, None);
        let mut pairs: Vec<(f64, u8)> = values
            .iter()
            .zip(&scored.scores)
            .filter_map(|(v, s)| Some(((*v)?, (*s)?)))
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in pairs.windows(2) {
            match better {
                Better::Higher => prop_assert!(w[0].1 <= w[1].1, "{:?}", w),
                Better::Lower => prop_assert!(w[0].1 >= w[1].1, "{:?}", w),
            }
            if w[0].0 == w[1].0 {
                prop_assert_eq!(w[0].1, w[1].1, "tied values share a score");
            }
        }
    }

    #[test]
    fn scores_do_not_depend_on_the_row_order(
        values in values(), bins in 2u8..=9, method in method(), better in better(), rotate in 0usize..300
    ) {
        let scored = score(&values, better, bins, method, None);
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.rotate_left(rotate % values.len());
        order.reverse();
        let shuffled: Vec<Option<f64>> = order.iter().map(|&i| values[i]).collect();
        let again = score(&shuffled, better, bins, method, None);
        for (position, &i) in order.iter().enumerate() {
            prop_assert_eq!(again.scores[position], scored.scores[i]);
        }
        prop_assert_eq!(&again.scale.upper_bounds, &scored.scale.upper_bounds);
    }

    #[test]
    fn the_fitted_preparation_transforms_its_fit_data_as_fitted_and_as_saved(
        columns in prop::collection::vec(values(), 1..4),
        log in any::<bool>(),
    ) {
        let n = columns.iter().map(Vec::len).min().unwrap_or(1);
        let table = table_of(&columns, n);
        let log1p = if log { vec!["f0".into(), "f1".into()] } else { Vec::new() };
        let options = FeatureOptions { log1p, ..FeatureOptions::default() };
        let Ok((preparation, _)) = Preparation::fit(&table, &options) else {
            // Every column constant or missing: a clear error, nothing to transform.
            return Ok(());
        };
        let fitted = preparation.transform(&table).expect("transform");
        prop_assert_eq!(fitted.matrix.nrows(), n);
        prop_assert!(fitted.matrix.iter().all(|v| v.is_finite()));
        // The saved model (JSON) transforms the same data to the same bits.
        let saved: Preparation =
            serde_json::from_str(&serde_json::to_string(&preparation).expect("save")).expect("load");
        let (applied, notes) = saved.transform_new_data(&table).expect("apply");
        prop_assert!(notes.is_empty(), "{:?}", notes);
        prop_assert_eq!(&applied.matrix, &fitted.matrix);
        // z-scores of the fit data: every kept column centred (before winsorising moved it).
        for (j, column) in preparation.columns.iter().enumerate() {
            let x = fitted.matrix.column(j);
            prop_assert!(x.iter().any(|v| *v != x[0]), "column {} kept but constant", column.name);
        }
        // A customer's row depends on that customer alone: reversed rows give reversed output.
        let reversed: Vec<Vec<Option<f64>>> = columns
            .iter()
            .map(|c| c[..n].iter().rev().copied().collect())
            .collect();
        let back = preparation.transform(&table_of(&reversed, n)).expect("transform");
        for i in 0..n {
            prop_assert_eq!(back.matrix.row(n - 1 - i), fitted.matrix.row(i));
        }
    }
}

fn table_of(columns: &[Vec<Option<f64>>], n: usize) -> FeatureTable {
    let features = columns
        .iter()
        .enumerate()
        .map(|(j, values)| {
            Feature::new(
                format!("f{j}"),
                FeatureGroup::Rfm,
                FeatureKind::Numeric,
                values[..n].to_vec(),
            )
        })
        .collect();
    FeatureTable {
        customer_ids: (0..n).map(|i| format!("C{i:04}")).collect(),
        features,
        rule_only: Vec::new(),
        facts: PurchaseFacts {
            recency_days: vec![None; n],
            frequency: vec![0.0; n],
            monetary: vec![0.0; n],
            previous_gap_days: vec![None; n],
        },
        as_of: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"),
        notes: Vec::new(),
        transactions_used: 0,
    }
}
