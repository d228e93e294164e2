//! Parsing one chunk's records into a batch: each record by the fast path where it can,
//! else by serde, with the problems of its values, the line it starts on, and the
//! presence columns checked but not kept.

use serde::de::DeserializeSeed;

use super::push::{push_flat, Misfit};
use super::scan::value_end;
use super::tables::TableColumns;
use super::visit::RecordSeed;
use crate::problems::{FieldProblem, ProblemKind};
use crate::read::columns::TableBuilder;
use crate::read::json_fast::{scan_record, FlatRecord};
use crate::read::text::{count_newlines, ChunkOutput};

/// A syntax error inside a chunk, relative to the chunk until
/// [`read_json`](super::read_json) resolves it.
pub(super) struct ChunkError {
    pub(super) record_in_chunk: u64,
    pub(super) line_in_chunk: u64,
    pub(super) column: u64,
    pub(super) message: String,
    /// Set when the record made this text column too long ([`TableBuilder::text_over`]).
    pub(super) too_long: Option<&'static str>,
}

/// How a file's chunks are parsed.
#[derive(Clone, Copy)]
pub(super) struct Reading<'a> {
    /// Flat records by the fast path (off: serde alone, the reference it is tested against).
    pub(super) fast: bool,
    /// Columns checked but not kept (see [`read_json`](super::read_json)).
    pub(super) presence: &'a [bool],
    /// The most text a column of one chunk may hold
    /// ([`TEXT_LIMIT`](crate::read::columns::TEXT_LIMIT); smaller in tests).
    pub(super) text_limit: usize,
}

/// How many records the fast path read: tests check that it is taken at all, since its
/// results are by design those of the serde path.
#[cfg(test)]
pub(super) static FAST_READS: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

/// Parses the records in `bytes[span]`: one per line (`by_lines`, NDJSON), or JSON
/// values separated by whitespace and commas (the inside of an array, concatenated objects).
/// With `reading.fast`, flat records take the fast path and the rest serde. Parsing stops
/// after `max_records` records (a batch read again, see [`read_rows`](super::read_rows)).
pub(super) fn parse_records<C: TableColumns>(
    table: &C,
    file_index: u32,
    bytes: &[u8],
    span: std::ops::Range<usize>,
    by_lines: bool,
    reading: Reading<'_>,
    max_records: usize,
) -> Result<ChunkOutput, ChunkError> {
    // A column's text is never longer than the chunk's bytes (escapes only shrink), so
    // only a chunk larger than the limit is parsed with the check after each record; the
    // common case keeps a loop without it (the check cost 2% of an NDJSON validation).
    let parse = if span.len() > reading.text_limit {
        parse_chunk_records::<C, true>
    } else {
        parse_chunk_records::<C, false>
    };
    parse(
        table,
        file_index,
        bytes,
        span,
        by_lines,
        reading,
        max_records,
    )
}

