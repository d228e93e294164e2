//! The set of an in-set check on a text column when its values are few and short: each
//! value is compared as one 128-bit word through a collision-free slot table, because
//! in-set checks on codes and enums run on every row and a string compare per candidate
//! was their cost.

use arrow2::array::Array;
use arrow2::datatypes::PhysicalType;

use super::scan;
use crate::types;

/// A few short strings (at most 16 bytes each), compared as (length, bytes as one
/// 128-bit integer): a set check on a text column then costs a load, a mask and a few
/// integer compares per value instead of a string compare (a `memcmp` call) per
/// candidate — in-set checks on codes and enums run on every row.
pub(super) struct ShortTexts {
    keys: Vec<(usize, u128)>,
    /// A collision-free table from a value to the slot of (length, key, mask) it must
    /// equal, when the set's values allow one (see [`SlotHash`]).
    table: Option<(SlotHash, Box<SlotTable>)>,
}

/// Per slot: (length, key, mask); an empty slot has length `usize::MAX`.
type SlotTable = [(usize, u128, u128); 64];

/// How a value (its length and its first 16 bytes, read past its end) picks a slot.
#[derive(Clone, Copy)]
enum SlotHash {
    /// From the length and the first byte: the cheapest, enough for most enums.
    FirstByte(usize),
    /// From the length and every byte of the value (masked to its length): for sets
    /// whose values share lengths and first letters (city codes such as BCN and BUH).
    Word(u64),
}

impl SlotHash {
    /// The multipliers tried, cheapest kind first.
    fn candidates() -> impl Iterator<Item = SlotHash> {
        let first_byte = [1usize, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]
            .into_iter()
            .map(SlotHash::FirstByte);
        // Odd multipliers from splitmix64: with at most 16 values in 64 slots, one in
        // seven is collision-free, so 64 of them all but never fail.
        let word = (1..=64u64).map(|k| {
            let mut z = k.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            SlotHash::Word((z ^ (z >> 31)) | 1)
        });
        first_byte.chain(word)
    }

    /// The slot of a value of length `len` (at most 16) whose first 16 bytes, as read
    /// from the buffer, are `word`.
    #[inline(always)]
    fn slot(self, len: usize, word: u128) -> usize {
        match self {
            SlotHash::FirstByte(multiplier) => {
                // An empty value's first byte is the next value's: it counts as 0.
                let first = if len == 0 { 0 } else { word as u8 };
                (len.wrapping_mul(multiplier) ^ usize::from(first).wrapping_mul(7)) & 63
            }
            SlotHash::Word(multiplier) => {
                let word = word & ShortTexts::mask(len);
                let folded = (word as u64) ^ ((word >> 64) as u64).rotate_left(23) ^ len as u64;
                (folded.wrapping_mul(multiplier) >> 58) as usize
            }
        }
    }
}

impl ShortTexts {
    const WIDTH: usize = 16;

    pub(super) fn new(values: &[String]) -> Option<ShortTexts> {
        if values.len() > 16 || values.iter().any(|v| v.len() > Self::WIDTH) {
            return None;
        }
        let keys: Vec<(usize, u128)> = values
            .iter()
            .map(|v| {
                let mut bytes = [0u8; 16];
                bytes[..v.len()].copy_from_slice(v.as_bytes());
                (v.len(), u128::from_le_bytes(bytes))
            })
            .collect();
        // An empty slot holds a length no value has, so it never matches.
        let empty = (usize::MAX, 0u128, 0u128);
        let table = SlotHash::candidates().find_map(|hash| {
            let mut table = Box::new([empty; 64]);
            for &(len, key) in &keys {
                let slot = &mut table[hash.slot(len, key)];
                if slot.0 != usize::MAX && (slot.0, slot.1) != (len, key) {
                    return None;
                }
                *slot = (len, key, Self::mask(len));
            }
            Some((hash, table))
        });
        Some(ShortTexts { keys, table })
    }

    fn mask(len: usize) -> u128 {
        if len >= Self::WIDTH {
            u128::MAX
        } else {
            (1u128 << (8 * len)) - 1
        }
    }

    /// Whether the value `values[start..end]` is outside the set.
    #[inline(always)]
    fn is_outside(&self, values: &[u8], start: usize, end: usize) -> bool {
        let len = end - start;
        if len > Self::WIDTH {
            return true;
        }
        let mut bytes = [0u8; 16];
        bytes[..len].copy_from_slice(&values[start..end]);
        let word = u128::from_le_bytes(bytes);
        !self.keys.iter().any(|&(l, k)| l == len && k == word)
    }

