//! A hand-written reader for the common JSON record: a flat object whose values are plain
//! strings, integers that fit in i64, booleans and nulls. It only *lexes*: it collects a
//! record's field values and leaves pushing them to the JSON reader, which uses the same
//! builder calls as its serde visitor. Anything outside those simple forms (an escape, a
//! float, a nested value, a syntax error, ...) makes it give up on the record, and the
//! serde path reads that record instead, so every edge case keeps serde's semantics and
//! error positions; the fast path exists because on clean data serde's generic machinery
//! costs several times more than the few byte compares a flat record needs.

use super::json::{TableColumns, MAX_COLUMNS};

/// One field value of a flat record.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer within i64 whose value was not computed: the record was lexed for a
    /// column whose values are not kept (see `ReadOptions::text_presence_only`).
    IntNotKept,
    /// A string's content, which held no escape and no control byte.
    Str(&'a str),
}

/// The table fields one record named, in the order it named them (so that problems come
/// out in the same order as from the serde visitor), first occurrence of each column only.
pub(crate) struct FlatRecord<'a> {
    fields: [(usize, Scalar<'a>); MAX_COLUMNS],
    len: usize,
    seen: u64,
}

impl<'a> FlatRecord<'a> {
    pub(crate) fn new() -> Self {
        Self {
            fields: [(0, Scalar::Null); MAX_COLUMNS],
            len: 0,
            seen: 0,
        }
    }

    /// The named fields as `(column, value)`, in record order.
    pub(crate) fn fields(&self) -> &[(usize, Scalar<'a>)] {
        &self.fields[..self.len]
    }

    /// Whether the record named `column`.
    pub(crate) fn has(&self, column: usize) -> bool {
        self.seen & (1u64 << column) != 0
    }

    fn set(&mut self, column: usize, value: Scalar<'a>) {
        if !self.has(column) {
            self.seen |= 1u64 << column;
            self.fields[self.len] = (column, value);
            self.len += 1;
        }
    }
}

/// Reads the flat record starting at `text[pos]` (a non-whitespace byte) into `out` and
/// gives where the record ends — the same offset the chunk loop would have found: the
/// `\n` (or `end`) closing an NDJSON line when `by_lines`, else just past the `}`.
/// `None` when the record is anything but a flat object of simple values; `out` is then
/// to be discarded.
/// Integers of the columns flagged in `not_kept` (bit `i` for column `i`) are checked
/// against JSON's grammar and the i64 range, not converted: [`Scalar::IntNotKept`].
pub(crate) fn scan_record<'a, C: TableColumns>(
    table: &C,
    text: &'a str,
    pos: usize,
    end: usize,
    by_lines: bool,
    not_kept: u64,
    out: &mut FlatRecord<'a>,
) -> Option<usize> {
    out.len = 0;
    out.seen = 0;
    let b = &text.as_bytes()[..end];
    if *b.get(pos)? != b'{' {
        return None;
    }
    let mut i = skip_ws(b, pos + 1, by_lines);
    if *b.get(i)? == b'}' {
        i += 1;
    } else {
        let columns = table.columns();
        let mut keys_read = 0;
        loop {
            if *b.get(i)? != b'"' {
                return None;
            }
            // Writers put the fields in one order, mostly the table's: the key is first
            // compared with the column in its place, which skips the scan for the closing
            // quote and the lookup by name.
            let expected = columns.get(keys_read).map(|c| c.0.as_bytes());
            let (column, after_key) = match expected {
                Some(name) if is_key(&b[i + 1..], name) => (Some(keys_read), i + 2 + name.len()),
                _ => {
                    let close = string_end(b, i + 1)?;
                    (table.index(text.get(i + 1..close)?), close + 1)
                }
            };
            keys_read += 1;
            i = skip_ws(b, after_key, by_lines);
            if *b.get(i)? != b':' {
                return None;
            }
            i = skip_ws(b, i + 1, by_lines);
            let (value, after) = match column {
                Some(c)
                    if not_kept & (1u64 << c) != 0
                        && matches!(b.get(i), Some(b'-' | b'0'..=b'9')) =>
                {
                    skip_integer(b, i)?
                }
                _ => scan_value(text, b, i)?,
            };
            if let Some(column) = column {
                out.set(column, value);
            }
            i = skip_ws(b, after, by_lines);
            match *b.get(i)? {
                b',' => i = skip_ws(b, i + 1, by_lines),
                b'}' => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    if by_lines {
        // serde checks that only whitespace follows the value up to the end of the line.
        while matches!(b.get(i), Some(b' ' | b'\t' | b'\r')) {
            i += 1;
        }
        if i < end && b[i] != b'\n' {
            return None;
        }
    }
    Some(i)
}

/// Skips JSON whitespace. A record of an NDJSON file ends at its line's `\n`, so there a
/// `\n` is not whitespace but the end, and the token expected next is then missing.
#[inline]
fn skip_ws(b: &[u8], i: usize, by_lines: bool) -> usize {
    // Compact records have no whitespace at all: one compare says so.
    match b.get(i) {
        Some(&c) if c > b' ' => i,
        _ => skip_ws_slow(b, i, by_lines),
    }
}

// Out of line: it is the rare case, and inlined at every token it bloated the scan loop.
#[inline(never)]
fn skip_ws_slow(b: &[u8], mut i: usize, by_lines: bool) -> usize {
    while let Some(&c) = b.get(i) {
        match c {
            b' ' | b'\t' | b'\r' => i += 1,
            b'\n' if !by_lines => i += 1,
            _ => break,
        }
    }
    i
}

/// The offset of the quote closing the string whose content starts at `i`; `None` at an
/// escape or a control byte (serde's territory: unescaping, or the error it reports).
#[inline]
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let s = b.get(i..)?;
    // Eight bytes at a time (keys and values are mostly 10 to 30 bytes long). In each
    // mask the lowest flagged byte is exact (false flags only arise above a true one), so
    // the first special byte is the lowest flag of the three.
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    const fn has_less(x: u64, n: u8) -> u64 {
        x.wrapping_sub(ONES * n as u64) & !x & HIGHS
    }
    let mut words = s.chunks_exact(8);
    let mut offset = 0;
    for word in &mut words {
        let mut x = [0u8; 8];
        x.copy_from_slice(word);
        let x = u64::from_le_bytes(x);
        let special = has_less(x, 0x20)
            | has_less(x ^ (ONES * b'"' as u64), 1)
            | has_less(x ^ (ONES * b'\\' as u64), 1);
        if special != 0 {
            let at = offset + (special.trailing_zeros() / 8) as usize;
            return (s[at] == b'"').then_some(i + at);
        }
        offset += 8;
    }
    for (k, &c) in words.remainder().iter().enumerate() {
        match c {
            b'"' => return Some(i + offset + k),
            b'\\' | 0..=0x1f => return None,
            _ => {}
        }
    }
    None
}

/// Whether `rest` starts with the string content `name` and its closing quote.
#[inline(always)]
fn is_key(rest: &[u8], name: &[u8]) -> bool {
    let n = name.len();
    match rest.get(..=n) {
        Some(candidate) => candidate[n] == b'"' && same_bytes(&candidate[..n], name),
        None => false,
    }
}

/// `a == b` for slices of one length, in overlapping words: the names compared are 4 to
/// 20 bytes long, where a call to `memcmp` costs more than the compare.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    fn word(s: &[u8], at: usize) -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_le_bytes(w)
    }
    fn half(s: &[u8], at: usize) -> u32 {
        let mut w = [0u8; 4];
        w.copy_from_slice(&s[at..at + 4]);
        u32::from_le_bytes(w)
    }
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        let mut k = 0;
        while k + 8 < n {
            if word(a, k) != word(b, k) {
                return false;
            }
            k += 8;
        }
        word(a, n - 8) == word(b, n - 8)
    } else if n >= 4 {
        half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4)
    } else {
        a == b
    }
}

