//! The run report: what went in, where it went, how long it took. Written as
//! `OUT/_run.json` and shown as a table for people at the end of a run.

use std::collections::BTreeMap;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use serde::Serialize;

const MIB: f64 = (1u64 << 20) as f64;

/// Counts of one source table.
#[derive(Debug, Serialize)]
pub struct MessageCounts {
    /// Records read.
    pub read: u64,
    /// Records that went into a conversation.
    pub aggregated: u64,
    /// Unusable records (quarantined).
    pub quarantined: u64,
    /// Usable records whose order is unknown (quarantined as orphans).
    pub orphaned: u64,
    /// Distinct order ids among orphans.
    pub orphan_orders: u64,
    /// Quarantined (unusable) records by reason.
    pub quarantined_by_reason: BTreeMap<String, u64>,
    /// Values that did not fit their field (the record may still be usable).
    pub field_problems: u64,
}

/// Counts of the orders table.
#[derive(Debug, Serialize)]
pub struct OrderCounts {
    /// Records read.
    pub read: u64,
    /// Distinct usable orders.
    pub distinct: u64,
    /// Records repeating an order id already seen.
    pub duplicate_rows: u64,
    /// Order ids with more than one cityCode (the smallest is used).
    pub conflicting: u64,
    /// A few of those ids.
    pub conflicting_examples: Vec<i64>,
    /// Unusable records (quarantined).
    pub quarantined: u64,
    /// Quarantined records by reason.
    pub quarantined_by_reason: BTreeMap<String, u64>,
    /// Values that did not fit their field.
    pub field_problems: u64,
}

/// One source file.
#[derive(Debug, Serialize)]
pub struct FileEntry {
    /// File name.
    pub name: String,
    /// Table.
    pub table: String,
    /// Format.
    pub format: ccc_ingest::Format,
    /// Size in bytes.
    pub bytes: u64,
}

/// One written partition.
#[derive(Debug, Serialize)]
pub struct PartitionEntry {
    /// `conversation_date`.
    pub date: String,
    /// Rows.
    pub rows: u64,
}

/// Milliseconds per stage.
#[derive(Debug, Default, Serialize)]
pub struct Timings {
    /// Finding files.
    pub discover_ms: u64,
    /// Reading and parsing.
    pub read_ms: u64,
    /// Source suite.
    pub source_checks_ms: u64,
    /// Building the table.
    pub transform_ms: u64,
    /// Output suite.
    pub output_checks_ms: u64,
    /// Writing and swapping in.
    pub publish_ms: u64,
    /// Everything.
    pub total_ms: u64,
}

/// The run's memory (`memory` in `_run.json`).
#[derive(Debug, Default, Serialize)]
pub struct MemoryReport {
    /// The process's peak resident set up to writing the report, in bytes (absent where
    /// the platform does not say).
    pub peak_rss_bytes: Option<u64>,
    /// `--memory-limit`, or its default.
    pub limit_bytes: u64,
    /// What the transform spilled to disk past the limit (absent: an incremental run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spill: Option<ccc_transform::SpillSummary>,
}

impl MemoryReport {
    /// The peak so far, under `limit_bytes`, with what was spilled.
    pub fn now(limit_bytes: u64, spill: Option<ccc_transform::SpillSummary>) -> Self {
        Self {
            peak_rss_bytes: crate::memory::peak_resident_bytes(),
            limit_bytes,
            spill,
        }
    }
}

