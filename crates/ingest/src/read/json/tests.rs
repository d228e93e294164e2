//! Tests of the JSON reader as a whole: each reads a file through the chunk driver, so
//! scan, fast path, visitors and presence columns are checked as callers see them, and
//! the fast path against serde alone.

use arrow2::array::{Array, PrimitiveArray};
use proptest::prelude::*;

use super::chunks::{read_bytes, read_json, JsonFile};
use super::records::{Reading, FAST_READS};
use super::tables::{MessageColumns, OrderColumns};
use crate::discover::{Format, SourceFile};
use crate::problems::{FieldProblem, ProblemKind};
use crate::read::columns::TEXT_LIMIT;
use crate::read::json_fast::{scan_record, FlatRecord};
use crate::read::text::Chunking;
use crate::schema::{FieldType, Table};

/// A batch as the tests compare it: file, first record, record lines, arrays.
type Seen = (u32, u64, Option<Vec<u64>>, Arrays);

/// A batch's arrays, equal when every array is (Arrow's logical `==`).
#[derive(Debug)]
struct Arrays(Vec<Box<dyn Array>>);
impl PartialEq for Arrays {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|(a, b)| a.as_ref() == b.as_ref())
    }
}

/// A batch read with presence columns: its position, unread columns and arrays.
type SeenUnread = (u64, Vec<usize>, Vec<Box<dyn Array>>);

/// Reads `text` (NDJSON) as a file of `table` with the columns flagged in `presence`
/// checked but not kept, by the fast path.
fn read_presence(
    table: Table,
    text: &[u8],
    chunk: usize,
    presence: &[bool],
) -> Result<(Vec<SeenUnread>, Vec<FieldProblem>), String> {
    let file = SourceFile {
        path: "src.ndjson".into(),
        name: "src.ndjson".into(),
        table,
        format: Format::Ndjson,
        size: text.len() as u64,
    };
    let reading = Reading {
        fast: true,
        presence,
        text_limit: TEXT_LIMIT,
    };
    let read = match table {
        Table::ChatMessages => read_bytes(
            &MessageColumns,
            JsonFile {
                index: 0,
                path: &file.path,
                format: file.format,
            },
            text,
            None,
            Chunking::of(chunk),
            reading,
            &|_, _| {},
        ),
        Table::Orders => read_bytes(
            &OrderColumns,
            JsonFile {
                index: 0,
                path: &file.path,
                format: file.format,
            },
            text,
            None,
            Chunking::of(chunk),
            reading,
            &|_, _| {},
        ),
    };
    let (batches, problems) = read.map_err(|e| e.to_string())?;
    let batches = batches
        .into_iter()
        .map(|b| (b.position, b.unread.clone(), b.chunk.into_arrays()))
        .collect();
    Ok((batches, problems))
}

