//! Synthetic CRM data with planted behavioural groups.
//!
//! [`generate`] builds the four input tables of an online + store retailer (customers,
//! transaction lines, campaign contacts, site/app events) for 2024-01-01 ..= 2025-12-31, plus
//! the planted group of every customer as ground truth for the clustering.
//!
//! Every customer belongs to one of [`PLANTED_GROUPS`]. Its behaviour (order rhythm, basket,
//! discounts, habits, engagement) is drawn from wide per-group distributions, and some buyers
//! blend in a second group, so every single feature overlaps between groups the way real
//! customers do while the combination of features still identifies the groups.
//!
//! Each customer has its own RNG seeded from the master seed and its index, so the output does
//! not depend on how customers are chunked, and the same options always give the same data.

mod write;

pub use write::{generate_to, write_tables, RowCounts};

use std::ops::Range;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp1, Gamma, Poisson, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Builds a date from constants; only used where the arguments are known to be valid.
const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => panic!("invalid constant date"),
    }
}

/// First day of the generated transaction period.
pub const PERIOD_START: NaiveDate = ymd(2024, 1, 1);
/// Last day of the generated transaction period (inclusive).
pub const PERIOD_END: NaiveDate = ymd(2025, 12, 31);
/// The as-of date an analysis of the generated data should use: the day after the period.
pub const DEFAULT_AS_OF: NaiveDate = ymd(2026, 1, 1);

/// Day offset of [`PERIOD_END`] from [`PERIOD_START`] (2024 is a leap year).
const LAST_DAY: i64 = 730;
/// Orders per customer are capped so that order ids stay unique (`index * 1000 + seq`).
const MAX_ORDERS: usize = 999;

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

const CATEGORIES: [&str; 8] = [
    "electronics",
    "fashion",
    "home",
    "beauty",
    "toys",
    "books",
    "grocery",
    "jewellery",
];
/// Median unit price per category, before the customer's price level and noise.
const BASE_PRICE: [f64; 8] = [140.0, 38.0, 32.0, 21.0, 26.0, 14.0, 7.5, 85.0];
/// How much more than one item a line of the category tends to hold (groceries in packs).
const QTY_FACTOR: [f64; 8] = [0.3, 0.8, 1.0, 1.2, 1.0, 1.0, 3.0, 0.3];

/// Relative chance that a line of the category is the one returned from an order.
const RETURN_PROPENSITY: [f64; 8] = [1.0, 6.0, 1.0, 1.5, 1.0, 0.5, 0.1, 1.0];

const CHANNELS: [&str; 3] = ["web", "app", "store"];
const STORE: usize = 2;

/// Share of online purchase sessions that site analytics records (cookie consent).
const TRACKED_SHARE: f64 = 0.7;

const VISIT: u8 = 0;
const VIEW: u8 = 1;
const ADD_TO_CART: u8 = 2;
const FAVOURITE: u8 = 3;
const EVENT_TYPES: [&str; 4] = ["visit", "view", "add_to_cart", "favourite"];

/// Mailings over the period: (year, month, day of sending); denser before Christmas, as
/// retailers mail more in the fourth quarter.
const CAMPAIGN_DATES: [(i32, u32, u32); 12] = [
    (2024, 2, 9),
    (2024, 4, 12),
    (2024, 6, 14),
    (2024, 9, 13),
    (2024, 11, 22),
    (2024, 12, 6),
    (2025, 2, 14),
    (2025, 5, 9),
    (2025, 8, 29),
    (2025, 10, 10),
    (2025, 11, 21),
    (2025, 12, 5),
];

const INTERESTS: [&str; 12] = [
    "sports",
    "travel",
    "cooking",
    "fashion",
    "tech",
    "gaming",
    "gardening",
    "music",
    "reading",
    "fitness",
    "family",
    "wellness",
];

