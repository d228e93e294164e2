//! `expect_column_values_to_be_unique`: counts per value in an array for dense integer
//! keys, pages of bits for wide-ranging ids, a hash table of keys for anything else.

use rustc_hash::FxHashMap;

use super::shared::{int_bounds, readers, seen_and_repeated, tally_ints_chunk};
use crate::checks::int_set::IntSet;
use crate::checks::{all_missing, chunk_tally, over_chunks, scan, Run, Tally};
use crate::dataset::Dataset;
use crate::types::{classify, with_integers, ColumnClass, Key};

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
                    chunk_tally(c, array, result)
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
            return all_missing(array);
        };
        let result = scan(array.len(), array.validity(), run.limit, |i| {
            reader
                .get(i)
                .is_some_and(|v| counts.get(&v.key()).copied().unwrap_or(0) > 1)
        });
        chunk_tally(c, array, result)
    })
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
}
