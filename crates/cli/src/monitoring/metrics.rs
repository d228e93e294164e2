//! ccc's metrics: what `run`, `validate` and `publish` did, named by Prometheus'
//! conventions (`ccc_` prefix, `_total` counters, base units, one label per dimension).
//! Every sample carries `command`, so the files of a job's steps can sit in one
//! textfile-collector folder without two of them writing the same series.
//!
//! Counters count what this command did; each command's file replaces the last one's,
//! which Prometheus reads as a counter reset. See docs/monitoring.md for every name.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ccc_dq::SuiteResult;
use ccc_ingest::Table;

use super::exposition::{Exposition, Kind};
use crate::exit::{CliError, ExitStatus};
use crate::report::RunReport;

const LAST_PUBLISH: &str = "ccc_last_successful_publish_timestamp_seconds";
const LAST_PUBLISH_HELP: &str =
    "When this command last published an output (carried over from the file it replaces).";

/// The most bytes of a previous metrics file read for its last publish time.
const PREVIOUS_FILE_LIMIT: u64 = 16 << 20;

/// The metrics of one command, gathered as it goes and written once at its end.
#[derive(Debug, Clone)]
pub struct CommandMetrics {
    command: &'static str,
    body: Exposition,
    published_at: Option<SystemTime>,
}

impl CommandMetrics {
    /// Metrics of `command` (`run`, `validate`, `publish`).
    pub fn new(command: &'static str) -> Self {
        Self {
            command,
            body: Exposition::default(),
            published_at: None,
        }
    }

    fn counter(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &str)],
        value: u64,
    ) {
        let mut all = vec![("command", self.command)];
        all.extend_from_slice(labels);
        self.body.add(name, Kind::Counter, help, &all, value);
    }

    fn gauge(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &str)],
        value: impl Into<super::exposition::Value>,
    ) {
        let mut all = vec![("command", self.command)];
        all.extend_from_slice(labels);
        self.body.add(name, Kind::Gauge, help, &all, value);
    }

    /// Rows of each table read (or checked).
    pub fn rows_read(&mut self, table: &str, rows: u64) {
        self.counter(
            "ccc_rows_read_total",
            "Rows (records) of a table read by this command.",
            &[("table", table)],
            rows,
        );
    }

    /// Rows of each table a suite checked (when there is no run report to take them
    /// from): every expectation's `element_count` is its table's row count.
    pub fn rows_checked(&mut self, result: &SuiteResult) {
        let mut tables: Vec<(&str, u64)> = Vec::new();
        for r in &result.results {
            match tables.iter_mut().find(|(table, _)| *table == r.table) {
                Some((_, rows)) => *rows = (*rows).max(r.element_count),
                None => tables.push((&r.table, r.element_count)),
            }
        }
        for (table, rows) in tables {
            self.rows_read(table, rows);
        }
    }

    /// A run's counts: rows read and quarantined per table, orphans, conversations,
    /// late and waiting messages (incremental runs), and the stage durations.
    pub fn run_report(&mut self, report: &RunReport) {
        let (messages, orders) = (&report.table.messages, &report.table.orders);
        self.rows_read(Table::ChatMessages.name(), messages.read);
        self.rows_read(Table::Orders.name(), orders.read);
        for (table, by_reason) in [
            (Table::ChatMessages.name(), &messages.quarantined_by_reason),
            (Table::Orders.name(), &orders.quarantined_by_reason),
        ] {
            for (reason, rows) in by_reason {
                self.counter(
                    "ccc_rows_quarantined_total",
                    "Unusable rows written to the quarantine, by table and reason.",
                    &[("table", table), ("reason", reason)],
                    *rows,
                );
            }
        }
        self.counter(
            "ccc_orphaned_messages_total",
            "Usable messages whose order is unknown (quarantined as orphans).",
            &[],
            messages.orphaned,
        );
        self.counter(
            "ccc_orphan_orders_total",
            "Distinct order ids among the orphaned messages.",
            &[],
            messages.orphan_orders,
        );
        self.counter(
            "ccc_conversations_written_total",
            "Rows of customer_courier_conversations in the output this command wrote.",
            &[],
            report.table.conversations,
        );
        if let Some(incremental) = &report.table.incremental {
            self.counter(
                "ccc_late_messages_total",
                "New messages older than the newest message published before (incremental runs).",
                &[],
                incremental.late.messages,
            );
            self.gauge(
                "ccc_late_message_worst_lateness_seconds",
                "How far the latest-arriving late message is behind the newest one published before.",
                &[],
                incremental.late.worst_lateness_seconds.unwrap_or(0).max(0) as u64,
            );
            self.gauge(
                "ccc_waiting_orders",
                "Orders whose messages are held until the order arrives (incremental runs).",
                &[],
                incremental.waiting.orders,
            );
            self.gauge(
                "ccc_waiting_messages",
                "Messages held until their order arrives (incremental runs).",
                &[],
                incremental.waiting.messages,
            );
            for (action, parts) in [
                ("rewritten", incremental.parts_rewritten),
                ("kept", incremental.parts_kept),
                ("removed", incremental.parts_removed),
            ] {
                self.counter(
                    "ccc_output_parts_total",
                    "Part files of the table (a date and an hour) an incremental run rewrote, kept or removed.",
                    &[("action", action)],
                    parts,
                );
            }
        }
        let t = &report.timings;
        for (stage, ms) in [
            ("discover", t.discover_ms),
            ("read", t.read_ms),
            ("source_checks", t.source_checks_ms),
            ("transform", t.transform_ms),
            ("output_checks", t.output_checks_ms),
            ("publish", t.publish_ms),
        ] {
            self.stage_duration(stage, Duration::from_millis(ms));
        }
    }

    /// How long a stage took.
    pub fn stage_duration(&mut self, stage: &str, took: Duration) {
        self.gauge(
            "ccc_stage_duration_seconds",
            "Wall time of a stage of this command (stage=\"total\": the whole command).",
            &[("stage", stage)],
            took.as_secs_f64(),
        );
    }

    /// A suite's verdict, and each expectation's unexpected count and verdict.
    pub fn suite(&mut self, result: &SuiteResult) {
        let suite = result.suite.as_str();
        self.gauge(
            "ccc_suite_success",
            "1 when no expectation of severity error failed in the suite, else 0.",
            &[("suite", suite)],
            result.success,
        );
        for r in &result.results {
            let labels = [
                ("suite", suite),
                ("table", r.table.as_str()),
                ("expectation", r.id.as_str()),
            ];
            self.counter(
                "ccc_expectation_unexpected_total",
                "Rows (or values) that broke an expectation.",
                &labels,
                r.unexpected_count,
            );
            let severity = r.severity.to_string();
            self.gauge(
                "ccc_expectation_success",
                "1 when the expectation held (or was skipped), else 0.",
                &[
                    labels[0],
                    labels[1],
                    labels[2],
                    ("severity", severity.as_str()),
                ],
                r.success,
            );
        }
    }

    /// The output was published now.
    pub fn published(&mut self) {
        self.published_at = Some(SystemTime::now());
    }

    /// The whole exposition, once the command has ended with `status` after `took`.
    /// Without a publish of its own, the last publish time is the one `previous` (the
    /// text of the file this one replaces) held.
    pub fn render(&self, status: ExitStatus, took: Duration, previous: Option<&str>) -> String {
        let mut end = self.clone();
        end.stage_duration("total", took);
        let command = self.command;
        let mut head = Exposition::default();
        let labels = [("command", command)];
        head.add(
            "ccc_build_info",
            Kind::Gauge,
            "Always 1; the ccc version that wrote this file.",
            &[("command", command), ("version", env!("CARGO_PKG_VERSION"))],
            1u64,
        );
        head.add(
            "ccc_last_run_timestamp_seconds",
            Kind::Gauge,
            "When this command ended (Unix time).",
            &labels,
            unix_seconds(SystemTime::now()),
        );
        head.add(
            "ccc_last_run_success",
            Kind::Gauge,
            "1 when this command exited 0, else 0.",
            &labels,
            status == ExitStatus::Success,
        );
        head.add(
            "ccc_last_run_exit_code",
            Kind::Gauge,
            "This command's exit code: 0 ok, 1 a check failed, 2 usage or suite, 3 input or output.",
            &labels,
            status as u64,
        );
        if let Some(peak) = crate::memory::peak_resident_bytes() {
            head.add(
                "ccc_peak_memory_bytes",
                Kind::Gauge,
                "Peak resident memory of this command's process.",
                &labels,
                peak,
            );
        }
        let published = self
            .published_at
            .map(unix_seconds)
            .or_else(|| previous.and_then(|text| previous_publish(text, command)));
        if let Some(at) = published {
            head.add(LAST_PUBLISH, Kind::Gauge, LAST_PUBLISH_HELP, &labels, at);
        }
        let mut text = head.render();
        text.push_str(&end.body.render());
        text
    }

    /// Writes the metrics to `path` whole (the previous file's last publish time is kept
    /// when this command did not publish).
    pub fn write(&self, path: &Path, status: ExitStatus, took: Duration) -> Result<(), CliError> {
        let previous = ccc_ingest::open::read_regular_to_string(path, PREVIOUS_FILE_LIMIT).ok();
        let text = self.render(status, took, previous.as_deref());
        crate::files::write_whole(path, &text)
    }
}

