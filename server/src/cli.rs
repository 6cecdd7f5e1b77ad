//! The admin command line of `scanline-server`: serve, migrate, backup, demo, auto-exit, and
//! commands to add the things of DESIGN §3. Every write runs in one IMMEDIATE transaction, so a
//! bad argument leaves the database exactly as it was.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use rusqlite::Connection;
use scanline_core::domain::{
    BarScope, DESTINATION_NO_EXIT_INTERVIEW, EnrollmentPolicy, FrequencyLimit, LimitPolicy,
};

use crate::app::app;
use crate::db::{self, Db, immediate};
use crate::state::{AppState, WebSettings};
use crate::store::{
    StoreError, bars, bednights, cards, clients, enrollments, orgs, programs, stations, users,
};

#[derive(Debug, Parser)]
#[command(name = "scanline-server", version, about = "Scanline central server and admin tool")]
pub struct Cli {
    /// The SQLite database file.
    #[arg(long, env = "SCANLINE_DB", default_value = "scanline.db", global = true)]
    pub db: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the station API.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Sign staff out after this many minutes without activity.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1440))]
        idle_minutes: u32,
        /// Mark the session cookie Secure (the server is reached over HTTPS).
        #[arg(long)]
        secure_cookies: bool,
        /// Write an online backup, checked, into this directory at start and on a schedule.
        #[arg(long)]
        backup_dir: Option<PathBuf>,
        /// Minutes between scheduled backups.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=10_080))]
        backup_every_minutes: u32,
        /// How many scheduled backups to keep (the oldest go first).
        #[arg(long, default_value_t = 48, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        backup_keep: u32,
        /// Serve HTTPS with this certificate (PEM; reloaded when the file changes). Without
        /// it the server speaks plain HTTP: for loopback, or behind a TLS reverse proxy.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Copy the live database to a file with SQLite's online backup.
    Backup { dest: PathBuf },
    /// Replace the database with a backup (stop the server first). The backup is checked and
    /// the database it replaces is kept beside it.
    Restore { backup: PathBuf },
    /// Create a demo database with synthetic clients in a directory, then serve it.
    Demo(crate::demo::DemoArgs),
    /// Exit night-by-night enrollments with no recent bed night.
    AutoExit {
        /// Judge as if this were the current night (YYYY-MM-DD).
        #[arg(long)]
        night: Option<NaiveDate>,
    },
    /// Organizations.
    #[command(subcommand)]
    Org(OrgCmd),
    /// Programs (HMIS projects).
    #[command(subcommand)]
    Program(ProgramCmd),
    /// Service types of a program.
    #[command(subcommand, name = "service-type")]
    ServiceType(ServiceTypeCmd),
    /// Clients.
    #[command(subcommand)]
    Client(ClientCmd),
    /// Enroll a client in a program.
    Enroll(EnrollArgs),
    /// Exit an enrollment.
    Exit(ExitArgs),
    /// Cards.
    #[command(subcommand)]
    Card(CardCmd),
    /// Bars.
    #[command(subcommand)]
    Bar(BarCmd),
    /// Scanner stations.
    #[command(subcommand)]
    Station(StationCmd),
    /// Staff users.
    #[command(subcommand)]
    User(UserCmd),
    /// TLS: make a self-signed certificate for a LAN install.
    #[command(subcommand)]
    Tls(TlsCmd),
    /// HMIS interchange: HUD HMIS CSV import and export, services for ClientTrack.
    #[command(subcommand)]
    Hmis(crate::hmis::cli::HmisCmd),
}

