//! The staging folder and the swap. Staging lives beside the output
//! (`.<name>.ccc-staging-<pid>`) so the final rename never crosses file systems.

use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{quarantine_csv, writers, Formats, OUTPUT_ENTRIES, STAGE_ENTRIES};
use crate::durable::{
    link_or_copy, link_tree, remove_tree, sync_dir, write_synced, Durability, Syncer,
};
use crate::error::{io_err, PublishError};
use crate::layout::Part;
use crate::quarantine::Quarantine;
use crate::schema::TABLE_NAME;
use crate::table::Partition;
use ccc_ingest::{Sources, Table};

/// A new output being written. Dropping it without [`Staging::commit`] removes it.
/// While it lives it holds the output's lock (`.<name>.ccc-lock`, an advisory `flock`
/// the kernel releases when the process ends, however it ends), so two runs into one
/// output never interleave.
#[derive(Debug)]
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    committed: bool,
    /// The entries the folder may hold (an output's, or a staged run's).
    entries: &'static [&'static str],
    _lock: fs::File,
}

fn sibling(out: &Path, tag: &str) -> PathBuf {
    let name = out
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    out.with_file_name(format!(".{name}.ccc-{tag}"))
}

/// The folder a build may spill into while it makes `out`: beside the output, like the
/// staging folder, named for this process. A killed run's is removed by the next run's
/// [`Staging::create`]; a live run's never is.
pub fn spill_folder(out: &Path) -> PathBuf {
    sibling(out, &format!("spill-{}", std::process::id()))
}

/// One format of the table's files.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Parquet,
    Csv,
}

impl Kind {
    /// The formats `formats` asks for.
    fn chosen(formats: Formats) -> impl Iterator<Item = Kind> {
        [(formats.parquet, Kind::Parquet), (formats.csv, Kind::Csv)]
            .into_iter()
            .filter_map(|(on, kind)| on.then_some(kind))
    }

    /// `parquet/<table>/conversation_date=D/part-HH.parquet`, relative to the output.
    fn part_path(self, part: Part) -> PathBuf {
        let (folder, extension) = match self {
            Kind::Parquet => ("parquet", "parquet"),
            Kind::Csv => ("csv", "csv"),
        };
        Path::new(folder)
            .join(TABLE_NAME)
            .join(format!("conversation_date={}", part.date()))
            .join(format!("{}.{extension}", part.file_stem()))
    }
}

/// True for a name like `spill_folder`'s whose process is still running.
fn is_live_spill(name: &str, stale_prefix: &str) -> bool {
    name.strip_prefix(stale_prefix)
        .and_then(|tag| tag.strip_prefix("spill-"))
        .and_then(|pid| pid.parse::<u32>().ok())
        .is_some_and(|pid| pid != std::process::id() && Path::new(&format!("/proc/{pid}")).exists())
}

impl Staging {
    /// Checks that `out` is ours to replace, removes staging folders left by killed
    /// runs, and creates a fresh staging folder.
    ///
    /// A symbolic link as `out` is followed: the output is published where it points,
    /// and the link stays.
    pub fn create(out: &Path) -> Result<Staging, PublishError> {
        Self::create_for(out, &OUTPUT_ENTRIES)
    }

    /// Like [`Staging::create`], for a staged run's folder (`ccc run --stage DIR`): it may
    /// also hold the stage's own entries (`_stage.json`, `_state/`), and it is replaced
    /// whole, so a retried write step never leaves half of two runs in it.
    pub fn create_stage(dir: &Path) -> Result<Staging, PublishError> {
        Self::create_for(dir, &STAGE_ENTRIES)
    }

