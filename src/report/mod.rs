//! Stage 6 — report: index.html, charts, summary.json, assignments, model.json and run.log in
//! `<root>/<job>/<as-of>/`, written to a temporary folder and renamed into place, so a failed
//! run never leaves half a report and never destroys the previous one.

mod applied;
pub mod charts;
mod export;
mod html;
mod projection;
mod rules_section;
pub mod summary;
mod traits;

use std::path::{Path, PathBuf};

pub use applied::write as write_applied;
pub use export::assignments_frame;
pub use html::{money, percent};

use crate::error::{output_error, Result};
use crate::label::Labelling;
use crate::model::SavedModel;
use crate::RunResult;

pub struct ChartFile {
    pub title: String,
    pub caption: String,
    pub png: PathBuf,
}

pub fn write(run: &RunResult, output_root: &Path) -> Result<PathBuf> {
    let final_dir = crate::pipeline::report_folder(output_root, &run.job, run.as_of);
    write_folder(&final_dir, |dir| write_into(run, dir))?;
    Ok(final_dir)
}

/// Writes a folder through `write` into a staging folder beside it and renames it into place:
/// a failure leaves no half-written folder and keeps the previous one.
pub(crate) fn write_folder(
    final_dir: &Path,
    write: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let parent = final_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&parent).map_err(|e| output_error(&parent, e))?;
    let name = final_dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| output_error(&staging, e))?;
    }
    std::fs::create_dir_all(&staging).map_err(|e| output_error(&staging, e))?;
    if let Err(e) = write(&staging) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    replace_folder(&staging, final_dir)
}

/// Moves the finished staging folder into place; the previous report is removed only after.
fn replace_folder(staging: &Path, target: &Path) -> Result<()> {
    let previous = target.with_file_name(format!(
        ".{}.previous-{}",
        target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default(),
        std::process::id()
    ));
    let had_previous = target.exists();
    if had_previous {
        std::fs::rename(target, &previous).map_err(|e| output_error(target, e))?;
    }
    if let Err(e) = std::fs::rename(staging, target) {
        if had_previous {
            let _ = std::fs::rename(&previous, target);
        }
        return Err(output_error(target, e));
    }
    if had_previous {
        std::fs::remove_dir_all(&previous).map_err(|e| output_error(&previous, e))?;
    }
    Ok(())
}

fn write_into(run: &RunResult, dir: &Path) -> Result<()> {
    let chart_dir = dir.join("charts");
    std::fs::create_dir_all(&chart_dir).map_err(|e| output_error(&chart_dir, e))?;
    let charts = draw_charts(run, &chart_dir)?;
    let summary = summary::build(run);
    write_json(&dir.join("summary.json"), &summary)?;
    write_json(&dir.join("model.json"), &SavedModel::from_run(run))?;
    export::write(run, dir)?;
    export::write_segments(run, dir)?;
    html::write(run, dir, &charts)?;
    write_run_log(run, &dir.join("run.log"))
}

pub(crate) fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| output_error(path, e))?;
    std::fs::write(path, text + "\n").map_err(|e| output_error(path, e))
}

fn write_run_log(run: &RunResult, path: &Path) -> Result<()> {
    let mut log = String::new();
    log.push_str(&format!(
        "segmenta {}\njob: {}\nas_of: {}\nseed: {}\n",
        env!("CARGO_PKG_VERSION"),
        run.job.name,
        run.as_of,
        run.seed
    ));
    log.push_str("\n[inputs]\n");
    for file in &run.quality.files {
        log.push_str(&format!("file: {file}\n"));
    }
    for (table, rows) in &run.quality.rows_read {
        log.push_str(&format!("rows read: {table} = {rows}\n"));
    }
    for (column, format) in &run.quality.date_formats {
        log.push_str(&format!("date format: {column} = {format}\n"));
    }
    for (reason, rows) in &run.quality.dropped {
        log.push_str(&format!("rows dropped: {reason} = {rows}\n"));
    }
    for (feature, cells) in &run.fit_report.imputed {
        log.push_str(&format!("cells imputed: {feature} = {cells}\n"));
    }
    log.push_str(&format!(
        "\n[result]\ncustomers: {}\ntransaction lines used: {}\nrevenue: {}\n",
        run.features.len(),
        run.features.transactions_used,
        money(run.features.facts.monetary.iter().sum())
    ));
    log.push_str(&format!(
        "k-means: k = {} ({})\ndbscan: eps = {:.4}, min_points = {}, clusters = {}, noise = {}\n",
        run.kmeans.k,
        run.kmeans.reason,
        run.dbscan.eps,
        run.dbscan.min_points,
        run.dbscan.clusters,
        run.dbscan.noise
    ));
    log.push_str("\n[warnings]\n");
    for w in &run.warnings {
        log.push_str(&format!("{w}\n"));
    }
    log.push_str("\n[timings]\n");
    for (stage, seconds) in &run.timings {
        log.push_str(&format!("{stage}: {seconds:.3} s\n"));
    }
    log.push_str(&format!(
        "\n[settings]\n{}\n",
        toml::to_string(&run.job).unwrap_or_default()
    ));
    std::fs::write(path, log).map_err(|e| output_error(path, e))
}

fn chart_error(e: charts::ChartError) -> crate::Error {
    crate::Error::Data(format!("drawing a chart: {e}"))
}

