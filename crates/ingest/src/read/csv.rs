//! CSV sources: a header row naming the columns (any order, unknown ones ignored), an
//! empty field is null. Files without a quote character are split at newlines and parsed
//! in parallel; quoted files (which may hold newlines inside fields) are read in one pass.

use rayon::prelude::*;

use super::columns::{TableBuilder, TEXT_LIMIT};
use super::text::{assemble, count_newlines, map_file, split_at_newlines, ChunkOutput, Chunking};
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

/// The header row of the CSV text `bytes` (its data starting at `start`, after any byte
/// order mark) and where the first record starts.
fn read_header(
    path: &std::path::Path,
    bytes: &[u8],
    start: usize,
    chunking: Chunking,
) -> Result<(csv::StringRecord, usize), IngestError> {
    let csv_error = |record, line, message: String| IngestError::Csv {
        path: path.to_path_buf(),
        record,
        line,
        message,
    };
    let header_window = bytes
        .len()
        .min(start.saturating_add(chunking.max_record_bytes + 1));
    let header_end = match memchr::memchr(b'\n', &bytes[start..header_window]) {
        Some(p) => start + p + 1,
        None if header_window == bytes.len() => bytes.len(),
        None => {
            return Err(IngestError::RecordTooLong {
                path: path.to_path_buf(),
                line: 1,
                limit: chunking.max_record_bytes,
            })
        }
    };
    let mut header_reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[start..header_end]);
    let mut header = csv::StringRecord::new();
    match header_reader.read_record(&mut header) {
        Ok(true) => Ok((header, header_end)),
        Ok(false) => Err(csv_error(0, 1, "empty file, expected a header row".into())),
        Err(e) => Err(csv_error(0, 1, format!("unreadable header: {e}"))),
    }
}

/// The column names of a CSV file's header row, trimmed, in order.
pub(crate) fn header_names(
    path: &std::path::Path,
    chunking: Chunking,
) -> Result<Vec<String>, IngestError> {
    let pages = map_file(path)?;
    let bytes: &[u8] = &pages;
    let start: usize = if bytes.starts_with(BOM) { 3 } else { 0 };
    let (header, _) = read_header(path, bytes, start, chunking)?;
    Ok(header.iter().map(|name| name.trim().to_string()).collect())
}

