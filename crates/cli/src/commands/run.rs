//! `ccc run`: the whole job — read sources, source suite, transform, output suite,
//! publish — with a run report at the end, also written as `OUT/_run.json`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use ccc_transform::publish::{Formats, Staging};
use ccc_transform::{build_conversations, to_partitions, QuarantinedRow};

use crate::args::{ChecksMode, OutputFormat, RunArgs};
use crate::exit::{CliError, ExitStatus};
use crate::progress::Progress;
use crate::report::{FileEntry, MessageCounts, OrderCounts, PartitionEntry, RunReport, Timings};

/// Settings resolved from the arguments before any work starts.
struct RunConfig {
    source: PathBuf,
    out: PathBuf,
    formats: Formats,
    checks: ChecksMode,
    quiet: bool,
    read: ccc_ingest::ReadOptions,
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
        let read = ccc_ingest::ReadOptions {
            chunk_bytes: args.chunk_bytes.max(1),
        };
        Ok(Self {
            source: args.source,
            out: args.out,
            formats,
            checks: args.checks,
            quiet: args.quiet,
            read,
        })
    }
}

fn by_reason(rows: &[QuarantinedRow]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for row in rows {
        *counts.entry(row.reason.clone()).or_insert(0) += 1;
    }
    counts
}

/// Runs the job.
pub fn run(args: RunArgs) -> Result<ExitStatus, CliError> {
    let config = RunConfig::resolve(args)?;
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
    let sources = ccc_ingest::read_sources(files, &config.read, &|file| progress.add(file.size))?;
    timings.read_ms = clock.elapsed().as_millis() as u64;

    let clock = Instant::now();
    progress.stage("building conversations");
    let output = build_conversations(&sources);
    let partitions = to_partitions(&output.table);
    timings.transform_ms = clock.elapsed().as_millis() as u64;

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
        checks: match config.checks {
            ChecksMode::Enforce => "enforce",
            ChecksMode::Warn => "warn",
            ChecksMode::Off => "off",
        },
        files: sources
            .files
            .iter()
            .map(|f| FileEntry {
                name: f.name.clone(),
                table: f.table.name().into(),
                format: f.format,
                bytes: f.size,
            })
            .collect(),
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
        reconciled: c.messages_read
            == c.messages_aggregated + c.messages_quarantined + c.messages_orphaned,
        timings,
    };
    let json = serde_json::to_value(&report).expect("the report serializes");
    staging.write_report(&json)?;
    let out = staging.commit()?;
    progress.finish();
    if !config.quiet {
        println!("{}", report.to_table());
        println!("published {}", out.display());
    }
    Ok(ExitStatus::Success)
}
