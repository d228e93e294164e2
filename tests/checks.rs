//! The data-quality suites end to end: `ccc validate` and the checks inside `ccc run`
//! (enforce, warn, off), exact unexpected counts on generated dirty data, located errors
//! for bad suites, and the JSON, JUnit and Markdown reports.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::*;

fn generate(out: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["generate", "--out", path_str(out)];
    args.extend_from_slice(extra);
    let result = run_ccc(&args);
    assert!(result.status.success(), "{}", stderr(&result));
    serde_json::from_str(&fs::read_to_string(out.join("_generated.json")).unwrap()).unwrap()
}

fn validate(args: &[&str]) -> std::process::Output {
    let exp = expectations_dir();
    let mut all = vec!["validate", "--expectations", path_str(&exp)];
    all.extend_from_slice(args);
    run_ccc(&all)
}

fn run_checked(source: &Path, out: &Path, mode: &str, extra: &[&str]) -> std::process::Output {
    let exp = expectations_dir();
    let mut args = vec![
        "run",
        "--quiet",
        "--checks",
        mode,
        "--expectations",
        path_str(&exp),
        "--source",
        path_str(source),
        "--out",
        path_str(out),
    ];
    args.extend_from_slice(extra);
    run_ccc(&args)
}

#[test]
fn clean_generated_data_passes_every_expectation_in_both_suites() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, out) = (tmp.path().join("src"), tmp.path().join("out"));
    generate(
        &src,
        &["--orders", "800", "--format", "ndjson", "--files", "3"],
    );
    let report = tmp.path().join("source.json");
    let result = validate(&[
        "--suite",
        "source",
        "--source",
        path_str(&src),
        "--report",
        "json",
        "--report-file",
        path_str(&report),
    ]);
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stdout)
    );
    let json: Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["success"], true);
    let results = json["results"].as_array().unwrap();
    assert!(
        results.len() >= 33,
        "every seed row of the source tables is an expectation"
    );
    for r in results {
        assert_eq!(r["success"], true, "{r}");
    }

    let run = run_checked(&src, &out, "enforce", &[]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let run_report: Value =
        serde_json::from_str(&fs::read_to_string(out.join("_run.json")).unwrap()).unwrap();
    assert_eq!(run_report["checks"]["mode"], "enforce");
    assert_eq!(run_report["checks"]["source"]["success"], true);
    assert_eq!(run_report["checks"]["output"]["success"], true);
    let reconcile = run_report["checks"]["output"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "output-messages-reconcile")
        .expect("the reconciliation ran");
    assert_eq!(reconcile["success"], true);

    // The output suite alone on the published folder, as an orchestrator task would run it.
    let result = validate(&["--suite", "output", "--data", path_str(&out)]);
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stdout)
    );
    assert!(String::from_utf8_lossy(&result.stdout).contains("PASSED"));
}

/// Which injected kinds (from `_generated.json`) each expectation type catches, for JSON
/// sources: docs/expectations.md explains why.
fn kinds_caught(expectation: &str, type_: Option<&str>) -> Option<&'static [&'static str]> {
    Some(match (expectation, type_) {
        ("expect_column_values_to_not_be_null", _) => &["null"],
        ("expect_column_value_lengths_to_be_between", _) => &["empty"],
        ("expect_column_values_to_be_of_type", Some("timestamp")) => {
            &["wrong_type", "bad_timestamp"]
        }
        ("expect_column_values_to_be_of_type", _) => &["wrong_type"],
        ("expect_column_values_to_be_in_set", _) => &["unknown_value", "empty"],
        _ => return None,
    })
}

