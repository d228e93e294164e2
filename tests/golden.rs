//! Golden end-to-end tests of `ccc run`, written from the spec (`mission.md`, "The output
//! table" and its pinned semantics), independently of the implementation.
//!
//! Each directory under `tests/golden/` is a case: `messages.json` and `orders.json` (the
//! sources, hand-written as JSON arrays), `expected.csv` (the table computed by hand:
//! `conversation_date` and the 11 output columns, sorted by date then `order_id`) and
//! `README.md` (the rule the case pins, and in a fenced `json` block the expected run
//! report: `run` is matched as a subset of `OUT/_run.json`, `quarantine_rows` counts the data
//! rows of `OUT/quarantine/<table>.csv`).
//!
//! For every case and every source format — `json` (the files as they are), `ndjson`, `csv`,
//! `parquet`, and `mixed` (records dealt round-robin over one file of each format, its Parquet
//! file with a naive timestamp column, which the spec reads as UTC) — the
//! case's records are written into a temporary source folder, the real binary runs with
//! `--checks off`, and the test compares every `part-0.csv` (prefixed with its partition
//! date) with `expected.csv`, reads every `part-0.parquet` back and compares it with its CSV
//! part, and checks the run report and the quarantine. Last, the JSON run is repeated with
//! `--threads 1` and with the records reversed: the CSV and Parquet files must be
//! byte-identical. All failures of a case are reported at once, each naming case and format.
//!
//! Run: `cargo test -p ccc-cli --test golden` (one test per case: add `-- ties_at_end`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use arrow2::array::{Array, BooleanArray, PrimitiveArray, Utf8Array};
use arrow2::chunk::Chunk;
use arrow2::datatypes::{DataType, Field, Schema, TimeUnit};
use ccc_ingest::Table;
use serde_json::Value;

/// The output table's columns, in file order.
const OUTPUT_COLUMNS: [&str; 11] = [
    "order_id",
    "city_code",
    "first_courier_message",
    "first_customer_message",
    "num_messages_courier",
    "num_messages_customer",
    "first_message_by",
    "conversation_started_at",
    "first_responsetime_delay_seconds",
    "last_message_time",
    "last_message_order_stage",
];
const OUTPUT_TABLE: &str = "customer_courier_conversations";
const PARTITION_PREFIX: &str = "conversation_date=";

macro_rules! golden_cases {
    ($($case:ident),+ $(,)?) => {
        /// Every case directory under `tests/golden/`, each with its own test.
        const CASES: &[&str] = &[$(stringify!($case)),+];
        $(
            #[test]
            fn $case() {
                check_case(stringify!($case));
            }
        )+
    };
}

golden_cases!(
    basic,
    ties_at_start,
    ties_at_end,
    one_role,
    timestamps_offsets_fractions,
    role_case_insensitive,
    duplicate_orders,
    conflicting_orders,
    orphans,
    unusable_rows,
    crosses_midnight,
    big_order_ids,
    keys_order_extra_fields,
    missing_fields,
);

#[test]
fn every_case_directory_has_a_test() {
    let mut dirs: Vec<String> = fs::read_dir(golden_dir())
        .expect("tests/golden is readable")
        .map(|e| e.expect("directory entry"))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut listed: Vec<String> = CASES.iter().map(|c| c.to_string()).collect();
    listed.sort();
    assert_eq!(
        dirs, listed,
        "add every case directory to golden_cases!(...) in tests/golden.rs"
    );
}

#[test]
fn timestamp_helpers_agree_with_the_spec_examples() {
    let base = parse_rfc3339_micros("2024-02-01T10:00:00Z").unwrap();
    assert_eq!(base, 1_706_781_600_000_000);
    assert_eq!(
        parse_rfc3339_micros("2024-02-01T11:00:00+01:00"),
        Some(base)
    );
    assert_eq!(
        parse_rfc3339_micros("2024-02-01T06:30:00-03:30"),
        Some(base)
    );
    assert_eq!(
        parse_rfc3339_micros("2024-02-01T10:00:00.25Z"),
        Some(base + 250_000)
    );
    assert_eq!(parse_rfc3339_micros("yesterday"), None);
    assert_eq!(parse_rfc3339_micros("2024-02-01T10:07:00"), None);
    assert_eq!(format_micros(base), "2024-02-01T10:00:00Z");
    assert_eq!(format_micros(base + 250_000), "2024-02-01T10:00:00.25Z");
    assert_eq!(format_micros(base + 1), "2024-02-01T10:00:00.000001Z");
    assert_eq!(format_micros(-1), "1969-12-31T23:59:59.999999Z");
    let leap = parse_rfc3339_micros("2024-03-01T00:30:00+01:00").unwrap();
    assert_eq!(format_micros(leap), "2024-02-29T23:30:00Z");
}

