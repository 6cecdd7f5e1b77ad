//! Reading real HMIS exports (DESIGN §12.2): two-digit years, versions older than FY2024,
//! line numbers with LF and CRLF line ends, one report for one root cause, two bed nights in
//! one night, empty HouseholdIDs, malformed SSNs, local DateCreated and ExportIDs that never
//! repeat. Each export here is small and written out in the test, the way a file from another
//! HMIS would arrive.

mod harness;

use rusqlite::Connection;
use scanline_server::db;
use scanline_server::hmis::export::{ExportOptions, export};
use scanline_server::hmis::{self, Files, Issue, Report, read};
use scanline_server::store::hmis::ImportOptions;

const EXPORT: &str = "ExportID,CSVVersion,HashStatus\r\nX1,2026 v1.0,1\r\n";
const ORGANIZATION: &str = "OrganizationID,OrganizationName,DateUpdated,ExportID\nO1,Harbor Light,2026-09-01 10:00:00,X1\n";
const PROJECT: &str = "ProjectID,OrganizationID,ProjectName,ProjectType,DateUpdated,ExportID\nJ1,O1,Harbor Night Shelter,1,2026-09-01 10:00:00,X1\n";
const CLIENT_HEADER: &str = "PersonalID,FirstName,LastName,DOB,DOBDataQuality,SSN,SSNDataQuality,DateCreated,DateUpdated,ExportID";
const ENROLLMENT_HEADER: &str = "EnrollmentID,PersonalID,ProjectID,EntryDate,HouseholdID,RelationshipToHoH,DateUpdated,ExportID";
const SERVICES_HEADER: &str =
    "ServicesID,EnrollmentID,PersonalID,DateProvided,RecordType,TypeProvided,DateUpdated,ExportID";

fn files(list: &[(&str, String)]) -> Files {
    let mut f = Files::default();
    for (name, text) in list {
        f.insert(name, text.clone().into_bytes());
    }
    f
}

/// An export with one organization and one night-by-night shelter, and the other files given.
fn with_shelter(extra: &[(&str, String)]) -> Files {
    let mut all = vec![
        ("Export.csv", EXPORT.to_owned()),
        ("Organization.csv", ORGANIZATION.to_owned()),
        ("Project.csv", PROJECT.to_owned()),
    ];
    all.extend(extra.iter().cloned());
    files(&all)
}

fn client(id: &str, dob: &str, ssn: &str, ssn_dq: &str) -> String {
    format!("{id},Rosa,Delgado,{dob},1,{ssn},{ssn_dq},2026-01-15 08:00:00,2026-09-01 10:00:00,X1")
}

fn fresh() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let conn = db::open_and_migrate(&dir.path().join("s.db")).unwrap();
    (dir, conn)
}

fn import(conn: &mut Connection, files: &Files) -> Report {
    let parsed = read::read(files, harness::d(harness::TODAY));
    let opts = ImportOptions { time_zone: "America/Chicago".into(), scope: None };
    hmis::import_now(conn, &parsed, &opts, &mut |_, _, _| {}).unwrap()
}

fn text(conn: &Connection, sql: &str) -> String {
    conn.query_row(sql, [], |r| r.get::<_, Option<String>>(0)).unwrap().unwrap_or_default()
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn find<'a>(issues: &'a [Issue], needle: &str) -> Vec<&'a Issue> {
    issues.iter().filter(|i| i.reason.contains(needle)).collect()
}

#[test]
fn two_digit_years_of_birth_are_never_in_the_future_and_each_is_reported() {
    let (_d, mut conn) = fresh();
    let rows = [
        client("P1", "05-08-67", "", "99"),
        client("P2", "5/8/67", "", "99"),
        client("P3", "08-MAY-67", "", "99"),
        client("P4", "08-May-1967", "", "99"),
        client("P5", "1967-05-08", "", "99"),
    ];
    let csv = format!("{CLIENT_HEADER}\n{}\n", rows.join("\n"));
    let r = import(&mut conn, &with_shelter(&[("Client.csv", csv)]));
    assert!(r.applied, "{:#?}", r.errors);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM clients WHERE dob = '1967-05-08'"), 5);
    let warned = find(&r.warnings, "two-digit year, read as 1967-05-08");
    let lines: Vec<u64> = warned.iter().map(|i| i.line).collect();
    assert_eq!(lines, [2, 3, 4], "{:#?}", r.warnings);
    assert!(warned.iter().all(|i| i.column == "DOB"));
}

