//! Hand-written text output of generated records: pretty JSON arrays (as Python's
//! `json.dump(indent=4)` writes them), NDJSON and CSV, formatted straight into a byte
//! buffer (integers and RFC 3339 times without going through `fmt` or `serde_json`).

use ccc_dq::time::civil_from_days;

use super::dirty;
use super::model::{Message, OrderRow, APP_TYPES, CITIES, OFFSETS, STAGES};
use ccc_ingest::schema::Table;
use ccc_ingest::Format;

/// One value to write.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell<'a> {
    /// JSON `null`; an empty CSV field.
    Null,
    /// An integer.
    Int(i64),
    /// A string (quoted in JSON).
    Str(&'a str),
    /// `true` / `false`.
    Bool(bool),
    /// A UTC microsecond instant and the index into [`OFFSETS`] it is written with.
    Time(i64, u8),
    /// Text written as it is (a JSON number literal; plain text in CSV).
    Raw(&'a str),
}

/// What a file starts with: `[` for a JSON array, the header row for CSV.
pub(crate) fn header(format: Format, table: Table) -> Vec<u8> {
    match format {
        Format::Json => b"[".to_vec(),
        Format::Csv => {
            let names: Vec<&str> = table.columns().iter().map(|(n, _)| *n).collect();
            let mut line = names.join(",").into_bytes();
            line.push(b'\n');
            line
        }
        Format::Ndjson | Format::Parquet => Vec::new(),
    }
}

/// What a file ends with, given how many records it holds.
pub(crate) fn footer(format: Format, records: u64) -> &'static [u8] {
    match (format, records) {
        (Format::Json, 0) => b"]",
        (Format::Json, _) => b"\n]",
        _ => b"",
    }
}

/// How many leading bytes to drop from the first record of a file (the `,` that
/// separates JSON array elements).
pub(crate) fn first_record_skip(format: Format) -> usize {
    usize::from(format == Format::Json)
}

/// Appends one message record.
pub(crate) fn message(format: Format, out: &mut Vec<u8>, m: &Message) {
    let mut cells = [
        Cell::Str(APP_TYPES[usize::from(m.app)]),
        Cell::Int(m.customer_id),
        Cell::Int(m.sender_id()),
        Cell::Int(m.receiver_id()),
        Cell::Bool(m.seq == 0),
        Cell::Int(m.order_id),
        Cell::Str(STAGES[usize::from(m.stage)]),
        Cell::Int(m.courier_id),
        Cell::Time(m.time, m.offset),
    ];
    if let Some(inj) = m.dirty {
        let (name, ty) = Table::ChatMessages.columns()[usize::from(inj.column)];
        cells[usize::from(inj.column)] = dirty::cell(name, ty, inj);
    }
    record(format, out, Table::ChatMessages, &cells);
}

/// Appends one orders record.
pub(crate) fn order(format: Format, out: &mut Vec<u8>, o: &OrderRow) {
    let mut cells = [
        Cell::Int(o.order_id),
        Cell::Str(CITIES[usize::from(o.city)]),
    ];
    if let Some(inj) = o.dirty {
        let (name, ty) = Table::Orders.columns()[usize::from(inj.column)];
        cells[usize::from(inj.column)] = dirty::cell(name, ty, inj);
    }
    record(format, out, Table::Orders, &cells);
}

fn record(format: Format, out: &mut Vec<u8>, table: Table, cells: &[Cell<'_>]) {
    let columns = table.columns();
    match format {
        Format::Json => {
            out.extend_from_slice(b",\n    {\n");
            for (i, ((name, _), cell)) in columns.iter().zip(cells).enumerate() {
                out.extend_from_slice(b"        \"");
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(b"\": ");
                json_cell(out, cell);
                if i + 1 < cells.len() {
                    out.push(b',');
                }
                out.push(b'\n');
            }
            out.extend_from_slice(b"    }");
        }
        Format::Ndjson => {
            out.push(b'{');
            for (i, ((name, _), cell)) in columns.iter().zip(cells).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.push(b'"');
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(b"\":");
                json_cell(out, cell);
            }
            out.extend_from_slice(b"}\n");
        }
        Format::Csv => {
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                csv_cell(out, cell);
            }
            out.push(b'\n');
        }
        Format::Parquet => unreachable!("Parquet records are not written as text"),
    }
}

fn json_cell(out: &mut Vec<u8>, cell: &Cell<'_>) {
    match *cell {
        Cell::Null => out.extend_from_slice(b"null"),
        Cell::Int(v) => push_i64(out, v),
        Cell::Str(s) => json_string(out, s),
        Cell::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Cell::Time(micros, offset) => {
            out.push(b'"');
            push_time(out, micros, offset);
            out.push(b'"');
        }
        Cell::Raw(s) => out.extend_from_slice(s.as_bytes()),
    }
}

fn json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            c if (c as u32) < 0x20 || !c.is_ascii() => {
                // Like Python's json.dump (ensure_ascii): \uXXXX, surrogate pairs above the BMP.
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.extend_from_slice(format!("\\u{unit:04x}").as_bytes());
                }
            }
            c => out.push(c as u8),
        }
    }
    out.push(b'"');
}

