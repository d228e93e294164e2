//! Column aggregates, Great Expectations' column metric expectations: min, max, mean,
//! median, sum and standard deviation within bounds, the count and proportion of
//! distinct values, the distinct values against a set, the most common value. Each
//! observes one value over the column's non-null values (GX's `observed_value`); a
//! statistic that no value defines (the min of an empty column, the deviation of one
//! value) passes vacuously, saying why.

use arrow2::array::{Array, PrimitiveArray, Utf8Array};
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::{json, Value};

use super::column::{int_range, FloatRange};
use super::table::Observed;
use super::{all_missing, chunk_tally, over_chunks, scan, Run, Tally};
use crate::dataset::Dataset;
use crate::suite::{Bound, QuantileRanges, SetRelation, SetValue, Statistic};
use crate::time;
use crate::types::{self, classify, nanos_per_unit, ColumnClass, Key, Reader, Scalar};

/// A statistic's value: exact for integers (and instants, in nanoseconds), else a float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Int(i128),
    Float(f64),
}

/// The bounds of an aggregate expectation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds<'a> {
    pub min: Option<&'a Bound>,
    pub max: Option<&'a Bound>,
    pub strict_min: bool,
    pub strict_max: bool,
}

impl<'a> Bounds<'a> {
    /// The bounds as an expectation holds them.
    pub(crate) fn new(
        min: &'a Option<Bound>,
        max: &'a Option<Bound>,
        strict_min: bool,
        strict_max: bool,
    ) -> Bounds<'a> {
        Bounds {
            min: min.as_ref(),
            max: max.as_ref(),
            strict_min,
            strict_max,
        }
    }

    /// Whether `value` is within; integers compare exactly (in the column's raw units
    /// times `mult`, as `expect_column_values_to_be_between` does).
    fn contain(&self, value: Number, mult: i128) -> bool {
        match value {
            Number::Int(v) => {
                let (lo, hi) =
                    int_range(self.min, self.max, self.strict_min, self.strict_max, mult);
                (lo..=hi).contains(&v)
            }
            Number::Float(v) => {
                FloatRange::new(self.min, self.max, self.strict_min, self.strict_max).contains(v)
            }
        }
    }
}

/// Runs `f` over every chunk's array of column `col` in parallel and merges in order.
fn fold_chunks<T: Send>(
    run: Run,
    ds: &Dataset,
    col: usize,
    f: impl Fn(&dyn Array) -> T + Sync,
    merge: impl Fn(T, T) -> T + Sync,
    empty: impl Fn() -> T + Sync,
) -> T {
    let arrays: Vec<&dyn Array> = ds
        .chunks()
        .iter()
        .map(|c| c.arrays()[col].as_ref())
        .collect();
    if run.parallel && arrays.len() > 1 {
        arrays.par_iter().map(|a| f(*a)).reduce(&empty, &merge)
    } else {
        arrays.iter().fold(empty(), |acc, a| merge(acc, f(*a)))
    }
}

/// Calls `int` or `float` with each non-null value of `array` (NaN left out, as pandas
/// and SQL engines leave it out of aggregates); instants in nanoseconds.
fn for_each_number(array: &dyn Array, mut int: impl FnMut(i128), mut float: impl FnMut(f64)) {
    let mult = nanos_per_unit(array.data_type());
    let done = types::with_integers!(
        array,
        |a| {
            match a.validity() {
                None => a.values().iter().for_each(|v| int(i128::from(*v) * mult)),
                Some(valid) => {
                    for (v, present) in a.values().iter().zip(valid.iter()) {
                        if present {
                            int(i128::from(*v) * mult);
                        }
                    }
                }
            }
            true
        },
        false
    );
    if done {
        return;
    }
    if let Some(reader) = Reader::new(array) {
        for i in 0..reader.len() {
            match reader.get(i) {
                Some(Scalar::Float(f)) if !f.is_nan() => float(f),
                Some(Scalar::Int(v)) => int(v),
                _ => {}
            }
        }
    }
}

/// Min and max (ints and floats apart), count, exact integer sum, compensated float sum.
#[derive(Debug, Clone, Copy, Default)]
struct Moments {
    count: u64,
    int_min: Option<i128>,
    int_max: Option<i128>,
    float_min: Option<f64>,
    float_max: Option<f64>,
    int_sum: i128,
    float_sum: Neumaier,
}

impl Moments {
    fn of(array: &dyn Array) -> Moments {
        if let Some(m) = Moments::of_integers(array) {
            return m;
        }
        let mut m = Moments::default();
        let (mut count, mut sum, mut lo, mut hi) = (0u64, 0i128, i128::MAX, i128::MIN);
        let (mut fcount, mut fsum, mut flo, mut fhi) =
            (0u64, Neumaier::default(), f64::INFINITY, f64::NEG_INFINITY);
        for_each_number(
            array,
            |v| {
                count += 1;
                sum = sum.saturating_add(v);
                lo = lo.min(v);
                hi = hi.max(v);
            },
            |f| {
                fcount += 1;
                fsum.add(f);
                flo = flo.min(f);
                fhi = fhi.max(f);
            },
        );
        m.count = count + fcount;
        m.int_sum = sum;
        m.float_sum = fsum;
        if count > 0 {
            (m.int_min, m.int_max) = (Some(lo), Some(hi));
        }
        if fcount > 0 {
            (m.float_min, m.float_max) = (Some(flo), Some(fhi));
        }
        m
    }

    /// The moments of an integer or instant array, from its values as they are stored:
    /// min and max in the stored type, the sum in `i128` (which no chunk can overflow),
    /// each then scaled to nanoseconds for instants. `None` for other arrays.
    fn of_integers(array: &dyn Array) -> Option<Moments> {
        let mult = nanos_per_unit(array.data_type());
        let (count, sum, lo, hi) = types::with_integers!(
            array,
            |a| {
                let values = a.values().as_slice();
                match a.validity() {
                    None => {
                        let (lo, hi) = values
                            .iter()
                            .fold(None, |range, &v| match range {
                                None => Some((v, v)),
                                Some((lo, hi)) => Some((v.min(lo), v.max(hi))),
                            })
                            .map_or((None, None), |(lo, hi)| {
                                (Some(i128::from(lo)), Some(i128::from(hi)))
                            });
                        (values.len() as u64, exact_sum(values), lo, hi)
                    }
                    Some(valid) => {
                        let present = || {
                            values
                                .iter()
                                .zip(valid.iter())
                                .filter_map(|(&v, ok)| ok.then_some(i128::from(v)))
                        };
                        (
                            present().count() as u64,
                            present().sum::<i128>(),
                            present().min(),
                            present().max(),
                        )
                    }
                }
            },
            return None
        );
        Some(Moments {
            count,
            int_min: lo.map(|v| v * mult),
            int_max: hi.map(|v| v * mult),
            int_sum: sum.saturating_mul(mult),
            ..Moments::default()
        })
    }

    fn merge(self, o: Moments) -> Moments {
        let pick = |a: Option<f64>, b: Option<f64>, f: fn(f64, f64) -> f64| match (a, b) {
            (Some(a), Some(b)) => Some(f(a, b)),
            (a, b) => a.or(b),
        };
        Moments {
            count: self.count + o.count,
            int_min: self.int_min.into_iter().chain(o.int_min).min(),
            int_max: self.int_max.into_iter().chain(o.int_max).max(),
            float_min: pick(self.float_min, o.float_min, f64::min),
            float_max: pick(self.float_max, o.float_max, f64::max),
            int_sum: self.int_sum.saturating_add(o.int_sum),
            float_sum: self.float_sum.merge(o.float_sum),
        }
    }

