//! The passes the cross-row checks share: integer columns read row by row or as pages of
//! bits, a column's values as dense ids over the whole table, and a tally of rows by a
//! verdict on their table-wide row number.

use arrow2::array::Array;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::checks::int_set::IntSet;
use crate::checks::{chunk_tally, over_chunks, scan, Run, Sample, Tally};
use crate::dataset::Dataset;
use crate::types::{self, classify, with_integers, ColumnClass, Key, Reader};

/// Readers for one column, one per chunk.
pub(super) fn readers(ds: &Dataset, col: usize) -> Vec<Option<Reader<'_>>> {
    ds.chunks()
        .iter()
        .map(|c| Reader::new(c.arrays()[col].as_ref()))
        .collect()
}

/// The range of integer values of a column, when it is an integer or temporal column
/// (raw values, not scaled to nanoseconds).
pub(super) fn int_bounds(ds: &Dataset, col: usize) -> Option<(i128, i128)> {
    let mut bounds: Option<(i128, i128)> = None;
    for chunk in ds.chunks() {
        let array = chunk.arrays()[col].as_ref();
        let chunk_bounds = with_integers!(
            array,
            |a| {
                let values = a.values();
                let mut lo = i128::MAX;
                let mut hi = i128::MIN;
                match a.validity().filter(|v| v.unset_bits() > 0) {
                    None => {
                        for &v in values.iter() {
                            let v = i128::from(v);
                            lo = lo.min(v);
                            hi = hi.max(v);
                        }
                    }
                    Some(validity) => {
                        for (&v, valid) in values.iter().zip(validity.iter()) {
                            if valid {
                                let v = i128::from(v);
                                lo = lo.min(v);
                                hi = hi.max(v);
                            }
                        }
                    }
                }
                (lo <= hi).then_some((lo, hi))
            },
            return None
        );
        if let Some((lo, hi)) = chunk_bounds {
            bounds = Some(match bounds {
                None => (lo, hi),
                Some((a, b)) => (a.min(lo), b.max(hi)),
            });
        }
    }
    bounds
}

/// Calls `f` with each row of an integer column: its value, or `None` for a null (and for
/// every row of a chunk of another type).
fn for_each_int_row(ds: &Dataset, col: usize, mut f: impl FnMut(Option<i128>)) {
    for chunk in ds.chunks() {
        for_each_int_row_of(chunk.arrays()[col].as_ref(), &mut f);
    }
}

/// [`for_each_int_row`] over one chunk's array.
pub(super) fn for_each_int_row_of(array: &dyn Array, mut f: impl FnMut(Option<i128>)) {
    with_integers!(
        array,
        |a| {
            let validity = a.validity().filter(|v| v.unset_bits() > 0);
            for (i, &v) in a.values().iter().enumerate() {
                f(validity.is_none_or(|b| b.get_bit(i)).then(|| i128::from(v)));
            }
        },
        (0..array.len()).for_each(|_| f(None))
    );
}

/// The non-null values of an integer column, and those among them seen on two rows or
/// more; chunks in parallel.
pub(super) fn seen_and_repeated(ds: &Dataset, col: usize) -> (IntSet, IntSet) {
    ds.chunks()
        .par_iter()
        .map(|chunk| {
            let (mut seen, mut repeated) = (IntSet::default(), IntSet::default());
            for_each_int_row_of(chunk.arrays()[col].as_ref(), |v| {
                if let Some(v) = v.filter(|&v| !seen.insert(v)) {
                    repeated.insert(v);
                }
            });
            (seen, repeated)
        })
        .reduce(
            || (IntSet::default(), IntSet::default()),
            |(seen_a, repeated_a), (seen_b, repeated_b)| {
                let mut repeated = repeated_a.union(repeated_b);
                seen_a.add_intersection(&seen_b, &mut repeated);
                (seen_a.union(seen_b), repeated)
            },
        )
}

/// [`tally_against`] on one chunk (chunk number `c`).
pub(super) fn tally_ints_chunk(
    limit: usize,
    c: usize,
    array: &dyn Array,
    set: &IntSet,
    unexpected_if_present: bool,
) -> Tally {
    let mut probe = set.probe();
    let result = with_integers!(
        array,
        |a| {
            let values = a.values();
            scan(a.len(), a.validity(), limit, |i| {
                probe.contains(i128::from(values[i])) == unexpected_if_present
            })
        },
        (0, 0, Vec::new())
    );
    chunk_tally(c, array, result)
}

/// A column's values as dense ids `0..cardinality` (`u32::MAX` for null), one per row
/// of the table: integer columns with a small range map `v - min` without hashing,
/// text is interned by `&str`, anything else by [`Key`].
pub(super) struct DenseIds {
    pub(super) ids: Vec<u32>,
    pub(super) cardinality: usize,
}

pub(super) const NULL_ID: u32 = u32::MAX;

