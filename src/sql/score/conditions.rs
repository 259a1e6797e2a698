//! Rule conditions in an engine's SQL: each condition's syntax tree (sqlparser, the parse the
//! local rules use too) written again construct by construct, so that what cannot be written the
//! same way in every engine is an error naming it rather than a different segment.

use std::collections::{BTreeMap, BTreeSet};

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, UnaryOperator, Value,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use super::{Writer, Written};
use crate::rules::STANDARD_COLUMNS;

/// What a rule condition may name: the set's thresholds, the scores and RFM cell, earlier sets'
/// columns and the feature table's columns (a standard rule column the data does not give is
/// NULL, as in the local rule table).
pub(super) struct Scope<'a> {
    pub(super) writer: &'a Writer<'a>,
    pub(super) thresholds: &'a BTreeMap<String, f64>,
    pub(super) earlier: &'a BTreeSet<&'a str>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Other,
}

struct Sql {
    text: String,
    kind: Kind,
}

impl Sql {
    fn other(text: String) -> Sql {
        Sql {
            text,
            kind: Kind::Other,
        }
    }
}

impl Scope<'_> {
    pub(super) fn condition(&self, when: &str) -> Written {
        let expr = Parser::new(&GenericDialect {})
            .try_with_sql(when)
            .and_then(|mut p| {
                let expr = p.parse_expr()?;
                match p.peek_token().token {
                    sqlparser::tokenizer::Token::EOF => Ok(expr),
                    other => Err(sqlparser::parser::ParserError::ParserError(format!(
                        "unexpected `{other}` after a complete condition"
                    ))),
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(self.expr(&expr)?.text)
    }

    fn name(&self, name: &str) -> std::result::Result<Sql, String> {
        let w = self.writer;
        if let Some(value) = self.thresholds.get(name) {
            return Ok(Sql::other(w.number(*value)));
        }
        let text = self.earlier.contains(name) || name == "rfm_cell";
        if text || ["r_score", "f_score", "m_score"].contains(&name) || w.has(name) {
            return Ok(Sql {
                text: w.q(name),
                kind: if text { Kind::Text } else { Kind::Other },
            });
        }
        if STANDARD_COLUMNS.contains(&name) || name == "previous_gap_days" {
            return Ok(Sql::other(format!(
                "CAST(NULL AS {})",
                w.dialect.double_type()
            )));
        }
        Err(format!("the feature table has no column `{name}`"))
    }

    fn expr(&self, expr: &Expr) -> std::result::Result<Sql, String> {
        let d = self.writer.dialect;
        let unsupported = || {
            Err(format!(
                "`{expr}` has no translation (conditions in SQL may use columns, numbers, quoted text, TRUE/FALSE/NULL, comparisons, + - *, AND/OR/NOT, IN, BETWEEN, IS [NOT] NULL, COALESCE and parentheses)"
            ))
        };
        Ok(match expr {
            Expr::Identifier(ident) => self.name(&ident.value)?,
            Expr::Value(value) => match &value.value {
                Value::Number(text, _) => {
                    let number: f64 = text
                        .parse()
                        .map_err(|_| format!("`{text}` is not a number"))?;
                    if !number.is_finite() {
                        return Err(format!("`{text}` is not a finite number"));
                    }
                    Sql::other(self.writer.number(number))
                }
                Value::SingleQuotedString(text) => Sql {
                    text: d.text_literal(text),
                    kind: Kind::Text,
                },
                Value::Boolean(true) => Sql::other("TRUE".into()),
                Value::Boolean(false) => Sql::other("FALSE".into()),
                Value::Null => Sql::other("NULL".into()),
                _ => return unsupported(),
            },
            Expr::Nested(inner) => {
                let inner = self.expr(inner)?;
                Sql {
                    text: format!("({})", inner.text),
                    kind: inner.kind,
                }
            }
            Expr::UnaryOp { op, expr: inner } => {
                let inner = self.expr(inner)?.text;
                Sql::other(match op {
                    UnaryOperator::Not => format!("(NOT {inner})"),
                    UnaryOperator::Minus => format!("(- {inner})"),
                    UnaryOperator::Plus => inner,
                    _ => return unsupported(),
                })
            }
            Expr::BinaryOp { left, op, right } => {
                let (l, r) = (self.expr(left)?, self.expr(right)?);
                let symbol = match op {
                    BinaryOperator::And => "AND",
                    BinaryOperator::Or => "OR",
                    BinaryOperator::Eq => "=",
                    BinaryOperator::NotEq => "<>",
                    BinaryOperator::Lt => "<",
                    BinaryOperator::LtEq => "<=",
                    BinaryOperator::Gt => ">",
                    BinaryOperator::GtEq => ">=",
                    BinaryOperator::Plus => "+",
                    BinaryOperator::Minus => "-",
                    BinaryOperator::Multiply => "*",
                    BinaryOperator::Divide => {
                        return Err("division has no translation: a division by zero is infinite locally but NULL or an error in the engines".into())
                    }
                    _ => return unsupported(),
                };
                let ordering = matches!(
                    op,
                    BinaryOperator::Lt
                        | BinaryOperator::LtEq
                        | BinaryOperator::Gt
                        | BinaryOperator::GtEq
                );
                if ordering && (l.kind == Kind::Text || r.kind == Kind::Text) {
                    return Err(text_order(expr));
                }
                Sql::other(format!("({} {symbol} {})", l.text, r.text))
            }
            Expr::Between {
                expr: inner,
                negated,
                low,
                high,
            } => {
                let (x, lo, hi) = (self.expr(inner)?, self.expr(low)?, self.expr(high)?);
                if [x.kind, lo.kind, hi.kind].contains(&Kind::Text) {
                    return Err(text_order(expr));
                }
                let not = if *negated { "NOT " } else { "" };
                Sql::other(format!(
                    "({} {not}BETWEEN {} AND {})",
                    x.text, lo.text, hi.text
                ))
            }
            Expr::InList {
                expr: inner,
                list,
                negated,
            } => {
                let x = self.expr(inner)?.text;
                let items: Vec<String> = list
                    .iter()
                    .map(|e| self.expr(e).map(|s| s.text))
                    .collect::<std::result::Result<_, _>>()?;
                let not = if *negated { "NOT " } else { "" };
                Sql::other(format!("({x} {not}IN ({}))", items.join(", ")))
            }
            Expr::IsNull(inner) => Sql::other(format!("({} IS NULL)", self.expr(inner)?.text)),
            Expr::IsNotNull(inner) => {
                Sql::other(format!("({} IS NOT NULL)", self.expr(inner)?.text))
            }
            Expr::Function(function) => {
                let name = function.name.to_string().to_uppercase();
                let FunctionArguments::List(list) = &function.args else {
                    return unsupported();
                };
                let plain = function.filter.is_none()
                    && function.over.is_none()
                    && function.null_treatment.is_none()
                    && function.within_group.is_empty()
                    && matches!(function.parameters, FunctionArguments::None)
                    && list.duplicate_treatment.is_none()
                    && list.clauses.is_empty();
                if name != "COALESCE" || !plain || list.args.is_empty() {
                    return unsupported();
                }
                let args: Vec<Sql> = list
                    .args
                    .iter()
                    .map(|a| match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => self.expr(e),
                        _ => unsupported(),
                    })
                    .collect::<std::result::Result<_, _>>()?;
                let kind = args.first().map_or(Kind::Other, |a| a.kind);
                Sql {
                    text: format!(
                        "COALESCE({})",
                        args.into_iter()
                            .map(|a| a.text)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    kind,
                }
            }
            _ => return unsupported(),
        })
    }
}

fn text_order(expr: &Expr) -> String {
    format!("`{expr}` orders text, which engines sort by their own collation; compare text with = , <> or IN only")
}
