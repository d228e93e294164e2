//! The output table as Arrow: one chunk per part file of a `conversation_date` partition
//! ([`crate::layout`]), in the column order of [`crate::schema::output_schema`]. Both
//! writers and the output suite read these chunks, so every consumer sees the same values.

use arrow2::array::{Array, DictionaryArray, MutablePrimitiveArray, PrimitiveArray, Utf8Array};
use arrow2::bitmap::{Bitmap, MutableBitmap};
use arrow2::chunk::Chunk;
use arrow2::datatypes::DataType;
use arrow2::offset::OffsetsBuffer;
use ccc_ingest::schema::timestamp_type;
use rayon::prelude::*;

use crate::build::{ConversationTable, OutputRow};
use crate::dictionary::Dictionary;
use crate::key::Role;
use crate::layout::Part;
use crate::state::Conversation;
use crate::text_dictionary::FirstSeen;

/// Indexes of the text columns in [`crate::schema::COLUMNS`].
const CITY: usize = 1;
const FIRST_MESSAGE_BY: usize = 6;
const STAGE: usize = 10;

/// The rows of one part file: the conversations of one UTC day that started in one hour.
#[derive(Debug, Clone)]
pub struct Partition {
    /// Its date and hour.
    pub part: Part,
    /// The columns, rows sorted by `order_id`.
    pub chunk: Chunk<Box<dyn Array>>,
    /// The same rows' text columns as dictionaries, by column index: what the Parquet
    /// writer encodes ([`crate::text_dictionary`]). A column whose every row is null has
    /// none.
    pub dictionaries: TextDictionaries,
}

/// Text columns as dictionaries, by column index.
pub type TextDictionaries = Vec<(usize, DictionaryArray<u32>)>;

impl Partition {
    /// The part of these columns, built by [`TableColumns`].
    pub(crate) fn new(part: Part, columns: TableColumns) -> Partition {
        let (chunk, dictionaries) = columns.finish();
        Partition {
            part,
            chunk,
            dictionaries,
        }
    }
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
        .map(|(part, start, end)| {
            Partition::new(
                part,
                rows_columns(&rows[start..end], &table.cities, &table.stages),
            )
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

/// Stored conversations as columns of equal length, their city and stage as codes of the
/// run's dictionaries: a run of rows to append with [`TableColumns::extend`].
pub(crate) struct StoredConversations<'a> {
    pub order_id: &'a [i64],
    pub city: &'a [u32],
    pub first_courier: PrimitiveArray<i64>,
    pub first_customer: PrimitiveArray<i64>,
    pub courier_messages: &'a [i64],
    pub customer_messages: &'a [i64],
    pub first_by_courier: Bitmap,
    /// The first message's time: `conversation_started_at`.
    pub started: &'a [i64],
    /// The last message's time.
    pub last: &'a [i64],
    pub last_stage: &'a [u32],
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
    city_keys: FirstSeen,
    role_keys: FirstSeen,
    stage_keys: FirstSeen,
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
            city_keys: FirstSeen::default(),
            role_keys: FirstSeen::default(),
            stage_keys: FirstSeen::default(),
        }
        .reserved_keys(n)
    }

    /// Empty columns with room for `rows` rows of any values of these dictionaries. The
    /// text columns reserve room for their longest values; room never written to is never
    /// touched, so it costs no memory.
    pub fn for_rows(rows: usize, cities: &Dictionary, stages: &Dictionary) -> Self {
        let longest = |d: &Dictionary| d.values().iter().map(String::len).max().unwrap_or(0);
        Self::with_capacity(RowsSize {
            rows,
            city_bytes: rows * longest(cities),
            role_bytes: rows * Role::LONGEST,
            stage_bytes: rows * longest(stages),
        })
    }

