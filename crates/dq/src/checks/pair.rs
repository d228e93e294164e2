//! Column pairs, row by row: `expect_column_pair_values_a_to_be_greater_than_b`,
//! `…_to_be_equal` and `…_to_be_in_set`; numbers with numbers, instants with instants,
//! text with text.

use arrow2::datatypes::DataType;

use super::{over_chunks, Run, Sample, Tally};
use crate::dataset::Dataset;
use crate::suite::{IgnoreRowIf, SetValue};
use crate::types::{self, Key, Reader, Scalar};

/// A > B (or A ≥ B) in every row not skipped by `ignore_row_if`; a row with a null that
/// is not skipped is unexpected, as are incomparable values (NaN).
pub(crate) fn a_greater_than_b(
    run: Run,
    ds: &Dataset,
    a: usize,
    b: usize,
    or_equal: bool,
    ignore: IgnoreRowIf,
) -> Tally {
    over_pairs(run, ds, a, b, ignore, |x, y| match (x, y) {
        (Some(x), Some(y)) => match x.partial_cmp(&y) {
            Some(std::cmp::Ordering::Greater) => false,
            Some(std::cmp::Ordering::Equal) => !or_equal,
            _ => true,
        },
        _ => true,
    })
}

/// A = B in every row not skipped; a row with one null is unexpected, one with two
/// nulls is equal.
pub(crate) fn pair_equal(run: Run, ds: &Dataset, a: usize, b: usize, ignore: IgnoreRowIf) -> Tally {
    over_pairs(run, ds, a, b, ignore, |x, y| match (x, y) {
        (Some(x), Some(y)) => x.partial_cmp(&y) != Some(std::cmp::Ordering::Equal),
        (None, None) => false,
        _ => true,
    })
}

/// (A, B) is one of `pairs` in every row not skipped; a null side matches a null.
pub(crate) fn pair_in_set(
    run: Run,
    ds: &Dataset,
    a: usize,
    b: usize,
    pairs: &[(Option<SetValue>, Option<SetValue>)],
    ignore: IgnoreRowIf,
) -> Tally {
    let type_of = |c: usize| ds.schema().fields[c].data_type().clone();
    let (ta, tb) = (type_of(a), type_of(b));
    let allowed: rustc_hash::FxHashSet<(Option<Key<'_>>, Option<Key<'_>>)> = pairs
        .iter()
        .filter_map(|(x, y)| Some((side_key(x, &ta)?, side_key(y, &tb)?)))
        .collect();
    over_pairs(run, ds, a, b, ignore, |x, y| {
        !allowed.contains(&(x.map(Scalar::key), y.map(Scalar::key)))
    })
}

/// The key of one side of a pair: `Some(None)` for a null, `None` when the value can
/// never equal one of the column's.
fn side_key<'a>(value: &'a Option<SetValue>, data_type: &DataType) -> Option<Option<Key<'a>>> {
    match value {
        None => Some(None),
        Some(v) => types::set_value_key(v, data_type).map(Some),
    }
}

/// Runs `bad` on the values of A and B of every row not skipped by `ignore`.
fn over_pairs<'d>(
    run: Run,
    ds: &'d Dataset,
    a: usize,
    b: usize,
    ignore: IgnoreRowIf,
    bad: impl Fn(Option<Scalar<'d>>, Option<Scalar<'d>>) -> bool + Sync,
) -> Tally {
    over_chunks(run, ds, |c, _| {
        // The dataset's own chunk, so that its values live as long as the dataset.
        let chunk = &ds.chunks()[c];
        let (array_a, array_b) = (chunk.arrays()[a].as_ref(), chunk.arrays()[b].as_ref());
        let mut tally = Tally {
            element_count: chunk.len() as u64,
            ..Tally::default()
        };
        let (Some(ra), Some(rb)) = (Reader::new(array_a), Reader::new(array_b)) else {
            tally.missing_count = chunk.len() as u64;
            return tally;
        };
        for i in 0..chunk.len() {
            let (x, y) = (ra.get(i), rb.get(i));
            let skipped = match (x.is_none(), y.is_none()) {
                (true, true) => ignore != IgnoreRowIf::Neither,
                (true, false) | (false, true) => ignore == IgnoreRowIf::EitherValueIsMissing,
                (false, false) => false,
            };
            if skipped {
                tally.missing_count += 1;
                continue;
            }
            if bad(x, y) {
                tally.unexpected_count += 1;
                if tally.samples.len() < run.limit {
                    let name = |col: usize| ds.schema().fields[col].name.as_str();
                    let text = |array| types::render(array, i).unwrap_or_else(|| "null".into());
                    tally.samples.push(Sample {
                        chunk: c,
                        row: i,
                        value: Some(format!(
                            "{}={}, {}={}",
                            name(a),
                            text(array_a),
                            name(b),
                            text(array_b)
                        )),
                    });
                }
            }
        }
        tally
    })
}

#[cfg(test)]
mod tests {
    use arrow2::array::PrimitiveArray;
    use arrow2::datatypes::{DataType, TimeUnit};

    use crate::checks::fixtures::{floats, ints, strs};
    use crate::checks::testing::{check, counts, table, values};

    const LATER: &str = "expectation: expect_column_pair_values_a_to_be_greater_than_b, column_A: last, column_B: first";

