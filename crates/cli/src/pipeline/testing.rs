//! Builders shared by the pipeline's unit tests.

use ccc_dq::ExpectationResult;

/// An expectation result of severity error on `table.column`.
pub fn result(
    id: &str,
    table: &str,
    column: &str,
    expectation: &str,
    success: bool,
) -> ExpectationResult {
    serde_json::from_value(serde_json::json!({
        "id": id,
        "table": table,
        "column": column,
        "columns": [column],
        "expectation": expectation,
        "rule": null,
        "severity": "error",
        "success": success,
        "element_count": 1,
        "missing_count": 0,
        "missing_percent": null,
        "unexpected_count": if success { 0 } else { 1 },
        "unexpected_percent": null,
        "unexpected_percent_total": null,
        "partial_unexpected": [],
    }))
    .expect("a well-formed result")
}
