//! Binding a suite to the data: every table, column, other table and metric it names
//! must exist, and each column's Arrow type must suit its expectation. Errors point at
//! the name in the suite file.

use std::collections::BTreeMap;

use arrow2::datatypes::{DataType, Schema};

use super::{Bound, Ctx, Expectation, ExpectationKind, SetValue, Suite};
use crate::catalog;
use crate::error::SuiteError;
use crate::position::{doc_path, Seg};
use crate::types::{self, ColumnClass};
use crate::Dataset;

/// Checks the suite against the data's schemas (see [`Suite::check_columns`]).
pub(super) fn check_columns(
    suite: &Suite,
    schemas: &BTreeMap<String, Schema>,
) -> Result<(), SuiteError> {
    let ctx = suite.ctx();
    for table in &suite.tables {
        let Some(schema) = schemas.get(&table.table) else {
            return Err(SuiteError::UnknownTable {
                site: ctx.site(&doc_path!["tables", table.table.as_str()], true),
                table: table.table.clone(),
                help: catalog::suggest(&table.table, schemas.keys().map(String::as_str)),
            });
        };
        for e in &table.expectations {
            check_expectation(&ctx, e, schema, schemas)?;
        }
    }
    Ok(())
}

/// Checks that every metric a reconciliation names was given.
pub(super) fn check_metrics(
    suite: &Suite,
    metrics: &BTreeMap<String, i64>,
) -> Result<(), SuiteError> {
    let ctx = suite.ctx();
    for e in suite.expectations() {
        if let ExpectationKind::Reconcile { left, right } = &e.kind {
            for (side, names) in [("left", left), ("right", right)] {
                for (i, name) in names.iter().enumerate() {
                    if !metrics.contains_key(name) {
                        return Err(SuiteError::UnknownMetric {
                            site: ctx.site(&e.path(&doc_path![side, i]), false),
                            metric: name.clone(),
                            help: catalog::suggest(name, metrics.keys().map(String::as_str)),
                        });
                    }
                }
            }
        }
    }
    Ok(())
}

/// Refuses the run when an expectation needs the values of a column that a chunk holds
/// unread: the caller read less than the suite needs.
pub(super) fn check_unread(
    suite: &Suite,
    tables: &BTreeMap<&str, &Dataset>,
    already_run: &dyn Fn(&Expectation) -> bool,
) -> Result<(), SuiteError> {
    let ctx = suite.ctx();
    let other_param = doc_path!["other_column"];
    for e in suite.expectations().filter(|e| !already_run(e)) {
        // (table, column, where the suite names it, whether it is the expectation's own)
        let mut refs: Vec<(&str, &str, Vec<Seg>, bool)> = e
            .kind
            .column_refs()
            .into_iter()
            .map(|(param, column)| (e.table.as_str(), column, param, true))
            .collect();
        if let ExpectationKind::InOtherTable {
            other_table,
            other_column,
            ..
        } = &e.kind
        {
            refs.push((other_table, other_column, other_param.to_vec(), false));
        }
        for (table, column, param, own) in refs {
            let Some(ds) = tables.get(table) else {
                continue;
            };
            let Some(index) = ds.column_index(column) else {
                continue;
            };
            let decided =
                own && crate::decided_by_presence(&e.kind, ds.schema().fields[index].data_type());
            if ds.has_unread(index) && !decided {
                return Err(SuiteError::ValuesNotRead {
                    site: ctx.site(&e.path(&param), false),
                    id: e.id.clone(),
                    table: table.to_string(),
                    column: column.to_string(),
                });
            }
        }
    }
    Ok(())
}

fn column_help(schema: &Schema, column: &str) -> Option<String> {
    catalog::suggest(column, schema.fields.iter().map(|f| f.name.as_str()))
}

fn field<'s>(schema: &'s Schema, name: &str) -> Option<&'s DataType> {
    schema
        .fields
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.data_type())
}

