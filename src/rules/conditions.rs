//! Ordered named conditions — first match wins, a default catches the rest — written as SQL
//! boolean expressions (comparisons, AND, OR, NOT, IN, BETWEEN, IS NULL, parentheses) over the
//! rule table's columns. sqlparser finds syntax errors with their position; polars turns the
//! expression into a column expression and evaluates all conditions in one pass.

use polars::prelude::*;
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::error::{Error, Result};

/// One segment's condition and where it was written (for messages).
pub struct Condition<'a> {
    pub segment: &'a str,
    pub when: &'a str,
    /// e.g. "[[rules.custom]] rule 2 'VIP'" or "rule preset value-tiers, segment 'VIP'".
    pub origin: String,
}

/// The segment of every row of `frame`; `default` for rows no condition matches. A condition
/// that is unknown (NULL, e.g. a missing value compared) does not match.
pub fn first_match(
    frame: &DataFrame,
    conditions: &[Condition],
    default: &str,
) -> Result<Vec<String>> {
    let columns: Vec<&str> = frame
        .get_column_names()
        .into_iter()
        .map(|s| s.as_str())
        .collect();
    let mut chain = lit(default);
    for condition in conditions.iter().rev() {
        let expr = parse(condition, &columns)?;
        check_yes_no(frame, condition, &expr)?;
        chain = when(expr.fill_null(lit(false)))
            .then(lit(condition.segment))
            .otherwise(chain);
    }
    let out = guarded(conditions, || {
        frame
            .clone()
            .lazy()
            .select([chain.alias("__segment")])
            .collect()
    })?;
    let segment = out
        .column("__segment")
        .and_then(|c| c.str().cloned())
        .map_err(|e| evaluation_error(conditions, e))?;
    let values: Vec<String> = segment
        .iter()
        .map(|s| s.unwrap_or(default).to_string())
        .collect();
    // Constant conditions yield one row; spread it over every customer.
    Ok(if values.len() == 1 && frame.height() != 1 {
        vec![values[0].clone(); frame.height()]
    } else {
        values
    })
}