    /// The sum: exact when every value is an integer.
    fn sum(&self) -> Number {
        if self.float_min.is_none() {
            Number::Int(self.int_sum)
        } else {
            let mut s = self.float_sum;
            s.add(self.int_sum as f64);
            Number::Float(s.value())
        }
    }

    fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| match self.sum() {
            Number::Int(s) => s as f64 / self.count as f64,
            Number::Float(s) => s / self.count as f64,
        })
    }

    fn min(&self) -> Option<Number> {
        match (self.int_min, self.float_min) {
            (Some(i), Some(f)) if f < i as f64 => Some(Number::Float(f)),
            (Some(i), _) => Some(Number::Int(i)),
            (None, f) => f.map(Number::Float),
        }
    }

    fn max(&self) -> Option<Number> {
        match (self.int_max, self.float_max) {
            (Some(i), Some(f)) if f > i as f64 => Some(Number::Float(f)),
            (Some(i), _) => Some(Number::Int(i)),
            (None, f) => f.map(Number::Float),
        }
    }
}

/// The exact sum of integers of at most 64 bits: each value's high and low 32 bits are
/// summed apart in 64-bit lanes, which no run of fewer than 2³¹ values overflows and
/// which vectorise, unlike a running `i128` sum.
fn exact_sum<T: Copy + Into<i128>>(values: &[T]) -> i128 {
    const RUN: usize = 1 << 30;
    let mut total = 0i128;
    for run in values.chunks(RUN) {
        let (mut high, mut low) = (0i64, 0u64);
        for &v in run {
            let v: i128 = v.into();
            high += (v >> 32) as i64;
            low += (v as u64) & 0xFFFF_FFFF;
        }
        total += (i128::from(high) << 32) + i128::from(low);
    }
    total
}

/// Neumaier's compensated sum: float sums that do not depend on how the rows were cut
/// into chunks beyond the last bits, and are exact for sums of few magnitudes.
#[derive(Debug, Clone, Copy, Default)]
struct Neumaier {
    sum: f64,
    compensation: f64,
}

impl Neumaier {
    fn add(&mut self, v: f64) {
        let t = self.sum + v;
        if self.sum.abs() >= v.abs() {
            self.compensation += (self.sum - t) + v;
        } else {
            self.compensation += (v - t) + self.sum;
        }
        self.sum = t;
    }

    fn merge(mut self, o: Neumaier) -> Neumaier {
        self.add(o.sum);
        self.add(o.compensation);
        self
    }

    fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

/// The sample standard deviation (n − 1 in the denominator, as pandas and SQL's
/// `stddev_samp`), in two passes around the mean; `None` below two values.
fn stdev(run: Run, ds: &Dataset, col: usize, moments: &Moments) -> Option<f64> {
    let mean = moments.mean().filter(|_| moments.count >= 2)?;
    let squares = fold_chunks(
        run,
        ds,
        col,
        |array| {
            let (mut ints, mut floats) = (Neumaier::default(), Neumaier::default());
            // Plain integers convert to f64 straight from their own type (the same
            // rounding as through i128, without its slow conversion).
            let plain = nanos_per_unit(array.data_type()) == 1
                && types::with_integers!(
                    array,
                    |a| {
                        let square = |v: f64| (v - mean).powi(2);
                        match a.validity() {
                            None => a.values().iter().for_each(|&v| ints.add(square(v as f64))),
                            Some(valid) => {
                                for (&v, present) in a.values().iter().zip(valid.iter()) {
                                    if present {
                                        ints.add(square(v as f64));
                                    }
                                }
                            }
                        }
                        true
                    },
                    false
                );
            if plain {
                return ints;
            }
            for_each_number(
                array,
                |v| ints.add((v as f64 - mean).powi(2)),
                |f| floats.add((f - mean).powi(2)),
            );
            ints.merge(floats)
        },
        Neumaier::merge,
        Neumaier::default,
    );
    Some((squares.value() / (moments.count - 1) as f64).sqrt())
}

/// An integer (or instant) column's non-null values in their raw units, as `i64`:
/// `value × mult` is the value in nanoseconds for instants (1 for plain integers, and
/// `mult > 0` keeps the order). Half the bytes of `i128`s to move and sort.
struct RawIntegers {
    values: Vec<i64>,
    mult: i128,
}

/// The column's values as [`RawIntegers`]; `None` for other columns, and for unsigned
/// 64-bit values beyond `i64::MAX`.
fn raw_integers(run: Run, ds: &Dataset, col: usize) -> Option<RawIntegers> {
    let data_type = ds.schema().fields[col].data_type();
    if !matches!(
        classify(data_type),
        ColumnClass::Integer | ColumnClass::Temporal
    ) {
        return None;
    }
    let arrays: Vec<&dyn Array> = ds
        .chunks()
        .iter()
        .map(|c| c.arrays()[col].as_ref())
        .collect();
    // One vector of every value, each chunk copied into its own part of it.
    let total: usize = arrays.iter().map(|a| a.len() - a.null_count()).sum();
    let mut values = vec![0i64; total];
    let mut parts: Vec<(&dyn Array, &mut [i64])> = Vec::with_capacity(arrays.len());
    let mut rest = values.as_mut_slice();
    for array in arrays {
        let (part, tail) = rest.split_at_mut(array.len() - array.null_count());
        parts.push((array, part));
        rest = tail;
    }
    let fill = |(array, out): &mut (&dyn Array, &mut [i64])| -> Option<()> {
        types::with_integers!(
            *array,
            |a| {
                let mut out = out.iter_mut();
                match a.validity() {
                    None => {
                        for (slot, v) in out.zip(a.values().iter()) {
                            *slot = i64::try_from(i128::from(*v)).ok()?;
                        }
                    }
                    Some(valid) => {
                        for (v, present) in a.values().iter().zip(valid.iter()) {
                            if present {
                                *out.next()? = i64::try_from(i128::from(*v)).ok()?;
                            }
                        }
                    }
                }
                Some(())
            },
            None
        )
    };
    let filled: Option<()> = if run.parallel {
        parts.par_iter_mut().map(fill).collect()
    } else {
        parts.iter_mut().map(fill).collect()
    };
    filled?;
    Some(RawIntegers {
        values,
        mult: nanos_per_unit(data_type),
    })
}

/// The values at `positions` (indices into the sorted values), by selection: each one
/// narrows the slice the next is selected in, so a few quantiles cost a few linear
/// passes rather than a sort.
fn select_positions(values: &mut [i64], positions: &[usize]) -> Vec<i64> {
    let mut order: Vec<usize> = (0..positions.len()).collect();
    order.sort_by_key(|&k| positions[k]);
    let mut found = vec![0i64; positions.len()];
    let mut start = 0;
    for k in order {
        let at = positions[k];
        if at < start {
            // A repeated position: the slice before `start` is already in place.
            found[k] = values[at];
            continue;
        }
        let (_, &mut v, _) = values[start..].select_nth_unstable(at - start);
        found[k] = v;
        start = at;
    }
    found
}

/// Distinct values among integers (in parts): a bitmap over the window where nearly all
/// of them lie, when it is at most 64 bits a value (ids and codes are dense), and a hash
/// set for those outside it (none, or a few outliers); a hash set alone for sparse values.
fn distinct_raw(parts: &[&[i64]]) -> u64 {
    let values = || parts.iter().flat_map(|p| p.iter().copied());
    let Some((lo, hi)) = dense_window(parts) else {
        let n: usize = parts.iter().map(|p| p.len()).sum();
        let mut seen = FxHashSet::with_capacity_and_hasher(n / 4, Default::default());
        seen.extend(values());
        return seen.len() as u64;
    };
    let span = (hi - lo) as u64 + 1;
    let mut bits = vec![0u64; span.div_ceil(64) as usize];
    let mut outside: FxHashSet<i64> = FxHashSet::default();
    for v in values() {
        if (lo..=hi).contains(&v) {
            let offset = (v - lo) as u64;
            bits[(offset / 64) as usize] |= 1 << (offset % 64);
        } else {
            outside.insert(v);
        }
    }
    bits.iter().map(|w| u64::from(w.count_ones())).sum::<u64>() + outside.len() as u64
}

/// Values a window is judged on: every value of a short column, else an even sample.
const WINDOW_SAMPLE: usize = 4096;

/// A window `[lo, hi]` of at most 64 values' bits per value that holds the values, or
/// (judged from an even sample) nearly all of them: the whole range, or else the range
/// of the sample's middle 90% widened by its own width on each side. None when even
/// that is too wide.
fn dense_window(parts: &[&[i64]]) -> Option<(i64, i64)> {
    let n: usize = parts.iter().map(|p| p.len()).sum();
    let budget = 64 * n as i128;
    let lo = i128::from(parts.iter().filter_map(|p| p.iter().min()).min().copied()?);
    let hi = i128::from(parts.iter().filter_map(|p| p.iter().max()).max().copied()?);
    if hi - lo < budget {
        return Some((lo as i64, hi as i64));
    }
    let step = (n / WINDOW_SAMPLE).max(1);
    let mut sample: Vec<i64> = parts
        .iter()
        .flat_map(|p| p.iter().copied())
        .step_by(step)
        .collect();
    sample.sort_unstable();
    let at = |q: usize| i128::from(sample[(sample.len() - 1) * q / 100]);
    let (s_lo, s_hi) = (at(5), at(95));
    let width = s_hi - s_lo + 1;
    let (w_lo, w_hi) = ((s_lo - width).max(lo), (s_hi + width).min(hi));
    (w_hi - w_lo < budget).then_some((w_lo as i64, w_hi as i64))
}

/// Every non-null value of the column (NaN left out): integers and instants, or floats.
fn numbers(run: Run, ds: &Dataset, col: usize) -> (Vec<i128>, Vec<f64>) {
    fold_chunks(
        run,
        ds,
        col,
        |array| {
            let (mut ints, mut floats) = (Vec::new(), Vec::new());
            for_each_number(array, |v| ints.push(v), |f| floats.push(f));
            (ints, floats)
        },
        |(mut a, mut b), (c, d)| {
            a.extend(c);
            b.extend(d);
            (a, b)
        },
        || (Vec::new(), Vec::new()),
    )
}

/// The median of the non-null values: the middle one, or the mean of the two middle
/// ones, exact selection rather than an estimate.
fn median(run: Run, ds: &Dataset, col: usize) -> Option<Number> {
    if let Some(mut raw) = raw_integers(run, ds, col) {
        let n = raw.values.len();
        if n == 0 {
            return None;
        }
        let (_, &mut upper, _) = raw.values.select_nth_unstable(n / 2);
        let upper = i128::from(upper) * raw.mult;
        if n % 2 == 1 {
            return Some(Number::Int(upper));
        }
        let lower = i128::from(*raw.values[..n / 2].iter().max().expect("n ≥ 2")) * raw.mult;
        let sum = lower + upper;
        return Some(if sum % 2 == 0 {
            Number::Int(sum / 2)
        } else {
            Number::Float(sum as f64 / 2.0)
        });
    }
    let (mut ints, mut floats) = numbers(run, ds, col);
    if floats.is_empty() {
        let n = ints.len();
        if n == 0 {
            return None;
        }
        let (_, &mut upper, _) = ints.select_nth_unstable(n / 2);
        if n % 2 == 1 {
            return Some(Number::Int(upper));
        }
        let lower = *ints[..n / 2].iter().max().expect("n ≥ 2");
        let sum = lower + upper;
        return Some(if sum % 2 == 0 {
            Number::Int(sum / 2)
        } else {
            Number::Float(sum as f64 / 2.0)
        });
    }
    floats.extend(ints.iter().map(|&i| i as f64));
    let n = floats.len();
    let (_, &mut upper, _) = floats.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return Some(Number::Float(upper));
    }
    let lower = floats[..n / 2]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    Some(Number::Float(lower / 2.0 + upper / 2.0))
}

/// A statistic as JSON: instants as RFC 3339 text (dates as `YYYY-MM-DD`), integers and
/// floats as numbers.
fn number_json(value: Number, temporal: Temporal) -> Value {
    const DAY: i128 = 86_400 * 1_000_000_000;
    match value {
        Number::Int(nanos) if temporal == Temporal::Date && nanos % DAY == 0 => {
            json!(time::format_date((nanos / DAY) as i64))
        }
        Number::Int(nanos) if temporal != Temporal::No => {
            json!(time::format_timestamp_nanos(nanos))
        }
        Number::Int(i) => i64::try_from(i).map_or_else(|_| json!(i as f64), |v| json!(v)),
        Number::Float(f) => json!(f),
    }
}

/// Whether a column holds instants, and of which kind, for showing a statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Temporal {
    No,
    Date,
    Timestamp,
}

impl Temporal {
    fn of(data_type: &arrow2::datatypes::DataType) -> Temporal {
        use arrow2::datatypes::DataType;
        match data_type.to_logical_type() {
            DataType::Date32 | DataType::Date64 => Temporal::Date,
            _ if classify(data_type) == ColumnClass::Temporal => Temporal::Timestamp,
            _ => Temporal::No,
        }
    }
}

fn vacuous(why: String) -> Observed {
    Observed {
        success: true,
        unexpected_count: 0,
        unexpected_values: Vec::new(),
        observed_value: Value::Null,
        skipped: Some(why),
    }
}

fn observed(success: bool, value: Value) -> Observed {
    Observed {
        success,
        unexpected_count: u64::from(!success),
        unexpected_values: Vec::new(),
        observed_value: value,
        skipped: None,
    }
}

/// `expect_column_{min,max,mean,median,sum,stdev}_to_be_between`.
pub(crate) fn statistic_between(
    run: Run,
    ds: &Dataset,
    col: usize,
    statistic: Statistic,
    bounds: Bounds<'_>,
) -> Observed {
    let data_type = ds.schema().fields[col].data_type();
    let temporal = Temporal::of(data_type);
    // Integer bounds are in the column's raw units (days for dates, as in `between`).
    let mult = nanos_per_unit(data_type);
    match statistic_value(run, ds, col, statistic) {
        Ok(v) => observed(bounds.contain(v, mult), number_json(v, temporal)),
        Err(why) => vacuous(why),
    }
}

