//! The stage between features and rules — lifetime: who is still a customer and what each is
//! worth. The BG/NBD model ([`bgnbd`]) and the Gamma-Gamma spend model ([`gamma_gamma`]) are
//! fitted by maximum likelihood ([`optimise`]) on every customer's purchase history in the
//! window ([`Histories`]), then give each customer P(alive), the purchases to expect over the
//! horizon, the value of those purchases and the discounted CLV — columns that rules can use,
//! the assignments export and, when `[features] include` names them, discovery clusters on. A
//! fitted model is a value ([`SavedLifetime`]) that `apply` scores new data with, without
//! refitting.

pub mod alive_matrix;
pub mod backtest;
pub mod bgnbd;
pub mod gamma_gamma;
mod history;
pub mod optimise;
mod special;
mod stage;
mod summary;

use serde::{Deserialize, Serialize};

pub use alive_matrix::AliveMatrix;
pub use backtest::Backtest;
pub use bgnbd::BgNbd;
pub use gamma_gamma::{GammaGamma, Spend, SpendSummary};
pub use history::Histories;
pub use optimise::Estimate;
pub use stage::{apply_saved, fit_on, not_fitted, table_of_job};
pub use summary::Summary;

use crate::features::{Feature, FeatureGroup, FeatureKind, FeatureTable};
use crate::job::{LifetimeOptions, LIFETIME_COLUMNS};

/// How every note of a lifetime model that was not fitted starts.
pub const NOT_FITTED: &str = "the lifetime model";

/// Fewer customers with a purchase than this cannot fit four parameters.
pub const MIN_CUSTOMERS: usize = 10;
/// Days in a CLV step: expected purchases are discounted month by month, as `lifetimes` does.
const CLV_STEP_DAYS: u32 = 30;

/// The fitted models, as model.json keeps them and `apply` uses them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedLifetime {
    pub options: LifetimeOptions,
    pub bgnbd: BgNbd,
    /// None when no customer had repeat purchases of positive value, or q ≤ 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma_gamma: Option<GammaGamma>,
}

/// A lifetime fit and what the report shows of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Lifetime {
    pub model: SavedLifetime,
    /// Customers with a purchase in the window: the ones the model was fitted on.
    pub customers: usize,
    pub bgnbd_fit: Estimate,
    pub gamma_gamma_fit: Option<Estimate>,
    /// Customers with repeat purchases of positive mean value: Gamma-Gamma's data.
    pub gamma_gamma_customers: usize,
    pub alive_matrix: AliveMatrix,
    pub backtest: Option<Backtest>,
    pub warnings: Vec<String>,
}

impl Lifetime {
    /// The fitted parameters in one line, for the terminal and `segmenta check`.
    pub fn headline(&self) -> String {
        let b = &self.model.bgnbd;
        let spend = match &self.model.gamma_gamma {
            Some(g) => format!(
                "; Gamma-Gamma on {}: p {:.4}, q {:.4}, γ {:.4}",
                self.gamma_gamma_customers, g.p, g.q, g.v
            ),
            None => String::new(),
        };
        format!(
            "BG/NBD on {} customers: r {:.4}, α {:.4}, a {:.4}, b {:.4} (per {}){spend}",
            self.customers,
            b.r,
            b.alpha,
            b.a,
            b.b,
            self.model.options.time_unit.name()
        )
    }
}

/// Every customer's figures; None for a customer the model does not describe.
#[derive(Debug, Clone, Default)]
pub struct Scores {
    pub p_alive: Vec<Option<f64>>,
    pub expected_purchases: Vec<Option<f64>>,
    pub expected_order_value: Vec<Option<f64>>,
    pub clv: Vec<Option<f64>>,
    /// Customers whose expected purchases could not be computed (₂F₁ did not converge).
    pub failed: usize,
}