/// The column names a condition reads.
pub fn columns_used(when: &str) -> Vec<String> {
    polars::sql::sql_expr(when)
        .map(|e| {
            e.meta()
                .root_names()
                .into_iter()
                .map(|n| n.to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Parses one condition, with errors that quote it and point at the offending place.
pub fn parse(condition: &Condition, columns: &[&str]) -> Result<Expr> {
    check_syntax(condition)?;
    let expr = polars::sql::sql_expr(condition.when).map_err(|e| {
        Error::data(format!(
            "{}: cannot use `{}`: {}",
            condition.origin,
            condition.when,
            strip_polars_prefix(&e.to_string())
        ))
    })?;
    for name in expr.clone().meta().root_names() {
        if !columns.contains(&name.as_str()) {
            let at = word_position(condition.when, &name);
            let suggestion = crate::job::suggest(&name, columns);
            let hint = if crate::job::LIFETIME_COLUMNS.contains(&name.as_str()) {
                " (a column of the lifetime model: add a [lifetime] section with model = \"bgnbd\" to the job)".to_string()
            } else if suggestion.is_empty() {
                format!(" (to compare with a text value, put it in single quotes: '{name}')")
            } else {
                suggestion
            };
            return Err(pointed(
                condition,
                &format!("unknown column `{name}`{hint}"),
                at,
                name.chars().count(),
            ));
        }
    }
    Ok(expr)
}

pub fn check_syntax(condition: &Condition) -> Result<()> {
    let dialect = GenericDialect {};
    let end = condition.when.chars().count() + 1;
    let tokens = Tokenizer::new(&dialect, condition.when)
        .tokenize_with_location()
        .map_err(|e| pointed(condition, &e.message, Some(e.location.column as usize), 1))?;
    let mut parser = Parser::new(&dialect).with_tokens_with_locations(tokens.clone());
    parser.parse_expr().map_err(|e| {
        let (message, column) = split_location(&e.to_string());
        match message.strip_suffix(", found: EOF") {
            Some(expected) => pointed(
                condition,
                &format!("the condition ends too early: {expected}"),
                Some(end),
                1,
            ),
            None => pointed(condition, &message, column, 1),
        }
    })?;
    let next = parser.peek_token();
    if next.token == Token::EOF {
        return Ok(());
    }
    // The parser reads a doubled or dangling AND/OR/NOT as a column name and stops at the word
    // after it; the keyword is what the analyst must fix.
    let keyword_before = tokens
        .iter()
        .take_while(|t| t.span.start < next.span.start)
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .last()
        .filter(|t| {
            matches!(&t.token, Token::Word(w) if ["AND", "OR", "NOT"].contains(&w.value.to_uppercase().as_str()))
        });
    Err(match keyword_before {
        Some(k) => pointed(
            condition,
            &format!(
                "`{}` has no condition on one side (a comparison is missing or the word is doubled)",
                k.token
            ),
            Some(k.span.start.column as usize),
            k.token.to_string().chars().count(),
        ),
        None => pointed(
            condition,
            &format!("unexpected `{}` after a complete condition", next.token),
            Some(next.span.start.column as usize),
            next.token.to_string().chars().count().max(1),
        ),
    })
}

/// "sql parser error: Expected: X, found: Y at Line: 1, Column: 24" → ("expected X, found Y", 24).
fn split_location(message: &str) -> (String, Option<usize>) {
    let message = message.trim_start_matches("sql parser error: ");
    let (text, column) = match message.rfind(" at Line: ") {
        Some(at) => {
            let column = message[at..]
                .rsplit("Column: ")
                .next()
                .and_then(|c| c.trim().parse().ok());
            (&message[..at], column)
        }
        None => (message, None),
    };
    let text = text.replacen("Expected: ", "expected ", 1);
    (text, column)
}

fn strip_polars_prefix(message: &str) -> String {
    message
        .trim_start_matches("sql interface error: ")
        .trim()
        .to_string()
}

/// 1-based character column of `word` standing alone in `text`.
fn word_position(text: &str, word: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word)
        .find(|(i, _)| {
            let before = text[..*i].chars().next_back();
            let after = text[i + word.len()..].chars().next();
            !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
        })
        .map(|(i, _)| text[..i].chars().count() + 1)
}

/// An error that quotes the condition and underlines `width` characters from `column` (1-based).
fn pointed(condition: &Condition, message: &str, column: Option<usize>, width: usize) -> Error {
    let mut out = format!("{}: {message}\n    {}", condition.origin, condition.when);
    if let Some(column) = column.filter(|c| *c >= 1) {
        out.push_str(&format!(
            "\n    {}{}",
            " ".repeat(column - 1),
            "^".repeat(width.max(1))
        ));
    }
    Error::data(out)
}

/// A condition must say yes or no for each customer: `r_score AND 'x'` or `monetary + 1` is an
/// error naming it, found from the types before anything is evaluated.
fn check_yes_no(frame: &DataFrame, condition: &Condition, expr: &Expr) -> Result<()> {
    let schema = guarded(std::slice::from_ref(condition), || {
        frame
            .clone()
            .lazy()
            .select([expr.clone().alias("__test")])
            .collect_schema()
    })?;
    match schema.get("__test") {
        Some(DataType::Boolean | DataType::Null) | None => Ok(()),
        Some(other) => Err(pointed(
            condition,
            &format!("this gives {other} values, not yes or no; compare it, e.g. `… > 3` or `… = 'Gold'`"),
            None,
            1,
        )),
    }
}

/// Runs a polars step over user-written conditions. Polars answers most mistyped expressions
/// with an error but a few with a panic (`r_score AND ''`, found by tests/integration/fuzz.rs);
/// both become the same error naming the conditions.
fn guarded<T>(conditions: &[Condition], step: impl FnOnce() -> PolarsResult<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)) {
        Ok(result) => result.map_err(|e| evaluation_error(conditions, e)),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(evaluation_error(
                conditions,
                PolarsError::InvalidOperation(message.into()),
            ))
        }
    }
}

