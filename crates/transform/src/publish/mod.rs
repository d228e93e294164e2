//! Publishing: the output table (Parquet and CSV, Hive-partitioned by date), the
//! quarantine and the run report are written into a staging folder beside the output,
//! then swapped into place in one step. Until then readers see the previous output,
//! whole; a failed or killed run leaves it as it was.

mod atomic;
pub mod cleanup;
mod quarantine_csv;
mod writers;

pub use atomic::{test_hook, Staging};

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
pub const OUTPUT_ENTRIES: [&str; 4] = ["parquet", "csv", "quarantine", "_run.json"];
