//! Helpers shared by the text readers: mapping files, splitting them into chunks that
//! parse in parallel, and turning chunk-relative record and line numbers into absolute ones.

use std::path::Path;

use crate::error::IngestError;
use crate::problems::FieldProblem;
use crate::sources::{Batch, LineNumbers};

/// A read-only view of a whole file.
pub(crate) enum FileBytes {
    Mapped(memmap2::Mmap),
    Empty,
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Empty => &[],
        }
    }
}

/// Maps a file into memory, so that chunks are parsed in place without copying the text.
#[allow(unsafe_code)]
pub(crate) fn map_file(path: &Path) -> Result<FileBytes, IngestError> {
    let io_err = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = crate::open::open_regular(path).map_err(io_err)?;
    if file.metadata().map_err(io_err)?.len() == 0 {
        return Ok(FileBytes::Empty);
    }
    // SAFETY: the map is read-only and lives only for this read. Sources are inputs that
    // must not change while ccc reads them (documented in docs/semantics.md); a file
    // truncated underneath us is the one risk memory maps carry, and it is the same risk
    // every mmap-based reader (DuckDB, ripgrep) accepts.
    let map = unsafe { memmap2::MmapOptions::new().map(&file) }.map_err(io_err)?;
    Ok(FileBytes::Mapped(map))
}

impl FileBytes {
    /// Maps in the pages of `[start, end)` at once, before a chunk is parsed: one call
    /// instead of a page fault per few pages. A kernel without the advice just faults.
    pub(crate) fn prefetch(&self, start: usize, end: usize) {
        if let FileBytes::Mapped(map) = self {
            let _ = map.advise_range(memmap2::Advice::PopulateRead, start, end - start);
        }
    }

    /// Drops the pages of `[start, end)` from this process once a chunk is parsed, so a
    /// file being read counts in memory by the chunks in flight, not its size. The pages
    /// stay in the page cache; touching them again maps them back with the same bytes.
    #[allow(unsafe_code)]
    pub(crate) fn release(&self, start: usize, end: usize) {
        if let FileBytes::Mapped(map) = self {
            // SAFETY: the map is a private, read-only map of a file; MADV_DONTNEED only
            // unmaps its pages, and a later read faults the file's same bytes back in.
            let _ = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
            };
        }
    }
}

/// Counts `\n` bytes.
pub(crate) fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_column(bytes: &[u8], offset: usize) -> (u64, u64) {
    let offset = offset.min(bytes.len());
    let before = &bytes[..offset];
    let line = count_newlines(before) + 1;
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |p| p + 1);
    (line, (offset - line_start) as u64 + 1)
}

/// Splits `[start, end)` at newlines into pieces of about `target` bytes.
///
/// A line longer than `chunking.max_record_bytes` is an error, given as the byte offset
/// where it starts: the search for a chunk's end looks that far and no further, so no
/// chunk is parsed (and no record buffered) past the limit.
pub(crate) fn split_at_newlines(
    bytes: &[u8],
    start: usize,
    end: usize,
    chunking: Chunking,
) -> Result<Vec<(usize, usize)>, usize> {
    let mut ranges = Vec::new();
    let mut from = start;
    while from < end {
        let want = from.saturating_add(chunking.chunk_bytes);
        let to = if want >= end {
            end
        } else {
            // A line of at most the limit that starts by `want` has its newline in here.
            let window = end.min(want.saturating_add(chunking.max_record_bytes + 1));
            match memchr::memchr(b'\n', &bytes[want..window]) {
                Some(p) => want + p + 1,
                None if window == end => end,
                None => return Err(line_over(bytes, from, window, chunking).unwrap_or(from)),
            }
        };
        if to - from > chunking.max_record_bytes {
            if let Some(offset) = line_over(bytes, from, to, chunking) {
                return Err(offset);
            }
        }
        ranges.push((from, to));
        from = to;
    }
    Ok(ranges)
}