fn csv_cell(out: &mut Vec<u8>, cell: &Cell<'_>) {
    match *cell {
        Cell::Null => {}
        Cell::Int(v) => push_i64(out, v),
        Cell::Str(s) | Cell::Raw(s) => {
            if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
                out.push(b'"');
                out.extend_from_slice(s.replace('"', "\"\"").as_bytes());
                out.push(b'"');
            } else {
                out.extend_from_slice(s.as_bytes());
            }
        }
        Cell::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Cell::Time(micros, offset) => push_time(out, micros, offset),
    }
}

/// Appends a decimal integer.
pub(crate) fn push_i64(out: &mut Vec<u8>, v: i64) {
    let mut buf = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[i..]);
}

fn push2(out: &mut Vec<u8>, v: u32) {
    out.push(b'0' + (v / 10 % 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

/// Appends `micros` as RFC 3339 text in the offset [`OFFSETS`]`[offset]`: `Z` for index
/// 0, `±hh:mm` otherwise; the fraction only when non-zero, trailing zeros trimmed.
pub(crate) fn push_time(out: &mut Vec<u8>, micros: i64, offset: u8) {
    let offset_minutes = i64::from(OFFSETS[usize::from(offset)]);
    let local = micros + offset_minutes * 60_000_000;
    let days = local.div_euclid(86_400_000_000);
    let in_day = local.rem_euclid(86_400_000_000);
    let (year, month, day) = civil_from_days(days);
    let seconds = (in_day / 1_000_000) as u32;
    let fraction = (in_day % 1_000_000) as u32;
    push2(out, (year / 100) as u32);
    push2(out, (year % 100) as u32);
    out.push(b'-');
    push2(out, month);
    out.push(b'-');
    push2(out, day);
    out.push(b'T');
    push2(out, seconds / 3600);
    out.push(b':');
    push2(out, seconds / 60 % 60);
    out.push(b':');
    push2(out, seconds % 60);
    if fraction != 0 {
        let mut digits = [0u8; 6];
        let mut f = fraction;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (f % 10) as u8;
            f /= 10;
        }
        let len = 6 - digits.iter().rev().take_while(|&&d| d == b'0').count();
        out.push(b'.');
        out.extend_from_slice(&digits[..len]);
    }
    if offset == 0 {
        out.push(b'Z');
    } else {
        out.push(if offset_minutes < 0 { b'-' } else { b'+' });
        let abs = offset_minutes.unsigned_abs() as u32;
        push2(out, abs / 60);
        out.push(b':');
        push2(out, abs % 60);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccc_ingest::timestamp::{format_rfc3339_micros, parse_rfc3339_micros};

    fn time(micros: i64, offset: u8) -> String {
        let mut out = Vec::new();
        push_time(&mut out, micros, offset);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn times_match_the_reference_formatter_and_parse_back() {
        let base = parse_rfc3339_micros("2024-02-01T00:00:00Z").unwrap();
        let mut micros = base - 400 * 86_400_000_000;
        while micros < base + 800 * 86_400_000_000 {
            assert_eq!(time(micros, 0), format_rfc3339_micros(micros));
            for offset in 0..OFFSETS.len() as u8 {
                assert_eq!(
                    parse_rfc3339_micros(&time(micros, offset)),
                    Some(micros),
                    "{}",
                    time(micros, offset)
                );
            }
            micros += 3_601_250_017;
        }
        assert_eq!(time(base + 250_000, 3), "2024-01-31T21:00:00.25-03:00");
        assert_eq!(time(base + 123_456, 4), "2024-02-01T05:30:00.123456+05:30");
        assert_eq!(time(base, 6), "2024-02-01T00:00:00+00:00");
    }

    #[test]
    fn integers_and_strings() {
        let mut out = Vec::new();
        for v in [0, -7, i64::MIN, i64::MAX, 9_007_199_254_740_993] {
            out.clear();
            push_i64(&mut out, v);
            assert_eq!(String::from_utf8_lossy(&out), v.to_string());
        }
        out.clear();
        json_string(&mut out, "a\"b\\c\u{1}é😀");
        assert_eq!(
            String::from_utf8_lossy(&out),
            r#""a\"b\\c\u0001\u00e9\ud83d\ude00""#
        );
        out.clear();
        csv_cell(&mut out, &Cell::Str("a,\"b\""));
        assert_eq!(String::from_utf8_lossy(&out), "\"a,\"\"b\"\"\"");
    }

    #[test]
    fn json_records_look_like_python_json_dump_indent_4() {
        let o = OrderRow {
            order_id: 42,
            city: 0,
            time: 0,
            order_index: 0,
            duplicate: false,
            file: 0,
            late: false,
            dirty: None,
        };
        let mut out = header(Format::Json, Table::Orders);
        let mut records = Vec::new();
        order(Format::Json, &mut records, &o);
        order(Format::Json, &mut records, &o);
        out.extend_from_slice(&records[first_record_skip(Format::Json)..]);
        out.extend_from_slice(footer(Format::Json, 2));
        let expected = "[\n    {\n        \"orderId\": 42,\n        \"cityCode\": \"BCN\"\n    },\n    {\n        \"orderId\": 42,\n        \"cityCode\": \"BCN\"\n    }\n]";
        assert_eq!(String::from_utf8(out).unwrap(), expected);
        let mut nd = Vec::new();
        order(Format::Ndjson, &mut nd, &o);
        assert_eq!(nd, b"{\"orderId\":42,\"cityCode\":\"BCN\"}\n");
        let mut csv = header(Format::Csv, Table::Orders);
        order(Format::Csv, &mut csv, &o);
        assert_eq!(csv, b"orderId,cityCode\n42,BCN\n");
    }
}
