//! The data a suite runs over: a named table of Arrow chunks with its schema, where
//! each row came from (file and record for sources, a key column for outputs), and the
//! values the ingest layer could not parse into their column's type.

use std::sync::Arc;

use arrow2::array::Array;
use arrow2::chunk::Chunk;
use arrow2::compute::cast::{cast, CastOptions};
use arrow2::datatypes::{DataType, Field, Schema};
use serde::{Deserialize, Serialize};

use crate::types;

/// Where a row came from, as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Location {
    /// A record of a source file.
    Source {
        /// The file, as the caller named it.
        file: String,
        /// The record number within the file (as the caller numbers them, usually 1-based).
        record: u64,
        /// The line where the record starts, for text formats.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        line: Option<u64>,
    },
    /// A row identified by its key, such as `order_id=123`.
    Key {
        /// `column=value`.
        key: String,
    },
    /// A row known only by its 0-based position in the table.
    Row {
        /// The row index over all chunks.
        row: u64,
    },
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Source {
                file,
                record,
                line: Some(line),
            } => write!(f, "{file}:{line} (record {record})"),
            Location::Source { file, record, .. } => write!(f, "{file} record {record}"),
            Location::Key { key } => f.write_str(key),
            Location::Row { row } => write!(f, "row {row}"),
        }
    }
}

/// Where the rows of one chunk came from.
#[derive(Debug, Clone, Default)]
pub enum ChunkOrigin {
    /// Not known: rows are located by their index in the table.
    #[default]
    Unknown,
    /// Consecutive records of one file.
    Source {
        /// The file, as reports should show it.
        file: Arc<str>,
        /// The record number of the chunk's first row; row `i` is record `first_record + i`.
        first_record: u64,
        /// Per row, the line where its record starts (text formats), else `None`.
        lines: Option<RecordLines>,
    },
}

/// The line where each row's record starts in a text file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordLines {
    /// Row `i` starts on line `first + i` (one record per line).
    Consecutive(u64),
    /// Row `i` starts on line `lines[i]`.
    Listed(Arc<[u64]>),
}

impl RecordLines {
    /// The line of row `row`, if known.
    pub fn line(&self, row: usize) -> Option<u64> {
        match self {
            RecordLines::Consecutive(first) => Some(first + row as u64),
            RecordLines::Listed(lines) => lines.get(row).copied(),
        }
    }
}

impl ChunkOrigin {
    /// Records `first_record..` of `file`, with optional per-row start lines.
    pub fn source(
        file: impl Into<Arc<str>>,
        first_record: u64,
        lines: Option<Vec<u64>>,
    ) -> ChunkOrigin {
        ChunkOrigin::Source {
            file: file.into(),
            first_record,
            lines: lines.map(|l| RecordLines::Listed(Arc::from(l))),
        }
    }
}

/// A value that could not be parsed into its column's type; the column holds null
/// there. `expect_column_values_to_be_of_type` counts these as unexpected, and
/// `expect_column_values_to_not_be_null` does not count them as nulls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeProblem {
    /// The column.
    pub column: String,
    /// The chunk index.
    pub chunk: usize,
    /// The row within the chunk.
    pub row: usize,
    /// The raw text as it stood in the source.
    pub raw: String,
}

/// Why a dataset could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A chunk's column count differs from the schema's.
    #[error("table {table}: chunk {chunk} has {found} columns, the schema has {expected}")]
    ColumnCount {
        /// The table.
        table: String,
        /// The chunk index.
        chunk: usize,
        /// Columns in the chunk.
        found: usize,
        /// Fields in the schema.
        expected: usize,
    },
    /// A chunk's column type differs from the schema's.
    #[error(
        "table {table}: column {column} of chunk {chunk} is {found}, the schema says {expected}"
    )]
    ColumnType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The chunk index.
        chunk: usize,
        /// The chunk's type, as text.
        found: String,
        /// The schema's type, as text.
        expected: String,
    },
    /// A dictionary column could not be unpacked.
    #[error("table {table}: column {column} cannot be unpacked: {source}")]
    Unpack {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Arrow's error.
        #[source]
        source: arrow2::error::Error,
    },
    /// The key column, or a type problem's column, is not in the schema.
    #[error("table {table} has no column {column}")]
    UnknownColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A chunk names an unread column past the schema's columns.
    #[error("table {table}: chunk {chunk} names unread column {column}, past the schema")]
    UnreadOutOfRange {
        /// The table.
        table: String,
        /// The chunk index.
        chunk: usize,
        /// The column index given.
        column: usize,
    },
    /// A type problem points past the data.
    #[error("table {table}: type problem at chunk {chunk} row {row} is outside the data")]
    ProblemOutOfRange {
        /// The table.
        table: String,
        /// The chunk index.
        chunk: usize,
        /// The row.
        row: usize,
    },
}

