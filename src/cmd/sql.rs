//! `segmenta sql features | score`: the queries that run segmenta's per-customer work inside a
//! SQL engine (DuckDB, PostgreSQL, Spark) where the data lives.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use segmenta::error::{Error, Result};
use segmenta::job::Job;
use segmenta::model::SavedModel;
use segmenta::sql::{self, Dialect};

use super::Global;

/// Queries for a SQL engine: the feature table, computed where the order lines live, and the
/// customers of that table assigned with a saved model.
///
/// Example (Spark; see docs/past-one-machine.md for the whole recipe):
///   segmenta sql features jobs/monthly.toml --dialect spark -o features.sql
///   spark-sql -f features.sql   # or spark.sql(...).write.parquet("features/")
///   segmenta run jobs/monthly-from-features.toml
///   segmenta sql score reports/monthly/2025-11-01/model.json --dialect spark -o score.sql
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    query: Query,
}

#[derive(clap::Subcommand)]
enum Query {
    /// Print the query computing the job's per-customer feature table (the columns of
    /// `segmenta features`) over the engine's tables: each input's `table` key, by default its
    /// role name (transactions, customers, campaigns, events).
    Features(FeaturesArgs),
    /// Print the query listing, per column named after values (category, channel, gender, city,
    /// a categorical column, tag), the values a local run would give their own column: rows of
    /// (prefix, place, value) to copy into the job's [features.values].
    Values(FeaturesArgs),
    /// Print the query assigning every customer of the engine's feature table (the output of
    /// `sql features`) with a saved model, as `segmenta apply` does: segment, kmeans_cluster,
    /// model_label, distance_to_centroid, far_from_centroids, r_score, f_score, m_score and one
    /// column per rule set. DBSCAN and the Gaussian mixture are not part of it.
    Score(ScoreArgs),
}

#[derive(clap::Args)]
struct ScoreArgs {
    /// The model.json of a run.
    model: PathBuf,
    /// The engine: duckdb, postgres or spark.
    #[arg(long)]
    dialect: Dialect,
    /// The engine's feature table (or schema.table).
    #[arg(long, default_value = "features")]
    table: String,
    /// The job whose `sql features` query made the table: a share or indicator of the model
    /// that its columns lack is taken as 0, as apply does. Without it the table is taken to
    /// have the columns of the model's fit data.
    #[arg(long)]
    job: Option<PathBuf>,
    /// Write the query to this file instead of printing it.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

#[derive(clap::Args)]
struct FeaturesArgs {
    /// The job file.
    job: PathBuf,
    /// The engine: duckdb, postgres or spark.
    #[arg(long)]
    dialect: Dialect,
    /// The as-of date (purchases before it count); default: the job's `as_of`.
    #[arg(long)]
    as_of: Option<NaiveDate>,
    /// Write the query to this file instead of printing it.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub fn execute(args: &Args, global: &Global) -> Result<()> {
    match &args.query {
        Query::Features(args) => features(args, global),
        Query::Values(args) => values(args, global),
        Query::Score(args) => score(args, global),
    }
}

fn score(args: &ScoreArgs, global: &Global) -> Result<()> {
    let model = SavedModel::load(&args.model)?;
    let columns = match &args.job {
        Some(path) => {
            let job = Job::from_file(path)?;
            let columns = segmenta::features::catalogue::columns(&job)?;
            Some(columns.into_iter().map(|c| c.name).collect())
        }
        None => None,
    };
    let source = sql::score::Source {
        table: &args.table,
        columns,
    };
    let query = sql::score::query(&model, &args.model, &source, args.dialect)?;
    emit(&query, args.output.as_deref(), global)
}

fn features(args: &FeaturesArgs, global: &Global) -> Result<()> {
    let (job, as_of) = job_as_of(args)?;
    let query = sql::features::query(&job, as_of, args.dialect)?;
    emit(&query, args.output.as_deref(), global)
}

fn values(args: &FeaturesArgs, global: &Global) -> Result<()> {
    let (job, as_of) = job_as_of(args)?;
    let query = sql::features::values_query(&job, as_of, args.dialect)?;
    emit(&query, args.output.as_deref(), global)
}

/// The job and the as-of date its queries are written for: `--as-of`, else the job's.
fn job_as_of(args: &FeaturesArgs) -> Result<(Job, NaiveDate)> {
    let job = Job::from_file(&args.job)?;
    let as_of = args.as_of.or(job.as_of()).ok_or_else(|| {
        Error::usage(format!(
            "{}: the engine's query needs an as-of date — set `as_of` in the job or pass --as-of",
            args.job.display()
        ))
    })?;
    Ok((job, as_of))
}

/// Prints the query, or writes it whole to a file (never half a query).
fn emit(query: &str, output: Option<&Path>, global: &Global) -> Result<()> {
    let Some(path) = output else {
        print!("{query}");
        return Ok(());
    };
    let partial = path.with_extension("sql.partial");
    std::fs::write(&partial, query)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| Error::output(path, e))?;
    if !global.quiet {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
