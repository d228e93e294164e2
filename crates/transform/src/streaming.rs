//! The full build as a stream, so that memory holds the per-order states and not the
//! messages: the orders, read first, become the order book; then each message batch, on
//! the thread that read it, is classified and folded into the states of its orders, and
//! its columns can be dropped unless the quarantine needs its rows. The result is the
//! one [`crate::build_conversations`] gives on the same sources: the same order book,
//! classification and merges, only applied batch by batch.

use std::sync::{Mutex, OnceLock, RwLock};

use arrow2::array::Utf8Array;
use ccc_ingest::schema as src;
use ccc_ingest::{Batch, FieldProblem, Sources, Table, TableData};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::build::{
    assemble, build_order_book, column, find_orphans, join_orders, scatter_messages, Aggregated,
    OrderBook, ProblemIndex, Row, TransformOutput, PARTITIONS,
};
use crate::dictionary::{self, Dictionary};
use crate::quarantine::QuarantinedRow;
use crate::state::ConversationState;

/// A batch's place while it is read: its file and [`Batch::position`].
type Place = (u32, u64);

/// The states of a full build in progress; shared by the reading threads.
pub struct StreamingBuild {
    orders: OnceLock<OrderBook>,
    /// Per-order states by [`crate::build::partition_of`] their order id.
    maps: Vec<Mutex<FxHashMap<i64, ConversationState>>>,
    /// Every `orderStage` seen so far, sorted; the states' keys are coded in it, and
    /// recoded when a new value comes (see [`StreamingBuild::learn_stages`]).
    stages: RwLock<Dictionary>,
    /// Rows for the quarantine (unusable, orphaned) by the place of their batch.
    kept_out: Mutex<Vec<(Place, QuarantinedRow)>>,
    orphan_ids: Mutex<FxHashSet<i64>>,
}

impl Default for StreamingBuild {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamingBuild {
    /// An empty build.
    pub fn new() -> Self {
        Self {
            orders: OnceLock::new(),
            maps: (0..PARTITIONS).map(|_| Mutex::default()).collect(),
            stages: RwLock::default(),
            kept_out: Mutex::default(),
            orphan_ids: Mutex::default(),
        }
    }

    /// Takes the orders, read whole before any message (the reader's table hook).
    pub fn orders_read(&self, orders: &TableData) {
        if orders.table != Table::Orders {
            return;
        }
        let book = build_order_book(orders, &ProblemIndex::of(&orders.problems));
        // Each map will hold at most its partition's orders: sized once, it is never
        // rehashed into fresh memory while the messages stream in.
        for (map, size) in self.maps.iter().zip(book.partition_sizes()) {
            map.lock()
                .expect("no thread panics holding the lock")
                .reserve(size);
        }
        // Called once per run; a second call would be the reader's bug, and keeps the first.
        let _ = self.orders.set(book);
    }

