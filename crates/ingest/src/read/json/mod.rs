//! JSON sources: arrays of records (pretty-printed or not), concatenated objects, and
//! newline-delimited JSON. A cheap structural scan ([`scan`]) finds record boundaries so
//! chunks of a large file parse in parallel ([`chunks`]). Within a chunk ([`records`]), a
//! flat record of simple values is read by the fast path of [`super::json_fast`]; any other
//! record by a seeded visitor ([`visit`]) that parses the table's fields straight into
//! their column builders and skips the rest. Both push through the same helpers
//! ([`push`]), and neither builds a `serde_json::Value` (nor allocates per record).

mod chunks;
mod push;
mod records;
mod scan;
mod tables;
mod visit;

#[cfg(test)]
mod tests;

pub(crate) use chunks::{read_json, read_json_layout, read_rows};
#[cfg(test)]
pub(crate) use tables::{MessageColumns, OrderColumns};
pub(crate) use tables::{TableColumns, MAX_COLUMNS};
