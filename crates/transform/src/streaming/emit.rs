//! The states made into the table's rows: one set of Arrow columns per conversation
//! date, appended to in slot order. Slots are ranked by order id, so each date's rows
//! come out sorted by `order_id` with no sort at all, range after range; and each shard
//! of states is freed as soon as its rows are appended, so the states and the table are
//! not both whole in memory at once.

use std::collections::BTreeMap;

use super::slots::OrderSlots;
use crate::build::{day_of, OutputRow};
use crate::dictionary::Dictionary;
use crate::state::ConversationState;
use crate::table::{date_string, Partition, RowsSize, TableColumns};

/// The table being made, by date.
pub(crate) struct DayTables<'a> {
    slots: &'a OrderSlots,
    cities: &'a Dictionary,
    stages: &'a Dictionary,
    days: BTreeMap<i64, TableColumns>,
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
            days: BTreeMap::new(),
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
        // The room each date needs first, so no column grows by doubling into memory
        // it does not use.
        let mut sizes: BTreeMap<i64, RowsSize> = BTreeMap::new();
        for (slot, state) in (base..).zip(shards.iter().flatten()) {
            if !state.is_empty() {
                let row = self.row(slot, state);
                sizes
                    .entry(day_of(row.conversation.conversation_started_at))
                    .or_default()
                    .add(&row, self.cities, self.stages);
            }
        }
        for (day, size) in sizes {
            self.days
                .entry(day)
                .and_modify(|columns| columns.reserve(size))
                .or_insert_with(|| TableColumns::with_capacity(size));
        }
        let mut slot = base;
        for shard in shards {
            for state in &shard {
                if !state.is_empty() {
                    let row = self.row(slot, state);
                    let day = day_of(row.conversation.conversation_started_at);
                    self.days.get_mut(&day).expect("every date was sized").push(
                        &row,
                        self.cities,
                        self.stages,
                    );
                    self.messages += (state.courier_messages + state.customer_messages) as u64;
                    self.conversations += 1;
                }
                slot += 1;
            }
        }
    }

    /// One partition per date, in date order.
    pub fn finish(self) -> Vec<Partition> {
        self.days
            .into_iter()
            .map(|(day, columns)| Partition {
                date: date_string(day),
                chunk: columns.finish(),
            })
            .collect()
    }
}