/// A simple value at `b[i]` and the offset after it.
#[inline(always)]
fn scan_value<'a>(text: &'a str, b: &[u8], i: usize) -> Option<(Scalar<'a>, usize)> {
    match *b.get(i)? {
        b'"' => {
            let close = string_end(b, i + 1)?;
            Some((Scalar::Str(text.get(i + 1..close)?), close + 1))
        }
        b't' if b[i..].starts_with(b"true") => Some((Scalar::Bool(true), i + 4)),
        b'f' if b[i..].starts_with(b"false") => Some((Scalar::Bool(false), i + 5)),
        b'n' if b[i..].starts_with(b"null") => Some((Scalar::Null, i + 4)),
        b'-' | b'0'..=b'9' => scan_integer(b, i),
        _ => None,
    }
}

/// An integer of JSON's grammar `-?(0|[1-9][0-9]*)` that fits in i64, other than `-0`
/// (serde reads that one as a float). What follows it is left to the caller, which gives
/// up unless it is a separator: so `1.5`, `1e3` and `01` all go to serde.
#[inline(always)]
fn scan_integer(b: &[u8], mut i: usize) -> Option<(Scalar<'static>, usize)> {
    let negative = b[i] == b'-';
    if negative {
        i += 1;
    }
    let first = *b.get(i)?;
    if !first.is_ascii_digit() {
        return None;
    }
    let (magnitude, i) = if first == b'0' {
        (0, i + 1)
    } else {
        scan_digits(b, i)?
    };
    let value = if negative {
        if magnitude == 0 {
            return None;
        }
        0i64.checked_sub_unsigned(magnitude)?
    } else {
        i64::try_from(magnitude).ok()?
    };
    Some((Scalar::Int(value), i))
}

