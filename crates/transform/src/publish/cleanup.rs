//! What an interrupted run must remove: the staging folder, and an incremental run's
//! lock on its state. Each is registered while it exists; the binary's
//! signal handler calls [`remove_registered`] on SIGINT or SIGTERM before it exits, so
//! an interrupted run leaves nothing behind (a SIGKILL's leftovers are removed by the
//! next run instead).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

static REGISTERED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn registered() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic while the lock was held cannot leave the list inconsistent.
    REGISTERED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Registers a folder or file to remove if the run is interrupted.
pub fn register(path: &Path) {
    registered().push(path.to_path_buf());
}

/// Forgets a folder (it was committed or removed).
pub fn unregister(path: &Path) {
    registered().retain(|p| p != path);
}

/// Runs `step` (the swap that makes `path` the output) with interruption held off, and
/// forgets `path` if it succeeds: the signal handler waits for it, so it never removes
/// a folder half-way through becoming the output.
pub fn commit_uninterrupted<T, E>(
    path: &Path,
    step: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    let mut paths = registered();
    let done = step()?;
    paths.retain(|p| p != path);
    Ok(done)
}

/// Removes every registered folder, and returns the list held locked so that no
/// commit starts after it; the caller then exits.
pub fn remove_registered() -> MutexGuard<'static, Vec<PathBuf>> {
    let mut paths = registered();
    for path in paths.drain(..) {
        if path.is_dir() {
            remove_folder_in_use(&path);
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
    paths
}

/// Removes a folder that other threads may still be writing into. It is renamed first,
/// so their next file or folder under the old name fails rather than landing in it;
/// the removal is tried again if an entry created in the meantime got in its way.
fn remove_folder_in_use(path: &Path) {
    let mut doomed = path.as_os_str().to_owned();
    doomed.push(".removing");
    let doomed = PathBuf::from(doomed);
    let target = match std::fs::rename(path, &doomed) {
        Ok(()) => doomed.as_path(),
        Err(_) => path,
    };
    for _ in 0..10 {
        if std::fs::remove_dir_all(target).is_ok() || !target.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
