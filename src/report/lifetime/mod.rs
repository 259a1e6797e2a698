//! The report's "Who is still a customer" section, its charts and summary.json's `lifetime`:
//! the fitted parameters in words, P(alive), expected purchases and CLV per segment and per
//! lifecycle stage, the P(alive) matrix and, with purchases after as-of, the backtest (its charts
//! in [`figures`]).

mod figures;

pub use figures::draw;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::format::{count, label_number, money, percent};
use crate::lifetime::{Backtest, Estimate, Lifetime};
use crate::RunResult;

/// Below this P(alive) a customer has more likely stopped buying than not, by a margin.
pub const LIKELY_GONE: f64 = 0.3;

/// The lifetime figures of one group of customers (a segment or a rule segment).
#[derive(Debug, Clone, Serialize)]
pub struct GroupFigures {
    pub segment: String,
    #[serde(skip)]
    pub title: String,
    #[serde(skip)]
    pub color_index: Option<usize>,
    /// Customers with a purchase in the window: the ones with figures.
    pub customers: usize,
    pub median_p_alive: Option<f64>,
    /// Share of the customers with P(alive) below [`LIKELY_GONE`].
    pub likely_gone_share: Option<f64>,
    pub expected_purchases: f64,
    /// None without the spend model.
    pub clv: Option<f64>,
    pub clv_share: Option<f64>,
}

fn column<'a>(run: &'a RunResult, name: &str) -> Option<&'a [Option<f64>]> {
    run.features.any_column(name).map(|f| f.values.as_slice())
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(crate::features::percentile(&values, 0.5))
}

/// The figures of every group `group_of` puts customers in, in the order of `groups`.
fn group_figures(
    run: &RunResult,
    groups: &[(String, String, Option<usize>)],
    group_of: impl Fn(usize) -> Option<usize>,
) -> Vec<GroupFigures> {
    let (Some(p_alive), Some(expected)) =
        (column(run, "p_alive"), column(run, "expected_purchases"))
    else {
        return Vec::new();
    };
    let clv = column(run, "clv");
    let total_clv: f64 = clv.map_or(0.0, |c| c.iter().flatten().sum());
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
    for (i, p) in p_alive.iter().enumerate() {
        if let (Some(g), Some(_)) = (group_of(i), p) {
            members[g].push(i);
        }
    }
    groups
        .iter()
        .zip(members)
        .map(|((segment, title, color_index), rows)| {
            let alive: Vec<f64> = rows.iter().filter_map(|&i| p_alive[i]).collect();
            let gone = alive.iter().filter(|&&p| p < LIKELY_GONE).count();
            let clv_sum = clv.map(|c| rows.iter().filter_map(|&i| c[i]).sum::<f64>());
            GroupFigures {
                segment: segment.clone(),
                title: title.clone(),
                color_index: *color_index,
                customers: rows.len(),
                likely_gone_share: (!alive.is_empty()).then(|| gone as f64 / alive.len() as f64),
                median_p_alive: median(alive),
                expected_purchases: rows.iter().filter_map(|&i| expected[i]).sum(),
                clv_share: clv_sum.filter(|_| total_clv > 0.0).map(|s| s / total_clv),
                clv: clv_sum,
            }
        })
        .collect()
}

/// The k-means segments with modelled customers, the most future value first (CLV, else
/// expected purchases).
pub fn segment_figures(run: &RunResult) -> Vec<GroupFigures> {
    let clusters = &run.kmeans_labels.clusters;
    let groups: Vec<(String, String, Option<usize>)> = clusters
        .iter()
        .map(|c| (c.name.clone(), c.display_name(), c.id))
        .collect();
    let position = |id: usize| clusters.iter().position(|c| c.id == Some(id));
    let mut figures = group_figures(run, &groups, |i| position(run.kmeans.labels[i]));
    figures.retain(|g| g.customers > 0);
    figures.sort_by(|a, b| {
        let value = |g: &GroupFigures| g.clv.unwrap_or(g.expected_purchases);
        value(b).total_cmp(&value(a))
    });
    figures
}

