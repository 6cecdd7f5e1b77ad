//! End to end with the real `scanline-server` binary: the demo command, admin CLI refusals that
//! change nothing, the bed commands, and kill -9 while stations upload.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use scanline_tests::{ServerProcess, StationClient, server_cli};
use serde_json::{Value, json};

fn dump(db: &Path) -> String {
    let conn = Connection::open(db).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = String::new();
    for t in tables {
        let n: i64 =
            conn.query_row(&format!("SELECT COUNT(*) FROM \"{t}\""), [], |r| r.get(0)).unwrap();
        let sum: String = conn
            .query_row(&format!("SELECT COALESCE(group_concat(x, ';'), '') FROM (SELECT quote(rowid) AS x FROM \"{t}\")"), [], |r| r.get(0))
            .unwrap_or_default();
        out.push_str(&format!("{t}:{n}:{sum}\n"));
    }
    out
}

#[tokio::test]
async fn demo_creates_an_agency_and_serves_it() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let demo_dir_s = demo_dir.to_str().unwrap();
    let server = ServerProcess::start(
        &demo_dir.join("unused.db"),
        &["demo", "--dir", demo_dir_s, "--listen", "127.0.0.1:0"],
    );
    let token = std::fs::read_to_string(demo_dir.join("station.token")).unwrap();
    let station = StationClient::new(&server.base, &token);
    let (status, roster) = station.get("/api/v1/roster").await.unwrap();
    assert_eq!(status, 200, "{roster}");
    assert_eq!(roster["clients"].as_array().unwrap().len(), 500);
    assert!(
        roster["cards"].as_array().unwrap().len() > 500,
        "reprinted cards are listed as replaced"
    );
    assert_eq!(roster["programs"].as_array().unwrap().len(), 2);
    assert!(!roster["bars"].as_array().unwrap().is_empty());

    // The sample cards scan as the demo says they should.
    let samples = std::fs::read_to_string(demo_dir.join("demo-cards.txt")).unwrap();
    let meals = roster["programs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["project_type"] == 6)
        .unwrap()["id"]
        .clone();
    let meal = roster["service_types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["program_id"] == meals)
        .unwrap()["id"]
        .clone();
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::west_opt(8 * 3600).unwrap())
        .date_naive();
    let batch = uuid::Uuid::now_v7();
    let (s, b) = station
        .post("/api/v1/batches", &json!({"uuid": batch, "program_id": meals, "service_type_ids": [meal], "service_date": today}))
        .await
        .unwrap();
    assert_eq!(s, 201, "{b}");
    let mut entries = Vec::new();
    let mut expected = Vec::new();
    let mut seen = HashSet::new();
    for line in samples.lines() {
        let (code, want) = line.split_once('\t').unwrap();
        if seen.insert(code.to_owned()) {
            entries.push(json!({"uuid": uuid::Uuid::now_v7(), "code": code, "scanned_at": chrono::Utc::now()}));
            expected.push(want.to_owned());
        }
    }
    let (s, r) = station
        .post(&format!("/api/v1/batches/{batch}/entries"), &json!({"entries": entries}))
        .await
        .unwrap();
    assert_eq!(s, 200, "{r}");
    let got: Vec<String> = r["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["verdict"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, expected);
    drop(server);

    // Run again in the same directory: the data is kept, not made twice.
    let (ok, out, err) =
        server_cli(&demo_dir.join("unused.db"), &["demo", "--dir", demo_dir_s, "--no-serve"]);
    assert!(ok, "{err}");
    assert!(out.contains("existing"), "{out}");
}

#[test]
fn cli_refusals_are_clear_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let ok = |args: &[&str]| {
        let (ok, out, err) = server_cli(&db, args);
        assert!(ok, "{args:?}: {err}");
        out
    };
    ok(&["org", "add", "--name", "North", "--time-zone", "America/New_York"]);
    ok(&["org", "add", "--name", "South", "--time-zone", "America/Chicago"]);
    ok(&["program", "add", "--org", "North", "--name", "Meals", "--project-type", "6"]);
    ok(&["program", "add", "--org", "South", "--name", "Soup", "--project-type", "6"]);
    ok(&["service-type", "add", "--program", "Meals", "--name", "Meal", "--frequency", "4/30"]);
    let out = ok(&[
        "client",
        "add",
        "--org",
        "North",
        "--first",
        "Ida",
        "--last",
        "Ibarra",
        "--with-card",
    ]);
    assert!(out.contains("card 88"), "{out}");
    ok(&["enroll", "--client", "#1", "--program", "Meals", "--entry-date", "2026-11-01"]);
    ok(&[
        "station",
        "add",
        "--org",
        "North",
        "--name",
        "Door",
        "--program",
        "Meals",
        "--token-file",
        dir.path().join("t").to_str().unwrap(),
    ]);
    let before = dump(&db);

    let refuse = |args: &[&str], says: &str| {
        let (ok, _, err) = server_cli(&db, args);
        assert!(!ok, "{args:?} should fail");
        assert!(
            err.to_lowercase().contains(&says.to_lowercase()),
            "{args:?}: expected {says:?} in {err:?}"
        );
    };
    refuse(&["org", "add", "--name", "X", "--time-zone", "Mars/Olympus"], "not an IANA time zone");
    refuse(&["org", "add", "--name", "North", "--time-zone", "UTC"], "already exists");
    refuse(
        &["program", "add", "--org", "Nowhere", "--name", "P", "--project-type", "6"],
        "no organization",
    );
    refuse(
        &["program", "add", "--org", "North", "--name", "P", "--project-type", "77"],
        "projecttype",
    );
    refuse(
        &["service-type", "add", "--program", "Meals", "--name", "Shower", "--frequency", "0/30"],
        "at least 1",
    );
    refuse(&["client", "add", "--org", "North", "--first", " ", "--last", "L"], "first name");
    refuse(
        &["client", "add", "--org", "North", "--first", "A", "--last", "B", "--ssn", "12"],
        "nine digits",
    );
    refuse(
        &["client", "add", "--org", "North", "--first", "A", "--last", "B", "--dob", "yesterday"],
        "invalid value",
    );
    refuse(
        &["enroll", "--client", "#1", "--program", "Meals", "--entry-date", "2026-11-05"],
        "already has an enrollment",
    );
    refuse(
        &["enroll", "--client", "#99", "--program", "Meals", "--entry-date", "2026-11-05"],
        "no client number 99",
    );
    refuse(&["exit", "--enrollment", "1", "--date", "2026-10-01"], "before the entry date");
    refuse(
        &[
            "bar",
            "add",
            "--client",
            "1",
            "--scope",
            "program:1",
            "--begin",
            "2026-11-10",
            "--end",
            "2026-11-01",
            "--reason",
            "r",
        ],
        "before it begins",
    );
    refuse(
        &[
            "bar",
            "add",
            "--client",
            "1",
            "--scope",
            "planet:1",
            "--begin",
            "2026-11-01",
            "--end",
            "2026-11-02",
            "--reason",
            "r",
        ],
        "not organization",
    );
    refuse(
        &["card", "add", "--client", "1", "--kind", "legacy", "--code", "bad\u{7}code"],
        "cannot be scanned",
    );
    refuse(&["card", "revoke", "--code", "12345", "--reason", "lost"], "no card");
    refuse(
        &["station", "add", "--org", "North", "--name", "Door2", "--program", "Soup"],
        "no program",
    );
    refuse(
        &["station", "add", "--org", "North", "--name", "Door", "--program", "Meals"],
        "already has a station",
    );
    refuse(&["station", "revoke", "--id", "42"], "no active station");
    refuse(
        &["user", "add", "--username", "amy", "--name", "Amy", "--org", "North", "--role", "boss"],
        "not admin",
    );
    assert_eq!(dump(&db), before, "a refused command changed the database");
}

