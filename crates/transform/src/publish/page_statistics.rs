//! The statistics (null count, minimum, maximum) of the output's data pages, computed by
//! ccc and set in the pages arrow2 encoded without them. arrow2 finds the bounds of a
//! 64-bit column value by value through an iterator of options, which cost more than the
//! encoding itself; arrow2's aggregate kernels find the same bounds a vector at a time.
//! For a dictionary-encoded text column, the bounds are those of its dictionary (every
//! value in it is used) and the null count is the rows'.

use arrow2::array::{Array, PrimitiveArray, Utf8Array};
use arrow2::compute::aggregate::{max_primitive, min_primitive};
use arrow2::io::parquet::write::Page;
use parquet2::page::{DataPage, DataPageHeader};
use parquet2::schema::types::PrimitiveType;
use parquet2::statistics::{
    serialize_statistics, BinaryStatistics, ParquetStatistics, PrimitiveStatistics,
};

/// The statistics of a 64-bit integer (or timestamp) page, as arrow2 would write them.
pub(crate) fn int64_statistics(
    page: &PrimitiveArray<i64>,
    primitive_type: PrimitiveType,
) -> ParquetStatistics {
    serialize_statistics(&PrimitiveStatistics::<i64> {
        primitive_type,
        null_count: Some(page.null_count() as i64),
        distinct_count: None,
        min_value: min_primitive(page),
        max_value: max_primitive(page),
    })
}

/// The statistics of a text page of `null_count` nulls whose other rows take exactly the
/// values `used`, ordered as bytes.
pub(crate) fn text_statistics(
    used: &Utf8Array<i32>,
    null_count: usize,
    primitive_type: PrimitiveType,
) -> ParquetStatistics {
    let bytes = || used.values_iter().map(str::as_bytes);
    serialize_statistics(&BinaryStatistics {
        primitive_type,
        null_count: Some(null_count as i64),
        distinct_count: None,
        max_value: bytes().max().map(<[u8]>::to_vec),
        min_value: bytes().min().map(<[u8]>::to_vec),
    })
}

/// The data page with `statistics` in its header; any other page as it is.
pub(crate) fn with_statistics(page: Page, statistics: ParquetStatistics) -> Page {
    let Page::Data(mut data) = page else {
        return page;
    };
    let header = match data.header().clone() {
        DataPageHeader::V1(mut h) => {
            h.statistics = Some(statistics);
            DataPageHeader::V1(h)
        }
        DataPageHeader::V2(mut h) => {
            h.statistics = Some(statistics);
            DataPageHeader::V2(h)
        }
    };
    let rows = data
        .selected_rows()
        .map(|intervals| intervals.iter().map(|i| i.length).sum());
    let buffer = std::mem::take(data.buffer_mut());
    Page::Data(DataPage::new(header, buffer, data.descriptor.clone(), rows))
}
