//! The state's files on disk: Arrow IPC files (`.arrow`, uncompressed), written and read
//! by ccc only. A state file is read on every run that touches it, so it is stored as the
//! arrays it was built from: reading one back copies buffers instead of decoding Parquet
//! pages, and writing one copies them out. pyarrow (`feather.read_table`) still opens them.

use std::fs::File;
use std::io::{BufWriter, Cursor, Read};
use std::path::Path;

use arrow2::array::Array;
use arrow2::chunk::Chunk;
use arrow2::io::ipc::{read, write};
use ccc_ingest::schema::TableLayout;
use ccc_ingest::Batch;
use rayon::prelude::*;

use super::error::{io_err, IncrementalError};
use crate::durable::Durability;

/// The extension of state files.
pub const EXTENSION: &str = "arrow";

/// Rows per record batch: batches are converted to rows in parallel when read back, so a
/// large part is not read by one thread alone.
const BATCH_ROWS: usize = 1 << 14;

/// Writes `chunk` (columns of `layout`) to a new state file at `path`, in record batches
/// of [`BATCH_ROWS`], flushed to disk as `durability` says.
pub(crate) fn write_state_file(
    path: &Path,
    layout: TableLayout,
    chunk: Chunk<Box<dyn Array>>,
    durability: Durability<'_>,
) -> Result<(), IncrementalError> {
    let encode = |e: arrow2::error::Error| IncrementalError::Unreadable {
        path: path.to_path_buf(),
        source: Box::new(e),
    };
    let file = File::create(path).map_err(io_err(path))?;
    let options = write::WriteOptions { compression: None };
    let mut writer = write::FileWriter::try_new(
        BufWriter::with_capacity(1 << 20, file),
        layout.schema(),
        None,
        options,
    )
    .map_err(encode)?;
    let rows = chunk.len();
    if rows <= BATCH_ROWS {
        writer.write(&chunk, None).map_err(encode)?;
    } else {
        for start in (0..rows).step_by(BATCH_ROWS) {
            let len = BATCH_ROWS.min(rows - start);
            let batch = Chunk::new(
                chunk
                    .arrays()
                    .iter()
                    .map(|a| a.sliced(start, len))
                    .collect(),
            );
            writer.write(&batch, None).map_err(encode)?;
        }
    }
    writer.finish().map_err(encode)?;
    let file = writer
        .into_inner()
        .into_inner()
        .map_err(|e| io_err(path)(e.into_error()))?;
    durability.sync(path, file).map_err(io_err(path))
}

