//! Checking chunks as a reader produces them. A suite's row-local expectations (each row
//! decided alone: not-null, types, sets, ranges, lengths, patterns, column pairs) can run
//! on a chunk the moment it is decoded, while it is still in the cache, instead of in a
//! second pass over tables that no longer fit in it. The reader may then drop the columns
//! that only those expectations read, so a table is never held whole for them. The
//! tallies are folded into the suite's results by [`crate::validate_prechecked`], which
//! runs the cross-row expectations (uniqueness, other tables, table-level) on what is kept.

use std::collections::{BTreeMap, BTreeSet};

use arrow2::array::Array;
use arrow2::chunk::Chunk;
use arrow2::datatypes::Schema;

use crate::checks::{Run, Tally};
use crate::dataset::{ChunkOrigin, Dataset, DatasetError, TypeProblem};
use crate::engine::{is_row_local, local_tally, Denominator, Options};
use crate::error::SuiteError;
use crate::suite::{Expectation, ExpectationKind, Suite};

/// The row-local expectations of one table, ready to run on one chunk at a time.
#[derive(Debug, Clone)]
pub struct RowChecks {
    table: String,
    schema: Schema,
    /// (index in the suite's expectation order, the expectation)
    local: Vec<(usize, Expectation)>,
    needed_later: BTreeSet<usize>,
    limit: usize,
}

/// The tallies of one chunk's row-local expectations.
#[derive(Debug, Clone)]
pub struct ChunkTallies {
    entries: Vec<(usize, Option<(Tally, Denominator)>)>,
}

impl ChunkTallies {
    /// The tally of expectation `index`, its samples moved to chunk `chunk`.
    pub(crate) fn take(&self, index: usize, chunk: usize) -> Option<(Tally, Denominator)> {
        let (_, entry) = self.entries.iter().find(|(i, _)| *i == index)?;
        entry.clone().map(|(mut tally, denominator)| {
            for sample in &mut tally.samples {
                sample.chunk = chunk;
            }
            (tally, denominator)
        })
    }
}

impl RowChecks {
    /// Binds `suite` to the tables' schemas (the errors of [`crate::validate`], before any
    /// data is read) and takes the row-local expectations of `table`.
    pub fn new(
        suite: &Suite,
        table: &str,
        schemas: &BTreeMap<String, Schema>,
        options: &Options,
    ) -> Result<RowChecks, SuiteError> {
        suite.check_columns(schemas)?;
        let schema = schemas.get(table).cloned().unwrap_or_default();
        let index = |name: &str| schema.fields.iter().position(|f| f.name == name);
        let mut local = Vec::new();
        let mut needed_later = BTreeSet::new();
        for (i, e) in suite.expectations().enumerate() {
            if e.table == table {
                if is_row_local(&e.kind) {
                    local.push((i, e.clone()));
                } else {
                    needed_later.extend(e.kind.columns().into_iter().filter_map(index));
                }
            }
            if let ExpectationKind::InOtherTable {
                other_table,
                other_column,
                ..
            } = &e.kind
            {
                if other_table == table {
                    needed_later.extend(index(other_column));
                }
            }
        }
        Ok(RowChecks {
            table: table.to_string(),
            schema,
            local,
            needed_later,
            limit: options.partial_unexpected_count,
        })
    }

    /// The columns (by index in the table's schema) that expectations other than the
    /// row-local ones read: a reader must keep them; it may drop the others once a chunk
    /// is checked.
    pub fn columns_needed_later(&self) -> &BTreeSet<usize> {
        &self.needed_later
    }

    /// Runs the row-local expectations on one chunk of the table, with the columns
    /// `unread` left unread (see [`Dataset::push_chunk_unread`]) and the chunk's type
    /// problems (`chunk` fields are ignored; rows are the chunk's).
    pub fn check(
        &self,
        chunk: Chunk<Box<dyn Array>>,
        unread: &[usize],
        problems: Vec<TypeProblem>,
    ) -> Result<ChunkTallies, DatasetError> {
        let mut one = Dataset::new(self.table.clone(), self.schema.clone());
        one.push_chunk_unread(chunk, ChunkOrigin::Unknown, unread)?;
        for problem in problems {
            one.add_type_problem(TypeProblem {
                chunk: 0,
                ..problem
            })?;
        }
        let run = Run {
            limit: self.limit,
            parallel: false,
            only_chunk: Some(0),
        };
        let entries = self
            .local
            .iter()
            .map(|(i, e)| (*i, local_tally(run, e, &one)))
            .collect();
        Ok(ChunkTallies { entries })
    }
}

#[cfg(test)]
mod tests {
    use arrow2::array::NullArray;
    use arrow2::datatypes::{DataType, Field};

    use super::*;
    use crate::checks::fixtures::{ints, strs};
    use crate::{validate, validate_prechecked};

    const SUITE: &str = r#"
suite: s
tables:
  t:
    expectations:
      - {id: code-known, expectation: expect_column_values_to_be_in_set, column: code, value_set: [a, b]}
      - {id: code-not-null, expectation: expect_column_values_to_not_be_null, column: code}
      - {id: id-int, expectation: expect_column_values_to_be_of_type, column: id, type_: integer}
      - {id: id-unique, expectation: expect_column_values_to_be_unique, column: id}
"#;

