//! Stage 2 — features: one row per customer, then the fitted preparation that turns
//! them into the clustering matrix.

mod aggregate;
pub mod catalogue;
pub mod engine_table;
pub use aggregate::{column_name, order_days, slug, OrderDay};
mod demographic;
mod prepare;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use prepare::{
    imputed_cells, observations_word, percentile, FeatureMatrix, FitReport, Impute, Preparation,
    PreparedColumn, Shrinkage,
};

use crate::error::Result;
use crate::job::FeatureOptions;
use crate::load::Inputs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum FeatureGroup {
    Rfm,
    Behaviour,
    Habits,
    Engagement,
    Demographic,
}

impl FeatureGroup {
    pub const ALL: [FeatureGroup; 5] = [
        FeatureGroup::Rfm,
        FeatureGroup::Behaviour,
        FeatureGroup::Habits,
        FeatureGroup::Engagement,
        FeatureGroup::Demographic,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FeatureGroup::Rfm => "rfm",
            FeatureGroup::Behaviour => "behaviour",
            FeatureGroup::Habits => "habits",
            FeatureGroup::Engagement => "engagement",
            FeatureGroup::Demographic => "demographic",
        }
    }

    /// Computed from purchases, so a customer who never bought has no value.
    pub fn from_purchases(self) -> bool {
        matches!(
            self,
            FeatureGroup::Rfm | FeatureGroup::Behaviour | FeatureGroup::Habits
        )
    }
}

/// How many observations a share comes from (see [`Feature::trials`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trials {
    /// The feature holding each customer's number of observations (orders, mailings).
    pub feature: String,
    /// The share counts those observations (weekend orders of all orders) rather than money
    /// (spend in a category): only a counted share's spread can be told from chance.
    pub counted: bool,
}

impl Trials {
    pub fn counted(feature: &str) -> Option<Trials> {
        Some(Trials {
            feature: feature.to_string(),
            counted: true,
        })
    }

    pub fn of_spend(feature: &str) -> Option<Trials> {
        Some(Trials {
            feature: feature.to_string(),
            counted: false,
        })
    }
}

/// How a feature is prepared: shares and indicators are never log-transformed or clipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureKind {
    Numeric,
    Share,
    Indicator,
}

#[derive(Debug, Clone)]
pub struct Feature {
    pub name: String,
    pub group: FeatureGroup,
    pub kind: FeatureKind,
    pub impute: Impute,
    /// The categorical column a one-hot indicator comes from ("gender" for gender_female): the
    /// indicators of one column share one feature's weight, so a two-valued column does not
    /// count twice and a twenty-valued one twenty times.
    pub block: Option<String>,
    /// For a share or rate: how many observations (orders, mailings) each customer's value
    /// comes from, so that the preparation can shrink shares from few of them.
    pub trials: Option<Trials>,
    pub values: Vec<Option<f64>>,
}

impl Feature {
    pub fn new(
        name: impl Into<String>,
        group: FeatureGroup,
        kind: FeatureKind,
        values: Vec<Option<f64>>,
    ) -> Self {
        Self {
            name: name.into(),
            group,
            kind,
            impute: Impute::Median,
            block: None,
            trials: None,
            values,
        }
    }

    /// The feature's description with no values, to be given other customers' values.
    fn clone_without_values(&self) -> Self {
        Self {
            name: self.name.clone(),
            group: self.group,
            kind: self.kind,
            impute: self.impute,
            block: self.block.clone(),
            trials: self.trials.clone(),
            values: Vec::new(),
        }
    }
}

/// The purchase facts the rule segments are computed from, in original units.
#[derive(Debug, Clone, Default)]
pub struct PurchaseFacts {
    /// Days from the last purchase to the as-of date; None for customers who never bought.
    pub recency_days: Vec<Option<f64>>,
    pub frequency: Vec<f64>,
    /// Net spend (refunds subtracted) inside the as-of window.
    pub monetary: Vec<f64>,
    /// Days between the last two purchases; None with fewer than two purchase days.
    pub previous_gap_days: Vec<Option<f64>>,
}

pub struct FeatureTable {
    pub customer_ids: Vec<String>,
    pub features: Vec<Feature>,
    /// Columns rule conditions may use but discovery never sees (days since the last event …).
    pub rule_only: Vec<Feature>,
    pub facts: PurchaseFacts,
    pub as_of: NaiveDate,
    /// Things the analyst should know about the data (rows ignored, columns dropped).
    pub notes: Vec<String>,
    pub transactions_used: usize,
}