#[test]
fn an_export_older_than_fy2024_is_refused_by_name_and_changes_nothing() {
    let fy2022_project = "ProjectID,OrganizationID,ProjectName,ProjectType,TrackingMethod,DateUpdated,ExportID\nJ1,O1,Harbor Night Shelter,1,3,2026-09-01 10:00:00,X1\n";
    for (version, says) in [("2022 v1.3", "an FY2022 export"), ("2026 v1.0", "columns of FY2022")] {
        let (_d, mut conn) = fresh();
        let export = format!("ExportID,CSVVersion,HashStatus\nX1,{version},1\n");
        let f = files(&[
            ("Export.csv", export),
            ("Organization.csv", ORGANIZATION.to_owned()),
            ("Project.csv", fy2022_project.to_owned()),
        ]);
        let r = import(&mut conn, &f);
        assert!(!r.applied);
        assert_eq!(r.errors.len(), 1, "{:#?}", r.errors);
        let e = &r.errors[0];
        assert_eq!((e.file.as_str(), e.column.as_str()), ("Export.csv", "CSVVersion"));
        assert!(e.reason.contains(says) && e.reason.contains("FY2024 and FY2026"), "{e}");
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM programs"), 0);
    }
}

#[test]
fn line_numbers_are_the_editors_with_lf_and_with_crlf() {
    // A quoted value over two lines, then a bad date on line 5 of the file.
    let body = [
        CLIENT_HEADER,
        &client("P1", "1980-01-01", "", "99"),
        "P2,\"Ana\nMaria\",Reyes,1981-02-02,1,,99,2026-01-15 08:00:00,2026-09-01 10:00:00,X1",
        &client("P3", "not a date", "", "99"),
    ]
    .join("\n");
    for ends in ["\n", "\r\n"] {
        let (_d, mut conn) = fresh();
        let csv = format!("{}{ends}", body.replace('\n', ends));
        let r = import(&mut conn, &with_shelter(&[("Client.csv", csv)]));
        let bad: Vec<u64> = find(&r.errors, "not a date").iter().map(|i| i.line).collect();
        assert_eq!(bad, [5], "{ends:?}: {:#?}", r.errors);
    }
}

#[test]
fn one_refused_project_is_one_root_cause_for_its_enrollments_and_services() {
    let (_d, mut conn) = fresh();
    let project = format!("{PROJECT}J2,O1,Broken Project,77,2026-09-01 10:00:00,X1\n");
    let mut clients = vec![CLIENT_HEADER.to_owned()];
    let mut enrollments = vec![ENROLLMENT_HEADER.to_owned()];
    let mut services = vec![SERVICES_HEADER.to_owned()];
    for n in 0..40 {
        clients.push(client(&format!("P{n}"), "1980-01-01", "", "99"));
        enrollments.push(format!("E{n},P{n},J2,2026-09-01,H{n},1,2026-09-01 10:00:00,X1"));
        for night in 1..=3 {
            services.push(format!(
                "S{n}-{night},E{n},P{n},2026-09-0{night},200,200,2026-09-01 10:00:00,X1"
            ));
        }
    }
    // A service under an enrollment the HMIS deleted.
    enrollments.push("E99,P0,J1,2026-09-01,H99,1,2026-09-01 10:00:00,X1".into());
    let deleted = "EnrollmentID,PersonalID,ProjectID,EntryDate,HouseholdID,RelationshipToHoH,DateUpdated,DateDeleted,ExportID";
    let mut enrollments: Vec<String> = enrollments
        .iter()
        .map(|l| {
            if l.starts_with("EnrollmentID") {
                deleted.to_owned()
            } else {
                l.replacen(",X1", ",,X1", 1)
            }
        })
        .collect();
    enrollments
        .push("E98,P1,J1,2026-09-01,H98,1,2026-09-02 10:00:00,2026-09-02 10:00:00,X1".into());
    services.push("S98,E98,P1,2026-09-01,200,200,2026-09-01 10:00:00,X1".into());
    let r = import(
        &mut conn,
        &with_shelter(&[
            ("Project.csv", project),
            ("Client.csv", clients.join("\n")),
            ("Enrollment.csv", enrollments.join("\n")),
            ("Services.csv", services.join("\n")),
        ]),
    );
    assert!(!r.applied);
    let reasons: Vec<String> = r.errors.iter().map(ToString::to_string).collect();
    assert_eq!(r.errors.len(), 3, "{reasons:#?}");
    assert!(reasons[0].contains("Project.csv line 3, ProjectType \"77\""), "{reasons:#?}");
    let root = "because project J2 (Project.csv line 3) was refused";
    let enrollments = r.errors.iter().find(|e| e.file == "Enrollment.csv").unwrap();
    assert!(
        enrollments.reason.starts_with(&format!(
            "40 rows were not imported {root}: lines 2, 3, 4, 5, 6 and 35 more"
        )),
        "{enrollments}"
    );
    let services = r.errors.iter().find(|e| e.file == "Services.csv").unwrap();
    assert!(
        services.reason.starts_with(&format!("120 rows were not imported {root}")),
        "{services}"
    );
    let orphans = find(&r.warnings, "enrollment E98 is deleted in the HMIS");
    assert_eq!(orphans.len(), 1, "{:#?}", r.warnings);
    assert!(orphans[0].reason.starts_with("1 row was left out because"), "{}", orphans[0]);
}