#[derive(Debug, Subcommand)]
pub enum OrgCmd {
    Add {
        #[arg(long)]
        name: String,
        /// IANA time zone, e.g. America/Los_Angeles.
        #[arg(long)]
        time_zone: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProgramCmd {
    Add {
        /// Organization id or name.
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        /// HUD ProjectType: 1 ES night-by-night, 6 Services Only, 11 Day Shelter, ...
        #[arg(long)]
        project_type: u8,
        /// Beds per night.
        #[arg(long)]
        capacity: Option<u32>,
        #[arg(long, value_parser = parse_limit_policy, default_value = "enforce")]
        capacity_policy: LimitPolicy,
        /// Scans before this hour belong to the previous night.
        #[arg(long, default_value_t = 12)]
        cutover_hour: u8,
        /// reject, queue_for_intake or auto_enroll.
        #[arg(long, value_parser = parse_enrollment_policy, default_value = "reject")]
        enrollment_policy: EnrollmentPolicy,
        /// Auto-exit after this many nights without a bed night.
        #[arg(long)]
        auto_exit_after: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ServiceTypeCmd {
    Add {
        /// Program id or name.
        #[arg(long)]
        program: String,
        #[arg(long)]
        name: String,
        /// HUD RecordType (200 for bed nights).
        #[arg(long)]
        record_type: Option<u8>,
        /// HUD TypeProvided.
        #[arg(long)]
        type_provided: Option<u16>,
        #[arg(long, default_value_t = 1.0)]
        units: f64,
        #[arg(long, default_value_t = 0.0)]
        unit_value: f64,
        /// Most per client per day; 0 for no daily maximum.
        #[arg(long, default_value_t = 1)]
        max_per_day: u32,
        /// Visit limit as COUNT/DAYS, e.g. 4/30.
        #[arg(long, value_parser = parse_frequency)]
        frequency: Option<(u32, u32)>,
        #[arg(long, value_parser = parse_limit_policy, default_value = "enforce")]
        frequency_policy: LimitPolicy,
        /// The HMIS's code for this service, for the batch upload export.
        #[arg(long)]
        hmis_code: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCmd {
    Add {
        #[arg(long)]
        org: String,
        #[arg(long)]
        first: String,
        #[arg(long)]
        last: String,
        #[arg(long, default_value = "")]
        preferred: String,
        #[arg(long)]
        dob: Option<NaiveDate>,
        /// Nine digits.
        #[arg(long)]
        ssn: Option<String>,
        /// Client number; the next free one when omitted.
        #[arg(long)]
        number: Option<u32>,
        #[arg(long)]
        restricted: bool,
        /// Also issue a Scanline card and print its code.
        #[arg(long)]
        with_card: bool,
    },
}

#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// Client id, or #number.
    #[arg(long)]
    client: String,
    #[arg(long)]
    program: String,
    #[arg(long)]
    entry_date: NaiveDate,
    #[arg(long)]
    household: Option<String>,
    /// HUD RelationshipToHoH: 1 self, 2 child, 3 spouse or partner, 4 other relative, 5 other.
    #[arg(long, default_value_t = 1)]
    relationship: u8,
}

#[derive(Debug, Args)]
pub struct ExitArgs {
    #[arg(long)]
    enrollment: i64,
    #[arg(long)]
    date: NaiveDate,
    /// HUD Destination code.
    #[arg(long, default_value_t = DESTINATION_NO_EXIT_INTERVIEW)]
    destination: u16,
}

#[derive(Debug, Subcommand)]
pub enum TlsCmd {
    /// Make a self-signed certificate and key for these host names or addresses and print its
    /// SHA-256 fingerprint (for `pin_sha256` in each station's configuration).
    SelfSigned {
        #[arg(long = "host", required = true)]
        hosts: Vec<String>,
        #[arg(long)]
        cert: PathBuf,
        #[arg(long)]
        key: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum CardCmd {
    /// Issue a Scanline card (a reprint replaces the client's earlier card).
    Issue {
        #[arg(long)]
        client: String,
        #[arg(long)]
        expires: Option<NaiveDate>,
    },
    /// Register a legacy HMIS scan-card ID, magnetic-stripe or prox number.
    Add {
        #[arg(long)]
        client: String,
        /// legacy, magstripe or prox.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        code: String,
        #[arg(long)]
        expires: Option<NaiveDate>,
    },
    /// Revoke a card (reported lost).
    Revoke {
        #[arg(long)]
        code: String,
        #[arg(long)]
        reason: String,
    },
    /// Draw a Scanline card: front and back as PNG, or the card as PDF (front and back pages),
    /// at 300 dpi or at a given bitmap size.
    Render {
        #[arg(long)]
        code: String,
        /// Where to write: a path ending in .png writes `<stem>-front.png` and
        /// `<stem>-back.png`; .pdf writes one PDF.
        #[arg(long)]
        out: PathBuf,
        /// Bitmap size and resolution, as WIDTHxHEIGHT@DPI (for example 1016x648@300).
        #[arg(long, default_value = "1012x638@300")]
        bitmap: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum BarCmd {
    Add {
        #[arg(long)]
        client: String,
        /// organization:ID, program:ID or service-type:ID.
        #[arg(long, value_parser = parse_scope)]
        scope: BarScope,
        #[arg(long)]
        begin: NaiveDate,
        #[arg(long)]
        end: NaiveDate,
        #[arg(long)]
        reason: String,
    },
    /// End a bar early: LAST_DAY becomes its last barred day.
    End {
        #[arg(long)]
        bar: i64,
        #[arg(long)]
        last_day: NaiveDate,
    },
}

#[derive(Debug, Subcommand)]
pub enum StationCmd {
    /// Register a station; its token is printed (or written to a file) once.
    Add {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        /// Program id or name; repeat for several.
        #[arg(long = "program", required = true)]
        programs: Vec<String>,
        /// Write the token to this file (mode 0600) instead of printing it.
        #[arg(long)]
        token_file: Option<PathBuf>,
    },
    Revoke {
        #[arg(long)]
        id: i64,
    },
    List,
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        org: String,
        /// admin, staff or viewer.
        #[arg(long)]
        role: String,
        /// Read the password from this file; otherwise from SCANLINE_PASSWORD.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
}

fn parse_limit_policy(s: &str) -> Result<LimitPolicy, String> {
    LimitPolicy::parse(s).ok_or_else(|| format!("{s:?} is not warn or enforce"))
}

fn parse_enrollment_policy(s: &str) -> Result<EnrollmentPolicy, String> {
    EnrollmentPolicy::parse(s)
        .ok_or_else(|| format!("{s:?} is not reject, queue_for_intake or auto_enroll"))
}

fn parse_frequency(s: &str) -> Result<(u32, u32), String> {
    let (n, d) = s.split_once('/').ok_or_else(|| format!("{s:?} is not COUNT/DAYS"))?;
    let n: u32 = n.trim().parse().map_err(|_| format!("{n:?} is not a count"))?;
    let d: u32 = d.trim().parse().map_err(|_| format!("{d:?} is not a number of days"))?;
    if n == 0 || d == 0 {
        return Err("count and days must be at least 1".into());
    }
    Ok((n, d))
}

fn parse_scope(s: &str) -> Result<BarScope, String> {
    let (kind, id) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?} is not organization:ID, program:ID or service-type:ID"))?;
    let id: i64 = id.parse().map_err(|_| format!("{id:?} is not an id"))?;
    BarScope::from_parts(&kind.replace('-', "_"), id)
        .ok_or_else(|| format!("{kind:?} is not organization, program or service-type"))
}

/// Runs one write command in an IMMEDIATE transaction.
fn write<T>(
    conn: &mut Connection,
    f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
) -> anyhow::Result<T> {
    Ok(immediate(conn, f)?)
}

fn open(path: &Path) -> anyhow::Result<Connection> {
    db::open_and_migrate(path).with_context(|| format!("opening {}", path.display()))
}

/// Writes a secret to a new file readable only by its owner.
pub fn write_secret(path: &Path, secret: &str) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts.open(path).with_context(|| format!("writing {}", path.display()))?;
    f.write_all(secret.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    Ok(())
}

/// Serves the API and the staff pages on a bound listener until Ctrl-C or SIGTERM.
pub async fn serve(db: Db, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    serve_with(db, listener, WebSettings::default()).await
}

/// `serve` over HTTPS: the certificate and key are reloaded when their files change.
pub async fn serve_tls(
    db: Db,
    listener: tokio::net::TcpListener,
    web: WebSettings,
    cert: PathBuf,
    key: PathBuf,
) -> anyhow::Result<()> {
    let config = crate::tls::load(&cert, &key).await?;
    let addr = listener.local_addr()?;
    let listener = listener.into_std()?;
    let (state, mut background) = prepare(db, web).await?;
    background.push(tokio::spawn(crate::tls::reload_loop(config.clone(), cert, key)));
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    // Tests and the demo read this line to learn the port.
    println!("listening on https://{addr}");
    let result = axum_server::from_tcp_rustls(listener, config)?
        .handle(handle)
        .serve(app(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .await;
    for task in background {
        task.abort();
    }
    Ok(result?)
}

/// Parses `WIDTHxHEIGHT@DPI`.
fn parse_bitmap(s: &str) -> anyhow::Result<crate::card::Geometry> {
    let (size, dpi) = s.split_once('@').context("the bitmap is WIDTHxHEIGHT@DPI")?;
    let (w, h) = size.split_once('x').context("the bitmap is WIDTHxHEIGHT@DPI")?;
    let n = |v: &str| v.trim().parse::<u32>().context("the bitmap is WIDTHxHEIGHT@DPI");
    Ok(crate::card::Geometry::new(n(w)?, n(h)?, n(dpi)?)?)
}

fn render_card(
    conn: &mut Connection,
    code: &str,
    out: &std::path::Path,
    bitmap: &str,
) -> anyhow::Result<()> {
    let g = parse_bitmap(bitmap)?;
    let (_, content) = write(conn, |tx| {
        let id = cards::id_of(tx, code)?;
        crate::store::printers::card_content(tx, id)
    })?;
    let front = crate::card::front(g, &content)?;
    let back = crate::card::back(g, &content);
    match out.extension().and_then(|e| e.to_str()) {
        Some("pdf") => {
            std::fs::write(out, crate::card::pdf::cards(&[front], Some(&back)))
                .with_context(|| format!("writing {}", out.display()))?;
            println!("wrote {}", out.display());
        }
        Some("png") => {
            let stem = out.with_extension("");
            for (side, bytes) in [("front", front.png()), ("back", back.png())] {
                let path = PathBuf::from(format!("{}-{side}.png", stem.display()));
                std::fs::write(&path, bytes)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("wrote {}", path.display());
            }
        }
        _ => anyhow::bail!("--out must end in .png or .pdf"),
    }
    Ok(())
}

/// `serve` with explicit settings for the staff pages.
pub async fn serve_with(
    db: Db,
    listener: tokio::net::TcpListener,
    web: WebSettings,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let (state, background) = prepare(db, web).await?;
    // Tests and the demo read this line to learn the port.
    println!("listening on http://{addr}");
    // The client's address reaches the handlers: sign-in throttling counts failures by it.
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let result = axum::serve(listener, service).with_graceful_shutdown(shutdown_signal()).await;
    for task in background {
        task.abort();
    }
    Ok(result?)
}

/// The application state for `serve`, with the database's generation, and the jobs that run
/// beside the requests (auto-exit, print jobs).
async fn prepare(
    db: Db,
    web: WebSettings,
) -> anyhow::Result<(AppState, Vec<tokio::task::JoinHandle<()>>)> {
    let background = vec![
        tokio::spawn(crate::jobs::auto_exit_loop(db.clone())),
        tokio::spawn(crate::print_queue::follow_loop(db.clone())),
    ];
    let state = AppState { web, ..AppState::new(db.clone()) };
    let generation: String = db
        .read(|c| {
            c.query_row("SELECT value FROM server_meta WHERE key = 'generation'", [], |r| r.get(0))
        })
        .await??;
    let _ = state.live.generation.set(generation);
    Ok((state, background))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let path = cli.db;
    match cli.command {
        Command::Serve {
            listen,
            idle_minutes,
            secure_cookies,
            backup_dir,
            backup_every_minutes,
            backup_keep,
            tls_cert,
            tls_key,
        } => {
            let db = Db::open(&path).with_context(|| format!("opening {}", path.display()))?;
            let web = WebSettings {
                idle_timeout: chrono::Duration::minutes(i64::from(idle_minutes)),
                secure_cookies,
            };
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async move {
                let backups = backup_dir.map(|dir| {
                    tokio::spawn(crate::backup::schedule_loop(
                        path.clone(),
                        dir,
                        std::time::Duration::from_secs(u64::from(backup_every_minutes) * 60),
                        backup_keep as usize,
                    ))
                });
                let listener = tokio::net::TcpListener::bind(listen)
                    .await
                    .with_context(|| format!("listening on {listen}"))?;
                let result = match tls_cert.zip(tls_key) {
                    Some((cert, key)) => serve_tls(db, listener, web, cert, key).await,
                    None => serve_with(db, listener, web).await,
                };
                if let Some(b) = backups {
                    b.abort();
                }
                result
            })
        }
        Command::Migrate => {
            let conn = open(&path)?;
            println!("schema version {}", db::schema_version(&conn)?);
            Ok(())
        }
        Command::Backup { dest } => {
            // Migrated (and refused when newer) before it is copied.
            drop(open(&path)?);
            crate::backup::backup_file(&path, &dest)?;
            println!("backed up {} to {}", path.display(), dest.display());
            Ok(())
        }
        Command::Restore { backup } => {
            let kept = crate::backup::restore(&backup, &path, crate::store::now())?;
            println!("restored {} from {}", path.display(), backup.display());
            if let Some(kept) = kept {
                println!("the database it replaced is kept as {}", kept.display());
            }
            Ok(())
        }
        Command::Demo(args) => crate::demo::run(&args),
        Command::Hmis(cmd) => crate::hmis::cli::run(&mut open(&path)?, cmd),
        Command::Tls(TlsCmd::SelfSigned { hosts, cert, key }) => {
            for f in [&cert, &key] {
                if f.exists() {
                    bail!("{} exists; choose new files", f.display());
                }
            }
            let (cert_pem, key_pem, fingerprint) = crate::tls::self_signed(&hosts)?;
            std::fs::write(&cert, cert_pem)
                .with_context(|| format!("writing {}", cert.display()))?;
            write_secret(&key, &key_pem)?;
            println!("certificate {} for {}", cert.display(), hosts.join(", "));
            println!("key {} (readable by its owner only)", key.display());
            println!("fingerprint SHA-256 {fingerprint}");
            Ok(())
        }
        Command::AutoExit { night } => {
            let mut conn = open(&path)?;
            let exits = write(&mut conn, |tx| bednights::auto_exit(tx, night))?;
            for e in &exits {
                println!("exited enrollment {} on {}", e.enrollment_id, e.exit_date);
            }
            println!("{} enrollment(s) exited", exits.len());
            Ok(())
        }
        Command::Org(OrgCmd::Add { name, time_zone }) => {
            let mut conn = open(&path)?;
            let id = write(&mut conn, |tx| orgs::insert(tx, &name, &time_zone))?;
            println!("organization {id}");
            Ok(())
        }
        Command::Program(ProgramCmd::Add {
            org,
            name,
            project_type,
            capacity,
            capacity_policy,
            cutover_hour,
            enrollment_policy,
            auto_exit_after,
        }) => {
            let mut conn = open(&path)?;
            let id = write(&mut conn, |tx| {
                let organization_id = orgs::resolve(tx, &org)?;
                programs::insert(
                    tx,
                    &programs::NewProgram {
                        organization_id,
                        name,
                        project_type,
                        capacity,
                        capacity_policy,
                        cutover_hour,
                        enrollment_policy,
                        auto_exit_after_nights: auto_exit_after,
                    },
                )
            })?;
            println!("program {id}");
            Ok(())
        }
        Command::ServiceType(ServiceTypeCmd::Add {
            program,
            name,
            record_type,
            type_provided,
            units,
            unit_value,
            max_per_day,
            frequency,
            frequency_policy,
            hmis_code,
        }) => {
            let mut conn = open(&path)?;
            let id = write(&mut conn, |tx| {
                let program_id = programs::resolve(tx, None, &program)?;
                programs::insert_service_type(
                    tx,
                    &programs::NewServiceType {
                        program_id,
                        name,
                        record_type,
                        type_provided,
                        default_units: units,
                        unit_value,
                        max_per_day,
                        frequency: frequency.map(|(max, days)| FrequencyLimit {
                            max,
                            days,
                            policy: frequency_policy,
                        }),
                        hmis_service_code: hmis_code,
                    },
                )
            })?;
            println!("service type {id}");
            Ok(())
        }
        Command::Client(ClientCmd::Add {
            org,
            first,
            last,
            preferred,
            dob,
            ssn,
            number,
            restricted,
            with_card,
        }) => {
            let mut conn = open(&path)?;
            let (id, number, card) = write(&mut conn, |tx| {
                let organization_id = orgs::resolve(tx, &org)?;
                let (id, number) = clients::insert(
                    tx,
                    &clients::NewClient {
                        organization_id,
                        client_number: number,
                        personal_id: None,
                        first_name: first,
                        last_name: last,
                        preferred_name: preferred,
                        dob,
                        ssn: ssn.map(|s| s.replace('-', "")),
                        restricted,
                    },
                )?;
                let card =
                    if with_card { Some(cards::issue_scanline(tx, id, None)?.1) } else { None };
                Ok((id, number, card))
            })?;
            println!("client {id} number {number}");
            if let Some(code) = card {
                println!("card {code}");
            }
            Ok(())
        }
        Command::Enroll(a) => {
            let mut conn = open(&path)?;
            let id = write(&mut conn, |tx| {
                let client_id = clients::resolve(tx, &a.client)?;
                let program_id = programs::resolve(tx, None, &a.program)?;
                enrollments::insert(
                    tx,
                    &enrollments::NewEnrollment {
                        client_id,
                        program_id,
                        entry_date: a.entry_date,
                        household_id: a.household,
                        relationship_to_hoh: a.relationship,
                    },
                )
            })?;
            println!("enrollment {id}");
            Ok(())
        }
        Command::Exit(a) => {
            let mut conn = open(&path)?;
            write(&mut conn, |tx| enrollments::exit(tx, a.enrollment, a.date, a.destination))?;
            println!("enrollment {} exited on {}", a.enrollment, a.date);
            Ok(())
        }
        Command::Card(cmd) => {
            let mut conn = open(&path)?;
            match cmd {
                CardCmd::Issue { client, expires } => {
                    let (id, code) = write(&mut conn, |tx| {
                        let client_id = clients::resolve(tx, &client)?;
                        cards::issue_scanline(tx, client_id, expires)
                    })?;
                    println!("card {id} code {code}");
                }
                CardCmd::Add { client, kind, code, expires } => {
                    let kind = cards::CardKind::parse(&kind)
                        .filter(|k| *k != cards::CardKind::Scanline)
                        .with_context(|| format!("{kind:?} is not legacy, magstripe or prox"))?;
                    let id = write(&mut conn, |tx| {
                        let client_id = clients::resolve(tx, &client)?;
                        cards::add_code(tx, client_id, kind, &code, expires)
                    })?;
                    println!("card {id}");
                }
                CardCmd::Revoke { code, reason } => {
                    write(&mut conn, |tx| {
                        let id = cards::id_of(tx, &code)?;
                        cards::revoke(tx, id, &reason)
                    })?;
                    println!("card revoked");
                }
                CardCmd::Render { code, out, bitmap } => {
                    render_card(&mut conn, &code, &out, &bitmap)?;
                }
            }
            Ok(())
        }
        Command::Bar(cmd) => {
            let mut conn = open(&path)?;
            match cmd {
                BarCmd::Add { client, scope, begin, end, reason } => {
                    let id = write(&mut conn, |tx| {
                        let client_id = clients::resolve(tx, &client)?;
                        bars::insert(tx, client_id, scope, begin, end, &reason, None)
                    })?;
                    println!("bar {id}");
                }
                BarCmd::End { bar, last_day } => {
                    write(&mut conn, |tx| bars::end_early(tx, bar, last_day))?;
                    println!("bar {bar} now ends on {last_day}");
                }
            }
            Ok(())
        }
        Command::Station(cmd) => {
            let mut conn = open(&path)?;
            match cmd {
                StationCmd::Add { org, name, programs: progs, token_file } => {
                    if let Some(f) = &token_file
                        && f.exists()
                    {
                        bail!("{} exists; the token is written to a new file only", f.display());
                    }
                    // The token is written before the transaction commits: if writing it fails,
                    // the station is not registered.
                    let tx =
                        conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                    let organization_id = orgs::resolve(&tx, &org)?;
                    let ids = progs
                        .iter()
                        .map(|p| programs::resolve(&tx, Some(organization_id), p))
                        .collect::<Result<Vec<_>, _>>()?;
                    let (id, token) = stations::insert(&tx, organization_id, &name, &ids)?;
                    match &token_file {
                        Some(f) => {
                            write_secret(f, &token)?;
                            println!("station {id}; token written to {}", f.display());
                        }
                        None => println!("station {id}\ntoken {token}\n(shown once: keep it now)"),
                    }
                    tx.commit()?;
                }
                StationCmd::Revoke { id } => {
                    write(&mut conn, |tx| stations::revoke(tx, id))?;
                    println!("station {id} revoked");
                }
                StationCmd::List => {
                    for s in stations::list(&conn)? {
                        println!(
                            "{}\t{}\torg {}\t{}\tlast seen {}",
                            s.id,
                            s.name,
                            s.organization_id,
                            if s.revoked { "revoked" } else { "active" },
                            s.last_seen_at.as_deref().unwrap_or("never")
                        );
                    }
                }
            }
            Ok(())
        }
        Command::User(UserCmd::Add { username, name, org, role, password_file }) => {
            let role = users::Role::parse(&role)
                .with_context(|| format!("{role:?} is not admin, staff or viewer"))?;
            let password = match password_file {
                Some(f) => std::fs::read_to_string(&f)
                    .with_context(|| format!("reading {}", f.display()))?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
                None => std::env::var("SCANLINE_PASSWORD")
                    .context("give --password-file or set SCANLINE_PASSWORD")?,
            };
            let mut conn = open(&path)?;
            let id = write(&mut conn, |tx| {
                let organization_id = orgs::resolve(tx, &org)?;
                users::insert(tx, &username, &name, &password, organization_id, role)
            })?;
            println!("user {id}");
            Ok(())
        }
    }
}