/// Fits both models on `histories`; Err with the note the report shows when the data cannot
/// support a fit.
pub fn fit(histories: &Histories, options: &LifetimeOptions) -> Result<Fitted, String> {
    let unit = options.time_unit.days();
    let customers = histories.first_day.len();
    let triples: Vec<(f64, f64, f64)> = (0..customers)
        .filter_map(|i| histories.in_units(i, unit))
        .collect();
    unfit_reason(histories, &triples).map_or(Ok(()), Err)?;
    let spend: Vec<Spend> = (0..customers)
        .filter_map(|i| histories.spend(i))
        .filter(|s| s.mean > 0.0)
        .collect();
    let models = fit_models(&triples, &spend)?;
    Ok(Fitted {
        model: SavedLifetime {
            options: options.clone(),
            bgnbd: models.bgnbd,
            gamma_gamma: models.gamma_gamma,
        },
        customers: triples.len(),
        bgnbd_fit: models.bgnbd_fit,
        gamma_gamma_fit: models.gamma_gamma_fit,
        gamma_gamma_customers: spend.len(),
        warnings: models.warnings,
    })
}

/// Both models fitted, with what the analyst must know about the fits.
pub struct Models {
    pub bgnbd: BgNbd,
    pub bgnbd_fit: Estimate,
    pub gamma_gamma: Option<GammaGamma>,
    pub gamma_gamma_fit: Option<Estimate>,
    pub warnings: Vec<String>,
}

/// BG/NBD on every customer's (x, tₓ, T) and Gamma-Gamma on the repeat purchases' spend: what
/// [`fit`] does once the histories are counted (and the benchmark times on a summary table).
pub fn fit_models(triples: &[(f64, f64, f64)], spend: &[Spend]) -> Result<Models, String> {
    let summary = Summary::of(triples);
    let bgnbd_fit = fit_bgnbd(&summary)?;
    let bgnbd = BgNbd::from_array(std::array::from_fn(|i| bgnbd_fit.values[i]));
    let mut warnings = bgnbd_warnings(&bgnbd_fit, &bgnbd);
    let (gamma_gamma, gamma_gamma_fit) = fit_gamma_gamma(spend, &mut warnings);
    Ok(Models {
        bgnbd,
        bgnbd_fit,
        gamma_gamma,
        gamma_gamma_fit,
        warnings,
    })
}

/// The models fitted, before the customers are scored.
pub struct Fitted {
    pub model: SavedLifetime,
    pub customers: usize,
    pub bgnbd_fit: Estimate,
    pub gamma_gamma_fit: Option<Estimate>,
    pub gamma_gamma_customers: usize,
    pub warnings: Vec<String>,
}

/// Why the histories cannot identify the model, in the analyst's words; None when they can.
fn unfit_reason(histories: &Histories, triples: &[(f64, f64, f64)]) -> Option<String> {
    let skipped = "the lifetime model (BG/NBD) was not fitted";
    if triples.len() < MIN_CUSTOMERS {
        return Some(format!(
            "{skipped}: it needs at least {MIN_CUSTOMERS} customers with a purchase before as-of, and the window has {}",
            triples.len()
        ));
    }
    let first = histories.first_day.iter().flatten().min().copied();
    let last = histories
        .first_day
        .iter()
        .zip(&histories.last_day)
        .filter_map(|(f, l)| f.map(|_| *l))
        .max();
    if first.is_some() && first == last {
        let day = crate::features::day_to_date(first.unwrap_or(0));
        return Some(format!(
            "{skipped}: every purchase before as-of was made on one day ({day}), so there is no time in which to see anyone come back"
        ));
    }
    if triples.iter().all(|t| t.0 == 0.0) {
        return Some(format!(
            "{skipped}: every one of the {} customers bought on one day only, so nothing tells how often customers come back or when they stop",
            triples.len()
        ));
    }
    None
}

