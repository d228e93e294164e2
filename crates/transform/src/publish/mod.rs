//! Publishing: the output table (Parquet and CSV, Hive-partitioned by date), the
//! quarantine and the run report are written into a staging folder beside the output,
//! then swapped into place in one step. Until then readers see the previous output,
//! whole; a failed or killed run leaves it as it was.

mod atomic;
pub mod cleanup;
mod page_statistics;
pub mod parquet_file;
mod quarantine_csv;
mod writers;

pub use atomic::{remove_folder, spill_folder, Staging};
pub use parquet_file::ParquetWriteError;

/// Which formats of the table to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    /// `OUT/parquet/customer_courier_conversations/…`
    pub parquet: bool,
    /// `OUT/csv/customer_courier_conversations/…`
    pub csv: bool,
}

impl Default for Formats {
    fn default() -> Self {
        Self {
            parquet: true,
            csv: true,
        }
    }
}

/// Names of what an output folder holds; anything else means it is not ours.
/// `_audit.json` is the last `ccc validate --suite output` verdict on it.
pub const OUTPUT_ENTRIES: [&str; 5] = ["parquet", "csv", "quarantine", "_run.json", "_audit.json"];

/// What a staged run's folder (`ccc run --stage DIR`) holds: an output's entries, what
/// the stage is for (`_stage.json`) and, for incremental runs, the new state generation
/// (`_state/gen-N`), which `ccc publish` moves into the state folder.
pub const STAGE_ENTRIES: [&str; 7] = [
    "parquet",
    "csv",
    "quarantine",
    "_run.json",
    "_audit.json",
    "_stage.json",
    "_state",
];
