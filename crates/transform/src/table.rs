//! The output table as Arrow: one chunk per `conversation_date` partition, in the
//! column order of [`crate::schema::output_schema`]. Both writers and the output suite
//! read these chunks, so every consumer sees the same values.

use arrow2::array::{Array, MutablePrimitiveArray, PrimitiveArray, Utf8Array};
use arrow2::bitmap::{Bitmap, MutableBitmap};
use arrow2::chunk::Chunk;
use arrow2::datatypes::DataType;
use arrow2::offset::OffsetsBuffer;
use ccc_ingest::schema::timestamp_type;
use rayon::prelude::*;

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
    ccc_ingest::timestamp::format_date(day)
}

/// Splits the table into per-day Arrow chunks, built in parallel.
pub fn to_partitions(table: &ConversationTable) -> Vec<Partition> {
    let rows = &table.rows;
    let mut days = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let day = day_of(rows[start].conversation.conversation_started_at);
        let end = start
            + rows[start..]
                .partition_point(|r| day_of(r.conversation.conversation_started_at) == day);
        days.push((day, start, end));
        start = end;
    }
    days.into_par_iter()
        .map(|(day, start, end)| Partition {
            date: date_string(day),
            chunk: to_chunk(table, &rows[start..end]),
        })
        .collect()
}

/// A UTF-8 column from one optional string per row, with its offsets and values written
/// directly (pushing value by value costs more than the strings themselves).
fn utf8_column<'a>(n: usize, values: impl Iterator<Item = Option<&'a str>>) -> Box<dyn Array> {
    let mut offsets: Vec<i32> = Vec::with_capacity(n + 1);
    let mut bytes: Vec<u8> = Vec::with_capacity(n * 8);
    let mut validity = MutableBitmap::with_capacity(n);
    offsets.push(0);
    for value in values {
        validity.push(value.is_some());
        bytes.extend_from_slice(value.unwrap_or_default().as_bytes());
        let end = i32::try_from(bytes.len()).expect("a partition's strings fit i32 offsets");
        offsets.push(end);
    }
    let offsets = OffsetsBuffer::try_from(offsets).expect("offsets only grow");
    let validity: Option<Bitmap> = validity.into();
    Utf8Array::<i32>::new(DataType::Utf8, offsets, bytes.into(), validity).boxed()
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
    let mut delay = MutablePrimitiveArray::<i64>::with_capacity(n);
    delay.extend(
        rows.iter()
            .map(|r| r.conversation.first_responsetime_delay_seconds),
    );
    Chunk::new(vec![
        ints(&|r| r.conversation.order_id),
        utf8_column(n, rows.iter().map(|r| table.cities.value(r.city))),
        times(&|r| r.conversation.first_courier_message),
        times(&|r| r.conversation.first_customer_message),
        ints(&|r| r.conversation.num_messages_courier),
        ints(&|r| r.conversation.num_messages_customer),
        utf8_column(
            n,
            rows.iter()
                .map(|r| Some(r.conversation.first_message_by.as_str())),
        ),
        times(&|r| Some(r.conversation.conversation_started_at)),
        PrimitiveArray::from(delay).boxed(),
        times(&|r| Some(r.conversation.last_message_time)),
        utf8_column(
            n,
            rows.iter()
                .map(|r| table.stages.value(r.conversation.last_stage)),
        ),
    ])
}
