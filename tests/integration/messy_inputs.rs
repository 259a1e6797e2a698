//! One test per kind of messy export, on the small files in tests/data/messy/ (written by
//! tests/reference/messy_inputs.py): each variant of the same 204 transactions must load to the
//! same 40 customers and the same net revenue, to the cent, as the plain UTF-8 file.
//!
//! The variants: Latin-1 with two title lines, `;`, day-first dates and `1.234,50` amounts; UTF-8
//! with BOM and CRLF; UTF-16 tab-separated; split over a folder. A Windows-1251 customers table
//! with Cyrillic headers joins them (two customers without purchases kept); a Latin-1 file
//! without `encoding`, an unknown encoding and a file without a header line are errors naming the
//! file and what to set; the Latin-1/Windows-1251 pair makes a full report whose Cyrillic cities
//! survive.

use std::path::{Path, PathBuf};

use segmenta::job::Job;
use segmenta::pipeline::{check, CheckReport};
use segmenta::RunOptions;

use crate::util;

const CUSTOMERS: usize = 40;
const REVENUE: f64 = 223_260.58;

fn messy(file: &str) -> PathBuf {
    util::test_data("messy").join(file)
}

/// `check` writes nothing, so the output root is never used.
fn options() -> RunOptions {
    util::options(Path::new("unused"))
}

/// A job over `inputs` (TOML tables), written beside nothing: paths are absolute.
fn job(inputs: &str) -> (tempfile::TempDir, Job) {
    let dir = tempfile::tempdir().unwrap();
    let job = util::write_job(
        dir.path(),
        &format!("name = \"messy\"\n{inputs}\n[discovery]\nk = 2\n"),
    );
    (dir, job)
}

fn transactions(path: &Path, extra: &str) -> String {
    format!(
        "[inputs.transactions]\npath = {path:?}\ncustomer_id = \"customer\"\ntimestamp = \"date\"\namount = \"amount\"\n{extra}",
        path = path.display().to_string()
    )
}

fn checked(inputs: &str) -> CheckReport {
    let (_dir, job) = job(inputs);
    check(&job, &options()).unwrap_or_else(|e| panic!("{e}"))
}

fn assert_same_data(report: &CheckReport) {
    assert_eq!(report.customers, CUSTOMERS);
    let revenue = report.revenue.expect("a log carries spend");
    assert!((revenue - REVENUE).abs() < 0.005, "revenue {revenue}");
}

#[test]
fn plain_utf8_is_the_reference() {
    assert_same_data(&checked(&transactions(
        &messy("plain_transactions.csv"),
        "",
    )));
}

#[test]
fn utf8_with_bom_and_crlf_line_ends() {
    let report = checked(&transactions(&messy("bom_crlf_transactions.csv"), ""));
    assert_same_data(&report);
}

#[test]
fn utf16_tab_separated_excel_text() {
    let report = checked(&transactions(&messy("utf16_transactions.txt"), ""));
    assert_same_data(&report);
}

#[test]
fn latin1_semicolons_title_lines_day_first_dates_and_decimal_commas() {
    let inputs = format!(
        "[inputs.transactions]\npath = {:?}\nencoding = \"latin-1\"\ncustomer_id = \"Kunde\"\ntimestamp = \"Datum\"\namount = \"Betrag\"\ncategory = \"Stadt\"\n",
        messy("latin1_transactions.csv").display().to_string()
    );
    let report = checked(&inputs);
    assert_same_data(&report);
    assert_eq!(
        report
            .quality
            .dropped
            .get("transactions: title lines above the header skipped"),
        Some(&2),
        "{:?}",
        report.quality.dropped
    );
    assert_eq!(
        report
            .quality
            .date_formats
            .get("transactions.Datum")
            .map(String::as_str),
        Some("%d.%m.%Y")
    );
}

#[test]
fn a_non_utf8_file_without_an_encoding_names_the_line_and_the_key() {
    let inputs = format!(
        "[inputs.transactions]\npath = {:?}\ncustomer_id = \"Kunde\"\ntimestamp = \"Datum\"\namount = \"Betrag\"\n",
        messy("latin1_transactions.csv").display().to_string()
    );
    let (_dir, job) = job(&inputs);
    let err = check(&job, &options()).unwrap_err().to_string();
    assert!(
        err.contains("latin1_transactions.csv")
            && err.contains("line 1 is not UTF-8")
            && err.contains("encoding"),
        "{err}"
    );
}

#[test]
fn windows_1251_customers_with_cyrillic_headers_beside_transactions() {
    let inputs = format!(
        "{}[inputs.customers]\npath = {:?}\nencoding = \"windows-1251\"\ncustomer_id = \"Код\"\ncity = \"Город\"\nincome = \"Доход\"\n",
        transactions(&messy("plain_transactions.csv"), ""),
        messy("cp1251_customers.csv").display().to_string()
    );
    let report = checked(&inputs);
    // Two customers of the customers table never bought: kept, with no revenue.
    assert_eq!(report.customers, CUSTOMERS + 2);
    assert!((report.revenue.expect("a log carries spend") - REVENUE).abs() < 0.005);
    assert_eq!(report.quality.rows_read.get("customers"), Some(&42));
}

#[test]
fn a_folder_of_files_is_one_table() {
    let report = checked(&transactions(&messy("parts"), ""));
    assert_same_data(&report);
    assert_eq!(report.quality.files.len(), 2);
}

#[test]
fn a_file_without_a_header_line_is_an_error() {
    let (_dir, job) = job(&transactions(&messy("headerless.csv"), ""));
    let err = check(&job, &options()).unwrap_err().to_string();
    assert!(
        err.contains("headerless.csv") && err.contains("not column names"),
        "{err}"
    );
}

#[test]
fn an_unknown_encoding_is_an_error_naming_it() {
    let (_dir, job) = job(&transactions(
        &messy("plain_transactions.csv"),
        "encoding = \"klingon\"\n",
    ));
    let err = check(&job, &options()).unwrap_err().to_string();
    assert!(err.contains("encoding \"klingon\" is not known"), "{err}");
}

/// The whole pipeline on the Latin-1 and Windows-1251 pair writes a report whose cities read
/// as written.
#[test]
fn messy_exports_make_a_full_report() {
    let inputs = format!(
        "[inputs.transactions]\npath = {:?}\nencoding = \"latin1\"\ncustomer_id = \"Kunde\"\ntimestamp = \"Datum\"\namount = \"Betrag\"\n[inputs.customers]\npath = {:?}\nencoding = \"cp1251\"\ncustomer_id = \"Код\"\ncity = \"Город\"\nincome = \"Доход\"\n",
        messy("latin1_transactions.csv").display().to_string(),
        messy("cp1251_customers.csv").display().to_string()
    );
    let (dir, job) = job(&inputs);
    let options = util::options(&dir.path().join("reports"));
    let (result, folder) = segmenta::run(&job, &options).unwrap();
    assert_eq!(result.features.len(), CUSTOMERS + 2);
    let log = std::fs::read_to_string(folder.join("run.log")).unwrap();
    assert!(
        log.contains("transactions: title lines above the header skipped = 2")
            || log.contains("title lines above the header skipped"),
        "{log}"
    );
    assert!(log.contains("sha256 "), "{log}");
    let summary = std::fs::read_to_string(folder.join("summary.json")).unwrap();
    assert!(
        summary.contains("Москва") || summary.contains("москва"),
        "the Cyrillic city is lost"
    );
}
