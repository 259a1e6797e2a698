//! `[inputs.*]` and `[tables.*]`: which files or queries give each table, and which of their
//! columns play which role.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::JobError;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    pub transactions: Option<TransactionsInput>,
    pub customers: Option<CustomersInput>,
    pub campaigns: Option<CampaignsInput>,
    pub events: Option<EventsInput>,
    /// A known segmentation to measure the discovered clusters against (ARI, NMI), e.g. the
    /// planted groups of generated data.
    pub reference: Option<ReferenceInput>,
    /// A per-customer feature table written by an engine (`segmenta sql features`): it replaces
    /// reading and aggregating the other inputs, which then only describe what it holds.
    pub features: Option<FeaturesInput>,
}

impl Inputs {
    /// Every input the job gives, by its role name ("transactions", …), with its source.
    pub fn sources(&self) -> Vec<(&'static str, Source<'_>)> {
        [
            (
                "transactions",
                self.transactions.as_ref().map(|t| t.source()),
            ),
            ("customers", self.customers.as_ref().map(|c| c.source())),
            ("campaigns", self.campaigns.as_ref().map(|c| c.source())),
            ("events", self.events.as_ref().map(|e| e.source())),
            ("reference", self.reference.as_ref().map(|r| r.source())),
        ]
        .into_iter()
        .filter_map(|(name, source)| Some((name, source?)))
        .collect()
    }
}

/// Where a table's rows come from — its files, or a SQL query over the job's `[tables.*]` — how
/// its CSV files are written, and which customer ids mean "no customer" in it.
pub struct Source<'a> {
    pub path: Option<&'a str>,
    pub query: Option<&'a str>,
    /// The engine table (`table`), for `segmenta sql`.
    pub table: Option<&'a str>,
    pub separator: Option<&'a str>,
    pub encoding: Option<&'a str>,
    /// The job's `missing_ids`; None: the table's default list.
    pub missing_ids: Option<&'a [String]>,
}

macro_rules! has_source {
    ($($input:ty),*) => {$(
        impl $input {
            pub fn source(&self) -> Source<'_> {
                Source {
                    path: self.path.as_deref(),
                    query: self.query.as_deref(),
                    table: self.table.as_deref(),
                    separator: self.separator.as_deref(),
                    encoding: self.encoding.as_deref(),
                    missing_ids: self.missing_ids.as_deref(),
                }
            }
        }
    )*};
}

has_source!(
    ReferenceInput,
    TransactionsInput,
    CustomersInput,
    CampaignsInput,
    EventsInput
);

/// `[inputs.features]`: one row per customer, one column per feature, named as
/// `segmenta features` names them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeaturesInput {
    /// A CSV or Parquet file, a folder of part files (as Spark writes) or a glob.
    pub path: String,
    pub separator: Option<String>,
    pub encoding: Option<String>,
    #[serde(default = "default_customer_id")]
    pub customer_id: String,
}

fn default_customer_id() -> String {
    "customer_id".into()
}

impl FeaturesInput {
    pub fn source(&self) -> Source<'_> {
        Source {
            path: Some(&self.path),
            query: None,
            table: None,
            separator: self.separator.as_deref(),
            encoding: self.encoding.as_deref(),
            missing_ids: None,
        }
    }
}

/// `[tables.<name>]`: a raw table that input queries refer to by its name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableInput {
    pub path: String,
    pub separator: Option<String>,
    /// Text encoding of CSV files without a byte-order mark; default UTF-8.
    pub encoding: Option<String>,
    /// Values that mean "no value" in every column of this table (they read as NULL in queries).
    pub missing_ids: Option<Vec<String>>,
}