#[test]
fn dirty_data_unexpected_counts_equal_the_injected_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let manifest = generate(
        &src,
        &[
            "--orders", "3000", "--dirty", "0.05", "--format", "json", "--seed", "11",
        ],
    );
    let report = tmp.path().join("source.json");
    let result = validate(&[
        "--suite",
        "source",
        "--source",
        path_str(&src),
        "--report",
        "json",
        "--report-file",
        path_str(&report),
    ]);
    assert_eq!(
        result.status.code(),
        Some(1),
        "error-severity failures exit 1"
    );
    let json: Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    let fields = &manifest["injected"]["fields"];
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for r in json["results"].as_array().unwrap() {
        let (Some(column), Some(table)) = (r["column"].as_str(), r["table"].as_str()) else {
            continue;
        };
        let expectation = r["expectation"].as_str().unwrap();
        let type_ = r["id"]
            .as_str()
            .filter(|id| id.ends_with("-timestamp"))
            .map(|_| "timestamp");
        let Some(kinds) = kinds_caught(expectation, type_) else {
            continue;
        };
        let injected = &fields[format!("{table}.{column}")];
        let expected: u64 = kinds
            .iter()
            .map(|k| injected[*k].as_u64().unwrap_or(0))
            .sum();
        let actual = r["unexpected_count"].as_u64().unwrap();
        if expected != actual {
            mismatches.push(format!(
                "{}: expected {expected} ({kinds:?}), got {actual}",
                r["id"]
            ));
        }
        checked += 1;
    }
    assert!(
        mismatches.is_empty(),
        "unexpected counts differ from the injected ones:\n{}",
        mismatches.join("\n")
    );
    assert!(checked >= 34, "checked {checked} expectations");
}

