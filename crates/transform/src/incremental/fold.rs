//! Folding new source files into the state. New messages, folded per order as they were
//! read ([`NewMessages`]), are merged into the stored state of their orders with
//! [`ConversationState::merge`]; new order records merge into the order book (smallest
//! city wins, as in a full run). Only the parts (a date and an hour, [`crate::layout`])
//! holding a changed conversation, before or after the change, are loaded and rebuilt,
//! whole.

use std::collections::{BTreeMap, BTreeSet};

use ccc_ingest::Sources;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use super::error::IncrementalError;
use super::late::LateCounts;
use super::manifest::OrderShard;
use super::new_messages::NewMessages;
use super::part_state::{plan_write, PartState, Stored, StoredPart, WriteCollector};
use super::rows::{ListCodes, OrdersState, StateRow};
use super::state_columns::CheckedBatch;
use super::store::Generation;
use crate::build::{build_order_book, ConversationTable, OrderBook, OutputRow, ProblemIndex};
use crate::dictionary::Dictionary;
use crate::layout::Part;
use crate::quarantine::Quarantine;
use crate::state::ConversationState;
use crate::table::{Partition, TableColumns};

/// What one run changed, for the run report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FoldCounts {
    /// Message records in the new files.
    pub messages_read: u64,
    /// Unusable ones (quarantined).
    pub messages_quarantined: u64,
    /// Usable new messages now in the published table.
    pub messages_published: u64,
    /// Usable new messages whose order is still unknown (held in the state).
    pub messages_waiting: u64,
    /// Order records in the new files.
    pub orders_read: u64,
    /// Orders seen for the first time.
    pub orders_new: u64,
    /// Usable order records repeating an order known before or in this run.
    pub orders_duplicate_rows: u64,
    /// Orders found with a second city in this run (the smallest city is kept).
    pub orders_conflicting: u64,
    /// Unusable order records (quarantined).
    pub orders_quarantined: u64,
    /// Published conversations that are new or changed.
    pub conversations_changed: u64,
    /// Changed conversations now in another part than before.
    pub conversations_moved: u64,
    /// Conversations published in this run because their order arrived.
    pub conversations_released: u64,
}

/// The result of folding: everything the new generation and the rewritten parts need.
#[derive(Debug, Clone, Default)]
pub struct Folded {
    /// The rewritten parts that still have rows, in part order, each sorted by order id.
    pub partitions: Vec<Partition>,
    /// The rows of `partitions` that are new or changed in this run (what the output suite
    /// checks; the others are carried over as they were published).
    pub changed: ConversationTable,
    /// Parts rewritten (or removed, when no row is left in them).
    pub rewritten: BTreeSet<Part>,
    /// State of the rewritten parts that still have rows.
    pub state_parts: BTreeMap<Part, PartState>,
    /// Conversations waiting for their order, sorted by order id.
    pub waiting: Vec<StateRow>,
    /// The shards of the order book this run read, merged with the new orders.
    pub orders: OrdersState,
    /// The order book's shards after this run, in id order.
    pub shards: Vec<ShardPlan>,
    /// The manifest's cities after this run (append-only).
    pub manifest_cities: Vec<String>,
    /// Run city codes ⇄ manifest indexes.
    pub city_codes: ListCodes,
    /// The manifest's stages after this run (append-only).
    pub manifest_stages: Vec<String>,
    /// Run stage codes ⇄ manifest indexes.
    pub stage_codes: ListCodes,
    /// Stage strings of every key in the state, coded in string order.
    pub stages: Dictionary,
    /// Unusable rows of the new files (orphans wait in the state instead).
    pub quarantine: Quarantine,
    /// What changed.
    pub counts: FoldCounts,
    /// Late messages.
    pub late: LateCounts,
    /// Orders whose city in this run's files differs from the one folded in earlier runs
    /// (a full run's functional-dependency check would fail on them).
    pub cross_run_conflicts: Vec<i64>,
}

