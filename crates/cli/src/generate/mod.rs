//! The data generator behind `ccc generate`: realistic `customer_courier_chat_messages`
//! and `orders` sources in every format ccc reads, deterministic by seed, optionally with
//! bad records (`dirty`) and late records (`late`), plus a manifest `_generated.json`
//! saying exactly what was written and injected.
//!
//! How it works: orders are generated in blocks of consecutive orders, each order from
//! its own random streams derived from `(seed, order index)` (see `model.rs`), so blocks
//! are generated and formatted in parallel and the output is byte-identical whatever the
//! thread count. Orders start in time order over seven days from 2024-02-01, so a block
//! covers a short stretch of time; its records are sorted by time and split by file
//! (file `k` of `K` holds the `k`-th time slice of the week), and the pieces are appended
//! to the files in block order: for text formats by a writer thread while the next window
//! of blocks is generated; for Parquet as row groups, the files written in parallel at
//! the end (`write_parquet` takes whole files, so Parquet output is held in memory).
//!
//! ```no_run
//! use ccc_cli::generate::{generate, GenerateOptions};
//! let summary = generate(&GenerateOptions { orders: 1000, ..Default::default() }, "data/source".as_ref())?;
//! println!("{} messages, {} orders", summary.messages, summary.orders);
//! # Ok::<(), ccc_cli::generate::GenerateError>(())
//! ```

mod columnar;
mod dirty;
mod error;
mod model;
mod sink;
mod text;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use rayon::prelude::*;

pub use dirty::DirtyKind;
use error::io_err;
pub use error::GenerateError;
use model::{Message, Model, OrderRow};
use sink::{FileReport, Piece, TableFiles, Tally};

use ccc_ingest::schema::Table;
use ccc_ingest::Format;

/// The manifest's file name, written beside the generated files.
pub const MANIFEST_FILE: &str = "_generated.json";
/// The most files per table (file names carry four digits).
pub const MAX_FILES: u32 = 9999;
/// The most injected records the manifest lists one by one (counts are always complete).
pub const MAX_LISTED_RECORDS: usize = 10_000;

/// Orders per block: the unit of parallel work.
const BLOCK_ORDERS: u64 = 2048;
/// Blocks generated in parallel before their pieces are handed to the writer.
const WINDOW_BLOCKS: u64 = 16;

/// What to generate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GenerateOptions {
    /// Number of orders; each has 1–12 messages (about 6.6 on average).
    pub orders: u64,
    /// Seed of every random choice: the same options give byte-identical files.
    pub seed: u64,
    /// Output format of both tables.
    pub format: Format,
    /// Files per table (at least 1, at most [`MAX_FILES`]); file `k` holds the `k`-th
    /// time slice of the generated week.
    pub files: u32,
    /// Fraction (0–1) of message records and of orders records with one bad field.
    pub dirty: f64,
    /// Fraction (0–1) of messages written to a later file than their time says, and of
    /// orders whose record is only in a file after all their messages. No effect with one file.
    pub late: f64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            orders: 500,
            seed: 42,
            format: Format::Json,
            files: 1,
            dirty: 0.0,
            late: 0.0,
        }
    }
}

/// One injected bad value and where it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InjectedRecord {
    /// The table.
    pub table: Table,
    /// The file name (in the output folder).
    pub file: String,
    /// 1-based record number within the file (as [`ccc_ingest::FieldProblem::record`] counts).
    pub record: u64,
    /// The broken column.
    pub column: &'static str,
    /// How it was broken.
    pub kind: DirtyKind,
    /// The value written, as a JSON literal (`null`, `""`, `"abc"`, `7`); in CSV it is
    /// the same text unquoted (so `null` and `""` are both an empty field).
    pub value: String,
}

/// Everything injected into a generated data set.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Injected {
    /// Dirty records per table name (each has exactly one bad field).
    pub dirty_records: BTreeMap<String, u64>,
    /// `"table.column"` → kind name (`null`, `empty`, `wrong_type`, `unknown_value`,
    /// `bad_timestamp`) → number of records; only non-zero counts appear.
    pub fields: BTreeMap<String, BTreeMap<String, u64>>,
    /// Message records written to a later file than their time slice.
    pub late_messages: u64,
    /// Orders whose record (and its duplicate, if any) is only in a file after every
    /// one of their messages.
    pub late_orders: u64,
    /// The injected records one by one, sorted by table, file and record: all of them,
    /// or when there are more than [`MAX_LISTED_RECORDS`], the first ones generated.
    pub records: Vec<InjectedRecord>,
    /// False when `records` was cut at [`MAX_LISTED_RECORDS`].
    pub records_complete: bool,
}

