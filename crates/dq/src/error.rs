//! Errors that stop a suite from running: it could not be read, it is not valid YAML,
//! it breaks the suite schema, or it names tables, columns or metrics the data lacks.
//! Each carries the file, line, column and byte span, so the binary can underline the
//! offending text (this crate does not depend on miette).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A position in a suite file: 1-based line and column (in characters) and the byte
/// span of the offending token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// Byte offset of the token in the file.
    pub offset: usize,
    /// Byte length of the token (at least 1 unless the file is empty).
    pub len: usize,
}

/// The suite file an error is about and, when known, where in it.
#[derive(Debug, Clone)]
pub struct Site {
    /// The file name as given to [`crate::Suite::from_yaml`] or [`crate::Suite::load`].
    pub file: String,
    /// The whole text of the file, for rendering the offending line.
    pub text: Arc<str>,
    /// Where the error is, when it could be located.
    pub position: Option<Position>,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.position {
            Some(p) => write!(f, "{}:{}:{}", self.file, p.line, p.column),
            None => f.write_str(&self.file),
        }
    }
}

/// Why a suite could not be loaded or bound to the data.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The suite file could not be read.
    #[error("cannot read suite {}: {source}", path.display())]
    Read {
        /// The path that was read.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid YAML.
    #[error("{site}: invalid yaml: {message}")]
    Yaml {
        /// Where.
        site: Box<Site>,
        /// The parser's message without its position.
        message: String,
        /// The parser's error.
        #[source]
        source: serde_yaml::Error,
    },
    /// The document breaks the suite schema (unknown key or expectation, wrong type,
    /// missing key).
    #[error("{site}: {message}")]
    Schema {
        /// Where.
        site: Box<Site>,
        /// What is wrong.
        message: String,
        /// A suggestion such as "did you mean `…`?".
        help: Option<String>,
        /// The JSON pointer of the offending value in the document.
        instance_path: String,
    },
    /// Two expectations share an id.
    #[error("{site}: duplicate expectation id `{id}` (first used on line {first_line})")]
    DuplicateId {
        /// Where the second use is.
        site: Box<Site>,
        /// The id.
        id: String,
        /// The line of the first use.
        first_line: usize,
    },
    /// A parameter is well-typed but unusable (bad regex, min above max, a bound that
    /// is not an RFC 3339 timestamp, a set value that can never match the column).
    #[error("{site}: {message}")]
    InvalidParameter {
        /// Where.
        site: Box<Site>,
        /// What is wrong.
        message: String,
        /// A hint, when there is one.
        help: Option<String>,
    },
    /// The suite names a table the data does not have.
    #[error("{site}: unknown table `{table}`")]
    UnknownTable {
        /// Where the table is named.
        site: Box<Site>,
        /// The table name.
        table: String,
        /// "did you mean …" or the list of tables.
        help: Option<String>,
    },
    /// The suite names a column its table does not have.
    #[error("{site}: table `{table}` has no column `{column}`")]
    UnknownColumn {
        /// Where the column is named.
        site: Box<Site>,
        /// The table.
        table: String,
        /// The column name.
        column: String,
        /// "did you mean …" or the list of columns.
        help: Option<String>,
    },
    /// A column's Arrow type cannot be checked by the expectation.
    #[error("{site}: `{expectation}` cannot check column `{table}.{column}` of type {data_type}")]
    UnsupportedType {
        /// Where the column is named.
        site: Box<Site>,
        /// The expectation name.
        expectation: String,
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The column's Arrow type, as text.
        data_type: String,
    },
    /// An expectation needs the values of a column that the caller left unread.
    #[error(
        "{site}: expectation `{id}` needs the values of `{table}.{column}`, which were not read"
    )]
    ValuesNotRead {
        /// Where the column is named.
        site: Box<Site>,
        /// The expectation's id.
        id: String,
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// Tallies computed chunk by chunk do not match the dataset's chunks.
    #[error("table {table} has {chunks} chunks but {prechecked} were checked as they were read")]
    PrecheckedChunks {
        /// The table.
        table: String,
        /// Chunks in the dataset.
        chunks: usize,
        /// Chunks with tallies.
        prechecked: usize,
    },
    /// An expectation was checked on some chunks of a table as they were read, and not on
    /// others (a look-up bound after the first chunk).
    #[error(
        "table {table}: `{id}` was checked on some chunks as they were read and not on others"
    )]
    PrecheckedMixed {
        /// The table.
        table: String,
        /// The expectation.
        id: String,
    },
    /// The suite nests deeper than [`crate::MAX_NESTING`] levels (refused before parsing).
    #[error("{site}: the suite nests deeper than {limit} levels")]
    TooDeep {
        /// Where the nesting passes the limit.
        site: Box<Site>,
        /// The limit.
        limit: usize,
    },
    /// A reconciliation names a metric the caller did not give.
    #[error("{site}: unknown metric `{metric}`")]
    UnknownMetric {
        /// Where the metric is named.
        site: Box<Site>,
        /// The metric name.
        metric: String,
        /// "did you mean …" or the list of metrics.
        help: Option<String>,
    },
}

