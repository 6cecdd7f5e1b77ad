//! A shelter's two nights at the door with beds (DESIGN §16), end to end: a real server, two
//! real stations whose clocks a test file sets, and the command line staff use. Twenty beds and
//! twenty-five guests; usual beds given back; returning guests' beds held until 21:00 and then
//! given to others; a reservation for a named guest; and two stations cut off from the server
//! giving one bed, reconciled with the later one flagged for staff.

use std::path::{Path, PathBuf};
use std::time::Duration;

use scanline_tests::peek::ServerDb;
use scanline_tests::{Kiosk, StationProcess, serve, serve_new, server_cli, station_config};
use serde_json::{Value, json};

fn ok(db: &Path, args: &[&str]) -> String {
    let (ok, out, err) = server_cli(db, args);
    assert!(ok, "{args:?}: {err}");
    out
}

/// The number after `word` in a command's output ("card 0000123").
fn after(out: &str, word: &str) -> String {
    let mut it = out.split_whitespace();
    while let Some(w) = it.next() {
        if w == word {
            return it.next().unwrap_or_default().trim_end_matches(';').to_owned();
        }
    }
    panic!("no {word:?} in {out:?}")
}

struct Door {
    _station: StationProcess,
    kiosk: Kiosk,
    clock: PathBuf,
}

impl Door {
    fn set_clock(&self, at: &str) {
        std::fs::write(&self.clock, at).unwrap();
    }

    async fn scan(&self, code: &str) -> Value {
        let (status, v) = self.kiosk.post("/api/scan", &json!({ "code": code })).await;
        assert_eq!(status, 200, "{v}");
        v
    }

    async fn beds(&self) -> Value {
        self.kiosk.get("/api/beds").await
    }

    async fn idle(&self, what: &str) {
        self.kiosk
            .wait_status(60, what, |s| {
                s["outbox_pending"] == 0
                    && s["link"]["link"] == "online"
                    && s["roster"]["loaded"] == true
            })
            .await;
    }
}

fn door(dir: &Path, name: &str, server: u16, token: &Path, template: (i64, i64)) -> Door {
    let home = dir.join(name);
    std::fs::create_dir_all(&home).unwrap();
    let config = station_config(
        &home,
        &format!("http://127.0.0.1:{server}"),
        token,
        None,
        0,
        ("Night check-in", template.0, template.1),
    );
    let clock = home.join("clock");
    std::fs::write(&clock, "").unwrap();
    let station = StationProcess::start_with_env(&config, &[("SCANLINE_CLOCK_FILE", &clock)]);
    let kiosk = Kiosk::new(&station.kiosk);
    Door { _station: station, kiosk, clock }
}

