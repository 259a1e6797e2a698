//! `segmenta sql features`: one query that computes a job's per-customer feature table inside a
//! SQL engine, column for column as `segmenta features` computes it locally.
//!
//! The query follows the local aggregation step by step: lines are cleaned as the loader cleans
//! them (ids trimmed, blank and listed missing ids dropped, money in whole millionths), lines of
//! one order (or, without order ids, of one day) become an order, orders with a positive net
//! amount are purchases, and every share is one double divided by another, so values agree to
//! the last bit where the local features are exact.

use chrono::{Datelike, NaiveDate};

mod lines;
mod tables;
mod values;

use lines::share_alias;
pub use values::values_query;

use super::dialect::Dialect;
use crate::error::Result;
use crate::features::catalogue::{self, CatalogueColumn, Definition};
use crate::features::date_to_day;
use crate::job::Job;
use crate::load::missing::DEFAULT_MISSING_IDS;

/// The query computing `job`'s feature table as of `as_of` in `dialect`.
pub fn query(job: &Job, as_of: NaiveDate, dialect: Dialect) -> Result<String> {
    let columns = catalogue::columns(job)?;
    let writer = Writer {
        job,
        dialect,
        as_of_day: date_to_day(as_of),
        as_of,
    };
    Ok(writer.query(&columns))
}

struct Writer<'a> {
    job: &'a Job,
    dialect: Dialect,
    as_of_day: i32,
    as_of: NaiveDate,
}

/// A CTE keyed by customer_id that the final select joins.
struct Part {
    name: &'static str,
    sql: String,
}

