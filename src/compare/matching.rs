//! Pairing each current cluster with the previous cluster it continues, the clusters'
//! [`Migration`] that pairing decides stayed / moved for, and the notes on splits and
//! clusters nobody continues.

use std::collections::{BTreeMap, HashMap};

use super::matrix::{cluster_order, count_matrix, stayed_and_moved, with_ends, Union};
use super::{ClusterMatch, Matching, Migration, Snapshot, LOST, NEW_CUSTOMER, PRIMARY_COLUMN};

/// Pairs each current cluster with the previous cluster most of its customers are in according
/// to `previous_view` (one entry per current customer; None = not placed). Ties go to the
/// previous cluster with the lower number.
pub(super) fn match_clusters(
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

pub(super) fn sorted_clusters(labels: &[String]) -> Vec<String> {
    let mut names: Vec<String> = labels.to_vec();
    names.sort_by(cluster_order);
    names.dedup();
    names
}

pub(super) fn cluster_migration(
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

pub(super) fn matching_note(matching: Matching, previous_as_of: &str) -> String {
    match matching {
        Matching::PreviousModel => format!(
            "Cluster numbers are not comparable between runs. This run's customers were assigned with the model of {previous_as_of} (its preparation and centroids, nothing refitted), and each cluster of this run is matched to the previous cluster most of its customers fall into."
        ),
        Matching::CustomerOverlap => "Cluster numbers are not comparable between runs. Each cluster of this run is matched to the previous cluster that most of its returning customers were in (by customer overlap; the previous model was not applied).".to_string(),
    }
}

/// Says which previous clusters several current clusters continue (a split) and which none does
/// (merged into another or dissolved), with where most of the latter's customers went.
pub(super) fn match_notes(
    previous: &Snapshot,
    clusters: &Migration,
    matches: &[ClusterMatch],
) -> Vec<String> {
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
