//! Parsing `messageSentTime`: RFC 3339 text with `Z` or a `±hh:mm` offset and an
//! optional fraction, to UTC microseconds (fractions below a microsecond are truncated),
//! and formatting them back. ccc reads and writes the instants of the years 0001–9999
//! ([`MIN_MICROS`]..=[`MAX_MICROS`]), the years RFC 3339 can write: a source value
//! outside them is a value that does not fit its field, like an integer past 64 bits.
//! The calendar and the RFC 3339 fields are [`ccc_dq::time`]'s; what is this module's own
//! is the grammar it accepts, chrono as its judge, and the output form of the tables.

use ccc_dq::time::{self, WideYear};

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
        let days = time::parse_date(&date)?;
        *last = LastDate { text: date, days };
        days
    };
    let (hour, minute, second) = time::parse_clock(&b[11..19])?;
    // A leap second is chrono's to read.
    if second > 59 {
        return None;
    }
    let mut i = 19;
    let mut micros = 0u32;
    if b[i] == b'.' {
        let (n, nanos) = time::parse_fraction(&b[i + 1..]);
        if n == 0 || n > 9 {
            return None;
        }
        micros = nanos / 1000;
        i += 1 + n;
    }
    let offset_seconds = match &b[i..] {
        [b'Z'] => 0,
        offset => time::parse_offset(offset)?,
    };
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_seconds;
    Some(seconds * 1_000_000 + i64::from(micros))
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
///
/// Years outside 0000–9999, where RFC 3339 has no form, are written as ISO 8601's
/// expanded year (`+10000`, `-0001`). Sources never hold such instants ([`in_range`]);
/// only a damaged state file could, and it must not stop the writer.
pub fn write_rfc3339_micros(out: &mut String, micros: i64) {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000) as u32;
    time::push_date(out, secs.div_euclid(86_400), WideYear::Expanded);
    out.push('T');
    time::push_clock(out, secs.rem_euclid(86_400) as u32);
    if frac != 0 {
        let mut digits = 6;
        let mut f = frac;
        while f % 10 == 0 {
            f /= 10;
            digits -= 1;
        }
        out.push('.');
        time::push_digits(out, digits, f);
    }
    out.push('Z');
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01), for any day number; years as
/// [`write_rfc3339_micros`] writes them.
pub fn format_date(days: i64) -> String {
    let mut out = String::with_capacity(10);
    time::push_date(&mut out, days, WideYear::Expanded);
    out
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
