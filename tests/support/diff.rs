//! Differences worth reading in a failed test: a report's fields against the expected
//! subset, and tables row by row with the differing columns named.

use std::fmt::Write as _;

use serde_json::Value;

use super::output::OUTPUT_COLUMNS;

/// Every leaf of `want` must be in `got` with the same value.
pub fn subset_diff(path: &str, want: &Value, got: &Value, wrong: &mut Vec<String>) {
    match want {
        Value::Object(fields) => {
            for (key, value) in fields {
                let sub = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match got.get(key) {
                    Some(actual) => subset_diff(&sub, value, actual, wrong),
                    None => wrong.push(format!("{sub}: expected {value}, missing")),
                }
            }
        }
        _ if want == got => {}
        _ => wrong.push(format!("{path}: expected {want}, actual {got}")),
    }
}

/// Expected and actual tables, row by row, with the differing columns named.
pub fn table_diff(expected: &[Vec<String>], actual: &[Vec<String>]) -> String {
    let mut columns = vec!["conversation_date"];
    columns.extend(OUTPUT_COLUMNS);
    let mut out = format!(
        "the table differs from expected.csv ({} expected rows, {} actual); columns: {}\n",
        expected.len(),
        actual.len(),
        columns.join(",")
    );
    for i in 0..expected.len().max(actual.len()) {
        let (e, a) = (expected.get(i), actual.get(i));
        let line = |row: Option<&Vec<String>>| {
            row.map(|r| r.join(","))
                .unwrap_or_else(|| "<no row>".to_string())
        };
        if e == a {
            let _ = writeln!(out, "    row {:>2}   same:     {}", i + 1, line(e));
            continue;
        }
        let _ = writeln!(out, "  ! row {:>2}   expected: {}", i + 1, line(e));
        let _ = writeln!(out, "             actual:   {}", line(a));
        if let (Some(e), Some(a)) = (e, a) {
            out.push_str(&field_diff(&columns, e, a, "expected", "actual"));
        }
    }
    out
}

pub fn field_diff(
    columns: &[&str],
    left: &[String],
    right: &[String],
    left_name: &str,
    right_name: &str,
) -> String {
    let mut out = String::new();
    for (i, column) in columns.iter().enumerate() {
        let (l, r) = (left.get(i), right.get(i));
        if l != r {
            let show =
                |v: Option<&String>| v.map_or("<no field>".to_string(), |v| format!("{v:?}"));
            let _ = writeln!(
                out,
                "               {column}: {left_name} {}, {right_name} {}",
                show(l),
                show(r)
            );
        }
    }
    out
}
