//! The output table `customer_courier_conversations`: column names (each once, as a
//! constant) and its Arrow schema. The transform owns this schema; suites and the Spark
//! job mirror it.

use arrow2::datatypes::{DataType, Field, Schema};
use ccc_ingest::schema::{timestamp_type, FieldType, TableLayout};

/// The output table's name (also the folder name under `parquet/` and `csv/`).
pub const TABLE_NAME: &str = "customer_courier_conversations";
/// The Hive partition column: UTC date of `conversation_started_at`.
pub const CONVERSATION_DATE: &str = "conversation_date";

/// `order_id`: int64, not null.
pub const ORDER_ID: &str = "order_id";
/// `city_code`: from `orders`.
pub const CITY_CODE: &str = "city_code";
/// `first_courier_message`: earliest courier message, nullable.
pub const FIRST_COURIER_MESSAGE: &str = "first_courier_message";
/// `first_customer_message`: earliest customer message, nullable.
pub const FIRST_CUSTOMER_MESSAGE: &str = "first_customer_message";
/// `num_messages_courier`.
pub const NUM_MESSAGES_COURIER: &str = "num_messages_courier";
/// `num_messages_customer`.
pub const NUM_MESSAGES_CUSTOMER: &str = "num_messages_customer";
/// `first_message_by`: `courier` or `customer`.
pub const FIRST_MESSAGE_BY: &str = "first_message_by";
/// `conversation_started_at`: time of the first message.
pub const CONVERSATION_STARTED_AT: &str = "conversation_started_at";
/// `first_responsetime_delay_seconds`: first message → first message of the other role.
pub const FIRST_RESPONSETIME_DELAY_SECONDS: &str = "first_responsetime_delay_seconds";
/// `last_message_time`.
pub const LAST_MESSAGE_TIME: &str = "last_message_time";
/// `last_message_order_stage`: `orderStage` of the last message.
pub const LAST_MESSAGE_ORDER_STAGE: &str = "last_message_order_stage";

/// Column names in output order.
pub const COLUMNS: [&str; 11] = [
    ORDER_ID,
    CITY_CODE,
    FIRST_COURIER_MESSAGE,
    FIRST_CUSTOMER_MESSAGE,
    NUM_MESSAGES_COURIER,
    NUM_MESSAGES_CUSTOMER,
    FIRST_MESSAGE_BY,
    CONVERSATION_STARTED_AT,
    FIRST_RESPONSETIME_DELAY_SECONDS,
    LAST_MESSAGE_TIME,
    LAST_MESSAGE_ORDER_STAGE,
];

/// Columns and logical types, for reading a published table back (ours or Spark's).
pub const OUTPUT_COLUMNS: &[(&str, FieldType)] = &[
    (ORDER_ID, FieldType::Int64),
    (CITY_CODE, FieldType::Utf8),
    (FIRST_COURIER_MESSAGE, FieldType::Timestamp),
    (FIRST_CUSTOMER_MESSAGE, FieldType::Timestamp),
    (NUM_MESSAGES_COURIER, FieldType::Int64),
    (NUM_MESSAGES_CUSTOMER, FieldType::Int64),
    (FIRST_MESSAGE_BY, FieldType::Utf8),
    (CONVERSATION_STARTED_AT, FieldType::Timestamp),
    (FIRST_RESPONSETIME_DELAY_SECONDS, FieldType::Int64),
    (LAST_MESSAGE_TIME, FieldType::Timestamp),
    (LAST_MESSAGE_ORDER_STAGE, FieldType::Utf8),
];

/// The output table as a layout the ingest readers fill.
pub fn output_layout() -> TableLayout {
    TableLayout {
        name: TABLE_NAME,
        columns: OUTPUT_COLUMNS,
    }
}

/// The Arrow schema of the output table (without the partition column).
pub fn output_schema() -> Schema {
    let ts = timestamp_type;
    Schema::from(vec![
        Field::new(ORDER_ID, DataType::Int64, false),
        Field::new(CITY_CODE, DataType::Utf8, false),
        Field::new(FIRST_COURIER_MESSAGE, ts(), true),
        Field::new(FIRST_CUSTOMER_MESSAGE, ts(), true),
        Field::new(NUM_MESSAGES_COURIER, DataType::Int64, false),
        Field::new(NUM_MESSAGES_CUSTOMER, DataType::Int64, false),
        Field::new(FIRST_MESSAGE_BY, DataType::Utf8, false),
        Field::new(CONVERSATION_STARTED_AT, ts(), false),
        Field::new(FIRST_RESPONSETIME_DELAY_SECONDS, DataType::Int64, true),
        Field::new(LAST_MESSAGE_TIME, ts(), false),
        Field::new(LAST_MESSAGE_ORDER_STAGE, DataType::Utf8, true),
    ])
}

#[cfg(test)]
mod tests {
    #[test]
    fn layout_matches_schema() {
        let layout = super::output_layout();
        let schema = super::output_schema();
        for ((name, ty), field) in layout.columns.iter().zip(&schema.fields) {
            assert_eq!(
                (*name, &ty.data_type()),
                (field.name.as_str(), &field.data_type)
            );
        }
    }

    #[test]
    fn schema_lists_columns_in_order() {
        let names: Vec<_> = super::output_schema()
            .fields
            .iter()
            .map(|f| f.name.clone())
            .collect();
        assert_eq!(names, super::COLUMNS);
    }
}
