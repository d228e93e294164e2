//! Bad input of every kind gets a clear message (file and position) and the brief's exit
//! code, never a panic, and the previous output survives untouched.

mod support;

use std::fs;
use std::path::Path;

use support::*;

/// Publishes a good output to `out`, then runs on `bad_source` and checks the error, the
/// exit code and that the good output is byte-for-byte what it was.
fn fails_and_keeps_previous_output(
    bad_source: &Path,
    out: &Path,
    code: i32,
    needles: &[&str],
) -> String {
    let good = out.parent().unwrap().join("good_source");
    write_small_sources(&good);
    let first = run_job(&good, out, &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let before = snapshot(out);
    let result = run_job(bad_source, out, &[]);
    let err = stderr(&result);
    assert_eq!(result.status.code(), Some(code), "stderr: {err}");
    for needle in needles {
        assert!(
            err.contains(needle),
            "expected {needle:?} in stderr:\n{err}"
        );
    }
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(snapshot(out), before, "the previous output must survive");
    let leftovers: Vec<_> = fs::read_dir(out.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("ccc-staging"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "a failed run leaves no staging folder: {leftovers:?}"
    );
    err
}

#[test]
fn truncated_json_array_names_file_and_position() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_small_sources(&src);
    let path = src.join("customer_courier_chat_messages.json");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, &text[..text.len() / 2]).unwrap();
    fails_and_keeps_previous_output(
        &src,
        &tmp.path().join("out"),
        3,
        &[
            "customer_courier_chat_messages.json:",
            "unexpected end of file",
            "truncated",
        ],
    );
}

#[test]
fn json_syntax_error_gives_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_small_sources(&src);
    fs::write(
        src.join("customer_courier_chat_messages.ndjson"),
        "{\"orderId\": 10, \"senderAppType\": \"Courier iOS\", \"messageSentTime\": \"2024-02-01T10:00:00Z\"}\n{\"orderId\": 10,, }\n",
    )
    .unwrap();
    fails_and_keeps_previous_output(
        &src,
        &tmp.path().join("out"),
        3,
        &[
            "customer_courier_chat_messages.ndjson:2:16",
            "invalid JSON in record 2",
        ],
    );
}

#[test]
fn csv_row_missing_a_column_is_an_input_error() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_small_sources(&src);
    fs::write(
        src.join("orders_extra.csv"),
        "orderId,cityCode\n12,LIS\n13\n14,OPO\n",
    )
    .unwrap();
    fails_and_keeps_previous_output(
        &src,
        &tmp.path().join("out"),
        3,
        &[
            "orders_extra.csv:3",
            "record 2",
            "record has 1 fields, the header has 2",
        ],
    );
}

#[test]
fn csv_header_without_a_column_reads_it_as_null_and_quarantines() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_small_sources(&src);
    fs::write(
        src.join("customer_courier_chat_messages_2.csv"),
        "senderAppType,messageSentTime\nCourier iOS,2024-02-01T10:00:00Z\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let result = run_job(&src, &out, &[]);
    assert!(result.status.success(), "{}", stderr(&result));
    let quarantine =
        fs::read_to_string(out.join("quarantine/customer_courier_chat_messages.csv")).unwrap();
    assert!(
        quarantine.contains("Courier iOS,,,,,,,,2024-02-01T10:00:00Z,orderId is null,customer_courier_chat_messages_2.csv,1,2"),
        "{quarantine}"
    );
}

#[test]
fn binary_file_named_parquet_is_an_input_error() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_small_sources(&src);
    fs::write(
        src.join("orders_2.parquet"),
        [0u8, 159, 146, 150, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    )
    .unwrap();
    fails_and_keeps_previous_output(
        &src,
        &tmp.path().join("out"),
        3,
        &["orders_2.parquet", "not a readable Parquet file"],
    );
}

#[test]
fn text_that_is_not_json_is_an_input_error() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_small_sources(&src);
    fs::write(src.join("orders_2.json"), "orderId;cityCode\n1;BCN\n").unwrap();
    fails_and_keeps_previous_output(
        &src,
        &tmp.path().join("out"),
        3,
        &["orders_2.json:1:1", "expected '[' or '{'"],
    );
}

#[test]
fn empty_folder_is_an_input_error() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir_all(&src).unwrap();
    fails_and_keeps_previous_output(
        &src,
        &tmp.path().join("out"),
        3,
        &["no customer_courier_chat_messages files"],
    );
}

#[test]
fn missing_folder_is_an_input_error() {
    let tmp = tempfile::tempdir().unwrap();
    fails_and_keeps_previous_output(
        &tmp.path().join("nope"),
        &tmp.path().join("out"),
        3,
        &["does not exist"],
    );
}

#[test]
fn output_folder_with_foreign_files_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_small_sources(&src);
    let out = tmp.path().join("home");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("thesis.tex"), "precious").unwrap();
    let result = run_job(&src, &out, &[]);
    assert_eq!(result.status.code(), Some(2), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("is not a ccc output folder"),
        "{}",
        stderr(&result)
    );
    assert_eq!(
        fs::read_to_string(out.join("thesis.tex")).unwrap(),
        "precious"
    );
}

#[test]
fn bad_usage_exits_with_2() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        vec!["run", "--no-such-flag"],
        vec!["--threads", "0", "run"],
        vec!["run", "--checks", "maybe"],
        vec![],
    ] {
        let result = run_ccc(&args);
        assert_eq!(
            result.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&result)
        );
    }
    let result = run_ccc(&["run", "--format", "xml", "--out", path_str(tmp.path())]);
    assert_eq!(result.status.code(), Some(2));
    assert_eq!(run_ccc(&["--help"]).status.code(), Some(0));
}
