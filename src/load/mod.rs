//! Stage 1 — load: read the job's tables and map their columns onto their roles (customer id,
//! timestamp, amount, …).
//! Every table comes out with canonical column names and types; dropped rows are counted.

pub mod ledger;
pub mod missing;
pub mod parse;
mod query;
pub mod read;
mod text;

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDateTime};
use polars::prelude::*;

pub use missing::{MissingIds, SuspiciousId};
pub(crate) use parse::clip;
pub use parse::parse_number;
use query::Tables;
use read::{read_table, CsvOptions, RawFile};

use crate::error::{PolarsContext, Result};
use crate::job::{CampaignsInput, CustomersInput, EventsInput, Job, TransactionsInput};

/// Purchases and refunds, one row per line. Columns: customer (index into
/// [`Inputs::customer_ids`]), millis (the timestamp, milliseconds since 1970-01-01; midnight
/// when the export has dates only, see `has_time`), amount, and order_id, discount, category,
/// channel when mapped. Money (amount, discount) is in millionths as i64 ([`MICROS`]), so that
/// sums are exact and the same in any order: revenue reconciles to the cent, and a run gives the
/// same figures whatever order polars' parallel group-bys add the lines in.
pub struct TransactionTable {
    pub frame: DataFrame,
    pub has_time: bool,
    pub has_order_id: bool,
    pub has_category: bool,
    pub has_channel: bool,
    pub has_discount: bool,
}

/// One row per customer with canonical names: customer (index into [`Inputs::customer_ids`]),
/// birth_year, age, gender, country,
/// region, city, income, signup_day, tags, recency_days, frequency, monetary, response_rate, and
/// the job's extra categorical / numeric columns under their own names.
pub struct CustomerTable {
    pub frame: DataFrame,
    pub categorical: Vec<String>,
    pub numeric: Vec<String>,
}

pub struct Inputs {
    /// Every customer id found in any table, sorted, each once; the tables refer to a customer
    /// by its index here (column `customer`, u32), so later stages group and align on integers.
    pub customer_ids: Vec<String>,
    pub transactions: Option<TransactionTable>,
    pub customers: Option<CustomerTable>,
    /// customer, campaign_id, sent_day, opened, clicked, responded (0/1 as f64).
    pub campaigns: Option<DataFrame>,
    /// customer, day, event_type.
    pub events: Option<DataFrame>,
    pub quality: DataQuality,
}

/// Rows read and rows dropped (with the reason) per table, for run.log and the report.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct DataQuality {
    pub rows_read: BTreeMap<String, usize>,
    pub dropped: BTreeMap<String, usize>,
    pub files: Vec<String>,
    /// The date format read (given or detected) per "table.column".
    pub date_formats: BTreeMap<String, String>,
    /// Rows kept that an analyst should know about, by reason (e.g. customers who bought but
    /// have no row in the customers table: they are segmented without demographics).
    #[serde(default)]
    pub kept: BTreeMap<String, usize>,
    /// The customers and revenue counted from the loaded tables, which the run's outputs must
    /// reconcile to (see `invariants`).
    #[serde(default)]
    pub expected: Option<ledger::Expected>,
    /// Net amount (money, to the cent) of the dropped rows, by the reason in `dropped`, for the
    /// tables that carry amounts.
    #[serde(default)]
    pub dropped_revenue: BTreeMap<String, f64>,
    /// Ids that hold an implausible share of a transaction table (kept, flagged).
    #[serde(default)]
    pub suspicious_ids: Vec<SuspiciousId>,
}

impl DataQuality {
    fn drop_rows(&mut self, table: &str, reason: &str, rows: usize) {
        self.drop_rows_with_revenue(table, reason, rows, None);
    }

