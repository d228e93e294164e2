//! The source suite's row-local checks run while the sources are read: each batch is
//! checked on the thread that decoded it, while it is in the cache, and — for `ccc
//! validate`, which keeps nothing else — the columns only those checks read are dropped
//! at once, so no table is ever held whole for them. The orders are read first (see
//! `ccc_ingest::read_sources_with`), so the messages' look-up in them runs batch by batch
//! too. The tallies are folded into the suite's results by `ccc_dq::validate_prechecked`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, RwLock};

use arrow2::array::{Array, NullArray};
use arrow2::chunk::Chunk;
use arrow2::datatypes::DataType;
use ccc_dq::{ChunkTallies, RowChecks, Suite, TypeProblem};
use ccc_ingest::{Batch, FieldProblem, SourceFile, Sources, Table, TableData};

use crate::exit::CliError;
use crate::quality::datasets::table_dataset;
use crate::quality::suites::SuiteDiagnostic;

/// A batch's place: its table, file and position in the file (see `Batch::position`).
type BatchKey = (Table, u32, u64);

/// The row-local checks of both source tables, and the tallies of the batches seen.
pub struct ChecksAhead {
    /// Written once per table read whole (binding look-ups in it), read for every batch.
    checks: Vec<(Table, RwLock<RowChecks>)>,
    drop_checked: bool,
    tallies: Mutex<BTreeMap<BatchKey, ChunkTallies>>,
    failure: Mutex<Option<CliError>>,
}

impl ChecksAhead {
    /// Binds `suite` to the source tables (its binding errors come out here, before any
    /// data is read). With `drop_checked`, columns that no later check reads are replaced
    /// by placeholders once their batch is checked.
    pub fn new(
        suite: &Suite,
        drop_checked: bool,
        options: &ccc_dq::Options,
    ) -> Result<ChecksAhead, CliError> {
        let schemas: BTreeMap<String, arrow2::datatypes::Schema> = Table::ALL
            .into_iter()
            .map(|t| (t.name().to_string(), t.schema()))
            .collect();
        let checks = Table::ALL
            .into_iter()
            .map(|t| {
                RowChecks::new(suite, t.name(), &schemas, options)
                    .map(|c| (t, RwLock::new(c)))
                    .map_err(|e| CliError::Suite(Box::new(SuiteDiagnostic::new(e))))
            })
            .collect::<Result<_, _>>()?;
        Ok(ChecksAhead {
            checks,
            drop_checked,
            tallies: Mutex::new(BTreeMap::new()),
            failure: Mutex::new(None),
        })
    }

    /// Takes a table read whole (the reader's table hook) for the other table's look-ups
    /// in it, which then run on each of that table's batches as it is read.
    pub fn on_table_read(&self, data: &TableData, files: &[SourceFile]) {
        for (table, checks) in &self.checks {
            let looks_up = checks
                .read()
                .expect("no thread panics holding the lock")
                .looks_up_in(data.table.name());
            if *table == data.table || !looks_up {
                continue;
            }
            match table_dataset(data, files) {
                Ok(other) => checks
                    .write()
                    .expect("no thread panics holding the lock")
                    .look_up_in(&other),
                Err(e) => {
                    self.failure
                        .lock()
                        .expect("no thread panics holding the lock")
                        .get_or_insert(e);
                }
            }
        }
    }

    /// Checks one batch as it is read (the reader's batch hook).
    pub fn on_batch(&self, table: Table, batch: &mut Batch, problems: &[FieldProblem]) {
        let Some((_, checks)) = self.checks.iter().find(|(t, _)| *t == table) else {
            return;
        };
        let checks = checks.read().expect("no thread panics holding the lock");
        let type_problems = problems
            .iter()
            .filter(|p| !p.column.is_empty() && p.record >= batch.first_record)
            .map(|p| TypeProblem {
                column: p.column.to_string(),
                chunk: 0,
                row: (p.record - batch.first_record) as usize,
                raw: p.raw.clone(),
            })
            .collect();
        match checks.check(batch.chunk.clone(), &batch.unread, type_problems) {
            Ok(tallies) => {
                let key = (table, batch.file, batch.position);
                self.tallies
                    .lock()
                    .expect("no thread panics holding the lock")
                    .insert(key, tallies);
            }
            Err(e) => {
                self.failure
                    .lock()
                    .expect("no thread panics holding the lock")
                    .get_or_insert(CliError::Internal(format!(
                        "cannot prepare data for the checks: {e}"
                    )));
                return;
            }
        }
        if self.drop_checked {
            drop_columns(batch, checks.columns_needed_later());
        }
    }

    /// The columns of `table` that checks after the row-local ones read (none without a
    /// binding for the table).
    pub fn columns_needed_later(&self, table: Table) -> BTreeSet<usize> {
        self.checks
            .iter()
            .find(|(t, _)| *t == table)
            .map(|(_, checks)| {
                checks
                    .read()
                    .expect("no thread panics holding the lock")
                    .columns_needed_later()
                    .clone()
            })
            .unwrap_or_default()
    }

    /// The tallies per table, in the order of the tables' batches (the datasets' chunk
    /// order).
    pub fn into_prechecked(
        self,
        sources: &Sources,
    ) -> Result<BTreeMap<String, Vec<ChunkTallies>>, CliError> {
        if let Some(e) = self.failure.into_inner().expect("no thread panicked") {
            return Err(e);
        }
        let mut tallies = self.tallies.into_inner().expect("no thread panicked");
        let mut out = BTreeMap::new();
        for (table, _) in &self.checks {
            let batches = &sources.table(*table).batches;
            let per_chunk = batches
                .iter()
                .map(|b| {
                    tallies
                        .remove(&(*table, b.file, b.position))
                        .ok_or_else(|| {
                            CliError::Internal(format!(
                                "batch of {} at record {} was not checked as it was read",
                                table.name(),
                                b.first_record
                            ))
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            out.insert(table.name().to_string(), per_chunk);
        }
        Ok(out)
    }
}

/// Replaces every column of `batch` but `keep` by a placeholder of its length, listing it
/// in the batch's `unread` (as a reader does for a column it left unread).
pub fn drop_columns(batch: &mut Batch, keep: &BTreeSet<usize>) {
    let len = batch.len();
    let arrays: Vec<Box<dyn Array>> = std::mem::replace(&mut batch.chunk, Chunk::new(vec![]))
        .into_arrays()
        .into_iter()
        .enumerate()
        .map(|(i, array)| {
            if keep.contains(&i) || batch.unread.contains(&i) {
                array
            } else {
                batch.unread.push(i);
                NullArray::new(DataType::Null, len).boxed()
            }
        })
        .collect();
    batch.chunk = Chunk::new(arrays);
}
