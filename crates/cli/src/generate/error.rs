//! Errors of generating sources: each names the file or folder it is about and keeps the
//! underlying error as its source.

use std::path::{Path, PathBuf};

use ccc_transform::publish::ParquetWriteError;

/// Why [`super::generate`] could not generate the sources.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The options describe nothing that can be generated (nothing was written).
    #[error("invalid options: {message}")]
    InvalidOptions {
        /// Which option and why.
        message: String,
    },
    /// A file or folder could not be created, written or listed.
    #[error("cannot write {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A Parquet file could not be written.
    #[error(transparent)]
    Parquet(#[from] ParquetWriteError),
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> GenerateError + '_ {
    move |source| GenerateError::Io {
        path: path.to_path_buf(),
        source,
    }
}
