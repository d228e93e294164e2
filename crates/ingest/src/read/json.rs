//! JSON sources: arrays of records (pretty-printed or not), concatenated objects, and
//! newline-delimited JSON. A cheap structural scan finds record boundaries so chunks of
//! a large file parse in parallel; each record is read by a visitor that borrows the raw
//! text of the table's fields and skips the rest, so no `serde_json::Value` is built.

use std::marker::PhantomData;

use rayon::prelude::*;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::columns::TableBuilder;
use super::text::{
    assemble, count_newlines, line_column, map_file, split_at_newlines, ChunkOutput,
};
use crate::discover::{Format, SourceFile};
use crate::error::IngestError;
use crate::problems::{FieldProblem, ProblemKind};
use crate::schema::Table;

/// The most columns a source table has.
const MAX_COLUMNS: usize = 9;

/// Picks the table's column list at compile time, so [`Record`] can implement
/// `Deserialize` (which takes no runtime arguments) for each table.
pub(crate) trait TableColumns {
    const TABLE: Table;
}
pub(crate) struct MessageColumns;
impl TableColumns for MessageColumns {
    const TABLE: Table = Table::ChatMessages;
}
pub(crate) struct OrderColumns;
impl TableColumns for OrderColumns {
    const TABLE: Table = Table::Orders;
}

/// One record: the raw JSON text of each known field (last occurrence wins), or a
/// marker that the record was not an object.
struct Record<'a, C> {
    values: [Option<&'a RawValue>; MAX_COLUMNS],
    not_an_object: bool,
    _table: PhantomData<C>,
}

struct KeySeed(Table);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.column_index(key))
    }
}

struct RecordVisitor<C>(PhantomData<C>);

impl<'de, C: TableColumns> RecordVisitor<C> {
    fn other() -> Record<'de, C> {
        Record {
            values: [None; MAX_COLUMNS],
            not_an_object: true,
            _table: PhantomData,
        }
    }
}

impl<'de, C: TableColumns> Visitor<'de> for RecordVisitor<C> {
    type Value = Record<'de, C>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut values = [None; MAX_COLUMNS];
        while let Some(key) = map.next_key_seed(KeySeed(C::TABLE))? {
            match key {
                Some(i) => values[i] = Some(map.next_value::<&'de RawValue>()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Record {
            values,
            not_an_object: false,
            _table: PhantomData,
        })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Self::other())
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Self::other())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Self::other())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Self::other())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Self::other())
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Self::other())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Self::other())
    }
}

impl<'de, C: TableColumns> Deserialize<'de> for Record<'de, C> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RecordVisitor(PhantomData))
    }
}

/// A syntax error inside a chunk, relative to the chunk until [`read_json`] resolves it.
struct ChunkError {
    record_in_chunk: u64,
    line_in_chunk: u64,
    column: u64,
    message: String,
}

/// How a `.json` file is laid out, from its first significant byte.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// `[ {...}, {...} ]`
    Array,
    /// `{...} {...}` or one object per line.
    Objects,
}

/// Reads one JSON or NDJSON file of `table`.
pub(crate) fn read_json(
    file_index: u32,
    file: &SourceFile,
    table: Table,
    chunk_bytes: usize,
) -> Result<super::FileContents, IngestError> {
    match table {
        Table::ChatMessages => read_typed::<MessageColumns>(file_index, file, chunk_bytes),
        Table::Orders => read_typed::<OrderColumns>(file_index, file, chunk_bytes),
    }
}

fn read_typed<C: TableColumns>(
    file_index: u32,
    file: &SourceFile,
    chunk_bytes: usize,
) -> Result<super::FileContents, IngestError> {
    let bytes = map_file(&file.path)?;
    let bytes: &[u8] = &bytes;
    let json_error = |offset: usize, record: u64, message: String| {
        let (line, column) = line_column(bytes, offset);
        IngestError::Json {
            path: file.path.clone(),
            record,
            line,
            column,
            message,
        }
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
    let ranges = match (file.format, first) {
        (Format::Ndjson, None) => return Ok((Vec::new(), Vec::new())),
        (_, None) => {
            return Err(json_error(
                bytes.len(),
                0,
                "empty file, expected a JSON array of records".into(),
            ))
        }
        (Format::Ndjson, Some(_)) => split_at_newlines(bytes, start, bytes.len(), chunk_bytes),
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
            scan_structure(bytes, p, layout, chunk_bytes)
                .map_err(|(offset, records, msg)| json_error(offset, records, msg))?
        }
    };
    let lines_before_first = ranges
        .first()
        .map_or(0, |&(s, _)| count_newlines(&bytes[..s]));
    let outputs: Vec<Result<ChunkOutput, ChunkError>> = ranges
        .par_iter()
        .map(|&(s, e)| parse_chunk::<C>(file_index, bytes, s, e))
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
                return Err(IngestError::Json {
                    path: file.path.clone(),
                    record: records_before + e.record_in_chunk + 1,
                    line: lines_before + e.line_in_chunk + 1,
                    column: e.column,
                    message: e.message,
                });
            }
        }
    }
    Ok(assemble(file_index, ok, lines_before_first))
}

