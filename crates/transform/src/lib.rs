//! `ccc-transform` builds `customer_courier_conversations` from the sources read by
//! `ccc-ingest`, with the exact semantics of `docs/semantics.md`, and publishes it.
//!
//! - [`key`]: the total order over an order's messages ([`MessageKey`], [`Role`]).
//! - [`state`]: mergeable per-order state ([`ConversationState`]: `update`/`merge`/`finish`).
//! - [`build_conversations`]: orders deduplicated, messages classified, hash-partitioned
//!   parallel group-by; returns the table, the [`Quarantine`] and reconciled counts.
//! - [`to_partitions`]: the table as one Arrow chunk per part file: a `conversation_date`
//!   and an hour of `conversation_started_at` ([`layout`]).
//! - [`incremental`]: fold only new files into a stored state; rewrite only changed partitions.
//! - [`publish`]: Parquet + CSV + quarantine + run report, swapped into place atomically.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let files = ccc_ingest::discover(std::path::Path::new("data/source"))?;
//! let sources = ccc_ingest::read_sources(files, &Default::default(), &|_| {})?;
//! let output = ccc_transform::build_conversations(&sources);
//! let staging = ccc_transform::publish::Staging::create(std::path::Path::new("data/processed"))?;
//! staging.write_table(&ccc_transform::to_partitions(&output.table), Default::default())?;
//! staging.commit()?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod build;
pub mod dictionary;
mod durable;
mod error;
pub mod fault;
pub mod incremental;
pub mod key;
pub mod layout;
pub mod publish;
mod quarantine;
pub mod schema;
pub mod state;
mod streaming;
mod table;
mod text_dictionary;

pub use build::{
    build_conversations, ConversationTable, OutputRow, TransformCounts, TransformOutput,
    COLUMNS_READ,
};
pub use error::PublishError;
pub use key::{MessageKey, Role};
pub use layout::Part;
pub use quarantine::{Fault, FaultKind, Quarantine, QuarantineReason, QuarantinedRow};
pub use state::{Conversation, ConversationState};
pub use streaming::plan::MemoryTooSmall;
pub use streaming::spill::SpillError;
pub use streaming::{
    BuildError, MemoryLimit, SpillSummary, StreamedOutput, StreamingAggregate, StreamingBuild,
};
pub use table::{date_string, rows_by_date, to_chunk, to_partitions, Partition};
