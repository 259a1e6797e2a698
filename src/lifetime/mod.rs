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
mod fit;
pub mod gamma_gamma;
mod history;
pub mod optimise;
mod scores;
mod special;
mod stage;
mod summary;

use serde::{Deserialize, Serialize};

pub use alive_matrix::AliveMatrix;
pub use backtest::Backtest;
pub use bgnbd::BgNbd;
pub use fit::{fit, fit_models, Fitted, Models};
pub use gamma_gamma::{GammaGamma, Spend, SpendSummary};
pub use history::Histories;
pub use optimise::Estimate;
pub use scores::Scores;
pub use stage::{apply_saved, fit_on, not_fitted, table_of_job};
pub use summary::Summary;

use crate::job::LifetimeOptions;

/// How every note of a lifetime model that was not fitted starts.
pub const NOT_FITTED: &str = "the lifetime model";

/// Fewer customers with a purchase than this cannot fit four parameters.
pub const MIN_CUSTOMERS: usize = 10;
/// Days in a CLV step: expected purchases are discounted month by month, as `lifetimes` does.
pub(crate) const CLV_STEP_DAYS: u32 = 30;

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
