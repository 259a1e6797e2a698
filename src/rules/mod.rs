//! Stage 3 — rules: the analyst's classic segments. R, F and M scores with visible cut
//! points (`rfm`), rule sets from preset data files (`preset`: score maps and ordered
//! conditions), and the job's own rules, all evaluated over one rule table (`table`).

pub mod conditions;
pub mod preset;
pub mod rfm;
pub mod saved;
mod table;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use preset::{Preset, PresetKind, ScoreMap};
use rfm::{Better, ScoreScale};
pub use saved::{SavedRule, SavedRuleSet, SavedRules};
pub use table::STANDARD_COLUMNS;

use crate::error::{Error, Result};
use crate::features::{FeatureTable, PurchaseFacts};
use crate::job::RuleOptions;

/// The segment of customers without any purchase, outside the score grid.
pub const NO_PURCHASE: &str = "No purchase";

/// How R, F and M were scored: the fitted scales new data is scored with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreCuts {
    pub r: ScoreScale,
    pub f: ScoreScale,
    pub m: ScoreScale,
}

/// Scores per customer and the cut points; only the cut points are serialised (a stage file
/// keeps the scores as columns).
#[derive(Serialize, Deserialize)]
pub struct RfmScores {
    #[serde(skip)]
    pub r: Vec<Option<u8>>,
    #[serde(skip)]
    pub f: Vec<Option<u8>>,
    #[serde(skip)]
    pub m: Vec<Option<u8>>,
    pub cuts: ScoreCuts,
}

impl RfmScores {
    pub fn bins(&self) -> u8 {
        self.cuts.r.bins
    }

    pub fn cell(&self, i: usize) -> Option<String> {
        Some(format!("{}{}{}", self.r[i]?, self.f[i]?, self.m[i]?))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SegmentInfo {
    pub name: String,
    pub description: String,
    pub action: String,
    /// The segment's definition as written: score ranges or the condition.
    pub rule: String,
}

impl SegmentInfo {
    /// A preset segment's texts with its definition as the analyst reads it.
    fn of(spec: &preset::SegmentSpec, rule: String) -> SegmentInfo {
        SegmentInfo {
            name: spec.name.clone(),
            description: spec.description.clone(),
            action: spec.action.clone(),
            rule,
        }
    }
}

/// One rule set's segment for every customer.
#[derive(Serialize, Deserialize)]
pub struct RuleSet {
    pub name: String,
    pub title: String,
    /// "score map", "conditions" or "custom rules".
    pub kind: String,
    /// Thresholds used (preset values with the job's overrides).
    pub thresholds: BTreeMap<String, f64>,
    #[serde(skip)]
    pub labels: Vec<String>,
    pub segments: Vec<SegmentInfo>,
}

impl RuleSet {
    /// The suggested action of one of its segments; empty for an unknown name.
    pub fn action_of(&self, segment: &str) -> String {
        self.segments
            .iter()
            .find(|s| s.name == segment)
            .map(|s| s.action.clone())
            .unwrap_or_default()
    }

    /// Its column in the assignment table and its name inside rule conditions.
    pub fn column_name(&self) -> String {
        match self.name.as_str() {
            "classic-rfm" => "rfm_group".to_string(),
            "lifecycle" => "lifecycle_stage".to_string(),
            other => format!("{}_segment", crate::features::slug(other)),
        }
    }
}

/// A rule set of the job that its inputs cannot compute (a customers table without recency has
/// no RFM groups and no lifecycle stages).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SkippedSet {
    pub name: String,
    pub title: String,
    /// The column it needs (alternatives joined by " or ").
    pub needs: String,
}

impl SkippedSet {
    pub fn note(&self) -> String {
        let remedy = if self.needs.contains("days_since_event") {
            "give an events table or a transaction log"
        } else {
            "map it on the customers table, or give a transaction log"
        };
        format!(
            "{} ({}) left out: it needs `{}`, which the inputs do not give ({remedy})",
            self.title, self.name, self.needs
        )
    }
}

#[derive(Serialize, Deserialize)]
pub struct RuleResults {
    pub rfm: RfmScores,
    /// The score map clusters are labelled against, when the inputs give recency and frequency;
    /// its set is then `sets[0]`.
    pub map: Option<ScoreMap>,
    pub sets: Vec<RuleSet>,
    #[serde(default)]
    pub skipped: Vec<SkippedSet>,
    pub warnings: Vec<String>,
    /// The sets resolved for new data (model.json keeps them).
    #[serde(default)]
    pub saved: SavedRules,
}

impl RuleResults {
    /// The classic RFM groups (the score map's set), when the inputs allow them.
    pub fn rfm_groups(&self) -> Option<&RuleSet> {
        self.map.as_ref().and(self.sets.first())
    }

