//! `ccc validate`: one suite alone, for orchestrator tasks and CI — the source suite on a
//! source folder, or the output suite on a published output (ours, or a Spark job's
//! Hive-partitioned Parquet or CSV). Prints the human report; writes machine reports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ccc_dq::{validate_prechecked, Dataset, Options};

use crate::args::ValidateArgs;
use crate::exit::{CliError, ExitStatus};
use crate::quality::ahead::ChecksAhead;
use crate::quality::datasets::{presence_only_columns, published_dataset, source_datasets};
use crate::quality::reports::{human_table, pair_reports, verdict_line, write_reports};
use crate::quality::suites::{load_suite, SuiteChoice};

/// What data a validation reads, resolved before any work.
enum Target {
    Sources(PathBuf),
    Published(PathBuf),
}

/// Run counts found next to a published output (`_run.json`), for reconciliations.
fn published_metrics(dir: &Path) -> BTreeMap<String, i64> {
    let Ok(text) = std::fs::read_to_string(dir.join("_run.json")) else {
        return BTreeMap::new();
    };
    let Ok(report) = serde_json::from_str::<serde_json::Value>(&text) else {
        return BTreeMap::new();
    };
    let mut metrics = BTreeMap::new();
    let mut put = |name: &str, value: Option<i64>| {
        if let Some(v) = value {
            metrics.insert(name.to_string(), v);
        }
    };
    let incremental = &report["incremental"];
    if incremental.is_object() {
        // An incremental run's own counts cover its new files; the table holds every run's.
        let t = &incremental["totals"];
        put("messages_read", t["messages_read"].as_i64());
        put(
            "messages_aggregated",
            incremental["messages_in_table"].as_i64(),
        );
        put("messages_quarantined", t["messages_quarantined"].as_i64());
        put("messages_orphaned", t["messages_waiting"].as_i64());
        put("orders_read", t["orders_read"].as_i64());
    } else {
        let m = &report["messages"];
        put("messages_read", m["read"].as_i64());
        put("messages_aggregated", m["aggregated"].as_i64());
        put("messages_quarantined", m["quarantined"].as_i64());
        put("messages_orphaned", m["orphaned"].as_i64());
        put("orders_read", report["orders"]["read"].as_i64());
    }
    put("conversations", report["conversations"].as_i64());
    metrics
}

/// Runs the suite and reports.
pub fn run(args: ValidateArgs) -> Result<ExitStatus, CliError> {
    let choice = SuiteChoice::parse(&args.suite);
    let reports = pair_reports(&args.report, &args.report_file)?;
    let target = match (&choice, &args.source, &args.data) {
        (_, Some(_), Some(_)) => {
            return Err(CliError::Usage("give --source or --data, not both".into()))
        }
        (SuiteChoice::Output, Some(_), None) => {
            return Err(CliError::Usage(
                "the output suite checks a published output: use --data DIR".into(),
            ))
        }
        (SuiteChoice::Source, None, Some(_)) => {
            return Err(CliError::Usage(
                "the source suite checks sources: use --source DIR".into(),
            ))
        }
        (SuiteChoice::Output, None, None) => Target::Published(PathBuf::from("data/processed")),
        (_, None, Some(dir)) => Target::Published(dir.clone()),
        (_, Some(dir), None) => Target::Sources(dir.clone()),
        (_, None, None) => Target::Sources(PathBuf::from("data/source")),
    };
    let suite = load_suite(&choice.path(&args.expectations))?;
    let mut prechecked = BTreeMap::new();
    let (datasets, metrics): (Vec<Dataset>, BTreeMap<String, i64>) = match &target {
        Target::Sources(dir) => {
            let files = ccc_ingest::discover(dir)?;
            // Only what the suite looks at: presence-only columns stay unread where the
            // files' statistics already answer for them, row checks run on each batch as
            // it is read, and what only they needed is dropped right after. JSON chunks
            // prove their presence-only columns complete value by value instead.
            let options = ccc_ingest::ReadOptions {
                presence_only: presence_only_columns(Some(&suite), &[]),
                text_presence_only: true,
                ..Default::default()
            };
            let ahead = ChecksAhead::new(&suite, true)?;
            let sources = ccc_ingest::read_sources_with(
                files,
                &options,
                &|_| {},
                &|t, b, p| ahead.on_batch(t, b, p),
                &|data, files| ahead.on_table_read(data, files),
            )?;
            prechecked = ahead.into_prechecked(&sources)?;
            (source_datasets(&sources)?, BTreeMap::new())
        }
        Target::Published(dir) => {
            let dataset = published_dataset(dir)?;
            let mut metrics = published_metrics(dir);
            if !metrics.is_empty() {
                metrics.insert(
                    "messages_in_table".into(),
                    crate::quality::datasets::messages_in_table(&dataset),
                );
            }
            (vec![dataset], metrics)
        }
    };
    let refs: Vec<&Dataset> = datasets.iter().collect();
    let result = validate_prechecked(&suite, &refs, &metrics, &Options::default(), &prechecked)
        .map_err(|e| CliError::Suite(Box::new(crate::quality::suites::SuiteDiagnostic::new(e))))?;
    if args.quiet {
        println!("{}", verdict_line(&result));
    } else {
        println!("{}", human_table(&result));
    }
    write_reports(&reports, &[&result])?;
    Ok(if result.success {
        ExitStatus::Success
    } else {
        ExitStatus::ChecksFailed
    })
}