/// Reads NDJSON messages in chunks of about `chunk` bytes with a text limit of
/// `limit` bytes per column and chunk.
fn read_with_text_limit(text: &str, chunk: usize, limit: usize, fast: bool) -> String {
    let file = SourceFile {
        path: "src.ndjson".into(),
        name: "src.ndjson".into(),
        table: Table::ChatMessages,
        format: Format::Ndjson,
        size: text.len() as u64,
    };
    let reading = Reading {
        fast,
        presence: &[],
        text_limit: limit,
    };
    match read_bytes(
        &MessageColumns,
        JsonFile {
            index: 0,
            path: &file.path,
            format: file.format,
        },
        text.as_bytes(),
        None,
        Chunking::of(chunk),
        reading,
        &|_, _| {},
    ) {
        Ok((batches, _)) => format!(
            "read {} rows",
            batches.iter().map(|b| b.len()).sum::<usize>()
        ),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_column_too_long_for_arrow_offsets_is_an_error_at_its_record() {
    // senderAppType is 15 bytes a record: the third record passes 40 in one chunk.
    // With a record escaped, the serde path is tested as well as the fast one.
    let line =
        |i: u32, sender: &str| format!("{{\"senderAppType\":\"{sender}\",\"orderId\":{i}}}\n");
    let text = [
        line(1, "Courier Android"),
        line(2, "Customer iOS\\u0041"),
        line(3, "Courier Android"),
        line(4, "Courier Android"),
    ]
    .concat();
    let want = "src.ndjson:3: record 3: column `senderAppType` holds more than 40 bytes \
                of text in one chunk of records with this record, the most ccc reads into \
                one Arrow column (32-bit offsets)";
    for fast in [true, false] {
        assert_eq!(read_with_text_limit(&text, 1 << 20, 40, fast), want);
        // In chunks of one record each, no chunk comes near the limit.
        assert_eq!(read_with_text_limit(&text, 1, 40, fast), "read 4 rows");
    }
    assert_eq!(
        read_with_text_limit(&text, 1 << 20, TEXT_LIMIT, true),
        "read 4 rows"
    );
}

#[test]
fn presence_columns_are_checked_not_kept_unless_a_chunk_needs_them() {
    let mut text = String::new();
    for i in 0..30 {
        let customer = match i {
            17 => "null".to_string(),
            23 => "\"c23\"".to_string(),
            _ => (1000 + i).to_string(),
        };
        text.push_str(&format!(
            "{{\"senderAppType\":\"Courier iOS\",\"customerId\":{customer},\"orderId\":{i},\"messageSentTime\":\"2024-02-01T10:00:{:02}Z\"}}\n",
            i
        ));
    }
    // customerId (1) and messageSentTime (8) checked, not kept.
    let presence = [false, true, false, false, false, false, false, false, true];
    let (kept, kept_problems) =
        read_presence(Table::ChatMessages, text.as_bytes(), 400, &[]).unwrap();
    let (seen, problems) =
        read_presence(Table::ChatMessages, text.as_bytes(), 400, &presence).unwrap();
    assert_eq!(
        problems, kept_problems,
        "the same problems, found in the same rows"
    );
    assert_eq!(
        problems.len(),
        1,
        "\"c23\" is a string where an integer belongs"
    );
    assert_eq!(seen.len(), kept.len());
    let mut unread_batches = 0;
    for ((position, unread, arrays), (kept_position, _, kept_arrays)) in seen.iter().zip(&kept) {
        assert_eq!(position, kept_position);
        for (c, (array, kept_array)) in arrays.iter().zip(kept_arrays).enumerate() {
            if unread.contains(&c) {
                assert_eq!(array.data_type(), &arrow2::datatypes::DataType::Null);
                assert_eq!(array.len(), kept_array.len());
                assert_eq!(
                    kept_array.null_count(),
                    0,
                    "column {c} had a value in every row"
                );
            } else {
                assert_eq!(array.as_ref(), kept_array.as_ref(), "column {c}");
            }
        }
        if unread.is_empty() {
            unread_batches += 0;
        } else {
            assert_eq!(unread, &vec![1, 8]);
            unread_batches += 1;
        }
    }
    // The chunks holding rows 17 (null) and 23 (a string) are read in full.
    let full = seen
        .iter()
        .filter(|(_, unread, _)| unread.is_empty())
        .count();
    assert!((1..=2).contains(&full), "{full} chunks read in full");
    assert!(unread_batches >= seen.len() - 2 && unread_batches > 0);
}

#[test]
fn presence_integers_keep_json_grammar_and_range() {
    // (value, whether it is an integer within i64)
    let cases = [
        ("0", true),
        ("-0", true), // serde reads it as 0.0, which the reader takes as 0
        ("01", false),
        ("-", false),
        ("123456789012345678", true),
        ("9223372036854775807", true),
        ("-9223372036854775808", true),
        ("9223372036854775808", false),
        ("-9223372036854775809", false),
        ("99999999999999999999", false),
        ("1.5", false),
        ("1e3", false),
    ];
    for (value, valid) in cases {
        let text = format!("{{\"orderId\":{value},\"cityCode\":\"BCN\"}}\n");
        let kept = read_presence(Table::Orders, text.as_bytes(), 1 << 20, &[]);
        let seen = read_presence(Table::Orders, text.as_bytes(), 1 << 20, &[true, false]);
        match (kept, seen) {
            (Ok((kept, kept_problems)), Ok((seen, problems))) => {
                assert_eq!(problems, kept_problems, "{value}");
                let unread = &seen[0].1;
                assert_eq!(unread.is_empty(), !valid, "{value}: unread {unread:?}");
                assert_eq!(kept[0].2[0].null_count() == 0, valid, "{value}");
            }
            (Err(a), Err(b)) => assert!(!valid && a == b, "{value}: {a}"),
            (a, b) => panic!("{value}: {:?} / {:?}", a.err(), b.err()),
        }
    }
}

proptest! {
    /// Presence columns change nothing but which columns a batch keeps: the same
    /// batches, problems and kept columns as a full read, and a column is left unread
    /// only in a batch where the full read found a value in every row.
    #[test]
    fn presence_columns_read_like_kept_ones(
        (_, text, chunk) in file(),
        presence in proptest::collection::vec(any::<bool>(), 9),
        orders in any::<bool>(),
    ) {
        let table = if orders { Table::Orders } else { Table::ChatMessages };
        let lines: String = text.lines().filter(|l| l.starts_with('{')).map(|l| format!("{l}\n")).collect();
        let kept = read_presence(table, lines.as_bytes(), chunk, &[]);
        let seen = read_presence(table, lines.as_bytes(), chunk, &presence);
        match (kept, seen) {
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (Ok((kept, kept_problems)), Ok((seen, problems))) => {
                prop_assert_eq!(problems, kept_problems);
                prop_assert_eq!(seen.len(), kept.len());
                for ((position, unread, arrays), (kept_position, _, kept_arrays)) in seen.iter().zip(&kept) {
                    prop_assert_eq!(position, kept_position);
                    for (c, (array, kept_array)) in arrays.iter().zip(kept_arrays).enumerate() {
                        if unread.contains(&c) {
                            prop_assert!(presence[c]);
                            prop_assert_eq!(array.len(), kept_array.len());
                            prop_assert_eq!(kept_array.null_count(), 0);
                        } else {
                            prop_assert_eq!(array.as_ref(), kept_array.as_ref());
                        }
                    }
                }
            }
            (a, b) => prop_assert!(false, "one read failed: {:?} / {:?}", a.err(), b.err()),
        }
    }
}

/// Reads `text` as a file of `table` in `format`, by the fast path with fallback
/// (`fast`) or by serde alone; errors as their message (which names record, line
/// and column).
fn read(
    table: Table,
    format: Format,
    text: &[u8],
    chunk: usize,
    fast: bool,
) -> Result<(Vec<Seen>, Vec<FieldProblem>), String> {
    let file = SourceFile {
        path: "src.json".into(),
        name: "src.json".into(),
        table,
        format,
        size: text.len() as u64,
    };
    let read = match table {
        Table::ChatMessages => {
            let reading = Reading {
                fast,
                presence: &[],
                text_limit: TEXT_LIMIT,
            };
            read_bytes(
                &MessageColumns,
                JsonFile {
                    index: 0,
                    path: &file.path,
                    format: file.format,
                },
                text,
                None,
                Chunking::of(chunk),
                reading,
                &|_, _| {},
            )
        }
        Table::Orders => {
            let reading = Reading {
                fast,
                presence: &[],
                text_limit: TEXT_LIMIT,
            };
            read_bytes(
                &OrderColumns,
                JsonFile {
                    index: 0,
                    path: &file.path,
                    format: file.format,
                },
                text,
                None,
                Chunking::of(chunk),
                reading,
                &|_, _| {},
            )
        }
    };
    let (batches, problems) = read.map_err(|e| e.to_string())?;
    let batches = batches
        .into_iter()
        .map(|b| {
            let lines = b.lines.map(|l| {
                (0..b.chunk.len())
                    .filter_map(|r| l.line(r))
                    .collect::<Vec<u64>>()
            });
            (b.file, b.first_record, lines, Arrays(b.chunk.into_arrays()))
        })
        .collect();
    Ok((batches, problems))
}

/// Asserts that the fast path with its fallback reads `text` exactly as serde does,
/// and gives that reading.
fn same_as_serde(
    table: Table,
    format: Format,
    text: &str,
    chunk: usize,
) -> Result<(Vec<Seen>, Vec<FieldProblem>), String> {
    let serde = read(table, format, text.as_bytes(), chunk, false);
    let fast = read(table, format, text.as_bytes(), chunk, true);
    assert_eq!(fast, serde, "{text:?}");
    fast
}

#[test]
fn line_numbers_are_one_number_per_batch_when_records_are_one_per_line() {
    let line = |id: u32| format!("{{\"orderId\": {id}, \"cityCode\": \"BCN\"}}\n");
    let ndjson: String = (1..=400).map(line).collect();
    let (batches, _) =
        read(Table::Orders, Format::Ndjson, ndjson.as_bytes(), 1000, true).expect("reads");
    assert!(batches.len() > 3, "several chunks");
    let mut next_line = 1;
    for (_, first_record, lines, _) in &batches {
        let lines = lines.as_ref().expect("lines");
        assert_eq!(lines[0], next_line);
        assert_eq!(*first_record, next_line, "record n on line n");
        next_line += lines.len() as u64;
    }
    assert_eq!(next_line, 401);
    // What the batches hold: one number, not one per record.
    let dir = tempfile::tempdir().unwrap();
    let file = orders_file(dir.path(), &ndjson);
    let (batches, _) =
        read_json(0, &file, Table::Orders, Chunking::of(1000), &[], &|_, _| {}).unwrap();
    assert!(batches.len() > 3);
    assert!(batches
        .iter()
        .all(|b| matches!(b.lines, Some(crate::LineNumbers::Consecutive(_)))));

    // A blank line and a record on two lines: listed.
    let text = "{\"orderId\": 1, \"cityCode\": \"BCN\"}\n\n{\"orderId\": 2,\n\"cityCode\": \"MAD\"}\n{\"orderId\": 3, \"cityCode\": \"LIS\"}\n";
    let (batches, _) =
        read(Table::Orders, Format::Json, text.as_bytes(), 1 << 20, true).expect("reads");
    assert_eq!(batches[0].2, Some(vec![1, 3, 5]));
}

/// `text` written to `dir/orders.ndjson`, as a source file of the orders table.
fn orders_file(dir: &std::path::Path, text: &str) -> SourceFile {
    let path = dir.join("orders.ndjson");
    std::fs::write(&path, text).unwrap();
    SourceFile {
        path,
        name: "orders.ndjson".into(),
        table: Table::Orders,
        format: Format::Ndjson,
        size: text.len() as u64,
    }
}

/// Columns read without their values come back whole from the file, and a file that
/// changed since is an error that says so.
#[test]
fn unread_columns_are_read_back_from_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let text: String = (0..50)
        .map(|i| format!("{{\"orderId\": {}, \"cityCode\": \"BCN\"}}\n", 1000 + i))
        .collect();
    let file = orders_file(dir.path(), &text);
    let options = crate::ReadOptions {
        chunk_bytes: 300,
        presence_only: vec![(Table::Orders, "orderId".to_string())],
        text_presence_only: true,
        ..Default::default()
    };
    let (batches, _) = crate::read_file(0, &file, &options).unwrap();
    assert!(batches.len() > 3, "several chunks");
    let files = [file.clone()];
    let mut ids = Vec::new();
    for batch in &batches {
        assert_eq!(batch.unread, [0], "orderId is checked, not kept");
        let whole = crate::with_unread_columns(&files, batch).unwrap();
        assert!(whole.unread.is_empty());
        let column = whole.chunk.arrays()[0]
            .as_any()
            .downcast_ref::<PrimitiveArray<i64>>()
            .unwrap();
        ids.extend(column.iter().map(|v| v.copied()));
    }
    assert_eq!(ids, (0..50).map(|i| Some(1000 + i)).collect::<Vec<_>>());
    // The file shrinks under the reader: the read-back finds fewer records.
    std::fs::write(&file.path, &text[..text.len() / 2]).unwrap();
    let err = crate::with_unread_columns(&files, batches.last().unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("did the file change?"), "{err}");
}

fn read_orders(text: &str) -> (Vec<Option<i64>>, Vec<ProblemKind>) {
    let dir = tempfile::tempdir().unwrap();
    let file = orders_file(dir.path(), text);
    let (batches, problems) = crate::read_file(0, &file, &Default::default()).unwrap();
    let ids = batches
        .iter()
        .flat_map(|b| {
            let a = b.chunk.arrays()[0]
                .as_any()
                .downcast_ref::<PrimitiveArray<i64>>()
                .unwrap();
            a.iter().map(|v| v.copied()).collect::<Vec<_>>()
        })
        .collect();
    (ids, problems.into_iter().map(|p| p.kind).collect())
}

#[test]
fn integers_strings_fractions_and_minus_zero() {
    let (ids, problems) = read_orders(
        "{\"orderId\": -0}\n{\"orderId\": 7}\n{\"orderId\": \"7\"}\n{\"orderId\": 1.5}\n{\"orderId\": 99999999999999999999}\n{\"orderId\": 18446744073709551615}\n",
    );
    assert_eq!(ids, vec![Some(0), Some(7), None, None, None, None]);
    let wrong = ProblemKind::WrongType {
        expected: FieldType::Int64,
    };
    assert_eq!(
        problems,
        vec![
            wrong,
            wrong,
            ProblemKind::OutOfRange,
            ProblemKind::OutOfRange
        ]
    );
}

#[test]
fn typical_records_take_the_fast_path() {
    let line = r#"{"orderId":100000003,"cityCode":"MAD"}"#;
    let reads = || FAST_READS.load(std::sync::atomic::Ordering::Relaxed);
    for (format, text) in [
        (Format::Ndjson, format!("{line}\n{line}\r\n{line}")),
        (
            Format::Json,
            format!("[\n  {line},\n  {line},\n  {line}\n]\n"),
        ),
        (Format::Json, format!("{line}\n{line} {line}")),
    ] {
        let before = reads();
        same_as_serde(Table::Orders, format, &text, 1 << 20).unwrap();
        // At least: other tests running alongside may add theirs.
        assert!(reads() - before >= 3, "{text}");
    }
}

#[test]
fn every_give_up_case_gets_the_serde_reading() {
    let typical = r#"{"senderAppType":"Customer Android","customerId":17173029,"fromId":17173029,"toId":23956,"chatStartedByMessage":true,"orderId":100000003,"orderStage":"ACCEPTED","courierId":23956,"messageSentTime":"2024-02-01T00:00:00.75Z"}"#;
    let odd = [
        r#"{"toId":1.5}"#,
        r#"{"toId":-2.5e3,"fromId":1E2}"#,
        r#"{"toId":-0}"#,
        r#"{"toId":9223372036854775808}"#,
        r#"{"toId":-9223372036854775809}"#,
        r#"{"toId":18446744073709551616}"#,
        r#"{"toId":[1,{"a":2}],"fromId":{"x":[]}}"#,
        r#"{"senderAppType":"a\"b","orderStage":"\u0043"}"#,
        r#"{"to\u0049d":1,"toId":2}"#,
        r#"{"toId":1,"x":1.5}"#,
        r#"{"toId":1,"x":[1]}"#,
        r#"{"toId":1,"toId":1.5}"#,
        r#"{"toId":"7","orderStage":7,"chatStartedByMessage":"true"}"#,
        r#"{"messageSentTime":"2024-13-01T00:00:00Z","customerId":null}"#,
        "7",
        "[1]",
        "\"x\"",
        "null",
    ];
    for (i, record) in odd.iter().enumerate() {
        // The odd record between typical ones: fallback leaves no half-pushed row.
        let text = format!("{typical}\n{record}\n{typical}\n");
        same_as_serde(Table::ChatMessages, Format::Ndjson, &text, 1 << 20)
            .unwrap_or_else(|e| panic!("case {i}: {e}"));
        let text = format!("[{typical},\n  {record} , {typical}]");
        same_as_serde(Table::ChatMessages, Format::Json, &text, 1 << 20)
            .unwrap_or_else(|e| panic!("case {i}: {e}"));
    }
    let (batches, problems) = same_as_serde(
        Table::ChatMessages,
        Format::Ndjson,
        &format!("{typical}\n{}\n", odd[12]),
        1 << 20,
    )
    .unwrap();
    assert_eq!(batches[0].3 .0[0].len(), 2);
    let raws: Vec<_> = problems
        .iter()
        .map(|p| (p.column, p.raw.as_str()))
        .collect();
    assert_eq!(
        raws,
        vec![
            ("toId", "7"),
            ("orderStage", "7"),
            ("chatStartedByMessage", "true")
        ]
    );
}

/// The messages are those the reader gave before the fast path existed (checked
/// against that build's binary).
#[test]
fn a_malformed_line_gives_the_same_error_as_before() {
    let cases = [
        (
            "{\"orderId\":1}\n{\"orderId\":1,}\n",
            "src.json:2:14: invalid JSON in record 2: trailing comma",
        ),
        (
            "{\"orderId\":1}\n\n  {\"orderId\" 1}\n",
            "src.json:3:14: invalid JSON in record 2: expected `:`",
        ),
        (
            "{\"orderId\":1}\n{\"orderId\":01}\n",
            "src.json:2:13: invalid JSON in record 2: invalid number",
        ),
        (
            "{\"orderId\":1} x\n",
            "src.json:1:15: invalid JSON in record 1: trailing characters",
        ),
        (
            "{\"orderId\":1\n}\n",
            "src.json:1:12: invalid JSON in record 1: EOF while parsing an object",
        ),
    ];
    for (text, want) in cases {
        let got = same_as_serde(Table::Orders, Format::Ndjson, text, 1 << 20);
        assert_eq!(got.unwrap_err(), want);
    }
}

const KNOWN_KEYS: [&str; 10] = [
    "senderAppType",
    "customerId",
    "fromId",
    "toId",
    "chatStartedByMessage",
    "orderId",
    "orderStage",
    "courierId",
    "messageSentTime",
    "cityCode",
];

/// Keys the fast path reads: the table's, others, in any order and repeated.
fn plain_key() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => proptest::sample::select(&KNOWN_KEYS[..]).prop_map(str::to_string),
        1 => proptest::sample::select(vec!["extra", "", "clé", "orderId ", "toIdx", "toI"])
            .prop_map(str::to_string),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => proptest::sample::select(&KNOWN_KEYS[..]).prop_map(str::to_string),
        1 => proptest::sample::select(vec![
            "extra", "", "clé", "orderId ", "order\\u0049d", "sender\\u0041ppType",
            "a\\\"b", "city\\nCode",
        ])
        .prop_map(str::to_string),
    ]
}