    /// Folds one message batch in, with its rows' value problems (the reader's batch
    /// hook). True when some of its rows go to the quarantine, which then needs the
    /// batch's columns; otherwise nothing is read from the batch again.
    pub fn fold_messages(&self, batch: &Batch, problems: &[FieldProblem]) -> bool {
        let orders = self.orders.get_or_init(|| {
            build_order_book(&empty_orders(), &ProblemIndex::of(std::iter::empty()))
        });
        let stage_array = column::<Utf8Array<i32>>(batch, Table::ChatMessages, src::ORDER_STAGE);
        let (local, mut codes) = dictionary::encode(&[stage_array]);
        let mut codes = codes.pop().unwrap_or_default();
        let index = ProblemIndex::of(problems);
        let mut parts: Vec<Vec<Row>> = (0..PARTITIONS).map(|_| Vec::new()).collect();
        let (unusable, orphans) = loop {
            let stages = self
                .stages
                .read()
                .expect("no thread panics holding the lock");
            let Some(recode) = recoding(&local, &stages) else {
                drop(stages);
                self.learn_stages(&local);
                continue;
            };
            codes.iter_mut().for_each(|c| *c = recode[*c as usize]);
            // Folded while the dictionary is held, so no recoding runs in between.
            let unusable = scatter_messages(0, batch, &codes, &index, &mut parts);
            let mut orphans = FxHashSet::default();
            for (p, rows) in parts.iter().enumerate() {
                if rows.is_empty() {
                    continue;
                }
                let known = &orders.partitions[p];
                let mut states = self.maps[p]
                    .lock()
                    .expect("no thread panics holding the lock");
                for row in rows {
                    if !known.contains_key(&row.order_id) {
                        orphans.insert(row.order_id);
                        continue;
                    }
                    states
                        .entry(row.order_id)
                        .and_modify(|s| s.update(row.key))
                        .or_insert_with(|| ConversationState::new(row.key));
                }
            }
            break (unusable, orphans);
        };
        let orphan_rows = if orphans.is_empty() {
            Vec::new()
        } else {
            find_orphans(0, batch, &orphans, &unusable)
        };
        let kept_out = !unusable.is_empty() || !orphan_rows.is_empty();
        if kept_out {
            let place = (batch.file, batch.position);
            let mut all = self
                .kept_out
                .lock()
                .expect("no thread panics holding the lock");
            all.extend(unusable.into_iter().chain(orphan_rows).map(|r| (place, r)));
            self.orphan_ids
                .lock()
                .expect("no thread panics holding the lock")
                .extend(orphans);
        }
        kept_out
    }

    /// Adds `local`'s stages to the dictionary, recoding every state's keys when that
    /// changes the codes. New stages are rare after the first batches: the states are
    /// recoded a handful of times a run, however large.
    fn learn_stages(&self, local: &Dictionary) {
        let mut stages = self
            .stages
            .write()
            .expect("no thread panics holding the lock");
        if recoding(local, &stages).is_some() {
            return; // another thread learnt them first
        }
        let grown = Dictionary::from_values(
            stages
                .values()
                .iter()
                .chain(local.values())
                .cloned()
                .collect(),
        );
        let recode = recoding(&stages, &grown).expect("the grown dictionary holds the old one");
        for map in &self.maps {
            let mut states = map.lock().expect("no thread panics holding the lock");
            for state in states.values_mut() {
                state.first.stage = recode[state.first.stage as usize];
                state.last.stage = recode[state.last.stage as usize];
            }
        }
        *stages = grown;
    }

