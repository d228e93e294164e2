//! What a full and an incremental run do differently. The driver ([`super::run`]) owns
//! the order of the stages, the checks, the timings, the run report and the swap; a
//! strategy answers for each stage what its kind of run reads, builds and writes.

use std::path::Path;

use ccc_dq::{Dataset, Suite};
use ccc_ingest::{SourceFile, Sources};
use ccc_transform::publish::Staging;
use ccc_transform::{Quarantine, SpillSummary};

use super::checks::{OutputMetrics, Prechecked};
use super::stage::StagedState;
use crate::exit::CliError;
use crate::progress::Progress;
use crate::report::TableReport;

/// What the planning stage found.
pub enum Planned {
    /// These files are read and built.
    Read(Vec<SourceFile>),
    /// Nothing new to build: the published output is current.
    NothingNew(NothingNew),
}

/// An incremental run that found every source file folded in already.
#[derive(Debug, Clone)]
pub struct NothingNew {
    /// The sentence to show.
    pub message: String,
    /// Warnings to show (files gone from the source folder).
    pub warnings: Vec<String>,
}

/// What the output suite checks: the rows the run built, and the run counts it
/// reconciles, with `messages_in_table` counted from the whole table.
pub struct OutputCheck {
    /// The rows to check.
    pub dataset: Dataset,
    /// The run's counts.
    pub metrics: OutputMetrics,
    /// Messages in the whole table (the checked rows and any kept as they were).
    pub messages_in_table: i64,
}

/// A kind of run: full (everything from scratch) or incremental (new files folded into
/// a stored state).
pub trait Strategy {
    /// Which files to read, or that there is nothing new.
    fn plan(&mut self, progress: &Progress) -> Result<Planned, CliError>;

    /// Reads them; row checks of the source suite that run as batches are read come back
    /// as tallies.
    fn read(
        &mut self,
        files: Vec<SourceFile>,
        progress: &Progress,
    ) -> Result<(Sources, Prechecked), CliError>;

    /// The source suite as it applies to what this run read.
    fn source_suite(&self, suite: &Suite, sources: &Sources) -> Suite;

    /// Builds the new table. `Ok(Some(message))` stops the run with failed checks (exit 1)
    /// for a reason no suite sees (an incremental run's cross-run conflicts).
    fn transform(&mut self, sources: &Sources) -> Result<Option<String>, CliError>;

    /// What the output suite checks.
    fn output_check(&self) -> Result<OutputCheck, CliError>;

    /// The rows kept out of the table, to link to the source suite's failures.
    fn quarantine(&mut self) -> &mut Quarantine;

    /// Writes the table, the quarantine and any state into `staging`; a staged run's
    /// state generation goes into `state_into` (the stage's `_state/`).
    fn write(
        &mut self,
        staging: &Staging,
        sources: &Sources,
        state_into: Option<&Path>,
    ) -> Result<(), CliError>;

    /// This run's part of the run report.
    fn report(&self, sources: &Sources) -> TableReport;

    /// What a staged run's record says about the state (incremental runs only).
    fn staged_state(&self, staged_into: Option<&Path>) -> Option<StagedState>;

    /// After the output is swapped in: commits the state the output names. Returns the
    /// sentence to add to "published OUT".
    fn after_publish(&mut self) -> Result<Option<String>, CliError>;

    /// What the transform spilled past the memory limit; `None` for runs that never
    /// spill (incremental runs fold only their new files).
    fn spill(&self) -> Option<SpillSummary> {
        None
    }
}
