//! Reading sources into Arrow columns: one reader per format, files in parallel and
//! large files in parallel chunks; see [`read_sources`].

mod columns;
mod csv;
mod json;
mod parquet;
mod text;

use rayon::prelude::*;

use crate::discover::{Format, SourceFile};
use crate::error::IngestError;
use crate::problems::FieldProblem;
use crate::schema::Table;
use crate::sources::{Batch, Sources, TableData};

/// What reading one file gives: its batches and the values that did not fit.
pub type FileContents = (Vec<Batch>, Vec<FieldProblem>);

/// How to read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Target size of a text chunk parsed by one task; smaller means more parallelism.
    pub chunk_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            chunk_bytes: 4 << 20,
        }
    }
}

/// Reads every file (as listed by [`crate::discover`]) into [`Sources`].
///
/// `on_file_read` is called once per file as it completes (for progress displays).
/// The first unreadable file, in file order, is the error.
pub fn read_sources(
    files: Vec<SourceFile>,
    options: &ReadOptions,
    on_file_read: &(dyn Fn(&SourceFile) + Sync),
) -> Result<Sources, IngestError> {
    let per_file: Vec<Result<FileContents, IngestError>> = files
        .par_iter()
        .enumerate()
        .map(|(i, file)| {
            let out = read_file(i as u32, file, options);
            on_file_read(file);
            out
        })
        .collect();
    let mut messages = TableData {
        table: Table::ChatMessages,
        batches: Vec::new(),
        problems: Vec::new(),
    };
    let mut orders = TableData {
        table: Table::Orders,
        batches: Vec::new(),
        problems: Vec::new(),
    };
    for (file, result) in files.iter().zip(per_file) {
        let (batches, problems) = result?;
        let data = if file.table == Table::ChatMessages {
            &mut messages
        } else {
            &mut orders
        };
        data.batches.extend(batches);
        data.problems.extend(problems);
    }
    Ok(Sources {
        files,
        messages,
        orders,
    })
}

/// Reads a CSV or Parquet file into the columns of any table layout — how `ccc validate`
/// reads a published output table back (ours or another engine's). JSON files are
/// source-only and not accepted here.
pub fn read_layout_file(
    index: u32,
    path: &std::path::Path,
    format: Format,
    layout: crate::schema::TableLayout,
    options: &ReadOptions,
) -> Result<FileContents, IngestError> {
    match format {
        Format::Csv => csv::read_csv(index, path, layout, options.chunk_bytes.max(1)),
        Format::Parquet => parquet::read_parquet(index, path, layout),
        Format::Json | Format::Ndjson => Err(IngestError::Parquet {
            path: path.to_path_buf(),
            message: "only CSV and Parquet tables can be read back".into(),
        }),
    }
}

/// Reads one file of its table.
pub fn read_file(
    index: u32,
    file: &SourceFile,
    options: &ReadOptions,
) -> Result<FileContents, IngestError> {
    let chunk = options.chunk_bytes.max(1);
    match file.format {
        Format::Json | Format::Ndjson => json::read_json(index, file, file.table, chunk),
        Format::Csv => csv::read_csv(index, &file.path, file.table.layout(), chunk),
        Format::Parquet => parquet::read_parquet(index, &file.path, file.table.layout()),
    }
}
