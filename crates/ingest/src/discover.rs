//! Finding source files: `customer_courier_chat_messages*` and `orders*` with a known
//! extension, in one folder (not recursive), in a stable order so that file indexes and
//! reports do not depend on the directory listing. Symbolic links are followed; an
//! entry with a source's name that is neither a file nor a link to one is an error.

use std::path::{Path, PathBuf};

use crate::error::IngestError;
use crate::schema::Table;

/// A file format ccc reads, known from the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `.json`: a JSON array of records, pretty-printed or not (a file whose first
    /// character is `{` is read as concatenated objects instead).
    Json,
    /// `.ndjson` / `.jsonl`: one JSON object per line.
    Ndjson,
    /// `.csv`: comma-separated with a header row.
    Csv,
    /// `.parquet`.
    Parquet,
}

impl Format {
    /// The format of a file name, from its extension.
    pub fn from_file_name(name: &str) -> Option<Format> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "json" => Some(Format::Json),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            "csv" => Some(Format::Csv),
            "parquet" => Some(Format::Parquet),
            _ => None,
        }
    }

    /// Parses a user-facing format name (`json`, `ndjson`, `csv`, `parquet`).
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "json" => Some(Format::Json),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            "csv" => Some(Format::Csv),
            "parquet" => Some(Format::Parquet),
            _ => None,
        }
    }

    /// The extension written by the generator.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }
}

/// One source file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceFile {
    /// Full path.
    pub path: PathBuf,
    /// The file name alone, as shown in reports and the quarantine.
    pub name: String,
    /// The table it belongs to.
    pub table: Table,
    /// Its format.
    pub format: Format,
    /// Size in bytes when discovered.
    pub size: u64,
}

/// Lists the source files of both tables in `dir`, sorted by table then name.
///
/// Errors when the folder is missing or when a table has no file at all: a run without
/// messages or without orders is a misconfiguration, not an empty result.
pub fn discover(dir: &Path) -> Result<Vec<SourceFile>, IngestError> {
    let files = discover_any(dir)?;
    for table in Table::ALL {
        if !files.iter().any(|f| f.table == table) {
            return Err(IngestError::NoFiles {
                table: table.name(),
                path: dir.to_path_buf(),
            });
        }
    }
    Ok(files)
}

/// Like [`discover`], but one table may have no file yet (incremental runs: messages can
/// arrive before any order); errors only when neither table has a file.
pub fn discover_any(dir: &Path) -> Result<Vec<SourceFile>, IngestError> {
    if !dir.is_dir() {
        return Err(IngestError::MissingFolder {
            path: dir.to_path_buf(),
        });
    }
    let io_err = |source| IngestError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let (Some(table), Some(format)) =
            (Table::from_file_name(&name), Format::from_file_name(&name))
        else {
            continue;
        };
        // Links are followed (landing zones link files in); an entry with a source's
        // name that is not a file, or a link to nothing, is named rather than skipped.
        let path = entry.path();
        let meta = std::fs::metadata(&path)
            .and_then(|meta| match meta.is_file() {
                true => Ok(meta),
                false => Err(crate::open::not_a_file(meta.file_type())),
            })
            .map_err(|source| IngestError::Io {
                path: path.clone(),
                source,
            })?;
        files.push(SourceFile {
            path,
            name,
            table,
            format,
            size: meta.len(),
        });
    }
    files.sort_by(|a, b| (a.table, &a.name).cmp(&(b.table, &b.name)));
    if files.is_empty() {
        return Err(IngestError::NoFiles {
            table: Table::ChatMessages.name(),
            path: dir.to_path_buf(),
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_both_tables_in_any_format_and_ignores_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "orders_2.csv",
            "orders_1.json",
            "customer_courier_chat_messages.JSONL",
            "notes.txt",
            "orders.tmp",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let files = discover(dir.path()).unwrap();
        let names: Vec<_> = files.iter().map(|f| (f.name.as_str(), f.format)).collect();
        assert_eq!(
            names,
            vec![
                ("customer_courier_chat_messages.JSONL", Format::Ndjson),
                ("orders_1.json", Format::Json),
                ("orders_2.csv", Format::Csv)
            ]
        );
    }

    #[test]
    fn follows_symlinked_files() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("orders.csv"), "").unwrap();
        std::fs::write(dir.path().join("customer_courier_chat_messages_1.json"), "").unwrap();
        let target = elsewhere.path().join("landed.json");
        std::fs::write(&target, "[]").unwrap();
        std::os::unix::fs::symlink(
            &target,
            dir.path().join("customer_courier_chat_messages_2.json"),
        )
        .unwrap();
        let files = discover(dir.path()).unwrap();
        let names: Vec<_> = files.iter().map(|f| (f.name.as_str(), f.size)).collect();
        assert_eq!(
            names,
            vec![
                ("customer_courier_chat_messages_1.json", 0),
                ("customer_courier_chat_messages_2.json", 2),
                ("orders.csv", 0)
            ]
        );
    }

    #[test]
    fn names_entries_that_are_not_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("orders.csv"), "").unwrap();
        std::fs::write(dir.path().join("customer_courier_chat_messages_1.json"), "").unwrap();
        let odd = dir.path().join("customer_courier_chat_messages_2.json");
        std::fs::create_dir(&odd).unwrap();
        let err = discover(dir.path()).unwrap_err();
        assert_eq!(
            format!("{err}: {}", std::error::Error::source(&err).unwrap()),
            format!(
                "cannot read {}: a folder, where ccc expects a regular file",
                odd.display()
            )
        );
        std::fs::remove_dir(&odd).unwrap();
        std::os::unix::fs::symlink(dir.path().join("gone.json"), &odd).unwrap();
        let err = discover(dir.path()).unwrap_err();
        assert_eq!(err.to_string(), format!("cannot read {}", odd.display()));
    }

    #[test]
    fn missing_table_and_missing_folder_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("orders.csv"), "").unwrap();
        let err = discover(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("no customer_courier_chat_messages files"),
            "{err}"
        );
        let err = discover(&dir.path().join("nope")).unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
    }
}
