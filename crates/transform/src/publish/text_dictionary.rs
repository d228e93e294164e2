//! A text column as a dictionary of its distinct values, for Parquet's dictionary pages.
//! The output's text columns (city, role, stage) repeat a handful of values over every
//! row; written plain, their bytes were a third of a part's and most of its compression
//! time. Readers see the same strings: the file's schema still says text.

use arrow2::array::{Array, DictionaryArray, PrimitiveArray, Utf8Array};
use arrow2::datatypes::{DataType, IntegerType};
use rustc_hash::FxHashMap;

/// A column is written as a dictionary when it has at most one distinct value per this
/// many rows; a column of mostly distinct values (ids) stays plain.
const ROWS_PER_DISTINCT_VALUE: usize = 8;

/// At most this many distinct values in a dictionary.
const MAX_DISTINCT_VALUES: usize = 1 << 16;

/// The column as keys into its distinct non-null values, in the order they first appear
/// (so the same rows give the same dictionary, whatever wrote them), with the same nulls;
/// `None` when it has too many distinct values to pay, or none.
pub(crate) fn dictionary_of(column: &Utf8Array<i32>) -> Option<DictionaryArray<u32>> {
    let limit = (column.len() / ROWS_PER_DISTINCT_VALUE).min(MAX_DISTINCT_VALUES);
    let mut codes: FxHashMap<&str, u32> = FxHashMap::default();
    let mut values: Vec<&str> = Vec::new();
    let mut keys: Vec<u32> = Vec::with_capacity(column.len());
    // The previous row's value first: runs of one value are common and cost no hashing.
    let mut last: Option<(&str, u32)> = None;
    for i in 0..column.len() {
        if column.is_null(i) {
            // Any key: the page's definition levels mark the row null.
            keys.push(0);
            continue;
        }
        let value = column.value(i);
        let key = match last {
            Some((previous, key)) if previous == value => key,
            _ => {
                let next = values.len() as u32;
                let key = *codes.entry(value).or_insert(next);
                if key == next {
                    if values.len() == limit {
                        return None;
                    }
                    values.push(value);
                }
                last = Some((value, key));
                key
            }
        };
        keys.push(key);
    }
    if values.is_empty() {
        return None;
    }
    let keys =
        PrimitiveArray::<u32>::new(DataType::UInt32, keys.into(), column.validity().cloned());
    let values = Utf8Array::<i32>::from_slice(&values).boxed();
    let data_type = DataType::Dictionary(IntegerType::UInt32, Box::new(DataType::Utf8), false);
    DictionaryArray::try_new(data_type, keys, values).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(d: &DictionaryArray<u32>) -> Vec<Option<String>> {
        let values = d
            .values()
            .as_any()
            .downcast_ref::<Utf8Array<i32>>()
            .unwrap();
        d.keys()
            .iter()
            .map(|k| k.map(|&k| values.value(k as usize).to_string()))
            .collect()
    }

    #[test]
    fn a_repetitive_column_keeps_its_values_and_nulls_in_first_appearance_order() {
        let rows: Vec<Option<&str>> = (0..64)
            .map(|i| match i % 5 {
                0 => None,
                1 | 2 => Some("courier"),
                _ => Some("customer"),
            })
            .collect();
        let column = Utf8Array::<i32>::from(rows.clone());
        let d = dictionary_of(&column).expect("two values in 64 rows");
        let values = d
            .values()
            .as_any()
            .downcast_ref::<Utf8Array<i32>>()
            .unwrap();
        // Only values of non-null rows are in the dictionary (its bounds are the page's).
        assert_eq!(
            values.values_iter().collect::<Vec<_>>(),
            ["courier", "customer"]
        );
        let expected: Vec<Option<String>> = rows.iter().map(|r| r.map(String::from)).collect();
        assert_eq!(strings(&d), expected);
    }

    #[test]
    fn a_column_of_mostly_distinct_values_stays_plain() {
        let ids: Vec<String> = (0..64).map(|i| format!("id-{}", i % 9)).collect();
        let column = Utf8Array::<i32>::from_slice(&ids);
        assert!(
            dictionary_of(&column).is_none(),
            "9 distinct values in 64 rows"
        );
        assert!(dictionary_of(&Utf8Array::<i32>::from_slice(&ids[..8])).is_none());
        let nulls = Utf8Array::<i32>::from(vec![None::<&str>; 64]);
        assert!(
            dictionary_of(&nulls).is_none(),
            "no value to make a dictionary of"
        );
    }
}
