//! A Parquet file's metadata, page headers and page contents checked against the file
//! before they are decoded: every size and count a damaged or hostile file states is
//! bounded by the bytes it has, so a few changed bytes cannot make the decoders allocate
//! gigabytes, read past a column, or loop on a page that holds fewer values than it
//! says ([`CheckedPages`]). What the decoders (arrow2, parquet2) would still panic on is
//! caught in [`decode_guarded`], the last resort.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

use arrow2::io::parquet::read as pq;
use parquet2::encoding::hybrid_rle::{Decoder, HybridEncoded};
use parquet2::encoding::Encoding;
use parquet2::error::Error as ParquetError;
use parquet2::page::{split_buffer, DataPage, Page};
use parquet2::schema::types::PhysicalType;
use parquet2::FallibleStreamingIterator;
use parquet_format_safe::thrift::protocol::TCompactInputProtocol;
use parquet_format_safe::{PageHeader, PageType};

/// The largest page ccc decompresses. Writers cut pages at about 1 MiB; a page of a
/// whole large row group is still far below this.
pub(crate) const MAX_PAGE_BYTES: usize = 1 << 30;

/// The most bytes one page header may take to decode (its statistics included).
const MAX_HEADER_BYTES: usize = 16 << 20;

/// Checks that each column chunk of each row group lies inside the file, and that a row
/// group's flat columns state as many values as it has rows.
pub(crate) fn check_metadata(metadata: &pq::FileMetaData, file_len: u64) -> Result<(), String> {
    for (g, rg) in metadata.row_groups.iter().enumerate() {
        for column in rg.columns() {
            let (start, len) = column.byte_range();
            if start.checked_add(len).is_none_or(|end| end > file_len) {
                return Err(format!(
                    "row group {g}: column `{}` claims bytes {start}..+{len}, past the end of the file ({file_len} bytes)",
                    column_name(column)
                ));
            }
            let flat = column.descriptor().descriptor.max_rep_level == 0;
            if flat && column.num_values() != rg.num_rows() as i64 {
                return Err(format!(
                    "row group {g}: column `{}` has {} values for {} rows",
                    column_name(column),
                    column.num_values(),
                    rg.num_rows()
                ));
            }
        }
    }
    Ok(())
}

/// Walks the page headers of one column chunk (its bytes as read) and checks each page's
/// sizes and value count against the chunk and the row group.
pub(crate) fn check_pages(
    column: &pq::ColumnChunkMetaData,
    bytes: &[u8],
    rows: usize,
) -> Result<(), String> {
    let name = column_name(column);
    let wanted = usize::try_from(column.num_values())
        .map_err(|_| format!("column `{name}`: negative value count"))?;
    let flat = column.descriptor().descriptor.max_rep_level == 0;
    let mut rest = bytes;
    let mut values = 0usize;
    while values < wanted {
        let mut reader = rest;
        let mut protocol = TCompactInputProtocol::new(&mut reader, MAX_HEADER_BYTES);
        let header = PageHeader::read_from_in_protocol(&mut protocol)
            .map_err(|e| format!("column `{name}`: unreadable page header: {e}"))?;
        rest = reader;
        let size = |what: &str, n: i32| {
            usize::try_from(n).map_err(|_| format!("column `{name}`: negative {what} page size"))
        };
        let compressed = size("compressed", header.compressed_page_size)?;
        let uncompressed = size("uncompressed", header.uncompressed_page_size)?;
        if compressed > rest.len() {
            return Err(format!(
                "column `{name}`: a page of {compressed} bytes where the column has {} left",
                rest.len()
            ));
        }
        if uncompressed > MAX_PAGE_BYTES {
            return Err(format!(
                "column `{name}`: a page of {uncompressed} bytes uncompressed, more than the {MAX_PAGE_BYTES} ccc reads"
            ));
        }
        let page_values = match header.type_ {
            PageType::DATA_PAGE => header.data_page_header.as_ref().map(|h| h.num_values),
            PageType::DATA_PAGE_V2 => header.data_page_header_v2.as_ref().map(|h| h.num_values),
            _ => Some(0),
        };
        let page_values = page_values
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| format!("column `{name}`: a data page without a valid value count"))?;
        values += page_values;
        if flat && values > rows {
            return Err(format!(
                "column `{name}`: its pages hold more values than the row group's {rows} rows"
            ));
        }
        rest = &rest[compressed..];
    }
    Ok(())
}

/// Decompressed pages of one column chunk, each data page checked ([`check_data_page`])
/// before arrow2 decodes it: arrow2's decoders loop without end on a page whose levels
/// or values run out before its value count.
pub(crate) struct CheckedPages<I> {
    inner: I,
}

impl<I> CheckedPages<I> {
    pub(crate) fn new(inner: I) -> Self {
        Self { inner }
    }
}

impl<I: FallibleStreamingIterator<Item = Page, Error = ParquetError>> FallibleStreamingIterator
    for CheckedPages<I>
{
    type Item = Page;
    type Error = ParquetError;

    fn advance(&mut self) -> Result<(), ParquetError> {
        self.inner.advance()?;
        if let Some(Page::Data(page)) = self.inner.get() {
            check_data_page(page).map_err(ParquetError::OutOfSpec)?;
        }
        Ok(())
    }

    fn get(&self) -> Option<&Page> {
        self.inner.get()
    }
}

