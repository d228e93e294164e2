//! One suite alone, for orchestrator tasks and CI (`ccc validate`): the source suite on
//! a source folder, the output suite on a table folder — ccc's output, a staged run,
//! or a Spark job's Hive-partitioned Parquet or CSV — or any suite on the tables it
//! names (`--table NAME=PATH`). On a table folder it is the audit
//! step: on a folder waiting to be published the verdict is recorded in it
//! (`_audit.json`) for `ccc publish`; a published output is only read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ccc_dq::{Dataset, SuiteResult};

use super::audit::{AuditRecord, Fingerprint};
use super::checks::{run_suite, OutputMetrics, Prechecked};
use super::incremental::absolute;
use super::stage::STAGE_RECORD;
use crate::exit::CliError;
use crate::quality::ahead::ChecksAhead;
use crate::quality::datasets::{
    messages_in_table, presence_only_columns, published_dataset, source_datasets,
};
use crate::quality::failed_rows::{write_failed_rows, FailedRows};
use crate::quality::history::{load_history, HistoryStore};
use crate::quality::suites::LoadedSuite;
use ccc_transform::schema::TABLE_NAME;

/// What data a validation reads.
#[derive(Debug, Clone)]
pub enum ValidateTarget {
    /// A source folder.
    Sources(PathBuf),
    /// A table folder (published, staged, or another engine's).
    Table(PathBuf),
    /// The tables a suite names, each bound to a file or folder (`--table NAME=PATH`).
    Tables(Vec<(String, PathBuf)>),
}

/// A validation to run.
#[derive(Debug, Clone)]
pub struct ValidateRequest {
    /// The suite.
    pub suite: LoadedSuite,
    /// The data.
    pub target: ValidateTarget,
    /// The longest text record read.
    pub max_record_bytes: usize,
    /// Where every unexpected row goes, if anywhere (`--failed-rows`).
    pub failed_rows: Option<FailedRows>,
    /// The history the run is compared with and appended to (`--history`).
    pub history: Option<HistoryStore>,
    /// The run's time, µs since the epoch (`--run-time`; default now).
    pub run_time: Option<i64>,
    /// Profile the tables too (for an HTML report).
    pub profile: bool,
}

/// What a validation found.
#[derive(Debug)]
pub struct Validated {
    /// The suite's result.
    pub result: SuiteResult,
    /// Where the audit was recorded (table folders).
    pub audit: Option<PathBuf>,
    /// Why it could not be recorded in a folder that is not a ccc stage (a read-only
    /// published table, say); the verdict stands.
    pub audit_warning: Option<String>,
    /// How many failed rows were written (`--failed-rows`).
    pub failed_rows_written: Option<usize>,
    /// The history file this run was recorded in (`--history`).
    pub history_file: Option<PathBuf>,
}

/// The most `_run.json` text read: a report is a few kilobytes.
const RUN_REPORT_LIMIT: u64 = 64 << 20;

/// Run counts found next to a table folder (`_run.json`), for reconciliations. A report
/// that is there but unreadable, or lacks a count, is an input error naming it; a table
/// folder without one (another engine's) has no counts to reconcile.
fn published_metrics(dir: &Path) -> Result<Option<OutputMetrics>, CliError> {
    let path = dir.join("_run.json");
    let bad = |message: String| CliError::RunReport {
        path: path.clone(),
        message,
    };
    let text = match ccc_ingest::open::read_regular_to_string(&path, RUN_REPORT_LIMIT) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(e.to_string())),
    };
    let report: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    OutputMetrics::from_run_report(&report)
        .map(Some)
        .map_err(bad)
}

/// Runs the suite over the target; on a table folder, records the audit there; writes
/// the failed rows when asked. Only results of `result_format: COMPLETE` keep every
/// unexpected value in the report.
pub fn validate(request: &ValidateRequest) -> Result<Validated, CliError> {
    let run_time = request.run_time.unwrap_or_else(ccc_dq::time::now_micros);
    let options = ccc_dq::Options {
        every_unexpected: request.failed_rows.is_some(),
        history: load_history(request.history.as_ref())?,
        run_time: Some(run_time),
        profile: request.profile,
        ..Default::default()
    };
    let mut validated = validate_with(request, &options)?;
    if let Some(store) = &request.history {
        let suite = &request.suite.suite;
        validated.history_file = Some(store.append(suite, &validated.result, run_time)?);
    }
    if let Some(target) = &request.failed_rows {
        validated.failed_rows_written = Some(write_failed_rows(&validated.result, target)?);
        for r in &mut validated.result.results {
            if r.result_format != ccc_dq::ResultFormat::Complete {
                r.unexpected_list.clear();
            }
        }
    }
    Ok(validated)
}

