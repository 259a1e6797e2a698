//! `segmenta sql values`: the values a local run would give their own column, ranked by the
//! engine — the list `[features.values]` needs, since the features query cannot name its
//! columns after the data.
//!
//! Each ranking is the local one: category and channel values by the spend of their purchase
//! lines in the window (values never bought left out), customers-table categories by how many
//! customers have them (every customer counted, "unknown" for a blank or no row), interest tags
//! by how often they are named; ties by the value's bytes, as Rust orders strings.

use chrono::NaiveDate;

use super::{Part, Writer};
use crate::error::Result;
use crate::features::catalogue;
use crate::features::date_to_day;
use crate::job::Job;
use crate::sql::Dialect;

/// The query listing, per column prefix of `job`, the values that get their own column: rows of
/// (prefix, place, value), place 1 the largest.
pub fn values_query(job: &Job, as_of: NaiveDate, dialect: Dialect) -> Result<String> {
    let writer = Writer {
        job,
        dialect,
        as_of_day: date_to_day(as_of),
        as_of,
    };
    let rankings = writer.rankings();
    if rankings.is_empty() {
        return Err(crate::Error::usage(
            "the job maps no column whose values become columns (category, channel, gender, country, region, city, categorical, tags)",
        ));
    }
    let ctes: Vec<Part> = writer.ctes(&[]);
    let mut sql = writer.with(&ctes, "the values that get their own column");
    let ranked: Vec<String> = rankings.iter().map(|r| writer.ranked(r)).collect();
    sql.push_str("SELECT prefix, place, value FROM (\n");
    sql.push_str(&ranked.join("\n  UNION ALL\n"));
    sql.push_str("\n) AS ranked\nORDER BY prefix, place\n");
    Ok(sql)
}

/// One prefix's values with the weight they are ranked by (`value`, `weight` columns).
struct Ranking {
    prefix: String,
    from: String,
    top: usize,
}

impl Writer<'_> {
    fn rankings(&self) -> Vec<Ranking> {
        let inputs = &self.job.inputs;
        let top_n = self.job.features.top_n;
        let mut out = Vec::new();
        if let Some(tx) = &inputs.transactions {
            for (role, mapped) in [("category", &tx.category), ("channel", &tx.channel)] {
                if mapped.is_some() {
                    out.push(Ranking {
                        prefix: role.into(),
                        from: format!("SELECT {role} AS value, SUM(amount) AS weight FROM window_lines WHERE amount > 0 GROUP BY {role}"),
                        top: top_n,
                    });
                }
            }
        }
        let Some(customers) = &inputs.customers else {
            return out;
        };
        for (column, prefix) in catalogue::categorical_columns(customers) {
            let cell = self.categorical_cell(&column);
            out.push(Ranking {
                prefix,
                from: format!("SELECT {cell} AS value, COUNT(*) AS weight FROM customer_ids AS ids LEFT JOIN customer_rows ON customer_rows.customer_id = ids.customer_id GROUP BY {cell}"),
                top: top_n,
            });
        }
        if customers.tags.is_some() {
            out.push(Ranking {
                prefix: "tag".into(),
                from: format!(
                    "SELECT value, COUNT(*) AS weight FROM (SELECT TRIM(tag) AS value FROM {}) AS named WHERE value <> '' GROUP BY value",
                    self.tag_rows()
                ),
                top: top_n.max(12),
            });
        }
        out
    }

    /// Every tag a customer names, one row each (`tag`).
    fn tag_rows(&self) -> String {
        let split = "'[;,|]'";
        match self.dialect {
            Dialect::DuckDb => format!("customer_rows CROSS JOIN UNNEST(regexp_split_to_array(customer_rows.tags, {split})) AS split(tag)"),
            Dialect::Postgres => format!("customer_rows CROSS JOIN LATERAL regexp_split_to_table(customer_rows.tags, {split}) AS split(tag)"),
            Dialect::Spark => format!("customer_rows LATERAL VIEW explode(split(customer_rows.tags, {split})) split AS tag"),
        }
    }

    /// The top values of one ranking: by weight, ties by the value's bytes.
    fn ranked(&self, ranking: &Ranking) -> String {
        let order = self.dialect.byte_order("value");
        format!(
            "  SELECT {prefix} AS prefix, place, value FROM (\n    SELECT value, ROW_NUMBER() OVER (ORDER BY weight DESC, {order}) AS place\n    FROM ({from}) AS weighed\n  ) AS placed WHERE place <= {top}",
            prefix = self.dialect.text_literal(&ranking.prefix),
            from = ranking.from,
            top = ranking.top,
        )
    }
}
