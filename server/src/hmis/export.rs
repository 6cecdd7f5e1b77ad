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

use serde::Serialize;

use super::records::{
    ClientRecord, EnrollmentRecord, ExitRecord, ExportRecord, OrganizationRecord, ProjectRecord,
    ServicesRecord, UserRecord,
};
use crate::store::ProgramId;
use crate::store::StoreError;
use crate::store::hmis::outgoing;

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

/// A stored timestamp (text, UTC) as HUD's `yyyy-mm-dd hh:mm:ss`.
fn hud_datetime(stored: &str) -> String {
    stored.get(..19).unwrap_or(stored).replace('T', " ")
}

fn ts(t: DateTime<Utc>) -> String {
    t.format(DATETIME).to_string()
}

/// One CSV file being written, its header always there (an empty file is a header alone).
struct CsvFile {
    writer: csv::Writer<Vec<u8>>,
}

impl CsvFile {
    fn new<T: Serialize + Default>() -> Self {
        // The header is what serde names the fields of a record, in order.
        let mut probe = csv::Writer::from_writer(Vec::new());
        probe.serialize(T::default()).expect("writing to memory");
        let probe = probe.into_inner().expect("writing to memory");
        let header = probe.split(|b| *b == b'\n').next().unwrap_or_default();
        let mut names = csv::ReaderBuilder::new().has_headers(false).from_reader(header);
        let names = names.records().next().and_then(Result::ok).unwrap_or_default();
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .has_headers(false)
            .from_writer(Vec::new());
        writer.write_record(&names).expect("writing to memory");
        Self { writer }
    }