/// Checks that a data page's definition levels cover its value count, and that its
/// values section holds a value for each present one (for the encodings ccc's sources
/// use: plain, and dictionary indices).
pub(crate) fn check_data_page(page: &DataPage) -> Result<(), String> {
    let (_, def, values) = split_buffer(page).map_err(|e| e.to_string())?;
    let rows = page.num_values();
    let descriptor = &page.descriptor;
    let present = if descriptor.max_def_level == 1 && descriptor.max_rep_level == 0 {
        present_values(def, rows)?
    } else {
        rows
    };
    let enough = match (page.encoding(), descriptor.primitive_type.physical_type) {
        (Encoding::Plain, PhysicalType::Boolean) => values.len().saturating_mul(8) >= present,
        (Encoding::Plain, PhysicalType::Int32 | PhysicalType::Float) => values.len() / 4 >= present,
        (Encoding::Plain, PhysicalType::Int64 | PhysicalType::Double) => {
            values.len() / 8 >= present
        }
        (Encoding::Plain, PhysicalType::Int96) => values.len() / 12 >= present,
        (Encoding::Plain, PhysicalType::FixedLenByteArray(width)) => {
            width == 0 || values.len() / width >= present
        }
        (Encoding::Plain, PhysicalType::ByteArray) => byte_arrays_in(values, present),
        (Encoding::RleDictionary | Encoding::PlainDictionary, _) => match values.split_first() {
            Some((&bits, indices)) if bits <= 32 => runs_cover(indices, bits.into(), present)?,
            Some(_) => false,
            None => present == 0,
        },
        _ => true,
    };
    if enough {
        Ok(())
    } else {
        Err(format!(
            "a data page of {rows} values holds fewer than its {present} present values"
        ))
    }
}

/// How many of the `rows` definition levels (bit width 1) are 1; an error when the
/// levels end before `rows`.
fn present_values(def: &[u8], rows: usize) -> Result<usize, String> {
    let (mut seen, mut present) = (0usize, 0usize);
    for run in Decoder::new(def, 1) {
        if seen >= rows {
            break;
        }
        let left = rows - seen;
        match run.map_err(|e| e.to_string())? {
            HybridEncoded::Bitpacked(bytes) => {
                let n = left.min(bytes.len() * 8);
                let whole = n / 8;
                present += bytes[..whole]
                    .iter()
                    .map(|b| b.count_ones() as usize)
                    .sum::<usize>();
                if n % 8 != 0 {
                    present += (bytes[whole] & ((1u8 << (n % 8)) - 1)).count_ones() as usize;
                }
                seen += n;
            }
            HybridEncoded::Rle(value, count) => {
                let n = left.min(count);
                if value.first().copied().unwrap_or(0) == 1 {
                    present += n;
                }
                seen += n;
            }
        }
    }
    if seen < rows {
        return Err(format!(
            "the definition levels of a page end after {seen} of its {rows} values"
        ));
    }
    Ok(present)
}

/// Whether hybrid-RLE runs of `bits`-bit values cover at least `wanted` values.
fn runs_cover(bytes: &[u8], bits: u32, wanted: usize) -> Result<bool, String> {
    if bits == 0 {
        return Ok(true);
    }
    let mut seen = 0usize;
    for run in Decoder::new(bytes, bits as usize) {
        if seen >= wanted {
            break;
        }
        seen += match run.map_err(|e| e.to_string())? {
            HybridEncoded::Bitpacked(packed) => packed.len() * 8 / bits as usize,
            HybridEncoded::Rle(_, count) => count,
        };
    }
    Ok(seen >= wanted)
}

/// Whether `values` holds `count` length-prefixed byte arrays (plain encoding).
fn byte_arrays_in(values: &[u8], count: usize) -> bool {
    let mut rest = values;
    for _ in 0..count {
        let Some((len, tail)) = rest.split_first_chunk::<4>() else {
            return false;
        };
        let len = u32::from_le_bytes(*len) as usize;
        if len > tail.len() {
            return false;
        }
        rest = &tail[len..];
    }
    true
}

fn column_name(column: &pq::ColumnChunkMetaData) -> String {
    column.descriptor().path_in_schema.join(".")
}

/// How many decodes are running under [`decode_guarded`]: while any is, a panic inside
/// arrow2 or parquet2 is not printed (it becomes an error that names the file).
static GUARDED: AtomicUsize = AtomicUsize::new(0);

/// Runs `decode`, turning a panic inside arrow2 or parquet2 into an error message. The
/// checks above prevent what they can; the decoders' own `unwrap`s and `panic!`s on
/// malformed pages cannot all be reached from outside, so they are caught here.
pub(crate) fn decode_guarded<T>(decode: impl FnOnce() -> T) -> Result<T, String> {
    quiet_decoder_panics();
    GUARDED.fetch_add(1, Ordering::SeqCst);
    let outcome = catch_unwind(AssertUnwindSafe(decode));
    GUARDED.fetch_sub(1, Ordering::SeqCst);
    outcome.map_err(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        format!("the Parquet decoder failed on a damaged page ({message})")
    })
}

/// Installs, once, a panic hook that keeps quiet about panics raised inside the Parquet
/// decoders during a guarded decode, and prints every other panic as before.
fn quiet_decoder_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_decoder = info.location().is_some_and(|l| {
                let file = l.file();
                file.contains("arrow2-")
                    || file.contains("parquet2-")
                    || file.contains("parquet-format-safe-")
            });
            if !(in_decoder && GUARDED.load(Ordering::SeqCst) > 0) {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_a_guarded_decode_is_an_error() {
        let err = decode_guarded::<()>(|| panic!("boom")).unwrap_err();
        assert_eq!(err, "the Parquet decoder failed on a damaged page (boom)");
        assert_eq!(decode_guarded(|| 3), Ok(3));
    }
}