/// A statistic of column `col`'s non-null values (instants in nanoseconds), or why no
/// value defines it.
pub(crate) fn statistic_value(
    run: Run,
    ds: &Dataset,
    col: usize,
    statistic: Statistic,
) -> Result<Number, String> {
    let moments = fold_chunks(run, ds, col, Moments::of, Moments::merge, Moments::default);
    let value = match statistic {
        Statistic::Min => moments.min(),
        Statistic::Max => moments.max(),
        Statistic::Sum => Some(moments.sum()),
        Statistic::Mean => moments.mean().map(Number::Float),
        Statistic::Median => median(run, ds, col),
        Statistic::Stdev => stdev(run, ds, col, &moments).map(Number::Float),
    };
    match value {
        Some(v) => Ok(v),
        None if statistic == Statistic::Stdev => Err(format!(
            "the standard deviation needs two non-null values; the column has {}",
            moments.count
        )),
        None => Err(format!(
            "the column has no non-null value to take the {} of",
            statistic.word()
        )),
    }
}

impl Number {
    /// As a float (integers beyond 2^53 rounded).
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

/// The values nearest each quantile's position `q × (n − 1)` among the sorted non-null
/// values (pandas' `interpolation="nearest"`, halves to even), exact.
fn quantile_values(run: Run, ds: &Dataset, col: usize, quantiles: &[f64]) -> Option<Vec<Number>> {
    let index = |q: f64, n: usize| ((q * (n - 1) as f64).round_ties_even() as usize).min(n - 1);
    if let Some(mut raw) = raw_integers(run, ds, col) {
        let n = raw.values.len();
        if n == 0 {
            return None;
        }
        let positions: Vec<usize> = quantiles.iter().map(|&q| index(q, n)).collect();
        let found = select_positions(&mut raw.values, &positions);
        return Some(
            found
                .into_iter()
                .map(|v| Number::Int(i128::from(v) * raw.mult))
                .collect(),
        );
    }
    let (mut ints, mut floats) = numbers(run, ds, col);
    let n = ints.len() + floats.len();
    if n == 0 {
        return None;
    }
    let index = |q: f64| index(q, n);
    Some(if floats.is_empty() {
        ints.sort_unstable();
        quantiles
            .iter()
            .map(|&q| Number::Int(ints[index(q)]))
            .collect()
    } else {
        floats.extend(ints.iter().map(|&i| i as f64));
        floats.sort_unstable_by(f64::total_cmp);
        quantiles
            .iter()
            .map(|&q| Number::Float(floats[index(q)]))
            .collect()
    })
}

/// `expect_column_quantile_values_to_be_between`: each quantile within its range
/// (inclusive); each one outside is unexpected.
pub(crate) fn quantiles_between(
    run: Run,
    ds: &Dataset,
    col: usize,
    ranges: &QuantileRanges,
) -> Observed {
    let Some(values) = quantile_values(run, ds, col, &ranges.quantiles) else {
        return vacuous("the column has no non-null value to take quantiles of".into());
    };
    let mut outside = Vec::new();
    for ((q, value), (lo, hi)) in ranges
        .quantiles
        .iter()
        .zip(&values)
        .zip(&ranges.value_ranges)
    {
        let v = match value {
            Number::Int(i) => *i as f64,
            Number::Float(f) => *f,
        };
        if lo.is_some_and(|lo| v < lo) || hi.is_some_and(|hi| v > hi) {
            let bound = |b: &Option<f64>| b.map_or("null".to_string(), |b| b.to_string());
            outside.push(format!(
                "quantile {q} = {} outside [{}, {}]",
                number_json(*value, Temporal::No),
                bound(lo),
                bound(hi)
            ));
        }
    }
    let observed_value = json!({
        "quantiles": ranges.quantiles,
        "values": values.iter().map(|v| number_json(*v, Temporal::No)).collect::<Vec<_>>(),
    });
    let mut result = observed(outside.is_empty(), observed_value);
    result.unexpected_count = outside.len() as u64;
    result.unexpected_values = outside;
    result
}

/// Each distinct non-null value (by [`Scalar::key`]), the chunk and row it first occurs at,
/// and how often it occurs.
type Distinct<'a> = FxHashMap<Key<'a>, (usize, usize, u64)>;

fn distinct(run: Run, ds: &Dataset, col: usize) -> Distinct<'_> {
    let chunks: Vec<(usize, &dyn Array)> = ds
        .chunks()
        .iter()
        .enumerate()
        .map(|(c, chunk)| (c, chunk.arrays()[col].as_ref()))
        .collect();
    if run.parallel && chunks.len() > 1 {
        chunks
            .par_iter()
            .map(|&(c, array)| distinct_in(c, array))
            .reduce(Distinct::default, merge_distinct)
    } else {
        chunks
            .iter()
            .map(|&(c, array)| distinct_in(c, array))
            .fold(Distinct::default(), merge_distinct)
    }
}

fn distinct_in(c: usize, array: &dyn Array) -> Distinct<'_> {
    let mut seen = Distinct::default();
    let mut from = 0;
    if let Some(text) = array.as_any().downcast_ref::<Utf8Array<i32>>() {
        from = few_texts(c, text, &mut seen);
    }
    if let Some(reader) = Reader::new(array) {
        for row in from..reader.len() {
            if let Some(value) = reader.get(row) {
                if matches!(value, Scalar::Float(f) if f.is_nan()) {
                    continue;
                }
                seen.entry(value.key()).or_insert((c, row, 0)).2 += 1;
            }
        }
    }
    seen
}

/// The most distinct values [`few_texts`] compares each text with.
const FEW_TEXTS: usize = 16;

/// Counts the texts of `array` into `seen` while it has at most [`FEW_TEXTS`] distinct
/// values (codes, types, states), comparing each with those seen by its length and
/// [`ShortText`] words: cheaper than hashing it. Returns the row it stopped at: the
/// array's length, or the first row of one value too many, from which the caller goes
/// on with a hash map.
fn few_texts<'a>(c: usize, array: &'a Utf8Array<i32>, seen: &mut Distinct<'a>) -> usize {
    let mut few: Vec<(ShortText, usize, u64)> = Vec::with_capacity(FEW_TEXTS);
    let mut slots = [u8::MAX; 64];
    let (offsets, bytes) = (array.offsets().buffer(), array.values().as_slice());
    let mut stop = array.len();
    for (row, ends) in offsets.windows(2).enumerate() {
        if array.validity().is_some_and(|v| !v.get_bit(row)) {
            continue;
        }
        let text = ShortText::new(&bytes[ends[0] as usize..ends[1] as usize]);
        // The slot remembers which value last had this hash: a hit is one comparison
        // whose branch the processor predicts, however the values are mixed.
        let slot = text.slot();
        let last = usize::from(slots[slot]);
        if last < few.len() && few[last].0 == text {
            few[last].2 += 1;
            continue;
        }
        if let Some(at) = few.iter().position(|(t, _, _)| *t == text) {
            few[at].2 += 1;
            slots[slot] = at as u8;
        } else if few.len() < FEW_TEXTS {
            slots[slot] = few.len() as u8;
            few.push((text, row, 1));
        } else {
            stop = row;
            break;
        }
    }
    seen.extend(
        few.into_iter()
            .map(|(_, row, n)| (Key::Text(array.value(row)), (c, row, n))),
    );
    stop
}

/// A text's bytes with its length and two words of them, which decide equality with
/// another text of at most 16 bytes without comparing the bytes one by one.
#[derive(Debug, Clone, Copy)]
struct ShortText<'a> {
    bytes: &'a [u8],
    /// The first and the last 8 bytes (overlapping below 16; below 8, the first and last
    /// 4, or the bytes one by one).
    words: (u64, u64),
}

