//! Single-column map checks: not null, value lengths, type, set membership, bounds and
//! regular expressions. Each is a tight loop over one chunk's values and validity
//! bitmap; nulls are skipped (counted missing) except by not-null.

use arrow2::array::Array;
use arrow2::datatypes::{DataType, PhysicalType};
use rustc_hash::{FxHashMap, FxHashSet};

use super::short_texts::ShortTexts;
use super::{all_missing, chunk_tally, over_chunks, scan, Run, Sample, Tally};
use crate::dataset::{Dataset, TypeProblem};
use crate::suite::{Bound, SetValue, ValueType};
use crate::time;
use crate::types::{self, classify, nanos_per_unit, with_integers, ColumnClass};

/// `expect_column_values_to_not_be_null`: nulls are unexpected, except rows whose raw
/// value was present but unparsable (a type problem).
pub(crate) fn not_null(run: Run, ds: &Dataset, col: usize) -> Tally {
    let problems = ds.problems(col);
    over_chunks(run, ds, |c, chunk| {
        let array = chunk.arrays()[col].as_ref();
        let len = array.len();
        let start = problems.partition_point(|p| p.chunk < c);
        let end = problems.partition_point(|p| p.chunk <= c);
        let here = &problems[start..end];
        let is_null = |i: usize| array.data_type() == &DataType::Null || array.is_null(i);
        let excused = here.iter().filter(|p| is_null(p.row)).count() as u64;
        let nulls = array.null_count() as u64;
        let missing = nulls.saturating_sub(excused);
        let mut samples = Vec::new();
        if missing > 0 {
            let mut next_problem = here.iter().map(|p| p.row).peekable();
            for i in 0..len {
                if samples.len() >= run.limit {
                    break;
                }
                while next_problem.peek().is_some_and(|&r| r < i) {
                    next_problem.next();
                }
                if is_null(i) && next_problem.peek() != Some(&i) {
                    samples.push(Sample {
                        chunk: c,
                        row: i,
                        value: None,
                    });
                }
            }
        }
        Tally {
            element_count: len as u64,
            missing_count: missing,
            unexpected_count: missing,
            samples,
        }
    })
}

/// `expect_column_values_to_be_null`: every value present is unexpected, a value the
/// reader could not parse (null in the column, its raw text kept) too; `missing_count`
/// is the nulls, the values as expected.
pub(crate) fn be_null(run: Run, ds: &Dataset, col: usize) -> Tally {
    let problems = ds.problems(col);
    over_chunks(run, ds, |c, chunk| {
        let array = chunk.arrays()[col].as_ref();
        let len = array.len();
        let start = problems.partition_point(|p| p.chunk < c);
        let end = problems.partition_point(|p| p.chunk <= c);
        let here = &problems[start..end];
        let all_null = array.data_type() == &DataType::Null;
        let is_null = |i: usize| all_null || array.is_null(i);
        let nulls = if all_null { len } else { array.null_count() } as u64;
        let raw = here.iter().filter(|p| is_null(p.row)).count() as u64;
        let unexpected = len as u64 - nulls + raw;
        let mut samples = Vec::new();
        if unexpected > 0 {
            let mut next_problem = here.iter().peekable();
            for i in 0..len {
                if samples.len() >= run.limit {
                    break;
                }
                while next_problem.peek().is_some_and(|p| p.row < i) {
                    next_problem.next();
                }
                let value = if !is_null(i) {
                    types::render(array, i)
                } else if let Some(p) = next_problem.peek().filter(|p| p.row == i) {
                    Some(p.raw.clone())
                } else {
                    continue;
                };
                samples.push(Sample {
                    chunk: c,
                    row: i,
                    value,
                });
            }
        }
        Tally {
            element_count: len as u64,
            missing_count: nulls - raw,
            unexpected_count: unexpected,
            samples,
        }
    })
}

/// Folds a chunk's type problems (null in the column, but a raw value was there) into
/// its tally: `verdict(raw)` is `None` to leave the row missing, else whether it is
/// unexpected; such rows stop being missing.
fn apply_problems(
    tally: &mut Tally,
    chunk: usize,
    array: &dyn Array,
    problems: &[TypeProblem],
    limit: usize,
    verdict: impl Fn(&str) -> Option<bool>,
) {
    let start = problems.partition_point(|p| p.chunk < chunk);
    let end = problems.partition_point(|p| p.chunk <= chunk);
    let mut sampled = false;
    for p in &problems[start..end] {
        let Some(bad) = verdict(&p.raw) else { continue };
        if array.is_null(p.row) {
            tally.missing_count = tally.missing_count.saturating_sub(1);
        }
        if bad {
            tally.unexpected_count += 1;
            if tally.samples.len() < limit.saturating_mul(2) {
                tally.samples.push(Sample {
                    chunk,
                    row: p.row,
                    value: Some(p.raw.clone()),
                });
                sampled = true;
            }
        }
    }
    if sampled {
        tally.samples.sort_by_key(|s| s.row);
        tally.samples.truncate(limit);
    }
}

/// Runs `bad` over the text values of a UTF-8 chunk (either offset width).
fn scan_text(
    array: &dyn Array,
    limit: usize,
    mut bad: impl FnMut(&str) -> bool,
) -> Option<(u64, u64, Vec<usize>)> {
    match array.data_type().to_physical_type() {
        PhysicalType::Utf8 => {
            let a = types::utf8::<i32>(array);
            Some(scan(a.len(), a.validity(), limit, |i| bad(a.value(i))))
        }
        PhysicalType::LargeUtf8 => {
            let a = types::utf8::<i64>(array);
            Some(scan(a.len(), a.validity(), limit, |i| bad(a.value(i))))
        }
        _ => None,
    }
}

/// Runs `bad` over the rendered text of any chunk (the slow path for non-text types).
fn scan_rendered(
    array: &dyn Array,
    limit: usize,
    mut bad: impl FnMut(&str) -> bool,
) -> (u64, u64, Vec<usize>) {
    scan(array.len(), array.validity(), limit, |i| {
        bad(types::render(array, i).as_deref().unwrap_or_default())
    })
}

/// Lengths of the text of non-text values. Integers, booleans and timestamps get their
/// length by arithmetic — length checks run on every row, and building a `String` per
/// value made "not empty" on an integer column the slowest check of a suite; other types
/// are rendered.
fn scan_value_lengths(
    array: &dyn Array,
    limit: usize,
    ok: &dyn Fn(u64) -> bool,
) -> (u64, u64, Vec<usize>) {
    let temporal = matches!(array.data_type().to_logical_type(), DataType::Timestamp(..));
    // Shortest and longest text a value of the type can have: when the bounds hold all of
    // them ("not empty" on an integer column), no value can fail and nothing is scanned.
    let possible = match array.data_type().to_logical_type() {
        // 20 to 30 characters in four-digit years; wider so that other years stay exact.
        DataType::Timestamp(..) => Some((1, 64)),
        DataType::Boolean => Some((4, 5)),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => Some((1, 20)),
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => Some((1, 20)),
        _ => None,
    };
    if let Some((shortest, longest)) = possible {
        if ok(shortest) && ok(longest) {
            return (array.null_count() as u64, 0, Vec::new());
        }
    }
    let plain = !matches!(
        array.data_type().to_logical_type(),
        DataType::Date32
            | DataType::Date64
            | DataType::Time32(_)
            | DataType::Time64(_)
            | DataType::Duration(_)
            | DataType::Interval(_)
    );
    match types::Reader::new(array) {
        Some(reader) if plain => scan(array.len(), array.validity(), limit, |i| {
            let len = match reader.get(i) {
                Some(types::Scalar::Int(n)) if temporal => time::timestamp_text_len(n),
                Some(types::Scalar::Int(n)) => {
                    Some(u64::from(n < 0) + decimal_digits(n.unsigned_abs()))
                }
                Some(types::Scalar::Bool(b)) => Some(if b { 4 } else { 5 }),
                _ => None,
            };
            let len = len
                .unwrap_or_else(|| types::render(array, i).map_or(0, |s| s.chars().count() as u64));
            !ok(len)
        }),
        _ => scan_rendered(array, limit, |s| !ok(s.chars().count() as u64)),
    }
}