    /// Counts dropped rows by reason, with their net amount in millionths when known.
    fn drop_rows_with_revenue(
        &mut self,
        table: &str,
        reason: &str,
        rows: usize,
        micros: Option<i128>,
    ) {
        if rows == 0 {
            return;
        }
        let key = format!("{table}: {reason}");
        *self.dropped.entry(key.clone()).or_default() += rows;
        if let Some(micros) = micros {
            let money = ledger::micros_to_money(micros);
            *self.dropped_revenue.entry(key).or_default() += money;
        }
    }
}

/// Runs a plan on polars' streaming engine: its hash joins and aggregations beat the in-memory
/// engine's on tens of millions of rows. The rows of a join or group-by come out in no particular
/// order; callers either keep an order themselves or depend on none.
pub fn collect_streamed(plan: LazyFrame) -> PolarsResult<DataFrame> {
    plan.collect_with_engine(Engine::Streaming)
        .map(|result| result.unwrap_single())
}

/// Money columns hold amounts × MICROS (millionths of the currency unit).
pub const MICROS: f64 = 1e6;
/// The largest amount a line may carry (in currency units); larger is an error, not a sale.
pub const MAX_LINE_AMOUNT: f64 = 1e10;

pub fn load(job: &Job) -> Result<Inputs> {
    let mut quality = DataQuality::default();
    let mut tables = Tables::default();
    let mut transactions = job
        .inputs
        .transactions
        .as_ref()
        .map(|t| load_transactions(job, t, &mut tables, &mut quality))
        .transpose()?;
    let mut customers = job
        .inputs
        .customers
        .as_ref()
        .map(|c| load_customers(job, c, &mut tables, &mut quality))
        .transpose()?;
    let mut campaigns = job
        .inputs
        .campaigns
        .as_ref()
        .map(|c| load_campaigns(job, c, &mut tables, &mut quality))
        .transpose()?;
    let mut events = job
        .inputs
        .events
        .as_ref()
        .map(|e| load_events(job, e, &mut tables, &mut quality))
        .transpose()?;
    let missing = |name: &str| {
        let listed = job
            .inputs
            .sources()
            .into_iter()
            .find(|(input, _)| *input == name)
            .and_then(|(_, source)| source.missing_ids);
        MissingIds::of(listed, name)
    };
    let frames = [
        ("transactions", transactions.as_mut().map(|t| &mut t.frame)),
        ("customers", customers.as_mut().map(|c| &mut c.frame)),
        ("campaigns", campaigns.as_mut()),
        ("events", events.as_mut()),
    ]
    .into_iter()
    .filter_map(|(name, frame)| Some((name, frame?, missing(name))))
    .collect();
    let customer_ids = index_customers(frames, &mut quality)?;
    if let Some(table) = &transactions {
        quality.suspicious_ids =
            missing::suspicious_ids(&table.frame, &customer_ids, "transactions")?;
        for suspicious in &quality.suspicious_ids {
            log::warn!("{}", suspicious.warning());
        }
    }
    if let Some(table) = &customers {
        let others = [
            ("transactions", transactions.as_ref().map(|t| &t.frame)),
            ("campaigns", campaigns.as_ref()),
            ("events", events.as_ref()),
        ];
        count_unknown_customers(&mut quality, customer_ids.len(), table, others)?;
    }
    Ok(Inputs {
        customer_ids,
        transactions,
        customers,
        campaigns,
        events,
        quality,
    })
}

/// An input's rows: its files, or the result of its query over the job's tables.
fn read(
    job: &Job,
    source: &crate::job::Source,
    table: &str,
    columns: Option<&[String]>,
    tables: &mut Tables,
    quality: &mut DataQuality,
) -> Result<Vec<RawFile>> {
    let files = match (source.query, source.path) {
        (Some(query), _) => {
            let result = tables.query(job, table, query, quality)?;
            *quality.rows_read.entry(table.to_string()).or_default() += result.frame.height();
            vec![result]
        }
        (None, Some(path)) => {
            let options = CsvOptions {
                columns,
                ..csv_options(source)
            };
            let files = read_table(&job.resolve(path), options)?;
            record_files(&files, table, quality);
            files
        }
        (None, None) => {
            return Err(crate::error::Error::internal(
                format!("[inputs.{table}]"),
                "neither `path` nor `query`, in a job whose parsing requires one",
            ))
        }
    };
    Ok(files)
}