/// [`scan_integer`] without the conversion: the same grammar and range, and the offset
/// after the number. Up to 18 digits always fit an i64; 19 are converted to find out.
#[inline(always)]
fn skip_integer(b: &[u8], start: usize) -> Option<(Scalar<'static>, usize)> {
    let negative = b[start] == b'-';
    let i = start + usize::from(negative);
    let first = *b.get(i)?;
    if !first.is_ascii_digit() {
        return None;
    }
    if first == b'0' {
        // `-0` is serde's float; `0` is an integer.
        return (!negative).then_some((Scalar::IntNotKept, i + 1));
    }
    let digits = digit_run(b, i);
    if digits >= 19 {
        let (value, after) = scan_integer(b, start)?;
        return matches!(value, Scalar::Int(_)).then_some((Scalar::IntNotKept, after));
    }
    Some((Scalar::IntNotKept, i + digits))
}

/// The number of ASCII digits at `b[start..]`, eight bytes at a time (counting stops
/// past 19, which is all [`skip_integer`] needs to know).
#[inline(always)]
fn digit_run(b: &[u8], start: usize) -> usize {
    let mut i = start;
    while let Some((_, n)) = digit_word(b, i) {
        i += n;
        if n < 8 || i - start > 19 {
            return i - start;
        }
    }
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i - start
}

/// The eight bytes at `b[i..]` as a word in which each ASCII digit became its value, and
/// how many of them, from the first, are digits; `None` when fewer than eight remain.
#[inline(always)]
fn digit_word(b: &[u8], i: usize) -> Option<(u64, usize)> {
    const ZEROS: u64 = u64::from_le_bytes([b'0'; 8]);
    const SIXES: u64 = u64::from_le_bytes([6; 8]);
    const HIGH_NIBBLES: u64 = u64::from_le_bytes([0xf0; 8]);
    let mut w = [0u8; 8];
    w.copy_from_slice(b.get(i..i + 8)?);
    // Digits become 0..=9; any other byte has a high nibble, or gets one when 6 is added.
    // Carries only spill past the first such byte, whose position is all that counts.
    let x = u64::from_le_bytes(w) ^ ZEROS;
    let not_digit = (x | x.wrapping_add(SIXES)) & HIGH_NIBBLES;
    Some((x, (not_digit.trailing_zeros() / 8) as usize))
}