/// Folds `sources` (the new files only, their messages folded as they were read into
/// `new_messages`) into the `previous` generation (none: empty).
pub fn fold(
    previous: Option<&Generation>,
    sources: &Sources,
    new_messages: NewMessages,
    generation: u64,
) -> Result<Folded, IncrementalError> {
    let book = build_order_book(&sources.orders, &ProblemIndex::of(&sources.orders.problems));
    let aggregate = new_messages.aggregate.finish(sources);
    let late = new_messages.late.finish(sources);

    // Stages, like cities below: the manifest's list grows at the end (stable indexes in
    // the files); the run codes them in string order, as the keys' total order needs.
    let (manifest_stages, stages, stage_codes) = grown_list(
        previous.map(|g| &g.manifest.stages),
        aggregate.stages.values(),
    );
    let remap: Vec<u32> = std::iter::once(0)
        .chain(
            aggregate
                .stages
                .values()
                .iter()
                .map(|s| stages.code(s).expect("every new stage is in the union")),
        )
        .collect();
    let mut new_states: Vec<(i64, ConversationState)> = aggregate
        .maps
        .into_iter()
        .flatten()
        .map(|(id, mut state)| {
            state.first.stage = remap[state.first.stage as usize];
            state.last.stage = remap[state.last.stage as usize];
            (id, state)
        })
        .collect();
    new_states.sort_unstable_by_key(|(id, _)| *id);

    // Cities: the run codes them in string order, so the smallest city of a conflict is the
    // smallest code.
    let (manifest_cities, cities, city_codes) =
        grown_list(previous.map(|g| &g.manifest.cities), book.cities.values());

    // Only the order-book shards whose id ranges hold an order of this run are read.
    let old_shards: Vec<OrderShard> = previous
        .map(|g| g.manifest.order_shards.clone())
        .unwrap_or_default();
    let touched_shards: BTreeSet<usize> = match previous {
        Some(g) if !old_shards.is_empty() => new_states
            .iter()
            .map(|(id, _)| *id)
            .chain(book.partitions.iter().flat_map(|p| p.keys().copied()))
            .map(|id| g.manifest.shard_of(id))
            .collect(),
        _ => BTreeSet::new(),
    };
    let old_orders = match previous {
        Some(g) => g.read_order_shards(&touched_shards, &cities, &city_codes)?,
        None => OrdersState {
            cities: cities.clone(),
            ..OrdersState::default()
        },
    };
    let mut counts = FoldCounts {
        messages_read: sources.messages.row_count() as u64,
        messages_quarantined: aggregate.unusable.len() as u64,
        orders_read: sources.orders.row_count() as u64,
        orders_quarantined: book.unusable.len() as u64,
        ..FoldCounts::default()
    };
    let MergedOrders {
        mut orders,
        city_changed,
        cross_run: cross_run_conflicts,
        mut changed_orders,
    } = merge_orders(old_orders, &book, &mut counts);
    let mut waiting: FxHashMap<i64, StateRow> = match previous {
        Some(g) => g
            .read_waiting(&stage_codes, &city_codes)?
            .into_iter()
            .map(|r| (r.order_id, r))
            .collect(),
        None => FxHashMap::default(),
    };

    // Where each new conversation's order is in the book (both lists are sorted by id).
    let found = find_sorted(&orders.ids, new_states.iter().map(|(id, _)| *id));

    // The parts that hold a changed conversation now: load them whole. Each part's rows
    // stay a vector sorted by order id; changed rows are kept aside and merged in.
    let old_part = |id: i64| orders.find(id).and_then(|i| orders.part[i]);
    let mut loaded: BTreeSet<Part> = found
        .iter()
        .flatten()
        .filter_map(|&i| orders.part[i])
        .chain(city_changed.iter().filter_map(|&id| old_part(id)))
        .collect();
    let mut parts = load_parts(previous, &loaded, &stage_codes, &city_codes)?;

    // Published conversations this run changed, in order-id order: (position in the order
    // book, part before, new state).
    let mut updated: Vec<(usize, Option<Part>, StateRow)> = Vec::with_capacity(new_states.len());
    for ((id, state), position) in new_states.into_iter().zip(found) {
        let messages = (state.courier_messages + state.customer_messages) as u64;
        let before_part = position.and_then(|i| orders.part[i]);
        let base = match before_part {
            Some(part) => Some(stored_row(previous, &parts, part, id)?),
            None => waiting.remove(&id),
        };
        let from_waiting = base.is_some() && before_part.is_none();
        let row = match base {
            Some(mut row) => {
                row.state.merge(&state);
                row
            }
            None => StateRow {
                order_id: id,
                state,
                first_seen_run: generation,
                city: 0,
            },
        };
        match position {
            Some(position) => {
                let row = StateRow {
                    city: orders.city[position],
                    ..row
                };
                counts.messages_published += messages;
                counts.conversations_changed += 1;
                counts.conversations_released += u64::from(from_waiting);
                updated.push((position, before_part, row));
            }
            None => {
                counts.messages_waiting += messages;
                waiting.insert(id, row);
            }
        }
    }
    // Waiting conversations whose order arrived in this run are published now.
    let mut released: Vec<(usize, i64)> = waiting
        .keys()
        .filter_map(|&id| orders.find(id).map(|i| (i, id)))
        .collect();
    if !released.is_empty() {
        released.sort_unstable();
        for (position, id) in released {
            let row = StateRow {
                city: orders.city[position],
                ..waiting.remove(&id).expect("listed above")
            };
            counts.conversations_changed += 1;
            counts.conversations_released += 1;
            updated.push((position, None, row));
        }
        updated.sort_unstable_by_key(|(position, _, _)| *position);
    }
    // A new city alone changes the row's output, not its state.
    let recolored: FxHashSet<i64> = city_changed
        .iter()
        .copied()
        .filter(|&id| old_part(id).is_some())
        .filter(|id| {
            updated
                .binary_search_by_key(id, |(_, _, r)| r.order_id)
                .is_err()
        })
        .collect();
    counts.conversations_changed += recolored.len() as u64;

    // A conversation that moved to a part not loaded yet: that part is rewritten too.
    let new_part = |row: &StateRow| Part::of(row.state.first.time);
    let parts_now: BTreeSet<Part> = updated.iter().map(|(_, _, r)| new_part(r)).collect();
    let extra: BTreeSet<Part> = parts_now
        .iter()
        .copied()
        .filter(|p| !loaded.contains(p))
        .filter(|p| previous.is_some_and(|g| g.manifest.parts.contains_key(p)))
        .collect();
    parts.extend(load_parts(previous, &extra, &stage_codes, &city_codes)?);
    loaded.extend(parts_now);
    counts.conversations_moved = updated
        .iter()
        .filter(|(_, before, row)| before.is_some_and(|p| p != new_part(row)))
        .count() as u64;

    // Each rewritten part: its stored rows without the updated ones, merged with the
    // updated rows that now belong to it, in order-id order. `updated` is in order-id
    // order, so each part's lists are too.
    let mut leaving: BTreeMap<Part, Vec<i64>> = BTreeMap::new();
    for (_, before, row) in &updated {
        if let Some(part) = before {
            leaving.entry(*part).or_default().push(row.order_id);
        }
    }
    let mut recolored_in: BTreeMap<Part, Vec<i64>> = BTreeMap::new();
    for &id in &recolored {
        let part = old_part(id).expect("a recolored order has a part");
        recolored_in.entry(part).or_default().push(id);
    }
    recolored_in
        .values_mut()
        .for_each(|ids| ids.sort_unstable());
    let mut arriving: BTreeMap<Part, Vec<StateRow>> = BTreeMap::new();
    for (position, _, row) in updated {
        if orders.part[position] != Some(new_part(&row)) {
            orders.part[position] = Some(new_part(&row));
            changed_orders.push(row.order_id);
        }
        arriving.entry(new_part(&row)).or_default().push(row);
    }
    // The parts are independent: each is merged and finished on its own thread.
    let mut jobs: Vec<PartJob> = loaded
        .iter()
        .map(|p| PartJob {
            part: *p,
            stored: parts.remove(p).unwrap_or_default(),
            incoming: arriving.remove(p).unwrap_or_default(),
            leaving: leaving.remove(p).unwrap_or_default(),
            recolored: recolored_in.remove(p).unwrap_or_default(),
        })
        .collect();
    // Largest first, one part per task: a handful of parts of skewed sizes (an evening's
    // busy hours) then keep every thread busy to the end, where halving the list would not.
    jobs.sort_by_key(|job| std::cmp::Reverse(job.stored.most_rows() + job.incoming.len()));
    let orders_now = &orders;
    let mut rebuilt: Vec<RebuiltPart> = jobs
        .into_par_iter()
        .with_max_len(1)
        .map(|job| job.rebuild(orders_now, &stages))
        .collect();
    rebuilt.sort_unstable_by_key(|r| r.part);
    let mut partitions = Vec::with_capacity(rebuilt.len());
    let mut changed_rows: Vec<OutputRow> = Vec::new();
    let mut state_parts: BTreeMap<Part, PartState> = BTreeMap::new();
    for RebuiltPart {
        part,
        state,
        partition,
        changed_rows: changed,
    } in rebuilt
    {
        partitions.extend(partition);
        changed_rows.extend(changed);
        if state.rows > 0 {
            state_parts.insert(part, state);
        }
    }
    // The shards read whose orders changed are written again; the others are linked.
    let changed_shards: BTreeSet<usize> = match previous {
        Some(g) if !old_shards.is_empty() => changed_orders
            .iter()
            .map(|&id| g.manifest.shard_of(id))
            .collect(),
        _ => BTreeSet::new(),
    };
    let shards = plan_shards(&old_shards, &touched_shards, &changed_shards, &orders);
    let mut waiting: Vec<StateRow> = waiting.into_values().collect();
    waiting.sort_unstable_by_key(|r| r.order_id);

    Ok(Folded {
        partitions,
        changed: ConversationTable {
            rows: changed_rows,
            cities: orders.cities.clone(),
            stages: stages.clone(),
        },
        rewritten: loaded,
        state_parts,
        waiting,
        orders,
        shards,
        manifest_cities,
        city_codes,
        manifest_stages,
        stage_codes,
        stages,
        quarantine: Quarantine {
            messages: aggregate.unusable,
            orphans: Vec::new(),
            orders: book.unusable,
        },
        counts,
        late,
        cross_run_conflicts,
    })
}

