//! The state's tables and their Parquet columns. Per-order conversation state
//! (`conversations/YYYY-MM-DDTHH.parquet`, one base file per part of the output and its
//! delta, [`super::part_state`], and `waiting.parquet`) keeps the first and last message
//! keys of the total order, their stages as indexes into the manifest's append-only list
//! (as cities are), so no string is written or read per row. The order book
//! (`orders/*.parquet`) is also the index from an order to the part holding its
//! conversation.

use arrow2::array::{Array, BooleanArray, MutablePrimitiveArray, PrimitiveArray};
use arrow2::chunk::Chunk;
use ccc_ingest::schema::{timestamp_type, FieldType, TableLayout};
use ccc_ingest::Batch;

use super::state_columns::{check_batches, CheckedBatch};
use crate::dictionary::Dictionary;
use crate::key::{MessageKey, Role};
use crate::layout::Part;
use crate::state::ConversationState;

/// Columns of a conversation-state file, one row per order.
pub const STATE_COLUMNS: &[(&str, FieldType)] = &[
    ("order_id", FieldType::Int64),
    ("first_message_time", FieldType::Timestamp),
    ("first_chat_started", FieldType::Boolean),
    ("first_by_courier", FieldType::Boolean),
    ("first_from_id", FieldType::Int64),
    ("first_order_stage", FieldType::Int64),
    ("last_message_time", FieldType::Timestamp),
    ("last_chat_started", FieldType::Boolean),
    ("last_by_courier", FieldType::Boolean),
    ("last_from_id", FieldType::Int64),
    ("last_order_stage", FieldType::Int64),
    ("first_courier_message", FieldType::Timestamp),
    ("first_customer_message", FieldType::Timestamp),
    ("num_messages_courier", FieldType::Int64),
    ("num_messages_customer", FieldType::Int64),
    ("first_seen_run", FieldType::Int64),
    ("city", FieldType::Int64),
];

/// Columns of an order-book shard (`orders/*.parquet`), one row per known order, sorted by
/// `order_id`. `city` is a 1-based index into the manifest's `cities`.
pub const ORDERS_COLUMNS: &[(&str, FieldType)] = &[
    ("order_id", FieldType::Int64),
    ("city", FieldType::Int64),
    ("conflicting", FieldType::Boolean),
    ("conversation_part", FieldType::Int64),
];

/// The layout of conversation-state files.
pub fn state_layout() -> TableLayout {
    TableLayout {
        name: "conversation_state",
        columns: STATE_COLUMNS,
    }
}

/// The layout of `orders.parquet`.
pub fn orders_layout() -> TableLayout {
    TableLayout {
        name: "order_state",
        columns: ORDERS_COLUMNS,
    }
}

/// One order's partial conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateRow {
    /// The order.
    pub order_id: i64,
    /// Its messages so far, stage codes in the run's stage dictionary.
    pub state: ConversationState,
    /// The run that first folded a message of this order.
    pub first_seen_run: u64,
    /// The order's city, a code of the run's city dictionary (0 while the order is unknown).
    pub city: u32,
}

/// The codes of one run's strings (a sorted [`Dictionary`], so codes follow string order)
/// and a manifest's append-only list of the same strings (stable indexes, so files written
/// by earlier runs stay valid), mapped both ways: the state's cities and stages are stored
/// as indexes. Index and code 0 are null.
#[derive(Debug, Clone, Default)]
pub struct ListCodes {
    /// Manifest index → run code.
    pub to_run: Vec<u32>,
    /// Run code → manifest index.
    pub to_manifest: Vec<u32>,
}

impl ListCodes {
    /// The mapping between a manifest list and a run dictionary holding every one of its
    /// strings.
    pub fn new(manifest: &[String], run: &Dictionary) -> ListCodes {
        let mut codes = ListCodes {
            to_run: vec![0; manifest.len() + 1],
            to_manifest: vec![0; run.len() + 1],
        };
        for (i, value) in manifest.iter().enumerate() {
            let code = run
                .code(value)
                .expect("the run's dictionary includes the manifest's list");
            codes.to_run[i + 1] = code;
            codes.to_manifest[code as usize] = i as u32 + 1;
        }
        codes
    }

