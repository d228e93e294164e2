//! CSV sources: a header row naming the columns (any order, unknown ones ignored), an
//! empty field is null. Files without a quote character are split at newlines and parsed
//! in parallel; quoted files (which may hold newlines inside fields) are read in one pass.

use rayon::prelude::*;

use super::columns::{TableBuilder, TEXT_LIMIT};
use super::text::{assemble, count_newlines, map_file, split_at_newlines, ChunkOutput};
use crate::error::IngestError;
use crate::problems::FieldProblem;
use crate::schema::TableLayout;

/// Where each CSV column goes: `Some(i)` is the table's column `i`.
struct HeaderMap {
    targets: Vec<Option<usize>>,
}

struct ChunkError {
    record_in_chunk: u64,
    line_in_chunk: u64,
    message: String,
    /// Set when the record made this text column too long ([`TableBuilder::text_over`]).
    too_long: Option<&'static str>,
}

/// Reads one CSV file into the columns of `table`.
pub(crate) fn read_csv(
    file_index: u32,
    path: &std::path::Path,
    table: TableLayout,
    chunk_bytes: usize,
) -> Result<super::FileContents, IngestError> {
    let bytes = map_file(path)?;
    let bytes: &[u8] = &bytes;
    let csv_error = |record, line, message: String| IngestError::Csv {
        path: path.to_path_buf(),
        record,
        line,
        message,
    };
    let start = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let header_end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |p| start + p + 1);
    let mut header_reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[start..header_end]);
    let mut header = csv::StringRecord::new();
    match header_reader.read_record(&mut header) {
        Ok(true) => {}
        Ok(false) => return Err(csv_error(0, 1, "empty file, expected a header row".into())),
        Err(e) => return Err(csv_error(0, 1, format!("unreadable header: {e}"))),
    }
    let targets: Vec<Option<usize>> = header
        .iter()
        .map(|name| table.column_index(name.trim()))
        .collect();
    if targets.iter().all(Option::is_none) {
        return Err(csv_error(
            0,
            1,
            format!(
                "the header names none of the columns of {} (found: {})",
                table.name,
                header.iter().collect::<Vec<_>>().join(",")
            ),
        ));
    }
    let map = HeaderMap { targets };
    let ranges = if memchr::memchr(b'"', &bytes[header_end..]).is_none() {
        split_at_newlines(bytes, header_end, bytes.len(), chunk_bytes)
    } else {
        vec![(header_end, bytes.len())]
    };
    let outputs: Vec<Result<ChunkOutput, ChunkError>> = ranges
        .par_iter()
        .map(|&(s, e)| {
            parse_chunk(file_index, &table, &map, &bytes[s..e], TEXT_LIMIT).map(|out| ChunkOutput {
                start: s as u64,
                ..out
            })
        })
        .collect();
    let lines_before_first = count_newlines(&bytes[..header_end]);
    let mut ok = Vec::with_capacity(outputs.len());
    let (mut records_before, mut lines_before) = (0u64, lines_before_first);
    for out in outputs {
        match out {
            Ok(out) => {
                records_before += out.record_lines.len() as u64;
                lines_before += out.newlines;
                ok.push(out);
            }
            Err(e) => {
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
                        limit: TEXT_LIMIT,
                    },
                    None => csv_error(record, line, e.message),
                });
            }
        }
    }
    Ok(assemble(file_index, ok, lines_before_first))
}

fn parse_chunk(
    file_index: u32,
    table: &TableLayout,
    map: &HeaderMap,
    text: &[u8],
    text_limit: usize,
) -> Result<ChunkOutput, ChunkError> {
    // A column's text is never longer than the chunk (quotes only shrink it), so only a
    // chunk larger than the limit needs the check after each record. A file with quotes
    // is one chunk.
    let check_text = text.len() > text_limit;
    let columns = table.columns;
    let mut builder = TableBuilder::new(table.columns, (text.len() / 120).max(16));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut record = csv::StringRecord::new();
    let mut record_lines = Vec::new();
    let mut problems = Vec::new();
    let mut seen = vec![false; columns.len()];
    loop {
        let row = record_lines.len() as u64;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line().saturating_sub(1));
                let message = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "invalid UTF-8".to_string(),
                    _ => e.to_string(),
                };
                return Err(ChunkError {
                    record_in_chunk: row,
                    line_in_chunk: line,
                    message,
                    too_long: None,
                });
            }
        }
        let line = record.position().map_or(0, |p| p.line().saturating_sub(1));
        if record.len() != map.targets.len() {
            return Err(ChunkError {
                record_in_chunk: row,
                line_in_chunk: line,
                message: format!(
                    "record has {} fields, the header has {}",
                    record.len(),
                    map.targets.len()
                ),
                too_long: None,
            });
        }
        record_lines.push(line);
        seen.iter_mut().for_each(|s| *s = false);
        for (field, target) in record.iter().zip(&map.targets) {
            let Some(i) = *target else { continue };
            if seen[i] {
                continue;
            }
            seen[i] = true;
            let column = &mut builder.columns[i];
            if field.is_empty() {
                column.push_null();
            } else if let Err(kind) = column.push_text(field, false) {
                problems.push(FieldProblem {
                    file: file_index,
                    record: row,
                    line: Some(line),
                    column: columns[i].0,
                    raw: field.to_string(),
                    kind,
                });
            }
        }
        for (i, s) in seen.iter().enumerate() {
            if !s {
                builder.columns[i].push_null();
            }
        }
        if let Some(column) = check_text.then(|| builder.text_over(text_limit)).flatten() {
            return Err(ChunkError {
                record_in_chunk: row,
                line_in_chunk: line,
                message: String::new(),
                too_long: Some(columns[column].0),
            });
        }
    }
    Ok(ChunkOutput {
        chunk: builder.finish(),
        record_lines,
        problems,
        newlines: count_newlines(text),
        start: 0,
        unread: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Table;

    #[test]
    fn a_column_too_long_for_arrow_offsets_is_an_error_at_its_record() {
        let table = Table::Orders.layout();
        let map = HeaderMap {
            targets: vec![
                table.column_index("orderId"),
                table.column_index("cityCode"),
            ],
        };
        let text = b"1,BCN\n2,\"MAD\"\n3,BCN\n4,MIL\n";
        let err = match parse_chunk(0, &table, &map, text, 8) {
            Err(e) => e,
            Ok(out) => panic!("read {} rows", out.record_lines.len()),
        };
        // BCN, MAD and BCN are 9 bytes: the third record passes 8.
        assert_eq!(err.too_long, Some("cityCode"));
        assert_eq!((err.record_in_chunk, err.line_in_chunk), (2, 2));
        let out = parse_chunk(0, &table, &map, text, TEXT_LIMIT).unwrap_or_else(|e| {
            panic!("{}", e.message);
        });
        assert_eq!(out.record_lines.len(), 4);
    }
}
