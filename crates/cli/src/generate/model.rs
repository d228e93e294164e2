//! The data model of the generator: what one order and its conversation look like, drawn
//! from per-order random streams so that any order can be generated alone, in any
//! thread, and always comes out the same.
//!
//! Every order `i` has three independent ChaCha8 streams derived from `(seed, i)`: the
//! *model* stream (ids, city, times, roles, stages), the *dirty* stream (which records are
//! broken and how) and the *late* stream (which records go to a later file). Because they
//! are independent, `--dirty` and `--late` change only what they inject: the underlying
//! conversations are the same as with clean, on-time data.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::dirty::{DirtyColumns, Injection};
use super::GenerateOptions;
use ccc_ingest::schema::Table;

/// `orderStage` values; the first six are the normal progression, in order.
pub(crate) const STAGES: [&str; 8] = [
    "ACCEPTED",
    "IN_PROGRESS",
    "PICKED_UP",
    "ON_ROUTE",
    "ARRIVED",
    "DELIVERED",
    "CANCELLED",
    "FAILED",
];
const CANCELLED: u8 = 6;
const FAILED: u8 = 7;
const DELIVERED: u8 = 5;
const ARRIVED: u8 = 4;

/// `cityCode` values.
pub(crate) const CITIES: [&str; 10] = [
    "BCN", "MAD", "LIS", "OPO", "MIL", "ROM", "PAR", "WAW", "BUH", "IEV",
];
const CITY_WEIGHTS: [u32; 10] = [18, 20, 8, 5, 12, 12, 15, 5, 3, 2];

/// `senderAppType` values; indexes 0–1 are customers, 2–3 couriers.
pub(crate) const APP_TYPES: [&str; 4] = [
    "Customer iOS",
    "Customer Android",
    "Courier iOS",
    "Courier Android",
];

/// Offsets of `messageSentTime` text, in minutes east of UTC. Index 0 is written `Z`,
/// the last one (also 0) is written `+00:00`.
pub(crate) const OFFSETS: [i16; 7] = [0, 60, 120, -180, 330, -300, 0];

/// Weights of 1..=12 messages per order (mean ≈ 6.6).
const COUNT_WEIGHTS: [u32; 12] = [5, 7, 8, 9, 10, 10, 10, 10, 9, 8, 7, 7];

/// Relative traffic per UTC hour of day: quiet nights, lunch and dinner peaks.
const HOUR_WEIGHTS: [f64; 24] = [
    1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.0, 2.0, 3.0, 3.5, 4.0, 5.0, 7.0, 6.0, 4.0, 3.5, 3.5, 4.5, 6.5,
    8.0, 7.0, 5.0, 3.0, 1.8,
];
/// Relative traffic per day, Thursday 2024-02-01 first: busier weekend.
const DAY_WEIGHTS: [f64; 7] = [1.0, 1.1, 1.25, 1.2, 0.95, 0.95, 1.0];

/// 2024-02-01T00:00:00Z in seconds since the epoch: where generated time starts.
pub(crate) const START_SECONDS: i64 = 1_706_745_600;
/// The days over which conversations start; file `k` of `K` holds the `k`-th slice.
pub(crate) const DAYS: i64 = 7;
const WINDOW_MICROS: i64 = DAYS * 86_400 * 1_000_000;

/// Most messages one order has.
pub(crate) const MAX_MESSAGES: usize = 12;

const STREAM_MODEL: u64 = 0;
const STREAM_DIRTY: u64 = 1;
const STREAM_LATE: u64 = 2;

/// One chat message, fully resolved (values, target file and any injection).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Message {
    pub(crate) order_id: i64,
    pub(crate) customer_id: i64,
    pub(crate) courier_id: i64,
    /// `messageSentTime`, UTC microseconds.
    pub(crate) time: i64,
    /// Index of the order (0-based): with `seq`, a unique sort key.
    pub(crate) order_index: u64,
    /// Position in the conversation, 0-based.
    pub(crate) seq: u8,
    /// Index into [`STAGES`].
    pub(crate) stage: u8,
    /// Index into [`APP_TYPES`].
    pub(crate) app: u8,
    /// Index into [`OFFSETS`]: how the time is written as text.
    pub(crate) offset: u8,
    /// 0-based file number the record is written to.
    pub(crate) file: u32,
    /// Written to a later file than its time slice.
    pub(crate) late: bool,
    /// The one broken field, if the record is dirty.
    pub(crate) dirty: Option<Injection>,
}

