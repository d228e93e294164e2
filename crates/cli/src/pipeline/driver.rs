//! The driver: one run through the stages, in order, for either strategy —
//!
//! 1. plan: which source files to read (the strategy; incremental runs may find none new),
//! 2. read them (ingest), the source suite's row checks running as batches come in,
//! 3. source suite (dq), which can stop the run (`--checks enforce`),
//! 4. transform (the strategy: build from scratch, or fold into the state),
//! 5. output suite (dq), which can stop the run,
//! 6. stage: table, quarantine (linked to the source suite's failures), state, the run
//!    report and the suites' report files, all in a staging folder,
//! 7. publish: the staging folder swapped in over the output (then the state committed),
//!    or, with a stage folder, swapped in there, publishing nothing.

use std::path::PathBuf;
use std::time::Instant;

use ccc_transform::publish::Staging;

use super::checks::{run_suite, Checks, Side};
use super::full::Full;
use super::incremental::Incremental;
use super::quarantine::link_expectations;
use super::settings::Settings;
use super::stage::{StageRecord, STAGE_RECORD};
use super::strategy::{NothingNew, Planned, Strategy};
use crate::exit::CliError;
use crate::progress::Progress;
use crate::quality::datasets::source_datasets;
use crate::quality::history::{load_history, HistoryStore};
use crate::quality::reports::{write_reports, ReportFormat};
use crate::report::{ChecksReport, FileEntry, MemoryReport, RunReport, Timings};

/// How a run ended (other than by an error).
#[derive(Debug)]
pub enum Outcome {
    /// The new output is published.
    Published {
        /// The run report (also `OUT/_run.json`).
        report: Box<RunReport>,
        /// The output folder.
        out: PathBuf,
        /// What else was committed (the state generation), in words.
        note: Option<String>,
    },
    /// The new output is complete in the stage folder; nothing was published.
    Staged {
        /// The run report (also `STAGE/_run.json`).
        report: Box<RunReport>,
        /// The stage folder.
        stage: PathBuf,
    },
    /// A suite failed under `--checks enforce`, or the fold found a conflict: nothing
    /// was published or staged (exit 1).
    Stopped {
        /// The verdicts so far.
        checks: Box<ChecksReport>,
        /// Why, in a sentence.
        message: String,
    },
    /// An incremental run found nothing new.
    NothingNew {
        /// What it found.
        found: NothingNew,
        /// The stage folder, when one was asked for (it then holds the output as it is).
        stage: Option<PathBuf>,
    },
}

/// Runs the job with these settings.
pub fn run(settings: &Settings, progress: &Progress) -> Result<Outcome, CliError> {
    if let Some(stage) = &settings.stage {
        let (stage, out) = (
            super::publishing::resolved(stage),
            super::publishing::resolved(&settings.out),
        );
        if stage.starts_with(&out) || out.starts_with(&stage) {
            return Err(CliError::Usage(format!(
                "--stage {} and --out {} must not be inside one another",
                stage.display(),
                out.display()
            )));
        }
    }
    let run_time = settings.run_time.unwrap_or_else(ccc_dq::time::now_micros);
    let options = ccc_dq::Options {
        history: load_history(settings.history.as_ref())?,
        run_time: Some(run_time),
        profile: ReportFormat::any_profiles(&settings.reports),
        ..Default::default()
    };
    let outcome = match &settings.incremental {
        // The state first: a second run on a busy state is refused before it looks at
        // the output's staging.
        Some(incremental) => drive(
            settings,
            Incremental::open(settings, incremental)?,
            progress,
            &options,
        ),
        None => drive(settings, Full::new(settings), progress, &options),
    }?;
    if let Some(store) = &settings.history {
        record_history(store, settings, &outcome, run_time)?;
    }
    Ok(outcome)
}

/// Appends the suites that ran to the history, failed ones too: a run that stopped is
/// part of what later runs are compared with.
fn record_history(
    store: &HistoryStore,
    settings: &Settings,
    outcome: &Outcome,
    run_time: i64,
) -> Result<(), CliError> {
    let (Some(suites), Some(checks)) = (&settings.suites, outcome.checks()) else {
        return Ok(());
    };
    for (loaded, result) in [
        (&suites.source, &checks.source),
        (&suites.output, &checks.output),
    ] {
        if let Some(result) = result {
            store.append(&loaded.suite, result, run_time)?;
        }
    }
    Ok(())
}

