//! File-system steps shared by publishing and the incremental state: writes that reach
//! the disk before a rename makes them visible, and links for files a run leaves as they
//! were.

use std::fs;
use std::io::Write;
use std::path::Path;

/// Writes a file and flushes it to disk before returning.
pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Flushes a folder's entries (new names, renames) to disk; best effort.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(f) = fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Hard-links `from` as `to`, copying where the file system cannot link.
pub(crate) fn link_or_copy(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::hard_link(from, to).or_else(|_| fs::copy(from, to).map(|_| ()))
}

/// Recreates the folder tree `from` as `to`, every file hard-linked (or copied where the
/// file system cannot link). Only folders and regular files are taken; anything else
/// (a link, a FIFO) is an error, as a published output holds nothing else.
pub(crate) fn link_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            link_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            link_or_copy(&entry.path(), &target)?;
        } else {
            return Err(std::io::Error::other(format!(
                "{} is neither a file nor a folder",
                entry.path().display()
            )));
        }
    }
    Ok(())
}
