//! `--history DIR`: each run of a suite records its metrics in the store, and the history
//! expectations compare the next runs with them. Three runs with growing row counts pass
//! (the first with a note, as it has no history yet), a fourth with a drop fails with the
//! values it was compared with in its result; freshness passes at its boundary and fails
//! one second past it; `ccc run` records both suites; a foreign file in the store is an
//! input error naming it.

mod support;

use std::path::Path;

use serde_json::{json, Value};
use support::{path_str, run_ccc, stderr, write_small_sources};

const SUITE: &str = r#"
suite: sales_history
tables:
  sales:
    columns: {amount: integer, sold_at: timestamp}
    expectations:
      - id: rows-near-recent
        expectation: expect_table_row_count_to_be_within_percent_of_history
        percent: 20
        last_runs: 3
      - id: amount-sum-steady
        expectation: expect_metric_to_be_within_stdevs_of_history
        metric: sum
        column: amount
        stdevs: 3
        min_runs: 2
      - id: fresh
        expectation: expect_column_newest_value_to_be_within_age
        column: sold_at
        max_age: 2h
"#;

/// `rows` sales of amount 10, the newest sold at `newest`.
fn write_sales(path: &Path, rows: usize, newest: &str) {
    let mut text = String::from("id,amount,sold_at\n");
    for i in 0..rows {
        let at = if i + 1 == rows {
            newest
        } else {
            "2026-12-01T00:00:00Z"
        };
        text.push_str(&format!("{i},10,{at}\n"));
    }
    std::fs::write(path, text).expect("sales written");
}

/// `ccc validate` of the suite on `sales.csv` at `run_time`: its exit code and JSON report.
fn validate(dir: &Path, run_time: &str) -> (i32, Value) {
    let report = dir.join("report.json");
    let out = run_ccc(&[
        "validate",
        "--suite",
        path_str(&dir.join("suite.yaml")),
        "--table",
        &format!("sales={}", path_str(&dir.join("sales.csv"))),
        "--history",
        path_str(&dir.join("history")),
        "--run-time",
        run_time,
        "--report",
        "json",
        "--report-file",
        path_str(&report),
        "-q",
    ]);
    let code = out.status.code().expect("an exit code");
    assert!(code <= 1, "{}", stderr(&out));
    let text = std::fs::read_to_string(&report).expect("the report");
    (code, serde_json::from_str(&text).expect("JSON"))
}

fn result<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["results"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["id"] == id))
        .unwrap_or_else(|| panic!("no result {id}"))
}

fn history_values(result: &Value) -> Vec<f64> {
    result["observed_value"]["history"]
        .as_array()
        .expect("history values")
        .iter()
        .map(|h| h["value"].as_f64().expect("a value"))
        .collect()
}

#[test]
fn a_drop_after_three_growing_runs_fails_with_the_history_it_was_compared_with() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("suite.yaml"), SUITE).unwrap();
    let runs = [(100, "01"), (110, "02"), (120, "03")];
    for (i, (rows, hour)) in runs.iter().enumerate() {
        write_sales(
            &dir.path().join("sales.csv"),
            *rows,
            &format!("2026-12-04T{hour}:00:00Z"),
        );
        let (code, report) = validate(dir.path(), &format!("2026-12-04T{hour}:00:00Z"));
        assert_eq!(code, 0, "run {i}: {report}");
        let rows_check = result(&report, "rows-near-recent");
        assert_eq!(rows_check["observed_value"]["value"], json!(*rows as f64));
        if i == 0 {
            assert_eq!(
                rows_check["skipped"],
                json!(
                    "the history has 0 earlier runs with the row_count of table sales; 1 is needed"
                )
            );
        } else {
            assert!(rows_check["skipped"].is_null(), "{rows_check}");
        }
    }
    // The sum's history needed two runs: the second run noted it, the third compared.
    let files = std::fs::read_dir(dir.path().join("history"))
        .unwrap()
        .count();
    assert_eq!(files, 3, "one file per run");

    write_sales(&dir.path().join("sales.csv"), 60, "2026-12-04T04:00:00Z");
    let (code, report) = validate(dir.path(), "2026-12-04T04:00:00Z");
    assert_eq!(code, 1);
    let rows_check = result(&report, "rows-near-recent");
    assert_eq!(rows_check["success"], json!(false));
    assert_eq!(history_values(rows_check), [100.0, 110.0, 120.0]);
    let observed = &rows_check["observed_value"];
    assert_eq!(
        (
            &observed["value"],
            &observed["mean"],
            &observed["low"],
            &observed["high"]
        ),
        (&json!(60.0), &json!(110.0), &json!(88.0), &json!(132.0))
    );
    assert_eq!(
        observed["history"][0]["run_time"],
        json!("2026-12-04T01:00:00Z")
    );
    // The sum moved with the rows: 600 against 1000, 1100, 1200 (σ 100).
    let sum_check = result(&report, "amount-sum-steady");
    assert_eq!(sum_check["success"], json!(false));
    assert_eq!(history_values(sum_check), [1000.0, 1100.0, 1200.0]);
    assert_eq!(sum_check["observed_value"]["stdev"], json!(100.0));

    // The failed run is history too: a fifth run at 60 rows compares with 110, 120, 60.
    let (_, report) = validate(dir.path(), "2026-12-04T05:00:00Z");
    let rows_check = result(&report, "rows-near-recent");
    assert_eq!(history_values(rows_check), [110.0, 120.0, 60.0]);
}

