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

/// The most `_run.json` text read: a report is a few kilobytes.
const RUN_REPORT_LIMIT: u64 = 64 << 20;

/// Run counts found next to a published output (`_run.json`), for reconciliations. A
/// report that is there but unreadable, or lacks a count, is an input error naming it;
/// a table folder without one (another engine's) has no counts to reconcile.
fn published_metrics(dir: &Path) -> Result<BTreeMap<String, i64>, CliError> {
    let path = dir.join("_run.json");
    let bad = |message: String| CliError::RunReport {
        path: path.clone(),
        message,
    };
    let text = match ccc_ingest::open::read_regular_to_string(&path, RUN_REPORT_LIMIT) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(bad(e.to_string())),
    };
    let report: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let incremental = report["incremental"].is_object();
    // An incremental run's own counts cover its new files; the table holds every run's.
    let sources: [(&str, &str); 6] = if incremental {
        [
            ("messages_read", "/incremental/totals/messages_read"),
            ("messages_aggregated", "/incremental/messages_in_table"),
            (
                "messages_quarantined",
                "/incremental/totals/messages_quarantined",
            ),
            ("messages_orphaned", "/incremental/totals/messages_waiting"),
            ("orders_read", "/incremental/totals/orders_read"),
            ("conversations", "/conversations"),
        ]
    } else {
        [
            ("messages_read", "/messages/read"),
            ("messages_aggregated", "/messages/aggregated"),
            ("messages_quarantined", "/messages/quarantined"),
            ("messages_orphaned", "/messages/orphaned"),
            ("orders_read", "/orders/read"),
            ("conversations", "/conversations"),
        ]
    };
    sources
        .into_iter()
        .map(|(name, pointer)| {
            let value = report.pointer(pointer).and_then(serde_json::Value::as_i64);
            match value {
                Some(v) if v >= 0 => Ok((name.to_string(), v)),
                _ => Err(bad(format!(
                    "`{}` is missing or not a count",
                    pointer.trim_start_matches('/').replace('/', ".")
                ))),
            }
        })
        .collect()
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
                max_record_bytes: args.max_record_bytes,
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
            let mut metrics = published_metrics(dir)?;
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
