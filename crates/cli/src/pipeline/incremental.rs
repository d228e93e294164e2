//! The incremental run (`--incremental --state DIR`): only the source files not folded
//! in before are read; they are folded into the stored state, and only the part files
//! (a date and an hour) whose conversations changed are rewritten. The new state generation is
//! written complete before the output that names it is swapped in, so a kill at any
//! point leaves an output and a generation that belong together. See
//! `ccc_transform::incremental` and docs/late-events.md.

use std::collections::BTreeSet;
use std::path::Path;

use ccc_dq::Suite;
use ccc_ingest::{Batch, FieldProblem, SourceFile, Sources, TableData};
use ccc_transform::incremental::{
    self, Folded, Generation, Manifest, NewMessages, Plan, StateDir, StateLock,
};
use ccc_transform::publish::Staging;
use ccc_transform::{to_partitions, Part, Partition, Quarantine};

use super::checks::{OutputMetrics, Prechecked};
use super::quarantine::by_reason;
use super::reading::{read_folding, Fold};
use super::settings::{ChecksMode, IncrementalSettings, Settings};
use super::stage::StagedState;
use super::strategy::{NothingNew, OutputCheck, Planned, Strategy};
use crate::exit::CliError;
use crate::progress::Progress;
use crate::quality::datasets::{messages_in_partitions, output_dataset};
use crate::report::{
    IncrementalReport, MessageCounts, OrderCounts, PartitionEntry, TableReport, WaitingReport,
};

/// The expectation that compares messages with the orders table: in an incremental run
/// the orders of earlier runs are in the state, so waiting conversations replace it.
const OTHER_TABLE: &str = "expect_column_values_to_be_in_other_table";

/// What the fold built.
struct Built {
    folded: Folded,
    manifest: Manifest,
    partitions: Vec<Partition>,
    kept: Vec<Part>,
}

/// An incremental run's work in progress. It holds the state folder's lock from the
/// start (before the output's staging, so a second run on a busy state is refused
/// first) to the end.
pub struct Incremental<'a> {
    settings: &'a Settings,
    incremental: &'a IncrementalSettings,
    state: StateDir,
    _lock: StateLock,
    started_at: String,
    plan: Option<Plan>,
    /// The state token the output named when planned: a staged run builds on it.
    base_token: Option<String>,
    /// The new messages folded as they were read, until the transform merges them in.
    new_messages: Option<NewMessages>,
    built: Option<Built>,
    written: Option<Generation>,
}

/// An incremental run's fold: new messages into states found by order id (their orders
/// may be in the stored state, in the new files, or still to come).
struct IncrementalFold<'a>(&'a NewMessages);

impl Fold for IncrementalFold<'_> {
    fn messages(&self, batch: &Batch, problems: &[FieldProblem]) -> bool {
        self.0.on_batch(batch, problems)
    }

    fn orders(&self, _orders: &TableData) {}
}

impl<'a> Incremental<'a> {
    /// Opens and takes the state folder.
    pub fn open(
        settings: &'a Settings,
        incremental: &'a IncrementalSettings,
    ) -> Result<Incremental<'a>, CliError> {
        let state = StateDir::open(&incremental.state)?;
        let lock = state.lock()?;
        Ok(Incremental {
            settings,
            incremental,
            state,
            _lock: lock,
            started_at: now_rfc3339(),
            plan: None,
            base_token: None,
            new_messages: None,
            built: None,
            written: None,
        })
    }

    fn plan_ref(&self) -> &Plan {
        self.plan.as_ref().expect("the plan stage ran")
    }

    fn built(&self) -> &Built {
        self.built.as_ref().expect("the transform stage ran")
    }
}

