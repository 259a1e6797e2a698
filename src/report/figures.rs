//! What each chart of the report shows, built from the run: the data handed to `charts`, the
//! title the page and the test look for, and the caption under it.

use std::path::Path;

use super::{chart_error, charts, projection, ChartFile};
use crate::compare::{self, Comparison, Matching};
use crate::error::Result;
use crate::format::{count, share_beside_count};
use crate::label::Labelling;
use crate::RunResult;

fn bars(labelling: &Labelling) -> Vec<charts::ClusterBar> {
    labelling
        .clusters
        .iter()
        .map(|c| charts::ClusterBar {
            name: c.display_name(),
            color_index: c.id,
            customers: c.size as u64,
            customer_share: c.share,
            revenue_share: c.revenue_share,
        })
        .collect()
}

/// The profile heatmap shows the features that separate the clusters most (largest |z|).
const PROFILE_FEATURES: usize = 30;

pub fn draw_charts(run: &RunResult, dir: &Path) -> Result<Vec<ChartFile>> {
    let mut out = Vec::new();
    let mut add = |stem: &str, title: &str, caption: String| {
        out.push(ChartFile::new(dir, stem, title, caption))
    };
    let km = &run.kmeans_labels;
    let with_revenue = run.features.gives("monetary");
    charts::sizes_and_revenue(dir, "sizes_revenue", &bars(km), with_revenue)
        .map_err(chart_error(dir))?;
    if with_revenue {
        add(
            "sizes_revenue",
            "Segment sizes and revenue",
            "Customers per k-means segment (left) and each segment's share of net revenue (right)."
                .into(),
        );
    } else {
        add(
            "sizes_revenue",
            "Segment sizes",
            "Customers per k-means segment (the inputs carry no spend, so there is no revenue side)."
                .into(),
        );
    }

    let projection = projection::project(run.matrix.matrix.view(), 8000, run.seed)?;
    let series: Vec<charts::ScatterSeries> = km
        .clusters
        .iter()
        .map(|c| charts::ScatterSeries {
            name: c.display_name(),
            color_index: c.id,
            points: projection
                .points
                .iter()
                .filter(|(i, _, _)| Some(run.kmeans.labels[run.customer_of_matrix_row(*i)]) == c.id)
                .map(|(_, x, y)| (*x, *y))
                .collect(),
        })
        .collect();
    charts::pca_scatter(dir, "pca", &series, projection.explained).map_err(chart_error(dir))?;
    add(
        "pca",
        "Customers on the first two principal components",
        if run.matrix.names.len() == 1 {
            format!(
                "The customers are clustered on one feature ({}), so the map shows it along the horizontal axis (centred, in scaled units); {} customers, coloured by k-means segment.",
                run.matrix.names[0],
                projection.points.len()
            )
        } else {
            format!(
                "A sample of {} customers, coloured by k-means segment.",
                projection.points.len()
            )
        },
    );

    charts::drivers(dir, "drivers", &driver_bars(run)).map_err(chart_error(dir))?;
    add(
        "drivers",
        "What separates the segments",
        format!(
            "The share of each clustered feature's variance that the segments explain (R², in the prepared space k-means works in). A feature group whose every feature stays under {:.0} % separates nothing and is named in the data notes.",
            100.0 * crate::label::FLAT_R2
        ),
    );

    charts::heatmap(dir, "profile", &profile_heatmap(km)).map_err(chart_error(dir))?;
    add("profile", "Segment profiles", "Each feature's segment mean as a z-score against all customers (red = above average, blue = below), for the features that differ most between segments. Spend, orders, visits and other non-negative amounts and counts are compared after log1p, so a handful of very large customers does not flatten every other segment to zero.".into());

    if let Some(distributions) = rfm_distributions(run) {
        charts::distributions(dir, "rfm_distributions", &distributions)
            .map_err(chart_error(dir))?;
        let caption = format!(
            "How the customers of each segment spread: {} (orders and spend on a log scale; customers without a purchase have none of them).",
            and_list(
                distributions
                    .panels
                    .iter()
                    .map(|p| p.axis.to_lowercase())
                    .collect()
            )
        );
        add("rfm_distributions", &distributions.title, caption);
    }

    if let Some(cross) = km.rfm_crosstab() {
        clusters_vs_rfm(run, cross, dir)?;
        let agreement = km.agreement.unwrap_or(cross.agreement);
        add(
            "clusters_vs_rfm",
            "Segments against the classic RFM groups",
            format!(
                "Row shares. Agreement: ARI {:.3}, NMI {:.3}.",
                agreement.ari, agreement.nmi
            ),
        );
    }

    if let Some(grid) = rf_grid(run) {
        charts::rf_grid(dir, "rf_grid", &grid).map_err(chart_error(dir))?;
        add(
            "rf_grid",
            "The R×F grid",
            "Customers, share of customers and share of revenue per recency and frequency score, coloured and outlined by the groups of the score map in use.".into(),
        );
    }

    charts::k_selection(dir, "k_selection", &kmeans_selection(run)).map_err(chart_error(dir))?;
    add("k_selection", "Choosing k", run.kmeans.reason.clone());

    if let Some(g) = &run.gmm {
        charts::k_selection(dir, "gmm_selection", &mixture_selection(g))
            .map_err(chart_error(dir))?;
        add(
            "gmm_selection",
            "Gaussian mixture: choosing k",
            format!("{} Lower is better for both criteria.", g.reason),
        );
    }

    let Some(db) = &run.dbscan else {
        return Ok(out);
    };
    charts::k_distance(
        dir,
        "k_distance",
        &db.k_distances,
        db.knee_index,
        db.eps,
        db.min_points.saturating_sub(1).max(1),
    )
    .map_err(chart_error(dir))?;
    add(
        "k_distance",
        "DBSCAN k-distance curve",
        format!(
            "eps = {:.3} {}; {} outliers.",
            db.eps,
            if db.eps_automatic {
                "taken at the knee"
            } else {
                "set by the job"
            },
            db.noise
        ),
    );
    Ok(out)
}