/// [`read`] one part at a time (see [`read::for_each_part`]): each part is handed to `each` and
/// dropped before the next is read.
fn read_parts(
    job: &Job,
    source: &crate::job::Source,
    table: &str,
    [columns, numbers]: [&[String]; 2],
    tables: &mut Tables,
    quality: &mut DataQuality,
    each: &mut dyn FnMut(RawFile, &mut DataQuality) -> Result<()>,
) -> Result<()> {
    let Some(path) = source.path.filter(|_| source.query.is_none()) else {
        for raw in read(job, source, table, Some(columns), tables, quality)? {
            each(raw, quality)?;
        }
        return Ok(());
    };
    let options = CsvOptions {
        columns: Some(columns),
        numbers: Some(numbers),
        ..csv_options(source)
    };
    read::for_each_part(&job.resolve(path), options, &mut |raw| {
        record_files(std::slice::from_ref(&raw), table, quality);
        each(raw, quality)
    })
}

/// Rows read, files and title lines skipped, per file of a table.
fn record_files(files: &[RawFile], table: &str, quality: &mut DataQuality) {
    for f in files {
        *quality.rows_read.entry(table.to_string()).or_default() += f.frame.height();
        if f.first_row == 0 {
            quality.files.push(f.path.display().to_string());
        }
        log::debug!(
            "    {table}: {} — {} rows, {} columns, {} title lines skipped",
            f.path.display(),
            f.frame.height(),
            f.frame.width(),
            f.preamble_lines
        );
        quality.drop_rows(
            table,
            "title lines above the header skipped",
            f.preamble_lines,
        );
    }
}

fn csv_options<'a>(source: &crate::job::Source<'a>) -> CsvOptions<'a> {
    CsvOptions {
        separator: source.separator,
        encoding: source.encoding,
        columns: None,
        part_bytes: None,
        numbers: None,
    }
}

fn optional_text(raw: &RawFile, name: &Option<String>) -> Result<Option<Vec<Option<String>>>> {
    name.as_deref().map(|n| parse::text(raw, n)).transpose()
}

/// A date column parsed (format given or detected) and each date turned into a value.
fn mapped_dates<T>(
    raw: &RawFile,
    column: &str,
    format: &Option<String>,
    format_key: &str,
    map: impl Fn(&NaiveDateTime) -> T,
) -> Result<Vec<Option<T>>> {
    Ok(
        parse::datetimes(raw, column, format.as_deref(), format_key)?
            .values
            .iter()
            .map(|d| d.as_ref().map(&map))
            .collect(),
    )
}

fn day_number(ts: &NaiveDateTime) -> i32 {
    (ts.date() - chrono::NaiveDate::default()).num_days() as i32
}

