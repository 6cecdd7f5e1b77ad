//! The Scanline station daemon: scanner input, a local SQLite with roster cache, batches and an
//! outbox, background sync with the server, and the kiosk display (DESIGN §8, §9).
//!
//! This crate so far holds the command-line entry point; it validates scans with exactly the
//! rules in `scanline_core`, the same code the server runs.

pub mod scanner;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "scanline-station", version, about = "Scanline scanner station")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Check a scanned payload offline: prints the card code it decodes to, or why it is a
    /// misread.
    Check { payload: String },
}

/// Runs the station command line.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    match cli.command {
        Command::Check { payload } => match scanline_core::card_code::classify(&payload) {
            Ok(code) => {
                match code.scanline {
                    Some(c) => println!(
                        "Scanline card {}: client number {}, card {}",
                        code.key, c.client_number, c.seq
                    ),
                    None => println!("other card code {}", code.key),
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("misread: {e}");
                ExitCode::from(1)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_tells_a_misread_from_a_card() {
        let code = scanline_core::ScanlineCode::new(77, 1).unwrap().encode();
        assert_eq!(
            main_with_args(["scanline-station".into(), "check".into(), code.into()]),
            ExitCode::SUCCESS
        );
        assert_eq!(
            main_with_args(["scanline-station".into(), "check".into(), "88000000077010".into()]),
            ExitCode::from(1)
        );
    }
}
