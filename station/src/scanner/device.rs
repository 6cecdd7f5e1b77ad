//! The thin device layer: one thread per configured scanner that opens the device, feeds what
//! it reads to the pure decoders, hands each payload to the scan worker, and reopens the device
//! after an unplug without a restart. The kiosk sees each device's state through `Shared`.
//!
//! Nothing here judges a scan or touches the database.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::config::{DeviceConfig, ScannerConfig};
use crate::scanner::decode::framing::{FrameDecoder, Framing};
use crate::scanner::decode::hidpos::{HidPosDecoder, HidPosLayout};
use crate::scanner::decode::keyboard::{KeyboardDecoder, Layout};
use crate::scanner::decode::{Content, Payload, magstripe};
use crate::state::{ScannerState, Shared};
use crate::worker::WorkerHandle;

/// How long to wait before trying to reopen an unplugged device.
const REOPEN_EVERY: Duration = Duration::from_millis(500);
/// Read timeout, so a thread notices the stop flag.
const READ_TIMEOUT: Duration = Duration::from_millis(200);

/// Starts a thread for one scanner.
pub fn spawn(
    scanner: ScannerConfig,
    worker: WorkerHandle,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name(format!("scanner-{}", scanner.name))
        .spawn(move || {
            let ctx =
                Ctx { name: scanner.name.clone(), content: scanner.content, worker, shared, stop };
            match scanner.device {
                DeviceConfig::Serial { path, baud, framing } => {
                    serial_loop(&ctx, &path, baud, framing);
                }
                DeviceConfig::Keyboard { path, layout, framing } => {
                    keyboard_loop(&ctx, &path, layout, framing);
                }
                DeviceConfig::HidPos { vendor_id, product_id, layout } => {
                    hid_loop(&ctx, (vendor_id, product_id), HidKind::Pos(layout));
                }
                DeviceConfig::HidMagstripe { vendor_id, product_id } => {
                    hid_loop(&ctx, (vendor_id, product_id), HidKind::Magstripe);
                }
            }
        })
        .expect("spawning a scanner thread")
}

struct Ctx {
    name: String,
    content: Content,
    worker: WorkerHandle,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
}

impl Ctx {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn state(&self, kind: &str, connected: bool, detail: impl Into<String>) {
        self.shared.set_scanner(ScannerState {
            name: self.name.clone(),
            kind: kind.to_owned(),
            connected,
            detail: detail.into(),
        });
    }

    fn deliver(&self, p: &Payload) {
        self.worker.scan(&self.name, self.content.normalise(&p.text));
    }

    /// Hands over a card key a reader already derived (a HID swipe reader's tracks).
    fn deliver_key(&self, key: String) {
        self.worker.scan(&self.name, key);
    }

    /// Sleeps before a reopen, waking early to stop.
    fn pause(&self) {
        let mut left = REOPEN_EVERY;
        while !left.is_zero() && !self.stopped() {
            let step = left.min(Duration::from_millis(50));
            std::thread::sleep(step);
            left -= step;
        }
    }
}

/// Opens a device, reads it until it is lost, and opens it again after a pause, until the
/// station stops. The kiosk sees each change; the log says when a device goes and comes back,
/// once per outage.
fn keep_open<D>(
    ctx: &Ctx,
    kind: &str,
    mut open: impl FnMut() -> Result<D, String>,
    mut read_until_lost: impl FnMut(&mut D),
) {
    let mut missing = false;
    while !ctx.stopped() {
        match open() {
            Ok(mut device) => {
                missing = false;
                tracing::info!(scanner = %ctx.name, kind, "scanner connected");
                ctx.state(kind, true, "connected");
                read_until_lost(&mut device);
                tracing::warn!(scanner = %ctx.name, kind, "scanner lost");
                ctx.state(kind, false, "unplugged: waiting for it to come back");
            }
            Err(why) => {
                if !missing {
                    tracing::warn!(scanner = %ctx.name, kind, error = %why, "scanner not available");
                    missing = true;
                }
                ctx.state(kind, false, why);
            }
        }
        ctx.pause();
    }
}

fn serial_loop(ctx: &Ctx, path: &Path, baud: u32, framing: Framing) {
    let mut decoder = FrameDecoder::new(framing);
    let open = || {
        // Resolve symlinks (udev's /dev/serial/by-id names) at every open: a replugged device
        // may come back under another ttyACM number.
        let target: PathBuf = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        serialport::new(target.to_string_lossy(), baud)
            .timeout(READ_TIMEOUT)
            .open()
            .map_err(|e| format!("not connected: {e}"))
    };
    keep_open(ctx, "serial", open, |port| {
        read_serial(ctx, port.as_mut(), &mut decoder);
        decoder.reset();
    });
}

fn read_serial(ctx: &Ctx, port: &mut dyn serialport::SerialPort, decoder: &mut FrameDecoder) {
    let mut buf = [0u8; 512];
    while !ctx.stopped() {
        match port.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => decoder.push(&buf[..n]).iter().for_each(|p| ctx.deliver(p)),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                tracing::warn!(scanner = %ctx.name, error = %e, "serial read failed");
                return;
            }
        }
    }
}