fn fixed(values: &[&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(values.to_vec()).prop_map(str::to_string)
}

/// Values the fast path reads (which of them fit their column is the builders' call).
fn plain_value() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => any::<i64>().prop_map(|v| v.to_string()),
        6 => (0i64..1000).prop_map(|v| v.to_string()),
        6 => "[ a-zA-Z0-9_é日😀:.+\x7f-]{0,24}".prop_map(|s| format!("\"{s}\"")),
        4 => fixed(&["null", "true", "false", "0", "-9223372036854775808", "9223372036854775807"]),
        4 => fixed(&[
            "\"2024-02-01T00:00:00Z\"", "\"2024-02-01T00:00:00.75Z\"",
            "\"2024-02-01T05:30:39.845951+05:30\"", "\"2024-13-01T00:00:00Z\"",
            "\"2024-02-01\"", "\"N/A\"", "\"\"", "\"17\"", "\"true\"", "\"-0\"",
        ]),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        26 => plain_value(),
        4 => fixed(&[
            "\"\\u0043ustomer\"", "\"a\\\"b\"", "\"tab\\tend\"", "\"\\ud83d\\ude00\"",
            "\"back\\\\slash\"", "\"\\/\"",
        ]),
        4 => fixed(&[
            "1.5", "-2.5e3", "1E2", "0e0", "-0", "0", "-0.0", "9223372036854775807",
            "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
            "18446744073709551615", "18446744073709551616", "123456789012345678901234",
        ]),
        3 => fixed(&[
            "[]", "[1,\"x\",{\"a\":null}]", "{}", "{\"orderId\":1}", "[[\"}\"]]",
        ]),
        1 => fixed(&["01", "tru", "nul", "\"open", "1.", "+1", "'x'", "\"ctl\u{1}\"", "NaN", "-"]),
    ]
}

