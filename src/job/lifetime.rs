//! `[lifetime]`: the customer-base model fitted on the transaction log (BG/NBD for who is still a
//! customer and how often they will buy, Gamma-Gamma for what their purchases are worth).

use serde::{Deserialize, Serialize};

use crate::error::JobError;

/// The per-customer columns the lifetime model adds, which rules may use and `[features]
/// include` may put into the clustering matrix.
pub const LIFETIME_COLUMNS: [&str; 4] = [
    "p_alive",
    "expected_purchases",
    "expected_order_value",
    "clv",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifetimeOptions {
    pub model: LifetimeModel,
    /// The unit of the model's times; its parameters r/α are per unit.
    #[serde(default)]
    pub time_unit: TimeUnit,
    /// How far ahead expected purchases and CLV look.
    #[serde(default = "default_horizon_days")]
    pub horizon_days: u32,
    #[serde(default = "default_discount")]
    pub annual_discount_rate: f64,
    /// The share of revenue that is profit: CLV is of revenue at 1.0.
    #[serde(default = "default_margin")]
    pub margin: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LifetimeModel {
    Bgnbd,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    Day,
    /// Seven days, as in the BG/NBD paper.
    #[default]
    Week,
}

impl TimeUnit {
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Day => 1.0,
            TimeUnit::Week => 7.0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Day => "day",
            TimeUnit::Week => "week",
        }
    }
}

fn default_horizon_days() -> u32 {
    90
}
fn default_discount() -> f64 {
    0.1
}
fn default_margin() -> f64 {
    1.0
}

impl LifetimeOptions {
    pub fn validate(&self) -> Result<(), JobError> {
        let section = "[lifetime]";
        if !(1..=3650).contains(&self.horizon_days) {
            return Err(JobError::invalid(
                section,
                format!("horizon_days = {}: need 1 to 3650 days", self.horizon_days),
            ));
        }
        let rate = self.annual_discount_rate;
        if !(0.0..1.0).contains(&rate) {
            return Err(JobError::invalid(
                section,
                format!("annual_discount_rate = {rate}: need a rate from 0 up to (not including) 1, e.g. 0.1 for 10 %"),
            ));
        }
        let margin = self.margin;
        if !(margin > 0.0 && margin <= 1.0) {
            return Err(JobError::invalid(
                section,
                format!("margin = {margin}: need the share of revenue that is profit, above 0 and at most 1"),
            ));
        }
        Ok(())
    }

    /// The horizon in the model's time unit.
    pub fn horizon(&self) -> f64 {
        f64::from(self.horizon_days) / self.time_unit.days()
    }
}

/// `[features] include` names lifetime columns, which exist only with `[lifetime]`.
pub fn validate_include(
    include: &[String],
    lifetime: Option<&LifetimeOptions>,
) -> Result<(), JobError> {
    let section = "[features]";
    for name in include {
        if !LIFETIME_COLUMNS.contains(&name.as_str()) {
            return Err(JobError::invalid(
                section,
                format!(
                    "include = [\"{name}\"]: unknown column{}; the columns to include are {}",
                    crate::job::suggest(name, &LIFETIME_COLUMNS),
                    LIFETIME_COLUMNS.join(", ")
                ),
            ));
        }
    }
    if !include.is_empty() && lifetime.is_none() {
        return Err(JobError::invalid(
            section,
            format!(
                "include = [\"{}\"] needs the lifetime model: add a [lifetime] section with model = \"bgnbd\"",
                include.join("\", \"")
            ),
        ));
    }
    Ok(())
}