/// The heatmap of the k-means segments' shares in each classic RFM group.
fn clusters_vs_rfm(run: &RunResult, cross: &crate::label::CrossTable, dir: &Path) -> Result<()> {
    let km = &run.kmeans_labels;
    let shares = cross.row_shares();
    charts::heatmap(
        dir,
        "clusters_vs_rfm",
        &charts::Heatmap {
            title: "Discovered segments × classic RFM groups (share of each segment)".into(),
            // Cross-table rows follow the clusters' order.
            row_labels: km.clusters.iter().map(|c| c.display_name()).collect(),
            col_labels: cross.columns.clone(),
            cell_text: shares
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|&s| {
                            // Empty cells stay blank; the page prints the same share beside
                            // the count.
                            if s > 0.0 {
                                share_beside_count(s)
                            } else {
                                String::new()
                            }
                        })
                        .collect()
                })
                .collect(),
            values: shares,
            palette: charts::Palette::Sequential,
            row_axis: "k-means segment".into(),
            col_axis: "Classic RFM group".into(),
            subtitle: None,
        },
    )
    .map_err(chart_error(dir))
}

fn driver_bars(run: &RunResult) -> Vec<charts::DriverBar> {
    run.drivers
        .iter()
        .map(|d| charts::DriverBar {
            name: super::traits::pretty_name(&d.feature),
            group: d.group.name().to_string(),
            r2: d.r2,
        })
        .collect()
}

fn profile_heatmap(km: &Labelling) -> charts::Heatmap {
    let n_features = km.base.len();
    let spread = |j: usize| {
        km.clusters
            .iter()
            .filter_map(|c| c.features[j].z_log)
            .map(f64::abs)
            .fold(0.0, f64::max)
    };
    let mut order: Vec<usize> = (0..n_features).collect();
    order.sort_by(|&a, &b| spread(b).total_cmp(&spread(a)).then(a.cmp(&b)));
    order.truncate(PROFILE_FEATURES);
    order.sort_unstable();
    let values: Vec<Vec<f64>> = km
        .clusters
        .iter()
        .map(|c| {
            order
                .iter()
                // No value at all (purchase habits of customers who never bought): a grey cell.
                .map(|&j| c.features[j].z_log.unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    charts::Heatmap {
        title: "Segment profiles (z-scores; amounts and counts on a log scale)".into(),
        row_labels: km.clusters.iter().map(|c| c.display_name()).collect(),
        col_labels: order
            .iter()
            .map(|&j| super::traits::pretty_name(&km.base[j].name))
            .collect(),
        cell_text: values
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| {
                        if v.is_nan() {
                            "–".into()
                        } else {
                            format!("{v:.1}")
                        }
                    })
                    .collect()
            })
            .collect(),
        values,
        palette: charts::Palette::Diverging,
        row_axis: "Segment".into(),
        col_axis: "Feature".into(),
        subtitle: None,
    }
}

