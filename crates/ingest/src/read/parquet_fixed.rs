//! Flat, plain-encoded fixed-width Parquet columns (INT32, INT64, FLOAT, DOUBLE) read as
//! the Arrow type whose values are the stored ones unchanged: integers, dates, timestamps
//! in their stored unit, floats. Ids, counts, times and amounts that a writer leaves
//! without a dictionary (Spark and DuckDB on high-cardinality columns, our generator) are
//! this layout. A page's values are copied in one loop per span; the pages and levels are
//! walked by [`super::parquet_plain`]. Any value that arrow2 would convert on the way
//! (an unsigned or narrower integer, a timestamp of another unit) is left to arrow2.

use arrow2::array::{Array, PrimitiveArray};
use arrow2::bitmap::utils::count_zeros;
use arrow2::bitmap::Bitmap;
use arrow2::datatypes::{DataType, Field, TimeUnit};
use arrow2::error::Result;
use arrow2::types::NativeType;
use parquet2::metadata::ColumnChunkMetaData;
use parquet2::schema::types::{PhysicalType, PrimitiveLogicalType, TimeUnit as ParquetUnit};

use super::parquet_plain::{flat_plain, out_of_spec, PlainBatches, PlainValues};

/// The physical type of `field`'s values when column chunk `meta` is one this module
/// decodes: a flat, plain column ([`flat_plain`]) whose stored values are the field's.
fn physical_of(meta: &ColumnChunkMetaData, field: &Field) -> Option<PhysicalType> {
    let physical = match field.data_type() {
        DataType::Int64 => PhysicalType::Int64,
        DataType::Timestamp(unit, _) if stored_unit_is(meta, *unit) => PhysicalType::Int64,
        DataType::Int32 | DataType::Date32 => PhysicalType::Int32,
        DataType::Float64 => PhysicalType::Double,
        DataType::Float32 => PhysicalType::Float,
        _ => return None,
    };
    flat_plain(meta, physical).then_some(physical)
}

/// Whether this module decodes column chunk `meta` of `field`.
pub(crate) fn applies(meta: &ColumnChunkMetaData, field: &Field) -> bool {
    physical_of(meta, field).is_some()
}

/// The column chunk `bytes` (described by `meta`, of `field`, holding `rows` rows) as
/// arrays of `batch_rows` rows each (the last may be shorter); `meta` is one this module
/// [`applies`] to.
pub(crate) fn plain_fixed_batches(
    meta: &ColumnChunkMetaData,
    field: &Field,
    bytes: Vec<u8>,
    rows: usize,
    batch_rows: usize,
) -> arrow2::io::parquet::read::ArrayIter<'static> {
    let data_type = field.data_type().clone();
    match physical_of(meta, field) {
        Some(PhysicalType::Int64) => {
            batches::<i64>(meta, bytes, rows, batch_rows, data_type, "INT64 values")
        }
        Some(PhysicalType::Int32) => {
            batches::<i32>(meta, bytes, rows, batch_rows, data_type, "INT32 values")
        }
        Some(PhysicalType::Double) => {
            batches::<f64>(meta, bytes, rows, batch_rows, data_type, "DOUBLE values")
        }
        Some(PhysicalType::Float) => {
            batches::<f32>(meta, bytes, rows, batch_rows, data_type, "FLOAT values")
        }
        _ => unreachable!("plain_fixed_batches is called where `applies` holds"),
    }
}

fn batches<T: NativeType>(
    meta: &ColumnChunkMetaData,
    bytes: Vec<u8>,
    rows: usize,
    batch_rows: usize,
    data_type: DataType,
    kind: &'static str,
) -> arrow2::io::parquet::read::ArrayIter<'static> {
    let values = FixedValues::<T> {
        values: Vec::new(),
        data_type,
        kind,
    };
    Box::new(PlainBatches::new(meta, bytes, rows, batch_rows, values))
}

/// Whether arrow2 reads the chunk's INT64 values as timestamps of `unit` unchanged: the
/// column names no unit, or this one.
fn stored_unit_is(meta: &ColumnChunkMetaData, unit: TimeUnit) -> bool {
    match meta.descriptor().descriptor.primitive_type.logical_type {
        Some(PrimitiveLogicalType::Timestamp { unit: stored, .. }) => matches!(
            (stored, unit),
            (ParquetUnit::Milliseconds, TimeUnit::Millisecond)
                | (ParquetUnit::Microseconds, TimeUnit::Microsecond)
                | (ParquetUnit::Nanoseconds, TimeUnit::Nanosecond)
        ),
        _ => true,
    }
}

