//! The Debian packages as an installer meets them (DESIGN §2): `tests/run` builds them with
//! cargo-deb before the tests; this test installs the server's and the station's with `dpkg -i`
//! on this machine, checks what they put where and the station's service user, starts both
//! installed programs (the station as its service user, talking to the installed server), and
//! purges them. The Raspberry Pi package is checked for its architecture, and its binary runs
//! under qemu-user. Without systemd running, the units are checked with `systemd-analyze`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use scanline_tests::agency;

/// The packages cargo-deb wrote, by file name prefix and architecture.
fn package(name: &str, arch: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/debug/deps/<test> -> target/debian
    let target = exe.ancestors().nth(3).unwrap().to_owned();
    let dir = target.join("debian");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!("{}: {e}: run tests/run, which builds the packages", dir.display())
        })
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            let f = p.file_name().unwrap().to_string_lossy().into_owned();
            f.starts_with(&format!("{name}_")) && f.ends_with(&format!("_{arch}.deb"))
        })
        .unwrap_or_else(|| panic!("no {name} package for {arch} in {}", dir.display()))
}

/// Runs a command as root (through `sudo -n` when the tests do not run as root).
fn root(program: &str, args: &[&str]) -> (bool, String) {
    let is_root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let mut cmd = if is_root { Command::new(program) } else { Command::new("sudo") };
    if !is_root {
        cmd.args(["-n", program]);
    }
    let out = cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive").output().unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn must(program: &str, args: &[&str]) -> String {
    let (ok, text) = root(program, args);
    assert!(ok, "{program} {args:?} failed:\n{text}");
    text
}

/// Starts a program and waits for the line it prints with its address.
fn start(mut cmd: Command, prefix: &str) -> (Child, String) {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let found = loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                if let Some(rest) = line.strip_prefix(prefix) {
                    break Some(rest.trim().trim_start_matches("http://").to_owned());
                }
            }
            Err(_) => break None,
        }
    };
    match found {
        Some(addr) => (child, addr.trim_end_matches('/').to_owned()),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the program never printed a line starting {prefix:?}")
        }
    }
}

/// A plain HTTP GET; returns the status line and the body.
fn get(addr: &str, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.lines().next().unwrap_or_default().to_owned(), body.to_owned())
}

