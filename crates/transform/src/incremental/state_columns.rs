//! A state file's rows kept as the columns they were read as, checked once when read and
//! decoded one row at a time as a run walks them. A late run touches every part but
//! changes a few rows in each: turning every stored row into a [`StateRow`] first, and
//! merging those into a second vector, moved about 250 bytes a row through memory before
//! any row was used.

use arrow2::array::{Array, BooleanArray, PrimitiveArray};
use arrow2::bitmap::Bitmap;
use arrow2::buffer::Buffer;
use ccc_ingest::Batch;
use rayon::prelude::*;

use super::rows::{role_of, ListCodes, StateRow, REQUIRED};
use crate::key::MessageKey;
use crate::state::ConversationState;
use crate::table::StoredConversations;
use std::ops::Range;

/// One record batch of a state file, checked: every required value present, every stage
/// and city known, each role's count agreeing with its first time.
#[derive(Debug, Clone)]
pub(crate) struct CheckedBatch {
    ids: Buffer<i64>,
    first_time: Buffer<i64>,
    first_started: Bitmap,
    first_by_courier: Bitmap,
    first_from: PrimitiveArray<i64>,
    first_stage: Vec<u32>,
    last_time: Buffer<i64>,
    last_started: Bitmap,
    last_by_courier: Bitmap,
    last_from: PrimitiveArray<i64>,
    last_stage: Vec<u32>,
    first_courier: PrimitiveArray<i64>,
    first_customer: PrimitiveArray<i64>,
    couriers: Buffer<i64>,
    customers: Buffer<i64>,
    first_seen_run: Buffer<i64>,
    city: Vec<u32>,
}

fn col<T: 'static>(batch: &Batch, index: usize) -> &T {
    batch.chunk.arrays()[index]
        .as_any()
        .downcast_ref::<T>()
        .expect("the reader produces the layout's types")
}

impl CheckedBatch {
    /// The batch (read with the state layout), stage and city indexes mapped to the run's
    /// codes; `None` when a value is missing, unknown or inconsistent (the row-by-row
    /// reader then says what and where).
    pub(crate) fn check(batch: &Batch, stages: &ListCodes, cities: &ListCodes) -> Option<Self> {
        let complete = REQUIRED
            .iter()
            .all(|&i| batch.chunk.arrays()[i].null_count() == 0);
        if !complete {
            return None;
        }
        let int = |i| col::<PrimitiveArray<i64>>(batch, i);
        let bits = |i| col::<BooleanArray>(batch, i).values().clone();
        // Filled by loops into vectors of the batch's length: collecting an iterator of
        // `Option`s does not know its length.
        let codes = |a: &PrimitiveArray<i64>, list: &ListCodes| -> Option<Vec<u32>> {
            let mut codes = Vec::with_capacity(a.len());
            for v in a.iter() {
                codes.push(match v {
                    None => 0,
                    Some(&index) => list.run_code(index)?,
                });
            }
            Some(codes)
        };
        let checked = CheckedBatch {
            ids: int(0).values().clone(),
            first_time: int(1).values().clone(),
            first_started: bits(2),
            first_by_courier: bits(3),
            first_from: int(4).clone(),
            first_stage: codes(int(5), stages)?,
            last_time: int(6).values().clone(),
            last_started: bits(7),
            last_by_courier: bits(8),
            last_from: int(9).clone(),
            last_stage: codes(int(10), stages)?,
            first_courier: int(11).clone(),
            first_customer: int(12).clone(),
            couriers: int(13).values().clone(),
            customers: int(14).values().clone(),
            first_seen_run: int(15).values().clone(),
            city: codes(int(16), cities)?,
        };
        let consistent = (0..checked.len()).all(|i| {
            checked.first_courier.is_valid(i) == (checked.couriers[i] > 0)
                && checked.first_customer.is_valid(i) == (checked.customers[i] > 0)
        });
        consistent.then_some(checked)
    }

    /// Rows in the batch.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// The order ids, as stored.
    pub(crate) fn ids(&self) -> &[i64] {
        &self.ids
    }

    /// The order id of the first row without messages (a tombstone, which only a delta
    /// may hold).
    pub(crate) fn first_without_messages(&self) -> Option<i64> {
        (0..self.len())
            .find(|&i| self.couriers[i] == 0 && self.customers[i] == 0)
            .map(|i| self.ids[i])
    }

    /// Row `i`, decoded.
    #[inline]
    pub(crate) fn row(&self, i: usize) -> StateRow {
        let key = |time: &Buffer<i64>,
                   started: &Bitmap,
                   by_courier: &Bitmap,
                   from: &PrimitiveArray<i64>,
                   stage: &[u32]| {
            MessageKey::new(
                time[i],
                !started.get_bit(i),
                role_of(by_courier.get_bit(i)),
                from.get(i),
                stage[i],
            )
        };
        StateRow {
            order_id: self.ids[i],
            state: ConversationState::from_parts(
                key(
                    &self.first_time,
                    &self.first_started,
                    &self.first_by_courier,
                    &self.first_from,
                    &self.first_stage,
                ),
                key(
                    &self.last_time,
                    &self.last_started,
                    &self.last_by_courier,
                    &self.last_from,
                    &self.last_stage,
                ),
                self.first_courier.get(i),
                self.first_customer.get(i),
                self.couriers[i],
                self.customers[i],
            )
            .expect("each role's count was checked against its first time"),
            first_seen_run: self.first_seen_run[i] as u64,
            city: self.city[i],
        }
    }

