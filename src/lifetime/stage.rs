//! The lifetime stage between features and rules: the job's model fitted on the transaction log
//! (or a saved one applied) and its columns added to the feature table.

use super::{fit, Histories, Lifetime, SavedLifetime, Scores};
use crate::error::Result;
use crate::features::{date_to_day, order_days, FeatureTable, OrderDay};
use crate::job::{LifetimeOptions, LIFETIME_COLUMNS};
use crate::load::Inputs;

/// The window's orders and, when the log goes on past as-of, the orders after it.
struct Orders {
    window: Vec<OrderDay>,
    after: Vec<OrderDay>,
    last_day: i32,
}

/// The orders of the transaction log around `table.as_of`; None when the inputs have no log.
fn orders(inputs: &Inputs, table: &FeatureTable, with_after: bool) -> Result<Option<Orders>> {
    let Some(tx) = &inputs.transactions else {
        return Ok(None);
    };
    let as_of = date_to_day(table.as_of);
    let window = order_days(tx, None, Some(as_of))?;
    let last_day = crate::features::latest_transaction_day(inputs).unwrap_or(as_of - 1);
    let after = if with_after && last_day >= as_of {
        order_days(tx, Some(as_of), None)?
    } else {
        Vec::new()
    };
    Ok(Some(Orders {
        window,
        after,
        last_day,
    }))
}

const NO_LOG: &str = "the lifetime model was not fitted: it needs a transaction log (`[inputs.transactions]`), and this job has none";

/// Fits `options`' model on the inputs as of `table.as_of` and adds every customer's figures to
/// `table` (clustered when `include` names them). None, with the reason among the table's notes,
/// when the inputs cannot support a fit.
pub fn fit_on(
    inputs: &Inputs,
    table: &mut FeatureTable,
    options: &LifetimeOptions,
    include: &[String],
) -> Result<Option<Lifetime>> {
    let Some(orders) = orders(inputs, table, true)? else {
        not_fitted(table, NO_LOG.to_string(), include);
        return Ok(None);
    };
    let histories = Histories::of(&orders.window, table.len(), date_to_day(table.as_of));
    let fitted = match fit(&histories, options) {
        Ok(fitted) => fitted,
        Err(note) => {
            not_fitted(table, note, include);
            return Ok(None);
        }
    };
    let (lifetime, scores) = fitted.conclude(&histories, &orders.after, orders.last_day);
    scores.attach(table, include);
    Ok(Some(lifetime))
}

/// The note of a model that could not be fitted, and its columns blank for every customer: the
/// job's rules that read them then match nobody, with a warning, instead of failing the run.
pub fn not_fitted(table: &mut FeatureTable, note: String, include: &[String]) {
    table.notes.push(note);
    let blank = vec![None; table.len()];
    Scores {
        p_alive: blank.clone(),
        expected_purchases: blank.clone(),
        expected_order_value: blank.clone(),
        clv: blank,
        failed: 0,
    }
    .attach(table, include);
}

/// A saved model's figures for the customers of `inputs`, as of `table.as_of`, without refitting;
/// the columns its preparation clusters on go with the features.
pub fn apply_saved(
    inputs: &Inputs,
    table: &mut FeatureTable,
    saved: &SavedLifetime,
    clustered: &[String],
) -> Result<()> {
    let Some(orders) = orders(inputs, table, false)? else {
        table.notes.push(NO_LOG.to_string());
        return Ok(());
    };
    let histories = Histories::of(&orders.window, table.len(), date_to_day(table.as_of));
    let include: Vec<String> = LIFETIME_COLUMNS
        .iter()
        .filter(|c| clustered.iter().any(|n| n == *c))
        .map(|c| c.to_string())
        .collect();
    saved.score(&histories).attach(table, &include);
    Ok(())
}

/// The feature table of `job` as of `as_of`, with a saved model's columns when there is one: the
/// table `apply` assigns new customers from.
pub fn table_of_job(
    job: &crate::job::Job,
    as_of: Option<chrono::NaiveDate>,
    saved: Option<&SavedLifetime>,
    clustered: &[String],
) -> Result<FeatureTable> {
    let (mut table, _, inputs) = crate::features::of_job_with_inputs(job, as_of)?;
    if let Some(saved) = saved {
        match &inputs {
            Some(inputs) => apply_saved(inputs, &mut table, saved, clustered)?,
            None => table.notes.push(NO_LOG.to_string()),
        }
    }
    Ok(table)
}
