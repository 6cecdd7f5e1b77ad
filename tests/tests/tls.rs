//! TLS on a LAN install (DESIGN §13): the server makes a self-signed certificate and serves
//! HTTPS with it; a station pinned to its fingerprint works, a station pinned to another
//! certificate refuses and its kiosk says why; a renewed certificate is picked up without a
//! restart; a station trusting the certificate as its CA file works too.

use std::path::Path;

use scanline_tests::{
    Kiosk, ServerProcess, StationProcess, agency, cards, ready, server_cli, station_config,
};
use serde_json::json;

/// Makes a self-signed certificate for loopback; returns its fingerprint.
fn self_signed(db: &Path, cert: &Path, key: &Path) -> String {
    let (ok, out, err) = server_cli(
        db,
        &[
            "tls",
            "self-signed",
            "--host",
            "127.0.0.1",
            "--host",
            "localhost",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    out.lines()
        .find_map(|l| l.strip_prefix("fingerprint SHA-256 "))
        .expect("the fingerprint is printed")
        .trim()
        .to_owned()
}

/// A station configuration for the server at `url` with `trust` added to its [server] part.
fn config_with(dir: &Path, url: &str, token: &Path, trust: &str) -> std::path::PathBuf {
    let path = station_config(dir, url, token, None, 0, ("Lunch line", 1, 1));
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replacen("[server]\n", &format!("[server]\n{trust}\n"), 1);
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_station_talks_tls_and_a_station_pinned_elsewhere_refuses() {
    let a = agency(20);
    let d = a.dir.path();
    let (cert, key) = (d.join("server.pem"), d.join("server.key"));
    let fingerprint = self_signed(&a.db, &cert, &key);
    let (other_cert, other_key) = (d.join("other.pem"), d.join("other.key"));
    let other = self_signed(&a.db, &other_cert, &other_key);
    assert_ne!(fingerprint, other);

    let server = ServerProcess::start(
        &a.db,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(server.base.starts_with("https://"), "{}", server.base);

    // Pinned to the server's certificate: online, and scans are judged by the server.
    let good_dir = d.join("good");
    std::fs::create_dir_all(&good_dir).unwrap();
    let good = StationProcess::start(&config_with(
        &good_dir,
        &server.base,
        &a.token,
        &format!("pin_sha256 = \"{fingerprint}\""),
    ));
    let good_kiosk = Kiosk::new(&good.kiosk);
    ready(&good_kiosk, false).await;
    let code = cards(&a.db).good[0].clone();
    let (status, r) = good_kiosk.post("/api/scan", &json!({"code": code})).await;
    assert_eq!(status, 200, "{r}");
    good_kiosk.wait_status(30, "the scan uploaded over TLS", |s| s["outbox_pending"] == 0).await;

    // Pinned to another certificate: refused, and the kiosk says why.
    let bad_dir = d.join("bad");
    std::fs::create_dir_all(&bad_dir).unwrap();
    let bad = StationProcess::start(&config_with(
        &bad_dir,
        &server.base,
        &a.token,
        &format!("pin_sha256 = \"{other}\""),
    ));
    let bad_kiosk = Kiosk::new(&bad.kiosk);
    let status = bad_kiosk
        .wait_status(30, "the kiosk to refuse the server", |s| s["link"]["link"] == "untrusted")
        .await;
    let why = status["link"]["last_error"].as_str().unwrap_or_default();
    assert!(why.contains(&fingerprint) && why.contains(&other), "{status}");

    // Trusting the certificate as its CA file works too.
    let ca_dir = d.join("ca");
    std::fs::create_dir_all(&ca_dir).unwrap();
    let ca = StationProcess::start(&config_with(
        &ca_dir,
        &server.base,
        &a.token,
        &format!("ca_file = \"{}\"", cert.display()),
    ));
    ready(&Kiosk::new(&ca.kiosk), false).await;

    // The certificate is renewed in place: the server serves the new one without a restart,
    // and the station pinned to it comes online.
    std::fs::copy(&other_cert, &cert).unwrap();
    std::fs::copy(&other_key, &key).unwrap();
    bad_kiosk
        .wait_status(60, "the renewed certificate to be served", |s| s["link"]["link"] == "online")
        .await;
    drop((good, bad, ca, server));
}
