//! Late messages: new messages older than the newest one published before (the
//! watermark), counted batch by batch as the new files are read, with the worst one and
//! the first of those beyond `--max-lateness` located by file and record.

use std::cmp::Reverse;
use std::sync::Mutex;

use arrow2::array::{PrimitiveArray, Utf8Array};
use ccc_ingest::schema as src;
use ccc_ingest::timestamp::format_rfc3339_micros;
use ccc_ingest::{Batch, Sources, Table};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::build::column;
use crate::key::Role;

const MICROS_PER_SECOND: i64 = 1_000_000;
const EXAMPLES: usize = 20;

/// Messages older than what earlier runs published.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LateCounts {
    /// The newest message time published before this run (none on the first run).
    pub watermark: Option<String>,
    /// Usable new messages older than the watermark.
    pub messages: u64,
    /// How far behind the watermark the latest-arriving one furthest back in time is, in
    /// whole seconds (the largest lateness).
    pub worst_lateness_seconds: Option<i64>,
    /// That message.
    pub worst: Option<LateMessage>,
    /// `--max-lateness`, in seconds.
    pub max_lateness_seconds: Option<i64>,
    /// Late messages beyond it (still folded in: a warning, never data loss).
    pub beyond_max_lateness: u64,
    /// Up to 20 of them.
    pub beyond_examples: Vec<LateMessage>,
}

/// A late message, located.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LateMessage {
    /// Source file.
    pub file: String,
    /// Record number in the file (the first record is 1).
    pub record: u64,
    /// Its order.
    pub order_id: i64,
    /// Its time.
    pub message_sent_time: String,
    /// Seconds behind the watermark.
    pub lateness_seconds: i64,
}

/// A late message before its batch's record numbers are known: its file, the batch's
/// position in it and its row (in that order, the order of the records).
#[derive(Debug, Clone, Copy)]
struct Found {
    at: (u32, u64, u32),
    order_id: i64,
    time: i64,
    lateness: i64,
}

/// What the batches folded so far hold.
#[derive(Debug, Default)]
struct Seen {
    messages: u64,
    beyond: u64,
    worst: Option<Found>,
    /// The first late messages beyond the maximum, in record order, at most
    /// [`EXAMPLES`] once [`Seen::trim`] ran.
    examples: Vec<Found>,
}

impl Seen {
    /// The worst is the latest; of equally late ones, the first in the files.
    fn offer_worst(&mut self, found: Found) {
        let rank = |f: &Found| (f.lateness, Reverse(f.at));
        if self.worst.as_ref().is_none_or(|w| rank(&found) > rank(w)) {
            self.worst = Some(found);
        }
    }

    fn trim(&mut self) {
        self.examples.sort_unstable_by_key(|f| f.at);
        self.examples.truncate(EXAMPLES);
    }

    fn absorb(&mut self, other: Seen) {
        self.messages += other.messages;
        self.beyond += other.beyond;
        if let Some(worst) = other.worst {
            self.offer_worst(worst);
        }
        self.examples.extend(other.examples);
        if self.examples.len() > 4 * EXAMPLES {
            self.trim();
        }
    }
}

/// Late messages counted as the batches are read; shared by the reading threads.
#[derive(Debug)]
pub(crate) struct LateTally {
    watermark: Option<i64>,
    max_lateness: Option<i64>,
    seen: Mutex<Seen>,
}

impl LateTally {
    /// Counts messages older than `watermark` (none: nothing is late), and those more
    /// than `max_lateness` (µs) older.
    pub fn new(watermark: Option<i64>, max_lateness: Option<i64>) -> Self {
        Self {
            watermark,
            max_lateness,
            seen: Mutex::default(),
        }
    }

    /// Counts one message batch's late messages (usable ones only: they are folded in).
    pub fn on_batch(&self, batch: &Batch) {
        let Some(watermark) = self.watermark else {
            return;
        };
        let t = Table::ChatMessages;
        let time = column::<PrimitiveArray<i64>>(batch, t, src::MESSAGE_SENT_TIME);
        let order = column::<PrimitiveArray<i64>>(batch, t, src::ORDER_ID);
        let sender = column::<Utf8Array<i32>>(batch, t, src::SENDER_APP_TYPE);
        let mut seen = Seen::default();
        for i in 0..batch.len() {
            let (Some(ts), Some(order_id)) = (time.get(i), order.get(i)) else {
                continue;
            };
            if ts >= watermark || sender.get(i).and_then(Role::of_sender_app_type).is_none() {
                continue;
            }
            let found = Found {
                at: (batch.file, batch.position, i as u32),
                order_id,
                time: ts,
                lateness: watermark - ts,
            };
            seen.messages += 1;
            seen.offer_worst(found);
            if self.max_lateness.is_some_and(|max| found.lateness > max) {
                seen.beyond += 1;
                if seen.examples.len() < EXAMPLES {
                    seen.examples.push(found);
                }
            }
        }
        if seen.messages > 0 {
            self.seen
                .lock()
                .expect("no thread panics holding the lock")
                .absorb(seen);
        }
    }

