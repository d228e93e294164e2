//! File-system steps shared by publishing and the incremental state: writes that reach
//! the disk before a rename makes them visible, links for files a run leaves as they
//! were, and the removal of what a run replaced.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex};
use std::thread::JoinHandle;

use rayon::prelude::*;

/// Writes a file and flushes it to disk before returning.
pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// When a written file is flushed to disk.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Durability<'a> {
    /// Before the write returns.
    Synced,
    /// By a [`Syncer`], whose [`Syncer::finish`] the caller waits for before any rename
    /// makes the file visible.
    SyncedBy(&'a Syncer),
}

impl Durability<'_> {
    /// Flushes `file` (written to `path`) now, or hands it to the syncer.
    pub(crate) fn sync(self, path: &Path, file: File) -> std::io::Result<()> {
        match self {
            Durability::Synced => file.sync_all(),
            Durability::SyncedBy(syncer) => {
                syncer.sync(path, file);
                Ok(())
            }
        }
    }
}

/// Flushes written files to disk on a thread of its own, one after another, while the
/// threads that encode go on: a run that writes hundreds of part files no longer leaves
/// a core idle in every `fsync`. The first failure is kept and returned by
/// [`Syncer::finish`].
#[derive(Debug)]
pub(crate) struct Syncer {
    files: Option<mpsc::Sender<(PathBuf, File)>>,
    thread: Option<JoinHandle<Result<(), (PathBuf, std::io::Error)>>>,
    /// A failure of a file synced where it was handed over (no thread to take it).
    failed_here: Mutex<Option<(PathBuf, std::io::Error)>>,
}

impl Syncer {
    /// Starts the syncing thread; if it cannot start, every file is synced as it is
    /// handed over.
    pub(crate) fn start() -> Syncer {
        let (files, received) = mpsc::channel::<(PathBuf, File)>();
        let thread = std::thread::Builder::new()
            .name("ccc-sync".into())
            .spawn(move || {
                let mut first_failure = None;
                for (path, file) in received {
                    if let Err(e) = file.sync_all() {
                        first_failure.get_or_insert((path, e));
                    }
                }
                first_failure.map_or(Ok(()), Err)
            })
            .ok();
        Syncer {
            files: thread.is_some().then_some(files),
            thread,
            failed_here: Mutex::new(None),
        }
    }

    fn sync(&self, path: &Path, file: File) {
        let unsent = match &self.files {
            Some(files) => files.send((path.to_path_buf(), file)).err().map(|e| e.0 .1),
            None => Some(file),
        };
        // No thread to take it (it never started, or it ended early): sync it here.
        if let Some(file) = unsent {
            if let Err(e) = file.sync_all() {
                let mut failed = self.failed_here.lock().unwrap_or_else(|e| e.into_inner());
                failed.get_or_insert((path.to_path_buf(), e));
            }
        }
    }

    /// Waits until every file handed over is on disk; the first that could not be synced,
    /// with its path, is the error.
    pub(crate) fn finish(mut self) -> Result<(), (PathBuf, std::io::Error)> {
        self.files = None;
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap_or_else(|_| {
                Err((
                    PathBuf::new(),
                    std::io::Error::other("the syncing thread panicked"),
                ))
            })?;
        }
        let failed = self
            .failed_here
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        failed.map_or(Ok(()), Err)
    }
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

    #[test]
    fn a_syncer_takes_files_from_many_threads_and_finishes_when_all_are_synced() {
        use rayon::prelude::*;
        let dir = tempfile::tempdir().unwrap();
        let syncer = Syncer::start();
        let durability = Durability::SyncedBy(&syncer);
        (0..64).into_par_iter().for_each(|k| {
            let path = dir.path().join(format!("f{k}"));
            let mut file = File::create(&path).unwrap();
            file.write_all(format!("file {k}").as_bytes()).unwrap();
            durability.sync(&path, file).unwrap();
        });
        syncer.finish().unwrap();
        for k in 0..64 {
            let text = fs::read_to_string(dir.path().join(format!("f{k}"))).unwrap();
            assert_eq!(text, format!("file {k}"));
        }
        // A syncer given nothing finishes at once.
        Syncer::start().finish().unwrap();
    }
}
