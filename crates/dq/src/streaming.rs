//! Checking chunks as a reader produces them. A suite's row-local expectations (each row
//! decided alone: not-null, types, sets, ranges, lengths, patterns, column pairs) can run
//! on a chunk the moment it is decoded, while it is still in the cache, instead of in a
//! second pass over tables that no longer fit in it. The reader may then drop the columns
//! that only those expectations read, so a table is never held whole for them. The
//! tallies are folded into the suite's results by [`crate::validate_prechecked`], which
//! runs the cross-row expectations (uniqueness, other tables, table-level) on what is kept.
//!
//! A look-up in another table becomes row-local too once that table is whole: a reader
//! that reads it first hands it to [`RowChecks::look_up_in`], and each later chunk is
//! probed as it comes, so the probed column need not be kept either.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow2::array::Array;
use arrow2::chunk::Chunk;
use arrow2::datatypes::Schema;

use crate::checks::hash::KeyLookup;
use crate::checks::{Run, Tally};
use crate::dataset::{ChunkOrigin, Dataset, DatasetError, TypeProblem};
use crate::engine::{is_row_local, local_tally, unread_tally, Denominator, Options};
use crate::error::SuiteError;
use crate::suite::{Expectation, ExpectationKind, Suite};

/// The row-local expectations of one table, ready to run on one chunk at a time.
#[derive(Debug, Clone)]
pub struct RowChecks {
    table: String,
    schema: Schema,
    /// (index in the suite's expectation order, the expectation)
    local: Vec<(usize, Expectation)>,
    /// The other expectations of the table: (index, the columns of this table they read).
    later: Vec<(usize, BTreeSet<usize>)>,
    /// Columns other tables' expectations look up in this table.
    looked_up: BTreeSet<usize>,
    /// This table's look-ups in other tables: (index, the expectation).
    look_ups: Vec<(usize, Expectation)>,
    /// Look-ups in other tables bound by [`RowChecks::look_up_in`]: (index, the column
    /// probed, the other table's values).
    lookups: Vec<(usize, usize, Arc<KeyLookup>)>,
    needed_later: BTreeSet<usize>,
    /// How many unexpected values each expectation keeps, by its index in the suite.
    limits: Vec<usize>,
}

/// The tallies of one chunk's row-local expectations.
#[derive(Debug, Clone)]
pub struct ChunkTallies {
    entries: Vec<(usize, Option<(Tally, Denominator)>)>,
}