impl FeatureTable {
    pub fn feature(&self, name: &str) -> Option<&Feature> {
        self.features.iter().find(|f| f.name == name)
    }

    /// Every per-customer column: the features, then the rule-only columns.
    pub fn all_columns(&self) -> impl Iterator<Item = &Feature> + Clone {
        self.features.iter().chain(&self.rule_only)
    }

    /// A feature or rule-only column by name.
    pub fn any_column(&self, name: &str) -> Option<&Feature> {
        self.all_columns().find(|f| f.name == name)
    }

    pub fn len(&self) -> usize {
        self.customer_ids.len()
    }

    /// Whether the inputs give this purchase measure (`recency_days`, `frequency`, `monetary`):
    /// a transaction log gives all three, a customers table the ones it maps, perhaps none.
    pub fn gives(&self, measure: &str) -> bool {
        self.feature(measure).is_some()
    }

    /// Net revenue in the as-of window rounded to the cent, summed exactly in millionths.
    pub fn net_revenue(&self) -> f64 {
        crate::load::ledger::micros_to_money(crate::load::ledger::total_micros(
            &self.facts.monetary,
        ))
    }

    pub fn is_empty(&self) -> bool {
        self.customer_ids.is_empty()
    }

    /// The customers at `rows` (indices into this table, ascending), every column with them:
    /// the table a preparation is fitted on when discovery fits on a sample.
    pub fn select_rows(&self, rows: &[usize]) -> FeatureTable {
        let pick = |values: &[Option<f64>]| rows.iter().map(|&r| values[r]).collect();
        let subset = |features: &[Feature]| -> Vec<Feature> {
            features
                .iter()
                .map(|f| Feature {
                    values: pick(&f.values),
                    ..f.clone_without_values()
                })
                .collect()
        };
        let facts = &self.facts;
        FeatureTable {
            customer_ids: rows.iter().map(|&r| self.customer_ids[r].clone()).collect(),
            features: subset(&self.features),
            rule_only: subset(&self.rule_only),
            facts: PurchaseFacts {
                recency_days: pick(&facts.recency_days),
                frequency: rows.iter().map(|&r| facts.frequency[r]).collect(),
                monetary: rows.iter().map(|&r| facts.monetary[r]).collect(),
                previous_gap_days: pick(&facts.previous_gap_days),
            },
            as_of: self.as_of,
            notes: self.notes.clone(),
            transactions_used: self.transactions_used,
        }
    }
}

/// A job may map a column whose name a computed feature already has ("Frequency" as a numeric
/// column beside the frequency role): the later one becomes "frequency_2".
fn unique_names(features: &mut [Feature]) {
    let mut taken = std::collections::HashSet::new();
    for feature in features {
        let base = feature.name.clone();
        for n in 2.. {
            if taken.insert(feature.name.clone()) {
                break;
            }
            feature.name = format!("{base}_{n}");
        }
    }
}

/// The run's as-of date: the one asked for on the command line, else the job's, else the day
/// after the latest transaction, else today (a pre-aggregated table carries its own recency, so
/// there its as-of date only names the report).
pub fn resolve_as_of(
    asked: Option<NaiveDate>,
    job_as_of: Option<NaiveDate>,
    inputs: &Inputs,
) -> NaiveDate {
    asked
        .or(job_as_of)
        .or_else(|| default_as_of(inputs))
        .unwrap_or_else(|| chrono::Local::now().date_naive())
}

/// The as-of date of a job that reads an engine's feature table: the one its query was written
/// for, which the table itself does not record.
pub fn engine_as_of(asked: Option<NaiveDate>, job: &crate::job::Job) -> Result<NaiveDate> {
    asked.or(job.as_of()).ok_or_else(|| {
        crate::Error::usage(
            "[inputs.features]: set `as_of` in the job (or pass --as-of) to the date the features query was written for",
        )
    })
}

/// The job's feature table and what was read for it: an engine's table (`[inputs.features]`), or
/// the inputs loaded and aggregated as of `asked` (else the job's date, else the day after the
/// latest transaction).
pub fn of_job(
    job: &crate::job::Job,
    asked: Option<NaiveDate>,
) -> Result<(FeatureTable, crate::load::DataQuality)> {
    let (table, quality, _) = of_job_with_inputs(job, asked)?;
    Ok((table, quality))
}

