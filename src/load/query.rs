//! Inputs given as SQL over raw tables: an order system exported as orders, items and customers
//! has no single table with customer, time and amount, so the job declares the raw tables
//! (`[tables.<name>]`) and gives an input as a query over them (polars SQL). The query's result is
//! then read like one file of the input: the role keys name its output columns.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ops::ControlFlow;
use std::path::PathBuf;

use polars::prelude::*;
use polars::sql::SQLContext;
use sqlparser::ast::{ObjectName, Query, Visit, Visitor};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use super::read::{is_parquet, read_table, RawFile};
use super::{concat_frames, csv_options, record_files, DataQuality};
use crate::error::{Error, PolarsContext, Result};
use crate::job::Job;

/// The raw tables of a job, each read once however many queries use it.
#[derive(Default)]
pub struct Tables {
    read: BTreeMap<String, DataFrame>,
}

impl Tables {
    /// Runs `[inputs.<input>] query` and returns its result as the input's one "file".
    pub fn query(
        &mut self,
        job: &Job,
        input: &str,
        query: &str,
        quality: &mut DataQuality,
    ) -> Result<RawFile> {
        let origin = format!("[inputs.{input}] query");
        let used = referenced_tables(query, &origin)?;
        let declared: Vec<&str> = job.tables.keys().map(String::as_str).collect();
        if let Some(unknown) = used.iter().find(|name| !declared.contains(&name.as_str())) {
            return Err(Error::data(format!(
                "{origin}: unknown table `{unknown}`{}; the job declares {}",
                crate::job::suggest(unknown, &declared),
                declared
                    .iter()
                    .map(|t| format!("[tables.{t}]"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let mut context = SQLContext::new();
        for name in &used {
            let frame = self.table(job, name, quality)?;
            context.register(name, frame.lazy());
        }
        let frame = context
            .execute(query)
            .and_then(LazyFrame::collect)
            .map_err(|e| Error::data(format!("{origin}: {}", sql_message(&e))))?;
        log::debug!("    {origin}: {} rows from {}", frame.height(), used.len());
        Ok(RawFile {
            path: PathBuf::from(origin),
            frame,
            preamble_lines: 0,
            first_row: 0,
        })
    }

    /// A declared table, read and typed the first time a query names it.
    fn table(&mut self, job: &Job, name: &str, quality: &mut DataQuality) -> Result<DataFrame> {
        if let Some(frame) = self.read.get(name) {
            return Ok(frame.clone());
        }
        let spec = &job.tables[name];
        let files = read_table(&job.resolve(&spec.path), csv_options(&spec.source()))?;
        let key = format!("tables.{name}");
        record_files(&files, &key, quality);
        let csv = !files.iter().any(|f| is_parquet(&f.path));
        let mut frame = concat_frames(files.into_iter().map(|f| f.frame).collect(), &key)?;
        if let Some(missing) = &spec.missing_ids {
            frame = without_values(frame, missing, &key)?;
        }
        if csv {
            frame = with_number_columns(frame, &key)?;
        }
        self.read.insert(name.to_string(), frame.clone());
        Ok(frame)
    }
}

/// The tables a query reads (its CTEs left out); a syntax error is an error naming the input.
fn referenced_tables(query: &str, origin: &str) -> Result<BTreeSet<String>> {
    let statements = Parser::parse_sql(&GenericDialect {}, query)
        .map_err(|e| Error::data(format!("{origin}: SQL syntax error: {e}")))?;
    if statements.len() != 1 {
        return Err(Error::data(format!(
            "{origin}: expected one SELECT statement, found {}",
            statements.len()
        )));
    }
    let mut names = Relations::default();
    let _ = statements.visit(&mut names);
    Ok(names
        .relations
        .into_iter()
        .filter(|r| !names.ctes.contains(r))
        .collect())
}

#[derive(Default)]
struct Relations {
    relations: BTreeSet<String>,
    ctes: HashSet<String>,
}

impl Visitor for Relations {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.ctes.insert(cte.alias.name.value.clone());
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        if let Some(ident) = relation.0.last().and_then(|part| part.as_ident()) {
            self.relations.insert(ident.value.clone());
        }
        ControlFlow::Continue(())
    }
}

/// polars' SQL errors carry an "SQL interface error" prefix that says nothing to an analyst.
fn sql_message(error: &PolarsError) -> String {
    let text = error.to_string();
    let text = text
        .split_once("SQLInterface:")
        .or_else(|| text.split_once("SQL interface error:"))
        .map_or(text.as_str(), |(_, rest)| rest)
        .trim()
        .to_string();
    text.replace("\n\nResolved plan until failure:", " — plan:")
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Every text column through `change`; the other columns as they are.
fn each_text_column(
    frame: DataFrame,
    context: String,
    change: impl Fn(&Column, &StringChunked) -> Result<Column>,
) -> Result<DataFrame> {
    let columns = frame
        .columns()
        .iter()
        .map(|column| match column.str() {
            Ok(text) => change(column, text),
            Err(_) => Ok(column.clone()),
        })
        .collect::<Result<Vec<_>>>()?;
    DataFrame::new_infer_height(columns).context(context)
}

/// The table's `missing_ids` read as NULL in every text column, as CSV tools read `na_values`.
fn without_values(frame: DataFrame, missing: &[String], table: &str) -> Result<DataFrame> {
    let missing: HashSet<&str> = missing.iter().map(String::as_str).collect();
    each_text_column(frame, format!("{table}: missing values"), |column, text| {
        if !text.iter().flatten().any(|v| missing.contains(v.trim())) {
            return Ok(column.clone());
        }
        Ok(text
            .iter()
            .map(|v| v.filter(|v| !missing.contains(v.trim())))
            .collect::<StringChunked>()
            .with_name(column.name().clone())
            .into_column())
    })
}

/// CSV columns whose every value is a plain number become numbers, so that a query can add
/// prices and sum them; ids with leading zeros ("00123") and everything else stay text, and
/// dates stay text for the role's own format detection.
fn with_number_columns(frame: DataFrame, table: &str) -> Result<DataFrame> {
    each_text_column(frame, format!("{table}: typed columns"), |column, text| {
        let dtype = match number_type(text) {
            Some(dtype) => dtype,
            None => return Ok(column.clone()),
        };
        column
            .cast(&dtype)
            .context(format!("{table}: column '{}' as a number", column.name()))
    })
}

/// Int64 when every value is a plain integer, Float64 when every value is a plain number, else
/// None (text, or no value at all).
fn number_type(text: &StringChunked) -> Option<DataType> {
    let mut values = text.iter().flatten().peekable();
    values.peek()?;
    let mut integers = true;
    for value in values {
        match plain_number(value)? {
            PlainNumber::Integer => {}
            PlainNumber::Decimal => integers = false,
        }
    }
    Some(if integers {
        DataType::Int64
    } else {
        DataType::Float64
    })
}

#[derive(Debug, PartialEq)]
enum PlainNumber {
    Integer,
    Decimal,
}

/// "-12", "0", "3.50": digits with an optional sign and decimal point, no leading zero before
/// another digit (so "007" is an id), nothing else. Integers beyond 18 digits stay text.
fn plain_number(text: &str) -> Option<PlainNumber> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || (whole.len() > 1 && whole.starts_with('0')) {
        return None;
    }
    match fraction {
        None if whole.len() <= 18 => Some(PlainNumber::Integer),
        None => None,
        Some(f) if all_digits(f) => Some(PlainNumber::Decimal),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_numbers_only_become_numbers() {
        assert_eq!(plain_number("12"), Some(PlainNumber::Integer));
        assert_eq!(plain_number("-0"), Some(PlainNumber::Integer));
        assert_eq!(plain_number("3.50"), Some(PlainNumber::Decimal));
        assert_eq!(plain_number("0.5"), Some(PlainNumber::Decimal));
        for text in [
            "007", "1,5", "1e5", "12a", "", "-", ".5", "5.", "+3", " 4", "NaN",
        ] {
            assert_eq!(plain_number(text), None, "{text}");
        }
    }

    #[test]
    fn tables_are_found_outside_ctes_and_syntax_errors_name_the_input() {
        let query = "WITH paid AS (SELECT * FROM items WHERE price > 0) \
                     SELECT * FROM paid JOIN orders USING (order_id) \
                     WHERE customer_id IN (SELECT customer_id FROM customers)";
        let tables = referenced_tables(query, "[inputs.transactions] query").unwrap();
        assert_eq!(
            tables.into_iter().collect::<Vec<_>>(),
            ["customers", "items", "orders"]
        );
        let err = referenced_tables("SELEC * FROM items", "[inputs.transactions] query")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("[inputs.transactions] query: SQL syntax error"),
            "{err}"
        );
    }
}
