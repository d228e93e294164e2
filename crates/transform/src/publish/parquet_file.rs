//! Writing Arrow chunks as Parquet files: the one place that knows the arrow2/parquet2
//! writer API, used by the output publisher and the source generator (so a move to
//! arrow-rs touches the readers in `ccc_ingest` and this file).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use arrow2::array::{Array, DictionaryArray, PrimitiveArray, Utf8Array};
use arrow2::chunk::Chunk;
use arrow2::datatypes::{DataType, Schema};
use arrow2::io::parquet::write::{
    array_to_columns, compress, to_parquet_schema, transverse, CompressedPage, CompressionOptions,
    DynIter, DynStreamingIterator, Encoding, FallibleStreamingIterator, FileWriter, Page,
    ParquetType, RowGroupIter, Version, WriteOptions,
};
use parquet2::statistics::ParquetStatistics;
use rayon::prelude::*;

use super::page_statistics;
use crate::durable::Durability;

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
    write_parquet_durably(
        path,
        schema,
        chunks,
        IntegerPages::Plain,
        Durability::Synced,
    )
}

/// [`write_parquet`], 64-bit integer columns encoded as `integers` says, the file flushed
/// to disk as `durability` says. A text column given as a dictionary array (`u32` keys,
/// every value used) is written as dictionary pages.
pub(crate) fn write_parquet_durably(
    path: &Path,
    schema: &Schema,
    chunks: Vec<Chunk<Box<dyn Array>>>,
    integers: IntegerPages,
    durability: Durability<'_>,
) -> Result<(), ParquetWriteError> {
    let encode = |source| ParquetWriteError::Encode {
        path: path.to_path_buf(),
        source,
    };
    let io = |source| ParquetWriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let (options, encodings) = (write_options(), encodings(schema, integers));
    let types = to_parquet_schema(schema).map_err(encode)?.fields().to_vec();
    let file = File::create(path).map_err(io)?;
    let mut writer =
        FileWriter::try_new(BufWriter::new(file), schema.clone(), options).map_err(encode)?;
    for chunk in chunks {
        let columns = encode_columns(&chunk, &types, &encodings, options).map_err(encode)?;
        let group: RowGroupIter<'static, arrow2::error::Error> =
            DynIter::new(columns.into_iter().map(|pages| {
                Ok(DynStreamingIterator::new(EncodedPages {
                    pages: pages.into_iter(),
                    current: None,
                }))
            }));
        writer.write(group).map_err(encode)?;
    }
    writer.end(None).map_err(encode)?;
    let inner = writer.into_inner();
    let file = inner.into_inner().map_err(|e| io(e.into_error()))?;
    durability.sync(path, file).map_err(io)?;
    Ok(())
}

/// Snappy pages with statistics, as readers expect of the published table.
fn write_options() -> WriteOptions {
    WriteOptions {
        write_statistics: true,
        compression: CompressionOptions::Snappy,
        version: Version::V2,
        data_pagesize_limit: None,
    }
}

/// How a file's 64-bit integer (and timestamp) pages are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntegerPages {
    /// Eight bytes a value.
    Plain,
    /// `DELTA_BINARY_PACKED`: each value's difference from the previous one, bit-packed
    /// per block of 128. Sorted ids and times of one hour take a few bits a value.
    Delta,
}

/// The encoding of every leaf column of `schema`: plain, but 64-bit integers as
/// `integers` says.
fn encodings(schema: &Schema, integers: IntegerPages) -> Vec<Vec<Encoding>> {
    schema
        .fields
        .iter()
        .map(|f| {
            transverse(&f.data_type, |t| match (t, integers) {
                (DataType::Int64 | DataType::Timestamp(..), IntegerPages::Delta) => {
                    Encoding::DeltaBinaryPacked
                }
                _ => Encoding::Plain,
            })
        })
        .collect()
}

/// Plain encoding for every leaf column of `schema`.
#[cfg(test)]
fn plain_encodings(schema: &Schema) -> Vec<Vec<Encoding>> {
    encodings(schema, IntegerPages::Plain)
}

/// One column's pages, encoded already, handed to the writer one at a time.
struct EncodedPages {
    pages: std::vec::IntoIter<CompressedPage>,
    current: Option<CompressedPage>,
}

impl FallibleStreamingIterator for EncodedPages {
    type Item = CompressedPage;
    type Error = arrow2::error::Error;

    fn advance(&mut self) -> Result<(), Self::Error> {
        self.current = self.pages.next();
        Ok(())
    }

