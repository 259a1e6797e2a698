//! Customer profiles: the planted groups, and who buys when, what and how in each of them.
//! Some buyers blend in a second group's behaviour.

use super::calendar::LAST_DAY;
use super::sampling::{
    chance, exponential, log_normal, noisy, pick, poisson, uniform, CustomerRng,
};

/// The planted group names, in a stable order.
pub const PLANTED_GROUPS: &[&str] = &[
    "Loyal high spenders",
    "New customers",
    "Seasonal gift buyers",
    "Lapsed regulars",
    "Bargain hunters",
    "Occasional buyers",
    "Wholesale",
    "Prospects",
];

/// Share of customers per planted group, in the order of [`PLANTED_GROUPS`].
const GROUP_WEIGHTS: [f64; 8] = [0.12, 0.13, 0.14, 0.15, 0.22, 0.155, 0.005, 0.08];
/// Share of buyers that behave partly like a second group.
const HYBRID_SHARE: f64 = 0.03;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Group {
    Loyal,
    New,
    Seasonal,
    Lapsed,
    Bargain,
    Occasional,
    Wholesale,
    Prospect,
}

const GROUPS: [Group; 8] = [
    Group::Loyal,
    Group::New,
    Group::Seasonal,
    Group::Lapsed,
    Group::Bargain,
    Group::Occasional,
    Group::Wholesale,
    Group::Prospect,
];

impl Group {
    pub(super) fn name(self) -> &'static str {
        PLANTED_GROUPS[self as usize]
    }
}

/// When a customer orders.
#[derive(Debug, Clone, Copy)]
pub(super) enum Timing {
    /// Never buys.
    None,
    /// Repeat buying from `start` to `end` with gamma-distributed gaps, optionally with a pause.
    /// An `existing` customer is already mid-rhythm at `start`; a new one buys on `start`.
    Span {
        start: f64,
        existing: bool,
        end: f64,
        mean_gap: f64,
        shape: f64,
        pause: Option<(f64, f64)>,
    },
    /// First order on `first`, the other `n - 1` spread at random until `end`.
    Count { first: f64, end: f64, n: u32 },
    /// 1..=`per_season` orders in each chosen gift season, plus a few off-season ones.
    Seasonal {
        seasons: [bool; 2],
        per_season: u32,
        off_season: u32,
    },
}

