//! The process's memory: how its allocator treats freed memory, and its peak.
//!
//! glibc's malloc hands blocks above its
//! mmap threshold straight back to the kernel when they are freed and trims the heap
//! eagerly; a run frees and allocates page buffers and column batches of a few megabytes
//! all the time, so the same memory was faulted in and zeroed by the kernel again and
//! again (a tenth of a 1M-row Parquet validation). Blocks below 32 MiB now come from the
//! heap and freed memory stays there for the next batch; peak memory is unchanged, since
//! what is kept is what the next batch takes.
//!
//! One heap (arena) serves every thread: with one per thread, the states a reading
//! thread allocated and the transform freed could not hold the table the main thread
//! builds next, and the peak grew by both (see docs/performance.md).

/// Keeps freed memory in the process for reuse (glibc only; elsewhere a no-op). Call it
/// first thing, before any thread starts.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: `mallopt` only sets four allocator parameters, to values glibc documents
    // as valid; it is called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        // The heap grows 64 MiB at a time, so `heap` advises huge pages for memory
        // before it is first touched; untouched memory costs nothing.
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
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

/// The default `--memory-limit`: half of the memory this process may use — the
/// machine's, or its cgroup's limit when that is lower (a container, a systemd slice).
pub fn default_limit() -> u64 {
    usable_memory().map_or(4 << 30, |bytes| bytes / 2)
}

/// The machine's memory (`MemTotal`), or the cgroup v2 or v1 limit when lower.
fn usable_memory() -> Option<u64> {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| mem_total(&text));
    let cgroup = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .find_map(|path| std::fs::read_to_string(path).ok())
    .and_then(|text| text.trim().parse::<u64>().ok());
    match (total, cgroup) {
        (Some(t), Some(c)) => Some(t.min(c)),
        (t, c) => t.or(c),
    }
}

/// `MemTotal` of a `/proc/meminfo` text, in bytes.
fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    #[test]
    fn mem_total_reads_kibibytes() {
        let text = "MemTotal:       24576000 kB\nMemFree:  1 kB\n";
        assert_eq!(super::mem_total(text), Some(24_576_000 * 1024));
        assert_eq!(super::mem_total("nothing"), None);
    }

    #[test]
    fn the_default_limit_is_at_most_half_the_machine() {
        let limit = super::default_limit();
        if let Some(total) = super::usable_memory() {
            assert_eq!(limit, total / 2);
        }
        assert!(limit > 0);
    }

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn the_peak_is_at_least_what_this_process_holds_now() {
        let held = vec![1u8; 64 << 20];
        let peak = super::peak_resident_bytes().expect("Linux reports it");
        assert!(peak >= 64 << 20, "peak {peak} below the 64 MiB held");
        assert_eq!(held.iter().map(|&b| b as usize).sum::<usize>(), 64 << 20);
    }
}
