//! `expect_compound_columns_to_be_unique`: each column as dense ids, folded pairwise into
//! one id per row, then counted.

use rustc_hash::FxHashMap;

use super::shared::{dense_ids, row_text, tally_rows, DenseIds, NULL_ID};
use crate::checks::{Run, Tally};
use crate::dataset::Dataset;

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

#[cfg(test)]
mod tests {
    use crate::checks::fixtures::{ints, strs};
    use crate::checks::testing::{check, counts, table, values};

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
}