#[test]
fn bed_commands_keep_a_board_and_refusals_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("beds.db");
    let ok = |args: &[&str]| {
        let (ok, out, err) = server_cli(&db, args);
        assert!(ok, "{args:?}: {err}");
        out
    };
    ok(&["org", "add", "--name", "North", "--time-zone", "America/New_York"]);
    ok(&["program", "add", "--org", "North", "--name", "Shelter", "--project-type", "1"]);
    ok(&["program", "add", "--org", "North", "--name", "Meals", "--project-type", "6"]);
    ok(&["service-type", "add", "--program", "Shelter", "--name", "Bed", "--record-type", "200"]);
    ok(&["client", "add", "--org", "North", "--first", "Ida", "--last", "Ibarra"]);
    let bed = |args: &[&str]| ok(&[&["bed"][..], args].concat());
    let out = bed(&[
        "add",
        "--program",
        "Shelter",
        "--name",
        "A1",
        "--group",
        "Dorm A",
        "--attributes",
        "bottom bunk, accessible",
    ]);
    assert_eq!(out, "bed 1\n");
    assert_eq!(bed(&["add", "--program", "1", "--name", "A2"]), "bed 2\n");
    assert_eq!(
        bed(&["list", "--program", "Shelter"]),
        "1\tA1\tDorm A\tbottom bunk, accessible\n2\tA2\t\t\n"
    );
    assert!(bed(&["release-time", "--program", "Shelter", "--at", "21:00"]).contains("21:00"));
    let out = bed(&[
        "hold",
        "--program",
        "Shelter",
        "--bed",
        "1",
        "--client",
        "1",
        "--first",
        "2026-12-01",
        "--last",
        "2026-12-03",
    ]);
    assert_eq!(out, "hold 1\n");
    assert_eq!(
        bed(&["hold-all", "--program", "Shelter", "--night", "2026-12-02"]),
        "1 beds held on 2026-12-02\n"
    );
    let before = dump(&db);

    let refuse = |args: &[&str], says: &str| {
        let (ok, _, err) = server_cli(&db, &[&["bed"][..], args].concat());
        assert!(!ok, "{args:?} should fail");
        assert!(err.contains(says), "{args:?}: expected {says:?} in {err:?}");
    };
    refuse(&["add", "--program", "Meals", "--name", "M1"], "records no bed nights");
    refuse(&["add", "--program", "Shelter", "--name", "A1"], "already has a bed named A1");
    refuse(&["add", "--program", "Shelter", "--name", " "], "must not be empty");
    refuse(&["add", "--program", "Nowhere", "--name", "Z"], "no program");
    refuse(&["release-time", "--program", "Shelter", "--at", "24:30"], "not a time of day");
    let hold = |bed: &str, first: &str, last: &str| {
        ["hold", "--program", "Shelter", "--bed", bed, "--first", first, "--last", last]
            .map(str::to_owned)
            .to_vec()
    };
    let refuse_hold = |args: Vec<String>, says: &str| {
        refuse(&args.iter().map(String::as_str).collect::<Vec<_>>(), says);
    };
    refuse_hold(hold("1", "2026-12-02", "2026-12-02"), "already held");
    refuse_hold(hold("9", "2026-12-05", "2026-12-05"), "no bed 9");
    refuse_hold(hold("2", "2026-12-05", "2026-12-01"), "before the first");
    refuse_hold(hold("2", "2026-12-01", "2027-02-01"), "at most 31 nights");
    refuse_hold(hold("2", "1850-12-01", "1850-12-01"), "between 1900 and 2100");
    refuse(
        &["hold", "--program", "Shelter", "--bed", "2", "--client", "99", "--first", "2026-12-09"],
        "no client number 99",
    );
    refuse(&["hold", "--program", "Shelter", "--bed", "2", "--first", "tonight"], "invalid value");
    refuse(&["retire", "--program", "Shelter", "--bed", "7"], "no bed 7");
    refuse(&["release", "--program", "Shelter", "--hold", "42"], "no hold 42");
    refuse(&["hold-all", "--program", "Shelter", "--night", "2200-01-01"], "between 1900");
    assert_eq!(dump(&db), before, "a refused bed command changed the database");

    assert_eq!(
        bed(&["release-all", "--program", "Shelter", "--night", "2026-12-02"]),
        "2 holds released on 2026-12-02\n"
    );
    assert!(bed(&["release-time", "--program", "Shelter", "--at", "none"]).contains("no beds"));
    assert_eq!(bed(&["retire", "--program", "Shelter", "--bed", "2"]), "bed 2 retired\n");
    assert_eq!(bed(&["list", "--program", "Shelter"]), "1\tA1\tDorm A\tbottom bunk, accessible\n");
}

