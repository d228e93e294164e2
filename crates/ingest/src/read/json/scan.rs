//! The structural scan of a `.json` file: strings and nesting only, no values, to cut the
//! file into chunks of whole records that parse in parallel, and to find where one value
//! ends when serde must parse it alone.

use crate::read::text::Chunking;

/// How a `.json` file is laid out, from its first significant byte.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Layout {
    /// `[ {...}, {...} ]`
    Array,
    /// `{...} {...}` or one object per line.
    Objects,
}

/// Why [`scan_structure`] stopped.
pub(super) enum ScanError {
    /// Not valid JSON: the byte offset, the records seen, what is wrong.
    Invalid(usize, u64, String),
    /// A record longer than the limit starts at this byte offset.
    TooLong(usize),
}

/// Walks the structure of a `.json` file (strings, nesting) and returns ranges that each
/// hold whole records, about `target` bytes apiece. Errors carry the byte offset, the
/// number of records seen and a message: truncation, stray closing brackets, trailing text.
pub(super) fn scan_structure(
    bytes: &[u8],
    open: usize,
    layout: Layout,
    chunking: Chunking,
) -> Result<Vec<(usize, usize)>, ScanError> {
    let target = chunking.chunk_bytes;
    let mut record_start = open;
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
                    // An escape's backslash may be the file's last byte: `j` then passes
                    // the end, and the string is unterminated.
                    match memchr::memchr2(b'"', b'\\', bytes.get(j..).unwrap_or_default()) {
                        None => {
                            return Err(ScanError::Invalid(
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
                    record_start = i;
                }
                depth += 1;
            }
            b'}' | b']' => {
                if depth == 0 {
                    return Err(ScanError::Invalid(
                        i,
                        records,
                        format!("unexpected '{}'", bytes[i] as char),
                    ));
                }
                depth -= 1;
                if depth == record_depth && i - record_start >= chunking.max_record_bytes {
                    return Err(ScanError::TooLong(record_start));
                }
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
        return Err(ScanError::Invalid(
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
            return Err(ScanError::Invalid(
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
pub(super) fn value_end(bytes: &[u8], pos: usize, end: usize) -> usize {
    let mut depth = 0u32;
    let mut i = pos;
    while i < end {
        match bytes[i] {
            b'"' => {
                let mut j = i + 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', bytes.get(j..end).unwrap_or_default()) {
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
