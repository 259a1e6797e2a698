//! `[inputs.features]`: a per-customer feature table an engine computed (`segmenta sql
//! features`), read in place of the inputs. Its columns are checked against the job's catalogue
//! by name and type, and its customer ids must be unique.

use chrono::NaiveDate;

use super::catalogue::{self, CatalogueColumn, Use};
use super::{Feature, FeatureTable, PurchaseFacts};
use crate::error::{Error, Result};
use crate::job::{FeaturesInput, Job};
use crate::load::ledger::Expected;
use crate::load::read::{read_table, CsvOptions, RawFile};
use crate::load::{parse, DataQuality, MICROS};

const TABLE: &str = "features";

/// The feature table, what was read, and the ledger the run reconciles to.
pub struct EngineTable {
    pub table: FeatureTable,
    pub quality: DataQuality,
    pub expected: Expected,
}

/// Reads `input` as the job's feature table as of `as_of` (the date its query was written for).
pub fn read(job: &Job, input: &FeaturesInput, as_of: NaiveDate) -> Result<EngineTable> {
    let columns = catalogue::columns(job)?;
    let mut wanted: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    wanted.push(input.customer_id.clone());
    let options = CsvOptions {
        separator: input.separator.as_deref(),
        encoding: input.encoding.as_deref(),
        columns: Some(&wanted),
        part_bytes: None,
        numbers: None,
    };
    let files = read_table(&job.resolve(&input.path), options)?;
    let mut quality = DataQuality::default();
    let mut rows = Rows::default();
    for file in &files {
        *quality.rows_read.entry(TABLE.into()).or_default() += file.frame.height();
        quality.files.push(file.path.display().to_string());
        rows.append(file, input, &columns)?;
    }
    let mut table = rows.into_table(&columns, as_of)?;
    table.notes.push(format!(
        "the feature table was read from {} ({} file{}), as an engine computed it; the inputs themselves were not read",
        input.path,
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    ));
    let expected = Expected {
        customers: table.len(),
        revenue_micros: table
            .facts
            .monetary
            .iter()
            .map(|m| (m * MICROS).round() as i128)
            .sum(),
        revenue_source: "the features table's monetary column".into(),
    };
    Ok(EngineTable {
        table,
        quality,
        expected,
    })
}

/// Every file's rows, in file order: the id, where it came from, and each catalogue column.
#[derive(Default)]
struct Rows {
    ids: Vec<String>,
    origins: Vec<(usize, usize)>,
    files: Vec<String>,
    values: Vec<Vec<Option<f64>>>,
}

impl Rows {
    fn append(
        &mut self,
        file: &RawFile,
        input: &FeaturesInput,
        columns: &[CatalogueColumn],
    ) -> Result<()> {
        let present: Vec<&str> = file
            .frame
            .get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect();
        for name in std::iter::once(&input.customer_id).chain(columns.iter().map(|c| &c.name)) {
            if !present.contains(&name.as_str()) {
                return Err(Error::file(
                    &file.path,
                    format!(
                        "no column '{name}', which the job's inputs give (`segmenta sql features` writes it); the file has: {}",
                        present.join(", ")
                    ),
                ));
            }
        }
        let file_number = self.files.len();
        self.files.push(file.path.display().to_string());
        for (row, id) in parse::text(file, &input.customer_id)?
            .into_iter()
            .enumerate()
        {
            let Some(id) = id else {
                return Err(Error::cell(
                    &file.path,
                    &input.customer_id,
                    row + 1,
                    "a blank customer id: every row of a feature table is one customer",
                ));
            };
            self.ids.push(id);
            self.origins.push((file_number, row + 1));
        }
        if self.values.is_empty() {
            self.values = vec![Vec::new(); columns.len()];
        }
        for (column, values) in columns.iter().zip(&mut self.values) {
            values.extend(parse::numbers(file, &column.name).map_err(|e| {
                Error::file(
                    &file.path,
                    format!("column '{}' must hold numbers: {e}", column.name),
                )
            })?);
        }
        Ok(())
    }

    /// The rows sorted by customer id, as every feature table is; an id twice is an error.
    fn into_table(self, columns: &[CatalogueColumn], as_of: NaiveDate) -> Result<FeatureTable> {
        let mut order: Vec<usize> = (0..self.ids.len()).collect();
        order.sort_by(|&a, &b| self.ids[a].cmp(&self.ids[b]));
        if let Some(pair) = order.windows(2).find(|w| self.ids[w[0]] == self.ids[w[1]]) {
            let place = |i: usize| {
                let (file, row) = self.origins[i];
                format!("{} row {row}", self.files[file])
            };
            return Err(Error::data(format!(
                "the features table holds customer '{}' twice ({} and {}): ids must be unique",
                crate::load::clip(&self.ids[pair[0]]),
                place(pair[0]),
                place(pair[1])
            )));
        }
        let customer_ids: Vec<String> = order.iter().map(|&i| self.ids[i].clone()).collect();
        let mut features = Vec::new();
        let mut rule_only = Vec::new();
        let mut facts = FactColumns::default();
        for (column, values) in columns.iter().zip(self.values) {
            let values: Vec<Option<f64>> = order.iter().map(|&i| values[i]).collect();
            facts.note(&column.name, &values);
            match column.usage {
                Use::Feature => features.push(feature(column, values)),
                Use::RuleOnly => rule_only.push(feature(column, values)),
                Use::Fact => {}
            }
        }
        Ok(FeatureTable {
            facts: facts.into_facts(customer_ids.len()),
            customer_ids,
            features,
            rule_only,
            as_of,
            notes: Vec::new(),
            transactions_used: 0,
        })
    }
}

fn feature(column: &CatalogueColumn, values: Vec<Option<f64>>) -> Feature {
    Feature {
        name: column.name.clone(),
        group: column.group,
        kind: column.kind,
        impute: column.impute,
        block: column.block.clone(),
        trials: column.trials.clone(),
        values,
    }
}

/// The columns the purchase facts come from, as they go by.
#[derive(Default)]
struct FactColumns {
    recency_days: Option<Vec<Option<f64>>>,
    frequency: Option<Vec<Option<f64>>>,
    monetary: Option<Vec<Option<f64>>>,
    previous_gap_days: Option<Vec<Option<f64>>>,
}

impl FactColumns {
    fn note(&mut self, name: &str, values: &[Option<f64>]) {
        let slot = match name {
            "recency_days" => &mut self.recency_days,
            "frequency" => &mut self.frequency,
            "monetary" => &mut self.monetary,
            "previous_gap_days" => &mut self.previous_gap_days,
            _ => return,
        };
        *slot = Some(values.to_vec());
    }

    /// As the local aggregation makes them.
    fn into_facts(self, customers: usize) -> PurchaseFacts {
        super::aggregate::purchase_facts(
            self.recency_days.as_deref(),
            self.frequency.as_deref(),
            self.monetary.as_deref(),
            self.previous_gap_days,
            customers,
        )
    }
}