    /// Rows `range` as the output's columns.
    pub(crate) fn conversations(&self, range: Range<usize>) -> StoredConversations<'_> {
        let (start, len) = (range.start, range.len());
        StoredConversations {
            order_id: &self.ids[range.clone()],
            city: &self.city[range.clone()],
            first_courier: self.first_courier.clone().sliced(start, len),
            first_customer: self.first_customer.clone().sliced(start, len),
            courier_messages: &self.couriers[range.clone()],
            customer_messages: &self.customers[range.clone()],
            first_by_courier: self.first_by_courier.clone().sliced(start, len),
            started: &self.first_time[range.clone()],
            last: &self.last_time[range.clone()],
            last_stage: &self.last_stage[range],
        }
    }

    /// The messages of rows `range`.
    pub(crate) fn messages(&self, range: Range<usize>) -> u64 {
        let couriers: i64 = self.couriers[range.clone()].iter().sum();
        let customers: i64 = self.customers[range].iter().sum();
        (couriers + customers) as u64
    }

    /// The latest last message time of rows `range`.
    pub(crate) fn newest(&self, range: Range<usize>) -> Option<i64> {
        self.last_time[range].iter().copied().max()
    }

    /// Every row, decoded.
    pub(crate) fn rows(&self) -> impl Iterator<Item = StateRow> + '_ {
        (0..self.len()).map(|i| self.row(i))
    }
}

/// The rows of a state file, its batches checked in parallel. `Err` names what is wrong
/// (the row-by-row reader's message, with the record).
pub(crate) fn check_batches(
    batches: &[Batch],
    stages: &ListCodes,
    cities: &ListCodes,
) -> Result<Vec<CheckedBatch>, String> {
    batches
        .par_iter()
        .map(|batch| match CheckedBatch::check(batch, stages, cities) {
            Some(checked) => Ok(checked),
            None => Err(super::rows::first_problem(batch, stages, cities)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dictionary::Dictionary;
    use crate::incremental::rows::state_chunk;
    use crate::key::Role;
    use crate::table::TableColumns;
    use proptest::prelude::*;

    /// A stored row from drawn values: up to three messages of either role.
    fn row(order_id: i64, messages: &[(i64, bool, u32)], city: u32) -> StateRow {
        let key = |&(time, courier, stage): &(i64, bool, u32)| {
            let role = if courier {
                Role::Courier
            } else {
                Role::Customer
            };
            MessageKey::new(
                time,
                time % 3 == 0,
                role,
                (time % 2 == 0).then_some(time),
                stage,
            )
        };
        let mut state = ConversationState::new(key(&messages[0]));
        messages[1..].iter().for_each(|m| state.update(key(m)));
        StateRow {
            order_id,
            state,
            first_seen_run: 1,
            city,
        }
    }

    proptest! {
        /// Stored rows appended as runs of columns give the chunk and the dictionaries
        /// that pushing each decoded row's conversation gives.
        #[test]
        fn a_run_of_columns_is_its_rows(
            drawn in prop::collection::vec(
                (
                    prop::collection::vec((-5_000_000_000i64..5_000_000_000, any::<bool>(), 0u32..3), 1..4),
                    0u32..3,
                ),
                1..60,
            ),
            cut in 0usize..60,
        ) {
            let rows: Vec<StateRow> = drawn
                .iter()
                .enumerate()
                .map(|(i, (messages, city))| row(i as i64 * 7 - 100, messages, *city))
                .collect();
            let cities = Dictionary::from_values(vec!["BCN".into(), "LIS".into()]);
            let stages = Dictionary::from_values(vec!["ACCEPTED".into(), "DELIVERED".into()]);
            let identity = ListCodes { to_run: vec![0, 1, 2], to_manifest: vec![0, 1, 2] };
            let batch = Batch {
                file: 0,
                first_record: 1,
                lines: None,
                unread: Vec::new(),
                position: 1,
                chunk: state_chunk(&rows, &identity, &identity),
            };
            let checked = CheckedBatch::check(&batch, &identity, &identity).expect("consistent rows");
            let n = rows.len();
            let cut = cut.min(n);
            let mut runs = TableColumns::for_rows(n, &cities, &stages);
            runs.extend(&checked.conversations(0..cut), &cities, &stages);
            runs.extend(&checked.conversations(cut..n), &cities, &stages);
            let mut each = TableColumns::for_rows(n, &cities, &stages);
            for r in checked.rows() {
                each.push_conversation(&r.state.finish(r.order_id), r.city, &cities, &stages);
            }
            prop_assert_eq!(&checked.rows().collect::<Vec<_>>(), &rows);
            let (runs, each) = (runs.finish(), each.finish());
            prop_assert_eq!(runs.0.arrays(), each.0.arrays());
            prop_assert_eq!(format!("{:?}", runs.1), format!("{:?}", each.1));
            prop_assert_eq!(checked.messages(0..n), rows.iter().map(|r| (r.state.courier_messages + r.state.customer_messages) as u64).sum::<u64>());
            prop_assert_eq!(checked.newest(0..n), rows.iter().map(|r| r.state.last.time).max());
        }
    }
}
