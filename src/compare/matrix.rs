//! The migration matrices: customers of either run lined up (`Union`), previous segment ×
//! current segment counts with their New customer row and Lost column, and a rule set's
//! [`Migration`].

use std::collections::{BTreeMap, HashMap};

use super::{Migration, RuleColumn, Snapshot, LOST, NEW_CUSTOMER};

/// The number in "Cluster 3" / "Component 3"; None for "Outliers" and other names.
pub fn cluster_number(name: &str) -> Option<usize> {
    name.rsplit_once(' ')?.1.parse().ok()
}

/// Clusters by number, named segments ("Outliers") after them.
pub(super) fn cluster_order(a: &String, b: &String) -> std::cmp::Ordering {
    let key = |s: &String| (cluster_number(s).is_none(), cluster_number(s), s.clone());
    key(a).cmp(&key(b))
}

/// Customers of either run, sorted, with their row in each run.
pub(super) struct Union {
    pub(super) ids: Vec<String>,
    pub(super) previous: Vec<Option<usize>>,
    pub(super) current: Vec<Option<usize>>,
}

impl Union {
    pub(super) fn of(previous: &Snapshot, current: &Snapshot) -> Union {
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
    pub(super) fn labels(rows: &[Option<usize>], labels: &[String]) -> Vec<Option<String>> {
        rows.iter()
            .map(|r| r.and_then(|i| labels.get(i).cloned()))
            .collect()
    }
}

/// The counts of `from` × `to` over `rows` (+ New customer) × `columns` (+ Lost).
pub(super) fn count_matrix(
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

pub(super) fn with_ends(mut names: Vec<String>, end: &str) -> Vec<String> {
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

pub(super) fn rule_migration(
    previous: &RuleColumn,
    current: &RuleColumn,
    union: &Union,
) -> Migration {
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

pub(super) fn stayed_and_moved(
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
