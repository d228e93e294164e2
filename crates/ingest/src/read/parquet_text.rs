//! Flat, plain-encoded UTF-8 columns of Parquet, decoded straight into Arrow's offsets and
//! bytes. This is the layout of every text column a writer leaves without a dictionary
//! (Spark with dictionary encoding off, DuckDB and Arrow on high-cardinality text, our
//! generator), and arrow2's generic decoder spends more time on it than the Snappy pages
//! cost: each value goes through a fallible push whose error is built and dropped. Here a
//! page's definition levels become a bitmap in a few runs, the values are copied in one
//! loop, and UTF-8 is checked once per batch. Any other layout (dictionary pages, other
//! encodings, nested or repeated columns) is left to arrow2 — see [`applies`].

use std::io::Cursor;
use std::sync::Arc;

use arrow2::array::{Array, Utf8Array};
use arrow2::bitmap::{Bitmap, MutableBitmap};
use arrow2::datatypes::{DataType, Field};
use arrow2::error::{Error, Result};
use arrow2::offset::OffsetsBuffer;
use parquet2::encoding::hybrid_rle::{Decoder, HybridEncoded};
use parquet2::encoding::Encoding;
use parquet2::metadata::ColumnChunkMetaData;
use parquet2::page::{split_buffer, DataPage, DataPageHeader, Page};
use parquet2::read::{BasicDecompressor, PageReader};
use parquet2::schema::types::PhysicalType;
use parquet2::FallibleStreamingIterator;

type Pages = BasicDecompressor<PageReader<Cursor<Vec<u8>>>>;

/// Whether the column chunk `meta` of `field` is one this module decodes: a top-level,
/// non-repeated BYTE_ARRAY column read as UTF-8, whose chunk uses no encoding but PLAIN for
/// values (and RLE or bit-packing for levels) and has no dictionary page.
pub(crate) fn applies(meta: &ColumnChunkMetaData, field: &Field) -> bool {
    let descriptor = &meta.descriptor().descriptor;
    field.data_type() == &DataType::Utf8
        && meta.descriptor().path_in_schema.len() == 1
        && descriptor.primitive_type.physical_type == PhysicalType::ByteArray
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

/// The column chunk `bytes` (described by `meta`, holding `rows` rows) as UTF-8 arrays of
/// `batch_rows` rows each (the last may be shorter).
pub(crate) fn plain_text_batches(
    meta: &ColumnChunkMetaData,
    bytes: Vec<u8>,
    rows: usize,
    batch_rows: usize,
) -> PlainTextBatches {
    let max_page_size = bytes.len() * 2 + 1024;
    let reader = PageReader::new(
        Cursor::new(bytes),
        meta,
        Arc::new(|_, _| true),
        vec![],
        max_page_size,
    );
    PlainTextBatches {
        pages: BasicDecompressor::new(reader, vec![]),
        page: None,
        rows_left: rows,
        batch_rows: batch_rows.max(1),
    }
}

/// Where decoding stands in the current page.
struct PageCursor {
    /// The page's validity (None: every value is present).
    validity: Option<Bitmap>,
    rows: usize,
    next_row: usize,
    /// Offset of the next value's length prefix within the page's values.
    next_byte: usize,
}

/// An iterator of UTF-8 arrays over one column chunk (see [`plain_text_batches`]).
pub(crate) struct PlainTextBatches {
    pages: Pages,
    page: Option<PageCursor>,
    rows_left: usize,
    batch_rows: usize,
}

fn out_of_spec(message: impl Into<String>) -> Error {
    Error::OutOfSpec(message.into())
}

/// The values part of a data page, after checking it is one this module reads.
fn page_values(page: &DataPage) -> Result<(&[u8], &[u8])> {
    if page.encoding() != Encoding::Plain {
        return Err(out_of_spec(format!(
            "a text page is {:?}-encoded, where the column's metadata lists only PLAIN",
            page.encoding()
        )));
    }
    let has_def = page.descriptor.max_def_level > 0;
    match page.header() {
        DataPageHeader::V1(_) if has_def && page.definition_level_encoding() != Encoding::Rle => {
            return Err(out_of_spec(format!(
                "a text page's definition levels are {:?}-encoded (only RLE is read)",
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
                return Err(out_of_spec(
                    "a text page's level lengths exceed the page".to_string(),
                ));
            }
        }
        DataPageHeader::V1(_) => {}
    }
    let (_, def, values) = split_buffer(page).map_err(|e| out_of_spec(e.to_string()))?;
    Ok((def, values))
}

/// The validity of a page of `rows` values from its definition levels (bit width 1);
/// None when every value is present.
fn page_validity(def: &[u8], rows: usize) -> Result<Option<Bitmap>> {
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
                        "a text page has definition level {level} where the column's maximum is 1"
                    )));
                }
                validity.extend_constant(left.min(count), level == 1);
            }
        }
    }
    if validity.len() < rows {
        return Err(out_of_spec(format!(
            "a text page has {} definition levels for {rows} values",
            validity.len()
        )));
    }
    let validity: Bitmap = validity.into();
    Ok((validity.unset_bits() > 0).then_some(validity))
}

