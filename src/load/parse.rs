//! Turning raw cells into typed values, with errors that name the file, column and row.

use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::NaiveDateTime;
use polars::prelude::*;
use rayon::prelude::*;

use super::read::{input_error, RawFile};
use crate::error::{Error, Result};

pub fn column<'a>(raw: &'a RawFile, name: &str) -> Result<&'a Column> {
    raw.frame.column(name).map_err(|_| {
        let names: Vec<&str> = raw
            .frame
            .get_column_names()
            .into_iter()
            .map(|s| s.as_str())
            .collect();
        // One column whose name holds another separator: the job's separator is not the file's.
        let hint = match names.as_slice() {
            [only] if only.contains([',', ';', '\t', '|']) => {
                " — the file reads as a single column: is the table's `separator` key right? (leave it out to detect the separator)"
            }
            _ => "",
        };
        input_error(
            &raw.path,
            format!(
                "no column '{name}'{}; the file has: {}{hint}",
                crate::job::suggest(name, &names),
                names.join(", ")
            ),
        )
    })
}

fn as_text(raw: &RawFile, name: &str) -> Result<StringChunked> {
    let col = column(raw, name)?;
    let cast = col
        .cast(&DataType::String)
        .map_err(|e| input_error(&raw.path, format!("column '{name}': {e}")))?;
    cast.str()
        .cloned()
        .map_err(|e| input_error(&raw.path, format!("column '{name}': {e}")))
}

fn cell_error(raw: &RawFile, name: &str, index: usize, message: String) -> Error {
    Error::cell(
        raw.path.clone(),
        name.to_string(),
        raw.first_row + index + 1,
        message,
    )
}

/// Trimmed text; blank cells become None.
pub fn text(raw: &RawFile, name: &str) -> Result<Vec<Option<String>>> {
    Ok(as_text(raw, name)?
        .iter()
        .map(|v| v.map(str::trim).filter(|s| !s.is_empty()).map(String::from))
        .collect())
}

/// [`text`] as a column; a column without padding or empty cells (typical of Parquet) is
/// returned as it is, without copying a string.
pub fn text_column(raw: &RawFile, name: &str) -> Result<StringChunked> {
    let cells = as_text(raw, name)?;
    let untidy = |v: &str| v.is_empty() || v.trim().len() != v.len();
    let arrays: Vec<_> = cells.downcast_iter().collect();
    if !arrays.par_iter().any(|a| a.iter().flatten().any(untidy)) {
        return Ok(cells.with_name(name.into()));
    }
    Ok(cells
        .iter()
        .map(|v| v.map(str::trim).filter(|s| !s.is_empty()))
        .collect::<StringChunked>()
        .with_name(name.into()))
}

/// [`numbers`] as a column; a typed numeric column is converted without a row loop.
pub fn number_column(raw: &RawFile, name: &str) -> Result<Float64Chunked> {
    let col = column(raw, name)?;
    if !col.dtype().is_primitive_numeric() {
        return Ok(numbers(raw, name)?.into_iter().collect());
    }
    let cast = col
        .cast(&DataType::Float64)
        .map_err(|e| input_error(&raw.path, format!("column '{name}': {e}")))?;
    let values = cast
        .f64()
        .map_err(|e| input_error(&raw.path, format!("column '{name}': {e}")))?
        .clone();
    if let Some(i) = values
        .iter()
        .position(|v| v.is_some_and(|x| !x.is_finite()))
    {
        return Err(cell_error(
            raw,
            name,
            i,
            "the value is not a finite number".into(),
        ));
    }
    Ok(values)
}

pub fn numbers(raw: &RawFile, name: &str) -> Result<Vec<Option<f64>>> {
    let col = column(raw, name)?;
    if col.dtype().is_primitive_numeric() {
        let cast = col
            .cast(&DataType::Float64)
            .map_err(|e| input_error(&raw.path, format!("column '{name}': {e}")))?;
        let values: Vec<Option<f64>> = cast
            .f64()
            .map_err(|e| input_error(&raw.path, format!("column '{name}': {e}")))?
            .iter()
            .collect();
        return check_finite(raw, name, values);
    }
    let cells = as_text(raw, name)?;
    parse_cells(raw, name, &trimmed(&cells), parse_number, |s| {
        format!("'{}' is not a number", clip(s))
    })
}