fn load_transactions(
    job: &Job,
    spec: &TransactionsInput,
    tables: &mut Tables,
    quality: &mut DataQuality,
) -> Result<TransactionTable> {
    const TABLE: &str = "transactions";
    let mut frames = Vec::new();
    let mut has_time = true;
    let columns = spec.mapped_columns();
    // A file read in parts keeps the date format its first part showed.
    let mut detected: Option<(std::path::PathBuf, String)> = None;
    let numbers = spec.number_columns();
    read_parts(
        job,
        &spec.source(),
        TABLE,
        [&columns, &numbers],
        tables,
        quality,
        &mut |raw, quality| {
            let format = spec.timestamp_format.clone().or_else(|| {
                detected
                    .as_ref()
                    .filter(|(path, _)| raw.first_row > 0 && *path == raw.path)
                    .map(|(_, format)| format.clone())
            });
            let times = parse::datetime_column(
                &raw,
                &spec.timestamp,
                format.as_deref(),
                "timestamp_format",
            )?;
            detected = Some((raw.path.clone(), times.format.clone()));
            has_time &= times.has_time;
            quality
                .date_formats
                .insert(format!("{TABLE}.{}", spec.timestamp), times.format.clone());
            let lines = transaction_lines(&raw, spec, times.millis)?;
            let unusable = unusable_lines(&lines)?;
            let [no_id, no_time, no_amount] = unusable.rows;
            let [no_id_micros, no_time_micros] = unusable.micros;
            quality.drop_rows_with_revenue(TABLE, "blank customer id", no_id, Some(no_id_micros));
            quality.drop_rows_with_revenue(TABLE, "blank timestamp", no_time, Some(no_time_micros));
            quality.drop_rows(TABLE, "blank amount", no_amount);
            let complete = no_id + no_time + no_amount == 0;
            frames.push(usable_lines(lines, spec, complete)?);
            Ok(())
        },
    )?;
    let frame = concat_frames(frames, TABLE)?;
    Ok(TransactionTable {
        frame,
        has_time,
        has_order_id: spec.order_id.is_some(),
        has_category: spec.category.is_some(),
        has_channel: spec.channel.is_some(),
        has_discount: spec.discount.is_some(),
    })
}

/// One file's mapped columns as read: customer_id (blank cells null), millis, amount, and
/// order_id, category, channel, discount when the job maps them.
fn transaction_lines(
    raw: &RawFile,
    spec: &TransactionsInput,
    millis: Int64Chunked,
) -> Result<DataFrame> {
    let ids = parse::text_column(raw, &spec.customer_id)?;
    let mut columns = vec![
        ids.with_name("customer_id".into()).into_column(),
        millis.with_name("millis".into()).into_column(),
        transaction_amounts(raw, spec)?
            .with_name("amount".into())
            .into_column(),
    ];
    for (name, source) in [
        ("order_id", &spec.order_id),
        ("category", &spec.category),
        ("channel", &spec.channel),
    ] {
        if let Some(source) = source {
            let text = parse::text_column(raw, source)?;
            columns.push(text.with_name(name.into()).into_column());
        }
    }
    if let Some(source) = &spec.discount {
        let discount = money(raw, source, parse::number_column(raw, source)?)?;
        columns.push(discount.with_name("discount".into()).into_column());
    }
    DataFrame::new_infer_height(columns).context("building the transactions table")
}

/// Lines without a customer, then without a timestamp, then without an amount: the drop reasons
/// in the order they are checked, with the net amount of the first two (millionths).
struct Unusable {
    rows: [usize; 3],
    micros: [i128; 2],
}

fn unusable_lines(lines: &DataFrame) -> Result<Unusable> {
    let id = || col("customer_id").is_not_null();
    let time = || col("millis").is_not_null();
    let amount_where =
        |condition: Expr| col("amount").filter(condition).cast(DataType::Int128).sum();
    let counts = lines
        .clone()
        .lazy()
        .select([
            id().not().sum().alias("no_id"),
            id().and(time().not()).sum().alias("no_time"),
            id().and(time())
                .and(col("amount").is_null())
                .sum()
                .alias("no_amount"),
            amount_where(id().not()).alias("no_id_amount"),
            amount_where(id().and(time().not())).alias("no_time_amount"),
        ])
        .collect()
        .context("counting unusable transaction lines")?;
    let value = |name: &str| -> Result<i128> {
        let column = counts
            .column(name)
            .and_then(|c| c.cast(&DataType::Int128))
            .context("counting unusable transaction lines")?;
        Ok(column
            .i128()
            .context("counting unusable transaction lines")?
            .get(0)
            .unwrap_or(0))
    };
    Ok(Unusable {
        rows: [
            value("no_id")? as usize,
            value("no_time")? as usize,
            value("no_amount")? as usize,
        ],
        micros: [value("no_id_amount")?, value("no_time_amount")?],
    })
}

