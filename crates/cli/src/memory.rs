//! The process's memory: how its allocator treats freed memory, and its peak.
//!
//! glibc's malloc hands blocks above its
//! mmap threshold straight back to the kernel when they are freed and trims the heap
//! eagerly; a run frees and allocates page buffers and column batches of a few megabytes
//! all the time, so the same memory was faulted in and zeroed by the kernel again and
//! again (a tenth of a 1M-row Parquet validation). Blocks below 32 MiB now come from the
//! heap and freed memory stays there for the next batch; peak memory is unchanged, since
//! what is kept is what the next batch takes.

/// Keeps freed memory in the process for reuse (glibc only; elsewhere a no-op). Call it
/// first thing, before any thread starts.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: `mallopt` only sets two allocator parameters, to values glibc documents as
    // valid; it is called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

/// The peak resident set of this process so far, in bytes (`getrusage`'s `ru_maxrss`;
/// Linux only, None elsewhere or if the call fails).
pub fn peak_resident_bytes() -> Option<u64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: `getrusage` fills the struct it is given and touches nothing else.
        let done = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
        if done != 0 {
            return None;
        }
        // SAFETY: the call succeeded, so it initialised the struct.
        let usage = unsafe { usage.assume_init() };
        // Linux reports kibibytes.
        u64::try_from(usage.ru_maxrss).ok().map(|kib| kib * 1024)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn the_peak_is_at_least_what_this_process_holds_now() {
        let held = vec![1u8; 64 << 20];
        let peak = super::peak_resident_bytes().expect("Linux reports it");
        assert!(peak >= 64 << 20, "peak {peak} below the 64 MiB held");
        assert_eq!(held.iter().map(|&b| b as usize).sum::<usize>(), 64 << 20);
    }
}