/// Blank cells as None, the others trimmed; the column's chunks (a CSV read gives one per block
/// of lines) in parallel.
fn trimmed(cells: &StringChunked) -> Vec<Option<&str>> {
    let mut out = vec![None; cells.len()];
    let mut rest = out.as_mut_slice();
    let mut parts = Vec::with_capacity(cells.chunks().len());
    for array in cells.downcast_iter() {
        let (slots, tail) = std::mem::take(&mut rest).split_at_mut(array.len());
        parts.push((slots, array));
        rest = tail;
    }
    parts.into_par_iter().for_each(|(slots, array)| {
        for (slot, cell) in slots.iter_mut().zip(array.iter()) {
            *slot = cell.map(str::trim).filter(|s| !s.is_empty());
        }
    });
    out
}

/// Every non-blank cell read by `parse`, in parallel (tens of millions of cells); the first
/// cell it cannot read is an error naming its row, with `message`.
fn parse_cells<T: Send>(
    raw: &RawFile,
    name: &str,
    cells: &[Option<&str>],
    parse: impl Fn(&str) -> Option<T> + Sync,
    message: impl Fn(&str) -> String,
) -> Result<Vec<Option<T>>> {
    let parsed: Option<Vec<Option<T>>> = cells
        .par_iter()
        .map(|cell| match cell {
            None => Some(None),
            Some(s) => parse(s).map(Some),
        })
        .collect();
    parsed.ok_or_else(|| {
        let unread = cells
            .iter()
            .enumerate()
            .find_map(|(i, cell)| cell.filter(|s| parse(s).is_none()).map(|s| (i, s)));
        match unread {
            Some((i, s)) => cell_error(raw, name, i, message(s)),
            None => Error::internal(name, "a cell failed to parse only in parallel"),
        }
    })
}

fn check_finite(raw: &RawFile, name: &str, values: Vec<Option<f64>>) -> Result<Vec<Option<f64>>> {
    match values
        .iter()
        .position(|v| v.is_some_and(|x| !x.is_finite()))
    {
        Some(i) => Err(cell_error(
            raw,
            name,
            i,
            "the value is not a finite number".into(),
        )),
        None => Ok(values),
    }
}

/// Accepts the number spellings of CRM exports: currency symbols, thousands separators, and a
/// decimal comma. A single comma followed by exactly three digits is read as a thousands
/// separator ("1,234" = 1234), otherwise as a decimal comma ("12,5" = 12.5).
pub fn parse_number(text: &str) -> Option<f64> {
    // Plain numbers (nearly every cell) need none of the cleaning below, which allocates.
    if let Ok(value) = text.parse::<f64>() {
        return value.is_finite().then_some(value);
    }
    let cleaned: String = text
        .chars()
        .filter(|c| !matches!(c, '$' | '€' | '£' | '¥' | '₽' | ' ' | '\u{a0}' | '\''))
        .collect();
    let normalised = match (cleaned.rfind('.'), cleaned.rfind(',')) {
        (Some(dot), Some(comma)) if comma > dot => cleaned.replace('.', "").replace(',', "."),
        (Some(_), Some(_)) => cleaned.replace(',', ""),
        (None, Some(comma)) => {
            let single = cleaned.matches(',').count() == 1;
            let decimals = cleaned.len() - comma - 1;
            if single && decimals != 3 {
                cleaned.replace(',', ".")
            } else {
                cleaned.replace(',', "")
            }
        }
        _ => cleaned,
    };
    normalised.parse::<f64>().ok().filter(|v| v.is_finite())
}

pub fn booleans(raw: &RawFile, name: &str) -> Result<Vec<Option<bool>>> {
    as_text(raw, name)?
        .iter()
        .enumerate()
        .map(
            |(i, cell)| match cell.map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(s) => parse_bool(s).map(Some).ok_or_else(|| {
                    cell_error(
                        raw,
                        name,
                        i,
                        format!("'{}' is not yes/no, true/false or 1/0", clip(s)),
                    )
                }),
            },
        )
        .collect()
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "t" | "yes" | "y" => Some(true),
        "0" | "false" | "f" | "no" | "n" => Some(false),
        other => parse_number(other).map(|v| v > 0.0),
    }
}

/// Whether a strftime format reads a time of day (an hour), not only a date.
pub fn format_has_time(format: &str) -> bool {
    ["%H", "%I", "%T", "%R"].iter().any(|t| format.contains(t))
}

