//! A staged run's folder (`ccc run --stage DIR`): the complete new output — table,
//! quarantine, `_run.json` — that nobody reads, and its record `_stage.json`, which says
//! which output it is to replace and, for incremental runs, which state generation it
//! builds on and where the new one is (`_state/gen-N`). `ccc publish` reads the record;
//! a folder without one (written by another engine) is published as a full run's.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::exit::CliError;

/// The record's file name in a staged folder.
pub const STAGE_RECORD: &str = "_stage.json";

/// The most text of a record (`_stage.json`, `_audit.json`) read.
const MAX_RECORD_BYTES: u64 = 1 << 20;

/// Reads a JSON record ccc writes into a staged folder; none when the file is not there.
/// Anything else that keeps it from being read as `what` is an error naming the file.
pub(crate) fn read_record<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &str,
) -> Result<Option<T>, CliError> {
    let bad = |message: String| CliError::Record {
        path: path.to_path_buf(),
        message,
    };
    let text = match ccc_ingest::open::read_regular_to_string(path, MAX_RECORD_BYTES) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(e.to_string())),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| bad(format!("not {what}: {e}")))
}

/// What a staged incremental run's record says about its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StagedState {
    /// The state folder the new generation joins.
    pub state: PathBuf,
    /// The state token the output named when this was staged (none: no output yet, or
    /// not an incremental one). Publishing refuses if the output names another by then.
    pub base_token: Option<String>,
    /// The new generation's folder inside the staged folder (`_state/gen-000007`); none
    /// when nothing was new (the output is staged as it was).
    pub generation: Option<String>,
}

/// `_stage.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageRecord {
    /// The ccc that staged it.
    pub ccc_version: String,
    /// The output it is to replace (absolute).
    pub out: PathBuf,
    /// The incremental run's state, if it was one.
    pub incremental: Option<StagedState>,
}

impl StageRecord {
    /// Reads the record of the staged folder `dir`; none for a folder without one.
    pub fn read(dir: &Path) -> Result<Option<StageRecord>, CliError> {
        read_record(&dir.join(STAGE_RECORD), "a stage record")
    }

    /// The record as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a stage record serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_written_and_a_folder_without_one_has_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(StageRecord::read(dir.path()).unwrap(), None);
        let record = StageRecord {
            ccc_version: "0.1.0".into(),
            out: "/data/out".into(),
            incremental: Some(StagedState {
                state: "/data/state".into(),
                base_token: Some("t1".into()),
                generation: Some("_state/gen-000002".into()),
            }),
        };
        std::fs::write(dir.path().join(STAGE_RECORD), record.to_json().to_string()).unwrap();
        assert_eq!(StageRecord::read(dir.path()).unwrap(), Some(record));
        std::fs::write(dir.path().join(STAGE_RECORD), "{").unwrap();
        let error = StageRecord::read(dir.path()).unwrap_err().to_string();
        assert!(error.contains("not a stage record"), "{error}");
    }
}
