//! `ccc run --incremental --state DIR`: the same job over only the source files not folded
//! in before. Order of work: plan (which files are new; a changed file stops here), read
//! the new files, source suite over them, fold them into the state, output suite over the
//! rewritten partitions, write the new state generation, publish the output naming it,
//! then drop the old generation. See `ccc_transform::incremental` and docs/late-events.md.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use ccc_dq::Suite;
use ccc_ingest::{SourceFile, Sources, Table};
use ccc_transform::incremental::{self, Folded, Manifest, Plan, StateDir};
use ccc_transform::publish::{test_hook, Staging};
use ccc_transform::{date_string, to_partitions};

use super::run::{
    annotate_quarantine, by_reason, file_entries, print_checks, record_suite, run_suite, RunConfig,
    Side,
};
use crate::args::ChecksMode;
use crate::exit::{CliError, ExitStatus};
use crate::progress::Progress;
use crate::quality::datasets::{messages_in_partitions, output_dataset, source_datasets};
use crate::quality::reports::write_reports;
use crate::report::{
    ChecksReport, IncrementalReport, MessageCounts, OrderCounts, PartitionEntry, RunReport,
    Timings, WaitingReport,
};

/// The expectation that compares messages with the orders table: in an incremental run
/// the orders of earlier runs are in the state, so waiting conversations replace it.
const OTHER_TABLE: &str = "expect_column_values_to_be_in_other_table";

