//! Flat, plain-encoded Parquet column chunks, decoded a batch at a time straight into
//! Arrow buffers. arrow2's generic decoder pays per value (a fallible push, a callback per
//! validity bit); here a page's definition levels become a bitmap in a few runs and its
//! values are copied in one loop. What a value is (text, a fixed-width number) is a
//! [`PlainValues`]; the pages, levels and batches are walked here for all of them. Any
//! other layout (dictionary pages, other encodings, nested or repeated columns) is left
//! to arrow2 — see [`flat_plain`].

use std::io::Cursor;
use std::sync::Arc;

use arrow2::array::Array;
use arrow2::bitmap::{Bitmap, MutableBitmap};
use arrow2::error::{Error, Result};
use parquet2::encoding::hybrid_rle::{Decoder, HybridEncoded};
use parquet2::encoding::Encoding;
use parquet2::metadata::ColumnChunkMetaData;
use parquet2::page::{split_buffer, DataPage, DataPageHeader, Page};
use parquet2::read::{BasicDecompressor, PageReader};
use parquet2::schema::types::PhysicalType;
use parquet2::FallibleStreamingIterator;

type Pages = BasicDecompressor<PageReader<Cursor<Vec<u8>>>>;

/// Whether column chunk `meta` is flat and plain: a top-level, non-repeated column of
/// physical type `physical`, whose chunk uses no encoding but PLAIN for values (and RLE or
/// bit-packing for levels) and has no dictionary page.
pub(crate) fn flat_plain(meta: &ColumnChunkMetaData, physical: PhysicalType) -> bool {
    let descriptor = &meta.descriptor().descriptor;
    meta.descriptor().path_in_schema.len() == 1
        && descriptor.primitive_type.physical_type == physical
        && descriptor.max_rep_level == 0
        && descriptor.max_def_level <= 1
        && meta.dictionary_page_offset().is_none()
        && meta.column_encoding().iter().all(|&e| {
            matches!(
                Encoding::try_from(e),
                Ok(Encoding::Plain | Encoding::Rle | Encoding::BitPacked)
            )
        })
}

/// How one kind of plain value becomes an Arrow array: a batch is started, filled from
/// spans of pages, then finished.
pub(crate) trait PlainValues {
    /// What the pages hold, for messages: "a page of {kind}" ("text", "INT64 values").
    fn kind(&self) -> &'static str;

    /// Starts a batch of `rows` rows; `bytes_per_row` is the current page's average.
    fn start(&mut self, rows: usize, bytes_per_row: usize);

    /// Appends the values of page rows `rows` (a null for each clear bit of `validity`),
    /// the first present one at byte `pos` of the page's `values`; returns the byte after
    /// the last one read.
    fn copy(
        &mut self,
        values: &[u8],
        pos: usize,
        rows: std::ops::Range<usize>,
        validity: Option<&Bitmap>,
    ) -> Result<usize>;

    /// The batch's array.
    fn finish(&mut self, validity: Option<Bitmap>) -> Result<Box<dyn Array>>;
}

/// An error of a page this module read.
pub(crate) fn out_of_spec(message: impl Into<String>) -> Error {
    Error::OutOfSpec(message.into())
}

/// Where decoding stands in the current page.
struct PageCursor {
    /// The page's validity (None: every value is present).
    validity: Option<Bitmap>,
    rows: usize,
    next_row: usize,
    /// Offset of the next present value within the page's values.
    next_byte: usize,
}

/// An iterator of arrays of `batch_rows` rows (the last may be shorter) over one column
/// chunk, its values made by `V`.
pub(crate) struct PlainBatches<V> {
    pages: Pages,
    page: Option<PageCursor>,
    rows_left: usize,
    batch_rows: usize,
    values: V,
}

impl<V: PlainValues> PlainBatches<V> {
    /// The column chunk `bytes` (described by `meta`, holding `rows` rows), decoded by
    /// `values`.
    pub(crate) fn new(
        meta: &ColumnChunkMetaData,
        bytes: Vec<u8>,
        rows: usize,
        batch_rows: usize,
        values: V,
    ) -> Self {
        let max_page_size = bytes.len() * 2 + 1024;
        let reader = PageReader::new(
            Cursor::new(bytes),
            meta,
            Arc::new(|_, _| true),
            vec![],
            max_page_size,
        );
        PlainBatches {
            pages: BasicDecompressor::new(reader, vec![]),
            page: None,
            rows_left: rows,
            batch_rows: batch_rows.max(1),
            values,
        }
    }

