//! ID cards end to end with real processes (DESIGN §4, §11): a client's card is reprinted on the
//! server; after the station's next roster sync the old card, read by the serial scanner, is
//! refused as "Replaced card", and the new card, drawn by the server and read off the picture by
//! a real barcode reader, is accepted for the same client.

use std::time::Duration;

use rusqlite::Connection;
use scanline_tests::{Kiosk, Line, server_cli};
use serde_json::Value;

/// The station's entry for a scanned code, once it is there.
async fn entry_for(kiosk: &Kiosk, code: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let entries = kiosk.get("/api/entries").await;
        if let Some(e) = entries.as_array().unwrap().iter().find(|e| e["code"] == code) {
            return e.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no entry for {code}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The codes `zbarimg` reads off a PNG.
fn zbar(png: &std::path::Path) -> Vec<String> {
    let out = std::process::Command::new("zbarimg")
        .arg("-q")
        .arg(png)
        .output()
        .expect("zbarimg runs (Debian package zbar-tools)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(':').map(|(_, d)| d.to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reprinted_card_scans_as_replaced_and_the_new_card_is_accepted() {
    let mut line = Line::start(30, true, 0).await;
    let db = line.agency.db.clone();
    let kiosk = line.kiosk.clone();
    let mut scanner = line.scanner.take().unwrap();
    let old = line.cards().good[0].clone();
    let (client_id, client_number): (i64, i64) = Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT c.id, c.client_number FROM cards k JOIN clients c ON c.id = k.client_id
             WHERE k.code = ?",
            [&old],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();

    // Reprint while the station runs.
    let reprinted_at = chrono::Utc::now();
    let (ok, out, err) =
        server_cli(&db, &["card", "issue", "--client", &client_number.to_string()]);
    assert!(ok, "{err}");
    let new = out.split_whitespace().last().unwrap().to_owned();
    assert_ne!(new, old);

    // The server draws the new card; a barcode reader reads both symbols off the picture.
    let png = line.agency.dir.path().join("card.png");
    let (ok, _, err) =
        server_cli(&db, &["card", "render", "--code", &new, "--out", png.to_str().unwrap()]);
    assert!(ok, "{err}");
    let read = zbar(&line.agency.dir.path().join("card-front.png"));
    assert_eq!(read, vec![new.clone(), new.clone()], "QR and Code 128 both carry the code");

    // Wait for a roster sync that began after the reprint.
    kiosk
        .wait_status(30, "a roster sync after the reprint", |s| {
            s["roster"]["synced_at"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|t| t > reprinted_at + chrono::Duration::milliseconds(500))
        })
        .await;

    scanner.scan(&old);
    let e = entry_for(&kiosk, &old).await;
    assert_eq!(e["verdict"], "replaced_card", "{e}");

    scanner.scan(&read[0]);
    let e = entry_for(&kiosk, &new).await;
    assert_eq!(e["verdict"], "accepted", "{e}");
    assert_eq!(e["client_id"], client_id, "{e}");
}
