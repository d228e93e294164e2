//! A part's conversation state on disk: a base file and, beside it, a delta holding only
//! the rows changed since the base was written. A run that touches a part writes the
//! part's new delta and links its base, so a change spread thinly over many parts (late
//! messages of every hour) costs the changed rows, not every part's rows; when the delta
//! grows past a share of the base, the part is written whole again as a new base.
//!
//! A delta row replaces the base row of its order, or adds an order the base lacks; a
//! row without messages (a tombstone, [`StateRow::tombstone`]) removes the order from the
//! part, as when its conversation moved to an earlier hour. Both files are sorted by
//! order id. The state, unlike the output, need not be the same bytes whatever the run
//! history: only the rows it reads back must be.

use super::rows::StateRow;
use super::state_columns::CheckedBatch;
use crate::state::ConversationState;

/// A delta may hold at most one row per this many rows of its base; past that, the part is
/// written whole (each read of the part merges the delta, so it is kept small).
pub const BASE_ROWS_PER_DELTA_ROW: usize = 4;

impl StateRow {
    /// The delta row that removes `order_id` from a part: a state with no messages, which
    /// no published conversation has.
    pub fn tombstone(order_id: i64) -> StateRow {
        StateRow {
            order_id,
            state: ConversationState::EMPTY,
            first_seen_run: 0,
            city: 0,
        }
    }

    /// True for a [`StateRow::tombstone`].
    pub fn is_tombstone(&self) -> bool {
        self.state.is_empty()
    }
}

/// One part's state as read: its base file's rows as checked columns, decoded as they are
/// walked, and its delta's rows.
#[derive(Debug, Clone, Default)]
pub struct StoredPart {
    /// The base file's batches.
    base: Vec<CheckedBatch>,
    /// Where each base batch starts among the base's rows.
    starts: Vec<usize>,
    /// Order ids of the base file, ascending.
    pub base_ids: Vec<i64>,
    /// The delta file's rows (tombstones included), sorted by order id.
    pub delta: Vec<StateRow>,
}

impl StoredPart {
    /// The part stored as base rows (sorted by order id) and delta rows (sorted, at most one
    /// per order). `Err` names what is wrong.
    pub(crate) fn new(base: Vec<CheckedBatch>, delta: Vec<StateRow>) -> Result<StoredPart, String> {
        let rows = base.iter().map(CheckedBatch::len).sum();
        let mut base_ids = Vec::with_capacity(rows);
        let mut starts = Vec::with_capacity(base.len());
        for batch in &base {
            starts.push(base_ids.len());
            base_ids.extend_from_slice(batch.ids());
        }
        if let Some(w) = base_ids.windows(2).find(|w| w[0] >= w[1]) {
            return Err(format!("base rows not in ascending order_id at {}", w[1]));
        }
        if let Some(id) = base.iter().find_map(CheckedBatch::first_without_messages) {
            return Err(format!("order {id} has no messages"));
        }
        if let Some(w) = delta.windows(2).find(|w| w[0].order_id >= w[1].order_id) {
            return Err(format!(
                "delta rows not in ascending order_id at {}",
                w[1].order_id
            ));
        }
        if let Some(removed) = delta
            .iter()
            .find(|r| r.is_tombstone() && base_ids.binary_search(&r.order_id).is_err())
        {
            return Err(format!(
                "the delta removes order {}, which the base does not hold",
                removed.order_id
            ));
        }
        Ok(StoredPart {
            base,
            starts,
            base_ids,
            delta,
        })
    }

    /// The part's rows, the delta applied to the base, in order-id order: every run of
    /// the walk decoded.
    #[cfg(test)]
    pub fn rows(&self) -> impl Iterator<Item = StateRow> + '_ {
        self.walk(&[]).flat_map(|stored| match stored {
            Stored::Row(row) => vec![row],
            Stored::Run(batch, range) => range.map(|i| batch.row(i)).collect(),
        })
    }

    /// At least as many as the part's rows.
    pub fn most_rows(&self) -> usize {
        self.base_ids.len() + self.delta.len()
    }

    /// The part's row of `order_id`, if it holds one.
    pub fn get(&self, order_id: i64) -> Option<StateRow> {
        if let Ok(i) = self.delta.binary_search_by_key(&order_id, |r| r.order_id) {
            return (!self.delta[i].is_tombstone()).then_some(self.delta[i]);
        }
        let at = self.base_ids.binary_search(&order_id).ok()?;
        let batch = self.starts.partition_point(|&start| start <= at) - 1;
        Some(self.base[batch].row(at - self.starts[batch]))
    }
}

