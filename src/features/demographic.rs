//! Demographic and geographic features from the customers table: numbers as they are,
//! categories one-hot over their top-N values (the rest "other"), interest tags multi-hot.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

use super::aggregate::{column_name, value_names};
use super::{date_to_day, Feature, FeatureGroup, FeatureKind};
use crate::error::{PolarsContext, Result};
use crate::job::FeatureOptions;
use crate::load::CustomerTable;

pub fn features(
    customers: &CustomerTable,
    count: usize,
    as_of: NaiveDate,
    options: &FeatureOptions,
) -> Result<Vec<Feature>> {
    let frame = &customers.frame;
    // The customers table's row of every customer (None: the customer is only in other tables).
    let mut rows: Vec<Option<usize>> = vec![None; count];
    let index = frame
        .column("customer")
        .and_then(|c| c.cast(&DataType::UInt32))
        .context("customer index")?;
    for (row, customer) in index.u32().context("customer index")?.iter().enumerate() {
        if let Some(c) = customer {
            rows[c as usize] = Some(row);
        }
    }
    let numbers = |name: &str| -> Result<Option<Vec<Option<f64>>>> {
        let Ok(column) = frame.column(name) else {
            return Ok(None);
        };
        let values: Vec<Option<f64>> = column
            .cast(&DataType::Float64)
            .context(name.to_string())?
            .f64()
            .context(name.to_string())?
            .iter()
            .collect();
        Ok(Some(
            rows.iter().map(|r| r.and_then(|r| values[r])).collect(),
        ))
    };
    let texts = |name: &str| -> Result<Option<Vec<Option<String>>>> {
        let Ok(column) = frame.column(name) else {
            return Ok(None);
        };
        let values: Vec<Option<&str>> = column.str().context(name.to_string())?.iter().collect();
        Ok(Some(
            rows.iter()
                .map(|r| r.and_then(|r| values[r]).map(|s| s.trim().to_lowercase()))
                .collect(),
        ))
    };
    let mut out = Vec::new();
    let numeric = |name: &str, values: Vec<Option<f64>>| {
        Feature::new(
            name,
            FeatureGroup::Demographic,
            FeatureKind::Numeric,
            values,
        )
    };
    if let Some(age) = numbers("age")? {
        out.push(numeric("age", age));
    } else if let Some(birth) = numbers("birth_year")? {
        let year = as_of.year() as f64;
        out.push(numeric(
            "age",
            birth
                .into_iter()
                .map(|b| b.map(|b| year - b).filter(|a| (0.0..=120.0).contains(a)))
                .collect(),
        ));
    }
    if let Some(income) = numbers("income")? {
        out.push(numeric("income", income));
    }
    if let Some(signup) = numbers("signup_day")? {
        let today = date_to_day(as_of) as f64;
        out.push(numeric(
            "days_since_signup",
            signup
                .into_iter()
                .map(|d| d.map(|d| (today - d).max(0.0)))
                .collect(),
        ));
    }
    // The job's own numeric columns describe what customers do (balance, spending score).
    for name in &customers.numeric {
        if let Some(values) = numbers(name)? {
            out.push(Feature::new(
                column_name(name),
                FeatureGroup::Behaviour,
                FeatureKind::Numeric,
                values,
            ));
        }
    }
    let mut categorical: Vec<String> = ["gender", "country", "region", "city"]
        .map(String::from)
        .to_vec();
    categorical.extend(customers.categorical.iter().cloned());
    for name in categorical {
        if let Some(values) = texts(&name)? {
            let prefix = column_name(&name);
            let listed = listed(options, &prefix);
            out.extend(one_hot(&prefix, &values, options.top_n, listed));
        }
    }
    if let Some(tags) = texts("tags")? {
        let listed = listed(options, "tag");
        out.extend(multi_hot("tag", &tags, options.top_n.max(12), listed));
    }
    Ok(out)
}

/// The values the job lists for a column prefix, as the cells are compared: trimmed, lowercase.
fn listed(options: &FeatureOptions, prefix: &str) -> Option<Vec<String>> {
    options
        .values
        .get(prefix)
        .map(|values| values.iter().map(|v| v.trim().to_lowercase()).collect())
}

/// Values ranked by count (ties by name, so the columns are stable from run to run).
fn ranked<'a>(values: impl Iterator<Item = &'a str>, top_n: usize) -> (Vec<String>, usize) {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    let distinct = counts.len();
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    (
        ranked
            .into_iter()
            .take(top_n)
            .map(|(v, _)| v.to_string())
            .collect(),
        distinct,
    )
}

fn one_hot(
    prefix: &str,
    values: &[Option<String>],
    top_n: usize,
    listed: Option<Vec<String>>,
) -> Vec<Feature> {
    let filled: Vec<&str> = values
        .iter()
        .map(|v| v.as_deref().unwrap_or("unknown"))
        .collect();
    // A listed set keeps its "other" column whatever the data holds, as the engine's query.
    let (top, distinct) = match listed {
        Some(listed) => (listed, usize::MAX),
        None => ranked(filled.iter().copied(), top_n),
    };
    let names = value_names(prefix, top.iter().map(String::as_str));
    let mut out: Vec<Feature> = top
        .iter()
        .zip(names)
        .map(|(value, name)| indicator(name, filled.iter().map(|v| *v == value).collect()))
        .collect();
    if distinct > top.len() {
        out.push(indicator(
            format!("{prefix}_other"),
            filled.iter().map(|v| !top.iter().any(|t| t == v)).collect(),
        ));
    }
    for feature in &mut out {
        feature.block = Some(prefix.to_string());
    }
    out
}

fn multi_hot(
    prefix: &str,
    values: &[Option<String>],
    top_n: usize,
    listed: Option<Vec<String>>,
) -> Vec<Feature> {
    let split: Vec<Vec<&str>> = values
        .iter()
        .map(|v| {
            v.as_deref()
                .unwrap_or("")
                .split([';', ',', '|'])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect()
        })
        .collect();
    let top = listed.unwrap_or_else(|| ranked(split.iter().flatten().copied(), top_n).0);
    let names = value_names(prefix, top.iter().map(String::as_str));
    top.iter()
        .zip(names)
        .map(|(tag, name)| {
            indicator(
                name,
                split
                    .iter()
                    .map(|tags| tags.contains(&tag.as_str()))
                    .collect(),
            )
        })
        .collect()
}

fn indicator(name: String, present: Vec<bool>) -> Feature {
    Feature::new(
        name,
        FeatureGroup::Demographic,
        FeatureKind::Indicator,
        present.into_iter().map(|p| Some(p as u8 as f64)).collect(),
    )
}
