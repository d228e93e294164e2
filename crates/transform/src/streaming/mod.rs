//! The full build as a stream, so that memory holds the per-order states and not the
//! messages: the orders, read first, are ranked into slots ([`slots`]) and the memory
//! limit decides how many of the slots' states stay in memory ([`plan`]); then each
//! message batch, on the thread that read it, is classified and folded into the states
//! of its orders (or, for slots past the first range, written to a spill file,
//! [`spill`]), and its columns can be dropped unless the quarantine needs its rows. At
//! the end each range of slots becomes its rows of the table ([`emit`]). The result is
//! the one [`crate::build_conversations`] gives on the same sources, whatever the limit:
//! the same order book, classification and merges, only applied batch by batch.

mod by_order;
mod emit;
mod pages;
pub mod plan;
mod slots;
pub mod spill;
mod stages;

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use ccc_ingest::{Batch, FieldProblem, Sources, Table, TableData};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::build::{
    build_order_book, find_orphans, scatter_messages, settle, KeptOut, OrderBook, ProblemIndex,
    Row, TransformCounts, PARTITIONS,
};
use crate::key::MessageKey;
use crate::quarantine::{Quarantine, QuarantinedRow};
use crate::state::ConversationState;
use crate::table::Partition;
pub use by_order::StreamingAggregate;
use emit::DayTables;
use plan::{MemoryTooSmall, Plan};
use slots::OrderSlots;
use spill::{SpillError, SpillFiles, Spilled};
use stages::{recoding, StageCodes};

/// A batch's place while it is read: its file and [`Batch::position`].
pub(crate) type Place = (u32, u64);

/// Locks over the in-memory states, so the reading threads rarely wait for each other.
const SHARDS: usize = 64;

/// Why a streaming build could not finish.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The memory limit is below what the run needs, spilling or not.
    #[error(transparent)]
    Memory(#[from] MemoryTooSmall),
    /// A spill file could not be written or read back.
    #[error(transparent)]
    Spill(#[from] SpillError),
}

/// The memory limit of a build, and where it may spill past it.
#[derive(Debug, Clone)]
pub struct MemoryLimit {
    /// Bytes the build's states, orders and table may take (see [`plan`]).
    pub bytes: u64,
    /// The folder for spill files, created only if the build spills.
    pub spill_folder: PathBuf,
}

/// What the build spilled (all zero when it did not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SpillSummary {
    /// Ranges of order slots folded one after another (1: no spilling).
    pub ranges: u64,
    /// Messages written to spill files.
    pub messages: u64,
    /// Bytes written to spill files.
    pub bytes: u64,
}

/// The table as per-day partitions, its quarantine and counts: a streaming build's result.
#[derive(Debug, Clone, Default)]
pub struct StreamedOutput {
    /// The table, one chunk per `conversation_date`, in date order.
    pub partitions: Vec<Partition>,
    /// Rows kept out of the table, with reasons.
    pub quarantine: Quarantine,
    /// Counts for the run report.
    pub counts: TransformCounts,
    /// Order ids with conflicting cities, ascending.
    pub conflicting_order_ids: Vec<i64>,
    /// What was spilled.
    pub spill: SpillSummary,
}

/// The per-order states of the first range of slots, in shards of consecutive slots.
struct Resident {
    shard_len: usize,
    shards: Vec<Mutex<Vec<ConversationState>>>,
}

impl Resident {
    fn new(len: usize) -> Resident {
        let shard_len = len.div_ceil(SHARDS).max(1);
        let shards = (0..len.div_ceil(shard_len))
            .map(|s| {
                let n = shard_len.min(len - s * shard_len);
                Mutex::new(pages::empty_states(n))
            })
            .collect();
        Resident { shard_len, shards }
    }
}

/// What the build knows once the orders are read.
struct Ready {
    book: OrderBook,
    slots: OrderSlots,
    plan: Plan,
    resident: Resident,
    spill: Option<SpillFiles>,
}

impl Ready {
    fn new(orders: &TableData, limit: Option<&MemoryLimit>) -> Result<Ready, BuildError> {
        let mut book = build_order_book(orders, &ProblemIndex::of(&orders.problems));
        let slots = OrderSlots::take_from(&mut book);
        let plan = plan::plan(slots.len(), limit.map(|l| l.bytes))?;
        let spill = match limit {
            Some(limit) if plan.ranges > 1 => {
                Some(SpillFiles::create(&limit.spill_folder, plan.ranges - 1)?)
            }
            _ => None,
        };
        Ok(Ready {
            resident: Resident::new(plan.slots_per_range.min(slots.len())),
            book,
            slots,
            plan,
            spill,
        })
    }