    pub(crate) fn run_code(&self, index: i64) -> Option<u32> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.to_run.get(i))
            .copied()
            .filter(|&c| c != 0)
    }

    fn manifest_index(&self, code: u32) -> Option<i64> {
        self.to_manifest
            .get(code as usize)
            .copied()
            .filter(|&i| i != 0)
            .map(i64::from)
    }
}

/// Every known order, sorted by id: city (the smallest seen), whether cities conflicted,
/// and the part holding its conversation (none before its first message). Stored as hours
/// since the epoch ([`Part::hours`]) in `conversation_part`.
#[derive(Debug, Clone, Default)]
pub struct OrdersState {
    /// Order ids, ascending.
    pub ids: Vec<i64>,
    /// City codes in `cities`.
    pub city: Vec<u32>,
    /// The city strings.
    pub cities: Dictionary,
    /// More than one city was seen for the order.
    pub conflicting: Vec<bool>,
    /// The part file holding the conversation.
    pub part: Vec<Option<Part>>,
}

impl OrdersState {
    /// Position of an order.
    pub fn find(&self, order_id: i64) -> Option<usize> {
        self.ids.binary_search(&order_id).ok()
    }

    /// Number of orders.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True with no order.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Appends one order.
    pub fn push(&mut self, id: i64, city: u32, conflicting: bool, part: Option<Part>) {
        self.ids.push(id);
        self.city.push(city);
        self.conflicting.push(conflicting);
        self.part.push(part);
    }

    /// Appends every order of `from`, whose city codes are already this book's.
    pub fn extend(&mut self, from: &OrdersState) {
        self.ids.extend_from_slice(&from.ids);
        self.city.extend_from_slice(&from.city);
        self.conflicting.extend_from_slice(&from.conflicting);
        self.part.extend_from_slice(&from.part);
    }

    /// Appends the orders `range` of `from`, their city codes mapped through `recode`.
    pub fn append(&mut self, from: &OrdersState, range: std::ops::Range<usize>, recode: &[u32]) {
        self.ids.extend_from_slice(&from.ids[range.clone()]);
        self.city
            .extend(from.city[range.clone()].iter().map(|&c| recode[c as usize]));
        self.conflicting
            .extend_from_slice(&from.conflicting[range.clone()]);
        self.part.extend_from_slice(&from.part[range]);
    }
}

pub(crate) fn role_of(by_courier: bool) -> Role {
    if by_courier {
        Role::Courier
    } else {
        Role::Customer
    }
}

/// The Arrow columns of state rows; stage and city codes are written as indexes into the
/// manifest's lists, roles as booleans, so no string is written or read per row. Each
/// column is built by a closure the compiler specialises, with no validity where it is
/// never null: a run writes every rewritten part's state with it.
pub fn state_chunk(
    rows: &[StateRow],
    stages: &ListCodes,
    cities: &ListCodes,
) -> Chunk<Box<dyn Array>> {
    fn required(rows: &[StateRow], f: impl Fn(&StateRow) -> i64) -> PrimitiveArray<i64> {
        PrimitiveArray::from_vec(rows.iter().map(f).collect())
    }
    fn optional(rows: &[StateRow], f: impl Fn(&StateRow) -> Option<i64>) -> PrimitiveArray<i64> {
        PrimitiveArray::from_trusted_len_iter(rows.iter().map(f))
    }
    fn time(a: PrimitiveArray<i64>) -> Box<dyn Array> {
        a.to(timestamp_type()).boxed()
    }
    fn bools(rows: &[StateRow], f: impl Fn(&StateRow) -> bool) -> Box<dyn Array> {
        BooleanArray::from_trusted_len_values_iter(rows.iter().map(f)).boxed()
    }
    Chunk::new(vec![
        required(rows, |r| r.order_id).boxed(),
        time(required(rows, |r| r.state.first.time)),
        bools(rows, |r| !r.state.first.not_started),
        bools(rows, |r| r.state.first.role == Role::Courier),
        optional(rows, |r| r.state.first.from_id()).boxed(),
        optional(rows, |r| stages.manifest_index(r.state.first.stage)).boxed(),
        time(required(rows, |r| r.state.last.time)),
        bools(rows, |r| !r.state.last.not_started),
        bools(rows, |r| r.state.last.role == Role::Courier),
        optional(rows, |r| r.state.last.from_id()).boxed(),
        optional(rows, |r| stages.manifest_index(r.state.last.stage)).boxed(),
        time(optional(rows, |r| r.state.first_courier())),
        time(optional(rows, |r| r.state.first_customer())),
        required(rows, |r| r.state.courier_messages).boxed(),
        required(rows, |r| r.state.customer_messages).boxed(),
        required(rows, |r| r.first_seen_run as i64).boxed(),
        optional(rows, |r| cities.manifest_index(r.city)).boxed(),
    ])
}