/// Number of decimal digits of `n` (1 for 0).
fn decimal_digits(n: u128) -> u64 {
    // 64-bit logarithm for the values columns hold; 128-bit division is slow.
    match u64::try_from(n) {
        Ok(v) => u64::from(v.checked_ilog10().unwrap_or(0)) + 1,
        Err(_) => u64::from(n.ilog10()) + 1,
    }
}

/// `expect_column_value_lengths_to_be_between`: length in characters; for non-text
/// columns, the length of the value's text; for values that could not be parsed, the
/// length of the raw text.
pub(crate) fn value_lengths(
    run: Run,
    ds: &Dataset,
    col: usize,
    min: Option<u64>,
    max: Option<u64>,
) -> Tally {
    let ok = move |n: u64| min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m);
    let problems = ds.problems(col);
    over_chunks(run, ds, |c, chunk| {
        let array = chunk.arrays()[col].as_ref();
        if classify(array.data_type()) == ColumnClass::Null {
            return all_missing(array);
        }
        let counts = match array.data_type().to_physical_type() {
            PhysicalType::Utf8 => {
                let a = types::utf8::<i32>(array);
                let offsets = a.offsets().buffer();
                let (first, last) = (offsets[0] as usize, offsets[offsets.len() - 1] as usize);
                // Byte length is the character count when the chunk is ASCII.
                if a.values()[first..last].is_ascii() {
                    scan(a.len(), a.validity(), run.limit, |i| {
                        !ok((offsets[i + 1] - offsets[i]) as u64)
                    })
                } else {
                    scan(a.len(), a.validity(), run.limit, |i| {
                        !ok(a.value(i).chars().count() as u64)
                    })
                }
            }
            PhysicalType::LargeUtf8 => {
                let a = types::utf8::<i64>(array);
                scan(a.len(), a.validity(), run.limit, |i| {
                    !ok(a.value(i).chars().count() as u64)
                })
            }
            _ => scan_value_lengths(array, run.limit, &ok),
        };
        let mut tally = chunk_tally(c, array, counts);
        // An unparsable value is measured as written (an empty raw value is empty).
        apply_problems(&mut tally, c, array, problems, run.limit, |raw| {
            Some(!ok(raw.chars().count() as u64))
        });
        tally
    })
}

/// Per-value test of `expect_column_values_to_be_of_type` for a column class.
enum TypeTest {
    /// Every value has the type.
    Always,
    /// No value has the type.
    Never,
    /// Floats: whole values are integers.
    WholeFloat,
    /// Text that parses as the type.
    Parse(ValueType),
}

/// `expect_column_values_to_be_of_type`: the column's own type decides, except that
/// text values are parsed and float values must be whole for `integer`; recorded type
/// problems are unexpected (not missing).
pub(crate) fn of_type(run: Run, ds: &Dataset, col: usize, type_: ValueType) -> Tally {
    let problems = ds.problems(col);
    let class = classify(&ds.schema().fields[col].data_type);
    let test = match (class, type_) {
        (ColumnClass::Text, ValueType::String)
        | (ColumnClass::Integer, ValueType::Integer | ValueType::Numeric)
        | (ColumnClass::Float, ValueType::Numeric)
        | (ColumnClass::Temporal, ValueType::Timestamp)
        | (ColumnClass::Boolean, ValueType::Boolean)
        | (ColumnClass::Null, _) => TypeTest::Always,
        (ColumnClass::Float, ValueType::Integer) => TypeTest::WholeFloat,
        (ColumnClass::Text, t) => TypeTest::Parse(t),
        _ => TypeTest::Never,
    };
    over_chunks(run, ds, |c, chunk| {
        let array = chunk.arrays()[col].as_ref();
        let mut tally = if class == ColumnClass::Null {
            all_missing(array)
        } else {
            let counts = match &test {
                TypeTest::Always => (array.null_count() as u64, 0, Vec::new()),
                TypeTest::Never => scan(array.len(), array.validity(), run.limit, |_| true),
                TypeTest::WholeFloat => {
                    let reader = types::Reader::new(array);
                    scan(
                        array.len(),
                        array.validity(),
                        run.limit,
                        |i| !matches!(reader.and_then(|r| r.get(i)), Some(types::Scalar::Float(f)) if f.fract() == 0.0),
                    )
                }
                TypeTest::Parse(t) => scan_text(array, run.limit, |s| !parses_as(s, *t))
                    .unwrap_or_else(|| scan(array.len(), array.validity(), run.limit, |_| true)),
            };
            chunk_tally(c, array, counts)
        };
        // Type problems: values present but unparsable. An empty raw value has no type
        // (emptiness is the length check's business), so it stays missing.
        apply_problems(&mut tally, c, array, problems, run.limit, |raw| {
            (!raw.is_empty()).then_some(true)
        });
        tally
    })
}

fn parses_as(text: &str, t: ValueType) -> bool {
    match t {
        ValueType::String => true,
        ValueType::Integer => types::parse_integer(text).is_some(),
        ValueType::Numeric => types::parse_number(text).is_some(),
        ValueType::Timestamp => time::parse_timestamp_nanos(text).is_some(),
        ValueType::Boolean => types::parse_bool(text).is_some(),
    }
}

/// A set that is a short list (compared linearly, faster for a few values) or a hash set.
enum SmallSet<T> {
    Few(Vec<T>),
    Many(FxHashSet<T>),
}

impl<T: Eq + std::hash::Hash + Copy> SmallSet<T> {
    fn new(values: impl IntoIterator<Item = T>) -> Self {
        let mut v: Vec<T> = Vec::new();
        for x in values {
            if !v.contains(&x) {
                v.push(x);
            }
        }
        if v.len() <= 8 {
            SmallSet::Few(v)
        } else {
            SmallSet::Many(v.into_iter().collect())
        }
    }

    #[inline]
    fn contains(&self, x: &T) -> bool {
        match self {
            SmallSet::Few(v) => v.iter().any(|y| y == x),
            SmallSet::Many(s) => s.contains(x),
        }
    }
}

/// Which side of a value set the values are expected on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetSide {
    /// `expect_column_values_to_be_in_set`: a value outside the set is unexpected.
    Inside,
    /// `expect_column_values_to_not_be_in_set`: a value in the set is unexpected.
    Outside,
}

