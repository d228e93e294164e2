//! How the process's allocator treats freed memory. glibc's malloc hands blocks above its
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
