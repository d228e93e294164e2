//! `expect_column_values_to_be_increasing` and `…_decreasing`: each non-null value
//! against the row right before it in the table's order (the previous chunk's last row
//! for a chunk's first), as Great Expectations compares a row with its predecessor: the
//! first row, and a row after a null, have nothing to compare with and pass.

use super::{chunk_tally, over_chunks, scan, Run, Tally};
use crate::dataset::Dataset;
use crate::types::{Reader, Scalar};

/// Unexpected: a value below (decreasing: above) the one before it, or equal with
/// `strictly`; values that do not compare (NaN) are unexpected.
pub(crate) fn monotonic(
    run: Run,
    ds: &Dataset,
    col: usize,
    decreasing: bool,
    strictly: bool,
) -> Tally {
    let chunks = ds.chunks();
    // The row before a chunk's first: the last row of the nearest non-empty chunk before.
    let before = |c: usize| -> Option<Scalar<'_>> {
        let previous = chunks[..c].iter().rev().find(|chunk| !chunk.is_empty())?;
        let reader = Reader::new(previous.arrays()[col].as_ref())?;
        reader.get(reader.len() - 1)
    };
    over_chunks(run, ds, |c, chunk| {
        let array = chunk.arrays()[col].as_ref();
        let Some(reader) = Reader::new(array) else {
            return chunk_tally(
                c,
                array,
                scan(array.len(), array.validity(), run.limit, |_| true),
            );
        };
        let first_before = before(c);
        let counts = scan(array.len(), array.validity(), run.limit, |i| {
            let previous = if i == 0 {
                first_before
            } else {
                reader.get(i - 1)
            };
            let (Some(previous), Some(value)) = (previous, reader.get(i)) else {
                return false;
            };
            match value.partial_cmp(&previous) {
                Some(std::cmp::Ordering::Equal) => strictly,
                Some(std::cmp::Ordering::Greater) => decreasing,
                Some(std::cmp::Ordering::Less) => !decreasing,
                None => true,
            }
        });
        chunk_tally(c, array, counts)
    })
}

#[cfg(test)]
mod tests {
    use crate::checks::fixtures::{floats, ints};
    use crate::checks::testing::{check, chunked, counts, table, values};

    const UP: &str = "expectation: expect_column_values_to_be_increasing, column: x";

    #[test]
    fn each_value_is_compared_with_the_row_before() {
        let t = table(
            "t",
            vec![("x", ints(&[Some(1), Some(2), Some(2), Some(1), Some(3)]))],
        );
        let r = check(UP, &[&t]);
        assert_eq!(counts(&r), (5, 0, 1));
        assert_eq!(values(&r), ["1"]);
        let r = check(&format!("{UP}, strictly: true"), &[&t]);
        assert_eq!(
            values(&r),
            ["2", "1"],
            "an equal neighbour is not strictly increasing"
        );
        let down = check(
            "expectation: expect_column_values_to_be_decreasing, column: x",
            &[&t],
        );
        assert_eq!(values(&down), ["2", "3"]);
    }

    #[test]
    fn nulls_are_skipped_and_break_the_comparison() {
        let t = table("t", vec![("x", ints(&[Some(5), None, Some(1), Some(0)]))]);
        let r = check(UP, &[&t]);
        assert_eq!(counts(&r), (4, 1, 1), "1 follows a null; 0 follows 1");
        assert_eq!(values(&r), ["0"]);
        let empty = table("t", vec![("x", ints(&[None, None]))]);
        assert!(check(UP, &[&empty]).success);
    }

    #[test]
    fn the_first_row_of_a_chunk_is_compared_with_the_last_of_the_chunk_before() {
        let t = chunked(
            "t",
            vec![
                vec![("x", floats(&[Some(1.0), Some(2.0)]))],
                vec![("x", floats(&[]))],
                vec![("x", floats(&[Some(1.5)]))],
            ],
        );
        let r = check(UP, &[&t]);
        assert_eq!(values(&r), ["1.5"]);
        let r = check(&format!("{UP}, mostly: 0.66"), &[&t]);
        assert!(r.success, "2 of 3 values pass");
        assert!(!check(&format!("{UP}, mostly: 0.67"), &[&t]).success);
    }
}