/// One part to rebuild: its stored state, the changed rows that now belong to it, and
/// the orders that leave its stored rows or only change city (each list sorted by id).
struct PartJob {
    part: Part,
    stored: StoredPart,
    incoming: Vec<StateRow>,
    leaving: Vec<i64>,
    recolored: Vec<i64>,
}

impl PartJob {
    /// The part after the run, its rows walked once: each goes into the output chunk, the
    /// state's write and the totals as it comes, and no vector of every row is built.
    fn rebuild(self, orders: &OrdersState, stages: &Dictionary) -> RebuiltPart {
        let PartJob {
            part,
            stored,
            incoming,
            leaving,
            recolored,
        } = self;
        // The orders whose rows in this part may differ from the stored ones.
        let mut touched: Vec<i64> = incoming
            .iter()
            .map(|r| r.order_id)
            .chain(leaving.iter().copied())
            .chain(recolored.iter().copied())
            .collect();
        touched.sort_unstable();
        touched.dedup();
        let mut rebuilt = Rebuilder {
            write: WriteCollector::new(&stored, plan_write(&stored, &touched)),
            columns: TableColumns::for_rows(
                stored.most_rows() + incoming.len(),
                &orders.cities,
                stages,
            ),
            recolored: recolored.into_iter().peekable(),
            changed_rows: Vec::new(),
            rows: 0,
            messages: 0,
            newest: None,
            orders,
            stages,
        };
        // Rows of touched orders come one by one; the unchanged rows between them, in runs.
        let mut incoming = incoming.into_iter().peekable();
        let mut leaving = leaving.into_iter().peekable();
        for stored in stored.walk(&touched) {
            let first = stored.first_id();
            while let Some(row) = incoming.next_if(|r| r.order_id < first) {
                rebuilt.row(row, true);
            }
            match stored {
                Stored::Row(row) => {
                    while leaving.next_if(|&id| id < row.order_id).is_some() {}
                    if leaving.next_if_eq(&row.order_id).is_none() {
                        rebuilt.row(row, false);
                    }
                }
                Stored::Run(batch, range) => rebuilt.run(batch, range),
            }
        }
        incoming.for_each(|row| rebuilt.row(row, true));
        let Rebuilder {
            write,
            columns,
            changed_rows,
            rows,
            messages,
            newest,
            ..
        } = rebuilt;
        RebuiltPart {
            part,
            state: PartState {
                write: write.finish(),
                rows,
                messages,
                newest,
            },
            partition: (rows > 0).then(|| Partition::new(part, columns)),
            changed_rows,
        }
    }
}