/// How a customer buys and engages; numbers a second group can be blended into.
#[derive(Debug, Clone, Copy)]
pub(super) struct Style {
    /// Chance that an order of a repeat buyer is moved into the gift season.
    pub(super) seasonal_pull: f64,
    /// Mean number of extra lines (categories) per order.
    pub(super) extra_lines: f64,
    /// Mean number of extra items per line.
    pub(super) extra_qty: f64,
    /// Multiplier on category prices (premium vs cheap picks).
    pub(super) price_level: f64,
    pub(super) discount_prob: f64,
    pub(super) refund_prob: f64,
    pub(super) weekend: f64,
    pub(super) evening: f64,
    pub(super) business_hours: bool,
    pub(super) channel: [f64; 3],
    pub(super) category: [f64; 8],
    pub(super) p_open: f64,
    pub(super) p_click: f64,
    /// Chance that a click leads to a purchase (a response).
    pub(super) p_convert: f64,
    /// Browse-only sessions per month of interest.
    pub(super) browse_rate: f64,
    /// >= 1; larger values concentrate browsing towards the end of the interest window.
    pub(super) browse_recency: f64,
    /// Chance that a browse session falls in the gift season.
    pub(super) browse_season: f64,
    pub(super) cart_prob: f64,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Profile {
    pub(super) group: Group,
    pub(super) timing: Timing,
    pub(super) style: Style,
}

pub(super) fn draw_profile(rng: &mut CustomerRng) -> Profile {
    let group = GROUPS[pick(rng, &GROUP_WEIGHTS)];
    let mut profile = group_profile(group, rng);
    let buyer = !matches!(group, Group::Prospect | Group::Wholesale);
    if buyer && chance(rng, HYBRID_SHARE) {
        // Real customers are rarely pure types: take part of another group's behaviour.
        let other = loop {
            let g = GROUPS[pick(rng, &GROUP_WEIGHTS[..6])];
            if g != group {
                break g;
            }
        };
        let second = group_profile(other, rng);
        let w = uniform(rng, 0.3, 0.6);
        profile.style = blend(&profile.style, &second.style, w);
        if chance(rng, w) {
            profile.timing = second.timing;
        }
    }
    profile
}

fn group_profile(group: Group, rng: &mut CustomerRng) -> Profile {
    let (timing, style) = match group {
        Group::Loyal => loyal(rng),
        Group::New => new_customer(rng),
        Group::Seasonal => seasonal(rng),
        Group::Lapsed => lapsed(rng),
        Group::Bargain => bargain(rng),
        Group::Occasional => occasional(rng),
        Group::Wholesale => wholesale(rng),
        Group::Prospect => prospect(rng),
    };
    Profile {
        group,
        timing,
        style,
    }
}

fn lerp(a: f64, b: f64, w: f64) -> f64 {
    a + (b - a) * w
}

fn lerp_array<const N: usize>(a: [f64; N], b: [f64; N], w: f64) -> [f64; N] {
    let mut out = a;
    for (o, (x, y)) in out.iter_mut().zip(a.iter().zip(b.iter())) {
        *o = lerp(*x, *y, w);
    }
    out
}

fn blend(a: &Style, b: &Style, w: f64) -> Style {
    Style {
        seasonal_pull: lerp(a.seasonal_pull, b.seasonal_pull, w),
        extra_lines: lerp(a.extra_lines, b.extra_lines, w),
        extra_qty: lerp(a.extra_qty, b.extra_qty, w),
        price_level: lerp(a.price_level, b.price_level, w),
        discount_prob: lerp(a.discount_prob, b.discount_prob, w),
        refund_prob: lerp(a.refund_prob, b.refund_prob, w),
        weekend: lerp(a.weekend, b.weekend, w),
        evening: lerp(a.evening, b.evening, w),
        business_hours: a.business_hours,
        channel: lerp_array(a.channel, b.channel, w),
        category: lerp_array(a.category, b.category, w),
        p_open: lerp(a.p_open, b.p_open, w),
        p_click: lerp(a.p_click, b.p_click, w),
        p_convert: lerp(a.p_convert, b.p_convert, w),
        browse_rate: lerp(a.browse_rate, b.browse_rate, w),
        browse_recency: lerp(a.browse_recency, b.browse_recency, w),
        browse_season: lerp(a.browse_season, b.browse_season, w),
        cart_prob: lerp(a.cart_prob, b.cart_prob, w),
    }
}

/// A middle-of-the-road style that the group functions adjust.
fn base_style(rng: &mut CustomerRng) -> Style {
    Style {
        seasonal_pull: uniform(rng, 0.0, 0.08),
        extra_lines: uniform(rng, 0.3, 1.1),
        extra_qty: uniform(rng, 0.15, 0.4),
        price_level: log_normal(rng, 1.0, 0.3),
        discount_prob: uniform(rng, 0.05, 0.3),
        refund_prob: uniform(rng, 0.006, 0.018),
        weekend: uniform(rng, 0.2, 0.35),
        evening: uniform(rng, 0.15, 0.35),
        business_hours: false,
        channel: noisy(rng, [0.45, 0.25, 0.30], 0.4),
        category: noisy(rng, [2.0, 3.0, 2.5, 2.0, 1.5, 1.5, 2.0, 1.0], 0.5),
        p_open: uniform(rng, 0.15, 0.45),
        p_click: uniform(rng, 0.2, 0.45),
        p_convert: uniform(rng, 0.1, 0.3),
        browse_rate: uniform(rng, 0.2, 0.6),
        browse_recency: 1.0,
        browse_season: 0.1,
        cart_prob: uniform(rng, 0.1, 0.3),
    }
}

/// Start of a repeat buyer's rhythm: day 0 for a customer from before the period (with
/// probability `existing`), else the day they joined, up to `latest_join`.
fn span_start(rng: &mut CustomerRng, existing: f64, latest_join: f64) -> (f64, bool) {
    if chance(rng, existing) {
        (0.0, true)
    } else {
        (uniform(rng, 0.0, latest_join), false)
    }
}

/// Day the period ends minus an exponential gap: the last purchase of an active customer.
fn active_end(rng: &mut CustomerRng, mean_gap: f64) -> f64 {
    (LAST_DAY as f64 - exponential(rng, mean_gap)).max(0.0)
}

fn loyal(rng: &mut CustomerRng) -> (Timing, Style) {
    let (start, existing) = span_start(rng, 0.75, 400.0);
    // Some loyal customers take a break of a few months and come back.
    let pause = chance(rng, 0.12).then(|| (uniform(rng, 100.0, 600.0), uniform(rng, 60.0, 180.0)));
    let timing = Timing::Span {
        start,
        existing,
        end: active_end(rng, 12.0),
        mean_gap: log_normal(rng, 28.0, 0.35).clamp(8.0, 90.0),
        shape: 2.5,
        pause,
    };
    let mut s = base_style(rng);
    s.extra_lines = uniform(rng, 0.8, 2.0);
    s.price_level = log_normal(rng, 1.6, 0.25);
    s.discount_prob = uniform(rng, 0.0, 0.15);
    s.refund_prob = uniform(rng, 0.003, 0.012);
    s.category = noisy(rng, [3.0, 3.0, 3.0, 2.0, 1.0, 2.0, 2.0, 2.0], 0.5);
    s.p_open = uniform(rng, 0.35, 0.65);
    s.p_click = uniform(rng, 0.3, 0.5);
    s.p_convert = uniform(rng, 0.3, 0.5);
    s.browse_rate = uniform(rng, 0.4, 1.0);
    s.browse_recency = 1.5;
    s.cart_prob = uniform(rng, 0.2, 0.4);
    (timing, s)
}

fn new_customer(rng: &mut CustomerRng) -> (Timing, Style) {
    let timing = Timing::Count {
        first: LAST_DAY as f64 - uniform(rng, 2.0, 100.0),
        end: LAST_DAY as f64,
        n: 1 + pick(rng, &[0.25, 0.4, 0.35]) as u32,
    };
    let mut s = base_style(rng);
    s.discount_prob = uniform(rng, 0.1, 0.5);
    s.channel = noisy(rng, [0.5, 0.35, 0.15], 0.4);
    s.p_open = uniform(rng, 0.1, 0.3);
    s.browse_rate = uniform(rng, 2.5, 5.0);
    s.browse_recency = 1.5;
    s.cart_prob = uniform(rng, 0.2, 0.45);
    (timing, s)
}

fn seasonal(rng: &mut CustomerRng) -> (Timing, Style) {
    let seasons = match pick(rng, &[0.8, 0.07, 0.13]) {
        0 => [true, true],
        1 => [false, true],
        _ => [true, false],
    };
    let timing = Timing::Seasonal {
        seasons,
        per_season: 3,
        off_season: poisson(rng, 0.3),
    };
    let mut s = base_style(rng);
    s.extra_lines = uniform(rng, 0.8, 2.0);
    s.extra_qty = uniform(rng, 0.3, 0.6);
    s.price_level = log_normal(rng, 1.1, 0.3);
    s.discount_prob = uniform(rng, 0.1, 0.35);
    s.refund_prob = uniform(rng, 0.006, 0.018);
    s.weekend = uniform(rng, 0.6, 0.9);
    s.evening = uniform(rng, 0.6, 0.9);
    s.channel = noisy(rng, [0.5, 0.25, 0.25], 0.4);
    s.category = noisy(rng, [1.0, 1.0, 0.5, 3.0, 4.0, 1.0, 0.3, 3.0], 0.5);
    s.p_open = uniform(rng, 0.2, 0.5);
    s.browse_rate = uniform(rng, 0.2, 0.5);
    s.browse_season = uniform(rng, 0.6, 0.9);
    (timing, s)
}

fn lapsed(rng: &mut CustomerRng) -> (Timing, Style) {
    let (start, existing) = span_start(rng, 0.8, 120.0);
    let timing = Timing::Span {
        start,
        existing,
        end: LAST_DAY as f64 - uniform(rng, 185.0, 430.0),
        mean_gap: log_normal(rng, 26.0, 0.35).clamp(7.0, 90.0),
        shape: 2.0,
        pause: None,
    };
    let mut s = base_style(rng);
    s.price_level = log_normal(rng, 1.2, 0.3);
    s.discount_prob = uniform(rng, 0.05, 0.35);
    s.refund_prob = uniform(rng, 0.006, 0.018);
    s.p_open = uniform(rng, 0.25, 0.5);
    s.browse_rate = uniform(rng, 0.3, 0.8);
    (timing, s)
}

fn bargain(rng: &mut CustomerRng) -> (Timing, Style) {
    let (start, existing) = span_start(rng, 0.6, 450.0);
    let timing = Timing::Span {
        start,
        existing,
        end: active_end(rng, 20.0),
        mean_gap: log_normal(rng, 32.0, 0.4).clamp(6.0, 150.0),
        shape: 1.5,
        pause: None,
    };
    let mut s = base_style(rng);
    s.extra_lines = uniform(rng, 0.2, 0.9);
    s.extra_qty = uniform(rng, 0.3, 0.7);
    s.price_level = log_normal(rng, 0.6, 0.25);
    s.discount_prob = uniform(rng, 0.6, 0.95);
    s.refund_prob = uniform(rng, 0.12, 0.16); // serial returners
    s.evening = uniform(rng, 0.25, 0.55);
    s.channel = noisy(rng, [0.25, 0.65, 0.10], 0.4);
    s.category = noisy(rng, [1.0, 3.0, 2.0, 3.0, 1.0, 1.0, 3.0, 0.3], 0.5);
    s.p_open = uniform(rng, 0.55, 0.85);
    s.p_click = uniform(rng, 0.4, 0.7);
    s.p_convert = uniform(rng, 0.35, 0.65);
    s.browse_rate = uniform(rng, 0.5, 1.2);
    s.browse_recency = 1.3;
    s.cart_prob = uniform(rng, 0.3, 0.6);
    (timing, s)
}

fn occasional(rng: &mut CustomerRng) -> (Timing, Style) {
    let timing = Timing::Count {
        first: uniform(rng, 0.0, 550.0),
        end: LAST_DAY as f64,
        n: 1 + pick(rng, &[0.35, 0.3, 0.2, 0.15]) as u32,
    };
    let mut s = base_style(rng);
    s.channel = noisy(rng, [0.45, 0.2, 0.35], 0.4);
    s.p_open = uniform(rng, 0.05, 0.3);
    s.p_convert = uniform(rng, 0.03, 0.15);
    s.browse_rate = uniform(rng, 0.05, 0.3);
    (timing, s)
}

fn wholesale(rng: &mut CustomerRng) -> (Timing, Style) {
    let (start, existing) = span_start(rng, 0.85, 200.0);
    let timing = Timing::Span {
        start,
        existing,
        end: active_end(rng, 10.0),
        mean_gap: uniform(rng, 5.0, 15.0),
        shape: 3.0,
        pause: None,
    };
    let mut s = base_style(rng);
    s.extra_lines = uniform(rng, 2.0, 5.0);
    s.extra_qty = log_normal(rng, 30.0, 0.6);
    s.price_level = log_normal(rng, 0.8, 0.2);
    s.discount_prob = uniform(rng, 0.1, 0.4);
    s.refund_prob = uniform(rng, 0.006, 0.018);
    s.weekend = 0.03;
    s.evening = 0.02;
    s.business_hours = true;
    s.channel = noisy(rng, [0.45, 0.0, 0.55], 0.4);
    s.category = noisy(rng, [2.0, 1.0, 3.0, 1.0, 1.0, 1.0, 3.0, 0.2], 0.5);
    s.p_open = uniform(rng, 0.1, 0.3);
    s.p_convert = uniform(rng, 0.05, 0.15);
    s.browse_rate = uniform(rng, 0.2, 0.8);
    (timing, s)
}

fn prospect(rng: &mut CustomerRng) -> (Timing, Style) {
    let mut s = base_style(rng);
    s.p_open = uniform(rng, 0.05, 0.35);
    s.p_convert = 0.0; // a response is a purchase, and prospects never buy
    s.browse_rate = uniform(rng, 0.3, 1.2);
    s.browse_recency = 1.3;
    s.cart_prob = uniform(rng, 0.2, 0.6);
    (Timing::None, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_has_a_weight() {
        assert_eq!(PLANTED_GROUPS.len(), GROUP_WEIGHTS.len());
    }
}
