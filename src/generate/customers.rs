//! A customer's row: sign-up date and demographics, shaped by the planted group.

use chrono::NaiveDate;
use rand::Rng;
use rand_distr::StandardNormal;

use super::calendar::LAST_DAY;
use super::catalogue::{GEOGRAPHY, INTERESTS};
use super::profiles::{Group, Profile};
use super::sampling::{chance, exponential, log_normal, pick, pick_by, uniform, CustomerRng};
use super::SyntheticData;

pub(super) fn push_customer(
    id: &str,
    profile: &Profile,
    signup: NaiveDate,
    rng: &mut CustomerRng,
    data: &mut SyntheticData,
) {
    let rows = &mut data.customers;
    rows.customer_id.push(id.to_string());
    rows.birth_year.push(birth_year(profile.group, rng));
    rows.gender.push(gender(rng));
    let (country, city) = place(rng);
    rows.country.push(country.to_string());
    rows.city.push(city.to_string());
    rows.income.push(income(profile.group, rng));
    rows.signup_date.push(signup);
    rows.tags.push(tags(profile.group, rng));
}

/// Sign-up day offset (may precede the period): on or before the first purchase.
pub(super) fn signup_day(group: Group, first: Option<i64>, rng: &mut CustomerRng) -> i64 {
    match (group, first) {
        (_, None) => {
            if chance(rng, 0.35) {
                -(uniform(rng, 30.0, 1500.0) as i64)
            } else {
                // Sign-ups without purchase pile up towards the present.
                (LAST_DAY as f64 * rng.gen::<f64>().powf(0.7)) as i64
            }
        }
        (Group::New, Some(first)) => first - rng.gen_range(0..21),
        (_, Some(first)) => {
            // Many buyers had an account long before their first purchase in this extract.
            let before_period = if first < 120 { 0.8 } else { 0.5 };
            if chance(rng, before_period) {
                -(uniform(rng, 30.0, 2900.0) as i64)
            } else {
                first - exponential(rng, 20.0) as i64
            }
        }
    }
}

fn birth_year(group: Group, rng: &mut CustomerRng) -> Option<i32> {
    if chance(rng, 0.02) {
        return None;
    }
    let (mean, sd) = match group {
        Group::Loyal => (1972.0, 12.0),
        Group::New => (1990.0, 10.0),
        Group::Bargain => (1988.0, 11.0),
        Group::Seasonal => (1978.0, 12.0),
        Group::Wholesale => (1970.0, 9.0),
        _ => (1981.0, 14.0),
    };
    let z: f64 = rng.sample(StandardNormal);
    Some(((mean + sd * z).round() as i32).clamp(1945, 2006))
}

fn gender(rng: &mut CustomerRng) -> Option<String> {
    let g = match pick(rng, &[0.52, 0.45, 0.01, 0.02]) {
        0 => "F",
        1 => "M",
        2 => "X",
        _ => return None,
    };
    Some(g.to_string())
}

fn place(rng: &mut CustomerRng) -> (&'static str, &'static str) {
    let (country, _, cities) = GEOGRAPHY[pick_by(rng, &GEOGRAPHY, |(_, w, _)| *w)];
    (country, cities[pick_by(rng, cities, |(_, w)| *w)].0)
}

/// Yearly income: log-normal with a Pareto-like top, shifted by group; ~5 % unknown.
fn income(group: Group, rng: &mut CustomerRng) -> Option<f64> {
    if chance(rng, 0.05) {
        return None;
    }
    let factor = match group {
        Group::Loyal => 1.45,
        Group::Wholesale => 1.6,
        Group::Bargain => 0.8,
        Group::New => 0.9,
        _ => 1.0,
    };
    let mut value = log_normal(rng, 36_000.0 * factor, 0.5);
    if chance(rng, 0.03) {
        value *= 1.0 + exponential(rng, 2.0); // the rich few
    }
    Some((value / 100.0).round() * 100.0)
}

/// Interests joined by ';' in a fixed order; each interest drawn with a group-shaped chance.
fn tags(group: Group, rng: &mut CustomerRng) -> String {
    // sports travel cooking fashion tech gaming gardening music reading fitness family wellness
    let boost: [f64; 12] = match group {
        Group::Loyal => [1.0, 2.0, 1.5, 1.2, 1.5, 0.7, 1.2, 1.0, 1.3, 1.0, 1.0, 1.2],
        Group::Seasonal => [0.8, 1.0, 1.2, 1.0, 0.8, 1.0, 1.0, 1.0, 1.2, 0.8, 2.5, 1.2],
        Group::Bargain => [1.0, 0.7, 1.0, 2.0, 0.8, 1.5, 0.8, 1.2, 0.8, 1.2, 1.3, 1.0],
        Group::New => [1.2, 1.0, 0.8, 1.2, 1.5, 1.5, 0.5, 1.3, 0.8, 1.3, 0.8, 1.0],
        _ => [1.0; 12],
    };
    let mut out = String::new();
    for (interest, b) in INTERESTS.iter().zip(boost) {
        if chance(rng, 0.12 * b) {
            if !out.is_empty() {
                out.push(';');
            }
            out.push_str(interest);
        }
    }
    out
}