/// Several stations upload while the server is killed with SIGKILL; after a restart, every
/// entry the server acknowledged is there exactly once, nothing was doubled, and posting
/// creates each service once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_stations_upload_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let (ok, _, err) = server_cli(
        &dir.path().join("x.db"),
        &["demo", "--dir", demo.to_str().unwrap(), "--no-serve", "--clients", "400"],
    );
    assert!(ok, "{err}");
    let db = demo.join("scanline-demo.db");
    let mut tokens = vec![std::fs::read_to_string(demo.join("station.token")).unwrap()];
    for name in ["Line 2", "Line 3"] {
        let file = demo.join(format!("{name}.token"));
        let (ok, _, err) = server_cli(
            &db,
            &[
                "station",
                "add",
                "--org",
                "1",
                "--name",
                name,
                "--program",
                "1",
                "--token-file",
                file.to_str().unwrap(),
            ],
        );
        assert!(ok, "{err}");
        tokens.push(std::fs::read_to_string(file).unwrap());
    }

    let server = ServerProcess::start(&db, &["serve", "--listen", "127.0.0.1:0"]);
    let first = StationClient::new(&server.base, &tokens[0]);
    let (_, roster) = first.get("/api/v1/roster").await.unwrap();
    let codes: Vec<String> = roster["cards"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["replaced"] == false)
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .collect();
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::west_opt(8 * 3600).unwrap())
        .date_naive();

    let acked: Arc<Mutex<Vec<(usize, String, Value)>>> = Arc::default();
    let sent: Arc<Mutex<Vec<Value>>> = Arc::default();
    let mut batches = Vec::new();
    let mut tasks = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let station = StationClient::new(&server.base, token);
        let batch = uuid::Uuid::now_v7().to_string();
        let (s, b) = station.post("/api/v1/batches", &json!({"uuid": batch, "program_id": 1, "service_type_ids": [1], "service_date": today})).await.unwrap();
        assert_eq!(s, 201, "{b}");
        batches.push(batch.clone());
        let (acked, sent, codes) = (acked.clone(), sent.clone(), codes.clone());
        tasks.push(tokio::spawn(async move {
            for round in 0..10_000usize {
                let entries: Vec<Value> = (0..8)
                    .map(|k| json!({"uuid": uuid::Uuid::now_v7(), "code": codes[(round * 8 + k + i * 131) % codes.len()], "scanned_at": chrono::Utc::now()}))
                    .collect();
                sent.lock().unwrap().extend(entries.iter().cloned());
                match station.post(&format!("/api/v1/batches/{batch}/entries"), &json!({"entries": entries})).await {
                    Ok((200, body)) => {
                        let mut a = acked.lock().unwrap();
                        for e in body["entries"].as_array().unwrap() {
                            a.push((i, batch.clone(), e.clone()));
                        }
                    }
                    Ok((status, body)) => panic!("upload refused: {status} {body}"),
                    Err(_) => return round,
                }
            }
            10_000
        }));
    }
    // Let the stations get going, then pull the plug.
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        if acked.lock().unwrap().len() >= 600 {
            break;
        }
    }
    server.kill9();
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let sent = sent.lock().unwrap().clone();
    assert!(acked.len() >= 600);

    // Restart on the same file.
    let server = ServerProcess::start(&db, &["serve", "--listen", "127.0.0.1:0"]);
    {
        let conn = Connection::open(&db).unwrap();
        let mut stmt = conn.prepare("SELECT verdict FROM batch_entries WHERE uuid = ?").unwrap();
        for (_, _, e) in &acked {
            let uuid = e["uuid"].as_str().unwrap();
            let rows: Vec<String> =
                stmt.query_map([uuid], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
            assert_eq!(rows.len(), 1, "acknowledged entry {uuid} is not stored exactly once");
            assert_eq!(
                rows[0],
                e["verdict"].as_str().unwrap(),
                "the stored verdict differs from the one acknowledged"
            );
        }
        let stored: i64 =
            conn.query_row("SELECT COUNT(*) FROM batch_entries", [], |r| r.get(0)).unwrap();
        assert!(
            stored as usize >= acked.len() && stored as usize <= sent.len(),
            "stored {stored}, acked {}, sent {}",
            acked.len(),
            sent.len()
        );
        let doubled: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM (SELECT client_id FROM batch_entries WHERE verdict = 'accepted'
                 GROUP BY client_id, service_date HAVING COUNT(*) > 1)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(doubled, 0, "a client has two accepted meals on one day");
    }

    // Every station retries everything it sent: nothing new is stored.
    let before: i64 = Connection::open(&db)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM batch_entries", [], |r| r.get(0))
        .unwrap();
    for (i, token) in tokens.iter().enumerate() {
        let station = StationClient::new(&server.base, token);
        let mine: Vec<Value> =
            acked.iter().filter(|(s, _, _)| *s == i).map(|(_, _, e)| e.clone()).collect();
        let mine_uuids: HashSet<&str> = mine.iter().map(|e| e["uuid"].as_str().unwrap()).collect();
        let resend: Vec<Value> = sent
            .iter()
            .filter(|e| mine_uuids.contains(e["uuid"].as_str().unwrap()))
            .cloned()
            .collect();
        for chunk in resend.chunks(200) {
            let (s, r) = station
                .post(
                    &format!("/api/v1/batches/{}/entries", batches[i]),
                    &json!({"entries": chunk}),
                )
                .await
                .unwrap();
            assert_eq!(s, 200, "{r}");
            assert!(r["entries"].as_array().unwrap().iter().all(|e| e["duplicate_upload"] == true));
        }
        let (s, summary) = station
            .post(&format!("/api/v1/batches/{}/post", batches[i]), &json!({}))
            .await
            .unwrap();
        assert_eq!(s, 200, "{summary}");
    }
    let conn = Connection::open(&db).unwrap();
    let after: i64 =
        conn.query_row("SELECT COUNT(*) FROM batch_entries", [], |r| r.get(0)).unwrap();
    assert_eq!(after, before);
    let accepted: i64 = conn
        .query_row("SELECT COUNT(*) FROM batch_entries WHERE verdict = 'accepted'", [], |r| {
            r.get(0)
        })
        .unwrap();
    // (The demo's shelter guests come with last night's bed nights, recorded at the desk.)
    let services: i64 = conn
        .query_row("SELECT COUNT(*) FROM services WHERE batch_entry_id IS NOT NULL", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(services, accepted, "each accepted entry posts exactly one service");
    drop(server);
}

#[test]
fn hmis_import_and_export_from_the_command_line() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/fixtures/hmis");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hmis.db");
    let report = dir.path().join("report.csv");

    // A bad export: status 1, every error on standard error and in the report, nothing written.
    let (_, _, _) = server_cli(&db, &["migrate"]);
    let before = dump(&db);
    let (ok, _, err) = server_cli(
        &db,
        &[
            "hmis",
            "import",
            fixtures.join("bad_values").to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert!(!ok);
    assert!(err.contains("error: Enrollment.csv line 3, EntryDate \"2026-02-30\""), "{err}");
    assert!(err.contains("nothing was imported: 7 errors"), "{err}");
    assert!(
        err.contains("error: Exit.csv line 2, EnrollmentID \"E400\": no such enrollment"),
        "{err}"
    );
    assert!(
        std::fs::read_to_string(&report).unwrap().contains("error,Services.csv,3,RecordType,999,")
    );
    assert_eq!(dump(&db), before);

    // The normal one, with its progress bar.
    let (ok, out, err) = server_cli(
        &db,
        &[
            "hmis",
            "import",
            fixtures.join("normal").to_str().unwrap(),
            "--time-zone",
            "America/Denver",
        ],
    );
    assert!(ok, "{err}");
    assert!(err.contains("Services.csv      [##############################] 10/10"), "{err}");
    assert!(out.contains("imported, with 3 warnings"), "{out}");

    let zip = dir.path().join("export.zip");
    let (ok, out, err) = server_cli(
        &db,
        &[
            "hmis",
            "export",
            "--from",
            "2026-01-01",
            "--to",
            "2026-12-31",
            "--out",
            zip.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("exported 10 services"), "{out}");
    // The export imports back into a new database.
    let again = dir.path().join("again.db");
    let (ok, out, err) = server_cli(&again, &["hmis", "import", zip.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("Services.csv      read      10  added      10"), "{out}");

    let (ok, _, err) = server_cli(
        &db,
        &[
            "hmis",
            "services",
            "--from",
            "2026-01-01",
            "--to",
            "2026-12-31",
            "--format",
            "xml",
            "--out",
            "/dev/null",
        ],
    );
    assert!(!ok && err.contains("not clienttrack or plain"), "{err}");
    let (ok, _, err) =
        server_cli(&db, &["hmis", "import", dir.path().join("missing.zip").to_str().unwrap()]);
    assert!(!ok && err.contains("cannot read"), "{err}");
}

#[test]
fn the_systemd_units_verify() {
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy");
    let dir = tempfile::tempdir().unwrap();
    let bin = scanline_tests::binary("scanline-server");
    let bin_dir = bin.parent().unwrap();
    for unit in ["scanline-server.service", "scanline-station.service"] {
        // The units name the installed binaries; point them at the built ones.
        let text = std::fs::read_to_string(deploy.join(unit))
            .unwrap()
            .replace("/usr/bin/", &format!("{}/", bin_dir.display()));
        let path = dir.path().join(unit);
        std::fs::write(&path, text).unwrap();
        let out = std::process::Command::new("systemd-analyze")
            .arg("verify")
            .arg(&path)
            .output()
            .expect("systemd-analyze runs (Debian package systemd)");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && err.trim().is_empty(), "{unit}: {err}");
    }
}

#[test]
fn scheduled_backups_while_serving_and_a_restore_refused_until_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let backups = dir.path().join("backups");
    let (ok, _, err) =
        server_cli(&db, &["org", "add", "--name", "North", "--time-zone", "America/Denver"]);
    assert!(ok, "{err}");
    let server = ServerProcess::start(
        &db,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--backup-dir",
            backups.to_str().unwrap(),
            "--backup-keep",
            "3",
        ],
    );
    // The first backup is written at start.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let backup = loop {
        let found: Vec<_> = std::fs::read_dir(&backups)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "db"))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(b) = found.first() {
            break b.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no backup was written");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let check: String = Connection::open(&backup)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    // A restore under a running server would leave it serving the restored data under the old
    // generation, so stations would never resend: it is refused and changes nothing.
    let before = dump(&db);
    let (ok, _, err) = server_cli(&db, &["restore", backup.to_str().unwrap()]);
    assert!(!ok && err.contains("a Scanline server is running on"), "{err}");
    assert_eq!(dump(&db), before);
    let kept = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().contains("before-restore"));
    assert!(!kept, "a refused restore keeps no copy");
    // A second server on the same database is refused too.
    let (ok, _, err) = server_cli(&db, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!ok && err.contains("a Scanline server is running on"), "{err}");
    drop(server);

    // Later records are lost by restoring the backup; the replaced database is kept.
    let (ok, _, err) =
        server_cli(&db, &["org", "add", "--name", "South", "--time-zone", "America/Chicago"]);
    assert!(ok, "{err}");
    let (ok, out, err) = server_cli(&db, &["restore", backup.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("is kept as"), "{out}");
    let names: Vec<String> = Connection::open(&db)
        .unwrap()
        .prepare("SELECT name FROM organizations ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(names, ["North"]);
    // A file that is not a backup is refused and changes nothing.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "not a database").unwrap();
    let before = dump(&db);
    let (ok, _, err) = server_cli(&db, &["restore", junk.to_str().unwrap()]);
    assert!(!ok && err.contains("not a Scanline backup"), "{err}");
    assert_eq!(dump(&db), before);
    // The restored database serves.
    let _again = ServerProcess::start(&db, &["serve", "--listen", "127.0.0.1:0"]);
}
