//! Reading a whole JSON or NDJSON file: its layout, its cut into chunks, the chunks parsed
//! in parallel and handed to the batch hook, and their errors made file-relative.

use std::path::Path;

use arrow2::chunk::Chunk;
use rayon::prelude::*;

use super::records::{parse_records, ChunkError, Reading};
use super::scan::{scan_structure, Layout, ScanError};
use super::tables::MAX_COLUMNS;
use super::tables::{LayoutColumns, MessageColumns, OrderColumns, TableColumns};
use crate::discover::{Format, SourceFile};
use crate::error::IngestError;
use crate::problems::FieldProblem;
use crate::read::columns::TEXT_LIMIT;
use crate::read::text::{
    assemble, count_newlines, line_column, map_file, split_at_newlines, ChunkOutput, Chunking,
    FileBytes,
};
use crate::read::FileContents;
use crate::schema::{Table, TableLayout};
use crate::sources::Batch;

/// Reads one JSON or NDJSON file of `table`.
/// `on_batch` sees each chunk's batch as soon as the chunk is parsed, on the thread that
/// parsed it, with chunk-relative numbers: `first_record` 0 and its problems' records
/// 0-based in the chunk (rows of the batch); [`Batch::position`] is the chunk's offset.
/// Columns flagged in `presence` (by index in the table) are checked but not kept where
/// every record of a chunk holds a value of the column's type: the batch lists them in
/// [`Batch::unread`]. A chunk where one does not is read again in full.
pub(crate) fn read_json(
    file_index: u32,
    file: &SourceFile,
    table: Table,
    chunking: Chunking,
    presence: &[bool],
    on_batch: &ChunkHook<'_>,
) -> Result<FileContents, IngestError> {
    match table {
        Table::ChatMessages => read_typed(
            &MessageColumns,
            file_index,
            &file.path,
            file.format,
            chunking,
            presence,
            on_batch,
        ),
        Table::Orders => read_typed(
            &OrderColumns,
            file_index,
            &file.path,
            file.format,
            chunking,
            presence,
            on_batch,
        ),
    }
}

/// [`read_json`] for a table other than the sources, every column kept.
pub(crate) fn read_json_layout(
    file_index: u32,
    path: &Path,
    format: Format,
    layout: TableLayout,
    chunking: Chunking,
) -> Result<FileContents, IngestError> {
    if layout.columns.len() > MAX_COLUMNS {
        return Err(IngestError::Json {
            path: path.to_path_buf(),
            record: 0,
            line: 1,
            column: 1,
            message: format!(
                "a JSON table is read into at most {MAX_COLUMNS} columns; {} names {}",
                layout.name,
                layout.columns.len()
            ),
        });
    }
    let columns = LayoutColumns::new(layout);
    read_typed(
        &columns,
        file_index,
        path,
        format,
        chunking,
        &[],
        &|_, _| {},
    )
}

/// The columns `columns` (indices into the table's columns) of `batch`'s records, read
/// again from `file` with every column kept: the values of columns the batch was read
/// without (see [`read_json`]).
pub(crate) fn read_rows(
    file: &SourceFile,
    batch: &Batch,
    columns: &[usize],
) -> Result<Vec<Box<dyn arrow2::array::Array>>, IngestError> {
    let (position, rows) = (batch.position, batch.len());
    let bytes = map_file(&file.path)?;
    let changed = |detail: &str| IngestError::Json {
        path: file.path.clone(),
        record: batch.first_record,
        line: batch.line(0).unwrap_or(1),
        column: 1,
        message: format!("{detail} (did the file change?)"),
    };
    let start = usize::try_from(position)
        .ok()
        .filter(|&p| p <= bytes.len())
        .ok_or_else(|| changed("the file is shorter than when it was read"))?;
    let reading = Reading {
        fast: true,
        presence: &[],
        text_limit: TEXT_LIMIT,
    };
    let by_lines = file.format == Format::Ndjson;
    let (start, end) = (start, bytes.len());
    let out = match file.table {
        Table::ChatMessages => parse_records(
            &MessageColumns,
            0,
            &bytes,
            start..end,
            by_lines,
            reading,
            rows,
        ),
        Table::Orders => parse_records(
            &OrderColumns,
            0,
            &bytes,
            start..end,
            by_lines,
            reading,
            rows,
        ),
    }
    .map_err(|e| changed(&format!("records that no longer parse ({})", e.message)))?;
    if out.record_lines.len() != rows {
        return Err(changed(&format!(
            "{} records where {rows} were read",
            out.record_lines.len()
        )));
    }
    let arrays = out.chunk.into_arrays();
    Ok(columns.iter().map(|&i| arrays[i].clone()).collect())
}

/// A hook on one file's batches (see [`crate::BatchHook`]).
pub(crate) type ChunkHook<'a> = dyn Fn(&mut Batch, &[FieldProblem]) + Sync + 'a;

