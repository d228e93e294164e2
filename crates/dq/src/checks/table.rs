//! Table-level expectations: row count, the set of columns, and reconciliation of run
//! metrics. They observe one value rather than checking rows.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// The outcome of a table-level check.
pub(crate) struct Observed {
    pub success: bool,
    pub unexpected_count: u64,
    pub unexpected_values: Vec<String>,
    pub observed_value: Value,
    pub skipped: Option<String>,
}

/// `expect_table_row_count_to_be_between`.
pub(crate) fn row_count(rows: usize, min: Option<u64>, max: Option<u64>) -> Observed {
    let n = rows as u64;
    Observed {
        success: min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m),
        unexpected_count: 0,
        unexpected_values: Vec::new(),
        observed_value: json!(n),
        skipped: None,
    }
}

/// `expect_table_columns_to_match_set`: missing columns always fail; extra columns fail
/// with `exact_match`.
pub(crate) fn columns_match_set(
    actual: &[&str],
    expected: &[String],
    exact_match: bool,
) -> Observed {
    let missing: Vec<&str> = expected
        .iter()
        .map(String::as_str)
        .filter(|c| !actual.contains(c))
        .collect();
    let extra: Vec<&str> = if exact_match {
        actual
            .iter()
            .copied()
            .filter(|c| !expected.iter().any(|e| e == c))
            .collect()
    } else {
        Vec::new()
    };
    let mut unexpected_values: Vec<String> =
        missing.iter().map(|c| format!("{c} (missing)")).collect();
    unexpected_values.extend(extra.iter().map(|c| format!("{c} (not expected)")));
    Observed {
        success: missing.is_empty() && extra.is_empty(),
        unexpected_count: (missing.len() + extra.len()) as u64,
        unexpected_values,
        observed_value: json!({"columns": actual, "missing": missing, "unexpected": extra}),
        skipped: None,
    }
}

/// `expect_table_column_count_to_be_between` and `…_to_equal` (min = max).
pub(crate) fn column_count(columns: usize, min: Option<u64>, max: Option<u64>) -> Observed {
    row_count(columns, min, max)
}

/// `expect_column_to_exist`: the observed value is the column's position (0-based), or
/// null when the table lacks it.
pub(crate) fn column_exists(actual: &[&str], column: &str, index: Option<u64>) -> Observed {
    let at = actual.iter().position(|c| *c == column);
    let success = match (at, index) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(at), Some(index)) => at as u64 == index,
    };
    let unexpected_values = match (at, index) {
        (None, _) => vec![format!("{column} (missing)")],
        (Some(at), Some(index)) if at as u64 != index => {
            vec![format!("{column} at {at}, expected at {index}")]
        }
        _ => Vec::new(),
    };
    Observed {
        success,
        unexpected_count: u64::from(!success),
        unexpected_values,
        observed_value: at.map_or(Value::Null, |at| json!(at)),
        skipped: None,
    }
}

/// `expect_table_row_count_to_equal_other_table`: the observed value is both counts.
pub(crate) fn row_count_equal_other(rows: usize, other_table: &str, other_rows: usize) -> Observed {
    let difference = (rows as i128 - other_rows as i128).unsigned_abs() as u64;
    Observed {
        success: difference == 0,
        unexpected_count: difference,
        unexpected_values: if difference == 0 {
            Vec::new()
        } else {
            vec![format!("{rows} rows, {other_table} has {other_rows}")]
        },
        observed_value: json!({"self": rows, "other": other_rows}),
        skipped: None,
    }
}

/// `expect_table_columns_to_match_ordered_list`: the columns are these, in this order;
/// each position that differs is unexpected.
pub(crate) fn columns_match_ordered_list(actual: &[&str], expected: &[String]) -> Observed {
    let positions = actual.len().max(expected.len());
    let mismatched: Vec<String> = (0..positions)
        .filter_map(|i| {
            let (found, wanted) = (actual.get(i).copied(), expected.get(i).map(String::as_str));
            (found != wanted).then(|| {
                format!(
                    "column {}: expected {}, found {}",
                    i + 1,
                    wanted.unwrap_or("nothing"),
                    found.unwrap_or("nothing")
                )
            })
        })
        .collect();
    Observed {
        success: mismatched.is_empty(),
        unexpected_count: mismatched.len() as u64,
        unexpected_values: mismatched,
        observed_value: json!(actual),
        skipped: None,
    }
}

/// `expect_metric_values_to_reconcile`: sum(left) = sum(right); the unexpected count is
/// the absolute difference. Skipped when the caller gave no metrics at all.
pub(crate) fn reconcile(
    metrics: &BTreeMap<String, i64>,
    left: &[String],
    right: &[String],
) -> Observed {
    if metrics.is_empty() {
        return Observed {
            success: true,
            unexpected_count: 0,
            unexpected_values: Vec::new(),
            observed_value: Value::Null,
            skipped: Some("no run metrics were given".into()),
        };
    }
    let sum = |names: &[String]| -> i128 {
        names
            .iter()
            .map(|n| i128::from(metrics.get(n).copied().unwrap_or(0)))
            .sum()
    };
    let (l, r) = (sum(left), sum(right));
    let values: BTreeMap<&str, i64> = left
        .iter()
        .chain(right)
        .filter_map(|n| metrics.get(n).map(|v| (n.as_str(), *v)))
        .collect();
    let difference = l - r;
    let text = |names: &[String]| names.join(" + ");
    Observed {
        success: difference == 0,
        unexpected_count: difference.unsigned_abs().min(u128::from(u64::MAX)) as u64,
        unexpected_values: if difference == 0 {
            Vec::new()
        } else {
            vec![format!("{} = {l} but {} = {r}", text(left), text(right))]
        },
        observed_value: json!({
            "left": int_json(l),
            "right": int_json(r),
            "difference": int_json(difference),
            "metrics": values,
        }),
        skipped: None,
    }
}

