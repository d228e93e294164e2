//! The files of a table given as a path: the file itself, or every data file under a
//! folder (side files such as Spark's `_SUCCESS` and `.crc` skipped), in path order, each
//! with the Hive partition values (`key=value` folders) between the folder and the file.

use std::path::{Path, PathBuf};

use crate::discover::Format;
use crate::error::IngestError;

/// One data file of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFile {
    /// Full path.
    pub path: PathBuf,
    /// The path below the table's folder (the file name, for a table given as a file), as
    /// shown in reports.
    pub name: String,
    /// Its format, from its extension.
    pub format: Format,
    /// The Hive partition values of its folders, outermost first: `(key, value)`, the
    /// value `None` for Hive's null partition (`__HIVE_DEFAULT_PARTITION__`).
    pub partitions: Vec<(String, Option<String>)>,
}

/// The value Hive and Spark write for a null partition value.
const HIVE_NULL: &str = "__HIVE_DEFAULT_PARTITION__";

/// Lists the data files of the table at `path`. Every file below a folder must be a data
/// file (`.csv`, `.json`, `.ndjson`/`.jsonl`, `.parquet`) or a side file whose name starts
/// with `_` or `.`: anything else is an error rather than silently left out, and so is a
/// folder without data files, or files under different partition keys.
pub fn table_files(table: &str, path: &Path) -> Result<Vec<TableFile>, IngestError> {
    let metadata = std::fs::metadata(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut found = Vec::new();
    if metadata.is_dir() {
        walk(path, path, &mut found)?;
    } else {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        found.push((path.to_path_buf(), name));
    }
    found.sort();
    if found.is_empty() {
        return Err(IngestError::NoTableFiles {
            table: table.to_string(),
            path: path.to_path_buf(),
        });
    }
    let files = found
        .into_iter()
        .map(|(file, name)| {
            let format = Format::from_file_name(&name)
                .ok_or_else(|| IngestError::UnknownFile { path: file.clone() })?;
            let partitions = partition_values(&name);
            Ok(TableFile {
                path: file,
                name,
                format,
                partitions,
            })
        })
        .collect::<Result<Vec<_>, IngestError>>()?;
    let keys = |f: &TableFile| {
        f.partitions
            .iter()
            .map(|(k, _)| k.clone())
            .collect::<Vec<_>>()
    };
    let shown = |keys: Vec<String>| {
        if keys.is_empty() {
            "nothing".to_string()
        } else {
            keys.join("/")
        }
    };
    if let Some(odd) = files.iter().find(|f| keys(f) != keys(&files[0])) {
        return Err(IngestError::MixedPartitions {
            first: files[0].path.clone(),
            first_keys: shown(keys(&files[0])),
            other: odd.path.clone(),
            other_keys: shown(keys(odd)),
        });
    }
    Ok(files)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) -> Result<(), IngestError> {
    let io = |source| IngestError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, out)?;
        } else {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            out.push((path.clone(), relative.to_string_lossy().into_owned()));
        }
    }
    Ok(())
}

/// The `key=value` folders of a file's path below its table's folder, values unescaped
/// the way Hive escapes them (`%2F` is `/`).
fn partition_values(relative: &str) -> Vec<(String, Option<String>)> {
    let mut segments: Vec<&str> = relative.split('/').collect();
    segments.pop();
    segments
        .into_iter()
        .filter_map(|segment| segment.split_once('='))
        .filter(|(key, _)| !key.is_empty())
        .map(|(key, value)| {
            let value = (value != HIVE_NULL).then(|| unescape(value));
            (unescape(key), value)
        })
        .collect()
}

/// Undoes Hive's path escaping: `%XX` is the byte `XX`; anything else stays as it is.
fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_folders_become_values() {
        assert_eq!(
            partition_values("day=2024-01-02/city=BCN%2FX/part-0.parquet"),
            vec![
                ("day".to_string(), Some("2024-01-02".to_string())),
                ("city".to_string(), Some("BCN/X".to_string())),
            ]
        );
        assert_eq!(
            partition_values("day=__HIVE_DEFAULT_PARTITION__/a.csv"),
            vec![("day".to_string(), None)]
        );
        assert_eq!(partition_values("2024/01/a.csv"), vec![]);
        assert_eq!(
            partition_values("a=b.csv"),
            vec![],
            "a file name is not a folder"
        );
        assert_eq!(unescape("100%"), "100%");
    }

    #[test]
    fn a_folder_lists_data_files_skips_side_files_and_refuses_others() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("day=2024-01-01");
        std::fs::create_dir(&part).unwrap();
        std::fs::write(part.join("b.csv"), "x\n1\n").unwrap();
        std::fs::write(part.join("a.ndjson"), "{}\n").unwrap();
        std::fs::write(part.join(".a.ndjson.crc"), "").unwrap();
        std::fs::write(dir.path().join("_SUCCESS"), "").unwrap();
        let files = table_files("t", dir.path()).unwrap();
        let names: Vec<_> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["day=2024-01-01/a.ndjson", "day=2024-01-01/b.csv"]);
        assert_eq!(files[1].format, Format::Csv);

        std::fs::write(part.join("notes.txt"), "").unwrap();
        let err = table_files("t", dir.path()).unwrap_err();
        assert!(matches!(err, IngestError::UnknownFile { .. }), "{err}");
        std::fs::remove_file(part.join("notes.txt")).unwrap();

        std::fs::write(dir.path().join("c.csv"), "x\n").unwrap();
        let err = table_files("t", dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("c.csv is partitioned by nothing but")
                && err.ends_with("a.ndjson by day: a table's files share their partition keys"),
            "{err}"
        );
    }

    #[test]
    fn an_empty_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = table_files("sales", dir.path()).unwrap_err().to_string();
        assert!(err.starts_with("no data files of table sales"), "{err}");
    }
}