    fn without_orders() -> Ready {
        Ready::new(&empty_orders(), None).expect("no orders need no memory and no spilling")
    }
}

/// The states of a full build in progress; shared by the reading threads.
pub struct StreamingBuild {
    limit: Option<MemoryLimit>,
    ready: OnceLock<Ready>,
    /// Every `orderStage` seen so far. The in-memory states' keys are coded in the
    /// current dictionary (and recoded when it grows); a spilled message keeps the
    /// generation its code is in.
    stages: StageCodes,
    /// Rows for the quarantine (unusable, orphaned) by the place of their batch.
    kept_out: Mutex<Vec<(Place, QuarantinedRow)>>,
    orphan_ids: Mutex<FxHashSet<i64>>,
    /// The first failure; folding stops once there is one.
    failure: Mutex<Option<BuildError>>,
}

impl Default for StreamingBuild {
    fn default() -> Self {
        Self::new(None)
    }
}

impl StreamingBuild {
    /// An empty build, under a memory limit or none.
    pub fn new(limit: Option<MemoryLimit>) -> Self {
        Self {
            limit,
            ready: OnceLock::new(),
            stages: StageCodes::new(),
            kept_out: Mutex::default(),
            orphan_ids: Mutex::default(),
            failure: Mutex::default(),
        }
    }

    fn fail(&self, error: BuildError) {
        let mut failure = self
            .failure
            .lock()
            .expect("no thread panics holding the lock");
        failure.get_or_insert(error);
    }

    fn failed(&self) -> bool {
        self.failure
            .lock()
            .expect("no thread panics holding the lock")
            .is_some()
    }

    /// Takes the orders, read whole before any message (the reader's table hook).
    pub fn orders_read(&self, orders: &TableData) {
        if orders.table != Table::Orders {
            return;
        }
        match Ready::new(orders, self.limit.as_ref()) {
            // Called once per run; a second call would be the reader's bug, and keeps the first.
            Ok(ready) => {
                let _ = self.ready.set(ready);
            }
            Err(error) => self.fail(error),
        }
    }

    /// Folds one message batch in, with its rows' value problems (the reader's batch
    /// hook). True when some of its rows go to the quarantine, which then needs the
    /// batch's columns; otherwise nothing is read from the batch again.
    pub fn fold_messages(&self, batch: &Batch, problems: &[FieldProblem]) -> bool {
        if self.failed() {
            return false;
        }
        let ready = self.ready.get_or_init(Ready::without_orders);
        let index = ProblemIndex::of(problems);
        let mut parts: Vec<Vec<Row>> = (0..PARTITIONS).map(|_| Vec::new()).collect();
        let (unusable, orphans) = self.stages.fold(
            batch,
            |recode| recode_resident(ready, recode),
            |codes, generation| {
                let unusable = scatter_messages(0, batch, codes, &index, &mut parts);
                let orphans = self.fold_rows(ready, parts.iter().flatten(), generation);
                (unusable, orphans)
            },
        );
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

    /// Folds usable messages into the in-memory states or their spill files; returns the
    /// ids of orders that are not known.
    fn fold_rows<'r>(
        &self,
        ready: &Ready,
        rows: impl Iterator<Item = &'r Row>,
        generation: u32,
    ) -> FxHashSet<i64> {
        let per_range = ready.plan.slots_per_range;
        let shard_len = ready.resident.shard_len;
        let mut orphans = FxHashSet::default();
        let mut resident: Vec<Vec<(u32, MessageKey)>> =
            vec![Vec::new(); ready.resident.shards.len()];
        let mut spilled: Vec<Vec<Spilled>> = vec![Vec::new(); ready.plan.ranges - 1];
        for row in rows {
            let Some(slot) = ready.slots.slot(row.order_id) else {
                orphans.insert(row.order_id);
                continue;
            };
            let (range, within) = (slot as usize / per_range, slot as usize % per_range);
            if range == 0 {
                resident[within / shard_len].push(((within % shard_len) as u32, row.key));
            } else {
                spilled[range - 1].push(Spilled {
                    slot: within as u32,
                    generation,
                    key: row.key,
                });
            }
        }
        for (shard, rows) in ready.resident.shards.iter().zip(&resident) {
            if rows.is_empty() {
                continue;
            }
            let mut states = shard.lock().expect("no thread panics holding the lock");
            for &(i, key) in rows {
                states[i as usize].absorb(key);
            }
        }
        if let Some(spill) = &ready.spill {
            for (r, records) in spilled.iter().enumerate() {
                if records.is_empty() {
                    continue;
                }
                if let Err(error) = spill.append(r + 1, records) {
                    self.fail(error.into());
                    break;
                }
            }
        }
        orphans
    }