/// Runs an incremental job.
pub(super) fn run(config: RunConfig) -> Result<ExitStatus, CliError> {
    let settings = config.incremental.as_ref().expect("an incremental run");
    let started = Instant::now();
    let started_at = now_rfc3339();
    let mut timings = Timings::default();
    let progress = Progress::new(config.quiet);

    let clock = Instant::now();
    let files = ccc_ingest::discover_any(&config.source)?;
    // The state first: a second run on a busy state is refused before it looks at the
    // output's staging.
    let state = StateDir::open(&settings.state)?;
    let _lock = state.lock()?;
    let staging = Staging::create(&config.out)?;
    let formats = format_names(&config);
    progress.stage("hashing source files");
    let plan = incremental::plan(
        &state,
        &config.out,
        files,
        &formats,
        settings.reprocess,
        settings.rehash,
    )?;
    timings.discover_ms = clock.elapsed().as_millis() as u64;

    if plan.new_files.is_empty() && plan.previous().is_some() {
        progress.finish();
        let current = plan.current.as_ref().expect("checked above");
        // Leftovers of a killed run can go: the output names `current`.
        state.remove_others(Some(current.manifest.generation))?;
        if let Some(warning) = missing_files_warning(&plan) {
            eprintln!("warning: {warning}");
        }
        if !config.quiet {
            println!(
                "nothing new: all {} source files are folded in already (state generation {}); {} is unchanged",
                plan.already_folded.len(),
                current.manifest.generation,
                config.out.display()
            );
        }
        return Ok(ExitStatus::Success);
    }

    let clock = Instant::now();
    let new_files: Vec<SourceFile> = plan.new_files.iter().map(|n| n.file.clone()).collect();
    progress.start_bytes("reading new files", new_files.iter().map(|f| f.size).sum());
    let sources = ccc_ingest::read_sources(new_files, &config.read, &|f| progress.add(f.size))?;
    timings.read_ms = clock.elapsed().as_millis() as u64;

    let clock = Instant::now();
    let mut checks = ChecksReport {
        mode: config.checks.name(),
        source: None,
        output: None,
    };
    if let Some((suite, _)) = &config.suites {
        progress.stage("checking new files");
        let datasets = source_datasets(&sources)?;
        let result = run_suite(
            &suite_for_new_files(suite, &sources),
            &datasets,
            &BTreeMap::new(),
            &BTreeMap::new(),
        )?;
        if let Some(end) = record_suite(&config, &mut checks, Side::Source, result, &progress) {
            return end;
        }
    }
    timings.source_checks_ms = clock.elapsed().as_millis() as u64;

    let clock = Instant::now();
    progress.stage("folding into the state");
    let max_lateness = settings
        .max_lateness
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    let mut folded = incremental::fold(plan.previous(), &sources, plan.generation, max_lateness)?;
    if !folded.cross_run_conflicts.is_empty() && config.checks == ChecksMode::Enforce {
        progress.finish();
        eprintln!(
            "error: {} orders got a cityCode in the new files that differs from the one folded in \
             before (orderId must map to one cityCode; e.g. orderId {}): nothing was published, \
             {} and {} are unchanged",
            folded.cross_run_conflicts.len(),
            folded.cross_run_conflicts[0],
            config.out.display(),
            settings.state.display()
        );
        return Ok(ExitStatus::ChecksFailed);
    }
    let manifest = incremental::next_manifest(&plan, &folded, &formats, &started_at);
    let partitions = to_partitions(&folded.table);
    let kept = incremental::kept_partitions(&manifest, &folded);
    timings.transform_ms = clock.elapsed().as_millis() as u64;

    let clock = Instant::now();
    if let Some((_, suite)) = &config.suites {
        progress.stage("checking changed conversations");
        // New and changed rows only: the rest of a rewritten partition is carried over as
        // published (and checked) before. The table's message count covers everything.
        let dataset = output_dataset(&to_partitions(&folded.changed))?;
        let kept_messages: u64 = kept.iter().map(|d| manifest.partitions[d].messages).sum();
        let t = &manifest.totals;
        let conversations: u64 = manifest.partitions.values().map(|p| p.rows).sum();
        // Totals since the state was started: they reconcile across runs, and the table's
        // messages are the rewritten partitions' (counted from their columns) plus the
        // kept ones'.
        let metrics: BTreeMap<String, i64> = [
            ("messages_read", t.messages_read),
            ("messages_aggregated", manifest.messages_published()),
            ("messages_quarantined", t.messages_quarantined),
            ("messages_orphaned", t.messages_waiting),
            ("orders_read", t.orders_read),
            ("conversations", conversations),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v as i64))
        .chain(std::iter::once((
            "messages_in_table".to_string(),
            messages_in_partitions(&partitions) + kept_messages as i64,
        )))
        .collect();
        let result = run_suite(suite, &[dataset], &metrics, &BTreeMap::new())?;
        if let Some(end) = record_suite(&config, &mut checks, Side::Output, result, &progress) {
            return end;
        }
    }
    if let Some(source) = &checks.source {
        annotate_quarantine(
            &mut folded.quarantine.messages,
            source,
            Table::ChatMessages.name(),
        );
        annotate_quarantine(&mut folded.quarantine.orders, source, Table::Orders.name());
    }
    timings.output_checks_ms = clock.elapsed().as_millis() as u64;

    // The new state generation first, complete, then the output that names it: whatever
    // point a kill hits, the output names a generation that exists.
    let clock = Instant::now();
    progress.stage("writing state and publishing");
    // The two are independent until the swap: write them side by side.
    let (generation, staged) = rayon::join(
        || incremental::write_state(&state, &plan, &folded, &manifest),
        || -> Result<(), ccc_transform::PublishError> {
            staging.write_table(&partitions, config.formats)?;
            if plan.previous().is_some() {
                staging.keep_partitions(&config.out, &kept, config.formats)?;
            }
            staging.write_quarantine(&folded.quarantine, &sources)?;
            if plan.previous().is_some() {
                staging.carry_quarantine(&config.out)?;
            }
            Ok(())
        },
    );
    let generation = generation?;
    staged?;
    timings.publish_ms = clock.elapsed().as_millis() as u64;
    timings.total_ms = started.elapsed().as_millis() as u64;
    let report = run_report(
        &config, &plan, &folded, &manifest, &sources, checks, timings,
    );
    let json = serde_json::to_value(&report).expect("the report serializes");
    staging.write_report(&json)?;
    // Before the swap, as in a full run: nothing is published unless they are written.
    write_reports(&config.reports, &report.checks.results())?;
    let out = staging.commit()?;
    state.record_committed(&generation)?;
    test_hook("state-before-cleanup");
    state.remove_others(Some(generation.manifest.generation))?;
    progress.finish();
    let incremental = report.incremental.as_ref().expect("set above");
    for warning in &incremental.warnings {
        eprintln!("warning: {warning}");
    }
    if !config.quiet {
        print_checks(&report.checks);
        println!("{}", report.to_table());
        println!(
            "published {} (state generation {} in {})",
            out.display(),
            generation.manifest.generation,
            settings.state.display()
        );
    }
    Ok(ExitStatus::Success)
}

fn format_names(config: &RunConfig) -> Vec<String> {
    let mut names = Vec::new();
    if config.formats.parquet {
        names.push("parquet".to_string());
    }
    if config.formats.csv {
        names.push("csv".to_string());
    }
    names
}

fn now_rfc3339() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    ccc_ingest::timestamp::format_rfc3339_micros(micros)
}

/// The source suite as it applies to this run's new files: sections of tables with no
/// new file are left out (their data was checked when it came), and so is the check
/// against the other table (orders of earlier runs are in the state; messages of orders
/// not known yet wait there and are reported as waiting).
fn suite_for_new_files(suite: &Suite, sources: &Sources) -> Suite {
    let present: BTreeSet<&str> = sources.files.iter().map(|f| f.table.name()).collect();
    let mut suite = suite.clone();
    suite.tables.retain(|t| present.contains(t.table.as_str()));
    for table in &mut suite.tables {
        table.expectations.retain(|e| e.name() != OTHER_TABLE);
    }
    suite
}

