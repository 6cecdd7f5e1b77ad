//! Backups on a schedule keep the newest few, each checked; restore checks the backup, keeps
//! the database it replaces, and a bad backup changes nothing.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use scanline_server::backup::{backup_file, list, restore, scheduled};

fn database(path: &Path, rows: i64) {
    let conn = scanline_server::db::open_and_migrate(path).unwrap();
    for i in 0..rows {
        conn.execute(
            "INSERT INTO organizations (name, time_zone, created_at) VALUES (?, 'UTC', '2026-01-01')",
            [format!("Org {i}")],
        )
        .unwrap();
    }
}

fn orgs(path: &Path) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM organizations", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn scheduled_backups_are_checked_and_only_the_newest_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    database(&db, 3);
    let backups = dir.path().join("backups");
    let t0: DateTime<Utc> = "2026-11-22T10:00:00Z".parse().unwrap();
    for i in 0..5 {
        scheduled(&db, &backups, 3, t0 + chrono::Duration::hours(i)).unwrap();
    }
    let kept = list(&backups).unwrap();
    assert_eq!(kept.len(), 3);
    assert!(kept[0].to_str().unwrap().contains("20261122T120000"), "{kept:?}");
    assert_eq!(orgs(&kept[2]), 3);
    assert!(backup_file(&db, &kept[2]).is_err(), "an existing file is never overwritten");
}

#[test]
fn restore_checks_the_backup_and_keeps_what_it_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    database(&db, 2);
    let backup = dir.path().join("b.db");
    backup_file(&db, &backup).unwrap();
    database(&db, 0);
    Connection::open(&db)
        .unwrap()
        .execute("INSERT INTO organizations (name, time_zone, created_at) VALUES ('Late', 'UTC', '2026-01-02')", [])
        .unwrap();
    assert_eq!(orgs(&db), 3);
    let now: DateTime<Utc> = "2026-11-22T10:00:00Z".parse().unwrap();
    let kept = restore(&backup, &db, now).unwrap().unwrap();
    assert_eq!(orgs(&db), 2);
    assert_eq!(orgs(&kept), 3);

    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"this is not a database").unwrap();
    assert!(restore(&junk, &db, now).is_err());
    assert_eq!(orgs(&db), 2, "a bad backup changes nothing");
}
