//! The states made into the table's rows: one set of Arrow columns per part file (a
//! conversation date and an hour, [`crate::layout`]), appended to in slot order. Slots
//! are ranked by order id, so each part's rows
//! come out sorted by `order_id` with no sort at all, range after range; and each shard
//! of states is freed as soon as its rows are appended, so the states and the table are
//! not both whole in memory at once.

use std::collections::BTreeMap;

use super::slots::OrderSlots;
use crate::build::OutputRow;
use crate::dictionary::Dictionary;
use crate::layout::Part;
use crate::state::ConversationState;
use crate::table::{Partition, RowsSize, TableColumns};

/// The table being made, by part.
pub(crate) struct DayTables<'a> {
    slots: &'a OrderSlots,
    cities: &'a Dictionary,
    stages: &'a Dictionary,
    parts: BTreeMap<Part, TableColumns>,
    /// Messages in the rows so far.
    pub messages: u64,
    /// Rows so far.
    pub conversations: u64,
}

impl<'a> DayTables<'a> {
    /// No rows yet.
    pub fn new(slots: &'a OrderSlots, cities: &'a Dictionary, stages: &'a Dictionary) -> Self {
        Self {
            slots,
            cities,
            stages,
            parts: BTreeMap::new(),
            messages: 0,
            conversations: 0,
        }
    }

    fn row(&self, slot: usize, state: &ConversationState) -> OutputRow {
        OutputRow {
            conversation: state.finish(self.slots.ids[slot]),
            city: self.slots.cities[slot],
        }
    }

    /// Appends the rows of the slots from `base` on, whose states are `shards` in slot
    /// order; each shard is dropped once appended.
    pub fn append(&mut self, base: usize, shards: Vec<Vec<ConversationState>>) {
        // The room each part needs first, so no column grows by doubling into memory
        // it does not use.
        let mut sizes: BTreeMap<Part, RowsSize> = BTreeMap::new();
        for (slot, state) in (base..).zip(shards.iter().flatten()) {
            if !state.is_empty() {
                let row = self.row(slot, state);
                sizes
                    .entry(Part::of(row.conversation.conversation_started_at))
                    .or_default()
                    .add(&row, self.cities, self.stages);
            }
        }
        for (part, size) in sizes {
            self.parts
                .entry(part)
                .and_modify(|columns| columns.reserve(size))
                .or_insert_with(|| TableColumns::with_capacity(size));
        }
        let mut slot = base;
        for shard in shards {
            for state in &shard {
                if !state.is_empty() {
                    let row = self.row(slot, state);
                    let part = Part::of(row.conversation.conversation_started_at);
                    self.parts
                        .get_mut(&part)
                        .expect("every part was sized")
                        .push(&row, self.cities, self.stages);
                    self.messages += (state.courier_messages + state.customer_messages) as u64;
                    self.conversations += 1;
                }
                slot += 1;
            }
        }
    }

    /// One chunk per part, in date and hour order.
    pub fn finish(self) -> Vec<Partition> {
        self.parts
            .into_iter()
            .map(|(part, columns)| Partition::new(part, columns))
            .collect()
    }
}