    fn reserved_keys(mut self, rows: usize) -> Self {
        self.city_keys.reserve(rows);
        self.role_keys.reserve(rows);
        self.stage_keys.reserve(rows);
        self
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
        self.city_keys.reserve(n);
        self.role_keys.reserve(n);
        self.stage_keys.reserve(n);
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
        let (city_name, stage) = (cities.value(city), stages.value(c.last_stage));
        let role = c.first_message_by.as_str();
        self.city_keys.push(city, city_name);
        self.role_keys.push(c.first_message_by as u32, Some(role));
        self.stage_keys.push(c.last_stage, stage);
        self.order_id.push(c.order_id);
        self.city.push(city_name);
        self.first_courier.push(c.first_courier_message);
        self.first_customer.push(c.first_customer_message);
        self.courier_messages.push(c.num_messages_courier);
        self.customer_messages.push(c.num_messages_customer);
        self.first_message_by.push(Some(role));
        self.started.push(Some(c.conversation_started_at));
        self.delay.push(c.first_responsetime_delay_seconds);
        self.last.push(Some(c.last_message_time));
        self.stage.push(stage);
    }

    /// Appends stored conversations given as columns, a column at a time: what a late
    /// run does with the unchanged rows of a part it rewrites. The same values as pushing
    /// each row's [`Conversation`] (a unit test in `incremental::state_columns` checks it).
    pub fn extend(
        &mut self,
        run: &StoredConversations<'_>,
        cities: &Dictionary,
        stages: &Dictionary,
    ) {
        let rows = run.order_id.len();
        self.order_id.extend_from_slice(run.order_id);
        for &city in run.city {
            let name = cities.value(city);
            self.city_keys.push(city, name);
            self.city.push(name);
        }
        self.first_courier
            .extend((0..rows).map(|i| run.first_courier.get(i)));
        self.first_customer
            .extend((0..rows).map(|i| run.first_customer.get(i)));
        self.courier_messages
            .extend_from_slice(run.courier_messages);
        self.customer_messages
            .extend_from_slice(run.customer_messages);
        for i in 0..rows {
            let role = if run.first_by_courier.get_bit(i) {
                Role::Courier
            } else {
                Role::Customer
            };
            self.role_keys.push(role as u32, Some(role.as_str()));
            self.first_message_by.push(Some(role.as_str()));
        }
        self.started.extend_from_slice(run.started);
        self.delay.extend((0..rows).map(|i| {
            let other_first = if run.first_by_courier.get_bit(i) {
                run.first_customer.get(i)
            } else {
                run.first_courier.get(i)
            };
            other_first.map(|t| crate::state::delay_seconds(run.started[i], t))
        }));
        self.last.extend_from_slice(run.last);
        for &stage in run.last_stage {
            let name = stages.value(stage);
            self.stage_keys.push(stage, name);
            self.stage.push(name);
        }
    }

    /// The chunk of the rows pushed, and its text columns as dictionaries.
    pub fn finish(self) -> (Chunk<Box<dyn Array>>, TextDictionaries) {
        let time = |a: MutablePrimitiveArray<i64>| -> Box<dyn Array> {
            PrimitiveArray::from(a).to(timestamp_type()).boxed()
        };
        let dictionaries = [
            (CITY, self.city_keys),
            (FIRST_MESSAGE_BY, self.role_keys),
            (STAGE, self.stage_keys),
        ]
        .into_iter()
        .filter_map(|(column, keys)| keys.finish().map(|d| (column, d)))
        .collect();
        let chunk = Chunk::new(vec![
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
        ]);
        (chunk, dictionaries)
    }
}

/// The Arrow columns of some rows.
pub fn to_chunk(table: &ConversationTable, rows: &[OutputRow]) -> Chunk<Box<dyn Array>> {
    rows_columns(rows, &table.cities, &table.stages).finish().0
}

/// The Arrow columns of rows whose codes are in these dictionaries.
fn rows_columns(rows: &[OutputRow], cities: &Dictionary, stages: &Dictionary) -> TableColumns {
    let mut size = RowsSize::default();
    rows.iter().for_each(|r| size.add(r, cities, stages));
    let mut columns = TableColumns::with_capacity(size);
    rows.iter().for_each(|r| columns.push(r, cities, stages));
    columns
}
