//! The hostile corpus (tests/hostile/): every case is a tiny input with its job file and an
//! `expect.toml`. A case either fails with a clear message (the file, column and row named, the
//! exit code of docs/report.md, "Exit codes") and writes no report, or succeeds with every
//! customer kept, the revenue to the cent and each repair counted in run.log. A few inputs are
//! too large to commit (100,000 categories, megabyte strings); the cases name a generator instead.
//!
//! The 39 cases: empty file, header only, missing and duplicated columns, wrong and mixed
//! delimiters, BOM, CRLF, quoted newlines, non-UTF-8 bytes, duplicate and unknown customers,
//! negative, zero, NaN, infinite and 1e300 amounts, currency symbols and thousands separators,
//! unparseable, future and mixed-format dates, one customer, fewer customers than k, every row
//! identical, 100,000 distinct categories, 1 MB strings, `<script>` and quotes, formula cells,
//! `..` and absolute job names, a symlinked job folder, an unwritable output folder, placeholder
//! ids (`NULL`, `n/a` dropped; `0`, `-1` kept), blank cells, a rule condition of the wrong type,
//! a query with a syntax error, a query naming an unknown table, a query without a role column,
//! every id listed in `missing_ids`, and three tables joined by a query. Each expects either an
//! error (exit code and words of the message, no report left) or a report (customer count,
//! revenue to the cent, lines of `run.log`, escaped HTML, neutralised CSV); each case runs under
//! a 120 s deadline, so a hang fails the case instead of holding CI.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::util;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// "ok" or "error".
    outcome: String,
    exit: Option<i32>,
    /// Substrings of the error message, all required.
    #[serde(default)]
    message: Vec<String>,
    /// Substrings of run.log, all required.
    #[serde(default)]
    log: Vec<String>,
    /// Rows of assignments.csv.
    customers: Option<usize>,
    /// summary.json `revenue`, to the cent.
    revenue: Option<String>,
    generate: Option<String>,
    setup: Option<String>,
    /// Raw markup that must not appear in index.html (it must be escaped).
    #[serde(default)]
    html_free_of: Vec<String>,
    /// Ids that assignments.csv must carry with a leading apostrophe.
    #[serde(default)]
    csv_neutralised: Vec<String>,
    /// Nothing may be written outside the output folder.
    #[serde(default)]
    nothing_outside: bool,
}

fn copy_case(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("case folder");
    for entry in std::fs::read_dir(from).expect("case files") {
        let entry = entry.expect("case file");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy case file");
    }
}

fn generate(kind: &str, dir: &Path) {
    let mut csv = String::from("customer,date,amount,category\n");
    match kind {
        // 2,000 customers, 50 lines each, every line its own category: 100,000 distinct values.
        "many_categories" => {
            for line in 0..100_000 {
                let customer = line % 2000;
                let day = 1 + line % 28;
                let month = 1 + (line / 2000) % 6;
                let amount = 5 + (line * 7919) % 400;
                csv +=
                    &format!("K{customer:04},2024-{month:02}-{day:02},{amount}.25,cat-{line:06}\n");
            }
        }
        // A one-megabyte category and a one-megabyte customer id among ordinary lines.
        "long_strings" => {
            let long_id = format!("L{}", "x".repeat(1 << 20));
            let long_category = "y".repeat(1 << 20);
            for c in 0..11 {
                for o in 0..(1 + c % 4) {
                    let category = if o == 0 {
                        long_category.as_str()
                    } else {
                        "toys"
                    };
                    csv += &format!(
                        "C{c:02},2024-0{}-1{o},{}.50,{category}\n",
                        1 + (c + o) % 6,
                        10 + 7 * c + o
                    );
                }
            }
            csv += &format!("{long_id},2024-03-03,44.00,toys\n");
        }
        other => panic!("unknown generator {other}"),
    }
    std::fs::write(dir.join("tx.csv"), csv).expect("generated input");
}

fn setup(kind: &str, dir: &Path, outside: &Path) {
    match kind {
        "symlink_job_folder" => {
            std::fs::create_dir_all(dir.join("out")).expect("output root");
            std::os::unix::fs::symlink(outside, dir.join("out/hostile")).expect("symlink");
        }
        "output_is_a_file" => std::fs::write(dir.join("out"), "not a folder").expect("file"),
        other => panic!("unknown setup {other}"),
    }
}

/// Report folders (with an index.html) anywhere under `root`.
fn reports_under(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && !path.is_symlink() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "index.html") {
                found.push(dir.clone());
            }
        }
    }
    found
}

