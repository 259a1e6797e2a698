//! Maximum likelihood for the lifetime models: argmin's L-BFGS on the log of every parameter
//! (so each stays positive without bounds), then standard errors from the Hessian at the
//! optimum, and warnings when the search did not converge or a parameter ran off.

use std::sync::Mutex;

use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason, TerminationStatus};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use serde::{Deserialize, Serialize};

/// Iterations before a fit is declared not converged.
const MAX_ITERATIONS: u64 = 1_000;
/// A parameter outside [1/RUNAWAY, RUNAWAY] ran to a bound of its range: the data cannot fix it.
pub const RUNAWAY: f64 = 1e5;

/// A fitted model's parameters with what is known of their precision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub names: Vec<String>,
    pub values: Vec<f64>,
    /// From the inverse of the negative Hessian; None where it is not positive definite.
    pub standard_errors: Vec<Option<f64>>,
    pub log_likelihood: f64,
    pub iterations: u64,
    pub converged: bool,
}

/// A log-likelihood over natural parameters: its value and gradient.
pub trait Likelihood: Sync {
    fn value_and_gradient(&self, params: &[f64]) -> (f64, Vec<f64>);
}

impl<F: Fn(&[f64]) -> (f64, Vec<f64>) + Sync> Likelihood for F {
    fn value_and_gradient(&self, params: &[f64]) -> (f64, Vec<f64>) {
        self(params)
    }
}

/// A point with its cost and gradient.
type Evaluation = (Vec<f64>, f64, Vec<f64>);

/// The negative mean log-likelihood over log-parameters, as argmin minimises it. The mean keeps
/// the tolerances the same for ten customers and ten million. The last point's value and
/// gradient are kept: the line search asks for both at the same point.
struct Problem<'a, L> {
    likelihood: &'a L,
    scale: f64,
    last: Mutex<Option<Evaluation>>,
}

impl<L: Likelihood> Problem<'_, L> {
    fn evaluate(&self, log_params: &[f64]) -> (f64, Vec<f64>) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, cost, gradient)) = last.as_ref() {
            if at == log_params {
                return (*cost, gradient.clone());
            }
        }
        let params: Vec<f64> = log_params.iter().map(|v| v.exp()).collect();
        let (ll, gradient) = self.likelihood.value_and_gradient(&params);
        let cost = if ll.is_finite() {
            -ll / self.scale
        } else {
            f64::INFINITY
        };
        // d/d(ln θ) = θ d/dθ.
        let gradient: Vec<f64> = gradient
            .iter()
            .zip(&params)
            .map(|(g, p)| {
                if g.is_finite() {
                    -g * p / self.scale
                } else {
                    0.0
                }
            })
            .collect();
        *last = Some((log_params.to_vec(), cost, gradient.clone()));
        (cost, gradient)
    }
}

impl<L: Likelihood> CostFunction for Problem<'_, L> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, p: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        Ok(self.evaluate(p).0)
    }
}

impl<L: Likelihood> Gradient for Problem<'_, L> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, p: &Vec<f64>) -> Result<Vec<f64>, argmin::core::Error> {
        Ok(self.evaluate(p).1)
    }
}

/// Maximises `likelihood` over `customers` from `start`; Err with argmin's message when the
/// search itself failed.
pub fn maximise<L: Likelihood>(
    likelihood: &L,
    names: &[&str],
    start: &[f64],
    customers: usize,
) -> Result<Estimate, String> {
    let problem = Problem {
        likelihood,
        scale: customers.max(1) as f64,
        last: Mutex::new(None),
    };
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(1e-9)
        .and_then(|s| s.with_tolerance_cost(1e-15))
        .map_err(|e| e.to_string())?;
    let init: Vec<f64> = start.iter().map(|v| v.ln()).collect();
    let result = Executor::new(problem, solver)
        .configure(|state| state.param(init).max_iters(MAX_ITERATIONS))
        .run()
        .map_err(|e| e.to_string())?;
    let state = result.state();
    let best = state
        .get_best_param()
        .ok_or("the search found no point with a finite likelihood")?;
    let values: Vec<f64> = best.iter().map(|v| v.exp()).collect();
    let converged = matches!(
        state.get_termination_status(),
        TerminationStatus::Terminated(
            TerminationReason::SolverConverged | TerminationReason::TargetCostReached
        )
    );
    let (log_likelihood, _) = likelihood.value_and_gradient(&values);
    Ok(Estimate {
        names: names.iter().map(|n| n.to_string()).collect(),
        standard_errors: standard_errors(likelihood, &values),
        values,
        log_likelihood,
        iterations: state.get_iter(),
        converged,
    })
}

