//! Generated records as Arrow columns for Parquet output: ids as Int64, booleans as
//! Boolean, `messageSentTime` as a UTC microsecond timestamp. Columns are built in
//! parallel; an injected null, empty string or unknown value replaces the clean value.

use arrow2::array::{Array, BooleanArray, PrimitiveArray, Utf8Array};
use arrow2::chunk::Chunk;
use rayon::prelude::*;

use super::dirty::{self, Injection};
use super::model::{Message, OrderRow, APP_TYPES, CITIES, STAGES};
use ccc_ingest::schema::{FieldType, Table};

/// The value a string column holds for a record broken by `injection` (Parquet holds
/// only nulls, empty strings and unknown values).
fn dirty_str(table: Table, injection: Injection) -> Option<&'static str> {
    let (name, ty) = table.columns()[usize::from(injection.column)];
    match dirty::cell(name, ty, injection) {
        super::text::Cell::Str(s) => Some(s),
        _ => None,
    }
}

/// The value of column `column` for a record, or the injected replacement.
fn value<T>(
    injection: Option<Injection>,
    column: usize,
    clean: T,
    broken: impl Fn(Injection) -> T,
) -> T {
    match injection {
        Some(inj) if usize::from(inj.column) == column => broken(inj),
        _ => clean,
    }
}

/// One row group of messages.
pub(crate) fn messages(rows: &[Message]) -> Chunk<Box<dyn Array>> {
    let t = Table::ChatMessages;
    let columns: Vec<Box<dyn Array>> = (0..t.columns().len())
        .into_par_iter()
        .map(|c| -> Box<dyn Array> {
            let ints = |get: fn(&Message) -> i64| -> Box<dyn Array> {
                PrimitiveArray::<i64>::from_iter(
                    rows.iter()
                        .map(|m| value(m.dirty, c, Some(get(m)), |_| None)),
                )
                .boxed()
            };
            match c {
                0 => Utf8Array::<i32>::from_iter(rows.iter().map(|m| {
                    value(m.dirty, c, Some(APP_TYPES[usize::from(m.app)]), |inj| {
                        dirty_str(t, inj)
                    })
                }))
                .boxed(),
                1 => ints(|m| m.customer_id),
                2 => ints(Message::sender_id),
                3 => ints(Message::receiver_id),
                4 => BooleanArray::from_iter(
                    rows.iter()
                        .map(|m| value(m.dirty, c, Some(m.seq == 0), |_| None)),
                )
                .boxed(),
                5 => ints(|m| m.order_id),
                6 => Utf8Array::<i32>::from_iter(rows.iter().map(|m| {
                    value(m.dirty, c, Some(STAGES[usize::from(m.stage)]), |inj| {
                        dirty_str(t, inj)
                    })
                }))
                .boxed(),
                7 => ints(|m| m.courier_id),
                _ => PrimitiveArray::<i64>::from_iter(
                    rows.iter()
                        .map(|m| value(m.dirty, c, Some(m.time), |_| None)),
                )
                .to(FieldType::Timestamp.data_type())
                .boxed(),
            }
        })
        .collect();
    Chunk::new(columns)
}

/// One row group of orders.
pub(crate) fn orders(rows: &[OrderRow]) -> Chunk<Box<dyn Array>> {
    let t = Table::Orders;
    let ids = PrimitiveArray::<i64>::from_iter(
        rows.iter()
            .map(|o| value(o.dirty, 0, Some(o.order_id), |_| None)),
    );
    let cities = Utf8Array::<i32>::from_iter(rows.iter().map(|o| {
        value(o.dirty, 1, Some(CITIES[usize::from(o.city)]), |inj| {
            dirty_str(t, inj)
        })
    }));
    Chunk::new(vec![ids.boxed(), cities.boxed()])
}
