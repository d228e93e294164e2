//! Parsing `messageSentTime`: RFC 3339 text with `Z` or a `±hh:mm` offset and an
//! optional fraction, to UTC microseconds (fractions below a microsecond are truncated),
//! and formatting them back. ccc reads and writes the instants of the years 0001–9999
//! ([`MIN_MICROS`]..=[`MAX_MICROS`]), the years RFC 3339 can write: a source value
//! outside them is a value that does not fit its field, like an integer past 64 bits.

use crate::problems::ProblemKind;
use crate::schema::FieldType;

/// The earliest instant ccc reads: `0001-01-01T00:00:00Z`, in microseconds since the epoch.
pub const MIN_MICROS: i64 = -62_135_596_800_000_000;
/// The latest instant ccc reads: `9999-12-31T23:59:59.999999Z`.
pub const MAX_MICROS: i64 = 253_402_300_799_999_999;

/// Whether `micros` lies in the years 0001–9999 that ccc reads and writes.
pub fn in_range(micros: i64) -> bool {
    (MIN_MICROS..=MAX_MICROS).contains(&micros)
}

/// Parses RFC 3339 text to microseconds since the epoch, UTC.
///
/// The common shape (`YYYY-MM-DDTHH:MM:SS[.f…](Z|±HH:MM)`) is parsed by hand — sources hold
/// millions of timestamps — and anything else goes to chrono, which decides; a property
/// test checks that both agree.
pub fn parse_rfc3339_micros(text: &str) -> Option<i64> {
    TimestampParser::default().parse(text).ok()
}

/// [`parse_rfc3339_micros`] for a column of timestamps: it remembers the last date it
/// read. A file's records come roughly in time order, so most share their date with the
/// record before, and the date's validation and day count are then skipped.
#[derive(Debug, Default, Clone)]
pub(crate) struct TimestampParser {
    last: LastDate,
}

/// A date (`YYYY-MM-DD`, as written) known to be valid, and its days since 1970-01-01.
/// The default (zero bytes) matches no text that reaches the comparison.
#[derive(Debug, Default, Clone)]
struct LastDate {
    text: [u8; 10],
    days: i64,
}

impl TimestampParser {
    /// See [`parse_rfc3339_micros`]; says why a text is not a timestamp ccc reads.
    pub(crate) fn parse(&mut self, text: &str) -> Result<i64, ProblemKind> {
        let micros = match parse_common(text.as_bytes(), &mut self.last) {
            Some(micros) => micros,
            None => chrono::DateTime::parse_from_rfc3339(text)
                .map_err(|_| ProblemKind::WrongType {
                    expected: FieldType::Timestamp,
                })?
                .timestamp_micros(),
        };
        if in_range(micros) {
            Ok(micros)
        } else {
            Err(ProblemKind::TimestampOutOfRange)
        }
    }
}

/// The fast path of [`parse_rfc3339_micros`]; `None` means "ask chrono", not "invalid".
fn parse_common(b: &[u8], last: &mut LastDate) -> Option<i64> {
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let date: [u8; 10] = b[..10].try_into().ok()?;
    let days = if date == last.text {
        last.days
    } else {
        let days = days_of_date(b)?;
        *last = LastDate { text: date, days };
        days
    };
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut i = 19;
    let mut micros = 0u32;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let n = i - start;
        if n == 0 || n > 9 {
            return None;
        }
        let fraction = &b[start..start + n.min(6)];
        micros = digits(fraction)? * 10u32.pow(6 - fraction.len() as u32);
    }
    let offset_seconds: i64 = match &b[i..] {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (h, m) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
            if h > 23 || m > 59 {
                return None;
            }
            let seconds = i64::from(h * 3600 + m * 60);
            if *sign == b'-' {
                -seconds
            } else {
                seconds
            }
        }
        _ => return None,
    };
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_seconds;
    Some(seconds * 1_000_000 + i64::from(micros))
}

/// Days since 1970-01-01 of the date `YYYY-MM-DD` at the start of `b` (its separators
/// already checked); `None` when it is not a valid date.
fn days_of_date(b: &[u8]) -> Option<i64> {
    let (year, month, day) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month) || day == 0 || day > month_days[month as usize - 1] {
        return None;
    }
    Some(days_from_civil(i64::from(year), month, day))
}

