//! `ccc run`: resolves the arguments into the pipeline's settings, runs it (the whole job,
//! or with `--stage` the write step alone) and renders the outcome.

use ccc_cli::exit::{CliError, ExitStatus};
use ccc_cli::monitoring::CommandMetrics;
use ccc_cli::pipeline::{self, ChecksMode, IncrementalSettings, Outcome, Settings};
use ccc_cli::progress::Progress;
use ccc_cli::quality::reports::{human_table, pair_reports, verdict_line};
use ccc_cli::quality::suites::SuiteChoice;
use ccc_cli::report::ChecksReport;
use ccc_transform::publish::Formats;

use crate::args::{OutputFormat, RunArgs};
use crate::render::{error, say};

/// Settings from the arguments, checked before any work starts. Suites are loaded and
/// checked first: a typo fails in milliseconds.
fn settings(args: RunArgs) -> Result<Settings, CliError> {
    let formats = Formats {
        parquet: args.format.contains(&OutputFormat::Parquet),
        csv: args.format.contains(&OutputFormat::Csv),
    };
    if !formats.parquet && !formats.csv {
        return Err(CliError::Usage(
            "--format needs parquet, csv or both".into(),
        ));
    }
    let reports = pair_reports(&args.report, &args.report_file)?;
    let expectations = args.expectations.as_deref();
    let suites = match args.checks {
        ChecksMode::Off => None,
        _ => Some(pipeline::settings::Suites {
            source: SuiteChoice::Source.load(expectations)?,
            output: SuiteChoice::Output.load(expectations)?,
        }),
    };
    let incremental = match (args.incremental, args.state) {
        (true, Some(state)) => Some(IncrementalSettings {
            state,
            reprocess: args.reprocess,
            rehash: args.rehash,
            max_lateness: args.max_lateness,
        }),
        _ => None,
    };
    Ok(Settings {
        source: args.source,
        out: args.out,
        formats,
        checks: args.checks,
        suites,
        reports,
        read: ccc_ingest::ReadOptions {
            chunk_bytes: args.chunk_bytes.max(1),
            max_record_bytes: args.max_record_bytes,
            ..Default::default()
        },
        incremental,
        stage: args.stage,
        memory_limit: args
            .memory_limit
            .map_or_else(ccc_cli::memory::default_limit, |bytes| bytes as u64),
        history: args.history.store(),
        run_time: args.history.run_time,
    })
}

/// Runs the job and renders how it ended.
pub fn run(args: RunArgs, metrics: &mut CommandMetrics) -> Result<ExitStatus, CliError> {
    let quiet = args.quiet;
    let settings = settings(args)?;
    let progress = Progress::new(quiet);
    match pipeline::run(&settings, &progress)? {
        Outcome::Published { report, out, note } => {
            record(metrics, &report);
            metrics.published();
            warnings(&report);
            if !quiet {
                print_checks(&report.checks);
                say(&report.to_table().to_string());
                match note {
                    Some(note) => say(&format!("published {} ({note})", out.display())),
                    None => say(&format!("published {}", out.display())),
                }
            }
            Ok(ExitStatus::Success)
        }
        Outcome::Staged { report, stage } => {
            record(metrics, &report);
            warnings(&report);
            if !quiet {
                print_checks(&report.checks);
                say(&report.to_table().to_string());
                say(&format!(
                    "staged {} (nothing published; next: ccc validate --suite output --data {0}, then ccc publish --staged {0} --out {})",
                    stage.display(),
                    settings.out.display()
                ));
            }
            Ok(ExitStatus::Success)
        }
        Outcome::Stopped { checks, message } => {
            for result in checks.results() {
                metrics.rows_checked(result);
                metrics.suite(result);
            }
            if quiet {
                for result in checks.results() {
                    error(&verdict_line(result));
                }
            } else {
                print_checks(&checks);
            }
            error(&format!("error: {message}"));
            Ok(ExitStatus::ChecksFailed)
        }
        Outcome::NothingNew { found, stage } => {
            for warning in &found.warnings {
                error(&format!("warning: {warning}"));
            }
            if !quiet {
                say(&found.message);
                if let Some(stage) = stage {
                    say(&format!("staged {} as it is", stage.display()));
                }
            }
            Ok(ExitStatus::Success)
        }
    }
}

fn record(metrics: &mut CommandMetrics, report: &ccc_cli::report::RunReport) {
    metrics.run_report(report);
    for result in report.checks.results() {
        metrics.suite(result);
    }
}

fn warnings(report: &ccc_cli::report::RunReport) {
    if let Some(incremental) = &report.table.incremental {
        for warning in &incremental.warnings {
            error(&format!("warning: {warning}"));
        }
    }
}

fn print_checks(checks: &ChecksReport) {
    for result in checks.results() {
        say(&human_table(result));
    }
}