/// Whitespace between tokens; `\n` only rarely, as in an NDJSON file it cuts a record.
fn ws() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        12 => Just(""),
        2 => Just(" "),
        1 => Just("\t"),
        1 => Just("\r"),
        1 => Just(" \t "),
        1 => Just("\n"),
    ]
}

/// Whitespace within one line.
fn line_ws() -> impl Strategy<Value = &'static str> {
    prop_oneof![12 => Just(""), 2 => Just(" "), 1 => Just("\t"), 1 => Just("\r")]
}

fn record() -> impl Strategy<Value = String> {
    let entry = (ws(), key(), ws(), ws(), value(), ws())
        .prop_map(|(a, k, b, c, v, d)| format!("{a}\"{k}\"{b}:{c}{v}{d}"));
    let plain_entry = (
        line_ws(),
        plain_key(),
        line_ws(),
        line_ws(),
        plain_value(),
        line_ws(),
    )
        .prop_map(|(a, k, b, c, v, d)| format!("{a}\"{k}\"{b}:{c}{v}{d}"));
    prop_oneof![
        12 => (proptest::collection::vec(plain_entry, 0..12), line_ws())
            .prop_map(|(entries, ws)| format!("{{{ws}{}}}", entries.join(","))),
        12 => (proptest::collection::vec(entry, 0..12), ws())
            .prop_map(|(entries, ws)| format!("{{{ws}{}}}", entries.join(","))),
        2 => proptest::sample::select(vec!["7", "[1]", "\"x\"", "null", "true", "[]", "-0", "1.5"])
            .prop_map(str::to_string),
        1 => proptest::sample::select(vec![
            "{\"orderId\":1,}", "{\"orderId\" 1}", "{\"orderId\":1}}", "{\"orderId\":1} x",
            "{", "{\"orderId\":1", "}", "{,}", "{\"toId\":1 \"fromId\":2}",
        ])
        .prop_map(str::to_string),
    ]
}

