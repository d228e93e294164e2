//! Column builders shared by the text readers: each raw value (JSON text or a CSV field)
//! is parsed into its field's type, or becomes null with a [`ProblemKind`].

use arrow2::array::{
    Array, BooleanArray, MutableArray, MutableBooleanArray, MutablePrimitiveArray, NullArray,
    Utf8Array,
};
use arrow2::bitmap::MutableBitmap;
use arrow2::chunk::Chunk;
use arrow2::datatypes::DataType;
use arrow2::offset::OffsetsBuffer;

use crate::problems::ProblemKind;
use crate::schema::FieldType;
use crate::timestamp::TimestampParser;

/// A growing column of one field type.
pub(crate) enum ColumnBuilder {
    Utf8(TextColumn),
    Int64(MutablePrimitiveArray<i64>),
    Boolean(MutableBooleanArray),
    Timestamp(MutablePrimitiveArray<i64>, TimestampParser),
    Float64(MutablePrimitiveArray<f64>),
    Date(MutablePrimitiveArray<i32>),
    Presence(PresenceColumn),
}

/// A column whose values the caller does not need, only that every row holds one of the
/// column's type (see `ReadOptions::text_presence_only`): values are checked, not kept.
/// A row that is not certainly a valid value (a null, an absent key, any other type)
/// spoils it; the reader then reads its chunk again in full, so nothing about such rows
/// has to be right here.
pub(crate) struct PresenceColumn {
    ty: FieldType,
    parser: TimestampParser,
    rows: usize,
    spoiled: bool,
}

impl PresenceColumn {
    fn record(&mut self, valid: bool) -> Result<(), ProblemKind> {
        self.rows += 1;
        self.spoiled |= !valid;
        Ok(())
    }
}

/// The most text one column of one chunk can hold: Arrow's `Utf8` offsets are `i32`.
/// Only a record of about this size can reach it, since chunks end at the first record
/// boundary after a few megabytes; the readers then stop with an error at that record.
pub(crate) const TEXT_LIMIT: usize = i32::MAX as usize;

/// A growing UTF-8 column: offsets and bytes pushed directly. arrow2's `MutableUtf8Array`
/// builds and drops an error value on every push (its offsets push is fallible), which was
/// a twentieth of an NDJSON read.
pub(crate) struct TextColumn {
    offsets: Vec<i32>,
    bytes: Vec<u8>,
    /// Created at the first null, with every earlier row valid.
    validity: Option<MutableBitmap>,
}

impl TextColumn {
    fn with_capacity(rows: usize) -> TextColumn {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        TextColumn {
            offsets,
            // Sender types and stages are 9 to 16 bytes.
            bytes: Vec::with_capacity(rows * 16),
            validity: None,
        }
    }

    fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    #[inline]
    fn push(&mut self, text: &str) {
        self.bytes.extend_from_slice(text.as_bytes());
        // A chunk's text is far below 2 GiB; `finish` checks the total once.
        self.offsets.push(self.bytes.len() as i32);
        if let Some(validity) = &mut self.validity {
            validity.push(true);
        }
    }

    fn push_null(&mut self) {
        let len = self.len();
        self.offsets.push(self.bytes.len() as i32);
        self.validity
            .get_or_insert_with(|| {
                let mut v = MutableBitmap::with_capacity(self.offsets.capacity());
                v.extend_constant(len, true);
                v
            })
            .push(false);
    }

    fn finish(self) -> Box<dyn Array> {
        // The readers stop with an error at the record that would pass the limit
        // (`TableBuilder::text_over`), so this holds for every chunk that is finished.
        assert!(
            self.bytes.len() <= TEXT_LIMIT,
            "a chunk's text columns stay within TEXT_LIMIT"
        );
        let offsets = OffsetsBuffer::try_from(self.offsets).expect("offsets only grow");
        Utf8Array::<i32>::try_new(
            DataType::Utf8,
            offsets,
            self.bytes.into(),
            self.validity.map(Into::into),
        )
        .expect("pushed values are str")
        .boxed()
    }
}

impl ColumnBuilder {
    fn new(ty: FieldType, capacity: usize) -> Self {
        match ty {
            FieldType::Utf8 => ColumnBuilder::Utf8(TextColumn::with_capacity(capacity)),
            FieldType::Int64 => {
                ColumnBuilder::Int64(MutablePrimitiveArray::with_capacity(capacity))
            }
            FieldType::Boolean => {
                ColumnBuilder::Boolean(MutableBooleanArray::with_capacity(capacity))
            }
            FieldType::Timestamp => ColumnBuilder::Timestamp(
                MutablePrimitiveArray::with_capacity(capacity),
                TimestampParser::default(),
            ),
            FieldType::Float64 => {
                ColumnBuilder::Float64(MutablePrimitiveArray::with_capacity(capacity))
            }
            FieldType::Date => ColumnBuilder::Date(MutablePrimitiveArray::with_capacity(capacity)),
        }
    }