/// The number written by ASCII digits; `None` at any other byte.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats UTC microseconds as RFC 3339 with `Z`, the fraction only when non-zero
/// (trailing zeros trimmed): `2024-02-01T10:00:00Z`, `2024-02-01T10:00:00.25Z`.
pub fn format_rfc3339_micros(micros: i64) -> String {
    let mut out = String::with_capacity(27);
    write_rfc3339_micros(&mut out, micros);
    out
}

/// Appends [`format_rfc3339_micros`] to `out` without allocating: the output writers
/// format millions of timestamps, and a general-purpose formatter is the slow part.
pub fn write_rfc3339_micros(out: &mut String, micros: i64) {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000) as u32;
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let second_of_day = secs.rem_euclid(86_400) as u32;
    push_year(out, year);
    out.push('-');
    push_digits(out, 2, month);
    out.push('-');
    push_digits(out, 2, day);
    out.push('T');
    push_digits(out, 2, second_of_day / 3600);
    out.push(':');
    push_digits(out, 2, second_of_day / 60 % 60);
    out.push(':');
    push_digits(out, 2, second_of_day % 60);
    if frac != 0 {
        let mut digits = 6;
        let mut f = frac;
        while f % 10 == 0 {
            f /= 10;
            digits -= 1;
        }
        out.push('.');
        push_digits(out, digits, f);
    }
    out.push('Z');
}

/// Appends a year as four digits; outside 0000–9999, where RFC 3339 has no form, as
/// ISO 8601's expanded year (`+10000`, `-0001`). Sources never hold such instants
/// ([`in_range`]); only a damaged state file could, and it must not stop the writer.
fn push_year(out: &mut String, year: i64) {
    if (0..=9999).contains(&year) {
        push_digits(out, 4, year as u32);
    } else {
        use std::fmt::Write;
        let _ = write!(out, "{year:+05}");
    }
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01), for any day number.
pub fn format_date(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    let mut out = String::with_capacity(10);
    push_year(&mut out, year);
    out.push('-');
    push_digits(&mut out, 2, month);
    out.push('-');
    push_digits(&mut out, 2, day);
    out
}

/// Appends `value` as exactly `digits` decimal digits, zero-padded.
fn push_digits(out: &mut String, digits: u32, value: u32) {
    for i in (0..digits).rev() {
        out.push(char::from(b'0' + (value / 10u32.pow(i) % 10) as u8));
    }
}

