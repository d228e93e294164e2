//! `expect_column_pair_values_to_be_functionally_dependent`: one B value per A value,
//! found through pages of bits where A is a wide-ranging integer id, else through dense
//! ids of both columns.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::shared::{
    chunk_starts, dense_ids, for_each_int_row_of, readers, row_text, seen_and_repeated, tally_rows,
    NULL_ID,
};
use crate::checks::{over_chunks, Run, Sample, Tally};
use crate::dataset::Dataset;
use crate::types::{classify, with_integers, ColumnClass, Key};

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

/// [`functionally_dependent`] where A is a wide-ranging integer id (see
/// [`IntSet`](crate::checks::int_set::IntSet)): only rows whose A value repeats can
/// disagree, and where A is nearly unique they are few. They are found with pages of bits,
/// and B is compared on them alone — no table over every row. `None` when A is not such a
/// column.
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

#[cfg(test)]
mod tests {
    use crate::checks::fixtures::{ints, strs};
    use crate::checks::testing::{check, chunked, counts, table, values};

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
}