/// What an incremental run did to its state (`incremental` in `_run.json`).
#[derive(Debug, Serialize)]
pub struct IncrementalReport {
    /// The state folder.
    pub state: String,
    /// The state generation this output was published from.
    pub generation: u64,
    /// Its token: the link between this output and its state.
    pub state_token: String,
    /// Everything was folded again from scratch (`--reprocess`).
    pub reprocessed: bool,
    /// Files folded in by this run.
    pub files_new: Vec<String>,
    /// Files skipped because they were folded in before with the same content.
    pub files_already_folded: u64,
    /// Files folded in before that are no longer in the source folder (their data stays).
    pub files_missing: Vec<String>,
    /// What changed.
    pub changes: ccc_transform::incremental::FoldCounts,
    /// Date partitions with a part written by this run.
    pub partitions_rewritten: Vec<String>,
    /// Date partitions removed because all their conversations moved to an earlier date.
    pub partitions_removed: Vec<String>,
    /// Date partitions left as they were (no part written or removed).
    pub partitions_kept: u64,
    /// Part files (one per date and hour) written by this run, in all dates.
    pub parts_rewritten: u64,
    /// Part files linked as they were.
    pub parts_kept: u64,
    /// Part files deleted because their conversations moved to an earlier part.
    pub parts_removed: u64,
    /// The same three counts per date, for every date that has or had parts.
    pub parts_by_date: Vec<ccc_transform::incremental::DateParts>,
    /// Messages older than the newest message published before.
    pub late: ccc_transform::incremental::LateCounts,
    /// Conversations held back until their order arrives.
    pub waiting: WaitingReport,
    /// Counts since the state was started.
    pub totals: ccc_transform::incremental::Totals,
    /// Messages in the whole published table (totals: read = in table + quarantined + waiting).
    pub messages_in_table: u64,
    /// Things a person should look at; none of them stopped the run.
    pub warnings: Vec<String>,
}

/// Conversations waiting for their order.
#[derive(Debug, Default, Serialize)]
pub struct WaitingReport {
    /// Orders whose messages are held.
    pub orders: u64,
    /// Messages held.
    pub messages: u64,
    /// The order waiting longest.
    pub oldest_order_id: Option<i64>,
    /// The run that first folded one of its messages.
    pub oldest_since_run: Option<u64>,
    /// When that run started (UTC).
    pub oldest_since: Option<String>,
    /// Runs it has waited, this one included.
    pub oldest_runs_waited: Option<u64>,
}

/// What the suites said.
#[derive(Debug, Serialize)]
pub struct ChecksReport {
    /// enforce, warn or off.
    pub mode: &'static str,
    /// The source suite's result (not run with `--checks off`).
    pub source: Option<ccc_dq::SuiteResult>,
    /// The output suite's result (not run with `--checks off`, or when the source suite stopped the run).
    pub output: Option<ccc_dq::SuiteResult>,
}

impl ChecksReport {
    /// One line for the summary table: the mode and each suite's verdict.
    pub fn summary(&self) -> String {
        let verdict = |name: &str, r: &Option<ccc_dq::SuiteResult>| match r {
            Some(r) => format!(
                "{name} {} ({}/{})",
                if r.success { "passed" } else { "FAILED" },
                r.statistics.successful_expectations,
                r.statistics.evaluated_expectations
            ),
            None => format!("{name} not run"),
        };
        match self.mode {
            "off" => "off".to_string(),
            mode => format!(
                "{mode}: {} · {}",
                verdict("source", &self.source),
                verdict("output", &self.output)
            ),
        }
    }

    /// The results that exist, source first.
    pub fn results(&self) -> Vec<&ccc_dq::SuiteResult> {
        self.source.iter().chain(self.output.iter()).collect()
    }
}

/// The whole report.
#[derive(Debug, Serialize)]
pub struct RunReport {
    /// `ccc` version.
    pub ccc_version: &'static str,
    /// Source folder.
    pub source: String,
    /// Output folder.
    pub out: String,
    /// Worker threads.
    pub threads: usize,
    /// The data-quality suites' results.
    pub checks: ChecksReport,
    /// Files read.
    pub files: Vec<FileEntry>,
    /// What went into the table and what did not: the part a run's strategy reports.
    #[serde(flatten)]
    pub table: TableReport,
    /// Stage timings.
    pub timings: Timings,
    /// Peak memory.
    pub memory: MemoryReport,
}

/// The counts of a run's table, quarantine and (for incremental runs) state.
#[derive(Debug, Serialize)]
pub struct TableReport {
    /// Messages.
    pub messages: MessageCounts,
    /// Orders.
    pub orders: OrderCounts,
    /// Rows of the output table.
    pub conversations: u64,
    /// Rows per partition.
    pub partitions: Vec<PartitionEntry>,
    /// What an incremental run did (absent for full runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incremental: Option<IncrementalReport>,
    /// messages read = aggregated + quarantined + orphaned.
    pub reconciled: bool,
}

