//! How the engine sees Arrow columns: a few value classes (integer, float, boolean,
//! text, temporal), a row reader that yields comparable scalars, hashable keys, and the
//! text of a value for reports.

use std::hash::{Hash, Hasher};

use arrow2::array::{Array, BooleanArray, PrimitiveArray, Utf8Array};
use arrow2::bitmap::Bitmap;
use arrow2::datatypes::{DataType, PhysicalType, PrimitiveType, TimeUnit};
use arrow2::types::NativeType;

use crate::suite::SetValue;
use crate::time;

/// The classes of column types the checks distinguish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnClass {
    /// Signed and unsigned integers, times of day and durations (raw values).
    Integer,
    /// 32 and 64-bit floats.
    Float,
    /// Booleans.
    Boolean,
    /// UTF-8 strings.
    Text,
    /// Timestamps and dates, compared as instants.
    Temporal,
    /// The null type: every value is null.
    Null,
    /// Anything else (lists, structs, binary, decimals): only not-null applies.
    Other,
}

/// Classifies a data type; dictionaries by their values.
pub(crate) fn classify(data_type: &DataType) -> ColumnClass {
    match data_type.to_logical_type() {
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => ColumnClass::Temporal,
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Time32(_)
        | DataType::Time64(_)
        | DataType::Duration(_) => ColumnClass::Integer,
        DataType::Float32 | DataType::Float64 => ColumnClass::Float,
        DataType::Boolean => ColumnClass::Boolean,
        DataType::Utf8 | DataType::LargeUtf8 => ColumnClass::Text,
        DataType::Null => ColumnClass::Null,
        DataType::Dictionary(_, values, _) => classify(values),
        _ => ColumnClass::Other,
    }
}

/// Nanoseconds per unit of a temporal type's raw value (1 for non-temporal types).
pub(crate) fn nanos_per_unit(data_type: &DataType) -> i128 {
    match data_type.to_logical_type() {
        DataType::Timestamp(unit, _) => match unit {
            TimeUnit::Second => 1_000_000_000,
            TimeUnit::Millisecond => 1_000_000,
            TimeUnit::Microsecond => 1_000,
            TimeUnit::Nanosecond => 1,
        },
        DataType::Date32 => 86_400 * 1_000_000_000,
        DataType::Date64 => 1_000_000,
        _ => 1,
    }
}

/// Whether a `value_set` entry can ever equal a value of the column type.
pub(crate) fn set_value_fits(value: &SetValue, data_type: &DataType) -> bool {
    match (classify(data_type), value) {
        (ColumnClass::Text | ColumnClass::Null, _) => true,
        (ColumnClass::Integer, SetValue::Int(_)) => true,
        (ColumnClass::Integer, SetValue::Float(f)) => f.fract() == 0.0,
        (ColumnClass::Integer, SetValue::Str(s)) => s.trim().parse::<i128>().is_ok(),
        (ColumnClass::Float, SetValue::Int(_) | SetValue::Float(_)) => true,
        (ColumnClass::Float, SetValue::Str(s)) => parse_number(s).is_some(),
        (ColumnClass::Boolean, SetValue::Bool(_)) => true,
        (ColumnClass::Boolean, SetValue::Str(s)) => parse_bool(s).is_some(),
        (ColumnClass::Temporal, SetValue::Int(_)) => true,
        (ColumnClass::Temporal, SetValue::Str(s)) => time::parse_timestamp_nanos(s).is_some(),
        _ => false,
    }
}

/// The key a set value has in a column of `data_type`, if it can equal one of its values.
pub(crate) fn set_value_key<'a>(value: &'a SetValue, data_type: &DataType) -> Option<Key<'a>> {
    let class = classify(data_type);
    let mult = nanos_per_unit(data_type);
    Some(match (class, value) {
        (ColumnClass::Text, SetValue::Str(s)) => Key::Text(s),
        (ColumnClass::Temporal, SetValue::Str(s)) => Key::Int(time::parse_timestamp_nanos(s)?),
        (ColumnClass::Temporal, SetValue::Int(i)) => Key::Int(i128::from(*i) * mult),
        (ColumnClass::Integer | ColumnClass::Float, SetValue::Int(i)) => Key::Int(i128::from(*i)),
        (ColumnClass::Integer | ColumnClass::Float, SetValue::Float(f)) => Scalar::Float(*f).key(),
        (ColumnClass::Integer | ColumnClass::Float, SetValue::Str(s)) => {
            Scalar::Float(parse_number(s)?).key()
        }
        (ColumnClass::Boolean, SetValue::Bool(b)) => Key::Bool(*b),
        (ColumnClass::Boolean, SetValue::Str(s)) => Key::Bool(parse_bool(s)?),
        _ => return None,
    })
}

