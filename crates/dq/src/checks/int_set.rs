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
    /// Pages found lately: ids often arrive in runs, or alternate between a few ranges,
    /// and a hit skips the hash.
    recent: PageCache,
}

/// A direct-mapped cache of page look-ups (page number → index in `bits`, or
/// [`PageCache::ABSENT`]), slot chosen by the page number's low bits: a few ranges of ids
/// interleaved (regular ids and a reserved block, say) each keep their slot, where
/// remembering only the last page would miss at every switch.
#[derive(Clone)]
struct PageCache {
    slots: Box<[(i64, u32); PageCache::SLOTS]>,
}

impl Default for PageCache {
    fn default() -> Self {
        PageCache {
            slots: Box::new([(PageCache::EMPTY, PageCache::ABSENT); PageCache::SLOTS]),
        }
    }
}

impl PageCache {
    const SLOTS: usize = 64;
    /// No page number is `i64::MIN` (a page is a 64-bit value shifted right by 12).
    const EMPTY: i64 = i64::MIN;
    /// The page is not in the set.
    const ABSENT: u32 = u32::MAX;

    /// The cached look-up of `page`, or the result of `look_up`, remembered.
    #[inline(always)]
    fn get(&mut self, page: i64, look_up: impl FnOnce() -> u32) -> u32 {
        let slot = &mut self.slots[page as usize & (Self::SLOTS - 1)];
        if slot.0 != page {
            *slot = (page, look_up());
        }
        slot.1
    }
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
        let (pages, bits) = (&mut self.pages, &mut self.bits);
        let index = self.recent.get(page, || {
            let next = bits.len() as u32;
            let index = *pages.entry(page).or_insert(next);
            if index == next {
                bits.push([0; WORDS]);
            }
            index
        });
        let bit = (v & ((1 << PAGE_BITS) - 1)) as usize;
        let word = &mut self.bits[index as usize][bit >> 6];
        let mask = 1 << (bit & 63);
        let new = *word & mask == 0;
        *word |= mask;
        new
    }

    /// The values of `self` and `other` (sets built in parallel, merged).
    pub(crate) fn union(mut self, other: IntSet) -> IntSet {
        if self.bits.len() < other.bits.len() {
            return other.union(self);
        }
        for (&page, &index) in &other.pages {
            let words = &other.bits[index as usize];
            let next = self.bits.len() as u32;
            let mine = *self.pages.entry(page).or_insert(next);
            if mine == next {
                self.bits.push(*words);
            } else {
                for (w, o) in self.bits[mine as usize].iter_mut().zip(words) {
                    *w |= o;
                }
            }
        }
        self.recent = PageCache::default();
        self
    }

    /// The values in both `self` and `other`, added to `out`.
    pub(crate) fn add_intersection(&self, other: &IntSet, out: &mut IntSet) {
        let (small, large) = if self.pages.len() <= other.pages.len() {
            (self, other)
        } else {
            (other, self)
        };
        for (&page, &index) in &small.pages {
            let Some(&other_index) = large.pages.get(&page) else {
                continue;
            };
            let (a, b) = (
                &small.bits[index as usize],
                &large.bits[other_index as usize],
            );
            let mut common = [0u64; WORDS];
            for ((c, x), y) in common.iter_mut().zip(a).zip(b) {
                *c = x & y;
            }
            if common.iter().any(|&w| w != 0) {
                let next = out.bits.len() as u32;
                let at = *out.pages.entry(page).or_insert(next);
                if at == next {
                    out.bits.push(common);
                } else {
                    for (w, c) in out.bits[at as usize].iter_mut().zip(&common) {
                        *w |= c;
                    }
                }
            }
        }
        out.recent = PageCache::default();
    }

    /// A reader that remembers the last page it found, for runs of nearby values.
    pub(crate) fn probe(&self) -> Probe<'_> {
        Probe {
            set: self,
            recent: PageCache::default(),
        }
    }

    /// Number of pages in use (each 512 bytes).
    pub(crate) fn pages(&self) -> usize {
        self.bits.len()
    }
}

/// Membership tests on an [`IntSet`], with the pages found lately remembered.
pub(crate) struct Probe<'s> {
    set: &'s IntSet,
    recent: PageCache,
}

impl Probe<'_> {
    /// Whether `v` is in the set.
    #[inline]
    pub(crate) fn contains(&mut self, v: i128) -> bool {
        let page = page_of(v);
        let pages = &self.set.pages;
        let index = self.recent.get(page, || {
            pages.get(&page).copied().unwrap_or(PageCache::ABSENT)
        });
        if index == PageCache::ABSENT {
            return false;
        }
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

    /// Starts of far ranges, two of whose pages share cache slots (64 pages apart), as
    /// regular ids and a reserved block do.
    const BASES: [i128; 4] = [0, 64 << 12, 1 << 62, -(5 << 40)];

    /// A value in one of [`BASES`]' ranges.
    fn value((range, offset): (usize, i128)) -> i128 {
        BASES[range] + offset
    }

    proptest! {
        /// Ids alternating between far ranges.
        #[test]
        fn agrees_with_a_btree_set_on_interleaved_ranges(
            added in proptest::collection::vec((0..4usize, 0..20_000i128), 0..300),
            probes in proptest::collection::vec((0..4usize, 0..20_000i128), 0..300),
        ) {
            let mut set = IntSet::default();
            let mut reference = BTreeSet::new();
            for &v in &added {
                prop_assert_eq!(set.insert(value(v)), reference.insert(value(v)));
            }
            let mut probe = set.probe();
            for &v in probes.iter().chain(&added) {
                prop_assert_eq!(probe.contains(value(v)), reference.contains(&value(v)));
            }
        }

        #[test]
        fn union_and_intersection_agree_with_btree_sets(
            a in proptest::collection::vec((0..4usize, 0..20_000i128), 0..200),
            b in proptest::collection::vec((0..4usize, 0..20_000i128), 0..200),
        ) {
            let set = |values: &[(usize, i128)]| {
                let mut s = IntSet::default();
                values.iter().for_each(|&v| { s.insert(value(v)); });
                s
            };
            let reference = |values: &[(usize, i128)]| -> BTreeSet<i128> {
                values.iter().map(|&v| value(v)).collect()
            };
            let (ra, rb) = (reference(&a), reference(&b));
            let mut common = IntSet::default();
            common.insert(BASES[2] - 1); // already there: kept
            set(&a).add_intersection(&set(&b), &mut common);
            let both = set(&a).union(set(&b));
            let mut probe_both = both.probe();
            let mut probe_common = common.probe();
            for v in ra.iter().chain(&rb).copied().chain([BASES[2] - 1, 7, BASES[1] + 20_001]) {
                prop_assert_eq!(probe_both.contains(v), ra.contains(&v) || rb.contains(&v));
                prop_assert_eq!(
                    probe_common.contains(v),
                    (ra.contains(&v) && rb.contains(&v)) || v == BASES[2] - 1
                );
            }
        }

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
