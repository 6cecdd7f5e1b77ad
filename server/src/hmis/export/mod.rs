//! HUD HMIS CSV export, FY2026 (DESIGN §12): the HUD services (those with a RecordType, bed
//! nights among them) of some programs over a date range, with the Client, Enrollment, Exit,
//! Project, Organization and User rows they reference and Export.csv, in HUD's column order
//! and spelling.
//!
//! A record that came from the HMIS goes back as the HMIS sent it, every column as received
//! (`model::kept`); only a value Scanline itself changed since is written over it, and only
//! then does DateUpdated move. A record Scanline made has stable IDs a re-import recognises
//! (`SL<client number>`, `SL-E<id>`, `SL-S<id>`, ...) and, for what Scanline never collects,
//! the honest HUD value: "data not collected" (99) where HUD has one, "no" (0) for race
//! columns with RaceNone 99. Times are written in the export's time zone, as HUD's local
//! times. Deleted services go out with DateDeleted; a night has one bed night.
//!
//! Export.csv says what the files are (DESIGN §12.4): ExportPeriodType 3 (a reporting period:
//! the services provided in it and what they refer to) and ExportDirective 1 (delta refresh:
//! records to add or update, never a full replacement of the HMIS's data for the period).

mod files;
pub mod hash;

use std::collections::BTreeSet;
use std::io::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;
use serde::Serialize;

pub use hash::{hash_name, hash_ssn, soundex};

use super::model::records::ExportRecord;
use crate::store::ProgramId;
use crate::store::StoreError;

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// Programs to export; every program of `organizations` when empty.
    pub programs: Vec<i64>,
    /// The organizations the exporting person may see.
    pub organizations: Vec<i64>,
    pub hashed: bool,
    /// The zone of the times the files hold (the HMIS's local time); `None`: the zone of the
    /// organization of the first program exported.
    pub time_zone: Option<chrono_tz::Tz>,
}

/// The files of an export, in HUD's order, each as CSV bytes.
pub struct Exported {
    pub export_id: String,
    pub files: Vec<(&'static str, Vec<u8>)>,
    pub services: u64,
}

impl Exported {
    /// The files as one zip archive.
    pub fn zip(&self) -> std::io::Result<Vec<u8>> {
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1));
        for (name, bytes) in &self.files {
            out.start_file(*name, options).map_err(std::io::Error::other)?;
            out.write_all(bytes)?;
        }
        Ok(out.finish().map_err(std::io::Error::other)?.into_inner())
    }

    /// One file's bytes.
    pub fn file(&self, name: &str) -> Option<&[u8]> {
        self.files.iter().find(|(n, _)| *n == name).map(|(_, b)| b.as_slice())
    }
}

/// What the services of an export named, for the files that follow them.
#[derive(Default)]
struct Named {
    enrollments: BTreeSet<i64>,
    /// UserIDs the written records name.
    users: BTreeSet<String>,
    /// Programs whose enrollments the services named, in the order first seen.
    programs: Vec<i64>,
    clients: BTreeSet<i64>,
    /// Programs with an enrollment written, for Client.csv and Project.csv.
    written_programs: BTreeSet<i64>,
    organizations: BTreeSet<i64>,
}

/// What every file's writer needs.
struct Out<'a> {
    conn: &'a Connection,
    o: &'a ExportOptions,
    zone: chrono_tz::Tz,
    export_id: String,
    now: DateTime<Utc>,
}

impl Out<'_> {
    /// A Scanline time as HUD writes it, in the export's zone.
    fn local(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.zone).format(DATETIME).to_string()
    }
}

const DATE: &str = "%Y-%m-%d";
const DATETIME: &str = "%Y-%m-%d %H:%M:%S";

/// An ExportID no other export shares: the time to the millisecond and a random part.
fn export_id(now: DateTime<Utc>) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("SL{}-{}", now.format("%Y%m%d%H%M%S%3f"), &random[..8])
}

/// Builds the export from a read transaction.
pub fn export(
    conn: &Connection,
    o: &ExportOptions,
    now: DateTime<Utc>,
) -> Result<Exported, StoreError> {
    let programs = programs_to_export(conn, o)?;
    let zone = match (o.time_zone, programs.first()) {
        (Some(zone), _) => zone,
        (None, Some(p)) => {
            let org = crate::store::programs::get_rules(conn, ProgramId(*p))?.organization_id;
            crate::store::orgs::parse_time_zone(&crate::store::orgs::get(conn, org)?.time_zone)?
        }
        (None, None) => chrono_tz::UTC,
    };
    let out = Out { conn, o, zone, export_id: export_id(now), now };
    let mut named = Named::default();
    let (services, count) = files::services(&out, &programs, &mut named)?;
    let (enrollments, exits) = files::enrollments_and_exits(&out, &mut named)?;
    let clients = files::clients(&out, &mut named)?;
    let projects = files::projects(&out, &mut named)?;
    let organizations = files::organizations(&out, &mut named)?;
    let users = files::users(&out, &named)?;
    let mut export_file = CsvFile::new::<ExportRecord>();
    export_file.put(&ExportRecord {
        export_id: out.export_id.clone(),
        source_type: "2".into(),
        source_name: "Scanline".into(),
        export_date: out.local(now),
        export_start_date: o.start.format(DATE).to_string(),
        export_end_date: o.end.format(DATE).to_string(),
        software_name: "Scanline".into(),
        software_version: env!("CARGO_PKG_VERSION").into(),
        csv_version: "2026 v1.0".into(),
        export_period_type: "3".into(),
        export_directive: "1".into(),
        hash_status: if o.hashed { "4" } else { "1" }.into(),
        implementation_id: "Scanline".into(),
        ..ExportRecord::default()
    });
    Ok(Exported {
        export_id: out.export_id,
        services: count,
        files: vec![
            ("Export.csv", export_file.finish()),
            ("Organization.csv", organizations),
            ("User.csv", users),
            ("Project.csv", projects),
            ("Client.csv", clients),
            ("Enrollment.csv", enrollments),
            ("Exit.csv", exits),
            ("Services.csv", services),
        ],
    })
}

/// The programs asked for, each of an organization the exporting person may see; all of
/// theirs when none was asked for.
fn programs_to_export(conn: &Connection, o: &ExportOptions) -> Result<Vec<i64>, StoreError> {
    if o.programs.is_empty() {
        let mut all = Vec::new();
        for org in &o.organizations {
            all.extend(crate::store::programs::list_for_org(conn, *org)?.into_iter().map(|p| p.id));
        }
        return Ok(all);
    }
    let mut allowed = Vec::new();
    for p in &o.programs {
        match crate::store::programs::get_rules(conn, ProgramId(*p)) {
            Ok(rules) if o.organizations.contains(&rules.organization_id) => allowed.push(*p),
            _ => return Err(StoreError::NotFound(format!("no program {p}"))),
        }
    }
    Ok(allowed)
}

/// One CSV file being written, its header always there (an empty file is a header alone).
struct CsvFile {
    writer: csv::Writer<Vec<u8>>,
}

impl CsvFile {
    fn new<T: Serialize + Default>() -> Self {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .has_headers(false)
            .from_writer(Vec::new());
        writer.write_record(super::model::records::columns::<T>()).expect("writing to memory");
        Self { writer }
    }

    fn put<T: Serialize>(&mut self, record: &T) {
        self.writer.serialize(record).expect("writing to memory");
    }

    fn finish(self) -> Vec<u8> {
        self.writer.into_inner().expect("writing to memory")
    }
}
