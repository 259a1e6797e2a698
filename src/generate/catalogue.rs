//! What the retailer sells and where its customers live: categories with their prices and
//! return propensity, channels, site event types, interests and the geography.

pub(super) const CATEGORIES: [&str; 8] = [
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
pub(super) const BASE_PRICE: [f64; 8] = [140.0, 38.0, 32.0, 21.0, 26.0, 14.0, 7.5, 85.0];
/// How much more than one item a line of the category tends to hold (groceries in packs).
pub(super) const QTY_FACTOR: [f64; 8] = [0.3, 0.8, 1.0, 1.2, 1.0, 1.0, 3.0, 0.3];

/// Relative chance that a line of the category is the one returned from an order.
pub(super) const RETURN_PROPENSITY: [f64; 8] = [1.0, 6.0, 1.0, 1.5, 1.0, 0.5, 0.1, 1.0];

pub(super) const CHANNELS: [&str; 3] = ["web", "app", "store"];
pub(super) const STORE: usize = 2;

/// Share of online purchase sessions that site analytics records (cookie consent).
pub(super) const TRACKED_SHARE: f64 = 0.7;

pub(super) const VISIT: u8 = 0;
pub(super) const VIEW: u8 = 1;
pub(super) const ADD_TO_CART: u8 = 2;
pub(super) const FAVOURITE: u8 = 3;
pub(super) const EVENT_TYPES: [&str; 4] = ["visit", "view", "add_to_cart", "favourite"];

pub(super) const INTERESTS: [&str; 12] = [
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
pub(super) const GEOGRAPHY: [(&str, f64, &[Weighted]); 7] = [
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