/// The span limit of the no-hash path: a few ids per row at most.
fn dense_span_limit(rows: usize) -> i128 {
    (4 * rows as i128 + 1024).min(i128::from(u32::MAX - 1))
}

/// Appends one id per row of an integer column: `id_of(value)`, or `NULL_ID` for nulls
/// (and for every row of a non-integer chunk).
fn push_int_ids(ds: &Dataset, col: usize, ids: &mut Vec<u32>, mut id_of: impl FnMut(i128) -> u32) {
    for_each_int_row(ds, col, |v| ids.push(v.map_or(NULL_ID, &mut id_of)));
}

pub(super) fn dense_ids(ds: &Dataset, col: usize) -> DenseIds {
    let rows = ds.row_count();
    let class = classify(&ds.schema().fields[col].data_type);
    let mut ids = Vec::with_capacity(rows);
    if matches!(class, ColumnClass::Integer | ColumnClass::Temporal) {
        if let Some((lo, hi)) = int_bounds(ds, col) {
            if hi - lo < dense_span_limit(rows) {
                push_int_ids(ds, col, &mut ids, |v| (v - lo) as u32);
                return DenseIds {
                    ids,
                    cardinality: (hi - lo) as usize + 1,
                };
            }
        }
        // Wide-ranging integers (ids spread over 64 bits): hash the integer itself, not a
        // `Key`. Within one column the signed or unsigned value as 64 bits is one-to-one.
        let mut map: FxHashMap<u64, u32> = FxHashMap::default();
        map.reserve(rows);
        push_int_ids(ds, col, &mut ids, |v| {
            let next = map.len() as u32;
            *map.entry(v as u64).or_insert(next)
        });
        return DenseIds {
            ids,
            cardinality: map.len(),
        };
    }
    let cardinality = if class == ColumnClass::Text {
        let mut map: FxHashMap<&str, u32> = FxHashMap::default();
        for chunk in ds.chunks() {
            let array = chunk.arrays()[col].as_ref();
            match Reader::new(array) {
                Some(r) => ids.extend((0..r.len()).map(|i| match r.get(i) {
                    Some(types::Scalar::Text(s)) => {
                        let next = map.len() as u32;
                        *map.entry(s).or_insert(next)
                    }
                    _ => NULL_ID,
                })),
                None => ids.extend(std::iter::repeat_n(NULL_ID, array.len())),
            }
        }
        map.len()
    } else {
        let mut map: FxHashMap<Key<'_>, u32> = FxHashMap::default();
        for chunk in ds.chunks() {
            let array = chunk.arrays()[col].as_ref();
            match Reader::new(array) {
                Some(r) => ids.extend((0..r.len()).map(|i| match r.get(i) {
                    Some(v) => {
                        let next = map.len() as u32;
                        *map.entry(v.key()).or_insert(next)
                    }
                    None => NULL_ID,
                })),
                // Types without a reader are excluded when the suite is bound.
                None => ids.extend(std::iter::repeat_n(NULL_ID, array.len())),
            }
        }
        map.len()
    };
    DenseIds { ids, cardinality }
}

/// Row index of each chunk's first row.
pub(super) fn chunk_starts(ds: &Dataset) -> Vec<usize> {
    ds.chunks()
        .iter()
        .scan(0, |acc, c| {
            let s = *acc;
            *acc += c.len();
            Some(s)
        })
        .collect()
}

/// Text of a row over several columns: `a=1, b=x`.
pub(super) fn row_text(ds: &Dataset, cols: &[usize], chunk: usize, row: usize) -> String {
    cols.iter()
        .map(|&c| {
            let name = &ds.schema().fields[c].name;
            let value = types::render(ds.chunks()[chunk].arrays()[c].as_ref(), row)
                .unwrap_or_else(|| "null".into());
            format!("{name}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Counts rows by a per-row verdict over the whole table, keeping samples rendered by
/// `text`; `verdict(global_row)` is `None` to skip the row as missing.
pub(super) fn tally_rows(
    run: Run,
    ds: &Dataset,
    verdict: impl Fn(usize) -> Option<bool> + Sync + Send,
    text: impl Fn(usize, usize) -> String + Sync + Send,
) -> Tally {
    let starts = chunk_starts(ds);
    over_chunks(run, ds, |c, chunk| {
        let mut tally = Tally {
            element_count: chunk.len() as u64,
            ..Tally::default()
        };
        for row in 0..chunk.len() {
            match verdict(starts[c] + row) {
                None => tally.missing_count += 1,
                Some(false) => {}
                Some(true) => {
                    tally.unexpected_count += 1;
                    if tally.samples.len() < run.limit {
                        tally.samples.push(Sample {
                            chunk: c,
                            row,
                            value: Some(text(c, row)),
                        });
                    }
                }
            }
        }
        tally
    })
}
