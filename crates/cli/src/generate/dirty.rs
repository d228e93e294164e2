//! Bad records on purpose (`--dirty`): which fields can be broken, in which ways, and the
//! values written for each way, so that every injected problem is attributable to one
//! field and one kind and the data-quality checks can be tested against known counts.
//!
//! The columns and kinds follow the seed's data-quality table: a field that "should be
//! not null" gets nulls, "not empty" gets `""`, "numeric"/"string" gets a value of
//! another type, "in expected values" gets an unknown value, "timestamp" gets text that
//! is not one. `chatStartedByMessage` (not in the table) gets nulls and `"maybe"`.
//!
//! Parquet columns are typed, so a Parquet file cannot hold a wrong type or a bad
//! timestamp text: for Parquet only `null`, `unknown_value` and (in string columns)
//! `empty` are injected.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::text::Cell;
use ccc_ingest::schema::{FieldType, Table, CITY_CODE, ORDER_STAGE, SENDER_APP_TYPE};
use ccc_ingest::Format;

/// One way a field is made bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DirtyKind {
    /// JSON `null`, an empty CSV field, a Parquet null.
    Null,
    /// The empty string `""` (in CSV indistinguishable from null).
    Empty,
    /// A value of another type: `"abc"`, `"N/A"` or `1.5` for an integer, `7` or `true`
    /// for a string, `"maybe"`, `"yes"` or `1` for a boolean, `1706781600` for a timestamp.
    WrongType,
    /// A string outside the expected set: `Robot Web`, `TELEPORTED`, `XXX`.
    UnknownValue,
    /// Text that is not an RFC 3339 timestamp: `2024-02-30T25:61:00Z`, `yesterday`, or
    /// one without an offset.
    BadTimestamp,
}

impl DirtyKind {
    /// Every kind, in manifest order.
    pub const ALL: [DirtyKind; 5] = [
        DirtyKind::Null,
        DirtyKind::Empty,
        DirtyKind::WrongType,
        DirtyKind::UnknownValue,
        DirtyKind::BadTimestamp,
    ];

    /// The kind's name in the manifest: `null`, `empty`, `wrong_type`, `unknown_value`,
    /// `bad_timestamp`.
    pub fn name(self) -> &'static str {
        match self {
            DirtyKind::Null => "null",
            DirtyKind::Empty => "empty",
            DirtyKind::WrongType => "wrong_type",
            DirtyKind::UnknownValue => "unknown_value",
            DirtyKind::BadTimestamp => "bad_timestamp",
        }
    }

    /// Position in [`DirtyKind::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for DirtyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The one broken field of a record: column index (schema order), kind, and which of
/// the kind's example values (modulo their number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Injection {
    pub(crate) column: u8,
    pub(crate) kind: DirtyKind,
    pub(crate) variant: u8,
}

/// The columns of a table that can be broken in a format, with their kinds.
pub(crate) struct DirtyColumns {
    columns: Vec<(u8, Vec<DirtyKind>)>,
}

impl DirtyColumns {
    /// The breakable columns of `table` when written as `format`.
    pub(crate) fn new(table: Table, format: Format) -> DirtyColumns {
        let columns = table
            .columns()
            .iter()
            .enumerate()
            .map(|(i, (name, ty))| (i as u8, kinds_for(name, *ty, format)))
            .filter(|(_, kinds)| !kinds.is_empty())
            .collect();
        DirtyColumns { columns }
    }

    /// Picks a column uniformly, then one of its kinds uniformly.
    pub(crate) fn pick(&self, r: &mut ChaCha8Rng) -> Injection {
        let (column, kinds) = &self.columns[r.gen_range(0..self.columns.len())];
        let kind = kinds[r.gen_range(0..kinds.len())];
        Injection {
            column: *column,
            kind,
            variant: r.gen(),
        }
    }
}

/// Columns whose values come from a fixed set.
fn has_value_set(column: &str) -> bool {
    column == SENDER_APP_TYPE || column == ORDER_STAGE || column == CITY_CODE
}

