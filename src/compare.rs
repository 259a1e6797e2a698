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

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, PolarsContext, Result};

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

// ------------------------------------------------------------------------------------------------
// Snapshots
// ------------------------------------------------------------------------------------------------

/// The part of summary.json a comparison needs.
#[derive(Deserialize)]
struct SummaryHead {
    job: String,
    as_of: String,
    #[serde(default)]
    primary: String,
    #[serde(default)]
    rule_sets: Vec<RuleSetHead>,
    #[serde(default)]
    clusters: Vec<ClusterHead>,
}

#[derive(Deserialize)]
struct RuleSetHead {
    column: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    segments: Vec<NameHead>,
}

#[derive(Deserialize)]
struct NameHead {
    name: String,
}

#[derive(Deserialize)]
struct ClusterHead {
    name: String,
    #[serde(default)]
    title: String,
}

fn input(path: &Path, message: impl Into<String>) -> Error {
    Error::file(path.to_path_buf(), message.into())
}

impl Snapshot {
    /// Reads a report folder (`reports/<job>/<as-of>/`): its assignments.csv and summary.json.
    pub fn read(folder: &Path) -> Result<Snapshot> {
        if !folder.is_dir() {
            return Err(input(
                folder,
                "no such report folder (a run writes reports/<job>/<as-of>/)",
            ));
        }
        let csv = folder.join("assignments.csv");
        if !csv.is_file() {
            return Err(input(
                &csv,
                "missing: the folder is not a finished segmenta report (it needs assignments.csv and summary.json)",
            ));
        }
        let summary = read_summary(&folder.join("summary.json"))?;
        let frame = read_assignments(&csv)?;
        let text = |name: &str| text_column(&frame, name, &csv);
        let customer_ids =
            text("customer_id")?.ok_or_else(|| input(&csv, "no customer_id column"))?;
        let segments = text(PRIMARY_COLUMN)?.ok_or_else(|| input(&csv, "no segment column"))?;
        check_ids(&customer_ids, &csv)?;
        let titles = match text("segment_name")? {
            Some(names) => first_title_per_segment(&segments, &names),
            // Older assignments without names: the run's k-means clusters carry the titles.
            None => summary
                .clusters
                .iter()
                .map(|c| (c.name.clone(), c.title.clone()))
                .collect(),
        };
        let mut rule_sets = Vec::new();
        for set in &summary.rule_sets {
            if let Some(labels) = text(&set.column)? {
                rule_sets.push(RuleColumn {
                    column: set.column.clone(),
                    title: set.title.clone(),
                    order: set.segments.iter().map(|s| s.name.clone()).collect(),
                    labels,
                });
            }
        }
        Ok(Snapshot {
            folder: folder.to_path_buf(),
            job: summary.job,
            as_of: summary.as_of,
            primary: summary.primary,
            customer_ids,
            segments,
            titles,
            rule_sets,
        })
    }

    fn rule_set(&self, column: &str) -> Option<&RuleColumn> {
        self.rule_sets.iter().find(|s| s.column == column)
    }

    fn info(&self) -> RunInfo {
        RunInfo {
            folder: self.folder.clone(),
            job: self.job.clone(),
            as_of: self.as_of.clone(),
            customers: self.customer_ids.len(),
        }
    }
}

fn read_summary(path: &Path) -> Result<SummaryHead> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        input(
            path,
            format!("cannot read ({e}); a finished segmenta report folder holds summary.json"),
        )
    })?;
    serde_json::from_str(&text).map_err(|e| input(path, format!("not a segmenta summary: {e}")))
}

/// Every column as text: ids like "00123" must stay as written.
fn read_assignments(path: &Path) -> Result<DataFrame> {
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|reader| reader.finish())
        .context(format!("{}: not a readable CSV file", path.display()))
}

/// A text column with the CSV's formula neutralisation undone (None when the column is absent).
fn text_column(frame: &DataFrame, name: &str, path: &Path) -> Result<Option<Vec<String>>> {
    let Ok(column) = frame.column(name) else {
        return Ok(None);
    };
    let values = column
        .str()
        .context(format!("{}: column {name}", path.display()))?;
    Ok(Some(
        values
            .iter()
            .map(|v| restore_formula(v.unwrap_or_default()))
            .collect(),
    ))
}

/// The inverse of the export's formula neutralisation: "'=x" was written for "=x". Ids must read
/// the same whether they come from a CSV or from a run in memory.
fn restore_formula(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_string(),
        _ => cell.to_string(),
    }
}

