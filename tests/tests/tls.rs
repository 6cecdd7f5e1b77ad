//! TLS on a LAN install (DESIGN §13): the server makes a self-signed certificate and serves
//! HTTPS with it; a station pinned to its fingerprint works, a station pinned to another
//! certificate refuses and its kiosk says why; a renewed certificate is picked up without a
//! restart, and a station pinned to the old one refuses it on its next request; a station
//! trusting the certificate as its CA file works too; the certificate names its host and is
//! valid for as long as browsers accept.

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
    // The station pinned to the old certificate stops trusting the server at once: it keeps no
    // connection that was checked before the change.
    let status = good_kiosk
        .wait_status(60, "the pinned station to refuse the renewed certificate", |s| {
            s["link"]["link"] == "untrusted"
        })
        .await;
    let why = status["link"]["last_error"].as_str().unwrap_or_default();
    assert!(why.contains(&other), "{status}");
    let code = cards(&a.db).good[1].clone();
    let (status, r) = good_kiosk.post("/api/scan", &json!({"code": code})).await;
    assert_eq!(status, 200, "scanning goes on offline: {r}");
    drop((good, bad, ca, server));
}

#[test]
fn the_self_signed_certificate_names_its_host_and_lasts_as_long_as_browsers_allow() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let (cert, key) = (dir.path().join("server.pem"), dir.path().join("server.key"));
    let (ok, out, err) = server_cli(
        &db,
        &[
            "tls",
            "self-signed",
            "--host",
            "scanline.lan",
            "--host",
            "192.0.2.10",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("valid until"), "{out}");
    // Read back by OpenSSL, as a browser's view of it.
    let text = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-startdate", "-enddate", "-ext", "subjectAltName"])
        .arg("-in")
        .arg(&cert)
        .output()
        .expect("openssl reads the certificate");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("CN=scanline.lan") || text.contains("CN = scanline.lan"), "{text}");
    assert!(!text.contains("rcgen"), "{text}");
    assert!(text.contains("DNS:scanline.lan") && text.contains("IP Address:192.0.2.10"), "{text}");
    let date = |prefix: &str| {
        let line = text.lines().find_map(|l| l.strip_prefix(prefix)).unwrap().trim().to_owned();
        chrono::NaiveDateTime::parse_from_str(line.trim_end_matches(" GMT"), "%b %e %H:%M:%S %Y")
            .unwrap_or_else(|e| panic!("{line}: {e}"))
    };
    let (from, until) = (date("notBefore="), date("notAfter="));
    let now = chrono::Utc::now().naive_utc();
    assert!(from <= now && now - from < chrono::Duration::days(2), "{from}");
    let days = (until - from).num_days();
    assert!((300..=398).contains(&days), "valid for {days} days");

    // An existing certificate is never overwritten: renewal writes new files.
    let before = std::fs::read(&cert).unwrap();
    let (ok, _, err) = server_cli(
        &db,
        &[
            "tls",
            "self-signed",
            "--host",
            "scanline.lan",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            dir.path().join("new.key").to_str().unwrap(),
        ],
    );
    assert!(!ok && err.contains("exists"), "{err}");
    assert_eq!(std::fs::read(&cert).unwrap(), before);
}
