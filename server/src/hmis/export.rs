//! HUD HMIS CSV export, FY2026: the HUD services (those with a RecordType, bed nights among
//! them) of some programs over a date range, with the Client, Enrollment, Exit, Project,
//! Organization and User rows they reference and Export.csv, in HUD's column order and
//! spelling. Records that came from the HMIS keep their HMIS IDs; Scanline's own records get
//! stable IDs (`SL<client number>`, `SL-E<id>`, `SL-S<id>`, ...) that a re-import recognises.
//! Deleted services are exported with DateDeleted. With hashing, names and SSNs follow HUD's
//! HashStatus 4 (SHA-256 of the Soundex of each name; SSN as its last four digits followed by
//! the SHA-256 of the SSN padded with `x`).

use std::collections::BTreeSet;
use std::io::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, params_from_iter};
use sha2::{Digest, Sha256};

use super::columns;
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
}

const DATE: &str = "%Y-%m-%d";
const DATETIME: &str = "%Y-%m-%d %H:%M:%S";

fn ts(t: DateTime<Utc>) -> String {
    t.format(DATETIME).to_string()
}

/// One CSV file being written with its columns in HUD's order.
struct File {
    columns: &'static [&'static str],
    writer: csv::Writer<Vec<u8>>,
    record: Vec<String>,
}

impl File {
    fn new(columns: &'static [&'static str]) -> Self {
        let mut writer =
            csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
        writer.write_record(columns).expect("writing to memory");
        Self { columns, writer, record: vec![String::new(); columns.len()] }
    }

    fn index(&self, column: &str) -> usize {
        self.columns
            .iter()
            .position(|c| *c == column)
            .unwrap_or_else(|| panic!("no column {column}"))
    }

    /// Writes one row from (column, value) pairs; the others are empty.
    fn row(&mut self, values: &[(&str, String)]) {
        for v in &mut self.record {
            v.clear();
        }
        for (column, value) in values {
            let i = self.index(column);
            self.record[i].clone_from(value);
        }
        self.writer.write_record(&self.record).expect("writing to memory");
    }

    fn finish(self) -> Vec<u8> {
        self.writer.into_inner().expect("writing to memory")
    }
}

/// American Soundex: the first letter and three digits.
pub fn soundex(name: &str) -> String {
    let code = |c: char| match c {
        'B' | 'F' | 'P' | 'V' => '1',
        'C' | 'G' | 'J' | 'K' | 'Q' | 'S' | 'X' | 'Z' => '2',
        'D' | 'T' => '3',
        'L' => '4',
        'M' | 'N' => '5',
        'R' => '6',
        'H' | 'W' => '-',
        _ => '0',
    };
    let letters: Vec<char> =
        name.chars().filter(char::is_ascii_alphabetic).map(|c| c.to_ascii_uppercase()).collect();
    let Some(&first) = letters.first() else { return String::new() };
    let mut out = String::from(first);
    let mut last = code(first);
    for &c in &letters[1..] {
        let d = code(c);
        if d == '-' {
            // H and W do not separate letters with the same code.
            continue;
        }
        if d != '0' && d != last {
            out.push(d);
            if out.len() == 4 {
                break;
            }
        }
        last = d;
    }
    while out.len() < 4 {
        out.push('0');
    }
    out
}

fn sha256_hex(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
    out
}

/// HUD HashStatus 4 for a name: SHA-256 of its Soundex; empty stays empty.
pub fn hash_name(name: &str) -> String {
    let s = soundex(name);
    if s.is_empty() { String::new() } else { sha256_hex(&s) }
}

/// HUD HashStatus 4 for an SSN: the last four characters of the SSN padded to nine with `x`,
/// followed by the SHA-256 of the padded SSN.
pub fn hash_ssn(ssn: &str) -> String {
    let padded = format!("{ssn:x>9}");
    format!("{}{}", &padded[padded.len() - 4..], sha256_hex(&padded))
}

