//! Bounded fuzzing on stable Rust: property-based generators throw hostile text at the four
//! parsers an analyst's files reach — the CSV loader, the date detector, the job parser and the
//! rule-expression parser. `SEGMENTA_FUZZ_CASES` sets the cases per parser: 2,000 when unset (a
//! few seconds in a plain `cargo test`), 100,000 in CI (`.ci/run` sets it). The cases come from a
//! fixed seed, so a failure found at either count comes back at that count.
//! A panic anywhere is a failure; each parser must answer with a value or an error. A loader that
//! succeeds must also pass the run's consistency checks (every customer once, revenue to the
//! cent). The test profile is optimised (Cargo.toml), so `cargo test` runs this at release speed,
//! with debug assertions on; the 400,000 cases take about 75 s.
//!
//! - The CSV loader gets files of mostly good rows with hostile cells, ragged rows, any
//!   separator, BOM, CRLF, stray bytes, or plain noise.
//! - The date detector gets columns in nine formats with injected cells, and arbitrary format
//!   strings.
//! - The job parser gets near-valid TOML made from the job's own sections and keys, then its
//!   validation.
//! - The rule-expression parser gets conditions from the rule language with injected tokens,
//!   evaluated on a small table.
//!
//! Each test also requires a share of its cases to get past the parser, so the generators keep
//! reaching deep. It found that polars panics on `r_score AND ''`; conditions are now
//! type-checked (a condition must give yes or no) and polars' evaluation is guarded, so that is
//! an error naming the rule.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use polars::prelude::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use segmenta::job::Job;
use segmenta::load::read::RawFile;
use segmenta::rules::conditions::{self, Condition};

/// Cases per parser when `SEGMENTA_FUZZ_CASES` is not set.
const DEFAULT_CASES: u32 = 2_000;

fn cases() -> u32 {
    std::env::var("SEGMENTA_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_CASES)
}

/// How many cases got past the parser: a generator whose cases all fail early fuzzes nothing
/// but the first check, so each test asks for a share of successes.
fn require_share(name: &str, passed: &AtomicU32, at_least: f64) {
    let passed = passed.load(Ordering::Relaxed);
    let share = f64::from(passed) / f64::from(cases());
    eprintln!(
        "{name}: {passed} of {} cases accepted ({:.1} %)",
        cases(),
        100.0 * share
    );
    assert!(
        share >= at_least,
        "{name}: only {:.1} % of the cases were accepted; the generator no longer reaches past the first check",
        100.0 * share
    );
}

/// Runs `test` over `cases()` values of `strategy`, without shrink files left in the repository.
fn fuzz<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config,
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{name}: {e}");
    }
}

/// A cell as real exports and attackers write them.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "C[0-9]{1,2}",
        "(19|20)[0-9]{2}-[01][0-9]-[0-3][0-9]( [0-2][0-9]:[0-5][0-9](:[0-5][0-9])?)?",
        "[0-3]?[0-9][./-][01]?[0-9][./-](19|20)?[0-9]{2}",
        "-?[0-9]{1,7}([.,][0-9]{1,3})?",
        "[$€£]? ?-?[0-9]{1,3}([ ,.][0-9]{3}){0,3}([.,][0-9]{2})?",
        Just("1e300".to_string()),
        Just("-1e308".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("".to_string()),
        Just("NULL".to_string()),
        Just("\"quoted, with \"\"quotes\"\" and ; | tabs\t\"".to_string()),
        Just("\"line\nbreak\"".to_string()),
        Just("\"unterminated".to_string()),
        "[=+@-][A-Za-z0-9()!]{0,12}",
        "<script>[a-z]{0,5}</script>",
        any::<String>().prop_map(|s| s.chars().take(24).collect()),
    ]
}

/// Mostly a good value of its column, now and then a hostile cell in its place.
fn field(good: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![12 => good, 1 => cell()]
}

