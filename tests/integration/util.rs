//! What the test modules share: the repository's fixtures, scratch folders, the segmenta binary,
//! run options, generated populations and the jobs several modules write.

use std::ffi::OsStr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;

use segmenta::generate::{generate_range, write_tables, GenerateOptions, SyntheticData};
use segmenta::job::Job;
use segmenta::RunOptions;

/// A path in the repository (`data/demo.toml`, `tests/hostile`), whatever the working folder.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A fixture under tests/data/.
pub fn test_data(path: &str) -> PathBuf {
    repo("tests/data").join(path)
}

/// The bundled demo job, data/demo.toml.
pub fn demo_job_path() -> PathBuf {
    repo("data/demo.toml")
}

pub fn demo_job() -> Job {
    Job::from_file(&demo_job_path()).expect("data/demo.toml")
}

/// The real CDNOW log in the shared data folder beside the repository; None, and a line saying
/// the test is skipped, when that folder is absent.
pub fn cdnow() -> Option<PathBuf> {
    let path = repo("../shared/data/cdnow_transactions.csv");
    if path.is_file() {
        return Some(path);
    }
    eprintln!("SKIPPED: ../shared/data/cdnow_transactions.csv is absent; the CDNOW tests need the shared data folder beside the repository");
    None
}

/// A job over the CDNOW log at `csv` (columns customer_id, date, amount, as the file has them).
pub fn cdnow_job(csv: &Path) -> String {
    format!(
        "name = \"cdnow\"\n[inputs.transactions]\npath = {:?}\ncustomer_id = \"customer_id\"\ntimestamp = \"date\"\namount = \"amount\"\n",
        csv.display().to_string()
    )
}

/// The job of the small hand-written logs: `tx.csv` with the columns client, when and value, as
/// of 2024-07-01. `more` follows the transactions input as written: more keys of that input,
/// then other tables and sections.
pub fn client_log_job(name: &str, more: &str) -> String {
    format!(
        "name = \"{name}\"\nas_of = \"2024-07-01\"\n[inputs.transactions]\npath = \"tx.csv\"\ncustomer_id = \"client\"\ntimestamp = \"when\"\namount = \"value\"\n{more}"
    )
}

/// The cells of one column of a CSV file (plain files without quoted separators).
pub fn csv_column(path: &Path, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header
        .iter()
        .position(|h| *h == name)
        .unwrap_or_else(|| panic!("{}: no column {name} in {header:?}", path.display()));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').nth(at).unwrap_or("").trim().to_string())
        .collect()
}

/// A scratch folder holding `files` (name, text); removed when dropped.
pub fn workdir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("scratch folder");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("scratch file");
    }
    dir
}

/// Writes `text` to `dir/job.toml` and parses it.
pub fn write_job(dir: &Path, text: &str) -> Job {
    let path = dir.join("job.toml");
    std::fs::write(&path, text).expect("job file");
    Job::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Options of a library run writing under `output_root`, printing nothing; the rest as the
/// command line's defaults.
pub fn options(output_root: &Path) -> RunOptions {
    RunOptions {
        output_root: output_root.to_path_buf(),
        quiet: true,
        ..Default::default()
    }
}

/// The segmenta binary of this build, for a test that drives the process itself.
pub fn segmenta_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_segmenta"))
}

/// How a segmenta process ended: its exit code (-1 when killed by a signal) and what it printed.
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `segmenta <args>` in `cwd` to its end.
pub fn cli<I>(cwd: &Path, args: I) -> Outcome
where
    I: IntoIterator,
    I::Item: AsRef<OsStr>,
{
    segmenta_command()
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("segmenta runs")
        .into()
}

