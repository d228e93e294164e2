//! `--report html`: one self-contained page (no script, nothing fetched) with a row per
//! expectation, failures first, a bounded number of examples and bins however large the
//! data, and every value from the data escaped. (That the page is valid HTML, renders,
//! and shows the JSON report's figures is tested with the W3C validator and Chromium in
//! `tests/interop/test_html_report.py`.)

mod support;

use std::path::Path;

use serde_json::Value;
use support::{path_str, run_ccc, stderr};

const SUITE: &str = r#"
suite: notes
tables:
  notes:
    columns: {n: integer}
    expectations:
      - id: text-short
        expectation: expect_column_value_lengths_to_be_between
        column: text
        max_value: 5
      - id: n-known
        expectation: expect_column_values_to_be_in_set
        column: n
        value_set: [1, 2, 3]
        severity: warn
      - id: rows
        expectation: expect_table_row_count_to_be_between
        min_value: 1
"#;

fn validate_html(dir: &Path, rows: usize) -> (String, Value) {
    let mut csv = String::from("n,text\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "{},\"<script>alert({i})</script> & 'x'\"\n",
            i % 7
        ));
    }
    std::fs::write(dir.join("notes.csv"), csv).unwrap();
    std::fs::write(dir.join("suite.yaml"), SUITE).unwrap();
    let (html, json) = (dir.join("r.html"), dir.join("r.json"));
    let out = run_ccc(&[
        "validate",
        "--suite",
        path_str(&dir.join("suite.yaml")),
        "--table",
        &format!("notes={}", path_str(&dir.join("notes.csv"))),
        "--report",
        "html",
        "--report-file",
        path_str(&html),
        "--report",
        "json",
        "--report-file",
        path_str(&json),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    (std::fs::read_to_string(html).unwrap(), report)
}

#[test]
fn the_page_is_self_contained_failures_first_and_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let (page, report) = validate_html(dir.path(), 50);
    assert!(page.starts_with("<!DOCTYPE html>"));
    for foreign in [
        "<script", "http://", "https://", " src=", "<link", "@import",
    ] {
        assert!(!page.contains(foreign), "the page holds {foreign}");
    }
    assert!(page.contains("&lt;script&gt;alert(0)&lt;/script&gt; &amp; &#39;x&#39;"));
    // Rows in order: the failed error, the failed warning, the pass.
    let ids: Vec<&str> = page
        .split("<tr class=\"expectation ")
        .skip(1)
        .map(|row| {
            row.split("data-id=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(ids, ["text-short", "n-known", "rows"]);
    assert!(page.contains("<tr class=\"expectation fail\" data-id=\"text-short\""));
    assert!(page.contains("<tr class=\"expectation warn\" data-id=\"n-known\""));
    // Examples are located: file and line.
    assert!(page.contains("notes.csv"), "locations shown");
    // The JSON report of the same run carries the profile the page shows.
    let profile = &report["profile"][0];
    assert_eq!(profile["table"], "notes");
    assert_eq!(profile["row_count"], 50);
    let n = &profile["columns"][0];
    assert_eq!(
        (&n["column"], &n["distinct_count"]),
        (&Value::from("n"), &Value::from(7))
    );
    assert_eq!(n["histogram"]["counts"].as_array().unwrap().len(), 7);
}

#[test]
fn the_page_stays_small_however_many_rows_fail() {
    let dir = tempfile::tempdir().unwrap();
    let (small, _) = validate_html(dir.path(), 100);
    let (large, report) = validate_html(dir.path(), 20_000);
    assert_eq!(report["results"][0]["unexpected_count"], 20_000);
    assert!(
        large.matches("<li>").count() <= 2 * 5,
        "at most 5 examples a row"
    );
    assert!(
        large.matches("<title>").count() <= 1 + 20 * 2,
        "at most 20 bins a column"
    );
    // Only the counts' digits grow.
    assert!(
        large.len() < small.len() + 200,
        "{} vs {}",
        large.len(),
        small.len()
    );
}
