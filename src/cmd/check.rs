//! `segmenta check`: a job checked end to end without clustering or writing anything.

use std::path::PathBuf;

use chrono::NaiveDate;

use segmenta::format::money;
use segmenta::job::Job;
use segmenta::pipeline::CheckReport;
use segmenta::RunOptions;

/// Check a job without running it: the job file, every input file read and mapped (columns,
/// date formats, dropped rows), the features aggregated and every rule evaluated. Nothing is
/// clustered or written.
///
/// Example: segmenta check jobs/monthly.toml --as-of 2025-12-01
#[derive(clap::Args)]
pub struct Args {
    /// The job file.
    job: PathBuf,
    /// As for `run`.
    #[arg(long)]
    as_of: Option<NaiveDate>,
}

pub fn execute(args: &Args) -> segmenta::Result<()> {
    let job = Job::from_file(&args.job)?;
    let options = RunOptions {
        as_of: args.as_of,
        quiet: true,
        ..RunOptions::default()
    };
    let report = segmenta::pipeline::check(&job, &options)?;
    println!("{}: OK (job \"{}\")", args.job.display(), job.name);
    print_quality(&report);
    print_findings(&report);
    Ok(())
}

fn print_quality(report: &CheckReport) {
    let q = &report.quality;
    for file in &q.files {
        println!("  read     {file}");
    }
    for (table, rows) in &q.rows_read {
        println!("  rows     {table}: {rows}");
    }
    for (reason, rows) in &q.dropped {
        let amount = q
            .dropped_revenue
            .get(reason)
            .map_or_else(String::new, |a| format!(" (net amount {})", money(*a)));
        println!("  dropped  {reason}: {rows}{amount}");
    }
    for (column, format) in &q.date_formats {
        println!("  dates    {column}: {format}");
    }
}

fn print_findings(report: &CheckReport) {
    let revenue = match report.revenue {
        Some(revenue) => format!("net revenue {}", money(revenue)),
        None => "no spend in the inputs".to_string(),
    };
    println!(
        "  as of    {}: {} customers, {revenue}, {} features, {} to cluster on ({})",
        report.as_of,
        report.customers,
        report.features,
        report.clustered.len(),
        report.clustered.join(", ")
    );
    for (title, column, used, defined) in &report.rule_sets {
        println!("  rules    {title} → {column}: {used} of {defined} segments have customers");
    }
    if let Some(lifetime) = &report.lifetime {
        println!("  lifetime {lifetime}");
    }
    for warning in &report.warnings {
        println!("  warning  {warning}");
    }
}
