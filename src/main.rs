use clap::Parser;

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
