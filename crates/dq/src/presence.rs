//! What a suite can decide without reading values: some expectations only ask whether
//! each value is there and of the column's type, which a file's metadata can prove (a
//! Parquet column of the right type whose statistics count no nulls). A reader that
//! knows a suite's [`Suite::columns_needing_values`] may leave the other columns unread
//! when the metadata vouches for them ([`crate::Dataset::push_chunk_unread`]); the engine
//! then counts those rows as present and valid, and refuses a suite that would need
//! their values.

use std::collections::BTreeSet;

use arrow2::datatypes::{DataType, Schema};

#[cfg(test)]
use crate::error::SuiteError;
use crate::suite::{ExpectationKind, Suite, ValueType};
use crate::types::{classify, ColumnClass};

/// Whether `kind` on a column of type `data_type` is decided by knowing that every value
/// is present and of the column's type: not-null; of-type when the column's own type is
/// the type asked for; "not empty" (lengths at least 0 or 1, no maximum) on columns whose
/// values always have text (integers, timestamps, booleans).
pub fn decided_by_presence(kind: &ExpectationKind, data_type: &DataType) -> bool {
    let class = classify(data_type);
    match kind {
        ExpectationKind::NotNull { .. } => true,
        ExpectationKind::OfType { type_, .. } => own_type_is(class, *type_),
        ExpectationKind::ValueLengthsBetween {
            min_value,
            max_value,
            ..
        } => {
            matches!(
                class,
                ColumnClass::Integer | ColumnClass::Temporal | ColumnClass::Boolean
            ) && max_value.is_none()
                && min_value.is_none_or(|m| m <= 1)
        }
        _ => false,
    }
}

/// Whether every value of a column of class `class` has type `type_` by the column's
/// type alone (as `expect_column_values_to_be_of_type` decides it).
pub(crate) fn own_type_is(class: ColumnClass, type_: ValueType) -> bool {
    matches!(
        (class, type_),
        (ColumnClass::Text, ValueType::String)
            | (
                ColumnClass::Integer,
                ValueType::Integer | ValueType::Numeric
            )
            | (ColumnClass::Float, ValueType::Numeric)
            | (ColumnClass::Temporal, ValueType::Timestamp)
            | (ColumnClass::Boolean, ValueType::Boolean)
    )
}