/// A name with its relative weight.
type Weighted = (&'static str, f64);

/// Countries with their weight and (city, weight) lists.
const GEOGRAPHY: [(&str, f64, &[Weighted]); 7] = [
    (
        "Germany",
        0.32,
        &[
            ("Berlin", 0.26),
            ("Hamburg", 0.17),
            ("Munich", 0.17),
            ("Cologne", 0.13),
            ("Frankfurt", 0.12),
            ("Stuttgart", 0.08),
            ("Leipzig", 0.07),
        ],
    ),
    (
        "France",
        0.20,
        &[
            ("Paris", 0.40),
            ("Lyon", 0.16),
            ("Marseille", 0.14),
            ("Toulouse", 0.11),
            ("Lille", 0.10),
            ("Bordeaux", 0.09),
        ],
    ),
    (
        "Netherlands",
        0.12,
        &[
            ("Amsterdam", 0.35),
            ("Rotterdam", 0.25),
            ("The Hague", 0.18),
            ("Utrecht", 0.14),
            ("Eindhoven", 0.08),
        ],
    ),
    (
        "Spain",
        0.12,
        &[
            ("Madrid", 0.36),
            ("Barcelona", 0.30),
            ("Valencia", 0.14),
            ("Seville", 0.11),
            ("Bilbao", 0.09),
        ],
    ),
    (
        "Italy",
        0.12,
        &[
            ("Rome", 0.30),
            ("Milan", 0.30),
            ("Naples", 0.16),
            ("Turin", 0.14),
            ("Bologna", 0.10),
        ],
    ),
    (
        "Austria",
        0.06,
        &[
            ("Vienna", 0.55),
            ("Graz", 0.17),
            ("Linz", 0.15),
            ("Salzburg", 0.13),
        ],
    ),
    (
        "Belgium",
        0.06,
        &[
            ("Brussels", 0.38),
            ("Antwerp", 0.30),
            ("Ghent", 0.20),
            ("Liège", 0.12),
        ],
    ),
];

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Number of customers (rows of the customers table).
    pub customers: usize,
    /// Master seed; every customer's RNG derives from it and the customer's index.
    pub seed: u64,
}

/// All generated tables, each as column vectors of equal length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyntheticData {
    /// One row per customer.
    pub customers: CustomerRows,
    /// Order lines and refund lines, per customer in time order.
    pub transactions: TransactionRows,
    /// Mailings sent, per customer in time order.
    pub campaigns: CampaignRows,
    /// Site/app events, per customer in time order.
    pub events: EventRows,
    /// Ground truth: the planted group of every customer.
    pub planted: PlantedRows,
}

/// One row per customer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomerRows {
    /// "C000123": "C" and the 1-based index, at least six digits.
    pub customer_id: Vec<String>,
    /// 1945..=2006; about 2 % unknown.
    pub birth_year: Vec<Option<i32>>,
    /// "F", "M" or "X"; about 2 % unknown.
    pub gender: Vec<Option<String>>,
    pub country: Vec<String>,
    pub city: Vec<String>,
    /// Yearly income, heavy right tail; about 5 % unknown.
    pub income: Vec<Option<f64>>,
    /// On or before the first purchase; may precede the period.
    pub signup_date: Vec<NaiveDate>,
    /// Interests joined by ';', may be empty.
    pub tags: Vec<String>,
}

/// One row per order line; refunds are extra lines with negative quantity and amount.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TransactionRows {
    pub customer_id: Vec<String>,
    /// Shared by the lines of one order; a refund line has "R" + the original order's id.
    pub order_id: Vec<String>,
    pub timestamp: Vec<NaiveDateTime>,
    /// One category per line, distinct within an order.
    pub category: Vec<String>,
    /// web | app | store
    pub channel: Vec<String>,
    /// Negative on refund lines.
    pub quantity: Vec<i64>,
    /// Price of one item in cents precision; on a refund line, the net price paid per item.
    pub unit_price: Vec<f64>,
    /// Money off this line, >= 0.
    pub discount: Vec<f64>,
    /// quantity * unit_price - discount, rounded to cents; negative for refund lines.
    pub amount: Vec<f64>,
}