#[test]
fn failed_rows_are_exactly_the_injected_bad_records() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let manifest = generate(
        &src,
        &[
            "--orders", "3000", "--dirty", "0.05", "--format", "json", "--seed", "11",
        ],
    );
    let (failed, report) = (tmp.path().join("failed"), tmp.path().join("source.json"));
    let result = validate(&[
        "--suite",
        "source",
        "--source",
        path_str(&src),
        "--failed-rows",
        path_str(&failed),
        "--failed-rows-csv",
        "--report",
        "json",
        "--report-file",
        path_str(&report),
    ]);
    assert_eq!(result.status.code(), Some(1));
    let (columns, rows) =
        support::output::read_parquet_table(&failed.join("failed_rows.parquet")).unwrap();
    assert_eq!(
        columns,
        [
            "suite",
            "expectation_id",
            "expectation",
            "table",
            "column",
            "value",
            "file",
            "record",
            "line"
        ]
    );
    let mut csv = ::csv::Reader::from_path(failed.join("failed_rows.csv")).unwrap();
    let csv_rows: Vec<Vec<String>> = csv
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(csv_rows, rows, "the CSV holds the Parquet file's rows");
    let json: Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    for r in json["results"].as_array().unwrap() {
        let written = rows
            .iter()
            .filter(|row| row[1] == r["id"].as_str().unwrap())
            .count() as u64;
        if r["success"] == false {
            assert_eq!(
                written,
                r["unexpected_count"].as_u64().unwrap(),
                "every row of {}",
                r["id"]
            );
        }
        assert!(
            r.get("unexpected_list").is_none(),
            "the report keeps SUMMARY"
        );
    }
    // Field checks: what they wrote is, by file, record and column, what was injected
    // into the columns the suite checks. (Orphaned messages are a consequence of dirty
    // orders, not injected records.)
    let field_rows: BTreeSet<(String, u64, String)> = rows
        .iter()
        .filter(|row| row[2] != "expect_column_values_to_be_in_other_table")
        .map(|row| (row[6].clone(), row[7].parse().unwrap(), row[4].clone()))
        .collect();
    let checked: BTreeSet<&str> = field_rows.iter().map(|(_, _, c)| c.as_str()).collect();
    let injected: BTreeSet<(String, u64, String)> = manifest["injected"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| checked.contains(r["column"].as_str().unwrap()))
        .map(|r| {
            (
                r["file"].as_str().unwrap().to_string(),
                r["record"].as_u64().unwrap(),
                r["column"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(field_rows, injected);
    assert!(
        injected.len() > 900,
        "{} injected records checked",
        injected.len()
    );
}

#[test]
fn enforce_stops_before_publishing_and_warn_publishes_with_tagged_quarantine() {
    let tmp = tempfile::tempdir().unwrap();
    let (good, dirty, out) = (
        tmp.path().join("good"),
        tmp.path().join("dirty"),
        tmp.path().join("out"),
    );
    generate(&good, &["--orders", "200"]);
    generate(
        &dirty,
        &["--orders", "400", "--dirty", "0.05", "--seed", "3"],
    );
    assert!(run_checked(&good, &out, "enforce", &[]).status.success());
    let before = snapshot(&out);

    let enforced = run_checked(&dirty, &out, "enforce", &[]);
    assert_eq!(enforced.status.code(), Some(1), "{}", stderr(&enforced));
    assert!(stderr(&enforced)
        .contains("the source suite failed with --checks enforce: nothing was published"));
    assert!(stderr(&enforced).contains("suite source:") && stderr(&enforced).contains("FAILED"));
    assert_eq!(snapshot(&out), before, "the previous output stays");

    let warned = run_checked(&dirty, &out, "warn", &[]);
    assert_eq!(warned.status.code(), Some(0), "{}", stderr(&warned));
    let report: Value =
        serde_json::from_str(&fs::read_to_string(out.join("_run.json")).unwrap()).unwrap();
    assert_eq!(report["checks"]["mode"], "warn");
    assert_eq!(report["checks"]["source"]["success"], false);
    assert_eq!(report["reconciled"], true);
    let quarantine =
        fs::read_to_string(out.join("quarantine/customer_courier_chat_messages.csv")).unwrap();
    assert!(
        quarantine.contains("orderId is null [expectations: messages-orderId-not-null]"),
        "quarantined rows name the expectations they broke:\n{}",
        &quarantine[..quarantine.len().min(2000)]
    );

    let off = run_checked(&dirty, &out, "off", &[]);
    assert_eq!(off.status.code(), Some(0));
    let report: Value =
        serde_json::from_str(&fs::read_to_string(out.join("_run.json")).unwrap()).unwrap();
    assert_eq!(report["checks"]["source"], Value::Null);
}

fn write_suite(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("suite.yaml");
    fs::write(&path, text).unwrap();
    path
}

fn assert_suite_error(text: &str, needles: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let suite = write_suite(tmp.path(), text);
    let result = validate(&["--suite", path_str(&suite), "--source", "../../data/source"]);
    let err = stderr(&result);
    assert_eq!(result.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "expected {needle:?} in:\n{err}");
    }
}

const HEAD: &str = "suite: t\ntables:\n  orders:\n    expectations:\n";

#[test]
fn typo_in_expectation_name_is_located_with_a_suggestion() {
    assert_suite_error(
        &format!("{HEAD}      - id: a\n        expectation: expect_column_values_to_not_be_nul\n        column: orderId\n"),
        &["suite.yaml:6:22", "did you mean `expect_column_values_to_not_be_null`", "6 │"],
    );
}

#[test]
fn a_string_where_a_number_belongs_is_located() {
    assert_suite_error(
        &format!(
            "{HEAD}      - id: a\n        expectation: expect_table_row_count_to_be_between\n        min_value: many\n"
        ),
        &["suite.yaml:7:20", "min_value"],
    );
}

#[test]
fn a_column_missing_from_the_data_is_located() {
    assert_suite_error(
        &format!("{HEAD}      - id: a\n        expectation: expect_column_values_to_not_be_null\n        column: cityKode\n"),
        &["suite.yaml:7", "no column `cityKode`", "cityCode"],
    );
}

#[test]
fn invalid_yaml_is_located() {
    assert_suite_error(
        &format!("{HEAD}      - id: a\n        expectation: [unclosed\n"),
        &["suite.yaml:", "invalid yaml"],
    );
}

#[test]
fn not_in_set_and_not_match_regex_find_every_offending_row() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_small_sources(&src);
    let suite = write_suite(
        tmp.path(),
        &[
            "suite: t\ntables:\n  customer_courier_chat_messages:\n    expectations:",
            "      - {id: no-picked-up, expectation: expect_column_values_to_not_be_in_set, column: orderStage, value_set: [PICKED_UP, LOST]}",
            "      - {id: no-underscore, expectation: expect_column_values_to_not_match_regex, column: orderStage, regex: _}",
            "      - {id: no-underscore-mostly, expectation: expect_column_values_to_not_match_regex, column: orderStage, regex: _, mostly: 0.33}",
            "      - {id: no-robot, expectation: expect_column_values_to_not_be_in_set, column: senderAppType, value_set: [robot]}",
            "      - {id: courier-or-customer, expectation: expect_column_values_to_match_regex_list, column: senderAppType, regex_list: [^Courier, ^Customer]}",
            "      - {id: ios-and-courier, expectation: expect_column_values_to_match_regex_list, column: senderAppType, regex_list: [iOS, Courier], match_on: all}",
            "      - {id: no-android-no-route, expectation: expect_column_values_to_not_match_regex_list, column: senderAppType, regex_list: [Android, Route]}\n",
        ]
        .join("\n"),
    );
    let json = tmp.path().join("r.json");
    let result = validate(&[
        "--suite",
        path_str(&suite),
        "--source",
        path_str(&src),
        "--report",
        "json",
        "--report-file",
        path_str(&json),
    ]);
    assert_eq!(result.status.code(), Some(1), "{}", stderr(&result));
    let report: Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
    let by_id: BTreeMap<&str, &Value> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r))
        .collect();
    let summary = |id: &str| {
        let r = by_id[id];
        let values: Vec<&str> = r["partial_unexpected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["value"].as_str().unwrap())
            .collect();
        (
            r["success"].as_bool().unwrap(),
            r["unexpected_count"].as_u64().unwrap(),
            values,
        )
    };
    assert_eq!(summary("no-picked-up"), (false, 1, vec!["PICKED_UP"]));
    assert_eq!(
        summary("no-underscore"),
        (false, 2, vec!["PICKED_UP", "ON_ROUTE"])
    );
    // 1 of 3 rows passes: mostly 0.33 is met.
    assert_eq!(
        summary("no-underscore-mostly"),
        (true, 2, vec!["PICKED_UP", "ON_ROUTE"])
    );
    assert_eq!(summary("no-robot"), (true, 0, vec![]));
    assert_eq!(summary("courier-or-customer"), (true, 0, vec![]));
    assert_eq!(
        summary("ios-and-courier"),
        (false, 2, vec!["Customer iOS", "Courier Android"])
    );
    assert_eq!(
        summary("no-android-no-route"),
        (false, 1, vec!["Courier Android"])
    );
    let location = &by_id["no-picked-up"]["partial_unexpected"][0]["location"];
    assert_eq!(location["record"], 2, "{location}");
}

