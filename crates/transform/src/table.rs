//! The output table as Arrow: one chunk per part file of a `conversation_date` partition
//! ([`crate::layout`]), in the column order of [`crate::schema::output_schema`]. Both
//! writers and the output suite read these chunks, so every consumer sees the same values.

use arrow2::array::{Array, MutablePrimitiveArray, PrimitiveArray, Utf8Array};
use arrow2::bitmap::{Bitmap, MutableBitmap};
use arrow2::chunk::Chunk;
use arrow2::datatypes::DataType;
use arrow2::offset::OffsetsBuffer;
use ccc_ingest::schema::timestamp_type;
use rayon::prelude::*;

use crate::build::{ConversationTable, OutputRow};
use crate::dictionary::Dictionary;
use crate::layout::Part;
use crate::state::Conversation;

/// The rows of one part file: the conversations of one UTC day that started in one hour.
#[derive(Debug, Clone)]
pub struct Partition {
    /// Its date and hour.
    pub part: Part,
    /// The columns, rows sorted by `order_id`.
    pub chunk: Chunk<Box<dyn Array>>,
}

impl Partition {
    /// `YYYY-MM-DD`: the `conversation_date` partition it belongs to.
    pub fn date(&self) -> String {
        self.part.date()
    }
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01).
pub fn date_string(day: i64) -> String {
    ccc_ingest::timestamp::format_date(day)
}

/// Splits the table (rows sorted by part, then order id) into per-part Arrow chunks,
/// built in parallel.
pub fn to_partitions(table: &ConversationTable) -> Vec<Partition> {
    let rows = &table.rows;
    let part_of = |r: &OutputRow| Part::of(r.conversation.conversation_started_at);
    let mut parts = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let part = part_of(&rows[start]);
        let end = start + rows[start..].partition_point(|r| part_of(r) == part);
        parts.push((part, start, end));
        start = end;
    }
    parts
        .into_par_iter()
        .map(|(part, start, end)| Partition {
            part,
            chunk: to_chunk(table, &rows[start..end]),
        })
        .collect()
}

/// Rows per `conversation_date` (`YYYY-MM-DD`) of some parts sorted by part, in date order.
pub fn rows_by_date(partitions: &[Partition]) -> Vec<(String, u64)> {
    let mut dates: Vec<(String, u64)> = Vec::new();
    for p in partitions {
        let date = p.date();
        match dates.last_mut() {
            Some((last, rows)) if *last == date => *rows += p.chunk.len() as u64,
            _ => dates.push((date, p.chunk.len() as u64)),
        }
    }
    dates
}

/// A UTF-8 column built row by row, its offsets and values written directly (pushing
/// through arrow2's mutable array costs more than the strings themselves).
struct Utf8Column {
    offsets: Vec<i32>,
    bytes: Vec<u8>,
    validity: MutableBitmap,
}

impl Utf8Column {
    fn with_capacity(rows: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Self {
            offsets,
            bytes: Vec::with_capacity(bytes),
            validity: MutableBitmap::with_capacity(rows),
        }
    }

    fn reserve(&mut self, rows: usize, bytes: usize) {
        self.offsets.reserve_exact(rows);
        self.bytes.reserve_exact(bytes);
        self.validity.reserve(rows);
    }

    fn push(&mut self, value: Option<&str>) {
        self.validity.push(value.is_some());
        self.bytes
            .extend_from_slice(value.unwrap_or_default().as_bytes());
        let end = i32::try_from(self.bytes.len()).expect("a partition's strings fit i32 offsets");
        self.offsets.push(end);
    }

    fn finish(self) -> Box<dyn Array> {
        let offsets = OffsetsBuffer::try_from(self.offsets).expect("offsets only grow");
        let validity: Option<Bitmap> = self.validity.into();
        Utf8Array::<i32>::new(DataType::Utf8, offsets, self.bytes.into(), validity).boxed()
    }
}

/// Room to reserve for some rows: their count and the bytes of their three text columns.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RowsSize {
    pub rows: usize,
    pub city_bytes: usize,
    pub role_bytes: usize,
    pub stage_bytes: usize,
}

impl RowsSize {
    /// Counts one more row.
    pub fn add(&mut self, row: &OutputRow, cities: &Dictionary, stages: &Dictionary) {
        self.rows += 1;
        self.city_bytes += cities.value(row.city).map_or(0, str::len);
        self.role_bytes += row.conversation.first_message_by.as_str().len();
        self.stage_bytes += stages
            .value(row.conversation.last_stage)
            .map_or(0, str::len);
    }
}

/// The Arrow columns of the table, built row by row in the order of
/// [`crate::schema::output_schema`].
pub(crate) struct TableColumns {
    order_id: Vec<i64>,
    city: Utf8Column,
    first_courier: MutablePrimitiveArray<i64>,
    first_customer: MutablePrimitiveArray<i64>,
    courier_messages: Vec<i64>,
    customer_messages: Vec<i64>,
    first_message_by: Utf8Column,
    started: MutablePrimitiveArray<i64>,
    delay: MutablePrimitiveArray<i64>,
    last: MutablePrimitiveArray<i64>,
    stage: Utf8Column,
}