/// The R×F grid, when the run has a score map (the inputs give recency and frequency).
fn rf_grid(run: &RunResult) -> Option<charts::RfGrid> {
    let (map, groups) = run.rules.map.as_ref().zip(run.rules.rfm_groups())?;
    let bins = run.rules.rfm.bins() as usize;
    let mut counts = vec![vec![0u64; bins]; bins];
    let mut revenue = vec![vec![0.0; bins]; bins];
    let rfm = &run.rules.rfm;
    let scores = rfm.r.iter().zip(&rfm.f);
    for ((r, f), m) in scores.zip(&run.features.facts.monetary) {
        if let (Some(r), Some(f)) = (r, f) {
            let (r, f) = (*r as usize - 1, *f as usize - 1);
            counts[r][f] += 1;
            revenue[r][f] += m;
        }
    }
    let score = |i: usize| i as u8 + 1;
    Some(charts::RfGrid {
        bins,
        counts,
        revenue,
        group_of_cell: (0..bins)
            .map(|r| {
                (0..bins)
                    .map(|f| map.rf_cell_name(score(r), score(f)))
                    .collect()
            })
            .collect(),
        title: "Customers by R and F score".into(),
        map_name: groups.title.clone(),
        all_customers: Some(run.features.len() as u64),
    })
}

/// The k-means scan as chart panels: the four scores the rule uses and the two stabilities.
fn kmeans_selection(run: &RunResult) -> charts::KSelection {
    use charts::KPanel;
    let scores = &run.kmeans.scores;
    let values = |f: fn(&crate::cluster::KScore) -> Option<f64>| scores.iter().map(f).collect();
    charts::KSelection {
        title: "Choosing the number of clusters (k-means)".into(),
        ks: scores.iter().map(|s| s.k).collect(),
        panels: vec![
            KPanel::new(
                "Silhouette – higher is better",
                "Silhouette",
                values(|s| s.silhouette),
            ),
            KPanel::new(
                "Calinski–Harabasz – higher is better",
                "Calinski–Harabasz",
                values(|s| s.calinski_harabasz),
            ),
            KPanel::new(
                "Davies–Bouldin – lower is better",
                "Davies–Bouldin",
                values(|s| s.davies_bouldin),
            ),
            KPanel::new(
                "Inertia (elbow) – look for the bend",
                "Inertia",
                values(|s| Some(s.inertia)),
            ),
            KPanel::new(
                "Stability, seeds – higher is better",
                "Mean ARI",
                values(|s| s.stability),
            ),
            KPanel::new(
                "Stability, bootstrap – higher is better",
                "Mean ARI",
                values(|s| s.bootstrap_stability),
            ),
        ],
        chosen_k: run.kmeans.k,
    }
}

/// The mixture's scan as chart panels: BIC (the rule) and AIC.
fn mixture_selection(g: &crate::cluster::GmmResult) -> charts::KSelection {
    use charts::KPanel;
    let values =
        |f: fn(&crate::cluster::gmm::GmmScore) -> Option<f64>| g.scores.iter().map(f).collect();
    charts::KSelection {
        title: "Choosing the number of components (Gaussian mixture)".into(),
        ks: g.scores.iter().map(|s| s.k).collect(),
        panels: vec![
            KPanel::new("BIC – lower is better (the rule)", "BIC", values(|s| s.bic)),
            KPanel::new("AIC – lower is better", "AIC", values(|s| s.aic)),
        ],
        chosen_k: g.k,
    }
}

/// Box plots of the R, F and M values (buyers only) per k-means segment, for the measures the
/// inputs give; None when they give none.
fn rfm_distributions(run: &RunResult) -> Option<charts::Distributions> {
    let km = &run.kmeans_labels;
    let values = crate::rules::rfm_values(&run.features.facts);
    let panel =
        |values: &[Option<f64>], title: &str, axis: &str, log: bool| charts::DistributionPanel {
            title: title.into(),
            axis: axis.into(),
            log,
            boxes: km
                .clusters
                .iter()
                .map(|c| {
                    charts::BoxStats::of(
                        run.kmeans
                            .labels
                            .iter()
                            .zip(values)
                            .filter(|(label, _)| Some(**label) == c.id)
                            .filter_map(|(_, v)| *v),
                    )
                })
                .collect(),
        };
    let measures = [
        ("recency_days", "Recency", "Days since last purchase", false),
        ("frequency", "Frequency", "Orders", true),
        ("monetary", "Monetary", "Net spend", true),
    ];
    let (panels, titles): (Vec<_>, Vec<_>) = measures
        .iter()
        .zip(&values)
        .filter(|((measure, ..), _)| run.features.gives(measure))
        .map(|((_, title, axis, log), values)| (panel(values, title, axis, *log), *title))
        .unzip();
    if panels.is_empty() {
        return None;
    }
    Some(charts::Distributions {
        title: format!("{} per segment", words_list(&titles)),
        rows: km
            .clusters
            .iter()
            .map(|c| charts::DistributionRow {
                name: c.display_name(),
                color_index: c.id,
            })
            .collect(),
        panels,
    })
}

