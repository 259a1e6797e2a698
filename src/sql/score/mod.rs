//! `segmenta sql score`: one query that assigns every customer of an engine's feature table (the
//! output of `segmenta sql features`) with a saved model, as `segmenta apply` assigns them
//! locally: the fitted preparation, the nearest k-means centroid and its label, R/F/M scores on
//! the saved cut points, and every saved rule set's segment.
//!
//! The query repeats the local arithmetic operation by operation: every number the model holds
//! is written as the shortest decimal that reads back as the same double, squared distances are
//! summed coordinate by coordinate in order, an exact tie goes to the lower cluster, and a score
//! counts the cut points below the value. Only `log1p` is spelt `LN(1 + x)` where the engine has
//! no `LOG1P`, which may differ from the local value in the last bit. The DBSCAN clusters and the
//! Gaussian mixture are not part of the query.

use std::collections::BTreeSet;
use std::path::Path;

mod conditions;

use conditions::Scope;

use super::dialect::Dialect;
use crate::error::{Error, Result};
use crate::features::{FeatureKind, PreparedColumn};
use crate::model::SavedModel;
use crate::rules::rfm::ScoreScale;
use crate::rules::{SavedRuleSet, SavedRules};

/// What the engine's feature table is and holds.
pub struct Source<'a> {
    /// The table (or "schema.table") holding one row per customer.
    pub table: &'a str,
    /// Its columns, when known from the job whose features query made it; otherwise the columns
    /// the model's fit data gave are taken to be there.
    pub columns: Option<Vec<String>>,
}

/// The query assigning the customers of `source` with the model read from `path`.
pub fn query(model: &SavedModel, path: &Path, source: &Source, dialect: Dialect) -> Result<String> {
    let rules = model.rules.as_ref().ok_or_else(|| {
        Error::file(
            path,
            format!(
                "this model (segmenta {}) was saved without its rule sets, which `sql score` needs; run the job again with this version of segmenta to write a model that has them",
                model.segmenta_version
            ),
        )
    })?;
    refuse_lifetime_columns(model, rules).map_err(|message| Error::file(path, message))?;
    let columns: BTreeSet<String> = source
        .columns
        .clone()
        .unwrap_or_else(|| rules.columns.clone())
        .into_iter()
        .collect();
    let writer = Writer {
        model,
        rules,
        dialect,
        columns,
    };
    writer
        .query(source.table)
        .map_err(|message| Error::file(path, message))
}

/// The lifetime model's columns come from the transaction log and the fitted BG/NBD, which no
/// engine's feature table carries: a model that clusters or rules on them is scored by `apply`.
fn refuse_lifetime_columns(
    model: &SavedModel,
    rules: &crate::rules::SavedRules,
) -> std::result::Result<(), String> {
    let words = |text: &str| -> BTreeSet<String> {
        text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map(str::to_string)
            .collect()
    };
    let mut used: BTreeSet<String> = model
        .preparation
        .columns
        .iter()
        .map(|c| c.name.clone())
        .collect();
    for rule in rules.sets.iter().flat_map(|s| &s.rules) {
        used.extend(words(&rule.when));
    }
    let lifetime: Vec<&str> = crate::job::LIFETIME_COLUMNS
        .into_iter()
        .filter(|c| used.contains(*c))
        .collect();
    if lifetime.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the model uses {}, from the lifetime model, which an engine's feature table does not have (it needs the transaction log and the fitted BG/NBD): assign these customers with `segmenta apply`, or fit the model without clustering or rules on those columns",
        lifetime.join(", ")
    ))
}

struct Writer<'a> {
    model: &'a SavedModel,
    rules: &'a SavedRules,
    dialect: Dialect,
    /// The feature table's columns.
    columns: BTreeSet<String>,
}

/// The internal columns the query adds (prefixed so no feature name collides with them).
const RECENCY: &str = "segmenta_recency";
const FREQUENCY: &str = "segmenta_frequency";
const MONETARY: &str = "segmenta_monetary";
const WITH_RECENCY: &str = "segmenta_with_recency";
const BEST: &str = "segmenta_best";
const CLUSTER: &str = "segmenta_cluster";

type Written = std::result::Result<String, String>;

