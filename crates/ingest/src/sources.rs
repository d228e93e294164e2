//! What a read produces: per table, Arrow chunks tagged with the file and record
//! numbers they came from, plus the value problems found on the way.

use arrow2::array::Array;
use arrow2::chunk::Chunk;

use crate::discover::SourceFile;
use crate::problems::FieldProblem;
use crate::schema::Table;

/// A run of consecutive records of one file, as columns of the table's schema.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Index of the file in [`Sources::files`].
    pub file: u32,
    /// Record number (1-based) of the batch's first row; row `i` is record `first_record + i`.
    pub first_record: u64,
    /// For text formats, the 1-based line where each record starts.
    pub lines: Option<LineNumbers>,
    /// The columns, in [`Table::schema`] order.
    pub chunk: Chunk<Box<dyn Array>>,
    /// Columns left unread (see [`crate::ReadOptions::presence_only`]): the file proves
    /// every value present and of the column's type; their arrays are `NullArray`
    /// placeholders of the batch's length.
    pub unread: Vec<usize>,
    /// Where the batch starts in its file — its first record (Parquet) or the byte offset
    /// of its first record (text formats) — known as soon as the batch is read, before a
    /// text file's record numbers are: the key that matches work done on a batch while it
    /// was read (see [`crate::BatchHook`]) with the batch in the final [`TableData`].
    pub position: u64,
}

impl Batch {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.chunk.len()
    }

    /// True when the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.chunk.is_empty()
    }

    /// The line where row `row` starts, if the format has lines.
    pub fn line(&self, row: usize) -> Option<u64> {
        self.lines.as_ref().and_then(|lines| lines.line(row))
    }
}

/// The 1-based line where each record of a batch starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineNumbers {
    /// Row `i` starts on line `first + i`: one record per line, as NDJSON is written. Kept
    /// as one number, where a list would hold 8 bytes per record for the whole run.
    Consecutive(u64),
    /// Row `i` starts on line `lines[i]` (pretty-printed JSON, blank lines, CSV fields
    /// holding newlines). Shared (`Arc`) so the data-quality layer can hold the same
    /// numbers without a copy.
    Listed(std::sync::Arc<[u64]>),
}

impl LineNumbers {
    /// The numbers of `lines` (one per record, non-decreasing), kept as one number when
    /// they are consecutive.
    pub fn new(lines: &[u64]) -> LineNumbers {
        LineNumbers::shifted(lines, 0)
    }

    /// [`LineNumbers::new`] of `lines`, each plus `offset` (chunk-relative numbers made
    /// absolute), without a shifted copy when they are consecutive.
    pub fn shifted(lines: &[u64], offset: u64) -> LineNumbers {
        match lines.first() {
            Some(&first)
                if lines
                    .iter()
                    .zip(first..)
                    .all(|(&l, expected)| l == expected) =>
            {
                LineNumbers::Consecutive(first + offset)
            }
            _ => LineNumbers::Listed(lines.iter().map(|l| l + offset).collect()),
        }
    }

    /// The line of row `row`; `None` past the end of a listed batch.
    pub fn line(&self, row: usize) -> Option<u64> {
        match self {
            LineNumbers::Consecutive(first) => Some(first + row as u64),
            LineNumbers::Listed(lines) => lines.get(row).copied(),
        }
    }
}

/// Everything read for one table.
#[derive(Debug, Clone)]
pub struct TableData {
    /// The table.
    pub table: Table,
    /// Batches in file order, then record order.
    pub batches: Vec<Batch>,
    /// Values that did not fit their field, in file then record order.
    pub problems: Vec<FieldProblem>,
}

impl TableData {
    /// Total number of records read.
    pub fn row_count(&self) -> usize {
        self.batches.iter().map(Batch::len).sum()
    }
}

/// Both source tables and the files they came from.
#[derive(Debug, Clone)]
pub struct Sources {
    /// Every file read, both tables; batches and problems refer to these by index.
    pub files: Vec<SourceFile>,
    /// `customer_courier_chat_messages`.
    pub messages: TableData,
    /// `orders`.
    pub orders: TableData,
}

impl Sources {
    /// The data of one table.
    pub fn table(&self, table: Table) -> &TableData {
        match table {
            Table::ChatMessages => &self.messages,
            Table::Orders => &self.orders,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LineNumbers;

    #[test]
    fn line_numbers_are_one_number_only_when_consecutive() {
        assert_eq!(LineNumbers::new(&[7]), LineNumbers::Consecutive(7));
        assert_eq!(LineNumbers::new(&[3, 4, 5]), LineNumbers::Consecutive(3));
        for listed in [&[][..], &[3, 4, 4], &[3, 5, 6], &[3, 2]] {
            assert_eq!(LineNumbers::new(listed), LineNumbers::Listed(listed.into()));
        }
        let lines = LineNumbers::new(&[3, 4, 5]);
        assert_eq!((lines.line(0), lines.line(2)), (Some(3), Some(5)));
        let lines = LineNumbers::new(&[3, 5]);
        assert_eq!((lines.line(1), lines.line(2)), (Some(5), None));
    }
}