fn fit_bgnbd(summary: &Summary) -> Result<Estimate, String> {
    let (x_sum, t_sum) = summary.histories.iter().fold((0.0, 0.0), |(x, t), h| {
        (x + h.weight * h.x, t + h.weight * h.t)
    });
    // λ = r/α starts at the mean purchase rate; the paper's start is no better on real data.
    let alpha = (t_sum / x_sum.max(1.0)).clamp(1e-3, 1e6);
    let likelihood = |p: &[f64]| {
        let (ll, g) = BgNbd::from_array([p[0], p[1], p[2], p[3]]).log_likelihood(summary);
        (ll, g.to_vec())
    };
    optimise::maximise(
        &likelihood,
        &BgNbd::NAMES,
        &[1.0, alpha, 1.0, 1.0],
        summary.customers,
    )
    .map_err(|e| format!("the lifetime model (BG/NBD) could not be fitted: {e}"))
}

/// The fit's warnings, with the two ways the dropout parameters run off said as what they mean:
/// a and b growing together narrow the Beta of the dropout probability to one value, the same
/// for every customer; a running to 0 puts it at 0, so nobody is seen to stop.
fn bgnbd_warnings(fit: &Estimate, model: &BgNbd) -> Vec<String> {
    let runaway = fit.runaway();
    let dropout = model.a / (model.a + model.b);
    let note = if runaway.contains(&"a") && model.a < 1.0 {
        format!(
            "BG/NBD: a ran to {:.1e}, so the chance of stopping after a purchase is {dropout:.1e}: in this window the model sees nobody stop, P(alive) is about 1 for everyone and it cannot tell who has left; a longer window before as-of usually helps",
            model.a
        )
    } else if runaway.contains(&"a") && runaway.contains(&"b") {
        format!(
            "BG/NBD: a and b grew without bound together (a {:.2e}, b {:.2e}): customers do not differ in how likely they are to stop, which is {} after any purchase for everyone; the figures stand, but there are no standard errors",
            model.a,
            model.b,
            crate::format::percent(dropout)
        )
    } else {
        return fit.warnings("BG/NBD", &[]);
    };
    let mut warnings = fit.warnings("BG/NBD", &["a", "b"]);
    warnings.push(note);
    warnings
}

/// Gamma-Gamma on the customers with repeat purchases; None (with a warning) when there are
/// too few, the fit fails or its population mean is infinite (q ≤ 1).
fn fit_gamma_gamma(
    spend: &[Spend],
    warnings: &mut Vec<String>,
) -> (Option<GammaGamma>, Option<Estimate>) {
    if spend.len() < MIN_CUSTOMERS {
        warnings.push(format!(
            "Gamma-Gamma (the value of future purchases) was not fitted: it needs at least {MIN_CUSTOMERS} customers with repeat purchases of positive value, and there are {}; expected order value and CLV are left blank",
            spend.len()
        ));
        return (None, None);
    }
    let mean = spend.iter().map(|s| s.mean).sum::<f64>() / spend.len() as f64;
    let prepared = SpendSummary::of(spend);
    let likelihood = |p: &[f64]| {
        let (ll, g) = GammaGamma::from_array([p[0], p[1], p[2]]).log_likelihood(&prepared);
        (ll, g.to_vec())
    };
    match optimise::maximise(
        &likelihood,
        &GammaGamma::NAMES,
        &[1.0, 2.0, mean],
        spend.len(),
    ) {
        Ok(fit) => {
            warnings.extend(fit.warnings("Gamma-Gamma", &[]));
            let model = GammaGamma::from_array(std::array::from_fn(|i| fit.values[i]));
            if model.q <= 1.0 {
                warnings.push(format!(
                    "Gamma-Gamma: q = {:.3} ≤ 1 gives the population an infinite mean spend, so expected order value and CLV are left blank",
                    model.q
                ));
                return (None, Some(fit));
            }
            (Some(model), Some(fit))
        }
        Err(e) => {
            warnings.push(format!("Gamma-Gamma could not be fitted: {e}"));
            (None, None)
        }
    }
}