fn read_typed<C: TableColumns>(
    table: &C,
    file_index: u32,
    path: &Path,
    format: Format,
    chunking: Chunking,
    presence: &[bool],
    on_batch: &ChunkHook<'_>,
) -> Result<FileContents, IngestError> {
    let bytes = map_file(path)?;
    let reading = Reading {
        fast: true,
        presence,
        text_limit: TEXT_LIMIT,
    };
    let file = JsonFile {
        index: file_index,
        path,
        format,
    };
    read_bytes(
        table,
        file,
        &bytes,
        Some(&bytes),
        chunking,
        reading,
        on_batch,
    )
}

/// A JSON file being read: its index among the files read, its path and format.
#[derive(Debug, Clone, Copy)]
pub(super) struct JsonFile<'a> {
    pub(super) index: u32,
    pub(super) path: &'a Path,
    pub(super) format: Format,
}

/// Reads the contents of `file`, `bytes`.
pub(super) fn read_bytes<C: TableColumns>(
    table: &C,
    file: JsonFile<'_>,
    bytes: &[u8],
    pages: Option<&FileBytes>,
    chunking: Chunking,
    reading: Reading<'_>,
    on_batch: &ChunkHook<'_>,
) -> Result<FileContents, IngestError> {
    let JsonFile {
        index: file_index,
        path,
        format,
    } = file;
    let json_error = |offset: usize, record: u64, message: String| {
        let (line, column) = line_column(bytes, offset);
        IngestError::Json {
            path: path.to_path_buf(),
            record,
            line,
            column,
            message,
        }
    };
    let too_long = |offset: usize| IngestError::RecordTooLong {
        path: path.to_path_buf(),
        line: line_column(bytes, offset).0,
        limit: chunking.max_record_bytes,
    };
    let start = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let first = bytes[start..]
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|p| p + start);
    let by_lines = format == Format::Ndjson;
    let ranges = match (format, first) {
        (Format::Ndjson, None) => return Ok((Vec::new(), Vec::new())),
        (_, None) => {
            return Err(json_error(
                bytes.len(),
                0,
                "empty file, expected a JSON array of records".into(),
            ))
        }
        (Format::Ndjson, Some(_)) => {
            split_at_newlines(bytes, start, bytes.len(), chunking).map_err(too_long)?
        }
        (_, Some(p)) => {
            let layout = match bytes[p] {
                b'[' => Layout::Array,
                b'{' => Layout::Objects,
                other => {
                    return Err(json_error(
                        p,
                        0,
                        format!(
                            "expected '[' or '{{' at the start of a JSON file, found {:?}",
                            other as char
                        ),
                    ))
                }
            };
            scan_structure(bytes, p, layout, chunking).map_err(|e| match e {
                ScanError::Invalid(offset, records, msg) => json_error(offset, records, msg),
                ScanError::TooLong(offset) => too_long(offset),
            })?
        }
    };
    let lines_before_first = ranges
        .first()
        .map_or(0, |&(s, _)| count_newlines(&bytes[..s]));
    let outputs: Vec<Result<ChunkOutput, ChunkError>> = ranges
        .par_iter()
        .map(|&(s, e)| {
            if let Some(pages) = pages {
                pages.prefetch(s, e);
            }
            let parsed = parse_records(
                table,
                file_index,
                bytes,
                s..e,
                by_lines,
                reading,
                usize::MAX,
            );
            if let Some(pages) = pages {
                pages.release(s, e);
            }
            let mut out = parsed?;
            if !out.record_lines.is_empty() {
                let mut batch = Batch {
                    file: file_index,
                    first_record: 0,
                    lines: None,
                    chunk: std::mem::replace(&mut out.chunk, Chunk::new(Vec::new())),
                    unread: std::mem::take(&mut out.unread),
                    position: out.start,
                };
                on_batch(&mut batch, &out.problems);
                out.chunk = batch.chunk;
                out.unread = batch.unread;
            }
            Ok(out)
        })
        .collect();
    let mut ok = Vec::with_capacity(outputs.len());
    let (mut records_before, mut lines_before) = (0u64, lines_before_first);
    for (out, &(s, _)) in outputs.into_iter().zip(&ranges) {
        match out {
            Ok(out) => {
                records_before += out.record_lines.len() as u64;
                lines_before += out.newlines;
                ok.push(out);
            }
            Err(e) => {
                let _ = s;
                let (record, line) = (
                    records_before + e.record_in_chunk + 1,
                    lines_before + e.line_in_chunk + 1,
                );
                return Err(match e.too_long {
                    Some(column) => IngestError::TextTooLong {
                        path: path.to_path_buf(),
                        record,
                        line,
                        column,
                        limit: reading.text_limit,
                    },
                    None => IngestError::Json {
                        path: path.to_path_buf(),
                        record,
                        line,
                        column: e.column,
                        message: e.message,
                    },
                });
            }
        }
    }
    Ok(assemble(file_index, ok, lines_before_first))
}
