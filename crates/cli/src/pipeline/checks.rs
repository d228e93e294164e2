//! The check steps of a run: running a suite over datasets, recording its verdict in the
//! run's checks report, deciding whether the run goes on, and the run counts the output
//! suite reconciles ([`OutputMetrics`], named here once for every way they are found).

use std::collections::BTreeMap;

use ccc_dq::{ChunkTallies, Dataset, SuiteResult};

use super::settings::ChecksMode;
use crate::exit::CliError;
use crate::quality::suites::{LoadedSuite, SuiteDiagnostic};
use crate::report::ChecksReport;

/// Tallies of the row checks run while the sources were read, per table.
pub type Prechecked = BTreeMap<String, Vec<ChunkTallies>>;

/// Which side of the transform a suite checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The sources, after ingest.
    Source,
    /// The table, before it is staged.
    Output,
}

impl Side {
    /// `source` or `output`.
    pub fn name(self) -> &'static str {
        match self {
            Side::Source => "source",
            Side::Output => "output",
        }
    }
}

/// Runs one suite; a suite that does not fit the data is a suite error (exit 2). The
/// result names the suite's origin and hash.
pub fn run_suite(
    loaded: &LoadedSuite,
    suite: &ccc_dq::Suite,
    datasets: &[Dataset],
    metrics: &BTreeMap<String, i64>,
    prechecked: &Prechecked,
    options: &ccc_dq::Options,
) -> Result<SuiteResult, CliError> {
    let refs: Vec<&Dataset> = datasets.iter().collect();
    let mut result = ccc_dq::validate_prechecked(suite, &refs, metrics, options, prechecked)
        .map_err(|e| CliError::Suite(Box::new(SuiteDiagnostic::new(e))))?;
    result.origin = Some(loaded.origin.clone());
    Ok(result)
}

/// The suites' verdicts of one run, as they come.
#[derive(Debug)]
pub struct Checks {
    mode: ChecksMode,
    /// What the run report says about them.
    pub report: ChecksReport,
}

impl Checks {
    /// No suite has run yet.
    pub fn new(mode: ChecksMode) -> Checks {
        Checks {
            mode,
            report: ChecksReport {
                mode: mode.name(),
                source: None,
                output: None,
            },
        }
    }

    /// Records a suite's result. Returns whether the run must stop here: `--checks
    /// enforce` and a failed error-severity expectation.
    pub fn record(&mut self, side: Side, result: SuiteResult) -> bool {
        let stop = self.mode == ChecksMode::Enforce && !result.success;
        match side {
            Side::Source => self.report.source = Some(result),
            Side::Output => self.report.output = Some(result),
        }
        stop
    }
}

/// The run counts the output suite reconciles (`metrics:` in a suite), however a run
/// found them: from its own counts, or from a published output's `_run.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputMetrics {
    /// Message records read.
    pub messages_read: u64,
    /// Messages in a published conversation.
    pub messages_aggregated: u64,
    /// Unusable messages.
    pub messages_quarantined: u64,
    /// Messages whose order is unknown (a full run) or not known yet (incremental).
    pub messages_orphaned: u64,
    /// Order records read.
    pub orders_read: u64,
    /// Conversations in the table.
    pub conversations: u64,
}

