//! JSON sources: arrays of records (pretty-printed or not), concatenated objects, and
//! newline-delimited JSON. A cheap structural scan finds record boundaries so chunks of
//! a large file parse in parallel; each record is read by a seeded visitor that parses the
//! table's fields straight into their column builders and skips the rest, so no
//! `serde_json::Value` (nor any per-record allocation) is built.

use std::marker::PhantomData;

use rayon::prelude::*;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::columns::{ColumnBuilder, TableBuilder};
use super::text::{
    assemble, count_newlines, line_column, map_file, split_at_newlines, ChunkOutput,
};
use crate::discover::{Format, SourceFile};
use crate::error::IngestError;
use crate::problems::{FieldProblem, ProblemKind};
use crate::schema::{self, Table};

/// The most columns a source table has.
const MAX_COLUMNS: usize = 9;

/// A table's column lookup by key, as a `match` (length and byte compares), chosen at
/// compile time so the per-key cost of a record is a jump, not a scan over names.
pub(crate) trait TableColumns {
    const TABLE: Table;
    fn index(key: &str) -> Option<usize>;
}
pub(crate) struct MessageColumns;
impl TableColumns for MessageColumns {
    const TABLE: Table = Table::ChatMessages;
    #[inline]
    fn index(key: &str) -> Option<usize> {
        match key {
            schema::SENDER_APP_TYPE => Some(0),
            schema::CUSTOMER_ID => Some(1),
            schema::FROM_ID => Some(2),
            schema::TO_ID => Some(3),
            schema::CHAT_STARTED_BY_MESSAGE => Some(4),
            schema::ORDER_ID => Some(5),
            schema::ORDER_STAGE => Some(6),
            schema::COURIER_ID => Some(7),
            schema::MESSAGE_SENT_TIME => Some(8),
            _ => None,
        }
    }
}
pub(crate) struct OrderColumns;
impl TableColumns for OrderColumns {
    const TABLE: Table = Table::Orders;
    #[inline]
    fn index(key: &str) -> Option<usize> {
        match key {
            schema::ORDER_ID => Some(0),
            schema::CITY_CODE => Some(1),
            _ => None,
        }
    }
}

struct KeySeed<C>(PhantomData<C>);

impl<'de, C: TableColumns> DeserializeSeed<'de> for KeySeed<C> {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<C: TableColumns> Visitor<'_> for KeySeed<C> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(C::index(key))
    }
}

/// A value that did not fit: its column, what was wrong and the text it had.
type Misfit = (usize, ProblemKind, String);

/// Reads one field's JSON value straight into its column builder.
struct FieldSeed<'b>(&'b mut ColumnBuilder);

/// What [`FieldSeed`] gives: `Err` with the problem and the value's text when it did not fit.
type FieldOutcome = Result<(), (ProblemKind, String)>;

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = FieldOutcome;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldSeed<'_> {
    type Value = FieldOutcome;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        self.0.push_null();
        Ok(Ok(()))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(self.0.push_json_bool(v).map_err(|k| (k, v.to_string())))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(self.0.push_json_i64(v).map_err(|k| (k, v.to_string())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        let outcome = match i64::try_from(v) {
            Ok(v) => self.0.push_json_i64(v),
            Err(_) => self.0.push_json_out_of_i64(true),
        };
        Ok(outcome.map_err(|k| (k, v.to_string())))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        // serde_json gives f64 for fractions, exponents and integers beyond u64 — and for
        // `-0`, which is the integer 0.
        if v == 0.0 && v.is_sign_negative() {
            return Ok(self.0.push_json_i64(0).map_err(|k| (k, "-0".to_string())));
        }
        let integral = v.fract() == 0.0 && v.abs() >= 9.2e18;
        Ok(self
            .0
            .push_json_out_of_i64(integral)
            .map_err(|k| (k, v.to_string())))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.push_text(v, true).map_err(|k| (k, v.to_string())))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(self.0.push_wrong_type().map_err(|k| (k, "[…]".to_string())))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(self.0.push_wrong_type().map_err(|k| (k, "{…}".to_string())))
    }
}

/// Reads one record into the table's builders: known fields parsed into their columns
/// (the first occurrence of a repeated key wins), unknown ones skipped, missing ones null.
/// Gives `false` when the record is not an object (all its fields are then null).
struct RecordSeed<'b, C> {
    builder: &'b mut TableBuilder,
    misfits: &'b mut Vec<Misfit>,
    _table: PhantomData<C>,
}