impl Injected {
    /// How many records of `table` had `column` broken in the way `kind`.
    pub fn count(&self, table: Table, column: &str, kind: DirtyKind) -> u64 {
        self.fields
            .get(&format!("{}.{}", table.name(), column))
            .and_then(|kinds| kinds.get(kind.name()))
            .copied()
            .unwrap_or(0)
    }

    /// How many records of `table` are dirty.
    pub fn dirty(&self, table: Table) -> u64 {
        self.dirty_records.get(table.name()).copied().unwrap_or(0)
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateSummary {
    /// Message records written.
    pub messages: u64,
    /// Distinct orders.
    pub orders: u64,
    /// Orders records written (a few orders have two identical records).
    pub order_rows: u64,
    /// The data files written: messages files then orders files, each in file order.
    pub files: Vec<PathBuf>,
    /// The manifest, [`MANIFEST_FILE`] in the output folder.
    pub manifest: PathBuf,
    /// What was injected.
    pub injected: Injected,
    /// Source files of either table already in the folder that this run did not write
    /// (left alone; a reader of the folder would read them too).
    pub stale_files: Vec<PathBuf>,
}

/// The files of both tables and the tally of what went into them.
struct Writer {
    messages: TableFiles<Message>,
    orders: TableFiles<OrderRow>,
    tally: Tally,
    late_orders: u64,
}

impl Writer {
    /// Appends a window of blocks, in block order.
    fn take(&mut self, window: Vec<BlockOut>) -> Result<(), GenerateError> {
        for block in window {
            self.late_orders += block.late_orders;
            for piece in block.messages {
                self.messages.append(piece, &mut self.tally)?;
            }
            for piece in block.orders {
                self.orders.append(piece, &mut self.tally)?;
            }
        }
        Ok(())
    }
}

/// What a block of orders becomes: per table, pieces by file.
struct BlockOut {
    messages: Vec<Piece<Message>>,
    orders: Vec<Piece<OrderRow>>,
    late_orders: u64,
}

/// Generates the sources described by `options` into `out_dir` (created if needed;
/// files of the same names are overwritten), and writes the manifest [`MANIFEST_FILE`].
///
/// Errors name the file or folder; invalid options are refused before anything is written.
pub fn generate(
    options: &GenerateOptions,
    out_dir: &Path,
) -> Result<GenerateSummary, GenerateError> {
    validate(options)?;
    std::fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;
    let model = Model::new(options);
    let format = options.format;
    let mut writer = Writer {
        messages: TableFiles::create(out_dir, format, options.files)?,
        orders: TableFiles::create(out_dir, format, options.files)?,
        tally: Tally::new(MAX_LISTED_RECORDS),
        late_orders: 0,
    };
    let blocks = options.orders.div_ceil(BLOCK_ORDERS);
    let windows = (0..blocks).step_by(WINDOW_BLOCKS as usize).map(|start| {
        (start..(start + WINDOW_BLOCKS).min(blocks))
            .into_par_iter()
            .map(|b| {
                let first = b * BLOCK_ORDERS;
                let block = model.block(first, (first + BLOCK_ORDERS).min(options.orders));
                BlockOut {
                    messages: sink::split(&block.messages, format),
                    orders: sink::split(&block.orders, format),
                    late_orders: block.late_orders,
                }
            })
            .collect::<Vec<BlockOut>>()
    });
    if format == Format::Parquet {
        // Nothing is written until the end: row groups are built as windows arrive.
        for window in windows {
            writer.take(window)?;
            writer.messages.cut_row_groups(false);
            writer.orders.cut_row_groups(false);
        }
    } else {
        // One thread writes (I/O only, no rayon work, so it never waits for the pool)
        // while the pool generates and formats the next window.
        writer = std::thread::scope(|scope| {
            let (tx, rx) = mpsc::sync_channel::<Vec<BlockOut>>(1);
            let thread = scope.spawn(move || -> Result<Writer, GenerateError> {
                for window in rx {
                    writer.take(window)?;
                }
                Ok(writer)
            });
            for window in windows {
                if tx.send(window).is_err() {
                    break; // the writer stopped on an error, which join reports
                }
            }
            drop(tx);
            match thread.join() {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })?;
    }
    let Writer {
        messages,
        orders,
        tally,
        late_orders,
    } = writer;

    let (mut reports, mut jobs) = messages.finish()?;
    let (order_reports, order_jobs) = orders.finish()?;
    reports.extend(order_reports);
    jobs.extend(order_jobs);
    let results: Vec<Result<(), GenerateError>> = jobs
        .into_par_iter()
        .map(|(path, table, chunks)| {
            ccc_transform::publish::parquet_file::write_parquet(&path, &table.schema(), chunks)
                .map_err(GenerateError::from)
        })
        .collect();
    results.into_iter().collect::<Result<Vec<()>, _>>()?;

    let injected = injected_from(&tally, late_orders);
    let count = |table: Table| {
        reports
            .iter()
            .filter(|r| r.table == table)
            .map(|r| r.records)
            .sum::<u64>()
    };
    let summary = GenerateSummary {
        messages: count(Table::ChatMessages),
        orders: options.orders,
        order_rows: count(Table::Orders),
        files: reports.iter().map(|r| r.path.clone()).collect(),
        manifest: out_dir.join(MANIFEST_FILE),
        injected,
        stale_files: stale_files(out_dir, &reports)?,
    };
    write_manifest(options, &summary, &reports)?;
    Ok(summary)
}

fn validate(options: &GenerateOptions) -> Result<(), GenerateError> {
    let problem = if options.files == 0 || options.files > MAX_FILES {
        Some(format!(
            "files must be between 1 and {MAX_FILES}, not {}",
            options.files
        ))
    } else if !(0.0..=1.0).contains(&options.dirty) {
        Some(format!(
            "dirty must be a fraction between 0 and 1, not {}",
            options.dirty
        ))
    } else if !(0.0..=1.0).contains(&options.late) {
        Some(format!(
            "late must be a fraction between 0 and 1, not {}",
            options.late
        ))
    } else if options.orders > 1 << 40 {
        Some(format!(
            "orders must be at most 2^40, not {}",
            options.orders
        ))
    } else {
        None
    };
    match problem {
        Some(message) => Err(GenerateError::InvalidOptions { message }),
        None => Ok(()),
    }
}

fn injected_from(tally: &Tally, late_orders: u64) -> Injected {
    let mut injected = Injected {
        late_messages: tally.late_records[0],
        late_orders,
        records: {
            let mut records = tally.records.clone();
            records.sort_by(|a, b| (a.table, &a.file, a.record).cmp(&(b.table, &b.file, b.record)));
            records
        },
        records_complete: tally.complete,
        ..Injected::default()
    };
    for (t, table) in Table::ALL.into_iter().enumerate() {
        injected
            .dirty_records
            .insert(table.name().to_string(), tally.dirty_records[t]);
        for (c, (column, _)) in table.columns().iter().enumerate() {
            let kinds: BTreeMap<String, u64> = DirtyKind::ALL
                .iter()
                .zip(tally.counts[t][c])
                .filter(|(_, n)| *n > 0)
                .map(|(k, n)| (k.name().to_string(), n))
                .collect();
            if !kinds.is_empty() {
                injected
                    .fields
                    .insert(format!("{}.{}", table.name(), column), kinds);
            }
        }
    }
    injected
}

/// Source files of the tables in `dir` other than the ones just written.
fn stale_files(dir: &Path, written: &[FileReport]) -> Result<Vec<PathBuf>, GenerateError> {
    let ours: BTreeSet<&str> = written.iter().map(|r| r.name.as_str()).collect();
    let mut stale = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let source =
            Table::from_file_name(&name).is_some() && Format::from_file_name(&name).is_some();
        if source && !ours.contains(name.as_str()) {
            stale.push(entry.path());
        }
    }
    stale.sort();
    Ok(stale)
}

/// The manifest's layout.
#[derive(serde::Serialize)]
struct Manifest<'a> {
    generator: &'static str,
    manifest_version: u32,
    options: &'a GenerateOptions,
    time: TimeInfo,
    counts: Counts,
    files: &'a [FileReport],
    injected: &'a Injected,
    notes: Notes,
}

#[derive(serde::Serialize)]
struct TimeInfo {
    start: &'static str,
    days: i64,
    seconds_per_file: f64,
}

#[derive(serde::Serialize)]
struct Counts {
    messages: u64,
    orders: u64,
    order_rows: u64,
    duplicate_order_rows: u64,
}

#[derive(serde::Serialize)]
struct Notes {
    csv_empty_is_null: bool,
    late_effective: bool,
    late: &'static str,
    dirty: &'static str,
    applicable_kinds: BTreeMap<String, Vec<DirtyKind>>,
}

fn write_manifest(
    options: &GenerateOptions,
    summary: &GenerateSummary,
    reports: &[FileReport],
) -> Result<(), GenerateError> {
    let path = &summary.manifest;
    let late_effective = options.files > 1;
    let applicable_kinds = Table::ALL
        .into_iter()
        .flat_map(|t| {
            t.columns().iter().map(move |(name, ty)| {
                (
                    format!("{}.{}", t.name(), name),
                    dirty::kinds_for(name, *ty, options.format),
                )
            })
        })
        .collect();
    let manifest = Manifest {
        generator: "ccc generate",
        manifest_version: 1,
        options,
        time: TimeInfo {
            start: "2024-02-01T00:00:00Z",
            days: model::DAYS,
            seconds_per_file: (model::DAYS * 86_400) as f64 / f64::from(options.files),
        },
        counts: Counts {
            messages: summary.messages,
            orders: summary.orders,
            order_rows: summary.order_rows,
            duplicate_order_rows: summary.order_rows - summary.orders,
        },
        files: reports,
        injected: &summary.injected,
        notes: Notes {
            csv_empty_is_null: options.format == Format::Csv,
            late_effective,
            late: if late_effective {
                "file k holds the k-th time slice; late messages are in a later file than their slice, \
                 late orders have their record only in a file after all their messages"
            } else {
                "one file per table: there is no later file, so late has no effect"
            },
            dirty: "each dirty record has exactly one bad field, broken in exactly one way; Parquet columns are \
                    typed, so Parquet only gets null, empty (string columns) and unknown_value",
            applicable_kinds,
        },
    };
    let mut text =
        serde_json::to_vec_pretty(&manifest).map_err(|e| io_err(path)(std::io::Error::from(e)))?;
    text.push(b'\n');
    let mut file = std::fs::File::create(path).map_err(io_err(path))?;
    file.write_all(&text).map_err(io_err(path))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow2::array::{PrimitiveArray, Utf8Array};
    use ccc_ingest::schema::{FieldType, MESSAGE_SENT_TIME, ORDER_ID};
    use ccc_ingest::{FieldProblem, Sources, TableData};
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    const FORMATS: [Format; 4] = [Format::Json, Format::Ndjson, Format::Csv, Format::Parquet];

    fn opts(orders: u64, format: Format) -> GenerateOptions {
        GenerateOptions {
            orders,
            format,
            ..Default::default()
        }
    }

    fn read(dir: &Path) -> Sources {
        ccc_ingest::read_sources(
            ccc_ingest::discover(dir).unwrap(),
            &Default::default(),
            &|_| {},
        )
        .unwrap()
    }

    fn bytes_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect()
    }