/// The rule set the model is set against: the lifecycle stages, else the classic RFM groups.
fn stage_set(run: &RunResult) -> Option<&crate::rules::RuleSet> {
    ["lifecycle", "classic-rfm"]
        .iter()
        .find_map(|name| run.rules.sets.iter().find(|s| s.name == *name))
}

/// The lifecycle stages (else the classic RFM groups): where "Pre-churn" customers the model
/// still thinks active show.
pub fn stage_figures(run: &RunResult) -> Option<(String, Vec<GroupFigures>)> {
    let set = stage_set(run)?;
    let groups: Vec<(String, String, Option<usize>)> = set
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), s.name.clone(), Some(i)))
        .collect();
    let index: BTreeMap<&str, usize> = set
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let figures = group_figures(run, &groups, |i| index.get(set.labels[i].as_str()).copied());
    Some((
        set.title.clone(),
        figures.into_iter().filter(|g| g.customers > 0).collect(),
    ))
}

#[derive(Serialize)]
pub struct LifetimeSummary {
    pub model: &'static str,
    pub time_unit: &'static str,
    pub horizon_days: u32,
    pub annual_discount_rate: f64,
    pub margin: f64,
    /// Why the model was not fitted; the other fields are then absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bgnbd: Option<ParameterSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gamma_gamma: Option<ParameterSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backtest: Option<BacktestSummary>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<GroupFigures>,
}

/// A fit's parameters by name ("r", "alpha", …), then its likelihood and precision.
#[derive(Serialize)]
pub struct ParameterSummary {
    #[serde(flatten)]
    pub parameters: BTreeMap<String, f64>,
    pub log_likelihood: f64,
    pub customers: usize,
    pub standard_errors: BTreeMap<String, Option<f64>>,
    pub converged: bool,
    pub iterations: u64,
}

fn parameters(fit: &Estimate, customers: usize) -> ParameterSummary {
    let by_name = |values: Vec<Option<f64>>| fit.names.iter().cloned().zip(values).collect();
    ParameterSummary {
        parameters: fit.names.iter().cloned().zip(fit.values.clone()).collect(),
        log_likelihood: fit.log_likelihood,
        customers,
        standard_errors: by_name(fit.standard_errors.clone()),
        converged: fit.converged,
        iterations: fit.iterations,
    }
}

#[derive(Serialize)]
pub struct BacktestSummary {
    pub period_days: u32,
    pub holdout_days: u32,
    /// Each period's last day after as-of.
    pub periods: Vec<u32>,
    /// Cumulative repeat purchases to each period's end.
    pub predicted: Vec<f64>,
    pub actual: Vec<f64>,
    pub error: Option<f64>,
    pub mean_absolute_percentage_error: Option<f64>,
    pub by_frequency: Vec<crate::lifetime::backtest::FrequencyRow>,
}

fn backtest_summary(b: &Backtest) -> BacktestSummary {
    BacktestSummary {
        period_days: crate::lifetime::backtest::PERIOD_DAYS,
        holdout_days: b.holdout_days,
        periods: b.periods.clone(),
        predicted: b.predicted.clone(),
        actual: b.actual.clone(),
        error: b.final_error(),
        mean_absolute_percentage_error: b.mean_absolute_percentage_error(),
        by_frequency: b.by_frequency.clone(),
    }
}

/// Why a job with `[lifetime]` has no model: the note among the data notes.
fn skipped_note(run: &RunResult) -> Option<String> {
    run.features
        .notes
        .iter()
        .find(|n| n.starts_with(crate::lifetime::NOT_FITTED))
        .cloned()
}

