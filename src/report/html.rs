//! index.html from a minijinja template: every value escaped, charts embedded as data URIs, so
//! the page opens from disk with no network.

use std::path::Path;

use base64::Engine;
use serde::Serialize;

use super::charts::cluster_color;
use super::lifetime::GroupFigures;
use super::rules_section;
use super::traits;
use super::ChartFile;
use crate::error::{Error, Result};
use crate::format::{compact_money, count, fixed_or_dash, money, percent, whole_percent};
use crate::label::ClusterProfile;
use crate::RunResult;

const TEMPLATE: &str = include_str!("template.html");
const STYLE: &str = include_str!("style.css");
const DRIFT: &str = include_str!("drift.html");
const MIGRATIONS: &str = include_str!("migrations.html");

#[derive(Serialize)]
struct Card {
    name: String,
    title: String,
    color: String,
    /// "78.0 % of its customers are Champions"; None without RFM groups.
    label: Option<String>,
    rfm_name: Option<String>,
    size: String,
    share: String,
    /// None when the inputs carry no spend.
    revenue_share: Option<String>,
    traits: Vec<String>,
    action: String,
    /// Median P(alive) and expected purchases, with a lifetime model.
    lifetime: Option<String>,
}

#[derive(Serialize)]
struct Chart {
    title: String,
    caption: String,
    png: String,
}

#[derive(Serialize)]
struct Outlier {
    id: String,
    monetary: String,
    frequency: String,
    unusual: String,
    /// A likely placeholder id, flagged by the load (not by DBSCAN).
    flagged: bool,
}