    fn get(&self) -> Option<&CompressedPage> {
        self.current.as_ref()
    }
}

/// The compressed pages of every leaf column of one row group, in schema order. Each
/// column is encoded and compressed on its own thread; the writer lays them out in order
/// afterwards, so the file's bytes are those of a column-by-column write, and one large
/// part no longer keeps a single core busy while the other waits.
fn encode_columns(
    chunk: &Chunk<Box<dyn Array>>,
    types: &[ParquetType],
    encodings: &[Vec<Encoding>],
    options: WriteOptions,
) -> Result<Vec<Vec<CompressedPage>>, arrow2::error::Error> {
    if chunk.arrays().len() != types.len() {
        return Err(arrow2::error::Error::InvalidArgumentError(format!(
            "a row group of {} columns for a schema of {}",
            chunk.arrays().len(),
            types.len()
        )));
    }
    let per_field: Vec<Vec<Vec<CompressedPage>>> = chunk
        .arrays()
        .par_iter()
        .zip(types.par_iter())
        .zip(encodings.par_iter())
        .map(|((array, parquet_type), encoding)| {
            column_pages(array.as_ref(), parquet_type, encoding, options)?
                .into_iter()
                .map(|pages| {
                    pages
                        .map(|page| Ok(compress(page?, vec![], options.compression)?))
                        .collect::<Result<Vec<CompressedPage>, arrow2::error::Error>>()
                })
                .collect()
        })
        .collect::<Result<_, _>>()?;
    Ok(per_field.into_iter().flatten().collect())
}

type Pages = DynIter<'static, Result<Page, arrow2::error::Error>>;

/// The pages of one column. 64-bit columns and text dictionaries (written as dictionary
/// pages) get their statistics from [`page_statistics`]; other columns are arrow2's pages
/// as they are.
fn column_pages(
    array: &dyn Array,
    parquet_type: &ParquetType,
    encoding: &[Encoding],
    options: WriteOptions,
) -> Result<Vec<Pages>, arrow2::error::Error> {
    let ParquetType::PrimitiveType(primitive) = parquet_type else {
        return array_to_columns(array, parquet_type.clone(), options, encoding);
    };
    let unmeasured = WriteOptions {
        write_statistics: false,
        ..options
    };
    let measured =
        |pages: Vec<Pages>, measure: &(dyn Fn(usize, usize) -> ParquetStatistics + Sync)| {
            let mut offset = 0;
            pages
                .into_iter()
                .map(|pages| {
                    pages
                        .map(|page| {
                            let page = page?;
                            let Page::Data(data) = &page else {
                                return Ok(page);
                            };
                            let rows = data.num_values();
                            let statistics = measure(offset, rows);
                            offset += rows;
                            Ok(page_statistics::with_statistics(page, statistics))
                        })
                        .collect::<Result<Vec<Page>, arrow2::error::Error>>()
                        .map(|pages| DynIter::new(pages.into_iter().map(Ok)))
                })
                .collect::<Result<Vec<Pages>, _>>()
        };
    if !options.write_statistics {
        return array_to_columns(array, parquet_type.clone(), options, encoding);
    }
    let any = array.as_any();
    if let Some(ints) = any.downcast_ref::<PrimitiveArray<i64>>() {
        let pages = array_to_columns(array, parquet_type.clone(), unmeasured, encoding)?;
        return measured(pages, &|offset, rows| {
            page_statistics::int64_statistics(&ints.clone().sliced(offset, rows), primitive.clone())
        });
    }
    if let Some(dictionary) = any.downcast_ref::<DictionaryArray<u32>>() {
        if let Some(used) = dictionary
            .values()
            .as_any()
            .downcast_ref::<Utf8Array<i32>>()
        {
            let pages = array_to_columns(
                array,
                parquet_type.clone(),
                unmeasured,
                &[Encoding::RleDictionary],
            )?;
            // One data page holds every key: its bounds are the dictionary's.
            return measured(pages, &|_, _| {
                page_statistics::text_statistics(used, dictionary.null_count(), primitive.clone())
            });
        }
    }
    array_to_columns(array, parquet_type.clone(), options, encoding)
}

#[cfg(test)]
mod tests {
    use arrow2::array::{BooleanArray, Int64Array, Utf8Array};
    use arrow2::datatypes::{DataType, Field};
    use arrow2::io::parquet::write::RowGroupIterator;
    use proptest::prelude::*;

    use super::*;

