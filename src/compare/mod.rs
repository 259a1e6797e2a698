//! Stage 7 — compare: who moved between two runs of a job ("who moved since last month?").
//!
//! Each run is reduced to a [`Snapshot`] — every customer's discovered segment and rule
//! segments — read back from its report folder or taken from the run in memory. [`compare`]
//! then counts, per segmentation, previous segment × current segment, with a row "New customer"
//! for customers only in the current run and a column "Lost customer" for those only in the previous
//! one; every matrix therefore adds up to the customers of both runs together.
//!
//! Rule segments keep their names between runs. Discovered clusters do not: "Cluster 2" of one
//! run has nothing to do with "Cluster 2" of the next, so each current cluster is paired with
//! the previous cluster it continues — through the previous run's saved model when this run's
//! features are at hand, else by the customers the two share ([`Matching`]).

// One file per idea: reading a run's report folder, counting the migration matrices, and
// pairing the clusters of two runs; the types and `compare` itself stay here.
mod matching;
mod matrix;
mod snapshot;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use crate::error::{PolarsContext, Result};

use matching::{cluster_migration, match_clusters, match_notes, matching_note, sorted_clusters};
use matrix::{rule_migration, Union};

pub use matrix::cluster_number;
pub use snapshot::first_title_per_segment;

/// The row of customers who are only in the current run.
pub const NEW_CUSTOMER: &str = "New customer";
/// The column of customers who are only in the previous run. Not plain "Lost": value-tiers has
/// a segment of that name.
pub const LOST: &str = "Lost customer";
/// The assignment column of the primary (discovered) segmentation.
pub const PRIMARY_COLUMN: &str = "segment";

/// One run's segments per customer.
pub struct Snapshot {
    pub folder: PathBuf,
    pub job: String,
    pub as_of: String,
    /// "kmeans", "dbscan" or "gmm": which method the `segment` column holds.
    pub primary: String,
    pub customer_ids: Vec<String>,
    /// The discovered segment of every customer ("Cluster 3", "Outliers", "Component 1").
    pub segments: Vec<String>,
    /// Plain-words title of each discovered segment ("Champions (discount buyers)").
    pub titles: BTreeMap<String, String>,
    pub rule_sets: Vec<RuleColumn>,
}

/// One rule set's segment of every customer.
pub struct RuleColumn {
    /// Its column in assignments.csv (`rfm_group`, `lifecycle_stage`, `<name>_segment`).
    pub column: String,
    pub title: String,
    /// The segment names in the preset's order.
    pub order: Vec<String>,
    pub labels: Vec<String>,
}

/// How the clusters of the two runs were paired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Matching {
    /// This run's customers assigned with the previous run's model.json (centroids and
    /// preparation): each current cluster ↔ the previous cluster most of its customers fall in.
    PreviousModel,
    /// Each current cluster ↔ the previous cluster most of its returning customers were in.
    CustomerOverlap,
}

/// A current cluster and the previous cluster it continues.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterMatch {
    pub current: String,
    /// None when none of its customers could be placed in a previous cluster.
    pub previous: Option<String>,
    /// Share of the `counted` customers that the matched previous cluster holds.
    pub share: f64,
    /// Customers the match was decided on: all of the cluster's customers (previous model) or
    /// its returning ones (customer overlap).
    pub counted: usize,
}

/// previous segment × current segment counts of one segmentation.
#[derive(Debug, Clone, Serialize)]
pub struct Migration {
    /// The column in assignments.csv (`segment` for the discovered clusters).
    pub column: String,
    pub title: String,
    /// Previous segments, then [`NEW_CUSTOMER`].
    pub rows: Vec<String>,
    /// Current segments, then [`LOST`].
    pub columns: Vec<String>,
    /// Plain-words titles of `rows` / `columns` (discovered clusters only; empty otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub row_titles: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub column_titles: Vec<String>,
    /// `counts[row][column]`; adds up to the customers of both runs.
    pub counts: Vec<Vec<usize>>,
    /// Customers in both runs whose segment is the same (for clusters: the matched one).
    pub stayed: usize,
    /// Customers in both runs whose segment changed.
    pub moved: usize,
    /// Each customer's previous and current segment, parallel to `Comparison::customer_ids`.
    #[serde(skip)]
    pub from: Vec<Option<String>>,
    #[serde(skip)]
    pub to: Vec<Option<String>>,
}

impl Migration {
    /// Customers per row (previous segments, then new customers).
    pub fn row_sums(&self) -> Vec<usize> {
        self.counts.iter().map(|r| r.iter().sum()).collect()
    }

    /// Customers per column (current segments, then lost customers).
    pub fn column_sums(&self) -> Vec<usize> {
        (0..self.columns.len())
            .map(|j| self.counts.iter().filter_map(|r| r.get(j)).sum())
            .collect()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub folder: PathBuf,
    pub job: String,
    pub as_of: String,
    pub customers: usize,
}

/// Who moved between two runs: compare.json, and summary.json `migrations` of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub previous: RunInfo,
    pub current: RunInfo,
    /// Customers of either run: what every matrix adds up to.
    pub customers: usize,
    pub customers_in_both: usize,
    pub new_customers: usize,
    pub lost_customers: usize,
    pub matching: Matching,
    /// One sentence on how the clusters were paired.
    pub matching_note: String,
    pub matches: Vec<ClusterMatch>,
    pub clusters: Migration,
    /// Every rule set present in both runs, in the current run's order.
    pub rule_sets: Vec<Migration>,
    pub notes: Vec<String>,
    /// Customers of either run, sorted; the order of `Migration::from` / `to`.
    #[serde(skip)]
    pub customer_ids: Vec<String>,
}