/// One row per mailing sent to a customer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CampaignRows {
    pub customer_id: Vec<String>,
    /// "CMP-2025-11": one id per mailing.
    pub campaign_id: Vec<String>,
    pub sent_at: Vec<NaiveDate>,
    pub opened: Vec<bool>,
    /// Only when opened.
    pub clicked: Vec<bool>,
    /// Bought after clicking; only when clicked.
    pub responded: Vec<bool>,
}

/// One row per site/app event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventRows {
    pub customer_id: Vec<String>,
    pub timestamp: Vec<NaiveDateTime>,
    /// visit | view | add_to_cart | favourite
    pub event_type: Vec<String>,
}

/// The planted (true) group of every customer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlantedRows {
    pub customer_id: Vec<String>,
    /// One of [`PLANTED_GROUPS`].
    pub group: Vec<String>,
}

/// Generates all tables for `opts.customers` customers, deterministically from `opts.seed`.
pub fn generate(opts: &GenerateOptions) -> SyntheticData {
    generate_range(opts, 0..opts.customers)
}

/// Generates only the customers with index in `customers` (0-based), exactly as [`generate`]
/// would: concatenating consecutive ranges gives the same tables, so large runs can be
/// produced and written chunk by chunk.
pub fn generate_range(opts: &GenerateOptions, customers: Range<usize>) -> SyntheticData {
    let calendar = Calendar::new(opts.seed);
    let mut data = SyntheticData::with_capacity(customers.len());
    let mut scratch = Scratch::default();
    for index in customers {
        generate_customer(index, opts.seed, &calendar, &mut scratch, &mut data);
    }
    data
}

/// Typical rows per customer, to reserve the columns once instead of growing them.
const LINES_PER_CUSTOMER: usize = 30;
const EVENTS_PER_CUSTOMER: usize = 60;
const MAILINGS_PER_CUSTOMER: usize = 7;

