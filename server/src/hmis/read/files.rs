//! One reader a file of the export: the version check, then Organization, Project, Client,
//! Enrollment, Exit, Services and User rows, each checked value by value.

use super::super::model::codes::{self, CodeList};
use super::super::model::records::{
    ClientRecord, EnrollmentRecord, ExitRecord, ExportRecord, OrganizationRecord, ProjectRecord,
    UserRecord, columns,
};
use super::super::model::{
    ClientRow, CsvVersion, EnrollmentRow, ExitRow, ExportRow, OrganizationRow, Parsed, ProjectRow,
    UserRow,
};
use super::{Context, Files, Row, issue, load, require_columns, rows};

/// Export.csv: its one row; the ExportID every other file must carry.
pub(super) fn export(files: &Files, p: &mut Parsed, today: chrono::NaiveDate) -> Option<String> {
    let Some(t) = load(files, "Export.csv", &columns::<ExportRecord>(), &mut p.errors) else {
        if !p.errors.iter().any(|e| e.file == "Export.csv") {
            p.errors.push(issue("Export.csv", 0, "", "", "the export has no Export.csv"));
        }
        return None;
    };
    let cx = Context { export_id: None, today, version: CsvVersion::Fy2026 };
    let mut list = rows(t, "ExportID", p, &cx, |r| {
        let id = r.id("ExportID");
        let hash_status = r.int("HashStatus", Some(&codes::HASH_STATUS), false).unwrap_or(1);
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
        p.errors.push(issue("Export.csv", 0, "", "", "Export.csv must have exactly one row"));
    }
    p.export = list.pop();
    p.export.as_ref().map(|e| e.export_id.clone())
}

/// The HUD CSV specification of the export, from Export.csv's CSVVersion and the headers:
/// FY2024 and FY2026 are read; an older one (Project.csv with TrackingMethod, say, where
/// FY2024 made night-by-night a project type) is refused with its name, for nothing in it can
/// be read safely as a newer one.
pub(super) fn version(files: &Files, p: &mut Parsed) -> Option<CsvVersion> {
    let stated = p.export.as_ref().map(|e| e.csv_version.clone()).unwrap_or_default();
    let year = stated
        .split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 4 || run.len() == 2)
        .and_then(|run| run.parse::<u32>().ok())
        .map(|y| if y < 100 { 2000 + y } else { y });
    let header = |file: &str| -> Vec<String> {
        files
            .get(file)
            .map(|b| b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b))
            .and_then(|b| csv::Reader::from_reader(b).headers().ok().cloned())
            .map(|h| h.iter().map(|n| n.trim().to_ascii_lowercase()).collect())
            .unwrap_or_default()
    };
    let project = header("Project.csv");
    let client = header("Client.csv");
    let older = project.iter().any(|c| c == "trackingmethod")
        || client.iter().any(|c| c == "ethnicity" || c == "female");
    let refuse = |p: &mut Parsed, what: String| {
        let reason = format!(
            "{what}: Scanline imports FY2024 and FY2026 HMIS CSV exports. Export again from the \
             HMIS in the FY2026 format"
        );
        p.errors.push(issue("Export.csv", 0, "CSVVersion", &stated, &reason));
        None
    };
    match year {
        Some(y) if y < 2024 => refuse(p, format!("an FY{y} export")),
        Some(y) if y > 2026 => refuse(p, format!("an FY{y} export, newer than Scanline knows")),
        _ if older => refuse(
            p,
            "the files have the columns of FY2022 or earlier (TrackingMethod, Ethnicity)".into(),
        ),
        Some(2024 | 2025) => Some(CsvVersion::Fy2024),
        Some(_) => Some(CsvVersion::Fy2026),
        None if client.iter().any(|c| c == "hispaniclatinaeo" || c == "woman") => {
            Some(CsvVersion::Fy2024)
        }
        None => {
            if p.export.is_some() {
                p.warnings.push(issue(
                    "Export.csv",
                    0,
                    "CSVVersion",
                    &stated,
                    "no CSVVersion Scanline can read: the export is read as FY2026",
                ));
            }
            Some(CsvVersion::Fy2026)
        }
    }
}

