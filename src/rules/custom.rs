//! Custom rule segments: ordered named conditions over feature columns (first match wins), parsed
//! as SQL expressions by polars.

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::job::CustomRule;

/// The segment of every row of `frame`; `default` for rows no rule matches.
pub fn evaluate(frame: &DataFrame, rules: &[CustomRule], default: &str) -> Result<Vec<String>> {
    let mut chain: Option<Expr> = None;
    for rule in rules.iter().rev() {
        let condition = polars::sql::sql_expr(&rule.when).map_err(|e| {
            Error::Data(format!(
                "[[rules.custom]] '{}': cannot read `{}`: {e}",
                rule.name, rule.when
            ))
        })?;
        check_columns(frame, rule, &condition)?;
        let otherwise = chain.unwrap_or_else(|| lit(default));
        chain = Some(
            when(condition.fill_null(lit(false)))
                .then(lit(rule.name.as_str()))
                .otherwise(otherwise),
        );
    }
    let expr = chain.unwrap_or_else(|| lit(default)).alias("__segment");
    let out = frame
        .clone()
        .lazy()
        .select([expr])
        .collect()
        .map_err(|e| Error::Data(format!("[[rules.custom]]: {e}")))?;
    let segment = out
        .column("__segment")
        .and_then(|c| c.str().cloned())
        .map_err(|e| Error::Data(format!("[[rules.custom]]: {e}")))?;
    let n = frame.height();
    let values: Vec<String> = segment
        .iter()
        .map(|s| s.unwrap_or(default).to_string())
        .collect();
    // A condition that is a constant yields one row; spread it over every customer.
    Ok(if values.len() == 1 && n != 1 {
        vec![values[0].clone(); n]
    } else {
        values
    })
}

fn check_columns(frame: &DataFrame, rule: &CustomRule, condition: &Expr) -> Result<()> {
    let names: Vec<&str> = frame
        .get_column_names()
        .into_iter()
        .map(|s| s.as_str())
        .collect();
    for leaf in condition.clone().meta().root_names() {
        if !names.contains(&leaf.as_str()) {
            return Err(Error::Data(format!(
                "[[rules.custom]] '{}': unknown column `{leaf}` in `{}`{}",
                rule.name,
                rule.when,
                crate::job::suggest(&leaf, &names)
            )));
        }
    }
    Ok(())
}