impl SyntheticData {
    fn with_capacity(customers: usize) -> Self {
        let lines = customers * LINES_PER_CUSTOMER;
        let events = customers * EVENTS_PER_CUSTOMER;
        let mailings = customers * MAILINGS_PER_CUSTOMER;
        Self {
            customers: CustomerRows {
                customer_id: Vec::with_capacity(customers),
                birth_year: Vec::with_capacity(customers),
                gender: Vec::with_capacity(customers),
                country: Vec::with_capacity(customers),
                city: Vec::with_capacity(customers),
                income: Vec::with_capacity(customers),
                signup_date: Vec::with_capacity(customers),
                tags: Vec::with_capacity(customers),
            },
            transactions: TransactionRows {
                customer_id: Vec::with_capacity(lines),
                order_id: Vec::with_capacity(lines),
                timestamp: Vec::with_capacity(lines),
                category: Vec::with_capacity(lines),
                channel: Vec::with_capacity(lines),
                quantity: Vec::with_capacity(lines),
                unit_price: Vec::with_capacity(lines),
                discount: Vec::with_capacity(lines),
                amount: Vec::with_capacity(lines),
            },
            campaigns: CampaignRows {
                customer_id: Vec::with_capacity(mailings),
                campaign_id: Vec::with_capacity(mailings),
                sent_at: Vec::with_capacity(mailings),
                opened: Vec::with_capacity(mailings),
                clicked: Vec::with_capacity(mailings),
                responded: Vec::with_capacity(mailings),
            },
            events: EventRows {
                customer_id: Vec::with_capacity(events),
                timestamp: Vec::with_capacity(events),
                event_type: Vec::with_capacity(events),
            },
            planted: PlantedRows {
                customer_id: Vec::with_capacity(customers),
                group: Vec::with_capacity(customers),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Calendar: dates, seasons and campaigns shared by all customers.

/// A span of days, as offsets from [`PERIOD_START`].
#[derive(Debug, Clone, Copy)]
struct Window {
    start: f64,
    end: f64,
}

impl Window {
    fn len(self) -> f64 {
        (self.end - self.start).max(0.0)
    }

    fn contains(self, day: f64) -> bool {
        day >= self.start && day <= self.end
    }
}

struct CampaignMeta {
    id: String,
    date: NaiveDate,
    day: i64,
    /// Share of the customer base the mailing goes to.
    coverage: f64,
    /// How attractive the mailing is; scales every customer's open and response chance.
    appeal: f64,
}

struct Calendar {
    /// Date of every day offset in the period, so lines need no date arithmetic.
    dates: Vec<NaiveDate>,
    /// Gift-buying season of each year (1 Nov ..= 24 Dec).
    seasons: [Window; 2],
    /// Browsing season: gift hunting starts a little before the buying.
    browse_seasons: [Window; 2],
    campaigns: Vec<CampaignMeta>,
}

impl Calendar {
    fn new(seed: u64) -> Self {
        let dates = (0..=LAST_DAY).map(date_of_offset).collect();
        let seasons = [
            window(ymd(2024, 11, 1), ymd(2024, 12, 24)),
            window(ymd(2025, 11, 1), ymd(2025, 12, 24)),
        ];
        let browse_seasons = [
            window(ymd(2024, 10, 15), ymd(2024, 12, 24)),
            window(ymd(2025, 10, 15), ymd(2025, 12, 24)),
        ];
        // Campaign sizes and appeal come from the master seed only, so every chunk agrees.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0xC0FF_EE00_CA3B_A16E);
        let campaigns = CAMPAIGN_DATES
            .iter()
            .map(|&(y, m, d)| {
                let date = NaiveDate::from_ymd_opt(y, m, d).unwrap_or(PERIOD_START);
                CampaignMeta {
                    id: format!("CMP-{y}-{m:02}"),
                    date,
                    day: day_offset(date),
                    coverage: uniform(&mut rng, 0.6, 0.9),
                    appeal: uniform(&mut rng, 0.75, 1.25),
                }
            })
            .collect();
        Self {
            dates,
            seasons,
            browse_seasons,
            campaigns,
        }
    }

    /// Date of a day offset inside the period (clamped to it).
    fn date(&self, day: i64) -> NaiveDate {
        let index = day.clamp(0, LAST_DAY) as usize;
        self.dates.get(index).copied().unwrap_or(PERIOD_START)
    }

    /// Timestamp of a [`Moment`] (clamped to the period).
    fn timestamp(&self, at: Moment) -> NaiveDateTime {
        let seconds = at.rem_euclid(DAY_SECONDS) as u32;
        let time =
            NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0).unwrap_or(NaiveTime::MIN);
        self.date(at.div_euclid(DAY_SECONDS)).and_time(time)
    }
}

/// A point in time as seconds since [`PERIOD_START`] 00:00; cheaper to compute with and sort
/// than `NaiveDateTime`, converted only when a row is written.
type Moment = i64;
const DAY_SECONDS: i64 = 86_400;

fn moment(day: i64, seconds: u32) -> Moment {
    day * DAY_SECONDS + i64::from(seconds)
}

fn day_offset(date: NaiveDate) -> i64 {
    date.signed_duration_since(PERIOD_START).num_days()
}

/// Date at a (possibly negative) day offset from the period start.
fn date_of_offset(day: i64) -> NaiveDate {
    TimeDelta::try_days(day)
        .and_then(|delta| PERIOD_START.checked_add_signed(delta))
        .unwrap_or(PERIOD_START)
}

fn window(start: NaiveDate, end: NaiveDate) -> Window {
    Window {
        start: day_offset(start) as f64,
        end: day_offset(end) as f64,
    }
}

// ---------------------------------------------------------------------------------------------
// Random helpers. All infallible: a bad parameter falls back to a sensible value.

type CustomerRng = Xoshiro256PlusPlus;

/// SplitMix64 finaliser: spreads consecutive customer indices over the whole seed space.
fn splitmix(index: u64) -> u64 {
    let mut z = index.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn customer_rng(seed: u64, index: usize) -> CustomerRng {
    Xoshiro256PlusPlus::seed_from_u64(seed ^ splitmix(index as u64))
}

fn uniform(rng: &mut impl Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.gen::<f64>()
}

fn chance(rng: &mut impl Rng, p: f64) -> bool {
    rng.gen::<f64>() < p
}

fn log_normal(rng: &mut impl Rng, median: f64, sigma: f64) -> f64 {
    let z: f64 = rng.sample(StandardNormal);
    median * (sigma * z).exp()
}

fn exponential(rng: &mut impl Rng, mean: f64) -> f64 {
    let e: f64 = rng.sample(Exp1);
    mean * e
}

fn poisson(rng: &mut impl Rng, lambda: f64) -> u32 {
    if lambda <= 0.0 || !lambda.is_finite() {
        return 0;
    }
    if lambda < 20.0 {
        // Knuth's product method: cheaper than building a distribution for small means.
        let limit = (-lambda).exp();
        let mut product = rng.gen::<f64>();
        let mut count = 0;
        while product > limit {
            product *= rng.gen::<f64>();
            count += 1;
        }
        return count;
    }
    Poisson::new(lambda)
        .map(|d| d.sample(rng) as u32)
        .unwrap_or(0)
}

/// Gamma-distributed value with the given mean; higher shape = more regular.
fn gamma(rng: &mut impl Rng, shape: f64, mean: f64) -> f64 {
    Gamma::new(shape, mean / shape)
        .map(|d| d.sample(rng))
        .unwrap_or(mean)
}

/// Index drawn with probability proportional to `weights` (last index if all are zero).
fn pick(rng: &mut impl Rng, weights: &[f64]) -> usize {
    pick_by(rng, weights, |w| *w)
}

/// Index of an item drawn with probability proportional to `weight(item)`.
fn pick_by<T>(rng: &mut impl Rng, items: &[T], weight: impl Fn(&T) -> f64) -> usize {
    let total: f64 = items.iter().map(&weight).sum();
    let mut target = rng.gen::<f64>() * total;
    for (i, item) in items.iter().enumerate() {
        let w = weight(item);
        if target < w {
            return i;
        }
        target -= w;
    }
    items.len().saturating_sub(1)
}

/// Group-typical weights with per-customer multiplicative noise.
fn noisy<const N: usize>(rng: &mut impl Rng, base: [f64; N], sigma: f64) -> [f64; N] {
    base.map(|w| w * log_normal(rng, 1.0, sigma))
}

fn round_cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

// ---------------------------------------------------------------------------------------------
// Customer profiles: who buys when, what and how.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
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
    fn name(self) -> &'static str {
        PLANTED_GROUPS[self as usize]
    }
}

/// When a customer orders.
#[derive(Debug, Clone, Copy)]
enum Timing {
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
struct Style {
    /// Chance that an order of a repeat buyer is moved into the gift season.
    seasonal_pull: f64,
    /// Mean number of extra lines (categories) per order.
    extra_lines: f64,
    /// Mean number of extra items per line.
    extra_qty: f64,
    /// Multiplier on category prices (premium vs cheap picks).
    price_level: f64,
    discount_prob: f64,
    refund_prob: f64,
    weekend: f64,
    evening: f64,
    business_hours: bool,
    channel: [f64; 3],
    category: [f64; 8],
    p_open: f64,
    p_click: f64,
    /// Chance that a click leads to a purchase (a response).
    p_convert: f64,
    /// Browse-only sessions per month of interest.
    browse_rate: f64,
    /// >= 1; larger values concentrate browsing towards the end of the interest window.
    browse_recency: f64,
    /// Chance that a browse session falls in the gift season.
    browse_season: f64,
    cart_prob: f64,
}

#[derive(Debug, Clone, Copy)]
struct Profile {
    group: Group,
    timing: Timing,
    style: Style,
}

fn draw_profile(rng: &mut CustomerRng) -> Profile {
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

// ---------------------------------------------------------------------------------------------
// Per-customer generation.

/// One transaction line before it is written out.
struct Line {
    timestamp: Moment,
    seq: u32,
    refund: bool,
    category: u8,
    channel: u8,
    quantity: i64,
    unit_price: f64,
    discount: f64,
    amount: f64,
}

/// Buffers reused across customers to avoid re-allocating per customer.
#[derive(Default)]
struct Scratch {
    raw_days: Vec<f64>,
    days: Vec<i64>,
    lines: Vec<Line>,
    events: Vec<(Moment, u8)>,
}

fn generate_customer(
    index: usize,
    seed: u64,
    calendar: &Calendar,
    scratch: &mut Scratch,
    data: &mut SyntheticData,
) {
    let mut rng = customer_rng(seed, index);
    let id = padded("C", index as u64 + 1, 6);
    let profile = draw_profile(&mut rng);
    scratch.days.clear();
    scratch.lines.clear();
    scratch.events.clear();

    order_days(
        &profile,
        calendar,
        &mut rng,
        &mut scratch.raw_days,
        &mut scratch.days,
    );
    let first = scratch.days.first().copied();
    let last = scratch.days.last().copied();
    let signup = signup_day(profile.group, first, &mut rng);
    add_orders(&profile.style, &mut rng, scratch);
    let interest = interest_window(signup, first, last);
    add_browsing(
        &profile.style,
        calendar,
        interest,
        &mut rng,
        &mut scratch.events,
    );

    push_customer(
        &id,
        &profile,
        calendar.date_unclamped(signup),
        &mut rng,
        data,
    );
    push_campaigns(&id, &profile.style, signup, last, calendar, &mut rng, data);
    push_lines(
        (&id, index),
        calendar,
        &mut scratch.lines,
        &mut data.transactions,
    );
    push_events(&id, calendar, &mut scratch.events, &mut data.events);
    data.planted.customer_id.push(id);
    data.planted.group.push(profile.group.name().to_string());
}

impl Calendar {
    /// Date of any day offset, also outside the period (sign-up dates may be earlier).
    fn date_unclamped(&self, day: i64) -> NaiveDate {
        if (0..=LAST_DAY).contains(&day) {
            self.date(day)
        } else {
            date_of_offset(day)
        }
    }
}

/// All orders of a customer (days already in `scratch.days`), with returns and sessions.
fn add_orders(style: &Style, rng: &mut CustomerRng, scratch: &mut Scratch) {
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
fn order_days(
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

/// Sign-up day offset (may precede the period): on or before the first purchase.
fn signup_day(group: Group, first: Option<i64>, rng: &mut CustomerRng) -> i64 {
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
fn order_seconds(style: &Style, channel: usize, rng: &mut CustomerRng) -> u32 {
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

/// A site/app session ending at `end`: a visit, some views, maybe cart and favourite.
fn add_session(
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
fn interest_window(signup: i64, first: Option<i64>, last: Option<i64>) -> Window {
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
fn add_browsing(
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

// ---------------------------------------------------------------------------------------------
// Demographics and campaigns.

fn push_customer(
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

/// Mailings to this customer: only after sign-up; engagement fades once they stop buying.
fn push_campaigns(
    id: &str,
    style: &Style,
    signup: i64,
    last_order: Option<i64>,
    calendar: &Calendar,
    rng: &mut CustomerRng,
    data: &mut SyntheticData,
) {
    let rows = &mut data.campaigns;
    for campaign in &calendar.campaigns {
        // Draw before the sign-up test so later draws do not depend on it.
        let sent = chance(rng, campaign.coverage);
        if !sent || signup > campaign.day {
            continue;
        }
        let fading = matches!(last_order, Some(last) if campaign.day > last + 90);
        let engagement = if fading { 0.35 } else { 1.0 } * campaign.appeal;
        let opened = chance(rng, style.p_open * engagement);
        let clicked = opened && chance(rng, style.p_click);
        let responded = clicked && chance(rng, style.p_convert * engagement);
        rows.customer_id.push(id.to_string());
        rows.campaign_id.push(campaign.id.clone());
        rows.sent_at.push(campaign.date);
        rows.opened.push(opened);
        rows.clicked.push(clicked);
        rows.responded.push(responded);
    }
}

// ---------------------------------------------------------------------------------------------
// Writing rows out.

/// "O" + 10 digits (customer index * 1000 + order number), "RO…" for its refund.
fn order_id(index: usize, seq: u32, refund: bool) -> String {
    let number = index as u64 * 1000 + u64::from(seq);
    padded(if refund { "RO" } else { "O" }, number, 10)
}

/// `prefix` + `number` zero-padded to `width` digits; a hand-rolled `format!` because it runs
/// once per line.
fn padded(prefix: &str, mut number: u64, width: usize) -> String {
    let mut digits = [b'0'; 20];
    let mut len = 0;
    while number > 0 || len < width {
        digits[len] = b'0' + (number % 10) as u8;
        number /= 10;
        len += 1;
    }
    let mut out = String::with_capacity(prefix.len() + len);
    out.push_str(prefix);
    out.extend(digits[..len].iter().rev().map(|&d| char::from(d)));
    out
}

fn push_lines(
    (id, index): (&str, usize),
    calendar: &Calendar,
    lines: &mut [Line],
    rows: &mut TransactionRows,
) {
    // Stable sort: lines of one order keep their order, refunds come at their later time.
    lines.sort_by_key(|line| line.timestamp);
    for line in lines.iter() {
        rows.customer_id.push(id.to_string());
        rows.order_id.push(order_id(index, line.seq, line.refund));
        rows.timestamp.push(calendar.timestamp(line.timestamp));
        rows.category
            .push(CATEGORIES[usize::from(line.category)].to_string());
        rows.channel
            .push(CHANNELS[usize::from(line.channel)].to_string());
        rows.quantity.push(line.quantity);
        rows.unit_price.push(line.unit_price);
        rows.discount.push(line.discount);
        rows.amount.push(line.amount);
    }
}

fn push_events(id: &str, calendar: &Calendar, events: &mut [(Moment, u8)], rows: &mut EventRows) {
    events.sort_by_key(|(t, _)| *t);
    for (t, kind) in events.iter() {
        rows.customer_id.push(id.to_string());
        rows.timestamp.push(calendar.timestamp(*t));
        rows.event_type
            .push(EVENT_TYPES[usize::from(*kind)].to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;
    use std::collections::{HashMap, HashSet};

    fn sample() -> SyntheticData {
        generate(&GenerateOptions {
            customers: 3000,
            seed: 7,
        })
    }

    #[test]
    fn constants_agree() {
        assert_eq!(day_offset(PERIOD_END), LAST_DAY);
        assert_eq!(PERIOD_START.weekday(), chrono::Weekday::Mon);
        assert_eq!(DEFAULT_AS_OF, PERIOD_END.succ_opt().expect("valid date"));
        assert_eq!(PLANTED_GROUPS.len(), GROUP_WEIGHTS.len());
    }

    #[test]
    fn ids_are_padded() {
        assert_eq!(padded("C", 123, 6), "C000123");
        assert_eq!(padded("C", 1_000_000, 6), "C1000000");
        assert_eq!(order_id(12, 7, false), "O0000012007");
        assert_eq!(order_id(12, 7, true), "RO0000012007");
    }

    #[test]
    fn ranges_concatenate_to_the_whole() {
        let opts = GenerateOptions {
            customers: 300,
            seed: 5,
        };
        let whole = generate(&opts);
        let a = generate_range(&opts, 0..120);
        let b = generate_range(&opts, 120..300);
        let mut ids = a.transactions.order_id.clone();
        ids.extend(b.transactions.order_id.iter().cloned());
        assert_eq!(ids, whole.transactions.order_id);
        let mut amounts = a.transactions.amount.clone();
        amounts.extend(&b.transactions.amount);
        assert_eq!(amounts, whole.transactions.amount);
        let mut events = a.events.timestamp.clone();
        events.extend(&b.events.timestamp);
        assert_eq!(events, whole.events.timestamp);
        assert_eq!(b.customers.customer_id[0], "C000121");
    }

    #[test]
    fn deterministic() {
        let opts = GenerateOptions {
            customers: 500,
            seed: 42,
        };
        assert_eq!(generate(&opts), generate(&opts));
        let other = generate(&GenerateOptions { seed: 43, ..opts });
        assert_ne!(generate(&opts).transactions, other.transactions);
    }

    #[test]
    fn every_group_present() {
        let data = sample();
        let groups: HashSet<&str> = data.planted.group.iter().map(String::as_str).collect();
        for g in PLANTED_GROUPS {
            assert!(groups.contains(g), "missing group {g}");
        }
        assert_eq!(data.planted.customer_id, data.customers.customer_id);
    }

    #[test]
    fn prospects_have_no_transactions() {
        let data = sample();
        let prospects: HashSet<&str> = data
            .planted
            .customer_id
            .iter()
            .zip(&data.planted.group)
            .filter(|(_, g)| g.as_str() == "Prospects")
            .map(|(c, _)| c.as_str())
            .collect();
        assert!(!prospects.is_empty());
        assert!(data
            .transactions
            .customer_id
            .iter()
            .all(|c| !prospects.contains(c.as_str())));
    }

    #[test]
    fn prospects_show_warm_interest() {
        let data = sample();
        let prospects: HashSet<&str> = data
            .planted
            .customer_id
            .iter()
            .zip(&data.planted.group)
            .filter(|(_, g)| g.as_str() == "Prospects")
            .map(|(c, _)| c.as_str())
            .collect();
        let carts = data
            .events
            .customer_id
            .iter()
            .zip(&data.events.event_type)
            .filter(|(c, e)| prospects.contains(c.as_str()) && e.as_str() == "add_to_cart")
            .count();
        assert!(carts > 0);
    }

    #[test]
    fn amounts_match_to_the_cent() {
        let t = sample().transactions;
        for i in 0..t.amount.len() {
            let expected = t.quantity[i] as f64 * t.unit_price[i] - t.discount[i];
            assert!((t.amount[i] - expected).abs() < 0.005 + 1e-9, "line {i}");
            assert!(t.discount[i] >= 0.0);
            assert_eq!(t.amount[i], round_cents(t.amount[i]));
        }
    }

    #[test]
    fn refunds_present_and_consistent() {
        let t = sample().transactions;
        let mut order_time: HashMap<&str, NaiveDateTime> = HashMap::new();
        for (id, ts) in t.order_id.iter().zip(&t.timestamp) {
            if !id.starts_with('R') {
                order_time.insert(id.as_str(), *ts);
            }
        }
        let mut refunded = HashSet::new();
        for i in 0..t.order_id.len() {
            if let Some(original) = t.order_id[i].strip_prefix('R') {
                assert!(t.quantity[i] < 0 && t.amount[i] < 0.0);
                let at = order_time
                    .get(original)
                    .expect("refund references an order");
                assert!(t.timestamp[i] > *at);
                refunded.insert(original);
            }
        }
        let share = refunded.len() as f64 / order_time.len() as f64;
        assert!((0.02..0.07).contains(&share), "refund share {share}");
    }

    #[test]
    fn timestamps_in_period() {
        let data = sample();
        let in_period = |t: &NaiveDateTime| (PERIOD_START..=PERIOD_END).contains(&t.date());
        assert!(data.transactions.timestamp.iter().all(in_period));
        assert!(data.events.timestamp.iter().all(in_period));
        assert!(data
            .campaigns
            .sent_at
            .iter()
            .all(|d| (PERIOD_START..=PERIOD_END).contains(d)));
    }

    #[test]
    fn columns_have_equal_lengths() {
        let d = sample();
        let t = &d.transactions;
        let n = t.customer_id.len();
        for len in [
            t.order_id.len(),
            t.timestamp.len(),
            t.category.len(),
            t.channel.len(),
            t.quantity.len(),
            t.unit_price.len(),
            t.discount.len(),
            t.amount.len(),
        ] {
            assert_eq!(len, n);
        }
        assert_eq!(d.events.event_type.len(), d.events.customer_id.len());
        assert_eq!(d.campaigns.responded.len(), d.campaigns.customer_id.len());
        assert_eq!(d.customers.tags.len(), 3000);
    }
}