#[test]
fn freshness_passes_at_its_boundary_and_fails_a_second_past_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("suite.yaml"), SUITE).unwrap();
    write_sales(&dir.path().join("sales.csv"), 5, "2026-12-04T04:00:00Z");
    let (code, report) = validate(dir.path(), "2026-12-04T06:00:00Z");
    assert_eq!(code, 0, "{report}");
    let fresh = result(&report, "fresh");
    assert_eq!(fresh["success"], json!(true));
    assert_eq!(fresh["observed_value"]["age_seconds"], json!(7200.0));
    assert_eq!(
        fresh["observed_value"]["newest"],
        json!("2026-12-04T04:00:00Z")
    );

    let (code, report) = validate(dir.path(), "2026-12-04T06:00:01Z");
    assert_eq!(code, 1);
    let fresh = result(&report, "fresh");
    assert_eq!(fresh["success"], json!(false));
    assert_eq!(fresh["observed_value"]["age_seconds"], json!(7201.0));
}

#[test]
fn a_run_records_both_suites_and_their_row_counts() {
    let dir = tempfile::tempdir().unwrap();
    let (source, out, history) = (
        dir.path().join("source"),
        dir.path().join("out"),
        dir.path().join("history"),
    );
    write_small_sources(&source);
    let done = run_ccc(&[
        "run",
        "-q",
        "--source",
        path_str(&source),
        "--out",
        path_str(&out),
        "--history",
        path_str(&history),
    ]);
    assert!(done.status.success(), "{}", stderr(&done));
    let mut files: Vec<String> = std::fs::read_dir(&history)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files
        .iter()
        .all(|f| f.starts_with("run-") && f.ends_with(".parquet")));
    // The store is a table: `ccc validate --table` reads it like any other.
    let suite = dir.path().join("history.yaml");
    std::fs::write(
        &suite,
        "suite: of_history\ntables:\n  history:\n    expectations:\n      - {id: both, expectation: expect_column_distinct_values_to_equal_set, column: suite, value_set: [source, output]}\n      - {id: rows, expectation: expect_column_values_to_not_be_null, column: value}\n",
    )
    .unwrap();
    let checked = run_ccc(&[
        "validate",
        "--suite",
        path_str(&suite),
        "--table",
        &format!("history={}", path_str(&history)),
        "-q",
    ]);
    assert!(checked.status.success(), "{}", support::stdout(&checked));
}

#[test]
fn a_foreign_file_in_the_store_is_an_input_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("suite.yaml"), SUITE).unwrap();
    write_sales(&dir.path().join("sales.csv"), 5, "2026-12-04T04:00:00Z");
    let history = dir.path().join("history");
    std::fs::create_dir_all(&history).unwrap();
    std::fs::write(history.join("notes.parquet"), b"not parquet").unwrap();
    let out = run_ccc(&[
        "validate",
        "--suite",
        path_str(&dir.path().join("suite.yaml")),
        "--table",
        &format!("sales={}", path_str(&dir.path().join("sales.csv"))),
        "--history",
        path_str(&history),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("notes.parquet"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_dir(&history).unwrap().count(),
        1,
        "nothing appended"
    );
}
