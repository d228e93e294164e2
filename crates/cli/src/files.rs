//! Small files ccc writes beside its work (reports, metrics): checked before the work
//! starts, then written whole — a temporary file beside the target, renamed over it.

use std::path::{Path, PathBuf};

use crate::exit::CliError;

/// Checks, before any work, that a file (a report, metrics) can be written at `path`: its folder exists
/// (it is not created: a typo in a path should not make folders), `path` is not a
/// folder, and a file can be made beside it (a probe, removed at once; permission
/// bits alone do not tell root or a read-only mount).
pub fn check_writable(path: &Path) -> Result<(), CliError> {
    let fail = |message: &str| CliError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(message.to_string()),
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(fail("its folder does not exist (ccc does not create it)"));
    }
    if path.is_dir() {
        return Err(fail("it is a folder"));
    }
    let probe = temp_beside(path);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|source| CliError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// A temporary name beside `path`, for writing it whole and renaming it into place.
fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.ccc-{}", std::process::id()))
}

/// Writes `text` to `path` whole: a temporary file beside it, renamed over it, so a
/// reader never sees half of it.
pub fn write_whole(path: &Path, text: &str) -> Result<(), CliError> {
    let temp = temp_beside(path);
    let written = std::fs::write(&temp, text).and_then(|()| std::fs::rename(&temp, path));
    written.map_err(|source| {
        let _ = std::fs::remove_file(&temp);
        CliError::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}
