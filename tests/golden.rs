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
//! `--checks off`, and the test compares the rows of every date's `part-HH.csv` files (one
//! per UTC hour of `conversation_started_at`, each holding that hour's rows sorted by
//! `order_id`, which `support::output::read_partitions` checks), prefixed with their
//! partition date, with `expected.csv`; reads every `part-HH.parquet` back and compares it
//! with the CSV, and checks the run report and the quarantine. Last, the JSON run is repeated with
//! `--threads 1` and with the records reversed: the CSV and Parquet files must be
//! byte-identical. All failures of a case are reported at once, each naming case and format.
//!
//! Run: `cargo test -p ccc-cli --test golden` (one test per case: add `-- ties_at_end`).//!
//! The source writers, the reading of the output and the diffs are in `tests/support/`.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use arrow2::datatypes::{DataType, TimeUnit};
use ccc_ingest::Table;
use serde_json::Value;
use support::diff::{field_diff, subset_diff, table_diff};
use support::output::{
    output_files, read_csv_part, read_parquet_part, read_partitions, read_quarantine,
    OUTPUT_COLUMNS, OUTPUT_TABLE, PARTITION_PREFIX,
};
use support::rfc3339::{format_micros, parse_rfc3339_micros};
use support::sources::{write_csv, write_json, write_ndjson, write_parquet, Record};

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

fn run_ccc(source: &Path, out: &Path, extra: &[&str]) -> Result<(), String> {
    let mut command = support::ccc();
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
    let csv_parts = match read_partitions(&csv_root, "csv", read_csv_part) {
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
    match read_partitions(&parquet_root, "parquet", read_parquet_part) {
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
                        "{PARTITION_PREFIX}{date}/part-*.parquet have {} rows with order_id {:?}, the CSV part {} rows with order_id {:?}",
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
                        "{PARTITION_PREFIX}{date}/part-*.parquet row {} differs from the CSV parts:\n  parquet: {}\n  csv:     {}\n{}",
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

// ---------------------------------------------------------------------------------------
// Writing the sources

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