/// Copies the plain values of rows `rows` (of which those with a clear bit in `validity`
/// are null) from `values`, starting at byte `pos`; returns the byte after the last one.
fn copy_values(
    values: &[u8],
    mut pos: usize,
    rows: std::ops::Range<usize>,
    validity: Option<&Bitmap>,
    offsets: &mut Vec<i32>,
    bytes: &mut Vec<u8>,
) -> Result<usize> {
    let truncated = || out_of_spec("a text value runs past the end of its page");
    for row in rows {
        if validity.is_none_or(|v| v.get_bit(row)) {
            let prefix: [u8; 4] = values
                .get(pos..pos + 4)
                .and_then(|p| p.try_into().ok())
                .ok_or_else(truncated)?;
            let start = pos + 4;
            let end = start + u32::from_le_bytes(prefix) as usize;
            bytes.extend_from_slice(values.get(start..end).ok_or_else(truncated)?);
            pos = end;
        }
        // Checked once per batch: the values of one batch stay far below 2 GiB.
        offsets.push(bytes.len() as i32);
    }
    Ok(pos)
}

impl PlainTextBatches {
    /// The next batch of `rows` rows.
    fn batch(&mut self, rows: usize) -> Result<Box<dyn Array>> {
        let mut offsets: Vec<i32> = Vec::with_capacity(rows + 1);
        offsets.push(0);
        let mut bytes: Vec<u8> = Vec::new();
        let mut validity: Option<MutableBitmap> = None;
        let mut done = 0;
        while done < rows {
            if self.page.as_ref().is_none_or(|p| p.next_row == p.rows) {
                self.next_page()?;
            }
            let cursor = self.page.as_mut().expect("next_page sets a page");
            let Some(Page::Data(page)) = self.pages.get() else {
                unreachable!("next_page leaves a data page current")
            };
            let (_, values) = page_values(page)?;
            let take = (rows - done).min(cursor.rows - cursor.next_row);
            let range = cursor.next_row..cursor.next_row + take;
            if bytes.capacity() == 0 {
                // A guess from this page's bytes per row, so a batch rarely reallocates.
                let per_row = values.len() / cursor.rows.max(1);
                bytes.reserve(per_row * rows + 64);
            }
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
            cursor.next_byte = copy_values(
                values,
                cursor.next_byte,
                range,
                cursor.validity.as_ref(),
                &mut offsets,
                &mut bytes,
            )?;
            cursor.next_row += take;
            done += take;
        }
        if i32::try_from(bytes.len()).is_err() {
            return Err(out_of_spec(
                "a batch of text values exceeds 2 GiB".to_string(),
            ));
        }
        let offsets = OffsetsBuffer::try_from(offsets)?;
        let array = Utf8Array::<i32>::try_new(
            DataType::Utf8,
            offsets,
            bytes.into(),
            validity.map(Into::into),
        )?;
        Ok(array.boxed())
    }