/// `expect_column_values_to_be_in_set` and `…_to_not_be_in_set`: set values are converted
/// to the column's type once; each value is then a comparison or a hash lookup. A value
/// that cannot equal any set value (a NaN, a type the set has no value of) is outside.
pub(crate) fn in_set(
    run: Run,
    ds: &Dataset,
    col: usize,
    value_set: &[SetValue],
    side: SetSide,
) -> Tally {
    let bad = |contained: bool| contained == (side == SetSide::Outside);
    let data_type = ds.schema().fields[col].data_type().clone();
    let class = classify(&data_type);
    let mult = nanos_per_unit(&data_type);
    let texts: Vec<String> = value_set
        .iter()
        .map(|v| match v {
            SetValue::Str(s) => s.clone(),
            SetValue::Int(i) => i.to_string(),
            SetValue::Float(f) => f.to_string(),
            SetValue::Bool(b) => b.to_string(),
        })
        .collect();
    let ints: Vec<i128> = value_set
        .iter()
        .filter_map(|v| match (class, v) {
            (ColumnClass::Temporal, SetValue::Str(s)) => time::parse_timestamp_nanos(s),
            (ColumnClass::Temporal, SetValue::Int(i)) => Some(i128::from(*i) * mult),
            (_, SetValue::Int(i)) => Some(i128::from(*i)),
            (_, SetValue::Float(f)) if f.fract() == 0.0 => Some(*f as i128),
            (_, SetValue::Str(s)) => types::parse_integer(s),
            _ => None,
        })
        .collect();
    let floats: Vec<u64> = value_set
        .iter()
        .filter_map(|v| match v {
            SetValue::Int(i) => Some(*i as f64),
            SetValue::Float(f) => Some(*f),
            SetValue::Str(s) => types::parse_number(s),
            SetValue::Bool(_) => None,
        })
        .map(|f| (f + 0.0).to_bits())
        .collect();
    let bools: Vec<bool> = value_set
        .iter()
        .filter_map(|v| match v {
            SetValue::Bool(b) => Some(*b),
            SetValue::Str(s) => types::parse_bool(s),
            _ => None,
        })
        .collect();
    let text_set = SmallSet::new(texts.iter().map(String::as_str));
    let short_texts = ShortTexts::new(&texts);
    let int_set = SmallSet::new(ints);
    let float_set = SmallSet::new(floats);
    let (has_true, has_false) = (bools.contains(&true), bools.contains(&false));
    over_chunks(run, ds, |c, chunk| {
        let array = chunk.arrays()[col].as_ref();
        let counts = match class {
            ColumnClass::Null => return all_missing(array),
            ColumnClass::Text => short_texts
                .as_ref()
                .filter(|_| side == SetSide::Inside)
                .and_then(|short| short.scan_outside(array, run.limit))
                .or_else(|| scan_text(array, run.limit, |s| bad(text_set.contains(&s)))),
            ColumnClass::Integer | ColumnClass::Temporal => with_integers!(
                array,
                |a| {
                    let values = a.values();
                    Some(scan(a.len(), a.validity(), run.limit, |i| {
                        bad(int_set.contains(&(i128::from(values[i]) * mult)))
                    }))
                },
                None
            ),
            ColumnClass::Float => {
                let reader = types::Reader::new(array);
                Some(scan(
                    array.len(),
                    array.validity(),
                    run.limit,
                    |i| match reader.and_then(|r| r.get(i)) {
                        Some(types::Scalar::Float(f)) => {
                            bad(float_set.contains(&(f + 0.0).to_bits()))
                        }
                        _ => bad(false),
                    },
                ))
            }
            ColumnClass::Boolean => {
                let a = types::boolean(array);
                let values = a.values();
                Some(scan(a.len(), a.validity(), run.limit, |i| {
                    bad(if values.get_bit(i) {
                        has_true
                    } else {
                        has_false
                    })
                }))
            }
            ColumnClass::Other => None,
        };
        let counts = counts
            .unwrap_or_else(|| scan(array.len(), array.validity(), run.limit, |_| bad(false)));
        chunk_tally(c, array, counts)
    })
}

/// Inclusive integer bounds equivalent to the (possibly strict, possibly fractional)
/// bounds of a between check, for integer-valued data.
pub(crate) fn int_range(
    min: Option<&Bound>,
    max: Option<&Bound>,
    strict_min: bool,
    strict_max: bool,
    mult: i128,
) -> (i128, i128) {
    let lo = match min {
        None => i128::MIN,
        Some(Bound::Int(i)) => i128::from(*i) * mult + i128::from(strict_min),
        Some(Bound::Float(f)) => {
            let f = *f * mult as f64;
            if strict_min {
                f.floor() as i128 + 1
            } else {
                f.ceil() as i128
            }
        }
        Some(Bound::Timestamp { nanos, .. }) => nanos + i128::from(strict_min),
    };
    let hi = match max {
        None => i128::MAX,
        Some(Bound::Int(i)) => i128::from(*i) * mult - i128::from(strict_max),
        Some(Bound::Float(f)) => {
            let f = *f * mult as f64;
            if strict_max {
                f.ceil() as i128 - 1
            } else {
                f.floor() as i128
            }
        }
        Some(Bound::Timestamp { nanos, .. }) => nanos - i128::from(strict_max),
    };
    (lo, hi)
}

/// Float bounds with strictness; NaN is never within.
#[derive(Clone, Copy)]
pub(crate) struct FloatRange {
    lo: Option<f64>,
    hi: Option<f64>,
    strict_min: bool,
    strict_max: bool,
}

impl FloatRange {
    /// The range of a between check's bounds, as floats.
    pub(crate) fn new(
        min: Option<&Bound>,
        max: Option<&Bound>,
        strict_min: bool,
        strict_max: bool,
    ) -> FloatRange {
        FloatRange {
            lo: bound_f64(min),
            hi: bound_f64(max),
            strict_min,
            strict_max,
        }
    }

    #[inline]
    pub(crate) fn contains(&self, v: f64) -> bool {
        if v.is_nan() {
            return false;
        }
        let above = match self.lo {
            None => true,
            Some(lo) if self.strict_min => v > lo,
            Some(lo) => v >= lo,
        };
        let below = match self.hi {
            None => true,
            Some(hi) if self.strict_max => v < hi,
            Some(hi) => v <= hi,
        };
        above && below
    }
}

fn bound_f64(bound: Option<&Bound>) -> Option<f64> {
    bound.map(|b| match b {
        Bound::Int(i) => *i as f64,
        Bound::Float(f) => *f,
        Bound::Timestamp { nanos, .. } => *nanos as f64,
    })
}

/// `expect_column_values_to_be_between`: integers and temporal values compare exactly
/// (timestamps in nanoseconds), floats with strictness, text is parsed as a timestamp
/// (timestamp bounds) or a number (number bounds) and unparsable text is unexpected.
pub(crate) fn between(
    run: Run,
    ds: &Dataset,
    col: usize,
    min: Option<&Bound>,
    max: Option<&Bound>,
    strict_min: bool,
    strict_max: bool,
) -> Tally {
    let data_type = ds.schema().fields[col].data_type().clone();
    let class = classify(&data_type);
    let mult = nanos_per_unit(&data_type);
    let (lo, hi) = int_range(min, max, strict_min, strict_max, mult);
    let float_range = FloatRange::new(min, max, strict_min, strict_max);
    let timestamp_bounds = matches!(min, Some(Bound::Timestamp { .. }))
        || matches!(max, Some(Bound::Timestamp { .. }));
    // Text parsed as timestamps compares in nanoseconds.
    let (ts_lo, ts_hi) = int_range(min, max, strict_min, strict_max, 1);
    over_chunks(run, ds, |c, chunk| {
        let array = chunk.arrays()[col].as_ref();
        let counts = match class {
            ColumnClass::Null => return all_missing(array),
            ColumnClass::Integer | ColumnClass::Temporal => with_integers!(
                array,
                |a| {
                    let values = a.values();
                    Some(scan(a.len(), a.validity(), run.limit, |i| {
                        let v = i128::from(values[i]) * mult;
                        v < lo || v > hi
                    }))
                },
                None
            ),
            ColumnClass::Float => {
                let reader = types::Reader::new(array);
                Some(scan(
                    array.len(),
                    array.validity(),
                    run.limit,
                    |i| match reader.and_then(|r| r.get(i)) {
                        Some(types::Scalar::Float(f)) => !float_range.contains(f),
                        _ => true,
                    },
                ))
            }
            ColumnClass::Text if timestamp_bounds => scan_text(array, run.limit, |s| {
                time::parse_timestamp_nanos(s).is_none_or(|v| v < ts_lo || v > ts_hi)
            }),
            ColumnClass::Text => scan_text(array, run.limit, |s| {
                types::parse_number(s).is_none_or(|v| !float_range.contains(v))
            }),
            ColumnClass::Boolean | ColumnClass::Other => None,
        };
        let counts =
            counts.unwrap_or_else(|| scan(array.len(), array.validity(), run.limit, |_| true));
        chunk_tally(c, array, counts)
    })
}

