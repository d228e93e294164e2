//! `ccc run`: the whole job — read sources, source suite, transform, output suite,
//! publish — with a run report at the end, also written as `OUT/_run.json`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use ccc_transform::publish::{Formats, Staging};
use ccc_transform::{build_conversations, to_partitions, QuarantinedRow};

use ccc_dq::{Dataset, Suite, SuiteResult};

use crate::args::{ChecksMode, OutputFormat, RunArgs};
use crate::exit::{CliError, ExitStatus};
use crate::progress::Progress;
use crate::quality::ahead::ChecksAhead;
use crate::quality::datasets::{
    messages_in_table, output_dataset, presence_only_columns, source_datasets,
};
use crate::quality::reports::{
    human_table, pair_reports, verdict_line, write_reports, ReportFormat,
};
use crate::quality::suites::{load_suite, SuiteDiagnostic};
use crate::report::{
    ChecksReport, FileEntry, MessageCounts, OrderCounts, PartitionEntry, RunReport, Timings,
};

/// Settings resolved from the arguments before any work starts.
pub(super) struct RunConfig {
    pub(super) source: PathBuf,
    pub(super) out: PathBuf,
    pub(super) formats: Formats,
    pub(super) checks: ChecksMode,
    /// The source and output suites, loaded and checked before any data is read.
    pub(super) suites: Option<(Suite, Suite)>,
    pub(super) reports: Vec<(ReportFormat, PathBuf)>,
    pub(super) quiet: bool,
    pub(super) read: ccc_ingest::ReadOptions,
    /// `--incremental` settings.
    pub(super) incremental: Option<IncrementalConfig>,
}

/// Settings of `--incremental` runs.
pub(super) struct IncrementalConfig {
    pub(super) state: PathBuf,
    pub(super) reprocess: bool,
    pub(super) rehash: bool,
    pub(super) max_lateness: Option<std::time::Duration>,
}

impl RunConfig {
    fn resolve(args: RunArgs) -> Result<Self, CliError> {
        let formats = Formats {
            parquet: args.format.contains(&OutputFormat::Parquet),
            csv: args.format.contains(&OutputFormat::Csv),
        };
        if !formats.parquet && !formats.csv {
            return Err(CliError::Usage(
                "--format needs parquet, csv or both".into(),
            ));
        }
        // Incremental runs keep every column (the state and quarantine carry them); the
        // full run narrows this down.
        let read = ccc_ingest::ReadOptions {
            chunk_bytes: args.chunk_bytes.max(1),
            max_record_bytes: args.max_record_bytes,
            ..Default::default()
        };
        let reports = pair_reports(&args.report, &args.report_file)?;
        // Suites are loaded and checked before any data is read: a typo fails in milliseconds.
        let suites = match args.checks {
            ChecksMode::Off => None,
            _ => Some((
                load_suite(&args.expectations.join("source.yaml"))?,
                load_suite(&args.expectations.join("output.yaml"))?,
            )),
        };
        let incremental = match (args.incremental, args.state) {
            (true, Some(state)) => Some(IncrementalConfig {
                state,
                reprocess: args.reprocess,
                rehash: args.rehash,
                max_lateness: args.max_lateness,
            }),
            _ => None,
        };
        Ok(Self {
            incremental,
            source: args.source,
            out: args.out,
            formats,
            checks: args.checks,
            suites,
            reports,
            quiet: args.quiet,
            read,
        })
    }
}

/// The files a run read, for the report.
pub(super) fn file_entries(sources: &ccc_ingest::Sources) -> Vec<FileEntry> {
    sources
        .files
        .iter()
        .map(|f| FileEntry {
            name: f.name.clone(),
            table: f.table.name().into(),
            format: f.format,
            bytes: f.size,
        })
        .collect()
}

pub(super) fn by_reason(rows: &[QuarantinedRow]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for row in rows {
        *counts.entry(row.reason.clone()).or_insert(0) += 1;
    }
    counts
}