impl Suite {
    /// The columns of `table` (with schema `schema`) whose values some expectation needs:
    /// every column the suite names for that table — its own expectations' columns and
    /// the other side of other tables' `expect_column_values_to_be_in_other_table` —
    /// except those named only by expectations [`decided_by_presence`].
    pub fn columns_needing_values(&self, table: &str, schema: &Schema) -> BTreeSet<String> {
        let type_of = |name: &str| {
            schema
                .fields
                .iter()
                .find(|f| f.name == name)
                .map(|f| f.data_type().clone())
        };
        let mut needed = BTreeSet::new();
        for e in self.expectations() {
            if e.table == table {
                for column in e.kind.columns() {
                    let decided = type_of(column).is_some_and(|t| decided_by_presence(&e.kind, &t));
                    if !decided {
                        needed.insert(column.to_string());
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
                    needed.insert(other_column.clone());
                }
            }
        }
        needed
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use arrow2::array::NullArray;
    use arrow2::chunk::Chunk;
    use arrow2::datatypes::{DataType, Field};

    use super::*;
    use crate::checks::fixtures::{ints, strs};
    use crate::checks::testing::counts;
    use crate::{validate, ChunkOrigin, Dataset, Options};

    const SUITE: &str = r#"
suite: s
tables:
  messages:
    expectations:
      - {id: id-not-null, expectation: expect_column_values_to_not_be_null, column: id}
      - {id: id-int, expectation: expect_column_values_to_be_of_type, column: id, type_: integer}
      - {id: id-not-empty, expectation: expect_column_value_lengths_to_be_between, column: id, min_value: 1}
      - {id: name-not-empty, expectation: expect_column_value_lengths_to_be_between, column: name, min_value: 1}
      - {id: order-known, expectation: expect_column_values_to_be_in_other_table, column: order, other_table: orders, other_column: order}
  orders:
    expectations:
      - {id: order-not-null, expectation: expect_column_values_to_not_be_null, column: order}
"#;

    fn schema() -> Schema {
        Schema::from(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("order", DataType::Int64, true),
        ])
    }

    /// Two chunks: the first read (with a null id), the second with `id` unread.
    fn messages() -> Dataset {
        let mut ds = Dataset::new("messages", schema());
        let first = Chunk::new(vec![
            ints(&[Some(1), None]),
            strs(&[Some("a"), Some("")]),
            ints(&[Some(7), Some(8)]),
        ]);
        ds.push_chunk(first, ChunkOrigin::source("m1.parquet", 1, None))
            .expect("fits");
        let second = Chunk::new(vec![
            NullArray::new(DataType::Null, 3).boxed(),
            strs(&[Some("b"), Some("c"), Some("d")]),
            ints(&[Some(7), Some(7), Some(9)]),
        ]);
        ds.push_chunk_unread(second, ChunkOrigin::source("m2.parquet", 1, None), &[0])
            .expect("fits");
        ds
    }

    fn orders(unread: bool) -> Dataset {
        let schema = Schema::from(vec![Field::new("order", DataType::Int64, true)]);
        let mut ds = Dataset::new("orders", schema);
        let chunk = if unread {
            Chunk::new(vec![NullArray::new(DataType::Null, 2).boxed()])
        } else {
            Chunk::new(vec![ints(&[Some(7), Some(8)])])
        };
        let cols: &[usize] = if unread { &[0] } else { &[] };
        ds.push_chunk_unread(chunk, ChunkOrigin::Unknown, cols)
            .expect("fits");
        ds
    }

    #[test]
    fn only_columns_with_value_checks_need_values() {
        let suite = Suite::from_yaml(SUITE, "s.yaml").expect("valid");
        let needed = suite.columns_needing_values("messages", &schema());
        assert_eq!(
            needed.into_iter().collect::<Vec<_>>(),
            ["name", "order"],
            "id has only presence checks; name's length can be 0; order is a foreign key"
        );
        let orders_schema = Schema::from(vec![Field::new("order", DataType::Int64, true)]);
        assert_eq!(
            suite
                .columns_needing_values("orders", &orders_schema)
                .into_iter()
                .collect::<Vec<_>>(),
            ["order"],
            "the other side of a foreign key needs its values"
        );
    }

    #[test]
    fn presence_decides_not_null_own_type_and_not_empty_on_typed_columns() {
        let not_empty = |min, max| ExpectationKind::ValueLengthsBetween {
            column: "c".into(),
            min_value: min,
            max_value: max,
        };
        assert!(decided_by_presence(
            &not_empty(Some(1), None),
            &DataType::Int64
        ));
        assert!(!decided_by_presence(
            &not_empty(Some(2), None),
            &DataType::Int64
        ));
        assert!(!decided_by_presence(
            &not_empty(Some(1), Some(5)),
            &DataType::Int64
        ));
        assert!(!decided_by_presence(
            &not_empty(Some(1), None),
            &DataType::Utf8
        ));
        let of_type = |t| ExpectationKind::OfType {
            column: "c".into(),
            type_: t,
        };
        assert!(decided_by_presence(
            &of_type(ValueType::Integer),
            &DataType::Int64
        ));
        assert!(!decided_by_presence(
            &of_type(ValueType::Timestamp),
            &DataType::Int64
        ));
        assert!(!decided_by_presence(
            &of_type(ValueType::Integer),
            &DataType::Utf8
        ));
    }

    #[test]
    fn unread_rows_count_as_present_and_valid() {
        let suite = Suite::from_yaml(SUITE, "s.yaml").expect("valid");
        let (m, o) = (messages(), orders(false));
        for parallel in [false, true] {
            let options = Options {
                parallel,
                ..Options::default()
            };
            let r = validate(&suite, &[&m, &o], &BTreeMap::new(), &options).expect("runs");
            let by_id = |id: &str| {
                r.results
                    .iter()
                    .find(|x| x.id == id)
                    .map(counts)
                    .expect("result")
            };
            assert_eq!(by_id("id-not-null"), (5, 1, 1), "the read null counts");
            assert_eq!(by_id("id-int"), (5, 1, 0));
            assert_eq!(by_id("id-not-empty"), (5, 1, 0));
            assert_eq!(by_id("name-not-empty"), (5, 0, 1));
            assert_eq!(by_id("order-known"), (5, 0, 1), "9 is not an order");
        }
    }

    #[test]
    fn a_suite_needing_unread_values_is_refused() {
        let suite = Suite::from_yaml(SUITE, "s.yaml").expect("valid");
        let (m, o) = (messages(), orders(true));
        let err = validate(&suite, &[&m, &o], &BTreeMap::new(), &Options::default())
            .expect_err("the foreign key needs orders.order");
        assert!(matches!(err, SuiteError::ValuesNotRead { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("`order-known` needs the values of `orders.order`"),
            "{err}"
        );
        let pos = err.position().expect("located");
        assert_eq!(pos.line, 10, "the line of order-known: {err}");
    }
}