/// Remembers the verdict of up to 1,024 distinct values, so that a low-cardinality
/// column (codes, stages, app types) runs the regex once per distinct value; a column
/// with more distinct values stops consulting the memo once it is full.
struct Memo<'a> {
    verdicts: FxHashMap<&'a str, bool>,
    full: bool,
}

impl<'a> Memo<'a> {
    const CAPACITY: usize = 1024;

    fn new() -> Self {
        Memo {
            verdicts: FxHashMap::default(),
            full: false,
        }
    }

    #[inline]
    fn bad(&mut self, value: &'a str, bad: &impl Fn(&str) -> bool) -> bool {
        if self.full {
            return bad(value);
        }
        if let Some(&verdict) = self.verdicts.get(value) {
            return verdict;
        }
        let verdict = bad(value);
        if self.verdicts.len() < Self::CAPACITY {
            self.verdicts.insert(value, verdict);
        } else {
            self.full = true;
        }
        verdict
    }
}

/// The regex expectations (`…_to_match_regex`, `…_to_not_match_regex` and their `_list`
/// forms): `bad` says from a value's text (the text of other values) whether it breaks
/// the expectation; it runs once per distinct value of a low-cardinality column.
pub(crate) fn match_regex(
    run: Run,
    ds: &Dataset,
    col: usize,
    bad: impl Fn(&str) -> bool + Sync,
) -> Tally {
    over_chunks(run, ds, |c, chunk| {
        let array = chunk.arrays()[col].as_ref();
        if classify(array.data_type()) == ColumnClass::Null {
            return all_missing(array);
        }
        let counts = match array.data_type().to_physical_type() {
            PhysicalType::Utf8 => {
                let a = types::utf8::<i32>(array);
                let mut memo = Memo::new();
                scan(a.len(), a.validity(), run.limit, |i| {
                    memo.bad(a.value(i), &bad)
                })
            }
            PhysicalType::LargeUtf8 => {
                let a = types::utf8::<i64>(array);
                let mut memo = Memo::new();
                scan(a.len(), a.validity(), run.limit, |i| {
                    memo.bad(a.value(i), &bad)
                })
            }
            _ => scan_rendered(array, run.limit, &bad),
        };
        chunk_tally(c, array, counts)
    })
}

#[cfg(test)]
mod tests {
    use arrow2::array::{Array, Int64Array, NullArray, PrimitiveArray, Utf8Array};
    use arrow2::datatypes::{DataType, TimeUnit};

    use crate::checks::fixtures::{
        bools, floats, ints, mostly_boundary, mostly_boundary_texts, strs,
    };
    use crate::checks::testing::{check, chunked, counts, table, values};
    use crate::dataset::{Location, TypeProblem};

    const NOT_NULL: &str = "expectation: expect_column_values_to_not_be_null, column: c";

    #[test]
    fn not_null_passes_without_nulls() {
        let t = table("t", vec![("c", ints(&[Some(1), Some(2)]))]);
        let r = check(NOT_NULL, &[&t]);
        assert!(r.success);
        assert_eq!(counts(&r), (2, 0, 0));
        assert_eq!(r.unexpected_percent, Some(0.0));
    }

    #[test]
    fn not_null_fails_on_null_with_its_location() {
        let t = chunked(
            "t",
            vec![
                vec![("c", strs(&[Some("a"), None]))],
                vec![("c", strs(&[None, Some("b")]))],
            ],
        );
        let r = check(NOT_NULL, &[&t]);
        assert!(!r.success);
        assert_eq!(counts(&r), (4, 2, 2));
        assert_eq!(
            r.unexpected_percent,
            Some(50.0),
            "over all rows for not-null"
        );
        assert_eq!(values(&r), ["null", "null"]);
        let records: Vec<Option<Location>> = r
            .partial_unexpected
            .iter()
            .map(|u| u.location.clone())
            .collect();
        assert_eq!(
            records,
            [2, 3].map(|record| Some(Location::Source {
                file: "t.csv".into(),
                record,
                line: None
            }))
        );
    }

    const BE_NULL: &str = "expectation: expect_column_values_to_be_null, column: c";

    #[test]
    fn be_null_counts_every_value_present_with_its_location() {
        let mut t = chunked(
            "t",
            vec![
                vec![("c", ints(&[None, Some(7), None]))],
                vec![("c", ints(&[None, None]))],
            ],
        );
        // A value the reader could not parse was there: it is unexpected, as its text.
        t.add_type_problem(TypeProblem {
            column: "c".into(),
            chunk: 1,
            row: 1,
            raw: "x1".into(),
        })
        .expect("in range");
        let r = check(BE_NULL, &[&t]);
        assert!(!r.success);
        assert_eq!(counts(&r), (5, 3, 2));
        assert_eq!(values(&r), ["7", "x1"]);
        assert_eq!(
            r.partial_unexpected[1].location,
            Some(Location::Source {
                file: "t.csv".into(),
                record: 5,
                line: None
            })
        );
        // `mostly` over all rows: 3 of 5 null.
        let r = check(&format!("{BE_NULL}, mostly: 0.6"), &[&t]);
        assert!(r.success);
        let r = check(&format!("{BE_NULL}, mostly: 0.61"), &[&t]);
        assert!(!r.success);
        let empty = table("t", vec![("c", ints(&[]))]);
        assert!(check(BE_NULL, &[&empty]).success, "an empty column passes");
        let nulls = table("t", vec![("c", NullArray::new(DataType::Null, 3).boxed())]);
        assert_eq!(counts(&check(BE_NULL, &[&nulls])), (3, 3, 0));
    }