    fn put<T: Serialize>(&mut self, record: &T) {
        self.writer.serialize(record).expect("writing to memory");
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

/// What the services of an export named, for the files that follow them.
#[derive(Default)]
struct Named {
    enrollments: BTreeSet<i64>,
    users: BTreeSet<i64>,
    /// Programs whose enrollments the services named, in the order first seen.
    programs: Vec<i64>,
    clients: BTreeSet<i64>,
    /// Programs with an enrollment written, for Client.csv and Project.csv.
    written_programs: BTreeSet<i64>,
    organizations: BTreeSet<i64>,
}

/// Builds the export from a read transaction.
pub fn export(
    conn: &Connection,
    o: &ExportOptions,
    now: DateTime<Utc>,
) -> Result<Exported, StoreError> {
    let export_id = format!("SL{}", now.format("%Y%m%d%H%M%S"));
    let programs = programs_to_export(conn, o)?;
    let mut named = Named::default();
    let (services, count) = services(conn, o, &programs, &export_id, &mut named)?;
    let (enrollments, exits) = enrollments_and_exits(conn, &export_id, &mut named)?;
    let clients = clients(conn, o, &export_id, &named)?;
    let projects = projects(conn, &export_id, &mut named)?;
    let organizations = organizations(conn, &export_id, &named)?;
    let users = users(conn, &export_id, &mut named, now)?;
    let mut export_file = CsvFile::new::<ExportRecord>();
    export_file.put(&ExportRecord {
        export_id: export_id.clone(),
        source_type: "2".into(),
        source_name: "Scanline".into(),
        export_date: ts(now),
        export_start_date: o.start.format(DATE).to_string(),
        export_end_date: o.end.format(DATE).to_string(),
        software_name: "Scanline".into(),
        software_version: env!("CARGO_PKG_VERSION").into(),
        csv_version: "2026 v1.0".into(),
        export_period_type: "3".into(),
        export_directive: "2".into(),
        hash_status: if o.hashed { "4" } else { "1" }.into(),
        implementation_id: "Scanline".into(),
        ..ExportRecord::default()
    });
    Ok(Exported {
        export_id,
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

/// Services.csv: the HUD services of each program in the period, program by program in date
/// order, with each enrollment's export IDs and each HUD service type's codes looked up once.
/// Services of types without HUD codes (meals) are not HUD data and are left out.
fn services(
    conn: &Connection,
    o: &ExportOptions,
    programs: &[i64],
    export_id: &str,
    named: &mut Named,
) -> Result<(Vec<u8>, u64), StoreError> {
    let hud_types: HashMap<i64, (String, String)> = outgoing::hud_service_types(conn)?
        .into_iter()
        .map(|(id, rt, tp)| (id, (rt.to_string(), tp.to_string())))
        .collect();
    let mut file = CsvFile::new::<ServicesRecord>();
    let mut count = 0u64;
    for program in programs {
        let mut ids: HashMap<i64, (String, String)> = outgoing::enrollment_ids(conn, *program)?
            .into_iter()
            .map(|(id, e, p)| (id, (e, p)))
            .collect();
        let mut other_programs = BTreeSet::new();
        let before = count;
        outgoing::for_each_service(conn, *program, o.start, o.end, |s| {
            let Some((rt, tp)) = hud_types.get(&s.service_type_id) else { return Ok(()) };
            if let std::collections::hash_map::Entry::Vacant(slot) = ids.entry(s.enrollment_id) {
                // A service recorded against an enrollment of another program: it is exported
                // with that enrollment, which the enrollment pass then writes too.
                let (eid, pid, other) = outgoing::enrollment_ids_of(conn, s.enrollment_id)?;
                slot.insert((eid, pid));
                other_programs.insert(other);
            }
            let (enrollment_id, personal_id) = &ids[&s.enrollment_id];
            named.enrollments.insert(s.enrollment_id);
            named.users.insert(s.created_by.unwrap_or(0));
            let updated = match (&s.deleted_at, &s.hmis_updated_at) {
                (Some(d), _) => d,
                (None, Some(u)) => u,
                (None, None) => &s.created_at,
            };
            file.put(&ServicesRecord {
                services_id: s.hmis_services_id.unwrap_or_else(|| format!("SL-S{}", s.id)),
                enrollment_id: enrollment_id.clone(),
                personal_id: personal_id.clone(),
                date_provided: s.date_provided,
                record_type: rt.clone(),
                type_provided: tp.clone(),
                date_created: hud_datetime(&s.created_at),
                date_updated: hud_datetime(updated),
                user_id: format!("SL-U{}", s.created_by.unwrap_or(0)),
                date_deleted: s.deleted_at.as_deref().map(hud_datetime).unwrap_or_default(),
                export_id: export_id.to_owned(),
                ..ServicesRecord::default()
            });
            count += 1;
            Ok(())
        })?;
        if count > before {
            other_programs.insert(*program);
        }
        for p in other_programs {
            if !named.programs.contains(&p) {
                named.programs.push(p);
            }
        }
    }
    Ok((file.finish(), count))
}

/// Enrollment.csv and Exit.csv: the enrollments the services named, and their exits.
fn enrollments_and_exits(
    conn: &Connection,
    export_id: &str,
    named: &mut Named,
) -> Result<(Vec<u8>, Vec<u8>), StoreError> {
    let mut enrollments = CsvFile::new::<EnrollmentRecord>();
    let mut exits = CsvFile::new::<ExitRecord>();
    for program in named.programs.clone() {
        for e in outgoing::enrollments_of(conn, program)? {
            if !named.enrollments.contains(&e.id) {
                continue;
            }
            named.written_programs.insert(program);
            named.clients.insert(e.client_id);
            enrollments.put(&EnrollmentRecord {
                enrollment_id: e.enrollment_id.clone(),
                personal_id: e.personal_id.clone(),
                project_id: e.project_id,
                entry_date: e.entry_date,
                household_id: e.household_id.unwrap_or_default(),
                relationship_to_hoh: e.relationship_to_hoh.to_string(),
                disabling_condition: "99".into(),
                date_created: hud_datetime(&e.created_at),
                date_updated: hud_datetime(&e.updated_at),
                user_id: "SL-U0".into(),
                export_id: export_id.to_owned(),
                ..EnrollmentRecord::default()
            });
            if let Some(exit_date) = e.exit_date {
                exits.put(&ExitRecord {
                    exit_id: e.exit_id,
                    enrollment_id: e.enrollment_id,
                    personal_id: e.personal_id,
                    exit_date,
                    destination: e.destination.unwrap_or(99).to_string(),
                    date_created: hud_datetime(&e.created_at),
                    date_updated: hud_datetime(&e.exit_updated_at),
                    user_id: "SL-U0".into(),
                    export_id: export_id.to_owned(),
                    ..ExitRecord::default()
                });
            }
        }
    }
    Ok((enrollments.finish(), exits.finish()))
}

/// Client.csv: the clients of those enrollments, hashed as HashStatus 4 when asked.
fn clients(
    conn: &Connection,
    o: &ExportOptions,
    export_id: &str,
    named: &Named,
) -> Result<Vec<u8>, StoreError> {
    let mut file = CsvFile::new::<ClientRecord>();
    let mut written = BTreeSet::new();
    let name = |v: String| if o.hashed { hash_name(&v) } else { v };
    for program in &named.written_programs {
        for c in outgoing::clients_of(conn, *program)? {
            if !named.clients.contains(&c.id) || !written.insert(c.id) {
                continue;
            }
            let ssn = c.ssn.unwrap_or_default();
            let ssn = if o.hashed && !ssn.is_empty() { hash_ssn(&ssn) } else { ssn };
            let unknown = || "99".to_owned();
            file.put(&ClientRecord {
                personal_id: c.personal_id,
                first_name: name(c.first_name),
                middle_name: name(c.middle_name),
                last_name: name(c.last_name),
                name_suffix: c.name_suffix,
                name_data_quality: c.name_data_quality.to_string(),
                ssn,
                ssn_data_quality: c.ssn_data_quality.to_string(),
                dob: c.dob.unwrap_or_default(),
                dob_data_quality: c.dob_data_quality.to_string(),
                sex: unknown(),
                am_ind_ak_native: unknown(),
                asian: unknown(),
                black_af_american: unknown(),
                hispanic_latinao: unknown(),
                mid_east_n_african: unknown(),
                native_hi_pacific: unknown(),
                white: unknown(),
                race_none: unknown(),
                veteran_status: unknown(),
                date_created: hud_datetime(&c.created_at),
                date_updated: hud_datetime(&c.updated_at),
                user_id: "SL-U0".into(),
                export_id: export_id.to_owned(),
                ..ClientRecord::default()
            });
        }
    }
    Ok(file.finish())
}

/// Project.csv: the programs of those enrollments.
fn projects(conn: &Connection, export_id: &str, named: &mut Named) -> Result<Vec<u8>, StoreError> {
    let mut file = CsvFile::new::<ProjectRecord>();
    for id in &named.written_programs {
        let p = outgoing::project(conn, *id)?;
        let start =
            p.first_entry.map_or(p.created_at.date_naive(), |d| d.min(p.created_at.date_naive()));
        file.put(&ProjectRecord {
            project_id: p.project_id,
            organization_id: p.organization_id,
            project_name: p.name,
            operating_start_date: start.format(DATE).to_string(),
            continuum_project: "0".into(),
            project_type: p.project_type.to_string(),
            target_population: "4".into(),
            date_created: ts(p.created_at),
            date_updated: p
                .hmis_updated_at
                .map_or_else(|| ts(p.created_at), |u| u.format(DATETIME).to_string()),
            user_id: "SL-U0".into(),
            export_id: export_id.to_owned(),
            ..ProjectRecord::default()
        });
        named.organizations.insert(p.organization);
    }
    Ok(file.finish())
}

/// Organization.csv: the organizations of those programs.
fn organizations(conn: &Connection, export_id: &str, named: &Named) -> Result<Vec<u8>, StoreError> {
    let mut file = CsvFile::new::<OrganizationRecord>();
    for id in &named.organizations {
        let (organization_id, name, created, hmis_updated) = outgoing::organization(conn, *id)?;
        file.put(&OrganizationRecord {
            organization_id,
            organization_name: name,
            victim_service_provider: "0".into(),
            date_created: ts(created),
            date_updated: hmis_updated
                .map_or_else(|| ts(created), |u| u.format(DATETIME).to_string()),
            user_id: "SL-U0".into(),
            export_id: export_id.to_owned(),
            ..OrganizationRecord::default()
        });
    }
    Ok(file.finish())
}

/// User.csv: the staff who recorded those services, and Scanline's stations as user 0.
fn users(
    conn: &Connection,
    export_id: &str,
    named: &mut Named,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, StoreError> {
    let mut file = CsvFile::new::<UserRecord>();
    named.users.insert(0);
    for id in &named.users {
        let (name, created) =
            if *id == 0 { ("Scanline station".into(), now) } else { outgoing::user(conn, *id)? };
        let (first, last) = name.split_once(' ').unwrap_or((&name, ""));
        file.put(&UserRecord {
            user_id: format!("SL-U{id}"),
            user_first_name: first.to_owned(),
            user_last_name: last.to_owned(),
            date_created: ts(created),
            date_updated: ts(created),
            export_id: export_id.to_owned(),
            ..UserRecord::default()
        });
    }
    Ok(file.finish())
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