fn check_ids(ids: &[String], path: &Path) -> Result<()> {
    let mut seen = HashMap::with_capacity(ids.len());
    for (row, id) in ids.iter().enumerate() {
        if id.is_empty() {
            return Err(input(
                path,
                format!("customer_id is empty in data row {}", row + 1),
            ));
        }
        if let Some(first) = seen.insert(id.as_str(), row) {
            return Err(input(
                path,
                format!(
                    "customer {id} appears twice (data rows {} and {})",
                    first + 1,
                    row + 1
                ),
            ));
        }
    }
    Ok(())
}

pub fn first_title_per_segment(segments: &[String], names: &[String]) -> BTreeMap<String, String> {
    let mut titles = BTreeMap::new();
    for (segment, name) in segments.iter().zip(names) {
        titles
            .entry(segment.clone())
            .or_insert_with(|| name.clone());
    }
    titles
}

// ------------------------------------------------------------------------------------------------
// Comparing
// ------------------------------------------------------------------------------------------------

/// The number in "Cluster 3" / "Component 3"; None for "Outliers" and other names.
pub fn cluster_number(name: &str) -> Option<usize> {
    name.rsplit_once(' ')?.1.parse().ok()
}

/// Clusters by number, named segments ("Outliers") after them.
fn cluster_order(a: &String, b: &String) -> std::cmp::Ordering {
    let key = |s: &String| (cluster_number(s).is_none(), cluster_number(s), s.clone());
    key(a).cmp(&key(b))
}

/// Customers of either run, sorted, with their row in each run.
struct Union {
    ids: Vec<String>,
    previous: Vec<Option<usize>>,
    current: Vec<Option<usize>>,
}

impl Union {
    fn of(previous: &Snapshot, current: &Snapshot) -> Union {
        let mut rows: BTreeMap<&str, (Option<usize>, Option<usize>)> = BTreeMap::new();
        for (i, id) in previous.customer_ids.iter().enumerate() {
            rows.entry(id).or_default().0 = Some(i);
        }
        for (i, id) in current.customer_ids.iter().enumerate() {
            rows.entry(id).or_default().1 = Some(i);
        }
        let mut union = Union {
            ids: Vec::with_capacity(rows.len()),
            previous: Vec::with_capacity(rows.len()),
            current: Vec::with_capacity(rows.len()),
        };
        for (id, (p, c)) in rows {
            union.ids.push(id.to_string());
            union.previous.push(p);
            union.current.push(c);
        }
        union
    }

    /// Each customer's label in one run (None: not in that run).
    fn labels(rows: &[Option<usize>], labels: &[String]) -> Vec<Option<String>> {
        rows.iter()
            .map(|r| r.and_then(|i| labels.get(i).cloned()))
            .collect()
    }
}

/// The counts of `from` × `to` over `rows` (+ New customer) × `columns` (+ Lost).
fn count_matrix(
    rows: &[String],
    columns: &[String],
    from: &[Option<String>],
    to: &[Option<String>],
) -> Vec<Vec<usize>> {
    let index = |names: &[String]| -> HashMap<String, usize> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect()
    };
    let (row_of, column_of) = (index(rows), index(columns));
    let mut counts = vec![vec![0; columns.len() + 1]; rows.len() + 1];
    for (f, t) in from.iter().zip(to) {
        // Labels are taken from the same customers the rows and columns were built from, so
        // the fallback to New / Lost only guards against a caller mixing lists.
        let r = f
            .as_ref()
            .and_then(|f| row_of.get(f).copied())
            .unwrap_or(rows.len());
        let c = t
            .as_ref()
            .and_then(|t| column_of.get(t).copied())
            .unwrap_or(columns.len());
        counts[r][c] += 1;
    }
    counts
}

fn with_ends(mut names: Vec<String>, end: &str) -> Vec<String> {
    names.push(end.to_string());
    names
}

/// Segment names of a rule set on both axes: the preset's order (the previous run's, then
/// segments only the current run lists), kept to the segments someone is in; names the
/// summaries do not list come last, alphabetically.
fn rule_segment_order(previous: &RuleColumn, current: &RuleColumn) -> Vec<String> {
    let used: std::collections::BTreeSet<&String> =
        previous.labels.iter().chain(&current.labels).collect();
    let mut order: Vec<String> = Vec::new();
    for name in previous.order.iter().chain(&current.order) {
        if used.contains(name) && !order.contains(name) {
            order.push(name.clone());
        }
    }
    for name in used {
        if !order.contains(name) {
            order.push(name.clone());
        }
    }
    order
}

