//! The rule table: one row per customer with every column a condition may use — the features in
//! original units, the rule-only facts, the R/F/M scores and RFM cell, and the segments of the
//! rule sets computed before — and the evaluation of condition presets and custom rules on it.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::conditions::{self, Condition};
use super::{Preset, RfmScores, RuleSet, SegmentInfo};
use crate::error::{Error, PolarsContext, Result};
use crate::features::FeatureTable;
use crate::job::RuleOptions;

/// Columns every rule table has, missing (NULL) when the inputs cannot give them, so that a
/// preset written for transaction logs still runs on a pre-aggregated table.
pub const STANDARD_COLUMNS: &[&str] = &[
    "recency_days",
    "frequency",
    "monetary",
    "tenure_days",
    "previous_gap_days",
    "days_since_event",
    "days_since_add_to_cart",
];

pub fn frame(table: &FeatureTable, rfm: &RfmScores) -> Result<DataFrame> {
    let mut columns: Vec<Column> = table
        .all_columns()
        .map(|f| Column::new(f.name.as_str().into(), &f.values))
        .collect();
    let previous_gap = Column::new("previous_gap_days".into(), &table.facts.previous_gap_days);
    columns.push(previous_gap);
    let mut seen = std::collections::HashSet::new();
    columns.retain(|c| seen.insert(c.name().to_string()));
    for name in STANDARD_COLUMNS {
        if !seen.contains(*name) {
            columns.push(Column::full_null(
                (*name).into(),
                table.len(),
                &DataType::Float64,
            ));
        }
    }
    let scores =
        |s: &[Option<u8>]| -> Vec<Option<i32>> { s.iter().map(|v| v.map(i32::from)).collect() };
    columns.push(Column::new("r_score".into(), scores(&rfm.r)));
    columns.push(Column::new("f_score".into(), scores(&rfm.f)));
    columns.push(Column::new("m_score".into(), scores(&rfm.m)));
    let cells: Vec<Option<String>> = (0..table.len()).map(|i| rfm.cell(i)).collect();
    columns.push(Column::new("rfm_cell".into(), cells));
    DataFrame::new_infer_height(columns).context("building the table for rule conditions")
}

/// Adds a computed rule set as a text column, so later conditions can use it.
pub fn add_set(frame: &mut DataFrame, set: &RuleSet) -> Result<()> {
    add_column(frame, &set.column_name(), &set.labels)
}

/// Adds a rule set's segments as a text column named `name`.
pub fn add_column(frame: &mut DataFrame, name: &str, labels: &[String]) -> Result<()> {
    frame
        .with_column(Column::new(name.into(), labels))
        .map(|_| ())
        .context("adding a rule set to the rule table")
}

/// The rule table with a preset's thresholds added as constant columns.
pub fn with_thresholds(
    frame: &DataFrame,
    preset: &str,
    thresholds: &BTreeMap<String, f64>,
) -> Result<DataFrame> {
    let mut with_thresholds = frame.clone();
    for (name, value) in thresholds {
        if frame.column(name).is_ok() {
            return Err(Error::data(format!(
                "rule preset {preset}: threshold `{name}` has the name of a column; rename it"
            )));
        }
        let column = Column::new_scalar(name.as_str().into(), Scalar::from(*value), frame.height());
        with_thresholds
            .with_column(column)
            .context("adding thresholds to the rule table")?;
    }
    Ok(with_thresholds)
}

/// A conditions preset evaluated with its thresholds (added as constant columns), plus warnings
/// for conditions that read a column no customer has a value for.
pub fn conditions_set(
    frame: &DataFrame,
    preset: &Preset,
    thresholds: BTreeMap<String, f64>,
) -> Result<(RuleSet, Vec<String>)> {
    let with_thresholds = with_thresholds(frame, &preset.name, &thresholds)?;
    let (rules, default) = preset.segments.split_at(preset.segments.len() - 1);
    let conditions: Vec<Condition> = rules
        .iter()
        .map(|s| Condition {
            segment: &s.name,
            when: s.when.as_deref().unwrap_or_default(),
            origin: format!("rule preset {}, segment '{}'", preset.name, s.name),
        })
        .collect();
    let labels = conditions::first_match(&with_thresholds, &conditions, &default[0].name)?;
    let warnings = unknown_column_warnings(frame, &conditions);
    let segments = preset
        .segments
        .iter()
        .map(|s| {
            let rule = s.when.clone().unwrap_or_else(|| "everyone else".into());
            SegmentInfo::of(s, rule)
        })
        .collect();
    let set = RuleSet {
        name: preset.name.clone(),
        title: preset.title.clone(),
        kind: "conditions".into(),
        thresholds,
        labels,
        segments,
    };
    Ok((set, warnings))
}

/// The job's custom rules as conditions, each naming where it was written.
pub fn custom_conditions(options: &RuleOptions) -> Vec<Condition<'_>> {
    options
        .custom
        .iter()
        .enumerate()
        .map(|(i, rule)| Condition {
            segment: &rule.name,
            when: &rule.when,
            origin: format!("[[rules.custom]] rule {} '{}'", i + 1, rule.name),
        })
        .collect()
}

pub fn custom_set(frame: &DataFrame, options: &RuleOptions) -> Result<(RuleSet, Vec<String>)> {
    let conditions = custom_conditions(options);
    let labels = conditions::first_match(frame, &conditions, &options.custom_default)?;
    let warnings = unknown_column_warnings(frame, &conditions);
    let mut segments: Vec<SegmentInfo> = options
        .custom
        .iter()
        .map(|c| SegmentInfo {
            name: c.name.clone(),
            description: c.description.clone().unwrap_or_default(),
            action: c.action.clone().unwrap_or_default(),
            rule: c.when.clone(),
        })
        .collect();
    if !segments.iter().any(|s| s.name == options.custom_default) {
        segments.push(SegmentInfo {
            name: options.custom_default.clone(),
            description: "Customers no custom rule matched.".into(),
            action: String::new(),
            rule: "everyone else".into(),
        });
    }
    let set = RuleSet {
        name: "custom".into(),
        title: "Custom rules".into(),
        kind: "custom rules".into(),
        thresholds: BTreeMap::new(),
        labels,
        segments,
    };
    Ok((set, warnings))
}

/// A condition reading a column that is missing for every customer can only match through its
/// other parts; the analyst should know (e.g. temperature without an events table).
fn unknown_column_warnings(frame: &DataFrame, conditions: &[Condition]) -> Vec<String> {
    let mut out = Vec::new();
    for condition in conditions {
        for name in conditions::columns_used(condition.when) {
            let all_missing = frame
                .column(&name)
                .is_ok_and(|c| c.null_count() == c.len() && !c.is_empty());
            if all_missing {
                out.push(format!(
                    "{}: `{name}` is unknown for every customer (its input is not in the job), so that part of `{}` never matches",
                    condition.origin, condition.when
                ));
            }
        }
    }
    out
}
