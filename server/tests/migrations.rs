//! Schema upgrades: a database made by the previous schema version, holding data, upgrades to
//! the current one with every row intact; a database newer than the binary is refused.

use rusqlite::Connection;
use scanline_server::db;

#[test]
fn previous_version_with_data_survives_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let latest = db::schema_version_known() as usize;
    assert!(latest >= 2, "this test needs a previous version to upgrade from");
    {
        let mut conn = Connection::open(&path).unwrap();
        db::configure(&conn).unwrap();
        db::migrations().to_version(&mut conn, latest - 1).unwrap();
        conn.execute_batch(
            "INSERT INTO organizations (name, time_zone, created_at)
                 VALUES ('Old Org', 'America/Denver', '2025-01-01 00:00:00+00:00');
             INSERT INTO programs (organization_id, name, project_type, created_at)
                 VALUES (1, 'Meals', 6, '2025-01-01 00:00:00+00:00');
             INSERT INTO service_types (program_id, name, created_at)
                 VALUES (1, 'Meal', '2025-01-01 00:00:00+00:00');
             INSERT INTO clients (organization_id, client_number, first_name, last_name,
                 created_at, updated_at)
                 VALUES (1, 42, 'Olga', 'Oakes', '2025-01-01 00:00:00+00:00', '2025-01-01 00:00:00+00:00');
             INSERT INTO enrollments (client_id, program_id, household_id, entry_date,
                 created_at, updated_at)
                 VALUES (1, 1, 'h1', '2025-01-02', '2025-01-02 00:00:00+00:00', '2025-01-02 00:00:00+00:00');
             INSERT INTO services (enrollment_id, client_id, program_id, service_type_id,
                 date_provided, units, unit_value, created_at)
                 VALUES (1, 1, 1, 1, '2025-01-03', 1, 0, '2025-01-03 00:00:00+00:00');",
        )
        .unwrap();
        assert_eq!(db::schema_version(&conn).unwrap(), (latest - 1) as i64);
    }
    let conn = db::open_and_migrate(&path).unwrap();
    assert_eq!(db::schema_version(&conn).unwrap(), latest as i64);
    let (name, date): (String, String) = conn
        .query_row(
            "SELECT c.first_name, s.date_provided FROM services s JOIN clients c ON c.id = s.client_id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((name.as_str(), date.as_str()), ("Olga", "2025-01-03"));
    // The new version's tables are usable.
    conn.execute(
        "INSERT INTO batch_templates (program_id, name, created_at) VALUES (1, 'Lunch line', 'x')",
        [],
    )
    .unwrap();
    // Opening again is a no-op.
    drop(conn);
    let conn = db::open_and_migrate(&path).unwrap();
    assert_eq!(db::schema_version(&conn).unwrap(), latest as i64);
}
