//! Checks that look across rows through hash tables: uniqueness of a column or of a
//! combination of columns, one value of B per value of A, and membership in another
//! table's column. Each makes one pass to build a table and one pass to count rows.

use arrow2::array::Array;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::int_set::IntSet;
use super::{over_chunks, scan, Run, Sample, Tally};
use crate::dataset::Dataset;
use crate::types::{self, classify, with_integers, ColumnClass, Key, Reader};

/// Readers for one column, one per chunk.
fn readers(ds: &Dataset, col: usize) -> Vec<Option<Reader<'_>>> {
    ds.chunks()
        .iter()
        .map(|c| Reader::new(c.arrays()[col].as_ref()))
        .collect()
}

/// The range of integer values of a column, when it is an integer or temporal column
/// (raw values, not scaled to nanoseconds).
fn int_bounds(ds: &Dataset, col: usize) -> Option<(i128, i128)> {
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
fn for_each_int_row_of(array: &dyn Array, mut f: impl FnMut(Option<i128>)) {
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

/// The non-null values of an integer column as an [`IntSet`], its chunks in parallel.
fn int_set_of(ds: &Dataset, col: usize) -> IntSet {
    ds.chunks()
        .par_iter()
        .map(|chunk| {
            let mut set = IntSet::default();
            for_each_int_row_of(chunk.arrays()[col].as_ref(), |v| {
                if let Some(v) = v {
                    set.insert(v);
                }
            });
            set
        })
        .reduce(IntSet::default, IntSet::union)
}

/// The non-null values of an integer column, and those among them seen on two rows or
/// more; chunks in parallel.
fn seen_and_repeated(ds: &Dataset, col: usize) -> (IntSet, IntSet) {
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

/// Tallies an integer column against `set`: a value is unexpected when its presence in
/// the set is `unexpected_if_present`.
fn tally_against(
    run: Run,
    ds: &Dataset,
    col: usize,
    set: &IntSet,
    unexpected_if_present: bool,
) -> Tally {
    over_chunks(run, ds, |c, chunk| {
        tally_ints_chunk(
            run.limit,
            c,
            chunk.arrays()[col].as_ref(),
            set,
            unexpected_if_present,
        )
    })
}

/// [`tally_against`] on one chunk (chunk number `c`).
fn tally_ints_chunk(
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
    super::chunk_tally(c, array, result)
}

/// `expect_column_values_to_be_unique`: every row whose value occurs more than once is
/// unexpected (as in Great Expectations), nulls are skipped.
pub(crate) fn unique(run: Run, ds: &Dataset, col: usize) -> Tally {
    let class = classify(&ds.schema().fields[col].data_type);
    let rows = ds.row_count();
    // Dense integer keys (order ids, sequence numbers): count in an array, no hashing.
    if matches!(class, ColumnClass::Integer | ColumnClass::Temporal) {
        if let Some((lo, hi)) = int_bounds(ds, col) {
            let span = hi - lo;
            if span < (4 * rows as i128 + 1024).min(1 << 31) {
                let mut counts = vec![0u8; span as usize + 1];
                for chunk in ds.chunks() {
                    let array = chunk.arrays()[col].as_ref();
                    with_integers!(
                        array,
                        |a| {
                            let values = a.values();
                            let validity = a.validity().filter(|v| v.unset_bits() > 0);
                            for (i, &v) in values.iter().enumerate() {
                                if validity.is_none_or(|b| b.get_bit(i)) {
                                    let slot = &mut counts[(i128::from(v) - lo) as usize];
                                    *slot = slot.saturating_add(1).min(2);
                                }
                            }
                        },
                        ()
                    );
                }
                return over_chunks(run, ds, |c, chunk| {
                    let array = chunk.arrays()[col].as_ref();
                    let counts_ref = &counts;
                    let result = with_integers!(
                        array,
                        |a| {
                            let values = a.values();
                            scan(a.len(), a.validity(), run.limit, |i| {
                                counts_ref[(i128::from(values[i]) - lo) as usize] > 1
                            })
                        },
                        (0, 0, Vec::new())
                    );
                    super::chunk_tally(c, array, result)
                });
            }
        }
    }
    // Wide-ranging integer ids: the values seen, and those seen twice, as pages of bits.
    if class == ColumnClass::Integer {
        let (seen, repeated) = seen_and_repeated(ds, col);
        if seen.pages() <= rows / 16 + 64 {
            return tally_against(run, ds, col, &repeated, true);
        }
    }
    let readers = readers(ds, col);
    let mut counts: FxHashMap<Key<'_>, u8> = FxHashMap::default();
    counts.reserve(rows);
    for reader in readers.iter().flatten() {
        for i in 0..reader.len() {
            if let Some(v) = reader.get(i) {
                let slot = counts.entry(v.key()).or_insert(0);
                *slot = slot.saturating_add(1).min(2);
            }
        }
    }
    over_chunks(run, ds, |c, chunk| {
        let array = chunk.arrays()[col].as_ref();
        let Some(reader) = readers[c] else {
            return super::all_missing(array);
        };
        let result = scan(array.len(), array.validity(), run.limit, |i| {
            reader
                .get(i)
                .is_some_and(|v| counts.get(&v.key()).copied().unwrap_or(0) > 1)
        });
        super::chunk_tally(c, array, result)
    })
}

/// A column's values as dense ids `0..cardinality` (`u32::MAX` for null), one per row
/// of the table: integer columns with a small range map `v - min` without hashing,
/// text is interned by `&str`, anything else by [`Key`].
struct DenseIds {
    ids: Vec<u32>,
    cardinality: usize,
}

const NULL_ID: u32 = u32::MAX;

/// The span limit of the no-hash path: a few ids per row at most.
fn dense_span_limit(rows: usize) -> i128 {
    (4 * rows as i128 + 1024).min(i128::from(u32::MAX - 1))
}

/// Appends one id per row of an integer column: `id_of(value)`, or `NULL_ID` for nulls
/// (and for every row of a non-integer chunk).
fn push_int_ids(ds: &Dataset, col: usize, ids: &mut Vec<u32>, mut id_of: impl FnMut(i128) -> u32) {
    for_each_int_row(ds, col, |v| ids.push(v.map_or(NULL_ID, &mut id_of)));
}

fn dense_ids(ds: &Dataset, col: usize) -> DenseIds {
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
fn chunk_starts(ds: &Dataset) -> Vec<usize> {
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
fn row_text(ds: &Dataset, cols: &[usize], chunk: usize, row: usize) -> String {
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
fn tally_rows(
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

/// `expect_compound_columns_to_be_unique`: rows whose combination of values occurs more
/// than once are unexpected; rows where every column is null are skipped (a null is a
/// value otherwise).
pub(crate) fn compound_unique(run: Run, ds: &Dataset, cols: &[usize]) -> Tally {
    let rows = ds.row_count();
    let per_column: Vec<DenseIds> = cols.iter().map(|&c| dense_ids(ds, c)).collect();
    let all_null: Vec<bool> = (0..rows)
        .map(|r| per_column.iter().all(|d| d.ids[r] == NULL_ID))
        .collect();
    // Fold the columns pairwise into one dense id per row.
    let mut combined: Vec<u32> = per_column
        .first()
        .map_or_else(|| vec![0; rows], |d| d.ids.clone());
    let mut cardinality = per_column.first().map_or(1, |d| d.cardinality + 1);
    for d in per_column.iter().skip(1) {
        let mut pairs: FxHashMap<(u32, u32), u32> = FxHashMap::default();
        for (acc, &id) in combined.iter_mut().zip(&d.ids) {
            let next = pairs.len() as u32;
            *acc = *pairs.entry((*acc, id)).or_insert(next);
        }
        cardinality = pairs.len();
    }
    let mut counts = vec![0u8; cardinality.max(1)];
    for (r, &id) in combined.iter().enumerate() {
        if !all_null[r] {
            if let Some(slot) = counts.get_mut(id as usize) {
                *slot = slot.saturating_add(1).min(2);
            }
        }
    }
    tally_rows(
        run,
        ds,
        |r| (!all_null[r]).then(|| counts.get(combined[r] as usize).copied().unwrap_or(0) > 1),
        |c, row| row_text(ds, cols, c, row),
    )
}

/// `expect_column_pair_values_to_be_functionally_dependent`: every row of an A value
/// seen with two or more distinct B values is unexpected; rows with a null in A or B
/// are skipped.
pub(crate) fn functionally_dependent(run: Run, ds: &Dataset, a: usize, b: usize) -> Tally {
    functionally_dependent_on_ids(run, ds, a, b)
        .unwrap_or_else(|| functionally_dependent_dense(run, ds, a, b))
}

/// [`functionally_dependent`] for any columns: both as dense ids, one table over every row.
fn functionally_dependent_dense(run: Run, ds: &Dataset, a: usize, b: usize) -> Tally {
    let (ida, idb) = rayon::join(|| dense_ids(ds, a), || dense_ids(ds, b));
    let mut first = vec![NULL_ID; ida.cardinality];
    let mut conflict = vec![false; ida.cardinality];
    for (&x, &y) in ida.ids.iter().zip(&idb.ids) {
        if x != NULL_ID && y != NULL_ID {
            let slot = &mut first[x as usize];
            if *slot == NULL_ID {
                *slot = y;
            } else if *slot != y {
                conflict[x as usize] = true;
            }
        }
    }
    tally_rows(
        run,
        ds,
        |r| {
            let (x, y) = (ida.ids[r], idb.ids[r]);
            (x != NULL_ID && y != NULL_ID).then(|| conflict[x as usize])
        },
        |c, row| row_text(ds, &[a, b], c, row),
    )
}

/// [`functionally_dependent`] where A is a wide-ranging integer id (see [`IntSet`]): only
/// rows whose A value repeats can disagree, and where A is nearly unique they are few. They
/// are found with pages of bits, and B is compared on them alone — no table over every
/// row. `None` when A is not such a column.
fn functionally_dependent_on_ids(run: Run, ds: &Dataset, a: usize, b: usize) -> Option<Tally> {
    if classify(&ds.schema().fields[a].data_type) != ColumnClass::Integer {
        return None;
    }
    let (seen, repeated) = seen_and_repeated(ds, a);
    if seen.pages() > ds.row_count() / 16 + 64 {
        return None;
    }
    // (global row, A value) of every row whose A value repeats, in row order.
    let starts = chunk_starts(ds);
    let candidates: Vec<(usize, i128)> = ds
        .chunks()
        .par_iter()
        .zip(&starts)
        .flat_map_iter(|(chunk, &start)| {
            let mut probe = repeated.probe();
            let mut mine = Vec::new();
            let mut row = start;
            for_each_int_row_of(chunk.arrays()[a].as_ref(), |v| {
                if let Some(v) = v.filter(|&v| probe.contains(v)) {
                    mine.push((row, v));
                }
                row += 1;
            });
            mine
        })
        .collect();
    let b_readers = readers(ds, b);
    let b_key = |row: usize| {
        let c = starts.partition_point(|&s| s <= row) - 1;
        b_readers[c]
            .and_then(|r| r.get(row - starts[c]))
            .map(|v| v.key())
    };
    let mut first: FxHashMap<i128, (Key<'_>, bool)> = FxHashMap::default();
    for &(row, v) in &candidates {
        if let Some(key) = b_key(row) {
            first
                .entry(v)
                .and_modify(|(seen_key, conflict)| *conflict |= *seen_key != key)
                .or_insert((key, false));
        }
    }
    // Rows that break the rule: A in conflict and B present (A is, being a candidate).
    let unexpected: Vec<usize> = candidates
        .iter()
        .filter(|&&(row, v)| first.get(&v).is_some_and(|&(_, c)| c) && b_key(row).is_some())
        .map(|&(row, _)| row)
        .collect();
    Some(over_chunks(run, ds, |c, chunk| {
        let a_array = chunk.arrays()[a].as_ref();
        // A row is missing when A is null (or not an integer column) or B is null.
        let a_is_ints = with_integers!(a_array, |_x| true, false);
        let missing = match b_readers[c] {
            Some(b) if a_is_ints => {
                if a_array.null_count() == 0 && !b.has_nulls() {
                    0
                } else {
                    (0..chunk.len())
                        .filter(|&i| a_array.is_null(i) || b.is_null(i))
                        .count()
                }
            }
            _ => chunk.len(),
        };
        let start = starts[c];
        let mine = &unexpected[unexpected.partition_point(|&r| r < start)
            ..unexpected.partition_point(|&r| r < start + chunk.len())];
        Tally {
            element_count: chunk.len() as u64,
            missing_count: missing as u64,
            unexpected_count: mine.len() as u64,
            samples: mine
                .iter()
                .take(run.limit)
                .map(|&r| Sample {
                    chunk: c,
                    row: r - start,
                    value: Some(row_text(ds, &[a, b], c, r - start)),
                })
                .collect(),
        }
    }))
}

/// Whether keys of two column classes compare directly (else both sides are compared
/// as text).
fn keys_compatible(a: ColumnClass, b: ColumnClass) -> bool {
    matches!(
        (a, b),
        (
            ColumnClass::Integer | ColumnClass::Float,
            ColumnClass::Integer | ColumnClass::Float
        ) | (ColumnClass::Text, ColumnClass::Text)
            | (ColumnClass::Temporal, ColumnClass::Temporal)
            | (ColumnClass::Boolean, ColumnClass::Boolean)
    ) || a == ColumnClass::Null
        || b == ColumnClass::Null
}

/// `expect_column_values_to_be_in_other_table`: every non-null value occurs among the
/// non-null values of the other table's column.
pub(crate) fn in_other_table(
    run: Run,
    ds: &Dataset,
    col: usize,
    other: &Dataset,
    other_col: usize,
) -> Tally {
    let lookup = KeyLookup::new(
        classify(&ds.schema().fields[col].data_type),
        other,
        other_col,
    );
    over_chunks(run, ds, |c, chunk| {
        lookup.tally_chunk(run.limit, c, chunk.arrays()[col].as_ref())
    })
}

/// The values of another table's column, owned, for
/// `expect_column_values_to_be_in_other_table`: built once, then probed chunk by chunk —
/// after the run, or by a reader as each chunk is decoded once the other table is whole
/// (see [`crate::RowChecks::look_up_in`]).
pub(crate) struct KeyLookup {
    set: LookupSet,
}

impl std::fmt::Debug for KeyLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.set {
            LookupSet::Ints(_) => "pages of integers",
            LookupSet::Text(_) => "text",
            LookupSet::Keys(_) => "keys",
            LookupSet::Rendered(_) => "rendered text",
        };
        f.debug_struct("KeyLookup").field("set", &kind).finish()
    }
}

enum LookupSet {
    /// Both columns integers, ids in runs and clusters: pages of bits (see `IntSet`).
    Ints(IntSet),
    /// Both columns text.
    Text(FxHashSet<Box<str>>),
    /// Classes whose keys compare directly (numbers, instants, booleans). Text keys are
    /// never stored: a text column pairs with a non-text one here only when one of them
    /// is of the null type, and then either nothing is probed or nothing is stored.
    Keys(FxHashSet<Key<'static>>),
    /// Classes that compare only as text.
    Rendered(FxHashSet<String>),
}

impl KeyLookup {
    /// The non-null values of `other`'s column `other_col`, for probing a column of
    /// class `class`.
    pub(crate) fn new(class: ColumnClass, other: &Dataset, other_col: usize) -> KeyLookup {
        let other_class = classify(&other.schema().fields[other_col].data_type);
        let set = if class == ColumnClass::Integer && other_class == ColumnClass::Integer {
            // Unless the ids are so scattered that pages would cost more than a hash set.
            let present = int_set_of(other, other_col);
            (present.pages() <= other.row_count() / 16 + 64).then_some(LookupSet::Ints(present))
        } else {
            None
        };
        let set = set.unwrap_or_else(|| {
            if class == ColumnClass::Text && other_class == ColumnClass::Text {
                let mut set = FxHashSet::default();
                for r in readers(other, other_col).iter().flatten() {
                    for i in 0..r.len() {
                        if let Some(types::Scalar::Text(s)) = r.get(i) {
                            if !set.contains(s) {
                                set.insert(Box::from(s));
                            }
                        }
                    }
                }
                LookupSet::Text(set)
            } else if keys_compatible(class, other_class) {
                let mut set = FxHashSet::default();
                set.reserve(other.row_count());
                for r in readers(other, other_col).iter().flatten() {
                    for i in 0..r.len() {
                        match r.get(i).map(|v| v.key()) {
                            Some(Key::Int(v)) => set.insert(Key::Int(v)),
                            Some(Key::Float(v)) => set.insert(Key::Float(v)),
                            Some(Key::Bool(v)) => set.insert(Key::Bool(v)),
                            Some(Key::Text(_)) | None => false,
                        };
                    }
                }
                LookupSet::Keys(set)
            } else {
                let mut set = FxHashSet::default();
                for chunk in other.chunks() {
                    let array = chunk.arrays()[other_col].as_ref();
                    for i in 0..array.len() {
                        if let Some(text) = types::render(array, i) {
                            set.insert(text);
                        }
                    }
                }
                LookupSet::Rendered(set)
            }
        });
        KeyLookup { set }
    }

    /// The tally of one chunk (chunk number `c`) of the probed column: its non-null
    /// values that the other column does not have are unexpected.
    pub(crate) fn tally_chunk(&self, limit: usize, c: usize, array: &dyn Array) -> Tally {
        let result = match &self.set {
            LookupSet::Ints(set) => return tally_ints_chunk(limit, c, array, set, false),
            LookupSet::Rendered(set) => scan(array.len(), array.validity(), limit, |i| {
                types::render(array, i).is_some_and(|t| !set.contains(&t))
            }),
            LookupSet::Text(set) => {
                let Some(reader) = Reader::new(array) else {
                    return super::all_missing(array);
                };
                scan(
                    array.len(),
                    array.validity(),
                    limit,
                    |i| matches!(reader.get(i), Some(types::Scalar::Text(s)) if !set.contains(s)),
                )
            }
            LookupSet::Keys(set) => {
                let Some(reader) = Reader::new(array) else {
                    return super::all_missing(array);
                };
                scan(array.len(), array.validity(), limit, |i| {
                    reader.get(i).is_some_and(|v| !set.contains(&v.key()))
                })
            }
        };
        super::chunk_tally(c, array, result)
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::fixtures::{floats, ints, mostly_boundary, strs};
    use crate::checks::testing::{check, chunked, counts, table, values};
    use crate::dataset::Location;

    const UNIQUE: &str = "expectation: expect_column_values_to_be_unique, column: c";

    #[test]
    fn unique_passes_and_fails_on_every_repeated_row() {
        let t = table("t", vec![("c", ints(&[Some(1), Some(2), None, None]))]);
        let r = check(UNIQUE, &[&t]);
        assert!(r.success, "nulls are not values");
        assert_eq!(counts(&r), (4, 2, 0));
        let t = table(
            "t",
            vec![("c", ints(&[Some(1), Some(2), Some(2), Some(3), None]))],
        );
        let r = check(UNIQUE, &[&t]);
        assert_eq!(
            (counts(&r), values(&r)),
            ((5, 1, 2), vec!["2".to_string(), "2".to_string()])
        );
    }

    #[test]
    fn unique_across_chunks_sparse_keys_and_text() {
        let t = chunked(
            "t",
            vec![
                vec![("c", ints(&[Some(1 << 40), Some(7)]))],
                vec![("c", ints(&[Some(1 << 40)]))],
            ],
        );
        let r = check(UNIQUE, &[&t]);
        assert_eq!(r.unexpected_count, 2);
        let records: Vec<Option<Location>> = r
            .partial_unexpected
            .iter()
            .map(|u| u.location.clone())
            .collect();
        assert_eq!(
            records,
            [1, 3].map(|record| Some(Location::Source {
                file: "t.csv".into(),
                record,
                line: None
            }))
        );
        let t = table("t", vec![("c", strs(&[Some("a"), Some("b"), Some("a")]))]);
        assert_eq!(values(&check(UNIQUE, &[&t])), ["a", "a"]);
        let t = table("t", vec![("c", floats(&[Some(1.0), Some(1.5), Some(1.0)]))]);
        assert_eq!(check(UNIQUE, &[&t]).unexpected_count, 2);
    }

    #[test]
    fn unique_on_empty_input_and_mostly_boundary() {
        let t = table("t", vec![("c", ints(&[]))]);
        assert!(check(UNIQUE, &[&t]).success);
        // `bad` rows share one value: all of them are unexpected.
        mostly_boundary(UNIQUE, |bad| {
            ints(
                &(0..100)
                    .map(|i| Some(if i < bad { -1 } else { i as i64 }))
                    .collect::<Vec<_>>(),
            )
        });
    }

    const COMPOUND: &str = "expectation: expect_compound_columns_to_be_unique, column_list: [a, b]";

    #[test]
    fn compound_unique_counts_repeated_combinations() {
        let t = table(
            "t",
            vec![
                ("a", ints(&[Some(1), Some(1), Some(1), None, None, Some(2)])),
                (
                    "b",
                    strs(&[Some("x"), Some("y"), Some("x"), None, None, None]),
                ),
            ],
        );
        let r = check(COMPOUND, &[&t]);
        assert!(!r.success);
        assert_eq!(
            counts(&r),
            (6, 2, 2),
            "rows where every column is null are skipped"
        );
        assert_eq!(values(&r), ["a=1, b=x", "a=1, b=x"]);
        let t = table(
            "t",
            vec![
                ("a", ints(&[Some(1), Some(1)])),
                ("b", strs(&[Some("x"), None])),
            ],
        );
        assert!(
            check(COMPOUND, &[&t]).success,
            "a null is a value when another column has one"
        );
    }

    #[test]
    fn compound_unique_on_empty_input_and_mostly_boundary() {
        let t = table("t", vec![("a", ints(&[])), ("b", strs(&[]))]);
        assert!(check(COMPOUND, &[&t]).success);
        let five = table(
            "t",
            vec![
                (
                    "a",
                    ints(
                        &(0..100)
                            .map(|i| Some(if i < 5 { -1 } else { i }))
                            .collect::<Vec<_>>(),
                    ),
                ),
                ("b", ints(&[Some(0); 100])),
            ],
        );
        let r = check(&format!("{COMPOUND}, mostly: 0.95"), &[&five]);
        assert!(r.success && r.unexpected_count == 5);
        let six = table(
            "t",
            vec![
                (
                    "a",
                    ints(
                        &(0..100)
                            .map(|i| Some(if i < 6 { -1 } else { i }))
                            .collect::<Vec<_>>(),
                    ),
                ),
                ("b", ints(&[Some(0); 100])),
            ],
        );
        assert!(!check(&format!("{COMPOUND}, mostly: 0.95"), &[&six]).success);
    }

    proptest::proptest! {
        #[test]
        fn functional_dependency_on_ids_agrees_with_dense_ids(
            rows in proptest::collection::vec(
                (proptest::option::weighted(0.9, 0i64..40), proptest::option::weighted(0.9, 0u8..3)),
                0..120,
            ),
            wide in proptest::bool::ANY,
            chunk_rows in 1usize..50,
        ) {
            let a: Vec<Option<i64>> = rows
                .iter()
                .map(|(a, _)| a.map(|v| if wide { v << 50 } else { v }))
                .collect();
            let b: Vec<Option<String>> = rows.iter().map(|(_, b)| b.map(|c| format!("c{c}"))).collect();
            let chunks: Vec<Vec<(&str, Box<dyn arrow2::array::Array>)>> = a
                .chunks(chunk_rows)
                .zip(b.chunks(chunk_rows))
                .map(|(a, b)| {
                    let b: Vec<Option<&str>> = b.iter().map(|v| v.as_deref()).collect();
                    vec![("a", ints(a)), ("b", strs(&b))]
                })
                .collect();
            proptest::prop_assume!(!chunks.is_empty());
            let ds = chunked("t", chunks);
            let run = super::Run { limit: 5, parallel: false, only_chunk: None };
            let fast = super::functionally_dependent_on_ids(run, &ds, 0, 1).expect("integer ids");
            let dense = super::functionally_dependent_dense(run, &ds, 0, 1);
            let key = |t: &super::Tally| (
                t.element_count,
                t.missing_count,
                t.unexpected_count,
                t.samples.iter().map(|s| (s.chunk, s.row, s.value.clone())).collect::<Vec<_>>(),
            );
            proptest::prop_assert_eq!(key(&fast), key(&dense));
        }
    }

    const ONE_CITY: &str =
        "expectation: expect_column_pair_values_to_be_functionally_dependent, column_A: orderId, column_B: cityCode";

    #[test]
    fn functional_dependency_flags_every_row_of_a_conflicting_key() {
        let t = table(
            "t",
            vec![
                (
                    "orderId",
                    ints(&[Some(1), Some(1), Some(2), Some(2), Some(3), None]),
                ),
                (
                    "cityCode",
                    strs(&[
                        Some("BCN"),
                        Some("BCN"),
                        Some("MAD"),
                        Some("BCN"),
                        None,
                        Some("LIS"),
                    ]),
                ),
            ],
        );
        let r = check(ONE_CITY, &[&t]);
        assert!(!r.success);
        assert_eq!(counts(&r), (6, 2, 2));
        assert_eq!(
            values(&r),
            ["orderId=2, cityCode=MAD", "orderId=2, cityCode=BCN"]
        );
        let t = table(
            "t",
            vec![
                ("orderId", ints(&[Some(1), Some(1)])),
                ("cityCode", strs(&[Some("BCN"), Some("BCN")])),
            ],
        );
        assert!(
            check(ONE_CITY, &[&t]).success,
            "a repeated row with the same city is one order"
        );
    }

    #[test]
    fn functional_dependency_on_empty_input_and_mostly_boundary() {
        let t = table("t", vec![("orderId", ints(&[])), ("cityCode", strs(&[]))]);
        assert!(check(ONE_CITY, &[&t]).success);
        let make = |bad: usize| {
            table(
                "t",
                vec![
                    (
                        "orderId",
                        ints(
                            &(0..100)
                                .map(|i| Some(if i < bad { -1 } else { i as i64 }))
                                .collect::<Vec<_>>(),
                        ),
                    ),
                    (
                        "cityCode",
                        ints(&(0..100).map(|i| Some(i as i64)).collect::<Vec<_>>()),
                    ),
                ],
            )
        };
        let r = check(&format!("{ONE_CITY}, mostly: 0.95"), &[&make(5)]);
        assert!(r.success && r.unexpected_count == 5);
        assert!(!check(&format!("{ONE_CITY}, mostly: 0.95"), &[&make(6)]).success);
    }

    const IN_ORDERS: &str =
        "expectation: expect_column_values_to_be_in_other_table, column: orderId, other_table: orders, other_column: orderId";

    #[test]
    fn in_other_table_finds_orphans() {
        let messages = table(
            "messages",
            vec![("orderId", ints(&[Some(1), Some(2), Some(9), None]))],
        );
        let orders = table(
            "orders",
            vec![("orderId", ints(&[Some(1), Some(2), Some(3), None]))],
        );
        let r = check(IN_ORDERS, &[&messages, &orders]);
        assert!(!r.success);
        assert_eq!((counts(&r), values(&r)), ((4, 1, 1), vec!["9".to_string()]));
        let orders = table(
            "orders",
            vec![("orderId", ints(&[Some(9), Some(2), Some(1)]))],
        );
        assert!(check(IN_ORDERS, &[&messages, &orders]).success);
    }

    #[test]
    fn in_other_table_compares_mixed_types_as_text() {
        let messages = table("messages", vec![("orderId", strs(&[Some("1"), Some("x")]))]);
        let orders = table("orders", vec![("orderId", ints(&[Some(1)]))]);
        assert_eq!(values(&check(IN_ORDERS, &[&messages, &orders])), ["x"]);
    }

    #[test]
    fn in_other_table_on_empty_input_and_mostly_boundary() {
        let messages = table("messages", vec![("orderId", ints(&[]))]);
        let orders = table("orders", vec![("orderId", ints(&[]))]);
        assert!(check(IN_ORDERS, &[&messages, &orders]).success);
        let orders = table(
            "orders",
            vec![("orderId", ints(&(0..100).map(Some).collect::<Vec<_>>()))],
        );
        let make = |bad: usize| {
            table(
                "messages",
                vec![(
                    "orderId",
                    ints(
                        &(0..100)
                            .map(|i| Some(if i < bad { 1000 } else { i as i64 }))
                            .collect::<Vec<_>>(),
                    ),
                )],
            )
        };
        let r = check(&format!("{IN_ORDERS}, mostly: 0.95"), &[&make(5), &orders]);
        assert!(r.success && r.unexpected_count == 5);
        assert!(!check(&format!("{IN_ORDERS}, mostly: 0.95"), &[&make(6), &orders]).success);
    }
}
