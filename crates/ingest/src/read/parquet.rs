//! Parquet sources: columns are picked by name (missing ones are null, extra ones are not
//! read), row groups are read in parallel and their columns decoded in parallel, and each
//! column is coerced to the table's type: integers widen, strings are parsed, timestamps
//! of any unit become UTC microseconds (naive ones are taken as UTC). A column the caller
//! needs only for presence is left unread when the file proves it complete (see
//! [`complete_columns`]).

use std::fs::File;

use arrow2::array::{Array, MutablePrimitiveArray, NullArray, PrimitiveArray, Utf8Array};
use arrow2::bitmap::Bitmap;
use arrow2::chunk::Chunk;
use arrow2::compute::cast::{cast, CastOptions};
use arrow2::datatypes::{DataType, TimeUnit};
use arrow2::io::parquet::read as pq;
use rayon::prelude::*;

use super::columns::TableBuilder;
use super::{parquet_check, parquet_fixed, parquet_text};
use crate::error::IngestError;
use crate::problems::{FieldProblem, ProblemKind};
use crate::schema::{FieldType, TableLayout};
use crate::sources::Batch;
use crate::timestamp;

/// Rows per batch: a row group is decoded this many rows at a time (its last batch may be
/// shorter), small enough for a batch's columns to stay in the cache while they are
/// checked, large enough to keep per-batch costs invisible.
const BATCH_ROWS: usize = 64 * 1024;