impl RunReport {
    /// The report as a table for people.
    pub fn to_table(&self) -> Table {
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_header(vec!["run", "count"]);
        let m = &self.table.messages;
        let o = &self.table.orders;
        let rows: Vec<(String, String)> = vec![
            ("files read".into(), self.files.len().to_string()),
            ("messages read".into(), m.read.to_string()),
            ("  aggregated".into(), m.aggregated.to_string()),
            ("  quarantined (unusable)".into(), m.quarantined.to_string()),
            (
                "  orphaned (no order)".into(),
                format!("{} ({} orders)", m.orphaned, m.orphan_orders),
            ),
            (
                "  values that did not fit".into(),
                m.field_problems.to_string(),
            ),
            ("orders read".into(), o.read.to_string()),
            ("  distinct orders".into(), o.distinct.to_string()),
            ("  duplicate rows".into(), o.duplicate_rows.to_string()),
            ("  conflicting cityCode".into(), o.conflicting.to_string()),
            ("  quarantined".into(), o.quarantined.to_string()),
            (
                "conversations written".into(),
                self.table.conversations.to_string(),
            ),
            (
                "date partitions".into(),
                self.table.partitions.len().to_string(),
            ),
            (
                "reconciled".into(),
                if self.table.reconciled {
                    "yes".into()
                } else {
                    "NO".into()
                },
            ),
            ("checks".into(), self.checks.summary()),
            (
                "time".into(),
                format!(
                    "{} ms (read {} · checks {} · transform {} · publish {})",
                    self.timings.total_ms,
                    self.timings.read_ms,
                    self.timings.source_checks_ms + self.timings.output_checks_ms,
                    self.timings.transform_ms,
                    self.timings.publish_ms
                ),
            ),
        ];
        let mut rows = rows;
        if let Some(peak) = self.memory.peak_rss_bytes {
            rows.push((
                "peak memory".into(),
                format!("{:.1} MiB", peak as f64 / MIB),
            ));
        }
        if let Some(spill) = self.memory.spill.filter(|s| s.ranges > 1) {
            rows.push((
                "spilled".into(),
                format!(
                    "{:.1} MiB ({} messages, {} ranges folded in turn)",
                    spill.bytes as f64 / MIB,
                    spill.messages,
                    spill.ranges
                ),
            ));
        }
        if let Some(i) = &self.table.incremental {
            rows.splice(
                1..1,
                [
                    (
                        "  skipped (already folded in)".into(),
                        i.files_already_folded.to_string(),
                    ),
                    (
                        "state generation".into(),
                        format!(
                            "{}{}",
                            i.generation,
                            if i.reprocessed { " (rebuilt)" } else { "" }
                        ),
                    ),
                ],
            );
            let late = match i.late.worst_lateness_seconds {
                Some(worst) => format!("{} (worst {worst} s behind)", i.late.messages),
                None => i.late.messages.to_string(),
            };
            let extra: Vec<(String, String)> = vec![
                (
                    "partitions rewritten".into(),
                    format!(
                        "{} (kept {}, removed {})",
                        i.partitions_rewritten.len(),
                        i.partitions_kept,
                        i.partitions_removed.len()
                    ),
                ),
                (
                    "parts rewritten".into(),
                    format!(
                        "{} (kept {}, removed {})",
                        i.parts_rewritten, i.parts_kept, i.parts_removed
                    ),
                ),
                ("late messages".into(), late),
                (
                    "waiting for their order".into(),
                    format!(
                        "{} messages ({} orders)",
                        i.waiting.messages, i.waiting.orders
                    ),
                ),
            ];
            let at = rows.len() - 3;
            rows.splice(at..at, extra);
        }
        for (label, value) in rows {
            table.add_row(vec![
                Cell::new(label),
                Cell::new(value).set_alignment(CellAlignment::Right),
            ]);
        }
        table
    }
}
