//! Every exit code of docs/report.md, "Exit codes", produced through the binary: 1 for a bad job
//! or bad data, 2 for bad usage, 3 for a report that cannot be written, 4 for an internal
//! failure and 5 for a failed consistency check — the last two made on purpose with
//! `SEGMENTA_FAULT` (debug builds only), since no input can cause them. Every failure leaves the
//! previous report in place and no half-written one. A job error is found by `check` before any
//! input is read.

use std::path::Path;

use crate::util::{cli, client_log_job, segmenta_command, workdir, Outcome};

/// 40 customers with one to four purchases each, different enough to cluster.
fn transactions() -> String {
    let mut text = String::from("client,when,value\n");
    for customer in 0..40 {
        for purchase in 0..=(customer % 4) {
            let day = 1 + (customer * 7 + purchase * 11) % 28;
            let month = 1 + (customer + purchase) % 6;
            let amount = 10 + customer * 3 + purchase * 5;
            text.push_str(&format!(
                "c{customer},2024-{month:02}-{day:02},{amount}.50\n"
            ));
        }
    }
    text
}

fn job() -> String {
    client_log_job("codes", "[discovery]\nk = 3\n")
}

fn run_with_fault(dir: &Path, fault: Option<&str>) -> Outcome {
    let mut command = segmenta_command();
    command
        .args(["run", "job.toml", "--output", "reports", "--quiet"])
        .current_dir(dir);
    if let Some(fault) = fault {
        command.env("SEGMENTA_FAULT", fault);
    }
    command.output().expect("segmenta runs").into()
}

#[test]
fn a_good_run_exits_0() {
    let dir = workdir(&[("tx.csv", &transactions()), ("job.toml", &job())]);
    let out = run_with_fault(dir.path(), None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(dir
        .path()
        .join("reports/codes/2024-07-01/index.html")
        .is_file());
}

#[test]
fn bad_input_exits_1_naming_the_file() {
    let dir = workdir(&[("job.toml", &job())]);
    let out = cli(dir.path(), ["run", "job.toml"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("tx.csv"), "{}", out.stderr);
}

#[test]
fn bad_usage_exits_2() {
    let dir = workdir(&[]);
    let unknown_flag = cli(dir.path(), ["run", "job.toml", "--sede", "7"]);
    assert_eq!(unknown_flag.code, 2, "{}", unknown_flag.stderr);
    let unknown_format = cli(
        dir.path(),
        ["generate", "--output", "out", "--format", "xls"],
    );
    assert_eq!(unknown_format.code, 2, "{}", unknown_format.stderr);
    assert!(
        unknown_format.stderr.contains("xls"),
        "{}",
        unknown_format.stderr
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn a_report_that_cannot_be_written_exits_3() {
    // The output root is a file, so no report folder can be made under it.
    let dir = workdir(&[
        ("tx.csv", &transactions()),
        ("job.toml", &job()),
        ("reports", "not a folder"),
    ]);
    let out = run_with_fault(dir.path(), None);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("reports"), "{}", out.stderr);
}

/// A run that fails after the analysis, as the report is written, leaves the previous report of
/// the same date as it was and no temporary folder beside it.
fn fails_leaving_the_previous_report(fault: &str, code: i32) {
    let dir = workdir(&[("tx.csv", &transactions()), ("job.toml", &job())]);
    let good = run_with_fault(dir.path(), None);
    assert_eq!(good.code, 0, "{}", good.stderr);
    let report = dir.path().join("reports/codes/2024-07-01");
    let before = std::fs::read(report.join("assignments.csv")).unwrap();

    let out = run_with_fault(dir.path(), Some(fault));
    assert_eq!(out.code, code, "{}", out.stderr);
    assert!(out.stderr.contains("SEGMENTA_FAULT"), "{}", out.stderr);
    assert_eq!(
        std::fs::read(report.join("assignments.csv")).unwrap(),
        before
    );
    let folders: Vec<String> = std::fs::read_dir(dir.path().join("reports/codes"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(folders, ["2024-07-01"], "left behind: {folders:?}");
}

#[test]
fn an_internal_failure_exits_4() {
    fails_leaving_the_previous_report("internal", 4);
}

#[test]
fn a_failed_consistency_check_exits_5() {
    fails_leaving_the_previous_report("inconsistent", 5);
}

/// `check` reads no input before the whole job is parsed and checked: with an input that does
/// not exist, a job error is what it reports, naming the job file and the key.
#[test]
fn check_finds_every_job_error_before_reading_data() {
    let cases = [
        ("[discovery]\ndbscan_eps = \"ato\"\n", "dbscan_eps"),
        ("[discovery]\nk_range = [1, 4]\n", "k_range = [1, 4]"),
        ("[rules]\npresets = [\"clasic-rfm\"]\n", "clasic-rfm"),
        ("[rules.lifecycle]\nactive_dayz = 30\n", "active_dayz"),
        (
            "[[rules.custom]]\nname = \"VIP\"\nwhen = \"monetary > AND frequency > 2\"\n",
            "VIP",
        ),
    ];
    for (section, named) in cases {
        let dir = workdir(&[("job.toml", &client_log_job("codes", section))]);
        let out = cli(dir.path(), ["check", "job.toml"]);
        assert_eq!(out.code, 1, "{section}: {}", out.stderr);
        assert!(out.stderr.contains(named), "{section}: {}", out.stderr);
        assert!(
            !out.stderr.contains("tx.csv"),
            "{section} read the data: {}",
            out.stderr
        );
    }
}
