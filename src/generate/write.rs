//! Writing a generated data set as Parquet (the bundled default) or CSV files.

use std::path::Path;

use polars::prelude::*;

use super::{generate_range, GenerateOptions, SyntheticData};
use crate::error::{Error, PolarsContext, Result};

/// Writes an in-memory data set: customers, transactions, campaigns, events (Parquet or CSV) and
/// planted_groups.csv.
pub fn write_tables(data: &SyntheticData, dir: &Path, format: &str) -> Result<()> {
    let mut writers = TableWriters::create(dir, format)?;
    writers.write(data)?;
    writers.finish()
}

/// Rows written per table, in [`TABLES`] order.
pub type RowCounts = [usize; 4];

/// Generates and writes `opts.customers` customers [`CHUNK`] at a time: memory holds one chunk
/// whatever the size, and the files equal those of [`write_tables`] on the whole data set.
pub fn generate_to(opts: &GenerateOptions, dir: &Path, format: &str) -> Result<RowCounts> {
    let mut writers = TableWriters::create(dir, format)?;
    let mut counts = [0; 4];
    let mut start = 0;
    while start < opts.customers {
        let end = (start + CHUNK).min(opts.customers);
        let data = generate_range(opts, start..end);
        for (count, rows) in counts.iter_mut().zip(data.row_counts()) {
            *count += rows;
        }
        writers.write(&data)?;
        log::debug!("generated customers {start}..{end}");
        start = end;
    }
    writers.finish()?;
    Ok(counts)
}

/// Customers generated and written at once by [`generate_to`] (about 0.5 GB of rows).
const CHUNK: usize = 25_000;

const TABLES: [&str; 4] = ["customers", "transactions", "campaigns", "events"];

impl SyntheticData {
    /// Rows of the customers, transactions, campaigns and events tables.
    pub fn row_counts(&self) -> RowCounts {
        [
            self.customers.customer_id.len(),
            self.transactions.customer_id.len(),
            self.campaigns.customer_id.len(),
            self.events.customer_id.len(),
        ]
    }
}

enum TableWriter {
    // Boxed: the Parquet writer is several times the size of the CSV one.
    Parquet(Box<polars::io::parquet::write::BatchedWriter<std::fs::File>>),
    Csv(polars::io::csv::write::BatchedWriter<std::fs::File>),
}

/// One open file per table, each written batch by batch; created on the first batch, when the
/// schema is known.
struct TableWriters {
    dir: std::path::PathBuf,
    format: String,
    tables: Vec<(std::path::PathBuf, TableWriter)>,
    planted: Option<(std::path::PathBuf, TableWriter)>,
}

