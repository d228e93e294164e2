//! Writing Arrow chunks as Parquet files: the one place that knows the arrow2/parquet2
//! writer API, used by the output publisher and the source generator (so a move to
//! arrow-rs touches the readers in `ccc_ingest` and this file).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use arrow2::array::{Array, PrimitiveArray, Utf8Array};
use arrow2::chunk::Chunk;
use arrow2::datatypes::Schema;
use arrow2::io::parquet::write::{
    array_to_columns, compress, to_parquet_schema, transverse, CompressedPage, CompressionOptions,
    DynIter, DynStreamingIterator, Encoding, FallibleStreamingIterator, FileWriter, Page,
    ParquetType, RowGroupIter, Version, WriteOptions,
};
use parquet2::statistics::ParquetStatistics;
use rayon::prelude::*;

use super::page_statistics;
use super::text_dictionary::dictionary_of;
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
    write_parquet_durably(path, schema, chunks, TextPages::Plain, Durability::Synced)
}

/// [`write_parquet`], text columns encoded as `text` says, the file flushed to disk as
/// `durability` says.
pub(crate) fn write_parquet_durably(
    path: &Path,
    schema: &Schema,
    chunks: Vec<Chunk<Box<dyn Array>>>,
    text: TextPages,
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
    let (options, encodings) = (write_options(), plain_encodings(schema));
    let types = to_parquet_schema(schema).map_err(encode)?.fields().to_vec();
    let file = File::create(path).map_err(io)?;
    let mut writer =
        FileWriter::try_new(BufWriter::new(file), schema.clone(), options).map_err(encode)?;
    for chunk in chunks {
        let columns = encode_columns(&chunk, &types, &encodings, options, text).map_err(encode)?;
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

/// Plain encoding for every leaf column of `schema`.
fn plain_encodings(schema: &Schema) -> Vec<Vec<Encoding>> {
    schema
        .fields
        .iter()
        .map(|f| transverse(&f.data_type, |_| Encoding::Plain))
        .collect()
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

/// How a text column's pages are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextPages {
    /// Every value written out.
    Plain,
    /// A dictionary page and keys into it, where the column repeats few values
    /// ([`dictionary_of`]); else plain.
    DictionaryWhenRepetitive,
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
    text: TextPages,
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
            column_pages(array.as_ref(), parquet_type, encoding, options, text)?
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

/// The pages of one column. 64-bit columns and dictionary-encoded text get their
/// statistics from [`page_statistics`]; other columns are arrow2's pages as they are.
fn column_pages(
    array: &dyn Array,
    parquet_type: &ParquetType,
    encoding: &[Encoding],
    options: WriteOptions,
    text: TextPages,
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
    if let Some(strings) = any.downcast_ref::<Utf8Array<i32>>() {
        if text == TextPages::DictionaryWhenRepetitive {
            if let Some(dictionary) = dictionary_of(strings) {
                let used = dictionary.values().clone();
                let pages = array_to_columns(
                    dictionary.boxed(),
                    parquet_type.clone(),
                    unmeasured,
                    &[Encoding::RleDictionary],
                )?;
                let used = used
                    .as_any()
                    .downcast_ref::<Utf8Array<i32>>()
                    .expect("a text dictionary");
                // One data page holds every key: its bounds are the dictionary's.
                return measured(pages, &|_, _| {
                    page_statistics::text_statistics(used, strings.null_count(), primitive.clone())
                });
            }
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

    /// A file written with dictionary pages where text repeats: the values read back, and
    /// each text column's null count and bounds.
    fn dictionary_round_trip(rows: &[Option<String>]) -> Result<(), TestCaseError> {
        use arrow2::io::parquet::read;
        use parquet2::statistics::BinaryStatistics;
        let schema = Schema::from(vec![Field::new("stage", DataType::Utf8, true)]);
        let column = Utf8Array::<i32>::from(rows);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let chunk = Chunk::new(vec![column.clone().boxed()]);
        write_parquet_durably(
            &path,
            &schema,
            vec![chunk],
            TextPages::DictionaryWhenRepetitive,
            Durability::Synced,
        )
        .unwrap();
        let mut file = File::open(&path).unwrap();
        let metadata = read::read_metadata(&mut file).unwrap();
        let chunk_meta = &metadata.row_groups[0].columns()[0];
        let encodings = &chunk_meta
            .column_chunk()
            .meta_data
            .as_ref()
            .unwrap()
            .encodings;
        let repetitive = super::dictionary_of(&column).is_some();
        prop_assert_eq!(
            encodings.contains(&Encoding::RleDictionary.into()),
            repetitive
        );
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
        if repetitive {
            // arrow2's plain pages keep its own bounds; ours are the bytes' order.
            prop_assert_eq!(&statistics.min_value, &present().min());
            prop_assert_eq!(&statistics.max_value, &present().max());
        }
        let read_schema = read::infer_schema(&metadata).unwrap();
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
        prop_assert_eq!(read_back, rows.to_vec());
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
            let rows: Vec<Option<String>> = rows.into_iter().map(|v| v.map(String::from)).collect();
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