impl Writer<'_> {
    fn query(&self, columns: &[CatalogueColumn]) -> String {
        let ctes = self.ctes(columns);
        let joined: Vec<&str> = ["purchases", "purchase_days", "spend", "customer_rows"]
            .into_iter()
            .chain(["events_per_customer", "campaigns_per_customer"])
            .filter(|name| ctes.iter().any(|p| p.name == *name))
            .collect();
        let mut sql = self.with(&ctes, "the feature table");
        sql.push_str("SELECT\n  ids.customer_id AS ");
        sql.push_str(&self.dialect.ident("customer_id"));
        for column in columns {
            sql.push_str(&format!(
                ",\n  {} AS {}",
                self.column(&column.definition),
                self.dialect.ident(&column.name)
            ));
        }
        sql.push_str("\nFROM customer_ids AS ids");
        for name in joined {
            sql.push_str(&format!(
                "\nLEFT JOIN {name} ON {name}.customer_id = ids.customer_id"
            ));
        }
        sql.push('\n');
        sql
    }

    /// Every table's cleaned rows and per-customer parts, and `customer_ids`: every customer of
    /// any table, once (the spend per listed value only when `columns` has spend shares).
    fn ctes(&self, columns: &[CatalogueColumn]) -> Vec<Part> {
        let inputs = &self.job.inputs;
        let mut ctes: Vec<Part> = Vec::new();
        let mut id_sources = Vec::new();
        if let Some(tx) = &inputs.transactions {
            ctes.extend(self.transaction_parts(tx, columns));
            id_sources.push("tx");
        }
        if let Some(customers) = &inputs.customers {
            ctes.push(self.customer_rows(customers));
            id_sources.push("customer_rows");
        }
        if let Some(events) = &inputs.events {
            ctes.extend(self.event_parts(events));
            id_sources.push("event_rows");
        }
        if let Some(campaigns) = &inputs.campaigns {
            ctes.extend(self.campaign_parts(campaigns));
            id_sources.push("campaign_rows");
        }
        let every_id = id_sources
            .iter()
            .map(|source| format!("    SELECT customer_id FROM {source}"))
            .collect::<Vec<_>>()
            .join("\n    UNION ALL\n");
        let ids = format!("  SELECT DISTINCT customer_id FROM (\n{every_id}\n  ) AS every_id");
        ctes.push(Part {
            name: "customer_ids",
            sql: ids,
        });
        ctes
    }

    /// The query's heading comment and its WITH clause.
    fn with(&self, ctes: &[Part], what: &str) -> String {
        let mut sql = format!(
            "-- segmenta {}: {what} of job '{}' as of {} ({} dialect)\n",
            env!("CARGO_PKG_VERSION"),
            self.job.name,
            self.as_of,
            self.dialect
        );
        sql.push_str("WITH\n");
        let written: Vec<String> = ctes
            .iter()
            .map(|p| format!("{} AS (\n{}\n)", p.name, p.sql))
            .collect();
        sql.push_str(&written.join(",\n"));
        sql.push('\n');
        sql
    }

    /// A table's customer id as trimmed text; blank and listed missing ids are NULL.
    fn customer_id(
        &self,
        column: &str,
        listed: Option<&[String]>,
        default_missing: bool,
    ) -> String {
        let d = self.dialect;
        let id = d.trimmed_text(&d.ident(column));
        let missing: Vec<String> = match listed {
            Some(ids) => ids.to_vec(),
            None if default_missing => DEFAULT_MISSING_IDS.iter().map(|s| s.to_string()).collect(),
            None => Vec::new(),
        };
        if missing.is_empty() {
            return id;
        }
        let list: Vec<String> = missing.iter().map(|m| d.text_literal(m)).collect();
        format!(
            "CASE WHEN {id} IN ({}) THEN NULL ELSE {id} END",
            list.join(", ")
        )
    }

    fn table(&self, table: &Option<String>, role: &str) -> String {
        self.dialect.table(table.as_deref().unwrap_or(role))
    }

    /// The expression of one output column over the joined per-customer parts.
    fn column(&self, definition: &Definition) -> String {
        let d = self.dialect;
        let a = self.as_of_day;
        let double = |e: &str| d.double(e);
        let ratio = |part: &str, whole: &str| d.ratio(part, whole);
        let per_purchase = |count: &str| ratio(count, "purchases.purchases");
        match definition {
            Definition::Recency => double(&format!("{a} - purchases.last_day")),
            Definition::Frequency => double("COALESCE(purchases.purchases, 0)"),
            Definition::Monetary => format!("{} / 1000000.0", double("COALESCE(purchases.net, 0)")),
            Definition::AvgOrderValue => format!(
                "{} / 1000000.0 / {}",
                double("purchases.purchase_spend"),
                double("NULLIF(purchases.purchases, 0)")
            ),
            Definition::Tenure => double(&format!("COALESCE({a} - purchases.first_day, 0)")),
            Definition::MeanInterpurchase => format!(
                "CASE WHEN purchase_days.distinct_days > 1 THEN {} / {} END",
                double("purchases.last_day - purchases.first_day"),
                double("purchase_days.distinct_days - 1")
            ),
            Definition::RefundShare => ratio("purchases.refunded", "purchases.gross"),
            Definition::DiscountShare => per_purchase("purchases.discounted"),
            Definition::DiscountDepth => format!(
                "CASE WHEN purchases.discounted > 0 THEN {} / 1000000000000.0 / {} END",
                double("purchases.depth_sum"),
                double("purchases.discounted")
            ),
            Definition::WeekendShare => per_purchase("purchases.weekend"),
            Definition::DayPart(part) => per_purchase(&format!("purchases.{part}")),
            Definition::PeakSeasonShare => {
                ratio("purchases.peak_spend", "purchases.purchase_spend")
            }
            Definition::SpendShare {
                role,
                value,
                listed,
            } => ratio(
                &format!("spend.{}", share_alias(role, value.as_deref(), listed)),
                "spend.gross_lines",
            ),
            Definition::PreviousGap => double("purchase_days.previous_gap"),
            Definition::Crm(role) => self.crm(role),
            Definition::CrmAvgOrderValue => "CASE WHEN COALESCE(customer_rows.frequency, 0) > 0 THEN COALESCE(customer_rows.monetary, 0) / customer_rows.frequency ELSE 0.0 END".into(),
            Definition::Visits(days) => {
                double(&format!("COALESCE(events_per_customer.visits_{days}d, 0)"))
            }
            Definition::CartAdds90 => double("COALESCE(events_per_customer.add_to_cart_90d, 0)"),
            Definition::DaysSinceEvent => double("events_per_customer.days_since_event"),
            Definition::DaysSinceCart => double("events_per_customer.days_since_add_to_cart"),
            Definition::CampaignsReceived => {
                double("COALESCE(campaigns_per_customer.received, 0)")
            }
            Definition::CampaignRate(role) => format!("campaigns_per_customer.{role}"),
            Definition::Age => self.age(),
            Definition::Income => "customer_rows.income".into(),
            Definition::DaysSinceSignup => double(&format!(
                "GREATEST({a} - customer_rows.signup_day, 0)"
            )),
            Definition::Numeric(name) => {
                format!("customer_rows.{}", d.ident(&format!("numeric_{name}")))
            }
            Definition::OneHot {
                column,
                value,
                listed,
            } => self.one_hot(column, value.as_deref(), listed),
            Definition::Tag(value) => {
                let tags = format!(
                    "',' || {} || ','",
                    d.replace_all("COALESCE(customer_rows.tags, '')", " *[;,|] *", ",")
                );
                format!(
                    "CASE WHEN POSITION({} IN {tags}) > 0 THEN 1.0 ELSE 0.0 END",
                    d.text_literal(&format!(",{value},"))
                )
            }
        }
    }

    fn crm(&self, role: &str) -> String {
        match role {
            "frequency" | "monetary" => format!("COALESCE(customer_rows.{role}, 0.0)"),
            _ => format!("customer_rows.{role}"),
        }
    }

    fn age(&self) -> String {
        if self
            .job
            .inputs
            .customers
            .as_ref()
            .is_some_and(|c| c.age.is_some())
        {
            return "customer_rows.age".into();
        }
        let age = format!("{} - customer_rows.birth_year", self.as_of.year());
        format!("CASE WHEN {age} >= 0 AND {age} <= 120 THEN {age} END")
    }

    fn one_hot(&self, column: &str, value: Option<&str>, listed: &[String]) -> String {
        let cell = self.categorical_cell(column);
        let condition = self.value_is(&cell, value, listed);
        format!("CASE WHEN {condition} THEN 1.0 ELSE 0.0 END")
    }

    /// A customers-table category as the one-hot columns compare it: lowercase, blank (or no row
    /// in the customers table) "unknown".
    fn categorical_cell(&self, column: &str) -> String {
        let role = ["gender", "country", "region", "city"];
        let alias = if role.contains(&column) {
            column.to_string()
        } else {
            format!("categorical_{column}")
        };
        format!(
            "COALESCE(customer_rows.{}, 'unknown')",
            self.dialect.ident(&alias)
        )
    }

    /// `cell` equals `value`, or, for the "other" column (None), none of the listed values.
    fn value_is(&self, cell: &str, value: Option<&str>, listed: &[String]) -> String {
        let d = self.dialect;
        match value {
            Some(value) => format!("{cell} = {}", d.text_literal(value)),
            None if listed.is_empty() => "TRUE".into(),
            None => {
                let list: Vec<String> = listed.iter().map(|v| d.text_literal(v)).collect();
                format!("{cell} NOT IN ({})", list.join(", "))
            }
        }
    }
}