impl TableWriters {
    fn create(dir: &Path, format: &str) -> Result<TableWriters> {
        if format != "parquet" && format != "csv" {
            return Err(Error::usage(format!(
                "--format {format}: expected parquet or csv"
            )));
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
        Ok(TableWriters {
            dir: dir.to_path_buf(),
            format: format.to_string(),
            tables: Vec::new(),
            planted: None,
        })
    }

    fn write(&mut self, data: &SyntheticData) -> Result<()> {
        let frames = [
            customers(data)?,
            transactions(data)?,
            campaigns(data)?,
            events(data)?,
        ];
        if self.tables.is_empty() {
            for (name, frame) in TABLES.iter().zip(&frames) {
                let path = self.dir.join(format!("{name}.{}", self.format));
                let writer = open(&path, &self.format, frame)?;
                self.tables.push((path, writer));
            }
        }
        for ((path, writer), frame) in self.tables.iter_mut().zip(&frames) {
            writer.write(frame, path)?;
        }
        let planted = df!(
            "customer_id" => &data.planted.customer_id,
            "planted_group" => &data.planted.group,
        )
        .context("planted groups")?;
        if self.planted.is_none() {
            let path = self.dir.join("planted_groups.csv");
            self.planted = Some((path.clone(), open(&path, "csv", &planted)?));
        }
        if let Some((path, writer)) = &mut self.planted {
            writer.write(&planted, path)?;
        }
        Ok(())
    }

    fn finish(self) -> Result<()> {
        for (path, writer) in self.tables.into_iter().chain(self.planted) {
            writer.finish(&path)?;
        }
        Ok(())
    }
}

fn open(path: &Path, format: &str, like: &DataFrame) -> Result<TableWriter> {
    let file = std::fs::File::create(path).map_err(|e| Error::output(path, e))?;
    let schema = like.schema();
    let writer = if format == "parquet" {
        TableWriter::Parquet(Box::new(
            ParquetWriter::new(file)
                .with_compression(ParquetCompression::Zstd(None))
                .batched(schema)
                .context(format!("writing {}", path.display()))?,
        ))
    } else {
        TableWriter::Csv(
            CsvWriter::new(file)
                .batched(schema)
                .context(format!("writing {}", path.display()))?,
        )
    };
    Ok(writer)
}

impl TableWriter {
    fn write(&mut self, frame: &DataFrame, path: &Path) -> Result<()> {
        match self {
            TableWriter::Parquet(w) => w.write_batch(frame),
            TableWriter::Csv(w) => w.write_batch(frame),
        }
        .context(format!("writing {}", path.display()))
    }

    fn finish(self, path: &Path) -> Result<()> {
        match self {
            TableWriter::Parquet(w) => w.finish().map(|_| ()),
            TableWriter::Csv(mut w) => w.finish(),
        }
        .context(format!("writing {}", path.display()))
    }
}

fn datetimes(name: &str, values: &[chrono::NaiveDateTime]) -> Column {
    DatetimeChunked::from_naive_datetime(
        name.into(),
        values.iter().copied(),
        TimeUnit::Milliseconds,
    )
    .into_column()
}

fn dates(name: &str, values: &[chrono::NaiveDate]) -> Column {
    DateChunked::from_naive_date(name.into(), values.iter().copied()).into_column()
}

fn customers(data: &SyntheticData) -> Result<DataFrame> {
    let c = &data.customers;
    DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), &c.customer_id),
        Column::new("birth_year".into(), &c.birth_year),
        Column::new("gender".into(), &c.gender),
        Column::new("country".into(), &c.country),
        Column::new("city".into(), &c.city),
        Column::new("income".into(), &c.income),
        dates("signup_date", &c.signup_date),
        Column::new("interests".into(), &c.tags),
    ])
    .context("customers table")
}

fn transactions(data: &SyntheticData) -> Result<DataFrame> {
    let t = &data.transactions;
    DataFrame::new_infer_height(vec![
        Column::new("order_id".into(), &t.order_id),
        Column::new("customer_id".into(), &t.customer_id),
        datetimes("timestamp", &t.timestamp),
        Column::new("category".into(), &t.category),
        Column::new("channel".into(), &t.channel),
        Column::new("quantity".into(), &t.quantity),
        Column::new("unit_price".into(), &t.unit_price),
        Column::new("discount".into(), &t.discount),
        Column::new("amount".into(), &t.amount),
    ])
    .context("transactions table")
}

fn campaigns(data: &SyntheticData) -> Result<DataFrame> {
    let c = &data.campaigns;
    DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), &c.customer_id),
        Column::new("campaign_id".into(), &c.campaign_id),
        dates("sent_at", &c.sent_at),
        Column::new("opened".into(), &c.opened),
        Column::new("clicked".into(), &c.clicked),
        Column::new("responded".into(), &c.responded),
    ])
    .context("campaigns table")
}

fn events(data: &SyntheticData) -> Result<DataFrame> {
    let e = &data.events;
    DataFrame::new_infer_height(vec![
        Column::new("customer_id".into(), &e.customer_id),
        datetimes("timestamp", &e.timestamp),
        Column::new("event_type".into(), &e.event_type),
    ])
    .context("events table")
}