impl Outcome {
    /// The suites' verdicts, when they ran.
    pub fn checks(&self) -> Option<&ChecksReport> {
        match self {
            Outcome::Published { report, .. } | Outcome::Staged { report, .. } => {
                Some(&report.checks)
            }
            Outcome::Stopped { checks, .. } => Some(checks),
            Outcome::NothingNew { .. } => None,
        }
    }
}

fn drive(
    settings: &Settings,
    mut strategy: impl Strategy,
    progress: &Progress,
    options: &ccc_dq::Options,
) -> Result<Outcome, CliError> {
    let started = Instant::now();
    let mut timings = Timings::default();

    let clock = Instant::now();
    // Fail on an unwritable or foreign output (or stage) folder before the data.
    let staging = match &settings.stage {
        Some(stage) => Staging::create_stage(stage)?,
        None => Staging::create(&settings.out)?,
    };
    let files = match strategy.plan(progress)? {
        Planned::Read(files) => files,
        Planned::NothingNew(found) => {
            progress.finish();
            return nothing_new(settings, &mut strategy, staging, found);
        }
    };
    timings.discover_ms = clock.elapsed().as_millis() as u64;

    let clock = Instant::now();
    let (sources, prechecked) = strategy.read(files, progress)?;
    timings.read_ms = clock.elapsed().as_millis() as u64;

    let clock = Instant::now();
    let mut checks = Checks::new(settings.checks);
    if let Some(suites) = &settings.suites {
        progress.stage("checking sources");
        let suite = strategy.source_suite(&suites.source.suite, &sources);
        let datasets = source_datasets(&sources)?;
        let result = run_suite(
            &suites.source,
            &suite,
            &datasets,
            &Default::default(),
            &prechecked,
            options,
        )?;
        if checks.record(Side::Source, result) {
            return stopped(settings, checks, Side::Source, progress);
        }
    }
    timings.source_checks_ms = clock.elapsed().as_millis() as u64;

    let clock = Instant::now();
    progress.stage("building conversations");
    if let Some(message) = strategy.transform(&sources)? {
        progress.finish();
        return Ok(Outcome::Stopped {
            checks: Box::new(checks.report),
            message,
        });
    }
    timings.transform_ms = clock.elapsed().as_millis() as u64;

    let clock = Instant::now();
    if let Some(suites) = &settings.suites {
        progress.stage("checking output");
        let check = strategy.output_check()?;
        let metrics = check.metrics.to_map(check.messages_in_table);
        let result = run_suite(
            &suites.output,
            &suites.output.suite,
            &[check.dataset],
            &metrics,
            &Default::default(),
            options,
        )?;
        if checks.record(Side::Output, result) {
            return stopped(settings, checks, Side::Output, progress);
        }
    }
    if let Some(source) = &checks.report.source {
        let quarantine = strategy.quarantine();
        link_expectations(
            &mut quarantine.messages,
            source,
            ccc_ingest::Table::ChatMessages.name(),
        );
        link_expectations(
            &mut quarantine.orders,
            source,
            ccc_ingest::Table::Orders.name(),
        );
    }
    timings.output_checks_ms = clock.elapsed().as_millis() as u64;

    let clock = Instant::now();
    progress.stage("publishing");
    let state_into = match settings.stage {
        Some(_) if settings.incremental.is_some() => Some(staging.subfolder("_state")?),
        _ => None,
    };
    strategy.write(&staging, &sources, state_into.as_deref())?;
    if settings.stage.is_some() {
        let record = StageRecord {
            ccc_version: env!("CARGO_PKG_VERSION").to_string(),
            out: staging_target(settings),
            incremental: strategy.staged_state(Some(staging.path())),
        };
        staging.write_json(STAGE_RECORD, &record.to_json())?;
    }
    timings.publish_ms = clock.elapsed().as_millis() as u64;
    timings.total_ms = started.elapsed().as_millis() as u64;
    let report = RunReport {
        ccc_version: env!("CARGO_PKG_VERSION"),
        source: settings.source.display().to_string(),
        out: settings.out.display().to_string(),
        threads: rayon::current_num_threads(),
        checks: checks.report,
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
        table: strategy.report(&sources),
        timings,
        memory: MemoryReport::now(settings.memory_limit, strategy.spill()),
    };
    let json = serde_json::to_value(&report).expect("the report serializes");
    staging.write_report(&json)?;
    // The suites' reports are written before the swap: a report that cannot be written
    // fails the run with nothing published, never a published run that exits 3.
    write_reports(&settings.reports, &report.checks.results())?;
    let folder = staging.commit()?;
    progress.finish();
    if settings.stage.is_some() {
        return Ok(Outcome::Staged {
            report: Box::new(report),
            stage: folder,
        });
    }
    let note = strategy.after_publish()?;
    Ok(Outcome::Published {
        report: Box::new(report),
        out: folder,
        note,
    })
}