/// A named table: chunks of Arrow columns with their schema, row origins and type
/// problems.
#[derive(Debug, Clone)]
pub struct Dataset {
    name: String,
    schema: Schema,
    chunks: Vec<Chunk<Box<dyn Array>>>,
    origins: Vec<ChunkOrigin>,
    /// Row index of each chunk's first row.
    starts: Vec<usize>,
    rows: usize,
    key_column: Option<usize>,
    /// Per column, the type problems sorted by (chunk, row).
    problems: Vec<Vec<TypeProblem>>,
    /// Per chunk, the columns whose values were not read (see [`Dataset::push_chunk_unread`]).
    unread: Vec<Box<[usize]>>,
}

impl Dataset {
    /// An empty table with this schema. Dictionary columns are checked through their
    /// values, so the dataset's schema lists the value type.
    pub fn new(name: impl Into<String>, schema: Schema) -> Dataset {
        let fields: Vec<Field> = schema
            .fields
            .iter()
            .map(|f| match f.data_type.to_logical_type() {
                DataType::Dictionary(_, values, _) => {
                    Field::new(f.name.clone(), (**values).clone(), f.is_nullable)
                }
                _ => f.clone(),
            })
            .collect();
        let problems = vec![Vec::new(); fields.len()];
        Dataset {
            name: name.into(),
            schema: Schema::from(fields).with_metadata(schema.metadata),
            chunks: Vec::new(),
            origins: Vec::new(),
            starts: Vec::new(),
            rows: 0,
            key_column: None,
            problems,
            unread: Vec::new(),
        }
    }

    /// Appends a chunk whose columns follow the schema, with where its rows came from.
    pub fn push_chunk(
        &mut self,
        chunk: Chunk<Box<dyn Array>>,
        origin: ChunkOrigin,
    ) -> Result<(), DatasetError> {
        self.push_chunk_unread(chunk, origin, &[])
    }

    /// Appends a chunk in which the columns `unread` were not read, because the reader
    /// knows from the file's metadata (say, Parquet statistics with a null count of 0 on
    /// a column of the schema's type) that every value there is present and of the
    /// column's type. Their arrays are placeholders of the chunk's length (any type,
    /// usually a `NullArray`). Expectations that such knowledge decides
    /// ([`crate::decided_by_presence`]) count those rows as present and valid; a suite
    /// with any other expectation on an unread column is refused by [`crate::validate`].
    pub fn push_chunk_unread(
        &mut self,
        chunk: Chunk<Box<dyn Array>>,
        origin: ChunkOrigin,
        unread: &[usize],
    ) -> Result<(), DatasetError> {
        let index = self.chunks.len();
        if chunk.arrays().len() != self.schema.fields.len() {
            return Err(DatasetError::ColumnCount {
                table: self.name.clone(),
                chunk: index,
                found: chunk.arrays().len(),
                expected: self.schema.fields.len(),
            });
        }
        if let Some(&column) = unread.iter().find(|&&c| c >= self.schema.fields.len()) {
            return Err(DatasetError::UnreadOutOfRange {
                table: self.name.clone(),
                chunk: index,
                column,
            });
        }
        let mut arrays = Vec::with_capacity(chunk.arrays().len());
        for (i, (array, field)) in chunk
            .into_arrays()
            .into_iter()
            .zip(&self.schema.fields)
            .enumerate()
        {
            if unread.contains(&i) {
                arrays.push(array);
                continue;
            }
            let array = match array.data_type().to_logical_type() {
                DataType::Dictionary(_, values, _) => {
                    let values = (**values).clone();
                    cast(array.as_ref(), &values, CastOptions::default()).map_err(|source| {
                        DatasetError::Unpack {
                            table: self.name.clone(),
                            column: field.name.clone(),
                            source,
                        }
                    })?
                }
                _ => array,
            };
            if array.data_type() != field.data_type() {
                return Err(DatasetError::ColumnType {
                    table: self.name.clone(),
                    column: field.name.clone(),
                    chunk: index,
                    found: format!("{:?}", array.data_type()),
                    expected: format!("{:?}", field.data_type()),
                });
            }
            arrays.push(array);
        }
        // Unpacking a dictionary keeps its length, so the arrays still line up.
        let chunk = Chunk::new(arrays);
        self.starts.push(self.rows);
        self.rows += chunk.len();
        self.chunks.push(chunk);
        self.origins.push(origin);
        let mut unread = unread.to_vec();
        unread.sort_unstable();
        unread.dedup();
        self.unread.push(unread.into_boxed_slice());
        Ok(())
    }

    /// Whether column `column` of chunk `chunk` was pushed unread.
    pub fn is_unread(&self, chunk: usize, column: usize) -> bool {
        self.unread
            .get(chunk)
            .is_some_and(|cols| cols.binary_search(&column).is_ok())
    }

    /// Whether any chunk holds column `column` unread.
    pub fn has_unread(&self, column: usize) -> bool {
        self.unread
            .iter()
            .any(|cols| cols.binary_search(&column).is_ok())
    }

    /// Locates rows by `column=value` instead of by file and record (for outputs).
    pub fn set_key_column(&mut self, column: &str) -> Result<(), DatasetError> {
        self.key_column =
            Some(
                self.column_index(column)
                    .ok_or_else(|| DatasetError::UnknownColumn {
                        table: self.name.clone(),
                        column: column.to_string(),
                    })?,
            );
        Ok(())
    }