/// Reads one Parquet file of `table`.
pub(crate) fn read_parquet(
    file_index: u32,
    path: &std::path::Path,
    table: TableLayout,
    presence_only: &dyn Fn(&str) -> bool,
    on_batch: &(dyn Fn(&mut Batch, &[FieldProblem]) + Sync),
) -> Result<super::FileContents, IngestError> {
    let parquet_err = |source| IngestError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let open = || {
        crate::open::open_regular(path).map_err(|source| IngestError::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    let metadata = read_checked_metadata(path, &mut open()?)?;
    let file_schema = infer_schema(path, &metadata)?;
    let columns = table.columns;
    // For each table column, the file's field with that name, if any.
    let in_file: Vec<Option<arrow2::datatypes::Field>> = columns
        .iter()
        .map(|(name, _)| file_schema.fields.iter().find(|f| f.name == *name).cloned())
        .collect();
    if in_file.iter().all(Option::is_none) {
        return Err(IngestError::ParquetContent {
            path: path.to_path_buf(),
            message: format!("it has none of the columns of {}", table.name),
        });
    }
    let unread = complete_columns(&metadata, &in_file, columns, presence_only);
    let wanted: Vec<Option<arrow2::datatypes::Field>> = in_file
        .into_iter()
        .enumerate()
        .map(|(i, f)| f.filter(|_| !unread.contains(&i)))
        .collect();
    let mut first_rows = Vec::with_capacity(metadata.row_groups.len());
    let mut next = 1u64;
    for rg in &metadata.row_groups {
        first_rows.push(next);
        next += rg.num_rows() as u64;
    }
    let present: Vec<arrow2::datatypes::Field> = wanted.iter().flatten().cloned().collect();
    let groups: Vec<Result<Vec<BatchWithProblems>, IngestError>> = metadata
        .row_groups
        .par_iter()
        .zip(first_rows.par_iter())
        // An empty row group (a writer's zero-row chunk) has no pages to decode.
        .filter(|(rg, _)| rg.num_rows() > 0)
        .map(|(rg, &first_record)| {
            let mut readers = column_batches(&mut open()?, rg, &present).map_err(parquet_err)?;
            // A row group is decoded BATCH_ROWS rows at a time, all columns in step, so
            // that a batch is handed over (and checked) while it is still in the cache.
            let mut out = Vec::new();
            let mut next_record = first_record;
            let mut left = rg.num_rows();
            while left > 0 {
                let rows = left.min(BATCH_ROWS);
                let decoded: Vec<Box<dyn Array>> = readers
                    .par_iter_mut()
                    .map(|iter| match parquet_check::decode_guarded(|| iter.next()) {
                        Ok(Some(array)) => array,
                        Ok(None) => Err(arrow2::error::Error::OutOfSpec(String::from(
                            "a column has fewer values than its row group",
                        ))),
                        Err(panic) => Err(arrow2::error::Error::OutOfSpec(panic)),
                    })
                    .collect::<Result<_, arrow2::error::Error>>()
                    .map_err(parquet_err)?;
                if let Some(short) = decoded.iter().find(|a| a.len() != rows) {
                    return Err(parquet_err(arrow2::error::Error::OutOfSpec(format!(
                        "a column gave {} values where its row group has {rows} more",
                        short.len()
                    ))));
                }
                let mut decoded = decoded.into_iter();
                let mut problems = Vec::new();
                let mut arrays = Vec::with_capacity(columns.len());
                for (i, field) in wanted.iter().enumerate() {
                    let (name, ty) = columns[i];
                    let array = match field {
                        Some(_) => {
                            let source = decoded
                                .next()
                                .expect("one decoded array per present column");
                            let (array, bad) = coerce(source.as_ref(), ty).map_err(parquet_err)?;
                            problems.extend(bad.into_iter().map(|(row, raw, kind)| FieldProblem {
                                file: file_index,
                                record: next_record + row as u64,
                                line: None,
                                column: name,
                                raw,
                                kind,
                            }));
                            array
                        }
                        None if unread.contains(&i) => NullArray::new(DataType::Null, rows).boxed(),
                        None => arrow2::array::new_null_array(ty.data_type(), rows),
                    };
                    arrays.push(array);
                }
                let mut batch = Batch {
                    file: file_index,
                    first_record: next_record,
                    lines: None,
                    chunk: Chunk::new(arrays),
                    unread: unread.clone(),
                    position: next_record,
                };
                on_batch(&mut batch, &problems);
                out.push((batch, problems));
                next_record += rows as u64;
                left -= rows;
            }
            Ok(out)
        })
        .collect();
    let mut batches = Vec::with_capacity(groups.len());
    let mut problems = Vec::new();
    for group in groups {
        for (batch, bad) in group? {
            batches.push(batch);
            problems.extend(bad);
        }
    }
    Ok((batches, problems))
}

/// An iterator of `BATCH_ROWS`-row arrays for each of `fields` in row group `rg`: flat
/// plain-encoded text by [`super::parquet_text`], flat plain-encoded numbers by
/// [`super::parquet_fixed`], anything else by arrow2.
fn column_batches(
    file: &mut File,
    rg: &pq::RowGroupMetaData,
    fields: &[arrow2::datatypes::Field],
) -> arrow2::error::Result<Vec<pq::ArrayIter<'static>>> {
    fields
        .iter()
        .map(|field| {
            let mut chunks = pq::read_columns(file, rg.columns(), &field.name)?;
            if chunks.is_empty() {
                return Err(arrow2::error::Error::OutOfSpec(format!(
                    "the schema names column `{}`, which the row group does not hold",
                    field.name
                )));
            }
            for (meta, bytes) in &chunks {
                parquet_check::check_pages(meta, bytes, rg.num_rows())
                    .map_err(arrow2::error::Error::OutOfSpec)?;
            }
            let decoder = parquet_check::decode_guarded(|| match chunks.as_slice() {
                [(meta, _)] if parquet_text::applies(meta, field) => {
                    let (meta, bytes) = chunks.pop().expect("one chunk");
                    Ok(Box::new(parquet_text::plain_text_batches(
                        meta,
                        bytes,
                        rg.num_rows(),
                        BATCH_ROWS,
                    )) as pq::ArrayIter<'static>)
                }
                [(meta, _)] if parquet_fixed::applies(meta, field) => {
                    let (meta, bytes) = chunks.pop().expect("one chunk");
                    Ok(parquet_fixed::plain_fixed_batches(
                        meta,
                        field,
                        bytes,
                        rg.num_rows(),
                        BATCH_ROWS,
                    ))
                }
                _ => checked_deserializer(chunks, field, rg.num_rows()),
            });
            decoder.unwrap_or_else(|panic| Err(arrow2::error::Error::OutOfSpec(panic)))
        })
        .collect()
}

/// arrow2's `to_deserializer` with each decompressed page checked first
/// ([`parquet_check::CheckedPages`]).
fn checked_deserializer(
    chunks: Vec<(&pq::ColumnChunkMetaData, Vec<u8>)>,
    field: &arrow2::datatypes::Field,
    rows: usize,
) -> arrow2::error::Result<pq::ArrayIter<'static>> {
    let (columns, types): (Vec<_>, Vec<_>) = chunks
        .into_iter()
        .map(|(meta, bytes)| {
            // As arrow2 does: no page may claim more than twice the chunk's bytes.
            let max_page = bytes.len() * 2 + 1024;
            let pages = pq::PageReader::new(
                std::io::Cursor::new(bytes),
                meta,
                std::sync::Arc::new(|_, _| true),
                Vec::new(),
                max_page,
            );
            let pages = pq::BasicDecompressor::new(pages, Vec::new());
            (
                parquet_check::CheckedPages::new(pages),
                &meta.descriptor().descriptor.primitive_type,
            )
        })
        .unzip();
    pq::column_iter_to_arrays(
        columns,
        types,
        field.clone(),
        Some(BATCH_ROWS.min(rows)),
        rows,
    )
}

/// ccc's own finding that a Parquet file is damaged (a check, or a decoder panic caught).
fn content_err(path: &std::path::Path) -> impl FnOnce(String) -> IngestError + '_ {
    move |message| IngestError::ParquetContent {
        path: path.to_path_buf(),
        message,
    }
}

