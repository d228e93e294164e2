//! The expectation implementations. Each column check runs per chunk (in parallel when
//! asked) into a [`Tally`] of mergeable counters, merged in chunk order so that the
//! sampled unexpected values come out in row order.

pub(crate) mod aggregate;
pub(crate) mod column;
pub(crate) mod hash;
pub(crate) mod history;
mod int_set;
pub(crate) mod order;
pub(crate) mod pair;
pub(crate) mod record;
mod short_texts;
pub(crate) mod table;

use arrow2::array::Array;
use arrow2::bitmap::Bitmap;
use arrow2::chunk::Chunk;
use rayon::prelude::*;

use crate::dataset::Dataset;

/// How a run goes: how many unexpected values to keep, whether to use threads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Run {
    pub limit: usize,
    pub parallel: bool,
    /// Only this chunk (the engine's chunk-major pass over row-local checks).
    pub only_chunk: Option<usize>,
}

/// An unexpected row kept as an example.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub chunk: usize,
    pub row: usize,
    pub value: Option<String>,
}

/// Mergeable counters of one expectation over some rows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally {
    pub element_count: u64,
    pub missing_count: u64,
    pub unexpected_count: u64,
    pub samples: Vec<Sample>,
}

impl Tally {
    /// Adds `later` (rows after this tally's rows) to this one.
    pub(crate) fn merge(mut self, later: Tally, limit: usize) -> Tally {
        self.element_count += later.element_count;
        self.missing_count += later.missing_count;
        self.unexpected_count += later.unexpected_count;
        if self.samples.len() < limit {
            self.samples.extend(later.samples);
            self.samples.truncate(limit);
        }
        self
    }
}

/// Runs `f` on every chunk and merges the tallies in chunk order.
pub(crate) fn over_chunks<F>(run: Run, ds: &Dataset, f: F) -> Tally
where
    F: Fn(usize, &Chunk<Box<dyn Array>>) -> Tally + Sync + Send,
{
    if let Some(c) = run.only_chunk {
        return ds
            .chunks()
            .get(c)
            .map_or_else(Tally::default, |chunk| f(c, chunk));
    }
    if run.parallel && ds.chunks().len() > 1 {
        ds.chunks()
            .par_iter()
            .enumerate()
            .map(|(c, chunk)| f(c, chunk))
            .reduce(Tally::default, |a, b| a.merge(b, run.limit))
    } else {
        ds.chunks()
            .iter()
            .enumerate()
            .fold(Tally::default(), |acc, (c, chunk)| {
                acc.merge(f(c, chunk), run.limit)
            })
    }
}

/// Counts for one chunk: rows not set in `validity` are missing; other rows for which
/// `bad` holds are unexpected, and the first `limit` of them are returned.
#[inline]
pub(crate) fn scan(
    len: usize,
    validity: Option<&Bitmap>,
    limit: usize,
    mut bad: impl FnMut(usize) -> bool,
) -> (u64, u64, Vec<usize>) {
    let mut unexpected = 0u64;
    let mut rows = Vec::new();
    let mut missing = 0u64;
    match validity.filter(|v| v.unset_bits() > 0) {
        None => {
            for i in 0..len {
                if bad(i) {
                    unexpected += 1;
                    if rows.len() < limit {
                        rows.push(i);
                    }
                }
            }
        }
        Some(v) => {
            missing = v.unset_bits() as u64;
            for (i, valid) in v.iter().enumerate() {
                if valid && bad(i) {
                    unexpected += 1;
                    if rows.len() < limit {
                        rows.push(i);
                    }
                }
            }
        }
    }
    (missing, unexpected, rows)
}

/// A tally of one chunk from a [`scan`], rendering sampled rows of `array`.
pub(crate) fn chunk_tally(
    chunk: usize,
    array: &dyn Array,
    (missing, unexpected, rows): (u64, u64, Vec<usize>),
) -> Tally {
    Tally {
        element_count: array.len() as u64,
        missing_count: missing,
        unexpected_count: unexpected,
        samples: rows
            .into_iter()
            .map(|row| Sample {
                chunk,
                row,
                value: crate::types::render(array, row),
            })
            .collect(),
    }
}

/// A tally where every row is missing (a column of the null type).
pub(crate) fn all_missing(array: &dyn Array) -> Tally {
    Tally {
        element_count: array.len() as u64,
        missing_count: array.len() as u64,
        ..Tally::default()
    }
}

/// Helpers for the expectation tests: one-chunk datasets and one-expectation suites.
#[cfg(test)]
pub(crate) mod testing {
    use std::collections::BTreeMap;

    use arrow2::array::Array;
    use arrow2::chunk::Chunk;
    use arrow2::datatypes::{Field, Schema};

    use crate::dataset::{ChunkOrigin, Dataset};
    use crate::engine::{validate, Options};
    use crate::result::ExpectationResult;
    use crate::suite::Suite;