#[test]
fn parquet_sources_are_typed_where_the_values_allow() {
    let types_of = |case: &str, naive_time: bool| -> BTreeMap<String, DataType> {
        let case = load_case(case);
        let work = tempfile::tempdir().expect("temp dir");
        let path = work.path().join("customer_courier_chat_messages.parquet");
        write_parquet(Table::ChatMessages, &case.messages, &path, naive_time)
            .expect("parquet written");
        let mut file = fs::File::open(&path).expect("parquet file");
        let metadata = arrow2::io::parquet::read::read_metadata(&mut file).expect("metadata");
        let schema = arrow2::io::parquet::read::infer_schema(&metadata).expect("schema");
        schema
            .fields
            .into_iter()
            .map(|f| (f.name, f.data_type))
            .collect()
    };
    let types = |case: &str| types_of(case, false);
    let basic = types("basic");
    for field in Table::ChatMessages.schema().fields {
        assert_eq!(
            basic.get(&field.name),
            Some(&field.data_type),
            "basic: column {}",
            field.name
        );
    }
    let unusable = types("unusable_rows");
    assert_eq!(
        unusable["orderId"],
        DataType::Utf8,
        "\"abc\" is not an integer"
    );
    assert_eq!(
        unusable["messageSentTime"],
        DataType::Utf8,
        "\"yesterday\" is not a timestamp"
    );
    assert_eq!(unusable["fromId"], DataType::Int64);
    assert_eq!(
        types_of("basic", true)["messageSentTime"],
        DataType::Timestamp(TimeUnit::Microsecond, None)
    );
    let extra = types("keys_order_extra_fields");
    assert_eq!(extra["attachments"], DataType::Utf8);
    assert_eq!(
        extra["messageSentTime"],
        Table::ChatMessages.schema().fields[8].data_type
    );
}

// ---------------------------------------------------------------------------------------
// One case

/// A source format the case is converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Ndjson,
    Csv,
    Parquet,
    /// Records dealt round-robin over one file of each of the four formats (the Parquet one
    /// with a naive `messageSentTime` column).
    Mixed,
}

impl Format {
    const ALL: [Format; 5] = [
        Format::Json,
        Format::Ndjson,
        Format::Csv,
        Format::Parquet,
        Format::Mixed,
    ];
    const SINGLE: [Format; 4] = [Format::Json, Format::Ndjson, Format::Csv, Format::Parquet];

    fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::Mixed => "mixed",
        }
    }
}

struct Case {
    name: String,
    dir: PathBuf,
    messages: Vec<Record>,
    orders: Vec<Record>,
    /// `expected.csv` without its header: the date, then the 11 columns.
    expected: Vec<Vec<String>>,
    /// The fenced `json` block of the README.
    report: Value,
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden")
}

fn load_case(name: &str) -> Case {
    let dir = golden_dir().join(name);
    let read = |file: &str| {
        fs::read_to_string(dir.join(file))
            .unwrap_or_else(|e| panic!("[{name}] cannot read {file}: {e}"))
    };
    let records = |file: &str| -> Vec<Record> {
        serde_json::from_str(&read(file))
            .unwrap_or_else(|e| panic!("[{name}] {file} is not a JSON array of objects: {e}"))
    };
    let expected_csv = read("expected.csv");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(expected_csv.as_bytes());
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("[{name}] expected.csv: {e}"))
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    let header = if rows.is_empty() {
        Vec::new()
    } else {
        rows.remove(0)
    };
    let mut wanted = vec!["conversation_date".to_string()];
    wanted.extend(OUTPUT_COLUMNS.iter().map(|c| c.to_string()));
    assert_eq!(header, wanted, "[{name}] expected.csv has the wrong header");
    let readme = read("README.md");
    let block = readme
        .split("```json")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap_or_else(|| {
            panic!("[{name}] README.md has no ```json block with the expected run report")
        });
    let report: Value = serde_json::from_str(block)
        .unwrap_or_else(|e| panic!("[{name}] README.md's json block: {e}"));
    Case {
        name: name.to_string(),
        messages: records("messages.json"),
        orders: records("orders.json"),
        expected: rows,
        report,
        dir,
    }
}

