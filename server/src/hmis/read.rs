//! Reading an HMIS CSV export into typed rows: columns by header name (any case, any order),
//! byte-order mark and CRLF accepted, every value checked (required, type, HUD code list), and
//! every problem reported with its file, line, column and value. Checks that need the rest of
//! the export or the database (references, overlaps) are made when the import is applied.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};

use super::Files;
use super::model::codes::{self, CodeList};
use super::model::{
    ClientRow, Common, EnrollmentRow, ExitRow, ExportRow, Issue, OrganizationRow, Parsed,
    ProjectRow, ServiceRow,
};

/// One CSV file: its header map and rows.
struct Table {
    file: &'static str,
    headers: HashMap<String, usize>,
    rows: Vec<(u64, csv::StringRecord)>,
}

fn load(files: &Files, file: &'static str, errors: &mut Vec<Issue>) -> Option<Table> {
    let bytes = files.get(file)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers: HashMap<String, usize> = match reader.headers() {
        Ok(h) => h.iter().enumerate().map(|(i, n)| (n.trim().to_ascii_lowercase(), i)).collect(),
        Err(e) => {
            errors.push(issue(file, 1, "", "", &format!("the header row cannot be read: {e}")));
            return None;
        }
    };
    let width = headers.len();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                // The reader counts the header as line 0.
                let line = record.position().map_or(0, csv::Position::line) + 1;
                if record.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                if record.len() != width {
                    errors.push(issue(
                        file,
                        line,
                        "",
                        "",
                        &format!(
                            "the row has {} values where the header has {width}",
                            record.len()
                        ),
                    ));
                    continue;
                }
                rows.push((line, record.clone()));
            }
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line) + 1;
                errors.push(issue(file, line, "", "", &format!("the row cannot be read: {e}")));
                // A row that is not UTF-8 is skipped; anything else ends the file.
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
            }
        }
    }
    Some(Table { file, headers, rows })
}

fn issue(file: &str, line: u64, column: &str, value: &str, reason: &str) -> Issue {
    Issue {
        file: file.to_owned(),
        line,
        column: column.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Reading one row: each accessor records the problems it finds.
struct Row<'a> {
    table: &'a Table,
    line: u64,
    record: &'a csv::StringRecord,
    errors: &'a mut Vec<Issue>,
    warnings: &'a mut Vec<Issue>,
    bad: bool,
}

impl Row<'_> {
    fn raw(&self, column: &str) -> Option<&str> {
        let i = *self.table.headers.get(&column.to_ascii_lowercase())?;
        let v = self.record.get(i)?.trim();
        (!v.is_empty()).then_some(v)
    }

    fn error(&mut self, column: &str, value: &str, reason: &str) {
        self.bad = true;
        self.errors.push(issue(self.table.file, self.line, column, value, reason));
    }

    fn warn(&mut self, column: &str, value: &str, reason: &str) {
        self.warnings.push(issue(self.table.file, self.line, column, value, reason));
    }

    fn text(&self, column: &str) -> String {
        self.raw(column).unwrap_or_default().to_owned()
    }

    fn id(&mut self, column: &str) -> String {
        match self.raw(column) {
            Some(v) if v.chars().count() <= 32 => v.to_owned(),
            Some(v) => {
                let v = v.to_owned();
                self.error(column, &v, "longer than HUD's 32 characters");
                String::new()
            }
            None => {
                self.error(column, "", "required and missing");
                String::new()
            }
        }
    }

    fn int(&mut self, column: &str, list: Option<&CodeList>, required: bool) -> Option<i32> {
        let Some(v) = self.raw(column).map(str::to_owned) else {
            if required {
                self.error(column, "", "required and missing");
            }
            return None;
        };
        // Some exports write integers as "1.0".
        let parsed = v
            .parse::<i32>()
            .ok()
            .or_else(|| v.parse::<f64>().ok().filter(|f| f.fract() == 0.0).map(|f| f as i32));
        match (parsed, list) {
            (None, _) => {
                self.error(column, &v, "not a whole number");
                None
            }
            (Some(n), Some(list)) if !list.contains(n) => {
                self.error(
                    column,
                    &v,
                    &format!("not a value of HUD list {} {}", list.number, list.name),
                );
                None
            }
            (Some(n), _) => Some(n),
        }
    }

    fn date(&mut self, column: &str, required: bool) -> Option<NaiveDate> {
        let Some(v) = self.raw(column).map(str::to_owned) else {
            if required {
                self.error(column, "", "required and missing");
            }
            return None;
        };
        let d = super::parse_date(&v);
        if d.is_none() {
            self.error(column, &v, "not a date (yyyy-mm-dd)");
        }
        d
    }

    fn datetime(&mut self, column: &str, required: bool) -> Option<NaiveDateTime> {
        let Some(v) = self.raw(column).map(str::to_owned) else {
            if required {
                self.error(column, "", "required and missing");
            }
            return None;
        };
        let d = super::parse_datetime(&v);
        if d.is_none() {
            self.error(column, &v, "not a date and time (yyyy-mm-dd hh:mm:ss)");
        }
        d
    }

    fn common(&mut self, export_id: Option<&str>) -> Option<Common> {
        let created = self.datetime("DateCreated", false);
        let updated = self.datetime("DateUpdated", true);
        let deleted = self.datetime("DateDeleted", false);
        if let (Some(expected), Some(got)) = (export_id, self.raw("ExportID").map(str::to_owned))
            && got != expected
        {
            self.error(
                "ExportID",
                &got,
                &format!("does not match Export.csv's ExportID {expected}"),
            );
        }
        let updated = updated?;
        Some(Common {
            file: self.table.file,
            line: self.line,
            created: created.unwrap_or(updated).min(updated),
            updated,
            deleted,
        })
    }
}