    /// The counts, with the messages located in `sources`' files.
    pub fn finish(self, sources: &Sources) -> LateCounts {
        let mut seen = self.seen.into_inner().expect("no thread panicked");
        seen.trim();
        let first_record: FxHashMap<(u32, u64), u64> = sources
            .messages
            .batches
            .iter()
            .map(|b| ((b.file, b.position), b.first_record))
            .collect();
        let located = |f: &Found| {
            let (file, position, row) = f.at;
            LateMessage {
                file: sources.files[file as usize].name.clone(),
                record: first_record[&(file, position)] + u64::from(row),
                order_id: f.order_id,
                message_sent_time: format_rfc3339_micros(f.time),
                lateness_seconds: f.lateness / MICROS_PER_SECOND,
            }
        };
        LateCounts {
            watermark: self.watermark.map(format_rfc3339_micros),
            messages: seen.messages,
            worst_lateness_seconds: seen.worst.map(|w| w.lateness / MICROS_PER_SECOND),
            worst: seen.worst.as_ref().map(located),
            max_lateness_seconds: self.max_lateness.map(|m| m / MICROS_PER_SECOND),
            beyond_max_lateness: seen.beyond,
            beyond_examples: seen.examples.iter().map(located).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccc_ingest::ReadOptions;
    use proptest::prelude::*;

    /// The tally of late messages found one by one in the final batch order, with the
    /// first of equally late ones the worst (what it was before batches were tallied as
    /// they were read).
    fn in_file_order(sources: &Sources, watermark: i64, max_lateness: i64) -> LateCounts {
        let tally = LateTally::new(Some(watermark), Some(max_lateness));
        let mut seen = Seen::default();
        for batch in &sources.messages.batches {
            let one = LateTally::new(Some(watermark), Some(max_lateness));
            one.on_batch(batch);
            let batch_seen = one.seen.into_inner().unwrap();
            seen.messages += batch_seen.messages;
            seen.beyond += batch_seen.beyond;
            if let Some(w) = batch_seen.worst {
                if seen.worst.is_none_or(|s| w.lateness > s.lateness) {
                    seen.worst = Some(w);
                }
            }
            for e in batch_seen.examples {
                if seen.examples.len() < EXAMPLES {
                    seen.examples.push(e);
                }
            }
        }
        *tally.seen.lock().unwrap() = seen;
        tally.finish(sources)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn tallied_as_read_equals_found_in_file_order(
            seconds in proptest::collection::vec(0u32..40, 0..200),
            watermark in 0i64..40,
            max_lateness in 0i64..20,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let half = seconds.len() / 2;
            for (n, part) in [&seconds[..half], &seconds[half..]].iter().enumerate() {
                let text: String = part
                    .iter()
                    .enumerate()
                    .map(|(i, s)| format!(
                        "{{\"senderAppType\": \"Courier iOS\", \"customerId\": 1, \"fromId\": 2, \
                         \"toId\": 3, \"chatStartedByMessage\": false, \"orderId\": {i}, \
                         \"orderStage\": \"ACCEPTED\", \"courierId\": 4, \
                         \"messageSentTime\": \"2024-02-01T10:00:{s:02}Z\"}}\n"
                    ))
                    .collect();
                std::fs::write(dir.path().join(format!("customer_courier_chat_messages_{n}.ndjson")), text).unwrap();
            }
            std::fs::write(dir.path().join("orders.ndjson"), "").unwrap();
            let base = 1_706_781_600 * MICROS_PER_SECOND; // 2024-02-01T10:00:00Z
            let (watermark, max_lateness) = (base + watermark * MICROS_PER_SECOND, max_lateness * MICROS_PER_SECOND);
            let tally = LateTally::new(Some(watermark), Some(max_lateness));
            let options = ReadOptions { chunk_bytes: 500, ..ReadOptions::default() };
            let sources = ccc_ingest::read_sources_with(
                ccc_ingest::discover(dir.path()).unwrap(),
                &options,
                &|_| {},
                &|table, batch, _| if table == Table::ChatMessages { tally.on_batch(batch) },
                &|_, _| {},
            )
            .unwrap();
            prop_assert_eq!(tally.finish(&sources), in_file_order(&sources, watermark, max_lateness));
        }
    }
}