/// What a walk over a [`StoredPart`] yields, in order-id order.
pub(crate) enum Stored<'a> {
    /// Base rows `range` of a batch, unchanged by the delta, none of them a break.
    Run(&'a CheckedBatch, std::ops::Range<usize>),
    /// One row: from the delta, or a base row whose order is a break.
    Row(StateRow),
}

impl Stored<'_> {
    /// The order id of its first row.
    pub fn first_id(&self) -> i64 {
        match self {
            Stored::Run(batch, range) => batch.ids()[range.start],
            Stored::Row(row) => row.order_id,
        }
    }
}

/// A walk over a part's rows, the delta applied to the base: runs of base rows between
/// the orders named as breaks (and the delta's), each of those a row of its own.
pub(crate) struct PartWalk<'a> {
    part: &'a StoredPart,
    breaks: &'a [i64],
    batch: usize,
    index: usize,
    delta: usize,
}

impl StoredPart {
    /// Walks the part's rows; `breaks` (ascending) are the orders that must come as rows of
    /// their own, everything else may come in runs.
    pub(crate) fn walk<'a>(&'a self, breaks: &'a [i64]) -> PartWalk<'a> {
        PartWalk {
            part: self,
            breaks,
            batch: 0,
            index: 0,
            delta: 0,
        }
    }
}

impl<'a> PartWalk<'a> {
    /// The next base row's order id, moving past finished batches.
    fn next_base_id(&mut self) -> Option<i64> {
        loop {
            let batch = self.part.base.get(self.batch)?;
            if let Some(&id) = batch.ids().get(self.index) {
                return Some(id);
            }
            self.batch += 1;
            self.index = 0;
        }
    }
}

impl<'a> Iterator for PartWalk<'a> {
    type Item = Stored<'a>;

    fn next(&mut self) -> Option<Stored<'a>> {
        loop {
            let base_id = self.next_base_id();
            let change = self.part.delta.get(self.delta).copied();
            match (base_id, change) {
                (None, None) => return None,
                (Some(id), Some(change)) if change.order_id == id => {
                    self.index += 1;
                    self.delta += 1;
                    if !change.is_tombstone() {
                        return Some(Stored::Row(change));
                    }
                }
                (None, Some(change)) => {
                    self.delta += 1;
                    return Some(Stored::Row(change));
                }
                (Some(id), Some(change)) if change.order_id < id => {
                    self.delta += 1;
                    return Some(Stored::Row(change));
                }
                (Some(id), change) => {
                    let batch: &'a CheckedBatch = &self.part.base[self.batch];
                    let skipped = self.breaks.partition_point(|&b| b < id);
                    self.breaks = &self.breaks[skipped..];
                    if self.breaks.first() == Some(&id) {
                        let row = batch.row(self.index);
                        self.index += 1;
                        return Some(Stored::Row(row));
                    }
                    let limit = [self.breaks.first(), change.as_ref().map(|c| &c.order_id)]
                        .into_iter()
                        .flatten()
                        .min()
                        .copied()
                        .unwrap_or(i64::MAX);
                    let start = self.index;
                    let ids = &batch.ids()[start..];
                    let end = start + ids.partition_point(|&i| i < limit).max(1);
                    self.index = end;
                    return Some(Stored::Run(batch, start..end));
                }
            }
        }
    }
}

/// A rewritten part's state after a run: how it is written, and its totals for the
/// manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartState {
    /// Whole, or as a delta beside the previous base.
    pub write: PartWrite,
    /// Its conversations.
    pub rows: u64,
    /// Their messages.
    pub messages: u64,
    /// The latest last message time among them.
    pub newest: Option<i64>,
}

impl PartState {
    /// Rows of the delta file written for it (0 when none is).
    pub fn delta_rows(&self) -> u64 {
        match &self.write {
            PartWrite::Base(_) => 0,
            PartWrite::Delta(delta) => delta.len() as u64,
        }
    }
}

/// How a rewritten part's state is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartWrite {
    /// These rows (every row of the part, sorted by order id) as a new base, with no delta.
    Base(Vec<StateRow>),
    /// The previous base kept (linked), with this delta beside it (none when empty).
    Delta(Vec<StateRow>),
}

