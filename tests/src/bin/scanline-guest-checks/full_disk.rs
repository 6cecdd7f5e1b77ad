//! A full disk (DESIGN §14), run inside the guest with the device tests (it mounts small
//! tmpfs file systems, which needs root), as part of `scanline-guest-checks`. The station's data and
//! the server's database each live on a few megabytes that a filler file then takes:
//!
//! - a scan the station cannot commit shows "not recorded" and why on the kiosk, never a
//!   verdict, and scanning works again by itself once there is room;
//! - an upload the server cannot commit is answered with a clear error (507, "the server's
//!   disk is full"), which the kiosk shows; the station keeps the entries and sends them again
//!   once there is room, and nothing that was acknowledged is lost or doubled.
//!
//! SQLite writes into the room its write-ahead log already has, so a filled disk may take a
//! number of writes before one fails; the tests scan until one does.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use scanline_tests::{
    Kiosk, ServerProcess, StationProcess, agency, cards, ready, station_config_with,
};
use serde_json::{Value, json};

fn sh(script: &str) {
    let out = std::process::Command::new("sh").arg("-c").arg(script).output().unwrap();
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A small file system of its own at `dir`.
fn small_fs(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    sh(&format!("mount -t tmpfs -o size=6m tmpfs {}", dir.display()));
}

/// Fills the file system `dir` is on with one file, and returns it.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0xA5u8; 16 * 1024];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.write_all(&[0u8; 512]);
    let _ = f.sync_all();
    path
}

/// How many entries the batch holds, by the counts the kiosk shows (the review list shows only
/// the newest).
async fn recorded(kiosk: &Kiosk) -> usize {
    let status = kiosk.get("/api/status").await;
    let counts = status["batch"]["counts"].as_object().cloned().unwrap_or_default();
    counts.values().filter_map(Value::as_u64).map(|n| n as usize).sum()
}

pub(crate) async fn a_full_disk_is_a_clear_error_loses_nothing_and_recovers_by_itself() {
    let root = tempfile::tempdir().unwrap();
    let (station_fs, server_fs) = (root.path().join("station"), root.path().join("server"));
    small_fs(&station_fs);
    small_fs(&server_fs);
    let a = agency(40);
    let server_db = server_fs.join("scanline.db");
    std::fs::copy(&a.db, &server_db).unwrap();
    let server = ServerProcess::start(&server_db, &["serve", "--listen", "127.0.0.1:0"]);
    let token = station_fs.join("station.token");
    std::fs::copy(&a.token, &token).unwrap();
    let config = station_config_with(&station_fs, &server.base, &token, "");
    let station = StationProcess::start(&config);
    let kiosk = Kiosk::new(&station.kiosk);
    ready(&kiosk, false).await;
    let c = cards(&server_db);
    let codes: Vec<String> = c.good.iter().chain(&c.unenrolled).cloned().collect();
    let mut acked: Vec<String> = Vec::new();
    let mut next = 0;
    let mut scan = async |kiosk: &Kiosk| {
        next += 1;
        kiosk.post("/api/scan", &json!({"code": codes[next % codes.len()]})).await
    };

    // The station's disk fills: scans are recorded while the log has room, then one is not,
    // and the kiosk says so instead of giving a verdict.
    let filler = fill(&station_fs);
    let deadline = Instant::now() + Duration::from_secs(300);
    let refused = loop {
        let (status, body) = scan(&kiosk).await;
        if status == 200 {
            acked.push(body["uuid"].as_str().unwrap().to_owned());
        } else {
            break body;
        }
        assert!(Instant::now() < deadline, "the station kept recording on a full disk");
    };
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("NOT RECORDED") && message.contains("disk is full"), "{refused}");
    let recorded = recorded(&kiosk).await;
    assert_eq!(recorded, acked.len(), "only what was shown is recorded");
    // Room again: the next scan is recorded, without a restart.
    std::fs::remove_file(&filler).unwrap();
    let (status, body) = scan(&kiosk).await;
    assert_eq!(status, 200, "{body}");
    acked.push(body["uuid"].as_str().unwrap().to_owned());
    kiosk.wait_status(120, "the outbox to catch up", |s| s["outbox_pending"] == 0).await;

    // The server's disk fills: the station goes on recording, the server refuses the upload
    // with a clear error the kiosk shows, and the station keeps the entries.
    let filler = fill(&server_fs);
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        let (code, body) = scan(&kiosk).await;
        assert_eq!(code, 200, "{body}");
        acked.push(body["uuid"].as_str().unwrap().to_owned());
        tokio::time::sleep(Duration::from_millis(100)).await;
        let s = kiosk.get("/api/status").await;
        if s["link"]["last_error"].as_str().is_some_and(|e| e.contains("disk is full")) {
            break s;
        }
        assert!(Instant::now() < deadline, "the server never said its disk was full: {s}");
    };
    assert!(status["outbox_pending"].as_i64().unwrap_or_default() > 0, "{status}");
    // Room again: the outbox catches up by itself, and every shown scan is on the server once.
    std::fs::remove_file(&filler).unwrap();
    kiosk.wait_status(180, "the outbox to catch up", |s| s["outbox_pending"] == 0).await;
    let conn = Connection::open(&server_db).unwrap();
    for uuid in &acked {
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM batch_entries WHERE uuid = ?", [uuid], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "shown scan {uuid} is on the server {n} times");
    }
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    drop((station, server));
    sh(&format!("umount --lazy {} {}", station_fs.display(), server_fs.display()));
}
