//! Writing a generated data set as Parquet (the bundled default) or CSV files.

use std::path::Path;

use polars::prelude::*;

use super::SyntheticData;
use crate::error::{output_error, Error, PolarsContext, Result};

pub fn write_tables(data: &SyntheticData, dir: &Path, format: &str) -> Result<()> {
    if format != "parquet" && format != "csv" {
        return Err(Error::Data(format!(
            "--format {format}: expected parquet or csv"
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| output_error(dir, e))?;
    let tables = [
        ("customers", customers(data)?),
        ("transactions", transactions(data)?),
        ("campaigns", campaigns(data)?),
        ("events", events(data)?),
    ];
    for (name, mut frame) in tables {
        let path = dir.join(format!("{name}.{format}"));
        let file = std::fs::File::create(&path).map_err(|e| output_error(&path, e))?;
        if format == "parquet" {
            ParquetWriter::new(file)
                .with_compression(ParquetCompression::Zstd(None))
                .finish(&mut frame)
                .context(format!("writing {}", path.display()))?;
        } else {
            let mut file = file;
            CsvWriter::new(&mut file)
                .finish(&mut frame)
                .context(format!("writing {}", path.display()))?;
        }
    }
    let mut planted = df!(
        "customer_id" => &data.planted.customer_id,
        "planted_group" => &data.planted.group,
    )
    .context("planted groups")?;
    let path = dir.join("planted_groups.csv");
    let mut file = std::fs::File::create(&path).map_err(|e| output_error(&path, e))?;
    CsvWriter::new(&mut file)
        .finish(&mut planted)
        .context("writing planted_groups.csv")?;
    Ok(())
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
