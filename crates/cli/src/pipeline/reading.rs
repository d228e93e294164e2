//! Reading the sources the way both runs do: each message batch, as it is read and
//! while it is in the cache, is checked by the source suite's row checks and folded into
//! the run's per-order states; its columns are then dropped, but for those later checks
//! read, unless the quarantine needs its rows. Memory holds the states, not the messages.

use ccc_dq::Suite;
use ccc_ingest::{Batch, FieldProblem, SourceFile, Sources, Table, TableData};

use super::checks::Prechecked;
use super::settings::Settings;
use crate::exit::CliError;
use crate::progress::Progress;
use crate::quality::ahead::{drop_columns, ChecksAhead};
use crate::quality::datasets::presence_only_columns;

/// How a run folds what it reads.
pub trait Fold: Sync {
    /// Folds a message batch in; true when the quarantine needs the batch's rows.
    fn messages(&self, batch: &Batch, problems: &[FieldProblem]) -> bool;
    /// Takes the orders, read whole before any message.
    fn orders(&self, orders: &TableData);
}

/// Reads `files` (the progress bar says `what`), checking each batch against
/// `source_suite` and folding it into `fold` as it comes.
pub fn read_folding(
    settings: &Settings,
    source_suite: Option<&Suite>,
    files: Vec<SourceFile>,
    what: &'static str,
    progress: &Progress,
    fold: &impl Fold,
) -> Result<(Sources, Prechecked), CliError> {
    progress.start_bytes(what, files.iter().map(|f| f.size).sum());
    let ahead = source_suite
        .map(|suite| ChecksAhead::new(suite, false, &ccc_dq::Options::default()))
        .transpose()?;
    // Columns only the suites' presence checks and the quarantine look at are left
    // unread where the files prove them complete; the quarantine reads back what it
    // writes.
    let read = ccc_ingest::ReadOptions {
        presence_only: presence_only_columns(source_suite, &ccc_transform::COLUMNS_READ),
        text_presence_only: true,
        ..settings.read.clone()
    };
    let sources = ccc_ingest::read_sources_with(
        files,
        &read,
        &|file| progress.add(file.size),
        &|table, batch, problems| {
            if let Some(ahead) = &ahead {
                ahead.on_batch(table, batch, problems);
            }
            if table == Table::ChatMessages && !fold.messages(batch, problems) {
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
            fold.orders(data);
        },
    )?;
    let prechecked = match ahead {
        Some(ahead) => ahead.into_prechecked(&sources)?,
        None => Prechecked::new(),
    };
    Ok((sources, prechecked))
}