    /// The table, quarantine and counts, once every batch of `sources` was folded in.
    pub fn finish(self, sources: &Sources) -> Result<StreamedOutput, BuildError> {
        if let Some(error) = self.failure.into_inner().expect("no thread panicked") {
            return Err(error);
        }
        let ready = match self.ready.into_inner() {
            Some(ready) => ready,
            None => Ready::new(&sources.orders, self.limit.as_ref())?,
        };
        let generations = self.stages.into_generations();
        let stages = generations.last().cloned().unwrap_or_default();
        let Ready {
            book,
            mut slots,
            plan,
            resident,
            spill,
        } = ready;
        slots.forget_index();

        let mut tables = DayTables::new(&slots, &book.cities, &stages);
        tables.append(
            0,
            resident
                .shards
                .into_iter()
                .map(|s| s.into_inner().expect("no thread panicked"))
                .collect(),
        );
        let mut summary = SpillSummary {
            ranges: plan.ranges as u64,
            ..SpillSummary::default()
        };
        if let Some(spill) = &spill {
            crate::fault::point("transform-after-spill");
            (summary.messages, summary.bytes) = spill.totals();
            let recodes: Vec<Vec<u32>> = generations
                .iter()
                .map(|g| recoding(g, &stages).expect("the last dictionary holds every older one"))
                .collect();
            for range in 1..plan.ranges {
                let base = range * plan.slots_per_range;
                let len = plan.slots_per_range.min(slots.len() - base);
                let mut states = pages::empty_states(len);
                spill.read_back(range, |mut record| {
                    let recode = &recodes[record.generation as usize];
                    record.key.stage = recode[record.key.stage as usize];
                    states[record.slot as usize].absorb(record.key);
                })?;
                tables.append(base, vec![states]);
            }
        }
        drop(spill);
        let (messages_aggregated, conversations) = (tables.messages, tables.conversations);
        let partitions = tables.finish();

        let batch_of = batch_indexes(sources);
        let (mut unusable, mut orphan_rows) = (Vec::new(), Vec::new());
        for (place, mut row) in self.kept_out.into_inner().expect("no thread panicked") {
            row.batch = batch_of[&place];
            match row.reason {
                crate::QuarantineReason::Orphan => orphan_rows.push(row),
                _ => unusable.push(row),
            }
        }
        let orphan_orders = self
            .orphan_ids
            .into_inner()
            .expect("no thread panicked")
            .len() as u64;
        let settled = settle(
            sources,
            book,
            KeptOut {
                unusable,
                orphan_rows,
                orphan_orders,
            },
            messages_aggregated,
            conversations,
        );
        Ok(StreamedOutput {
            partitions,
            quarantine: settled.quarantine,
            counts: settled.counts,
            conflicting_order_ids: settled.conflicting_order_ids,
            spill: summary,
        })
    }
}

/// Each message batch's index in `sources` by its place (what folding as read keyed by).
pub(crate) fn batch_indexes(sources: &Sources) -> FxHashMap<Place, u32> {
    sources
        .messages
        .batches
        .iter()
        .enumerate()
        .map(|(i, b)| ((b.file, b.position), i as u32))
        .collect()
}

