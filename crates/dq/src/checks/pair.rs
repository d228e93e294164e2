//! Column-pair comparison: `expect_column_pair_values_a_to_be_greater_than_b`, row by
//! row, numbers with numbers, instants with instants, text with text.

use super::{over_chunks, Run, Sample, Tally};
use crate::dataset::Dataset;
use crate::suite::IgnoreRowIf;
use crate::types::{self, Reader};

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
    over_chunks(run, ds, |c, chunk| {
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
            let bad = match (ra.get(i), rb.get(i)) {
                (Some(x), Some(y)) => match x.partial_cmp(&y) {
                    Some(std::cmp::Ordering::Greater) => false,
                    Some(std::cmp::Ordering::Equal) => !or_equal,
                    _ => true,
                },
                (None, None) if ignore != IgnoreRowIf::Neither => {
                    tally.missing_count += 1;
                    continue;
                }
                (None, Some(_)) | (Some(_), None)
                    if ignore == IgnoreRowIf::EitherValueIsMissing =>
                {
                    tally.missing_count += 1;
                    continue;
                }
                _ => true,
            };
            if bad {
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
