//! Errors of publishing the output.

use std::path::PathBuf;

/// Why the output could not be published. The previous output is untouched in every case.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// A file or folder could not be created, written, renamed or removed.
    #[error("cannot write {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A Parquet file of the table could not be written.
    #[error(transparent)]
    Parquet(#[from] crate::publish::ParquetWriteError),
    /// A source file could not be read again for the quarantine (columns the run did
    /// not need are read only for the rows it quarantines).
    #[error(transparent)]
    Source(#[from] ccc_ingest::IngestError),
    /// Another run is writing the same output (it holds the output's lock file).
    #[error("another ccc run is writing {out} (it holds {lock}); nothing was done")]
    Busy {
        /// The output folder.
        out: PathBuf,
        /// The lock file beside it.
        lock: PathBuf,
    },
    /// The output folder holds something that is not a ccc output; replacing it could
    /// destroy the user's files.
    #[error(
        "{path} exists and is not a ccc output folder (it holds {entry:?}); refusing to replace it"
    )]
    NotAnOutputFolder {
        /// The output folder.
        path: PathBuf,
        /// The first entry that ccc did not write.
        entry: String,
    },
}

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> PublishError + '_ {
    move |source| PublishError::Io {
        path: path.to_path_buf(),
        source,
    }
}
