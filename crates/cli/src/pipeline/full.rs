//! The full run: every source file read and folded into the table as it is read
//! (`ccc_transform::StreamingBuild`, spilling past `--memory-limit`), and the table
//! written whole.

use std::path::Path;

use ccc_dq::Suite;
use ccc_ingest::{Batch, FieldProblem, SourceFile, Sources, TableData};
use ccc_transform::publish::Staging;
use ccc_transform::{MemoryLimit, Quarantine, SpillSummary, StreamedOutput, StreamingBuild};

use super::checks::{OutputMetrics, Prechecked};
use super::quarantine::by_reason;
use super::reading::{read_folding, Fold};
use super::settings::Settings;
use super::stage::StagedState;
use super::strategy::{OutputCheck, Planned, Strategy};
use crate::exit::CliError;
use crate::progress::Progress;
use crate::quality::datasets::{messages_in_table, output_dataset};
use crate::report::{MessageCounts, OrderCounts, PartitionEntry, TableReport};

/// The full build's fold: messages into the ranked states of the orders read first.
struct FullFold<'a>(&'a StreamingBuild);

impl Fold for FullFold<'_> {
    fn messages(&self, batch: &Batch, problems: &[FieldProblem]) -> bool {
        self.0.fold_messages(batch, problems)
    }

    fn orders(&self, orders: &TableData) {
        self.0.orders_read(orders);
    }
}

/// A full run's work in progress.
pub struct Full<'a> {
    settings: &'a Settings,
    /// The messages folded as they were read, until the transform finishes them.
    streaming: Option<StreamingBuild>,
    built: Option<StreamedOutput>,
}

impl<'a> Full<'a> {
    /// A full run with these settings.
    pub fn new(settings: &'a Settings) -> Full<'a> {
        Full {
            settings,
            streaming: None,
            built: None,
        }
    }

    fn built(&self) -> &StreamedOutput {
        self.built.as_ref().expect("the transform stage ran")
    }
}

impl Strategy for Full<'_> {
    fn plan(&mut self, _progress: &Progress) -> Result<Planned, CliError> {
        Ok(Planned::Read(ccc_ingest::discover(&self.settings.source)?))
    }

    fn read(
        &mut self,
        files: Vec<SourceFile>,
        progress: &Progress,
    ) -> Result<(Sources, Prechecked), CliError> {
        // A staged run spills beside its stage folder, a published one beside the output.
        let beside = self.settings.stage.as_ref().unwrap_or(&self.settings.out);
        let streaming = StreamingBuild::new(Some(MemoryLimit {
            bytes: self.settings.memory_limit,
            spill_folder: ccc_transform::publish::spill_folder(beside),
        }));
        let source_suite = self.settings.suites.as_ref().map(|s| &s.source.suite);
        let read = read_folding(
            self.settings,
            source_suite,
            files,
            "reading",
            progress,
            &FullFold(&streaming),
        )?;
        self.streaming = Some(streaming);
        Ok(read)
    }

    fn source_suite(&self, suite: &Suite, _sources: &Sources) -> Suite {
        suite.clone()
    }

    fn transform(&mut self, sources: &Sources) -> Result<Option<String>, CliError> {
        let output = self
            .streaming
            .take()
            .expect("the read stage folded the messages")
            .finish(sources)
            .map_err(CliError::Build)?;
        self.built = Some(output);
        Ok(None)
    }

    fn output_check(&self) -> Result<OutputCheck, CliError> {
        let output = self.built();
        let dataset = output_dataset(&output.partitions)?;
        let c = &output.counts;
        let messages_in_table = messages_in_table(&dataset);
        Ok(OutputCheck {
            dataset,
            metrics: OutputMetrics {
                messages_read: c.messages_read,
                messages_aggregated: c.messages_aggregated,
                messages_quarantined: c.messages_quarantined,
                messages_orphaned: c.messages_orphaned,
                orders_read: c.orders_read,
                conversations: c.conversations,
            },
            messages_in_table,
        })
    }

    fn quarantine(&mut self) -> &mut Quarantine {
        &mut self
            .built
            .as_mut()
            .expect("the transform stage ran")
            .quarantine
    }

    fn write(
        &mut self,
        staging: &Staging,
        sources: &Sources,
        _state_into: Option<&Path>,
    ) -> Result<(), CliError> {
        let output = self.built();
        staging.write_table(&output.partitions, self.settings.formats)?;
        staging.write_quarantine(&output.quarantine, sources)?;
        Ok(())
    }

    fn report(&self, sources: &Sources) -> TableReport {
        let output = self.built();
        let c = &output.counts;
        TableReport {
            messages: MessageCounts {
                read: c.messages_read,
                aggregated: c.messages_aggregated,
                quarantined: c.messages_quarantined,
                orphaned: c.messages_orphaned,
                orphan_orders: c.orphan_orders,
                quarantined_by_reason: by_reason(&output.quarantine.messages),
                field_problems: sources.messages.problems.len() as u64,
            },
            orders: OrderCounts {
                read: c.orders_read,
                distinct: c.orders_distinct,
                duplicate_rows: c.orders_duplicate_rows,
                conflicting: c.orders_conflicting,
                conflicting_examples: output
                    .conflicting_order_ids
                    .iter()
                    .take(20)
                    .copied()
                    .collect(),
                quarantined: c.orders_quarantined,
                quarantined_by_reason: by_reason(&output.quarantine.orders),
                field_problems: sources.orders.problems.len() as u64,
            },
            conversations: c.conversations,
            partitions: ccc_transform::rows_by_date(&output.partitions)
                .into_iter()
                .map(|(date, rows)| PartitionEntry { date, rows })
                .collect(),
            incremental: None,
            reconciled: c.messages_read
                == c.messages_aggregated + c.messages_quarantined + c.messages_orphaned,
        }
    }

    fn staged_state(&self, _staged_into: Option<&Path>) -> Option<StagedState> {
        None
    }

    fn after_publish(&mut self) -> Result<Option<String>, CliError> {
        Ok(None)
    }

    fn spill(&self) -> Option<SpillSummary> {
        self.built.as_ref().map(|output| output.spill)
    }
}