/// A whole CSV file: the job's columns in any order (now and then a name missing or foreign),
/// rows of mostly good values with hostile cells and ragged lines among them, any separator and
/// line end, sometimes a BOM, sometimes bytes that are not UTF-8 — or plain noise.
fn csv_file() -> impl Strategy<Value = Vec<u8>> {
    let columns = prop::sample::subsequence(vec!["customer", "date", "amount", "category"], 3..=4)
        .prop_shuffle();
    let header_noise = prop_oneof![8 => Just(None), 1 => prop::option::of("[a-z ]{0,8}")];
    let row = (
        field("C[0-9]{1,2}"),
        field("20(1[0-9]|2[0-4])-0[1-9]-[12][0-9]"),
        field("-?[0-9]{1,4}\\.[0-9]{2}"),
        field("[a-z]{1,6}"),
        prop_oneof![15 => Just(0i8), 1 => Just(-1), 1 => Just(1)],
    );
    let separator = prop_oneof![Just(','), Just(';'), Just('\t'), Just('|')];
    let structured = (
        columns,
        header_noise,
        prop::collection::vec(row, 0..9),
        separator,
        any::<bool>(),
        prop_oneof![6 => Just(false), 1 => Just(true)],
        prop_oneof![8 => Just(Vec::new()), 1 => prop::collection::vec(any::<u8>(), 1..4)],
    )
        .prop_map(|(columns, noise, rows, sep, crlf, bom, tail)| {
            let end = if crlf { "\r\n" } else { "\n" };
            let mut header: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
            if let Some(noise) = noise {
                header[0] = noise;
            }
            let mut text = String::new();
            if bom {
                text.push('\u{feff}');
            }
            text += &header.join(&sep.to_string());
            for (id, date, amount, category, ragged) in rows {
                let mut fields: Vec<String> = columns
                    .iter()
                    .map(|c| match *c {
                        "customer" => id.clone(),
                        "date" => date.clone(),
                        "amount" => amount.clone(),
                        _ => category.clone(),
                    })
                    .collect();
                match ragged {
                    -1 => {
                        fields.pop();
                    }
                    1 => fields.push("extra".into()),
                    _ => {}
                }
                text += end;
                text += &fields.join(&sep.to_string());
            }
            let mut bytes = text.into_bytes();
            bytes.extend(tail);
            bytes
        });
    prop_oneof![
        8 => structured,
        1 => prop::collection::vec(any::<u8>(), 0..200),
    ]
}

fn job_for(path: &Path, separator: Option<&str>, encoding: Option<&str>) -> Job {
    let mut text = format!(
        "name = \"fuzz\"\nas_of = \"2030-01-01\"\n[inputs.transactions]\npath = {:?}\ncustomer_id = \"customer\"\ntimestamp = \"date\"\namount = \"amount\"\n",
        path.display().to_string()
    );
    if let Some(s) = separator {
        text += &format!("separator = {s:?}\n");
    }
    if let Some(e) = encoding {
        text += &format!("encoding = {e:?}\n");
    }
    Job::from_toml(&text, ".").expect("the fuzz job parses")
}