/// The output a stage is for, as `ccc publish` will resolve `--out`.
fn staging_target(settings: &Settings) -> PathBuf {
    super::publishing::resolved(&settings.out)
}

/// A suite failed under `--checks enforce`: nothing is published (or staged), the
/// previous output stays; the report files say which suite stopped the run, and why.
fn stopped(
    settings: &Settings,
    checks: Checks,
    side: Side,
    progress: &Progress,
) -> Result<Outcome, CliError> {
    progress.finish();
    write_reports(&settings.reports, &checks.report.results())?;
    let unchanged = match &settings.stage {
        Some(stage) => format!("nothing was staged in {}", stage.display()),
        None => format!(
            "nothing was published, {} is unchanged",
            settings.out.display()
        ),
    };
    Ok(Outcome::Stopped {
        checks: Box::new(checks.report),
        message: format!(
            "the {} suite failed with --checks enforce: {unchanged}",
            side.name()
        ),
    })
}

/// Nothing new: the output stays as it is. A staged run stages it as it is (its files
/// linked), so that the audit and publish steps after it have a folder to work on.
fn nothing_new(
    settings: &Settings,
    strategy: &mut impl Strategy,
    staging: Staging,
    found: NothingNew,
) -> Result<Outcome, CliError> {
    let Some(_) = &settings.stage else {
        return Ok(Outcome::NothingNew { found, stage: None });
    };
    staging.take_staged(&settings.out)?;
    let record = StageRecord {
        ccc_version: env!("CARGO_PKG_VERSION").to_string(),
        out: staging_target(settings),
        incremental: strategy.staged_state(None),
    };
    staging.write_json(STAGE_RECORD, &record.to_json())?;
    let stage = staging.commit()?;
    Ok(Outcome::NothingNew {
        found,
        stage: Some(stage),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::pipeline::settings::{ChecksMode, IncrementalSettings, Suites};
    use crate::quality::suites::LoadedSuite;

    /// Two orders, three messages, one of them without an order id.
    fn sources(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("customer_courier_chat_messages.ndjson"),
            concat!(
                r#"{"senderAppType":"Customer iOS","customerId":1,"fromId":1,"toId":2,"chatStartedByMessage":true,"orderId":10,"orderStage":"ACCEPTED","courierId":2,"messageSentTime":"2024-02-01T10:00:00Z"}"#,
                "\n",
                r#"{"senderAppType":"Courier Android","customerId":1,"fromId":2,"toId":1,"chatStartedByMessage":false,"orderId":10,"orderStage":"PICKED_UP","courierId":2,"messageSentTime":"2024-02-01T10:00:30Z"}"#,
                "\n",
                r#"{"senderAppType":"Courier iOS","customerId":3,"fromId":4,"toId":3,"chatStartedByMessage":true,"orderId":null,"orderStage":"ON_ROUTE","courierId":4,"messageSentTime":"2024-02-02T09:00:00Z"}"#,
                "\n",
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("orders.ndjson"),
            "{\"orderId\":10,\"cityCode\":\"BCN\"}\n{\"orderId\":11,\"cityCode\":\"MAD\"}\n",
        )
        .unwrap();
    }

    fn settings(root: &Path, checks: ChecksMode) -> Settings {
        Settings {
            source: root.join("src"),
            out: root.join("out"),
            formats: Default::default(),
            checks,
            suites: Some(Suites {
                source: LoadedSuite::built_in("source.yaml").unwrap(),
                output: LoadedSuite::built_in("output.yaml").unwrap(),
            }),
            reports: Vec::new(),
            read: Default::default(),
            incremental: None,
            stage: None,
            memory_limit: 1 << 30,
            history: None,
            run_time: None,
        }
    }

    #[test]
    fn a_full_run_publishes_the_table_and_links_quarantined_rows_to_the_failed_checks() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        sources(&root.join("src"));
        // The null orderId fails the source suite: enforce stops before anything exists.
        let enforce = settings(root, ChecksMode::Enforce);
        match run(&enforce, &Progress::new(true)).unwrap() {
            Outcome::Stopped { checks, message } => {
                assert!(message.contains("the source suite failed"), "{message}");
                assert!(checks.source.is_some_and(|r| !r.success) && checks.output.is_none());
            }
            other => panic!("{other:?}"),
        }
        assert!(!root.join("out").exists());

        let warn = settings(root, ChecksMode::Warn);
        let Outcome::Published { report, out, note } = run(&warn, &Progress::new(true)).unwrap()
        else {
            panic!("a warn run publishes");
        };
        assert_eq!(out, std::fs::canonicalize(root.join("out")).unwrap());
        assert_eq!(note, None);
        let t = &report.table;
        assert_eq!(
            (
                t.messages.read,
                t.messages.aggregated,
                t.messages.quarantined
            ),
            (3, 2, 1)
        );
        assert_eq!(t.conversations, 1);
        assert!(t.reconciled);
        assert_eq!(
            t.messages.quarantined_by_reason.keys().collect::<Vec<_>>(),
            ["orderId is null [expectations: messages-orderId-not-null]"]
        );
        let origin = report
            .checks
            .output
            .as_ref()
            .and_then(|r| r.origin.as_ref());
        assert_eq!(
            origin.map(|o| o.source.as_str()),
            Some("built-in output.yaml")
        );
    }

    #[test]
    fn a_staged_run_builds_the_output_in_its_folder_and_publishes_nothing() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        sources(&root.join("src"));
        let mut staged = settings(root, ChecksMode::Off);
        staged.stage = Some(root.join("stage"));
        let Outcome::Staged { report, stage } = run(&staged, &Progress::new(true)).unwrap() else {
            panic!("a staged run stages");
        };
        assert_eq!(report.table.conversations, 1);
        assert!(!root.join("out").exists());
        let record = StageRecord::read(&stage).unwrap().expect("a stage record");
        assert_eq!(record.out, root.join("out"));
        assert_eq!(record.incremental, None);
        for entry in ["parquet", "csv", "quarantine", "_run.json"] {
            assert!(stage.join(entry).exists(), "{entry}");
        }

        staged.stage = Some(root.join("out/inside"));
        assert!(matches!(
            run(&staged, &Progress::new(true)),
            Err(CliError::Usage(_))
        ));
    }

    #[test]
    fn an_incremental_run_with_nothing_new_leaves_the_output_as_it_is() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        sources(&root.join("src"));
        let mut incremental = settings(root, ChecksMode::Off);
        incremental.incremental = Some(IncrementalSettings {
            state: root.join("state"),
            reprocess: false,
            rehash: false,
            max_lateness: None,
        });
        let Outcome::Published { note, .. } = run(&incremental, &Progress::new(true)).unwrap()
        else {
            panic!("the first incremental run publishes");
        };
        assert!(note.is_some_and(|n| n.starts_with("state generation 1")));
        match run(&incremental, &Progress::new(true)).unwrap() {
            Outcome::NothingNew { found, stage } => {
                assert!(
                    found.message.starts_with("nothing new: all 2 source files"),
                    "{}",
                    found.message
                );
                assert_eq!(stage, None);
            }
            other => panic!("{other:?}"),
        }
    }
}