    fn field_type(&self) -> FieldType {
        match self {
            ColumnBuilder::Utf8(_) => FieldType::Utf8,
            ColumnBuilder::Int64(_) => FieldType::Int64,
            ColumnBuilder::Boolean(_) => FieldType::Boolean,
            ColumnBuilder::Timestamp(..) => FieldType::Timestamp,
            ColumnBuilder::Float64(_) => FieldType::Float64,
            ColumnBuilder::Date(_) => FieldType::Date,
            ColumnBuilder::Presence(p) => p.ty,
        }
    }

    pub(crate) fn push_null(&mut self) {
        match self {
            ColumnBuilder::Utf8(b) => b.push_null(),
            ColumnBuilder::Int64(b) | ColumnBuilder::Timestamp(b, _) => b.push_null(),
            ColumnBuilder::Boolean(b) => b.push_null(),
            ColumnBuilder::Float64(b) => b.push_null(),
            ColumnBuilder::Date(b) => b.push_null(),
            ColumnBuilder::Presence(p) => {
                let _ = p.record(false);
            }
        }
    }

    fn wrong_type(&mut self) -> Result<(), ProblemKind> {
        let expected = self.field_type();
        self.push_null();
        Err(ProblemKind::WrongType { expected })
    }

    /// Pushes a value given as text (a CSV field, or a JSON string's content).
    /// `from_json_string` is true when the text was a JSON string: then it is not an
    /// integer or a boolean even if it reads like one (a string where an integer belongs).
    pub(crate) fn push_text(
        &mut self,
        text: &str,
        from_json_string: bool,
    ) -> Result<(), ProblemKind> {
        match self {
            ColumnBuilder::Presence(p) => {
                let valid = match p.ty {
                    FieldType::Utf8 => true,
                    FieldType::Timestamp => p.parser.parse(text).is_ok(),
                    FieldType::Int64 => !from_json_string && parse_integer(text).is_ok(),
                    FieldType::Boolean => {
                        !from_json_string
                            && (text.eq_ignore_ascii_case("true")
                                || text.eq_ignore_ascii_case("false"))
                    }
                    FieldType::Float64 => !from_json_string && parse_float(text).is_ok(),
                    FieldType::Date => parse_date(text).is_ok(),
                };
                p.record(valid)
            }
            ColumnBuilder::Utf8(b) => {
                b.push(text);
                Ok(())
            }
            ColumnBuilder::Int64(b) => {
                if from_json_string {
                    return self.wrong_type();
                }
                match parse_integer(text) {
                    Ok(v) => {
                        b.push(Some(v));
                        Ok(())
                    }
                    Err(kind) => {
                        b.push_null();
                        Err(kind)
                    }
                }
            }
            ColumnBuilder::Boolean(b) => {
                let value = if from_json_string {
                    None
                } else if text.eq_ignore_ascii_case("true") {
                    Some(true)
                } else if text.eq_ignore_ascii_case("false") {
                    Some(false)
                } else {
                    None
                };
                match value {
                    Some(v) => {
                        b.push(Some(v));
                        Ok(())
                    }
                    None => self.wrong_type(),
                }
            }
            ColumnBuilder::Timestamp(b, parser) => match parser.parse(text) {
                Ok(v) => {
                    b.push(Some(v));
                    Ok(())
                }
                Err(kind) => {
                    b.push_null();
                    Err(kind)
                }
            },
            ColumnBuilder::Float64(b) => {
                if from_json_string {
                    return self.wrong_type();
                }
                push_parsed(b, parse_float(text))
            }
            ColumnBuilder::Date(b) => push_parsed(b, parse_date(text)),
        }
    }

    /// Pushes a JSON `true`/`false`.
    pub(crate) fn push_json_bool(&mut self, value: bool) -> Result<(), ProblemKind> {
        match self {
            ColumnBuilder::Boolean(b) => {
                b.push(Some(value));
                Ok(())
            }
            ColumnBuilder::Presence(p) => p.record(p.ty == FieldType::Boolean),
            _ => self.wrong_type(),
        }
    }

    /// Pushes a JSON integer that fits in i64 (a float column takes it as a float).
    pub(crate) fn push_json_i64(&mut self, value: i64) -> Result<(), ProblemKind> {
        match self {
            ColumnBuilder::Int64(b) => {
                b.push(Some(value));
                Ok(())
            }
            ColumnBuilder::Float64(b) => {
                b.push(Some(value as f64));
                Ok(())
            }
            ColumnBuilder::Presence(p) => {
                p.record(matches!(p.ty, FieldType::Int64 | FieldType::Float64))
            }
            _ => self.wrong_type(),
        }
    }