/// Recodes the stages of the in-memory states (once the orders are read, there are some).
fn recode_resident(ready: &Ready, recode: &[u32]) {
    for shard in &ready.resident.shards {
        let mut states = shard.lock().expect("no thread panics holding the lock");
        for state in states.iter_mut().filter(|s| !s.is_empty()) {
            state.first.stage = recode[state.first.stage as usize];
            state.last.stage = recode[state.last.stage as usize];
        }
    }
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
    use crate::{build_conversations, to_partitions, TransformOutput};
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

    /// The messages in two NDJSON files split at `split`, and orders 0..6 (7 and 8 are
    /// orphans; order 2 twice with two cities), read in small batches with `hooks`.
    fn read(
        dir: &std::path::Path,
        messages: &[Message],
        split: usize,
        on_batch: ccc_ingest::BatchHook<'_>,
        on_table_read: ccc_ingest::TableHook<'_>,
    ) -> Sources {
        let split = split % (messages.len() + 1);
        for (n, part) in [&messages[..split], &messages[split..]].iter().enumerate() {
            let text: String = part.iter().map(ndjson).collect();
            let path = dir.join(format!("customer_courier_chat_messages_{n}.ndjson"));
            std::fs::write(path, text).unwrap();
        }
        let orders: String = (0..7)
            .map(|id| format!("{{\"orderId\": {id}, \"cityCode\": \"BCN\"}}\n"))
            .chain(["{\"orderId\": 2, \"cityCode\": \"LIS\"}\n".to_string()])
            .collect();
        std::fs::write(dir.join("orders.ndjson"), orders).unwrap();
        let files = ccc_ingest::discover(dir).unwrap();
        let options = ReadOptions {
            chunk_bytes: 600,
            ..ReadOptions::default()
        };
        ccc_ingest::read_sources_with(files, &options, &|_| {}, on_batch, on_table_read).unwrap()
    }

    /// The same sources read twice: folded as they are read (under `limit`, as a
    /// multiple of one order's state beyond what cannot spill), and built afterwards.
    fn both(
        messages: &[Message],
        split: usize,
        limit: Option<u64>,
    ) -> (StreamedOutput, TransformOutput) {
        let dir = tempfile::tempdir().unwrap();
        let spill_folder = dir.path().join("spill");
        let streaming = StreamingBuild::new(limit.map(|states| MemoryLimit {
            bytes: 7 * plan::FIXED_BYTES_PER_ORDER + states * plan::STATE_BYTES_PER_ORDER,
            spill_folder: spill_folder.clone(),
        }));
        let sources = read(
            dir.path(),
            messages,
            split,
            &|table, batch, problems| {
                if table == Table::ChatMessages {
                    streaming.fold_messages(batch, problems);
                }
            },
            &|data, _| streaming.orders_read(data),
        );
        let streamed = streaming.finish(&sources).unwrap();
        assert!(
            !spill_folder.exists(),
            "the spill folder goes with the build"
        );
        (streamed, build_conversations(&sources))
    }

    fn same(streamed: &StreamedOutput, built: &TransformOutput) -> Result<(), TestCaseError> {
        let expected = to_partitions(&built.table);
        prop_assert_eq!(streamed.partitions.len(), expected.len());
        for (s, b) in streamed.partitions.iter().zip(&expected) {
            prop_assert_eq!(s.part, b.part);
            prop_assert_eq!(&s.chunk, &b.chunk);
        }
        prop_assert_eq!(&streamed.quarantine, &built.quarantine);
        prop_assert_eq!(&streamed.counts, &built.counts);
        prop_assert_eq!(
            &streamed.conflicting_order_ids,
            &built.conflicting_order_ids
        );
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn folding_as_read_equals_building_after(
            messages in proptest::collection::vec(message(), 0..120),
            split in 0usize..120,
        ) {
            let (streamed, built) = both(&messages, split, None);
            same(&streamed, &built)?;
            prop_assert_eq!(streamed.spill, SpillSummary { ranges: 1, messages: 0, bytes: 0 });
        }

        #[test]
        fn spilling_past_the_limit_gives_the_same_table(
            messages in proptest::collection::vec(message(), 0..120),
            split in 0usize..120,
            states in 1u64..7,
        ) {
            let (streamed, built) = both(&messages, split, Some(states));
            same(&streamed, &built)?;
            prop_assert_eq!(streamed.spill.ranges, 7u64.div_ceil(states));
        }

        #[test]
        fn aggregating_by_order_as_read_equals_aggregating_after(
            messages in proptest::collection::vec(message(), 0..120),
            split in 0usize..120,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let streaming = StreamingAggregate::default();
            let sources = read(
                dir.path(),
                &messages,
                split,
                &|table, batch, problems| {
                    if table == Table::ChatMessages {
                        streaming.fold_messages(batch, problems);
                    }
                },
                &|_, _| {},
            );
            let streamed = streaming.finish(&sources);
            let after = crate::build::aggregate_messages(&sources, &ProblemIndex::new(&sources), &[]);
            prop_assert_eq!(&streamed.stages, &after.stages);
            prop_assert_eq!(&streamed.maps, &after.maps);
            prop_assert_eq!(&streamed.unusable, &after.unusable);
        }
    }
}
