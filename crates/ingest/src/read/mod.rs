//! Reading sources into Arrow columns: one reader per format, files in parallel and
//! large files in parallel chunks; see [`read_sources`].

pub(crate) mod columns;
mod csv;
mod json;
mod json_fast;
mod parquet;
mod parquet_check;
mod parquet_fixed;
mod parquet_plain;
mod parquet_text;
mod text;

use rayon::prelude::*;

use crate::discover::{Format, SourceFile};
use crate::error::IngestError;
use crate::problems::FieldProblem;
use crate::schema::Table;
use crate::sources::{Batch, Sources, TableData};

/// What reading one file gives: its batches and the values that did not fit.
pub type FileContents = (Vec<Batch>, Vec<FieldProblem>);

/// How to read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Target size of a text chunk parsed by one task; smaller means more parallelism.
    pub chunk_bytes: usize,
    /// Columns whose values the caller does not need, only whether each is present and
    /// of its type (a data-quality suite's not-null and type checks). A reader leaves
    /// such a column unread where the file's metadata proves every value present and of
    /// the column's type — a Parquet column of that type whose statistics count no nulls
    /// in any row group — and lists it in [`Batch::unread`].
    pub presence_only: Vec<(Table, String)>,
    /// Also leave presence-only columns of JSON and NDJSON chunks unread, where every
    /// record of the chunk holds a value of the column's type (each value is still read
    /// and checked, just not kept); [`with_unread_columns`] reads them back by parsing the
    /// batch's records again.
    pub text_presence_only: bool,
    /// The longest record of a text file, in bytes ([`DEFAULT_MAX_RECORD_BYTES`]): a
    /// longer one is an [`IngestError::RecordTooLong`], found before it is parsed.
    pub max_record_bytes: usize,
}

/// The default longest record, 64 MiB: a chat message is a few hundred bytes, and a
/// file that never breaks its lines must not make ccc buffer all of it.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 64 << 20;

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            chunk_bytes: 4 << 20,
            presence_only: Vec::new(),
            text_presence_only: false,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
        }
    }
}

impl ReadOptions {
    /// How text files are cut into chunks.
    pub(crate) fn chunking(&self) -> text::Chunking {
        text::Chunking {
            chunk_bytes: self.chunk_bytes.max(1),
            max_record_bytes: self.max_record_bytes.max(1),
        }
    }

    /// Whether `column` of `table` is one whose values the caller does not need.
    pub fn is_presence_only(&self, table: Table, column: &str) -> bool {
        self.presence_only
            .iter()
            .any(|(t, c)| *t == table && c == column)
    }
}

/// Called with each batch as soon as it is read, with the value problems of its rows, on
/// the thread that read it: for work that is cheapest while the batch is in the cache
/// (data-quality checks). It may replace columns it no longer needs by placeholders,
/// listing them in [`Batch::unread`]. A JSON chunk is handed over before its file's record
/// numbers are known: `first_record` is then 0 and its problems' records count from 0, so
/// a row is always `record - first_record`; [`Batch::position`] names the batch in either
/// case.
pub type BatchHook<'a> = &'a (dyn Fn(Table, &mut Batch, &[FieldProblem]) + Sync);

/// Called with each table once all its files are read, before the next table starts, with
/// the files it was read from (`batch.file` indexes them): for work that needs one table
/// whole while the other is read (look-ups of messages in orders).
pub type TableHook<'a> = &'a (dyn Fn(&TableData, &[SourceFile]) + Sync);

/// Reads every file (as listed by [`crate::discover`]) into [`Sources`]: the orders first
/// (a tenth of the rows), then the messages, each table's files in parallel.
///
/// `on_file_read` is called once per file as it completes (for progress displays).
/// The first unreadable file is the error: orders first, then in file order.
pub fn read_sources(
    files: Vec<SourceFile>,
    options: &ReadOptions,
    on_file_read: &(dyn Fn(&SourceFile) + Sync),
) -> Result<Sources, IngestError> {
    read_sources_with(files, options, on_file_read, &|_, _, _| {}, &|_, _| {})
}

/// [`read_sources`], calling `on_batch` with every batch as it is read and `on_table_read`
/// with each table once it is whole.
pub fn read_sources_with(
    files: Vec<SourceFile>,
    options: &ReadOptions,
    on_file_read: &(dyn Fn(&SourceFile) + Sync),
    on_batch: BatchHook<'_>,
    on_table_read: TableHook<'_>,
) -> Result<Sources, IngestError> {
    let read_table = |table: Table| -> Result<TableData, IngestError> {
        let mine: Vec<(usize, &SourceFile)> = files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.table == table)
            .collect();
        let per_file: Vec<Result<FileContents, IngestError>> = mine
            .par_iter()
            .map(|&(i, file)| {
                let out = read_file_with(i as u32, file, options, on_batch);
                on_file_read(file);
                out
            })
            .collect();
        let mut data = TableData {
            table,
            batches: Vec::new(),
            problems: Vec::new(),
        };
        for result in per_file {
            let (batches, problems) = result?;
            data.batches.extend(batches);
            data.problems.extend(problems);
        }
        on_table_read(&data, &files);
        Ok(data)
    };
    let orders = read_table(Table::Orders)?;
    let messages = read_table(Table::ChatMessages)?;
    Ok(Sources {
        files,
        messages,
        orders,
    })
}

