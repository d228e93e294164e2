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
    /// A 64-bit float (tables other than ccc's own: `ccc validate --table`).
    Float64,
    /// A calendar date, held as days since 1970-01-01 (tables other than ccc's own).
    Date,
}

impl FieldType {
    /// The Arrow type a column of this kind has after ingest.
    pub fn data_type(self) -> DataType {
        match self {
            FieldType::Utf8 => DataType::Utf8,
            FieldType::Int64 => DataType::Int64,
            FieldType::Boolean => DataType::Boolean,
            FieldType::Timestamp => timestamp_type(),
            FieldType::Float64 => DataType::Float64,
            FieldType::Date => DataType::Date32,
        }
    }

    /// A word for messages and reports: `string`, `integer`, `boolean`, `timestamp`,
    /// `float`, `date`.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Utf8 => "string",
            FieldType::Int64 => "integer",
            FieldType::Boolean => "boolean",
            FieldType::Timestamp => "timestamp",
            FieldType::Float64 => "float",
            FieldType::Date => "date",
        }
    }

    /// Every type, in the order of [`FieldType::name`]'s list.
    pub const ALL: [FieldType; 6] = [
        FieldType::Utf8,
        FieldType::Int64,
        FieldType::Boolean,
        FieldType::Timestamp,
        FieldType::Float64,
        FieldType::Date,
    ];

    /// The type a word of [`FieldType::name`] names.
    pub fn from_name(name: &str) -> Option<FieldType> {
        FieldType::ALL.into_iter().find(|t| t.name() == name)
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

    /// A layout made at run time (a table a suite names, read by `ccc validate --table`),
    /// with the `'static` names the readers take: names and layouts are interned for the
    /// process's life, each distinct one stored once, so asking again costs nothing more.
    pub fn interned(name: &str, columns: &[(String, FieldType)]) -> TableLayout {
        use std::collections::{HashMap, HashSet};
        use std::sync::{Mutex, PoisonError};
        type Key = (String, Vec<(String, FieldType)>);
        static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
        static LAYOUTS: Mutex<Option<HashMap<Key, TableLayout>>> = Mutex::new(None);
        let key = (name.to_string(), columns.to_vec());
        let mut layouts = LAYOUTS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(layout) = layouts.as_ref().and_then(|l| l.get(&key)) {
            return *layout;
        }
        let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
        let names = names.get_or_insert_with(HashSet::new);
        let mut intern = |text: &str| -> &'static str {
            match names.get(text) {
                Some(kept) => kept,
                None => {
                    let kept: &'static str = Box::leak(text.into());
                    names.insert(kept);
                    kept
                }
            }
        };
        let layout = TableLayout {
            name: intern(name),
            columns: Box::leak(
                columns
                    .iter()
                    .map(|(column, ty)| (intern(column), *ty))
                    .collect::<Vec<_>>()
                    .into_boxed_slice(),
            ),
        };
        layouts.get_or_insert_with(HashMap::new).insert(key, layout);
        layout
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
    fn interned_layouts_are_stored_once() {
        let columns = vec![
            ("id".to_string(), FieldType::Int64),
            ("price".to_string(), FieldType::Float64),
        ];
        let a = TableLayout::interned("sales", &columns);
        let b = TableLayout::interned("sales", &columns);
        assert_eq!(a.name, "sales");
        assert_eq!(
            a.columns,
            &[("id", FieldType::Int64), ("price", FieldType::Float64)]
        );
        assert!(
            std::ptr::eq(a.columns, b.columns),
            "asked twice, stored once"
        );
        let other = TableLayout::interned("returns", &columns[..1]);
        assert!(
            std::ptr::eq(other.columns[0].0, a.columns[0].0),
            "names are shared"
        );
    }

    #[test]
    fn type_names_read_back() {
        for ty in FieldType::ALL {
            assert_eq!(FieldType::from_name(ty.name()), Some(ty));
        }
        assert_eq!(FieldType::from_name("decimal"), None);
    }

    #[test]
    fn schema_has_every_column_once() {
        let schema = Table::ChatMessages.schema();
        assert_eq!(schema.fields.len(), 9);
        assert_eq!(schema.fields[8].data_type, timestamp_type());
        assert_eq!(Table::Orders.column_index(CITY_CODE), Some(1));
    }
}