#[test]
fn two_bed_nights_on_one_night_are_reported_and_exported_once() {
    let (_d, mut conn) = fresh();
    let r = import(
        &mut conn,
        &with_shelter(&[
            ("Client.csv", format!("{CLIENT_HEADER}\n{}\n", client("P1", "1980-01-01", "", "99"))),
            (
                "Enrollment.csv",
                format!("{ENROLLMENT_HEADER}\nE1,P1,J1,2026-09-01,H1,1,2026-09-01 10:00:00,X1\n"),
            ),
            (
                "Services.csv",
                format!(
                    "{SERVICES_HEADER}\nS1,E1,P1,2026-09-01,200,200,2026-09-01 10:00:00,X1\nS2,E1,P1,2026-09-01,200,200,2026-09-01 10:00:00,X1\n"
                ),
            ),
        ]),
    );
    assert!(r.applied, "{:#?}", r.errors);
    let warned = find(&r.warnings, "a second bed night for the same enrollment and night (line 2)");
    assert_eq!(warned.iter().map(|i| i.line).collect::<Vec<_>>(), [3]);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM services"), 1);

    // A bed night the station recorded for another night, that the HMIS then sends under its
    // own ID, is linked rather than doubled.
    let scanned: i64 = conn
        .query_row("SELECT id FROM services WHERE hmis_services_id = 'S1'", [], |r| r.get(0))
        .unwrap();
    conn.execute(
        "INSERT INTO services (enrollment_id, client_id, program_id, service_type_id, date_provided, units, unit_value, created_at)
         SELECT enrollment_id, client_id, program_id, service_type_id, '2026-09-02', 1, 0, created_at FROM services WHERE id = ?",
        [scanned],
    )
    .unwrap();
    let again = format!("{SERVICES_HEADER}\nS3,E1,P1,2026-09-02,200,200,2026-09-03 10:00:00,X1\n");
    let r = import(
        &mut conn,
        &with_shelter(&[
            ("Client.csv", format!("{CLIENT_HEADER}\n{}\n", client("P1", "1980-01-01", "", "99"))),
            (
                "Enrollment.csv",
                format!("{ENROLLMENT_HEADER}\nE1,P1,J1,2026-09-01,H1,1,2026-09-01 10:00:00,X1\n"),
            ),
            ("Services.csv", again),
        ]),
    );
    assert!(r.applied, "{:#?}", r.errors);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM services"), 2);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM services WHERE hmis_services_id = 'S3'"), 1);

    // Two bed nights for one night that reach the database some other way export once.
    conn.execute(
        "INSERT INTO services (enrollment_id, client_id, program_id, service_type_id, date_provided, units, unit_value, created_at)
         SELECT enrollment_id, client_id, program_id, service_type_id, date_provided, 1, 0, created_at FROM services WHERE id = ?",
        [scanned],
    )
    .unwrap();
    let org = count(&conn, "SELECT id FROM organizations");
    let opts = ExportOptions {
        start: harness::d("2026-09-01"),
        end: harness::d("2026-09-30"),
        programs: Vec::new(),
        organizations: vec![org],
        hashed: false,
        time_zone: None,
    };
    let exported = export(&conn, &opts, chrono::Utc::now()).unwrap();
    assert_eq!(exported.services, 2, "one bed night each for 09-01 and 09-02");
}

