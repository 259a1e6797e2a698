//! What every run proves before its report is in place: every customer of the inputs is in the
//! assignments exactly once, net revenue equals the inputs' to the cent, and every segmentation
//! covers every customer once. A failed check is an error (exit 5), never a warning: a report
//! that lost a customer or a cent must not reach the CRM.

use std::fmt;

use polars::prelude::*;

use super::RunResult;
use crate::error::{Error, PolarsContext, Result};
use crate::features::FeatureTable;
use crate::load::ledger::{micros_to_money, total_micros, Expected, HALF_CENT};

/// The checks a finished run passed, in words for run.log.
pub struct Passed<'a>(pub &'a Expected, pub usize);

impl fmt::Display for Passed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Passed(expected, segmentations) = self;
        write!(
            f,
            "{} customers of the inputs, each once in the assignments; net revenue {} equal to the \
             sum of the {} to the cent; the segment sizes of all {segmentations} segmentations add up to the customers",
            crate::format::count(expected.customers),
            micros_text(expected.revenue_micros),
            expected.revenue_source.trim_start_matches("the ")
        )
    }
}

fn failed(message: String) -> Error {
    Error::Inconsistent(message)
}

fn micros_text(micros: i128) -> String {
    crate::format::money(micros_to_money(micros))
}

/// The feature table has every customer once, in the inputs' order, with its spend.
pub fn check_features(expected: &Expected, table: &FeatureTable) -> Result<()> {
    let n = table.len();
    if n != expected.customers {
        return Err(failed(format!(
            "the inputs hold {} customers but the feature table {n}",
            expected.customers
        )));
    }
    if let Some(i) = table.customer_ids.windows(2).position(|w| w[0] >= w[1]) {
        return Err(failed(format!(
            "customer '{}' is out of order or twice in the feature table",
            table.customer_ids[i + 1]
        )));
    }
    let lengths = [
        ("recency", table.facts.recency_days.len()),
        ("frequency", table.facts.frequency.len()),
        ("monetary", table.facts.monetary.len()),
    ]
    .into_iter()
    .chain(
        table
            .all_columns()
            .map(|f| (f.name.as_str(), f.values.len())),
    );
    for (name, len) in lengths {
        if len != n {
            return Err(failed(format!(
                "feature '{name}' has {len} values for {n} customers"
            )));
        }
    }
    check_revenue(expected, total_micros(&table.facts.monetary))
}

fn check_revenue(expected: &Expected, micros: i128) -> Result<()> {
    if (micros - expected.revenue_micros).abs() >= HALF_CENT {
        return Err(failed(format!(
            "net revenue {} does not equal the sum of the {}, {}",
            micros_text(micros),
            expected.revenue_source.trim_start_matches("the "),
            micros_text(expected.revenue_micros)
        )));
    }
    Ok(())
}

/// Every segmentation of the run gives every customer one segment, and its segment sizes add up
/// to the customers; returns how many segmentations were checked.
pub fn check_segmentations(run: &RunResult) -> Result<usize> {
    let n = run.features.len();
    let mut checked = 0;
    let mut check = |what: &str, labels: usize, sizes: Option<usize>| -> Result<()> {
        checked += 1;
        if labels != n {
            return Err(failed(format!(
                "{what} gives {labels} customers a segment, not all {n}"
            )));
        }
        match sizes {
            Some(total) if total != n => Err(failed(format!(
                "the {what} segment sizes add up to {total}, not to the {n} customers"
            ))),
            _ => Ok(()),
        }
    };
    let sizes = |l: &crate::label::Labelling| -> usize { l.clusters.iter().map(|c| c.size).sum() };
    check(
        "k-means",
        run.kmeans.labels.len(),
        Some(sizes(&run.kmeans_labels)),
    )?;
    if let (Some(d), Some(l)) = (&run.dbscan, &run.dbscan_labels) {
        check("DBSCAN", d.labels.len(), Some(sizes(l)))?;
    }
    if let (Some(g), Some(l)) = (&run.gmm, &run.gmm_labels) {
        check("Gaussian mixture", g.labels.len(), Some(sizes(l)))?;
    }
    for set in &run.rules.sets {
        let names: std::collections::HashSet<&str> =
            set.segments.iter().map(|s| s.name.as_str()).collect();
        // The report sizes a rule segment by the customers carrying its name.
        let total = set
            .labels
            .iter()
            .filter(|l| names.contains(l.as_str()))
            .count();
        check(
            &format!("rule set '{}'", set.name),
            set.labels.len(),
            Some(total),
        )?;
    }
    Ok(checked)
}

/// The assignment table about to be written holds each of the run's customers exactly once
/// ([`check_features`] has tied them to the inputs).
pub fn check_assignments(frame: &DataFrame, customers: usize) -> Result<()> {
    if frame.height() != customers {
        return Err(failed(format!(
            "the assignments hold {} rows for {customers} customers",
            frame.height()
        )));
    }
    let ids = frame
        .column("customer_id")
        .context("assignments")?
        .n_unique()
        .context("assignments")?;
    if ids != customers {
        return Err(failed(format!(
            "the assignments hold {ids} distinct customers for {customers} rows"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::PurchaseFacts;
    use chrono::NaiveDate;

    fn table(ids: &[&str], monetary: &[f64]) -> FeatureTable {
        let n = ids.len();
        FeatureTable {
            customer_ids: ids.iter().map(|s| s.to_string()).collect(),
            features: Vec::new(),
            rule_only: Vec::new(),
            facts: PurchaseFacts {
                recency_days: vec![None; n],
                frequency: vec![1.0; n],
                monetary: monetary.to_vec(),
                previous_gap_days: vec![None; n],
            },
            as_of: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            notes: Vec::new(),
            transactions_used: n,
        }
    }

    fn expected(customers: usize, revenue_micros: i128) -> Expected {
        Expected {
            customers,
            revenue_micros,
            revenue_source: "transaction lines dated before 2025-01-01".into(),
        }
    }

    #[test]
    fn a_lost_doubled_or_reordered_customer_fails_the_run() {
        let good = table(&["A", "B", "C"], &[1.0, 2.0, 3.25]);
        check_features(&expected(3, 6_250_000), &good).unwrap();
        let lost = table(&["A", "B"], &[1.0, 2.0]);
        let twice = table(&["A", "B", "B"], &[1.0, 2.0, 3.25]);
        for bad in [lost, twice] {
            let err = check_features(&expected(3, 6_250_000), &bad).unwrap_err();
            assert!(matches!(err, Error::Inconsistent(_)), "{err}");
        }
    }

    #[test]
    fn revenue_must_match_to_the_cent() {
        let table = table(&["A", "B"], &[0.10, 0.20]);
        // 0.1 + 0.2 in floating point is 0.30000000000000004: summed in millionths it is exact.
        check_features(&expected(2, 300_000), &table).unwrap();
        check_features(&expected(2, 304_999), &table).unwrap();
        let err = check_features(&expected(2, 310_000), &table).unwrap_err();
        assert!(err.to_string().contains("0.30"), "{err}");
    }
}