fn rule_migration(previous: &RuleColumn, current: &RuleColumn, union: &Union) -> Migration {
    let order = rule_segment_order(previous, current);
    let from = Union::labels(&union.previous, &previous.labels);
    let to = Union::labels(&union.current, &current.labels);
    let counts = count_matrix(&order, &order, &from, &to);
    let (stayed, moved) = stayed_and_moved(&from, &to, |f, t| f == t);
    Migration {
        column: current.column.clone(),
        title: if current.title.is_empty() {
            current.column.clone()
        } else {
            current.title.clone()
        },
        rows: with_ends(order.clone(), NEW_CUSTOMER),
        columns: with_ends(order, LOST),
        row_titles: Vec::new(),
        column_titles: Vec::new(),
        counts,
        stayed,
        moved,
        from,
        to,
    }
}

fn stayed_and_moved(
    from: &[Option<String>],
    to: &[Option<String>],
    same: impl Fn(&str, &str) -> bool,
) -> (usize, usize) {
    let both = from
        .iter()
        .zip(to)
        .filter_map(|(f, t)| Some((f.as_deref()?, t.as_deref()?)));
    both.fold((0, 0), |(stayed, moved), (f, t)| {
        if same(f, t) {
            (stayed + 1, moved)
        } else {
            (stayed, moved + 1)
        }
    })
}

/// Pairs each current cluster with the previous cluster most of its customers are in according
/// to `previous_view` (one entry per current customer; None = not placed). Ties go to the
/// previous cluster with the lower number.
fn match_clusters(
    current: &[String],
    previous_view: &[Option<String>],
    current_names: &[String],
) -> Vec<ClusterMatch> {
    let mut tallies: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for (c, p) in current.iter().zip(previous_view) {
        let tally = tallies.entry(c).or_default();
        if let Some(p) = p {
            *tally.entry(p).or_default() += 1;
        }
    }
    current_names
        .iter()
        .map(|name| {
            let tally = tallies.get(name.as_str());
            let counted: usize = tally.map_or(0, |t| t.values().sum());
            let best = tally.and_then(|t| {
                t.iter()
                    .max_by(|a, b| {
                        a.1.cmp(b.1)
                            .then_with(|| cluster_order(&b.0.to_string(), &a.0.to_string()))
                    })
                    .map(|(p, n)| (p.to_string(), *n))
            });
            ClusterMatch {
                current: name.clone(),
                share: best
                    .as_ref()
                    .map_or(0.0, |(_, n)| *n as f64 / counted.max(1) as f64),
                previous: best.map(|(p, _)| p),
                counted,
            }
        })
        .collect()
}

fn titles_of(names: &[String], titles: &BTreeMap<String, String>) -> Vec<String> {
    names
        .iter()
        .map(|n| titles.get(n).cloned().unwrap_or_default())
        .collect()
}

fn sorted_clusters(labels: &[String]) -> Vec<String> {
    let mut names: Vec<String> = labels.to_vec();
    names.sort_by(cluster_order);
    names.dedup();
    names
}

