//! What a run is asked to do, resolved from the command line before any data is read:
//! paths, formats, how the checks act, the suites (loaded and checked), the report files
//! (checked writable), and where the new output goes — published over `out`, or staged.

use std::path::PathBuf;

use ccc_transform::publish::Formats;

use crate::quality::history::HistoryStore;
use crate::quality::reports::ReportFormat;
use crate::quality::suites::LoadedSuite;

/// How data-quality suites act on a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ChecksMode {
    /// A failed check of severity error stops the run before anything is published.
    Enforce,
    /// Report failures and go on, quarantining unusable rows.
    Warn,
    /// Do not run the suites.
    Off,
}

impl ChecksMode {
    /// As written on the command line and in the run report.
    pub fn name(self) -> &'static str {
        match self {
            ChecksMode::Enforce => "enforce",
            ChecksMode::Warn => "warn",
            ChecksMode::Off => "off",
        }
    }
}

/// The source and the output suite of a run.
#[derive(Debug, Clone)]
pub struct Suites {
    /// Run on the sources after ingest.
    pub source: LoadedSuite,
    /// Run on the table before it is staged.
    pub output: LoadedSuite,
}

/// Settings of `--incremental` runs.
#[derive(Debug, Clone)]
pub struct IncrementalSettings {
    /// The state folder.
    pub state: PathBuf,
    /// Fold every file again from scratch.
    pub reprocess: bool,
    /// Hash every file, not only new and touched ones.
    pub rehash: bool,
    /// Warn about messages more than this behind the watermark.
    pub max_lateness: Option<std::time::Duration>,
}

/// Everything a run needs to know before it starts.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The source folder.
    pub source: PathBuf,
    /// The output this run replaces (published over, or, when staged, named by the stage).
    pub out: PathBuf,
    /// Formats of the table.
    pub formats: Formats,
    /// How the suites act.
    pub checks: ChecksMode,
    /// The suites; none with `--checks off`.
    pub suites: Option<Suites>,
    /// Suite report files to write (before anything is published).
    pub reports: Vec<(ReportFormat, PathBuf)>,
    /// Reader settings.
    pub read: ccc_ingest::ReadOptions,
    /// `--incremental` settings.
    pub incremental: Option<IncrementalSettings>,
    /// `--stage DIR`: build the output there and publish nothing.
    pub stage: Option<PathBuf>,
    /// Bytes a full run's transform may hold before it spills.
    pub memory_limit: u64,
    /// The history the suites are compared with and appended to (`--history`).
    pub history: Option<HistoryStore>,
    /// The run's time, µs since the epoch (`--run-time`; default now).
    pub run_time: Option<i64>,
}

impl Settings {
    /// The output formats by name, as the state's manifest records them.
    pub fn format_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        if self.formats.parquet {
            names.push("parquet".to_string());
        }
        if self.formats.csv {
            names.push("csv".to_string());
        }
        names
    }
}
