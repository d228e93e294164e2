//! Values that did not fit their field. The read does not stop for them: the field
//! becomes null and a [`FieldProblem`] records where and what, for the quarantine and
//! for the data-quality engine (`expect_column_values_to_be_of_type`).

use crate::schema::FieldType;

/// What was wrong with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The value is of another type (a string where an integer belongs, `1.5` for an
    /// integer, an unparsable boolean or timestamp).
    WrongType {
        /// The field's type.
        expected: FieldType,
    },
    /// An integer that does not fit in 64 signed bits.
    OutOfRange,
    /// A timestamp outside the years 0001–9999 (see [`crate::timestamp::in_range`]).
    TimestampOutOfRange,
    /// The record itself is not an object (JSON), so every field is null.
    NotARecord,
}

impl serde::Serialize for FieldType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl std::fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProblemKind::WrongType { expected } => write!(f, "not a valid {}", expected.name()),
            ProblemKind::OutOfRange => f.write_str("out of the 64-bit integer range"),
            ProblemKind::TimestampOutOfRange => {
                f.write_str("a timestamp outside the years 0001-9999")
            }
            ProblemKind::NotARecord => f.write_str("record is not an object"),
        }
    }
}

/// One value that could not be read into its field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldProblem {
    /// Index of the file in [`crate::Sources::files`].
    pub file: u32,
    /// 1-based record number within the file.
    pub record: u64,
    /// 1-based line where the record starts (text formats only).
    pub line: Option<u64>,
    /// The column name (empty for [`ProblemKind::NotARecord`]).
    pub column: &'static str,
    /// The raw text of the value as it stood in the file.
    pub raw: String,
    /// What was wrong.
    pub kind: ProblemKind,
}
