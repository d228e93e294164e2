//! Building the conversations table from the sources: orders deduplicated, messages
//! classified (usable, unusable, orphan), then a hash-partitioned parallel group-by whose
//! per-order state is [`ConversationState`]. The result does not depend on file order,
//! record order, batching or thread count: every merge is commutative and associative,
//! and rows are sorted at the end.

use arrow2::array::{BooleanArray, PrimitiveArray, Utf8Array};
use ccc_ingest::schema as src;
use ccc_ingest::{Batch, FieldProblem, ProblemKind, Sources, Table, TableData};
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::dictionary::{self, Dictionary};
use crate::key::{MessageKey, Role};
use crate::layout::Part;
use crate::quarantine::{Faults, Quarantine, QuarantineReason, QuarantinedRow};
use crate::state::{Conversation, ConversationState};

/// Partitions of the group-by; a power of two, more than the cores so work balances.
const PARTITION_BITS: u32 = 6;
pub(crate) const PARTITIONS: usize = 1 << PARTITION_BITS;

/// Which partition an order id belongs to (Fibonacci hashing: cheap and well spread).
#[inline]
pub(crate) fn partition_of(order_id: i64) -> usize {
    ((order_id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - PARTITION_BITS)) as usize
}

/// One finished row of the output table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputRow {
    /// The aggregated conversation.
    pub conversation: Conversation,
    /// `city_code`, as a code of [`ConversationTable::cities`].
    pub city: u32,
}

/// The output table, rows sorted by (conversation date, order id).
#[derive(Debug, Clone, Default)]
pub struct ConversationTable {
    /// The rows.
    pub rows: Vec<OutputRow>,
    /// City codes of the rows.
    pub cities: Dictionary,
    /// Stage codes of the rows.
    pub stages: Dictionary,
}

/// Counts that reconcile: messages read = aggregated + quarantined + orphaned.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TransformCounts {
    /// Message records read.
    pub messages_read: u64,
    /// Messages that went into a conversation.
    pub messages_aggregated: u64,
    /// Unusable messages (quarantined with their reason).
    pub messages_quarantined: u64,
    /// Usable messages whose order is unknown (also in the quarantine).
    pub messages_orphaned: u64,
    /// Distinct order ids among orphan messages.
    pub orphan_orders: u64,
    /// Order records read.
    pub orders_read: u64,
    /// Distinct usable orders.
    pub orders_distinct: u64,
    /// Order records that repeat an order already seen (same id).
    pub orders_duplicate_rows: u64,
    /// Order ids with more than one `cityCode` (the smallest is used).
    pub orders_conflicting: u64,
    /// Unusable order records (quarantined).
    pub orders_quarantined: u64,
    /// Rows of the output table.
    pub conversations: u64,
}

/// Everything the transform produces.
#[derive(Debug, Clone, Default)]
pub struct TransformOutput {
    /// The output table.
    pub table: ConversationTable,
    /// Rows kept out of the table, with reasons.
    pub quarantine: Quarantine,
    /// Counts for the run report.
    pub counts: TransformCounts,
    /// A few order ids with conflicting cities, for the report.
    pub conflicting_order_ids: Vec<i64>,
}

/// One partition after the group-by: finished rows with their city code, and orphan
/// order ids with their message counts.
pub(crate) type GroupedPartition = (Vec<OutputRow>, Vec<(i64, i64)>);

/// One batch of orders scattered into partitions of (order id, city code), plus its unusable rows.
type ScatteredOrders = (Vec<Vec<(i64, u32)>>, Vec<QuarantinedRow>);

/// A usable message, reduced to what the group-by needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    pub order_id: i64,
    pub key: MessageKey,
}