/// The run of digits at `b[start..]` as a number, and the offset after it; `None` past
/// 19 digits (the most that cannot overflow u64). Eight digits at a time: ids are 4 to 10
/// digits long, and digit by digit they took a tenth of the read's instructions.
#[inline(always)]
fn scan_digits(b: &[u8], start: usize) -> Option<(u64, usize)> {
    const POWERS: [u64; 9] = [
        1,
        10,
        100,
        1_000,
        10_000,
        100_000,
        1_000_000,
        10_000_000,
        100_000_000,
    ];
    let mut value = 0u64;
    let mut i = start;
    while let Some((x, n)) = digit_word(b, i) {
        if n > 0 {
            // Shifting the n digits to the top leaves zeros (leading zero digits) below.
            let digits = eight_digits(x << (64 - 8 * n));
            value = value.wrapping_mul(POWERS[n]).wrapping_add(digits);
        }
        i += n;
        if n < 8 || i - start > 19 {
            return (i - start <= 19).then_some((value, i));
        }
    }
    while let Some(&c) = b.get(i) {
        let digit = c.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
        i += 1;
    }
    (i - start <= 19).then_some((value, i))
}

/// The number written by eight digit values (0..=9), the first in the lowest byte.
#[inline(always)]
fn eight_digits(x: u64) -> u64 {
    let x = (x & 0x0f0f_0f0f_0f0f_0f0f).wrapping_mul(2561) >> 8;
    let x = (x & 0x00ff_00ff_00ff_00ff).wrapping_mul(6_553_601) >> 16;
    (x & 0x0000_ffff_0000_ffff).wrapping_mul(42_949_672_960_001) >> 32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::json::{MessageColumns, OrderColumns};

    fn scan(text: &str, by_lines: bool) -> Option<(usize, Vec<(usize, Scalar<'_>)>)> {
        let mut out = FlatRecord::new();
        let end = scan_record(&MessageColumns, text, 0, text.len(), by_lines, 0, &mut out)?;
        Some((end, out.fields().to_vec()))
    }

    #[test]
    fn the_column_in_its_place_is_the_column_of_its_name() {
        fn check<C: TableColumns>(table: &C) {
            for (i, (name, _)) in table.columns().iter().enumerate() {
                assert_eq!(table.index(name), Some(i), "{name}");
            }
        }
        check(&MessageColumns);
        check(&OrderColumns);
    }

    #[test]
    fn keys_out_of_place_are_looked_up_by_name() {
        let text = r#"{"toId":1,"senderAppType":"x","senderAppTypeX":"y","orderI":2,"orderId":3}"#;
        assert_eq!(
            scan(text, true),
            Some((
                text.len(),
                vec![
                    (3, Scalar::Int(1)),
                    (0, Scalar::Str("x")),
                    (5, Scalar::Int(3))
                ]
            ))
        );
    }

    proptest::proptest! {
        #[test]
        fn digits_read_like_parse(v in proptest::num::u64::ANY, len in 1usize..30, tail in "[,} x0-9]{0,12}") {
            // A number, cut or not, followed by anything, at any distance from the end.
            let digits = v.to_string();
            let digits = &digits[..len.min(digits.len())];
            let text = format!("{digits}{tail}");
            let run = text.bytes().take_while(u8::is_ascii_digit).count();
            let want = (run <= 19).then(|| (text[..run].parse::<u64>().unwrap(), run));
            proptest::prop_assert_eq!(scan_digits(text.as_bytes(), 0), want);
        }
    }

    #[test]
    fn same_bytes_at_every_length() {
        let a = b"abcdefghijklmnopqrstuvwxyz";
        for n in 0..a.len() {
            assert!(same_bytes(&a[..n], &a[..n]));
            for k in 0..n {
                let mut b = a[..n].to_vec();
                b[k] ^= 1;
                assert!(!same_bytes(&a[..n], &b), "{n} {k}");
            }
        }
        assert!(!same_bytes(b"ab", b"abc"));
    }

    #[test]
    fn reads_a_typical_line() {
        let line = r#"{"senderAppType":"Customer Android","customerId":17173029,"fromId":17173029,"toId":23956,"chatStartedByMessage":true,"orderId":100000003,"orderStage":"ACCEPTED","courierId":23956,"messageSentTime":"2024-02-01T00:00:00.75Z"}"#;
        let text = format!("{line}\n{{}}");
        let (end, fields) = scan(&text, true).unwrap();
        assert_eq!(end, line.len());
        assert_eq!(
            fields,
            vec![
                (0, Scalar::Str("Customer Android")),
                (1, Scalar::Int(17173029)),
                (2, Scalar::Int(17173029)),
                (3, Scalar::Int(23956)),
                (4, Scalar::Bool(true)),
                (5, Scalar::Int(100000003)),
                (6, Scalar::Str("ACCEPTED")),
                (7, Scalar::Int(23956)),
                (8, Scalar::Str("2024-02-01T00:00:00.75Z")),
            ]
        );
    }

    #[test]
    fn whitespace_repeats_unknown_keys_and_empty_objects() {
        let text = " {\t\"toId\" : -9223372036854775808 ,\r\"x\":[],\"toId\":1}";
        assert_eq!(
            scan(&text[1..], true),
            None,
            "nested value in an unknown key"
        );
        let text =
            "{\t\"toId\" : -9223372036854775808 ,\r\"x\":\"é\",\"toId\":1, \"fromId\":null}  \r";
        assert_eq!(
            scan(text, true),
            Some((
                text.len(),
                vec![(3, Scalar::Int(i64::MIN)), (2, Scalar::Null)]
            ))
        );
        assert_eq!(scan("{ }", true), Some((3, vec![])));
        let text = r#"{"toId":9223372036854775807,"fromId":1000000000000000000}"#;
        assert_eq!(
            scan(text, true),
            Some((
                text.len(),
                vec![
                    (3, Scalar::Int(i64::MAX)),
                    (2, Scalar::Int(1_000_000_000_000_000_000))
                ]
            ))
        );
        let mut out = FlatRecord::new();
        let text = "{\"cityCode\":\"MAD\",\"orderId\":0}";
        assert_eq!(
            scan_record(&OrderColumns, text, 0, text.len(), false, 0, &mut out),
            Some(text.len())
        );
        assert_eq!(
            out.fields(),
            &[(1, Scalar::Str("MAD")), (0, Scalar::Int(0))]
        );
    }

    #[test]
    fn newlines_end_ndjson_records_but_not_json_ones() {
        let text = "{\"toId\":\n1}";
        assert_eq!(scan(text, true), None);
        assert_eq!(
            scan(text, false),
            Some((text.len(), vec![(3, Scalar::Int(1))]))
        );
        // After the closing brace of a JSON record, the chunk loop takes over.
        assert_eq!(scan("{} x", false), Some((2, vec![])));
    }

    #[test]
    fn gives_up_on_everything_else() {
        for text in [
            r#"{"toId":1.5}"#,
            r#"{"toId":1e3}"#,
            r#"{"toId":1E3}"#,
            r#"{"toId":-0}"#,
            r#"{"toId":01}"#,
            r#"{"toId":-}"#,
            r#"{"toId":9223372036854775808}"#,
            r#"{"toId":-9223372036854775809}"#,
            r#"{"toId":18446744073709551616}"#,
            r#"{"toId":9999999999999999999}"#,
            r#"{"toId":10000000000000000000}"#,
            r#"{"toId":-10000000000000000000}"#,
            r#"{"toId":123456789012345678901234567890}"#,
            r#"{"toId":[1]}"#,
            r#"{"toId":{}}"#,
            r#"{"toId":"a\"b"}"#,
            r#"{"to\u0049d":1}"#,
            r#"{"toId":"\u0043"}"#,
            "{\"toId\":\"a\tb\"}",
            r#"{"toId":tru}"#,
            r#"{"toId":nulls}"#,
            r#"{"toId":1,}"#,
            r#"{"toId" 1}"#,
            r#"{"toId":1"#,
            r#"{"toId":1} x"#,
            r#"{"toId":1}}"#,
            r#"{toId:1}"#,
            r#"{,}"#,
            "7",
            "[1]",
            "\"x\"",
            "",
        ] {
            assert_eq!(scan(text, true), None, "{text}");
        }
    }

    #[test]
    fn long_strings_stop_at_the_first_special_byte() {
        let long = format!("{{\"orderStage\":\"{}\"}}", "abcdefgh".repeat(5));
        assert!(scan(&long, true).is_some());
        for special in ["\\n", "\u{1}", "\""] {
            let text = format!("{{\"orderStage\":\"abcdefghij{special}klmnopqrstu\"}}");
            assert_eq!(scan(&text, true), None, "{special:?}");
        }
    }
}
