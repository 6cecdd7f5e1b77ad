//! The front desk in headless Chromium, as a volunteer and a caseworker use it: the kiosk's
//! no-card lookup tells three "Ben J." apart and its review list keeps the focus while scans
//! arrive (a 10-inch kiosk, 1280×800); the web batch's rows arrive with their ✕, in local time,
//! with counts, a flagged filter, what Revalidate changed, a success box and pages for a big
//! batch (a desk laptop, 1366×768); the dashboard opens with today's state, asks before a
//! one-click loss, says what it saved, and its error pages keep the menu; the Stations page
//! shows each station's figures. Screenshots go to `target/screenshots/`.

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::Locator;
use scanline_tests::peek::{ServerDb, StationDb};
use scanline_tests::{
    Browser, Kiosk, StationProcess, agency, cards, ready, serve_new, server_cli, station_config,
};
use serde_json::{Value, json};

const ENTER: &str = "\u{E007}";

fn shot_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

async fn shot(b: &Browser, name: &str) {
    std::fs::write(shot_path(name), b.client.screenshot().await.unwrap()).unwrap();
}

async fn js(b: &Browser, script: &str) -> Value {
    b.client.execute(script, vec![]).await.unwrap()
}

/// An element's words as they read on screen, spaces collapsed (WebDriver's text breaks lines
/// between flex items).
async fn words(b: &Browser, css: &str) -> String {
    let script = format!(
        "const e = document.querySelector({css:?}); return e ? e.textContent.replace(/\\s+/g, ' ').trim() : '';"
    );
    js(b, &script).await.as_str().unwrap_or_default().to_owned()
}

