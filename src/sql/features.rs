//! `segmenta sql features`: one query that computes a job's per-customer feature table inside a
//! SQL engine, column for column as `segmenta features` computes it locally.
//!
//! The query follows the local aggregation step by step: lines are cleaned as the loader cleans
//! them (ids trimmed, blank and listed missing ids dropped, money in whole millionths), lines of
//! one order (or, without order ids, of one day) become an order, orders with a positive net
//! amount are purchases, and every share is one double divided by another, so values agree to
//! the last bit where the local features are exact.

use chrono::{Datelike, NaiveDate};

use super::dialect::Dialect;
use crate::error::Result;
use crate::features::catalogue::{self, CatalogueColumn, Definition};
use crate::features::date_to_day;
use crate::job::{CampaignsInput, CustomersInput, EventsInput, Job, TransactionsInput};
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
        let joined: Vec<&str> = ["purchases", "purchase_days", "spend", "customer_rows"]
            .into_iter()
            .chain(["events_per_customer", "campaigns_per_customer"])
            .filter(|name| ctes.iter().any(|p| p.name == *name))
            .collect();
        let mut sql = format!(
            "-- segmenta {}: the feature table of job '{}' as of {} ({} dialect)\n",
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
        sql.push_str("\nSELECT\n  ids.customer_id AS ");
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

    fn transaction_parts(&self, tx: &TransactionsInput, columns: &[CatalogueColumn]) -> Vec<Part> {
        let d = self.dialect;
        let q = |c: &str| d.ident(c);
        let amount = match (&tx.amount, &tx.quantity, &tx.unit_price) {
            (Some(amount), _, _) => d.micros(&q(amount)),
            (None, Some(quantity), Some(price)) => d.micros(&format!(
                "{} * {}",
                d.double(&q(quantity)),
                d.double(&q(price))
            )),
            _ => "NULL".into(),
        };
        let mut cleaned = vec![
            format!(
                "{} AS customer_id",
                self.customer_id(&tx.customer_id, tx.missing_ids.as_deref(), true)
            ),
            format!("{} AS ts", d.timestamp(&q(&tx.timestamp))),
            format!("{amount} AS amount"),
        ];
        if let Some(order_id) = &tx.order_id {
            cleaned.push(format!("{} AS order_id", d.trimmed_text(&q(order_id))));
        }
        for (role, mapped) in [("category", &tx.category), ("channel", &tx.channel)] {
            if let Some(column) = mapped {
                cleaned.push(format!(
                    "COALESCE({}, 'unknown') AS {role}",
                    d.trimmed_text(&q(column))
                ));
            }
        }
        if let Some(discount) = &tx.discount {
            cleaned.push(format!(
                "ABS(COALESCE({}, 0)) AS discount",
                d.micros(&q(discount))
            ));
        }
        let lines = format!(
            "  SELECT {}\n  FROM {}",
            cleaned.join(",\n    "),
            self.table(&tx.table, "transactions")
        );
        let usable = format!(
            "  SELECT *, {} AS day FROM tx_lines\n  WHERE customer_id IS NOT NULL AND ts IS NOT NULL AND amount IS NOT NULL",
            d.epoch_day("ts")
        );
        let window = format!("  SELECT * FROM tx WHERE day < {}", self.as_of_day);
        let mut parts = vec![
            Part {
                name: "tx_lines",
                sql: lines,
            },
            Part {
                name: "tx",
                sql: usable,
            },
            Part {
                name: "window_lines",
                sql: window,
            },
            Part {
                name: "orders",
                sql: self.orders(tx),
            },
            Part {
                name: "purchases",
                sql: self.purchases(tx),
            },
            Part {
                name: "purchase_days",
                sql: PURCHASE_DAYS.to_string(),
            },
        ];
        let shares = spend_share_columns(columns);
        if !shares.is_empty() {
            parts.push(Part {
                name: "spend",
                sql: self.spend(&shares),
            });
        }
        parts
    }

    /// Lines of one order id (or, for lines without one, of one day) as one order.
    fn orders(&self, tx: &TransactionsInput) -> String {
        let d = self.dialect;
        let key = if tx.order_id.is_some() {
            "order_id, CASE WHEN order_id IS NULL THEN day END"
        } else {
            "day"
        };
        let discount = if tx.discount.is_some() {
            ",\n    SUM(discount) AS discount"
        } else {
            ",\n    0 AS discount"
        };
        let orders = format!(
            "    SELECT customer_id,\n    SUM(amount) AS net,\n    SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END) AS gross,\n    SUM(CASE WHEN amount < 0 THEN -amount ELSE 0 END) AS refunded,\n    MIN(ts) AS first_ts{discount}\n    FROM window_lines\n    GROUP BY customer_id, {key}"
        );
        format!(
            "  SELECT grouped.*,\n    {} AS day,\n    {} AS hour,\n    {} AS month\n  FROM (\n{orders}\n  ) AS grouped",
            d.epoch_day("first_ts"),
            d.field("HOUR", "first_ts"),
            d.field("MONTH", "first_ts"),
        )
    }

    /// The orders added up per customer, as the local rollup adds them.
    fn purchases(&self, tx: &TransactionsInput) -> String {
        let d = self.dialect;
        let peak: Vec<String> = self
            .job
            .features
            .peak_months
            .iter()
            .map(u32::to_string)
            .collect();
        let peak = if peak.is_empty() {
            "FALSE".to_string()
        } else {
            format!("month IN ({})", peak.join(", "))
        };
        let count =
            |condition: &str| format!("SUM(CASE WHEN net > 0 AND {condition} THEN 1 ELSE 0 END)");
        let depth = format!("{} / {}", d.double("discount"), d.double("net + discount"));
        let depth_units = format!("({depth} * 1000000000000.0)");
        let mut sums = vec![
            "SUM(net) AS net".to_string(),
            "SUM(gross) AS gross".into(),
            "SUM(refunded) AS refunded".into(),
            "SUM(CASE WHEN net > 0 THEN 1 ELSE 0 END) AS purchases".into(),
            "SUM(CASE WHEN net > 0 THEN net ELSE 0 END) AS purchase_spend".into(),
            format!("{} AS weekend", count("(((day + 3) % 7) + 7) % 7 >= 5")),
            format!("SUM(CASE WHEN net > 0 AND {peak} THEN net ELSE 0 END) AS peak_spend"),
            "MIN(CASE WHEN net > 0 THEN day END) AS first_day".into(),
            "MAX(CASE WHEN net > 0 THEN day END) AS last_day".into(),
        ];
        if catalogue::timestamps_have_time(tx) {
            sums.push(format!("{} AS morning", count("hour >= 5 AND hour < 12")));
            sums.push(format!(
                "{} AS afternoon",
                count("hour >= 12 AND hour < 18")
            ));
            sums.push(format!("{} AS evening", count("(hour < 5 OR hour >= 18)")));
        }
        if tx.discount.is_some() {
            sums.push(format!("{} AS discounted", count("discount > 0")));
            // Each depth in 10⁻¹² steps, summed as integers like the local rollup.
            sums.push(format!(
                "SUM(CASE WHEN net > 0 AND discount > 0 THEN CAST(SIGN({depth_units}) * FLOOR(ABS({depth_units}) + 0.5) AS BIGINT) ELSE 0 END) AS depth_sum"
            ));
        }
        format!(
            "  SELECT customer_id,\n    {}\n  FROM orders\n  GROUP BY customer_id",
            sums.join(",\n    ")
        )
    }

    /// Each customer's positive spend per listed value of category or channel.
    fn spend(&self, shares: &[SpendColumn]) -> String {
        let d = self.dialect;
        let mut sums = vec!["SUM(amount) AS gross_lines".to_string()];
        for SpendColumn {
            role,
            value,
            listed,
        } in shares
        {
            let alias = share_alias(role, value.as_deref(), listed);
            let condition = match value {
                Some(value) => format!("{role} = {}", d.text_literal(value)),
                None if listed.is_empty() => "TRUE".into(),
                None => {
                    let list: Vec<String> = listed.iter().map(|v| d.text_literal(v)).collect();
                    format!("{role} NOT IN ({})", list.join(", "))
                }
            };
            sums.push(format!(
                "SUM(CASE WHEN {condition} THEN amount ELSE 0 END) AS {alias}"
            ));
        }
        format!(
            "  SELECT customer_id,\n    {}\n  FROM window_lines\n  WHERE amount > 0\n  GROUP BY customer_id",
            sums.join(",\n    ")
        )
    }

    fn customer_rows(&self, customers: &CustomersInput) -> Part {
        let d = self.dialect;
        let q = |c: &str| d.ident(c);
        let mut cleaned = vec![format!(
            "{} AS customer_id",
            self.customer_id(
                &customers.customer_id,
                customers.missing_ids.as_deref(),
                false
            )
        )];
        let mut number = |alias: &str, column: &str| {
            cleaned.push(format!("{} AS {}", d.double(&q(column)), d.ident(alias)));
        };
        if let Some(c) = &customers.birth_year {
            number("birth_year", c);
        }
        if let Some(c) = &customers.age {
            number("age", c);
        }
        if let Some(c) = &customers.income {
            number("income", c);
        }
        if let Some(c) = &customers.recency_days {
            number("recency_days", c);
        }
        for name in &customers.numeric {
            number(&format!("numeric_{name}"), name);
        }
        if let Some(c) = &customers.birth_date {
            cleaned.push(format!(
                "{} AS birth_year",
                d.double(&d.field("YEAR", &format!("CAST({} AS DATE)", q(c))))
            ));
        }
        if let Some(c) = &customers.signup_date {
            cleaned.push(format!(
                "{} AS signup_day",
                d.epoch_day(&d.timestamp(&q(c)))
            ));
        }
        for (role, columns) in [
            ("frequency", &customers.frequency),
            ("monetary", &customers.monetary),
        ] {
            if let Some(columns) = columns {
                cleaned.push(format!(
                    "{} AS {role}",
                    self.combined(&columns.names(), false)
                ));
            }
        }
        if !customers.responses.is_empty() {
            cleaned.push(format!(
                "{} AS response_rate",
                self.combined(&customers.responses, true)
            ));
        }
        for (role, column) in [
            ("gender", &customers.gender),
            ("country", &customers.country),
            ("region", &customers.region),
            ("city", &customers.city),
            ("tags", &customers.tags),
        ] {
            if let Some(column) = column {
                cleaned.push(format!("{} AS {}", self.lower_text(column), d.ident(role)));
            }
        }
        for name in &customers.categorical {
            cleaned.push(format!(
                "{} AS {}",
                self.lower_text(name),
                d.ident(&format!("categorical_{name}"))
            ));
        }
        // A customers table has one row per customer; of duplicates the local run keeps the
        // first in file order, which a SQL table does not have: here the first by its columns.
        let sql = format!(
            "  SELECT * FROM (\n    SELECT cleaned.*, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY customer_id) AS copy\n    FROM (SELECT {}\n      FROM {}) AS cleaned\n    WHERE customer_id IS NOT NULL\n  ) AS numbered WHERE copy = 1",
            cleaned.join(",\n      "),
            self.table(&customers.table, "customers")
        );
        Part {
            name: "customer_rows",
            sql,
        }
    }

    fn lower_text(&self, column: &str) -> String {
        format!(
            "LOWER({})",
            self.dialect.trimmed_text(&self.dialect.ident(column))
        )
    }

    /// Several columns summed (or averaged) per row, blank only where all are blank.
    fn combined(&self, columns: &[String], mean: bool) -> String {
        let d = self.dialect;
        let values: Vec<String> = columns.iter().map(|c| d.double(&d.ident(c))).collect();
        let sum = values
            .iter()
            .map(|v| format!("COALESCE({v}, 0)"))
            .collect::<Vec<_>>()
            .join(" + ");
        let present = values
            .iter()
            .map(|v| format!("CASE WHEN {v} IS NULL THEN 0 ELSE 1 END"))
            .collect::<Vec<_>>()
            .join(" + ");
        if mean {
            format!("({sum}) / NULLIF({}, 0)", d.double(&format!("({present})")))
        } else {
            format!("CASE WHEN ({present}) = 0 THEN NULL ELSE {sum} END")
        }
    }

    fn event_parts(&self, events: &EventsInput) -> Vec<Part> {
        let d = self.dialect;
        let kind = match &events.event_type {
            Some(column) => format!("COALESCE({}, 'visit')", self.lower_text(column)),
            None => "'visit'".into(),
        };
        let rows = format!(
            "  SELECT * FROM (\n    SELECT {} AS customer_id,\n      {} AS day,\n      {kind} AS event_type\n    FROM {}\n  ) AS cleaned\n  WHERE customer_id IS NOT NULL AND day IS NOT NULL",
            self.customer_id(&events.customer_id, events.missing_ids.as_deref(), true),
            d.epoch_day(&d.timestamp(&d.ident(&events.timestamp))),
            self.table(&events.table, "events"),
        );
        let a = self.as_of_day;
        // Without explicit visit events every event counts as a visit.
        let visit = "(event_type = 'visit' OR NOT EXISTS (SELECT 1 FROM event_rows AS any_rows WHERE any_rows.event_type = 'visit'))";
        let per_customer = format!(
            "  SELECT customer_id,\n    SUM(CASE WHEN {visit} AND day >= {} THEN 1 ELSE 0 END) AS visits_30d,\n    SUM(CASE WHEN {visit} AND day >= {} THEN 1 ELSE 0 END) AS visits_90d,\n    SUM(CASE WHEN event_type = 'add_to_cart' AND day >= {} THEN 1 ELSE 0 END) AS add_to_cart_90d,\n    {a} - MAX(day) AS days_since_event,\n    {a} - MAX(CASE WHEN event_type = 'add_to_cart' THEN day END) AS days_since_add_to_cart\n  FROM event_rows\n  WHERE day < {a}\n  GROUP BY customer_id",
            a - 30,
            a - 90,
            a - 90
        );
        vec![
            Part {
                name: "event_rows",
                sql: rows,
            },
            Part {
                name: "events_per_customer",
                sql: per_customer,
            },
        ]
    }

    fn campaign_parts(&self, campaigns: &CampaignsInput) -> Vec<Part> {
        let d = self.dialect;
        let mut cleaned = vec![
            format!(
                "{} AS customer_id",
                self.customer_id(
                    &campaigns.customer_id,
                    campaigns.missing_ids.as_deref(),
                    true
                )
            ),
            format!(
                "{} AS campaign_id",
                d.trimmed_text(&d.ident(&campaigns.campaign_id))
            ),
        ];
        let sent = match &campaigns.sent_at {
            Some(column) => d.epoch_day(&d.timestamp(&d.ident(column))),
            None => "NULL".into(),
        };
        cleaned.push(format!("{sent} AS sent_day"));
        let mut rates = Vec::new();
        for (role, mapped) in [
            ("opened", &campaigns.opened),
            ("clicked", &campaigns.clicked),
            ("responded", &campaigns.responded),
        ] {
            if let Some(column) = mapped {
                let flag = format!("CAST(CAST({} AS BOOLEAN) AS INTEGER)", d.ident(column));
                cleaned.push(format!("{} AS {role}", d.double(&flag)));
                rates.push(format!("AVG({role}) AS {role}"));
            }
        }
        let rows = format!(
            "  SELECT * FROM (\n    SELECT {}\n    FROM {}\n  ) AS cleaned\n  WHERE customer_id IS NOT NULL",
            cleaned.join(",\n      "),
            self.table(&campaigns.table, "campaigns")
        );
        // A blank campaign id is one campaign of its own, as polars' n_unique counts it.
        let mut aggregates = vec![
            "COUNT(DISTINCT campaign_id) + MAX(CASE WHEN campaign_id IS NULL THEN 1 ELSE 0 END) AS received".to_string(),
        ];
        aggregates.extend(rates);
        let per_customer = format!(
            "  SELECT customer_id,\n    {}\n  FROM campaign_rows\n  WHERE sent_day < {} OR sent_day IS NULL\n  GROUP BY customer_id",
            aggregates.join(",\n    "),
            self.as_of_day
        );
        vec![
            Part {
                name: "campaign_rows",
                sql: rows,
            },
            Part {
                name: "campaigns_per_customer",
                sql: per_customer,
            },
        ]
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
        let d = self.dialect;
        let role = ["gender", "country", "region", "city"];
        let alias = if role.contains(&column) {
            column.to_string()
        } else {
            format!("categorical_{column}")
        };
        let cell = format!("COALESCE(customer_rows.{}, 'unknown')", d.ident(&alias));
        let condition = match value {
            Some(value) => format!("{cell} = {}", d.text_literal(value)),
            None if listed.is_empty() => "TRUE".into(),
            None => {
                let list: Vec<String> = listed.iter().map(|v| d.text_literal(v)).collect();
                format!("{cell} NOT IN ({})", list.join(", "))
            }
        };
        format!("CASE WHEN {condition} THEN 1.0 ELSE 0.0 END")
    }
}