pub(super) fn organizations(files: &Files, p: &mut Parsed, cx: &Context<'_>) {
    let cols = columns::<OrganizationRecord>();
    let Some(t) = load(files, "Organization.csv", &cols, &mut p.errors) else { return };
    if !require_columns(
        &t.table,
        &["OrganizationID", "OrganizationName", "DateUpdated"],
        &mut p.errors,
    ) {
        return;
    }
    p.organizations = rows(t, "OrganizationID", p, cx, |r| {
        let id = r.id("OrganizationID");
        let name = r.text("OrganizationName");
        if name.is_empty() {
            r.error("OrganizationName", "", "required and missing");
        }
        Some(OrganizationRow { id, name, common: r.common()? })
    });
}

pub(super) fn projects(files: &Files, p: &mut Parsed, cx: &Context<'_>) {
    let Some(t) = load(files, "Project.csv", &columns::<ProjectRecord>(), &mut p.errors) else {
        return;
    };
    let required = ["ProjectID", "OrganizationID", "ProjectName", "DateUpdated"];
    if !require_columns(&t.table, &required, &mut p.errors) {
        return;
    }
    p.projects = rows(t, "ProjectID", p, cx, |r| {
        let id = r.id("ProjectID");
        let organization_id = r.id("OrganizationID");
        let name = r.text("ProjectName");
        if name.is_empty() {
            r.error("ProjectName", "", "required and missing");
        }
        let project_type = r.int("ProjectType", Some(&codes::PROJECT_TYPE), false);
        let project_type = project_type.unwrap_or_else(|| {
            if !r.bad {
                r.warn("ProjectType", "", "missing: the program is imported as 7 Other");
            }
            7
        });
        r.date("OperatingStartDate", false);
        r.date("OperatingEndDate", false);
        Some(ProjectRow { id, organization_id, name, project_type, common: r.common()? })
    });
}

/// A data-quality code, 99 (data not collected) when the column is empty.
fn quality(r: &mut Row<'_>, column: &str, list: &CodeList) -> i32 {
    r.int(column, Some(list), false).unwrap_or(99)
}

/// The SSN when it is nine digits, and its data quality. A partial SSN (`x` for unknown
/// digits) or a malformed one is not kept: it is reported, and the data quality says what
/// Scanline then knows (2 partial for `x` digits, 99 otherwise; 8 and 9 are kept as sent).
fn ssn(r: &mut Row<'_>, dq: i32) -> (Option<String>, i32) {
    let Some(s) = r.raw("SSN").map(str::to_owned) else { return (None, dq) };
    let keep_reason = |dq: i32, to: i32| if matches!(dq, 8 | 9) { dq } else { to };
    if s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit()) {
        return (Some(s), dq);
    }
    if s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit() || b == b'x' || b == b'X') {
        let to = keep_reason(dq, 2);
        let reason =
            format!("a partial SSN (x for unknown digits) is not kept: SSNDataQuality {to}");
        r.warn("SSN", &mask(&s), &reason);
        return (None, to);
    }
    let to = keep_reason(dq, 99);
    let reason =
        format!("not an SSN (nine digits, x for unknown digits): not kept, SSNDataQuality {to}");
    r.warn("SSN", &mask(&s), &reason);
    (None, to)
}

pub(super) fn clients(files: &Files, p: &mut Parsed, cx: &Context<'_>) {
    let Some(t) = load(files, "Client.csv", &columns::<ClientRecord>(), &mut p.errors) else {
        return;
    };
    if !require_columns(
        &t.table,
        &["PersonalID", "FirstName", "LastName", "DateUpdated"],
        &mut p.errors,
    ) {
        return;
    }
    p.clients = rows(t, "PersonalID", p, cx, |r| {
        let id = r.id("PersonalID");
        let name_dq = quality(r, "NameDataQuality", &codes::NAME_DATA_QUALITY);
        let ssn_dq = quality(r, "SSNDataQuality", &codes::SSN_DATA_QUALITY);
        let mut dob_dq = quality(r, "DOBDataQuality", &codes::DOB_DATA_QUALITY);
        let mut dob = r.date("DOB", false);
        if let Some(d) = dob
            && d > cx.today
        {
            let reason = "a date of birth in the future is not kept: DOBDataQuality 99";
            r.warn("DOB", &d.to_string(), reason);
            (dob, dob_dq) = (None, 99);
        }
        let (ssn, ssn_dq) = ssn(r, ssn_dq);
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
        let mut common = r.common()?;
        if cx.version == CsvVersion::Fy2024 {
            // FY2024 collected gender, not Sex (4.21): for FY2026 its Sex was not collected.
            common.kept = common.kept.with_default("Sex", "99");
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
            common,
        })
    });
}

