//! Memory for the per-order states, backed by huge pages where the kernel allows them:
//! every message folds into a state at a random place in gigabytes of them, and with 4 KiB
//! pages nearly every such access misses the TLB as well as the cache.

use crate::state::ConversationState;

const HUGE_PAGE: usize = 2 << 20;

/// `len` empty states, their memory advised for transparent huge pages before it is
/// first touched (a hint: without THP the states are the same, on small pages).
pub(crate) fn empty_states(len: usize) -> Vec<ConversationState> {
    let mut states: Vec<ConversationState> = Vec::with_capacity(len);
    advise_huge_pages(
        states.as_mut_ptr().cast::<u8>(),
        len * std::mem::size_of::<ConversationState>(),
    );
    states.resize(len, ConversationState::EMPTY);
    states
}

/// Advises the whole huge pages inside `bytes` bytes from `start`.
#[allow(unsafe_code)]
fn advise_huge_pages(start: *mut u8, bytes: usize) {
    let (from, to) = (start as usize, start as usize + bytes);
    let first = from.next_multiple_of(HUGE_PAGE);
    let end = to / HUGE_PAGE * HUGE_PAGE;
    if end <= first {
        return;
    }
    // SAFETY: the range lies inside an allocation this process owns and nothing else
    // refers to yet; MADV_HUGEPAGE only changes how the kernel backs those pages, never
    // their contents. An error (no THP in this kernel) leaves them as they were.
    let _ = unsafe {
        rustix::mm::madvise(
            first as *mut std::ffi::c_void,
            end - first,
            rustix::mm::Advice::LinuxHugepage,
        )
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn states_are_empty_whatever_their_size() {
        for len in [0, 1, 100_000] {
            let states = super::empty_states(len);
            assert_eq!(states.len(), len);
            assert!(states.iter().all(|s| s.is_empty()));
        }
    }
}
