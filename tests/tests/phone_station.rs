//! The phone station end to end in headless Chromium at a phone's size (DESIGN §17.3): sign in,
//! make the phone a station, scan 20 cards by typing and 2 by camera, lose the network, scan 30
//! more (duplicates in the offline spell among them) and reload the page while offline, get the
//! network back: the server holds exactly those 52 entries, each with the verdict the phone
//! showed, and Post Services makes no service twice. Signing out of the station, or the
//! station being revoked, clears what the phone holds. The page passes axe-core and shows the
//! kiosk's big verdict with its icon, in English and in Spanish.

use std::time::Duration;

use fantoccini::Locator;
use scanline_tests::pages::{problems, resize, screenshots};
use scanline_tests::peek::ServerDb;
use scanline_tests::{Browser, Line, server_cli, y4m_clips};

const ENTER: &str = "\u{E007}";

/// A video of two cards, one after the other, with an empty table between and after: two
/// frames a second.
fn two_cards(line: &Line, a: &str, b: &str) -> std::path::PathBuf {
    let dir = line.agency.dir.path();
    let mut frames = Vec::new();
    for (name, code) in [("a", a), ("b", b)] {
        let png = dir.join(format!("{name}.png"));
        let (ok, _, err) = server_cli(
            &line.agency.db,
            &["card", "render", "--code", code, "--out", png.to_str().unwrap()],
        );
        assert!(ok, "{err}");
        frames.push(image::open(dir.join(format!("{name}-front.png"))).unwrap().to_rgb8());
    }
    let blank = image::RgbImage::from_pixel(8, 8, image::Rgb([110, 110, 110]));
    let video =
        y4m_clips(&[(&frames[0], 6), (&blank, 6), (&frames[1], 6), (&blank, 40)], 1280, 720, 2);
    let path = dir.join("two-cards.y4m");
    std::fs::write(&path, video).unwrap();
    path
}

async fn count_text(b: &Browser) -> String {
    b.text("#counts").await
}