/// A file of records in one of the three layouts, with a chunk size.
fn file() -> impl Strategy<Value = (Format, String, usize)> {
    let records = proptest::collection::vec((record(), ws()), 0..10);
    let separator = proptest::sample::select(vec!["\n", "\r\n", "\n\n", " \n"]);
    (0..3u8, records, separator, any::<bool>(), 1usize..400).prop_map(
        |(layout, records, separator, final_newline, chunk)| {
            let (format, text) = match layout {
                0 => {
                    let lines: Vec<String> =
                        records.iter().map(|(r, ws)| format!("{r}{ws}")).collect();
                    let end = if final_newline { separator } else { "" };
                    (Format::Ndjson, format!("{}{end}", lines.join(separator)))
                }
                1 => {
                    let items: Vec<String> =
                        records.iter().map(|(r, ws)| format!("{ws}{r}")).collect();
                    (
                        Format::Json,
                        format!("[{}]\n", items.join(&format!(",{separator}"))),
                    )
                }
                _ => {
                    let items: Vec<String> =
                        records.iter().map(|(r, ws)| format!("{r}{ws}")).collect();
                    (
                        Format::Json,
                        format!("{{}}{separator}{}", items.join(separator)),
                    )
                }
            };
            (format, text, chunk)
        },
    )
}