impl Strategy for Incremental<'_> {
    fn plan(&mut self, progress: &Progress) -> Result<Planned, CliError> {
        let files = ccc_ingest::discover_any(&self.settings.source)?;
        progress.stage("hashing source files");
        self.base_token = incremental::published_token(&self.settings.out);
        let plan = incremental::plan(
            &self.state,
            &self.settings.out,
            files,
            &self.settings.format_names(),
            self.incremental.reprocess,
            self.incremental.rehash,
        )?;
        let planned = match (
            &plan.current,
            plan.new_files.is_empty() && plan.previous().is_some(),
        ) {
            (Some(current), true) => {
                // Leftovers of a killed run can go: the output names `current`. A staged
                // run leaves the state as it is.
                if self.settings.stage.is_none() {
                    self.state
                        .remove_others(Some(current.manifest.generation))?;
                }
                Planned::NothingNew(NothingNew {
                    message: format!(
                        "nothing new: all {} source files are folded in already (state generation {}); {} is unchanged",
                        plan.already_folded.len(),
                        current.manifest.generation,
                        self.settings.out.display()
                    ),
                    warnings: missing_files_warning(&plan).into_iter().collect(),
                })
            }
            _ => Planned::Read(plan.new_files.iter().map(|n| n.file.clone()).collect()),
        };
        self.plan = Some(plan);
        Ok(planned)
    }

    fn read(
        &mut self,
        files: Vec<SourceFile>,
        progress: &Progress,
    ) -> Result<(Sources, Prechecked), CliError> {
        let plan = self.plan_ref();
        let max_lateness = self
            .incremental
            .max_lateness
            .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
        let new_messages = NewMessages::new(plan.previous(), max_lateness);
        let source_suite = self
            .settings
            .suites
            .as_ref()
            .map(|s| suite_for_new_files(&s.source.suite, &files));
        let read = read_folding(
            self.settings,
            source_suite.as_ref(),
            files,
            "reading new files",
            progress,
            &IncrementalFold(&new_messages),
        )?;
        self.new_messages = Some(new_messages);
        Ok(read)
    }

    fn source_suite(&self, suite: &Suite, sources: &Sources) -> Suite {
        suite_for_new_files(suite, &sources.files)
    }

    fn transform(&mut self, sources: &Sources) -> Result<Option<String>, CliError> {
        let new_messages = self
            .new_messages
            .take()
            .expect("the read stage folded the messages");
        let plan = self.plan_ref();
        let mut folded =
            incremental::fold(plan.previous(), sources, new_messages, plan.generation)?;
        if !folded.cross_run_conflicts.is_empty() && self.settings.checks == ChecksMode::Enforce {
            return Ok(Some(format!(
                "{} orders got a cityCode in the new files that differs from the one folded in \
                 before (orderId must map to one cityCode; e.g. orderId {}): nothing was published, \
                 {} and {} are unchanged",
                folded.cross_run_conflicts.len(),
                folded.cross_run_conflicts[0],
                self.settings.out.display(),
                self.incremental.state.display()
            )));
        }
        let manifest = incremental::next_manifest(
            plan,
            &folded,
            &self.settings.format_names(),
            &self.started_at,
        );
        let partitions = std::mem::take(&mut folded.partitions);
        let kept = incremental::kept_parts(&manifest, &folded);
        self.built = Some(Built {
            folded,
            manifest,
            partitions,
            kept,
        });
        Ok(None)
    }

    fn output_check(&self) -> Result<OutputCheck, CliError> {
        let Built {
            folded,
            manifest,
            partitions,
            kept,
        } = self.built();
        // New and changed rows only: the rest of a rewritten part is carried over as
        // published (and checked) before. The table's counts come from the state: the
        // kept parts are not read.
        let dataset = output_dataset(&to_partitions(&folded.changed))?;
        let kept_messages: u64 = kept.iter().map(|p| manifest.parts[p].messages).sum();
        let t = &manifest.totals;
        // Totals since the state was started: they reconcile across runs.
        Ok(OutputCheck {
            dataset,
            metrics: OutputMetrics {
                messages_read: t.messages_read,
                messages_aggregated: manifest.messages_published(),
                messages_quarantined: t.messages_quarantined,
                messages_orphaned: t.messages_waiting,
                orders_read: t.orders_read,
                conversations: manifest.conversations(),
            },
            messages_in_table: messages_in_partitions(partitions) + kept_messages as i64,
        })
    }

    fn quarantine(&mut self) -> &mut Quarantine {
        &mut self
            .built
            .as_mut()
            .expect("the transform stage ran")
            .folded
            .quarantine
    }

    fn write(
        &mut self,
        staging: &Staging,
        sources: &Sources,
        state_into: Option<&Path>,
    ) -> Result<(), CliError> {
        let plan = self.plan.as_ref().expect("the plan stage ran");
        let built = self.built.as_ref().expect("the transform stage ran");
        let formats = self.settings.formats;
        let out = &self.settings.out;
        let into = state_into.unwrap_or(self.state.path());
        // The new generation and the output are independent until the swap: write them
        // side by side.
        let (generation, staged) = rayon::join(
            || incremental::write_state(into, plan, &built.folded, &built.manifest),
            || -> Result<(), ccc_transform::PublishError> {
                staging.write_table(&built.partitions, formats)?;
                if plan.previous().is_some() {
                    staging.keep_parts(out, &built.kept, formats)?;
                }
                staging.write_quarantine(&built.folded.quarantine, sources)?;
                if plan.previous().is_some() {
                    staging.carry_quarantine(out)?;
                }
                Ok(())
            },
        );
        self.written = Some(generation?);
        staged?;
        Ok(())
    }

    fn report(&self, sources: &Sources) -> TableReport {
        let built = self.built();
        table_report(
            self.incremental,
            self.plan_ref(),
            &built.folded,
            &built.manifest,
            sources,
        )
    }

    fn staged_state(&self, staged_into: Option<&Path>) -> Option<StagedState> {
        let generation = match (&self.written, staged_into) {
            (Some(g), Some(into)) => g
                .dir
                .strip_prefix(into)
                .ok()
                .map(|p| p.display().to_string()),
            _ => None,
        };
        Some(StagedState {
            state: absolute(&self.incremental.state),
            base_token: self.base_token.clone(),
            generation,
        })
    }

    fn after_publish(&mut self) -> Result<Option<String>, CliError> {
        let generation = self.written.as_ref().expect("the write stage ran");
        self.state.record_committed(generation)?;
        ccc_transform::fault::point("state-before-cleanup");
        self.state
            .remove_others(Some(generation.manifest.generation))?;
        Ok(Some(format!(
            "state generation {} in {}",
            generation.manifest.generation,
            self.incremental.state.display()
        )))
    }
}