pub(super) fn enrollments(files: &Files, p: &mut Parsed, cx: &Context<'_>) {
    let cols = columns::<EnrollmentRecord>();
    let Some(t) = load(files, "Enrollment.csv", &cols, &mut p.errors) else { return };
    let required = ["EnrollmentID", "PersonalID", "ProjectID", "EntryDate", "DateUpdated"];
    if !require_columns(&t.table, &required, &mut p.errors) {
        return;
    }
    p.enrollments = rows(t, "EnrollmentID", p, cx, |r| {
        let id = r.id("EnrollmentID");
        let personal_id = r.id("PersonalID");
        let project_id = r.id("ProjectID");
        let entry_date = r.date("EntryDate", true);
        let relationship = r.int("RelationshipToHoH", Some(&codes::RELATIONSHIP_TO_HOH), false);
        let household_id = household(r, relationship);
        for column in [
            "DateToStreetESSH",
            "DateOfEngagement",
            "MoveInDate",
            "DateOfPATHStatus",
            "DateOfBCPStatus",
        ] {
            r.date(column, false);
        }
        Some(EnrollmentRow {
            id,
            personal_id,
            project_id,
            entry_date: entry_date?,
            household_id,
            relationship: relationship.unwrap_or(99),
            common: r.common()?,
        })
    });
}

/// The HouseholdID. Real exports leave it empty; a person alone (RelationshipToHoH 1, or not
/// collected) is then a household of one, with a warning. A child, partner or other member
/// without one is refused: which household they belong to would be lost.
fn household(r: &mut Row<'_>, relationship: Option<i32>) -> String {
    match r.raw("HouseholdID").map(str::to_owned) {
        Some(id) if id.chars().count() <= 32 => id,
        Some(id) => {
            r.error("HouseholdID", &id, "longer than HUD's 32 characters");
            String::new()
        }
        None if matches!(relationship, None | Some(1 | 99)) => {
            r.warn("HouseholdID", "", "no HouseholdID: imported as a household of one");
            String::new()
        }
        None => {
            let reason = format!(
                "no HouseholdID for a household member (RelationshipToHoH {}): the household \
                 they belong to would be lost",
                relationship.unwrap_or_default()
            );
            r.error("HouseholdID", "", &reason);
            String::new()
        }
    }
}

pub(super) fn exits(files: &Files, p: &mut Parsed, cx: &Context<'_>) {
    let Some(t) = load(files, "Exit.csv", &columns::<ExitRecord>(), &mut p.errors) else {
        return;
    };
    let required = ["ExitID", "EnrollmentID", "PersonalID", "ExitDate", "DateUpdated"];
    if !require_columns(&t.table, &required, &mut p.errors) {
        return;
    }
    p.exits = rows(t, "ExitID", p, cx, |r| {
        let id = r.id("ExitID");
        let enrollment_id = r.id("EnrollmentID");
        let personal_id = r.id("PersonalID");
        let exit_date = r.date("ExitDate", true);
        let destination = r.int("Destination", Some(&codes::DESTINATION), false).unwrap_or(99);
        r.date("AftercareDate", false);
        Some(ExitRow {
            id,
            enrollment_id,
            personal_id,
            exit_date: exit_date?,
            destination,
            common: r.common()?,
        })
    });
}

/// User.csv: kept as received, for the users the other records name.
pub(super) fn users(files: &Files, p: &mut Parsed, cx: &Context<'_>) {
    let Some(t) = load(files, "User.csv", &columns::<UserRecord>(), &mut p.errors) else {
        return;
    };
    if !require_columns(&t.table, &["UserID"], &mut p.errors) {
        return;
    }
    p.users = rows(t, "UserID", p, cx, |r| {
        let id = r.id("UserID");
        Some(UserRow { id, kept: r.kept() })
    });
}

/// An SSN in a report shows only its last four characters.
fn mask(ssn: &str) -> String {
    let n = ssn.chars().count();
    ssn.chars().enumerate().map(|(i, c)| if i + 4 < n { '*' } else { c }).collect()
}