fn check_expectation(
    ctx: &Ctx<'_>,
    e: &Expectation,
    schema: &Schema,
    schemas: &BTreeMap<String, Schema>,
) -> Result<(), SuiteError> {
    let mut types = Vec::new();
    for (param, column) in e.kind.column_refs() {
        let Some(data_type) = field(schema, column) else {
            return Err(SuiteError::UnknownColumn {
                site: ctx.site(&e.path(&param), false),
                table: e.table.clone(),
                column: column.to_string(),
                help: column_help(schema, column),
            });
        };
        types.push((param, column, data_type));
    }
    let unsupported =
        |param: &[Seg], column: &str, data_type: &DataType| SuiteError::UnsupportedType {
            site: ctx.site(&e.path(param), false),
            expectation: e.name().to_string(),
            table: e.table.clone(),
            column: column.to_string(),
            data_type: format!("{data_type:?}"),
        };
    // Every column check but not-null needs scalar values.
    let nulls_only = matches!(
        e.kind,
        ExpectationKind::NotNull { .. }
            | ExpectationKind::BeNull { .. }
            | ExpectationKind::NonNullProportionBetween { .. }
    );
    if !nulls_only {
        for (param, column, data_type) in &types {
            if types::classify(data_type) == ColumnClass::Other {
                return Err(unsupported(param, column, data_type));
            }
        }
    }
    match &e.kind {
        ExpectationKind::InOtherTable {
            other_table,
            other_column,
            ..
        } => {
            let Some(other) = schemas.get(other_table) else {
                return Err(SuiteError::UnknownTable {
                    site: ctx.site(&e.path(&doc_path!["other_table"]), false),
                    table: other_table.clone(),
                    help: catalog::suggest(other_table, schemas.keys().map(String::as_str)),
                });
            };
            let Some(data_type) = field(other, other_column) else {
                return Err(SuiteError::UnknownColumn {
                    site: ctx.site(&e.path(&doc_path!["other_column"]), false),
                    table: other_table.clone(),
                    column: other_column.clone(),
                    help: column_help(other, other_column),
                });
            };
            if types::classify(data_type) == ColumnClass::Other {
                return Err(unsupported(
                    &doc_path!["other_column"],
                    other_column,
                    data_type,
                ));
            }
        }
        ExpectationKind::RowCountEqualOtherTable { other_table }
            if !schemas.contains_key(other_table) =>
        {
            return Err(SuiteError::UnknownTable {
                site: ctx.site(&e.path(&doc_path!["other_table_name"]), false),
                table: other_table.clone(),
                help: catalog::suggest(other_table, schemas.keys().map(String::as_str)),
            });
        }
        ExpectationKind::StatisticBetween {
            statistic,
            min_value,
            max_value,
            ..
        } => {
            let (_, column, data_type) = &types[0];
            let class = types::classify(data_type);
            let fits = match class {
                ColumnClass::Integer | ColumnClass::Float | ColumnClass::Null => true,
                ColumnClass::Temporal => statistic.applies_to_instants(),
                _ => false,
            };
            if !fits {
                return Err(unsupported(&doc_path!["column"], column, data_type));
            }
            for (key, bound) in [("min_value", min_value), ("max_value", max_value)] {
                if let Some(Bound::Timestamp { text, .. }) = bound {
                    if class != ColumnClass::Temporal {
                        return Err(SuiteError::InvalidParameter {
                            site: ctx.site(&e.path(&doc_path![key]), false),
                            message: format!(
                                "timestamp bound {text:?} cannot bound the {} of column `{column}` of type {data_type:?}",
                                statistic.word()
                            ),
                            help: Some("use a number, or check a timestamp column".into()),
                        });
                    }
                }
            }
        }
        ExpectationKind::MetricWithinStdevsOfHistory {
            metric: crate::history::HistoryMetric::Statistic { .. },
            ..
        } => {
            let (_, column, data_type) = &types[0];
            let numeric = matches!(
                types::classify(data_type),
                ColumnClass::Integer | ColumnClass::Float | ColumnClass::Null
            );
            if !numeric {
                return Err(unsupported(&doc_path!["column"], column, data_type));
            }
        }
        ExpectationKind::ZScoresLessThan { .. } => {
            let (_, column, data_type) = &types[0];
            let numeric = matches!(
                types::classify(data_type),
                ColumnClass::Integer | ColumnClass::Float | ColumnClass::Null
            );
            if !numeric {
                return Err(unsupported(&doc_path!["column"], column, data_type));
            }
        }
        ExpectationKind::NewestWithinAge { .. } => {
            let (_, column, data_type) = &types[0];
            let instants = matches!(
                types::classify(data_type),
                ColumnClass::Temporal | ColumnClass::Null
            );
            if !instants {
                return Err(unsupported(&doc_path!["column"], column, data_type));
            }
        }
        ExpectationKind::InSet { value_set, .. }
        | ExpectationKind::NotInSet { value_set, .. }
        | ExpectationKind::DistinctValues { value_set, .. }
        | ExpectationKind::MostCommonValueInSet { value_set, .. } => {
            let (_, column, data_type) = &types[0];
            for (i, value) in value_set.iter().enumerate() {
                if !types::set_value_fits(value, data_type) {
                    return Err(SuiteError::InvalidParameter {
                        site: ctx.site(&e.path(&doc_path!["value_set", i]), false),
                        message: format!(
                            "value {} can never match column `{column}` of type {data_type:?}",
                            set_value_text(value)
                        ),
                        help: None,
                    });
                }
            }
        }
        ExpectationKind::Between {
            min_value,
            max_value,
            ..
        } => {
            let (_, column, data_type) = &types[0];
            let class = types::classify(data_type);
            if class == ColumnClass::Boolean {
                return Err(unsupported(&doc_path!["column"], column, data_type));
            }
            for (key, bound) in [("min_value", min_value), ("max_value", max_value)] {
                if let Some(Bound::Timestamp { text, .. }) = bound {
                    if !matches!(class, ColumnClass::Temporal | ColumnClass::Text) {
                        return Err(SuiteError::InvalidParameter {
                            site: ctx.site(&e.path(&doc_path![key]), false),
                            message: format!(
                                "timestamp bound {text:?} cannot bound column `{column}` of type {data_type:?}"
                            ),
                            help: Some("use a number, or check a timestamp column".into()),
                        });
                    }
                }
            }
        }
        ExpectationKind::Monotonic { .. } | ExpectationKind::QuantilesBetween { .. } => {
            let (param, column, data_type) = &types[0];
            let numeric = matches!(
                types::classify(data_type),
                ColumnClass::Integer | ColumnClass::Float | ColumnClass::Null
            );
            let instants = matches!(e.kind, ExpectationKind::Monotonic { .. })
                && types::classify(data_type) == ColumnClass::Temporal;
            if !numeric && !instants {
                return Err(unsupported(param, column, data_type));
            }
        }
        ExpectationKind::MulticolumnSumEqual { .. } => {
            for (param, column, data_type) in &types {
                if !matches!(
                    types::classify(data_type),
                    ColumnClass::Integer | ColumnClass::Float | ColumnClass::Null
                ) {
                    return Err(unsupported(param, column, data_type));
                }
            }
        }
        ExpectationKind::AGreaterThanB { .. } | ExpectationKind::PairEqual { .. } => {
            let (_, _, ta) = &types[0];
            let (param_b, column_b, tb) = &types[1];
            let (ca, cb) = (types::classify(ta), types::classify(tb));
            let comparable = matches!(
                (ca, cb),
                (
                    ColumnClass::Integer | ColumnClass::Float,
                    ColumnClass::Integer | ColumnClass::Float
                ) | (ColumnClass::Temporal, ColumnClass::Temporal)
                    | (ColumnClass::Text, ColumnClass::Text)
            );
            if !comparable {
                return Err(SuiteError::InvalidParameter {
                    site: ctx.site(&e.path(param_b), false),
                    message: format!(
                        "column `{column_b}` of type {tb:?} cannot be compared with a column of type {ta:?}"
                    ),
                    help: None,
                });
            }
        }
        _ => {}
    }
    Ok(())
}