    fn times(values: &[Option<i64>]) -> Box<dyn arrow2::array::Array> {
        PrimitiveArray::<i64>::from(values)
            .to(DataType::Timestamp(
                TimeUnit::Microsecond,
                Some("UTC".into()),
            ))
            .boxed()
    }

    #[test]
    fn pairs_equal_with_gx_null_rules() {
        let t = table(
            "t",
            vec![
                ("a", ints(&[Some(1), Some(2), None, None, Some(4)])),
                (
                    "b",
                    floats(&[Some(1.0), Some(3.0), None, Some(1.0), Some(4.0)]),
                ),
            ],
        );
        let body = "expectation: expect_column_pair_values_to_be_equal, column_A: a, column_B: b";
        let r = check(body, &[&t]);
        assert_eq!(
            counts(&r),
            (5, 1, 2),
            "both null is skipped; one null is unexpected"
        );
        assert_eq!(values(&r), ["a=2, b=3", "a=null, b=1"]);
        let r = check(
            &format!("{body}, ignore_row_if: either_value_is_missing"),
            &[&t],
        );
        assert_eq!(counts(&r), (5, 2, 1));
        let r = check(&format!("{body}, ignore_row_if: neither"), &[&t]);
        assert_eq!(counts(&r), (5, 0, 2), "two nulls are equal");
        let r = check(&format!("{body}, mostly: 0.5"), &[&t]);
        assert!(r.success, "2 of 4 unexpected");
        assert!(!check(&format!("{body}, mostly: 0.51"), &[&t]).success);
    }

    #[test]
    fn pairs_in_a_set_of_pairs() {
        let t = table(
            "t",
            vec![
                (
                    "city",
                    strs(&[Some("BCN"), Some("MAD"), None, Some("BCN"), None]),
                ),
                ("zone", ints(&[Some(1), Some(1), Some(9), Some(2), None])),
            ],
        );
        let body = "expectation: expect_column_pair_values_to_be_in_set, column_A: city, column_B: zone, value_pairs_set: [[BCN, 1], [MAD, 1], [null, 9]]";
        let r = check(body, &[&t]);
        assert_eq!(counts(&r), (5, 1, 1));
        assert_eq!(values(&r), ["city=BCN, zone=2"]);
        let r = check(
            &format!("{body}, ignore_row_if: either_value_is_missing"),
            &[&t],
        );
        assert_eq!(counts(&r), (5, 2, 1));
        let empty = table("t", vec![("city", strs(&[])), ("zone", ints(&[]))]);
        assert!(check(body, &[&empty]).success, "no rows pass vacuously");
    }

    #[test]
    fn greater_than_passes_fails_and_allows_equal() {
        let t = table(
            "t",
            vec![
                ("last", times(&[Some(5), Some(5), Some(3)])),
                ("first", times(&[Some(1), Some(5), Some(4)])),
            ],
        );
        let r = check(LATER, &[&t]);
        assert!(!r.success);
        assert_eq!(counts(&r), (3, 0, 2));
        assert_eq!(
            values(&r)[1],
            "last=1970-01-01T00:00:00.000003Z, first=1970-01-01T00:00:00.000004Z"
        );
        let r = check(&format!("{LATER}, or_equal: true"), &[&t]);
        assert_eq!(r.unexpected_count, 1);
        let t = table(
            "t",
            vec![("last", ints(&[Some(2)])), ("first", floats(&[Some(1.5)]))],
        );
        assert!(check(LATER, &[&t]).success, "integers compare with floats");
        let t = table(
            "t",
            vec![("last", strs(&[Some("b")])), ("first", strs(&[Some("a")]))],
        );
        assert!(
            check(LATER, &[&t]).success,
            "text compares lexicographically"
        );
    }

    #[test]
    fn greater_than_null_rules() {
        let t = table(
            "t",
            vec![
                ("last", ints(&[Some(2), None, None])),
                ("first", ints(&[None, Some(1), None])),
            ],
        );
        let r = check(LATER, &[&t]);
        assert!(r.success);
        assert_eq!(
            counts(&r),
            (3, 3, 0),
            "by default a row with any null is skipped"
        );
        let r = check(
            &format!("{LATER}, ignore_row_if: both_values_are_missing"),
            &[&t],
        );
        assert_eq!(counts(&r), (3, 1, 2));
        let r = check(&format!("{LATER}, ignore_row_if: neither"), &[&t]);
        assert_eq!(counts(&r), (3, 0, 3));
    }

    #[test]
    fn greater_than_on_empty_input_and_mostly_boundary() {
        let t = table("t", vec![("last", ints(&[])), ("first", ints(&[]))]);
        assert!(check(LATER, &[&t]).success);
        let make = |bad: usize| {
            table(
                "t",
                vec![
                    (
                        "last",
                        ints(
                            &(0..100)
                                .map(|i| Some(if i < bad { 0 } else { 10 }))
                                .collect::<Vec<_>>(),
                        ),
                    ),
                    ("first", ints(&[Some(1); 100])),
                ],
            )
        };
        let r = check(&format!("{LATER}, mostly: 0.95"), &[&make(5)]);
        assert!(r.success && r.unexpected_count == 5);
        assert!(!check(&format!("{LATER}, mostly: 0.95"), &[&make(6)]).success);
    }
}