    /// Advances to the next data page with values and makes it current.
    fn next_page(&mut self) -> Result<()> {
        loop {
            self.pages
                .advance()
                .map_err(|e| out_of_spec(e.to_string()))?;
            match self.pages.get() {
                None => {
                    return Err(out_of_spec(
                        "a text column has fewer values than its row group",
                    ))
                }
                Some(Page::Dict(_)) => {
                    return Err(out_of_spec(
                        "a text column has a dictionary page its metadata does not list",
                    ))
                }
                Some(Page::Data(page)) => {
                    let rows = page.num_values();
                    let (def, _) = page_values(page)?;
                    let validity = if page.descriptor.max_def_level > 0 {
                        page_validity(def, rows)?
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

impl Iterator for PlainTextBatches {
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

#[cfg(test)]
mod tests {
    use arrow2::chunk::Chunk;
    use arrow2::datatypes::Schema;
    use arrow2::io::parquet::read as pq;
    use arrow2::io::parquet::write::{
        CompressionOptions, Encoding as WriteEncoding, FileWriter, RowGroupIterator, Version,
        WriteOptions,
    };
    use proptest::prelude::*;

    use super::*;

    /// A one-column Parquet file of `values`, plain-encoded, in pages of about `page_bytes`.
    fn file(
        values: &[Option<String>],
        nullable: bool,
        version: Version,
        page_bytes: usize,
    ) -> Vec<u8> {
        file_with(
            values,
            nullable,
            version,
            page_bytes,
            CompressionOptions::Snappy,
        )
    }

    fn file_with(
        values: &[Option<String>],
        nullable: bool,
        version: Version,
        page_bytes: usize,
        compression: CompressionOptions,
    ) -> Vec<u8> {
        let schema = Schema::from(vec![Field::new("text", DataType::Utf8, nullable)]);
        let options = WriteOptions {
            write_statistics: true,
            version,
            compression,
            data_pagesize_limit: Some(page_bytes),
        };
        let array = Utf8Array::<i32>::from(values).boxed();
        let groups = RowGroupIterator::try_new(
            vec![Ok(Chunk::new(vec![array]))].into_iter(),
            &schema,
            options,
            vec![vec![WriteEncoding::Plain]],
        )
        .unwrap();
        let mut writer = FileWriter::try_new(Cursor::new(Vec::new()), schema, options).unwrap();
        for group in groups {
            writer.write(group.unwrap()).unwrap();
        }
        writer.end(None).unwrap();
        writer.into_inner().into_inner()
    }

    /// The file's first row group through this module, in batches of `batch_rows`.
    fn decode(bytes: &[u8], batch_rows: usize) -> Result<Vec<Box<dyn Array>>> {
        let mut reader = Cursor::new(bytes);
        let metadata = pq::read_metadata(&mut reader)?;
        let field = pq::infer_schema(&metadata)?.fields.remove(0);
        let rg = &metadata.row_groups[0];
        let mut chunks = pq::read_columns(&mut reader, rg.columns(), "text")?;
        let (meta, chunk) = chunks.pop().unwrap();
        assert!(applies(meta, &field), "a plain text column is decoded here");
        plain_text_batches(meta, chunk, rg.num_rows(), batch_rows).collect()
    }

    fn texts(arrays: &[Box<dyn Array>]) -> Vec<Option<String>> {
        arrays
            .iter()
            .flat_map(|a| {
                let a = a.as_any().downcast_ref::<Utf8Array<i32>>().unwrap();
                a.iter().map(|v| v.map(str::to_string)).collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn reads_nulls_empty_and_multibyte_texts_across_pages_and_batches() {
        let values: Vec<Option<String>> = (0..5000)
            .map(|i| match i % 7 {
                0 => None,
                1 => Some(String::new()),
                2 => Some(format!("Łódź {i} — 東京")),
                _ => Some(format!("Courier Android {i}")),
            })
            .collect();
        for version in [Version::V1, Version::V2] {
            let bytes = file(&values, true, version, 1024);
            let arrays = decode(&bytes, 333).unwrap();
            assert_eq!(arrays.len(), 16, "5000 rows in batches of 333");
            assert!(arrays[..15].iter().all(|a| a.len() == 333));
            assert_eq!(texts(&arrays), values);
        }
    }

    #[test]
    fn a_batch_without_nulls_has_no_validity() {
        let values: Vec<Option<String>> = (0..100).map(|i| Some(i.to_string())).collect();
        let arrays = decode(&file(&values, true, Version::V1, 1 << 20), 64).unwrap();
        assert!(arrays.iter().all(|a| a.validity().is_none()));
        let required = decode(&file(&values, false, Version::V2, 100), 64).unwrap();
        assert_eq!(texts(&required), values);
    }

    #[test]
    fn invalid_utf8_and_truncated_pages_are_errors() {
        let values: Vec<Option<String>> = (0..50).map(|i| Some(format!("ü{i:04}"))).collect();
        let good = file_with(
            &values,
            true,
            Version::V1,
            1 << 20,
            CompressionOptions::Uncompressed,
        );
        // A value in the middle: the statistics hold only the first and the last.
        let at = good
            .windows(6)
            .position(|w| w == "ü0025".as_bytes())
            .unwrap();
        let mut bad = good.clone();
        bad[at] = 0xFF;
        let err = decode(&bad, 64).unwrap_err().to_string();
        assert!(err.contains("utf-8") || err.contains("utf8"), "{err}");
        // A length prefix that points past the page.
        let mut long = good;
        let prefix = long
            .windows(10)
            .position(|w| w == b"\x06\0\0\0\xC3\xBC0025")
            .unwrap();
        long[prefix + 1] = 0x7F;
        let err = decode(&long, 64).unwrap_err().to_string();
        assert!(err.contains("runs past the end of its page"), "{err}");
    }

    #[test]
    fn definition_levels_in_rle_and_bit_packed_runs() {
        // 5 present (RLE), 3 null (RLE), then a bit-packed group of 8: 0b1010_0101.
        let def = [5 << 1, 1, 3 << 1, 0, (1 << 1) | 1, 0b1010_0101];
        let validity = page_validity(&def, 16).unwrap().unwrap();
        let bits: Vec<bool> = validity.iter().collect();
        let expected: Vec<bool> = [1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1]
            .iter()
            .map(|&b| b == 1)
            .collect();
        assert_eq!(bits, expected);
        // Runs longer than the page are cut to it; a page with no null has no validity.
        assert_eq!(page_validity(&[60 << 1, 1], 10).unwrap(), None);
        let err = page_validity(&[4 << 1, 2], 4).unwrap_err().to_string();
        assert!(err.contains("definition level 2"), "{err}");
        let err = page_validity(&[4 << 1, 1], 6).unwrap_err().to_string();
        assert!(err.contains("4 definition levels for 6 values"), "{err}");
    }

    proptest! {
        #[test]
        fn agrees_with_arrow2(
            values in proptest::collection::vec(proptest::option::of(".{0,12}"), 1..400),
            nullable in any::<bool>(),
            v2 in any::<bool>(),
            page_bytes in 64usize..4096,
            batch_rows in 1usize..200,
        ) {
            let values: Vec<Option<String>> = if nullable {
                values
            } else {
                values.into_iter().map(|v| Some(v.unwrap_or_default())).collect()
            };
            let version = if v2 { Version::V2 } else { Version::V1 };
            let bytes = file(&values, nullable, version, page_bytes);
            let ours = decode(&bytes, batch_rows).unwrap();
            let mut reader = Cursor::new(&bytes);
            let metadata = pq::read_metadata(&mut reader).unwrap();
            let schema = pq::infer_schema(&metadata).unwrap();
            let theirs: Vec<Box<dyn Array>> = pq::FileReader::new(
                reader, metadata.row_groups, schema, Some(batch_rows), None, None,
            )
            .map(|chunk| chunk.unwrap().into_arrays().remove(0))
            .collect();
            prop_assert_eq!(ours.len(), theirs.len());
            for (a, b) in ours.iter().zip(&theirs) {
                prop_assert_eq!(a.as_ref(), b.as_ref());
            }
            prop_assert_eq!(texts(&ours), values);
        }
    }
}
