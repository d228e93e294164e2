//! A table's columns as a key lookup, so that both the fast path and the serde visitor
//! map a record's keys to column indices without comparing names one by one: for each
//! source table a compile-time `match`, for any other table a hash map.

use std::collections::HashMap;

use crate::schema::{self, FieldType, Table, TableLayout};

/// The most columns a JSON record is read into (the bits of a `u64` mask).
pub(crate) const MAX_COLUMNS: usize = 64;

/// A table's columns and their lookup by key. The source tables' lookups are a `match`
/// (length and byte compares) chosen at compile time, so the per-key cost of a record is
/// a jump, not a scan over names.
pub(crate) trait TableColumns: Sync {
    fn columns(&self) -> &'static [(&'static str, FieldType)];
    fn index(&self, key: &str) -> Option<usize>;
}
pub(crate) struct MessageColumns;
impl TableColumns for MessageColumns {
    fn columns(&self) -> &'static [(&'static str, FieldType)] {
        Table::ChatMessages.columns()
    }
    #[inline]
    fn index(&self, key: &str) -> Option<usize> {
        match key {
            schema::SENDER_APP_TYPE => Some(0),
            schema::CUSTOMER_ID => Some(1),
            schema::FROM_ID => Some(2),
            schema::TO_ID => Some(3),
            schema::CHAT_STARTED_BY_MESSAGE => Some(4),
            schema::ORDER_ID => Some(5),
            schema::ORDER_STAGE => Some(6),
            schema::COURIER_ID => Some(7),
            schema::MESSAGE_SENT_TIME => Some(8),
            _ => None,
        }
    }
}
pub(crate) struct OrderColumns;
impl TableColumns for OrderColumns {
    fn columns(&self) -> &'static [(&'static str, FieldType)] {
        Table::Orders.columns()
    }
    #[inline]
    fn index(&self, key: &str) -> Option<usize> {
        match key {
            schema::ORDER_ID => Some(0),
            schema::CITY_CODE => Some(1),
            _ => None,
        }
    }
}

/// Any other table's columns (a table a suite names), looked up by hashing the key.
pub(crate) struct LayoutColumns {
    layout: TableLayout,
    by_name: HashMap<&'static str, usize>,
}

impl LayoutColumns {
    /// The lookup of `layout`'s columns; at most [`MAX_COLUMNS`] of them.
    pub(crate) fn new(layout: TableLayout) -> Self {
        let by_name = layout
            .columns
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (*name, i))
            .collect();
        Self { layout, by_name }
    }
}

impl TableColumns for LayoutColumns {
    fn columns(&self) -> &'static [(&'static str, FieldType)] {
        self.layout.columns
    }
    fn index(&self, key: &str) -> Option<usize> {
        self.by_name.get(key).copied()
    }
}
