//! Spill files: the messages of the slot ranges that are not in memory, written as they
//! are read and folded range by range afterwards. One file per range in one folder
//! beside the output; the folder goes when the build is dropped (success or failure),
//! on SIGINT/SIGTERM through the publish cleanup, and after a kill with the next run's
//! staging (see [`crate::publish::spill_folder`]).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::key::{MessageKey, Role};

/// One spilled message: its slot within its range, the generation of the stage
/// dictionary its stage code is in, and its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spilled {
    pub slot: u32,
    pub generation: u32,
    pub key: MessageKey,
}

const RECORD_BYTES: usize = 29;

impl Spilled {
    fn encode(&self, out: &mut Vec<u8>) {
        let k = &self.key;
        let flags = u8::from(k.from_id().is_some())
            | u8::from(k.not_started) << 1
            | u8::from(k.role == Role::Customer) << 2;
        out.extend_from_slice(&self.slot.to_le_bytes());
        out.extend_from_slice(&self.generation.to_le_bytes());
        out.extend_from_slice(&k.time.to_le_bytes());
        out.extend_from_slice(&k.from_id().unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&k.stage.to_le_bytes());
        out.push(flags);
    }

    fn decode(bytes: &[u8; RECORD_BYTES]) -> Spilled {
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4"));
        let i64_at = |at: usize| i64::from_le_bytes(bytes[at..at + 8].try_into().expect("8"));
        let flags = bytes[28];
        Spilled {
            slot: u32_at(0),
            generation: u32_at(4),
            key: MessageKey::new(
                i64_at(8),
                flags & 2 != 0,
                if flags & 4 != 0 {
                    Role::Customer
                } else {
                    Role::Courier
                },
                (flags & 1 != 0).then(|| i64_at(16)),
                u32_at(24),
            ),
        }
    }
}

/// Why spilling failed: the file, and the system's reason (a full disk says so).
#[derive(Debug, thiserror::Error)]
#[error("cannot {doing} the spill file {path}")]
pub struct SpillError {
    doing: &'static str,
    /// The file or folder.
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: std::io::Error,
}

fn spill_err<'p>(
    doing: &'static str,
    path: &'p Path,
) -> impl FnOnce(std::io::Error) -> SpillError + 'p {
    move |source| SpillError {
        doing,
        path: path.to_path_buf(),
        source,
    }
}

struct RangeFile {
    path: PathBuf,
    writer: BufWriter<File>,
    records: u64,
}

/// The spill files of one build: range `r` (1-based; range 0 stays in memory) is file
/// `r - 1`.
pub(crate) struct SpillFiles {
    folder: PathBuf,
    files: Vec<Mutex<RangeFile>>,
}

impl SpillFiles {
    /// Creates `folder` with one empty file per spilled range.
    pub fn create(folder: &Path, spilled_ranges: usize) -> Result<SpillFiles, SpillError> {
        std::fs::create_dir_all(folder).map_err(spill_err("create", folder))?;
        crate::publish::cleanup::register(folder);
        let mut spill = SpillFiles {
            folder: folder.to_path_buf(),
            files: Vec::with_capacity(spilled_ranges),
        };
        for r in 1..=spilled_ranges {
            let path = folder.join(format!("range-{r:03}.bin"));
            let file = File::create(&path).map_err(spill_err("create", &path))?;
            spill.files.push(Mutex::new(RangeFile {
                path,
                writer: BufWriter::with_capacity(1 << 16, file),
                records: 0,
            }));
        }
        Ok(spill)
    }

    /// Appends messages to range `range`'s file.
    pub fn append(&self, range: usize, records: &[Spilled]) -> Result<(), SpillError> {
        let mut bytes = Vec::with_capacity(records.len() * RECORD_BYTES);
        records.iter().for_each(|r| r.encode(&mut bytes));
        let mut file = self.files[range - 1]
            .lock()
            .expect("no thread panics holding the lock");
        let file = &mut *file;
        file.writer
            .write_all(&bytes)
            .map_err(spill_err("write", &file.path))?;
        file.records += records.len() as u64;
        Ok(())
    }

    /// Messages and bytes written so far.
    pub fn totals(&self) -> (u64, u64) {
        let records: u64 = self
            .files
            .iter()
            .map(|f| f.lock().expect("no thread panics holding the lock").records)
            .sum();
        (records, records * RECORD_BYTES as u64)
    }

    /// Every message of range `range`, in the order written; the file is removed after.
    pub fn read_back(&self, range: usize, mut each: impl FnMut(Spilled)) -> Result<(), SpillError> {
        let mut file = self.files[range - 1]
            .lock()
            .expect("no thread panics holding the lock");
        let file = &mut *file;
        file.writer
            .flush()
            .map_err(spill_err("write", &file.path))?;
        let mut reader = BufReader::with_capacity(
            1 << 16,
            File::open(&file.path).map_err(spill_err("read", &file.path))?,
        );
        let mut record = [0u8; RECORD_BYTES];
        for _ in 0..file.records {
            reader
                .read_exact(&mut record)
                .map_err(spill_err("read", &file.path))?;
            each(Spilled::decode(&record));
        }
        drop(reader);
        std::fs::remove_file(&file.path).map_err(spill_err("remove", &file.path))?;
        Ok(())
    }
}

impl Drop for SpillFiles {
    fn drop(&mut self) {
        self.files.clear();
        let _ = std::fs::remove_dir_all(&self.folder);
        crate::publish::cleanup::unregister(&self.folder);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_as_written_and_the_folder_goes_with_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("spill");
        let records = [
            Spilled {
                slot: 7,
                generation: 2,
                key: MessageKey::new(-5, false, Role::Customer, Some(i64::MIN), 3),
            },
            Spilled {
                slot: u32::MAX,
                generation: 0,
                key: MessageKey::NONE,
            },
        ];
        let spill = SpillFiles::create(&folder, 2).unwrap();
        spill.append(2, &records).unwrap();
        spill.append(2, &records[..1]).unwrap();
        assert_eq!(spill.totals(), (3, 3 * RECORD_BYTES as u64));
        let mut back = Vec::new();
        spill.read_back(2, |r| back.push(r)).unwrap();
        assert_eq!(back, [records[0], records[1], records[0]]);
        let mut none = Vec::new();
        spill.read_back(1, |r| none.push(r)).unwrap();
        assert!(none.is_empty());
        drop(spill);
        assert!(!folder.exists());
    }
}