/// The Arrow schema of the Parquet file at `path`, its footer checked first.
pub(crate) fn file_schema(
    path: &std::path::Path,
) -> Result<arrow2::datatypes::Schema, IngestError> {
    let mut file = crate::open::open_regular(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let metadata = read_checked_metadata(path, &mut file)?;
    infer_schema(path, &metadata)
}

/// The file's Arrow schema; arrow2 panics on some damaged embedded schemas.
fn infer_schema(
    path: &std::path::Path,
    metadata: &pq::FileMetaData,
) -> Result<arrow2::datatypes::Schema, IngestError> {
    parquet_check::decode_guarded(|| pq::infer_schema(metadata))
        .map_err(content_err(path))?
        .map_err(|source| IngestError::Parquet {
            path: path.to_path_buf(),
            source,
        })
}

/// Reads a file's footer and checks it against the file ([`parquet_check::check_metadata`]).
fn read_checked_metadata(
    path: &std::path::Path,
    file: &mut File,
) -> Result<pq::FileMetaData, IngestError> {
    let metadata = parquet_check::decode_guarded(|| pq::read_metadata(file))
        .map_err(content_err(path))?
        .map_err(|source| IngestError::Parquet {
            path: path.to_path_buf(),
            source,
        })?;
    let len = file
        .metadata()
        .map_err(|source| IngestError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    parquet_check::check_metadata(&metadata, len).map_err(content_err(path))?;
    Ok(metadata)
}

/// The rows `first_record..first_record + rows` (1-based records of the file) of the
/// columns `columns` (indices into the table's columns), read again: the values of
/// columns a batch was read without. The rows lie in one row group, as a batch's do.
pub(crate) fn read_rows(
    path: &std::path::Path,
    table: TableLayout,
    first_record: u64,
    rows: usize,
    columns: &[usize],
) -> Result<Vec<Box<dyn Array>>, IngestError> {
    let parquet_err = |source| IngestError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let mut file = crate::open::open_regular(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let metadata = read_checked_metadata(path, &mut file)?;
    let file_schema = infer_schema(path, &metadata)?;
    let mut start = 1u64;
    let group = metadata.row_groups.iter().find(|rg| {
        let end = start + rg.num_rows() as u64;
        let holds = first_record >= start && first_record + rows as u64 <= end;
        start = end;
        holds
    });
    let group_start = start - group.map_or(0, |rg| rg.num_rows() as u64);
    let (Some(group), Ok(offset)) = (group, usize::try_from(first_record - group_start)) else {
        return Err(parquet_err(arrow2::error::Error::OutOfSpec(format!(
            "records {first_record}..{} are no longer in one row group (did the file change?)",
            first_record + rows as u64
        ))));
    };
    columns
        .iter()
        .map(|&i| {
            let (name, ty) = table.columns[i];
            let field = file_schema
                .fields
                .iter()
                .find(|f| f.name == name)
                .cloned()
                .ok_or_else(|| {
                    parquet_err(arrow2::error::Error::OutOfSpec(format!(
                        "column {name} is no longer in the file (did the file change?)"
                    )))
                })?;
            // The same checked decoding as the first read: the file may have changed.
            let mut readers = column_batches(&mut file, group, &[field]).map_err(parquet_err)?;
            let parts = readers
                .pop()
                .map(|iter| {
                    parquet_check::decode_guarded(|| iter.collect::<Result<Vec<_>, _>>())
                        .unwrap_or_else(|panic| Err(arrow2::error::Error::OutOfSpec(panic)))
                })
                .transpose()
                .map_err(parquet_err)?
                .unwrap_or_default();
            let whole = arrow2::compute::concatenate::concatenate(
                &parts.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
            )
            .map_err(parquet_err)?;
            if whole.len() < offset + rows {
                return Err(parquet_err(arrow2::error::Error::OutOfSpec(format!(
                    "column {name} has fewer rows than before (did the file change?)"
                ))));
            }
            let (array, _) =
                coerce(whole.sliced(offset, rows).as_ref(), ty).map_err(parquet_err)?;
            Ok(array)
        })
        .collect()
}

/// The table columns (by index) that need not be read: the caller wants only their
/// presence, the file's column already has the table's type (so no value can be a type
/// problem), and every row group's statistics count its nulls as 0. A writer may leave
/// statistics out; such a column is read.
fn complete_columns(
    metadata: &pq::FileMetaData,
    in_file: &[Option<arrow2::datatypes::Field>],
    columns: &[(&str, FieldType)],
    presence_only: &dyn Fn(&str) -> bool,
) -> Vec<usize> {
    // A timestamp column is complete only if its statistics also bound every value
    // inside the years ccc reads (a value outside them does not fit its field).
    let complete = |name: &str, ty: FieldType| {
        metadata.row_groups.iter().all(|rg| {
            let mut chunks = rg.columns().iter().filter(|c| {
                c.descriptor().path_in_schema.first().map(String::as_str) == Some(name)
            });
            match (chunks.next(), chunks.next()) {
                (Some(chunk), None) => {
                    let stats = chunk.metadata().statistics.as_ref();
                    stats.and_then(|s| s.null_count) == Some(0)
                        && (ty != FieldType::Timestamp || stats.is_some_and(timestamps_bounded))
                }
                // Absent, or nested (several leaves): read it.
                _ => false,
            }
        })
    };
    columns
        .iter()
        .zip(in_file)
        .enumerate()
        .filter(|(_, ((name, ty), field))| {
            presence_only(name)
                && field
                    .as_ref()
                    .is_some_and(|f| f.data_type() == &ty.data_type())
                && complete(name, *ty)
        })
        .map(|(i, _)| i)
        .collect()
}

/// Whether INT64 statistics bound every value inside [`timestamp::in_range`].
fn timestamps_bounded(stats: &parquet_format_safe::Statistics) -> bool {
    let value = |bytes: &Option<Vec<u8>>| {
        bytes
            .as_deref()
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(i64::from_le_bytes)
    };
    let min = value(&stats.min_value).or_else(|| value(&stats.min));
    let max = value(&stats.max_value).or_else(|| value(&stats.max));
    matches!((min, max), (Some(min), Some(max)) if timestamp::in_range(min) && timestamp::in_range(max))
}

type Bad = Vec<(usize, String, ProblemKind)>;

/// A timestamp column of the table's own type, with the instants outside the years
/// ccc reads made null and returned as problems. The common case, every value in range,
/// costs one pass over the values and no copy.
fn timestamps_in_range(source: &dyn Array) -> (Box<dyn Array>, Bad) {
    let values = source
        .as_any()
        .downcast_ref::<PrimitiveArray<i64>>()
        .expect("a timestamp column holds i64");
    let outside = |(row, v): (usize, Option<&i64>)| {
        v.filter(|v| !timestamp::in_range(**v)).map(|v| (row, *v))
    };
    let bad: Vec<(usize, i64)> = values.iter().enumerate().filter_map(outside).collect();
    if bad.is_empty() {
        return (source.to_boxed(), Vec::new());
    }
    let validity: Bitmap = values
        .iter()
        .map(|v| v.is_some_and(|v| timestamp::in_range(*v)))
        .collect();
    let array = values.clone().with_validity(Some(validity));
    let problems = bad
        .into_iter()
        .map(|(row, v)| (row, v.to_string(), ProblemKind::TimestampOutOfRange))
        .collect();
    (array.boxed(), problems)
}

/// A decoded batch and the values of it that did not fit their column.
type BatchWithProblems = (Batch, Vec<FieldProblem>);

/// Converts a decoded column to the table's type; values that do not convert become
/// null and are returned as (row, raw text, problem).
fn coerce(source: &dyn Array, target: FieldType) -> arrow2::error::Result<(Box<dyn Array>, Bad)> {
    let wanted = target.data_type();
    if source.data_type() == &wanted {
        if target == FieldType::Timestamp {
            return Ok(timestamps_in_range(source));
        }
        return Ok((source.to_boxed(), Vec::new()));
    }
    let mut bad = Bad::new();
    let source_type = source.data_type().to_logical_type().clone();
    let array: Box<dyn Array> = match (target, &source_type) {
        (_, DataType::Dictionary(..)) | (_, DataType::LargeUtf8) => {
            let utf8 = cast(source, &DataType::Utf8, CastOptions::default())?;
            return coerce(utf8.as_ref(), target);
        }
        (_, DataType::Null) => arrow2::array::new_null_array(wanted, source.len()),
        (FieldType::Int64, DataType::Int8 | DataType::Int16 | DataType::Int32)
        | (FieldType::Int64, DataType::UInt8 | DataType::UInt16 | DataType::UInt32) => {
            cast(source, &DataType::Int64, CastOptions::default())?
        }
        (FieldType::Int64, DataType::UInt64) => {
            let values = source
                .as_any()
                .downcast_ref::<PrimitiveArray<u64>>()
                .expect("u64 array");
            let out: MutablePrimitiveArray<i64> = values
                .iter()
                .enumerate()
                .map(|(row, v)| {
                    v.and_then(|v| {
                        let fits = i64::try_from(*v).ok();
                        if fits.is_none() {
                            bad.push((row, v.to_string(), ProblemKind::OutOfRange));
                        }
                        fits
                    })
                })
                .collect();
            PrimitiveArray::from(out).boxed()
        }
        (
            FieldType::Float64,
            DataType::Float32
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64,
        )
        | (FieldType::Date, DataType::Date64) => cast(source, &wanted, CastOptions::default())?,
        (FieldType::Timestamp, DataType::Timestamp(unit, _)) => {
            let values = source
                .as_any()
                .downcast_ref::<PrimitiveArray<i64>>()
                .expect("timestamp array");
            let to_micros = |v: i64| match unit {
                TimeUnit::Second => v.checked_mul(1_000_000),
                TimeUnit::Millisecond => v.checked_mul(1_000),
                TimeUnit::Microsecond => Some(v),
                TimeUnit::Nanosecond => Some(v.div_euclid(1_000)),
            };
            let out: MutablePrimitiveArray<i64> = values
                .iter()
                .enumerate()
                .map(|(row, v)| {
                    v.and_then(|v| match to_micros(*v) {
                        Some(micros) if timestamp::in_range(micros) => Some(micros),
                        _ => {
                            bad.push((row, v.to_string(), ProblemKind::TimestampOutOfRange));
                            None
                        }
                    })
                })
                .collect();
            PrimitiveArray::from(out).to(wanted).boxed()
        }
        (_, DataType::Utf8) => {
            // Text in a typed column is parsed the way a CSV field is.
            let values = source
                .as_any()
                .downcast_ref::<Utf8Array<i32>>()
                .expect("utf8 array");
            let mut builder = TableBuilder::single(target, values.len());
            for (row, v) in values.iter().enumerate() {
                match v {
                    None => builder.push_null(),
                    Some(text) => {
                        if let Err(kind) = builder.push_text(text, false) {
                            bad.push((row, text.to_string(), kind));
                        }
                    }
                }
            }
            builder.finish_one()
        }
        (FieldType::Boolean, _)
        | (FieldType::Utf8, _)
        | (FieldType::Int64, _)
        | (FieldType::Timestamp, _)
        | (FieldType::Float64, _)
        | (FieldType::Date, _) => {
            // Any other physical type cannot hold this field: every value is a wrong type.
            for row in 0..source.len() {
                if source.is_valid(row) {
                    bad.push((
                        row,
                        format!("<{source_type:?} value>"),
                        ProblemKind::WrongType { expected: target },
                    ));
                }
            }
            arrow2::array::new_null_array(wanted, source.len())
        }
    };
    Ok((array, bad))
}