    /// Pushes a JSON integer within i64 whose value was not computed; only a presence
    /// column's records are lexed that way ([`TableBuilder::presence_mask`]).
    pub(crate) fn push_json_int_not_kept(&mut self) -> Result<(), ProblemKind> {
        match self {
            ColumnBuilder::Presence(p) => {
                p.record(matches!(p.ty, FieldType::Int64 | FieldType::Float64))
            }
            _ => unreachable!("only presence columns are lexed without their integers"),
        }
    }

    /// Pushes a JSON number that is not an i64, `value` as the nearest float: a float
    /// field takes it; for an integer field an integer beyond 64 bits is out of range;
    /// anything else (a fraction, an exponent) is a wrong type.
    pub(crate) fn push_json_out_of_i64(
        &mut self,
        integral: bool,
        value: f64,
    ) -> Result<(), ProblemKind> {
        match self {
            ColumnBuilder::Float64(b) if value.is_finite() => {
                b.push(Some(value));
                Ok(())
            }
            ColumnBuilder::Presence(p) => p.record(p.ty == FieldType::Float64 && value.is_finite()),
            ColumnBuilder::Int64(b) if integral => {
                b.push_null();
                Err(ProblemKind::OutOfRange)
            }
            _ => self.wrong_type(),
        }
    }

    /// Pushes null for a value of the wrong JSON type (an object or array).
    pub(crate) fn push_wrong_type(&mut self) -> Result<(), ProblemKind> {
        match self {
            ColumnBuilder::Presence(p) => p.record(false),
            _ => self.wrong_type(),
        }
    }

    fn finish(self) -> Box<dyn Array> {
        match self {
            ColumnBuilder::Utf8(b) => b.finish(),
            ColumnBuilder::Int64(mut b) => b.as_box(),
            ColumnBuilder::Boolean(b) => {
                let array: BooleanArray = b.into();
                array.boxed()
            }
            ColumnBuilder::Timestamp(b, _) => b.to(FieldType::Timestamp.data_type()).as_box(),
            ColumnBuilder::Float64(mut b) => b.as_box(),
            ColumnBuilder::Date(b) => b.to(DataType::Date32).as_box(),
            ColumnBuilder::Presence(p) => NullArray::new(DataType::Null, p.rows).boxed(),
        }
    }
}

/// Parses a decimal integer; digits that overflow i64 are [`ProblemKind::OutOfRange`],
/// anything else that is not an integer (`1.5`, `1e3`, `abc`) is a wrong type.
fn parse_integer(text: &str) -> Result<i64, ProblemKind> {
    match text.parse::<i64>() {
        Ok(v) => Ok(v),
        Err(_) => {
            let digits = text.strip_prefix('-').unwrap_or(text);
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                Err(ProblemKind::OutOfRange)
            } else {
                Err(ProblemKind::WrongType {
                    expected: FieldType::Int64,
                })
            }
        }
    }
}

/// Pushes a parsed value, or null and the reason it did not parse.
fn push_parsed<T: arrow2::types::NativeType>(
    builder: &mut MutablePrimitiveArray<T>,
    parsed: Result<T, ProblemKind>,
) -> Result<(), ProblemKind> {
    match parsed {
        Ok(v) => {
            builder.push(Some(v));
            Ok(())
        }
        Err(kind) => {
            builder.push_null();
            Err(kind)
        }
    }
}

/// Parses a decimal number (`1`, `-2.5`, `1e-3`); words (`inf`, `NaN`) and values beyond
/// the float range are not numbers a table holds.
fn parse_float(text: &str) -> Result<f64, ProblemKind> {
    let wrong = ProblemKind::WrongType {
        expected: FieldType::Float64,
    };
    let numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
    match text.parse::<f64>() {
        Ok(v) if numeric && v.is_finite() => Ok(v),
        _ => Err(wrong),
    }
}

/// Parses an ISO 8601 calendar date, `YYYY-MM-DD`, to days since 1970-01-01.
fn parse_date(text: &str) -> Result<i32, ProblemKind> {
    ccc_dq::time::parse_date(text.as_bytes())
        .and_then(|days| i32::try_from(days).ok())
        .ok_or(ProblemKind::WrongType {
            expected: FieldType::Date,
        })
}

/// One builder per column of a table.
pub(crate) struct TableBuilder {
    pub(crate) columns: Vec<ColumnBuilder>,
}

