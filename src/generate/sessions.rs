//! Site and app events: the session before an online purchase and browse-only sessions over
//! the days a customer is interested.

use rand::Rng;

use super::calendar::{moment, Calendar, Moment, Window, DAY_SECONDS, LAST_DAY};
use super::catalogue::{ADD_TO_CART, FAVOURITE, VIEW, VISIT};
use super::orders::order_seconds;
use super::profiles::Style;
use super::sampling::{chance, poisson, uniform, CustomerRng};

/// A site/app session ending at `end`: a visit, some views, maybe cart and favourite.
pub(super) fn add_session(
    end: Moment,
    purchase: bool,
    cart_prob: f64,
    rng: &mut CustomerRng,
    events: &mut Vec<(Moment, u8)>,
) {
    let views = 1 + poisson(rng, 0.6);
    let cart = purchase || chance(rng, cart_prob);
    let favourite = chance(rng, 0.08);
    let steps = 1 + views + u32::from(cart) + u32::from(favourite);
    // Stay within the day of `end` so that sessions never cross into another date.
    let available = end.rem_euclid(DAY_SECONDS);
    let length = rng.gen_range(60..2400).min(available);
    let mut t = end - length;
    let step = length / i64::from(steps + 1);
    let mut push = |kind: u8, t: &mut Moment| {
        events.push((*t, kind));
        *t += step;
    };
    push(VISIT, &mut t);
    for _ in 0..views {
        push(VIEW, &mut t);
    }
    if favourite {
        push(FAVOURITE, &mut t);
    }
    if cart {
        push(ADD_TO_CART, &mut t);
    }
}

/// Days in which a customer is interested enough to browse.
pub(super) fn interest_window(signup: i64, first: Option<i64>, last: Option<i64>) -> Window {
    let start = match first {
        Some(first) => signup.max(first - 60),
        None => signup,
    }
    .max(0);
    let end = match last {
        // Buyers browse a while after their last purchase, then lose interest.
        Some(last) => (last + 45).min(LAST_DAY),
        None => LAST_DAY,
    };
    Window {
        start: start as f64,
        end: end as f64,
    }
}

/// Browse-only sessions (no purchase) over the interest window.
pub(super) fn add_browsing(
    style: &Style,
    calendar: &Calendar,
    interest: Window,
    rng: &mut CustomerRng,
    events: &mut Vec<(Moment, u8)>,
) {
    let sessions = poisson(rng, style.browse_rate * interest.len() / 30.4);
    for _ in 0..sessions {
        let day = browse_day(style, calendar, interest, rng);
        let channel = if chance(
            rng,
            style.channel[1] / (style.channel[0] + style.channel[1]).max(1e-9),
        ) {
            1
        } else {
            0
        };
        let end = moment(day, order_seconds(style, channel, rng));
        add_session(end, false, style.cart_prob, rng, events);
    }
}

fn browse_day(style: &Style, calendar: &Calendar, interest: Window, rng: &mut CustomerRng) -> i64 {
    if chance(rng, style.browse_season) {
        let overlaps = |s: &&Window| s.start <= interest.end && s.end >= interest.start;
        let open = calendar.browse_seasons.iter().filter(overlaps).count();
        if open > 0 {
            let nth = rng.gen_range(0..open);
            if let Some(season) = calendar.browse_seasons.iter().filter(overlaps).nth(nth) {
                return uniform(rng, season.start, season.end) as i64;
            }
        }
    }
    // u^(1/b) with b >= 1 leans towards the end of the window: recent interest is higher.
    let u = rng.gen::<f64>().powf(1.0 / style.browse_recency.max(1.0));
    (interest.start + interest.len() * u).round() as i64
}
