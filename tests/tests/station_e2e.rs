//! End to end with a real server process, real station processes and a serial scanner
//! simulated on a pseudo-terminal (DESIGN §8, §9, §14): a 500-scan meal line, offline scanning,
//! kill -9 of the station, a proxy that loses responses, two stations racing for one client,
//! and a scanner unplugged and plugged back in.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;
use scanline_tests::peek::ServerDb;
use scanline_tests::{
    FakeScanner, Kiosk, Line, StationProcess, agency, cards, misread, ready, serve, serve_new,
    server_cli, station_config,
};
use serde_json::{Value, json};

async fn wait_until<F: std::future::Future<Output = bool>>(
    secs: u64,
    what: &str,
    mut f: impl FnMut() -> F,
) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn entries(kiosk: &Kiosk) -> Vec<Value> {
    let mut list = kiosk.get("/api/entries").await.as_array().unwrap().clone();
    list.sort_by_key(|e| e["seq"].as_i64().unwrap());
    list
}

fn server_count(db: &Path, sql: &str) -> i64 {
    Connection::open(db).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meal_line_of_500_scans_through_a_serial_scanner() {
    let mut line = Line::start(500, true, 150).await;
    let (a, kiosk) = (&line.agency, line.kiosk.clone());
    let mut scanner = line.scanner.take().unwrap();

    // Plan the line: good cards, repeats far enough apart to be real second visits, double
    // reads right after each other (dropped), unknown cards, misreads, unenrolled, barred and
    // replaced cards.
    let c = cards(&a.db);
    assert!(
        c.good.len() > 300
            && !c.unenrolled.is_empty()
            && !c.barred.is_empty()
            && !c.replaced.is_empty()
    );
    let mut plan: Vec<(String, Option<&str>)> = Vec::new();
    let mut served = HashSet::new();
    let mut g = 0usize;
    for i in 0..500 {
        let (code, expect) = match i % 20 {
            3 => (format!("LEGACY-{i}"), "unknown_card"),
            7 => (misread(&c.good[i % c.good.len()]), "misread"),
            // Each kind cycles through its cards one occurrence at a time, so the same card
            // comes back only after many scans: a second visit, never a double read.
            9 => (c.unenrolled[(i / 20) % c.unenrolled.len()].clone(), "no_open_enrollment"),
            11 => (c.barred[(i / 20) % c.barred.len()].clone(), "barred"),
            13 => (c.replaced[(i / 20) % c.replaced.len()].clone(), "replaced_card"),
            15 if i > 150 => (c.good[(i - 150) / 3].clone(), "duplicate"),
            _ => {
                g += 1;
                (c.good[g - 1].clone(), "accepted")
            }
        };
        let expect =
            if expect == "accepted" && !served.insert(code.clone()) { "duplicate" } else { expect };
        let expect =
            if expect == "duplicate" && !served.contains(&code) { "accepted" } else { expect };
        served.insert(code.clone());
        plan.push((code.clone(), Some(expect)));
        if i % 50 == 25 {
            // The same card read twice in a row by the scanner: dropped, not a duplicate.
            plan.push((code, None));
        }
    }
    // Scanner speed, in groups that let the station catch up, so a second visit is never so
    // close to the first that a slow machine would take it for a double read.
    // Each group of scans is checked in the review list (the newest 200) as it lands; the
    // counts cover the whole batch.
    let recorded = |s: &Value| -> usize {
        s["batch"]["counts"]
            .as_object()
            .map_or(0, |c| c.values().filter_map(Value::as_u64).sum::<u64>() as usize)
    };
    let mut written = 0;
    for group in plan.chunks(25) {
        for (code, _) in group {
            scanner.scan(code);
            tokio::time::sleep(Duration::from_millis(4)).await;
        }
        let kept: Vec<(&String, &str)> =
            group.iter().filter_map(|(c, e)| e.map(|e| (c, e))).collect();
        written += kept.len();
        kiosk.wait_status(60, "the station to keep up", |s| recorded(s) >= written).await;
        let list = entries(&kiosk).await;
        let newest = &list[list.len() - kept.len()..];
        for (e, (code, expect)) in newest.iter().zip(&kept) {
            assert_eq!(e["code"].as_str(), Some(code.as_str()));
            assert_eq!(e["local_verdict"].as_str(), Some(*expect), "{code}");
        }
    }
    let expected: Vec<&str> = plan.iter().filter_map(|(_, e)| *e).collect();
    assert_eq!(expected.len(), 500);
    let status = kiosk.get("/api/status").await;
    assert_eq!(recorded(&status), 500, "double reads must be dropped");
    assert_eq!(entries(&kiosk).await.len(), 200, "the review list shows the newest 200");

    // Everything reaches the server, which agrees, entry by entry in scan order.
    kiosk.wait_status(60, "the outbox to drain", |s| s["outbox_pending"] == 0).await;
    let batch = status["batch"]["uuid"].as_str().unwrap();
    let held = ServerDb::open(&a.db).batch_entries(batch);
    assert_eq!(held.len(), 500);
    for (h, e) in held.iter().zip(&expected) {
        assert_eq!(
            (h.verdict.as_str(), h.station_verdict.as_deref()),
            (*e, Some(*e)),
            "{}",
            h.code
        );
    }
    let accepted = expected.iter().filter(|e| **e == "accepted").count() as i64;
    assert_eq!(server_count(&a.db, "SELECT COUNT(*) FROM batch_entries"), 500);

    // Post Services from the kiosk: the server holds exactly the accepted services.
    let (s, _) = kiosk.post("/api/post", &json!({})).await;
    assert_eq!(s, 200);
    let status =
        kiosk.wait_status(60, "the post summary", |s| !s["batch"]["post_summary"].is_null()).await;
    assert_eq!(status["batch"]["post_summary"]["posted"], accepted);
    assert_eq!(
        server_count(&a.db, "SELECT COUNT(*) FROM services WHERE batch_entry_id IS NOT NULL"),
        accepted
    );
    assert_eq!(
        server_count(
            &a.db,
            "SELECT COUNT(*) FROM services s JOIN batch_entries e ON e.id = s.batch_entry_id WHERE e.verdict = 'accepted'"
        ),
        accepted
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scanning_offline_catches_up_when_the_server_returns() {
    let mut line = Line::start(300, false, 300).await;
    let (a, kiosk, port) = (&line.agency, line.kiosk.clone(), line.port);
    let c = line.cards();

    line.server.take().unwrap().kill9();
    kiosk
        .wait_status(30, "the station to notice the server is gone", |s| {
            s["link"]["link"] == "offline"
        })
        .await;
    for code in c.good.iter().take(200) {
        let (s, r) = kiosk.post("/api/scan", &json!({"code": code})).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["verdict"], "accepted", "offline validation from the roster cache: {r}");
    }
    let status = kiosk.get("/api/status").await;
    assert!(status["outbox_pending"].as_i64().unwrap() >= 200, "{status}");

    let _server = serve(&a.db, port);
    kiosk
        .wait_status(60, "the outbox to drain", |s| {
            s["outbox_pending"] == 0 && s["link"]["link"] == "online"
        })
        .await;
    assert_eq!(server_count(&a.db, "SELECT COUNT(*) FROM batch_entries"), 200);
    assert_eq!(
        server_count(
            &a.db,
            "SELECT COUNT(DISTINCT uuid) FROM batch_entries WHERE verdict = 'accepted'"
        ),
        200
    );
    let list = entries(&kiosk).await;
    assert!(list.iter().all(|e| e["uploaded"] == true && e["server_verdict"] == "accepted"));
}

/// Reads the kiosk's event stream and collects the UUIDs of the scans it showed.
fn watch_shown(kiosk: &str) -> std::sync::Arc<std::sync::Mutex<Vec<String>>> {
    let shown: std::sync::Arc<std::sync::Mutex<Vec<String>>> = std::sync::Arc::default();
    let out = shown.clone();
    let url = format!("{kiosk}/events");
    tokio::spawn(async move {
        let Ok(mut resp) = reqwest::get(url).await else { return };
        let mut buf = String::new();
        while let Ok(Some(chunk)) = resp.chunk().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                for line in block.lines() {
                    if let Some(data) = line.strip_prefix("data: ")
                        && let Ok(v) = serde_json::from_str::<Value>(data)
                        && v["type"] == "scan"
                    {
                        out.lock().unwrap().push(v["uuid"].as_str().unwrap().to_owned());
                    }
                }
            }
        }
    });
    shown
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_the_station_mid_stream_loses_no_shown_scan() {
    let Line { agency: a, server: _server, mut scanner, station, config, .. } =
        Line::start(400, true, 300).await;
    let mut scanner = scanner.take().unwrap();
    let shown = watch_shown(&station.kiosk);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let c = cards(&a.db);
    // Scans keep arriving at scanner speed; the plug is pulled once 50 verdicts were shown.
    let codes: Vec<String> = c.good.iter().take(300).cloned().collect();
    let feeder = tokio::spawn(async move {
        for code in &codes {
            scanner.scan(code);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        scanner
    });
    wait_until(60, "50 shown scans", || async { shown.lock().unwrap().len() >= 50 }).await;
    station.kill9();
    let shown_before: Vec<String> = shown.lock().unwrap().clone();
    let _scanner = feeder.await.unwrap();

    // The scanner keeps going while the station restarts; then the outbox catches up.
    let station = StationProcess::start(&config);
    let kiosk = Kiosk::new(&station.kiosk);
    ready(&kiosk, true).await;
    kiosk.wait_status(60, "the outbox to drain", |s| s["outbox_pending"] == 0).await;
    let conn = Connection::open(&a.db).unwrap();
    let mut stmt = conn.prepare("SELECT COUNT(*) FROM batch_entries WHERE uuid = ?").unwrap();
    for uuid in &shown_before {
        let n: i64 = stmt.query_row([uuid], |r| r.get(0)).unwrap();
        assert_eq!(n, 1, "shown scan {uuid} is on the server {n} times");
    }
    let doubled: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM (SELECT client_id FROM batch_entries WHERE verdict = 'accepted' GROUP BY client_id, service_date HAVING COUNT(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(doubled, 0);
}

/// A loopback TCP proxy that forwards every request to the server and throws away every
/// second response, closing the connection instead: the station must retry and nothing may be
/// doubled.
async fn lossy_proxy(server_port: u16) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else { return };
            let counter = counter.clone();
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let Ok(mut upstream) =
                    tokio::net::TcpStream::connect(("127.0.0.1", server_port)).await
                else {
                    return;
                };
                let mut cbuf = vec![0u8; 64 * 1024];
                let mut ubuf = vec![0u8; 256 * 1024];
                loop {
                    tokio::select! {
                        r = client.read(&mut cbuf) => {
                            let Ok(n) = r else { return };
                            if n == 0 || upstream.write_all(&cbuf[..n]).await.is_err() { return; }
                        }
                        r = upstream.read(&mut ubuf) => {
                            let Ok(n) = r else { return };
                            if n == 0 { return; }
                            if counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 2 == 1 {
                                // The server did the work; the answer is lost on the way.
                                return;
                            }
                            if client.write_all(&ubuf[..n]).await.is_err() { return; }
                        }
                    }
                }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_responses_never_double_a_service() {
    let a = agency(300);
    let server = serve_new(&a.db);
    let port = server.port();
    let proxy = lossy_proxy(port).await;
    let config = station_config(
        a.dir.path(),
        &format!("http://127.0.0.1:{proxy}"),
        &a.token,
        None,
        300,
        ("Lunch line", 1, 1),
    );
    let station = StationProcess::start(&config);
    let kiosk = Kiosk::new(&station.kiosk);
    ready(&kiosk, false).await;
    let c = cards(&a.db);
    for code in c.good.iter().take(120) {
        let (s, _) = kiosk.post("/api/scan", &json!({"code": code})).await;
        assert_eq!(s, 200);
    }
    kiosk.post("/api/post", &json!({})).await;
    kiosk
        .wait_status(90, "the post summary", |s| {
            s["outbox_pending"] == 0 && !s["batch"]["post_summary"].is_null()
        })
        .await;
    assert_eq!(server_count(&a.db, "SELECT COUNT(*) FROM batch_entries"), 120);
    assert_eq!(
        server_count(&a.db, "SELECT COUNT(*) FROM services WHERE batch_entry_id IS NOT NULL"),
        120
    );
    assert_eq!(
        server_count(
            &a.db,
            "SELECT COUNT(*) FROM (SELECT batch_entry_id FROM services WHERE batch_entry_id IS NOT NULL GROUP BY batch_entry_id HAVING COUNT(*) > 1)"
        ),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stations_one_client_one_meal() {
    let a = agency(200);
    let server = serve_new(&a.db);
    let port = server.port();
    let second_token = a.dir.path().join("second.token");
    let (ok, _, err) = server_cli(
        &a.db,
        &[
            "station",
            "add",
            "--org",
            "1",
            "--name",
            "Line 2",
            "--program",
            "1",
            "--token-file",
            second_token.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let dir1 = a.dir.path().join("one");
    let dir2 = a.dir.path().join("two");
    std::fs::create_dir_all(&dir1).unwrap();
    std::fs::create_dir_all(&dir2).unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let s1 = StationProcess::start(&station_config(
        &dir1,
        &url,
        &a.token,
        None,
        300,
        ("Lunch line", 1, 1),
    ));
    let s2 = StationProcess::start(&station_config(
        &dir2,
        &url,
        &second_token,
        None,
        300,
        ("Lunch line", 1, 1),
    ));
    let (k1, k2) = (Kiosk::new(&s1.kiosk), Kiosk::new(&s2.kiosk));
    ready(&k1, false).await;
    ready(&k2, false).await;
    let code = cards(&a.db).good[0].clone();
    let body = json!({"code": code});
    let (r1, r2) = tokio::join!(k1.post("/api/scan", &body), k2.post("/api/scan", &body));
    // Offline from each other, both stations accepted the scan.
    assert_eq!(r1.1["verdict"], "accepted");
    assert_eq!(r2.1["verdict"], "accepted");
    k1.wait_status(30, "station 1 to upload", |s| s["outbox_pending"] == 0).await;
    k2.wait_status(30, "station 2 to upload", |s| s["outbox_pending"] == 0).await;
    let v1 = entries(&k1).await[0]["server_verdict"].clone();
    let v2 = entries(&k2).await[0]["server_verdict"].clone();
    let mut both = [v1.as_str().unwrap(), v2.as_str().unwrap()];
    both.sort_unstable();
    assert_eq!(both, ["accepted", "duplicate"]);
    // The station that lost shows the change: its review list and counts say duplicate.
    let loser = if v1 == "duplicate" { &k1 } else { &k2 };
    let status = loser.get("/api/status").await;
    assert_eq!(status["batch"]["counts"]["duplicate"], 1, "{status}");
    assert_eq!(
        server_count(&a.db, "SELECT COUNT(*) FROM batch_entries WHERE verdict = 'accepted'"),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanner_unplugged_and_plugged_back_keeps_working() {
    let mut line = Line::start(100, true, 300).await;
    let (kiosk, link) = (line.kiosk.clone(), line.agency.dir.path().join("scanner"));
    let mut scanner = line.scanner.take().unwrap();
    let a = &line.agency;
    let c = cards(&a.db);
    scanner.scan(&c.good[0]);
    wait_until(10, "the first scan", || async { entries(&kiosk).await.len() == 1 }).await;

    scanner.unplug();
    kiosk
        .wait_status(10, "the kiosk to show the scanner unplugged", |s| {
            s["scanners"][0]["connected"] == false
        })
        .await;
    let mut scanner = FakeScanner::plug(&link);
    kiosk
        .wait_status(10, "the scanner to come back", |s| s["scanners"][0]["connected"] == true)
        .await;
    scanner.scan(&c.good[1]);
    wait_until(10, "the scan after replugging", || async { entries(&kiosk).await.len() == 2 })
        .await;
    let list = entries(&kiosk).await;
    assert_eq!(list[1]["local_verdict"], "accepted");
    let by_source: HashMap<String, usize> = list.iter().fold(HashMap::new(), |mut m, e| {
        *m.entry(e["source"].as_str().unwrap().to_owned()).or_default() += 1;
        m
    });
    assert_eq!(by_source.get("front"), Some(&2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_card_lookup_anonymous_tally_and_guarded_kiosk_requests() {
    let line = Line::start(150, false, 300).await;
    let (kiosk, station) = (&line.kiosk, &line.station);

    // Somebody without a card: find them by first letters of first name and last initial.
    let code = line.cards().good[0].clone();
    let (status, shown) = kiosk.post("/api/scan", &json!({"code": code})).await;
    assert_eq!(status, 200);
    let name = shown["display_name"].as_str().unwrap().to_owned();
    let mut words = name.split_whitespace();
    let (first, last) = (words.next().unwrap(), words.next().unwrap());
    let query = format!("{} {}", &first[..2].to_lowercase(), &last[..1].to_lowercase());
    let found = kiosk.get(&format!("/api/lookup?q={}", query.replace(' ', "+"))).await;
    let hit = found
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["display_name"] == name.as_str())
        .expect("lookup finds the client");
    // Picked by name: the same verdict rules apply (already served today).
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, picked) = kiosk.post("/api/pick", &json!({"client_id": hit["client_id"]})).await;
    assert_eq!(status, 200, "{picked}");
    assert_eq!(picked["verdict"], "duplicate");
    assert_eq!(picked["source"], "lookup");
    let nobody = kiosk.get("/api/lookup?q=zzzz").await;
    assert!(nobody.as_array().unwrap().is_empty());

    // Guests without a card are counted, not named.
    for _ in 0..3 {
        let (s, _) = kiosk.post("/api/anonymous", &json!({})).await;
        assert_eq!(s, 200);
    }
    let status = kiosk.get("/api/status").await;
    assert_eq!(status["batch"]["anonymous"], 3);

    // Garbage is a misread, recorded and shown; it changes nothing else.
    let (s, r) = kiosk.post("/api/scan", &json!({"code": "\u{1b}[A\u{7}"})).await;
    assert_eq!(s, 200);
    assert_eq!(r["verdict"], "misread");

    // A request without the kiosk header (a page elsewhere trying to post) is refused.
    let before = entries(kiosk).await.len();
    let r = reqwest::Client::new()
        .post(format!("{}/api/scan", station.kiosk))
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r =
        reqwest::Client::new().post(format!("{}/api/post", station.kiosk)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(entries(kiosk).await.len(), before);
    // Malformed JSON is refused too.
    let r = reqwest::Client::new()
        .post(format!("{}/api/scan", station.kiosk))
        .header("x-scanline-kiosk", "1")
        .header("content-type", "application/json")
        .body("{\"code\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(entries(kiosk).await.len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosk_shows_the_photo_on_file_while_the_server_answers() {
    let mut line = Line::start(60, false, 300).await;
    let code = line.cards().good[0].clone();
    let (status, shown) = line.kiosk.post("/api/scan", &json!({"code": code})).await;
    assert_eq!(status, 200);
    let client = shown["client_id"].as_i64().expect("the scan names its client");
    let url = format!("{}/api/photo/{client}", line.station.kiosk);
    // No photo on file yet.
    assert_eq!(reqwest::get(&url).await.unwrap().status().as_u16(), 404);
    {
        let conn = Connection::open(&line.agency.db).unwrap();
        conn.execute(
            "INSERT INTO photos (client_id, jpeg, thumbnail, width, height, created_at) VALUES (?, x'FFD8FF00FFD9', x'FFD8FFD9', 1, 1, 'x')",
            [client],
        )
        .unwrap();
        conn.execute("UPDATE clients SET photo_id = last_insert_rowid() WHERE id = ?", [client])
            .unwrap();
    }
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.bytes().await.unwrap().as_ref(), &[0xFF, 0xD8, 0xFF, 0x00, 0xFF, 0xD9]);
    // With the server away, there is simply no photo; scanning goes on.
    line.server.take().unwrap().kill9();
    assert_eq!(reqwest::get(&url).await.unwrap().status().as_u16(), 404);
}

/// One sample of the server's `/metrics` for a metric of station `station`.
async fn metric(base: &str, name: &str, station: &str) -> Option<f64> {
    let text = reqwest::get(format!("{base}/metrics")).await.ok()?.text().await.ok()?;
    text.lines()
        .find(|l| l.starts_with(name) && l.contains(&format!("station=\"{station}\"")))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_follow_a_scan_stream_through_an_outage() {
    let mut line = Line::start(60, true, 0).await;
    let (db, port, kiosk) = (line.agency.db.clone(), line.port, line.kiosk.clone());
    let mut scanner = line.scanner.take().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let station: String = Connection::open(&db)
        .unwrap()
        .query_row("SELECT id FROM stations ORDER BY id LIMIT 1", [], |r| r.get::<_, i64>(0))
        .unwrap()
        .to_string();
    let before = metric(&base, "scanline_entries_received_total", &station).await.unwrap();
    let text = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
    assert!(text.contains("# TYPE scanline_entries_received_total counter"), "{text}");
    assert!(text.contains("scanline_post_failures_total 0"), "{text}");

    // The server goes away; the line keeps scanning into the outbox.
    line.server.take().unwrap().kill9();
    let c = cards(&db);
    for code in c.good.iter().take(20) {
        scanner.scan(code);
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    kiosk
        .wait_status(30, "twenty scans waiting", |s| s["outbox_pending"].as_i64() >= Some(20))
        .await;

    // It comes back: the outbox drains and the metrics show it.
    let _server = serve(&db, port);
    kiosk.wait_status(60, "the outbox to drain", |s| s["outbox_pending"] == 0).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let depth = metric(&base, "scanline_station_outbox_depth", &station).await;
        let total = metric(&base, "scanline_entries_received_total", &station).await;
        let minute = metric(&base, "scanline_entries_last_minute", &station).await;
        let seen = metric(&base, "scanline_station_last_seen_seconds", &station).await;
        if depth == Some(0.0)
            && total == Some(before + 20.0)
            && minute == Some(20.0)
            && seen.is_some_and(|s| s < 10.0)
        {
            assert!(metric(&base, "scanline_upload_lag_seconds", &station).await.is_some());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "metrics: depth {depth:?}, total {total:?} (before {before}), last minute {minute:?}, seen {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restore_the_station_resends_what_the_server_lost() {
    let mut line = Line::start(80, true, 0).await;
    let (db, port, kiosk) = (line.agency.db.clone(), line.port, line.kiosk.clone());
    let mut scanner = line.scanner.take().unwrap();
    let c = cards(&db);
    let count = |sql: &str| server_count(&db, sql);
    let scan_all = |scanner: &mut FakeScanner, codes: &[String]| {
        for code in codes {
            scanner.scan(code);
            std::thread::sleep(Duration::from_millis(30));
        }
    };

    scan_all(&mut scanner, &c.good[..10]);
    wait_until(60, "ten entries on the server", || async {
        count("SELECT COUNT(*) FROM batch_entries") == 10
    })
    .await;
    let backup = line.agency.dir.path().join("backup.db");
    let (ok, _, err) = server_cli(&db, &["backup", backup.to_str().unwrap()]);
    assert!(ok, "{err}");

    // After the backup: ten more, then a new batch with five more.
    scan_all(&mut scanner, &c.good[10..20]);
    let (status, body) = kiosk.post("/api/batches", &json!({})).await;
    assert_eq!(status, 200, "{body}");
    scan_all(&mut scanner, &c.good[20..25]);
    wait_until(60, "twenty-five entries on the server", || async {
        count("SELECT COUNT(*) FROM batch_entries") == 25
    })
    .await;
    kiosk.wait_status(60, "the outbox to drain", |s| s["outbox_pending"] == 0).await;

    // The server's disk is lost; it comes back from the backup, without the last fifteen.
    line.server.take().unwrap().kill9();
    let (ok, out, err) = server_cli(&db, &["restore", backup.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("restored"), "{out}");
    assert_eq!(count("SELECT COUNT(*) FROM batch_entries"), 10);
    assert_eq!(count("SELECT COUNT(*) FROM batches"), 1);
    let _server = serve(&db, port);

    // The station notices, asks what the server holds and resends the rest, batch included.
    wait_until(90, "every entry back on the server", || async {
        count("SELECT COUNT(*) FROM batch_entries") == 25
    })
    .await;
    assert_eq!(count("SELECT COUNT(*) FROM batches"), 2);
    let uuids = |path: &Path, table: &str| -> HashSet<String> {
        Connection::open(path)
            .unwrap()
            .prepare(&format!("SELECT uuid FROM {table}"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let station_uuids = uuids(&line.agency.dir.path().join("data").join("station.db"), "entries");
    let server_uuids = uuids(&db, "batch_entries");
    assert_eq!(station_uuids.len(), 25);
    assert_eq!(server_uuids, station_uuids, "every entry exactly once");
}