/// Compares two runs. `model_view`, when given, is the previous run's segment of every current
/// customer as its saved model assigns them (parallel to `current.customer_ids`); the clusters
/// are then matched through it, else by the customers both runs share.
pub fn compare(
    previous: &Snapshot,
    current: &Snapshot,
    model_view: Option<Vec<String>>,
) -> Comparison {
    let union = Union::of(previous, current);
    let (matching, previous_view) = match model_view {
        Some(view) if view.len() == current.customer_ids.len() => (
            Matching::PreviousModel,
            view.into_iter().map(Some).collect(),
        ),
        _ => {
            let previous_row: HashMap<&str, usize> = previous
                .customer_ids
                .iter()
                .enumerate()
                .map(|(i, id)| (id.as_str(), i))
                .collect();
            let view: Vec<Option<String>> = current
                .customer_ids
                .iter()
                .map(|id| {
                    previous_row
                        .get(id.as_str())
                        .and_then(|&i| previous.segments.get(i).cloned())
                })
                .collect();
            (Matching::CustomerOverlap, view)
        }
    };
    let current_names = sorted_clusters(&current.segments);
    let matches = match_clusters(&current.segments, &previous_view, &current_names);
    let clusters = cluster_migration(previous, current, &union, &matches);

    let mut notes = match_notes(previous, &clusters, &matches);
    let mut rule_sets = Vec::new();
    for set in &current.rule_sets {
        match previous.rule_set(&set.column) {
            Some(before) => rule_sets.push(rule_migration(before, set, &union)),
            None => notes.push(format!(
                "{} ({}) is new in this run; it has no previous segments to compare with.",
                set.title, set.column
            )),
        }
    }
    for set in &previous.rule_sets {
        if current.rule_set(&set.column).is_none() {
            notes.push(format!(
                "{} ({}) was in the previous run only.",
                set.title, set.column
            ));
        }
    }
    if previous.as_of >= current.as_of {
        notes.push(format!(
            "The previous run is dated {}, not before the current one ({}).",
            previous.as_of, current.as_of
        ));
    }
    let both = union
        .previous
        .iter()
        .zip(&union.current)
        .filter(|(p, c)| p.is_some() && c.is_some())
        .count();
    Comparison {
        previous: previous.info(),
        current: current.info(),
        customers: union.ids.len(),
        customers_in_both: both,
        new_customers: union.current.iter().flatten().count() - both,
        lost_customers: union.previous.iter().flatten().count() - both,
        matching_note: matching_note(matching, &previous.as_of),
        matching,
        matches,
        clusters,
        rule_sets,
        notes,
        customer_ids: union.ids,
    }
}

impl Comparison {
    /// The current cluster's matched previous cluster.
    pub fn match_of(&self, current: &str) -> Option<&str> {
        self.matches
            .iter()
            .find(|m| m.current == current)
            .and_then(|m| m.previous.as_deref())
    }

    /// migrations.csv: one row per customer of either run — `customer_id, change, from,
    /// from_name, to, to_name`, then `<column>_from, <column>_to` per rule set. `change` is new,
    /// lost, stayed (in the matched cluster) or moved; a new customer has no `from`, a lost one
    /// no `to`. One row per customer keys cleanly onto a CRM contact.
    pub fn moves_frame(&self) -> Result<DataFrame> {
        let c = &self.clusters;
        let change: Vec<&str> = c
            .from
            .iter()
            .zip(&c.to)
            .map(|(f, t)| match (f, t) {
                (None, _) => "new",
                (_, None) => "lost",
                (Some(f), Some(t)) if self.match_of(t) == Some(f.as_str()) => "stayed",
                _ => "moved",
            })
            .collect();
        let title = |labels: &[Option<String>], names: &[String], titles: &[String]| {
            let of: HashMap<&String, &String> = names.iter().zip(titles).collect();
            labels
                .iter()
                .map(|l| l.as_ref().and_then(|l| of.get(l).map(|t| t.to_string())))
                .collect::<Vec<Option<String>>>()
        };
        let mut columns = vec![
            Column::new("customer_id".into(), &self.customer_ids),
            Column::new("change".into(), change),
            Column::new("from".into(), &c.from),
            Column::new("from_name".into(), title(&c.from, &c.rows, &c.row_titles)),
            Column::new("to".into(), &c.to),
            Column::new("to_name".into(), title(&c.to, &c.columns, &c.column_titles)),
        ];
        for set in &self.rule_sets {
            columns.push(Column::new(
                format!("{}_from", set.column).into(),
                &set.from,
            ));
            columns.push(Column::new(format!("{}_to", set.column).into(), &set.to));
        }
        DataFrame::new_infer_height(columns).context("building migrations.csv")
    }
}

/// Two report folders (`segmenta compare`): the clusters are matched by customer overlap, as
/// the current features are not at hand.
pub fn compare_folders(previous: &Path, current: &Path) -> Result<Comparison> {
    let previous = Snapshot::read(previous)?;
    let current = Snapshot::read(current)?;
    Ok(compare(&previous, &current, None))
}
