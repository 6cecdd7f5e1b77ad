//! Logs of a whole meal line at debug level (DESIGN §13): the server (as JSON lines with
//! request ids) and the station log what happened and never a client's name.

use std::collections::HashSet;
use std::time::Duration;

use rusqlite::Connection;
use scanline_tests::{
    FakeScanner, Kiosk, ServerProcess, StationProcess, agency, cards, misread, ready,
    station_config,
};
use serde_json::json;

/// Services the server holds from posted batches.
fn services(db: &std::path::Path) -> i64 {
    rusqlite::Connection::open(db)
        .and_then(|c| {
            c.query_row("SELECT COUNT(*) FROM services WHERE batch_entry_id IS NOT NULL", [], |r| {
                r.get(0)
            })
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_line_of_a_meal_line_names_a_client() {
    let a = agency(80);
    let server_log = a.dir.path().join("server.log");
    let station_log = a.dir.path().join("station.log");
    // The server logs JSON lines.
    let server = ServerProcess::start_with_log(
        &a.db,
        &["serve", "--listen", "127.0.0.1:0"],
        Some(&server_log),
        true,
    );
    let link = a.dir.path().join("scanner");
    let mut scanner = FakeScanner::plug(&link);
    let config =
        station_config(a.dir.path(), &server.base, &a.token, Some(&link), 0, ("Lunch line", 1, 1));
    let station = StationProcess::start_with_log(&config, Some(&station_log));
    let kiosk = Kiosk::new(&station.kiosk);
    ready(&kiosk, true).await;

    let c = cards(&a.db);
    let mut plan: Vec<String> = c.good.iter().take(25).cloned().collect();
    plan.extend(c.unenrolled.iter().take(3).cloned());
    plan.extend(c.barred.iter().take(3).cloned());
    plan.extend(c.replaced.iter().take(3).cloned());
    plan.push(misread(&c.good[0]));
    plan.push("LEGACY-404".into());
    for code in &plan {
        scanner.scan(code);
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let names: Vec<(String, String)> = Connection::open(&a.db)
        .unwrap()
        .prepare("SELECT first_name, last_name FROM clients")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // The no-card lookup by first letters, and Post Services.
    let first = &names[0].0;
    kiosk.get(&format!("/api/lookup?q={}", &first[..2])).await;
    kiosk.wait_status(60, "every scan uploaded", |s| s["outbox_pending"] == 0).await;
    let uploaded: i64 = Connection::open(&a.db)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM batch_entries", [], |r| r.get(0))
        .unwrap();
    assert!(uploaded >= 30, "the scans reached the server: {uploaded}");
    let (status, body) = kiosk.post("/api/post", &json!({})).await;
    assert_eq!(status, 200, "{body}");
    // Post Services is sent in the background: wait until the server has the services.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while services(&a.db) == 0 {
        assert!(std::time::Instant::now() < deadline, "Post Services never reached the server");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(station);
    drop(server);

    let server_text = std::fs::read_to_string(&server_log).unwrap();
    let station_text = std::fs::read_to_string(&station_log).unwrap();
    assert!(server_text.lines().count() > 20, "the server logged the run: {server_text}");
    assert!(station_text.lines().count() > 5, "the station logged the run: {station_text}");
    // JSON lines, each request with its id.
    let mut ids = HashSet::new();
    for line in server_text.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if let Some(id) = v["span"]["request_id"].as_str().filter(|s| !s.is_empty()) {
            ids.insert(id.to_owned());
        }
    }
    assert!(ids.len() > 5, "requests carry ids: {}", ids.len());

    let words: HashSet<&str> =
        names.iter().flat_map(|(f, l)| [f.as_str(), l.as_str()]).filter(|n| n.len() >= 3).collect();
    for (which, text) in [("server", &server_text), ("station", &station_text)] {
        for line in text.lines() {
            for token in line.split(|c: char| !c.is_alphanumeric()) {
                assert!(!words.contains(token), "the {which} log names a client ({token}): {line}");
            }
        }
    }
}
