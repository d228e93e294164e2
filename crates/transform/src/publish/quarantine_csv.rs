//! The quarantine files: `quarantine/customer_courier_chat_messages.csv` (unusable and
//! orphan messages) and `quarantine/orders.csv`, one row per record kept out of the
//! table, with its original fields as text and `_reason`, `_file`, `_record`, `_line`.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use arrow2::array::{Array, BooleanArray, PrimitiveArray, Utf8Array};
use ccc_ingest::schema::FieldType;
use ccc_ingest::timestamp::format_rfc3339_micros;
use ccc_ingest::{with_unread_columns, Batch, Sources, Table};
use rustc_hash::FxHashMap;

use crate::error::{io_err, PublishError};
use crate::quarantine::{Quarantine, QuarantinedRow};

/// Columns appended after the table's own.
pub const QUARANTINE_COLUMNS: [&str; 4] = ["_reason", "_file", "_record", "_line"];

pub(crate) fn write_quarantine(
    dir: &Path,
    quarantine: &Quarantine,
    sources: &Sources,
) -> Result<(), PublishError> {
    let mut messages: Vec<&QuarantinedRow> = quarantine
        .messages
        .iter()
        .chain(&quarantine.orphans)
        .collect();
    messages.sort_by_key(|r| (r.batch, r.row));
    write_table(dir, Table::ChatMessages, &messages, sources)?;
    let orders: Vec<&QuarantinedRow> = quarantine.orders.iter().collect();
    write_table(dir, Table::Orders, &orders, sources)
}

fn write_table(
    dir: &Path,
    table: Table,
    rows: &[&QuarantinedRow],
    sources: &Sources,
) -> Result<(), PublishError> {
    let path = dir.join(format!("{}.csv", table.name()));
    let data = sources.table(table);
    // Raw text of values that did not fit, so the quarantine shows what the file held.
    let raw: FxHashMap<(u32, u64, &str), &str> = data
        .problems
        .iter()
        .map(|p| ((p.file, p.record, p.column), p.raw.as_str()))
        .collect();
    let file = File::create(&path).map_err(io_err(&path))?;
    let mut writer = csv::Writer::from_writer(BufWriter::new(file));
    let csv_err = |e: csv::Error| PublishError::Io {
        path: path.clone(),
        source: std::io::Error::other(e),
    };
    let header: Vec<&str> = table
        .columns()
        .iter()
        .map(|(n, _)| *n)
        .chain(QUARANTINE_COLUMNS)
        .collect();
    writer.write_record(&header).map_err(csv_err)?;
    // Batches read without some columns get them read again, once each, for their rows.
    let mut filled: FxHashMap<u32, Batch> = FxHashMap::default();
    for q in rows {
        let read = &data.batches[q.batch as usize];
        if !read.unread.is_empty() && !filled.contains_key(&q.batch) {
            filled.insert(q.batch, with_unread_columns(&sources.files, read)?);
        }
        let batch = filled.get(&q.batch).unwrap_or(read);
        let row = q.row as usize;
        let record = batch.first_record + row as u64;
        for (i, (name, ty)) in table.columns().iter().enumerate() {
            let array = batch.chunk.arrays()[i].as_ref();
            let text = match format_value(array, *ty, row) {
                Some(text) => text,
                None => raw
                    .get(&(batch.file, record, *name))
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
            };
            writer.write_field(&text).map_err(csv_err)?;
        }
        writer.write_field(q.reason.to_string()).map_err(csv_err)?;
        writer
            .write_field(&sources.files[batch.file as usize].name)
            .map_err(csv_err)?;
        writer.write_field(record.to_string()).map_err(csv_err)?;
        writer
            .write_field(batch.line(row).map(|l| l.to_string()).unwrap_or_default())
            .map_err(csv_err)?;
        writer.write_record(None::<&[u8]>).map_err(csv_err)?;
    }
    let inner = writer.into_inner().map_err(|e| PublishError::Io {
        path: path.clone(),
        source: e.into_error(),
    })?;
    let file = inner.into_inner().map_err(|e| PublishError::Io {
        path: path.clone(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(io_err(&path))
}

fn format_value(array: &dyn Array, ty: FieldType, row: usize) -> Option<String> {
    if array.is_null(row) {
        return None;
    }
    Some(match ty {
        FieldType::Utf8 => array
            .as_any()
            .downcast_ref::<Utf8Array<i32>>()?
            .value(row)
            .to_string(),
        FieldType::Int64 => array
            .as_any()
            .downcast_ref::<PrimitiveArray<i64>>()?
            .value(row)
            .to_string(),
        FieldType::Boolean => array
            .as_any()
            .downcast_ref::<BooleanArray>()?
            .value(row)
            .to_string(),
        FieldType::Timestamp => format_rfc3339_micros(
            array
                .as_any()
                .downcast_ref::<PrimitiveArray<i64>>()?
                .value(row),
        ),
        // The source tables have neither.
        FieldType::Float64 | FieldType::Date => return None,
    })
}
