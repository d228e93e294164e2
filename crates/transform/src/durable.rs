//! File-system steps shared by publishing and the incremental state: writes that reach
//! the disk before a rename makes them visible, links for files a run leaves as they
//! were, and the removal of what a run replaced.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

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

/// Removes a folder tree a run replaced (the previous output, an old state generation).
/// Its files are unlinked in parallel: removing hundreds of part files one after another
/// kept a run waiting after its result was already published.
pub(crate) fn remove_tree(dir: &Path) -> std::io::Result<()> {
    fn files(dir: &Path, into: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                files(&entry.path(), into)?;
            } else {
                into.push(entry.path());
            }
        }
        Ok(())
    }
    let mut found = Vec::new();
    match files(dir, &mut found) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        other => other?,
    }
    found
        .par_iter()
        .try_for_each(|file| match fs::remove_file(file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        })?;
    // What is left are folders (and anything that appeared meanwhile).
    fs::remove_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_tree_removes_nested_files_and_folders_and_accepts_a_missing_one() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("old");
        for part in ["a/x=1", "a/x=2", "b"] {
            fs::create_dir_all(tree.join(part)).unwrap();
            for k in 0..3 {
                fs::write(tree.join(part).join(format!("part-{k}.parquet")), b"x").unwrap();
            }
        }
        fs::create_dir_all(tree.join("empty")).unwrap();
        let keep = dir.path().join("keep.txt");
        fs::write(&keep, b"stays").unwrap();

        remove_tree(&tree).unwrap();
        assert!(!tree.exists());
        assert_eq!(fs::read(&keep).unwrap(), b"stays");
        // Removing what is already gone is not an error: a crash may have removed part.
        remove_tree(&tree).unwrap();
    }
}
