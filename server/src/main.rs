//! `scanline-server`: parses the command line and hands it to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    scanline_server::init_logging();
    match scanline_server::cli::run(scanline_server::cli::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