proptest! {
    /// What the equivalence below relies on: the records of the plain grammar are
    /// the fast path's, not all sent to serde.
    #[test]
    fn plain_records_take_the_fast_path(
        entries in proptest::collection::vec(
            (line_ws(), plain_key(), line_ws(), line_ws(), plain_value(), line_ws()),
            0..12,
        ),
    ) {
        let entries: Vec<String> = entries
            .iter()
            .map(|(a, k, b, c, v, d)| format!("{a}\"{k}\"{b}:{c}{v}{d}"))
            .collect();
        let text = format!("{{{}}}\n", entries.join(","));
        let mut flat = FlatRecord::new();
        let end = scan_record(&MessageColumns, &text, 0, text.len(), true, 0, &mut flat);
        prop_assert_eq!(end, Some(text.len() - 1));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]
    #[test]
    fn fast_path_reads_like_serde((format, text, chunk) in file(), orders in any::<bool>()) {
        let table = if orders { Table::Orders } else { Table::ChatMessages };
        let serde = read(table, format, text.as_bytes(), chunk, false);
        let fast = read(table, format, text.as_bytes(), chunk, true);
        prop_assert_eq!(fast, serde, "{:?}", text);
    }
}

#[test]
fn a_chunk_that_is_not_utf8_goes_to_serde_whole() {
    // Serde skips unknown keys' values without looking at their encoding.
    let mut text = b"{\"orderId\":1}\n{\"orderId\":2,\"x\":\"".to_vec();
    text.extend_from_slice(b"\xff\"}\n{\"orderId\":3}\n");
    let serde = read(Table::Orders, Format::Ndjson, &text, 1 << 20, false);
    let fast = read(Table::Orders, Format::Ndjson, &text, 1 << 20, true);
    assert_eq!(fast, serde);
    assert_eq!(fast.unwrap().0[0].3 .0[0].len(), 3);
}

