//! One boot of the power-cut test (DESIGN §14), run inside the guest that
//! `tests/tests/guest.rs` boots again and again and kills from outside (QEMU killed: no
//! shutdown, no flush); the host cannot run it (it needs the guest's disk). The station's and the server's databases
//! live on the guest's virtual disk; the list of scans whose verdict the kiosk showed is kept
//! on the host, outside the guest, where a power cut cannot touch it.
//!
//! Each boot first checks what the last one left: both databases pass SQLite's integrity
//! check, every shown scan is in the station's database exactly once, and once the station's
//! outbox has caught up, on the server exactly once. Then, unless it is the last boot, it scans
//! at a meal line's pace until the power goes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;
use scanline_tests::{
    Kiosk, ServerProcess, StationProcess, cards, ready, server_cli, station_config_with,
};
use serde_json::json;

fn env_path(name: &str) -> PathBuf {
    PathBuf::from(std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set")))
}

fn integrity(db: &Path) {
    let found: String = Connection::open(db)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(found, "ok", "{} after the power cut", db.display());
}

fn count(db: &Path, sql: &str, uuid: &str) -> i64 {
    Connection::open(db).unwrap().query_row(sql, [uuid], |r| r.get(0)).unwrap()
}

pub(crate) async fn power_cut_boot() {
    let shared = env_path("SCANLINE_POWER_SHARED");
    let data = env_path("SCANLINE_POWER_DATA");
    let last = std::env::var("SCANLINE_POWER_LAST").as_deref() == Ok("1");
    let demo = data.join("demo");
    let server_db = demo.join("scanline-demo.db");
    let station_dir = data.join("station");
    let station_db = station_dir.join("data/station.db");
    let acked_file = shared.join("acked.txt");
    let first = !server_db.exists();
    if first {
        let (ok, _, err) = server_cli(
            &data.join("unused.db"),
            &["demo", "--dir", demo.to_str().unwrap(), "--no-serve", "--clients", "60"],
        );
        assert!(ok, "{err}");
        std::fs::create_dir_all(station_dir.join("data")).unwrap();
        std::fs::copy(demo.join("station.token"), station_dir.join("station.token")).unwrap();
        // Set-up is done once, as an installer does it, and is on the disk before scanning.
        assert!(std::process::Command::new("sync").status().unwrap().success());
    }
    let acked: Vec<String> = std::fs::read_to_string(&acked_file)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.len() == 36)
        .map(str::to_owned)
        .collect();
    if !first {
        integrity(&server_db);
        integrity(&station_db);
        for uuid in &acked {
            let n = count(&station_db, "SELECT COUNT(*) FROM entries WHERE uuid = ?", uuid);
            assert_eq!(n, 1, "shown scan {uuid} is in the station's database {n} times");
        }
    }

    let server = ServerProcess::start(&server_db, &["serve", "--listen", "127.0.0.1:0"]);
    let config =
        station_config_with(&station_dir, &server.base, &station_dir.join("station.token"), "");
    let station = StationProcess::start(&config);
    let kiosk = Kiosk::new(&station.kiosk);
    ready(&kiosk, false).await;
    if !first {
        // The outbox resumes: everything shown reaches the server, once.
        kiosk.wait_status(120, "the outbox to catch up", |s| s["outbox_pending"] == 0).await;
        for uuid in &acked {
            let n = count(&server_db, "SELECT COUNT(*) FROM batch_entries WHERE uuid = ?", uuid);
            assert_eq!(n, 1, "shown scan {uuid} is on the server {n} times");
        }
        let mut report = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(shared.join("report.txt"))
            .unwrap();
        writeln!(report, "checked {} shown scans", acked.len()).unwrap();
        report.sync_all().unwrap();
    }
    if last {
        drop((station, server));
        return;
    }

    // Scan until the power goes; each verdict shown is written down outside the guest first.
    let mut log = std::fs::OpenOptions::new().create(true).append(true).open(&acked_file).unwrap();
    let c = cards(&server_db);
    let codes: Vec<String> = c.good.iter().chain(&c.unenrolled).chain(&c.barred).cloned().collect();
    for i in 0.. {
        let code = &codes[i % codes.len()];
        let (status, shown) = kiosk.post("/api/scan", &json!({"code": code})).await;
        assert_eq!(status, 200, "{shown}");
        let uuid = shown["uuid"].as_str().expect("a shown scan has its uuid");
        writeln!(log, "{uuid}").unwrap();
        log.sync_data().unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
