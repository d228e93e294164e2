//! The history store (`--history DIR`): one Parquet file per suite run, each a long
//! table of the metrics that run observed (`run_id, run_time, suite, table, column,
//! metric, expectation_id, value`). A run's file appears whole (written aside, then
//! renamed), so a reader sees a run entirely or not at all; runs never rewrite each
//! other's files, so two jobs can share a store. Read back with the any-table reader.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use arrow2::array::{Array, MutablePrimitiveArray, PrimitiveArray, Utf8Array};
use arrow2::chunk::Chunk;
use arrow2::datatypes::{DataType, Field, Schema, TimeUnit};
use ccc_dq::{History, MetricKey, MetricPoint, PastRun, Suite, SuiteResult};
use ccc_ingest::tables::{read_table, TableRequest};

use crate::exit::CliError;
use crate::quality::datasets::table_file_dataset;

/// The store's columns, in file order.
const COLUMNS: [&str; 8] = [
    "run_id",
    "run_time",
    "suite",
    "table",
    "column",
    "metric",
    "expectation_id",
    "value",
];

/// A history folder.
#[derive(Debug, Clone)]
pub struct HistoryStore {
    dir: PathBuf,
}

impl HistoryStore {
    /// The store in `dir` (created on the first append).
    pub fn new(dir: impl Into<PathBuf>) -> HistoryStore {
        HistoryStore { dir: dir.into() }
    }

    /// Its folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every run recorded so far; none when the folder does not exist or holds no run
    /// yet. A file that cannot be read as a history is an input error naming it.
    pub fn load(&self) -> Result<History, CliError> {
        if !self.has_runs()? {
            return Ok(History::default());
        }
        let request = TableRequest {
            name: "history",
            path: &self.dir,
            declared: &[],
            wanted: &[],
            every_column: true,
        };
        let table = read_table(&request, &ccc_ingest::ReadOptions::default())?;
        let dataset = table_file_dataset(&table)?;
        let bad = |message: String| CliError::History {
            path: self.dir.clone(),
            message,
        };
        let index = |name: &str| {
            dataset
                .column_index(name)
                .ok_or_else(|| bad(format!("a file has no column `{name}`: not a ccc history")))
        };
        let columns: Vec<usize> = COLUMNS.iter().map(|c| index(c)).collect::<Result<_, _>>()?;
        let mut runs: Vec<PastRun> = Vec::new();
        for chunk in dataset.chunks() {
            let text = |i: usize| strings(chunk.arrays()[columns[i]].as_ref());
            let (run_id, suite, table_name, column, metric, expectation) =
                (text(0), text(2), text(3), text(4), text(5), text(6));
            let run_time = integers(chunk.arrays()[columns[1]].as_ref());
            let value = floats(chunk.arrays()[columns[7]].as_ref());
            for row in 0..chunk.len() {
                let (Some(id), Some(time), Some(suite), Some(table), Some(metric), Some(value)) = (
                    run_id[row].as_deref(),
                    run_time[row],
                    suite[row].as_deref(),
                    table_name[row].as_deref(),
                    metric[row].as_deref(),
                    value[row],
                ) else {
                    return Err(bad(format!(
                        "row {row} of a run misses its run, time, suite, table, metric or value"
                    )));
                };
                let point = MetricPoint {
                    key: MetricKey {
                        table: table.to_string(),
                        column: column[row].clone(),
                        metric: metric.to_string(),
                        expectation_id: expectation[row].clone(),
                    },
                    value,
                };
                match runs.iter_mut().rev().find(|r| r.run_id == id) {
                    Some(run) => run.points.push(point),
                    None => runs.push(PastRun {
                        run_id: id.to_string(),
                        run_time: time,
                        suite: suite.to_string(),
                        points: vec![point],
                    }),
                }
            }
        }
        Ok(History::new(runs))
    }