    /// arrow2's own writer, column by column on one thread: what `encode_columns` replaces.
    fn write_sequentially(path: &Path, schema: &Schema, chunks: Vec<Chunk<Box<dyn Array>>>) {
        let (options, encodings) = (write_options(), plain_encodings(schema));
        let groups =
            RowGroupIterator::try_new(chunks.into_iter().map(Ok), schema, options, encodings)
                .unwrap();
        let mut writer =
            FileWriter::try_new(File::create(path).unwrap(), schema.clone(), options).unwrap();
        for group in groups {
            writer.write(group.unwrap()).unwrap();
        }
        writer.end(None).unwrap();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn columns_encoded_in_parallel_give_the_bytes_of_arrow2s_writer(
            groups in prop::collection::vec(
                prop::collection::vec(
                    (prop::option::of(any::<i64>()), prop::option::of("[a-zé]{0,12}"), any::<bool>()),
                    0..300,
                ),
                1..4,
            ),
        ) {
            let schema = Schema::from(vec![
                Field::new("id", DataType::Int64, true),
                Field::new("name", DataType::Utf8, true),
                Field::new("flag", DataType::Boolean, false),
            ]);
            let chunks: Vec<Chunk<Box<dyn Array>>> = groups
                .iter()
                .map(|rows| {
                    Chunk::new(vec![
                        Int64Array::from(rows.iter().map(|r| r.0).collect::<Vec<_>>()).boxed(),
                        Utf8Array::<i32>::from(rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>()).boxed(),
                        BooleanArray::from_slice(rows.iter().map(|r| r.2).collect::<Vec<_>>()).boxed(),
                    ])
                })
                .collect();
            let dir = tempfile::tempdir().unwrap();
            let (ours, theirs) = (dir.path().join("ours.parquet"), dir.path().join("theirs.parquet"));
            write_parquet(&ours, &schema, chunks.clone()).unwrap();
            write_sequentially(&theirs, &schema, chunks);
            prop_assert_eq!(std::fs::read(&ours).unwrap(), std::fs::read(&theirs).unwrap());
        }
    }

