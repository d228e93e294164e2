//! The output's text columns as dictionaries, for Parquet's dictionary pages. The city,
//! role and stage columns repeat a handful of values over every row; written plain, they
//! were a third of a part's bytes and most of its compression time. The table builder
//! knows each row's value as a code already, so a column's dictionary is collected as its
//! rows are pushed ([`FirstSeen`]), without hashing a string. The dictionary lists the
//! values in the order of their first row: the same rows give the same dictionary, and so
//! the same bytes, whatever built them (a full run or any sequence of incremental runs).

use arrow2::array::{
    Array, DictionaryArray, MutableArray, MutableUtf8Array, PrimitiveArray, Utf8Array,
};
use arrow2::bitmap::MutableBitmap;
use arrow2::datatypes::{DataType, IntegerType};

/// A text column's keys into its values in the order of their first row, collected from
/// the codes the values already have.
#[derive(Debug, Default)]
pub(crate) struct FirstSeen {
    keys: Vec<u32>,
    validity: MutableBitmap,
    /// Code → key + 1 (0: not seen yet).
    key_of_code: Vec<u32>,
    values: MutableUtf8Array<i32>,
}

impl FirstSeen {
    /// Room for `rows` more rows.
    pub(crate) fn reserve(&mut self, rows: usize) {
        self.keys.reserve(rows);
        self.validity.reserve(rows);
    }

    /// The next row: its value's code (codes are small and dense) and the value, none for
    /// null.
    #[inline]
    pub(crate) fn push(&mut self, code: u32, value: Option<&str>) {
        let Some(value) = value else {
            // Any key: the page's definition levels mark the row null.
            self.keys.push(0);
            self.validity.push(false);
            return;
        };
        let code = code as usize;
        if code >= self.key_of_code.len() {
            self.key_of_code.resize(code + 1, 0);
        }
        if self.key_of_code[code] == 0 {
            self.values.push(Some(value));
            self.key_of_code[code] = self.values.len() as u32;
        }
        self.keys.push(self.key_of_code[code] - 1);
        self.validity.push(true);
    }

    /// The column as a dictionary array; none when every row is null.
    pub(crate) fn finish(self) -> Option<DictionaryArray<u32>> {
        if self.values.is_empty() {
            return None;
        }
        let values: Utf8Array<i32> = self.values.into();
        dictionary(self.keys, self.validity.into(), values)
    }
}

fn dictionary(
    keys: Vec<u32>,
    validity: Option<arrow2::bitmap::Bitmap>,
    values: Utf8Array<i32>,
) -> Option<DictionaryArray<u32>> {
    let keys = PrimitiveArray::<u32>::new(DataType::UInt32, keys.into(), validity);
    let data_type = DataType::Dictionary(IntegerType::UInt32, Box::new(DataType::Utf8), false);
    DictionaryArray::try_new(data_type, keys, values.boxed()).ok()
}

/// A slice of a dictionary column with only the values its rows use, in the order of
/// their first row (a row group of a part split in several has the dictionary it would
/// have alone); none when every row is null.
pub(crate) fn compacted(column: &DictionaryArray<u32>) -> Option<DictionaryArray<u32>> {
    let values = column
        .values()
        .as_any()
        .downcast_ref::<Utf8Array<i32>>()
        .expect("a text dictionary");
    let mut first_seen = FirstSeen::default();
    first_seen.reserve(column.len());
    for key in column.keys().iter() {
        match key {
            Some(&key) if values.is_valid(key as usize) => {
                first_seen.push(key, Some(values.value(key as usize)))
            }
            _ => first_seen.push(0, None),
        }
    }
    first_seen.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    fn values(d: &DictionaryArray<u32>) -> Vec<String> {
        let values = d
            .values()
            .as_any()
            .downcast_ref::<Utf8Array<i32>>()
            .unwrap();
        values.values_iter().map(String::from).collect()
    }

    const WORDS: [&str; 5] = ["ACCEPTED", "BCN", "courier", "", "é"];

    fn built(codes: &[Option<u32>]) -> Option<DictionaryArray<u32>> {
        let mut first_seen = FirstSeen::default();
        for code in codes {
            first_seen.push(code.unwrap_or(0), code.map(|c| WORDS[c as usize]));
        }
        first_seen.finish()
    }

    proptest! {
        /// The dictionary gives back every row's value and null, lists each used value
        /// once in the order of its first row, and a slice compacts to the dictionary its
        /// rows would have alone.
        #[test]
        fn a_column_reads_back_through_its_dictionary(
            codes in prop::collection::vec(prop::option::of(0u32..5), 0..200),
            cut in (0usize..200, 0usize..200),
        ) {
            let expected: Vec<Option<String>> =
                codes.iter().map(|c| c.map(|c| WORDS[c as usize].to_string())).collect();
            let mut firsts: Vec<String> = Vec::new();
            for value in expected.iter().flatten() {
                if !firsts.contains(value) {
                    firsts.push(value.clone());
                }
            }
            match built(&codes) {
                None => prop_assert!(firsts.is_empty()),
                Some(d) => {
                    prop_assert_eq!(strings(&d), expected);
                    prop_assert_eq!(values(&d), firsts);
                    let (start, end) = (cut.0.min(cut.1).min(codes.len()), cut.0.max(cut.1).min(codes.len()));
                    let slice = d.clone().sliced(start, end - start);
                    let alone = built(&codes[start..end]);
                    match (compacted(&slice), alone) {
                        (Some(c), Some(a)) => {
                            prop_assert_eq!(strings(&c), strings(&a));
                            prop_assert_eq!(values(&c), values(&a));
                        }
                        (c, a) => prop_assert_eq!(c.is_none(), a.is_none()),
                    }
                }
            }
        }
    }
}