    fn create_for(out: &Path, entries: &'static [&'static str]) -> Result<Staging, PublishError> {
        let mut out = if out.is_absolute() {
            out.to_path_buf()
        } else {
            std::env::current_dir().map_err(io_err(out))?.join(out)
        };
        if fs::symlink_metadata(&out).is_ok_and(|m| m.file_type().is_symlink()) {
            out = fs::canonicalize(&out).map_err(io_err(&out))?;
        }
        if out.exists() {
            check_replaceable(&out, entries)?;
        }
        let parent = out.parent().unwrap_or(Path::new("/")).to_path_buf();
        fs::create_dir_all(&parent).map_err(io_err(&parent))?;
        let lock = take_lock(&out)?;
        // Only now, holding the lock, are leftovers of killed runs surely not another
        // run's staging folder.
        let stale_prefix = sibling(&out, "");
        let stale_prefix = stale_prefix
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let lock_name = sibling(&out, "lock");
        for entry in fs::read_dir(&parent).map_err(io_err(&parent))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&stale_prefix)
                && entry.path() != lock_name
                && !is_live_spill(&name, &stale_prefix)
            {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        let dir = sibling(&out, &format!("staging-{}", std::process::id()));
        fs::create_dir(&dir).map_err(io_err(&dir))?;
        super::cleanup::register(&dir);
        Ok(Staging {
            out,
            dir,
            committed: false,
            entries,
            _lock: lock,
        })
    }

    /// The lock file ccc keeps beside every output (and stage) folder it has written:
    /// its presence tells a folder ccc published from one another program wrote.
    pub fn lock_file_of(out: &Path) -> PathBuf {
        sibling(out, "lock")
    }

    /// The output folder this staging replaces (a link given as `out` resolved).
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// Creates `dir`, a folder inside the staging folder, and the folders between,
    /// but never the staging folder itself: once an interrupt has removed it, a writer
    /// still running fails instead of bringing it back.
    fn create_below(&self, dir: &Path) -> Result<(), PublishError> {
        let relative = dir
            .strip_prefix(&self.dir)
            .expect("a folder inside staging");
        let mut path = self.dir.clone();
        for part in relative.components() {
            path.push(part);
            match fs::create_dir(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err(&path)(e)),
            }
        }
        Ok(())
    }

    /// The staging folder (for tests and messages).
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes the table's part files in the chosen formats, in parallel.
    pub fn write_table(
        &self,
        partitions: &[Partition],
        formats: Formats,
    ) -> Result<(), PublishError> {
        for (enabled, kind) in [(formats.parquet, "parquet"), (formats.csv, "csv")] {
            if enabled {
                let dir = self.dir.join(kind).join(TABLE_NAME);
                self.create_below(&dir)?;
            }
        }
        let jobs: Vec<(&Partition, Kind)> = partitions
            .iter()
            .flat_map(|p| Kind::chosen(formats).map(move |kind| (p, kind)))
            .collect();
        self.create_date_folders(jobs.iter().map(|(p, kind)| (p.part, *kind)))?;
        // Each part file is flushed to disk while the next ones are encoded; all of them
        // are on disk when this returns.
        let syncer = Syncer::start();
        let durability = Durability::SyncedBy(&syncer);
        jobs.par_iter()
            .enumerate()
            .try_for_each(|(i, (partition, kind))| {
                let path = self.dir.join(kind.part_path(partition.part));
                match kind {
                    Kind::Parquet => writers::write_parquet_part(&path, partition, durability)?,
                    Kind::Csv => writers::write_csv_part(&path, &partition.chunk, durability)?,
                }
                if i == 0 {
                    crate::fault::point("publish-mid-write");
                }
                Ok::<(), PublishError>(())
            })?;
        syncer
            .finish()
            .map_err(|(path, source)| PublishError::Io { path, source })
    }

    /// Creates the date folders these part files go to, each once (a date has up to 24).
    fn create_date_folders(
        &self,
        parts: impl Iterator<Item = (Part, Kind)>,
    ) -> Result<(), PublishError> {
        let folders: std::collections::BTreeSet<PathBuf> = parts
            .map(|(part, kind)| {
                let path = self.dir.join(kind.part_path(part));
                path.parent()
                    .expect("a part file is in a date folder")
                    .to_path_buf()
            })
            .collect();
        folders.iter().try_for_each(|dir| self.create_below(dir))
    }

    /// Links part files that an incremental run leaves unchanged from the published output
    /// `from` (hard links: no copy, and the files outlive the old output's removal).
    pub fn keep_parts(
        &self,
        from: &Path,
        parts: &[Part],
        formats: Formats,
    ) -> Result<(), PublishError> {
        let jobs: Vec<(Part, Kind)> = parts
            .iter()
            .flat_map(|&p| Kind::chosen(formats).map(move |kind| (p, kind)))
            .collect();
        self.create_date_folders(jobs.iter().copied())?;
        jobs.par_iter().try_for_each(|(part, kind)| {
            let relative = kind.part_path(*part);
            let target = self.dir.join(&relative);
            let source = from.join(&relative);
            link_or_copy(&source, &target).map_err(io_err(&source))
        })
    }

    /// Prepends the quarantine rows of the published output `from` to this run's, so an
    /// incremental output's quarantine holds every unusable row folded so far.
    pub fn carry_quarantine(&self, from: &Path) -> Result<(), PublishError> {
        for table in [Table::ChatMessages, Table::Orders] {
            let name = format!("{}.csv", table.name());
            let old = from.join("quarantine").join(&name);
            let Ok(previous) = fs::read(&old) else {
                continue;
            };
            let path = self.dir.join("quarantine").join(&name);
            let new = fs::read(&path).map_err(io_err(&path))?;
            // Both files start with the same header line; keep the old file's.
            let rows = match new.iter().position(|&b| b == b'\n') {
                Some(end) => &new[end + 1..],
                None => &[][..],
            };
            let mut merged = previous;
            merged.extend_from_slice(rows);
            write_synced(&path, &merged).map_err(io_err(&path))?;
        }
        Ok(())
    }

    /// Writes `quarantine/<table>.csv` for both source tables.
    pub fn write_quarantine(
        &self,
        quarantine: &Quarantine,
        sources: &Sources,
    ) -> Result<(), PublishError> {
        let dir = self.dir.join("quarantine");
        self.create_below(&dir)?;
        quarantine_csv::write_quarantine(&dir, quarantine, sources)
    }

    /// Writes `_run.json`.
    pub fn write_report(&self, report: &serde_json::Value) -> Result<(), PublishError> {
        self.write_json("_run.json", report)
    }

    /// Writes a JSON file `name` at the top of the folder, synced.
    pub fn write_json(&self, name: &str, value: &serde_json::Value) -> Result<(), PublishError> {
        let path = self.dir.join(name);
        let mut text = serde_json::to_string_pretty(value).expect("a JSON value serializes");
        text.push('\n');
        write_synced(&path, text.as_bytes()).map_err(io_err(&path))
    }

    /// Creates the folder `name` at the top of the staging folder and returns its path.
    pub fn subfolder(&self, name: &str) -> Result<PathBuf, PublishError> {
        let dir = self.dir.join(name);
        self.create_below(&dir)?;
        Ok(dir)
    }

    /// Takes a staged folder's output entries (`parquet/`, `csv/`, `quarantine/`,
    /// `_run.json`, `_audit.json`) into this one, every file hard-linked (copied across
    /// file systems): the staged folder stays whole until the swap, so a publish killed
    /// before it can simply be run again.
    pub fn take_staged(&self, staged: &Path) -> Result<(), PublishError> {
        for name in OUTPUT_ENTRIES {
            let from = staged.join(name);
            let Ok(meta) = fs::symlink_metadata(&from) else {
                continue;
            };
            let to = self.dir.join(name);
            if meta.is_dir() {
                link_tree(&from, &to).map_err(io_err(&from))?;
            } else if meta.is_file() {
                link_or_copy(&from, &to).map_err(io_err(&from))?;
            } else {
                return Err(io_err(&from)(std::io::Error::other(
                    "it is neither a file nor a folder",
                )));
            }
        }
        Ok(())
    }

    /// Replaces the output with the staging folder in one step and removes the old one.
    pub fn commit(mut self) -> Result<PathBuf, PublishError> {
        sync_dir(&self.dir);
        crate::fault::point("publish-before-swap");
        if self.out.exists() {
            check_replaceable(&self.out, self.entries)?;
            super::cleanup::commit_uninterrupted(&self.dir, || swap(&self.dir, &self.out))?;
            self.committed = true;
            // The staging path now holds the previous output.
            crate::fault::point("publish-after-swap");
            let _ = remove_tree(&self.dir);
        } else {
            super::cleanup::commit_uninterrupted(&self.dir, || {
                fs::rename(&self.dir, &self.out).map_err(io_err(&self.out))
            })?;
            self.committed = true;
        }
        if let Some(parent) = self.out.parent() {
            sync_dir(parent);
        }
        self.committed = true;
        Ok(self.out.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
            super::cleanup::unregister(&self.dir);
        }
    }
}

