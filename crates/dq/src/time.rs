//! RFC 3339 timestamps and the proleptic Gregorian calendar without a date library: the
//! calendar, the fields of RFC 3339 text read and written one at a time, and this
//! crate's own reading of bounds and text values into nanoseconds since the Unix epoch.
//! The calendar and field functions are public so that there is one implementation of
//! them: a caller with a grammar or an output form of its own (ccc's source timestamps,
//! strict RFC 3339 to microseconds) composes the same functions.

use std::fmt::Write;

/// Nanoseconds in one day.
const NANOS_PER_DAY: i128 = 86_400 * 1_000_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day number since 1970-01-01 in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
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

/// The number written by ASCII digits; `None` at any other byte.
#[inline]
pub fn ascii_digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Days since 1970-01-01 of the date `YYYY-MM-DD` that `b` is (exactly those ten bytes);
/// `None` when it is not such text or not a date of the calendar.
#[inline]
pub fn parse_date(b: &[u8]) -> Option<i64> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *b else {
        return None;
    };
    let year = ascii_digits(&[y0, y1, y2, y3])?;
    let (month, day) = (ascii_digits(&[m0, m1])?, ascii_digits(&[d0, d1])?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(i64::from(year), month) {
        return None;
    }
    Some(days_from_civil(i64::from(year), month, day))
}

/// (hour, minute, second) of the time `HH:MM:SS` that `b` is (exactly those eight bytes);
/// `None` when it is not such text or not a time of day. Second 60 is allowed for a leap
/// second, as RFC 3339 does; a caller that leaves leap seconds to another parser checks.
#[inline]
pub fn parse_clock(b: &[u8]) -> Option<(u32, u32, u32)> {
    let [h0, h1, b':', m0, m1, b':', s0, s1] = *b else {
        return None;
    };
    let (hour, minute) = (ascii_digits(&[h0, h1])?, ascii_digits(&[m0, m1])?);
    let second = ascii_digits(&[s0, s1])?;
    (hour <= 23 && minute <= 59 && second <= 60).then_some((hour, minute, second))
}

/// The digits of a fraction of a second at the start of `b` (after its `.`): how many
/// there are, and the nanoseconds they write (digits past the ninth are dropped).
#[inline]
pub fn parse_fraction(b: &[u8]) -> (usize, u32) {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let kept = &b[..n.min(9)];
    let value = kept
        .iter()
        .fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0'));
    (n, value * 10u32.pow(9 - kept.len() as u32))
}

/// The offset `±HH:MM` that `b` is (exactly those six bytes), in seconds east of UTC;
/// `None` when it is not such text or not an offset (hours past 23, minutes past 59).
#[inline]
pub fn parse_offset(b: &[u8]) -> Option<i64> {
    let [sign @ (b'+' | b'-'), h0, h1, b':', m0, m1] = *b else {
        return None;
    };
    let (hours, minutes) = (ascii_digits(&[h0, h1])?, ascii_digits(&[m0, m1])?);
    if hours > 23 || minutes > 59 {
        return None;
    }
    let seconds = i64::from(hours * 3600 + minutes * 60);
    Some(if sign == b'-' { -seconds } else { seconds })
}

/// How a year outside 0000–9999, where RFC 3339 has no form, is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WideYear {
    /// As Rust's `{:04}` writes it: `10000`, `-001`.
    Plain,
    /// As ISO 8601's expanded year: `+10000`, `-0001`.
    Expanded,
}

/// Appends `YYYY-MM-DD` of a day number (days since 1970-01-01), for any day number.
pub fn push_date(out: &mut String, days: i64, wide: WideYear) {
    let (year, month, day) = civil_from_days(days);
    if (0..=9999).contains(&year) {
        push_digits(out, 4, year as u32);
    } else {
        let _ = match wide {
            WideYear::Plain => write!(out, "{year:04}"),
            WideYear::Expanded => write!(out, "{year:+05}"),
        };
    }
    out.push('-');
    push_digits(out, 2, month);
    out.push('-');
    push_digits(out, 2, day);
}

/// Appends `HH:MM:SS` of a second of the day (below 86,400).
pub fn push_clock(out: &mut String, second_of_day: u32) {
    push_digits(out, 2, second_of_day / 3600);
    out.push(':');
    push_digits(out, 2, second_of_day / 60 % 60);
    out.push(':');
    push_digits(out, 2, second_of_day % 60);
}