#[test]
fn an_empty_household_id_is_a_household_of_one_unless_the_person_is_a_member() {
    let two = format!(
        "{CLIENT_HEADER}\n{}\n{}\n",
        client("P1", "1980-01-01", "", "99"),
        client("P2", "2015-01-01", "", "99")
    );
    let (_d, mut conn) = fresh();
    let alone = format!(
        "{ENROLLMENT_HEADER}\nE1,P1,J1,2026-09-01,,1,2026-09-01 10:00:00,X1\nE2,P2,J1,2026-09-01,,,2026-09-01 10:00:00,X1\n"
    );
    let r =
        import(&mut conn, &with_shelter(&[("Client.csv", two.clone()), ("Enrollment.csv", alone)]));
    assert!(r.applied, "{:#?}", r.errors);
    assert_eq!(find(&r.warnings, "household of one").len(), 2);
    assert_eq!(
        text(&conn, "SELECT household_id FROM enrollments WHERE hmis_enrollment_id = 'E1'"),
        "SL-HE1"
    );

    let (_d, mut conn) = fresh();
    let child = format!(
        "{ENROLLMENT_HEADER}\nE1,P1,J1,2026-09-01,H1,1,2026-09-01 10:00:00,X1\nE2,P2,J1,2026-09-01,,2,2026-09-01 10:00:00,X1\n"
    );
    let r = import(&mut conn, &with_shelter(&[("Client.csv", two), ("Enrollment.csv", child)]));
    assert!(!r.applied);
    let refused = find(&r.errors, "the household they belong to would be lost");
    assert_eq!((refused.len(), refused[0].line), (1, 3), "{:#?}", r.errors);
}

#[test]
fn malformed_and_partial_ssns_are_dropped_with_a_warning_and_honest_data_quality() {
    let (_d, mut conn) = fresh();
    let rows = [
        client("P1", "1980-01-01", "888888", "1"),
        client("P2", "1980-01-01", "xxxxx6789", "1"),
        client("P3", "1980-01-01", "12345678A", "9"),
        client("P4", "1980-01-01", "123456789", "1"),
    ];
    let csv = format!("{CLIENT_HEADER}\n{}\n", rows.join("\n"));
    let r = import(&mut conn, &with_shelter(&[("Client.csv", csv)]));
    assert!(r.applied, "{:#?}", r.errors);
    let ssn = |id: &str| {
        conn.query_row(
            "SELECT ssn, ssn_data_quality FROM clients WHERE personal_id = ?",
            [id],
            |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, i64>(1)?)),
        )
        .unwrap()
    };
    assert_eq!(ssn("P1"), (None, 99));
    assert_eq!(ssn("P2"), (None, 2), "a dropped partial SSN does not keep quality 1");
    assert_eq!(ssn("P3"), (None, 9));
    assert_eq!(ssn("P4"), (Some("123456789".into()), 1));
    let warned: Vec<u64> =
        r.warnings.iter().filter(|w| w.column == "SSN").map(|w| w.line).collect();
    assert_eq!(warned, [2, 3, 4]);
    let shown: Vec<&str> =
        r.warnings.iter().filter(|w| w.column == "SSN").map(|w| w.value.as_str()).collect();
    assert_eq!(shown, ["**8888", "*****6789", "*****678A"], "reports show only the last four");
}

#[test]
fn hmis_times_are_local_to_the_zone_given_and_export_ids_never_repeat() {
    let (_d, mut conn) = fresh();
    let csv = format!("{CLIENT_HEADER}\n{}\n", client("P1", "1980-01-01", "", "99"));
    assert!(import(&mut conn, &with_shelter(&[("Client.csv", csv)])).applied);
    // 08:00 on 15 January in Chicago (UTC-6) is 14:00 UTC.
    let created = text(&conn, "SELECT created_at FROM clients WHERE personal_id = 'P1'");
    assert!(
        created.starts_with("2026-01-15 14:00:00") || created.starts_with("2026-01-15T14:00:00"),
        "{created}"
    );
    let organization = text(&conn, "SELECT time_zone FROM organizations");
    assert_eq!(organization, "America/Chicago");

    let org = count(&conn, "SELECT id FROM organizations");
    let opts = ExportOptions {
        start: harness::d("2026-01-01"),
        end: harness::d("2026-12-31"),
        programs: Vec::new(),
        organizations: vec![org],
        hashed: false,
        time_zone: None,
    };
    let at = chrono::Utc::now();
    let ids: std::collections::BTreeSet<String> =
        (0..50).map(|_| export(&conn, &opts, at).unwrap().export_id).collect();
    assert_eq!(ids.len(), 50, "fifty exports at the same instant have fifty ExportIDs");
    assert!(ids.iter().all(|id| id.len() <= 32));
}

