//! The per-customer tables beside the log: the customers table (demographics, pre-aggregated
//! purchase columns), site events and mailings.

use super::{Part, Writer};
use crate::job::{CampaignsInput, CustomersInput, EventsInput};

impl Writer<'_> {
    pub(super) fn customer_rows(&self, customers: &CustomersInput) -> Part {
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

    pub(super) fn event_parts(&self, events: &EventsInput) -> Vec<Part> {
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

    pub(super) fn campaign_parts(&self, campaigns: &CampaignsInput) -> Vec<Part> {
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
}
