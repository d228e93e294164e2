//! A set of integers stored as 4096-bit pages, for membership checks on id columns.
//!
//! Ids are rarely spread evenly over 64 bits: they come in runs and clusters (sequences,
//! per-shard ranges, a few reserved blocks). A page per 4096 consecutive values keeps such
//! a set at a bit or two per id, and a lookup is a hash of the page number in a small map
//! that stays in cache plus one bit test — where a hash set of the ids themselves costs a
//! cache miss per probe once it outgrows the cache. Scattered values cost a page each, so
//! the caller falls back to a hash set when pages would outnumber the values.

use rustc_hash::FxHashMap;

const PAGE_BITS: u32 = 12;
const WORDS: usize = 1 << (PAGE_BITS - 6);

/// Integers of up to 64 bits (signed or not) as pages of bits.
#[derive(Default)]
pub(crate) struct IntSet {
    /// Page number → index in `bits`. Values are 64-bit integers (signed or not), so a
    /// page number (`v >> 12`) fits an i64, which hashes in one multiply where an i128
    /// took two.
    pages: FxHashMap<i64, u32>,
    bits: Vec<[u64; WORDS]>,
    /// The page of the last insert: ids often arrive in runs, and a hit skips the hash.
    last: Option<(i64, u32)>,
}

/// The page of `v`; exact for every value of a 64-bit integer column.
#[inline]
fn page_of(v: i128) -> i64 {
    debug_assert!(v >= i128::from(i64::MIN) && v <= i128::from(u64::MAX));
    (v >> PAGE_BITS) as i64
}

impl IntSet {
    /// Adds `v`; whether it was new.
    #[inline]
    pub(crate) fn insert(&mut self, v: i128) -> bool {
        let page = page_of(v);
        let index = match self.last {
            Some((p, index)) if p == page => index,
            _ => {
                let next = self.bits.len() as u32;
                let index = *self.pages.entry(page).or_insert(next);
                if index == next {
                    self.bits.push([0; WORDS]);
                }
                self.last = Some((page, index));
                index
            }
        };
        let bit = (v & ((1 << PAGE_BITS) - 1)) as usize;
        let word = &mut self.bits[index as usize][bit >> 6];
        let mask = 1 << (bit & 63);
        let new = *word & mask == 0;
        *word |= mask;
        new
    }

    /// A reader that remembers the last page it found, for runs of nearby values.
    pub(crate) fn probe(&self) -> Probe<'_> {
        Probe {
            set: self,
            last: None,
        }
    }

    /// Number of pages in use (each 512 bytes).
    pub(crate) fn pages(&self) -> usize {
        self.bits.len()
    }
}

/// Membership tests on an [`IntSet`], with the last page found remembered.
pub(crate) struct Probe<'s> {
    set: &'s IntSet,
    last: Option<(i64, Option<u32>)>,
}

impl Probe<'_> {
    /// Whether `v` is in the set.
    #[inline]
    pub(crate) fn contains(&mut self, v: i128) -> bool {
        let page = page_of(v);
        let index = match self.last {
            Some((p, index)) if p == page => index,
            _ => {
                let index = self.set.pages.get(&page).copied();
                self.last = Some((page, index));
                index
            }
        };
        let Some(index) = index else {
            return false;
        };
        let bit = (v & ((1 << PAGE_BITS) - 1)) as usize;
        self.set.bits[index as usize][bit >> 6] & (1 << (bit & 63)) != 0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn finds_what_was_added_at_page_edges_and_extremes() {
        let values = [
            0,
            -1,
            4095,
            4096,
            i128::from(i64::MIN),
            i128::from(i64::MAX),
            i128::from(u64::MAX),
            (1 << 62) + 1,
        ];
        let mut set = IntSet::default();
        for v in values {
            set.insert(v);
        }
        let mut probe = set.probe();
        for v in values {
            assert!(probe.contains(v), "{v}");
        }
        for v in [1, -2, 4094, 4097, i128::from(i64::MIN) + 1, (1 << 62) + 3] {
            assert!(!probe.contains(v), "{v}");
        }
        assert!(!set.insert(4096), "already there");
        assert!(set.insert(4097), "new");
    }

    proptest! {
        #[test]
        fn agrees_with_a_btree_set(
            added in proptest::collection::vec(any::<i64>().prop_map(|v| i128::from(v % 20_000)), 0..200),
            probes in proptest::collection::vec(any::<i64>().prop_map(|v| i128::from(v % 20_000)), 0..200),
        ) {
            let mut set = IntSet::default();
            let mut reference = BTreeSet::new();
            for &v in &added {
                prop_assert_eq!(set.insert(v), reference.insert(v));
            }
            let mut probe = set.probe();
            for v in probes.iter().chain(&added) {
                prop_assert_eq!(probe.contains(*v), reference.contains(v));
            }
        }
    }
}