    /// A table of one chunk read from `<name>.csv`, records numbered from 1.
    pub(crate) fn table(name: &str, columns: Vec<(&str, Box<dyn Array>)>) -> Dataset {
        chunked(name, vec![columns])
    }

    /// A table of several chunks (same columns in each).
    pub(crate) fn chunked(name: &str, chunks: Vec<Vec<(&str, Box<dyn Array>)>>) -> Dataset {
        let fields = chunks[0]
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>();
        let mut ds = Dataset::new(name, Schema::from(fields));
        let mut record = 1;
        for columns in chunks {
            let arrays: Vec<Box<dyn Array>> = columns.into_iter().map(|(_, a)| a).collect();
            let len = arrays[0].len() as u64;
            ds.push_chunk(
                Chunk::new(arrays),
                ChunkOrigin::source(format!("{name}.csv"), record, None),
            )
            .expect("test chunk fits");
            record += len;
        }
        ds
    }

    /// Runs one expectation, written as the inside of a YAML flow mapping, on the first
    /// table (the others are there for cross-table checks), sequentially and in
    /// parallel, and checks that both agree.
    pub(crate) fn check(body: &str, tables: &[&Dataset]) -> ExpectationResult {
        check_with_metrics(body, tables, &BTreeMap::new())
    }

    /// [`check`] with run metrics.
    pub(crate) fn check_with_metrics(
        body: &str,
        tables: &[&Dataset],
        metrics: &BTreeMap<String, i64>,
    ) -> ExpectationResult {
        let yaml = format!(
            "suite: test\ntables:\n  {}:\n    expectations:\n      - {{id: t1, {body}}}\n",
            tables[0].name()
        );
        let suite = Suite::from_yaml(&yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        let sequential = validate(
            &suite,
            tables,
            metrics,
            &Options {
                parallel: false,
                ..Options::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let parallel = validate(&suite, tables, metrics, &Options::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            sequential, parallel,
            "the parallel run equals the sequential one"
        );
        sequential.results.into_iter().next().expect("one result")
    }

    /// (element, missing, unexpected) counts of a result.
    pub(crate) fn counts(r: &ExpectationResult) -> (u64, u64, u64) {
        (r.element_count, r.missing_count, r.unexpected_count)
    }

    /// The unexpected values of a result as text (`null` for nulls).
    pub(crate) fn values(r: &ExpectationResult) -> Vec<String> {
        r.partial_unexpected
            .iter()
            .map(|u| u.value.clone().unwrap_or_else(|| "null".into()))
            .collect()
    }
}

/// Column builders and the `mostly` boundary check shared by the expectation tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use arrow2::array::{Array, BooleanArray, Float64Array, Int64Array, Utf8Array};

    use super::testing::{check, table};

    /// An Int64 column.
    pub(crate) fn ints(values: &[Option<i64>]) -> Box<dyn Array> {
        Int64Array::from(values).boxed()
    }

    /// A UTF-8 column.
    pub(crate) fn strs(values: &[Option<&str>]) -> Box<dyn Array> {
        Utf8Array::<i32>::from(values).boxed()
    }

    /// A Float64 column.
    pub(crate) fn floats(values: &[Option<f64>]) -> Box<dyn Array> {
        Float64Array::from(values).boxed()
    }

    /// A boolean column.
    pub(crate) fn bools(values: &[Option<bool>]) -> Box<dyn Array> {
        BooleanArray::from(values).boxed()
    }

    /// [`mostly_boundary`] on a text column whose bad rows hold `bad_value` and the
    /// others `good_value`.
    pub(crate) fn mostly_boundary_texts(body: &str, bad_value: &str, good_value: &str) {
        mostly_boundary(body, |bad| {
            let v: Vec<Option<&str>> = (0..100)
                .map(|i| Some(if i < bad { bad_value } else { good_value }))
                .collect();
            strs(&v)
        });
    }

    /// With `column(bad)` building 100 rows of which `bad` break the expectation
    /// (`body`), checks that `mostly: 0.95` passes with 5 bad rows and fails with 6,
    /// and that without `mostly` 5 bad rows fail.
    pub(crate) fn mostly_boundary(body: &str, column: impl Fn(usize) -> Box<dyn Array>) {
        let five = table("t", vec![("c", column(5))]);
        let six = table("t", vec![("c", column(6))]);
        let r = check(&format!("{body}, mostly: 0.95"), &[&five]);
        assert_eq!(r.unexpected_count, 5, "{body}");
        assert!(r.success, "95 of 100 pass mostly 0.95: {body}");
        let r = check(&format!("{body}, mostly: 0.95"), &[&six]);
        assert_eq!(r.unexpected_count, 6, "{body}");
        assert!(!r.success, "94 of 100 fail mostly 0.95: {body}");
        assert!(
            !check(body, &[&five]).success,
            "without mostly every value must pass: {body}"
        );
    }
}