fn check_report(name: &str, expect: &Expect, out: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let reports = reports_under(out);
    let [report] = reports.as_slice() else {
        return vec![format!("{name}: expected one report, found {reports:?}")];
    };
    let read = |file: &str| std::fs::read_to_string(report.join(file)).unwrap_or_default();
    let assignments = read("assignments.csv");
    let mut reader = csv_rows(&assignments);
    let header = reader.next().unwrap_or_default();
    let id_column = header.iter().position(|h| h == "customer_id");
    let ids: Vec<String> = reader
        .filter_map(|row| id_column.and_then(|i| row.get(i).cloned()))
        .collect();
    if let Some(want) = expect.customers {
        if ids.len() != want {
            problems.push(format!(
                "{name}: {} customers in assignments.csv, expected {want}",
                ids.len()
            ));
        }
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != ids.len() {
        problems.push(format!(
            "{name}: a customer appears twice in assignments.csv"
        ));
    }
    if let Some(want) = &expect.revenue {
        let summary: serde_json::Value =
            serde_json::from_str(&read("summary.json")).unwrap_or_default();
        let got = summary["revenue"].as_f64().map(|r| format!("{r:.2}"));
        if got.as_deref() != Some(want.as_str()) {
            problems.push(format!("{name}: revenue {got:?}, expected {want}"));
        }
    }
    let log = read("run.log");
    for wanted in &expect.log {
        if !log.contains(wanted.as_str()) {
            problems.push(format!("{name}: run.log lacks {wanted:?}"));
        }
    }
    let html = read("index.html");
    for raw in &expect.html_free_of {
        if html.contains(raw.as_str()) {
            problems.push(format!("{name}: index.html carries unescaped {raw:?}"));
        }
    }
    for id in &expect.csv_neutralised {
        if !ids.iter().any(|i| *i == format!("'{id}")) {
            problems.push(format!(
                "{name}: assignments.csv does not neutralise {id:?}: {ids:?}"
            ));
        }
    }
    problems
}

/// The rows of a CSV text (quoted fields with commas, quotes and newlines handled).
fn csv_rows(text: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    let mut rows = Vec::new();
    let (mut row, mut field, mut quoted, mut chars) =
        (Vec::new(), String::new(), false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            ('\r', false) => {}
            (c, _) => field.push(c),
        }
    }
    rows.into_iter()
}

/// A hang is a failure of the case, not of the whole test run (a hung case once held CI past
/// its limit).
const CASE_DEADLINE: Duration = Duration::from_secs(120);

/// Runs the case's job; the exit code and stderr, or None when it outlived the deadline.
fn run_with_deadline(dir: &Path) -> Option<(i32, String)> {
    let mut child = util::segmenta_command()
        .args(["run", "job.toml", "--output", "out", "--quiet"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("segmenta starts");
    // stderr is read on its own thread so a chatty run cannot block on a full pipe.
    let mut pipe = child.stderr.take().expect("stderr pipe");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("segmenta status") {
            break Some(status);
        }
        if started.elapsed() > CASE_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = reader.join().unwrap_or_default();
    status.map(|s| (s.code().unwrap_or(-1), stderr))
}

fn run_case(case: &Path) -> Vec<String> {
    let name = case
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("?")
        .to_string();
    let expect: Expect =
        toml::from_str(&std::fs::read_to_string(case.join("expect.toml")).expect("expect.toml"))
            .unwrap_or_else(|e| panic!("{name}/expect.toml: {e}"));
    let scratch = tempfile::tempdir().expect("scratch folder");
    let dir = scratch.path().join("case");
    let outside = scratch.path().join("outside");
    std::fs::create_dir_all(&outside).expect("outside folder");
    copy_case(case, &dir);
    if let Some(kind) = &expect.generate {
        generate(kind, &dir);
    }
    if let Some(kind) = &expect.setup {
        setup(kind, &dir, &outside);
    }
    let Some((code, stderr)) = run_with_deadline(&dir) else {
        return vec![format!(
            "{name}: still running after {} s, killed",
            CASE_DEADLINE.as_secs()
        )];
    };
    let mut problems = Vec::new();
    if stderr.contains("panicked") {
        problems.push(format!("{name}: panicked:\n{stderr}"));
    }
    match expect.outcome.as_str() {
        "ok" => {
            if code != 0 {
                return vec![format!("{name}: exit {code}, expected success:\n{stderr}")];
            }
            problems.extend(check_report(&name, &expect, &dir.join("out")));
        }
        "error" => {
            let want = expect.exit.unwrap_or(1);
            if code != want {
                problems.push(format!("{name}: exit {code}, expected {want}:\n{stderr}"));
            }
            for part in &expect.message {
                if !stderr.contains(part.as_str()) {
                    problems.push(format!("{name}: the message lacks {part:?}:\n{stderr}"));
                }
            }
            let reports = reports_under(&dir.join("out"));
            if !reports.is_empty() {
                problems.push(format!("{name}: a failed run left a report: {reports:?}"));
            }
        }
        other => panic!("{name}: outcome must be ok or error, not {other}"),
    }
    if expect.nothing_outside {
        let written: Vec<_> = std::fs::read_dir(&outside)
            .expect("outside")
            .flatten()
            .collect();
        if !written.is_empty()
            || Path::new("/tmp/segmenta-escaped").exists()
            || scratch.path().join("escaped").exists()
        {
            problems.push(format!(
                "{name}: something was written outside the output folder"
            ));
        }
    }
    problems
}

#[test]
fn every_hostile_case_ends_as_expected() {
    let root = util::repo("tests/hostile");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/hostile")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("expect.toml").exists())
        .collect();
    cases.sort();
    assert!(cases.len() >= 25, "the corpus has {} cases", cases.len());
    let problems: Vec<String> = cases.iter().flat_map(|c| run_case(c)).collect();
    assert!(
        problems.is_empty(),
        "{} problem(s):\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}