fn hex(index: Option<usize>) -> String {
    let c = match index {
        Some(i) => cluster_color(i),
        None => super::charts::OUTLIER_COLOR,
    };
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

fn card(run: &RunResult, profile: &ClusterProfile, lifetime: &[GroupFigures]) -> Card {
    let action = run
        .rules
        .rfm_groups()
        .zip(profile.label.as_deref())
        .map(|(groups, label)| groups.action_of(label))
        .unwrap_or_default();
    Card {
        name: profile.name.clone(),
        title: profile.title.clone(),
        color: hex(profile.id),
        label: profile.label.as_ref().map(|label| {
            format!(
                "{} of its customers are {label}",
                percent(profile.label_share.unwrap_or(0.0))
            )
        }),
        rfm_name: profile.rfm_name.clone(),
        size: count(profile.size),
        share: percent(profile.share),
        revenue_share: run
            .features
            .gives("monetary")
            .then(|| percent(profile.revenue_share)),
        traits: traits::distinctive(&run.features, profile, &run.kmeans_labels.base, 4),
        action,
        lifetime: super::lifetime::card_line(run, lifetime, profile.id),
    }
}

/// Ids flagged as likely placeholders first, then the DBSCAN outliers: by spend when the inputs
/// carry it, else by how far they stand from the average on the features clustered on.
fn top_outliers(run: &RunResult, count: usize) -> Vec<Outlier> {
    let facts = &run.features.facts;
    let flagged = flagged_ids(run);
    let mut noise: Vec<usize> = (0..run.features.len())
        .filter(|&i| {
            run.dbscan.as_ref().is_some_and(|d| d.labels[i].is_none())
                && !flagged.iter().any(|(f, _)| *f == i)
        })
        .collect();
    if run.features.gives("monetary") {
        noise.sort_by(|&a, &b| {
            facts.monetary[b]
                .total_cmp(&facts.monetary[a])
                .then(a.cmp(&b))
        });
    } else {
        let mut by_strength: Vec<(f64, usize)> = noise
            .iter()
            .map(|&i| (outlier_z(run, i).first().map_or(0.0, |(_, z)| z.abs()), i))
            .collect();
        by_strength.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        noise = by_strength.into_iter().map(|(_, i)| i).collect();
    }
    let row = |i: usize, unusual: String, flagged: bool| Outlier {
        id: run.features.customer_ids[i].clone(),
        monetary: money(facts.monetary[i]),
        frequency: format!("{}", facts.frequency[i]),
        unusual,
        flagged,
    };
    flagged
        .into_iter()
        .map(|(i, why)| row(i, why, true))
        .chain(
            noise
                .into_iter()
                .take(count)
                .map(|i| row(i, outlier_traits(run, i), false)),
        )
        .collect()
}

/// Customers whose id holds an implausible share of a transaction table, with the reason.
fn flagged_ids(run: &RunResult) -> Vec<(usize, String)> {
    run.quality
        .suspicious_ids
        .iter()
        .filter_map(|s| {
            let i = run.features.customer_ids.binary_search(&s.id).ok()?;
            let why = format!(
                "possible placeholder id: {} of the {} {} rows ({:.1} %), {:.0}× the median customer; list it in missing_ids if it is not a customer",
                count(s.rows),
                count(s.table_rows),
                s.table,
                100.0 * s.rows as f64 / s.table_rows.max(1) as f64,
                s.rows as f64 / s.median_rows.max(1.0)
            );
            Some((i, why))
        })
        .collect()
}

/// A customer's z-scores on the features clustered on, largest first (noise is decided in the
/// clustering space, so those features say why).
fn outlier_z(run: &RunResult, i: usize) -> Vec<(usize, f64)> {
    let base = &run.kmeans_labels.base;
    let mut z: Vec<(usize, f64)> = run
        .features
        .features
        .iter()
        .enumerate()
        .filter(|(_, f)| run.matrix.names.contains(&f.name))
        .filter_map(|(j, f)| {
            let (v, b) = (f.values[i]?, &base[j]);
            let sd = b.std.filter(|s| *s > 0.0)?;
            Some((j, (v - b.mean?) / sd))
        })
        .collect();
    z.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
    z
}

/// The two features that set a customer apart most, with the customer's own values.
fn outlier_traits(run: &RunResult, i: usize) -> String {
    let base = &run.kmeans_labels.base;
    outlier_z(run, i)
        .iter()
        .take(2)
        .filter_map(|(j, _)| {
            let f = &run.features.features[*j];
            Some(traits::describe_customer(
                &f.name,
                f.kind,
                f.values[i]?,
                base[*j].mean?,
            ))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Each shrunk share's prior in words: "orders at weekends (base 27 %, prior worth 3.1 orders)".
fn shrinkage_notes(run: &RunResult) -> Vec<String> {
    run.preparation
        .shrunk()
        .into_iter()
        .map(|(feature, s)| {
            format!(
                "{} (base {}, prior worth {:.1} {})",
                traits::pretty_name(feature),
                whole_percent(s.base),
                s.strength,
                crate::features::observations_word(Some(&s.trials))
            )
        })
        .collect()
}

/// The second tile: the transaction lines behind the features, or for a customers table alone
/// (or an engine's feature table, whose lines stayed in the engine) the features the customers
/// were clustered on.
fn volume_tile(run: &RunResult) -> serde_json::Value {
    if run.job.inputs.features.is_some() {
        serde_json::json!({
            "value": count(run.matrix.names.len()),
            "label": "features clustered on (the engine's feature table)",
        })
    } else if run.job.inputs.transactions.is_some() {
        serde_json::json!({
            "value": count(run.features.transactions_used),
            "label": "transaction lines used",
        })
    } else {
        serde_json::json!({
            "value": count(run.matrix.names.len()),
            "label": "features clustered on (customers table)",
        })
    }
}

/// What a run fitted on a sample says about where its figures come from.
pub(crate) fn fit_sample_note(sample: &crate::pipeline::FitSample) -> String {
    format!(
        "Discovery was {}: the preparation, the k-means, DBSCAN and mixture fits, their metrics and the charts drawn from the customer map come from that sample; every customer was then assigned with the fitted model, so segment sizes, revenue and the rule segments count everyone.",
        sample.describe()
    )
}

/// index.html of a run; `migration` is the flow chart of its "Who moved since …" section.
pub fn write(
    run: &RunResult,
    dir: &Path,
    charts: &[ChartFile],
    migration: Option<&ChartFile>,
    lifetime_charts: &[ChartFile],
) -> Result<()> {
    let charts_out = charts.iter().map(embed).collect::<Result<Vec<_>>>()?;
    let lifetime_segments = super::lifetime::segment_figures(run);
    let lifetime_charts = lifetime_charts
        .iter()
        .map(|c| embed(c).and_then(|c| serde_json::to_value(c).map_err(|e| Error::output(dir, e))))
        .collect::<Result<Vec<_>>>()?;
    let km = &run.kmeans;
    let reference = run.reference.as_ref().map(|r| {
        serde_json::json!({
            "name": r.name,
            "kmeans_ari": format!("{:.3}", r.kmeans.ari), "kmeans_nmi": format!("{:.3}", r.kmeans.nmi),
            "dbscan_ari": r.dbscan.map(|a| format!("{:.3}", a.ari)),
            "gmm_ari": r.gmm.map(|a| format!("{:.3}", a.ari)),
        })
    });
    let migrations = run
        .migrations
        .as_ref()
        .zip(migration)
        .map(|(c, chart)| super::compared::context(c, chart))
        .transpose()?;
    let context = serde_json::json!({
        "job": run.job.name,
        "as_of": run.as_of.to_string(),
        "seed": run.seed,
        "primary": format!("{:?}", run.job.primary).to_lowercase(),
        "customers": count(run.features.len()),
        "k": km.k,
        "k_reason": km.reason,
        "fit_sample": run.fit_sample.map(|s| fit_sample_note(&s)),
        "reference": reference,
        "warnings": run.warnings,
        "cards": run.kmeans_labels.clusters.iter().map(|p| card(run, p, &lifetime_segments)).collect::<Vec<_>>(),
        "charts": charts_out,
        "rule_sets": rules_section::rule_sets(run),
        "cut_points": rules_section::cut_points(run),
        "dbscan": run.dbscan.as_ref().map(|d| serde_json::json!({
            "outliers": d.noise,
            "eps": format!("{:.3}", d.eps),
            "eps_source": if d.eps_automatic { "from the knee of the k-distance curve" } else { "set by the job" },
            "min_points": d.min_points,
            "clusters": d.clusters,
            "silhouette": fixed_or_dash(d.silhouette, 3),
        })),
        "top_outliers": top_outliers(run, 10),
        "k_scores": km.scores.iter().map(|s| serde_json::json!({
            "k": s.k, "chosen": s.k == km.k,
            "silhouette": fixed_or_dash(s.silhouette, 3), "ch": fixed_or_dash(s.calinski_harabasz, 1),
            "db": fixed_or_dash(s.davies_bouldin, 3), "inertia": format!("{:.1}", s.inertia),
            "stability": fixed_or_dash(s.stability, 2),
            "bootstrap_stability": fixed_or_dash(s.bootstrap_stability, 2),
            "restart_agreement": fixed_or_dash(s.restart_agreement, 2),
        })).collect::<Vec<_>>(),
        "silhouette_sample": km.silhouette_sample,
        "gmm": mixture_section(run),
        "migrations": migrations,
        "lifetime": super::lifetime::context(run, &lifetime_segments, &lifetime_charts),
        "drift": run.drift.as_ref().map(|d| {
            super::applied::drift_context(&d.drift, &d.cluster_labels, &d.customers_now, &d.notes)
        }),
        "drift_model": run.drift.as_ref().map(|d| d.model_path.display().to_string()),
        "drift_model_as_of": run.drift.as_ref().map(|d| d.model_as_of.clone()),
        "features": run.matrix.names,
        "quality": super::quality::section(run),
        "timings": run.timings.iter().map(|(stage, s)| serde_json::json!({"stage": stage, "seconds": format!("{s:.2}")})).collect::<Vec<_>>(),
    });
    let mut context = context;
    if let (Some(page), serde_json::Value::Object(shape)) = (context.as_object_mut(), shape(run)) {
        page.extend(shape);
    }
    render_page(dir, "index.html", TEMPLATE, context)
}

/// A chart's PNG read back and inlined, so the page is one self-contained file.
fn embed(chart: &ChartFile) -> Result<Chart> {
    let bytes = std::fs::read(&chart.png).map_err(|e| Error::output(&chart.png, e))?;
    Ok(Chart {
        title: chart.title.clone(),
        caption: chart.caption.clone(),
        png: base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}

/// What the page shows depending on the inputs' shape and what discovery found: the tiles, the
/// RFM parts, the spend columns, the verdict and the shrinkage notes.
fn shape(run: &RunResult) -> serde_json::Value {
    let km = &run.kmeans;
    serde_json::json!({
        "volume": volume_tile(run),
        "revenue": run.features.gives("monetary").then(|| serde_json::json!({
            "compact": compact_money(run.features.net_revenue()),
            "exact": money(run.features.net_revenue()),
            "label": if run.job.inputs.transactions.is_some() { "net revenue in the window" } else { "spend in the customers table" },
        })),
        "agreement": run.kmeans_labels.agreement.zip(run.rules.rfm_groups()).map(|(a, groups)| serde_json::json!({
            "ari": format!("{:.3}", a.ari),
            "against": groups.title,
        })),
        "silhouette": fixed_or_dash(km.chosen.silhouette, 3),
        "verdict": km.verdict,
        "skipped_rule_sets": run.rules.skipped.iter().map(|s| s.note()).collect::<Vec<_>>(),
        "rfm": run.rules.map.is_some(),
        "spend": run.features.gives("monetary"),
        "orders": run.features.gives("frequency"),
        "shrinkage": shrinkage_notes(run),
    })
}

/// The Gaussian mixture's section: how sure the memberships are, its components, its k scan.
fn mixture_section(run: &RunResult) -> Option<serde_json::Value> {
    let (g, labelling) = run.gmm.as_ref().zip(run.gmm_labels.as_ref())?;
    let confidence = g.confidence();
    let components: Vec<serde_json::Value> = labelling
        .clusters
        .iter()
        .map(|c| {
            let id = c.id.unwrap_or(usize::MAX);
            let members: Vec<f64> = (0..confidence.len())
                .filter(|&i| g.labels[i] == id)
                .map(|i| confidence[i])
                .collect();
            let mean = members.iter().sum::<f64>() / members.len().max(1) as f64;
            let uncertain = members
                .iter()
                .filter(|&&p| p < crate::cluster::gmm::CONFIDENT)
                .count();
            serde_json::json!({
                "name": c.name, "title": c.title,
                "label": c.label.as_ref().map(|l| format!("{l} {}", percent(c.label_share.unwrap_or(0.0)))),
                "rfm_name": c.rfm_name, "customers": count(c.size), "share": percent(c.share),
                "revenue_share": percent(c.revenue_share),
                "mean_probability": format!("{mean:.2}"), "uncertain": count(uncertain),
            })
        })
        .collect();
    let versus_kmeans = run.mixture_agreement_with_kmeans()?;
    Some(serde_json::json!({
        "k": g.k,
        "reason": g.reason,
        "sample": g.sample_size,
        "reg_covar": run.job.discovery.gmm_reg_covar,
        "mean_confidence": format!("{:.2}", g.mean_confidence),
        "uncertain_share": percent(g.uncertain_share),
        "confident_at": crate::cluster::gmm::CONFIDENT,
        "kmeans_ari": format!("{:.3}", versus_kmeans.ari),
        "rfm_ari": labelling.agreement.map(|a| format!("{:.3}", a.ari)),
        "components": components,
        "scores": g.scores.iter().map(|s| serde_json::json!({
            "k": s.k, "chosen": s.k == g.k,
            "log_likelihood": fixed_or_dash(s.log_likelihood, 1), "bic": fixed_or_dash(s.bic, 1),
            "aic": fixed_or_dash(s.aic, 1), "failed": s.failed.clone().unwrap_or_default(),
        })).collect::<Vec<_>>(),
    }))
}

/// Renders a page template (with the shared style sheet) into `dir/index.html`.
pub(super) fn render_page(
    dir: &Path,
    name: &str,
    template: &str,
    context: serde_json::Value,
) -> Result<()> {
    let mut env = minijinja::Environment::new();
    env.add_template("style.css", STYLE)
        .and_then(|_| env.add_template("drift.html", DRIFT))
        .and_then(|_| env.add_template("migrations.html", MIGRATIONS))
        .and_then(|_| env.add_template(name, template))
        .map_err(|e| Error::output(dir.join(name), format!("report template: {e}")))?;
    let html = env
        .get_template(name)
        .and_then(|t| t.render(context))
        .map_err(|e| Error::output(dir.join(name), format!("rendering the template: {e}")))?;
    let path = dir.join("index.html");
    std::fs::write(&path, html).map_err(|e| Error::output(&path, e))
}
