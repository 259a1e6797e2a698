//! A customer's orders: the days they buy on, the lines of each order, refunds, and the
//! web/app session that leads to an online order.

use rand::Rng;

use super::calendar::{moment, Calendar, Moment, Window, LAST_DAY};
use super::catalogue::{
    BASE_PRICE, CATEGORIES, QTY_FACTOR, RETURN_PROPENSITY, STORE, TRACKED_SHARE,
};
use super::profiles::{Profile, Style, Timing};
use super::sampling::{chance, gamma, log_normal, pick, poisson, uniform, CustomerRng};
use super::sessions::add_session;
use super::Scratch;

/// Orders per customer are capped so that order ids stay unique (`index * 1000 + seq`).
const MAX_ORDERS: usize = 999;

/// One transaction line before it is written out.
pub(super) struct Line {
    pub(super) timestamp: Moment,
    pub(super) seq: u32,
    pub(super) refund: bool,
    pub(super) category: u8,
    pub(super) channel: u8,
    pub(super) quantity: i64,
    pub(super) unit_price: f64,
    pub(super) discount: f64,
    pub(super) amount: f64,
}

/// All orders of a customer (days already in `scratch.days`), with returns and sessions.
pub(super) fn add_orders(style: &Style, rng: &mut CustomerRng, scratch: &mut Scratch) {
    let style = Style {
        refund_prob: style.refund_prob * returner_scale(scratch.days.len()),
        ..*style
    };
    // Phase of the customer's return rhythm (see `add_order`).
    let mut return_due = rng.gen::<f64>();
    for (seq, &day) in scratch.days.iter().enumerate() {
        let order = OrderContext {
            style: &style,
            day,
            seq: seq as u32,
        };
        add_order(
            &order,
            &mut return_due,
            rng,
            &mut scratch.lines,
            &mut scratch.events,
        );
    }
}

/// Returns come mostly from regulars, who know the sizes and order several to try them on;
/// a one-off buyer rarely sends anything back.
fn returner_scale(orders: usize) -> f64 {
    (orders as f64 / 12.0).min(1.0)
}

/// Sorted order days (offsets in the period) of one customer.
pub(super) fn order_days(
    profile: &Profile,
    calendar: &Calendar,
    rng: &mut CustomerRng,
    raw: &mut Vec<f64>,
    out: &mut Vec<i64>,
) {
    raw.clear();
    match profile.timing {
        Timing::None => {}
        Timing::Span {
            start,
            existing,
            end,
            mean_gap,
            shape,
            pause,
        } => {
            let first = if existing {
                start + uniform(rng, 0.0, mean_gap)
            } else {
                start
            };
            span_days(rng, (first, end, mean_gap, shape), pause, raw);
        }
        Timing::Count { first, end, n } => {
            raw.push(first);
            raw.extend((1..n).map(|_| uniform(rng, first, end)));
        }
        Timing::Seasonal {
            seasons,
            per_season,
            off_season,
        } => {
            for (season, _) in calendar.seasons.iter().zip(seasons).filter(|(_, on)| *on) {
                let n = rng.gen_range(1..=per_season.max(1));
                raw.extend((0..n).map(|_| late_in(rng, *season)));
            }
            raw.extend((0..off_season).map(|_| uniform(rng, 0.0, LAST_DAY as f64)));
        }
    }
    for &day in raw.iter().take(MAX_ORDERS) {
        let day = pull_into_season(day, profile.style.seasonal_pull, calendar, rng);
        out.push(place_in_week(day as i64, profile.style.weekend, rng));
    }
    out.sort_unstable();
}

/// Repeat purchases with gamma gaps from `start` until `end`.
fn span_days(
    rng: &mut CustomerRng,
    (start, end, mean_gap, shape): (f64, f64, f64, f64),
    pause: Option<(f64, f64)>,
    out: &mut Vec<f64>,
) {
    let mut day = start;
    let mut paused = false;
    while day <= end && out.len() < MAX_ORDERS {
        out.push(day);
        day += gamma(rng, shape, mean_gap).max(1.0);
        if let Some((at, length)) = pause {
            if !paused && day >= at {
                day += length;
                paused = true;
            }
        }
    }
}

/// A day in the window, skewed towards its end (gift buying peaks before Christmas).
fn late_in(rng: &mut CustomerRng, window: Window) -> f64 {
    window.start + window.len() * rng.gen::<f64>().powf(0.6)
}

/// With probability `pull`, moves a day into the gift season of its year.
fn pull_into_season(day: f64, pull: f64, calendar: &Calendar, rng: &mut CustomerRng) -> f64 {
    if !chance(rng, pull) {
        return day;
    }
    let season = if day < 366.0 {
        calendar.seasons[0]
    } else {
        calendar.seasons[1]
    };
    // Only pull later in time when the customer is still buying by then; never before day 0.
    if season.start >= day || season.contains(day) {
        return day;
    }
    late_in(rng, season)
}

/// Moves a day within its week to a weekend day (with probability `weekend`) or a weekday.
fn place_in_week(day: i64, weekend: f64, rng: &mut CustomerRng) -> i64 {
    // PERIOD_START is a Monday, so offset % 7 is the weekday (0 = Monday).
    let monday = day - day.rem_euclid(7);
    let moved = if chance(rng, weekend) {
        monday + rng.gen_range(5..7)
    } else {
        monday + rng.gen_range(0..5)
    };
    moved.clamp(0, LAST_DAY)
}