/// One part's rows after the run, taken in order: each goes into the output columns, the
/// state's write and the totals as it comes.
struct Rebuilder<'a> {
    write: WriteCollector<'a>,
    columns: TableColumns,
    recolored: std::iter::Peekable<std::vec::IntoIter<i64>>,
    changed_rows: Vec<OutputRow>,
    rows: u64,
    messages: u64,
    newest: Option<i64>,
    orders: &'a OrdersState,
    stages: &'a Dictionary,
}

impl Rebuilder<'_> {
    /// One row, `changed` when this run changed it.
    fn row(&mut self, mut row: StateRow, mut changed: bool) {
        while self.recolored.next_if(|&id| id < row.order_id).is_some() {}
        if self.recolored.next_if_eq(&row.order_id).is_some() {
            let position = self.orders.find(row.order_id).expect("a recolored order");
            row.city = self.orders.city[position];
            changed = true;
        }
        if changed {
            self.changed_rows.push(output_row(&row));
        }
        self.write.push(&row);
        self.rows += 1;
        self.messages += (row.state.courier_messages + row.state.customer_messages) as u64;
        self.newest = self.newest.max(Some(row.state.last.time));
        let conversation = row.state.finish(row.order_id);
        self.columns
            .push_conversation(&conversation, row.city, &self.orders.cities, self.stages);
    }

    /// Stored rows this run left as they were (no break among them), a column at a time.
    fn run(&mut self, batch: &CheckedBatch, range: std::ops::Range<usize>) {
        if self.write.needs_every_row() {
            range.clone().for_each(|i| self.write.push(&batch.row(i)));
        }
        self.rows += range.len() as u64;
        self.messages += batch.messages(range.clone());
        self.newest = self.newest.max(batch.newest(range.clone()));
        self.columns.extend(
            &batch.conversations(range),
            &self.orders.cities,
            self.stages,
        );
    }
}

