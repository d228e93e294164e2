//! Each source table's columns as a compile-time key lookup, so that both the fast path
//! and the serde visitor map a record's keys to column indices without comparing names
//! one by one.

use crate::schema::{self, Table};

/// The most columns a source table has.
pub(crate) const MAX_COLUMNS: usize = 9;

/// A table's column lookup by key, as a `match` (length and byte compares), chosen at
/// compile time so the per-key cost of a record is a jump, not a scan over names.
pub(crate) trait TableColumns {
    const TABLE: Table;
    fn index(key: &str) -> Option<usize>;
}
pub(crate) struct MessageColumns;
impl TableColumns for MessageColumns {
    const TABLE: Table = Table::ChatMessages;
    #[inline]
    fn index(key: &str) -> Option<usize> {
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
    const TABLE: Table = Table::Orders;
    #[inline]
    fn index(key: &str) -> Option<usize> {
        match key {
            schema::ORDER_ID => Some(0),
            schema::CITY_CODE => Some(1),
            _ => None,
        }
    }
}