fn unix_seconds(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The last publish time of `command` in a metrics file ccc wrote before.
fn previous_publish(text: &str, command: &str) -> Option<f64> {
    let prefix = format!("{LAST_PUBLISH}{{command=\"{command}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .filter(|at| at.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_names_its_command_and_the_head_says_how_it_ended() {
        let mut m = CommandMetrics::new("validate");
        m.rows_read("orders", 500);
        let text = m.render(ExitStatus::ChecksFailed, Duration::from_millis(1500), None);
        assert!(
            text.contains("ccc_last_run_success{command=\"validate\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("ccc_last_run_exit_code{command=\"validate\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("ccc_rows_read_total{command=\"validate\",table=\"orders\"} 500\n"),
            "{text}"
        );
        assert!(
            text.contains("ccc_stage_duration_seconds{command=\"validate\",stage=\"total\"} 1.5\n"),
            "{text}"
        );
        assert!(
            !text.contains(LAST_PUBLISH),
            "nothing was published: {text}"
        );
    }

    #[test]
    fn the_last_publish_time_is_carried_over_when_this_command_did_not_publish() {
        let mut before = CommandMetrics::new("publish");
        before.published();
        let first = before.render(ExitStatus::Success, Duration::ZERO, None);
        let at = previous_publish(&first, "publish").expect("written");
        let failed =
            CommandMetrics::new("publish").render(ExitStatus::Io, Duration::ZERO, Some(&first));
        assert_eq!(previous_publish(&failed, "publish"), Some(at));
        // Another command's time is not taken for this one's.
        assert_eq!(previous_publish(&first, "run"), None);
    }
}