impl<C: TableColumns> RecordSeed<'_, C> {
    fn all_null(self) -> bool {
        self.builder
            .columns
            .iter_mut()
            .for_each(ColumnBuilder::push_null);
        false
    }
}

impl<'de, C: TableColumns> DeserializeSeed<'de> for RecordSeed<'_, C> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, C: TableColumns> Visitor<'de> for RecordSeed<'_, C> {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut seen = [false; MAX_COLUMNS];
        while let Some(key) = map.next_key_seed(KeySeed::<C>(PhantomData))? {
            match key {
                Some(i) if !seen[i] => {
                    seen[i] = true;
                    if let Err((kind, raw)) =
                        map.next_value_seed(FieldSeed(&mut self.builder.columns[i]))?
                    {
                        self.misfits.push((i, kind, raw));
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        for (column, seen) in self.builder.columns.iter_mut().zip(seen) {
            if !seen {
                column.push_null();
            }
        }
        Ok(true)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(self.all_null())
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(self.all_null())
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(self.all_null())
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(self.all_null())
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(self.all_null())
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(self.all_null())
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(self.all_null())
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
    let by_lines = file.format == Format::Ndjson;
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
        .map(|&(s, e)| parse_chunk::<C>(file_index, bytes, s, e, by_lines))
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

/// Where the JSON value starting at `pos` ends (exclusive), scanning strings and nesting;
/// `end` when it does not end before it (the parser then reports the truncation).
fn value_end(bytes: &[u8], pos: usize, end: usize) -> usize {
    let mut depth = 0u32;
    let mut i = pos;
    while i < end {
        match bytes[i] {
            b'"' => {
                let mut j = i + 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', &bytes[j..end]) {
                        None => return end,
                        Some(p) if bytes[j + p] == b'\\' => j += p + 2,
                        Some(p) => {
                            j += p;
                            break;
                        }
                    }
                }
                i = j;
                if depth == 0 {
                    return i + 1;
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                if depth <= 1 {
                    return i + 1;
                }
                depth -= 1;
            }
            b',' | b' ' | b'\t' | b'\r' | b'\n' if depth == 0 => return i,
            _ => {}
        }
        i += 1;
    }
    end
}

/// Parses the records in `bytes[start..end]`: one per line (`by_lines`, NDJSON), or JSON
/// values separated by whitespace and commas (the inside of an array, concatenated objects).
fn parse_chunk<C: TableColumns>(
    file_index: u32,
    bytes: &[u8],
    start: usize,
    end: usize,
    by_lines: bool,
) -> Result<ChunkOutput, ChunkError> {
    let columns = C::TABLE.columns();
    let mut builder = TableBuilder::new(C::TABLE.columns(), ((end - start) / 200).max(16));
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
        if pos >= end {
            break;
        }
        let record_end = if by_lines {
            memchr::memchr(b'\n', &bytes[pos..end]).map_or(end, |p| pos + p)
        } else {
            value_end(bytes, pos, end)
        };
        let row = record_lines.len() as u64;
        let column_at_start = (pos - line_start) as u64 + 1;
        let mut de = serde_json::Deserializer::from_slice(&bytes[pos..record_end]);
        misfits.clear();
        let seed = RecordSeed::<C> {
            builder: &mut builder,
            misfits: &mut misfits,
            _table: PhantomData,
        };
        let parsed = seed
            .deserialize(&mut de)
            .and_then(|is_object| de.end().map(|_| is_object));
        let is_object = match parsed {
            Ok(is_object) => is_object,
            Err(e) => {
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
        };
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
    Ok(ChunkOutput {
        chunk: builder.finish(),
        record_lines,
        problems,
        newlines,
    })
}

#[cfg(test)]
mod tests {
    use arrow2::array::PrimitiveArray;

    use crate::discover::{Format, SourceFile};
    use crate::problems::ProblemKind;
    use crate::schema::{FieldType, Table};

    fn read_orders(text: &str) -> (Vec<Option<i64>>, Vec<ProblemKind>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("orders.ndjson");
        std::fs::write(&path, text).unwrap();
        let file = SourceFile {
            path,
            name: "orders.ndjson".into(),
            table: Table::Orders,
            format: Format::Ndjson,
            size: text.len() as u64,
        };
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
}