fn col<T: 'static>(batch: &Batch, index: usize) -> &T {
    batch.chunk.arrays()[index]
        .as_any()
        .downcast_ref::<T>()
        .expect("the reader produces the layout's types")
}

/// State rows from batches read with [`state_layout`]. `Err` names what is wrong.
pub fn state_rows(
    batches: &[Batch],
    stages: &ListCodes,
    cities: &ListCodes,
) -> Result<Vec<StateRow>, String> {
    let checked = check_batches(batches, stages, cities)?;
    let mut rows = Vec::with_capacity(checked.iter().map(CheckedBatch::len).sum());
    for batch in &checked {
        rows.extend(batch.rows());
    }
    Ok(rows)
}

/// Columns of a state file that are never null.
pub(crate) const REQUIRED: [usize; 10] = [0, 1, 2, 3, 6, 7, 8, 13, 14, 15];

/// What is wrong with a batch [`CheckedBatch::check`] refused: the row-by-row reader's
/// message, naming the record.
pub(crate) fn first_problem(batch: &Batch, stages: &ListCodes, cities: &ListCodes) -> String {
    match checked_state_rows(batch, stages, cities) {
        Err(problem) => problem,
        Ok(_) => format!(
            "records {}–{}: a row is incomplete",
            batch.first_record,
            batch.first_record + batch.len() as u64
        ),
    }
}

fn checked_state_rows(
    batch: &Batch,
    stages: &ListCodes,
    cities: &ListCodes,
) -> Result<Vec<StateRow>, String> {
    let mut rows = Vec::with_capacity(batch.len());
    {
        let int = |i| col::<PrimitiveArray<i64>>(batch, i);
        let boolean = |i| col::<BooleanArray>(batch, i);
        let (order_id, first_time, first_started, first_role, first_from, first_stage) =
            (int(0), int(1), boolean(2), boolean(3), int(4), int(5));
        let (last_time, last_started, last_role, last_from, last_stage) =
            (int(6), boolean(7), boolean(8), int(9), int(10));
        let (first_courier, first_customer, couriers, customers, seen, city) =
            (int(11), int(12), int(13), int(14), int(15), int(16));
        for i in 0..batch.len() {
            let record = batch.first_record + i as u64;
            let missing = |what: &str| format!("record {record}: {what} is missing");
            let stage = |a: &PrimitiveArray<i64>| -> Result<u32, String> {
                match a.get(i) {
                    None => Ok(0),
                    Some(index) => stages.run_code(index).ok_or_else(|| {
                        format!("record {record}: stage {index} is not in the manifest")
                    }),
                }
            };
            let role = |a: &BooleanArray| -> Result<Role, String> {
                a.get(i).map(role_of).ok_or_else(|| missing("a role"))
            };
            let key = |time: &PrimitiveArray<i64>,
                       started: &BooleanArray,
                       role_col: &BooleanArray,
                       from: &PrimitiveArray<i64>,
                       stage_col: &PrimitiveArray<i64>|
             -> Result<MessageKey, String> {
                Ok(MessageKey::new(
                    time.get(i).ok_or_else(|| missing("a message time"))?,
                    !started.get(i).ok_or_else(|| missing("chat_started"))?,
                    role(role_col)?,
                    from.get(i),
                    stage(stage_col)?,
                ))
            };
            rows.push(StateRow {
                order_id: order_id.get(i).ok_or_else(|| missing("order_id"))?,
                state: ConversationState::from_parts(
                    key(
                        first_time,
                        first_started,
                        first_role,
                        first_from,
                        first_stage,
                    )?,
                    key(last_time, last_started, last_role, last_from, last_stage)?,
                    first_courier.get(i),
                    first_customer.get(i),
                    couriers.get(i).ok_or_else(|| missing("a count"))?,
                    customers.get(i).ok_or_else(|| missing("a count"))?,
                )
                .ok_or_else(|| {
                    format!("record {record}: a first message time disagrees with its count")
                })?,
                first_seen_run: seen.get(i).ok_or_else(|| missing("first_seen_run"))? as u64,
                city: match city.get(i) {
                    None => 0,
                    Some(index) => cities.run_code(index).ok_or_else(|| {
                        format!("record {record}: city {index} is not in the manifest")
                    })?,
                },
            });
        }
    }
    Ok(rows)
}

