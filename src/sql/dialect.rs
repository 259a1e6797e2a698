//! The SQL engines segmenta writes queries for, and what each spells differently.
//!
//! Every expression here gives the same value in all three engines: divisions are of doubles,
//! days are counted from 1970-01-01 as the local features count them, and rounding to the
//! millionth is spelt out (PostgreSQL's `round(double)` rounds half to even, the others away
//! from zero).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    DuckDb,
    Postgres,
    Spark,
}

impl Dialect {
    pub const ALL: [Dialect; 3] = [Dialect::DuckDb, Dialect::Postgres, Dialect::Spark];

    pub fn name(self) -> &'static str {
        match self {
            Dialect::DuckDb => "duckdb",
            Dialect::Postgres => "postgres",
            Dialect::Spark => "spark",
        }
    }

    /// A column or alias name, quoted so that any name the features use is valid.
    pub fn ident(self, name: &str) -> String {
        match self {
            Dialect::Spark => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// A table reference "schema.name" with each part quoted.
    pub fn table(self, reference: &str) -> String {
        reference
            .split('.')
            .map(|part| self.ident(part))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// A string literal.
    pub fn text_literal(self, value: &str) -> String {
        match self {
            // Spark reads backslashes in literals as escapes.
            Dialect::Spark => format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'")),
            _ => format!("'{}'", value.replace('\'', "''")),
        }
    }

    pub fn text_type(self) -> &'static str {
        match self {
            Dialect::DuckDb => "VARCHAR",
            Dialect::Postgres => "TEXT",
            Dialect::Spark => "STRING",
        }
    }

    pub fn double_type(self) -> &'static str {
        match self {
            Dialect::Postgres => "DOUBLE PRECISION",
            _ => "DOUBLE",
        }
    }

    pub fn text(self, expr: &str) -> String {
        format!("CAST({expr} AS {})", self.text_type())
    }

    pub fn double(self, expr: &str) -> String {
        format!("CAST({expr} AS {})", self.double_type())
    }

    /// A cell as trimmed text, NULL when blank.
    pub fn trimmed_text(self, expr: &str) -> String {
        format!("NULLIF(TRIM({}), '')", self.text(expr))
    }

    /// `a / b` as doubles (NULL when `b` is 0), the same IEEE division the local features make.
    pub fn ratio(self, part: &str, whole: &str) -> String {
        format!("{} / NULLIF({}, 0)", self.double(part), self.double(whole))
    }

    /// A number in millionths, rounded half away from zero as Rust's `f64::round`.
    pub fn micros(self, expr: &str) -> String {
        let scaled = format!("({} * 1000000.0)", self.double(expr));
        format!("CAST(SIGN({scaled}) * FLOOR(ABS({scaled}) + 0.5) AS BIGINT)")
    }

    pub fn timestamp(self, expr: &str) -> String {
        format!("CAST({expr} AS TIMESTAMP)")
    }

    /// Days since 1970-01-01 of a timestamp's date.
    pub fn epoch_day(self, ts: &str) -> String {
        match self {
            Dialect::DuckDb => format!("DATEDIFF('day', DATE '1970-01-01', CAST({ts} AS DATE))"),
            Dialect::Postgres => format!("(CAST({ts} AS DATE) - DATE '1970-01-01')"),
            Dialect::Spark => format!("DATEDIFF(CAST({ts} AS DATE), DATE '1970-01-01')"),
        }
    }

    /// A field of a timestamp (HOUR, MONTH, YEAR) as an integer.
    pub fn field(self, field: &str, ts: &str) -> String {
        format!("CAST(EXTRACT({field} FROM {ts}) AS INTEGER)")
    }

    /// Every match of `pattern` in `expr` replaced.
    pub fn replace_all(self, expr: &str, pattern: &str, replacement: &str) -> String {
        let (p, r) = (self.text_literal(pattern), self.text_literal(replacement));
        match self {
            Dialect::Spark => format!("REGEXP_REPLACE({expr}, {p}, {r})"),
            _ => format!("REGEXP_REPLACE({expr}, {p}, {r}, 'g')"),
        }
    }

    /// A text column ordered by its bytes, as Rust orders strings (PostgreSQL's default
    /// collation follows the locale).
    pub fn byte_order(self, expr: &str) -> String {
        match self {
            Dialect::Postgres => format!("{expr} COLLATE \"C\""),
            _ => expr.to_string(),
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dialect {
    type Err = Error;

    fn from_str(name: &str) -> Result<Dialect> {
        Dialect::ALL
            .into_iter()
            .find(|d| d.name() == name.to_ascii_lowercase())
            .ok_or_else(|| {
                Error::usage(format!(
                    "unknown SQL dialect '{name}': use duckdb, postgres or spark"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialects_by_name() {
        assert_eq!("DuckDB".parse::<Dialect>().ok(), Some(Dialect::DuckDb));
        assert_eq!("postgres".parse::<Dialect>().ok(), Some(Dialect::Postgres));
        let error = "mysql".parse::<Dialect>().err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("mysql") && e.contains("duckdb")));
    }

    #[test]
    fn names_and_literals_are_quoted_per_engine() {
        assert_eq!(Dialect::Spark.table("sales.tx"), "`sales`.`tx`");
        assert_eq!(Dialect::Postgres.ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(Dialect::DuckDb.text_literal("Can't"), "'Can''t'");
        assert_eq!(Dialect::Spark.text_literal("Can't"), "'Can\\'t'");
    }
}