/// One part after the fold: its state, its output chunk (none when no row is left) and
/// the output rows that changed.
struct RebuiltPart {
    part: Part,
    state: PartState,
    partition: Option<Partition>,
    changed_rows: Vec<OutputRow>,
}

/// The output row of a stored conversation.
fn output_row(row: &StateRow) -> OutputRow {
    OutputRow {
        conversation: row.state.finish(row.order_id),
        city: row.city,
    }
}

/// One shard of the order book after a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardPlan {
    /// Not read by this run: linked from the previous generation.
    Keep(OrderShard),
    /// Written by this run: `orders[range]` of [`Folded::orders`].
    Write {
        /// The smallest id of its range.
        first_id: i64,
        /// Its rows in [`Folded::orders`].
        range: std::ops::Range<usize>,
    },
}

/// Orders per shard of the order book; a shard that grows past twice this is split.
const SHARD_ROWS: usize = 1 << 16;

/// The shards after this run: the ones not read kept; the ones read (their rows, with
/// this run's new orders, are `orders` in id order) kept when none of their orders
/// changed, else written again, split when grown too large.
fn plan_shards(
    old: &[OrderShard],
    read: &BTreeSet<usize>,
    changed: &BTreeSet<usize>,
    orders: &OrdersState,
) -> Vec<ShardPlan> {
    fn pieces(
        plan: &mut Vec<ShardPlan>,
        orders: &OrdersState,
        first_id: i64,
        range: std::ops::Range<usize>,
    ) {
        if range.len() <= 2 * SHARD_ROWS {
            if !range.is_empty() {
                plan.push(ShardPlan::Write { first_id, range });
            }
            return;
        }
        for start in range.clone().step_by(SHARD_ROWS) {
            let end = (start + SHARD_ROWS).min(range.end);
            let first_id = if start == range.start {
                first_id
            } else {
                orders.ids[start]
            };
            plan.push(ShardPlan::Write {
                first_id,
                range: start..end,
            });
        }
    }
    let mut plan = Vec::new();
    if old.is_empty() {
        pieces(&mut plan, orders, i64::MIN, 0..orders.len());
        return plan;
    }
    let mut start = 0;
    for (k, shard) in old.iter().enumerate() {
        if !read.contains(&k) {
            plan.push(ShardPlan::Keep(shard.clone()));
            continue;
        }
        let end = match old.get(k + 1) {
            Some(next) => start + orders.ids[start..].partition_point(|&id| id < next.first_id),
            None => orders.len(),
        };
        if !changed.contains(&k) {
            plan.push(ShardPlan::Keep(shard.clone()));
        } else {
            pieces(&mut plan, orders, shard.first_id, start..end);
        }
        start = end;
    }
    debug_assert_eq!(start, orders.len(), "every order read lies in a read shard");
    plan
}