/// A batch of fixed-width values being built.
struct FixedValues<T> {
    values: Vec<T>,
    data_type: DataType,
    kind: &'static str,
}

impl<T: NativeType> FixedValues<T> {
    fn truncated(&self) -> arrow2::error::Error {
        out_of_spec(format!(
            "a page of {} holds fewer values than its levels say",
            self.kind
        ))
    }
}

impl<T: NativeType> PlainValues for FixedValues<T> {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn start(&mut self, rows: usize, _bytes_per_row: usize) {
        self.values = Vec::with_capacity(rows);
    }

    fn copy(
        &mut self,
        values: &[u8],
        pos: usize,
        rows: std::ops::Range<usize>,
        validity: Option<&Bitmap>,
    ) -> Result<usize> {
        let width = std::mem::size_of::<T>();
        let value = |bytes: &[u8]| {
            T::from_le_bytes(bytes.try_into().unwrap_or_else(|_| unreachable!("width")))
        };
        match validity {
            None => {
                let end = pos + rows.len() * width;
                let span = values.get(pos..end).ok_or_else(|| self.truncated())?;
                self.values.extend(span.chunks_exact(width).map(value));
                Ok(end)
            }
            Some(validity) => {
                let (bits, offset, _) = validity.as_slice();
                let present = rows.len() - count_zeros(bits, offset + rows.start, rows.len());
                let end = pos + present * width;
                let span = values.get(pos..end).ok_or_else(|| self.truncated())?;
                let mut next = span.chunks_exact(width).map(value);
                for row in rows {
                    let v = if validity.get_bit(row) {
                        next.next().unwrap_or_default()
                    } else {
                        T::default()
                    };
                    self.values.push(v);
                }
                Ok(end)
            }
        }
    }

    fn finish(&mut self, validity: Option<Bitmap>) -> Result<Box<dyn Array>> {
        let values = std::mem::take(&mut self.values);
        let array = PrimitiveArray::<T>::try_new(self.data_type.clone(), values.into(), validity)?;
        Ok(array.boxed())
    }
}

#[cfg(test)]
mod tests {
    use arrow2::array::{Array, PrimitiveArray};
    use arrow2::datatypes::{DataType, TimeUnit};
    use arrow2::io::parquet::write::{CompressionOptions, Encoding, Version};
    use proptest::prelude::*;

    use super::super::parquet_plain::test_files::{
        arrow2_batches, first_chunk, one_column, Layout,
    };

    /// A one-column Parquet file of `array`, in Snappy pages of about `page_bytes`.
    fn file(
        array: Box<dyn Array>,
        nullable: bool,
        version: Version,
        page_bytes: usize,
        encoding: Encoding,
    ) -> Vec<u8> {
        let mut layout = Layout::plain(nullable, version, page_bytes);
        layout.encoding = encoding;
        one_column(array, layout)
    }

    /// The file's first row group through this module (None where it does not apply),
    /// in batches of `batch_rows`.
    fn decode(
        bytes: &[u8],
        batch_rows: usize,
    ) -> Option<arrow2::error::Result<Vec<Box<dyn Array>>>> {
        let (field, meta, chunk, rows) = first_chunk(bytes);
        super::applies(&meta, &field)
            .then(|| super::plain_fixed_batches(&meta, &field, chunk, rows, batch_rows).collect())
    }

    #[test]
    fn reads_every_fixed_width_type_with_nulls_across_pages_and_batches() {
        let ints: Vec<Option<i64>> = (0..5000i64)
            .map(|i| (i % 7 != 0).then_some(i * 1_000_003 - (1 << 40)))
            .collect();
        let arrays: Vec<Box<dyn Array>> = vec![
            PrimitiveArray::<i64>::from(ints.clone()).boxed(),
            PrimitiveArray::<i64>::from(ints.clone())
                .to(DataType::Timestamp(
                    TimeUnit::Microsecond,
                    Some("+00:00".into()),
                ))
                .boxed(),
            PrimitiveArray::<i32>::from(
                ints.iter().map(|v| v.map(|v| v as i32)).collect::<Vec<_>>(),
            )
            .boxed(),
            PrimitiveArray::<i32>::from(
                ints.iter()
                    .map(|v| v.map(|v| (v % 40_000) as i32))
                    .collect::<Vec<_>>(),
            )
            .to(DataType::Date32)
            .boxed(),
            PrimitiveArray::<f64>::from(
                ints.iter()
                    .map(|v| v.map(|v| v as f64 / 3.0))
                    .collect::<Vec<_>>(),
            )
            .boxed(),
            PrimitiveArray::<f32>::from(
                ints.iter()
                    .map(|v| v.map(|v| v as f32 / 7.0))
                    .collect::<Vec<_>>(),
            )
            .boxed(),
        ];
        for array in arrays {
            for version in [Version::V1, Version::V2] {
                let bytes = file(array.clone(), true, version, 1024, Encoding::Plain);
                let ours = decode(&bytes, 333)
                    .expect("a plain column applies")
                    .unwrap();
                assert_eq!(ours.len(), 16, "5000 rows in batches of 333");
                assert!(ours[..15].iter().all(|a| a.len() == 333));
                let whole = arrow2::compute::concatenate::concatenate(
                    &ours.iter().map(AsRef::as_ref).collect::<Vec<_>>(),
                )
                .unwrap();
                assert_eq!(whole.as_ref(), array.as_ref(), "{:?}", array.data_type());
            }
        }
    }