fn cluster_migration(
    previous: &Snapshot,
    current: &Snapshot,
    union: &Union,
    matches: &[ClusterMatch],
) -> Migration {
    let rows = sorted_clusters(&previous.segments);
    let columns = sorted_clusters(&current.segments);
    let from = Union::labels(&union.previous, &previous.segments);
    let to = Union::labels(&union.current, &current.segments);
    let counts = count_matrix(&rows, &columns, &from, &to);
    let matched: HashMap<&str, &str> = matches
        .iter()
        .filter_map(|m| Some((m.current.as_str(), m.previous.as_deref()?)))
        .collect();
    let (stayed, moved) = stayed_and_moved(&from, &to, |f, t| matched.get(t) == Some(&f));
    Migration {
        column: PRIMARY_COLUMN.to_string(),
        title: "Discovered segments".to_string(),
        row_titles: with_ends(titles_of(&rows, &previous.titles), ""),
        column_titles: with_ends(titles_of(&columns, &current.titles), ""),
        rows: with_ends(rows, NEW_CUSTOMER),
        columns: with_ends(columns, LOST),
        counts,
        stayed,
        moved,
        from,
        to,
    }
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

fn matching_note(matching: Matching, previous_as_of: &str) -> String {
    match matching {
        Matching::PreviousModel => format!(
            "Cluster numbers are not comparable between runs. This run's customers were assigned with the model of {previous_as_of} (its preparation and centroids, nothing refitted), and each cluster of this run is matched to the previous cluster most of its customers fall into."
        ),
        Matching::CustomerOverlap => "Cluster numbers are not comparable between runs. Each cluster of this run is matched to the previous cluster that most of its returning customers were in (by customer overlap; the previous model was not applied).".to_string(),
    }
}

/// Says which previous clusters several current clusters continue (a split) and which none does
/// (merged into another or dissolved), with where most of the latter's customers went.
fn match_notes(previous: &Snapshot, clusters: &Migration, matches: &[ClusterMatch]) -> Vec<String> {
    let mut notes = Vec::new();
    let mut heirs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for m in matches {
        if let Some(p) = &m.previous {
            heirs.entry(p).or_default().push(&m.current);
        }
    }
    let previous_rows = clusters.rows.len().saturating_sub(1);
    for (i, name) in clusters.rows[..previous_rows].iter().enumerate() {
        let named = match previous
            .titles
            .get(name)
            .filter(|t| !t.is_empty() && *t != name)
        {
            Some(t) => format!("{name} · {t} of {}", previous.as_of),
            None => format!("{name} of {}", previous.as_of),
        };
        match heirs.get(name.as_str()).map(Vec::as_slice) {
            None => notes.push(format!(
                "{named} continues in no cluster of this run; {}.",
                where_most_went(clusters, i)
            )),
            Some(several @ [_, _, ..]) => notes.push(format!(
                "{named} split: {} continue it.",
                several.join(", ")
            )),
            Some(_) => {}
        }
    }
    for m in matches.iter().filter(|m| m.previous.is_none()) {
        notes.push(format!(
            "{} has no match: none of its customers were placed in a previous cluster.",
            m.current
        ));
    }
    notes
}

/// "most of its customers, 2,443 of 2,539 (96 %), are now in Cluster 0" for row `row`.
fn where_most_went(clusters: &Migration, row: usize) -> String {
    let counts = &clusters.counts[row];
    let total: usize = counts.iter().sum();
    let current = clusters.columns.len().saturating_sub(1);
    let most = (0..current).max_by_key(|&j| (counts[j], std::cmp::Reverse(j)));
    match most.filter(|&j| counts[j] > 0) {
        Some(j) => format!(
            "most of its customers, {} of {} ({}), are now in {}",
            crate::format::count(counts[j]),
            crate::format::count(total),
            crate::format::percent(counts[j] as f64 / total.max(1) as f64),
            clusters.columns[j]
        ),
        None => format!(
            "all of its {} customers are lost",
            crate::format::count(total)
        ),
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

// ------------------------------------------------------------------------------------------------
// A run against its previous run, and two report folders
// ------------------------------------------------------------------------------------------------

/// Two report folders (`segmenta compare`): the clusters are matched by customer overlap, as
/// the current features are not at hand.
pub fn compare_folders(previous: &Path, current: &Path) -> Result<Comparison> {
    let previous = Snapshot::read(previous)?;
    let current = Snapshot::read(current)?;
    Ok(compare(&previous, &current, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(as_of: &str, rows: &[(&str, &str, &str)]) -> Snapshot {
        let ids = rows.iter().map(|r| r.0.to_string()).collect();
        let segments: Vec<String> = rows.iter().map(|r| r.1.to_string()).collect();
        Snapshot {
            folder: PathBuf::from(as_of),
            job: "test".into(),
            as_of: as_of.into(),
            primary: "kmeans".into(),
            customer_ids: ids,
            titles: segments
                .iter()
                .map(|s| (s.clone(), format!("title of {s}")))
                .collect(),
            segments,
            rule_sets: vec![RuleColumn {
                column: "lifecycle_stage".into(),
                title: "Lifecycle".into(),
                order: ["Active", "Pre-churn", "Churn"].map(String::from).to_vec(),
                labels: rows.iter().map(|r| r.2.to_string()).collect(),
            }],
        }
    }

    /// January: a, b, c, d, g, h; February: b, c, d, e, f, g, h with the cluster numbers
    /// swapped, g moving against the tide.
    fn two_months() -> Comparison {
        let january = snapshot(
            "2026-01-01",
            &[
                ("a", "Cluster 0", "Active"),
                ("b", "Cluster 0", "Active"),
                ("c", "Cluster 1", "Churn"),
                ("d", "Cluster 1", "Pre-churn"),
                ("g", "Cluster 1", "Churn"),
                ("h", "Cluster 0", "Active"),
            ],
        );
        let february = snapshot(
            "2026-02-01",
            &[
                ("f", "Cluster 0", "Active"),
                ("b", "Cluster 1", "Pre-churn"),
                ("c", "Cluster 0", "Churn"),
                ("d", "Cluster 0", "Churn"),
                ("e", "Cluster 1", "Active"),
                ("g", "Cluster 1", "Churn"),
                ("h", "Cluster 1", "Active"),
            ],
        );
        compare(&january, &february, None)
    }

    #[test]
    fn every_matrix_adds_up_to_the_customers_of_both_runs() {
        let c = two_months();
        assert_eq!(
            (
                c.customers,
                c.customers_in_both,
                c.new_customers,
                c.lost_customers
            ),
            (8, 5, 2, 1)
        );
        for m in std::iter::once(&c.clusters).chain(&c.rule_sets) {
            assert_eq!(m.counts.iter().flatten().sum::<usize>(), 8, "{}", m.column);
            assert_eq!(m.rows.last().map(String::as_str), Some(NEW_CUSTOMER));
            assert_eq!(m.columns.last().map(String::as_str), Some(LOST));
            assert_eq!(m.row_sums().last(), Some(&2));
            assert_eq!(m.column_sums().last(), Some(&1));
        }
        assert_eq!(c.clusters.rows, ["Cluster 0", "Cluster 1", NEW_CUSTOMER]);
        assert_eq!(c.clusters.row_sums(), [3, 3, 2]);
        assert_eq!(c.clusters.column_sums(), [3, 4, 1]);
        assert_eq!(c.clusters.counts, [[0, 2, 1], [2, 1, 0], [1, 1, 0]]);
    }

    #[test]
    fn clusters_are_matched_by_overlap_and_rules_keep_the_preset_order() {
        let c = two_months();
        assert_eq!(c.matching, Matching::CustomerOverlap);
        assert_eq!(c.match_of("Cluster 0"), Some("Cluster 1"));
        assert_eq!(c.match_of("Cluster 1"), Some("Cluster 0"));
        // b, c, d and h stayed in their matched cluster; g moved.
        assert_eq!((c.clusters.stayed, c.clusters.moved), (4, 1));
        let life = &c.rule_sets[0];
        assert_eq!(life.rows, ["Active", "Pre-churn", "Churn", NEW_CUSTOMER]);
        assert_eq!(life.columns, ["Active", "Pre-churn", "Churn", LOST]);
        assert_eq!((life.stayed, life.moved), (3, 2));
        let frame = c.moves_frame().unwrap();
        let col = |name: &str| -> Vec<Option<String>> {
            frame
                .column(name)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|v| v.map(String::from))
                .collect()
        };
        assert_eq!(
            col("customer_id"),
            ["a", "b", "c", "d", "e", "f", "g", "h"].map(|s| Some(s.to_string()))
        );
        assert_eq!(
            col("change"),
            ["lost", "stayed", "stayed", "stayed", "new", "new", "moved", "stayed"]
                .map(|s| Some(s.to_string()))
        );
        assert_eq!(col("to")[0], None);
        assert_eq!(col("from")[4], None);
        assert_eq!(col("from_name")[1].as_deref(), Some("title of Cluster 0"));
        assert_eq!(col("lifecycle_stage_to")[1].as_deref(), Some("Pre-churn"));
    }

    #[test]
    fn a_model_view_decides_the_match_for_every_current_customer() {
        let january = snapshot(
            "2026-01-01",
            &[("a", "Cluster 0", "Active"), ("b", "Cluster 0", "Active")],
        );
        let february = snapshot(
            "2026-02-01",
            &[("x", "Cluster 0", "Active"), ("y", "Cluster 0", "Active")],
        );
        let view = vec!["Cluster 4".to_string(), "Cluster 4".to_string()];
        let c = compare(&january, &february, Some(view));
        assert_eq!(c.matching, Matching::PreviousModel);
        assert_eq!(c.match_of("Cluster 0"), Some("Cluster 4"));
        assert_eq!(c.matches[0].counted, 2);
        // January's only cluster is nobody's match any more.
        assert_eq!(
            c.notes[0],
            "Cluster 0 · title of Cluster 0 of 2026-01-01 continues in no cluster of this run; \
             all of its 2 customers are lost."
        );
    }

    #[test]
    fn csv_formula_guards_are_undone_and_clusters_sort_by_number() {
        assert_eq!(restore_formula("'=1+2"), "=1+2");
        assert_eq!(restore_formula("'quoted"), "'quoted");
        let mut names: Vec<String> = ["Outliers", "Cluster 10", "Cluster 2"]
            .map(String::from)
            .to_vec();
        names.sort_by(cluster_order);
        assert_eq!(names, ["Cluster 2", "Cluster 10", "Outliers"]);
    }
}
