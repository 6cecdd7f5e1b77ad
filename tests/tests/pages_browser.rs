//! Every staff page, the kiosk and the guest screen in headless Chromium: axe-core (installed
//! from npm by `tests/run`) finds no violation on any of them, at a desk laptop's 1366×768 and at
//! a phone's 390×844; no page scrolls sideways at either size, and at 390 px every control is
//! at least 44 px tall. Screenshots of each page at both sizes go to `target/screenshots/pages/`.

use fantoccini::Locator;
use rusqlite::Connection;
use scanline_tests::pages::{problems, resize, screenshots};
use scanline_tests::{Browser, Line};
use serde_json::json;

const ENTER: &str = "\u{E007}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_and_fits_a_phone() {
    let shots = screenshots("pages");
    let line = Line::start(120, false, 300).await;
    let base = line.server.as_ref().unwrap().base.clone();
    let kiosk = line.station.kiosk.clone();
    let cards = line.cards();
    // A few scans at the station, so its review list and the guest screen have rows, and posted,
    // so the server has a station batch to review.
    for code in [&cards.good[0], &cards.good[1], &cards.barred[0], &cards.unenrolled[0]] {
        line.kiosk.post("/api/scan", &json!({ "code": code })).await;
    }
    let (status, _) = line.kiosk.post("/api/post", &json!({})).await;
    assert_eq!(status, 200);
    let conn = Connection::open(&line.agency.db).unwrap();
    let one = |sql: &str| -> String {
        conn.query_row(sql, [], |r| r.get::<_, rusqlite::types::Value>(0))
            .map(|v| match v {
                rusqlite::types::Value::Integer(i) => i.to_string(),
                rusqlite::types::Value::Text(t) => t,
                other => panic!("{other:?}"),
            })
            .unwrap()
    };
    let client = one("SELECT client_id FROM cards WHERE replaced_by IS NULL ORDER BY id LIMIT 1");
    let barred_client = one("SELECT client_id FROM bars ORDER BY id LIMIT 1");

    let b = Browser::start().await;
    let c = &b.client;
    c.goto(&format!("{base}/login")).await.unwrap();
    let mut pages: Vec<(String, String)> = vec![("login".into(), format!("{base}/login"))];
    let mut failures = Vec::new();
    for (name, url) in &pages {
        check(&b, &shots, name, url, &mut failures).await;
    }
    b.sign_in_admin(&base, line.agency.dir.path()).await;
    // A web batch with a scan in it.
    c.goto(&format!("{base}/batches")).await.unwrap();
    c.find(Locator::Css("form[action='/batches'] button")).await.unwrap().click().await.unwrap();
    b.wait_for("main", "the batch page", |t| t.contains("Client ID")).await;
    c.find(Locator::Css("#code"))
        .await
        .unwrap()
        .send_keys(&format!("{}{ENTER}", cards.good[2]))
        .await
        .unwrap();
    b.wait_text("#banner .label", "OK").await;
    let web_batch = c.current_url().await.unwrap().to_string();
    let station_batch = one("SELECT uuid FROM batches WHERE station_id IS NOT NULL LIMIT 1");
    let print_job = conn
        .query_row("SELECT id FROM print_jobs ORDER BY id LIMIT 1", [], |r| r.get::<_, i64>(0))
        .ok();
    pages = vec![
        ("find".into(), format!("{base}/clients")),
        ("find-results".into(), format!("{base}/clients?q=a")),
        ("find-none".into(), format!("{base}/clients?q=zzzzqq")),
        ("dashboard".into(), format!("{base}/clients/{client}")),
        ("dashboard-barred".into(), format!("{base}/clients/{barred_client}")),
        ("new-client".into(), format!("{base}/clients/new")),
        ("batches".into(), format!("{base}/batches")),
        ("web-batch".into(), web_batch),
        ("station-batch".into(), format!("{base}/batches/{station_batch}")),
        ("quick".into(), format!("{base}/quick-services")),
        ("beds".into(), format!("{base}/beds")),
        ("reports".into(), format!("{base}/reports")),
        ("cards-bulk".into(), format!("{base}/cards/bulk")),
        ("print-jobs".into(), format!("{base}/print-jobs")),
        ("stations".into(), format!("{base}/admin/stations")),
        ("users".into(), format!("{base}/admin/users")),
        ("audit".into(), format!("{base}/admin/audit")),
        ("printers".into(), format!("{base}/admin/printers")),
        ("hmis".into(), format!("{base}/admin/hmis")),
        ("hmis-services".into(), format!("{base}/admin/hmis/services")),
        ("not-found".into(), format!("{base}/clients/99999999")),
        ("kiosk".into(), format!("{kiosk}/")),
        ("guest".into(), format!("{kiosk}/guest")),
    ];
    if let Some(job) = print_job {
        pages.push(("print-job".into(), format!("{base}/print-jobs/{job}")));
    }
    for (name, url) in &pages {
        check(&b, &shots, name, url, &mut failures).await;
    }
    b.close().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Checks one page at both sizes, adding what is wrong to `failures`.
async fn check(
    b: &Browser,
    shots: &std::path::Path,
    name: &str,
    url: &str,
    failures: &mut Vec<String>,
) {
    for (w, h, phone) in [(1366, 768, false), (390, 844, true)] {
        resize(b, w, h).await;
        b.client.goto(url).await.unwrap();
        // The kiosk and the guest screen draw themselves from their event stream.
        if url.ends_with('/') || url.ends_with("/guest") {
            b.wait_for("body", "the page drawn", |t| !t.is_empty()).await;
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        let png = b.client.screenshot().await.unwrap();
        std::fs::write(shots.join(format!("{name}-{w}.png")), png).unwrap();
        for p in problems(b, phone).await {
            failures.push(format!("{name} at {w} px: {p}"));
        }
    }
}
