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

#[cfg(test)]
mod tests {
    use arrow2::array::{Int64Array, Utf8Array};
    use arrow2::datatypes::{DataType, Field};

    use super::*;

    fn ids() -> (Schema, Vec<Chunk<Box<dyn Array>>>) {
        let schema = Schema::from(vec![Field::new("id", DataType::Int64, true)]);
        let chunk = Chunk::new(vec![Int64Array::from_slice([1, 2]).boxed()]);
        (schema, vec![chunk])
    }

    #[test]
    fn a_file_that_cannot_be_created_is_an_io_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("part-0.parquet");
        let (schema, chunks) = ids();
        match write_parquet(&path, &schema, chunks) {
            Err(ParquetWriteError::Io {
                path: named,
                source,
            }) => {
                assert_eq!(named, path);
                assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn chunks_that_do_not_fit_the_schema_keep_the_writers_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part-0.parquet");
        let (schema, _) = ids();
        let two = Chunk::new(vec![
            Int64Array::from_slice([1]).boxed(),
            Utf8Array::<i32>::from_slice(["a"]).boxed(),
        ]);
        let err = write_parquet_plain(&path, &schema, vec![two]).unwrap_err();
        assert!(matches!(err, ParquetWriteError::Encode { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("cannot write {} as Parquet", path.display())
        );
        assert!(std::error::Error::source(&err).is_some());
    }
}