/// A UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads one CSV file into the columns of `table`.
pub(crate) fn read_csv(
    file_index: u32,
    path: &std::path::Path,
    table: TableLayout,
    chunking: Chunking,
) -> Result<super::FileContents, IngestError> {
    let pages = map_file(path)?;
    // The whole file is scanned for quotes first: its pages are mapped in at once.
    pages.prefetch(0, pages.len());
    let bytes: &[u8] = &pages;
    let csv_error = |record, line, message: String| IngestError::Csv {
        path: path.to_path_buf(),
        record,
        line,
        message,
    };
    let start: usize = if bytes.starts_with(BOM) { 3 } else { 0 };
    let too_long = |offset: usize| IngestError::RecordTooLong {
        path: path.to_path_buf(),
        line: count_newlines(&bytes[..offset]) + 1,
        limit: chunking.max_record_bytes,
    };
    let (header, header_end) = read_header(path, bytes, start, chunking)?;
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
                shortened(&header.iter().collect::<Vec<_>>().join(","))
            ),
        ));
    }
    let map = HeaderMap { targets };
    let ranges = if memchr::memchr(b'"', &bytes[header_end..]).is_none() {
        split_at_newlines(bytes, header_end, bytes.len(), chunking).map_err(too_long)?
    } else {
        if let Some(offset) = quoted_record_over(bytes, header_end, chunking.max_record_bytes) {
            return Err(too_long(offset));
        }
        vec![(header_end, bytes.len())]
    };
    let outputs: Vec<Result<ChunkOutput, ChunkError>> = ranges
        .par_iter()
        .map(|&(s, e)| {
            // The csv crate drops a byte order mark at the start of its input, and a
            // chunk starts after a newline: one that starts with a BOM is read from that
            // newline (an empty line, which csv skips), so the BOM stays data.
            let lead = usize::from(s > 0 && bytes[s..e].starts_with(BOM) && bytes[s - 1] == b'\n');
            let parsed = parse_chunk(
                file_index,
                &table,
                &map,
                &bytes[s - lead..e],
                lead,
                TEXT_LIMIT,
            );
            pages.release(s, e);
            parsed.map(|out| ChunkOutput {
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

/// The start of the first record of `bytes[from..]` longer than `max` bytes, where a
/// quoted field may hold line breaks (a doubled `""` toggles the quote state twice).
fn quoted_record_over(bytes: &[u8], from: usize, max: usize) -> Option<usize> {
    if bytes.len() - from <= max {
        return None;
    }
    let (mut record_start, mut quoted) = (from, false);
    for at in memchr::memchr2_iter(b'"', b'\n', &bytes[from..]).map(|p| from + p) {
        if bytes[at] == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if at - record_start > max {
                return Some(record_start);
            }
            record_start = at + 1;
        }
    }
    (bytes.len() - record_start > max).then_some(record_start)
}

/// At most the first 200 characters of a message's quoted text, and how long it was.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}… ({} bytes)", &text[..cut], text.len()),
        None => text.to_string(),
    }
}

/// Parses the records of `text`, whose first `lead` bytes (0 or a newline) are not part
/// of the chunk.
fn parse_chunk(
    file_index: u32,
    table: &TableLayout,
    map: &HeaderMap,
    text: &[u8],
    lead: usize,
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
    let (mut counted_to, mut lines_before) = (lead, 0u64);
    loop {
        let row = record_lines.len() as u64;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e
                    .position()
                    .map_or(0, |p| p.line().saturating_sub(1 + lead as u64));
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
        // Lines are counted from the record's byte offset rather than taken from the csv
        // crate, whose count slips by one after a CRLF in a file of LF lines (the `\n`
        // left after the `\r` it ended the record at).
        let mut start = record
            .position()
            .map_or(0, |p| p.byte() as usize)
            .min(text.len());
        while start < text.len() && matches!(text[start], b'\n' | b'\r') {
            start += 1;
        }
        lines_before += count_newlines(&text[counted_to.min(start)..start]);
        counted_to = counted_to.max(start);
        let line = lines_before;
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
        newlines: count_newlines(&text[lead..]),
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
        let err = match parse_chunk(0, &table, &map, text, 0, 8) {
            Err(e) => e,
            Ok(out) => panic!("read {} rows", out.record_lines.len()),
        };
        // BCN, MAD and BCN are 9 bytes: the third record passes 8.
        assert_eq!(err.too_long, Some("cityCode"));
        assert_eq!((err.record_in_chunk, err.line_in_chunk), (2, 2));
        let out = parse_chunk(0, &table, &map, text, 0, TEXT_LIMIT).unwrap_or_else(|e| {
            panic!("{}", e.message);
        });
        assert_eq!(out.record_lines.len(), 4);
    }

    fn read_with_limit(text: &[u8], max: usize) -> Result<super::super::FileContents, IngestError> {
        read_orders(text, 8, max)
    }

    /// Reads `text` as an orders CSV file cut into chunks of `chunk_bytes`.
    fn read_orders(
        text: &[u8],
        chunk_bytes: usize,
        max_record_bytes: usize,
    ) -> Result<super::super::FileContents, IngestError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("orders.csv");
        std::fs::write(&path, text).unwrap();
        let chunking = Chunking {
            chunk_bytes,
            max_record_bytes,
        };
        read_csv(0, &path, Table::Orders.layout(), chunking)
    }

    #[test]
    fn a_header_past_the_record_limit_is_refused_without_reading_it() {
        let mut text = b"orderId,".to_vec();
        text.extend(std::iter::repeat_n(b'x', 100));
        let err = read_with_limit(&text, 64).unwrap_err().to_string();
        assert!(err.ends_with(":1: a record longer than 64 bytes starts here, the most ccc reads as one record (raise it with --max-record-bytes)"), "{err}");
    }

    #[test]
    fn a_line_past_the_record_limit_is_found_in_either_csv_path() {
        let long = "B".repeat(70);
        for quote in ["", "\""] {
            let text = format!("orderId,cityCode\n1,BCN\n2,{quote}{long}{quote}\n3,MAD\n");
            let err = read_with_limit(text.as_bytes(), 64)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(":3: a record longer than 64 bytes"),
                "{quote}: {err}"
            );
            let (batches, _) = read_with_limit(text.as_bytes(), 80).unwrap();
            assert_eq!(batches.iter().map(|b| b.len()).sum::<usize>(), 3);
        }
        // A quoted field's line breaks are inside its record.
        let text = format!(
            "orderId,cityCode\n1,\"{}\n{}\"\n",
            "a".repeat(40),
            "b".repeat(40)
        );
        let err = read_with_limit(text.as_bytes(), 64)
            .unwrap_err()
            .to_string();
        assert!(err.contains(":2: a record longer"), "{err}");
    }

    #[test]
    fn a_crlf_line_among_lf_lines_keeps_the_next_records_line() {
        let text = b"orderId,cityCode\n1,BCN\n2,MAD\r\n3,LIS\n4,OPO\n";
        for chunk_bytes in [8, 1 << 20] {
            let (batches, _) = read_orders(text.as_ref(), chunk_bytes, 1 << 20).unwrap();
            let lines: Vec<_> = batches
                .iter()
                .flat_map(|b| (0..b.len()).map(|i| b.line(i)))
                .collect();
            assert_eq!(
                lines,
                vec![Some(2), Some(3), Some(4), Some(5)],
                "{chunk_bytes}"
            );
        }
    }

    #[test]
    fn a_byte_order_mark_inside_the_file_is_data_in_any_chunk() {
        let text = "orderId,cityCode\n1,BCN\n\u{feff}2,MAD\n3,\u{feff}LIS\n";
        for chunk_bytes in [1, 8, 1 << 20] {
            let (batches, problems) = read_orders(text.as_ref(), chunk_bytes, 1 << 20).unwrap();
            let raw: Vec<(u64, Option<u64>, &str)> = problems
                .iter()
                .map(|p| (p.record, p.line, p.raw.as_str()))
                .collect();
            assert_eq!(raw, vec![(2, Some(3), "\u{feff}2")], "{chunk_bytes}");
            let lines: Vec<_> = batches
                .iter()
                .flat_map(|b| (0..b.len()).map(|i| b.line(i)))
                .collect();
            assert_eq!(lines, vec![Some(2), Some(3), Some(4)], "{chunk_bytes}");
        }
    }
}
