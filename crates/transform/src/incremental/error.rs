//! Errors of incremental runs. In every case nothing is published and the state is as
//! it was.

use std::path::PathBuf;

/// Why an incremental run cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum IncrementalError {
    /// The state folder could not be read or written.
    #[error("cannot use the state folder at {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A state file is not what ccc wrote (what ccc's own checks found).
    #[error("the state file {path} is damaged: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A state file that cannot be read, or is not the JSON ccc wrote.
    #[error("the state file {path} is damaged")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The read or parse error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A source file already folded in has different content now.
    #[error(
        "{name} was folded in by run {generation} ({old_size} bytes, xxh3 {old_hash}) and has \
         changed since ({new_size} bytes, xxh3 {new_hash})"
    )]
    ChangedFile {
        /// The file name.
        name: String,
        /// The run that folded it.
        generation: u64,
        /// Size then.
        old_size: u64,
        /// Hash then.
        old_hash: String,
        /// Size now.
        new_size: u64,
        /// Hash now.
        new_hash: String,
    },
    /// The published output names a state generation that the state folder does not hold.
    #[error("{out} was published from state generation {token}, which is not in {state}")]
    StateMismatch {
        /// The output folder.
        out: PathBuf,
        /// The state folder.
        state: PathBuf,
        /// The token the output names.
        token: String,
    },
    /// The state folder holds a committed state, but the output names none: the output is
    /// missing, was replaced by a full run, or `--out` points at another folder.
    #[error(
        "{state} holds the state of an output published by an incremental run, but {out} \
         has no incremental run report (it is missing, a full `ccc run` replaced it, or \
         --out names another folder); refusing to start over without --reprocess"
    )]
    StateOfAnotherOutput {
        /// The output folder.
        out: PathBuf,
        /// The state folder.
        state: PathBuf,
    },
    /// Another run holds the state folder.
    #[error("another ccc run (process {pid}) is using the state folder {state}")]
    Locked {
        /// The state folder.
        state: PathBuf,
        /// The process holding it.
        pid: i32,
    },
    /// The output formats differ from those the state's partitions were published in.
    #[error("the state was published as {was}, this run asks for {now}")]
    FormatsChanged {
        /// Formats of the state.
        was: String,
        /// Formats asked for.
        now: String,
    },
}

impl IncrementalError {
    /// True for errors the user resolves with a choice (`--reprocess`, another flag),
    /// rather than by repairing files: exit code 2 instead of 3.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            IncrementalError::ChangedFile { .. }
                | IncrementalError::StateMismatch { .. }
                | IncrementalError::StateOfAnotherOutput { .. }
                | IncrementalError::Locked { .. }
                | IncrementalError::FormatsChanged { .. }
        )
    }
}

pub(crate) fn io_err(
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> IncrementalError + '_ {
    move |source| IncrementalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A state file that could not be read or parsed (the cause is kept as the source).
pub(crate) fn unreadable<E>(path: &std::path::Path) -> impl FnOnce(E) -> IncrementalError + '_
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |source| IncrementalError::Unreadable {
        path: path.to_path_buf(),
        source: Box::new(source),
    }
}
