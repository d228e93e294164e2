//! Folding message batches as they are read into per-order states found by order id,
//! for a build whose orders are not all known up front (an incremental run: a message's
//! order may be in the stored state, in the new files, or still to come). Memory holds
//! one state per order seen, not the messages. The result is what
//! [`crate::build::aggregate_messages`] gives on the same sources.

use std::sync::Mutex;

use ccc_ingest::{Batch, FieldProblem, Sources};
use rustc_hash::FxHashMap;

use super::stages::StageCodes;
use super::{batch_indexes, Place};
use crate::build::{scatter_messages, MessageAggregate, ProblemIndex, Row, PARTITIONS};
use crate::quarantine::QuarantinedRow;
use crate::state::ConversationState;

/// The states of the messages folded so far; shared by the reading threads.
pub struct StreamingAggregate {
    stages: StageCodes,
    /// States by [`crate::build::partition_of`] their order id.
    maps: Vec<Mutex<FxHashMap<i64, ConversationState>>>,
    /// Unusable messages by the place of their batch.
    unusable: Mutex<Vec<(Place, QuarantinedRow)>>,
}

impl Default for StreamingAggregate {
    fn default() -> Self {
        Self {
            stages: StageCodes::new(),
            maps: (0..PARTITIONS).map(|_| Mutex::default()).collect(),
            unusable: Mutex::default(),
        }
    }
}

impl StreamingAggregate {
    /// Folds one message batch in, with its rows' value problems (the reader's batch
    /// hook). True when some of its rows are unusable: the quarantine then needs the
    /// batch's columns; otherwise nothing is read from the batch again.
    pub fn fold_messages(&self, batch: &Batch, problems: &[FieldProblem]) -> bool {
        let index = ProblemIndex::of(problems);
        let mut parts: Vec<Vec<Row>> = (0..PARTITIONS).map(|_| Vec::new()).collect();
        let unusable = self.stages.fold(
            batch,
            |recode| self.recode(recode),
            |codes, _generation| {
                let unusable = scatter_messages(0, batch, codes, &index, &mut parts);
                for (map, rows) in self.maps.iter().zip(&parts) {
                    if rows.is_empty() {
                        continue;
                    }
                    let mut states = map.lock().expect("no thread panics holding the lock");
                    for row in rows {
                        states
                            .entry(row.order_id)
                            .and_modify(|s| s.update(row.key))
                            .or_insert_with(|| ConversationState::new(row.key));
                    }
                }
                unusable
            },
        );
        if unusable.is_empty() {
            return false;
        }
        let place = (batch.file, batch.position);
        self.unusable
            .lock()
            .expect("no thread panics holding the lock")
            .extend(unusable.into_iter().map(|r| (place, r)));
        true
    }

    fn recode(&self, recode: &[u32]) {
        for map in &self.maps {
            let mut states = map.lock().expect("no thread panics holding the lock");
            for state in states.values_mut() {
                state.first.stage = recode[state.first.stage as usize];
                state.last.stage = recode[state.last.stage as usize];
            }
        }
    }

    /// The states and unusable rows, once every message batch of `sources` was folded in.
    pub(crate) fn finish(self, sources: &Sources) -> MessageAggregate {
        let batch_of = batch_indexes(sources);
        let mut unusable: Vec<QuarantinedRow> = self
            .unusable
            .into_inner()
            .expect("no thread panicked")
            .into_iter()
            .map(|(place, row)| QuarantinedRow {
                batch: batch_of[&place],
                ..row
            })
            .collect();
        unusable.sort_unstable_by_key(|r| (r.batch, r.row));
        MessageAggregate {
            maps: self
                .maps
                .into_iter()
                .map(|m| m.into_inner().expect("no thread panicked"))
                .collect(),
            unusable,
            stages: self
                .stages
                .into_generations()
                .pop()
                .expect("a first generation"),
        }
    }
}
