//! `ccc validate --table NAME=PATH`: a suite about a table that is not ccc's (sales, in
//! `tests/tables/`) run on the same records as CSV, JSON, NDJSON, Parquet and
//! Hive-partitioned folders gives the same results, with each unexpected row located
//! in its own file; bad bindings and unreadable tables get their exit codes.

mod support;

use std::path::{Path, PathBuf};

use arrow2::datatypes::DataType;
use serde_json::Value;
use support::sources::{write_csv, write_json, write_ndjson, write_parquet_typed, Record};
use support::{path_str, run_ccc, stderr};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/tables")
        .join(name)
}

fn records() -> Vec<Record> {
    let text = std::fs::read_to_string(fixture("sales.json")).expect("the fixture");
    serde_json::from_str(&text).expect("records")
}

fn parquet_types() -> Vec<(String, DataType)> {
    [
        ("id", DataType::Int64),
        ("store", DataType::Utf8),
        ("price", DataType::Float64),
        ("sold_on", DataType::Date32),
        ("paid", DataType::Boolean),
        ("at", ccc_ingest::FieldType::Timestamp.data_type()),
    ]
    .map(|(n, t)| (n.to_string(), t))
    .to_vec()
}

/// Writes the records as `format` at `path` (a file).
fn write(format: &str, records: &[Record], path: &Path) {
    match format {
        "csv" => write_csv(records, path),
        "json" => write_json(records, path),
        "ndjson" => write_ndjson(records, path),
        "parquet" => write_parquet_typed(records, &parquet_types(), path),
        other => panic!("no format {other}"),
    }
    .expect("written");
}

/// Writes the records under `dir` partitioned by `sold_on`: `sold_on=DAY/part-0.FORMAT`,
/// without the column in the files, as Spark writes them.
fn write_partitioned(format: &str, records: &[Record], dir: &Path) {
    let mut days: Vec<String> = records
        .iter()
        .map(|r| {
            r.get("sold_on")
                .and_then(Value::as_str)
                .unwrap()
                .to_string()
        })
        .collect();
    days.dedup();
    for day in days {
        let folder = dir.join(format!("sold_on={day}"));
        std::fs::create_dir_all(&folder).unwrap();
        let rows: Vec<Record> = records
            .iter()
            .filter(|r| r.get("sold_on").and_then(Value::as_str) == Some(day.as_str()))
            .map(|r| {
                Record(
                    r.0.iter()
                        .filter(|(k, _)| k != "sold_on")
                        .cloned()
                        .collect(),
                )
            })
            .collect();
        write(format, &rows, &folder.join(format!("part-0.{format}")));
    }
    std::fs::write(dir.join("_SUCCESS"), "").unwrap();
}

/// Runs the sales suite on `path`; gives the exit code and the JSON report.
fn validate(path: &Path, dir: &Path) -> (i32, Value) {
    let report = dir.join("report.json");
    let suite = fixture("sales.yaml");
    let binding = format!("sales={}", path_str(path));
    let out = run_ccc(&[
        "validate",
        "--suite",
        path_str(&suite),
        "--table",
        &binding,
        "--report",
        "json",
        "--report-file",
        path_str(&report),
    ]);
    let text = std::fs::read_to_string(&report).unwrap_or_else(|_| panic!("{}", stderr(&out)));
    (
        out.status.code().unwrap(),
        serde_json::from_str(&text).unwrap(),
    )
}

/// One line per expectation: verdict, id, unexpected count, then each example's value
/// and, with `located`, its file and record.
fn summary(report: &Value, located: bool) -> Vec<String> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let verdict = if r["success"] == Value::Bool(true) {
                "pass"
            } else {
                "FAIL"
            };
            let examples: Vec<String> = r["partial_unexpected"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|u| {
                    let value = match &u["value"] {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    let at = &u["location"];
                    if located {
                        format!(
                            "{value} @ {} record {}",
                            at["file"].as_str().unwrap(),
                            at["record"]
                        )
                    } else {
                        value
                    }
                })
                .collect();
            format!(
                "{verdict} {} {}: {}",
                r["id"].as_str().unwrap(),
                r["unexpected_count"],
                examples.join(", ")
            )
            .trim_end()
            .to_string()
        })
        .collect()
}

