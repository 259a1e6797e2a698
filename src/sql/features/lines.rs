//! The transaction lines per customer: lines cleaned as the loader cleans them, orders, the
//! purchase totals, the days bought on and the spend per listed value.

use super::{Part, Writer};
use crate::features::catalogue::{self, CatalogueColumn, Definition};
use crate::job::TransactionsInput;

impl Writer<'_> {
    pub(super) fn transaction_parts(
        &self,
        tx: &TransactionsInput,
        columns: &[CatalogueColumn],
    ) -> Vec<Part> {
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
        let mut sums = vec!["SUM(amount) AS gross_lines".to_string()];
        for SpendColumn {
            role,
            value,
            listed,
        } in shares
        {
            let alias = share_alias(role, value.as_deref(), listed);
            let condition = self.value_is(role, value.as_deref(), listed);
            sums.push(format!(
                "SUM(CASE WHEN {condition} THEN amount ELSE 0 END) AS {alias}"
            ));
        }
        format!(
            "  SELECT customer_id,\n    {}\n  FROM window_lines\n  WHERE amount > 0\n  GROUP BY customer_id",
            sums.join(",\n    ")
        )
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
pub(super) fn share_alias(role: &str, value: Option<&str>, listed: &[String]) -> String {
    match value.and_then(|v| listed.iter().position(|l| l == v)) {
        Some(place) => format!("{role}_{place}"),
        None => format!("{role}_other"),
    }
}
