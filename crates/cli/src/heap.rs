//! The process's allocator: glibc's malloc, with the memory its heap grows into offered
//! to the kernel as transparent huge pages (`madvise(MADV_HUGEPAGE)`), as glibc itself
//! does when `GLIBC_TUNABLES=glibc.malloc.hugetlb=1` is set. A run touches hundreds of
//! megabytes of fresh column buffers once each; in 4 KiB pages that is one page fault per
//! 4 KiB, and the faults cost a third of a Parquet validation's system time (see
//! docs/performance.md). Where the kernel offers huge pages only on request (its
//! `enabled` setting is `madvise`, the common default), the heap gets them; where it
//! offers them always or never, the advice changes nothing.
//!
//! Every block comes from and goes back to the system allocator unchanged: the advice is
//! a hint about pages, never about blocks. glibc only; elsewhere [`HugePageHeap`] is the
//! system allocator.

use std::alloc::{GlobalAlloc, Layout, System};
#[cfg(all(target_os = "linux", target_env = "gnu"))]
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, advising huge pages for the heap it grows into.
pub struct HugePageHeap;

/// A huge page on x86-64 and arm64 (with 4 KiB base pages).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const HUGE_PAGE: usize = 2 << 20;

/// The end of the heap already advised (aligned to a huge page).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
static ADVISED_UP_TO: AtomicUsize = AtomicUsize::new(0);

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn advise(start: usize, end: usize) {
    let start = start.next_multiple_of(HUGE_PAGE);
    let end = end - end % HUGE_PAGE;
    if end > start {
        // SAFETY: `madvise` with MADV_HUGEPAGE only sets a flag on the mappings of the
        // range (whole huge pages inside memory this process maps); it neither moves
        // nor frees memory, and a failure (an older kernel) is harmless and ignored.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

/// Advises what the heap grew into since the last look, and a block of `size` bytes at
/// `block` (one glibc maps apart from the heap, above its mmap threshold).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn after_allocation(block: *mut u8, size: usize) {
    if block.is_null() {
        return;
    }
    // SAFETY: `sbrk(0)` only reads the current end of the heap.
    let top = unsafe { libc::sbrk(0) } as usize;
    let advised = ADVISED_UP_TO.load(Ordering::Relaxed);
    if top >= advised + HUGE_PAGE || top < advised {
        // The heap grew (or was trimmed and grows again): advise from the last aligned
        // end, or from where the heap now ends if it shrank below it.
        let from = if advised == 0 || top < advised {
            top.saturating_sub(size)
        } else {
            advised
        };
        advise(from, top);
        ADVISED_UP_TO.store(top - top % HUGE_PAGE, Ordering::Relaxed);
    }
    let start = block as usize;
    if !(start < top && start + size <= top) && size >= HUGE_PAGE {
        advise(start, start + size);
    }
}

#[allow(unsafe_code)]
// SAFETY: every call is passed to `System` unchanged, and its result returned unchanged;
// `after_allocation` only advises the kernel about pages.
unsafe impl GlobalAlloc for HugePageHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `layout` is `System`'s.
        let block = unsafe { System.alloc(layout) };
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        after_allocation(block, layout.size());
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let block = unsafe { System.alloc_zeroed(layout) };
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        after_allocation(block, layout.size());
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: `block` came from `System` with this layout.
        unsafe { System.dealloc(block, layout) }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `block` came from `System` with this layout.
        let moved = unsafe { System.realloc(block, layout, new_size) };
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        after_allocation(moved, new_size);
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_the_system_allocators_and_keep_their_bytes() {
        let heap = HugePageHeap;
        for size in [16, 100 << 10, 5 << 20, 40 << 20] {
            let layout = Layout::from_size_align(size, 64).unwrap();
            #[allow(unsafe_code)]
            // SAFETY: a non-zero layout; the block is written within its size, grown,
            // read within the old size, and freed with its final layout.
            unsafe {
                let block = heap.alloc_zeroed(layout);
                assert!(!block.is_null());
                assert_eq!(*block.add(size - 1), 0, "zeroed");
                std::ptr::write_bytes(block, 7, size);
                let grown = heap.realloc(block, layout, size * 2);
                assert!(!grown.is_null());
                assert_eq!(*grown.add(size - 1), 7, "realloc keeps the bytes");
                heap.dealloc(grown, Layout::from_size_align(size * 2, 64).unwrap());
            }
        }
    }
}
