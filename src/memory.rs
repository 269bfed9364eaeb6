//! How the process asks the kernel for memory.

/// Trees with at least this many files are analysed with ordinary pages.
pub const LARGE_TREE_FILES: usize = 2_000;

/// Asks for ordinary 4 KiB pages instead of transparent huge pages, for the
/// rest of the process's life. Measured on the benchmark trees: on a small
/// tree huge pages save page faults (an editor check of the 1,000-service
/// tree: ~45 → ~37 ms), on a large one they cost more than they save — the
/// kernel zeroes 2 MiB at each first touch of heap that millions of small
/// nodes fill sparsely, which on a loaded machine varies from 0.1 to 0.6 s
/// of system time on the 10,000-service tree, and keeps ~50 MB more resident.
#[cfg(target_os = "linux")]
pub fn prefer_small_pages() {
    // SAFETY: PR_SET_THP_DISABLE only sets a flag of this process; its
    // result is ignored because page size is an optimisation either way.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(not(target_os = "linux"))]
pub fn prefer_small_pages() {}