#[test]
fn bad_parameters_of_the_negated_expectations_are_located() {
    assert_suite_error(
        &format!("{HEAD}      - id: a\n        expectation: expect_column_values_to_not_match_regex\n        column: cityCode\n        regex: \"[A-Z\"\n"),
        &["suite.yaml:8:16", "invalid regex"],
    );
    assert_suite_error(
        &format!("{HEAD}      - id: a\n        expectation: expect_column_values_to_not_be_in_set\n        column: orderId\n        value_set: [1, abc]\n"),
        &["suite.yaml:8:24", "can never match column `orderId`"],
    );
    assert_suite_error(
        &format!("{HEAD}      - id: a\n        expectation: expect_column_values_to_not_be_in_set\n        column: orderId\n"),
        &["suite.yaml:5:9", "`expect_column_values_to_not_be_in_set` needs `value_set`"],
    );
}

#[test]
fn a_missing_suite_file_is_a_usage_error() {
    let result = validate(&["--suite", "/nonexistent/suite.yaml"]);
    assert_eq!(result.status.code(), Some(2), "{}", stderr(&result));
}

#[test]
fn reports_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    generate(&src, &["--orders", "300", "--dirty", "0.02"]);
    let (json, junit, md) = (
        tmp.path().join("r.json"),
        tmp.path().join("r.xml"),
        tmp.path().join("r.md"),
    );
    let result = validate(&[
        "--suite",
        "source",
        "--source",
        path_str(&src),
        "--report",
        "json",
        "--report-file",
        path_str(&json),
        "--report",
        "junit",
        "--report-file",
        path_str(&junit),
        "--report",
        "markdown",
        "--report-file",
        path_str(&md),
    ]);
    assert_eq!(result.status.code(), Some(1));
    let parsed: Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
    let results = parsed["results"].as_array().unwrap();
    for key in [
        "id",
        "table",
        "expectation",
        "severity",
        "success",
        "element_count",
        "missing_count",
        "unexpected_count",
        "unexpected_percent",
        "partial_unexpected",
    ] {
        assert!(
            results[0].get(key).is_some(),
            "result has {key}: {}",
            results[0]
        );
    }
    let failed_errors = results
        .iter()
        .filter(|r| r["success"] == false && r["severity"] == "error")
        .count();
    let xml = fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), results.len());
    assert_eq!(xml.matches("<failure ").count(), failed_errors);
    let markdown = fs::read_to_string(&md).unwrap();
    assert!(
        markdown.contains("## ❌ Data quality: suite `source`"),
        "{markdown}"
    );
    assert!(markdown.contains("| FAIL |"));
    // A --report without its file is bad usage.
    let result = validate(&[
        "--suite",
        "source",
        "--source",
        path_str(&src),
        "--report",
        "json",
    ]);
    assert_eq!(result.status.code(), Some(2));
}