/// [`of_job`] with the inputs it read (None for an engine's table), for the stages that read them
/// further (the lifetime model counts purchase days).
pub fn of_job_with_inputs(
    job: &crate::job::Job,
    asked: Option<NaiveDate>,
) -> Result<(FeatureTable, crate::load::DataQuality, Option<Inputs>)> {
    if let Some(input) = &job.inputs.features {
        let read = engine_table::read(job, input, engine_as_of(asked, job)?)?;
        return Ok((read.table, read.quality, None));
    }
    let mut inputs = crate::load::load(job)?;
    let as_of = resolve_as_of(asked, job.as_of(), &inputs);
    let table = for_customers(&inputs, as_of, &job.features)?;
    let quality = std::mem::take(&mut inputs.quality);
    Ok((table, quality, Some(inputs)))
}

/// The per-customer feature table every verb starts from; no customer at all is an error.
pub fn for_customers(
    inputs: &Inputs,
    as_of: NaiveDate,
    options: &FeatureOptions,
) -> Result<FeatureTable> {
    let table = build(inputs, as_of, options)?;
    if table.is_empty() {
        let dropped: Vec<String> = inputs
            .quality
            .dropped
            .iter()
            .map(|(reason, rows)| format!("{reason}: {rows} rows"))
            .collect();
        let why = if dropped.is_empty() {
            String::new()
        } else {
            format!(" — every row was dropped ({})", dropped.join("; "))
        };
        return Err(crate::Error::data(format!(
            "the inputs hold no customers{why}"
        )));
    }
    Ok(table)
}

/// The day of the latest transaction, when the inputs have a log.
pub fn latest_transaction_day(inputs: &Inputs) -> Option<i32> {
    aggregate::latest_transaction_day(inputs)
}

/// The as-of date a job uses when none is given: the day after the latest transaction.
pub fn default_as_of(inputs: &Inputs) -> Option<NaiveDate> {
    aggregate::latest_transaction_day(inputs).map(|day| day_to_date(day + 1))
}

pub fn date_to_day(date: NaiveDate) -> i32 {
    (date - NaiveDate::default()).num_days() as i32
}

pub fn day_to_date(day: i32) -> NaiveDate {
    NaiveDate::default() + chrono::Duration::days(day as i64)
}

pub fn build(inputs: &Inputs, as_of: NaiveDate, options: &FeatureOptions) -> Result<FeatureTable> {
    let customer_ids = inputs.customer_ids.clone();
    let customers = customer_ids.len();
    let as_of_day = date_to_day(as_of);
    let mut notes = Vec::new();
    let mut features = Vec::new();
    let mut rule_only = Vec::new();
    let mut facts = PurchaseFacts::default();
    let mut transactions_used = 0;
    if let Some(tx) = &inputs.transactions {
        let out = aggregate::transactions(tx, customers, as_of_day, options)?;
        if out.after_as_of > 0 {
            notes.push(format!(
                "{} transaction rows dated on or after the as-of date {as_of} were ignored",
                out.after_as_of
            ));
        }
        transactions_used = out.used;
        features.extend(out.features);
        facts = out.facts;
    } else if let Some(table) = &inputs.customers {
        let (pre, pre_facts) = aggregate::pre_aggregated(table, customers)?;
        features.extend(pre);
        facts = pre_facts;
    }
    notes.extend(inputs.quality.suspicious_ids.iter().map(|s| s.warning()));
    if let Some(events) = &inputs.events {
        features.extend(aggregate::events(events, customers, as_of_day)?);
        rule_only.extend(aggregate::event_recency(events, customers, as_of_day)?);
    }
    if let Some(campaigns) = &inputs.campaigns {
        features.extend(aggregate::campaigns(campaigns, customers, as_of_day)?);
    }
    if let Some(table) = &inputs.customers {
        features.extend(demographic::features(table, customers, as_of, options)?);
    }
    unique_names(&mut features);
    if facts.frequency.is_empty() {
        facts = PurchaseFacts {
            recency_days: vec![None; customer_ids.len()],
            frequency: vec![0.0; customer_ids.len()],
            monetary: vec![0.0; customer_ids.len()],
            previous_gap_days: vec![None; customer_ids.len()],
        };
    }
    Ok(FeatureTable {
        customer_ids,
        features,
        rule_only,
        facts,
        as_of,
        notes,
        transactions_used,
    })
}

#[cfg(test)]
mod group_names {
    use super::FeatureGroup;

    /// `[features.weights]` is checked against the job's list of group names, so the job format
    /// needs no stage module; the two lists must stay the same.
    #[test]
    fn the_job_knows_every_feature_group() {
        let names: Vec<&str> = FeatureGroup::ALL.iter().map(|g| g.name()).collect();
        assert_eq!(names, crate::job::FEATURE_GROUPS);
    }
}
