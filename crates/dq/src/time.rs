//! RFC 3339 timestamps without a date library: parsing bounds and text values into
//! nanoseconds since the Unix epoch, and rendering column values back as text.

/// Nanoseconds in one day.
const NANOS_PER_DAY: i128 = 86_400 * 1_000_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// A small cursor over ASCII digits and separators.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        let end = self.pos.checked_add(n)?;
        let slice = self.bytes.get(self.pos..end)?;
        let mut value = 0u32;
        for &b in slice {
            if !b.is_ascii_digit() {
                return None;
            }
            value = value * 10 + u32::from(b - b'0');
        }
        self.pos = end;
        Some(value)
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.bytes.get(self.pos) == Some(&byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS[.fraction]` followed by `Z` or `±HH:MM`
/// (RFC 3339), into nanoseconds since the epoch in UTC. A space may stand for `T`; a
/// missing offset or a date alone is read as UTC.
pub(crate) fn parse_timestamp_nanos(text: &str) -> Option<i128> {
    let mut c = Cursor {
        bytes: text.trim().as_bytes(),
        pos: 0,
    };
    let year = c.digits(4)?;
    if !c.eat(b'-') {
        return None;
    }
    let month = c.digits(2)?;
    if !c.eat(b'-') {
        return None;
    }
    let day = c.digits(2)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(i64::from(year), month) {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let mut nanos = i128::from(days) * NANOS_PER_DAY;
    if c.peek().is_none() {
        return Some(nanos);
    }
    if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
        return None;
    }
    let hour = c.digits(2)?;
    if !c.eat(b':') {
        return None;
    }
    let minute = c.digits(2)?;
    if !c.eat(b':') {
        return None;
    }
    // 60 is allowed for a leap second, as RFC 3339 does.
    let second = c.digits(2)?;
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    nanos += i128::from(hour * 3600 + minute * 60 + second) * 1_000_000_000;
    if c.eat(b'.') {
        let start = c.pos;
        let mut fraction: i128 = 0;
        let mut scale: i128 = 1_000_000_000;
        while let Some(b) = c.peek().filter(u8::is_ascii_digit) {
            if scale > 1 {
                scale /= 10;
                fraction += i128::from(b - b'0') * scale;
            }
            c.pos += 1;
        }
        if c.pos == start {
            return None;
        }
        nanos += fraction;
    }
    match c.peek() {
        None => {}
        Some(b'Z' | b'z') => c.pos += 1,
        Some(sign @ (b'+' | b'-')) => {
            c.pos += 1;
            let oh = c.digits(2)?;
            if !c.eat(b':') {
                return None;
            }
            let om = c.digits(2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let offset = i128::from(oh * 3600 + om * 60) * 1_000_000_000;
            // Local time = UTC + offset, so UTC = local - offset.
            nanos = if sign == b'+' {
                nanos - offset
            } else {
                nanos + offset
            };
        }
        Some(_) => return None,
    }
    if c.pos != c.bytes.len() {
        return None;
    }
    Some(nanos)
}

/// Renders nanoseconds since the epoch as RFC 3339 in UTC, with as many fraction digits
/// as needed (none, 3, 6 or 9).
pub(crate) fn format_timestamp_nanos(nanos: i128) -> String {
    let days = nanos.div_euclid(NANOS_PER_DAY);
    let rest = nanos.rem_euclid(NANOS_PER_DAY);
    let (year, month, day) = civil_from_days(days as i64);
    let secs = rest / 1_000_000_000;
    let frac = rest % 1_000_000_000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}");
    if frac != 0 {
        if frac % 1_000_000 == 0 {
            out.push_str(&format!(".{:03}", frac / 1_000_000));
        } else if frac % 1_000 == 0 {
            out.push_str(&format!(".{:06}", frac / 1_000));
        } else {
            out.push_str(&format!(".{frac:09}"));
        }
    }
    out.push('Z');
    out
}

/// The length of [`format_timestamp_nanos`]'s text, without building it; `None` outside
/// four-digit years (then the caller renders).
pub(crate) fn timestamp_text_len(nanos: i128) -> Option<u64> {
    // 0000-01-01T00:00:00Z ..= 9999-12-31T23:59:59.999999999Z
    const MIN: i128 = -62_167_219_200 * 1_000_000_000;
    const MAX: i128 = 253_402_300_800 * 1_000_000_000;
    if !(MIN..MAX).contains(&nanos) {
        return None;
    }
    // Every nanosecond count in this range fits in i64 once reduced to its second's fraction.
    let frac = match i64::try_from(nanos) {
        Ok(n) => i128::from(n.rem_euclid(1_000_000_000)),
        Err(_) => nanos.rem_euclid(1_000_000_000),
    };
    let fraction = if frac == 0 {
        0
    } else if frac % 1_000_000 == 0 {
        4
    } else if frac % 1_000 == 0 {
        7
    } else {
        10
    };
    Some(20 + fraction)
}

/// Renders a day count since the epoch as `YYYY-MM-DD`.
pub(crate) fn format_date(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utc_and_offsets() {
        assert_eq!(parse_timestamp_nanos("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_timestamp_nanos("1970-01-01T01:00:00+01:00"),
            Some(0),
            "an offset is subtracted"
        );
        assert_eq!(
            parse_timestamp_nanos("2024-02-29T12:30:15.25Z"),
            Some(
                (i128::from(days_from_civil(2024, 2, 29)) * 86_400 + 12 * 3600 + 30 * 60 + 15)
                    * 1_000_000_000
                    + 250_000_000
            )
        );
        assert_eq!(
            parse_timestamp_nanos("2024-01-01"),
            Some(i128::from(days_from_civil(2024, 1, 1)) * NANOS_PER_DAY)
        );
        assert_eq!(
            parse_timestamp_nanos("2024-01-01 00:00:00"),
            parse_timestamp_nanos("2024-01-01")
        );
    }

    #[test]
    fn rejects_invalid_text() {
        for bad in [
            "",
            "2024",
            "2023-02-29",
            "2024-13-01",
            "2024-01-01T25:00:00Z",
            "2024-01-01T00:00:00X",
            "2024-01-01T00:00:00.Z",
            "abc",
        ] {
            assert_eq!(parse_timestamp_nanos(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for text in [
            "1970-01-01T00:00:00Z",
            "2024-02-29T12:30:15.250Z",
            "1969-12-31T23:59:59.000001Z",
            "2019-08-19T08:01:47.123456789Z",
        ] {
            let nanos = parse_timestamp_nanos(text).expect("valid");
            assert_eq!(format_timestamp_nanos(nanos), text);
        }
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(-1), "1969-12-31");
    }

    #[test]
    fn timestamp_text_len_matches_the_rendered_text() {
        for nanos in [
            0i128,
            1,
            1_000,
            1_000_000,
            250_000_000,
            -1,
            -1_000_000_000,
            1_706_781_600_123_456_789,
            253_402_300_799_999_999_999,
        ] {
            assert_eq!(
                timestamp_text_len(nanos),
                Some(format_timestamp_nanos(nanos).chars().count() as u64),
                "{nanos}"
            );
        }
        assert_eq!(timestamp_text_len(253_402_300_800 * 1_000_000_000), None);
    }
}