#[test]
fn output_suite_checks_a_spark_style_folder_and_catches_a_broken_table() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, out) = (tmp.path().join("src"), tmp.path().join("out"));
    generate(&src, &["--orders", "300", "--format", "parquet"]);
    assert!(run_checked(&src, &out, "off", &["--format", "csv"])
        .status
        .success());
    // A Spark-style table folder: other part names, _SUCCESS and .crc side files.
    let spark = tmp.path().join("spark/customer_courier_conversations");
    let csv_root = out.join("csv/customer_courier_conversations");
    for entry in fs::read_dir(&csv_root).unwrap().flatten() {
        let dir = spark.join(entry.file_name());
        fs::create_dir_all(&dir).unwrap();
        for (i, part) in part_files(&entry.path()).iter().enumerate() {
            let name = format!("part-{i:05}-5a1b.c000.csv");
            fs::copy(part, dir.join(&name)).unwrap();
            fs::write(dir.join(format!(".{name}.crc")), "crc").unwrap();
        }
    }
    fs::write(spark.join("_SUCCESS"), "").unwrap();
    let result = validate(&["--suite", "output", "--data", path_str(&spark)]);
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stdout)
    );

    // Break one row: a negative count and an unknown city are caught with their location.
    let first = fs::read_dir(&spark)
        .unwrap()
        .flatten()
        .find(|e| e.path().is_dir())
        .unwrap()
        .path();
    let part = first.join("part-00000-5a1b.c000.csv");
    let text = fs::read_to_string(&part).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut fields: Vec<String> = lines[1].split(',').map(String::from).collect();
    fields[1] = "XXX".into();
    fields[4] = "-1".into();
    lines[1] = fields.join(",");
    fs::write(&part, lines.join("\n") + "\n").unwrap();
    let report = tmp.path().join("out.json");
    let result = validate(&[
        "--suite",
        "output",
        "--data",
        path_str(&spark),
        "--report",
        "json",
        "--report-file",
        path_str(&report),
    ]);
    assert_eq!(result.status.code(), Some(1));
    let json: Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    let by_id: BTreeMap<String, &Value> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r))
        .collect();
    assert_eq!(by_id["output-city_code-in-set"]["unexpected_count"], 1);
    assert_eq!(
        by_id["output-num_messages_courier-non-negative"]["unexpected_count"],
        1
    );
    let location =
        by_id["output-city_code-in-set"]["partial_unexpected"][0]["location"].to_string();
    assert!(
        location.contains("part-00000-5a1b.c000.csv") && location.contains("\"record\":1"),
        "{location}"
    );
}