/// Parses a decimal number (no `inf`/`nan` words).
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    let first = t.bytes().next()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Parses an integer with an optional sign.
pub(crate) fn parse_integer(text: &str) -> Option<i128> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    t.parse::<i128>().ok()
}

/// Parses `true`/`false` in any case.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("true") {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Downcasts to a primitive array; callers match on the physical type first.
pub(crate) fn primitive<T: NativeType>(array: &dyn Array) -> &PrimitiveArray<T> {
    array
        .as_any()
        .downcast_ref::<PrimitiveArray<T>>()
        .expect("physical type checked before the downcast")
}

/// Downcasts to a UTF-8 array.
pub(crate) fn utf8<O: arrow2::offset::Offset>(array: &dyn Array) -> &Utf8Array<O> {
    array
        .as_any()
        .downcast_ref::<Utf8Array<O>>()
        .expect("physical type checked before the downcast")
}

/// Downcasts to a boolean array.
pub(crate) fn boolean(array: &dyn Array) -> &BooleanArray {
    array
        .as_any()
        .downcast_ref::<BooleanArray>()
        .expect("physical type checked before the downcast")
}

/// Runs `$body` with `$arr` bound to the column as a primitive array of whichever
/// integer type it has (timestamps and dates included); `$other` otherwise.
macro_rules! with_integers {
    ($array:expr, |$arr:ident| $body:expr, $other:expr) => {{
        use arrow2::datatypes::{PhysicalType as P, PrimitiveType as T};
        let array: &dyn arrow2::array::Array = $array;
        match array.data_type().to_physical_type() {
            P::Primitive(T::Int8) => {
                let $arr = $crate::types::primitive::<i8>(array);
                $body
            }
            P::Primitive(T::Int16) => {
                let $arr = $crate::types::primitive::<i16>(array);
                $body
            }
            P::Primitive(T::Int32) => {
                let $arr = $crate::types::primitive::<i32>(array);
                $body
            }
            P::Primitive(T::Int64) => {
                let $arr = $crate::types::primitive::<i64>(array);
                $body
            }
            P::Primitive(T::UInt8) => {
                let $arr = $crate::types::primitive::<u8>(array);
                $body
            }
            P::Primitive(T::UInt16) => {
                let $arr = $crate::types::primitive::<u16>(array);
                $body
            }
            P::Primitive(T::UInt32) => {
                let $arr = $crate::types::primitive::<u32>(array);
                $body
            }
            P::Primitive(T::UInt64) => {
                let $arr = $crate::types::primitive::<u64>(array);
                $body
            }
            _ => $other,
        }
    }};
}
pub(crate) use with_integers;

/// A value read from a row, comparable within its class.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scalar<'a> {
    /// Integers, and temporal values as nanoseconds since the epoch.
    Int(i128),
    /// Floats.
    Float(f64),
    /// Text.
    Text(&'a str),
    /// Booleans.
    Bool(bool),
}

