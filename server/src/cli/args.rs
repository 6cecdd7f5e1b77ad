//! The command line's arguments, as clap types: the global `--db`, one variant per command and
//! one enum per group of subcommands. Parsing only; `cli` runs them.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use scanline_core::domain::{
    BarScope, DESTINATION_NO_EXIT_INTERVIEW, EnrollmentPolicy, LimitPolicy,
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
    /// Serve the station API and the staff pages.
    Serve(crate::serve::ServeArgs),
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
    /// Beds of a night-by-night program, and the holds staff put on them.
    #[command(subcommand)]
    Bed(BedCmd),
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
    /// Whether a safety alert on a client makes a scan "See staff" in the program.
    SafetyAlerts {
        /// Program id or name.
        #[arg(long)]
        program: String,
        /// true: a safety alert stops the scan for staff; false: it is only shown.
        #[arg(long, action = clap::ArgAction::Set)]
        stop: bool,
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
    pub(crate) client: String,
    #[arg(long)]
    pub(crate) program: String,
    #[arg(long)]
    pub(crate) entry_date: NaiveDate,
    #[arg(long)]
    pub(crate) household: Option<String>,
    /// HUD RelationshipToHoH: 1 self, 2 child, 3 spouse or partner, 4 other relative, 5 other.
    #[arg(long, default_value_t = 1)]
    pub(crate) relationship: u8,
}

#[derive(Debug, Args)]
pub struct ExitArgs {
    #[arg(long)]
    pub(crate) enrollment: i64,
    #[arg(long)]
    pub(crate) date: NaiveDate,
    /// HUD Destination code.
    #[arg(long, default_value_t = DESTINATION_NO_EXIT_INTERVIEW)]
    pub(crate) destination: u16,
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
pub enum BedCmd {
    /// Add a bed at the end of the program's board; prints its id.
    Add {
        /// Program id or name.
        #[arg(long)]
        program: String,
        /// What staff and guests call it: "A1".
        #[arg(long)]
        name: String,
        /// Where it is: "Dorm A".
        #[arg(long, default_value = "")]
        group: String,
        /// What matters at the door, comma-separated: "bottom bunk, accessible".
        #[arg(long, default_value = "")]
        attributes: String,
    },
    /// The program's beds in use: id, name, group, attributes.
    List {
        #[arg(long)]
        program: String,
    },
    /// Take a bed out of use; the nights slept in it stay, its holds are released.
    Retire {
        #[arg(long)]
        program: String,
        #[arg(long)]
        bed: i64,
    },
    /// Until when a returning guest's bed is held for them: HH:MM, or "none".
    ReleaseTime {
        #[arg(long)]
        program: String,
        #[arg(long)]
        at: String,
    },
    /// Hold a bed for nights FIRST..=LAST, for a guest (a reservation) or for no one.
    Hold {
        #[arg(long)]
        program: String,
        #[arg(long)]
        bed: i64,
        /// The guest's client number; none for a hold with no one named.
        #[arg(long)]
        client: Option<u32>,
        #[arg(long)]
        first: NaiveDate,
        /// The last night held; the first when omitted.
        #[arg(long)]
        last: Option<NaiveDate>,
    },
    /// Hold every bed nobody has or holds on a night (a cold-weather surge); prints how many.
    HoldAll {
        #[arg(long)]
        program: String,
        #[arg(long)]
        night: NaiveDate,
    },
    /// Release one hold.
    Release {
        #[arg(long)]
        program: String,
        #[arg(long)]
        hold: i64,
    },
    /// Release every hold covering a night; prints how many.
    ReleaseAll {
        #[arg(long)]
        program: String,
        #[arg(long)]
        night: NaiveDate,
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
