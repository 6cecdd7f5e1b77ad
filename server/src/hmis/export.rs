//! HUD HMIS CSV export, FY2026: the HUD services (those with a RecordType, bed nights among
//! them) of some programs over a date range, with the Client, Enrollment, Exit, Project,
//! Organization and User rows they reference and Export.csv, in HUD's column order and
//! spelling. Records that came from the HMIS keep their HMIS IDs; Scanline's own records get
//! stable IDs (`SL<client number>`, `SL-E<id>`, `SL-S<id>`, ...) that a re-import recognises.
//! Deleted services are exported with DateDeleted. With hashing, names and SSNs follow HUD's
//! HashStatus 4 (SHA-256 of the Soundex of each name; SSN as its last four digits followed by
//! the SHA-256 of the SSN padded with `x`).

use std::collections::{BTreeSet, HashMap};
use std::io::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;
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

/// Appends a stored timestamp (text, UTC) as HUD's `yyyy-mm-dd hh:mm:ss`.
fn push_datetime(out: &mut String, stored: &str) {
    let head = stored.get(..19).unwrap_or(stored);
    for c in head.chars() {
        out.push(if c == 'T' { ' ' } else { c });
    }
}

fn write_id(out: &mut String, prefix: &str, id: i64) {
    out.push_str(prefix);
    write_int(out, id);
}

