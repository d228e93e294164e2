//! Writing Arrow chunks as Parquet files: the one place that knows the arrow2/parquet2
//! writer API, used by the output publisher, the incremental state and the source
//! generator (so a move to arrow-rs touches the readers in `ccc_ingest` and this file).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use arrow2::array::Array;
use arrow2::chunk::Chunk;
use arrow2::datatypes::Schema;
use arrow2::io::parquet::write::{
    transverse, CompressionOptions, Encoding, FileWriter, RowGroupIterator, Version, WriteOptions,
};

/// Why a Parquet file could not be written; names the file, and keeps the cause.
#[derive(Debug, thiserror::Error)]
pub enum ParquetWriteError {
    /// The file could not be created, written or synced.
    #[error("cannot write {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The chunks could not be encoded as Parquet (they do not fit the schema, or the
    /// encoder refused them).
    #[error("cannot write {path} as Parquet")]
    Encode {
        /// The file.
        path: PathBuf,
        /// What the Parquet writer said.
        #[source]
        source: arrow2::error::Error,
    },
}

/// Writes `chunks` (each becomes one row group) to a new Parquet file at `path`,
/// Snappy-compressed with statistics, readable by Spark, DuckDB, Polars and pandas.
pub fn write_parquet(
    path: &Path,
    schema: &Schema,
    chunks: Vec<Chunk<Box<dyn Array>>>,
) -> Result<(), ParquetWriteError> {
    write_parquet_as(path, schema, chunks, true)
}

/// Like [`write_parquet`], but without compression and statistics: for ccc's own working
/// files (incremental state), which are written and read on every run and read by ccc
/// only, where Snappy and min/max statistics were a third of a small run's time.
pub fn write_parquet_plain(
    path: &Path,
    schema: &Schema,
    chunks: Vec<Chunk<Box<dyn Array>>>,
) -> Result<(), ParquetWriteError> {
    write_parquet_as(path, schema, chunks, false)
}

fn write_parquet_as(
    path: &Path,
    schema: &Schema,
    chunks: Vec<Chunk<Box<dyn Array>>>,
    for_readers: bool,
) -> Result<(), ParquetWriteError> {
    let encode = |source| ParquetWriteError::Encode {
        path: path.to_path_buf(),
        source,
    };
    let io = |source| ParquetWriteError::Io {
        path: path.to_path_buf(),
        source,
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
            .map_err(encode)?;
    let file = File::create(path).map_err(io)?;
    let mut writer =
        FileWriter::try_new(BufWriter::new(file), schema.clone(), options).map_err(encode)?;
    for group in row_groups {
        writer.write(group.map_err(encode)?).map_err(encode)?;
    }
    writer.end(None).map_err(encode)?;
    let inner = writer.into_inner();
    let file = inner.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    Ok(())
}
