//! Writing generated records to the files of a table: records are split by target file
//! into [`Piece`]s (formatted text, or rows for Parquet) in parallel, then appended to the
//! files in order by one writer, which also tallies what was injected where.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow2::array::Array;
use arrow2::chunk::Chunk;
use rayon::prelude::*;

use super::dirty::{self, Injection};
use super::error::{io_err, GenerateError};
use super::model::{Message, OrderRow};
use super::{columnar, text, InjectedRecord};
use ccc_ingest::schema::Table;
use ccc_ingest::Format;

/// Rows a Parquet row group gets before it is cut (the last one of a file may be smaller).
const ROW_GROUP_ROWS: usize = 64 * 1024;
/// Output buffer per text file.
const WRITE_BUFFER: usize = 1 << 20;

/// A record of one of the two tables.
pub(crate) trait Record: Copy + Send + Sync {
    /// Its table.
    const TABLE: Table;
    /// The 0-based file it goes to.
    fn file(&self) -> u32;
    /// Whether it goes to a later file than its time says.
    fn late(&self) -> bool;
    /// Its broken field, if any.
    fn injection(&self) -> Option<Injection>;
    /// Appends it as text.
    fn write_text(&self, format: Format, out: &mut Vec<u8>);
    /// Builds a row group of such records.
    fn chunk(rows: &[Self]) -> Chunk<Box<dyn Array>>;
    /// About how many bytes one record takes as text (a buffer size hint).
    fn text_bytes(format: Format) -> usize;
}

impl Record for Message {
    const TABLE: Table = Table::ChatMessages;
    fn file(&self) -> u32 {
        self.file
    }
    fn late(&self) -> bool {
        self.late
    }
    fn injection(&self) -> Option<Injection> {
        self.dirty
    }
    fn write_text(&self, format: Format, out: &mut Vec<u8>) {
        text::message(format, out, self);
    }
    fn chunk(rows: &[Self]) -> Chunk<Box<dyn Array>> {
        columnar::messages(rows)
    }
    fn text_bytes(format: Format) -> usize {
        match format {
            Format::Json => 360,
            Format::Ndjson => 256,
            Format::Csv => 112,
            Format::Parquet => 0,
        }
    }
}

impl Record for OrderRow {
    const TABLE: Table = Table::Orders;
    fn file(&self) -> u32 {
        self.file
    }
    fn late(&self) -> bool {
        self.late
    }
    fn injection(&self) -> Option<Injection> {
        self.dirty
    }
    fn write_text(&self, format: Format, out: &mut Vec<u8>) {
        text::order(format, out, self);
    }
    fn chunk(rows: &[Self]) -> Chunk<Box<dyn Array>> {
        columnar::orders(rows)
    }
    fn text_bytes(format: Format) -> usize {
        match format {
            Format::Json => 72,
            Format::Ndjson => 40,
            Format::Csv => 24,
            Format::Parquet => 0,
        }
    }
}

/// The records of one block that go to one file, ready to append.
pub(crate) struct Piece<R> {
    file: u32,
    /// Formatted records (text formats).
    bytes: Vec<u8>,
    /// The records themselves (Parquet).
    rows: Vec<R>,
    count: u64,
    /// (0-based row within the piece, injection).
    injected: Vec<(u64, Injection)>,
    late: u64,
}

/// Splits a block's records (in the order they are to be written) by file.
pub(crate) fn split<R: Record>(records: &[R], format: Format) -> Vec<Piece<R>> {
    let mut pieces: Vec<Piece<R>> = Vec::new();
    for r in records {
        let at = match pieces.iter().position(|p| p.file == r.file()) {
            Some(at) => at,
            None => {
                // Most records of a block go to one file: the first piece gets room for all.
                let bytes = if pieces.is_empty() {
                    records.len() * R::text_bytes(format)
                } else {
                    4096
                };
                pieces.push(Piece {
                    file: r.file(),
                    bytes: Vec::with_capacity(bytes),
                    rows: Vec::new(),
                    count: 0,
                    injected: Vec::new(),
                    late: 0,
                });
                pieces.len() - 1
            }
        };
        let piece = &mut pieces[at];
        if let Some(inj) = r.injection() {
            piece.injected.push((piece.count, inj));
        }
        piece.late += u64::from(r.late());
        if format == Format::Parquet {
            piece.rows.push(*r);
        } else {
            r.write_text(format, &mut piece.bytes);
        }
        piece.count += 1;
    }
    pieces.sort_unstable_by_key(|p| p.file);
    pieces
}

/// What was injected, tallied while writing.
pub(crate) struct Tally {
    /// Per table, per column, per [`DirtyKind::ALL`] index.
    pub(crate) counts: [Vec<[u64; 5]>; 2],
    pub(crate) dirty_records: [u64; 2],
    pub(crate) late_records: [u64; 2],
    pub(crate) records: Vec<InjectedRecord>,
    pub(crate) complete: bool,
    limit: usize,
}

impl Tally {
    /// An empty tally that lists at most `limit` injected records one by one.
    pub(crate) fn new(limit: usize) -> Tally {
        Tally {
            counts: Table::ALL.map(|t| vec![[0; 5]; t.columns().len()]),
            dirty_records: [0; 2],
            late_records: [0; 2],
            records: Vec::new(),
            complete: true,
            limit,
        }
    }
}