/// [`parse_records`], with `CHECK_TEXT` the check that no text column of the chunk
/// passes `reading.text_limit`.
fn parse_chunk_records<C: TableColumns, const CHECK_TEXT: bool>(
    table: &C,
    file_index: u32,
    bytes: &[u8],
    span: std::ops::Range<usize>,
    by_lines: bool,
    reading: Reading<'_>,
    max_records: usize,
) -> Result<ChunkOutput, ChunkError> {
    let (start, end) = (span.start, span.end);
    let fast = reading.fast;
    // Validating the chunk's UTF-8 once lets the fast path slice strings out of it for
    // free. Chunks start and end at ASCII bytes, so no character straddles two chunks. A
    // chunk that is not UTF-8 goes to serde whole: it either rejects the record or (in a
    // value it skips) tolerates the bytes, and only serde knows which.
    let text = if fast {
        simdutf8::basic::from_utf8(&bytes[start..end]).ok()
    } else {
        None
    };
    let mut flat = FlatRecord::new();
    let columns = table.columns();
    let mut builder = TableBuilder::with_presence(
        table.columns(),
        ((end - start) / 200).max(16),
        reading.presence,
    );
    let not_kept = builder.presence_mask();
    let mut record_lines = Vec::new();
    let mut problems = Vec::new();
    let mut misfits: Vec<Misfit> = Vec::new();
    let mut newlines = 0u64;
    let mut line_start = start;
    let mut pos = start;
    loop {
        while pos < end && matches!(bytes[pos], b' ' | b'\t' | b'\r' | b'\n' | b',') {
            if bytes[pos] == b'\n' {
                newlines += 1;
                line_start = pos + 1;
            }
            pos += 1;
        }
        if pos >= end || record_lines.len() == max_records {
            break;
        }
        let row = record_lines.len() as u64;
        misfits.clear();
        let fast_end = text.and_then(|text| {
            scan_record(
                table,
                text,
                pos - start,
                end - start,
                by_lines,
                not_kept,
                &mut flat,
            )
            .map(|e| start + e)
        });
        let (record_end, parsed) = match fast_end {
            Some(record_end) => {
                #[cfg(test)]
                FAST_READS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                push_flat(&mut builder, &mut misfits, &flat);
                (record_end, Ok(true))
            }
            None => {
                let record_end = if by_lines {
                    memchr::memchr(b'\n', &bytes[pos..end]).map_or(end, |p| pos + p)
                } else {
                    value_end(bytes, pos, end)
                };
                let mut de = serde_json::Deserializer::from_slice(&bytes[pos..record_end]);
                let seed = RecordSeed {
                    builder: &mut builder,
                    misfits: &mut misfits,
                    table,
                };
                let parsed = seed
                    .deserialize(&mut de)
                    .and_then(|is_object| de.end().map(|_| is_object));
                (record_end, parsed)
            }
        };
        let is_object = match parsed {
            Ok(is_object) => is_object,
            Err(e) => {
                let column_at_start = (pos - line_start) as u64 + 1;
                let message = e.to_string();
                let message = message
                    .rsplit_once(" at line ")
                    .map_or(message.as_str(), |(m, _)| m)
                    .to_string();
                let column = if e.line() <= 1 {
                    column_at_start + e.column() as u64 - 1
                } else {
                    e.column() as u64
                };
                return Err(ChunkError {
                    record_in_chunk: row,
                    line_in_chunk: newlines + e.line().saturating_sub(1) as u64,
                    column,
                    message,
                    too_long: None,
                });
            }
        };
        if let Some(column) = CHECK_TEXT
            .then(|| builder.text_over(reading.text_limit))
            .flatten()
        {
            return Err(ChunkError {
                record_in_chunk: row,
                line_in_chunk: newlines,
                column: (pos - line_start) as u64 + 1,
                message: format!(
                    "`{}` holds more than {} bytes of text in one chunk",
                    columns[column].0, reading.text_limit
                ),
                too_long: Some(columns[column].0),
            });
        }
        record_lines.push(newlines);
        if !is_object {
            let raw = String::from_utf8_lossy(&bytes[pos..record_end.min(pos + 200)]).into_owned();
            problems.push(FieldProblem {
                file: file_index,
                record: row,
                line: Some(newlines),
                column: "",
                raw,
                kind: ProblemKind::NotARecord,
            });
        }
        for (i, kind, raw) in misfits.drain(..) {
            problems.push(FieldProblem {
                file: file_index,
                record: row,
                line: Some(newlines),
                column: columns[i].0,
                raw,
                kind,
            });
        }
        let record_bytes = &bytes[pos..record_end];
        if !by_lines {
            if let Some(last) = memchr::memrchr(b'\n', record_bytes) {
                newlines += count_newlines(record_bytes);
                line_start = pos + last + 1;
            }
        }
        pos = record_end;
    }
    if builder.presence_spoiled() {
        // A record without a valid value in a presence column: its null or problem must
        // be seen, so the chunk is read again with every column kept.
        let full = Reading {
            presence: &[],
            ..reading
        };
        return parse_records(
            table,
            file_index,
            bytes,
            start..end,
            by_lines,
            full,
            max_records,
        );
    }
    let unread = builder.presence_columns();
    Ok(ChunkOutput {
        chunk: builder.finish(),
        record_lines,
        problems,
        newlines,
        start: start as u64,
        unread,
    })
}