async fn type_code(b: &Browser, code: &str) {
    b.client
        .find(Locator::Css("#code"))
        .await
        .unwrap()
        .send_keys(&format!("{code}{ENTER}"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_is_a_station_that_keeps_working_offline() {
    let line = Line::start(200, false, 1).await;
    let base = format!("http://127.0.0.1:{}", line.port);
    let c = line.cards();
    assert!(c.good.len() >= 48, "enough good cards: {}", c.good.len());
    let b = Browser::start_with_video(&two_cards(&line, &c.good[20], &c.good[21])).await;
    resize(&b, 390, 844).await;
    b.sign_in_admin(&base, line.agency.dir.path()).await;
    let cl = &b.client;

    // Start the station: the phone registers, loads the roster and its rules.
    cl.goto(&format!("{base}/station/")).await.unwrap();
    b.wait_for("#start", "the start form", |t| t.contains("Start station")).await;
    cl.find(Locator::Css("#service")).await.unwrap().select_by_value("1:1").await.unwrap();
    cl.find(Locator::Css("#start button")).await.unwrap().click().await.unwrap();
    b.wait_text("#link", "● Online").await;
    assert!(b.text("#station-name").await.starts_with("Phone of "), "the station's name shows");
    let shots = screenshots("phone");

    // 20 typed: 18 first meals, a second meal (after the double-read window), a barred guest.
    let mut expected: Vec<(String, &str)> = Vec::new();
    for code in &c.good[..18] {
        type_code(&b, code).await;
        expected.push((code.clone(), "accepted"));
    }
    b.wait_for("#counts", "18 scans", |t| t.starts_with("18 scans")).await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    type_code(&b, &c.good[0]).await;
    expected.push((c.good[0].clone(), "duplicate"));
    type_code(&b, &c.barred[0]).await;
    expected.push((c.barred[0].clone(), "barred"));
    b.wait_text("#banner .label", "Barred: see staff").await;
    std::fs::write(shots.join("barred.png"), cl.screenshot().await.unwrap()).unwrap();

    // 2 by camera.
    cl.find(Locator::Css("#camera")).await.unwrap().click().await.unwrap();
    b.wait_for("#counts", "22 scans", |t| t.starts_with("22 scans")).await;
    cl.find(Locator::Css("#camera")).await.unwrap().click().await.unwrap();
    expected.push((c.good[20].clone(), "accepted"));
    expected.push((c.good[21].clone(), "accepted"));
    b.wait_for("#counts", "all sent", |t| t.contains(" 0 not sent")).await;

    // Offline: 30 more, with duplicates of this spell and of before it.
    b.offline(true).await;
    let mut offline: Vec<(String, &str)> = Vec::new();
    for code in &c.good[22..48] {
        offline.push((code.clone(), "accepted"));
    }
    offline.push((c.good[5].clone(), "duplicate"));
    offline.push((c.unenrolled[0].clone(), "no_open_enrollment"));
    for (code, _) in &offline {
        type_code(&b, code).await;
    }
    b.wait_for("#counts", "50 scans", |t| t.starts_with("50 scans")).await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    for code in [&c.good[22], &c.good[23]] {
        type_code(&b, code).await;
        offline.push((code.clone(), "duplicate"));
    }
    b.wait_for("#counts", "52 scans", |t| t.starts_with("52 scans")).await;
    b.wait_text("#link", "✖ Offline: scans are kept").await;
    assert!(count_text(&b).await.contains("30 not sent"), "{}", count_text(&b).await);

    // Reload with the network still gone: the page, its rules and its outbox are all there.
    cl.refresh().await.unwrap();
    b.wait_for("#counts", "52 scans after the reload", |t| t.starts_with("52 scans")).await;
    assert!(count_text(&b).await.contains("30 not sent"), "{}", count_text(&b).await);
    std::fs::write(shots.join("offline.png"), cl.screenshot().await.unwrap()).unwrap();
    // Still judging offline after the reload: a card already served is a duplicate.
    tokio::time::sleep(Duration::from_millis(1600)).await;

    // Back online: everything goes up once.
    b.offline(false).await;
    b.wait_for("#counts", "all 52 sent", |t| t.contains(" 0 not sent")).await;
    b.wait_text("#link", "● Online").await;
    expected.extend(offline);
    assert_eq!(expected.len(), 52);

    let db = ServerDb::open(&line.agency.db);
    let batch: String = cl
        .execute("return new Promise((ok) => { const r = indexedDB.open('scanline-station'); r.onsuccess = () => { const g = r.result.transaction('kv').objectStore('kv').get('batch'); g.onsuccess = () => ok(g.result.uuid); }; });", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    let held = db.batch_entries(&batch);
    assert_eq!(held.len(), 52, "the server holds exactly the 52 scans");
    let got: Vec<(String, String)> =
        held.iter().map(|e| (e.code.clone(), e.verdict.clone())).collect();
    let want: Vec<(String, String)> =
        expected.iter().map(|(c, v)| (c.clone(), (*v).to_owned())).collect();
    assert_eq!(got, want, "in scan order, with the verdicts a station gives");
    for e in &held {
        assert_eq!(
            e.station_verdict.as_deref(),
            Some(e.verdict.as_str()),
            "the phone judged {} as the server",
            e.code
        );
    }

    // Post Services, twice: the second posts nothing.
    cl.find(Locator::Css("#post")).await.unwrap().click().await.unwrap();
    b.wait_for("#said", "the post summary", |t| t.starts_with("Posted now:")).await;
    let accepted = want.iter().filter(|(_, v)| v == "accepted").count() as i64;
    assert_eq!(db.batch_services(&batch), accepted);
    cl.find(Locator::Css("#post")).await.unwrap().click().await.unwrap();
    b.wait_for("#said", "nothing posted twice", |t| t.starts_with("Posted now: 0.")).await;
    assert_eq!(db.batch_services(&batch), accepted, "no service twice");

    // The kiosk's layout on the phone, in Spanish: big words, an icon, the same verdicts.
    let found = problems(&b, true).await;
    assert!(found.is_empty(), "axe-core and touch targets on the phone station: {found:#?}");
    cl.find(Locator::Css("#lang")).await.unwrap().click().await.unwrap();
    b.wait_text("#link", "● En línea").await;
    assert_eq!(b.text("#lang").await, "English");
    b.wait_text("#camera", "Escanear con la cámara").await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    type_code(&b, &c.good[1]).await;
    b.wait_text("#banner .label", "Ya recibió el servicio").await;
    b.wait_for("#counts", "53 in Spanish", |t| t == "53 escaneos, 0 sin enviar").await;
    let icon = cl.execute("return document.querySelector('#banner .icon svg') ? document.querySelector('#banner .icon').dataset.icon : 'none';", vec![]);
    assert_eq!(icon.await.unwrap(), serde_json::json!("stop"));
    let found = problems(&b, true).await;
    assert!(found.is_empty(), "axe-core in Spanish: {found:#?}");
    std::fs::write(shots.join("espanol.png"), cl.screenshot().await.unwrap()).unwrap();

    // Leaving clears what the phone held.
    cl.find(Locator::Css("#leave")).await.unwrap().click().await.unwrap();
    b.wait_for("#setup-said", "cleared", |t| t.contains("cleared")).await;
    let left = kept(&b).await;
    assert_eq!(left, serde_json::json!(0), "no roster, token or scan is left on the phone");
    b.close().await;
}

/// What the phone keeps, as a number of rows in its storage.
async fn kept(b: &Browser) -> serde_json::Value {
    b.client
        .execute("return new Promise((ok) => { const r = indexedDB.open('scanline-station'); r.onsuccess = () => { const t = r.result.transaction(['kv', 'scans']); const a = t.objectStore('kv').count(); const s = t.objectStore('scans').count(); t.oncomplete = () => ok(a.result + s.result); }; });", vec![])
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_phone_station_clears_what_the_phone_holds() {
    let line = Line::start(40, false, 1).await;
    let base = format!("http://127.0.0.1:{}", line.port);
    let c = line.cards();
    let b = Browser::start().await;
    resize(&b, 390, 844).await;
    b.sign_in_admin(&base, line.agency.dir.path()).await;
    let cl = &b.client;
    cl.goto(&format!("{base}/station/")).await.unwrap();
    b.wait_for("#start", "the start form", |t| t.contains("Start station")).await;
    cl.find(Locator::Css("#start button")).await.unwrap().click().await.unwrap();
    b.wait_text("#link", "● Online").await;
    type_code(&b, &c.good[0]).await;
    b.wait_for("#counts", "sent", |t| t == "1 scan, 0 not sent yet").await;
    assert_ne!(kept(&b).await, serde_json::json!(0));
    let id = cl
        .execute("return new Promise((ok) => { const r = indexedDB.open('scanline-station'); r.onsuccess = () => { const g = r.result.transaction('kv').objectStore('kv').get('station'); g.onsuccess = () => ok(g.result.station_id); }; });", vec![])
        .await
        .unwrap();
    let (ok, _, err) = server_cli(&line.agency.db, &["station", "revoke", "--id", &id.to_string()]);
    assert!(ok, "{err}");
    // The next upload or roster read is refused: the phone clears itself.
    type_code(&b, &c.good[1]).await;
    b.wait_for("#setup-said", "the phone cleared", |t| t.contains("no longer a station")).await;
    assert_eq!(kept(&b).await, serde_json::json!(0), "nothing is left on the phone");
    b.close().await;
}
