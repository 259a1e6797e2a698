//! The segmenta command line: parses arguments, wires the library's stages, prints.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};

use segmenta::job::Job;
use segmenta::stages::{self, StageData};
use segmenta::{Error, RunOptions};

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "segmenta",
    version,
    about = "Find customer segments in CRM exports: RFM and behaviour features, k-means and DBSCAN, labels against classic RFM groups, and a report."
)]
struct Cli {
    /// Print nothing but errors.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Also print each input file read and every k's scores.
    #[arg(long, short, global = true, conflicts_with = "quiet")]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole pipeline on the bundled data set in data/.
    ///
    /// Example: segmenta demo --output reports
    Demo {
        /// Root folder of the reports; the report goes to <DIR>/<job>/<as-of>/.
        #[arg(long, default_value = "reports")]
        output: PathBuf,
    },
    /// Run a discovery job described by a TOML job file (see README, "Job file").
    ///
    /// Example: segmenta run jobs/monthly.toml --as-of 2025-12-01 --seed 7
    Run {
        /// The job file.
        job: PathBuf,
        /// Root folder of the reports; the report goes to <DIR>/<job>/<as-of>/.
        #[arg(long, default_value = "reports")]
        output: PathBuf,
        /// Ignore transactions on or after this date (YYYY-MM-DD); default: the job's as_of, else
        /// the day after the latest transaction.
        #[arg(long)]
        as_of: Option<NaiveDate>,
        /// Seed for k-means, samples and DBSCAN; default: the job's seed, else 42.
        #[arg(long)]
        seed: Option<u64>,
        /// A model.json to measure the drift of this run's data against (report, "Drift");
        /// default: the model of the job's latest earlier run under the output folder.
        #[arg(long)]
        baseline: Option<PathBuf>,
    },
    /// Check a job without running it: the job file, every input file read and mapped (columns,
    /// date formats, dropped rows), the features aggregated and every rule evaluated. Nothing is
    /// clustered or written.
    ///
    /// Example: segmenta check jobs/monthly.toml --as-of 2025-12-01
    Check {
        /// The job file.
        job: PathBuf,
        /// As for `run`.
        #[arg(long)]
        as_of: Option<NaiveDate>,
    },
    /// Assign the customers of a job's data with a saved model (a report's model.json), without
    /// refitting, and measure how far the data drifted since the fit.
    ///
    /// Example: segmenta apply reports/monthly/2025-11-01/model.json jobs/december.toml
    Apply {
        /// The model.json of an earlier run.
        model: PathBuf,
        /// The job file naming the new data (its [discovery] and [rules] are not used).
        job: PathBuf,
        /// Root folder; the result goes to <DIR>/<job>/<as-of>-applied/.
        #[arg(long, default_value = "reports")]
        output: PathBuf,
        /// As for `run`.
        #[arg(long)]
        as_of: Option<NaiveDate>,
    },
    /// Compare two runs of a job: who moved between segments, who is new and who was lost.
    ///
    /// Counts previous segment × current segment for the discovered clusters (matched by the
    /// customers the runs share, as cluster numbers differ between runs) and for every rule set
    /// both runs have, and writes index.html (matrices and a flow chart), migrations.csv (one row
    /// per customer) and compare.json.
    ///
    /// Example: segmenta compare reports/monthly/2025-11-01 reports/monthly/2025-12-01
    Compare {
        /// The earlier run's report folder (reports/<job>/<as-of>/).
        previous: PathBuf,
        /// The later run's report folder.
        current: PathBuf,
        /// Where to write: a new or empty folder, or an earlier comparison (the folder is
        /// replaced as a whole); default: beside the current report,
        /// <job folder>/<current as-of>-vs-<previous as-of>/.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Stage 1 of 4 for scripts: read the job's inputs and write one row per customer (Parquet).
    ///
    /// The file holds every feature in original units and the purchase facts (fact_recency_days,
    /// fact_frequency, fact_monetary, fact_previous_gap_days); its 'segmenta' metadata carries the
    /// job, the as-of date and the data-quality counts, so the next stages need no other file.
    /// Filter rows with pyarrow or polars between stages if you like (pandas drops the metadata).
    ///
    /// Example (the four stages write the same report as `segmenta run`):
    ///   segmenta features jobs/monthly.toml -o features.parquet --as-of 2025-12-01
    ///   segmenta rules features.parquet -o rules.parquet
    ///   segmenta cluster rules.parquet -o clusters.parquet --seed 7
    ///   segmenta report clusters.parquet --output reports
    #[command(verbatim_doc_comment)]
    Features {
        /// The job file.
        job: PathBuf,
        /// The Parquet file to write.
        #[arg(long, short)]
        output: PathBuf,
        /// As for `run`.
        #[arg(long)]
        as_of: Option<NaiveDate>,
    },
    /// Stage 2 of 4 for scripts: add the R, F, M scores and every rule set's segment (Parquet).
    ///
    /// Reads the output of `segmenta features` and adds r_score, f_score, m_score and one column
    /// per rule set (rfm_group, lifecycle_stage, <name>_segment); the cut points and rule
    /// definitions go into the file's 'segmenta' metadata.
    ///
    /// Example: try other rules on the same features without reading the inputs again:
    ///   segmenta rules features.parquet -o rules.parquet --job jobs/other-rules.toml
    #[command(verbatim_doc_comment)]
    Rules {
        /// A file written by `segmenta features`.
        input: PathBuf,
        /// The Parquet file to write.
        #[arg(long, short)]
        output: PathBuf,
        /// Use this job file's settings for this stage and the later ones instead of the job the
        /// features were made with.
        #[arg(long)]
        job: Option<PathBuf>,
    },
    /// Stage 3 of 4 for scripts: fit the preparation, k-means, DBSCAN (and the mixture) (Parquet).
    ///
    /// Reads the output of `segmenta rules` and adds kmeans_cluster (0 = largest),
    /// dbscan_cluster (blank = outlier) and, when the job fits one, gmm_component with
    /// gmm_probability_<j>; the fitted preparation and models go into the 'segmenta' metadata.
    ///
    /// Example: another k on the same rules file:
    ///   segmenta cluster rules.parquet -o clusters-k5.parquet --job jobs/k5.toml --seed 7
    #[command(verbatim_doc_comment)]
    Cluster {
        /// A file written by `segmenta rules`.
        input: PathBuf,
        /// The Parquet file to write.
        #[arg(long, short)]
        output: PathBuf,
        /// As for `rules`.
        #[arg(long)]
        job: Option<PathBuf>,
        /// As for `run`.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Stage 4 of 4 for scripts: label the clusters and write the report, as `run` does.
    ///
    /// Reads the output of `segmenta cluster` and writes <DIR>/<job>/<as-of>/ (index.html,
    /// charts, summary.json, model.json, assignments, run.log), comparing with the job's previous
    /// run under DIR when there is one.
    ///
    /// Example:
    ///   segmenta report clusters.parquet --output reports
    #[command(verbatim_doc_comment)]
    Report {
        /// A file written by `segmenta cluster`.
        input: PathBuf,
        /// Root folder of the reports; the report goes to <DIR>/<job>/<as-of>/.
        #[arg(long, default_value = "reports")]
        output: PathBuf,
        /// As for `run`.
        #[arg(long)]
        baseline: Option<PathBuf>,
    },
    /// Write a synthetic CRM data set with planted customer groups.
    ///
    /// Written 25,000 customers at a time, so a million customers (about 25 million transaction
    /// lines) need no more memory than the default 20,000.
    ///
    /// Example: segmenta generate --customers 20000 --seed 7 --output data
    Generate {
        #[arg(long, default_value_t = 20_000)]
        customers: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Folder for customers, transactions, campaigns, events and planted_groups.
        #[arg(long)]
        output: PathBuf,
        /// parquet or csv.
        #[arg(long, default_value = "parquet")]
        format: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    match execute(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// Stage figures go through `log` at info level: shown by default, hidden by --quiet, with
/// per-file and per-k details at debug level under --verbose. RUST_LOG overrides.
fn init_logging(cli: &Cli) {
    let level = if cli.quiet {
        log::LevelFilter::Error
    } else if cli.verbose {
        log::LevelFilter::Debug
    } else {
        log::LevelFilter::Info
    };
    // Dependencies (the SQL parser, polars) log at debug level too; --verbose is about ours.
    env_logger::Builder::new()
        .filter_level(level.min(log::LevelFilter::Info))
        .filter_module("segmenta", level)
        .parse_default_env()
        .format(|out, record| {
            use std::io::Write;
            writeln!(out, "{}", record.args())
        })
        .init();
}

/// 1: the input or the job is wrong; 3: the report could not be written; 4: an internal data
/// error; 5: a run's consistency check failed (a customer or a cent would have been lost).
fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Job { .. } | Error::Input { .. } | Error::Cell { .. } | Error::Data(_) => 1,
        Error::Output { .. } => 3,
        Error::Polars { .. } => 4,
        Error::Invariant(_) => 5,
    }
}

fn execute(cli: &Cli) -> segmenta::Result<()> {
    match &cli.command {
        Command::Demo { output } => run_job(
            &demo_job()?,
            RunOptions {
                output_root: output.clone(),
                as_of: None,
                seed: None,
                quiet: cli.quiet,
                baseline_model: None,
            },
        ),
        Command::Run {
            job,
            output,
            as_of,
            seed,
            baseline,
        } => run_job(
            job,
            RunOptions {
                output_root: output.clone(),
                as_of: *as_of,
                seed: *seed,
                quiet: cli.quiet,
                baseline_model: baseline.clone(),
            },
        ),
        Command::Apply {
            model,
            job,
            output,
            as_of,
        } => apply_model(model, job, output, *as_of, cli.quiet),
        Command::Check { job, as_of } => check_job(job, *as_of),
        Command::Compare {
            previous,
            current,
            output,
        } => compare_runs(previous, current, output.as_deref(), cli.quiet),
        Command::Features { job, output, as_of } => {
            let options = RunOptions {
                as_of: *as_of,
                ..stage_options(cli)
            };
            let data = stages::features(job, &options)?;
            write_stage(&data, output, cli.quiet)
        }
        Command::Rules { input, output, job } => {
            let data = stages::read(input)?.with_job(job.as_deref())?;
            write_stage(&stages::rules(data, input, cli.quiet)?, output, cli.quiet)
        }
        Command::Cluster {
            input,
            output,
            job,
            seed,
        } => {
            let data = stages::read(input)?.with_job(job.as_deref())?;
            let data = stages::cluster(data, input, *seed, cli.quiet)?;
            write_stage(&data, output, cli.quiet)
        }
        Command::Report {
            input,
            output,
            baseline,
        } => {
            let options = RunOptions {
                output_root: output.clone(),
                baseline_model: baseline.clone(),
                ..stage_options(cli)
            };
            let (result, folder) = stages::report(stages::read(input)?, input, &options)?;
            print_run(&result, &folder, cli.quiet);
            Ok(())
        }
        Command::Generate {
            customers,
            seed,
            output,
            format,
        } => {
            let options = segmenta::generate::GenerateOptions {
                customers: *customers,
                seed: *seed,
            };
            let [customers, lines, mailings, events] =
                segmenta::generate::generate_to(&options, output, format)?;
            if !cli.quiet {
                println!(
                    "wrote {customers} customers, {lines} transaction lines, {mailings} campaign rows and {events} events to {}",
                    output.display()
                );
            }
            Ok(())
        }
    }
}

/// The demo job shipped in data/, found beside the working directory or the source tree.
fn demo_job() -> segmenta::Result<PathBuf> {
    let candidates = [
        PathBuf::from("data/demo.toml"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo.toml"),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            Error::Data(
                "the bundled demo job data/demo.toml was not found; run from the segmenta folder"
                    .into(),
            )
        })
}

fn run_job(path: &Path, options: RunOptions) -> segmenta::Result<()> {
    let quiet = options.quiet;
    let job = Job::from_file(path)?;
    if !quiet {
        eprintln!("segmenta: job '{}' from {}", job.name, path.display());
    }
    let (result, folder) = segmenta::run(&job, &options)?;
    print_run(&result, &folder, quiet);
    Ok(())
}

fn print_run(result: &segmenta::RunResult, folder: &Path, quiet: bool) {
    if quiet {
        return;
    }
    println!(
        "{} customers → {} k-means segments (silhouette {}), {} DBSCAN outliers",
        result.features.len(),
        result.kmeans.k,
        result
            .kmeans
            .chosen
            .silhouette
            .map_or("–".into(), |s| format!("{s:.3}")),
        result.dbscan.noise
    );
    for c in &result.kmeans_labels.clusters {
        let revenue = if result.features.gives("monetary") {
            format!(
                "  {:>6} of revenue",
                segmenta::report::percent(c.revenue_share)
            )
        } else {
            String::new()
        };
        let label = match (&c.label, c.label_share) {
            (Some(label), Some(share)) => format!(" · {label} {:.0}%", 100.0 * share),
            _ => String::new(),
        };
        println!(
            "  {:<11} {:>7} customers{revenue}  {}{label}",
            c.name, c.size, c.title
        );
    }
    if let Some(c) = &result.migrations {
        print_moves(c);
    }
    if let Some(d) = &result.drift {
        println!(
            "drift since the model of {}: {}",
            d.model_as_of,
            if d.drift.warnings.is_empty() {
                "none worth a warning".to_string()
            } else {
                d.drift.warnings.join("; ")
            }
        );
    }
    println!("report: {}", folder.join("index.html").display());
}

/// Options of the stage verbs that run no whole job.
fn stage_options(cli: &Cli) -> RunOptions {
    RunOptions {
        output_root: PathBuf::from("reports"),
        as_of: None,
        seed: None,
        quiet: cli.quiet,
        baseline_model: None,
    }
}

fn write_stage(data: &StageData, output: &Path, quiet: bool) -> segmenta::Result<()> {
    stages::write(data, output)?;
    if !quiet {
        println!(
            "{} customers as of {} → {} (after {})",
            data.customers(),
            data.described.as_of,
            output.display(),
            data.stage().verb()
        );
    }
    Ok(())
}

fn check_job(job_path: &Path, as_of: Option<NaiveDate>) -> segmenta::Result<()> {
    let job = Job::from_file(job_path)?;
    let options = RunOptions {
        output_root: PathBuf::from("reports"),
        as_of,
        seed: None,
        quiet: true,
        baseline_model: None,
    };
    let report = segmenta::check::check(&job, &options)?;
    let q = &report.quality;
    println!("{}: OK (job \"{}\")", job_path.display(), job.name);
    for file in &q.files {
        println!("  read     {file}");
    }
    for (table, rows) in &q.rows_read {
        println!("  rows     {table}: {rows}");
    }
    for (reason, rows) in &q.dropped {
        let amount = q.dropped_revenue.get(reason).map_or_else(String::new, |a| {
            format!(" (net amount {})", segmenta::report::money(*a))
        });
        println!("  dropped  {reason}: {rows}{amount}");
    }
    for (column, format) in &q.date_formats {
        println!("  dates    {column}: {format}");
    }
    let revenue = match report.revenue {
        Some(revenue) => format!("net revenue {}", segmenta::report::money(revenue)),
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
    for warning in &report.warnings {
        println!("  warning  {warning}");
    }
    Ok(())
}

fn apply_model(
    model_path: &Path,
    job_path: &Path,
    output: &Path,
    as_of: Option<NaiveDate>,
    quiet: bool,
) -> segmenta::Result<()> {
    let model = segmenta::model::SavedModel::load(model_path)?;
    let job = Job::from_file(job_path)?;
    let options = RunOptions {
        output_root: output.to_path_buf(),
        as_of,
        seed: None,
        quiet,
        baseline_model: None,
    };
    let applied = segmenta::apply::apply(&model, &job, &options)?;
    let folder = segmenta::report::write_applied(&applied, output)?;
    for warning in applied.drift.warnings.iter().chain(&applied.notes) {
        eprintln!("warning: {warning}");
    }
    if !quiet {
        let far = applied.far.iter().filter(|f| **f).count();
        println!(
            "{} customers assigned to the model's {} segments; {far} far from every centroid",
            applied.customer_ids.len(),
            model.kmeans.k
        );
        println!("report: {}", folder.join("index.html").display());
    }
    Ok(())
}

fn compare_runs(
    previous: &Path,
    current: &Path,
    output: Option<&Path>,
    quiet: bool,
) -> segmenta::Result<()> {
    let comparison = segmenta::compare::compare_folders(previous, current)?;
    let folder = output
        .map(Path::to_path_buf)
        .unwrap_or_else(|| segmenta::compare::default_output(&comparison));
    segmenta::report::write_comparison(&comparison, &folder)?;
    if !quiet {
        print_moves(&comparison);
        println!("report: {}", folder.join("index.html").display());
    }
    Ok(())
}

fn print_moves(c: &segmenta::compare::Comparison) {
    println!(
        "since {}: {} customers in both runs, {} stayed in their segment, {} moved; {} new, {} lost",
        c.previous.as_of,
        c.customers_in_both,
        c.clusters.stayed,
        c.clusters.moved,
        c.new_customers,
        c.lost_customers
    );
}
