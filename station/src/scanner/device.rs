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
use crate::scanner::decode::hidpos::HidPosDecoder;
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
                DeviceConfig::HidPos { vendor_id, product_id } => {
                    hid_loop(&ctx, vendor_id, product_id, HidKind::Pos);
                }
                DeviceConfig::HidMagstripe { vendor_id, product_id } => {
                    hid_loop(&ctx, vendor_id, product_id, HidKind::Magstripe);
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
    Pos,
    Magstripe,
}

fn hid_loop(ctx: &Ctx, vendor_id: u16, product_id: u16, kind: HidKind) {
    let label = match kind {
        HidKind::Pos => "hid_pos",
        HidKind::Magstripe => "hid_magstripe",
    };
    let mut api = match hidapi::HidApi::new() {
        Ok(api) => api,
        Err(e) => {
            ctx.state(label, false, format!("HID is not available on this machine: {e}"));
            return;
        }
    };
    let mut pos = HidPosDecoder::default();
    let open = || {
        let _ = api.refresh_devices();
        api.open(vendor_id, product_id).map_err(|e| format!("not connected: {e}"))
    };
    keep_open(ctx, label, open, |device| {
        let mut buf = [0u8; 512];
        while !ctx.stopped() {
            match device.read_timeout(&mut buf, READ_TIMEOUT.as_millis() as i32) {
                Ok(0) => {}
                Ok(n) => hid_report(&mut pos, kind, &buf[..n]).iter().for_each(|p| ctx.deliver(p)),
                Err(_) => break,
            }
        }
        pos.reset();
    });
}

/// The payload one HID input report completes, if any.
fn hid_report(pos: &mut HidPosDecoder, kind: HidKind, report: &[u8]) -> Option<Payload> {
    match kind {
        HidKind::Pos => pos.push(report),
        HidKind::Magstripe => magstripe::parse_magtek_report(report).ok().map(|t| Payload {
            // A swipe with no readable track becomes an empty payload, which the core rules
            // call a misread.
            text: magstripe::card_key(&t).unwrap_or_default(),
            symbology: None,
        }),
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
