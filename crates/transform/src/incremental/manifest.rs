//! The state's manifest (`manifest.json`): which source files are folded in (name, size,
//! content hash), the watermark, the published part files with their row and message
//! counts, the stage strings the state's keys use, and the runs so far. It is what a run
//! compares a source folder against to find new, re-delivered and changed files.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::layout::Part;
use xxhash_rust::xxh3::Xxh3;

/// Version of the state layout; a state of another version is rebuilt with `--reprocess`.
pub const STATE_FORMAT_VERSION: u32 = 5;

/// What a state generation holds, besides its Arrow files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`STATE_FORMAT_VERSION`].
    pub format_version: u32,
    /// The run that wrote this generation (1 for the first).
    pub generation: u64,
    /// A value unique to this generation; the output's `_run.json` names it, which is how
    /// a run knows that a state and an output belong together.
    pub token: String,
    /// Formats of the published table (`parquet`, `csv`): unchanged partitions are linked,
    /// so every run of a state must write the same ones.
    pub output_formats: Vec<String>,
    /// Every `orderStage` string in the state's message keys, in order of arrival
    /// (append-only, so the 1-based indexes that the state files store never change).
    pub stages: Vec<String>,
    /// Every `cityCode` ever seen, in order of arrival (append-only, so the 1-based
    /// indexes that the order book and the state files store never change).
    pub cities: Vec<String>,
    /// The order book's shards, by ascending `first_id`; shard k holds the orders with
    /// ids from its `first_id` up to the next shard's (the first also those below).
    pub order_shards: Vec<OrderShard>,
    /// The newest message time in the published table (RFC 3339), if anything is published.
    pub watermark: Option<String>,
    /// The same, in UTC microseconds.
    pub watermark_micros: Option<i64>,
    /// Source files folded in, in the order they were folded.
    pub files: Vec<FoldedFile>,
    /// Published part files, by date and hour ([`crate::layout`]).
    pub parts: BTreeMap<Part, PartStats>,
    /// Counts over every run since the state was started.
    pub totals: Totals,
    /// The runs that built this state, oldest first.
    pub runs: Vec<RunEntry>,
}

/// One file of the order book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderShard {
    /// The smallest order id of its range.
    pub first_id: i64,
    /// Orders in it.
    pub rows: u64,
    /// File name under `orders/`.
    pub file: String,
}

impl Manifest {
    /// The shard whose range holds `order_id`.
    pub fn shard_of(&self, order_id: i64) -> usize {
        self.order_shards
            .partition_point(|s| s.first_id <= order_id)
            .saturating_sub(1)
    }
}

/// A source file folded into the state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldedFile {
    /// File name in the source folder.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// XXH3-128 of the content, hex.
    pub xxh3_128: String,
    /// Modification time when it was last hashed, nanoseconds since the epoch: a file
    /// with the same size and time is not hashed again.
    pub modified_ns: i64,
    /// The run that folded it in.
    pub generation: u64,
}

/// One published part file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartStats {
    /// Conversations in it.
    pub rows: u64,
    /// Messages aggregated into them.
    pub messages: u64,
    /// Rows of its state's delta file (0: the part's state is its base file alone).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delta_rows: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Record counts since the state was started; with the parts and the waiting
/// messages they reconcile: read = aggregated + quarantined + waiting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Message records read.
    pub messages_read: u64,
    /// Unusable message records (quarantined).
    pub messages_quarantined: u64,
    /// Usable messages whose order is not known yet.
    pub messages_waiting: u64,
    /// Order records read.
    pub orders_read: u64,
    /// Unusable order records (quarantined).
    pub orders_quarantined: u64,
}

/// One run of the state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunEntry {
    /// Its generation.
    pub generation: u64,
    /// When it started (UTC, RFC 3339, wall clock).
    pub started_at: String,
    /// Files it folded in.
    pub files: u64,
}

impl Manifest {
    /// The folded file of this name.
    pub fn file(&self, name: &str) -> Option<&FoldedFile> {
        self.files.iter().find(|f| f.name == name)
    }

    /// Conversations in the published table.
    pub fn conversations(&self) -> u64 {
        self.parts.values().map(|p| p.rows).sum()
    }

    /// Rows per `conversation_date` (`YYYY-MM-DD`), in date order.
    pub fn rows_by_date(&self) -> BTreeMap<String, u64> {
        let mut dates: BTreeMap<String, u64> = BTreeMap::new();
        for (part, stats) in &self.parts {
            *dates.entry(part.date()).or_default() += stats.rows;
        }
        dates
    }

    /// Messages in the published table.
    pub fn messages_published(&self) -> u64 {
        self.parts.values().map(|p| p.messages).sum()
    }

    /// When run `generation` started, if it is recorded.
    pub fn run_started_at(&self, generation: u64) -> Option<&str> {
        self.runs
            .iter()
            .find(|r| r.generation == generation)
            .map(|r| r.started_at.as_str())
    }
}

/// XXH3-128 of a file's content, as 32 hex digits: fast enough to hash every source file
/// on every run (several GB/s), so a changed file is caught even when its size is not.
pub fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Xxh3::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(format!("{:032x}", hasher.digest128()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_tells_same_size_contents_apart() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, b"{\"orderId\": 1}").unwrap();
        std::fs::write(&b, b"{\"orderId\": 2}").unwrap();
        let ha = hash_file(&a).unwrap();
        assert_eq!(ha.len(), 32);
        assert_ne!(ha, hash_file(&b).unwrap());
        assert_eq!(ha, hash_file(&a).unwrap());
    }

    #[test]
    fn manifest_round_trips_through_json() {
        let mut m = Manifest {
            format_version: STATE_FORMAT_VERSION,
            generation: 3,
            token: "3-abc".into(),
            ..Manifest::default()
        };
        m.parts.insert(
            Part::parse("2024-02-01T13").unwrap(),
            PartStats {
                rows: 2,
                messages: 9,
                delta_rows: 1,
            },
        );
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Manifest>(&text).unwrap(), m);
        assert_eq!(m.messages_published(), 9);
    }
}
