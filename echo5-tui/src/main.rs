//! `echo5-tui`: parse the command line and run the console.

use echo5_tui::cli::Cli;
use std::time::Instant;

fn main() -> std::process::ExitCode {
    // Taken before the async runtime starts, so startup timings include it.
    let started = Instant::now();
    let cli = Cli::parse_checked();
    // Before the console takes the screen (it shows them again inside).
    for w in &cli.warnings {
        eprintln!("echo5-tui: warning: {w}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("echo5-tui: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(echo5_tui::run::run(cli, started)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo5-tui: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
