//! Values from the data never become markup or spreadsheet formulas: a customer id holding a
//! `<script>` element with quotes, and a category holding an attribute break-out, appear escaped
//! in index.html; ids starting with `=` get a leading apostrophe in the CSV exports.
//!
//! The script id (`<script>alert("x")</script>`) belongs to a big spender, so it appears in the
//! page's outlier table; the category is `"><img src=x onerror=…>`.

use crate::util::{self, client_log_job, workdir};

const SCRIPT_ID: &str = r#"<script>alert("x")</script>"#;
const HOSTILE_CATEGORY: &str = r#""><img src=x onerror=alert(1)>"#;

/// 60 ordinary customers, one big spender whose id is a script (DBSCAN calls it an outlier, so
/// the report's outlier table shows its id) and one whose id is a formula.
fn transactions() -> String {
    let mut csv = String::from("client,when,value,category\n");
    for c in 0..60 {
        for o in 0..(1 + c % 4) {
            let category = if c % 3 == 0 {
                "books"
            } else {
                HOSTILE_CATEGORY
            };
            csv += &format!(
                "K{c:03},2024-0{}-{:02},{}.50,\"{}\"\n",
                1 + (c + o) % 6,
                1 + (3 * c + 5 * o) % 28,
                10 + 7 * (c % 9) + 3 * o,
                category.replace('"', "\"\"")
            );
        }
    }
    for day in 1..=20 {
        csv += &format!(
            "\"{}\",2024-06-{day:02},90000.00,books\n",
            SCRIPT_ID.replace('"', "\"\"")
        );
    }
    csv += "=HYPERLINK(\"x\"),2024-02-02,12.00,books\n";
    csv
}

#[test]
fn data_values_are_escaped_in_the_page_and_neutralised_in_the_csv() {
    let dir = workdir(&[("tx.csv", &transactions())]);
    let job = util::write_job(
        dir.path(),
        &client_log_job(
            "escaping",
            "category = \"category\"\n[discovery]\nk_range = [2, 4]\ndbscan = true\n",
        ),
    );
    let (result, folder) = segmenta::run(&job, &util::options(&dir.path().join("out"))).unwrap();
    assert!(result
        .features
        .customer_ids
        .iter()
        .any(|id| id == SCRIPT_ID));

    let html = std::fs::read_to_string(folder.join("index.html")).unwrap();
    assert!(
        !html.contains("<script"),
        "a raw script element in the page"
    );
    // The page's own charts are <img src="data:…">; the category's element must not appear.
    assert!(
        !html.contains("<img src=x") && !html.contains("onerror=alert"),
        "a raw img element from the data in the page"
    );
    assert!(
        html.contains("&lt;script&gt;alert(&quot;x&quot;)"),
        "the script id is shown, escaped, in the outlier table"
    );

    let assignments = std::fs::read_to_string(folder.join("assignments.csv")).unwrap();
    assert!(
        assignments.contains("'=HYPERLINK"),
        "formula id not neutralised"
    );
    assert!(!assignments.lines().any(|l| l.starts_with("=HYPERLINK")));
}