fn bars(labelling: &Labelling) -> Vec<charts::ClusterBar> {
    labelling
        .clusters
        .iter()
        .map(|c| charts::ClusterBar {
            name: format!("{} · {}", c.name, c.label),
            color_index: c.id,
            customers: c.size as u64,
            customer_share: c.share,
            revenue_share: c.revenue_share,
        })
        .collect()
}

/// The profile heatmap shows the features that separate the clusters most (largest |z|).
const PROFILE_FEATURES: usize = 30;

fn draw_charts(run: &RunResult, dir: &Path) -> Result<Vec<ChartFile>> {
    let mut out = Vec::new();
    let mut add = |stem: &str, title: &str, caption: String| {
        out.push(ChartFile {
            title: title.to_string(),
            caption,
            png: dir.join(format!("{stem}.png")),
        });
    };
    let km = &run.kmeans_labels;
    charts::sizes_and_revenue(dir, "sizes_revenue", &bars(km)).map_err(chart_error)?;
    add(
        "sizes_revenue",
        "Segment sizes and revenue",
        "Customers per k-means segment (left) and each segment's share of net revenue (right)."
            .into(),
    );

    let projection = projection::project(run.matrix.matrix.view(), 8000, run.seed)?;
    let series: Vec<charts::ScatterSeries> = km
        .clusters
        .iter()
        .map(|c| charts::ScatterSeries {
            name: format!("{} · {}", c.name, c.label),
            color_index: c.id,
            points: projection
                .points
                .iter()
                .filter(|(i, _, _)| Some(run.kmeans.labels[*i]) == c.id)
                .map(|(_, x, y)| (*x, *y))
                .collect(),
        })
        .collect();
    charts::pca_scatter(dir, "pca", &series, projection.explained).map_err(chart_error)?;
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

    charts::heatmap(dir, "profile", &profile_heatmap(km)).map_err(chart_error)?;
    add("profile", "Segment profiles", "Mean of each feature per segment as a z-score against all customers (red = above average, blue = below); the features that differ most between segments.".into());

    let cross = &km.crosstabs[0];
    let shares = cross.row_shares();
    charts::heatmap(
        dir,
        "clusters_vs_rfm",
        &charts::Heatmap {
            title: "Discovered segments × classic RFM groups (share of each segment)".into(),
            row_labels: cross.rows.clone(),
            col_labels: cross.columns.clone(),
            cell_text: shares
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|s| {
                            if *s > 0.0 {
                                format!("{:.0}%", 100.0 * s)
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
        },
    )
    .map_err(chart_error)?;
    add(
        "clusters_vs_rfm",
        "Segments against the classic RFM groups",
        format!(
            "Row shares. Agreement: ARI {:.3}, NMI {:.3}.",
            km.agreement.ari, km.agreement.nmi
        ),
    );

    charts::rf_grid(dir, "rf_grid", &rf_grid(run)).map_err(chart_error)?;
    add(
        "rf_grid",
        "The R×F grid",
        "Customers, share of customers and share of revenue per recency and frequency score, coloured and outlined by the groups of the score map in use.".into(),
    );

    charts::k_selection(dir, "k_selection", &kmeans_selection(run)).map_err(chart_error)?;
    add("k_selection", "Choosing k", run.kmeans.reason.clone());

    if let Some(g) = &run.gmm {
        charts::k_selection(dir, "gmm_selection", &mixture_selection(g)).map_err(chart_error)?;
        add(
            "gmm_selection",
            "Gaussian mixture: choosing k",
            format!("{} Lower is better for both criteria.", g.reason),
        );
    }

    let db = &run.dbscan;
    charts::k_distance(
        dir,
        "k_distance",
        &db.k_distances,
        db.knee_index,
        db.eps,
        db.min_points.saturating_sub(1).max(1),
    )
    .map_err(chart_error)?;
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

fn profile_heatmap(km: &Labelling) -> charts::Heatmap {
    let n_features = km.base.len();
    let spread = |j: usize| {
        km.clusters
            .iter()
            .filter_map(|c| c.features[j].z)
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
                .map(|&j| c.features[j].z.unwrap_or(0.0))
                .collect()
        })
        .collect();
    charts::Heatmap {
        title: "Segment profiles (z-score of the segment mean)".into(),
        row_labels: km
            .clusters
            .iter()
            .map(|c| format!("{} · {}", c.name, c.label))
            .collect(),
        col_labels: order.iter().map(|&j| km.base[j].name.clone()).collect(),
        cell_text: values
            .iter()
            .map(|r| r.iter().map(|v| format!("{v:.1}")).collect())
            .collect(),
        values,
        palette: charts::Palette::Diverging,
        row_axis: "Segment".into(),
        col_axis: "Feature".into(),
    }
}

fn rf_grid(run: &RunResult) -> charts::RfGrid {
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
    charts::RfGrid {
        bins,
        counts,
        revenue,
        group_of_cell: (0..bins)
            .map(|r| {
                (0..bins)
                    .map(|f| run.rules.map.rf_cell_name(score(r), score(f)))
                    .collect()
            })
            .collect(),
        title: "Customers by R and F score".into(),
        map_name: run.rules.rfm_groups().title.clone(),
    }
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
