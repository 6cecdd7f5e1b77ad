//! HUD HMIS CSV import and export (DESIGN §12) on the project's own synthetic exports in
//! `tests/fixtures/hmis/`: a normal export with bed nights, a byte-order-mark file with
//! lower-case headers and date variants, bad values, duplicate primary keys, older and newer
//! DateUpdated, and deletions. Round trip: import, export, re-import gives the same data. A bed
//! night imported from the HMIS counts as served, so a station's scan is a duplicate.

mod harness;

use std::path::{Path, PathBuf};

use harness::{Harness, entry, verdicts};
use rusqlite::Connection;
use scanline_server::db;
use scanline_server::hmis::export::{ExportOptions, export};
use scanline_server::hmis::{self, Files, Report, read};
use scanline_server::store::hmis::ImportOptions;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hmis").join(name)
}

fn fresh() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let conn = db::open_and_migrate(&dir.path().join("s.db")).unwrap();
    (dir, conn)
}

fn import_files(conn: &mut Connection, files: &Files) -> Report {
    let parsed = read::read(files, harness::d(harness::TODAY));
    let opts = ImportOptions { time_zone: "America/New_York".into(), scope: None };
    hmis::import_now(conn, &parsed, &opts, &mut |_, _, _| {}).unwrap()
}

fn import(conn: &mut Connection, set: &str) -> Report {
    import_files(conn, &Files::from_dir(&fixture(set)).unwrap())
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn has(issues: &[hmis::Issue], file: &str, line: u64, column: &str, reason: &str) -> bool {
    issues.iter().any(|i| {
        i.file == file && i.line == line && i.column == column && i.reason.contains(reason)
    })
}

#[test]
fn a_normal_export_imports_with_its_bed_nights_and_data_quality_warnings() {
    let (_d, mut conn) = fresh();
    let r = import(&mut conn, "normal");
    assert!(r.applied, "{:?}", r.errors);
    assert!(r.errors.is_empty());
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM clients WHERE personal_id IS NOT NULL"), 4);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM programs WHERE project_type = 1"), 2);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM enrollments"), 5);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM services"), 10);
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM services s JOIN service_types t ON t.id = s.service_type_id WHERE t.name = 'Bed Night' AND t.record_type = 200 AND t.type_provided = 200"
        ),
        9
    );
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM service_types WHERE name = 'SSVF Service: Case management services'"
        ),
        1
    );
    let (exit, dest): (String, i64) = conn
        .query_row(
            "SELECT exit_date, destination FROM enrollments WHERE hmis_enrollment_id = 'E400'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((exit.as_str(), dest), ("2026-09-04", 101));
    // Data-quality findings are imported and listed.
    assert!(
        has(&r.warnings, "Services.csv", 5, "DateProvided", "same night in another enrollment"),
        "{:#?}",
        r.warnings
    );
    assert!(
        has(&r.warnings, "Services.csv", 7, "DateProvided", "outside its enrollment"),
        "{:#?}",
        r.warnings
    );
    assert!(has(&r.warnings, "Client.csv", 4, "SSN", "partial SSN"), "{:#?}", r.warnings);
    assert!(
        !r.warnings.iter().any(|w| w.value.contains("4321") && w.value.starts_with('x')),
        "SSNs are masked in reports"
    );

    // Importing the same export again changes nothing.
    let before = harness::hmis_records(&conn);
    let again = import(&mut conn, "normal");
    assert!(again.applied);
    assert!(again.counts.iter().all(|(_, c)| c.added == 0 && c.updated == 0), "{:?}", again.counts);
    assert_eq!(harness::hmis_records(&conn), before);
}

