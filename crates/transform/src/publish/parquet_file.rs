//! Writing Arrow chunks as Parquet: the one place that knows the arrow2/parquet2 writer
//! API, used by the generator and by the output publisher (so a move to arrow-rs touches
//! the readers in `read/` and this file).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use arrow2::array::Array;
use arrow2::chunk::Chunk;
use arrow2::datatypes::Schema;
use arrow2::io::parquet::write::{
    transverse, CompressionOptions, Encoding, FileWriter, RowGroupIterator, Version, WriteOptions,
};

use crate::error::IngestError;

/// Writes `chunks` (each becomes one row group) to a new Parquet file at `path`,
/// Snappy-compressed with statistics, readable by Spark, DuckDB, Polars and pandas.
pub fn write_parquet(
    path: &Path,
    schema: &Schema,
    chunks: Vec<Chunk<Box<dyn Array>>>,
) -> Result<(), IngestError> {
    write_parquet_as(path, schema, chunks, true)
}

/// Like [`write_parquet`], but without compression and statistics: for ccc's own working
/// files (incremental state), which are written and read on every run and read by ccc
/// only, where Snappy and min/max statistics were a third of a small run's time.
pub fn write_parquet_plain(
    path: &Path,
    schema: &Schema,
    chunks: Vec<Chunk<Box<dyn Array>>>,
) -> Result<(), IngestError> {
    write_parquet_as(path, schema, chunks, false)
}

fn write_parquet_as(
    path: &Path,
    schema: &Schema,
    chunks: Vec<Chunk<Box<dyn Array>>>,
    for_readers: bool,
) -> Result<(), IngestError> {
    let err = |message: String| IngestError::Write {
        path: path.to_path_buf(),
        message,
    };
    let options = WriteOptions {
        write_statistics: for_readers,
        compression: if for_readers {
            CompressionOptions::Snappy
        } else {
            CompressionOptions::Uncompressed
        },
        version: Version::V2,
        data_pagesize_limit: None,
    };
    let encodings: Vec<Vec<Encoding>> = schema
        .fields
        .iter()
        .map(|f| transverse(&f.data_type, |_| Encoding::Plain))
        .collect();
    let row_groups =
        RowGroupIterator::try_new(chunks.into_iter().map(Ok), schema, options, encodings)
            .map_err(|e| err(e.to_string()))?;
    let file = File::create(path).map_err(|e| err(e.to_string()))?;
    let mut writer = FileWriter::try_new(BufWriter::new(file), schema.clone(), options)
        .map_err(|e| err(e.to_string()))?;
    for group in row_groups {
        writer
            .write(group.map_err(|e| err(e.to_string()))?)
            .map_err(|e| err(e.to_string()))?;
    }
    writer.end(None).map_err(|e| err(e.to_string()))?;
    let inner = writer.into_inner();
    let file = inner.into_inner().map_err(|e| err(e.to_string()))?;
    file.sync_all().map_err(|e| err(e.to_string()))?;
    Ok(())
}