/// An integer as JSON: a number when it fits 64 bits, else its text.
fn int_json(v: i128) -> Value {
    i64::try_from(v).map_or_else(|_| json!(v.to_string()), |v| json!(v))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use crate::checks::fixtures::{ints, strs};
    use crate::checks::testing::{check, check_with_metrics, table, values};

    #[test]
    fn a_column_exists_anywhere_or_at_its_index() {
        let t = table("t", vec![("a", ints(&[Some(1)])), ("b", strs(&[None]))]);
        let run = |body: &str| check(body, &[&t]);
        let r = run("expectation: expect_column_to_exist, column: b");
        assert!(r.success);
        assert_eq!(r.observed_value, Some(json!(1)));
        assert!(run("expectation: expect_column_to_exist, column: b, column_index: 1").success);
        let r = run("expectation: expect_column_to_exist, column: b, column_index: 0");
        assert_eq!(values(&r), ["b at 1, expected at 0"]);
        let r = run("expectation: expect_column_to_exist, column: c");
        assert!(
            !r.success,
            "a missing column fails; it is not a binding error"
        );
        assert_eq!(values(&r), ["c (missing)"]);
    }

    #[test]
    fn column_counts_ordered_columns_and_row_counts() {
        let t = table(
            "t",
            vec![("a", ints(&[Some(1), None])), ("b", strs(&[None, None]))],
        );
        let u = table("u", vec![("a", ints(&[Some(1)]))]);
        let run = |body: &str| check(body, &[&t, &u]);
        let r = run("expectation: expect_table_column_count_to_equal, value: 2");
        assert!(r.success);
        assert_eq!(r.observed_value, Some(json!(2)));
        assert!(!run("expectation: expect_table_column_count_to_be_between, min_value: 3").success);
        assert!(run("expectation: expect_table_column_count_to_be_between, max_value: 2").success);
        assert!(run("expectation: expect_table_row_count_to_equal, value: 2").success);
        assert!(!run("expectation: expect_table_row_count_to_equal, value: 3").success);
        let r = run("expectation: expect_table_columns_to_match_ordered_list, column_list: [b, a]");
        assert!(!r.success);
        assert_eq!(r.unexpected_count, 2);
        assert_eq!(
            values(&r),
            [
                "column 1: expected b, found a",
                "column 2: expected a, found b"
            ]
        );
        let r = run("expectation: expect_table_columns_to_match_ordered_list, column_list: [a]");
        assert_eq!(values(&r), ["column 2: expected nothing, found b"]);
        assert!(
            run("expectation: expect_table_columns_to_match_ordered_list, column_list: [a, b]")
                .success
        );
        let r =
            run("expectation: expect_table_row_count_to_equal_other_table, other_table_name: u");
        assert!(!r.success);
        assert_eq!(r.observed_value, Some(json!({"self": 2, "other": 1})));
        assert_eq!(values(&r), ["2 rows, u has 1"]);
    }

    #[test]
    fn row_count_between() {
        let t = table("t", vec![("c", ints(&[Some(1), None]))]);
        let r = check(
            "expectation: expect_table_row_count_to_be_between, min_value: 1",
            &[&t],
        );
        assert!(r.success);
        assert_eq!(
            (r.element_count, r.observed_value.clone()),
            (2, Some(json!(2)))
        );
        assert!(
            !check(
                "expectation: expect_table_row_count_to_be_between, max_value: 1",
                &[&t]
            )
            .success
        );
        let empty = table("t", vec![("c", ints(&[]))]);
        assert!(
            !check(
                "expectation: expect_table_row_count_to_be_between, min_value: 1",
                &[&empty]
            )
            .success
        );
        assert!(
            check(
                "expectation: expect_table_row_count_to_be_between, max_value: 0",
                &[&empty]
            )
            .success
        );
    }

    #[test]
    fn columns_match_set_exactly_or_at_least() {
        let t = table("t", vec![("a", ints(&[])), ("b", strs(&[]))]);
        assert!(
            check(
                "expectation: expect_table_columns_to_match_set, column_set: [b, a]",
                &[&t]
            )
            .success
        );
        let r = check(
            "expectation: expect_table_columns_to_match_set, column_set: [a, c]",
            &[&t],
        );
        assert!(!r.success);
        assert_eq!(values(&r), ["c (missing)", "b (not expected)"]);
        let r = check(
            "expectation: expect_table_columns_to_match_set, column_set: [a], exact_match: false",
            &[&t],
        );
        assert!(r.success);
    }

    #[test]
    fn metrics_reconcile_or_report_the_difference() {
        let t = table("t", vec![("c", ints(&[]))]);
        let body = "expectation: expect_metric_values_to_reconcile, left: [messages_in], right: [aggregated, quarantined, orphaned]";
        let mut metrics: BTreeMap<String, i64> = [
            ("messages_in", 10),
            ("aggregated", 7),
            ("quarantined", 2),
            ("orphaned", 1),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let r = check_with_metrics(body, &[&t], &metrics);
        assert!(r.success);
        assert_eq!(
            r.observed_value.as_ref().map(|v| v["difference"].clone()),
            Some(json!(0))
        );
        metrics.insert("orphaned".into(), 0);
        let r = check_with_metrics(body, &[&t], &metrics);
        assert!(!r.success);
        assert_eq!(r.unexpected_count, 1);
        assert_eq!(
            values(&r),
            ["messages_in = 10 but aggregated + quarantined + orphaned = 9"]
        );
        let r = check(body, &[&t]);
        assert!(r.success && r.skipped.is_some(), "no metrics: skipped");
    }
}