impl SuiteError {
    /// The file and position the error is about, when it comes from a suite's text.
    pub fn site(&self) -> Option<&Site> {
        match self {
            SuiteError::Read { .. }
            | SuiteError::PrecheckedChunks { .. }
            | SuiteError::PrecheckedMixed { .. } => None,
            SuiteError::Yaml { site, .. }
            | SuiteError::TooDeep { site, .. }
            | SuiteError::Schema { site, .. }
            | SuiteError::DuplicateId { site, .. }
            | SuiteError::InvalidParameter { site, .. }
            | SuiteError::UnknownTable { site, .. }
            | SuiteError::UnknownColumn { site, .. }
            | SuiteError::UnsupportedType { site, .. }
            | SuiteError::ValuesNotRead { site, .. }
            | SuiteError::UnknownMetric { site, .. } => Some(site),
        }
    }

    /// The position (line, column, byte span) of the offending token, when known.
    pub fn position(&self) -> Option<Position> {
        self.site().and_then(|s| s.position)
    }

    /// The byte span `(offset, len)` of the offending token, for an underline.
    pub fn span(&self) -> Option<(usize, usize)> {
        self.position().map(|p| (p.offset, p.len))
    }

    /// The suite's whole text, for rendering the offending line.
    pub fn source_text(&self) -> Option<&str> {
        self.site().map(|s| &*s.text)
    }

    /// The suite's file name.
    pub fn file_name(&self) -> Option<&str> {
        match self {
            SuiteError::Read { path, .. } => path.to_str(),
            _ => self.site().map(|s| s.file.as_str()),
        }
    }

    /// A suggestion for the user ("did you mean …"), when there is one.
    pub fn help(&self) -> Option<&str> {
        match self {
            SuiteError::Schema { help, .. }
            | SuiteError::InvalidParameter { help, .. }
            | SuiteError::UnknownTable { help, .. }
            | SuiteError::UnknownColumn { help, .. }
            | SuiteError::UnknownMetric { help, .. } => help.as_deref(),
            _ => None,
        }
    }

    /// The message without the file and position prefix, for a label under the
    /// offending token.
    pub fn label(&self) -> String {
        match self {
            SuiteError::Read { source, .. } => source.to_string(),
            SuiteError::Yaml { message, .. }
            | SuiteError::Schema { message, .. }
            | SuiteError::InvalidParameter { message, .. } => message.clone(),
            SuiteError::DuplicateId { id, first_line, .. } => {
                format!("duplicate expectation id `{id}` (first used on line {first_line})")
            }
            SuiteError::UnknownTable { table, .. } => format!("unknown table `{table}`"),
            SuiteError::UnknownColumn { table, column, .. } => {
                format!("table `{table}` has no column `{column}`")
            }
            SuiteError::UnsupportedType {
                expectation,
                column,
                data_type,
                ..
            } => format!("`{expectation}` cannot check `{column}` of type {data_type}"),
            SuiteError::ValuesNotRead {
                id, table, column, ..
            } => format!("`{id}` needs the values of `{table}.{column}`, which were not read"),
            SuiteError::UnknownMetric { metric, .. } => format!("unknown metric `{metric}`"),
            SuiteError::TooDeep { limit, .. } => format!("nested deeper than {limit} levels"),
            SuiteError::PrecheckedChunks { .. } | SuiteError::PrecheckedMixed { .. } => {
                self.to_string()
            }
        }
    }
}