/// The usable lines in the table's canonical columns (see [`TransactionTable`]); blank
/// categories and channels become "unknown" rather than dropping the purchase. Columns the job
/// does not map are left out rather than filled, which at 20 million lines is hundreds of MB.
fn usable_lines(lines: DataFrame, spec: &TransactionsInput, complete: bool) -> Result<DataFrame> {
    let mut columns = vec![col("customer_id"), col("millis"), col("amount")];
    if spec.order_id.is_some() {
        columns.push(col("order_id"));
    }
    if spec.discount.is_some() {
        columns.push(col("discount").fill_null(lit(0)).abs().alias("discount"));
    }
    for (name, mapped) in [("category", &spec.category), ("channel", &spec.channel)] {
        if mapped.is_some() {
            columns.push(col(name).fill_null(lit("unknown")));
        }
    }
    // A filter copies every column; lines that are all usable need none.
    let lines = if complete {
        lines.lazy()
    } else {
        lines.lazy().filter(
            col("customer_id")
                .is_not_null()
                .and(col("millis").is_not_null())
                .and(col("amount").is_not_null()),
        )
    };
    lines
        .select(columns)
        .collect()
        .context("building the transactions table")
}

fn transaction_amounts(raw: &RawFile, spec: &TransactionsInput) -> Result<Int64Chunked> {
    if let Some(amount) = &spec.amount {
        return money(raw, amount, parse::number_column(raw, amount)?);
    }
    let (Some(q), Some(p)) = (&spec.quantity, &spec.unit_price) else {
        return Err(crate::error::Error::internal(
            "[inputs.transactions]",
            "no `amount` nor `quantity` and `unit_price`, in a job whose parsing requires them",
        ));
    };
    let product = &parse::number_column(raw, q)? * &parse::number_column(raw, p)?;
    money(raw, &format!("{q} × {p}"), product)
}

/// Amounts in millionths ([`MICROS`]); an amount beyond [`MAX_LINE_AMOUNT`] (or one that
/// overflowed to infinity) is an error naming its row.
fn money(raw: &RawFile, column: &str, values: Float64Chunked) -> Result<Int64Chunked> {
    if let Some(row) = values
        .iter()
        .position(|v| v.is_some_and(|v| v.is_nan() || v.abs() > MAX_LINE_AMOUNT))
    {
        let value = values.get(row).unwrap_or(f64::NAN);
        return Err(crate::error::Error::cell(raw.path.clone(), column.to_string(), raw.first_row + row + 1, format!(
                "the amount {value:e} is beyond ±{MAX_LINE_AMOUNT:e} per line; an export error (a wrong column, an id or a sentinel such as 99999999999 read as money), not a purchase"
            )));
    }
    Ok(
        values.apply_nonnull_values_generic::<Int64Type, _, _>(DataType::Int64, |v| {
            (v * MICROS).round() as i64
        }),
    )
}

fn load_customers(
    job: &Job,
    spec: &CustomersInput,
    tables: &mut Tables,
    quality: &mut DataQuality,
) -> Result<CustomerTable> {
    const TABLE: &str = "customers";
    let mut frames = Vec::new();
    for raw in read(job, &spec.source(), TABLE, None, tables, quality)? {
        frames.push(customer_frame(&raw, spec, quality)?);
    }
    let mut frame = concat_frames(frames, "customers")?;
    let before = frame.height();
    frame = frame
        .unique_stable(
            Some(&["customer_id".to_string()]),
            UniqueKeepStrategy::First,
            None,
        )
        .context("removing duplicate customers")?;
    quality.drop_rows(
        TABLE,
        "duplicate customer id (first row kept)",
        before - frame.height(),
    );
    Ok(CustomerTable {
        frame,
        categorical: spec.categorical.clone(),
        numeric: spec.numeric.clone(),
    })
}

