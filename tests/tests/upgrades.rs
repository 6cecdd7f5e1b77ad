//! Versions that do not match (DESIGN §14): a server whose station protocol differs from the
//! station's is shown plainly on the kiosk and in the station's log, the station keeps its scans,
//! and a database written by a newer server is refused by the binary with a clear message.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::time::Duration;

use rusqlite::Connection;
use scanline_tests::{Kiosk, StationProcess, server_cli, station_config};

/// A server of another protocol version: it answers every request the way a Scanline server
/// answers a station it does not speak to.
fn other_version_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let body = r#"{"error":{"code":"protocol_unsupported","message":"this server speaks station protocol 2..=2, and the station speaks \"1\": install matching versions of the server and the station"}}"#;
                let answer = format!(
                    "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes());
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_of_another_protocol_version_is_shown_plainly_on_the_kiosk() {
    let dir = tempfile::tempdir().unwrap();
    let port = other_version_server();
    let token = dir.path().join("station.token");
    std::fs::write(&token, "sls_0123456789abcdef").unwrap();
    let config = station_config(
        dir.path(),
        &format!("http://127.0.0.1:{port}"),
        &token,
        None,
        0,
        ("Lunch line", 1, 1),
    );
    let log = dir.path().join("station.log");
    let station = StationProcess::start_with_log(&config, Some(&log));
    let kiosk = Kiosk::new(&station.kiosk);
    let status = kiosk
        .wait_status(30, "the kiosk to say the versions differ", |s| {
            s["link"]["link"] == "incompatible"
        })
        .await;
    let message = status["link"]["last_error"].as_str().unwrap_or_default();
    assert!(message.contains("install matching versions"), "{status}");
    let page = reqwest::get(format!("{}/", station.kiosk)).await.unwrap().text().await.unwrap();
    assert!(page.contains("Server and station versions differ"));
    // The log line may trail the kiosk's words by a moment.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("install matching versions") {
        assert!(std::time::Instant::now() < deadline, "the station never logged the refusal");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(station);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("the server does not speak this station's protocol")
            && logged.contains("install matching versions"),
        "{logged}"
    );
}

#[test]
fn a_database_from_a_newer_server_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("newer.db");
    let (ok, _, err) = server_cli(&db, &["migrate"]);
    assert!(ok, "{err}");
    let version: i64 =
        Connection::open(&db).unwrap().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    Connection::open(&db).unwrap().pragma_update(None, "user_version", version + 1).unwrap();
    let (ok, _, err) = server_cli(&db, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!ok);
    assert!(err.contains("newer"), "{err}");
}