    /// Counts the values of a UTF-8 chunk that are not in the set (`None` for other types).
    pub(super) fn scan_outside(
        &self,
        array: &dyn Array,
        limit: usize,
    ) -> Option<(u64, u64, Vec<usize>)> {
        match array.data_type().to_physical_type() {
            PhysicalType::Utf8 => Some(self.scan_offsets(types::utf8::<i32>(array), limit)),
            PhysicalType::LargeUtf8 => Some(self.scan_offsets(types::utf8::<i64>(array), limit)),
            _ => None,
        }
    }

    fn scan_offsets<O: arrow2::offset::Offset>(
        &self,
        a: &arrow2::array::Utf8Array<O>,
        limit: usize,
    ) -> (u64, u64, Vec<usize>) {
        let offsets = a.offsets().buffer();
        let values = a.values().as_slice();
        match &self.table {
            Some((hash, table)) if values.len() >= Self::WIDTH => {
                let validity = a.validity().filter(|v| v.unset_bits() > 0);
                // One loop per kind of hash, each with its slot function inlined.
                match *hash {
                    SlotHash::FirstByte(m) => {
                        let slot = |len, word| SlotHash::FirstByte(m).slot(len, word);
                        self.scan_dense(slot, table, offsets, values, validity, limit)
                    }
                    SlotHash::Word(m) => {
                        let slot = |len, word| SlotHash::Word(m).slot(len, word);
                        self.scan_dense(slot, table, offsets, values, validity, limit)
                    }
                }
            }
            _ => scan(a.len(), a.validity(), limit, |i| {
                self.is_outside(values, offsets[i].to_usize(), offsets[i + 1].to_usize())
            }),
        }
    }

    /// The common case as one tight loop, given a table: a value costs two offset loads,
    /// one 16-byte load, a table look-up and a masked compare. A null row (`validity`
    /// unset) is missing; its offsets are equal, so it is looked up like an empty value
    /// and then not counted.
    fn scan_dense<O: arrow2::offset::Offset>(
        &self,
        slot: impl Fn(usize, u128) -> usize,
        table: &SlotTable,
        offsets: &[O],
        values: &[u8],
        validity: Option<&arrow2::bitmap::Bitmap>,
        limit: usize,
    ) -> (u64, u64, Vec<usize>) {
        // Bytes past a value (the next values) are masked off; near the end of the
        // buffer, where 16 bytes are not there to load, the value is copied.
        let last_window = values.len() - Self::WIDTH;
        let mut unexpected = 0u64;
        let mut rows = Vec::new();
        for (i, pair) in offsets.windows(2).enumerate() {
            let (start, end) = (pair[0].to_usize(), pair[1].to_usize());
            let len = end - start;
            let outside = if len > Self::WIDTH {
                true
            } else if start <= last_window {
                let window: [u8; 16] = values[start..start + Self::WIDTH]
                    .try_into()
                    .expect("16 bytes");
                let word = u128::from_le_bytes(window);
                let (key_len, key, mask) = table[slot(len, word)];
                key_len != len || word & mask != key
            } else {
                self.is_outside(values, start, end)
            };
            if outside && validity.is_none_or(|v| v.get_bit(i)) {
                unexpected += 1;
                if rows.len() < limit {
                    rows.push(i);
                }
            }
        }
        (
            validity.map_or(0, |v| v.unset_bits() as u64),
            unexpected,
            rows,
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::fixtures::strs;
    use crate::checks::testing::{check, counts, table, values};

    #[test]
    fn in_set_on_codes_sharing_lengths_and_first_letters() {
        let codes = [
            "BCN", "MAD", "LIS", "OPO", "MIL", "ROM", "PAR", "WAW", "BUH", "IEV",
        ];
        let owned: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
        let short = super::ShortTexts::new(&owned).expect("short values");
        assert!(
            matches!(short.table, Some((super::SlotHash::Word(_), _))),
            "BCN and BUH share a length and a first letter: the first-byte table cannot hold them"
        );
        let data: Vec<Option<&str>> = [
            "BUH", "BCN", "BUX", "MIL", "MAL", "", "M", "IEVV", "PAR", "WAW",
        ]
        .into_iter()
        .cycle()
        .take(40)
        .map(Some)
        .chain([None])
        .collect();
        let body = format!(
            "expectation: expect_column_values_to_be_in_set, column: c, value_set: [{}]",
            codes.join(", ")
        );
        let r = check(&body, &[&table("t", vec![("c", strs(&data))])]);
        assert_eq!(
            counts(&r),
            (41, 1, 20),
            "BUX, MAL, '', M and IEVV, four times each"
        );
        assert_eq!(values(&r)[..5], ["BUX", "MAL", "", "M", "IEVV"]);
    }
}
