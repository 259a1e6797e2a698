//! The demo report opened in headless Chromium through chromedriver (WebDriver): it loads from
//! file:// without a single network request, every chart decodes, the console stays clean, the
//! segment cards and charts are there, and it needs no JavaScript. A full-page screenshot is
//! kept beside the report (`reports/browser-check/demo/<date>/browser-screenshot.png`) as the
//! CI artefact a person looks at.
//!
//! Needs the Debian packages `chromium` and `chromium-driver` (`.ci/run` installs them). Without
//! them the test says so and passes, unless `SEGMENTA_REQUIRE_BROWSER` is set, as CI sets it.
//!
//! In detail: no network request and no console error (the check is first shown to catch both on
//! a page with a remote image), no script, every image decodes at 1600 px or wider, one card per
//! segment and no two cards share a name, and every chart and section is present.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use crate::util;

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// chromedriver on a free local port, killed when dropped.
struct Driver {
    process: Child,
    base: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Driver {
    fn start(program: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new(program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver {
            process,
            base: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while ureq::get(&format!("{}/status", driver.base))
            .call()
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "chromedriver did not answer within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        driver
    }

    fn post(&self, path: &str, body: Value) -> Value {
        let mut response = ureq::post(&format!("{}{path}", self.base))
            .send_json(&body)
            .unwrap_or_else(|e| panic!("WebDriver POST {path}: {e}"));
        let reply: Value = response.body_mut().read_json().unwrap();
        reply["value"].clone()
    }

    fn get(&self, path: &str) -> Value {
        let mut response = ureq::get(&format!("{}{path}", self.base))
            .call()
            .unwrap_or_else(|e| panic!("WebDriver GET {path}: {e}"));
        let reply: Value = response.body_mut().read_json().unwrap();
        reply["value"].clone()
    }
}

struct Session<'d> {
    driver: &'d Driver,
    id: String,
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.driver.base, self.id)).call();
    }
}

impl<'d> Session<'d> {
    fn open(driver: &'d Driver, chromium: &Path) -> Session<'d> {
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--window-size=1400,1000",
                    format!("--user-data-dir={}", profile.keep().display()),
                ],
            },
            // The browser log carries console errors; the performance log every request.
            "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"},
        }}});
        let value = driver.post("/session", capabilities);
        let id = value["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {value}"))
            .to_string();
        Session { driver, id }
    }

    fn command(&self, path: &str, body: Value) -> Value {
        self.driver
            .post(&format!("/session/{}{path}", self.id), body)
    }

    fn script(&self, script: &str) -> Value {
        self.command("/execute/sync", json!({"script": script, "args": []}))
    }

    fn log(&self, kind: &str) -> Vec<Value> {
        self.command("/se/log", json!({"type": kind}))
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn screenshot(&self) -> Vec<u8> {
        let encoded = self.driver.get(&format!("/session/{}/screenshot", self.id));
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap())
            .unwrap()
    }
}

