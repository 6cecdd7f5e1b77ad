//! The Scanline station daemon (DESIGN §8, §9): scanner input, a local SQLite database with
//! the roster cache, batches and an outbox, background sync with the server, and the kiosk
//! display. Every scan is judged with exactly the rules in `scanline_core`, the same code the
//! server runs, and committed before its verdict is shown.

pub mod config;
pub mod daemon;
pub mod kiosk;
pub mod scanner;
pub mod state;
pub mod store;
pub mod sync;
pub mod worker;

use std::ffi::OsString;
use std::path::PathBuf;
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
    /// Run the station: scanners, sync and the kiosk page.
    Run {
        #[arg(long, default_value = "/etc/scanline/station.toml")]
        config: PathBuf,
        /// Also read card numbers typed on standard input.
        #[arg(long)]
        stdin: bool,
    },
    /// Check a configuration file and say what it sets up.
    CheckConfig {
        #[arg(long)]
        config: PathBuf,
    },
    /// Check a scanned payload offline: prints the card code it decodes to, or why it is a
    /// misread.
    Check { payload: String },
    /// Scanner profiles and set-up.
    #[command(subcommand)]
    Scanner(ScannerCmd),
}

#[derive(Debug, clap::Subcommand)]
enum ScannerCmd {
    /// List the scanner profiles.
    Profiles {
        #[arg(long, default_value = "/usr/share/scanline/firmware-configs")]
        dir: PathBuf,
    },
    /// Program a serial-configurable scanner with a profile's commands and check each answer.
    Configure {
        /// Profile id (file name without .toml) or path to a profile file.
        #[arg(long)]
        profile: String,
        /// The scanner's serial port, e.g. /dev/ttyACM0.
        #[arg(long)]
        port: String,
        #[arg(long, default_value = "/usr/share/scanline/firmware-configs")]
        dir: PathBuf,
    },
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
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run { config, stdin } => {
            let loaded = config::load(&config)?;
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async move {
                let running = daemon::start(loaded, stdin).await?;
                // Tests and the demo read this line to find the kiosk.
                println!("kiosk on http://{}/", running.kiosk_addr);
                tokio::signal::ctrl_c().await?;
                drop(running);
                Ok::<_, anyhow::Error>(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig { config } => {
            let loaded = config::load(&config)?;
            let c = &loaded.config;
            println!("server {} (token read)", c.server.url);
            println!(
                "kiosk on {}, data in {}",
                c.station.kiosk_listen,
                c.station.data_dir.display()
            );
            for t in &c.batch_templates {
                println!(
                    "batch template {:?}: program {} service types {:?}",
                    t.name, t.program_id, t.service_type_ids
                );
            }
            for s in &c.scanners {
                println!("scanner {:?}: {:?}", s.name, s.device);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { payload } => match scanline_core::card_code::classify(&payload) {
            Ok(code) => {
                match code.scanline {
                    Some(c) => println!(
                        "Scanline card {}: client number {}, card {}",
                        code.key, c.client_number, c.seq
                    ),
                    None => println!("other card code {}", code.key),
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("misread: {e}");
                Ok(ExitCode::from(1))
            }
        },
        Command::Scanner(cmd) => scanner_command(&cmd),
    }
}

fn scanner_command(cmd: &ScannerCmd) -> anyhow::Result<ExitCode> {
    let _ = cmd;
    anyhow::bail!("scanner profiles are not available in this build")
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