/// Walks the structure of a `.json` file (strings, nesting) and returns ranges that each
/// hold whole records, about `target` bytes apiece. Errors carry the byte offset, the
/// number of records seen and a message: truncation, stray closing brackets, trailing text.
fn scan_structure(
    bytes: &[u8],
    open: usize,
    layout: Layout,
    target: usize,
) -> Result<Vec<(usize, usize)>, (usize, u64, String)> {
    // Records live at this depth: inside the array, or at the top for concatenated objects.
    let record_depth: u32 = if layout == Layout::Array { 1 } else { 0 };
    let mut depth: u32 = 0;
    let mut records: u64 = 0;
    let mut i = open;
    let mut ranges = Vec::new();
    let mut chunk_start = if layout == Layout::Array {
        open + 1
    } else {
        open
    };
    let mut body_end = bytes.len();
    let mut closed_at = None;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // Jump to the closing quote, stepping over escapes.
                let mut j = i + 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', &bytes[j..]) {
                        None => {
                            return Err((
                                bytes.len(),
                                records,
                                "unexpected end of file inside a string (truncated file?)".into(),
                            ))
                        }
                        Some(p) if bytes[j + p] == b'\\' => j += p + 2,
                        Some(p) => {
                            j += p;
                            break;
                        }
                    }
                }
                i = j;
            }
            b'{' | b'[' => {
                if depth == record_depth {
                    records += 1;
                }
                depth += 1;
            }
            b'}' | b']' => {
                if depth == 0 {
                    return Err((i, records, format!("unexpected '{}'", bytes[i] as char)));
                }
                depth -= 1;
                if layout == Layout::Array && depth == 0 {
                    body_end = i;
                    closed_at = Some(i);
                    break;
                }
                if depth == record_depth && i + 1 - chunk_start >= target {
                    ranges.push((chunk_start, i + 1));
                    chunk_start = i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if depth > 0 && closed_at.is_none() {
        let what = if layout == Layout::Array {
            "the JSON array is not closed"
        } else {
            "a JSON object is not closed"
        };
        return Err((
            bytes.len(),
            records,
            format!("unexpected end of file: {what} (truncated file?)"),
        ));
    }
    if let Some(close) = closed_at {
        if let Some(p) = bytes[close + 1..]
            .iter()
            .position(|b| !b.is_ascii_whitespace())
        {
            return Err((
                close + 1 + p,
                records,
                "unexpected text after the end of the JSON array".into(),
            ));
        }
    }
    if chunk_start < body_end {
        ranges.push((chunk_start, body_end));
    }
    Ok(ranges)
}

/// Parses the records in `bytes[start..end]`, separated by whitespace and commas.
fn parse_chunk<C: TableColumns>(
    file_index: u32,
    bytes: &[u8],
    start: usize,
    end: usize,
) -> Result<ChunkOutput, ChunkError> {
    let columns = C::TABLE.columns();
    let mut builder = TableBuilder::new(C::TABLE, ((end - start) / 200).max(16));
    let mut record_lines = Vec::new();
    let mut problems = Vec::new();
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
        if pos >= end {
            break;
        }
        let row = record_lines.len() as u64;
        let column_at_start = (pos - line_start) as u64 + 1;
        let mut stream =
            serde_json::Deserializer::from_slice(&bytes[pos..end]).into_iter::<Record<'_, C>>();
        let record = match stream.next() {
            Some(Ok(record)) => record,
            Some(Err(e)) => {
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
                });
            }
            None => break,
        };
        let consumed = stream.byte_offset();
        record_lines.push(newlines);
        if record.not_an_object {
            let raw = String::from_utf8_lossy(&bytes[pos..pos + consumed.min(200)]).into_owned();
            problems.push(FieldProblem {
                file: file_index,
                record: row,
                line: Some(newlines),
                column: "",
                raw,
                kind: ProblemKind::NotARecord,
            });
        }
        for (i, builder) in builder.columns.iter_mut().enumerate() {
            match record.values[i] {
                None => builder.push_null(),
                Some(raw) => {
                    if let Err(kind) = builder.push_json(raw.get()) {
                        problems.push(FieldProblem {
                            file: file_index,
                            record: row,
                            line: Some(newlines),
                            column: columns[i].0,
                            raw: display_raw(raw.get()),
                            kind,
                        });
                    }
                }
            }
        }
        let record_bytes = &bytes[pos..pos + consumed];
        if let Some(last) = memchr::memrchr(b'\n', record_bytes) {
            newlines += count_newlines(record_bytes);
            line_start = pos + last + 1;
        }
        pos += consumed;
    }
    Ok(ChunkOutput {
        chunk: builder.finish(),
        record_lines,
        problems,
        newlines,
    })
}

/// The raw text of a value for reports: a string's content without quotes, or the JSON.
fn display_raw(raw: &str) -> String {
    if raw.starts_with('"') {
        serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_string())
    } else {
        raw.to_string()
    }
}
