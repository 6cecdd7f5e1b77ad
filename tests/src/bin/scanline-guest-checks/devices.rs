//! Scanners through a real Linux kernel's input stack (DESIGN §8, §14). These checks need
//! `/dev/uinput` and `/dev/uhid` and root, which the test machines do not give, so they run
//! inside the guest that `tests/tests/guest.rs` boots (one boot for all of them), as part of
//! `scanline-guest-checks`. There the kernel makes real event and hidraw nodes for virtual scanners with
//! the USB ids of real models, `deploy/60-scanline-scanners.rules` grants the station's user
//! access to them, and the station runs as that user, exactly as installed:
//!
//! - keyboard wedges typing card codes with Enter at scanner speed, in the US and the French
//!   layout, with the exclusive grab held, auto-repeat ignored and nothing typed while the
//!   station was stopped leaking into the next scan; a prox reader typing `FAC:ID`;
//! - a HID POS scanner (beside a keyboard interface of the same device, as Honeywell's
//!   composite scanners are) and MagTek swipe readers in both report layouts, opened through
//!   hidapi by their USB ids;
//! - every kind unplugged and plugged back while the station runs, with the kiosk showing it.

use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

use scanline_tests::vdev::{self, VirtualHid, VirtualKeyboard};
use scanline_tests::{
    Kiosk, ServerProcess, StationProcess, agency, cards, server_cli, station_config_with,
};
use serde_json::Value;

/// The station's service user in the guest, in the groups the udev rules name.
const USER: &str = "scanline-station";

/// Once per guest: the kernel modules, the udev rules as installed (plus one that gives each
/// test keyboard a stable name, as `/dev/input/by-id` does for real USB ones), and the user.
fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let sh = |script: &str| {
            let out = std::process::Command::new("sh").arg("-c").arg(script).output().unwrap();
            assert!(
                out.status.success(),
                "{script}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/60-scanline-scanners.rules");
        sh("modprobe uinput && modprobe uhid");
        sh(&format!("cp {} /etc/udev/rules.d/", rules.display()));
        sh("printf '%s\\n' 'SUBSYSTEM==\"input\", KERNEL==\"event*\", ATTRS{name}==\"scanline-test-*\", SYMLINK+=\"input/$attr{name}\"' > /etc/udev/rules.d/99-scanline-test.rules");
        sh("udevadm control --reload");
        // virtme-ng may mount a file of its own over /etc/shadow, which useradd cannot replace;
        // the overlay's /etc/shadow beneath it can be.
        sh("! mountpoint -q /etc/shadow || umount /etc/shadow");
        sh("for g in input plugdev dialout; do getent group $g >/dev/null || groupadd --system $g; done");
        sh(&format!("id {USER} >/dev/null 2>&1 || useradd --system --user-group --groups input,plugdev,dialout {USER}"));
    });
}

/// Waits for a device node (or its udev link) to appear, with the mode the rules give it.
fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(Instant::now() < deadline, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::process::Command::new("udevadm").arg("settle").status();
}

/// A served agency and a station run as its service user with the scanners given as TOML.
struct Rig {
    _agency_dir: tempfile::TempDir,
    db: PathBuf,
    _server: ServerProcess,
    station: Option<StationProcess>,
    kiosk: Kiosk,
    config: PathBuf,
}

impl Rig {
    fn start(scanners: &str) -> Self {
        let a = agency(20);
        let server = ServerProcess::start(&a.db, &["serve", "--listen", "127.0.0.1:0"]);
        let dir = a.dir.path().join("station");
        std::fs::create_dir_all(&dir).unwrap();
        let token = dir.join("station.token");
        std::fs::copy(&a.token, &token).unwrap();
        let config = station_config_with(&dir, &server.base, &token, scanners);
        // The station's user owns its folder, as the package makes it.
        let owned = std::process::Command::new("chown")
            .args(["-R", &format!("{USER}:{USER}")])
            .arg(a.dir.path())
            .status()
            .unwrap();
        assert!(owned.success());
        let station = StationProcess::start_as(&config, USER);
        let kiosk = Kiosk::new(&station.kiosk);
        Self {
            db: a.db.clone(),
            _agency_dir: a.dir,
            _server: server,
            station: Some(station),
            kiosk,
            config,
        }
    }

