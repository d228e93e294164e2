//! Every unexpected row of a suite's failing expectations, written as one table
//! (`--failed-rows DIR`): `failed_rows.parquet`, and `failed_rows.csv` on request, one
//! row per unexpected value with the expectation, the value and where it came from. No
//! cap: this is where a team goes for all of them, where the report shows 20. Each file
//! is written beside its final name and renamed into place.

use std::path::{Path, PathBuf};

use arrow2::array::{Array, MutablePrimitiveArray, MutableUtf8Array, PrimitiveArray, Utf8Array};
use arrow2::chunk::Chunk;
use arrow2::datatypes::{DataType, Field, Schema};
use ccc_dq::{Location, SuiteResult};

use crate::exit::CliError;

/// Where the failed rows go and in which formats.
#[derive(Debug, Clone)]
pub struct FailedRows {
    /// The folder (created if missing).
    pub dir: PathBuf,
    /// Also write `failed_rows.csv`.
    pub csv: bool,
}

/// The columns of the failed-rows table.
const COLUMNS: [&str; 9] = [
    "suite",
    "expectation_id",
    "expectation",
    "table",
    "column",
    "value",
    "file",
    "record",
    "line",
];

/// One failed row, as written.
struct Row<'a> {
    suite: &'a str,
    id: &'a str,
    expectation: &'a str,
    table: &'a str,
    column: String,
    value: Option<&'a str>,
    /// The file, or the row's key for rows located by key.
    file: Option<&'a str>,
    record: Option<u64>,
    line: Option<u64>,
}

fn rows(result: &SuiteResult) -> Vec<Row<'_>> {
    let mut out = Vec::new();
    for r in result.results.iter().filter(|r| !r.success) {
        let all = if r.unexpected_list.is_empty() {
            &r.partial_unexpected
        } else {
            &r.unexpected_list
        };
        for u in all {
            let (file, record, line) = match &u.location {
                Some(Location::Source { file, record, line }) => {
                    (Some(file.as_str()), Some(*record), *line)
                }
                Some(Location::Key { key }) => (Some(key.as_str()), None, None),
                Some(Location::Row { row }) => (None, Some(row + 1), None),
                None => (None, None, None),
            };
            out.push(Row {
                suite: &result.suite,
                id: &r.id,
                expectation: &r.expectation,
                table: &r.table,
                column: r.column_label(),
                value: u.value.as_deref(),
                file,
                record,
                line,
            });
        }
    }
    out
}

/// Writes the failed rows of `result` under `target.dir`; gives the number written.
pub fn write_failed_rows(result: &SuiteResult, target: &FailedRows) -> Result<usize, CliError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CliError::Write { path, source }
    };
    std::fs::create_dir_all(&target.dir).map_err(io(&target.dir))?;
    let rows = rows(result);
    let parquet = target.dir.join("failed_rows.parquet");
    let temp = target.dir.join(".failed_rows.parquet.ccc-tmp");
    ccc_transform::publish::parquet_file::write_parquet(&temp, &schema(), vec![chunk(&rows)])
        .map_err(|e| CliError::Write {
            path: parquet.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
    std::fs::rename(&temp, &parquet).map_err(io(&parquet))?;
    if target.csv {
        let path = target.dir.join("failed_rows.csv");
        crate::files::write_whole(&path, &csv_text(&rows).map_err(io(&path))?)?;
    }
    Ok(rows.len())
}

fn schema() -> Schema {
    Schema::from(
        COLUMNS
            .iter()
            .map(|name| {
                let ty = if matches!(*name, "record" | "line") {
                    DataType::Int64
                } else {
                    DataType::Utf8
                };
                Field::new(*name, ty, true)
            })
            .collect::<Vec<_>>(),
    )
}

fn chunk(rows: &[Row<'_>]) -> Chunk<Box<dyn Array>> {
    fn text<'a>(rows: &'a [Row<'a>], f: impl Fn(&'a Row<'a>) -> Option<&'a str>) -> Box<dyn Array> {
        let mut a = MutableUtf8Array::<i32>::with_capacity(rows.len());
        a.extend(rows.iter().map(f));
        let a: Utf8Array<i32> = a.into();
        a.boxed()
    }
    let int = |f: &dyn Fn(&Row<'_>) -> Option<u64>| -> Box<dyn Array> {
        let mut a = MutablePrimitiveArray::<i64>::with_capacity(rows.len());
        a.extend(rows.iter().map(|r| f(r).map(|v| v as i64)));
        let a: PrimitiveArray<i64> = a.into();
        a.boxed()
    };
    Chunk::new(vec![
        text(rows, |r| Some(r.suite)),
        text(rows, |r| Some(r.id)),
        text(rows, |r| Some(r.expectation)),
        text(rows, |r| Some(r.table)),
        text(rows, |r| Some(r.column.as_str())),
        text(rows, |r| r.value),
        text(rows, |r| r.file),
        int(&|r| r.record),
        int(&|r| r.line),
    ])
}

fn csv_text(rows: &[Row<'_>]) -> std::io::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS)?;
    for r in rows {
        let number = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
        writer.write_record([
            r.suite,
            r.id,
            r.expectation,
            r.table,
            &r.column,
            r.value.unwrap_or(""),
            r.file.unwrap_or(""),
            &number(r.record),
            &number(r.line),
        ])?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    String::from_utf8(bytes).map_err(std::io::Error::other)
}
