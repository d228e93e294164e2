//! The distinct orders ranked by id. An order's slot is its rank, so its state can live
//! in a plain vector (no hash map's empty buckets and keys), and a run of slots is a run
//! of order ids: the states split into ranges that fold one after another and still give
//! rows in `order_id` order.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::build::{partition_of, OrderBook, PARTITIONS};

/// Every distinct usable order, by slot.
pub(crate) struct OrderSlots {
    /// Slot of each order id, by [`partition_of`] the id.
    index: Vec<FxHashMap<i64, u32>>,
    /// Order id of each slot, ascending.
    pub ids: Vec<i64>,
    /// City code of each slot.
    pub cities: Vec<u32>,
}

impl OrderSlots {
    /// Takes the orders out of `book` (which keeps its counts and cities) and ranks them.
    pub fn take_from(book: &mut OrderBook) -> Self {
        let mut pairs: Vec<(i64, u32)> = Vec::with_capacity(book.distinct as usize);
        for map in std::mem::take(&mut book.partitions) {
            pairs.extend(map);
        }
        pairs.par_sort_unstable();
        let (ids, cities): (Vec<i64>, Vec<u32>) = pairs.into_iter().unzip();
        let mut by_partition: Vec<Vec<(i64, u32)>> = vec![Vec::new(); PARTITIONS];
        for (slot, &id) in ids.iter().enumerate() {
            by_partition[partition_of(id)].push((id, slot as u32));
        }
        let index = by_partition
            .into_par_iter()
            .map(|pairs| pairs.into_iter().collect())
            .collect();
        Self { index, ids, cities }
    }

    /// The slot of an order id, if the order is known.
    #[inline]
    pub fn slot(&self, order_id: i64) -> Option<u32> {
        self.index[partition_of(order_id)].get(&order_id).copied()
    }

    /// Distinct orders.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Drops the id → slot index once no message is left to look up.
    pub fn forget_index(&mut self) {
        self.index = Vec::new();
    }
}