impl SavedLifetime {
    /// Every customer's P(alive), expected purchases over the horizon, expected order value and
    /// CLV: the expected purchases of each 30-day step, discounted to as-of at the annual rate.
    pub fn score(&self, histories: &Histories) -> Scores {
        use rayon::prelude::*;
        let unit = self.options.time_unit.days();
        let horizon = self.options.horizon_days;
        let ends: Vec<u32> = (1..=horizon.div_ceil(CLV_STEP_DAYS))
            .map(|k| (k * CLV_STEP_DAYS).min(horizon))
            .collect();
        let rate = self.options.annual_discount_rate;
        let discount: Vec<f64> = ends
            .iter()
            .map(|&d| (1.0 + rate).powf(f64::from(d) / 365.0))
            .collect();
        let rows: Vec<[Option<f64>; 4]> = (0..histories.first_day.len())
            .into_par_iter()
            .map(|i| {
                let Some((x, t_x, t)) = histories.in_units(i, unit) else {
                    return [None; 4];
                };
                let p_alive = self.bgnbd.p_alive(x, t_x, t);
                let mut previous = 0.0;
                let mut discounted = 0.0;
                for (end, factor) in ends.iter().zip(&discount) {
                    let Some(e) = self
                        .bgnbd
                        .expected_purchases(f64::from(*end) / unit, x, t_x, t)
                    else {
                        return [Some(p_alive), None, None, None];
                    };
                    discounted += (e - previous) / factor;
                    previous = e;
                }
                let value = self
                    .gamma_gamma
                    .map(|g| g.expected_value(histories.spend(i)));
                let clv = value.map(|v| self.options.margin * v * discounted);
                [Some(p_alive), Some(previous), value, clv]
            })
            .collect();
        let failed = rows
            .iter()
            .filter(|r| r[0].is_some() && r[1].is_none())
            .count();
        let column = |j: usize| rows.iter().map(|r| r[j]).collect();
        Scores {
            p_alive: column(0),
            expected_purchases: column(1),
            expected_order_value: column(2),
            clv: column(3),
            failed,
        }
    }
}

impl Scores {
    /// The columns as features: clustered when `include` names them, else for rules and
    /// exports only.
    pub fn attach(self, table: &mut FeatureTable, include: &[String]) {
        let Scores {
            p_alive,
            expected_purchases,
            expected_order_value,
            clv,
            ..
        } = self;
        let columns = [p_alive, expected_purchases, expected_order_value, clv];
        for (name, values) in LIFETIME_COLUMNS.iter().zip(columns) {
            let kind = if *name == "p_alive" {
                FeatureKind::Share
            } else {
                FeatureKind::Numeric
            };
            let feature = Feature::new(*name, FeatureGroup::Rfm, kind, values);
            if include.iter().any(|n| n == name) {
                table.features.push(feature);
            } else {
                table.rule_only.push(feature);
            }
        }
    }
}

impl Fitted {
    /// The fit with its per-customer scores, the P(alive) matrix and, when `after` holds
    /// orders past as-of, the backtest.
    pub fn conclude(
        self,
        histories: &Histories,
        after: &[crate::features::OrderDay],
        last_day: i32,
    ) -> (Lifetime, Scores) {
        let scores = self.model.score(histories);
        let mut warnings = self.warnings;
        if scores.failed > 0 {
            warnings.push(format!(
                "the expected purchases of {} customers could not be computed (the hypergeometric series did not converge); they are left blank",
                scores.failed
            ));
        }
        let cells = (0..histories.first_day.len()).filter_map(|i| {
            let recency = histories.recency_days(i)?;
            Some((histories.days[i] - 1, recency, scores.p_alive[i]?))
        });
        let alive_matrix = AliveMatrix::of(cells);
        let unit = self.model.options.time_unit.days();
        let backtest = backtest::run(&self.model.bgnbd, histories, unit, after, last_day);
        let lifetime = Lifetime {
            model: self.model,
            customers: self.customers,
            bgnbd_fit: self.bgnbd_fit,
            gamma_gamma_fit: self.gamma_gamma_fit,
            gamma_gamma_customers: self.gamma_gamma_customers,
            alive_matrix,
            backtest,
            warnings,
        };
        (lifetime, scores)
    }
}