impl<'a> ShortText<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let n = bytes.len();
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let half = |at: usize| {
            u64::from(u32::from_le_bytes(
                bytes[at..at + 4].try_into().expect("4 bytes"),
            ))
        };
        let words = match n {
            8.. => (word(0), word(n - 8)),
            4..=7 => (half(0), half(n - 4)),
            _ => (bytes.iter().fold(0, |w, &b| (w << 8) | u64::from(b)), 0),
        };
        ShortText { bytes, words }
    }
}

impl ShortText<'_> {
    /// One of 64 slots, from a hash of the length and words.
    fn slot(&self) -> usize {
        let mixed = (self.words.0 ^ self.words.1.rotate_left(29) ^ self.bytes.len() as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (mixed >> 58) as usize
    }
}

impl PartialEq for ShortText<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes.len() == other.bytes.len()
            && self.words == other.words
            && (self.bytes.len() <= 16 || self.bytes == other.bytes)
    }
}

fn merge_distinct<'a>(mut a: Distinct<'a>, b: Distinct<'a>) -> Distinct<'a> {
    for (key, (c, row, n)) in b {
        let entry = a.entry(key).or_insert((c, row, 0));
        if (c, row) < (entry.0, entry.1) {
            (entry.0, entry.1) = (c, row);
        }
        entry.2 += n;
    }
    a
}

/// Non-null values that are not NaN.
fn counted(ds: &Dataset, col: usize) -> u64 {
    let mut n = 0u64;
    for chunk in ds.chunks() {
        for_each_or_text(chunk.arrays()[col].as_ref(), &mut n);
    }
    n
}

fn for_each_or_text(array: &dyn Array, n: &mut u64) {
    match Reader::new(array) {
        Some(reader) => {
            for i in 0..reader.len() {
                match reader.get(i) {
                    Some(Scalar::Float(f)) if f.is_nan() => {}
                    Some(_) => *n += 1,
                    None => {}
                }
            }
        }
        None => *n += (array.len() - array.null_count()) as u64,
    }
}

/// `expect_column_unique_value_count_to_be_between`: distinct non-null values.
pub(crate) fn unique_count_between(
    run: Run,
    ds: &Dataset,
    col: usize,
    min: Option<u64>,
    max: Option<u64>,
) -> Observed {
    let n = distinct_count(run, ds, col);
    let success = min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m);
    observed(success, json!(n))
}

/// The number of distinct non-null values of column `col`.
pub(crate) fn distinct_count(run: Run, ds: &Dataset, col: usize) -> u64 {
    let class = classify(ds.schema().fields[col].data_type());
    if matches!(class, ColumnClass::Integer | ColumnClass::Temporal) {
        distinct_integers(run, ds, col)
    } else {
        distinct(run, ds, col).len() as u64
    }
}

/// Equal-width bins of a numeric or instant column's non-null values.
#[derive(Debug, Clone)]
pub(crate) struct Bins {
    pub min: Number,
    pub max: Number,
    /// The lower edge of the first bin, and each bin's width (instants in nanoseconds).
    pub start: f64,
    pub width: f64,
    pub counts: Vec<u64>,
}

/// At most `bins` equal-width bins of column `col`'s non-null numbers (instants in
/// nanoseconds) from their min: over `[min, max]` for floats (the last bin holds the
/// max), over `[min, max + 1)` for integers and instants, which get one bin per value
/// when they have fewer values than bins. `None` for a column without numbers.
pub(crate) fn histogram(run: Run, ds: &Dataset, col: usize, bins: usize) -> Option<Bins> {
    let moments = fold_chunks(run, ds, col, Moments::of, Moments::merge, Moments::default);
    let (min, max) = (moments.min()?, moments.max()?);
    let whole = matches!((min, max), (Number::Int(_), Number::Int(_)));
    let start = min.as_f64();
    let span = max.as_f64() - start + if whole { 1.0 } else { 0.0 };
    let bins = if whole {
        bins.min(span.max(1.0) as usize)
    } else if span > 0.0 {
        bins
    } else {
        1
    }
    .max(1);
    let width = if span > 0.0 { span / bins as f64 } else { 1.0 };
    let bin_of = |v: f64| (((v - start) / width) as usize).min(bins - 1);
    let counts = fold_chunks(
        run,
        ds,
        col,
        |array| {
            let counts = std::cell::RefCell::new(vec![0u64; bins]);
            for_each_number(
                array,
                |i| counts.borrow_mut()[bin_of(i as f64)] += 1,
                |f| counts.borrow_mut()[bin_of(f)] += 1,
            );
            counts.into_inner()
        },
        |mut a, b| {
            a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
            a
        },
        || vec![0u64; bins],
    );
    Some(Bins {
        min,
        max,
        start,
        width,
        counts,
    })
}

/// A statistic's value as a result shows it: instants and dates as RFC 3339 text.
pub(crate) fn shown(ds: &Dataset, col: usize, value: Number) -> Value {
    number_json(value, Temporal::of(ds.schema().fields[col].data_type()))
}

/// The number of distinct values of an integer (or instant) column: sorted and counted,
/// which beats a hash map of every value on the millions of keys such a column holds.
fn distinct_integers(run: Run, ds: &Dataset, col: usize) -> u64 {
    // 64-bit values without nulls are counted where they are; a distinct value in raw
    // units is a distinct value (the scale to nanoseconds is one-to-one).
    let borrowed: Option<Vec<&[i64]>> = ds
        .chunks()
        .iter()
        .map(|c| {
            let array = c.arrays()[col]
                .as_any()
                .downcast_ref::<PrimitiveArray<i64>>()?;
            (array.validity().is_none()).then(|| array.values().as_slice())
        })
        .collect();
    if let Some(parts) = borrowed {
        return distinct_raw(&parts);
    }
    if let Some(raw) = raw_integers(run, ds, col) {
        return distinct_raw(&[&raw.values]);
    }
    let (mut values, _) = numbers(run, ds, col);
    if run.parallel {
        values.par_sort_unstable();
    } else {
        values.sort_unstable();
    }
    let changes = values.windows(2).filter(|w| w[0] != w[1]).count() as u64;
    changes + u64::from(!values.is_empty())
}

/// `expect_column_proportion_of_unique_values_to_be_between`: distinct non-null values
/// over non-null values.
pub(crate) fn unique_proportion_between(
    run: Run,
    ds: &Dataset,
    col: usize,
    bounds: Bounds<'_>,
) -> Observed {
    let values = counted(ds, col);
    if values == 0 {
        return vacuous("the column has no non-null value".into());
    }
    let unique = distinct_count(run, ds, col);
    let proportion = unique as f64 / values as f64;
    observed(
        bounds.contain(Number::Float(proportion), 1),
        json!(proportion),
    )
}