    fn restart_station(&mut self) {
        self.station = None;
        let station = StationProcess::start_as(&self.config, USER);
        self.kiosk = Kiosk::new(&station.kiosk);
        self.station = Some(station);
    }

    async fn scanner(&self, name: &str) -> Value {
        let s = self.kiosk.get("/api/status").await;
        s["scanners"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["name"] == name).cloned())
            .unwrap_or(Value::Null)
    }

    /// Waits until the kiosk shows scanner `name` connected (or not).
    async fn wait_connected(&self, name: &str, connected: bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let s = self.scanner(name).await;
            if s["connected"] == connected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "scanner {name} never became connected={connected}: {s}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The entries of the current batch, oldest first.
    async fn entries(&self) -> Vec<Value> {
        let mut list = self.kiosk.get("/api/entries").await.as_array().cloned().unwrap_or_default();
        list.sort_by_key(|e| e["seq"].as_i64().unwrap_or_default());
        list
    }

    /// Waits for the batch to hold `n` entries and returns them as (source, code, verdict).
    async fn wait_entries(&self, n: usize) -> Vec<(String, String, String)> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let list = self.entries().await;
            if list.len() >= n {
                return list
                    .iter()
                    .map(|e| {
                        let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
                        (s("source"), s("code"), s("verdict"))
                    })
                    .collect();
            }
            assert!(
                Instant::now() < deadline,
                "{} entries, waiting for {n}: {list:#?}",
                list.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

pub(crate) async fn keyboard_wedges_scan_in_two_layouts_hold_their_grab_and_survive_a_replug() {
    setup();
    let mut us = VirtualKeyboard::plug("scanline-test-us", 0x0c2e, 0x0b61);
    let mut fr = VirtualKeyboard::plug("scanline-test-fr", 0x05f9, 0x2206);
    let mut prox = VirtualKeyboard::plug("scanline-test-prox", 0x0c27, 0x3bfa);
    for name in ["us", "fr", "prox"] {
        wait_for(&PathBuf::from(format!("/dev/input/scanline-test-{name}")));
    }
    let mut rig = Rig::start(
        "[[scanner]]\nname = \"wedge us\"\nkind = \"keyboard\"\npath = \"/dev/input/scanline-test-us\"\nlayout = \"us\"\n\n\
         [[scanner]]\nname = \"wedge fr\"\nkind = \"keyboard\"\npath = \"/dev/input/scanline-test-fr\"\nlayout = \"fr\"\n\n\
         [[scanner]]\nname = \"prox\"\nkind = \"keyboard\"\npath = \"/dev/input/scanline-test-prox\"\ncontent = \"prox\"\n",
    );
    let good = cards(&rig.db).good;
    let client_of = |code: &str| -> i64 {
        rusqlite::Connection::open(&rig.db)
            .unwrap()
            .query_row("SELECT client_id FROM cards WHERE code = ?", [code], |r| r.get(0))
            .unwrap()
    };
    // A prox card registered for a sixth client.
    let prox_client = client_of(&good[5]).to_string();
    let (ok, _, err) = server_cli(
        &rig.db,
        &["card", "add", "--client", &prox_client, "--kind", "prox", "--code", "18:12345"],
    );
    assert!(ok, "{err}");
    for name in ["wedge us", "wedge fr", "prox"] {
        rig.wait_connected(name, true).await;
    }
    rig.kiosk
        .wait_status(60, "the roster with the prox card", |s| s["link"]["link"] == "online")
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    // A second reader of the grabbed device sees none of the keys.
    let mut spy = evdev::Device::open(&us.node).unwrap();
    spy.set_nonblocking(true).unwrap();

    us.scan_text(&good[0], false);
    fr.scan_text(&good[1], true);
    // A digit held down: the kernel's repeats are not typed.
    let strokes: Vec<vdev::Stroke> = good[2].chars().map(|c| vdev::digit(c, false)).collect();
    us.hold(strokes[0], 5);
    for s in &strokes[1..] {
        us.stroke(*s);
    }
    us.stroke((evdev::KeyCode::KEY_ENTER, false));
    prox.scan_text("18:12345", false);
    let got = rig.wait_entries(4).await;
    assert_eq!(
        got,
        [
            ("wedge us".to_owned(), good[0].clone(), "accepted".to_owned()),
            ("wedge fr".to_owned(), good[1].clone(), "accepted".to_owned()),
            ("wedge us".to_owned(), good[2].clone(), "accepted".to_owned()),
            ("prox".to_owned(), "18:12345".to_owned(), "accepted".to_owned()),
        ]
    );
    let leaked: Vec<_> = match spy.fetch_events() {
        Ok(events) => events.filter(|e| e.event_type() == evdev::EventType::KEY).collect(),
        Err(e) => {
            assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock, "{e}");
            Vec::new()
        }
    };
    assert!(leaked.is_empty(), "another reader saw {} key events past the grab", leaked.len());

    // Keys typed while the station is stopped (half a code, no Enter) never reach a scan.
    rig.station = None;
    for c in "4242".chars() {
        us.stroke(vdev::digit(c, false));
    }
    rig.restart_station();
    rig.wait_connected("wedge us", true).await;
    us.scan_text(&good[3], false);
    let got = rig.wait_entries(5).await;
    assert_eq!(got[4], ("wedge us".to_owned(), good[3].clone(), "accepted".to_owned()));

    // Unplugged and plugged back: the kiosk shows it, and scanning resumes without a restart.
    drop(us);
    rig.wait_connected("wedge us", false).await;
    let mut us = VirtualKeyboard::plug("scanline-test-us", 0x0c2e, 0x0b61);
    wait_for(Path::new("/dev/input/scanline-test-us"));
    rig.wait_connected("wedge us", true).await;
    us.scan_text(&good[4], false);
    drop(fr);
    rig.wait_connected("wedge fr", false).await;
    let got = rig.wait_entries(6).await;
    assert_eq!(got[5], ("wedge us".to_owned(), good[4].clone(), "accepted".to_owned()));
}

pub(crate) async fn hid_pos_and_swipe_readers_are_read_through_hidapi_and_survive_a_replug() {
    setup();
    // Honeywell's composite scanner: a keyboard interface first, then HID POS, one USB id.
    let boot_keyboard: &[u8] = &[
        0x05, 0x01, 0x09, 0x06, 0xA1, 0x01, 0x05, 0x07, 0x19, 0xE0, 0x29, 0xE7, 0x15, 0x00, 0x25,
        0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x95, 0x01, 0x75, 0x08, 0x81, 0x01, 0x95, 0x06,
        0x75, 0x08, 0x15, 0x00, 0x25, 0x65, 0x05, 0x07, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00, 0xC0,
    ];
    let _keyboard_side =
        VirtualHid::plug("Honeywell keyboard interface", 0x0c2e, 0x0b87, boot_keyboard);
    let mut pos = VirtualHid::plug("Honeywell HID POS", 0x0c2e, 0x0b87, vdev::HID_POS_DESCRIPTOR);
    let mut sureswipe =
        VirtualHid::plug("MagTek SureSwipe", 0x0801, 0x0002, &vdev::magtek_descriptor(337));
    let mut magnesafe =
        VirtualHid::plug("MagTek Dynamag", 0x0801, 0x0011, &vdev::magtek_descriptor(887));
    std::thread::sleep(Duration::from_secs(1));
    let _ = std::process::Command::new("udevadm").arg("settle").status();

    let rig = Rig::start(
        "[[scanner]]\nname = \"pos\"\nkind = \"hid_pos\"\nvendor_id = 0x0c2e\nproduct_id = 0x0b87\n\n\
         [[scanner]]\nname = \"sureswipe\"\nkind = \"hid_magstripe\"\nvendor_id = 0x0801\nproduct_id = 0x0002\n\n\
         [[scanner]]\nname = \"magnesafe\"\nkind = \"hid_magstripe\"\nvendor_id = 0x0801\nproduct_id = 0x0011\ncontent = \"magstripe\"\n",
    );
    let good = cards(&rig.db).good;
    let client_of = |code: &str| -> String {
        rusqlite::Connection::open(&rig.db)
            .unwrap()
            .query_row("SELECT client_id FROM cards WHERE code = ?", [code], |r| r.get::<_, i64>(0))
            .unwrap()
            .to_string()
    };
    for (card, key) in [(&good[3], "4455667788"), (&good[4], "5566778899")] {
        let (ok, _, err) = server_cli(
            &rig.db,
            &["card", "add", "--client", &client_of(card), "--kind", "magstripe", "--code", key],
        );
        assert!(ok, "{err}");
    }
    for name in ["pos", "sureswipe", "magnesafe"] {
        rig.wait_connected(name, true).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;

    // One code in one report, one across two; then a swipe on each reader and a swipe that
    // cannot be read, which must be a misread, not nothing.
    pos.input(&vdev::hid_pos_report(b"]C0", good[0].as_bytes(), false));
    let (head, tail) = good[1].split_at(6);
    pos.input(&vdev::hid_pos_report(b"]Q1", head.as_bytes(), true));
    pos.input(&vdev::hid_pos_report(b"]Q1", tail.as_bytes(), false));
    sureswipe.input(&vdev::sureswipe_report(b";4455667788=2912101?"));
    magnesafe.input(&vdev::magnesafe_report(b";5566778899=2912101?"));
    let mut unreadable = vdev::sureswipe_report(b";1?");
    unreadable[6] = 9; // no such card encode type
    sureswipe.input(&unreadable);
    // Each reader has its own thread, so reads of different readers may be recorded in any
    // order; each reader's own come in order.
    let mut got = rig.wait_entries(5).await;
    let want = |s: &str, c: &str, v: &str| (s.to_owned(), c.to_owned(), v.to_owned());
    let mut expected = vec![
        want("pos", &good[0], "accepted"),
        want("pos", &good[1], "accepted"),
        want("sureswipe", "4455667788", "accepted"),
        want("magnesafe", "5566778899", "accepted"),
        want("sureswipe", "", "misread"),
    ];
    let of = |list: &[(String, String, String)], reader: &str| -> Vec<String> {
        list.iter().filter(|e| e.0 == reader).map(|e| e.1.clone()).collect()
    };
    assert_eq!(of(&got, "pos"), of(&expected, "pos"), "{got:?}");
    assert_eq!(of(&got, "sureswipe"), of(&expected, "sureswipe"), "{got:?}");
    got.sort();
    expected.sort();
    assert_eq!(got, expected);

    // Unplug and replug the HID POS scanner and a swipe reader while the station runs.
    drop(pos);
    rig.wait_connected("pos", false).await;
    let mut pos = VirtualHid::plug("Honeywell HID POS", 0x0c2e, 0x0b87, vdev::HID_POS_DESCRIPTOR);
    rig.wait_connected("pos", true).await;
    drop(magnesafe);
    rig.wait_connected("magnesafe", false).await;
    let mut magnesafe =
        VirtualHid::plug("MagTek Dynamag", 0x0801, 0x0011, &vdev::magtek_descriptor(887));
    rig.wait_connected("magnesafe", true).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    pos.input(&vdev::hid_pos_report(b"]C0", good[2].as_bytes(), false));
    let got = rig.wait_entries(6).await;
    assert_eq!(got[5], want("pos", &good[2], "accepted"));
    // The same card swiped again after the replug: read, and judged already served.
    magnesafe.input(&vdev::magnesafe_report(b";5566778899=2912101?"));
    let got = rig.wait_entries(7).await;
    assert_eq!((got[6].0.as_str(), got[6].1.as_str()), ("magnesafe", "5566778899"));
    assert_ne!(got[6].2, "accepted", "a second meal the same day");
}