/// Removes a spent folder ccc wrote (a published stage) and its lock file beside it,
/// holding the lock meanwhile: a run writing into it at the same time is never cut short.
pub fn remove_folder(dir: &Path) -> Result<(), PublishError> {
    let lock = take_lock(dir)?;
    fs::remove_dir_all(dir).map_err(io_err(dir))?;
    let _ = fs::remove_file(sibling(dir, "lock"));
    drop(lock);
    Ok(())
}

/// Takes the output's lock file beside it, without waiting: a second run into the same
/// output fails at once, saying so, rather than waiting on a run that may take long.
fn take_lock(out: &Path) -> Result<fs::File, PublishError> {
    let path = sibling(out, "lock");
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path))?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(file),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Err(PublishError::Busy {
            out: out.to_path_buf(),
            lock: path,
        }),
        Err(e) => Err(io_err(&path)(e.into())),
    }
}

/// Refuses to replace a folder holding anything ccc does not write.
fn check_replaceable(out: &Path, entries: &[&str]) -> Result<(), PublishError> {
    if !out.is_dir() {
        return Err(PublishError::NotAnOutputFolder {
            path: out.to_path_buf(),
            entry: "(not a folder)".into(),
        });
    }
    let mut names: Vec<String> = fs::read_dir(out)
        .map_err(io_err(out))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    match names.into_iter().find(|n| !entries.contains(&n.as_str())) {
        Some(entry) => Err(PublishError::NotAnOutputFolder {
            path: out.to_path_buf(),
            entry,
        }),
        None => Ok(()),
    }
}

/// Exchanges two folders atomically where the OS can (Linux `renameat2`), otherwise
/// moves the old one aside and the new one in (two renames, a tiny window).
fn swap(new: &Path, out: &Path) -> Result<(), PublishError> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        match renameat_with(CWD, new, CWD, out, RenameFlags::EXCHANGE) {
            Ok(()) => return Ok(()),
            Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
            Err(e) => {
                return Err(PublishError::Io {
                    path: out.to_path_buf(),
                    source: e.into(),
                })
            }
        }
    }
    let aside = sibling(out, &format!("old-{}", std::process::id()));
    fs::rename(out, &aside).map_err(io_err(out))?;
    fs::rename(new, out).map_err(io_err(out))?;
    fs::rename(&aside, new).map_err(io_err(new))?;
    Ok(())
}
