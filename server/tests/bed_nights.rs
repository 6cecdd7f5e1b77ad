//! Bed nights through the station API (DESIGN §6): one per client per night, post-midnight
//! scans dated to the previous night, auto-enrollment on the first night, none on or after
//! exit, capacity, and the auto-exit job's dates.

#![allow(clippy::many_single_char_names)]

mod harness;

use harness::{Harness, d, entry, verdicts};
use rusqlite::params;
use scanline_server::db::immediate;
use scanline_server::store::{StoreError, bednights, enrollments};
use serde_json::json;

/// Los Angeles is UTC-8 in November.
fn la(local: &str) -> String {
    let t = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
    (t + chrono::Duration::hours(8)).and_utc().to_rfc3339()
}

#[tokio::test]
async fn one_bed_night_per_night_dated_by_the_cutover() {
    let h = Harness::new();
    let batch = h.create_batch(0, h.shelter, &[h.bed], "2026-11-21").await;
    let (a, b) = (&h.clients[0].1, &h.clients[1].1);
    let (_, r) = h
        .upload(
            0,
            &batch,
            json!([
                entry(a, &la("2026-11-21 21:00")),
                entry(a, &la("2026-11-22 01:30")), // same night, after midnight
                entry(b, &la("2026-11-22 01:30")), // arrives after midnight: last night
            ]),
        )
        .await;
    assert_eq!(verdicts(&r), ["accepted", "duplicate", "accepted"]);
    for e in r["entries"].as_array().unwrap() {
        assert_eq!(e["service_date"], "2026-11-21");
    }
    let s = h.post(0, &batch).await;
    assert_eq!(s["posted"], 2);
    assert_eq!(s["enrollments_created"], 2, "auto-enrollment on the first night");
    let conn = h.conn();
    let entry_dates: Vec<String> = conn
        .prepare("SELECT entry_date FROM enrollments WHERE program_id = ?")
        .unwrap()
        .query_map([h.shelter], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(entry_dates, ["2026-11-21", "2026-11-21"]);
    let nights: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM services WHERE program_id = ? AND date_provided = '2026-11-21'",
            [h.shelter],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(nights, 2);

    // The next night, a new batch: the existing enrollment is used, and a second scan the
    // following morning is still that night's duplicate.
    let batch2 = h.create_batch(0, h.shelter, &[h.bed], "2026-11-22").await;
    let (_, r) = h
        .upload(
            0,
            &batch2,
            json!([entry(a, &la("2026-11-22 22:00")), entry(a, &la("2026-11-23 07:00"))]),
        )
        .await;
    assert_eq!(verdicts(&r), ["accepted", "duplicate"]);
    let s = h.post(0, &batch2).await;
    assert_eq!(s["enrollments_created"], 0);
}

#[tokio::test]
async fn capacity_and_no_bed_night_on_or_after_exit() {
    let h = Harness::new();
    // Capacity 3: the fourth guest of a night is refused.
    let batch = h.create_batch(0, h.shelter, &[h.bed], "2026-11-21").await;
    let scans: Vec<_> =
        h.clients.iter().take(4).map(|c| entry(&c.1, &la("2026-11-21 20:00"))).collect();
    let (_, r) = h.upload(0, &batch, json!(scans)).await;
    assert_eq!(verdicts(&r), ["accepted", "accepted", "accepted", "capacity_full"]);
    h.post(0, &batch).await;

    // Exit the first guest on the 23rd; with intake required, a scan for the night of the 23rd
    // finds no open enrollment, while the 22nd still counts.
    let conn = h.conn();
    let enrollment: i64 = conn
        .query_row(
            "SELECT id FROM enrollments WHERE client_id = ? AND program_id = ?",
            [h.clients[0].0, h.shelter],
            |r| r.get(0),
        )
        .unwrap();
    enrollments::exit(&conn, enrollment, d("2026-11-23"), 30).unwrap();
    conn.execute(
        "UPDATE programs SET enrollment_policy = 'reject' WHERE id = ?",
        params![h.shelter],
    )
    .unwrap();
    // A bed night on the exit day itself cannot be recorded by exiting too early either.
    let err = enrollments::exit(&conn, enrollment, d("2026-11-21"), 30).unwrap_err();
    assert!(err.to_string().contains("already exited"), "{err}");
    drop(conn);
    let b22 = h.create_batch(0, h.shelter, &[h.bed], "2026-11-22").await;
    let b23 = h.create_batch(0, h.shelter, &[h.bed], "2026-11-23").await;
    let (_, r) = h.upload(0, &b22, json!([entry(&h.clients[0].1, &la("2026-11-22 21:00"))])).await;
    assert_eq!(verdicts(&r), ["accepted"]);
    let (_, r) = h.upload(0, &b23, json!([entry(&h.clients[0].1, &la("2026-11-23 21:00"))])).await;
    assert_eq!(verdicts(&r), ["no_open_enrollment"]);
}

#[tokio::test]
async fn exit_refuses_a_date_that_would_orphan_a_bed_night() {
    let h = Harness::new();
    let batch = h.create_batch(0, h.shelter, &[h.bed], "2026-11-21").await;
    h.upload(0, &batch, json!([entry(&h.clients[0].1, &la("2026-11-21 20:00"))])).await;
    h.post(0, &batch).await;
    let conn = h.conn();
    let enrollment: i64 = conn
        .query_row("SELECT id FROM enrollments WHERE program_id = ?", [h.shelter], |r| r.get(0))
        .unwrap();
    let before = h.dump();
    let err = enrollments::exit(&conn, enrollment, d("2026-11-21"), 30).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    assert_eq!(h.dump(), before);
    enrollments::exit(&conn, enrollment, d("2026-11-22"), 30).unwrap();
}

#[tokio::test]
async fn auto_exit_dates_are_the_day_after_the_last_bed_night() {
    let h = Harness::new();
    let batch = h.create_batch(0, h.shelter, &[h.bed], "2026-11-20").await;
    let (a, b) = (&h.clients[0].1, &h.clients[1].1);
    h.upload(
        0,
        &batch,
        json!([entry(a, &la("2026-11-20 20:00")), entry(b, &la("2026-11-20 20:00"))]),
    )
    .await;
    h.post(0, &batch).await;
    let batch = h.create_batch(0, h.shelter, &[h.bed], "2026-11-22").await;
    // B's night of the 22nd is accepted but not posted yet: it still counts as a bed night.
    h.upload(0, &batch, json!([entry(b, &la("2026-11-22 20:00"))])).await;

    let mut conn = h.conn();
    let run = |conn: &mut rusqlite::Connection, night: &str| {
        immediate(conn, |tx| bednights::auto_exit(tx, Some(d(night)))).unwrap()
    };
    // Three nights (21, 22, 23) must pass without a bed night: not yet on the 23rd.
    assert!(run(&mut conn, "2026-11-23").is_empty());
    let exits = run(&mut conn, "2026-11-24");
    assert_eq!(exits.len(), 1);
    assert_eq!(exits[0].client_id, h.clients[0].0);
    assert_eq!(exits[0].exit_date, d("2026-11-21"));
    let (exit, dest): (String, i64) = conn
        .query_row(
            "SELECT exit_date, destination FROM enrollments WHERE id = ?",
            [exits[0].enrollment_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((exit.as_str(), dest), ("2026-11-21", 30));
    // Running again changes nothing; B goes once the 23rd, 24th and 25th have passed.
    assert!(run(&mut conn, "2026-11-24").is_empty());
    assert!(run(&mut conn, "2026-11-25").is_empty());
    let exits = run(&mut conn, "2026-11-26");
    assert_eq!(exits.len(), 1);
    assert_eq!(exits[0].exit_date, d("2026-11-23"));
    let audited: i64 = conn
        .query_row("SELECT COUNT(*) FROM audit_events WHERE action = 'auto_exit'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(audited, 2);
}
