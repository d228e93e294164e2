//! Errors of reading sources: each names the file and, where it has one, the position.

use std::path::PathBuf;

/// Why sources could not be read. Bad *values* are not errors (they become nulls and
/// [`crate::FieldProblem`]s); these are files that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The source folder does not exist or is not a folder.
    #[error("source folder {path} does not exist or is not a folder")]
    MissingFolder {
        /// The folder given.
        path: PathBuf,
    },
    /// The source folder holds no file of a table.
    #[error(
        "no {table} files in {path} (expected {table}*.json, .ndjson, .jsonl, .csv or .parquet)"
    )]
    NoFiles {
        /// The table without files.
        table: &'static str,
        /// The folder searched.
        path: PathBuf,
    },
    /// An operating-system error on a file or folder.
    #[error("cannot read {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file that is not valid JSON (syntax error or truncated).
    #[error("{path}:{line}:{column}: invalid JSON in record {record}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based record number where the error is.
        record: u64,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// What is wrong.
        message: String,
    },
    /// A record that makes one text column of its chunk longer than Arrow's 32-bit offsets
    /// allow (in practice a single value of about 2 GiB, or a quoted CSV file, which is
    /// read as one chunk, with that much text in one column).
    #[error(
        "{path}:{line}: record {record}: column `{column}` holds more than {limit} bytes of \
         text in one chunk of records with this record, the most ccc reads into one Arrow \
         column (32-bit offsets)"
    )]
    TextTooLong {
        /// The file.
        path: PathBuf,
        /// 1-based record number.
        record: u64,
        /// 1-based line where the record starts.
        line: u64,
        /// The column.
        column: &'static str,
        /// The limit, in bytes.
        limit: usize,
    },
    /// A record (a line of NDJSON or CSV, a record of a JSON array, a CSV header) longer
    /// than [`crate::ReadOptions::max_record_bytes`]: refused before it is parsed, so a
    /// file without line breaks cannot make ccc buffer all of it.
    #[error(
        "{path}:{line}: a record longer than {limit} bytes starts here, the most ccc reads \
         as one record (raise it with --max-record-bytes)"
    )]
    RecordTooLong {
        /// The file.
        path: PathBuf,
        /// 1-based line where the record starts.
        line: u64,
        /// The limit, in bytes.
        limit: usize,
    },
    /// A CSV file that cannot be parsed (no header, ragged row, bad quoting).
    #[error("{path}:{line}: invalid CSV in record {record}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based data record number (0 for the header).
        record: u64,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A file named `.parquet` that the Parquet reader cannot read.
    #[error("{path}: not a readable Parquet file")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What the Parquet reader said.
        #[source]
        source: arrow2::error::Error,
    },
    /// A file named `.parquet` that ccc's own checks find damaged or unusable (a footer
    /// that does not fit the file, a decoder that gave up on a page, none of the
    /// table's columns), or a format that cannot be read back as a table.
    #[error("{path}: not a readable Parquet file: {message}")]
    ParquetContent {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A table path (`--table NAME=PATH`) with no data file under it.
    #[error("no data files of table {table} under {path} (expected .csv, .json, .ndjson, .jsonl or .parquet files)")]
    NoTableFiles {
        /// The table.
        table: String,
        /// The path given.
        path: PathBuf,
    },
    /// A file in a table's folder that is neither a data file nor a side file (`_*`, `.*`).
    #[error("{path}: not a data file (expected .csv, .json, .ndjson, .jsonl or .parquet; side files start with _ or .)")]
    UnknownFile {
        /// The file.
        path: PathBuf,
    },
    /// Files of one table under different Hive partition keys.
    #[error("{first} is partitioned by {first_keys} but {other} by {other_keys}: a table's files share their partition keys")]
    MixedPartitions {
        /// The first file.
        first: PathBuf,
        /// Its partition keys, `/`-separated (or `nothing`).
        first_keys: String,
        /// A file that differs.
        other: PathBuf,
        /// Its keys.
        other_keys: String,
    },
    /// A Hive partition value that is not of the type the suite declares for its column.
    #[error("{path}: partition value {column}={value} is not a valid {expected}")]
    PartitionValue {
        /// The file under that partition.
        path: PathBuf,
        /// The partition column.
        column: String,
        /// The value in the path.
        value: String,
        /// The declared type.
        expected: &'static str,
    },
    /// A column that is both a Hive partition key and a column inside the table's files.
    #[error(
        "{path}: column {column} is both a partition folder ({column}=…) and a column of the file"
    )]
    PartitionClash {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
    },
}
