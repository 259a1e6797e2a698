//! `segmenta generate`: a synthetic CRM data set with planted customer groups.

use std::path::PathBuf;

use segmenta::generate::GenerateOptions;

use super::Global;

/// Write a synthetic CRM data set with planted customer groups.
///
/// Written 25,000 customers at a time, so a million customers (about 25 million transaction
/// lines) need no more memory than the default 20,000.
///
/// Example: segmenta generate --customers 20000 --seed 7 --output data
#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 20_000)]
    customers: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Folder for customers, transactions, campaigns, events and planted_groups.
    #[arg(long)]
    output: PathBuf,
    /// parquet or csv.
    #[arg(long, default_value = "parquet", value_parser = ["parquet", "csv"])]
    format: String,
}

pub fn execute(args: &Args, global: &Global) -> segmenta::Result<()> {
    let options = GenerateOptions {
        customers: args.customers,
        seed: args.seed,
    };
    let [customers, lines, mailings, events] =
        segmenta::generate::generate_to(&options, &args.output, &args.format)?;
    if !global.quiet {
        println!(
            "wrote {customers} customers, {lines} transaction lines, {mailings} campaign rows and {events} events to {}",
            args.output.display()
        );
    }
    Ok(())
}
