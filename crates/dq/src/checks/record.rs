//! Multicolumn checks, each record on its own: `expect_select_column_values_to_be_unique_within_record`
//! and `expect_multicolumn_sum_to_equal`. A record skipped by `ignore_row_if` counts as
//! missing; the example shown is the record's values, `column=value` each.

use super::column::FloatRange;
use super::{over_chunks, Run, Sample, Tally};
use crate::dataset::Dataset;
use crate::suite::{Bound, IgnoreRecordIf};
use crate::types::{self, Reader, Scalar};

/// Runs `bad` on every record not skipped, with the values of `cols` (null as `None`).
fn over_records(
    run: Run,
    ds: &Dataset,
    cols: &[usize],
    ignore: IgnoreRecordIf,
    bad: impl Fn(&[Option<Scalar<'_>>]) -> bool + Sync,
) -> Tally {
    over_chunks(run, ds, |c, chunk| {
        let arrays: Vec<&dyn arrow2::array::Array> =
            cols.iter().map(|&i| chunk.arrays()[i].as_ref()).collect();
        let readers: Vec<Option<Reader<'_>>> = arrays.iter().map(|a| Reader::new(*a)).collect();
        let mut tally = Tally {
            element_count: chunk.len() as u64,
            ..Tally::default()
        };
        let mut values: Vec<Option<Scalar<'_>>> = Vec::with_capacity(cols.len());
        for row in 0..chunk.len() {
            values.clear();
            values.extend(readers.iter().map(|r| r.and_then(|r| r.get(row))));
            let nulls = values.iter().filter(|v| v.is_none()).count();
            let skipped = match ignore {
                IgnoreRecordIf::AllValuesAreMissing => nulls == values.len(),
                IgnoreRecordIf::AnyValueIsMissing => nulls > 0,
                IgnoreRecordIf::Never => false,
            };
            if skipped {
                tally.missing_count += 1;
                continue;
            }
            if bad(&values) {
                tally.unexpected_count += 1;
                if tally.samples.len() < run.limit {
                    let text: Vec<String> = cols
                        .iter()
                        .zip(&arrays)
                        .map(|(&col, array)| {
                            let value = types::render(*array, row).unwrap_or_else(|| "null".into());
                            format!("{}={value}", ds.schema().fields[col].name)
                        })
                        .collect();
                    tally.samples.push(Sample {
                        chunk: c,
                        row,
                        value: Some(text.join(", ")),
                    });
                }
            }
        }
        tally
    })
}

/// No two of the record's values are equal (two nulls are, as GX counts them with
/// `dropna=False`).
pub(crate) fn unique_within_record(
    run: Run,
    ds: &Dataset,
    cols: &[usize],
    ignore: IgnoreRecordIf,
) -> Tally {
    over_records(run, ds, cols, ignore, |values| {
        values.iter().enumerate().any(|(i, a)| {
            values[i + 1..].iter().any(|b| match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => a.partial_cmp(b) == Some(std::cmp::Ordering::Equal),
                _ => false,
            })
        })
    })
}

/// The record's values add up to `total` (integers exactly); a null, a NaN or a value
/// that is not a number makes the record unexpected.
pub(crate) fn sum_equal(
    run: Run,
    ds: &Dataset,
    cols: &[usize],
    total: &Bound,
    ignore: IgnoreRecordIf,
) -> Tally {
    let exact = FloatRange::new(Some(total), Some(total), false, false);
    over_records(run, ds, cols, ignore, |values| {
        let mut ints = 0i128;
        let mut floats = 0f64;
        let mut any_float = false;
        for value in values {
            match value {
                Some(Scalar::Int(i)) => ints = ints.saturating_add(*i),
                Some(Scalar::Float(f)) => {
                    floats += f;
                    any_float = true;
                }
                _ => return true,
            }
        }
        match (any_float, total) {
            (false, Bound::Int(t)) => ints != i128::from(*t),
            _ => !exact.contains(ints as f64 + floats),
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::checks::fixtures::{floats, ints};
    use crate::checks::testing::{check, counts, table, values};

    #[test]
    fn values_unique_within_each_record() {
        let t = table(
            "t",
            vec![
                ("a", ints(&[Some(1), Some(1), None, None, Some(2)])),
                ("b", ints(&[Some(2), Some(1), None, Some(3), None])),
                ("c", ints(&[Some(3), Some(4), None, None, Some(5)])),
            ],
        );
        let body = "expectation: expect_select_column_values_to_be_unique_within_record, column_list: [a, b, c]";
        let r = check(body, &[&t]);
        assert_eq!(counts(&r), (5, 1, 2), "the all-null record is skipped");
        assert_eq!(values(&r), ["a=1, b=1, c=4", "a=null, b=3, c=null"]);
        let r = check(
            &format!("{body}, ignore_row_if: any_value_is_missing"),
            &[&t],
        );
        assert_eq!(counts(&r), (5, 3, 1));
        let r = check(&format!("{body}, ignore_row_if: never"), &[&t]);
        assert_eq!(counts(&r), (5, 0, 3), "three nulls are the same value");
    }

    #[test]
    fn multicolumn_sums() {
        let t = table(
            "t",
            vec![
                ("a", ints(&[Some(1), Some(2), None, Some(5)])),
                ("b", floats(&[Some(2.0), Some(0.5), None, None])),
            ],
        );
        let body =
            "expectation: expect_multicolumn_sum_to_equal, column_list: [a, b], sum_total: 3";
        let r = check(body, &[&t]);
        assert_eq!(counts(&r), (4, 1, 2));
        assert_eq!(
            values(&r),
            ["a=2, b=0.5", "a=5, b=null"],
            "a null in a record not skipped is unexpected"
        );
        let r = check(
            &format!("{body}, ignore_row_if: any_value_is_missing"),
            &[&t],
        );
        assert_eq!(counts(&r), (4, 2, 1));
    }
}