impl TableColumns {
    /// Empty columns with room for `size`.
    pub fn with_capacity(size: RowsSize) -> Self {
        let n = size.rows;
        Self {
            order_id: Vec::with_capacity(n),
            city: Utf8Column::with_capacity(n, size.city_bytes),
            first_courier: MutablePrimitiveArray::with_capacity(n),
            first_customer: MutablePrimitiveArray::with_capacity(n),
            courier_messages: Vec::with_capacity(n),
            customer_messages: Vec::with_capacity(n),
            first_message_by: Utf8Column::with_capacity(n, size.role_bytes),
            started: MutablePrimitiveArray::with_capacity(n),
            delay: MutablePrimitiveArray::with_capacity(n),
            last: MutablePrimitiveArray::with_capacity(n),
            stage: Utf8Column::with_capacity(n, size.stage_bytes),
        }
    }

    /// Room for `size` more rows.
    pub fn reserve(&mut self, size: RowsSize) {
        let n = size.rows;
        self.order_id.reserve_exact(n);
        self.city.reserve(n, size.city_bytes);
        self.first_courier.reserve(n);
        self.first_customer.reserve(n);
        self.courier_messages.reserve_exact(n);
        self.customer_messages.reserve_exact(n);
        self.first_message_by.reserve(n, size.role_bytes);
        self.started.reserve(n);
        self.delay.reserve(n);
        self.last.reserve(n);
        self.stage.reserve(n, size.stage_bytes);
    }

    /// Appends a row whose codes are in these dictionaries.
    pub fn push(&mut self, row: &OutputRow, cities: &Dictionary, stages: &Dictionary) {
        self.push_conversation(&row.conversation, row.city, cities, stages);
    }

    /// Appends a conversation and its city code, codes in these dictionaries.
    pub fn push_conversation(
        &mut self,
        c: &Conversation,
        city: u32,
        cities: &Dictionary,
        stages: &Dictionary,
    ) {
        self.order_id.push(c.order_id);
        self.city.push(cities.value(city));
        self.first_courier.push(c.first_courier_message);
        self.first_customer.push(c.first_customer_message);
        self.courier_messages.push(c.num_messages_courier);
        self.customer_messages.push(c.num_messages_customer);
        self.first_message_by
            .push(Some(c.first_message_by.as_str()));
        self.started.push(Some(c.conversation_started_at));
        self.delay.push(c.first_responsetime_delay_seconds);
        self.last.push(Some(c.last_message_time));
        self.stage.push(stages.value(c.last_stage));
    }

    /// The chunk of the rows pushed.
    pub fn finish(self) -> Chunk<Box<dyn Array>> {
        let time = |a: MutablePrimitiveArray<i64>| -> Box<dyn Array> {
            PrimitiveArray::from(a).to(timestamp_type()).boxed()
        };
        Chunk::new(vec![
            PrimitiveArray::<i64>::from_vec(self.order_id).boxed(),
            self.city.finish(),
            time(self.first_courier),
            time(self.first_customer),
            PrimitiveArray::<i64>::from_vec(self.courier_messages).boxed(),
            PrimitiveArray::<i64>::from_vec(self.customer_messages).boxed(),
            self.first_message_by.finish(),
            time(self.started),
            PrimitiveArray::from(self.delay).boxed(),
            time(self.last),
            self.stage.finish(),
        ])
    }
}

/// The Arrow columns of some rows.
pub fn to_chunk(table: &ConversationTable, rows: &[OutputRow]) -> Chunk<Box<dyn Array>> {
    rows_chunk(rows, &table.cities, &table.stages)
}

/// The Arrow columns of `rows` conversations with their city codes, made as they are
/// pushed: no row of the table is kept. The text columns reserve room for their longest
/// values; room never written to is never touched, so it costs no memory.
pub(crate) fn conversations_chunk(
    rows: usize,
    conversations: impl Iterator<Item = (Conversation, u32)>,
    cities: &Dictionary,
    stages: &Dictionary,
) -> Chunk<Box<dyn Array>> {
    let longest = |d: &Dictionary| d.values().iter().map(String::len).max().unwrap_or(0);
    let mut columns = TableColumns::with_capacity(RowsSize {
        rows,
        city_bytes: rows * longest(cities),
        role_bytes: rows * crate::key::Role::LONGEST,
        stage_bytes: rows * longest(stages),
    });
    conversations.for_each(|(c, city)| columns.push_conversation(&c, city, cities, stages));
    columns.finish()
}

/// The Arrow columns of rows whose codes are in these dictionaries.
pub(crate) fn rows_chunk(
    rows: &[OutputRow],
    cities: &Dictionary,
    stages: &Dictionary,
) -> Chunk<Box<dyn Array>> {
    let mut size = RowsSize::default();
    rows.iter().for_each(|r| size.add(r, cities, stages));
    let mut columns = TableColumns::with_capacity(size);
    rows.iter().for_each(|r| columns.push(r, cities, stages));
    columns.finish()
}
