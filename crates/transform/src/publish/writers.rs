//! Writing one partition of the output table as Parquet (through [`super::parquet_file`])
//! and as CSV (header row, RFC 3339 UTC timestamps, empty field for null).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use arrow2::array::{Array, PrimitiveArray, Utf8Array};
use arrow2::chunk::Chunk;
use ccc_ingest::timestamp::write_rfc3339_micros;

use super::parquet_file::IntegerPages;
use crate::durable::Durability;
use crate::error::{io_err, PublishError};
use crate::schema::{output_schema, COLUMNS};
use crate::table::Partition;
use crate::text_dictionary::compacted;

/// Rows per Parquet row group: large enough for good compression, small enough that
/// readers can parallelise over a big day.
const ROW_GROUP_ROWS: usize = 1 << 20;

/// Writes a part as Parquet, its text columns as their dictionaries.
pub(crate) fn write_parquet_part(
    path: &Path,
    partition: &Partition,
    durability: Durability<'_>,
) -> Result<(), PublishError> {
    let chunk = &partition.chunk;
    let mut groups = Vec::new();
    let mut offset = 0;
    while offset < chunk.len() {
        let len = ROW_GROUP_ROWS.min(chunk.len() - offset);
        let mut arrays: Vec<Box<dyn Array>> = chunk
            .arrays()
            .iter()
            .map(|a| a.sliced(offset, len))
            .collect();
        for (column, dictionary) in &partition.dictionaries {
            // A row group of a part split in several gets the dictionary of its rows.
            let group = if len == chunk.len() {
                Some(dictionary.clone())
            } else {
                compacted(&dictionary.clone().sliced(offset, len))
            };
            if let Some(group) = group {
                arrays[*column] = group.boxed();
            }
        }
        groups.push(Chunk::new(arrays));
        offset += len;
    }
    super::parquet_file::write_parquet_durably(
        path,
        &output_schema(),
        groups,
        IntegerPages::Delta,
        durability,
    )?;
    Ok(())
}

/// How to render one column as CSV text.
enum CsvColumn<'a> {
    Int(&'a PrimitiveArray<i64>),
    Time(&'a PrimitiveArray<i64>),
    Text(&'a Utf8Array<i32>),
}

pub(crate) fn write_csv_part(
    path: &Path,
    chunk: &Chunk<Box<dyn Array>>,
    durability: Durability<'_>,
) -> Result<(), PublishError> {
    let schema = output_schema();
    let columns: Vec<CsvColumn> = chunk
        .arrays()
        .iter()
        .zip(&schema.fields)
        .map(|(array, field)| match field.data_type {
            arrow2::datatypes::DataType::Utf8 => {
                CsvColumn::Text(array.as_any().downcast_ref().expect("utf8 column"))
            }
            arrow2::datatypes::DataType::Timestamp(..) => {
                CsvColumn::Time(array.as_any().downcast_ref().expect("timestamp column"))
            }
            _ => CsvColumn::Int(array.as_any().downcast_ref().expect("int64 column")),
        })
        .collect();
    let file = File::create(path).map_err(io_err(path))?;
    let mut writer = csv::WriterBuilder::new().from_writer(BufWriter::with_capacity(1 << 20, file));
    let csv_err = |e: csv::Error| PublishError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    };
    writer.write_record(COLUMNS).map_err(csv_err)?;
    let mut field = String::with_capacity(32);
    for row in 0..chunk.len() {
        for column in &columns {
            field.clear();
            match column {
                CsvColumn::Int(a) => {
                    if let Some(v) = a.get(row) {
                        field.push_str(itoa::Buffer::new().format(v));
                    }
                }
                CsvColumn::Time(a) => {
                    if let Some(v) = a.get(row) {
                        write_rfc3339_micros(&mut field, v);
                    }
                }
                CsvColumn::Text(a) => {
                    if let Some(v) = a.get(row) {
                        field.push_str(v);
                    }
                }
            }
            writer.write_field(&field).map_err(csv_err)?;
        }
        writer.write_record(None::<&[u8]>).map_err(csv_err)?;
    }
    let inner = writer.into_inner().map_err(|e| PublishError::Io {
        path: path.to_path_buf(),
        source: e.into_error(),
    })?;
    let file = inner.into_inner().map_err(|e| PublishError::Io {
        path: path.to_path_buf(),
        source: e.into_error(),
    })?;
    durability.sync(path, file).map_err(io_err(path))?;
    Ok(())
}