impl Estimate {
    /// The parameters that ran to a bound of their range.
    pub fn runaway(&self) -> Vec<&str> {
        self.names
            .iter()
            .zip(&self.values)
            .filter(|(_, v)| !(1.0 / RUNAWAY..=RUNAWAY).contains(*v))
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// What the analyst must know about this fit, for the run's warnings; `explained` names
    /// runaway parameters the caller explains itself (the standard errors go with them).
    pub fn warnings(&self, model: &str, explained: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        if !self.converged {
            out.push(format!(
                "{model}: the likelihood search stopped after {} iterations without converging; the parameters may be off",
                self.iterations
            ));
        }
        for (name, value) in self.names.iter().zip(&self.values) {
            if !(1.0 / RUNAWAY..=RUNAWAY).contains(value) && !explained.contains(&name.as_str()) {
                out.push(format!(
                    "{model}: {name} ran to {value:.3e}, the edge of its range — the data cannot pin it down, so the model's figures rest on the others"
                ));
            }
        }
        for ((name, value), se) in self
            .names
            .iter()
            .zip(&self.values)
            .zip(&self.standard_errors)
        {
            let explained = explained.contains(&name.as_str());
            if let Some(se) = se.filter(|se| !explained && *se > value.abs()) {
                out.push(format!(
                    "{model}: {name} is poorly determined ({value:.4} with a standard error of {se:.4}): the data says little about it, so read the figures that rest on it loosely"
                ));
            }
        }
        if explained.is_empty() && self.standard_errors.iter().any(Option::is_none) {
            out.push(format!(
                "{model}: the likelihood is flat or not at a maximum there, so standard errors are not available"
            ));
        }
        out
    }

    pub fn value(&self, name: &str) -> Option<f64> {
        let i = self.names.iter().position(|n| n == name)?;
        Some(self.values[i])
    }
}

/// √diag((−H)⁻¹), with H the Hessian of the total log-likelihood by central differences of its
/// gradient; None for every parameter when −H is not positive definite.
fn standard_errors<L: Likelihood>(likelihood: &L, at: &[f64]) -> Vec<Option<f64>> {
    let n = at.len();
    let mut hessian = vec![vec![0.0; n]; n];
    for i in 0..n {
        let step = 1e-5 * at[i];
        let shifted = |d: f64| {
            let mut p = at.to_vec();
            p[i] += d;
            likelihood.value_and_gradient(&p).1
        };
        let (up, down) = (shifted(step), shifted(-step));
        for j in 0..n {
            hessian[i][j] = (up[j] - down[j]) / (2.0 * step);
        }
    }
    let information: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| -(hessian[i][j] + hessian[j][i]) / 2.0)
                .collect()
        })
        .collect();
    match invert_positive_definite(information) {
        Some(covariance) => (0..n).map(|i| Some(covariance[i][i].sqrt())).collect(),
        None => vec![None; n],
    }
}