impl Message {
    /// True when the sender is the courier.
    pub(crate) fn by_courier(&self) -> bool {
        self.app >= 2
    }

    /// `fromId`: the sender's id.
    pub(crate) fn sender_id(&self) -> i64 {
        if self.by_courier() {
            self.courier_id
        } else {
            self.customer_id
        }
    }

    /// `toId`: the receiver's id.
    pub(crate) fn receiver_id(&self) -> i64 {
        if self.by_courier() {
            self.customer_id
        } else {
            self.courier_id
        }
    }
}

/// One `orders` record (an order has one, a few have two identical ones).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct OrderRow {
    pub(crate) order_id: i64,
    /// Index into [`CITIES`].
    pub(crate) city: u8,
    /// When the record was emitted (sort key within a block).
    pub(crate) time: i64,
    pub(crate) order_index: u64,
    /// The second, identical record of an order.
    pub(crate) duplicate: bool,
    pub(crate) file: u32,
    /// Written to a later file than every message of the order.
    pub(crate) late: bool,
    pub(crate) dirty: Option<Injection>,
}

/// The records of a range of orders, each table sorted by time.
#[derive(Debug, Default)]
pub(crate) struct Block {
    pub(crate) messages: Vec<Message>,
    pub(crate) orders: Vec<OrderRow>,
    /// Orders whose record went to a later file (counted once even when duplicated).
    pub(crate) late_orders: u64,
}

/// Everything that is the same for every order of a run.
pub(crate) struct Model {
    orders: u64,
    files: u32,
    dirty: f64,
    /// Probability that an eligible record is late (0 with one file).
    late: f64,
    base: ChaCha8Rng,
    /// Cumulative traffic weight through each hour of the window.
    cumulative: Vec<f64>,
    hour_weight: Vec<f64>,
    customer_pool: i64,
    courier_pool: i64,
    message_dirt: DirtyColumns,
    order_dirt: DirtyColumns,
}

impl Model {
    /// Prepares the model for `options`.
    pub(crate) fn new(options: &GenerateOptions) -> Model {
        let mut hour_weight = Vec::with_capacity(24 * DAYS as usize);
        for day in DAY_WEIGHTS {
            hour_weight.extend(HOUR_WEIGHTS.iter().map(|h| h * day));
        }
        let cumulative = hour_weight
            .iter()
            .scan(0.0, |sum, w| {
                *sum += w;
                Some(*sum)
            })
            .collect();
        // Spread late records so that about `late` of all records are late: records in
        // the last slice cannot be, so the others are late a little more often.
        let late = if options.files > 1 {
            let k = f64::from(options.files);
            (options.late * k / (k - 1.0)).min(1.0)
        } else {
            0.0
        };
        Model {
            orders: options.orders,
            files: options.files,
            dirty: options.dirty,
            late,
            base: ChaCha8Rng::seed_from_u64(options.seed),
            cumulative,
            hour_weight,
            customer_pool: (options.orders as i64 * 3 / 4).max(1_000),
            courier_pool: (options.orders as i64 / 25).max(50),
            message_dirt: DirtyColumns::new(Table::ChatMessages, options.format),
            order_dirt: DirtyColumns::new(Table::Orders, options.format),
        }
    }

    /// The random stream `stream` of order `index`.
    fn rng(&self, index: u64, stream: u64) -> ChaCha8Rng {
        let mut rng = self.base.clone();
        rng.set_stream(index.wrapping_mul(4).wrapping_add(stream));
        rng
    }