/// Builds the export from a read transaction.
pub fn export(
    conn: &Connection,
    o: &ExportOptions,
    now: DateTime<Utc>,
) -> Result<Exported, StoreError> {
    let export_id = format!("SL{}", now.format("%Y%m%d%H%M%S"));
    let programs: Vec<i64> = if o.programs.is_empty() {
        let mut all = Vec::new();
        for org in &o.organizations {
            let mut stmt =
                conn.prepare_cached("SELECT id FROM programs WHERE organization_id = ?")?;
            for id in stmt.query_map([org], |r| r.get::<_, i64>(0))? {
                all.push(id?);
            }
        }
        all
    } else {
        let mut allowed = Vec::new();
        for p in &o.programs {
            let org: Option<i64> = conn
                .query_row("SELECT organization_id FROM programs WHERE id = ?", [p], |r| r.get(0))
                .ok();
            match org {
                Some(org) if o.organizations.contains(&org) => allowed.push(*p),
                _ => return Err(StoreError::NotFound(format!("no program {p}"))),
            }
        }
        allowed
    };
    let eid = |f: &mut Vec<(&str, String)>| f.push(("ExportID", export_id.clone()));
    let mut enrollments = BTreeSet::new();
    let mut users = BTreeSet::new();

    // Services.
    let mut services = File::new(columns::SERVICES);
    let mut count = 0u64;
    if !programs.is_empty() {
        let marks = vec!["?"; programs.len()].join(",");
        let sql = format!(
            "SELECT s.id, s.hmis_services_id, s.enrollment_id, e.hmis_enrollment_id,
                    COALESCE(c.personal_id, 'SL' || c.client_number), s.date_provided,
                    st.record_type, st.type_provided, s.created_at,
                    COALESCE(s.deleted_at, s.created_at), s.hmis_updated_at, s.created_by, s.deleted_at
             FROM services s
             JOIN service_types st ON st.id = s.service_type_id
             JOIN enrollments e ON e.id = s.enrollment_id
             JOIN clients c ON c.id = s.client_id
             WHERE s.program_id IN ({marks}) AND s.date_provided BETWEEN ? AND ?
               AND st.record_type IS NOT NULL AND st.type_provided IS NOT NULL
             ORDER BY s.id"
        );
        let mut args: Vec<rusqlite::types::Value> = programs.iter().map(|p| (*p).into()).collect();
        args.push(o.start.format(DATE).to_string().into());
        args.push(o.end.format(DATE).to_string().into());
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query(params_from_iter(args))?;
        let idx: Vec<usize> = [
            "ServicesID",
            "EnrollmentID",
            "PersonalID",
            "DateProvided",
            "RecordType",
            "TypeProvided",
            "DateCreated",
            "DateUpdated",
            "UserID",
            "DateDeleted",
            "ExportID",
        ]
        .iter()
        .map(|c| services.index(c))
        .collect();
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let hmis_id: Option<String> = r.get(1)?;
            let enrollment: i64 = r.get(2)?;
            let hmis_enrollment: Option<String> = r.get(3)?;
            let created: DateTime<Utc> = r.get(8)?;
            let touched: DateTime<Utc> = r.get(9)?;
            let hmis_updated: Option<chrono::NaiveDateTime> = r.get(10)?;
            let user: Option<i64> = r.get(11)?;
            let deleted: Option<DateTime<Utc>> = r.get(12)?;
            enrollments.insert(enrollment);
            users.insert(user.unwrap_or(0));
            for v in &mut services.record {
                v.clear();
            }
            let rec = &mut services.record;
            rec[idx[0]] = hmis_id.unwrap_or_else(|| format!("SL-S{id}"));
            rec[idx[1]] = hmis_enrollment.unwrap_or_else(|| format!("SL-E{enrollment}"));
            rec[idx[2]] = r.get(4)?;
            rec[idx[3]] = r.get::<_, NaiveDate>(5)?.format(DATE).to_string();
            rec[idx[4]] = r.get::<_, i64>(6)?.to_string();
            rec[idx[5]] = r.get::<_, i64>(7)?.to_string();
            rec[idx[6]] = ts(created);
            rec[idx[7]] = match (hmis_updated, deleted) {
                (Some(u), None) => u.format(DATETIME).to_string(),
                _ => ts(touched),
            };
            rec[idx[8]] = format!("SL-U{}", user.unwrap_or(0));
            rec[idx[9]] = deleted.map(ts).unwrap_or_default();
            rec[idx[10]].clone_from(&export_id);
            services.writer.write_record(&services.record).expect("writing to memory");
            count += 1;
        }
    }

    // Enrollments and exits of those services, and their clients and programs.
    let mut enrollment_file = File::new(columns::ENROLLMENT);
    let mut exit_file = File::new(columns::EXIT);
    let mut clients = BTreeSet::new();
    let mut program_set = BTreeSet::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT e.id, e.hmis_enrollment_id, COALESCE(c.personal_id, 'SL' || c.client_number),
                    COALESCE(p.hmis_project_id, 'SL-P' || p.id), e.entry_date, e.household_id,
                    e.relationship_to_hoh, e.created_at, e.updated_at, e.hmis_updated_at,
                    e.exit_date, e.destination, e.hmis_exit_id, e.hmis_exit_updated_at,
                    e.client_id, e.program_id
             FROM enrollments e JOIN clients c ON c.id = e.client_id JOIN programs p ON p.id = e.program_id
             WHERE e.id = ?",
        )?;
        for id in &enrollments {
            stmt.query_row([id], |r| {
                let hmis_id: Option<String> = r.get(1)?;
                let personal: String = r.get(2)?;
                let created: DateTime<Utc> = r.get(7)?;
                let updated: DateTime<Utc> = r.get(8)?;
                let hmis_updated: Option<chrono::NaiveDateTime> = r.get(9)?;
                let enrollment_id = hmis_id.unwrap_or_else(|| format!("SL-E{id}"));
                let mut f = vec![
                    ("EnrollmentID", enrollment_id.clone()),
                    ("PersonalID", personal.clone()),
                    ("ProjectID", r.get(3)?),
                    ("EntryDate", r.get::<_, NaiveDate>(4)?.format(DATE).to_string()),
                    ("HouseholdID", r.get(5)?),
                    ("RelationshipToHoH", r.get::<_, i64>(6)?.to_string()),
                    ("DisablingCondition", "99".into()),
                    ("DateCreated", ts(created)),
                    (
                        "DateUpdated",
                        hmis_updated
                            .map_or_else(|| ts(updated), |u| u.format(DATETIME).to_string()),
                    ),
                    ("UserID", "SL-U0".into()),
                ];
                eid(&mut f);
                enrollment_file.row(&f);
                if let Some(exit) = r.get::<_, Option<NaiveDate>>(10)? {
                    let exit_id: Option<String> = r.get(12)?;
                    let exit_updated: Option<chrono::NaiveDateTime> = r.get(13)?;
                    let mut f = vec![
                        ("ExitID", exit_id.unwrap_or_else(|| format!("SL-X{id}"))),
                        ("EnrollmentID", enrollment_id),
                        ("PersonalID", personal),
                        ("ExitDate", exit.format(DATE).to_string()),
                        ("Destination", r.get::<_, Option<i64>>(11)?.unwrap_or(99).to_string()),
                        ("DateCreated", ts(updated)),
                        (
                            "DateUpdated",
                            exit_updated
                                .map_or_else(|| ts(updated), |u| u.format(DATETIME).to_string()),
                        ),
                        ("UserID", "SL-U0".into()),
                    ];
                    eid(&mut f);
                    exit_file.row(&f);
                }
                clients.insert(r.get::<_, i64>(14)?);
                program_set.insert(r.get::<_, i64>(15)?);
                Ok(())
            })?;
        }
    }

    let mut client_file = File::new(columns::CLIENT);
    {
        let mut stmt = conn.prepare_cached(
            "SELECT COALESCE(personal_id, 'SL' || client_number), first_name, middle_name, last_name,
                    name_suffix, name_data_quality, ssn, ssn_data_quality, dob, dob_data_quality,
                    created_at, updated_at, hmis_updated_at
             FROM clients WHERE id = ?",
        )?;
        for id in &clients {
            stmt.query_row([id], |r| {
                let name = |i: usize| -> rusqlite::Result<String> {
                    let v: String = r.get(i)?;
                    Ok(if o.hashed { hash_name(&v) } else { v })
                };
                let ssn: Option<String> = r.get(6)?;
                let created: DateTime<Utc> = r.get(10)?;
                let updated: DateTime<Utc> = r.get(11)?;
                let hmis_updated: Option<chrono::NaiveDateTime> = r.get(12)?;
                let mut f = vec![
                    ("PersonalID", r.get(0)?),
                    ("FirstName", name(1)?),
                    ("MiddleName", name(2)?),
                    ("LastName", name(3)?),
                    ("NameSuffix", r.get(4)?),
                    ("NameDataQuality", r.get::<_, i64>(5)?.to_string()),
                    (
                        "SSN",
                        ssn.map(|s| if o.hashed { hash_ssn(&s) } else { s }).unwrap_or_default(),
                    ),
                    ("SSNDataQuality", r.get::<_, i64>(7)?.to_string()),
                    (
                        "DOB",
                        r.get::<_, Option<NaiveDate>>(8)?
                            .map(|d| d.format(DATE).to_string())
                            .unwrap_or_default(),
                    ),
                    ("DOBDataQuality", r.get::<_, i64>(9)?.to_string()),
                    ("Sex", "99".into()),
                    ("VeteranStatus", "99".into()),
                    ("RaceNone", "99".into()),
                    ("DateCreated", ts(created)),
                    (
                        "DateUpdated",
                        hmis_updated
                            .map_or_else(|| ts(updated), |u| u.format(DATETIME).to_string()),
                    ),
                    ("UserID", "SL-U0".into()),
                ];
                for race in [
                    "AmIndAKNative",
                    "Asian",
                    "BlackAfAmerican",
                    "HispanicLatinao",
                    "MidEastNAfrican",
                    "NativeHIPacific",
                    "White",
                ] {
                    f.push((race, "99".into()));
                }
                eid(&mut f);
                client_file.row(&f);
                Ok(())
            })?;
        }
    }

    let mut project_file = File::new(columns::PROJECT);
    let mut orgs = BTreeSet::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT COALESCE(p.hmis_project_id, 'SL-P' || p.id), COALESCE(o.hmis_organization_id, 'SL-O' || o.id),
                    p.name, p.project_type, p.created_at, p.hmis_updated_at, p.organization_id,
                    (SELECT MIN(entry_date) FROM enrollments WHERE program_id = p.id)
             FROM programs p JOIN organizations o ON o.id = p.organization_id WHERE p.id = ?",
        )?;
        for id in &program_set {
            stmt.query_row([id], |r| {
                let created: DateTime<Utc> = r.get(4)?;
                let hmis_updated: Option<chrono::NaiveDateTime> = r.get(5)?;
                let first_entry: Option<NaiveDate> = r.get(7)?;
                let start =
                    first_entry.map_or(created.date_naive(), |d| d.min(created.date_naive()));
                let mut f = vec![
                    ("ProjectID", r.get(0)?),
                    ("OrganizationID", r.get(1)?),
                    ("ProjectName", r.get(2)?),
                    ("OperatingStartDate", start.format(DATE).to_string()),
                    ("ContinuumProject", "0".into()),
                    ("ProjectType", r.get::<_, i64>(3)?.to_string()),
                    ("TargetPopulation", "4".into()),
                    ("DateCreated", ts(created)),
                    (
                        "DateUpdated",
                        hmis_updated
                            .map_or_else(|| ts(created), |u| u.format(DATETIME).to_string()),
                    ),
                    ("UserID", "SL-U0".into()),
                ];
                eid(&mut f);
                project_file.row(&f);
                orgs.insert(r.get::<_, i64>(6)?);
                Ok(())
            })?;
        }
    }

    let mut org_file = File::new(columns::ORGANIZATION);
    {
        let mut stmt = conn.prepare_cached(
            "SELECT COALESCE(hmis_organization_id, 'SL-O' || id), name, created_at, hmis_updated_at
             FROM organizations WHERE id = ?",
        )?;
        for id in &orgs {
            stmt.query_row([id], |r| {
                let created: DateTime<Utc> = r.get(2)?;
                let hmis_updated: Option<chrono::NaiveDateTime> = r.get(3)?;
                let mut f = vec![
                    ("OrganizationID", r.get(0)?),
                    ("OrganizationName", r.get(1)?),
                    ("VictimServiceProvider", "0".into()),
                    ("DateCreated", ts(created)),
                    (
                        "DateUpdated",
                        hmis_updated
                            .map_or_else(|| ts(created), |u| u.format(DATETIME).to_string()),
                    ),
                    ("UserID", "SL-U0".into()),
                ];
                eid(&mut f);
                org_file.row(&f);
                Ok(())
            })?;
        }
    }

    let mut user_file = File::new(columns::USER);
    users.insert(0);
    for id in &users {
        let (name, created): (String, DateTime<Utc>) = if *id == 0 {
            ("Scanline station".into(), now)
        } else {
            conn.query_row("SELECT display_name, created_at FROM users WHERE id = ?", [id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
        };
        let (first, last) = name.split_once(' ').unwrap_or((&name, ""));
        let mut f = vec![
            ("UserID", format!("SL-U{id}")),
            ("UserFirstName", first.to_owned()),
            ("UserLastName", last.to_owned()),
            ("DateCreated", ts(created)),
            ("DateUpdated", ts(created)),
        ];
        eid(&mut f);
        user_file.row(&f);
    }

    let mut export_file = File::new(columns::EXPORT);
    export_file.row(&[
        ("ExportID", export_id.clone()),
        ("SourceType", "2".into()),
        ("SourceName", "Scanline".into()),
        ("ExportDate", ts(now)),
        ("ExportStartDate", o.start.format(DATE).to_string()),
        ("ExportEndDate", o.end.format(DATE).to_string()),
        ("SoftwareName", "Scanline".into()),
        ("SoftwareVersion", env!("CARGO_PKG_VERSION").into()),
        ("CSVVersion", "2026 v1.0".into()),
        ("ExportPeriodType", "3".into()),
        ("ExportDirective", "2".into()),
        ("HashStatus", if o.hashed { "4" } else { "1" }.into()),
        ("ImplementationID", "Scanline".into()),
    ]);

    Ok(Exported {
        export_id,
        services: count,
        files: vec![
            ("Export.csv", export_file.finish()),
            ("Organization.csv", org_file.finish()),
            ("User.csv", user_file.finish()),
            ("Project.csv", project_file.finish()),
            ("Client.csv", client_file.finish()),
            ("Enrollment.csv", enrollment_file.finish()),
            ("Exit.csv", exit_file.finish()),
            ("Services.csv", services.finish()),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soundex_follows_the_american_rules() {
        for (name, code) in [
            ("Robert", "R163"),
            ("Rupert", "R163"),
            ("Rubin", "R150"),
            ("Ashcraft", "A261"),
            ("Ashcroft", "A261"),
            ("Tymczak", "T522"),
            ("Pfister", "P236"),
            ("Honeyman", "H555"),
            ("Lee", "L000"),
            ("", ""),
        ] {
            assert_eq!(soundex(name), code, "{name}");
        }
    }

    #[test]
    fn hashed_values_follow_hash_status_4() {
        assert_eq!(hash_name("Robert"), sha256_hex("R163"));
        assert_eq!(hash_name(""), "");
        let h = hash_ssn("123456789");
        assert!(h.starts_with("6789"));
        assert_eq!(h.len(), 4 + 64);
        assert_eq!(&h[4..], sha256_hex("123456789"));
        assert_eq!(&hash_ssn("6789")[4..], sha256_hex("xxxxx6789"));
    }
}