/// The start of the first line in `bytes[from..to]` longer than the record limit.
fn line_over(bytes: &[u8], from: usize, to: usize, chunking: Chunking) -> Option<usize> {
    let mut line_start = from;
    for newline in memchr::memchr_iter(b'\n', &bytes[from..to]).map(|p| from + p) {
        if newline - line_start > chunking.max_record_bytes {
            return Some(line_start);
        }
        line_start = newline + 1;
    }
    (to - line_start > chunking.max_record_bytes).then_some(line_start)
}

#[cfg(test)]
impl Chunking {
    /// Chunks of `chunk_bytes`, with the default record limit.
    pub(crate) fn of(chunk_bytes: usize) -> Self {
        Self {
            chunk_bytes,
            max_record_bytes: crate::read::DEFAULT_MAX_RECORD_BYTES,
        }
    }
}

/// How a text file is cut for parsing: the size of a chunk, and the longest record read
/// (a record past it is an input error, not an allocation the file decides).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chunking {
    /// Target bytes per chunk ([`crate::ReadOptions::chunk_bytes`]).
    pub(crate) chunk_bytes: usize,
    /// The longest record ([`crate::ReadOptions::max_record_bytes`]).
    pub(crate) max_record_bytes: usize,
}

/// What parsing one chunk produced, with record and line numbers relative to the chunk.
pub(crate) struct ChunkOutput {
    pub(crate) chunk: arrow2::chunk::Chunk<Box<dyn arrow2::array::Array>>,
    /// 0-based line offset (from the chunk start) of each record.
    pub(crate) record_lines: Vec<u64>,
    /// Problems with `record` = 0-based row in the chunk and `line` = chunk-relative line.
    pub(crate) problems: Vec<FieldProblem>,
    /// Newlines in the whole chunk.
    pub(crate) newlines: u64,
    /// Byte offset of the chunk in its file (the batch's [`Batch::position`]).
    pub(crate) start: u64,
    /// Columns a batch hook left unread (see [`Batch::unread`]).
    pub(crate) unread: Vec<usize>,
}

/// Turns chunk outputs into batches with absolute record and line numbers.
/// `lines_before_first` is the number of newlines in the file before the first chunk.
pub(crate) fn assemble(
    file: u32,
    outputs: Vec<ChunkOutput>,
    lines_before_first: u64,
) -> (Vec<Batch>, Vec<FieldProblem>) {
    let mut batches = Vec::with_capacity(outputs.len());
    let mut problems = Vec::new();
    let mut records_before = 0u64;
    let mut lines_before = lines_before_first;
    for out in outputs {
        let rows = out.record_lines.len() as u64;
        for mut p in out.problems {
            p.line = p.line.map(|l| l + lines_before + 1);
            p.record += records_before + 1;
            problems.push(p);
        }
        if rows > 0 {
            batches.push(Batch {
                file,
                first_record: records_before + 1,
                lines: Some(LineNumbers::shifted(&out.record_lines, lines_before + 1)),
                chunk: out.chunk,
                unread: out.unread,
                position: out.start,
            });
        }
        records_before += rows;
        lines_before += out.newlines;
    }
    (batches, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_cover_everything_and_end_on_newlines() {
        let text = b"aa\nbbbb\ncc\nd";
        let parts = split_at_newlines(text, 0, text.len(), Chunking::of(2)).unwrap();
        assert_eq!(parts, vec![(0, 3), (3, 8), (8, 11), (11, 12)]);
        assert_eq!(line_column(text, 9), (3, 2));
    }

    #[test]
    fn a_line_past_the_record_limit_is_found_wherever_it_lies() {
        let chunking = |chunk_bytes| Chunking {
            chunk_bytes,
            max_record_bytes: 4,
        };
        let text = b"aa\nbbbb\nccccc\nd\n";
        for chunk in [1, 2, 5, 100] {
            assert_eq!(
                split_at_newlines(text, 0, text.len(), chunking(chunk)),
                Err(8),
                "{chunk}"
            );
        }
        let fine = b"aa\nbbbb\ncccc\nd";
        assert!(split_at_newlines(fine, 0, fine.len(), chunking(3)).is_ok());
        // A last line without a newline counts too.
        let last = b"aa\nbbbbbbb";
        assert_eq!(split_at_newlines(last, 0, last.len(), chunking(1)), Err(3));
    }
}