/// Runs one case in every format and fails once, listing every problem found.
fn check_case(name: &str) {
    let case = load_case(name);
    let mut failures = Vec::new();
    let mut json_out = None;
    for format in Format::ALL {
        let label = format!("{}/{}", case.name, format.name());
        let work = tempfile::tempdir().expect("temp dir");
        let source = work.path().join("source");
        let out = work.path().join("out");
        fs::create_dir(&source).expect("source dir");
        write_sources(&case, format, &source)
            .unwrap_or_else(|e| panic!("[{label}] writing the sources: {e}"));
        if let Err(e) = run_ccc(&source, &out, &[]) {
            failures.push(format!("[{label}] {e}"));
            continue;
        }
        failures.extend(
            check_output(&case, &out)
                .into_iter()
                .map(|p| format!("[{label}] {p}")),
        );
        if format == Format::Json {
            json_out = Some(work);
        } else {
            keep_if_asked(work, &label);
        }
    }
    if let Some(work) = json_out {
        failures.extend(check_determinism(&case, &work.path().join("out")));
        keep_if_asked(work, &format!("{}/json", case.name));
    }
    if !failures.is_empty() {
        panic!(
            "golden case `{name}` failed {} check(s):\n\n{}\n",
            failures.len(),
            failures.join("\n\n")
        );
    }
}

/// With `GOLDEN_KEEP=1` in the environment, the source and output folders of each run are
/// kept (and their place printed) for a look by hand.
fn keep_if_asked(work: tempfile::TempDir, label: &str) {
    if std::env::var_os("GOLDEN_KEEP").is_some() {
        eprintln!("[{label}] kept {}", work.keep().display());
    }
}

/// Same sources with `--threads 1`, and with every table's records reversed: the output
/// files must be byte-identical to the JSON run's.
fn check_determinism(case: &Case, baseline: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    let want = match output_files(baseline) {
        Ok(files) => files,
        Err(e) => return vec![format!("[{}/determinism] {e}", case.name)],
    };
    let variants: [(&str, bool, &[&str]); 2] = [
        ("json, --threads 1", false, &["--threads", "1"]),
        ("json, records reversed", true, &[]),
    ];
    for (what, reverse, args) in variants {
        let order = |records: &[Record]| -> Vec<Record> {
            let mut records = records.to_vec();
            if reverse {
                records.reverse();
            }
            records
        };
        let (messages, orders) = (order(&case.messages), order(&case.orders));
        let label = format!("{}/determinism ({what})", case.name);
        let work = tempfile::tempdir().expect("temp dir");
        let source = work.path().join("source");
        let out = work.path().join("out");
        fs::create_dir(&source).expect("source dir");
        for (table, records) in [(Table::ChatMessages, &messages), (Table::Orders, &orders)] {
            let path = source.join(format!("{}.json", table.name()));
            write_json(records, &path)
                .unwrap_or_else(|e| panic!("[{label}] writing the sources: {e}"));
        }
        if let Err(e) = run_ccc(&source, &out, args) {
            failures.push(format!("[{label}] {e}"));
            continue;
        }
        match output_files(&out) {
            Err(e) => failures.push(format!("[{label}] {e}")),
            Ok(got) => {
                let names: Vec<&String> = want
                    .keys()
                    .chain(got.keys())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                for name in names {
                    match (want.get(name), got.get(name)) {
                        (Some(a), Some(b)) if a == b => {}
                        (Some(_), Some(_)) => failures.push(format!(
                            "[{label}] {name} differs byte-wise from the plain json run"
                        )),
                        (Some(_), None) => failures.push(format!(
                            "[{label}] {name} is missing (the plain json run wrote it)"
                        )),
                        (None, _) => failures.push(format!(
                            "[{label}] {name} was written, but not by the plain json run"
                        )),
                    }
                }
            }
        }
    }
    failures
}