impl<'a> Scalar<'a> {
    /// Orders two scalars of comparable classes (numbers with numbers, text with text).
    pub(crate) fn partial_cmp(&self, other: &Scalar<'_>) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (Scalar::Int(a), Scalar::Int(b)) => Some(a.cmp(b)),
            (Scalar::Int(a), Scalar::Float(b)) => (*a as f64).partial_cmp(b),
            (Scalar::Float(a), Scalar::Int(b)) => a.partial_cmp(&(*b as f64)),
            (Scalar::Float(a), Scalar::Float(b)) => a.partial_cmp(b),
            (Scalar::Text(a), Scalar::Text(b)) => Some(a.cmp(b)),
            (Scalar::Bool(a), Scalar::Bool(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// The hashable key of the value: whole floats equal the same integer, and -0.0
    /// equals 0.0.
    pub(crate) fn key(self) -> Key<'a> {
        match self {
            Scalar::Int(i) => Key::Int(i),
            Scalar::Float(f) => {
                if f.fract() == 0.0 && f.abs() < 1e38 {
                    Key::Int(f as i128)
                } else if f.is_nan() {
                    Key::Float(f64::NAN.to_bits())
                } else {
                    Key::Float(f.to_bits())
                }
            }
            Scalar::Text(s) => Key::Text(s),
            Scalar::Bool(b) => Key::Bool(b),
        }
    }
}

/// A hashable value; see [`Scalar::key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key<'a> {
    /// An integer (or a whole float, or a temporal value in nanoseconds).
    Int(i128),
    /// The bits of a float with a fraction.
    Float(u64),
    /// Text.
    Text(&'a str),
    /// A boolean.
    Bool(bool),
}

impl Hash for Key<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Key::Int(i) => {
                // Most keys fit 64 bits; hashing one word is faster.
                state.write_u8(0);
                state.write_u64(*i as u64);
                state.write_u64((*i >> 64) as u64);
            }
            Key::Float(bits) => {
                state.write_u8(1);
                state.write_u64(*bits);
            }
            Key::Text(s) => {
                state.write_u8(2);
                state.write(s.as_bytes());
                state.write_u8(0xff);
            }
            Key::Bool(b) => {
                state.write_u8(3);
                state.write_u8(u8::from(*b));
            }
        }
    }
}

/// Raw integer values of any width.
#[derive(Clone, Copy)]
enum Ints<'a> {
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
}

