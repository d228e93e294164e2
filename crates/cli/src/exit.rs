//! Exit codes, the same for every command, and the errors that lead to them.

use miette::Diagnostic;

/// What the process tells its caller (an orchestrator acts on these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: all good (warnings allowed).
    Success = 0,
    /// 1: a check of severity error failed.
    ChecksFailed = 1,
    /// 2: bad usage, or a bad suite or configuration.
    Usage = 2,
    /// 3: input or output could not be read or written.
    Io = 3,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status as u8)
    }
}

/// Everything a command can fail with, rendered by miette in `main`.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum CliError {
    /// Sources could not be read.
    #[error("cannot read the sources")]
    #[diagnostic(
        code(ccc::input),
        help("fix or remove the file named above; nothing was published")
    )]
    Ingest(#[source] ccc_ingest::IngestError),
    /// The output could not be written; the previous output is untouched.
    #[error("cannot publish the output")]
    #[diagnostic(code(ccc::output), help("the previous output, if any, is untouched"))]
    Publish(#[source] ccc_transform::PublishError),
    /// An incremental run cannot use its state or the new files.
    #[error("the incremental run cannot go on")]
    #[diagnostic(
        code(ccc::incremental),
        help("nothing was published and the state is unchanged; `--reprocess` folds every file again from scratch (a full rebuild of state and output)")
    )]
    Incremental(#[source] ccc_transform::incremental::IncrementalError),
    /// Another run holds the state folder.
    #[error("the state folder is in use")]
    #[diagnostic(
        code(ccc::busy),
        help("nothing was done; run again when the other run has finished")
    )]
    Busy(#[source] ccc_transform::incremental::IncrementalError),
    /// The build ran out of its memory limit, or of disk for its spill files.
    #[error("the transform cannot finish")]
    #[diagnostic(
        code(ccc::resources),
        help("nothing was published; raise --memory-limit, or free disk beside the output for the spill files")
    )]
    Build(#[source] ccc_transform::BuildError),
    /// `ccc generate` could not generate the sources (or its options make no sense).
    #[error("cannot generate the sources")]
    #[diagnostic(code(ccc::generate))]
    Generate(#[source] crate::generate::GenerateError),
    /// Arguments that parse but make no sense together.
    #[error("{0}")]
    #[diagnostic(code(ccc::usage))]
    Usage(String),
    /// A suite that cannot be loaded or does not fit the data (located in the YAML).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Suite(Box<crate::quality::suites::SuiteDiagnostic>),
    /// A report file could not be written.
    #[error("cannot write {path}")]
    #[diagnostic(code(ccc::output))]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The run report beside a published output (`_run.json`) is unreadable or lacks a
    /// count the output suite reconciles.
    #[error("cannot use the run report {path}: {message}")]
    #[diagnostic(
        code(ccc::input),
        help("the output's _run.json is written by the run that published it; publish again, or check the output folder")
    )]
    RunReport {
        /// The `_run.json` file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The history store (`--history DIR`) holds something that is not a ccc history.
    #[error("history {path}: {message}")]
    #[diagnostic(
        code(ccc::input),
        help("the folder holds one run-*.parquet file per suite run, written by ccc; move other files out of it")
    )]
    History {
        /// The history folder.
        path: std::path::PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A folder or file ccc needs could not be read.
    #[error("cannot read {path}")]
    #[diagnostic(code(ccc::input))]
    Read {
        /// The folder or file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A record ccc writes beside an output (`_stage.json`, `_audit.json`) is unreadable.
    #[error("cannot use {path}: {message}")]
    #[diagnostic(
        code(ccc::input),
        help("ccc writes this file; run the step that writes it again")
    )]
    Record {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// `ccc publish` will not publish a staged folder: no audit, a stale or failed one,
    /// another output's stage.
    #[error("{message}")]
    #[diagnostic(
        code(ccc::publish),
        help("nothing was published; the output is unchanged")
    )]
    Refused {
        /// Why.
        message: String,
        /// 1 for a failed audit, 2 for everything else.
        status: ExitStatus,
    },
    /// Something that should not happen: data ccc built does not fit the checks.
    #[error("{0}")]
    #[diagnostic(
        code(ccc::internal),
        help("this is a bug in ccc; please report it with the command line")
    )]
    Internal(String),
}

impl CliError {
    /// The exit code of this error.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            CliError::Ingest(_) => ExitStatus::Io,
            CliError::Publish(
                ccc_transform::PublishError::NotAnOutputFolder { .. }
                | ccc_transform::PublishError::Busy { .. },
            ) => ExitStatus::Usage,
            CliError::Publish(_) | CliError::Build(_) => ExitStatus::Io,
            CliError::Busy(_) => ExitStatus::Usage,
            CliError::Incremental(e) if e.is_usage() => ExitStatus::Usage,
            CliError::Incremental(_) => ExitStatus::Io,
            CliError::Generate(crate::generate::GenerateError::InvalidOptions { .. }) => {
                ExitStatus::Usage
            }
            CliError::Generate(_) => ExitStatus::Io,
            CliError::Usage(_) | CliError::Suite(_) => ExitStatus::Usage,
            CliError::Refused { status, .. } => *status,
            CliError::Write { .. }
            | CliError::Read { .. }
            | CliError::Record { .. }
            | CliError::RunReport { .. }
            | CliError::History { .. }
            | CliError::Internal(_) => ExitStatus::Io,
        }
    }
}

impl From<ccc_ingest::IngestError> for CliError {
    fn from(e: ccc_ingest::IngestError) -> Self {
        CliError::Ingest(e)
    }
}

impl From<crate::generate::GenerateError> for CliError {
    fn from(e: crate::generate::GenerateError) -> Self {
        CliError::Generate(e)
    }
}

impl From<ccc_transform::PublishError> for CliError {
    fn from(e: ccc_transform::PublishError) -> Self {
        CliError::Publish(e)
    }
}

impl From<ccc_transform::incremental::IncrementalError> for CliError {
    fn from(e: ccc_transform::incremental::IncrementalError) -> Self {
        match e {
            ccc_transform::incremental::IncrementalError::Locked { .. } => CliError::Busy(e),
            e => CliError::Incremental(e),
        }
    }
}