/// Every file under `OUT/csv` and `OUT/parquet`, by path relative to `OUT`.
fn output_files(out: &Path) -> Result<BTreeMap<String, Vec<u8>>, String> {
    fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) -> Result<(), String> {
        let entries =
            fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                walk(root, &path, files)?;
            } else {
                let bytes =
                    fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let rel = path
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .into_owned();
                files.insert(rel, bytes);
            }
        }
        Ok(())
    }
    let mut files = BTreeMap::new();
    for sub in ["csv", "parquet"] {
        let dir = out.join(sub);
        if dir.is_dir() {
            walk(out, &dir, &mut files)?;
        }
    }
    Ok(files)
}

fn run_ccc(source: &Path, out: &Path, extra: &[&str]) -> Result<(), String> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ccc"));
    command
        .arg("run")
        .arg("--source")
        .arg(source)
        .arg("--out")
        .arg(out)
        .args(["--checks", "off"])
        .args(extra);
    let output = command
        .output()
        .map_err(|e| format!("cannot start ccc: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "`ccc run --checks off {}` exited with {} (expected 0)\n--- stderr ---\n{}\n--- stdout ---\n{}",
        extra.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr).trim_end(),
        String::from_utf8_lossy(&output.stdout).trim_end()
    ))
}

// ---------------------------------------------------------------------------------------
// Checking the output

/// Everything wrong with one run's output, as messages.
fn check_output(case: &Case, out: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let csv_root = out.join("csv").join(OUTPUT_TABLE);
    let parquet_root = out.join("parquet").join(OUTPUT_TABLE);

    // The CSV parts, prefixed with their partition date, against expected.csv.
    let csv_parts = match read_partitions(&csv_root, "part-0.csv", read_csv_part) {
        Ok(parts) => parts,
        Err(e) => {
            problems.push(e);
            BTreeMap::new()
        }
    };
    let actual: Vec<Vec<String>> = csv_parts
        .iter()
        .flat_map(|(date, rows)| {
            rows.iter().map(move |row| {
                std::iter::once(date.clone())
                    .chain(row.iter().cloned())
                    .collect()
            })
        })
        .collect();
    if actual != case.expected {
        problems.push(table_diff(&case.expected, &actual));
    }

    // Each Parquet part holds the same rows as its CSV part.
    match read_partitions(&parquet_root, "part-0.parquet", read_parquet_part) {
        Err(e) => problems.push(e),
        Ok(parquet_parts) => {
            let csv_dates: Vec<&String> = csv_parts.keys().collect();
            let parquet_dates: Vec<&String> = parquet_parts.keys().collect();
            if csv_dates != parquet_dates {
                problems.push(format!(
                    "Parquet partitions {parquet_dates:?} differ from CSV partitions {csv_dates:?}"
                ));
            }
            for (date, rows) in &parquet_parts {
                let Some(csv_rows) = csv_parts.get(date) else {
                    continue;
                };
                let ids =
                    |rows: &[Vec<String>]| rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>();
                if rows.len() != csv_rows.len() || ids(rows) != ids(csv_rows) {
                    problems.push(format!(
                        "{PARTITION_PREFIX}{date}/part-0.parquet has {} rows with order_id {:?}, the CSV part {} rows with order_id {:?}",
                        rows.len(),
                        ids(rows),
                        csv_rows.len(),
                        ids(csv_rows)
                    ));
                } else if let Some((i, (p, c))) = rows
                    .iter()
                    .zip(csv_rows)
                    .enumerate()
                    .find(|(_, (p, c))| p != c)
                {
                    problems.push(format!(
                        "{PARTITION_PREFIX}{date}/part-0.parquet row {} differs from the CSV part:\n  parquet: {}\n  csv:     {}\n{}",
                        i + 1,
                        p.join(","),
                        c.join(","),
                        field_diff(&OUTPUT_COLUMNS, p, c, "parquet", "csv")
                    ));
                }
            }
        }
    }

    // The run report.
    if let Some(want) = case.report.get("run") {
        match fs::read_to_string(out.join("_run.json")) {
            Err(e) => problems.push(format!("cannot read OUT/_run.json: {e}")),
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                Err(e) => problems.push(format!("OUT/_run.json is not JSON: {e}")),
                Ok(got) => {
                    let mut wrong = Vec::new();
                    subset_diff("", want, &got, &mut wrong);
                    if !wrong.is_empty() {
                        problems.push(format!(
                            "OUT/_run.json does not hold the expected counts:\n  {}",
                            wrong.join("\n  ")
                        ));
                    }
                }
            },
        }
    }

    // The quarantine.
    if let Some(Value::Object(tables)) = case.report.get("quarantine_rows") {
        for (table, want) in tables {
            let want = want.as_u64().expect("quarantine_rows values are counts");
            let path = out.join("quarantine").join(format!("{table}.csv"));
            match read_quarantine(&path) {
                Err(e) => problems.push(e),
                Ok((rows, row_problems)) => {
                    if rows != want {
                        problems.push(format!(
                            "OUT/quarantine/{table}.csv has {rows} data rows, expected {want}"
                        ));
                    }
                    problems.extend(
                        row_problems
                            .into_iter()
                            .map(|p| format!("OUT/quarantine/{table}.csv: {p}")),
                    );
                }
            }
        }
    }
    problems
}