    /// Whether the folder holds a run file (ours are `run-*.parquet`; files starting with
    /// `.` or `_` are the reader's side files).
    fn has_runs(&self) -> Result<bool, CliError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(source) => {
                return Err(CliError::History {
                    path: self.dir.clone(),
                    message: source.to_string(),
                })
            }
        };
        Ok(entries.flatten().any(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            !name.starts_with(['.', '_'])
        }))
    }

    /// Appends what `result` (of `suite`) observed as run `run_time` (µs since the
    /// epoch); gives the file written.
    pub fn append(
        &self,
        suite: &Suite,
        result: &SuiteResult,
        run_time: i64,
    ) -> Result<PathBuf, CliError> {
        let points = ccc_dq::history::run_points(suite, result);
        let run_id = run_id(&result.suite, run_time);
        let write_error = |path: &Path, message: String| CliError::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(message),
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| write_error(&self.dir, e.to_string()))?;
        let path = self.dir.join(format!("{run_id}.parquet"));
        let temp = self.dir.join(format!(".{run_id}.parquet.ccc-tmp"));
        let chunk = run_chunk(&run_id, run_time, &result.suite, &points);
        ccc_transform::publish::parquet_file::write_parquet(&temp, &schema(), vec![chunk])
            .map_err(|e| write_error(&path, e.to_string()))?;
        std::fs::rename(&temp, &path).map_err(|e| write_error(&path, e.to_string()))?;
        Ok(path)
    }
}

/// The history of `store`, for the engine; none without a store.
pub fn load_history(
    store: Option<&HistoryStore>,
) -> Result<Option<std::sync::Arc<History>>, CliError> {
    store.map(|s| s.load().map(std::sync::Arc::new)).transpose()
}

/// A run's id and file stem: `run-<time>-<suite>-<pid>-<n>`, unique across processes
/// that share a store, and sorting by time.
fn run_id(suite: &str, run_time: i64) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let time: String = ccc_dq::time::format_timestamp_nanos(i128::from(run_time) * 1000)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    let suite: String = suite
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("run-{time}-{suite}-{}-{n}", std::process::id())
}

fn schema() -> Schema {
    Schema::from(
        COLUMNS
            .iter()
            .map(|name| match *name {
                "run_time" => Field::new(
                    *name,
                    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                    false,
                ),
                "value" => Field::new(*name, DataType::Float64, false),
                "column" | "expectation_id" => Field::new(*name, DataType::Utf8, true),
                _ => Field::new(*name, DataType::Utf8, false),
            })
            .collect::<Vec<_>>(),
    )
}

fn run_chunk(
    run_id: &str,
    run_time: i64,
    suite: &str,
    points: &[MetricPoint],
) -> Chunk<Box<dyn Array>> {
    let text = |values: Vec<Option<&str>>| Utf8Array::<i32>::from(values).boxed();
    let each = |f: fn(&MetricPoint) -> Option<&str>| text(points.iter().map(f).collect());
    let same = |value: &str| text(vec![Some(value); points.len()]);
    let times = PrimitiveArray::<i64>::from_vec(vec![run_time; points.len()]).to(
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
    );
    let mut values = MutablePrimitiveArray::<f64>::with_capacity(points.len());
    values.extend(points.iter().map(|p| Some(p.value)));
    let values: PrimitiveArray<f64> = values.into();
    Chunk::new(vec![
        same(run_id),
        times.boxed(),
        same(suite),
        each(|p| Some(&p.key.table)),
        each(|p| p.key.column.as_deref()),
        each(|p| Some(&p.key.metric)),
        each(|p| p.key.expectation_id.as_deref()),
        values.boxed(),
    ])
}

/// A text column's values, whichever offsets the reader chose.
fn strings(array: &dyn Array) -> Vec<Option<String>> {
    let any = array.as_any();
    if let Some(a) = any.downcast_ref::<Utf8Array<i32>>() {
        return a.iter().map(|v| v.map(str::to_string)).collect();
    }
    if let Some(a) = any.downcast_ref::<Utf8Array<i64>>() {
        return a.iter().map(|v| v.map(str::to_string)).collect();
    }
    vec![None; array.len()]
}

fn integers(array: &dyn Array) -> Vec<Option<i64>> {
    match array.as_any().downcast_ref::<PrimitiveArray<i64>>() {
        Some(a) => a.iter().map(|v| v.copied()).collect(),
        None => vec![None; array.len()],
    }
}

fn floats(array: &dyn Array) -> Vec<Option<f64>> {
    match array.as_any().downcast_ref::<PrimitiveArray<f64>>() {
        Some(a) => a.iter().map(|v| v.copied()).collect(),
        None => vec![None; array.len()],
    }
}
