//! The full run: every source file read and folded into the table as it is read
//! (`ccc_transform::StreamingBuild`, spilling past `--memory-limit`), and the table
//! written whole.

use std::path::Path;

use ccc_dq::Suite;
use ccc_ingest::{SourceFile, Sources, Table};
use ccc_transform::publish::Staging;
use ccc_transform::{MemoryLimit, Quarantine, SpillSummary, StreamedOutput, StreamingBuild};

use super::checks::{OutputMetrics, Prechecked};
use super::quarantine::by_reason;
use super::settings::Settings;
use super::stage::StagedState;
use super::strategy::{OutputCheck, Planned, Strategy};
use crate::exit::CliError;
use crate::progress::Progress;
use crate::quality::ahead::{drop_columns, ChecksAhead};
use crate::quality::datasets::{messages_in_table, output_dataset, presence_only_columns};
use crate::report::{MessageCounts, OrderCounts, PartitionEntry, TableReport};

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
        let source_suite = self.settings.suites.as_ref().map(|s| &s.source.suite);
        progress.start_bytes("reading", files.iter().map(|f| f.size).sum());
        // Each message batch, as it is read and while it is in the cache, is checked by
        // the source suite's row checks, then folded into the per-order states; its
        // columns are then dropped, but for those later checks read, unless the
        // quarantine needs its rows. Memory holds the states, not the messages.
        let ahead = source_suite
            .map(|suite| ChecksAhead::new(suite, false))
            .transpose()?;
        // A staged run spills beside its stage folder, a published one beside the output.
        let beside = self.settings.stage.as_ref().unwrap_or(&self.settings.out);
        let streaming = StreamingBuild::new(Some(MemoryLimit {
            bytes: self.settings.memory_limit,
            spill_folder: ccc_transform::publish::spill_folder(beside),
        }));
        // Columns only the suites' presence checks and the quarantine look at are left
        // unread where the files prove them complete; the quarantine reads back what it
        // writes.
        let read = ccc_ingest::ReadOptions {
            presence_only: presence_only_columns(source_suite, &ccc_transform::COLUMNS_READ),
            text_presence_only: true,
            ..self.settings.read.clone()
        };
        let sources = ccc_ingest::read_sources_with(
            files,
            &read,
            &|file| progress.add(file.size),
            &|table, batch, problems| {
                if let Some(ahead) = &ahead {
                    ahead.on_batch(table, batch, problems);
                }
                if table == Table::ChatMessages && !streaming.fold_messages(batch, problems) {
                    // Asked per batch: once the orders are read, the look-up of each
                    // message's order runs batch by batch and needs no column later.
                    let kept_for_checks = ahead
                        .as_ref()
                        .map(|a| a.columns_needed_later(Table::ChatMessages))
                        .unwrap_or_default();
                    drop_columns(batch, &kept_for_checks);
                }
            },
            &|data, files| {
                if let Some(ahead) = &ahead {
                    ahead.on_table_read(data, files);
                }
                streaming.orders_read(data);
            },
        )?;
        self.streaming = Some(streaming);
        let prechecked = match ahead {
            Some(ahead) => ahead.into_prechecked(&sources)?,
            None => Prechecked::new(),
        };
        Ok((sources, prechecked))
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
            partitions: output
                .partitions
                .iter()
                .map(|p| PartitionEntry {
                    date: p.date.clone(),
                    rows: p.chunk.len() as u64,
                })
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
