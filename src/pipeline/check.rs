//! `segmenta check`: the job file and every input read, mapped and aggregated, the lifetime model
//! fitted, and every rule evaluated — everything that can fail on bad input — without clustering
//! or writing a report.

use chrono::NaiveDate;

use super::RunOptions;
use crate::features::Preparation;
use crate::job::Job;
use crate::load::DataQuality;
use crate::rules;
use crate::Result;

#[derive(Debug)]
pub struct CheckReport {
    pub quality: DataQuality,
    pub as_of: NaiveDate,
    pub customers: usize,
    /// Net revenue in the as-of window; None when the inputs carry no spend.
    pub revenue: Option<f64>,
    /// Features computed, and the ones the clusters would be fitted on.
    pub features: usize,
    pub clustered: Vec<String>,
    /// (title, assignment column, segments with at least one customer, segments defined).
    pub rule_sets: Vec<(String, String, usize, usize)>,
    /// The lifetime model in one line, when the job has one and it was fitted.
    pub lifetime: Option<String>,
    pub warnings: Vec<String>,
}

pub fn check(job: &Job, options: &RunOptions) -> Result<CheckReport> {
    // The stages up to rules as a run has them (the lifetime model too: rules may read its
    // columns), printing nothing.
    let described = super::describe(job, options, &mut super::Stopwatch::new(true))?;
    let lifetime = described.lifetime.as_ref().map(|l| l.headline());
    let lifetime_warnings = described.lifetime.map(|l| l.warnings).unwrap_or_default();
    let (table, quality, as_of) = (described.features, described.quality, described.as_of);
    let (preparation, fit_report) = Preparation::fit(&table, &job.features)?;
    let matrix = preparation.transform(&table)?;
    let rule_results = rules::apply(&table, &job.rules, job.base_dir())?;
    let rule_sets = rule_results
        .sets
        .iter()
        .map(|set| {
            let present: std::collections::HashSet<&String> = set.labels.iter().collect();
            let used = set
                .segments
                .iter()
                .filter(|s| present.contains(&s.name))
                .count();
            (
                set.title.clone(),
                set.column_name(),
                used,
                set.segments.len(),
            )
        })
        .collect();
    let warnings = table
        .notes
        .iter()
        .chain(&fit_report.warnings)
        .chain(&rule_results.warnings)
        .chain(&lifetime_warnings)
        .cloned()
        .collect();
    Ok(CheckReport {
        quality,
        as_of,
        customers: table.len(),
        revenue: table.gives("monetary").then(|| table.net_revenue()),
        features: table.features.len(),
        clustered: matrix.names,
        rule_sets,
        lifetime,
        warnings,
    })
}
