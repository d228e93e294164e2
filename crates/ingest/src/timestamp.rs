//! Parsing `messageSentTime`: RFC 3339 text with `Z` or a `±hh:mm` offset and an
//! optional fraction, to UTC microseconds (fractions below a microsecond are truncated).

/// Parses RFC 3339 text to microseconds since the epoch, UTC.
pub fn parse_rfc3339_micros(text: &str) -> Option<i64> {
    let parsed = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some(parsed.timestamp_micros())
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
    if !(0..=9999).contains(&year) {
        // Outside four-digit years RFC 3339 has no form; fall back to chrono's rendering.
        let dt = chrono::DateTime::from_timestamp(secs, frac * 1000)
            .expect("i64 microseconds fit chrono");
        out.push_str(&dt.format("%Y-%m-%dT%H:%M:%S").to_string());
    } else {
        push_digits(out, 4, year as u32);
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
    }
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

/// Appends `value` as exactly `digits` decimal digits, zero-padded.
fn push_digits(out: &mut String, digits: u32, value: u32) {
    for i in (0..digits).rev() {
        out.push(char::from(b'0' + (value / 10u32.pow(i) % 10) as u8));
    }
}

/// (year, month, day) of a day number since 1970-01-01 in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
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
}