fn customer_frame(
    raw: &RawFile,
    spec: &CustomersInput,
    quality: &mut DataQuality,
) -> Result<DataFrame> {
    // Ids as written; the ones a table lists as missing go when the customers are indexed.
    let id = parse::text(raw, &spec.customer_id)?;
    let keep: Vec<bool> = id.iter().map(Option::is_some).collect();
    let mut columns = vec![Column::new("customer_id".into(), id)];
    let mut add_f64 =
        |name: &str, values: Vec<Option<f64>>| columns.push(Column::new(name.into(), values));
    if let Some(c) = &spec.birth_year {
        add_f64("birth_year", parse::numbers(raw, c)?);
    } else if let Some(c) = &spec.birth_date {
        let years = mapped_dates(raw, c, &spec.birth_date_format, "birth_date_format", |d| {
            d.year() as f64
        })?;
        add_f64("birth_year", years);
    }
    if let Some(c) = &spec.age {
        add_f64("age", parse::numbers(raw, c)?);
    }
    if let Some(c) = &spec.income {
        add_f64("income", parse::numbers(raw, c)?);
    }
    if let Some(c) = &spec.signup_date {
        let days = mapped_dates(
            raw,
            c,
            &spec.signup_date_format,
            "signup_date_format",
            |d| day_number(d) as f64,
        )?;
        add_f64("signup_day", days);
    }
    if let Some(c) = &spec.recency_days {
        add_f64("recency_days", parse::numbers(raw, c)?);
    }
    for (role, cols) in [("frequency", &spec.frequency), ("monetary", &spec.monetary)] {
        if let Some(cols) = cols {
            add_f64(role, summed(raw, &cols.names())?);
        }
    }
    if !spec.responses.is_empty() {
        add_f64("response_rate", mean_of(raw, &spec.responses)?);
    }
    for name in &spec.numeric {
        add_f64(name, parse::numbers(raw, name)?);
    }
    for (role, col) in [
        ("gender", &spec.gender),
        ("country", &spec.country),
        ("region", &spec.region),
        ("city", &spec.city),
        ("tags", &spec.tags),
    ] {
        if let Some(values) = optional_text(raw, col)? {
            columns.push(Column::new(role.into(), values));
        }
    }
    for name in &spec.categorical {
        columns.push(Column::new(name.into(), parse::text(raw, name)?));
    }
    let frame = DataFrame::new_infer_height(columns).context("building the customers table")?;
    keep_rows(frame, &keep, quality, "customers", "blank customer id")
}

/// Several columns summed per row; a row where every column is blank stays blank.
fn summed(raw: &RawFile, names: &[String]) -> Result<Vec<Option<f64>>> {
    combine(raw, names, |present| present.iter().sum())
}

fn mean_of(raw: &RawFile, names: &[String]) -> Result<Vec<Option<f64>>> {
    combine(raw, names, |present| {
        present.iter().sum::<f64>() / present.len() as f64
    })
}

fn combine(
    raw: &RawFile,
    names: &[String],
    reduce: impl Fn(&[f64]) -> f64,
) -> Result<Vec<Option<f64>>> {
    let columns = names
        .iter()
        .map(|n| parse::numbers(raw, n))
        .collect::<Result<Vec<_>>>()?;
    Ok((0..raw.frame.height())
        .map(|i| {
            let present: Vec<f64> = columns.iter().filter_map(|c| c[i]).collect();
            (!present.is_empty()).then(|| reduce(&present))
        })
        .collect())
}