impl OutputMetrics {
    /// Where each count stands in a full run's `_run.json`, and in an incremental one's
    /// (whose own counts cover its new files; the table holds every run's).
    const IN_RUN_REPORT: [(&'static str, &'static str, &'static str); 6] = [
        (
            "messages_read",
            "/messages/read",
            "/incremental/totals/messages_read",
        ),
        (
            "messages_aggregated",
            "/messages/aggregated",
            "/incremental/messages_in_table",
        ),
        (
            "messages_quarantined",
            "/messages/quarantined",
            "/incremental/totals/messages_quarantined",
        ),
        (
            "messages_orphaned",
            "/messages/orphaned",
            "/incremental/totals/messages_waiting",
        ),
        (
            "orders_read",
            "/orders/read",
            "/incremental/totals/orders_read",
        ),
        ("conversations", "/conversations", "/conversations"),
    ];

    fn values(&self) -> [u64; 6] {
        [
            self.messages_read,
            self.messages_aggregated,
            self.messages_quarantined,
            self.messages_orphaned,
            self.orders_read,
            self.conversations,
        ]
    }

    /// The metrics a suite sees, with `messages_in_table` counted from the table itself.
    pub fn to_map(&self, messages_in_table: i64) -> BTreeMap<String, i64> {
        Self::IN_RUN_REPORT
            .iter()
            .zip(self.values())
            .map(|((name, _, _), value)| (name.to_string(), value as i64))
            .chain(std::iter::once((
                "messages_in_table".to_string(),
                messages_in_table,
            )))
            .collect()
    }

    /// The counts in a run report; the error names the first one missing.
    pub fn from_run_report(report: &serde_json::Value) -> Result<OutputMetrics, String> {
        let incremental = report["incremental"].is_object();
        let mut values = [0u64; 6];
        for (value, (_, full, incr)) in values.iter_mut().zip(Self::IN_RUN_REPORT) {
            let pointer = if incremental { incr } else { full };
            *value = report
                .pointer(pointer)
                .and_then(serde_json::Value::as_i64)
                .filter(|v| *v >= 0)
                .ok_or_else(|| {
                    format!(
                        "`{}` is missing or not a count",
                        pointer.trim_start_matches('/').replace('/', ".")
                    )
                })? as u64;
        }
        let [messages_read, messages_aggregated, messages_quarantined, messages_orphaned, orders_read, conversations] =
            values;
        Ok(OutputMetrics {
            messages_read,
            messages_aggregated,
            messages_quarantined,
            messages_orphaned,
            orders_read,
            conversations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_read_back_from_a_run_report_are_the_ones_written() {
        let metrics = OutputMetrics {
            messages_read: 10,
            messages_aggregated: 7,
            messages_quarantined: 2,
            messages_orphaned: 1,
            orders_read: 4,
            conversations: 3,
        };
        let full = serde_json::json!({
            "messages": {"read": 10, "aggregated": 7, "quarantined": 2, "orphaned": 1},
            "orders": {"read": 4},
            "conversations": 3,
        });
        assert_eq!(OutputMetrics::from_run_report(&full), Ok(metrics));
        let map = metrics.to_map(7);
        assert_eq!(map.len(), 7);
        assert_eq!(map["messages_in_table"], 7);
        assert_eq!(map["orders_read"], 4);

        let incremental = serde_json::json!({
            "messages": {"read": 1, "aggregated": 1, "quarantined": 0, "orphaned": 0},
            "orders": {"read": 1},
            "conversations": 3,
            "incremental": {
                "messages_in_table": 7,
                "totals": {"messages_read": 10, "messages_quarantined": 2, "messages_waiting": 1, "orders_read": 4},
            },
        });
        assert_eq!(OutputMetrics::from_run_report(&incremental), Ok(metrics));
        let broken = serde_json::json!({"messages": {"read": -1}});
        assert_eq!(
            OutputMetrics::from_run_report(&broken),
            Err("`messages.read` is missing or not a count".to_string())
        );
    }

    #[test]
    fn only_enforce_stops_a_run_and_only_on_a_failed_error() {
        let failed = SuiteResult::new(
            "s",
            vec![super::super::testing::result(
                "id", "t", "c", "expect_x", false,
            )],
        );
        let passed = SuiteResult::new("s", Vec::new());
        let mut enforce = Checks::new(ChecksMode::Enforce);
        assert!(!enforce.record(Side::Source, passed.clone()));
        assert!(enforce.record(Side::Output, failed.clone()));
        assert!(enforce.report.source.is_some() && enforce.report.output.is_some());
        let mut warn = Checks::new(ChecksMode::Warn);
        assert!(!warn.record(Side::Source, failed));
    }
}
