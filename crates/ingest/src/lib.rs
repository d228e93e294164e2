//! `ccc-ingest` reads the two source tables of ccc — `customer_courier_chat_messages`
//! and `orders` — from a folder of JSON-array, NDJSON, CSV and Parquet files into Arrow
//! columns of a fixed schema.
//!
//! - [`schema`]: table and column names, Arrow types.
//! - [`discover`]: which files belong to which table, in which format.
//! - [`read_sources`]: orders then messages, each table's files in parallel, into
//!   [`Sources`]; values that do not fit their field become null and are recorded as
//!   [`FieldProblem`]s, never lost.
//! - [`tables`]: any other table, from a file or a (Hive-partitioned) folder, with the
//!   same readers (`ccc validate --table`).
//!
//! ```no_run
//! let files = ccc_ingest::discover(std::path::Path::new("data/source"))?;
//! let sources = ccc_ingest::read_sources(files, &Default::default(), &|_| {})?;
//! println!("{} messages", sources.messages.row_count());
//! # Ok::<(), ccc_ingest::IngestError>(())
//! ```
#![deny(missing_docs)]

pub mod discover;
mod error;
pub mod open;
mod problems;
mod read;
pub mod schema;
mod sources;
pub mod tables;
pub mod timestamp;

pub use discover::{discover, discover_any, Format, SourceFile};
pub use error::IngestError;
pub use problems::{FieldProblem, ProblemKind};
pub use read::{
    read_file, read_file_with, read_layout_file, read_layout_file_needing, read_sources,
    read_sources_with, with_unread_columns, BatchHook, FileContents, ReadOptions, TableHook,
    DEFAULT_MAX_RECORD_BYTES,
};
pub use schema::{FieldType, Table, TableLayout};
pub use sources::{Batch, LineNumbers, Sources, TableData};