/// An append-only manifest list (none on a first run) with the strings of `arrived` it
/// lacks added at its end in string order; the run's dictionary of the same strings; and
/// the mapping between the two.
fn grown_list(
    stored: Option<&Vec<String>>,
    arrived: &[String],
) -> (Vec<String>, Dictionary, ListCodes) {
    let mut list = stored.cloned().unwrap_or_default();
    let known: FxHashSet<&str> = list.iter().map(String::as_str).collect();
    let mut new: Vec<String> = arrived
        .iter()
        .filter(|v| !known.contains(v.as_str()))
        .cloned()
        .collect();
    new.sort_unstable();
    new.dedup();
    list.extend(new);
    let run = Dictionary::from_values(list.clone());
    let codes = ListCodes::new(&list, &run);
    (list, run, codes)
}

/// The state of some published parts, each part's rows sorted by order id.
fn load_parts(
    previous: Option<&Generation>,
    parts: &BTreeSet<Part>,
    stages: &ListCodes,
    cities: &ListCodes,
) -> Result<BTreeMap<Part, StoredPart>, IncrementalError> {
    let Some(generation) = previous else {
        return Ok(BTreeMap::new());
    };
    parts
        .par_iter()
        .map(|&part| Ok((part, generation.read_part(part, stages, cities)?)))
        .collect()
}

/// The stored row of `id` in the loaded `part` (the order book says it is there); a part
/// that does not hold it is damage, named by its state file.
fn stored_row(
    previous: Option<&Generation>,
    parts: &BTreeMap<Part, StoredPart>,
    part: Part,
    id: i64,
) -> Result<StateRow, IncrementalError> {
    parts
        .get(&part)
        .and_then(|stored| stored.get(id))
        .ok_or_else(|| IncrementalError::Corrupt {
            path: previous.map_or_else(|| part.to_string().into(), |g| g.part_path(part)),
            message: format!(
                "the order book places order {id} in this part, which does not hold it"
            ),
        })
}

