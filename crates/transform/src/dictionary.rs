//! Text columns with few distinct values (`orderStage`, `cityCode`) encoded as codes whose
//! order is the order of the strings, so keys compare by integer and still follow the
//! spec's string order. Code 0 is null.

use arrow2::array::Utf8Array;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// The distinct values of a column, sorted; code `c > 0` is `values[c - 1]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dictionary {
    values: Vec<String>,
}

impl Dictionary {
    /// A dictionary of the given values (sorted and deduplicated here).
    pub fn from_values(mut values: Vec<String>) -> Self {
        values.sort_unstable();
        values.dedup();
        Self { values }
    }

    /// The string of a code; `None` for 0 (null).
    pub fn value(&self, code: u32) -> Option<&str> {
        code.checked_sub(1)
            .map(|i| self.values[i as usize].as_str())
    }

    /// The code of a string, if it is in the dictionary.
    pub fn code(&self, value: &str) -> Option<u32> {
        self.values
            .binary_search_by(|v| v.as_str().cmp(value))
            .ok()
            .map(|i| i as u32 + 1)
    }

    /// The values, sorted; code `c > 0` is `values()[c - 1]`.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Number of distinct non-null values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when there is no non-null value.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Encodes several arrays of one column with one shared dictionary, in parallel.
pub fn encode(arrays: &[&Utf8Array<i32>]) -> (Dictionary, Vec<Vec<u32>>) {
    let local: Vec<(Vec<&str>, Vec<u32>)> = arrays
        .par_iter()
        .map(|array| {
            let mut seen: FxHashMap<&str, u32> = FxHashMap::default();
            let mut values = Vec::new();
            let codes = array
                .iter()
                .map(|v| match v {
                    None => 0,
                    Some(s) => *seen.entry(s).or_insert_with(|| {
                        values.push(s);
                        values.len() as u32
                    }),
                })
                .collect();
            (values, codes)
        })
        .collect();
    let dictionary = Dictionary::from_values(
        local
            .iter()
            .flat_map(|(values, _)| values.iter().map(|s| s.to_string()))
            .collect(),
    );
    let codes = local
        .into_par_iter()
        .map(|(values, mut codes)| {
            let remap: Vec<u32> = std::iter::once(0)
                .chain(values.iter().map(|s| {
                    dictionary
                        .code(s)
                        .expect("every local value is in the dictionary")
                }))
                .collect();
            codes.iter_mut().for_each(|c| *c = remap[*c as usize]);
            codes
        })
        .collect();
    (dictionary, codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_string_order_across_arrays() {
        let a = Utf8Array::<i32>::from([Some("PICKED_UP"), None, Some("ACCEPTED")]);
        let b = Utf8Array::<i32>::from([Some("DELIVERED"), Some("ACCEPTED")]);
        let (dict, codes) = encode(&[&a, &b]);
        assert_eq!(codes, vec![vec![3, 0, 1], vec![2, 1]]);
        assert_eq!(dict.value(2), Some("DELIVERED"));
        assert_eq!(dict.value(0), None);
    }
}
