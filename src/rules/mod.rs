//! Stage 3 — rules: the analyst's classic segments (SPEC §4): RFM scores and cells, the R×F group
//! map, lifecycle stages, and the job's own custom rules.

mod custom;
mod lifecycle;
mod preset;
pub mod rfm;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

pub use lifecycle::stage as lifecycle_stage;
pub use preset::Preset;
use rfm::{Better, ScoreRange};

use crate::error::{PolarsContext, Result};
use crate::features::FeatureTable;
use crate::job::RuleOptions;

/// The segment of customers without any purchase, outside the R×F grid.
pub const NO_PURCHASE: &str = "No purchase";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreCuts {
    pub r: Vec<ScoreRange>,
    pub f: Vec<ScoreRange>,
    pub m: Vec<ScoreRange>,
}

pub struct RfmScores {
    pub r: Vec<Option<u8>>,
    pub f: Vec<Option<u8>>,
    pub m: Vec<Option<u8>>,
    pub cuts: ScoreCuts,
}

impl RfmScores {
    pub fn cell(&self, i: usize) -> Option<String> {
        Some(format!("{}{}{}", self.r[i]?, self.f[i]?, self.m[i]?))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SegmentInfo {
    pub name: String,
    pub description: String,
    pub action: String,
}

/// One rule set's segment for every customer.
pub struct RuleSet {
    pub name: String,
    pub title: String,
    pub labels: Vec<String>,
    pub segments: Vec<SegmentInfo>,
}

pub struct RuleResults {
    pub rfm: RfmScores,
    /// The R×F map the classic groups come from, `grid[r-1][f-1]`.
    pub rf_grid: [[String; 5]; 5],
    /// The first set is always the R×F group map that clusters are labelled against.
    pub sets: Vec<RuleSet>,
    pub warnings: Vec<String>,
}

impl RuleResults {
    pub fn rfm_groups(&self) -> &RuleSet {
        &self.sets[0]
    }

    pub fn set(&self, name: &str) -> Option<&RuleSet> {
        self.sets.iter().find(|s| s.name == name)
    }
}

pub fn apply(
    table: &FeatureTable,
    options: &RuleOptions,
    base_dir: &std::path::Path,
) -> Result<RuleResults> {
    let facts = &table.facts;
    let buyers = |values: &[f64]| -> Vec<Option<f64>> {
        values
            .iter()
            .zip(&facts.recency_days)
            .map(|(v, r)| r.map(|_| *v))
            .collect()
    };
    let r = rfm::score(&facts.recency_days, Better::Lower);
    let f = rfm::score(&buyers(&facts.frequency), Better::Higher);
    let m = rfm::score(&buyers(&facts.monetary), Better::Higher);
    let mut warnings: Vec<String> = [("R", &r.ranges), ("F", &f.ranges), ("M", &m.ranges)]
        .iter()
        .filter_map(|(letter, ranges)| rfm::skipped_scores_warning(letter, ranges))
        .collect();
    let rfm = RfmScores {
        r: r.scores,
        f: f.scores,
        m: m.scores,
        cuts: ScoreCuts {
            r: r.ranges,
            f: f.ranges,
            m: m.ranges,
        },
    };

    let mut presets: Vec<Preset> = options
        .presets
        .iter()
        .map(|p| preset::load(p, base_dir))
        .collect::<Result<_>>()?;
    let map_index = match presets.iter().position(Preset::is_rf_map) {
        Some(i) => i,
        None => {
            presets.insert(0, preset::load("classic-rfm", base_dir)?);
            0
        }
    };
    presets.swap(0, map_index);
    let rf_grid = presets[0].rf_grid()?;
    let mut sets = Vec::new();
    for preset in &presets {
        let labels: Vec<String> = if preset.is_rf_map() {
            let grid = preset.rf_grid()?;
            (0..table.len())
                .map(|i| match (rfm.r[i], rfm.f[i]) {
                    (Some(r), Some(f)) => grid[r as usize - 1][f as usize - 1].clone(),
                    _ => NO_PURCHASE.to_string(),
                })
                .collect()
        } else if preset.name == "lifecycle" {
            (0..table.len())
                .map(|i| {
                    lifecycle::stage(
                        facts.recency_days[i],
                        facts.previous_gap_days[i],
                        &options.lifecycle,
                    )
                    .to_string()
                })
                .collect()
        } else {
            warnings.push(format!(
                "rule preset '{}' is neither an R×F map nor the lifecycle preset and was skipped",
                preset.name
            ));
            continue;
        };
        let mut segments: Vec<SegmentInfo> = preset
            .segments
            .iter()
            .map(|s| SegmentInfo {
                name: s.name.clone(),
                description: s.description.clone(),
                action: s.action.clone(),
            })
            .collect();
        if preset.is_rf_map() && labels.iter().any(|l| l == NO_PURCHASE) {
            segments.push(SegmentInfo {
                name: NO_PURCHASE.into(),
                description: "Known customers without a purchase in the window.".into(),
                action: "First-purchase incentive.".into(),
            });
        }
        sets.push(RuleSet {
            name: preset.name.clone(),
            title: preset.title.clone(),
            labels,
            segments,
        });
    }
    if !options.custom.is_empty() {
        let frame = rule_frame(table, &rfm, &sets)?;
        let labels = custom::evaluate(&frame, &options.custom, &options.custom_default)?;
        let mut segments: Vec<SegmentInfo> = options
            .custom
            .iter()
            .map(|c| SegmentInfo {
                name: c.name.clone(),
                description: format!("Customers where {}", c.when),
                action: String::new(),
            })
            .collect();
        segments.push(SegmentInfo {
            name: options.custom_default.clone(),
            description: "Customers no custom rule matched.".into(),
            action: String::new(),
        });
        sets.push(RuleSet {
            name: "custom".into(),
            title: "Custom rules".into(),
            labels,
            segments,
        });
    }
    Ok(RuleResults {
        rfm,
        rf_grid,
        sets,
        warnings,
    })
}

/// Features in original units plus the scores and preset segments, for custom rule expressions.
fn rule_frame(table: &FeatureTable, rfm: &RfmScores, sets: &[RuleSet]) -> Result<DataFrame> {
    let mut columns: Vec<Column> = table
        .features
        .iter()
        .map(|f| Column::new(f.name.as_str().into(), &f.values))
        .collect();
    let scores =
        |s: &[Option<u8>]| -> Vec<Option<i32>> { s.iter().map(|v| v.map(i32::from)).collect() };
    columns.push(Column::new("r_score".into(), scores(&rfm.r)));
    columns.push(Column::new("f_score".into(), scores(&rfm.f)));
    columns.push(Column::new("m_score".into(), scores(&rfm.m)));
    for set in sets {
        columns.push(Column::new(set.name.replace('-', "_").into(), &set.labels));
    }
    let mut seen = std::collections::HashSet::new();
    columns.retain(|c| seen.insert(c.name().to_string()));
    DataFrame::new_infer_height(columns).context("building the table for custom rules")
}