pub struct ParsedTimes {
    pub values: Vec<Option<NaiveDateTime>>,
    /// False when the column holds dates only: time-of-day habits are then not computed.
    pub has_time: bool,
    pub format: String,
}

const DATE_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y%m%d",
];

/// `format_key` is the job key that sets this column's format, named in errors.
pub fn datetimes(
    raw: &RawFile,
    name: &str,
    format: Option<&str>,
    format_key: &str,
) -> Result<ParsedTimes> {
    let col = column(raw, name)?;
    if matches!(col.dtype(), DataType::Date | DataType::Datetime(_, _)) {
        return typed_datetimes(raw, name, col);
    }
    let (values, format) = text_datetimes(raw, name, format, format_key, |t| t)?;
    Ok(ParsedTimes {
        values,
        has_time: format_has_time(&format),
        format,
    })
}

/// A text column's dates, each turned into a value by `map`, and the format that read them
/// (given, or detected).
fn text_datetimes<T: Send>(
    raw: &RawFile,
    name: &str,
    format: Option<&str>,
    format_key: &str,
    map: impl Fn(NaiveDateTime) -> T + Sync,
) -> Result<(Vec<Option<T>>, String)> {
    let cells = as_text(raw, name)?;
    let trimmed = trimmed(&cells);
    let format = match format {
        Some(f) => f.to_string(),
        None => detect_format(raw, name, &trimmed, format_key)?,
    };
    let reader = DateFormat::new(&format);
    let values = parse_cells(
        raw,
        name,
        &trimmed,
        |s| reader.parse(s).map(&map),
        |s| format!("'{}' does not match the date format {format}", clip(s)),
    )?;
    Ok((values, format))
}

/// Timestamps as milliseconds since 1970 (null where blank), as [`datetimes`] reads them; a typed
/// date or datetime column is converted without a row loop.
pub struct TimeColumn {
    pub millis: Int64Chunked,
    pub has_time: bool,
    pub format: String,
}

pub fn datetime_column(
    raw: &RawFile,
    name: &str,
    format: Option<&str>,
    format_key: &str,
) -> Result<TimeColumn> {
    let col = column(raw, name)?;
    if matches!(col.dtype(), DataType::Date | DataType::Datetime(_, _)) {
        return Ok(TimeColumn {
            millis: typed_millis(raw, name, col)?,
            has_time: matches!(col.dtype(), DataType::Datetime(_, _)),
            format: "typed".into(),
        });
    }
    let (millis, format) = text_datetimes(raw, name, format, format_key, |t| {
        t.and_utc().timestamp_millis()
    })?;
    Ok(TimeColumn {
        millis: millis.into_iter().collect(),
        has_time: format_has_time(&format),
        format,
    })
}

fn typed_millis(raw: &RawFile, name: &str, col: &Column) -> Result<Int64Chunked> {
    let ms = col
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
        .and_then(|c| c.cast(&DataType::Int64))
        .map_err(|e| input_error(&raw.path, format!("column '{name}': {e}")))?;
    Ok(ms
        .i64()
        .map_err(|e| input_error(&raw.path, format!("column '{name}': {e}")))?
        .clone())
}

fn typed_datetimes(raw: &RawFile, name: &str, col: &Column) -> Result<ParsedTimes> {
    let has_time = matches!(col.dtype(), DataType::Datetime(_, _));
    let ms = col
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
        .and_then(|c| c.cast(&DataType::Int64))
        .map_err(|e| input_error(&raw.path, format!("column '{name}': {e}")))?;
    let values = ms
        .i64()
        .map_err(|e| input_error(&raw.path, format!("column '{name}': {e}")))?
        .iter()
        .map(|v| {
            v.and_then(|ms| chrono::DateTime::from_timestamp_millis(ms).map(|d| d.naive_utc()))
        })
        .collect();
    Ok(ParsedTimes {
        values,
        has_time,
        format: "typed".into(),
    })
}

pub fn parse_datetime(text: &str, format: &str) -> Option<NaiveDateTime> {
    DateFormat::new(format).parse(text)
}