/// Runs the job.
pub fn run(args: RunArgs) -> Result<ExitStatus, CliError> {
    let config = RunConfig::resolve(args)?;
    if config.incremental.is_some() {
        return super::incremental::run(config);
    }
    let started = Instant::now();
    let mut timings = Timings::default();
    let progress = Progress::new(config.quiet);

    let clock = Instant::now();
    let files = ccc_ingest::discover(&config.source)?;
    // Fail on an unwritable or foreign output folder before spending time on the data.
    let staging = Staging::create(&config.out)?;
    timings.discover_ms = clock.elapsed().as_millis() as u64;

    let clock = Instant::now();
    progress.start_bytes("reading", files.iter().map(|f| f.size).sum());
    // The source suite's row checks run on each batch as it is read, while it is in
    // the cache; the transform needs every column, so nothing is dropped.
    let ahead = match &config.suites {
        Some((suite, _)) => Some(ChecksAhead::new(suite, false)?),
        None => None,
    };
    // Columns only the suites' presence checks and the quarantine look at are left unread
    // where the files prove them complete; the quarantine reads back what it writes.
    let read = ccc_ingest::ReadOptions {
        presence_only: presence_only_columns(
            config.suites.as_ref().map(|(source, _)| source),
            &ccc_transform::COLUMNS_READ,
        ),
        text_presence_only: true,
        ..config.read.clone()
    };
    let sources = ccc_ingest::read_sources_with(
        files,
        &read,
        &|file| progress.add(file.size),
        &|table, batch, problems| {
            if let Some(ahead) = &ahead {
                ahead.on_batch(table, batch, problems);
            }
        },
        &|data, files| {
            if let Some(ahead) = &ahead {
                ahead.on_table_read(data, files);
            }
        },
    )?;
    let prechecked = match ahead {
        Some(ahead) => ahead.into_prechecked(&sources)?,
        None => BTreeMap::new(),
    };
    timings.read_ms = clock.elapsed().as_millis() as u64;

    let clock = Instant::now();
    let mut checks = ChecksReport {
        mode: config.checks.name(),
        source: None,
        output: None,
    };
    if let Some((suite, _)) = &config.suites {
        progress.stage("checking sources");
        let datasets = source_datasets(&sources)?;
        let result = run_suite(suite, &datasets, &BTreeMap::new(), &prechecked)?;
        if let Some(end) = record_suite(&config, &mut checks, Side::Source, result, &progress) {
            return end;
        }
    }
    timings.source_checks_ms = clock.elapsed().as_millis() as u64;

    let clock = Instant::now();
    progress.stage("building conversations");
    let mut output = build_conversations(&sources);
    let partitions = to_partitions(&output.table);
    timings.transform_ms = clock.elapsed().as_millis() as u64;

    let clock = Instant::now();
    if let Some((_, suite)) = &config.suites {
        progress.stage("checking output");
        let dataset = output_dataset(&partitions)?;
        let c = &output.counts;
        let metrics: BTreeMap<String, i64> = [
            ("messages_read", c.messages_read),
            ("messages_aggregated", c.messages_aggregated),
            ("messages_quarantined", c.messages_quarantined),
            ("messages_orphaned", c.messages_orphaned),
            ("orders_read", c.orders_read),
            ("conversations", c.conversations),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v as i64))
        .chain(std::iter::once((
            "messages_in_table".to_string(),
            messages_in_table(&dataset),
        )))
        .collect();
        let result = run_suite(suite, &[dataset], &metrics, &BTreeMap::new())?;
        if let Some(end) = record_suite(&config, &mut checks, Side::Output, result, &progress) {
            return end;
        }
    }
    if let Some(source) = &checks.source {
        annotate_quarantine(
            &mut output.quarantine.messages,
            source,
            ccc_ingest::Table::ChatMessages.name(),
        );
        annotate_quarantine(
            &mut output.quarantine.orders,
            source,
            ccc_ingest::Table::Orders.name(),
        );
    }
    timings.output_checks_ms = clock.elapsed().as_millis() as u64;

    let clock = Instant::now();
    progress.stage("publishing");
    staging.write_table(&partitions, config.formats)?;
    staging.write_quarantine(&output.quarantine, &sources)?;
    let c = &output.counts;
    timings.publish_ms = clock.elapsed().as_millis() as u64;
    timings.total_ms = started.elapsed().as_millis() as u64;
    let report = RunReport {
        ccc_version: env!("CARGO_PKG_VERSION"),
        source: config.source.display().to_string(),
        out: config.out.display().to_string(),
        threads: rayon::current_num_threads(),
        checks,
        files: file_entries(&sources),
        messages: MessageCounts {
            read: c.messages_read,
            aggregated: c.messages_aggregated,
            quarantined: c.messages_quarantined,
            orphaned: c.messages_orphaned,
            orphan_orders: c.orphan_orders,
            quarantined_by_reason: by_reason(&output.quarantine.messages),
            field_problems: sources.messages.problems.len() as u64,
        },
        orders: OrderCounts {
            read: c.orders_read,
            distinct: c.orders_distinct,
            duplicate_rows: c.orders_duplicate_rows,
            conflicting: c.orders_conflicting,
            conflicting_examples: output
                .conflicting_order_ids
                .iter()
                .take(20)
                .copied()
                .collect(),
            quarantined: c.orders_quarantined,
            quarantined_by_reason: by_reason(&output.quarantine.orders),
            field_problems: sources.orders.problems.len() as u64,
        },
        conversations: c.conversations,
        partitions: partitions
            .iter()
            .map(|p| PartitionEntry {
                date: p.date.clone(),
                rows: p.chunk.len() as u64,
            })
            .collect(),
        incremental: None,
        reconciled: c.messages_read
            == c.messages_aggregated + c.messages_quarantined + c.messages_orphaned,
        timings,
    };
    let json = serde_json::to_value(&report).expect("the report serializes");
    staging.write_report(&json)?;
    // The suites' reports are written before the swap: a report that cannot be written
    // fails the run with nothing published, never a published run that exits 3.
    write_reports(&config.reports, &report.checks.results())?;
    let out = staging.commit()?;
    progress.finish();
    if !config.quiet {
        print_checks(&report.checks);
        println!("{}", report.to_table());
        println!("published {}", out.display());
    }
    Ok(ExitStatus::Success)
}

