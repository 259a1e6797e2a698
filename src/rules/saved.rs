//! The rule sets a run computed, resolved to what new data needs to get the same segments: each
//! set's output column, its ordered (segment, condition) list — a score map's boxes written as
//! conditions on the scores — its default segment and its thresholds. model.json keeps them so
//! that `apply` and `sql score` assign the rule segments without the job or its preset files.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::conditions::{self, Condition};
use super::preset::{Preset, ScoreBox};
use super::{table, RfmScores, ScoreCuts, NO_PURCHASE};
use crate::error::Result;
use crate::features::FeatureTable;
use crate::job::RuleOptions;

/// Every rule set of a run, in the order it was computed (a set may read earlier sets' columns).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SavedRules {
    /// The columns of the fit data's rule table that hold data (its features, the rule-only
    /// columns and `previous_gap_days` when a transaction log gives it); every other standard
    /// rule column was missing (NULL) for every customer.
    pub columns: Vec<String>,
    pub sets: Vec<SavedRuleSet>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedRuleSet {
    /// The preset's name, or "custom".
    pub name: String,
    /// Its column in the assignments (`rfm_group`, `lifecycle_stage`, `<name>_segment`).
    pub column: String,
    /// Numbers the conditions use by name, with the job's overrides.
    #[serde(default)]
    pub thresholds: BTreeMap<String, f64>,
    /// First match wins.
    pub rules: Vec<SavedRule>,
    /// The segment of everyone no condition matches.
    pub default: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedRule {
    pub segment: String,
    pub when: String,
}

impl SavedRuleSet {
    /// A score map's segments as conditions on the scores: a segment matches when its R, F (and
    /// M) scores fall in one of its boxes; a customer without scores is "No purchase".
    pub fn of_score_map(preset: &Preset, column: String) -> SavedRuleSet {
        let rules = preset
            .segments
            .iter()
            .map(|s| {
                let shorthand =
                    (s.r.is_some() || s.f.is_some() || s.m.is_some()).then_some(ScoreBox {
                        r: s.r,
                        f: s.f,
                        m: s.m,
                    });
                let boxes: Vec<String> = shorthand
                    .iter()
                    .chain(&s.cells)
                    .map(box_condition)
                    .collect();
                let when = match boxes.as_slice() {
                    [one] => one.clone(),
                    many => many
                        .iter()
                        .map(|b| format!("({b})"))
                        .collect::<Vec<_>>()
                        .join(" OR "),
                };
                SavedRule {
                    segment: s.name.clone(),
                    when,
                }
            })
            .collect();
        SavedRuleSet {
            name: preset.name.clone(),
            column,
            thresholds: BTreeMap::new(),
            rules,
            default: NO_PURCHASE.to_string(),
        }
    }

    /// A conditions preset: its segments but the last in order, the last as the default.
    pub fn of_conditions(
        preset: &Preset,
        column: String,
        thresholds: BTreeMap<String, f64>,
    ) -> SavedRuleSet {
        let (rules, default) = preset.segments.split_at(preset.segments.len() - 1);
        SavedRuleSet {
            name: preset.name.clone(),
            column,
            thresholds,
            rules: rules
                .iter()
                .map(|s| SavedRule {
                    segment: s.name.clone(),
                    when: s.when.clone().unwrap_or_default(),
                })
                .collect(),
            default: default[0].name.clone(),
        }
    }

    /// The job's custom rules.
    pub fn of_custom(options: &RuleOptions, column: String) -> SavedRuleSet {
        SavedRuleSet {
            name: "custom".into(),
            column,
            thresholds: BTreeMap::new(),
            rules: options
                .custom
                .iter()
                .map(|c| SavedRule {
                    segment: c.name.clone(),
                    when: c.when.clone(),
                })
                .collect(),
            default: options.custom_default.clone(),
        }
    }

    /// Where the `i`-th rule came from, for messages.
    pub fn origin(&self, i: usize) -> String {
        format!(
            "the model's rule set {} ({}), segment '{}'",
            self.name, self.column, self.rules[i].segment
        )
    }
}

/// "r_score BETWEEN 5 AND 5 AND f_score BETWEEN 4 AND 5": one box of a score map.
fn box_condition(b: &ScoreBox) -> String {
    [("r_score", b.r), ("f_score", b.f), ("m_score", b.m)]
        .into_iter()
        .filter_map(|(column, range)| {
            let [lo, hi] = range?;
            Some(format!("{column} BETWEEN {lo} AND {hi}"))
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Every saved set's segment for every customer of `table`, scored with `r`, `f`, `m` on the
/// saved `cuts`: (column, segments) in the sets' order.
pub fn evaluate(
    saved: &SavedRules,
    table: &FeatureTable,
    scores: [Vec<Option<u8>>; 3],
    cuts: &ScoreCuts,
) -> Result<Vec<(String, Vec<String>)>> {
    let [r, f, m] = scores;
    let rfm = RfmScores {
        r,
        f,
        m,
        cuts: cuts.clone(),
    };
    let mut frame = table::frame(table, &rfm)?;
    let mut out = Vec::new();
    for set in &saved.sets {
        let with_thresholds = table::with_thresholds(&frame, &set.name, &set.thresholds)?;
        let conditions: Vec<Condition> = set
            .rules
            .iter()
            .enumerate()
            .map(|(i, rule)| Condition {
                segment: &rule.segment,
                when: &rule.when,
                origin: set.origin(i),
            })
            .collect();
        let labels = conditions::first_match(&with_thresholds, &conditions, &set.default)?;
        table::add_column(&mut frame, &set.column, &labels)?;
        out.push((set.column.clone(), labels));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{Feature, FeatureGroup, FeatureKind, PurchaseFacts};
    use crate::rules::preset::{self, ScoreMap};
    use crate::rules::rfm::ScoreScale;

    fn scale(higher_is_better: bool) -> ScoreScale {
        ScoreScale {
            method: "quantile".into(),
            bins: 5,
            upper_bounds: vec![1.0, 2.0, 3.0, 4.0],
            higher_is_better,
            ranges: Vec::new(),
        }
    }

    #[test]
    fn a_score_map_as_conditions_gives_every_cell_its_segment() {
        // One customer per R × F × M cell, and one without a purchase.
        let cells: Vec<(u8, u8, u8)> = (1..=5)
            .flat_map(|r| (1..=5).flat_map(move |f| (1..=5).map(move |m| (r, f, m))))
            .collect();
        let n = cells.len() + 1;
        let scores = |pick: fn(&(u8, u8, u8)) -> u8| -> Vec<Option<u8>> {
            cells.iter().map(|c| Some(pick(c))).chain([None]).collect()
        };
        let recency: Vec<Option<f64>> = (0..n).map(|i| (i + 1 < n).then_some(1.0)).collect();
        let table = FeatureTable {
            customer_ids: (0..n).map(|i| i.to_string()).collect(),
            features: vec![Feature::new(
                "recency_days",
                FeatureGroup::Rfm,
                FeatureKind::Numeric,
                recency.clone(),
            )],
            rule_only: Vec::new(),
            facts: PurchaseFacts {
                recency_days: recency,
                frequency: vec![1.0; n],
                monetary: vec![1.0; n],
                previous_gap_days: vec![None; n],
            },
            as_of: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            notes: Vec::new(),
            transactions_used: 0,
        };
        let cuts = ScoreCuts {
            r: scale(false),
            f: scale(true),
            m: scale(true),
        };
        for name in ["classic-rfm", "classic-rfm-11"] {
            let preset = preset::load(name, std::path::Path::new(".")).unwrap();
            let map = ScoreMap::new(&preset).unwrap();
            let saved = SavedRules {
                columns: vec!["recency_days".into()],
                sets: vec![SavedRuleSet::of_score_map(&preset, "rfm_group".into())],
            };
            let got = evaluate(
                &saved,
                &table,
                [scores(|c| c.0), scores(|c| c.1), scores(|c| c.2)],
                &cuts,
            )
            .unwrap();
            let mut want: Vec<String> = cells
                .iter()
                .map(|&(r, f, m)| map.segment(r, f, m).to_string())
                .collect();
            want.push(NO_PURCHASE.into());
            assert_eq!(got, vec![("rfm_group".to_string(), want)], "{name}");
        }
    }

    #[test]
    fn boxes_are_written_as_score_ranges() {
        let b = ScoreBox {
            r: Some([1, 2]),
            f: Some([5, 5]),
            m: None,
        };
        assert_eq!(
            box_condition(&b),
            "r_score BETWEEN 1 AND 2 AND f_score BETWEEN 5 AND 5"
        );
    }
}
