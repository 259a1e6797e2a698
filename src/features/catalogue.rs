//! The columns of a job's feature table, decided from the job alone: which features its inputs
//! give, in the order `segmenta features` makes them, with what each means.
//!
//! A SQL engine's query (`segmenta sql features`) and a feature table read back from an engine
//! (`[inputs.features]`) both need the columns without the data, so every column named after a
//! value (a category's spend share, a gender's indicator) comes from the values the job lists in
//! `[features] values`; local runs use the same list when it is given.

use super::aggregate::{column_name, value_names};
use super::{FeatureGroup, FeatureKind, Impute, Trials};
use crate::error::{Error, JobError, Result};
use crate::job::{CustomersInput, Job, TransactionsInput};

/// What a column holds; the SQL writer turns each into an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Definition {
    Recency,
    Frequency,
    Monetary,
    AvgOrderValue,
    Tenure,
    MeanInterpurchase,
    RefundShare,
    DiscountShare,
    DiscountDepth,
    WeekendShare,
    /// "morning" (05–12), "afternoon" (12–18), "evening" (the rest).
    DayPart(&'static str),
    PeakSeasonShare,
    /// The share of gross spend in `role` ("category", "channel") equal to `value`, or in none of
    /// `listed` when `value` is None ("other").
    SpendShare {
        role: &'static str,
        value: Option<String>,
        listed: Vec<String>,
    },
    /// Days between the last two purchase days (a fact the lifecycle rules read).
    PreviousGap,
    /// A pre-aggregated customers-table column in original units ("recency_days", …).
    Crm(&'static str),
    CrmAvgOrderValue,
    Visits(i32),
    CartAdds90,
    DaysSinceEvent,
    DaysSinceCart,
    CampaignsReceived,
    /// The mean of a 0/1 campaign column ("opened", "clicked", "responded").
    CampaignRate(&'static str),
    Age,
    Income,
    DaysSinceSignup,
    /// A job-named numeric column of the customers table, by its header.
    Numeric(String),
    /// 1 when the customers-table column `column` (lowercased, blank = "unknown") equals
    /// `value`, or none of `listed` when `value` is None.
    OneHot {
        column: String,
        value: Option<String>,
        listed: Vec<String>,
    },
    /// 1 when the customer's tags hold `value`.
    Tag(String),
}

/// Whether a column is clustered, read only by the rules, or only a purchase fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Feature,
    RuleOnly,
    Fact,
}

#[derive(Debug, Clone)]
pub struct CatalogueColumn {
    pub name: String,
    pub definition: Definition,
    pub group: FeatureGroup,
    pub kind: FeatureKind,
    pub impute: Impute,
    pub block: Option<String>,
    pub trials: Option<Trials>,
    pub usage: Use,
    /// A count (orders, days, visits): compared exactly, not to a tolerance.
    pub whole: bool,
}

impl CatalogueColumn {
    fn new(name: impl Into<String>, definition: Definition, group: FeatureGroup) -> Self {
        CatalogueColumn {
            name: name.into(),
            definition,
            group,
            kind: FeatureKind::Numeric,
            impute: Impute::Median,
            block: None,
            trials: None,
            usage: Use::Feature,
            whole: false,
        }
    }

    fn share(mut self, trials: Option<Trials>) -> Self {
        self.kind = FeatureKind::Share;
        self.trials = trials;
        self
    }

    fn whole(mut self) -> Self {
        self.whole = true;
        self
    }

    fn used_as(mut self, usage: Use) -> Self {
        self.usage = usage;
        self
    }
}

/// Every column of the job's feature table, features first in `segmenta features`' order, then
/// the rule-only columns and the purchase facts.
pub fn columns(job: &Job) -> Result<Vec<CatalogueColumn>> {
    let mut out = Vec::new();
    let inputs = &job.inputs;
    if let Some(tx) = &inputs.transactions {
        out.extend(transaction_columns(job, tx)?);
    } else if let Some(customers) = &inputs.customers {
        out.extend(crm_columns(customers));
    }
    if inputs.events.is_some() {
        out.extend(event_columns());
    }
    if let Some(campaigns) = &inputs.campaigns {
        out.push(CatalogueColumn::new(
            "campaigns_received",
            Definition::CampaignsReceived,
            FeatureGroup::Engagement,
        ));
        for (role, mapped, rate) in [
            ("opened", &campaigns.opened, "open_rate"),
            ("clicked", &campaigns.clicked, "click_rate"),
            ("responded", &campaigns.responded, "response_rate"),
        ] {
            if mapped.is_some() {
                out.push(
                    CatalogueColumn::new(
                        rate,
                        Definition::CampaignRate(role),
                        FeatureGroup::Engagement,
                    )
                    .share(Trials::counted("campaigns_received")),
                );
            }
        }
    }
    if let Some(customers) = &inputs.customers {
        out.extend(demographic_columns(job, customers)?);
    }
    unique_names(&mut out);
    check_listed_values(job, &out)?;
    // The features first, as the feature table keeps them; the rules' extra columns after.
    out.sort_by_key(|c| c.usage != Use::Feature);
    Ok(out)
}

fn transaction_columns(job: &Job, tx: &TransactionsInput) -> Result<Vec<CatalogueColumn>> {
    use Definition as D;
    use FeatureGroup::{Behaviour, Habits, Rfm};
    let mut recency = CatalogueColumn::new("recency_days", D::Recency, Rfm).whole();
    recency.impute = Impute::Max;
    let mut out = vec![
        recency,
        CatalogueColumn::new("frequency", D::Frequency, Rfm).whole(),
        CatalogueColumn::new("monetary", D::Monetary, Rfm),
        CatalogueColumn::new("avg_order_value", D::AvgOrderValue, Rfm),
        CatalogueColumn::new("tenure_days", D::Tenure, Rfm).whole(),
        CatalogueColumn::new("mean_interpurchase_days", D::MeanInterpurchase, Behaviour),
        CatalogueColumn::new("refund_share", D::RefundShare, Behaviour)
            .share(Trials::of_spend("frequency")),
    ];
    if tx.discount.is_some() {
        out.push(
            CatalogueColumn::new("discount_share", D::DiscountShare, Behaviour)
                .share(Trials::counted("frequency")),
        );
        out.push(CatalogueColumn::new("discount_depth", D::DiscountDepth, Behaviour).share(None));
    }
    out.push(
        CatalogueColumn::new("weekend_share", D::WeekendShare, Habits)
            .share(Trials::counted("frequency")),
    );
    if timestamps_have_time(tx) {
        for part in ["morning", "afternoon", "evening"] {
            out.push(
                CatalogueColumn::new(format!("{part}_share"), D::DayPart(part), Habits)
                    .share(Trials::counted("frequency")),
            );
        }
    }
    out.push(
        CatalogueColumn::new("peak_season_share", D::PeakSeasonShare, Habits)
            .share(Trials::of_spend("frequency")),
    );
    for (role, mapped) in [("category", &tx.category), ("channel", &tx.channel)] {
        if mapped.is_some() {
            let listed = listed(job, role)?;
            let names = value_names(role, listed.iter().map(String::as_str));
            let values = listed.iter().cloned().map(Some).chain([None]);
            let names = names.into_iter().chain([format!("{role}_other")]);
            for (name, value) in names.zip(values) {
                let definition = D::SpendShare {
                    role,
                    value,
                    listed: listed.clone(),
                };
                out.push(
                    CatalogueColumn::new(name, definition, Behaviour)
                        .share(Trials::of_spend("frequency")),
                );
            }
        }
    }
    out.push(
        CatalogueColumn::new("previous_gap_days", D::PreviousGap, Rfm)
            .whole()
            .used_as(Use::Fact),
    );
    Ok(out)
}

/// Time-of-day shares need times: a job whose timestamp format has no hour says the engine's
/// column holds dates only.
pub fn timestamps_have_time(tx: &TransactionsInput) -> bool {
    tx.timestamp_format
        .as_deref()
        .is_none_or(crate::load::parse::format_has_time)
}

fn crm_columns(customers: &CustomersInput) -> Vec<CatalogueColumn> {
    use FeatureGroup::{Engagement, Rfm};
    let mut out = Vec::new();
    if customers.recency_days.is_some() {
        let mut recency =
            CatalogueColumn::new("recency_days", Definition::Crm("recency_days"), Rfm);
        recency.impute = Impute::Max;
        out.push(recency);
    }
    if customers.frequency.is_some() {
        out.push(CatalogueColumn::new(
            "frequency",
            Definition::Crm("frequency"),
            Rfm,
        ));
    }
    if customers.monetary.is_some() {
        out.push(CatalogueColumn::new(
            "monetary",
            Definition::Crm("monetary"),
            Rfm,
        ));
    }
    if customers.frequency.is_some() && customers.monetary.is_some() {
        out.push(CatalogueColumn::new(
            "avg_order_value",
            Definition::CrmAvgOrderValue,
            Rfm,
        ));
    }
    if !customers.responses.is_empty() {
        out.push(
            CatalogueColumn::new(
                "response_rate",
                Definition::Crm("response_rate"),
                Engagement,
            )
            .share(None),
        );
    }
    out
}

fn event_columns() -> Vec<CatalogueColumn> {
    use Definition as D;
    let engagement = |name: &str, definition| {
        CatalogueColumn::new(name, definition, FeatureGroup::Engagement).whole()
    };
    vec![
        engagement("visits_30d", D::Visits(30)),
        engagement("visits_90d", D::Visits(90)),
        engagement("add_to_cart_90d", D::CartAdds90),
        engagement("days_since_event", D::DaysSinceEvent).used_as(Use::RuleOnly),
        engagement("days_since_add_to_cart", D::DaysSinceCart).used_as(Use::RuleOnly),
    ]
}

fn demographic_columns(job: &Job, customers: &CustomersInput) -> Result<Vec<CatalogueColumn>> {
    use FeatureGroup::{Behaviour, Demographic};
    let mut out = Vec::new();
    if customers.age.is_some() || customers.birth_year.is_some() || customers.birth_date.is_some() {
        out.push(CatalogueColumn::new("age", Definition::Age, Demographic));
    }
    if customers.income.is_some() {
        out.push(CatalogueColumn::new(
            "income",
            Definition::Income,
            Demographic,
        ));
    }
    if customers.signup_date.is_some() {
        out.push(CatalogueColumn::new(
            "days_since_signup",
            Definition::DaysSinceSignup,
            Demographic,
        ));
    }
    for name in &customers.numeric {
        out.push(CatalogueColumn::new(
            column_name(name),
            Definition::Numeric(name.clone()),
            Behaviour,
        ));
    }
    let categorical = categorical_columns(customers);
    for (column, prefix) in categorical {
        let listed: Vec<String> = listed(job, &prefix)?
            .iter()
            .map(|v| v.trim().to_lowercase())
            .collect();
        let names = value_names(&prefix, listed.iter().map(String::as_str));
        let values = listed.iter().cloned().map(Some).chain([None]);
        let names = names.into_iter().chain([format!("{prefix}_other")]);
        for (name, value) in names.zip(values) {
            let mut indicator = CatalogueColumn::new(
                name,
                Definition::OneHot {
                    column: column.clone(),
                    value,
                    listed: listed.clone(),
                },
                Demographic,
            )
            .whole();
            indicator.kind = FeatureKind::Indicator;
            indicator.block = Some(prefix.clone());
            out.push(indicator);
        }
    }
    if customers.tags.is_some() {
        let listed: Vec<String> = listed(job, "tag")?
            .iter()
            .map(|v| v.trim().to_lowercase())
            .collect();
        let names = value_names("tag", listed.iter().map(String::as_str));
        for (name, value) in names.into_iter().zip(listed) {
            let mut indicator =
                CatalogueColumn::new(name, Definition::Tag(value), Demographic).whole();
            indicator.kind = FeatureKind::Indicator;
            out.push(indicator);
        }
    }
    Ok(out)
}

/// The customers-table columns one-hot encoded, each with its column prefix: the named roles
/// (gender, country, region, city) under their role names, then the job's categorical columns
/// under their headers as feature names.
pub fn categorical_columns(customers: &CustomersInput) -> Vec<(String, String)> {
    let named = [
        ("gender", &customers.gender),
        ("country", &customers.country),
        ("region", &customers.region),
        ("city", &customers.city),
    ];
    let mut categorical: Vec<(String, String)> = named
        .into_iter()
        .filter(|(_, mapped)| mapped.is_some())
        .map(|(role, _)| (role.to_string(), role.to_string()))
        .collect();
    categorical.extend(
        customers
            .categorical
            .iter()
            .map(|name| (name.clone(), column_name(name))),
    );
    categorical
}

/// The values the job lists for a column prefix; without them the columns cannot be named.
fn listed(job: &Job, prefix: &str) -> Result<Vec<String>> {
    job.features.values.get(prefix).cloned().ok_or_else(|| {
        let by = if prefix == "category" || prefix == "channel" {
            "spend"
        } else {
            "customers"
        };
        job_error(
            job,
            format!(
                "the {prefix} columns are named after its values, which the job does not list: add `{prefix} = [\"…\", …]` (`segmenta sql values` ranks the top {} by {by} in the engine; the rest go to {prefix}_other)",
                job.features.top_n
            ),
        )
    })
}

/// A listed prefix the job's inputs do not have is a typo.
fn check_listed_values(job: &Job, columns: &[CatalogueColumn]) -> Result<()> {
    for prefix in job.features.values.keys() {
        let used = columns.iter().any(|c| match &c.definition {
            Definition::SpendShare { role, .. } => role == prefix,
            Definition::OneHot { .. } => c.block.as_deref() == Some(prefix.as_str()),
            Definition::Tag(_) => prefix == "tag",
            _ => false,
        });
        if !used {
            return Err(job_error(
                job,
                format!("`{prefix}` names no categorical column of the job's inputs"),
            ));
        }
    }
    Ok(())
}

fn job_error(job: &Job, message: String) -> Error {
    let path = job.path().unwrap_or(std::path::Path::new("job"));
    Error::job(path, JobError::invalid("[features.values]", message))
}

/// Two columns may slug alike ("Frequency" as a numeric column beside the frequency role): the
/// later one becomes "frequency_2", as in the local feature table.
fn unique_names(columns: &mut [CatalogueColumn]) {
    let mut taken = std::collections::HashSet::new();
    for column in columns.iter_mut().filter(|c| c.usage == Use::Feature) {
        let base = column.name.clone();
        for n in 2.. {
            if taken.insert(column.name.clone()) {
                break;
            }
            column.name = format!("{base}_{n}");
        }
    }
}