fn load_campaigns(
    job: &Job,
    spec: &CampaignsInput,
    tables: &mut Tables,
    quality: &mut DataQuality,
) -> Result<DataFrame> {
    const TABLE: &str = "campaigns";
    let mut frames = Vec::new();
    for raw in read(job, &spec.source(), TABLE, None, tables, quality)? {
        let id = parse::text(&raw, &spec.customer_id)?;
        let keep: Vec<bool> = id.iter().map(Option::is_some).collect();
        let mut columns = vec![
            Column::new("customer_id".into(), id),
            Column::new("campaign_id".into(), parse::text(&raw, &spec.campaign_id)?),
        ];
        if let Some(c) = &spec.sent_at {
            let days = mapped_dates(&raw, c, &spec.sent_at_format, "sent_at_format", day_number)?;
            columns.push(Column::new("sent_day".into(), days));
        }
        for (role, col) in [
            ("opened", &spec.opened),
            ("clicked", &spec.clicked),
            ("responded", &spec.responded),
        ] {
            if let Some(c) = col {
                let flags: Vec<Option<f64>> = parse::booleans(&raw, c)?
                    .into_iter()
                    .map(|b| b.map(|b| b as u8 as f64))
                    .collect();
                columns.push(Column::new(role.into(), flags));
            }
        }
        let frame = DataFrame::new_infer_height(columns).context("building the campaigns table")?;
        frames.push(keep_rows(
            frame,
            &keep,
            quality,
            TABLE,
            "blank customer id",
        )?);
    }
    concat_frames(frames, TABLE)
}

fn load_events(
    job: &Job,
    spec: &EventsInput,
    tables: &mut Tables,
    quality: &mut DataQuality,
) -> Result<DataFrame> {
    const TABLE: &str = "events";
    let mut frames = Vec::new();
    for raw in read(job, &spec.source(), TABLE, None, tables, quality)? {
        let id = parse::text(&raw, &spec.customer_id)?;
        let times = parse::datetimes(
            &raw,
            &spec.timestamp,
            spec.timestamp_format.as_deref(),
            "timestamp_format",
        )?;
        quality
            .date_formats
            .insert(format!("{TABLE}.{}", spec.timestamp), times.format.clone());
        let kinds = optional_text(&raw, &spec.event_type)?;
        let keep: Vec<bool> = (0..raw.frame.height())
            .map(|i| id[i].is_some() && times.values[i].is_some())
            .collect();
        let days: Vec<Option<i32>> = times
            .values
            .iter()
            .map(|d| d.as_ref().map(day_number))
            .collect();
        let kinds: Vec<String> = (0..raw.frame.height())
            .map(|i| {
                kinds
                    .as_ref()
                    .and_then(|k| k[i].clone())
                    .map(|k| k.to_lowercase())
                    .unwrap_or_else(|| "visit".into())
            })
            .collect();
        let frame = DataFrame::new_infer_height(vec![
            Column::new("customer_id".into(), id),
            Column::new("day".into(), days),
            Column::new("event_type".into(), kinds),
        ])
        .context("building the events table")?;
        frames.push(keep_rows(
            frame,
            &keep,
            quality,
            TABLE,
            "blank customer id or timestamp",
        )?);
    }
    concat_frames(frames, TABLE)
}

/// The rows marked `keep`; the others are counted as dropped for `reason`.
fn keep_rows(
    frame: DataFrame,
    keep: &[bool],
    quality: &mut DataQuality,
    table: &str,
    reason: &str,
) -> Result<DataFrame> {
    quality.drop_rows(table, reason, keep.iter().filter(|k| !**k).count());
    frame
        .filter(&BooleanChunked::from_slice("keep".into(), keep))
        .context(format!("{table}: dropping rows ({reason})"))
}

fn concat_frames(frames: Vec<DataFrame>, table: &str) -> Result<DataFrame> {
    let mut iter = frames.into_iter();
    let mut first = iter.next().unwrap_or_default();
    for frame in iter {
        first
            .vstack_mut(&frame)
            .context(format!("{table}: the files do not have the same columns"))?;
    }
    Ok(first)
}