/// Which of a rewritten part's rows its write holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WritePlan {
    /// Every row, as a new base.
    Base,
    /// The rows of these orders (ascending), as a delta: a removed one as a tombstone.
    Delta(Vec<i64>),
}

/// How to write a part stored as `before` when only the orders in `touched` (sorted,
/// distinct) may differ from its stored rows.
pub fn plan_write(before: &StoredPart, touched: &[i64]) -> WritePlan {
    if before.base_ids.is_empty() {
        return WritePlan::Base;
    }
    // An order differs from the base if the old delta or this run changed it.
    let mut ids: Vec<i64> = before.delta.iter().map(|r| r.order_id).collect();
    ids.extend_from_slice(touched);
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > before.base_ids.len() / BASE_ROWS_PER_DELTA_ROW {
        return WritePlan::Base;
    }
    WritePlan::Delta(ids)
}

/// Collects what a part's write needs as its new rows go by in order-id order.
pub struct WriteCollector<'a> {
    plan: WritePlan,
    base_ids: &'a [i64],
    next: usize,
    rows: Vec<StateRow>,
}

impl<'a> WriteCollector<'a> {
    /// For a part stored as `before`, written as `plan` says.
    pub fn new(before: &'a StoredPart, plan: WritePlan) -> Self {
        let capacity = match &plan {
            WritePlan::Base => before.most_rows(),
            WritePlan::Delta(ids) => ids.len(),
        };
        WriteCollector {
            plan,
            base_ids: &before.base_ids,
            next: 0,
            rows: Vec::with_capacity(capacity),
        }
    }

    /// True when every row is written (a new base); else rows that are neither in the plan
    /// nor next to one may be skipped.
    pub fn needs_every_row(&self) -> bool {
        self.plan == WritePlan::Base
    }

    /// The next row of the part.
    #[inline]
    pub fn push(&mut self, row: &StateRow) {
        let WritePlan::Delta(ids) = &self.plan else {
            self.rows.push(*row);
            return;
        };
        while let Some(&id) = ids.get(self.next) {
            if id > row.order_id {
                return;
            }
            self.next += 1;
            if id == row.order_id {
                self.rows.push(*row);
                return;
            }
            removed(self.base_ids, &mut self.rows, id);
        }
    }

    /// The write, once every row went by.
    pub fn finish(mut self) -> PartWrite {
        let WritePlan::Delta(ids) = std::mem::replace(&mut self.plan, WritePlan::Base) else {
            return PartWrite::Base(self.rows);
        };
        for &id in &ids[self.next..] {
            removed(self.base_ids, &mut self.rows, id);
        }
        PartWrite::Delta(self.rows)
    }
}