/// Runs one suite; a suite that does not fit the data is a suite error (exit 2).
pub(super) fn run_suite(
    suite: &Suite,
    datasets: &[Dataset],
    metrics: &BTreeMap<String, i64>,
    prechecked: &BTreeMap<String, Vec<ccc_dq::ChunkTallies>>,
) -> Result<SuiteResult, CliError> {
    let refs: Vec<&Dataset> = datasets.iter().collect();
    ccc_dq::validate_prechecked(
        suite,
        &refs,
        metrics,
        &ccc_dq::Options::default(),
        prechecked,
    )
    .map_err(|e| CliError::Suite(Box::new(SuiteDiagnostic::new(e))))
}

pub(super) fn print_checks(checks: &ChecksReport) {
    for result in checks.results() {
        println!("{}", human_table(result));
    }
}

/// Which side of the transform a suite checks.
#[derive(Debug, Clone, Copy)]
pub(super) enum Side {
    /// The sources, after ingest.
    Source,
    /// The table, before publishing.
    Output,
}

/// Records a suite's result in the report. With `--checks enforce` and a failed
/// error-severity expectation, returns how the run ends instead of going on.
pub(super) fn record_suite(
    config: &RunConfig,
    checks: &mut ChecksReport,
    side: Side,
    result: SuiteResult,
    progress: &Progress,
) -> Option<Result<ExitStatus, CliError>> {
    let stop = config.checks == ChecksMode::Enforce && !result.success;
    let which = match side {
        Side::Source => {
            checks.source = Some(result);
            "source"
        }
        Side::Output => {
            checks.output = Some(result);
            "output"
        }
    };
    stop.then(|| {
        progress.finish();
        stop_on_failed_checks(config, checks, which)
    })
}

/// `--checks enforce` and a failed error-severity expectation: nothing is published, the
/// previous output stays; the report says which suite stopped the run, and why.
pub(super) fn stop_on_failed_checks(
    config: &RunConfig,
    checks: &ChecksReport,
    which: &str,
) -> Result<ExitStatus, CliError> {
    write_reports(&config.reports, &checks.results())?;
    if config.quiet {
        for result in checks.results() {
            eprintln!("{}", verdict_line(result));
        }
    } else {
        print_checks(checks);
    }
    eprintln!(
        "error: the {which} suite failed with --checks enforce: nothing was published, {} is unchanged",
        config.out.display()
    );
    Ok(ExitStatus::ChecksFailed)
}

/// Adds to each quarantined row's reason the ids of the failed source expectations on
/// the fields that made it unusable (`orderId is null` → the not-null check of orderId).
pub(super) fn annotate_quarantine(rows: &mut [QuarantinedRow], result: &SuiteResult, table: &str) {
    for row in rows.iter_mut() {
        let mut ids: Vec<&str> = Vec::new();
        for part in row.reason.split("; ") {
            let Some((column, what)) = part.split_once(' ') else {
                continue;
            };
            let kind = if what == "is null" {
                "expect_column_values_to_not_be_null"
            } else if what.starts_with("is not a valid") || what.starts_with("is out of") {
                "expect_column_values_to_be_of_type"
            } else if what.starts_with("names no sender role") {
                "expect_column_values_to_be_in_set"
            } else {
                continue;
            };
            ids.extend(
                result
                    .results
                    .iter()
                    .filter(|r| !r.success && r.table == table && r.expectation == kind)
                    .filter(|r| r.column.as_deref() == Some(column))
                    .map(|r| r.id.as_str()),
            );
        }
        if !ids.is_empty() {
            row.reason = format!("{} [expectations: {}]", row.reason, ids.join(", "));
        }
    }
}
