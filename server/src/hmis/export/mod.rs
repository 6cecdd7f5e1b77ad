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

mod by_id;
mod csv_file;
mod files;
pub mod hash;
mod pipe;

use std::collections::BTreeSet;
use std::io::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;

pub use hash::{hash_name, hash_ssn, soundex};

use csv_file::CsvFile;

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
    /// Enrollments the services named.
    enrollments: by_id::ById<bool>,
    /// UserIDs the written records name.
    users: BTreeSet<String>,
    /// Programs whose enrollments the services named, in the order first seen.
    programs: Vec<i64>,
    /// Clients of the enrollments written.
    clients: by_id::ById<bool>,
    /// Programs with an enrollment written, for Client.csv and Project.csv.
    written_programs: BTreeSet<i64>,
    /// Each program's first entry date among all its enrollments, seen as Enrollment.csv is
    /// written: a program has run at least since then (Project.csv's OperatingStartDate).
    first_entry: std::collections::BTreeMap<i64, NaiveDate>,
    organizations: BTreeSet<i64>,
}

/// Hashes a record's integer id with one multiplication: the export looks one up for each of
/// a million services, and the ids are the database's own, not chosen by anyone outside.
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_i64(&mut self, n: i64) {
        self.0 = (self.0 ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type Ids = std::hash::BuildHasherDefault<IdHasher>;
type IdMap<V> = std::collections::HashMap<i64, V, Ids>;

/// What every file's writer needs: the connection its rows are read from, and what writing
/// them takes (`Fmt`, through `Deref`).
struct Out<'a> {
    conn: &'a Connection,
    fmt: Fmt<'a>,
}

impl<'a> std::ops::Deref for Out<'a> {
    type Target = Fmt<'a>;
    fn deref(&self) -> &Fmt<'a> {
        &self.fmt
    }
}

/// What writing a record takes, without the connection: a second thread writes the rows the
/// first reads (`pipe`).
#[derive(Clone)]
struct Fmt<'a> {
    o: &'a ExportOptions,
    zone: chrono_tz::Tz,
    export_id: String,
    now: DateTime<Utc>,
    /// The zone's offset for the last quarter hour looked up: (quarter hours since 1970,
    /// seconds east of UTC). Services come in date order, so most lookups are the last one.
    offset: std::cell::Cell<(i64, i32)>,
}

impl Fmt<'_> {
    /// A Scanline time as HUD writes it, in the export's zone.
    fn local(&self, t: DateTime<Utc>) -> String {
        use chrono::{Offset as _, TimeZone as _};
        let quarter = t.timestamp().div_euclid(900);
        let (cached, seconds) = self.offset.get();
        let seconds = if cached == quarter {
            seconds
        } else {
            let seconds =
                self.zone.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc();
            self.offset.set((quarter, seconds));
            seconds
        };
        crate::stamp::datetime(t.naive_utc() + chrono::Duration::seconds(i64::from(seconds)))
    }

    /// A time as the database stores it (UTC text) as HUD writes it, in the export's zone.
    fn local_text(&self, stored: &str) -> String {
        parse_stored(stored)
            .map_or_else(|| stored.get(..19).unwrap_or(stored).replace('T', " "), |t| self.local(t))
    }
}

/// A stored UTC time, `yyyy-mm-dd hh:mm:ss[.fff][Z|+00:00]` (or with a `T`), read without
/// chrono's general parser: the export reads a million of them.
fn parse_stored(stored: &str) -> Option<DateTime<Utc>> {
    let b = stored.as_bytes();
    let digits = |at: usize, n: usize| -> Option<u32> {
        b.get(at..at + n)?
            .iter()
            .try_fold(0u32, |v, d| d.is_ascii_digit().then(|| v * 10 + u32::from(d - b'0')))
    };
    let rest = stored.get(19..).unwrap_or("?");
    let rest =
        rest.strip_prefix('.').map_or(rest, |r| r.trim_start_matches(|c: char| c.is_ascii_digit()));
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b' ' | b'T')
        || !matches!(rest, "" | "Z" | "+00:00")
    {
        return stored.parse::<DateTime<Utc>>().ok();
    }
    let year = i32::try_from(digits(0, 4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, digits(5, 2)?, digits(8, 2)?)?;
    Some(date.and_hms_opt(digits(11, 2)?, digits(14, 2)?, digits(17, 2)?)?.and_utc())
}

/// HUD's date, for reading one back.
const DATE: &str = "%Y-%m-%d";

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
    let fmt = Fmt { o, zone, export_id: export_id(now), now, offset: (i64::MIN, 0).into() };
    let out = Out { conn, fmt };
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
        export_start_date: crate::stamp::date(o.start),
        export_end_date: crate::stamp::date(o.end),
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
        export_id: out.fmt.export_id,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_are_read_in_every_form_the_database_holds() {
        let t = |s: &str| parse_stored(s).map(|t| t.to_rfc3339());
        let want = Some("2026-03-08T09:30:05+00:00".to_owned());
        for s in [
            "2026-03-08 09:30:05",
            "2026-03-08 09:30:05.123+00:00",
            "2026-03-08T09:30:05Z",
            "2026-03-08 09:30:05.123456789",
        ] {
            assert_eq!(t(s).map(|v| v[..19].to_owned() + "+00:00"), want, "{s}");
        }
        assert_eq!(t("2026-03-08T04:30:05-05:00"), want, "another offset takes chrono's path");
        assert_eq!(t("2026-02-30 09:30:05"), None);
        assert_eq!(
            crate::stamp::datetime(parse_stored("0999-01-02 03:04:05").unwrap().naive_utc()),
            "0999-01-02 03:04:05"
        );
    }

    /// Options for everything, for tests.
    pub(super) fn everything() -> ExportOptions {
        ExportOptions {
            start: NaiveDate::MIN,
            end: NaiveDate::MAX,
            programs: Vec::new(),
            organizations: Vec::new(),
            hashed: false,
            time_zone: None,
        }
    }

    /// An export's writer in Chicago's time, for tests.
    pub(super) fn chicago<'a>(conn: &'a Connection, o: &'a ExportOptions, id: &str) -> Out<'a> {
        Out {
            conn,
            fmt: Fmt {
                o,
                zone: chrono_tz::America::Chicago,
                export_id: id.to_owned(),
                now: Utc::now(),
                offset: (i64::MIN, 0).into(),
            },
        }
    }

    #[test]
    fn local_times_follow_the_zone_across_a_change_of_clocks() {
        let conn = Connection::open_in_memory().unwrap();
        let o = everything();
        let out = chicago(&conn, &o, "");
        // Clocks in Chicago went forward at 08:00 UTC on 8 March 2026.
        assert_eq!(out.local_text("2026-03-08 07:59:59.000+00:00"), "2026-03-08 01:59:59");
        assert_eq!(out.local_text("2026-03-08 08:00:00.000+00:00"), "2026-03-08 03:00:00");
        assert_eq!(out.local_text("2026-03-08 07:59:00+00:00"), "2026-03-08 01:59:00");
        assert_eq!(out.local_text("2026-07-01 12:00:00"), "2026-07-01 07:00:00");
    }
}