/// A date format read once: `NaiveDateTime::parse_from_str` reads its format string again for
/// every value, which was most of the cost of parsing tens of millions of timestamps.
struct DateFormat(Option<Vec<Item<'static>>>);

impl DateFormat {
    /// A format chrono cannot read matches no value, as with `parse_from_str`.
    fn new(format: &str) -> Self {
        Self(StrftimeItems::new(format).parse_to_owned().ok())
    }

    /// `parse_from_str` for a date and time, else for a date alone at midnight.
    fn parse(&self, text: &str) -> Option<NaiveDateTime> {
        let mut parsed = Parsed::new();
        chrono::format::parse(&mut parsed, text, self.0.as_ref()?.iter()).ok()?;
        parsed.to_naive_datetime_with_offset(0).ok().or_else(|| {
            parsed
                .to_naive_date()
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
    }
}

/// The first format that reads every value; an error when none does, or when both a day-first
/// and a month-first format read every value (03/04/2024 could be either).
fn detect_format(
    raw: &RawFile,
    name: &str,
    cells: &[Option<&str>],
    format_key: &str,
) -> Result<String> {
    let values: Vec<&str> = cells.iter().flatten().copied().collect();
    let Some(first) = values.first() else {
        return Err(input_error(
            &raw.path,
            format!("column '{name}' has no dates"),
        ));
    };
    let probe: Vec<&str> = values
        .iter()
        .step_by((values.len() / 2000).max(1))
        .copied()
        .collect();
    let fits = |f: &str| {
        let reader = DateFormat::new(f);
        probe.iter().all(|v| reader.parse(v).is_some())
    };
    let candidates: Vec<&str> = DATE_FORMATS.iter().copied().filter(|f| fits(f)).collect();
    if candidates.is_empty() {
        // A format that reads most values is the column's: the cells it cannot read are then
        // reported one by one, with their row, instead of a guess about the whole column.
        let fitting = |f: &str| {
            let reader = DateFormat::new(f);
            probe.iter().filter(|v| reader.parse(v).is_some()).count()
        };
        let mut best = ("", 0);
        for format in DATE_FORMATS {
            let n = fitting(format);
            if n > best.1 {
                best = (format, n);
            }
        }
        if best.1 * 2 > probe.len() {
            return Ok(best.0.to_string());
        }
    }
    let Some(&chosen) = candidates.first() else {
        return Err(input_error(
            &raw.path,
            format!("column '{name}': cannot tell the date format of values like '{}'; set it with the job's `{format_key}` key, e.g. \"%d/%m/%Y %H:%M\"", clip(first)),
        ));
    };
    let fits_all = |f: &str| {
        let reader = DateFormat::new(f);
        values.par_iter().all(|v| reader.parse(v).is_some())
    };
    let swapped = swap_day_month(chosen);
    if swapped != chosen
        && candidates.contains(&swapped.as_str())
        && fits_all(chosen)
        && fits_all(&swapped)
    {
        return Err(input_error(
            &raw.path,
            format!("column '{name}': dates like '{}' read both day-first ({chosen}) and month-first ({swapped}); set the job's `{format_key}` key to say which", clip(first)),
        ));
    }
    Ok(chosen.to_string())
}

fn swap_day_month(format: &str) -> String {
    format
        .replace("%d", "\u{1}")
        .replace("%m", "%d")
        .replace('\u{1}', "%m")
}

pub(crate) fn clip(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_of_a_later_part_is_named_by_its_row_in_the_file() {
        let frame = df!("amount" => ["1.5", "oops"]).unwrap();
        let raw = RawFile {
            path: "t.csv".into(),
            frame,
            preamble_lines: 0,
            first_row: 1000,
        };
        let err = numbers(&raw, "amount").unwrap_err().to_string();
        assert!(err.contains("1002"), "{err}");
    }

    #[test]
    fn reads_export_number_spellings() {
        assert_eq!(parse_number("1234.5"), Some(1234.5));
        assert_eq!(parse_number("12,5"), Some(12.5));
        assert_eq!(parse_number("1,234"), Some(1234.0));
        assert_eq!(parse_number("1.234,50"), Some(1234.5));
        assert_eq!(parse_number("1,234.50"), Some(1234.5));
        assert_eq!(parse_number("$ 12.00"), Some(12.0));
        assert_eq!(parse_number("-3.5"), Some(-3.5));
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("abc"), None);
    }

    #[test]
    fn swaps_day_and_month() {
        assert_eq!(swap_day_month("%d/%m/%Y %H:%M"), "%m/%d/%Y %H:%M");
    }
}