/// Days a customer bought on: how many, and the gap between the last two.
const PURCHASE_DAYS: &str = "  SELECT customer_id,
    MAX(days) AS distinct_days,
    MAX(CASE WHEN back = 1 THEN day END) - MAX(CASE WHEN back = 2 THEN day END) AS previous_gap
  FROM (
    SELECT customer_id, day,
      ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY day DESC) AS back,
      COUNT(*) OVER (PARTITION BY customer_id) AS days
    FROM (SELECT DISTINCT customer_id, day FROM orders WHERE net > 0) AS bought
  ) AS ranked
  GROUP BY customer_id";

/// A spend-share column of the catalogue: its role, its value (None: "other") and the values
/// the job lists for the role.
struct SpendColumn<'a> {
    role: &'static str,
    value: Option<&'a str>,
    listed: &'a [String],
}

fn spend_share_columns(columns: &[CatalogueColumn]) -> Vec<SpendColumn<'_>> {
    columns
        .iter()
        .filter_map(|c| match &c.definition {
            Definition::SpendShare {
                role,
                value,
                listed,
            } => Some(SpendColumn {
                role,
                value: value.as_deref(),
                listed,
            }),
            _ => None,
        })
        .collect()
}

/// A spend sum's alias: the role and the value's place in the job's list.
fn share_alias(role: &str, value: Option<&str>, listed: &[String]) -> String {
    match value.and_then(|v| listed.iter().position(|l| l == v)) {
        Some(place) => format!("{role}_{place}"),
        None => format!("{role}_other"),
    }
}
