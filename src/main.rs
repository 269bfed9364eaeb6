use clap::Parser;

// Parsing and evaluation allocate many small nodes from two threads; glibc's
// per-thread arenas spend much of the run growing heaps.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    no_huge_pages();
    let cli = dbprov::cli::Cli::parse();
    dbprov::analysis::LEAVE_TO_EXIT.store(true, std::sync::atomic::Ordering::Relaxed);
    let code = match dbprov::cli::run(cli) {
        Ok(code) => code,
        Err(dbprov::cli::Fatal(message)) => {
            eprintln!("dbprov: error: {message}");
            2
        }
    };
    std::process::exit(code);
}

/// The heap is millions of small nodes touched once: with transparent huge
/// pages the kernel zeroes 2 MiB for each first touch, which on a loaded
/// machine costs more than the parse itself, and leaves memory resident that
/// no object uses. This process (and nothing else) asks for ordinary pages.
#[cfg(target_os = "linux")]
fn no_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE only sets a flag of this process; its
    // result is ignored because huge pages are an optimisation either way.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(not(target_os = "linux"))]
fn no_huge_pages() {}