    pub fn set(&self, name: &str) -> Option<&RuleSet> {
        self.sets.iter().find(|s| s.name == name)
    }
}

/// Loads the job's presets, checks the threshold tables against them and the maps against the
/// scoring bins; the score map clusters are labelled against comes first (classic-rfm is added
/// when the job lists none).
pub fn presets(options: &RuleOptions, base_dir: &Path) -> Result<Vec<Preset>> {
    let mut presets: Vec<Preset> = options
        .presets
        .iter()
        .map(|p| preset::load(p, base_dir))
        .collect::<Result<_>>()?;
    match presets
        .iter()
        .position(|p| p.kind() == PresetKind::ScoreMap)
    {
        Some(i) => {
            let map = presets.remove(i);
            presets.insert(0, map);
        }
        None => presets.insert(0, preset::load("classic-rfm", base_dir)?),
    }
    let mut names = std::collections::HashSet::new();
    for p in &presets {
        if !names.insert(p.name.as_str()) {
            return Err(Error::data(format!(
                "[rules] presets: '{}' is listed twice",
                p.name
            )));
        }
        if p.kind() == PresetKind::ScoreMap && p.bins != options.scoring.bins {
            return Err(Error::data(format!(
                "rule preset {} is a map for {} scores, but [rules.scoring] bins = {}; use a map written for {} scores (`bins = {}` in its file)",
                p.name, p.bins, options.scoring.bins, options.scoring.bins, options.scoring.bins
            )));
        }
    }
    for (key, value) in &options.thresholds {
        let Some(p) = presets.iter().find(|p| &p.name == key) else {
            let mut candidates = vec!["presets", "scoring", "custom", "custom_default"];
            candidates.extend(presets.iter().map(|p| p.name.as_str()));
            return Err(Error::data(format!(
                "[rules] unknown key `{key}`{}; besides presets, scoring, custom and custom_default, [rules] takes one table per preset in use to change its thresholds",
                crate::job::suggest(key, &candidates)
            )));
        };
        p.thresholds_with(Some(value)).map_err(Error::data)?;
    }
    Ok(presets)
}

/// The job's rules checked before any data is read: every preset is found and parses, every
/// threshold table names a preset in use and thresholds it has, and every custom condition
/// parses. Conditions name columns that only the data shows, so those are checked when applied.
pub fn check_options(options: &RuleOptions, base_dir: &Path) -> Result<()> {
    presets(options, base_dir)?;
    table::custom_conditions(options)
        .iter()
        .try_for_each(conditions::check_syntax)
}

pub fn apply(table: &FeatureTable, options: &RuleOptions, base_dir: &Path) -> Result<RuleResults> {
    let presets = presets(options, base_dir)?;
    let given = given_columns(table);
    let rfm = score(table, options);
    let mut warnings: Vec<String> = [
        ("R", "recency_days", &rfm.cuts.r),
        ("F", "frequency", &rfm.cuts.f),
        ("M", "monetary", &rfm.cuts.m),
    ]
    .iter()
    .filter(|(_, measure, _)| given.contains(*measure))
    .filter_map(|(letter, _, scale)| rfm::empty_scores_warning(letter, scale))
    .collect();
    let mut first_map = None;
    let mut frame = table::frame(table, &rfm)?;
    let mut sets = Vec::new();
    let mut skipped = Vec::new();
    let mut saved = SavedRules {
        columns: data_columns(table),
        sets: Vec::new(),
    };
    for preset in &presets {
        if let Some(needs) = unmet_need(preset, &given) {
            let set = SkippedSet {
                name: preset.name.clone(),
                title: preset.title.clone(),
                needs,
            };
            warnings.push(set.note());
            skipped.push(set);
            continue;
        }
        let set = match preset.kind() {
            PresetKind::ScoreMap => {
                let map = ScoreMap::new(preset).map_err(Error::data)?;
                let set = score_map_set(preset, &map, &rfm);
                first_map.get_or_insert(map);
                saved
                    .sets
                    .push(SavedRuleSet::of_score_map(preset, set.column_name()));
                set
            }
            PresetKind::Conditions => {
                let overrides = options.thresholds.get(&preset.name);
                let thresholds = preset.thresholds_with(overrides).map_err(Error::data)?;
                let (set, unknown) = table::conditions_set(&frame, preset, thresholds)?;
                warnings.extend(unknown);
                saved.sets.push(SavedRuleSet::of_conditions(
                    preset,
                    set.column_name(),
                    set.thresholds.clone(),
                ));
                set
            }
        };
        table::add_set(&mut frame, &set)?;
        sets.push(set);
    }
    if !options.custom.is_empty() {
        let (set, unknown) = table::custom_set(&frame, options)?;
        warnings.extend(unknown);
        saved
            .sets
            .push(SavedRuleSet::of_custom(options, set.column_name()));
        sets.push(set);
    }
    Ok(RuleResults {
        rfm,
        map: first_map,
        sets,
        skipped,
        warnings,
        saved,
    })
}

/// The rule table's columns that the inputs give: the features, the rule-only columns, and the
/// gap between the last two purchases, which comes from a transaction log as the tenure does.
fn data_columns(table: &FeatureTable) -> Vec<String> {
    let mut columns: Vec<String> = table.all_columns().map(|f| f.name.clone()).collect();
    if columns.iter().any(|c| c == "tenure_days")
        && !columns.iter().any(|c| c == "previous_gap_days")
    {
        columns.push("previous_gap_days".into());
    }
    columns
}

/// The rule columns the job's inputs give; every other standard column is missing for every
/// customer (a customers table alone may give no purchase measure at all).
fn given_columns(table: &FeatureTable) -> HashSet<String> {
    let mut given: HashSet<String> = data_columns(table).into_iter().collect();
    let scores = [
        ("recency_days", "r_score"),
        ("frequency", "f_score"),
        ("monetary", "m_score"),
    ];
    for (measure, score) in scores {
        if given.contains(measure) {
            given.insert(score.into());
        }
    }
    if scores.iter().all(|(measure, _)| given.contains(*measure)) {
        given.insert("rfm_cell".into());
    }
    given
}

/// The first need of a preset that none of its alternatives meets, in words.
fn unmet_need(preset: &Preset, given: &HashSet<String>) -> Option<String> {
    preset
        .needs()
        .into_iter()
        .find(|alternatives| !alternatives.iter().any(|c| given.contains(c)))
        .map(|alternatives| alternatives.join("` or `"))
}

/// The values R, F and M are scored on, None for customers without a purchase: days since the
/// last purchase, orders, and net spend rounded to 1/10000 — sums of floats differ in the last
/// bits with the order of addition, and equal spends must tie. New data applied to a saved model
/// is scored on the same values.
pub fn rfm_values(facts: &PurchaseFacts) -> [Vec<Option<f64>>; 3] {
    // A buyer has a last purchase; a table that gives no recency at all tells buyers by their
    // orders or spend.
    let with_recency = facts.recency_days.iter().any(Option::is_some);
    let bought = |i: usize| {
        if with_recency {
            facts.recency_days[i].is_some()
        } else {
            facts.frequency[i] > 0.0 || facts.monetary[i] != 0.0
        }
    };
    let buyers = |value: &dyn Fn(usize) -> f64| -> Vec<Option<f64>> {
        (0..facts.recency_days.len())
            .map(|i| bought(i).then(|| value(i)))
            .collect()
    };
    [
        facts.recency_days.clone(),
        buyers(&|i| facts.frequency[i]),
        buyers(&|i| (facts.monetary[i] * 1e4).round() / 1e4),
    ]
}

fn score(table: &FeatureTable, options: &RuleOptions) -> RfmScores {
    let scoring = &options.scoring;
    let scored = |values: &[Option<f64>], better, cuts: &Option<Vec<f64>>| {
        rfm::score(
            values,
            better,
            scoring.bins,
            scoring.method,
            cuts.as_deref(),
        )
    };
    let [recency, frequency, monetary] = rfm_values(&table.facts);
    let r = scored(&recency, Better::Lower, &scoring.r_cuts);
    let f = scored(&frequency, Better::Higher, &scoring.f_cuts);
    let m = scored(&monetary, Better::Higher, &scoring.m_cuts);
    RfmScores {
        r: r.scores,
        f: f.scores,
        m: m.scores,
        cuts: ScoreCuts {
            r: r.scale,
            f: f.scale,
            m: m.scale,
        },
    }
}

fn score_map_set(preset: &Preset, map: &ScoreMap, rfm: &RfmScores) -> RuleSet {
    let labels: Vec<String> = (0..rfm.r.len())
        .map(|i| match (rfm.r[i], rfm.f[i], rfm.m[i]) {
            (Some(r), Some(f), Some(m)) => map.segment(r, f, m).to_string(),
            _ => NO_PURCHASE.to_string(),
        })
        .collect();
    let mut segments: Vec<SegmentInfo> = preset
        .segments
        .iter()
        .map(|s| SegmentInfo::of(s, ScoreMap::definition(s)))
        .collect();
    if labels.iter().any(|l| l == NO_PURCHASE) {
        segments.push(no_purchase_segment());
    }
    RuleSet {
        name: preset.name.clone(),
        title: preset.title.clone(),
        kind: "score map".into(),
        thresholds: BTreeMap::new(),
        labels,
        segments,
    }
}

fn no_purchase_segment() -> SegmentInfo {
    SegmentInfo {
        name: NO_PURCHASE.into(),
        description: "Known customers without a purchase in the window.".into(),
        action: "First-purchase incentive.".into(),
        rule: "no purchase, so no scores".into(),
    }
}