    /// Records a value that could not be parsed into its column's type.
    pub fn add_type_problem(&mut self, problem: TypeProblem) -> Result<(), DatasetError> {
        let column =
            self.column_index(&problem.column)
                .ok_or_else(|| DatasetError::UnknownColumn {
                    table: self.name.clone(),
                    column: problem.column.clone(),
                })?;
        if self
            .chunks
            .get(problem.chunk)
            .is_none_or(|c| problem.row >= c.len())
        {
            return Err(DatasetError::ProblemOutOfRange {
                table: self.name.clone(),
                chunk: problem.chunk,
                row: problem.row,
            });
        }
        let list = &mut self.problems[column];
        let at = list.partition_point(|p| (p.chunk, p.row) <= (problem.chunk, problem.row));
        list.insert(at, problem);
        Ok(())
    }

    /// The chunk and row of record `record` of `file`, to attach type problems that the
    /// reader numbered by record.
    pub fn find_record(&self, file: &str, record: u64) -> Option<(usize, usize)> {
        self.origins
            .iter()
            .enumerate()
            .find_map(|(chunk, origin)| match origin {
                ChunkOrigin::Source {
                    file: f,
                    first_record,
                    ..
                } if &**f == file
                    && record >= *first_record
                    && record - first_record < self.chunks[chunk].len() as u64 =>
                {
                    Some((chunk, (record - first_record) as usize))
                }
                _ => None,
            })
    }

    /// The table name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The schema (dictionary columns listed by their value type).
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The chunks.
    pub fn chunks(&self) -> &[Chunk<Box<dyn Array>>] {
        &self.chunks
    }

    /// Total number of rows.
    pub fn row_count(&self) -> usize {
        self.rows
    }

    /// The index of a column.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.schema.fields.iter().position(|f| f.name == name)
    }

    /// The type problems of a column, sorted by chunk and row.
    pub(crate) fn problems(&self, column: usize) -> &[TypeProblem] {
        &self.problems[column]
    }

    /// Where row `row` of chunk `chunk` came from.
    pub fn location(&self, chunk: usize, row: usize) -> Location {
        if let Some(key) = self.key_column {
            let name = &self.schema.fields[key].name;
            let value = types::render(self.chunks[chunk].arrays()[key].as_ref(), row)
                .unwrap_or_else(|| "null".to_string());
            return Location::Key {
                key: format!("{name}={value}"),
            };
        }
        match &self.origins[chunk] {
            ChunkOrigin::Source {
                file,
                first_record,
                lines,
            } => Location::Source {
                file: file.to_string(),
                record: first_record + row as u64,
                line: lines.as_ref().and_then(|l| l.line(row)),
            },
            ChunkOrigin::Unknown => Location::Row {
                row: (self.starts[chunk] + row) as u64,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow2::array::{
        DictionaryArray, Int64Array, MutableDictionaryArray, MutableUtf8Array, TryExtend,
    };

    #[test]
    fn locates_rows_by_source_key_or_index() {
        let schema = Schema::from(vec![Field::new("id", DataType::Int64, true)]);
        let mut ds = Dataset::new("t", schema);
        let chunk = Chunk::new(vec![Int64Array::from_slice([7, 8]).boxed()]);
        ds.push_chunk(
            chunk.clone(),
            ChunkOrigin::source("a.csv", 1, Some(vec![2, 4])),
        )
        .expect("fits");
        ds.push_chunk(chunk, ChunkOrigin::Unknown).expect("fits");
        assert_eq!(
            ds.location(0, 1),
            Location::Source {
                file: "a.csv".into(),
                record: 2,
                line: Some(4)
            }
        );
        assert_eq!(ds.location(1, 0), Location::Row { row: 2 });
        assert_eq!(ds.find_record("a.csv", 2), Some((0, 1)));
        assert_eq!(ds.find_record("a.csv", 3), None);
        ds.set_key_column("id").expect("exists");
        assert_eq!(ds.location(1, 1), Location::Key { key: "id=8".into() });
    }

    #[test]
    fn unpacks_dictionaries_and_rejects_bad_chunks() {
        let mut m = MutableDictionaryArray::<i32, MutableUtf8Array<i32>>::new();
        m.try_extend([Some("a"), None, Some("a")]).expect("extend");
        let dict: DictionaryArray<i32> = m.into();
        let schema = Schema::from(vec![Field::new("c", dict.data_type().clone(), true)]);
        let mut ds = Dataset::new("t", schema);
        ds.push_chunk(Chunk::new(vec![dict.boxed()]), ChunkOrigin::Unknown)
            .expect("unpacked");
        assert_eq!(ds.schema().fields[0].data_type(), &DataType::Utf8);
        let bad = Chunk::new(vec![Int64Array::from_slice([1]).boxed()]);
        assert!(matches!(
            ds.push_chunk(bad, ChunkOrigin::Unknown),
            Err(DatasetError::ColumnType { .. })
        ));
    }
}