fn write_int(out: &mut String, n: i64) {
    use std::fmt::Write as _;
    let _ = write!(out, "{n}");
}

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

    /// The positions of some columns.
    fn indexes(&self, columns: &[&str]) -> Vec<usize> {
        columns.iter().map(|c| self.index(c)).collect()
    }

    fn clear(&mut self) {
        for v in &mut self.record {
            v.clear();
        }
    }

    fn put(&mut self, i: usize, value: &str) {
        self.record[i].push_str(value);
    }

    fn write(&mut self) {
        self.writer.write_record(&self.record).expect("writing to memory");
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
    crate::store::hex(&Sha256::digest(s.as_bytes()))
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

    // Services, program by program in date order (the services_by_program_date index), with
    // each enrollment's HMIS IDs and each HUD service type's codes looked up once. Services of
    // types without HUD codes (meals) are not HUD data and are left out.
    let mut services = File::new(columns::SERVICES);
    let mut count = 0u64;
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
    let mut programs_with_services = Vec::new();
    let mut other_programs = BTreeSet::new();
    // HUD service types by id: a small table, read once.
    let mut hud_types: HashMap<i64, (String, String)> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT id, record_type, type_provided FROM service_types
             WHERE record_type IS NOT NULL AND type_provided IS NOT NULL",
        )?;
        for row in stmt.query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        })? {
            let (id, rt, tp) = row?;
            hud_types.insert(id, (rt.to_string(), tp.to_string()));
        }
    }
    for program in &programs {
        // (EnrollmentID, PersonalID) of each enrollment in the program.
        let mut ids: HashMap<i64, (String, String)> = HashMap::new();
        let mut stmt = conn.prepare_cached(
            "SELECT e.id, COALESCE(e.hmis_enrollment_id, 'SL-E' || e.id),
                    COALESCE(c.personal_id, 'SL' || c.client_number)
             FROM enrollments e JOIN clients c ON c.id = e.client_id WHERE e.program_id = ?",
        )?;
        for row in stmt.query_map([program], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })? {
            let (id, enrollment, personal) = row?;
            ids.insert(id, (enrollment, personal));
        }
        let sql =
            "SELECT s.id, s.hmis_services_id, s.enrollment_id, s.service_type_id, s.date_provided,
                          s.created_at, s.hmis_updated_at, s.created_by, s.deleted_at
                   FROM services s
                   WHERE s.program_id = ? AND s.date_provided BETWEEN ? AND ?";
        let before = count;
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query(rusqlite::params![
            program,
            o.start.format(DATE).to_string(),
            o.end.format(DATE).to_string()
        ])?;
        while let Some(r) = rows.next()? {
            let Some((rt, tp)) = hud_types.get(&r.get::<_, i64>(3)?) else { continue };
            let id: i64 = r.get(0)?;
            let enrollment: i64 = r.get(2)?;
            if let std::collections::hash_map::Entry::Vacant(slot) = ids.entry(enrollment) {
                // A service recorded against an enrollment of another program: it is exported
                // with that enrollment, which the enrollment pass then writes too.
                let (eid, pid, other_program): (String, String, i64) = conn
                    .prepare_cached(
                        "SELECT COALESCE(e.hmis_enrollment_id, 'SL-E' || e.id),
                                COALESCE(c.personal_id, 'SL' || c.client_number), e.program_id
                         FROM enrollments e JOIN clients c ON c.id = e.client_id WHERE e.id = ?",
                    )?
                    .query_row([enrollment], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                slot.insert((eid, pid));
                other_programs.insert(other_program);
            }
            let (enrollment_id, personal_id) = &ids[&enrollment];
            let user: Option<i64> = r.get(7)?;
            enrollments.insert(enrollment);
            users.insert(user.unwrap_or(0));
            let rec = &mut services.record;
            for v in rec.iter_mut() {
                v.clear();
            }
            let text = |i: usize| -> rusqlite::Result<Option<&str>> {
                Ok(r.get_ref(i)?.as_str_or_null()?)
            };
            match text(1)? {
                Some(v) => rec[idx[0]].push_str(v),
                None => write_id(&mut rec[idx[0]], "SL-S", id),
            }
            rec[idx[1]].push_str(enrollment_id);
            rec[idx[2]].push_str(personal_id);
            rec[idx[3]].push_str(text(4)?.unwrap_or_default());
            rec[idx[4]].push_str(rt);
            rec[idx[5]].push_str(tp);
            let created = text(5)?.unwrap_or_default();
            let deleted = text(8)?;
            push_datetime(&mut rec[idx[6]], created);
            match (deleted, text(6)?) {
                (None, Some(hmis_updated)) => push_datetime(&mut rec[idx[7]], hmis_updated),
                (Some(d), _) => push_datetime(&mut rec[idx[7]], d),
                (None, None) => push_datetime(&mut rec[idx[7]], created),
            }
            write_id(&mut rec[idx[8]], "SL-U", user.unwrap_or(0));
            if let Some(d) = deleted {
                push_datetime(&mut rec[idx[9]], d);
            }
            rec[idx[10]].push_str(&export_id);
            services.writer.write_record(&services.record).expect("writing to memory");
            count += 1;
        }
        if count > before {
            other_programs.insert(*program);
        }
        for p in std::mem::take(&mut other_programs) {
            if !programs_with_services.contains(&p) {
                programs_with_services.push(p);
            }
        }
    }

    // Enrollments and exits of those services, and their clients and programs: one pass over
    // the enrollments of each program that had services, keeping those the services named.
    let mut enrollment_file = File::new(columns::ENROLLMENT);
    let mut exit_file = File::new(columns::EXIT);
    let mut clients = BTreeSet::new();
    let mut program_set = BTreeSet::new();
    let ei = enrollment_file.indexes(&[
        "EnrollmentID",
        "PersonalID",
        "ProjectID",
        "EntryDate",
        "HouseholdID",
        "RelationshipToHoH",
        "DisablingCondition",
        "DateCreated",
        "DateUpdated",
        "UserID",
        "ExportID",
    ]);
    let xi = exit_file.indexes(&[
        "ExitID",
        "EnrollmentID",
        "PersonalID",
        "ExitDate",
        "Destination",
        "DateCreated",
        "DateUpdated",
        "UserID",
        "ExportID",
    ]);
    for program in &programs_with_services {
        let mut stmt = conn.prepare_cached(
            "SELECT e.id, COALESCE(e.hmis_enrollment_id, 'SL-E' || e.id),
                    COALESCE(c.personal_id, 'SL' || c.client_number),
                    COALESCE(p.hmis_project_id, 'SL-P' || p.id), e.entry_date, e.household_id,
                    e.relationship_to_hoh, e.created_at, COALESCE(e.hmis_updated_at, e.updated_at),
                    e.exit_date, e.destination, COALESCE(e.hmis_exit_id, 'SL-X' || e.id),
                    COALESCE(e.hmis_exit_updated_at, e.updated_at), e.client_id
             FROM enrollments e JOIN clients c ON c.id = e.client_id JOIN programs p ON p.id = e.program_id
             WHERE e.program_id = ?",
        )?;
        let mut rows = stmt.query([program])?;
        while let Some(r) = rows.next()? {
            if !enrollments.contains(&r.get::<_, i64>(0)?) {
                continue;
            }
            program_set.insert(*program);
            clients.insert(r.get::<_, i64>(13)?);
            let text = |i: usize| -> rusqlite::Result<&str> {
                Ok(r.get_ref(i)?.as_str_or_null()?.unwrap_or_default())
            };
            let f = &mut enrollment_file;
            f.clear();
            f.put(ei[0], text(1)?);
            f.put(ei[1], text(2)?);
            f.put(ei[2], text(3)?);
            f.put(ei[3], text(4)?);
            f.put(ei[4], text(5)?);
            write_int(&mut f.record[ei[5]], r.get(6)?);
            f.put(ei[6], "99");
            push_datetime(&mut f.record[ei[7]], text(7)?);
            push_datetime(&mut f.record[ei[8]], text(8)?);
            f.put(ei[9], "SL-U0");
            f.put(ei[10], &export_id);
            f.write();
            if let Some(exit) = r.get::<_, Option<String>>(9)? {
                let x = &mut exit_file;
                x.clear();
                x.put(xi[0], text(11)?);
                x.put(xi[1], text(1)?);
                x.put(xi[2], text(2)?);
                x.put(xi[3], &exit);
                write_int(&mut x.record[xi[4]], r.get::<_, Option<i64>>(10)?.unwrap_or(99));
                push_datetime(&mut x.record[xi[5]], text(7)?);
                push_datetime(&mut x.record[xi[6]], text(12)?);
                x.put(xi[7], "SL-U0");
                x.put(xi[8], &export_id);
                x.write();
            }
        }
    }

    let mut client_file = File::new(columns::CLIENT);
    let ci = client_file.indexes(&[
        "PersonalID",
        "FirstName",
        "MiddleName",
        "LastName",
        "NameSuffix",
        "NameDataQuality",
        "SSN",
        "SSNDataQuality",
        "DOB",
        "DOBDataQuality",
        "Sex",
        "VeteranStatus",
        "RaceNone",
        "DateCreated",
        "DateUpdated",
        "UserID",
        "ExportID",
        "AmIndAKNative",
        "Asian",
        "BlackAfAmerican",
        "HispanicLatinao",
        "MidEastNAfrican",
        "NativeHIPacific",
        "White",
    ]);
    let mut written = BTreeSet::new();
    for program in &program_set {
        let mut stmt = conn.prepare_cached(
            "SELECT id, COALESCE(personal_id, 'SL' || client_number), first_name, middle_name,
                    last_name, name_suffix, name_data_quality, ssn, ssn_data_quality, dob,
                    dob_data_quality, created_at, COALESCE(hmis_updated_at, updated_at)
             FROM clients WHERE id IN (SELECT client_id FROM enrollments WHERE program_id = ?)",
        )?;
        let mut rows = stmt.query([program])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            if !clients.contains(&id) || !written.insert(id) {
                continue;
            }
            let text = |i: usize| -> rusqlite::Result<&str> {
                Ok(r.get_ref(i)?.as_str_or_null()?.unwrap_or_default())
            };
            let f = &mut client_file;
            f.clear();
            f.put(ci[0], text(1)?);
            for (col, i) in [(ci[1], 2), (ci[2], 3), (ci[3], 4)] {
                let v = text(i)?;
                if o.hashed {
                    f.record[col] = hash_name(v);
                } else {
                    f.put(col, v);
                }
            }
            f.put(ci[4], text(5)?);
            write_int(&mut f.record[ci[5]], r.get(6)?);
            let ssn = text(7)?;
            if o.hashed && !ssn.is_empty() {
                f.record[ci[6]] = hash_ssn(ssn);
            } else {
                f.put(ci[6], ssn);
            }
            write_int(&mut f.record[ci[7]], r.get(8)?);
            f.put(ci[8], text(9)?);
            write_int(&mut f.record[ci[9]], r.get(10)?);
            for &i in &[ci[10], ci[11], ci[12]] {
                f.put(i, "99");
            }
            push_datetime(&mut f.record[ci[13]], text(11)?);
            push_datetime(&mut f.record[ci[14]], text(12)?);
            f.put(ci[15], "SL-U0");
            f.put(ci[16], &export_id);
            for &i in &ci[17..] {
                f.put(i, "99");
            }
            f.write();
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