/// `expect_column_value_z_scores_to_be_less_than`: each non-null value's z-score against
/// the column's mean and sample standard deviation, unexpected at or past the threshold
/// (GX's non-inclusive interval); `Err` with the reason when no deviation is defined.
/// With a deviation of 0 every value is the mean, its z-score 0.
pub(crate) fn z_scores(
    run: Run,
    ds: &Dataset,
    col: usize,
    threshold: f64,
    double_sided: bool,
) -> Result<Tally, String> {
    let moments = fold_chunks(run, ds, col, Moments::of, Moments::merge, Moments::default);
    let (Some(mean), Some(sd)) = (moments.mean(), stdev(run, ds, col, &moments)) else {
        return Err(format!(
            "z-scores need a standard deviation, of two non-null values; the column has {}",
            moments.count
        ));
    };
    let bad = |v: f64| {
        let z = if sd > 0.0 { (v - mean) / sd } else { 0.0 };
        if double_sided {
            z.abs() >= threshold
        } else {
            z >= threshold
        }
    };
    Ok(over_chunks(run, ds, |c, chunk| {
        let array = chunk.arrays()[col].as_ref();
        let Some(reader) = Reader::new(array) else {
            return all_missing(array);
        };
        let counts = scan(array.len(), array.validity(), run.limit, |i| {
            match reader.get(i) {
                Some(Scalar::Int(v)) => bad(v as f64),
                Some(Scalar::Float(f)) => !f.is_nan() && bad(f),
                _ => false,
            }
        });
        chunk_tally(c, array, counts)
    }))
}

/// `expect_column_proportion_of_non_null_values_to_be_between`: the rows whose value is
/// there (a value the reader could not parse was there) over all rows.
pub(crate) fn non_null_proportion_between(
    ds: &Dataset,
    col: usize,
    bounds: Bounds<'_>,
) -> Observed {
    let rows = ds.row_count();
    if rows == 0 {
        return vacuous("the table has no rows".into());
    }
    let nulls: usize = ds
        .chunks()
        .iter()
        .map(|chunk| {
            let array = chunk.arrays()[col].as_ref();
            if array.data_type() == &arrow2::datatypes::DataType::Null {
                array.len()
            } else {
                array.null_count()
            }
        })
        .sum();
    let present = rows - nulls + ds.problems(col).len();
    let proportion = present as f64 / rows as f64;
    observed(
        bounds.contain(Number::Float(proportion), 1),
        json!(proportion),
    )
}

/// At most this many distinct values are listed in an observed value: a column of
/// millions of ids would otherwise put all of them in every report.
pub(crate) const MAX_LISTED: usize = 1000;

/// The distinct values as sorted JSON values (numbers and booleans as such, instants
/// and dates as text), at most [`MAX_LISTED`] of them.
fn listed_json(ds: &Dataset, col: usize, seen: &Distinct<'_>) -> Value {
    let class = classify(ds.schema().fields[col].data_type());
    let values: Vec<Value> = listed(ds, col, seen)
        .into_iter()
        .map(|text| {
            let number = match class {
                ColumnClass::Integer => text.parse::<i64>().ok().map(|i| json!(i)),
                ColumnClass::Float => text.parse::<f64>().ok().map(|f| json!(f)),
                ColumnClass::Boolean => text.parse::<bool>().ok().map(|b| json!(b)),
                _ => None,
            };
            number.unwrap_or(Value::String(text))
        })
        .collect();
    Value::Array(values)
}