#[test]
fn a_byte_order_mark_lower_case_headers_and_date_variants_are_read() {
    let (_d, mut conn) = fresh();
    conn.execute("INSERT INTO organizations (name, time_zone, created_at) VALUES ('Agency', 'UTC', '2026-01-01')", []).unwrap();
    let r = import(&mut conn, "bom");
    assert!(r.applied && r.errors.is_empty(), "{:?}", r.errors);
    let dobs: Vec<(String, String, String)> = conn
        .prepare("SELECT personal_id, dob, hmis_updated_at FROM clients ORDER BY personal_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(dobs[0].0, "P900");
    assert_eq!(dobs[0].1, "1971-02-07");
    assert!(
        dobs[0].2.starts_with("2026-02-07T12:00:00")
            || dobs[0].2.starts_with("2026-02-07 12:00:00"),
        "{}",
        dobs[0].2
    );
    assert_eq!(dobs[1].1, "1980-02-07");
}

#[test]
fn bad_values_change_nothing_and_the_report_names_each_row() {
    let (_d, mut conn) = fresh();
    let before = harness::hmis_records(&conn);
    let r = import(&mut conn, "bad_values");
    assert!(!r.applied);
    assert_eq!(harness::hmis_records(&conn), before, "nothing was written");
    for (file, line, column, reason) in [
        ("Enrollment.csv", 3, "EntryDate", "not a date"),
        ("Enrollment.csv", 4, "RelationshipToHoH", "HUD list 3.15.1"),
        ("Enrollment.csv", 5, "PersonalID", "no such client"),
        ("Services.csv", 3, "RecordType", "HUD list 1.4"),
        ("Services.csv", 4, "EnrollmentID", "no such enrollment"),
        ("Exit.csv", 3, "", "3 values where the header has 10"),
    ] {
        assert!(
            has(&r.errors, file, line, column, reason),
            "{file}:{line} {column} {reason}: {:#?}",
            r.errors
        );
    }
    let csv = r.issues_csv();
    assert!(csv.starts_with("kind,file,line,column,value,reason"));
    assert!(csv.contains("error,Enrollment.csv,3,EntryDate,2026-02-30,"), "{csv}");
}

#[test]
fn duplicate_primary_keys_are_refused() {
    let (_d, mut conn) = fresh();
    let r = import(&mut conn, "duplicate_keys");
    assert!(!r.applied);
    assert!(
        has(&r.errors, "Client.csv", 6, "PersonalID", "same ID is on line 3"),
        "{:#?}",
        r.errors
    );
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM clients"), 0);
}

#[test]
fn the_newer_date_updated_wins() {
    let (_d, mut conn) = fresh();
    assert!(import(&mut conn, "normal").applied);
    let newer = import(&mut conn, "updated_newer");
    assert!(newer.applied);
    let client = newer.counts.iter().find(|(f, _)| f == "Client.csv").unwrap().1;
    assert_eq!((client.updated, client.unchanged), (1, 3));
    let last = |c: &Connection| -> String {
        c.query_row("SELECT last_name FROM clients WHERE personal_id = 'P100'", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(last(&conn), "Quintero-Diaz");
    let older = import(&mut conn, "updated_older");
    assert!(older.applied);
    assert_eq!(last(&conn), "Quintero-Diaz", "an older record does not overwrite a newer one");
}

#[test]
fn deletions_in_the_hmis_are_honoured() {
    let (_d, mut conn) = fresh();
    assert!(import(&mut conn, "normal").applied);
    let r = import(&mut conn, "deleted");
    assert!(r.applied, "{:?}", r.errors);
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM services WHERE deleted_at IS NOT NULL AND deleted_reason = 'deleted in the HMIS'"
        ),
        2
    );
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM enrollments WHERE hmis_enrollment_id = 'E400' AND exit_date IS NULL"
        ),
        1
    );
}