fn missing_files_warning(plan: &Plan) -> Option<String> {
    const NAMED: usize = 5;
    if plan.missing.is_empty() {
        return None;
    }
    let mut names = plan.missing[..plan.missing.len().min(NAMED)].join(", ");
    if plan.missing.len() > NAMED {
        names += &format!(" and {} more", plan.missing.len() - NAMED);
    }
    Some(format!(
        "{} source files folded in earlier are no longer in the source folder ({names}); \
         their records stay folded in — rebuild with --reprocess to drop them",
        plan.missing.len(),
    ))
}

fn waiting_report(folded: &Folded, manifest: &Manifest) -> WaitingReport {
    let oldest = folded
        .waiting
        .iter()
        .min_by_key(|r| (r.first_seen_run, r.order_id));
    WaitingReport {
        orders: folded.waiting.len() as u64,
        messages: manifest.totals.messages_waiting,
        oldest_order_id: oldest.map(|r| r.order_id),
        oldest_since_run: oldest.map(|r| r.first_seen_run),
        oldest_since: oldest
            .and_then(|r| manifest.run_started_at(r.first_seen_run))
            .map(str::to_string),
        oldest_runs_waited: oldest.map(|r| manifest.generation - r.first_seen_run + 1),
    }
}

fn run_report(
    config: &RunConfig,
    plan: &Plan,
    folded: &Folded,
    manifest: &Manifest,
    sources: &Sources,
    checks: ChecksReport,
    timings: Timings,
) -> RunReport {
    let settings = config.incremental.as_ref().expect("an incremental run");
    let c = &folded.counts;
    let written: Vec<String> = folded.state_days.keys().map(|d| date_string(*d)).collect();
    let removed: Vec<String> = folded
        .rewritten
        .iter()
        .filter(|d| !folded.state_days.contains_key(d))
        .map(|d| date_string(*d))
        .filter(|d| {
            plan.previous()
                .is_some_and(|g| g.manifest.partitions.contains_key(d))
        })
        .collect();
    let mut warnings: Vec<String> = missing_files_warning(plan).into_iter().collect();
    if let Some(example) = folded.cross_run_conflicts.first() {
        warnings.push(format!(
            "{} orders got a cityCode that differs from the one folded in before (e.g. orderId \
             {example}); the smallest is used, as in a full run",
            folded.cross_run_conflicts.len()
        ));
    }
    let late = &folded.late;
    if late.beyond_max_lateness > 0 {
        warnings.push(format!(
            "{} messages arrived more than {} s behind the watermark {} (worst: {} s); they are folded in",
            late.beyond_max_lateness,
            late.max_lateness_seconds.unwrap_or(0),
            late.watermark.as_deref().unwrap_or("-"),
            late.worst_lateness_seconds.unwrap_or(0),
        ));
    }
    let waiting = waiting_report(folded, manifest);
    RunReport {
        ccc_version: env!("CARGO_PKG_VERSION"),
        source: config.source.display().to_string(),
        out: config.out.display().to_string(),
        threads: rayon::current_num_threads(),
        checks,
        files: file_entries(sources),
        messages: MessageCounts {
            read: c.messages_read,
            aggregated: c.messages_published,
            quarantined: c.messages_quarantined,
            orphaned: c.messages_waiting,
            orphan_orders: waiting.orders,
            quarantined_by_reason: by_reason(&folded.quarantine.messages),
            field_problems: sources.messages.problems.len() as u64,
        },
        orders: OrderCounts {
            read: c.orders_read,
            distinct: c.orders_new,
            duplicate_rows: c.orders_duplicate_rows,
            conflicting: c.orders_conflicting,
            conflicting_examples: Vec::new(),
            quarantined: c.orders_quarantined,
            quarantined_by_reason: by_reason(&folded.quarantine.orders),
            field_problems: sources.orders.problems.len() as u64,
        },
        conversations: manifest.partitions.values().map(|p| p.rows).sum(),
        partitions: manifest
            .partitions
            .iter()
            .map(|(date, p)| PartitionEntry {
                date: date.clone(),
                rows: p.rows,
            })
            .collect(),
        incremental: Some(IncrementalReport {
            state: settings.state.display().to_string(),
            generation: manifest.generation,
            state_token: manifest.token.clone(),
            reprocessed: plan.reprocess,
            files_new: plan.new_files.iter().map(|n| n.file.name.clone()).collect(),
            files_already_folded: plan.already_folded.len() as u64,
            files_missing: plan.missing.clone(),
            changes: c.clone(),
            partitions_kept: (manifest.partitions.len() - written.len()) as u64,
            partitions_rewritten: written,
            partitions_removed: removed,
            late: late.clone(),
            waiting,
            totals: manifest.totals,
            messages_in_table: manifest.messages_published(),
            warnings,
        }),
        reconciled: c.messages_read
            == c.messages_published + c.messages_quarantined + c.messages_waiting,
        timings,
    }
}