#[test]
fn every_format_gives_the_same_results_located_in_its_own_file() {
    let records = records();
    let golden = std::fs::read_to_string(fixture("sales.expected")).unwrap();
    let want: Vec<&str> = golden.lines().filter(|l| !l.starts_with('#')).collect();
    for format in ["csv", "json", "ndjson", "parquet"] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(format!("sales.{format}"));
        write(format, &records, &file);
        let (code, report) = validate(&file, dir.path());
        assert_eq!(code, 1, "{format}: failed expectations exit 1");
        let got = summary(&report, true)
            .into_iter()
            .map(|line| line.replace(&format!("sales.{format}"), "FILE"))
            .collect::<Vec<_>>();
        assert_eq!(got, want, "{format}");
    }
}

#[test]
fn hive_partitioned_folders_give_the_same_results_with_partition_values_as_columns() {
    let records = records();
    let flat = tempfile::tempdir().unwrap();
    let file = flat.path().join("sales.csv");
    write("csv", &records, &file);
    let (_, flat_report) = validate(&file, flat.path());
    for format in ["parquet", "csv", "ndjson"] {
        let dir = tempfile::tempdir().unwrap();
        let table = dir.path().join("sales");
        write_partitioned(format, &records, &table);
        let (code, report) = validate(&table, dir.path());
        assert_eq!(code, 1, "{format}");
        assert_eq!(
            summary(&report, false),
            summary(&flat_report, false),
            "{format}"
        );
        // The date partition is a typed column: its range check saw the one day past it.
        let sold_on = report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "sold-on-between")
            .unwrap();
        let at = &sold_on["partial_unexpected"][0]["location"];
        assert_eq!(at["file"], format!("sold_on=2024-01-05/part-0.{format}"));
        assert_eq!(at["record"], 1);
    }
}

#[test]
fn bindings_must_match_the_suites_tables() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sales.csv");
    write("csv", &records(), &file);
    let suite = fixture("sales.yaml");
    let suite = path_str(&suite);
    let binding = format!("sales={}", path_str(&file));
    let other = format!("stores={}", path_str(&file));

    let out = run_ccc(&[
        "validate", "--suite", suite, "--table", &binding, "--table", &other,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("has no table stores (its tables: sales)"),
        "{}",
        stderr(&out)
    );

    let out = run_ccc(&[
        "validate", "--suite", suite, "--table", &binding, "--table", &binding,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--table sales is given twice"),
        "{}",
        stderr(&out)
    );

    let out = run_ccc(&["validate", "--suite", suite, "--table", "sales"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not NAME=PATH"),
        "{}",
        stderr(&out)
    );

    let out = run_ccc(&[
        "validate",
        "--suite",
        suite,
        "--table",
        &binding,
        "--source",
        "data/source",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("give --table, or --source or --data, not both"));
}

#[test]
fn unreadable_tables_are_input_errors_that_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let suite = fixture("sales.yaml");
    let run = |path: &Path| {
        let binding = format!("sales={}", path_str(path));
        run_ccc(&["validate", "--suite", path_str(&suite), "--table", &binding])
    };

    let missing = dir.path().join("nowhere");
    let out = run(&missing);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains(&format!("cannot read {}", missing.display())),
        "{}",
        stderr(&out)
    );

    let folder = dir.path().join("sales");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("a.csv"), "id,price\n1,2\n3\n").unwrap();
    let out = run(&folder);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.contains("a.csv:3: invalid CSV in record 2"), "{err}");

    std::fs::write(folder.join("a.csv"), "id,price\n1,2\n").unwrap();
    std::fs::write(folder.join("notes.txt"), "not data").unwrap();
    let out = run(&folder);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("notes.txt: not a data file"),
        "{}",
        stderr(&out)
    );
}