/// The source columns the transform reads. The others matter only to the suites and to
/// the quarantine, which writes rows out in full (reading back any column a batch was
/// read without, see [`ccc_ingest::with_unread_columns`]).
pub const COLUMNS_READ: [(Table, &str); 8] = [
    (Table::ChatMessages, src::SENDER_APP_TYPE),
    (Table::ChatMessages, src::FROM_ID),
    (Table::ChatMessages, src::CHAT_STARTED_BY_MESSAGE),
    (Table::ChatMessages, src::ORDER_ID),
    (Table::ChatMessages, src::ORDER_STAGE),
    (Table::ChatMessages, src::MESSAGE_SENT_TIME),
    (Table::Orders, src::ORDER_ID),
    (Table::Orders, src::CITY_CODE),
];

pub(crate) fn column<'a, T: 'static>(batch: &'a Batch, table: Table, name: &str) -> &'a T {
    debug_assert!(
        COLUMNS_READ.contains(&(table, name)),
        "{name} is in COLUMNS_READ"
    );
    let index = table
        .column_index(name)
        .expect("column of the table schema");
    batch.chunk.arrays()[index]
        .as_any()
        .downcast_ref::<T>()
        .expect("ingest produces the schema's types")
}

/// Usable messages folded per order: one map per hash partition, the unusable rows, and
/// the stage dictionary the states' keys are coded in.
pub(crate) struct MessageAggregate {
    /// Per-order states, by [`partition_of`] the order id.
    pub maps: Vec<FxHashMap<i64, ConversationState>>,
    /// Messages without a usable order id, time or sender role.
    pub unusable: Vec<QuarantinedRow>,
    /// Codes of `orderStage` in the states' keys.
    pub stages: Dictionary,
}

/// Builds the conversations table from the sources.
pub fn build_conversations(sources: &Sources) -> TransformOutput {
    let problems = ProblemIndex::new(sources);
    let orders = build_order_book(&sources.orders, &problems);
    let MessageAggregate {
        maps,
        unusable,
        stages,
    } = aggregate_messages(sources, &problems, &orders.partition_sizes());
    let messages = &sources.messages.batches;

    let grouped = join_orders(maps, &orders);

    let mut orphan_ids: FxHashSet<i64> = FxHashSet::default();
    let mut orphaned_messages = 0u64;
    for (_, orphans) in &grouped {
        for &(order_id, count) in orphans {
            orphan_ids.insert(order_id);
            orphaned_messages += count as u64;
        }
    }

    // Orphans are rare: find their records for the quarantine in a second, cheap pass.
    let orphan_rows: Vec<QuarantinedRow> = if orphan_ids.is_empty() {
        Vec::new()
    } else {
        messages
            .par_iter()
            .enumerate()
            .flat_map_iter(|(batch_index, batch)| {
                find_orphans(batch_index as u32, batch, &orphan_ids, &unusable)
            })
            .collect()
    };
    debug_assert_eq!(orphan_rows.len() as u64, orphaned_messages);
    assemble(
        sources,
        orders,
        Aggregated {
            grouped,
            stages,
            kept_out: KeptOut {
                unusable,
                orphan_rows,
                orphan_orders: orphan_ids.len() as u64,
            },
        },
    )
}

/// Each partition's conversations joined with the orders of the same partition: the
/// finished rows, and the (order id, messages) of states whose order is unknown.
pub(crate) fn join_orders(
    maps: Vec<FxHashMap<i64, ConversationState>>,
    orders: &OrderBook,
) -> Vec<GroupedPartition> {
    maps.into_par_iter()
        .zip(orders.partitions.par_iter())
        .map(|(states, order_map)| {
            let mut found = Vec::with_capacity(states.len());
            let mut orphans = Vec::new();
            for (order_id, state) in states {
                match order_map.get(&order_id) {
                    Some(&city) => found.push(OutputRow {
                        conversation: state.finish(order_id),
                        city,
                    }),
                    None => {
                        orphans.push((order_id, state.courier_messages + state.customer_messages))
                    }
                }
            }
            (found, orphans)
        })
        .collect()
}

/// What the messages came to, however they were folded: each partition's finished rows,
/// the stage dictionary, and the messages kept out.
pub(crate) struct Aggregated {
    pub grouped: Vec<GroupedPartition>,
    pub stages: Dictionary,
    pub kept_out: KeptOut,
}

/// The messages kept out of the table: unusable, and orphaned (with their orders).
pub(crate) struct KeptOut {
    pub unusable: Vec<QuarantinedRow>,
    pub orphan_rows: Vec<QuarantinedRow>,
    pub orphan_orders: u64,
}

/// What a build gives besides its rows, however they were made.
pub(crate) struct Settled {
    pub quarantine: Quarantine,
    pub counts: TransformCounts,
    pub conflicting_order_ids: Vec<i64>,
    pub cities: Dictionary,
}

/// The quarantine in record order and the counts, from the order book, the messages
/// kept out, and what went into the table.
pub(crate) fn settle(
    sources: &Sources,
    orders: OrderBook,
    kept_out: KeptOut,
    messages_aggregated: u64,
    conversations: u64,
) -> Settled {
    let KeptOut {
        mut unusable,
        mut orphan_rows,
        orphan_orders,
    } = kept_out;
    unusable.sort_by_key(|r| (r.batch, r.row));
    orphan_rows.sort_by_key(|r| (r.batch, r.row));
    let counts = TransformCounts {
        messages_read: sources.messages.row_count() as u64,
        messages_aggregated,
        messages_quarantined: unusable.len() as u64,
        messages_orphaned: orphan_rows.len() as u64,
        orphan_orders,
        orders_read: sources.orders.row_count() as u64,
        orders_distinct: orders.distinct,
        orders_duplicate_rows: orders.duplicate_rows,
        orders_conflicting: orders.conflicting.len() as u64,
        orders_quarantined: orders.unusable.len() as u64,
        conversations,
    };
    let mut conflicting_order_ids = orders.conflicting;
    conflicting_order_ids.sort_unstable();
    Settled {
        quarantine: Quarantine {
            messages: unusable,
            orphans: orphan_rows,
            orders: orders.unusable,
        },
        counts,
        conflicting_order_ids,
        cities: orders.cities,
    }
}

/// The table sorted, the quarantine in record order, and the counts.
pub(crate) fn assemble(
    sources: &Sources,
    orders: OrderBook,
    aggregated: Aggregated,
) -> TransformOutput {
    let Aggregated {
        grouped,
        stages,
        kept_out,
    } = aggregated;
    let rows = sorted_rows(grouped);
    let messages_aggregated = rows
        .iter()
        .map(|r| {
            (r.conversation.num_messages_courier + r.conversation.num_messages_customer) as u64
        })
        .sum();
    let conversations = rows.len() as u64;
    let settled = settle(
        sources,
        orders,
        kept_out,
        messages_aggregated,
        conversations,
    );
    TransformOutput {
        table: ConversationTable {
            rows,
            cities: settled.cities,
            stages,
        },
        quarantine: settled.quarantine,
        counts: settled.counts,
        conflicting_order_ids: settled.conflicting_order_ids,
    }
}

/// The partitions' rows in one table sorted by (part, order id): by date, then by the
/// hour of the part file that holds them ([`crate::layout`]). Small
/// (part, order id, partition, index) keys are sorted, and the rows gathered from their
/// partitions once: moving ~100-byte rows into one vector first, and then again while
/// sorting, cost more than the sort itself.
fn sorted_rows(grouped: Vec<GroupedPartition>) -> Vec<OutputRow> {
    let mut keys: Vec<(i64, i64, u32, u32)> = grouped
        .par_iter()
        .enumerate()
        .flat_map_iter(|(p, (found, _))| {
            found.iter().enumerate().map(move |(i, r)| {
                let c = &r.conversation;
                (
                    Part::of(c.conversation_started_at).hours(),
                    c.order_id,
                    p as u32,
                    i as u32,
                )
            })
        })
        .collect();
    keys.par_sort_unstable();
    keys.par_iter()
        .map(|&(_, _, p, i)| grouped[p as usize].0[i as usize])
        .collect()
}

/// Classifies every message and folds the usable ones into per-order states.
/// `expected_orders[p]` (when given) sizes partition `p`'s map up front: growing a map of
/// a million states by doubling rehashes it over and over into fresh memory.
pub(crate) fn aggregate_messages(
    sources: &Sources,
    problems: &ProblemIndex,
    expected_orders: &[usize],
) -> MessageAggregate {
    let messages = &sources.messages.batches;
    let stage_arrays: Vec<&Utf8Array<i32>> = messages
        .iter()
        .map(|b| column::<Utf8Array<i32>>(b, Table::ChatMessages, src::ORDER_STAGE))
        .collect();
    let (stages, stage_codes) = dictionary::encode(&stage_arrays);

    // Phases A and B in waves of batches: classify and scatter a wave's messages into
    // partitions (A), then fold each partition's rows into its per-order map (B). Only one
    // wave's key rows exist at a time, so memory holds the sources and the maps, not a
    // second copy of every message.
    let mut maps: Vec<FxHashMap<i64, ConversationState>> = (0..PARTITIONS)
        .map(|p| {
            let expected = expected_orders.get(p).copied().unwrap_or(0);
            FxHashMap::with_capacity_and_hasher(expected, Default::default())
        })
        .collect();
    let mut unusable: Vec<QuarantinedRow> = Vec::new();
    let wave = (rayon::current_num_threads() * 4).max(1);
    // One set of partition buffers per batch slot of a wave, reused wave after wave:
    // freed and allocated again, they were faulted in afresh every time.
    let mut buffers: Vec<Vec<Vec<Row>>> = (0..wave.min(messages.len()))
        .map(|_| (0..PARTITIONS).map(|_| Vec::new()).collect())
        .collect();
    for (w, wave_batches) in messages.chunks(wave).enumerate() {
        let bad: Vec<Vec<QuarantinedRow>> = wave_batches
            .par_iter()
            .zip(buffers.par_iter_mut())
            .enumerate()
            .map(|(i, (batch, parts))| {
                let batch_index = w * wave + i;
                scatter_messages(
                    batch_index as u32,
                    batch,
                    &stage_codes[batch_index],
                    problems,
                    parts,
                )
            })
            .collect();
        unusable.extend(bad.into_iter().flatten());
        let filled = &buffers[..wave_batches.len()];
        maps.par_iter_mut().enumerate().for_each(|(p, states)| {
            for parts in filled {
                for row in &parts[p] {
                    states
                        .entry(row.order_id)
                        .and_modify(|s| s.update(row.key))
                        .or_insert_with(|| ConversationState::new(row.key));
                }
            }
        });
    }
    MessageAggregate {
        maps,
        unusable,
        stages,
    }
}

/// Classifies a batch's messages: the usable ones go to `parts` (emptied first) by
/// [`partition_of`] their order id, the unusable ones are returned.
pub(crate) fn scatter_messages(
    batch_index: u32,
    batch: &Batch,
    stage_codes: &[u32],
    problems: &ProblemIndex,
    parts: &mut [Vec<Row>],
) -> Vec<QuarantinedRow> {
    let t = Table::ChatMessages;
    let sender = column::<Utf8Array<i32>>(batch, t, src::SENDER_APP_TYPE);
    let order_id = column::<PrimitiveArray<i64>>(batch, t, src::ORDER_ID);
    let time = column::<PrimitiveArray<i64>>(batch, t, src::MESSAGE_SENT_TIME);
    let started = column::<BooleanArray>(batch, t, src::CHAT_STARTED_BY_MESSAGE);
    let from_id = column::<PrimitiveArray<i64>>(batch, t, src::FROM_ID);
    for part in parts.iter_mut() {
        part.clear();
        part.reserve(batch.len() / PARTITIONS + 8);
    }
    let mut bad = Vec::new();
    for (i, &stage) in stage_codes.iter().enumerate() {
        let role = sender.get(i).and_then(Role::of_sender_app_type);
        let (Some(oid), Some(ts), Some(role)) = (order_id.get(i), time.get(i), role) else {
            let record = batch.first_record + i as u64;
            let mut reasons = Faults::default();
            if order_id.get(i).is_none() {
                reasons.add(
                    src::ORDER_ID,
                    problems.kind(batch.file, record, src::ORDER_ID),
                );
            }
            if time.get(i).is_none() {
                reasons.add(
                    src::MESSAGE_SENT_TIME,
                    problems.kind(batch.file, record, src::MESSAGE_SENT_TIME),
                );
            }
            if role.is_none() {
                match sender.get(i) {
                    Some(_) => reasons.add_no_role(src::SENDER_APP_TYPE),
                    None => reasons.add(
                        src::SENDER_APP_TYPE,
                        problems.kind(batch.file, record, src::SENDER_APP_TYPE),
                    ),
                }
            }
            if problems.not_a_record(batch.file, record) {
                reasons.add_not_a_record();
            }
            bad.push(QuarantinedRow {
                batch: batch_index,
                row: i as u32,
                reason: reasons.into_reason(),
            });
            continue;
        };
        let key = MessageKey::new(
            ts,
            started.get(i) != Some(true),
            role,
            from_id.get(i),
            stage,
        );
        parts[partition_of(oid)].push(Row { order_id: oid, key });
    }
    bad
}

pub(crate) fn find_orphans(
    batch_index: u32,
    batch: &Batch,
    orphan_ids: &FxHashSet<i64>,
    unusable: &[QuarantinedRow],
) -> Vec<QuarantinedRow> {
    let order_id = column::<PrimitiveArray<i64>>(batch, Table::ChatMessages, src::ORDER_ID);
    // `unusable` is in (batch, row) order: this batch's rows are one slice of it.
    let start = unusable.partition_point(|r| r.batch < batch_index);
    let end = unusable.partition_point(|r| r.batch <= batch_index);
    let unusable_here: FxHashSet<u32> = unusable[start..end].iter().map(|r| r.row).collect();
    (0..batch.len())
        .filter(|&i| !unusable_here.contains(&(i as u32)))
        .filter(|&i| order_id.get(i).is_some_and(|id| orphan_ids.contains(&id)))
        .map(|i| QuarantinedRow {
            batch: batch_index,
            row: i as u32,
            reason: QuarantineReason::Orphan,
        })
        .collect()
}

/// Orders deduplicated per id, partitioned like the messages.
pub(crate) struct OrderBook {
    /// Order id → city code (the smallest when rows disagree), by [`partition_of`].
    pub partitions: Vec<FxHashMap<i64, u32>>,
    /// City codes.
    pub cities: Dictionary,
    /// Distinct usable order ids.
    pub distinct: u64,
    /// Usable rows repeating an order id.
    pub duplicate_rows: u64,
    /// Order ids seen with more than one city.
    pub conflicting: Vec<i64>,
    /// Unusable order records.
    pub unusable: Vec<QuarantinedRow>,
}

impl OrderBook {
    /// Distinct orders per partition, in partition order.
    pub(crate) fn partition_sizes(&self) -> Vec<usize> {
        self.partitions.iter().map(FxHashMap::len).collect()
    }
}

pub(crate) fn build_order_book(orders: &TableData, problems: &ProblemIndex) -> OrderBook {
    let t = Table::Orders;
    let batches = &orders.batches;
    let city_arrays: Vec<&Utf8Array<i32>> = batches
        .iter()
        .map(|b| column::<Utf8Array<i32>>(b, t, src::CITY_CODE))
        .collect();
    let (cities, city_codes) = dictionary::encode(&city_arrays);
    let scattered: Vec<ScatteredOrders> = batches
        .par_iter()
        .zip(city_codes.par_iter())
        .enumerate()
        .map(|(batch_index, (batch, codes))| {
            let order_id = column::<PrimitiveArray<i64>>(batch, t, src::ORDER_ID);
            let mut parts: Vec<Vec<(i64, u32)>> = vec![Vec::new(); PARTITIONS];
            let mut bad = Vec::new();
            for (i, &city) in codes.iter().enumerate() {
                match order_id.get(i) {
                    Some(id) if city != 0 => parts[partition_of(id)].push((id, city)),
                    id => {
                        let record = batch.first_record + i as u64;
                        let mut reasons = Faults::default();
                        if id.is_none() {
                            reasons.add(
                                src::ORDER_ID,
                                problems.kind(batch.file, record, src::ORDER_ID),
                            );
                        }
                        if city == 0 {
                            reasons.add(
                                src::CITY_CODE,
                                problems.kind(batch.file, record, src::CITY_CODE),
                            );
                        }
                        bad.push(QuarantinedRow {
                            batch: batch_index as u32,
                            row: i as u32,
                            reason: reasons.into_reason(),
                        });
                    }
                }
            }
            (parts, bad)
        })
        .collect();
    let partitions: Vec<(FxHashMap<i64, u32>, u64, Vec<i64>)> = (0..PARTITIONS)
        .into_par_iter()
        .map(|p| {
            let mut map: FxHashMap<i64, u32> = FxHashMap::default();
            let mut duplicates = 0u64;
            let mut conflicting = FxHashSet::default();
            for (parts, _) in &scattered {
                for &(id, city) in &parts[p] {
                    match map.get_mut(&id) {
                        None => {
                            map.insert(id, city);
                        }
                        Some(existing) => {
                            duplicates += 1;
                            if *existing != city {
                                conflicting.insert(id);
                                *existing = (*existing).min(city);
                            }
                        }
                    }
                }
            }
            (map, duplicates, conflicting.into_iter().collect())
        })
        .collect();
    let mut book = OrderBook {
        partitions: Vec::with_capacity(PARTITIONS),
        cities,
        distinct: 0,
        duplicate_rows: 0,
        conflicting: Vec::new(),
        unusable: scattered
            .iter()
            .flat_map(|(_, bad)| bad.iter().cloned())
            .collect(),
    };
    for (map, duplicates, conflicting) in partitions {
        book.distinct += map.len() as u64;
        book.duplicate_rows += duplicates;
        book.conflicting.extend(conflicting);
        book.partitions.push(map);
    }
    book
}

/// Field problems by (file, record), to say *why* a value is null in a reason.
pub(crate) struct ProblemIndex {
    by_record: FxHashMap<(u32, u64), Vec<(&'static str, ProblemKind)>>,
}

impl ProblemIndex {
    pub(crate) fn new(sources: &Sources) -> Self {
        Self::of(
            sources
                .messages
                .problems
                .iter()
                .chain(&sources.orders.problems),
        )
    }

    /// The index of these problems (one table's, or one batch's).
    pub(crate) fn of<'a>(problems: impl IntoIterator<Item = &'a FieldProblem>) -> Self {
        let mut by_record: FxHashMap<(u32, u64), Vec<(&'static str, ProblemKind)>> =
            FxHashMap::default();
        for p in problems {
            by_record
                .entry((p.file, p.record))
                .or_default()
                .push((p.column, p.kind));
        }
        Self { by_record }
    }

    fn kind(&self, file: u32, record: u64, column: &str) -> Option<ProblemKind> {
        self.by_record
            .get(&(file, record))?
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, k)| *k)
    }

    fn not_a_record(&self, file: u32, record: u64) -> bool {
        self.by_record
            .get(&(file, record))
            .is_some_and(|v| v.iter().any(|(_, k)| *k == ProblemKind::NotARecord))
    }
}