/// `path` made absolute against the current folder (for records read from elsewhere).
pub(crate) fn absolute(path: &Path) -> std::path::PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn now_rfc3339() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    ccc_ingest::timestamp::format_rfc3339_micros(micros)
}

/// The source suite as it applies to this run's new files: sections of tables with no
/// new file are left out (their data was checked when it came), and so is the check
/// against the other table (orders of earlier runs are in the state; messages of orders
/// not known yet wait there and are reported as waiting).
fn suite_for_new_files(suite: &Suite, files: &[SourceFile]) -> Suite {
    let present: BTreeSet<&str> = files.iter().map(|f| f.table.name()).collect();
    let mut suite = suite.clone();
    suite.tables.retain(|t| present.contains(t.table.as_str()));
    for table in &mut suite.tables {
        table.expectations.retain(|e| e.name() != OTHER_TABLE);
    }
    suite
}

fn missing_files_warning(plan: &Plan) -> Option<String> {
    const NAMED: usize = 5;
    if plan.missing.is_empty() {
        return None;
    }
    let mut names = plan.missing[..plan.missing.len().min(NAMED)].join(", ");
    if plan.missing.len() > NAMED {
        names += &format!(" and {} more", plan.missing.len() - NAMED);
    }
    Some(format!(
        "{} source files folded in earlier are no longer in the source folder ({names}); \
         their records stay folded in — rebuild with --reprocess to drop them",
        plan.missing.len(),
    ))
}