/// Reads `root/conversation_date=YYYY-MM-DD/<file>` for every partition, by date. A missing
/// root means no partition.
fn read_partitions(
    root: &Path,
    file: &str,
    read: fn(&Path) -> Result<Vec<Vec<String>>, String>,
) -> Result<BTreeMap<String, Vec<Vec<String>>>, String> {
    let mut parts = BTreeMap::new();
    if !root.exists() {
        return Ok(parts);
    }
    let entries = fs::read_dir(root).map_err(|e| format!("cannot list {}: {e}", root.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let dir_name = entry.file_name().to_string_lossy().into_owned();
        let Some(date) = dir_name.strip_prefix(PARTITION_PREFIX) else {
            continue;
        };
        let path = entry.path().join(file);
        let rows = read(&path).map_err(|e| format!("{dir_name}/{file}: {e}"))?;
        parts.insert(date.to_string(), rows);
    }
    Ok(parts)
}

fn read_csv_part(path: &Path) -> Result<Vec<Vec<String>>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| format!("cannot open: {e}"))?;
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("bad CSV: {e}"))?;
        let row: Vec<String> = record.iter().map(str::to_string).collect();
        if i == 0 {
            if row != OUTPUT_COLUMNS {
                return Err(format!("header is {row:?}, expected {OUTPUT_COLUMNS:?}"));
            }
            continue;
        }
        if row.len() != OUTPUT_COLUMNS.len() {
            return Err(format!(
                "line {} has {} fields, expected {}: {row:?}",
                i + 1,
                row.len(),
                OUTPUT_COLUMNS.len()
            ));
        }
        rows.push(row);
    }
    Ok(rows)
}

/// A Parquet part as rows of text, formatted the way the CSV output is.
fn read_parquet_part(path: &Path) -> Result<Vec<Vec<String>>, String> {
    use arrow2::io::parquet::read;
    let mut file = fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let metadata =
        read::read_metadata(&mut file).map_err(|e| format!("bad Parquet metadata: {e}"))?;
    let schema = read::infer_schema(&metadata).map_err(|e| format!("bad Parquet schema: {e}"))?;
    let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
    if names != OUTPUT_COLUMNS {
        return Err(format!(
            "columns are {names:?}, expected {OUTPUT_COLUMNS:?}"
        ));
    }
    let mut rows = Vec::new();
    for chunk in read::FileReader::new(file, metadata.row_groups, schema, None, None, None) {
        let chunk = chunk.map_err(|e| format!("cannot read: {e}"))?;
        let columns: Vec<Vec<String>> = chunk
            .arrays()
            .iter()
            .zip(&OUTPUT_COLUMNS)
            .map(|(array, name)| cells(array.as_ref()).map_err(|e| format!("column {name}: {e}")))
            .collect::<Result<_, _>>()?;
        for row in 0..chunk.len() {
            rows.push(columns.iter().map(|c| c[row].clone()).collect());
        }
    }
    Ok(rows)
}