    #[test]
    fn other_layouts_and_converted_values_are_left_to_arrow2() {
        let values = PrimitiveArray::<i64>::from_vec((0..100).collect()).boxed();
        let delta = file(
            values.clone(),
            true,
            Version::V2,
            1 << 20,
            Encoding::DeltaBinaryPacked,
        );
        assert!(decode(&delta, 64).is_none(), "delta pages");
        let unsigned = PrimitiveArray::<u64>::from_vec((0..100).collect()).boxed();
        let unsigned = file(unsigned, true, Version::V1, 1 << 20, Encoding::Plain);
        assert!(decode(&unsigned, 64).is_none(), "u64 is stored converted");
        let plain = file(values, false, Version::V1, 1 << 20, Encoding::Plain);
        let ours = decode(&plain, 64).unwrap().unwrap();
        assert!(
            ours.iter().all(|a| a.validity().is_none()),
            "a required column has no validity"
        );
    }

    #[test]
    fn a_page_shorter_than_its_levels_is_an_error() {
        let values = PrimitiveArray::<i64>::from_vec((0..50).map(|i| i * 0x0101_0101).collect());
        let mut layout = Layout::plain(false, Version::V1, 1 << 20);
        layout.compression = CompressionOptions::Uncompressed;
        let bytes = one_column(values.boxed(), layout);
        // Claim 60 values in the page header where it holds 50: the header's num_values
        // (field 2 of the data page header, a zigzag varint: 50 → 100).
        let (field, meta, chunk, _) = first_chunk(&bytes);
        let at = chunk
            .windows(2)
            .position(|w| w == [0x15, 100])
            .expect("num_values 50");
        let mut long = chunk.clone();
        long[at + 1] = 120;
        let err = super::plain_fixed_batches(&meta, &field, long, 60, 64)
            .collect::<arrow2::error::Result<Vec<_>>>()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("page of INT64 values holds fewer values than its levels say"),
            "{err}"
        );
    }

    proptest! {
        #[test]
        fn agrees_with_arrow2(
            values in proptest::collection::vec(proptest::option::of(any::<i64>()), 1..400),
            nullable in any::<bool>(),
            v2 in any::<bool>(),
            float in any::<bool>(),
            page_bytes in 64usize..4096,
            batch_rows in 1usize..200,
        ) {
            let values: Vec<Option<i64>> = if nullable {
                values
            } else {
                values.into_iter().map(|v| Some(v.unwrap_or_default())).collect()
            };
            let array = if float {
                PrimitiveArray::<f64>::from(values.iter().map(|v| v.map(|b| f64::from_bits(b as u64))).collect::<Vec<_>>()).boxed()
            } else {
                PrimitiveArray::<i64>::from(values).boxed()
            };
            let version = if v2 { Version::V2 } else { Version::V1 };
            let bytes = file(array, nullable, version, page_bytes, Encoding::Plain);
            let ours = decode(&bytes, batch_rows).expect("a plain column applies").unwrap();
            let theirs = arrow2_batches(&bytes, batch_rows);
            prop_assert_eq!(ours.len(), theirs.len());
            for (a, b) in ours.iter().zip(&theirs) {
                // Floats compare by bits: NaN payloads are values too.
                if float {
                    let bits = |x: &dyn Array| -> Vec<Option<u64>> {
                        x.as_any().downcast_ref::<PrimitiveArray<f64>>().unwrap().iter().map(|v| v.map(|f| f.to_bits())).collect()
                    };
                    prop_assert_eq!(bits(a.as_ref()), bits(b.as_ref()));
                } else {
                    prop_assert_eq!(a.as_ref(), b.as_ref());
                }
            }
        }
    }
}