    /// The time slice (= file number) of a UTC microsecond instant.
    pub(crate) fn slice(&self, micros: i64) -> u32 {
        let since = (micros - START_SECONDS * 1_000_000).clamp(0, WINDOW_MICROS - 1);
        ((since as i128 * i128::from(self.files)) / i128::from(WINDOW_MICROS)) as u32
    }

    /// When order `index` starts (whole seconds): the inverse of the traffic curve at the
    /// order's quantile, so orders are in time order and blocks are time slices.
    fn start_time(&self, index: u64, jitter: f64) -> i64 {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let q = (index as f64 + jitter) / self.orders.max(1) as f64 * total;
        let hour = self
            .cumulative
            .partition_point(|&c| c <= q)
            .min(self.cumulative.len() - 1);
        let before = if hour == 0 {
            0.0
        } else {
            self.cumulative[hour - 1]
        };
        let within = ((q - before) / self.hour_weight[hour]).clamp(0.0, 0.999_999);
        let seconds = hour as i64 * 3600 + (within * 3600.0) as i64;
        (START_SECONDS + seconds) * 1_000_000
    }

    /// Generates orders `first..end`: their messages and order records, each table in
    /// time order (ties by order, then position), with files, lateness and dirt decided.
    pub(crate) fn block(&self, first: u64, end: u64) -> Block {
        let mut block = Block {
            messages: Vec::with_capacity(((end - first) * 7) as usize),
            orders: Vec::with_capacity((end - first) as usize + 8),
            late_orders: 0,
        };
        for index in first..end {
            self.order(index, &mut block);
        }
        block
            .messages
            .sort_unstable_by_key(|m| (m.time, m.order_index, m.seq));
        block
            .orders
            .sort_unstable_by_key(|o| (o.time, o.order_index, o.duplicate));
        block
    }

