//! Virtual input devices made through a real Linux kernel, for the device tests that run in a
//! guest (`scanline-guest-checks devices`): a keyboard-wedge scanner through uinput, and HID devices
//! (a HID POS barcode scanner, a MagTek swipe reader) through uhid, which the kernel shows as
//! `/dev/input/event*` and `/dev/hidraw*` nodes with the USB ids given, as the real ones are.
//! Dropping a device unplugs it.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use evdev::uinput::VirtualDevice;
use evdev::{AttributeSet, BusType, EventType, InputEvent, InputId, KeyCode};

/// A keyboard-wedge scanner: a USB keyboard that types each code and Enter, a few
/// milliseconds per key, as scanners do.
pub struct VirtualKeyboard {
    device: VirtualDevice,
    /// The event node the kernel made for it, `/dev/input/eventN`.
    pub node: PathBuf,
}

/// How a character is typed: its key and whether Shift is held.
pub type Stroke = (KeyCode, bool);

/// Key codes of the top row, `1` to `0`.
const TOP_ROW: [KeyCode; 10] = [
    KeyCode::KEY_1,
    KeyCode::KEY_2,
    KeyCode::KEY_3,
    KeyCode::KEY_4,
    KeyCode::KEY_5,
    KeyCode::KEY_6,
    KeyCode::KEY_7,
    KeyCode::KEY_8,
    KeyCode::KEY_9,
    KeyCode::KEY_0,
];

/// The strokes that type a digit: on a US keyboard the top row; on a French (AZERTY) one the
/// top row with Shift.
pub fn digit(d: char, french: bool) -> Stroke {
    let i = d.to_digit(10).expect("a digit") as usize;
    (TOP_ROW[(i + 9) % 10], french)
}

/// The strokes of a colon: Shift+; on a US keyboard, the `:` key (US `.`) on a French one.
pub fn colon(french: bool) -> Stroke {
    if french { (KeyCode::KEY_DOT, false) } else { (KeyCode::KEY_SEMICOLON, true) }
}

impl VirtualKeyboard {
    /// Plugs in a keyboard named `name` with the USB ids given.
    pub fn plug(name: &str, vendor: u16, product: u16) -> Self {
        let mut keys = AttributeSet::<KeyCode>::new();
        for code in 1..=127 {
            keys.insert(KeyCode::new(code));
        }
        let mut device = VirtualDevice::builder()
            .expect("/dev/uinput")
            .name(name)
            .input_id(InputId::new(BusType::BUS_USB, vendor, product, 0x0100))
            .with_keys(&keys)
            .expect("keys")
            .build()
            .expect("creating a uinput keyboard");
        let deadline = Instant::now() + Duration::from_secs(20);
        let node = loop {
            let found = device
                .enumerate_dev_nodes_blocking()
                .expect("sysfs of the uinput device")
                .filter_map(Result::ok)
                .find(|p| p.to_string_lossy().contains("event"));
            if let Some(node) = found.filter(|n| n.exists()) {
                break node;
            }
            assert!(Instant::now() < deadline, "the kernel made no event node for {name}");
            std::thread::sleep(Duration::from_millis(50));
        };
        Self { device, node }
    }

    fn key(&mut self, code: KeyCode, value: i32) {
        self.device
            .emit(&[InputEvent::new(EventType::KEY.0, code.0, value)])
            .expect("typing on the uinput keyboard");
    }

    /// Types one stroke: Shift down if needed, the key down and up, Shift up.
    pub fn stroke(&mut self, (code, shift): Stroke) {
        if shift {
            self.key(KeyCode::KEY_LEFTSHIFT, 1);
        }
        self.key(code, 1);
        std::thread::sleep(Duration::from_millis(2));
        self.key(code, 0);
        if shift {
            self.key(KeyCode::KEY_LEFTSHIFT, 0);
        }
        std::thread::sleep(Duration::from_millis(2));
    }

    /// Holds a key long enough for the kernel's auto-repeat to send repeats, then lets go.
    pub fn hold(&mut self, (code, shift): Stroke, repeats: usize) {
        if shift {
            self.key(KeyCode::KEY_LEFTSHIFT, 1);
        }
        self.key(code, 1);
        for _ in 0..repeats {
            self.key(code, 2);
            std::thread::sleep(Duration::from_millis(2));
        }
        self.key(code, 0);
        if shift {
            self.key(KeyCode::KEY_LEFTSHIFT, 0);
        }
    }

    /// Types strokes and then Enter.
    pub fn scan(&mut self, strokes: &[Stroke]) {
        for s in strokes {
            self.stroke(*s);
        }
        self.stroke((KeyCode::KEY_ENTER, false));
    }

    /// Types digits (and colons) in a layout, then Enter.
    pub fn scan_text(&mut self, text: &str, french: bool) {
        let strokes: Vec<Stroke> =
            text.chars().map(|c| if c == ':' { colon(french) } else { digit(c, french) }).collect();
        self.scan(&strokes);
    }
}

/// `struct uhid_event` is a 4-byte type and a union whose largest member, `uhid_create2_req`,
/// makes it 4,376 bytes.
const UHID_EVENT_SIZE: usize = 4376;
const UHID_DESTROY: u32 = 1;
const UHID_CREATE2: u32 = 11;
const UHID_INPUT2: u32 = 12;