/// An order of a delta plan that is not among the part's rows any more: a tombstone,
/// unless the base never held it (added after the base and gone again).
fn removed(base_ids: &[i64], delta: &mut Vec<StateRow>, id: i64) {
    if base_ids.binary_search(&id).is_ok() {
        delta.push(StateRow::tombstone(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incremental::rows::{state_chunk, ListCodes};
    use crate::incremental::state_columns::check_batches;
    use crate::key::{MessageKey, Role};
    use proptest::prelude::*;

    fn row(order_id: i64, messages: i64) -> StateRow {
        let key = MessageKey::new(order_id * 10, false, Role::Courier, Some(1), 0);
        let mut state = ConversationState::new(key);
        for _ in 1..messages {
            state.update(key);
        }
        StateRow {
            order_id,
            state,
            first_seen_run: 1,
            city: 1,
        }
    }

    /// A part stored as these base and delta rows (the base through its Arrow columns, as
    /// a state file is read).
    fn stored(base: &[StateRow], delta: Vec<StateRow>) -> Result<StoredPart, String> {
        let codes = ListCodes {
            to_run: vec![0, 1],
            to_manifest: vec![0, 1],
        };
        // Batches of three rows, so walks cross batch boundaries.
        let batches: Vec<ccc_ingest::Batch> = base
            .chunks(3)
            .map(|rows| ccc_ingest::Batch {
                file: 0,
                first_record: 1,
                lines: None,
                unread: Vec::new(),
                position: 1,
                chunk: state_chunk(rows, &codes, &codes),
            })
            .collect();
        StoredPart::new(check_batches(&batches, &codes, &codes)?, delta)
    }

    /// The write of a part whose rows are now `rows`, where only `touched` changed.
    fn write(before: &StoredPart, rows: &[StateRow], touched: &[i64]) -> PartWrite {
        let mut collector = WriteCollector::new(before, plan_write(before, touched));
        for r in rows {
            collector.push(r);
        }
        collector.finish()
    }

    #[test]
    fn a_delta_replaces_adds_and_removes_rows() {
        let base = vec![row(1, 1), row(3, 1), row(5, 1), row(7, 2)];
        let delta = vec![row(2, 1), row(3, 4), StateRow::tombstone(5), row(9, 1)];
        let part = stored(&base, delta).unwrap();
        let expected = vec![row(1, 1), row(2, 1), row(3, 4), row(7, 2), row(9, 1)];
        assert_eq!(part.rows().collect::<Vec<_>>(), expected);
        assert_eq!(part.base_ids, vec![1, 3, 5, 7]);
        assert_eq!(part.get(3), Some(row(3, 4)));
        assert_eq!(part.get(5), None, "removed by the delta");
        assert_eq!(part.get(7), Some(row(7, 2)), "in the second batch");
        assert_eq!(part.get(4), None);
    }

    #[test]
    fn a_tombstone_for_an_order_the_base_lacks_is_damage() {
        let err = stored(&[row(1, 1)], vec![StateRow::tombstone(2)]).unwrap_err();
        assert_eq!(
            err,
            "the delta removes order 2, which the base does not hold"
        );
        let err = stored(&[row(3, 1)], vec![StateRow::tombstone(2)]).unwrap_err();
        assert!(err.contains("order 2"), "{err}");
        let err = stored(&[row(3, 1), row(2, 1)], vec![]).unwrap_err();
        assert_eq!(err, "base rows not in ascending order_id at 2");
    }

    #[test]
    fn a_part_without_a_base_or_with_a_large_change_is_written_whole() {
        let none = StoredPart::default();
        assert_eq!(
            write(&none, &[row(1, 1)], &[1]),
            PartWrite::Base(vec![row(1, 1)])
        );
        let base: Vec<StateRow> = (0..8).map(|i| row(i, 1)).collect();
        let part = stored(&base, vec![]).unwrap();
        let mut rows = base.clone();
        rows[0] = row(0, 2);
        rows[1] = row(1, 2);
        assert_eq!(
            write(&part, &rows, &[0, 1]),
            PartWrite::Delta(vec![row(0, 2), row(1, 2)])
        );
        rows[2] = row(2, 2);
        assert_eq!(
            write(&part, &rows, &[0, 1, 2]),
            PartWrite::Base(rows.clone())
        );
    }

    /// A change applied by writing a delta reads back as the rows the run computed,
    /// whatever the earlier deltas, moves and re-additions.
    fn check_runs(base: Vec<i64>, runs: Vec<Vec<(i64, Option<i64>)>>) {
        let rows: Vec<StateRow> = base.iter().map(|&id| row(id, 1)).collect();
        let mut part = stored(&rows, vec![]).unwrap();
        let mut base_rows = rows;
        for changes in runs {
            let mut now: std::collections::BTreeMap<i64, StateRow> =
                part.rows().map(|r| (r.order_id, r)).collect();
            let mut touched: Vec<i64> = Vec::new();
            for (id, messages) in changes {
                match messages {
                    Some(m) => now.insert(id, row(id, m)),
                    None => now.remove(&id),
                };
                touched.push(id);
            }
            touched.sort_unstable();
            touched.dedup();
            let rows: Vec<StateRow> = now.into_values().collect();
            part = match write(&part, &rows, &touched) {
                PartWrite::Base(written) => {
                    assert_eq!(written, rows);
                    base_rows = rows.clone();
                    stored(&rows, vec![]).unwrap()
                }
                PartWrite::Delta(delta) => {
                    assert!(delta.len() <= base_rows.len() / BASE_ROWS_PER_DELTA_ROW);
                    stored(&base_rows, delta).unwrap()
                }
            };
            assert_eq!(part.rows().collect::<Vec<_>>(), rows);
            for r in &rows {
                assert_eq!(part.get(r.order_id), Some(*r));
            }
        }
    }

    proptest! {
        #[test]
        fn deltas_read_back_as_the_rows_written(
            base in proptest::collection::btree_set(0i64..200, 0..120),
            runs in proptest::collection::vec(
                proptest::collection::vec((0i64..200, proptest::option::of(1i64..4)), 0..12),
                1..8,
            ),
        ) {
            check_runs(base.into_iter().collect(), runs);
        }
    }
}