/// The distinct values as sorted text, at most [`MAX_LISTED`] of them.
fn listed(ds: &Dataset, col: usize, seen: &Distinct<'_>) -> Vec<String> {
    let mut values: Vec<(Key<'_>, String)> = seen
        .iter()
        .filter_map(|(key, &(c, row, _))| {
            types::render(ds.chunks()[c].arrays()[col].as_ref(), row).map(|t| (*key, t))
        })
        .collect();
    values.sort_by(|a, b| key_order(&a.0, &b.0).then_with(|| a.1.cmp(&b.1)));
    values.truncate(MAX_LISTED);
    values.into_iter().map(|(_, text)| text).collect()
}

fn key_order(a: &Key<'_>, b: &Key<'_>) -> std::cmp::Ordering {
    match (a, b) {
        (Key::Int(x), Key::Int(y)) => x.cmp(y),
        (Key::Text(x), Key::Text(y)) => x.cmp(y),
        (Key::Bool(x), Key::Bool(y)) => x.cmp(y),
        (Key::Float(x), Key::Float(y)) => f64::from_bits(*x).total_cmp(&f64::from_bits(*y)),
        (Key::Int(x), Key::Float(y)) => (*x as f64).total_cmp(&f64::from_bits(*y)),
        (Key::Float(x), Key::Int(y)) => f64::from_bits(*x).total_cmp(&(*y as f64)),
        _ => std::cmp::Ordering::Equal,
    }
}

/// `expect_column_distinct_values_to_be_in_set`, `…_to_contain_set`, `…_to_equal_set`.
/// The unexpected values are the distinct values outside the set (in, equal) and the
/// set's values missing from the column (contain, equal).
pub(crate) fn distinct_values(
    run: Run,
    ds: &Dataset,
    col: usize,
    value_set: &[SetValue],
    relation: SetRelation,
) -> Observed {
    let data_type = ds.schema().fields[col].data_type();
    let seen = distinct(run, ds, col);
    let wanted: Vec<(Option<Key<'_>>, &SetValue)> = value_set
        .iter()
        .map(|v| (types::set_value_key(v, data_type), v))
        .collect();
    let set: FxHashSet<Key<'_>> = wanted.iter().filter_map(|(k, _)| *k).collect();
    let mut unexpected = Vec::new();
    if matches!(relation, SetRelation::InSet | SetRelation::EqualSet) {
        let mut outside: Distinct<'_> = seen.clone();
        outside.retain(|key, _| !set.contains(key));
        unexpected.extend(listed(ds, col, &outside));
    }
    if matches!(relation, SetRelation::ContainSet | SetRelation::EqualSet) {
        for (key, value) in &wanted {
            if key.is_none_or(|k| !seen.contains_key(&k)) {
                unexpected.push(format!("{} (missing)", set_value_text(value)));
            }
        }
    }
    let mut result = observed(unexpected.is_empty(), listed_json(ds, col, &seen));
    result.unexpected_count = unexpected.len() as u64;
    result.unexpected_values = unexpected;
    result
}

fn set_value_text(value: &SetValue) -> String {
    match value {
        SetValue::Bool(b) => b.to_string(),
        SetValue::Int(i) => i.to_string(),
        SetValue::Float(f) => f.to_string(),
        SetValue::Str(s) => s.clone(),
    }
}

/// `expect_column_most_common_value_to_be_in_set`: the most frequent non-null value is
/// in the set; with several tied, `ties_okay` passes when one of them is, else it fails.
pub(crate) fn most_common_in_set(
    run: Run,
    ds: &Dataset,
    col: usize,
    value_set: &[SetValue],
    ties_okay: bool,
) -> Observed {
    let data_type = ds.schema().fields[col].data_type();
    let seen = distinct(run, ds, col);
    let Some(top) = seen.values().map(|&(_, _, n)| n).max() else {
        return vacuous("the column has no non-null value".into());
    };
    let mut modes: Distinct<'_> = seen;
    modes.retain(|_, &mut (_, _, n)| n == top);
    let set: FxHashSet<Key<'_>> = value_set
        .iter()
        .filter_map(|v| types::set_value_key(v, data_type))
        .collect();
    let in_set = modes.keys().filter(|k| set.contains(k)).count();
    let success = if ties_okay {
        in_set > 0
    } else {
        modes.len() == 1 && in_set == 1
    };
    let mut outside = modes.clone();
    outside.retain(|k, _| !set.contains(k));
    let mut result = observed(success, listed_json(ds, col, &modes));
    if !success {
        result.unexpected_values = listed(ds, col, &outside);
        result.unexpected_count = result.unexpected_values.len().max(1) as u64;
    }
    result
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::checks::fixtures::{ints, strs};
    use crate::checks::testing::{check, table};
    use arrow2::array::{Array, PrimitiveArray};

    fn floats(values: &[Option<f64>]) -> Box<dyn Array> {
        PrimitiveArray::<f64>::from(values.to_vec()).boxed()
    }

    #[test]
    fn min_max_sum_mean_median_stdev_observe_the_non_null_values() {
        let t = table(
            "t",
            vec![("x", ints(&[Some(4), None, Some(1), Some(7), Some(2)]))],
        );
        let observed = |name: &str| {
            let r = check(
                &format!(
                    "expectation: expect_column_{name}_to_be_between, column: x, min_value: 0"
                ),
                &[&t],
            );
            assert!(r.success, "{name}");
            r.observed_value.unwrap()
        };
        assert_eq!(observed("min"), json!(1));
        assert_eq!(observed("max"), json!(7));
        assert_eq!(observed("sum"), json!(14));
        assert_eq!(observed("mean"), json!(3.5));
        assert_eq!(observed("median"), json!(3), "mean of 2 and 4");
        // Sample deviation of 1, 2, 4, 7: mean 3.5, squares 6.25+2.25+0.25+12.25 = 21 / 3.
        assert_eq!(observed("stdev"), json!(7f64.sqrt()));
    }

    #[test]
    fn bounds_and_strictness_apply_to_the_observed_value() {
        let t = table("t", vec![("x", floats(&[Some(1.5), Some(2.5), None]))]);
        let run = |params: &str| {
            check(
                &format!("expectation: expect_column_mean_to_be_between, column: x, {params}"),
                &[&t],
            )
            .success
        };
        assert!(run("min_value: 2, max_value: 2"));
        assert!(!run("min_value: 2, strict_min: true"));
        assert!(!run("max_value: 1.99"));
        assert!(run("max_value: 2, strict_max: false"));
    }

    #[test]
    fn an_empty_column_passes_vacuously_except_counts_that_are_zero() {
        let t = table("t", vec![("x", ints(&[None, None]))]);
        for name in ["min", "max", "mean", "median", "stdev"] {
            let r = check(
                &format!(
                    "expectation: expect_column_{name}_to_be_between, column: x, min_value: 5"
                ),
                &[&t],
            );
            assert!(
                r.success && r.skipped.is_some() && r.observed_value.is_none(),
                "{name}"
            );
        }
        let sum = check(
            "expectation: expect_column_sum_to_be_between, column: x, min_value: 5",
            &[&t],
        );
        assert!(!sum.success, "an empty sum is 0");
        assert_eq!(sum.observed_value, Some(json!(0)));
        let count = check(
            "expectation: expect_column_unique_value_count_to_be_between, column: x, min_value: 1",
            &[&t],
        );
        assert!(!count.success);
        assert_eq!(count.observed_value, Some(json!(0)));
    }

    #[test]
    fn quantiles_are_the_nearest_values_exactly() {
        let t = table(
            "t",
            vec![(
                "x",
                ints(&[Some(10), Some(40), None, Some(20), Some(30), Some(50)]),
            )],
        );
        let body = |ranges: &str| {
            format!("expectation: expect_column_quantile_values_to_be_between, column: x, quantile_ranges: {ranges}")
        };
        let r = check(&body("{quantiles: [0, 0.25, 0.5, 0.9, 1], value_ranges: [[10, 10], [20, 20], [30, 30], [50, 50], [50, null]]}"), &[&t]);
        assert!(r.success, "{:?}", r.partial_unexpected);
        assert_eq!(
            r.observed_value,
            Some(json!({"quantiles": [0.0, 0.25, 0.5, 0.9, 1.0], "values": [10, 20, 30, 50, 50]}))
        );
        let r = check(
            &body("{quantiles: [0.5, 0.75], value_ranges: [[null, 25], [35, 45]]}"),
            &[&t],
        );
        assert!(!r.success);
        assert_eq!(r.unexpected_count, 1);
        assert_eq!(
            r.partial_unexpected[0].value.as_deref(),
            Some("quantile 0.5 = 30 outside [null, 25]")
        );
        let four = table(
            "t",
            vec![("x", floats(&[Some(1.0), Some(2.0), Some(3.0), Some(4.0)]))],
        );
        let r = check(
            &body("{quantiles: [0.5], value_ranges: [[3, 3]]}"),
            &[&four],
        );
        assert!(r.success, "1.5 rounds to even: the third value");
        let empty = table("t", vec![("x", ints(&[None]))]);
        assert!(check(
            &body("{quantiles: [0.5], value_ranges: [[1, 1]]}"),
            &[&empty]
        )
        .skipped
        .is_some());
    }

    #[test]
    fn instants_have_a_min_and_max_shown_as_dates_or_timestamps() {
        let days = PrimitiveArray::<i32>::from([Some(19724), None, Some(19726)])
            .to(arrow2::datatypes::DataType::Date32)
            .boxed();
        let t = table("t", vec![("d", days)]);
        let r = check(
            "expectation: expect_column_max_to_be_between, column: d, max_value: \"2024-01-03\"",
            &[&t],
        );
        assert!(!r.success);
        assert_eq!(r.observed_value, Some(json!("2024-01-04")));
        let r = check(
            "expectation: expect_column_min_to_be_between, column: d, min_value: 19724",
            &[&t],
        );
        assert!(r.success, "integer bounds are days, the column's units");
        assert_eq!(r.observed_value, Some(json!("2024-01-02")));
    }

    #[test]
    fn one_value_has_no_sample_deviation() {
        let t = table("t", vec![("x", ints(&[Some(3)]))]);
        let r = check(
            "expectation: expect_column_stdev_to_be_between, column: x, max_value: 0",
            &[&t],
        );
        assert!(r.success);
        assert!(r.skipped.unwrap().contains("two non-null values"));
    }

    #[test]
    fn distinct_values_against_sets() {
        let t = table(
            "t",
            vec![("s", strs(&[Some("b"), Some("a"), None, Some("b")]))],
        );
        let run = |name: &str, set: &str| {
            check(&format!("expectation: expect_column_distinct_values_{name}, column: s, value_set: {set}"), &[&t])
        };
        let r = run("to_be_in_set", "[a, b, c]");
        assert!(r.success);
        assert_eq!(r.observed_value, Some(json!(["a", "b"])));
        let r = run("to_be_in_set", "[a]");
        assert!(!r.success);
        assert_eq!(r.partial_unexpected[0].value.as_deref(), Some("b"));
        assert!(run("to_contain_set", "[a]").success);
        let r = run("to_contain_set", "[a, c]");
        assert_eq!(
            r.partial_unexpected[0].value.as_deref(),
            Some("c (missing)")
        );
        assert!(run("to_equal_set", "[b, a]").success);
        assert!(!run("to_equal_set", "[a, b, c]").success);
        assert!(!run("to_equal_set", "[a]").success);
    }

    #[test]
    fn unique_counts_and_proportions() {
        let t = table("t", vec![("x", ints(&[Some(1), Some(1), Some(2), None]))]);
        let r = check("expectation: expect_column_unique_value_count_to_be_between, column: x, min_value: 2, max_value: 2", &[&t]);
        assert!(r.success);
        assert_eq!(r.observed_value, Some(json!(2)));
        let r = check("expectation: expect_column_proportion_of_unique_values_to_be_between, column: x, min_value: 0.6", &[&t]);
        assert!(r.success, "2 distinct of 3 non-null");
        assert!(!check("expectation: expect_column_proportion_of_unique_values_to_be_between, column: x, min_value: 0.67", &[&t]).success);
    }

    #[test]
    fn most_common_value_and_ties() {
        let t = table(
            "t",
            vec![("x", ints(&[Some(1), Some(2), Some(2), Some(1), Some(3)]))],
        );
        let run = |params: &str| {
            check(&format!("expectation: expect_column_most_common_value_to_be_in_set, column: x, {params}"), &[&t])
        };
        let r = run("value_set: [1]");
        assert!(!r.success, "1 and 2 tie");
        assert_eq!(r.observed_value, Some(json!([1, 2])));
        assert!(run("value_set: [1], ties_okay: true").success);
        assert!(!run("value_set: [3], ties_okay: true").success);
        let t = table("t", vec![("x", ints(&[Some(5), Some(5), Some(1)]))]);
        assert!(check("expectation: expect_column_most_common_value_to_be_in_set, column: x, value_set: [5]", &[&t]).success);
    }

    #[test]
    fn z_scores_against_the_mean_and_sample_deviation() {
        let t = table(
            "t",
            vec![(
                "x",
                ints(&[Some(3), Some(5), Some(7), None, Some(5), Some(5)]),
            )],
        );
        let run = |body: &str| {
            check(
                &format!(
                    "expectation: expect_column_value_z_scores_to_be_less_than, column: x, {body}"
                ),
                &[&t],
            )
        };
        // Sample deviation of 3, 5, 7, 5, 5: sqrt(8 / 4) = 1.414…; 7 has z = 1.414….
        let r = run("threshold: 1.5, double_sided: true");
        assert!(r.success, "{r:?}");
        let r = run("threshold: 1.4, double_sided: true");
        assert_eq!((r.unexpected_count, r.missing_count), (2, 1), "3 and 7");
        let r = run("threshold: 1.4, double_sided: false");
        assert_eq!(r.unexpected_count, 1, "only 7 is above");
        assert_eq!(crate::checks::testing::values(&r), ["7"]);
        let r = run("threshold: 1.4, double_sided: true, mostly: 0.6");
        assert!(r.success, "3 of 5 non-null values pass");
        let one = table("t", vec![("x", ints(&[Some(1), None]))]);
        let r = check(
            "expectation: expect_column_value_z_scores_to_be_less_than, column: x, threshold: 1, double_sided: true",
            &[&one],
        );
        assert!(
            r.success && r.skipped.is_some(),
            "no deviation of one value"
        );
    }

    proptest::proptest! {
        /// The fast paths against a sort: selected positions are the sorted values at
        /// them, and the bitmap's distinct count is the sorted run count.
        #[test]
        fn selection_and_the_bitmap_agree_with_a_sort(
            values in proptest::collection::vec(-300i64..300, 1..400),
            wide in proptest::bool::ANY,
            qs in proptest::collection::vec(0.0f64..=1.0, 1..6),
        ) {
            let values: Vec<i64> = if wide {
                values.iter().map(|v| v * 1_000_000_007).collect()
            } else {
                values
            };
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let n = values.len();
            let positions: Vec<usize> = qs
                .iter()
                .map(|q| ((q * (n - 1) as f64).round_ties_even() as usize).min(n - 1))
                .collect();
            let found = super::select_positions(&mut values.clone(), &positions);
            let want: Vec<i64> = positions.iter().map(|&i| sorted[i]).collect();
            proptest::prop_assert_eq!(found, want);
            let mut runs = sorted.clone();
            runs.dedup();
            proptest::prop_assert_eq!(super::distinct_raw(&[&values]), runs.len() as u64);
        }
    }

    proptest::proptest! {
        /// The integer moments (min and max in the stored type, the split exact sum)
        /// against the same figures taken value by value in i128.
        #[test]
        fn integer_moments_agree_with_a_plain_fold(
            values in proptest::collection::vec(proptest::option::of(proptest::num::i64::ANY), 0..300),
            small in proptest::bool::ANY,
        ) {
            let values: Vec<Option<i64>> = if small {
                values.iter().map(|v| v.map(|v| v % 1000)).collect()
            } else {
                values
            };
            let present: Vec<i128> = values.iter().flatten().map(|&v| i128::from(v)).collect();
            for array in [
                PrimitiveArray::<i64>::from(values.clone()).boxed(),
                PrimitiveArray::<i64>::from_vec(values.iter().flatten().copied().collect()).boxed(),
            ] {
                let m = super::Moments::of(array.as_ref());
                proptest::prop_assert_eq!(m.count, present.len() as u64);
                proptest::prop_assert_eq!(m.int_min, present.iter().min().copied());
                proptest::prop_assert_eq!(m.int_max, present.iter().max().copied());
                proptest::prop_assert_eq!(m.int_sum, present.iter().sum::<i128>());
            }
            let plain: Vec<i64> = values.iter().flatten().copied().collect();
            proptest::prop_assert_eq!(super::exact_sum(&plain), present.iter().sum::<i128>());
        }

        /// Few distinct texts are counted by comparison exactly as the hash map counts
        /// them (first row, count), also past the point where there are too many.
        #[test]
        fn few_texts_agree_with_the_hash_map(
            picks in proptest::collection::vec(proptest::option::of(0usize..24), 0..300),
            kinds in 1usize..24,
        ) {
            let words = [
                "", "a", "ab", "abc", "abcd", "abcde", "abcdefg", "abcdefgh", "abcdefghi",
                "Courier iOS", "Customer iOS", "Courier Android", "Customer Android",
                "exactly sixteen!", "seventeen bytes!!", "Łódź", "Łódź — 東京 and more text",
                "abcdefgh ", " abcdefgh", "b", "ba", "abdc", "abcdefgi", "Courier Androie",
            ];
            let texts: Vec<Option<&str>> =
                picks.iter().map(|p| p.map(|i| words[i % kinds])).collect();
            let array = arrow2::array::Utf8Array::<i32>::from(texts.clone());
            let fast = super::distinct_in(3, &array);
            let mut slow = super::Distinct::default();
            for (row, text) in texts.iter().enumerate() {
                if let Some(t) = text {
                    slow.entry(crate::types::Key::Text(t)).or_insert((3, row, 0)).2 += 1;
                }
            }
            proptest::prop_assert_eq!(fast, slow);
        }

        /// The windowed bitmap with outliers (and the hash set) count what a sort counts,
        /// whichever parts the values come in.
        #[test]
        fn distinct_counts_with_outliers_agree_with_a_sort(
            dense in proptest::collection::vec(0i64..2000, 0..500),
            outliers in proptest::collection::vec(proptest::num::i64::ANY, 0..40),
            cut in 0usize..600,
        ) {
            let mut values = dense.clone();
            values.extend(&outliers);
            let mut sorted = values.clone();
            sorted.sort_unstable();
            sorted.dedup();
            let cut = cut.min(values.len());
            let (a, b) = values.split_at(cut);
            proptest::prop_assert_eq!(super::distinct_raw(&[a, b]), sorted.len() as u64);
        }
    }
}
