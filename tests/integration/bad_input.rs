//! Bad input: a clear error naming the file, column and row, a non-zero exit, and the previous
//! report left intact.
//!
//! - An unreadable amount is an error naming the file, column and row, with exit code 1 and the
//!   previous report untouched.
//! - A misspelt job key is named with the nearest valid key.
//! - A missing column lists the columns the file has.
//! - A date column ambiguous between day-first and month-first is an error, not a guess.

use std::path::Path;

use crate::util::{self, client_log_job, workdir};

/// The exit code and stderr of `segmenta <args>` in `cwd`.
fn segmenta(args: &[&str], cwd: &Path) -> (i32, String) {
    let out = util::cli(cwd, args);
    (out.code, out.stderr)
}

fn job() -> String {
    client_log_job("shop", "\n[discovery]\nk_range = [2, 3]\n")
}

fn good_transactions() -> String {
    let mut csv = String::from("client,when,value\n");
    for c in 0..40 {
        for o in 0..(1 + c % 4) {
            csv += &format!(
                "K{c:02},2024-0{}-1{},{}.50\n",
                1 + (c + o) % 6,
                o,
                10 + 7 * c + o
            );
        }
    }
    csv
}

#[test]
fn an_unreadable_amount_names_file_column_and_row_and_keeps_the_previous_report() {
    let dir = workdir(&[("job.toml", &job()), ("tx.csv", &good_transactions())]);
    let (code, err) = segmenta(
        &["run", "job.toml", "--output", "out", "--quiet"],
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    let report = dir.path().join("out/shop/2024-07-01/index.html");
    let before = std::fs::read(&report).unwrap();

    let mut broken = good_transactions();
    broken.push_str("K99,2024-06-01,twelve\n");
    std::fs::write(dir.path().join("tx.csv"), &broken).unwrap();
    let (code, err) = segmenta(
        &["run", "job.toml", "--output", "out", "--quiet"],
        dir.path(),
    );
    assert_eq!(code, 1);
    let rows = broken.lines().count() - 1;
    assert!(
        err.contains("tx.csv")
            && err.contains("column 'value'")
            && err.contains(&format!("data row {rows}"))
            && err.contains("'twelve' is not a number"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&report).unwrap(),
        before,
        "the previous report is untouched"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("out/shop"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no half-written folder: {leftovers:?}");
}

#[test]
fn a_misspelt_job_key_is_named_with_the_nearest_valid_one() {
    let dir = workdir(&[("job.toml", &job().replace("timestamp =", "timestamps ="))]);
    let (code, err) = segmenta(&["run", "job.toml"], dir.path());
    assert_eq!(code, 1);
    assert!(
        err.contains("unknown field `timestamps`") && err.contains("did you mean `timestamp`?"),
        "{err}"
    );
}

#[test]
fn a_missing_column_lists_the_columns_the_file_has() {
    let dir = workdir(&[
        ("job.toml", &job().replace("\"value\"", "\"valeu\"")),
        ("tx.csv", &good_transactions()),
    ]);
    let (code, err) = segmenta(&["run", "job.toml", "--quiet"], dir.path());
    assert_eq!(code, 1);
    assert!(
        err.contains(
            "no column 'valeu' (did you mean `value`?); the file has: client, when, value"
        ),
        "{err}"
    );
}

#[test]
fn day_month_ambiguity_is_an_error_not_a_guess() {
    let dir = workdir(&[
        ("job.toml", &job()),
        (
            "tx.csv",
            "client,when,value\nA,03/04/2024,10\nB,05/06/2024,12\nC,01/02/2024,9\n",
        ),
    ]);
    let (code, err) = segmenta(&["run", "job.toml", "--quiet"], dir.path());
    assert_eq!(code, 1);
    assert!(
        err.contains("day-first")
            && err.contains("month-first")
            && err.contains("timestamp_format"),
        "{err}"
    );
}