/// Waits until `words` of the element satisfy `ok`.
async fn wait_words(b: &Browser, css: &str, what: &str, ok: impl Fn(&str) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let got = words(b, css).await;
        if ok(&got) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{css} shows {got:?}, not {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits up to 20 s for `ask` to give something `done` accepts, and returns it.
async fn eventually<T: std::fmt::Debug>(
    what: &str,
    ask: impl Fn() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got = ask();
        if done(&got) {
            return got;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: still {got:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Fills the dashboard's add-alert form and saves it.
async fn add_alert(b: &Browser, kind: &str, note: &str, for_stations: Option<&str>) {
    let form = "form[aria-label^='Add an alert']";
    let field = async |name: &str| {
        b.client.find(Locator::Css(&format!("{form} [name={name}]"))).await.unwrap()
    };
    field("kind").await.select_by_value(kind).await.unwrap();
    field("note").await.send_keys(note).await.unwrap();
    if let Some(text) = for_stations {
        field("for_stations").await.click().await.unwrap();
        field("station_text").await.send_keys(text).await.unwrap();
    }
    click(b, &format!("{form} button[type=submit]")).await;
    b.wait_for("main", "the saved alert", |t| t.contains("Saved: the alert was added.")).await;
}

async fn click(b: &Browser, css: &str) {
    b.client.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosk_tells_people_apart_and_keeps_the_volunteers_place() {
    let a = agency(60);
    // Three people whose display name is the same "Ben J.", each with a card.
    let mut bens = Vec::new();
    for number in [9001, 9002, 9003] {
        let (ok, out, err) = server_cli(
            &a.db,
            &[
                "client",
                "add",
                "--org",
                "1",
                "--first",
                "Ben",
                "--last",
                "Jessup",
                "--number",
                &number.to_string(),
                "--with-card",
            ],
        );
        assert!(ok, "{err}");
        assert!(out.contains("card "), "{out}");
        bens.push(number);
    }
    let server = serve_new(&a.db);
    let base = server.base.clone();
    let config = station_config(a.dir.path(), &base, &a.token, None, 300, ("Lunch line", 1, 1));
    let station = StationProcess::start(&config);
    let kiosk = Kiosk::new(&station.kiosk);
    ready(&kiosk, false).await;
    let c = cards(&a.db);

    let b = Browser::start().await;
    b.client.set_window_size(1280, 800).await.unwrap();
    b.client.goto(&format!("{}/", station.kiosk)).await.unwrap();
    b.wait_text("#banner .label", "Ready").await;

    // The lookup: each Ben J. carries the number on their card, so no two buttons read alike.
    b.client
        .find(Locator::Css("#q"))
        .await
        .unwrap()
        .send_keys(&format!("ben j{ENTER}"))
        .await
        .unwrap();
    b.wait_for("#lookup-results", "the three Ben J.", |t| t.matches("Ben J.").count() >= 3).await;
    let labels = js(
        &b,
        "return [...document.querySelectorAll('#lookup-results button')].map(x => x.textContent);",
    )
    .await;
    let labels: Vec<String> = serde_json::from_value(labels).unwrap();
    for n in &bens {
        assert!(labels.iter().any(|l| l.contains(&format!("No. {n}"))), "{labels:?}");
    }
    let mut distinct = labels.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), labels.len(), "two matches read alike: {labels:?}");
    shot(&b, "kiosk-lookup.png").await;

    // A few scans, then the volunteer's keyboard focus on the second row's ✕.
    for code in &c.good[..3] {
        kiosk.post("/api/scan", &json!({ "code": code })).await;
    }
    b.wait_for("#entries", "three rows", |t| t.lines().count() >= 3).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    // The times are the agency's (Los Angeles), whatever zone the kiosk's browser is in.
    let shown = b.text("#entries tr:first-child td:first-child").await;
    let la = |back: i64| {
        (chrono::Utc::now() - chrono::Duration::hours(8) - chrono::Duration::minutes(back))
            .format("%-I:%M:")
            .to_string()
    };
    assert!(shown.starts_with(&la(0)) || shown.starts_with(&la(1)), "{shown} is not {}", la(0));
    let focused = js(
        &b,
        "const x = document.querySelectorAll('#entries button')[1]; x.focus(); return x.closest('tr').dataset.uuid;",
    )
    .await;
    // The mouse points at the third row.
    let third = b.client.find(Locator::Css("#entries tr:nth-child(3)")).await.unwrap();
    b.client
        .perform_actions(fantoccini::actions::InputSource::then(
            fantoccini::actions::MouseActions::new("mouse".into()),
            fantoccini::actions::PointerAction::MoveToElement {
                element: third.clone(),
                duration: None,
                x: 5.0,
                y: 5.0,
            },
        ))
        .await
        .unwrap();
    let pointed =
        js(&b, "return document.querySelector('#entries tr.pointed')?.dataset.uuid;").await;
    assert_ne!(pointed, Value::Null, "the pointed row is marked");
    // New scans arrive: they wait above the list, and the focus and the pointed row stay
    // where they were.
    for code in &c.good[3..5] {
        kiosk.post("/api/scan", &json!({ "code": code })).await;
    }
    b.wait_for("#new-rows", "the waiting scans", |t| t.contains("2 new scans")).await;
    b.wait_for("#banner .name", "the newest scan on the banner", |t| !t.is_empty()).await;
    let still = js(&b, "return document.activeElement.closest('tr')?.dataset.uuid;").await;
    assert_eq!(still, focused, "the focus moved when a scan arrived");
    let still_pointed =
        js(&b, "return document.querySelector('#entries tr.pointed')?.dataset.uuid;").await;
    assert_eq!(still_pointed, pointed, "the pointed row changed when a scan arrived");
    // Showing them puts them at the top.
    click(&b, "#new-rows").await;
    b.wait_for("#entries", "five rows", |t| t.lines().count() >= 5).await;

    // The sound control covers no row's ✕: the last ✕ is what a tap on it reaches.
    let reached = js(
        &b,
        "const all = document.querySelectorAll('#entries button'); const x = all[all.length - 1];
         x.scrollIntoView({ block: 'end' }); const r = x.getBoundingClientRect();
         return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === x;",
    )
    .await;
    assert_eq!(reached, json!(true), "something covers the last row's ✕");
    // The header reads at arm's length: at least 20 px, bold.
    let header = js(
        &b,
        "const s = getComputedStyle(document.getElementById('roster')); return [parseFloat(s.fontSize), Number(s.fontWeight)];",
    )
    .await;
    assert!(header[0].as_f64().unwrap() >= 20.0, "{header}");
    assert!(header[1].as_f64().unwrap() >= 600.0, "{header}");
    js(&b, "window.scrollTo(0, 0); return null;").await;
    shot(&b, "kiosk.png").await;

    // The Stations page shows the station's scans per minute, upload lag and failures.
    b.sign_in_admin(&base, a.dir.path()).await;
    b.client.set_window_size(1366, 768).await.unwrap();
    b.client.goto(&format!("{base}/admin/stations")).await.unwrap();
    let row = b.text("table[aria-label='Stations'] tbody tr").await;
    let cells = js(
        &b,
        "return [...document.querySelectorAll(\"table[aria-label='Stations'] tbody tr:first-child td\")].map(t => t.textContent.trim());",
    )
    .await;
    let heads = js(
        &b,
        "return [...document.querySelectorAll(\"table[aria-label='Stations'] th\")].map(t => t.textContent.trim());",
    )
    .await;
    let heads: Vec<String> = serde_json::from_value(heads).unwrap();
    let cells: Vec<String> = serde_json::from_value(cells).unwrap();
    let cell = |h: &str| {
        cells[heads.iter().position(|x| x == h).unwrap_or_else(|| panic!("{h} in {heads:?}"))]
            .clone()
    };
    assert!(cell("Scans per minute").parse::<u32>().unwrap() >= 5, "{row}");
    assert!(cell("Upload lag").ends_with(" s"), "{row}");
    assert_eq!(cell("Post Services failures"), "0", "{row}");
    assert!(cell("Last seen").contains("s ago"), "{row}");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_batch_as_clienttrack_users_know_it() {
    let a = agency(120);
    let server = serve_new(&a.db);
    let base = server.base.clone();
    let c = cards(&a.db);
    let b = Browser::start().await;
    b.client.set_window_size(1366, 768).await.unwrap();
    b.sign_in_admin(&base, a.dir.path()).await;
    b.client.goto(&format!("{base}/batches")).await.unwrap();
    click(&b, "form[action='/batches'] button").await;
    b.wait_for("main", "the batch page", |t| t.contains("Client ID")).await;
    let batch = b.client.current_url().await.unwrap().to_string();
    let scan = async |code: &str| {
        b.client
            .find(Locator::Css("#code"))
            .await
            .unwrap()
            .send_keys(&format!("{code}{ENTER}"))
            .await
            .unwrap();
    };

    // A live row has its ✕ at once, and its time is the agency's (Los Angeles), not UTC.
    scan(&c.good[0]).await;
    b.wait_text("#banner .label", "OK").await;
    b.wait_for("#entries tr:first-child", "the live row", |t| t.contains(&c.good[0])).await;
    let live_time = b.text("#entries tr:first-child td:first-child").await;
    let la = (chrono::Utc::now() - chrono::Duration::hours(8)).format("%H:%M").to_string();
    let la_before =
        (chrono::Utc::now() - chrono::Duration::hours(8) - chrono::Duration::minutes(1))
            .format("%H:%M")
            .to_string();
    assert!(
        live_time.starts_with(&la) || live_time.starts_with(&la_before),
        "{live_time} is not {la}"
    );
    scan(&c.good[0]).await;
    b.wait_text("#banner .label", "Already served").await;
    wait_words(&b, "#counts", "the live counts", |t| {
        t.contains("All: 2") && t.contains("Already served: 1")
    })
    .await;
    // Delete the live duplicate with its ✕: it asks first; saying no keeps it.
    b.wait_for("#entries tr:first-child", "the duplicate row", |t| t.contains("Already served"))
        .await;
    click(&b, "#entries tr:first-child form.delete button").await;
    b.client.dismiss_alert().await.unwrap();
    assert!(!b.text("#entries tr:first-child").await.contains("(deleted)"));
    click(&b, "#entries tr:first-child form.delete button").await;
    b.client.accept_alert().await.unwrap();
    b.wait_for("#entries tr:first-child", "the deleted row", |t| t.contains("(deleted)")).await;
    let focused = js(&b, "return document.activeElement.id;").await;
    assert_eq!(focused, json!("code"), "the Client ID field keeps the focus after a ✕");
    // After a reload, the same local time and the counts from the server.
    b.client.refresh().await.unwrap();
    wait_words(&b, "#counts", "the counts", |t| {
        t.contains("All: 2") && t.contains("OK: 1") && t.contains("Deleted: 1")
    })
    .await;
    let reloaded = b.text("#entries tr:last-child td:first-child").await;
    assert_eq!(reloaded, live_time, "the time changed on reload");

    // An unenrolled client, enrolled at the desk, and Revalidate says what changed.
    let unenrolled = &c.unenrolled[0];
    scan(unenrolled).await;
    b.wait_text("#banner .label", "No open enrollment").await;
    let (client, name) = ServerDb::open(&a.db).holder(unenrolled);
    b.client.goto(&format!("{base}/clients/{client}")).await.unwrap();
    b.client.find(Locator::Css("#program_id")).await.unwrap().select_by_value("1").await.unwrap();
    // Entered yesterday, so today's scan falls inside the enrollment.
    js(&b, "const d = new Date(Date.now() - 2 * 86400000); document.getElementById('entry_date').value = d.toISOString().slice(0, 10); return null;").await;
    click(&b, "form[aria-label='Enroll'] button[type=submit]").await;
    b.wait_for("main", "the saved message", |t| t.contains("Saved: the client was enrolled."))
        .await;
    b.client.goto(&batch).await.unwrap();
    click(&b, "form[action$='/revalidate'] button").await;
    b.wait_for("main", "the revalidation report", |t| {
        t.contains("1 verdict changed") && t.contains(&format!("{name}: No open enrollment → OK"))
    })
    .await;

    // The flagged filter: only what is not OK.
    scan(&c.barred[0]).await;
    b.wait_text("#banner .label", "Barred: see staff").await;
    b.client.goto(&format!("{batch}?show=flagged")).await.unwrap();
    let verdicts: Vec<String> = serde_json::from_value(
        js(&b, "return [...document.querySelectorAll('#entries tr')].map(r => r.children[3].textContent);").await,
    )
    .unwrap();
    assert!(!verdicts.is_empty() && verdicts.iter().all(|v| !v.starts_with("OK")), "{verdicts:?}");
    assert!(b.body().await.contains("Showing 1 of 4 entries"), "{}", b.body().await);

    // Post Services: a success box, not a warning.
    b.client.goto(&batch).await.unwrap();
    click(&b, "form[action$='/post'] button").await;
    b.client.accept_alert().await.unwrap();
    b.wait_for("main", "the post summary", |t| t.contains("Posted now: 2")).await;
    let class = js(&b, "return document.querySelector('section.message').className;").await;
    assert_eq!(class, json!("message success"));
    shot(&b, "web-batch-posted.png").await;

    // A station-sized batch of 350 scans is reviewable: pages of 100, counts and filters.
    b.client.goto(&batch).await.unwrap();
    let sent = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; const f = document.getElementById('scan');
             (async () => { for (let i = 0; i < 346; i++) { const body = new URLSearchParams(new FormData(f)); body.set('code', 'X' + i);
               const r = await fetch(f.action, { method: 'POST', body, headers: { Accept: 'application/json' } }); if (!r.ok) return done('failed ' + r.status); }
               done('sent'); })();",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(sent, json!("sent"));
    b.client.refresh().await.unwrap();
    wait_words(&b, "#counts", "350 entries", |t| t.contains("All: 350")).await;
    assert_eq!(js(&b, "return document.querySelectorAll('#entries tr').length;").await, json!(100));
    assert!(b.text("nav.pages").await.contains("Page 1 of 4"));
    click(&b, "nav.pages a").await;
    b.wait_for("nav.pages", "page 2", |t| t.contains("Page 2 of 4")).await;
    b.client.goto(&format!("{batch}?show=accepted")).await.unwrap();
    assert_eq!(js(&b, "return document.querySelectorAll('#entries tr').length;").await, json!(2));
    b.client.goto(&batch).await.unwrap();
    shot(&b, "web-batch.png").await;

    // On a phone, each row's verdict and ✕ are on screen, with no sideways scroll.
    b.client.set_window_size(390, 844).await.unwrap();
    b.client.goto(&batch).await.unwrap();
    let fits = js(
        &b,
        "const w = document.documentElement.clientWidth; const x = document.querySelector('#entries form.delete button');
         const v = document.querySelector('#entries td.v-stop, #entries td.v-retry');
         return document.documentElement.scrollWidth <= w && x.getBoundingClientRect().right <= w && v.getBoundingClientRect().right <= w;",
    )
    .await;
    assert_eq!(fits, json!(true));
    shot(&b, "web-batch-390.png").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_says_today_first_and_asks_before_a_loss() {
    let a = agency(120);
    let server = serve_new(&a.db);
    let base = server.base.clone();
    let c = cards(&a.db);
    let db = ServerDb::open(&a.db);
    let client_of = |code: &str| db.client_of(code);
    let b = Browser::start().await;
    b.client.set_window_size(1366, 768).await.unwrap();
    b.sign_in_admin(&base, a.dir.path()).await;

    // A barred client: the strip names the bar's scope in words.
    b.client.goto(&format!("{base}/clients/{}", client_of(&c.barred[0]))).await.unwrap();
    let bar = b.text("section.strip li.bar").await;
    assert!(bar.contains("Barred from all of Harbor Light Community Services"), "{bar}");
    assert!(!b.text("section.strip").await.contains("organization 1"));
    shot(&b, "dashboard-barred.png").await;

    // A replaced card scanned into Find client: the dashboard says it no longer works.
    let old = &c.replaced[0];
    b.client.goto(&format!("{base}/clients")).await.unwrap();
    b.client
        .find(Locator::Css("#q"))
        .await
        .unwrap()
        .send_keys(&format!("{old}{ENTER}"))
        .await
        .unwrap();
    b.wait_for("#strip-scanned", "the replaced card", |t| {
        t.contains(&format!("The card just scanned, {old}, is replaced"))
    })
    .await;

    // A client with a working card: served today, enrolled, the card, all above the fold.
    let good = &c.good[0];
    let id = client_of(good);
    b.client.goto(&format!("{base}/clients/{id}")).await.unwrap();
    b.client.find(Locator::Css("#service")).await.unwrap().select_by_index(0).await.unwrap();
    click(&b, "form[aria-label='Add a service'] button").await;
    b.wait_for("main", "the saved message", |t| t.contains("Saved: the service was added.")).await;
    let strip = b.text("section.strip").await;
    assert!(strip.contains("Served today:") && strip.contains("Enrolled:"), "{strip}");
    assert!(b.text("#strip-card").await.contains(&format!("Card {good} works")));
    let bottom =
        js(&b, "return document.querySelector('section.strip').getBoundingClientRect().bottom;")
            .await;
    assert!(bottom.as_f64().unwrap() <= 768.0, "the strip is below the fold: {bottom}");

    // Report lost asks first: saying no changes nothing.
    click(&b, "form[aria-label^='Report card'] button").await;
    b.client.dismiss_alert().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(db.card_works(good), "the card was revoked without a yes");
    // Issue a new card asks first too; then the card's issued date is today's, in the
    // agency's zone, as the strip says and as the printed card says.
    click(&b, "form[aria-label='Issue a card'] button").await;
    b.client.accept_alert().await.unwrap();
    b.wait_for("main", "the saved message", |t| t.contains("Saved: the new card was issued."))
        .await;
    let today = b.text("#h-today").await.trim_start_matches("Today, ").to_owned();
    let issued = b.text("#h-cards + table tbody tr:first-child td:nth-child(3)").await;
    assert_eq!(issued, today);

    // The exit list is HUD's whole Destination list, in HUD's groups; Exit asks first.
    let groups: Vec<String> = serde_json::from_value(
        js(&b, "return [...document.querySelector('select[name=destination]').querySelectorAll('optgroup')].map(g => g.label);").await,
    )
    .unwrap();
    assert_eq!(
        groups,
        [
            "Homeless situations",
            "Institutional situations",
            "Temporary housing situations",
            "Permanent housing situations",
            "Other"
        ]
    );
    let options = js(&b, "return document.querySelector('select[name=destination]').querySelectorAll('optgroup option').length;").await;
    assert_eq!(options, json!(29));
    let exit =
        js(&b, "return document.querySelector('form[aria-label^=\"Exit from\"]').dataset.confirm;")
            .await;
    assert!(exit.as_str().unwrap().starts_with("Exit this client"), "{exit}");

    // A form that cannot be saved: "Not saved" with the reason, the menu, and the way back.
    js(&b, "const f = document.getElementById('service-date'); f.removeAttribute('required'); f.value = ''; f.type = 'text'; f.value = '1800-01-01'; return null;").await;
    click(&b, "form[aria-label='Add a service'] button").await;
    b.wait_text("h1", "Not saved").await;
    assert!(b.text("main .message").await.contains("1800"), "{}", b.body().await);
    assert!(b.text("nav[aria-label=Main]").await.contains("Find client"));
    let back = js(&b, "return document.querySelector('main a').getAttribute('href');").await;
    assert_eq!(back, json!(format!("/clients/{id}?saved=card_issued")), "the way back");
    shot(&b, "not-saved.png").await;

    // End a bar early: it asks first, and saying no keeps the bar; yes says it saved.
    b.client.goto(&format!("{base}/bars")).await.unwrap();
    let bars_before = b.text("#h-current + table tbody").await;
    click(&b, "form[aria-label='End bar early'] button").await;
    b.client.dismiss_alert().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(b.text("#h-current + table tbody").await, bars_before);
    click(&b, "form[aria-label='End bar early'] button").await;
    b.client.accept_alert().await.unwrap();
    b.wait_for("main", "the saved message", |t| t.contains("Saved: the bar was ended.")).await;

    // On a phone the strip comes first, under a folded menu.
    b.client.set_window_size(390, 844).await.unwrap();
    b.client.goto(&format!("{base}/clients/{id}")).await.unwrap();
    let top = js(&b, "return [document.querySelector('details.menu').open, document.querySelector('section.strip').getBoundingClientRect().top];").await;
    assert_eq!(top[0], json!(false), "the menu is folded on a phone");
    assert!(top[1].as_f64().unwrap() < 844.0, "{top}");
    shot(&b, "dashboard-390.png").await;
    b.client.set_window_size(1366, 768).await.unwrap();
    b.client.goto(&format!("{base}/clients/{id}")).await.unwrap();
    shot(&b, "dashboard.png").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_without_a_card_reach_the_reports_and_the_services_file() {
    let line = scanline_tests::Line::start(60, false, 300).await;
    let base = line.server.as_ref().unwrap().base.clone();
    let c = line.cards();
    // One scanned guest and three without a card, at the lunch line.
    line.kiosk.post("/api/scan", &json!({ "code": c.good[0] })).await;
    for n in 1..=3 {
        let (status, body) = line.kiosk.post("/api/anonymous", &json!({})).await;
        assert_eq!((status, body["anonymous"].as_i64()), (200, Some(n)), "{body}");
    }
    let (status, _) = line.kiosk.post("/api/post", &json!({})).await;
    assert_eq!(status, 200);
    // The count reaches the server with the batch.
    let db = ServerDb::open(&line.agency.db);
    let guests = || db.station_guests();
    let (_, uuid, date) = eventually("the server's count of guests", guests, |g| g.0 == 3).await;

    let b = Browser::start().await;
    b.client.set_window_size(1366, 768).await.unwrap();
    b.sign_in_admin(&base, line.agency.dir.path()).await;
    // The batch shows them beside its counts.
    b.client.goto(&format!("{base}/batches/{uuid}")).await.unwrap();
    assert_eq!(b.text("#anonymous").await, "3");
    // The services report: a line of their own, with no client count.
    b.client.goto(&format!("{base}/reports?kind=services&from={date}&to={date}")).await.unwrap();
    let rows: Vec<String> = serde_json::from_value(
        js(&b, "return [...document.querySelectorAll('main table tbody tr')].map(r => [...r.children].map(td => td.textContent.trim()).join('|'));").await,
    )
    .unwrap();
    assert!(
        rows.iter().any(|r| r
            == &format!(
                "{date}|Community Meals|Meal: guests without a card (no record)|3|no record|3"
            )),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|r| r.starts_with(&format!("{date}|Community Meals|Meal|"))),
        "{rows:?}"
    );
    // The unduplicated report: people served without a record, not unduplicated.
    b.client
        .goto(&format!("{base}/reports?kind=unduplicated&from={date}&to={date}"))
        .await
        .unwrap();
    let body = b.text("main table").await;
    assert!(body.contains("Community Meals: guests without a card (no record)"), "{body}");
    // The CSV downloads and the plain services file carry them.
    let fetch = async |path: String| -> String {
        b.client
            .execute_async(
                "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done, e => done('failed ' + e));",
                vec![json!(path)],
            )
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    };
    let csv = fetch(format!("/reports?kind=services&from={date}&to={date}&format=csv")).await;
    assert!(
        csv.contains(&format!(
            "{date},Community Meals,Meal: guests without a card (no record),3,no record,3"
        )),
        "{csv}"
    );
    let plain =
        fetch(format!("/admin/hmis/services.csv?from={date}&to={date}&program=&format=plain"))
            .await;
    assert!(plain.lines().next().unwrap().ends_with(",GuestsWithoutRecord"), "{plain}");
    assert!(plain.contains(&format!(",,Community Meals,Meal,{date},3,0,3")), "{plain}");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_show_beside_the_verdict_for_staff_and_never_to_the_guest() {
    let line = scanline_tests::Line::start(60, false, 300).await;
    let base = line.server.as_ref().unwrap().base.clone();
    let c = line.cards();
    let code = c.good[0].clone();
    let db = ServerDb::open(&line.agency.db);
    let client = db.client_of(&code);
    let b = Browser::start().await;
    b.client.set_window_size(1366, 768).await.unwrap();
    b.sign_in_admin(&base, line.agency.dir.path()).await;

    // Two alerts: mail, with a short text for stations; medical, whose words stay here.
    b.client.goto(&format!("{base}/clients/{client}")).await.unwrap();
    add_alert(
        &b,
        "mail",
        "Certified letter from the county benefits office",
        Some("Mail at the front desk"),
    )
    .await;
    add_alert(&b, "medical", "Diabetic: keep juice at the desk", None).await;
    assert!(b.text("section.strip").await.contains("Mail waiting: Certified letter"));
    assert_eq!(db.audited("add_alert", client), 2);

    // The station gets the kinds and the short text only.
    let station_db = StationDb::open(&line.agency.dir.path().join("data/station.db"));
    let held = || -> Vec<(String, String)> {
        station_db.alerts().into_iter().map(|(_, kind, text)| (kind, text)).collect()
    };
    let held = eventually("the station's alerts", held, |h| h.len() == 2).await;
    assert_eq!(
        held,
        [
            ("mail".to_owned(), "Mail at the front desk".to_owned()),
            ("medical".to_owned(), String::new())
        ]
    );
    let everything = format!("{held:?}");
    assert!(!everything.contains("Certified") && !everything.contains("Diabetic"), "{everything}");

    // The staff kiosk: the alerts beside an OK, which they do not change.
    b.client.goto(&format!("{}/", line.station.kiosk)).await.unwrap();
    b.wait_text("#banner .label", "Ready").await;
    line.kiosk.post("/api/scan", &json!({ "code": code })).await;
    b.wait_text("#banner .label", "OK").await;
    let shown = b.text("#client-alerts").await;
    assert_eq!(shown, "Mail waiting: Mail at the front desk\nMedical", "{shown}");
    shot(&b, "kiosk-alert.png").await;
    // The guest screen: a welcome, and nothing of the alerts.
    b.client.goto(&format!("{}/guest", line.station.kiosk)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    line.kiosk.post("/api/scan", &json!({ "code": c.good[1] })).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    line.kiosk.post("/api/scan", &json!({ "code": code })).await;
    b.wait_for("body", "the guest's answer", |t| t.contains("Please see the front desk")).await;
    let guest = b.body().await;
    for secret in ["Mail waiting", "Medical", "Certified", "Diabetic", "juice"] {
        assert!(!guest.contains(secret), "the guest screen shows {secret:?}: {guest}");
    }

    // The web batch shows them too, with the note, for staff.
    b.client.goto(&format!("{base}/batches")).await.unwrap();
    click(&b, "form[action='/batches'] button").await;
    b.wait_for("main", "the batch page", |t| t.contains("Client ID")).await;
    b.client
        .find(Locator::Css("#code"))
        .await
        .unwrap()
        .send_keys(&format!("{code}{ENTER}"))
        .await
        .unwrap();
    b.wait_for("#banner .alerts", "the alerts", |t| {
        t.contains("Mail waiting: Certified letter from the county benefits office")
    })
    .await;

    // Ending one: it asks first, then the station drops it at its next refresh.
    b.client.goto(&format!("{base}/clients/{client}")).await.unwrap();
    click(&b, "#h-alerts ~ table form button").await;
    b.client.accept_alert().await.unwrap();
    b.wait_for("main", "the ended alert", |t| t.contains("Saved: the alert was ended.")).await;
    let count = || station_db.alerts().len();
    eventually("the station's alerts after one ended", count, |n| *n == 1).await;

    // A safety alert where the program asks staff to see the client first: "See staff" at the
    // station, and only "see the front desk" for the guest.
    let (ok, out, err) = server_cli(
        &line.agency.db,
        &["program", "safety-alerts", "--program", "1", "--stop", "true"],
    );
    assert!(ok, "{out}{err}");
    let wary = c.good[2].clone();
    let wary_client = db.client_of(&wary);
    b.client.goto(&format!("{base}/clients/{wary_client}")).await.unwrap();
    add_alert(&b, "safety", "Ask the shift lead before service", None).await;
    let safety = || {
        station_db
            .alerts()
            .iter()
            .filter(|(c, kind, _)| *c == wary_client && kind == "safety")
            .count()
    };
    eventually("the station's safety alert", safety, |n| *n == 1).await;
    let rules = || station_db.program_rules().contains("\"safety_alerts_stop\":true");
    eventually("the program's new rule at the station", rules, |on| *on).await;
    b.client.goto(&format!("{}/guest", line.station.kiosk)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, shown) = line.kiosk.post("/api/scan", &json!({ "code": wary })).await;
    assert_eq!(shown["verdict"], "see_staff", "{shown}");
    b.wait_for("body", "the guest's answer", |t| t.contains("Please see the front desk")).await;
    assert!(!b.body().await.contains("safety"), "{}", b.body().await);
    // The server, judging the upload again from its own records, gives the same verdict.
    let judged = || db.verdict_of(&wary);
    eventually("the server's verdict", judged, |v| v == "see_staff").await;
    b.close().await;
}
