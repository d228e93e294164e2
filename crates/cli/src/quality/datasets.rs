//! Adapters from ccc's tables to `ccc_dq::Dataset`s: the sources as read (with each
//! row's file, record and line, and the values that did not fit), the output table in
//! memory, and a published output folder read back from disk (ours or a Spark job's).

use std::path::{Path, PathBuf};

use ccc_dq::{ChunkOrigin, Dataset, RecordLines, TypeProblem};
use ccc_ingest::{Batch, FieldProblem, Format, LineNumbers, SourceFile, Sources, TableData};
use ccc_transform::schema::{
    output_layout, output_schema, NUM_MESSAGES_COURIER, NUM_MESSAGES_CUSTOMER, ORDER_ID, TABLE_NAME,
};
use ccc_transform::Partition;

use crate::exit::CliError;

fn dataset_error(e: ccc_dq::DatasetError) -> CliError {
    CliError::Internal(format!("cannot prepare data for the checks: {e}"))
}

/// Adds `batches` and their value problems to `dataset`; `file_name(i)` names file `i`.
fn fill(
    dataset: &mut Dataset,
    batches: &[Batch],
    problems: &[FieldProblem],
    file_name: &dyn Fn(u32) -> String,
) -> Result<(), CliError> {
    for batch in batches {
        // The line numbers are shared with the batch, not copied.
        let origin = ChunkOrigin::Source {
            file: file_name(batch.file).into(),
            first_record: batch.first_record,
            lines: batch.lines.as_ref().map(|lines| match lines {
                LineNumbers::Consecutive(first) => RecordLines::Consecutive(*first),
                LineNumbers::Listed(lines) => RecordLines::Listed(lines.clone()),
            }),
        };
        dataset
            .push_chunk_unread(batch.chunk.clone(), origin, &batch.unread)
            .map_err(dataset_error)?;
    }
    // Chunk of each problem: batches are in (file, record) order, so binary search.
    for p in problems.iter().filter(|p| !p.column.is_empty()) {
        let after = batches.partition_point(|b| (b.file, b.first_record) <= (p.file, p.record));
        let chunk = after.checked_sub(1).filter(|&i| {
            let b = &batches[i];
            b.file == p.file && p.record < b.first_record + b.len() as u64
        });
        if let Some(chunk) = chunk {
            let row = (p.record - batches[chunk].first_record) as usize;
            let problem = TypeProblem {
                column: p.column.to_string(),
                chunk,
                row,
                raw: p.raw.clone(),
            };
            dataset.add_type_problem(problem).map_err(dataset_error)?;
        }
    }
    Ok(())
}

/// The source columns whose values neither `suite` (when there is one) nor the caller
/// (`needed`) uses, only their presence: a reader may leave them unread where the files
/// prove them complete.
pub fn presence_only_columns(
    suite: Option<&ccc_dq::Suite>,
    needed: &[(ccc_ingest::Table, &str)],
) -> Vec<(ccc_ingest::Table, String)> {
    ccc_ingest::Table::ALL
        .into_iter()
        .flat_map(|table| {
            let for_suite = suite
                .map(|s| s.columns_needing_values(table.name(), &table.schema()))
                .unwrap_or_default();
            table
                .layout()
                .columns
                .iter()
                .filter(move |(name, _)| {
                    !for_suite.contains(*name) && !needed.contains(&(table, *name))
                })
                .map(move |(name, _)| (table, (*name).to_string()))
        })
        .collect()
}

/// The two source tables as datasets named after the tables.
pub fn source_datasets(sources: &Sources) -> Result<Vec<Dataset>, CliError> {
    Ok(vec![
        table_dataset(&sources.messages, &sources.files)?,
        table_dataset(&sources.orders, &sources.files)?,
    ])
}

/// One source table, read from `files`, as a dataset named after the table.
pub fn table_dataset(data: &TableData, files: &[SourceFile]) -> Result<Dataset, CliError> {
    let name = |i: u32| files[i as usize].name.clone();
    let mut dataset = Dataset::new(data.table.name(), data.table.schema());
    fill(&mut dataset, &data.batches, &data.problems, &name)?;
    Ok(dataset)
}

/// A table read by `--table`, as a dataset named after it, rows located by file (its path
/// below the table's folder), record and line.
pub fn table_file_dataset(table: &ccc_ingest::tables::ReadTable) -> Result<Dataset, CliError> {
    let mut dataset = Dataset::new(table.layout.name, table.layout.schema());
    fill(&mut dataset, &table.batches, &table.problems, &|i| {
        table.files[i as usize].name.clone()
    })?;
    Ok(dataset)
}