    #[test]
    fn json_parseable_and_json_schema() {
        let t = table(
            "t",
            vec![(
                "c",
                strs(&[
                    Some(r#"{"id": 1}"#),
                    Some("[1, 2"),
                    None,
                    Some(r#"{"name": "x"}"#),
                    Some("3"),
                ]),
            )],
        );
        let r = check(
            "expectation: expect_column_values_to_be_json_parseable, column: c",
            &[&t],
        );
        assert_eq!(counts(&r), (5, 1, 1));
        assert_eq!(values(&r), ["[1, 2"]);
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let hostile = table("t", vec![("c", strs(&[Some(deep.as_str())]))]);
        let r = check(
            "expectation: expect_column_values_to_be_json_parseable, column: c",
            &[&hostile],
        );
        assert_eq!(
            r.unexpected_count, 1,
            "nesting past serde_json's limit is refused, not a crash"
        );
        let schema = "expectation: expect_column_values_to_match_json_schema, column: c, json_schema: {type: object, required: [id]}";
        let r = check(schema, &[&t]);
        // Not JSON, an object without `id`, a number: three of four non-null values.
        assert_eq!(counts(&r), (5, 1, 3));
        assert_eq!(values(&r), ["[1, 2", r#"{"name": "x"}"#, "3"]);
        assert!(check(&format!("{schema}, mostly: 0.25"), &[&t]).success);
        assert!(!check(&format!("{schema}, mostly: 0.26"), &[&t]).success);
        let empty = table("t", vec![("c", strs(&[]))]);
        assert!(check(schema, &[&empty]).success);
    }

    #[test]
    fn the_proportion_of_non_null_values() {
        let t = table("t", vec![("c", strs(&[Some("a"), None, Some("b"), None]))]);
        let run = |bounds: &str| {
            check(
                &format!("expectation: expect_column_proportion_of_non_null_values_to_be_between, column: c, {bounds}"),
                &[&t],
            )
        };
        let r = run("min_value: 0.5");
        assert!(r.success);
        assert_eq!(r.observed_value, Some(serde_json::json!(0.5)));
        assert!(!run("min_value: 0.5, strict_min: true").success);
        assert!(!run("max_value: 0.4").success);
        let empty = table("t", vec![("c", strs(&[]))]);
        let r = check(
            "expectation: expect_column_proportion_of_non_null_values_to_be_between, column: c, min_value: 1",
            &[&empty],
        );
        assert!(
            r.success && r.skipped.is_some(),
            "an empty table passes vacuously"
        );
    }

    #[test]
    fn not_null_ignores_unparsable_values() {
        let mut t = table("t", vec![("c", ints(&[Some(1), None, None]))]);
        t.add_type_problem(TypeProblem {
            column: "c".into(),
            chunk: 0,
            row: 1,
            raw: "abc".into(),
        })
        .expect("in range");
        let r = check(NOT_NULL, &[&t]);
        assert_eq!(counts(&r), (3, 1, 1), "the raw value was there");
        assert_eq!(
            r.partial_unexpected[0].location,
            Some(Location::Source {
                file: "t.csv".into(),
                record: 3,
                line: None
            })
        );
    }

    #[test]
    fn not_null_on_empty_and_null_typed_columns() {
        let empty = table("t", vec![("c", ints(&[]))]);
        let r = check(NOT_NULL, &[&empty]);
        assert!(r.success);
        assert_eq!((counts(&r), r.unexpected_percent), ((0, 0, 0), None));
        let nulls = table("t", vec![("c", NullArray::new(DataType::Null, 2).boxed())]);
        assert_eq!(counts(&check(NOT_NULL, &[&nulls])), (2, 2, 2));
    }

    #[test]
    fn not_null_mostly_boundary() {
        mostly_boundary(NOT_NULL, |bad| {
            ints(
                &(0..100)
                    .map(|i| (i >= bad).then_some(i as i64))
                    .collect::<Vec<_>>(),
            )
        });
    }

    const NOT_EMPTY: &str =
        "expectation: expect_column_value_lengths_to_be_between, column: c, min_value: 1";

    #[test]
    fn lengths_pass_fail_and_skip_nulls() {
        let t = table("t", vec![("c", strs(&[Some("a"), Some("bc"), None]))]);
        let r = check(NOT_EMPTY, &[&t]);
        assert!(r.success);
        assert_eq!(counts(&r), (3, 1, 0));
        let t = table("t", vec![("c", strs(&[Some(""), Some("x"), None]))]);
        let r = check(NOT_EMPTY, &[&t]);
        assert!(!r.success);
        assert_eq!(counts(&r), (3, 1, 1));
        assert_eq!(r.unexpected_percent, Some(50.0), "over non-null values");
        assert_eq!(values(&r), [""]);
    }

    #[test]
    fn lengths_count_characters_and_render_numbers() {
        let t = table("t", vec![("c", strs(&[Some("é"), Some("ab")]))]);
        let r = check(
            "expectation: expect_column_value_lengths_to_be_between, column: c, max_value: 1",
            &[&t],
        );
        assert_eq!(values(&r), ["ab"]);
        let large = Utf8Array::<i64>::from([Some("héllo"), Some("hi")]).boxed();
        let t = table("t", vec![("c", large)]);
        let r = check("expectation: expect_column_value_lengths_to_be_between, column: c, min_value: 3, max_value: 5", &[&t]);
        assert_eq!(values(&r), ["hi"]);
        let t = table("t", vec![("c", ints(&[Some(5), Some(12345)]))]);
        let r = check(
            "expectation: expect_column_value_lengths_to_be_between, column: c, max_value: 3",
            &[&t],
        );
        assert_eq!(values(&r), ["12345"]);
    }

    #[test]
    fn not_empty_and_longer_bounds_on_multibyte_text() {
        let t = table(
            "t",
            vec![("c", strs(&[Some("é"), Some(""), Some("ßé"), None]))],
        );
        let r = check(NOT_EMPTY, &[&t]);
        assert_eq!((counts(&r), values(&r)), ((4, 1, 1), vec![String::new()]));
        // A bound above one counts characters: "é" is one, though two bytes.
        let r = check(
            "expectation: expect_column_value_lengths_to_be_between, column: c, min_value: 2",
            &[&t],
        );
        assert_eq!(values(&r), ["é", ""]);
    }

    #[test]
    fn lengths_measure_the_raw_text_of_unparsable_values() {
        let mut t = table("t", vec![("c", ints(&[Some(1), None, None, None]))]);
        for (row, raw) in [(1, ""), (2, "abc")] {
            t.add_type_problem(TypeProblem {
                column: "c".into(),
                chunk: 0,
                row,
                raw: raw.into(),
            })
            .expect("in range");
        }
        let r = check(NOT_EMPTY, &[&t]);
        assert_eq!(
            counts(&r),
            (4, 1, 1),
            "the empty raw value is unexpected, the real null missing"
        );
        assert_eq!(values(&r), [""]);
        assert_eq!(
            r.partial_unexpected[0].location,
            Some(Location::Source {
                file: "t.csv".into(),
                record: 2,
                line: None
            })
        );
    }

    #[test]
    fn lengths_on_empty_input_and_mostly_boundary() {
        let t = table("t", vec![("c", strs(&[]))]);
        assert!(check(NOT_EMPTY, &[&t]).success);
        mostly_boundary_texts(NOT_EMPTY, "", "x");
    }

    #[test]
    fn of_type_accepts_the_column_type_and_counts_type_problems() {
        let t = table("t", vec![("c", strs(&[Some("a"), None]))]);
        let r = check(
            "expectation: expect_column_values_to_be_of_type, column: c, type_: string",
            &[&t],
        );
        assert!(r.success);
        assert_eq!(counts(&r), (2, 1, 0));
        let mut t = table("t", vec![("c", ints(&[Some(1), None, None, Some(4)]))]);
        for (row, raw) in [(2, "x2"), (1, "x1")] {
            t.add_type_problem(TypeProblem {
                column: "c".into(),
                chunk: 0,
                row,
                raw: raw.into(),
            })
            .expect("in range");
        }
        let r = check(
            "expectation: expect_column_values_to_be_of_type, column: c, type_: integer",
            &[&t],
        );
        assert!(!r.success);
        assert_eq!(
            counts(&r),
            (4, 0, 2),
            "unparsable values are unexpected, not missing"
        );
        assert_eq!(values(&r), ["x1", "x2"]);
        assert_eq!(r.unexpected_percent, Some(50.0));
    }

    #[test]
    fn of_type_leaves_empty_raw_values_to_the_length_check() {
        let mut t = table("t", vec![("c", ints(&[Some(1), None, None]))]);
        for (row, raw) in [(1, ""), (2, "x")] {
            t.add_type_problem(TypeProblem {
                column: "c".into(),
                chunk: 0,
                row,
                raw: raw.into(),
            })
            .expect("in range");
        }
        let r = check(
            "expectation: expect_column_values_to_be_of_type, column: c, type_: integer",
            &[&t],
        );
        assert_eq!(
            counts(&r),
            (3, 1, 1),
            "an empty raw value has no type: missing"
        );
        assert_eq!(values(&r), ["x"]);
    }

    #[test]
    fn of_type_parses_text_values() {
        let t = table(
            "t",
            vec![(
                "c",
                strs(&[Some("1"), Some("x"), Some("-3"), None, Some("1.5")]),
            )],
        );
        let r = check(
            "expectation: expect_column_values_to_be_of_type, column: c, type_: integer",
            &[&t],
        );
        assert_eq!(
            (counts(&r), values(&r)),
            ((5, 1, 2), vec!["x".to_string(), "1.5".to_string()])
        );
        let r = check(
            "expectation: expect_column_values_to_be_of_type, column: c, type_: numeric",
            &[&t],
        );
        assert_eq!(values(&r), ["x"]);
        let t = table(
            "t",
            vec![(
                "c",
                strs(&[Some("2024-01-01T10:00:00Z"), Some("yesterday")]),
            )],
        );
        let r = check(
            "expectation: expect_column_values_to_be_of_type, column: c, type_: timestamp",
            &[&t],
        );
        assert_eq!(values(&r), ["yesterday"]);
        let t = table("t", vec![("c", strs(&[Some("TRUE"), Some("no")]))]);
        let r = check(
            "expectation: expect_column_values_to_be_of_type, column: c, type_: boolean",
            &[&t],
        );
        assert_eq!(values(&r), ["no"]);
    }

    #[test]
    fn of_type_on_other_column_types() {
        let t = table("t", vec![("c", floats(&[Some(1.0), Some(1.5), None]))]);
        let r = check(
            "expectation: expect_column_values_to_be_of_type, column: c, type_: integer",
            &[&t],
        );
        assert_eq!(values(&r), ["1.5"]);
        assert!(
            check(
                "expectation: expect_column_values_to_be_of_type, column: c, type_: numeric",
                &[&t]
            )
            .success
        );
        let t = table("t", vec![("c", ints(&[Some(1), Some(2)]))]);
        let r = check(
            "expectation: expect_column_values_to_be_of_type, column: c, type_: string",
            &[&t],
        );
        assert_eq!(counts(&r), (2, 0, 2));
        let ts = PrimitiveArray::<i64>::from([Some(0)]).to(DataType::Timestamp(
            TimeUnit::Microsecond,
            Some("UTC".into()),
        ));
        let t = table("t", vec![("c", ts.boxed())]);
        assert!(
            check(
                "expectation: expect_column_values_to_be_of_type, column: c, type_: timestamp",
                &[&t]
            )
            .success
        );
        let t = table("t", vec![("c", bools(&[Some(true)]))]);
        assert!(
            check(
                "expectation: expect_column_values_to_be_of_type, column: c, type_: boolean",
                &[&t]
            )
            .success
        );
    }

    #[test]
    fn of_type_on_empty_input_and_mostly_boundary() {
        let t = table("t", vec![("c", strs(&[]))]);
        assert!(
            check(
                "expectation: expect_column_values_to_be_of_type, column: c, type_: integer",
                &[&t]
            )
            .success
        );
        mostly_boundary_texts(
            "expectation: expect_column_values_to_be_of_type, column: c, type_: integer",
            "x",
            "7",
        );
    }

    const CITY_IN_SET: &str =
        "expectation: expect_column_values_to_be_in_set, column: c, value_set: [BCN, MAD, LIS]";

    proptest::proptest! {
        /// The short-text fast paths (a table by length and first byte, 16-byte loads
        /// masked to the value) agree with plain string comparison: values of every
        /// length around 16, sharing lengths and first bytes, at the end of the buffer,
        /// with and without nulls.
        #[test]
        fn in_set_on_short_texts_agrees_with_string_compare(
            set in proptest::collection::vec("[AB]{0,3}[a-c]{0,15}", 1..10),
            data in proptest::collection::vec(proptest::option::weighted(0.9, "[AB]{0,3}[a-c]{0,15}"), 0..60),
        ) {
            let quoted: Vec<String> = set.iter().map(|v| format!("'{v}'")).collect();
            let body = format!(
                "expectation: expect_column_values_to_be_in_set, column: c, value_set: [{}]",
                quoted.join(", ")
            );
            let column: Vec<Option<&str>> = data.iter().map(|v| v.as_deref()).collect();
            let t = table("t", vec![("c", strs(&column))]);
            let r = check(&body, &[&t]);
            let outside: Vec<String> = data
                .iter()
                .flatten()
                .filter(|v| !set.contains(v))
                .cloned()
                .collect();
            proptest::prop_assert_eq!(r.unexpected_count, outside.len() as u64);
            proptest::prop_assert_eq!(
                r.missing_count,
                data.iter().filter(|v| v.is_none()).count() as u64
            );
            let shown: Vec<String> = outside.into_iter().take(20).collect();
            proptest::prop_assert_eq!(values(&r), shown);
        }
    }

    #[test]
    fn in_set_passes_fails_and_skips_nulls() {
        let t = table("t", vec![("c", strs(&[Some("BCN"), Some("LIS"), None]))]);
        let r = check(CITY_IN_SET, &[&t]);
        assert!(r.success);
        assert_eq!(counts(&r), (3, 1, 0));
        let t = table(
            "t",
            vec![("c", strs(&[Some("BCN"), Some("bcn"), None, Some("")]))],
        );
        let r = check(CITY_IN_SET, &[&t]);
        assert!(!r.success);
        assert_eq!(counts(&r), (4, 1, 2));
        assert_eq!(values(&r), ["bcn", ""]);
    }

    #[test]
    fn in_set_with_many_values_and_other_types() {
        let set: Vec<String> = (0..20).map(|i| format!("v{i}")).collect();
        let body = format!(
            "expectation: expect_column_values_to_be_in_set, column: c, value_set: [{}]",
            set.join(", ")
        );
        let t = table("t", vec![("c", strs(&[Some("v19"), Some("v20")]))]);
        assert_eq!(values(&check(&body, &[&t])), ["v20"]);
        let t = table("t", vec![("c", ints(&[Some(1), Some(2), Some(3)]))]);
        let r = check(
            "expectation: expect_column_values_to_be_in_set, column: c, value_set: [1, \"2\", 4.0]",
            &[&t],
        );
        assert_eq!(values(&r), ["3"]);
        let t = table(
            "t",
            vec![("c", floats(&[Some(0.5), Some(2.0), Some(f64::NAN)]))],
        );
        let r = check(
            "expectation: expect_column_values_to_be_in_set, column: c, value_set: [0.5, 2]",
            &[&t],
        );
        assert_eq!(values(&r), ["NaN"]);
        let t = table("t", vec![("c", bools(&[Some(true), Some(false)]))]);
        let r = check(
            "expectation: expect_column_values_to_be_in_set, column: c, value_set: [true]",
            &[&t],
        );
        assert_eq!(values(&r), ["false"]);
        let ts = PrimitiveArray::<i64>::from([Some(0), Some(1_000_000)])
            .to(DataType::Timestamp(TimeUnit::Microsecond, None));
        let t = table("t", vec![("c", ts.boxed())]);
        let r = check("expectation: expect_column_values_to_be_in_set, column: c, value_set: [\"1970-01-01T00:00:00Z\"]", &[&t]);
        assert_eq!(values(&r), ["1970-01-01T00:00:01Z"]);
    }

    #[test]
    fn in_set_on_empty_input_and_mostly_boundary() {
        let t = table("t", vec![("c", strs(&[]))]);
        assert!(check(CITY_IN_SET, &[&t]).success);
        mostly_boundary_texts(CITY_IN_SET, "XXX", "MAD");
    }

    const CITY_NOT_IN_SET: &str =
        "expectation: expect_column_values_to_not_be_in_set, column: c, value_set: [XXX, \"\"]";

    #[test]
    fn not_in_set_passes_fails_and_skips_nulls() {
        let t = table("t", vec![("c", strs(&[Some("BCN"), Some("xxx"), None]))]);
        let r = check(CITY_NOT_IN_SET, &[&t]);
        assert!(r.success);
        assert_eq!(counts(&r), (3, 1, 0));
        let t = table(
            "t",
            vec![(
                "c",
                strs(&[Some("XXX"), Some("BCN"), None, Some(""), Some("XXX")]),
            )],
        );
        let r = check(CITY_NOT_IN_SET, &[&t]);
        assert!(!r.success);
        assert_eq!(counts(&r), (5, 1, 3));
        assert_eq!(values(&r), ["XXX", "", "XXX"]);
    }

    /// On every column type a set splits the non-null values: `…_to_not_be_in_set` finds
    /// the ones in it, `…_to_be_in_set` all the others (a NaN equals nothing, so it is
    /// never in a set).
    #[test]
    fn not_in_set_finds_what_in_set_does_not_on_every_type() {
        let ts = PrimitiveArray::<i64>::from([Some(0), Some(1_000_000)])
            .to(DataType::Timestamp(TimeUnit::Microsecond, None));
        let cases: Vec<(Box<dyn Array>, &str, Vec<&str>)> = vec![
            (
                ints(&[Some(1), Some(2), Some(3), None]),
                "[1, \"2\", 4.0]",
                vec!["1", "2"],
            ),
            (
                floats(&[Some(0.5), Some(2.0), Some(f64::NAN)]),
                "[0.5]",
                vec!["0.5"],
            ),
            (
                bools(&[Some(true), Some(false), Some(true)]),
                "[false]",
                vec!["false"],
            ),
            (
                ts.boxed(),
                "[\"1970-01-01T00:00:00Z\"]",
                vec!["1970-01-01T00:00:00Z"],
            ),
            (
                strs(&[Some("a"), Some("b"), None, Some("b")]),
                "[b]",
                vec!["b", "b"],
            ),
        ];
        for (column, set, inside) in cases {
            let t = table("t", vec![("c", column)]);
            let body = |name: &str| format!("expectation: {name}, column: c, value_set: {set}");
            let not_in = check(&body("expect_column_values_to_not_be_in_set"), &[&t]);
            let within = check(&body("expect_column_values_to_be_in_set"), &[&t]);
            assert_eq!(values(&not_in), inside, "{set}");
            let (elements, missing, _) = counts(&not_in);
            assert_eq!(
                not_in.unexpected_count + within.unexpected_count,
                elements - missing,
                "{set}"
            );
        }
    }

    #[test]
    fn not_in_set_on_empty_input_and_mostly_boundary() {
        let t = table("t", vec![("c", strs(&[]))]);
        assert!(check(CITY_NOT_IN_SET, &[&t]).success);
        let t = table("t", vec![("c", strs(&[None, None]))]);
        assert!(check(CITY_NOT_IN_SET, &[&t]).success);
        mostly_boundary_texts(CITY_NOT_IN_SET, "XXX", "MAD");
    }

    const POSITIVE: &str =
        "expectation: expect_column_values_to_be_between, column: c, min_value: 0";

    #[test]
    fn between_integers_with_strict_and_fractional_bounds() {
        let t = table("t", vec![("c", ints(&[Some(-1), Some(0), Some(5), None]))]);
        let r = check(POSITIVE, &[&t]);
        assert_eq!(
            (counts(&r), values(&r)),
            ((4, 1, 1), vec!["-1".to_string()])
        );
        let r = check(&format!("{POSITIVE}, strict_min: true"), &[&t]);
        assert_eq!(values(&r), ["-1", "0"]);
        let r = check("expectation: expect_column_values_to_be_between, column: c, min_value: -0.5, max_value: 4.5", &[&t]);
        assert_eq!(values(&r), ["-1", "5"]);
        let r = check("expectation: expect_column_values_to_be_between, column: c, max_value: 5, strict_max: true", &[&t]);
        assert_eq!(values(&r), ["5"]);
        let t = table("t", vec![("c", ints(&[Some(0), Some(5)]))]);
        assert!(check(POSITIVE, &[&t]).success);
    }

    #[test]
    fn between_floats_treats_nan_as_unexpected() {
        let t = table(
            "t",
            vec![("c", floats(&[Some(0.0), Some(1.0), Some(f64::NAN), None]))],
        );
        let r = check("expectation: expect_column_values_to_be_between, column: c, min_value: 0, max_value: 1, strict_max: true", &[&t]);
        assert_eq!(
            (counts(&r), values(&r)),
            ((4, 1, 2), vec!["1".to_string(), "NaN".to_string()])
        );
    }

    #[test]
    fn between_timestamps_with_rfc3339_bounds() {
        let micros = |s: &str| crate::time::parse_timestamp_nanos(s).map(|n| (n / 1000) as i64);
        let ts = PrimitiveArray::<i64>::from([
            micros("2019-08-19T07:59:59.999999Z"),
            micros("2019-08-19T08:00:00Z"),
            micros("2019-08-20T00:00:00Z"),
            None,
        ])
        .to(DataType::Timestamp(
            TimeUnit::Microsecond,
            Some("UTC".into()),
        ));
        let t = table("t", vec![("c", ts.boxed())]);
        let body = "expectation: expect_column_values_to_be_between, column: c, min_value: \"2019-08-19T10:00:00+02:00\", max_value: \"2019-08-20T00:00:00Z\"";
        let r = check(body, &[&t]);
        assert_eq!(
            (counts(&r), values(&r)),
            ((4, 1, 1), vec!["2019-08-19T07:59:59.999999Z".to_string()])
        );
        let r = check(&format!("{body}, strict_max: true"), &[&t]);
        assert_eq!(
            values(&r),
            ["2019-08-19T07:59:59.999999Z", "2019-08-20T00:00:00Z"]
        );
        let t = table(
            "t",
            vec![(
                "c",
                strs(&[
                    Some("2019-08-19T09:00:00Z"),
                    Some("soon"),
                    Some("2030-01-01T00:00:00Z"),
                ]),
            )],
        );
        let r = check(body, &[&t]);
        assert_eq!(values(&r), ["soon", "2030-01-01T00:00:00Z"]);
    }

    #[test]
    fn between_on_empty_input_and_mostly_boundary() {
        let t = table("t", vec![("c", ints(&[]))]);
        assert!(check(POSITIVE, &[&t]).success);
        mostly_boundary(POSITIVE, |bad| {
            ints(
                &(0..100)
                    .map(|i| Some(if i < bad { -1 } else { i as i64 }))
                    .collect::<Vec<_>>(),
            )
        });
    }

    const UPPER3: &str =
        "expectation: expect_column_values_to_match_regex, column: c, regex: \"^[A-Z]{3}$\"";

    #[test]
    fn regex_passes_fails_and_skips_nulls() {
        let t = table("t", vec![("c", strs(&[Some("BCN"), None]))]);
        let r = check(UPPER3, &[&t]);
        assert!(r.success);
        assert_eq!(counts(&r), (2, 1, 0));
        let t = table(
            "t",
            vec![("c", strs(&[Some("BCN"), Some("bcn"), Some("BCNX")]))],
        );
        assert_eq!(values(&check(UPPER3, &[&t])), ["bcn", "BCNX"]);
        let t = table(
            "t",
            vec![("c", Int64Array::from_slice([123, 1234]).boxed())],
        );
        let r = check(
            "expectation: expect_column_values_to_match_regex, column: c, regex: '^\\d{3}$'",
            &[&t],
        );
        assert_eq!(values(&r), ["1234"]);
    }

    #[test]
    fn regex_on_many_distinct_values() {
        let values: Vec<String> = (0..3000)
            .map(|i| {
                if i % 1000 == 999 {
                    format!("x{i}")
                } else {
                    format!("{i}")
                }
            })
            .collect();
        let column: Vec<Option<&str>> = values.iter().map(|v| Some(v.as_str())).collect();
        let t = table("t", vec![("c", strs(&column))]);
        let r = check(
            "expectation: expect_column_values_to_match_regex, column: c, regex: '^\\d+$'",
            &[&t],
        );
        assert_eq!(values_of(&r), ["x999", "x1999", "x2999"]);
    }

    fn values_of(r: &crate::result::ExpectationResult) -> Vec<String> {
        values(r)
    }

    const NO_DIGITS: &str =
        "expectation: expect_column_values_to_not_match_regex, column: c, regex: \"[0-9]\"";

    #[test]
    fn not_match_regex_passes_fails_and_skips_nulls() {
        let t = table("t", vec![("c", strs(&[Some("BCN"), None, Some("")]))]);
        let r = check(NO_DIGITS, &[&t]);
        assert!(r.success);
        assert_eq!(counts(&r), (3, 1, 0));
        let t = table(
            "t",
            vec![(
                "c",
                strs(&[Some("BCN1"), Some("bcn"), Some("7"), Some("7")]),
            )],
        );
        let r = check(NO_DIGITS, &[&t]);
        assert_eq!(
            (counts(&r), values(&r)),
            (
                (4, 0, 3),
                vec!["BCN1".to_string(), "7".to_string(), "7".to_string()]
            )
        );
    }

    /// Other types are matched on their text, and a regex splits the non-null values:
    /// `…_to_not_match_regex` finds those `…_to_match_regex` passes.
    #[test]
    fn not_match_regex_finds_what_match_regex_passes_on_other_types() {
        let cases: Vec<(Box<dyn Array>, &str, Vec<&str>)> = vec![
            (
                Int64Array::from_slice([123, 1234]).boxed(),
                "'^\\d{3}$'",
                vec!["123"],
            ),
            (
                floats(&[Some(0.5), None, Some(2.0)]),
                "'\\.5$'",
                vec!["0.5"],
            ),
            (bools(&[Some(true), Some(false)]), "^t", vec!["true"]),
        ];
        for (column, regex, matching) in cases {
            let t = table("t", vec![("c", column)]);
            let body = |name: &str| format!("expectation: {name}, column: c, regex: {regex}");
            let not_match = check(&body("expect_column_values_to_not_match_regex"), &[&t]);
            let must_match = check(&body("expect_column_values_to_match_regex"), &[&t]);
            assert_eq!(values(&not_match), matching, "{regex}");
            let (elements, missing, _) = counts(&not_match);
            assert_eq!(
                not_match.unexpected_count + must_match.unexpected_count,
                elements - missing,
                "{regex}"
            );
        }
    }

    #[test]
    fn not_match_regex_on_empty_input_and_mostly_boundary() {
        let t = table("t", vec![("c", strs(&[]))]);
        assert!(check(NO_DIGITS, &[&t]).success);
        mostly_boundary_texts(NO_DIGITS, "x1", "MAD");
    }

    const CODE_OR_NUMBER: &str = "expectation: expect_column_values_to_match_regex_list, column: c, regex_list: [\"^[A-Z]{3}$\", \"^[0-9]+$\"]";

    #[test]
    fn regex_list_any_all_and_none() {
        let t = table(
            "t",
            vec![(
                "c",
                strs(&[Some("BCN"), Some("42"), Some("bcn"), None, Some("B4")]),
            )],
        );
        let r = check(CODE_OR_NUMBER, &[&t]);
        assert_eq!(
            (counts(&r), values(&r)),
            ((5, 1, 2), vec!["bcn".to_string(), "B4".to_string()])
        );
        // all: a value must match every expression.
        let r = check(
            "expectation: expect_column_values_to_match_regex_list, column: c, regex_list: [\"[A-Z]\", \"[0-9]\"], match_on: all",
            &[&t],
        );
        assert_eq!(values(&r), ["BCN", "42", "bcn"]);
        // not: a value matching any expression is unexpected.
        let r = check(
            "expectation: expect_column_values_to_not_match_regex_list, column: c, regex_list: [\"^[0-9]+$\", \"[a-z]\"]",
            &[&t],
        );
        assert_eq!(values(&r), ["42", "bcn"]);
        let ints_t = table("t", vec![("c", Int64Array::from_slice([7, 70]).boxed())]);
        let r = check(
            "expectation: expect_column_values_to_not_match_regex_list, column: c, regex_list: [\"^7$\"]",
            &[&ints_t],
        );
        assert_eq!(values(&r), ["7"]);
    }

    #[test]
    fn regex_lists_on_empty_input_and_mostly_boundary() {
        let t = table("t", vec![("c", strs(&[]))]);
        assert!(check(CODE_OR_NUMBER, &[&t]).success);
        let none =
            "expectation: expect_column_values_to_not_match_regex_list, column: c, regex_list: [x]";
        assert!(check(none, &[&t]).success);
        mostly_boundary_texts(CODE_OR_NUMBER, "x", "MAD");
        mostly_boundary_texts(none, "x", "MAD");
    }

    #[test]
    fn strftime_formats_per_value_with_nulls_and_mostly() {
        let body = "expectation: expect_column_values_to_match_strftime_format, column: c, strftime_format: \"%d/%m/%Y\"";
        let t = table(
            "t",
            vec![(
                "c",
                strs(&[
                    Some("31/01/2024"),
                    Some("2024-01-31"),
                    None,
                    Some("30/02/2024"),
                ]),
            )],
        );
        let r = check(body, &[&t]);
        assert_eq!(counts(&r), (4, 1, 2));
        assert_eq!(values(&r), ["2024-01-31", "30/02/2024"]);
        mostly_boundary_texts(body, "1/1/24x", "01/01/2024");
        let empty = table("t", vec![("c", strs(&[None]))]);
        assert!(check(body, &[&empty]).success, "nulls pass vacuously");
    }

    #[test]
    fn value_lengths_equal_in_characters() {
        let body = "expectation: expect_column_value_lengths_to_equal, column: c, value: 3";
        let t = table(
            "t",
            vec![(
                "c",
                strs(&[Some("BCN"), Some("Zür"), Some("MADR"), None, Some("")]),
            )],
        );
        let r = check(body, &[&t]);
        assert_eq!(counts(&r), (5, 1, 2), "characters, not bytes");
        assert_eq!(values(&r), ["MADR", ""]);
        mostly_boundary_texts(body, "LONGER", "abc");
    }

    #[test]
    fn regex_on_empty_input_and_mostly_boundary() {
        let t = table("t", vec![("c", strs(&[]))]);
        assert!(check(UPPER3, &[&t]).success);
        mostly_boundary_texts(UPPER3, "x", "MAD");
    }
}