/// Every customer id found in any table, sorted, each once; each table's `customer_id` column
/// is replaced by `customer`, the id's index in that list (u32), in the table's own row order.
/// Rows whose id the table lists as missing are dropped and counted first.
fn index_customers(
    frames: Vec<(&str, &mut DataFrame, MissingIds)>,
    quality: &mut DataQuality,
) -> Result<Vec<String>> {
    let mut ids: Vec<String> = Vec::new();
    let mut frames_left = Vec::new();
    for (table, frame, missing) in frames {
        let distinct = missing::distinct_ids(frame, table)?;
        ids.extend(missing::drop_listed(
            frame, distinct, table, &missing, quality,
        )?);
        frames_left.push(frame);
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > u32::MAX as usize {
        return Err(crate::error::Error::data(format!(
            "{} customers are more than segmenta handles in one run ({})",
            ids.len(),
            u32::MAX
        )));
    }
    let index = DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), &ids),
        Column::new(
            "customer".into(),
            (0..ids.len() as u32).collect::<Vec<u32>>(),
        ),
    ])
    .context("customer index")?;
    for frame in frames_left {
        let mut args = JoinArgs::new(JoinType::Left);
        args.maintain_order = MaintainOrderJoin::Left;
        // Only the id column goes through the join; the other columns stay where they are.
        let ids_only = frame
            .select(["customer_id"])
            .context("customer ids")?
            .lazy();
        let codes = ids_only
            .join(
                index.clone().lazy(),
                [col("customer_id")],
                [col("customer_id")],
                args,
            )
            .select([col("customer")])
            .collect()
            .context("indexing customer ids")?;
        let code = codes.column("customer").context("customer index")?.clone();
        frame.drop_in_place("customer_id").context("customer ids")?;
        frame.with_column(code).context("customer index")?;
    }
    Ok(ids)
}

/// Customers found in another table but not in the customers table, per table (kept, noted).
/// Customer indices are dense (0..customers), so the sets are flags, not hash sets: the
/// transactions can hold tens of millions of lines.
fn count_unknown_customers(
    quality: &mut DataQuality,
    customers: usize,
    table: &CustomerTable,
    others: [(&str, Option<&DataFrame>); 3],
) -> Result<()> {
    let flags = |frame: &DataFrame| -> Result<Vec<bool>> {
        let mut seen = vec![false; customers];
        let column = frame.column("customer").context("customer index")?;
        for index in column.u32().context("customer index")?.iter().flatten() {
            if let Some(flag) = seen.get_mut(index as usize) {
                *flag = true;
            }
        }
        Ok(seen)
    };
    let listed = flags(&table.frame)?;
    for (name, frame) in others {
        let Some(frame) = frame else { continue };
        let unknown = flags(frame)?
            .iter()
            .zip(&listed)
            .filter(|(seen, listed)| **seen && !**listed)
            .count();
        if unknown > 0 {
            quality.kept.insert(
                format!("customers found in {name} only (no customers-table row)"),
                unknown,
            );
        }
    }
    Ok(())
}

/// The job's reference segmentation (customer id → segment), when it names one.
pub fn load_reference(job: &Job) -> Result<Option<std::collections::HashMap<String, String>>> {
    let Some(spec) = &job.inputs.reference else {
        return Ok(None);
    };
    let mut map = std::collections::HashMap::new();
    let mut quality = DataQuality::default();
    let files = read(
        job,
        &spec.source(),
        "reference",
        None,
        &mut Tables::default(),
        &mut quality,
    )?;
    let missing = MissingIds::of(spec.missing_ids.as_deref(), "reference");
    for raw in files {
        let ids = parse::text(&raw, &spec.customer_id)?;
        let segments = parse::text(&raw, &spec.segment)?;
        for (id, segment) in ids.into_iter().zip(segments) {
            if let (Some(id), Some(segment)) = (id, segment) {
                if !missing.contains(&id) {
                    map.entry(id).or_insert(segment);
                }
            }
        }
    }
    Ok(Some(map))
}