/// The Arrow columns of some orders of the book.
pub fn orders_chunk(
    orders: &OrdersState,
    range: std::ops::Range<usize>,
    cities: &ListCodes,
) -> Chunk<Box<dyn Array>> {
    let mut part = MutablePrimitiveArray::<i64>::with_capacity(range.len());
    part.extend(
        orders.part[range.clone()]
            .iter()
            .map(|p| p.map(Part::hours)),
    );
    let city: Vec<i64> = orders.city[range.clone()]
        .iter()
        .map(|&c| cities.manifest_index(c).unwrap_or(0))
        .collect();
    Chunk::new(vec![
        PrimitiveArray::<i64>::from_slice(&orders.ids[range.clone()]).boxed(),
        PrimitiveArray::<i64>::from_vec(city).boxed(),
        BooleanArray::from_slice(&orders.conflicting[range]).boxed(),
        PrimitiveArray::from(part).boxed(),
    ])
}

/// Appends orders read with [`orders_layout`] to `orders` (ids must keep ascending).
pub fn append_orders(
    orders: &mut OrdersState,
    batches: &[Batch],
    cities: &ListCodes,
) -> Result<(), String> {
    let rows: usize = batches.iter().map(Batch::len).sum();
    orders.ids.reserve(rows);
    orders.city.reserve(rows);
    orders.conflicting.reserve(rows);
    orders.part.reserve(rows);
    for batch in batches {
        let ids = col::<PrimitiveArray<i64>>(batch, 0);
        let city = col::<PrimitiveArray<i64>>(batch, 1);
        let conflicting = col::<BooleanArray>(batch, 2);
        let part = col::<PrimitiveArray<i64>>(batch, 3);
        let at = |i: usize| batch.first_record + i as u64;
        let complete = ids.null_count() == 0 && city.null_count() == 0;
        if let Some(i) = (!complete)
            .then(|| (0..batch.len()).find(|&i| ids.is_null(i) || city.is_null(i)))
            .flatten()
        {
            return Err(format!("record {}: order_id or city is missing", at(i)));
        }
        let values = ids.values();
        let unordered = orders
            .ids
            .last()
            .filter(|&&last| values.first().is_some_and(|&first| first <= last))
            .map(|_| 0)
            .or_else(|| values.windows(2).position(|w| w[0] >= w[1]).map(|i| i + 1));
        if let Some(i) = unordered {
            return Err(format!("record {}: order ids are not ascending", at(i)));
        }
        let from = orders.city.len();
        orders.city.extend(
            city.values()
                .iter()
                .map(|&index| cities.run_code(index).unwrap_or(0)),
        );
        if let Some(i) = orders.city[from..].iter().position(|&code| code == 0) {
            let index = city.value(i);
            return Err(format!(
                "record {}: city {index} is not in the manifest",
                at(i)
            ));
        }
        orders.ids.extend_from_slice(values);
        match conflicting.validity() {
            None => orders.conflicting.extend(conflicting.values_iter()),
            Some(_) => orders
                .conflicting
                .extend(conflicting.iter().map(|c| c.unwrap_or(false))),
        }
        match part.validity() {
            None => orders
                .part
                .extend(part.values().iter().map(|&h| Some(Part::from_hours(h)))),
            Some(_) => orders
                .part
                .extend(part.iter().map(|h| h.map(|&h| Part::from_hours(h)))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(chunk: Chunk<Box<dyn Array>>) -> Batch {
        Batch {
            file: 0,
            first_record: 1,
            lines: None,
            chunk,
            unread: Vec::new(),
            position: 1,
        }
    }

    #[test]
    fn state_rows_round_trip_through_arrow() {
        let stage_names = Dictionary::from_values(vec!["ACCEPTED".into(), "DELIVERED".into()]);
        // Stages are stored as indexes of the manifest's list, like cities.
        let stages = ListCodes::new(&["DELIVERED".into(), "ACCEPTED".into()], &stage_names);
        let cities = Dictionary::from_values(vec!["BCN".into(), "LIS".into()]);
        // The manifest lists LIS first: indexes are stable, codes follow string order.
        let codes = ListCodes::new(&["LIS".into(), "BCN".into()], &cities);
        let key =
            |time, role, stage, from_id| MessageKey::new(time, time != 10, role, from_id, stage);
        let mut state = ConversationState::new(key(10, Role::Customer, 0, None));
        state.update(key(99, Role::Courier, 2, Some(7)));
        let rows = vec![
            StateRow {
                order_id: -5,
                state,
                first_seen_run: 4,
                city: 1,
            },
            StateRow {
                order_id: 8,
                state,
                first_seen_run: 5,
                city: 0,
            },
        ];
        let chunk = state_chunk(&rows, &stages, &codes);
        let written = chunk.arrays()[16]
            .as_any()
            .downcast_ref::<PrimitiveArray<i64>>()
            .unwrap();
        assert_eq!(written.get(0), Some(2), "BCN is the manifest's second city");
        assert_eq!(written.get(1), None, "a waiting order has no city");
        let last_stage = chunk.arrays()[10]
            .as_any()
            .downcast_ref::<PrimitiveArray<i64>>()
            .unwrap();
        assert_eq!(
            last_stage.get(0),
            Some(1),
            "DELIVERED is the manifest's first stage"
        );
        assert_eq!(state_rows(&[batch(chunk)], &stages, &codes).unwrap(), rows);
    }

    #[test]
    fn the_order_book_round_trips_and_checks_its_city_codes() {
        let cities = Dictionary::from_values(vec!["BCN".into(), "LIS".into()]);
        let codes = ListCodes::new(&["BCN".into(), "LIS".into()], &cities);
        let orders = OrdersState {
            ids: vec![3, 9],
            city: vec![2, 1],
            cities: cities.clone(),
            conflicting: vec![false, true],
            part: vec![Some(Part::from_hours(474_096)), None],
        };
        let chunk = orders_chunk(&orders, 0..2, &codes);
        let mut back = OrdersState {
            cities: cities.clone(),
            ..OrdersState::default()
        };
        append_orders(&mut back, &[batch(chunk.clone())], &codes).unwrap();
        assert_eq!(
            (back.ids, back.city, back.conflicting, back.part),
            (orders.ids, orders.city, orders.conflicting, orders.part)
        );
        let one = Dictionary::from_values(vec!["BCN".into()]);
        let short = ListCodes::new(&["BCN".into()], &one);
        let err = append_orders(&mut OrdersState::default(), &[batch(chunk)], &short).unwrap_err();
        assert_eq!(err, "record 1: city 2 is not in the manifest");
    }

    #[test]
    fn a_stage_outside_the_manifest_is_an_error() {
        let names = Dictionary::from_values(vec!["ACCEPTED".into()]);
        let stages = ListCodes::new(&["ACCEPTED".into()], &names);
        let key = MessageKey::new(1, true, Role::Courier, None, 1);
        let rows = vec![StateRow {
            order_id: 1,
            state: ConversationState::new(key),
            first_seen_run: 1,
            city: 0,
        }];
        let codes = ListCodes::default();
        let chunk = state_chunk(&rows, &stages, &codes);
        let err = state_rows(&[batch(chunk)], &ListCodes::default(), &codes).unwrap_err();
        assert_eq!(err, "record 1: stage 1 is not in the manifest");
    }
}
