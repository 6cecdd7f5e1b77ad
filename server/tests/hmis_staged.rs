//! The HMIS import staged off the writer (DESIGN §12): worked out on a copy of the database
//! while the server keeps writing, then landed in one short transaction. What lands is what the
//! import would have written on the writer; rows the server added meanwhile keep their own
//! numbers beside the import's; a row the import changes that was changed meanwhile, or a bed
//! night recorded meanwhile for a night the import adds, sends it round again on a new copy,
//! with nothing half-landed.

mod harness;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};
use scanline_server::db::{self, Db};
use scanline_server::hmis::staged::{self, Plan};
use scanline_server::hmis::{self, Files, read};
use scanline_server::store::hmis::ImportOptions;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hmis").join(name)
}

fn opts() -> ImportOptions {
    ImportOptions { time_zone: "America/New_York".into(), scope: None }
}

fn parsed(files: &Files) -> hmis::model::Parsed {
    read::read(files, harness::d(harness::TODAY))
}

fn reading(files: Files) -> staged::Reading {
    staged::reading(files, harness::d(harness::TODAY))
}

fn set(name: &str) -> Files {
    Files::from_dir(&fixture(name)).unwrap()
}

/// A served database file, and a second connection to it standing for the rest of the server.
fn served() -> (tempfile::TempDir, Db, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let db = Db::open(&path).unwrap();
    let conn = Connection::open(&path).unwrap();
    db::configure(&conn).unwrap();
    (dir, db, conn)
}

/// The same import straight on a connection, as the command line does.
fn direct(files: &Files) -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = db::open_and_migrate(&dir.path().join("s.db")).unwrap();
    let report = hmis::import_now(&mut conn, &parsed(files), &opts(), &mut |_, _, _| {}).unwrap();
    assert!(report.applied, "{:?}", report.errors);
    (dir, conn)
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Works the import out on a copy of `db`'s file, as the page does before landing it.
fn plan(db: &Db, files: &Files) -> scanline_server::store::staged::Copy {
    match staged::plan(db.path().unwrap(), &parsed(files), &opts()).unwrap() {
        Plan::Ready(copy, report) => {
            assert!(report.applied, "{:?}", report.errors);
            copy
        }
        Plan::Refused(report) => panic!("refused: {:?}", report.errors),
    }
}

/// A walk-in the rest of the server records while the import is worked out, at an agency of
/// its own: an organization, a shelter with its bed-night service, a client, their stay and a
/// night, each numbered as the copy numbers its own new rows.
fn walk_in(conn: &Connection, first: &str, night: &str) -> (i64, i64) {
    conn.execute_batch(
        "INSERT INTO organizations (name, time_zone, created_at) VALUES ('Walk-In Agency', 'America/New_York', '2026-11-01');
         INSERT INTO programs (organization_id, name, project_type, created_at)
           VALUES (last_insert_rowid(), 'Walk-In Shelter', 1, '2026-11-01');
         INSERT INTO service_types (program_id, name, record_type, type_provided, created_at)
           VALUES (last_insert_rowid(), 'Bed Night', 200, 200, '2026-11-01');",
    )
    .unwrap();
    let number: i64 = count(conn, "SELECT COALESCE(MAX(client_number), 0) + 1 FROM clients");
    conn.execute(
        "INSERT INTO clients (organization_id, client_number, first_name, last_name, created_at, updated_at)
         SELECT id, ?1, ?2, 'Walk-In', '2026-11-01', '2026-11-01' FROM organizations WHERE name = 'Walk-In Agency'",
        params![number, first],
    )
    .unwrap();
    let client = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO enrollments (client_id, program_id, household_id, relationship_to_hoh, entry_date, created_at, updated_at)
         SELECT ?1, id, 'H-walk-in', 1, '2026-09-01', '2026-11-01', '2026-11-01' FROM programs WHERE name = 'Walk-In Shelter'",
        [client],
    )
    .unwrap();
    let enrollment = conn.last_insert_rowid();
    let service = bed_night(conn, enrollment, night);
    (client, service)
}

/// Records a bed night for an enrollment, as a station's scan does.
fn bed_night(conn: &Connection, enrollment: i64, night: &str) -> i64 {
    conn.execute(
        "INSERT INTO services (enrollment_id, client_id, program_id, service_type_id, date_provided, units, unit_value, created_at)
         SELECT e.id, e.client_id, e.program_id,
                (SELECT id FROM service_types WHERE program_id = e.program_id AND record_type = 200 ORDER BY id LIMIT 1),
                ?2, 1, 0, '2026-11-28 12:00:00.000+00:00'
         FROM enrollments e WHERE e.id = ?1",
        params![enrollment, night],
    )
    .unwrap();
    conn.last_insert_rowid()
}