#[test]
fn services_are_read_row_by_row_from_the_archive_with_their_lines() {
    use std::io::Write as _;
    let enrollment =
        format!("{ENROLLMENT_HEADER}\nE1,P1,J1,2026-08-01,H1,1,2026-09-01 10:00:00,X1\n");
    let row = |id: &str, night: &str| format!("{id},E1,P1,{night},200,200,2026-09-01 10:00:00,X1,");
    // After a byte-order mark, with CRLF line ends and a column Scanline does not read, whose
    // value on line 6 runs over two lines.
    let lines = [
        format!("{SERVICES_HEADER},Note"),
        row("S1", "2026-08-02"),
        row("S2", "not a date"),
        row("S1", "2026-08-03"),
        "S4,E1,P1".to_owned(),
        format!("{}\"two\r\nlines\"", row("S5", "2026-08-04")),
        row("S6", "2026-08-05"),
        row("S7", "someday"),
    ];
    let services = format!("\u{feff}{}\r\n", lines.join("\r\n"));
    let archive = |services: &str| {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, body) in [
            ("Export.csv", EXPORT.to_owned()),
            ("Organization.csv", ORGANIZATION.to_owned()),
            ("Project.csv", PROJECT.to_owned()),
            ("Client.csv", format!("{CLIENT_HEADER}\n{}\n", client("P1", "1980-01-01", "", "99"))),
            ("Enrollment.csv", enrollment.clone()),
            ("Services.csv", services.to_owned()),
        ] {
            let options = zip::write::SimpleFileOptions::default();
            w.start_file(format!("export/{name}"), options).unwrap();
            w.write_all(body.as_bytes()).unwrap();
        }
        Files::from_zip(&w.finish().unwrap().into_inner()).unwrap()
    };
    let (_d, mut conn) = fresh();
    let r = import(&mut conn, &archive(&services));
    assert!(!r.applied);
    let at =
        |needle: &str| -> Vec<u64> { find(&r.errors, needle).iter().map(|i| i.line).collect() };
    assert_eq!(at("not a date"), [3, 9], "{:#?}", r.errors);
    assert_eq!(at("the same ID is on line 2"), [4], "{:#?}", r.errors);
    assert_eq!(at("the row has 3 values"), [5], "{:#?}", r.errors);
    assert!(r.errors.iter().all(|e| e.file == "Services.csv"), "{:#?}", r.errors);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM services"), 0, "all or nothing");

    // The good rows alone import, read again from the archive on each attempt, and the
    // progress ends at the rows read.
    let good = [&lines[0], &lines[1], &lines[5], &lines[6]].map(String::as_str).join("\r\n");
    let files = archive(&format!("\u{feff}{good}\r\n"));
    let parsed = read::read(&files, harness::d(harness::TODAY));
    let opts = ImportOptions { time_zone: "America/Chicago".into(), scope: None };
    let mut last = (0, 0);
    let mut progress = |file: &str, done: u64, total: u64| {
        if file == "Services.csv" {
            last = (done, total);
        }
    };
    let (_d, mut refused_first) = fresh();
    let r = hmis::import_now(&mut refused_first, &parsed, &opts, &mut progress).unwrap();
    assert!(r.applied, "{:#?}", r.errors);
    assert_eq!(last, (3, 3));
    let services = r.counts.iter().find(|(f, _)| f == "Services.csv").unwrap().1;
    assert_eq!((services.read, services.added), (3, 3));
    let again = hmis::import_now(&mut conn, &parsed, &opts, &mut |_, _, _| {}).unwrap();
    assert!(again.applied, "{:#?}", again.errors);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM services"), 3);
}

#[test]
fn a_personal_id_twice_in_client_csv_is_one_error_naming_the_first_line() {
    let (_d, mut conn) = fresh();
    let body = [
        CLIENT_HEADER,
        &client("P1", "1980-01-01", "", "99"),
        &client("P1", "1981-01-01", "", "99"),
    ];
    let r = import(&mut conn, &with_shelter(&[("Client.csv", format!("{}\n", body.join("\n")))]));
    assert!(!r.applied);
    let found: Vec<(u64, &str)> = find(&r.errors, "the same ID is on line 2")
        .iter()
        .map(|i| (i.line, i.column.as_str()))
        .collect();
    assert_eq!(found, [(3, "PersonalID")], "{:#?}", r.errors);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM clients"), 0);
}