/// The inverse of a small symmetric matrix by Gauss–Jordan elimination; None unless it is
/// positive definite (every pivot positive without row exchanges).
fn invert_positive_definite(mut m: Vec<Vec<f64>>) -> Option<Vec<Vec<f64>>> {
    let n = m.len();
    let mut inverse: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    for col in 0..n {
        let pivot = m[col][col];
        if !(pivot > 0.0 && pivot.is_finite()) {
            return None;
        }
        for j in 0..n {
            m[col][j] /= pivot;
            inverse[col][j] /= pivot;
        }
        for row in 0..n {
            if row != col {
                let factor = m[row][col];
                for j in 0..n {
                    m[row][j] -= factor * m[col][j];
                    inverse[row][j] -= factor * inverse[col][j];
                }
            }
        }
    }
    Some(inverse)
}

/// Asserts that `gradient` at `at` is the slope of `value` there, by central differences.
#[cfg(test)]
pub(super) fn assert_gradient(at: &[f64], value: impl Fn(&[f64]) -> f64, gradient: &[f64]) {
    for i in 0..at.len() {
        let step = 1e-6 * at[i];
        let shifted = |d: f64| {
            let mut p = at.to_vec();
            p[i] += d;
            value(&p)
        };
        let numeric = (shifted(step) - shifted(-step)) / (2.0 * step);
        assert!(
            (numeric - gradient[i]).abs() < 1e-6 * numeric.abs().max(1.0),
            "parameter {i}: {numeric} by differences vs {} analytic",
            gradient[i]
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ln L(μ, σ) of `data` under a normal distribution, maximised from (1, 1).
    fn gaussian_fit(data: &[f64]) -> Estimate {
        let n = data.len() as f64;
        let likelihood = |p: &[f64]| {
            let (mu, sigma) = (p[0], p[1]);
            let ss: f64 = data.iter().map(|x| (x - mu).powi(2)).sum();
            let sum: f64 = data.iter().map(|x| x - mu).sum();
            let ll = -n * sigma.ln() - ss / (2.0 * sigma * sigma);
            (
                ll,
                vec![sum / (sigma * sigma), -n / sigma + ss / sigma.powi(3)],
            )
        };
        maximise(&likelihood, &["mu", "sigma"], &[1.0, 1.0], data.len()).unwrap()
    }

    #[test]
    fn a_gaussian_likelihood_gives_its_mean_and_standard_error() {
        // ln L(μ, σ) of 5 observations; its maximum is the sample mean and the biased SD, and the
        // standard error of μ there is σ̂/√n.
        let data = [2.0, 3.5, 4.0, 5.5, 7.0];
        let n = data.len() as f64;
        let fit = gaussian_fit(&data);
        let mean = data.iter().sum::<f64>() / n;
        let sd = (data.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!(fit.converged);
        assert!((fit.values[0] - mean).abs() < 1e-7, "{:?}", fit.values);
        assert!((fit.values[1] - sd).abs() < 1e-7);
        let se = fit.standard_errors[0].unwrap();
        assert!((se - sd / n.sqrt()).abs() < 1e-5, "{se}");
        assert!(fit.warnings("test", &[]).is_empty());
    }

    #[test]
    fn a_parameter_the_data_barely_fixes_is_named() {
        // Three observations whose mean (0.23) is well inside its standard error (1.06).
        let data = [-2.0, 0.2, 2.5];
        let fit = gaussian_fit(&data);
        let warnings = fit.warnings("toy", &[]).join("\n");
        assert!(warnings.contains("mu is poorly determined"), "{warnings}");
        assert!(!warnings.contains("sigma is poorly"), "{warnings}");
    }

    #[test]
    fn a_parameter_without_a_maximum_is_named() {
        // ln L = −1/θ rises for ever: θ runs off and the warning says which parameter.
        let likelihood = |p: &[f64]| (-1.0 / p[0], vec![1.0 / (p[0] * p[0])]);
        let fit = maximise(&likelihood, &["theta"], &[1.0], 1).unwrap();
        let warnings = fit.warnings("toy", &[]).join("\n");
        assert!(warnings.contains("theta ran to"), "{warnings}");
    }
}
