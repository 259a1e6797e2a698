//! Both models fitted by maximum likelihood on the customers' histories, with what the analyst
//! must know about each fit; the fit then scores every customer ([`Fitted::conclude`]).

use super::optimise::{self, Estimate};
use super::{
    backtest, AliveMatrix, BgNbd, GammaGamma, Histories, Lifetime, SavedLifetime, Scores, Spend,
    SpendSummary, Summary, MIN_CUSTOMERS,
};
use crate::job::LifetimeOptions;

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
    let summary = Summary::of(&triples);
    let models = fit_models(&summary, &spend)?;
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
        summary,
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

/// BG/NBD on the customers' distinct (x, tₓ, T) and Gamma-Gamma on the repeat purchases'
/// spend: what [`fit`] does once the histories are counted (and the benchmark times on a summary
/// table).
pub fn fit_models(summary: &Summary, spend: &[Spend]) -> Result<Models, String> {
    let bgnbd_fit = fit_bgnbd(summary)?;
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
    /// The distinct histories fitted on, which the backtest predicts for again.
    pub summary: Summary,
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
        let backtest = backtest::run(
            &self.model.bgnbd,
            histories,
            &self.summary,
            unit,
            after,
            last_day,
        );
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