pub fn summary(run: &RunResult) -> Option<LifetimeSummary> {
    let options = run.job.lifetime.as_ref()?;
    let fitted = run.lifetime.as_ref();
    Some(LifetimeSummary {
        model: "bgnbd",
        time_unit: options.time_unit.name(),
        horizon_days: options.horizon_days,
        annual_discount_rate: options.annual_discount_rate,
        margin: options.margin,
        skipped: fitted.is_none().then(|| skipped_note(run)).flatten(),
        bgnbd: fitted.map(|l| parameters(&l.bgnbd_fit, l.customers)),
        gamma_gamma: fitted.and_then(|l| {
            let fit = l.gamma_gamma_fit.as_ref()?;
            Some(parameters(fit, l.gamma_gamma_customers))
        }),
        backtest: fitted
            .and_then(|l| l.backtest.as_ref())
            .map(backtest_summary),
        segments: if fitted.is_some() {
            segment_figures(run)
        } else {
            Vec::new()
        },
    })
}

/// The parameters with a sentence each on what they mean for these customers.
fn parameter_rows(l: &Lifetime) -> Vec<serde_json::Value> {
    let unit = l.model.options.time_unit.name();
    let b = &l.model.bgnbd;
    let fit = &l.bgnbd_fit;
    let se = |i: usize, f: &Estimate| f.standard_errors[i].map_or("–".to_string(), label_number);
    let rate = b.r / b.alpha;
    let mut rows = vec![
        serde_json::json!({"name": "r", "value": format!("{:.4}", b.r), "se": se(0, fit),
            "meaning": format!("Shape of how purchase rates differ between active customers: {}", if b.r < 1.0 { "below 1, so most buy rarely and a few buy very often" } else { "at or above 1, so most buy at similar rates" })}),
        serde_json::json!({"name": "α", "value": format!("{:.4}", b.alpha), "se": se(1, fit),
            "meaning": format!("Scale of those rates: an active customer buys r/α = {} times per {unit} on average, about once every {} days", label_number(rate), label_number(l.model.options.time_unit.days() / rate))}),
        serde_json::json!({"name": "a", "value": format!("{:.4}", b.a), "se": se(2, fit),
            "meaning": "With b, how likely a customer stops after a purchase (a beta distribution over customers)"}),
        serde_json::json!({"name": "b", "value": format!("{:.4}", b.b), "se": se(3, fit),
            "meaning": format!("The average chance of stopping after any one purchase is a/(a+b) = {}", percent(b.a / (b.a + b.b)))}),
    ];
    if let (Some(g), Some(gfit)) = (&l.model.gamma_gamma, &l.gamma_gamma_fit) {
        rows.extend([
            serde_json::json!({"name": "p", "value": format!("{:.4}", g.p), "se": se(0, gfit),
                "meaning": "How steady one customer's spend is from purchase to purchase (larger = steadier)"}),
            serde_json::json!({"name": "q", "value": format!("{:.4}", g.q), "se": se(1, gfit),
                "meaning": "How much average spend differs between customers (smaller = more different)"}),
            serde_json::json!({"name": "γ", "value": format!("{:.4}", g.v), "se": se(2, gfit),
                "meaning": format!("Scale of spend: the average purchase across customers is pγ/(q−1) = {}", money(g.population_mean()))}),
        ]);
    }
    rows
}

fn group_rows(groups: &[GroupFigures]) -> Vec<serde_json::Value> {
    groups
        .iter()
        .map(|g| {
            serde_json::json!({
                "name": g.title,
                "customers": count(g.customers),
                "median_p_alive": g.median_p_alive.map_or("–".to_string(), |p| format!("{p:.2}")),
                "likely_gone": g.likely_gone_share.map_or("–".to_string(), percent),
                "expected": label_number(g.expected_purchases),
                "per_customer": label_number(g.expected_purchases / g.customers.max(1) as f64),
                "clv": g.clv.map(money),
                "clv_share": g.clv_share.map(percent),
                "clv_per_customer": g.clv.map(|c| money(c / g.customers.max(1) as f64)),
            })
        })
        .collect()
}

