use clap::Parser;

// Parsing and evaluation allocate many small nodes from two threads; glibc's
// per-thread arenas spend much of the run growing heaps.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
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