fn keyboard_loop(ctx: &Ctx, path: &Path, layout: Layout, framing: Framing) {
    let mut decoder = KeyboardDecoder::new(layout, framing);
    let open = || {
        let mut device = evdev::Device::open(path).map_err(|e| format!("not connected: {e}"))?;
        // An exclusive grab: scans must never type into another window on this machine.
        device.grab().map_err(|e| format!("cannot take the device for Scanline alone: {e}"))?;
        Ok(device)
    };
    keep_open(ctx, "keyboard", open, |device| {
        read_keyboard(ctx, device, &mut decoder);
        decoder.reset();
    });
}

fn read_keyboard(ctx: &Ctx, device: &mut evdev::Device, decoder: &mut KeyboardDecoder) {
    while !ctx.stopped() {
        let events = match device.fetch_events() {
            Ok(events) => events,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        for ev in events.filter(|ev| ev.event_type() == evdev::EventType::KEY) {
            if let Some(p) = decoder.push_evdev(ev.code(), ev.value()) {
                ctx.deliver(&p);
            }
        }
    }
}

#[derive(Clone, Copy)]
enum HidKind {
    Pos(HidPosLayout),
    Magstripe,
}

impl HidKind {
    fn label(self) -> &'static str {
        match self {
            Self::Pos(_) => "hid_pos",
            Self::Magstripe => "hid_magstripe",
        }
    }

    /// The HID usage page of the interface that carries the reports: the bar code scanner
    /// page for HID POS, MagTek's vendor page for a swipe reader.
    fn usage_page(self) -> u16 {
        match self {
            Self::Pos(_) => 0x8c,
            Self::Magstripe => 0xff00,
        }
    }
}

/// Generic Desktop page, Keyboard usage: the interface a composite scanner types on.
const KEYBOARD: (u16, u16) = (0x01, 0x06);

/// Opens the interface of a USB device that carries `kind`'s reports. A composite scanner has
/// several (Honeywell puts HID POS on interface 1, beside a keyboard), so the one whose usage
/// page is `kind`'s is preferred, then any that is not a keyboard; opening by vendor and
/// product alone might take the keyboard and read nothing.
fn open_hid(
    api: &mut hidapi::HidApi,
    (vendor_id, product_id): (u16, u16),
    kind: HidKind,
) -> Result<hidapi::HidDevice, String> {
    let _ = api.refresh_devices();
    let ours: Vec<&hidapi::DeviceInfo> = api
        .device_list()
        .filter(|d| d.vendor_id() == vendor_id && d.product_id() == product_id)
        .collect();
    let chosen = ours
        .iter()
        .find(|d| d.usage_page() == kind.usage_page())
        .or_else(|| ours.iter().find(|d| (d.usage_page(), d.usage()) != KEYBOARD));
    match chosen {
        Some(d) => d.open_device(api).map_err(|e| format!("cannot open: {e}")),
        None if ours.is_empty() => {
            Err(format!("not connected: no HID device {vendor_id:04x}:{product_id:04x}"))
        }
        None => Err(format!(
            "{vendor_id:04x}:{product_id:04x} has only a keyboard interface: set the scanner to \
             {} mode, or configure it as a keyboard scanner",
            kind.label()
        )),
    }
}

fn hid_loop(ctx: &Ctx, ids: (u16, u16), kind: HidKind) {
    let label = kind.label();
    let mut api = match hidapi::HidApi::new() {
        Ok(api) => api,
        Err(e) => {
            ctx.state(label, false, format!("HID is not available on this machine: {e}"));
            return;
        }
    };
    let mut pos = HidPosDecoder::new(match kind {
        HidKind::Pos(layout) => layout,
        HidKind::Magstripe => HidPosLayout::default(),
    });
    keep_open(
        ctx,
        label,
        || open_hid(&mut api, ids, kind),
        |device| {
            let mut buf = [0u8; 1024];
            while !ctx.stopped() {
                match device.read_timeout(&mut buf, READ_TIMEOUT.as_millis() as i32) {
                    Ok(0) => {}
                    Ok(n) => match kind {
                        HidKind::Pos(_) => {
                            pos.push(&buf[..n]).iter().for_each(|p| ctx.deliver(p));
                        }
                        HidKind::Magstripe => ctx.deliver_key(swipe_key(ctx, &buf[..n])),
                    },
                    Err(_) => break,
                }
            }
            pos.reset();
        },
    );
}

/// The card key of one swipe report. A swipe always gives one: a report that cannot be read
/// gives an empty key, which the core calls a misread, and the log says why.
fn swipe_key(ctx: &Ctx, report: &[u8]) -> String {
    match magstripe::parse_magtek_report(report) {
        Ok(tracks) => magstripe::card_key(&tracks).unwrap_or_default(),
        Err(why) => {
            tracing::warn!(scanner = %ctx.name, error = %why, "swipe not readable");
            String::new()
        }
    }
}

/// Reads payloads typed on standard input, one per line, until end of input.
pub fn spawn_stdin(worker: WorkerHandle) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let stdin = std::io::stdin();
            let mut line = String::new();
            while matches!(stdin.read_line(&mut line), Ok(n) if n > 0) {
                let text = line.trim_end_matches(['\r', '\n']);
                if !text.trim().is_empty() {
                    worker.scan("keyboard", text.to_owned());
                }
                line.clear();
            }
        })
        .expect("spawning the stdin reader")
}