    fn order(&self, index: u64, block: &mut Block) {
        let mut r = self.rng(index, STREAM_MODEL);
        let id_kind: f64 = r.gen();
        let small_id = 100_000_000 + index as i64 * 8 + r.gen_range(0..8);
        // Some ids above 2^53 (odd, so a trip through f64 changes them) and a few above 2^62.
        let order_id = if id_kind < 0.02 {
            (1_i64 << 53) + 1 + 2 * index as i64
        } else if id_kind < 0.025 {
            (1_i64 << 62) + 1 + 2 * index as i64
        } else {
            small_id
        };
        let start = self.start_time(index, r.gen());
        let customer_id = 17_000_000 + r.gen_range(0..self.customer_pool);
        let courier_id = 5_000 + r.gen_range(0..self.courier_pool);
        let city = weighted(&mut r, &CITY_WEIGHTS) as u8;
        let customer_app: u8 = if r.gen_bool(0.45) { 0 } else { 1 };
        let courier_app: u8 = if r.gen_bool(0.3) { 2 } else { 3 };
        let n = weighted(&mut r, &COUNT_WEIGHTS) + 1;

        // Who writes: mostly both roles, some conversations by one role only.
        let mut courier = [false; MAX_MESSAGES];
        let mode: f64 = r.gen();
        if n == 1 {
            courier[0] = r.gen_bool(0.45);
        } else if mode < 0.06 {
            courier[..n].fill(true);
        } else if mode < 0.12 {
            courier[..n].fill(false);
        } else {
            courier[0] = r.gen_bool(0.45);
            for i in 1..n {
                courier[i] = if r.gen_bool(0.65) {
                    !courier[i - 1]
                } else {
                    courier[i - 1]
                };
            }
            if courier[..n].iter().all(|&c| c == courier[0]) {
                let flip = r.gen_range(1..n);
                courier[flip] = !courier[0];
            }
        }

        // The order stage moves forward along the conversation; some orders end
        // cancelled or failed.
        let outcome: f64 = r.gen();
        let terminal = if outcome < 0.08 {
            Some(CANCELLED)
        } else if outcome < 0.12 {
            Some(FAILED)
        } else {
            None
        };
        let first_stage = r.gen_range(0..=2u8);
        let last_stage = r.gen_range(
            first_stage..=if terminal.is_some() {
                ARRIVED
            } else {
                DELIVERED
            },
        );
        let mut stages = [0u8; MAX_MESSAGES];
        for s in stages.iter_mut().take(n) {
            *s = r.gen_range(first_stage..=last_stage);
        }
        stages[..n].sort_unstable();
        stages[0] = first_stage;
        if n > 1 {
            stages[n - 1] = last_stage;
        }
        if let Some(t) = terminal {
            stages[n - 1] = t;
        }

        // Times: seconds to minutes apart, some exact ties, some fractional seconds,
        // written mostly in UTC and sometimes with an offset.
        let first_message = block.messages.len();
        let mut time = start;
        for i in 0..n {
            if i > 0 && !r.gen_bool(0.07) {
                let whole = time.div_euclid(1_000_000) * 1_000_000;
                time = whole + gap_seconds(&mut r) * 1_000_000 + fraction(&mut r);
            } else if i == 0 {
                time += fraction(&mut r);
            }
            let offset = if r.gen_bool(0.8) {
                0
            } else {
                r.gen_range(1..OFFSETS.len()) as u8
            };
            let app = if courier[i] {
                courier_app
            } else {
                customer_app
            };
            block.messages.push(Message {
                order_id,
                customer_id,
                courier_id,
                time,
                order_index: index,
                seq: i as u8,
                stage: stages[i],
                app,
                offset,
                file: 0,
                late: false,
                dirty: None,
            });
        }
        let duplicate = r.gen_bool(0.01);
        let messages = &mut block.messages[first_message..];

        // Files: by time slice; late ones to a later file.
        for m in messages.iter_mut() {
            m.file = self.slice(m.time);
        }
        let mut order_file = messages[0].file;
        let mut order_late = false;
        if self.late > 0.0 {
            let mut lr = self.rng(index, STREAM_LATE);
            let last = self.files - 1;
            for m in messages.iter_mut() {
                if m.file < last && lr.gen_bool(self.late) {
                    m.file = lr.gen_range(m.file + 1..=last);
                    m.late = true;
                }
            }
            let latest = messages.iter().map(|m| m.file).max().unwrap_or(0);
            if latest < last && lr.gen_bool(self.late) {
                order_file = lr.gen_range(latest + 1..=last);
                order_late = true;
                block.late_orders += 1;
            }
        }

        let row = OrderRow {
            order_id,
            city,
            time: messages[0].time,
            order_index: index,
            duplicate: false,
            file: order_file,
            late: order_late,
            dirty: None,
        };
        let last_time = messages[n - 1].time;
        let first_row = block.orders.len();
        block.orders.push(row);
        if duplicate {
            block.orders.push(OrderRow {
                duplicate: true,
                time: last_time,
                ..row
            });
        }

        if self.dirty > 0.0 {
            let mut dr = self.rng(index, STREAM_DIRTY);
            for m in messages.iter_mut() {
                if dr.gen_bool(self.dirty) {
                    m.dirty = Some(self.message_dirt.pick(&mut dr));
                }
            }
            for o in block.orders[first_row..].iter_mut() {
                if dr.gen_bool(self.dirty) {
                    o.dirty = Some(self.order_dirt.pick(&mut dr));
                }
            }
        }
    }
}

