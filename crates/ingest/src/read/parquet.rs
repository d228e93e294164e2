//! Parquet sources: columns are picked by name (missing ones are null, extra ones are not
//! read), row groups are read in parallel and their columns decoded in parallel, and each
//! column is coerced to the table's type: integers widen, strings are parsed, timestamps
//! of any unit become UTC microseconds (naive ones are taken as UTC).

use std::fs::File;

use arrow2::array::{Array, MutablePrimitiveArray, PrimitiveArray, Utf8Array};
use arrow2::chunk::Chunk;
use arrow2::compute::cast::{cast, CastOptions};
use arrow2::datatypes::{DataType, TimeUnit};
use arrow2::io::parquet::read as pq;
use rayon::prelude::*;

use super::columns::TableBuilder;
use crate::error::IngestError;
use crate::problems::{FieldProblem, ProblemKind};
use crate::schema::{FieldType, TableLayout};
use crate::sources::Batch;

/// Reads one Parquet file of `table`.
pub(crate) fn read_parquet(
    file_index: u32,
    path: &std::path::Path,
    table: TableLayout,
) -> Result<super::FileContents, IngestError> {
    let parquet_err = |e: arrow2::error::Error| IngestError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let open = || {
        File::open(path).map_err(|source| IngestError::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    let metadata = pq::read_metadata(&mut open()?).map_err(parquet_err)?;
    let file_schema = pq::infer_schema(&metadata).map_err(parquet_err)?;
    let columns = table.columns;
    // For each table column, the file's field with that name, if any.
    let wanted: Vec<Option<arrow2::datatypes::Field>> = columns
        .iter()
        .map(|(name, _)| file_schema.fields.iter().find(|f| f.name == *name).cloned())
        .collect();
    if wanted.iter().all(Option::is_none) {
        return Err(IngestError::Parquet {
            path: path.to_path_buf(),
            message: format!("it has none of the columns of {}", table.name),
        });
    }
    let mut first_rows = Vec::with_capacity(metadata.row_groups.len());
    let mut next = 1u64;
    for rg in &metadata.row_groups {
        first_rows.push(next);
        next += rg.num_rows() as u64;
    }
    let groups: Vec<Result<(Batch, Vec<FieldProblem>), IngestError>> = metadata
        .row_groups
        .par_iter()
        .zip(first_rows.par_iter())
        // An empty row group (a writer's zero-row chunk) has no pages to decode.
        .filter(|(rg, _)| rg.num_rows() > 0)
        .map(|(rg, &first_record)| {
            let rows = rg.num_rows();
            let present: Vec<arrow2::datatypes::Field> = wanted.iter().flatten().cloned().collect();
            let readers = pq::read_columns_many(&mut open()?, rg, present, None, None, None)
                .map_err(parquet_err)?;
            let decoded: Vec<Box<dyn Array>> = readers
                .into_par_iter()
                .map(|iter| {
                    let parts = iter.collect::<Result<Vec<_>, _>>()?;
                    Ok(match parts.len() {
                        1 => parts.into_iter().next().expect("one part"),
                        _ => arrow2::compute::concatenate::concatenate(
                            &parts.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
                        )?,
                    })
                })
                .collect::<Result<_, arrow2::error::Error>>()
                .map_err(parquet_err)?;
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
                            record: first_record + row as u64,
                            line: None,
                            column: name,
                            raw,
                            kind,
                        }));
                        array
                    }
                    None => arrow2::array::new_null_array(ty.data_type(), rows),
                };
                arrays.push(array);
            }
            let batch = Batch {
                file: file_index,
                first_record,
                lines: None,
                chunk: Chunk::new(arrays),
            };
            Ok((batch, problems))
        })
        .collect();
    let mut batches = Vec::with_capacity(groups.len());
    let mut problems = Vec::new();
    for group in groups {
        let (batch, bad) = group?;
        if !batch.is_empty() {
            batches.push(batch);
        }
        problems.extend(bad);
    }
    Ok((batches, problems))
}

type Bad = Vec<(usize, String, ProblemKind)>;

/// Converts a decoded column to the table's type; values that do not convert become
/// null and are returned as (row, raw text, problem).
fn coerce(source: &dyn Array, target: FieldType) -> arrow2::error::Result<(Box<dyn Array>, Bad)> {
    let wanted = target.data_type();
    if source.data_type() == &wanted {
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
                    v.and_then(|v| {
                        let micros = to_micros(*v);
                        if micros.is_none() {
                            bad.push((row, v.to_string(), ProblemKind::OutOfRange));
                        }
                        micros
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
        | (FieldType::Timestamp, _) => {
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
