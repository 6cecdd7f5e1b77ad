//! `scanline`: the launcher behind `cargo run --release -- demo`. It runs the whole system on
//! one machine: the server with a synthetic agency (in `./demo-data`, created on first run), a
//! station with its kiosk page, and a serial scanner simulated on a pseudo-terminal that replays
//! a meal line (good cards, repeats, unenrolled, barred, replaced, unknown cards and misreads).
//! Card numbers typed on this terminal are scanned too.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "scanline", version, about = "Scanline launcher")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the demo: server, station, kiosk and a simulated scanner replaying a meal line.
    Demo {
        /// Where the server listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Where the station's kiosk page is served.
        #[arg(long, default_value = "127.0.0.1:8090")]
        kiosk: SocketAddr,
        #[arg(long, default_value = "demo-data")]
        dir: PathBuf,
        /// Seconds between two scans of the simulated meal line.
        #[arg(long, default_value_t = 2.0)]
        pace: f64,
    },
}

fn main() -> std::process::ExitCode {
    let Command::Demo { listen, kiosk, dir, pace } = Cli::parse().command;
    // The demo's terminal is for the meal line; logs only when asked for with RUST_LOG.
    if std::env::var_os("RUST_LOG").is_some() {
        scanline_server::init_logging();
    }
    match demo(listen, kiosk, &dir, pace) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn demo(listen: SocketAddr, kiosk: SocketAddr, dir: &Path, pace: f64) -> anyhow::Result<()> {
    let db_path = scanline_server::demo::ensure(dir, 500)?;
    let dir = std::fs::canonicalize(dir)?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let _hold = scanline_server::db::Hold::take(&db_path, "serving it again")?;
        let db = scanline_server::db::Db::open(&db_path)?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("server address {listen}"))?;
        let server_addr = listener.local_addr()?;
        tokio::spawn(async move {
            if let Err(e) = scanline_server::serve::serve(db, listener).await {
                eprintln!("server stopped: {e:#}");
            }
        });

        let link = dir.join("scanner");
        let scanner = SimulatedScanner::plug(&link)?;
        let config = write_station_config(&dir, server_addr, kiosk, &link)?;
        let loaded = scanline_station::config::load(&config)?;
        let station = scanline_station::daemon::start(loaded, true).await?;

        println!();
        println!("Scanline demo is running.");
        println!("  kiosk (staff):  http://{}/", station.kiosk_addr);
        println!("  kiosk (guests): http://{}/guest", station.kiosk_addr);
        println!("  staff pages:    http://{server_addr}/  (user admin, password in {})", dir.join("admin.password").display());
        println!("  station API:    http://{server_addr}/api/v1/openapi.json");
        println!("A simulated scanner replays a meal line every {pace} s; type a card number and Enter to scan one.");
        println!("Sample cards and what they scan as: {}", dir.join("demo-cards.txt").display());
        println!("Ctrl-C stops the demo; the data stays in {}.", dir.display());

        let line = meal_line(&dir.join("demo-cards.txt"))?;
        std::thread::spawn(move || scanner.replay(&line, Duration::from_secs_f64(pace.max(0.05))));
        // The server inside stops on either signal, so the whole demo does.
        scanline_station::stop_signal().await?;
        drop(station);
        Ok(())
    })
}

/// The station configuration for the demo, next to the server's data.
fn write_station_config(
    dir: &Path,
    server: SocketAddr,
    kiosk: SocketAddr,
    link: &Path,
) -> anyhow::Result<PathBuf> {
    let path = dir.join("station.toml");
    let text = format!(
        "[server]\nurl = \"http://{server}\"\ntoken_file = \"station.token\"\nroster_refresh_secs = 5\n\n\
         [station]\ndata_dir = \"{}\"\nkiosk_listen = \"{kiosk}\"\n\n\
         [[batch_template]]\nname = \"Lunch line\"\nprogram_id = 1\nservice_type_ids = [1]\n\n\
         [[batch_template]]\nname = \"Night check-in\"\nprogram_id = 2\nservice_type_ids = [2]\n\n\
         [[scanner]]\nname = \"simulated scanner\"\nkind = \"serial\"\npath = \"{}\"\n",
        dir.join("station").display(),
        link.display()
    );
    std::fs::write(&path, text)?;
    Ok(path)
}

/// The demo's meal line: every sample card in turn, with a few coming back for seconds.
fn meal_line(cards: &Path) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(cards).with_context(|| format!("reading {}", cards.display()))?;
    let codes: Vec<String> =
        text.lines().filter_map(|l| l.split('\t').next()).map(str::to_owned).collect();
    let mut line = Vec::new();
    for (i, c) in codes.iter().enumerate() {
        line.push(c.clone());
        if i % 7 == 6 {
            line.push(codes[i / 2].clone());
        }
    }
    Ok(line)
}

/// A serial scanner on a pseudo-terminal: the station opens the slave through a symlink.
struct SimulatedScanner {
    master: std::fs::File,
}

impl SimulatedScanner {
    fn plug(link: &Path) -> anyhow::Result<Self> {
        use nix::sys::termios::{self, SetArg};
        let pty = nix::pty::openpty(None, None).context("opening a pseudo-terminal")?;
        for fd in [&pty.master, &pty.slave] {
            let mut t = termios::tcgetattr(fd)?;
            termios::cfmakeraw(&mut t);
            termios::tcsetattr(fd, SetArg::TCSANOW, &t)?;
        }
        let slave = std::fs::read_link(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&pty.slave)
        ))?;
        let _ = std::fs::remove_file(link);
        std::os::unix::fs::symlink(&slave, link)?;
        drop(pty.slave);
        Ok(Self { master: std::fs::File::from(pty.master) })
    }

    fn replay(mut self, line: &[String], pace: Duration) {
        loop {
            for code in line {
                std::thread::sleep(pace);
                if self.master.write_all(format!("{code}\r").as_bytes()).is_err() {
                    return;
                }
            }
        }
    }
}
