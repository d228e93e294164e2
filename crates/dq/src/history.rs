//! A suite's history: the metrics each earlier run observed (row counts, unexpected
//! counts, the aggregates its expectations computed), which the history expectations
//! compare this run against. The engine only reads a [`History`]; where it is kept (a
//! folder of files, a table) is the caller's business, and [`run_points`] is what a
//! caller appends for a run.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::result::SuiteResult;
use crate::suite::{Statistic, Suite};

/// What a metric measures, on which table (and column, or expectation).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct MetricKey {
    /// The table.
    pub table: String,
    /// The column, for column metrics.
    pub column: Option<String>,
    /// `row_count`, `unexpected_count`, `null_count`, or a statistic (`min`, `max`,
    /// `mean`, `median`, `sum`, `stdev`, `unique_value_count`, `unique_proportion`).
    pub metric: String,
    /// The expectation, for `unexpected_count`.
    pub expectation_id: Option<String>,
}

impl MetricKey {
    /// A table metric.
    pub fn table(table: &str, metric: &str) -> MetricKey {
        MetricKey {
            table: table.to_string(),
            column: None,
            metric: metric.to_string(),
            expectation_id: None,
        }
    }

    /// A column metric.
    pub fn column(table: &str, column: &str, metric: &str) -> MetricKey {
        MetricKey {
            column: Some(column.to_string()),
            ..MetricKey::table(table, metric)
        }
    }

    /// The metric in words: `row_count of table t`, `mean of column t.c`.
    pub fn describe(&self) -> String {
        match (&self.column, &self.expectation_id) {
            (Some(c), _) => format!("{} of column {}.{c}", self.metric, self.table),
            (None, Some(id)) => format!("{} of expectation {id}", self.metric),
            (None, None) => format!("{} of table {}", self.metric, self.table),
        }
    }
}

/// One metric's value in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoint {
    /// What it measures.
    pub key: MetricKey,
    /// Its value.
    pub value: f64,
}

/// One earlier run of a suite.
#[derive(Debug, Clone, PartialEq)]
pub struct PastRun {
    /// Its id (unique in the history).
    pub run_id: String,
    /// When it ran, in microseconds since the Unix epoch (UTC).
    pub run_time: i64,
    /// The suite's name.
    pub suite: String,
    /// What it observed.
    pub points: Vec<MetricPoint>,
}

/// One value of a metric from an earlier run, as a result shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastValue {
    /// The run.
    pub run_id: String,
    /// When it ran (RFC 3339, UTC).
    pub run_time: String,
    /// The metric's value then.
    pub value: f64,
}

/// Every earlier run the caller found, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    runs: Vec<PastRun>,
}

impl History {
    /// A history of these runs, in any order.
    pub fn new(mut runs: Vec<PastRun>) -> History {
        runs.sort_by(|a, b| (a.run_time, &a.run_id).cmp(&(b.run_time, &b.run_id)));
        History { runs }
    }

    /// The runs, oldest first.
    pub fn runs(&self) -> &[PastRun] {
        &self.runs
    }

    /// The metric's values in the last `last` runs of `suite` before `before` (µs since
    /// the epoch) that recorded it, oldest first. Runs at or after `before` are left out,
    /// so that a run re-done for an earlier time compares only with what came before it.
    pub fn recent(&self, suite: &str, key: &MetricKey, before: i64, last: usize) -> Vec<PastValue> {
        let mut values: Vec<PastValue> = self
            .runs
            .iter()
            .rev()
            .filter(|r| r.suite == suite && r.run_time < before)
            .filter_map(|r| {
                let point = r.points.iter().find(|p| &p.key == key)?;
                Some(PastValue {
                    run_id: r.run_id.clone(),
                    run_time: crate::time::format_timestamp_nanos(i128::from(r.run_time) * 1000),
                    value: point.value,
                })
            })
            .take(last)
            .collect();
        values.reverse();
        values
    }
}

