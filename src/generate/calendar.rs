//! The calendar all customers share: the period's dates, the gift seasons, the mailing dates,
//! and moments (seconds since the period start) that rows are timed in.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::sampling::uniform;

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
pub(super) const LAST_DAY: i64 = 730;

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

/// A span of days, as offsets from [`PERIOD_START`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    pub(super) start: f64,
    pub(super) end: f64,
}

impl Window {
    pub(super) fn len(self) -> f64 {
        (self.end - self.start).max(0.0)
    }

    pub(super) fn contains(self, day: f64) -> bool {
        day >= self.start && day <= self.end
    }
}

pub(super) struct CampaignMeta {
    pub(super) id: String,
    pub(super) date: NaiveDate,
    pub(super) day: i64,
    /// Share of the customer base the mailing goes to.
    pub(super) coverage: f64,
    /// How attractive the mailing is; scales every customer's open and response chance.
    pub(super) appeal: f64,
}

pub(super) struct Calendar {
    /// Date of every day offset in the period, so lines need no date arithmetic.
    dates: Vec<NaiveDate>,
    /// Gift-buying season of each year (1 Nov ..= 24 Dec).
    pub(super) seasons: [Window; 2],
    /// Browsing season: gift hunting starts a little before the buying.
    pub(super) browse_seasons: [Window; 2],
    pub(super) campaigns: Vec<CampaignMeta>,
}

impl Calendar {
    pub(super) fn new(seed: u64) -> Self {
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
    pub(super) fn timestamp(&self, at: Moment) -> NaiveDateTime {
        let seconds = at.rem_euclid(DAY_SECONDS) as u32;
        let time =
            NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0).unwrap_or(NaiveTime::MIN);
        self.date(at.div_euclid(DAY_SECONDS)).and_time(time)
    }
}

/// A point in time as seconds since [`PERIOD_START`] 00:00; cheaper to compute with and sort
/// than `NaiveDateTime`, converted only when a row is written.
pub(super) type Moment = i64;
pub(super) const DAY_SECONDS: i64 = 86_400;

pub(super) fn moment(day: i64, seconds: u32) -> Moment {
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

impl Calendar {
    /// Date of any day offset, also outside the period (sign-up dates may be earlier).
    pub(super) fn date_unclamped(&self, day: i64) -> NaiveDate {
        if (0..=LAST_DAY).contains(&day) {
            self.date(day)
        } else {
            date_of_offset(day)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    #[test]
    fn dates_agree() {
        assert_eq!(day_offset(PERIOD_END), LAST_DAY);
        assert_eq!(PERIOD_START.weekday(), chrono::Weekday::Mon);
        assert_eq!(DEFAULT_AS_OF, PERIOD_END.succ_opt().expect("valid date"));
    }
}