impl TableBuilder {
    pub(crate) fn new(columns: &[(&'static str, FieldType)], capacity: usize) -> Self {
        Self {
            columns: columns
                .iter()
                .map(|(_, ty)| ColumnBuilder::new(*ty, capacity))
                .collect(),
        }
    }

    /// [`TableBuilder::new`], with the columns flagged in `presence` (by index; missing
    /// entries are false) kept as [`PresenceColumn`]s.
    pub(crate) fn with_presence(
        columns: &[(&'static str, FieldType)],
        capacity: usize,
        presence: &[bool],
    ) -> Self {
        Self {
            columns: columns
                .iter()
                .enumerate()
                .map(|(i, (_, ty))| {
                    if presence.get(i).copied().unwrap_or(false) {
                        ColumnBuilder::Presence(PresenceColumn {
                            ty: *ty,
                            parser: TimestampParser::default(),
                            rows: 0,
                            spoiled: false,
                        })
                    } else {
                        ColumnBuilder::new(*ty, capacity)
                    }
                })
                .collect(),
        }
    }

    /// Whether a presence column met a row that is not certainly a valid value.
    pub(crate) fn presence_spoiled(&self) -> bool {
        self.columns
            .iter()
            .any(|c| matches!(c, ColumnBuilder::Presence(p) if p.spoiled))
    }

    /// The presence columns as a bit mask (bit `i` for column `i`).
    pub(crate) fn presence_mask(&self) -> u64 {
        self.presence_columns()
            .iter()
            .fold(0, |mask, &i| mask | 1u64 << i)
    }

    /// The presence columns, by index: left unread in the finished chunk.
    pub(crate) fn presence_columns(&self) -> Vec<usize> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, c)| matches!(c, ColumnBuilder::Presence(_)))
            .map(|(i, _)| i)
            .collect()
    }

    /// The index of a text column holding more than `limit` bytes, if any.
    pub(crate) fn text_over(&self, limit: usize) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| matches!(c, ColumnBuilder::Utf8(t) if t.bytes.len() > limit))
    }

    pub(crate) fn finish(self) -> Chunk<Box<dyn Array>> {
        Chunk::new(
            self.columns
                .into_iter()
                .map(ColumnBuilder::finish)
                .collect(),
        )
    }

    /// A builder of one column alone (used to parse text found in typed files).
    pub(crate) fn single(ty: FieldType, capacity: usize) -> ColumnBuilder {
        ColumnBuilder::new(ty, capacity)
    }
}

impl ColumnBuilder {
    /// Finishes a builder made by [`TableBuilder::single`].
    pub(crate) fn finish_one(self) -> Box<dyn Array> {
        self.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow2::array::PrimitiveArray;

    fn int_column(values: &[&str]) -> (Vec<Option<i64>>, Vec<Result<(), ProblemKind>>) {
        let mut b = ColumnBuilder::new(FieldType::Int64, 4);
        let results = values
            .iter()
            .map(
                |v| match serde_json::from_str::<serde_json::Value>(v).unwrap() {
                    serde_json::Value::Null => {
                        b.push_null();
                        Ok(())
                    }
                    serde_json::Value::String(s) => b.push_text(&s, true),
                    serde_json::Value::Number(n) => match n.as_i64() {
                        Some(i) => b.push_json_i64(i),
                        None => b.push_json_out_of_i64(
                            n.is_u64()
                                || n.as_f64()
                                    .is_some_and(|f| f.fract() == 0.0 && f.abs() >= 9.2e18),
                            n.as_f64().unwrap_or(f64::NAN),
                        ),
                    },
                    _ => b.push_wrong_type(),
                },
            )
            .collect();
        let array = b.finish();
        let array = array
            .as_any()
            .downcast_ref::<PrimitiveArray<i64>>()
            .unwrap();
        (array.iter().map(|v| v.copied()).collect(), results)
    }

    #[test]
    fn json_integers_strings_and_overflow() {
        let (values, results) =
            int_column(&["42", "\"42\"", "1.5", "99999999999999999999", "null", "-7"]);
        assert_eq!(values, vec![Some(42), None, None, None, None, Some(-7)]);
        let wrong = Err(ProblemKind::WrongType {
            expected: FieldType::Int64,
        });
        assert_eq!(
            results,
            vec![
                Ok(()),
                wrong,
                wrong,
                Err(ProblemKind::OutOfRange),
                Ok(()),
                Ok(())
            ]
        );
    }

    #[test]
    fn csv_booleans_are_case_insensitive_and_strict() {
        let mut b = ColumnBuilder::new(FieldType::Boolean, 3);
        assert!(b.push_text("TRUE", false).is_ok());
        assert!(b.push_text("false", false).is_ok());
        assert!(b.push_text("yes", false).is_err());
        assert!(
            b.push_text("true", true).is_err(),
            "a JSON string is not a boolean"
        );
    }
}