/// What a run of `suite` observed, for the history: each table's row count, each
/// expectation's unexpected count, and every number an aggregate or history expectation
/// observed, under its metric (the first of equal keys wins). Skipped expectations
/// observed nothing.
pub fn run_points(suite: &Suite, result: &SuiteResult) -> Vec<MetricPoint> {
    let mut points: Vec<MetricPoint> = Vec::new();
    let mut push = |key: MetricKey, value: f64| {
        if value.is_finite() && !points.iter().any(|p| p.key == key) {
            points.push(MetricPoint { key, value });
        }
    };
    for r in &result.results {
        // By id: a caller may have run a suite derived from this one (fewer expectations).
        let Some(e) = suite.expectations().find(|e| e.id == r.id) else {
            continue;
        };
        // A history expectation with too short a history is skipped, but observed its
        // metric: that is how the history grows.
        let observed = r.skipped.is_none() || (e.kind.is_history() && r.observed_value.is_some());
        if !observed {
            continue;
        }
        push(
            MetricKey::table(&r.table, "row_count"),
            r.element_count as f64,
        );
        if r.skipped.is_none() {
            push(
                MetricKey {
                    expectation_id: Some(r.id.clone()),
                    ..MetricKey::table(&r.table, "unexpected_count")
                },
                r.unexpected_count as f64,
            );
        }
        if let Some((key, value)) = observed_metric(e, r.observed_value.as_ref()) {
            push(key, value);
        }
    }
    points
}

/// The metric an aggregate (or history) expectation observed, when it is a number.
fn observed_metric(
    e: &crate::suite::Expectation,
    observed: Option<&Value>,
) -> Option<(MetricKey, f64)> {
    use crate::suite::ExpectationKind as K;
    let observed = observed?;
    let column_metric = |column: &str, metric: &str, value: &Value| {
        Some((MetricKey::column(&e.table, column, metric), value.as_f64()?))
    };
    match &e.kind {
        K::StatisticBetween {
            column, statistic, ..
        } => column_metric(column, statistic.word(), observed),
        K::UniqueValueCountBetween { column, .. } => {
            column_metric(column, "unique_value_count", observed)
        }
        K::UniqueProportionBetween { column, .. } => {
            column_metric(column, "unique_proportion", observed)
        }
        K::RowCountWithinPercentOfHistory { .. } => Some((
            MetricKey::table(&e.table, "row_count"),
            observed.get("value")?.as_f64()?,
        )),
        // Another expectation's unexpected count is recorded with that expectation.
        K::MetricWithinStdevsOfHistory {
            metric: HistoryMetric::UnexpectedCount { .. },
            ..
        } => None,
        K::MetricWithinStdevsOfHistory { metric, .. } => {
            Some((metric.key(&e.table), observed.get("value")?.as_f64()?))
        }
        _ => None,
    }
}

/// The metric a history expectation watches.
#[derive(Debug, Clone, PartialEq)]
pub enum HistoryMetric {
    /// The table's rows.
    RowCount,
    /// Another expectation's unexpected count.
    UnexpectedCount {
        /// Its id.
        of: String,
        /// Its table (found when the suite is loaded).
        table: String,
    },
    /// A column's nulls.
    NullCount {
        /// The column.
        column: String,
    },
    /// A statistic of a column's non-null values.
    Statistic {
        /// The column.
        column: String,
        /// Which.
        statistic: Statistic,
    },
}

impl HistoryMetric {
    /// The names `metric:` takes.
    pub const NAMES: [&'static str; 9] = [
        "row_count",
        "unexpected_count",
        "null_count",
        "min",
        "max",
        "mean",
        "median",
        "sum",
        "stdev",
    ];

    /// Its key in the history of a watcher on `table` (an unexpected count is on the
    /// table of the expectation counted).
    pub fn key(&self, table: &str) -> MetricKey {
        match self {
            HistoryMetric::RowCount => MetricKey::table(table, "row_count"),
            HistoryMetric::UnexpectedCount { of, table } => MetricKey {
                expectation_id: Some(of.clone()),
                ..MetricKey::table(table, "unexpected_count")
            },
            HistoryMetric::NullCount { column } => MetricKey::column(table, column, "null_count"),
            HistoryMetric::Statistic { column, statistic } => {
                MetricKey::column(table, column, statistic.word())
            }
        }
    }

    /// The column it reads, if any.
    pub fn column(&self) -> Option<&str> {
        match self {
            HistoryMetric::NullCount { column } | HistoryMetric::Statistic { column, .. } => {
                Some(column)
            }
            _ => None,
        }
    }
}