impl ChunkTallies {
    /// Whether expectation `index` was checked on this chunk.
    pub(crate) fn covers(&self, index: usize) -> bool {
        self.entries.iter().any(|(i, _)| *i == index)
    }

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
        let mut later = Vec::new();
        let mut looked_up = BTreeSet::new();
        let mut look_ups = Vec::new();
        for (i, e) in suite.expectations().enumerate() {
            if e.table == table {
                if is_row_local(&e.kind) {
                    local.push((i, e.clone()));
                } else {
                    later.push((i, e.kind.columns().into_iter().filter_map(index).collect()));
                    if matches!(e.kind, ExpectationKind::InOtherTable { .. }) {
                        look_ups.push((i, e.clone()));
                    }
                }
            }
            if let ExpectationKind::InOtherTable {
                other_table,
                other_column,
                ..
            } = &e.kind
            {
                if other_table == table {
                    looked_up.extend(index(other_column));
                }
            }
        }
        let mut checks = RowChecks {
            table: table.to_string(),
            schema,
            local,
            later,
            looked_up,
            look_ups,
            lookups: Vec::new(),
            needed_later: BTreeSet::new(),
            limits: suite.expectations().map(|e| options.limit_for(e)).collect(),
        };
        checks.needed_later = checks.needed_later();
        Ok(checks)
    }

    fn needed_later(&self) -> BTreeSet<usize> {
        let mut needed = self.looked_up.clone();
        for (i, columns) in &self.later {
            if !self.lookups.iter().any(|(j, _, _)| j == i) {
                needed.extend(columns);
            }
        }
        needed
    }

    /// Whether this table looks values up in `table` (so [`RowChecks::look_up_in`] it
    /// would bind something).
    pub fn looks_up_in(&self, table: &str) -> bool {
        self.look_ups.iter().any(|(_, e)| {
            matches!(&e.kind, ExpectationKind::InOtherTable { other_table, .. }
                if other_table == table && other_table != &self.table)
        })
    }

    /// Takes `other`, a whole table, for this table's look-ups in it
    /// (`expect_column_values_to_be_in_other_table`): they then run on each chunk like
    /// the row-local checks, and their columns are no longer needed later. Call it before
    /// the first chunk is checked; a look-up whose column `other` left unread stays for
    /// afterwards (where binding refuses it).
    pub fn look_up_in(&mut self, other: &Dataset) {
        let index = |name: &str| self.schema.fields.iter().position(|f| f.name == name);
        let mut bound = Vec::new();
        for (i, e) in &self.look_ups {
            let ExpectationKind::InOtherTable {
                column,
                other_table,
                other_column,
            } = &e.kind
            else {
                continue;
            };
            if other_table != other.name()
                || other_table == &self.table
                || self.lookups.iter().any(|(j, _, _)| j == i)
            {
                continue;
            }
            let (Some(col), Some(other_col)) = (index(column), other.column_index(other_column))
            else {
                continue;
            };
            if other.has_unread(other_col) {
                continue;
            }
            let class = crate::types::classify(&self.schema.fields[col].data_type);
            bound.push((*i, col, Arc::new(KeyLookup::new(class, other, other_col))));
        }
        self.lookups.extend(bound);
        self.needed_later = self.needed_later();
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
        let run = |i: usize| Run {
            limit: self.limits[i],
            parallel: false,
            only_chunk: Some(0),
        };
        let mut entries: Vec<(usize, Option<(Tally, Denominator)>)> = self
            .local
            .iter()
            .map(|(i, e)| (*i, local_tally(run(*i), e, &one)))
            .collect();
        for (i, col, lookup) in &self.lookups {
            let tally = if one.is_unread(0, *col) {
                unread_tally(&one, 0)
            } else {
                let array = one.chunks()[0].arrays()[*col].as_ref();
                lookup.tally_chunk(self.limits[*i], 0, array)
            };
            entries.push((*i, Some((tally, Denominator::NonMissing))));
        }
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

    const LOOK_UP: &str = r#"
suite: s
tables:
  t:
    expectations:
      - {id: id-in-o, expectation: expect_column_values_to_be_in_other_table, column: id, other_table: o, other_column: id}
      - {id: code-known, expectation: expect_column_values_to_be_in_set, column: code, value_set: [a, b]}
  o:
    expectations:
      - {id: o-id-not-null, expectation: expect_column_values_to_not_be_null, column: id}
"#;

    fn other_table() -> Dataset {
        let mut o = Dataset::new(
            "o",
            Schema::from(vec![Field::new("id", DataType::Int64, true)]),
        );
        o.push_chunk(
            Chunk::new(vec![ints(&[Some(1), Some(4), None])]),
            ChunkOrigin::Unknown,
        )
        .expect("fits");
        o
    }

    /// `t`'s chunks checked with `checks`, `id` and `code` dropped where nothing later
    /// needs them, as `ccc validate` does.
    fn check_and_drop(checks: &RowChecks, chunk: usize, kept: &mut Dataset) -> ChunkTallies {
        let data = chunks().remove(chunk);
        let tallies = checks.check(data.clone(), &[], vec![]).expect("checks");
        let len = data.len();
        let mut arrays = data.into_arrays();
        let mut unread = Vec::new();
        for (i, array) in arrays.iter_mut().enumerate() {
            if !checks.columns_needed_later().contains(&i) {
                *array = NullArray::new(DataType::Null, len).boxed();
                unread.push(i);
            }
        }
        kept.push_chunk_unread(
            Chunk::new(arrays),
            ChunkOrigin::source(format!("f{chunk}"), 1, None),
            &unread,
        )
        .expect("fits");
        tallies
    }

    /// The suite over `t` (as kept, with `tallies` from its reading) and `o`.
    fn validate_with_tallies(
        suite: &Suite,
        t: &Dataset,
        o: &Dataset,
        tallies: Vec<ChunkTallies>,
    ) -> Result<crate::SuiteResult, SuiteError> {
        let prechecked = BTreeMap::from([("t".to_string(), tallies)]);
        validate_prechecked(
            suite,
            &[t, o],
            &BTreeMap::new(),
            &Options::default(),
            &prechecked,
        )
    }

    /// The suite with a look-up of `t.id` in `o.id`, and `t`'s row checks.
    fn look_up_checks() -> (Suite, RowChecks) {
        let suite = Suite::from_yaml(LOOK_UP, "s.yaml").expect("valid");
        let schemas = BTreeMap::from([
            ("t".to_string(), schema()),
            ("o".to_string(), other_table().schema().clone()),
        ]);
        let checks = RowChecks::new(&suite, "t", &schemas, &Options::default()).expect("binds");
        (suite, checks)
    }

    #[test]
    fn a_look_up_runs_chunk_by_chunk_once_its_other_table_is_whole() {
        let (suite, mut checks) = look_up_checks();
        assert!(checks.looks_up_in("o") && !checks.looks_up_in("t"));
        assert!(
            checks.columns_needed_later().contains(&0),
            "the look-up needs id"
        );
        let o = other_table();
        checks.look_up_in(&o);
        assert!(
            checks.columns_needed_later().is_empty(),
            "{:?}",
            checks.columns_needed_later()
        );

        let mut whole = Dataset::new("t", schema());
        for (i, chunk) in chunks().into_iter().enumerate() {
            whole
                .push_chunk(chunk, ChunkOrigin::source(format!("f{i}"), 1, None))
                .expect("fits");
        }
        let expected =
            validate(&suite, &[&whole, &o], &BTreeMap::new(), &Options::default()).expect("runs");
        let look_up = &expected.results[0];
        assert_eq!(
            (
                look_up.element_count,
                look_up.missing_count,
                look_up.unexpected_count
            ),
            (5, 1, 2),
            "of ids 1, 2, null | 2, 4, the two 2s are not in o"
        );

        let mut kept = Dataset::new("t", schema());
        let tallies: Vec<ChunkTallies> = (0..2)
            .map(|c| check_and_drop(&checks, c, &mut kept))
            .collect();
        assert!(kept.has_unread(0), "id was dropped");
        let got = validate_with_tallies(&suite, &kept, &o, tallies).expect("runs");
        assert_eq!(got, expected);
        assert_eq!(
            got.results[0]
                .partial_unexpected
                .iter()
                .map(|u| u.location.as_ref().map(ToString::to_string))
                .collect::<Vec<_>>(),
            [
                Some("f0 record 2".to_string()),
                Some("f1 record 1".to_string())
            ],
            "samples keep their chunk"
        );
    }

    #[test]
    fn a_look_up_bound_after_the_first_chunk_is_refused() {
        let (suite, mut checks) = look_up_checks();
        let mut kept = Dataset::new("t", schema());
        let first = check_and_drop(&checks, 0, &mut kept);
        let o = other_table();
        checks.look_up_in(&o);
        let second = check_and_drop(&checks, 1, &mut kept);
        let err = validate_with_tallies(&suite, &kept, &o, vec![first, second])
            .expect_err("counts would be short");
        assert!(
            matches!(&err, SuiteError::PrecheckedMixed { table, id } if table == "t" && id == "id-in-o"),
            "{err}"
        );
    }
}