/// An index drawn with the given weights.
fn weighted(r: &mut ChaCha8Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut x = r.gen_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        if x < w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Seconds between two messages: mostly under two minutes, sometimes much longer.
fn gap_seconds(r: &mut ChaCha8Rng) -> i64 {
    let x: f64 = r.gen();
    if x < 0.6 {
        r.gen_range(5..=120)
    } else if x < 0.9 {
        r.gen_range(120..=600)
    } else {
        r.gen_range(600..=2400)
    }
}

/// Microseconds past the second: usually none; else quarters (`.25`), milliseconds
/// (`.123`) or microseconds (`.123456`).
fn fraction(r: &mut ChaCha8Rng) -> i64 {
    if !r.gen_bool(0.15) {
        return 0;
    }
    let x: f64 = r.gen();
    if x < 0.4 {
        250_000 * r.gen_range(1..4)
    } else if x < 0.7 {
        1_000 * r.gen_range(1..1_000)
    } else {
        r.gen_range(1..1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn model(orders: u64, files: u32) -> Model {
        Model::new(&GenerateOptions {
            orders,
            files,
            ..Default::default()
        })
    }

    #[test]
    fn conversations_are_realistic() {
        let m = model(3000, 1);
        let block = m.block(0, 3000);
        let mut by_order: BTreeMap<u64, Vec<Message>> = BTreeMap::new();
        for msg in &block.messages {
            by_order.entry(msg.order_index).or_default().push(*msg);
        }
        assert_eq!(by_order.len(), 3000);
        let (mut both, mut courier_only, mut customer_only, mut ties, mut big_ids) =
            (0, 0, 0, 0, 0);
        let mut ends = BTreeSet::new();
        for msgs in by_order.values_mut() {
            msgs.sort_by_key(|m| m.seq);
            assert!((1..=MAX_MESSAGES).contains(&msgs.len()));
            let couriers = msgs.iter().filter(|m| m.by_courier()).count();
            match (couriers, msgs.len() - couriers) {
                (0, _) => customer_only += 1,
                (_, 0) => courier_only += 1,
                _ => both += 1,
            }
            ties += msgs.windows(2).filter(|w| w[0].time == w[1].time).count();
            assert!(msgs.windows(2).all(|w| w[0].time <= w[1].time));
            let normal: Vec<u8> = msgs
                .iter()
                .map(|m| m.stage)
                .filter(|&s| s <= DELIVERED)
                .collect();
            assert!(normal.windows(2).all(|w| w[0] <= w[1]), "stages progress");
            ends.insert(msgs.last().unwrap().stage);
            if msgs[0].order_id > 1 << 53 {
                big_ids += 1;
            }
            for msg in msgs.iter() {
                let (from, to) = if msg.by_courier() {
                    (msg.courier_id, msg.customer_id)
                } else {
                    (msg.customer_id, msg.courier_id)
                };
                assert_eq!((msg.sender_id(), msg.receiver_id()), (from, to));
            }
        }
        assert!(
            both > 2000 && courier_only > 50 && customer_only > 50,
            "{both} {courier_only} {customer_only}"
        );
        assert!(ties > 100, "{ties}");
        assert!(big_ids > 20, "{big_ids}");
        assert!(ends.contains(&CANCELLED) && ends.contains(&FAILED) && ends.contains(&DELIVERED));
        let ids: BTreeSet<i64> = block
            .orders
            .iter()
            .filter(|o| !o.duplicate)
            .map(|o| o.order_id)
            .collect();
        assert_eq!(ids.len(), 3000, "order ids are unique");
        assert!(block.orders.iter().any(|o| o.duplicate));
    }

    #[test]
    fn time_spreads_over_the_week_and_slices_cover_it() {
        let m = model(1000, 7);
        let block = m.block(0, 1000);
        let files: BTreeSet<u32> = block.messages.iter().map(|msg| msg.file).collect();
        assert_eq!(files, (0..7).collect());
        let first = block.messages.first().unwrap().time;
        assert!((START_SECONDS * 1_000_000..(START_SECONDS + 86_400) * 1_000_000).contains(&first));
        assert_eq!(
            m.slice(START_SECONDS * 1_000_000 + 86_400 * 1_000_000 + 1),
            1
        );
        assert_eq!(m.slice(i64::MAX / 2), 6);
    }

    #[test]
    fn a_block_is_the_same_however_the_orders_are_split() {
        let m = model(500, 3);
        let whole = m.block(0, 500);
        let mut parts = m.block(0, 200).messages;
        parts.extend(m.block(200, 500).messages);
        parts.sort_unstable_by_key(|m| (m.time, m.order_index, m.seq));
        assert_eq!(whole.messages, parts);
    }
}
