//! The output table as Arrow: one chunk per `conversation_date` partition, in the
//! column order of [`crate::schema::output_schema`]. Both writers and the output suite
//! read these chunks, so every consumer sees the same values.

use arrow2::array::{Array, MutablePrimitiveArray, MutableUtf8Array, PrimitiveArray, Utf8Array};
use arrow2::chunk::Chunk;
use ccc_ingest::schema::timestamp_type;

use crate::build::{day_of, ConversationTable, OutputRow};

/// The rows of one UTC day.
#[derive(Debug, Clone)]
pub struct Partition {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The columns, rows sorted by `order_id`.
    pub chunk: Chunk<Box<dyn Array>>,
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01).
pub fn date_string(day: i64) -> String {
    let date = chrono::DateTime::from_timestamp(day * 86_400, 0)
        .expect("day within chrono's range")
        .date_naive();
    date.format("%Y-%m-%d").to_string()
}

/// Splits the table into per-day Arrow chunks.
pub fn to_partitions(table: &ConversationTable) -> Vec<Partition> {
    let rows = &table.rows;
    let mut partitions = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let day = day_of(rows[start].conversation.conversation_started_at);
        let end = start
            + rows[start..]
                .partition_point(|r| day_of(r.conversation.conversation_started_at) == day);
        partitions.push(Partition {
            date: date_string(day),
            chunk: to_chunk(table, &rows[start..end]),
        });
        start = end;
    }
    partitions
}

/// The Arrow columns of some rows.
pub fn to_chunk(table: &ConversationTable, rows: &[OutputRow]) -> Chunk<Box<dyn Array>> {
    let n = rows.len();
    let ints = |f: &dyn Fn(&OutputRow) -> i64| -> Box<dyn Array> {
        PrimitiveArray::<i64>::from_vec(rows.iter().map(f).collect()).boxed()
    };
    let times = |f: &dyn Fn(&OutputRow) -> Option<i64>| -> Box<dyn Array> {
        let mut a = MutablePrimitiveArray::<i64>::with_capacity(n);
        a.extend(rows.iter().map(f));
        PrimitiveArray::from(a).to(timestamp_type()).boxed()
    };
    let mut city = MutableUtf8Array::<i32>::with_capacities(n, n * 3);
    let mut first_by = MutableUtf8Array::<i32>::with_capacities(n, n * 8);
    let mut stage = MutableUtf8Array::<i32>::with_capacities(n, n * 10);
    let mut delay = MutablePrimitiveArray::<i64>::with_capacity(n);
    for r in rows {
        let c = &r.conversation;
        city.push(table.cities.value(r.city));
        first_by.push(Some(c.first_message_by.as_str()));
        stage.push(table.stages.value(c.last_stage));
        delay.push(c.first_responsetime_delay_seconds);
    }
    Chunk::new(vec![
        ints(&|r| r.conversation.order_id),
        {
            let a: Utf8Array<i32> = city.into();
            a.boxed()
        },
        times(&|r| r.conversation.first_courier_message),
        times(&|r| r.conversation.first_customer_message),
        ints(&|r| r.conversation.num_messages_courier),
        ints(&|r| r.conversation.num_messages_customer),
        {
            let a: Utf8Array<i32> = first_by.into();
            a.boxed()
        },
        times(&|r| Some(r.conversation.conversation_started_at)),
        PrimitiveArray::from(delay).boxed(),
        times(&|r| Some(r.conversation.last_message_time)),
        {
            let a: Utf8Array<i32> = stage.into();
            a.boxed()
        },
    ])
}