#[derive(Clone, Copy)]
enum Values<'a> {
    Ints(Ints<'a>, i128),
    F32(&'a [f32]),
    F64(&'a [f64]),
    Utf8(&'a Utf8Array<i32>),
    LargeUtf8(&'a Utf8Array<i64>),
    Bool(&'a Bitmap),
    Null,
}

/// Reads rows of one column chunk as [`Scalar`]s (temporal values in nanoseconds).
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    values: Values<'a>,
    validity: Option<&'a Bitmap>,
    len: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `array`; `None` for types outside the scalar classes.
    pub(crate) fn new(array: &'a dyn Array) -> Option<Reader<'a>> {
        let len = array.len();
        let validity = array.validity().filter(|v| v.unset_bits() > 0);
        let mult = nanos_per_unit(array.data_type());
        let values = match array.data_type().to_physical_type() {
            PhysicalType::Primitive(p) => match p {
                PrimitiveType::Int8 => {
                    Values::Ints(Ints::I8(primitive::<i8>(array).values()), mult)
                }
                PrimitiveType::Int16 => {
                    Values::Ints(Ints::I16(primitive::<i16>(array).values()), mult)
                }
                PrimitiveType::Int32 => {
                    Values::Ints(Ints::I32(primitive::<i32>(array).values()), mult)
                }
                PrimitiveType::Int64 => {
                    Values::Ints(Ints::I64(primitive::<i64>(array).values()), mult)
                }
                PrimitiveType::UInt8 => {
                    Values::Ints(Ints::U8(primitive::<u8>(array).values()), mult)
                }
                PrimitiveType::UInt16 => {
                    Values::Ints(Ints::U16(primitive::<u16>(array).values()), mult)
                }
                PrimitiveType::UInt32 => {
                    Values::Ints(Ints::U32(primitive::<u32>(array).values()), mult)
                }
                PrimitiveType::UInt64 => {
                    Values::Ints(Ints::U64(primitive::<u64>(array).values()), mult)
                }
                PrimitiveType::Float32 => Values::F32(primitive::<f32>(array).values()),
                PrimitiveType::Float64 => Values::F64(primitive::<f64>(array).values()),
                _ => return None,
            },
            PhysicalType::Utf8 => Values::Utf8(utf8::<i32>(array)),
            PhysicalType::LargeUtf8 => Values::LargeUtf8(utf8::<i64>(array)),
            PhysicalType::Boolean => Values::Bool(boolean(array).values()),
            PhysicalType::Null => Values::Null,
            _ => return None,
        };
        Some(Reader {
            values,
            validity,
            len,
        })
    }

    /// Number of rows.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether some row is null.
    pub(crate) fn has_nulls(&self) -> bool {
        matches!(self.values, Values::Null) && self.len > 0 || self.validity.is_some()
    }

    /// Whether row `i` is null.
    #[inline]
    pub(crate) fn is_null(&self, i: usize) -> bool {
        matches!(self.values, Values::Null) || self.validity.is_some_and(|v| !v.get_bit(i))
    }

    /// The value of row `i`, `None` when null.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<Scalar<'a>> {
        if self.is_null(i) {
            return None;
        }
        Some(match self.values {
            Values::Ints(ints, mult) => Scalar::Int(
                match ints {
                    Ints::I8(v) => i128::from(v[i]),
                    Ints::I16(v) => i128::from(v[i]),
                    Ints::I32(v) => i128::from(v[i]),
                    Ints::I64(v) => i128::from(v[i]),
                    Ints::U8(v) => i128::from(v[i]),
                    Ints::U16(v) => i128::from(v[i]),
                    Ints::U32(v) => i128::from(v[i]),
                    Ints::U64(v) => i128::from(v[i]),
                } * mult,
            ),
            Values::F32(v) => Scalar::Float(f64::from(v[i])),
            Values::F64(v) => Scalar::Float(v[i]),
            Values::Utf8(a) => Scalar::Text(a.value(i)),
            Values::LargeUtf8(a) => Scalar::Text(a.value(i)),
            Values::Bool(b) => Scalar::Bool(b.get_bit(i)),
            Values::Null => return None,
        })
    }
}

/// The text of row `i` for reports: strings as they are, timestamps in RFC 3339 (UTC),
/// dates as `YYYY-MM-DD`; `None` when null.
pub(crate) fn render(array: &dyn Array, i: usize) -> Option<String> {
    if i >= array.len() || array.is_null(i) {
        return None;
    }
    match array.data_type().to_logical_type() {
        DataType::Timestamp(..) | DataType::Date64 => {
            let nanos = Reader::new(array)?.get(i).and_then(|s| match s {
                Scalar::Int(n) => Some(n),
                _ => None,
            })?;
            if matches!(array.data_type().to_logical_type(), DataType::Date64)
                && nanos % (86_400 * 1_000_000_000) == 0
            {
                Some(time::format_date((nanos / (86_400 * 1_000_000_000)) as i64))
            } else {
                Some(time::format_timestamp_nanos(nanos))
            }
        }
        DataType::Date32 => Some(time::format_date(i64::from(
            primitive::<i32>(array).value(i),
        ))),
        _ => match Reader::new(array).and_then(|r| r.get(i)) {
            Some(Scalar::Int(v)) => Some(v.to_string()),
            Some(Scalar::Float(v)) => Some(v.to_string()),
            Some(Scalar::Text(s)) => Some(s.to_string()),
            Some(Scalar::Bool(b)) => Some(b.to_string()),
            None => {
                let mut out = String::new();
                let display = arrow2::array::get_display(array, "null");
                display(&mut out, i).ok()?;
                Some(out)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow2::array::{Int64Array, Utf8Array};

    #[test]
    fn renders_timestamps_in_utc() {
        let a = PrimitiveArray::<i64>::from_slice([1_566_201_707_000_000]).to(DataType::Timestamp(
            TimeUnit::Microsecond,
            Some("UTC".into()),
        ));
        assert_eq!(render(&a, 0).as_deref(), Some("2019-08-19T08:01:47Z"));
        let d = PrimitiveArray::<i32>::from_slice([1]).to(DataType::Date32);
        assert_eq!(render(&d, 0).as_deref(), Some("1970-01-02"));
    }

    #[test]
    fn reads_scalars_and_nulls() {
        let a = Int64Array::from([Some(3), None]);
        let r = Reader::new(&a).expect("integers");
        assert!(matches!(r.get(0), Some(Scalar::Int(3))));
        assert!(r.get(1).is_none());
        let s = Utf8Array::<i32>::from([Some("x")]);
        assert_eq!(render(&s, 0).as_deref(), Some("x"));
        assert_eq!(Scalar::Float(2.0).key(), Key::Int(2));
    }
}
