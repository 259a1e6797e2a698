//! Every customer's figures from a fitted model, and their place in the feature table.

use super::{Histories, SavedLifetime, CLV_STEP_DAYS};
use crate::features::{Feature, FeatureGroup, FeatureKind, FeatureTable};
use crate::job::LIFETIME_COLUMNS;

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
