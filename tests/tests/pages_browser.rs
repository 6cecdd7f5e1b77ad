//! Every staff page, the kiosk and the guest screen in headless Chromium: axe-core (installed
//! from npm by `tests/run`) finds no violation on any of them, at a desk laptop's 1366×768 and at
//! a phone's 390×844; no page scrolls sideways at either size, and at 390 px every control is
//! at least 44 px tall. Screenshots of each page at both sizes go to `target/screenshots/pages/`.

use std::path::PathBuf;

use fantoccini::Locator;
use rusqlite::Connection;
use scanline_tests::{Browser, Line};
use serde_json::json;

const ENTER: &str = "\u{E007}";

/// axe-core's script, installed by `tests/run` into `target/axe`.
fn axe_source() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/axe/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!("{} is missing: tests/run installs axe-core from npm", path.display())
    })
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots/pages");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What is wrong with the page now showing: axe-core's violations, and at a phone's width any
/// sideways scroll and controls under 44 px tall. Empty when nothing is.
async fn problems(b: &Browser, axe: &str, phone: bool) -> Vec<String> {
    let c = &b.client;
    c.execute(&format!("{axe}; return null;"), vec![]).await.unwrap();
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] }).then(r => done(r.violations.map(v =>
               v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' + (n.failureSummary || '').replace(/\\s+/g, ' ')).join(' | '))),
               e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    let mut out: Vec<String> =
        serde_json::from_value::<Vec<String>>(found).unwrap_or_else(|e| vec![e.to_string()]);
    let fit = c
        .execute(
            "const w = document.documentElement.clientWidth; const out = [];
             if (document.documentElement.scrollWidth > w) {
               // The outermost elements that stick out, named by their section's heading.
               const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1 && e.parentElement.getBoundingClientRect().right <= w + 1)
                 .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') + ' in ' + (e.closest('section')?.querySelector('h2')?.textContent || 'the page'));
               out.push('wider than ' + w + ' px (' + document.documentElement.scrollWidth + '): ' + wide.slice(0, 5).join(', '));
             }
             return out;",
            vec![],
        )
        .await
        .unwrap();
    out.extend(serde_json::from_value::<Vec<String>>(fit).unwrap());
    if phone {
        let fit = c
            .execute(
                "const out = [];
                 for (const e of document.querySelectorAll('button, select, input, textarea, a.button, nav a, summary')) {
                   if (e.type === 'hidden' || e.closest('[hidden]')) continue;
                   let box = e;
                   if (e.type === 'checkbox' || e.type === 'radio') box = e.closest('label') || e;
                   const r = box.getBoundingClientRect();
                   if (r.width === 0 && r.height === 0) continue;
                   if (r.height < 43.5) out.push('small target (' + Math.round(r.height) + ' px): ' + box.outerHTML.slice(0, 90));
                 }
                 return out;",
                vec![],
            )
            .await
            .unwrap();
        out.extend(serde_json::from_value::<Vec<String>>(fit).unwrap());
    }
    out
}

async fn resize(b: &Browser, w: u32, h: u32) {
    b.client.set_window_size(w, h).await.unwrap();
    // The window's outer size includes nothing in headless mode; check the page's own width.
    let inner = b.client.execute("return window.innerWidth;", vec![]).await.unwrap();
    assert_eq!(inner, json!(w), "the viewport is {w} px wide");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_and_fits_a_phone() {
    let axe = axe_source();
    let shots = screenshots();
    let line = Line::start(120, false, 300).await;
    let base = line.server.as_ref().unwrap().base.clone();
    let kiosk = line.station.kiosk.clone();
    let password =
        std::fs::read_to_string(line.agency.dir.path().join("demo/admin.password")).unwrap();
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
        check(&b, &axe, &shots, name, url, &mut failures).await;
    }
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Css("#username")).await.unwrap().send_keys("admin").await.unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(&format!("{}{ENTER}", password.trim()))
        .await
        .unwrap();
    b.wait_for("h1", "the find client page", |t| t == "Find client").await;
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
        check(&b, &axe, &shots, name, url, &mut failures).await;
    }
    b.close().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Checks one page at both sizes, adding what is wrong to `failures`.
async fn check(
    b: &Browser,
    axe: &str,
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
        for p in problems(b, axe, phone).await {
            failures.push(format!("{name} at {w} px: {p}"));
        }
    }
}