fn set_value_text(value: &SetValue) -> String {
    match value {
        SetValue::Bool(b) => b.to_string(),
        SetValue::Int(i) => i.to_string(),
        SetValue::Float(f) => f.to_string(),
        SetValue::Str(s) => format!("{s:?}"),
    }
}

#[cfg(test)]
mod tests {
    use arrow2::datatypes::Field;

    use super::*;
    use crate::suite::test_support::{at, HEADER};

    fn load(text: &str) -> Result<Suite, SuiteError> {
        Suite::from_yaml(text, "suite.yaml")
    }

    fn schemas() -> BTreeMap<String, Schema> {
        let mut m = BTreeMap::new();
        m.insert(
            "orders".to_string(),
            Schema::from(vec![
                Field::new("orderId", DataType::Int64, true),
                Field::new("cityCode", DataType::Utf8, true),
                Field::new("paid", DataType::Boolean, true),
            ]),
        );
        m.insert(
            "messages".to_string(),
            Schema::from(vec![Field::new("orderId", DataType::Int64, true)]),
        );
        m
    }

    fn bind_err(body: &str) -> SuiteError {
        let suite =
            load(&format!("{HEADER}      - id: a\n{body}")).unwrap_or_else(|e| panic!("{e}"));
        match suite.check_columns(&schemas()) {
            Ok(()) => panic!("expected a binding error for {body}"),
            Err(e) => e,
        }
    }