    fn schema() -> Schema {
        Schema::from(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("code", DataType::Utf8, true),
        ])
    }

    fn chunks() -> Vec<Chunk<Box<dyn Array>>> {
        vec![
            Chunk::new(vec![
                ints(&[Some(1), Some(2), None]),
                strs(&[Some("a"), Some("x"), None]),
            ]),
            Chunk::new(vec![
                ints(&[Some(2), Some(4)]),
                strs(&[Some("y"), Some("b")]),
            ]),
        ]
    }

    fn problem(row: usize) -> TypeProblem {
        TypeProblem {
            column: "id".into(),
            chunk: 9,
            row,
            raw: "seven".into(),
        }
    }

    #[test]
    fn checking_while_reading_gives_the_results_of_checking_afterwards() {
        let suite = Suite::from_yaml(SUITE, "s.yaml").expect("valid");
        let schemas = BTreeMap::from([("t".to_string(), schema())]);
        let checks = RowChecks::new(&suite, "t", &schemas, &Options::default()).expect("binds");
        assert_eq!(
            checks
                .columns_needed_later()
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            [0],
            "only id is needed after the chunk checks (uniqueness)"
        );

        // Reference: the whole table checked afterwards.
        let mut whole = Dataset::new("t", schema());
        for (i, chunk) in chunks().into_iter().enumerate() {
            whole
                .push_chunk(chunk, ChunkOrigin::source(format!("f{i}"), 1, None))
                .expect("fits");
        }
        whole
            .add_type_problem(TypeProblem {
                chunk: 0,
                ..problem(2)
            })
            .expect("in range");
        let expected =
            validate(&suite, &[&whole], &BTreeMap::new(), &Options::default()).expect("runs");

        // Chunks checked as they come, then `code` dropped.
        let mut kept = Dataset::new("t", schema());
        let mut tallies = Vec::new();
        for (i, chunk) in chunks().into_iter().enumerate() {
            let problems = if i == 0 { vec![problem(2)] } else { vec![] };
            tallies.push(checks.check(chunk.clone(), &[], problems).expect("checks"));
            let len = chunk.len();
            let mut arrays = chunk.into_arrays();
            arrays[1] = NullArray::new(DataType::Null, len).boxed();
            kept.push_chunk_unread(
                Chunk::new(arrays),
                ChunkOrigin::source(format!("f{i}"), 1, None),
                &[1],
            )
            .expect("fits");
        }
        let prechecked = BTreeMap::from([("t".to_string(), tallies)]);
        for parallel in [false, true] {
            let options = Options {
                parallel,
                ..Options::default()
            };
            let got =
                validate_prechecked(&suite, &[&kept], &BTreeMap::new(), &options, &prechecked)
                    .expect("runs");
            assert_eq!(got, expected, "parallel: {parallel}");
        }
        let code = &expected.results[0];
        assert_eq!(code.unexpected_count, 2);
        assert_eq!(
            code.partial_unexpected[1]
                .location
                .as_ref()
                .map(ToString::to_string),
            Some("f1 record 1".to_string()),
            "samples keep their chunk"
        );
        assert_eq!(expected.results[2].unexpected_count, 1, "the type problem");
    }

    #[test]
    fn a_dropped_column_is_refused_to_the_expectations_that_were_not_run_ahead() {
        let suite = Suite::from_yaml(SUITE, "s.yaml").expect("valid");
        let mut kept = Dataset::new("t", schema());
        let len = chunks()[0].len();
        let mut arrays = chunks().remove(0).into_arrays();
        arrays[0] = NullArray::new(DataType::Null, len).boxed();
        kept.push_chunk_unread(Chunk::new(arrays), ChunkOrigin::Unknown, &[0])
            .expect("fits");
        let schemas = BTreeMap::from([("t".to_string(), schema())]);
        let checks = RowChecks::new(&suite, "t", &schemas, &Options::default()).expect("binds");
        let tallies = vec![checks
            .check(chunks().remove(0), &[], vec![])
            .expect("checks")];
        let prechecked = BTreeMap::from([("t".to_string(), tallies.clone())]);
        let err = validate_prechecked(
            &suite,
            &[&kept],
            &BTreeMap::new(),
            &Options::default(),
            &prechecked,
        )
        .expect_err("uniqueness needs id");
        assert!(
            err.to_string()
                .contains("`id-unique` needs the values of `t.id`"),
            "{err}"
        );
        let two = BTreeMap::from([(
            "t".to_string(),
            vec![tallies[0].clone(), tallies[0].clone()],
        )]);
        let err = validate_prechecked(
            &suite,
            &[&kept],
            &BTreeMap::new(),
            &Options::default(),
            &two,
        )
        .expect_err("chunk counts differ");
        assert!(
            matches!(
                err,
                SuiteError::PrecheckedChunks {
                    chunks: 1,
                    prechecked: 2,
                    ..
                }
            ),
            "{err}"
        );
    }
}
