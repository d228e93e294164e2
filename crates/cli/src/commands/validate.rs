//! `ccc validate`: one suite alone — the source suite on a source folder, the output
//! suite on a table folder (ours, a staged run, or a Spark job's), where it is the audit
//! step, or any suite on the tables it names (`--table NAME=PATH`). Prints the human report; writes machine reports.

use std::path::PathBuf;

use ccc_cli::exit::{CliError, ExitStatus};
use ccc_cli::monitoring::CommandMetrics;
use ccc_cli::pipeline::{self, ValidateRequest, ValidateTarget};
use ccc_cli::quality::failed_rows::FailedRows;
use ccc_cli::quality::reports::{
    human_table, pair_reports, verdict_line, write_reports, ReportFormat,
};
use ccc_cli::quality::suites::SuiteChoice;

use crate::args::ValidateArgs;
use crate::render::{error, say};

/// Which data, from the arguments.
fn target(choice: &SuiteChoice, args: &ValidateArgs) -> Result<ValidateTarget, CliError> {
    if !args.table.is_empty() {
        if args.source.is_some() || args.data.is_some() {
            return Err(CliError::Usage(
                "give --table, or --source or --data, not both".into(),
            ));
        }
        return Ok(ValidateTarget::Tables(args.table.clone()));
    }
    Ok(match (choice, &args.source, &args.data) {
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
        (SuiteChoice::Output, None, None) => ValidateTarget::Table(PathBuf::from("data/processed")),
        (_, None, Some(dir)) => ValidateTarget::Table(dir.clone()),
        (_, Some(dir), None) => ValidateTarget::Sources(dir.clone()),
        (_, None, None) => ValidateTarget::Sources(PathBuf::from("data/source")),
    })
}

/// Runs the suite and reports.
pub fn run(args: ValidateArgs, metrics: &mut CommandMetrics) -> Result<ExitStatus, CliError> {
    let choice = SuiteChoice::parse(&args.suite);
    let reports = pair_reports(&args.report, &args.report_file)?;
    let target = target(&choice, &args)?;
    let request = ValidateRequest {
        suite: choice.load(args.expectations.as_deref())?,
        target,
        max_record_bytes: args.max_record_bytes,
        failed_rows: args.failed_rows.clone().map(|dir| FailedRows {
            dir,
            csv: args.failed_rows_csv,
        }),
        history: args.history.store(),
        run_time: args.history.run_time,
        profile: ReportFormat::any_profiles(&reports),
    };
    let validated = pipeline::validate(&request)?;
    let result = &validated.result;
    metrics.rows_checked(result);
    metrics.suite(result);
    if args.quiet {
        say(&verdict_line(result));
    } else {
        say(&human_table(result));
    }
    write_reports(&reports, &[result])?;
    if let (Some(written), Some(dir)) = (validated.failed_rows_written, &args.failed_rows) {
        error(&format!(
            "{written} failed rows written to {}",
            dir.join("failed_rows.parquet").display()
        ));
    }
    if let Some(warning) = &validated.audit_warning {
        error(&format!("warning: the verdict was not recorded: {warning}"));
    }
    Ok(if result.success {
        ExitStatus::Success
    } else {
        ExitStatus::ChecksFailed
    })
}