    #[test]
    fn missing_column_is_located_with_a_suggestion() {
        let e = bind_err(
            "        expectation: expect_column_values_to_not_be_null\n        column: cityCod\n",
        );
        assert!(matches!(e, SuiteError::UnknownColumn { .. }), "{e:?}");
        assert_eq!(at(&e), (7, 17, "cityCod".to_string()));
        assert_eq!(e.help(), Some("did you mean `cityCode`?"));
        let e = bind_err("        expectation: expect_compound_columns_to_be_unique\n        column_list: [orderId, city]\n");
        assert_eq!(at(&e), (7, 32, "city".to_string()));
        let e = bind_err(
            "        expectation: expect_column_values_to_be_in_other_table\n        column: orderId\n        other_table: message\n        other_column: orderId\n",
        );
        assert!(matches!(e, SuiteError::UnknownTable { .. }), "{e:?}");
        assert_eq!(e.help(), Some("did you mean `messages`?"));
        let e = bind_err(
            "        expectation: expect_column_values_to_be_in_other_table\n        column: orderId\n        other_table: messages\n        other_column: order\n",
        );
        assert_eq!(at(&e), (9, 23, "order".to_string()));
    }

    #[test]
    fn aggregates_refuse_unfit_columns_bounds_and_tables_where_the_suite_names_them() {
        let e = bind_err("        expectation: expect_column_mean_to_be_between\n        column: cityCode\n        min_value: 0\n");
        assert!(matches!(e, SuiteError::UnsupportedType { .. }), "{e:?}");
        assert_eq!(at(&e), (7, 17, "cityCode".to_string()));
        let e = bind_err("        expectation: expect_column_sum_to_be_between\n        column: orderId\n        min_value: \"2024-01-01T00:00:00Z\"\n");
        assert_eq!(at(&e), (8, 20, "\"2024-01-01T00:00:00Z\"".to_string()));
        assert!(e.label().contains("cannot bound the sum"), "{}", e.label());
        let e = bind_err("        expectation: expect_column_distinct_values_to_equal_set\n        column: orderId\n        value_set: [1, x]\n");
        assert_eq!(at(&e), (8, 24, "x".to_string()));
        let e = bind_err("        expectation: expect_multicolumn_sum_to_equal\n        column_list: [orderId, cityCode]\n        sum_total: 3\n");
        assert!(matches!(e, SuiteError::UnsupportedType { .. }), "{e:?}");
        assert_eq!(at(&e), (7, 32, "cityCode".to_string()));
        let e = bind_err(
            "        expectation: expect_column_values_to_be_increasing\n        column: paid\n",
        );
        assert!(matches!(e, SuiteError::UnsupportedType { .. }), "{e:?}");
        let e = bind_err("        expectation: expect_table_row_count_to_equal_other_table\n        other_table_name: message\n");
        assert!(matches!(e, SuiteError::UnknownTable { .. }), "{e:?}");
        assert_eq!(at(&e), (7, 27, "message".to_string()));
        assert_eq!(e.help(), Some("did you mean `messages`?"));
    }

    #[test]
    fn unknown_table_and_unfit_types_are_binding_errors() {
        let suite = load("suite: s\ntables:\n  order:\n    expectations: []\n").expect("valid");
        let e = suite.check_columns(&schemas()).expect_err("unknown table");
        assert_eq!(at(&e), (3, 3, "order".to_string()));
        let e = bind_err("        expectation: expect_column_values_to_be_between\n        column: paid\n        min_value: 0\n");
        assert!(matches!(e, SuiteError::UnsupportedType { .. }), "{e:?}");
        let e = bind_err("        expectation: expect_column_values_to_be_in_set\n        column: orderId\n        value_set: [1, abc]\n");
        assert_eq!(at(&e), (8, 24, "abc".to_string()));
        let e = bind_err("        expectation: expect_column_values_to_not_be_in_set\n        column: orderId\n        value_set: [abc]\n");
        assert_eq!(at(&e), (8, 21, "abc".to_string()));
        let e = bind_err(
            "        expectation: expect_column_values_to_be_between\n        column: orderId\n        min_value: \"2024-01-01\"\n",
        );
        assert!(matches!(e, SuiteError::InvalidParameter { .. }), "{e:?}");
        let e = bind_err(
            "        expectation: expect_column_pair_values_a_to_be_greater_than_b\n        column_A: orderId\n        column_B: cityCode\n",
        );
        assert_eq!(at(&e).2, "cityCode");
        let suite = load(&format!(
            "{HEADER}      - id: r\n        expectation: expect_metric_values_to_reconcile\n        left: [messages_in]\n        right: [aggregated]\n"
        ))
        .expect("valid");
        let metrics =
            BTreeMap::from([("messages_in".to_string(), 1), ("aggregatd".to_string(), 1)]);
        let e = suite.check_metrics(&metrics).expect_err("unknown metric");
        assert_eq!(at(&e), (8, 17, "aggregated".to_string()));
        assert_eq!(e.help(), Some("did you mean `aggregatd`?"));
    }
}
