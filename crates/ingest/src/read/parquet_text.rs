//! Flat, plain-encoded UTF-8 columns of Parquet, decoded straight into Arrow's offsets and
//! bytes. This is the layout of every text column a writer leaves without a dictionary
//! (Spark with dictionary encoding off, DuckDB and Arrow on high-cardinality text, our
//! generator), and arrow2's generic decoder spends more time on it than the Snappy pages
//! cost: each value goes through a fallible push whose error is built and dropped. Here
//! the values are copied in one loop and UTF-8 is checked once per batch; the pages and
//! levels are walked by [`super::parquet_plain`].

use arrow2::array::{Array, Utf8Array};
use arrow2::bitmap::Bitmap;
use arrow2::datatypes::{DataType, Field};
use arrow2::error::Result;
use arrow2::offset::OffsetsBuffer;
use parquet2::metadata::ColumnChunkMetaData;
use parquet2::schema::types::PhysicalType;

use super::parquet_plain::{flat_plain, out_of_spec, PlainBatches, PlainValues};

/// Whether the column chunk `meta` of `field` is one this module decodes: a flat, plain
/// BYTE_ARRAY column ([`flat_plain`]) read as UTF-8.
pub(crate) fn applies(meta: &ColumnChunkMetaData, field: &Field) -> bool {
    field.data_type() == &DataType::Utf8 && flat_plain(meta, PhysicalType::ByteArray)
}

/// The column chunk `bytes` (described by `meta`, holding `rows` rows) as UTF-8 arrays of
/// `batch_rows` rows each (the last may be shorter).
pub(crate) fn plain_text_batches(
    meta: &ColumnChunkMetaData,
    bytes: Vec<u8>,
    rows: usize,
    batch_rows: usize,
) -> PlainBatches<TextValues> {
    PlainBatches::new(meta, bytes, rows, batch_rows, TextValues::default())
}

/// The width of the word a short value is copied in.
const SHORT: usize = 16;

/// A batch of text values being built: Arrow's offsets and bytes.
#[derive(Default)]
pub(crate) struct TextValues {
    offsets: Vec<i32>,
    bytes: Vec<u8>,
}

impl PlainValues for TextValues {
    fn kind(&self) -> &'static str {
        "text"
    }

    fn start(&mut self, rows: usize, bytes_per_row: usize) {
        self.offsets = Vec::with_capacity(rows + 1);
        self.offsets.push(0);
        // A guess from the page's bytes per row, so a batch rarely reallocates.
        self.bytes = Vec::with_capacity(bytes_per_row * rows + 64);
    }

    fn copy(
        &mut self,
        values: &[u8],
        mut pos: usize,
        rows: std::ops::Range<usize>,
        validity: Option<&Bitmap>,
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
                let value = values.get(start..end).ok_or_else(truncated)?;
                match values.get(start..start + SHORT) {
                    // A short value is copied as a whole word of the page and the tail cut
                    // off: one fixed-size move instead of a call to copy a few bytes.
                    Some(word) if value.len() <= SHORT => {
                        let at = self.bytes.len();
                        self.bytes.extend_from_slice(
                            <&[u8; SHORT]>::try_from(word).expect("SHORT bytes"),
                        );
                        self.bytes.truncate(at + value.len());
                    }
                    _ => self.bytes.extend_from_slice(value),
                }
                pos = end;
            }
            // Checked once per batch: the values of one batch stay far below 2 GiB.
            self.offsets.push(self.bytes.len() as i32);
        }
        Ok(pos)
    }

    fn finish(&mut self, validity: Option<Bitmap>) -> Result<Box<dyn Array>> {
        let (offsets, bytes) = (
            std::mem::take(&mut self.offsets),
            std::mem::take(&mut self.bytes),
        );
        if i32::try_from(bytes.len()).is_err() {
            return Err(out_of_spec("a batch of text values exceeds 2 GiB"));
        }
        let offsets = OffsetsBuffer::try_from(offsets)?;
        let array = Utf8Array::<i32>::try_new(DataType::Utf8, offsets, bytes.into(), validity)?;
        Ok(array.boxed())
    }
}

#[cfg(test)]
mod tests {
    use arrow2::io::parquet::write::{CompressionOptions, Version};
    use proptest::prelude::*;

    use super::super::parquet_plain::test_files::{
        arrow2_batches, first_chunk, one_column, Layout,
    };
    use super::*;

    /// A one-column Parquet file of `values`, plain-encoded, in pages of about `page_bytes`.
    fn file(
        values: &[Option<String>],
        nullable: bool,
        version: Version,
        page_bytes: usize,
    ) -> Vec<u8> {
        let array = Utf8Array::<i32>::from(values).boxed();
        one_column(array, Layout::plain(nullable, version, page_bytes))
    }

    /// The file's first row group through this module, in batches of `batch_rows`.
    fn decode(bytes: &[u8], batch_rows: usize) -> Result<Vec<Box<dyn Array>>> {
        let (field, meta, chunk, rows) = first_chunk(bytes);
        assert!(
            applies(&meta, &field),
            "a plain text column is decoded here"
        );
        plain_text_batches(&meta, chunk, rows, batch_rows).collect()
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
        let array = Utf8Array::<i32>::from(&values).boxed();
        let mut layout = Layout::plain(true, Version::V1, 1 << 20);
        layout.compression = CompressionOptions::Uncompressed;
        let good = one_column(array, layout);
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
            let theirs = arrow2_batches(&bytes, batch_rows);

            prop_assert_eq!(ours.len(), theirs.len());
            for (a, b) in ours.iter().zip(&theirs) {
                prop_assert_eq!(a.as_ref(), b.as_ref());
            }
            prop_assert_eq!(texts(&ours), values);
        }
    }
}