/// The batch hook sees each chunk as it is parsed, numbered within the chunk, and its
/// position names the batch that ends up in the file's result.
#[test]
fn the_batch_hook_sees_chunks_numbered_within_and_named_by_position() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..40 {
        if i % 7 == 3 {
            text.push_str(&format!(
                "{{\"orderId\": \"x{i}\", \"cityCode\": \"BCN\"}}\n"
            ));
        } else {
            text.push_str(&format!("{{\"orderId\": {i}, \"cityCode\": \"BCN\"}}\n"));
        }
    }
    let file = orders_file(dir.path(), &text);
    let seen = std::sync::Mutex::new(Vec::new());
    let options = crate::ReadOptions {
        chunk_bytes: 200,
        ..Default::default()
    };
    let (batches, problems) = crate::read_file_with(0, &file, &options, &|_, batch, problems| {
        let rows: Vec<u64> = problems
            .iter()
            .map(|p| p.record - batch.first_record)
            .collect();
        seen.lock()
            .unwrap()
            .push((batch.position, batch.len(), rows));
    })
    .unwrap();
    let mut seen = seen.into_inner().unwrap();
    seen.sort();
    assert!(batches.len() > 3, "several chunks: {}", batches.len());
    assert_eq!(seen.len(), batches.len());
    for batch in &batches {
        let (_, len, rows) = seen
            .iter()
            .find(|(position, ..)| *position == batch.position)
            .expect("every batch was seen by its position");
        assert_eq!(*len, batch.len());
        let absolute: Vec<u64> = problems
            .iter()
            .filter(|p| {
                (batch.first_record..batch.first_record + batch.len() as u64).contains(&p.record)
            })
            .map(|p| p.record - batch.first_record)
            .collect();
        assert_eq!(rows, &absolute, "the same rows, relative or absolute");
    }
    assert_eq!(problems.len(), 6, "x3, x10, x17, x24, x31, x38");
}