#[test]
fn import_export_and_reimport_give_the_same_data() {
    let (_d, mut first) = fresh();
    assert!(import(&mut first, "normal").applied);
    let orgs: Vec<i64> = vec![count(&first, "SELECT id FROM organizations")];
    let opts = ExportOptions {
        start: "2026-01-01".parse().unwrap(),
        end: "2026-12-31".parse().unwrap(),
        programs: Vec::new(),
        organizations: orgs.clone(),
        hashed: false,
        time_zone: None,
    };
    let exported = export(&first, &opts, chrono::Utc::now()).unwrap();
    assert_eq!(exported.services, 10);
    let names: Vec<&str> = exported.files.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "Export.csv",
            "Organization.csv",
            "User.csv",
            "Project.csv",
            "Client.csv",
            "Enrollment.csv",
            "Exit.csv",
            "Services.csv"
        ]
    );
    let services = String::from_utf8(exported.files[7].1.clone()).unwrap();
    assert!(services.starts_with(
        "ServicesID,EnrollmentID,PersonalID,DateProvided,RecordType,TypeProvided,OtherTypeProvided,MovingOnOtherType,SubTypeProvided,FAAmount,FAStartDate,FAEndDate,ReferralOutcome,DateCreated,DateUpdated,UserID,DateDeleted,ExportID\r\n"
    ));
    assert!(services.contains("S1,E100,P100,2026-09-01,200,200,"), "{services}");
    let zip = exported.zip().unwrap();

    // Into a new database: the same records.
    let (_d2, mut second) = fresh();
    let r = import_files(&mut second, &Files::from_zip(&zip).unwrap());
    assert!(r.applied, "{:#?}", r.errors);
    assert_eq!(harness::hmis_records(&second), harness::hmis_records(&first));

    // Into the first database again: nothing changes.
    let before = harness::hmis_records(&first);
    let r = import_files(&mut first, &Files::from_zip(&zip).unwrap());
    assert!(r.applied, "{:#?}", r.errors);
    assert_eq!(harness::hmis_records(&first), before);

    // Hashed: names and SSNs follow HashStatus 4, the rest is untouched.
    let hashed =
        export(&first, &ExportOptions { hashed: true, ..opts }, chrono::Utc::now()).unwrap();
    let client = String::from_utf8(hashed.files[4].1.clone()).unwrap();
    let marisol = client.lines().find(|l| l.starts_with("P100,")).unwrap();
    assert!(marisol.contains(&scanline_server::hmis::export::hash_name("Marisol")), "{marisol}");
    assert!(marisol.contains(",6781"), "the SSN keeps its last four digits: {marisol}");
    assert!(!client.contains("Marisol"));
    let export_csv = String::from_utf8(hashed.files[0].1.clone()).unwrap();
    assert!(export_csv.lines().nth(1).unwrap().contains(",4,Scanline"), "{export_csv}");
}