fn validate_with(
    request: &ValidateRequest,
    options: &ccc_dq::Options,
) -> Result<Validated, CliError> {
    let suite = &request.suite;
    match &request.target {
        ValidateTarget::Sources(dir) => {
            let (datasets, prechecked) =
                read_sources(suite, dir, request.max_record_bytes, options)?;
            let result = run_suite(
                suite,
                &suite.suite,
                &datasets,
                &BTreeMap::new(),
                &prechecked,
                options,
            )?;
            Ok(Validated {
                result,
                audit: None,
                audit_warning: None,
                failed_rows_written: None,
                history_file: None,
            })
        }
        ValidateTarget::Tables(bindings) => {
            let datasets = super::tables::read_bound_tables(
                &suite.suite,
                bindings,
                request.max_record_bytes,
                options.profile,
            )?;
            let result = run_suite(
                suite,
                &suite.suite,
                &datasets,
                &BTreeMap::new(),
                &Prechecked::new(),
                options,
            )?;
            Ok(Validated {
                result,
                audit: None,
                audit_warning: None,
                failed_rows_written: None,
                history_file: None,
            })
        }
        ValidateTarget::Table(dir) => {
            // The fingerprint is taken before the data is read: a file changed while the
            // suite runs makes the audit stale rather than vouching for what was not read.
            let fingerprint = Fingerprint::of(dir)?;
            let dataset = published_dataset(dir)?;
            let metrics = match published_metrics(dir)? {
                Some(m) => m.to_map(messages_in_table(&dataset)),
                None => BTreeMap::new(),
            };
            let result = run_suite(
                suite,
                &suite.suite,
                &[dataset],
                &metrics,
                &Prechecked::new(),
                options,
            )?;
            let (audit, audit_warning) = if !is_staged(dir) {
                (None, None)
            } else {
                match AuditRecord::new(&result, fingerprint).write(dir) {
                    Ok(()) => (Some(dir.join(super::audit::AUDIT_RECORD)), None),
                    // A ccc stage must carry its audit, or it cannot be published.
                    Err(e) if dir.join(STAGE_RECORD).exists() => return Err(e),
                    Err(e) => (None, Some(format!("{e}: {}", source_text(&e)))),
                }
            };
            Ok(Validated {
                result,
                audit,
                audit_warning,
                failed_rows_written: None,
                history_file: None,
            })
        }
    }
}

/// Whether `dir` is a folder waiting to be published, whose audit is recorded in it: a
/// staged run's (it has `_stage.json`), or another engine's output in ccc's layout. A
/// folder ccc published (its lock file is beside it) is only read: validating an output
/// never changes it.
fn is_staged(dir: &Path) -> bool {
    if dir.join(STAGE_RECORD).is_file() {
        return true;
    }
    let in_layout = ["parquet", "csv"]
        .iter()
        .any(|kind| dir.join(kind).join(TABLE_NAME).is_dir());
    in_layout && !ccc_transform::publish::Staging::lock_file_of(&absolute(dir)).exists()
}

fn source_text(e: &CliError) -> String {
    std::error::Error::source(e).map_or_else(String::new, |s| s.to_string())
}

/// Reads the sources for the suite: only what it looks at. Presence-only columns stay
/// unread where the files' statistics already answer for them, row checks run on each
/// batch as it is read, and what only they needed is dropped right after.
fn read_sources(
    suite: &LoadedSuite,
    dir: &Path,
    max_record_bytes: usize,
    options: &ccc_dq::Options,
) -> Result<(Vec<Dataset>, Prechecked), CliError> {
    let files = ccc_ingest::discover(dir)?;
    // A profile shows every column's values: nothing is left unread or dropped for it.
    let read_options = ccc_ingest::ReadOptions {
        presence_only: if options.profile {
            Vec::new()
        } else {
            presence_only_columns(Some(&suite.suite), &[])
        },
        text_presence_only: !options.profile,
        max_record_bytes,
        ..Default::default()
    };
    let ahead = ChecksAhead::new(&suite.suite, !options.profile, options)?;
    let sources = ccc_ingest::read_sources_with(
        files,
        &read_options,
        &|_| {},
        &|t, b, p| ahead.on_batch(t, b, p),
        &|data, files| ahead.on_table_read(data, files),
    )?;
    let prechecked = ahead.into_prechecked(&sources)?;
    Ok((source_datasets(&sources)?, prechecked))
}
