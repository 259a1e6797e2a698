//! Numbers written for a person: counts, money, shares, averages and chart labels.
//!
//! The page, the charts, run.log and the checks all format through here, so one quantity reads
//! the same wherever it is printed. A leaf module: it depends on nothing else in the crate.
//!
//! Conventions: digits are grouped by thousands with commas ("1,234,567"); a percentage has a
//! space before its sign ("34.2 %"); a share that is not a number (0/0) prints "n/a"; a positive
//! share too small to show at the chosen precision prints "< 0.1 %" or "< 1 %" rather than a
//! zero beside a count of customers.

/// 1234567 → "1,234,567".
pub fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A count of customers, rows or bytes: 1234567 → "1,234,567".
pub fn count(n: usize) -> String {
    grouped(n as u64)
}

/// 1234567.891 → "1,234,567.89"
pub fn money(value: f64) -> String {
    let cents = (value.abs() * 100.0).round() as u128;
    let grouped = count((cents / 100) as usize);
    format!(
        "{}{grouped}.{:02}",
        if value < 0.0 { "-" } else { "" },
        cents % 100
    )
}

/// 65648053.65 → "65.6 M": fits a KPI tile; the exact figure is printed beside it.
pub fn compact_money(value: f64) -> String {
    let size = value.abs();
    let (scaled, unit) = if size >= 1e9 {
        (value / 1e9, " bn")
    } else if size >= 1e6 {
        (value / 1e6, " M")
    } else if size >= 1e4 {
        (value / 1e3, " k")
    } else {
        return money(value);
    };
    format!("{scaled:.1}{unit}")
}