/// A HID device made through `/dev/uhid`: the kernel gives it a `/dev/hidrawN` node and
/// parses its report descriptor, as it does a USB device's.
pub struct VirtualHid {
    file: std::fs::File,
}

impl VirtualHid {
    /// Plugs in a HID device with a report descriptor and USB ids.
    pub fn plug(name: &str, vendor: u16, product: u16, descriptor: &[u8]) -> Self {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open("/dev/uhid")
            .expect("/dev/uhid");
        let mut ev = Vec::with_capacity(UHID_EVENT_SIZE);
        ev.extend(UHID_CREATE2.to_ne_bytes());
        let field = |s: &str, n: usize| {
            let mut b = s.as_bytes().to_vec();
            b.resize(n, 0);
            b
        };
        ev.extend(field(name, 128));
        ev.extend(field("scanline-test/phys0", 64));
        ev.extend(field("", 64));
        ev.extend((descriptor.len() as u16).to_ne_bytes());
        ev.extend(0x03u16.to_ne_bytes()); // BUS_USB
        ev.extend(u32::from(vendor).to_ne_bytes());
        ev.extend(u32::from(product).to_ne_bytes());
        ev.extend(0x0100u32.to_ne_bytes()); // version
        ev.extend(0u32.to_ne_bytes()); // country
        ev.extend(descriptor);
        ev.resize(UHID_EVENT_SIZE, 0);
        file.write_all(&ev).expect("UHID_CREATE2");
        Self { file }
    }

    /// Sends one input report, as the device would when a code is scanned.
    pub fn input(&mut self, report: &[u8]) {
        let mut ev = Vec::with_capacity(UHID_EVENT_SIZE);
        ev.extend(UHID_INPUT2.to_ne_bytes());
        ev.extend((report.len() as u16).to_ne_bytes());
        ev.extend(report);
        ev.resize(UHID_EVENT_SIZE, 0);
        self.file.write_all(&ev).expect("UHID_INPUT2");
    }
}

impl Drop for VirtualHid {
    fn drop(&mut self) {
        let mut ev = UHID_DESTROY.to_ne_bytes().to_vec();
        ev.resize(UHID_EVENT_SIZE, 0);
        let _ = self.file.write_all(&ev);
    }
}

/// The report descriptor of a HID POS barcode scanner: the Bar Code Scanner page (0x8C), one
/// 63-byte input report with ID 2 (a scanned-data report, 64 bytes with its ID).
pub const HID_POS_DESCRIPTOR: &[u8] = &[
    0x05, 0x8C, // Usage Page (Bar Code Scanner)
    0x09, 0x02, // Usage (Bar Code Scanner)
    0xA1, 0x01, // Collection (Application)
    0x85, 0x02, //   Report ID (2)
    0x15, 0x00, //   Logical Minimum (0)
    0x26, 0xFF, 0x00, //   Logical Maximum (255)
    0x75, 0x08, //   Report Size (8)
    0x95, 0x3F, //   Report Count (63)
    0x09, 0xFE, //   Usage (Decoded Data)
    0x82, 0x02, 0x01, //   Input (Data, Variable, Absolute, Buffered Bytes)
    0xC0, // End Collection
];

/// The report descriptor of a MagTek swipe reader in HID mode: a vendor page (0xFF00), one
/// input report of `len` bytes with no report ID.
pub fn magtek_descriptor(len: u16) -> Vec<u8> {
    let [lo, hi] = len.to_le_bytes();
    vec![
        0x06, 0x00, 0xFF, // Usage Page (Vendor 0xFF00)
        0x09, 0x01, // Usage (1)
        0xA1, 0x01, // Collection (Application)
        0x15, 0x00, //   Logical Minimum (0)
        0x26, 0xFF, 0x00, //   Logical Maximum (255)
        0x75, 0x08, //   Report Size (8)
        0x96, lo, hi, //   Report Count (len)
        0x09, 0x20, //   Usage (0x20)
        0x82, 0x02, 0x01, //   Input (Data, Variable, Absolute, Buffered Bytes)
        0xC0, // End Collection
    ]
}

/// A Honeywell-layout scanned-data report: ID 2, the length, the AIM identifier, the data,
/// zero padding, and bit 0 of the last byte set when more reports follow.
pub fn hid_pos_report(aim: &[u8; 3], data: &[u8], more: bool) -> Vec<u8> {
    let mut r = vec![0x02, data.len() as u8];
    r.extend(aim);
    r.extend(data);
    r.resize(63, 0);
    r.push(u8::from(more));
    r
}

/// A MagTek SureSwipe report (337 bytes) with track 2 only.
pub fn sureswipe_report(track2: &[u8]) -> Vec<u8> {
    let mut r = vec![0u8; 337];
    r[4] = track2.len() as u8;
    r[117..117 + track2.len()].copy_from_slice(track2);
    r
}

/// A MagneSafe report (887 bytes) with masked track 2 only.
pub fn magnesafe_report(track2: &[u8]) -> Vec<u8> {
    let mut r = vec![0u8; 887];
    r[506] = track2.len() as u8;
    r[620..620 + track2.len()].copy_from_slice(track2);
    r
}
