//! `scanline-station scanner configure` against a scanner simulated on a pseudo-terminal that
//! answers Honeywell menu commands the way the device does: every command of the Xenon 1900
//! profile is sent and acknowledged; a scanner that refuses one is reported and the command
//! fails.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

use scanline_tests::{FakeScanner, binary};

/// Plays the scanner on the master side: reads `SYN M CR <body> .` commands and answers each
/// with the body, a status byte and `.`. `refuse` gets NAK (value out of range). Returns the
/// bodies received when the station closes the port.
fn honeywell(
    mut master: std::fs::File,
    refuse: Option<&'static str>,
) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 256];
        let started = std::time::Instant::now();
        loop {
            // Until the station opens its side, reading the master fails (EIO): wait for it.
            // Once something was received, the same failure means the station closed the port.
            let n = match master.read(&mut chunk) {
                Ok(n) if n > 0 => n,
                _ if buf.is_empty() && got.is_empty() && started.elapsed().as_secs() < 30 => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    continue;
                }
                _ => return got,
            };
            buf.extend_from_slice(&chunk[..n]);
            while let Some(end) = buf.iter().position(|&b| b == b'.') {
                let frame: Vec<u8> = buf.drain(..=end).collect();
                let Some(start) = frame.windows(3).position(|w| w == b"\x16M\r") else { continue };
                let body = String::from_utf8_lossy(&frame[start + 3..frame.len() - 1]).into_owned();
                let status = if refuse == Some(body.as_str()) { 0x15 } else { 0x06 };
                let mut answer = body.clone().into_bytes();
                answer.push(status);
                answer.push(b'.');
                if master.write_all(&answer).is_err() {
                    return got;
                }
                got.push(body);
            }
        }
    })
}

fn configure(port: &Path) -> (bool, String) {
    let profiles = Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware-configs");
    let out = Command::new(binary("scanline-station"))
        .args(["scanner", "configure", "--profile", "honeywell-xenon-1900", "--port"])
        .arg(port)
        .arg("--dir")
        .arg(&profiles)
        .output()
        .expect("running scanline-station");
    (
        out.status.success(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

#[test]
fn every_menu_command_is_sent_and_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner");
    let scanner = FakeScanner::plug(&link);
    let device = honeywell(scanner.into_master(), None);
    let (ok, out) = configure(&link);
    assert!(ok, "{out}");
    let sent = device.join().unwrap();
    assert_eq!(
        sent,
        ["232BAD9", "PRECA2", "SUFCA2", "SUFBK2990D", "128ENA1", "QRCENA1", "BEPBEP1"]
    );
    assert_eq!(out.matches("ok  ").count(), sent.len(), "{out}");
    // The steps that need the scanner's own programming barcodes are listed for the person.
    assert!(out.contains("by hand:"), "{out}");
}

#[test]
fn a_refused_command_stops_the_run_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner");
    let scanner = FakeScanner::plug(&link);
    let device = honeywell(scanner.into_master(), Some("SUFBK2990D"));
    let (ok, out) = configure(&link);
    assert!(!ok, "{out}");
    assert!(out.contains("FAIL SUFBK2990D"), "{out}");
    let sent = device.join().unwrap();
    assert_eq!(
        sent.last().map(String::as_str),
        Some("SUFBK2990D"),
        "nothing is sent after a refusal"
    );
}

#[test]
fn no_scanner_on_the_port_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = configure(&dir.path().join("nothing-here"));
    assert!(!ok);
    assert!(out.contains("error:"), "{out}");
}