#[test]
fn the_debian_packages_install_start_and_purge() {
    // The Raspberry Pi package: arm64, with an aarch64 binary that runs.
    let arm = package("scanline-station", "arm64");
    let field = |deb: &Path, f: &str| {
        let out = Command::new("dpkg-deb").arg("-f").arg(deb).arg(f).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(field(&arm, "Architecture"), "arm64");
    let unpacked = tempfile::tempdir().unwrap();
    assert!(
        Command::new("dpkg-deb")
            .arg("-x")
            .arg(&arm)
            .arg(unpacked.path())
            .status()
            .unwrap()
            .success()
    );
    let arm_bin = unpacked.path().join("usr/bin/scanline-station");
    let elf = std::fs::read(&arm_bin).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF");
    assert_eq!(u16::from_le_bytes([elf[18], elf[19]]), 183, "EM_AARCH64");
    eprintln!("the aarch64 station binary is {} bytes", elf.len());
    let out = Command::new("qemu-aarch64")
        .args(["-L", "/usr/aarch64-linux-gnu"])
        .arg(&arm_bin)
        .args(["check", "88000000012018"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("Scanline card"), "{said}{}", String::from_utf8_lossy(&out.stderr));

    // Install both amd64 packages.
    let server_deb = package("scanline-server", "amd64");
    let station_deb = package("scanline-station", "amd64");
    must("dpkg", &["-i", server_deb.to_str().unwrap(), station_deb.to_str().unwrap()]);
    for file in [
        "/usr/bin/scanline-server",
        "/usr/bin/scanline-station",
        "/usr/lib/systemd/system/scanline-server.service",
        "/usr/lib/systemd/system/scanline-station.service",
        "/lib/udev/rules.d/60-scanline-scanners.rules",
        "/etc/scanline/station.toml",
        "/usr/share/scanline-station/firmware-configs/honeywell-voyager-1250g.toml",
    ] {
        assert!(Path::new(file).exists(), "{file} is not installed");
    }
    let groups = must("id", &["-nG", "scanline-station"]);
    for g in ["scanline-station", "dialout", "input", "plugdev"] {
        assert!(groups.split_whitespace().any(|x| x == g), "not in {g}: {groups}");
    }
    let perms = must("stat", &["-c", "%a %U %G", "/etc/scanline", "/etc/scanline/station.toml"]);
    assert_eq!(
        perms.lines().collect::<Vec<_>>(),
        ["750 root scanline-station", "640 root scanline-station"]
    );
    for unit in ["scanline-server.service", "scanline-station.service"] {
        let path = format!("/usr/lib/systemd/system/{unit}");
        let (ok, text) = root("systemd-analyze", &["verify", &path]);
        assert!(ok && !text.contains("scanline"), "{unit}: {text}");
    }

    // The installed server serves a demo agency. The installer edits the packaged station
    // configuration and writes the token beside it, and the station starts as the unit starts
    // it: as its service user, with that configuration.
    let a = agency(10);
    let (mut server, server_addr) = start(
        {
            let mut c = Command::new("/usr/bin/scanline-server");
            c.arg("--db").arg(&a.db).args(["serve", "--listen", "127.0.0.1:0"]);
            c
        },
        "listening on ",
    );
    let (status, body) = get(&server_addr, "/healthz");
    assert!(status.contains("200"), "{status} {body}");
    let config = Path::new("/etc/scanline/station.toml");
    let edited = std::fs::read_to_string(config)
        .unwrap()
        .replace("http://192.0.2.10:8080", &format!("http://{server_addr}"))
        .replace("127.0.0.1:8090", "127.0.0.1:0");
    std::fs::write(config, edited).unwrap();
    std::fs::copy(&a.token, "/etc/scanline/station.token").unwrap();
    must("chown", &["root:scanline-station", "/etc/scanline/station.token"]);
    must("chmod", &["0640", "/etc/scanline/station.token"]);
    let as_station = ["-u", "scanline-station", "--", "/usr/bin/scanline-station"];
    let check = ["check-config", "--config", "/etc/scanline/station.toml"];
    let checked = must("runuser", &[&as_station[..], &check[..]].concat());
    assert!(checked.contains("/etc/scanline/station.token"), "{checked}");
    assert!(checked.contains("data in /var/lib/scanline-station"), "{checked}");
    let (mut station, kiosk) = start(
        {
            let mut c = Command::new("runuser");
            c.args(as_station).args(["run", "--config", "/etc/scanline/station.toml"]);
            c
        },
        "kiosk on ",
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, body) = get(&kiosk, "/api/status");
        if body.contains("\"loaded\":true") && body.contains("\"link\":\"online\"") {
            break;
        }
        assert!(Instant::now() < deadline, "the installed station never came online: {body}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let owner = must("stat", &["-c", "%U", "/var/lib/scanline-station/station.db"]);
    assert_eq!(owner.trim(), "scanline-station");
    must("kill", &["-TERM", &station.id().to_string()]);
    let _ = station.wait();
    let _ = server.kill();
    let _ = server.wait();

    // Purged, they leave no program behind.
    must("dpkg", &["--purge", "scanline-station", "scanline-server"]);
    for file in
        ["/usr/bin/scanline-server", "/usr/bin/scanline-station", "/etc/scanline/station.toml"]
    {
        assert!(!Path::new(file).exists(), "{file} is left after purge");
    }
    // What the installer made, and the station's data, are theirs to remove.
    must("rm", &["-rf", "/etc/scanline", "/var/lib/scanline-station"]);
}