    /// The next batch of `rows` rows.
    fn batch(&mut self, rows: usize) -> Result<Box<dyn Array>> {
        let mut validity: Option<MutableBitmap> = None;
        let mut done = 0;
        let mut started = false;
        let kind = self.values.kind();
        while done < rows {
            if self.page.as_ref().is_none_or(|p| p.next_row == p.rows) {
                self.next_page()?;
            }
            let cursor = self.page.as_mut().expect("next_page sets a page");
            let Some(Page::Data(page)) = self.pages.get() else {
                unreachable!("next_page leaves a data page current")
            };
            let (_, values) = page_values(page, kind)?;
            if !started {
                self.values.start(rows, values.len() / cursor.rows.max(1));
                started = true;
            }
            let take = (rows - done).min(cursor.rows - cursor.next_row);
            let range = cursor.next_row..cursor.next_row + take;
            if let Some(page_validity) = &cursor.validity {
                let batch_validity = validity.get_or_insert_with(|| {
                    let mut v = MutableBitmap::with_capacity(rows);
                    v.extend_constant(done, true);
                    v
                });
                let (slice, offset, _) = page_validity.as_slice();
                batch_validity.extend_from_slice(slice, offset + range.start, take);
            } else if let Some(v) = validity.as_mut() {
                v.extend_constant(take, true);
            }
            cursor.next_byte =
                self.values
                    .copy(values, cursor.next_byte, range, cursor.validity.as_ref())?;
            cursor.next_row += take;
            done += take;
        }
        self.values.finish(validity.map(Into::into))
    }

    /// Advances to the next data page with values and makes it current.
    fn next_page(&mut self) -> Result<()> {
        let kind = self.values.kind();
        loop {
            self.pages
                .advance()
                .map_err(|e| out_of_spec(e.to_string()))?;
            match self.pages.get() {
                None => {
                    return Err(out_of_spec(format!(
                        "a column of {kind} has fewer values than its row group"
                    )))
                }
                Some(Page::Dict(_)) => {
                    return Err(out_of_spec(format!(
                        "a column of {kind} has a dictionary page its metadata does not list"
                    )))
                }
                Some(Page::Data(page)) => {
                    let rows = page.num_values();
                    let (def, _) = page_values(page, kind)?;
                    let validity = if page.descriptor.max_def_level > 0 {
                        page_validity(def, rows, kind)?
                    } else {
                        None
                    };
                    if rows > 0 {
                        self.page = Some(PageCursor {
                            validity,
                            rows,
                            next_row: 0,
                            next_byte: 0,
                        });
                        return Ok(());
                    }
                }
            }
        }
    }
}

impl<V: PlainValues> Iterator for PlainBatches<V> {
    type Item = Result<Box<dyn Array>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rows_left == 0 {
            return None;
        }
        let rows = self.rows_left.min(self.batch_rows);
        let batch = self.batch(rows);
        // After an error the column yields nothing more.
        self.rows_left = if batch.is_ok() {
            self.rows_left - rows
        } else {
            0
        };
        Some(batch)
    }
}

/// The definition levels and values of a data page, after checking it is one this
/// module reads.
fn page_values<'a>(page: &'a DataPage, kind: &str) -> Result<(&'a [u8], &'a [u8])> {
    if page.encoding() != Encoding::Plain {
        return Err(out_of_spec(format!(
            "a page of {kind} is {:?}-encoded, where the column's metadata lists only PLAIN",
            page.encoding()
        )));
    }
    let has_def = page.descriptor.max_def_level > 0;
    match page.header() {
        DataPageHeader::V1(_) if has_def && page.definition_level_encoding() != Encoding::Rle => {
            return Err(out_of_spec(format!(
                "a page of {kind} has definition levels {:?}-encoded (only RLE is read)",
                page.definition_level_encoding()
            )));
        }
        DataPageHeader::V2(header) => {
            // parquet2 slices a v2 page by its header's lengths without checking them.
            let levels = i64::from(header.repetition_levels_byte_length)
                + i64::from(header.definition_levels_byte_length);
            if header.repetition_levels_byte_length < 0
                || header.definition_levels_byte_length < 0
                || levels > page.buffer().len() as i64
            {
                return Err(out_of_spec(format!(
                    "a page of {kind} has level lengths past its end"
                )));
            }
        }
        DataPageHeader::V1(_) => {}
    }
    let (_, def, values) = split_buffer(page).map_err(|e| out_of_spec(e.to_string()))?;
    Ok((def, values))
}

/// The validity of a page of `rows` values from its definition levels (bit width 1);
/// None when every value is present.
fn page_validity(def: &[u8], rows: usize, kind: &str) -> Result<Option<Bitmap>> {
    let mut validity = MutableBitmap::with_capacity(rows);
    for run in Decoder::new(def, 1) {
        let left = rows - validity.len();
        if left == 0 {
            break;
        }
        match run.map_err(|e| out_of_spec(e.to_string()))? {
            HybridEncoded::Bitpacked(bytes) => {
                validity.extend_from_slice(bytes, 0, left.min(bytes.len() * 8));
            }
            HybridEncoded::Rle(value, count) => {
                let level = value.first().copied().unwrap_or(0);
                if level > 1 {
                    return Err(out_of_spec(format!(
                        "a page of {kind} has definition level {level} where the column's maximum is 1"
                    )));
                }
                validity.extend_constant(left.min(count), level == 1);
            }
        }
    }
    if validity.len() < rows {
        return Err(out_of_spec(format!(
            "a page of {kind} has {} definition levels for {rows} values",
            validity.len()
        )));
    }
    let validity: Bitmap = validity.into();
    Ok((validity.unset_bits() > 0).then_some(validity))
}