#[test]
fn the_csv_loader_answers_every_file_with_inputs_or_an_error() {
    let dir = tempfile::tempdir().expect("scratch folder");
    let path = dir.path().join("tx.csv");
    let options = (
        prop::option::of(prop_oneof![Just(","), Just(";"), Just("\t"), Just("|")]),
        prop::option::of(prop_oneof![
            Just("utf-8"),
            Just("windows-1251"),
            Just("latin-1")
        ]),
    );
    let as_of = chrono::NaiveDate::from_ymd_opt(2030, 1, 1).expect("date");
    let loaded = AtomicU32::new(0);
    fuzz(
        "CSV loader",
        (csv_file(), options),
        |(bytes, (separator, encoding))| {
            std::fs::write(&path, &bytes).expect("scratch file");
            let job = job_for(&path, separator, encoding);
            let Ok(inputs) = segmenta::load::load(&job) else {
                return Ok(());
            };
            loaded.fetch_add(1, Ordering::Relaxed);
            // A loaded file must reconcile: every customer once and revenue to the cent.
            let expected = segmenta::load::ledger::Expected::of_inputs(&inputs, as_of)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            if let Ok(table) = segmenta::features::build(&inputs, as_of, &job.features) {
                segmenta::pipeline::invariants::check_features(&expected, &table)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
            Ok(())
        },
    );
    require_share("CSV loader", &loaded, 0.04);
}

fn date_column(cells: &[Option<String>]) -> RawFile {
    let column = Column::new("d".into(), cells);
    RawFile {
        path: "dates.csv".into(),
        frame: DataFrame::new_infer_height(vec![column]).expect("frame"),
        preamble_lines: 0,
        first_row: 0,
    }
}

/// A date column as an export writes it: one format (day-first, month-first, ISO, with or
/// without a time), blanks, and now and then a cell that is not a date.
fn date_cells() -> impl Strategy<Value = Vec<Option<String>>> {
    let format = prop::sample::select(vec![
        "%Y-%m-%d",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%d/%m/%Y",
        "%m/%d/%Y",
        "%d.%m.%Y %H:%M",
        "%d-%m-%Y",
        "%Y%m%d",
        "%e %b %Y",
    ]);
    let moment = prop_oneof![10 => (0i64..20_000 * 86_400).prop_map(Some), 1 => Just(None)];
    let injected =
        prop_oneof![3 => Just(None), 1 => (any::<prop::sample::Index>(), cell()).prop_map(Some)];
    (format, prop::collection::vec(moment, 0..12), injected).prop_map(
        |(format, moments, injected)| {
            let mut cells: Vec<Option<String>> = moments
                .iter()
                .map(|m| {
                    m.and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                        .map(|t| t.naive_utc().format(format).to_string())
                })
                .collect();
            if let (Some((at, cell)), false) = (injected, cells.is_empty()) {
                let i = at.index(cells.len());
                cells[i] = Some(cell);
            }
            cells
        },
    )
}

#[test]
fn the_date_detector_answers_every_column_with_dates_or_an_error() {
    let format = prop_oneof![
        6 => Just(None),
        1 => prop::option::of("(%[a-zA-Z%:.#0-9+-]|[ /:.T-]){0,8}"),
    ];
    let read = AtomicU32::new(0);
    fuzz(
        "date detector",
        (date_cells(), format),
        |(cells, format)| {
            let raw = date_column(&cells);
            if let Ok(parsed) =
                segmenta::load::parse::datetimes(&raw, "d", format.as_deref(), "timestamp_format")
            {
                read.fetch_add(1, Ordering::Relaxed);
                prop_assert_eq!(parsed.values.len(), cells.len());
                // A blank cell stays blank; a cell with text got a date.
                for (cell, value) in cells.iter().zip(&parsed.values) {
                    let blank = cell.as_deref().is_none_or(|c| c.trim().is_empty());
                    prop_assert_eq!(blank, value.is_none(), "cell {:?}", cell);
                }
            }
            Ok(())
        },
    );
    require_share("date detector", &read, 0.3);
}

/// TOML built from the job's own sections and keys with values of every type, so the parser
/// and the validation behind it see near-valid jobs, not only syntax errors.
fn job_text() -> impl Strategy<Value = String> {
    let section = prop_oneof![
        Just(""),
        Just("[inputs.transactions]"),
        Just("[inputs.customers]"),
        Just("[features]"),
        Just("[rules]"),
        Just("[rules.scoring]"),
        Just("[[rules.custom]]"),
        Just("[discovery]"),
        Just("[tables.items]"),
        Just("[nonsense]"),
    ];
    let key = prop_oneof![
        Just("name"),
        Just("as_of"),
        Just("seed"),
        Just("primary"),
        Just("path"),
        Just("customer_id"),
        Just("timestamp"),
        Just("amount"),
        Just("separator"),
        Just("bins"),
        Just("r_cuts"),
        Just("k"),
        Just("k_range"),
        Just("n_runs"),
        Just("dbscan_eps"),
        Just("winsorize"),
        Just("weights"),
        Just("when"),
        Just("segment"),
        Just("exclude"),
        Just("query"),
        Just("missing_ids"),
        Just("kk_rangee"),
    ];
    let value = prop_oneof![
        "-?[0-9]{1,20}",
        "-?[0-9]{0,4}\\.[0-9]{0,4}(e-?[0-9]{1,3})?",
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("true".to_string()),
        "\"[^\"\\\\]{0,12}\"",
        "\\[(-?[0-9.]{1,4}, ?){0,4}\\]",
        Just("\"auto\"".to_string()),
        Just("\"2025-02-30\"".to_string()),
        Just("{ a = 1 }".to_string()),
        any::<String>().prop_map(|s| s.chars().take(16).collect()),
    ];
    let line = prop_oneof![
        4 => (section, key, value).prop_map(|(s, k, v)| format!("{s}\n{k} = {v}")),
        1 => any::<String>().prop_map(|s| s.chars().take(30).collect()),
    ];
    prop::collection::vec(line, 0..10).prop_map(|lines| {
        format!("name = \"fuzz\"\n[inputs.transactions]\npath = \"tx.csv\"\ncustomer_id = \"c\"\ntimestamp = \"t\"\namount = \"a\"\n{}", lines.join("\n"))
    })
}

#[test]
fn the_job_parser_answers_every_text_with_a_job_or_a_message() {
    let valid = AtomicU32::new(0);
    fuzz("job parser", job_text(), |text| {
        match Job::from_toml(&text, ".") {
            Ok(_) => {
                valid.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
        Ok(())
    });
    require_share("job parser", &valid, 0.04);
}

const RULE_COLUMNS: [&str; 6] = [
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "m_score",
    "rfm_group",
];

fn rule_frame() -> DataFrame {
    df!(
        "recency_days" => [Some(3.0), None, Some(400.0)],
        "frequency" => [5.0, 0.0, 1.0],
        "monetary" => [250.5, 0.0, -20.0],
        "r_score" => [Some(5i32), None, Some(1)],
        "m_score" => [Some(4i32), None, Some(1)],
        "rfm_group" => ["Champions", "No purchases", "Lost"],
    )
    .expect("rule frame")
}

/// Conditions as analysts write them — comparisons, ranges, lists and null tests joined by
/// AND / OR, negated and parenthesised — with now and then a stray token of the language or of
/// noise in place of a word.
fn condition() -> impl Strategy<Value = String> {
    let column = prop::sample::select(RULE_COLUMNS.to_vec()).prop_map(str::to_string);
    let value = prop_oneof![
        "-?[0-9]{1,5}(\\.[0-9]{1,2})?",
        "'(Champions|Lost|[A-Za-z ]{0,6})'",
        Just("NULL".to_string()),
    ];
    let comparison = prop::sample::select(vec![">", "<", ">=", "<=", "=", "!=", "<>"]);
    let atom = prop_oneof![
        (column.clone(), comparison, value.clone()).prop_map(|(c, o, v)| format!("{c} {o} {v}")),
        (column.clone(), value.clone(), value.clone())
            .prop_map(|(c, a, b)| format!("{c} BETWEEN {a} AND {b}")),
        (column.clone(), prop::collection::vec(value, 1..4))
            .prop_map(|(c, v)| format!("{c} IN ({})", v.join(", "))),
        (column.clone(), any::<bool>())
            .prop_map(|(c, not)| format!("{c} IS {}NULL", if not { "NOT " } else { "" })),
        column,
    ];
    let joined = prop::collection::vec(
        (
            atom,
            prop::sample::select(vec!["AND", "OR"]),
            any::<bool>(),
            any::<bool>(),
        ),
        1..4,
    )
    .prop_map(|atoms| {
        let mut text = String::new();
        for (i, (atom, join, not, paren)) in atoms.into_iter().enumerate() {
            if i > 0 {
                text += &format!(" {join} ");
            }
            let atom = if not { format!("NOT {atom}") } else { atom };
            text += &if paren { format!("({atom})") } else { atom };
        }
        text
    });
    let noise = prop_oneof![
        prop::sample::select(vec![
            "AND", "OR", "NOT", "(", ")", ",", "+", "*", "/", "%", "LIKE", "CASE", "END", "SELECT",
            ";", "'", "\"", "--", "''", "1/0",
        ])
        .prop_map(str::to_string),
        "[a-z_]{1,10}\\(",
        any::<String>().prop_map(|s| s.chars().take(6).collect()),
    ];
    let injected =
        prop_oneof![3 => Just(None), 1 => (any::<prop::sample::Index>(), noise).prop_map(Some)];
    (joined, injected).prop_map(|(text, injected)| {
        let Some((at, token)) = injected else {
            return text;
        };
        let mut words: Vec<String> = text.split(' ').map(str::to_string).collect();
        let i = at.index(words.len());
        words[i] = token;
        words.join(" ")
    })
}

#[test]
fn the_rule_parser_answers_every_condition_with_segments_or_a_message() {
    let frame = rule_frame();
    let evaluated = AtomicU32::new(0);
    fuzz("rule-expression parser", condition(), |when| {
        let rule = Condition {
            segment: "Picked",
            when: &when,
            origin: "[[rules.custom]] rule 1 'Picked'".into(),
        };
        match conditions::first_match(&frame, &[rule], "Rest") {
            Ok(segments) => {
                evaluated.fetch_add(1, Ordering::Relaxed);
                prop_assert_eq!(segments.len(), frame.height());
                prop_assert!(segments.iter().all(|s| s == "Picked" || s == "Rest"));
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
        Ok(())
    });
    require_share("rule-expression parser", &evaluated, 0.15);
}