#[tokio::test]
async fn a_staged_import_lands_what_the_writer_would_have_written() {
    let (dir, db, conn) = served();
    for name in ["normal", "updated_newer", "deleted"] {
        let done = staged::import(&db, reading(set(name)), opts()).await.unwrap();
        assert!(done.report.applied, "{name}: {:?}", done.report.errors);
        assert_eq!((done.attempts, done.conflicts.len()), (1, 0), "{name}");
        assert!(done.landed.is_some(), "{name} landed from its copy");
    }
    let elsewhere = tempfile::tempdir().unwrap();
    let mut expected = db::open_and_migrate(&elsewhere.path().join("s.db")).unwrap();
    for name in ["normal", "updated_newer", "deleted"] {
        hmis::import_now(&mut expected, &parsed(&set(name)), &opts(), &mut |_, _, _| {}).unwrap();
    }
    assert_eq!(harness::hmis_records(&conn), harness::hmis_records(&expected));
    assert!(count(&conn, "SELECT COUNT(*) FROM services") > 0);
    // The stations hear of every record changed, through the live database's own change log
    // (once a record: the copy's steps land as one change).
    let heard = "SELECT COUNT(DISTINCT entity || ':' || entity_key) FROM roster_changes";
    assert_eq!(count(&conn, heard), count(&expected, heard));
    // No copy is left beside the database.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("staged"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn rows_the_server_adds_meanwhile_keep_their_numbers_beside_the_imports() {
    let (_dir, db, conn) = served();
    let copy = plan(&db, &set("normal"));
    // Meanwhile the server adds an organization, a program, a service type, a client, an
    // enrollment and a service: the same numbers the copy gave its own first rows.
    let (walk_in, service) = walk_in(&conn, "Rowan", "2026-09-20");
    let (landed, _) =
        staged::land(&db, copy, harness::d(harness::TODAY)).await.unwrap().expect("no conflict");
    assert!(landed.added > 0, "{landed:?}");

    let (_d, expected) = direct(&set("normal"));
    walk_in_records_match(&conn, walk_in, service);
    // Everything but the walk-in is as the import alone makes it.
    let without = |c: &Connection| {
        harness::hmis_records(c)
            .lines()
            .filter(|l| !l.contains("Walk-In") && !l.contains("Null|"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(without(&conn), without(&expected));
    let broken: i64 = conn
        .prepare("PRAGMA foreign_key_check")
        .unwrap()
        .query_map([], |_| Ok(()))
        .unwrap()
        .count() as i64;
    assert_eq!(broken, 0);
}

/// The walk-in's bed night still names the walk-in, their enrollment and their shelter.
fn walk_in_records_match(conn: &Connection, client: i64, service: i64) {
    let (c, e_client, name): (i64, i64, String) = conn
        .query_row(
            "SELECT s.client_id, e.client_id, c.first_name FROM services s
               JOIN enrollments e ON e.id = s.enrollment_id JOIN clients c ON c.id = s.client_id
             WHERE s.id = ?1",
            [service],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((c, e_client, name.as_str()), (client, client, "Rowan"));
}

#[tokio::test]
async fn a_row_changed_meanwhile_sends_the_import_round_again_with_nothing_landed() {
    let (_dir, db, conn) = served();
    assert!(staged::import(&db, reading(set("normal")), opts()).await.unwrap().report.applied);
    let copy = plan(&db, &set("updated_newer"));
    // Staff correct the client the newer export also changes, before it lands.
    conn.execute("UPDATE clients SET dob = '1980-02-02' WHERE personal_id = 'P100'", []).unwrap();
    let before = harness::hmis_records(&conn);
    let conflict =
        staged::land(&db, copy, harness::d(harness::TODAY)).await.unwrap().expect_err("a conflict");
    assert!(conflict.0.contains("clients"), "{conflict:?}");
    assert_eq!(harness::hmis_records(&conn), before, "nothing landed");
    // Round again, on a copy that holds the correction.
    let done = staged::import(&db, reading(set("updated_newer")), opts()).await.unwrap();
    assert!(done.report.applied && done.landed.is_some(), "{:?}", done.report.errors);
    let last: String = conn
        .query_row("SELECT last_name FROM clients WHERE personal_id = 'P100'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(last, "Quintero-Diaz");
}

#[tokio::test]
async fn a_bed_night_recorded_meanwhile_is_linked_not_doubled() {
    let (_dir, db, conn) = served();
    assert!(staged::import(&db, reading(set("normal")), opts()).await.unwrap().report.applied);
    // The HMIS sends a night E100 did not have yet.
    let mut files = set("normal");
    let mut services = std::fs::read_to_string(fixture("normal").join("Services.csv")).unwrap();
    services.push_str(
        "S900,E100,P100,2026-09-10,200,200,,,,,,,,2026-09-10 10:00:00,2026-09-10 10:00:00,U1,,EXP1\n",
    );
    files.insert("Services.csv", services.into_bytes());
    let copy = plan(&db, &files);
    // Meanwhile the shelter's station records the same night for the same stay.
    let e100: i64 = count(&conn, "SELECT id FROM enrollments WHERE hmis_enrollment_id = 'E100'");
    bed_night(&conn, e100, "2026-09-10");
    let before = harness::hmis_records(&conn);
    let conflict =
        staged::land(&db, copy, harness::d(harness::TODAY)).await.unwrap().expect_err("a conflict");
    assert!(conflict.0.contains("bed night"), "{conflict:?}");
    assert_eq!(harness::hmis_records(&conn), before, "nothing landed");

    let done = staged::import(&db, reading(files), opts()).await.unwrap();
    assert!(done.report.applied, "{:?}", done.report.errors);
    let nights = count(
        &conn,
        &format!(
            "SELECT COUNT(*) FROM services WHERE enrollment_id = {e100} AND date_provided = '2026-09-10' AND deleted_at IS NULL"
        ),
    );
    assert_eq!(nights, 1, "the HMIS's night is the station's, named S900");
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM services WHERE hmis_services_id = 'S900'"), 1);
}

#[tokio::test]
async fn a_refused_import_never_asks_the_writer() {
    let (_dir, db, conn) = served();
    let before = harness::hmis_records(&conn);
    let done = staged::import(&db, reading(set("bad_values")), opts()).await.unwrap();
    assert!(!done.report.applied && !done.report.errors.is_empty());
    assert_eq!((done.attempts, done.writer_held), (1, std::time::Duration::ZERO));
    assert!(done.landed.is_none());
    assert_eq!(harness::hmis_records(&conn), before);
}

/// The `normal` export with one bed night more, last night's: its other services are months
/// old.
fn with_last_night() -> Files {
    let mut files = set("normal");
    let mut csv = String::new();
    files.source("Services.csv").unwrap().read(|r| r.read_to_string(&mut csv)).unwrap().unwrap();
    csv.push_str(
        "S99,E100,P100,2026-11-27,200,200,,,,,,,,2026-11-28 08:00:00,2026-11-28 08:00:00,U1,,EXP1\n",
    );
    files.insert("Services.csv", csv.into_bytes());
    files
}

/// The services the import made roster changes of, by their HMIS ids.
fn services_published(conn: &Connection) -> Vec<String> {
    conn.prepare(
        "SELECT s.hmis_services_id FROM roster_changes r
         JOIN services s ON r.entity = 'service' AND s.id = CAST(r.entity_key AS INTEGER)
         ORDER BY s.hmis_services_id",
    )
    .unwrap()
    .query_map([], |r| r.get(0))
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[tokio::test]
async fn history_an_import_brings_is_no_roster_change() {
    // Only last night's bed night can change a station's verdict: months-old services are no
    // change for the stations' deltas, landed from a copy or imported straight.
    let (_dir, db, conn) = served();
    let done = staged::import(&db, reading(with_last_night()), opts()).await.unwrap();
    assert!(done.report.applied, "{:?}", done.report.errors);
    assert!(done.landed.is_some(), "{:?}", done.conflicts);
    assert_eq!(services_published(&conn), ["S99"]);
    let (_d, direct) = direct(&with_last_night());
    assert_eq!(services_published(&direct), ["S99"]);
    // Outside an import every service is a change, however old.
    let (_, service) = walk_in(&conn, "Rowan", "2026-09-20");
    let published: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM roster_changes WHERE entity = 'service' AND entity_key = ?1",
            [service.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(published, 1);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM roster_quiet"), 0);
}