/// The output table built by this run, rows located by `order_id`.
pub fn output_dataset(partitions: &[Partition]) -> Result<Dataset, CliError> {
    let mut dataset = Dataset::new(TABLE_NAME, output_schema());
    for p in partitions {
        dataset
            .push_chunk(p.chunk.clone(), ChunkOrigin::Unknown)
            .map_err(dataset_error)?;
    }
    dataset.set_key_column(ORDER_ID).map_err(dataset_error)?;
    Ok(dataset)
}

/// Where the table's files are under `dir`: `dir/parquet/<table>`, else `dir/csv/<table>`,
/// else `dir` itself (a table folder such as a Spark job writes).
fn table_folder(dir: &Path) -> PathBuf {
    for kind in ["parquet", "csv"] {
        let candidate = dir.join(kind).join(TABLE_NAME);
        if candidate.is_dir() {
            return candidate;
        }
    }
    dir.to_path_buf()
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Spark and Hadoop write _SUCCESS, .crc and other side files: skip them.
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// A published output table read back: Hive-partitioned Parquet (preferred) or CSV, as
/// ccc or the Spark job writes it; rows located by file and record.
pub fn published_dataset(dir: &Path) -> Result<Dataset, CliError> {
    if !dir.is_dir() {
        return Err(CliError::Ingest(ccc_ingest::IngestError::MissingFolder {
            path: dir.to_path_buf(),
        }));
    }
    let folder = table_folder(dir);
    let mut files = Vec::new();
    collect_files(&folder, &mut files).map_err(|source| {
        CliError::Ingest(ccc_ingest::IngestError::Io {
            path: folder.clone(),
            source,
        })
    })?;
    files.sort();
    let parquet: Vec<_> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .cloned()
        .collect();
    let (format, files) = if parquet.is_empty() {
        let csv = files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "csv"))
            .collect();
        (Format::Csv, csv)
    } else {
        (Format::Parquet, parquet)
    };
    if files.is_empty() {
        return Err(CliError::Usage(format!(
            "no Parquet or CSV files of {TABLE_NAME} under {} (give the output folder or the table folder)",
            folder.display()
        )));
    }
    let options = ccc_ingest::ReadOptions::default();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.strip_prefix(&folder).unwrap_or(p).display().to_string())
        .collect();
    let mut batches = Vec::new();
    let mut problems = Vec::new();
    for (i, path) in files.iter().enumerate() {
        let (b, p) =
            ccc_ingest::read_layout_file(i as u32, path, format, output_layout(), &options)?;
        batches.extend(b);
        problems.extend(p);
    }
    let mut dataset = Dataset::new(TABLE_NAME, output_layout().schema());
    fill(&mut dataset, &batches, &problems, &|i| {
        names[i as usize].clone()
    })?;
    Ok(dataset)
}

/// Σ (num_messages_courier + num_messages_customer) over the output table: the messages
/// the table accounts for, reconciled against the run's `messages_aggregated`.
pub fn messages_in_table(dataset: &Dataset) -> i64 {
    let columns = [NUM_MESSAGES_COURIER, NUM_MESSAGES_CUSTOMER].map(|c| dataset.column_index(c));
    dataset
        .chunks()
        .iter()
        .map(|chunk| messages_in_chunk(chunk, &columns))
        .sum()
}

/// Messages counted in partitions of the output table, straight from their columns.
pub fn messages_in_partitions(partitions: &[Partition]) -> i64 {
    let schema = output_schema();
    let index = |name: &str| schema.fields.iter().position(|f| f.name == name);
    let columns = [index(NUM_MESSAGES_COURIER), index(NUM_MESSAGES_CUSTOMER)];
    partitions
        .iter()
        .map(|p| messages_in_chunk(&p.chunk, &columns))
        .sum()
}

fn messages_in_chunk(
    chunk: &arrow2::chunk::Chunk<Box<dyn arrow2::array::Array>>,
    columns: &[Option<usize>; 2],
) -> i64 {
    use arrow2::array::PrimitiveArray;
    columns
        .iter()
        .flatten()
        .filter_map(|&i| {
            chunk.arrays()[i]
                .as_any()
                .downcast_ref::<PrimitiveArray<i64>>()
        })
        .map(|a| a.iter().flatten().sum::<i64>())
        .sum::<i64>()
}