    /// Every value of a column with its file name and 1-based record number.
    fn column<'a>(
        sources: &'a Sources,
        data: &'a TableData,
        name: &str,
    ) -> Vec<(&'a str, u64, Option<String>)> {
        let c = data.table.column_index(name).unwrap();
        let mut out = Vec::new();
        for batch in &data.batches {
            let file = sources.files[batch.file as usize].name.as_str();
            let array = batch.chunk.arrays()[c].as_ref();
            for row in 0..batch.len() {
                let value = if array.is_null(row) {
                    None
                } else if let Some(a) = array.as_any().downcast_ref::<Utf8Array<i32>>() {
                    Some(a.value(row).to_string())
                } else if let Some(a) = array.as_any().downcast_ref::<PrimitiveArray<i64>>() {
                    Some(a.value(row).to_string())
                } else if let Some(a) = array.as_any().downcast_ref::<arrow2::array::BooleanArray>()
                {
                    Some(a.value(row).to_string())
                } else {
                    panic!("unexpected array type")
                };
                out.push((file, batch.first_record + row as u64, value));
            }
        }
        out
    }

    fn run_in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(f)
    }

    #[test]
    fn same_options_give_the_same_bytes_whatever_the_thread_count() {
        for format in FORMATS {
            let options = GenerateOptions {
                orders: 5000,
                files: 3,
                dirty: 0.05,
                late: 0.1,
                ..opts(0, format)
            };
            let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            run_in_pool(1, || generate(&options, a.path()).unwrap());
            run_in_pool(4, || generate(&options, b.path()).unwrap());
            let (a, b) = (bytes_of(a.path()), bytes_of(b.path()));
            assert_eq!(a.len(), 7, "{format:?}: 3 + 3 files and the manifest");
            assert!(a == b, "{format:?}: outputs differ");
        }
        // Several windows of blocks, and a different seed gives different data.
        let options = GenerateOptions {
            orders: 40_000,
            ..opts(0, Format::Ndjson)
        };
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        run_in_pool(1, || generate(&options, a.path()).unwrap());
        run_in_pool(3, || generate(&options, b.path()).unwrap());
        generate(
            &GenerateOptions {
                seed: 7,
                ..options.clone()
            },
            c.path(),
        )
        .unwrap();
        assert!(bytes_of(a.path()) == bytes_of(b.path()));
        assert!(bytes_of(a.path()) != bytes_of(c.path()));
    }

    #[test]
    fn every_format_reads_back_clean() {
        let mut reference: Option<BTreeMap<(String, String), usize>> = None;
        for format in FORMATS {
            let dir = tempfile::tempdir().unwrap();
            let summary = generate(&opts(3000, format), dir.path()).unwrap();
            let ext = format.extension();
            let names: Vec<String> = summary
                .files
                .iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect();
            assert_eq!(
                names,
                [
                    format!("customer_courier_chat_messages.{ext}"),
                    format!("orders.{ext}")
                ]
            );
            assert!(summary.stale_files.is_empty());
            assert!(
                summary.order_rows > summary.orders,
                "some duplicated orders rows"
            );
            let sources = read(dir.path());
            assert_eq!(
                sources.messages.row_count() as u64,
                summary.messages,
                "{format:?}"
            );
            assert_eq!(
                sources.orders.row_count() as u64,
                summary.order_rows,
                "{format:?}"
            );
            assert!(
                sources.messages.problems.is_empty(),
                "{format:?}: {:?}",
                &sources.messages.problems[..1]
            );
            assert!(sources.orders.problems.is_empty(), "{format:?}");
            for (name, _) in Table::ChatMessages.columns() {
                assert!(
                    column(&sources, &sources.messages, name)
                        .iter()
                        .all(|v| v.2.is_some()),
                    "{format:?} {name}"
                );
            }
            // Distinct orders, one city each, every message's order known, big ids exact.
            let mut cities: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            let ids = column(&sources, &sources.orders, ORDER_ID);
            let city = column(&sources, &sources.orders, ccc_ingest::schema::CITY_CODE);
            for (id, c) in ids.iter().zip(&city) {
                cities
                    .entry(id.2.clone().unwrap())
                    .or_default()
                    .insert(c.2.clone().unwrap());
            }
            assert_eq!(cities.len() as u64, summary.orders);
            assert!(cities.values().all(|c| c.len() == 1));
            let message_ids = column(&sources, &sources.messages, ORDER_ID);
            assert!(message_ids
                .iter()
                .all(|m| cities.contains_key(m.2.as_ref().unwrap())));
            assert!(cities.keys().any(|id| id.parse::<i64>().unwrap() > 1 << 53));
            // The same values in every format (times as instants, whatever the offset).
            let mut values = BTreeMap::new();
            for (name, _) in Table::ChatMessages.columns() {
                for v in column(&sources, &sources.messages, name) {
                    *values.entry((name.to_string(), v.2.unwrap())).or_insert(0) += 1;
                }
            }
            match &reference {
                None => reference = Some(values),
                Some(r) => assert!(*r == values, "{format:?} holds other values than JSON"),
            }
            let manifest: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&summary.manifest).unwrap()).unwrap();
            assert_eq!(manifest["counts"]["messages"], summary.messages);
            assert_eq!(manifest["injected"]["dirty_records"]["orders"], 0);
            assert_eq!(
                manifest["notes"]["csv_empty_is_null"],
                format == Format::Csv
            );
        }
    }

    #[test]
    fn zero_orders_give_empty_readable_files() {
        for format in FORMATS {
            let dir = tempfile::tempdir().unwrap();
            let summary = generate(&opts(0, format), dir.path()).unwrap();
            assert_eq!((summary.messages, summary.order_rows), (0, 0));
            let sources = read(dir.path());
            assert_eq!(
                sources.messages.row_count() + sources.orders.row_count(),
                0,
                "{format:?}"
            );
        }
    }

    /// What the reader makes of an injected value: a problem, a null, or a value.
    fn seen_as(format: Format, r: &InjectedRecord) -> (bool, bool) {
        let ty = r.table.columns()[r.table.column_index(r.column).unwrap()].1;
        let text = format != Format::Parquet;
        let problem = match r.kind {
            DirtyKind::WrongType => !(format == Format::Csv && ty == FieldType::Utf8),
            DirtyKind::BadTimestamp => true,
            DirtyKind::Empty => text && format != Format::Csv && ty != FieldType::Utf8,
            DirtyKind::Null | DirtyKind::UnknownValue => false,
        };
        let null = problem
            || r.kind == DirtyKind::Null
            || (r.kind == DirtyKind::Empty && (format == Format::Csv || ty != FieldType::Utf8));
        (problem, null)
    }

    #[test]
    fn dirty_records_match_the_manifest() {
        for format in FORMATS {
            let dir = tempfile::tempdir().unwrap();
            let options = GenerateOptions {
                dirty: 0.2,
                files: 2,
                ..opts(2000, format)
            };
            let summary = generate(&options, dir.path()).unwrap();
            let injected = &summary.injected;
            assert!(injected.records_complete);
            let clean = tempfile::tempdir().unwrap();
            let clean = generate(
                &GenerateOptions {
                    dirty: 0.0,
                    ..options.clone()
                },
                clean.path(),
            )
            .unwrap();
            assert_eq!(
                (summary.messages, summary.order_rows),
                (clean.messages, clean.order_rows)
            );
            let sources = read(dir.path());
            for table in Table::ALL {
                let data = sources.table(table);
                let records: Vec<&InjectedRecord> = injected
                    .records
                    .iter()
                    .filter(|r| r.table == table)
                    .collect();
                let total = if table == Table::ChatMessages {
                    summary.messages
                } else {
                    summary.order_rows
                };
                let share = injected.dirty(table) as f64 / total as f64;
                assert!((0.15..0.25).contains(&share), "{format:?} {table}: {share}");
                assert_eq!(records.len() as u64, injected.dirty(table));
                let by_kind: u64 = injected
                    .fields
                    .iter()
                    .filter(|(k, _)| k.starts_with(&format!("{}.", table.name())))
                    .flat_map(|(_, kinds)| kinds.values())
                    .sum();
                assert_eq!(by_kind, injected.dirty(table), "one field per dirty record");
                // One field per record.
                let mut places = BTreeSet::new();
                assert!(records.iter().all(|r| places.insert((&r.file, r.record))));
                // Problems are exactly the injections the reader can see as such.
                let expected: BTreeSet<(&str, u64, &str)> = records
                    .iter()
                    .filter(|r| seen_as(format, r).0)
                    .map(|r| (r.file.as_str(), r.record, r.column))
                    .collect();
                let found: BTreeSet<(&str, u64, &str)> = data
                    .problems
                    .iter()
                    .map(|p: &FieldProblem| {
                        (
                            sources.files[p.file as usize].name.as_str(),
                            p.record,
                            p.column,
                        )
                    })
                    .collect();
                assert_eq!(found.len(), data.problems.len());
                assert_eq!(found, expected, "{format:?} {table}");
                // Nulls are exactly the injected nulls (and empties in CSV) plus the problems.
                for (name, _) in table.columns() {
                    let nulls: BTreeSet<(&str, u64)> = column(&sources, data, name)
                        .into_iter()
                        .filter(|v| v.2.is_none())
                        .map(|v| (v.0, v.1))
                        .collect();
                    let expected: BTreeSet<(&str, u64)> = records
                        .iter()
                        .filter(|r| r.column == *name && seen_as(format, r).1)
                        .map(|r| (r.file.as_str(), r.record))
                        .collect();
                    assert_eq!(nulls, expected, "{format:?} {table}.{name}");
                }
            }
            if format == Format::Parquet {
                assert!(injected.fields.values().all(|k| k.contains_key("null")
                    && !k.contains_key("wrong_type")
                    && !k.contains_key("bad_timestamp")));
            } else {
                let kinds: BTreeSet<&String> =
                    injected.fields.values().flat_map(|k| k.keys()).collect();
                assert_eq!(kinds.len(), 5, "{format:?}: every kind appears");
            }
        }
    }

    #[test]
    fn late_records_are_in_later_files() {
        for format in [Format::Ndjson, Format::Parquet] {
            let dir = tempfile::tempdir().unwrap();
            let files = 4;
            let options = GenerateOptions {
                late: 0.1,
                files,
                ..opts(3000, format)
            };
            let summary = generate(&options, dir.path()).unwrap();
            let names: Vec<String> = summary
                .files
                .iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect();
            assert_eq!(
                names[0],
                format!("customer_courier_chat_messages_0001.{}", format.extension())
            );
            assert_eq!(names[7], format!("orders_0004.{}", format.extension()));
            let sources = read(dir.path());
            let file_number = |name: &str| {
                name[name.len() - 4 - format.extension().len() - 1..][..4]
                    .parse::<u32>()
                    .unwrap()
                    - 1
            };
            let slice = |micros: i64| {
                let since = micros - model::START_SECONDS * 1_000_000;
                ((since as i128 * i128::from(files)) / i128::from(model::DAYS * 86_400_000_000))
                    .min(files as i128 - 1) as u32
            };
            let times = column(&sources, &sources.messages, MESSAGE_SENT_TIME);
            let orders_of = column(&sources, &sources.messages, ORDER_ID);
            let (mut late, mut latest) = (0u64, BTreeMap::new());
            for (t, o) in times.iter().zip(&orders_of) {
                let (file, slice) = (
                    file_number(t.0),
                    slice(t.2.as_ref().unwrap().parse().unwrap()),
                );
                assert!(file >= slice);
                late += u64::from(file > slice);
                let e = latest.entry(o.2.clone().unwrap()).or_insert(0);
                *e = file.max(*e);
            }
            assert_eq!(late, summary.injected.late_messages);
            let share = late as f64 / summary.messages as f64;
            assert!((0.07..0.13).contains(&share), "{share}");
            let mut late_orders = BTreeSet::new();
            for o in column(&sources, &sources.orders, ORDER_ID) {
                if file_number(o.0) > latest[o.2.as_ref().unwrap()] {
                    late_orders.insert(o.2.clone().unwrap());
                }
            }
            assert_eq!(late_orders.len() as u64, summary.injected.late_orders);
            assert!(
                summary.injected.late_orders > 100,
                "{}",
                summary.injected.late_orders
            );
        }
        // One file: late changes nothing.
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        generate(&opts(1000, Format::Csv), a.path()).unwrap();
        let s = generate(
            &GenerateOptions {
                late: 0.5,
                ..opts(1000, Format::Csv)
            },
            b.path(),
        )
        .unwrap();
        assert_eq!(s.injected.late_messages + s.injected.late_orders, 0);
        let (a, b) = (bytes_of(a.path()), bytes_of(b.path()));
        assert_eq!(a["orders.csv"], b["orders.csv"]);
        assert_eq!(
            a["customer_courier_chat_messages.csv"],
            b["customer_courier_chat_messages.csv"]
        );
    }

    #[test]
    fn json_is_pretty_like_python_and_csv_has_a_header() {
        let dir = tempfile::tempdir().unwrap();
        generate(&opts(10, Format::Json), dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join("customer_courier_chat_messages.json"))
            .unwrap();
        assert!(
            text.starts_with("[\n    {\n        \"senderAppType\": \""),
            "{}",
            &text[..80]
        );
        assert!(text.ends_with("\"\n    }\n]"));
        assert!(text.contains("\n    },\n    {\n"));
        generate(&opts(10, Format::Csv), dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join("orders.csv")).unwrap();
        assert!(text.starts_with("orderId,cityCode\n"));
        let summary = generate(&opts(10, Format::Ndjson), dir.path()).unwrap();
        assert_eq!(
            summary.stale_files.len(),
            4,
            "the JSON and CSV files are reported"
        );
    }

    #[test]
    fn invalid_options_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        for options in [
            GenerateOptions {
                files: 0,
                ..Default::default()
            },
            GenerateOptions {
                dirty: 1.5,
                ..Default::default()
            },
            GenerateOptions {
                late: f64::NAN,
                ..Default::default()
            },
        ] {
            let err = generate(&options, dir.path()).unwrap_err();
            assert!(
                matches!(err, GenerateError::InvalidOptions { .. }),
                "{err:?}"
            );
            assert!(err.to_string().contains("must be"), "{err}");
            let status = crate::exit::CliError::from(err).exit_status();
            assert_eq!(status, crate::exit::ExitStatus::Usage);
        }
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "nothing is written"
        );
    }

    #[test]
    fn a_folder_that_cannot_be_made_is_an_io_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "").unwrap();
        let out = file.join("out");
        let err = generate(&opts(10, Format::Ndjson), &out).unwrap_err();
        match &err {
            GenerateError::Io { path, source } => {
                assert_eq!(path, &out);
                assert!(std::error::Error::source(&err).is_some(), "{source}");
            }
            other => panic!("{other:?}"),
        }
        let status = crate::exit::CliError::from(err).exit_status();
        assert_eq!(status, crate::exit::ExitStatus::Io);
    }

    /// The reader's hooks, seen over generated files of several formats and files.
    #[test]
    fn orders_are_read_whole_before_any_messages_batch() {
        for format in [Format::Parquet, Format::Ndjson, Format::Csv] {
            let dir = tempfile::tempdir().unwrap();
            let options = GenerateOptions {
                orders: 400,
                format,
                files: 3,
                ..Default::default()
            };
            generate(&options, dir.path()).unwrap();
            // What the hooks saw, in order: a batch's table, or a whole table's.
            let events: Mutex<Vec<String>> = Mutex::new(Vec::new());
            let sources = ccc_ingest::read_sources_with(
                ccc_ingest::discover(dir.path()).unwrap(),
                &ccc_ingest::ReadOptions {
                    chunk_bytes: 4096,
                    ..Default::default()
                },
                &|_| {},
                &|table, _, _| {
                    events
                        .lock()
                        .unwrap()
                        .push(format!("batch {}", table.name()))
                },
                &|data, files| {
                    let named = data
                        .batches
                        .iter()
                        .all(|b| files[b.file as usize].table == data.table && b.first_record >= 1);
                    let rows = data.row_count();
                    events
                        .lock()
                        .unwrap()
                        .push(format!("whole {} {rows} {named}", data.table.name()));
                },
            )
            .unwrap();
            let events = events.into_inner().unwrap();
            let orders = sources.orders.row_count();
            let messages = sources.messages.row_count();
            let whole_orders = format!("whole orders {orders} true");
            let at = events.iter().position(|e| *e == whole_orders);
            let at = at.unwrap_or_else(|| panic!("{format:?}: {events:?}"));
            assert!(
                events[..at].iter().all(|e| e == "batch orders"),
                "{format:?}: only orders batches before the orders are whole: {events:?}"
            );
            assert!(
                events[at + 1..events.len() - 1]
                    .iter()
                    .all(|e| e == "batch customer_courier_chat_messages"),
                "{format:?}: {events:?}"
            );
            assert_eq!(
                events.last(),
                Some(&format!(
                    "whole customer_courier_chat_messages {messages} true"
                )),
                "{format:?}"
            );
            assert!(
                at > 1 && events.len() - at > 3,
                "{format:?}: several batches of each"
            );
        }
    }

    /// `cargo test --release -p ccc-cli --lib -- --ignored --nocapture generate_10m`
    #[test]
    #[ignore]
    fn generate_10m_messages_timing() {
        // CCC_GENERATE_TIMING=ndjson,parquet limits the formats.
        let only = std::env::var("CCC_GENERATE_TIMING").unwrap_or_default();
        for format in [Format::Ndjson, Format::Parquet, Format::Csv, Format::Json] {
            if !only.is_empty()
                && !only
                    .split(',')
                    .any(|f| Format::from_name(f) == Some(format))
            {
                continue;
            }
            let dir = tempfile::tempdir().unwrap();
            // CCC_GENERATE_TIMING_FILES=1 sets the files per table (default 4).
            let files = std::env::var("CCC_GENERATE_TIMING_FILES")
                .ok()
                .and_then(|f| f.parse().ok())
                .unwrap_or(4);
            let options = GenerateOptions {
                orders: 1_515_000,
                files,
                ..opts(0, format)
            };
            let started = std::time::Instant::now();
            let summary = generate(&options, dir.path()).unwrap();
            let elapsed = started.elapsed();
            let bytes: u64 = summary
                .files
                .iter()
                .map(|p| std::fs::metadata(p).unwrap().len())
                .sum();
            println!(
                "{format:?}: {} messages, {} orders in {:.2?} ({} threads, {:.0} MB)",
                summary.messages,
                summary.orders,
                elapsed,
                rayon::current_num_threads(),
                bytes as f64 / 1e6
            );
        }
    }
}