/// Reads orders `text` as `format` with a record limit of `max` bytes.
fn read_orders_limited(text: &str, format: Format, max: usize) -> Result<usize, String> {
    let file = SourceFile {
        path: "orders.json".into(),
        name: "orders.json".into(),
        table: Table::Orders,
        format,
        size: text.len() as u64,
    };
    let reading = Reading {
        fast: true,
        presence: &[],
        text_limit: TEXT_LIMIT,
    };
    let chunking = Chunking {
        chunk_bytes: 16,
        max_record_bytes: max,
    };
    read_bytes(
        &OrderColumns,
        JsonFile {
            index: 0,
            path: &file.path,
            format: file.format,
        },
        text.as_bytes(),
        None,
        chunking,
        reading,
        &|_, _| {},
    )
    .map(|(batches, _)| batches.iter().map(|b| b.len()).sum())
    .map_err(|e| e.to_string())
}

#[test]
fn a_record_past_the_limit_is_an_error_at_its_line() {
    let long = "B".repeat(60);
    let ndjson = format!(
        "{{\"orderId\": 1, \"cityCode\": \"BCN\"}}\n{{\"orderId\": 2, \"cityCode\": \"{long}\"}}\n"
    );
    let array = format!(
        "[\n  {{\"orderId\": 1, \"cityCode\": \"BCN\"}},\n  {{\"orderId\": 2,\n   \"cityCode\": \"{long}\"}}\n]\n"
    );
    for (format, text, line) in [(Format::Ndjson, &ndjson, 2), (Format::Json, &array, 3)] {
        let err = read_orders_limited(text, format, 64).unwrap_err();
        assert_eq!(
            err,
            format!("orders.json:{line}: a record longer than 64 bytes starts here, the most ccc reads as one record (raise it with --max-record-bytes)"),
            "{format:?}"
        );
        assert_eq!(read_orders_limited(text, format, 100), Ok(2), "{format:?}");
    }
}

#[test]
fn a_backslash_at_the_end_of_a_file_is_a_truncated_string() {
    for text in ["[\"\\", "[{\"a\": \"\\", "{\"orderId\": \"\\"] {
        let err = read_orders_limited(text, Format::Json, 1 << 20).unwrap_err();
        assert!(
            err.contains("unexpected end of file inside a string"),
            "{text}: {err}"
        );
    }
}