/// One Arrow column as CSV text: integers in decimal, timestamps as RFC 3339 UTC, null empty.
fn cells(array: &dyn Array) -> Result<Vec<String>, String> {
    fn text<T: ToString>(values: impl Iterator<Item = Option<T>>) -> Vec<String> {
        values
            .map(|v| v.map(|v| v.to_string()).unwrap_or_default())
            .collect()
    }
    let data_type = array.data_type().to_logical_type().clone();
    Ok(match data_type {
        DataType::Int64 => text(
            array
                .as_any()
                .downcast_ref::<PrimitiveArray<i64>>()
                .expect("i64")
                .iter(),
        ),
        DataType::Int32 => text(
            array
                .as_any()
                .downcast_ref::<PrimitiveArray<i32>>()
                .expect("i32")
                .iter(),
        ),
        DataType::Utf8 => text(
            array
                .as_any()
                .downcast_ref::<Utf8Array<i32>>()
                .expect("utf8")
                .iter(),
        ),
        DataType::LargeUtf8 => text(
            array
                .as_any()
                .downcast_ref::<Utf8Array<i64>>()
                .expect("large utf8")
                .iter(),
        ),
        DataType::Timestamp(unit, _) => {
            let values = array
                .as_any()
                .downcast_ref::<PrimitiveArray<i64>>()
                .expect("timestamp");
            let micros = |v: i64| match unit {
                TimeUnit::Second => v * 1_000_000,
                TimeUnit::Millisecond => v * 1_000,
                TimeUnit::Microsecond => v,
                TimeUnit::Nanosecond => v.div_euclid(1_000),
            };
            values
                .iter()
                .map(|v| v.map(|v| format_micros(micros(*v))).unwrap_or_default())
                .collect()
        }
        DataType::Dictionary(..) => {
            let utf8 = arrow2::compute::cast::cast(array, &DataType::Utf8, Default::default())
                .map_err(|e| e.to_string())?;
            return cells(utf8.as_ref());
        }
        DataType::Null => vec![String::new(); array.len()],
        other => return Err(format!("unexpected Arrow type {other:?}")),
    })
}

/// Data rows of a quarantine file, and what is wrong with its columns or rows.
fn read_quarantine(path: &Path) -> Result<(u64, Vec<String>), String> {
    let name = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| format!("cannot open OUT/quarantine/{name}: {e}"))?;
    let header = reader
        .headers()
        .map_err(|e| format!("OUT/quarantine/{name}: {e}"))?
        .clone();
    let mut problems = Vec::new();
    let position = |column: &str| header.iter().position(|h| h == column);
    for column in ["_reason", "_file", "_record", "_line"] {
        if position(column).is_none() && !header.is_empty() {
            problems.push(format!(
                "no `{column}` column in header {:?}",
                header.iter().collect::<Vec<_>>()
            ));
        }
    }
    let mut rows = 0;
    for record in reader.records() {
        let record = record.map_err(|e| format!("OUT/quarantine/{name}: {e}"))?;
        rows += 1;
        for column in ["_reason", "_file"] {
            if let Some(i) = position(column) {
                if record.get(i).unwrap_or("").is_empty() {
                    problems.push(format!("data row {rows} has an empty `{column}`"));
                }
            }
        }
    }
    Ok((rows, problems))
}

/// Every leaf of `want` must be in `got` with the same value.
fn subset_diff(path: &str, want: &Value, got: &Value, wrong: &mut Vec<String>) {
    match want {
        Value::Object(fields) => {
            for (key, value) in fields {
                let sub = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match got.get(key) {
                    Some(actual) => subset_diff(&sub, value, actual, wrong),
                    None => wrong.push(format!("{sub}: expected {value}, missing")),
                }
            }
        }
        _ if want == got => {}
        _ => wrong.push(format!("{path}: expected {want}, actual {got}")),
    }
}

/// Expected and actual tables, row by row, with the differing columns named.
fn table_diff(expected: &[Vec<String>], actual: &[Vec<String>]) -> String {
    let mut columns = vec!["conversation_date"];
    columns.extend(OUTPUT_COLUMNS);
    let mut out = format!(
        "the table differs from expected.csv ({} expected rows, {} actual); columns: {}\n",
        expected.len(),
        actual.len(),
        columns.join(",")
    );
    for i in 0..expected.len().max(actual.len()) {
        let (e, a) = (expected.get(i), actual.get(i));
        let line = |row: Option<&Vec<String>>| {
            row.map(|r| r.join(","))
                .unwrap_or_else(|| "<no row>".to_string())
        };
        if e == a {
            let _ = writeln!(out, "    row {:>2}   same:     {}", i + 1, line(e));
            continue;
        }
        let _ = writeln!(out, "  ! row {:>2}   expected: {}", i + 1, line(e));
        let _ = writeln!(out, "             actual:   {}", line(a));
        if let (Some(e), Some(a)) = (e, a) {
            out.push_str(&field_diff(&columns, e, a, "expected", "actual"));
        }
    }
    out
}