fn waiting_report(folded: &Folded, manifest: &Manifest) -> WaitingReport {
    let oldest = folded
        .waiting
        .iter()
        .min_by_key(|r| (r.first_seen_run, r.order_id));
    WaitingReport {
        orders: folded.waiting.len() as u64,
        messages: manifest.totals.messages_waiting,
        oldest_order_id: oldest.map(|r| r.order_id),
        oldest_since_run: oldest.map(|r| r.first_seen_run),
        oldest_since: oldest
            .and_then(|r| manifest.run_started_at(r.first_seen_run))
            .map(str::to_string),
        oldest_runs_waited: oldest.map(|r| manifest.generation - r.first_seen_run + 1),
    }
}

fn table_report(
    settings: &IncrementalSettings,
    plan: &Plan,
    folded: &Folded,
    manifest: &Manifest,
    sources: &Sources,
) -> TableReport {
    let c = &folded.counts;
    let parts = incremental::parts_by_date(plan.previous().map(|g| &g.manifest), manifest, folded);
    let dates = |f: fn(&incremental::DateParts) -> bool| -> Vec<String> {
        parts
            .iter()
            .filter(|d| f(d))
            .map(|d| d.date.clone())
            .collect()
    };
    let (written, removed) = (dates(|d| d.rewritten_date()), dates(|d| d.removed_date()));
    let dates_kept = parts.iter().filter(|d| d.kept_date()).count() as u64;
    let mut warnings: Vec<String> = missing_files_warning(plan).into_iter().collect();
    if let Some(example) = folded.cross_run_conflicts.first() {
        warnings.push(format!(
            "{} orders got a cityCode that differs from the one folded in before (e.g. orderId \
             {example}); the smallest is used, as in a full run",
            folded.cross_run_conflicts.len()
        ));
    }
    let late = &folded.late;
    if late.beyond_max_lateness > 0 {
        warnings.push(format!(
            "{} messages arrived more than {} s behind the watermark {} (worst: {} s); they are folded in",
            late.beyond_max_lateness,
            late.max_lateness_seconds.unwrap_or(0),
            late.watermark.as_deref().unwrap_or("-"),
            late.worst_lateness_seconds.unwrap_or(0),
        ));
    }
    let waiting = waiting_report(folded, manifest);
    TableReport {
        messages: MessageCounts {
            read: c.messages_read,
            aggregated: c.messages_published,
            quarantined: c.messages_quarantined,
            orphaned: c.messages_waiting,
            orphan_orders: waiting.orders,
            quarantined_by_reason: by_reason(&folded.quarantine.messages),
            field_problems: sources.messages.problems.len() as u64,
        },
        orders: OrderCounts {
            read: c.orders_read,
            distinct: c.orders_new,
            duplicate_rows: c.orders_duplicate_rows,
            conflicting: c.orders_conflicting,
            conflicting_examples: Vec::new(),
            quarantined: c.orders_quarantined,
            quarantined_by_reason: by_reason(&folded.quarantine.orders),
            field_problems: sources.orders.problems.len() as u64,
        },
        conversations: manifest.conversations(),
        partitions: manifest
            .rows_by_date()
            .into_iter()
            .map(|(date, rows)| PartitionEntry { date, rows })
            .collect(),
        incremental: Some(IncrementalReport {
            state: settings.state.display().to_string(),
            generation: manifest.generation,
            state_token: manifest.token.clone(),
            reprocessed: plan.reprocess,
            files_new: plan.new_files.iter().map(|n| n.file.name.clone()).collect(),
            files_already_folded: plan.already_folded.len() as u64,
            files_missing: plan.missing.clone(),
            changes: c.clone(),
            partitions_kept: dates_kept,
            partitions_rewritten: written,
            partitions_removed: removed,
            parts_rewritten: parts.iter().map(|d| d.rewritten).sum(),
            parts_kept: parts.iter().map(|d| d.kept).sum(),
            parts_removed: parts.iter().map(|d| d.removed).sum(),
            parts_by_date: parts,
            late: late.clone(),
            waiting,
            totals: manifest.totals,
            messages_in_table: manifest.messages_published(),
            warnings,
        }),
        reconciled: c.messages_read
            == c.messages_published + c.messages_quarantined + c.messages_waiting,
    }
}
