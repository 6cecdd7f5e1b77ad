//! The Scanline station daemon (DESIGN §8, §9): scanner input, a local SQLite database with
//! the roster cache, batches and an outbox, background sync with the server, and the kiosk
//! display. Every scan is judged with exactly the rules in `scanline_core`, the same code the
//! server runs, and committed before its verdict is shown.

pub mod clock;
pub mod config;
pub mod daemon;
pub mod kiosk;
pub mod scanner;
pub mod state;
pub mod store;
pub mod sync;
pub mod tls;
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
    init_logging();
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
                stop_signal().await?;
                drop(running);
                Ok::<_, anyhow::Error>(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig { config } => {
            let loaded = config::load(&config)?;
            let c = &loaded.config;
            println!("server {} (token read from {})", c.server.url, c.server.token_file.display());
            if let Some(ca) = &c.server.ca_file {
                println!("server certificate checked against {}", ca.display());
            }
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

/// Finds a profile by id in `dir`, or reads it from a path.
fn find_profile(
    dir: &std::path::Path,
    id_or_path: &str,
) -> anyhow::Result<scanner::profile::Profile> {
    let path = std::path::Path::new(id_or_path);
    if path.extension().is_some_and(|e| e == "toml") || path.is_file() {
        return Ok(scanner::profile::load_file(path)?);
    }
    let all = scanner::profile::load_dir(dir)?;
    let ids: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
    let known = ids.join(", ");
    all.into_iter().find(|p| p.id == id_or_path).ok_or_else(|| {
        anyhow::anyhow!("no profile {id_or_path:?} in {}; known: {known}", dir.display())
    })
}

fn scanner_command(cmd: &ScannerCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        ScannerCmd::Profiles { dir } => {
            for p in scanner::profile::load_dir(dir)? {
                let modes: Vec<&str> =
                    p.transports.iter().map(scanner::profile::Transport::mode).collect();
                println!(
                    "{}\t{} {}\tUSB {:04x}\t{}",
                    p.id,
                    p.vendor,
                    p.model,
                    p.usb.vendor_id,
                    modes.join(", ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ScannerCmd::Configure { profile, port, dir } => {
            let profile = find_profile(dir, profile)?;
            let mut serial = scanner::configure::open_port(port, &profile)?;
            println!("configuring {} {} on {port}", profile.vendor, profile.model);
            let outcomes = scanner::configure::apply(
                &mut serial,
                &profile,
                std::time::Duration::from_secs(2),
            )?;
            let mut ok = true;
            for o in &outcomes {
                let good = matches!(o.answer, scanner::configure::Answer::Ack);
                ok &= good;
                println!("{} {}: {}", if good { "ok  " } else { "FAIL" }, o.command, o.message);
            }
            for step in profile
                .setup
                .iter()
                .filter(|s| s.method != scanner::profile::SetupMethod::SerialCommand)
            {
                println!("by hand: {} (check: {})", step.description, step.verify);
            }
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}

/// Logs to standard error (see `scanline_startup::init_logging`).
pub fn init_logging() {
    scanline_startup::init_logging();
}

/// Waits for Ctrl-C or SIGTERM (what `kill` and systemd send), so the station stops the same
/// way on either: scanner threads end and the kiosk closes. Nothing is lost either way; every
/// shown verdict was committed before it was shown.
pub async fn stop_signal() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
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