async fn wait_until(what: &str, mut f: impl AsyncFnMut() -> bool) {
    for _ in 0..240 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_beds_twenty_five_guests_two_nights_and_an_offline_bed_given_twice() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shelter.db");
    ok(&db, &["org", "add", "--name", "Harbor", "--time-zone", "UTC"]);
    let program: i64 = after(
        &ok(
            &db,
            &[
                "program",
                "add",
                "--org",
                "Harbor",
                "--name",
                "Shelter",
                "--project-type",
                "1",
                "--enrollment-policy",
                "auto_enroll",
            ],
        ),
        "program",
    )
    .parse()
    .unwrap();
    let bed_type: i64 = after(
        &ok(
            &db,
            &[
                "service-type",
                "add",
                "--program",
                "Shelter",
                "--name",
                "Bed Night",
                "--record-type",
                "200",
            ],
        ),
        "type",
    )
    .parse()
    .unwrap();
    let mut beds = Vec::new();
    for i in 1..=20 {
        let (name, group) =
            if i <= 10 { (format!("A{i}"), "Dorm A") } else { (format!("B{i}"), "Dorm B") };
        let out =
            ok(&db, &["bed", "add", "--program", "Shelter", "--name", &name, "--group", group]);
        beds.push(after(&out, "bed").parse::<i64>().unwrap());
    }
    ok(&db, &["bed", "release-time", "--program", "Shelter", "--at", "21:00"]);
    let mut guests = Vec::new(); // (card code, client number)
    for i in 0..25 {
        let out = ok(
            &db,
            &[
                "client",
                "add",
                "--org",
                "Harbor",
                "--first",
                &format!("Guest{i:02}"),
                "--last",
                "Night",
                "--with-card",
            ],
        );
        guests.push((after(&out, "card"), after(&out, "number")));
    }
    let tokens: Vec<PathBuf> = ["Door one", "Door two"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let t = dir.path().join(format!("token{i}"));
            ok(
                &db,
                &[
                    "station",
                    "add",
                    "--org",
                    "Harbor",
                    "--name",
                    name,
                    "--program",
                    "Shelter",
                    "--token-file",
                    t.to_str().unwrap(),
                ],
            );
            t
        })
        .collect();
    let server = serve_new(&db);
    let port = server.port();

    // The nights are tomorrow and the day after, in UTC: ahead of the real clock, inside the
    // window the server accepts, and never behind what the stations have seen.
    let today = chrono::Utc::now().date_naive();
    let n1 = (today + chrono::Days::new(1)).to_string();
    let n2 = (today + chrono::Days::new(2)).to_string();
    let one = door(dir.path(), "one", port, &tokens[0], (program, bed_type));
    let two = door(dir.path(), "two", port, &tokens[1], (program, bed_type));
    for d in [&one, &two] {
        d.set_clock(&format!("{n1}T19:00:00Z"));
        d.idle("the station's first roster").await;
    }

    // Night one: twenty guests get twenty different beds, the next five are told it is full.
    let mut first_bed = Vec::new();
    for (code, _) in &guests[..20] {
        let v = one.scan(code).await;
        assert_eq!(v["verdict"], "accepted", "{v}");
        first_bed.push(v["bed_id"].as_i64().expect("a bed"));
    }
    let mut distinct = first_bed.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct, beds, "every bed once");
    for (code, _) in &guests[20..] {
        let v = one.scan(code).await;
        assert_eq!(v["verdict"], "capacity_full", "{v}");
        assert!(v["bed_id"].is_null());
    }
    let board = one.beds().await;
    assert_eq!((board["free"].as_i64(), board["total"].as_i64()), (Some(0), Some(20)), "{board}");
    let (status, _) = one.kiosk.post("/api/post", &json!({})).await;
    assert_eq!(status, 200);
    one.idle("night one posted").await;
    let server_db = ServerDb::open(&db);
    wait_until("night one's bed nights on the server", async || {
        server_db.posted_beds(program, &n1).len() == 20
    })
    .await;

    // Night two, 19:30: the first ten return and get their usual beds back.
    for d in [&one, &two] {
        d.set_clock(&format!("{n2}T19:30:00Z"));
    }
    for (i, (code, _)) in guests[..10].iter().enumerate() {
        let v = one.scan(code).await;
        assert_eq!(v["verdict"], "accepted", "{v}");
        assert_eq!(v["bed_id"].as_i64(), Some(first_bed[i]), "guest {i} gets their usual bed");
    }
    // The other ten beds are held for last night's guests until 21:00: a newcomer is told it
    // is full, and the board says whose beds they are.
    let v = one.scan(&guests[20].0).await;
    assert_eq!(v["verdict"], "capacity_full", "{v}");
    let board = one.beds().await;
    let states: Vec<&str> =
        board["beds"].as_array().unwrap().iter().map(|b| b["state"].as_str().unwrap()).collect();
    assert_eq!(states.iter().filter(|s| **s == "returning").count(), 10, "{board}");
    assert!(
        board["beds"].as_array().unwrap().iter().any(|b| b["guest"] == "Guest15 N."),
        "{board}"
    );

    // Staff may still give the newcomer told it is full a bed held for someone else.
    let uuid = v["uuid"].as_str().unwrap();
    let (status, given) = one
        .kiosk
        .post(&format!("/api/entries/{uuid}/bed"), &json!({ "bed_id": first_bed[18] }))
        .await;
    assert_eq!(status, 200, "{given}");
    assert_eq!(
        (given["verdict"].as_str(), given["bed_id"].as_i64()),
        (Some("accepted"), Some(first_bed[18]))
    );

    // Staff reserve the bed of guest 19 (who is not coming) for guest 21, by name.
    let reserved = first_bed[19];
    ok(
        &db,
        &[
            "bed",
            "hold",
            "--program",
            "Shelter",
            "--bed",
            &reserved.to_string(),
            "--client",
            &guests[21].1,
            "--first",
            &n2,
        ],
    );
    wait_until("the reservation at the door", async || {
        one.beds().await["beds"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["id"] == reserved && b["state"] == "reserved")
    })
    .await;
    let v = one.scan(&guests[21].0).await;
    assert_eq!(
        (v["verdict"].as_str(), v["bed_id"].as_i64()),
        (Some("accepted"), Some(reserved)),
        "{v}"
    );

    // 21:01: the held beds are released; guest 22 gets the first of them.
    for d in [&one, &two] {
        d.set_clock(&format!("{n2}T21:01:00Z"));
    }
    let v = one.scan(&guests[22].0).await;
    assert_eq!(
        (v["verdict"].as_str(), v["bed_id"].as_i64()),
        (Some("accepted"), Some(first_bed[10])),
        "{v}"
    );
    one.idle("night two so far sent").await;
    let free_at_one = one.beds().await["free"].clone();
    wait_until("door two knowing what door one gave", async || {
        two.beds().await["free"] == free_at_one
    })
    .await;

    // The server goes away; each door gives the next free bed to a different guest.
    server.kill9();
    let a = one.scan(&guests[23].0).await;
    let b = two.scan(&guests[24].0).await;
    assert_eq!(
        (a["verdict"].as_str(), b["verdict"].as_str()),
        (Some("accepted"), Some("accepted"))
    );
    assert_eq!(a["bed_id"], b["bed_id"], "both doors knew the same free bed: {a} {b}");
    let shared = a["bed_id"].as_i64().unwrap();

    // The server returns: one keeps the bed, the one that reached it later is flagged.
    let _server = serve(&db, port);
    one.idle("door one caught up").await;
    two.idle("door two caught up").await;
    let night = server_db.night_entries(program, &n2);
    let on_shared: Vec<_> = night.iter().filter(|e| e.bed_id == Some(shared)).collect();
    assert_eq!(on_shared.len(), 2, "{night:?}");
    let mut verdicts: Vec<&str> = on_shared.iter().map(|e| e.verdict.as_str()).collect();
    verdicts.sort_unstable();
    assert_eq!(verdicts, ["accepted", "bed_taken"], "{night:?}");
    let flagged = on_shared.iter().find(|e| e.verdict == "bed_taken").unwrap().uuid.clone();
    let (flagged_door, flagged_scan) =
        if a["uuid"] == flagged.as_str() { (&one, &a) } else { (&two, &b) };
    wait_until("the flagged door showing the server's verdict", async || {
        let list = flagged_door.kiosk.get("/api/entries").await;
        list.as_array()
            .unwrap()
            .iter()
            .any(|e| e["uuid"] == flagged.as_str() && e["verdict"] == "bed_taken")
    })
    .await;
    // No two accepted guests share a bed that night.
    let mut given: Vec<i64> =
        night.iter().filter(|e| e.verdict == "accepted").filter_map(|e| e.bed_id).collect();
    let n = given.len();
    given.sort_unstable();
    given.dedup();
    assert_eq!(given.len(), n, "{night:?}");

    // Staff give the flagged guest another free bed at that door: accepted on the server too.
    wait_until("the flagged door learning who has the bed", async || {
        flagged_door.beds().await["beds"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["id"] == shared && b["state"] == "occupied")
    })
    .await;
    let board = flagged_door.beds().await;
    let free = board["beds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["state"] == "free")
        .expect("a free bed")["id"]
        .as_i64()
        .unwrap();
    let uuid = flagged_scan["uuid"].as_str().unwrap();
    let (status, taken) = flagged_door
        .kiosk
        .post(&format!("/api/entries/{uuid}/bed"), &json!({ "bed_id": shared }))
        .await;
    assert_eq!(status, 409, "the shared bed is refused: {taken}");
    let (status, v) = flagged_door
        .kiosk
        .post(&format!("/api/entries/{uuid}/bed"), &json!({ "bed_id": free }))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["verdict"].as_str(), v["bed_id"].as_i64()),
        (Some("accepted"), Some(free)),
        "{v}"
    );
    flagged_door.idle("the new bed sent").await;
    wait_until("the server taking the new bed", async || {
        server_db
            .night_entries(program, &n2)
            .iter()
            .any(|e| e.uuid == flagged && e.verdict == "accepted" && e.bed_id == Some(free))
    })
    .await;
}