/// `batch` with the columns it was read without (see [`ReadOptions::presence_only`]) read
/// from its file again, for writing its rows out in full (the quarantine); a batch with
/// every column is returned as it is.
pub fn with_unread_columns(files: &[SourceFile], batch: &Batch) -> Result<Batch, IngestError> {
    if batch.unread.is_empty() {
        return Ok(batch.clone());
    }
    let file = &files[batch.file as usize];
    let values = match file.format {
        Format::Parquet => parquet::read_rows(
            &file.path,
            file.table.layout(),
            batch.first_record,
            batch.len(),
            &batch.unread,
        )?,
        Format::Json | Format::Ndjson => json::read_rows(file, batch, &batch.unread)?,
        // CSV is always read whole: it proves nothing about a column before reading it.
        Format::Csv => return Ok(batch.clone()),
    };
    let mut arrays = batch.chunk.arrays().to_vec();
    for (&i, array) in batch.unread.iter().zip(values) {
        arrays[i] = array;
    }
    Ok(Batch {
        chunk: arrow2::chunk::Chunk::new(arrays),
        unread: Vec::new(),
        ..batch.clone()
    })
}

/// Reads a file of any format into the columns of any table layout, every column kept —
/// how `ccc validate` reads a published output table back (ours or another engine's) and
/// the tables a suite names (`--table`).
pub fn read_layout_file(
    index: u32,
    path: &std::path::Path,
    format: Format,
    layout: crate::schema::TableLayout,
    options: &ReadOptions,
) -> Result<FileContents, IngestError> {
    match format {
        Format::Csv => csv::read_csv(index, path, layout, options.chunking()),
        Format::Parquet => parquet::read_parquet(index, path, layout, &|_| false, &|_, _| {}),
        Format::Json | Format::Ndjson => {
            json::read_json_layout(index, path, format, layout, options.chunking())
        }
    }
}

/// [`read_layout_file`], where the caller needs the values of only the columns for which
/// `needed` holds: a Parquet file leaves the others unread where its statistics prove
/// every value present (see [`ReadOptions::presence_only`]); text files are read whole.
pub fn read_layout_file_needing(
    index: u32,
    path: &std::path::Path,
    format: Format,
    layout: crate::schema::TableLayout,
    options: &ReadOptions,
    needed: &(dyn Fn(&str) -> bool + Sync),
) -> Result<FileContents, IngestError> {
    match format {
        Format::Parquet => parquet::read_parquet(index, path, layout, &|c| !needed(c), &|_, _| {}),
        _ => read_layout_file(index, path, format, layout, options),
    }
}

/// The column names of a CSV file's header, in order.
pub(crate) fn csv_header(
    path: &std::path::Path,
    options: &ReadOptions,
) -> Result<Vec<String>, IngestError> {
    csv::header_names(path, options.chunking())
}

/// The Arrow schema of a Parquet file.
pub(crate) fn parquet_schema(
    path: &std::path::Path,
) -> Result<arrow2::datatypes::Schema, IngestError> {
    parquet::file_schema(path)
}

/// Reads one file of its table.
pub fn read_file(
    index: u32,
    file: &SourceFile,
    options: &ReadOptions,
) -> Result<FileContents, IngestError> {
    read_file_with(index, file, options, &|_, _, _| {})
}

/// [`read_file`], calling `on_batch` with every non-empty batch as it is read.
pub fn read_file_with(
    index: u32,
    file: &SourceFile,
    options: &ReadOptions,
    on_batch: BatchHook<'_>,
) -> Result<FileContents, IngestError> {
    let chunk = options.chunking();
    let (mut batches, problems) = match file.format {
        Format::Json | Format::Ndjson => {
            // Chunks are handed over as each is parsed, in parallel.
            let hook = |batch: &mut Batch, problems: &[FieldProblem]| {
                on_batch(file.table, batch, problems)
            };
            let presence: Vec<bool> = file
                .table
                .layout()
                .columns
                .iter()
                .map(|(name, _)| {
                    options.text_presence_only && options.is_presence_only(file.table, name)
                })
                .collect();
            return json::read_json(index, file, file.table, chunk, &presence, &hook);
        }
        Format::Csv => csv::read_csv(index, &file.path, file.table.layout(), chunk)?,
        Format::Parquet => {
            // Row groups are handed over as each is decoded, in parallel.
            let presence_only = |c: &str| options.is_presence_only(file.table, c);
            let hook = |batch: &mut Batch, problems: &[FieldProblem]| {
                on_batch(file.table, batch, problems)
            };
            return parquet::read_parquet(
                index,
                &file.path,
                file.table.layout(),
                &presence_only,
                &hook,
            );
        }
    };
    // CSV: batches are in record order, and so are the problems of a record reader; the
    // check keeps this correct whatever order a reader gives them in.
    let sorted = problems.is_sorted_by_key(|p| p.record);
    for batch in batches.iter_mut().filter(|b| !b.is_empty()) {
        let rows = batch.first_record..batch.first_record + batch.len() as u64;
        if sorted {
            let from = problems.partition_point(|p| p.record < rows.start);
            let to = problems.partition_point(|p| p.record < rows.end);
            on_batch(file.table, batch, &problems[from..to]);
        } else {
            let within: Vec<FieldProblem> = problems
                .iter()
                .filter(|p| rows.contains(&p.record))
                .cloned()
                .collect();
            on_batch(file.table, batch, &within);
        }
    }
    Ok((batches, problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_parquet_keeps_the_readers_error_as_its_source() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("orders.parquet");
        std::fs::write(&path, b"not a parquet file at all").unwrap();
        let layout = crate::Table::Orders.layout();
        let err = read_layout_file(0, &path, Format::Parquet, layout, &ReadOptions::default())
            .unwrap_err();
        assert!(matches!(err, IngestError::Parquet { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("{}: not a readable Parquet file", path.display())
        );
        let cause = std::error::Error::source(&err).expect("the reader's error");
        assert!(cause.to_string().contains("PAR1"), "{cause}");
    }
}
