//! The admin command line of `scanline-server`: `args` declares every command, and each runs
//! as one function (`serve` in `crate::serve`, the server's upkeep in `ops`, the records of
//! DESIGN §3 in `records`, beds and holds (§16) in `beds`, HMIS interchange in
//! `crate::hmis::cli`). Every write runs in one IMMEDIATE transaction, so a bad argument
//! leaves the database exactly as it was.

mod args;
mod beds;
mod ops;
mod records;

use std::path::Path;

use anyhow::Context as _;

pub use args::*;

use crate::db::Local;

fn open(path: &Path) -> anyhow::Result<Local> {
    Local::open(path).with_context(|| format!("opening {}", path.display()))
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let path = cli.db.as_path();
    match cli.command {
        Command::Serve(a) => crate::serve::run(path, a),
        Command::Migrate => ops::migrate(path),
        Command::Backup { dest } => ops::backup(path, &dest),
        Command::Restore { backup } => ops::restore(path, &backup),
        Command::Demo(args) => crate::demo::run(&args),
        Command::Hmis(cmd) => crate::hmis::cli::run(&mut open(path)?, cmd),
        Command::Tls(TlsCmd::SelfSigned { hosts, cert, key }) => {
            ops::self_signed(&hosts, &cert, &key)
        }
        Command::AutoExit { night } => ops::auto_exit(&mut open(path)?, night),
        Command::Org(cmd) => records::org(&mut open(path)?, cmd),
        Command::Program(cmd) => records::program(&mut open(path)?, cmd),
        Command::ServiceType(cmd) => records::service_type(&mut open(path)?, cmd),
        Command::Client(cmd) => records::client(&mut open(path)?, cmd),
        Command::Enroll(a) => records::enroll(&mut open(path)?, a),
        Command::Exit(a) => records::exit(&mut open(path)?, &a),
        Command::Card(cmd) => records::card(&mut open(path)?, cmd),
        Command::Bar(cmd) => records::bar(&mut open(path)?, cmd),
        Command::Bed(cmd) => beds::run(&mut open(path)?, cmd),
        Command::Station(cmd) => records::station(&mut open(path)?, cmd),
        Command::User(cmd) => records::user(&mut open(path)?, cmd),
    }
}
