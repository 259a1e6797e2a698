//! A run killed with SIGKILL at any moment never leaves a partial report and never removes the
//! previous one: the report folder always holds a complete report (the old or the new one), and
//! the killed run's hidden staging folder is cleared by the next run.
//!
//! The run is killed 8 times, at seeded points spread over a whole run; after each kill the job's
//! folder shows no visible folder but the report's.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use rand::{Rng, SeedableRng};

use crate::util::{self, DemoJob};

const REPORT_FILES: [&str; 8] = [
    "index.html",
    "summary.json",
    "assignments.csv",
    "assignments.parquet",
    "segments.csv",
    "model.json",
    "run.log",
    "charts/k_selection.png",
];

/// A 3,000-customer job over generated tables, k-means only (no mixture) to keep runs short.
fn write_job(dir: &Path) -> PathBuf {
    DemoJob::bundled()
        .without_mixture()
        .k_range(2, 6)
        .write_over(&util::population(0..3000, 5), dir)
}

fn run(job: &Path, output: &Path, seed: u64) -> std::process::Child {
    util::segmenta_command()
        .args(["run", "--quiet", "--seed", &seed.to_string(), "--output"])
        .arg(output)
        .arg(job)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The report folder is complete, and its summary is one a finished run wrote.
fn complete_report(folder: &Path) -> String {
    for file in REPORT_FILES {
        assert!(
            folder.join(file).is_file(),
            "{} lacks {file}",
            folder.display()
        );
    }
    let summary = std::fs::read_to_string(folder.join("summary.json")).unwrap();
    serde_json::from_str::<serde_json::Value>(&summary).expect("summary.json is whole");
    summary
}

fn visible_entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|name| !name.starts_with('.'))
        .collect()
}

fn hidden_entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|name| name.starts_with('.'))
        .collect()
}

#[test]
fn a_killed_run_keeps_the_previous_report_whole() {
    let data = tempfile::tempdir().unwrap();
    let job = write_job(data.path());
    let output = tempfile::tempdir().unwrap();
    let job_folder = output.path().join("demo");
    let report = job_folder.join("2026-01-01");

    let started = Instant::now();
    assert!(run(&job, output.path(), 1).wait().unwrap().success());
    let full_run = started.elapsed();
    let mut finished = vec![complete_report(&report)];

    // Kill points spread over a whole run (loading, clustering, charts, writing, renaming),
    // jittered by a seeded generator so a failure can be replayed.
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
    let kills = 8;
    for attempt in 0..kills {
        let fraction = (attempt as f64 + rng.gen_range(0.0..1.0)) / kills as f64;
        let delay = full_run.mul_f64(fraction * 1.1);
        let mut child = run(&job, output.path(), 100 + attempt);
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        let summary = complete_report(&report);
        // A kill that lands after the run swapped its finished report in, but before the process
        // exited (while it removes the previous folder), leaves that run's own complete report.
        let own_seed = serde_json::from_str::<serde_json::Value>(&summary).unwrap()["seed"]
            == serde_json::json!(100 + attempt);
        if status.success() || own_seed {
            finished.push(summary.clone());
        }
        assert!(
            finished.contains(&summary),
            "after a kill at {delay:?} the report is neither the previous nor a finished one"
        );
        assert_eq!(
            visible_entries(&job_folder),
            ["2026-01-01"],
            "a half folder is visible after a kill at {delay:?}"
        );
    }

    // The next run clears the killed runs' staging folders.
    assert!(run(&job, output.path(), 1).wait().unwrap().success());
    complete_report(&report);
    assert_eq!(hidden_entries(&job_folder), Vec::<String>::new());
}