    #[test]
    fn a_column_of_many_pages_gets_the_statistics_of_arrow2s_writer() {
        // Over a megabyte a column: arrow2 splits it into pages, each with its own bounds.
        let schema = Schema::from(vec![
            Field::new("id", DataType::Int64, true),
            Field::new(
                "at",
                crate::schema::output_schema().fields[2].data_type.clone(),
                true,
            ),
        ]);
        let rows = 300_000i64;
        let value = |i: i64| (i % 11 != 0).then_some((i * 7919) % 1_000_003 - 500_000);
        let chunk = Chunk::new(vec![
            Int64Array::from((0..rows).map(value).collect::<Vec<_>>()).boxed(),
            Int64Array::from((0..rows).map(|i| value(i + 5)).collect::<Vec<_>>())
                .to(schema.fields[1].data_type.clone())
                .boxed(),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let (ours, theirs) = (
            dir.path().join("ours.parquet"),
            dir.path().join("theirs.parquet"),
        );
        write_parquet(&ours, &schema, vec![chunk.clone()]).unwrap();
        write_sequentially(&theirs, &schema, vec![chunk]);
        assert_eq!(
            std::fs::read(&ours).unwrap(),
            std::fs::read(&theirs).unwrap()
        );
    }

    #[test]
    fn delta_pages_keep_extreme_values_and_their_statistics() {
        // Differences past i64's range wrap, as the format says, and read back exactly.
        let values = [
            Some(i64::MIN),
            Some(i64::MAX),
            None,
            Some(-1),
            Some(i64::MIN + 1),
            Some(0),
            Some(i64::MAX - 1),
        ];
        let rows: Vec<Option<i64>> = values.iter().cycle().take(1000).copied().collect();
        let schema = Schema::from(vec![Field::new("id", DataType::Int64, true)]);
        let chunk = Chunk::new(vec![Int64Array::from(rows.clone()).boxed()]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("delta.parquet");
        write_parquet_durably(
            &path,
            &schema,
            vec![chunk],
            IntegerPages::Delta,
            Durability::Synced,
        )
        .unwrap();
        use arrow2::io::parquet::read;
        use parquet2::statistics::PrimitiveStatistics;
        let mut file = File::open(&path).unwrap();
        let metadata = read::read_metadata(&mut file).unwrap();
        let column = &metadata.row_groups[0].columns()[0];
        let encodings = &column.column_chunk().meta_data.as_ref().unwrap().encodings;
        assert!(encodings.contains(&Encoding::DeltaBinaryPacked.into()));
        let statistics = column.statistics().unwrap().unwrap();
        let statistics = statistics
            .as_any()
            .downcast_ref::<PrimitiveStatistics<i64>>()
            .unwrap();
        assert_eq!(
            (
                statistics.min_value,
                statistics.max_value,
                statistics.null_count
            ),
            (
                Some(i64::MIN),
                Some(i64::MAX),
                Some(rows.iter().filter(|v| v.is_none()).count() as i64)
            )
        );
        let schema = read::infer_schema(&metadata).unwrap();
        let back: Vec<Option<i64>> =
            read::FileReader::new(file, metadata.row_groups, schema, None, None, None)
                .flat_map(|chunk| {
                    let chunk = chunk.unwrap();
                    let ids = chunk.arrays()[0]
                        .as_any()
                        .downcast_ref::<Int64Array>()
                        .unwrap()
                        .clone();
                    ids.into_iter().collect::<Vec<_>>()
                })
                .collect();
        assert_eq!(back, rows);
    }

    /// A file written with a text column given as a dictionary: dictionary pages, the
    /// values read back, the rows' null count and the values' bounds.
    fn dictionary_round_trip(rows: &[Option<&str>]) -> Result<(), TestCaseError> {
        use arrow2::io::parquet::read;
        use parquet2::statistics::BinaryStatistics;
        let schema = Schema::from(vec![Field::new("stage", DataType::Utf8, true)]);
        let plain = Utf8Array::<i32>::from(rows);
        let Some(dictionary) = crate::text_dictionary::compacted(
            &DictionaryArray::try_from_keys(
                arrow2::array::PrimitiveArray::<u32>::from_vec((0..rows.len() as u32).collect()),
                plain.clone().boxed(),
            )
            .unwrap(),
        ) else {
            prop_assert!(rows.iter().all(Option::is_none));
            return Ok(());
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let chunk = Chunk::new(vec![dictionary.boxed()]);
        write_parquet(&path, &schema, vec![chunk]).unwrap();
        let mut file = File::open(&path).unwrap();
        let metadata = read::read_metadata(&mut file).unwrap();
        let chunk_meta = &metadata.row_groups[0].columns()[0];
        let encodings = &chunk_meta
            .column_chunk()
            .meta_data
            .as_ref()
            .unwrap()
            .encodings;
        prop_assert!(encodings.contains(&Encoding::RleDictionary.into()));
        let statistics = chunk_meta.statistics().unwrap().unwrap();
        let statistics = statistics
            .as_any()
            .downcast_ref::<BinaryStatistics>()
            .unwrap();
        let present = || rows.iter().flatten().map(|v| v.as_bytes().to_vec());
        prop_assert_eq!(
            statistics.null_count,
            Some((rows.len() - present().count()) as i64)
        );
        prop_assert_eq!(&statistics.min_value, &present().min());
        prop_assert_eq!(&statistics.max_value, &present().max());
        let read_schema = read::infer_schema(&metadata).unwrap();
        prop_assert_eq!(&read_schema.fields[0].data_type, &DataType::Utf8);
        let read_back: Vec<Option<String>> =
            read::FileReader::new(file, metadata.row_groups, read_schema, None, None, None)
                .flat_map(|chunk| {
                    let chunk = chunk.unwrap();
                    let column = chunk.arrays()[0]
                        .as_any()
                        .downcast_ref::<Utf8Array<i32>>()
                        .unwrap()
                        .clone();
                    column
                        .into_iter()
                        .map(|v| v.map(String::from))
                        .collect::<Vec<_>>()
                })
                .collect();
        let expected: Vec<Option<String>> = rows.iter().map(|v| v.map(String::from)).collect();
        prop_assert_eq!(read_back, expected);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn text_written_as_a_dictionary_reads_back_with_its_bounds(
            rows in prop::collection::vec(
                prop::option::of(prop::sample::select(vec!["", "a", "ab", "abc", "b", "é", "DELIVERED"])),
                1..400,
            ),
        ) {
            dictionary_round_trip(&rows)?;
        }
    }

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
        let err = write_parquet(&path, &schema, vec![two]).unwrap_err();
        assert!(matches!(err, ParquetWriteError::Encode { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("cannot write {} as Parquet", path.display())
        );
        assert!(std::error::Error::source(&err).is_some());
    }
}