/// One-column Parquet files for the decoders' tests, and arrow2's reading of them.
#[cfg(test)]
pub(crate) mod test_files {
    use std::io::Cursor;

    use arrow2::array::Array;
    use arrow2::chunk::Chunk;
    use arrow2::datatypes::{Field, Schema};
    use arrow2::io::parquet::read as pq;
    use arrow2::io::parquet::write::{
        CompressionOptions, Encoding, FileWriter, RowGroupIterator, Version, WriteOptions,
    };

    /// How a test file is written.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Layout {
        pub nullable: bool,
        pub version: Version,
        /// About this many bytes a page.
        pub page_bytes: usize,
        pub compression: CompressionOptions,
        pub encoding: Encoding,
    }

    impl Layout {
        /// Plain, Snappy pages of about `page_bytes`.
        pub(crate) fn plain(nullable: bool, version: Version, page_bytes: usize) -> Layout {
            Layout {
                nullable,
                version,
                page_bytes,
                compression: CompressionOptions::Snappy,
                encoding: Encoding::Plain,
            }
        }
    }

    /// A Parquet file of one column `x` holding `array`, written as `layout` says.
    pub(crate) fn one_column(array: Box<dyn Array>, layout: Layout) -> Vec<u8> {
        let field = Field::new("x", array.data_type().clone(), layout.nullable);
        let schema = Schema::from(vec![field]);
        let options = WriteOptions {
            write_statistics: true,
            version: layout.version,
            compression: layout.compression,
            data_pagesize_limit: Some(layout.page_bytes),
        };
        let groups = RowGroupIterator::try_new(
            vec![Ok(Chunk::new(vec![array]))].into_iter(),
            &schema,
            options,
            vec![vec![layout.encoding]],
        )
        .unwrap();
        let mut writer = FileWriter::try_new(Cursor::new(Vec::new()), schema, options).unwrap();
        for group in groups {
            writer.write(group.unwrap()).unwrap();
        }
        writer.end(None).unwrap();
        writer.into_inner().into_inner()
    }

    /// The field, metadata, bytes and rows of the first row group's column `x`.
    pub(crate) fn first_chunk(bytes: &[u8]) -> (Field, pq::ColumnChunkMetaData, Vec<u8>, usize) {
        let mut reader = Cursor::new(bytes);
        let metadata = pq::read_metadata(&mut reader).unwrap();
        let field = pq::infer_schema(&metadata).unwrap().fields.remove(0);
        let rg = &metadata.row_groups[0];
        let mut chunks = pq::read_columns(&mut reader, rg.columns(), "x").unwrap();
        let (meta, chunk) = chunks.pop().unwrap();
        (field, meta.clone(), chunk, rg.num_rows())
    }

    /// The file read by arrow2 in batches of `batch_rows`.
    pub(crate) fn arrow2_batches(bytes: &[u8], batch_rows: usize) -> Vec<Box<dyn Array>> {
        let mut reader = Cursor::new(bytes);
        let metadata = pq::read_metadata(&mut reader).unwrap();
        let schema = pq::infer_schema(&metadata).unwrap();
        pq::FileReader::new(
            reader,
            metadata.row_groups,
            schema,
            Some(batch_rows),
            None,
            None,
        )
        .map(|chunk| chunk.unwrap().into_arrays().remove(0))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_levels_in_rle_and_bit_packed_runs() {
        // 5 present (RLE), 3 null (RLE), then a bit-packed group of 8: 0b1010_0101.
        let def = [5 << 1, 1, 3 << 1, 0, (1 << 1) | 1, 0b1010_0101];
        let validity = page_validity(&def, 16, "text").unwrap().unwrap();
        let bits: Vec<bool> = validity.iter().collect();
        let expected: Vec<bool> = [1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1]
            .iter()
            .map(|&b| b == 1)
            .collect();
        assert_eq!(bits, expected);
        // Runs longer than the page are cut to it; a page with no null has no validity.
        assert_eq!(page_validity(&[60 << 1, 1], 10, "text").unwrap(), None);
        let err = page_validity(&[4 << 1, 2], 4, "text")
            .unwrap_err()
            .to_string();
        assert!(err.contains("page of text has definition level 2"), "{err}");
        let err = page_validity(&[4 << 1, 1], 6, "INT64 values")
            .unwrap_err()
            .to_string();
        assert!(err.contains("4 definition levels for 6 values"), "{err}");
    }
}