#[tokio::test]
async fn a_bed_night_imported_from_the_hmis_makes_the_stations_scan_a_duplicate() {
    let h = Harness::new();
    let (client, code) = h.clients[0].clone();
    {
        let conn = h.conn();
        conn.execute("UPDATE programs SET hmis_project_id = 'PRJ-S' WHERE id = ?", [h.shelter])
            .unwrap();
        conn.execute("UPDATE clients SET personal_id = 'PC1' WHERE id = ?", [client]).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    let t = "2026-11-20 08:00:00";
    write("Export.csv", "ExportID,CSVVersion,HashStatus\nX1,2026 v1.0,1\n");
    write(
        "Enrollment.csv",
        &format!(
            "EnrollmentID,PersonalID,ProjectID,EntryDate,HouseholdID,RelationshipToHoH,DateUpdated,ExportID\nEN1,PC1,PRJ-S,2026-11-19,HH1,1,{t},X1\n"
        ),
    );
    write(
        "Services.csv",
        &format!(
            "ServicesID,EnrollmentID,PersonalID,DateProvided,RecordType,TypeProvided,DateUpdated,ExportID\nSV1,EN1,PC1,2026-11-19,200,200,{t},X1\n"
        ),
    );
    let mut conn = h.conn();
    let r = import_files(&mut conn, &Files::from_dir(dir.path()).unwrap());
    assert!(r.applied, "{:#?}", r.errors);

    let batch = h.create_batch(0, h.shelter, &[h.bed], "2026-11-19").await;
    // The same night for a client the HMIS had no bed night for is accepted.
    let other = h.clients[1].1.clone();
    let (status, body) = h
        .upload(
            0,
            &batch,
            serde_json::json!([
                entry(&code, "2026-11-20T04:00:00Z"),
                entry(&other, "2026-11-20T04:01:00Z")
            ]),
        )
        .await;
    assert_eq!(status, axum::http::StatusCode::OK, "{body}");
    assert_eq!(verdicts(&body), ["duplicate", "accepted"], "{body}");
}

#[tokio::test]
async fn meals_go_to_clienttrack_in_its_batch_upload_layout_and_as_plain_csv() {
    use scanline_server::hmis::services::{self, Layout};
    let h = Harness::new();
    let (mapped, mapped_code) = h.clients[0].clone();
    let (unmapped, unmapped_code) = h.clients[1].clone();
    {
        let conn = h.conn();
        scanline_server::store::hmis::settings::map_service_type(&conn, h.meal, "1042", "C")
            .unwrap();
        scanline_server::store::hmis::settings::set_org_settings(
            &conn,
            h.org_a,
            "ORG-77",
            "U-5",
            "Restrict to MOU/Info Release",
        )
        .unwrap();
        conn.execute("UPDATE clients SET personal_id = '300123' WHERE id = ?", [mapped]).unwrap();
        conn.execute("UPDATE enrollments SET hmis_enrollment_id = '88001' WHERE client_id = ? AND program_id = ?", [mapped, h.meals]).unwrap();
        assert!(
            scanline_server::store::hmis::settings::map_service_type(&conn, h.meal, "1042", "X")
                .is_err()
        );
    }
    let batch = h.create_batch(0, h.meals, &[h.meal], "2026-11-20").await;
    let (status, body) = h
        .upload(
            0,
            &batch,
            serde_json::json!([
                entry(&mapped_code, "2026-11-20T19:00:00Z"),
                entry(&unmapped_code, "2026-11-20T19:01:00Z")
            ]),
        )
        .await;
    assert_eq!(status, axum::http::StatusCode::OK, "{body}");
    h.post(0, &batch).await;

    let conn = h.conn();
    let day: chrono::NaiveDate = "2026-11-20".parse().unwrap();
    let ct = services::export(&conn, Layout::ClientTrack, &[h.org_a], &[], day, day).unwrap();
    let text = String::from_utf8(ct.csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "Service_ServiceCodeID,Service_ClientID,Service_EnrollID,Service_RegionID,Service_BeginDate,Service_EndDate,Service_UnitsOfMeasure,Service_Units,Service_UnitValue,Service_UserID,Service_CreatedDate,Service_CreatedBy,Service_UpdatedDate,Service_UpdatedBy,Service_OrgID,Service_RestrictOrg"
    );
    let row = lines.next().unwrap();
    assert!(row.starts_with("1042,300123,88001,,11/20/2026,11/20/2026,C,1,0,U-5,"), "{row}");
    assert!(row.ends_with(",U-5,ORG-77,Restrict to MOU/Info Release"), "{row}");
    assert_eq!(lines.next(), None);
    assert_eq!(ct.rows, 1);
    assert_eq!(ct.skipped.len(), 1, "the client the HMIS never sent is listed, not dropped");
    assert!(ct.skipped[0].3.contains("no HMIS client ID"));
    let number: u32 = conn
        .query_row("SELECT client_number FROM clients WHERE id = ?", [unmapped], |r| r.get(0))
        .unwrap();
    assert_eq!(ct.skipped[0].1, number);

    let plain = services::export(&conn, Layout::Plain, &[h.org_a], &[h.meals], day, day).unwrap();
    let text = String::from_utf8(plain.csv).unwrap();
    assert!(text.starts_with(
        "PersonalID,ClientNumber,Program,Service,Date,Units,UnitValue,GuestsWithoutRecord\r\n"
    ));
    assert!(text.contains("300123,"), "{text}");
    assert!(
        text.contains(&format!("SL{number},{number},Meals,Meal,2026-11-20,1,0,\r\n")),
        "{text}"
    );
    assert_eq!(plain.rows, 2);
    // Another organization's programs are not exported.
    let none = services::export(&conn, Layout::Plain, &[h.org_b], &[], day, day).unwrap();
    assert_eq!(none.rows, 0);
}

fn zip_of(set: &str) -> Vec<u8> {
    use std::io::Write as _;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut entries: Vec<_> =
        std::fs::read_dir(fixture(set)).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let name = format!("export/{}", path.file_name().unwrap().to_str().unwrap());
        w.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(&std::fs::read(&path).unwrap()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

async fn upload(h: &Harness, cookie: &str, body: &[u8], csrf: &str) -> harness::web::Page {
    harness::web::upload(h, "/admin/hmis/import", cookie, csrf, "file", "export.zip", body).await
}

#[tokio::test]
async fn admins_import_and_export_from_the_hmis_page() {
    use harness::web::{PASSWORD, add_user, csrf_of, get, post_with_csrf, sign_in};
    use scanline_server::store::users::Role;
    let h = Harness::new();
    add_user(&h, "admin", h.org_a, Role::Admin);
    add_user(&h, "staff", h.org_a, Role::Staff);
    let admin = sign_in(&h, "admin", PASSWORD).await.unwrap();
    let staff = sign_in(&h, "staff", PASSWORD).await.unwrap();
    assert_eq!(get(&h, "/admin/hmis", &staff).await.status, axum::http::StatusCode::FORBIDDEN);
    let page = get(&h, "/admin/hmis", &admin).await;
    assert_eq!(page.status, axum::http::StatusCode::OK);
    let csrf = csrf_of(&page.body);

    // A bad export: nothing changes, and the page lists the exact rows.
    let clients_before = h.count("SELECT COUNT(*) FROM clients");
    let bad = upload(&h, &admin, &zip_of("bad_values"), &csrf).await;
    assert_eq!(bad.status, axum::http::StatusCode::OK, "{}", bad.body);
    assert!(bad.body.contains("Nothing was imported"), "{}", bad.body);
    assert!(
        bad.body.contains("<td>Enrollment.csv</td><td>3</td><td>EntryDate</td><td>2026-02-30</td>"),
        "{}",
        bad.body
    );
    assert_eq!(h.count("SELECT COUNT(*) FROM clients"), clients_before);
    let junk = upload(&h, &admin, b"PersonalID,FirstName\n1,A\n", &csrf).await;
    assert_eq!(junk.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(junk.body.contains("not a readable zip archive"), "{}", junk.body);
    let forged = upload(&h, &admin, &zip_of("normal"), "forged").await;
    assert_eq!(forged.status, axum::http::StatusCode::FORBIDDEN);
    assert_eq!(h.count("SELECT COUNT(*) FROM clients"), clients_before);

    // The good one names an HMIS organization no organization of this admin is linked to:
    // an admin's import makes no organization, and says how to link one.
    let unlinked = upload(&h, &admin, &zip_of("normal"), &csrf).await;
    assert!(unlinked.body.contains("Nothing was imported"), "{}", unlinked.body);
    assert!(
        unlinked.body.contains("set the organization&#39;s HMIS organization ID"),
        "{}",
        unlinked.body
    );
    assert_eq!(h.count("SELECT COUNT(*) FROM clients"), clients_before);
    let linked = post_with_csrf(
        &h,
        "/admin/hmis/organization",
        &admin,
        "/admin/hmis",
        &format!(
            "organization_id={}&hmis_organization_id=ORG1&hmis_user_id=&restrict_org=",
            h.org_a
        ),
    )
    .await;
    assert_eq!(linked.status, axum::http::StatusCode::SEE_OTHER, "{}", linked.body);

    // Linked, it imports, in a folder inside the zip, into the admin's own organization.
    let good = upload(&h, &admin, &zip_of("normal"), &csrf).await;
    assert!(
        good.body.contains("Imported") && good.body.contains("data-quality warnings"),
        "{}",
        good.body
    );
    assert_eq!(h.count("SELECT COUNT(*) FROM clients") - clients_before, 4);
    assert_eq!(
        h.count(&format!(
            "SELECT COUNT(*) FROM organizations WHERE hmis_organization_id = 'ORG1' AND id = {}",
            h.org_a
        )),
        1
    );
    assert_eq!(h.count("SELECT COUNT(*) FROM organizations"), 2, "no organization was made");

    // Download the HUD export: a zip with the eight files.
    let zip =
        get(&h, "/admin/hmis/export.zip?from=2026-01-01&to=2026-12-31&program=", &admin).await;
    assert_eq!(zip.status, axum::http::StatusCode::OK, "{}", zip.body);
    assert_eq!(zip.content_type, "application/zip");
    let files = Files::from_zip(&zip.bytes).unwrap();
    assert!(files.source("Services.csv").is_some() && files.get("Export.csv").is_some());
    let bad_range = get(&h, "/admin/hmis/export.zip?from=2026-12-31&to=2026-01-01", &admin).await;
    assert_eq!(bad_range.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    let other_org = get(
        &h,
        &format!("/admin/hmis/export.zip?from=2026-01-01&to=2026-12-31&program={}", h.meals_b),
        &admin,
    )
    .await;
    assert_eq!(other_org.status, axum::http::StatusCode::NOT_FOUND);

    // Map the meal to a ClientTrack code; the services page says what is left out.
    let saved = post_with_csrf(
        &h,
        "/admin/hmis/mapping",
        &admin,
        "/admin/hmis",
        &format!("code_{}=1042&unit_{}=C", h.meal, h.meal),
    )
    .await;
    assert_eq!(saved.status, axum::http::StatusCode::SEE_OTHER, "{}", saved.body);
    let code: String = h
        .conn()
        .query_row("SELECT hmis_service_code FROM service_types WHERE id = ?", [h.meal], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(code, "1042");
    let foreign = post_with_csrf(
        &h,
        "/admin/hmis/mapping",
        &admin,
        "/admin/hmis",
        &format!("code_{}=9&unit_{}=C", h.meal_b, h.meal_b),
    )
    .await;
    assert_eq!(foreign.status, axum::http::StatusCode::NOT_FOUND);
    let batch = h.create_batch(0, h.meals, &[h.meal], "2026-11-20").await;
    h.upload(0, &batch, serde_json::json!([entry(&h.clients[0].1, "2026-11-20T19:00:00Z")])).await;
    h.post(0, &batch).await;
    let prepared = get(
        &h,
        "/admin/hmis/services?from=2026-11-20&to=2026-11-20&program=&format=clienttrack",
        &admin,
    )
    .await;
    assert!(
        prepared.body.contains("0 services ready") && prepared.body.contains("no HMIS client ID"),
        "{}",
        prepared.body
    );
    let plain = get(
        &h,
        "/admin/hmis/services.csv?from=2026-11-20&to=2026-11-20&program=&format=plain",
        &admin,
    )
    .await;
    assert!(
        plain.body.starts_with("PersonalID,ClientNumber,Program,Service,Date,Units,UnitValue"),
        "{}",
        plain.body
    );
    assert_eq!(plain.body.lines().count(), 2);
}

#[tokio::test]
async fn an_enrollment_deleted_in_the_hmis_leaves_the_stations_rosters_too() {
    let h = Harness::new();
    let client = h.clients[0].0;
    {
        let conn = h.conn();
        conn.execute("UPDATE programs SET hmis_project_id = 'PRJ-S' WHERE id = ?", [h.shelter])
            .unwrap();
        conn.execute("UPDATE clients SET personal_id = 'PC1' WHERE id = ?", [client]).unwrap();
    }
    let export = |deleted: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Export.csv"), "ExportID,HashStatus\nX1,1\n").unwrap();
        std::fs::write(
            dir.path().join("Enrollment.csv"),
            format!("EnrollmentID,PersonalID,ProjectID,EntryDate,HouseholdID,RelationshipToHoH,DateUpdated,DateDeleted,ExportID\nEN9,PC1,PRJ-S,2026-11-01,HH9,1,2026-11-02 08:00:00,{deleted},X1\n"),
        )
        .unwrap();
        dir
    };
    let mut conn = h.conn();
    let first = export("");
    assert!(import_files(&mut conn, &Files::from_dir(first.path()).unwrap()).applied);
    let id: i64 = conn
        .query_row("SELECT id FROM enrollments WHERE hmis_enrollment_id = 'EN9'", [], |r| r.get(0))
        .unwrap();
    let (_, snap) = h.call("GET", "/api/v1/roster", Some(&h.tokens[0]), None).await;
    let cursor = snap["cursor"].as_i64().unwrap();

    let gone = export("2026-11-03 08:00:00");
    let r = import_files(&mut conn, &Files::from_dir(gone.path()).unwrap());
    assert!(r.applied, "{:#?}", r.errors);
    assert_eq!(r.counts.iter().find(|(f, _)| f == "Enrollment.csv").unwrap().1.deleted, 1);
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM enrollments WHERE hmis_enrollment_id = 'EN9'"),
        0
    );
    let (status, delta) = h
        .call("GET", &format!("/api/v1/roster/delta?since={cursor}"), Some(&h.tokens[0]), None)
        .await;
    assert_eq!(status, axum::http::StatusCode::OK, "{delta}");
    assert!(delta["removed_enrollments"].as_array().unwrap().iter().any(|v| v == id), "{delta}");
}

#[test]
fn an_fy2024_export_imports_and_deleted_services_export_with_date_deleted() {
    let (_d, mut conn) = fresh();
    let r = import(&mut conn, "fy2024");
    assert!(r.applied, "{:#?}", r.errors);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM services WHERE hmis_services_id = 'V24'"), 1);
    assert_eq!(count(&conn, "SELECT project_type FROM programs WHERE hmis_project_id = 'J24'"), 1);

    conn.execute(
        "UPDATE services SET deleted_at = '2024-03-05 10:00:00.000000000+00:00', deleted_reason = 'entered twice'
         WHERE hmis_services_id = 'V24'",
        [],
    )
    .unwrap();
    let org = count(&conn, "SELECT id FROM organizations");
    let opts = ExportOptions {
        start: "2024-01-01".parse().unwrap(),
        end: "2024-12-31".parse().unwrap(),
        programs: Vec::new(),
        organizations: vec![org],
        hashed: false,
        time_zone: None,
    };
    let exported = export(&conn, &opts, chrono::Utc::now()).unwrap();
    let services = String::from_utf8(exported.files[7].1.clone()).unwrap();
    let row = services.lines().nth(1).unwrap();
    assert!(row.starts_with("V24,N24,C24,2024-02-01,200,200,"), "{row}");
    // 10:00 UTC is 05:00 in New York, the zone the HMIS writes in; the HMIS's user stays.
    let expected_tail = format!(
        ",2024-03-01 09:30:00,2024-03-05 05:00:00,U,2024-03-05 05:00:00,{}",
        exported.export_id
    );
    assert!(
        row.ends_with(&expected_tail),
        "DateCreated and UserID from the HMIS, DateUpdated and DateDeleted from the deletion: {row}"
    );
    assert_eq!(services.lines().next().unwrap().split(',').count(), 18);
}

#[test]
fn a_service_recorded_in_another_program_exports_with_its_enrollment() {
    let (_d, mut conn) = fresh();
    assert!(import(&mut conn, "normal").applied);
    let shelter = count(&conn, "SELECT id FROM programs WHERE hmis_project_id = 'PRJ-NBN'");
    conn.execute("UPDATE services SET program_id = ? WHERE hmis_services_id = 'S7'", [shelter])
        .unwrap();
    let opts = ExportOptions {
        start: "2026-01-01".parse().unwrap(),
        end: "2026-12-31".parse().unwrap(),
        programs: vec![shelter],
        organizations: vec![count(&conn, "SELECT id FROM organizations")],
        hashed: false,
        time_zone: None,
    };
    let exported = export(&conn, &opts, chrono::Utc::now()).unwrap();
    let text = |i: usize| String::from_utf8(exported.files[i].1.clone()).unwrap();
    assert!(text(7).contains("S7,E300,P300,"), "{}", text(7));
    assert!(text(5).lines().any(|l| l.starts_with("E300,P300,PRJ-OUT,")), "{}", text(5));
    assert_eq!(text(5).lines().filter(|l| l.starts_with("E300,")).count(), 1);
}