/// The kinds that apply to a column of type `ty` written as `format`.
pub(crate) fn kinds_for(column: &str, ty: FieldType, format: Format) -> Vec<DirtyKind> {
    let typed = format == Format::Parquet;
    let mut kinds = vec![DirtyKind::Null];
    if ty == FieldType::Utf8 || (!typed && ty != FieldType::Boolean) {
        kinds.push(DirtyKind::Empty);
    }
    if !typed {
        kinds.push(DirtyKind::WrongType);
    }
    if has_value_set(column) {
        kinds.push(DirtyKind::UnknownValue);
    }
    if ty == FieldType::Timestamp && !typed {
        kinds.push(DirtyKind::BadTimestamp);
    }
    kinds
}

/// The bad value written for an injection into a column of type `ty`.
pub(crate) fn cell(column: &str, ty: FieldType, injection: Injection) -> Cell<'static> {
    let pick = |options: &[Cell<'static>]| options[usize::from(injection.variant) % options.len()];
    match injection.kind {
        DirtyKind::Null => Cell::Null,
        DirtyKind::Empty => Cell::Str(""),
        DirtyKind::WrongType => match ty {
            FieldType::Int64 => pick(&[Cell::Str("abc"), Cell::Str("N/A"), Cell::Raw("1.5")]),
            FieldType::Utf8 => pick(&[Cell::Raw("7"), Cell::Raw("true")]),
            FieldType::Boolean => pick(&[Cell::Str("maybe"), Cell::Str("yes"), Cell::Raw("1")]),
            FieldType::Timestamp => Cell::Raw("1706781600"),
            // Not among the source tables' types; a word fits neither.
            FieldType::Float64 | FieldType::Date => Cell::Str("abc"),
        },
        DirtyKind::UnknownValue => match column {
            SENDER_APP_TYPE => pick(&[Cell::Str("Robot Web"), Cell::Str("Admin Console")]),
            ORDER_STAGE => Cell::Str("TELEPORTED"),
            _ => Cell::Str("XXX"),
        },
        DirtyKind::BadTimestamp => pick(&[
            Cell::Str("2024-02-30T25:61:00Z"),
            Cell::Str("yesterday"),
            Cell::Str("2024-02-01T10:00:00"),
        ]),
    }
}

/// The bad value as a JSON literal, for the manifest (`null`, `""`, `"abc"`, `7`).
pub(crate) fn value_text(column: &str, ty: FieldType, injection: Injection) -> String {
    match cell(column, ty, injection) {
        Cell::Null => "null".to_string(),
        Cell::Str(s) => format!("\"{s}\""),
        Cell::Raw(s) => s.to_string(),
        Cell::Int(v) => v.to_string(),
        Cell::Bool(b) => b.to_string(),
        Cell::Time(..) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn kinds_follow_the_checks_table_and_the_format() {
        use DirtyKind::*;
        assert_eq!(
            kinds_for("senderAppType", FieldType::Utf8, Format::Json),
            vec![Null, Empty, WrongType, UnknownValue]
        );
        assert_eq!(
            kinds_for("orderId", FieldType::Int64, Format::Csv),
            vec![Null, Empty, WrongType]
        );
        assert_eq!(
            kinds_for("chatStartedByMessage", FieldType::Boolean, Format::Ndjson),
            vec![Null, WrongType]
        );
        assert_eq!(
            kinds_for("messageSentTime", FieldType::Timestamp, Format::Json),
            vec![Null, Empty, WrongType, BadTimestamp]
        );
        assert_eq!(
            kinds_for("messageSentTime", FieldType::Timestamp, Format::Parquet),
            vec![Null]
        );
        assert_eq!(
            kinds_for("cityCode", FieldType::Utf8, Format::Parquet),
            vec![Null, Empty, UnknownValue]
        );
    }

    #[test]
    fn bad_timestamps_do_not_parse() {
        for variant in 0..3 {
            let inj = Injection {
                column: 8,
                kind: DirtyKind::BadTimestamp,
                variant,
            };
            let Cell::Str(text) = cell("messageSentTime", FieldType::Timestamp, inj) else {
                panic!()
            };
            assert_eq!(
                ccc_ingest::timestamp::parse_rfc3339_micros(text),
                None,
                "{text}"
            );
        }
    }

    #[test]
    fn picks_cover_every_column() {
        let cols = DirtyColumns::new(Table::ChatMessages, Format::Json);
        let mut r = ChaCha8Rng::seed_from_u64(1);
        let mut seen = [false; 9];
        for _ in 0..500 {
            seen[usize::from(cols.pick(&mut r).column)] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