impl Writer<'_> {
    fn q(&self, name: &str) -> String {
        self.dialect.ident(name)
    }

    fn has(&self, name: &str) -> bool {
        self.columns.contains(name)
    }

    fn query(&self, table: &str) -> Written {
        let d = self.dialect;
        let model = self.model;
        let mut ctes: Vec<(String, String)> = Vec::new();
        ctes.push(("facts".into(), self.facts(table)));
        ctes.push((
            "buyers".into(),
            format!(
                "  SELECT COUNT({}) > 0 AS {} FROM facts",
                self.q(RECENCY),
                self.q(WITH_RECENCY)
            ),
        ));
        ctes.push(("scored".into(), self.scored()));
        let mut previous = "scored".to_string();
        for (i, set) in self.rules.sets.iter().enumerate() {
            let name = format!("rule_set_{}", i + 1);
            let case = self.rule_set(set)?;
            ctes.push((
                name.clone(),
                format!(
                    "  SELECT {previous}.*,\n    {case} AS {}\n  FROM {previous}",
                    self.q(&set.column)
                ),
            ));
            previous = name;
        }
        ctes.push(("prepared".into(), self.prepared(&previous)?));
        ctes.push(("distances".into(), self.distances()?));
        ctes.push(("nearest".into(), self.nearest()));
        let mut sql = format!(
            "-- segmenta {}: the customers of {} assigned with the model of job '{}' as of {} ({} dialect)\n",
            env!("CARGO_PKG_VERSION"),
            table,
            model.job.replace('\n', " "),
            model.as_of,
            d
        );
        sql.push_str("WITH\n");
        // PostgreSQL inlines a CTE read once, and with it every column's expression into each
        // place that reads the column: the cluster would repeat every distance, and each distance
        // every prepared value, hundreds of times. Each step is computed once instead.
        let materialized = if d == Dialect::Postgres {
            " MATERIALIZED"
        } else {
            ""
        };
        let written: Vec<String> = ctes
            .iter()
            .map(|(name, body)| format!("{name} AS{materialized} (\n{body}\n)"))
            .collect();
        sql.push_str(&written.join(",\n"));
        sql.push_str("\nSELECT\n  ");
        sql.push_str(&self.outputs().join(",\n  "));
        sql.push_str("\nFROM nearest\n");
        Ok(sql)
    }

    /// The feature table with the purchase facts the scores read, as `rules::rfm_values` takes
    /// them from the local facts: no last purchase without orders, no orders or spend as 0.
    fn facts(&self, table: &str) -> String {
        let d = self.dialect;
        let column = |name: &str| d.double(&self.q(name));
        let frequency = self
            .has("frequency")
            .then(|| format!("COALESCE({}, {})", column("frequency"), self.number(0.0)));
        let recency = match (self.has("recency_days"), &frequency) {
            (false, _) => format!("CAST(NULL AS {})", d.double_type()),
            (true, Some(f)) => format!(
                "CASE WHEN {f} > {} THEN {} END",
                self.number(0.0),
                column("recency_days")
            ),
            (true, None) => column("recency_days"),
        };
        let monetary = match self.has("monetary") {
            true => format!("COALESCE({}, {})", column("monetary"), self.number(0.0)),
            false => self.number(0.0),
        };
        format!(
            "  SELECT t.*,\n    {recency} AS {},\n    {} AS {},\n    {monetary} AS {}\n  FROM {} AS t",
            self.q(RECENCY),
            frequency.unwrap_or_else(|| self.number(0.0)),
            self.q(FREQUENCY),
            self.q(MONETARY),
            d.table(table)
        )
    }

    /// R, F and M scored on the saved cut points, and the RFM cell.
    fn scored(&self) -> String {
        let (r, f, m) = (self.q(RECENCY), self.q(FREQUENCY), self.q(MONETARY));
        let with_recency = format!("buyers.{}", self.q(WITH_RECENCY));
        // A buyer has a last purchase; a table that gives no recency at all tells buyers by
        // their orders or spend.
        let bought = format!(
            "(({with_recency} AND facts.{r} IS NOT NULL) OR (NOT {with_recency} AND (facts.{f} > {zero} OR facts.{m} <> {zero})))",
            zero = self.number(0.0)
        );
        let cuts = &self.model.rfm_cut_points;
        let frequency = format!("CASE WHEN {bought} THEN facts.{f} END");
        let monetary = format!(
            "CASE WHEN {bought} THEN {} END",
            self.rounded_to_ten_thousandths(&format!("facts.{m}"))
        );
        let scores = [
            ("r_score", score(&cuts.r, &format!("facts.{r}"), self)),
            ("f_score", score(&cuts.f, &frequency, self)),
            ("m_score", score(&cuts.m, &monetary, self)),
        ];
        let mut columns: Vec<String> = scores
            .iter()
            .map(|(name, sql)| format!("{sql} AS {}", self.q(name)))
            .collect();
        let text = |name: &str| self.dialect.text(&score_expression(&scores, name));
        columns.push(format!(
            "CASE WHEN {} IS NOT NULL AND {} IS NOT NULL AND {} IS NOT NULL THEN CONCAT({}, {}, {}) END AS {}",
            score_expression(&scores, "r_score"),
            score_expression(&scores, "f_score"),
            score_expression(&scores, "m_score"),
            text("r_score"),
            text("f_score"),
            text("m_score"),
            self.q("rfm_cell")
        ));
        format!(
            "  SELECT facts.*,\n    {}\n  FROM facts CROSS JOIN buyers",
            columns.join(",\n    ")
        )
    }

    /// `(x * 1e4).round() / 1e4` with Rust's rounding, half away from zero.
    fn rounded_to_ten_thousandths(&self, x: &str) -> String {
        let y = format!("({x} * {})", self.number(1e4));
        format!(
            "(SIGN({y}) * CASE WHEN ABS({y}) - FLOOR(ABS({y})) >= {half} THEN CEIL(ABS({y})) ELSE FLOOR(ABS({y})) END / {scale})",
            half = self.number(0.5),
            scale = self.number(1e4)
        )
    }

    /// One rule set as a CASE: first match wins, the default catches the rest.
    fn rule_set(&self, set: &SavedRuleSet) -> Written {
        let earlier: BTreeSet<&str> = self
            .rules
            .sets
            .iter()
            .take_while(|s| s.column != set.column)
            .map(|s| s.column.as_str())
            .collect();
        let scope = Scope {
            writer: self,
            thresholds: &set.thresholds,
            earlier: &earlier,
        };
        let mut case = String::from("CASE");
        for (i, rule) in set.rules.iter().enumerate() {
            let condition = scope.condition(&rule.when).map_err(|why| {
                format!(
                    "{}: cannot write `{}` in SQL: {why}",
                    set.origin(i),
                    rule.when
                )
            })?;
            case.push_str(&format!(
                "\n      WHEN {condition} THEN {}",
                self.dialect.text_literal(&rule.segment)
            ));
        }
        case.push_str(&format!(
            "\n      ELSE {}\n    END",
            self.dialect.text_literal(&set.default)
        ));
        Ok(if set.rules.is_empty() {
            self.dialect.text_literal(&set.default)
        } else {
            case
        })
    }

    /// Every clustered column in prepared units, as `Preparation::transform_new_data` makes it.
    fn prepared(&self, previous: &str) -> Written {
        let columns = &self.model.preparation.columns;
        let mut out = Vec::new();
        for (j, column) in columns.iter().enumerate() {
            out.push(format!(
                "{} AS {}",
                self.prepared_column(column)?,
                self.q(&format!("segmenta_p{j}"))
            ));
        }
        Ok(format!(
            "  SELECT {previous}.*,\n    {}\n  FROM {previous}",
            out.join(",\n    ")
        ))
    }

    fn prepared_column(&self, column: &PreparedColumn) -> Written {
        let d = self.dialect;
        for (what, value) in [
            ("fill", column.fill),
            ("centre", column.center),
            ("scale", column.scale),
            ("weight", column.weight),
        ] {
            if !value.is_finite() {
                return Err(format!(
                    "feature '{}' has a {what} of {value}; the model file is damaged",
                    column.name
                ));
            }
        }
        if !self.has(&column.name) {
            // A share or indicator the new data lacks (a category value no longer among its
            // top values) is 0 for everyone, as apply takes it.
            if column.kind == FeatureKind::Numeric {
                return Err(format!(
                    "the feature table has no feature '{}' that the model's preparation needs",
                    column.name
                ));
            }
            return Ok(self.number(column.apply(Some(0.0), None)));
        }
        let value = d.double(&self.q(&column.name));
        let present = match &column.shrink {
            None => value.clone(),
            Some(shrink) => {
                let observations = if self.has(&shrink.trials) {
                    format!(
                        "GREATEST(COALESCE({}, {}), {})",
                        d.double(&self.q(&shrink.trials)),
                        self.number(0.0),
                        self.number(1.0)
                    )
                } else {
                    self.number(1.0)
                };
                format!(
                    "({value} * {observations} + {}) / ({observations} + {})",
                    self.number(shrink.base * shrink.strength),
                    self.number(shrink.strength)
                )
            }
        };
        let mut x = format!(
            "CASE WHEN {value} IS NULL THEN {} ELSE {present} END",
            self.number(column.fill)
        );
        if column.log1p {
            x = match d {
                Dialect::Spark => format!("SIGN({x}) * LOG1P(ABS({x}))"),
                _ => format!("SIGN({x}) * LN({} + ABS({x}))", self.number(1.0)),
            };
        }
        if let Some((lo, hi)) = column.clip {
            x = format!(
                "LEAST(GREATEST({x}, {}), {})",
                self.number(lo),
                self.number(hi)
            );
        }
        Ok(format!(
            "(({x}) - {}) / {} * {}",
            self.number(column.center),
            self.number(column.scale),
            self.number(column.weight)
        ))
    }

    /// The squared distance to every centroid, coordinates summed in order.
    fn distances(&self) -> Written {
        let model = self.model;
        let width = model.preparation.columns.len();
        let mut out = Vec::new();
        for (c, centroid) in model.kmeans.centroids.iter().enumerate() {
            if centroid.len() != width || centroid.iter().any(|v| !v.is_finite()) {
                return Err(format!(
                    "centroid {c} does not have the {width} finite coordinates of the model's preparation; the model file is damaged"
                ));
            }
            let terms: Vec<String> = centroid
                .iter()
                .enumerate()
                .map(|(j, value)| {
                    let t = format!(
                        "({} - {})",
                        self.q(&format!("segmenta_p{j}")),
                        self.number(*value)
                    );
                    format!("{t} * {t}")
                })
                .collect();
            out.push(format!(
                "{} AS {}",
                terms.join("\n      + "),
                self.q(&format!("segmenta_d{c}"))
            ));
        }
        if out.is_empty() {
            return Err("the model has no k-means centroids; the model file is damaged".into());
        }
        Ok(format!(
            "  SELECT prepared.*,\n    {}\n  FROM prepared",
            out.join(",\n    ")
        ))
    }

    /// The nearest centroid: the smallest squared distance, the lower cluster on an exact tie.
    fn nearest(&self) -> String {
        let k = self.model.kmeans.centroids.len();
        let distance = |c: usize| self.q(&format!("segmenta_d{c}"));
        let best = if k == 1 {
            distance(0)
        } else {
            format!(
                "LEAST({})",
                (0..k).map(distance).collect::<Vec<_>>().join(", ")
            )
        };
        let mut cluster = String::from("CASE");
        for c in 0..k.saturating_sub(1) {
            cluster.push_str(&format!(
                " WHEN {} = {} THEN {c}",
                distance(c),
                self.q(BEST)
            ));
        }
        cluster.push_str(&format!(" ELSE {} END", k.saturating_sub(1)));
        format!(
            "  SELECT best.*,\n    {cluster} AS {}\n  FROM (SELECT distances.*, {best} AS {} FROM distances) AS best",
            self.q(CLUSTER),
            self.q(BEST)
        )
    }

    /// The columns of apply's assignments, in its order.
    fn outputs(&self) -> Vec<String> {
        let d = self.dialect;
        let model = self.model;
        let k = model.kmeans.centroids.len();
        let cluster = self.q(CLUSTER);
        let case = |text: &dyn Fn(usize) -> String| {
            let arms: String = (0..k)
                .map(|c| format!(" WHEN {c} THEN {}", d.text_literal(&text(c))))
                .collect();
            format!("CASE {cluster}{arms} END")
        };
        let distance = format!("SQRT({})", self.q(BEST));
        let far = if model.baseline.columns.is_empty() {
            "FALSE".to_string()
        } else {
            format!("{distance} > {}", self.number(model.baseline.far_distance))
        };
        let mut out = vec![
            format!("{} AS {}", self.q("customer_id"), self.q("customer_id")),
            format!(
                "{} AS {}",
                case(&|c| crate::label::cluster_name(Some(c))),
                self.q("segment")
            ),
            format!("{cluster} AS {}", self.q("kmeans_cluster")),
            format!(
                "{} AS {}",
                case(&|c| model.kmeans.labels.get(c).cloned().unwrap_or_default()),
                self.q("model_label")
            ),
            format!("{distance} AS {}", self.q("distance_to_centroid")),
            format!("{far} AS {}", self.q("far_from_centroids")),
        ];
        for name in ["r_score", "f_score", "m_score"] {
            out.push(self.q(name));
        }
        out.extend(self.rules.sets.iter().map(|s| self.q(&s.column)));
        out
    }

    /// A double the engine reads back bit for bit: the shortest decimal that round-trips, in
    /// exponent notation (a DOUBLE in DuckDB and Spark; PostgreSQL reads it as an exact numeric,
    /// cast here).
    fn number(&self, value: f64) -> String {
        number(self.dialect, value)
    }
}