/// Checks that the columns Scanline reads are all in the header.
fn require_columns(table: &Table, columns: &[&str], errors: &mut Vec<Issue>) -> bool {
    let mut ok = true;
    for c in columns {
        if !table.headers.contains_key(&c.to_ascii_lowercase()) {
            errors.push(issue(table.file, 1, c, "", "the column is missing from the header"));
            ok = false;
        }
    }
    ok
}

/// Reads every row of a file with `f`, which returns `None` for a row it refused; duplicate
/// primary keys are errors.
fn rows<T>(
    table: &Table,
    key: &str,
    errors: &mut Vec<Issue>,
    warnings: &mut Vec<Issue>,
    mut f: impl FnMut(&mut Row<'_>) -> Option<T>,
) -> Vec<T> {
    let mut out = Vec::with_capacity(table.rows.len());
    let mut seen: HashMap<String, u64> = HashMap::with_capacity(table.rows.len());
    for (line, record) in &table.rows {
        let mut row = Row { table, line: *line, record, errors, warnings, bad: false };
        let id = row.text(key);
        if !id.is_empty() {
            if let Some(first) = seen.get(&id) {
                let first = *first;
                row.error(key, &id, &format!("duplicate {key}: the same ID is on line {first}"));
                continue;
            }
            seen.insert(id, *line);
        }
        let value = f(&mut row);
        if !row.bad
            && let Some(v) = value
        {
            out.push(v);
        }
    }
    out
}

/// Reads an export. `Export.csv` is required; the other files are read when present.
pub fn read(files: &Files) -> Parsed {
    let mut p = Parsed::default();
    let (errors, warnings) = (&mut p.errors, &mut p.warnings);

    let export_id = match load(files, "Export.csv", errors) {
        None => {
            if !errors.iter().any(|e| e.file == "Export.csv") {
                errors.push(issue("Export.csv", 0, "", "", "the export has no Export.csv"));
            }
            None
        }
        Some(t) => {
            let mut list = rows(&t, "ExportID", errors, warnings, |r| {
                let id = r.id("ExportID");
                let hash_status =
                    r.int("HashStatus", Some(&codes::HASH_STATUS), false).unwrap_or(1);
                if hash_status != 1 {
                    r.error(
                        "HashStatus",
                        &hash_status.to_string(),
                        "hashed exports cannot be imported: names and SSNs are not readable",
                    );
                }
                Some(ExportRow { export_id: id, csv_version: r.text("CSVVersion"), hash_status })
            });
            if list.len() > 1 {
                errors.push(issue("Export.csv", 0, "", "", "Export.csv must have exactly one row"));
            }
            p.export = list.pop();
            p.export.as_ref().map(|e| e.export_id.clone())
        }
    };
    let eid = export_id.as_deref();

    if let Some(t) = load(files, "Organization.csv", errors)
        && require_columns(&t, &["OrganizationID", "OrganizationName", "DateUpdated"], errors)
    {
        p.organizations = rows(&t, "OrganizationID", errors, warnings, |r| {
            let id = r.id("OrganizationID");
            let name = r.text("OrganizationName");
            if name.is_empty() {
                r.error("OrganizationName", "", "required and missing");
            }
            Some(OrganizationRow { id, name, common: r.common(eid)? })
        });
    }
    if let Some(t) = load(files, "Project.csv", errors)
        && require_columns(
            &t,
            &["ProjectID", "OrganizationID", "ProjectName", "DateUpdated"],
            errors,
        )
    {
        p.projects = rows(&t, "ProjectID", errors, warnings, |r| {
            let id = r.id("ProjectID");
            let organization_id = r.id("OrganizationID");
            let name = r.text("ProjectName");
            if name.is_empty() {
                r.error("ProjectName", "", "required and missing");
            }
            let project_type =
                r.int("ProjectType", Some(&codes::PROJECT_TYPE), false).unwrap_or_else(|| {
                    if !r.bad {
                        r.warn("ProjectType", "", "missing: the program is imported as 7 Other");
                    }
                    7
                });
            Some(ProjectRow { id, organization_id, name, project_type, common: r.common(eid)? })
        });
    }
    if let Some(t) = load(files, "Client.csv", errors)
        && require_columns(&t, &["PersonalID", "FirstName", "LastName", "DateUpdated"], errors)
    {
        p.clients = rows(&t, "PersonalID", errors, warnings, |r| {
            let id = r.id("PersonalID");
            let name_dq =
                r.int("NameDataQuality", Some(&codes::NAME_DATA_QUALITY), false).unwrap_or(99);
            let ssn_dq =
                r.int("SSNDataQuality", Some(&codes::SSN_DATA_QUALITY), false).unwrap_or(99);
            let dob_dq =
                r.int("DOBDataQuality", Some(&codes::DOB_DATA_QUALITY), false).unwrap_or(99);
            let dob = r.date("DOB", false);
            let ssn = match r.raw("SSN").map(str::to_owned) {
                None => None,
                Some(s) if s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit()) => Some(s),
                Some(s)
                    if s.len() == 9
                        && s.bytes().all(|b| b.is_ascii_digit() || b == b'x' || b == b'X') =>
                {
                    r.warn("SSN", &mask(&s), "partial SSN (x for unknown digits): not kept");
                    None
                }
                Some(s) => {
                    r.error("SSN", &mask(&s), "an SSN is nine digits, with x for unknown digits");
                    None
                }
            };
            let (mut first, mut last) = (r.text("FirstName"), r.text("LastName"));
            if first.is_empty() || last.is_empty() {
                r.warn("FirstName", "", "no first or last name: imported as \"Unknown\"");
                if first.is_empty() {
                    first = "Unknown".into();
                }
                if last.is_empty() {
                    last = "Unknown".into();
                }
            }
            Some(ClientRow {
                id,
                first,
                middle: r.text("MiddleName"),
                last,
                suffix: r.text("NameSuffix"),
                name_dq,
                ssn,
                ssn_dq,
                dob,
                dob_dq,
                common: r.common(eid)?,
            })
        });
    }
    if let Some(t) = load(files, "Enrollment.csv", errors)
        && require_columns(
            &t,
            &["EnrollmentID", "PersonalID", "ProjectID", "EntryDate", "HouseholdID", "DateUpdated"],
            errors,
        )
    {
        p.enrollments = rows(&t, "EnrollmentID", errors, warnings, |r| {
            let id = r.id("EnrollmentID");
            let personal_id = r.id("PersonalID");
            let project_id = r.id("ProjectID");
            let household_id = r.id("HouseholdID");
            let entry_date = r.date("EntryDate", true);
            let relationship =
                r.int("RelationshipToHoH", Some(&codes::RELATIONSHIP_TO_HOH), false).unwrap_or(99);
            Some(EnrollmentRow {
                id,
                personal_id,
                project_id,
                entry_date: entry_date?,
                household_id,
                relationship,
                common: r.common(eid)?,
            })
        });
    }
    if let Some(t) = load(files, "Exit.csv", errors)
        && require_columns(
            &t,
            &["ExitID", "EnrollmentID", "PersonalID", "ExitDate", "DateUpdated"],
            errors,
        )
    {
        p.exits = rows(&t, "ExitID", errors, warnings, |r| {
            let id = r.id("ExitID");
            let enrollment_id = r.id("EnrollmentID");
            let personal_id = r.id("PersonalID");
            let exit_date = r.date("ExitDate", true);
            let destination = r.int("Destination", Some(&codes::DESTINATION), false).unwrap_or(99);
            Some(ExitRow {
                id,
                enrollment_id,
                personal_id,
                exit_date: exit_date?,
                destination,
                common: r.common(eid)?,
            })
        });
    }
    if let Some(t) = load(files, "Services.csv", errors)
        && require_columns(
            &t,
            &[
                "ServicesID",
                "EnrollmentID",
                "PersonalID",
                "DateProvided",
                "RecordType",
                "TypeProvided",
                "DateUpdated",
            ],
            errors,
        )
    {
        p.services = rows(&t, "ServicesID", errors, warnings, |r| {
            let id = r.id("ServicesID");
            let enrollment_id = r.id("EnrollmentID");
            let personal_id = r.id("PersonalID");
            let date = r.date("DateProvided", true);
            let record_type = r.int("RecordType", Some(&codes::RECORD_TYPE), true);
            let type_provided = match record_type.and_then(codes::type_provided_list) {
                Some(list) => r.int("TypeProvided", Some(list), true),
                None => r.int("TypeProvided", None, true),
            };
            Some(ServiceRow {
                id,
                enrollment_id,
                personal_id,
                date: date?,
                record_type: record_type?,
                type_provided: type_provided?,
                common: r.common(eid)?,
            })
        });
    }
    p
}

/// An SSN in a report shows only its last four characters.
fn mask(ssn: &str) -> String {
    let n = ssn.chars().count();
    ssn.chars().enumerate().map(|(i, c)| if i + 4 < n { '*' } else { c }).collect()
}