fn evaluation_error(conditions: &[Condition], error: PolarsError) -> Error {
    let listed: Vec<String> = conditions
        .iter()
        .map(|c| format!("  {} — `{}`", c.origin, c.when))
        .collect();
    Error::data(format!(
        "the conditions cannot be evaluated ({}); check that numbers are compared with numbers and names with quoted text:\n{}",
        strip_polars_prefix(&error.to_string()),
        listed.join("\n")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> DataFrame {
        df!(
            "recency_days" => [Some(10.0), Some(200.0), None, Some(40.0)],
            "frequency" => [6.0, 1.0, 0.0, 2.0],
            "segment" => ["Champions", "Hibernating", "No purchase", "Promising"]
        )
        .unwrap()
    }

    fn c<'a>(segment: &'a str, when: &'a str) -> Condition<'a> {
        Condition {
            segment,
            when,
            origin: format!("rule '{segment}'"),
        }
    }

    fn message(conditions: &[Condition]) -> String {
        first_match(&frame(), conditions, "Other")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn first_match_wins_and_default_catches_the_rest() {
        let rules = [
            c("Loyal", "frequency >= 2"),
            c("Fresh", "recency_days <= 60"),
            c(
                "Named",
                "segment IN ('Hibernating') AND NOT frequency BETWEEN 2 AND 5",
            ),
        ];
        let got = first_match(&frame(), &rules, "Other").unwrap();
        assert_eq!(got, vec!["Loyal", "Named", "Other", "Loyal"]);
    }

    #[test]
    fn missing_values_never_match() {
        let got = first_match(&frame(), &[c("Old", "recency_days > 100")], "Other").unwrap();
        assert_eq!(got, vec!["Other", "Old", "Other", "Other"]);
    }

    #[test]
    fn syntax_error_points_at_the_place() {
        let m = message(&[c("VIP", "recency_days <= 60 AND AND frequency >= 5")]);
        assert!(
            m.starts_with("rule 'VIP': `AND` has no condition on one side"),
            "{m}"
        );
        assert!(
            m.ends_with(
                "    recency_days <= 60 AND AND frequency >= 5\n                           ^^^"
            ),
            "{m}"
        );
        let m = message(&[c("VIP", "frequency >== 5")]);
        assert!(
            m.starts_with("rule 'VIP': expected an expression, found: ="),
            "{m}"
        );
        assert!(m.ends_with("\n                ^"), "{m}");
        let m = message(&[c("VIP", "(frequency >= 5")]);
        assert!(
            m.starts_with("rule 'VIP': the condition ends too early: expected )"),
            "{m}"
        );
        assert!(m.ends_with("\n                   ^"), "{m}");
    }

    #[test]
    fn trailing_tokens_are_an_error() {
        let m = message(&[c("VIP", "frequency >= 5 frequency")]);
        assert!(
            m.contains("unexpected `frequency` after a complete condition"),
            "{m}"
        );
        assert!(m.ends_with("\n                   ^^^^^^^^^"), "{m}");
    }

    #[test]
    fn unknown_column_is_named_suggested_and_underlined() {
        let m = message(&[c("VIP", "recency_days <= 60 AND frequncy >= 5")]);
        assert!(
            m.contains("unknown column `frequncy` (did you mean `frequency`?)"),
            "{m}"
        );
        assert!(m.ends_with("\n                           ^^^^^^^^"), "{m}");
    }

    #[test]
    fn a_bare_word_gets_the_quoting_hint() {
        let m = message(&[c("Named", "segment = Champions")]);
        assert!(m.contains("unknown column `Champions` (to compare with a text value, put it in single quotes: 'Champions')"), "{m}");
    }

    #[test]
    fn unclosed_quote_is_a_syntax_error() {
        let m = message(&[c("Named", "segment = 'Champions")]);
        assert!(m.contains("Unterminated string literal"), "{m}");
    }

    #[test]
    fn comparing_text_with_a_number_names_the_conditions() {
        let m = message(&[c("Odd", "segment > 5")]);
        assert!(m.contains("cannot be evaluated"), "{m}");
        assert!(m.contains("rule 'Odd' — `segment > 5`"), "{m}");
    }
}