fn number(dialect: Dialect, value: f64) -> String {
    let text = format!("{value:e}");
    match dialect {
        Dialect::Postgres => format!("CAST({text} AS DOUBLE PRECISION)"),
        _ if text.starts_with('-') => format!("({text})"),
        _ => text,
    }
}

/// The score of `value` on `scale`, as `ScoreScale::score_of`: one plus the cut points below the
/// value (they ascend), counted down from the top when lower is better; NULL stays NULL.
fn score(scale: &ScoreScale, value: &str, writer: &Writer) -> String {
    let below: Vec<String> = scale
        .upper_bounds
        .iter()
        .map(|b| {
            format!(
                "CASE WHEN {value} > {} THEN 1 ELSE 0 END",
                writer.number(*b)
            )
        })
        .collect();
    let count = if below.is_empty() {
        "0".to_string()
    } else {
        below.join(" + ")
    };
    let bin = if scale.higher_is_better {
        format!("1 + {count}")
    } else {
        format!("{} - ({count})", scale.bins)
    };
    format!("CASE WHEN {value} IS NULL THEN NULL ELSE CAST({bin} AS INTEGER) END")
}

fn score_expression(scores: &[(&str, String); 3], name: &str) -> String {
    scores
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, sql)| format!("({sql})"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    use crate::rules::SavedRule;

    fn rules(sets: Vec<SavedRuleSet>) -> SavedRules {
        SavedRules {
            columns: ["recency_days", "frequency", "monetary", "discount_share"]
                .map(String::from)
                .to_vec(),
            sets,
        }
    }

    fn translate(dialect: Dialect, when: &str) -> Written {
        let model_rules = rules(vec![]);
        let thresholds = BTreeMap::from([("active_days".to_string(), 60.0)]);
        let earlier = BTreeSet::from(["rfm_group"]);
        let model: SavedModel = serde_json::from_str(MODEL).unwrap();
        let writer = Writer {
            model: &model,
            rules: &model_rules,
            dialect,
            columns: model_rules.columns.iter().cloned().collect(),
        };
        let scope = Scope {
            writer: &writer,
            thresholds: &thresholds,
            earlier: &earlier,
        };
        scope.condition(when)
    }

    /// The smallest model: one column, two centroids, five R/F/M bins.
    const MODEL: &str = r#"{
        "segmenta_version": "0", "job": "t", "as_of": "2025-01-01", "seed": 1,
        "preparation": {"scale": "zscore", "dropped": [], "columns": [
            {"name": "frequency", "group": "rfm", "kind": "numeric", "impute": "median",
             "fill": 1.0, "log1p": true, "clip": [0.0, 2.5], "center": 0.5, "scale": 0.25,
             "weight": 1.0}]},
        "kmeans": {"k": 2, "centroids": [[-1.0], [1.0]], "labels": ["Champions 78%", "Can't Lose 51%"]},
        "dbscan": {"eps": 1.0, "min_points": 4},
        "rfm_cut_points": {
            "r": {"method": "quantile", "bins": 5, "upper_bounds": [10.0, 30.0, 60.0, 120.0], "higher_is_better": false, "ranges": []},
            "f": {"method": "quantile", "bins": 5, "upper_bounds": [1.0, 1.0, 2.0, 4.0], "higher_is_better": true, "ranges": []},
            "m": {"method": "quantile", "bins": 5, "upper_bounds": [20.5, 50.0, 100.0, 250.0], "higher_is_better": true, "ranges": []}
        }
    }"#;

    #[test]
    fn conditions_become_the_dialects_sql() {
        let duck = |w| translate(Dialect::DuckDb, w).unwrap();
        assert_eq!(
            duck("recency_days <= active_days AND previous_gap_days > 120"),
            "((\"recency_days\" <= 6e1) AND (CAST(NULL AS DOUBLE) > 1.2e2))"
        );
        assert_eq!(
            duck("rfm_group IN ('Can''t Lose Them', 'At Risk') AND monetary > 500"),
            "((\"rfm_group\" IN ('Can''t Lose Them', 'At Risk')) AND (\"monetary\" > 5e2))"
        );
        assert_eq!(
            duck("NOT (f_score BETWEEN 2 AND 4) OR recency_days IS NULL"),
            "((NOT ((\"f_score\" BETWEEN 2e0 AND 4e0))) OR (\"recency_days\" IS NULL))"
        );
        assert_eq!(
            duck("discount_share >= 0.6 AND frequency - 1 >= -2 AND COALESCE(recency_days, 0) <> 3"),
            "(((\"discount_share\" >= 6e-1) AND ((\"frequency\" - 1e0) >= (- 2e0))) AND (COALESCE(\"recency_days\", 0e0) <> 3e0))"
        );
        assert_eq!(
            translate(
                Dialect::Spark,
                "rfm_group NOT IN ('Can''t \\ Lose') AND r_score = 5"
            )
            .unwrap(),
            "((`rfm_group` NOT IN ('Can\\'t \\\\ Lose')) AND (`r_score` = 5e0))"
        );
        assert_eq!(
            translate(Dialect::Postgres, "frequency > 2.5").unwrap(),
            "(\"frequency\" > CAST(2.5e0 AS DOUBLE PRECISION))"
        );
    }

    #[test]
    fn what_has_no_translation_is_named() {
        let error = |w| translate(Dialect::DuckDb, w).unwrap_err();
        assert!(error("monetary / frequency > 2").contains("division"));
        assert!(error("rfm_group LIKE 'C%'").contains("has no translation"));
        assert!(error("rfm_group > 'B'").contains("orders text"));
        assert!(error("rfm_cell BETWEEN '111' AND '555'").contains("orders text"));
        assert!(error("income > 3").contains("no column `income`"));
        assert!(error("frequency >= 5 frequency").contains("unexpected"));
        assert!(error("ABS(monetary) > 3").contains("has no translation"));
    }

    #[test]
    fn numbers_read_back_as_the_same_double() {
        for value in [0.1, 1.0 / 3.0, -2.5e-300, 123456789.125, 6e1] {
            let text = number(Dialect::DuckDb, value);
            let text = text.trim_start_matches('(').trim_end_matches(')');
            assert_eq!(text.parse::<f64>().unwrap().to_bits(), value.to_bits());
        }
        assert_eq!(number(Dialect::Spark, -1.5), "(-1.5e0)");
        assert_eq!(
            number(Dialect::Postgres, -1.5),
            "CAST(-1.5e0 AS DOUBLE PRECISION)"
        );
    }

    #[test]
    fn a_whole_query_names_every_output_and_errors_name_the_file() {
        let mut model: SavedModel = serde_json::from_str(MODEL).unwrap();
        let path = Path::new("reports/t/model.json");
        let source = Source {
            table: "sales.features",
            columns: None,
        };
        let error = query(&model, path, &source, Dialect::DuckDb).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("reports/t/model.json: this model")
                && error.to_string().contains("without its rule sets"),
            "{error}"
        );
        model.rules = Some(rules(vec![SavedRuleSet {
            name: "custom".into(),
            column: "custom_segment".into(),
            thresholds: BTreeMap::new(),
            rules: vec![SavedRule {
                segment: "Big".into(),
                when: "monetary > 500".into(),
            }],
            default: "Other".into(),
        }]));
        let sql = query(&model, path, &source, Dialect::DuckDb).unwrap();
        assert!(sql.contains("FROM \"sales\".\"features\" AS t"), "{sql}");
        assert!(
            sql.contains("WHEN (\"monetary\" > 5e2) THEN 'Big'"),
            "{sql}"
        );
        assert!(sql.contains("WHEN 1 THEN 'Can''t Lose 51%'"), "{sql}");
        for output in [
            "AS \"segment\"",
            "AS \"kmeans_cluster\"",
            "AS \"model_label\"",
            "\"m_score\",\n  \"custom_segment\"\nFROM nearest",
        ] {
            assert!(sql.contains(output), "{output}");
        }
        // A share missing from the table is 0 for everyone; a numeric feature is an error.
        let source = Source {
            table: "features",
            columns: Some(vec!["monetary".into()]),
        };
        let error = query(&model, path, &source, Dialect::DuckDb).unwrap_err();
        assert!(
            error.to_string().contains("no feature 'frequency'"),
            "{error}"
        );
    }
}
