//! `scanline`: the launcher behind `cargo run --release -- demo`. It runs the whole demo in
//! `./demo-data` (created on first run): the server with a synthetic agency, ready for stations.
//! Everything it does is also available from `scanline-server` itself.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "scanline", version, about = "Scanline launcher")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the demo: a synthetic agency served on the listen address.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[arg(long, default_value = "demo-data")]
        dir: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    let Command::Demo { listen, dir } = Cli::parse().command;
    let args = scanline_server::demo::DemoArgs { listen, dir, clients: 500, no_serve: false };
    match scanline_server::demo::run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