/// An average or a typical value in a sentence: whole numbers and values from 100 up grouped
/// without decimals ("1,234"), then one decimal up to 100 ("12.3") and two below 10 ("0.83").
pub fn number(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 || value.abs() >= 100.0 {
        let sign = if value < -0.5 { "-" } else { "" };
        format!("{sign}{}", count(value.abs().round() as usize))
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// A cut point of a score, as an analyst writes one: whole numbers without decimals ("30"),
/// others to two places ("0.25").
pub fn cut_point(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

/// `value` to `decimals` places, or "–" when there is none.
pub fn fixed_or_dash(value: Option<f64>, decimals: usize) -> String {
    value.map_or("–".into(), |v| format!("{v:.decimals$}"))
}

/// A share (0.342) in percent with one decimal: "34.2 %"; "< 0.1 %" for a positive share that
/// would round to zero; "n/a" when the share is not a number.
pub fn percent(share: f64) -> String {
    if !share.is_finite() {
        return "n/a".to_string();
    }
    let p = share * 100.0;
    if p > 0.0 && p < 0.05 {
        "< 0.1 %".to_string()
    } else {
        format!("{p:.1} %")
    }
}

/// A share in whole percent: 0.342 → "34 %"; "n/a" when the share is not a number.
pub fn whole_percent(share: f64) -> String {
    if !share.is_finite() {
        return "n/a".to_string();
    }
    format!("{:.0} %", 100.0 * share)
}

/// A cluster's label with the share of its customers that carry it: "Loyal Customers 57%" (the
/// name model.json keeps and the terminal prints).
pub fn label_with_share(label: &str, share: f64) -> String {
    format!("{label} {:.0}%", 100.0 * share)
}

/// A share of customers printed beside their count, in whole percent: "12 %", or "< 1 %" for a
/// handful of customers (never "0 %" beside a count); "n/a" when the share is not a number.
pub fn share_beside_count(share: f64) -> String {
    if share > 0.0 && share < 0.005 {
        "< 1 %".to_string()
    } else {
        whole_percent(share)
    }
}

/// A share that may be negative (refunds), with a real minus sign: "−12.3 %", "> −0.1 %" for a
/// negative share that would round to zero, "0.0 %" for zero (also −0.0).
pub fn signed_percent(share: f64) -> String {
    if share == 0.0 {
        // Also −0.0, which would print as "-0.0 %".
        "0.0 %".to_string()
    } else if share.is_finite() && share < 0.0 {
        if share * 100.0 > -0.05 {
            "> −0.1 %".to_string()
        } else {
            format!("−{}", percent(-share))
        }
    } else {
        percent(share)
    }
}

/// A count in at most five digits and a unit: "98,765", "123 k", "1.23 M", "4.5 bn".
pub fn short_count(n: u64) -> String {
    let a = n as f64;
    match n {
        0..=99_999 => grouped(n),
        100_000..=999_999 => format!("{} k", significant(a / 1e3, 3)),
        1_000_000..=999_999_999 => format!("{} M", significant(a / 1e6, 3)),
        _ => format!("{} bn", significant(a / 1e9, 3)),
    }
}

/// `a` (≥ 0) with `sig` significant digits, trailing zeros dropped.
pub fn significant(a: f64, sig: i32) -> String {
    if a == 0.0 {
        return "0".to_string();
    }
    let mag = a.log10().floor() as i32;
    let dec = (sig - 1 - mag).clamp(0, 8) as usize;
    trim_zeros(format!("{a:.dec$}"))
}

/// A number on a chart (axis, label, marker): thousands separators, "1.25 M" for millions, a few
/// significant digits for small values, a real minus sign; "–" when it is not a number.
pub fn label_number(v: f64) -> String {
    if !v.is_finite() {
        return "–".to_string();
    }
    let a = v.abs();
    let sign = if v < 0.0 && a >= 5e-10 { "−" } else { "" };
    let body = if a >= 1e6 {
        format!("{} M", trim_zeros(format!("{:.2}", a / 1e6)))
    } else if a >= 1000.0 || (a >= 1.0 && (a - a.round()).abs() < 1e-9) {
        grouped(a.round() as u64)
    } else if a < 5e-10 {
        "0".to_string()
    } else {
        significant(a, 3)
    };
    format!("{sign}{body}")
}

/// 1 → "1st", 12 → "12th", 23 → "23rd".
pub fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// "2.50" → "2.5", "3.00" → "3"; text without a decimal point as it is.
fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands_to_the_cent() {
        assert_eq!(money(1234567.891), "1,234,567.89");
        assert_eq!(money(-5.5), "-5.50");
        assert_eq!(money(0.0), "0.00");
        assert_eq!(compact_money(65_648_053.65), "65.6 M");
        assert_eq!(compact_money(-12_345.0), "-12.3 k");
        assert_eq!(compact_money(9_999.5), "9,999.50");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(999), "999");
        assert_eq!(count(0), "0");
    }

    #[test]
    fn formats_numbers() {
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(label_number(2500.0), "2,500");
        assert_eq!(label_number(0.83), "0.83");
        assert_eq!(label_number(-1.5), "−1.5");
        assert_eq!(label_number(1_250_000.0), "1.25 M");
        assert_eq!(label_number(f64::NAN), "–");
        assert_eq!(significant(0.012345, 3), "0.0123");
        assert_eq!(significant(120.0, 3), "120");
        assert_eq!(ordinal(10), "10th");
        assert_eq!(ordinal(21), "21st");
        assert_eq!(ordinal(12), "12th");
        assert_eq!(ordinal(23), "23rd");
    }

    #[test]
    fn averages_and_cut_points_read_as_an_analyst_writes_them() {
        assert_eq!(number(312.4), "312");
        assert_eq!(number(25_860.4), "25,860");
        assert_eq!(number(12.34), "12.3");
        assert_eq!(number(0.083), "0.08");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(cut_point(30.0), "30");
        assert_eq!(cut_point(0.25), "0.25");
        assert_eq!(fixed_or_dash(Some(1.234), 1), "1.2");
        assert_eq!(fixed_or_dash(None, 1), "–");
    }

    #[test]
    fn shares_print_the_same_everywhere() {
        assert_eq!(percent(0.342), "34.2 %");
        assert_eq!(percent(0.0), "0.0 %");
        assert_eq!(percent(0.0004), "< 0.1 %");
        assert_eq!(percent(-0.05), "-5.0 %");
        assert_eq!(percent(f64::NAN), "n/a");
        assert_eq!(percent(f64::INFINITY), "n/a");
        assert_eq!(whole_percent(0.342), "34 %");
        assert_eq!(whole_percent(0.004), "0 %");
        assert_eq!(whole_percent(f64::NAN), "n/a");
        assert_eq!(share_beside_count(0.12), "12 %");
        assert_eq!(share_beside_count(0.004), "< 1 %");
        assert_eq!(share_beside_count(f64::NAN), "n/a");
    }

    #[test]
    fn signed_shares_and_short_counts() {
        assert_eq!(signed_percent(-0.123), "−12.3 %");
        assert_eq!(signed_percent(-0.0001), "> −0.1 %");
        assert_eq!(signed_percent(1.5), "150.0 %");
        assert_eq!(signed_percent(f64::NAN), "n/a");
        assert_eq!(signed_percent(-0.0), "0.0 %");
        assert_eq!(short_count(98_765), "98,765");
        assert_eq!(short_count(123_456), "123 k");
        assert_eq!(short_count(1_234_567), "1.23 M");
        assert!(short_count(u64::MAX).ends_with(" bn"));
    }
}