impl TableInput {
    pub fn source(&self) -> Source<'_> {
        Source {
            path: Some(&self.path),
            query: None,
            table: None,
            separator: self.separator.as_deref(),
            encoding: self.encoding.as_deref(),
            missing_ids: self.missing_ids.as_deref(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceInput {
    /// A CSV or Parquet file, a folder or a glob; or, instead, `query`.
    pub path: Option<String>,
    /// SQL (polars' dialect) over the job's `[tables.*]`, whose output columns the role keys name.
    pub query: Option<String>,
    /// The table in a SQL engine ("schema.name") that `segmenta sql features` reads; default:
    /// the input's role name.
    pub table: Option<String>,
    /// Customer ids that mean "no customer" in this table; default: see [`crate::load::missing`].
    pub missing_ids: Option<Vec<String>>,
    pub separator: Option<String>,
    /// Text encoding of CSV files without a byte-order mark ("windows-1251", "latin-1", …);
    /// default UTF-8.
    pub encoding: Option<String>,
    pub customer_id: String,
    pub segment: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionsInput {
    /// A CSV or Parquet file, a folder or a glob; or, instead, `query`.
    pub path: Option<String>,
    /// SQL (polars' dialect) over the job's `[tables.*]`, whose output columns the role keys name.
    pub query: Option<String>,
    /// The table in a SQL engine ("schema.name") that `segmenta sql features` reads; default:
    /// the input's role name.
    pub table: Option<String>,
    /// Customer ids that mean "no customer" in this table; default: see [`crate::load::missing`].
    pub missing_ids: Option<Vec<String>>,
    pub separator: Option<String>,
    /// Text encoding of CSV files without a byte-order mark ("windows-1251", "latin-1", …);
    /// default UTF-8.
    pub encoding: Option<String>,
    pub customer_id: String,
    pub timestamp: String,
    pub timestamp_format: Option<String>,
    pub amount: Option<String>,
    pub quantity: Option<String>,
    pub unit_price: Option<String>,
    pub order_id: Option<String>,
    pub category: Option<String>,
    pub channel: Option<String>,
    pub discount: Option<String>,
}

impl TransactionsInput {
    /// The file columns the job maps.
    /// The money columns (amount, quantity, unit price, discount) not also mapped as text.
    pub fn number_columns(&self) -> Vec<String> {
        let text = [
            Some(&self.customer_id),
            Some(&self.timestamp),
            self.order_id.as_ref(),
            self.category.as_ref(),
            self.channel.as_ref(),
        ];
        [
            &self.amount,
            &self.quantity,
            &self.unit_price,
            &self.discount,
        ]
        .into_iter()
        .flatten()
        .filter(|c| !text.contains(&Some(c)))
        .cloned()
        .collect()
    }

    pub fn mapped_columns(&self) -> Vec<String> {
        let optional = [
            &self.amount,
            &self.quantity,
            &self.unit_price,
            &self.order_id,
            &self.category,
            &self.channel,
            &self.discount,
        ];
        let mut columns: Vec<String> = [Some(&self.customer_id), Some(&self.timestamp)]
            .into_iter()
            .chain(optional.into_iter().map(Option::as_ref))
            .flatten()
            .cloned()
            .collect();
        columns.sort();
        columns.dedup();
        columns
    }
}

/// One column name or several whose values are summed (pre-aggregated CRM tables).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    One(String),
    Many(Vec<String>),
}

impl Columns {
    pub fn names(&self) -> Vec<String> {
        match self {
            Columns::One(name) => vec![name.clone()],
            Columns::Many(names) => names.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomersInput {
    /// A CSV or Parquet file, a folder or a glob; or, instead, `query`.
    pub path: Option<String>,
    /// SQL (polars' dialect) over the job's `[tables.*]`, whose output columns the role keys name.
    pub query: Option<String>,
    /// The table in a SQL engine ("schema.name") that `segmenta sql features` reads; default:
    /// the input's role name.
    pub table: Option<String>,
    /// Customer ids that mean "no customer" in this table; default: see [`crate::load::missing`].
    pub missing_ids: Option<Vec<String>>,
    pub separator: Option<String>,
    /// Text encoding of CSV files without a byte-order mark ("windows-1251", "latin-1", …);
    /// default UTF-8.
    pub encoding: Option<String>,
    pub customer_id: String,
    pub birth_year: Option<String>,
    pub birth_date: Option<String>,
    pub birth_date_format: Option<String>,
    pub age: Option<String>,
    pub gender: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub income: Option<String>,
    pub signup_date: Option<String>,
    pub signup_date_format: Option<String>,
    #[serde(default)]
    pub categorical: Vec<String>,
    #[serde(default)]
    pub numeric: Vec<String>,
    pub tags: Option<String>,
    pub tags_separator: Option<String>,
    pub recency_days: Option<String>,
    pub frequency: Option<Columns>,
    pub monetary: Option<Columns>,
    #[serde(default)]
    pub responses: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignsInput {
    /// A CSV or Parquet file, a folder or a glob; or, instead, `query`.
    pub path: Option<String>,
    /// SQL (polars' dialect) over the job's `[tables.*]`, whose output columns the role keys name.
    pub query: Option<String>,
    /// The table in a SQL engine ("schema.name") that `segmenta sql features` reads; default:
    /// the input's role name.
    pub table: Option<String>,
    /// Customer ids that mean "no customer" in this table; default: see [`crate::load::missing`].
    pub missing_ids: Option<Vec<String>>,
    pub separator: Option<String>,
    /// Text encoding of CSV files without a byte-order mark ("windows-1251", "latin-1", …);
    /// default UTF-8.
    pub encoding: Option<String>,
    pub customer_id: String,
    pub campaign_id: String,
    pub sent_at: Option<String>,
    pub sent_at_format: Option<String>,
    pub opened: Option<String>,
    pub clicked: Option<String>,
    pub responded: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsInput {
    /// A CSV or Parquet file, a folder or a glob; or, instead, `query`.
    pub path: Option<String>,
    /// SQL (polars' dialect) over the job's `[tables.*]`, whose output columns the role keys name.
    pub query: Option<String>,
    /// The table in a SQL engine ("schema.name") that `segmenta sql features` reads; default:
    /// the input's role name.
    pub table: Option<String>,
    /// Customer ids that mean "no customer" in this table; default: see [`crate::load::missing`].
    pub missing_ids: Option<Vec<String>>,
    pub separator: Option<String>,
    /// Text encoding of CSV files without a byte-order mark ("windows-1251", "latin-1", …);
    /// default UTF-8.
    pub encoding: Option<String>,
    pub customer_id: String,
    pub timestamp: String,
    pub timestamp_format: Option<String>,
    pub event_type: Option<String>,
}

impl Inputs {
    /// Every input reads files (`path`) or a query over the declared tables (`query`), never
    /// both; table names are plain SQL names, so a query can name them without quotes.
    pub fn validate(&self, tables: &BTreeMap<String, TableInput>) -> Result<(), JobError> {
        if self.transactions.is_none() && self.customers.is_none() {
            return Err(JobError::invalid(
                "[inputs]",
                "needs a transactions table or a customers table",
            ));
        }
        if let Some(t) = &self.transactions {
            let has_product = t.quantity.is_some() && t.unit_price.is_some();
            if t.amount.is_none() && !has_product {
                return Err(JobError::invalid(
                    "[inputs.transactions]",
                    "needs `amount`, or both `quantity` and `unit_price`",
                ));
            }
        }
        for name in tables.keys() {
            validate_table_name(name)?;
        }
        let described_only = self.features.is_some();
        for (input, source) in self.sources() {
            source.validate(input, tables.is_empty(), described_only)?;
        }
        Ok(())
    }
}

fn validate_table_name(name: &str) -> Result<(), JobError> {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        return Ok(());
    }
    Err(JobError::invalid(
        format!("[tables.{name}]:"),
        "a table name is letters, digits and _ (starting with a letter), so that a query can name it",
    ))
}

impl Source<'_> {
    fn validate(&self, input: &str, no_tables: bool, described_only: bool) -> Result<(), JobError> {
        let section = format!("[inputs.{input}]");
        match (self.path, self.query) {
            // With [inputs.features] the table is only described (its roles, its engine table).
            (None, None) if described_only => {}
            (None, None) => {
                return Err(JobError::invalid(
                    section,
                    "needs `path` (a CSV or Parquet file, a folder or a glob) or `query` (SQL over the job's [tables.<name>])",
                ))
            }
            (Some(_), Some(_)) => {
                return Err(JobError::invalid(section, "has both `path` and `query`; keep one"))
            }
            (None, Some(_)) if no_tables => {
                return Err(JobError::invalid(
                    section,
                    "query: the job declares no tables to query; add [tables.<name>] with the `path` of each",
                ))
            }
            _ => {}
        }
        let ids = self.missing_ids.unwrap_or_default();
        if let Some(blank) = ids
            .iter()
            .find(|id| id.trim() != id.as_str() || id.is_empty())
        {
            return Err(JobError::invalid(
                section,
                format!("missing_ids: \"{blank}\" has spaces around it or is empty; cells are compared trimmed, and blank cells are always missing"),
            ));
        }
        Ok(())
    }
}