/// Positions in `ids` (ascending) of `wanted` (ascending), none for an id not there: a
/// galloping search from the previous position, so a sorted batch costs a walk.
fn find_sorted(ids: &[i64], wanted: impl Iterator<Item = i64>) -> Vec<Option<usize>> {
    let mut from = 0;
    wanted
        .map(|id| {
            let mut step = 1;
            while from + step < ids.len() && ids[from + step] < id {
                from += step;
                step *= 2;
            }
            let end = (from + step + 1).min(ids.len());
            from += ids[from..end].partition_point(|&x| x < id);
            (ids.get(from) == Some(&id)).then_some(from)
        })
        .collect()
}

/// The stored order book with this run's orders merged in.
struct MergedOrders {
    /// The book.
    orders: OrdersState,
    /// Orders with a published conversation whose city changed (their part must be
    /// rewritten).
    city_changed: Vec<i64>,
    /// Orders whose new city differs from the stored one.
    cross_run: Vec<i64>,
    /// Orders new to the book or whose stored row changed (city or conflict flag): their
    /// shards are written again.
    changed_orders: Vec<i64>,
}

/// Merges this run's order book into the stored one.
fn merge_orders(old: OrdersState, book: &OrderBook, counts: &mut FoldCounts) -> MergedOrders {
    let cities = Dictionary::from_values(
        old.cities
            .values()
            .iter()
            .chain(book.cities.values())
            .cloned()
            .collect(),
    );
    let recode = |from: &Dictionary| -> Vec<u32> {
        std::iter::once(0)
            .chain(
                from.values()
                    .iter()
                    .map(|s| cities.code(s).expect("in the union")),
            )
            .collect()
    };
    let (old_codes, new_codes) = (recode(&old.cities), recode(&book.cities));
    let conflicting_now: FxHashSet<i64> = book.conflicting.iter().copied().collect();
    let mut incoming: Vec<(i64, u32)> = book
        .partitions
        .iter()
        .flatten()
        .map(|(&id, &city)| (id, new_codes[city as usize]))
        .collect();
    incoming.sort_unstable();
    counts.orders_duplicate_rows += book.duplicate_rows;
    counts.orders_conflicting += conflicting_now.len() as u64;

    let n = old.len() + incoming.len();
    let mut merged = OrdersState {
        ids: Vec::with_capacity(n),
        city: Vec::with_capacity(n),
        cities: Dictionary::default(),
        conflicting: Vec::with_capacity(n),
        part: Vec::with_capacity(n),
    };
    let mut city_changed = Vec::new();
    let mut cross_run = Vec::new();
    let mut changed_orders = Vec::new();
    let mut next = incoming.into_iter();
    let mut i = 0;
    // The old orders between two incoming ones are copied in runs; only the incoming
    // orders are looked at one by one.
    while i < old.len() {
        let Some((new_id, new_city)) = next.next() else {
            merged.append(&old, i..old.len(), &old_codes);
            break;
        };
        let end = i + old.ids[i..].partition_point(|&id| id < new_id);
        merged.append(&old, i..end, &old_codes);
        i = end;
        if old.ids.get(i) != Some(&new_id) {
            counts.orders_new += 1;
            changed_orders.push(new_id);
            merged.push(new_id, new_city, conflicting_now.contains(&new_id), None);
            continue;
        }
        let (id, city) = (new_id, old_codes[old.city[i] as usize]);
        counts.orders_duplicate_rows += 1;
        let differs = new_city != city;
        if differs {
            cross_run.push(id);
        }
        if differs && !old.conflicting[i] && !conflicting_now.contains(&id) {
            counts.orders_conflicting += 1;
        }
        let smallest = city.min(new_city);
        if smallest != city && old.part[i].is_some() {
            city_changed.push(id);
        }
        let conflicting = old.conflicting[i] || differs || conflicting_now.contains(&id);
        if smallest != city || conflicting != old.conflicting[i] {
            changed_orders.push(id);
        }
        merged.push(id, smallest, conflicting, old.part[i]);
        i += 1;
    }
    for (new_id, new_city) in next {
        counts.orders_new += 1;
        changed_orders.push(new_id);
        merged.push(new_id, new_city, conflicting_now.contains(&new_id), None);
    }
    merged.cities = cities;
    MergedOrders {
        orders: merged,
        city_changed,
        cross_run,
        changed_orders,
    }
}

