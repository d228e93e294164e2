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

/// One part's state as read: its rows, and what the next write of the part needs to
/// know of its files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredPart {
    /// The part's rows, the delta applied to the base, sorted by order id.
    pub rows: Vec<StateRow>,
    /// Order ids of the base file, ascending.
    pub base_ids: Vec<i64>,
    /// The delta file's rows (tombstones included), sorted by order id.
    pub delta: Vec<StateRow>,
}

impl StoredPart {
    /// The part stored as base rows (sorted by order id) and delta rows (sorted, at most one
    /// per order). `Err` names what is wrong.
    pub fn new(base: Vec<StateRow>, delta: Vec<StateRow>) -> Result<StoredPart, String> {
        let base_ids: Vec<i64> = base.iter().map(|r| r.order_id).collect();
        if let Some(w) = base_ids.windows(2).find(|w| w[0] >= w[1]) {
            return Err(format!("base rows not in ascending order_id at {}", w[1]));
        }
        if let Some(w) = delta.windows(2).find(|w| w[0].order_id >= w[1].order_id) {
            return Err(format!(
                "delta rows not in ascending order_id at {}",
                w[1].order_id
            ));
        }
        if let Some(row) = base.iter().find(|r| r.is_tombstone()) {
            return Err(format!("order {} has no messages", row.order_id));
        }
        if delta.is_empty() {
            return Ok(StoredPart {
                rows: base,
                base_ids,
                delta,
            });
        }
        let mut rows = Vec::with_capacity(base.len() + delta.len());
        let mut changes = delta.iter().peekable();
        for row in base {
            while let Some(change) = changes.next_if(|c| c.order_id < row.order_id) {
                if change.is_tombstone() {
                    return Err(format!(
                        "the delta removes order {}, which the base does not hold",
                        change.order_id
                    ));
                }
                rows.push(*change);
            }
            match changes.next_if(|c| c.order_id == row.order_id) {
                Some(change) if change.is_tombstone() => {}
                Some(change) => rows.push(*change),
                None => rows.push(row),
            }
        }
        for change in changes {
            if change.is_tombstone() {
                return Err(format!(
                    "the delta removes order {}, which the base does not hold",
                    change.order_id
                ));
            }
            rows.push(*change);
        }
        Ok(StoredPart {
            rows,
            base_ids,
            delta,
        })
    }
}

/// A rewritten part's state after a run: its rows, and how they are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartState {
    /// The part's rows, sorted by order id.
    pub rows: Vec<StateRow>,
    /// Whole, or as a delta beside the previous base.
    pub write: PartWrite,
}

impl PartState {
    /// Rows of the delta file written for it (0 when none is).
    pub fn delta_rows(&self) -> u64 {
        match &self.write {
            PartWrite::Base => 0,
            PartWrite::Delta(delta) => delta.len() as u64,
        }
    }
}

/// How a rewritten part's state is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartWrite {
    /// The rows as a new base, with no delta.
    Base,
    /// The previous base kept (linked), with this delta beside it (none when empty).
    Delta(Vec<StateRow>),
}

/// How to write a part stored as `before` (its files: `base_ids` and `delta` are read,
/// `rows` may have been taken) whose rows are now `rows` (sorted by order id), where only
/// the orders in `touched` (sorted, distinct) may differ from the stored rows.
pub fn plan_write(before: &StoredPart, rows: &[StateRow], touched: &[i64]) -> PartWrite {
    if before.base_ids.is_empty() {
        return PartWrite::Base;
    }
    // An order differs from the base if the old delta or this run changed it.
    let mut ids: Vec<i64> = before.delta.iter().map(|r| r.order_id).collect();
    ids.extend_from_slice(touched);
    ids.sort_unstable();
    ids.dedup();
    let limit = before.base_ids.len() / BASE_ROWS_PER_DELTA_ROW;
    if ids.len() > limit {
        return PartWrite::Base;
    }
    let mut delta = Vec::with_capacity(ids.len());
    for id in ids {
        match rows.binary_search_by_key(&id, |r| r.order_id) {
            Ok(i) => delta.push(rows[i]),
            Err(_) if before.base_ids.binary_search(&id).is_ok() => {
                delta.push(StateRow::tombstone(id));
            }
            // Added after the base and gone again: the base never held it.
            Err(_) => {}
        }
    }
    PartWrite::Delta(delta)
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn a_delta_replaces_adds_and_removes_rows() {
        let base = vec![row(1, 1), row(3, 1), row(5, 1)];
        let delta = vec![row(2, 1), row(3, 4), StateRow::tombstone(5), row(9, 1)];
        let part = StoredPart::new(base, delta).unwrap();
        assert_eq!(part.rows, vec![row(1, 1), row(2, 1), row(3, 4), row(9, 1)]);
        assert_eq!(part.base_ids, vec![1, 3, 5]);
    }

    #[test]
    fn a_tombstone_for_an_order_the_base_lacks_is_damage() {
        let err = StoredPart::new(vec![row(1, 1)], vec![StateRow::tombstone(2)]).unwrap_err();
        assert_eq!(
            err,
            "the delta removes order 2, which the base does not hold"
        );
        let err = StoredPart::new(vec![row(3, 1)], vec![StateRow::tombstone(2)]).unwrap_err();
        assert!(err.contains("order 2"), "{err}");
        let err = StoredPart::new(vec![row(3, 1), row(2, 1)], vec![]).unwrap_err();
        assert_eq!(err, "base rows not in ascending order_id at 2");
    }

    #[test]
    fn a_part_without_a_base_or_with_a_large_change_is_written_whole() {
        let none = StoredPart::default();
        assert_eq!(plan_write(&none, &[row(1, 1)], &[1]), PartWrite::Base);
        let base: Vec<StateRow> = (0..8).map(|i| row(i, 1)).collect();
        let part = StoredPart::new(base.clone(), vec![]).unwrap();
        let mut rows = base.clone();
        rows[0] = row(0, 2);
        rows[1] = row(1, 2);
        assert_eq!(
            plan_write(&part, &rows, &[0, 1]),
            PartWrite::Delta(vec![row(0, 2), row(1, 2)])
        );
        rows[2] = row(2, 2);
        assert_eq!(plan_write(&part, &rows, &[0, 1, 2]), PartWrite::Base);
    }

    /// A change applied by writing a delta reads back as the rows the run computed,
    /// whatever the earlier deltas, moves and re-additions.
    fn check_runs(base: Vec<i64>, runs: Vec<Vec<(i64, Option<i64>)>>) {
        let rows: Vec<StateRow> = base.iter().map(|&id| row(id, 1)).collect();
        let mut stored = StoredPart::new(rows.clone(), vec![]).unwrap();
        let mut base_rows = rows;
        for changes in runs {
            let mut now: std::collections::BTreeMap<i64, StateRow> =
                stored.rows.iter().map(|r| (r.order_id, *r)).collect();
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
            stored = match plan_write(&stored, &rows, &touched) {
                PartWrite::Base => {
                    base_rows = rows.clone();
                    StoredPart::new(rows.clone(), vec![]).unwrap()
                }
                PartWrite::Delta(delta) => {
                    assert!(delta.len() <= base_rows.len() / BASE_ROWS_PER_DELTA_ROW);
                    StoredPart::new(base_rows.clone(), delta).unwrap()
                }
            };
            assert_eq!(stored.rows, rows);
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
