//! Where a conversation lands in the output: its `conversation_date` partition and,
//! within it, its part file, one per UTC hour of `conversation_started_at`
//! (`conversation_date=2024-02-01/part-13.parquet`). The part is decided by the row
//! alone, so the layout is the same whatever the threads, the file order or the runs that
//! built the table; an incremental run rewrites the few hours its new messages touch
//! instead of whole days (`docs/late-events.md`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const MICROS_PER_HOUR: i64 = 3_600 * 1_000_000;

/// One part of the output: the conversations of one date that started in one UTC hour,
/// as hours since 1970-01-01T00 (so parts order as dates, then hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Part(i64);

impl Part {
    /// The part of a conversation that started at `micros` (UTC microseconds).
    pub fn of(micros: i64) -> Part {
        Part(micros.div_euclid(MICROS_PER_HOUR))
    }

    /// Hours since the epoch (how the state stores it).
    pub fn hours(self) -> i64 {
        self.0
    }

    /// The part of `hours` since the epoch.
    pub fn from_hours(hours: i64) -> Part {
        Part(hours)
    }

    /// Its date: days since 1970-01-01.
    pub fn day(self) -> i64 {
        self.0.div_euclid(24)
    }

    /// Its date, `YYYY-MM-DD` (the partition folder's value).
    pub fn date(self) -> String {
        crate::table::date_string(self.day())
    }

    /// Its hour of the day, 0 to 23.
    pub fn hour(self) -> u8 {
        self.0.rem_euclid(24) as u8
    }

    /// Its file name in the partition folder, without the extension: `part-13`.
    pub fn file_stem(self) -> String {
        format!("part-{:02}", self.hour())
    }

    /// The part named by [`Part`]'s `Display` form, `YYYY-MM-DDTHH`.
    pub fn parse(name: &str) -> Option<Part> {
        let part = Part::of(ccc_ingest::timestamp::parse_rfc3339_micros(&format!(
            "{name}:00:00Z"
        ))?);
        // Only the canonical spelling: a name is one part's, and one part has one name.
        (part.to_string() == name).then_some(part)
    }
}

/// `YYYY-MM-DDTHH`: how the state's manifest names a part.
impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}T{:02}", self.date(), self.hour())
    }
}

impl Serialize for Part {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Part {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Part, D::Error> {
        let name = String::deserialize(deserializer)?;
        Part::parse(&name).ok_or_else(|| {
            serde::de::Error::custom(format!("`{name}` is not a part (YYYY-MM-DDTHH)"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_is_the_utc_hour_of_the_start() {
        // 2024-02-01T13:59:59.999999Z and the hour after it.
        let t = 1_706_795_999_999_999;
        let p = Part::of(t);
        assert_eq!(
            (p.date(), p.hour(), p.file_stem()),
            ("2024-02-01".into(), 13, "part-13".into())
        );
        assert_eq!(Part::of(t + 1).hour(), 14);
        assert_eq!(p.to_string(), "2024-02-01T13");
        assert_eq!(Part::parse("2024-02-01T13"), Some(p));
        assert_eq!(Part::from_hours(p.hours()), p);
    }

    #[test]
    fn before_the_epoch_hours_round_down() {
        let p = Part::of(-1);
        assert_eq!((p.date(), p.hour()), ("1969-12-31".into(), 23));
        assert_eq!(Part::parse(&p.to_string()), Some(p));
    }

    #[test]
    fn parts_are_json_strings() {
        let p = Part::of(1_706_795_999_999_999);
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"2024-02-01T13\"");
        assert_eq!(
            serde_json::from_str::<Part>("\"2024-02-01T13\"").unwrap(),
            p
        );
        assert!(serde_json::from_str::<Part>("\"2024-02-01\"").is_err());
    }

    #[test]
    fn malformed_names_are_refused() {
        for name in [
            "2024-02-01",
            "2024-02-01T24",
            "2024-02-01T-1",
            "2024-02-30T01",
            "x",
        ] {
            assert_eq!(Part::parse(name), None, "{name}");
        }
    }
}