/// Usable new messages older than the watermark (a message is usable when it has an
/// order id, a time and a sender role: the ones that are folded in).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::incremental::Manifest;

    fn book(ids: Vec<i64>) -> OrdersState {
        let n = ids.len();
        OrdersState {
            ids,
            city: vec![1; n],
            cities: Dictionary::from_values(vec!["BCN".into()]),
            conflicting: vec![false; n],
            part: vec![None; n],
        }
    }

    fn shard(first_id: i64, rows: u64, file: &str) -> OrderShard {
        OrderShard {
            first_id,
            rows,
            file: file.into(),
        }
    }

    #[test]
    fn untouched_shards_are_kept_and_touched_ones_take_their_new_orders() {
        let old = vec![
            shard(i64::MIN, 3, "a"),
            shard(100, 2, "b"),
            shard(500, 4, "c"),
        ];
        // Shard 1 was read (ids 100 and 150) and gained 120 and 499.
        let read = book(vec![100, 150]);
        let (read_shards, changed) = (BTreeSet::from([1]), BTreeSet::from([1]));
        let orders = book(vec![100, 120, 150, 499]);
        let plan = plan_shards(&old, &read_shards, &changed, &orders);
        assert_eq!(
            plan,
            vec![
                ShardPlan::Keep(old[0].clone()),
                ShardPlan::Write {
                    first_id: 100,
                    range: 0..4
                },
                ShardPlan::Keep(old[2].clone()),
            ]
        );
        // Read and not changed (no new order, no new city or part): linked, not written.
        assert_eq!(
            plan_shards(&old, &read_shards, &BTreeSet::new(), &read),
            old.iter().cloned().map(ShardPlan::Keep).collect::<Vec<_>>()
        );
        let manifest = Manifest {
            order_shards: old,
            ..Manifest::default()
        };
        assert_eq!(
            [-7, 99, 100, 499, 500, i64::MAX].map(|id| manifest.shard_of(id)),
            [0, 0, 1, 1, 2, 2]
        );
    }

    #[test]
    fn a_shard_grown_past_twice_its_size_is_split() {
        let n = 2 * SHARD_ROWS + 1;
        let orders = book((0..n as i64).map(|i| i * 2).collect());
        let plan = plan_shards(&[], &BTreeSet::new(), &BTreeSet::new(), &orders);
        assert_eq!(
            plan,
            vec![
                ShardPlan::Write {
                    first_id: i64::MIN,
                    range: 0..SHARD_ROWS
                },
                ShardPlan::Write {
                    first_id: 2 * SHARD_ROWS as i64,
                    range: SHARD_ROWS..2 * SHARD_ROWS
                },
                ShardPlan::Write {
                    first_id: 4 * SHARD_ROWS as i64,
                    range: 2 * SHARD_ROWS..n
                },
            ]
        );
    }

    #[test]
    fn find_sorted_walks_both_lists() {
        let ids = [1, 4, 9, 16, 25, 36];
        let found = find_sorted(&ids, [0, 4, 5, 25, 36, 40].into_iter());
        assert_eq!(found, [None, Some(1), None, Some(4), Some(5), None]);
    }
}
