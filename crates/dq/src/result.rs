//! What a run returns: one result per expectation with Great Expectations' SUMMARY
//! fields (counts, percentages, a few unexpected values with where they came from) and
//! the suite's verdict and statistics. Serializes to JSON; reports render it elsewhere.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dataset::Location;
use crate::suite::{ResultFormat, Severity};

/// The most bytes of an unexpected value a result keeps: reports show examples, and a
/// value of megabytes would make every report (and a terminal table that wraps it) as
/// large. The whole value stays where the row is kept (a run's quarantine).
pub const MAX_VALUE_BYTES: usize = 120;

/// One unexpected value and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnexpectedValue {
    /// The value as text (`None` for a null); at most [`MAX_VALUE_BYTES`] of it, then `…`.
    pub value: Option<String>,
    /// The whole value's length in bytes, when `value` holds only its start.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub value_length: Option<u64>,
    /// Where the row came from (absent for table-level expectations).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub location: Option<Location>,
}

impl UnexpectedValue {
    /// An example, cut to its first [`MAX_VALUE_BYTES`] (at a character boundary).
    pub fn new(value: Option<String>, location: Option<Location>) -> Self {
        let (value, value_length) = match value {
            Some(v) if v.len() > MAX_VALUE_BYTES => {
                let mut cut = MAX_VALUE_BYTES;
                while !v.is_char_boundary(cut) {
                    cut -= 1;
                }
                (Some(format!("{}…", &v[..cut])), Some(v.len() as u64))
            }
            value => (value, None),
        };
        Self {
            value,
            value_length,
            location,
        }
    }
}

/// The result of one expectation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectationResult {
    /// The expectation's id.
    pub id: String,
    /// The table checked.
    pub table: String,
    /// The single column checked, when there is exactly one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub column: Option<String>,
    /// Every column the expectation reads (empty for table-level expectations).
    pub columns: Vec<String>,
    /// The expectation type.
    pub expectation: String,
    /// The rule in words, from the suite.
    pub rule: Option<String>,
    /// What a failure means.
    pub severity: Severity,
    /// Whether the expectation held.
    pub success: bool,
    /// `mostly` as written in the suite, when given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mostly: Option<String>,
    /// Rows in the table (for table-level expectations too).
    pub element_count: u64,
    /// Nulls the check skipped (for not-null: the nulls, which are its unexpected rows).
    pub missing_count: u64,
    /// `missing_count` over `element_count`, in percent.
    pub missing_percent: Option<f64>,
    /// Values that broke the expectation.
    pub unexpected_count: u64,
    /// `unexpected_count` over the non-null values checked, in percent (over all rows
    /// for not-null), as in Great Expectations; `None` when nothing was checked.
    pub unexpected_percent: Option<f64>,
    /// `unexpected_count` over `element_count`, in percent.
    pub unexpected_percent_total: Option<f64>,
    /// Up to 20 unexpected values in row order, with their locations.
    pub partial_unexpected: Vec<UnexpectedValue>,
    /// What a table-level expectation observed (row count, columns, metric sums).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub observed_value: Option<Value>,
    /// Why the expectation was not evaluated (it then counts as a success).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub skipped: Option<String>,
    /// The expectation's `meta` from the suite.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<Value>,
    /// How much of the result is reported.
    #[serde(default)]
    pub result_format: ResultFormat,
    /// Every unexpected value with its location, in row order, when they were all
    /// collected (`result_format: COMPLETE`, or failed rows written out) and the
    /// expectation failed.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub unexpected_list: Vec<UnexpectedValue>,
}

impl ExpectationResult {
    /// The columns as one label: `a`, or `a, b`.
    pub fn column_label(&self) -> String {
        self.columns.join(", ")
    }

    /// True for a failure of error severity.
    pub fn is_error_failure(&self) -> bool {
        !self.success && self.severity == Severity::Error
    }
}

/// Counts over a suite's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statistics {
    /// Expectations evaluated (including skipped ones).
    pub evaluated_expectations: usize,
    /// Expectations that held.
    pub successful_expectations: usize,
    /// Expectations that failed.
    pub unsuccessful_expectations: usize,
    /// Failures of severity error.
    pub failed_errors: usize,
    /// Failures of severity warn.
    pub failed_warnings: usize,
    /// Expectations skipped (counted as successful).
    pub skipped_expectations: usize,
    /// Successful over evaluated, in percent.
    pub success_percent: Option<f64>,
}

/// Where a suite came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteOrigin {
    /// Its path, or how the caller names a suite it holds itself (e.g. `built-in output.yaml`).
    pub source: String,
    /// SHA-256 of the suite's text, in lowercase hex.
    pub sha256: String,
}

/// The outcome of running a suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteResult {
    /// The suite's name.
    pub suite: String,
    /// Which suite file ran and its content hash, as the caller names them (set after
    /// validation; a library caller may leave it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<SuiteOrigin>,
    /// True unless an expectation of severity error failed.
    pub success: bool,
    /// One result per expectation, in suite order.
    pub results: Vec<ExpectationResult>,
    /// Counts over the results.
    pub statistics: Statistics,
    /// Each table's profile, when asked for ([`crate::Options::profile`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Vec<crate::profile::TableProfile>>,
}

impl SuiteResult {
    /// Builds the verdict and statistics from results.
    pub fn new(suite: impl Into<String>, results: Vec<ExpectationResult>) -> SuiteResult {
        let evaluated = results.len();
        let successful = results.iter().filter(|r| r.success).count();
        let failed_errors = results.iter().filter(|r| r.is_error_failure()).count();
        let statistics = Statistics {
            evaluated_expectations: evaluated,
            successful_expectations: successful,
            unsuccessful_expectations: evaluated - successful,
            failed_errors,
            failed_warnings: evaluated - successful - failed_errors,
            skipped_expectations: results.iter().filter(|r| r.skipped.is_some()).count(),
            success_percent: percent(successful as u64, evaluated as u64),
        };
        SuiteResult {
            suite: suite.into(),
            origin: None,
            success: failed_errors == 0,
            results,
            statistics,
            profile: None,
        }
    }

    /// The results that failed, errors first, in suite order within each severity.
    pub fn failures(&self) -> Vec<&ExpectationResult> {
        let mut failed: Vec<&ExpectationResult> =
            self.results.iter().filter(|r| !r.success).collect();
        failed.sort_by_key(|r| r.severity != Severity::Error);
        failed
    }

    /// The result as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("results hold only JSON-representable values")
    }
}

/// `part / whole` in percent; `None` when `whole` is 0.
pub(crate) fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}