struct OrderContext<'a> {
    style: &'a Style,
    day: i64,
    seq: u32,
}

/// Adds the lines of one order, its refund if any, and the web/app session leading to it.
fn add_order(
    order: &OrderContext,
    return_due: &mut f64,
    rng: &mut CustomerRng,
    lines: &mut Vec<Line>,
    events: &mut Vec<(Moment, u8)>,
) {
    let style = order.style;
    let channel = pick(rng, &style.channel);
    let timestamp = moment(order.day, order_seconds(style, channel, rng));
    let first_line = lines.len();
    add_order_lines(order, rng, (timestamp, channel as u8), lines);
    if channel != STORE && chance(rng, TRACKED_SHARE) {
        add_session(timestamp, true, style.cart_prob, rng, events);
    }
    // Returns follow the customer's rate steadily rather than by coin flip: someone who returns
    // one order in ten does so about every tenth order, so per-customer return shares are not
    // dominated by chance. A due return waits for an order with something to send back.
    *return_due += style.refund_prob;
    if *return_due >= 1.0 {
        if let Some(refund) = refund_line(&lines[first_line..], order, rng) {
            lines.push(refund);
            *return_due -= 1.0;
        }
    }
}

/// Second of the day an order is placed, from the customer's habits and the channel.
pub(super) fn order_seconds(style: &Style, channel: usize, rng: &mut CustomerRng) -> u32 {
    let hour = if style.business_hours {
        rng.gen_range(8..17)
    } else if chance(rng, style.evening) {
        if channel == STORE {
            rng.gen_range(18..20) // shops close at eight
        } else {
            18 + pick(rng, &[3.0, 4.0, 4.0, 3.0, 2.0, 1.0]) as u32
        }
    } else if channel != STORE && chance(rng, 0.04) {
        rng.gen_range(0..7) // night owls online
    } else if channel == STORE {
        rng.gen_range(9..18)
    } else {
        rng.gen_range(7..18)
    };
    hour * 3600 + rng.gen_range(0..3600)
}

fn add_order_lines(
    order: &OrderContext,
    rng: &mut CustomerRng,
    (timestamp, channel): (Moment, u8),
    lines: &mut Vec<Line>,
) {
    let style = order.style;
    let mut extra = poisson(rng, style.extra_lines);
    if chance(rng, 0.03) {
        extra += 3; // the occasional big basket
    }
    let n_lines = (1 + extra as usize).min(CATEGORIES.len());
    let promo_depth =
        chance(rng, style.discount_prob).then(|| 0.10 + 0.05 * rng.gen_range(0..9) as f64);
    let mut weights = style.category;
    for i in 0..n_lines {
        // One category per line: draw without replacement.
        let category = pick(rng, &weights);
        weights[category] = 0.0;
        let quantity = 1 + poisson(rng, style.extra_qty * QTY_FACTOR[category]) as i64;
        let unit_price = round_cents(
            (BASE_PRICE[category] * style.price_level * log_normal(rng, 1.0, 0.5)).max(0.99),
        );
        let gross = quantity as f64 * unit_price;
        let discount = match promo_depth {
            Some(depth) if i == 0 || chance(rng, 0.85) => round_cents(gross * depth),
            _ => 0.0,
        };
        lines.push(Line {
            timestamp,
            seq: order.seq,
            refund: false,
            category: category as u8,
            channel,
            quantity,
            unit_price,
            discount,
            amount: round_cents(gross - discount),
        });
    }
}

/// A return from an order, 1–28 days later at the net price paid; None if past the period.
///
/// Customers return part of a basket (a second size, one of several items), never a whole
/// single-item order, so a returned order keeps most of its value.
fn refund_line(order_lines: &[Line], order: &OrderContext, rng: &mut CustomerRng) -> Option<Line> {
    let day = (order.day + rng.gen_range(1..=28)).min(LAST_DAY);
    // Clothes go back far more often than groceries or gadgets.
    let mut weights = [0.0; CATEGORIES.len()];
    for (w, line) in weights.iter_mut().zip(order_lines) {
        *w = RETURN_PROPENSITY[usize::from(line.category)];
    }
    let line = order_lines.get(pick(rng, &weights[..order_lines.len().min(weights.len())]))?;
    let returnable = if order_lines.len() == 1 {
        line.quantity - 1
    } else {
        line.quantity
    };
    if day <= order.day || returnable < 1 {
        return None;
    }
    // Mostly a single item goes back.
    let returned = if chance(rng, 0.8) {
        1
    } else {
        rng.gen_range(1..=returnable)
    };
    let unit_price = round_cents(line.amount / line.quantity as f64);
    let seconds = rng.gen_range(8 * 3600..20 * 3600);
    Some(Line {
        timestamp: moment(day, seconds),
        seq: order.seq,
        refund: true,
        category: line.category,
        channel: line.channel,
        quantity: -returned,
        unit_price,
        discount: 0.0,
        amount: round_cents(-(returned as f64) * unit_price),
    })
}

pub(super) fn round_cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