impl From<std::process::Output> for Outcome {
    fn from(out: std::process::Output) -> Outcome {
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Customers `range` of the population `segmenta generate --seed <seed>` draws: overlapping
/// ranges share those customers with the same history.
pub fn population(range: Range<usize>, seed: u64) -> SyntheticData {
    let options = GenerateOptions {
        customers: range.end,
        seed,
    };
    generate_range(&options, range)
}

const DEMO_VALUES: &str = r#"
[features.values]
category = ["fashion", "beauty", "home", "grocery", "electronics", "books", "toys", "jewellery"]
channel = ["web", "app", "store"]
gender = ["f", "m", "unknown", "x"]
country = ["germany", "france", "italy", "spain", "netherlands", "belgium", "austria"]
city = ["berlin", "paris", "munich", "hamburg", "cologne", "madrid", "amsterdam", "frankfurt"]
tag = ["family", "fashion", "gaming", "wellness", "fitness", "cooking", "travel", "music", "sports", "tech", "reading", "outdoors"]
"#;

/// The bundled demo job's text with a test's edits: its mapping fits the bundled data and any
/// generated population, so a test changes only the settings it is about.
pub struct DemoJob(String);

impl DemoJob {
    pub fn bundled() -> DemoJob {
        DemoJob(std::fs::read_to_string(demo_job_path()).expect("data/demo.toml"))
    }

    /// Replaces `from`, which must be in the job: an edit that no longer matches would leave
    /// the test running the unedited job.
    pub fn edit(self, from: &str, to: &str) -> DemoJob {
        assert!(
            self.0.contains(from),
            "data/demo.toml no longer has {from:?}"
        );
        DemoJob(self.0.replace(from, to))
    }

    /// A fixed k instead of the automatic choice over 2..10.
    pub fn fixed_k(self, k: usize) -> DemoJob {
        self.edit("k = \"auto\"\nk_range = [2, 10]", &format!("k = {k}"))
    }

    /// Automatic k over `lo..=hi` instead of 2..10.
    pub fn k_range(self, lo: usize, hi: usize) -> DemoJob {
        self.edit("k_range = [2, 10]", &format!("k_range = [{lo}, {hi}]"))
    }

    /// No Gaussian mixture (the slowest part of a small run).
    pub fn without_mixture(self) -> DemoJob {
        self.edit("gmm = true", "gmm = false")
    }

    /// No lifetime model: a feature table from an engine has no transaction log to fit it on.
    pub fn without_lifetime(self) -> DemoJob {
        let start = self
            .0
            .find("\n# Who is still a customer")
            .expect("the [lifetime] block");
        let end = self.0[start..]
            .find("horizon_days = 90\n")
            .expect("its last line")
            + start;
        DemoJob(format!(
            "{}{}",
            &self.0[..start],
            &self.0[end + "horizon_days = 90\n".len()..]
        ))
    }

    /// The bundled data's files by absolute paths, so the job may be written anywhere.
    pub fn over_bundled_data(self) -> DemoJob {
        let files = ["transactions", "customers", "campaigns", "events"]
            .map(|t| format!("{t}.parquet"))
            .into_iter()
            .chain(["planted_groups.csv".to_string()]);
        files.fold(self, |job, file| {
            let bundled = repo(&format!("data/{file}"));
            job.edit(
                &format!("path = \"{file}\""),
                &format!("path = {:?}", bundled.display().to_string()),
            )
        })
    }

    /// The values the bundled data's top-N picks, listed as a job for a SQL engine lists them.
    pub fn with_listed_values(self) -> DemoJob {
        DemoJob(self.0 + DEMO_VALUES)
    }

    pub fn named(self, name: &str) -> DemoJob {
        self.edit("name = \"demo\"", &format!("name = \"{name}\""))
    }

    /// Writes the job to `dir/job.toml`; its path.
    pub fn write(&self, dir: &Path) -> PathBuf {
        let path = dir.join("job.toml");
        std::fs::write(&path, &self.0).expect("job file");
        path
    }

    /// Writes `data`'s tables (Parquet) and the job into `dir`, created if need be; the job
    /// file's path.
    pub fn write_over(&self, data: &SyntheticData, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).expect("data folder");
        write_tables(data, dir, "parquet").expect("generated tables");
        self.write(dir)
    }
}