#[test]
fn json_report_matches_its_published_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    generate(&src, &["--orders", "300", "--dirty", "0.03"]);
    let report = tmp.path().join("r.json");
    // With an HTML report beside it, the JSON report carries the tables' profiles too.
    let html = tmp.path().join("r.html");
    validate(&[
        "--suite",
        "source",
        "--source",
        path_str(&src),
        "--report",
        "json",
        "--report-file",
        path_str(&report),
        "--report",
        "html",
        "--report-file",
        path_str(&html),
    ]);
    let schema_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/dq-report.schema.json");
    let schema: Value = serde_json::from_str(&fs::read_to_string(schema_path).unwrap()).unwrap();
    let instance: Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    let compiled = jsonschema::JSONSchema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .compile(&schema)
        .expect("the report schema is valid");
    let errors: Vec<String> = match compiled.validate(&instance) {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect(),
    };
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        instance["profile"].as_array().map(Vec::len),
        Some(2),
        "both tables profiled"
    );
}

/// The suites and the code cannot drift apart: every column a shipped suite names exists
/// in the schema the code builds for that table.
#[test]
fn shipped_suites_name_only_columns_of_the_code_schemas() {
    let schemas: BTreeMap<String, arrow2::datatypes::Schema> = [
        (
            ccc_ingest::Table::ChatMessages.name().to_string(),
            ccc_ingest::Table::ChatMessages.schema(),
        ),
        (
            ccc_ingest::Table::Orders.name().to_string(),
            ccc_ingest::Table::Orders.schema(),
        ),
        (
            ccc_transform::schema::TABLE_NAME.to_string(),
            ccc_transform::schema::output_schema(),
        ),
    ]
    .into_iter()
    .collect();
    for name in ["source.yaml", "output.yaml"] {
        let suite = ccc_dq::Suite::load(expectations_dir().join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        suite
            .check_columns(&schemas)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let rules = suite
            .expectations()
            .filter(|e| e.meta.as_ref().is_none_or(|m| m.get("addition").is_none()))
            .count();
        assert_eq!(
            rules,
            if name == "source.yaml" { 33 } else { 26 },
            "{name}: one expectation per row of the seed's table"
        );
    }
}

/// Parquet columns that only presence checks and the quarantine look at (customerId,
/// toId, courierId) are left unread when the statistics prove them complete; quarantined
/// rows still carry their values, read back from the file. The same data as NDJSON (read
/// whole) must give the same quarantine rows, field for field.
#[test]
/// Both formats leave customerId, toId and courierId unread in a run (Parquet by its
/// statistics, NDJSON chunk by chunk) and read them back for the quarantine.
fn quarantined_rows_of_unread_columns_are_read_back_in_full() {
    let tmp = tempfile::tempdir().unwrap();
    let quarantine_of = |format: &str, ext: &str| -> Vec<Vec<String>> {
        let src = tmp.path().join(format!("src-{format}"));
        let out = tmp.path().join(format!("out-{format}"));
        generate(
            &src,
            &[
                "--orders", "400", "--files", "2", "--format", format, "--seed", "7",
            ],
        );
        // Without the second orders file, its orders' messages are orphans: quarantined.
        fs::remove_file(src.join(format!("orders_0002.{ext}"))).unwrap();
        let result = run_checked(&src, &out, "warn", &[]);
        assert!(result.status.success(), "{}", stderr(&result));
        let text =
            fs::read_to_string(out.join("quarantine/customer_courier_chat_messages.csv")).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers().unwrap().clone();
        let keep: Vec<usize> = headers
            .iter()
            .enumerate()
            .filter(|(_, h)| !matches!(*h, "_file" | "_line"))
            .map(|(i, _)| i)
            .collect();
        reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                keep.iter().map(|&i| r[i].to_string()).collect()
            })
            .collect()
    };
    let parquet = quarantine_of("parquet", "parquet");
    let ndjson = quarantine_of("ndjson", "ndjson");
    assert!(
        parquet.len() > 10,
        "orphans are quarantined: {}",
        parquet.len()
    );
    assert!(
        parquet
            .iter()
            .all(|row| !row[1].is_empty() && !row[3].is_empty() && !row[7].is_empty()),
        "customerId, toId and courierId are filled in"
    );
    assert_eq!(parquet, ndjson);
}