/// The section's template context; None without `[lifetime]` in the job. `segments` are
/// [`segment_figures`].
pub fn context(
    run: &RunResult,
    segments: &[GroupFigures],
    charts: &[serde_json::Value],
) -> Option<serde_json::Value> {
    let options = run.job.lifetime.as_ref()?;
    let Some(l) = &run.lifetime else {
        return Some(serde_json::json!({ "skipped": skipped_note(run) }));
    };
    let p_alive: Vec<f64> = column(run, "p_alive")
        .map(|c| c.iter().flatten().copied().collect())
        .unwrap_or_default();
    let expected: f64 = column(run, "expected_purchases").map_or(0.0, |c| c.iter().flatten().sum());
    let clv: Option<f64> = l
        .model
        .gamma_gamma
        .and(column(run, "clv"))
        .map(|c| c.iter().flatten().sum());
    let gone = p_alive.iter().filter(|&&p| p < LIKELY_GONE).count();
    let stages = stage_figures(run);
    let backtest = l.backtest.as_ref().map(|b| {
        serde_json::json!({
            "weeks": b.periods.len(),
            "holdout_days": b.holdout_days,
            "actual": label_number(*b.actual.last().unwrap_or(&0.0)),
            "predicted": label_number(*b.predicted.last().unwrap_or(&0.0)),
            "error": b.final_error().map(signed_percent),
            "mape": b.mean_absolute_percentage_error().map(percent),
            "by_frequency": b.by_frequency.iter().map(|r| serde_json::json!({
                "frequency": r.frequency, "customers": count(r.customers),
                "actual": format!("{:.2}", r.actual), "predicted": format!("{:.2}", r.predicted),
            })).collect::<Vec<_>>(),
        })
    });
    Some(serde_json::json!({
        "customers": count(l.customers),
        "unit": options.time_unit.name(),
        "horizon_days": options.horizon_days,
        "discount": percent(options.annual_discount_rate),
        "margin": percent(options.margin),
        "log_likelihood": format!("{:.2}", l.bgnbd_fit.log_likelihood),
        "gg_customers": count(l.gamma_gamma_customers),
        "gg_log_likelihood": l.gamma_gamma_fit.as_ref().map(|f| format!("{:.2}", f.log_likelihood)),
        "spend_model": l.model.gamma_gamma.is_some(),
        "parameters": parameter_rows(l),
        "median_p_alive": median(p_alive.clone()).map(|p| format!("{p:.2}")),
        "likely_gone": percent(gone as f64 / p_alive.len().max(1) as f64),
        "expected": label_number(expected),
        "clv": clv.map(money),
        "segments": group_rows(segments),
        "stages_title": stages.as_ref().map(|s| s.0.clone()),
        "stages": stages.map(|s| group_rows(&s.1)),
        "backtest": backtest,
        "charts": charts,
        "likely_gone_below": LIKELY_GONE,
    }))
}

fn signed_percent(share: f64) -> String {
    let text = percent(share.abs());
    if share < 0.0 {
        format!("−{text}")
    } else {
        format!("+{text}")
    }
}

/// A card's line: the segment's median P(alive) and the purchases it is expected to make;
/// `figures` are [`segment_figures`], computed once for every card.
pub fn card_line(
    run: &RunResult,
    figures: &[GroupFigures],
    cluster: Option<usize>,
) -> Option<String> {
    let l = run.lifetime.as_ref()?;
    let name = crate::label::cluster_name(cluster);
    let g = figures.iter().find(|g| g.segment == name)?;
    Some(format!(
        "Median P(alive) {} · {} purchases expected in {} days",
        g.median_p_alive
            .map_or("–".to_string(), |p| format!("{p:.2}")),
        label_number(g.expected_purchases),
        l.model.options.horizon_days
    ))
}