/// URLs of every request the page made, from the performance log's Network events.
fn requested_urls(performance_log: &[Value]) -> Vec<String> {
    performance_log
        .iter()
        .filter_map(|entry| serde_json::from_str::<Value>(entry["message"].as_str()?).ok())
        .filter(|event| event["message"]["method"] == "Network.requestWillBeSent")
        .filter_map(|event| {
            event["message"]["params"]["request"]["url"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

fn run_demo(output: &Path) -> PathBuf {
    let status = util::segmenta_command()
        .args(["demo", "--quiet", "--output"])
        .arg(output)
        .status()
        .unwrap();
    assert!(status.success(), "segmenta demo failed");
    output.join("demo/2026-01-01")
}

/// What a page did when opened: console errors and requests that left the machine.
struct Visit {
    console_errors: Vec<Value>,
    network: Vec<String>,
}

fn visit(session: &Session, page: &Path) -> Visit {
    session.command(
        "/url",
        json!({ "url": format!("file://{}", page.display()) }),
    );
    let console_errors = session
        .log("browser")
        .into_iter()
        .filter(|entry| entry["level"] == "SEVERE")
        .collect();
    let network = requested_urls(&session.log("performance"))
        .into_iter()
        .filter(|url| !url.starts_with("file://") && !url.starts_with("data:"))
        .collect();
    Visit {
        console_errors,
        network,
    }
}

/// The checks themselves must be able to fail: a page with a remote image is caught both as a
/// request and as a console error.
fn check_the_checks(session: &Session) {
    let folder = tempfile::tempdir().unwrap();
    let page = folder.path().join("remote.html");
    std::fs::write(
        &page,
        "<!doctype html><title>t</title><img src=\"http://127.0.0.1:9/chart.png\">",
    )
    .unwrap();
    let visit = visit(session, &page);
    assert!(
        visit.network.iter().any(|url| url.contains("127.0.0.1:9")),
        "the remote image went unnoticed: {:?}",
        visit.network
    );
    assert!(
        !visit.console_errors.is_empty(),
        "the failed load logged no error"
    );
}

#[test]
fn demo_report_loads_offline_in_chromium_with_every_chart_and_card() {
    let (Some(chromium), Some(chromedriver)) = (
        find_program(&["chromium", "chromium-browser", "google-chrome"]),
        find_program(&["chromedriver"]),
    ) else {
        assert!(
            std::env::var_os("SEGMENTA_REQUIRE_BROWSER").is_none(),
            "SEGMENTA_REQUIRE_BROWSER is set but chromium or chromedriver is not on PATH"
        );
        eprintln!("skipped: install the Debian packages chromium and chromium-driver");
        return;
    };
    let output = util::repo("reports/browser-check");
    let _ = std::fs::remove_dir_all(&output);
    let report = run_demo(&output);
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();
    let k = summary["kmeans"]["k"].as_u64().unwrap();

    let driver = Driver::start(&chromedriver);
    let session = Session::open(&driver, &chromium);
    check_the_checks(&session);

    let visit = visit(&session, &report.join("index.html"));
    assert!(
        visit.console_errors.is_empty(),
        "console errors: {:?}",
        visit.console_errors
    );
    assert!(
        visit.network.is_empty(),
        "the page fetched: {:?}",
        visit.network
    );
    let state = session.script(
        "return {
            scripts: document.scripts.length,
            cards: document.querySelectorAll('.card').length,
            cardTitles: Array.from(document.querySelectorAll('.card h3')).map(h => h.textContent),
            images: Array.from(document.images).map(i => ({
                alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight})),
            headings: Array.from(document.querySelectorAll('h2')).map(h => h.textContent),
            height: document.documentElement.scrollHeight,
        };",
    );
    check_page(&state, k);

    // The window's height includes its frame: grow it until the viewport holds the whole page.
    let height = state["height"].as_u64().unwrap();
    let frame = session
        .script("return window.outerHeight - window.innerHeight;")
        .as_u64()
        .unwrap_or(0);
    session.command(
        "/window/rect",
        json!({"width": 1400, "height": height + frame}),
    );
    let png = session.screenshot();
    let shot = image::load_from_memory(&png).unwrap();
    assert!(
        shot.width() >= 1200 && u64::from(shot.height()) >= height,
        "screenshot {}×{} of a page {height} px high",
        shot.width(),
        shot.height()
    );
    std::fs::write(report.join("browser-screenshot.png"), png).unwrap();
}

fn check_page(state: &Value, k: u64) {
    assert_eq!(state["scripts"], 0, "the report needs no JavaScript");
    assert_eq!(
        state["cards"].as_u64(),
        Some(k),
        "one card per k-means segment"
    );
    let titles: Vec<&str> = state["cardTitles"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut distinct = titles.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        titles.len(),
        "card titles repeat: {titles:?}"
    );

    let images = state["images"].as_array().unwrap();
    let alts: Vec<&str> = images.iter().filter_map(|i| i["alt"].as_str()).collect();
    for chart in [
        "Segment sizes and revenue",
        "Customers on the first two principal components",
        "Segment profiles",
        "Segments against the classic RFM groups",
        "The R×F grid",
        "Recency, frequency and spend per segment",
        "Choosing k",
        "Gaussian mixture: choosing k",
        "DBSCAN k-distance curve",
    ] {
        assert!(
            alts.contains(&chart),
            "chart {chart:?} missing; found {alts:?}"
        );
    }
    for image in images {
        assert_eq!(image["complete"], true, "not loaded: {image}");
        assert!(
            image["width"].as_u64().unwrap() >= 1600,
            "did not decode at full size: {image}"
        );
    }
    let headings = state["headings"].as_array().unwrap();
    for heading in ["Discovered segments", "Outliers", "Data quality"] {
        assert!(
            headings
                .iter()
                .any(|h| h.as_str().unwrap().starts_with(heading)),
            "section {heading:?} missing in {headings:?}"
        );
    }
}