/// ["Recency", "Frequency", "Monetary"] → "Recency, frequency and spend".
fn words_list(titles: &[&str]) -> String {
    let words = titles
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let t = if *t == "Monetary" { "Spend" } else { t };
            if i == 0 {
                t.to_string()
            } else {
                t.to_lowercase()
            }
        })
        .collect();
    and_list(words)
}

/// ["a", "b", "c"] → "a, b and c".
fn and_list(mut words: Vec<String>) -> String {
    match words.pop() {
        Some(last) if !words.is_empty() => format!("{} and {last}", words.join(", ")),
        Some(last) => last,
        None => String::new(),
    }
}

/// The flow chart of who moved between the compared runs' discovered segments.
pub fn draw_migration(c: &Comparison, dir: &Path) -> Result<ChartFile> {
    charts::flow(dir, "migration", &migration_flow(c)).map_err(chart_error(dir))?;
    Ok(ChartFile::new(
        dir,
        "migration",
        format!("Who moved since {}", c.previous.as_of),
        format!(
            "Each ribbon is the customers who went from a segment of {} (left) to a segment of {} (right), as wide as their number. A previous segment takes the colour of the current segment that continues it (grey-blue: none does); solid ribbons stayed in that segment, faint ones moved. New customers come in at the bottom left, lost ones leave at the bottom right.",
            c.previous.as_of, c.current.as_of
        ),
    ))
}

/// "Cluster 2 · Champions", or the name alone when it has no title of its own.
fn titled(name: &str, title: &str) -> String {
    if title.is_empty() || title == name {
        name.to_string()
    } else {
        format!("{name} · {title}")
    }
}

fn current_color(name: &str) -> charts::FlowColor {
    match compare::cluster_number(name) {
        Some(i) => charts::FlowColor::Cluster(i),
        None if name == crate::label::OUTLIERS => charts::FlowColor::Outliers,
        None => charts::FlowColor::Neutral,
    }
}

fn migration_flow(c: &Comparison) -> charts::Flow {
    let m = &c.clusters;
    let previous = m.rows.len().saturating_sub(1);
    let current = m.columns.len().saturating_sub(1);
    let customers_now = m.column_sums();
    // A previous cluster continued by several current ones takes the largest one's colour.
    let heir_color = |name: &str| {
        (0..current)
            .filter(|&j| c.match_of(&m.columns[j]) == Some(name))
            .max_by_key(|&j| (customers_now[j], std::cmp::Reverse(j)))
            .map_or(charts::FlowColor::Unmatched, |j| {
                current_color(&m.columns[j])
            })
    };
    let title = |titles: &[String], i: usize| titles.get(i).cloned().unwrap_or_default();
    let mut left: Vec<charts::FlowNode> = (0..previous)
        .map(|i| charts::FlowNode {
            label: titled(&m.rows[i], &title(&m.row_titles, i)),
            note: String::new(),
            color: heir_color(&m.rows[i]),
        })
        .collect();
    left.push(charts::FlowNode {
        label: "New customers".into(),
        note: String::new(),
        color: charts::FlowColor::Neutral,
    });
    let mut right: Vec<charts::FlowNode> = (0..current)
        .map(|j| charts::FlowNode {
            label: titled(&m.columns[j], &title(&m.column_titles, j)),
            note: c
                .match_of(&m.columns[j])
                .map(|p| format!("continues {p}"))
                .unwrap_or_default(),
            color: current_color(&m.columns[j]),
        })
        .collect();
    right.push(charts::FlowNode {
        label: "Lost customers".into(),
        note: String::new(),
        color: charts::FlowColor::Neutral,
    });
    let mut links = Vec::new();
    for (i, row) in m.counts.iter().enumerate() {
        for (j, &n) in row.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let stayed = i < previous
                && j < current
                && c.match_of(&m.columns[j]) == Some(m.rows[i].as_str());
            links.push(charts::FlowLink {
                from: i,
                to: j,
                customers: n as u64,
                stayed,
            });
        }
    }
    let matched = match c.matching {
        Matching::PreviousModel => format!("matched by the model of {}", c.previous.as_of),
        Matching::CustomerOverlap => "matched by shared customers".to_string(),
    };
    charts::Flow {
        title: format!("Who moved since {}", c.previous.as_of),
        subtitle: format!(
            "{} in both runs: {} stayed, {} moved · {} new · {} lost · {matched}",
            count(c.customers_in_both),
            count(m.stayed),
            count(m.moved),
            count(c.new_customers),
            count(c.lost_customers),
        ),
        left_title: format!("Previous run · {}", c.previous.as_of),
        right_title: format!("This run · {}", c.current.as_of),
        left,
        right,
        links,
    }
}