fn field_diff(
    columns: &[&str],
    left: &[String],
    right: &[String],
    left_name: &str,
    right_name: &str,
) -> String {
    let mut out = String::new();
    for (i, column) in columns.iter().enumerate() {
        let (l, r) = (left.get(i), right.get(i));
        if l != r {
            let show =
                |v: Option<&String>| v.map_or("<no field>".to_string(), |v| format!("{v:?}"));
            let _ = writeln!(
                out,
                "               {column}: {left_name} {}, {right_name} {}",
                show(l),
                show(r)
            );
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Writing the sources

/// A JSON object with its keys in file order (`serde_json::Map` would sort them).
#[derive(Debug, Clone)]
struct Record(Vec<(String, Value)>);

impl Record {
    /// The value of a key; null and missing are the same.
    fn get(&self, key: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    }
}

impl<'de> serde::Deserialize<'de> for Record {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = Record;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Record, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    fields.push(entry);
                }
                Ok(Record(fields))
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

impl serde::Serialize for Record {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// Every key of the records, in first-seen order.
fn keys(records: &[Record]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for record in records {
        for (key, _) in &record.0 {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
    }
    keys
}

/// A value as source text: strings as they are, everything else as JSON.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn write_sources(case: &Case, format: Format, dir: &Path) -> Result<(), String> {
    for (table, records, json_file) in [
        (Table::ChatMessages, &case.messages, "messages.json"),
        (Table::Orders, &case.orders, "orders.json"),
    ] {
        let stem = table.name();
        match format {
            Format::Json => {
                let target = dir.join(format!("{stem}.json"));
                fs::copy(case.dir.join(json_file), &target)
                    .map_err(|e| format!("copying {json_file}: {e}"))?;
            }
            Format::Ndjson => {
                // Both extensions the spec names: messages as .ndjson, orders as .jsonl.
                let ext = if table == Table::Orders {
                    "jsonl"
                } else {
                    "ndjson"
                };
                write_ndjson(records, &dir.join(format!("{stem}.{ext}")))?;
            }
            Format::Csv => write_csv(records, &dir.join(format!("{stem}.csv")))?,
            Format::Parquet => {
                write_parquet(table, records, &dir.join(format!("{stem}.parquet")), false)?
            }
            Format::Mixed => {
                for (i, single) in Format::SINGLE.into_iter().enumerate() {
                    let part: Vec<Record> = records
                        .iter()
                        .skip(i)
                        .step_by(Format::SINGLE.len())
                        .cloned()
                        .collect();
                    if part.is_empty() {
                        continue;
                    }
                    let path = dir.join(format!("{stem}_{i}.{}", single.name()));
                    match single {
                        Format::Json => write_json(&part, &path)?,
                        Format::Ndjson => write_ndjson(&part, &path)?,
                        Format::Csv => write_csv(&part, &path)?,
                        Format::Parquet => write_parquet(table, &part, &path, true)?,
                        Format::Mixed => unreachable!("not a single format"),
                    }
                }
            }
        }
    }
    Ok(())
}

fn write_json(records: &[Record], path: &Path) -> Result<(), String> {
    let text = serde_json::to_string_pretty(records).map_err(|e| e.to_string())?;
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn write_ndjson(records: &[Record], path: &Path) -> Result<(), String> {
    let mut text = String::new();
    for record in records {
        text.push_str(&serde_json::to_string(record).map_err(|e| e.to_string())?);
        text.push('\n');
    }
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Header = the union of keys; an empty field for null or missing; booleans `true`/`false`;
/// strings as they are; anything else as its JSON text.
fn write_csv(records: &[Record], path: &Path) -> Result<(), String> {
    let keys = keys(records);
    let err = |e: csv::Error| format!("{}: {e}", path.display());
    let mut writer = csv::Writer::from_path(path).map_err(err)?;
    writer.write_record(&keys).map_err(err)?;
    for record in records {
        writer
            .write_record(
                keys.iter()
                    .map(|k| record.get(k).map(text_of).unwrap_or_default()),
            )
            .map_err(err)?;
    }
    writer
        .flush()
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// One column per key. A column of the source schema gets its type (Int64, Utf8, Boolean,
/// Timestamp(µs, UTC) parsed from the RFC 3339 text — or a naive Timestamp(µs), which the
/// spec reads as UTC, when `naive_time`) when every value fits it; otherwise, and for unknown
/// fields, it is a Utf8 column of the values' text, which the reader parses.
fn write_parquet(
    table: Table,
    records: &[Record],
    path: &Path,
    naive_time: bool,
) -> Result<(), String> {
    let schema = table.schema();
    let mut fields = Vec::new();
    let mut arrays: Vec<Box<dyn Array>> = Vec::new();
    for key in keys(records) {
        let values: Vec<Option<&Value>> = records.iter().map(|r| r.get(&key)).collect();
        let declared = schema
            .fields
            .iter()
            .find(|f| f.name == key)
            .map(|f| match &f.data_type {
                DataType::Timestamp(unit, _) if naive_time => DataType::Timestamp(*unit, None),
                other => other.clone(),
            });
        let array = declared
            .and_then(|t| typed_array(&t, &values))
            .unwrap_or_else(|| {
                let text: Vec<Option<String>> = values.iter().map(|v| v.map(text_of)).collect();
                Utf8Array::<i32>::from(text).boxed()
            });
        fields.push(Field::new(key, array.data_type().clone(), true));
        arrays.push(array);
    }
    ccc_ingest::parquet_io::write_parquet(path, &Schema::from(fields), vec![Chunk::new(arrays)])
        .map_err(|e| e.to_string())
}

/// The column in its schema type, if every non-null value fits it.
fn typed_array(data_type: &DataType, values: &[Option<&Value>]) -> Option<Box<dyn Array>> {
    fn all<T>(
        values: &[Option<&Value>],
        convert: impl Fn(&Value) -> Option<T>,
    ) -> Option<Vec<Option<T>>> {
        values
            .iter()
            .map(|v| v.map_or(Some(None), |v| convert(v).map(Some)))
            .collect()
    }
    Some(match data_type {
        DataType::Int64 => PrimitiveArray::<i64>::from(all(values, Value::as_i64)?).boxed(),
        DataType::Boolean => BooleanArray::from(all(values, Value::as_bool)?).boxed(),
        DataType::Utf8 => {
            Utf8Array::<i32>::from(all(values, |v| v.as_str().map(str::to_string))?).boxed()
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            let micros = all(values, |v| v.as_str().and_then(parse_rfc3339_micros))?;
            PrimitiveArray::<i64>::from(micros)
                .to(data_type.clone())
                .boxed()
        }
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------
// Timestamps, written here so that the test does not share the implementation's code

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` to microseconds since the epoch, UTC
/// (fraction digits past the sixth are dropped).
fn parse_rfc3339_micros(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let number = |from: usize, to: usize| -> Option<i64> {
        let digits = text.get(from..to)?;
        digits
            .bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (number(0, 4)?, number(5, 7)?, number(8, 10)?);
    let (hour, minute, second) = (number(11, 13)?, number(14, 16)?, number(17, 19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut fraction = 0;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let digits = format!("{:0<6}", &text[start..i.min(start + 6)]);
        fraction = digits.parse::<i64>().ok()?;
    }
    let offset_seconds = match text.get(i..)? {
        "Z" => 0,
        zone if zone.len() == 6
            && (zone.starts_with('+') || zone.starts_with('-'))
            && &zone[3..4] == ":" =>
        {
            let (h, m) = (number(i + 1, i + 3)?, number(i + 4, i + 6)?);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        }
        _ => return None,
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_seconds;
    Some(seconds * 1_000_000 + fraction)
}

/// Microseconds since the epoch as RFC 3339 UTC, the fraction only when non-zero.
fn format_micros(micros: i64) -> String {
    let (seconds, fraction) = (micros.div_euclid(1_000_000), micros.rem_euclid(1_000_000));
    let (days, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let mut text = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    );
    if fraction != 0 {
        text.push('.');
        text.push_str(format!("{fraction:06}").trim_end_matches('0'));
    }
    text.push('Z');
    text
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if month <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        month,
        day,
    )
}