    /// The table, quarantine and counts, once every batch of `sources` was folded in.
    pub fn finish(self, sources: &Sources) -> TransformOutput {
        let orders = self.orders.into_inner().unwrap_or_else(|| {
            build_order_book(&sources.orders, &ProblemIndex::of(&sources.orders.problems))
        });
        let batch_of: FxHashMap<Place, u32> = sources
            .messages
            .batches
            .iter()
            .enumerate()
            .map(|(i, b)| ((b.file, b.position), i as u32))
            .collect();
        let (mut unusable, mut orphan_rows) = (Vec::new(), Vec::new());
        for (place, mut row) in self.kept_out.into_inner().expect("no thread panicked") {
            row.batch = batch_of[&place];
            match row.reason {
                crate::QuarantineReason::Orphan => orphan_rows.push(row),
                _ => unusable.push(row),
            }
        }
        let maps = self
            .maps
            .into_iter()
            .map(|m| m.into_inner().expect("no thread panicked"))
            .collect();
        let grouped = join_orders(maps, &orders);
        let orphan_orders = self
            .orphan_ids
            .into_inner()
            .expect("no thread panicked")
            .len() as u64;
        assemble(
            sources,
            orders,
            Aggregated {
                grouped,
                stages: self.stages.into_inner().expect("no thread panicked"),
                unusable,
                orphan_rows,
                orphan_orders,
            },
        )
    }
}

/// Codes of `from` (0 = null first) in `to`, if `to` holds all of `from`'s values.
fn recoding(from: &Dictionary, to: &Dictionary) -> Option<Vec<u32>> {
    std::iter::once(Some(0))
        .chain(from.values().iter().map(|v| to.code(v)))
        .collect()
}

fn empty_orders() -> TableData {
    TableData {
        table: Table::Orders,
        batches: Vec::new(),
        problems: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build_conversations;
    use ccc_ingest::ReadOptions;
    use proptest::prelude::*;

    /// (orderId, seconds, sender, stage, started) of one message; `None` where null.
    type Message = (
        Option<i64>,
        u32,
        Option<&'static str>,
        Option<&'static str>,
        bool,
    );

    const SENDERS: [&str; 3] = ["Courier iOS", "Customer Android", "robot"];
    const STAGES: [&str; 5] = ["ACCEPTED", "ARRIVING", "DELIVERED", "PICKED_UP", "FAILED"];

    fn message() -> impl Strategy<Value = Message> {
        (
            proptest::option::weighted(0.95, 0i64..9),
            0u32..50,
            proptest::option::weighted(0.95, proptest::sample::select(&SENDERS[..])),
            proptest::option::weighted(0.9, proptest::sample::select(&STAGES[..])),
            any::<bool>(),
        )
    }

    fn ndjson(m: &Message) -> String {
        let text = |v: Option<&str>| v.map_or("null".to_string(), |s| format!("\"{s}\""));
        format!(
            "{{\"senderAppType\": {}, \"customerId\": 1, \"fromId\": {}, \"toId\": 3, \
             \"chatStartedByMessage\": {}, \"orderId\": {}, \"orderStage\": {}, \
             \"courierId\": 4, \"messageSentTime\": \"2024-02-01T10:00:{:02}Z\"}}\n",
            text(m.2),
            m.1 % 3,
            m.4,
            m.0.map_or("null".to_string(), |id| id.to_string()),
            text(m.3),
            m.1 % 60,
        )
    }

    /// The same sources read twice: folded as they are read, and built afterwards.
    fn both(messages: &[Message], split: usize) -> (TransformOutput, TransformOutput) {
        let dir = tempfile::tempdir().unwrap();
        let split = split % (messages.len() + 1);
        for (n, part) in [&messages[..split], &messages[split..]].iter().enumerate() {
            let text: String = part.iter().map(ndjson).collect();
            let path = dir
                .path()
                .join(format!("customer_courier_chat_messages_{n}.ndjson"));
            std::fs::write(path, text).unwrap();
        }
        // Orders 0..6 (7 and 8 are orphans), order 2 twice with two cities.
        let orders: String = (0..7)
            .map(|id| format!("{{\"orderId\": {id}, \"cityCode\": \"BCN\"}}\n"))
            .chain(["{\"orderId\": 2, \"cityCode\": \"LIS\"}\n".to_string()])
            .collect();
        std::fs::write(dir.path().join("orders.ndjson"), orders).unwrap();
        let files = ccc_ingest::discover(dir.path()).unwrap();
        let options = ReadOptions {
            chunk_bytes: 600,
            ..ReadOptions::default()
        };
        let streaming = StreamingBuild::new();
        let sources = ccc_ingest::read_sources_with(
            files,
            &options,
            &|_| {},
            &|table, batch, problems| {
                if table == Table::ChatMessages {
                    streaming.fold_messages(batch, problems);
                }
            },
            &|data, _| streaming.orders_read(data),
        )
        .unwrap();
        (streaming.finish(&sources), build_conversations(&sources))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn folding_as_read_equals_building_after(
            messages in proptest::collection::vec(message(), 0..120),
            split in 0usize..120,
        ) {
            let (streamed, built) = both(&messages, split);
            prop_assert_eq!(&streamed.table.rows, &built.table.rows);
            prop_assert_eq!(streamed.table.stages.values(), built.table.stages.values());
            prop_assert_eq!(streamed.table.cities.values(), built.table.cities.values());
            prop_assert_eq!(&streamed.quarantine, &built.quarantine);
            prop_assert_eq!(&streamed.counts, &built.counts);
            prop_assert_eq!(&streamed.conflicting_order_ids, &built.conflicting_order_ids);
        }
    }
}