/// Reads a state file written by [`write_state_file`] with the same `layout`: its record
/// batches in order, numbered by record (1-based) as the row readers expect. A file that
/// is not such a file is [`IncrementalError::Corrupt`], naming it and what is wrong.
pub fn read_state_file(path: &Path, layout: TableLayout) -> Result<Vec<Batch>, IncrementalError> {
    let corrupt = |message: String| IncrementalError::Corrupt {
        path: path.to_path_buf(),
        message,
    };
    let mut bytes = Vec::new();
    ccc_ingest::open::open_regular(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(io_err(path))?;
    let metadata = read::read_file_metadata(&mut Cursor::new(&bytes[..]))
        .map_err(|e| corrupt(format!("not an Arrow IPC file ({e})")))?;
    let expected = layout.schema();
    if metadata.schema.fields != expected.fields {
        let names = |fields: &[arrow2::datatypes::Field]| {
            fields
                .iter()
                .map(|f| format!("{}: {:?}", f.name, f.data_type))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(corrupt(format!(
            "its columns are [{}], not those of {} [{}]",
            names(&metadata.schema.fields),
            layout.name,
            names(&expected.fields)
        )));
    }
    let chunks: Vec<Chunk<Box<dyn Array>>> = (0..metadata.blocks.len())
        .into_par_iter()
        .map(|index| {
            read::read_batch(
                &mut Cursor::new(&bytes[..]),
                &Default::default(),
                &metadata,
                None,
                None,
                index,
                &mut Vec::new(),
                &mut Vec::new(),
            )
            .map_err(|e| corrupt(format!("record batch {}: {e}", index + 1)))
        })
        .collect::<Result<_, _>>()?;
    let mut first_record = 1u64;
    Ok(chunks
        .into_iter()
        .map(|chunk| {
            let batch = Batch {
                file: 0,
                first_record,
                lines: None,
                unread: Vec::new(),
                position: first_record,
                chunk,
            };
            first_record += batch.len() as u64;
            batch
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use arrow2::array::{BooleanArray, Int64Array};
    use ccc_ingest::schema::FieldType;
    use proptest::prelude::*;

    use super::*;

    const LAYOUT: TableLayout = TableLayout {
        name: "test_state",
        columns: &[("id", FieldType::Int64), ("flag", FieldType::Boolean)],
    };

    fn chunk(rows: usize) -> Chunk<Box<dyn Array>> {
        let ids = Int64Array::from_iter((0..rows as i64).map(|i| (i % 7 != 3).then_some(i * 3)));
        let flags = BooleanArray::from_slice((0..rows).map(|i| i % 2 == 0).collect::<Vec<_>>());
        Chunk::new(vec![ids.boxed(), flags.boxed()])
    }

    #[test]
    fn a_file_reads_back_as_the_arrays_written_in_numbered_batches() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.arrow");
        let rows = 2 * BATCH_ROWS + 5;
        write_state_file(&path, LAYOUT, chunk(rows), Durability::Synced).unwrap();
        let batches = read_state_file(&path, LAYOUT).unwrap();
        assert_eq!(batches.len(), 3);
        let firsts: Vec<u64> = batches.iter().map(|b| b.first_record).collect();
        assert_eq!(
            firsts,
            [1, BATCH_ROWS as u64 + 1, 2 * BATCH_ROWS as u64 + 1]
        );
        let whole = chunk(rows);
        for (b, start) in batches.iter().zip((0..rows).step_by(BATCH_ROWS)) {
            for (read, written) in b.chunk.arrays().iter().zip(whole.arrays()) {
                assert_eq!(read.as_ref(), written.sliced(start, b.len()).as_ref());
            }
        }
    }

    #[test]
    fn an_empty_table_is_a_file_with_one_empty_batch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.arrow");
        write_state_file(&path, LAYOUT, chunk(0), Durability::Synced).unwrap();
        let batches = read_state_file(&path, LAYOUT).unwrap();
        assert_eq!(batches.iter().map(Batch::len).sum::<usize>(), 0);
    }

    #[test]
    fn a_file_of_other_columns_is_damage_naming_both_lists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.arrow");
        write_state_file(&path, LAYOUT, chunk(10), Durability::Synced).unwrap();
        let other = TableLayout {
            name: "other",
            columns: &[("id", FieldType::Int64), ("flag", FieldType::Int64)],
        };
        let err = read_state_file(&path, other).unwrap_err().to_string();
        assert!(err.contains("t.arrow is damaged"), "{err}");
        assert!(err.contains("flag: Boolean"), "{err}");
        assert!(err.contains("not those of other"), "{err}");
    }

    #[test]
    fn a_file_that_is_not_arrow_is_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.arrow");
        std::fs::write(&path, b"PAR1 not arrow at all").unwrap();
        let err = read_state_file(&path, LAYOUT).unwrap_err().to_string();
        assert!(err.contains("not an Arrow IPC file"), "{err}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// A state file cut short or with a byte changed is read as the rows written or
        /// refused as damage: never a panic.
        #[test]
        fn damaged_files_are_refused_or_read_never_panic(
            cut in 0usize..4000,
            flip in proptest::option::of((0usize..4000, 1u8..=255)),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.arrow");
            write_state_file(&path, LAYOUT, chunk(300), Durability::Synced).unwrap();
            let mut bytes = std::fs::read(&path).unwrap();
            if let Some((at, xor)) = flip {
                let at = at % bytes.len();
                bytes[at] ^= xor;
            } else {
                bytes.truncate(cut % bytes.len());
            }
            std::fs::write(&path, &bytes).unwrap();
            let result = std::panic::catch_unwind(|| read_state_file(&path, LAYOUT));
            prop_assert!(result.is_ok(), "reading a damaged file panicked");
        }
    }
}
