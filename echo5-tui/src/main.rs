//! `echo5-tui`: parse the command line and run the console.

use clap::Parser;
use echo5_tui::cli::Cli;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match echo5_tui::run::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo5-tui: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
