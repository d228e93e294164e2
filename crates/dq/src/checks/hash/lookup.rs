//! `expect_column_values_to_be_in_other_table`: the other table's column as a set, built
//! once, and the probed column's chunks looked up in it.

use arrow2::array::Array;
use rayon::prelude::*;
use rustc_hash::FxHashSet;

use super::shared::{for_each_int_row_of, readers, tally_ints_chunk};
use crate::checks::int_set::IntSet;
use crate::checks::{all_missing, chunk_tally, over_chunks, scan, Run, Tally};
use crate::dataset::Dataset;
use crate::types::{self, classify, ColumnClass, Key, Reader};

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
                    return all_missing(array);
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
                    return all_missing(array);
                };
                scan(array.len(), array.validity(), limit, |i| {
                    reader.get(i).is_some_and(|v| !set.contains(&v.key()))
                })
            }
        };
        chunk_tally(c, array, result)
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::fixtures::{ints, strs};
    use crate::checks::testing::{check, counts, table, values};

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