/// Appends `value` as exactly `digits` decimal digits, zero-padded.
pub fn push_digits(out: &mut String, digits: u32, value: u32) {
    for i in (0..digits).rev() {
        out.push(char::from(b'0' + (value / 10u32.pow(i) % 10) as u8));
    }
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS[.fraction]` followed by `Z` or `±HH:MM`
/// (RFC 3339), into nanoseconds since the epoch in UTC. A space may stand for `T`; a
/// missing offset or a date alone is read as UTC.
pub fn parse_timestamp_nanos(text: &str) -> Option<i128> {
    let b = text.trim().as_bytes();
    let days = parse_date(b.get(..10)?)?;
    let mut nanos = i128::from(days) * NANOS_PER_DAY;
    let Some((&separator, rest)) = b[10..].split_first() else {
        return Some(nanos);
    };
    if !matches!(separator, b'T' | b't' | b' ') {
        return None;
    }
    let (hour, minute, second) = parse_clock(rest.get(..8)?)?;
    nanos += i128::from(hour * 3600 + minute * 60 + second) * 1_000_000_000;
    let mut rest = &rest[8..];
    if let Some(after) = rest.strip_prefix(b".") {
        let (n, fraction) = parse_fraction(after);
        if n == 0 {
            return None;
        }
        nanos += i128::from(fraction);
        rest = &after[n..];
    }
    let offset = match rest {
        [] | [b'Z' | b'z'] => 0,
        _ => parse_offset(rest)?,
    };
    // Local time = UTC + offset, so UTC = local - offset.
    Some(nanos - i128::from(offset) * 1_000_000_000)
}

/// Now, in microseconds since the epoch (UTC).
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Renders nanoseconds since the epoch as RFC 3339 in UTC, with as many fraction digits
/// as needed (none, 3, 6 or 9).
pub fn format_timestamp_nanos(nanos: i128) -> String {
    let days = nanos.div_euclid(NANOS_PER_DAY);
    let rest = nanos.rem_euclid(NANOS_PER_DAY);
    let mut out = String::with_capacity(30);
    push_date(&mut out, days as i64, WideYear::Plain);
    out.push('T');
    push_clock(&mut out, (rest / 1_000_000_000) as u32);
    let frac = (rest % 1_000_000_000) as u32;
    if frac != 0 {
        out.push('.');
        if frac % 1_000_000 == 0 {
            push_digits(&mut out, 3, frac / 1_000_000);
        } else if frac % 1_000 == 0 {
            push_digits(&mut out, 6, frac / 1_000);
        } else {
            push_digits(&mut out, 9, frac);
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
    let mut out = String::with_capacity(10);
    push_date(&mut out, days, WideYear::Plain);
    out
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

/// Whether `text` reads whole as the strftime `format` (Python's `strptime` rule, which
/// Great Expectations applies): every specifier matched, nothing left over, and the
/// date and time it names real ones (no 30 February).
pub(crate) fn matches_strftime(text: &str, format: &str) -> bool {
    use chrono::format::{parse, ParseErrorKind, Parsed, StrftimeItems};
    let mut parsed = Parsed::new();
    if parse(&mut parsed, text, StrftimeItems::new(format)).is_err() {
        return false;
    }
    let real = |r: chrono::format::ParseResult<_>| {
        !matches!(
            r.map_err(|e| e.kind()),
            Err(ParseErrorKind::Impossible | ParseErrorKind::OutOfRange)
        )
    };
    real(parsed.to_naive_date().map(|_| ())) && real(parsed.to_naive_time().map(|_| ()))
}

#[cfg(test)]
mod strftime_tests {
    use super::matches_strftime;

    #[test]
    fn strftime_formats_match_whole_real_values() {
        assert!(matches_strftime("2024-02-29", "%Y-%m-%d"));
        assert!(
            !matches_strftime("2023-02-29", "%Y-%m-%d"),
            "not a real date"
        );
        assert!(
            !matches_strftime("2024-02-29 10:00", "%Y-%m-%d"),
            "text left over"
        );
        assert!(
            !matches_strftime("2024-02", "%Y-%m-%d"),
            "a specifier unmatched"
        );
        assert!(matches_strftime("31/12/2024 23:59:59", "%d/%m/%Y %H:%M:%S"));
        assert!(!matches_strftime(
            "31/12/2024 24:00:00",
            "%d/%m/%Y %H:%M:%S"
        ));
        assert!(matches_strftime("2024", "%Y"), "a format of one field");
    }
}
