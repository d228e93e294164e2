//! The two source tables: their names, column names (each written once, as a constant)
//! and the Arrow types `ingest` produces for them, whatever the file format.

use arrow2::datatypes::{DataType, Field, Schema, TimeUnit};

/// `customer_courier_chat_messages.senderAppType`
pub const SENDER_APP_TYPE: &str = "senderAppType";
/// `customer_courier_chat_messages.customerId`
pub const CUSTOMER_ID: &str = "customerId";
/// `customer_courier_chat_messages.fromId`
pub const FROM_ID: &str = "fromId";
/// `customer_courier_chat_messages.toId`
pub const TO_ID: &str = "toId";
/// `customer_courier_chat_messages.chatStartedByMessage`
pub const CHAT_STARTED_BY_MESSAGE: &str = "chatStartedByMessage";
/// `orderId`, in both tables
pub const ORDER_ID: &str = "orderId";
/// `customer_courier_chat_messages.orderStage`
pub const ORDER_STAGE: &str = "orderStage";
/// `customer_courier_chat_messages.courierId`
pub const COURIER_ID: &str = "courierId";
/// `customer_courier_chat_messages.messageSentTime`
pub const MESSAGE_SENT_TIME: &str = "messageSentTime";
/// `orders.cityCode`
pub const CITY_CODE: &str = "cityCode";

/// The logical type of a source column; the reader coerces every format to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// UTF-8 text.
    Utf8,
    /// A signed 64-bit integer.
    Int64,
    /// `true` / `false`.
    Boolean,
    /// An instant, held as microseconds since the epoch, UTC.
    Timestamp,
}

impl FieldType {
    /// The Arrow type a column of this kind has after ingest.
    pub fn data_type(self) -> DataType {
        match self {
            FieldType::Utf8 => DataType::Utf8,
            FieldType::Int64 => DataType::Int64,
            FieldType::Boolean => DataType::Boolean,
            FieldType::Timestamp => timestamp_type(),
        }
    }

    /// A word for messages and reports: `string`, `integer`, `boolean`, `timestamp`.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Utf8 => "string",
            FieldType::Int64 => "integer",
            FieldType::Boolean => "boolean",
            FieldType::Timestamp => "timestamp",
        }
    }
}

/// Microsecond timestamps in UTC: the one timestamp type of ccc, in and out.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".to_string()))
}

/// The name and typed columns of a table a reader fills: a source table's, or another
/// table's (the output table, read back by `ccc validate --data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableLayout {
    /// The table's name, for messages.
    pub name: &'static str,
    /// Column names and types, in schema order.
    pub columns: &'static [(&'static str, FieldType)],
}

impl TableLayout {
    /// Position of a column by name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|(n, _)| *n == name)
    }

    /// The Arrow schema of the table (every column nullable).
    pub fn schema(&self) -> Schema {
        Schema::from(
            self.columns
                .iter()
                .map(|(name, ty)| Field::new(*name, ty.data_type(), true))
                .collect::<Vec<_>>(),
        )
    }
}

/// A source table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// `customer_courier_chat_messages`: one record per chat message.
    ChatMessages,
    /// `orders`: order id and city.
    Orders,
}

const MESSAGE_COLUMNS: &[(&str, FieldType)] = &[
    (SENDER_APP_TYPE, FieldType::Utf8),
    (CUSTOMER_ID, FieldType::Int64),
    (FROM_ID, FieldType::Int64),
    (TO_ID, FieldType::Int64),
    (CHAT_STARTED_BY_MESSAGE, FieldType::Boolean),
    (ORDER_ID, FieldType::Int64),
    (ORDER_STAGE, FieldType::Utf8),
    (COURIER_ID, FieldType::Int64),
    (MESSAGE_SENT_TIME, FieldType::Timestamp),
];

const ORDER_COLUMNS: &[(&str, FieldType)] =
    &[(ORDER_ID, FieldType::Int64), (CITY_CODE, FieldType::Utf8)];

impl Table {
    /// Both tables, in the order they are read and reported.
    pub const ALL: [Table; 2] = [Table::ChatMessages, Table::Orders];

    /// The table's name, which is also the prefix of its file names.
    pub fn name(self) -> &'static str {
        match self {
            Table::ChatMessages => "customer_courier_chat_messages",
            Table::Orders => "orders",
        }
    }

    /// Column names and types, in schema order.
    pub fn columns(self) -> &'static [(&'static str, FieldType)] {
        match self {
            Table::ChatMessages => MESSAGE_COLUMNS,
            Table::Orders => ORDER_COLUMNS,
        }
    }

    /// Name and columns together.
    pub fn layout(self) -> TableLayout {
        TableLayout {
            name: self.name(),
            columns: self.columns(),
        }
    }

    /// Position of a column by name.
    pub fn column_index(self, name: &str) -> Option<usize> {
        self.layout().column_index(name)
    }

    /// The Arrow schema of the table after ingest (every column nullable).
    pub fn schema(self) -> Schema {
        self.layout().schema()
    }

    /// Finds the table a file belongs to from its name (`orders_0001.csv` → `Orders`).
    pub fn from_file_name(file_name: &str) -> Option<Table> {
        Table::ALL
            .into_iter()
            .find(|t| file_name.starts_with(t.name()))
    }
}

impl serde::Serialize for Table {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_map_to_tables() {
        assert_eq!(Table::from_file_name("orders.json"), Some(Table::Orders));
        assert_eq!(
            Table::from_file_name("customer_courier_chat_messages_0002.parquet"),
            Some(Table::ChatMessages)
        );
        assert_eq!(Table::from_file_name("readme.txt"), None);
    }

    #[test]
    fn schema_has_every_column_once() {
        let schema = Table::ChatMessages.schema();
        assert_eq!(schema.fields.len(), 9);
        assert_eq!(schema.fields[8].data_type, timestamp_type());
        assert_eq!(Table::Orders.column_index(CITY_CODE), Some(1));
    }
}