fn table_index(table: Table) -> usize {
    match table {
        Table::ChatMessages => 0,
        Table::Orders => 1,
    }
}

/// One written file, for the manifest.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct FileReport {
    pub(crate) table: Table,
    pub(crate) name: String,
    #[serde(skip)]
    pub(crate) path: PathBuf,
    pub(crate) records: u64,
    pub(crate) late_records: u64,
    pub(crate) dirty_records: u64,
}

struct OutFile<R> {
    report: FileReport,
    writer: Option<BufWriter<File>>,
    pending: Vec<R>,
    chunks: Vec<Chunk<Box<dyn Array>>>,
}

/// A Parquet file still to be written: path and row groups.
pub(crate) type ParquetJob = (PathBuf, Table, Vec<Chunk<Box<dyn Array>>>);

/// The output files of one table.
pub(crate) struct TableFiles<R> {
    format: Format,
    files: Vec<OutFile<R>>,
}

/// The name of file `k` (0-based) of `count`: `orders.json` alone, else `orders_0001.json`.
pub(crate) fn file_name(table: Table, format: Format, k: u32, count: u32) -> String {
    if count == 1 {
        format!("{}.{}", table.name(), format.extension())
    } else {
        format!("{}_{:04}.{}", table.name(), k + 1, format.extension())
    }
}

impl<R: Record> TableFiles<R> {
    /// Creates (truncating) the `count` files of the table in `dir`; Parquet files are
    /// only written by [`TableFiles::finish`]'s jobs.
    pub(crate) fn create(dir: &Path, format: Format, count: u32) -> Result<Self, GenerateError> {
        let mut files = Vec::with_capacity(count as usize);
        for k in 0..count {
            let name = file_name(R::TABLE, format, k, count);
            let path = dir.join(&name);
            let writer = if format == Format::Parquet {
                None
            } else {
                let file = File::create(&path).map_err(io_err(&path))?;
                let mut w = BufWriter::with_capacity(WRITE_BUFFER, file);
                w.write_all(&text::header(format, R::TABLE))
                    .map_err(io_err(&path))?;
                Some(w)
            };
            let report = FileReport {
                table: R::TABLE,
                name,
                path,
                records: 0,
                late_records: 0,
                dirty_records: 0,
            };
            files.push(OutFile {
                report,
                writer,
                pending: Vec::new(),
                chunks: Vec::new(),
            });
        }
        Ok(TableFiles { format, files })
    }

    /// Appends a piece to its file and tallies its injections.
    pub(crate) fn append(
        &mut self,
        piece: Piece<R>,
        tally: &mut Tally,
    ) -> Result<(), GenerateError> {
        let format = self.format;
        let file = &mut self.files[piece.file as usize];
        let t = table_index(R::TABLE);
        for &(row, inj) in &piece.injected {
            tally.counts[t][usize::from(inj.column)][inj.kind.index()] += 1;
            if tally.records.len() < tally.limit {
                let (column, ty) = R::TABLE.columns()[usize::from(inj.column)];
                tally.records.push(InjectedRecord {
                    table: R::TABLE,
                    file: file.report.name.clone(),
                    record: file.report.records + row + 1,
                    column,
                    kind: inj.kind,
                    value: dirty::value_text(column, ty, inj),
                });
            } else {
                tally.complete = false;
            }
        }
        let dirty = piece.injected.len() as u64;
        tally.dirty_records[t] += dirty;
        tally.late_records[t] += piece.late;
        if let Some(w) = file.writer.as_mut() {
            let skip = if file.report.records == 0 {
                text::first_record_skip(format)
            } else {
                0
            };
            if let Some(bytes) = piece.bytes.get(skip..) {
                w.write_all(bytes).map_err(io_err(&file.report.path))?;
            }
        } else {
            file.pending.extend_from_slice(&piece.rows);
        }
        file.report.records += piece.count;
        file.report.late_records += piece.late;
        file.report.dirty_records += dirty;
        Ok(())
    }

    /// Turns pending Parquet rows into row groups once there are enough of them (or all
    /// of them when `all`), in parallel across files.
    pub(crate) fn cut_row_groups(&mut self, all: bool) {
        self.files.par_iter_mut().for_each(|f| {
            if f.pending.len() >= ROW_GROUP_ROWS || (all && !f.pending.is_empty()) {
                let rows = std::mem::take(&mut f.pending);
                f.chunks.push(R::chunk(&rows));
            }
        });
    }

    /// Closes text files (footer, flush) and returns the reports and the Parquet files
    /// still to write.
    pub(crate) fn finish(mut self) -> Result<(Vec<FileReport>, Vec<ParquetJob>), GenerateError> {
        self.cut_row_groups(true);
        let mut reports = Vec::with_capacity(self.files.len());
        let mut jobs = Vec::new();
        for f in self.files {
            match f.writer {
                Some(mut w) => {
                    let path = &f.report.path;
                    w.write_all(text::footer(self.format, f.report.records))
                        .map_err(io_err(path))?;
                    let file = w.into_inner().map_err(|e| io_err(path)(e.into_error()))?;
                    drop(file);
                }
                None => jobs.push((f.report.path.clone(), R::TABLE, f.chunks)),
            }
            reports.push(f.report);
        }
        Ok((reports, jobs))
    }
}
