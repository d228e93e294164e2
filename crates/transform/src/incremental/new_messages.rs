//! An incremental run's new messages, folded batch by batch as the new files are read
//! (the reader's batch hook), so that memory holds a state per order and not the
//! messages: their per-order states and the late ones, which [`super::fold`] merges into
//! the stored state.

use ccc_ingest::{Batch, FieldProblem};

use super::late::LateTally;
use super::store::Generation;
use crate::streaming::StreamingAggregate;

/// The new messages read so far; shared by the reading threads.
pub struct NewMessages {
    pub(super) aggregate: StreamingAggregate,
    pub(super) late: LateTally,
}

impl NewMessages {
    /// For new files folded into `previous` (none: a first run or `--reprocess`), counting
    /// as late beyond `max_lateness_micros` those that far behind its watermark.
    pub fn new(previous: Option<&Generation>, max_lateness_micros: Option<i64>) -> Self {
        Self {
            aggregate: StreamingAggregate::default(),
            late: LateTally::new(
                previous.and_then(|g| g.manifest.watermark_micros),
                max_lateness_micros,
            ),
        }
    }

    /// Folds one message batch in. True when some of its rows go to the quarantine,
    /// which then needs the batch's columns; otherwise nothing is read from it again.
    pub fn on_batch(&self, batch: &Batch, problems: &[FieldProblem]) -> bool {
        self.late.on_batch(batch);
        self.aggregate.fold_messages(batch, problems)
    }
}