/// (year, month, day) of a day number since 1970-01-01 in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_zulu_offset_and_fraction() {
        let base = parse_rfc3339_micros("2024-02-01T10:00:00Z").unwrap();
        assert_eq!(
            parse_rfc3339_micros("2024-02-01T11:00:00+01:00"),
            Some(base)
        );
        assert_eq!(
            parse_rfc3339_micros("2024-02-01T10:00:00.25Z"),
            Some(base + 250_000)
        );
        assert_eq!(
            parse_rfc3339_micros("2024-02-01T10:00:00.0000019Z"),
            Some(base + 1)
        );
        assert_eq!(parse_rfc3339_micros("2024-02-01 10:00"), None);
        assert_eq!(parse_rfc3339_micros("yesterday"), None);
    }

    #[test]
    fn reads_only_the_years_0001_to_9999() {
        let mut parser = TimestampParser::default();
        assert_eq!(parser.parse("0001-01-01T00:00:00Z"), Ok(MIN_MICROS));
        assert_eq!(parser.parse("9999-12-31T23:59:59.999999Z"), Ok(MAX_MICROS));
        for text in [
            "0000-12-31T23:59:59Z",
            "0001-01-01T00:30:00+01:00",
            "9999-12-31T23:59:59-01:00",
        ] {
            assert_eq!(
                parser.parse(text),
                Err(ProblemKind::TimestampOutOfRange),
                "{text}"
            );
        }
        assert_eq!(
            parser.parse("2024-13-01T00:00:00Z"),
            Err(ProblemKind::WrongType {
                expected: FieldType::Timestamp
            })
        );
    }

    #[test]
    fn formats_every_i64_without_panicking() {
        assert_eq!(format_rfc3339_micros(MIN_MICROS), "0001-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339_micros(MAX_MICROS),
            "9999-12-31T23:59:59.999999Z"
        );
        assert!(format_rfc3339_micros(i64::MAX).starts_with("+294247-01-10T04:00:54"));
        assert!(format_rfc3339_micros(i64::MIN).starts_with("-290308-12-21T19:59:05"));
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(i64::MAX / 86_400 / 1_000_000), "+294247-01-10");
    }

    #[test]
    fn formats_fraction_only_when_non_zero() {
        let base = parse_rfc3339_micros("2024-02-01T10:00:00Z").unwrap();
        assert_eq!(format_rfc3339_micros(base), "2024-02-01T10:00:00Z");
        assert_eq!(
            format_rfc3339_micros(base + 250_000),
            "2024-02-01T10:00:00.25Z"
        );
        assert_eq!(format_rfc3339_micros(-1), "1969-12-31T23:59:59.999999Z");
    }

    proptest::proptest! {
        #[test]
        fn fast_format_equals_chrono(micros in -62_000_000_000_000_000i64..253_000_000_000_000_000i64) {
            let secs = micros.div_euclid(1_000_000);
            let frac = micros.rem_euclid(1_000_000) as u32;
            let dt = chrono::DateTime::from_timestamp(secs, frac * 1000).unwrap();
            let mut want = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
            if frac != 0 {
                want.push('.');
                want.push_str(format!("{frac:06}").trim_end_matches('0'));
            }
            want.push('Z');
            proptest::prop_assert_eq!(format_rfc3339_micros(micros), want.clone());
            proptest::prop_assert_eq!(parse_rfc3339_micros(&want), Some(micros));
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_parse_agrees_with_chrono(
            micros in -62_000_000_000_000_000i64..253_000_000_000_000_000i64,
            offset_minutes in -1439i32..1440,
            fraction_digits in 0usize..10,
            zulu in proptest::bool::ANY,
        ) {
            let secs = micros.div_euclid(1_000_000);
            let nanos = (micros.rem_euclid(1_000_000) * 1000) as u32;
            let offset = chrono::FixedOffset::east_opt(offset_minutes * 60).unwrap();
            let dt = chrono::DateTime::from_timestamp(secs, nanos).unwrap().with_timezone(&offset);
            let mut text = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
            if fraction_digits > 0 {
                let all = format!("{:09}", nanos);
                text.push('.');
                text.push_str(&all[..fraction_digits]);
            }
            if zulu && offset_minutes == 0 {
                text.push('Z');
            } else {
                text.push_str(&dt.format("%:z").to_string());
            }
            let want = chrono::DateTime::parse_from_rfc3339(&text).ok().map(|d| d.timestamp_micros());
            proptest::prop_assert_eq!(parse_common(text.as_bytes(), &mut LastDate::default()).or(want), want, "{}", text);
            proptest::prop_assert_eq!(parse_rfc3339_micros(&text), want);
        }

        #[test]
        fn fast_parse_never_accepts_what_chrono_rejects(text in "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,10})?(Z|[+-][0-9]{2}:[0-9]{2}|z)?") {
            let want = chrono::DateTime::parse_from_rfc3339(&text).ok().map(|d| d.timestamp_micros());
            if let Some(fast) = parse_common(text.as_bytes(), &mut LastDate::default()) {
                proptest::prop_assert_eq!(Some(fast), want, "{}", text);
            }
        }

        /// A column's parser remembers the last valid date: a run of texts (invalid dates,
        /// repeated dates, dates whose time part is invalid) parses as each text alone.
        #[test]
        fn a_parser_that_remembers_dates_parses_each_text_as_alone(
            texts in proptest::collection::vec(
                "20(2[34]|00)-0[1-3]-(0[1-9]|[23][0-9])T([01][0-9]|2[0-5]):[0-5][0-9]:[0-6][0-9](\\.[0-9]{1,3})?(Z|[+-]0[0-2]:[0-5][0-9])",
                1..40,
            ),
        ) {
            let mut parser = TimestampParser::default();
            for text in &texts {
                proptest::prop_assert_eq!(parser.parse(text).ok(), parse_rfc3339_micros(text), "{}", text);
                let want = chrono::DateTime::parse_from_rfc3339(text).ok().map(|d| d.timestamp_micros());
                proptest::prop_assert_eq!(parser.parse(text).ok(), want, "{}", text);
            }
        }
    }
}
