//! The audit record (`_audit.json`): what `ccc validate --suite output --data DIR` found
//! in DIR — which suite (origin and hash), its verdict and counts — and the fingerprint
//! of DIR's files when it looked. `ccc publish` swaps a staged folder in only when its
//! audit passed and the folder still has that fingerprint: a file added, removed,
//! rewritten or touched since makes the audit stale.

use std::path::Path;

use ccc_dq::{Statistics, SuiteOrigin, SuiteResult};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::exit::CliError;

/// The record's file name.
pub const AUDIT_RECORD: &str = "_audit.json";

/// What a folder's files are, at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Files (every file below the folder but the audit record itself).
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// SHA-256 over each file's relative path, size and modification time, in path order.
    pub sha256: String,
}

impl Fingerprint {
    /// The fingerprint of `dir` now.
    pub fn of(dir: &Path) -> Result<Fingerprint, CliError> {
        let mut files = Vec::new();
        walk(dir, dir, &mut files).map_err(|source| CliError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        files.sort();
        let mut hash = Sha256::new();
        let mut bytes = 0;
        for (path, size, modified) in &files {
            hash.update(path.as_bytes());
            hash.update([0]);
            hash.update(size.to_le_bytes());
            hash.update(modified.to_le_bytes());
            bytes += size;
        }
        Ok(Fingerprint {
            files: files.len() as u64,
            bytes,
            sha256: hash.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        })
    }
}

/// Every file below `dir` as (path relative to `top`, size, modification time in ns).
fn walk(top: &Path, dir: &Path, out: &mut Vec<(String, u64, i128)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path)?;
        let relative = path
            .strip_prefix(top)
            .expect("below the top")
            .to_string_lossy()
            .into_owned();
        if meta.is_dir() {
            walk(top, &path, out)?;
        } else if relative != AUDIT_RECORD {
            let modified = meta
                .modified()?
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as i128);
            out.push((relative, meta.len(), modified));
        }
    }
    Ok(())
}

/// `_audit.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The ccc that audited.
    pub ccc_version: String,
    /// When, in RFC 3339 UTC.
    pub audited_at: String,
    /// The suite's name.
    pub suite: String,
    /// Its path or `built-in output.yaml`, and its hash.
    pub origin: Option<SuiteOrigin>,
    /// The verdict: no error-severity expectation failed.
    pub success: bool,
    /// The counts of the verdict.
    pub statistics: Statistics,
    /// The folder's files when it was audited.
    pub fingerprint: Fingerprint,
}

impl AuditRecord {
    /// The record of `result`, found on the folder whose files are `fingerprint`.
    pub fn new(result: &SuiteResult, fingerprint: Fingerprint) -> AuditRecord {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64);
        AuditRecord {
            ccc_version: env!("CARGO_PKG_VERSION").to_string(),
            audited_at: ccc_ingest::timestamp::format_rfc3339_micros(now),
            suite: result.suite.clone(),
            origin: result.origin.clone(),
            success: result.success,
            statistics: result.statistics.clone(),
            fingerprint,
        }
    }

    /// Writes the record into `dir` whole (a temporary file renamed into place).
    pub fn write(&self, dir: &Path) -> Result<(), CliError> {
        let path = dir.join(AUDIT_RECORD);
        let temp = dir.join(format!(".{AUDIT_RECORD}.ccc-{}", std::process::id()));
        let mut text = serde_json::to_string_pretty(self).expect("an audit record serializes");
        text.push('\n');
        std::fs::write(&temp, text)
            .and_then(|()| std::fs::rename(&temp, &path))
            .map_err(|source| {
                let _ = std::fs::remove_file(&temp);
                CliError::Write { path, source }
            })
    }

    /// The record in `dir`, if there is one.
    pub fn read(dir: &Path) -> Result<Option<AuditRecord>, CliError> {
        super::stage::read_record(&dir.join(AUDIT_RECORD), "an audit record")
    }
}

/// Why a staged folder may not be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditProblem {
    /// No `_audit.json`.
    Missing,
    /// The files changed since the audit.
    Stale,
    /// The audit's suite failed.
    Failed {
        /// Failed error-severity expectations.
        failed_errors: usize,
    },
}

/// Checks the audit of the staged folder `dir`: there, of the files as they are, passed.
pub fn check(dir: &Path) -> Result<Result<AuditRecord, AuditProblem>, CliError> {
    let Some(record) = AuditRecord::read(dir)? else {
        return Ok(Err(AuditProblem::Missing));
    };
    if Fingerprint::of(dir)? != record.fingerprint {
        return Ok(Err(AuditProblem::Stale));
    }
    if !record.success {
        return Ok(Err(AuditProblem::Failed {
            failed_errors: record.statistics.failed_errors,
        }));
    }
    Ok(Ok(record))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audited(dir: &Path, success: bool) {
        let result = SuiteResult::new(
            "output",
            vec![crate::pipeline::testing::result(
                "id", "t", "c", "e", success,
            )],
        );
        AuditRecord::new(&result, Fingerprint::of(dir).unwrap())
            .write(dir)
            .unwrap();
    }

    #[test]
    fn an_audit_holds_until_a_file_is_added_changed_or_removed() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        std::fs::create_dir_all(dir.join("parquet/t")).unwrap();
        std::fs::write(dir.join("parquet/t/part-0.parquet"), b"1234").unwrap();
        assert_eq!(check(dir).unwrap(), Err(AuditProblem::Missing));
        audited(dir, true);
        let record = check(dir).unwrap().expect("a passed, fresh audit");
        assert_eq!((record.fingerprint.files, record.fingerprint.bytes), (1, 4));

        std::fs::write(dir.join("_run.json"), b"{}").unwrap();
        assert_eq!(check(dir).unwrap(), Err(AuditProblem::Stale));
        audited(dir, true);
        std::fs::write(dir.join("parquet/t/part-0.parquet"), b"12345").unwrap();
        assert_eq!(check(dir).unwrap(), Err(AuditProblem::Stale));
        audited(dir, true);
        std::fs::remove_file(dir.join("_run.json")).unwrap();
        assert_eq!(check(dir).unwrap(), Err(AuditProblem::Stale));

        audited(dir, false);
        assert_eq!(
            check(dir).unwrap(),
            Err(AuditProblem::Failed { failed_errors: 1 })
        );
    }
}
